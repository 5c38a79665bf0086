import Foundation
import RealModule
import Linalg
import Policies

/// R4's PL-gap form. Under μ_S-PL, ‖∇L_SFT‖² ≥ 2μ_S(L_SFT − L*); so L_SFT − L* > η²L_S²‖g‖²/(8μ_S cos²∠)
/// gives ‖∇L_SFT‖ > ηL_S‖g‖/(2cos∠), the step condition of `r4-step`, and the descent lemma then
/// lowers L_SFT along θ + ηg (g = ∇J_β).
///
/// μ_S is the PL ratio at θ, ½‖∇L_SFT(θ)‖²/(L_SFT(θ) − L*): every constant with which L_SFT is PL
/// on a region containing θ is at most this ratio, and a smaller μ_S only strengthens the gap
/// condition, so checking with it covers every valid μ_S (it is the weakest form of the hypothesis;
/// with it the gap condition is algebraically the step condition of `r4-step`). L_S = ½λ_max(Σ_x q
/// Φ_xᵀΦ_x), the global smoothness bound; L* the class's SFT optimum. The step is η = `eta_fraction` × the
/// largest η the gap condition allows (a fraction ≥ 1 breaks the hypothesis `pl-gap`).
struct R4PLGap: PrecisionGenericClaim {
    let id = "r4-pl-gap"
    let reference = "reconstruction of v2 (R4, PL-gap form)"
    let statement = "Under μ_S-PL: if L_SFT(θ) − L* > η²L_S²‖g‖²/(8μ_S cos²∠(−∇L_SFT, g)) with cos∠ > 0, g = ∇J_β, then the step θ + ηg lowers L_SFT (μ_S the PL ratio at θ, which every valid PL constant is below; L_S the global smoothness bound)."
    let hypotheses = [Hypothesis("PL", "L_SFT is μ_S-PL at θ with μ_S = ½‖∇L_SFT(θ)‖²/(L_SFT(θ) − L*) > 0 (the largest valid constant: see the proof page)"),
                      Hypothesis("pl-gap", "L_SFT(θ) − L* > η²L_S²‖g‖²/(8μ_S cos²∠) and cos∠(−∇L_SFT, g) > 0"),
                      Hypothesis("resolvable", "the step is numerically visible: η|⟨∇L_SFT, g⟩| ≥ 1e-12·max(1, L_SFT) (a hypothesis of the numerical check, not of the paper)")]
    let families: [Family] = [.tabularMulti, .loglinear]
    let strict = true

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        var ci = R4Step().generate(&g, family: family, dropping: [])
        ci.parameters = ["eta_fraction": dropping.contains("pl-gap") ? g.uniform(1, 4) : g.uniform(0.01, 1)]
        return ci
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let s = try R4Step().setUp(ci, local: false)
        let fraction = try ci.parameter("eta_fraction")
        let opt = try s.inst.sftOptimum().theta
        let gap = s.inst.value(.sft, at: s.inst.point(s.theta)) - s.inst.value(.sft, at: s.inst.point(opt))
        let gn = norm(s.g), ln = norm(s.gradL)
        let cos = cosine(scaled(s.gradL, -1), s.g)
        let mu = gap > 0 ? 0.5 * ln * ln / gap : Double.infinity
        let sw = (gap: gap, converged: true)
        // The largest η with gap > η²L²‖g‖²/(8μ cos²): η_gap = √(8μ·gap)·cos/(L_S‖g‖).
        let etaGap = cos > 0 && mu.isFinite && mu > 0 && sw.gap > 0 ? (8 * mu * sw.gap).squareRoot() * cos / (s.ls * gn) : 0
        let eta = fraction * etaGap
        let threshold = eta * eta * s.ls * s.ls * gn * gn / (8 * mu * cos * cos)
        let established = sw.converged && mu.isFinite && mu > 0
        func loss(_ theta: [T]) -> T { s.inst.sftLoss(at: theta) }
        let th = s.theta.map { T($0) }
        let l0 = loss(th)
        let l1 = loss(zip(th, s.g).map { $0 + T(eta) * T($1) })
        return Evaluation(hypotheses: ["PL": established ? mu : -1,
                                       "pl-gap": etaGap > 0 ? (sw.gap - threshold) / Swift.max(sw.gap, 1e-300) : -1,
                                       "resolvable": eta * abs(dot(s.gradL, s.g)) / Swift.max(1, Double(abs(l0))) - 1e-12],
                          conclusion: Double((l0 - l1) / Swift.max(abs(l0), T.leastNormalMagnitude)),
                          quantities: ["mu_S": mu, "sft_excess": sw.gap, "gap_threshold": threshold, "eta": eta, "eta_gap_limit": etaGap, "cos": cos,
                                       "L_S": s.ls,                                        "sft_loss_before": Double(l0), "sft_loss_after": Double(l1)])
    }
}
