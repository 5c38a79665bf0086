import Foundation

/// k(x) = ((1 + x)·log(1 + x) − x)/x² for x > −1 (k(0) = ½): the KL divergence divided by its
/// second-order scale. With p = q + t·u and Σu = 0, KL(p‖q) = Σ q·(1 + x)·log(1 + x) with
/// x = t·u/q, and as Σ q·x = 0,
///   KL(p‖q) = t²·Σ_y (u(y)²/q(y))·k(t·u(y)/q(y)),
/// which keeps the order-t² size of KL out of the enclosure (no cancellation of order-t terms).
///
/// Taylor's formula with integral remainder for (1 + x)log(1 + x) − x (second derivative 1/(1 + x))
/// gives k(x) = ∫₀¹ (1 − τ)/(1 + τx) dτ, so on (−1, ∞): 0 < k ≤ 1, k is decreasing
/// (k' = −∫₀¹ (1 − τ)τ/(1 + τx)² dτ < 0) and k' is increasing (k'' = 2∫₀¹ (1 − τ)τ²/(1 + τx)³ dτ > 0).
/// The enclosures over an interval [a, b] are therefore monotone: k([a, b]) = [k(b), k(a)] and
/// k'([a, b]) = [k'(a), k'(b)], each end an outward enclosure of k or k' at one point.
enum KLRatio {
    /// The power series is used for |x| ≤ `seriesRadius` with `terms` terms (remainder
    /// ≤ 2·8⁻²⁰/(1 − ⅛) < 10⁻¹⁷, below one ulp of k ≥ ⅓ there).
    static let terms = 20
    static let seriesRadius = 0.125
    /// Enclosures of the series' coefficients: (−1)ⁿ/((n+1)(n+2)) for k, (−1)ⁿ n/((n+1)(n+2)) for k'.
    static let kCoefficients: [Interval] = (0..<terms).map { (n: Int) -> Interval in
        let sign: Double = n % 2 == 0 ? 1 : -1
        return Interval(sign) / Interval(Double((n + 1) * (n + 2)))
    }
    static let dkCoefficients: [Interval] = (0..<terms).map { (n: Int) -> Interval in
        let signed: Double = Double(n % 2 == 0 ? n : -n)
        return Interval(signed) / Interval(Double((n + 1) * (n + 2)))
    }

    /// An enclosure of k at the point x > −1: for |x| ≤ ⅛ the series Σₙ (−x)ⁿ/((n+1)(n+2)) by
    /// Horner in interval arithmetic plus the remainder bound |x|^N/(1 − |x|) (each term is at most
    /// |x|ⁿ); otherwise the closed form in interval arithmetic. Intersected with (0, 1].
    static func k(at x: Double) -> Interval {
        let X = Interval(x)
        let e: Interval
        if abs(x) <= seriesRadius {
            var s = Interval(0)
            for n in stride(from: terms - 1, through: 0, by: -1) { s = s * X + kCoefficients[n] }
            let rho = up(2 * Foundation.pow(abs(x), Double(terms)) / (1 - abs(x)))
            e = s + Interval(-rho, rho)
        } else {
            let onePlus = Interval(1) + X
            let h = onePlus * onePlus.log - X
            e = h / X.squared
        }
        return Interval(Swift.max(e.lo, 0), Swift.min(Swift.max(e.hi, 0), 1))
    }

    /// An enclosure of k' at the point x > −1: the series Σ_{n≥1} (−1)ⁿ n xⁿ⁻¹/((n+1)(n+2)) for
    /// |x| ≤ ⅛ (remainder ≤ |x|^(N−1)/(1 − |x|)), else k' = (x·log(1 + x) − 2h)/x³ with
    /// h = (1 + x)log(1 + x) − x. Intersected with (−∞, 0].
    static func dk(at x: Double) -> Interval {
        let X = Interval(x)
        let e: Interval
        if abs(x) <= seriesRadius {
            var s = Interval(0)
            for n in stride(from: terms - 1, through: 1, by: -1) { s = s * X + dkCoefficients[n] }   // the term of xⁿ⁻¹
            let rho = up(2 * Foundation.pow(abs(x), Double(terms - 1)) / (1 - abs(x)))
            e = s + Interval(-rho, rho)
        } else {
            let onePlus = Interval(1) + X
            let l = onePlus.log
            let h = onePlus * l - X
            e = (X * l - 2 * h) / (X * X.squared)
        }
        return Interval(Swift.min(e.lo, 0), Swift.min(e.hi, 0))
    }

    /// k over an interval (monotone: decreasing); 1 at the upper end when it reaches x ≤ −1
    /// (the supremum of k), 0 at the lower end when it is unbounded.
    static func k(_ a: Interval) -> Interval {
        if a.lo == a.hi && a.lo > -1 && a.hi.isFinite { return k(at: a.lo) }
        let hi = a.lo <= -1 ? 1 : k(at: a.lo).hi
        let lo = a.hi == .infinity ? 0 : (a.hi <= -1 ? 1 : k(at: a.hi).lo)
        return Interval(Swift.min(lo, hi), hi)
    }

    /// k' over an interval (monotone: increasing); −∞ at the lower end when it reaches x ≤ −1.
    static func dk(_ a: Interval) -> Interval {
        if a.lo == a.hi && a.lo > -1 && a.hi.isFinite { return dk(at: a.lo) }
        let lo = a.lo <= -1 ? -.infinity : dk(at: a.lo).lo
        let hi = a.hi == .infinity ? 0 : (a.hi <= -1 ? -.infinity : dk(at: a.hi).hi)
        return Interval(lo, Swift.max(lo, hi))
    }
}

extension DualInterval {
    /// k(x) (`KLRatio`) with its derivative k'(x) by the chain rule.
    var klRatio: DualInterval {
        let d = KLRatio.dk(v)
        return DualInterval(KLRatio.k(v), DualInterval.map(g) { $0 * d })
    }
}
