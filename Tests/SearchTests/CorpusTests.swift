import Testing
import Foundation
import Policies
import Claims
@testable import Search

/// The counterexample corpus: every JSON file in Counterexamples/ is a `Finding` (readable by
/// `sftrl check --replay`). Each must still (1) meet the kept hypotheses and violate the
/// conclusion with a certified (extended-precision) margin, through the claim's own code, and
/// (2) fail again under an independent re-derivation written here with plain Double loops.
@Suite struct CorpusTests {
    static var directory: URL { Bundle.module.resourceURL!.appendingPathComponent("Counterexamples") }

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    static func load(_ name: String) throws -> Finding {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try dec.decode(Finding.self, from: data)
    }

    @Test func theCorpusIsThere() {
        // The claims `sftrl check` finds failing with every hypothesis kept, and the dropped-hypothesis findings.
        for name in ["eq5.json", "thm4.1.json", "r3-duration-actual.json", "thm3.1--drop-H10.json", "prop1--drop-kl-budget.json"] {
            #expect(Self.files.contains(name), "missing fixture \(name)")
        }
    }

    @Test(arguments: CorpusTests.files)
    func stillFailsThroughTheClaim(_ name: String) throws {
        let f = try Self.load(name)
        #expect(name == SearchFileName.make(claim: f.claim, dropped: f.dropped), "file name matches its claim and drops")
        let claim = try Registry.claim(f.claim)
        let dropping = Set(f.dropped)
        let e = try claim.evaluate(f.instance)
        let x = try claim.evaluateExtended(f.instance)
        #expect(e.meetsHypotheses(dropping: dropping) && x.meetsHypotheses(dropping: dropping), "\(name): kept hypotheses no longer met: \(e.hypotheses)")
        #expect(Evaluation.certifies(double: e, extended: x, strict: claim.strict), "\(name): no longer a certified violation (margin \(e.conclusion), extended \(x.conclusion))")
        // Small: one prompt and a few responses (or a landscape of small dimension).
        if let inst = f.instance.instance {
            #expect(inst.prompts.count <= 2 && inst.prompts.allSatisfy { $0.data.count <= 4 }, "\(name) is not small: \(f.size)")
        }
    }

    @Test(arguments: CorpusTests.files)
    func stillFailsIndependently(_ name: String) throws {
        let f = try Self.load(name)
        let verdict = try Independent.check(f)
        #expect(verdict.hypothesesMet, "\(name): \(verdict.detail)")
        #expect(verdict.violated, "\(name): \(verdict.detail)")
    }
}

/// File names of the corpus: ID.json, ID--drop-NAME.json ("β > 0" → "beta-gt-0").
enum SearchFileName {
    static func make(claim: String, dropped: [String]) -> String {
        func safe(_ s: String) -> String {
            s.replacingOccurrences(of: "β", with: "beta").replacingOccurrences(of: ">", with: "gt").replacingOccurrences(of: " ", with: "-")
        }
        return claim + dropped.map { "--drop-" + safe($0) }.joined() + ".json"
    }
}
