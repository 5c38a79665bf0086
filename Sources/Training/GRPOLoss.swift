import Foundation
import Transformer

/// The mathematics of GRPO, separate from the trainer so that each piece can be tested on its
/// own: group advantages, the clipped-ratio surrogate, the KL estimators, the loss aggregations,
/// and the gradient of the whole loss with respect to the logits.

/// How rewards are scaled after the group mean is subtracted (TRL's `scale_rewards`).
public enum ScaleRewards: String, Codable, CaseIterable, Sendable {
    /// Divide by the group's standard deviation (GRPO).
    case group
    /// Divide by the standard deviation of all rewards in the batch.
    case batch
    /// No scaling (Dr. GRPO).
    case none
}

/// How per-token losses are aggregated (TRL's `loss_type`).
public enum GRPOLossType: String, Codable, CaseIterable, Sendable {
    /// Mean over each sequence's tokens, then mean over sequences.
    case grpo
    /// Sum over all completion tokens of the batch / total number of completion tokens.
    case dapo
    /// Sum over all completion tokens / (number of sequences × max completion length).
    case drGrpo = "dr_grpo"
}

/// Per-token estimators of KL(π_θ ‖ π_ref) from a sample of π_θ, with ρ = π_ref/π_θ and
/// lr = log ρ = log π_ref − log π_θ (Schulman's k1, k2, k3; verl's kl, mse, low_var_kl).
public enum KLEstimator: String, Codable, CaseIterable, Sendable {
    /// k1 = −lr; d k1 / d log π_θ = 1.
    case k1
    /// k2 = ½ lr²; d k2 / d log π_θ = −lr.
    case k2
    /// k3 = ρ − lr − 1 (≥ 0); d k3 / d log π_θ = 1 − ρ.
    case k3

    /// The estimate and its derivative with respect to log π_θ(token).
    public func value(logp: Double, refLogp: Double) -> (value: Double, dLogp: Double) {
        let lr = refLogp - logp
        switch self {
        case .k1: return (-lr, 1)
        case .k2: return (0.5 * lr * lr, -lr)
        case .k3: let rho = exp(lr); return (rho - lr - 1, 1 - rho)
        }
    }
}

/// Group-normalised advantages.
public struct GroupAdvantages: Sendable, Equatable {
    /// One per reward, in the input order.
    public var advantages: [Double]
    /// The unbiased standard deviation of each group's rewards.
    public var groupStd: [Double]
    /// Fraction of groups whose rewards are all equal (std < 1e-12): their advantages are 0 and
    /// they contribute no policy gradient (TRL's `frac_reward_zero_std`).
    public var zeroStdFraction: Double
}

/// Advantages for rewards laid out as consecutive groups of `groupSize` (one group per prompt).
///
/// A_i = (r_i − mean_g) / (s + 1e-4) with s = the group's unbiased std (`.group`), the batch's
/// unbiased std (`.batch`), or A_i = r_i − mean_g (`.none`). A zero-variance group gives 0 in
/// every mode. A group of size 1 has std 0 (defined here, not NaN).
public func groupAdvantages(rewards: [Double], groupSize: Int, scale: ScaleRewards) -> GroupAdvantages {
    precondition(groupSize >= 1 && rewards.count % groupSize == 0,
                 "groupAdvantages: \(rewards.count) rewards do not split into groups of \(groupSize)")
    func unbiasedStd(_ xs: ArraySlice<Double>) -> Double {
        guard xs.count > 1 else { return 0 }
        let m = xs.reduce(0, +) / Double(xs.count)
        let ss = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (ss / Double(xs.count - 1)).squareRoot()
    }
    let groups = rewards.count / groupSize
    let batchStd = unbiasedStd(rewards[...])
    var adv = [Double](repeating: 0, count: rewards.count)
    var stds: [Double] = []
    var zero = 0
    for g in 0..<groups {
        let slice = rewards[(g * groupSize)..<((g + 1) * groupSize)]
        let mean = slice.reduce(0, +) / Double(groupSize)
        let std = unbiasedStd(slice)
        stds.append(std)
        if std < 1e-12 { zero += 1 }
        for i in slice.indices {
            let centred = rewards[i] - mean
            switch scale {
            case .group: adv[i] = centred / (std + 1e-4)
            case .batch: adv[i] = centred / (batchStd + 1e-4)
            case .none: adv[i] = centred
            }
        }
    }
    return GroupAdvantages(advantages: adv, groupStd: stds,
                           zeroStdFraction: groups > 0 ? Double(zero) / Double(groups) : 0)
}

/// The weight each token of sequence i carries in the aggregated loss L = Σ_i Σ_t w_i ℓ_it.
///
/// `.grpo`: w_i = 1 / (N·|o_i|); `.dapo`: w_i = 1 / Σ_j |o_j|; `.drGrpo`: w_i = 1 / (N·L_max),
/// with N sequences, |o_i| the completion lengths and L_max = `maxCompletionLength`.
/// A sequence of length 0 gets weight 0.
public func tokenWeights(lengths: [Int], lossType: GRPOLossType, maxCompletionLength: Int) -> [Double] {
    let n = Double(lengths.count)
    let total = Double(lengths.reduce(0, +))
    return lengths.map { len in
        guard len > 0 else { return 0 }
        switch lossType {
        case .grpo: return 1 / (n * Double(len))
        case .dapo: return 1 / total
        case .drGrpo: return 1 / (n * Double(maxCompletionLength))
        }
    }
}

/// The clipped-ratio surrogate of one token and its derivative with respect to log π_θ.
///
/// r = exp(logp − oldLogp); ℓ = −min(r·A, clip(r, 1−ε, 1+ε)·A).
/// dℓ/d logp = −A·r when the unclipped term is the minimum (always the case for r inside
/// [1−ε, 1+ε]), and 0 when the clipped term is strictly smaller (r < 1−ε with A < 0, or
/// r > 1+ε with A > 0: `clipped` is then true, TRL's clip-ratio region).
public func clippedSurrogate(logp: Double, oldLogp: Double, advantage a: Double, epsilon: Double) -> (loss: Double, dLogp: Double, clipped: Bool) {
    let r = exp(logp - oldLogp)
    let unclipped = r * a
    let clippedTerm = min(max(r, 1 - epsilon), 1 + epsilon) * a
    if unclipped <= clippedTerm { return (-unclipped, -a * r, false) }
    return (-clippedTerm, 0, true)
}

/// Settings of the GRPO loss itself (what the gradient depends on).
public struct GRPOLossConfig: Codable, Sendable, Equatable {
    public var epsilon: Double = 0.2
    public var beta: Double = 0.0
    public var klEstimator: KLEstimator = .k3
    public var lossType: GRPOLossType = .dapo
    /// Log-probabilities are those of softmax(z / temperature), the sampling temperature (TRL).
    public var temperature: Double = 1.0
    public var maxCompletionLength: Int = 4
    public init() {}
}

/// Per-token log π(y | ·) = log softmax(z / T)[y] at every masked target, in (b, p) order.
public func tokenLogProbs(logits: [Float], batch: TokenBatch, vocab: Int, temperature: Double) -> [Double] {
    let (B, T, V) = (batch.batch, batch.length, vocab)
    precondition(logits.count == B * T * V, "tokenLogProbs: logits has \(logits.count) values, expected \(B)×\(T)×\(V)")
    var out: [Double] = []
    logits.withUnsafeBufferPointer { lp in
        for b in 0..<B {
            for p in 0..<(T - 1) where batch.targetMask[b * T + p] {
                let base = (b * T + p) * V
                let logZ = Softmax.logSumExp(lp.baseAddress! + base, count: V, scale: Float(1 / temperature))
                let y = Int(batch.tokens[b * T + p + 1])
                out.append(Double(Float(1 / temperature)) * Double(lp[base + y]) - logZ)
            }
        }
    }
    return out
}

/// The value and logit gradient of one GRPO loss evaluation.
public struct GRPOLossResult: Sendable {
    /// L = Σ_i Σ_t w_i (ℓ^clip_it + β·k_it).
    public var loss: Double
    /// dL/dz (B×T×V).
    public var dLogits: [Float]
    /// Token-mean of the KL estimate (nil without reference log-probs).
    public var kl: Double?
    /// Token-mean entropy of softmax(z/T) over completion tokens.
    public var entropy: Double
    /// Fraction of completion tokens in the clipped region (TRL's clip_ratio/region_mean):
    /// clipLow + clipHigh.
    public var clipRatio: Double
    /// Fraction with r < 1 − ε and A < 0 (TRL's clip_ratio/low_mean).
    public var clipLow: Double = 0
    /// Fraction with r > 1 + ε and A > 0 (TRL's clip_ratio/high_mean).
    public var clipHigh: Double = 0
    /// Current per-token log-probs (the "old" ones on the first iteration).
    public var logps: [Double]
}

/// GRPO loss and its gradient with respect to the logits.
///
/// Sequence i of `batch` (a completion-only `TokenBatch`) has advantage A_i; its completion
/// tokens t (the masked targets, in (b, p) order) have current log-prob λ_it = log softmax(z/T)[y],
/// old log-prob `oldLogps` and, if given, reference log-prob `refLogps`. With w_i from
/// `tokenWeights`, ℓ_it from `clippedSurrogate` and k_it from the KL estimator,
///   L = Σ_i Σ_t w_i (ℓ_it + β k_it),
///   dL/dz_it = w_i (dℓ/dλ + β dk/dλ) · (onehot(y) − softmax(z_it/T)) / T.
/// With `oldLogps == nil` the old policy is the current one (ratio 1, μ = 1).
public func grpoLoss(logits: [Float], batch: TokenBatch, vocab: Int, advantages: [Double],
                     oldLogps: [Double]?, refLogps: [Double]?, config: GRPOLossConfig) -> GRPOLossResult {
    let (B, T, V) = (batch.batch, batch.length, vocab)
    precondition(advantages.count == B, "grpoLoss: \(advantages.count) advantages for \(B) sequences")
    precondition(logits.count == B * T * V, "grpoLoss: logits has \(logits.count) values, expected \(B)×\(T)×\(V)")
    var lengths = [Int](repeating: 0, count: B)
    for b in 0..<B { for p in 0..<T where batch.targetMask[b * T + p] { lengths[b] += 1 } }
    let weights = tokenWeights(lengths: lengths, lossType: config.lossType, maxCompletionLength: config.maxCompletionLength)
    let totalTokens = lengths.reduce(0, +)
    if let o = oldLogps { precondition(o.count == totalTokens, "grpoLoss: \(o.count) old log-probs for \(totalTokens) tokens") }
    if let r = refLogps { precondition(r.count == totalTokens, "grpoLoss: \(r.count) reference log-probs for \(totalTokens) tokens") }
    let invT = 1 / config.temperature
    var dLogits = [Float](repeating: 0, count: logits.count)
    var probs = [Float](repeating: 0, count: V)
    let sT = Float(invT)
    var loss = 0.0, klSum = 0.0, entropySum = 0.0
    var clippedCount = 0, clippedLow = 0, k = 0
    var logps: [Double] = []
    logps.reserveCapacity(totalTokens)
    logits.withUnsafeBufferPointer { lp in
        for b in 0..<B {
            for p in 0..<(T - 1) where batch.targetMask[b * T + p] {
                let base = (b * T + p) * V
                let y = Int(batch.tokens[b * T + p + 1])
                let logZ = probs.withUnsafeMutableBufferPointer { pp in
                    Softmax.softmax(lp.baseAddress! + base, count: V, scale: sT, into: pp.baseAddress!)
                }
                var mean = 0.0
                for v in 0..<V { mean += Double(probs[v]) * Double(sT) * Double(lp[base + v]) }
                let h = logZ - mean
                entropySum += h
                let logp = Double(sT) * Double(lp[base + y]) - logZ
                logps.append(logp)
                let old = oldLogps?[k] ?? logp
                let sur = clippedSurrogate(logp: logp, oldLogp: old, advantage: advantages[b], epsilon: config.epsilon)
                var tokenLoss = sur.loss
                var dLogp = sur.dLogp
                if sur.clipped { clippedCount += 1; if advantages[b] < 0 { clippedLow += 1 } }
                if let ref = refLogps?[k] {
                    let kl = config.klEstimator.value(logp: logp, refLogp: ref)
                    klSum += kl.value
                    tokenLoss += config.beta * kl.value
                    dLogp += config.beta * kl.dLogp
                }
                loss += weights[b] * tokenLoss
                let coef = weights[b] * dLogp * Double(sT)
                if coef != 0 {
                    for v in 0..<V { dLogits[base + v] = Float(-coef * Double(probs[v])) }
                    dLogits[base + y] += Float(coef)
                }
                k += 1
            }
        }
    }
    let n = Double(max(totalTokens, 1))
    return GRPOLossResult(loss: loss, dLogits: dLogits, kl: refLogps == nil ? nil : klSum / n,
                          entropy: entropySum / n, clipRatio: Double(clippedCount) / n,
                          clipLow: Double(clippedLow) / n, clipHigh: Double(clippedCount - clippedLow) / n, logps: logps)
}
