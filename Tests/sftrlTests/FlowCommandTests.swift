import ArgumentParser
import Foundation
import Reports
import Testing
@testable import sftrl
import TestSupport

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
    // A count out of range is refused by validate() at parse time (Options/Bounds): exit 2.
    do { _ = try FlowCommand.parse(args) } catch { if "\(error)".contains("is out of range") { return 2 }; throw error }
    var cmd = try FlowCommand.parse(args)
    do {
        try cmd.run()
        return 0
    } catch let e as ExitCode {
        return e.rawValue
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
        #expect(throws: FlowCommand.Failure.self) { try cmd.plan() }
        do { _ = try cmd.plan() } catch { #expect("\(error)".contains("prompts[0].data: is not a probability vector")) }
        let stepper = try FlowCommand.parse(["--instance", bad.path, "--schedule", "sft:1", "--stepper", "x", "--out", out.path])
        do { _ = try stepper.plan() } catch {
            #expect("\(error)" == "unknown --stepper 'x': use one of rk2, rk4, rkf45, rkck, rk8pd, rk1imp, rk2imp, rk4imp, bsimp, msadams, msbdf")
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
        #expect((extra["integrator"] as! [String: Any])["stepper"] as? String == "rk8pd")
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
            #expect(SpectrumCommand.table(o).contains("μ_S = λ_min(∇²L_SFT)"))
        }
        let rl = try SpectrumCommand.parse(["--instance", inst, "--at", "rl-optimum"]).compute()
        #expect(rl.gradRLNorm < 1e-12)
        let zero = dir.appendingPathComponent("beta0.json")
        try #"{"beta": 0, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.7, 0.3], "reward": [1, 0]}]}"#
            .write(to: zero, atomically: true, encoding: .utf8)
        do {
            _ = try SpectrumCommand.parse(["--instance", zero.path, "--at", "rl-optimum"]).compute()
            Issue.record("no error")
        } catch let f as FlowCommand.Failure {
            #expect(f.code == 2 && f.description.contains("not attained"))
        }
        #expect(throws: FlowCommand.Failure.self) { try SpectrumCommand.parse(["--instance", inst, "--at", "middle"]).compute() }
    }
}
