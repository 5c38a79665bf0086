import Foundation

/// A closed interval [lo, hi] of real numbers with Double endpoints, kept as an *enclosure*: every
/// operation returns an interval that contains the exact real result for every choice of
/// operands inside its arguments (outward rounding).
///
/// Rounding model. IEEE 754 +, −, ×, ÷ and √ are correctly rounded to nearest: the computed
/// endpoint is within ½ ulp of the exact one, so one `nextDown` (lower end) or `nextUp` (upper
/// end) step encloses it. For + and × the exact error is known (TwoSum, FMA), and the step is
/// taken only on the side where the exact result lies (none when it is exact: a difference
/// that is exactly 0 stays [0, 0], which lets identities and margins that touch 0 be proven). exp and log come from the platform libm (glibc on Linux), which is not
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

/// The exact rounding error of a + b (TwoSum, Knuth: exact in round-to-nearest when a + b does
/// not overflow): a + b = s + e exactly, s = fl(a + b).
@inlinable func twoSumError(_ a: Double, _ b: Double, _ s: Double) -> Double {
    let bb = s - a
    return (a - (s - bb)) + (b - bb)
}
/// A lower / upper bound of the exact a + b: fl(a + b), stepped outward only when inexact.
@inlinable func sumDown(_ a: Double, _ b: Double) -> Double {
    let s = a + b
    if !s.isFinite && a.isFinite && b.isFinite { return s > 0 ? .greatestFiniteMagnitude : s }   // overflow
    guard s.isFinite, a.isFinite, b.isFinite else { return down(s) }
    return twoSumError(a, b, s) < 0 ? s.nextDown : s
}
@inlinable func sumUp(_ a: Double, _ b: Double) -> Double {
    let s = a + b
    if !s.isFinite && a.isFinite && b.isFinite { return s < 0 ? -.greatestFiniteMagnitude : s }   // overflow
    guard s.isFinite, a.isFinite, b.isFinite else { return up(s) }
    return twoSumError(a, b, s) > 0 ? s.nextUp : s
}
/// A lower / upper bound of the exact x·y (0·∞ read as 0): fl(x·y), stepped outward only when
/// FMA's exact error x·y − fl(x·y) is non-zero on that side (exact unless the product is
/// tiny (|fl(x·y)| < 2⁻⁹⁰⁰, where the error could underflow): then the step is always taken).
@inlinable func productDown(_ x: Double, _ y: Double) -> Double {
    if x == 0 || y == 0 { return 0 }
    let p = x * y
    if !p.isFinite && x.isFinite && y.isFinite { return p > 0 ? .greatestFiniteMagnitude : p }   // overflow
    guard p.isFinite, p.magnitude >= 0x1p-900 else { return down(p) }
    return (-p).addingProduct(x, y) < 0 ? p.nextDown : p
}
@inlinable func productUp(_ x: Double, _ y: Double) -> Double {
    if x == 0 || y == 0 { return 0 }
    let p = x * y
    if !p.isFinite && x.isFinite && y.isFinite { return p < 0 ? -.greatestFiniteMagnitude : p }   // overflow
    guard p.isFinite, p.magnitude >= 0x1p-900 else { return up(p) }
    return (-p).addingProduct(x, y) > 0 ? p.nextUp : p
}

extension Interval {
    public static prefix func - (a: Interval) -> Interval { Interval(-a.hi, -a.lo) }   // exact

    /// Sum: each end rounded outward, by one step only when the rounded sum is inexact (the sign
    /// of TwoSum's exact error says which side of the rounded value the exact sum lies on).
    public static func + (a: Interval, b: Interval) -> Interval { Interval(sumDown(a.lo, b.lo), sumUp(a.hi, b.hi)) }
    public static func - (a: Interval, b: Interval) -> Interval { Interval(sumDown(a.lo, -b.hi), sumUp(a.hi, -b.lo)) }

    /// Product: the extremes of the four endpoint products (0·∞ taken as 0, the limit for a
    /// finite operand), each rounded outward (one step, only when FMA's exact error is non-zero on
    /// that side).
    public static func * (a: Interval, b: Interval) -> Interval {
        let x = [a.lo, a.lo, a.hi, a.hi], y = [b.lo, b.hi, b.lo, b.hi]
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<4 { lo = Swift.min(lo, productDown(x[i], y[i])); hi = Swift.max(hi, productUp(x[i], y[i])) }
        return Interval(lo, hi)
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
