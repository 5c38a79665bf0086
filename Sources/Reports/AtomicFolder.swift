/// Output folders that appear whole or not at all (issue 24).
///
/// `replaceFolderAtomically(at:_:)` fills a fresh staging folder beside the destination
/// (`.sftrl-XXXXXX` in the same parent, so the renames stay on one file system), then moves the old
/// folder aside, renames the staging folder into place and removes the old one. A reader sees the
/// old folder or the new one, never a mix of their files. While it runs, the destination is
/// locked (`flock` on `.NAME.lock` in the parent): a second run writing the same folder fails at
/// once instead of mixing its files in. SIGINT/SIGTERM/SIGHUP remove the staging folder and put
/// the old folder back (see `Temporaries`).
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on an output destination, held by this process until `release()`.
public final class OutputLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32
    private var cleanup: Int

    private static let table = NSLock()
    nonisolated(unsafe) private static var held: [String: OutputLock] = [:]

    private init(path: String, fd: Int32, cleanup: Int) { self.path = path; self.fd = fd; self.cleanup = cleanup }

    /// The lock file of `destination`: `.NAME.lock` beside it (for a name too long to take the
    /// suffix, `.sftrl-HASH.lock` with the SHA-256 of the name).
    static func lockPath(_ destination: URL) -> String {
        let d = destination.standardizedFileURL
        var name = ".\(d.lastPathComponent).lock"
        if name.utf8.count > OutputTarget.maxNameBytes { name = ".sftrl-\(sha256Hex(Data(d.lastPathComponent.utf8)).prefix(32)).lock" }
        return d.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Takes the lock on `destination` (a folder or a file), or returns the one this process holds.
    /// Throws `ReportIOError.busy` when another process holds it.
    @discardableResult
    public static func acquire(_ destination: URL) throws -> OutputLock {
        let path = lockPath(destination)
        table.lock(); defer { table.unlock() }
        if let l = held[path] { return l }
        for _ in 0..<8 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(errno)) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                close(fd)
                if code == EWOULDBLOCK { throw ReportIOError.busy(path: destination.path) }
                throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(code))
            }
            // The holder before us may have removed the file after we opened it: lock the file
            // that is at the path now, or try again.
            var a = stat(), b = stat()
            if fstat(fd, &a) == 0, stat(path, &b) == 0, a.st_ino == b.st_ino, a.st_dev == b.st_dev {
                let cleanup = Temporaries.register(path)
                let l = OutputLock(path: path, fd: fd, cleanup: cleanup)
                held[path] = l
                return l
            }
            close(fd)
        }
        throw ReportIOError.busy(path: destination.path)
    }

    /// Removes the lock file and releases the lock.
    public func release() {
        Self.table.lock(); defer { Self.table.unlock() }
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
        Temporaries.unregister(cleanup)
        Self.held[path] = nil
    }
}

/// Writes the folder `out` whole or not at all: `fill` writes every file into the staging folder
/// it is given; then the staging folder replaces `out` (an existing folder is moved aside and
/// removed after the swap). On any failure, or SIGINT/SIGTERM/SIGHUP, the staging folder is
/// removed and `out` is as it was. A symbolic link at `out` is resolved: its target folder is
/// replaced, the link stays. The parent folders are created when missing.
public func replaceFolderAtomically(at out: URL, _ fill: (URL) throws -> Void) throws {
    var target = out.standardizedFileURL
    if (try? FileManager.default.attributesOfItem(atPath: target.path)[.type] as? FileAttributeType) == .typeSymbolicLink {
        target = target.resolvingSymlinksInPath()
    }
    let parent = target.deletingLastPathComponent()
    try ensureDirectory(parent)
    let lock = try OutputLock.acquire(target)
    defer { lock.release() }
    let fm = FileManager.default
    var template = Array((parent.path + "/" + OutputTarget.temporaryPrefix + "XXXXXX").utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
        throw ReportIOError.cannotCreateDirectory(path: parent.path, reason: systemErrorMessage(errno))
    }
    let staging = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    _ = chmod(staging, 0o755)
    let stagingCleanup = Temporaries.register(staging)
    defer {
        try? fm.removeItem(atPath: staging)
        Temporaries.unregister(stagingCleanup)
    }
    try fill(URL(fileURLWithPath: staging, isDirectory: true))

    var isDir: ObjCBool = false
    let exists = fm.fileExists(atPath: target.path, isDirectory: &isDir)
    if exists && !isDir.boolValue { throw ReportIOError.notADirectory(path: target.path) }
    var old: String?
    var restore: Int?
    if exists {
        var t = Array((parent.path + "/" + OutputTarget.temporaryPrefix + "old-XXXXXX").utf8CString)
        guard t.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ReportIOError.cannotReplace(path: target.path, reason: systemErrorMessage(errno))
        }
        let o = t.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // rename(2) onto an empty folder replaces it; the old folder is kept there until the swap.
        guard rename(target.path, o) == 0 else {
            let reason = systemErrorMessage(errno)
            _ = rmdir(o)
            throw ReportIOError.cannotReplace(path: target.path, reason: reason)
        }
        old = o
        let path = target.path
        restore = Temporaries.register {
            if !FileManager.default.fileExists(atPath: path) { _ = rename(o, path) } else { try? FileManager.default.removeItem(atPath: o) }
        }
    }
    try Temporaries.commit {
        if old != nil { Temporaries.testPause() }
        guard rename(staging, target.path) == 0 else {
            let reason = systemErrorMessage(errno)
            if let old { _ = rename(old, target.path) }
            if let restore { Temporaries.unregister(restore) }
            throw ReportIOError.cannotReplace(path: target.path, reason: reason)
        }
        if let restore { Temporaries.unregister(restore) }
    }
    if let old { try? fm.removeItem(atPath: old) }
}

/// Writes a set of files into the folder `dir` (created when missing), all or none: every file is
/// first written whole to a temporary beside its destination, then all are renamed into place in
/// order (put the manifest last), with SIGINT/SIGTERM/SIGHUP held off until the last rename; a
/// failure or signal before that removes the temporaries and leaves every old file as it was.
/// Other files in `dir` are kept. A second process writing the same folder fails at once
/// (`ReportIOError.busy`; the lock is `.sftrl.lock` inside `dir`).
public func replaceFilesAtomically(in dir: URL, _ files: [(name: String, data: Data)]) throws {
    try ensureDirectory(dir)
    let lock = try OutputLock.acquire(dir.appendingPathComponent(".sftrl"))
    defer { lock.release() }
    var staged: [(tmp: String, dest: String, cleanup: Int)] = []
    defer { for s in staged { unlink(s.tmp); Temporaries.unregister(s.cleanup) } }
    for (name, data) in files {
        let dest = dir.appendingPathComponent(name).path
        let resolved: String
        switch OutputTarget.classify(dest) {
        case .file(let r): resolved = r
        case .stream: continue  // a FIFO or device among the outputs is written in place, after the files
        case .refused(let why): throw ReportIOError.cannotReplace(path: dest, reason: why)
        }
        let folder = (resolved as NSString).deletingLastPathComponent
        var template = Array((folder + "/" + OutputTarget.temporaryPrefix + "XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ReportIOError.cannotWrite(path: dest, reason: systemErrorMessage(errno)) }
        let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        staged.append((tmp, resolved, Temporaries.register(tmp)))
        defer { close(fd) }
        try writeInPlace(data, fd: fd, path: dest)
        if fchmod(fd, 0o644) != 0 || fsync(fd) != 0 { throw ReportIOError.cannotWrite(path: dest, reason: systemErrorMessage(errno)) }
    }
    try Temporaries.commit {
        for (k, s) in staged.enumerated() {
            if k > 0 { Temporaries.testPause() }
            guard rename(s.tmp, s.dest) == 0 else { throw ReportIOError.cannotReplace(path: s.dest, reason: systemErrorMessage(errno)) }
        }
        for s in staged { Temporaries.unregister(s.cleanup) }
        staged = []
    }
    for (name, data) in files where OutputTarget.classify(dir.appendingPathComponent(name).path) == .stream {
        try writeAtomically(data, to: dir.appendingPathComponent(name))
    }
}
