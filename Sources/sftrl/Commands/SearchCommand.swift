import ArgumentParser
import Foundation
import Linalg
import Claims
import Search
import Reports
import Figures

/// `sftrl search`: look for counterexamples (or the tightness of an inequality) by optimisation.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search for a counterexample to a claim (optionally with hypotheses dropped), or for how tight an inequality is.",
        discussion: """
        Random restarts from the claim's own generator (with --drop applied), then local \
        optimisation of the conclusion margin over the instance's coordinates (logits of every \
        distribution, rewards, log β, features, named parameters, landscapes) with GSL's \
        Nelder–Mead and BFGS2, the kept hypotheses held by a penalty. Margins are squashed by \
        m/(1+|m|) so no term's scale masks another. The most negative margin found is re-checked in \
        extended precision (Float80, or tighter integration for flow claims) and, when its sign \
        survives, shrunk to the fewest prompts and responses and round numbers.

        --tightness instead maximises lhs/rhs of the inequality (claims: \(TightnessSpec.all.map(\.claim).joined(separator: ", "))) and \
        compares with the known supremum.

        The result is deterministic for a seed unless the --budget-seconds cap bites (the report \
        then says stopped_by "seconds"). --out writes the counterexample (or the best instance) in \
        the format `sftrl check --claim ID --replay FILE` reads. Exit status: 0 when the searches \
        completed (found or not), 1 with --strict when a counterexample was certified, 2 on bad input.
        """)

    @OptionGroup(title: "Claims") var selection: ClaimSelection

    @Flag(name: .customLong("v1"), help: "Search every claim of paper-notes.md §3 (lemma1, eq3-tv, eq4-triangle, eq5, eq6-pinsker, eq8-gibbs, thm3.1, prop1, thm4.1).")
    var v1 = false

    @Flag(help: "For each claim, search with nothing dropped and then with each hypothesis dropped in turn.")
    var eachDrop = false

    @Flag(help: "Maximise lhs/rhs of the inequality instead of looking for a violation.")
    var tightness = false

    @Option(help: "Objective evaluations per search (claim × dropped set), split over the restarts.")
    var budgetEvals: Int = 50_000

    @Option(help: "Wall-clock cap per search in seconds; when it bites the result depends on timing.")
    var budgetSeconds: Double = 50

    @Option(help: "Random restarts per search.")
    var restarts: Int = 16

    @Option(help: "Random instances drawn per restart before the local optimisation starts from the best.")
    var candidates: Int = 8

    @OptionGroup(title: "Run") var control: RunControl

    @OptionGroup(title: "Output files") var report: ReportOutput

    @Option(help: "Write the counterexample (or, when none was certified, the best instance) of the single search to this file (replayable with `sftrl check --replay`).")
    var out: String?

    @Option(help: "Write every certified counterexample to this directory as ID[--drop-NAME].json.")
    var outDir: String?

    @Flag(help: "Do not shrink counterexamples.")
    var noShrink = false

    @Flag(help: "Exit with status 1 when a counterexample was certified.")
    var strict = false

    static var v1Claims: [String] { Registry.v1.map(\.id) }

    var claims: [String] { selection.claims }
    var drop: [String] { selection.dropNames }
    var claimIDs: [String] { v1 ? SearchCommand.v1Claims + claims.filter { !SearchCommand.v1Claims.contains($0) } : claims }

    func validate() throws {
        try Bounds.check([("--budget-evals", budgetEvals, Bounds.steps), ("--restarts", restarts, Bounds.items),
                          ("--candidates", candidates, 1...10_000)])
        if let out { try validating { try OutputPaths.checkFile(out, option: "--out") } }
        if let outDir { try validating { try OutputPaths.checkFolder(outDir, option: "--out-dir") } }
        try validating { try OutputPaths.checkDistinct([("--out", out), ("--json", report.json)]) }
        guard !claimIDs.isEmpty else { throw ValidationError("give a claim with --claim ID (repeatable) or --v1 for the claims of paper-notes.md §3") }
        guard budgetEvals >= 1 else { throw ValidationError("--budget-evals must be at least 1, got \(budgetEvals)") }
        guard budgetSeconds > 0, budgetSeconds.isFinite else { throw ValidationError("--budget-seconds must be a positive number, got \(budgetSeconds)") }
        guard restarts >= 1 else { throw ValidationError("--restarts must be at least 1, got \(restarts)") }
        try validating { try SizeLimits.checkCount(restarts, option: "--restarts", bytesEach: 8192, what: "restart results", hint: "; lower it") }
        guard candidates >= 1 else { throw ValidationError("--candidates must be at least 1, got \(candidates)") }
        if eachDrop && !drop.isEmpty { throw ValidationError("--each-drop and --drop cannot be combined") }
        try selection.checkDrops(for: claimIDs)
        for id in claimIDs {
            if tightness && TightnessSpec.spec(for: id) == nil {
                throw ValidationError("claim \(id) has no tightness measure; --tightness supports: \(TightnessSpec.all.map(\.claim).joined(separator: ", "))")
            }
        }
        if out != nil && plan().count != 1 { throw ValidationError("--out needs exactly one search (one claim, no --each-drop); use --out-dir for several") }
    }

    /// The searches: (claim, dropped set), in order.
    func plan() -> [(claim: any Claim, dropping: Set<String>)] {
        var out: [(claim: any Claim, dropping: Set<String>)] = []
        for id in claimIDs {
            guard let c = try? Registry.claim(id) else { continue }
            if eachDrop {
                out.append((c, []))
                for h in c.hypothesisNames { out.append((c, [h])) }
            } else {
                out.append((c, Set(drop).intersection(c.hypothesisNames)))
            }
        }
        return out
    }

    func run() throws {
        BLASThreads.set(1)
        var options = SearchOptions()
        options.seed = control.seed
        options.mode = tightness ? .tightness : .violation
        options.budgetEvaluations = budgetEvals
        options.budgetSeconds = budgetSeconds
        options.restarts = restarts
        options.candidatesPerRestart = candidates
        options.threads = control.threads
        options.shrink = !noShrink
        options.timing = control.timing
        options.shard = control.shardIndex
        let searches = plan()
        if let dir = outDir { try ensureDirectory(URL(fileURLWithPath: dir)) }
        var results: [SearchResult] = []
        var times: [Double] = []
        for (k, s) in searches.enumerated() {
            var o = options
            o.dropping = s.dropping
            let label = s.claim.id + (s.dropping.isEmpty ? "" : " −" + s.dropping.sorted().joined(separator: ","))
            let progress = ProgressReporter(total: (o.restarts + o.shard.count - 1 - o.shard.index) / o.shard.count,
                                            label: "search \(k + 1)/\(searches.count) \(label)", quiet: control.quiet)
            let t0 = Date()
            let r = Searcher.search(s.claim, options: o) { done, _, best in
                progress.advance(by: 1, status: best.map { (tightness ? "best ratio " : "best margin ") + formatSignificant($0, digits: 4) })
                _ = done
            }
            progress.finish(status: r.verdict)
            times.append(Date().timeIntervalSince(t0))
            results.append(r)
        }
        let searched = SearchReport(version: sftrlVersion, commit: sftrlCommit, seed: control.seed, shard: control.shard, runs: results)
        // Files are written only after every search finished, each atomically.
        if let json = report.json { try writeJSON(searched, to: URL(fileURLWithPath: json)) }
        if let out {
            if let f = results[0].counterexample ?? results[0].best { try writeJSON(f, to: URL(fileURLWithPath: out)) } else {
                FileHandle.standardError.write(Data("note: no instance met the kept hypotheses; nothing written to \(out)\n".utf8))
            }
        }
        if let dir = outDir {
            for r in results {
                guard let cx = r.counterexample else { continue }
                try writeJSON(cx, to: URL(fileURLWithPath: dir).appendingPathComponent(SearchTable.fileName(claim: r.claim, dropped: r.dropped)))
            }
        }
        printSummary(SearchTable.render(results, times: times), stdoutTaken: report.json == "-" || out == "-")
        if strict && results.contains(where: { $0.counterexample != nil }) { throw ExitCode(1) }
    }
}
