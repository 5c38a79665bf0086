import Foundation
import RealModule

/// The response space of an autoregressive tabular policy: token sequences over V content tokens
/// of length 0…L, each ended by an end token (EOS); after L content tokens EOS is forced.
///
/// **Sequences** (the responses of the instance) are numbered length-then-lexicographic: the empty
/// sequence, then the V sequences of length 1, then the V² of length 2, … (S = Σ_{k≤L} V^k).
/// **Nodes** are the prefixes of length < L in the same order (N = Σ_{k<L} V^k). Node n has V + 1
/// free logits θ_{n,0…V} (choice c < V: content token c; c = V: EOS), so one prompt has
/// P = N·(V + 1) parameters, stored node-major.
///
/// The policy is p(y|x) = Π_{(n,c) ∈ path(y)} π_n(c), π_n = softmax(θ_n), where path(y) lists the
/// (prefix node, choice) pairs of y: one per content token, plus (node(y), EOS) when |y| < L. Each
/// node appears at most once on a path. Every derivative of the class follows from
///
///     s_y = log p(y|x) = Σ_{(n,c)∈path(y)} log π_n(c),
///     ∂s_y/∂θ_{n,c'} = [n ∈ path(y)]·(δ_{c(n) c'} − π_n(c')),
///     ∇²s_y = −Σ_{n∈path(y)} F(π_n)   (block diagonal over nodes, F the Fisher block).
public struct SequenceTree: Sendable, Equatable {
    /// The size limit of the class: at most this many sequences per prompt (enumeration is exact).
    public static let maxSequences = 10_000

    public let vocab: Int
    public let maxLength: Int
    /// S, N.
    public let sequenceCount: Int
    public let nodeCount: Int
    /// Path of sequence y: `pathNodes[pathStart[y]..<pathStart[y+1]]` with choices `pathChoices`.
    public let pathStart: [Int]
    public let pathNodes: [Int]
    public let pathChoices: [Int]

    /// Builds the tree; nil (with the reason) when V < 1, L < 1 or S > ``maxSequences``.
    public static func make(vocab: Int, maxLength: Int) -> Result<SequenceTree, SequenceTreeError> {
        guard vocab >= 1 else { return .failure(.init("vocab must be ≥ 1, got \(vocab)")) }
        guard maxLength >= 1 else { return .failure(.init("max_length must be ≥ 1, got \(maxLength)")) }
        var s = 1, layer = 1
        for _ in 0..<maxLength {
            layer = layer.multipliedReportingOverflow(by: vocab).partialValue
            s += layer
            if s > maxSequences || layer > maxSequences {
                return .failure(.init("vocab \(vocab) and max_length \(maxLength) give more than \(maxSequences) sequences per prompt (Σ_{k≤L} V^k); the exact enumeration is limited to \(maxSequences): lower vocab or max_length"))
            }
        }
        return .success(SequenceTree(vocab: vocab, maxLength: maxLength))
    }

    private init(vocab v: Int, maxLength l: Int) {
        vocab = v; maxLength = l
        var seqs: [[Int]] = [[]]
        var layer: [[Int]] = [[]]
        for _ in 0..<l {
            layer = layer.flatMap { s in (0..<v).map { s + [$0] } }
            seqs += layer
        }
        sequenceCount = seqs.count
        nodeCount = seqs.count - layer.count
        // The index of a sequence/prefix (length-then-lexicographic).
        var firstOfLength = [0]
        var width = 1
        for _ in 0...l { firstOfLength.append(firstOfLength.last! + width); width *= v }
        func index(_ p: ArraySlice<Int>) -> Int { firstOfLength[p.count] + p.reduce(0) { $0 * v + $1 } }
        var start = [0], nodes: [Int] = [], choices: [Int] = []
        for y in seqs {
            for j in y.indices { nodes.append(index(y[..<j])); choices.append(y[j]) }
            if y.count < l { nodes.append(index(y[...])); choices.append(v) }
            start.append(nodes.count)
        }
        pathStart = start; pathNodes = nodes; pathChoices = choices
    }

    /// P = N·(V + 1), the parameters of one prompt.
    public var parametersPerPrompt: Int { nodeCount * (vocab + 1) }

    /// The content tokens of sequence y (for display and tests).
    public func tokens(of y: Int) -> [Int] {
        (pathStart[y]..<pathStart[y + 1]).compactMap { pathChoices[$0] < vocab ? pathChoices[$0] : nil }
    }

    /// The number of generated tokens of y counted by token-level loss aggregation: its content
    /// tokens plus EOS when it was sampled (|y| < L); a forced end after L tokens is not sampled.
    public func tokenCount(of y: Int) -> Int { pathStart[y + 1] - pathStart[y] }

    /// log π_n for every node of one prompt's parameter block (node-major, N·(V+1) entries), through
    /// the one log-softmax of `DistOf`.
    public func nodeLogSoftmax<T: Real & BinaryFloatingPoint>(_ block: ArraySlice<T>) -> [T] {
        let w = vocab + 1, base = block.startIndex
        var out = [T](repeating: 0, count: nodeCount * w)
        for n in 0..<nodeCount {
            let ls = DistOf<T>.logSoftmax(Array(block[(base + n * w)..<(base + (n + 1) * w)]))
            for c in 0..<w { out[n * w + c] = ls[c] }
        }
        return out
    }

    /// s_y = log p(y|x) for every sequence, from node log-probabilities (normalised: Σ_y e^{s_y} = 1).
    public func sequenceLogProbs<T: BinaryFloatingPoint>(nodeLogProbs lp: [T]) -> [T] {
        let w = vocab + 1
        return (0..<sequenceCount).map { y in
            var s: T = 0
            for k in pathStart[y]..<pathStart[y + 1] { s += lp[pathNodes[k] * w + pathChoices[k]] }
            return s
        }
    }

    /// Σ_y g_y ∇_θ s_y for one prompt, added into `out[offset...]`: for each node n,
    /// Σ_{y∋n} g_y (e_{c_y(n)} − π_n). Also returns the node masses m_n = Σ_{y∋n} g_y (the weights
    /// of the curvature term Σ_y g_y ∇²s_y = −Σ_n m_n F(π_n)).
    @discardableResult
    public func pullback(_ g: [Double], nodeProbs pi: [Double], into out: inout [Double], offset: Int) -> [Double] {
        let w = vocab + 1
        var mass = [Double](repeating: 0, count: nodeCount)
        for y in 0..<sequenceCount where g[y] != 0 {
            for k in pathStart[y]..<pathStart[y + 1] {
                out[offset + pathNodes[k] * w + pathChoices[k]] += g[y]
                mass[pathNodes[k]] += g[y]
            }
        }
        for n in 0..<nodeCount where mass[n] != 0 {
            for c in 0..<w { out[offset + n * w + c] -= mass[n] * pi[n * w + c] }
        }
        return mass
    }

    /// The Jacobian ∂s/∂θ of one prompt (S × P, row-major) at node probabilities π.
    public func jacobian(nodeProbs pi: [Double]) -> [Double] {
        let w = vocab + 1, p = parametersPerPrompt
        var j = [Double](repeating: 0, count: sequenceCount * p)
        for y in 0..<sequenceCount {
            for k in pathStart[y]..<pathStart[y + 1] {
                let n = pathNodes[k]
                for c in 0..<w { j[y * p + n * w + c] -= pi[n * w + c] }
                j[y * p + n * w + pathChoices[k]] += 1
            }
        }
        return j
    }

    /// Node logits (node-major, centred over each node's finite entries) of the sequence
    /// distribution `p`: π_n(c) = M(n·c)/M(n) with M(u) = Σ_{y extends u} p(y) and M(n·EOS) = p(n).
    /// A node of mass 0 gets uniform logits; a zero conditional the logit −∞ (refused by flows).
    public func logits(ofSequenceDistribution p: [Double]) -> [Double] {
        let w = vocab + 1
        // M over all sequences/prefixes of length ≤ L, children folded in from the longest first.
        var m = p
        for y in stride(from: sequenceCount - 1, through: 1, by: -1) {
            let path = pathStart[y]..<pathStart[y + 1]
            let parent = pathNodes[path.upperBound - 1 - (pathChoices[path.upperBound - 1] == vocab ? 1 : 0)]
            m[parent] += m[y]
        }
        var out = [Double](repeating: 0, count: parametersPerPrompt)
        for n in 0..<nodeCount where m[n] > 0 {
            var l = [Double](repeating: 0, count: w)
            for c in 0..<vocab { l[c] = Foundation.log(m[child(n, c)] / m[n]) }
            l[vocab] = Foundation.log(p[n] / m[n])
            let finite = l.filter(\.isFinite)
            let mean = finite.reduce(0, +) / Double(finite.count)
            for c in 0..<w { out[n * w + c] = l[c] - mean }
        }
        return out
    }

    /// The sequence index of node n followed by content token c.
    public func child(_ n: Int, _ c: Int) -> Int {
        // Length of n: count how many layers start at or before n.
        var first = 0, width = 1, len = 0
        while first + width <= n { first += width; width *= vocab; len += 1 }
        return first + width + (n - first) * vocab + c
    }
}

/// Why a sequence tree was refused.
public struct SequenceTreeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ s: String) { description = s }
}
