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
    let families: [Family] = [.tabularSingle, .tabularMulti]

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
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
                                         ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 0.001, weights: [1], data: [[0.5, 0.5]], reward: [[1, 0]],
                                                                                                        reference: [[0.5, 0.5]]))))
    }
}

/// R1 along the whole flow: in Thm 3.1's setting (π_ref = p_SFT = p_D, tabular, so L* = E_x H(p_D)),
/// is L_SFT(θ_t) − L* = E_x KL(p_D‖p_θt) non-decreasing along the RL flow θ̇ = ∇J_β from θ₀ = log p_D?
///
/// Margin (scale-free, `FlowMonitor`): the smallest cosine ⟨∇L_SFT, θ̇⟩/(‖∇L_SFT‖·‖θ̇‖) over every
/// accepted integrator step from t = 0 until the flow converges (‖θ̇‖ < 10⁻⁷‖θ̇(0)‖) or t = T. A fall
/// of L_SFT anywhere, however small in nats, is a negative cosine of a size that does not vanish
/// with the depth of the fall. False: see `failureExplanation` and proofs/r1-monotone.md.
struct R1Monotone: FlowClaim {
    let id = "r1-monotone"
    let reference = "reconstruction of v2 (R1, monotone reading)"
    let statement = "In Thm 3.1's setting (π_ref = p_SFT = p_D, tabular softmax), L_SFT(θ_t) − L* is non-decreasing along the whole RL flow θ̇ = ∇J_β started at p_D (judged by the smallest cosine between ∇L_SFT and θ̇ over every integrator step until the flow converges or t = T, T up to 1000)."
    let hypotheses = [Hypothesis("ref-is-data", "π_ref = p_SFT = p_D (H10 and the reference of Thm 3.1)"), Hypothesis("β > 0", "the KL coefficient is positive")]
    let families: [Family] = [.tabular]

    /// One prompt half the time, else up to 3; 3–6 responses (2 in one prompt of six: with two
    /// responses per prompt the flow is monotone, see the proof page); p_D spread with at least
    /// 0.1/n mass; rewards in [−1, 1]; β ∈ [0.1, 10]; horizon T ∈ [10, 1000].
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = Generate.promptCount(&g, max: 3)
        let sizes = (0..<m).map { _ in g.uniform() < 1.0 / 6 ? 2 : g.int(3...6) }
        let data = sizes.map { n in Generate.simplex(&g, n, style: .spread).map { 0.9 * $0 + 0.1 / Double(n) } }
        let ref = dropping.contains("ref-is-data") ? sizes.map { n in Generate.simplex(&g, n, style: .spread).map { 0.9 * $0 + 0.1 / Double(n) } } : data
        let f = Generate.file(beta: Foundation.pow(10, g.uniform(-1, 1)), weights: Generate.weights(&g, m), data: data,
                              reward: sizes.map { Generate.reward(&g, $0).map { $0 / Swift.max(1, $0.magnitude) } }, reference: ref)
        return ClaimInstance(family: family, instance: f, parameters: ["T": Foundation.pow(10, g.uniform(1, 3))])
    }

    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard case .tabular = inst.policy else { throw ClaimError.invalid("r1-monotone is about the tabular class") }
        let T = try ci.parameter("T")
        guard T > 0 else { throw ClaimError.invalid("r1-monotone needs a horizon T > 0, got \(T)") }
        let watch = try FlowMonitor(inst, from: inst.start, kind: .rl, horizon: T, rtol: rtol,
                                     speed: (1 + inst.beta) * (inst.weights.max() ?? 1)) { inst.gradient(.sft, at: $0) }
        func excess(_ th: [Double]) -> Double { inst.value(.klDataPolicy, at: inst.point(th)) }
        let start = excess(inst.start), end = excess(watch.finalState)
        let peak = watch.peaks.first.map { excess($0.state) } ?? end
        let refGap = zip(inst.reference, inst.data).map { Dist.tv($0, $1) }.max() ?? 0
        return Evaluation(hypotheses: ["ref-is-data": -refGap, "β > 0": inst.beta],
                          conclusion: watch.minRate,
                          quantities: ["min_cosine_at_t": watch.minRateTime, "peaks": Double(watch.peaks.count),
                                       "first_peak_t": watch.peaks.first?.t ?? -1, "sft_excess_at_peak": peak,
                                       "sft_excess_at_end": end, "fall_after_peak": peak - end,
                                       "fall_over_rise": peak - start > 0 ? (peak - end) / (peak - start) : 0,
                                       "end_t": watch.finalTime, "converged": watch.converged ? 1 : 0, "T": T])
    }

    var failureExplanation: String? {
        "the Euclidean RL flow does not follow the Gibbs family p_s ∝ p_D·e^{s·r} on which the SFT excess grows monotonically; it overshoots the limit's excess C₁(β) and approaches it from above along its slowest direction, so L_SFT − L* rises, peaks and then falls back onto C₁(β)."
    }

    var workedExample: WorkedExample? {
        WorkedExample("one prompt: p_D = π_ref = (0.171, 0.170, 0.659), r = (0.883, −0.476, −0.976), β = 0.925: the SFT excess rises to a peak near t ≈ 26 and then falls by about 8e-5 nats onto C₁(β)",
                      ClaimInstance(family: .tabular, instance: Generate.file(beta: 0.925, weights: [1], data: [[0.171, 0.170, 0.659]], reward: [[0.883, -0.476, -0.976]],
                                                                              reference: [[0.171, 0.170, 0.659]]), parameters: ["T": 1000]))
    }
}
