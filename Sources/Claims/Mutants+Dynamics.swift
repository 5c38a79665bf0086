import Foundation

/// Mutants of the landscape, flow and sampled-algorithm claims (Claim+Landscape, Claim+Duration,
/// Claim+R3Bound, Claim+Threshold, Claim+R4PLGap, Claim+Spectral, Claim+Tradeoff's r1-monotone,
/// Claim+Sampled): each conclusion "≥ 0" strengthened to "≥ 10⁻³ of its scale".
extension Mutants {
    static var dynamics: [Mutant] {
        [
            shift("r1-local", why: "at an SFT stationary point dL/dt = 0 exactly at t = 0 (the first-order margin is 0)"),
            shift("r1-global", why: "the PL/smoothness sandwich is an equality for an isotropic quadratic (μ_S = L_S)"),
            shift("r1-global-kl", why: "L_SFT − L* = E KL(p_D‖p_θ) exactly along any path, so the margin is 0 up to rounding"),
            shift("r1-monotone", why: "L_SFT − L* is constant at an RL fixed point (reward constant on the support), so the smallest increment is 0"),
            shift("r2", why: "the PL/smoothness sandwich of −J is an equality for an isotropic quadratic (μ_R = L_R)"),
            shift("r3-duration", why: "an identity on the isotropic pair (T* is exact): the margin is at most the flow-time tolerance"),
            shift("r3-duration-actual", why: "the actual optimum equals the guaranteed one on the isotropic pair (margin 0)"),
            shift("r3-bound", why: "G(t) = U(t) on the isotropic pair (μ_R = L_R, μ_S = L_S), so the first margin is 0"),
            shift("r4-threshold", why: "its identity part has margin at most 10⁻⁹ (the identity tolerance)"),
            shift("r4-step", why: "the descent guarantee is sharp: the relative decrease → 0 as η·L_S‖g‖ → 2‖∇L‖cos"),
            shift("r4-pl-gap", why: "the relative decrease of one step → 0 as the step size η → 0"),
            shift("r5-spectral", why: "with k equal to the rank of K both sides are 0 (ρ_a = ρ_b = 0), so the margin is 0"),
            shift("lemma1-autoregressive", why: "an identity: its margin is at most 10⁻⁹ (the identity tolerance)"),
            shift("sampled-descent", why: "the expected relative decrease → 0 as the step size → 0"),
            shift("grpo-ascent-group", why: "the cosine with ∇J tends to 0 where the expected update is nearly orthogonal (already false on some instances)"),
            shift("grpo-ascent-batch", why: "already false (batch-std scaling can point downhill)"),
            shift("grpo-ascent-none", why: "⟨E Δθ, ∇J⟩ → 0 where ∇J → 0 relative to the update's noise floor; the cosine margin has infimum 0"),
            perturb("grpo-ascent-none-drgrpo", "ascent_ratio", "drgrpo_ratio", in: "⟨E Δθ, ∇J⟩/‖∇J‖² = (1 − 1/G)/L_max (E Δθ = η(1 − 1/G)∇J/L_max)"),
            parallel("grpo-ascent-none-seqnorm", why: "with responses of different token counts the expected update is E_p[(r − J)/ℓ·∇log p], not a multiple of ∇J (a cosine of 0.865 was measured; GRPOMechanismTests' V = 1, L = 4 instance)"),
            parallel("grpo-ascent-none-dapo", why: "the batch token count is a random normaliser correlated with the lengths drawn: the expected update is not a multiple of ∇J (a cosine of 0.973 was measured)"),
            shift("grpo-std-prompts", why: "already false: reweighting prompts that share parameters can turn the sum downhill"),
            drop("grpo-fisher-group", "full-class", why: "with shared parameters the natural-gradient inner product is a projected covariance; the two-prompt one-feature counterexample of grpo-ascent-group (d = 1, where the Fisher and Euclidean signs agree) violates it"),
            drop("grpo-fisher-batch", "full-class", why: "the two-prompt one-feature counterexample of grpo-ascent-batch has d = 1, where the Fisher and Euclidean signs agree"),
            shift("thm3.1-sampled", why: "the sampled SFT-loss increase → 0 as the number of RL steps or the step size → 0"),
            shift("prop1-sampled", why: "the bound is met with equality as the SFT stage's KL budget → 0"),
        ]
    }
}

extension Mutants {
    /// "The expected update is parallel to ∇J": the cosine margin c replaced by 10⁻⁹ − (1 − c). False
    /// wherever the update is not a positive multiple of ∇J.
    static func parallel(_ id: String, why: String) -> Mutant {
        Mutant(base(id), name: "parallel", change: "the expected update parallel to ∇J (cosine 1 up to 10⁻⁹)", whyFalse: why,
               margin: { e in identityTolerance - (1 - e.conclusion) })
    }
}
