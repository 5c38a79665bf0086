import Foundation
import Linalg
import Policies
import Claims
@testable import Search

/// Independent re-derivations for the policy-gradient claims (R1 local, R5): softmax policies
/// p = softmax(Φ_x θ) (tabular: Φ_x = I, θ = log start), gradients written out by hand from
/// paper-notes.md §1: ∂L_SFT/∂z = q(p − p_D), ∂J_β/∂z = q·p·(A − E_p A), A = r − β(log p − log π_ref).
extension Independent {
    struct Policy {
        var q: [Double]
        var phi: [[[Double]]]      // per prompt, per response, d features
        var theta: [Double]
        var data: [[Double]], reward: [[Double]], reference: [[Double]]
        var beta: Double

        init(_ inst: InstanceFile) {
            q = Independent.weights(inst)
            data = inst.prompts.map { Independent.normalised($0.data) }
            reward = inst.prompts.map(\.reward)
            reference = inst.prompts.map { p in p.reference.map(Independent.normalised) ?? Array(repeating: 1 / Double(p.data.count), count: p.data.count) }
            beta = inst.beta
            if let f = inst.policy.features {
                phi = f
                theta = inst.policy.theta ?? []
            } else {
                // Tabular: one logit per (x, y), identity features over the concatenated logits.
                let sizes = inst.prompts.map { $0.data.count }
                let total = sizes.reduce(0, +)
                var off = 0
                phi = sizes.map { n in
                    defer { off += n }
                    return (0..<n).map { y in (0..<total).map { $0 == off + y ? 1.0 : 0.0 } }
                }
                theta = inst.prompts.flatMap { p in (p.start ?? p.data).map { log($0) } }
            }
        }

        func probs(_ x: Int) -> [Double] {
            let z = phi[x].map { Independent.dot($0, theta) }
            let m = z.max()!
            let e = z.map { exp($0 - m) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }

        /// Per prompt logit gradients (q-weighted) of L_SFT and J_β.
        func logitGradients() -> (a: [[Double]], b: [[Double]]) {
            var a: [[Double]] = [], b: [[Double]] = []
            for x in q.indices {
                let p = probs(x)
                a.append(p.indices.map { q[x] * (p[$0] - data[x][$0]) })
                let adv = p.indices.map { reward[x][$0] - (beta > 0 ? beta * (log(p[$0]) - log(reference[x][$0])) : 0) }
                let mean = Independent.dot(p, adv)
                b.append(p.indices.map { q[x] * p[$0] * (adv[$0] - mean) })
            }
            return (a, b)
        }

        /// θ-gradient Σ_x Φ_xᵀ g_x.
        func pullBack(_ g: [[Double]]) -> [Double] {
            var out = [Double](repeating: 0, count: theta.count)
            for x in g.indices { for y in g[x].indices { for k in theta.indices { out[k] += phi[x][y][k] * g[x][y] } } }
            return out
        }
    }

    /// R1 local: at θ₀, d/dt L_SFT along θ̇ = ∇J_β is ⟨∇L_SFT, ∇J_β⟩; the claim says it is 0
    /// (to its relative 1e-6: |first| ≤ 1e-6·‖∇J‖(1 + ‖∇J‖)). Stationarity: ‖∇L‖ ≤ 1e-8(1 + ‖∇J‖).
    static func r1Local(_ f: Finding, keptStationary: Bool) -> IndependentVerdict {
        let pol = Policy(f.instance.instance!)
        let (a, b) = pol.logitGradients()
        let gl = pol.pullBack(a), gj = pol.pullBack(b)
        let first = dot(gl, gj)
        let nl = dot(gl, gl).squareRoot(), nj = dot(gj, gj).squareRoot()
        let met = !keptStationary || nl <= 1e-8 * (1 + nj)
        return IndependentVerdict(hypothesesMet: met, violated: abs(first) > 1e-6 * nj * (1 + nj),
                                  detail: "d/dt L_SFT at 0 = \(first), |∇L| \(nl), |∇J| \(nj)")
    }

    /// R5: |cos_K(a,b) − cos_K(Pa,Pb)√((1−ρ_a)(1−ρ_b))| ≤ √(ρ_a ρ_b), K = ΦΦᵀ over the stacked logits;
    /// with "commuting-projector" dropped, P projects on the k eigenvectors of RRᵀ with the smallest
    /// eigenvalues, R an n×n standard normal matrix from the seed `random_subspace_seed`.
    static func r5(_ f: Finding) throws -> IndependentVerdict {
        let pol = Policy(f.instance.instance!)
        let (ga, gb) = pol.logitGradients()
        let a = ga.flatMap { $0 }, b = gb.flatMap { $0 }
        let rows = pol.phi.flatMap { $0 }
        let n = rows.count
        let k = Int(try require(f.instance.parameters["k"], "k"))
        var basis: [[Double]]   // k vectors of length n
        if let seed = f.instance.parameters["random_subspace_seed"] {
            var g = SeededGenerator(seed: UInt64(seed))
            let r = (0..<n).map { _ in (0..<n).map { _ in g.normal() } }
            let rrt = (0..<n).map { i in (0..<n).map { j in dot(r[i], r[j]) } }
            let (values, vectors) = jacobiEigen(rrt)
            let order = values.indices.sorted { values[$0] < values[$1] }
            basis = order.prefix(k).map { c in (0..<n).map { vectors[$0][c] } }
        } else {
            let kernel = (0..<n).map { i in (0..<n).map { j in dot(rows[i], rows[j]) } }
            let (values, vectors) = jacobiEigen(kernel)
            let order = values.indices.sorted { values[$0] > values[$1] }
            basis = order.prefix(k).map { c in (0..<n).map { vectors[$0][c] } }
        }
        func project(_ u: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: n)
            for v in basis { let c = dot(v, u); for i in 0..<n { out[i] += c * v[i] } }
            return out
        }
        // ⟨u, v⟩_K = (Φᵀu)·(Φᵀv).
        func lift(_ u: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: rows[0].count)
            for i in 0..<n { for j in out.indices { out[j] += rows[i][j] * u[i] } }
            return out
        }
        func kdot(_ u: [Double], _ v: [Double]) -> Double { dot(lift(u), lift(v)) }
        func kcos(_ u: [Double], _ v: [Double]) -> Double { kdot(u, v) / (kdot(u, u) * kdot(v, v)).squareRoot() }
        let pa = project(a), pb = project(b)
        // ρ is "the fraction of K-energy outside": in [0, 1] when P commutes with K; a projector
        // that does not commute can leave more K-energy outside than u has, and the toolkit's
        // reading (like this one) caps the fraction at 1.
        let ra = min(1, kdot(zip(a, pa).map(-), zip(a, pa).map(-)) / kdot(a, a))
        let rb = min(1, kdot(zip(b, pb).map(-), zip(b, pb).map(-)) / kdot(b, b))
        let lhs = abs(kcos(a, b) - kcos(pa, pb) * ((1 - ra) * (1 - rb)).squareRoot())
        let rhs = (ra * rb).squareRoot()
        let sane = abs(kcos(a, b)) <= 1 + 1e-9 && abs(kcos(pa, pb)) <= 1 + 1e-9
        return IndependentVerdict(hypothesesMet: sane, violated: lhs - rhs > 1e-6,
                                  detail: "lhs \(lhs) rhs \(rhs) ρ_a \(ra) ρ_b \(rb) cos_K \(kcos(a, b))")
    }

    /// Cyclic Jacobi rotations for a small symmetric matrix: eigenvalues and eigenvectors (columns).
    static func jacobiEigen(_ m: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
        var a = m
        let n = a.count
        var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i][j] * a[i][j] } }
            if off < 1e-30 { break }
            for p in 0..<n { for q in (p + 1)..<n where a[p][q] != 0 {
                let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {
                    let akp = a[k][p], akq = a[k][q]
                    a[k][p] = c * akp - s * akq; a[k][q] = s * akp + c * akq
                }
                for k in 0..<n {
                    let apk = a[p][k], aqk = a[q][k]
                    a[p][k] = c * apk - s * aqk; a[q][k] = s * apk + c * aqk
                }
                for k in 0..<n {
                    let vkp = v[k][p], vkq = v[k][q]
                    v[k][p] = c * vkp - s * vkq; v[k][q] = s * vkp + c * vkq
                }
            } }
        }
        return ((0..<n).map { a[$0][$0] }, v)
    }
}
