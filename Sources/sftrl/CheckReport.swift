import Foundation
import Claims
import Reports

/// The JSON report of `sftrl check` (and of `sftrl merge`).
struct CheckReport: Codable {
    var seed: UInt64
    var version: String
    var instances: Int
    var shard: String?
    var claims: [ClaimResult]

    /// The console table: id, paper reference, verdict, instances meeting the hypotheses, smallest margin, time.
    static func table(_ results: [ClaimResult], times: [Double]? = nil) -> String {
        var t = ConsoleTable(columns: ["id", "reference", "verdict", "instances", "min margin", "time"],
                             alignments: [.left, .left, .left, .right, .right, .right])
        for (i, r) in results.enumerated() {
            t.append([r.id, r.reference, r.verdict.rawValue, "\(r.instances)",
                      r.minMargin.map { formatMargin($0, digits: 2) } ?? "—",
                      times.map { formatDuration($0[i]) } ?? r.seconds.map(formatDuration) ?? ""])
        }
        var out = t.render()
        for r in results where r.counterexample != nil {
            let cx = r.counterexample!
            out += "\n\(r.id): counterexample (\(cx.shrunk ? "shrunk" : "not shrunk"), certified in extended precision), conclusion margin \(formatMargin(cx.evaluation.conclusion, digits: 3))"
            if let inst = cx.instance.instance {
                for (x, p) in inst.prompts.enumerated() {
                    out += "\n  prompt \(x): data \(p.data) reward \(p.reward)" + (p.start.map { " start \($0)" } ?? "") + (p.reference.map { " reference \($0)" } ?? "")
                }
                out += "\n  beta \(inst.beta)"
            }
            if let l = cx.instance.landscape {
                out += "\n  landscape: diag A \(l.a), diag B \(l.b), theta_R \(l.thetaR), theta_0 \(l.theta0)"
            }
            if !cx.instance.parameters.isEmpty { out += "\n  parameters \(cx.instance.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
        }
        return out
    }

    static func markdown(_ results: [ClaimResult]) -> String {
        var t = MarkdownTable(columns: ["id", "reference", "verdict", "instances", "min margin"], alignments: [.left, .left, .left, .right, .right])
        for r in results {
            t.append([r.id, r.reference, r.verdict.rawValue, "\(r.instances)", r.minMargin.map { formatMargin($0, digits: 2) } ?? "—"])
        }
        return t.render()
    }

    /// Every margin of one evaluation, in Double and extended precision.
    static func marginTable(_ e: Evaluation, extended x: Evaluation) -> String {
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
