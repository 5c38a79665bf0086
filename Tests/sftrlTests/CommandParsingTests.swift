import Foundation
import ArgumentParser
import Claims
import Flows
import Linalg
import Reports
import TestSupport
import Testing
@testable import sftrl

/// Parsing and validation of the commands (flow, spectrum, update, pareto, check, search, explain):
/// options checked before any work, size limits, defaults. The tests that need the executable.

// MARK: - FlowCommandTests

/// A fresh temporary directory holding the issue's 3-response instance as `instance.json`.
private func scratch() throws -> URL {
    let dir = try makeTemporaryDirectory("flowcmd")
    let json = """
        {"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1.0, "data": [0.7, 0.2, 0.1],
         "reward": [1.0, 0.0, -1.0], "reference": [0.4, 0.3, 0.3], "start": [0.7, 0.2, 0.1]}]}
        """
    try json.write(to: dir.appendingPathComponent("instance.json"), atomically: true, encoding: .utf8)
    return dir
}

/// Runs `sftrl flow ARGS` in process; returns the exit code (0 when run() returned).
private func flowExitCode(_ args: [String]) throws -> Int32 {
    do {
        var cmd = try FlowCommand.parse(args)
        try cmd.run()
        return 0
    } catch {
        return SFTRL.exitStatus(for: error)
    }
}

@Suite("sftrl flow and spectrum commands")
struct FlowCommandTests {
    @Test("bad input exits with code 2 and writes nothing", arguments: [
        ["--schedule", "sft:2,rl:x"],
        ["--schedule", "sft:1", "--stepper", "rk9"],
        ["--schedule", "sft:1", "--rtol=-1"],
        ["--schedule", "sft:1", "--samples", "1"],
        ["--schedule", "sft:1", "--event", "loss=1"],
        ["--schedule", "sft:1", "--method", "gd"],
        ["--schedule", "sft:1", "--method", "gd", "--eta", "0.3"],
        ["--schedule", "sft:1", "--eta", "0.1"],
        ["--schedule", "sft:1", "--method", "newton"],
        ["--schedule", "sft:1", "--stepper", "rk8pd", "--norm", "rms"],
        ["--schedule", "sft:1", "--norm", "l2"],
        ["--schedule", "sft:1", "--output-steps", "exact"],
        ["--schedule", "sft:1", "--method", "gd", "--eta", "0.5", "--output-steps", "dense"],
        ["--schedule", "sft:1", "--method", "gd", "--eta", "0.5", "--norm", "max"],
    ])
    func badInput(extra: [String]) throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let code = try flowExitCode(["--instance", dir.appendingPathComponent("instance.json").path, "--out", out.path] + extra)
        #expect(code == 2, "\(extra)")
        #expect(!FileManager.default.fileExists(atPath: out.path), "\(extra) created \(out.path)")
    }

    @Test("an invalid or missing instance exits with code 2 and writes nothing; the message names the field")
    func badInstance() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json")
        try #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.7, 0.2], "reward": [1, 0]}]}"#
            .write(to: bad, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        for path in [bad.path, dir.appendingPathComponent("missing.json").path] {
            #expect(try flowExitCode(["--instance", path, "--schedule", "sft:1", "--out", out.path]) == 2)
            #expect(!FileManager.default.fileExists(atPath: out.path))
        }
        let cmd = try FlowCommand.parse(["--instance", bad.path, "--schedule", "sft:1", "--out", out.path])
        #expect(throws: UserInputError.self) { try cmd.plan() }
        do { _ = try cmd.plan() } catch { #expect("\(error)".contains("prompts[0].data: is not a probability vector")) }
        // An unknown stepper is refused by the parser (exit 2), naming the option and every stepper.
        do {
            _ = try FlowCommand.parse(["--instance", bad.path, "--schedule", "sft:1", "--stepper", "x", "--out", out.path])
            Issue.record("--stepper x accepted")
        } catch {
            let message = FlowCommand.message(for: error)
            #expect(message.contains("--stepper") && message.contains("rk8pd") && message.contains("msbdf"), "\(message)")
            #expect(SFTRL.exitStatus(for: error) == 2)
        }
    }

    @Test("a failed integration exits with code 1 and writes nothing")
    func failedRun() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let code = try flowExitCode(["--instance", dir.appendingPathComponent("instance.json").path, "--schedule", "rl:100",
                                     "--max-steps", "3", "--out", out.path, "--quiet"])
        #expect(code == 1)
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("a flow writes trace.csv, flow.svg and manifest.json with the run's numbers")
    func writesFiles() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("nested/out")
        let inst = dir.appendingPathComponent("instance.json").path
        let code = try flowExitCode(["--instance", inst, "--schedule", "sft:2,rl:5,sft:2", "--samples", "10",
                                     "--event", "reward=0.7", "--event", "sft_loss=5", "--out", out.path, "--quiet"])
        #expect(code == 0)
        let csv = try String(contentsOf: out.appendingPathComponent("trace.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first == "t,phase,sft_loss,reward,reward_reg,kl_data_policy,kl_policy_ref,entropy,grad_sft_norm,grad_rl_norm,cos_sft_rl,tv_data_policy,phase_index")
        #expect(lines.count == 11)
        #expect(lines[4].hasPrefix("3.0,rl,"))
        let svg = try String(contentsOf: out.appendingPathComponent("flow.svg"), encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("sft | rl") && svg.contains("rl | sft"))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("manifest.json"))) as! [String: Any]
        let extra = manifest["extra"] as! [String: Any]
        let instance = extra["instance"] as! [String: Any]
        let file = try FlowCLI.loadInstance(inst).file
        #expect(instance["sha256_canonical_json"] as? String == sha256Hex(file.canonicalJSON()))
        let stats = extra["stats"] as! [String: Any]
        #expect((stats["accepted"] as! Int) > 0 && (stats["rhs_evaluations"] as! Int) > 0)
        let events = extra["events"] as! [[String: Any]]
        #expect(events.count == 2)
        #expect(events[0]["reached"] as? Bool == true && events[0]["phase"] as? String == "rl")
        #expect(events[1]["reached"] as? Bool == false)
        #expect((extra["integrator"] as! [String: Any])["stepper"] as? String == "dop853")
        #expect((extra["integrator"] as! [String: Any])["norm"] as? String == "rms")
        #expect(manifest["version"] as? String == sftrlVersion)
        #expect(((manifest["timing"] as! [String: Any])["wall_seconds"] as! Double) >= 0)
        #expect(((extra["final"] as! [String: Any])["theta"] as! [Double]).count == 3)
    }

    @Test("gradient steps write a step column")
    func gradientSteps() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        #expect(try flowExitCode(["--instance", dir.appendingPathComponent("instance.json").path, "--schedule", "sft:1,rl:1",
                                  "--method", "gd", "--eta", "0.25", "--samples", "3", "--out", out.path, "--quiet"]) == 0)
        let csv = try String(contentsOf: out.appendingPathComponent("trace.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n")
        #expect(lines.first!.hasSuffix(",phase_index,step"))
        #expect(lines.map { $0.split(separator: ",").last! }.dropFirst() == ["0", "4", "8"])
    }

    @Test("spectrum at the three points; an unattained optimum is an input error")
    func spectrum() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inst = dir.appendingPathComponent("instance.json").path
        for at in ["start", "sft-optimum", "rl-optimum"] {
            let o = try SpectrumCommand.parse(["--instance", inst, "--at", at]).compute()
            #expect(o.subspaceDimension == 2 && o.eigenvalues.sftHessian.count == 2)
            #expect(o.constants.muSFT > 0)
            #expect(o.table().contains("μ_S = λ_min(∇²L_SFT)"))
        }
        let rl = try SpectrumCommand.parse(["--instance", inst, "--at", "rl-optimum"]).compute()
        #expect(rl.gradRLNorm < 1e-12)
        let zero = dir.appendingPathComponent("beta0.json")
        try #"{"beta": 0, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.7, 0.3], "reward": [1, 0]}]}"#
            .write(to: zero, atomically: true, encoding: .utf8)
        do {
            _ = try SpectrumCommand.parse(["--instance", zero.path, "--at", "rl-optimum"]).compute()
            Issue.record("no error")
        } catch let f as UserInputError {
            #expect(SFTRL.exitStatus(for: f) == 2 && f.description.contains("not attained"))
        }
        #expect(throws: (any Error).self) { _ = try SpectrumCommand.parse(["--instance", inst, "--at", "middle"]) }
    }
}

// MARK: - SampledCommandTests

/// `sftrl flow` with sampled phases and `sftrl update`, run in process.
@Suite("sampled phases of sftrl flow and sftrl update")
struct SampledCommandTests {
    static func scratch() throws -> URL {
        let dir = try makeTemporaryDirectory("sampled")
        let json = """
            {"beta": 0.3, "policy": {"kind": "autoregressive", "vocab": 2, "max_length": 2},
             "prompts": [{"weight": 1, "data": [0.05, 0.2, 0.1, 0.15, 0.1, 0.3, 0.1], "reward": [0, 1, -0.5, 0.5, 1, -1, 0.25],
                          "start": [0.2, 0.1, 0.2, 0.1, 0.15, 0.05, 0.2]}]}
            """
        try json.write(to: dir.appendingPathComponent("instance.json"), atomically: true, encoding: .utf8)
        return dir
    }

    static func exitCode<C: ParsableCommand>(_ type: C.Type, _ args: [String]) throws -> Int32 {
        do { var cmd = try type.parse(args); try cmd.run(); return 0 } catch { return SFTRL.exitStatus(for: error) }
    }

    @Test func sampledFlowWritesBandsAndIsDeterministic() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inst = dir.appendingPathComponent("instance.json").path
        var outs: [String] = []
        for k in 0..<2 {
            let out = dir.appendingPathComponent("out\(k)").path
            #expect(try Self.exitCode(FlowCommand.self, ["--instance", inst, "--schedule", "sft-sgd:5,grpo:6,chord:0.3:4", "--eta", "0.1",
                                                         "--seeds", "4", "--seed", "9", "--aggregation", "dapo", "--out", out, "--quiet"]) == 0)
            outs.append(try String(contentsOfFile: out + "/trace.csv", encoding: .utf8))
        }
        #expect(outs[0] == outs[1])
        let header = outs[0].split(separator: "\n")[0]
        #expect(header.hasPrefix("step,phase,sft_loss_mean,sft_loss_q10,sft_loss_q90,exact_sft_loss,reward_mean"))
        #expect(outs[0].split(separator: "\n").count == 1 + 16)
    }

    @Test(arguments: [
        ["--schedule", "grpo:5"],                                   // no --eta
        ["--schedule", "grpo:5", "--eta", "0.1", "--scaling", "stdev"],
        ["--schedule", "grpo:0", "--eta", "0.1"],
        ["--schedule", "grpo:5", "--eta", "0.1", "--group-size", "1"],
        ["--schedule", "grpo:5", "--eta", "0.1", "--method", "gd"],
        ["--method", "grpo", "--schedule", "sft:2", "--eta", "0.1"],
    ])
    func badSampledInputExits2AndWritesNothing(extra: [String]) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        #expect(try Self.exitCode(FlowCommand.self, ["--instance", dir.appendingPathComponent("instance.json").path, "--out", out.path] + extra) == 2, "\(extra)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func updateWritesJSONAndRefusesBeyondTheLimit() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inst = dir.appendingPathComponent("instance.json").path
        let json = dir.appendingPathComponent("u.json").path
        #expect(try Self.exitCode(UpdateCommand.self, ["--instance", inst, "--method", "reinforce", "--group-size", "2", "--kl-coef", "0", "--json", json]) == 0)
        let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        #expect((o["bias_norm"] as! Double) < 1e-12)
        #expect((o["expected_update"] as! [Double]).count == 9)
        let big = dir.appendingPathComponent("big.json").path
        #expect(try Self.exitCode(UpdateCommand.self, ["--instance", inst, "--method", "grpo", "--group-size", "60", "--json", big]) == 2)
        #expect(!FileManager.default.fileExists(atPath: big))
        #expect(try Self.exitCode(UpdateCommand.self, ["--instance", inst, "--method", "grpo", "--group-size", "60", "--monte-carlo", "50", "--json", big]) == 0)
    }
}

// MARK: - ParetoCommandTests

@Suite("sftrl pareto")
struct ParetoCommandTests {

    static func scratch() throws -> URL {
        let dir = try makeTemporaryDirectory("pareto")
        let json = """
            {"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [
             {"weight": 2.0, "data": [0.6, 0.3, 0.1], "reward": [0.2, 1.0, -0.5], "reference": [0.5, 0.25, 0.25], "start": [0.2, 0.2, 0.6]},
             {"weight": 1.0, "data": [0.1, 0.2, 0.3, 0.4], "reward": [1.0, -1.0, 0.5, 0.0], "start": [0.4, 0.3, 0.2, 0.1]}]}
            """
        try json.write(to: dir.appendingPathComponent("instance.json"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func writesFrontPathsSummaryFigureAndManifest() throws {
        let dir = try ParetoCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        let cmd = try ParetoCommand.parse(["--instance", dir.appendingPathComponent("instance.json").path, "--points", "9",
                                           "--samples", "11", "--schedule", "sft:1,rl:1,sft:1", "--quiet", "--out", out.path])
        try cmd.run()
        let front = try String(contentsOf: out.appendingPathComponent("front.csv"), encoding: .utf8).split(separator: "\n")
        #expect(front.first == "mu,sft_loss,reward,reward_reg")
        #expect(front.count == 1 + 9 + 2)   // 9 interior points and the two ends (β > 0)
        let paths = try String(contentsOf: out.appendingPathComponent("paths.csv"), encoding: .utf8)
        #expect(paths.hasPrefix("path,schedule,t,phase,sft_loss,reward,reward_reg,distance,reward_gap,sft_gap\n"))
        for name in ["sft-then-rl", "rl-then-sft", "alternating-4", "mix-0.25", "mix-0.5", "mix-0.75", "\"sft:1,rl:1,sft:1\""] {
            #expect(paths.contains("\n\(name),"), "\(name) missing")
        }
        for f in ["summary.csv", "pareto.svg", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path))
        }
    }

    @Test("bad input is refused before anything is written", arguments: [
        ["--points", "1"], ["--duration", "0"], ["--mix", "1.5"], ["--alternations", "0"], ["--schedule", "sft:x"], ["--samples", "1"],
    ])
    func badInput(extra: [String]) throws {
        let dir = try ParetoCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out")
        // Counts out of range are refused by validate() (Options/Bounds), the rest by run().
        if let cmd = try? ParetoCommand.parse(["--instance", dir.appendingPathComponent("instance.json").path, "--out", out.path] + extra) {
            #expect(throws: ValidationError.self) { try cmd.run() }
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}

// MARK: - SizeLimitTests

/// Requests too large for the machine are refused with their size and the limit, before any
/// allocation (issue 13), instead of ending in the allocator.
@Suite("size limits")
struct SizeLimitTests {
    @Test func spectrumOfAHugeInstanceIsRefusedUpFront() throws {
        let dir = try makeTemporaryDirectory("size")
        defer { removeTemporaryDirectory(dir) }
        // 200,000 tabular logits: the dense matrices would need about 2.4 TiB.
        let n = 200_000
        let data = Array(repeating: "\(1.0 / Double(n))", count: n).joined(separator: ",")
        let reward = (0..<n).map { "\($0 % 3)" }.joined(separator: ",")
        let json = #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [\#(data)], "reward": [\#(reward)]}]}"#
        let path = dir.appendingPathComponent("huge.json")
        try json.write(to: path, atomically: true, encoding: .utf8)
        do {
            _ = try SpectrumCommand.parse(["--instance", path.path]).compute()
            Issue.record("a 200,000-parameter spectrum was attempted")
        } catch let f as UserInputError {
            #expect(SFTRL.exitStatus(for: f) == 2)
            #expect(f.description.contains("200000 parameters") && f.description.contains("GiB"), "\(f.description)")
        }
    }
}

@Suite("more size limits")
struct MoreSizeLimitTests {
    /// Output samples that cannot fit in memory are refused before the flow runs (it aborted in the allocator).
    @Test func hugeSampleCountIsRefused() throws {
        let dir = try makeTemporaryDirectory("samples")
        defer { removeTemporaryDirectory(dir) }
        let inst = dir.appendingPathComponent("i.json")
        try #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.7, 0.3], "reward": [1, 0]}]}"#.write(to: inst, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        // Refused by validate() with the option's range (Options/Bounds) before anything runs.
        do {
            var cmd = try FlowCommand.parse(["--instance", inst.path, "--schedule", "sft:1", "--samples", "2000000000000", "--out", out.path])
            try cmd.run(); Issue.record("2e12 samples attempted")
        } catch {
            #expect(SFTRL.exitStatus(for: error) == 2)
            #expect(SFTRL.message(for: error).contains("--samples 2000000000000 is out of range"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Token positions beyond max_position_embeddings are refused (they were silently accepted).
    @Test func positionsBeyondTheModelAreRefused() throws {
        let tokens = (0..<1_025).map { String($0 % 100) }.joined(separator: ",")
        var cmd = try LMCommand.Logits.parse(["--preset", "tiny", "--tokens", tokens, "--last", "--threads", "1"])  // in process: OpenBLAS threads are process-wide
        #expect(throws: (any Error).self) { try cmd.run() }
        do { try cmd.run() } catch { #expect("\(error)".contains("max_position_embeddings"), "\(error)") }
    }
}

// MARK: - ThreadsDefaultTests

/// `check` and `search` default `--threads` to the CPUs in the affinity mask (`CPUs.available`),
/// not the machine's count; an explicit value wins. (The Slurm smoke test checks the same from
/// inside a one-CPU task: scripts/slurm/smoke.sh.)
/// `--drop` takes a hypothesis id (`beta-positive`) and, as an alias, its mathematical name.
@Suite struct DropIdTests {
    @Test func idAndNameBothDropTheHypothesis() throws {
        let byId = try CheckCommand.parse(["--claim", "thm3.1", "--drop", "beta-positive"])
        let byName = try CheckCommand.parse(["--claim", "thm3.1", "--drop", "β > 0"])
        #expect(byId.drop == ["β > 0"] && byName.drop == ["β > 0"])
        #expect(try SearchCommand.parse(["--claim", "thm3.1", "--drop", "beta-positive"]).drop == ["β > 0"])
        do {
            _ = try CheckCommand.parse(["--claim", "thm3.1", "--drop", "beta-negative"])
            Issue.record("--drop beta-negative accepted")
        } catch {
            let message = CheckCommand.message(for: error)
            #expect(message.contains("beta-positive") && !message.contains("β > 0"), "\(message)")
        }
    }

    /// `train` and `probe` take `--threads` like every other command; `--blas-threads` is an alias.
    @Test func threadsAndItsAlias() throws {
        #expect(try TrainCommand.parse(["--pipeline", "sft-rl", "--out", "x", "--threads", "3"]).blasThreads == 3)
        #expect(try TrainCommand.parse(["--pipeline", "sft-rl", "--out", "x", "--blas-threads", "2"]).blasThreads == 2)
        #expect(try TrainCommand.parse(["--pipeline", "sft-rl", "--out", "x"]).blasThreads == 1)
        #expect(try ProbeCommand.parse(["--model", "m", "--sft-data", "s", "--rl-data", "r", "--blas-threads", "2"]).blasThreads == 2)
    }
}

@Suite struct ThreadsDefaultTests {
    @Test func checkAndSearchDefaultToTheAffinityMask() throws {
        #expect(try CheckCommand.parse([]).control.threads == CPUs.available)
        #expect(try SearchCommand.parse(["--claim", "eq5"]).control.threads == CPUs.available)
        #expect(try CheckCommand.parse(["--threads", "3"]).control.threads == 3)
    }
}

// MARK: - ExplainCommand

@Suite("explain command")
struct ExplainCommandTests {
    /// Unknown ids are refused with the list of ids (exit status 2 through ValidationError).
    @Test func unknownIdIsAValidationError() throws {
        #expect(throws: (any Error).self) { _ = try ExplainCommand.parse(["no-such-claim"]) }
        do {
            _ = try ExplainCommand.parse(["no-such-claim"])
        } catch {
            let message = ExplainCommand.message(for: error)
            #expect(message.contains("unknown claim id"))
            #expect(message.contains("thm3.1"))
            #expect(ExplainCommand.exitCode(for: error) == .validationFailure)
        }
        #expect(throws: Never.self) { _ = try ExplainCommand.parse(["--list"]) }
    }
}
