import Foundation
import Linalg
import Policies

/// Domain-aware random generators for claim instances. Every draw comes from the generator passed
/// in, so an instance is a pure function of (seed, claim, index).
public enum Generate {
    /// How a simplex point is drawn.
    public enum SimplexStyle: CaseIterable, Sendable {
        /// Dirichlet-like with a random concentration in [0.1, 5].
        case spread
        /// Near-deterministic: one response takes almost all the mass; the rest down to 1e-12.
        case peaked
        /// Exact zeros on a random subset (at least one positive entry).
        case zeros
        /// Uniform distribution.
        case uniform
    }

    /// A number of responses in 2…512, skewed to small: 70% in 2…6, 25% in 7…64, 5% in 65…512.
    public static func responseCount(_ g: inout SeededGenerator, max: Int = 512) -> Int {
        let u = g.uniform()
        if u < 0.7 || max <= 6 { return g.int(2...Swift.min(6, max)) }
        if u < 0.95 || max <= 64 { return g.int(7...Swift.min(64, max)) }
        return g.int(65...max)
    }

    /// A number of prompts in 1…8 (half the time exactly 1).
    public static func promptCount(_ g: inout SeededGenerator, max: Int = 8) -> Int {
        g.uniform() < 0.5 ? 1 : g.int(1...max)
    }

    /// β log-uniform in [1e-3, 1e3].
    public static func beta(_ g: inout SeededGenerator) -> Double { Foundation.pow(10, g.uniform(-3, 3)) }

    /// A point of the n-simplex in the given style (random style when nil). Entries sum to 1 up to
    /// one rounding; the minimum positive mass can reach 1e-12.
    public static func simplex(_ g: inout SeededGenerator, _ n: Int, style: SimplexStyle? = nil) -> [Double] {
        let s = style ?? [SimplexStyle.spread, .spread, .peaked, .zeros, .uniform][g.int(0...4)]
        var w: [Double]
        switch s {
        case .uniform:
            w = [Double](repeating: 1, count: n)
        case .spread:
            let alpha = g.uniform(0.1, 5)
            w = (0..<n).map { _ in gammaLike(&g, alpha) }
        case .peaked:
            let minMass = Foundation.pow(10, g.uniform(-12, -3))
            w = (0..<n).map { _ in minMass * g.uniform(1, 10) }
            w[g.int(0...(n - 1))] = 1
        case .zeros:
            w = (0..<n).map { _ in g.uniform() < 0.4 ? 0 : g.uniform(0.01, 1) }
            if !w.contains(where: { $0 > 0 }) { w[g.int(0...(n - 1))] = 1 }
        }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }

    /// A strictly positive simplex point (no zeros; minimum mass down to 1e-12).
    public static func positiveSimplex(_ g: inout SeededGenerator, _ n: Int) -> [Double] {
        simplex(&g, n, style: [SimplexStyle.spread, .spread, .peaked, .uniform][g.int(0...3)])
    }

    /// Rewards with a random spread (scale log-uniform in [1e-2, 1e2]); a third of the time
    /// quantised to 2–3 levels so that ties occur.
    public static func reward(_ g: inout SeededGenerator, _ n: Int) -> [Double] {
        let scale = Foundation.pow(10, g.uniform(-2, 2))
        var r = (0..<n).map { _ in scale * g.uniform(-1, 1) }
        if g.uniform() < 1.0 / 3 {
            let levels = g.int(2...3)
            r = r.map { v in scale * (Foundation.floor((v / scale + 1) / 2 * Double(levels)) / Double(levels) * 2 - 1) }
        }
        return r
    }

    /// Prompt weights q(x) (positive, normalised).
    public static func weights(_ g: inout SeededGenerator, _ m: Int) -> [Double] {
        let w = (0..<m).map { _ in g.uniform(0.05, 1) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }

    /// A feature matrix n × d, well-conditioned (iid normal) or ill-conditioned (columns scaled
    /// over up to 6 decades, or nearly collinear).
    public static func features(_ g: inout SeededGenerator, n: Int, d: Int, illConditioned: Bool) -> Matrix {
        var m = Matrix(rows: n, cols: d, data: (0..<(n * d)).map { _ in g.normal() })
        if illConditioned {
            if g.uniform() < 0.5 {
                for k in 0..<d { let s = Foundation.pow(10, -6 * Double(k) / Double(Swift.max(d - 1, 1))); for i in 0..<n { m[i, k] *= s } }
            } else if d > 1 {
                for i in 0..<n { m[i, d - 1] = m[i, 0] + 1e-6 * g.normal() }
            }
        }
        return m
    }

    /// A Gamma(α)-distributed draw (Marsaglia–Tsang, with the α < 1 boost), for Dirichlet points.
    static func gammaLike(_ g: inout SeededGenerator, _ alpha: Double) -> Double {
        if alpha < 1 { return gammaLike(&g, alpha + 1) * Foundation.pow(Swift.max(g.uniform(), 1e-300), 1 / alpha) }
        let d = alpha - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = g.normal()
            let v0 = 1 + c * x
            if v0 <= 0 { continue }
            let v = v0 * v0 * v0
            let u = g.uniform()
            if Foundation.log(Swift.max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * Foundation.log(v) { return d * v }
        }
    }

    /// A tabular instance file with the given per-prompt arrays.
    public static func file(beta: Double, weights: [Double], data: [[Double]], reward: [[Double]],
                            reference: [[Double]]? = nil, start: [[Double]]? = nil) -> InstanceFile {
        InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: weights.indices.map { x in
            .init(weight: weights[x], data: data[x], reward: reward[x], reference: reference?[x], start: start?[x])
        })
    }
}

extension InstanceFile {
    /// Per-prompt start distributions (default: data).
    public var starts: [[Double]] { prompts.map { $0.start ?? $0.data } }
    /// Per-prompt references (default: uniform).
    public var references: [[Double]] { prompts.map { $0.reference ?? Array(repeating: 1 / Double($0.data.count), count: $0.data.count) } }
    /// Normalised prompt weights q(x).
    public var normalizedWeights: [Double] {
        let s = prompts.reduce(0) { $0 + $1.weight }
        return prompts.map { $0.weight / s }
    }
}
