import Foundation
import Linalg
import Policies

/// The responses drawn for one step: per prompt, G indices from p_θold (`rl`) and B from p_D (`sft`).
/// Every estimator below is symmetric in the order of a prompt's samples.
public struct SampledBatch: Sendable, Equatable {
    public var rl: [[Int]]
    public var sft: [[Int]]
    public init(rl: [[Int]], sft: [[Int]]) { self.rl = rl; self.sft = sft }
}

/// Adam's moments (empty until the first step).
public struct OptimizerState: Sendable {
    public var m: [Double] = [], v: [Double] = []
    public var steps = 0
    public init() {}
}

/// One method's estimator on an instance: sampling, advantages, the per-step loss gradient
/// through ``DecisionNodes`` (so tabular, log-linear and autoregressive instances share it), and
/// the optimiser update. Deterministic given θ and the batch; all randomness is in ``sample``.
///
/// Per token t of response y_i (node n_t, choice c_t), with lp_t = log π_θ,n(c), old_t the same at
/// θ_old (the sampling parameters) and ref_t of π_ref's conditionals:
///
///     GRPO  ℓ_t = −min(ρ_t A_i, clip(ρ_t, 1−ε, 1+ε_high) A_i) + β_kl k(lp_t − ref_t),  ρ_t = e^{lp_t − old_t},
///     ∂ℓ_t/∂lp_t = −A_i ρ_t·[ρ_t unclipped in the min] + β_kl k′(lp_t − ref_t),
///
/// (``GRPOTokenTerm``, with the KL placement and bias correction of ``KLPlacement``), aggregated per
/// ``LossAggregation``; SFT ℓ = −Σ_t lp_t per sample (Lemma 1: the sequence log-loss);
/// REINFORCE ℓ = −(a_i − b) Σ_t lp_t. The gradient of Σ_t w_t lp_t is pulled back by
/// ``DecisionNodes/pullbackNodes(_:)`` from G_n = Σ_{t at n} w_t (e_{c_t} − π_n).
public struct SampledAlgorithm: Sendable {
    public let instance: Instance
    public let config: SampledConfig
    public let nodes: DecisionNodes
    /// β_kl actually used (the option, else the instance's β).
    public let klCoefficient: Double
    let refNodeLogProbs: [[Double]]
    let paths: [[(node: Int, choice: Int)]]
    let dataCDF: [[Double]]

    public init(instance: Instance, config: SampledConfig) throws {
        try config.validate()
        try instance.validateForFlows()
        self.instance = instance
        self.config = config
        let nodes = DecisionNodes(policy: instance.policy, responseCounts: instance.responseCounts, offset: instance.logBase)
        self.nodes = nodes
        klCoefficient = config.klCoefficient ?? instance.beta
        refNodeLogProbs = nodes.nodeLogProbs(ofSequenceDistributions: instance.reference)
        let maxResponses = instance.responseCounts.max() ?? 0
        if case .autoregressive = instance.policy {
            paths = (0..<maxResponses).map { nodes.path(response: $0) }
        } else {
            paths = (0..<maxResponses).map { [(0, $0)] }
        }
        dataCDF = instance.data.map(SampledAlgorithm.cumulativeDistribution)
        if klCoefficient > 0, config.method != .sftSGD {
            for (x, r) in instance.reference.enumerated() where r.contains(0) {
                throw FlowError.invalid("prompts[\(x)].reference has a zero: the KL estimators need log π_ref finite; set --kl-coef 0")
            }
        }
    }

    /// Whether the method samples from the policy / from the data.
    public var usesPolicySamples: Bool { config.method != .sftSGD && config.method != .dft }
    public var usesDataSamples: Bool { [.sftSGD, .chord, .dft, .chordPhi, .luffy].contains(config.method) }

    /// The distribution the policy samples are drawn from: p_θ(·|x) at temperature 1, else the
    /// sequence distribution of the tempered nodes π_n^{1/T}/Σ π_n^{1/T} (an autoregressive policy
    /// sampled token by token at temperature T; p^{1/T} renormalised on single-node classes).
    public func samplingProbabilities(_ v: DecisionNodes.Values) -> [[Double]] {
        let t = config.temperature
        guard t != 1 else { return nodes.sequenceProbabilities(v) }
        let tempered = v.log.enumerated().map { x, lp -> [Double] in
            let w = nodes.width[x]
            var out = lp
            for n in 0..<nodes.nodes[x] {
                var m = -Double.infinity
                for k in 0..<w { m = max(m, lp[n * w + k] / t) }
                var s = 0.0
                for k in 0..<w { s += Foundation.exp(lp[n * w + k] / t - m) }
                let lz = m + Foundation.log(s)
                for k in 0..<w { out[n * w + k] = lp[n * w + k] / t - lz }
            }
            return out
        }
        return nodes.sequenceProbabilities(nodeLogProbs: tempered)
    }

    /// Running sums of p (the inverse-CDF table of ``draw(cdf:_:)``).
    public static func cumulativeDistribution(_ p: [Double]) -> [Double] {
        var c = [Double](repeating: 0, count: p.count)
        var s = 0.0
        for i in p.indices { s += p[i]; c[i] = s }
        return c
    }

    /// The index y with cdf[y−1] ≤ u·total < cdf[y], skipping zero-probability entries.
    public static func draw(cdf: [Double], _ g: inout SeededGenerator) -> Int {
        let u = g.uniform() * cdf[cdf.count - 1]
        var lo = 0, hi = cdf.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cdf[mid] > u { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Draws one step's samples at θ (policy samples first, prompt by prompt, then data samples).
    public func sample(theta: [Double], _ g: inout SeededGenerator) -> SampledBatch {
        sample(nodes.values(theta), &g)
    }

    /// The same draws from θ's node values (``DecisionNodes/values(_:)``).
    public func sample(_ v: DecisionNodes.Values, _ g: inout SeededGenerator) -> SampledBatch {
        var rl: [[Int]] = [], sft: [[Int]] = []
        if usesPolicySamples {
            for p in samplingProbabilities(v) {
                let c = SampledAlgorithm.cumulativeDistribution(p)
                rl.append((0..<config.groupSize).map { _ in SampledAlgorithm.draw(cdf: c, &g) })
            }
        }
        if usesDataSamples {
            for c in dataCDF { sft.append((0..<config.batchSize).map { _ in SampledAlgorithm.draw(cdf: c, &g) }) }
        }
        return SampledBatch(rl: rl, sft: sft)
    }

    /// GRPO advantages of a batch (``groupAdvantages(groups:scaling:)``). Under KL placement `reward`
    /// each reward is first shaped to r − β_kl Σ_t k(old_t − ref_t) at the sampling policy's node
    /// log-probabilities `old` (required then).
    /// LUFFY's groups are the G on-policy samples followed by the B off-policy ones (``groupMembers(_:)``).
    public func advantages(_ batch: SampledBatch, old: [[Double]]? = nil) -> [[Double]] {
        let members = groupMembers(batch)
        var rewards = members.enumerated().map { x, ys in ys.map { instance.reward[x][$0] } }
        if config.klPlacement == .reward, klCoefficient > 0 {
            guard let old else { preconditionFailure("advantages: KL placement reward needs the sampling log-probabilities") }
            for (x, ys) in members.enumerated() {
                let w = nodes.width[x]
                for (i, y) in ys.enumerated() {
                    let ks = paths[y].map { $0.node * w + $0.choice }
                    rewards[x][i] -= klRewardPenalty(config.klEstimator, coefficient: klCoefficient,
                                                     oldLogps: ks.map { old[x][$0] }, refLogps: ks.map { refNodeLogProbs[x][$0] })
                }
            }
        }
        return groupAdvantages(groups: rewards, scaling: config.scaling).advantages
    }

    /// Per prompt, the responses of one advantage group: the policy samples, and for LUFFY the
    /// off-policy (data) samples after them.
    public func groupMembers(_ batch: SampledBatch) -> [[Int]] {
        guard config.method == .luffy else { return batch.rl }
        return batch.rl.indices.map { batch.rl[$0] + batch.sft[$0] }
    }

    /// Per prompt, per sampled response, per token: GRPO's token term (``GRPOTokenTerm``) at θ (node
    /// values `cur`), the sampling log-probabilities `old` and the batch's advantages.
    public func tokenTerms(current cur: DecisionNodes.Values, old: [[Double]], batch: SampledBatch, advantages adv: [[Double]]) -> [[[GRPOTokenTerm<Double>]]] {
        let lp = cur.log
        let eps = config.epsilon, epsHigh = config.epsilonHigh ?? config.epsilon, beta = klCoefficient
        return batch.rl.enumerated().map { x, ys in
            let w = nodes.width[x]
            return ys.enumerated().map { i, y in
                // GSPO: every token of the sequence shares ρ_seq = exp(mean_t (lp_t − old_t)).
                var seqLogRatio: Double? = nil
                if config.importanceSampling == .sequence, !paths[y].isEmpty {
                    seqLogRatio = paths[y].reduce(0.0) { $0 + lp[x][$1.node * w + $1.choice] - old[x][$1.node * w + $1.choice] } / Double(paths[y].count)
                }
                return paths[y].map { tok in
                    let k = tok.node * w + tok.choice
                    return GRPOTokenTerm(logp: lp[x][k], oldLogp: old[x][k], refLogp: beta > 0 ? refNodeLogProbs[x][k] : nil,
                                         advantage: adv[x][i], epsilon: eps, epsilonHigh: epsHigh, klCoefficient: beta,
                                         estimator: config.klEstimator, placement: config.klPlacement, biasCorrection: config.klBiasCorrection,
                                         surrogate: config.aggregation.surrogate, logRatio: seqLogRatio, sapo: config.sapo)
                }
            }
        }
    }

    /// The gradient of the step's loss at θ, with θ_old the sampling parameters (their node
    /// log-probabilities `old`) and the batch's advantages (one per group member, ``groupMembers(_:)``).
    /// `mix` overrides the configuration's μ (chord, chord-phi: a scheduled μ). Per method:
    /// GRPO-family tokens as above, weighted by the aggregation (LUFFY: over the G + B members, its
    /// off-policy tokens by ``LUFFYWeight``); SFT-family samples −Σ_t w(π_t) lp_t/B per sample with
    /// w of ``SFTTokenWeight`` (sft-sgd and chord plain, dft π, chord-phi π(1 − π)), w at θ, held fixed;
    /// REINFORCE and RLOO −(a_i − b_i)/G · Σ_t lp_t.
    public func lossGradient(theta: [Double], old: [[Double]], batch: SampledBatch, advantages adv: [[Double]],
                             current: DecisionNodes.Values? = nil, mix: Double? = nil) -> [Double] {
        let cur = current ?? nodes.values(theta)
        let lp = cur.log, pi = cur.probs
        let q = instance.weights
        let method = config.method
        var acc = lp.map { [Double](repeating: 0, count: $0.count) }
        var mass = (0..<lp.count).map { [Double](repeating: 0, count: nodes.nodes[$0]) }
        func add(_ x: Int, _ y: Int, _ weight: (_ t: Int, _ k: Int) -> Double) {
            let w = nodes.width[x]
            for (t, tok) in paths[y].enumerated() {
                let k = tok.node * w + tok.choice
                let u = weight(t, k)
                acc[x][k] += u
                mass[x][tok.node] += u
            }
        }
        let mu = mix ?? config.mix
        let mixed = method == .chord || method == .chordPhi
        let rlWeight = mixed ? 1 - mu : 1
        let sftWeight = mixed ? mu : (method == .sftSGD || method == .dft ? 1 : 0)
        if method.usesGroupAdvantages {
            let members = groupMembers(batch)
            let g = Double(config.groupSize + (method == .luffy ? config.batchSize : 0))   // a group's members
            var totalTokens = 0.0
            if config.aggregation.normalisesByBatchTokens {
                for (x, ys) in members.enumerated() { for y in ys { totalTokens += q[x] * Double(nodes.tokenCount(response: y)) } }
            }
            let terms = tokenTerms(current: cur, old: old, batch: batch, advantages: adv)
            let shaping = LUFFYWeight(gamma: config.luffyGamma)
            for (x, ys) in members.enumerated() where q[x] > 0 {
                for (i, y) in ys.enumerated() {
                    let c = config.aggregation.tokenWeight(promptWeight: q[x], responses: g, length: nodes.tokenCount(response: y),
                                                           totalTokens: totalTokens, maxLength: nodes.maxTokens)
                    if i < batch.rl[x].count {
                        add(x, y) { t, _ in rlWeight * c * terms[x][i][t].dLogp }
                    } else {
                        add(x, y) { _, k in c * shaping.term(probability: pi[x][k], advantage: adv[x][i]).dLogp }
                    }
                }
            }
        }
        if method == .reinforce || method == .rloo {
            let g = Double(config.groupSize), beta = klCoefficient
            for (x, ys) in batch.rl.enumerated() where q[x] > 0 {
                let w = nodes.width[x]
                // a_i = r − β_kl (log p_old − log π_ref), sequence level, fixed.
                let a = ys.map { y -> Double in
                    var kl = 0.0
                    if beta > 0 { for tok in paths[y] { kl += old[x][tok.node * w + tok.choice] - refNodeLogProbs[x][tok.node * w + tok.choice] } }
                    return instance.reward[x][y] - beta * kl
                }
                let total = a.reduce(0, +)
                for (i, y) in ys.enumerated() {
                    let b = method == .rloo ? (total - a[i]) / (g - 1) : (config.baseline ? total / g : 0)
                    add(x, y) { _, _ in -q[x] * (a[i] - b) / g }
                }
            }
        }
        if sftWeight > 0 {
            let bsz = Double(config.batchSize)
            let tw: SFTTokenWeight = method == .dft ? .dft : (method == .chordPhi ? .phi : .plain)
            for (x, ys) in batch.sft.enumerated() where q[x] > 0 {
                for y in ys { add(x, y) { _, k in -sftWeight * q[x] / bsz * tw.weight(pi[x][k]) } }
            }
        }
        // G_n = acc_n − mass_n π_n, then pulled back to θ.
        for x in acc.indices {
            let w = nodes.width[x]
            for n in 0..<nodes.nodes[x] where mass[x][n] != 0 {
                for k in 0..<w { acc[x][n * w + k] -= mass[x][n] * pi[x][n * w + k] }
            }
        }
        return nodes.pullbackNodes(acc)
    }

    /// One step from θ on a drawn batch: μ optimiser steps on the batch's loss (the ratio
    /// recomputed at each inner θ against θ_old = θ). Returns the new θ.
    public func step(theta: [Double], batch: SampledBatch, state: inout OptimizerState, nodeValues: DecisionNodes.Values? = nil,
                     mix: Double? = nil) -> [Double] {
        let oldValues = nodeValues ?? nodes.values(theta)
        let old = oldValues.log
        let adv = config.method.usesGroupAdvantages ? advantages(batch, old: old) : []
        var th = theta
        for it in 0..<config.innerIterations {
            let g = lossGradient(theta: th, old: old, batch: batch, advantages: adv, current: it == 0 ? oldValues : nil, mix: mix)
            apply(g, to: &th, state: &state)
        }
        return th
    }

    /// θ ← θ − η·g (SGD) or the Adam update with bias correction.
    public func apply(_ g: [Double], to theta: inout [Double], state: inout OptimizerState) {
        let eta = config.eta
        switch config.optimizer {
        case .sgd:
            for i in theta.indices { theta[i] -= eta * g[i] }
        case .adam:
            let b1 = 0.9, b2 = 0.999, e = 1e-8
            if state.m.isEmpty { state.m = [Double](repeating: 0, count: g.count); state.v = state.m }
            state.steps += 1
            let c1 = 1 - Foundation.pow(b1, Double(state.steps)), c2 = 1 - Foundation.pow(b2, Double(state.steps))
            for i in theta.indices {
                state.m[i] = b1 * state.m[i] + (1 - b1) * g[i]
                state.v[i] = b2 * state.v[i] + (1 - b2) * g[i] * g[i]
                theta[i] -= eta * (state.m[i] / c1) / ((state.v[i] / c2).squareRoot() + e)
            }
        }
    }

    /// The gradient of the objective the method targets at θ: ∇L_SFT-descent for sft-sgd
    /// (returned as −∇L_SFT), ∇J_{β_kl} = ∇J − β_kl ∇KL(p‖π_ref) for reinforce, grpo, rloo and luffy,
    /// (1 − μ)∇J_{β_kl} − μ∇L_SFT for chord: the ascent direction an exact method would follow. For
    /// dft and chord-phi the SFT part is the exact expected direction of their weighted SFT
    /// (``PracticalUpdate``: Σ_x q Σ_y p_D Σ_t w(π_t)∇log π_t), chord-phi's mixed with ∇J_{β_kl} by μ.
    public func targetDirection(theta: [Double], mix: Double? = nil) -> [Double] {
        let mu = mix ?? config.mix
        if config.method == .dft || config.method == .chordPhi {
            let w: (Double) -> Double = config.method == .dft ? { $0 } : { $0 * (1 - $0) }
            let sft = PracticalUpdate.dataTokenDirection(instance: instance, nodes: nodes, paths: paths, theta: theta,
                                                         sequenceWeight: { _ in 1 }, tokenWeight: w)
            guard config.method == .chordPhi else { return sft }
            let rl = rlTarget(theta)
            return rl.indices.map { (1 - mu) * rl[$0] + mu * sft[$0] }
        }
        return legacyTargetDirection(theta: theta, mix: mu)
    }

    /// μ at step j (0-based) of a phase: CHORD's schedule for chord-phi when one is set, else nil (the
    /// configuration's `mix`).
    public func scheduledMix(step j: Int) -> Double? {
        guard config.method == .chordPhi, let m = config.muSchedule else { return nil }
        return m.mu(step: j)
    }

    /// ∇J − β_kl∇KL(p‖π_ref).
    func rlTarget(_ theta: [Double]) -> [Double] {
        let pt = instance.point(theta)
        var rl = instance.gradient(.reward, at: pt)
        if klCoefficient > 0 {
            let k = instance.gradient(.klPolicyRef, at: pt)
            for i in rl.indices { rl[i] -= klCoefficient * k[i] }
        }
        return rl
    }

    func legacyTargetDirection(theta: [Double], mix: Double) -> [Double] {
        let pt = instance.point(theta)
        var rl = instance.gradient(.reward, at: pt)
        if klCoefficient > 0 {
            let k = instance.gradient(.klPolicyRef, at: pt)
            for i in rl.indices { rl[i] -= klCoefficient * k[i] }
        }
        let sft = instance.gradient(.sft, at: pt)
        switch config.method {
        case .sftSGD: return sft.map { -$0 }
        case .reinforce, .grpo, .rloo, .luffy, .dft, .chordPhi: return rl
        case .chord: return rl.indices.map { (1 - mix) * rl[$0] - mix * sft[$0] }
        }
    }
}
