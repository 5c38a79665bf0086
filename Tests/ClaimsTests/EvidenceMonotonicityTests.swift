import Testing
import Foundation
import Linalg
@testable import Claims

/// More evidence never flips a verdict (issue 19, item 2): the instances of a run with n instances
/// are a prefix of those of a run with 5n or 10n (instance k depends on (seed, claim, k) only), every
/// violator is re-checked, so a counterexample certified in the smaller run is found in the larger.
@Suite struct EvidenceMonotonicityTests {
    static func run(_ c: any Claim, _ n: Int, seed: UInt64 = 1) -> ClaimResult {
        var o = CheckOptions()
        o.instances = n
        o.seed = seed
        o.shrink = false
        return Runner.check(c, options: o)
    }

    /// Every claim at 1×, 5× and 10× a small count: no "fails" becomes "holds" (nor "vacuous").
    @Test(arguments: Registry.ids)
    func noFailsBecomesHolds(id: String) throws {
        let c = try Registry.claim(id)
        let base = 8
        var failed = false
        for k in [1, 5, 10] {
            let r = Self.run(c, base * k)
            if failed { #expect(r.verdict == .fails, "\(id): fails with fewer instances, \(r.verdict.rawValue) with \(base * k)") }
            failed = failed || r.verdict == .fails
        }
    }

    /// thm4.1's certified exact tie stays found at 5× its default count (it was lost when only the 50
    /// most violated round-off violators were re-checked, and a tie counted only when the Double
    /// margin was exactly 0 too).
    @Test func thm41FailsWithMoreInstances() {
        for n in [1000, 5000] {
            let r = Self.run(Thm41(), n)
            #expect(r.verdict == .fails, "thm4.1 with \(n) instances: \(r.verdict.rawValue)")
        }
    }

    /// A strict claim's margin that rounds to a few ulps below 0 in Double and is exactly 0 in
    /// extended precision is a certified tie; a non-strict claim's is not a violation at all.
    @Test func exactTieInExtendedPrecisionCertifiesAStrictClaim() {
        let d = Evaluation(conclusion: -1e-17), x = Evaluation(conclusion: 0)
        #expect(Evaluation.certifies(double: d, extended: x, strict: true))
        #expect(!Evaluation.certifies(double: d, extended: x, strict: false))
        #expect(!Evaluation.certifies(double: d, extended: Evaluation(conclusion: 1e-20), strict: true))
    }
}
