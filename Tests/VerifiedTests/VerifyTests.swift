import Testing
import Foundation
@testable import Verified
@testable import Claims

/// Branch-and-bound verification on small boxes (sizes chosen for a debug build).
@Suite struct VerifyTests {
    /// Eq. 5 as printed is false: on every box tried it ends in a certified counterexample, never
    /// `verified` (2 and 3 responses, default and narrower boxes).
    @Test func eq5AlwaysEndsInACounterexample() throws {
        for n in [2, 3] {
            for spec in ["", "delta=0.1", "reward=-1:0.5", "reward=-0.3:1,delta=0.2"] {
                let d = try VerifiedClaims.defaultDomain("eq5", responses: n).applying(spec)
                let r = try VerifiedClaims.verify("eq5", domain: d, maxBoxes: 20_000)
                #expect(r.status == .counterexample, "eq5 N=\(n) box \(spec): \(r.status)")
                #expect(r.counterexample?.outcome == .certified)
                if let inst = r.instance { #expect(try Judgement(claim: Registry.claim("eq5"), instance: inst, dropping: []).outcome == .certified) }
            }
        }
    }

    /// Claims verified on small boxes (narrow enough for a debug build), with the smallest
    /// certified margin ≥ 0 (> 0 for a strict claim) and no undecided sub-box.
    @Test(arguments: [("eq6-pinsker", 2, "delta=0.2,sep=0.1"), ("eq5-2sup", 2, "delta=0.2,reward=0.5:1,sep=0.1"),
                      ("thm4.1-reverse", 3, "delta=0.2,reward=0:1,gap=0.3"), ("thm3.1", 2, "delta=0.3,reward=0:1,gap=0.5,beta=1:1.5")])
    func verifiesSmallBoxes(_ id: String, _ n: Int, _ spec: String) throws {
        let d = try VerifiedClaims.defaultDomain(id, responses: n).applying(spec)
        let r = try VerifiedClaims.verify(id, domain: d, maxBoxes: 100_000)
        #expect(r.status == .verified, "\(id) on \(spec): \(r.status), \(r.undecidedCount) undecided")
        #expect((r.minMargin ?? -1) >= 0)
    }

    /// The claims posed on the directions of p − q, verified with 3 responses on boxes sized for a
    /// debug build (the default boxes, in release, are in docs/verify.md).
    @Test(arguments: [("eq3-tv", ""), ("eq5-osc", "reward=0:1,gap=0.3,sep=0.2"), ("eq6-pinsker", "delta=0.2,sep=0.3"),
                      ("prop1", "delta=0.2,sep=0.3"), ("eq4-triangle", "sep=0.2")])
    func verifiesOnDirections(_ id: String, _ spec: String) throws {
        let d = try VerifiedClaims.defaultDomain(id, responses: 3).applying(spec)
        let r = try VerifiedClaims.verify(id, domain: d, maxBoxes: 100_000)
        #expect(r.status == .verified, "\(id) on \(spec): \(r.status), \(r.undecidedCount) undecided")
        #expect((r.minMargin ?? -1) >= 0)
    }

    /// A planted weakening is caught: each direction-posed claim with its constant changed (the
    /// identity's side by 1 + 10⁻³, the registered mutant; the inequalities' bound by 1 − 10%)
    /// ends in a counterexample certified by the weakened claim's own re-check, on the box where
    /// the true claim verifies (the same budget).
    @Test(arguments: [("eq3-tv", "", 1 + Mutants.epsilon), ("eq5-osc", "reward=0:1,gap=0.3,sep=0.2", 0.9),
                      ("eq6-pinsker", "delta=0.2,sep=0.3", 0.9), ("prop1", "delta=0.2,sep=0.3", 0.9), ("eq4-triangle", "sep=0.2", 0.9)])
    func plantedWeakeningIsCaught(_ id: String, _ spec: String, _ factor: Double) throws {
        let base = try Registry.claim(id)
        let margin: @Sendable (Evaluation) -> Double
        switch id {
        case "eq3-tv": margin = MutantMargin.perturbedIdentity("half_l1", "sup_events", factor: factor)
        case "eq5-osc": margin = MutantMargin.tightened("lhs", "rhs", factor: factor)
        case "eq6-pinsker": margin = MutantMargin.tightened("tv", "sqrt_half_kl", factor: factor)
        case "eq4-triangle": margin = MutantMargin.tightened("tv_pr", "tv_pq_plus_tv_qr", factor: factor)
        default:
            margin = { e in
                guard let s = e.quantities["J_sft2"], let r = e.quantities["J_rl1"], let b = e.quantities["bound"], let rm = e.quantities["R_max"] else { return .nan }
                return (factor * (b - r) - (s - r)) / Swift.max(rm, Double.leastNormalMagnitude)
            }
        }
        let mutant = Mutant(base, name: "planted", change: "constant × \(factor)", whyFalse: "sharp constant", margin: margin)
        let d = try VerifiedClaims.defaultDomain(id, responses: 3).applying(spec)
        let r = BranchAndBound.run(try VerifiedClaims.weakened(id, domain: d, factor: factor, judgedBy: mutant), maxBoxes: 100_000)
        #expect(r.status == .counterexample, "\(id) × \(factor): \(r.status)")
        if let inst = r.instance { #expect(try Judgement(claim: mutant, instance: inst, dropping: []).outcome == .certified) }
        // The unweakened problem through the same path verifies.
        let honest = BranchAndBound.run(try VerifiedClaims.weakened(id, domain: d, factor: 1, judgedBy: base), maxBoxes: 100_000)
        #expect(honest.status == .verified)
    }

    @Test func badBoxesAreRefusedWithTheField() throws {
        let d = VerifyDomain()
        #expect(throws: VerifyError.self) { try d.applying("delta=0.5") }
        #expect(throws: VerifyError.self) { try d.applying("beta=-1:2") }
        #expect(throws: VerifyError.self) { try d.applying("rewrd=0:1") }
        #expect(throws: VerifyError.self) { try d.applying("reward=1") }
        do { _ = try d.applying("rewrd=0:1") } catch { #expect("\(error)".contains("rewrd")) }
        #expect(throws: VerifyError.self) { try VerifiedClaims.problem("lemma1", domain: d) }
    }
}
