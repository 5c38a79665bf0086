import Foundation

/// What drives θ during one phase of a schedule.
///
/// Every kind is a vector field v(θ) on parameter space (see ``PolicyFlow``):
/// - `sft`: v = −∇L_SFT (descent on the SFT loss);
/// - `rl`: v = +∇J_β (ascent on the KL-regularised reward with the instance's β; ∇J when β = 0);
/// - `mix(mu:)`: v = (1−μ)∇J_β − μ∇L_SFT, with μ ∈ [0, 1] (μ = 0 is `rl`, μ = 1 is `sft`).
public enum PhaseKind: Equatable, Hashable, Sendable {
    case sft
    case rl
    case mix(mu: Double)

    /// The weights (a, b) of v = a·∇J_β − b·∇L_SFT: sft (0, 1), rl (1, 0), mix (1−μ, μ).
    public var weights: (rl: Double, sft: Double) {
        switch self {
        case .sft: return (0, 1)
        case .rl: return (1, 0)
        case let .mix(mu): return (1 - mu, mu)
        }
    }

    /// The label written in traces: `sft`, `rl`, `mix(0.3)`.
    public var label: String {
        switch self {
        case .sft: return "sft"
        case .rl: return "rl"
        case let .mix(mu): return "mix(\(shortNumber(mu)))"
        }
    }
}

/// One phase: a kind run for a positive duration (time units of the flow; for gradient steps of
/// size η, duration/η steps).
public struct Phase: Equatable, Hashable, Sendable {
    public var kind: PhaseKind
    public var duration: Double

    public init(_ kind: PhaseKind, duration: Double) {
        self.kind = kind
        self.duration = duration
    }

    /// The phase in spec syntax: `sft:2`, `rl:5`, `mix:0.3:4`.
    public var spec: String {
        switch kind {
        case .sft: return "sft:\(shortNumber(duration))"
        case .rl: return "rl:\(shortNumber(duration))"
        case let .mix(mu): return "mix:\(shortNumber(mu)):\(shortNumber(duration))"
        }
    }
}

/// Why a schedule spec was refused. The text names the phase (1-based), quotes it and says what
/// to write instead.
public enum ScheduleError: Error, CustomStringConvertible, Equatable, Sendable {
    case empty
    case badPhase(index: Int, text: String, problem: String)
    /// The durations are each finite but their sum overflows a double.
    case totalOverflows

    public var description: String {
        switch self {
        case .empty:
            return "the schedule is empty: give phases such as sft:2,rl:5 or mix:0.3:4"
        case let .badPhase(index, text, problem):
            return "phase \(index) '\(text)': \(problem)"
        case .totalOverflows:
            return "the phase durations add up to more than the largest finite number; shorten the phases"
        }
    }
}

/// A sequence of phases run back to back from t = 0.
///
/// Spec syntax (``init(parsing:)``): comma-separated phases, each `sft:D`, `rl:D` or `mix:MU:D`,
/// with D > 0 a duration and MU ∈ [0, 1]; spaces around items are ignored. `sft:2,rl:5,sft:2` runs
/// SFT on [0, 2], RL on [2, 7], SFT on [7, 9]; `mix:0.3:4` runs the mixture μ = 0.3 on [0, 4].
///
/// Phase k (0-based) occupies [boundaries[k], boundaries[k+1]]; a time on a boundary between two
/// phases belongs to the phase that ends there (``phaseIndex(at:)``), and t = 0 to the first.
public struct Schedule: Equatable, Sendable {
    public private(set) var phases: [Phase]

    /// A schedule from phases; each duration must be finite and > 0, each μ in [0, 1].
    public init(phases: [Phase]) throws {
        guard !phases.isEmpty else { throw ScheduleError.empty }
        for (k, p) in phases.enumerated() {
            try Schedule.check(p, index: k + 1, text: p.spec)
        }
        guard phases.reduce(0.0, { $0 + $1.duration }).isFinite else { throw ScheduleError.totalOverflows }
        self.phases = phases
    }

    /// Parses a spec such as `sft:2,rl:5,sft:2` or `mix:0.3:4`.
    public init(parsing spec: String) throws {
        let items = spec.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if items.count == 1 && items[0].isEmpty { throw ScheduleError.empty }
        var phases: [Phase] = []
        for (k, item) in items.enumerated() {
            phases.append(try Schedule.parsePhase(item, index: k + 1))
        }
        try self.init(phases: phases)
    }

    /// The spec that parses back to this schedule.
    public var spec: String { phases.map(\.spec).joined(separator: ",") }

    /// The sum of the durations.
    public var totalDuration: Double { boundaries.last! }

    /// 0, then the end time of each phase: boundaries[k] is where phase k starts.
    public var boundaries: [Double] {
        var b = [0.0]
        for p in phases { b.append(b.last! + p.duration) }
        return b
    }

    /// The phase (0-based) that t belongs to: k with boundaries[k] < t ≤ boundaries[k+1], and 0
    /// for t ≤ 0; the last phase for t past the end.
    public func phaseIndex(at t: Double) -> Int {
        let b = boundaries
        for k in phases.indices where t <= b[k + 1] { return k }
        return phases.count - 1
    }

    /// The output times of a run: `samples` evenly spaced points over [0, T] (both ends
    /// included), merged with every phase boundary, sorted, without duplicates. A grid point
    /// within 1e-9·T of a boundary is replaced by the boundary (no near-duplicate rows).
    public func outputTimes(samples: Int) -> [Double] {
        let total = totalDuration
        let b = boundaries
        var times = b
        if samples >= 2 {
            let step = total / Double(samples - 1)
            for k in 0..<samples {
                let t = k == samples - 1 ? total : Double(k) * step
                if !b.contains(where: { abs($0 - t) <= 1e-9 * total }) { times.append(t) }
            }
        }
        return Array(Set(times)).sorted()
    }

    // MARK: Parsing

    static func parsePhase(_ item: String, index: Int) throws -> Phase {
        func bad(_ problem: String) -> ScheduleError { .badPhase(index: index, text: item, problem: problem) }
        let usage = "write sft:DURATION, rl:DURATION or mix:MU:DURATION (e.g. sft:2, rl:5, mix:0.3:4)"
        if item.isEmpty { throw bad("is empty (a stray comma?); \(usage)") }
        let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let kindName = parts[0].lowercased()
        let phase: Phase
        switch kindName {
        case "sft", "rl":
            guard parts.count == 2 else {
                throw bad("\(kindName) takes one number, the duration: \(kindName):DURATION (e.g. \(kindName):2)")
            }
            phase = Phase(kindName == "sft" ? .sft : .rl, duration: try duration(parts[1], bad))
        case "mix":
            guard parts.count == 3 else {
                throw bad("mix takes two numbers, the SFT weight μ and the duration: mix:MU:DURATION (e.g. mix:0.3:4)")
            }
            guard let mu = Double(parts[1]), mu.isFinite else {
                throw bad("the mixture weight μ must be a number in [0, 1], got '\(parts[1])'")
            }
            phase = Phase(.mix(mu: mu), duration: try duration(parts[2], bad))
        default:
            throw bad("unknown phase kind '\(parts[0])'; \(usage)")
        }
        try check(phase, index: index, text: item)
        return phase
    }

    static func duration(_ text: String, _ bad: (String) -> ScheduleError) throws -> Double {
        guard let d = Double(text), d.isFinite, d > 0 else {
            throw bad("duration must be a positive number, got '\(text)'")
        }
        return d
    }

    static func check(_ p: Phase, index: Int, text: String) throws {
        func bad(_ problem: String) -> ScheduleError { .badPhase(index: index, text: text, problem: problem) }
        guard p.duration.isFinite, p.duration > 0 else {
            throw bad("duration must be a positive number, got \(p.duration)")
        }
        if case let .mix(mu) = p.kind {
            guard mu.isFinite, mu >= 0, mu <= 1 else {
                throw bad("the mixture weight μ must be in [0, 1] (0 is pure RL, 1 pure SFT), got \(mu)")
            }
        }
    }
}

/// A number in its shortest round-trip form without a trailing ".0" (2 → "2", 0.3 → "0.3").
func shortNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
}
