import Foundation
import Linalg
import Transformer

/// The two orders of the paper's experiments (paper-notes §5).
public enum PipelineKind: String, Codable, CaseIterable, Sendable {
    /// Exp 5.1: base → SFT → GRPO (Fig. 3a: held-out SFT loss through RL).
    case sftRL = "sft-rl"
    /// Exp 5.2: base → GRPO → SFT (Fig. 3b: reward through SFT).
    case rlSFT = "rl-sft"
}

/// Brief pretraining that makes the "base model": next-token prediction on unlabeled acceptable
/// sentences (every token a target), mixed with formatted examples whose labels come from the
/// biased nearest-noun annotator (the answer tokens are the targets, as in instruction data; a
/// loss on every token of those would drown the one answer token among ~20 random words, and the
/// tiny model then does not pick up the format-to-label mapping within a few thousand steps).
public struct PretrainConfig: Codable, Sendable, Equatable {
    public var steps = 2000
    public var batchSize = 32
    /// Fraction of each batch drawn from the unlabeled text (the rest: formatted examples).
    public var textFraction = 0.5
    public var optimizer = AdamWConfig(learningRate: 1e-3, weightDecay: 0.01, maxGradNorm: 1.0)
    /// Linear warm-up steps, then cosine decay to 10% of the peak rate.
    public var warmupSteps = 100
    public init() {}

    /// The learning rate at step s (1-based).
    public func learningRate(at s: Int) -> Double {
        let peak = optimizer.learningRate
        if s <= warmupSteps { return peak * Double(s) / Double(max(warmupSteps, 1)) }
        let progress = Double(s - warmupSteps) / Double(max(steps - warmupSteps, 1))
        return peak * (0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * min(progress, 1))))
    }
}

/// Every hyper-parameter of a pipeline run; encoded as-is in the manifest.
public struct PipelineConfig: Codable, Sendable, Equatable {
    public var preset = "tiny"
    public var pipeline: PipelineKind = .sftRL
    public var seed: UInt64 = 0
    public var task = AcceptabilityTask.Config()
    public var model: Qwen3Config
    public var pretrain = PretrainConfig()
    public var sft = SFTConfig()
    public var grpo = GRPOConfig()
    /// Test prompts used for the mean@1 reward at every step (the first ones of the test split).
    public var evalPrompts = 128
    public var evalSampling = SamplingConfig(temperature: 0.6, topP: 0.95, maxNewTokens: 4)
    /// BLAS threads (1: bitwise-reproducible metrics; see docs/training.md).
    public var blasThreads = 1

    /// The "tiny" preset: Qwen3Config.tiny (C 64, I 192, L 2, H 4 / KV 2, D 32) with the
    /// vocabulary of the task's tokenizer and 64 positions.
    public static func tiny(pipeline: PipelineKind, seed: UInt64) -> PipelineConfig {
        var model = Qwen3Config.tiny
        model.vocabSize = AcceptabilityTask(config: .init()).tokenizer.count
        model.maxPositionEmbeddings = 64
        var c = PipelineConfig(model: model)
        c.pipeline = pipeline
        c.seed = seed
        return c
    }

    public init(model: Qwen3Config) { self.model = model }
}

/// What a pipeline run produced.
public struct PipelineResult {
    public var rows: [MetricRow]
    public var base: Qwen3Model
    public var stage1: Qwen3Model
    public var stage2: Qwen3Model
    /// Wall-clock seconds per stage ("pretrain", first, second, "total").
    public var wallSeconds: [String: Double]
}

/// A progress report: the stage, the step done, the stage's step count and that step's row.
public struct PipelineProgress {
    public var stage: String
    public var step: Int
    public var total: Int
    public var row: MetricRow?
}

/// Runs base → stage 1 → stage 2, evaluating after every step of both stages.
///
/// Stages are named "pretrain", "base" (one evaluation row, step 0), then "sft" and "rl" in the
/// pipeline's order. Every random stream is derived from `config.seed` by label ("init",
/// "pretrain", "sft", "grpo", "eval"), so a run is a function of its configuration.
public struct Pipeline {
    public let config: PipelineConfig
    public let task: AcceptabilityTask
    /// What the SFT and RL stages train on and how they are evaluated.
    public let data: PipelineData

    /// The synthetic task of `config.task`.
    public init(config: PipelineConfig) {
        self.config = config
        let task = AcceptabilityTask(config: config.task)
        self.task = task
        let eval = Evaluator(task: task, rewardPrompts: config.evalPrompts, sampling: config.evalSampling,
                             seed: SeededGenerator.derivedSeed(config.seed, "eval"))
        self.data = PipelineData(
            sftPairs: task.train.map { (prompt: task.prompt($0.sentence), completion: task.completion(label: $0.sftLabel)) },
            rl: RLPrompts(task: task, examples: task.train), evaluator: eval)
    }

    /// Other data (a text dataset on a real checkpoint); `run` then needs a base model.
    public init(config: PipelineConfig, data: PipelineData) {
        self.config = config
        self.task = AcceptabilityTask(config: { var c = config.task; c.trainSize = 0; c.testSize = 0; c.pretrainSentences = 0; c.pretrainExamples = 0; return c }())
        self.data = data
    }

    /// Pretrains a fresh model from `config.seed` (rows of stage "pretrain": loss, grad_norm,...).
    public func pretrain(progress: (PipelineProgress) -> Void) -> (Qwen3Model, [MetricRow]) {
        let model = Qwen3Model(config: config.model, seed: SeededGenerator.derivedSeed(config.seed, "init"))
        let p = config.pretrain
        var rng = SeededGenerator.derived(seed: config.seed, label: "pretrain")
        let opt = AdamW(parameters: model.parameters, config: p.optimizer)
        let formatted = task.pretrainExamples.map {
            (tokens: task.prompt($0.sentence) + task.completion(label: $0.sftLabel), firstTarget: task.prompt($0.sentence).count)
        }
        var rows: [MetricRow] = []
        var tokens = 0
        for step in 1...max(p.steps, 1) where p.steps > 0 {
            var seqs: [(tokens: [Int32], firstTarget: Int)] = []
            for _ in 0..<p.batchSize {
                seqs.append(rng.bernoulli(p.textFraction) ? (rng.pick(task.pretrainText), 1) : rng.pick(formatted))
            }
            let batch = TokenBatch.make(seqs)
            model.zeroGradients()
            let logits = model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
            let ce = crossEntropy(logits: logits, targets: batch.targets(), vocab: model.config.vocabSize)
            model.backward(dLogits: ce.dLogits)
            let norm = opt.step(parameters: model.parameters, gradients: model.gradients, learningRate: p.learningRate(at: step))
            tokens += batch.nonPadTokens
            let row = MetricRow(stage: "pretrain", step: step, values: [
                "loss": ce.loss, "grad_norm": norm, "mean_token_accuracy": ce.accuracy, "learning_rate": p.learningRate(at: step),
                "entropy": ce.entropy, "num_tokens": Double(tokens)])
            rows.append(row)
            progress(PipelineProgress(stage: "pretrain", step: step, total: p.steps, row: row))
        }
        return (model, rows)
    }

    /// The whole pipeline. `base`: a loaded base model (skips pretraining); it is not modified.
    public func run(base loaded: Qwen3Model? = nil, progress: (PipelineProgress) -> Void = { _ in }) -> PipelineResult {
        let clock = ContinuousClock()
        func seconds(_ d: Duration) -> Double {
            Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        var wall: [String: Double] = [:]
        let t0 = clock.now
        var rows: [MetricRow] = []
        let base: Qwen3Model
        if let loaded {
            base = loaded
        } else {
            let (m, r) = pretrain(progress: progress)
            base = m
            rows += r
        }
        wall["pretrain"] = seconds(clock.now - t0)
        let evaluator = data.evaluator
        var baseValues = evaluator.evaluate(base)
        baseValues["global_step"] = 0
        let baseRow = MetricRow(stage: "base", step: 0, values: baseValues)
        var globalStep = 0
        rows.append(baseRow)
        progress(PipelineProgress(stage: "base", step: 0, total: 0, row: baseRow))

        let stages: [String] = config.pipeline == .sftRL ? ["sft", "rl"] : ["rl", "sft"]
        var model = base.copy()
        var finished: [Qwen3Model] = []
        for stage in stages {
            let ts = clock.now
            // The stage's trainer as (its step count, one step); one loop below runs either.
            let (total, step): (Int, () -> [String: Double])
            if stage == "sft" {
                let trainer = SFTTrainer(model: model, pairs: data.sftPairs, config: config.sft,
                                         seed: SeededGenerator.derivedSeed(config.seed, "sft"))
                (total, step) = (trainer.totalSteps, { trainer.step() })
            } else {
                let trainer = GRPOTrainer(model: model, rl: data.rl, config: config.grpo,
                                          seed: SeededGenerator.derivedSeed(config.seed, "grpo"))
                (total, step) = (config.grpo.steps, { trainer.step() })
            }
            for k in 1...max(total, 1) where total > 0 {
                var v = step()
                globalStep += 1
                v["global_step"] = Double(globalStep)
                v.merge(evaluator.evaluate(model)) { a, _ in a }
                let row = MetricRow(stage: stage, step: k, values: v)
                rows.append(row)
                progress(PipelineProgress(stage: stage, step: k, total: total, row: row))
            }
            wall[stage] = seconds(clock.now - ts)
            finished.append(model)
            model = model.copy()
        }
        wall["total"] = seconds(clock.now - t0)
        return PipelineResult(rows: rows, base: base, stage1: finished[0], stage2: finished[1], wallSeconds: wall)
    }
}

/// The data of the two trained stages: SFT pairs, RL prompts with their training reward, and the
/// evaluator run before the first step and after every step.
public struct PipelineData: Sendable {
    public var sftPairs: [(prompt: [Int32], completion: [Int32])]
    public var rl: RLPrompts
    public var evaluator: Evaluator
    public init(sftPairs: [(prompt: [Int32], completion: [Int32])], rl: RLPrompts, evaluator: Evaluator) {
        self.sftPairs = sftPairs; self.rl = rl; self.evaluator = evaluator
    }
}
