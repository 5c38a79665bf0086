import Foundation
import ArgumentParser
import TestSupport
import Testing
@testable import sftrl

/// The root command's argument handling (negative numbers after options, bounded work) and the
/// up-front checks of output paths.

// MARK: - NegativeNumberTests

/// A negative number after an option reaches the command's validation (issue 13: `--rtol -1`
/// answered "Missing value").
@Suite("negative numbers after options")
struct NegativeNumberTests {
    @Test func joining() {
        #expect(joiningNegativeNumbers(["flow", "--rtol", "-1", "--out", "o"]) == ["flow", "--rtol=-1", "--out", "o"])
        #expect(joiningNegativeNumbers(["--beta", "-1e-3", "--x", "-.5"]) == ["--beta=-1e-3", "--x=-.5"])
        #expect(joiningNegativeNumbers(["--quiet", "-h"]) == ["--quiet", "-h"])
        #expect(joiningNegativeNumbers(["--eta=-1", "-2"]) == ["--eta=-1", "-2"])
        #expect(joiningNegativeNumbers(["--seed", "-"]) == ["--seed", "-"])
        #expect(!isNegativeNumber("-x1") && !isNegativeNumber("--1") && isNegativeNumber("-0.25"))
    }

    /// The joined form is refused by validation with the option's range, not by the parser.
    @Test func validationNamesTheRange() {
        do {
            _ = try SFTRL.parseAsRoot(joiningNegativeNumbers(["check", "--instances", "-5"]))
            Issue.record("--instances -5 accepted")
        } catch {
            let m = SFTRL.message(for: error)
            #expect(m.contains("--instances -5 is out of range; give a whole number from 1"), "\(m)")
        }
    }
}

@Suite("long work is bounded")
struct BoundedWorkTests {
    /// Gradient steps beyond --max-steps are refused before any work (a tiny η ran billions of steps).
    @Test func gradientStepsAreBounded() throws {
        let dir = try makeTemporaryDirectory("bound")
        defer { removeTemporaryDirectory(dir) }
        let inst = dir.appendingPathComponent("i.json")
        try #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.7, 0.3], "reward": [1, 0]}]}"#.write(to: inst, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        var cmd = try FlowCommand.parse(["--instance", inst.path, "--schedule", "sft:10", "--method", "gd", "--eta", "1e-7", "--out", out.path])
        do { try cmd.run(); Issue.record("10^8 gradient steps attempted") } catch { #expect(SFTRL.exitStatus(for: error) == 2) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        // Within the bound the same command runs (10 steps of η = 1).
        var small = try FlowCommand.parse(["--instance", inst.path, "--schedule", "sft:10", "--method", "gd", "--eta", "1", "--max-steps", "10", "--out", out.path])
        try small.run()
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("trace.csv").path))
    }
}

@Suite("commands check their output paths before any work")
struct CommandOutputPathTests {
    @Test(arguments: [
        ["check", "--json", ""],
        ["check", "--json", "/tmp", "--claim", "eq5"],
        ["check", "--json", "r.json", "--markdown", "./r.json"],
        ["check", "--markdown", "/nonexistent-folder/r.md"],
        ["search", "--claim", "eq5", "--json", "/tmp"],
        ["search", "--claim", "eq5", "--out-dir", ""],
        ["figures", "--out", ""],
        ["update", "--instance", "x.json", "--method", "grpo", "--json", "/tmp"],
    ])
    func refused(args: [String]) {
        #expect(throws: (any Error).self, "\(args)") { _ = try SFTRL.parseAsRoot(args) }
    }
}

@Suite("lm init refuses a non-empty folder without --overwrite")
struct LMInitOverwriteTests {
    @Test func nonEmptyFolder() throws {
        let dir = try makeTemporaryDirectory("init")
        defer { removeTemporaryDirectory(dir) }
        try Data("x".utf8).write(to: dir.appendingPathComponent("notes.txt"))
        #expect(throws: (any Error).self) { _ = try SFTRL.parseAsRoot(["lm", "init", "--out", dir.path]) }
        #expect((try? SFTRL.parseAsRoot(["lm", "init", "--out", dir.path, "--overwrite"])) != nil)
        #expect((try? SFTRL.parseAsRoot(["lm", "init", "--out", dir.path + "/fresh"])) != nil)
    }

    /// `lm bench` usage errors are validation errors (exit 2), not an exit code thrown from validate()
    /// (which ArgumentParser turned into exit 1 with an empty "error:").
    @Test func benchUsageErrorsAreValidationErrors() {
        do { _ = try SFTRL.parseAsRoot(["lm", "bench", "--batch", "0"]); Issue.record("--batch 0 accepted") } catch {
            #expect(error is ValidationError || "\(error)".contains("--batch 0 is out of range"), "\(error)")
            #expect(SFTRL.exitCode(for: error) == .validationFailure)
        }
    }
}

@Suite("merge --out never names an input")
struct MergeOutputTests {
    @Test func mergeRefusesToOverwriteAnInput() {
        #expect(throws: (any Error).self) { _ = try MergeCommand.parse(["part0.json", "part1.json", "--out", "./part1.json"]) }
        #expect(throws: (any Error).self) { _ = try MergeCommand.parse(["part0.json", "--out", ""]) }
        #expect((try? MergeCommand.parse(["part0.json", "--out", FileManager.default.temporaryDirectory.path + "/merged.json"])) != nil)
    }
}
