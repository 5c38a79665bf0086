import Foundation
import Linalg
import Policies

/// The distribution of one sampled update Δθ at θ, exactly (by enumeration of every batch) or by
/// Monte Carlo.
///
/// Exact: a prompt's G policy samples (and B data samples) are i.i.d., and every estimator is
/// symmetric in their order, so it suffices to enumerate multisets (count vectors k over the
/// support, Σk = G) with multinomial probability G!/Π k_y! · Π p_y^{k_y}; prompts are independent,
/// so the outcomes are the product over prompts. E[Δθ] = Σ P(batch)·Δθ(batch) and
/// tr Cov[Δθ] = E‖Δθ‖² − ‖E Δθ‖². The enumeration is refused beyond ``maxOutcomes`` batches.
public struct UpdateDistribution: Sendable, Codable {
    /// The largest number of joint batches enumerated exactly.
    public static let maxOutcomes = 2_000_000
    /// The most draws `monteCarlo` accepts: 10⁸ draws already put the standard error at 10⁻⁴ of
    /// the update's spread (it falls as 1/√N), and take minutes; more would run for hours silently.
    public static let maxDraws = 100_000_000

    public var method: String
    /// "exact" or "monte-carlo".
    public var mode: String
    /// Batches enumerated (exact) or drawn (Monte Carlo).
    public var outcomes: Int
    public var eta: Double
    public var expectedUpdate: [Double]
    /// The ascent direction of the targeted objective (``SampledAlgorithm/targetDirection(theta:)``).
    public var gradient: [Double]
    /// E[Δθ]/η − gradient.
    public var bias: [Double]
    public var biasNorm: Double
    public var gradientNorm: Double
    /// cos∠(E[Δθ], gradient) (0 when either is below 1e-300).
    public var cosine: Double
    public var traceCovariance: Double
    /// Monte Carlo: the standard error of E[Δθ] in norm, √(tr Cov / N); exact: 0.
    public var standardErrorNorm: Double
    /// The expectation of the KL estimate Σ_x q(x) (1/G) Σ_i Σ_t k(lp_t − ref_t) over the policy
    /// samples, and the exact E_x KL(p_θ‖π_ref) (nil for sft-sgd).
    public var klEstimateExpected: Double?
    public var klExact: Double?
    /// GRPO's KL term alone: its expected gradient and the divergence it follows (exact mode, grpo
    /// and chord with β_kl > 0; set by `sftrl update`, see ``KLGradientReport``).
    public var klGradient: KLGradientReport?

    enum CodingKeys: String, CodingKey {
        case method, mode, outcomes, eta, bias, cosine, gradient
        case expectedUpdate = "expected_update", biasNorm = "bias_norm", gradientNorm = "gradient_norm"
        case traceCovariance = "trace_covariance", standardErrorNorm = "standard_error_norm"
        case klEstimateExpected = "kl_estimate_expected", klExact = "kl_exact", klGradient = "kl_gradient"
    }

    /// The number of multisets of size k over n items, C(n + k − 1, k), as a Double.
    public static func multisetCount(_ n: Int, _ k: Int) -> Double {
        var c = 1.0
        for i in 0..<k { c = c * Double(n + i) / Double(i + 1) }
        return c.rounded()
    }

    /// Every multiset of size k over the indices where p > 0, with its probability (sorted samples).
    static func multisets(_ p: [Double], _ k: Int) -> [(samples: [Int], prob: Double)] {
        let support = p.indices.filter { p[$0] > 0 }
        var out: [(samples: [Int], prob: Double)] = []
        var logFact = [0.0]
        for i in stride(from: 1, through: k, by: 1) { logFact.append(logFact[i - 1] + Foundation.log(Double(i))) }
        var counts = [Int](repeating: 0, count: support.count)
        func rec(_ j: Int, _ left: Int) {
            if j == support.count - 1 {
                counts[j] = left
                var lp = logFact[k]
                var s: [Int] = []
                for (i, c) in counts.enumerated() where c > 0 {
                    lp += Double(c) * Foundation.log(p[support[i]]) - logFact[c]
                    s += [Int](repeating: support[i], count: c)
                }
                out.append((s, Foundation.exp(lp)))
                return
            }
            for c in stride(from: left, through: 0, by: -1) { counts[j] = c; rec(j + 1, left - c) }
        }
        if !support.isEmpty { rec(0, k) }
        return out
    }

    /// Calls `body` with every joint batch at θ and its probability (the probabilities sum to 1).
    /// Throws when there are more than ``maxOutcomes`` batches (the message names the count and
    /// suggests `--monte-carlo`).
    public static func forEachBatch(_ algo: SampledAlgorithm, theta: [Double], _ body: (SampledBatch, Double) -> Void) throws {
        let inst = algo.instance, cfg = algo.config
        let probs = algo.samplingProbabilities(algo.nodes.values(theta))
        _ = try batchCount(algo, probs: probs)
        let rlSets = algo.usesPolicySamples ? probs.map { multisets($0, cfg.groupSize) } : []
        let sftSets = algo.usesDataSamples ? inst.data.map { multisets($0, cfg.batchSize) } : []
        // Odometer over (rl multiset, sft multiset) per prompt.
        let lists = rlSets + sftSets
        var idx = [Int](repeating: 0, count: lists.count)
        while true {
            var p = 1.0
            var rl: [[Int]] = [], sft: [[Int]] = []
            for (j, l) in lists.enumerated() {
                p *= l[idx[j]].prob
                if j < rlSets.count { rl.append(l[idx[j]].samples) } else { sft.append(l[idx[j]].samples) }
            }
            body(SampledBatch(rl: rl, sft: sft), p)
            var j = 0
            while j < lists.count {
                idx[j] += 1
                if idx[j] < lists[j].count { break }
                idx[j] = 0; j += 1
            }
            if j == lists.count { break }
        }
    }

    /// The number of joint batches at policy probabilities `probs`, or the refusal beyond ``maxOutcomes``.
    static func batchCount(_ algo: SampledAlgorithm, probs: [[Double]]) throws -> Double {
        let inst = algo.instance, cfg = algo.config
        var total = 1.0
        for x in inst.weights.indices {
            if algo.usesPolicySamples { total *= multisetCount(probs[x].filter { $0 > 0 }.count, cfg.groupSize) }
            if algo.usesDataSamples { total *= multisetCount(inst.data[x].filter { $0 > 0 }.count, cfg.batchSize) }
        }
        guard total <= Double(maxOutcomes) else {
            throw FlowError.invalid("exact enumeration needs \(String(format: "%.3g", total)) joint batches, more than the limit of \(maxOutcomes); lower --group-size/--batch-size or use --monte-carlo N")
        }
        return total
    }

    /// The exact distribution at θ (see ``forEachBatch(_:theta:_:)`` for the limit).
    public static func exact(_ algo: SampledAlgorithm, theta: [Double]) throws -> UpdateDistribution {
        var acc = Accumulator(dimension: theta.count)
        var klAcc = 0.0, count = 0
        let v = algo.nodes.values(theta)
        let oldNodes = v.log
        try forEachBatch(algo, theta: theta) { batch, p in
            var state = OptimizerState()
            let next = algo.step(theta: theta, batch: batch, state: &state, nodeValues: v)
            acc.add(zip(next, theta).map { $0 - $1 }, weight: p)
            if algo.usesPolicySamples { klAcc += p * algo.klEstimate(batch: batch, nodeLogProbs: oldNodes) }
            count += 1
        }
        return make(algo, theta: theta, mode: "exact", outcomes: count, mean: acc.mean, second: acc.secondMoment,
                    standardError: 0, kl: algo.usesPolicySamples ? klAcc : nil)
    }

    /// N batches drawn with `SeededGenerator(seed:)` (the same batches for the same seed).
    public static func monteCarlo(_ algo: SampledAlgorithm, theta: [Double], draws n: Int, seed: UInt64) throws -> UpdateDistribution {
        guard n >= 2 else { throw FlowError.invalid("--monte-carlo needs N ≥ 2 draws, got \(n)") }
        guard n <= maxDraws else { throw FlowError.invalid("--monte-carlo \(n) is above the limit of \(maxDraws) draws (the standard error falls as 1/√N)") }
        var g = SeededGenerator(seed: seed)
        var acc = Accumulator(dimension: theta.count)
        var klAcc = 0.0
        let v = algo.nodes.values(theta)
        let oldNodes = v.log
        for _ in 0..<n {
            let batch = algo.sample(v, &g)
            var state = OptimizerState()
            let next = algo.step(theta: theta, batch: batch, state: &state, nodeValues: v)
            acc.add(zip(next, theta).map { $0 - $1 }, weight: 1 / Double(n))
            if algo.usesPolicySamples { klAcc += algo.klEstimate(batch: batch, nodeLogProbs: oldNodes) / Double(n) }
        }
        let tr = acc.secondMoment - dot(acc.mean, acc.mean)
        return make(algo, theta: theta, mode: "monte-carlo", outcomes: n, mean: acc.mean, second: acc.secondMoment,
                    standardError: (max(tr, 0) * Double(n) / Double(n - 1) / Double(n)).squareRoot(), kl: algo.usesPolicySamples ? klAcc : nil)
    }

    static func make(_ algo: SampledAlgorithm, theta: [Double], mode: String, outcomes: Int, mean: [Double], second: Double,
                     standardError: Double, kl: Double?) -> UpdateDistribution {
        let eta = algo.config.eta
        let grad = algo.targetDirection(theta: theta)
        let bias = mean.indices.map { mean[$0] / eta - grad[$0] }
        let nm = norm(mean), ng = norm(grad)
        let cos = nm > 1e-300 && ng > 1e-300 ? dot(mean, grad) / (nm * ng) : 0
        let klExact = kl == nil ? nil : algo.instance.value(.klPolicyRef, at: algo.instance.point(theta))
        return UpdateDistribution(method: algo.config.method.rawValue, mode: mode, outcomes: outcomes, eta: eta, expectedUpdate: mean,
                                  gradient: grad, bias: bias, biasNorm: norm(bias), gradientNorm: ng, cosine: cos,
                                  traceCovariance: max(second - dot(mean, mean), 0), standardErrorNorm: standardError,
                                  klEstimateExpected: kl, klExact: klExact)
    }

    struct Accumulator {
        var mean: [Double]
        var secondMoment = 0.0
        init(dimension: Int) { mean = [Double](repeating: 0, count: dimension) }
        mutating func add(_ v: [Double], weight w: Double) {
            for i in v.indices { mean[i] += w * v[i] }
            secondMoment += w * dot(v, v)
        }
    }
}

extension SampledAlgorithm {
    /// The batch's KL estimate Σ_x q(x) (1/G) Σ_i Σ_t k(lp_t − ref_t) at the given node
    /// log-probabilities (the sampling policy's).
    public func klEstimate(batch: SampledBatch, nodeLogProbs lp: [[Double]]) -> Double {
        var s = 0.0
        for (x, ys) in batch.rl.enumerated() where instance.weights[x] > 0 {
            let w = nodes.width[x]
            var sx = 0.0
            for y in ys {
                for tok in paths[y] {
                    let k = tok.node * w + tok.choice
                    sx += config.klEstimator.value(lp[x][k] - refNodeLogProbs[x][k])
                }
            }
            s += instance.weights[x] * sx / Double(ys.count)
        }
        return s
    }
}
