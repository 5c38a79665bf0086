import ArgumentParser
import Foundation
import Linalg
import Reports
import Figures

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

    @Option(help: "Comma-separated figures to regenerate (letters a–h, p, q or folder names); default a,b,c,d,e,g,h,p,q.")
    var only: String?

    @Flag(help: "Coarser grids and fewer samples (seconds; for development, not for the committed data).")
    var quick = false

    @Flag(help: "Also run `sftrl train` (both pipelines, tiny preset) and copy its metrics.csv and SVGs into f-qwen3-tiny/.")
    var includeTransformer = false

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    func validate() throws {
        try validating { try OutputPaths.checkFolder(out, option: "--out") }
        do { _ = try FigureCatalog.selection(only, includeTransformer: includeTransformer) } catch let e as FiguresError {
            throw ValidationError(e.description)
        }
        if includeTransformer && !SFTRL.configuration.subcommands.contains(where: { $0.configuration.commandName == "train" }) {
            throw ValidationError("--include-transformer needs the `sftrl train` command, which this build does not have (figure f is written by it)")
        }
    }

    func run() throws {
        BLASThreads.set(1)
        let keys = try FigureCatalog.selection(only, includeTransformer: includeTransformer)
        let progress = ProgressReporter(total: keys.count, label: "figures", quiet: quiet)
        var written: [String] = []
        for key in keys {
            progress.setStatus("\(key): \(FigureCatalog.folderName(key))")
            let folder = try FigureCatalog.build(key, quick: quick)
            try FigureCatalog.write(folder, into: URL(fileURLWithPath: out))
            written.append("\(out)/\(folder.name)/ (\(folder.files.map(\.name).joined(separator: ", ")))")
            progress.advance(status: "\(key) done")
        }
        progress.finish()
        for w in written { print("wrote \(w)") }
    }
}
