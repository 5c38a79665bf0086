import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 24 through the built binary: integer bounds of every count option, every output-path
/// kind, signals during writing and concurrent writers. Each class was checked to fail with a
/// planted bug (see the commit messages).
@Suite("Hardening: bounds, output paths, signals, concurrent writers")
struct HardeningTests {
    static let instance = #"{"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 2.0, "data": [0.6, 0.3, 0.1], "reward": [0.2, 1.0, -0.5]}, {"weight": 1.0, "data": [0.1, 0.2, 0.3, 0.4], "reward": [1.0, -1.0, 0.5, 0.0]}]}"#

    @Test func everyCountOptionIsBoundedAtTheExtremes() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        let (fixtures, _) = try CLIFuzzTests.fixtures()
        defer { removeTemporaryDirectory(fixtures) }
        let cases = HardeningFuzzCases.all()
        #expect(cases.count >= 200, "only \(cases.count) cases")
        let failures = Collector()
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            while let i = next.take(below: cases.count) {
                if let why = CLIFuzzTests.judge(cases[i], fixtures: fixtures, timeout: 15) { failures.add(cases[i], why) }
            }
        }
        print("integer bounds: \(cases.count) invocations, \(failures.items.count) wrong")
        for (c, why) in failures.items.sorted(by: { $0.0.description < $1.0.description }) { Issue.record("\(c): \(why)") }
    }

    /// Valid instances at the numeric extremes (1e±308, subnormals) through flow, update and
    /// spectrum: an answer (exit 0) or a message (exit 1 or 2), never a crash, a hang or a bare nan.
    @Test func numericExtremesOfValidInstances() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        let prompts = [
            #"{"weight": 1e308, "data": [0.5, 0.5], "reward": [1, 0]}, {"weight": 1e308, "data": [0.25, 0.75], "reward": [0, 1]}"#,
            #"{"weight": 5e-324, "data": [0.5, 0.5], "reward": [1, 0]}"#,
            #"{"weight": 1, "data": [5e-324, 1], "reward": [1, 0]}"#,
            #"{"weight": 1, "data": [0.5, 0.5], "reward": [1e-320, 0]}"#,
            #"{"weight": 1, "data": [0.5, 0.5], "reward": [1e308, -1e308]}"#,
            #"{"weight": 1, "data": [0.5, 0.5], "reward": [1e300, 0]}"#,
        ]
        try withTemporaryDirectory("hardening-extremes") { dir in
            var k = 0
            for beta in ["0", "5e-324", "1e308"] {
                for p in prompts {
                    k += 1
                    let file = "x\(k).json"
                    try writeText(#"{"beta": \#(beta), "policy": {"kind": "tabular"}, "prompts": [\#(p)]}"#, to: dir.appendingPathComponent(file))
                    for args in [["update", "--instance", file, "--method", "grpo", "--json", "-"], ["spectrum", "--instance", file, "--json"],
                                 ["flow", "--instance", file, "--schedule", "sft:1,rl:1", "--out", "f\(k)", "--quiet", "--max-steps", "20000"]] {
                        let r = try SFTRLBinary.run(args, in: dir, timeout: 20)
                        let bare = r.stdout.range(of: #"[:\[,] *-?(nan|inf)\b"#, options: .regularExpression) != nil
                        #expect(r.signal == nil && !r.timedOut && [0, 1, 2].contains(r.status), "\(args) β=\(beta) \(p): \(r)")
                        #expect(r.status == 0 || !r.stderr.isEmpty, "\(args): failed without a message")
                        #expect(!bare, "\(args) β=\(beta) \(p): a bare non-finite number in the output")
                    }
                }
            }
        }
    }

    /// NaN, +∞ or −∞ in any tensor of a checkpoint (every tensor of the tiny model, F32 and BF16
    /// files) is refused when the model loads: exit 2 naming the tensor, no logits printed.
    @Test func nonFiniteWeightInEveryTensorIsNamed() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        try withTemporaryDirectory("hardening-nan") { dir in
            for dtype in ["F32", "BF16"] {
                let made = try SFTRLBinary.run(["lm", "init", "--out", "m-\(dtype)", "--dtype", dtype], in: dir, timeout: 60)
                #expect(made.status == 0, "\(made)")
                let file = dir.appendingPathComponent("m-\(dtype)/model.safetensors")
                let original = try Data(contentsOf: file)
                let n = Int(original.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
                let header = try JSONSerialization.jsonObject(with: original.subdata(in: 8..<(8 + n))) as! [String: Any]
                let names = header.keys.filter { $0 != "__metadata__" }.sorted()
                #expect(names.count >= 10)
                for (k, name) in names.enumerated() {
                    let entry = header[name] as! [String: Any]
                    let end = (entry["data_offsets"] as! [Int])[1]
                    var bytes = original
                    // The last element of the tensor: NaN, +∞ or −∞ in turn, in the file's dtype.
                    let pattern: [UInt8] = dtype == "F32" ? [[0x00, 0x00, 0xC0, 0x7F], [0x00, 0x00, 0x80, 0x7F], [0x00, 0x00, 0x80, 0xFF]][k % 3]
                                                          : [[0xC0, 0x7F], [0x80, 0x7F], [0x80, 0xFF]][k % 3]
                    let at = 8 + n + end - pattern.count
                    bytes.replaceSubrange(at..<(at + pattern.count), with: pattern)
                    try bytes.write(to: file)
                    let r = try SFTRLBinary.run(["lm", "logits", "--model", "m-\(dtype)", "--tokens", "1,2"], in: dir, timeout: 30)
                    #expect(r.status == 2 && r.stderr.contains(name) && r.stdout.isEmpty, "\(dtype) \(name): \(r)")
                }
                try original.write(to: file)
            }
        }
    }

    /// `--json` of every kind: `-` is standard output, a symlink's target is written and the link
    /// stays, a FIFO's reader gets the bytes, /proc and a 256-byte name are refused before the work.
    @Test func outputPathKinds() throws {
        guard SFTRLBinary.url != nil else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        try withTemporaryDirectory("hardening-paths") { dir in
            let base = ["check", "--claim", "eq5", "--instances", "1", "--quiet"]
            let dash = try SFTRLBinary.run(base + ["--json", "-"], in: dir, timeout: 60)
            #expect(dash.status == 0, "\(dash)")
            #expect(dash.stdout.contains("\"claims\""), "--json - printed no report on stdout")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("-").path), "--json - wrote a file named -")

            try writeText("old", to: dir.appendingPathComponent("real.json"))
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("link.json").path, withDestinationPath: "real.json")
            let link = try SFTRLBinary.run(base + ["--json", "link.json"], in: dir, timeout: 60)
            #expect(link.status == 0, "\(link)")
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent("link.json").path)) == "real.json", "the symlink was replaced")
            #expect(try String(contentsOf: dir.appendingPathComponent("real.json"), encoding: .utf8).contains("\"claims\""))

            let fifo = dir.appendingPathComponent("pipe")
            #expect(mkfifo(fifo.path, 0o644) == 0)
            let box = ReadBox()
            let reader = Thread { box.text = String(decoding: FileHandle(forReadingAtPath: fifo.path)?.readDataToEndOfFile() ?? Data(), as: UTF8.self); box.done.signal() }
            reader.start()
            let piped = try SFTRLBinary.run(base + ["--json", "pipe"], in: dir, timeout: 60)
            #expect(piped.status == 0, "\(piped)")
            #expect(box.done.wait(timeout: .now() + 20) == .success)
            #expect(box.text.contains("\"claims\""), "the FIFO's reader got nothing")

            for (path, word) in [("/proc/sftrl-hardening.json", "proc"), ("/sys/sftrl-hardening.json", "sysfs"),
                                 (String(repeating: "n", count: 256), "255")] {
                let r = try SFTRLBinary.run(["check", "--claim", "eq5", "--instances", "100000", "--json", path], in: dir, timeout: 10)
                #expect(r.status == 2 && r.stderr.contains("--json") && r.stderr.contains(word), "\(path): \(r)")
            }
            let longest = String(repeating: "n", count: 250) + ".json"
            let ok = try SFTRLBinary.run(base + ["--json", longest], in: dir, timeout: 60)
            #expect(ok.status == 0 && FileManager.default.fileExists(atPath: dir.appendingPathComponent(longest).path), "\(ok)")
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
            #expect(left.isEmpty, "temporaries left: \(left)")
        }
    }

    /// The three files of a flow folder: which run wrote each (by `--samples`), nil when missing.
    static func runOf(_ out: URL) -> (trace: Int?, manifest: Int?, svg: Bool) {
        let trace = try? String(contentsOf: out.appendingPathComponent("trace.csv"), encoding: .utf8)
        let manifest = try? String(contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8)
        let svg = FileManager.default.fileExists(atPath: out.appendingPathComponent("flow.svg").path)
        let samples = manifest.flatMap { m -> Int? in
            guard let r = m.range(of: #""samples" *: *([0-9]+)"#, options: .regularExpression) else { return nil }
            return Int(m[r].filter(\.isNumber))
        }
        return (trace.map { $0.split(separator: "\n").count - 1 }, samples, svg)
    }

    /// Kills `sftrl flow` with SIGTERM at spread-out moments while it replaces an older output:
    /// the folder holds the old run's three files or the new run's, never a mix, and no temporary.
    @Test func signalsDuringWritingLeaveOldOrNewOutput() throws {
        guard let exe = SFTRLBinary.url else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        try withTemporaryDirectory("hardening-signals") { dir in
            try writeText(Self.instance, to: dir.appendingPathComponent("inst.json"))
            func flow(_ samples: Int) -> [String] {
                ["flow", "--instance", "inst.json", "--schedule", "sft:2,rl:2", "--samples", "\(samples)", "--out", "out", "--quiet"]
            }
            let old = try SFTRLBinary.run(flow(11), in: dir, timeout: 60)
            #expect(old.status == 0, "\(old)")
            let out = dir.appendingPathComponent("out")
            let oldRows = Self.runOf(out).trace
            let probe = try SFTRLBinary.run(flow(4001), in: dir, timeout: 120)
            #expect(probe.status == 0, "\(probe)")
            let newRows = Self.runOf(out).trace
            _ = try SFTRLBinary.run(flow(11), in: dir, timeout: 60)
            let span = max(0.05, probe.seconds)
            var outcomes: [String: Int] = [:]
            var killedByTerm = 0
            for k in 0..<16 {
                // Absolute paths: the child is spawned with default signal actions (the test
                // runner may ignore or block SIGTERM, and a child inherits that).
                let args = flow(4001).map { $0 == "inst.json" || $0 == "out" ? dir.appendingPathComponent($0).path : $0 }
                let pid = try Self.spawnWithDefaultSignals(exe.path, args, environment: ["SFTRL_TEST_RENAME_PAUSE_MS": "150"])
                usleep(useconds_t((span + 0.3) * 1.1 * Double(k) / 15 * 1_000_000))
                kill(pid, SIGTERM)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                if status & 0x7f == SIGTERM { killedByTerm += 1 }
                let r = Self.runOf(out)
                let isOld = r.trace == oldRows && r.manifest == 11 && r.svg
                let isNew = r.trace == newRows && r.manifest == 4001 && r.svg
                #expect(isOld || isNew, "kill \(k): a mix: \(r)")
                outcomes[isNew ? "new" : "old", default: 0] += 1
                let temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasPrefix(".") }
                #expect(temporaries.isEmpty, "kill \(k): temporaries left \(temporaries)")
                if isNew { _ = try SFTRLBinary.run(flow(11), in: dir, timeout: 60) }
            }
            print("signals during writing: \(outcomes), \(killedByTerm) ended by SIGTERM")
            // How many of the 16 kills land while the run is alive depends on the machine's load (2–3 of 16
            // were seen); none would mean the test checked nothing.
            #expect(killedByTerm >= 1, "SIGTERM never reached the runs: the test checks nothing")
        }
    }

    /// Spawns `exe args…` with SIGINT/SIGTERM/SIGHUP at their default actions and none blocked,
    /// stdout and stderr to /dev/null; returns its process id.
    static func spawnWithDefaultSignals(_ exe: String, _ args: [String], environment: [String: String] = [:]) throws -> pid_t {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults); sigemptyset(&empty)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([exe] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in envp { free(e) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, exe, &actions, &attr, argv, envp)
        guard rc == 0 else { throw SpawnFailure(code: rc) }
        return pid
    }

    struct SpawnFailure: Error { var code: Int32 }

    /// Two runs writing one `--out` at once (same work, different schedules, a pause between their
    /// renames): each succeeds or says another run is writing, and the folder ends whole: one
    /// run's trace, figure and manifest, never a mix.
    @Test func concurrentWritersNeverMix() throws {
        guard let exe = SFTRLBinary.url else { Issue.record("the sftrl executable was not found; build it or set SFTRL_BIN"); return }
        try withTemporaryDirectory("hardening-concurrent") { dir in
            try writeText(Self.instance, to: dir.appendingPathComponent("inst.json"))
            let schedules = ["sft:1,rl:1", "rl:1,sft:1"]
            func args(_ k: Int, _ out: String) -> [String] {
                ["flow", "--instance", "inst.json", "--schedule", schedules[k], "--samples", "1001", "--out", out, "--quiet"]
            }
            func files(_ d: URL) -> [Data?] { ["trace.csv", "flow.svg"].map { try? Data(contentsOf: d.appendingPathComponent($0)) } }
            var refs: [[Data?]] = []
            for k in 0..<2 {
                let r = try SFTRLBinary.run(args(k, "ref-\(k)"), in: dir, timeout: 60)
                #expect(r.status == 0, "\(r)")
                refs.append(files(dir.appendingPathComponent("ref-\(k)")))
            }
            var refused = 0
            for round in 0..<4 {
                let errs = (0..<2).map { dir.appendingPathComponent("err-\(round)-\($0).txt") }
                let procs = try (0..<2).map { k -> Process in
                    let p = Process()
                    p.executableURL = exe
                    p.arguments = args(k, "out")
                    p.currentDirectoryURL = dir
                    // Pauses of different lengths between the renames: unlocked writers would interleave.
                    p.environment = ProcessInfo.processInfo.environment.merging(["SFTRL_TEST_RENAME_PAUSE_MS": k == 0 ? "150" : "40"]) { $1 }
                    FileManager.default.createFile(atPath: errs[k].path, contents: nil)
                    p.standardError = try FileHandle(forWritingTo: errs[k])
                    p.standardOutput = FileHandle.nullDevice
                    try p.run()
                    return p
                }
                for p in procs { p.waitUntilExit() }
                for (k, p) in procs.enumerated() {
                    let err = (try? String(contentsOf: errs[k], encoding: .utf8)) ?? ""
                    if p.terminationStatus != 0 { refused += 1 }
                    #expect(p.terminationStatus == 0 || err.contains("another run is writing"), "round \(round) run \(k): exit \(p.terminationStatus) \(err)")
                }
                #expect(procs.contains { $0.terminationStatus == 0 })
                let out = dir.appendingPathComponent("out")
                let got = files(out)
                let manifest = (try? String(contentsOf: out.appendingPathComponent("manifest.json"), encoding: .utf8)) ?? ""
                let whole = (0..<2).contains { k in got == refs[k] && manifest.contains("\"\(schedules[k])\"") }
                #expect(whole, "round \(round): the folder mixes the two runs' files")
                let temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { $0.hasPrefix(".") }
                #expect(temporaries.isEmpty, "round \(round): \(temporaries) left")
            }
            print("concurrent writers: \(refused) of 8 runs refused as busy")
        }
    }
}

final class ReadBox: @unchecked Sendable {
    var text = ""
    let done = DispatchSemaphore(value: 0)
}
