import Foundation
import Testing
import Linalg
import Policies
@testable import Flows

/// Instances of the three classes for the sampled-algorithm tests.
enum SFixture {
    static func tabular(beta: Double = 0.3) throws -> Instance { try PFFixture.twoPrompt(beta: beta) }
    static func loglinear() throws -> Instance { try PFFixture.loglinear() }
    /// V = 2, L = 2 (7 sequences), one prompt, a non-uniform start.
    static func autoregressive(beta: Double = 0.4) throws -> Instance {
        let data = [0.05, 0.2, 0.1, 0.15, 0.1, 0.3, 0.1]
        let start = [0.2, 0.1, 0.2, 0.1, 0.15, 0.05, 0.2]
        return try Instance(file: InstanceFile(beta: beta, policy: .init(kind: "autoregressive", vocab: 2, maxLength: 2), prompts: [
            .init(weight: 1, data: data, reward: [0, 1, -0.5, 0.5, 1, -1, 0.25], reference: [1, 1, 1, 1, 1, 1, 1].map { $0 / 7 }, start: start),
        ]))
    }
    static var all: [Instance] { [try! tabular(), try! loglinear(), try! autoregressive()] }
}

@Suite struct SampledTests {
    /// REINFORCE without baseline is unbiased for ∇J_{β_kl} (KL in the reward, score function), and
    /// minibatch SFT for −∇L_SFT: E[Δθ]/η equals the exact gradient to round-off, in all three classes.
    @Test func reinforceAndSFTAreUnbiased() throws {
        for inst in SFixture.all {
            for (method, kl) in [(SampledMethod.reinforce, 0.0), (.reinforce, 0.7), (.sftSGD, 0.0)] {
                var c = SampledConfig(method: method)
                c.groupSize = 2; c.batchSize = 2; c.eta = 0.5; c.klCoefficient = kl
                let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
                #expect(d.biasNorm <= 1e-12 * (1 + d.gradientNorm), "\(method) kl \(kl) on \(inst.policy.name): bias \(d.biasNorm)")
                #expect(abs(d.cosine - 1) <= 1e-12)
                #expect(d.traceCovariance > 0)
            }
        }
    }

    /// With a log-linear base measure h (p ∝ h·e^{θᵀφ}) the sampler and the estimator see h: REINFORCE
    /// stays unbiased for the instance's exact ∇J_{β_kl}, and the sampling probabilities are the policy's.
    @Test func baseMeasureIsSeenBySamplingAndGradient() throws {
        var file = try SFixture.loglinear().file()
        file.prompts[0].base = [5, 0.2, 1]
        let inst = try Instance(file: file)
        #expect(inst.logBase != nil)
        var c = SampledConfig(method: .reinforce)
        c.groupSize = 2; c.eta = 0.5; c.klCoefficient = 0.4
        let algo = try SampledAlgorithm(instance: inst, config: c)
        let d = try UpdateDistribution.exact(algo, theta: inst.start)
        #expect(d.biasNorm <= 1e-12 * (1 + d.gradientNorm), "bias \(d.biasNorm)")
        let p = algo.nodes.sequenceProbabilities(algo.nodes.values(inst.start))
        #expect(zip(p[0], inst.point().probs[0]).map { abs($0 - $1) }.max()! <= 1e-15)
    }

    /// The group-mean baseline scales REINFORCE's expectation by (1 − 1/G).
    @Test func meanBaselineShrinksByOneMinusOneOverG() throws {
        let inst = try SFixture.tabular()
        var c = SampledConfig(method: .reinforce)
        c.groupSize = 3; c.eta = 1; c.klCoefficient = 0; c.baseline = true
        let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
        let want = d.gradient.map { $0 * 2 / 3 }
        #expect(zip(d.expectedUpdate, want).map { abs($0 - $1) }.max()! <= 1e-13)
    }

    /// k1 and k3 are unbiased estimates of KL(p‖π_ref); k2 is not (here it is visibly off).
    @Test func klEstimatorBias() throws {
        for inst in SFixture.all {
            for est in KLEstimator.allCases {
                var c = SampledConfig(method: .grpo)
                c.groupSize = 2; c.klEstimator = est; c.klCoefficient = 0.1
                let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
                let gap = abs(d.klEstimateExpected! - d.klExact!)
                if est == .k2 { #expect(gap > 1e-5, "k2 unexpectedly unbiased on \(inst.policy.name)") } else {
                    #expect(gap <= 1e-13, "\(est) biased by \(gap) on \(inst.policy.name)")
                }
            }
        }
    }

    /// GRPO's expected update against an independent enumeration over ordered G-tuples of a
    /// two-prompt tabular instance, written from the formulas alone (per-prompt softmax, TRL's
    /// advantages, clipped ratio, k3, μ = 2 inner SGD steps), to 1e-10.
    @Test(arguments: AdvantageScaling.allCases)
    func grpoMatchesIndependentEnumeration(scaling: AdvantageScaling) throws {
        let inst = try SFixture.tabular(beta: 0.3)
        var c = SampledConfig(method: .grpo)
        c.groupSize = 2; c.eta = 0.8; c.scaling = scaling; c.innerIterations = 2; c.epsilon = 0.1; c.klCoefficient = 0.3
        let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
        let ref = independentGRPO(inst, c)
        #expect(zip(d.expectedUpdate, ref).map { abs($0 - $1) }.max()! <= 1e-10)
        #expect(d.outcomes == 6 * 10)
    }

    /// KL placement `reward` (verl) and TRL's bias correction, each estimator, against the same
    /// independent enumeration (the estimators, the shaped rewards and ∂(ρk)/∂log p written out by
    /// hand there), to 1e-10; the placements give different updates.
    @Test(arguments: KLEstimator.allCases)
    func klPlacementAndBiasCorrectionMatchIndependentEnumeration(estimator: KLEstimator) throws {
        let inst = try SFixture.tabular(beta: 0.3)
        var updates: [[Double]] = []
        for (placement, bias) in [(KLPlacement.loss, false), (.loss, true), (.reward, false)] {
            var c = SampledConfig(method: .grpo)
            c.groupSize = 2; c.eta = 0.8; c.scaling = .group; c.innerIterations = 2; c.epsilon = 0.1; c.klCoefficient = 0.7
            c.klEstimator = estimator; c.klPlacement = placement; c.klBiasCorrection = bias
            let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
            let ref = independentGRPO(inst, c)
            #expect(zip(d.expectedUpdate, ref).map { abs($0 - $1) }.max()! <= 1e-10, "\(estimator) \(placement) bias \(bias)")
            updates.append(d.expectedUpdate)
        }
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            #expect(zip(updates[i], updates[j]).map { abs($0 - $1) }.max()! > 1e-6, "\(estimator): variants \(i) and \(j) coincide")
        }
    }

    func independentGRPO(_ inst: Instance, _ c: SampledConfig) -> [Double] {
        let sizes = inst.responseCounts, q = inst.weights, g = c.groupSize
        let beta = c.klCoefficient!
        // The estimators at d = log p − log π_ref, their derivatives, and ∂(ρ·k)/∂log p = ρ(k + k′).
        func k(_ d: Double) -> Double {
            switch c.klEstimator { case .k1: return d; case .k2: return d * d / 2; case .k3: return exp(-d) - 1 + d }
        }
        func dk(_ d: Double, _ rho: Double) -> Double {
            switch (c.klEstimator, c.klBiasCorrection) {
            case (.k1, false): return 1
            case (.k2, false): return d
            case (.k3, false): return 1 - exp(-d)
            case (.k1, true): return rho * (d + 1)
            case (.k2, true): return rho * (d * d / 2 + d)
            case (.k3, true): return rho * d
            }
        }
        let theta0 = inst.start
        var offsets = [0]; for n in sizes { offsets.append(offsets.last! + n) }
        func softmax(_ z: [Double]) -> [Double] { let m = z.max()!; let e = z.map { exp($0 - m) }; let s = e.reduce(0, +); return e.map { $0 / s } }
        func probs(_ th: [Double], _ x: Int) -> [Double] { softmax(Array(th[offsets[x]..<offsets[x + 1]])) }
        func tuples(_ n: Int) -> [[Int]] { (0..<g).reduce([[]]) { acc, _ in acc.flatMap { t in (0..<n).map { t + [$0] } } } }
        func std(_ v: [Double]) -> Double { let m = v.reduce(0, +) / Double(v.count); return sqrt(v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)) }
        let t0 = tuples(sizes[0]), t1 = tuples(sizes[1])
        var mean = [Double](repeating: 0, count: theta0.count)
        for a in t0 { for b in t1 {
            let samples = [a, b]
            let p0 = [probs(theta0, 0), probs(theta0, 1)]
            let prob = samples.enumerated().map { x, s in s.map { p0[x][$0] }.reduce(1, *) }.reduce(1, *)
            let rewards = samples.enumerated().map { x, s in s.map { y -> Double in
                c.klPlacement == .reward ? inst.reward[x][y] - beta * k(log(p0[x][y]) - log(inst.reference[x][y])) : inst.reward[x][y]
            } }
            let allStd = std(Array(rewards.joined()))
            let adv = rewards.map { r -> [Double] in
                let m = r.reduce(0, +) / Double(r.count)
                switch c.scaling { case .none: return r.map { $0 - m }
                case .group: return r.map { ($0 - m) / (std(r) + 1e-4) }
                case .batch: return r.map { ($0 - m) / (allStd + 1e-4) } }
            }
            var th = theta0
            for _ in 0..<c.innerIterations {
                var grad = [Double](repeating: 0, count: th.count)
                for x in 0..<2 {
                    let p = probs(th, x)
                    for (i, y) in samples[x].enumerated() {
                        let ratio = p[y] / p0[x][y]
                        let A = adv[x][i]
                        let clippedRatio = min(max(ratio, 1 - c.epsilon), 1 + c.epsilon)
                        // d/dlogp of −min(ratio A, clip A): −ratio·A when the unclipped term is the min.
                        var dl = (ratio * A <= clippedRatio * A) ? -ratio * A : 0
                        if ratio * A == clippedRatio * A { dl = -ratio * A }
                        let dlog = log(p[y]) - log(inst.reference[x][y])
                        if c.klPlacement == .loss { dl += beta * dk(dlog, ratio) }
                        for k in 0..<sizes[x] { grad[offsets[x] + k] += q[x] / Double(g) * dl * ((k == y ? 1 : 0) - p[k]) }
                    }
                }
                for k in th.indices { th[k] -= c.eta * grad[k] }
            }
            for k in th.indices { mean[k] += prob * (th[k] - theta0[k]) }
        } }
        return mean
    }

    /// On an autoregressive instance the GRPO loss gradient of a fixed batch equals central
    /// differences of the loss written independently from per-token log-probabilities, for every
    /// aggregation and KL estimator, inside and outside the clip range; the aggregations differ.
    @Test func autoregressiveTokenLevelGradient() throws {
        let inst = try SFixture.autoregressive()
        guard case let .autoregressive(tree, _) = inst.policy else { return }
        let batch = SampledBatch(rl: [[0, 3, 5, 5, 6]], sft: [[1, 4]])
        var seen: [[Double]] = []
        for agg in [LossAggregation.grpo, .dapo, .drGRPO] { for est in KLEstimator.allCases {
            var c = SampledConfig(method: .chord)
            c.groupSize = 5; c.batchSize = 2; c.aggregation = agg; c.klEstimator = est; c.klCoefficient = 0.2; c.epsilon = 0.05; c.epsilonHigh = 0.02; c.mix = 0.3
            let algo = try SampledAlgorithm(instance: inst, config: c)
            let old = algo.nodes.nodeLogProbs(inst.start)
            let adv = algo.advantages(batch)
            var theta = inst.start
            for k in theta.indices { theta[k] += 0.03 * sin(Double(k) * 1.7) }   // ratios ≠ 1, some clipped
            let refLogits = tree.logits(ofSequenceDistribution: inst.reference[0])
            func nodeLog(_ th: [Double], _ n: Int, _ c: Int) -> Double {
                let z = Array(th[(n * 3)..<(n * 3 + 3)]); let m = z.max()!
                return z[c] - m - log(z.map { exp($0 - m) }.reduce(0, +))
            }
            func tokens(_ y: Int) -> [(Int, Int)] { (tree.pathStart[y]..<tree.pathStart[y + 1]).map { (tree.pathNodes[$0], tree.pathChoices[$0]) } }
            func loss(_ th: [Double]) -> Double {
                var rl = 0.0, totalT = 0.0
                for y in batch.rl[0] { totalT += Double(tokens(y).count) }
                for (i, y) in batch.rl[0].enumerated() {
                    var s = 0.0
                    for (n, ch) in tokens(y) {
                        let lp = nodeLog(th, n, ch), o = nodeLog(inst.start, n, ch), r = nodeLog(refLogits, n, ch)
                        let ratio = exp(lp - o)
                        let a = adv[0][i]
                        s += -min(ratio * a, min(max(ratio, 1 - c.epsilon), 1 + c.epsilonHigh!) * a) + 0.2 * est.value(lp - r)
                    }
                    switch agg {
                    case .grpo: rl += s / Double(tokens(y).count) / 5
                    case .dapo: rl += s / totalT
                    case .drGRPO: rl += s / 5 / 2
                    case .bnpo, .cispo, .sapo: break   // PracticalSampledTests
                    }
                }
                var sft = 0.0
                for y in batch.sft[0] { for (n, ch) in tokens(y) { sft -= nodeLog(th, n, ch) / 2 } }
                return 0.7 * rl + 0.3 * sft
            }
            let g = algo.lossGradient(theta: theta, old: old, batch: batch, advantages: adv)
            let h = 1e-6
            let fd = theta.indices.map { k -> Double in
                var a = theta, b = theta; a[k] += h; b[k] -= h
                return (loss(a) - loss(b)) / (2 * h)
            }
            #expect(zip(g, fd).map { abs($0 - $1) }.max()! <= 1e-7, "\(agg) \(est)")
            seen.append(g)
        } }
        #expect(zip(seen[0], seen[3]).map { abs($0 - $1) }.max()! > 1e-4, "grpo and dapo aggregation coincide on an autoregressive instance")
    }

    /// Same seed, same bytes; one thread or several.
    @Test func sameSeedSameBytes() throws {
        for inst in SFixture.all {
            var c = SampledConfig(method: .grpo)
            c.eta = 0.2; c.groupSize = 4; c.optimizer = .adam
            let s = try SampledSchedule(parsing: "sft-sgd:5,grpo:10,chord:0.3:5,reinforce:3")
            let a = try runSampled(instance: inst, schedule: s, config: c, seeds: 5, seed: 11, threads: 1)
            let b = try runSampled(instance: inst, schedule: s, config: c, seeds: 5, seed: 11, threads: 2)
            #expect(a.values == b.values && a.finalThetas == b.finalThetas)
            let other = try runSampled(instance: inst, schedule: s, config: c, seeds: 5, seed: 12, threads: 2)
            #expect(other.finalThetas != a.finalThetas)
            #expect(a.steps.first == 0 && a.steps.last == 23)
        }
    }

    /// With a small η and many seeds, the mean of minibatch SFT follows the exact gradient steps
    /// within 4 standard errors (the expected update is exactly the gradient step; the trajectory's
    /// nonlinearity adds O(η²) per step, below the tolerance here).
    @Test func meanFollowsExactSteps() throws {
        let inst = try SFixture.autoregressive()
        var c = SampledConfig(method: .sftSGD)
        c.eta = 0.05; c.batchSize = 4
        let r = try runSampled(instance: inst, schedule: try SampledSchedule(parsing: "sft-sgd:20"), config: c, seeds: 400, seed: 3)
        let last = r.steps.count - 1
        let v = r.values[0][last]
        let m = v.reduce(0, +) / Double(v.count)
        let se = (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1) / Double(v.count)).squareRoot()
        #expect(abs(m - r.exact[0][last]) <= 4 * se, "mean \(m) exact \(r.exact[0][last]) se \(se)")
        #expect(r.exact[0][last] < r.exact[0][0])
    }

    @Test func enumerationLimitAndBadOptions() throws {
        let inst = try SFixture.autoregressive()
        var c = SampledConfig(method: .grpo)
        c.groupSize = 40   // C(46, 40) ≈ 9.4·10⁶ batches > the limit
        #expect(throws: FlowError.self) { try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start) }
        c.groupSize = 1
        #expect(throws: FlowError.self) { try SampledAlgorithm(instance: inst, config: c) }
        #expect(throws: ScheduleError.self) { try SampledSchedule(parsing: "grpo:0") }
        #expect(throws: ScheduleError.self) { try SampledSchedule(parsing: "chord:2:10") }
        #expect(SampledSchedule.isSampled("grpo:3,sft-sgd:2") && !SampledSchedule.isSampled("sft:2,rl:1"))
    }
}
