import ArgumentParser
import Foundation
import Testing
@testable import sftrl
import TestSupport

@Suite("output paths are checked before any work")
struct OutputPathsTests {
    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as ValidationError { return e.message } catch { return "\(error)" }
    }

    @Test func filesAndFolders() throws {
        let dir = try makeTemporaryDirectory("paths")
        defer { removeTemporaryDirectory(dir) }
        let file = dir.appendingPathComponent("a.json").path
        try Data("{}".utf8).write(to: URL(fileURLWithPath: file))

        #expect(message { try OutputPaths.checkFile(file, option: "--json") } == nil)          // replaced
        #expect(message { try OutputPaths.checkFile(dir.path + "/new.json", option: "--json") } == nil)
        #expect(message { try OutputPaths.checkFile("", option: "--json") }?.contains("--json needs a file path") == true)
        #expect(message { try OutputPaths.checkFile(dir.path, option: "--markdown") }?.contains("--markdown \(dir.path) is a folder") == true)
        #expect(message { try OutputPaths.checkFile(dir.path + "/missing/r.json", option: "--json") }?.contains("does not exist") == true)

        #expect(message { try OutputPaths.checkFolder(dir.path, option: "--out") } == nil)
        #expect(message { try OutputPaths.checkFolder(dir.path + "/fresh", option: "--out") } == nil)
        #expect(message { try OutputPaths.checkFolder(file, option: "--out") }?.contains("--out \(file) is an existing file") == true)
        #expect(message { try OutputPaths.checkFolder("", option: "--out-dir") }?.contains("--out-dir needs a folder path") == true)
        #expect(message { try OutputPaths.checkFolder(dir.path + "/a/b/c", option: "--out") }?.contains("does not exist") == true)

        #expect(message { try OutputPaths.checkDistinct([("--json", "r.json"), ("--markdown", "./r.json")]) }?
            .contains("--json and --markdown name the same file") == true)
        #expect(message { try OutputPaths.checkDistinct([("--json", "r.json"), ("--markdown", "r.md"), ("--out", nil)]) } == nil)
    }

    @Test func mergeRefusesToOverwriteAnInput() {
        #expect(throws: (any Error).self) { _ = try MergeCommand.parse(["part0.json", "part1.json", "--out", "./part1.json"]) }
        #expect(throws: (any Error).self) { _ = try MergeCommand.parse(["part0.json", "--out", ""]) }
        #expect((try? MergeCommand.parse(["part0.json", "--out", FileManager.default.temporaryDirectory.path + "/merged.json"])) != nil)
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
            #expect(error is ValidationError || "\(error)".contains("--batch is 0"), "\(error)")
            #expect(SFTRL.exitCode(for: error) == .validationFailure)
        }
    }
}
