import Foundation

/// A closed interval [lo, hi] of real numbers with Double endpoints, kept as an *enclosure*: every
/// operation returns an interval that contains the exact real result for every choice of
/// operands inside its arguments (outward rounding).
///
/// Rounding model. IEEE 754 +, −, ×, ÷ and √ are correctly rounded to nearest: the computed
/// endpoint is within ½ ulp of the exact one, so one `nextDown` (lower end) or `nextUp` (upper
/// end) step encloses it. exp and log come from the platform libm (glibc on Linux), which is not
/// correctly rounded; glibc's table of known maximum errors lists at most 1 ulp for exp and log in
/// double precision on x86_64, and we widen their results by `libmUlps` = 4 steps on each side.
/// That documented bound is the one assumption the proofs rest on; the property tests compare
/// every operation against Float80 on random points.
///
/// An empty interval is never formed: an operation whose result would be empty (the logarithm of
/// a negative interval) gives the whole line's part it can (−∞ lower end) instead.
public struct Interval: Sendable, Equatable, CustomStringConvertible {
    public let lo: Double
    public let hi: Double

    /// Steps of widening applied to exp and log (see the rounding model above).
    public static let libmUlps = 4

    public init(_ lo: Double, _ hi: Double) {
        precondition(!(lo > hi), "Interval needs lo <= hi, got [\(lo), \(hi)]")
        precondition(!lo.isNaN && !hi.isNaN, "Interval endpoints must not be NaN")
        self.lo = lo; self.hi = hi
    }

    /// The point interval [x, x] (exact: x is a Double).
    public init(_ x: Double) { self.init(x, x) }

    /// The whole line (the enclosure of an undefined or unbounded operation).
    public static let entire = Interval(-.infinity, .infinity)

    public var width: Double { hi - lo }
    public var mid: Double { lo.isFinite && hi.isFinite ? lo + (hi - lo) / 2 : (lo.isFinite ? lo : (hi.isFinite ? hi : 0)) }
    public func contains(_ x: Double) -> Bool { lo <= x && x <= hi }
    public var description: String { "[\(lo), \(hi)]" }

    /// The two halves [lo, mid] and [mid, hi].
    public var halves: (Interval, Interval) { let m = mid; return (Interval(lo, m), Interval(m, hi)) }

    /// The intersection, or nil when it is empty.
    public func intersection(_ o: Interval) -> Interval? {
        let a = Swift.max(lo, o.lo), b = Swift.min(hi, o.hi)
        return a <= b ? Interval(a, b) : nil
    }

    /// The smallest interval holding both.
    public func hull(_ o: Interval) -> Interval { Interval(Swift.min(lo, o.lo), Swift.max(hi, o.hi)) }
}

/// One rounding step down / up (the outward rounding of a round-to-nearest result). Infinite
/// values stay as they are (an infinite end is already an enclosure).
@inlinable func down(_ x: Double) -> Double { x.isFinite ? x.nextDown : x }
@inlinable func up(_ x: Double) -> Double { x.isFinite ? x.nextUp : x }
@inlinable func down(_ x: Double, _ k: Int) -> Double { var y = x; for _ in 0..<k { y = down(y) }; return y }
@inlinable func up(_ x: Double, _ k: Int) -> Double { var y = x; for _ in 0..<k { y = up(y) }; return y }

extension Interval {
    public static prefix func - (a: Interval) -> Interval { Interval(-a.hi, -a.lo) }   // exact

    public static func + (a: Interval, b: Interval) -> Interval { Interval(down(a.lo + b.lo), up(a.hi + b.hi)) }
    public static func - (a: Interval, b: Interval) -> Interval { Interval(down(a.lo - b.hi), up(a.hi - b.lo)) }

    /// Product: the extremes of the four endpoint products (0·∞ taken as 0, the limit for a
    /// finite operand), each rounded outward.
    public static func * (a: Interval, b: Interval) -> Interval {
        func m(_ x: Double, _ y: Double) -> Double { (x == 0 || y == 0) ? 0 : x * y }
        let p0 = m(a.lo, b.lo), p1 = m(a.lo, b.hi), p2 = m(a.hi, b.lo), p3 = m(a.hi, b.hi)
        return Interval(down(Swift.min(Swift.min(p0, p1), Swift.min(p2, p3))), up(Swift.max(Swift.max(p0, p1), Swift.max(p2, p3))))
    }

    /// Quotient; the whole line when the divisor contains 0.
    public static func / (a: Interval, b: Interval) -> Interval {
        if b.lo <= 0 && b.hi >= 0 { return .entire }
        let p0 = a.lo / b.lo, p1 = a.lo / b.hi, p2 = a.hi / b.lo, p3 = a.hi / b.hi
        return Interval(down(Swift.min(Swift.min(p0, p1), Swift.min(p2, p3))), up(Swift.max(Swift.max(p0, p1), Swift.max(p2, p3))))
    }

    public static func + (a: Interval, b: Double) -> Interval { a + Interval(b) }
    public static func + (a: Double, b: Interval) -> Interval { Interval(a) + b }
    public static func - (a: Interval, b: Double) -> Interval { a - Interval(b) }
    public static func - (a: Double, b: Interval) -> Interval { Interval(a) - b }
    public static func * (a: Double, b: Interval) -> Interval { Interval(a) * b }
    public static func * (a: Interval, b: Double) -> Interval { a * Interval(b) }
    public static func / (a: Interval, b: Double) -> Interval { a / Interval(b) }
}
