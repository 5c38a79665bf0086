import Foundation

/// An interval together with an enclosure of its gradient (forward-mode differentiation in
/// interval arithmetic): `v` encloses f over the box, `g[i]` encloses ∂f/∂xᵢ (for the few
/// non-smooth operations, |x| and max/min, the Clarke generalised gradient: the hull of the
/// one-sided derivatives), so that the mean-value form
///   f(box) ⊆ f(c) + Σᵢ gᵢ(box)·(boxᵢ − cᵢ)
/// holds for every point c of the box (Lebourg's mean-value theorem for locally Lipschitz f).
/// Its overestimation shrinks like the square of the box's width, against the width itself for
/// the plain interval evaluation `v`: what lets branch-and-bound close boxes near small margins.
public struct DualInterval: Sendable {
    /// At most this many variables (the gradient is stored inline: no allocation per operation).
    public static let maxVariables = 8
    public typealias Gradient = InlineArray<8, Interval>
    public var v: Interval
    public var g: Gradient

    public init(_ v: Interval, _ g: Gradient) { self.v = v; self.g = g }
    /// A constant (zero gradient).
    public init(constant c: Interval, n: Int) { v = c; g = Gradient(repeating: Interval(0)) }
    /// The i-th variable (of at most `maxVariables`) ranging over `x`.
    public init(variable x: Interval, index i: Int, n: Int) {
        precondition(n <= DualInterval.maxVariables, "DualInterval: at most \(DualInterval.maxVariables) variables, got \(n)")
        v = x; g = Gradient(repeating: Interval(0)); g[i] = Interval(1)
    }

    static func map(_ a: Gradient, _ f: (Interval) -> Interval) -> Gradient {
        var r = a
        for i in 0..<8 { r[i] = f(a[i]) }
        return r
    }
    static func zip2(_ a: Gradient, _ b: Gradient, _ f: (Interval, Interval) -> Interval) -> Gradient {
        var r = a
        for i in 0..<8 { r[i] = f(a[i], b[i]) }
        return r
    }

    public static func + (a: DualInterval, b: DualInterval) -> DualInterval { DualInterval(a.v + b.v, zip2(a.g, b.g, +)) }
    public static func - (a: DualInterval, b: DualInterval) -> DualInterval { DualInterval(a.v - b.v, zip2(a.g, b.g, -)) }
    public static prefix func - (a: DualInterval) -> DualInterval { DualInterval(-a.v, map(a.g) { -$0 }) }
    public static func * (a: DualInterval, b: DualInterval) -> DualInterval {
        DualInterval(a.v * b.v, zip2(a.g, b.g) { ga, gb in ga * b.v + a.v * gb })
    }
    /// (a/b)' = (a' − (a/b)·b')/b.
    public static func / (a: DualInterval, b: DualInterval) -> DualInterval {
        let q = a.v / b.v
        return DualInterval(q, zip2(a.g, b.g) { ga, gb in (ga - q * gb) / b.v })
    }
    public static func * (c: Double, a: DualInterval) -> DualInterval { DualInterval(c * a.v, map(a.g) { c * $0 }) }
    public static func / (a: DualInterval, c: Double) -> DualInterval { DualInterval(a.v / c, map(a.g) { $0 / c }) }
    public static func - (c: Double, a: DualInterval) -> DualInterval { DualInterval(c - a.v, map(a.g) { -$0 }) }

    public var exp: DualInterval { let e = v.exp; return DualInterval(e, DualInterval.map(g) { $0 * e }) }
    public var log: DualInterval { DualInterval(v.log, DualInterval.map(g) { $0 / v }) }
    /// √x, derivative 1/(2√x) (the whole line where the enclosure reaches 0).
    public var squareRoot: DualInterval {
        let s = v.squareRoot
        return DualInterval(s, DualInterval.map(g) { $0 / (2 * s) })
    }
    public var magnitude: DualInterval {
        if v.lo >= 0 { return self }
        if v.hi <= 0 { return -self }
        return DualInterval(v.magnitude, DualInterval.map(g) { $0 * Interval(-1, 1) })
    }
    public static func max(_ a: DualInterval, _ b: DualInterval) -> DualInterval {
        if a.v.lo >= b.v.hi { return a }
        if b.v.lo >= a.v.hi { return b }
        return DualInterval(Interval.max(a.v, b.v), zip2(a.g, b.g) { $0.hull($1) })
    }
    public static func min(_ a: DualInterval, _ b: DualInterval) -> DualInterval { -max(-a, -b) }
    /// The value restricted to `r` (a domain constraint known to hold at every point that counts);
    /// nil when empty. The gradient enclosure stays valid on the restricted set.
    public func restricted(to r: Interval) -> DualInterval? { v.intersection(r).map { DualInterval($0, g) } }
}

extension Array where Element == DualInterval {
    public func sum() -> DualInterval { dropFirst().reduce(self[0]) { $0 + $1 } }
    public func maximum() -> DualInterval { dropFirst().reduce(self[0]) { DualInterval.max($0, $1) } }
    public func minimum() -> DualInterval { dropFirst().reduce(self[0]) { DualInterval.min($0, $1) } }
}

/// The enclosure of f over a box: the plain interval evaluation intersected with the mean-value
/// form around the box's midpoint. `f` is evaluated twice (on the box and at the midpoint) and
/// returns nil when no point of its argument lies in the domain.
public func meanValueEnclosure(_ box: [Interval], _ f: ([DualInterval]) -> DualInterval?) -> Interval? {
    let n = box.count
    guard let whole = f(box.indices.map { DualInterval(variable: box[$0], index: $0, n: n) }) else { return nil }
    let c = box.map(\.mid)
    guard let atMid = f(c.indices.map { DualInterval(variable: Interval(c[$0]), index: $0, n: n) }) else { return whole.v }
    var mv = atMid.v
    for i in 0..<n { mv = mv + whole.g[i] * (box[i] - c[i]) }
    return whole.v.intersection(mv) ?? whole.v
}
