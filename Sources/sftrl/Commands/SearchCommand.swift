import ArgumentParser
import Foundation
import Linalg
import Claims
import Search
import Reports

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

    @Option(name: .customLong("claim"), help: "A claim id to search (repeatable). See `sftrl explain --list`.")
    var claims: [String] = []

    @Flag(name: .customLong("v1"), help: "Search every claim of paper-notes.md §3 (lemma1, eq3-tv, eq4-triangle, eq5, eq6-pinsker, eq8-gibbs, thm3.1, prop1, thm4.1).")
    var v1 = false

    @Option(help: "A hypothesis to drop (repeatable): instances need not satisfy it.")
    var drop: [String] = []

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

    @Option(help: "Seed of the run; restart r of a search is a function of (seed, claim, dropped, mode, r).")
    var seed: UInt64 = 1

    @Option(help: "Run shard K of N (K in 0..<N): only the restarts ≡ K mod N. Combine shards with `sftrl merge`.")
    var shard: String?

    @Option(help: "Worker threads (default: the CPUs this process may use, its affinity mask as taskset, a Slurm task or a container cpuset sets it). The results do not depend on it.")
    var threads: Int = CPUs.available

    @Option(help: "Write the counterexample (or, when none was certified, the best instance) of the single search to this file (replayable with `sftrl check --replay`).")
    var out: String?

    @Option(help: "Write every certified counterexample to this directory as ID[--drop-NAME].json.")
    var outDir: String?

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Flag(help: "Do not shrink counterexamples.")
    var noShrink = false

    @Flag(help: "Exit with status 1 when a counterexample was certified.")
    var strict = false

    @Flag(help: "Record wall time per search in the JSON (makes it non-deterministic).")
    var timing = false

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    static var v1Claims: [String] { Registry.v1.map(\.id) }

    var claimIDs: [String] { v1 ? SearchCommand.v1Claims + claims.filter { !SearchCommand.v1Claims.contains($0) } : claims }

    func validate() throws {
        try Bounds.check([("--budget-evals", budgetEvals, Bounds.steps), ("--restarts", restarts, Bounds.items),
                          ("--candidates", candidates, 1...10_000), ("--threads", threads, Bounds.threads)])
        if let out { try OutputPaths.checkFile(out, option: "--out") }
        if let json { try OutputPaths.checkFile(json, option: "--json") }
        if let outDir { try OutputPaths.checkFolder(outDir, option: "--out-dir") }
        try OutputPaths.checkDistinct([("--out", out), ("--json", json)])
        guard !claimIDs.isEmpty else { throw ValidationError("give a claim with --claim ID (repeatable) or --v1 for the claims of paper-notes.md §3") }
        for id in claimIDs where !Registry.ids.contains(id) {
            throw ValidationError("--claim: unknown claim id \"\(id)\"; known ids: \(Registry.ids.joined(separator: ", "))")
        }
        guard budgetEvals >= 1 else { throw ValidationError("--budget-evals must be at least 1, got \(budgetEvals)") }
        guard budgetSeconds > 0, budgetSeconds.isFinite else { throw ValidationError("--budget-seconds must be a positive number, got \(budgetSeconds)") }
        guard restarts >= 1 else { throw ValidationError("--restarts must be at least 1, got \(restarts)") }
        try SizeLimits.checkCount(restarts, option: "--restarts", bytesEach: 8192, what: "restart results", hint: "; lower it")
        guard candidates >= 1 else { throw ValidationError("--candidates must be at least 1, got \(candidates)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let s = shard { _ = try Bounds.shard(s) }
        if eachDrop && !drop.isEmpty { throw ValidationError("--each-drop and --drop cannot be combined") }
        for id in claimIDs {
            let c = try Registry.claim(id)
            for d in drop where !c.hypothesisNames.contains(d) && claimIDs.count == 1 {
                throw ValidationError("--drop: claim \(c.id) has no hypothesis \"\(d)\"; its hypotheses: \(c.hypothesisNames.isEmpty ? "(none, so there is nothing to drop)" : c.hypothesisNames.joined(separator: ", "))")
            }
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
        options.seed = seed
        options.mode = tightness ? .tightness : .violation
        options.budgetEvaluations = budgetEvals
        options.budgetSeconds = budgetSeconds
        options.restarts = restarts
        options.candidatesPerRestart = candidates
        options.threads = threads
        options.shrink = !noShrink
        options.timing = timing
        if let s = shard, let p = ReportMerge.parseShard(s) { options.shard = p }
        let searches = plan()
        if let dir = outDir { try ensureDirectory(URL(fileURLWithPath: dir)) }
        var results: [SearchResult] = []
        var times: [Double] = []
        for (k, s) in searches.enumerated() {
            var o = options
            o.dropping = s.dropping
            let label = s.claim.id + (s.dropping.isEmpty ? "" : " −" + s.dropping.sorted().joined(separator: ","))
            let progress = ProgressReporter(total: (o.restarts + o.shard.count - 1 - o.shard.index) / o.shard.count,
                                            label: "search \(k + 1)/\(searches.count) \(label)", quiet: quiet)
            let t0 = Date()
            let r = Searcher.search(s.claim, options: o) { done, _, best in
                progress.advance(by: 1, status: best.map { (tightness ? "best ratio " : "best margin ") + formatSignificant($0, digits: 4) })
                _ = done
            }
            progress.finish(status: r.verdict)
            times.append(Date().timeIntervalSince(t0))
            results.append(r)
        }
        let report = SearchReport(version: sftrlVersion, seed: seed, shard: shard, runs: results)
        // Files are written only after every search finished, each atomically.
        if let json { try writeJSON(report, to: URL(fileURLWithPath: json)) }
        if let out {
            if let f = results[0].counterexample ?? results[0].best { try writeJSON(f, to: URL(fileURLWithPath: out)) } else {
                FileHandle.standardError.write(Data("note: no instance met the kept hypotheses; nothing written to \(out)\n".utf8))
            }
        }
        if let dir = outDir {
            for r in results {
                guard let cx = r.counterexample else { continue }
                try writeJSON(cx, to: URL(fileURLWithPath: dir).appendingPathComponent(SearchCommand.fileName(claim: r.claim, dropped: r.dropped)))
            }
        }
        printSummary(SearchCommand.table(results, times: times), stdoutTaken: json == "-" || out == "-")
        if strict && results.contains(where: { $0.counterexample != nil }) { throw ExitCode(1) }
    }

    /// ID.json, or ID--drop-NAME.json per dropped hypothesis (names made file-safe: "β > 0" → "beta-gt-0").
    static func fileName(claim: String, dropped: [String]) -> String {
        func safe(_ s: String) -> String {
            s.replacingOccurrences(of: "β", with: "beta").replacingOccurrences(of: ">", with: "gt").replacingOccurrences(of: " ", with: "-")
        }
        return claim + dropped.map { "--drop-" + safe($0) }.joined() + ".json"
    }

    static func table(_ results: [SearchResult], times: [Double]) -> String {
        var t = ConsoleTable(columns: ["claim", "dropped", "verdict", "best", "extended", "size", "certified", "evals", "time"],
                             alignments: [.left, .left, .left, .right, .right, .left, .left, .right, .right])
        for (i, r) in results.enumerated() {
            let shown = r.counterexample ?? r.best
            let value: String, extended: String
            switch r.mode {
            case .violation:
                value = shown.map { "margin " + formatSignificant($0.evaluation.conclusion, digits: 4) } ?? "—"
                extended = shown.map { formatSignificant($0.extended.conclusion, digits: 4) } ?? "—"
            case .tightness:
                value = r.best?.ratio.map { "ratio " + formatSignificant($0, digits: 8) } ?? "—"
                extended = r.best?.ratioExtended.map { formatSignificant($0, digits: 8) } ?? "—"
            }
            t.append([r.claim, r.dropped.isEmpty ? "—" : r.dropped.joined(separator: ", "), r.verdict, value, extended, shown?.size ?? "—",
                      r.counterexample != nil ? (r.counterexample!.shrunk ? "yes, shrunk" : "yes") : "no",
                      "\(r.evaluations)" + (r.stoppedBy == "seconds" ? " (clock)" : ""), formatDuration(times[i])])
        }
        var out = t.render()
        for r in results {
            if let s = r.tightness {
                var found = s.supremumFound.map { formatSignificant($0, digits: 10) } ?? "—"
                if s.aboveKnownSupremum == "round-off", let raw = s.roundoffRatio {
                    found += " (to round-off: the best ratio \(formatSignificant(raw, digits: 12)) exceeds the proven bound only by rounding; its violation is not certified)"
                } else if s.aboveKnownSupremum == "certified violation" {
                    found += " (ABOVE the known supremum, and certified: the inequality fails)"
                }
                out += "\n\(r.claim): \(s.measure): supremum found \(found), known \(s.knownSupremum.map { formatSignificant($0, digits: 4) + (s.attained ? " (attained)" : " (not attained: a limit)") } ?? "unbounded"). \(s.note)"
            }
            guard let cx = r.counterexample else { continue }
            out += "\n\(r.claim)\(r.dropped.isEmpty ? "" : " without " + r.dropped.joined(separator: ", ")): certified counterexample, conclusion margin \(formatSignificant(cx.evaluation.conclusion, digits: 6)) (extended \(formatSignificant(cx.extended.conclusion, digits: 6)))"
            if let inst = cx.instance.instance {
                for (x, p) in inst.prompts.enumerated() {
                    out += "\n  prompt \(x): weight \(p.weight) data \(p.data) reward \(p.reward)" + (p.start.map { " start \($0)" } ?? "") + (p.reference.map { " reference \($0)" } ?? "")
                }
                out += "\n  beta \(inst.beta)"
                if let f = inst.policy.features { out += "\n  features \(f)" }
                if let th = inst.policy.theta { out += "\n  theta \(th)" }
            }
            if let l = cx.instance.landscape { out += "\n  landscape: diag A \(l.a), diag B \(l.b), theta_R \(l.thetaR), theta_0 \(l.theta0)" }
            if !cx.instance.parameters.isEmpty { out += "\n  parameters " + cx.instance.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        }
        return out
    }
}
