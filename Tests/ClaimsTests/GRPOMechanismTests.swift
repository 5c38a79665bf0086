import Testing
import Foundation
import Linalg
import Policies
@testable import Claims

/// The GRPO readings of issue 19 (item 6) against independent hand computations.
@Suite struct GRPOMechanismTests {
    /// One tabular prompt, three responses: the instance where the Euclidean expected update of
    /// group-scaled GRPO points downhill (proofs/grpo-ascent-group.md).
    func onePrompt(groupSize: Int) -> ClaimInstance {
        let p = [0.047, 0.0075, 0.9455]
        let f = InstanceFile(beta: 0, policy: .init(kind: "tabular"),
                             prompts: [.init(weight: 1, data: [1.0 / 3, 1.0 / 3, 1.0 / 3], reward: [0.0189, -0.0383, 0.0172],
                                             reference: [1.0 / 3, 1.0 / 3, 1.0 / 3], start: p)])
        return ClaimInstance(family: .tabular, instance: f, parameters: ["group_size": Double(groupSize)])
    }

    /// With G = 2 the advantage of sample 1 is sign(r₁ − r₂)·(|d|/2)/(|d|/√2 + 10⁻⁴), d = r₁ − r₂, so
    /// ĉ(y) = Σ_y' p(y') A(r_y, r_y') by hand, and ⟨E Δθ, F⁺∇J⟩ must equal Cov_p(ĉ, r) (proofs/grpo-fisher-group.md,
    /// step 2; q = 1, η = 1, L_max = 1). Planted: dropping the division by the eigenvalue in
    /// `fisherInnerProducts` (the Euclidean inner product in F's eigenbasis) fails this test.
    @Test func naturalInnerProductIsTheCovarianceOfTheExpectedAdvantage() throws {
        let ci = onePrompt(groupSize: 2)
        let p = [0.047, 0.0075, 0.9455], r = [0.0189, -0.0383, 0.0172]
        func advantage(_ a: Double, _ b: Double) -> Double {
            let d = a - b
            return d == 0 ? 0 : (d / 2) / (abs(d) / 2.0.squareRoot() + 1e-4)
        }
        let c = r.map { ry in zip(p, r).reduce(0.0) { $0 + $1.0 * advantage(ry, $1.1) } }
        let mc = zip(p, c).reduce(0.0) { $0 + $1.0 * $1.1 }, mr = zip(p, r).reduce(0.0) { $0 + $1.0 * $1.1 }
        let cov = p.indices.reduce(0.0) { $0 + p[$1] * (c[$1] - mc) * (r[$1] - mr) }
        let e = try GRPOFisherAscent(scaling: .group).evaluate(ci)
        let got = try #require(e.quantities["natural_inner_product"])
        #expect(abs(got - cov) <= 1e-10 * abs(cov), "⟨E Δθ, F⁺∇J⟩ = \(got), Cov_p(ĉ, r) = \(cov)")
        #expect(cov > 0)
        #expect(e.meetsHypotheses())
    }

    /// The metric effect on the known instance (G = 4): the Euclidean cosine is negative (grpo-ascent-group
    /// fails there) while the Fisher cosine is positive (grpo-fisher-group holds).
    @Test func oneTabularPromptIsDownhillOnlyInTheEuclideanMetric() throws {
        let e = try GRPOFisherAscent(scaling: .group).evaluate(onePrompt(groupSize: 4))
        let euclid = try #require(e.quantities["euclidean_cosine"])
        #expect(euclid < -0.1)
        #expect(e.conclusion > 0)
    }

    /// `dr_grpo` without scaling: ⟨E Δθ, ∇J⟩/‖∇J‖² = (1 − 1/G)/L_max exactly, on a sequence instance
    /// (V = 1, L = 4: responses of 1 to 4 tokens) where aggregation `grpo` bends the update.
    @Test func drGRPORatioIsExactAndSeqnormBends() throws {
        let n = 5   // sequences of length 0…4 over one token
        let f = InstanceFile(beta: 0, policy: .init(kind: "autoregressive", vocab: 1, maxLength: 4),
                             prompts: [.init(weight: 1, data: [Double](repeating: 0.2, count: n), reward: [0.3, -1, 0.8, -0.2, 1],
                                             reference: [Double](repeating: 0.2, count: n), start: [0.3, 0.25, 0.2, 0.15, 0.1])])
        let ci = ClaimInstance(family: .autoregressive, instance: f, parameters: ["group_size": 3])
        let dr = try GRPOExpectedAscent(scaling: .none, aggregation: .drGRPO, suffix: "-drgrpo").evaluate(ci)
        let ratio = try #require(dr.quantities["ascent_ratio"])
        #expect(abs(ratio - (1 - 1.0 / 3) / 4) <= 1e-12)
        #expect(abs(dr.conclusion - 1) <= 1e-12)
        let seq = try GRPOExpectedAscent(scaling: .none, aggregation: .grpo, suffix: "-seqnorm").evaluate(ci)
        #expect(seq.conclusion < 1 - 1e-6)
    }

    /// Mechanism 1 with separate parameters: per-prompt gradients are orthogonal, so the reweighted sum ascends.
    @Test func stdReweightingAscendsWithSeparateParameters() throws {
        let f = InstanceFile(beta: 0, policy: .init(kind: "tabular"),
                             prompts: [.init(weight: 0.3, data: [0.5, 0.5], reward: [0.6, 0.5], reference: [0.5, 0.5], start: [0.4, 0.6]),
                                       .init(weight: 0.7, data: [0.5, 0.5], reward: [0, -1], reference: [0.5, 0.5], start: [0.8, 0.2])])
        let e = try GRPOStdPrompts().evaluate(ClaimInstance(family: .tabular, instance: f))
        #expect(e.conclusion > 0)
    }
}
