import Foundation
import RealModule
import Linalg
import Policies

/// Thm 4.1 in a restricted class: the log-linear class with one feature φ(y) = y − (n−1)/2 and a
/// fixed base measure h, p_θ(y|x) ∝ h(y|x)·e^{θφ(y)}. With log h concave in y (a discretised
/// Gaussian of width 1/√c), p_θ concentrates around the response nearest θ/c, and a reward that
/// goes up and down along y makes J(θ) multimodal: each bump of the reward is a strict local
/// maximiser of J in the class.
///
/// p_RL1 = p_θ₁ with θ₁ the local maximiser of J reached by 1-D Newton ascent from the parameter
/// `theta_rl1` (so that shrinking re-locates it); p_SFT2 = p_θ₂, θ₂ = `theta_sft2`.
struct Thm41Local: PrecisionGenericClaim {
    let id = "thm4.1-local"
    let reference = "Thm 4.1 (restricted class, local maximiser)"
    let statement = "RL-then-SFT in a log-linear class with a base measure, p_θ ∝ h·e^{θᵀφ}: with p_RL1 = p_θ₁ a strict local maximiser of J in the class, the quantitative curvature condition J(p_θ) ≤ J(p_RL1) − λ·E_x KL(p_θ‖p_RL1) (λ > 0) holding near it, and A3 (0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A) for p_SFT2 = p_θ₂ in the class: J(p_SFT2) < J(p_RL1) strictly."
    let hypotheses = [Hypothesis("local-max", "θ₁ is a strict local maximiser of J in the class: J'(θ₁) = 0 (to 1e-10·R_max) and J''(θ₁) < 0"),
                      Hypothesis("curvature", "KL-growth near θ₁: J(p_θ) ≤ J(p_θ₁) − λ·E KL(p_θ‖p_θ₁) with λ = ½|J''(θ₁)|/F(θ₁) > 0 at 20 points of |θ − θ₁| ≤ ρ = ½·√(2·0.01·R_max/|J''|) (F the Fisher information)"),
                      Hypothesis("A3", "0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A < ∞")]
    let families: [Family] = [.multimodal]
    let strict = true

    /// φ(y) = y − (n−1)/2 for n responses (a one-feature matrix).
    static func features(_ n: Int) -> [[Double]] { (0..<n).map { [Double($0) - Double(n - 1) / 2] } }

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = g.int(1...2)
        let n = g.int(3...7)
        let c = Foundation.pow(10, g.uniform(-0.3, 1))
        let prompts: [InstanceFile.Prompt] = (0..<m).map { _ in
            let phi = Thm41Local.features(n).map { $0[0] }
            let base = phi.map { Foundation.exp(-c * $0 * $0 / 2 + 0.3 * g.normal()) }
            return .init(weight: g.uniform(0.2, 1), data: Generate.positiveSimplex(&g, n), reward: untiedReward(&g, n), base: base)
        }
        let half = c * (Double(n - 1) / 2 + 1)
        let guess = g.uniform(-half, half)
        var f = InstanceFile(beta: 0, policy: .init(kind: "loglinear", features: (0..<m).map { _ in Thm41Local.features(n) }, theta: [guess]), prompts: prompts)
        var ci = ClaimInstance(family: family, instance: f, parameters: ["theta_rl1": guess, "theta_sft2": g.uniform(-half, half), "a": 0.01, "A": 1])
        // The A3 band around the KL of the drawn θ₂ (measured in Double at the located θ₁).
        if let t1 = try? Thm41Local.localMax(ci) {
            f.policy.theta = [t1]
            ci.instance = f
            ci.parameters["theta_rl1"] = t1   // the evaluation's Newton ascent then starts converged
            if let inst = try? Instance(file: f) {
                let p1 = inst.point([t1]), p2 = inst.point([ci.parameters["theta_sft2"]!])
                let kl = inst.weights.indices.reduce(0.0) { $0 + inst.weights[$1] * Dist.kl(p2.probs[$1], p1.probs[$1], logP: p2.logProbs[$1], logQ: p1.logProbs[$1]) }
                for (k, v) in a3Band(&g, kl: kl, dropping: dropping) { ci.parameters[k] = v }
            }
        }
        return ci
    }

    /// θ₁: 1-D Newton ascent on J from `theta_rl1` (steps capped at 1, halved until J rises; a unit
    /// step uphill where J'' ≥ 0), to |J'| ≤ 1e-13·max(1, R_max); after 200 steps the last point (whose
    /// `local-max` margin then says whether it is one). A step too small to change t in Double ends
    /// the walk early with the same result (each iteration is a function of t alone).
    static func localMax(_ ci: ClaimInstance) throws -> Double {
        let inst = try Instance(file: try ci.requireInstance())
        guard inst.policy.dimension == 1 else { throw ClaimError.invalid("thm4.1-local uses one feature (d = 1)") }
        var t = try ci.parameter("theta_rl1")
        let tol = 1e-13 * Swift.max(1, inst.rewardBound)
        for _ in 0..<200 {
            let pt = inst.point([t])
            let d1 = inst.gradient(.reward, at: pt)[0], d2 = inst.hessian(.reward, at: pt)[0, 0]
            if abs(d1) <= tol { return t }
            var step = d2 < 0 ? -d1 / d2 : (d1 > 0 ? 1 : -1)
            step = Swift.max(-1, Swift.min(1, step))
            let j0 = inst.value(.reward, at: pt)
            var k = 0
            while inst.value(.reward, at: inst.point([t + step])) < j0 && k < 60 { step /= 2; k += 1 }
            // A step lost in t's rounding leaves t, and so every later iteration, unchanged: the
            // remaining iterations would return this t (the same result, without repeating them).
            if t + step == t { return t }
            t += step
        }
        return t
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let f = try ci.requireInstance()
        let inst = try Instance(file: f)
        let t1 = try Thm41Local.localMax(ci)
        let t2 = try ci.parameter("theta_sft2")
        let lo = T(try ci.parameter("a")), hi = T(try ci.parameter("A"))
        let m = OneFeatureClass<T>(file: f, instance: inst)
        let q = m.q, rmax = m.rmax
        func logp(_ t: T) -> [[T]] { m.logp(t) }
        func value(_ t: T) -> T { m.value(t) }
        func kl(_ a: T, _ b: T) -> T {
            let la = logp(a), lb = logp(b)
            return q.indices.reduce(T(0)) { $0 + q[$1] * DistOf<T>.kl(la[$1].map { T.exp($0) }, lb[$1].map { T.exp($0) }, logP: la[$1], logQ: lb[$1]) }
        }
        let pt = inst.point([t1])
        let d1 = T(inst.gradient(.reward, at: pt)[0]), d2 = T(inst.hessian(.reward, at: pt)[0, 0])
        let fisher = T(inst.fisher(at: pt)[0, 0])
        let j1 = value(T(t1)), j2 = value(T(t2))
        let localMax = Swift.min(T(1e-10) - abs(d1) / rmax, -d2 / rmax)
        // KL-growth with λ = ½|J''|/F on |θ − θ₁| ≤ ρ, where the quadratic model of J is good to 1% of R_max.
        let lambda = d2 < 0 && fisher > 0 ? -d2 / (2 * fisher) : 0
        let rho = d2 < 0 ? (2 * T(0.01) * rmax / -d2).squareRoot() / 2 : 0
        var growth = lambda > 0 ? T.infinity : -1
        if lambda > 0 {
            for k in 1...10 {
                for s in [T(-1), T(1)] {
                    let t = T(t1) + s * rho * T(k) / 10
                    growth = Swift.min(growth, (j1 - value(t) - lambda * kl(t, T(t1))) / rmax)
                }
            }
        }
        let klSFT = kl(T(t2), T(t1))
        return evaluation(hypotheses: ["local-max": localMax, "curvature": growth, "A3": a3Margin(kl: klSFT, lo: lo, hi: hi)],
                          conclusion: (j1 - j2) / rmax,
                          quantities: ["theta_rl1": T(t1), "theta_sft2": T(t2), "J_rl1": j1, "J_sft2": j2, "kl": klSFT, "lambda": lambda, "rho": rho,
                                       "J_second_derivative": d2, "fisher": fisher])
    }

    var workedExample: WorkedExample? {
        let phi = Thm41Local.features(5)
        let base = phi.map { Foundation.exp(-2 * $0[0] * $0[0]) }   // c = 4: p_θ concentrates near y = θ/4
        let f = InstanceFile(beta: 0, policy: .init(kind: "loglinear", features: [phi], theta: [-4]),
                             prompts: [.init(weight: 1, data: [0.1, 0.2, 0.4, 0.2, 0.1], reward: [0, 1, 0, 2, 0], base: base)])
        return WorkedExample("one prompt, φ = (−2, …, 2), h ∝ e^{−2φ²}, r = (0, 1, 0, 2, 0): J has strict local maxima at θ ≈ −4 (mass 0.79 on y₁, J = 0.787) and θ = 4 (mass 0.79 on y₃, J = 1.574); p_RL1 is the first, SFT moves to θ₂ = 4 at KL 7.99 ∈ [a, A] = [1, 10] and doubles the reward",
                             ClaimInstance(family: .multimodal, instance: f, parameters: ["theta_rl1": -4, "theta_sft2": 4, "a": 1, "A": 10]))
    }
    var failureExplanation: String? {
        "Strict local maximality and KL-growth control J only near p_RL1, while A3's lower bound forces p_SFT2 a KL distance a away: when J is multimodal over the class, that distance can reach another basin with more reward."
    }
}

/// The one-feature log-linear class with a base measure of ``Thm41Local``'s instances, in
/// precision T: log p_t(y|x) = log h(y|x) + t·φ(y|x) − log Σ_y' h(y'|x)e^{t·φ(y'|x)}, and
/// J(t) = Σ_x q(x) E_{p_t(·|x)} r(x, ·); R_max (never 0) scales the claims' margins.
struct OneFeatureClass<T: Real & BinaryFloatingPoint> {
    let q: [T], reward: [[T]], logBase: [[T]], phi: [[T]], rmax: T

    init(file f: InstanceFile, instance inst: Instance) {
        q = inst.weights.map { T($0) }
        reward = inst.reward.map { $0.map { T($0) } }
        logBase = (inst.logBase ?? inst.reward.map { $0.map { _ in 0 } }).map { $0.map { T($0) } }
        phi = (f.policy.features ?? []).map { $0.map { T($0[0]) } }
        rmax = T(Swift.max(inst.rewardBound, Double.leastNormalMagnitude))
    }

    func logp(_ t: T) -> [[T]] { phi.indices.map { x in DistOf<T>.logSoftmax(phi[x].indices.map { logBase[x][$0] + t * phi[x][$0] }) } }

    func value(_ t: T) -> T {
        let l = logp(t)
        return q.indices.reduce(T(0)) { $0 + q[$1] * DistOf<T>.expectation(l[$1].map { T.exp($0) }, reward[$1]) }
    }
}
