import Testing
import Claims

/// Hypothesis ids are ASCII words for the command line; the mathematical names stay for display
/// and as report keys, and are still accepted as aliases.
@Suite("hypothesis ids")
struct HypothesisIDTests {
    @Test func everyIdIsAnASCIIWordThatMapsBackToItsName() {
        for claim in Registry.all {
            #expect(Set(claim.hypothesisIDs).count == claim.hypotheses.count, "\(claim.id): two hypotheses share an id")
            for h in claim.hypotheses {
                #expect(Hypothesis.isASCIIWord(h.id), "\(claim.id): hypothesis id \"\(h.id)\" is not an ASCII word")
                #expect(Hypothesis.name(forCommandLine: h.id) == h.name)
                #expect(claim.hypothesisName(commandLine: h.id) == h.name)
                #expect(claim.hypothesisName(commandLine: h.name) == h.name, "\(claim.id): the name \(h.name) is no longer accepted")
            }
        }
    }

    @Test func betaPositiveIsSpelledOut() throws {
        let thm31 = try Registry.claim("thm3.1")
        #expect(thm31.hypothesisNames.contains("β > 0"))
        #expect(thm31.hypothesisIDs.contains("beta-positive"))
        #expect(thm31.hypothesisName(commandLine: "beta-positive") == "β > 0")
        #expect(thm31.hypothesisName(commandLine: "β > 0") == "β > 0")
        #expect(thm31.hypothesisName(commandLine: "beta-negative") == nil)
        #expect(!Hypothesis.isASCIIWord("β > 0") && !Hypothesis.isASCIIWord("") && !Hypothesis.isASCIIWord("-x") && Hypothesis.isASCIIWord("H10"))
    }
}
