import ArgumentParser
import Foundation
import Linalg
import Reports
#if canImport(Glibc)
import Glibc
#endif

/// `sftrl figures`: regenerates notebooks-data, one folder per figure, deterministically.
struct FiguresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figures",
        abstract: "Regenerate the data and SVG figures of notebooks-data (one folder per figure, with a manifest).",
        discussion: """
        Figures: a (Fig. 3a/3b replayed on exact tabular flows), b (C₁(β) of Thm 3.1), c (the
        non-decoupling threshold β* of R4), d (optimal RL duration T* against λ, R3), e (the SFT
        and RL flows on the 3-response simplex), f (the tiny-Qwen3 pipelines of `sftrl train`, only
        with --include-transformer), g (Fig. 3a/3b with sampled GRPO and minibatch SFT, mean and
        10%/90% band over 64 seeds beside the exact steps), h (the exact bias of the expected GRPO
        update against the group size G, per advantage scaling), p (the Pareto front of (L_SFT, J_β)
        with the SFT/RL pipelines on it, `sftrl pareto`). Each folder holds manifest.json (the command that regenerates
        it, seed, version; no timestamps), tidy CSV files and SVG figures, and is written whole or
        not at all (a temporary folder renamed into place). Same version, same bytes.
        notebooks-data/README.md (hand-written) describes every file's columns.
        """)

    @Option(help: "Output folder.")
    var out: String = "notebooks-data"

    @Option(help: "Comma-separated figures to regenerate (letters a–h, p or folder names); default a,b,c,d,e,g,h,p.")
    var only: String?

    @Flag(help: "Coarser grids and fewer samples (seconds; for development, not for the committed data).")
    var quick = false

    @Flag(help: "Also run `sftrl train` (both pipelines, tiny preset) and copy its metrics.csv and SVGs into f-qwen3-tiny/.")
    var includeTransformer = false

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    func validate() throws {
        try OutputPaths.checkFolder(out, option: "--out")
        _ = try Figures.selection(only, includeTransformer: includeTransformer)
        if includeTransformer && !FigureTransformer.trainAvailable {
            throw ValidationError("--include-transformer needs the `sftrl train` command, which this build does not have (figure f is written by it)")
        }
    }

    func run() throws {
        BLASThreads.set(1)
        let keys = try Figures.selection(only, includeTransformer: includeTransformer)
        let progress = ProgressReporter(total: keys.count, label: "figures", quiet: quiet)
        var written: [String] = []
        for key in keys {
            progress.setStatus("\(key): \(Figures.folderName(key))")
            let folder = try Figures.build(key, quick: quick)
            try Figures.write(folder, into: URL(fileURLWithPath: out))
            written.append("\(out)/\(folder.name)/ (\(folder.files.map(\.name).joined(separator: ", ")))")
            progress.advance(status: "\(key) done")
        }
        progress.finish()
        for w in written { print("wrote \(w)") }
    }
}

/// One generated folder: its files (name, bytes) and the manifest's content.
struct FigureFolder {
    var key: String
    var name: String
    var files: [(name: String, data: Data)]
    var seed: UInt64?
    var extra: [String: JSONValue]
    var quick: Bool

    mutating func add(_ name: String, _ text: String) { files.append((name, Data(text.utf8))) }
    mutating func add(_ name: String, _ data: Data) { files.append((name, data)) }

    /// The command that regenerates exactly this folder (run from the repository root).
    var command: [String] { ["sftrl", "figures", "--only", key] + (quick ? ["--quick"] : []) + (key == "f" ? ["--include-transformer"] : []) }

    func manifest() -> Manifest {
        var e = extra
        e["files"] = .array((files.map(\.name) + ["manifest.json"]).sorted().map { .string($0) })
        e["quick"] = .bool(quick)
        return Manifest(command: command, version: sftrlVersion, seed: seed, extra: e)
    }
}

enum FiguresError: Error, CustomStringConvertible {
    case unknownFigure(String)
    case transformerUnavailable
    case subprocess(String)

    var description: String {
        switch self {
        case let .unknownFigure(s): return "unknown figure \"\(s)\"; use letters a–h or the folder names \(Figures.all.map { Figures.folderName($0) }.joined(separator: ", "))"
        case .transformerUnavailable: return "figure f needs the `sftrl train` command, which this build does not have"
        case let .subprocess(s): return s
        }
    }
}

/// Selection, building and atomic writing of the figure folders.
enum Figures {
    static let all = ["a", "b", "c", "d", "e", "f", "g", "h", "p"]
    static let folders = ["a": "a-fig3-tabular", "b": "b-c1-beta", "c": "c-threshold", "d": "d-rl-duration",
                          "e": "e-simplex", "f": "f-qwen3-tiny", "g": "g-sampled-fig3", "h": "h-update-bias", "p": "p-pareto"]

    static func folderName(_ key: String) -> String { folders[key]! }

    /// The figure keys to build, in order. Default: a–e, g, h, p (f only with --include-transformer).
    static func selection(_ only: String?, includeTransformer: Bool) throws -> [String] {
        guard let only else { return ["a", "b", "c", "d", "e", "g", "h", "p"] + (includeTransformer ? ["f"] : []) }
        var keys: [String] = []
        let items = only.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if items.count > 1, items.contains(where: \.isEmpty) {
            throw ValidationError("--only '\(only)' has an empty item (a stray comma?); give letters such as a,b")
        }
        for raw in items where !raw.isEmpty {
            guard let k = all.first(where: { $0 == raw || folders[$0] == raw }) else { throw ValidationError(FiguresError.unknownFigure(raw).description) }
            if k == "f" && !includeTransformer { throw ValidationError("figure f runs `sftrl train`: add --include-transformer") }
            if !keys.contains(k) { keys.append(k) }
        }
        if includeTransformer && !keys.contains("f") { keys.append("f") }
        guard !keys.isEmpty else { throw ValidationError("--only is empty; give letters such as a,b") }
        return keys.sorted()
    }

    static func build(_ key: String, quick: Bool) throws -> FigureFolder {
        switch key {
        case "a": return try FigureTabularFig3.build(quick: quick)
        case "b": return try FigureC1.build(quick: quick)
        case "c": return try FigureThreshold.build(quick: quick)
        case "d": return try FigureDuration.build(quick: quick)
        case "e": return try FigureSimplex.build(quick: quick)
        case "f": return try FigureTransformer.build(quick: quick)
        case "g": return try FigureSampledFig3.build(quick: quick)
        case "h": return try FigureUpdateBias.build(quick: quick)
        case "p": return try FigurePareto.build(quick: quick)
        default: throw FiguresError.unknownFigure(key)
        }
    }

    /// Writes the folder atomically: every file into a fresh temporary folder beside the target,
    /// then the old folder (if any) is renamed away, the new one renamed into place and the old
    /// one removed. A failure before the swap leaves the old folder untouched and no temporary.
    static func write(_ folder: FigureFolder, into out: URL) throws {
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
