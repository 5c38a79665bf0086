import Flows
import Foundation
import Policies
import Reports

/// The files of `sftrl flow`: trace.csv, flow.svg and manifest.json, built from a finished run.
/// Nothing here computes mathematics; it lays out what `Flows` returned.
public struct FlowReport {
    public var plan: FlowPlan
    public var run: ScheduleRun
    public var command: [String]
    public var instancePath: String
    public var samples: Int
    public var started: Date
    public var wallSeconds: Double
    /// Seconds spent in the run itself (integration or steps, and the trace rows), without loading.
    public var runSeconds: Double? = nil
    /// The instance's `sha256_canonical_json`, when already computed (else computed here).
    public var instanceHash: String? = nil

    public init(plan: FlowPlan, run: ScheduleRun, command: [String], instancePath: String, samples: Int, started: Date,
                wallSeconds: Double, runSeconds: Double? = nil, instanceHash: String? = nil) {
        self.plan = plan; self.run = run; self.command = command; self.instancePath = instancePath; self.samples = samples
        self.started = started; self.wallSeconds = wallSeconds; self.runSeconds = runSeconds; self.instanceHash = instanceHash
    }

    public var isSteps: Bool { plan.method == "gd" }

    /// One row per output time; columns as `TraceRow.columns(steps:)`.
    public func traceTable() -> CSVTable {
        var table = CSVTable(columns: TraceRow.columns(steps: isSteps))
        for row in run.rows {
            var cells: [CSVCell] = [.double(row.t), .string(row.phase)]
            cells += TraceQuantity.allCases.map { .double(row.values[$0]) }
            cells.append(.int(row.phaseIndex + 1))
            if isSteps { cells.append(row.step.map { .int($0) } ?? .missing) }
            table.append(cells)
        }
        return table
    }

    /// SFT loss (left axis) and reward J, plus J_β when β > 0 (right axis) against t, each phase
    /// shaded and labelled, boundaries and event hits marked.
    public func figure() -> LinePlot {
        let name = URL(fileURLWithPath: instancePath).deletingPathExtension().lastPathComponent
        var plot = LinePlot(title: "\(plan.schedule.spec) on \(name) (\(isSteps ? "gradient steps, η = \(plan.eta!)" : "flow, \(plan.options.stepper.rawValue)"))",
                            xLabel: isSteps ? "t = step · η" : "t", yLabel: "SFT loss L_SFT", y2Label: "reward")
        let ts = run.rows.map(\.t)
        plot.series.append(PlotSeries(name: "L_SFT", xs: ts, ys: run.rows.map { $0.values[.sftLoss] }))
        plot.series.append(PlotSeries(name: "J (reward)", xs: ts, ys: run.rows.map { $0.values[.reward] }, axis: .right))
        if plan.instance.beta > 0 {
            plot.series.append(PlotSeries(name: "J_β", xs: ts, ys: run.rows.map { $0.values[.rewardReg] }, dashed: true, axis: .right))
        }
        let b = plan.schedule.boundaries
        for (k, phase) in plan.schedule.phases.enumerated() {
            plot.shadedIntervals.append(ShadedInterval(from: b[k], to: b[k + 1], label: phase.kind.label,
                                                       opacity: k % 2 == 0 ? 0.04 : 0.10))
            if k > 0 {
                plot.verticalMarkers.append(VerticalMarker(x: b[k], label: "\(plan.schedule.phases[k - 1].kind.label) | \(phase.kind.label)"))
            }
        }
        for hit in run.hits {
            plot.verticalMarkers.append(VerticalMarker(x: hit.t, label: hit.event.spec, color: "#b22222"))
        }
        plot.legend = .topRight
        plot.xRange = 0...plan.schedule.totalDuration
        return plot
    }

    public func manifest() -> Manifest {
        let inst = plan.instance
        let b = plan.schedule.boundaries
        var phases: [ReportJSON] = []
        for (k, p) in plan.schedule.phases.enumerated() {
            var o: [String: ReportJSON] = [
                "index": .integer(k + 1), "label": .string(p.kind.label), "spec": .string(p.spec),
                "start": .number(b[k]), "end": .number(b[k + 1]), "duration": .number(p.duration),
            ]
            if case let .mix(mu) = p.kind { o["mu"] = .number(mu) }
            if isSteps { o["steps"] = .integer(run.stepsPerPhase[k]) }
            if !isSteps && k < run.phaseStats.count { o["stats"] = FlowReport.json(run.phaseStats[k]) }
            phases.append(.object(o))
        }
        let events: [ReportJSON] = run.events.map { e in
            var o: [String: ReportJSON] = ["spec": .string(e.spec), "quantity": .string(e.quantity.rawValue), "level": .number(e.level)]
            if let h = run.hit(for: e) {
                o["reached"] = true
                o["t"] = .number(h.t)
                o["phase"] = .string(h.phase)
                o["phase_index"] = .integer(h.phaseIndex + 1)
                o["direction"] = .string(h.direction.rawValue)
                if let s = h.step { o["step"] = .integer(s) }
            } else {
                o["reached"] = false
            }
            return .object(o)
        }
        var finalValues: [String: ReportJSON] = ["t": .number(run.rows.last?.t ?? 0)]
        if let last = run.rows.last {
            for q in TraceQuantity.allCases { finalValues[q.rawValue] = .number(last.values[q]) }
        }
        finalValues["theta"] = .array(run.finalTheta.map { .number($0) })
        var extra: [String: ReportJSON] = [
            "instance": .object([
                "path": .string(instancePath),
                "sha256_canonical_json": .string(instanceHash ?? canonicalJSONHash(plan.file)),
                "policy": .string(inst.policy.name),
                "prompts": .integer(inst.promptCount),
                "responses": .array(inst.responseCounts.map { .integer($0) }),
                "parameters": .integer(inst.policy.dimension),
                "beta": .number(inst.beta),
            ]),
            "schedule": .object(["spec": .string(plan.schedule.spec), "total_duration": .number(plan.schedule.totalDuration),
                                 "phases": .array(phases)]),
            "method": .string(plan.method),
            "samples": .integer(samples),
            "rows": .integer(run.rows.count),
            "events": .array(events),
            "final": .object(finalValues),
            "files": ["trace.csv", "flow.svg", "manifest.json"],
            "cos_sft_rl": "cos∠(−∇L_SFT, ∇J_β); 0 when either gradient norm is below 1e-12",
        ]
        if isSteps {
            let total = run.stepsPerPhase.reduce(0, +)
            extra["gradient_steps"] = .object(["eta": .number(plan.eta!), "steps": .integer(total),
                                               "gradient_evaluations": .integer(total)])
        } else {
            extra["integrator"] = .object([
                "stepper": .string(plan.options.stepper.rawValue), "rtol": .number(plan.options.rtol),
                "atol": .number(plan.options.atol), "max_steps": .integer(plan.options.maxSteps),
                "initial_step": plan.options.automaticInitialStep ? "automatic (Hairer-Wanner estimate per phase)" : .number(plan.options.initialStep),
                "output_times": .string(plan.options.denseOutput
                    ? (plan.options.stepper == .dop853 ? "dense: DOP853's order-7 interpolant inside free-running steps" : "dense: cubic Hermite interpolant (order 3) inside free-running steps")
                    : "forced: exact step ends"),
                "norm": .string(plan.options.norm.rawValue),
            ])
            extra["stats"] = FlowReport.json(run.stats)
            if let runSeconds { extra["run_seconds"] = .number(runSeconds) }
        }
        return Manifest(command: command, version: sftrlVersion, extra: extra,
                        timing: .init(started: started, wallSeconds: wallSeconds))
    }

    public static func json(_ s: IntegrationStats) -> ReportJSON {
        .object(["accepted": .integer(s.accepted), "rejected": .integer(s.rejected),
                 "rhs_evaluations": .integer(s.rhsEvaluations), "jacobian_evaluations": .integer(s.jacobianEvaluations)])
    }

    /// Renders everything first, then writes the three files (the manifest last, so its presence
    /// means the others are complete), all or none (`replaceFilesAtomically`).
    public func write() throws {
        let csv = traceTable().render()
        let svg = figure().render()
        let json = try encodeJSON(manifest())
        try replaceFilesAtomically(in: plan.out, [("trace.csv", Data(csv.utf8)), ("flow.svg", Data(svg.utf8)), ("manifest.json", json)])
    }

    /// A few lines for stdout.
    public func summary() -> String {
        var lines: [String] = []
        let dir = plan.out.path
        lines.append("wrote \(dir)/trace.csv (\(run.rows.count) rows), \(dir)/flow.svg, \(dir)/manifest.json")
        if let first = run.rows.first, let last = run.rows.last {
            func f(_ x: Double) -> String { formatSignificant(x, digits: 6) }
            lines.append("t = \(f(first.t)) → \(f(last.t)): sft_loss \(f(first.values[.sftLoss])) → \(f(last.values[.sftLoss])), "
                         + "reward \(f(first.values[.reward])) → \(f(last.values[.reward]))")
        }
        if isSteps {
            lines.append("gradient steps: η = \(plan.eta!), \(run.stepsPerPhase.reduce(0, +)) steps")
        } else {
            let s = run.stats
            lines.append("\(plan.options.stepper.rawValue): \(s.accepted) steps accepted, \(s.rejected) rejected, "
                         + "\(s.rhsEvaluations) f evaluations, \(s.jacobianEvaluations) Jacobians, \(formatDuration(wallSeconds))")
        }
        for e in run.events {
            if let h = run.hit(for: e) {
                let at = h.step.map { "step \($0), " } ?? ""
                lines.append("event \(e.spec): t = \(h.t) (\(at)phase \(h.phaseIndex + 1) \(h.phase), \(h.direction.rawValue))")
            } else {
                lines.append("event \(e.spec): not reached")
            }
        }
        return lines.joined(separator: "\n")
    }
}
