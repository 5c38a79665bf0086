import Foundation
import Policies
import Flows
import Reports

/// Figure g: Fig. 3a/3b with the algorithms people run, on figure a's instance: minibatch SFT
/// then sampled GRPO (SFT→RL) and GRPO then minibatch SFT (RL→SFT), the mean and 10%/90% band
/// over seeds beside the exact gradient steps of the same η (k3 KL with the instance's β = 0.5).
enum FigureSampledFig3 {
    static let pipelines = [("sft-then-rl", "sft-sgd:200,grpo:200"), ("rl-then-sft", "grpo:200,sft-sgd:200")]

    static func build(quick: Bool) throws -> FigureFolder {
        let inst = try Instance(file: FigureTabularFig3.file)
        var c = SampledConfig(method: .grpo)
        c.eta = 0.05; c.groupSize = 8; c.batchSize = 8
        let seeds = quick ? 8 : 64, seed: UInt64 = 1
        var table = CSVTable(columns: ["pipeline"] + SampledFlowReport.columns())
        var folder = FigureFolder(key: "g", name: FigureCatalog.folderName("g"), files: [], seed: seed, extra: [:], quick: quick)
        for (k, (name, spec)) in pipelines.enumerated() {
            let sched = try SampledSchedule(parsing: quick ? spec.replacingOccurrences(of: "200", with: "40") : spec)
            let run = try runSampled(instance: inst, schedule: sched, config: c, seeds: seeds, seed: seed, every: quick ? 2 : 4)
            let report = SampledFlowReport(file: FigureTabularFig3.file, instance: inst, config: c, run: run, out: URL(fileURLWithPath: "."),
                                           command: [], instancePath: "a-fig3-tabular/instance.json", started: Date(), wallSeconds: 0)
            for row in report.traceTable().rows { table.append([.string(name)] + row) }
            var plot = report.figure()
            plot.title = k == 0 ? "Fig. 3a, sampled: minibatch SFT → GRPO (\(seeds) seeds, η = 0.05, G = B = 8)"
                                : "Fig. 3b, sampled: GRPO → minibatch SFT (\(seeds) seeds, η = 0.05, G = B = 8)"
            folder.add(k == 0 ? "fig3a-sampled.svg" : "fig3b-sampled.svg", plot.render())
            folder.extra[name] = .object(["schedule": .string(sched.spec), "rows": .integer(run.steps.count)])
        }
        folder.add("trace.csv", table.render())
        folder.extra["instance"] = "a-fig3-tabular/instance.json"
        folder.extra["settings"] = "eta 0.05, G = B = 8, group scaling, epsilon 0.2, one inner step, k3 KL with coefficient beta = 0.5, SGD; run k uses SeededGenerator.derived(seed: 1, index: k)"
        folder.extra["description"] = "Fig. 3a/3b with sampled GRPO and minibatch SFT: mean and 10%/90% quantiles over seeds, exact gradient steps of the same eta beside them (exact_* columns)."
        return folder
    }
}

/// Figure h: the bias of the expected GRPO update against the group size G, per advantage scaling,
/// by exact enumeration (`UpdateDistribution.exact`) at figure a's start and on a two-prompt
/// instance: ‖E[Δθ]/η − ∇J‖/‖∇J‖ and cos∠(E[Δθ], ∇J), no KL term.
enum FigureUpdateBias {
    static let twoPrompt = InstanceFile(beta: 0, policy: .init(kind: "tabular"), prompts: [
        .init(weight: 2, data: [0.6, 0.3, 0.1], reward: [0.2, 1, -0.5], reference: nil, start: [0.2, 0.2, 0.6]),
        .init(weight: 1, data: [0.1, 0.2, 0.3, 0.4], reward: [1, -1, 0.5, 0], reference: nil, start: [0.4, 0.3, 0.2, 0.1]),
    ])

    static func build(quick: Bool) throws -> FigureFolder {
        var fig3 = FigureTabularFig3.file
        fig3.beta = 0
        let instances = [("fig3-instance", fig3), ("two-prompt", twoPrompt)]
        let sizes = quick ? [2, 3, 4] : [2, 3, 4, 5, 6, 8]
        var table = CSVTable(columns: ["instance", "scaling", "group_size", "relative_bias", "cosine", "trace_covariance", "batches"])
        var plots: [LinePlot] = []
        for (name, file) in instances {
            let inst = try Instance(file: file)
            var plot = LinePlot(title: "GRPO expected-update bias against G (\(name))", xLabel: "group size G",
                                yLabel: "‖E[Δθ]/η − ∇J‖ / ‖∇J‖", y2Label: "cos∠(E[Δθ], ∇J) (dashed)")
            for (k, s) in AdvantageScaling.allCases.enumerated() {
                var rel: [Double] = [], cos: [Double] = []
                for g in sizes {
                    var c = SampledConfig(method: .grpo)
                    c.groupSize = g; c.scaling = s; c.eta = 1; c.klCoefficient = 0
                    let d = try UpdateDistribution.exact(try SampledAlgorithm(instance: inst, config: c), theta: inst.start)
                    rel.append(d.biasNorm / d.gradientNorm); cos.append(d.cosine)
                    table.append([.string(name), .string(s.rawValue), .int(g), .double(d.biasNorm / d.gradientNorm), .double(d.cosine),
                                  .double(d.traceCovariance), .int(d.outcomes)])
                }
                let xs = sizes.map(Double.init)
                plot.series.append(PlotSeries(name: "\(s.rawValue): relative bias", xs: xs, ys: rel, color: Palette.color(k)))
                plot.series.append(PlotSeries(name: "\(s.rawValue): cosine", xs: xs, ys: cos, color: Palette.color(k), dashed: true, axis: .right))
            }
            plot.legend = .topRight
            plots.append(plot)
        }
        var folder = FigureFolder(key: "h", name: FigureCatalog.folderName("h"), files: [], seed: nil, extra: [:], quick: quick)
        folder.add("bias.csv", table.render())
        folder.add("bias-fig3-instance.svg", plots[0].render())
        folder.add("bias-two-prompt.svg", plots[1].render())
        folder.extra["description"] = "Exact bias of the expected GRPO update (eta = 1, no KL, one inner step) against G for group, batch and none scaling; none is exactly (1 − 1/G)∇J (relative bias 1/G)."
        return folder
    }
}
