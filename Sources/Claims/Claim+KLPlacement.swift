import Foundation
import Linalg
import Policies
import Flows

/// Which divergence GRPO's KL term descends (issue 20, item 1): the expected gradient of the KL
/// term alone (``KLGradient/expected``), per unit β_kl and per token-summed sequence, against
/// ∇KL(π_ref‖p) (forward) or ∇KL(p‖π_ref) (reverse). Margin: 1e-9 minus the relative distance,
/// the smallest over the placements the claim names. Double only (exact enumeration), round-off
/// allowance 1e-9 on the re-check.
struct KLDescends: Claim {
    enum Target { case forward, reverse }
    let id: String
    let statement: String
    /// (estimator, placement, bias correction) triples that must all follow the target.
    let variants: [(KLEstimator, KLPlacement, Bool)]
    let target: Target
    let reference = "practice (TRL's / verl's GRPO KL term), not a statement of the paper"
    let hypotheses = [Hypothesis("moves", "the target KL gradient has norm ≥ 1e-9"),
                      Hypothesis("resolvable", "every response has p_θ ≥ 1e-4 (the enumeration's Double resolution)")]
    var families: [Family] { id == "kl-token-partial" ? [.autoregressive] : SampledGenerate.families }
    var why: String? = nil

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        ClaimInstance(family: family, instance: SampledGenerate.file(&g, family: family, beta: 0), parameters: ["group_size": 2])
    }

    func evaluate(_ ci: ClaimInstance) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        let g = Int(try ci.parameter("group_size"))
        let want = target == .forward ? KLGradient.forward(inst, theta: inst.start) : KLGradient.reverse(inst, theta: inst.start)
        var worst = 0.0
        var q: [String: Double] = ["target_norm": norm(want)]
        for (e, p, b) in variants {
            let got = try KLGradient.expected(instance: inst, estimator: e, placement: p, biasCorrection: b, groupSize: g, theta: inst.start)
            let d = relativeDistance(got, want)
            q["distance_\(e.rawValue)_\(p.rawValue)\(b ? "_bias_corrected" : "")"] = d
            worst = Swift.max(worst, d)
        }
        let nodes = DecisionNodes(policy: inst.policy, responseCounts: inst.responseCounts, offset: inst.logBase)
        let smallest = nodes.sequenceProbabilities(nodes.values(inst.start)).joined().min() ?? 0
        return Evaluation(hypotheses: ["moves": norm(want) - 1e-9, "resolvable": smallest - 1e-4], conclusion: identityTolerance - worst, quantities: q)
    }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { withRoundOffAllowance(try evaluate(ci)) }
    var failureExplanation: String? { why }

    static let k3Forward = KLDescends(
        id: "kl-k3-forward",
        statement: "k3 in the loss (TRL's GRPO default) descends the forward KL: the expected gradient of Σ_t k3(d_t) under y ∼ p_θ equals ∇KL(π_ref‖p_θ), in every policy class.",
        variants: [(.k3, .loss, false)], target: .forward,
        why: "per token, E_{c∼π_n}[(1 − π_ref/π_n)∇log π_n] = ∇KL(π_ref,n‖π_n) node by node, weighted by the policy's probability of reaching the node; the sequence forward KL weights node n by π_ref's probability of reaching it: equal on single-token classes only")
    static let k2Reverse = KLDescends(
        id: "kl-k2-reverse",
        statement: "k2 in the loss and k1 in the reward (verl's use_kl_in_reward) both descend the reverse KL: their expected gradients equal ∇KL(p_θ‖π_ref), in every policy class.",
        variants: [(.k2, .loss, false), (.k1, .reward, false)], target: .reverse,
        why: "k1 in the reward is a sequence-level score-function estimate and is exact; k2 in the loss gives Σ_t d_t∇log π_t per token, which misses E[Σ_t ∇log π_t Σ_{t'>t} d_{t'}] of the sequence KL's gradient (kl-token-partial): exact on single-token classes only")
    static let biasCorrection = KLDescends(
        id: "kl-bias-correction",
        statement: "TRL's use_bias_correction_kl (k3 multiplied by the ratio ρ, differentiated through ρ) descends the reverse KL at ratio 1: ∂(ρ·k3) = ρ·d, so its expected gradient equals ∇KL(p_θ‖π_ref), in every policy class.",
        variants: [(.k3, .loss, true)], target: .reverse,
        why: "at ratio 1, ∂(ρ·k3)/∂log p = k3 + k3′ = d, k2's derivative: the same per-token reverse gradient, which misses the cross-token term on sequences (kl-token-partial)")
    static let tokenPartial = KLDescends(
        id: "kl-token-partial",
        statement: "On autoregressive instances, a per-token KL in the loss whose derivative is d_t (k2, or k3 with the bias correction) has the expected gradient of the sequence KL(p_θ‖π_ref), as if the KL were summed over the sequence before differentiating.",
        variants: [(.k2, .loss, false), (.k3, .loss, true)], target: .reverse,
        why: "E_y[Σ_t d_t ∇log π_t] lacks E[Σ_t ∇log π_t Σ_{t'>t} d_{t'}]: each token's KL is credited to that token only, not to the earlier decisions that led to it (the missing term is computed in the quantities and checked in the tests)")
}
