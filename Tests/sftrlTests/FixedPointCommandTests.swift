import Foundation
import Testing
import TestSupport

/// `sftrl fixedpoint`, run as the built binary: the JSON contract and bad input.
@Suite("sftrl fixedpoint")
struct FixedPointCommandTests {
    /// The exit status of `sftrl fixedpoint ARGS…` (a crash or a time-out is a failed expectation).
    static func exitCode(_ args: [String]) -> Int32 {
        guard let r = try? SFTRLBinary.run(["fixedpoint"] + args, in: FileManager.default.temporaryDirectory, timeout: 120) else {
            Issue.record("sftrl fixedpoint did not run"); return -1
        }
        #expect(r.signal == nil && !r.timedOut, "\(r)")
        return r.status
    }

    @Test func writesTheJSONContract() throws {
        let dir = try SampledCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inst = dir.appendingPathComponent("instance.json").path
        let json = dir.appendingPathComponent("fp.json").path
        #expect(Self.exitCode(["--instance", inst, "--method", "sft-seqnorm", "--json", json]) == 0)
        let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        for key in ["policy", "residual", "converged", "sft_loss", "reward", "reward_reg", "kl_data_policy", "boundary"] {
            #expect(o[key] != nil, "missing \(key)")
        }
        let p = (o["policy"] as! [[Double]])[0]
        #expect(p.count == 7 && abs(p.reduce(0, +) - 1) < 1e-12)
        #expect(o["converged"] as! Bool)
    }

    /// LUFFY runs and states its settings (G = 3 keeps the debug build's flow short).
    @Test func luffyRunsAndStatesItsSettings() throws {
        let dir = try SampledCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("fp.json").path
        #expect(Self.exitCode(["--instance", dir.appendingPathComponent("instance.json").path, "--method", "luffy", "--group-size", "3",
                               "--shaping-gamma", "0.2", "--json", json]) == 0)
        let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let s = o["settings"] as! [String: String]
        #expect(s["off-policy"] == "1" && s["shaping-gamma"] == "0.2" && s["group-size"] == "3" && s["scaling"] == "group")
        #expect(abs((o["policy"] as! [[Double]])[0].reduce(0, +) - 1) < 1e-9)
    }

    @Test(arguments: [
        ["--method", "ppo"],                                        // unknown method
        ["--method", "sft", "--group-size", "4"],                   // an option sft does not read
        ["--method", "dft", "--kl-coef", "0.1"],
        ["--method", "rloo", "--scaling", "none"],
        ["--method", "grpo", "--scaling", "stdev"],
        ["--method", "chord", "--mix", "1.5"],
        ["--method", "grpo", "--group-size", "60"],                 // beyond the enumeration limit
        ["--method", "luffy", "--off-policy", "9"],                 // N > G = 8
        ["--method", "luffy", "--scaling", "batch"],                // luffy normalises per prompt
        ["--method", "luffy", "--shaping-gamma", "0"],
        ["--method", "grpo", "--off-policy", "1"],                  // an option grpo does not read
        ["--method", "luffy", "--group-size", "40"],                // beyond the enumeration limit
    ])
    func badInputExits2AndWritesNothing(extra: [String]) throws {
        let dir = try SampledCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("fp.json")
        #expect(Self.exitCode(["--instance", dir.appendingPathComponent("instance.json").path,
                                                                          "--json", out.path] + extra) == 2, "\(extra)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// `sftrl update` reports GRPO's KL gradient and the divergence it descends: k3 in the loss the
    /// forward KL on a tabular instance, k2 the reverse one, and on sequences neither (per-token).
    @Test func updateReportsTheKLGradient() throws {
        let dir = try SampledCommandTests.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tab = dir.appendingPathComponent("tab.json")
        try """
            {"beta": 0.3, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.6, 0.3, 0.1], "reward": [0.2, 1, -0.5],
             "reference": [0.5, 0.25, 0.25], "start": [0.2, 0.2, 0.6]}]}
            """.write(to: tab, atomically: true, encoding: .utf8)
        func descends(_ inst: String, _ extra: [String]) throws -> String? {
            let json = dir.appendingPathComponent("u.json").path
            let r = try SFTRLBinary.run(["update", "--instance", inst, "--method", "grpo", "--group-size", "2", "--json", json] + extra, in: dir)
            #expect(r.status == 0, "\(r)")
            let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
            return (o["kl_gradient"] as? [String: Any])?["descends"] as? String
        }
        #expect(try descends(tab.path, ["--kl-estimator", "k3"]) == "forward KL(π_ref‖p)")
        #expect(try descends(tab.path, ["--kl-estimator", "k2"]) == "reverse KL(p‖π_ref)")
        #expect(try descends(tab.path, ["--kl-estimator", "k1", "--kl-placement", "reward"]) == "reverse KL(p‖π_ref)")
        #expect(try descends(dir.appendingPathComponent("instance.json").path, ["--kl-estimator", "k2"]) == "neither")
        #expect(try descends(tab.path, ["--kl-coef", "0"]) == nil)
    }
}
