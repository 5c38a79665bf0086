import Foundation
import Claims
import Reports

/// The logic and text of `sftrl explain`: the claim listing, the report (quick check and worked
/// example evaluated live in Double and extended precision) and its text layout.
public enum Explain {
    public struct ListEntry: Codable {
        var id: String
        var reference: String
        var hypotheses: [String]
        var proofPage: String
        enum CodingKeys: String, CodingKey { case id, reference, hypotheses, proofPage = "proof_page" }
    }

    public struct QuickCheck: Codable {
        var command: String
        var instances: Int
        var seed: UInt64
        var verdict: String
        var met: Int
        var generated: Int
        var minMargin: Double?
        var roundoff: Int
        var errors: Int
        /// A failure: the extended-precision margin of its (shrunk) counterexample.
        var certifiedMargin: Double?
        enum CodingKeys: String, CodingKey {
            case command, instances, seed, verdict, met, generated, roundoff, errors
            case minMargin = "min_margin", certifiedMargin = "certified_margin"
        }
    }

    public struct WorkedExample: Codable {
        /// `counterexample`, `hand-picked` or `generated`.
        var source: String
        var description: String
        var instance: ClaimInstance
        var double: Evaluation
        var extended: Evaluation
        var meetsHypotheses: Bool
        /// `holds`, `violated (certified)`, `violated in Double only`, `hypotheses not met`.
        var outcome: String
        enum CodingKeys: String, CodingKey {
            case source, description, instance, double, extended, outcome
            case meetsHypotheses = "meets_hypotheses"
        }
    }

    public struct Report: Codable {
        var id: String
        var reference: String
        var statement: String
        var strict: Bool
        var families: [Family]
        var hypotheses: [Hypothesis]
        var proofPage: String
        var check: QuickCheck?
        var example: WorkedExample
        enum CodingKeys: String, CodingKey {
            case id, reference, statement, strict, families, hypotheses, check, example
            case proofPage = "proof_page"
        }
    }

    static func proofPage(_ id: String) -> String { "proofs/\(id).md" }

    public static func listing() -> [ListEntry] {
        Registry.all.map { ListEntry(id: $0.id, reference: $0.reference, hypotheses: $0.hypothesisIDs, proofPage: proofPage($0.id)) }
    }

    public static func listText() -> String {
        var t = ConsoleTable(columns: ["id", "reference", "hypotheses"], alignments: [.left, .left, .left])
        for c in Registry.all { t.append([c.id, c.reference, c.hypothesisIDs.isEmpty ? "—" : c.hypothesisIDs.joined(separator: ", ")]) }
        return t.render() + "\nRun `sftrl explain ID` for one claim; its proof is proofs/ID.md."
    }

    /// Builds the whole report: quick check (unless `check` is false), then the worked example.
    public static func report(id: String, instances: Int, seed: UInt64, check: Bool) throws -> Report {
        let claim = try Registry.claim(id)
        var quick: QuickCheck?
        var counterexample: Counterexample?
        if check {
            var o = CheckOptions()
            o.instances = instances
            o.seed = seed
            let r = Runner.check(claim, options: o)
            quick = QuickCheck(command: "sftrl check --claim \(id) --instances \(instances) --seed \(seed)", instances: instances, seed: seed,
                               verdict: r.verdict.rawValue, met: r.instances, generated: r.generated, minMargin: r.minMargin,
                               roundoff: r.roundoff, errors: r.errors, certifiedMargin: r.counterexample?.extended.conclusion)
            counterexample = r.counterexample
        }
        let (source, description, instance) = try workedInstance(claim, counterexample: counterexample, seed: seed)
        // The same rule as `sftrl check`: extended-precision hypotheses and the certification bound.
        let j = try Judgement(claim: claim, instance: instance, dropping: [])
        let e = j.double
        let x = try j.extended ?? claim.evaluateExtended(instance)
        let met = j.outcome != .hypothesesNotMet
        let outcome = j.outcome == .certified ? "violated (certified in extended precision)" : j.sentence
        return Report(id: claim.id, reference: claim.reference, statement: claim.statement, strict: claim.strict, families: claim.families,
                      hypotheses: claim.hypotheses, proofPage: proofPage(claim.id), check: quick,
                      example: WorkedExample(source: source, description: description, instance: instance, double: e, extended: x,
                                             meetsHypotheses: met, outcome: outcome))
    }

    /// The counterexample, else the hand-picked example, else the smallest generated instance
    /// (fewest responses, or landscape dimension) among the first 64 that meet the hypotheses.
    static func workedInstance(_ claim: any Claim, counterexample: Counterexample?, seed: UInt64) throws -> (String, String, ClaimInstance) {
        if let cx = counterexample {
            return ("counterexample", "the quick check's counterexample (\(cx.shrunk ? "shrunk" : "not shrunk"), certified in extended precision; random instance #\(cx.index))", cx.instance)
        }
        if let w = claim.workedExample { return ("hand-picked", w.description, w.instance) }
        var best: (size: Int, index: Int, instance: ClaimInstance)?
        for k in 0..<64 {
            let ci = Runner.instance(of: claim, seed: seed, index: k, dropping: [])
            guard let e = try? claim.evaluate(ci), e.isWellDefined, e.meetsHypotheses() else { continue }
            let size = ci.instance.map { $0.prompts.reduce(0) { $0 + $1.data.count } } ?? ci.landscape?.a.count ?? 0
            if best == nil || size < best!.size { best = (size, k, ci) }
        }
        guard let b = best else { throw ClaimError.invalid("no generated instance of \(claim.id) met its hypotheses among the first 64 (seed \(seed))") }
        return ("generated", "the smallest of the first 64 generated instances (seed \(seed)) that meet the hypotheses: random instance #\(b.index), family \(b.instance.family)", b.instance)
    }

    // MARK: Text

    public static func text(_ r: Report) -> String {
        var out: [String] = []
        out.append("\(r.id) — \(r.reference)")
        out.append("")
        out.append("Statement: \(r.statement)")
        out.append("Conclusion: \(r.strict ? "strict (margin must be > 0)" : "non-strict (margin ≥ 0 holds)"); margins are signed: > 0 holds, < 0 violated.")
        out.append("")
        if r.hypotheses.isEmpty {
            out.append("Hypotheses: none")
        } else {
            out.append("Hypotheses (ids as `sftrl check --drop` takes them):")
            let w = r.hypotheses.map(\.id.count).max() ?? 0
            for h in r.hypotheses {
                out.append("  \(h.id.padding(toLength: w, withPad: " ", startingAt: 0))  \(h.text)" + (h.id == h.name ? "" : " (\(h.name))"))
            }
        }
        out.append("Generator families: \(r.families.map(\.rawValue).joined(separator: ", "))")
        out.append("Proof: \(r.proofPage)")
        out.append("")
        if let c = r.check {
            var line = "Quick check (\(c.command)): \(c.verdict.uppercased()) — \(c.met) instances met the hypotheses (of \(c.generated) generated)"
            if let cm = c.certifiedMargin {
                line += ", certified margin of the counterexample \(formatMargin(cm, digits: 3))"
            } else if let m = c.minMargin {
                line += ", smallest conclusion margin \(formatMargin(m, digits: 3))" + (m < 0 ? " (round-off: not certified)" : "")
            }
            line += ", \(c.roundoff) round-off violation(s), \(c.errors) error(s)."
            out.append(line)
        } else {
            out.append("Quick check: skipped (--no-check).")
        }
        out.append("")
        let ex = r.example
        out.append("Worked example (\(ex.source)): \(ex.description)")
        out.append(contentsOf: describe(ex.instance).map { "  " + $0 })
        out.append("")
        out.append(marginTable(ex.double, extended: ex.extended))
        out.append("")
        if ex.source == "counterexample" || ex.outcome.hasPrefix("violated (certified"), let why = Registry.explanation(of: r.id) { out.append("Why it fails: \(why)") }
        out.append("Outcome on this example: \(ex.outcome). Replay it with `sftrl explain \(r.id) --json` (field example.instance) saved to a file and `sftrl check --claim \(r.id) --replay FILE`.")
        return out.joined(separator: "\n")
    }

    /// Every margin and quantity: hypotheses (with met/not met), the conclusion, the quantities.
    static func marginTable(_ e: Evaluation, extended x: Evaluation) -> String {
        var t = ConsoleTable(columns: ["", "name", "double", "extended"], alignments: [.left, .left, .right, .right])
        for (k, v) in e.hypotheses.sorted(by: { $0.key < $1.key }) {
            t.append([v >= 0 ? "hypothesis (met)" : "hypothesis (NOT met)", k, formatSignificant(v == 0 ? 0 : v, digits: 8),
                      x.hypotheses[k].map { formatSignificant($0, digits: 8) } ?? "—"])
        }
        t.append(["conclusion margin", "", formatSignificant(e.conclusion, digits: 8), formatSignificant(x.conclusion, digits: 8)])
        for (k, v) in e.quantities.sorted(by: { $0.key < $1.key }) {
            t.append(["quantity", k, formatSignificant(v, digits: 12), x.quantities[k].map { formatSignificant($0, digits: 12) } ?? "—"])
        }
        return t.render()
    }

    static func vector(_ v: [Double]) -> String { "(" + v.map { formatSignificant($0, digits: 6) }.joined(separator: ", ") + ")" }

    /// The instance in a few lines.
    static func describe(_ ci: ClaimInstance) -> [String] {
        var lines: [String] = ["family: \(ci.family)"]
        if let f = ci.instance {
            var head = "β = \(formatSignificant(f.beta, digits: 6)), policy \(f.policy.kind), \(f.prompts.count) prompt(s)"
            if let feats = f.policy.features { head += ", d = \(feats.first?.first?.count ?? 0) features" }
            if let th = f.policy.theta { head += ", θ₀ = \(vector(th))" }
            lines.append(head)
            let w = f.normalizedWeights
            for (x, p) in f.prompts.enumerated() {
                var s = "prompt \(x) (q = \(formatSignificant(w[x], digits: 6))): data \(vector(p.data)), reward \(vector(p.reward))"
                if let r = p.reference { s += ", reference \(vector(r))" }
                if let st = p.start { s += ", start \(vector(st))" }
                if let h = p.base { s += ", base \(vector(h))" }
                lines.append(s)
            }
        }
        if let l = ci.landscape {
            lines.append("landscape: diag A \(vector(l.a)), diag B \(vector(l.b)), θ_R \(vector(l.thetaR)), θ₀ \(vector(l.theta0))")
        }
        if !ci.parameters.isEmpty {
            lines.append("parameters: " + ci.parameters.sorted { $0.key < $1.key }.map { "\($0.key) = \(formatSignificant($0.value, digits: 8))" }.joined(separator: ", "))
        }
        return lines
    }
}
