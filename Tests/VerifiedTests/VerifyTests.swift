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

    /// A planted weakening is caught: Pinsker's constant tightened by 5% (√(KL/2)·0.95 < TV near
    /// p = (½, ½)) must end in a counterexample certified by the mutant's own re-check, on the box
    /// where the true inequality verifies.
    @Test func plantedWeakeningIsCaught() throws {
        let base = try Registry.claim("eq6-pinsker")
        let mutant = Mutant(base, name: "planted", change: "TV ≤ 0.95·√(KL/2)", whyFalse: "ratio → 1 near p = (½, ½)",
                            margin: MutantMargin.tightened("tv", "sqrt_half_kl", factor: 0.95))
        let d = try VerifiedClaims.defaultDomain("eq6-pinsker", responses: 2).applying("delta=0.2,sep=0.1")
        let p = try VerifiedClaims.problem("eq6-pinsker", domain: d)
        let weakened = VerifyProblem(claim: mutant, names: p.names, box: p.box, conditions: p.conditions, marginText: "0.95·√(KL/2) − TV",
                                     margin: { x in
                                         guard let m = p.margin(x) else { return nil }
                                         // 0.95·s − t = (s − t) − 0.05·s with s = √(KL/2) ≤ TV·(1/0.95)… enclosed via s ≤ 1.
                                         return m - 0.05 * Interval(0, 1)
                                     }, instance: p.instance)
        let r = BranchAndBound.run(weakened, maxBoxes: 20_000)
        #expect(r.status == .counterexample)
        let honest = try VerifiedClaims.verify("eq6-pinsker", domain: d, maxBoxes: 20_000)
        #expect(honest.status == .verified)
    }

    @Test func badBoxesAreRefusedWithTheField() throws {
        let d = VerifyDomain()
        #expect(throws: VerifyError.self) { try d.applying("delta=0.5") }
        #expect(throws: VerifyError.self) { try d.applying("beta=-1:2") }
        #expect(throws: VerifyError.self) { try d.applying("rewrd=0:1") }
        #expect(throws: VerifyError.self) { try d.applying("reward=1") }
        do { _ = try d.applying("rewrd=0:1") } catch { #expect("\(error)".contains("rewrd")) }
        #expect(throws: VerifyError.self) { try VerifiedClaims.problem("eq3-tv", domain: d) }
    }
}
