import Foundation
import Linalg
import Transformer

/// The paper's observables at one checkpoint (`sftrl probe`).
///
/// With θ the parameters, L_S(θ) the token-mean SFT loss on a batch of SFT pairs and
/// J(θ) = E_x E_{y∼π_θ(·|x)} r(x, y) the expected reward on a batch of RL prompts:
/// - **SFT loss** (Lemma 1): the token-mean loss, and the sequence negative log-likelihood
///   −log π(completion | prompt) = −Σ_t log π(y_t | x, y_<t) per example, computed from the
///   per-token log-probabilities; their sums agree (`lemma1Gap`, |Σ_seq NLL − Σ_tokens loss|).
/// - **mean@1 reward**: one sample per prompt at the evaluation sampling (temperature 0.6,
///   top_p 0.95), scored by `evalReward` (the robust parser).
/// - **g_S = ∇L_S** (backward of the token-mean cross-entropy) and **ĝ_J**, the policy-gradient
///   estimate of ∇J from G samples per prompt at `temperature`: with group-mean advantages
///   A_ij = r_ij − mean_j r_ij, ĝ_J = (1/(N·G)) Σ_ij A_ij ∇ log π(y_ij | x_i) (REINFORCE with
///   the group baseline: GRPO's first-iteration gradient without the std scaling, per sequence).
///   Log-probabilities are those of softmax(z / temperature), as in GRPO.
/// - **cosine** cos(−g_S, ĝ_J): the SFT descent direction against the RL ascent direction
///   (R4/R5's misalignment when negative).
/// - **curvature** ĝ_Jᵀ H_S ĝ_J with H_S = ∇²L_S, from a central finite difference of the
///   gradient: H_S v ≈ (g_S(θ + h v) − g_S(θ − h v)) / (2h), v = ĝ_J/‖ĝ_J‖, times ‖ĝ_J‖².
///   R1-local's second-order rise of the SFT loss along the RL direction.
/// - **prediction check**: after the step θ' = θ + η ĝ_J (gradient ascent on J),
///   ΔL_S ≈ η g_Sᵀ ĝ_J (first order) + ½ η² ĝ_Jᵀ H_S ĝ_J (second order); the probe takes the
///   step and measures L_S(θ') − L_S(θ) on the same SFT batch. The first-order gap is O(η²).
/// Each observable is computed on `batches` independent batches; the report gives the mean and a
/// 95% normal interval (mean ± 1.96·sd/√K). Forward and backward passes run `microBatch` rows at a
/// time, gradients accumulated over them (ProbeGradients.swift).
public struct ProbeConfig: Codable, Sendable, Equatable {
    public var batches = 4
    public var sftBatchSize = 8
    public var promptsPerBatch = 4
    public var numGenerations = 4
    public var temperature = 1.0
    public var maxNewTokens = 4
    public var eta = 1e-2
    public var beta = 0.0
    public var hessianStep = 1e-3
    public var evalSampling = SamplingConfig(temperature: 0.6, topP: 0.95, maxNewTokens: 4)
    /// Rows per forward/backward pass (0: a whole batch at once). Gradients accumulate over the
    /// micro-batches; only the order of Float32 sums changes (results agree to about 1e-6).
    public var microBatch = 2
    public init() {}

    /// Rows per pass for a batch of `rows` rows.
    func microBatchRows(_ rows: Int) -> Int { microBatch > 0 ? microBatch : max(rows, 1) }
}

/// One batch's observables.
public struct ProbeBatch: Codable, Sendable, Equatable {
    public var sftLoss: Double
    public var sequenceNLL: Double
    public var lemma1Gap: Double
    public var reward: Double
    public var rlSampleReward: Double
    public var sftGradNorm: Double
    public var rlGradNorm: Double
    public var cosine: Double
    public var curvature: Double
    public var predictedFirstOrder: Double
    public var predictedSecondOrder: Double
    public var measured: Double
}

/// A mean with its 95% normal interval over batches.
public struct Interval: Codable, Sendable, Equatable {
    public var mean: Double
    public var low: Double
    public var high: Double
    public init(_ xs: [Double]) {
        let n = Double(xs.count)
        mean = xs.reduce(0, +) / n
        let m = mean
        let sd = xs.count > 1 ? (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot() : 0
        low = mean - 1.96 * sd / n.squareRoot()
        high = mean + 1.96 * sd / n.squareRoot()
    }
}

public enum Probe {
    /// (⟨g, v⟩, ‖g‖²) for g = model.gradients and v flat in parameter order (nil: v = 0), in Double.
    static func gradientDots(_ model: Qwen3Model, _ v: [Float]?) -> (dot: Double, squaredNorm: Double) {
        var s = 0.0, q = 0.0, k = 0
        for g in model.gradients {
            g.data.withUnsafeBufferPointer { d in
                q += doubleDot(d.baseAddress!, d.baseAddress!, d.count)
                if let v { v.withUnsafeBufferPointer { s += doubleDot(d.baseAddress!, $0.baseAddress! + k, d.count) } }
            }
            k += g.count
        }
        return (s, q)
    }

    /// ĝ_J flat in parameter order (nil when every advantage is 0, so that ĝ_J = 0 and no pass
    /// runs), and the mean reward of the samples.
    static func policyGradient(_ model: Qwen3Model, rl: RLPrompts, indices: [Int], config: ProbeConfig,
                               rng: inout SeededGenerator) -> (gradient: [Float]?, reward: Double) {
        let G = config.numGenerations
        let prompts = indices.map { rl.prompts[$0] }
        let outs = generate(model: model, prompts: prompts, samplesPerPrompt: G,
                            sampling: SamplingConfig(temperature: config.temperature, topP: 1, maxNewTokens: config.maxNewTokens),
                            stopTokens: rl.stopTokens, vocabLimit: rl.vocabLimit, rng: &rng)
        var pairs: [(prompt: [Int32], completion: [Int32])] = [], adv: [Double] = [], total = 0.0
        for (k, i) in indices.enumerated() {
            let r = outs[k].map { rl.reward(i, $0) }
            let m = r.reduce(0, +) / Double(G)
            total += r.reduce(0, +)
            for (c, ri) in zip(outs[k], r) { pairs.append((prompts[k], c)); adv.append(ri - m) }
        }
        let reward = total / Double(pairs.count)
        if adv.allSatisfy({ $0 == 0 }) { return (nil, reward) }
        // Loss −Ĵ = (1/(N·G)) Σ_b −A_b log π(y_b) at temperature τ: row weights A_b/(N·G), scale 1/τ.
        let batch = TokenBatch.completionOnly(pairs)
        model.zeroGradients()
        _ = rowNLL(model, batch, scale: 1 / config.temperature, micro: config.microBatchRows(batch.batch),
                   weights: adv.map { $0 / Double(pairs.count) })
        var g = [Float](repeating: 0, count: model.parameters.reduce(0) { $0 + $1.count })
        var k = 0
        for t in model.gradients {
            for (i, x) in t.data.enumerated() { g[k + i] = -x }
            k += t.count
        }
        return (g, reward)
    }

    /// The observables on one SFT batch and one RL batch; the model is left exactly as it was.
    /// Memory beyond the model: its gradients, ĝ_J and a copy of θ (each parameter-sized; the
    /// copy in bfloat16 when θ is exactly bfloat16), and one micro-batch's activations and logits.
    public static func measure(_ model: Qwen3Model, sft: TokenBatch, rl: RLPrompts, rlIndices: [Int],
                               evaluation: RLPrompts, evalIndices: [Int], config: ProbeConfig, seed: UInt64) -> ProbeBatch {
        var rng = SeededGenerator.derived(seed: seed, label: "probe-rl")
        let micro = config.microBatchRows(sft.batch)
        let theta = ParameterBackup(model)
        // Lemma 1: the sequence NLL from the per-token log-probabilities.
        let logps = targetLogProbs(model, sft, micro: micro)
        var k = 0, seqSum = 0.0
        for b in 0..<sft.batch {
            var nll = 0.0
            for p in 0..<(sft.length - 1) where sft.targetMask[b * sft.length + p] { nll -= logps[k]; k += 1 }
            seqSum += nll
        }
        // mean@1 reward.
        var erng = SeededGenerator.derived(seed: seed, label: "probe-eval")
        let evalOut = generate(model: model, prompts: evalIndices.map { evaluation.prompts[$0] }, samplesPerPrompt: 1,
                               sampling: config.evalSampling, stopTokens: evaluation.stopTokens,
                               vocabLimit: evaluation.vocabLimit, rng: &erng)
        let reward = zip(evalIndices, evalOut).reduce(0.0) { $0 + evaluation.reward($1.0, $1.1[0]) } / Double(max(evalIndices.count, 1))
        // ĝ_J, then g_S = ∇L_S in the model's gradients (L_S the token mean: row weights 1/M).
        let (gJ, sampleReward) = policyGradient(model, rl: rl, indices: rlIndices, config: config, rng: &rng)
        let M = Double(max(sft.targetCount, 1)), uniform = [Double](repeating: 1 / M, count: sft.batch)
        func sftGradient() -> Double {
            model.zeroGradients()
            return rowNLL(model, sft, scale: 1, micro: micro, weights: uniform).reduce(0, +)
        }
        let tokenSum = sftGradient()
        let loss = tokenSum / M
        let (sJ, nS2) = gradientDots(model, gJ)
        let nS = nS2.squareRoot(), nJ = gJ.map { $0.withUnsafeBufferPointer { doubleDot($0.baseAddress!, $0.baseAddress!, $0.count) } }?.squareRoot() ?? 0
        let cosine = nS > 0 && nJ > 0 ? -sJ / (nS * nJ) : 0
        // Curvature along v = ĝ_J/‖ĝ_J‖: vᵀH v ≈ (v·g_S(θ + h v) − v·g_S(θ − h v)) / (2h), times ‖ĝ_J‖².
        var curvature = 0.0, after = loss
        if let gJ, nJ > 0 {
            let h = config.hessianStep, unit = 1 / nJ
            theta.apply(model, plus: h * unit, along: gJ)
            _ = sftGradient()
            let plus = gradientDots(model, gJ).dot * unit
            theta.apply(model, plus: -h * unit, along: gJ)
            _ = sftGradient()
            let minus = gradientDots(model, gJ).dot * unit
            curvature = (plus - minus) / (2 * h) * nJ * nJ
            // The step θ + η ĝ_J and the measured loss (with ĝ_J = 0 the step is θ itself: no change).
            theta.apply(model, plus: config.eta, along: gJ)
            after = rowNLL(model, sft, scale: 1, micro: micro).reduce(0, +) / M
            theta.apply(model, plus: 0, along: nil)
        }
        let first = config.eta * sJ
        return ProbeBatch(sftLoss: loss, sequenceNLL: seqSum / Double(sft.batch), lemma1Gap: abs(seqSum - tokenSum),
                          reward: reward, rlSampleReward: sampleReward, sftGradNorm: nS, rlGradNorm: nJ, cosine: cosine,
                          curvature: curvature, predictedFirstOrder: first,
                          predictedSecondOrder: first + 0.5 * config.eta * config.eta * curvature,
                          measured: after - loss)
    }
}

/// The probe's report: per-batch values and their intervals.
public struct ProbeReport: Codable, Sendable {
    public var config: ProbeConfig
    public var batches: [ProbeBatch]
    public var intervals: [String: Interval]
}

extension Probe {
    /// `config.batches` disjoint batches (cycling when the data is short): batch k uses SFT pairs
    /// k·n…, RL prompts k·m… and evaluation prompts k·m….
    public static func run(_ model: Qwen3Model, sftPairs: [(prompt: [Int32], completion: [Int32])], rl: RLPrompts,
                           evaluation: RLPrompts, config: ProbeConfig, seed: UInt64,
                           progress: (Int) -> Void = { _ in }) -> ProbeReport {
        precondition(!sftPairs.isEmpty && !rl.prompts.isEmpty && !evaluation.prompts.isEmpty, "probe needs SFT pairs and RL prompts")
        var out: [ProbeBatch] = []
        for k in 0..<config.batches {
            let pairs = (0..<config.sftBatchSize).map { sftPairs[(k * config.sftBatchSize + $0) % sftPairs.count] }
            let rlIdx = (0..<config.promptsPerBatch).map { (k * config.promptsPerBatch + $0) % rl.prompts.count }
            let evIdx = (0..<config.promptsPerBatch).map { (k * config.promptsPerBatch + $0) % evaluation.prompts.count }
            out.append(measure(model, sft: TokenBatch.completionOnly(pairs), rl: rl, rlIndices: rlIdx,
                               evaluation: evaluation, evalIndices: evIdx, config: config,
                               seed: SeededGenerator.derivedSeed(seed, "batch-\(k)")))
            progress(k + 1)
        }
        func iv(_ f: (ProbeBatch) -> Double) -> Interval { Interval(out.map(f)) }
        return ProbeReport(config: config, batches: out, intervals: [
            "sft_loss": iv(\.sftLoss), "sequence_nll": iv(\.sequenceNLL), "lemma1_gap": iv(\.lemma1Gap),
            "reward_mean_at_1": iv(\.reward), "rl_sample_reward": iv(\.rlSampleReward),
            "sft_grad_norm": iv(\.sftGradNorm), "rl_grad_norm": iv(\.rlGradNorm), "cosine": iv(\.cosine),
            "curvature": iv(\.curvature), "predicted_first_order": iv(\.predictedFirstOrder),
            "predicted_second_order": iv(\.predictedSecondOrder), "measured": iv(\.measured),
        ])
    }
}
