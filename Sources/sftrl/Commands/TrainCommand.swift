import ArgumentParser
import Foundation
import Linalg
import Figures
import Reports
import Training
import Transformer

/// `sftrl train`: replays the paper's two experiments (§5, Fig. 3) on a tiny Qwen3-architecture
/// model and a synthetic acceptability task: base → stage 1 → stage 2, with the held-out SFT loss
/// and the mean@1 reward measured after every step of both stages.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Replay the paper's SFT-then-RL / RL-then-SFT experiments (Fig. 3) on a tiny Qwen3 model.",
        discussion: """
        Runs base (next-token pretraining, or --base DIR) → first stage → second stage on a synthetic CoLA-like task (subject–verb agreement with attractor nouns; docs/training.md) and writes into --out: metrics.csv (one row per step: stage, step, TRL-named metrics and the cross-objective pair eval_sft_loss / eval_reward, measured after every step of both stages), manifest.json (every hyper-parameter, the seed, the version), checkpoints/{base,stage1-*,stage2-*} (safetensors) and SVG figures (fig3a_sft_loss.svg for sft-rl, fig3b_reward.svg for rl-sft, plus the other metric's curve).

        Evaluation: eval_sft_loss on all 256 test examples; eval_reward = mean@1 on the first --eval-prompts test prompts (temperature 0.6, top_p 0.95, robust parser, the same sampler seed at every step).

        Deterministic from --seed with --threads 1 (the default; --blas-threads is an alias): the same arguments give the same metrics.csv bytes (more BLAS threads change the float summation order). With the defaults each pipeline takes about 1–2 minutes on 2 cores (the committed figure f: sft-rl 63 s, rl-sft 100 s at load average 1, the wall_seconds of its train-manifest.json files), longer under load.

        Invalid option values, including values that are not numbers at all, exit with status 2 and create nothing.
        """)

    @Option(help: "Model/task preset (only 'tiny').") var preset = "tiny"
    @Option(help: "Pipeline: sft-rl (Exp 5.1, Fig. 3a) or rl-sft (Exp 5.2, Fig. 3b).") var pipeline: PipelineKind
    @Option(help: "Run seed (weights, batch order, sampling, evaluation draws).") var seed: UInt64 = 0
    @Option(help: "Output directory (created; must not exist or be empty).") var out: String
    @Option(help: "Load the base model from this checkpoint folder instead of pretraining.") var base: String?
    // Real checkpoints and data.
    @Option(help: "Train this Hugging Face Qwen3 folder (config.json, model.safetensors, tokenizer.json) on --data instead of the synthetic task; its checkpoints are self-describing folders transformers loads.") var model: String?
    @Option(help: "With --model: the training data, CoLA TSV (.tsv) or TRL JSONL (prompt-completion, messages, or prompt + label).") var data: String?
    @Option(help: "With --model: held-out data in the same formats (default: the last --test-fraction of --data).") var testData: String?
    @Option(help: "With --model and no --test-data: the fraction of --data held out (taken from the end).") var testFraction = 0.1
    @Option(help: "With --model: the RL reward, label-words[:POS,NEG] (+1/−1 against each row's label; default words acceptable,unacceptable), exact-match (1 when the completion equals the row's completion, else 0) or regex:PATTERN (1 when PATTERN matches the completion). Data no completion of which can earn it is refused; a warning follows 10 RL steps with every group's reward constant.") var reward = "label-words"
    @Flag(help: "Replace a non-empty --out directory.") var overwrite = false
    @Flag(help: "No progress display.") var quiet = false

    // Data.
    @Option(help: "Seed of the task's data (splits, label noise).") var dataSeed: UInt64 = 7389
    @Option(help: "Training examples (SFT data and RL prompts).") var trainSize = 4096
    @Option(help: "Probability that an SFT label is the opposite of the verifier's label (train and test).") var sftLabelNoise = 0.1
    // Pretraining.
    @Option(help: "Pretraining steps (ignored with --base).") var pretrainSteps = 2000
    @Option(help: "Pretraining learning rate.") var pretrainLr = 1e-3
    @Option(help: "Fraction of each pretraining batch that is unlabeled text (the rest: formatted examples with biased labels).") var pretrainTextFraction = 0.5
    // SFT.
    @Option(help: "SFT epochs over the training examples.") var sftEpochs = 2
    @Option(help: "SFT batch size.") var sftBatchSize = 32
    @Option(help: "SFT learning rate (AdamW).") var sftLr = 1e-3
    @Option(help: "Learning-rate schedule of the SFT and GRPO stages: constant or linear (TRL's default lr_scheduler_type: linear decay to 0 over the stage, no warm-up).") var lrScheduler: LRSchedule = .constant
    // GRPO.
    @Option(help: "GRPO steps.") var rlSteps = 150
    @Option(help: "SFT's per-token loss −sg(w(π))·log π: nll (w = 1), dft (TRL's loss_type, w = π) or chord-phi (CHORD-φ, w = π(1 − π)).") var sftLossType: SFTTokenWeight = .plain
    @Option(help: "GRPO learning rate (AdamW).") var rlLr = 3e-4
    @Option(help: "Prompts per GRPO step; the batch is prompts × G completions (what TRL counts as its generation batch size, logged as num_completions).") var promptsPerStep = 16
    @Option(name: [.customLong("group-size"), .customLong("num-generations")], help: "G, completions per prompt (TRL's num_generations; --num-generations is an alias).") var numGenerations = 8
    @Option(help: "Updates per generation batch (μ).") var numIterations = 1
    @Option(help: "Sampling temperature in GRPO.") var temperature = 1.0
    @Option(help: "Nucleus top_p in GRPO.") var topP = 1.0
    @Option(help: "Maximum completion length (tokens).") var maxCompletionLength = 4
    @Option(help: "Clip ε of the ratio.") var epsilon = 0.2
    @Option(name: [.customLong("beta"), .customLong("kl-coef")], help: "KL coefficient β (0: no KL term; kl is still logged; --kl-coef is an alias).") var beta = 0.0
    @Option(help: "KL estimator: k1, k2 or k3.") var klEstimator: KLEstimator = .k3
    @Option(name: [.customLong("aggregation"), .customLong("loss-type")], help: "TRL's loss_type: grpo, dapo, dr_grpo, bnpo, cispo (ratio capped at ε, detached) or sapo (soft gate); --loss-type is an alias.") var lossType: LossAggregation = .dapo
    @Option(name: [.customLong("scaling"), .customLong("scale-rewards")], help: "Advantage scaling: group, batch or none (TRL's scale_rewards; --scale-rewards is an alias).") var scaleRewards: AdvantageScaling = .group
    @Option(help: "Where β·k enters: loss (TRL's GRPO) or reward (verl's use_kl_in_reward: subtracted from the reward before the advantages, detached).") var klPlacement: KLPlacement = .loss
    @Flag(help: "TRL's use_bias_correction_kl: the loss's KL term is ρ·k with its gradient (ρ the importance ratio).") var klBiasCorrection = false
    // Evaluation.
    @Option(help: "Test prompts for the mean@1 reward at every step (of 256).") var evalPrompts = 128
    @Option(name: [.customLong("threads"), .customLong("blas-threads")], help: "BLAS threads (1 makes metrics bitwise reproducible; --blas-threads is an alias).") var blasThreads = 1

    /// Checks every option and builds the configuration; throws ``UserInputError`` naming the option (exit status 2).
    func makeConfig() throws -> PipelineConfig {
        guard preset == "tiny" else { throw UserInputError("--preset '\(preset)' is unknown; the only preset is 'tiny'") }
        let kind = pipeline
        let est = klEstimator, lt = lossType, placement = klPlacement, sr = scaleRewards
        if klBiasCorrection && placement == .reward { throw UserInputError("--kl-bias-correction weights the loss's KL term; with --kl-placement reward there is none: drop one of them") }
        let schedule = lrScheduler
        func rate(_ v: Double, _ name: String) throws { if !(v > 0 && v.isFinite) { throw UserInputError("\(name) is \(v); expected a positive number") } }
        try SizeLimits.checkTrainSize(trainSize)
        try rate(pretrainLr, "--pretrain-lr"); try rate(sftLr, "--sft-lr"); try rate(rlLr, "--rl-lr")
        if !(temperature > 0 && temperature.isFinite) { throw UserInputError("--temperature is \(temperature); expected > 0") }
        if !(topP > 0 && topP <= 1) { throw UserInputError("--top-p is \(topP); expected 0 < top_p ≤ 1") }
        if !(epsilon > 0 && epsilon < 1) { throw UserInputError("--epsilon is \(epsilon); expected 0 < ε < 1") }
        if !(beta >= 0 && beta.isFinite) { throw UserInputError("--beta (--kl-coef) is \(beta); expected β ≥ 0") }
        if !(pretrainTextFraction >= 0 && pretrainTextFraction <= 1) { throw UserInputError("--pretrain-text-fraction is \(pretrainTextFraction); expected a fraction in [0, 1]") }
        if !(sftLabelNoise >= 0 && sftLabelNoise <= 1) { throw UserInputError("--sft-label-noise is \(sftLabelNoise); expected a probability in [0, 1]") }
        if evalPrompts > 256 && model == nil { throw UserInputError("--eval-prompts is \(evalPrompts); the test split has 256 prompts") }
        if model != nil {
            if base != nil { throw UserInputError("give either --model (a real checkpoint) or --base (a synthetic-task checkpoint), not both") }
            if data == nil { throw UserInputError("--model needs --data FILE (CoLA .tsv or TRL .jsonl)") }
            if !(testFraction > 0 && testFraction < 1) { throw UserInputError("--test-fraction is \(testFraction); expected a fraction in (0, 1)") }
            if case .failure(let e) = TextReward.parse(reward) { throw UserInputError("--reward \(e)") }
        } else if data != nil || testData != nil {
            throw UserInputError("--data and --test-data need --model DIR (the synthetic task brings its own data)")
        } else if reward != "label-words" {
            throw UserInputError("--reward needs --model DIR and --data (the synthetic task brings its own reward)")
        }
        if base == nil && model == nil && pretrainSteps == 0 { throw UserInputError("--pretrain-steps 0 needs --base DIR (a base model to start from)") }
        if let b = base {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: b, isDirectory: &isDir) || !isDir.boolValue {
                throw UserInputError("--base \(b) is not a directory (expected a checkpoint folder with config.json and model.safetensors)")
            }
        }

        var c = PipelineConfig.tiny(pipeline: kind, seed: seed)
        c.task.dataSeed = dataSeed
        c.task.sftLabelNoise = sftLabelNoise
        c.task.trainSize = trainSize
        c.pretrain.steps = base == nil ? pretrainSteps : 0
        c.pretrain.optimizer.learningRate = pretrainLr
        c.pretrain.textFraction = pretrainTextFraction
        c.sft.epochs = sftEpochs
        c.sft.batchSize = sftBatchSize
        c.sft.optimizer.learningRate = sftLr
        c.sft.schedule = schedule
        c.sft.tokenWeight = sftLossType
        c.grpo.schedule = schedule
        c.grpo.steps = rlSteps
        c.grpo.optimizer.learningRate = rlLr
        c.grpo.promptsPerStep = promptsPerStep
        c.grpo.numGenerations = numGenerations
        c.grpo.numIterations = numIterations
        c.grpo.topP = topP
        c.grpo.scaleRewards = sr
        c.grpo.loss.temperature = temperature
        c.grpo.loss.maxCompletionLength = maxCompletionLength
        c.grpo.loss.epsilon = epsilon
        c.grpo.loss.beta = beta
        c.grpo.loss.klEstimator = est
        c.grpo.loss.lossType = lt
        c.grpo.loss.klPlacement = placement
        c.grpo.loss.klBiasCorrection = klBiasCorrection
        c.evalPrompts = evalPrompts
        c.blasThreads = blasThreads
        return c
    }

    /// Checks --out: it may not exist, or be an empty directory, or (with --overwrite) anything.
    func checkOut() throws {
        try validating { try OutputPaths.checkCreatableFolder(out, option: "--out") }
        if !overwrite { try validating { try OutputPaths.checkEmptyFolder(out, option: "--out", overwriteFlag: "--overwrite") } }
    }

    func validate() throws {
        try Bounds.check([("--train-size", trainSize, Bounds.steps), ("--pretrain-steps", pretrainSteps, Bounds.stepsOrZero),
                          ("--sft-epochs", sftEpochs, 0...1_000_000), ("--sft-batch-size", sftBatchSize, Bounds.items),
                          ("--rl-steps", rlSteps, Bounds.stepsOrZero), ("--prompts-per-step", promptsPerStep, Bounds.items),
                          ("--group-size", numGenerations, 2...Bounds.items.upperBound), ("--num-iterations", numIterations, 1...10_000),
                          ("--max-completion-length", maxCompletionLength, Bounds.tokens), ("--eval-prompts", evalPrompts, Bounds.items),
                          ("--threads", blasThreads, Bounds.threads)])
        try Bounds.product([("--prompts-per-step", promptsPerStep), ("--group-size", numGenerations)], limit: Bounds.items.upperBound, what: "completions per GRPO step")
    }

    func run() throws {
        var config = try makeConfig()
        try checkOut()
        if let model { return try runText(config: config, modelDir: model) }
        var loadedBase: Qwen3Model?
        if let b = base {
            do { loadedBase = try Qwen3Model.load(directory: URL(fileURLWithPath: b)) } catch {
                throw UserInputError("cannot load --base \(b): \(error)")
            }
            let tokenizerSize = AcceptabilityTask(config: config.task).tokenizer.count
            if loadedBase!.config.vocabSize != tokenizerSize {
                throw UserInputError("--base \(b) has vocab_size \(loadedBase!.config.vocabSize); the task's tokenizer has \(tokenizerSize)")
            }
            config.model = loadedBase!.config
        }
        BLASThreads.set(config.blasThreads)

        // Progress on stderr: one reporter over every step of every stage.
        let stage1 = config.pipeline == .sftRL ? "sft" : "rl"
        let pipelineForCount = Pipeline(config: config)
        let sftSteps = ((pipelineForCount.task.train.count + config.sft.batchSize - 1) / config.sft.batchSize) * config.sft.epochs
        let totalSteps = config.pretrain.steps + sftSteps + config.grpo.steps + 1
        let result = runWithProgress(pipelineForCount, base: loadedBase, total: totalSteps, label: "train \(config.pipeline.rawValue)", quiet: quiet)
        let outURL = try writeFolderAtomically(out) { staging in
            try TrainOutputs.write(result: result, config: config, stage1: stage1, to: staging,
                             save: { m, url in try m.save(directory: url) }, data: nil, design: nil)
        }
        let s = TrainOutputs.summary(result.rows, config: config)
        print("wrote \(outURL.path) (\(result.rows.count) rows, \(formatFixed(result.wallSeconds["total"] ?? 0, decimals: 1)) s)")
        for line in s.lines { print(line) }
    }
}

/// Runs a pipeline with a progress line: stage, step, and the held-out SFT loss and reward (and the
/// pretraining loss) as they come.
func runWithProgress(_ pipeline: Pipeline, base: Qwen3Model?, total: Int, label: String, quiet: Bool) -> PipelineResult {
    let progress = ProgressReporter(total: total, label: label, quiet: quiet)
    var watch = ConstantRewardWatch()
    let result = pipeline.run(base: base) { p in
        if p.stage == "rl", let v = p.row?.values, let warning = watch.observe(v) {
            FileHandle.standardError.write(Data("\n\(warning)\n".utf8))
        }
        var status = "\(p.stage) \(p.step)/\(p.total)"
        // A non-finite training loss stops the run (exit 1, nothing written) saying where.
        if let v = p.row?.values, let (name, x) = v.sorted(by: { $0.key < $1.key }).first(where: { $0.key.hasSuffix("loss") && !$0.value.isFinite }) {
            progress.finish()
            FileHandle.standardError.write(Data("error: training stopped: \(name) is \(x) at \(p.stage) step \(p.step) of \(p.total); nothing was written — lower the learning rate of that stage\n".utf8))
            Foundation.exit(1)
        }
        if let v = p.row?.values {
            if let l = v["eval_sft_loss"] { status += "  eval_sft_loss \(formatFixed(l, decimals: 3))" }
            if let r = v["eval_reward"] { status += "  eval_reward \(formatFixed(r, decimals: 3))" }
            if p.stage == "pretrain", let l = v["loss"] { status += "  loss \(formatFixed(l, decimals: 3))" }
        }
        progress.advance(status: status)
    }
    progress.finish()
    return result
}

/// Writes a run's folder whole or not at all (`replaceFolderAtomically`: a staging folder, a lock
/// on the destination, one rename into place). Returns the folder's URL.
func writeFolderAtomically(_ out: String, _ write: (URL) throws -> Void) throws -> URL {
    let outURL = URL(fileURLWithPath: out).standardizedFileURL
    try replaceFolderAtomically(at: outURL, write)
    return outURL
}
