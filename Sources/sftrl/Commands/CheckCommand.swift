import ArgumentParser
import Foundation
import StrictJSON
import Linalg
import Policies
import Claims
import Reports

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

    @Option(name: .customLong("claim"), help: "A claim id to check (repeatable; default: all). See `sftrl explain --list`.")
    var claims: [String] = []

    @Option(help: "Instances per claim that must meet the hypotheses.")
    var instances: Int = 1000

    @Option(help: "Seed of the run; instance k of a claim is a function of (seed, claim id, k).")
    var seed: UInt64 = 1

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Write the report as a Markdown table to this file.")
    var markdown: String?

    @Flag(help: "Exit with status 1 when any claim fails.")
    var strict = false

    @Option(help: "Re-check one saved instance and print every margin and the verdict (same certification rule as the check); needs exactly one --claim. Accepts a counterexample or search finding, a claim instance, an instance file, or a `check --json` report (then the counterexample of --claim).")
    var replay: String?

    @Option(help: "Hypotheses to drop (repeatable): instances need not satisfy them. See `sftrl explain ID` for the names.")
    var drop: [String] = []

    @Option(help: "Worker threads (default: the CPUs this process may use, its affinity mask as taskset, a Slurm task or a container cpuset sets it). The results do not depend on it.")
    var threads: Int = CPUs.available

    @Option(help: "Run shard K of N (K in 0..<N): only the instance indices ≡ K mod N. Combine shards with `sftrl merge`.")
    var shard: String?

    @Flag(help: "Record wall time and instances per second per claim in the JSON (makes it non-deterministic).")
    var timing = false

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    func validate() throws {
        try Bounds.check([("--instances", instances, Bounds.steps), ("--threads", threads, Bounds.threads)])
        if let json { try OutputPaths.checkFile(json, option: "--json") }
        if let markdown { try OutputPaths.checkFile(markdown, option: "--markdown") }
        try OutputPaths.checkDistinct([("--json", json), ("--markdown", markdown)])
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1, got \(instances)") }
        try SizeLimits.checkCount(instances, option: "--instances", bytesEach: 4096, what: "evaluated instances per claim", hint: "; lower it")
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        for id in claims where !Registry.ids.contains(id) {
            throw ValidationError("--claim: unknown claim id \"\(id)\"; known ids: \(Registry.ids.joined(separator: ", "))")
        }
        if replay != nil && claims.count != 1 { throw ValidationError("--replay needs exactly one --claim ID") }
        if let s = shard { _ = try parseShard(s) }
        for c in try selected() {
            for d in drop where !c.hypothesisNames.contains(d) && claims.count == 1 {
                throw ValidationError("--drop: claim \(c.id) has no hypothesis \"\(d)\"; its hypotheses: \(c.hypothesisNames.isEmpty ? "(none, so there is nothing to drop)" : c.hypothesisNames.joined(separator: ", "))")
            }
        }
    }

    func selected() throws -> [any Claim] { claims.isEmpty ? Registry.all : try claims.map { try Registry.claim($0) } }

    func run() throws {
        if let replay { return try runReplay(replay) }
        var options = CheckOptions()
        options.instances = instances
        options.seed = seed
        options.threads = threads
        options.timing = timing
        options.dropping = Set(drop)
        if let s = shard { options.shard = try parseShard(s) }
        // Parallelism is across instances; one BLAS thread keeps LAPACK's results bit-identical.
        BLASThreads.set(1)
        let chosen = try selected()
        let progress = ProgressReporter(total: chosen.count * instances, label: "check", quiet: quiet)
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
        let report = CheckReport(seed: seed, version: sftrlVersion, instances: instances, shard: shard, claims: results)
        // Outputs are written only after the whole run succeeded, each atomically.
        if let json { try writeJSON(report, to: URL(fileURLWithPath: json)) }
        if let markdown { try writeAtomically(CheckReport.markdown(results), to: URL(fileURLWithPath: markdown)) }
        printSummary(CheckReport.table(results, times: times), stdoutTaken: json == "-" || markdown == "-")
        if strict && results.contains(where: { $0.verdict == .fails }) { throw ExitCode(1) }
    }

    func runReplay(_ path: String) throws {
        let claim = try Registry.claim(claims[0])
        let loaded = try loadReplay(path, claim: claim.id)
        let j = try Judgement(claim: claim, instance: loaded.instance, dropping: Set(drop))
        print("claim \(claim.id) (\(claim.reference)) on \(path)" + (loaded.source.map { " (\($0))" } ?? ""))
        print(CheckReport.marginTable(j.double, extended: j.extended ?? Evaluation(conclusion: .nan)))
        print("verdict: \(j.sentence)")
        for line in Replay.droppedNotes(judgement: j, recorded: loaded.dropped, given: drop) { print(line) }
    }
}

/// What a replay file held: the instance, the hypotheses dropped when it was found (when recorded)
/// and where in the file it came from.
struct LoadedInstance {
    var instance: ClaimInstance
    var dropped: [String]?
    var source: String?
}

enum Replay {
    /// Lines that name the hypotheses a replay misses because the file was found with `--drop`.
    static func droppedNotes(judgement j: Judgement, recorded: [String]?, given: [String]) -> [String] {
        guard let recorded, !recorded.isEmpty else { return [] }
        let missing = recorded.filter { !given.contains($0) }
        guard !missing.isEmpty else { return [] }
        var out = ["note: this instance was found with --drop \(recorded.joined(separator: " --drop ")); it need not meet \(recorded.count == 1 ? "that hypothesis" : "those hypotheses")."]
        let unmet = missing.filter { j.unmet.contains($0) }
        if !unmet.isEmpty {
            out.append("it misses the dropped hypothesis \(unmet.map { "\($0) (margin \(formatSignificant(j.double.hypotheses[$0] ?? .nan, digits: 6)))" }.joined(separator: ", ")): replay with \(missing.map { "--drop \($0)" }.joined(separator: " ")) to judge the conclusion without it.")
        } else {
            out.append("it happens to meet \(missing.joined(separator: ", ")) as well, so the verdict above needs no --drop.")
        }
        return out
    }
}

/// Parses "K/N" with 0 ≤ K < N.
func parseShard(_ s: String) throws -> (index: Int, count: Int) {
    try Bounds.shard(s)
}

/// Reads a claim instance from a file: a `ClaimInstance`, a `Counterexample` (its `instance` and
/// recorded `dropped`; a search finding is one), a bare instance in the foundation schema, or the
/// JSON report of `sftrl check --json` (the counterexample of `claim`, else its smallest-margin instance).
func loadClaimInstance(_ path: String) throws -> ClaimInstance { try loadReplay(path, claim: nil).instance }

func loadReplay(_ path: String, claim: String?) throws -> LoadedInstance {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw ValidationError("cannot read \(path): \(PlainError.unreadableFile(path))")
    }
    // Strict syntax first (duplicate keys, NaN, positions), then the shape decides the reader: a bare
    // instance file goes through the strict instance reader (unknown keys refused, not defaulted).
    let value = try Result { try JSONParser.parse(data) }.mapError { ValidationError("--replay \(path): \($0)") }.get()
    guard case .object = value else { throw ValidationError("--replay \(path): expected a JSON object (an instance, counterexample or report), found \(value.kindName)") }
    if value["prompts"] != nil {
        do {
            let f = try InstanceFile.decode(data, path: path)
            return LoadedInstance(instance: try validated(ClaimInstance(family: "file", instance: f), path: path), dropped: nil, source: nil)
        } catch let e as InstanceError { throw ValidationError("--replay \(path): \(e)") }
    }
    let dec = makeJSONDecoder()
    if value["claims"] != nil, let report = try? dec.decode(CheckReport.self, from: data) {
        guard let id = claim else { throw ValidationError("\(path) is a `sftrl check --json` report: name the claim to replay with --claim ID") }
        guard let r = report.claims.first(where: { $0.id == id }) else {
            throw ValidationError("the report \(path) has no result for claim \(id); it has: \(report.claims.map(\.id).joined(separator: ", "))")
        }
        if let cx = r.counterexample {
            return LoadedInstance(instance: try validated(cx.instance, path: path), dropped: cx.dropped ?? (r.dropped.isEmpty ? nil : r.dropped),
                                  source: "the counterexample of \(id) in the report (verdict \(r.verdict.rawValue), seed \(report.seed))")
        }
        guard let m = r.minMarginInstance else {
            throw ValidationError("the report's result for \(id) has neither a counterexample nor a min_margin_instance (verdict \(r.verdict.rawValue))")
        }
        return LoadedInstance(instance: try validated(m, path: path), dropped: r.dropped.isEmpty ? nil : r.dropped,
                              source: "no counterexample in the report (verdict \(r.verdict.rawValue)): its smallest-margin instance")
    }
    if let cx = try? dec.decode(Counterexample.self, from: data) {
        // A search finding records its claim: another claim's counterexample is said to be one.
        var note: String?
        if case let .string(recorded)? = value["claim"], let claim, recorded != claim {
            note = "a finding recorded for claim \(recorded), judged here as \(claim)"
        }
        return LoadedInstance(instance: try validated(cx.instance, path: path), dropped: cx.dropped, source: note)
    }
    if value["family"] != nil, let ci = try? dec.decode(ClaimInstance.self, from: data) {
        return LoadedInstance(instance: try validated(ci, path: path), dropped: nil, source: nil)
    }
    throw ValidationError("--replay \(path) is neither a `sftrl check --json` report, a claim instance, a counterexample nor an instance file")
}

/// Structural validation of a replayed instance (lengths, probability vectors, finite numbers).
func validated(_ ci: ClaimInstance, path: String) throws -> ClaimInstance {
    if let f = ci.instance {
        do { _ = try Instance(file: f) } catch { throw ValidationError("--replay \(path): \(error)") }
    }
    return ci
}
