import Foundation
import Linalg
import Testing
@testable import Policies
import TestSupport

/// An independent convex solve of one prompt's scalarised problem
/// f(p) = −μ Σ d log p − λ Σ r p + λβ Σ p (log p − log π), λ = 1 − μ, over the open simplex:
/// Newton in the logits z (z₀ fixed at 0, so the problem has a unique minimiser in ℝ^{n−1}), with the
/// gradient written here from the chain rule ∂F/∂z_k = p_k (g_k − Σ_y p_y g_y), g_y = ∂f/∂p_y, the
/// Hessian by central differences of that gradient, Gaussian elimination and Armijo backtracking.
/// It shares no code with `ParetoTabular` (which solves the KKT conditions by a root-find in the
/// multiplier).
private func independentSolve(mu: Double, beta: Double, d: [Double], r: [Double], pi: [Double]) -> [Double] {
    let n = d.count
    let lam = 1 - mu
    func probs(_ w: [Double]) -> [Double] {
        let z = [0] + w
        let m = z.max()!
        let e = z.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
    func f(_ w: [Double]) -> Double {
        let p = probs(w)
        var v = 0.0
        for y in 0..<n {
            if d[y] > 0 { v -= mu * d[y] * log(p[y]) }
            v -= lam * r[y] * p[y]
            if beta > 0 { v += lam * beta * p[y] * (log(p[y]) - log(pi[y])) }
        }
        return v
    }
    func grad(_ w: [Double]) -> [Double] {
        let p = probs(w)
        // Written in logit form to avoid d/p cancellation: p_y·g_y = −μ d_y + p_y(−λ r_y + λβ(log p_y − log π_y + 1)).
        let pg = (0..<n).map { y in -mu * d[y] + p[y] * (-lam * r[y] + (beta > 0 ? lam * beta * (log(p[y]) - log(pi[y]) + 1) : 0)) }
        let total = pg.reduce(0, +)
        return (1..<n).map { k in pg[k] - p[k] * total }
    }
    var w = [Double](repeating: 0, count: n - 1)
    for _ in 0..<2000 {
        let g = grad(w)
        if g.map(abs).max()! < 1e-14 { break }
        let m = n - 1
        var h = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        let step = 1e-5
        for k in 0..<m {
            var a = w, b = w
            a[k] += step; b[k] -= step
            let ga = grad(a), gb = grad(b)
            for i in 0..<m { h[i][k] = (ga[i] - gb[i]) / (2 * step) }
        }
        // f∘softmax is not convex in the logits: shift the (symmetrised) Hessian by τ·I until a
        // Cholesky factorisation succeeds (Levenberg), then solve (h + τI)·dx = −g.
        for i in 0..<m { for k in 0..<i { let a = 0.5 * (h[i][k] + h[k][i]); h[i][k] = a; h[k][i] = a } }
        func positiveDefinite(_ a: [[Double]]) -> Bool {
            var l = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
            for i in 0..<m {
                for k in 0...i {
                    var s = a[i][k]
                    for j in 0..<k { s -= l[i][j] * l[k][j] }
                    if i == k { if !(s > 0) { return false }; l[i][i] = s.squareRoot() } else { l[i][k] = s / l[k][k] }
                }
            }
            return true
        }
        var tau = 0.0
        let scale = max(1e-12, h.joined().map(abs).max()!)
        while !positiveDefinite((0..<m).map { i in (0..<m).map { k in h[i][k] + (i == k ? tau : 0) } }) { tau = max(2 * tau, 1e-3 * scale) }
        for i in 0..<m { h[i][i] += tau }
        // Solve h·dx = −g (Gaussian elimination with partial pivoting).
        var aug = (0..<m).map { h[$0] + [-g[$0]] }
        for c in 0..<m {
            let piv = (c..<m).max { abs(aug[$0][c]) < abs(aug[$1][c]) }!
            aug.swapAt(c, piv)
            for rr in (c + 1)..<m where aug[c][c] != 0 {
                let fct = aug[rr][c] / aug[c][c]
                for cc in c...m { aug[rr][cc] -= fct * aug[c][cc] }
            }
        }
        var dx = [Double](repeating: 0, count: m)
        for c in stride(from: m - 1, through: 0, by: -1) {
            var s = aug[c][m]
            for cc in (c + 1)..<m { s -= aug[c][cc] * dx[cc] }
            dx[c] = s / aug[c][c]
        }
        // A trust region of 5 in the logits: the Hessian vanishes where a probability is tiny.
        if dx.contains(where: { !$0.isFinite }) { dx = g.map { -$0 } }
        let biggest = dx.map(abs).max()!
        if biggest > 5 { dx = dx.map { $0 * 5 / biggest } }
        var slope = zip(g, dx).reduce(0) { $0 + $1.0 * $1.1 }
        if !(slope < 0) || dx.contains(where: { !$0.isFinite }) { dx = g.map { -$0 }; slope = -g.reduce(0) { $0 + $1 * $1 } }
        var t = 1.0
        let f0 = f(w)
        while t > 1e-20 {
            let cand = zip(w, dx).map { $0 + t * $1 }
            if f(cand) <= f0 + 1e-4 * t * slope { w = cand; break }
            t *= 0.5
        }
        if t <= 1e-20 { break }
    }
    return probs(w)
}

@Suite struct ParetoFrontTests {
    /// Hard cases: uniform, near-deterministic data, ties, extreme rewards, β near 0 and large, μ near the ends.
    static let cases: [(d: [Double], r: [Double], pi: [Double], beta: Double)] = [
        ([0.25, 0.25, 0.25, 0.25], [0, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], 0.5),
        ([0.5, 0.05, 0.45], [0.5, 1, -1], [1.0 / 3, 1.0 / 3, 1.0 / 3], 0.5),
        ([1 - 2e-9, 1e-9, 1e-9], [-1, 1, 1], [0.2, 0.3, 0.5], 0.3),
        ([0.1, 0.2, 0.3, 0.4], [1, 1, 0.5, 0], [0.7, 0.1, 0.1, 0.1], 1e-3),
        ([0.3, 0.3, 0.4], [20, -20, 5], [0.3, 0.3, 0.4], 100),
        ([0.6, 0.3, 0.1], [0.2, 1, -0.5], [0.5, 0.25, 0.25], 0),
        ([0.2, 0.8], [3, -3], [0.5, 0.5], 0),
    ]

    @Test func tabularFrontMatchesAnIndependentConvexSolve() throws {
        var worst = 0.0
        for c in ParetoFrontTests.cases {
            for mu in [0.001, 0.1, 0.37, 0.5, 0.9, 0.999] {
                let p = ParetoTabular.solvePrompt(mu: mu, beta: c.beta, data: c.d, reward: c.r, reference: c.pi)
                let q = independentSolve(mu: mu, beta: c.beta, d: c.d, r: c.r, pi: c.pi)
                #expect(abs(p.reduce(0, +) - 1) < 1e-12)
                let diff = zip(p, q).map { abs($0 - $1) }.max()!
                worst = max(worst, diff)
                #expect(diff < 1e-6, "mu \(mu) beta \(c.beta) d \(c.d): \(p) vs \(q)")
            }
        }
        #expect(worst < 1e-6)
    }

    /// front.csv's values (through `Instance.paretoFront`) against the independent solve's objective values.
    @Test func frontValuesMatchIndependentValues() throws {
        let d: [[Double]] = [[0.6, 0.3, 0.1], [0.1, 0.2, 0.3, 0.4]]
        let r: [[Double]] = [[0.2, 1.0, -0.5], [1.0, -1.0, 0.5, 0.0]]
        let pi: [[Double]] = [[0.5, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]
        let w = [2.0 / 3, 1.0 / 3]
        let inst = try Instance(beta: 0.3, weights: [2, 1], data: d, reward: r, reference: pi)
        let mus = [0.05, 0.3, 0.6, 0.95]
        let front = try inst.paretoFront(mus: mus)
        for (k, mu) in mus.enumerated() {
            var l = 0.0, j = 0.0, jb = 0.0
            for x in 0..<2 {
                let p = independentSolve(mu: mu, beta: 0.3, d: d[x], r: r[x], pi: pi[x])
                l += w[x] * zip(d[x], p).reduce(0) { $0 - $1.0 * log($1.1) }
                let jx = zip(r[x], p).reduce(0) { $0 + $1.0 * $1.1 }
                j += w[x] * jx
                jb += w[x] * (jx - 0.3 * zip(p, pi[x]).reduce(0) { $0 + $1.0 * log($1.0 / $1.1) })
            }
            #expect(abs(front[k].sftLoss - l) < 1e-6)
            #expect(abs(front[k].reward - j) < 1e-6)
            #expect(abs(front[k].rewardReg - jb) < 1e-6)
            #expect(front[k].mu == mu)
        }
        // Along the front, both L_SFT and J_β decrease with μ (a trade-off, not a free lunch).
        let sorted = try inst.paretoFront(mus: (1...19).map { Double($0) / 20 })
        for k in 1..<sorted.count {
            #expect(sorted[k].sftLoss <= sorted[k - 1].sftLoss + 1e-12)
            #expect(sorted[k].rewardReg <= sorted[k - 1].rewardReg + 1e-12)
        }
    }

    /// β = 0 with a response outside the data's support carrying the best reward: the minimiser
    /// is on the simplex's boundary; its KKT conditions are checked directly.
    @Test func boundarySolutionSatisfiesKKT() {
        let d = [0.5, 0.5, 0.0, 0.0], r = [0.0, 0.2, 1.0, 0.5], pi = [0.25, 0.25, 0.25, 0.25]
        for mu in [0.1, 0.2] {
            let lam = 1 - mu
            let p = ParetoTabular.solvePrompt(mu: mu, beta: 0, data: d, reward: r, reference: pi)
            #expect(abs(p.reduce(0, +) - 1) < 1e-12)
            // ∂f/∂p_y = −μ d_y / p_y − λ r_y equals κ on the support, is ≥ κ off it.
            let kappa = -lam * r[2]
            #expect(p[2] > 0 && p[3] == 0)
            for y in 0..<2 { #expect(abs((-mu * d[y] / p[y] - lam * r[y]) - kappa) < 1e-12) }
            #expect(-lam * r[3] >= kappa)
        }
        // With a large μ (0.5, 0.9) the data responses take all the mass: ρ > r₀ = 1.
        for mu in [0.5, 0.9] {
            let p = ParetoTabular.solvePrompt(mu: mu, beta: 0, data: d, reward: r, reference: pi)
            #expect(p[2] == 0 && p[3] == 0)
            let q = independentSolve(mu: mu, beta: 0, d: [0.5, 0.5], r: [0, 0.2], pi: [0.5, 0.5])
            #expect(abs(p[0] - q[0]) < 1e-6 && abs(p[1] - q[1]) < 1e-6)
        }
    }

    @Test func singleResponseAndBadMu() throws {
        #expect(ParetoTabular.solvePrompt(mu: 0.5, beta: 0.2, data: [1], reward: [3], reference: [1]) == [1])
        let inst = try Instance(beta: 0.3, weights: [1], data: [[0.5, 0.5]], reward: [[1, 0]])
        #expect(throws: ParetoError.self) { try inst.paretoFront(mus: [0]) }
        #expect(throws: ParetoError.self) { try inst.paretoFront(mus: [1]) }
    }

    /// Log-linear: every front point is stationary for μ·L_SFT − (1−μ)·J_β (finite differences of
    /// the values, not the core's gradient), and the SFT end is the class's SFT optimum.
    @Test func loglinearFrontIsStationary() throws {
        let features: [Matrix] = [Matrix([[1, 0], [0, 1], [1, 1]]), Matrix([[0.5, -1], [1, 0.2], [-0.3, 0.7], [0, 0]])]
        let inst = try Instance(beta: 0.4, weights: [1, 1], data: [[0.6, 0.3, 0.1], [0.1, 0.2, 0.3, 0.4]],
                                reward: [[0.2, 1, -0.5], [1, -1, 0.5, 0]], policy: .loglinear(features: features))
        let mus = [0.2, 0.5, 0.8]
        let front = try inst.paretoFront(mus: mus)
        for p in front {
            let f: ([Double]) -> Double = { th in
                let pt = inst.point(th)
                return p.mu * inst.value(.sft, at: pt) - (1 - p.mu) * inst.value(.rewardRegularized, at: pt)
            }
            let g = fdGradient(f, at: p.theta)
            #expect(g.map(abs).max()! < 1e-7, "mu \(p.mu): \(g)")
        }
        #expect(front[0].sftLoss >= front[1].sftLoss - 1e-12 && front[1].sftLoss >= front[2].sftLoss - 1e-12)
        let ends = inst.paretoEnds()
        #expect(abs(ends.sft!.sftLoss - inst.value(.sft, at: inst.point(try inst.sftOptimum().theta))) < 1e-12)
    }
}
