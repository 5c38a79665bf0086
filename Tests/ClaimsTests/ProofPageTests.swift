import Testing
import Foundation
@testable import Claims
import TestSupport

/// The proof pages in `proofs/` (one per claim id, plus the index `proofs/README.md`) checked against
/// the registry and the test sources, so that a page cannot silently go stale.
///
/// Machine-readable conventions the pages follow (and these tests enforce):
/// - `proofs/<id>.md` for every id of `Registry.all`, and no other page but `README.md`;
/// - a line `**Reference:** <claim.reference>` and every hypothesis name written as `` `name` ``;
/// - exactly one line `**Verdict:** holds|fails|vacuous`;
/// - every line starting with `Check:` names at least one check, either `` `sftrl check --claim <id>` ``
///   (a registered id) or `` `Tests/<Target>/<File>.swift: <function>` `` (a file that defines `func <function>(`);
/// - a page whose verdict is `fails` carries its counterexample as a JSON claim instance in a ```json block
///   right after a line `<!-- counterexample -->`; the test replays it and requires a certified violation;
/// - the index has a row `| [`<id>`](<id>.md) | reference | verdict | … |` for every id, whose verdict is the page's.
@Suite struct ProofPageTests {
    /// The repository root (TestSupport's `repositoryRoot`).
    static let root = repositoryRoot
    static let proofs = root.appendingPathComponent("proofs")

    static func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }
    static func page(_ id: String) -> URL { proofs.appendingPathComponent("\(id).md") }

    /// Every Markdown file in proofs/ (the index included), by file name.
    static func pages() throws -> [String: String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: proofs.path).filter { $0.hasSuffix(".md") }
        var out: [String: String] = [:]
        for n in names { out[n] = try text(proofs.appendingPathComponent(n)) }
        return out
    }

    /// Ids named as `` `sftrl check --claim ID` `` (with or without further options inside the backticks).
    static func claimReferences(_ s: String) throws -> [String] {
        try s.matches(of: Regex(#"`sftrl check --claim ([^`\s]+)[^`]*`"#)).compactMap { $0.output[1].substring.map(String.init) }
    }

    /// Tests named as `` `Tests/<Target>/<File>.swift: <function>` ``.
    static func testReferences(_ s: String) throws -> [(file: String, name: String)] {
        try s.matches(of: Regex(#"`(Tests/[A-Za-z0-9_]+/[A-Za-z0-9_+]+\.swift): ([A-Za-z_][A-Za-z0-9_]*)`"#)).compactMap { m in
            guard let f = m.output[1].substring, let n = m.output[2].substring else { return nil }
            return (String(f), String(n))
        }
    }

    /// The verdicts stated on a page, one per `**Verdict:** …` line.
    static func verdicts(_ s: String) -> [String] {
        s.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
            let l = line.trimmingCharacters(in: .whitespaces)
            guard l.hasPrefix("**Verdict:** ") else { return nil }
            return String(l.dropFirst("**Verdict:** ".count))
        }
    }

    /// The JSON block after `<!-- counterexample -->`, if any.
    static func counterexampleJSON(_ s: String) -> String? {
        guard let marker = s.range(of: "<!-- counterexample -->"),
              let open = s.range(of: "```json\n", range: marker.upperBound..<s.endIndex),
              let close = s.range(of: "\n```", range: open.upperBound..<s.endIndex) else { return nil }
        return String(s[open.upperBound..<close.lowerBound])
    }

    @Test func everyClaimHasAPage() {
        for id in Registry.ids {
            #expect(FileManager.default.fileExists(atPath: Self.page(id).path), "claim \(id) has no page proofs/\(id).md")
        }
    }

    @Test func everyPageIsAClaimOrTheIndex() throws {
        for name in try Self.pages().keys where name != "README.md" {
            #expect(Registry.ids.contains(String(name.dropLast(3))), "proofs/\(name) is not the page of a registered claim")
        }
    }

    @Test func namedClaimsAreRegistered() throws {
        for (name, s) in try Self.pages() {
            for id in try Self.claimReferences(s) {
                #expect(Registry.ids.contains(id), "proofs/\(name) names `sftrl check --claim \(id)`, which is not registered")
            }
        }
    }

    @Test func namedTestsExist() throws {
        for (name, s) in try Self.pages() {
            for (file, function) in try Self.testReferences(s) {
                let url = Self.root.appendingPathComponent(file)
                guard let source = try? Self.text(url) else {
                    Issue.record("proofs/\(name) names \(file), which does not exist")
                    continue
                }
                let defined = source.contains("func \(function)(")
                #expect(defined, "proofs/\(name) names \(file): \(function), which \(file) does not define")
            }
        }
    }

    @Test func everyCheckLineNamesACheck() throws {
        for (name, s) in try Self.pages() {
            var count = 0
            for line in s.split(separator: "\n") where line.trimmingCharacters(in: .whitespaces).hasPrefix("Check:") {
                count += 1
                let l = String(line)
                let names = try Self.claimReferences(l).count + Self.testReferences(l).count
                #expect(names > 0, "proofs/\(name): a Check line names no claim and no test: \(l)")
            }
            if name != "README.md" { #expect(count > 0, "proofs/\(name) has no Check line") }
        }
    }

    @Test func pagesStateTheRegistryEntry() throws {
        for c in Registry.all {
            guard let s = try? Self.text(Self.page(c.id)) else { continue }   // reported by everyClaimHasAPage
            let heading = s.hasPrefix("# `\(c.id)`"), reference = s.contains("\n**Reference:** \(c.reference)\n")
            #expect(heading, "proofs/\(c.id).md must start with the heading \"# `\(c.id)`\"")
            #expect(reference, "proofs/\(c.id).md must state **Reference:** \(c.reference)")
            for h in c.hypothesisNames {
                let named = s.contains("`\(h)`")
                #expect(named, "proofs/\(c.id).md does not name the hypothesis `\(h)`")
            }
        }
    }

    @Test func indexListsEveryClaimWithThePageVerdict() throws {
        let index = try Self.text(Self.proofs.appendingPathComponent("README.md"))
        let rows = index.split(separator: "\n").map(String.init).filter { $0.hasPrefix("| [`") }
        for id in Registry.ids {
            let row = rows.first { $0.hasPrefix("| [`\(id)`](\(id).md) |") }
            guard let row else { Issue.record("proofs/README.md has no row for \(id)"); continue }
            let cells = row.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let listed = cells.count > 3 ? cells[3] : "?"
            let page = (try? Self.text(Self.page(id))).map(Self.verdicts) ?? []
            #expect(page == [listed], "proofs/README.md lists \(id) as \(listed); its page says \(page)")
        }
    }

    /// The stated verdict against the code: a `holds` (or `vacuous`) page must agree with a fresh check on
    /// 200 instances (seed 1); a `fails` page must carry a counterexample that still meets the hypotheses
    /// and violates the conclusion, certified in extended precision.
    @Test(arguments: Registry.ids)
    func statedVerdictMatchesTheCode(id: String) throws {
        let claim = try Registry.claim(id)
        let s = try Self.text(Self.page(id))
        let stated = Self.verdicts(s)
        try #require(stated.count == 1, "proofs/\(id).md must have exactly one **Verdict:** line, has \(stated)")
        let verdict = try #require(Verdict(rawValue: stated[0]), "proofs/\(id).md: unknown verdict \(stated[0])")
        switch verdict {
        case .fails:
            guard let json = Self.counterexampleJSON(s) else {
                Issue.record("proofs/\(id).md says fails but has no <!-- counterexample --> JSON block")
                return
            }
            let ci = try JSONDecoder().decode(ClaimInstance.self, from: Data(json.utf8))
            let e = try claim.evaluate(ci), x = try claim.evaluateExtended(ci)
            let met = e.meetsHypotheses() && x.meetsHypotheses()
            let certified = Evaluation.certifies(double: e, extended: x, strict: claim.strict)
            #expect(met, "proofs/\(id).md: the counterexample does not meet the hypotheses (\(e.hypotheses))")
            #expect(certified, "proofs/\(id).md: the counterexample no longer violates the conclusion (margin \(e.conclusion), extended \(x.conclusion))")
        case .holds, .vacuous:
            var o = CheckOptions()
            o.instances = 200
            o.seed = 1
            o.shrink = false
            let r = Runner.check(claim, options: o)
            #expect(r.verdict == verdict, "proofs/\(id).md says \(verdict.rawValue); sftrl check (seed 1, 200 instances) says \(r.verdict.rawValue)")
        }
    }

    /// Inline math delimiters of a paragraph (code spans, fenced blocks, `\$` and `$$…$$` removed):
    /// positions of the problems found, as short excerpts. A paragraph must have an even number of
    /// `$`, and every opening `$` must be followed by a non-space (a shell-expanded `$G` leaves
    /// "…, $ \in \{2,3,4\}$" or "rewards in 1$ with" behind).
    static func mathDelimiterProblems(_ page: String) throws -> [String] {
        var s = page.replacing(try Regex(#"(?s)```.*?```"#), with: "")
        s = s.replacing(try Regex(#"`[^`\n]*`"#), with: "")
        s = s.replacing("\\$", with: "  ")
        s = s.replacing(try Regex(#"(?s)\$\$.*?\$\$"#), with: "")
        var problems: [String] = []
        for para in s.components(separatedBy: "\n\n") {
            let chars = Array(para)
            let dollars = chars.indices.filter { chars[$0] == "$" }
            if dollars.count % 2 == 1 { problems.append("odd number of $ in: " + String(para.prefix(120))); continue }
            for k in stride(from: 0, to: dollars.count, by: 2) {
                let open = dollars[k]
                if open + 1 < chars.count, chars[open + 1].isWhitespace {
                    problems.append("a $ opens on a space in: " + String(chars[max(0, open - 30)..<min(chars.count, open + 30)]))
                    break
                }
            }
        }
        return problems
    }

    /// Every page has balanced inline math (the grpo-ascent pages were once garbled by shell `$`
    /// expansion); the rule itself is tested on a garbled line.
    @Test func mathDelimitersAreBalanced() throws {
        #expect(try !Self.mathDelimiterProblems("rewards in 1$ with ties),  \\in \\{2,3,4\\}$, $\\eta = 1$").isEmpty)
        #expect(try !Self.mathDelimiterProblems("With  = r_i - \\bar r$ (group mean, $\\bar r$ including $)").isEmpty)
        #expect(try Self.mathDelimiterProblems("With $A_i = r_i$ and `$x` and \\$5, $$a$$ end").isEmpty)
        for (name, s) in try Self.pages() {
            let problems = try Self.mathDelimiterProblems(s)
            #expect(problems.isEmpty, "proofs/\(name): \(problems.joined(separator: "; "))")
        }
    }
}
