import ArgumentParser
import Foundation
import StrictJSON
import Linalg
import Policies
import Claims
import Reports
import Figures

/// `sftrl check`: every statement of the paper checked on random instances, with verdicts.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the paper's claims on seeded random instances and report a verdict per claim.",
        discussion: """
        Each claim is evaluated on random instances until --instances of them meet its hypotheses.
        Verdicts: holds (every such instance met the conclusion; the smallest margin is reported),
        fails (a counterexample whose sign survived a Float80 re-check, shrunk to the smallest
        instance), vacuous (no instance met the hypotheses). Margins are signed and scaled:
        > 0 holds, < 0 violated. The table's `margin` column is the certified margin of a
        failure's counterexample, or the smallest margin of a holding claim, marked
        "(round-off)" when it is a negative Double margin the re-check did not confirm; the
        `roundoff` and `errors` columns count such instances and failed evaluations.

        --replay FILE --claim ID re-checks one saved instance with the same rule; FILE may be a
        counterexample, a search finding, a claim instance, an instance file or a `check --json`
        report (then the claim's counterexample). A counterexample found with --drop records it.

        Exit status: 0 when the run completed, 1 with --strict when a verdict is `fails`,
        2 on bad arguments or input. The JSON report is byte-identical for the same seed,
        whatever the thread count (unless --timing adds wall times).
        """)

    @OptionGroup(title: "Claims") var selection: ClaimSelection

    @Option(help: "Instances per claim that must meet the hypotheses.")
    var instances: Int = 1000

    @OptionGroup(title: "Run") var control: RunControl

    @OptionGroup(title: "Output files") var report: ReportOutput

    @Option(help: "Write the report as a Markdown table to this file.")
    var markdown: String?

    @Flag(help: "Exit with status 1 when any claim fails.")
    var strict = false

    @Option(help: "Re-check one saved instance and print every margin and the verdict (same certification rule as the check); needs exactly one --claim. Accepts a counterexample or search finding, a claim instance, an instance file, or a `check --json` report (then the counterexample of --claim).")
    var replay: String?

    var claims: [String] { selection.claims }
    var drop: [String] { selection.dropNames }

    func validate() throws {
        try Bounds.check("--instances", instances, Bounds.steps)
        if let markdown { try validating { try OutputPaths.checkFile(markdown, option: "--markdown") } }
        try validating { try OutputPaths.checkDistinct([("--json", report.json), ("--markdown", markdown)]) }
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1, got \(instances)") }
        try validating { try SizeLimits.checkCount(instances, option: "--instances", bytesEach: 4096, what: "evaluated instances per claim", hint: "; lower it") }
        if replay != nil && claims.count != 1 { throw ValidationError("--replay needs exactly one --claim ID") }
        try selection.checkDrops(for: claims)
    }

    func selected() throws -> [any Claim] { claims.isEmpty ? Registry.all : try claims.map { try Registry.claim($0) } }

    func run() throws {
        if let replay { return try runReplay(replay) }
        var options = CheckOptions()
        options.instances = instances
        options.seed = control.seed
        options.threads = control.threads
        options.timing = control.timing
        options.dropping = Set(drop)
        options.shard = control.shardIndex
        // Parallelism is across instances; one BLAS thread keeps LAPACK's results bit-identical.
        BLASThreads.set(1)
        let chosen = try selected()
        let progress = ProgressReporter(total: chosen.count * instances, label: "check", quiet: control.quiet)
        var results: [ClaimResult] = []
        var times: [Double] = []
        for claim in chosen {
            let t0 = Date()
            let done = results.count * instances
            var o = options
            o.dropping = options.dropping.intersection(claim.hypothesisNames)
            let r = Runner.check(claim, options: o) { met, _ in
                progress.advance(by: 0, status: claim.id)
                progress.setStatus("\(claim.id) \(met)/\(instances)")
                _ = done
            }
            progress.advance(by: instances, status: "\(claim.id): \(r.verdict.rawValue)")
            results.append(r)
            times.append(Date().timeIntervalSince(t0))
        }
        progress.finish()
        let checked = CheckReport(seed: control.seed, version: sftrlVersion, instances: instances, shard: control.shard, claims: results)
        // Outputs are written only after the whole run succeeded, each atomically.
        if let json = report.json { try writeJSON(checked, to: URL(fileURLWithPath: json)) }
        if let markdown { try writeAtomically(CheckReport.markdown(results), to: URL(fileURLWithPath: markdown)) }
        printSummary(CheckReport.table(results, times: times), stdoutTaken: report.json == "-" || markdown == "-")
        if strict && results.contains(where: { $0.verdict == .fails }) { throw ExitCode(1) }
    }

    func runReplay(_ path: String) throws {
        let claim = try Registry.claim(claims[0])
        let loaded = try Replay.load(path, claim: claim.id)
        let j = try Judgement(claim: claim, instance: loaded.instance, dropping: Set(drop))
        print("claim \(claim.id) (\(claim.reference)) on \(path)" + (loaded.source.map { " (\($0))" } ?? ""))
        print(CheckReport.marginTable(j.double, extended: j.extended ?? Evaluation(conclusion: .nan)))
        print("verdict: \(j.sentence)")
        for line in Replay.droppedNotes(judgement: j, recorded: loaded.dropped, given: drop) { print(line) }
    }
}
