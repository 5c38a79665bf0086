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
        let d = try UpdateDistribution.exactByPrompt(algo, theta: theta)   // additive over prompts: per prompt
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

/// What `sftrl update` reports about GRPO's KL term: its expected gradient (β_kl times
/// ``KLGradient/expected(instance:estimator:placement:biasCorrection:groupSize:theta:)``) and which
/// divergence it follows, to the identity resolution 1e-9 (relative distance).
public struct KLGradientReport: Codable, Sendable, Equatable {
    public var gradient: [Double]
    /// cos∠ with ∇KL(π_ref‖p) and with ∇KL(p‖π_ref).
    public var forwardCosine: Double
    public var reverseCosine: Double
    /// "forward KL(π_ref‖p)", "reverse KL(p‖π_ref)" or "neither" (e.g. a per-token KL on sequences).
    public var descends: String

    enum CodingKeys: String, CodingKey {
        case gradient, descends
        case forwardCosine = "forward_cosine", reverseCosine = "reverse_cosine"
    }

    /// The report for grpo/chord with β_kl > 0 (nil otherwise, and for the reward placement with G = 1).
    public static func make(_ algo: SampledAlgorithm, theta: [Double]) throws -> KLGradientReport? {
        let c = algo.config
        guard c.method == .grpo || c.method == .chord, algo.klCoefficient > 0, c.klPlacement == .loss || c.groupSize >= 2 else { return nil }
        let unit = try KLGradient.expected(instance: algo.instance, estimator: c.klEstimator, placement: c.klPlacement,
                                           biasCorrection: c.klBiasCorrection, groupSize: c.groupSize, theta: theta)
        let fwd = KLGradient.forward(algo.instance, theta: theta), rev = KLGradient.reverse(algo.instance, theta: theta)
        func cosine(_ a: [Double], _ b: [Double]) -> Double {
            let n = norm(a) * norm(b)
            return n > 1e-300 ? dot(a, b) / n : 0
        }
        func same(_ a: [Double], _ b: [Double]) -> Bool {
            let s = Swift.max(norm(a), norm(b))
            return s == 0 || norm(zip(a, b).map { $0 - $1 }) / s <= 1e-9
        }
        let name = same(unit, fwd) ? "forward KL(π_ref‖p)" : (same(unit, rev) ? "reverse KL(p‖π_ref)" : "neither")
        return KLGradientReport(gradient: unit.map { $0 * algo.klCoefficient }, forwardCosine: cosine(unit, fwd),
                                reverseCosine: cosine(unit, rev), descends: name)
    }
}
