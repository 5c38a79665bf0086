import ArgumentParser
import Foundation
import Linalg
import Policies
import Claims
import Reports

/// `sftrl explain ID`: one claim of the paper, side by side with its proof page and a live check.
///
/// Prints the statement, the reference, the hypotheses (names as `check --drop` takes them), the
/// verdict of a quick check (`Runner.check`, `--instances` instances, `--seed`), then evaluates
/// the claim on one small worked example and prints the instance and every margin and quantity in
/// Double and in extended precision. The worked example is the quick check's shrunk
/// counterexample when the claim fails; otherwise a hand-picked instance (`ExplainExamples`);
/// otherwise the smallest of the first 64 generated instances that meet the hypotheses.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain one claim: statement, hypotheses, quick-check verdict and a worked example with every margin.",
        discussion: """
        `sftrl explain --list` lists the claim ids. `sftrl explain thm3.1` prints the claim, its
        hypotheses, the verdict of a quick check (the same as `sftrl check --claim ID --instances
        200 --seed 1`) and one worked example evaluated live: the instance and every intermediate
        quantity, hypothesis margin and the conclusion margin, in Double and in extended precision
        (Float80). The proof of each claim is the page proofs/<id>.md.

        Exit status: 0 done, 2 unknown id or bad arguments.
        """)

    @Argument(help: "The claim id (see --list).")
    var id: String?

    @Flag(help: "List the claim ids with their references and hypotheses.")
    var list = false

    @Flag(help: "Machine-readable output (JSON on stdout).")
    var json = false

    @Option(help: "Instances of the quick check that must meet the hypotheses.")
    var instances: Int = 200

    @Option(help: "Seed of the quick check and of a generated worked example.")
    var seed: UInt64 = 1

    @Flag(help: "Skip the quick check (the worked example is then never a counterexample found by it).")
    var noCheck = false

    func validate() throws {
        if list { return }
        guard let id else { throw ValidationError("give a claim id, or --list for the ids; known ids: \(Registry.ids.joined(separator: ", "))") }
        guard Registry.ids.contains(id) else {
            throw ValidationError("unknown claim id \"\(id)\"; known ids: \(Registry.ids.joined(separator: ", "))")
        }
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1, got \(instances)") }
    }

    func run() throws {
        if list {
            print(json ? String(decoding: try encodeJSON(Explain.listing()), as: UTF8.self) : Explain.listText(), terminator: json ? "" : "\n")
            return
        }
        BLASThreads.set(1)
        let report = try Explain.report(id: id!, instances: instances, seed: seed, check: !noCheck)
        if json {
            print(String(decoding: try encodeJSON(report), as: UTF8.self), terminator: "")
        } else {
            print(Explain.text(report))
        }
    }
}

/// The logic of `explain`, separate from the command so that tests call it directly.
enum Explain {
    struct ListEntry: Codable {
        var id: String
        var reference: String
        var hypotheses: [String]
        var proofPage: String
        enum CodingKeys: String, CodingKey { case id, reference, hypotheses, proofPage = "proof_page" }
    }

    struct QuickCheck: Codable {
        var command: String
        var instances: Int
        var seed: UInt64
        var verdict: String
        var met: Int
        var generated: Int
        var minMargin: Double?
        var roundoff: Int
        var errors: Int
        enum CodingKeys: String, CodingKey {
            case command, instances, seed, verdict, met, generated, roundoff, errors
            case minMargin = "min_margin"
        }
    }

    struct WorkedExample: Codable {
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

    struct Report: Codable {
        var id: String
        var reference: String
        var statement: String
        var strict: Bool
        var families: [String]
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

    static func listing() -> [ListEntry] {
        Registry.all.map { ListEntry(id: $0.id, reference: $0.reference, hypotheses: $0.hypothesisNames, proofPage: proofPage($0.id)) }
    }

    static func listText() -> String {
        var t = ConsoleTable(columns: ["id", "reference", "hypotheses"], alignments: [.left, .left, .left])
        for c in Registry.all { t.append([c.id, c.reference, c.hypothesisNames.isEmpty ? "—" : c.hypothesisNames.joined(separator: ", ")]) }
        return t.render() + "\nRun `sftrl explain ID` for one claim; its proof is proofs/ID.md."
    }

    /// Builds the whole report: quick check (unless `check` is false), then the worked example.
    static func report(id: String, instances: Int, seed: UInt64, check: Bool) throws -> Report {
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
                               roundoff: r.roundoff, errors: r.errors)
            counterexample = r.counterexample
        }
        let (source, description, instance) = try workedInstance(claim, counterexample: counterexample, seed: seed)
        let e = try claim.evaluate(instance)
        let x = try claim.evaluateExtended(instance)
        let met = e.meetsHypotheses()
        let outcome: String
        if !met { outcome = "hypotheses not met" } else if !e.violates(strict: claim.strict) { outcome = "holds" } else if Evaluation.certifies(double: e, extended: x, strict: claim.strict) {
            outcome = "violated (certified in extended precision)"
        } else { outcome = "violated in Double only (round-off)" }
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
        if let h = ExplainExamples.handPicked(claim.id) { return ("hand-picked", h.description, h.instance) }
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

    static func text(_ r: Report) -> String {
        var out: [String] = []
        out.append("\(r.id) — \(r.reference)")
        out.append("")
        out.append("Statement: \(r.statement)")
        out.append("Conclusion: \(r.strict ? "strict (margin must be > 0)" : "non-strict (margin ≥ 0 holds)"); margins are signed: > 0 holds, < 0 violated.")
        out.append("")
        if r.hypotheses.isEmpty {
            out.append("Hypotheses: none")
        } else {
            out.append("Hypotheses (names as `sftrl check --drop` takes them):")
            let w = r.hypotheses.map(\.name.count).max() ?? 0
            for h in r.hypotheses { out.append("  \(h.name.padding(toLength: w, withPad: " ", startingAt: 0))  \(h.text)") }
        }
        out.append("Generator families: \(r.families.joined(separator: ", "))")
        out.append("Proof: \(r.proofPage)")
        out.append("")
        if let c = r.check {
            var line = "Quick check (\(c.command)): \(c.verdict.uppercased()) — \(c.met) instances met the hypotheses (of \(c.generated) generated)"
            if let m = c.minMargin { line += ", smallest conclusion margin \(formatMargin(m, digits: 3))" }
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

/// Small hand-picked instances, one per claim where a clear example exists. Each meets its
/// claim's hypotheses (a test checks it); for the claims that fail, the example is a clear
/// counterexample (shown only with `--no-check`; otherwise the quick check's own is shown).
enum ExplainExamples {
    static let third = 1.0 / 3
    static let uniform3 = [third, third, 1 - 2 * third]

    static func distributions(_ p: [Double], _ q: [Double], reference: [Double], reward: [Double]) -> InstanceFile {
        Generate.file(beta: 1, weights: [1], data: [p], reward: [reward], reference: [reference], start: [q])
    }

    static func handPicked(_ id: String) -> (description: String, instance: ClaimInstance)? {
        switch id {
        case "lemma1":
            return ("V = 2 tokens plus EOS, responses of at most 1 token: p(next | empty prefix) = (0.5, 0.3, 0.2) (EOS last), a dataset of n = 5 responses",
                    ClaimInstance(family: "autoregressive", instance: Generate.file(beta: 1, weights: [1], data: [[0.5, 0.3, 0.2]], reward: [[0, 0, 0]]),
                                  parameters: ["vocab": 2, "max_length": 1, "n": 5, "dataset_seed": 7]))
        case "eq3-tv":
            return ("p = data (0.5, 0.3, 0.2), q = start (0.2, 0.3, 0.5): TV = 0.3, attained by the event {y₀}",
                    ClaimInstance(family: "small", instance: distributions([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], reference: [0.2, 0.5, 0.3], reward: [1, 0, -1])))
        case "eq4-triangle":
            return ("p = data (0.5, 0.3, 0.2), q = start (0.2, 0.3, 0.5), r = reference (0.1, 0.6, 0.3): TV(p, r) = 0.4 ≤ 0.3 + 0.3",
                    ClaimInstance(family: "generic", instance: distributions([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], reference: [0.1, 0.6, 0.3], reward: [1, 0, -1])))
        case "eq5", "eq5-2sup", "eq5-osc":
            return ("p = data (0, 1) and q = start (1, 0) are point masses, f = reward (−1, 1): |E_p f − E_q f| = 2, sup|f| = 1, TV = 1",
                    ClaimInstance(family: "generic", instance: distributions([0, 1], [1, 0], reference: [0.5, 0.5], reward: [-1, 1])))
        case "eq6-pinsker":
            return ("p = data (0.5, 0.5), q = start (0.9, 0.1): TV = 0.4, KL(p‖q) = 0.5108",
                    ClaimInstance(family: "generic", instance: distributions([0.5, 0.5], [0.9, 0.1], reference: [0.5, 0.5], reward: [1, 0])))
        case "eq8-gibbs":
            return ("π_ref = reference (0.5, 0.3, 0.2), r = (1, 0, −1), β = 0.5; the competitor π is start (0.6, 0.3, 0.1)",
                    ClaimInstance(family: "tabular-single", instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                                                   reference: [[0.5, 0.3, 0.2]], start: [[0.6, 0.3, 0.1]])))
        case "thm3.1", "thm3.1-identity", "thm3.1-gain":
            return ("one prompt, three responses: p_SFT = p_D = π_ref = (0.7, 0.2, 0.1) (H10), the reward prefers the data's second response, r = (0, 1, 0), β = 0.5",
                    ClaimInstance(family: "tabular-single", instance: Generate.file(beta: 0.5, weights: [1], data: [[0.7, 0.2, 0.1]], reward: [[0, 1, 0]],
                                                                                   reference: [[0.7, 0.2, 0.1]])))
        case "prop1":
            return ("p_RL1 = start (0.2, 0.5, 0.3), p_SFT2 = data (0.3, 0.4, 0.3), r = (1, 0, −1), KL budget B = 0.05 (the KL is 0.0324)",
                    ClaimInstance(family: "tabular-single", instance: Generate.file(beta: 1, weights: [1], data: [[0.3, 0.4, 0.3]], reward: [[1, 0, -1]],
                                                                                   start: [[0.2, 0.5, 0.3]]), parameters: ["B": 0.05]))
        case "thm4.1":
            return ("a tie in the reward r = (1, 1, 0): p_RL1 = start (0.5, 0.5, 0) maximises J, SFT moves it to data (0.25, 0.75, 0) at KL 0.1308 ∈ [a, A] = [0.1, 0.2] without losing any reward",
                    ClaimInstance(family: "ties", instance: Generate.file(beta: 1, weights: [1], data: [[0.25, 0.75, 0]], reward: [[1, 1, 0]],
                                                                         start: [[0.5, 0.5, 0]]), parameters: ["a": 0.1, "A": 0.2]))
        case "thm4.1-regularised":
            return ("π_ref uniform, r = (1, 0, −1), β = 0.5, p_SFT2 = data (0.6, 0.3, 0.1) at KL 0.245 from the Gibbs maximiser; a = 0.1",
                    ClaimInstance(family: "tabular-single", instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                                                   reference: [uniform3]), parameters: ["a": 0.1]))
        case "r1-local", "r1-global", "r1-global-kl":
            return ("tabular, one prompt: start = p_D = (0.6, 0.3, 0.1) (the SFT optimum), r = (0, 1, 0), π_ref = (0.4, 0.3, 0.3), β = 0.5, RL flow for T = 2",
                    ClaimInstance(family: "tabular", instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[0, 1, 0]],
                                                                            reference: [[0.4, 0.3, 0.3]]), parameters: ["T": 2]))
        case "r2":
            let g = Dist.gibbs(reference: [0.4, 0.3, 0.3], reward: [0, 1, 0], beta: 0.5)
            return ("tabular, one prompt: start = the Gibbs optimum of π_ref = (0.4, 0.3, 0.3), r = (0, 1, 0), β = 0.5; SFT flow toward p_D = (0.6, 0.3, 0.1) for T = 1",
                    ClaimInstance(family: "tabular", instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[0, 1, 0]],
                                                                            reference: [[0.4, 0.3, 0.3]], start: [g]), parameters: ["T": 1]))
        case "r3-duration":
            return ("isotropic pair in 2-D: μ_R = 1, L_S = 2, θ_R = (2, 1), θ₀ = 0, λ = 0.5: T* = ln 2 = 0.6931",
                    ClaimInstance(family: "quadratic-isotropic", parameters: ["lambda": 0.5],
                                  landscape: Landscape(a: [1, 1], b: [2, 2], thetaR: [2, 1], theta0: [0, 0])))
        case "r3-duration-actual":
            return ("anisotropic pair: A = I (μ_R = 1), B = diag(2, 0.02) (L_S = 2), θ_R = (1, 3), θ₀ = 0, λ = 1: the cheap second direction keeps paying after T* = ln 1.5",
                    ClaimInstance(family: "quadratic-anisotropic", parameters: ["lambda": 1],
                                  landscape: Landscape(a: [1, 1], b: [2, 0.02], thetaR: [1, 3], theta0: [0, 0])))
        case "r4-threshold":
            return ("p_D = (0.6, 0.3, 0.1), an under-trained p_SFT = π_ref = (0.3, 0.4, 0.3), r = (1, 0, −1), β = 1: E_{p_D} r = 0.5 lies between E_{p_SFT} r = 0 and max r = 1, so a threshold β* exists",
                    ClaimInstance(family: "tabular-single", instance: Generate.file(beta: 1, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                                                   reference: [[0.3, 0.4, 0.3]], start: [[0.3, 0.4, 0.3]])))
        default:
            return nil
        }
    }
}
