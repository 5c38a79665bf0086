import Foundation
import Testing
import Linalg
import Policies
import TestSupport
@testable import Flows

/// Which divergence each KL estimator and placement descends (issue 20, item 1), against the exact
/// gradients of KL(π_ref‖p) and KL(p‖π_ref).
@Suite struct KLGradientTests {
    func kl(_ inst: Instance, _ e: KLEstimator, _ p: KLPlacement, _ b: Bool = false) throws -> [Double] {
        try KLGradient.expected(instance: inst, estimator: e, placement: p, biasCorrection: b, groupSize: 2, theta: inst.start)
    }

    /// Single-token classes: k3 in the loss is the forward KL's gradient; k2 in the loss, k1 in the
    /// reward and bias-corrected k3 the reverse one; to 1e-10.
    @Test func singleTokenClassesFollowTheirDivergence() throws {
        for inst in [try SFixture.tabular(), try SFixture.loglinear()] {
            let fwd = KLGradient.forward(inst, theta: inst.start), rev = KLGradient.reverse(inst, theta: inst.start)
            #expect(maxAbsDiff(try kl(inst, .k3, .loss), fwd) <= 1e-10)
            #expect(maxAbsDiff(try kl(inst, .k2, .loss), rev) <= 1e-10)
            #expect(maxAbsDiff(try kl(inst, .k1, .reward), rev) <= 1e-10)
            #expect(maxAbsDiff(try kl(inst, .k3, .loss, true), rev) <= 1e-10)
            #expect(maxAbsDiff(fwd, rev) > 1e-3)   // the two divergences are told apart
        }
    }

    /// Autoregressive: k1 in the reward (sequence level) is exact; k2 in the loss plus the missing
    /// term M = E_y[Σ_t ∇log π_t Σ_{t'>t} d_{t'}], enumerated here over the sequences, is the
    /// sequence reverse KL's gradient; without M it is not.
    @Test func perTokenKLMissesTheCrossTokenTerm() throws {
        let inst = try SFixture.autoregressive()
        let rev = KLGradient.reverse(inst, theta: inst.start)
        #expect(maxAbsDiff(try kl(inst, .k1, .reward), rev) <= 1e-10)
        let nodes = DecisionNodes(policy: inst.policy, responseCounts: inst.responseCounts)
        let v = nodes.values(inst.start)
        let ref = nodes.nodeLogProbs(ofSequenceDistributions: inst.reference)
        let p = nodes.sequenceProbabilities(v)
        var acc = v.probs.map { [Double](repeating: 0, count: $0.count) }
        let w = nodes.width[0]
        for y in p[0].indices {
            let path = nodes.path(response: y)
            let d = path.map { v.log[0][$0.node * w + $0.choice] - ref[0][$0.node * w + $0.choice] }
            for (t, tok) in path.enumerated() {
                let later = d[(t + 1)...].reduce(0, +)
                for c in 0..<w { acc[0][tok.node * w + c] += p[0][y] * later * ((c == tok.choice ? 1 : 0) - v.probs[0][tok.node * w + c]) }
            }
        }
        let missing = nodes.pullbackNodes(acc)
        let k2 = try kl(inst, .k2, .loss)
        #expect(maxAbsDiff(zip(k2, missing).map { $0 + $1 }, rev) <= 1e-10)
        #expect(norm(missing) > 1e-3)
        #expect(maxAbsDiff(try kl(inst, .k3, .loss, true), k2) <= 1e-10)   // ∂(ρk3) = d at ratio 1
    }
}
