import Linalg

/// Logit-space derivatives of expectations under a softmax, the single place every gradient and
/// Hessian of the toolkit comes from.
///
/// For p = softmax(z) and a vector v (possibly depending on z), write v̄ = E_p v = Σ p_y v_y.
/// - ∂p_j/∂z_k = p_j(δ_jk − p_k), so the Jacobian of p is the Fisher block F(p) = diag(p) − ppᵀ.
/// - For a constant v: ∇_z (pᵀv) = p ∘ (v − v̄) and
///   ∇²_z (pᵀv) = H(p, v) with H_jk = δ_jk p_j(v_j − v̄) − p_j p_k (v_j − v̄) − p_j p_k (v_k − v̄).
/// Every objective of the toolkit is a combination of these (see `Objective`).
public enum SoftmaxCalculus {
    /// ∇_z E_p[v] = p ∘ (v − E_p v) for constant v. Sums to zero (the all-ones null direction).
    @inlinable public static func gradient(_ p: [Double], _ v: [Double]) -> [Double] {
        let mean = Dist.expectation(p, v)
        var g = [Double](repeating: 0, count: p.count)
        for j in p.indices where p[j] != 0 { g[j] = p[j] * (v[j] - mean) }
        return g
    }

    /// ∇²_z E_p[v] for constant v (symmetric; annihilates the all-ones vector).
    public static func hessian(_ p: [Double], _ v: [Double]) -> Matrix {
        let n = p.count
        let mean = Dist.expectation(p, v)
        var w = [Double](repeating: 0, count: n)   // w_j = p_j (v_j − v̄)
        for j in 0..<n where p[j] != 0 { w[j] = p[j] * (v[j] - mean) }
        var h = Matrix(rows: n, cols: n)
        for j in 0..<n {
            for k in 0..<n { h[j, k] = -p[j] * w[k] - w[j] * p[k] }
            h[j, j] += w[j]
        }
        return h
    }

    /// The Fisher block F(p) = diag(p) − ppᵀ = ∂p/∂z = ∇²_z log Σ exp(z). Positive semidefinite, F·1 = 0.
    public static func fisher(_ p: [Double]) -> Matrix {
        let n = p.count
        var f = Matrix(rows: n, cols: n)
        for j in 0..<n {
            for k in 0..<n { f[j, k] = -p[j] * p[k] }
            f[j, j] += p[j]
        }
        return f
    }

    /// a·A + b·B for square matrices of equal size (used to combine H(p, v) and F(p)).
    static func combine(_ a: Double, _ x: Matrix, _ b: Double, _ y: Matrix) -> Matrix {
        var r = x
        for i in r.data.indices { r.data[i] = a * x.data[i] + b * y.data[i] }
        return r
    }
}
