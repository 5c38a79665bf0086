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
///   class with SFT loss at most L (the RL end's J_β for L beyond it, the SFT end's for L below it);
/// - `sftGap`: L − L_front(J), the SFT loss paid above the least SFT loss of a policy with J_β at
///   least J (the SFT end's L_SFT for J below it, the RL end's for J beyond it).
///
/// With an exact front (tabular: `exact` given) the gaps are exact: the front point with the
/// same L_SFT (or J_β) is found by bisection in μ. Then every point of the class has both gaps
/// ≥ 0 (the attainable set {(L, J): some p has L_SFT ≤ L, J_β ≥ J} is convex, L_SFT being convex
/// and J_β concave in p, and the front is its boundary). Without it (log-linear: a local front)
/// they are measured on the polyline, whose chords lie inside the attainable set when it is
/// convex, so they are lower bounds short by the chord error, and may be negative.
public struct ParetoCurve: Sendable {
    /// (L_SFT, J_β) vertices, from the SFT end to the RL end.
    public let vertices: [(sft: Double, reward: Double)]
    /// The μ of each vertex.
    public let mus: [Double]
    /// The exact front at any μ ∈ (0, 1) (tabular), used by the gaps; nil: the polyline only.
    public let exact: (@Sendable (Double) -> (sft: Double, reward: Double))?

    /// - Parameters:
    ///   - points: front points (any order; ends with μ = 1 and μ = 0 included as given).
    ///   - exact: the front at any μ ∈ (0, 1). With it, `rewardGap` and `sftGap` are exact (the
    ///     front point with the same L_SFT, or the same J_β, is found by bisection in μ between
    ///     the vertices that bracket it, L_SFT and J_β being monotone in μ); without it they are
    ///     measured on the polyline.
    public init(points: [ParetoPoint], exact: (@Sendable (Double) -> (sft: Double, reward: Double))? = nil) {
        let sorted = points.sorted { $0.mu > $1.mu }
        vertices = sorted.map { ($0.sftLoss, $0.rewardReg) }
        mus = sorted.map(\.mu)
        self.exact = exact
    }

    /// The front's value of `target` (L_SFT when `bySFT`, else J_β) equal to `x`, and the other
    /// coordinate there: bisection in μ between the bracketing vertices; clamped to the ends.
    func exactOther(_ x: Double, bySFT: Bool, _ f: (Double) -> (sft: Double, reward: Double)) -> Double {
        let key = vertices.map { bySFT ? $0.sft : $0.reward }
        let other = vertices.map { bySFT ? $0.reward : $0.sft }
        if x <= key[0] { return other[0] }
        guard let k = key.firstIndex(where: { $0 >= x }) else {
            // Beyond the last vertex: the RL end when it is a vertex (μ = 0), else search (0, μ_last].
            if mus.last == 0 { return other[other.count - 1] }
            var lo = 0.0, hi = mus[mus.count - 1]
            var best = other[other.count - 1]
            for _ in 0..<60 {
                let mid = 0.5 * (lo + hi)
                if mid <= 0 || mid == hi { break }
                let v = f(mid)
                let kv = bySFT ? v.sft : v.reward
                if kv >= x { lo = mid; best = bySFT ? v.reward : v.sft } else { hi = mid }
                if !kv.isFinite { break }
            }
            return best
        }
        if key[k] == x { return other[k] }
        // Key decreases with μ: μ[k] < μ[k−1] and key[k] > x > key[k−1]. Regula falsi with the
        // Illinois modification on g(μ) = key(μ) − x (smooth and monotone: a few evaluations).
        var a = mus[k], b = mus[k - 1]
        var ga = key[k] - x, gb = key[k - 1] - x
        var value = other[k]
        var side = 0
        for _ in 0..<60 {
            var m = (a * gb - b * ga) / (gb - ga)
            if !(m > a && m < b) { m = 0.5 * (a + b) }
            if m <= 0 || m >= 1 { break }
            let v = f(m)
            let g = (bySFT ? v.sft : v.reward) - x
            value = bySFT ? v.reward : v.sft
            if g == 0 || abs(g) <= 1e-14 * Swift.max(1, abs(x)) || b - a <= 4 * b.ulp { break }
            if (g > 0) == (ga > 0) {
                a = m; ga = g
                if side == -1 { gb *= 0.5 }
                side = -1
            } else {
                b = m; gb = g
                if side == 1 { ga *= 0.5 }
                side = 1
            }
        }
        return value
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

    /// J_front(L): the front's J_β at SFT loss L (exact when `exact` is given, else on the
    /// polyline; clamped to the ends).
    public func frontReward(atSFT l: Double) -> Double {
        if let exact { return exactOther(l, bySFT: true, exact) }
        return interpolate(l, from: vertices.map(\.sft), to: vertices.map(\.reward))
    }

    /// L_front(J): the front's L_SFT at regularised reward J (exact when `exact` is given, else on
    /// the polyline; clamped to the ends).
    public func frontSFT(atReward j: Double) -> Double {
        if let exact { return exactOther(j, bySFT: false, exact) }
        return interpolate(j, from: vertices.map(\.reward), to: vertices.map(\.sft))
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
    /// A practical method's path (``runMethod(_:instance:duration:curve:samples:options:)``): its id.
    public var methodSpec: String? = nil

    /// What the tables print in the `schedule` column: the schedule's spec, or the method's id.
    public var spec: String { methodSpec ?? schedule.spec }

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
