import Foundation

/// Mutants of the binary-reward claims (Claim+BinaryReward, Claim+RLRazor) and of RL-then-practical-SFT
/// (Claim+RLThenPracticalSFT). Binary reward: each conclusion "≥ 0" strengthened to "≥ 10⁻³ of its
/// scale"; the holding ones are identities or invariants whose margin is at most their resolution
/// (10⁻⁹ or 10⁻⁶), so the shift is caught at once and measures little; the failing ones already fail.
/// Thm 4.1-regularised: the shift, caught at the generator's equality case a = KL. Prop. 1: the
/// slack R_max√(2B) multiplied by 0 ("SFT never raises the reward"), false wherever a variant's limit
/// gains reward; a 10⁻³ tightening of the constant is false only near the proof's equality case,
/// which the variants' limits do not reach (not registered: it would not be caught).
extension Mutants {
    static var binaryReward: [Mutant] {
        [
            shift("psr-nsr-equal", why: "an identity (PSR's and NSR's expected updates are both ∇E p(r = 1)): its margin is at most 10⁻⁹"),
            shift("psr-nsr-equal-lennorm", why: "an identity that already fails wherever two lengths carry mass: its margin is at most 10⁻⁹"),
            shift("grpo-binary-arcsin", why: "a direction identity (margin at most 10⁻⁹) that already fails at finite G on two prompts"),
            shift("grpo-binary-arcsin-limit", why: "an identity (the population update equals ∇Σ q 2 arcsin√p): its margin is at most 10⁻⁹"),
            shift("rl-razor", why: "its margin is an invariant's resolution (log-ratios kept, unrewarded mass gone), at most 10⁻⁶"),
            shift("rl-razor-pg", why: "its margin is an invariant's resolution, at most 10⁻⁶, and the invariant already fails under vanilla PG"),
        ] + RLThenPracticalSFT.all.map { c in
            c.form == .prop1
                ? Mutant(base(c.id), name: "no-gain", change: "Prop. 1's slack R_max√(2B) multiplied by 0: SFT after RL never raises the reward",
                         whyFalse: "the variant's limit can carry more reward than p_RL1 (DFT's mode of p_D, or the water-filling's top responses, can be the best-rewarded ones)",
                         margin: MutantMargin.tightened("reward_gain", "pinsker_slack", factor: 0))
                : shift(c.id, why: "J_β(p_RL1) − J_β(p_SFT2) = β·E KL exactly, so the margin is β(KL − a)/scale, 0 in the generator's equality case a = KL")
        }
    }
}
