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
/// 95% normal interval (mean ± 1.96·sd/√K).
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
    public init() {}
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
    /// All gradient values of the model as one vector (parameter order).
    static func flatGradients(_ model: Qwen3Model) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(model.parameters.reduce(0) { $0 + $1.count })
        for g in model.gradients { out.append(contentsOf: g.data) }
        return out
    }

    static func flatParameters(_ model: Qwen3Model) -> [Float] {
        var out: [Float] = []
        for p in model.parameters { out.append(contentsOf: p.data) }
        return out
    }

    /// θ ← base + a·v (flat vectors in parameter order).
    static func setParameters(_ model: Qwen3Model, base: [Float], plus a: Double, along v: [Float]) {
        var k = 0
        let af = Float(a)
        for p in model.parameters {
            p.data.withUnsafeMutableBufferPointer { d in
                for i in 0..<d.count { d[i] = base[k + i] + af * v[k + i] }
            }
            k += p.count
        }
    }

    /// ⟨model.gradients, v⟩ with v flat in parameter order.
    static func dotGradients(_ model: Qwen3Model, _ v: [Float]) -> Double {
        var s = 0.0, k = 0
        for g in model.gradients {
            g.data.withUnsafeBufferPointer { d in for i in 0..<d.count { s += Double(d[i]) * Double(v[k + i]) } }
            k += g.count
        }
        return s
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var s = 0.0
        for i in a.indices { s += Double(a[i]) * Double(b[i]) }
        return s
    }

    /// Token-mean SFT loss of a batch (and its gradient in model.gradients when asked).
    public static func sftLoss(_ model: Qwen3Model, _ batch: TokenBatch, gradient: Bool) -> Double {
        if gradient { model.zeroGradients() }
        let logits = model.forward(tokens: batch.tokens, batch: batch.batch, length: batch.length)
        let ce = crossEntropy(logits: logits, targets: batch.targets(), vocab: model.config.vocabSize, withGradient: gradient)
        if gradient { model.backward(dLogits: ce.dLogits) }
        return ce.loss
    }

    /// ĝ_J in model.gradients' layout, and the mean reward of the samples.
    static func policyGradient(_ model: Qwen3Model, rl: RLPrompts, indices: [Int], config: ProbeConfig,
                               rng: inout SeededGenerator) -> (gradient: [Float], reward: Double) {
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
        let batch = TokenBatch.completionOnly(pairs)
        let (B, T, V) = (batch.batch, batch.length, model.config.vocabSize)
        model.zeroGradients()
        let logits = model.forward(tokens: batch.tokens, batch: B, length: T)
        // Loss −Ĵ = −(1/(N·G)) Σ A log π(y): d/dz = A/(N·G) · (p − onehot(y)) / temperature at each completion token.
        var d = [Float](repeating: 0, count: logits.count)
        let s = Float(1 / config.temperature)
        logits.withUnsafeBufferPointer { lp in
            d.withUnsafeMutableBufferPointer { dp in
                for b in 0..<B where adv[b] != 0 {
                    let coef = Float(adv[b] / Double(B)) * s
                    for p in 0..<(T - 1) where batch.targetMask[b * T + p] {
                        let row = dp.baseAddress! + (b * T + p) * V
                        Softmax.softmax(lp.baseAddress! + (b * T + p) * V, count: V, scale: s, into: row)
                        for v in 0..<V { row[v] *= coef }
                        row[Int(batch.tokens[b * T + p + 1])] -= coef
                    }
                }
            }
        }
        model.backward(dLogits: d)
        var g = flatGradients(model)
        for i in g.indices { g[i] = -g[i] }
        return (g, total / Double(B))
    }

    /// The observables on one SFT batch and one RL batch; the model is left as it was.
    public static func measure(_ model: Qwen3Model, sft: TokenBatch, rl: RLPrompts, rlIndices: [Int],
                               evaluation: RLPrompts, evalIndices: [Int], config: ProbeConfig, seed: UInt64) -> ProbeBatch {
        var rng = SeededGenerator.derived(seed: seed, label: "probe-rl")
        let theta = flatParameters(model)
        // SFT loss and Lemma 1.
        let logits = model.forward(tokens: sft.tokens, batch: sft.batch, length: sft.length)
        let logps = tokenLogProbs(logits: logits, batch: sft, vocab: model.config.vocabSize, temperature: 1)
        var k = 0, seqSum = 0.0
        for b in 0..<sft.batch {
            var nll = 0.0
            for p in 0..<(sft.length - 1) where sft.targetMask[b * sft.length + p] { nll -= logps[k]; k += 1 }
            seqSum += nll
        }
        let loss = sftLoss(model, sft, gradient: true)
        let gS = flatGradients(model)
        let tokenSum = loss * Double(sft.targetCount)
        // mean@1 reward.
        var erng = SeededGenerator.derived(seed: seed, label: "probe-eval")
        let evalOut = generate(model: model, prompts: evalIndices.map { evaluation.prompts[$0] }, samplesPerPrompt: 1,
                               sampling: config.evalSampling, stopTokens: evaluation.stopTokens,
                               vocabLimit: evaluation.vocabLimit, rng: &erng)
        let reward = zip(evalIndices, evalOut).reduce(0.0) { $0 + evaluation.reward($1.0, $1.1[0]) } / Double(max(evalIndices.count, 1))
        // ĝ_J, cosine.
        let (gJ, sampleReward) = policyGradient(model, rl: rl, indices: rlIndices, config: config, rng: &rng)
        let nS = dot(gS, gS).squareRoot(), nJ = dot(gJ, gJ).squareRoot()
        let sJ = dot(gS, gJ)
        let cosine = nS > 0 && nJ > 0 ? -sJ / (nS * nJ) : 0
        // Curvature along v = ĝ_J / ‖ĝ_J‖ by a central difference of g_S.
        var curvature = 0.0
        if nJ > 0 {
            // v = ĝ_J/‖ĝ_J‖; vᵀH v ≈ (v·g_S(θ + h v) − v·g_S(θ − h v)) / (2h), dot products taken
            // straight from the model's gradient tensors (no extra parameter-sized copies).
            let h = config.hessianStep
            let unit = 1 / nJ
            setParameters(model, base: theta, plus: h * unit, along: gJ)
            _ = sftLoss(model, sft, gradient: true)
            let plus = dotGradients(model, gJ) * unit
            setParameters(model, base: theta, plus: -h * unit, along: gJ)
            _ = sftLoss(model, sft, gradient: true)
            let minus = dotGradients(model, gJ) * unit
            curvature = (plus - minus) / (2 * h) * nJ * nJ
        }
        // The step and the measured change.
        setParameters(model, base: theta, plus: config.eta, along: gJ)
        let after = sftLoss(model, sft, gradient: false)
        setParameters(model, base: theta, plus: 0, along: gJ)
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
