import Foundation
import Linalg
import Testing
@testable import Training
import Transformer
import TestSupport

private let fixture = repositoryRoot.appendingPathComponent("Tests/TransformerTests/Fixtures/qwen3-text")

private func temporaryFile(_ name: String, _ text: String) throws -> URL {
    try writeText(text, to: makeTemporaryDirectory("textdata").appendingPathComponent(name))
}

@Suite struct TextDataTests {
    @Test func colaTSV() throws {
        let url = try temporaryFile("cola.tsv", "gj04\t1\t\tOur friends won't buy this analysis.\r\ngj04\t0\t*\tThey drank the pub.\n\n")
        let xs = try CoLA.load(url)
        #expect(xs.count == 2)
        #expect(xs[0].label == true && xs[1].label == false)
        #expect(xs[0].prompt.contains("Sentence: Our friends won't buy this analysis.\nAnswer:"))
        #expect(xs[1].completion == " unacceptable")
        let bad = try temporaryFile("bad.tsv", "gj04\t2\t\tx\n")
        #expect(throws: DataError.badRow(bad.path, 1, "label (column 2) is '2'; expected 1 (acceptable) or 0 (unacceptable)")) { try CoLA.load(bad) }
        let short = try temporaryFile("short.tsv", "gj04\t1\tx\n")
        #expect(throws: DataError.self) { try CoLA.load(short) }
    }

    @Test func parsers() {
        // Strict: exactly one label word and a stop.
        #expect(CoLA.strictParse(" acceptable", ended: true) == true)
        #expect(CoLA.strictParse("unacceptable\n", ended: true) == false)
        #expect(CoLA.strictParse(" acceptable", ended: false) == nil)
        #expect(CoLA.strictParse(" acceptable.", ended: true) == nil)
        #expect(CoLA.strictParse("it is acceptable", ended: true) == nil)
        // Robust: the last whole label word, case-insensitive; "unacceptable" is not "acceptable".
        #expect(CoLA.robustParse("I think it is Unacceptable.") == false)
        #expect(CoLA.robustParse("unacceptable? no: acceptable!") == true)
        #expect(CoLA.robustParse("acceptable, or rather unacceptable") == false)
        #expect(CoLA.robustParse("acceptably fine") == nil)
        #expect(CoLA.reward(text: "meh", ended: true, label: true, strict: false) == -1)
        #expect(CoLA.reward(text: " acceptable", ended: true, label: true, strict: true) == 1)
    }

    @Test func trlJSONLFormats() throws {
        let xs = [TextExample(prompt: "P1", completion: " acceptable", label: nil),
                  TextExample(prompt: "P2 \"q\"\n", completion: " unacceptable", label: nil)]
        let pc = try TextDataset.load(temporaryFile("pc.jsonl", TextDataset.promptCompletionJSONL(xs)))
        #expect(pc.map(\.prompt) == ["P1", "P2 \"q\"\n"] && pc.map(\.completion) == [" acceptable", " unacceptable"])
        #expect(pc.map(\.label) == [true, false])  // read back from the completion
        let chat = try TextDataset.load(temporaryFile("m.jsonl", TextDataset.messagesJSONL(xs)))
        #expect(chat.allSatisfy(\.conversational) && chat[1].completion == "unacceptable")
        let rl = try TextDataset.load(temporaryFile("rl.jsonl", TextDataset.promptLabelJSONL(pc)))
        #expect(rl.map(\.label) == [true, false] && rl.allSatisfy { $0.completion == nil })
        let bad = try temporaryFile("bad.jsonl", "{\"prompt\": \"x\"}\n")
        #expect(throws: DataError.badRow(bad.path, 1, "a \"prompt\" row needs a \"completion\" (SFT) or a \"label\" (RL)")) { try TextDataset.load(bad) }
    }

    /// Both pipelines on a CoLA-format file and a random Qwen3 with a real-format tokenizer; the
    /// text SFT loss is the token cross-entropy of the completion + eos.
    @Test func textPipelineRuns() throws {
        let tm = try TextModel(directory: fixture)
        let rows = (0..<24).map { i in "s\t\(i % 2)\t\t" + ["the dog runs", "the dogs runs", "my cats sleep", "a bird sing"][i % 4] + " \(i)" }
        let train = try CoLA.load(temporaryFile("t.tsv", rows.joined(separator: "\n")))
        let text = TextTask(tokenizer: tm.tokenizer, stopTokens: tm.eosTokenIds, eos: TextModel.primaryEosTokenId(directory: fixture)!)
        let pair = text.sftPairs([train[0]])[0]
        #expect(pair.completion.last == tm.tokenizer.id(of: "<|im_end|>"))
        #expect(try tm.tokenizer.decode(Array(pair.completion.dropLast())) == " unacceptable")
        var config = PipelineConfig(model: tm.model.config)
        config.pretrain.steps = 0
        config.sft.epochs = 1; config.sft.batchSize = 8
        config.grpo.steps = 2; config.grpo.promptsPerStep = 2; config.grpo.numGenerations = 3
        config.grpo.schedule = .linear
        let data = text.pipelineData(train: Array(train.prefix(20)), test: Array(train.suffix(4)), evalPrompts: 4,
                                     sampling: config.evalSampling, seed: 1)
        let result = Pipeline(config: config, data: data).run(base: tm.model.copy())
        #expect(result.rows.map(\.stage) == ["base", "sft", "sft", "sft", "rl", "rl"])
        #expect(result.rows.map { $0.values["global_step"]! } == [0, 1, 2, 3, 4, 5])
        let rl = result.rows.filter { $0.stage == "rl" }
        #expect(rl.map { $0.values["learning_rate"]! } == [3e-4, 1.5e-4])
        #expect(rl.allSatisfy { $0.values["num_completions"] == 6 })
        let sft = result.rows.filter { $0.stage == "sft" }
        #expect(sft.last!.values["epoch"] == 1)
        #expect(result.rows[0].values["eval_sft_loss"]! > 0)
    }
}

@Suite struct ProbeTests {
    /// Micro-batching changes only the order of Float32 sums: the probe with micro-batches of 1, 2
    /// and 4 rows (gradients accumulated over them) equals the probe on whole batches to 1e-5
    /// relative, every observable but the curvature (a central difference of Float32 gradients,
    /// held to 1e-5 relative plus 2⁻²³·‖g_S‖·‖ĝ_J‖²/h: measured 1.3e-5 to 7e-5 relative here) and
    /// the Lemma 1 gap (about 1e-13 either way, to 1e-9 absolute).
    /// Planted bugs, each caught: gradients zeroed per micro-batch (only the last one's kept), the
    /// token mean taken per micro-batch (weights 1/M_micro).
    @Test func microBatchesEqualWholeBatches() throws {
        BLASThreads.set(1)
        let tm = try TextModel(directory: fixture)
        let rows = (0..<16).map { i in "s\t\(i % 2)\t\tthe dog\(i % 3 == 0 ? "s" : "") near \(i % 4 == 0 ? "my old" : "my") cat run\(i % 2 == 0 ? "s" : "")" }
        let xs = try CoLA.load(temporaryFile("m.tsv", rows.joined(separator: "\n")))
        let text = TextTask(tokenizer: tm.tokenizer, stopTokens: tm.eosTokenIds, eos: TextModel.primaryEosTokenId(directory: fixture)!)
        let rl = RLPrompts(prompts: text.rlPrompts(xs, strict: true).prompts, reward: { _, c in c.first.map { $0 % 2 == 0 ? 1 : -1 } ?? -1 },
                           stopTokens: text.stopTokens, vocabLimit: tm.tokenizer.size)
        var c = ProbeConfig()
        c.batches = 2; c.sftBatchSize = 5; c.promptsPerBatch = 3; c.numGenerations = 3; c.maxNewTokens = 3; c.eta = 2e-3
        c.microBatch = 0
        let whole = Probe.run(tm.model, sftPairs: text.sftPairs(xs), rl: rl, evaluation: rl, config: c, seed: 5).batches
        #expect(whole.allSatisfy { $0.rlGradNorm > 0 && $0.curvature != 0 })
        for m in [1, 2, 4] {
            c.microBatch = m
            let parts = Probe.run(tm.model, sftPairs: text.sftPairs(xs), rl: rl, evaluation: rl, config: c, seed: 5).batches
            for (a, b) in zip(whole, parts) {
                let pairs: [(String, Double, Double)] = [
                    ("sft_loss", a.sftLoss, b.sftLoss), ("sequence_nll", a.sequenceNLL, b.sequenceNLL),
                    ("reward", a.reward, b.reward), ("rl_sample_reward", a.rlSampleReward, b.rlSampleReward),
                    ("sft_grad_norm", a.sftGradNorm, b.sftGradNorm), ("rl_grad_norm", a.rlGradNorm, b.rlGradNorm),
                    ("cosine", a.cosine, b.cosine), ("predicted_first_order", a.predictedFirstOrder, b.predictedFirstOrder),
                    ("measured", a.measured, b.measured)]
                for (name, x, y) in pairs {
                    #expect(abs(x - y) <= 1e-5 * max(abs(x), abs(y)), "micro-batch \(m): \(name) \(y) vs whole \(x)")
                }
                // The curvature is a central difference: Float32 rounding u = 2⁻²³ in ⟨v, g_S(θ ± hv)⟩
                // (size ‖g_S‖) is divided by 2h, then multiplied by ‖ĝ_J‖².
                let fd = 0x1p-23 * a.sftGradNorm * a.rlGradNorm * a.rlGradNorm / c.hessianStep
                #expect(abs(a.curvature - b.curvature) <= 1e-5 * abs(a.curvature) + fd, "micro-batch \(m): curvature \(b.curvature) vs \(a.curvature)")
                #expect(abs(a.predictedSecondOrder - b.predictedSecondOrder) <= 1e-5 * abs(a.predictedSecondOrder) + 0.5 * c.eta * c.eta * fd)
                #expect(abs(a.lemma1Gap - b.lemma1Gap) <= 1e-9, "micro-batch \(m): lemma1 gap \(b.lemma1Gap) vs \(a.lemma1Gap)")
            }
        }
    }

    /// θ is kept in bfloat16 exactly when every parameter is a bfloat16 value, in Float32
    /// otherwise, and θ + a·v then a = 0 gives back θ's bits either way.
    @Test func parameterBackupRestoresExactly() {
        let model = Qwen3Model(config: .tiny, seed: 8, threads: 1)
        let n = model.parameters.reduce(0) { $0 + $1.count }
        var vg = SeededGenerator(seed: 1)
        let v = (0..<n).map { _ in Float(vg.uniform(-1, 1)) }
        for rounded in [false, true] {
            if rounded { for t in model.parameters { t.data = t.data.map { Float(bitPattern: $0.bitPattern & 0xFFFF_0000) } } }
            let before = model.parameters.map(\.data)
            let backup = ParameterBackup(model)
            #expect(backup.bytes == (rounded ? 2 : 4) * n)
            backup.apply(model, plus: 0.25, along: v)
            #expect(model.parameters.map(\.data) != before)
            #expect(model.parameters[1].data[0] == before[1][0] + 0.25 * v[model.parameters[0].count])
            backup.apply(model, plus: 0, along: nil)
            #expect(model.parameters.map(\.data) == before)
        }
    }

    /// The probe checks its own prediction: as η shrinks, the gap between the measured SFT-loss
    /// change and the first-order prediction η g_Sᵀ ĝ_J closes like η² (ratio ≈ 4 per halving),
    /// and the second-order prediction (with the finite-difference curvature) is closer still.
    @Test func predictionGapClosesQuadratically() throws {
        BLASThreads.set(1)   // process-wide: another test setting it mid-run would change the sums' order
        let tm = try TextModel(directory: fixture)
        let rows = (0..<16).map { i in "s\t\(i % 2)\t\tthe dog\(i % 3 == 0 ? "s" : "") near my cat run\(i % 2 == 0 ? "s" : "")" }
        let xs = try CoLA.load(temporaryFile("p.tsv", rows.joined(separator: "\n")))
        let text = TextTask(tokenizer: tm.tokenizer, stopTokens: tm.eosTokenIds, eos: TextModel.primaryEosTokenId(directory: fixture)!)
        let pairs = text.sftPairs(xs)
        // A reward that varies within groups, so that ĝ_J ≠ 0 on a random model: +1 for an even first token.
        let rl = RLPrompts(prompts: text.rlPrompts(xs, strict: true).prompts, reward: { _, c in c.first.map { $0 % 2 == 0 ? 1 : -1 } ?? -1 },
                           stopTokens: text.stopTokens, vocabLimit: tm.tokenizer.size)
        var c = ProbeConfig()
        c.batches = 1; c.sftBatchSize = 6; c.promptsPerBatch = 3; c.numGenerations = 4; c.maxNewTokens = 3
        var gaps: [Double] = [], gaps2: [Double] = []
        var first: ProbeBatch?
        for eta in [4e-3, 2e-3, 1e-3, 5e-4] {
            c.eta = eta
            let b = Probe.run(tm.model, sftPairs: pairs, rl: rl, evaluation: rl, config: c, seed: 3).batches[0]
            if first == nil { first = b }
            // The same ĝ_J at every η (same seed), and the model is restored after each probe.
            #expect(b.rlGradNorm == first!.rlGradNorm && b.sftLoss == first!.sftLoss)
            gaps.append(abs(b.measured - b.predictedFirstOrder))
            gaps2.append(abs(b.measured - b.predictedSecondOrder))
            print("probe η \(eta): measured \(b.measured) first-order \(b.predictedFirstOrder) second-order \(b.predictedSecondOrder)")
        }
        let b = first!
        #expect(b.rlGradNorm > 0 && b.sftGradNorm > 0)
        #expect(b.lemma1Gap < 1e-9 * max(1, b.sequenceNLL * 6))
        #expect(abs(b.cosine) <= 1)
        for k in 1..<gaps.count {
            let ratio = gaps[k - 1] / gaps[k]
            #expect(ratio > 3 && ratio < 5.5, "gap ratio \(ratio) at step \(k): not quadratic (gaps \(gaps))")
            #expect(gaps2[k] < 0.5 * gaps[k], "second order does not improve: \(gaps2) vs \(gaps)")
        }
    }
}
