import Foundation
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
        var tokens = [Int32](repeating: Tokenizer.pad, count: sequences.count * length)
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
    public var nonPadTokens: Int { tokens.reduce(0) { $0 + ($1 == Tokenizer.pad ? 0 : 1) } }
    public var targetCount: Int { targetMask.reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// Token-level cross-entropy statistics of one batch.
public struct CrossEntropyResult: Sendable {
    /// Mean of −log p(target) over the masked targets.
    public var loss: Double
    /// d loss / d logits (B×T×V), zero outside the mask. Empty if not requested.
    public var dLogits: [Float]
    /// Fraction of masked targets equal to the arg-max of the logits.
    public var accuracy: Double
    /// Mean entropy (nats) of softmax(logits) at the masked positions.
    public var entropy: Double
    public var count: Int
}

/// Cross-entropy of a batch, averaged over the masked targets (token-level mean, TRL's SFT loss).
///
/// loss = (1/N) Σ_{masked (b,p)} −log softmax(z_{b,p})[y_{b,p+1}], N = number of masked targets;
/// d loss / d z_{b,p} = (softmax(z_{b,p}) − onehot(y_{b,p+1})) / N. Log-softmax in Double with the
/// max shift. `withGradient: false` skips the gradient buffer.
public func crossEntropy(logits: [Float], batch: TokenBatch, vocab: Int, withGradient: Bool) -> CrossEntropyResult {
    let (B, T, V) = (batch.batch, batch.length, vocab)
    precondition(logits.count == B * T * V, "crossEntropy: logits has \(logits.count) values, expected \(B)×\(T)×\(V)")
    let n = batch.targetCount
    var dLogits = withGradient ? [Float](repeating: 0, count: logits.count) : []
    var lossSum = 0.0, entropySum = 0.0, correct = 0
    let invN = n > 0 ? 1.0 / Double(n) : 0
    var probs = [Double](repeating: 0, count: V)
    logits.withUnsafeBufferPointer { lp in
        for b in 0..<B {
            for p in 0..<(T - 1) where batch.targetMask[b * T + p] {
                let base = (b * T + p) * V
                let y = Int(batch.tokens[b * T + p + 1])
                var zmax = -Double.infinity
                var arg = 0
                for v in 0..<V where Double(lp[base + v]) > zmax { zmax = Double(lp[base + v]); arg = v }
                var s = 0.0
                for v in 0..<V { let e = exp(Double(lp[base + v]) - zmax); probs[v] = e; s += e }
                let logZ = zmax + log(s)
                lossSum += logZ - Double(lp[base + y])
                var h = 0.0
                for v in 0..<V {
                    let pv = probs[v] / s
                    probs[v] = pv
                    if pv > 0 { h -= pv * (Double(lp[base + v]) - logZ) }
                }
                entropySum += h
                if arg == y { correct += 1 }
                if withGradient {
                    for v in 0..<V { dLogits[base + v] = Float(probs[v] * invN) }
                    dLogits[base + y] -= Float(invN)
                }
            }
        }
    }
    return CrossEntropyResult(loss: lossSum * invN, dLogits: dLogits,
                              accuracy: n > 0 ? Double(correct) / Double(n) : 0,
                              entropy: entropySum * invN, count: n)
}

/// SFT hyper-parameters.
public struct SFTConfig: Codable, Sendable, Equatable {
    public var epochs: Int = 2
    public var batchSize: Int = 32
    public var optimizer = AdamWConfig(learningRate: 1e-3, weightDecay: 0.0, maxGradNorm: 1.0)
    public init() {}
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
    private let pairs: [(prompt: [Int32], completion: [Int32])]
    private var rng: Xoshiro256
    private var order: [Int] = []
    private var cursor = 0
    private var epoch = 0

    public init(model: Qwen3Model, pairs: [(prompt: [Int32], completion: [Int32])], config: SFTConfig, seed: UInt64) {
        precondition(!pairs.isEmpty, "SFT needs at least one example")
        self.model = model
        self.config = config
        self.pairs = pairs
        self.optimizer = AdamW(parameters: model.parameters, config: config.optimizer)
        self.rng = Xoshiro256(seed: seed)
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
        let ce = crossEntropy(logits: logits, batch: batch, vocab: model.config.vocabSize, withGradient: true)
        model.backward(dLogits: ce.dLogits)
        let norm = optimizer.step(parameters: model.parameters, gradients: model.gradients)
        tokensSeen += batch.nonPadTokens
        return ["loss": ce.loss, "mean_token_accuracy": ce.accuracy, "entropy": ce.entropy,
                "num_tokens": Double(tokensSeen), "grad_norm": norm]
    }
}
