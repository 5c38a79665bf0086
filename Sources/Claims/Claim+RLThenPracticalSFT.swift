import Foundation
import Linalg
import Policies
import Flows

/// RL-then-SFT (Prop. 1 and the regularised reading of Thm 4.1) with a practical SFT variant in
/// place of SFT: p_RL1 is the Gibbs optimum of J_β from π_ref (Eq. 8), and p_SFT2 is where the
/// variant's flow goes from p_RL1 (``FixedPointClosedForm/limit(_:)``): p ∝ p_D/|y| (sft-seqnorm),
/// p_D's mode or greedy decoding (dft), the water-filling (1 − λ/p_D)₊ (chord-phi). Both statements
/// are inequalities between two policies whose proofs never use how p_SFT2 was produced (Pinsker
/// for Prop. 1, J_β(π) = J_β(p_RL1) − β·E KL(π‖p_RL1) for Thm 4.1-regularised), so they are checked
/// on the pairs the variants actually produce, whose KL may be large (DFT: a point mass).
struct RLThenPracticalSFT: Claim {
    enum Form: Sendable { case prop1, thm41Regularised }
    let variant: PracticalMethod
    let form: Form

    var suffix: String { variant == .sftSeqnorm ? "seqnorm" : variant.rawValue }
    var id: String { (form == .prop1 ? "prop1-" : "thm4.1-regularised-") + suffix }
    var reference: String { (form == .prop1 ? "Prop. 1" : "Thm 4.1 (regularised reading)") + " with SFT = \(variant.rawValue)" }
    var statement: String {
        let sft = "p_SFT2 the limit of \(variant.rawValue) from p_RL1 = the Gibbs optimum of J_β"
        return form == .prop1
            ? "RL-then-SFT with \(sft): for B ≥ E_x KL(p_SFT2‖p_RL1), E_{p_SFT2}[r] ≤ E_{p_RL1}[r] + R_max·√(2B)."
            : "RL-then-SFT with \(sft) (β > 0): for 0 < a ≤ E_x KL(p_SFT2‖p_RL1), J_β(p_SFT2) ≤ J_β(p_RL1) − β·a."
    }
    var hypotheses: [Hypothesis] {
        form == .prop1 ? [Hypothesis("kl-budget", "E_x KL(p_SFT2‖p_RL1) ≤ B")] : [Hypothesis("A3", "0 < a ≤ E_x KL(p_SFT2‖p_RL1)")]
    }
    var families: [Family] { variant == .sftSeqnorm ? [.autoregressive] : [.tabular, .autoregressive] }
    let shrinkable = false

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        var f = SampledGenerate.file(&g, family: family, beta: g.uniform(0.05, 2))
        // Rewards scaled to |r| ≤ 1, so r/β ≤ 20 keeps p_RL1 > 0 in Double; data with distinct masses
        // (no tie in p_D's mode or at a node: DFT's limit is then a closed form).
        let rmax = f.prompts.map { $0.reward.map(abs).max() ?? 0 }.max() ?? 0
        for x in f.prompts.indices {
            // (An all-zero reward, which the quantised levels can give, would make both claims 0 = 0.)
            f.prompts[x].reward = rmax > 0 ? f.prompts[x].reward.map { $0 / rmax } : f.prompts[x].reward.map { _ in g.uniform(-1, 1) }
            let d = f.prompts[x].data.map { _ in g.uniform(0.05, 1) }
            let s = d.reduce(0, +)
            f.prompts[x].data = d.map { $0 / s }
            f.prompts[x].start = Dist.gibbs(reference: f.prompts[x].reference!, reward: f.prompts[x].reward, beta: f.beta)
        }
        let u = g.uniform()
        let drop = dropping.contains(form == .prop1 ? "kl-budget" : "A3")
        // Thm 4.1-regularised: a quarter of the time a = KL, its equality case (margin 0 up to round-off).
        let tight = g.uniform() < 0.25
        let factor = form == .prop1 ? (drop ? u : 1 + 3 * u * u) : (drop ? 1 + u : (tight ? 1 : 0.05 + 0.95 * u))
        return ClaimInstance(family: family, instance: f, parameters: ["kl_factor": factor])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard inst.beta > 0 else { throw ClaimError.invalid("\(id) needs beta > 0") }
        let factor = try ci.parameter("kl_factor")
        let rl = inst.weights.indices.map { Dist.gibbs(reference: inst.reference[$0], reward: inst.reward[$0], beta: inst.beta) }
        var start = inst
        start.start = try FixedPoint.logits(of: rl, instance: inst)
        let u = try PracticalUpdate(instance: start, settings: PracticalSettings(method: variant))
        guard let sft = FixedPointClosedForm.limit(u) else { throw ClaimError.invalid("\(variant.rawValue) has no closed-form limit here (a tie in p_D's mode)") }
        var kl = 0.0
        for x in inst.weights.indices where inst.weights[x] > 0 { kl += inst.weights[x] * Dist.kl(sft[x], rl[x]) }
        let v1 = FixedPoint.values(inst, policy: rl, beta: inst.beta), v2 = FixedPoint.values(inst, policy: sft, beta: inst.beta)
        let rmax = inst.rewardBound
        let q: [String: Double] = ["reward_gain": v2.reward - v1.reward, "kl": kl, "J_rl1": v1.reward, "J_sft2": v2.reward, "J_beta_rl1": v1.rewardReg, "J_beta_sft2": v2.rewardReg, "R_max": rmax]
        switch form {
        case .prop1:
            let b = kl * factor
            let bound = v1.reward + rmax * (2 * b).squareRoot()
            return Evaluation(hypotheses: ["kl-budget": inequalityMargin(kl, b, scale: Swift.max(b, 1e-300))],
                              conclusion: inequalityMargin(v2.reward, bound, scale: Swift.max(rmax, 1e-300)),
                              quantities: q.merging(["B": b, "bound": bound, "pinsker_slack": rmax * (2 * b).squareRoot()]) { a, _ in a })
        case .thm41Regularised:
            let a = kl * factor
            let bound = v1.rewardReg - inst.beta * a
            return Evaluation(hypotheses: ["A3": Swift.min(a > 0 ? 1 : -1, inequalityMargin(a, kl, scale: Swift.max(a, 1e-300)))],
                              conclusion: inequalityMargin(v2.rewardReg, bound, scale: Swift.max(abs(v1.rewardReg), rmax, inst.beta * kl, 1e-300)),
                              quantities: q.merging(["a": a, "bound": bound]) { a, _ in a })
        }
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }

    /// All six (sft-seqnorm, dft, chord-phi × Prop. 1, Thm 4.1-regularised).
    static var all: [RLThenPracticalSFT] {
        [Form.prop1, .thm41Regularised].flatMap { f in [PracticalMethod.sftSeqnorm, .dft, .chordPhi].map { RLThenPracticalSFT(variant: $0, form: f) } }
    }
}
