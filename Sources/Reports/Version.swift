import Foundation

/// The toolkit's version (semantic versioning; CHANGELOG.md says what each one changed), recorded
/// in every manifest and report.
public let sftrlVersion = "0.2.0"

/// The git commit this binary's checkout was at, recorded beside the version in every manifest
/// and report; nil when it cannot be known. `SFTRL_COMMIT` in the environment wins; otherwise the
/// first `.git` (a folder, or a worktree's `gitdir:` file) above the executable is read without
/// running git: `HEAD`, then the ref it names as a loose ref or in `packed-refs`. A binary copied
/// out of its checkout records nil. Read once, on first use (a global is initialised lazily), so
/// commands that write no report never touch the file system for it.
public let sftrlCommit: String? = GitCommit.lookUp()

/// Reading the checkout's commit from the files git keeps (see ``sftrlCommit``).
public enum GitCommit {
    /// The commit from the environment or from the first repository above the executable.
    public static func lookUp(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let c = environment["SFTRL_COMMIT"], isCommit(c) { return c }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        return commit(above: URL(fileURLWithPath: exe).deletingLastPathComponent())
    }

    /// The commit of the first repository at `folder` or above it, or nil.
    public static func commit(above folder: URL) -> String? {
        var dir = folder.standardizedFileURL
        for _ in 0..<64 {
            if let gitDir = gitDirectory(in: dir) { return head(of: gitDir) }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { return nil }
            dir = parent
        }
        return nil
    }

    /// `dir/.git` when it is a folder; the folder a `.git` file's `gitdir: PATH` line names.
    static func gitDirectory(in dir: URL) -> URL? {
        let dot = dir.appendingPathComponent(".git")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dot.path, isDirectory: &isDir) else { return nil }
        if isDir.boolValue { return dot }
        guard let text = read(dot), text.hasPrefix("gitdir:") else { return nil }
        let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : dir.appendingPathComponent(path)
    }

    /// The commit HEAD points at: a detached HEAD's id, or the id of the ref it names (loose, then
    /// packed; a worktree's refs live in the folder its `commondir` names).
    static func head(of gitDir: URL) -> String? {
        guard let h = read(gitDir.appendingPathComponent("HEAD")) else { return nil }
        guard h.hasPrefix("ref:") else { return isCommit(h) ? h : nil }
        let ref = h.dropFirst("ref:".count).trimmingCharacters(in: .whitespaces)
        var dirs = [gitDir]
        if let common = read(gitDir.appendingPathComponent("commondir")) {
            dirs.append(common.hasPrefix("/") ? URL(fileURLWithPath: common) : gitDir.appendingPathComponent(common))
        }
        for d in dirs {
            if let c = read(d.appendingPathComponent(ref)), isCommit(c) { return c }
            if let packed = read(d.appendingPathComponent("packed-refs")) {
                for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
                    let c = String(line.prefix(40))
                    if isCommit(c) { return c }
                }
            }
        }
        return nil
    }

    /// A full object id: 40 (SHA-1) or 64 (SHA-256) lower-case hexadecimal digits.
    public static func isCommit(_ s: String) -> Bool {
        (s.count == 40 || s.count == 64) && s.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    static func read(_ url: URL) -> String? {
        (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
