import Foundation

/// Elementary functions on intervals, each an enclosure of the exact image (see `Interval`'s
/// rounding model: √ is correctly rounded, exp and log are widened by `Interval.libmUlps`).
extension Interval {
    /// |a|: exact (no rounding).
    public var magnitude: Interval {
        if lo >= 0 { return self }
        if hi <= 0 { return -self }
        return Interval(0, Swift.max(-lo, hi))
    }

    /// √a on a ∩ [0, ∞) (the square root is only asked of quantities that are ≥ 0 in exact
    /// arithmetic; a negative part of the enclosure is rounding and is clipped).
    public var squareRoot: Interval {
        let a = Swift.max(lo, 0), b = Swift.max(hi, 0)
        return Interval(Swift.max(0, down(a.squareRoot())), up(b.squareRoot()))
    }

    /// eˣ, increasing.
    public var exp: Interval {
        let a = lo == -.infinity ? 0 : Swift.max(0, down(Foundation.exp(lo), Interval.libmUlps))
        let b = hi == .infinity ? .infinity : up(Foundation.exp(hi), Interval.libmUlps)
        return Interval(a, Swift.max(a, b))
    }

    /// log x, increasing; −∞ at the lower end when the interval reaches 0 or below.
    public var log: Interval {
        let a = lo <= 0 ? -.infinity : down(Foundation.log(lo), Interval.libmUlps)
        let b = hi <= 0 ? -.infinity : (hi == .infinity ? .infinity : up(Foundation.log(hi), Interval.libmUlps))
        return Interval(a, Swift.max(a, b))
    }

    /// The square a², tighter than a·a when a contains 0.
    public var squared: Interval {
        let m = magnitude
        return Interval(down(m.lo * m.lo), up(m.hi * m.hi)).clampedBelow(0)
    }

    /// The same interval with its lower end raised to at least `x` (for quantities known to be ≥ x).
    public func clampedBelow(_ x: Double) -> Interval { Interval(Swift.max(lo, x), Swift.max(hi, x)) }

    public static func max(_ a: Interval, _ b: Interval) -> Interval { Interval(Swift.max(a.lo, b.lo), Swift.max(a.hi, b.hi)) }
    public static func min(_ a: Interval, _ b: Interval) -> Interval { Interval(Swift.min(a.lo, b.lo), Swift.min(a.hi, b.hi)) }
}

extension Array where Element == Interval {
    /// Σ aᵢ with outward rounding at every step.
    public func sum() -> Interval { reduce(Interval(0)) { $0 + $1 } }
    public func maximum() -> Interval { dropFirst().reduce(self[0]) { Interval.max($0, $1) } }
    public func minimum() -> Interval { dropFirst().reduce(self[0]) { Interval.min($0, $1) } }
}
