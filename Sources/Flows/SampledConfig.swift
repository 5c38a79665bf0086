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
    /// TRL's SFT `loss_type="dft"` on minibatches: B samples y ∼ p_D per prompt, loss
    /// −Σ_x q(x) (1/B) Σ_i Σ_t sg(π_t)·log π_t (the token sum per sequence, as `sft-sgd`).
    case dft
    /// CHORD-φ: (1 − μ)·GRPO loss + μ·φ-weighted minibatch SFT, per token −sg(π_t(1 − π_t))·log π_t;
    /// in a flow phase μ follows CHORD's schedule (``CHORDMuSchedule``), in `update` it is `--mix`.
    case chordPhi = "chord-phi"
    /// LUFFY (arXiv 2504.14945): per prompt G on-policy samples and B off-policy samples y ∼ p_D in one
    /// group: advantages over all G + B rewards, one aggregation over all of them; on-policy tokens
    /// carry GRPO's token term, off-policy tokens −f(π_t)·A with f(π) = π/(π + γ) (``LUFFYWeight``).
    case luffy
    /// RLOO: G samples of p_θ per prompt, loss −Σ_x q(x) (1/G) Σ_i (a_i − b_i) log p_θ(y_i|x) with
    /// a_i = r − β_kl(log p_old − log π_ref) (k1 in the reward, fixed) and the leave-one-out baseline
    /// b_i = mean_{j≠i} a_j (G ≥ 2): an unbiased estimate of ∇J_{β_kl}.
    case rloo

    /// The exact phase a run of this method is compared with (gradient steps of the same η); nil:
    /// gradient steps along ``SampledAlgorithm/targetDirection(theta:mix:)`` (dft, chord-phi).
    public func exactKind(mix: Double) -> PhaseKind? {
        switch self {
        case .sftSGD: return .sft
        case .reinforce, .grpo, .rloo, .luffy: return .rl
        case .chord: return .mix(mu: mix)
        case .dft, .chordPhi: return nil
        }
    }

    /// Whether the step's policy samples carry GRPO's token terms and group advantages.
    public var usesGroupAdvantages: Bool { self == .grpo || self == .chord || self == .chordPhi || self == .luffy }
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
    /// Sampling temperature T: on-policy samples are drawn from p^{1/T} (per decision node, renormalised);
    /// the loss, its ratio and its KL are on p itself.
    public var temperature: Double = 1
    /// GSPO's sequence-level ratio or the token-level one (TRL's importance_sampling_level).
    public var importanceSampling: ImportanceSamplingLevel = .token
    /// SAPO's gate temperatures (aggregation `sapo`).
    public var sapo = SAPOTemperatures()
    /// LUFFY's shaping γ of f(π) = π/(π + γ).
    public var luffyGamma: Double = 0.1
    /// chord-phi phases of `sftrl flow`: CHORD's μ schedule (nil: the constant `mix`).
    public var muSchedule: CHORDMuSchedule? = nil

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
        if method == .rloo, groupSize < 2 { throw bad("--group-size must be ≥ 2 for rloo (the leave-one-out baseline needs another sample), got \(groupSize)") }
        guard temperature.isFinite, temperature > 0, temperature <= 100 else { throw bad("--temperature must be in (0, 100], got \(temperature)") }
        guard luffyGamma.isFinite, luffyGamma > 0 else { throw bad("--luffy-gamma must be a positive number, got \(luffyGamma)") }
        guard sapo.positive.isFinite, sapo.positive > 0, sapo.negative.isFinite, sapo.negative > 0 else {
            throw bad("--sapo-temperatures must be two positive numbers τ_pos,τ_neg, got \(sapo.positive),\(sapo.negative)")
        }
        if let m = muSchedule {
            guard [m.peak, m.valley].allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }), m.valley <= m.peak else {
                throw bad("--mu-schedule: PEAK and VALLEY must satisfy 0 ≤ VALLEY ≤ PEAK ≤ 1, got peak \(m.peak), valley \(m.valley)")
            }
            guard m.warmup >= 0, m.decay >= 0 else { throw bad("--mu-schedule: WARMUP and DECAY must be ≥ 0 steps (DECAY 0: the rest of the phase), got \(m.warmup), \(m.decay)") }
        }
        guard mix.isFinite, mix >= 0, mix <= 1 else { throw bad("--mix (chord's SFT weight μ) must be in [0, 1], got \(mix)") }
    }
}

extension SAPOTemperatures {
    /// `--sapo-temperatures τ_pos,τ_neg` (the values are checked by ``SampledConfig/validate()``).
    public init(parsing spec: String) throws {
        let t = spec.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard t.count == 2, let p = t[0], let n = t[1] else {
            throw FlowError.invalid("--sapo-temperatures takes two numbers τ_pos,τ_neg (e.g. 1.0,1.05), got '\(spec)'")
        }
        self.init(positive: p, negative: n)
    }
}

extension CHORDMuSchedule {
    /// `--mu-schedule PEAK,VALLEY,WARMUP,DECAY` (the values are checked by ``SampledConfig/validate()``).
    public init(parsing spec: String) throws {
        let m = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard m.count == 4, let pk = Double(m[0]), let vl = Double(m[1]), let wu = Int(m[2]), let dc = Int(m[3]), wu <= 1 << 40, dc <= 1 << 40 else {
            throw FlowError.invalid("--mu-schedule takes PEAK,VALLEY,WARMUP,DECAY (e.g. 0.5,0.02,0,0: two numbers in [0, 1], two step counts), got '\(spec)'")
        }
        self.init(peak: pk, valley: vl, warmup: wu, decay: dc)
    }
}
