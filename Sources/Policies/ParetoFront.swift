import Foundation
import Linalg

/// One point of the Pareto front of (L_SFT, J_β): the minimiser over the policy class of the
/// scalarised objective
///
///     F_μ(θ) = μ·L_SFT(θ) − (1 − μ)·J_β(θ),        μ ∈ (0, 1),
///
/// with its objective values. μ = 1 and μ = 0 are the limits of the front (the SFT optimum and the
/// RL optimum), recorded when they exist.
public struct ParetoPoint: Sendable, Equatable {
    /// The SFT weight μ of the scalarisation.
    public var mu: Double
    /// The minimiser's parameters (tabular: centred log-probabilities; −∞ marks a response the
    /// minimiser gives probability 0, possible only at a boundary point with β = 0).
    public var theta: [Double]
    /// p(·|x) per prompt at the minimiser.
    public var probs: [[Double]]
    /// L_SFT, J and J_β at the minimiser (from ``Instance/value(_:at:)``).
    public var sftLoss: Double
    public var reward: Double
    public var rewardReg: Double
    public init(mu: Double, theta: [Double], probs: [[Double]], sftLoss: Double, reward: Double, rewardReg: Double) {
        self.mu = mu; self.theta = theta; self.probs = probs
        self.sftLoss = sftLoss; self.reward = reward; self.rewardReg = rewardReg
    }

    /// The scalarised value μ·L_SFT − (1−μ)·J_β at the minimiser.
    public var scalarised: Double { mu * sftLoss - (1 - mu) * rewardReg }
}

/// Why a front could not be computed.
public enum ParetoError: Error, CustomStringConvertible, Sendable {
    case invalid(String)
    case notConverged(mu: Double, String)

    public var description: String {
        switch self {
        case let .invalid(s): return s
        case let .notConverged(mu, s): return "the front point at μ = \(mu) did not converge: \(s)"
        }
    }
}

/// The exact per-prompt minimiser of the scalarised problem of the tabular class.
///
/// Per prompt (the weight q(x) scales the whole term, so it does not move the minimiser), over the
/// simplex:
///
///     f(p) = −μ Σ_y d_y log p_y − λ Σ_y r_y p_y + λβ Σ_y p_y (log p_y − log π_y),   λ = 1 − μ,
///
/// strictly convex in p when every d_y > 0 or β > 0. Its KKT conditions read, with one multiplier κ,
///
///     φ_y(p_y) := −μ d_y / p_y − λ r_y + λβ (log p_y − log π_y + 1) = κ   for every y with p_y > 0,
///
/// and φ_y is strictly increasing in p_y. So p_y(κ) = φ_y⁻¹(κ) is increasing in κ, and κ is the one
/// root of the monotone equation Σ_y p_y(κ) = 1. Both are found by safeguarded Newton steps inside a
/// bracket kept by bisection (each inner root in u = log p, where φ is concave and increasing):
/// a 1-D monotone root-find per prompt.
///
/// β = 0: p_y(κ) = μ d_y / (−λ r_y − κ) for d_y > 0, and a response with d_y = 0 gets p_y = 0 unless
/// it carries the largest reward r₀ among such responses and r₀ beats every data response by enough
/// that κ = −λ r₀ leaves mass over: that mass then goes to the argmax (split evenly on ties), a
/// point of the simplex's boundary, the limit of the softmax class (its logits are −∞ elsewhere).
public enum ParetoTabular {
    /// p minimising f for one prompt. `mu` ∈ (0, 1); β > 0 needs `reference` > 0 everywhere.
    public static func solvePrompt(mu: Double, beta: Double, data d: [Double], reward r: [Double],
                                   reference pi: [Double]) -> [Double] {
        let n = d.count
        let lambda = 1 - mu
        if n == 1 { return [1] }
        if beta > 0 {
            let logPi = pi.map { Foundation.log($0) }
            let c = (0..<n).map { -lambda * r[$0] + lambda * beta * (1 - logPi[$0]) }
            let lb = lambda * beta
            var u = [Double](repeating: 0, count: n)
            // S(κ) = Σ exp(u_y(κ)); S' = Σ p_y / (λβ + μ d_y / p_y).
            func sum(_ kappa: Double) -> (s: Double, ds: Double) {
                var s = 0.0, ds = 0.0
                for y in 0..<n {
                    u[y] = innerRoot(mu * d[y], lb, c[y] - kappa)
                    let p = Foundation.exp(u[y])
                    s += p
                    ds += p / (lb + mu * d[y] / p)
                }
                return (s, ds)
            }
            let kappa = monotoneRoot(start: (c.min() ?? 0), scale: 1 + lb, sum)
            _ = sum(kappa)
            let p = u.map { Foundation.exp($0) }
            let s = p.reduce(0, +)
            return p.map { $0 / s }
        }
        // β = 0.
        let support = (0..<n).filter { d[$0] > 0 }
        let rMaxData = support.map { r[$0] }.max()!
        // Over the data responses: p_y = μ d_y / (λ (ρ − r_y)) with ρ = −κ/λ > max r_data; write
        // s = ρ − rMaxData > 0 and solve Σ p_y = 1 (decreasing in s).
        func dataMass(_ rho: Double) -> (s: Double, ds: Double) {
            var s = 0.0, ds = 0.0
            for y in support {
                let gap = rho - r[y]
                s += mu * d[y] / (lambda * gap)
                ds -= mu * d[y] / (lambda * gap * gap)
            }
            return (s, ds)
        }
        // Increasing in κ = −λρ: root in ρ of dataMass(ρ) = 1, found as a root in −ρ.
        let rhoStar = -monotoneRoot(start: -(rMaxData + 1), scale: 1, lowerLimit: nil, upperLimit: -rMaxData) { negRho in
            let (s, ds) = dataMass(-negRho)
            return (s, -ds)
        }
        let zeroData = (0..<n).filter { d[$0] == 0 }
        var p = [Double](repeating: 0, count: n)
        if let r0 = zeroData.map({ r[$0] }).max(), r0 > rhoStar {
            // κ = −λ r₀: the data responses take Σ μ d_y / (λ (r₀ − r_y)) < 1; the rest goes to the argmax.
            for y in support { p[y] = mu * d[y] / (lambda * (r0 - r[y])) }
            let rest = 1 - support.reduce(0) { $0 + p[$1] }
            let top = zeroData.filter { r[$0] == r0 }
            for y in top { p[y] = rest / Double(top.count) }
            return p
        }
        for y in support { p[y] = mu * d[y] / (lambda * (rhoStar - r[y])) }
        let s = p.reduce(0, +)
        return p.map { $0 / s }
    }

    /// The root u of ψ(u) = −a·e^{−u} + b·u + c (a ≥ 0, b > 0): increasing and concave in u.
    /// ψ(u) ≤ b·u + c gives the lower end u_A = −c/b (ψ(u_A) ≤ 0); for u ≥ 0, −a e^{−u} ≥ −a gives
    /// the upper end max(u_A, 0, (a − c)/b).
    static func innerRoot(_ a: Double, _ b: Double, _ c: Double) -> Double {
        let lo = -c / b
        if a == 0 { return lo }
        let hi = Swift.max(lo, 0, (a - c) / b)
        return safeguardedNewton(lo: lo, hi: hi) { u in
            let ea = a * Foundation.exp(-u)
            return (-ea + b * u + c, ea + b)
        }
    }

    /// The root of an increasing function g(κ) − 1 (g returns the value and its derivative): expand
    /// a bracket from `start` by doubling steps of `scale` (toward `upperLimit`, where g → ∞,
    /// geometrically), then safeguarded Newton.
    static func monotoneRoot(start: Double, scale: Double, lowerLimit: Double? = nil, upperLimit: Double? = nil,
                             _ g: (Double) -> (s: Double, ds: Double)) -> Double {
        var lo = start, hi = start
        var step = scale
        if let u = upperLimit { lo = Swift.min(lo, u - scale); hi = lo }
        while g(lo).s > 1 { lo -= step; step *= 2 }
        step = scale
        if let u = upperLimit {
            var gapToLimit = u - lo
            hi = lo
            while g(hi).s < 1 { gapToLimit *= 0.5; hi = u - gapToLimit }
        } else {
            while g(hi).s < 1 { hi += step; step *= 2 }
        }
        return safeguardedNewton(lo: lo, hi: hi) { k in
            let (s, ds) = g(k)
            return (s - 1, ds)
        }
    }

    /// The root in [lo, hi] of an increasing f (f(lo) ≤ 0 ≤ f(hi)), given with its derivative:
    /// Newton steps while they stay inside the bracket and at least halve the step before last,
    /// bisection otherwise (Numerical Recipes' rtsafe rule), so it converges at least as fast as
    /// bisection; stops when the step falls below 2 ulp of the iterate or the bracket closes.
    static func safeguardedNewton(lo lo0: Double, hi hi0: Double, _ f: (Double) -> (Double, Double)) -> Double {
        var lo = lo0, hi = hi0
        if hi <= lo { return lo }
        var x = 0.5 * (lo + hi)
        var dxOld = hi - lo, dx = dxOld
        var (fx, dfx) = f(x)
        for _ in 0..<400 {
            if fx == 0 { return x }
            if fx < 0 { lo = x } else { hi = x }
            let newtonInside = fx.isFinite && dfx.isFinite && dfx > 0
                && ((x - hi) * dfx - fx) * ((x - lo) * dfx - fx) < 0
                && abs(2 * fx) <= abs(dxOld * dfx)
            dxOld = dx
            if newtonInside {
                dx = fx / dfx
                x -= dx
            } else {
                dx = 0.5 * (hi - lo)
                x = lo + dx
            }
            if abs(dx) <= 2 * x.ulp || hi - lo <= 2 * Swift.max(abs(lo), abs(hi)).ulp { return x }
            (fx, dfx) = f(x)
        }
        return x
    }
}

extension Instance {
    /// The Pareto front of (L_SFT, J_β) at the given SFT weights μ ∈ (0, 1) (any order), each point
    /// the minimiser of μ·L_SFT − (1−μ)·J_β over the class.
    ///
    /// - tabular: exact (``ParetoTabular``; the problem is strictly convex in p, so this is the
    ///   global front of the class's closure). Needs β > 0 with π_ref > 0, or β = 0.
    /// - log-linear: damped Newton in θ on the moving subspace, continued from the SFT optimum
    ///   (μ = 1) down the sorted μ's, each warm-started at the previous point. F_μ need not be convex
    ///   in θ, so these are stationary points found by continuation: a **local** front.
    /// - autoregressive: exact, the front of its sequence twin (``sequenceTabularTwin()``).
    public func paretoFront(mus: [Double]) throws -> [ParetoPoint] {
        for m in mus where !(m > 0 && m < 1) {
            throw ParetoError.invalid("every μ must lie strictly between 0 and 1, got \(m)")
        }
        if beta > 0, let x = reference.firstIndex(where: { $0.contains(0) }) {
            throw ParetoError.invalid("reference of prompt \(x) has a zero: with beta > 0 the KL to it is infinite; make it positive")
        }
        switch policy {
        case .tabular:
            return mus.map { mu in
                let probs = weights.indices.map { x in
                    ParetoTabular.solvePrompt(mu: mu, beta: beta, data: data[x], reward: reward[x], reference: reference[x])
                }
                return paretoPoint(mu: mu, probs: probs)
            }
        case .loglinear:
            var theta = try sftOptimum().theta
            var out: [Int: ParetoPoint] = [:]
            for k in mus.indices.sorted(by: { mus[$0] > mus[$1] }) {
                theta = try scalarisedNewton(mu: mus[k], from: theta)
                let pt = point(theta)
                out[k] = ParetoPoint(mu: mus[k], theta: theta, probs: pt.probs, sftLoss: value(.sft, at: pt),
                                     reward: value(.reward, at: pt), rewardReg: value(.rewardRegularized, at: pt))
            }
            return mus.indices.map { out[$0]! }
        case .autoregressive:
            return try sequenceTabularTwin().paretoFront(mus: mus)
        }
    }

    /// The tabular instance whose responses are this autoregressive instance's sequences (same q,
    /// p_D, r, π_ref per sequence). The autoregressive class is realisable (every full-support
    /// sequence distribution has node conditionals), L_SFT is the sequence log-loss (Lemma 1) and
    /// J_β is sequence-level, so both classes have the same front in the (L_SFT, J_β) plane; its
    /// points carry the twin's θ (centred log p per sequence), not node logits.
    public func sequenceTabularTwin() throws -> Instance {
        try Instance(beta: beta, weights: weights, data: data, reward: reward, reference: reference)
    }

    /// The exact tabular front point at μ ∈ (0, 1) (autoregressive: its sequence twin's); nil for the
    /// log-linear class (whose front is only local) or μ outside (0, 1).
    public func exactParetoPoint(mu: Double) -> ParetoPoint? {
        if case .autoregressive = policy { return (try? sequenceTabularTwin())?.exactParetoPoint(mu: mu) }
        guard case .tabular = policy, mu > 0, mu < 1 else { return nil }
        let probs = weights.indices.map { x in
            ParetoTabular.solvePrompt(mu: mu, beta: beta, data: data[x], reward: reward[x], reference: reference[x])
        }
        return paretoPoint(mu: mu, probs: probs)
    }

    /// The limits of the front: μ = 1 (the SFT optimum; tabular: p = p_D, attained in the closure)
    /// and μ = 0 (the RL optimum, only when β > 0: tabular the Gibbs tilt, log-linear a local
    /// maximiser from θ₀). Either is nil when it does not exist or cannot be found.
    public func paretoEnds() -> (sft: ParetoPoint?, rl: ParetoPoint?) {
        switch policy {
        case .tabular:
            let sftEnd = paretoPoint(mu: 1, probs: data)
            let rlEnd = beta > 0 && !reference.contains(where: { $0.contains(0) })
                ? paretoPoint(mu: 0, probs: weights.indices.map { Dist.gibbs(reference: reference[$0], reward: reward[$0], beta: beta) })
                : nil
            return (sftEnd, rlEnd)
        case .loglinear:
            func at(_ mu: Double, _ theta: [Double]) -> ParetoPoint {
                let pt = point(theta)
                return ParetoPoint(mu: mu, theta: theta, probs: pt.probs, sftLoss: value(.sft, at: pt),
                                   reward: value(.reward, at: pt), rewardReg: value(.rewardRegularized, at: pt))
            }
            let s = (try? sftOptimum()).map { at(1, $0.theta) }
            let r = beta > 0 ? (try? rlOptimum()).map { at(0, $0.theta) } : nil
            return (s, r)
        case .autoregressive:
            return (try? sequenceTabularTwin())?.paretoEnds() ?? (nil, nil)
        }
    }

    /// A tabular point from per-prompt probabilities (θ = centred log p; −∞ where p = 0): L_SFT (+∞ when
    /// p = 0 on the data's support), J and J_β of any policy given by its probabilities.
    public func paretoPoint(mu: Double, probs: [[Double]]) -> ParetoPoint {
        var theta: [Double] = []
        var sft = 0.0, rew = 0.0, reg = 0.0
        for (x, p) in probs.enumerated() {
            let l = p.map { Foundation.log($0) }
            let finite = l.filter(\.isFinite)
            let m = finite.reduce(0, +) / Double(finite.count)
            theta += l.map { $0 - m }
            guard weights[x] > 0 else { continue }
            sft += weights[x] * Dist.crossEntropy(data[x], p)
            let j = Dist.expectation(p, reward[x])
            rew += weights[x] * j
            reg += weights[x] * Dist.regularizedReward(p, reward: reward[x], reference: reference[x], beta: beta)
        }
        return ParetoPoint(mu: mu, theta: theta, probs: probs, sftLoss: sft, reward: rew, rewardReg: reg)
    }

    /// Minimises F_μ = μ·L_SFT − (1−μ)·J_β by damped Newton on the moving subspace (gradient
    /// steps where the restricted Hessian is not positive definite), Armijo backtracking, to
    /// ‖∇F_μ‖ ≤ 1e-10. Every derivative comes from ``gradient(_:at:)`` / ``hessian(_:at:)``.
    func scalarisedNewton(mu: Double, from theta0: [Double], maxIterations: Int = 400) throws -> [Double] {
        let sub = try MovingSubspace(instance: self)
        let lambda = 1 - mu
        func f(_ pt: PolicyPoint) -> Double { mu * value(.sft, at: pt) - lambda * value(.rewardRegularized, at: pt) }
        func grad(_ pt: PolicyPoint) -> [Double] {
            let a = gradient(.sft, at: pt), b = gradient(.rewardRegularized, at: pt)
            return a.indices.map { mu * a[$0] - lambda * b[$0] }
        }
        var theta = theta0
        var pt = point(theta)
        var fv = f(pt)
        for _ in 0..<maxIterations {
            let g = grad(pt)
            let gn = norm(g)
            if gn <= 1e-10 { return theta }
            let hs = hessian(.sft, at: pt), hr = hessian(.rewardRegularized, at: pt)
            var h = hs
            for i in h.data.indices { h.data[i] = mu * hs.data[i] - lambda * hr.data[i] }
            let dir = sub.newtonDirection(gradient: g, hessian: h)
            var step = 1.0
            var accepted = false
            while step > 1e-16 {
                let cand = axpy(theta, step, dir)
                let cpt = point(cand)
                let cf = f(cpt)
                if cf.isFinite && cf <= fv + 1e-4 * step * dot(g, dir) {
                    theta = cand; pt = cpt; fv = cf; accepted = true; break
                }
                step *= 0.5
            }
            if !accepted {
                if gn <= 1e-7 { return theta }
                throw ParetoError.notConverged(mu: mu, "line search failed at ‖∇F‖ = \(gn)")
            }
        }
        let gn = norm(grad(pt))
        if gn <= 1e-7 { return theta }
        throw ParetoError.notConverged(mu: mu, "\(maxIterations) Newton iterations left ‖∇F‖ = \(gn)")
    }
}
