import Foundation
import Testing
import Claims
import Reports
@testable import Figures

@Suite("explain")
struct ExplainTests {
    /// The text names the claim, its statement, every hypothesis (name and text), the quick check
    /// and the proof page.
    @Test(arguments: ["thm3.1", "r3-duration"])
    func textHasStatementHypothesesAndProofPage(id: String) throws {
        let claim = try Registry.claim(id)
        let report = try Explain.report(id: id, instances: 50, seed: 1, check: true)
        let text = Explain.text(report)
        #expect(text.contains(claim.statement))
        #expect(text.contains(claim.reference))
        for h in claim.hypotheses {
            #expect(text.contains(h.name))
            #expect(text.contains(h.text))
        }
        #expect(text.contains("proofs/\(id).md"))
        #expect(text.contains("Quick check (sftrl check --claim \(id) --instances 50 --seed 1): HOLDS"))
        #expect(text.contains("conclusion margin"))
        #expect(report.example.source == "hand-picked")
        #expect(report.example.meetsHypotheses)
        // Every quantity of the evaluation is printed.
        for k in report.example.double.quantities.keys { #expect(text.contains(k)) }
    }

    /// The JSON form decodes back and carries the same fields.
    @Test func jsonRoundTrip() throws {
        let report = try Explain.report(id: "eq6-pinsker", instances: 20, seed: 1, check: true)
        let data = try encodeJSON(report)
        let back = try makeJSONDecoder().decode(Explain.Report.self, from: data)
        #expect(back.id == "eq6-pinsker")
        #expect(back.proofPage == "proofs/eq6-pinsker.md")
        #expect(back.check?.verdict == "holds")
        #expect(back.example.double == report.example.double)
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        #expect(object["proof_page"] as? String == "proofs/eq6-pinsker.md")
    }

    /// A failing claim's worked example is the quick check's certified counterexample.
    @Test func failingClaimShowsCounterexample() throws {
        let report = try Explain.report(id: "eq5", instances: 50, seed: 1, check: true)
        #expect(report.check?.verdict == "fails")
        #expect(report.example.source == "counterexample")
        #expect(report.example.outcome.hasPrefix("violated (certified"))
    }

    /// Every hand-picked example meets its claim's hypotheses; it violates the conclusion exactly
    /// for the claims the toolkit finds false (eq5, thm4.1, r3-duration-actual).
    @Test func handPickedExamplesMeetTheirHypotheses() throws {
        // The claims the toolkit finds false are those that explain why they fail.
        let failing = Set(Registry.all.filter { $0.failureExplanation != nil }.map(\.id))
        #expect(failing.isSuperset(of: ["eq5", "thm4.1", "r3-duration-actual", "thm4.1-gibbs", "thm4.1-local"]))
        var covered = 0
        for claim in Registry.all {
            guard let h = claim.workedExample else { continue }
            covered += 1
            let e = try claim.evaluate(h.instance)
            #expect(e.isWellDefined, "\(claim.id)")
            #expect(e.meetsHypotheses(), "\(claim.id): \(e.hypotheses)")
            // Judged by the check's rule: a Double round-off violation is not a violation.
            let j = try Judgement(claim: claim, instance: h.instance, dropping: [])
            #expect((j.outcome == .certified) == failing.contains(claim.id), "\(claim.id): margin \(e.conclusion), \(j.outcome.rawValue), failing: \(failing.contains(claim.id))")
        }
        #expect(covered >= 20)
    }
}
