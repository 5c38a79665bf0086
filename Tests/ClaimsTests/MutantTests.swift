import Testing
import Foundation
import Linalg
@testable import Claims

/// The mutants (false near-variants, `Mutant`) that `sftrl power` measures verdicts with.
@Suite struct MutantTests {
    /// Every claim of the registry has at least one mutant, every mutant's base is a registry
    /// claim, and mutant ids are unique.
    @Test func everyClaimHasAMutant() {
        let withMutant = Set(Mutants.all.map(\.base.id))
        for id in Registry.ids { #expect(withMutant.contains(id), "claim \(id) has no mutant: register one in Sources/Claims/Mutants+*.swift") }
        for m in Mutants.all { #expect(Registry.ids.contains(m.base.id)) }
        let ids = Mutants.all.map(\.id)
        #expect(Set(ids).count == ids.count, "mutant ids repeat")
        for m in Mutants.all { #expect(!m.whyFalse.isEmpty && !m.change.isEmpty) }
    }

    /// A mutant rewrites the margin and nothing else: on Pinsker's worked example the tightened
    /// mutant's margin is ((1 − 10⁻³)·√(KL/2) − TV)/√(KL/2), computed by hand here.
    @Test func tightenedPinskerMargin() throws {
        let m = try #require(Mutants.of("eq6-pinsker").first { $0.name == "tighten-1e-3" })
        let ex = try #require(m.base.workedExample).instance
        let e = try m.evaluate(ex), b = try m.base.evaluate(ex)
        let tv = b.quantities["tv"]!, r = b.quantities["sqrt_half_kl"]!
        #expect(abs(e.conclusion - ((1 - 1e-3) * r - tv) / r) < 1e-15)
        #expect(e.hypotheses == b.hypotheses && e.quantities == b.quantities)
    }

    /// The power of the tightened Pinsker mutant, and that it is a real test: at a ratio of 0.9995
    /// (p = (½, ½), q close to p) the mutant fails and the claim holds; with the factor planted
    /// back to 1 (no tightening) the mutant holds there too.
    @Test func tightenedPinskerIsCaughtWhereItMustBe() throws {
        let ci = ClaimInstance(family: .generic, instance: Generate.file(beta: 1, weights: [1], data: [[0.5, 0.5]], reward: [[1, 0]],
                                                                          reference: [[0.5, 0.5]], start: [[0.51, 0.49]]))
        let m = try #require(Mutants.of("eq6-pinsker").first)
        #expect(try Judgement(claim: m, instance: ci, dropping: []).outcome == .certified)
        #expect(try Judgement(claim: m.base, instance: ci, dropping: []).outcome == .holds)
        let planted = Mutant(m.base, name: "planted", change: "no change", whyFalse: "-", margin: MutantMargin.tightened("tv", "sqrt_half_kl", factor: 1))
        #expect(try Judgement(claim: planted, instance: ci, dropping: []).outcome == .holds)
    }

    /// A dropped hypothesis is neither enforced by the generator nor required of instances.
    @Test func droppedHypothesisIsGone() throws {
        let m = try #require(Mutants.of("thm3.1").first { $0.dropped.contains("H10") })
        #expect(!m.hypothesisNames.contains("H10"))
        var g = SeededGenerator(seed: 3)
        var differs = false
        for _ in 0..<20 {
            let ci = m.generate(&g, family: .tabularSingle, dropping: [])
            let e = try m.evaluate(ci)
            #expect(e.hypotheses["H10"] == nil)
            if let i = ci.instance, i.starts != i.prompts.map(\.data) { differs = true }
        }
        #expect(differs, "with H10 dropped the generator should draw p_SFT ≠ p_D")
    }
}
