import ArgumentParser
import Foundation
import Figures
import StrictJSON
import Claims
import Search
import Reports

/// `sftrl merge`: combine the JSON reports of shards into the report of the whole run.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the JSON reports of `sftrl check --shard K/N` or `sftrl search --shard K/N` runs into one.",
        discussion: """
        All files must be reports of the same kind (check or search), seed and version, and their \
        shards must be K/N for every K in 0..<N exactly once. Check reports: instances, generated, \
        round-off and errors are summed per claim; the smallest margin is kept with its instance \
        (ties: lowest random index); the counterexample is the one whose random instance had the \
        most negative margin (ties: lowest index); verdicts are recomputed. Search reports: the best \
        finding and counterexample in the unsharded search's order. The merge equals the \
        unsharded run for the same seed (for check: when the generator enforces the hypotheses, so \
        that every shard walks the same instances as the whole run). Exit status 2 on bad input.
        """)

    @Argument(help: "The shard reports (JSON written by --json).")
    var files: [String]

    @Option(help: "Write the merged report to this file (default: print it on stdout).")
    var out: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one report file") }
        if let out {
            try validating { try OutputPaths.checkFile(out, option: "--out") }
            if files.contains(where: { URL(fileURLWithPath: $0).standardizedFileURL == URL(fileURLWithPath: out).standardizedFileURL || OutputPaths.sameFile($0, out) }) {
                throw ValidationError("--out \(out) is one of the reports being merged; write the merged report to another file")
            }
        }
    }

    func run() throws {
        let dec = makeJSONDecoder()
        var checks: [CheckReport] = []
        var searches: [SearchReport] = []
        for path in files {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ValidationError("cannot read \(path): \(PlainError.unreadableFile(path))")
            }
            if let c = try Family.attempt(file: path, { try dec.decode(CheckReport.self, from: data) }) { checks.append(c) } else if let s = try Family.attempt(file: path, { try dec.decode(SearchReport.self, from: data) }) {
                searches.append(s)
            } else {
                throw ValidationError("\(path) is neither a check report nor a search report (JSON written by --json)")
            }
        }
        guard checks.isEmpty || searches.isEmpty else { throw ValidationError("cannot merge check reports with search reports") }
        do {
            if !checks.isEmpty {
                let merged = try CheckReport.merge(checks)
                try emit(merged)
                FileHandle.standardError.write(Data((CheckReport.table(merged.claims) + "\n").utf8))
            } else {
                let merged = try SearchReport.merge(searches)
                try emit(merged)
                FileHandle.standardError.write(Data((SearchTable.render(merged.runs, times: merged.runs.map { $0.seconds ?? 0 }) + "\n").utf8))
            }
        } catch let e as ReportMerge.MergeError {
            throw ValidationError(e.description)
        }
    }

    func emit<T: Encodable>(_ value: T) throws {
        if let out { try writeJSON(value, to: URL(fileURLWithPath: out)) } else {
            FileHandle.standardOutput.write(try encodeJSON(value))
        }
    }
}
