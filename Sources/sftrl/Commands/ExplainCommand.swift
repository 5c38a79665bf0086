import ArgumentParser
import Foundation
import Figures
import Linalg
import Policies
import Claims
import Reports

/// `sftrl explain ID`: one claim of the paper, side by side with its proof page and a live check.
///
/// Prints the statement, the reference, the hypotheses (names as `check --drop` takes them), the
/// verdict of a quick check (`Runner.check`, `--instances` instances, `--seed`), then evaluates
/// the claim on one small worked example and prints the instance and every margin and quantity in
/// Double and in extended precision. The worked example is the quick check's shrunk
/// counterexample when the claim fails; otherwise the claim's own worked example (`Claim.workedExample`);
/// otherwise the smallest of the first 64 generated instances that meet the hypotheses.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain one claim: statement, hypotheses, quick-check verdict and a worked example with every margin.",
        discussion: """
        `sftrl explain --list` lists the claim ids. `sftrl explain thm3.1` prints the claim, its
        hypotheses, the verdict of a quick check (the same as `sftrl check --claim ID --instances
        200 --seed 1`) and one worked example evaluated live: the instance and every intermediate
        quantity, hypothesis margin and the conclusion margin, in Double and in extended precision
        (Float80). The proof of each claim is the page proofs/<id>.md.

        Exit status: 0 done, 2 unknown id or bad arguments.
        """)

    @Argument(help: "The claim id (see --list).")
    var id: String?

    @Flag(help: "List the claim ids with their references and hypotheses.")
    var list = false

    @Flag(help: "Machine-readable output (JSON on stdout).")
    var json = false

    @Option(help: "Instances of the quick check that must meet the hypotheses.")
    var instances: Int = 200

    @Option(help: "Seed of the quick check and of a generated worked example.")
    var seed: UInt64 = 1

    @Flag(help: "Skip the quick check (the worked example is then never a counterexample found by it).")
    var noCheck = false

    func validate() throws {
        if list { return }
        try Bounds.check("--instances", instances, Bounds.steps)
        guard let id else { throw ValidationError("give a claim id, or --list for the ids; known ids: \(Registry.ids.joined(separator: ", "))") }
        guard Registry.ids.contains(id) else {
            throw ValidationError("unknown claim id \"\(id)\"; known ids: \(Registry.ids.joined(separator: ", "))")
        }
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1, got \(instances)") }
        try validating { try SizeLimits.checkCount(instances, option: "--instances", bytesEach: 4096, what: "evaluated instances", hint: "; lower it") }
    }

    func run() throws {
        if list {
            print(json ? String(decoding: try encodeJSON(Explain.listing()), as: UTF8.self) : Explain.listText(), terminator: json ? "" : "\n")
            return
        }
        BLASThreads.set(1)
        let report = try Explain.report(id: id!, instances: instances, seed: seed, check: !noCheck)
        if json {
            print(String(decoding: try encodeJSON(report), as: UTF8.self), terminator: "")
        } else {
            print(Explain.text(report))
        }
    }
}
