import Foundation
import Linalg

/// Why an optimum could not be returned.
public enum OptimumError: Error, CustomStringConvertible {
    case notAttained(String)
    case notConverged(String)

    public var description: String {
        switch self {
        case let .notAttained(s): return "the optimum is not attained by a finite θ: \(s)"
        case let .notConverged(s): return "the optimiser did not converge: \(s)"
        }
    }
}

/// An optimum found in parameter space, with the gradient norm there.
public struct Optimum: Sendable {
    public let theta: [Double]
    public let gradientNorm: Double
    public let iterations: Int
}

extension Instance {
    /// The minimiser of L_SFT over the class.
    /// - tabular: θ_x = log p_D(·|x) (centred); not attained when p_D has a zero (the infimum is at −∞).
    /// - log-linear: L_SFT is convex in θ; damped Newton on the moving subspace (pseudo-inverse of
    ///   the Fisher matrix, backtracking on the loss) to ‖∇L_SFT‖ ≤ 1e-11.
    public func sftOptimum() throws -> Optimum {
        switch policy {
        case .tabular:
            var theta: [Double] = []
            for (x, d) in data.enumerated() {
                if let j = d.firstIndex(of: 0), weights[x] > 0 {
                    throw OptimumError.notAttained("data of prompt \(x) is 0 at response \(j)")
                }
                let l = d.map { $0 > 0 ? Foundation.log($0) : 0 }
                let m = l.reduce(0, +) / Double(l.count)
                theta += l.map { $0 - m }
            }
            return Optimum(theta: theta, gradientNorm: norm(gradient(.sft, at: point(theta))), iterations: 0)
        case let .autoregressive(tree, _):
            // The class is realisable: θ_n = log of p_D's conditionals at every node.
            for (x, d) in data.enumerated() {
                if let j = d.firstIndex(of: 0), weights[x] > 0 {
                    throw OptimumError.notAttained("data of prompt \(x) is 0 at sequence \(j)")
                }
            }
            let theta = data.flatMap { tree.logits(ofSequenceDistribution: $0) }
            return Optimum(theta: theta, gradientNorm: norm(gradient(.sft, at: point(theta))), iterations: 0)
        case .loglinear:
            return try newton(.sft, sign: 1, from: [Double](repeating: 0, count: policy.dimension))
        }
    }

    /// The maximiser of J_β over the class (of J when β = 0).
    /// - tabular, β > 0: the Gibbs tilt π_ref·e^{r/β}/Z (Eq. 8) as logits, z = log π_ref + r/β
    ///   (centred), computed in log space so that a small β cannot underflow a finite optimum to a
    ///   zero probability; not attained when π_ref has a zero; β = 0: not attained (the maximiser is
    ///   deterministic).
    /// - log-linear: Newton ascent where −∇²J_β ≻ 0 on the subspace, gradient ascent otherwise, from θ₀;
    ///   a local maximiser (J_β need not be concave in θ).
    public func rlOptimum() throws -> Optimum {
        switch policy {
        case .tabular:
            guard beta > 0 else { throw OptimumError.notAttained("with beta = 0 the maximiser of J is deterministic") }
            var theta: [Double] = []
            for x in data.indices {
                if let j = reference[x].firstIndex(of: 0) { throw OptimumError.notAttained("reference of prompt \(x) is 0 at response \(j)") }
                let l = reference[x].indices.map { Foundation.log(reference[x][$0]) + reward[x][$0] / beta }
                let m = l.reduce(0, +) / Double(l.count)
                theta += l.map { $0 - m }
            }
            return Optimum(theta: theta, gradientNorm: norm(gradient(.rewardRegularized, at: point(theta))), iterations: 0)
        case let .autoregressive(tree, _):
            guard beta > 0 else { throw OptimumError.notAttained("with beta = 0 the maximiser of J is deterministic") }
            var theta: [Double] = []
            for x in data.indices {
                let g = Dist.gibbs(reference: reference[x], reward: reward[x], beta: beta)
                if let j = g.firstIndex(of: 0) { throw OptimumError.notAttained("reference of prompt \(x) is 0 at sequence \(j)") }
                theta += tree.logits(ofSequenceDistribution: g)
            }
            return Optimum(theta: theta, gradientNorm: norm(gradient(.rewardRegularized, at: point(theta))), iterations: 0)
        case .loglinear:
            return try newton(.rewardRegularized, sign: -1, from: start)
        }
    }

    /// Minimises sign·f by damped (pseudo-)Newton steps on the moving subspace with backtracking.
    func newton(_ objective: Objective, sign: Double, from theta0: [Double], tolerance: Double = 1e-11, maxIterations: Int = 500) throws -> Optimum {
        let sub = try MovingSubspace(instance: self)
        var theta = theta0
        var pt = point(theta)
        var f = sign * value(objective, at: pt)
        for it in 0..<maxIterations {
            let g = scaled(gradient(objective, at: pt), sign)
            let gn = norm(g)
            if gn <= tolerance { return Optimum(theta: theta, gradientNorm: gn, iterations: it) }
            let dir = sub.newtonDirection(gradient: g, hessian: scaled(hessian(objective, at: pt).data, sign).withShape(theta.count))
            var step = 1.0
            var accepted = false
            while step > 1e-16 {
                let cand = axpy(theta, step, dir)
                let cpt = point(cand)
                let cf = sign * value(objective, at: cpt)
                if cf.isFinite && cf <= f + 1e-4 * step * dot(g, dir) {
                    // Converged to roundoff: a tiny gradient and no measurable decrease.
                    if gn <= 1e-8 && f - cf <= 1e-15 * Swift.max(1, abs(f)) {
                        return Optimum(theta: cand, gradientNorm: norm(gradient(objective, at: cpt)), iterations: it + 1)
                    }
                    theta = cand; pt = cpt; f = cf; accepted = true; break
                }
                step *= 0.5
            }
            if !accepted {
                let gn2 = norm(scaled(gradient(objective, at: pt), sign))
                if gn2 <= 1e3 * tolerance { return Optimum(theta: theta, gradientNorm: gn2, iterations: it) }
                throw OptimumError.notConverged("line search failed at ‖∇‖ = \(gn2)")
            }
            if theta.contains(where: { abs($0) > 1e6 }) {
                throw OptimumError.notAttained("‖θ‖ grows without bound (the data or optimum lies on the simplex boundary)")
            }
        }
        let gn = norm(gradient(objective, at: pt))
        throw OptimumError.notConverged("\(maxIterations) Newton iterations left ‖∇‖ = \(gn); the optimum may be at infinity")
    }
}

extension MovingSubspace {
    /// The step direction of a damped (pseudo-)Newton method minimising f on the subspace:
    /// −U(UᵀHU)⁻¹Uᵀg when the restricted Hessian is positive definite (λ_min > 1e-12·max(1, λ_max)),
    /// else the steepest-descent direction −g.
    func newtonDirection(gradient g: [Double], hessian h: Matrix) -> [Double] {
        guard let e = try? symmetricEigen(restrict(h)), let lo = e.values.first, lo > 1e-12 * Swift.max(1, e.values.last!) else {
            return scaled(g, -1)
        }
        var c = matvec(e.vectors.transposed, matvec(basis.transposed, g))
        for k in c.indices { c[k] /= e.values[k] }
        return scaled(matvec(basis, matvec(e.vectors, c)), -1)
    }
}

extension Array where Element == Double {
    /// A square matrix from row-major data of side n.
    func withShape(_ n: Int) -> Matrix { Matrix(rows: n, cols: n, data: self) }
}
