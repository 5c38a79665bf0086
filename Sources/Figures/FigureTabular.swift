import Foundation
import Policies
import Flows
import Claims
import Reports

/// Figure a: Fig. 3a/3b of the paper replayed on exact tabular gradient flows, and the runs that
/// figure e draws on the simplex.
///
/// The instance: one prompt, three responses. The base model is the uniform policy (the start);
/// the SFT data p_D = (0.5, 0.05, 0.45); the reward r = (0.5, 1, −1) agrees with the data on
/// part of its mass (y₀) and disagrees on the rest (the data puts 45% on y₂, which the reward
/// scores −1, and only 5% on the best response y₁); RL is the KL-regularised flow θ̇ = ∇J_β with
/// β = 0.5 and π_ref = the base model. Both pipelines run 10 time units per phase.
enum FigureTabularFig3 {
    static let third = 1.0 / 3
    static let base = [third, third, 1 - 2 * third]
    static let file = InstanceFile(beta: 0.5, policy: .init(kind: "tabular"), prompts: [
        .init(weight: 1, data: [0.5, 0.05, 0.45], reward: [0.5, 1, -1], reference: base, start: base),
    ])
    static let pipelines = [("sft-then-rl", "sft:10,rl:10"), ("rl-then-sft", "rl:10,sft:10")]

    /// The exact flow of each pipeline (rk8pd, rtol 1e-8), sampled at `samples` times plus the boundary.
    static func runs(quick: Bool) throws -> [(name: String, run: ScheduleRun)] {
        let inst = try Instance(file: file)
        return try pipelines.map { (name, spec) in
            (name, try runFlow(instance: inst, schedule: try Schedule(parsing: spec), samples: quick ? 41 : 201))
        }
    }

    static let quantities: [TraceQuantity] = [.sftLoss, .reward, .rewardReg, .klDataPolicy, .klPolicyRef]

    static func build(quick: Bool) throws -> FigureFolder {
        let inst = try Instance(file: file)
        let runs = try runs(quick: quick)
        let baseValues = TraceValues(inst, at: inst.start)
        var trace = CSVTable(columns: ["pipeline", "t", "phase", "phase_index"] + quantities.map(\.rawValue))
        for (name, run) in runs {
            for row in run.rows {
                trace.append([.string(name), .double(row.t), .string(row.phase), .int(row.phaseIndex + 1)] + quantities.map { .double(row.values[$0]) })
            }
        }
        var markers = CSVTable(columns: ["pipeline", "kind", "quantity", "value"])
        var extra: [String: ReportJSON] = [:]
        for (name, run) in runs {
            markers.append([.string(name), "base", "sft_loss", .double(baseValues[.sftLoss])])
            markers.append([.string(name), "base", "reward", .double(baseValues[.reward])])
            markers.append([.string(name), "boundary", "t", .double(run.schedule.boundaries[1])])
            let last = run.rows.last!.values
            markers.append([.string(name), "final", "sft_loss", .double(last[.sftLoss])])
            markers.append([.string(name), "final", "reward", .double(last[.reward])])
            extra[name] = .object(["schedule": .string(run.schedule.spec), "final_sft_loss": .number(last[.sftLoss]),
                                   "final_reward": .number(last[.reward]), "rows": .integer(run.rows.count)])
        }
        extra["base_sft_loss"] = .number(baseValues[.sftLoss])
        extra["base_reward"] = .number(baseValues[.reward])
        extra["min_sft_loss_entropy_of_data"] = .number(Dist.entropy(inst.data[0]))
        extra["integrator"] = "rk8pd, rtol 1e-8, atol 1e-10 (runFlow defaults)"
        extra["instance"] = "instance.json; regenerate one trace with: sftrl flow --instance notebooks-data/a-fig3-tabular/instance.json --schedule sft:10,rl:10 --out OUT"
        extra["description"] = "Fig. 3a/3b on exact tabular flows: SFT loss through SFT→RL, reward through RL→SFT; base values and phase boundaries marked."

        var folder = FigureFolder(key: "a", name: FigureCatalog.folderName("a"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("trace.csv", trace.render())
        folder.add("markers.csv", markers.render())
        folder.add("instance.json", file.canonicalJSON(pretty: true) + Data("\n".utf8))
        folder.add("fig3a.svg", plot(runs[0].run, main: .sftLoss, other: .reward, base: baseValues,
                                     title: "Fig. 3a, exact flow: SFT loss through SFT → RL").render())
        folder.add("fig3b.svg", plot(runs[1].run, main: .reward, other: .sftLoss, base: baseValues,
                                     title: "Fig. 3b, exact flow: reward through RL → SFT").render())
        return folder
    }

    static func label(_ q: TraceQuantity) -> String { q == .sftLoss ? "SFT loss L_SFT" : "reward J" }

    /// The main quantity on the left axis with its base value, the other one dashed on the right.
    static func plot(_ run: ScheduleRun, main: TraceQuantity, other: TraceQuantity, base: TraceValues, title: String) -> LinePlot {
        var p = LinePlot(title: title, xLabel: "flow time t", yLabel: label(main), y2Label: label(other) + " (dashed)")
        let ts = run.rows.map(\.t)
        p.series.append(PlotSeries(name: label(main), xs: ts, ys: run.rows.map { $0.values[main] }, color: Palette.color(0), lineWidth: 2.4))
        p.series.append(PlotSeries(name: label(other) + " (right axis)", xs: ts, ys: run.rows.map { $0.values[other] },
                                   color: Palette.color(1), dashed: true, axis: .right))
        p.referenceLines.append(ReferenceLine(y: base[main], label: "base model: \(formatSignificant(base[main], digits: 4))", color: Palette.color(0)))
        p.referenceLines.append(ReferenceLine(y: base[other], label: "base: \(formatSignificant(base[other], digits: 4))", axis: .right, color: Palette.color(1)))
        let b = run.schedule.boundaries
        for (k, phase) in run.schedule.phases.enumerated() {
            p.shadedIntervals.append(ShadedInterval(from: b[k], to: b[k + 1], label: phase.kind.label.uppercased() + " phase", opacity: k == 0 ? 0.03 : 0.09))
        }
        p.verticalMarkers.append(VerticalMarker(x: b[1], label: "\(run.schedule.phases[0].kind.label.uppercased()) → \(run.schedule.phases[1].kind.label.uppercased())"))
        p.xRange = 0...run.schedule.totalDuration
        p.legend = main == .sftLoss ? .topLeft : .topRight
        // Head-room above the curves for the legend (the instance is fixed, so are the ranges).
        let loss = 0.6...2.2, reward = -0.4...1.2
        p.yRange = main == .sftLoss ? loss : reward
        p.y2Range = main == .sftLoss ? reward : loss
        return p
    }
}

/// Figure e: the SFT and RL flows of figure a's instance on the 3-response simplex.
enum FigureSimplex {
    /// ṗ = (diag p − ppᵀ)·θ̇ for the tabular class (one prompt): the flow's velocity on the simplex.
    static func velocity(_ flow: PolicyFlow, at p: [Double]) -> [Double] {
        let theta = p.map { Foundation.log($0) }
        let v = flow.velocity(at: theta)
        let mean = zip(p, v).reduce(0) { $0 + $1.0 * $1.1 }
        return p.indices.map { p[$0] * (v[$0] - mean) }
    }

    static func simd(_ p: [Double]) -> SIMD3<Double> { SIMD3(p[0], p[1], p[2]) }

    static func build(quick: Bool) throws -> FigureFolder {
        let inst = try Instance(file: FigureTabularFig3.file)
        let runs = try FigureTabularFig3.runs(quick: quick)
        let grid = quick ? 6 : 12
        var points: [[Double]] = []
        for i in 1..<grid { for j in 1..<(grid - i) { let k = grid - i - j; if k >= 1 { points.append([Double(i), Double(j), Double(k)].map { $0 / Double(grid) }) } } }
        let flows = [("rl", try PolicyFlow(instance: inst, kind: .rl)), ("sft", try PolicyFlow(instance: inst, kind: .sft))]
        var field = CSVTable(columns: ["field", "p0", "p1", "p2", "dp0", "dp1", "dp2"])
        var arrows: [String: [SimplexArrow]] = [:]
        for (name, flow) in flows {
            for p in points {
                let d = velocity(flow, at: p)
                field.append([.string(name), .double(p[0]), .double(p[1]), .double(p[2]), .double(d[0]), .double(d[1]), .double(d[2])])
                arrows[name, default: []].append(SimplexArrow(point: simd(p), direction: simd(d)))
            }
        }
        var traj = CSVTable(columns: ["pipeline", "t", "phase", "phase_index", "p0", "p1", "p2"])
        var trajectories: [SimplexTrajectory] = []
        for (k, (name, run)) in runs.enumerated() {
            var pts: [SIMD3<Double>] = []
            for row in run.rows {
                let p = inst.policy.probabilities(row.theta)[0]
                traj.append([.string(name), .double(row.t), .string(row.phase), .int(row.phaseIndex + 1), .double(p[0]), .double(p[1]), .double(p[2])])
                pts.append(simd(p))
            }
            trajectories.append(SimplexTrajectory(name: name == "sft-then-rl" ? "SFT → RL (from base)" : "RL → SFT (from base)", points: pts, color: Palette.color(k == 0 ? 0 : 3)))
        }
        let gibbs = Dist.gibbs(reference: inst.reference[0], reward: inst.reward[0], beta: inst.beta)
        let named: [(String, [Double], String)] = [("p_D (SFT optimum)", inst.data[0], "#009E73"), ("p* (Gibbs)", gibbs, "#D55E00"),
                                                   ("π_ref = base", inst.reference[0], "#000000")]
        var pointsTable = CSVTable(columns: ["name", "p0", "p1", "p2"])
        for (n, p, _) in named { pointsTable.append([.string(n), .double(p[0]), .double(p[1]), .double(p[2])]) }

        var plot = SimplexPlot(title: "SFT and RL flows on the simplex, r(y₀, y₁, y₂) = (0.5, 1, −1)", vertexLabels: ["y₀", "y₁", "y₂"])
        plot.width = 640; plot.height = 580
        plot.trajectories = trajectories
        // Legend entries for the two fields (empty trajectories draw nothing but their legend swatch).
        plot.trajectories.append(SimplexTrajectory(name: "RL field ṗ (grey arrows)", points: [], color: "#9a9a9a"))
        plot.trajectories.append(SimplexTrajectory(name: "SFT field ṗ (green arrows)", points: [], color: sftFieldColor))
        plot.points = named.map { SimplexPoint(simd($0.1), label: $0.0, color: $0.2, marker: .diamond) }
        plot.field = arrows["rl"]!
        plot.legend = .topLeft
        plot.fieldArrowLength = 0.07
        var sftOnly = plot
        sftOnly.field = arrows["sft"]!
        let svg = overlayField(plot.render(), from: sftOnly.render(), color: sftFieldColor)

        let extra: [String: ReportJSON] = [
            "description": "Phase portrait on the 3-response simplex: RL (grey) and SFT (green) vector fields ṗ, the two pipelines of figure a, p_D, the Gibbs optimum and π_ref.",
            "instance": "the instance of figure a (a-fig3-tabular/instance.json)",
            "gibbs_optimum": .array(gibbs.map { .number($0) }),
            "grid": .string("interior points of the lattice with step 1/\(grid)"),
        ]
        var folder = FigureFolder(key: "e", name: FigureCatalog.folderName("e"), files: [], seed: nil, extra: extra, quick: quick)
        folder.add("trajectories.csv", traj.render())
        folder.add("field.csv", field.render())
        folder.add("points.csv", pointsTable.render())
        folder.add("simplex.svg", svg)
        return folder
    }

    static let sftFieldColor = "#2ca25f"

    /// Copies the arrow group (`<g class="field">…</g>`) of `other` (same geometry) into `svg`,
    /// recoloured, just after `svg`'s own field: SimplexPlot draws one field per figure.
    static func overlayField(_ svg: String, from other: String, color: String) -> String {
        let open = "<g class=\"field\">"
        guard let s = other.range(of: open), let e = other.range(of: "</g>", range: s.upperBound..<other.endIndex),
              let mine = svg.range(of: open), let myEnd = svg.range(of: "</g>", range: mine.upperBound..<svg.endIndex) else { return svg }
        let group = String(other[s.lowerBound..<e.upperBound]).replacingOccurrences(of: "#9a9a9a", with: color)
        var out = svg
        out.insert(contentsOf: group, at: myEnd.upperBound)
        return out
    }
}
