import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import sftrl

/// A path that does not exist yet, in a fresh temporary folder.
private func scratch(_ tag: String) throws -> URL { try makeTemporaryDirectory("textcmd-\(tag)").appendingPathComponent("out") }

@Suite struct TextCommandTests {
    @Test func taskExportWritesEveryFormat() throws {
        let out = try scratch("export")
        var cmd = try TaskCommand.Export.parse(["--out", out.path, "--train-size", "20"])
        try cmd.run()
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        #expect(names == ["rl-test.jsonl", "rl-train.jsonl", "sft-test.jsonl", "sft-train-messages.jsonl", "sft-train.jsonl", "test.tsv", "train.tsv"])
        let tsv = try String(contentsOf: out.appendingPathComponent("train.tsv"), encoding: .utf8)
        #expect(tsv.split(separator: "\n").count == 20 && tsv.split(separator: "\n").allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 4 })
        // A second export into the now non-empty folder is refused with status 2.
        var again = try TaskCommand.Export.parse(["--out", out.path])
        #expect(throws: ExitCode(2)) { try again.run() }
    }

    @Test func badOptionsExitTwoAndWriteNothing() throws {
        let out = try scratch("bad")
        var cmd = try TaskCommand.Export.parse(["--out", out.path, "--sft-label-noise", "1.5"])
        #expect(throws: ExitCode(2)) { try cmd.run() }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        var gen = try LMCommand.Generate.parse(["--model", "/nonexistent", "--prompt", "x", "--temperature", "0"])
        #expect(throws: ExitCode(2)) { try gen.run() }
        var tok = try LMCommand.Tokenize.parse(["--model", "/nonexistent", "--text", "x", "--decode", "1"])
        #expect(throws: ExitCode(2)) { try tok.run() }
    }
}
