import Foundation
import Policies
import Claims
@testable import Search

/// Independent re-derivations of the corpus's violations: each recomputes, from the JSON
/// numbers alone and with plain Double loops (no claim code, no Policies formulas), the kept
/// hypotheses and the conclusion of one claim. Written from paper-notes.md, not from the claims.
struct IndependentVerdict {
    var hypothesesMet: Bool
    var violated: Bool
    var detail: String
}

enum Independent {
    static func check(_ f: Finding) throws -> IndependentVerdict {
        let kept = { (h: String) in !f.dropped.contains(h) }
        switch f.claim {
        case "eq5": return eq5(f)
        case "thm3.1": return try thm31(f, keptH10: kept("H10"), keptRef: kept("ref-is-sft"), keptBeta: kept("β > 0"))
        case "prop1": return try prop1(f, keptBudget: kept("kl-budget"))
        case "thm4.1": return try thm41(f, keptA3: kept("A3"), keptMax: kept("local-max"))
        case "thm4.1-regularised": return try thm41Regularised(f, keptA3: kept("A3"))
        case "r3-duration-actual": return try r3Actual(f)
        case "r1-local": return r1Local(f, keptStationary: kept("stationary"))
        case "r3-duration": return try r3Exact(f, keptIsotropic: kept("isotropic"))
        case "r4-step": return try r4Step(f)
        case "r5-spectral": return try r5(f)
        default: return IndependentVerdict(hypothesesMet: false, violated: false, detail: "no independent re-derivation written for \(f.claim)")
        }
    }

    // MARK: plain helpers

    static func normalised(_ p: [Double]) -> [Double] { let s = p.reduce(0, +); return p.map { $0 / s } }
    static func dot(_ a: [Double], _ b: [Double]) -> Double { var s = 0.0; for i in a.indices { s += a[i] * b[i] }; return s }
    static func kl(_ p: [Double], _ q: [Double]) -> Double {
        var s = 0.0
        for i in p.indices where p[i] > 0 { s += q[i] > 0 ? p[i] * log(p[i] / q[i]) : .infinity }
        return s
    }
    static func tv(_ p: [Double], _ q: [Double]) -> Double { var s = 0.0; for i in p.indices { s += abs(p[i] - q[i]) }; return s / 2 }
    /// log of the Gibbs tilt ref·e^{r/β}/Z, by a max-shifted log-sum-exp.
    static func logGibbs(_ ref: [Double], _ r: [Double], _ beta: Double) -> [Double] {
        let u = ref.indices.map { ref[$0] > 0 ? log(ref[$0]) + r[$0] / beta : -Double.infinity }
        let m = u.max()!
        var z = 0.0
        for v in u { z += exp(v - m) }
        return u.map { $0 - m - log(z) }
    }
    static func weights(_ inst: InstanceFile) -> [Double] { normalised(inst.prompts.map(\.weight)) }

    // MARK: claims

    /// Eq. 5 as printed: |E_p f − E_q f| ≤ sup|f|·TV(p, q), p = data, q = start, f = reward.
    static func eq5(_ f: Finding) -> IndependentVerdict {
        let p0 = f.instance.instance!.prompts[0]
        let p = normalised(p0.data), q = normalised(p0.start!), r = p0.reward
        var diff = 0.0
        for y in p.indices { diff += (p[y] - q[y]) * r[y] }
        let sup = r.map(abs).max()!
        let lhs = abs(diff), rhs = sup * tv(p, q)
        return IndependentVerdict(hypothesesMet: true, violated: lhs - rhs > 1e-12 * sup, detail: "lhs \(lhs) rhs \(rhs)")
    }

    /// Thm 3.1: ΔL = L_SFT(p_RL) − L_SFT(p_SFT) ≥ 0, p_RL ∝ π_ref e^{r/β}, L_SFT(p) = Σ_x q(x) Σ_y p_D log(1/p).
    static func thm31(_ f: Finding, keptH10: Bool, keptRef: Bool, keptBeta: Bool) throws -> IndependentVerdict {
        let inst = f.instance.instance!
        let w = weights(inst)
        var delta = 0.0
        var met = !keptBeta || inst.beta > 0
        for (x, p) in inst.prompts.enumerated() {
            let data = normalised(p.data)
            let sft = normalised(p.start ?? p.data)
            let ref = p.reference.map(normalised) ?? Array(repeating: 1 / Double(data.count), count: data.count)
            if keptH10 && tv(sft, data) != 0 { met = false }
            if keptRef && tv(ref, sft) != 0 { met = false }
            let lrl = logGibbs(ref, p.reward, inst.beta)
            for y in data.indices where data[y] > 0 { delta += w[x] * data[y] * (log(sft[y]) - lrl[y]) }
        }
        return IndependentVerdict(hypothesesMet: met, violated: delta < -1e-12, detail: "ΔL = \(delta)")
    }

    /// Prop. 1: E_x KL(p_SFT2‖p_RL1) ≤ B ⇒ J(p_SFT2) ≤ J(p_RL1) + R_max√(2B); p_SFT2 = data, p_RL1 = start.
    static func prop1(_ f: Finding, keptBudget: Bool) throws -> IndependentVerdict {
        let inst = f.instance.instance!
        let w = weights(inst)
        let b = try require(f.instance.parameters["B"])
        var klSum = 0.0, j2 = 0.0, j1 = 0.0, rmax = 0.0
        for (x, p) in inst.prompts.enumerated() {
            let d = normalised(p.data), s = normalised(p.start!)
            klSum += w[x] * kl(d, s)
            j2 += w[x] * dot(d, p.reward); j1 += w[x] * dot(s, p.reward)
            rmax = max(rmax, p.reward.map(abs).max()!)
        }
        let bound = j1 + rmax * (2 * b).squareRoot()
        return IndependentVerdict(hypothesesMet: !keptBudget || klSum <= b, violated: j2 - bound > 1e-12 * rmax,
                                  detail: "KL \(klSum) B \(b) J_sft2 \(j2) bound \(bound)")
    }

    /// Thm 4.1: under A3 and p_RL1 ⊆ argmax r, J(p_SFT2) < J(p_RL1) strictly; p_SFT2 = data, p_RL1 = start.
    static func thm41(_ f: Finding, keptA3: Bool, keptMax: Bool) throws -> IndependentVerdict {
        let inst = f.instance.instance!
        let w = weights(inst)
        let a = try require(f.instance.parameters["a"]), bigA = try require(f.instance.parameters["A"])
        var klSum = 0.0, j2 = 0.0, j1 = 0.0
        var onArgmax = true, dataOnArgmax = true
        for (x, p) in inst.prompts.enumerated() {
            let d = normalised(p.data), s = normalised(p.start!)
            let top = p.reward.max()!
            for y in s.indices where s[y] > 0 && p.reward[y] != top { onArgmax = false }
            for y in d.indices where d[y] > 0 && p.reward[y] != top { dataOnArgmax = false }
            klSum += w[x] * kl(d, s)
            j2 += w[x] * dot(d, p.reward); j1 += w[x] * dot(s, p.reward)
        }
        let a3 = a > 0 && a <= klSum && klSum <= bigA
        let met = (!keptA3 || a3) && (!keptMax || onArgmax)
        // Violated: J(p_SFT2) ≥ J(p_RL1). When both live on argmax r they are equal exactly (both = max r).
        let violated = (onArgmax && dataOnArgmax) || j2 - j1 > 1e-12 * max(abs(j1), 1e-300)
        return IndependentVerdict(hypothesesMet: met, violated: violated, detail: "KL \(klSum) in [\(a), \(bigA)]? J_sft2 \(j2) J_rl1 \(j1) on argmax \(onArgmax)/\(dataOnArgmax)")
    }

    /// Thm 4.1, regularised: J_β(p_SFT2) ≤ J_β(p*) − β·a with p* ∝ π_ref e^{r/β}, J_β(π) = Σ q(E_π r − β KL(π‖π_ref)).
    static func thm41Regularised(_ f: Finding, keptA3: Bool) throws -> IndependentVerdict {
        let inst = f.instance.instance!
        let w = weights(inst)
        let a = try require(f.instance.parameters["a"])
        let beta = inst.beta
        var klStar = 0.0, jData = 0.0, jStar = 0.0, rmax = 0.0
        for (x, p) in inst.prompts.enumerated() {
            let d = normalised(p.data)
            let ref = p.reference.map(normalised) ?? Array(repeating: 1 / Double(d.count), count: d.count)
            let star = logGibbs(ref, p.reward, beta).map { exp($0) }
            klStar += w[x] * kl(d, star)
            jData += w[x] * (dot(d, p.reward) - beta * kl(d, ref))
            jStar += w[x] * (dot(star, p.reward) - beta * kl(star, ref))
            rmax = max(rmax, p.reward.map(abs).max()!)
        }
        let bound = jStar - beta * a
        let met = beta > 0 && (!keptA3 || (a > 0 && a <= klStar))
        return IndependentVerdict(hypothesesMet: met, violated: jData - bound > 1e-12 * max(abs(jStar), rmax),
                                  detail: "J_β(data) \(jData) bound \(bound) KL \(klStar) a \(a)")
    }

    /// R3 on the actual utility: along θ̇ = −A(θ − θ_R) from θ₀, U'(t) = Σ_i a_i δ_i² e^{−a_i t}[(a_i + λb_i)e^{−a_i t} − λb_i]
    /// (δ = θ₀ − θ_R, closed form); its first zero must come no later than T* = ln(1 + μ/(λL))/μ, μ = min a, L = max b.
    static func r3Actual(_ f: Finding) throws -> IndependentVerdict {
        let m = try r3FirstMaximum(f)
        guard let t = m.t else { return IndependentVerdict(hypothesesMet: m.mu > 0, violated: true, detail: "U still rising at the horizon") }
        return IndependentVerdict(hypothesesMet: m.mu > 0 && m.smooth > 0, violated: t > m.tStar * (1 + 1e-6),
                                  detail: "first maximum of U at \(t), T* = \(m.tStar)")
    }

    /// The first zero of the closed-form U'(t) (scan, then bisection), T*, μ_R and L_S.
    static func r3FirstMaximum(_ f: Finding) throws -> (t: Double?, tStar: Double, mu: Double, smooth: Double) {
        let l = try require(f.instance.landscape, "landscape")
        let lambda = try require(f.instance.parameters["lambda"], "lambda")
        let mu = l.a.min()!, smooth = l.b.max()!
        let tStar = log(1 + mu / (lambda * smooth)) / mu
        func du(_ t: Double) -> Double {
            var s = 0.0
            for i in l.a.indices {
                let d = l.theta0[i] - l.thetaR[i], e = exp(-l.a[i] * t)
                s += l.a[i] * d * d * e * ((l.a[i] + lambda * l.b[i]) * e - lambda * l.b[i])
            }
            return s
        }
        let horizon = 40 / mu + 4 * tStar
        var lo = 0.0, hi = 0.0
        let steps = 200_000
        for k in 1...steps {
            let t = horizon * Double(k) / Double(steps)
            if du(t) <= 0 { hi = t; break }
            lo = t
        }
        guard hi > 0 else { return (nil, tStar, mu, smooth) }
        for _ in 0..<200 { let m = (lo + hi) / 2; if du(m) > 0 { lo = m } else { hi = m } }
        return ((lo + hi) / 2, tStar, mu, smooth)
    }
}

/// `#require` outside a test body: throws when nil.
func require<T>(_ v: T?, _ what: String = "value") throws -> T {
    guard let v else { throw ClaimError.invalid("missing \(what)") }
    return v
}

extension Independent {
    /// R3 exact form: for the pair J = −½(θ − θ_R)ᵀA(θ − θ_R), L = ½(θ − θ₀)ᵀB(θ − θ₀) the first
    /// maximum of U equals T* to a relative 1e-6 (the claim's resolution) — here with "isotropic"
    /// dropped, so the closed form's first zero of U' may differ.
    static func r3Exact(_ f: Finding, keptIsotropic: Bool) throws -> IndependentVerdict {
        let l = try require(f.instance.landscape, "landscape")
        let m = try r3FirstMaximum(f)
        let iso = Set(l.a).count == 1 && Set(l.b).count == 1
        guard let t = m.t else { return IndependentVerdict(hypothesesMet: !keptIsotropic || iso, violated: true, detail: "no maximum before the horizon") }
        return IndependentVerdict(hypothesesMet: !keptIsotropic || iso, violated: abs(t - m.tStar) / m.tStar > 1e-6,
                                  detail: "first maximum of U at \(t), T* = \(m.tStar)")
    }

    /// R4 step form with "smoothness" dropped (L_S = λ_max of the SFT Hessian at θ), tabular:
    /// H = blockdiag q(diag p − ppᵀ), g = ∇J_β; if cos∠(−∇L, g) > ηL_S‖g‖/(2‖∇L‖) the claim says the
    /// step θ + ηg lowers L_SFT. Violated when L_SFT does not fall.
    static func r4Step(_ f: Finding) throws -> IndependentVerdict {
        let inst = f.instance.instance!
        let pol = Policy(inst)
        let eta = try require(f.instance.parameters["eta"], "eta")
        let (a, b) = pol.logitGradients()
        let gl = pol.pullBack(a), g = pol.pullBack(b)
        // Hessian of L_SFT in θ: Σ_x q Φ_xᵀ(diag p − ppᵀ)Φ_x.
        let d = pol.theta.count
        var h = Array(repeating: Array(repeating: 0.0, count: d), count: d)
        for x in pol.q.indices {
            let p = pol.probs(x)
            for y in p.indices { for z in p.indices {
                let c = pol.q[x] * ((y == z ? p[y] : 0) - p[y] * p[z])
                for i in 0..<d { for j in 0..<d { h[i][j] += pol.phi[x][y][i] * c * pol.phi[x][z][j] } }
            } }
        }
        let ls = jacobiEigen(h).values.max()!
        let nl = dot(gl, gl).squareRoot(), ng = dot(g, g).squareRoot()
        let cos = -dot(gl, g) / (nl * ng)
        let condition = cos > eta * ls * ng / (2 * nl)
        func loss(_ th: [Double]) -> Double {
            var s = 0.0
            var q2 = pol
            q2.theta = th
            for x in pol.q.indices { let p = q2.probs(x); for y in p.indices where pol.data[x][y] > 0 { s -= pol.q[x] * pol.data[x][y] * log(p[y]) } }
            return s
        }
        let l0 = loss(pol.theta), l1 = loss(zip(pol.theta, g).map { $0 + eta * $1 })
        return IndependentVerdict(hypothesesMet: condition, violated: l1 >= l0,
                                  detail: "cos \(cos) threshold \(eta * ls * ng / (2 * nl)) L_SFT \(l0) → \(l1)")
    }
}
