import Foundation
import Linalg
import PostTraining
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
    /// The per-token loss −sg(w(π))·log π (``SFTTokenWeight``): nll (w = 1), dft (TRL's, w = π) or
    /// chord-phi (CHORD-φ, w = π(1 − π)).
    public var tokenWeight: SFTTokenWeight = .plain
    public init() {}

    enum CodingKeys: String, CodingKey { case epochs, batchSize, optimizer, schedule, tokenWeight }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        optimizer = try c.decode(AdamWConfig.self, forKey: .optimizer)
        schedule = try c.decodeIfPresent(LRSchedule.self, forKey: .schedule) ?? .constant
        tokenWeight = try c.decodeIfPresent(SFTTokenWeight.self, forKey: .tokenWeight) ?? .plain
    }
    /// `tokenWeight` is written only when it is not plain (manifests of default runs keep their bytes).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(schedule, forKey: .schedule)
        if tokenWeight != .plain { try c.encode(tokenWeight, forKey: .tokenWeight) }
    }
}

/// The weighted SFT loss of a batch from its cross-entropy: with w_n = w(π_n(y_n)) held fixed
/// (``SFTTokenWeight``), loss = (1/M) Σ_n w_n·(−log π_n(y_n)) and dLogits_n = w_n·(π_n − e_{y_n})/M:
/// each counted row of `ce` scaled by its weight, π_n(y_n) from the row's log-softmax (`Softmax`'s).
/// `plain` returns `ce` unchanged.
public func weightedSFTLoss(_ ce: CrossEntropyResult, logits: [Float], targets: [Int32], vocab V: Int, weight: SFTTokenWeight,
                            ignoreIndex: Int32 = -100) -> CrossEntropyResult {
    guard weight != .plain, ce.count > 0 else { return ce }
    var out = ce
    var total = 0.0
    var scratch = [Float](repeating: 0, count: V)
    logits.withUnsafeBufferPointer { lp in
        scratch.withUnsafeMutableBufferPointer { sp in
            for n in targets.indices where targets[n] != ignoreIndex {
                let y = Int(targets[n])
                let logp = Double(lp[n * V + y]) - Softmax.softmax(lp.baseAddress! + n * V, count: V, into: sp.baseAddress!)
                let w = weight.weight(Foundation.exp(logp))
                total -= w * logp
                for j in 0..<V { out.dLogits[n * V + j] = Float(w * Double(ce.dLogits[n * V + j])) }
            }
        }
    }
    out.loss = total / Double(ce.count)
    return out
}

/// Supervised fine-tuning on prompt → completion pairs, loss on the completion tokens only.
///
/// Each step: forward the batch, token-mean cross-entropy on the completion (each token weighted by
/// ``SFTConfig/tokenWeight``: DFT, CHORD-φ), `model.backward`,
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
        let targets = batch.targets()
        let ce = weightedSFTLoss(crossEntropy(logits: logits, targets: targets, vocab: model.config.vocabSize), logits: logits,
                                 targets: targets, vocab: model.config.vocabSize, weight: config.tokenWeight)
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
