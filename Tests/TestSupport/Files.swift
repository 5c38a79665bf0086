import Foundation

/// The repository's root folder (the one holding Package.swift), found from this file's path, so
/// tests can read committed files (README.md, docs/, notebooks-data/, fixtures) in any build.
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The folder of this test process (`sftrl-tests-PID` in the system's temporary directory); every
/// folder of ``makeTemporaryDirectory(_:)`` is inside it, and it is removed when the process exits,
/// so a test that keeps its files (or fails before its `defer`) leaves nothing behind.
public let sessionDirectory: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { removeTemporaryDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-tests-\(getpid())")) }
    return url
}()

/// A fresh, empty folder `TAG-UUID` inside ``sessionDirectory``. The caller may remove it early
/// (`defer { removeTemporaryDirectory(dir) }`, or ``withTemporaryDirectory(_:_:)``).
public func makeTemporaryDirectory(_ tag: String) throws -> URL {
    let url = sessionDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Removes a folder made by ``makeTemporaryDirectory(_:)`` (permissions restored first, so a test
/// that made a read-only folder inside still cleans up).
public func removeTemporaryDirectory(_ url: URL) {
    let fm = FileManager.default
    if let walker = fm.enumerator(atPath: url.path) {
        for case let item as String in walker {
            try? fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.appendingPathComponent(item).path)
        }
    }
    try? fm.removeItem(at: url)
}

/// Runs `body` with a fresh temporary folder and removes the folder afterwards, whatever happens.
public func withTemporaryDirectory<T>(_ tag: String, _ body: (URL) throws -> T) throws -> T {
    let dir = try makeTemporaryDirectory(tag)
    defer { removeTemporaryDirectory(dir) }
    return try body(dir)
}

/// Writes a UTF-8 text file (creating its folder), for fixtures built inside a test.
@discardableResult
public func writeText(_ text: String, to url: URL) throws -> URL {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(text.utf8).write(to: url)
    return url
}
