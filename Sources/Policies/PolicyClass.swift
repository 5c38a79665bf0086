import Foundation
import Linalg

/// A softmax policy class whose logits are linear in the parameters: z_x = Φ_x θ, p_θ(·|x) = softmax(z_x).
///
/// - `tabular(sizes:)`: one free logit per (x, y); Φ is the identity, θ is the concatenation of the
///   per-prompt logit vectors (prompt x occupies `offsets[x]..<offsets[x+1]`).
/// - `loglinear(features:)`: p_θ(y|x) ∝ exp(θᵀφ(x, y)); Φ_x is the n_x × d feature matrix of prompt x.
///
/// Because z is linear in θ, every θ-space derivative is a pull-back of a logit-space one:
/// ∇_θ f = Σ_x Φ_xᵀ ∇_{z_x} f and ∇²_θ f = Σ_x Φ_xᵀ (∇²_{z_x} f) Φ_x. This is the only place
/// those pull-backs are written.
public enum PolicyClass: Sendable {
    case tabular(sizes: [Int])
    case loglinear(features: [Matrix])

    /// The number of parameters.
    public var dimension: Int {
        switch self {
        case let .tabular(sizes): return sizes.reduce(0, +)
        case let .loglinear(f): return f.first?.cols ?? 0
        }
    }

    /// Tabular: the start of each prompt's block (with a final entry = dimension).
    public var offsets: [Int] {
        guard case let .tabular(sizes) = self else { return [] }
        var o = [0]
        for s in sizes { o.append(o.last! + s) }
        return o
    }

    public var name: String {
        switch self {
        case .tabular: return "tabular"
        case .loglinear: return "loglinear"
        }
    }

    /// Tabular: (prompt, response) of parameter k; log-linear: (nil, k).
    public func location(ofParameter k: Int) -> (Int?, Int) {
        guard case .tabular = self else { return (nil, k) }
        let o = offsets
        let i = (0..<(o.count - 1)).first { o[$0 + 1] > k }!
        return (i, k - o[i])
    }

    /// z_x = Φ_x θ for every prompt.
    public func logits(_ theta: [Double]) -> [[Double]] {
        switch self {
        case .tabular:
            let o = offsets
            return (0..<(o.count - 1)).map { Array(theta[o[$0]..<o[$0 + 1]]) }
        case let .loglinear(features):
            return features.map { matvec($0, theta) }
        }
    }

    /// z_x = Φ_x θ at any precision (plain loops; the Double path above uses BLAS).
    public func logits<T: BinaryFloatingPoint>(_ theta: [T]) -> [[T]] {
        switch self {
        case .tabular:
            let o = offsets
            return (0..<(o.count - 1)).map { Array(theta[o[$0]..<o[$0 + 1]]) }
        case let .loglinear(features):
            return features.map { f in (0..<f.rows).map { y in (0..<f.cols).reduce(T(0)) { $0 + T(f[y, $1]) * theta[$1] } } }
        }
    }

    /// A global bound on the smoothness of L_SFT: ∇²L_SFT = Σ_x q(x) Φ_xᵀ F(p_x) Φ_x with
    /// λ_max(F(p)) ≤ ½ (Gershgorin: row j of diag p − ppᵀ has absolute sum 2p_j(1 − p_j) ≤ ½), so
    /// L_S ≤ ½ λ_max(Σ_x q(x) Φ_xᵀΦ_x) at every θ (tabular: ½ max_x q(x)).
    public func sftSmoothnessBound(weights: [Double]) throws -> Double {
        switch self {
        case .tabular: return 0.5 * (weights.max() ?? 0)
        case let .loglinear(features):
            let g = pullback(features.indices.map { weights[$0] * Matrix.identity(features[$0].rows) })
            return 0.5 * (try symmetricEigen(g).values.last ?? 0)
        }
    }

    /// p_θ(·|x) for every prompt.
    public func probabilities(_ theta: [Double]) -> [[Double]] { logits(theta).map(Dist.softmax) }

    /// Σ_x Φ_xᵀ g_x: the θ-gradient from per-prompt logit gradients.
    public func pullback(_ g: [[Double]]) -> [Double] {
        switch self {
        case .tabular: return Array(g.joined())
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

    /// Σ_x Φ_xᵀ H_x Φ_x: the θ-Hessian from per-prompt logit Hessians (tabular: block diagonal).
    public func pullback(_ h: [Matrix]) -> Matrix {
        switch self {
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
