import Foundation

/// Up-front checks of the paths a command will write, run in `validate()` before any work, so a
/// long computation never ends in "cannot write". Each message names the option the user typed.
public enum OutputPaths {
    /// A file the command will write (replacing it if it exists): the path is not empty, is not an
    /// existing folder, and its folder exists and is writable. `-` (standard output), a FIFO and a
    /// character device pass (written in place); a symbolic link is judged by its target; a name
    /// over 255 bytes or a folder on a pseudo-filesystem (/proc, /sys) is refused (`OutputTarget`).
    public static func checkFile(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw UserInputError("\(option) needs a file path, got an empty string") }
        if path == "-" { return }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw UserInputError("\(option) \(path) is a folder; give a file path (for example \(path)/report.json)")
        }
        if let why = OutputTarget.problem(path) { throw UserInputError("\(option) \(path): \(why)") }
        guard case .file(let resolved) = OutputTarget.classify(path) else { return }
        try checkWritableParent(of: resolved, option: option)
    }

    /// A folder the command will create or fill: the path is not empty and not an existing file;
    /// an existing folder must be writable, a new one's parent must exist and be writable.
    public static func checkFolder(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw UserInputError("\(option) needs a folder path, got an empty string") }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw UserInputError("\(option) \(path) is an existing file; give a folder path") }
            guard fm.isWritableFile(atPath: path) else { throw UserInputError("\(option) \(path): the folder is not writable") }
            return
        }
        try checkWritableParent(of: path, option: option)
    }

    /// A folder the command creates with its missing parents (flow, pareto, train, task export):
    /// the path is not empty and not an existing file; the nearest existing ancestor is a
    /// writable folder (a file there, e.g. `notes.txt/run`, is refused up front, not after the run).
    public static func checkCreatableFolder(_ path: String, option: String) throws {
        guard !path.isEmpty else { throw UserInputError("\(option) needs a folder path, got an empty string") }
        let fm = FileManager.default
        var url = URL(fileURLWithPath: path).standardizedFileURL
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw UserInputError("\(option) \(path) is an existing file; give a folder path") }
            guard fm.isWritableFile(atPath: url.path) else { throw UserInputError("\(option) \(path): the folder is not writable") }
            return
        }
        if let name = url.pathComponents.first(where: { $0.utf8.count > OutputTarget.maxNameBytes }) {
            throw UserInputError("\(option) \(path): the name \(name.prefix(20))… is \(name.utf8.count) bytes long, above the limit of \(OutputTarget.maxNameBytes); choose a shorter name")
        }
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else { continue }
            if isDir.boolValue, let fs = OutputTarget.pseudoFilesystem(url.path) {
                throw UserInputError("\(option) \(path): \(url.path) is on the \(fs) pseudo-filesystem, where no folder can be created; choose a path on a disk")
            }
            guard isDir.boolValue else {
                throw UserInputError("\(option) \(path): \(url.path) is a file, so no folder can be created under it; choose another path")
            }
            guard fm.isWritableFile(atPath: url.path) else { throw UserInputError("\(option) \(path): the folder \(url.path) is not writable") }
            return
        }
    }

    /// An existing folder that is not empty is refused unless `overwrite` (its contents would be replaced).
    public static func checkEmptyFolder(_ path: String, option: String, overwriteFlag: String?) throws {
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: path), !items.isEmpty else { return }
        let hint = overwriteFlag.map { "; choose another folder or pass \($0)" } ?? "; choose another folder or empty it first"
        throw UserInputError("\(option) \(path) is not empty (it holds \(items.count) item\(items.count == 1 ? "" : "s"))\(hint)")
    }

    /// No two options name the same file (after resolving `.`/`..` and the working directory).
    public static func checkDistinct(_ paths: [(option: String, path: String?)]) throws {
        var seen: [String: String] = [:]
        for case let (option, path?) in paths {
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            if let other = seen[key] { throw UserInputError("\(other) and \(option) name the same file \(path); give them different paths") }
            seen[key] = option
        }
    }

    /// Whether two paths name one existing file (the same device and inode: through symlinks,
    /// hard links, `./a` and `a`, or the target of a symlink given as either).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    private static func checkWritableParent(of path: String, option: String) throws {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDir) else {
            throw UserInputError("\(option) \(path): the folder \(parent) does not exist; create it first")
        }
        guard isDir.boolValue else { throw UserInputError("\(option) \(path): \(parent) is a file, not a folder; choose another path") }
        guard FileManager.default.isWritableFile(atPath: parent) else {
            throw UserInputError("\(option) \(path): the folder \(parent) is not writable")
        }
    }
}

/// An error's text for the user: Foundation file errors (CocoaError, POSIX) become "PATH: reason"
/// instead of "Error Domain=NSCocoaErrorDomain Code=513 …" or "The operation could not be completed";
/// the toolkit's own errors keep their descriptions (they name the field and what to change).
public func plainMessage(_ error: Error) -> String {
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
    let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    var reason: String
    if ns.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(ns.code)))
    } else if let u = ns.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain {
        reason = String(cString: strerror(Int32(u.code)))
    } else {
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or folder"
        case .fileReadNoPermission, .fileWriteNoPermission: reason = "permission denied"
        case .fileWriteOutOfSpace: reason = "no space left on the device"
        case .fileWriteFileExists: reason = "something is already there"
        case .fileWriteVolumeReadOnly: reason = "the file system is read-only"
        default: reason = "the file system refused the operation"
        }
    }
    reason = reason.prefix(1).lowercased() + reason.dropFirst()
    return path.map { "\($0): \(reason)" } ?? reason
}
