import Foundation
import Linalg
import Policies

/// One sampled update, prompt by prompt: the exact expectation over M_1 + … + M_m per-prompt
/// outcomes instead of the M_1·…·M_m joint batches.
///
/// Prompts draw their samples independently (G i.i.d. policy samples and B data samples each), so
/// the joint batch distribution is the product of the per-prompt multiset distributions
/// (``UpdateDistribution/multisets(_:_:)``, multinomial weights). When the update is additive over
/// prompts, Δθ(batch) = Σ_x Δ_x(batch_x) (``isAdditive(_:)``), fix a reference batch b (each
/// prompt's first multiset) and write
///
///     Δθ(batch) = Δ(b) + Σ_x D_x(s_x),   D_x(s) = Δ(b with prompt x's samples s) − Δ(b) = Δ_x(s) − Δ_x(b_x);
///
/// the D_x(s_x) are independent, so E Δθ = Δ(b) + Σ_x E D_x and tr Cov Δθ = Σ_x tr Cov D_x. Every
/// D_x comes from the unchanged ``SampledAlgorithm/step(theta:batch:state:nodeValues:)`` (one place
/// for the estimator). With per-prompt parameter blocks (tabular, autoregressive), D_x is zero off
/// prompt x's block, so a function that is a sum of per-prompt terms of their blocks (L_SFT) has
/// E f(θ + Δθ) = f(θ′) + Σ_x E[f(θ′ + D_x) − f(θ′)], θ′ = θ + Δ(b) (``expectation(ofSeparable:)``).
public struct PromptOutcomes: Sendable {
    /// One outcome of one prompt's draws: its probability, its samples (policy, data) and D_x.
    public struct Outcome: Sendable {
        public var probability: Double
        public var rl: [Int]?
        public var sft: [Int]?
        public var delta: [Double]
    }

    public let theta: [Double]
    /// The reference batch b and its update Δ(b) = θ_b − θ.
    public let reference: SampledBatch
    public let referenceUpdate: [Double]
    /// Per prompt, every outcome (the probabilities of a prompt sum to 1).
    public let outcomes: [[Outcome]]

    /// Whether one step's update is additive over prompts: one SGD step (μ = 1; Adam and μ > 1 are
    /// not linear in the per-prompt gradients) of sft-sgd, REINFORCE (per-prompt baseline), or GRPO
    /// and CHORD with per-group or no advantage scaling and `grpo` or `dr_grpo` aggregation (the
    /// batch std and dapo's 1/Σ_j|o_j| couple the prompts). The KL term, in the loss or in the
    /// rewards, is per sample.
    public static func isAdditive(_ algo: SampledAlgorithm) -> Bool {
        let c = algo.config
        guard c.optimizer == .sgd, c.innerIterations == 1 else { return false }
        if c.method == .grpo || c.method == .chord { return c.scaling != .batch && c.aggregation != .dapo }
        return true
    }

    /// The per-prompt outcomes at θ; nil when the update is not additive (``isAdditive(_:)``).
    /// Throws when one prompt alone has more than ``UpdateDistribution/maxOutcomes`` outcomes.
    public static func make(_ algo: SampledAlgorithm, theta: [Double], nodeValues: DecisionNodes.Values? = nil) throws -> PromptOutcomes? {
        guard isAdditive(algo) else { return nil }
        let inst = algo.instance, cfg = algo.config
        let v = nodeValues ?? algo.nodes.values(theta)
        let probs = algo.nodes.sequenceProbabilities(v)
        var perPrompt: [[(prob: Double, rl: [Int]?, sft: [Int]?)]] = []
        for x in inst.weights.indices {
            let rl: [(samples: [Int]?, prob: Double)] = algo.usesPolicySamples ? UpdateDistribution.multisets(probs[x], cfg.groupSize).map { ($0.samples, $0.prob) } : [(nil, 1)]
            let sft: [(samples: [Int]?, prob: Double)] = algo.usesDataSamples ? UpdateDistribution.multisets(inst.data[x], cfg.batchSize).map { ($0.samples, $0.prob) } : [(nil, 1)]
            guard Double(rl.count) * Double(sft.count) <= Double(UpdateDistribution.maxOutcomes) else {
                throw FlowError.invalid("exact enumeration needs \(rl.count * sft.count) outcomes for prompt \(x), more than the limit of \(UpdateDistribution.maxOutcomes); lower --group-size/--batch-size or use --monte-carlo N")
            }
            var list: [(prob: Double, rl: [Int]?, sft: [Int]?)] = []
            for a in rl { for b in sft { list.append((a.prob * b.prob, a.samples, b.samples)) } }
            // The most probable outcome first: it is the reference every other outcome's update is
            // measured from, so a rare outcome with a huge update (k3's π_ref/p on a sample of
            // probability 1e-10) never becomes the term the others cancel against.
            if let top = list.indices.max(by: { list[$0].prob < list[$1].prob }) { list.swapAt(0, top) }
            perPrompt.append(list)
        }
        func batch(_ choice: (Int) -> (rl: [Int]?, sft: [Int]?)) -> SampledBatch {
            let picks = inst.weights.indices.map(choice)
            return SampledBatch(rl: algo.usesPolicySamples ? picks.map { $0.rl! } : [],
                                sft: algo.usesDataSamples ? picks.map { $0.sft! } : [])
        }
        func update(_ b: SampledBatch) -> [Double] {
            var state = OptimizerState()
            let next = algo.step(theta: theta, batch: b, state: &state, nodeValues: v)
            return zip(next, theta).map { $0 - $1 }
        }
        let ref = batch { (perPrompt[$0][0].rl, perPrompt[$0][0].sft) }
        let refUpdate = update(ref)
        let outcomes = perPrompt.indices.map { x in
            perPrompt[x].enumerated().map { k, o -> Outcome in
                guard k > 0 else { return Outcome(probability: o.prob, rl: o.rl, sft: o.sft, delta: refUpdate.map { _ in 0 }) }
                let u = update(batch { $0 == x ? (o.rl, o.sft) : (perPrompt[$0][0].rl, perPrompt[$0][0].sft) })
                return Outcome(probability: o.prob, rl: o.rl, sft: o.sft, delta: zip(u, refUpdate).map { $0 - $1 })
            }
        }
        return PromptOutcomes(theta: theta, reference: ref, referenceUpdate: refUpdate, outcomes: outcomes)
    }

    /// The reference batch with prompt x's samples replaced by those of `o`.
    public func batch(prompt x: Int, _ o: Outcome) -> SampledBatch {
        var b = reference
        if let r = o.rl { b.rl[x] = r }
        if let s = o.sft { b.sft[x] = s }
        return b
    }

    /// E D_x per prompt.
    public var promptMeans: [[Double]] {
        outcomes.map { list in
            var m = referenceUpdate.map { _ in 0.0 }
            for o in list { for i in m.indices { m[i] += o.probability * o.delta[i] } }
            return m
        }
    }

    /// E Δθ = Δ(b) + Σ_x E D_x.
    public var mean: [Double] {
        var m = referenceUpdate
        for pm in promptMeans { for i in m.indices { m[i] += pm[i] } }
        return m
    }

    /// tr Cov Δθ = Σ_x Σ_s P_x(s)·‖D_x(s) − E D_x‖² (two passes: no cancellation).
    public var traceCovariance: Double {
        var t = 0.0
        for (x, pm) in promptMeans.enumerated() {
            for o in outcomes[x] {
                var d2 = 0.0
                for i in pm.indices { let d = o.delta[i] - pm[i]; d2 += d * d }
                t += o.probability * d2
            }
        }
        return t
    }

    /// E‖Δθ‖² = ‖E Δθ‖² + tr Cov Δθ.
    public var meanSquaredNorm: Double { let m = mean; return dot(m, m) + traceCovariance }

    /// E g(batch) for g additive over prompts (g(batch) = Σ_x g_x(batch_x), e.g. the KL estimate):
    /// g(b) + Σ_x Σ_s P_x(s)·(g(b with x's samples s) − g(b)).
    public func expectation(ofAdditive g: (SampledBatch) -> Double) -> Double {
        let g0 = g(reference)
        var e = g0
        for (x, list) in outcomes.enumerated() {
            for o in list.dropFirst() { e += o.probability * (g(batch(prompt: x, o)) - g0) }
        }
        return e
    }

    /// E f(θ + Δθ) for f a sum of per-prompt terms, each a function of its prompt's parameter block
    /// only (policies with per-prompt blocks: tabular, autoregressive; check ``hasPromptBlocks``):
    /// f(θ′) + Σ_x Σ_s P_x(s)·(f(θ′ + D_x(s)) − f(θ′)), θ′ = θ + Δ(b).
    public func expectation<T: BinaryFloatingPoint>(ofSeparable f: ([Double]) -> T) -> T {
        let base = zip(theta, referenceUpdate).map { $0 + $1 }
        let f0 = f(base)
        var e = f0
        for list in outcomes {
            for o in list.dropFirst() { e += T(o.probability) * (f(zip(base, o.delta).map { $0 + $1 }) - f0) }
        }
        return e
    }

    /// E f(θ + Δθ) for any f, over the joint product of the per-prompt outcomes (one vector sum per
    /// joint batch instead of one step).
    public func expectation<T: BinaryFloatingPoint>(ofAny f: ([Double]) -> T) -> T {
        var e: T = 0
        var idx = [Int](repeating: 0, count: outcomes.count)
        let base = zip(theta, referenceUpdate).map { $0 + $1 }
        while true {
            var p = 1.0
            var th = base
            for (x, k) in idx.enumerated() {
                let o = outcomes[x][k]
                p *= o.probability
                for i in th.indices { th[i] += o.delta[i] }
            }
            e += T(p) * f(th)
            var j = 0
            while j < idx.count {
                idx[j] += 1
                if idx[j] < outcomes[j].count { break }
                idx[j] = 0; j += 1
            }
            if j == idx.count { break }
        }
        return e
    }
}

extension PolicyClass {
    /// Whether each prompt has its own parameter block (tabular, autoregressive), so that a
    /// per-prompt update moves only its block.
    public var hasPromptBlocks: Bool { !offsets.isEmpty }
}

extension UpdateDistribution {
    /// The exact distribution at θ, prompt by prompt when the update is additive over prompts
    /// (``PromptOutcomes``: M_1 + … + M_m steps instead of M_1·…·M_m) or is GRPO's with batch-std
    /// scaling and linear in the advantages (``BatchScaledOutcomes``), else ``exact(_:theta:)``.
    /// Equal to ``exact(_:theta:)`` up to round-off; `outcomes` counts the steps taken.
    public static func exactByPrompt(_ algo: SampledAlgorithm, theta: [Double]) throws -> UpdateDistribution {
        let v = algo.nodes.values(theta)
        if let b = try BatchScaledOutcomes.moments(algo, theta: theta, nodeValues: v) {
            return make(algo, theta: theta, mode: "exact", outcomes: b.steps, mean: b.mean, second: b.second, standardError: 0, kl: b.kl)
        }
        guard let po = try PromptOutcomes.make(algo, theta: theta, nodeValues: v) else { return try exact(algo, theta: theta) }
        let mean = po.mean
        let oldNodes = v.log
        let kl = algo.usesPolicySamples ? po.expectation(ofAdditive: { algo.klEstimate(batch: $0, nodeLogProbs: oldNodes) }) : nil
        return make(algo, theta: theta, mode: "exact", outcomes: 1 + po.outcomes.reduce(0) { $0 + $1.count - 1 },
                    mean: mean, second: dot(mean, mean) + po.traceCovariance, standardError: 0, kl: kl)
    }
}

/// GRPO with batch-std advantage scaling, prompt by prompt. The batch std σ_B couples the prompts,
/// but when the step is linear in the advantages (``applies(_:)``: one SGD step at θ_old = θ, so
/// ρ = 1 is never clipped and ∂ℓ/∂log p = −A; β_kl = 0; `grpo` or `dr_grpo` aggregation), the step
/// with A = (r − r̄_x)/(σ_B + 10⁻⁴) is Δθ(batch) = Δ_none(batch)/(σ_B + 10⁻⁴), Δ_none the step with
/// the unscaled advantages r − r̄_x, which is additive over prompts (``PromptOutcomes``). And σ_B,
/// the unbiased std of all N = m·G rewards, sees a prompt's group only through its mean r̄_x and
/// sum of squared deviations M2_x (Chan's pooling, no cancellation):
///
///     σ_B² = (Σ_x M2_x + Σ_x G·(r̄_x − r̄)²)/(N − 1),   r̄ = Σ_x r̄_x/m.
///
/// So each prompt's outcomes are pooled by their key (r̄_x, M2_x) into a probability P, the
/// conditional mean μ and trace covariance c of D_x, and the expectation runs over the joint keys:
/// E Δθ = Σ_k P(k)·h(k)·(Δ_none(b) + Σ_x μ_{k_x}), E‖Δθ‖² = Σ_k P(k)·h(k)²·(‖Δ_none(b) + Σ_x μ_{k_x}‖² + Σ_x c_{k_x}),
/// h = 1/(σ_B + 10⁻⁴), the D_x being independent given the keys.
enum BatchScaledOutcomes {
    /// Whether the step is linear in the advantages with batch scaling (see the type).
    static func applies(_ algo: SampledAlgorithm) -> Bool {
        let c = algo.config
        return c.method == .grpo && c.scaling == .batch && c.optimizer == .sgd && c.innerIterations == 1 && c.aggregation != .dapo
            && algo.klCoefficient == 0 && c.epsilon >= 0 && (c.epsilonHigh ?? c.epsilon) >= 0
    }

    struct Key: Hashable { let mean: Double, m2: Double }
    struct Pool { var key: Key; var probability: Double; var mu: [Double]; var covariance: Double }

    /// E Δθ, E‖Δθ‖², the expected KL estimate at θ and the steps taken; nil when ``applies(_:)`` is false.
    static func moments(_ algo: SampledAlgorithm, theta: [Double], nodeValues v: DecisionNodes.Values) throws -> (mean: [Double], second: Double, kl: Double, steps: Int)? {
        guard applies(algo) else { return nil }
        var c = algo.config
        c.scaling = .none
        let none = try SampledAlgorithm(instance: algo.instance, config: c)
        guard let po = try PromptOutcomes.make(none, theta: theta, nodeValues: v) else { return nil }
        let reward = algo.instance.reward
        let pools: [[Pool]] = po.outcomes.enumerated().map { x, list in
            var pools: [Pool] = [], at: [Key: Int] = [:], members: [[Int]] = []
            for (k, o) in list.enumerated() {
                let r = (o.rl ?? []).map { reward[x][$0] }.sorted()
                let m = r.reduce(0, +) / Double(max(r.count, 1))
                let key = Key(mean: m, m2: r.reduce(0) { $0 + ($1 - m) * ($1 - m) })
                if let i = at[key] { members[i].append(k) } else {
                    at[key] = pools.count; members.append([k])
                    pools.append(Pool(key: key, probability: 0, mu: theta.map { _ in 0 }, covariance: 0))
                }
            }
            for i in pools.indices {
                let p = members[i].reduce(0) { $0 + list[$1].probability }
                guard p > 0 else { continue }
                var mu = theta.map { _ in 0.0 }
                for k in members[i] { for j in mu.indices { mu[j] += list[k].probability * list[k].delta[j] } }
                for j in mu.indices { mu[j] /= p }
                var cov = 0.0
                for k in members[i] { var d2 = 0.0; for j in mu.indices { let d = list[k].delta[j] - mu[j]; d2 += d * d }; cov += list[k].probability * d2 }
                pools[i].probability = p; pools[i].mu = mu; pools[i].covariance = cov / p
            }
            return pools.filter { $0.probability > 0 }
        }
        let g = Double(algo.config.groupSize), m = Double(pools.count), n = g * m
        var mean = theta.map { _ in 0.0 }, second = 0.0
        var idx = [Int](repeating: 0, count: pools.count)
        while !pools.contains(where: \.isEmpty) {
            var p = 1.0, rbar = 0.0
            for (x, k) in idx.enumerated() { p *= pools[x][k].probability; rbar += pools[x][k].key.mean }
            rbar /= m
            var m2 = 0.0, cov = 0.0
            var u = po.referenceUpdate
            for (x, k) in idx.enumerated() {
                let q = pools[x][k]
                m2 += q.key.m2 + g * (q.key.mean - rbar) * (q.key.mean - rbar)
                cov += q.covariance
                for j in u.indices { u[j] += q.mu[j] }
            }
            let h = 1 / ((n > 1 ? (m2 / (n - 1)).squareRoot() : 0) + 1e-4)
            for j in mean.indices { mean[j] += p * h * u[j] }
            second += p * h * h * (dot(u, u) + cov)
            var j = 0
            while j < idx.count {
                idx[j] += 1
                if idx[j] < pools[j].count { break }
                idx[j] = 0; j += 1
            }
            if j == idx.count { break }
        }
        let old = v.log
        let kl = po.expectation(ofAdditive: { algo.klEstimate(batch: $0, nodeLogProbs: old) })
        return (mean, second, kl, 1 + po.outcomes.reduce(0) { $0 + $1.count - 1 })
    }
}
