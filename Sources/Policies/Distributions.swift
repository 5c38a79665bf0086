import Foundation

/// Probability-level functions on finite distributions (arrays that sum to 1).
///
/// Conventions: natural logarithms; 0·log 0 = 0; a KL divergence KL(p‖q) with p(y) > 0 = q(y) is +∞.
/// Everything that can underflow is computed in log space (log-sum-exp).
public enum Dist {
    /// log Σᵢ exp(xᵢ), stable for any finite input; −∞ for an empty array or all −∞ entries.
    public static func logSumExp(_ x: [Double]) -> Double {
        guard let m = x.max(), m > -Double.infinity else { return -Double.infinity }
        if m == .infinity { return .infinity }
        var s = 0.0
        for v in x { s += Foundation.exp(v - m) }
        return m + Foundation.log(s)
    }

    /// log softmax(z)ᵢ = zᵢ − log Σ exp(z). Exact for logits of any size (±50 and beyond).
    public static func logSoftmax(_ z: [Double]) -> [Double] {
        let l = logSumExp(z)
        return z.map { $0 - l }
    }

    /// softmax(z)ᵢ = exp(zᵢ − log Σ exp(z)).
    public static func softmax(_ z: [Double]) -> [Double] { logSoftmax(z).map { Foundation.exp($0) } }

    /// Natural logarithm of each entry (log 0 = −∞).
    public static func log(_ p: [Double]) -> [Double] { p.map { Foundation.log($0) } }

    /// E_p[f] = Σ p(y) f(y).
    public static func expectation(_ p: [Double], _ f: [Double]) -> Double {
        precondition(p.count == f.count)
        var s = 0.0
        for i in p.indices where p[i] != 0 { s += p[i] * f[i] }
        return s
    }

    /// Total variation TV(p, q) = ½ Σ |p(y) − q(y)| (paper Eq. 3).
    public static func tv(_ p: [Double], _ q: [Double]) -> Double {
        precondition(p.count == q.count)
        var s = 0.0
        for i in p.indices { s += abs(p[i] - q[i]) }
        return 0.5 * s
    }

    /// KL(p‖q) = Σ p log(p/q), with 0·log(0/q) = 0 and +∞ when p(y) > 0 = q(y).
    /// Computed from log-probabilities when given (`logP`, `logQ`) to avoid underflow.
    public static func kl(_ p: [Double], _ q: [Double], logP: [Double]? = nil, logQ: [Double]? = nil) -> Double {
        precondition(p.count == q.count)
        var s = 0.0
        for i in p.indices where p[i] > 0 {
            if q[i] <= 0 && (logQ == nil || logQ![i] == -.infinity) { return .infinity }
            let lp = logP?[i] ?? Foundation.log(p[i])
            let lq = logQ?[i] ?? Foundation.log(q[i])
            s += p[i] * (lp - lq)
        }
        return Swift.max(s, 0)
    }

    /// Shannon entropy H(p) = −Σ p log p (nats).
    public static func entropy(_ p: [Double], logP: [Double]? = nil) -> Double {
        var s = 0.0
        for i in p.indices where p[i] > 0 { s -= p[i] * (logP?[i] ?? Foundation.log(p[i])) }
        return s
    }

    /// Cross-entropy −Σ p log q (the per-prompt SFT loss with p = p_D, q = p_θ); +∞ when p > 0 = q.
    public static func crossEntropy(_ p: [Double], _ q: [Double], logQ: [Double]? = nil) -> Double {
        var s = 0.0
        for i in p.indices where p[i] > 0 {
            let lq = logQ?[i] ?? Foundation.log(q[i])
            if lq == -.infinity { return .infinity }
            s -= p[i] * lq
        }
        return s
    }

    /// log Z_β = log E_{y∼ref}[exp(r(y)/β)] (paper Eq. 8), computed by log-sum-exp over the support of ref.
    public static func logPartition(reference: [Double], reward: [Double], beta: Double) -> Double {
        precondition(beta > 0, "the Gibbs partition function needs β > 0")
        var terms: [Double] = []
        terms.reserveCapacity(reference.count)
        for i in reference.indices where reference[i] > 0 { terms.append(Foundation.log(reference[i]) + reward[i] / beta) }
        return logSumExp(terms)
    }

    /// The Gibbs tilt p*(y) = ref(y)·exp(r(y)/β)/Z_β (paper Eq. 8), the maximiser of E_p r − β KL(p‖ref)
    /// over the simplex. Zeros of ref stay zeros.
    public static func gibbs(reference: [Double], reward: [Double], beta: Double) -> [Double] {
        let lz = logPartition(reference: reference, reward: reward, beta: beta)
        return reference.indices.map { i in
            reference[i] > 0 ? Foundation.exp(Foundation.log(reference[i]) + reward[i] / beta - lz) : 0
        }
    }

    /// True when p has non-negative finite entries summing to 1 within `tolerance`.
    public static func isDistribution(_ p: [Double], tolerance: Double = 1e-9) -> Bool {
        !p.isEmpty && p.allSatisfy { $0.isFinite && $0 >= 0 } && abs(p.reduce(0, +) - 1) <= tolerance
    }
}
