import Foundation

/// Mutants of the closed-form statements of v1 and their readings (the claims of
/// Claim+Inequalities, Claim+Gibbs, Claim+Tradeoff, Claim+RLThenSFT, Claim+Thm41*, Claim+Lemma1).
extension Mutants {
    static var closedForm: [Mutant] {
        [
            perturb("lemma1", "token_level_loss", "n_times_empirical", in: "token-level loss = n_SFT × empirical sequence loss"),
            perturb("eq3-tv", "half_l1", "sup_events", in: "½‖p − q‖₁ = sup_A |p(A) − q(A)|"),
            tighten("eq4-triangle", "tv_pr", "tv_pq_plus_tv_qr", in: "TV(p, r) ≤ TV(p, q) + TV(q, r)",
                    why: "equality holds whenever q lies between p and r coordinatewise (e.g. two responses, q between p and r)"),
            tighten("eq5", "lhs", "rhs", in: "|E_p f − E_q f| ≤ sup|f|·TV(p, q)",
                    why: "already false as printed (the sharp constant is 2·sup|f|); a tighter constant is false a fortiori"),
            tighten("eq5-2sup", "lhs", "rhs", in: "|E_p f − E_q f| ≤ 2·sup|f|·TV(p, q)",
                    why: "equality for f = +sup|f| where p > q and −sup|f| where p < q"),
            tighten("eq5-osc", "lhs", "rhs", in: "|E_p f − E_q f| ≤ (max f − min f)·TV(p, q)",
                    why: "equality for f at its max where p > q and at its min where p < q (every two-response instance)"),
            tighten("eq6-pinsker", "tv", "sqrt_half_kl", in: "TV(p, q) ≤ √(KL(p‖q)/2)",
                    why: "Pinsker's constant is sharp: TV/√(KL/2) → 1 for p = (½, ½), q → p"),
            Mutant(base("eq8-gibbs"), name: "gap-1e-3", change: "J_β(π) ≤ J_β(p*) − 10⁻³·|J_β(p*)| for every competitor π",
                   whyFalse: "J_β is continuous on the simplex, so a competitor π close to p* has J_β(π) arbitrarily close to J_β(p*)",
                   margin: { e in
                       guard let c = e.quantities["J_beta_competitor"], let s = e.quantities["J_beta_gibbs"] else { return .nan }
                       return (s - c) / Swift.max(abs(s), Double.leastNormalMagnitude) - epsilon
                   }),
            perturb("eq8-gibbs", "J_beta_gibbs", "beta_E_log_Z", in: "J_β(p*) = β·E_x log Z_β"),
            shift("thm3.1", why: "C₁(β) → 0 as β → ∞ (and C₁ = 0 for a constant reward), so L_SFT(p_RL) − L_SFT(p_SFT) ≥ ε fails"),
            drop("thm3.1", "H10", why: "with p_SFT ≠ p_D RL can lower the SFT loss: R4's exact form, E_{p_D} r > β·log E_{p_SFT} e^{r/β}, e.g. p_D on the best response"),
            perturb("thm3.1-identity", "delta_sft_loss", "C1", in: "L_SFT(p_RL) − L_SFT(p_SFT) = C₁(β)"),
            shift("thm3.1-gain", why: "ΔL = C₁(β) → 0 as β → ∞ while the gain stays ≥ 10⁻⁶·R_max for a suitable reward"),
            perturb("thm3.1-tradeoff", "reward_gain", "beta_times_symmetrised_kl", in: "J(p_RL) − J(p_SFT) = β·[KL(p_RL‖p_SFT) + KL(p_SFT‖p_RL)]"),
            shift("thm3.1-loglinear", why: "the SFT-loss increase vanishes when the reward is constant on the class (RL does not move)"),
            Mutant(base("prop1"), name: "tighten-1e-3", change: "E_{p_SFT2} r ≤ E_{p_RL1} r + (1 − 10⁻³)·R_max·√(2B)",
                   whyFalse: "both steps of the proof are sharp together: p_RL1 = (½, ½), p_SFT2 → p_RL1, r = (R, −R), B = KL gives a ratio → 1",
                   margin: { e in
                       guard let s = e.quantities["J_sft2"], let r = e.quantities["J_rl1"], let b = e.quantities["bound"], let rm = e.quantities["R_max"] else { return .nan }
                       return ((1 - epsilon) * (b - r) - (s - r)) / Swift.max(rm, Double.leastNormalMagnitude)
                   }),
            shift("thm4.1", why: "already false (a tie at the top of the reward gives J(p_SFT2) = J(p_RL1))"),
            shift("thm4.1-regularised", why: "J_β(p*) − J_β(π) = β·KL(π‖p*) exactly, so the margin is 0 when a = KL"),
            shift("thm4.1-gibbs", why: "already false (see its counterexample); a stronger conclusion is false a fortiori"),
            drop("thm4.1-reverse", "unique-argmax", why: "with a tie at the top, p_SFT2 supported on the argmax set has J(p_SFT2) = J(p_RL1)"),
            shift("thm4.1-reverse", why: "J(p_RL1) − J(p_SFT2) → 0 as p_SFT2 concentrates on the argmax (KL(p_RL1‖p_SFT2) → 0)"),
            shift("thm4.1-local", why: "J(p_RL1) − J(p_SFT2) → 0 as p_SFT2 → p_RL1 in the class"),
            drop("thm4.1-local-region", "curvature-region", why: "without it the hypotheses are weaker than thm4.1-local's, which fails: A3 can reach another mode of a multimodal J (proofs/thm4.1-local.md)"),
        ]
    }
}
