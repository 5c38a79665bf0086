import Foundation
@_exported import PostTraining
import Transformer

/// GRPO on the transformer's token batches: the semantics (advantages, clipped surrogate, KL
/// estimators and placement, aggregation) are PostTraining's, shared with the exact instances of
/// Flows; this file lays them out over a `TokenBatch` and pulls the gradient back to the logits.

/// Group advantages of rewards laid out flat as consecutive groups of `groupSize` (one group per
/// prompt): ``groupAdvantages(groups:scaling:)`` (PostTraining, the one definition), flattened back.
public struct FlatGroupAdvantages: Sendable, Equatable {
    /// One per reward, in the input order.
    public var advantages: [Double]
    /// The unbiased standard deviation of each group's rewards.
    public var groupStd: [Double]
    /// TRL's `frac_reward_zero_std`.
    public var zeroStdFraction: Double
}

/// Advantages of flat rewards in groups of `groupSize` (see ``AdvantageScaling``).
public func groupAdvantages(rewards: [Double], groupSize: Int, scale: AdvantageScaling) -> FlatGroupAdvantages {
    precondition(groupSize >= 1 && rewards.count % groupSize == 0,
                 "groupAdvantages: \(rewards.count) rewards do not split into groups of \(groupSize)")
    let groups = stride(from: 0, to: rewards.count, by: groupSize).map { Array(rewards[$0..<($0 + groupSize)]) }
    let g = groupAdvantages(groups: groups, scaling: scale)
    return FlatGroupAdvantages(advantages: Array(g.advantages.joined()), groupStd: g.groupStd, zeroStdFraction: g.zeroStdFraction)
}

/// The weight each token of sequence i carries in the aggregated loss L = Σ_i Σ_t w_i ℓ_it: the
/// flat batch's case of ``LossAggregation/tokenWeight(promptWeight:responses:length:totalTokens:maxLength:)``
/// with prompt weight 1 and N = the number of sequences: 1/(N·|o_i|), 1/Σ_j |o_j|, 1/(N·L_max).
public func tokenWeights(lengths: [Int], lossType: LossAggregation, maxCompletionLength: Int) -> [Double] {
    let n = Double(lengths.count)
    let total = Double(lengths.reduce(0, +))
    return lengths.map { lossType.tokenWeight(promptWeight: 1, responses: n, length: $0, totalTokens: total, maxLength: maxCompletionLength) }
}

/// Settings of the GRPO loss itself (what the gradient depends on).
public struct GRPOLossConfig: Codable, Sendable, Equatable {
    public var epsilon: Double = 0.2
    public var beta: Double = 0.0
    public var klEstimator: KLEstimator = .k3
    public var lossType: LossAggregation = .dapo
    /// Log-probabilities are those of softmax(z / temperature), the sampling temperature (TRL).
    public var temperature: Double = 1.0
    public var maxCompletionLength: Int = 4
    /// Where β·k enters (``KLPlacement``): the loss (TRL) or the rewards before the advantages (verl).
    public var klPlacement: KLPlacement = .loss
    /// TRL's use_bias_correction_kl: the loss's KL term is ρ·k with its gradient.
    public var klBiasCorrection: Bool = false
    public init() {}

    enum CodingKeys: String, CodingKey {
        case epsilon, beta, klEstimator, lossType, temperature, maxCompletionLength, klPlacement, klBiasCorrection
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epsilon = try c.decode(Double.self, forKey: .epsilon)
        beta = try c.decode(Double.self, forKey: .beta)
        klEstimator = try c.decode(KLEstimator.self, forKey: .klEstimator)
        lossType = try c.decode(LossAggregation.self, forKey: .lossType)
        temperature = try c.decode(Double.self, forKey: .temperature)
        maxCompletionLength = try c.decode(Int.self, forKey: .maxCompletionLength)
        klPlacement = try c.decodeIfPresent(KLPlacement.self, forKey: .klPlacement) ?? .loss
        klBiasCorrection = try c.decodeIfPresent(Bool.self, forKey: .klBiasCorrection) ?? false
    }
    /// The KL placement keys are written only when they differ from the defaults (manifests of
    /// default runs keep their bytes).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epsilon, forKey: .epsilon)
        try c.encode(beta, forKey: .beta)
        try c.encode(klEstimator, forKey: .klEstimator)
        try c.encode(lossType, forKey: .lossType)
        try c.encode(temperature, forKey: .temperature)
        try c.encode(maxCompletionLength, forKey: .maxCompletionLength)
        if klPlacement != .loss { try c.encode(klPlacement, forKey: .klPlacement) }
        if klBiasCorrection { try c.encode(klBiasCorrection, forKey: .klBiasCorrection) }
    }
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
    /// Per completion token (in (b, p) order), ℓ^clip + β·k (placement `loss`), before the weights w_i.
    public var tokenLosses: [Double] = []
    /// Per completion token, the KL estimate k(λ − ref) (nil without reference log-probs).
    public var tokenKL: [Double]? = nil
}

/// GRPO loss and its gradient with respect to the logits.
///
/// Sequence i of `batch` (a completion-only `TokenBatch`) has advantage A_i; its completion
/// tokens t (the masked targets, in (b, p) order) have current log-prob λ_it = log softmax(z/T)[y],
/// old log-prob `oldLogps` and, if given, reference log-prob `refLogps`. With w_i from
/// `tokenWeights` and the token term ℓ_it + β k_it of ``GRPOTokenTerm`` (the KL term only under
/// placement `loss`; ρ·k with bias correction),
///   L = Σ_i Σ_t w_i (ℓ_it + β k_it),
///   dL/dz_it = w_i (dℓ/dλ + β dk/dλ) · (onehot(y) − softmax(z_it/T)) / T.
/// Under placement `reward` the caller shapes the rewards (``shapedRewards``) before the advantages.
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
    var logps: [Double] = [], tokenLosses: [Double] = [], tokenKL: [Double] = []
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
                let term = GRPOTokenTerm(logp: logp, oldLogp: oldLogps?[k] ?? logp, refLogp: refLogps?[k], advantage: advantages[b],
                                         epsilon: config.epsilon, epsilonHigh: config.epsilon, klCoefficient: config.beta,
                                         estimator: config.klEstimator, placement: config.klPlacement, biasCorrection: config.klBiasCorrection,
                                         surrogate: config.lossType.surrogate)
                let tokenLoss = term.loss, dLogp = term.dLogp
                if term.clipped { clippedCount += 1; if advantages[b] < 0 { clippedLow += 1 } }
                if let kl = term.kl { klSum += kl; tokenKL.append(kl) }
                tokenLosses.append(tokenLoss)
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
                          clipLow: Double(clippedLow) / n, clipHigh: Double(clippedCount - clippedLow) / n, logps: logps,
                          tokenLosses: tokenLosses, tokenKL: refLogps == nil ? nil : tokenKL)
}

/// Rewards under KL placement `reward` (verl's use_kl_in_reward): r_i − β Σ_t k(old_it − ref_it) per
/// sequence, with the sampling policy's and the reference's per-token log-probs in (b, p) order.
public func shapedRewards(_ rewards: [Double], batch: TokenBatch, oldLogps: [Double], refLogps: [Double], config: GRPOLossConfig) -> [Double] {
    let (B, T) = (batch.batch, batch.length)
    precondition(rewards.count == B, "shapedRewards: \(rewards.count) rewards for \(B) sequences")
    var out = rewards, k = 0
    for b in 0..<B {
        let n = (0..<(T - 1)).filter { batch.targetMask[b * T + $0] }.count
        out[b] -= klRewardPenalty(config.klEstimator, coefficient: config.beta,
                                  oldLogps: Array(oldLogps[k..<(k + n)]), refLogps: Array(refLogps[k..<(k + n)]))
        k += n
    }
    return out
}
