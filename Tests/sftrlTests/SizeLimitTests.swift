import ArgumentParser
import Foundation
import Testing
@testable import sftrl
import TestSupport

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
        } catch let f as FlowCommand.Failure {
            #expect(f.code == 2)
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
        } catch let e as ExitCode { #expect(e.rawValue == 2) } catch { #expect("\(error)".contains("--samples 2000000000000 is out of range"), "\(error)") }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    /// Token positions beyond max_position_embeddings are refused (they were silently accepted).
    @Test func positionsBeyondTheModelAreRefused() throws {
        let tokens = (0..<1_025).map { String($0 % 100) }.joined(separator: ",")
        var cmd = try LMCommand.Logits.parse(["--preset", "tiny", "--tokens", tokens, "--last"])
        #expect(throws: (any Error).self) { try cmd.run() }
        do { try cmd.run() } catch { #expect("\(error)".contains("max_position_embeddings"), "\(error)") }
    }
}
