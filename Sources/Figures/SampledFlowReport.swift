import Flows
import Foundation
import Policies
import Reports

/// The files of `sftrl flow` for sampled phases: trace.csv (per recorded step, each quantity's mean
/// and 10%/90% quantiles over the seeds and the exact gradient steps beside them), flow.svg and
/// manifest.json. Nothing here computes mathematics.
public struct SampledFlowReport {
    public var file: InstanceFile
    public var instance: Instance
    public var config: SampledConfig
    public var run: SampledRunResult
    public var out: URL
    public var command: [String]
    public var instancePath: String
    public var started: Date
    public var wallSeconds: Double

    public init(file: InstanceFile, instance: Instance, config: SampledConfig, run: SampledRunResult, out: URL, command: [String],
                instancePath: String, started: Date, wallSeconds: Double) {
        self.file = file; self.instance = instance; self.config = config; self.run = run; self.out = out; self.command = command
        self.instancePath = instancePath; self.started = started; self.wallSeconds = wallSeconds
    }

    public static func columns() -> [String] {
        var c = ["step", "phase"]
        for q in SampledRunResult.quantities { c += ["\(q.name)_mean", "\(q.name)_q10", "\(q.name)_q90", "exact_\(q.name)"] }
        return c
    }

    public func traceTable() -> CSVTable {
        var table = CSVTable(columns: SampledFlowReport.columns())
        for r in run.steps.indices {
            var cells: [CSVCell] = [.int(run.steps[r]), .string(run.phaseLabels[r])]
            for q in SampledRunResult.quantities.indices {
                let v = run.values[q][r]
                cells += [.double(v.reduce(0, +) / Double(v.count)), .double(SampledRunResult.quantile(v, 0.1)),
                          .double(SampledRunResult.quantile(v, 0.9)), .double(run.exact[q][r])]
            }
            table.append(cells)
        }
        return table
    }

    /// SFT loss (left) and reward (right): mean, 10%/90% quantiles (thin dashed) and exact steps.
    public func figure() -> LinePlot {
        let name = URL(fileURLWithPath: instancePath).deletingPathExtension().lastPathComponent
        var plot = LinePlot(title: "\(run.schedule.spec) on \(name) (\(run.seeds) seeds, η = \(config.eta))",
                            xLabel: "step", yLabel: "SFT loss L_SFT", y2Label: "reward J")
        let xs = run.steps.map(Double.init)
        for (q, label, axis, color) in [(0, "L_SFT", YAxisSide.left, "#1f77b4"), (1, "J", YAxisSide.right, "#d62728")] {
            let v = run.values[q]
            plot.series.append(PlotSeries(name: "\(label) mean", xs: xs, ys: v.map { $0.reduce(0, +) / Double($0.count) }, color: color, axis: axis))
            plot.series.append(PlotSeries(name: "\(label) q10", xs: xs, ys: v.map { SampledRunResult.quantile($0, 0.1) }, color: color, dashed: true, axis: axis, lineWidth: 0.8))
            plot.series.append(PlotSeries(name: "\(label) q90", xs: xs, ys: v.map { SampledRunResult.quantile($0, 0.9) }, color: color, dashed: true, axis: axis, lineWidth: 0.8))
            plot.series.append(PlotSeries(name: "\(label) exact", xs: xs, ys: run.exact[q], color: "#333333", axis: axis))
        }
        var start = 0
        for (k, p) in run.schedule.phases.enumerated() {
            plot.shadedIntervals.append(ShadedInterval(from: Double(start), to: Double(start + p.steps), label: p.spec, opacity: k % 2 == 0 ? 0.04 : 0.10))
            start += p.steps
        }
        plot.legend = .topRight
        plot.xRange = 0...Double(max(run.schedule.totalSteps, 1))
        return plot
    }

    public func manifest() -> Manifest {
        let c = config
        var extra: [String: ReportJSON] = [
            "instance": .object([
                "path": .string(instancePath), "sha256_canonical_json": .string(canonicalJSONHash(file)),
                "policy": .string(instance.policy.name), "prompts": .integer(instance.promptCount),
                "responses": .array(instance.responseCounts.map { .integer($0) }), "parameters": .integer(instance.policy.dimension),
                "beta": .number(instance.beta),
            ]),
            "method": "sampled",
            "schedule": .object(["spec": .string(run.schedule.spec), "total_steps": .integer(run.schedule.totalSteps)]),
            "sampled": .object([
                "seeds": .integer(run.seeds), "seed": .integer(Int(run.seed)), "eta": .number(c.eta),
                "group_size": .integer(c.groupSize), "batch_size": .integer(c.batchSize), "optimizer": .string(c.optimizer.rawValue),
                "scaling": .string(c.scaling.rawValue), "epsilon": .number(c.epsilon), "epsilon_high": .number(c.epsilonHigh ?? c.epsilon), "inner_iterations": .integer(c.innerIterations),
                "kl_coef": .number(c.klCoefficient ?? instance.beta), "kl_estimator": .string(c.klEstimator.rawValue),
                "aggregation": .string(c.aggregation.rawValue), "baseline": .bool(c.baseline),
                "streams": "run k draws from SeededGenerator.derived(seed: seed, index: k)",
            ]),
            "exact": "gradient steps of size eta beside each sampled step (inner_iterations of them): rl for grpo/reinforce (beta = kl_coef), sft for sft-sgd, mix:MU for chord",
            "rows": .integer(run.steps.count),
            "files": ["trace.csv", "flow.svg", "manifest.json"],
        ]
        if c.klPlacement != .loss || c.klBiasCorrection, case .object(var o) = extra["sampled"] {
            o["kl_placement"] = .string(c.klPlacement.rawValue)
            o["kl_bias_correction"] = .bool(c.klBiasCorrection)
            extra["sampled"] = .object(o)
        }
        // The 2025–26 methods' settings, written only when they differ from the defaults (older manifests keep their bytes).
        if case .object(var o) = extra["sampled"] {
            if c.temperature != 1 { o["temperature"] = .number(c.temperature) }
            if c.importanceSampling != .token { o["importance_sampling"] = .string(c.importanceSampling.rawValue) }
            if c.aggregation == .sapo { o["sapo_temperatures"] = .array([.number(c.sapo.positive), .number(c.sapo.negative)]) }
            let names = run.schedule.phases.map(\.method)
            if names.contains(.luffy) { o["luffy_gamma"] = .number(c.luffyGamma) }
            if names.contains(where: { [.dft, .chordPhi, .luffy, .rloo].contains($0) }) {
                extra["exact"] = "gradient steps of size eta beside each sampled step (inner_iterations of them): rl (beta = kl_coef) for grpo/reinforce/rloo/luffy, sft for sft-sgd, mix:MU for chord, the exact expected direction of DFT for dft, (1 - mu)·rl + mu·(exact expected phi-SFT direction) with the scheduled mu for chord-phi"
            }
            if names.contains(.chordPhi), let m = c.muSchedule {
                o["mu_schedule"] = .object(["peak": .number(m.peak), "valley": .number(m.valley), "warmup": .integer(m.warmup), "decay": .integer(m.decay)])
            }
            extra["sampled"] = .object(o)
        }
        return Manifest(command: command, version: sftrlVersion, extra: extra, timing: .init(started: started, wallSeconds: wallSeconds))
    }

    public func write() throws {
        let csv = traceTable().render()
        let svg = figure().render()
        let json = try encodeJSON(manifest())
        try replaceFilesAtomically(in: out, [("trace.csv", Data(csv.utf8)), ("flow.svg", Data(svg.utf8)), ("manifest.json", json)])
    }

    public func summary() -> String {
        func f(_ x: Double) -> String { formatSignificant(x, digits: 6) }
        let last = run.steps.count - 1
        let mean = { (q: Int) in run.values[q][last].reduce(0, +) / Double(run.seeds) }
        return """
            wrote \(out.path)/trace.csv (\(run.steps.count) rows), \(out.path)/flow.svg, \(out.path)/manifest.json
            step \(run.steps[last]): sft_loss mean \(f(mean(0))) (exact \(f(run.exact[0][last]))), reward mean \(f(mean(1))) (exact \(f(run.exact[1][last]))) over \(run.seeds) seeds
            """
    }
}
