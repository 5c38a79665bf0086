import Foundation
import RealModule
import Linalg

/// R3's general bound, for anisotropic quadratic pairs (diagonal A ⪰ μ_R I, B ⪯ L_S I) with the
/// RL flow in closed form, θ_t,i − θ_R,i = e^{−a_i t}(θ₀,i − θ_R,i):
///
/// - Δ_t = J* − J(θ_t) = ½Σ a_i (θ₀,i − θ_R,i)² e^{−2a_i t}, u_t = √(Δ_t/Δ₀);
/// - U(t) = (Δ₀ − Δ_t) − λ·L_SFT(θ_t), L_SFT(θ_t) = ½Σ b_i (θ_R,i − θ₀,i)²(1 − e^{−a_i t})²;
/// - G(t) = Δ₀[(1 − u_t²) − κ(1 − u_t)²], κ = λL_S/μ_R: the proof's guaranteed utility.
///
/// Conclusion: G(t) ≤ U(t) on a grid of 200 times up to 4T* + 5/μ_R, and the time at which G peaks
/// along the flow (u_t = u* = κ/(1+κ), found by bisection: u_t decreases) is no later than T*.
struct R3Bound: PrecisionGenericClaim {
    let id = "r3-bound"
    let reference = "reconstruction of v2 (R3, guaranteed-utility bound)"
    let statement = "For a quadratic pair with −J μ_R-PL (A ⪰ μ_R I) and L_SFT L_S-smooth (B ⪯ L_S I), along the RL flow from the SFT minimiser the guaranteed utility G(t) = Δ₀[(1 − u_t²) − κ(1 − u_t)²] (u_t = √(Δ_t/Δ₀), Δ_t = J* − J(θ_t), κ = λL_S/μ_R) satisfies G(t) ≤ U(t), and G peaks no later than T* = (1/μ_R)·ln(1 + μ_R/(λL_S))."
    let hypotheses = [Hypothesis("PL", "A ⪰ μ_R I with μ_R = min diag A > 0"), Hypothesis("smooth", "B ⪯ L_S I with L_S = max diag B")]
    let families: [Family] = [.quadraticAnisotropic]

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        quadraticInstance(&g, family: family, isotropic: false)
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let l = try validLandscape(ci, claim: id)
        let lambda = T(try ci.parameter("lambda"))
        let a = l.a.map { T($0) }, b = l.b.map { T($0) }
        let d = zip(l.theta0, l.thetaR).map { T($0) - T($1) }
        let mu = a.min()!, ls = b.max()!
        let tStar = T.log(1 + mu / (lambda * ls)) / mu
        let kappa = lambda * ls / mu
        func delta(_ t: T) -> T {
            var s: T = 0
            for i in a.indices { let e: T = T.exp(-2 * a[i] * t); s += a[i] * d[i] * d[i] * e }
            return s / 2
        }
        let d0 = delta(0)
        guard d0 > 0 else { throw ClaimError.invalid("r3-bound needs θ₀ ≠ θ_R (Δ₀ > 0)") }
        func sft(_ t: T) -> T {
            var s: T = 0
            for i in b.indices { let e: T = 1 - T.exp(-a[i] * t); s += b[i] * d[i] * d[i] * e * e }
            return s / 2
        }
        func u(_ t: T) -> T { (delta(t) / d0).squareRoot() }
        func utility(_ t: T) -> T { d0 - delta(t) - lambda * sft(t) }
        func guaranteed(_ t: T) -> T { let v = u(t); return d0 * ((1 - v * v) - kappa * (1 - v) * (1 - v)) }
        let horizon = 4 * tStar + 5 / mu
        var worst = T.infinity
        for k in 1...200 {
            let t = horizon * T(k) / 200
            worst = Swift.min(worst, (utility(t) - guaranteed(t)) / d0)
        }
        // The peak of G along the flow: u_t = u*, by bisection on [0, horizon'] (u decreases in t).
        let uStar = kappa / (1 + kappa)
        var lo: T = 0, hi = horizon
        while u(hi) > uStar { hi *= 2 }
        for _ in 0..<200 { let mid = (lo + hi) / 2; if u(mid) > uStar { lo = mid } else { hi = mid } }
        let tG = (lo + hi) / 2
        return evaluation(hypotheses: ["PL": mu, "smooth": ls],
                          conclusion: Swift.min(worst, (tStar - tG) / tStar),
                          quantities: ["T_star": tStar, "t_peak_G": tG, "min_U_minus_G_over_delta0": worst, "kappa": kappa, "delta0": d0])
    }

    var workedExample: WorkedExample? {
        WorkedExample("the anisotropic pair of r3-duration-actual: A = I, B = diag(2, 0.02), θ_R = (1, 3), θ₀ = 0, λ = 1: the actual utility peaks after T*, the guaranteed one before",
                      ClaimInstance(family: .quadraticAnisotropic, parameters: ["lambda": 1], landscape: Landscape(a: [1, 1], b: [2, 0.02], thetaR: [1, 3], theta0: [0, 0])))
    }
    var tightness: Tightness? {
        Tightness(measure: "t_peak(G) / T*", ratio: Tightness.quotient("t_peak_G", "T_star"), knownSupremum: 1, attained: true,
                  note: "G peaks when u_t = u*, and u_t = e^{−μ_R t} exactly when every coordinate with θ₀,i ≠ θ_R,i has a_i = μ_R: then the peak is at T*.",
                  witness: WorkedExample("A = diag(1, 5) with θ₀ − θ_R along the first axis only: u_t = e^{−t}",
                                         ClaimInstance(family: .quadraticAnisotropic, parameters: ["lambda": 1], landscape: Landscape(a: [1, 5], b: [2, 0.5], thetaR: [1, 0], theta0: [0, 0]))))
    }
}
