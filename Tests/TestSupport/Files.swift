import Foundation

/// The repository's root folder (the one holding Package.swift), found from this file's path, so
/// tests can read committed files (README.md, docs/, notebooks-data/, fixtures) in any build.
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh, empty folder under the system's temporary directory, named `sftrl-TAG-UUID`. The caller
/// removes it (`defer { removeTemporaryDirectory(dir) }`), or uses ``withTemporaryDirectory(_:_:)``.
public func makeTemporaryDirectory(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-\(tag)-\(UUID().uuidString)")
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
