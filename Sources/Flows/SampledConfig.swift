import Foundation
import Policies
@_exported import PostTraining

/// The sampled post-training algorithms run on exact instances (see ``SampledAlgorithm``).
public enum SampledMethod: String, CaseIterable, Sendable, Codable {
    /// Minibatch SFT: B samples y ∼ p_D(·|x) per prompt, loss −Σ_x q(x) (1/B) Σ_i log p_θ(y_i|x).
    case sftSGD = "sft-sgd"
    /// REINFORCE: G samples y ∼ p_θ per prompt, loss −Σ_x q(x) (1/G) Σ_i (a_i − b_x) log p_θ(y_i|x) with
    /// a_i = r(x, y_i) − β_kl (log p_θold(y_i|x) − log π_ref(y_i|x)) (KL in the reward, held fixed)
    /// and b_x the group mean of a when a baseline is asked for (else 0).
    case reinforce
    /// GRPO as TRL computes it: group advantages, clipped ratio, KL estimator, loss aggregation.
    case grpo
    /// CHORD-style mixing: (1 − μ)·GRPO loss + μ·minibatch SFT loss per step.
    case chord

    /// The exact phase a run of this method is compared with (gradient steps of the same η).
    public func exactKind(mix: Double) -> PhaseKind {
        switch self {
        case .sftSGD: return .sft
        case .reinforce, .grpo: return .rl
        case .chord: return .mix(mu: mix)
        }
    }
}

/// The optimiser applied to the estimated gradient: plain SGD θ ← θ − η g, or Adam (β₁ 0.9,
/// β₂ 0.999, ε 1e-8, bias-corrected) with step η.
public enum SampledOptimizer: String, CaseIterable, Sendable, Codable { case sgd, adam }

/// Every option of the sampled algorithms, with the defaults of `sftrl flow` / `sftrl update`.
public struct SampledConfig: Sendable, Equatable, Codable {
    public var method: SampledMethod
    /// G, responses sampled from p_θ per prompt (reinforce, grpo, chord).
    public var groupSize: Int = 8
    /// B, SFT samples from p_D per prompt (sft-sgd, chord).
    public var batchSize: Int = 8
    public var eta: Double = 0.1
    public var optimizer: SampledOptimizer = .sgd
    public var scaling: AdvantageScaling = .group
    /// Clip range ε of the ratio (ratio clamped to [1 − ε, 1 + ε_high]).
    public var epsilon: Double = 0.2
    /// Upper clip range ε_high (TRL's epsilon_high, DAPO's clip-higher); nil: ε.
    public var epsilonHigh: Double? = nil
    /// μ, optimiser steps on the same samples per sampled batch (TRL's num_iterations).
    public var innerIterations: Int = 1
    /// β_kl, the KL coefficient (nil: the instance's β).
    public var klCoefficient: Double? = nil
    public var klEstimator: KLEstimator = .k3
    public var aggregation: LossAggregation = .grpo
    /// Where β_kl·k enters GRPO/chord: the loss (TRL) or the reward before the advantages (verl).
    public var klPlacement: KLPlacement = .loss
    /// TRL's use_bias_correction_kl: the loss's KL term is ρ·k (ρ the importance ratio, with its gradient).
    public var klBiasCorrection: Bool = false
    /// REINFORCE: subtract the group mean of the rewards.
    public var baseline: Bool = false
    /// CHORD: the SFT weight μ ∈ [0, 1].
    public var mix: Double = 0.5

    public init(method: SampledMethod) { self.method = method }

    /// Checks every option, naming it.
    public func validate() throws {
        func bad(_ s: String) -> FlowError { .invalid(s) }
        guard groupSize >= 1 else { throw bad("--group-size must be ≥ 1, got \(groupSize)") }
        if method == .grpo || method == .chord, scaling != .none, groupSize < 2 {
            throw bad("--group-size must be ≥ 2 for advantage scaling '\(scaling.rawValue)' (the unbiased standard deviation needs two samples); use --scaling none")
        }
        guard batchSize >= 1 else { throw bad("--batch-size must be ≥ 1, got \(batchSize)") }
        guard eta.isFinite, eta > 0 else { throw bad("--eta must be a positive number, got \(eta)") }
        guard epsilon.isFinite, epsilon >= 0 else { throw bad("--epsilon must be ≥ 0, got \(epsilon)") }
        if let e = epsilonHigh { guard e.isFinite, e >= 0 else { throw bad("--epsilon-high must be ≥ 0, got \(e)") } }
        guard innerIterations >= 1 else { throw bad("--inner-iterations must be ≥ 1, got \(innerIterations)") }
        if let k = klCoefficient { guard k.isFinite, k >= 0 else { throw bad("--kl-coef must be ≥ 0, got \(k)") } }
        if klBiasCorrection, klPlacement == .reward {
            throw bad("--kl-bias-correction weights the KL term of the loss by the ratio; with --kl-placement reward there is none: drop one of them")
        }
        guard mix.isFinite, mix >= 0, mix <= 1 else { throw bad("--mix (chord's SFT weight μ) must be in [0, 1], got \(mix)") }
    }
}
