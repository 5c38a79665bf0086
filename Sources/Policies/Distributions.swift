import Foundation
import RealModule

/// Probability-level functions on finite distributions (arrays that sum to 1), generic over the
/// floating-point type T so that a claim's margin can be re-checked in `Float80` with the very same
/// formulas (see `Claims`).
///
/// Conventions: natural logarithms; 0·log 0 = 0; a KL divergence KL(p‖q) with p(y) > 0 = q(y) is +∞.
/// Everything that can underflow is computed in log space (log-sum-exp).
public enum DistOf<T: Real & BinaryFloatingPoint> {
    /// log Σᵢ exp(xᵢ), stable for any finite input; −∞ for an empty array or all −∞ entries.
    @inlinable public static func logSumExp(_ x: [T]) -> T {
        guard let m = x.max(), m > -T.infinity else { return -T.infinity }
        if m == .infinity { return .infinity }
        var s: T = 0
        for v in x { s += T.exp(v - m) }
        return m + T.log(s)
    }

    /// log softmax(z)ᵢ = zᵢ − log Σ exp(z). Exact for logits of any size (±50 and beyond).
    @inlinable public static func logSoftmax(_ z: [T]) -> [T] {
        let l = logSumExp(z)
        return z.map { $0 - l }
    }

    /// log softmax(z) and softmax(z) together with one exponential per entry: with m = max z,
    /// eᵢ = exp(zᵢ − m), S = Σ e: log pᵢ = zᵢ − m − log S and pᵢ = eᵢ/S (for hot loops that need
    /// both; equal to ``logSoftmax(_:)`` and its exponential up to rounding).
    @inlinable public static func logSoftmaxAndSoftmax(_ z: [T]) -> (log: [T], p: [T]) {
        guard let m = z.max(), m > -T.infinity, m < T.infinity else { let l = logSoftmax(z); return (l, l.map { T.exp($0) }) }
        var e = z
        var s: T = 0
        for i in e.indices { e[i] = T.exp(z[i] - m); s += e[i] }
        let shift = m + T.log(s)
        var l = z
        for i in l.indices { l[i] = z[i] - shift; e[i] /= s }
        return (l, e)
    }

    /// softmax(z)ᵢ = exp(zᵢ − log Σ exp(z)).
    @inlinable public static func softmax(_ z: [T]) -> [T] { logSoftmax(z).map { T.exp($0) } }

    /// E_p[f] = Σ p(y) f(y) (terms with p(y) = 0 are skipped, so f may be infinite there).
    @inlinable public static func expectation(_ p: [T], _ f: [T]) -> T {
        precondition(p.count == f.count)
        var s: T = 0
        for i in p.indices where p[i] != 0 { s += p[i] * f[i] }
        return s
    }

    /// The regularised reward of one prompt (the paper's J_β, Eq. 2): J_β(p) = E_p[r] − β·KL(p‖π_ref),
    /// written once for Objective, the Pareto front and the claims. At β = 0 the KL term is dropped
    /// (a zero of π_ref does not turn J_0 = E_p[r] into NaN). `logP`: log p, when known.
    @inlinable public static func regularizedReward(_ p: [T], reward: [T], reference: [T], beta: T, logP: [T]? = nil) -> T {
        let j = expectation(p, reward)
        return beta == 0 ? j : j - beta * kl(p, reference, logP: logP)
    }

    /// Total variation TV(p, q) = ½ Σ |p(y) − q(y)| (paper Eq. 3).
    @inlinable public static func tv(_ p: [T], _ q: [T]) -> T {
        precondition(p.count == q.count)
        var s: T = 0
        for i in p.indices { s += abs(p[i] - q[i]) }
        return s / 2
    }

    /// KL(p‖q) = Σ p log(p/q), with 0·log(0/q) = 0 and +∞ when p(y) > 0 = q(y).
    /// Computed from log-probabilities when given (`logP`, `logQ`) to avoid underflow.
    @inlinable public static func kl(_ p: [T], _ q: [T], logP: [T]? = nil, logQ: [T]? = nil) -> T {
        precondition(p.count == q.count)
        var s: T = 0
        for i in p.indices where p[i] > 0 {
            let lq = logQ?[i] ?? T.log(q[i])
            if lq == -T.infinity { return .infinity }
            let lp = logP?[i] ?? T.log(p[i])
            s += p[i] * (lp - lq)
        }
        return Swift.max(s, 0)
    }

    /// Shannon entropy H(p) = −Σ p log p (nats).
    @inlinable public static func entropy(_ p: [T], logP: [T]? = nil) -> T {
        var s: T = 0
        for i in p.indices where p[i] > 0 { s -= p[i] * (logP?[i] ?? T.log(p[i])) }
        return s
    }

    /// Cross-entropy −Σ p log q (the per-prompt SFT loss with p = p_D, q = p_θ); +∞ when p > 0 = q.
    @inlinable public static func crossEntropy(_ p: [T], _ q: [T], logQ: [T]? = nil) -> T {
        var s: T = 0
        for i in p.indices where p[i] > 0 {
            let lq = logQ?[i] ?? T.log(q[i])
            if lq == -T.infinity { return .infinity }
            s -= p[i] * lq
        }
        return s
    }

    /// log Z_β = log E_{y∼ref}[exp(r(y)/β)] (paper Eq. 8), by log-sum-exp over the support of ref.
    @inlinable public static func logPartition(reference: [T], reward: [T], beta: T) -> T {
        precondition(beta > 0, "the Gibbs partition function needs β > 0")
        var terms: [T] = []
        terms.reserveCapacity(reference.count)
        for i in reference.indices where reference[i] > 0 { terms.append(T.log(reference[i]) + reward[i] / beta) }
        return logSumExp(terms)
    }

    /// The Gibbs tilt p*(y) = ref(y)·exp(r(y)/β)/Z_β (paper Eq. 8), the maximiser of E_p r − β KL(p‖ref)
    /// over the simplex. Zeros of ref stay zeros.
    @inlinable public static func gibbs(reference: [T], reward: [T], beta: T) -> [T] {
        let lz = logPartition(reference: reference, reward: reward, beta: beta)
        return reference.indices.map { i in
            reference[i] > 0 ? T.exp(T.log(reference[i]) + reward[i] / beta - lz) : 0
        }
    }

}

/// The Double entry points every module calls: the formulas of `DistOf` at `T = Double`.
public enum Dist {
    public typealias D = DistOf<Double>
    @inlinable public static func logSumExp(_ x: [Double]) -> Double { D.logSumExp(x) }
    @inlinable public static func logSoftmax(_ z: [Double]) -> [Double] { D.logSoftmax(z) }
    @inlinable public static func softmax(_ z: [Double]) -> [Double] { D.softmax(z) }
    @inlinable public static func expectation(_ p: [Double], _ f: [Double]) -> Double { D.expectation(p, f) }
    @inlinable public static func tv(_ p: [Double], _ q: [Double]) -> Double { D.tv(p, q) }
    @inlinable public static func regularizedReward(_ p: [Double], reward: [Double], reference: [Double], beta: Double, logP: [Double]? = nil) -> Double {
        D.regularizedReward(p, reward: reward, reference: reference, beta: beta, logP: logP)
    }
    @inlinable public static func kl(_ p: [Double], _ q: [Double], logP: [Double]? = nil, logQ: [Double]? = nil) -> Double { D.kl(p, q, logP: logP, logQ: logQ) }
    @inlinable public static func entropy(_ p: [Double], logP: [Double]? = nil) -> Double { D.entropy(p, logP: logP) }
    @inlinable public static func crossEntropy(_ p: [Double], _ q: [Double], logQ: [Double]? = nil) -> Double { D.crossEntropy(p, q, logQ: logQ) }
    @inlinable public static func logPartition(reference: [Double], reward: [Double], beta: Double) -> Double { D.logPartition(reference: reference, reward: reward, beta: beta) }
    @inlinable public static func gibbs(reference: [Double], reward: [Double], beta: Double) -> [Double] { D.gibbs(reference: reference, reward: reward, beta: beta) }
}
