import Foundation
import Linalg
import Policies

/// Which divergence a KL term's expected gradient follows, and the gradients to compare it with.
public enum KLGradient {
    /// The expected gradient of GRPO's KL term alone at θ, per unit β_kl and per token-summed
    /// sequence, at ratio 1 (one SGD step of η = 1 on one batch, exact over every batch): the
    /// instance's reward set to 0, no advantage scaling, `dr_grpo` aggregation (token sums divided by
    /// L_max, multiplied back here), so
    ///
    ///     loss:   E_{y∼p}[ Σ_t ∂k(d_t) ∇log π_t ]           (∂(ρk) with `biasCorrection`),
    ///     reward: E[(1/G) Σ_i (−K_i + mean_j K_j) ∇log p(y_i)] / (1 − 1/G) = −E_{y∼p}[K(y) ∇log p(y)]·(−1),
    ///             K(y) = Σ_t k(d_t) detached (the group-mean baseline's factor 1 − 1/G divided out),
    ///
    /// with d_t = log π_t − log π_ref,t. Its negative is the direction the method moves θ.
    public static func expected(instance: Instance, estimator: KLEstimator, placement: KLPlacement, biasCorrection: Bool,
                                groupSize: Int, theta: [Double]) throws -> [Double] {
        var inst = instance
        inst.reward = instance.reward.map { [Double](repeating: 0, count: $0.count) }
        var c = SampledConfig(method: .grpo)
        c.groupSize = groupSize; c.eta = 1; c.optimizer = .sgd; c.scaling = .none; c.innerIterations = 1
        c.klCoefficient = 1; c.klEstimator = estimator; c.klPlacement = placement; c.klBiasCorrection = biasCorrection
        c.aggregation = .drGRPO
        guard placement == .loss || groupSize >= 2 else { throw FlowError.invalid("the KL in the reward needs --group-size ≥ 2 (with one sample the advantage is 0)") }
        let algo = try SampledAlgorithm(instance: inst, config: c)
        let d = try UpdateDistribution.exact(algo, theta: theta)
        let scale = Double(algo.nodes.maxTokens) / (placement == .loss ? 1 : 1 - 1 / Double(groupSize))
        return d.expectedUpdate.map { -$0 * scale }
    }

    /// ∇_θ KL(π_ref‖p_θ) (forward), q-weighted: the SFT gradient with π_ref as the data.
    public static func forward(_ instance: Instance, theta: [Double]) -> [Double] {
        var inst = instance
        inst.data = instance.reference
        return inst.gradient(.sft, at: inst.point(theta))
    }

    /// ∇_θ KL(p_θ‖π_ref) (reverse), q-weighted.
    public static func reverse(_ instance: Instance, theta: [Double]) -> [Double] {
        instance.gradient(.klPolicyRef, at: instance.point(theta))
    }
}
