import Foundation
import RealModule
import Linalg
import Policies

/// Thm 4.1 in the restricted class of `thm4.1-local`, with the reading the paper's proof uses: the
/// quantitative curvature (KL-growth) condition J(p_θ) ≤ J(p_RL1) − λ·E_x KL(p_θ‖p_RL1) holds, for one
/// λ > 0, over the whole A3 region {θ : E_x KL(p_θ‖p_RL1) ≤ A}, not only near θ₁. Then p_SFT2 lies in
/// that region and J(p_SFT2) ≤ J(p_RL1) − λ·a < J(p_RL1): the proof's C₂ = λ·a.
///
/// In the one-feature class, KL(p_θ‖p_θ₁) = (θ − θ₁)·E_θ[φ] − log Z(θ) + log Z(θ₁) has derivative
/// (θ − θ₁)·Var_θ(φ) (summed over prompts with their weights), so it increases as θ moves away from
/// θ₁ on either side and the A3 region is an interval [θ₁ − δ₋, θ₁ + δ₊] (unbounded on a side where
/// the KL saturates below A). The hypothesis is checked on a grid of 2 × 600 points of that interval
/// (each side capped at 10⁴) and at θ₂: λ* = min (J(θ₁) − J(θ))/KL(θ, θ₁) over the grid must be > 0.
struct Thm41LocalRegion: PrecisionGenericClaim {
    let id = "thm4.1-local-region"
    let reference = "Thm 4.1 (restricted class, curvature over the A3 region)"
    let statement = "RL-then-SFT in a log-linear class with a base measure, p_θ ∝ h·e^{θᵀφ}: with p_RL1 = p_θ₁ a strict local maximiser of J in the class, the quantitative curvature condition J(p_θ) ≤ J(p_RL1) − λ·E_x KL(p_θ‖p_RL1) holding for one λ > 0 at every θ of the A3 region E_x KL(p_θ‖p_RL1) ≤ A (the reading the paper's proof uses), and A3 (0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A) for p_SFT2 = p_θ₂: J(p_SFT2) < J(p_RL1) strictly."
    let hypotheses = [Hypothesis("local-max", "θ₁ is a strict local maximiser of J in the class: J'(θ₁) = 0 (to 1e-10·R_max) and J''(θ₁) < 0"),
                      Hypothesis("curvature-region", "KL-growth over the A3 region: λ* = min over 1,200 points of {θ : E KL(p_θ‖p_θ₁) ≤ A} and θ₂ of (J(θ₁) − J(θ))/E KL(p_θ‖p_θ₁) satisfies λ*/R_max ≥ 1e-9"),
                      Hypothesis("A3", "0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A < ∞")]
    let families: [Family] = [.multimodal]
    let strict = true

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        Thm41Local().generate(&g, family: family, dropping: dropping)
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
        let l1 = logp(T(t1))
        func kl(_ a: T) -> T {
            let la = logp(a)
            return q.indices.reduce(T(0)) { $0 + q[$1] * DistOf<T>.kl(la[$1].map { T.exp($0) }, l1[$1].map { T.exp($0) }, logP: la[$1], logQ: l1[$1]) }
        }
        let pt = inst.point([t1])
        let d1 = T(inst.gradient(.reward, at: pt)[0]), d2 = T(inst.hessian(.reward, at: pt)[0, 0])
        let j1 = value(T(t1)), j2 = value(T(t2))
        let localMax = Swift.min(T(1e-10) - abs(d1) / rmax, -d2 / rmax)
        // The A3 region on each side: double δ from 1e-3 until KL(θ₁ ± δ) > A (or δ > 10⁴), then a uniform grid.
        var lambdaStar = T.infinity
        var spans: [T] = []
        for s in [T(-1), T(1)] {
            var span = T(1e-3)
            while span < 10_000, kl(T(t1) + s * span) <= hi { span *= 2 }
            spans.append(span)
            for k in 1...600 {
                let t = T(t1) + s * span * T(k) / 600
                let d = kl(t)
                guard d <= hi, d > 0 else { continue }
                lambdaStar = Swift.min(lambdaStar, (j1 - value(t)) / d)
            }
        }
        let klSFT = kl(T(t2))
        if klSFT > 0, klSFT <= hi { lambdaStar = Swift.min(lambdaStar, (j1 - j2) / klSFT) }
        let curvature = lambdaStar.isFinite ? lambdaStar / rmax - T(1e-9) : -1
        return evaluation(hypotheses: ["local-max": localMax, "curvature-region": curvature, "A3": a3Margin(kl: klSFT, lo: lo, hi: hi)],
                          conclusion: (j1 - j2) / rmax,
                          quantities: ["theta_rl1": T(t1), "theta_sft2": T(t2), "J_rl1": j1, "J_sft2": j2, "kl": klSFT,
                                       "lambda_star": lambdaStar.isFinite ? lambdaStar : -1, "region_left": spans[0], "region_right": spans[1],
                                       "C2_lambda_a": lambdaStar.isFinite ? lambdaStar * lo : -1])
    }
}
