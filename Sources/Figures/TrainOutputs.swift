import Foundation
import Reports
import Training
import Transformer

/// The files of a `sftrl train` run, written into a (staging) folder: `metrics.csv` (one row per
/// step, TRL's metric names and the cross-objective pair eval_sft_loss / eval_reward),
/// `checkpoints/{base,stage1-*,stage2-*}`, the two SVG figures (Fig. 3a's SFT loss, Fig. 3b's
/// reward) and `manifest.json` (every hyper-parameter, the seed, the version and commit).
public enum TrainOutputs {
    /// Base, end of stage 1, end of stage 2 values of the cross-objective pair.
    public struct Summary: Encodable {
        public var stages: [String]
        public var evalSFTLoss: [Double]
        public var evalReward: [Double]
        public var evalAccuracy: [Double]
        public var lines: [String] {
            stages.indices.map { i in
                "\(stages[i]): eval_sft_loss \(formatFixed(evalSFTLoss[i], decimals: 4))  eval_reward \(formatFixed(evalReward[i], decimals: 4))  eval_accuracy \(formatFixed(evalAccuracy[i], decimals: 4))"
            }
        }
        enum CodingKeys: String, CodingKey { case stages, evalSFTLoss = "eval_sft_loss", evalReward = "eval_reward", evalAccuracy = "eval_accuracy" }
    }

    public static func summary(_ rows: [MetricRow], config: PipelineConfig) -> Summary {
        let order = config.pipeline == .sftRL ? ["base", "sft", "rl"] : ["base", "rl", "sft"]
        var s = Summary(stages: [], evalSFTLoss: [], evalReward: [], evalAccuracy: [])
        for (i, st) in order.enumerated() {
            guard let last = rows.last(where: { $0.stage == st }) else { continue }
            s.stages.append(i == 0 ? "base" : "end of stage \(i) (\(st))")
            s.evalSFTLoss.append(last.values["eval_sft_loss"] ?? .nan)
            s.evalReward.append(last.values["eval_reward"] ?? .nan)
            s.evalAccuracy.append(last.values["eval_accuracy"] ?? .nan)
        }
        return s
    }

    struct Manifest: Encodable {
        var tool = "sftrl train"
        var version: String
        var commit: String? = sftrlCommit
        var arguments: [String]
        var config: PipelineConfig
        var data: [String: Int]
        var determinism: String
        var design: [String]
        var summary: Summary
        var wallSeconds: [String: Double]
        enum CodingKeys: String, CodingKey {
            case tool, version, commit, arguments, config, data, determinism, design, summary, wallSeconds = "wall_seconds"
        }
    }

    public static func write(result: PipelineResult, config: PipelineConfig, stage1: String, to dir: URL,
                             save: (Qwen3Model, URL) throws -> Void, data dataCounts: [String: Int]?, design textDesign: [String]?) throws {
        // metrics.csv
        var table = CSVTable(columns: ["stage", "step"] + metricColumns)
        for r in result.rows {
            table.append([.string(r.stage), .int(r.step)] + metricColumns.map { k in r.values[k].map { CSVCell.double($0) } ?? .missing })
        }
        try table.write(to: dir.appendingPathComponent("metrics.csv"))

        // checkpoints
        let ck = dir.appendingPathComponent("checkpoints")
        try ensureDirectory(ck)
        let stage2 = stage1 == "sft" ? "rl" : "sft"
        try save(result.base, ck.appendingPathComponent("base"))
        try save(result.stage1, ck.appendingPathComponent("stage1-\(stage1)"))
        try save(result.stage2, ck.appendingPathComponent("stage2-\(stage2)"))

        // figures
        try figure(rows: result.rows, metric: "eval_sft_loss", stage1: stage1,
                   title: config.pipeline == .sftRL ? "Fig. 3a: held-out SFT loss through SFT then RL" : "Held-out SFT loss through RL then SFT",
                   yLabel: "SFT loss on the test split (nats/token)",
                   file: dir.appendingPathComponent(config.pipeline == .sftRL ? "fig3a_sft_loss.svg" : "sft_loss.svg"))
        try figure(rows: result.rows, metric: "eval_reward", stage1: stage1,
                   title: config.pipeline == .rlSFT ? "Fig. 3b: mean@1 reward through RL then SFT" : "mean@1 reward through SFT then RL",
                   yLabel: "mean@1 reward on \(config.evalPrompts) test prompts",
                   file: dir.appendingPathComponent(config.pipeline == .rlSFT ? "fig3b_reward.svg" : "reward.svg"))

        // manifest.json
        let task = AcceptabilityTask(config: config.task)
        let manifest = Manifest(
            version: sftrlVersion,
            arguments: Array(CommandLine.arguments.dropFirst()),
            config: config,
            data: dataCounts ?? ["train": task.train.count, "test": task.test.count, "eval_reward_prompts": config.evalPrompts,
                   "eval_sft_examples": task.test.count, "pretrain_sentences": task.pretrainText.count,
                   "pretrain_examples": task.pretrainExamples.count, "vocab_size": task.tokenizer.count,
                   "parameters": config.model.parameterCount],
            determinism: "BLAS threads = \(config.blasThreads); every random stream derives from seed \(config.seed) (data from data_seed \(config.task.dataSeed)); same arguments give the same metrics.csv bytes with 1 BLAS thread.",
            design: textDesign ?? [
                "Task: subject–verb agreement with attractor nouns; acceptable iff the verb agrees with the first noun. The base model is pretrained (\(config.pretrain.steps) steps) on acceptable text (next-token loss on every token) mixed with formatted examples whose answer tokens are the targets, labelled by the nearest-noun heuristic (wrong on ≈30% of sentences) with \(config.task.pretrainLabelNoise) extra label noise; with --base the given checkpoint is the base.",
                "Reward: the verifier (the rule), +1/−1, strict format in training, robust parser (last label word) in evaluation.",
                "SFT data: the rule's label flipped with probability sft_label_noise = \(config.task.sftLabelNoise) (fixed per example, train and test), standing for annotator disagreement in CoLA. With identical labels and an SFT model at the data conditional, the Gibbs RL optimum equals the SFT optimum (Thm 3.1's C1 = 0), so any effect would come from finite training only; the noise makes the SFT data conditional differ from the reward's optimum, which is the situation the paper's theorems describe. --sft-label-noise 0 gives the identical-label setting.",
                "eval_sft_loss: token-mean cross-entropy of 'label <eos>' (SFT labels) over all \(task.test.count) test examples; eval_reward: mean@1 at temperature 0.6, top_p 0.95 on the first \(config.evalPrompts) test prompts, the same sampler seed at every evaluation.",
            ],
            summary: summary(result.rows, config: config),
            wallSeconds: result.wallSeconds)
        try writeJSON(manifest, to: dir.appendingPathComponent("manifest.json"))
    }

    /// One metric through both stages against the global step, with the base value as a
    /// horizontal line and the stage boundary as a vertical marker.
    static func figure(rows: [MetricRow], metric: String, stage1: String, title: String, yLabel: String, file: URL) throws {
        let trained = rows.filter { $0.stage != "pretrain" }
        let xs = trained.indices.map(Double.init)
        let ys = trained.map { $0.values[metric] ?? .nan }
        let boundary = Double(trained.lastIndex(where: { $0.stage == stage1 }) ?? 0)
        let stage2 = stage1 == "sft" ? "RL" : "SFT"
        var plot = LinePlot(title: title, xLabel: "step (base = 0, \(stage1.uppercased()) then \(stage2))", yLabel: yLabel)
        plot.series = [PlotSeries(name: metric, xs: xs, ys: ys, color: "#1f77b4")]
        plot.legend = .hidden  // one curve: the title and the axis name it
        if let b = trained.first?.values[metric] {
            plot.referenceLines = [ReferenceLine(y: b, label: "base \(formatFixed(b, decimals: 3))")]
        }
        plot.verticalMarkers = [VerticalMarker(x: boundary, label: "\(stage1.uppercased()) → \(stage2)")]
        try plot.write(to: file)
    }
}
