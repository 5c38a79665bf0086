import Foundation
import Claims
import Search
import Reports

/// The views of `sftrl search` and of a merged search report: the console table with one row per
/// search (claim × dropped set), the tightness and counterexample notes under it, and the file
/// name of a counterexample written by `--out-dir`.
public enum SearchTable {
    /// ID.json, or ID--drop-NAME.json per dropped hypothesis (names made file-safe: "β > 0" → "beta-gt-0").
    public static func fileName(claim: String, dropped: [String]) -> String {
        func safe(_ s: String) -> String {
            s.replacingOccurrences(of: "β", with: "beta").replacingOccurrences(of: ">", with: "gt").replacingOccurrences(of: " ", with: "-")
        }
        return claim + dropped.map { "--drop-" + safe($0) }.joined() + ".json"
    }

    public static func render(_ results: [SearchResult], times: [Double]) -> String {
        var t = ConsoleTable(columns: ["claim", "dropped", "verdict", "best", "extended", "size", "certified", "evals", "time"],
                             alignments: [.left, .left, .left, .right, .right, .left, .left, .right, .right])
        for (i, r) in results.enumerated() {
            let shown = r.counterexample ?? r.best
            let value: String, extended: String
            switch r.mode {
            case .violation:
                value = shown.map { "margin " + formatSignificant($0.evaluation.conclusion, digits: 4) } ?? "—"
                extended = shown.map { formatSignificant($0.extended.conclusion, digits: 4) } ?? "—"
            case .tightness:
                value = r.best?.ratio.map { "ratio " + formatSignificant($0, digits: 8) } ?? "—"
                extended = r.best?.ratioExtended.map { formatSignificant($0, digits: 8) } ?? "—"
            }
            t.append([r.claim, r.dropped.isEmpty ? "—" : r.dropped.joined(separator: ", "), r.verdict, value, extended, shown?.size ?? "—",
                      r.counterexample != nil ? (r.counterexample!.shrunk ? "yes, shrunk" : "yes") : "no",
                      "\(r.evaluations)" + (r.stoppedBy == "seconds" ? " (clock)" : ""), formatDuration(times[i])])
        }
        var out = t.render()
        for r in results {
            if let s = r.tightness {
                var found = s.supremumFound.map { formatSignificant($0, digits: 10) } ?? "—"
                if s.aboveKnownSupremum == "round-off", let raw = s.roundoffRatio {
                    found += " (to round-off: the best ratio \(formatSignificant(raw, digits: 12)) exceeds the proven bound only by rounding; its violation is not certified)"
                } else if s.aboveKnownSupremum == "certified violation" {
                    found += " (ABOVE the known supremum, and certified: the inequality fails)"
                }
                out += "\n\(r.claim): \(s.measure): supremum found \(found), known \(s.knownSupremum.map { formatSignificant($0, digits: 4) + (s.attained ? " (attained)" : " (not attained: a limit)") } ?? "unbounded"). \(s.note)"
            }
            guard let cx = r.counterexample else { continue }
            out += "\n\(r.claim)\(r.dropped.isEmpty ? "" : " without " + r.dropped.joined(separator: ", ")): certified counterexample, conclusion margin \(formatSignificant(cx.evaluation.conclusion, digits: 6)) (extended \(formatSignificant(cx.extended.conclusion, digits: 6)))"
            if r.dropped.isEmpty, let why = Registry.explanation(of: r.claim) { out += "\n  why: \(why)" }
            if let inst = cx.instance.instance {
                for (x, p) in inst.prompts.enumerated() {
                    out += "\n  prompt \(x): weight \(p.weight) data \(p.data) reward \(p.reward)" + (p.start.map { " start \($0)" } ?? "") + (p.reference.map { " reference \($0)" } ?? "")
                }
                out += "\n  beta \(inst.beta)"
                if let f = inst.policy.features { out += "\n  features \(f)" }
                if let th = inst.policy.theta { out += "\n  theta \(th)" }
            }
            if let l = cx.instance.landscape { out += "\n  landscape: diag A \(l.a), diag B \(l.b), theta_R \(l.thetaR), theta_0 \(l.theta0)" }
            if !cx.instance.parameters.isEmpty { out += "\n  parameters " + cx.instance.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        }
        return out
    }
}
