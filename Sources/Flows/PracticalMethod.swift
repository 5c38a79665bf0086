import Foundation
import Policies

/// The post-training methods practitioners run, as exact expected-update flows on an instance
/// (`sftrl fixedpoint`). Each names the ascent direction v(θ) its expected update follows; the
/// formulas are in ``PracticalUpdate``.
public enum PracticalMethod: String, CaseIterable, Sendable, Codable {
    /// θ̇ = ∇J_β: the paper's RL, converging to the Gibbs optimum π_ref·e^{r/β}/Z (Eq. 8).
    case gibbs
    /// Token-sum log-loss SFT, θ̇ = −∇L_SFT: converges to p_D (Lemma 1).
    case sft
    /// Per-sequence token-mean SFT: each sequence's loss divided by |y|, its emitted token count
    /// (the end token counts where it is emitted; after max_length tokens the end is forced and is
    /// not a token). θ̇ = Σ_x q Σ_y p_D(y)/|y|·∇log p(y); limit p ∝ p_D/|y|.
    case sftSeqnorm = "sft-seqnorm"
    /// TRL's SFT `loss_type="dft"`: per token −sg(π_t)·log π_t under y ∼ p_D.
    case dft
    /// CHORD's φ-weighted SFT alone: per token −sg(π_t(1 − π_t))·log π_t under y ∼ p_D.
    case chordPhi = "chord-phi"
    /// TRL's GRPO at ratio 1 (the expected first-step update, by exact enumeration of the groups).
    case grpo
    /// CHORD's mixture (1 − μ)·GRPO + μ·SFT at ratio 1.
    case chord
    /// RLOO: leave-one-out baseline, KL (k1, sequence level) in the reward with β_kl:
    /// E[(1/G) Σ_i (a_i − mean_{j≠i} a_j)∇log p(y_i)] = ∇J_{β_kl} exactly.
    case rloo
    /// LUFFY (arXiv 2504.14945): each prompt's group mixes G − N on-policy samples y ∼ p_θ with
    /// N off-policy samples y′ ∼ p_D, advantages normalised over the whole group, and
    /// the off-policy tokens shaped by f(π) = π/(π + γ) (``PracticalUpdate/luffyDirection(_:)``).
    case luffy

    /// The options the method reads (the others are refused, naming them).
    public var options: Set<PracticalOption> {
        switch self {
        case .gibbs: return [.klCoef]
        case .sft, .sftSeqnorm, .dft, .chordPhi: return []
        case .grpo: return [.groupSize, .scaling, .klEstimator, .klCoef, .klPlacement, .klBiasCorrection, .aggregation]
        case .chord: return [.groupSize, .scaling, .klEstimator, .klCoef, .klPlacement, .klBiasCorrection, .aggregation, .mix]
        case .rloo: return [.groupSize, .klCoef]
        case .luffy: return [.groupSize, .scaling, .offPolicy, .shapingGamma]
        }
    }

    /// The ids, for messages.
    public static var idList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// The command-line options of the practical methods.
public enum PracticalOption: String, CaseIterable, Sendable, Codable {
    case groupSize = "--group-size", scaling = "--scaling", klEstimator = "--kl-estimator", klCoef = "--kl-coef"
    case klPlacement = "--kl-placement", aggregation = "--aggregation", mix = "--mix", klBiasCorrection = "--kl-bias-correction"
    case offPolicy = "--off-policy", shapingGamma = "--shaping-gamma"
}

/// The settings of one practical method; nil means "not given" (the default applies, and an
/// option given to a method that does not read it is refused by ``validate()``).
public struct PracticalSettings: Sendable, Equatable, Codable {
    public var method: PracticalMethod
    /// G (default 8).
    public var groupSize: Int?
    /// GRPO advantage scaling (default group, TRL's default).
    public var scaling: AdvantageScaling?
    /// Default k3 (TRL's).
    public var klEstimator: KLEstimator?
    /// β_kl (default: the instance's β).
    public var klCoef: Double?
    /// Default loss (TRL's).
    public var klPlacement: KLPlacement?
    /// Default grpo.
    public var aggregation: LossAggregation?
    /// CHORD's SFT weight μ (default 0.5).
    public var mix: Double?
    /// TRL's use_bias_correction_kl (default off).
    public var klBiasCorrection: Bool?
    /// LUFFY's off-policy samples per group, N (default 1, of the G samples).
    public var offPolicy: Int?
    /// LUFFY's shaping γ of f(π) = π/(π + γ) (default 0.1).
    public var shapingGamma: Double?

    public init(method: PracticalMethod) { self.method = method }

    public static let defaultGroupSize = 8
    public static let defaultMix = 0.5
    public static let defaultOffPolicy = 1
    public static let defaultShapingGamma = 0.1

    /// The options given, by their command-line names.
    public var given: [PracticalOption] {
        var o: [PracticalOption] = []
        if groupSize != nil { o.append(.groupSize) }
        if scaling != nil { o.append(.scaling) }
        if klEstimator != nil { o.append(.klEstimator) }
        if klCoef != nil { o.append(.klCoef) }
        if klPlacement != nil { o.append(.klPlacement) }
        if aggregation != nil { o.append(.aggregation) }
        if mix != nil { o.append(.mix) }
        if klBiasCorrection != nil { o.append(.klBiasCorrection) }
        if offPolicy != nil { o.append(.offPolicy) }
        if shapingGamma != nil { o.append(.shapingGamma) }
        return o
    }

    /// Refuses an option the method does not read and out-of-range values, naming the option.
    public func validate() throws {
        for o in given where !method.options.contains(o) {
            let takes = method.options.map(\.rawValue).sorted()
            throw FlowError.invalid("\(o.rawValue) is not an option of --method \(method.rawValue): "
                + (takes.isEmpty ? "it takes no options" : "it takes \(takes.joined(separator: ", "))"))
        }
        if let g = groupSize, !(1...64).contains(g) { throw FlowError.invalid("--group-size must be in 1...64, got \(g)") }
        if let k = klCoef, !(k.isFinite && k >= 0) { throw FlowError.invalid("--kl-coef must be a finite number ≥ 0, got \(k)") }
        if let m = mix, !(m.isFinite && m >= 0 && m <= 1) { throw FlowError.invalid("--mix must be in [0, 1], got \(m)") }
        if klBiasCorrection == true, klPlacement == .reward {
            throw FlowError.invalid("--kl-bias-correction corrects the KL term of the loss: it needs --kl-placement loss, not reward")
        }
        if method == .luffy {
            let g = groupSize ?? PracticalSettings.defaultGroupSize
            if let n = offPolicy, !(0...g).contains(n) { throw FlowError.invalid("--off-policy must be in 0...\(g) (the group size G), got \(n)") }
            if let y = shapingGamma, !(y.isFinite && y > 0) { throw FlowError.invalid("--shaping-gamma must be a finite number > 0, got \(y)") }
            if scaling == .batch { throw FlowError.invalid("--scaling batch is not an option of --method luffy: LUFFY normalises each prompt's group (on- and off-policy samples together); use group or none") }
        }
    }

    /// The sampled configuration of grpo/chord at ratio 1: one SGD step of η = 1 (so E[Δθ] = −E[∇loss]),
    /// B = 1 SFT sample (the SFT term's expectation is −∇L_SFT for every B).
    public func sampledConfig() -> SampledConfig {
        var c = SampledConfig(method: method == .chord ? .chord : .grpo)
        c.groupSize = groupSize ?? PracticalSettings.defaultGroupSize
        c.batchSize = 1
        c.eta = 1
        c.optimizer = .sgd
        c.scaling = scaling ?? .group
        c.klCoefficient = klCoef
        c.klEstimator = klEstimator ?? .k3
        c.aggregation = aggregation ?? .grpo
        c.mix = mix ?? PracticalSettings.defaultMix
        c.klPlacement = klPlacement ?? .loss
        c.klBiasCorrection = klBiasCorrection ?? false
        c.innerIterations = 1
        return c
    }
}
