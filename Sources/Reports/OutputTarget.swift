/// What an output path names, and whether it can be written, decided before any work (issue 24).
///
/// Output never destroys what is there: a regular file or a new path is replaced atomically, a
/// symbolic link is resolved and its target written (the link stays), a FIFO or character device
/// is written in place, and anything else is refused. Paths on pseudo-filesystems (/proc, /sys,
/// cgroup, debugfs, ...) are refused up front: as root every "is it writable" test passes there,
/// and the write would fail only after the work.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public enum OutputTarget: Equatable, Sendable {
    /// A regular file or a new path, after resolving symbolic links: written atomically.
    case file(String)
    /// A FIFO, a character device, or a descriptor link (/dev/stdout, /proc/self/fd/N): written in place.
    case stream
    /// Not writable as an output (a folder, a block device, a socket, a link loop); the reason.
    case refused(String)

    /// The prefix of the temporary files the atomic writer makes beside the destination: short, so
    /// that a destination name of the longest legal length (255 bytes) still gets a temporary.
    public static let temporaryPrefix = ".sftrl-"

    /// The longest file name (bytes) a Linux file system accepts.
    public static let maxNameBytes = 255

    /// Classifies `path` by what it names (following symbolic links, at most 40 hops).
    public static func classify(_ path: String) -> OutputTarget {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(current, &st) == 0 else { return .file(current) }  // a new path (or the write will say why)
            switch st.st_mode & S_IFMT {
            case S_IFREG: return .file(current)
            case S_IFIFO, S_IFCHR: return .stream
            case S_IFDIR: return .refused("it is a folder; give a file path")
            case S_IFBLK: return .refused("it is a block device; only files, FIFOs and character devices are written")
            case S_IFSOCK: return .refused("it is a socket; only files, FIFOs and character devices are written")
            case S_IFLNK:
                guard let target = readLink(current) else { return .refused("the symbolic link cannot be read") }
                let next = target.hasPrefix("/") ? target
                    : (current as NSString).deletingLastPathComponent + "/" + target
                // A descriptor link (/dev/stdout → /proc/self/fd/1 → pipe:[…]) is the open file itself.
                if isDescriptorLink(next) { return .stream }
                current = next
            default: return .refused("it is not a file")
            }
        }
        return .refused("the symbolic links loop (more than 40 hops)")
    }

    /// Why `path` cannot be an output file, or nil when it can: checked in a command's `validate()`.
    /// "-" (standard output) can. The name must fit in 255 bytes; a file's folder must not be on a
    /// pseudo-filesystem.
    public static func problem(_ path: String) -> String? {
        if path == "-" { return nil }
        let name = (path as NSString).lastPathComponent
        if name.utf8.count > maxNameBytes {
            return "the file name is \(name.utf8.count) bytes long, above the limit of \(maxNameBytes); choose a shorter name"
        }
        switch classify(path) {
        case .stream: return nil
        case .refused(let why): return why
        case .file(let resolved):
            let dir = (resolved as NSString).deletingLastPathComponent
            if let fs = pseudoFilesystem(dir.isEmpty ? "." : dir) {
                return "\(dir.isEmpty ? "." : dir) is on the \(fs) pseudo-filesystem, where no file can be created; choose a path on a disk"
            }
            return nil
        }
    }

    /// The name of the pseudo-filesystem `path` is on (proc, sysfs, ...), or nil for a real one.
    /// The mount whose point is the longest prefix of the resolved path decides (/proc/self/mounts).
    public static func pseudoFilesystem(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        let resolved = String(cString: real)
        free(real)
        guard let table = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in table.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 3 else { continue }
            let point = String(f[1]).replacingOccurrences(of: "\\040", with: " ")
            let inside = resolved == point || point == "/" || resolved.hasPrefix(point + "/")
            if inside, point.count >= (best?.point.count ?? -1) { best = (point, String(f[2])) }
        }
        guard let type = best?.type, pseudoTypes.contains(type) else { return nil }
        return type
    }

    /// Kernel pseudo-filesystems: files there are kernel interfaces, not storage.
    public static let pseudoTypes: Set<String> = ["proc", "sysfs", "cgroup", "cgroup2", "debugfs", "tracefs", "securityfs",
                                                  "bpf", "configfs", "pstore", "efivarfs", "devpts", "binfmt_misc", "fusectl", "mqueue"]

    /// /proc/self/fd/N, /proc/PID/fd/N, /proc/thread-self/fd/N or /dev/fd/N.
    static func isDescriptorLink(_ path: String) -> Bool {
        let parts = path.split(separator: "/")
        if parts.count == 4, parts[0] == "proc", parts[2] == "fd" { return true }
        if parts.count == 3, parts[0] == "dev", parts[1] == "fd" { return true }
        return false
    }

    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
