import Testing
import Foundation
import Linalg
import Claims
@testable import Verified

/// The pieces the direction-posed claims rest on: k(x) = ((1 + x)log(1 + x) − x)/x² and its
/// derivative enclosed at points and (monotonically) over intervals, against Float80; the hexagon
/// of unit-TV directions covers every direction of p − q; KL = t²·Σ (u²/q)·k(t·u/q).
@Suite struct DirectionTests {
    /// k and k' in Float80: the power series for |x| < ¼ (60 terms), else the closed form.
    static func k80(_ x: Float80) -> Float80 {
        if abs(x) < 0.25 { var s: Float80 = 0; for n in stride(from: 59, through: 0, by: -1) { s = s * x + (n % 2 == 0 ? 1 : -1) / Float80((n + 1) * (n + 2)) }; return s }
        return ((1 + x) * logl(1 + x) - x) / (x * x)
    }
    static func dk80(_ x: Float80) -> Float80 {
        if abs(x) < 0.25 { var s: Float80 = 0; for n in stride(from: 59, through: 1, by: -1) { s = s * x + Float80(n % 2 == 0 ? n : -n) / Float80((n + 1) * (n + 2)) }; return s }
        let l = logl(1 + x)
        return (x * l - 2 * ((1 + x) * l - x)) / (x * x * x)
    }

    /// Random points of (−1, 20), many near 0 and near ±¼ (where the two evaluations meet).
    static func points(_ g: inout SeededGenerator, _ count: Int) -> [Double] {
        (0..<count).map { i in
            switch i % 4 {
            case 0: return g.uniform(-0.999, 20)
            case 1: return g.uniform(-1e-3, 1e-3)
            case 2: return (g.uniform() < 0.5 ? -0.25 : 0.25) + g.uniform(-1e-6, 1e-6)
            default: return g.uniform(-0.3, 0.3)
            }
        }
    }

    /// The first point whose Float80 value escapes the enclosure, or nil.
    static func escape(_ enclose: (Double) -> Interval, _ exact: (Float80) -> Float80, seed: UInt64 = 3) -> String? {
        var g = SeededGenerator(seed: seed)
        for x in points(&g, 4000) {
            let e = enclose(x), v = exact(Float80(x))
            if !(Float80(e.lo) <= v && v <= Float80(e.hi)) { return "x = \(x): \(v) outside \(e)" }
        }
        return nil
    }

    @Test func kAndItsDerivativeEncloseFloat80() {
        #expect(DirectionTests.escape(KLRatio.k(at:), DirectionTests.k80) == nil)
        #expect(DirectionTests.escape(KLRatio.dk(at:), DirectionTests.dk80) == nil)
        // Tight: a few ulps wide.
        #expect(KLRatio.k(at: 0.1).width < 1e-15 && KLRatio.k(at: 3).width < 1e-14)
    }

    /// Over random intervals the monotone enclosures hold k and k' at interior points.
    @Test func monotoneEnclosuresHoldInteriorPoints() {
        var g = SeededGenerator(seed: 9)
        for _ in 0..<500 {
            let a = g.uniform(-0.99, 5), b = a + g.uniform(0, 2)
            let K = KLRatio.k(Interval(a, b)), dK = KLRatio.dk(Interval(a, b))
            for _ in 0..<4 {
                let x = Float80(g.uniform(a, b))
                #expect(Float80(K.lo) <= DirectionTests.k80(x) && DirectionTests.k80(x) <= Float80(K.hi))
                #expect(Float80(dK.lo) <= DirectionTests.dk80(x) && DirectionTests.dk80(x) <= Float80(dK.hi))
            }
        }
    }

    /// The property can fail: k's series with one coefficient off by one in its denominator
    /// (a planted bug), and the closed form's enclosure without its remainder-free rounding
    /// replaced by plain Double arithmetic near 0 (cancellation), both escape.
    @Test func plantedBugsInKAreCaught() {
        let wrongCoefficient: (Double) -> Interval = { x in
            var s = 0.0
            for n in stride(from: 39, through: 0, by: -1) { s = s * x + (n % 2 == 0 ? 1 : -1) / Double((n + 1) * (n + 2) + (n == 3 ? 1 : 0)) }
            return Interval(s.nextDown, s.nextUp)
        }
        #expect(DirectionTests.escape(wrongCoefficient, DirectionTests.k80) != nil)
        let naive: (Double) -> Interval = { x in
            let v = ((1 + x) * Foundation.log1p(x) - x) / (x * x)
            return Interval(v.nextDown, v.nextUp)
        }
        #expect(DirectionTests.escape(naive, DirectionTests.k80) != nil)
    }

    /// Every direction of the plane Σu = 0 at unit TV is on the hexagon: for random differences
    /// d = p − q, d/TV(d) is within 10⁻³ of a point of a grid of θ (step 10⁻³); and every θ gives Σu = 0,
    /// ½Σ|u| = 1.
    @Test func hexagonCoversTheDirections() {
        let n = 3
        let grid = stride(from: 0.0, through: 6.0, by: 1e-3).map { DirectionPolygon.direction(at: $0, n: n) }
        for u in grid.enumerated() {
            #expect(abs(u.element.reduce(0, +)) < 1e-12)
            #expect(abs(0.5 * u.element.map(abs).reduce(0, +) - 1) < 1e-12)
        }
        var g = SeededGenerator(seed: 4)
        for _ in 0..<100 {
            let p = Generate.simplex(&g, n), q = Generate.simplex(&g, n)
            let d = zip(p, q).map { $0 - $1 }
            let tv = 0.5 * d.map(abs).reduce(0, +)
            guard tv > 1e-6 else { continue }
            let u = d.map { $0 / tv }
            let best = grid.map { v in zip(v, u).map { abs($0 - $1) }.max()! }.min()!
            #expect(best < 1e-3, "d = \(d): nearest hexagon point at \(best)")
        }
    }

    /// KL(p‖q) = t²·Σ (u²/q)·k(t·u/q) for p = q + t·u, against the direct sum in Float80.
    @Test func klFactorisation() {
        var g = SeededGenerator(seed: 6)
        for _ in 0..<300 {
            let q = Generate.positiveSimplex(&g, 3).map { 0.02 + 0.94 * $0 }
            let u = DirectionPolygon.direction(at: g.uniform(0, 6), n: 3)
            let tMax = (0..<3).map { u[$0] < 0 ? (q[$0] - 0.01) / -u[$0] : 1 }.min()!
            let t = g.uniform(0, Swift.min(1, tMax))
            let p = (0..<3).map { q[$0] + t * u[$0] }
            var kl: Float80 = 0
            for i in 0..<3 { kl += Float80(p[i]) * logl(Float80(p[i]) / Float80(q[i])) }
            var s = Interval(0)
            for i in 0..<3 { s = s + Interval(u[i] * u[i]) / Interval(q[i]) * KLRatio.k(at: t * u[i] / q[i]) }
            let viaK = Float80(s.mid) * Float80(t) * Float80(t)
            #expect(abs(viaK - kl) <= 1e-12 * Swift.max(1, abs(kl)) + 1e-15, "q = \(q), t = \(t), u = \(u)")
        }
    }
}
