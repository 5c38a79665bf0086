import Foundation
import Testing
@testable import Reports

/// A fresh empty directory under the system temporary directory.
func makeTempDir(_ tag: String = #function) throws -> URL {
    let safe = tag.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("ReportsTests-\(safe)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func listing(_ dir: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
}

@Suite struct AtomicFileTests {
    @Test func writesAndReplacesWholeFile() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("a.csv")
        try writeAtomically(String(repeating: "old line\n", count: 1000), to: url)
        try writeAtomically("new\n", to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "new\n")
        #expect(try listing(dir) == ["a.csv"])  // no temporary file left behind
        let attrs = try FileManager.default.attributesOfItem(atPath: url.path)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o644)
    }

    @Test func failedWriteKeepsOldFileWhole() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("curves.csv")
        try writeAtomically("old\n", to: url)
        let big = Data(String(repeating: "new line\n", count: 10_000).utf8)
        #expect(throws: ReportIOError.cannotWrite(path: url.path, reason: "No space left on device")) {
            try writeAtomically(big, to: url, failMidWrite: ENOSPC)
        }
        #expect(try String(contentsOf: url, encoding: .utf8) == "old\n")
        #expect(try listing(dir) == ["curves.csv"])
        // Without an old file, a failed write leaves nothing at all.
        let fresh = dir.appendingPathComponent("fresh.svg")
        #expect(throws: ReportIOError.self) { try writeAtomically(big, to: fresh, failMidWrite: EIO) }
        #expect(try listing(dir) == ["curves.csv"])
    }

    @Test func missingDirectoryLeavesNothing() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("missing/out.svg")
        #expect(throws: ReportIOError.missingDirectory(path: dir.appendingPathComponent("missing").path)) {
            try writeAtomically("x", to: url)
        }
        #expect(try listing(dir) == [])
    }

    @Test func failedRenameKeepsOldContentAndRemovesTemporary() throws {
        // The destination is a non-empty directory: rename(2) must fail (even for root).
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("out.json")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try writeAtomically("keep", to: target.appendingPathComponent("inside"))
        do {
            try writeAtomically("{}", to: target)
            Issue.record("expected a failure")
        } catch let e as ReportIOError {
            guard case .cannotReplace(let path, _) = e else { Issue.record("wrong error \(e)"); return }
            #expect(path == target.path)
            #expect(e.description.contains("choose another --out"))
        }
        #expect(try listing(dir) == ["out.json"])
        #expect(try String(contentsOf: target.appendingPathComponent("inside"), encoding: .utf8) == "keep")
    }

    @Test func unwritableDirectoryFailsCleanly() throws {
        // Root ignores permission bits, so only check when they bite.
        let dir = try makeTempDir()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
            try? FileManager.default.removeItem(at: dir)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.path)
        guard getuid() != 0 else { return }
        #expect(throws: ReportIOError.self) { try writeAtomically("x", to: dir.appendingPathComponent("f")) }
        #expect(try listing(dir) == [])
    }

    @Test func ensureDirectoryCreatesParentsAndRejectsFiles() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let nested = dir.appendingPathComponent("a/b/c")
        try ensureDirectory(nested)
        try ensureDirectory(nested)  // idempotent
        var isDir: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: nested.path, isDirectory: &isDir) && isDir.boolValue)
        let file = dir.appendingPathComponent("file")
        try writeAtomically("x", to: file)
        #expect(throws: ReportIOError.notADirectory(path: file.path)) { try ensureDirectory(file) }
        #expect(throws: ReportIOError.self) { try ensureDirectory(file.appendingPathComponent("sub")) }
    }
}
