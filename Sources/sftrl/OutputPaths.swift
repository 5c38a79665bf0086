import ArgumentParser
import Foundation

/// Up-front checks of the paths a command will write, run in `validate()` before any work, so a
/// long computation never ends in "cannot write". Each message names the option the user typed.
enum OutputPaths {
    /// A file the command will write (replacing it if it exists): the path is not empty, is not an
    /// existing folder, and its folder exists and is writable.
    static func checkFile(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(option) needs a file path, got an empty string") }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw ValidationError("\(option) \(path) is a folder; give a file path (for example \(path)/report.json)")
        }
        try checkWritableParent(of: path, option: option)
    }

    /// A folder the command will create or fill: the path is not empty and not an existing file;
    /// an existing folder must be writable, a new one's parent must exist and be writable.
    static func checkFolder(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw ValidationError("\(option) needs a folder path, got an empty string") }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw ValidationError("\(option) \(path) is an existing file; give a folder path") }
            guard fm.isWritableFile(atPath: path) else { throw ValidationError("\(option) \(path): the folder is not writable") }
            return
        }
        try checkWritableParent(of: path, option: option)
    }

    /// No two options name the same file (after resolving `.`/`..` and the working directory).
    static func checkDistinct(_ paths: [(option: String, path: String?)]) throws {
        var seen: [String: String] = [:]
        for case let (option, path?) in paths {
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            if let other = seen[key] { throw ValidationError("\(other) and \(option) name the same file \(path); give them different paths") }
            seen[key] = option
        }
    }

    private static func checkWritableParent(of path: String, option: String) throws {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(option) \(path): the folder \(parent) does not exist; create it first")
        }
        guard FileManager.default.isWritableFile(atPath: parent) else {
            throw ValidationError("\(option) \(path): the folder \(parent) is not writable")
        }
    }
}
