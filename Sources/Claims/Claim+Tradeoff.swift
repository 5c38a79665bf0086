import Foundation
import RealModule
import Linalg
import Policies
import Flows

/// Thm 3.1's trade-off identity: at the Gibbs optimum from π_ref = p_SFT under H10, the reward gain
/// is β times the symmetrised KL, and the SFT-loss increase C₁(β) = KL(p_SFT‖p_RL) is at most ΔJ/β.
///
/// With log p_RL − log p_SFT = r/β − log Z_β: KL(p_RL‖p_SFT) = E_RL r/β − log Z_β and
/// KL(p_SFT‖p_RL) = log Z_β − E_SFT r/β, whose sum is (E_RL r − E_SFT r)/β.
struct Thm31Tradeoff: PrecisionGenericClaim {
    let id = "thm3.1-tradeoff"
    let reference = "Thm 3.1 (trade-off identity)"
    let statement = "Under H10 with π_ref = p_SFT and p_RL the Gibbs optimum of J_β: J(p_RL) − J(p_SFT) = β·E_x[KL(p_RL‖p_SFT) + KL(p_SFT‖p_RL)], and C₁(β) ≤ (J(p_RL) − J(p_SFT))/β."
    let hypotheses = Thm31().hypotheses
    let families = ["tabular-single", "tabular-multi"]

    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        sftThenRLInstance(&g, family: family, dropping: dropping)
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let f = try ci.requireInstance()
        let s = try SFTThenRL<T>(f)
        let a = Arrays<T>(f)
        var forward: T = 0, backward: T = 0
        for x in a.prompts where a.q[x] > 0 {
            let lp = DistOf<T>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            let p = lp.map { T.exp($0) }
            forward += a.q[x] * DistOf<T>.kl(p, a.start[x], logP: lp)
            backward += a.q[x] * DistOf<T>.kl(a.start[x], p, logQ: lp)
        }
        let symmetrised = forward + backward
        let perBeta = s.gain / s.beta
        let identity = identityMargin(s.gain, s.beta * symmetrised)
        // C₁ ≤ ΔJ/β is compared as β·C₁ ≤ ΔJ on the reward's scale R_max: dividing a round-off-
        // sized ΔJ by a small β would blow its rounding up past the certification bound.
        // (A zero reward has R_max = 0: then both sides are 0 up to rounding, compared on scale 1.)
        let bound = inequalityMargin(s.beta * s.c1, s.gain, scale: s.rmax > 0 ? s.rmax : 1)
        return evaluation(hypotheses: s.hypotheses, conclusion: Swift.min(identity, bound),
                          quantities: ["reward_gain": s.gain, "beta_times_symmetrised_kl": s.beta * symmetrised, "kl_rl_sft": forward, "kl_sft_rl": backward,
                                       "C1": s.c1, "gain_over_beta": perBeta, "beta": s.beta])
    }

    var workedExample: WorkedExample? { thm31Example }
    var tightness: Tightness? {
        Tightness(measure: "C₁(β) / (ΔJ/β)",
                  ratio: { e in
                      guard let c = e.quantities["C1"], let g = e.quantities["gain_over_beta"], g > 1e-9 else { return nil }
                      return c / g
                  },
                  knownSupremum: 1, attained: false,
                  note: "C₁ = KL(p_SFT‖p_RL) and ΔJ/β = KL(p_SFT‖p_RL) + KL(p_RL‖p_SFT): as β → 0 the first grows like 1/β while the second stays bounded by −log p_SFT(argmax), so the ratio tends to 1.",
                  witness: WorkedExample("p_SFT = p_D = π_ref = (½, ½), r = (1, 0), β = 0.001: C₁ ≈ 499.3, ΔJ/β ≈ 500",
                                         ClaimInstance(family: "tabular-single", instance: Generate.file(beta: 0.001, weights: [1], data: [[0.5, 0.5]], reward: [[1, 0]],
                                                                                                        reference: [[0.5, 0.5]]))))
    }
}

/// R1 along the whole flow: in Thm 3.1's setting (π_ref = p_SFT = p_D, tabular, so L* = E_x H(p_D)),
/// L_SFT(θ_t) − L* = E_x KL(p_D‖p_θt) is non-decreasing along the RL flow θ̇ = ∇J_β from θ₀ = log p_D.
struct R1Monotone: Claim {
    let id = "r1-monotone"
    let reference = "reconstruction of v2 (R1, monotone reading)"
    let statement = "In Thm 3.1's setting (π_ref = p_SFT = p_D, tabular softmax), L_SFT(θ_t) − L* is non-decreasing along the whole RL flow θ̇ = ∇J_β started at p_D (checked on 40 times of [0, T], T up to 30, in nats)."
    let hypotheses = [Hypothesis("ref-is-data", "π_ref = p_SFT = p_D (H10 and the reference of Thm 3.1)"), Hypothesis("β > 0", "the KL coefficient is positive")]
    let families = ["tabular"]

    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        let m = g.int(1...3)
        let sizes = (0..<m).map { _ in g.int(2...6) }
        let data = sizes.map { n in Generate.simplex(&g, n, style: .spread).map { 0.9 * $0 + 0.1 / Double(n) } }
        let ref = dropping.contains("ref-is-data") ? sizes.map { n in Generate.simplex(&g, n, style: .spread).map { 0.9 * $0 + 0.1 / Double(n) } } : data
        let f = Generate.file(beta: Foundation.pow(10, g.uniform(-1, 1)), weights: Generate.weights(&g, m), data: data,
                              reward: sizes.map { Generate.reward(&g, $0).map { $0 / Swift.max(1, $0.magnitude) } }, reference: ref)
        return ClaimInstance(family: family, instance: f, parameters: ["T": Foundation.pow(10, g.uniform(0, 1.5))])
    }

    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard case .tabular = inst.policy else { throw ClaimError.invalid("r1-monotone is about the tabular class") }
        let T = try ci.parameter("T")
        let times = (1...40).map { T * Double($0) / 40 }
        let states = try flowStates(inst, from: inst.start, kind: .rl, times: times, rtol: rtol)
        let excess = [inst.value(.klDataPolicy, at: inst.point())] + states.map { inst.value(.klDataPolicy, at: inst.point($0)) }
        var worst = Double.infinity, at = 0.0
        for k in 1..<excess.count where excess[k] - excess[k - 1] < worst { worst = excess[k] - excess[k - 1]; at = times[k - 1] }
        let refGap = zip(inst.reference, inst.data).map { Dist.tv($0, $1) }.max() ?? 0
        return Evaluation(hypotheses: ["ref-is-data": -refGap, "β > 0": inst.beta],
                          conclusion: worst, quantities: ["largest_fall_at_t": at, "sft_excess_at_T": excess.last!, "T": T])
    }
    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, rtol: 1e-10) }
    /// Extended: the same flow integrated at rtol 1e-13.
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, rtol: 1e-13) }

    var workedExample: WorkedExample? {
        WorkedExample("one prompt: p_D = π_ref = (0.5, 0.3, 0.2), r = (1, 0, −1), β = 0.5, RL flow for T = 5",
                      ClaimInstance(family: "tabular", instance: Generate.file(beta: 0.5, weights: [1], data: [[0.5, 0.3, 0.2]], reward: [[1, 0, -1]],
                                                                              reference: [[0.5, 0.3, 0.2]]), parameters: ["T": 5]))
    }
}
