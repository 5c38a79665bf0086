import Foundation
import Linalg
import Numerics
import Policies
import Testing
@testable import Flows

@Suite("Trace quantities")
struct TraceTests {
    /// Every traced quantity at a random θ against formulas written out here from their definitions.
    @Test("trace values match their definitions (independent formulas)")
    func valuesMatchDefinitions() throws {
        let inst = try PFFixture.twoPrompt(beta: 0.3)
        var g = SeededGenerator(seed: 5)
        let theta = inst.start.map { $0 + g.normal() }
        let v = TraceValues(inst, at: theta)
        let p = inst.policy.probabilities(theta)
        var sft = 0.0, reward = 0.0, klRef = 0.0, klData = 0.0, ent = 0.0, tv = 0.0
        for x in inst.weights.indices {
            let q = inst.weights[x]
            for y in p[x].indices {
                let px = p[x][y], d = inst.data[x][y]
                sft -= q * d * Foundation.log(px)
                reward += q * px * inst.reward[x][y]
                klRef += q * px * Foundation.log(px / inst.reference[x][y])
                klData += q * d * Foundation.log(d / px)
                ent -= q * px * Foundation.log(px)
                tv += q * 0.5 * abs(px - d)
            }
        }
        #expect(v[.sftLoss].isApproximatelyEqual(to: sft, absoluteTolerance: 1e-13))
        #expect(v[.reward].isApproximatelyEqual(to: reward, absoluteTolerance: 1e-13))
        #expect(v[.rewardReg].isApproximatelyEqual(to: reward - 0.3 * klRef, absoluteTolerance: 1e-13))
        #expect(v[.klPolicyRef].isApproximatelyEqual(to: klRef, absoluteTolerance: 1e-13))
        #expect(v[.klDataPolicy].isApproximatelyEqual(to: klData, absoluteTolerance: 1e-13))
        #expect(v[.entropy].isApproximatelyEqual(to: ent, absoluteTolerance: 1e-13))
        #expect(v[.tvDataPolicy].isApproximatelyEqual(to: tv, absoluteTolerance: 1e-13))
        // Gradients: the SFT velocity is −∇L_SFT and the RL velocity +∇J_β.
        let minusGradSFT = PFReference.tabularVelocity(inst, theta, rl: 0, sft: 1)
        let gradRL = PFReference.tabularVelocity(inst, theta, rl: 1, sft: 0)
        #expect(v[.gradSFTNorm].isApproximatelyEqual(to: norm(minusGradSFT), absoluteTolerance: 1e-14))
        #expect(v[.gradRLNorm].isApproximatelyEqual(to: norm(gradRL), absoluteTolerance: 1e-14))
        let cos = dot(minusGradSFT, gradRL) / (norm(minusGradSFT) * norm(gradRL))
        #expect(v[.cosSFTRL].isApproximatelyEqual(to: cos, absoluteTolerance: 1e-14))
        #expect(abs(cos) > 0.05)  // the sign is tested, not only the magnitude
        // Each quantity alone (event path) gives the same number as the full evaluation.
        for q in TraceQuantity.allCases { #expect(q.value(inst, at: theta) == v[q], "\(q)") }
    }

    @Test("cos_sft_rl is 0 at an SFT optimum (the gradient is roundoff there) and the columns are as documented")
    func cosineAtOptimumAndColumns() throws {
        let inst = try PFFixture.threeResponse()  // starts at p_D
        let v = TraceValues(inst, at: inst.start)
        #expect(v[.gradSFTNorm] < 1e-15)
        #expect(v[.cosSFTRL] == 0)
        #expect(TraceRow.columns(steps: false) == ["t", "phase", "sft_loss", "reward", "reward_reg", "kl_data_policy", "kl_policy_ref",
                                                   "entropy", "grad_sft_norm", "grad_rl_norm", "cos_sft_rl", "tv_data_policy", "phase_index"])
        #expect(TraceRow.columns(steps: true).last == "step")
    }
}
