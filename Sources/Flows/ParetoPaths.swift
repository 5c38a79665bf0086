import Foundation
import Linalg
import Policies

/// The Pareto front of (L_SFT, J_β) as a curve in the objective plane, and the distance of any
/// point of that plane to it.
///
/// The curve is the polyline through the front points ordered by decreasing μ, from the SFT end
/// (μ = 1: least L_SFT) to the RL end (μ = 0: most J_β), ends included when they exist. Along it
/// L_SFT and J_β both increase. Three distances of a point P = (L, J) (a policy's SFT loss and
/// regularised reward):
///
/// - `distance`: the Euclidean distance from P to the polyline in the (L_SFT, J_β) plane;
/// - `rewardGap`: J_front(L) − J, the regularised reward given up against the best policy of the
///   class with SFT loss at most L (J_front(L) interpolated linearly on the polyline; the RL end's
///   J_β for L beyond it, the SFT end's for L below it);
/// - `sftGap`: L − L_front(J), the SFT loss paid above the least SFT loss of a policy with J_β at
///   least J (the SFT end's L_SFT for J below it, the RL end's for J beyond it).
///
/// For the tabular class the attainable set {(L, J): some p has L_SFT ≤ L, J_β ≥ J} is convex (L_SFT
/// is convex and J_β concave in p), so J_front is concave and every chord of the polyline lies
/// inside the attainable set: the gaps measured against the polyline are lower bounds of the gaps to
/// the exact front, short by at most the chord error (O(Δμ²); shrink it with more points). A
/// point of the class has rewardGap ≥ 0 and sftGap ≥ 0 up to that error. For the log-linear class
/// the front is local (see ``Instance/paretoFront(mus:)``) and a gap may be negative.
public struct ParetoCurve: Sendable {
    /// (L_SFT, J_β) vertices, from the SFT end to the RL end.
    public let vertices: [(sft: Double, reward: Double)]

    /// - Parameter points: front points (any order; ends with μ = 1 and μ = 0 included as given).
    public init(points: [ParetoPoint]) {
        vertices = points.sorted { $0.mu > $1.mu }.map { ($0.sftLoss, $0.rewardReg) }
    }

    /// The Euclidean distance from (sft, reward) to the polyline.
    public func distance(sft l: Double, reward j: Double) -> Double {
        guard let first = vertices.first else { return .nan }
        var best = hypot(l - first.sft, j - first.reward)
        for k in 1..<vertices.count {
            let a = vertices[k - 1], b = vertices[k]
            let dx = b.sft - a.sft, dy = b.reward - a.reward
            let len2 = dx * dx + dy * dy
            var s = len2 > 0 ? ((l - a.sft) * dx + (j - a.reward) * dy) / len2 : 0
            s = Swift.min(1, Swift.max(0, s))
            best = Swift.min(best, hypot(l - (a.sft + s * dx), j - (a.reward + s * dy)))
        }
        return best
    }

    /// J_front(L): the polyline's J_β at SFT loss L (clamped to the ends).
    public func frontReward(atSFT l: Double) -> Double {
        interpolate(l, from: vertices.map(\.sft), to: vertices.map(\.reward))
    }

    /// L_front(J): the polyline's L_SFT at regularised reward J (clamped to the ends).
    public func frontSFT(atReward j: Double) -> Double {
        interpolate(j, from: vertices.map(\.reward), to: vertices.map(\.sft))
    }

    /// J_front(L) − J.
    public func rewardGap(sft l: Double, reward j: Double) -> Double { frontReward(atSFT: l) - j }

    /// L − L_front(J).
    public func sftGap(sft l: Double, reward j: Double) -> Double { l - frontSFT(atReward: j) }

    /// Piecewise-linear interpolation on a non-decreasing abscissa, constant beyond the ends.
    func interpolate(_ x: Double, from xs: [Double], to ys: [Double]) -> Double {
        guard let x0 = xs.first, let xn = xs.last else { return .nan }
        if x <= x0 { return ys[0] }
        if x >= xn { return ys[ys.count - 1] }
        for k in 1..<xs.count where x <= xs[k] {
            let w = xs[k] > xs[k - 1] ? (x - xs[k - 1]) / (xs[k] - xs[k - 1]) : 1
            return ys[k - 1] + w * (ys[k] - ys[k - 1])
        }
        return ys[ys.count - 1]
    }
}

/// A schedule run placed against the front: each output row with its three gaps.
public struct ParetoPath: Sendable {
    public struct Row: Sendable {
        public var t: Double
        public var phase: String
        public var sftLoss: Double
        public var reward: Double
        public var rewardReg: Double
        public var distance: Double
        public var rewardGap: Double
        public var sftGap: Double
    }

    /// The path's name (`sft-then-rl`, `mix-0.5`, …) and its schedule.
    public var name: String
    public var schedule: Schedule
    public var rows: [Row]

    /// The row at the end of the schedule.
    public var final: Row { rows[rows.count - 1] }
    /// The smallest distance to the front along the path.
    public var closest: Row { rows.min { $0.distance < $1.distance }! }

    /// Runs `schedule` by the exact flow from the instance's start and measures every output row
    /// against `curve`.
    public static func run(name: String, instance: Instance, schedule: Schedule, curve: ParetoCurve,
                           samples: Int, options: IntegratorOptions = IntegratorOptions()) throws -> ParetoPath {
        let run = try runFlow(instance: instance, schedule: schedule, samples: samples, options: options)
        let rows = run.rows.map { r -> Row in
            let l = r.values[.sftLoss], j = r.values[.rewardReg]
            return Row(t: r.t, phase: r.phase, sftLoss: l, reward: r.values[.reward], rewardReg: j,
                       distance: curve.distance(sft: l, reward: j), rewardGap: curve.rewardGap(sft: l, reward: j),
                       sftGap: curve.sftGap(sft: l, reward: j))
        }
        return ParetoPath(name: name, schedule: schedule, rows: rows)
    }

    /// The standard pipelines, each phase `duration` long: `sft-then-rl` (sft:D,rl:D), `rl-then-sft`
    /// (rl:D,sft:D), `alternating-K` (K rounds of sft:D/K,rl:D/K, total 2D) and `mix-μ` (mix:μ:2D for
    /// each μ in `mixes`), all of the same total length 2D.
    public static func standardPipelines(duration d: Double, alternations k: Int, mixes: [Double]) throws -> [(String, Schedule)] {
        guard d > 0, d.isFinite else { throw FlowError.invalid("the phase duration must be a positive number, got \(d)") }
        guard k >= 1 else { throw FlowError.invalid("the number of alternations must be ≥ 1, got \(k)") }
        var out: [(String, Schedule)] = [
            ("sft-then-rl", try Schedule(phases: [Phase(.sft, duration: d), Phase(.rl, duration: d)])),
            ("rl-then-sft", try Schedule(phases: [Phase(.rl, duration: d), Phase(.sft, duration: d)])),
        ]
        let part = d / Double(k)
        out.append(("alternating-\(k)", try Schedule(phases: (0..<k).flatMap { _ in [Phase(.sft, duration: part), Phase(.rl, duration: part)] })))
        for mu in mixes {
            out.append(("mix-\(shortNumber(mu))", try Schedule(phases: [Phase(.mix(mu: mu), duration: 2 * d)])))
        }
        return out
    }
}
