import Foundation
import RealModule
import Linalg
import Policies

/// Thm 3.1 in a non-realisable log-linear class (d < n features, so p_D is generally not in the
/// class): SFT to the class's optimum θ_S, then RL restricted to the class from θ_S with
/// π_ref = p_θS, to the J_β maximiser θ_RL reached by Newton ascent. Does L_SFT rise?
struct Thm31LogLinear: PrecisionGenericClaim {
    let id = "thm3.1-loglinear"
    let reference = "Thm 3.1 (non-realisable log-linear class)"
    let statement = "SFT-then-RL in a non-realisable log-linear class p_θ ∝ e^{θᵀφ}: from the class's SFT optimum θ_S, RL restricted to the class (to the maximiser of J_β with π_ref = p_θS reached from θ_S) does not lower L_SFT: L_SFT(θ_RL) ≥ L_SFT(θ_S)."
    let hypotheses = [Hypothesis("sft-optimum", "θ_S is the class's SFT optimum: ‖∇L_SFT(θ_S)‖ ≤ 1e-9"),
                      Hypothesis("ref-is-sft", "π_ref = p_θS (to 1e-9 in total variation)"),
                      Hypothesis("rl-optimum", "θ_RL is a stationary point of J_β: ‖∇J_β(θ_RL)‖ ≤ 1e-8")]
    let families: [Family] = [.loglinear]

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = g.int(1...3)
        let sizes = (0..<m).map { _ in g.int(3...6) }
        let d = g.int(1...2)
        var f = Generate.file(beta: Foundation.pow(10, g.uniform(-1, 1)), weights: Generate.weights(&g, m),
                              data: sizes.map { n in Generate.simplex(&g, n, style: .spread).map { 0.9 * $0 + 0.1 / Double(n) } },
                              reward: sizes.map { Generate.reward(&g, $0).map { $0 / Swift.max(1, $0.magnitude) } })
        f.policy = .init(kind: "loglinear", features: sizes.map { n in let x = Generate.features(&g, n: n, d: d, illConditioned: false); return (0..<n).map { x.row($0) } })
        for x in f.prompts.indices { f.prompts[x].start = nil }
        // θ_S and π_ref = p_θS (when "ref-is-sft" is dropped: a random positive reference).
        if let inst = try? Instance(file: f) {
            f.policy.theta = inst.start
            let p = inst.point().probs
            for x in f.prompts.indices {
                f.prompts[x].reference = dropping.contains("ref-is-sft") ? Generate.positiveSimplex(&g, sizes[x]) : p[x]
            }
        }
        return ClaimInstance(family: family, instance: f)
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let inst = try Instance(file: try ci.requireInstance())
        guard inst.beta > 0 else { throw ClaimError.invalid("thm3.1-loglinear needs beta > 0") }
        let thetaS = inst.start
        let rl = try inst.rlOptimum()
        func loss(_ theta: [Double]) -> T { inst.sftLoss(at: theta.map { T($0) }) }
        let l0 = loss(thetaS), l1 = loss(rl.theta)
        let pS = inst.point(thetaS)
        let refGap = zip(inst.reference, pS.probs).map { Dist.tv($0, $1) }.max() ?? 0
        let gS = norm(inst.gradient(.sft, at: pS))
        let pR = inst.point(rl.theta)
        return evaluation(hypotheses: ["sft-optimum": T(1e-9 - gS), "ref-is-sft": T(1e-9 - refGap), "rl-optimum": T(1e-8 - rl.gradientNorm)],
                          conclusion: (l1 - l0) / Swift.max(1, abs(l0)),
                          quantities: ["sft_loss_at_theta_S": l0, "sft_loss_at_theta_RL": l1, "delta_sft_loss": l1 - l0,
                                       "reward_gain": T(inst.value(.reward, at: pR) - inst.value(.reward, at: pS)),
                                       "grad_sft_norm_at_theta_S": T(gS), "theta_distance": T(norm(axpy(rl.theta, -1, thetaS)))])
    }

    var workedExample: WorkedExample? {
        var f = Generate.file(beta: 0.5, weights: [1], data: [[0.5, 0.2, 0.3]], reward: [[0, 1, 0]])
        f.policy = .init(kind: "loglinear", features: [[[-1], [0], [1]]])
        let inst = try? Instance(file: f)
        f.policy.theta = inst?.start
        f.prompts[0].reference = inst?.point().probs[0]
        return WorkedExample("one prompt, φ = (−1, 0, 1) (d = 1 < n = 3: the class cannot fit p_D = (0.5, 0.2, 0.3)), r = (0, 1, 0), β = 0.5, π_ref = p_θS",
                             ClaimInstance(family: .loglinear, instance: f))
    }
}
