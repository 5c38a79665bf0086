import Foundation
import Linalg
import Policies

/// A scalar watched along a run: written in every trace row and usable as an event quantity
/// (`--event sft_loss=1.2`). Every value comes from the numeric core in `Policies`.
///
/// | name | value |
/// |---|---|
/// | `sft_loss` | L_SFT = E_x E_{p_D}[−log p_θ] |
/// | `reward` | J = E_x E_{p_θ}[r] |
/// | `reward_reg` | J_β = J − β·E_x KL(p_θ‖π_ref) (= J when β = 0) |
/// | `kl_data_policy` | E_x KL(p_D‖p_θ) (= L_SFT − E_x H(p_D)) |
/// | `kl_policy_ref` | E_x KL(p_θ‖π_ref) |
/// | `entropy` | E_x H(p_θ) (nats) |
/// | `tv_data_policy` | E_x TV(p_θ, p_D) |
/// | `grad_sft_norm` | ‖∇L_SFT‖₂ (θ-space) |
/// | `grad_rl_norm` | ‖∇J_β‖₂ (θ-space) |
/// | `cos_sft_rl` | cos∠(−∇L_SFT, ∇J_β): the cosine between the SFT flow's and the RL flow's velocities; > 0 when an RL step lowers L_SFT to first order; 0 when either gradient's norm is below 1e-12 (its direction is roundoff) |
public enum TraceQuantity: String, CaseIterable, Sendable, Codable {
    case sftLoss = "sft_loss"
    case reward = "reward"
    case rewardReg = "reward_reg"
    case klDataPolicy = "kl_data_policy"
    case klPolicyRef = "kl_policy_ref"
    case entropy = "entropy"
    case gradSFTNorm = "grad_sft_norm"
    case gradRLNorm = "grad_rl_norm"
    case cosSFTRL = "cos_sft_rl"
    case tvDataPolicy = "tv_data_policy"

    /// The objective whose value this is, for the value-type quantities.
    var objective: Objective? {
        switch self {
        case .sftLoss: return .sft
        case .reward: return .reward
        case .rewardReg: return .rewardRegularized
        case .klDataPolicy: return .klDataPolicy
        case .klPolicyRef: return .klPolicyRef
        case .entropy: return .entropy
        case .tvDataPolicy: return .tvDataPolicy
        case .gradSFTNorm, .gradRLNorm, .cosSFTRL: return nil
        }
    }

    /// The quantity at θ, computing only what it needs (used by events at every trial point).
    public func value(_ instance: Instance, at theta: [Double]) -> Double {
        let pt = instance.point(theta)
        if let objective { return instance.value(objective, at: pt) }
        switch self {
        case .gradSFTNorm: return norm(instance.gradient(.sft, at: pt))
        case .gradRLNorm: return norm(instance.gradient(.rewardRegularized, at: pt))
        default:
            return TraceQuantity.cosine(sft: instance.gradient(.sft, at: pt), rl: instance.gradient(.rewardRegularized, at: pt))
        }
    }

    /// Gradient norms below this are treated as zero by `cos_sft_rl`: a gradient that small is
    /// roundoff (entries of p − p_D are exact to about 1e-16), and its direction means nothing.
    public static let cosineNormFloor = 1e-12

    /// cos∠(−∇L_SFT, ∇J_β) from the two gradients; 0 when either norm is below ``cosineNormFloor``.
    public static func cosine(sft gs: [Double], rl gr: [Double]) -> Double {
        cosine(dot: dot(gs, gr), sftNorm: norm(gs), rlNorm: norm(gr))
    }

    /// cos∠(−∇L_SFT, ∇J_β) = −(∇L_SFT·∇J_β)/(‖∇L_SFT‖‖∇J_β‖) from the dot product and the norms;
    /// 0 when either norm is below ``cosineNormFloor``.
    static func cosine(dot sr: Double, sftNorm ns: Double, rlNorm nr: Double) -> Double {
        guard ns >= cosineNormFloor, nr >= cosineNormFloor else { return 0 }
        return -sr / (ns * nr)
    }

    /// The names, for error messages: `sft_loss, reward, …`.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Every ``TraceQuantity`` at one θ.
public struct TraceValues: Sendable, Equatable {
    public var values: [TraceQuantity: Double]

    /// Evaluates all quantities at θ (one policy evaluation, two gradients).
    public init(_ instance: Instance, at theta: [Double]) {
        let pt = instance.point(theta)
        var v: [TraceQuantity: Double] = [:]
        v.reserveCapacity(TraceQuantity.allCases.count)   // no rehashing while it fills (a fifth of a 4 × 16 run)
        for q in TraceQuantity.allCases {
            if let o = q.objective { v[q] = instance.value(o, at: pt) }
        }
        let gs = instance.gradient(.sft, at: pt)
        let gr = instance.gradient(.rewardRegularized, at: pt)
        v[.gradSFTNorm] = norm(gs)
        v[.gradRLNorm] = norm(gr)
        v[.cosSFTRL] = TraceQuantity.cosine(sft: gs, rl: gr)
        values = v
    }

    /// Values already computed (``TraceEvaluator``).
    init(values: [TraceQuantity: Double]) { self.values = values }

    public subscript(_ q: TraceQuantity) -> Double { values[q]! }
}

/// One row of a trace: the time, the phase and every traced quantity at θ(t).
public struct TraceRow: Sendable {
    /// The flow time; for gradient steps, step·η.
    public var t: Double
    /// The phase (0-based) the row belongs to (see ``Schedule/phaseIndex(at:)``).
    public var phaseIndex: Int
    /// The phase's label: `sft`, `rl`, `mix(0.3)`.
    public var phase: String
    /// Gradient steps only: the number of steps taken since t = 0.
    public var step: Int?
    /// θ(t).
    public var theta: [Double]
    public var values: TraceValues

    public init(t: Double, phaseIndex: Int, phase: String, step: Int? = nil, theta: [Double], values: TraceValues) {
        self.t = t
        self.phaseIndex = phaseIndex
        self.phase = phase
        self.step = step
        self.theta = theta
        self.values = values
    }

    /// The CSV columns of a trace, in order: `t, phase, sft_loss, reward, reward_reg,
    /// kl_data_policy, kl_policy_ref, entropy, grad_sft_norm, grad_rl_norm, cos_sft_rl,
    /// tv_data_policy, phase_index` (1-based), then `step` for gradient steps.
    public static func columns(steps: Bool) -> [String] {
        ["t", "phase"] + TraceQuantity.allCases.map(\.rawValue) + ["phase_index"] + (steps ? ["step"] : [])
    }
}

/// A level crossing to report: the first time `quantity` crosses `level` (either direction).
public struct LevelEvent: Sendable, Equatable {
    public var quantity: TraceQuantity
    public var level: Double

    public init(_ quantity: TraceQuantity, level: Double) {
        self.quantity = quantity
        self.level = level
    }

    /// `sft_loss=1.2`.
    public var spec: String { "\(quantity.rawValue)=\(level)" }

    /// Parses `QUANTITY=LEVEL`, e.g. `sft_loss=1.2` or `reward=-0.5`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else {
            throw FlowError.badEvent(text: text, problem: "write QUANTITY=LEVEL, e.g. sft_loss=1.2")
        }
        guard let q = TraceQuantity(rawValue: parts[0]) else {
            throw FlowError.badEvent(text: text, problem: "unknown quantity '\(parts[0])'; use one of \(TraceQuantity.names)")
        }
        guard let level = Double(parts[1]), level.isFinite else {
            throw FlowError.badEvent(text: text, problem: "the level must be a finite number, got '\(parts[1])'")
        }
        self.init(q, level: level)
    }
}

/// Where a ``LevelEvent`` was first met.
public struct LevelEventHit: Sendable, Equatable {
    public var event: LevelEvent
    /// The crossing time (flow) or step·η (gradient steps: the first step after which the
    /// quantity is on the other side of the level).
    public var t: Double
    public var phaseIndex: Int
    public var phase: String
    /// `up` (the quantity rises through the level) or `down`.
    public var direction: EventDirection
    /// Gradient steps only: the step count at the hit.
    public var step: Int?
}
