/// Atomic file output: every report file is written whole or not at all.
///
/// A command that fails half-way must never leave a truncated CSV or SVG behind. `writeAtomically`
/// writes the bytes to a fresh temporary file in the *same directory* as the destination (so the
/// final `rename(2)` is on one file system and therefore atomic), flushes it with `fsync`, and
/// renames it over the destination. A reader sees either the old file or the complete new one.
/// On any failure the temporary file is removed and the destination is left untouched.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of report output. Each message names the path and what the user can change.
public enum ReportIOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The directory could not be created (`reason` is the system's explanation).
    case cannotCreateDirectory(path: String, reason: String)
    /// A path that should be a directory exists and is something else.
    case notADirectory(path: String)
    /// The destination's directory does not exist (`writeAtomically` never creates it).
    case missingDirectory(path: String)
    /// Writing the temporary file failed (disk full, permission, ...).
    case cannotWrite(path: String, reason: String)
    /// The finished temporary file could not be renamed onto the destination.
    case cannotReplace(path: String, reason: String)
    /// Another process is writing the same output now (it holds the destination's lock).
    case busy(path: String)

    public var description: String {
        switch self {
        case let .cannotCreateDirectory(path, reason):
            return "cannot create directory \(path): \(reason) — choose another --out"
        case let .notADirectory(path):
            return "\(path) exists and is not a directory — remove it or choose another --out"
        case let .missingDirectory(path):
            return "directory \(path) does not exist — create it first or choose another --out"
        case let .cannotWrite(path, reason):
            return "cannot write \(path): \(reason) — check free space and permissions, or choose another --out"
        case let .cannotReplace(path, reason):
            return "cannot replace \(path): \(reason) — remove whatever is at that path or choose another --out"
        case let .busy(path):
            return "another run is writing \(path) now — wait for it to finish or choose another --out"
        }
    }
}

/// The system's message for `errno`, e.g. "Permission denied".
func systemErrorMessage(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Makes sure `url` is an existing directory, creating it and any missing parents.
///
/// Succeeds silently when the directory already exists. Throws `ReportIOError.notADirectory`
/// when the path is a file, and `.cannotCreateDirectory` (with the system's reason) otherwise.
public func ensureDirectory(_ url: URL) throws {
    let path = url.path
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
        if isDir.boolValue { return }
        throw ReportIOError.notADirectory(path: path)
    }
    // Walk the components ourselves so the error reports errno's reason, not Cocoa's wording.
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
        prefix += component
        if mkdir(prefix, 0o777) != 0 {
            let code = errno
            if code == EEXIST {
                var sub: ObjCBool = false
                if !(FileManager.default.fileExists(atPath: prefix, isDirectory: &sub) && sub.boolValue) {
                    throw ReportIOError.notADirectory(path: prefix)
                }
            } else {
                throw ReportIOError.cannotCreateDirectory(path: path, reason: systemErrorMessage(code))
            }
        }
        prefix += "/"
    }
}

/// Writes `data` to `url` whole or not at all, without ever destroying what the path names.
///
/// The rules (issue 24), by what `url` names:
/// - `-` (a relative path of exactly "-"): the bytes go to standard output.
/// - a regular file or a new path: written to a temporary file in the *same directory*
///   (`.sftrl-XXXXXX`, short, so that a legal 255-byte name still works), `fsync`ed and renamed
///   over the destination; if anything fails the old file is left as it was. Mode 0644.
/// - a symbolic link: resolved (every link in the chain); its final target is written by these
///   rules. The link itself is never replaced.
/// - a FIFO or a character device (`/dev/null`, a terminal): opened and written in place.
/// - anything else (a block device, a socket, a folder): refused, nothing written.
/// The destination's directory must exist (call `ensureDirectory` first); otherwise
/// `ReportIOError.missingDirectory` is thrown and nothing is written.
public func writeAtomically(_ data: Data, to url: URL) throws {
    if url.relativePath == "-" { return try writeInPlace(data, fd: STDOUT_FILENO, path: "standard output") }
    switch OutputTarget.classify(url.path) {
    case .stream:
        let fd = open(url.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReportIOError.cannotWrite(path: url.path, reason: systemErrorMessage(errno)) }
        defer { close(fd) }
        try writeInPlace(data, fd: fd, path: url.path)
    case .file(let resolved):
        try writeAtomically(data, to: URL(fileURLWithPath: resolved), failMidWrite: nil)
    case .refused(let why):
        throw ReportIOError.cannotReplace(path: url.path, reason: why)
    }
}

/// Writes every byte of `data` to an open descriptor (a FIFO, a device, standard output).
func writeInPlace(_ data: Data, fd: Int32, path: String) throws {
    var failure: Int32 = 0
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            offset += n
        }
    }
    if failure != 0 { throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(failure)) }
}

/// The implementation for a regular file or a new path (symlinks already resolved);
/// `failMidWrite` (tests only) makes the write fail with that errno after half the bytes are on
/// disk, to check that no partial file survives.
func writeAtomically(_ data: Data, to url: URL, failMidWrite: Int32?) throws {
    let path = url.path
    let dir = url.deletingLastPathComponent().path
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
        throw ReportIOError.missingDirectory(path: dir)
    }
    guard isDir.boolValue else { throw ReportIOError.notADirectory(path: dir) }

    var template = Array((dir + "/" + OutputTarget.temporaryPrefix + "XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard fd >= 0 else {
        throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(errno))
    }
    let tmpPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    let cleanup = Temporaries.register(tmpPath)
    var closed = false
    var committed = false
    defer {
        if !closed { close(fd) }
        if !committed { unlink(tmpPath) }
        Temporaries.unregister(cleanup)
    }

    var failure: Int32 = 0
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        var offset = 0
        while offset < raw.count {
            if let code = failMidWrite, offset >= raw.count / 2, offset > 0 {
                failure = code
                return
            }
            let limit = failMidWrite == nil ? raw.count - offset : max(1, raw.count / 2 - offset)
            let n = write(fd, raw.baseAddress! + offset, limit)
            if n < 0 {
                if errno == EINTR { continue }
                failure = errno
                return
            }
            offset += n
        }
    }
    if failure != 0 { throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(failure)) }
    if fchmod(fd, 0o644) != 0 || fsync(fd) != 0 {
        throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(errno))
    }
    closed = true
    if close(fd) != 0 {
        throw ReportIOError.cannotWrite(path: path, reason: systemErrorMessage(errno))
    }
    if rename(tmpPath, path) != 0 {
        throw ReportIOError.cannotReplace(path: path, reason: systemErrorMessage(errno))
    }
    committed = true
}

/// Writes `string` as UTF-8 to `url` atomically; see `writeAtomically(_:to:)` for `Data`.
public func writeAtomically(_ string: String, to url: URL) throws {
    try writeAtomically(Data(string.utf8), to: url)
}
