import Foundation
import Linalg
import Policies

/// The exact expected update of a practical method as an ascent direction v(θ) (the flow
/// θ̇ = v(θ) is the method's small-step limit). With π_t = π_{n_t}(c_t) the probability of token t
/// of y under the policy's decision nodes (``DecisionNodes``) and ∇log π_t its score:
///
///     gibbs       v = ∇J_β                                   (β: --kl-coef, else the instance's)
///     sft         v = Σ_x q Σ_y p_D(y) ∇log p(y)              = −∇L_SFT
///     sft-seqnorm v = Σ_x q Σ_y p_D(y)/|y| ∇log p(y)
///     dft         v = Σ_x q Σ_y p_D(y) Σ_t π_t ∇log π_t
///     chord-phi   v = Σ_x q Σ_y p_D(y) Σ_t π_t(1 − π_t) ∇log π_t
///     rloo        v = ∇J − β_kl ∇KL(p‖π_ref)                 (the leave-one-out estimator's exact mean)
///     grpo, chord v = −E[∇ loss] at ratio 1, by enumeration of every group (``UpdateDistribution``)
///     luffy       v = LUFFY's mixed-policy expected update (``luffyDirection(_:)``, PracticalUpdate+LUFFY)
///
/// Every direction is pulled back from node logits, so tabular, log-linear and autoregressive
/// instances share it.
public struct PracticalUpdate: Sendable {
    public let instance: Instance
    public let settings: PracticalSettings
    public let nodes: DecisionNodes
    /// β of gibbs and rloo (the option, else the instance's β).
    public let beta: Double
    let sampled: SampledAlgorithm?
    let paths: [[(node: Int, choice: Int)]]

    public init(instance: Instance, settings: PracticalSettings) throws {
        try settings.validate()
        try instance.validateForFlows()
        self.instance = instance
        self.settings = settings
        nodes = DecisionNodes(policy: instance.policy, responseCounts: instance.responseCounts, offset: instance.logBase)
        beta = settings.klCoef ?? instance.beta
        let n = instance.responseCounts.max() ?? 0
        let nd = nodes
        paths = (0..<n).map { nd.path(response: $0) }
        if settings.method == .grpo || settings.method == .chord {
            let algo = try SampledAlgorithm(instance: instance, config: settings.sampledConfig())
            // The enumeration limit, checked once at the start (the support does not grow along a flow).
            _ = try UpdateDistribution.batchCount(algo, probs: nodes.sequenceProbabilities(nodes.values(instance.start)))
            sampled = algo
        } else {
            sampled = nil
            if settings.method == .luffy {
                let g = settings.groupSize ?? PracticalSettings.defaultGroupSize
                let off = settings.offPolicy ?? PracticalSettings.defaultOffPolicy
                var total = 0.0
                for x in instance.weights.indices {
                    total += UpdateDistribution.multisetCount(instance.responseCounts[x], g - off)
                        * UpdateDistribution.multisetCount(instance.data[x].filter { $0 > 0 }.count, off)
                }
                guard total <= Double(UpdateDistribution.maxOutcomes) else {
                    throw FlowError.invalid("exact enumeration of LUFFY's groups needs \(String(format: "%.3g", total)) groups, more than the limit of \(UpdateDistribution.maxOutcomes); lower --group-size")
                }
            }
            if beta > 0, settings.method == .gibbs || settings.method == .rloo {
                for (x, r) in instance.reference.enumerated() where r.contains(0) {
                    throw FlowError.invalid("prompts[\(x)].reference has a zero: KL(p‖π_ref) is infinite; give a positive reference or --kl-coef 0")
                }
            }
        }
    }

    /// v(θ), the method's expected ascent direction.
    public func direction(_ theta: [Double]) throws -> [Double] {
        switch settings.method {
        case .gibbs, .rloo:
            let pt = instance.point(theta)
            var g = instance.gradient(.reward, at: pt)
            if beta > 0 {
                let k = instance.gradient(.klPolicyRef, at: pt)
                for i in g.indices { g[i] -= beta * k[i] }
            }
            return g
        case .sft:
            return dataTokenDirection(theta, sequenceWeight: { _ in 1 }, tokenWeight: { _ in 1 })
        case .sftSeqnorm:
            let nd = nodes
            return dataTokenDirection(theta, sequenceWeight: { 1 / Double(nd.tokenCount(response: $0)) }, tokenWeight: { _ in 1 })
        case .dft:
            return dataTokenDirection(theta, sequenceWeight: { _ in 1 }, tokenWeight: { $0 })
        case .chordPhi:
            return dataTokenDirection(theta, sequenceWeight: { _ in 1 }, tokenWeight: { $0 * (1 - $0) })
        case .grpo, .chord:
            return try expectedSampledDirection(theta)
        case .luffy:
            return luffyDirection(theta)
        }
    }

    /// grpo and chord: E[Δθ] of one SGD step of η = 1 at ratio 1, −E[∇loss]. When the loss is a sum
    /// of per-prompt terms each depending on its own prompt's samples only (no batch scaling, no
    /// dapo aggregation), E[Σ_x ℓ_x] = Σ_x E[ℓ_x] is enumerated prompt by prompt (Σ_x instead of
    /// Π_x multisets), and chord's SFT term separately from its GRPO term (the loss is their sum);
    /// otherwise every joint batch (``UpdateDistribution/exact(_:theta:)``). The tests tie the two.
    public func expectedSampledDirection(_ theta: [Double]) throws -> [Double] {
        let algo = sampled!, cfg = algo.config
        guard cfg.scaling != .batch, !cfg.aggregation.normalisesByBatchTokens else {
            return try UpdateDistribution.exact(algo, theta: theta).expectedUpdate
        }
        let v = nodes.values(theta), old = v.log
        let probs = nodes.sequenceProbabilities(v)
        let prompts = instance.weights.count
        var out = [Double](repeating: 0, count: theta.count)
        func add(_ batch: SampledBatch, _ p: Double) {
            let g = algo.lossGradient(theta: theta, old: old, batch: batch, advantages: algo.advantages(batch, old: old), current: v)
            for i in out.indices { out[i] -= p * g[i] }
        }
        let none = [[Int]](repeating: [], count: prompts)
        for x in 0..<prompts where instance.weights[x] > 0 {
            for (s, p) in UpdateDistribution.multisets(probs[x], cfg.groupSize) {
                var rl = none; rl[x] = s
                add(SampledBatch(rl: rl, sft: none), p)
            }
            if cfg.method == .chord {
                for (s, p) in UpdateDistribution.multisets(instance.data[x], 1) {
                    var sft = none; sft[x] = s
                    add(SampledBatch(rl: none, sft: sft), p)
                }
            }
        }
        return out
    }

    /// RLOO's expected update at θ by exact enumeration of each prompt's G samples (multisets,
    /// multinomial probabilities): with a_i = r(y_i) − β(log p(y_i) − log π_ref(y_i)) held fixed
    /// (k1 in the reward, sequence level) and the leave-one-out baseline b_i = mean_{j≠i} a_j,
    ///
    ///     E[ Σ_x q(x) (1/G) Σ_i (a_i − b_i) ∇log p(y_i|x) ],  G ≥ 2.
    ///
    /// The claim `rloo-unbiased` compares it with ∇J − β∇KL(p‖π_ref); the flow of `rloo` uses the
    /// latter directly.
    public func rlooExpectedUpdate(_ theta: [Double], groupSize g: Int) -> [Double] {
        precondition(g >= 2, "RLOO needs G ≥ 2")
        let v = nodes.values(theta)
        let probs = nodes.sequenceProbabilities(v)
        var acc = v.probs.map { [Double](repeating: 0, count: $0.count) }
        for x in instance.weights.indices where instance.weights[x] > 0 {
            let w = nodes.width[x]
            var mass = [Double](repeating: 0, count: nodes.nodes[x])
            let a = probs[x].indices.map { y -> Double in
                guard probs[x][y] > 0 else { return 0 }
                let kl = beta > 0 ? Foundation.log(probs[x][y]) - Foundation.log(instance.reference[x][y]) : 0
                return instance.reward[x][y] - beta * kl
            }
            for (sample, pr) in UpdateDistribution.multisets(probs[x], g) {
                let total = sample.reduce(0) { $0 + a[$1] }
                for y in sample {
                    let adv = a[y] - (total - a[y]) / Double(g - 1)
                    let c = pr * instance.weights[x] * adv / Double(g)
                    for tok in paths[y] { acc[x][tok.node * w + tok.choice] += c; mass[tok.node] += c }
                }
            }
            for n in 0..<nodes.nodes[x] where mass[n] != 0 {
                for k in 0..<w { acc[x][n * w + k] -= mass[n] * v.probs[x][n * w + k] }
            }
        }
        return nodes.pullbackNodes(acc)
    }

    /// Σ_x q(x) Σ_y p_D(y|x) s(y) Σ_t f(π_t) ∇log π_{n_t}(c_t) (``tokenDirection(_:coefficient:tokenWeight:)``
    /// with c(x, y) = q(x) p_D(y|x) s(y)).
    public func dataTokenDirection(_ theta: [Double], sequenceWeight s: (Int) -> Double, tokenWeight f: (Double) -> Double) -> [Double] {
        let inst = instance
        return tokenDirection(theta, coefficient: { x, y in inst.weights[x] * inst.data[x][y] * s(y) }, tokenWeight: f)
    }

    /// The same for any instance, its decision nodes and response paths (shared with ``SampledAlgorithm/targetDirection(theta:mix:)``).
    static func dataTokenDirection(instance: Instance, nodes: DecisionNodes, paths: [[(node: Int, choice: Int)]], theta: [Double],
                                   sequenceWeight s: (Int) -> Double, tokenWeight f: (Double) -> Double) -> [Double] {
        tokenDirection(instance: instance, nodes: nodes, paths: paths, theta: theta,
                       coefficient: { x, y in instance.weights[x] * instance.data[x][y] * s(y) }, tokenWeight: f)
    }

    /// ``tokenDirection(instance:nodes:paths:theta:coefficient:tokenWeight:)`` on this update's instance.
    public func tokenDirection(_ theta: [Double], coefficient: (Int, Int) -> Double, tokenWeight f: (Double) -> Double) -> [Double] {
        PracticalUpdate.tokenDirection(instance: instance, nodes: nodes, paths: paths, theta: theta, coefficient: coefficient, tokenWeight: f)
    }

    /// Σ_x Σ_y c(x, y) Σ_t f(π_t) ∇log π_{n_t}(c_t), the sum over the tokens t of y (the end token
    /// included where it is emitted): node gradients G_{x,n} = Σ_{t at n} c·f(π_t)(e_{c_t} − π_n),
    /// pulled back to θ. Pairs with c = 0 are skipped. With f ≡ 1 it is Σ c(x, y) ∇log p(y|x).
    static func tokenDirection(instance: Instance, nodes: DecisionNodes, paths: [[(node: Int, choice: Int)]], theta: [Double],
                               coefficient: (Int, Int) -> Double, tokenWeight f: (Double) -> Double) -> [Double] {
        let v = nodes.values(theta)
        var acc = v.probs.map { [Double](repeating: 0, count: $0.count) }
        for x in instance.weights.indices {
            let w = nodes.width[x]
            var mass = [Double](repeating: 0, count: nodes.nodes[x])
            for y in 0..<instance.responseCounts[x] {
                let c = coefficient(x, y)
                guard c != 0 else { continue }
                for tok in paths[y] {
                    let k = tok.node * w + tok.choice
                    let u = c * f(v.probs[x][k])
                    acc[x][k] += u
                    mass[tok.node] += u
                }
            }
            for n in 0..<nodes.nodes[x] where mass[n] != 0 {
                for k in 0..<w { acc[x][n * w + k] -= mass[n] * v.probs[x][n * w + k] }
            }
        }
        return nodes.pullbackNodes(acc)
    }

    /// The flow θ̇ = v(θ) as an ``ODESystem`` (no Jacobian: explicit steppers only). An
    /// enumeration error inside the right-hand side (it cannot happen after `init`) stops the
    /// integration with a non-finite derivative.
    public var system: ODESystem {
        let me = self
        let n = instance.policy.dimension
        return ODESystem(dimension: n, rhs: { _, y, dydt in
            guard let v = try? me.direction(Array(y)) else {
                for i in 0..<n { dydt[i] = .nan }
                return
            }
            for i in 0..<n { dydt[i] = v[i] }
        })
    }
}
