import Foundation
import Claims
import Reports

/// The JSON report of `sftrl check` (and of `sftrl merge`), and its views: the console table,
/// the Markdown table and the margin table of a replay. The schema's field names are the JSON keys.
public struct CheckReport: Codable {
    public var seed: UInt64
    public var version: String
    /// The git commit of the checkout that wrote the report (absent when unknown).
    public var commit: String?
    public var instances: Int
    public var shard: String?
    public var claims: [ClaimResult]

    public init(seed: UInt64, version: String, commit: String? = sftrlCommit, instances: Int, shard: String?, claims: [ClaimResult]) {
        self.seed = seed; self.version = version; self.commit = commit; self.instances = instances; self.shard = shard; self.claims = claims
    }

    /// The margin cell of a verdict row, read without the code: a failure shows the certified
    /// (extended-precision) conclusion margin of its counterexample; a holding claim the smallest
    /// conclusion margin over its instances, marked "round-off" when it is negative (a violation in
    /// Double whose sign did not survive the re-check; counted in the roundoff column).
    public static func marginCell(_ r: ClaimResult) -> String {
        switch r.verdict {
        case .fails:
            guard let cx = r.counterexample else { return "—" }
            return cx.extended.conclusion == 0 ? "0 (certified exact tie)" : formatMargin(cx.extended.conclusion, digits: 2) + " (certified)"
        case .holds:
            guard let m = r.minMargin else { return "—" }
            return m < 0 ? formatMargin(m, digits: 2) + " (round-off)" : formatMargin(m, digits: 2) + " (smallest)"
        case .vacuous: return "—"
        }
    }

    /// Printed under the table: what each column means.
    public static let legend = """
        verdict: holds = every instance meeting the hypotheses met the conclusion; fails = a counterexample certified by a re-check \
        (Float80 for formula claims, tighter integration tolerances for flow claims, a stated round-off allowance for the \
        Double-only r5-spectral and grpo-ascent-*; margin below −1e-12, or an exact tie for a strict claim); \
        vacuous = no instance met the hypotheses.
        margin: > 0 holds, < 0 violated, on the claim's natural scale. For fails, the certified margin of the (shrunk) counterexample; \
        for holds, the smallest margin met, "(round-off)" when it is a negative Double margin that the re-check did not certify.
        roundoff: Double violations not certified (round-off, never evidence either way); errors: instances whose evaluation failed.
        """

    /// The console table: id, paper reference, verdict, instances meeting the hypotheses, the margin
    /// (see `marginCell`), round-off and error counts, time.
    public static func table(_ results: [ClaimResult], times: [Double]? = nil) -> String {
        var t = ConsoleTable(columns: ["id", "reference", "verdict", "instances", "margin", "roundoff", "errors", "time"],
                             alignments: [.left, .left, .left, .right, .right, .right, .right, .right])
        for (i, r) in results.enumerated() {
            t.append([r.id, r.reference, r.verdict.rawValue, "\(r.instances)", marginCell(r), "\(r.roundoff)", "\(r.errors)",
                      times.map { formatDuration($0[i]) } ?? r.seconds.map(formatDuration) ?? ""])
        }
        var out = t.render() + "\n" + legend
        for r in results where r.counterexample != nil {
            let cx = r.counterexample!
            out += "\n\(r.id): counterexample (\(cx.shrunk ? "shrunk" : "not shrunk"), certified in extended precision)\(cx.dropped.map { " found with --drop " + $0.joined(separator: ", ") } ?? ""), conclusion margin \(formatMargin(cx.evaluation.conclusion, digits: 3)) (extended \(formatMargin(cx.extended.conclusion, digits: 3)))"
            if let why = Registry.explanation(of: r.id) { out += "\n  why: \(why)" }
            if let inst = cx.instance.instance {
                for (x, p) in inst.prompts.enumerated() {
                    out += "\n  prompt \(x): data \(p.data) reward \(p.reward)" + (p.start.map { " start \($0)" } ?? "") + (p.reference.map { " reference \($0)" } ?? "")
                        + (p.base.map { " base \($0)" } ?? "")
                }
                out += "\n  beta \(inst.beta)"
                if let f = inst.policy.features { out += "\n  policy \(inst.policy.kind), features \(f)" + (inst.policy.theta.map { ", theta \($0)" } ?? "") }
            }
            if let l = cx.instance.landscape {
                out += "\n  landscape: diag A \(l.a), diag B \(l.b), theta_R \(l.thetaR), theta_0 \(l.theta0)"
            }
            if !cx.instance.parameters.isEmpty { out += "\n  parameters \(cx.instance.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
        }
        return out
    }

    public static func markdown(_ results: [ClaimResult]) -> String {
        var t = MarkdownTable(columns: ["id", "reference", "verdict", "instances", "margin", "roundoff", "errors"],
                              alignments: [.left, .left, .left, .right, .right, .right, .right])
        for r in results {
            t.append([r.id, r.reference, r.verdict.rawValue, "\(r.instances)", marginCell(r), "\(r.roundoff)", "\(r.errors)"])
        }
        return t.render() + "\n" + legend.split(separator: "\n").map { "- " + $0 }.joined(separator: "\n") + "\n"
    }

    /// Every margin of one evaluation, in Double and extended precision.
    public static func marginTable(_ e: Evaluation, extended x: Evaluation) -> String {
        var t = ConsoleTable(columns: ["margin", "double", "extended"], alignments: [.left, .right, .right])
        for (k, v) in e.hypotheses.sorted(by: { $0.key < $1.key }) {
            t.append(["hypothesis \(k)", formatSignificant(v, digits: 6), x.hypotheses[k].map { formatSignificant($0, digits: 6) } ?? "—"])
        }
        t.append(["conclusion", formatSignificant(e.conclusion, digits: 6), formatSignificant(x.conclusion, digits: 6)])
        for (k, v) in e.quantities.sorted(by: { $0.key < $1.key }) {
            t.append([k, formatSignificant(v, digits: 10), x.quantities[k].map { formatSignificant($0, digits: 10) } ?? "—"])
        }
        return t.render()
    }
}
