import ArgumentParser
import Foundation
import Reports
import Verified

/// `sftrl verify`: prove a closed-form claim on a whole box of small instances (interval
/// arithmetic with outward rounding, branch-and-bound).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove a closed-form claim on a box of small instances by interval arithmetic and branch-and-bound.",
        discussion: """
        Status verified (every sub-box's margin enclosure is >= 0, or > 0 for a strict claim; the \
        number of boxes and the smallest certified margin are printed), counterexample (a point \
        certified by the claim's own extended-precision re-check) or undecided (unresolved sub-boxes). \
        Claims: \(VerifiedClaims.supported.joined(separator: ", ")). Box keys for --box: delta \
        (every probability >= delta, default 0.05), reward=lo:hi (default -1:1), beta=lo:hi \
        (default 0.5:2), sep (distance from p = q, read per claim, default 0.05), gap (pairwise reward gap, \
        default 0.1); a claim uses the keys its box names. See docs/verify.md. Exit status 1 when \
        the status is counterexample. Exit status 2 on bad input.
        """)

    @Option(help: "The claim id (e.g. eq6-pinsker).")
    var claim: String

    @Option(help: "Responses per instance: 2 or 3 (default 3).")
    var responses: Int = 3

    @Option(help: "Box overrides, e.g. delta=0.1,reward=0:1,beta=0.5:2,sep=0.05,gap=0.1 (default: the claim's box).")
    var box: String?

    @Option(help: "Sub-boxes to examine before giving up (default 2000000).")
    var maxBoxes: Int = 2_000_000

    @Option(help: "Write the result as JSON to this file.")
    var json: String?

    func validate() throws {
        guard (2...3).contains(responses) else { throw ValidationError("--responses must be 2 or 3, got \(responses)") }
        guard (1...50_000_000).contains(maxBoxes) else { throw ValidationError("--max-boxes must be in 1...50000000, got \(maxBoxes)") }
        if let json { try validating { try OutputPaths.checkFile(json, option: "--json") } }
    }

    func run() throws {
        let result: VerifyResult
        do {
            let domain = try VerifiedClaims.defaultDomain(claim, responses: responses).applying(box ?? "")
            result = try VerifiedClaims.verify(claim, domain: domain, maxBoxes: maxBoxes)
        } catch let e as VerifyError { throw ValidationError(e.description) }
        let report = VerifyReport(result)
        if let json { try writeJSON(report, to: URL(fileURLWithPath: json)) }
        print(report.line)
        print("  margin: \(report.margin)")
        for b in report.undecided.prefix(5) { print("  undecided: " + b.map { "\($0.name) ∈ [\($0.lo), \($0.hi)]" }.joined(separator: ", ")) }
        if result.status == .counterexample { throw ExitCode(1) }
    }
}
