import Foundation
import Linalg
import Policies

/// R5: gradient misalignment through spectral concentration. With the logit Jacobian 𝒥 (the
/// stacked feature matrices Φ_x), logit gradients a = ∇_z L_SFT and b = ∇_z J_β (q-weighted), the
/// θ-gradients are g_S = 𝒥ᵀa and g_R = 𝒥ᵀb, and K = 𝒥𝒥ᵀ ⪰ 0 (the NTK of the logits). With P_k the
/// projector on K's top-k eigenvectors and ρ_u = ‖(I − P_k)u‖²_K/‖u‖²_K:
/// |cos_K(a, b) − cos_K(P_k a, P_k b)·√((1−ρ_a)(1−ρ_b))| ≤ √(ρ_a ρ_b), where cos_K(a, b) = cos∠(g_S, g_R).
struct R5Spectral: Claim {
    let id = "r5-spectral"
    let reference = "reconstruction of v2 (R5)"
    let statement = "|cos_K(a,b) − cos_K(P_k a, P_k b)·√((1−ρ_a)(1−ρ_b))| ≤ √(ρ_a ρ_b) for the logit gradients a, b of L_SFT and J_β, K = 𝒥𝒥ᵀ, P_k the projector on K's top-k eigenvectors, ρ_u the K-energy of u outside them."
    let hypotheses = [Hypothesis("commuting-projector", "P_k projects on an invariant subspace of K (dropping it uses a random k-dimensional subspace)"),
                      Hypothesis("nonzero-gradients", "g_S ≠ 0 and g_R ≠ 0, so the angle is defined")]
    let families: [Family] = [.loglinear]
    /// The round-off allowance of this Double-only (LAPACK) check: a violation must exceed it to count.
    static let roundoffAllowance = 1e-9

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = Generate.promptCount(&g, max: 4)
        let sizes = (0..<m).map { _ in g.int(2...16) }
        let d = g.int(1...8)
        let ill = g.uniform() < 0.3
        let feats = sizes.map { n in Generate.features(&g, n: n, d: d, illConditioned: ill) }
        let f = InstanceFile(beta: g.uniform() < 0.3 ? 0 : Generate.beta(&g),
                             policy: .init(kind: "loglinear", features: feats.map { x in (0..<x.rows).map { x.row($0) } }, theta: (0..<d).map { _ in g.normal() }),
                             prompts: sizes.indices.map { x in .init(weight: g.uniform(0.05, 1), data: Generate.simplex(&g, sizes[x]), reward: Generate.reward(&g, sizes[x]),
                                                                      reference: Generate.positiveSimplex(&g, sizes[x])) })
        let rank = Swift.min(sizes.reduce(0, +), d)
        var p: [String: Double] = ["k": Double(g.int(1...rank))]
        if dropping.contains("commuting-projector") { p["random_subspace_seed"] = Double(g.int(0...1_000_000)) }
        return ClaimInstance(family: family, instance: f, parameters: p)
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard case let .loglinear(features) = inst.policy else { throw ClaimError.invalid("r5-spectral needs a loglinear instance") }
        let pt = inst.point()
        let a = inst.weights.indices.flatMap { x in inst.logitGradient(.sft, prompt: x, at: pt).map { inst.weights[x] * $0 } }
        let b = inst.weights.indices.flatMap { x in inst.logitGradient(.rewardRegularized, prompt: x, at: pt).map { inst.weights[x] * $0 } }
        let jac = Matrix(features.flatMap { f in (0..<f.rows).map { f.row($0) } })
        let kernel = matmul(jac, jac.transposed)
        let eig = try symmetricEigen(kernel)
        let n = kernel.rows
        let k = Int(try ci.parameter("k"))
        guard k >= 1 && k <= n else { throw ClaimError.invalid("r5-spectral: k must be in 1…\(n), got \(k)") }
        // Basis of the projected subspace: K's top-k eigenvectors, or (hypothesis dropped) a random one.
        var basis = Matrix(rows: n, cols: k)
        if let s = ci.parameters["random_subspace_seed"] {
            var g = SeededGenerator(seed: UInt64(s))
            let r = Matrix(rows: n, cols: n, data: (0..<(n * n)).map { _ in g.normal() })
            let q = try symmetricEigen(matmul(r, r.transposed))
            for c in 0..<k { for i in 0..<n { basis[i, c] = q.vectors[i, c] } }
        } else {
            for c in 0..<k { for i in 0..<n { basis[i, c] = eig.vectors[i, n - 1 - c] } }
        }
        func project(_ u: [Double]) -> [Double] { matvec(basis, matvec(basis.transposed, u)) }
        // K-inner products through K's eigen-decomposition with its eigenvalues clamped at 0
        // (K ⪰ 0 exactly; LAPACK's round-off can make tiny ones negative): ⟨u, w⟩_K =
        // Σ_i λ_i⁺ (v_iᵀu)(v_iᵀw), a sum of non-negative weights, so Cauchy–Schwarz holds to rounding.
        let lambda = eig.values.map { Swift.max($0, 0) }
        func coefficients(_ u: [Double]) -> [Double] { matvec(eig.vectors.transposed, u) }
        func kdot(_ u: [Double], _ w: [Double]) -> Double {
            let cu = coefficients(u), cw = coefficients(w)
            return lambda.indices.reduce(0.0) { $0 + lambda[$1] * cu[$1] * cw[$1] }
        }
        func kcos(_ u: [Double], _ v: [Double]) -> Double {
            let nu = kdot(u, u), nv = kdot(v, v)
            return nu > 0 && nv > 0 ? Swift.max(-1, Swift.min(1, kdot(u, v) / (nu * nv).squareRoot())) : 0
        }
        let na = kdot(a, a), nb = kdot(b, b)
        guard na > 0, nb > 0 else {   // the angle is undefined: the instance does not meet "nonzero-gradients"
            return Evaluation(hypotheses: ["commuting-projector": 1, "nonzero-gradients": -1], conclusion: 0, quantities: ["K_norm_a": na, "K_norm_b": nb])
        }
        let pa = project(a), pb = project(b)
        let ra = Swift.max(0, Swift.min(1, kdot(axpy(a, -1, pa), axpy(a, -1, pa)) / na))
        let rb = Swift.max(0, Swift.min(1, kdot(axpy(b, -1, pb), axpy(b, -1, pb)) / nb))
        let lhs = abs(kcos(a, b) - kcos(pa, pb) * ((1 - ra) * (1 - rb)).squareRoot())
        let rhs = (ra * rb).squareRoot()
        return Evaluation(hypotheses: ["commuting-projector": ci.parameters["random_subspace_seed"] == nil ? 1 : -1, "nonzero-gradients": 1],
                          conclusion: rhs - lhs,
                          quantities: ["cos_gradients": cosine(matvec(jac.transposed, a), matvec(jac.transposed, b)), "cos_K": kcos(a, b),
                                       "cos_K_projected": kcos(pa, pb), "rho_a": ra, "rho_b": rb, "lhs": lhs, "rhs": rhs, "k": Double(k)])
    }

    /// No Float80 LAPACK here: the extended check subtracts a stated round-off allowance instead.
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation {
        var e = try evaluate(ci)
        e.conclusion += R5Spectral.roundoffAllowance
        return e
    }
}

extension R5Spectral {
    var tightness: Tightness? {
        Tightness(measure: "|cos_K(a,b) − cos_K(P_k a, P_k b)·√((1−ρ_a)(1−ρ_b))| / √(ρ_a ρ_b)",
                  ratio: Tightness.quotient("lhs", "rhs", floor: 1e-3), knownSupremum: 1, attained: true,
                  note: "Cauchy–Schwarz on the out-of-subspace parts (I − P_k)a, (I − P_k)b in the K inner product: equality when they are K-parallel (e.g. one eigen-direction outside the top k).")
    }
}
