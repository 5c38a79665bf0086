import Flows
import Foundation
import Policies
import Reports

/// The files of `sftrl pareto` and figure p laid out from a computed ``ParetoStudy``: the front,
/// paths and summary tables, the (L_SFT, J_β) figure, the manifest's fields and stdout's summary.
extension ParetoStudy {
    public func frontTable() -> CSVTable {
        var t = CSVTable(columns: ["mu", "sft_loss", "reward", "reward_reg"])
        for p in front { t.append([.double(p.mu), .double(p.sftLoss), .double(p.reward), .double(p.rewardReg)]) }
        return t
    }

    public func pathsTable() -> CSVTable {
        var t = CSVTable(columns: ["path", "schedule", "t", "phase", "sft_loss", "reward", "reward_reg", "distance", "reward_gap", "sft_gap"])
        for p in paths {
            for r in p.rows {
                t.append([.string(p.name), .string(p.spec), .double(r.t), .string(r.phase), .double(r.sftLoss), .double(r.reward),
                          .double(r.rewardReg), .double(r.distance), .double(r.rewardGap), .double(r.sftGap)])
            }
        }
        return t
    }

    /// Per path: where it ends and where it comes closest to the front.
    public func summaryTable() -> CSVTable {
        var t = CSVTable(columns: ["path", "schedule", "final_sft_loss", "final_reward_reg", "final_distance", "final_reward_gap",
                                   "final_sft_gap", "closest_t", "closest_distance"])
        for p in paths {
            let f = p.final, c = p.closest
            t.append([.string(p.name), .string(p.spec), .double(f.sftLoss), .double(f.rewardReg), .double(f.distance),
                      .double(f.rewardGap), .double(f.sftGap), .double(c.t), .double(c.distance)])
        }
        return t
    }

    /// Per practical method (`--method`): its limit (``ParetoMethodLimit``) against the front.
    public func limitsTable() -> CSVTable {
        var t = CSVTable(columns: ["method", "source", "converged", "sft_loss", "reward", "reward_reg", "distance", "reward_gap", "sft_gap",
                                   "residual", "boundary"])
        for l in limits {
            t.append([.string(l.name), .string(l.fixedPoint.source), .string(l.fixedPoint.converged ? "true" : "false"), .double(l.sftLoss),
                      .double(l.reward), .double(l.rewardReg), .double(l.distance), .double(l.rewardGap), .double(l.sftGap),
                      .double(l.fixedPoint.residual), .int(l.fixedPoint.boundary.count)])
        }
        return t
    }

    /// The front (thick line, ends marked) in the (L_SFT, J_β) plane with every path on it.
    public func figure(title: String? = nil) -> LinePlot {
        let local = plan.instance.policy.name == "loglinear" ? " (local front)" : ""
        var plot = LinePlot(title: title ?? "Pareto front of (L_SFT, J_β) on \(plan.name)\(local), with the pipelines",
                            xLabel: "SFT loss L_SFT", yLabel: "regularised reward J_β")
        plot.series.append(PlotSeries(name: "front (μ·L_SFT − (1−μ)·J_β minimisers)", xs: front.map(\.sftLoss), ys: front.map(\.rewardReg),
                                      color: "#000000", lineWidth: 3))
        for (k, p) in paths.enumerated() {
            let dashed = p.name.hasPrefix("mix")
            plot.series.append(PlotSeries(name: p.name, xs: p.rows.map(\.sftLoss), ys: p.rows.map(\.rewardReg),
                                          color: Palette.color(k), dashed: dashed))
            plot.series.append(.scatter(name: "", xs: [p.final.sftLoss], ys: [p.final.rewardReg], color: Palette.color(k)))
        }
        if let s = paths.first?.rows.first {
            plot.series.append(.scatter(name: "start θ₀", xs: [s.sftLoss], ys: [s.rewardReg], color: "#444444", marker: .square))
        }
        // Each method's limit, where its SFT loss is finite (a limit that drops a data response has
        // L_SFT = ∞: its path shows where it heads; limits.csv has its reward gap).
        for l in limits where l.sftLoss.isFinite {
            let k = paths.firstIndex { $0.name == "method-\(l.name)" } ?? 0
            plot.series.append(.scatter(name: "\(l.name) limit", xs: [l.sftLoss], ys: [l.rewardReg], color: Palette.color(k), marker: .diamond))
        }
        plot.legend = .bottomRight
        return plot
    }

    public func manifestExtra() -> [String: ReportJSON] {
        var pathsJSON: [ReportJSON] = []
        for p in paths {
            pathsJSON.append(.object(["name": .string(p.name), "schedule": .string(p.spec),
                                      "final_distance": .number(p.final.distance), "final_reward_gap": .number(p.final.rewardGap),
                                      "final_sft_gap": .number(p.final.sftGap), "closest_distance": .number(p.closest.distance),
                                      "closest_t": .number(p.closest.t)]))
        }
        return [
            "front": .object(["points": .integer(plan.mus.count), "mu": "k/(N+1), k = 1..N, plus the ends mu = 1 and (beta > 0) mu = 0",
                              "method": .string(plan.instance.policy.name == "tabular"
                                  ? "exact: per prompt a monotone root-find for the KKT multiplier (strictly convex in p)"
                                  : plan.instance.policy.name == "autoregressive"
                                  ? "exact: the front of the instance's sequences as a tabular instance (the autoregressive class is realisable)"
                                  : "Newton continuation in theta from the SFT optimum (a local front)")]),
            "integrator": .object(["stepper": .string(plan.options.stepper.rawValue), "rtol": .number(plan.options.rtol),
                                   "atol": .number(plan.options.atol), "samples": .integer(plan.samples)]),
            "paths": .array(pathsJSON),
            "method_limits": .array(limits.map { l in
                func num(_ x: Double) -> ReportJSON { x.isFinite ? .number(x) : .string(x > 0 ? "inf" : "nan") }
                return .object(["method": .string(l.name), "source": .string(l.fixedPoint.source), "converged": .bool(l.fixedPoint.converged),
                                "sft_loss": num(l.sftLoss), "reward_reg": num(l.rewardReg), "reward_gap": num(l.rewardGap), "sft_gap": num(l.sftGap)])
            }),
            "distances": "distance: Euclidean distance in the (sft_loss, reward_reg) plane to the front polyline; reward_gap: front J_beta at the same sft_loss minus the path's; sft_gap: the path's sft_loss minus the front's at the same J_beta (docs/pareto.md)",
            "files": ["front.csv", "paths.csv", "summary.csv", "pareto.svg", "manifest.json"],
        ]
    }

    public func summaryText(out: String) -> String {
        func f(_ x: Double) -> String { formatSignificant(x, digits: 4) }
        var lines = ["wrote \(out)/front.csv (\(front.count) points), \(out)/paths.csv, \(out)/summary.csv, \(out)/pareto.svg, \(out)/manifest.json"]
        for p in paths {
            lines.append("\(p.name) (\(p.spec)): ends at distance \(f(p.final.distance)) (reward gap \(f(p.final.rewardGap)), "
                         + "SFT gap \(f(p.final.sftGap))); closest \(f(p.closest.distance)) at t = \(f(p.closest.t))")
        }
        for l in limits {
            lines.append("\(l.name) limit (\(l.fixedPoint.source)\(l.fixedPoint.converged ? "" : ", not converged")): L_SFT \(f(l.sftLoss)), J_β \(f(l.rewardReg)); "
                         + "reward gap \(f(l.rewardGap)), SFT gap \(f(l.sftGap))")
        }
        return lines.joined(separator: "\n")
    }
}

extension ParetoStudy {
    /// Writes `sftrl pareto`'s folder, all five files together (`replaceFilesAtomically`):
    /// front.csv, paths.csv, summary.csv, pareto.svg and manifest.json (command, version, commit,
    /// the instance's path, canonical hash, policy and β, the study's settings, wall time).
    public func writeFolder(plan p: Plan, instancePath: String, out dir: URL, started: Date) throws {
        var extra = manifestExtra()
        extra["instance"] = .object(["path": .string(instancePath), "sha256_canonical_json": .string(canonicalJSONHash(p.file)),
                                     "policy": .string(p.instance.policy.name), "beta": .number(p.instance.beta)])
        let manifest = Manifest(command: CommandLine.arguments, version: sftrlVersion, extra: extra,
                                timing: .init(started: started, wallSeconds: Date().timeIntervalSince(started)))
        let files: [(name: String, data: Data)] = [
            ("front.csv", Data(frontTable().render().utf8)), ("paths.csv", Data(pathsTable().render().utf8)),
            ("summary.csv", Data(summaryTable().render().utf8)), ("pareto.svg", Data(figure().render().utf8)),
            ("manifest.json", try encodeJSON(manifest)),
        ] + (limits.isEmpty ? [] : [("limits.csv", Data(limitsTable().render().utf8))])
        try replaceFilesAtomically(in: dir, files)
    }
}

extension ParetoStudy {
    /// A failed path's message in this command's options: the integrator's own advice names
    /// flow's --max-steps and --stepper, which pareto does not have (it runs rk8pd with the default
    /// step limit).
    public static func describe(_ error: Error) -> String {
        guard case let FlowError.integration(phase, label, start, end, inner) = error else { return "\(error)" }
        let at = "phase \(phase + 1) (\(label), t from \(formatSignificant(start, digits: 6)) to \(formatSignificant(end, digits: 6)))"
        switch inner {
        case let .tooManySteps(t, limit):
            return "\(at): the integrator took its limit of \(limit) steps at t = \(t); shorten --duration (or the --schedule phases) or loosen --rtol/--atol"
        case let .noProgress(t, _):
            return "\(at): the integrator made no progress at t = \(t); shorten --duration (or the --schedule phases) or loosen --rtol/--atol"
        default:
            return "\(error)"
        }
    }
}
