import Foundation
import Claims

/// How close an inequality comes to equality, as a ratio lhs/rhs read from an evaluation's
/// quantities (1 = equality; > 1 would be a violation), with the supremum known from the analysis.
/// A ratio counts only when its denominator is above a round-off floor (1e-6 on the claim's
/// scale; 1e-3 for r5-spectral, whose check has no extended precision) and the Double and extended evaluations agree on it to 1e-6 (see `Searcher`).
public struct TightnessSpec: Sendable {
    public let claim: String
    /// What the ratio is, in words ("TV/√(KL/2)").
    public let measure: String
    /// The ratio of an evaluation (nil when undefined, e.g. 0/0).
    public let ratio: @Sendable (Evaluation) -> Double?
    /// The known supremum over instances meeting the hypotheses (nil: unbounded).
    public let knownSupremum: Double?
    /// Whether some instance attains it (as opposed to a limit).
    public let attained: Bool
    /// Where the supremum comes from.
    public let note: String

    /// The claims with a tightness measure.
    public static let all: [TightnessSpec] = [
        TightnessSpec(claim: "eq6-pinsker", measure: "TV(p,q) / √(KL(p‖q)/2)", ratio: { q($0, "tv", "sqrt_half_kl", floor: 1e-6) },
                      knownSupremum: 1, attained: false,
                      note: "Pinsker's constant is sharp: the ratio tends to 1 as q → p along a two-point perturbation, and is < 1 for every p ≠ q."),
        TightnessSpec(claim: "prop1", measure: "(E_{p_SFT2} r − E_{p_RL1} r) / (R_max·√(2B))",
                      ratio: { e in
                          guard let s = e.quantities["J_sft2"], let r = e.quantities["J_rl1"], let b = e.quantities["bound"] else { return nil }
                          return b - r > 1e-6 * (e.quantities["R_max"] ?? 1) ? (s - r) / (b - r) : nil
                      },
                      knownSupremum: 1, attained: false,
                      note: "Approached with two responses, r = ±R_max, B = E KL and p_SFT2 → p_RL1 (each step of the proof is then tight in the limit: |ΔE r| = 2R_max·TV, Pinsker, Jensen with one prompt)."),
        TightnessSpec(claim: "r5-spectral", measure: "|cos_K(a,b) − cos_K(P_k a, P_k b)·√((1−ρ_a)(1−ρ_b))| / √(ρ_a ρ_b)",
                      ratio: { q($0, "lhs", "rhs", floor: 1e-3) }, knownSupremum: 1, attained: true,
                      note: "Cauchy–Schwarz on the out-of-subspace parts (I − P_k)a, (I − P_k)b in the K inner product: equality when they are K-parallel (e.g. one eigen-direction outside the top k)."),
        TightnessSpec(claim: "r3-duration", measure: "t_argmax / T* (measured on the integrated flow)",
                      ratio: { q($0, "t_argmax_measured", "T_star") }, knownSupremum: 1, attained: true,
                      note: "For the isotropic pair T* is the exact argmax: every instance has ratio 1 up to the integrator's event location; the search reports how far from 1 the measured ratio gets."),
        TightnessSpec(claim: "r3-duration-actual", measure: "t_argmax / T* (measured on the integrated flow)",
                      ratio: { q($0, "t_argmax_measured", "T_star") }, knownSupremum: nil, attained: false,
                      note: "Unbounded: a coordinate with a_i = μ_R and b_i ≪ L_S has its own argmax (1/μ_R)·ln(1 + μ_R/(λ b_i)) → ∞ as b_i → 0; the reading fails whenever the ratio exceeds 1."),
        TightnessSpec(claim: "eq4-triangle", measure: "TV(p,r) / (TV(p,q) + TV(q,r))", ratio: { q($0, "tv_pr", "tv_pq_plus_tv_qr", floor: 1e-6) },
                      knownSupremum: 1, attained: true, note: "Equality when q lies between p and r coordinatewise (e.g. on the segment)."),
        TightnessSpec(claim: "eq5", measure: "|E_p f − E_q f| / (sup|f|·TV)", ratio: { e in (e.quantities["tv"] ?? 0) > 1e-6 ? q(e, "lhs", "rhs") : nil },
                      knownSupremum: 2, attained: true, note: "As printed the constant is too small by 2: f = ±c on the two sides of p − q attains ratio 2."),
        TightnessSpec(claim: "eq5-2sup", measure: "|E_p f − E_q f| / (2 sup|f|·TV)", ratio: { e in (e.quantities["tv"] ?? 0) > 1e-6 ? q(e, "lhs", "rhs") : nil },
                      knownSupremum: 1, attained: true, note: "Attained by f = +sup|f| where p > q and −sup|f| where p < q."),
        TightnessSpec(claim: "eq5-osc", measure: "|E_p f − E_q f| / ((max f − min f)·TV)", ratio: { e in (e.quantities["tv"] ?? 0) > 1e-6 ? q(e, "lhs", "rhs") : nil },
                      knownSupremum: 1, attained: true, note: "Attained by f taking its max where p > q and its min where p < q."),
        TightnessSpec(claim: "thm4.1-regularised", measure: "β·a / (J_β(p_RL1) − J_β(p_SFT2))",
                      ratio: { e in
                          guard let j1 = e.quantities["J_beta_rl1"], let j2 = e.quantities["J_beta_sft2"], let b = e.quantities["bound"] else { return nil }
                          return j1 - j2 > 1e-6 * Swift.max(1, abs(j1)) ? (j1 - b) / (j1 - j2) : nil
                      },
                      knownSupremum: 1, attained: true, note: "J_β(π) = J_β(p_RL1) − β·E KL(π‖p_RL1) exactly, so the ratio is a/E KL: 1 when a equals the KL."),
    ]

    public static func spec(for claim: String) -> TightnessSpec? { all.first { $0.claim == claim } }

    /// num/den, undefined when den ≤ floor (a ratio of round-off-sized quantities is not evidence).
    private static func q(_ e: Evaluation, _ num: String, _ den: String, floor: Double = 0) -> Double? {
        guard let n = e.quantities[num], let d = e.quantities[den], d > floor, n.isFinite, d.isFinite else { return nil }
        return n / d
    }
}
