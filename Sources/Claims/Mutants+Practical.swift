import Foundation

/// Mutants of the practical-method claims (Claim+Practical, Claim+KLPlacement): each conclusion
/// "≥ 0" strengthened to "≥ 10⁻³ of its scale". Most of these claims fail outright (a certified
/// counterexample), so any strengthening fails too; for the three whose margin is an identity or a
/// KKT residual (rloo-unbiased, chord-phi-sharpens, and the single-token cases of the KL claims)
/// the margin's maximum is the identity tolerance, so the shift is caught at once and measures
/// little: docs/power.md says so beside the catch.
extension Mutants {
    static var practical: [Mutant] {
        [
            shift("dft-is-pg", why: "an identity (DFT's expected update equals policy gradient with reward p_D): its margin is at most 10⁻⁹; on sequences the claim already fails"),
            shift("chord-phi-sharpens", why: "its margin is a stationarity and KKT residual of the water-filling limit, at most 10⁻⁶, never 10⁻³"),
            shift("rloo-unbiased", why: "an identity (the leave-one-out update equals ∇J): its margin is at most 10⁻⁹"),
            shift("h10-seqnorm", why: "an identity (the limit equals p_D in TV): its margin is at most 10⁻⁹; with sequences of several lengths the claim already fails"),
            shift("thm3.1-grpo-k3", why: "C₁ of GRPO-k3's fixed point → 0 as the reward becomes constant on the support, and the Gibbs comparison already fails"),
            shift("kl-k3-forward", why: "an identity of gradients (k3's expected gradient equals ∇KL(π_ref‖p)): its margin is at most 10⁻⁹"),
            shift("kl-k2-reverse", why: "an identity of gradients (k2's expected gradient equals ∇KL(p‖π_ref)): its margin is at most 10⁻⁹"),
            shift("kl-bias-correction", why: "an identity of gradients (ρ·k3's expected gradient equals ∇KL(p‖π_ref)): its margin is at most 10⁻⁹"),
            shift("kl-token-partial", why: "an identity of gradients (per-token KL's gradient equals the sequence KL's): its margin is at most 10⁻⁹, and it already fails"),
        ]
    }
}
