import ArgumentParser
import Foundation
import Testing
@testable import sftrl
import TestSupport

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
        var cmd = try type.parse(args)
        do { try cmd.run(); return 0 } catch let e as ExitCode { return e.rawValue } catch is ValidationError { return 2 }
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
