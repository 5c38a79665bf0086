import ArgumentParser
import Flows
import Foundation
import Testing
@testable import sftrl
import TestSupport

@Suite("sftrl pareto")
struct ParetoCommandTests {
    /// A path the integrator gives up on is described with pareto's own options (the integrator's
    /// advice names flow's --max-steps and --stepper, which pareto does not have).
    @Test func failedPathNamesParetoOptions() {
        let e = FlowError.integration(phase: 0, label: "sft", start: 0, end: 1e20, error: .tooManySteps(t: 5, limit: 1_000_000))
        let m = ParetoCommand.describe(e)
        #expect(m.contains("--duration") && m.contains("--rtol"), "\(m)")
        #expect(!m.contains("--max-steps") && !m.contains("--stepper") && !m.contains("msbdf"), "\(m)")
    }

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
        var cmd = try ParetoCommand.parse(["--instance", dir.appendingPathComponent("instance.json").path, "--points", "9",
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
