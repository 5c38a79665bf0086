import Foundation
import Linalg
import Transformer

/// One row of the tidy metric table: a stage, a step within it, and the metrics that apply.
public struct MetricRow: Sendable, Equatable {
    public var stage: String
    public var step: Int
    public var values: [String: Double]
    public init(stage: String, step: Int, values: [String: Double]) {
        self.stage = stage; self.step = step; self.values = values
    }
}

/// The metric columns, in table order (after `stage` and `step`). Training metrics use TRL's
/// names; the cross-objective pair measured at every step of every stage is `eval_sft_loss`
/// and `eval_reward` (with `eval_accuracy`, and `eval_format` = fraction of eval completions the
/// strict training parser accepts). `global_step` counts optimiser steps across the stages after
/// pretraining (the base row is 0); `step` restarts in each stage.
public let metricColumns = [
    "global_step", "epoch", "learning_rate",
    "loss", "grad_norm", "mean_token_accuracy", "entropy", "num_tokens",
    "reward", "reward_std", "frac_reward_zero_std", "kl", "clip_ratio/region_mean", "clip_ratio/low_mean",
    "clip_ratio/high_mean", "num_completions", "completions/mean_length",
    "eval_sft_loss", "eval_sft_token_accuracy", "eval_reward", "eval_accuracy", "eval_format",
]

/// Evaluation on the held-out split, run before the first step (the base model) and after every
/// step of both stages.
///
/// - `eval_sft_loss`: token-mean cross-entropy of the SFT completions (`label <eos>`, with the
///   SFT data's labels) over the whole test split, prompt masked (the paper's SFT test loss).
/// - `eval_reward`: mean@1 reward on the first `rewardPrompts` test prompts: one sample each
///   at temperature 0.6, top_p 0.95, scored by the robust parser (+1 right, −1 wrong or no
///   label word). `eval_accuracy` = fraction right = (1 + eval_reward) / 2.
/// The sampler's generator is re-seeded with the same `seed` at every evaluation (common random
/// numbers), so differences between steps come from the model, not from the draw.
public struct Evaluator: Sendable {
    /// The prompts of the reward evaluation and their robust reward and strict-format test.
    public let rl: RLPrompts
    public let format: @Sendable (_ i: Int, _ c: [Int32]) -> Bool
    public let rewardPrompts: Int
    public let sampling: SamplingConfig
    public let seed: UInt64
    let sftBatches: [TokenBatch]

    /// The synthetic task: SFT loss on every test example, reward on the first `rewardPrompts`.
    public init(task: AcceptabilityTask, rewardPrompts: Int, sampling: SamplingConfig, seed: UInt64) {
        let test = Array(task.test.prefix(rewardPrompts))
        let labels = test.map(\.acceptable)
        self.init(sftPairs: task.test.map { (prompt: task.prompt($0.sentence), completion: task.completion(label: $0.sftLabel)) },
                  rl: RLPrompts(prompts: test.map { task.prompt($0.sentence) },
                                reward: { i, c in task.reward(c, acceptable: labels[i], strict: false) },
                                stopTokens: [WordTokenizer.eos]),
                  format: { _, c in task.strictParse(c) != nil },
                  sampling: sampling, seed: seed)
    }

    /// Any data: SFT loss on `sftPairs`, mean@1 of `rl.reward` (the robust parser) on every
    /// prompt of `rl`, and the fraction that `format` accepts.
    public init(sftPairs pairs: [(prompt: [Int32], completion: [Int32])], rl: RLPrompts,
                format: @escaping @Sendable (Int, [Int32]) -> Bool, sampling: SamplingConfig, seed: UInt64) {
        self.rl = rl
        self.format = format
        self.rewardPrompts = rl.prompts.count
        self.sampling = sampling
        self.seed = seed
        var batches: [TokenBatch] = []
        var i = 0
        while i < pairs.count {
            batches.append(TokenBatch.completionOnly(Array(pairs[i..<min(i + 128, pairs.count)])))
            i += 128
        }
        sftBatches = batches
    }

    /// Token-mean SFT loss and arg-max token accuracy on the test split.
    public func sftLoss(_ model: Qwen3Model) -> (loss: Double, accuracy: Double) {
        var loss = 0.0, correct = 0.0, count = 0
        for b in sftBatches {
            let logits = model.forward(tokens: b.tokens, batch: b.batch, length: b.length)
            let ce = crossEntropy(logits: logits, targets: b.targets(), vocab: model.config.vocabSize, withGradient: false)
            loss += ce.loss * Double(ce.count)
            correct += ce.accuracy * Double(ce.count)
            count += ce.count
        }
        return (loss / Double(count), correct / Double(count))
    }

    /// mean@1 reward (robust parser), accuracy (fraction of samples with a positive reward) and
    /// strict-format rate on the reward subset.
    public func reward(_ model: Qwen3Model) -> (reward: Double, accuracy: Double, format: Double) {
        var rng = SeededGenerator(seed: seed)
        let outs = generate(model: model, prompts: rl.prompts, samplesPerPrompt: 1, sampling: sampling,
                            stopTokens: rl.stopTokens, vocabLimit: rl.vocabLimit, rng: &rng)
        var total = 0.0, formatted = 0, positive = 0, signed = true
        for (i, c) in outs.enumerated() {
            let r = rl.reward(i, c[0])
            total += r
            if r > 0 { positive += 1 }
            if r != 1 && r != -1 { signed = false }
            if format(i, c[0]) { formatted += 1 }
        }
        let n = Double(outs.count)
        // Accuracy: the fraction of rewarded samples; for ±1 rewards that is (mean + 1)/2,
        // computed so (as before) for those; for 1/0 rewards (exact-match, regex) the positives.
        return (total / n, signed ? (total / n + 1) / 2 : Double(positive) / n, Double(formatted) / n)
    }

    /// All evaluation metrics, keyed by their column names.
    public func evaluate(_ model: Qwen3Model) -> [String: Double] {
        let s = sftLoss(model)
        let r = reward(model)
        return ["eval_sft_loss": s.loss, "eval_sft_token_accuracy": s.accuracy,
                "eval_reward": r.reward, "eval_accuracy": r.accuracy, "eval_format": r.format]
    }
}
