import Foundation
import Linalg
import Testing
import TestSupport

/// The CLI fuzz suite (issue 13): hundreds of malformed invocations of the built `sftrl`, across
/// every command and subcommand, each run as a subprocess in its own working folder. Each must
/// exit with status 2 (never 0 or 1, never a signal, never the time limit), say on stderr which
/// option or field is at fault, leak no internal error text (Foundation domains, Swift type names,
/// `DecodingError` dumps), and write nothing: the working folder and the fixtures are unchanged.
@Suite("CLI fuzz: malformed invocations exit 2 with a message and no output")
struct CLIFuzzTests {
    /// Texts that mean an internal error reached the user.
    static let internalPatterns = ["error 1.)", "error 256", "error 4.)", "NSCocoaErrorDomain", "Foundation.", "Swift.",
                                   "Fatal error", "DecodingError", "CodingKeys", "operation could not be completed",
                                   "operation couldn’t be completed", "Optional(", "keyNotFound", "typeMismatch"]

    /// Builds the fixtures folder: a valid instance, the broken instances, a tiny model (written
    /// by `sftrl lm init`), broken configs beside its weights, a text model with a tokenizer,
    /// CoLA files, a shard report.
    static func fixtures() throws -> (dir: URL, cases: [CLIFuzzCase]) {
        let f = try makeTemporaryDirectory("clifuzz-fixtures")
        try writeText(#"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 2.0, "data": [0.6, 0.3, 0.1], "reward": [0.2, 1.0, -0.5], "reference": [0.5, 0.25, 0.25], "start": [0.2, 0.2, 0.6]}, {"weight": 1.0, "data": [0.1, 0.2, 0.3, 0.4], "reward": [1.0, -1.0, 0.5, 0.0]}]}"#,
                      to: f.appendingPathComponent("inst.json"))
        for b in CLIFuzzCases.brokenInstances + CLIFuzzCases.brokenReplays { try writeText(b.text, to: f.appendingPathComponent(b.name)) }
        try FileManager.default.createDirectory(at: f.appendingPathComponent("adir"), withIntermediateDirectories: true)
        let tiny = f.appendingPathComponent("tiny")
        let made = try SFTRLBinary.run(["lm", "init", "--out", tiny.path], in: f, timeout: 60)
        guard made.status == 0 else { throw FixtureFailure(message: "lm init: \(made)") }
        let validConfig = try String(contentsOf: tiny.appendingPathComponent("config.json"), encoding: .utf8)
        // The text model (tokenizer.json, generation config) from the transformer fixtures.
        let text = repositoryRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/qwen3-text")
        let model = f.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for name in ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: text.appendingPathComponent(name), to: model.appendingPathComponent(name))
        }
        try writeText("gj04\t1\t\tThe cat runs.\ngj04\t0\t*\tThe cat run.\n", to: f.appendingPathComponent("sft.tsv"))
        try writeText("gj04\t1\t\tThe dogs run.\ngj04\t0\t*\tThe dogs runs.\n", to: f.appendingPathComponent("rl.tsv"))
        for (name, text) in CLIFuzzCases.brokenDataTexts { try writeText(text, to: f.appendingPathComponent(name)) }
        for (k, t) in CLIFuzzCases.brokenTokenizers.enumerated() {
            let d = f.appendingPathComponent("tok-\(k)")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            for name in ["config.json", "model.safetensors"] {
                try FileManager.default.copyItem(at: text.appendingPathComponent(name), to: d.appendingPathComponent(name))
            }
            try writeText(t.text, to: d.appendingPathComponent("tokenizer.json"))
        }
        // A real shard report (check --json), for merge.
        let report = try SFTRLBinary.run(["check", "--claim", "eq5", "--instances", "1", "--quiet", "--json", f.appendingPathComponent("report.json").path], in: f, timeout: 60)
        guard report.status == 0 else { throw FixtureFailure(message: "check --json: \(report)") }

        let seed = UInt64(ProcessInfo.processInfo.environment["SFTRL_FUZZ_SEED"] ?? "") ?? 13
        let (cases, configs) = CLIFuzzCases.all(seed: seed, validConfig: validConfig)
        for (k, c) in configs.enumerated() {
            let d = f.appendingPathComponent("cfg-\(k)")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try writeText(c.text, to: d.appendingPathComponent("config.json"))
            try FileManager.default.copyItem(at: tiny.appendingPathComponent("model.safetensors"), to: d.appendingPathComponent("model.safetensors"))
        }
        return (f, cases)
    }

    struct FixtureFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Every path below `dir` with its size (a snapshot to compare before and after a run).
    static func snapshot(_ dir: URL) -> [String: Int] {
        var out: [String: Int] = [:]
        guard let walker = FileManager.default.enumerator(atPath: dir.path) else { return out }
        for case let item as String in walker {
            let attrs = try? FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(item).path)
            out[item] = (attrs?[.size] as? Int) ?? -1
        }
        return out
    }

    /// Runs one case in a fresh working folder holding `afile` (a file), `adir` (an empty folder)
    /// and `full` (a folder with a file); returns what is wrong with the result (nil when all is right).
    static func judge(_ c: CLIFuzzCase, fixtures: URL, timeout: Double) -> String? {
        do {
            let cwd = try makeTemporaryDirectory("clifuzz-case")
            defer { removeTemporaryDirectory(cwd) }
            try writeText("x\n", to: cwd.appendingPathComponent("afile"))
            try writeText("keep\n", to: cwd.appendingPathComponent("full/keep.txt"))
            try FileManager.default.createDirectory(at: cwd.appendingPathComponent("adir"), withIntermediateDirectories: true)
            let before = snapshot(cwd)
            let args = c.args.map { $0.replacingOccurrences(of: "@F", with: fixtures.path) }
            let r = try SFTRLBinary.run(args, in: cwd, timeout: timeout)
            var problems: [String] = []
            if r.timedOut { problems.append("ran past the \(Int(timeout)) s limit (accepted and started work?)") }
            if let s = r.signal { problems.append("crashed with signal \(s)") }
            if !r.timedOut, r.signal == nil, r.status != 2 { problems.append("exit \(r.status), expected 2") }
            let err = r.stderr
            if err.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { problems.append("nothing on stderr") }
            if !c.names.contains(where: { err.contains($0) }) { problems.append("stderr names none of \(c.names)") }
            if let p = internalPatterns.first(where: { err.contains($0) }) { problems.append("stderr shows internal text '\(p)'") }
            let after = snapshot(cwd)
            if after != before {
                let added = Set(after.keys).subtracting(before.keys).sorted()
                let removed = Set(before.keys).subtracting(after.keys).sorted()
                problems.append("the working folder changed (added \(added), removed \(removed))")
            }
            return problems.isEmpty ? nil : problems.joined(separator: "; ") + " — stderr: \(err.prefix(400))"
        } catch {
            return "could not run: \(error)"
        }
    }

    @Test func malformedInvocationsAreRefusedCleanly() throws {
        guard SFTRLBinary.url != nil else {
            Issue.record("the sftrl executable was not found beside the test bundle nor under .build/; build it or set SFTRL_BIN")
            return
        }
        let (fixtures, cases) = try Self.fixtures()
        defer { removeTemporaryDirectory(fixtures) }
        let fixturesBefore = Self.snapshot(fixtures)
        #expect(cases.count >= 400, "only \(cases.count) cases")
        let failures = Collector()
        let workers = max(2, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = next.take(below: cases.count) {
                if let why = Self.judge(cases[i], fixtures: fixtures, timeout: 15) {
                    failures.add(cases[i], why)
                }
            }
        }
        print("CLI fuzz: \(cases.count) invocations, \(failures.items.count) refused wrongly")
        for (c, why) in failures.items.sorted(by: { $0.0.description < $1.0.description }) {
            Issue.record("\(c): \(why)")
        }
        #expect(Self.snapshot(fixtures) == fixturesBefore, "a case changed the fixtures folder")
    }

    /// A seed out of range states the range (ArgumentParser alone says only "invalid").
    @Test func seedsStateTheirRange() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        try withTemporaryDirectory("clifuzz-seed") { dir in
            for args in [["check", "--seed", "-1"], ["train", "--pipeline", "sft-rl", "--out", "o", "--data-seed", "x"], ["lm", "init", "--out", "o", "--seed", "1.5"]] {
                let r = try SFTRLBinary.run(args, in: dir, timeout: 15)
                #expect(r.status == 2 && r.stderr.contains("a seed is a whole number from 0 to 18446744073709551615"), "\(args): \(r)")
            }
        }
    }

    /// The checks of `judge` can fail: a valid invocation (exit 0, output written) and an invocation
    /// whose message does not name the expected option are both reported.
    @Test func theJudgeCatchesAcceptedAndUnnamedCases() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found beside the test bundle nor under .build/; build it or set SFTRL_BIN"); return }
        let f = try makeTemporaryDirectory("clifuzz-judge")
        defer { removeTemporaryDirectory(f) }
        try writeText(#"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]}]}"#,
                      to: f.appendingPathComponent("inst.json"))
        let accepted = CLIFuzzCase(args: ["spectrum", "--instance", "@F/inst.json", "--json"], names: ["--instance"])
        #expect(Self.judge(accepted, fixtures: f, timeout: 15)?.contains("exit 0, expected 2") == true)
        let written = CLIFuzzCase(args: ["update", "--instance", "@F/inst.json", "--method", "sft-sgd", "--json", "o.json"], names: ["--json"])
        #expect(Self.judge(written, fixtures: f, timeout: 15)?.contains("working folder changed") == true)
        let unnamed = CLIFuzzCase(args: ["spectrum", "--instance", "@F/inst.json", "--at", "x"], names: ["--nonexistent-option"])
        #expect(Self.judge(unnamed, fixtures: f, timeout: 15)?.contains("names none of") == true)
    }
}

/// A shared index for the workers.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below n: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard value < n else { return nil }
        value += 1
        return value - 1
    }
}

/// The failures found by the workers.
final class Collector: @unchecked Sendable {
    private(set) var items: [(CLIFuzzCase, String)] = []
    private let lock = NSLock()
    func add(_ c: CLIFuzzCase, _ why: String) { lock.lock(); items.append((c, why)); lock.unlock() }
}
