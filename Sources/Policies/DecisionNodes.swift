import Foundation
import Linalg

/// Every policy class as a set of softmax *decision nodes* per prompt: a response is a path of
/// (node, choice) pairs, a *token* is one pair, and log p_θ(y|x) = Σ_{(n,c)∈path(y)} log π_n(c).
///
/// - tabular and log-linear: one node per prompt (its choices are the responses, π = p_θ(·|x)),
///   so every response is a single token;
/// - autoregressive: the prefix nodes of ``SequenceTree`` (V + 1 choices each).
///
/// The sampled algorithms (Flows/Sampled*) differentiate per-token losses through this layer:
/// for weights w_t on tokens,
///
///     ∇_θ Σ_t w_t log π_{n_t}(c_t) = Σ_x J_xᵀ-pullback of  G_{x,n} = Σ_{t at n} w_t (e_{c_t} − π_n),
///
/// where the node logits are θ itself (tabular, autoregressive) or Φ_x θ (log-linear), so the
/// pull-back is the identity on the prompt's block or Φ_xᵀ (``pullbackNodes(_:)``).
public struct DecisionNodes: Sendable {
    public let policy: PolicyClass
    /// Per prompt: the number of choices of each node (all nodes of a prompt have equal width).
    public let width: [Int]
    /// Per prompt: the number of nodes.
    public let nodes: [Int]
    /// Log-linear with a base measure: log h_x added to the logits (``Instance/logBase``).
    public let offset: [[Double]]?

    public init(policy: PolicyClass, responseCounts: [Int], offset: [[Double]]? = nil) {
        self.policy = policy
        self.offset = offset
        switch policy {
        case let .autoregressive(tree, prompts):
            width = [Int](repeating: tree.vocab + 1, count: prompts)
            nodes = [Int](repeating: tree.nodeCount, count: prompts)
        default:
            width = responseCounts
            nodes = [Int](repeating: 1, count: responseCounts.count)
        }
    }

    /// The number of tokens of response y (1 for the single-node classes).
    public func tokenCount(response y: Int) -> Int {
        if case let .autoregressive(tree, _) = policy { return tree.tokenCount(of: y) }
        return 1
    }

    /// The largest token count of any response (dr_grpo's max_completion_length): L or 1.
    public var maxTokens: Int {
        if case let .autoregressive(tree, _) = policy { return tree.maxLength }
        return 1
    }

    /// The (node, choice) pairs of response y, in generation order.
    public func path(response y: Int) -> [(node: Int, choice: Int)] {
        if case let .autoregressive(tree, _) = policy {
            return (tree.pathStart[y]..<tree.pathStart[y + 1]).map { (tree.pathNodes[$0], tree.pathChoices[$0]) }
        }
        return [(0, y)]
    }

    /// log π_n and π_n for every node of every prompt (per prompt, node-major), computed together.
    public struct Values: Sendable {
        public var log: [[Double]]
        public var probs: [[Double]]
    }

    /// ``Values`` at θ: one exponential per logit (`DistOf.logSoftmaxAndSoftmax`) for the
    /// single-node classes; the autoregressive class exponentiates its node log-softmax.
    public func values(_ theta: [Double]) -> Values {
        if case .autoregressive = policy {
            let l = nodeLogProbs(theta)
            return Values(log: l, probs: l.map { $0.map { Foundation.exp($0) } })
        }
        var l: [[Double]] = [], p: [[Double]] = []
        for z in linearLogits(theta) { let r = Dist.D.logSoftmaxAndSoftmax(z); l.append(r.log); p.append(r.p) }
        return Values(log: l, probs: p)
    }

    /// p_θ(·|x) per prompt from node ``Values``.
    public func sequenceProbabilities(_ v: Values) -> [[Double]] {
        if case .autoregressive = policy { return sequenceProbabilities(nodeLogProbs: v.log) }
        return v.probs
    }

    /// log π_n for every node of every prompt (per prompt, node-major), from the one log-softmax.
    public func nodeLogProbs(_ theta: [Double]) -> [[Double]] {
        switch policy {
        case let .autoregressive(tree, _):
            let o = policy.offsets
            return (0..<(o.count - 1)).map { tree.nodeLogSoftmax(theta[o[$0]..<o[$0 + 1]]) }
        default:
            return linearLogits(theta).map(Dist.logSoftmax)
        }
    }

    /// z_x = Φ_x θ (+ log h_x with a base measure) for the single-node classes.
    func linearLogits(_ theta: [Double]) -> [[Double]] {
        var z = policy.logits(theta)
        if let offset { for x in z.indices { for y in z[x].indices { z[x][y] += offset[x][y] } } }
        return z
    }

    /// p_θ(·|x) per prompt from the node log-probabilities (``nodeLogProbs(_:)``): exp of the
    /// summed token log-probabilities (autoregressive), exp of the node itself (single-node classes).
    public func sequenceProbabilities(nodeLogProbs lp: [[Double]]) -> [[Double]] {
        if case let .autoregressive(tree, _) = policy {
            return lp.map { tree.sequenceLogProbs(nodeLogProbs: $0).map { Foundation.exp($0) } }
        }
        return lp.map { $0.map { Foundation.exp($0) } }
    }

    /// Node log-probabilities of a fixed sequence distribution per prompt (the reference's
    /// conditionals): for single-node classes log q itself.
    public func nodeLogProbs(ofSequenceDistributions q: [[Double]]) -> [[Double]] {
        if case let .autoregressive(tree, _) = policy {
            return q.map { d in
                let z = tree.logits(ofSequenceDistribution: d)
                return tree.nodeLogSoftmax(z[...])
            }
        }
        return q.map { $0.map { Foundation.log($0) } }
    }

    /// ∇_θ from per-prompt node-logit gradients (node-major, `nodes[x]·width[x]` entries each).
    public func pullbackNodes(_ g: [[Double]]) -> [Double] {
        if case .autoregressive = policy { return Array(g.joined()) }
        return policy.pullback(g, theta: [])   // linear classes: Σ_x Φ_xᵀ g_x, θ not read
    }
}
