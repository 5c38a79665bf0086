import Foundation
import Testing
@testable import Reports
#if canImport(Glibc)
import Glibc
#endif

/// Every kind of output path (issue 24): a regular file or new path is replaced atomically, a
/// symbolic link is resolved and its target written (the link stays), a FIFO and a character
/// device are written in place, a 255-byte name works, pseudo-filesystems are refused up front.
/// Each test was checked to fail with the rule it guards broken (see the commit message).
@Suite struct OutputKindsTests {
    @Test func symlinkTargetIsWrittenAndTheLinkStays() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("real.json")
        try writeAtomically("old", to: target)
        let link = dir.appendingPathComponent("link.json")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "real.json")
        try writeAtomically("new", to: link)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "real.json")
        #expect(try String(contentsOf: target, encoding: .utf8) == "new")
        #expect(try listing(dir) == ["link.json", "real.json"])
        // A chain of links and a dangling link: the final target is created, the links stay.
        let chain = dir.appendingPathComponent("chain")
        try FileManager.default.createSymbolicLink(atPath: chain.path, withDestinationPath: link.path)
        try writeAtomically("newer", to: chain)
        #expect(try String(contentsOf: target, encoding: .utf8) == "newer")
        let dangling = dir.appendingPathComponent("dangling")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: "made.txt")
        try writeAtomically("made", to: dangling)
        #expect(try String(contentsOf: dir.appendingPathComponent("made.txt"), encoding: .utf8) == "made")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dangling.path) == "made.txt")
    }

    @Test func fifoIsWrittenInPlace() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        #expect(OutputTarget.classify(fifo.path) == .stream)
        let payload = String(repeating: "row\n", count: 5000)
        let box = ReadBox()
        let t = Thread { box.text = String(decoding: FileHandle(forReadingAtPath: fifo.path)?.readDataToEndOfFile() ?? Data(), as: UTF8.self) ; box.done.signal() }
        t.start()
        try writeAtomically(payload, to: fifo)
        #expect(box.done.wait(timeout: .now() + 10) == .success)
        #expect(box.text == payload)
        var st = stat()
        #expect(lstat(fifo.path, &st) == 0 && st.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        #expect(try listing(dir) == ["pipe"])
    }

    @Test func characterDeviceIsWrittenInPlace() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let null = dir.appendingPathComponent("null")
        // A copy of /dev/null (1, 3) under a temporary folder; only root may make one.
        guard mknod(null.path, S_IFCHR | 0o666, (1 << 8) | 3) == 0 else { return }
        try writeAtomically("discarded", to: null)
        var st = stat()
        #expect(lstat(null.path, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR, "the device was replaced by a file")
        #expect(try listing(dir) == ["null"])
    }

    @Test func longestLegalNameWorksAndLongerIsRefusedUpFront() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = String(repeating: "n", count: 250) + ".json"
        try writeAtomically("{}", to: dir.appendingPathComponent(name))
        #expect(try listing(dir) == [name])
        #expect(OutputTarget.problem(dir.appendingPathComponent(name).path) == nil)
        #expect(OutputTarget.problem(dir.appendingPathComponent("x" + name).path)?.contains("255") == true)
    }

    @Test func pseudoFilesystemsAreRefusedUpFront() throws {
        #expect(OutputTarget.problem("/proc/sftrl-test.json")?.contains("proc") == true)
        #expect(OutputTarget.problem("/sys/sftrl-test.json")?.contains("sysfs") == true)
        #expect(OutputTarget.problem("/dev/null") == nil)
        #expect(OutputTarget.problem("-") == nil)
        #expect(OutputTarget.problem(FileManager.default.temporaryDirectory.appendingPathComponent("x.json").path) == nil)
        #expect(OutputTarget.classify("/dev/stdout") == .stream)
    }

    @Test func folderIsReplacedWholeAndALinkToItStays() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        try replaceFolderAtomically(at: out) { try writeAtomically("1", to: $0.appendingPathComponent("old-only.txt")) }
        try replaceFolderAtomically(at: out) { try writeAtomically("2", to: $0.appendingPathComponent("a.txt")) }
        #expect(try listing(out) == ["a.txt"])
        #expect(try listing(dir) == ["run"])
        // A failure while filling leaves the old folder as it was and no temporary.
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try replaceFolderAtomically(at: out) { try writeAtomically("3", to: $0.appendingPathComponent("b.txt")); throw Boom() }
        }
        #expect(try listing(out) == ["a.txt"])
        #expect(try listing(dir) == ["run"])
        let link = dir.appendingPathComponent("latest")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "run")
        try replaceFolderAtomically(at: link) { try writeAtomically("4", to: $0.appendingPathComponent("c.txt")) }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "run")
        #expect(try listing(out) == ["c.txt"])
    }

    @Test func folderWithTheLongestLegalNameIsReplaced() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent(String(repeating: "d", count: 255))
        for k in 0..<2 { try replaceFolderAtomically(at: out) { try writeAtomically("\(k)", to: $0.appendingPathComponent("a.txt")) } }
        #expect(try String(contentsOf: out.appendingPathComponent("a.txt"), encoding: .utf8) == "1")
        #expect(try listing(dir) == [out.lastPathComponent])
    }

    @Test func fileSetKeepsOtherFilesAndFailsWhole() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeAtomically("mine", to: dir.appendingPathComponent("notes.txt"))
        try replaceFilesAtomically(in: dir, [("a.csv", Data("1".utf8)), ("manifest.json", Data("{}".utf8))])
        #expect(try listing(dir) == ["a.csv", "manifest.json", "notes.txt"])
        // A destination that cannot be replaced (a folder named like an output) fails before any rename.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("b.csv/x"), withIntermediateDirectories: true)
        #expect(throws: ReportIOError.self) {
            try replaceFilesAtomically(in: dir, [("a.csv", Data("2".utf8)), ("b.csv", Data("2".utf8))])
        }
        #expect(try String(contentsOf: dir.appendingPathComponent("a.csv"), encoding: .utf8) == "1")
        #expect(try listing(dir).filter { $0.hasPrefix(".sftrl") } == [])
    }

    @Test func aSecondWriterOfTheSameFolderIsRefused() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run")
        // The lock is per process: take it through a child that holds it (flock from another fd
        // in this process would also conflict, which is what a second process sees).
        let lockPath = OutputLock.lockPath(out)
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o644)
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        #expect(throws: ReportIOError.busy(path: out.standardizedFileURL.path)) {
            try replaceFolderAtomically(at: out) { try writeAtomically("x", to: $0.appendingPathComponent("a.txt")) }
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        close(fd)
        unlink(lockPath)
        try replaceFolderAtomically(at: out) { try writeAtomically("x", to: $0.appendingPathComponent("a.txt")) }
        #expect(try listing(dir) == ["run"])
    }
}

final class ReadBox: @unchecked Sendable {
    var text = ""
    let done = DispatchSemaphore(value: 0)
}
