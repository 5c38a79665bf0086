import Foundation
import Linalg
import Testing
@testable import Training
import Transformer
import TestSupport

@Suite struct AdamWTests {
    @Test func twoStepsAgainstHandComputation() {
        let w = Tensor(name: "w", shape: [2, 1])
        w.data = [1.0, -2.0]
        let gain = Tensor(name: "g", shape: [2])
        gain.data = [0.5, 0.5]
        let gw = Tensor(name: "w", shape: [2, 1]), gg = Tensor(name: "g", shape: [2])
        var cfg = AdamWConfig(learningRate: 0.1, weightDecay: 0.01, maxGradNorm: 0)
        cfg.epsilon = 1e-8
        let opt = AdamW(parameters: [w, gain], config: cfg)
        // Step 1: g = (0.5, −0.1) for w, (0.2, 0) for the gain.
        gw.data = [0.5, -0.1]; gg.data = [0.2, 0]
        let n1 = opt.step(parameters: [w, gain], gradients: [gw, gg])
        #expect(close(n1, (0.25 + 0.01 + 0.04).squareRoot(), atol: 1e-7))
        // m̂ = g, v̂ = g²: the update is lr·g/(|g| + ε); w also decays by (1 − lr·wd), the gain does not.
        let w1 = [1.0 * (1 - 0.001) - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 * (1 - 0.001) + 0.1 * 0.1 / (0.1 + 1e-8)]
        #expect(close(Double(w.data[0]), w1[0], atol: 1e-6) && close(Double(w.data[1]), w1[1], atol: 1e-6))
        #expect(close(Double(gain.data[0]), 0.5 - 0.1, atol: 1e-6) && gain.data[1] == 0.5)
        // Step 2: g = (−0.3, 0.2) for w.
        gw.data = [-0.3, 0.2]; gg.data = [0, 0]
        opt.step(parameters: [w, gain], gradients: [gw, gg])
        func adam(_ g1: Double, _ g2: Double) -> Double {
            let m = 0.9 * (0.1 * g1) + 0.1 * g2
            let v = 0.999 * (0.001 * g1 * g1) + 0.001 * g2 * g2
            let mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999)
            return mh / (vh.squareRoot() + 1e-8)
        }
        let w2 = [w1[0] * (1 - 0.001) - 0.1 * adam(0.5, -0.3), w1[1] * (1 - 0.001) - 0.1 * adam(-0.1, 0.2)]
        #expect(close(Double(w.data[0]), w2[0], atol: 1e-5) && close(Double(w.data[1]), w2[1], atol: 1e-5))
    }

    @Test func clipsTheGlobalNorm() {
        let w = Tensor(name: "w", shape: [2, 1])
        let g = Tensor(name: "w", shape: [2, 1])
        g.data = [3, 4]
        let opt = AdamW(parameters: [w], config: AdamWConfig(learningRate: 0.1, weightDecay: 0, maxGradNorm: 1))
        #expect(opt.step(parameters: [w], gradients: [g]) == 5)
        // After clipping g = (0.6, 0.8); step 1 of Adam moves by lr·sign, whatever the scale,
        // so check the first moment through a second, unclipped step with g = 0:
        g.data = [0, 0]
        let before = w.data
        opt.step(parameters: [w], gradients: [g])
        // m = 0.9·0.1·0.6 = 0.054, v = 0.999·0.001·0.36; m̂ = 0.054/0.19, v̂ = 0.00035964/0.001999
        let mh = 0.054 / 0.19, vh = 0.999 * 0.001 * 0.36 / (1 - 0.999 * 0.999)
        #expect(close(Double(before[0] - w.data[0]), 0.1 * mh / (vh.squareRoot() + 1e-8), atol: 1e-5))
    }
}

@Suite struct SFTTests {
    @Test func completionOnlyMask() {
        let b = TokenBatch.completionOnly([(prompt: [1, 5, 6], completion: [7, 2]), (prompt: [1, 5], completion: [8, 2])])
        #expect(b.length == 5 && b.batch == 2)
        #expect(b.tokens == [1, 5, 6, 7, 2, 1, 5, 8, 2, 0])
        // Position p predicts token p+1: row 0 targets 7 (p = 2) and <eos> (p = 3); row 1 targets 8 (p = 1), <eos> (p = 2).
        #expect(b.targetMask == [false, false, true, true, false, false, true, true, false, false])
        #expect(b.targetCount == 4 && b.nonPadTokens == 9)

        // The loss ignores the prompt: changing logits at prompt positions changes nothing, and
        // the gradient there is 0.
        let V = 10
        var rng = SeededGenerator(seed: 5)
        var z = (0..<(2 * 5 * V)).map { _ in Float(rng.uniform() * 2 - 1) }
        let ce = crossEntropy(logits: z, targets: b.targets(), vocab: V, withGradient: true)
        for p in [0, 1, 4] { for v in 0..<V { #expect(ce.dLogits[p * V + v] == 0) } }
        for v in 0..<V { z[0 * V + v] += 3; z[(5 + 3) * V + v] -= 2 }  // row 0 p 0, row 1 p 3
        #expect(crossEntropy(logits: z, targets: b.targets(), vocab: V, withGradient: false).loss == ce.loss)
        // And it is the mean of −log softmax at the four targets.
        var want = 0.0
        for (row, p, y) in [(0, 2, 7), (0, 3, 2), (1, 1, 8), (1, 2, 2)] {
            let l = (0..<V).map { Double(z[(row * 5 + p) * V + $0]) }
            let m = l.max()!
            want += m + log(l.map { exp($0 - m) }.reduce(0, +)) - l[y]
        }
        #expect(close(ce.loss, want / 4, atol: 1e-9))
    }

    @Test func crossEntropyGradientMatchesFiniteDifferences() {
        let b = TokenBatch.completionOnly([(prompt: [1, 3], completion: [4, 2]), (prompt: [1], completion: [3, 3, 2])])
        let V = 6
        var rng = SeededGenerator(seed: 9)
        let z = (0..<(b.batch * b.length * V)).map { _ in Float(rng.uniform() * 4 - 2) }
        let g = crossEntropy(logits: z, targets: b.targets(), vocab: V, withGradient: true).dLogits
        var worst = 0.0
        for i in z.indices {
            var zp = z, zm = z
            zp[i] += 1e-2; zm[i] -= 1e-2
            let fd = (crossEntropy(logits: zp, targets: b.targets(), vocab: V, withGradient: false).loss
                - crossEntropy(logits: zm, targets: b.targets(), vocab: V, withGradient: false).loss) / Double(zp[i] - zm[i])
            worst = max(worst, abs(fd - Double(g[i])))
        }
        #expect(worst < 1e-4, "largest |analytic − finite difference| = \(worst)")
    }

    static func tinyModel(_ task: AcceptabilityTask, seed: UInt64 = 1) -> Qwen3Model {
        var c = Qwen3Config.tiny
        c.vocabSize = task.tokenizer.count
        c.maxPositionEmbeddings = 64
        return Qwen3Model(config: c, seed: seed)
    }

    @Test func sftLossDecreasesOnATinyModel() {
        let task = TaskTests.task
        let model = Self.tinyModel(task)
        let pairs = task.train.prefix(16).map { (prompt: task.prompt($0.sentence), completion: task.completion(label: $0.sftLabel)) }
        var cfg = SFTConfig()
        cfg.batchSize = 16
        cfg.optimizer.learningRate = 3e-3
        let trainer = SFTTrainer(model: model, pairs: Array(pairs), config: cfg, seed: 1)
        let first = trainer.step()["loss"]!
        var last = first
        for _ in 0..<14 { last = trainer.step()["loss"]! }
        #expect(last < 0.5 * first, "SFT loss \(first) → \(last)")
        #expect(trainer.tokensSeen > 0)
    }
}

@Suite struct GenerationTests {
    @Test func generationIsSeededAndStopsAtEOS() {
        let task = TaskTests.task
        let model = SFTTests.tinyModel(task, seed: 3)
        let prompts = task.test.prefix(5).map { task.prompt($0.sentence) }
        let s = SamplingConfig(temperature: 1.0, topP: 0.95, maxNewTokens: 4)
        var r1 = SeededGenerator(seed: 8), r2 = SeededGenerator(seed: 8), r3 = SeededGenerator(seed: 9)
        let a = generate(model: model, prompts: Array(prompts), samplesPerPrompt: 3, sampling: s, stopTokens: [WordTokenizer.eos], rng: &r1)
        let b = generate(model: model, prompts: Array(prompts), samplesPerPrompt: 3, sampling: s, stopTokens: [WordTokenizer.eos], rng: &r2)
        let c = generate(model: model, prompts: Array(prompts), samplesPerPrompt: 3, sampling: s, stopTokens: [WordTokenizer.eos], rng: &r3)
        #expect(a == b)
        #expect(a != c)
        #expect(a.count == 5 && a.allSatisfy { $0.count == 3 })
        // Stopping at <eos>: a flat distribution (temperature 5) makes early <eos> likely.
        var r4 = SeededGenerator(seed: 10)
        let many = generate(model: model, prompts: Array(task.test.prefix(16).map { task.prompt($0.sentence) }), samplesPerPrompt: 8,
                            sampling: SamplingConfig(temperature: 5, topP: 1, maxNewTokens: 4), stopTokens: [WordTokenizer.eos], rng: &r4)
        var early = 0
        for comp in (a + many).flatMap({ $0 }) {
            #expect(!comp.isEmpty && comp.count <= 4)
            if let e = comp.firstIndex(of: WordTokenizer.eos) {
                #expect(e == comp.count - 1, "tokens after <eos>: \(comp)")
                if e < 3 { early += 1 }
            } else {
                #expect(comp.count == 4)
            }
        }
        #expect(early > 0, "no completion stopped early: the test did not exercise the stop")
        // Greedy generation equals the arg-max of a full forward pass at the first new token.
        let g = generate(model: model, prompts: [prompts[0]], samplesPerPrompt: 1,
                         sampling: SamplingConfig(temperature: 0, topP: 1, maxNewTokens: 1), stopTokens: [WordTokenizer.eos], rng: &r1)
        let p = prompts[0]
        let logits = model.forward(tokens: p, batch: 1, length: p.count)
        let V = model.config.vocabSize
        let last = Array(logits[((p.count - 1) * V)..<(p.count * V)])
        #expect(g[0][0] == [Int32(last.indices.max(by: { last[$0] < last[$1] })!)])
    }
}

@Suite struct GRPOTrainerTests {
    /// The GRPO gradient through the model, vs a finite difference of the loss along the
    /// gradient direction (one forward per evaluation, so cheap).
    @Test func modelGradientMatchesDirectionalFiniteDifference() {
        let task = TaskTests.task
        let model = SFTTests.tinyModel(task, seed: 4)
        let b = TokenBatch.completionOnly(task.test.prefix(4).enumerated().map { i, ex in
            (prompt: task.prompt(ex.sentence), completion: i % 2 == 0 ? task.completion(label: true) : [task.negativeToken])
        })
        let V = model.config.vocabSize
        var c = GRPOLossConfig()
        c.beta = 0.2
        c.lossType = .grpo
        c.temperature = 0.9
        let adv = [1.0, -0.5, 0.3, -0.8]
        let logits0 = model.forward(tokens: b.tokens, batch: b.batch, length: b.length)
        let cur = tokenLogProbs(logits: logits0, batch: b, vocab: V, temperature: c.temperature)
        let old = cur.indices.map { cur[$0] + [0.05, -0.05, 0.5, -0.5][$0 % 4] }
        let ref = cur.map { $0 - 0.2 }
        func loss() -> (Double, [Float]) {
            let z = model.forward(tokens: b.tokens, batch: b.batch, length: b.length)
            let r = grpoLoss(logits: z, batch: b, vocab: V, advantages: adv, oldLogps: old, refLogps: ref, config: c)
            return (r.loss, r.dLogits)
        }
        model.zeroGradients()
        let (_, d) = loss()
        model.backward(dLogits: d)
        let grads = model.gradients.map(\.data)
        let norm2 = grads.reduce(0.0) { $0 + $1.reduce(0.0) { $0 + Double($1) * Double($1) } }
        #expect(norm2 > 0)
        // L(θ + h·u) − L(θ − h·u) ≈ 2h·‖g‖ with u = g/‖g‖.
        let h = 1e-3, norm = norm2.squareRoot()
        func shift(_ s: Double) {
            for (k, p) in model.parameters.enumerated() {
                for i in p.data.indices { p.data[i] += Float(s * Double(grads[k][i]) / norm) }
            }
        }
        shift(h); let lp = loss().0
        shift(-2 * h); let lm = loss().0
        shift(h)
        let fd = (lp - lm) / (2 * h)
        #expect(close(fd, norm, atol: 1e-3, rtol: 3e-2), "directional derivative \(fd) vs ‖g‖ \(norm)")
    }
}

@Suite struct PipelineTests {
    static func smallConfig(_ kind: PipelineKind) -> PipelineConfig {
        var c = PipelineConfig.tiny(pipeline: kind, seed: 5)
        c.task.trainSize = 64
        c.pretrain.steps = 3
        c.sft.epochs = 1
        c.grpo.steps = 2
        c.grpo.promptsPerStep = 2
        c.grpo.numGenerations = 4
        c.evalPrompts = 8
        return c
    }

    @Test func pipelineIsDeterministicAndLogsEveryStep() {
        // OpenBLAS's thread count is process-wide and other tests set it to 1: pin it before both
        // runs, so that they sum in the same order (2 threads split sums differently).
        BLASThreads.set(1)
        for kind in PipelineKind.allCases {
            let c = Self.smallConfig(kind)
            let r1 = Pipeline(config: c).run()
            let r2 = Pipeline(config: c).run()
            #expect(r1.rows == r2.rows)
            let stages = r1.rows.map(\.stage)
            #expect(stages.filter { $0 == "pretrain" }.count == 3)
            #expect(stages.filter { $0 == "base" }.count == 1)
            #expect(stages.filter { $0 == "sft" }.count == 2)  // 64 examples / 32
            #expect(stages.filter { $0 == "rl" }.count == 2)
            let firstStage = kind == .sftRL ? "sft" : "rl"
            #expect(stages.firstIndex(of: firstStage)! < stages.firstIndex(of: firstStage == "sft" ? "rl" : "sft")!)
            for row in r1.rows where row.stage != "pretrain" {
                for k in ["eval_sft_loss", "eval_reward", "eval_accuracy"] { #expect(row.values[k] != nil, "\(row.stage) \(row.step) \(k)") }
            }
            for row in r1.rows where row.stage == "rl" {
                for k in ["reward", "reward_std", "frac_reward_zero_std", "kl", "entropy", "clip_ratio/region_mean", "clip_ratio/low_mean", "clip_ratio/high_mean", "learning_rate", "epoch", "num_completions", "grad_norm", "loss", "completions/mean_length"] {
                    #expect(row.values[k] != nil)
                }
            }
            for row in r1.rows where row.stage == "sft" {
                for k in ["loss", "mean_token_accuracy", "entropy", "num_tokens", "grad_norm"] { #expect(row.values[k] != nil) }
            }
            for row in r1.rows { for k in row.values.keys { #expect(metricColumns.contains(k), "\(k) is not a column") } }
        }
        var other = Self.smallConfig(.sftRL)
        other.seed = 6
        #expect(Pipeline(config: other).run().rows != Pipeline(config: Self.smallConfig(.sftRL)).run().rows)
    }
}
