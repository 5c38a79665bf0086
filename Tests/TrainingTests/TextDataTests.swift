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
