import Foundation
import Reports
#if canImport(Glibc)
import Glibc
#endif

/// One generated folder of notebooks-data: its files (name, bytes) and the manifest's content.
public struct FigureFolder {
    public var key: String
    public var name: String
    public var files: [(name: String, data: Data)]
    public var seed: UInt64?
    public var extra: [String: ReportJSON]
    public var quick: Bool

    public init(key: String, name: String, files: [(name: String, data: Data)], seed: UInt64?, extra: [String: ReportJSON], quick: Bool) {
        self.key = key; self.name = name; self.files = files; self.seed = seed; self.extra = extra; self.quick = quick
    }

    public mutating func add(_ name: String, _ text: String) { files.append((name, Data(text.utf8))) }
    public mutating func add(_ name: String, _ data: Data) { files.append((name, data)) }

    /// The command that regenerates exactly this folder (run from the repository root).
    public var command: [String] { ["sftrl", "figures", "--only", key] + (quick ? ["--quick"] : []) + (key == "f" ? ["--include-transformer"] : []) }

    public func manifest() -> Manifest {
        var e = extra
        e["files"] = .array((files.map(\.name) + ["manifest.json"]).sorted().map { .string($0) })
        e["quick"] = .bool(quick)
        return Manifest(command: command, version: sftrlVersion, seed: seed, extra: e)
    }
}

/// What can go wrong choosing or building a figure. `selection` is a user-input error (the
/// command maps it to exit status 2); the others are failed runs.
public enum FiguresError: Error, CustomStringConvertible {
    case unknownFigure(String)
    /// A bad `--only` list (empty item, figure f without --include-transformer, nothing chosen).
    case selection(String)
    case subprocess(String)

    public var description: String {
        switch self {
        case let .unknownFigure(s): return "unknown figure \"\(s)\"; use letters a–h or the folder names \(FigureCatalog.all.map { FigureCatalog.folderName($0) }.joined(separator: ", "))"
        case let .selection(s): return s
        case let .subprocess(s): return s
        }
    }

    /// True for the errors that mean "change your --only list".
    public var isInputError: Bool {
        switch self {
        case .unknownFigure, .selection: return true
        case .subprocess: return false
        }
    }
}

/// Selection, building and atomic writing of the figure folders.
public enum FigureCatalog {
    public static let all = ["a", "b", "c", "d", "e", "f", "g", "h", "p", "q"]
    public static let folders = ["a": "a-fig3-tabular", "b": "b-c1-beta", "c": "c-threshold", "d": "d-rl-duration",
                                 "e": "e-simplex", "f": "f-qwen3-tiny", "g": "g-sampled-fig3", "h": "h-update-bias", "p": "p-pareto",
                                 "q": "q-practical-limits"]

    public static func folderName(_ key: String) -> String { folders[key]! }

    /// The figure keys to build, in order. Default: a–e, g, h, p, q (f only with --include-transformer).
    /// Throws ``FiguresError`` (`.selection`, `.unknownFigure`) naming what to change in `--only`.
    public static func selection(_ only: String?, includeTransformer: Bool) throws -> [String] {
        guard let only else { return ["a", "b", "c", "d", "e", "g", "h", "p", "q"] + (includeTransformer ? ["f"] : []) }
        var keys: [String] = []
        let items = only.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if items.count > 1, items.contains(where: \.isEmpty) {
            throw FiguresError.selection("--only '\(only)' has an empty item (a stray comma?); give letters such as a,b")
        }
        for raw in items where !raw.isEmpty {
            guard let k = all.first(where: { $0 == raw || folders[$0] == raw }) else { throw FiguresError.unknownFigure(raw) }
            if k == "f" && !includeTransformer { throw FiguresError.selection("figure f runs `sftrl train`: add --include-transformer") }
            if !keys.contains(k) { keys.append(k) }
        }
        if includeTransformer && !keys.contains("f") { keys.append("f") }
        guard !keys.isEmpty else { throw FiguresError.selection("--only is empty; give letters such as a,b") }
        return keys.sorted()
    }

    /// Builds one figure folder. `executable` is the sftrl binary figure f runs as a subprocess
    /// (default: this process's executable).
    public static func build(_ key: String, quick: Bool, executable: String? = nil) throws -> FigureFolder {
        switch key {
        case "a": return try FigureTabularFig3.build(quick: quick)
        case "b": return try FigureC1.build(quick: quick)
        case "c": return try FigureThreshold.build(quick: quick)
        case "d": return try FigureDuration.build(quick: quick)
        case "e": return try FigureSimplex.build(quick: quick)
        case "f": return try FigureTransformer.build(quick: quick, executable: executable)
        case "g": return try FigureSampledFig3.build(quick: quick)
        case "h": return try FigureUpdateBias.build(quick: quick)
        case "p": return try FigurePareto.build(quick: quick)
        case "q": return try FigurePracticalLimits.build(quick: quick)
        default: throw FiguresError.unknownFigure(key)
        }
    }

    /// Writes the folder atomically: every file into a fresh temporary folder beside the target,
    /// then the old folder (if any) is renamed away, the new one renamed into place and the old
    /// one removed. A failure before the swap leaves the old folder untouched and no temporary.
    public static func write(_ folder: FigureFolder, into out: URL) throws {
        try replaceFolderAtomically(at: out.appendingPathComponent(folder.name)) { tmp in
            for (name, data) in folder.files {
                let url = tmp.appendingPathComponent(name)
                try ensureDirectory(url.deletingLastPathComponent())
                try writeAtomically(data, to: url)
            }
            try writeAtomically(encodeJSON(folder.manifest()), to: tmp.appendingPathComponent("manifest.json"))
        }
    }
}
