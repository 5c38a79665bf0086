import Foundation
import Linalg

/// The subspace the flows move in, and spectra restricted to it.
///
/// Every gradient of the toolkit is Σ_x Φ_xᵀ g_x with 1ᵀg_x = 0, so θ only moves in the range of
/// G = Σ_x q(x) Φ_xᵀ C Φ_x with C = I − 11ᵀ/n the centring matrix. Tabular logits have one null
/// direction per prompt (adding a constant to a prompt's logits changes nothing). Curvature
/// constants are computed on range(G), where they mean something.
public struct MovingSubspace: Sendable {
    /// Orthonormal basis of range(G) as columns (dimension × rank).
    public let basis: Matrix
    public var rank: Int { basis.cols }

    public init(instance: Instance, relativeTolerance: Double = 1e-10) throws {
        let centred = instance.weights.indices.map { x -> Matrix in
            let n = instance.data[x].count
            var c = Matrix.identity(n)
            for i in 0..<n { for j in 0..<n { c[i, j] -= 1.0 / Double(n) } }
            return instance.weights[x] * c
        }
        // Autoregressive: J at θ = 0; range(Jᵀ) (node-sum-free directions) does not depend on θ.
        let g = instance.policy.pullback(centred, theta: [Double](repeating: 0, count: instance.policy.dimension))
        let e = try symmetricEigen(g)
        let top = e.values.last ?? 0
        let keep = e.values.indices.filter { e.values[$0] > relativeTolerance * Swift.max(top, 1e-300) }
        var b = Matrix(rows: g.rows, cols: keep.count)
        for (c, k) in keep.enumerated() { for i in 0..<g.rows { b[i, c] = e.vectors[i, k] } }
        basis = b
    }

    /// Uᵀ A U: a symmetric matrix restricted to the subspace.
    public func restrict(_ a: Matrix) -> Matrix { matmul(basis.transposed, matmul(a, basis)) }

    /// U Uᵀ v: the orthogonal projection of a parameter vector onto the subspace.
    public func project(_ v: [Double]) -> [Double] { matvec(basis, matvec(basis.transposed, v)) }
}

/// Local curvature at a point: spectra of ∇²L_SFT, −∇²J_β (or −∇²J when β = 0) and the Fisher
/// matrix on the moving subspace, and the constants they imply.
///
/// Near a minimiser θ* of a C² function f with Hessian H ⪰ 0 on the subspace, f is locally μ-PL with
/// μ = λ_min(H) and L-smooth with L = λ_max(H) (to second order: ½‖∇f‖² ≈ ½ δᵀH²δ ≥ λ_min ½ δᵀHδ ≈
/// λ_min (f − f*)). Away from a minimiser these are local curvature bounds; a negative λ_min says the
/// function is not locally convex there.
public struct CurvatureReport: Sendable, Codable {
    public var subspaceDimension: Int
    public var sftHessian: [Double]
    public var negRLHessian: [Double]
    public var fisher: [Double]
    /// μ_S = λ_min(∇²L_SFT), L_S = max|λ(∇²L_SFT)|.
    public var muSFT: Double, smoothSFT: Double
    /// μ_R = λ_min(−∇²J_β), L_R = max|λ(−∇²J_β)|.
    public var muRL: Double, smoothRL: Double
    public var gradSFTNorm: Double, gradRLNorm: Double

    public init(instance: Instance, at theta: [Double]) throws {
        let sub = try MovingSubspace(instance: instance)
        let pt = instance.point(theta)
        let rl: Objective = .rewardRegularized
        let hs = try symmetricEigen(sub.restrict(instance.hessian(.sft, at: pt))).values
        let hr = try symmetricEigen(sub.restrict(-1 * instance.hessian(rl, at: pt))).values
        // F = Σ_x q(x) Φ_xᵀ(diag p − ppᵀ)Φ_x ⪰ 0 by construction; an eigen-solver returns its zero
        // eigenvalues with round-off of order ε·λ_max, sometimes negative. Those (and only those:
        // |λ| ≤ 1e-12·max(1, λ_max)) are reported as 0; a larger negative value is kept, as a bug would be.
        let f = Self.clampRoundoff(try symmetricEigen(sub.restrict(instance.fisher(at: pt))).values)
        subspaceDimension = sub.rank
        sftHessian = hs; negRLHessian = hr; fisher = f
        muSFT = hs.first ?? 0; smoothSFT = hs.map(abs).max() ?? 0
        muRL = hr.first ?? 0; smoothRL = hr.map(abs).max() ?? 0
        gradSFTNorm = norm(instance.gradient(.sft, at: pt))
        gradRLNorm = norm(instance.gradient(rl, at: pt))
    }

    /// Bytes of the dense d × d matrices a report holds at once for d parameters (about eight:
    /// G and its eigenvectors, three Hessians, their restrictions), for refusing a request before
    /// the allocator fails.
    public static func estimatedBytes(dimension d: Int) -> Double { 8 * 8 * Double(d) * Double(d) }

    /// Eigenvalues of a positive semidefinite matrix with round-off negatives set to 0.
    static func clampRoundoff(_ values: [Double]) -> [Double] {
        let scale = Swift.max(1, values.map(abs).max() ?? 0)
        return values.map { $0 < 0 && -$0 <= 1e-12 * scale ? 0 : $0 }
    }
}
