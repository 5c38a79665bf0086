import Foundation
import Linalg
import Policies
import Flows

/// "RL's razor" with a binary reward: from π₀, natural-gradient ascent of J (equivalently mirror
/// ascent with the KL mirror map, p_t ∝ π₀·e^{t r}) converges to π₀ restricted to the rewarded set
/// S_x and renormalised, the KL-closest policy to π₀ among those with J = max J. Its limit is fixed
/// by two facts the check reads off the integrated flow: the log-ratios log p(a)/p(b) of rewarded
/// responses a, b ∈ S_x stay those of π₀, and the mass outside S_x tends to 0. `rl-razor-pg` asks
/// the same of vanilla softmax policy gradient ż_x = q p(r − E_p r), under which d/dt(z_a − z_b) =
/// q(1 − p_x)(p_a − p_b) for a, b ∈ S_x: the log-ratio moves away from π₀'s whenever p_a ≠ p_b, and
/// monotonically, so its value at any finite T bounds the limit's distance from π₀|_S.
struct RLRazor: Claim {
    let natural: Bool
    var id: String { natural ? "rl-razor" : "rl-razor-pg" }
    let reference = "practice (RL's razor: RL stays KL-close to the start), not a statement of the paper"
    var statement: String {
        natural
            ? "With a binary reward, the natural-gradient flow of J from π₀ (tabular softmax; mirror ascent with the KL mirror map) converges to π₀ restricted to the rewarded set and renormalised, π₀(y)·[r = 1]/π₀(r = 1): the rewarded responses keep π₀'s ratios and the unrewarded mass tends to 0."
            : "With a binary reward, the vanilla softmax policy-gradient flow θ̇ = ∇J from π₀ (tabular) converges to π₀ restricted to the rewarded set and renormalised: the rewarded responses keep π₀'s ratios."
    }
    let hypotheses = [BinaryRewardGenerate.binaryHypothesis]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    let shrinkable = false

    /// The flow's horizon: e^{−T} leaves the unrewarded mass far below the tolerance for the
    /// natural flow; the PG flow's log-ratios have moved by then wherever they move.
    static let horizon = 60.0

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        var f = BinaryRewardGenerate.file(&g, family: .tabular, maxPrompts: family == .tabularSingle ? 1 : 3)
        for x in f.prompts.indices { f.prompts[x].data = f.prompts[x].start ?? f.prompts[x].data }
        return ClaimInstance(family: family, instance: f)
    }

    func margins(_ ci: ClaimInstance, rtol: Double) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let system = natural ? try NaturalGradient.system(inst) : try PracticalUpdate(instance: inst, settings: BinaryRewardGenerate.plain).system
        var o = IntegratorOptions()
        o.rtol = rtol; o.atol = rtol * 1e-2
        let end = try integrate(system, from: 0, y0: inst.start, to: RLRazor.horizon, options: o).finalState
        let p0 = inst.policy.probabilities(inst.start), pT = inst.policy.probabilities(end)
        let z0 = inst.policy.logits(inst.start) as [[Double]], zT = inst.policy.logits(end) as [[Double]]
        var gap = 0.0, leak = 0.0, tv = 0.0
        for x in inst.reward.indices {
            let s = inst.reward[x].indices.filter { inst.reward[x][$0] > 0 }
            for a in s { for b in s { gap = Swift.max(gap, abs((zT[x][a] - zT[x][b]) - (z0[x][a] - z0[x][b]))) } }
            leak = Swift.max(leak, inst.reward[x].indices.reduce(0.0) { $0 + (inst.reward[x][$1] > 0 ? 0 : pT[x][$1]) })
            let mass = s.reduce(0.0) { $0 + p0[x][$1] }
            let restricted = p0[x].indices.map { inst.reward[x][$0] > 0 ? p0[x][$0] / mass : 0 }
            tv = Swift.max(tv, Dist.tv(pT[x], restricted))
        }
        // Both facts at resolution 1e-6 (log-ratios: integration error of logits grown to size T).
        return Evaluation(hypotheses: ["binary-reward": BinaryRewardGenerate.binaryMargin(inst)],
                          conclusion: Swift.min(1e-6 - gap, 1e-6 - leak),
                          quantities: ["log_ratio_gap": gap, "unrewarded_mass": leak, "tv_to_restricted": tv, "horizon": RLRazor.horizon])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, rtol: 1e-10) }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { try margins(ci, rtol: 1e-12) }

    var failureExplanation: String? {
        natural ? nil : "under vanilla PG a rewarded response's logit grows at rate q(1 − p_x)·p_y, faster for the likelier one, so the rewarded responses' log-ratios drift monotonically away from π₀'s: the flow sharpens towards π₀'s most likely rewarded response instead of keeping π₀'s shape on S (the drift is slow, ∫(1 − p_x)dt grows like log t)"
    }
    var workedExample: WorkedExample? {
        WorkedExample("one prompt, π₀ = (0.5, 0.2, 0.3), r = (1, 1, 0): π₀ restricted to the rewarded set is (5/7, 2/7, 0)",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 0, weights: [1], data: [[0.5, 0.2, 0.3]], reward: [[1, 1, 0]],
                                                                                     start: [[0.5, 0.2, 0.3]])))
    }
}
