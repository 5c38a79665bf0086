import Foundation
import Linalg
import RealModule

/// A softmax policy class whose logits are linear in the parameters: z_x = Φ_x θ, p_θ(·|x) = softmax(z_x).
///
/// - `tabular(sizes:)`: one free logit per (x, y); Φ is the identity, θ is the concatenation of the
///   per-prompt logit vectors (prompt x occupies `offsets[x]..<offsets[x+1]`).
/// - `loglinear(features:)`: p_θ(y|x) ∝ exp(θᵀφ(x, y)); Φ_x is the n_x × d feature matrix of prompt x.
///
/// - `autoregressive(tree:prompts:)`: token sequences (``SequenceTree``), p(y|x) = Π_j π_{x,n_j}(y_j),
///   one free logit per (prompt, prefix, token); prompt x occupies `offsets[x]..<offsets[x+1]`.
///   Its "logits" are the normalised sequence log-probabilities z_{x,y} = s_{x,y} = log p(y|x),
///   which are not linear in θ.
///
/// Every θ-space derivative is a pull-back of a logit-space one through the Jacobian
/// J_x = ∂z_x/∂θ (linear classes: J_x = Φ_x). Because softmax(z_x) = p_θ(·|x) exactly in all three
/// classes (for the autoregressive one since z is normalised and pᵀJ_x = 0), for f(θ) = g(z(θ)),
///
///     ∇_θ f = Σ_x J_xᵀ ∇_{z_x} g,     ∇²_θ f = Σ_x J_xᵀ (∇²_{z_x} g) J_x + Σ_{x,y} (∇_{z_x} g)_y ∇²_θ z_{x,y},
///
/// the last term vanishing for linear classes and equal to −Σ_n m_n F(π_n) for the autoregressive
/// one (``SequenceTree``). In particular ∇_θ log p_θ(y|x) = J_xᵀ(e_y − p_x) in every class. This is
/// the only place those pull-backs are written.
public enum PolicyClass: Sendable {
    case tabular(sizes: [Int])
    case loglinear(features: [Matrix])
    case autoregressive(tree: SequenceTree, prompts: Int)

    /// The number of parameters.
    public var dimension: Int {
        switch self {
        case let .tabular(sizes): return sizes.reduce(0, +)
        case let .loglinear(f): return f.first?.cols ?? 0
        case let .autoregressive(tree, prompts): return tree.parametersPerPrompt * prompts
        }
    }

    /// Tabular and autoregressive: the start of each prompt's block (with a final entry = dimension).
    public var offsets: [Int] {
        let sizes: [Int]
        switch self {
        case let .tabular(s): sizes = s
        case let .autoregressive(tree, prompts): sizes = [Int](repeating: tree.parametersPerPrompt, count: prompts)
        case .loglinear: return []
        }
        var o = [0]
        for s in sizes { o.append(o.last! + s) }
        return o
    }

    public var name: String {
        switch self {
        case .tabular: return "tabular"
        case .loglinear: return "loglinear"
        case .autoregressive: return "autoregressive"
        }
    }

    /// Tabular: (prompt, response) of parameter k; autoregressive: (prompt, index in the prompt's
    /// block); log-linear: (nil, k).
    public func location(ofParameter k: Int) -> (Int?, Int) {
        if case .loglinear = self { return (nil, k) }
        let o = offsets
        let i = (0..<(o.count - 1)).first { o[$0 + 1] > k }!
        return (i, k - o[i])
    }

    /// z_x = Φ_x θ for every prompt (autoregressive: the sequence log-probabilities s_x).
    public func logits(_ theta: [Double]) -> [[Double]] {
        switch self {
        case .tabular:
            let o = offsets
            return (0..<(o.count - 1)).map { Array(theta[o[$0]..<o[$0 + 1]]) }
        case let .loglinear(features):
            return features.map { matvec($0, theta) }
        case let .autoregressive(tree, _):
            return sequenceLogProbs(tree, theta)
        }
    }

    /// z_x at any precision (plain loops; the Double path above uses BLAS).
    @_specialize(exported: true, where T == Double)
    @_specialize(exported: true, where T == Float80)
    public func logits<T: Real & BinaryFloatingPoint>(_ theta: [T]) -> [[T]] {
        switch self {
        case .tabular:
            let o = offsets
            return (0..<(o.count - 1)).map { Array(theta[o[$0]..<o[$0 + 1]]) }
        case let .loglinear(features):
            return features.map { f in (0..<f.rows).map { y in (0..<f.cols).reduce(T(0)) { $0 + T(f[y, $1]) * theta[$1] } } }
        case let .autoregressive(tree, _):
            return sequenceLogProbs(tree, theta)
        }
    }

    private func sequenceLogProbs<T: Real & BinaryFloatingPoint>(_ tree: SequenceTree, _ theta: [T]) -> [[T]] {
        let o = offsets
        return (0..<(o.count - 1)).map { tree.sequenceLogProbs(nodeLogProbs: tree.nodeLogSoftmax(theta[o[$0]..<o[$0 + 1]])) }
    }

    /// Autoregressive: π_n for every node of prompt x (node-major); empty for the other classes.
    public func nodeProbabilities(_ theta: [Double], prompt x: Int) -> [Double] {
        guard case let .autoregressive(tree, _) = self else { return [] }
        let o = offsets
        return tree.nodeLogSoftmax(theta[o[x]..<o[x + 1]]).map { Foundation.exp($0) }
    }

    /// A global bound on the smoothness of L_SFT: ∇²L_SFT = Σ_x q(x) Φ_xᵀ F(p_x) Φ_x with
    /// λ_max(F(p)) ≤ ½ (Gershgorin: row j of diag p − ppᵀ has absolute sum 2p_j(1 − p_j) ≤ ½), so
    /// L_S ≤ ½ λ_max(Σ_x q(x) Φ_xᵀΦ_x) at every θ (tabular: ½ max_x q(x)).
    public func sftSmoothnessBound(weights: [Double]) throws -> Double {
        switch self {
        case .tabular: return 0.5 * (weights.max() ?? 0)
        case .autoregressive:
            // ∇²L_SFT = Σ_x q(x) Σ_n D_x(n) F(π_n) with D_x(n) ≤ 1 the p_D-mass reaching node n.
            return 0.5 * (weights.max() ?? 0)
        case let .loglinear(features):
            let g = pullback(features.indices.map { weights[$0] * Matrix.identity(features[$0].rows) }, theta: [])
            return 0.5 * (try symmetricEigen(g).values.last ?? 0)
        }
    }

    /// p_θ(·|x) for every prompt.
    public func probabilities(_ theta: [Double]) -> [[Double]] { logits(theta).map(Dist.softmax) }

    /// Σ_x J_xᵀ g_x: the θ-gradient from per-prompt logit gradients at θ (θ is only read by the
    /// autoregressive class, whose Jacobian depends on it).
    public func pullback(_ g: [[Double]], theta: [Double]) -> [Double] {
        switch self {
        case .tabular: return Array(g.joined())
        case let .autoregressive(tree, _):
            let o = offsets
            var out = [Double](repeating: 0, count: dimension)
            for x in g.indices { tree.pullback(g[x], nodeProbs: nodeProbabilities(theta, prompt: x), into: &out, offset: o[x]) }
            return out
        case let .loglinear(features):
            var out = [Double](repeating: 0, count: dimension)
            for (x, f) in features.enumerated() {
                for y in 0..<f.rows where g[x][y] != 0 {
                    let gy = g[x][y]
                    for k in 0..<f.cols { out[k] += gy * f[y, k] }
                }
            }
            return out
        }
    }

    /// Σ_x J_xᵀ H_x J_x + Σ_{x,y} g_{x,y} ∇²_θ z_{x,y}: the θ-Hessian from per-prompt logit Hessians
    /// H_x and logit gradients g_x at θ (tabular and autoregressive: block diagonal over prompts).
    /// Without `curvature` (or for a linear class) the second term is omitted: with H_x = F(p_x) this
    /// is the Fisher information.
    public func pullback(_ h: [Matrix], theta: [Double], curvature g: [[Double]]? = nil) -> Matrix {
        switch self {
        case let .autoregressive(tree, _):
            let o = offsets, p = tree.parametersPerPrompt, s = tree.sequenceCount, w = tree.vocab + 1
            var out = Matrix(rows: dimension, cols: dimension)
            for (x, hx) in h.enumerated() {
                let pi = nodeProbabilities(theta, prompt: x)
                let j = Matrix(rows: s, cols: p, data: tree.jacobian(nodeProbs: pi))
                var hj = matmul(j.transposed, matmul(hx, j))
                if let g {
                    var scratch = [Double](repeating: 0, count: p)
                    let mass = tree.pullback(g[x], nodeProbs: pi, into: &scratch, offset: 0)
                    for n in 0..<tree.nodeCount where mass[n] != 0 {
                        for a in 0..<w {
                            for b in 0..<w {
                                let f = (a == b ? pi[n * w + a] : 0) - pi[n * w + a] * pi[n * w + b]
                                hj[n * w + a, n * w + b] -= mass[n] * f
                            }
                        }
                    }
                }
                for a in 0..<p { for b in 0..<p { out[o[x] + a, o[x] + b] = hj[a, b] } }
            }
            return out
        case .tabular:
            let o = offsets
            var out = Matrix(rows: dimension, cols: dimension)
            for (x, hx) in h.enumerated() {
                for j in 0..<hx.rows { for k in 0..<hx.cols { out[o[x] + j, o[x] + k] = hx[j, k] } }
            }
            return out
        case let .loglinear(features):
            var out = Matrix(rows: dimension, cols: dimension)
            for (x, f) in features.enumerated() { out = out + matmul(f.transposed, matmul(h[x], f)) }
            return out
        }
    }
}
