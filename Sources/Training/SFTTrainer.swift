import Foundation
import Linalg
import Transformer

/// A right-padded batch of token sequences with a mask on the *targets*.
///
/// Position p's logits (b, p) predict token (b, p+1); `targetMask[b·T + p]` says whether that
/// prediction counts in the loss. For SFT the mask covers the completion tokens only (the
/// prompt is masked): targets p+1 ∈ [promptLength, promptLength + completionLength).
public struct TokenBatch: Sendable, Equatable {
    public var tokens: [Int32]
    public var batch: Int
    public var length: Int
    public var targetMask: [Bool]

    /// Right-padded sequences where token j of sequence b is a target iff j ≥ firstTarget[b]
    /// (and j ≥ 1): `firstTarget = 1` is plain language modelling, `prompt.count` masks a prompt.
    public static func make(_ sequences: [(tokens: [Int32], firstTarget: Int)]) -> TokenBatch {
        let length = sequences.map(\.tokens.count).max() ?? 0
        var tokens = [Int32](repeating: WordTokenizer.pad, count: sequences.count * length)
        var mask = [Bool](repeating: false, count: sequences.count * length)
        for (b, seq) in sequences.enumerated() {
            for (t, tok) in seq.tokens.enumerated() { tokens[b * length + t] = tok }
            for j in max(seq.firstTarget, 1)..<max(seq.tokens.count, 1) { mask[b * length + j - 1] = true }
        }
        return TokenBatch(tokens: tokens, batch: sequences.count, length: length, targetMask: mask)
    }

    /// Prompt + completion pairs, right-padded with `<pad>`; only completion tokens are targets.
    public static func completionOnly(_ pairs: [(prompt: [Int32], completion: [Int32])]) -> TokenBatch {
        make(pairs.map { (tokens: $0.prompt + $0.completion, firstTarget: $0.prompt.count) })
    }

    /// Plain language-model batch: every token after the first is a target.
    public static func languageModel(_ sequences: [[Int32]]) -> TokenBatch {
        make(sequences.map { (tokens: $0, firstTarget: 1) })
    }

    /// Number of non-pad tokens (TRL's `num_tokens` counts the tokens fed to the model).
    public var nonPadTokens: Int { tokens.reduce(0) { $0 + ($1 == WordTokenizer.pad ? 0 : 1) } }
    public var targetCount: Int { targetMask.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

extension TokenBatch {
    /// The next-token targets, one per position (B·T): token (b, p+1) where the mask counts
    /// position p, `ignoreIndex` elsewhere (the last position of each row is never a target).
    public func targets(ignoreIndex: Int32 = -100) -> [Int32] {
        var out = [Int32](repeating: ignoreIndex, count: batch * length)
        for b in 0..<batch {
            for p in 0..<max(length - 1, 0) where targetMask[b * length + p] { out[b * length + p] = tokens[b * length + p + 1] }
        }
        return out
    }
}

/// SFT hyper-parameters.
public struct SFTConfig: Codable, Sendable, Equatable {
    public var epochs: Int = 2
    public var batchSize: Int = 32
    public var optimizer = AdamWConfig(learningRate: 1e-3, weightDecay: 0.0, maxGradNorm: 1.0)
    public var schedule: LRSchedule = .constant
    public init() {}

    enum CodingKeys: String, CodingKey { case epochs, batchSize, optimizer, schedule }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        optimizer = try c.decode(AdamWConfig.self, forKey: .optimizer)
        schedule = try c.decodeIfPresent(LRSchedule.self, forKey: .schedule) ?? .constant
    }
}

/// Supervised fine-tuning on prompt → completion pairs, loss on the completion tokens only.
///
/// Each step: forward the batch, token-mean cross-entropy on the completion, `model.backward`,
/// AdamW. Logs (TRL names) `loss`, `mean_token_accuracy`, `entropy`, `num_tokens` (cumulative
/// non-pad tokens seen) and `grad_norm` (before clipping). The epoch order is a seeded shuffle.
public final class SFTTrainer {
    public let model: Qwen3Model
    public let config: SFTConfig
    public let optimizer: AdamW
    public private(set) var tokensSeen = 0
    private var examplesSeen = 0
    private let pairs: [(prompt: [Int32], completion: [Int32])]
    private var rng: SeededGenerator
    private var order: [Int] = []
    private var cursor = 0
    private var epoch = 0

    public init(model: Qwen3Model, pairs: [(prompt: [Int32], completion: [Int32])], config: SFTConfig, seed: UInt64) {
        precondition(!pairs.isEmpty, "SFT needs at least one example")
        self.model = model
        self.config = config
        self.pairs = pairs
        self.optimizer = AdamW(parameters: model.parameters, config: config.optimizer)
        self.rng = SeededGenerator(seed: seed)
    }

    /// Steps per epoch (the last batch of an epoch may be smaller).
    public var stepsPerEpoch: Int { (pairs.count + config.batchSize - 1) / config.batchSize }
    public var totalSteps: Int { stepsPerEpoch * config.epochs }

    /// The next batch of the seeded epoch order.
    func nextBatch() -> TokenBatch {
        if cursor >= order.count {
            order = Array(0..<pairs.count)
            rng.shuffle(&order)
            cursor = 0
            epoch += 1
        }
        let end = min(cursor + config.batchSize, order.count)
        let batch = TokenBatch.completionOnly(order[cursor..<end].map { pairs[$0] })
        cursor = end
        return batch
    }

    /// One optimisation step; returns the step's metrics.
    @discardableResult
    public func step() -> [String: Double] {
        let batch = nextBatch()
        model.zeroGradients()
        let logits = model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
        let ce = crossEntropy(logits: logits, targets: batch.targets(), vocab: model.config.vocabSize)
        model.backward(dLogits: ce.dLogits)
        let lr = config.schedule.rate(peak: config.optimizer.learningRate, step: optimizer.stepCount + 1, total: totalSteps)
        let norm = optimizer.step(parameters: model.parameters, gradients: model.gradients, learningRate: lr)
        tokensSeen += batch.nonPadTokens
        examplesSeen += batch.batch
        return ["loss": ce.loss, "mean_token_accuracy": ce.accuracy, "entropy": ce.entropy,
                "num_tokens": Double(tokensSeen), "grad_norm": norm, "learning_rate": lr,
                "epoch": Double(examplesSeen) / Double(pairs.count)]
    }
}
