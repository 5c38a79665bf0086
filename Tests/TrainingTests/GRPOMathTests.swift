import Foundation
import Testing
import Linalg
@testable import Training
import Transformer
import TestSupport

@Suite struct SamplingTests {
    /// The truncated, renormalised distribution, computed here independently of the code.
    static func expected(_ z: [Double], temperature: Double, topP: Double) -> [Int: Double] {
        let m = z.max()!
        let e = z.map { exp(($0 - m) / temperature) }
        let s = e.reduce(0, +)
        let p = e.map { $0 / s }
        var kept: [Int: Double] = [:]
        var c = 0.0
        for i in p.indices.sorted(by: { p[$0] > p[$1] }) {
            kept[i] = p[i]; c += p[i]
            if c >= topP { break }
        }
        let k = kept.values.reduce(0, +)
        return kept.mapValues { $0 / k }
    }

    @Test func nucleusDistributionMatchesHandComputation() {
        let z: [Float] = [2.0, 1.0, 0.5, 0.0, -1.0, -3.0]
        for (t, p) in [(1.0, 1.0), (0.8, 0.9), (0.6, 0.95), (1.0, 0.5), (1.5, 0.7)] {
            let got = nucleusDistribution(logits: z, temperature: t, topP: p)
            let want = Self.expected(z.map(Double.init), temperature: t, topP: p)
            #expect(got.count == want.count, "T \(t) top_p \(p)")
            for (tok, q) in got { #expect(close(q, want[Int(tok)] ?? -1, atol: 1e-6), "T \(t) top_p \(p) token \(tok)") }
        }
        // top_p = 0.5 at T = 1 keeps only the arg-max here (p₀ ≈ 0.57); greedy at T = 0.
        #expect(nucleusDistribution(logits: z, temperature: 1, topP: 0.5).map(\.token) == [0])
        #expect(nucleusDistribution(logits: z, temperature: 0, topP: 1).map(\.token) == [0])
        // Extreme logits: no NaN. (Probabilities are Float32 softmax values: within 1e-6 of the Double ones.)
        let extreme = nucleusDistribution(logits: [1e30, -1e30, 0], temperature: 1, topP: 0.95)
        #expect(extreme.count == 1 && extreme[0].p == 1)
    }

    @Test func topPSamplingFrequenciesMatchTruncatedDistribution() {
        let z: [Float] = [2.0, 1.0, 0.5, 0.0, -1.0, -3.0]
        let (t, topP) = (0.8, 0.9)
        let want = Self.expected(z.map(Double.init), temperature: t, topP: topP)
        var rng = SeededGenerator(seed: 42)
        let n = 40_000
        var counts = [Int](repeating: 0, count: z.count)
        z.withUnsafeBufferPointer { zp in
            for _ in 0..<n { counts[Int(sampleToken(logits: zp, temperature: t, topP: topP, rng: &rng))] += 1 }
        }
        for i in z.indices {
            let p = want[i] ?? 0
            let freq = Double(counts[i]) / Double(n)
            if p == 0 {
                #expect(counts[i] == 0, "token \(i) is outside the nucleus but was drawn \(counts[i]) times")
            } else {
                let sigma = (p * (1 - p) / Double(n)).squareRoot()
                #expect(abs(freq - p) < 5 * sigma, "token \(i): frequency \(freq), probability \(p)")
            }
        }
        #expect(want.count < z.count)  // the test really truncates
    }
}

@Suite struct AdvantageTests {
    @Test func groupAdvantagesAllScaleModes() {
        // Group 1: [1, −1, 1, 1] (mean 0.5, unbiased std 1); group 2: all 1 (zero variance).
        let r: [Double] = [1, -1, 1, 1, 1, 1, 1, 1]
        let g = groupAdvantages(rewards: r, groupSize: 4, scale: .group)
        let want1 = [0.5, -1.5, 0.5, 0.5].map { $0 / (1 + 1e-4) }
        for i in 0..<4 { #expect(close(g.advantages[i], want1[i])) }
        for i in 4..<8 { #expect(g.advantages[i] == 0) }
        #expect(close(g.groupStd[0], 1) && g.groupStd[1] == 0)
        #expect(g.zeroStdFraction == 0.5)

        // Batch: std of all eight rewards: mean 0.75, Σ(r − m)² = 3.0625 + 7·0.0625 = 3.5, /7 → √0.5.
        let b = groupAdvantages(rewards: r, groupSize: 4, scale: .batch)
        let s = 0.5.squareRoot() + 1e-4
        for i in 0..<4 { #expect(close(b.advantages[i], [0.5, -1.5, 0.5, 0.5][i] / s)) }
        for i in 4..<8 { #expect(b.advantages[i] == 0) }

        let none = groupAdvantages(rewards: r, groupSize: 4, scale: .none)
        #expect(none.advantages == [0.5, -1.5, 0.5, 0.5, 0, 0, 0, 0])
        #expect(none.zeroStdFraction == 0.5)

        // A single group of two opposite rewards: ±1/(√2 + 1e-4).
        let two = groupAdvantages(rewards: [1, -1], groupSize: 2, scale: .group)
        #expect(close(two.advantages[0], 1 / (2.0.squareRoot() + 1e-4)))
        // Groups of one: std 0, advantage 0, no NaN.
        #expect(groupAdvantages(rewards: [1, -1], groupSize: 1, scale: .group).advantages == [0, 0])
    }
}

@Suite struct GRPOLossTests {
    /// Three sequences with prompt length 2 and completions of 1, 2 and 3 tokens (V = 5).
    static func batch() -> TokenBatch {
        TokenBatch.completionOnly([
            (prompt: [1, 3], completion: [2]),
            (prompt: [1, 4], completion: [3, 2]),
            (prompt: [1, 3], completion: [4, 4, 2]),
        ])
    }

    static func logits(_ b: TokenBatch, seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<(b.batch * b.length * 5)).map { _ in Float(rng.uniform() * 4 - 2) }
    }

    @Test func tokenWeightsByHand() {
        let lengths = [1, 2, 3]
        let grpo: [Double] = [1.0 / 3, 1.0 / 6, 1.0 / 9]
        let dapo: [Double] = [1.0 / 6, 1.0 / 6, 1.0 / 6]
        let dr: [Double] = [1.0 / 12, 1.0 / 12, 1.0 / 12]
        #expect(tokenWeights(lengths: lengths, lossType: .grpo, maxCompletionLength: 4) == grpo)
        #expect(tokenWeights(lengths: lengths, lossType: .dapo, maxCompletionLength: 4) == dapo)
        #expect(tokenWeights(lengths: lengths, lossType: .drGRPO, maxCompletionLength: 4) == dr)
        let withEmpty: [Double] = [0, 0.25]
        #expect(tokenWeights(lengths: [0, 2], lossType: .grpo, maxCompletionLength: 4) == withEmpty)
    }

    @Test func lossAggregationsAgainstHandComputation() {
        // Ratio 1 (old = current), β = 0: every token's loss is −A_i, so
        // grpo = mean_i(−A_i), dapo = Σ_i −A_i·|o_i| / Σ|o|, dr_grpo = Σ_i −A_i·|o_i| / (N·L_max).
        let b = Self.batch()
        let z = Self.logits(b, seed: 1)
        let a = [0.7, -1.2, 0.4]
        var c = GRPOLossConfig()
        c.maxCompletionLength = 4
        let want: [LossAggregation: Double] = [
            .grpo: -(0.7 - 1.2 + 0.4) / 3,
            .dapo: -(0.7 * 1 - 1.2 * 2 + 0.4 * 3) / 6,
            .drGRPO: -(0.7 * 1 - 1.2 * 2 + 0.4 * 3) / 12,
            .bnpo: -(0.7 * 1 - 1.2 * 2 + 0.4 * 3) / 6,
            // SAPO at ratio 1: −(4/τ)·σ(0)·A = −2A/τ per token (τ_pos 1, τ_neg 1.05), grpo's aggregation.
            .sapo: -(2 * 0.7 - 2 * 1.2 / 1.05 + 2 * 0.4) / 3,
        ]
        for t in LossAggregation.allCases where t != .cispo {   // CISPO's value −0.2·A·log π: its gradient is checked below
            c.lossType = t
            let r = grpoLoss(logits: z, batch: b, vocab: 5, advantages: a, oldLogps: nil, refLogps: nil, config: c)
            #expect(close(r.loss, want[t]!, atol: 1e-12), "\(t): \(r.loss) vs \(want[t]!)")
            #expect(r.clipRatio == 0 && r.kl == nil)
        }
    }

    @Test func klEstimatorDerivativesMatchFiniteDifferences() {
        let h = 1e-6
        for est in KLEstimator.allCases {
            for (lp, ref) in [(-0.3, -1.2), (-2.0, -0.1), (-0.7, -0.7), (-5.0, -0.01)] {
                let d = est.derivative(lp - ref)
                let fd = (est.value(lp + h - ref) - est.value(lp - h - ref)) / (2 * h)
                #expect(close(d, fd, atol: 1e-6, rtol: 1e-6), "\(est) at (\(lp), \(ref)): \(d) vs \(fd)")
            }
        }
        // Values: k1 = log π − log π_ref, k2 = ½(·)², k3 = ρ − log ρ − 1.
        #expect(close(KLEstimator.k1.value(-0.3 - -1.2), 0.9))
        #expect(close(KLEstimator.k2.value(-0.3 - -1.2), 0.405))
        #expect(close(KLEstimator.k3.value(-0.3 - -1.2), exp(-0.9) + 0.9 - 1))
    }

    @Test func clippedSurrogateCases() {
        // Inside the range: −A·r, gradient −A·r.
        let inside = clippedSurrogate(logp: log(1.1), oldLogp: 0, advantage: 2, epsilon: 0.2, epsilonHigh: 0.2)
        #expect(close(inside.loss, -2.2) && close(inside.dLogp, -2.2) && !inside.clipped)
        // r = 1.5 > 1.2 with A > 0: clipped, loss −1.2·A, no gradient.
        let high = clippedSurrogate(logp: log(1.5), oldLogp: 0, advantage: 2, epsilon: 0.2, epsilonHigh: 0.2)
        #expect(close(high.loss, -2.4) && high.dLogp == 0 && high.clipped)
        // r = 1.5 with A < 0: the unclipped term is the minimum, gradient flows.
        let highNeg = clippedSurrogate(logp: log(1.5), oldLogp: 0, advantage: -2, epsilon: 0.2, epsilonHigh: 0.2)
        #expect(close(highNeg.loss, 3) && close(highNeg.dLogp, 3) && !highNeg.clipped)
        // r = 0.5 < 0.8 with A < 0: clipped.
        let low = clippedSurrogate(logp: log(0.5), oldLogp: 0, advantage: -2, epsilon: 0.2, epsilonHigh: 0.2)
        #expect(close(low.loss, 1.6) && low.dLogp == 0 && low.clipped)
    }

    /// The full loss's logit gradient vs central differences, for every loss type and KL
    /// estimator, with ratios on both sides of the clip range and both advantage signs.
    @Test func grpoLogitGradientMatchesFiniteDifferences() {
        let b = Self.batch()
        let z = Self.logits(b, seed: 7)
        let a = [0.9, -1.1, 0.6]
        var c = GRPOLossConfig()
        c.temperature = 0.8
        c.beta = 0.3
        c.epsilon = 0.2
        let current = tokenLogProbs(logits: z, batch: b, vocab: 5, temperature: c.temperature)
        // Offsets of old log-probs: ratios exp(−offset) = 1.65, 1.105, 0.905, 0.61, 1.35, 0.74.
        let offsets = [-0.5, -0.1, 0.1, 0.5, -0.3, 0.3]
        let old = current.indices.map { current[$0] + offsets[$0 % offsets.count] }
        var rng = SeededGenerator(seed: 3)
        let ref = current.map { $0 + rng.uniform() - 0.5 }
        for lt in LossAggregation.allCases {
            for est in KLEstimator.allCases {
                c.lossType = lt
                c.klEstimator = est
                let r = grpoLoss(logits: z, batch: b, vocab: 5, advantages: a, oldLogps: old, refLogps: ref, config: c)
                if lt.surrogate != .sapo { #expect(r.clipRatio > 0 && r.clipRatio < 1, "the case must exercise both branches") }
                var worst = 0.0
                let h: Float = 1e-2
                for i in z.indices {
                    var zp = z, zm = z
                    zp[i] += h; zm[i] -= h
                    let lp = grpoLoss(logits: zp, batch: b, vocab: 5, advantages: a, oldLogps: old, refLogps: ref, config: c).loss
                    let lm = grpoLoss(logits: zm, batch: b, vocab: 5, advantages: a, oldLogps: old, refLogps: ref, config: c).loss
                    let fd = (lp - lm) / Double(zp[i] - zm[i])
                    worst = max(worst, abs(fd - Double(r.dLogits[i])))
                }
                #expect(worst < 2e-4, "\(lt) \(est): largest |analytic − finite difference| = \(worst)")
            }
        }
    }

    @Test func tokenLogProbsAreLogSoftmaxAtTemperature() {
        let b = Self.batch()
        let z = Self.logits(b, seed: 11)
        let lp = tokenLogProbs(logits: z, batch: b, vocab: 5, temperature: 0.5)
        // First masked target: sequence 0, position 1 predicts token 2.
        let row = (0..<5).map { Double(z[(0 * b.length + 1) * 5 + $0]) / 0.5 }
        let m = row.max()!
        let want = row[2] - m - log(row.map { exp($0 - m) }.reduce(0, +))
        #expect(lp.count == 6 && close(lp[0], want, atol: 1e-12))
    }
}
