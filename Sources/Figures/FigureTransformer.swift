import Foundation
import Reports

/// Figure f: the tiny-Qwen3 pipelines of `sftrl train` (the transformer path), copied into
/// notebooks-data/f-qwen3-tiny/<pipeline>/.
///
/// The hook runs this same executable as `sftrl train --pipeline P --seed 0 --out TMP --quiet`
/// for P in `pipelines` (defaults of the tiny preset otherwise), then copies every `.csv` and
/// `.svg` file it wrote and its manifest (as `train-manifest.json`; checkpoints are left out). The
/// command layer checks that its build has a `train` subcommand before asking for figure f.
enum FigureTransformer {
    static let pipelines = ["sft-rl", "rl-sft"]
    static let seed: UInt64 = 0

    /// The arguments after the executable for one pipeline (the lead may tune them after merging).
    static func trainArguments(pipeline: String, out: String) -> [String] {
        ["train", "--pipeline", pipeline, "--seed", String(seed), "--out", out, "--quiet"]
    }

    /// `executable`: the sftrl binary to run (default: this process's executable).
    static func build(quick: Bool, executable: String? = nil) throws -> FigureFolder {
        let exe = executable ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("sftrl-figures-f-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: scratch)
        try ensureDirectory(scratch)
        defer { try? fm.removeItem(at: scratch) }
        var folder = FigureFolder(key: "f", name: FigureCatalog.folderName("f"), files: [], seed: seed, extra: [:], quick: quick)
        var commands: [ReportJSON] = []
        for p in pipelines {
            let dir = scratch.appendingPathComponent(p)
            let args = trainArguments(pipeline: p, out: dir.path)
            let proc = Process()
            proc.executableURL = URL(fileURLWithPath: exe)
            proc.arguments = args
            try proc.run()
            proc.waitUntilExit()
            guard proc.terminationStatus == 0 else {
                throw FiguresError.subprocess("sftrl \(args.joined(separator: " ")) exited with status \(proc.terminationStatus)")
            }
            commands.append(.string((["sftrl"] + trainArguments(pipeline: p, out: "OUT")).joined(separator: " ")))
            for name in try fm.contentsOfDirectory(atPath: dir.path).sorted() {
                let src = dir.appendingPathComponent(name)
                if name.hasSuffix(".csv") || name.hasSuffix(".svg") {
                    folder.add("\(p)/\(name)", try Data(contentsOf: src))
                } else if name == "manifest.json" {
                    folder.add("\(p)/train-manifest.json", try Data(contentsOf: src))
                }
            }
        }
        folder.extra = ["description": "The paper's two pipelines on a tiny Qwen3-architecture model (sftrl train): metrics.csv and SVGs per pipeline.",
                        "train_commands": .array(commands)]
        return folder
    }
}
