import Testing
import Foundation
import Linalg
import Policies
import Flows
@testable import Claims

/// The exact expectation of one sampled update taken prompt by prompt (``PromptOutcomes``, and
/// batch-std GRPO pooled by group statistics), issue 19 item 5, against the joint enumeration of
/// every batch (``UpdateDistribution/exact(_:theta:)``) and against an enumeration of ordered
/// tuples that does not use the multinomial weights, on random small instances of the sampled
/// claims' generator, to 1e-12 relative. A multinomial weight planted without its 1/Π k_y! fails
/// both (the ordered tuples, and the joint enumeration, whose factorised twin assumes each prompt's
/// outcome probabilities sum to 1).
@Suite struct SampledExpectationTests {
    /// Random instances of `SampledGenerate` (tabular, log-linear, autoregressive in turn), two
    /// prompts each (the case the factorisation is for).
    static func instances(_ count: Int, seed: UInt64) -> [Instance] {
        var g = SeededGenerator(seed: seed)
        var out: [Instance] = []
        while out.count < count {
            let f = SampledGenerate.file(&g, family: SampledGenerate.families[out.count % 3], beta: g.uniform(0.05, 1))
            if f.prompts.count == 2, let inst = try? Instance(file: f) { out.append(inst) }
        }
        return out
    }

    /// Additive methods (group and no scaling, grpo and dr_grpo, KL in the loss or the reward,
    /// REINFORCE, sft-sgd, chord), batch scaling (pooled) and non-additive ones (dapo, μ = 2, Adam, batch
    /// scaling with β_kl > 0: the joint enumeration again).
    static var configs: [SampledConfig] {
        var out: [SampledConfig] = []
        for scaling in AdvantageScaling.allCases {
            for aggregation in LossAggregation.allCases {
                for kl in [0.0, 0.3] {
                    var c = SampledConfig(method: .grpo)
                    c.groupSize = 2; c.eta = 0.7; c.scaling = scaling; c.aggregation = aggregation; c.klCoefficient = kl
                    out.append(c)
                }
            }
        }
        var r = SampledConfig(method: .grpo); r.groupSize = 3; r.scaling = .batch; r.klCoefficient = 0; out.append(r)
        r = SampledConfig(method: .grpo); r.groupSize = 2; r.klCoefficient = 0.3; r.klPlacement = .reward; out.append(r)
        r = SampledConfig(method: .grpo); r.groupSize = 2; r.innerIterations = 2; out.append(r)
        r = SampledConfig(method: .grpo); r.groupSize = 2; r.optimizer = .adam; out.append(r)
        r = SampledConfig(method: .reinforce); r.groupSize = 3; r.baseline = true; out.append(r)
        r = SampledConfig(method: .sftSGD); r.batchSize = 2; out.append(r)
        r = SampledConfig(method: .chord); r.groupSize = 2; r.batchSize = 2; out.append(r)
        return out
    }

    static func close(_ a: [Double], _ b: [Double], _ tol: Double = 1e-12) -> Bool {
        let scale = max(1, b.map(abs).max() ?? 0)
        return zip(a, b).allSatisfy { abs($0 - $1) <= tol * scale }
    }

    /// The per-prompt (and pooled batch-std) expectation equals the joint enumeration: mean update,
    /// E‖Δθ‖² and the expected KL estimate, on 6 random instances and every configuration.
    @Test func byPromptMatchesJointEnumeration() throws {
        var additive = 0, pooled = 0
        for inst in Self.instances(6, seed: 19) {
            for c in Self.configs {
                let algo = try SampledAlgorithm(instance: inst, config: c)
                let joint = try UpdateDistribution.exact(algo, theta: inst.start)
                let fast = try UpdateDistribution.exactByPrompt(algo, theta: inst.start)
                let what = "\(inst.policy.name) \(c.method) \(c.scaling) \(c.aggregation) kl \(algo.klCoefficient)"
                #expect(Self.close(fast.expectedUpdate, joint.expectedUpdate), "\(what): mean")
                let second = { (d: UpdateDistribution) in d.traceCovariance + dot(d.expectedUpdate, d.expectedUpdate) }
                #expect(abs(second(fast) - second(joint)) <= 1e-12 * max(1, second(joint)), "\(what): E‖Δθ‖²")
                if let a = fast.klEstimateExpected, let b = joint.klEstimateExpected { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(what): KL") }
                if PromptOutcomes.isAdditive(algo) { additive += 1; #expect(fast.outcomes < joint.outcomes || joint.outcomes <= 2) }
                if c.scaling == .batch && algo.klCoefficient == 0 && c.aggregation != .dapo { pooled += 1; #expect(fast.outcomes < joint.outcomes || joint.outcomes <= 2) }
            }
        }
        #expect(additive > 0 && pooled > 0)
    }

    /// Every ordered tuple of G (and B) draws per prompt with probability Π p_y: no multinomial
    /// weight is used, so a wrong weight in the multiset enumeration is caught here.
    static func orderedTupleMean(_ algo: SampledAlgorithm, theta: [Double]) -> [Double] {
        let inst = algo.instance, c = algo.config
        let probs = algo.nodes.sequenceProbabilities(algo.nodes.values(theta))
        func tuples(_ p: [Double], _ k: Int) -> [(samples: [Int], prob: Double)] {
            (0..<k).reduce([([Int](), 1.0)]) { acc, _ in acc.flatMap { t in p.indices.map { (t.0 + [$0], t.1 * p[$0]) } } }
        }
        let perPrompt: [[(rl: [Int], sft: [Int], prob: Double)]] = inst.weights.indices.map { x in
            let rl = algo.usesPolicySamples ? tuples(probs[x], c.groupSize) : [([], 1)]
            let sft = algo.usesDataSamples ? tuples(inst.data[x], c.batchSize) : [([], 1)]
            return rl.flatMap { a in sft.map { b in (a.samples, b.samples, a.prob * b.prob) } }
        }
        var mean = theta.map { _ in 0.0 }
        var idx = [Int](repeating: 0, count: perPrompt.count)
        while true {
            var p = 1.0
            for (x, k) in idx.enumerated() { p *= perPrompt[x][k].prob }
            let batch = SampledBatch(rl: algo.usesPolicySamples ? idx.enumerated().map { perPrompt[$0][$1].rl } : [],
                                     sft: algo.usesDataSamples ? idx.enumerated().map { perPrompt[$0][$1].sft } : [])
            var state = OptimizerState()
            let next = algo.step(theta: theta, batch: batch, state: &state)
            for i in mean.indices { mean[i] += p * (next[i] - theta[i]) }
            var j = 0
            while j < idx.count { idx[j] += 1; if idx[j] < perPrompt[j].count { break }; idx[j] = 0; j += 1 }
            if j == idx.count { break }
        }
        return mean
    }

    @Test func byPromptMatchesOrderedTuples() throws {
        for inst in Self.instances(3, seed: 7) {
            for c in Self.configs where c.optimizer == .sgd && c.innerIterations == 1 && c.aggregation != .dapo && (c.klCoefficient ?? 0) == 0 {
                let algo = try SampledAlgorithm(instance: inst, config: c)
                let fast = try UpdateDistribution.exactByPrompt(algo, theta: inst.start)
                #expect(Self.close(fast.expectedUpdate, Self.orderedTupleMean(algo, theta: inst.start)), "\(inst.policy.name) \(c.method) \(c.scaling) \(c.aggregation)")
            }
        }
    }

    /// sampled-descent's E L_SFT(θ + Δθ): per prompt for the blocked classes, over the joint product
    /// of per-prompt updates for the log-linear class, against stepping every joint batch, in
    /// Double and Float80, with the mean update and E‖Δθ‖².
    @Test func expectedLossAfterUpdateMatchesJointEnumeration() throws {
        for inst in Self.instances(9, seed: 3) {
            for method in [SampledMethod.grpo, .reinforce] {
                var c = SampledConfig(method: method)
                c.groupSize = 3; c.eta = 0.5
                let algo = try SampledAlgorithm(instance: inst, config: c)
                let fast: (mean: Float80, meanSquaredNorm: Double, mean_update: [Double]) = try expectedAfterUpdate(algo, theta: inst.start, separable: true) { inst.sftLoss(at: $0) }
                let joint: (mean: Float80, meanSquaredNorm: Double, mean_update: [Double]) = try expectedAfterUpdateJointly(algo, theta: inst.start) { inst.sftLoss(at: $0) }
                let what = "\(inst.policy.name) \(method)"
                #expect(abs(fast.mean - joint.mean) <= 1e-12 * max(1, abs(joint.mean)), "\(what): E L_SFT \(fast.mean) vs \(joint.mean)")
                #expect(abs(fast.meanSquaredNorm - joint.meanSquaredNorm) <= 1e-12 * max(1, joint.meanSquaredNorm), "\(what): E‖Δθ‖²")
                #expect(Self.close(fast.mean_update, joint.mean_update), "\(what): E Δθ")
                let d: (mean: Double, meanSquaredNorm: Double, mean_update: [Double]) = try expectedAfterUpdate(algo, theta: inst.start, separable: true) { inst.sftLoss(at: $0) }
                #expect(abs(d.mean - Double(joint.mean)) <= 1e-12 * max(1, abs(Double(joint.mean))), "\(what): E L_SFT in Double")
            }
        }
    }
}
