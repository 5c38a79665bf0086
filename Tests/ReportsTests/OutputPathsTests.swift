import Foundation
import Testing
import Reports
import TestSupport

/// `OutputPaths`: the up-front checks of the paths a command will write.
@Suite("output paths are checked before any work")
struct OutputPathsTests {
    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as UserInputError { return e.message } catch { return "\(error)" }
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
}
