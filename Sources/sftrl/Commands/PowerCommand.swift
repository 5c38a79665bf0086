import ArgumentParser
import Foundation
import Claims
import Reports
import Search

/// `sftrl power`: how strong each verdict is: every claim's false near-variants ("mutants") run
/// through the default check and search.
struct PowerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "power",
        abstract: "Measure each verdict's power: run the default check, then the default search, on every claim's false near-variants (mutants).",
        discussion: """
        Each claim registers at least one mutant whose falsity is known by proof (a constant tightened \
        by 1e-3 where the inequality is sharp, an identity perturbed by 1e-3, a margin required to \
        exceed 1e-3 of its scale, a needed hypothesis dropped). Per mutant: expected verdict (fails), \
        verdict, what caught it (check or search), instances and seconds to the first certified catch. \
        The check phase walks the default check's instances (seed 1, up to 1000 meeting the \
        hypotheses) in order and stops at the first certified violation; the search phase runs only \
        when the check misses. See docs/power.md. Exit status 1 when a mutant is missed. Exit status 2 on bad input.
        """)

    @Option(name: .customLong("claim"), help: "A claim id (repeatable; default: every claim).")
    var claims: [String] = []

    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    @Option(help: "Write the table as a Markdown page to this file (docs/power.md is made this way).")
    var markdown: String?

    @Option(help: "Cap each mutant's search phase at this many seconds (default: the search's own default, 50).")
    var searchSeconds: Double?

    func validate() throws {
        for c in claims where !Registry.ids.contains(c) { throw ValidationError("--claim \(c): unknown claim id; run `sftrl explain --list` for the ids") }
        if let s = searchSeconds, !(s > 0 && s <= 3600) { throw ValidationError("--search-seconds must be in (0, 3600], got \(s)") }
        if let json { try validating { try OutputPaths.checkFile(json, option: "--json") } }
        if let markdown { try validating { try OutputPaths.checkFile(markdown, option: "--markdown") } }
    }

    func run() throws {
        let report = try Power.run(claims: claims, searchSeconds: searchSeconds) { id in
            FileHandle.standardError.write(Data("power: \(id)\n".utf8))
        }
        if let json { try writeJSON(report, to: URL(fileURLWithPath: json)) }
        if let markdown {
            let command = (["sftrl power"] + claims.flatMap { ["--claim", $0] } + ["--markdown", "docs/power.md"]).joined(separator: " ")
            try writeAtomically(Power.markdown(report, command: command), to: URL(fileURLWithPath: markdown))
        }
        print(Power.table(report))
        if report.claims.contains(where: { $0.mutants.contains { $0.verdict != $0.expected } }) { throw ExitCode(1) }
    }
}
