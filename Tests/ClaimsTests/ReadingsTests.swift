import Testing
import Foundation
import Linalg
import Policies
@testable import Claims

/// Thm 3.1's trade-off identity with the factor β dropped (a planted bug): ΔJ = KL + KL.
struct TradeoffWithoutBeta: Claim {
    let id = "test-tradeoff-without-beta"
    let reference = "test"
    let statement = "J(p_RL) − J(p_SFT) = KL(p_RL‖p_SFT) + KL(p_SFT‖p_RL) (false: β dropped)"
    let hypotheses = Thm31Tradeoff().hypotheses
    let families = Thm31Tradeoff().families
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        Thm31Tradeoff().generate(&g, family: family, dropping: dropping)
    }
    func evaluate(_ ci: ClaimInstance) throws -> Evaluation { drop(try Thm31Tradeoff().evaluate(ci)) }
    func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { drop(try Thm31Tradeoff().evaluateExtended(ci)) }
    func drop(_ e: Evaluation) -> Evaluation {
        var e = e
        let q = e.quantities
        e.conclusion = identityMargin(q["reward_gain"]!, q["kl_rl_sft"]! + q["kl_sft_rl"]!)
        return e
    }
}

/// The §4b readings on hand instances, and their verdicts on random ones.
@Suite struct ReadingsTests {
    func options(_ n: Int, dropping: Set<String> = []) -> CheckOptions {
        var o = CheckOptions()
        o.instances = n
        o.seed = 3
        o.dropping = dropping
        return o
    }

    /// r = (1, 0), π_ref = (½, ½), β = 1: p_RL1 = (e, 1)/(1 + e); p_SFT2 = (0.9, 0.1) raises J.
    @Test func thm41GibbsHandCounterexample() throws {
        let c = Thm41Gibbs()
        let w = try #require(c.workedExample)
        let e = try c.evaluate(w.instance)
        let p1 = exp(1.0) / (1 + exp(1.0))
        #expect(abs(e.quantities["J_rl1"]! - p1) < 1e-15)
        #expect(abs(e.quantities["J_sft2"]! - 0.9) < 1e-15)
        let kl = 0.9 * log(0.9 / p1) + 0.1 * log(0.1 / (1 - p1))
        #expect(abs(e.quantities["kl"]! - kl) < 1e-15)
        #expect(e.meetsHypotheses())
        #expect(abs(e.conclusion - (p1 - 0.9)) < 1e-15)
        let j = try Judgement(claim: c, instance: w.instance, dropping: [])
        #expect(j.outcome == .certified)
    }

    /// The check's counterexample to thm4.1-gibbs has no tie in the reward, one prompt, two responses.
    @Test func thm41GibbsFailsWithoutTies() throws {
        let r = Runner.check(Thm41Gibbs(), options: options(200))
        #expect(r.verdict == .fails)
        let cx = try #require(r.counterexample)
        let f = try #require(cx.instance.instance)
        #expect(rewardHasNoTie(cx.instance))
        #expect(f.prompts.count == 1 && f.prompts[0].data.count == 2, "shrunk to \(f.prompts.map(\.data.count))")
    }

    /// Reverse KL with a unique argmax holds; dropping `unique-argmax` fails on a tie at the top,
    /// and the counterexample records the drop.
    @Test func thm41ReverseNeedsUniqueArgmax() throws {
        #expect(Runner.check(Thm41Reverse(), options: options(300)).verdict == .holds)
        let r = Runner.check(Thm41Reverse(), options: options(300, dropping: ["unique-argmax"]))
        #expect(r.verdict == .fails)
        let cx = try #require(r.counterexample)
        #expect(cx.dropped == ["unique-argmax"])
        #expect(cx.evaluation.hypotheses["unique-argmax"]! < 0)
        #expect(rewardIsNonConstant(cx.instance))
        // Replayed without the drop, the judgement names the missing hypothesis.
        let j = try Judgement(claim: Thm41Reverse(), instance: cx.instance, dropping: [])
        #expect(j.outcome == .hypothesesNotMet && j.unmet == ["unique-argmax"])
    }

    /// thm4.1's shown counterexample is a tie at the top of a non-constant reward.
    @Test func thm41CounterexampleIsInstructive() throws {
        let r = Runner.check(Thm41(), options: options(300))
        #expect(r.verdict == .fails)
        let cx = try #require(r.counterexample)
        #expect(rewardIsNonConstant(cx.instance))
        let f = try #require(cx.instance.instance)
        #expect(f.prompts.count == 1 && f.prompts[0].data.count == 3)
    }

    /// ΔJ = β·(KL + KL) on the closed form p_D = (½, ½), r = (1, −1): p_RL = (e^{1/β}, e^{−1/β})/Z.
    @Test(arguments: [0.1, 1.0, 10.0])
    func tradeoffClosedForm(beta: Double) throws {
        let ci = ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: beta, weights: [1], data: [[0.5, 0.5]], reward: [[1, -1]], reference: [[0.5, 0.5]]))
        let e = try Thm31Tradeoff().evaluate(ci)
        let gain = tanh(1 / beta)
        #expect(abs(e.quantities["reward_gain"]! - gain) < 1e-14)
        #expect(abs(e.quantities["beta_times_symmetrised_kl"]! - gain) < 1e-13)
        #expect(abs(e.quantities["C1"]! - log(cosh(1 / beta))) < 1e-13)
        #expect(e.conclusion > 0)
    }

    /// The planted bug: the identity without β fails, with a certified counterexample.
    @Test func tradeoffWithoutBetaFails() {
        #expect(Runner.check(Thm31Tradeoff(), options: options(200)).verdict == .holds)
        #expect(Runner.check(TradeoffWithoutBeta(), options: options(200)).verdict == .fails)
    }

    /// The r1-monotone counterexample of proofs/r1-monotone.md (p_D = π_ref = (0.06, 0.86, 0.08),
    /// r = (0.4, −0.5, 0.03), β = 0.3): certified, with a cosine near −0.31; and an independent
    /// fixed-step RK4 of the tabular flow (written here, nothing of Flows) shows the SFT excess
    /// peaking near t ≈ 82.5 and falling by about 1.1e-4 nats onto C₁(β).
    @Test func r1MonotoneFallsOnItsCounterexample() throws {
        let d = [0.06, 0.86, 0.08], r = [0.4, -0.5, 0.03], beta = 0.3
        let ci = ClaimInstance(family: .tabular, instance: Generate.file(beta: beta, weights: [1], data: [d], reward: [r], reference: [d]),
                               parameters: ["T": 400])
        let c = R1Monotone()
        let j = try Judgement(claim: c, instance: ci, dropping: [])
        #expect(j.outcome == .certified)
        #expect(abs(j.double.conclusion - (-0.31)) < 0.01)
        #expect(j.double.quantities["fall_after_peak"]! > 1e-4)
        // Independent RK4 on z, p = softmax(z), ż = p ⊙ (a − E_p a), a = r − β(log p − log p_D).
        func probs(_ z: [Double]) -> [Double] { let m = z.max()!; let e = z.map { exp($0 - m) }; let s = e.reduce(0, +); return e.map { $0 / s } }
        func field(_ z: [Double]) -> [Double] {
            let p = probs(z)
            let a = (0..<3).map { r[$0] - beta * (log(p[$0]) - log(d[$0])) }
            let mean = (0..<3).reduce(0.0) { $0 + p[$1] * a[$1] }
            return (0..<3).map { p[$0] * (a[$0] - mean) }
        }
        func excess(_ z: [Double]) -> Double { let p = probs(z); return (0..<3).reduce(0.0) { $0 + d[$1] * log(d[$1] / p[$1]) } }
        var z = d.map { log($0) }
        let h = 0.02
        var peak = 0.0, peakT = 0.0
        for k in 1...20_000 {
            let k1 = field(z)
            let k2 = field(zip(z, k1).map { $0 + h / 2 * $1 })
            let k3 = field(zip(z, k2).map { $0 + h / 2 * $1 })
            let k4 = field(zip(z, k3).map { $0 + h * $1 })
            z = (0..<3).map { z[$0] + h / 6 * (k1[$0] + 2 * k2[$0] + 2 * k3[$0] + k4[$0]) }
            let e = excess(z)
            if e > peak { peak = e; peakT = Double(k) * h }
        }
        let gibbs = { () -> [Double] in let w = (0..<3).map { d[$0] * exp(r[$0] / beta) }; let s = w.reduce(0, +); return w.map { $0 / s } }()
        let c1 = (0..<3).reduce(0.0) { $0 + d[$1] * log(d[$1] / gibbs[$1]) }
        #expect(abs(peakT - 82.5) < 1)
        #expect(abs(excess(z) - c1) < 1e-9, "the RK4 flow ends at C₁(β)")
        #expect(peak - c1 > 1e-4, "the excess falls by \(peak - c1) after its peak")
        #expect(abs(peak - j.double.quantities["sft_excess_at_peak"]!) < 1e-8)
    }

    /// With two responses the flow is monotone (proofs/r1-monotone.md, step 2): the cosine is +1.
    @Test func r1MonotoneHoldsWithTwoResponses() throws {
        for (d, r, beta) in [([0.3, 0.7], [1.0, -1.0], 0.2), ([0.9, 0.1], [-0.5, 0.4], 3.0)] {
            let ci = ClaimInstance(family: .tabular, instance: Generate.file(beta: beta, weights: [1], data: [d], reward: [r], reference: [d]),
                                   parameters: ["T": 500])
            let e = try R1Monotone().evaluate(ci)
            #expect(e.conclusion > 0.999, "cosine \(e.conclusion)")
        }
    }

    /// `sftrl check --claim r1-monotone` finds it unaided (default seed and count, and seed 11).
    @Test(arguments: [UInt64(1), 11])
    func r1MonotoneCheckFindsTheFall(seed: UInt64) {
        var o = CheckOptions()
        o.seed = seed
        o.shrink = false
        let res = Runner.check(R1Monotone(), options: o)
        #expect(res.verdict == .fails)
    }
}
