import Foundation
import Linalg
import Testing
@testable import Transformer

/// Text in, text out, against transformers on a tiny random Qwen3 whose vocabulary is padded past
/// its tokenizer (fixture by scripts/make_text_fixture.py).
@Suite struct TextModelTests {
    struct Record: Decodable {
        let text: String
        let ids: [Int32]
        let logits_from: Int
        let logits: [[Float]]
        let greedy: [Int32]
        let greedy_text: String
    }
    struct Golden: Decodable { let tokenizer_size: Int; let vocab_size: Int; let max_new_tokens: Int; let records: [Record] }

    static let dir = fixtureURL("qwen3-text")
    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: dir.appendingPathComponent("lm-golden.json")))
    }

    @Test func folderReadsModelTokenizerAndStopIds() throws {
        let tm = try TextModel(directory: Self.dir)
        let g = try Self.golden()
        #expect(tm.model.config.vocabSize == g.vocab_size && tm.tokenizer.size == g.tokenizer_size)
        #expect(tm.tokenizer.size < tm.model.config.vocabSize)
        // config.json says <|im_end|>; generation_config.json adds <|endoftext|>.
        #expect(tm.eosTokenIds == [tm.tokenizer.id(of: "<|endoftext|>")!, tm.tokenizer.id(of: "<|im_end|>")!].sorted())
    }

    @Test func textLogitsMatchTransformers() throws {
        let tm = try TextModel(directory: Self.dir)
        let V = tm.model.config.vocabSize
        var worst: Float = 0
        for r in try Self.golden().records {
            let ids = tm.tokenizer.encode(r.text)
            #expect(ids == r.ids, "\(r.text.debugDescription)")
            let logits = tm.model.forward(tokens: ids, batch: 1, length: ids.count)
            for (k, row) in r.logits.enumerated() {
                let t = r.logits_from + k
                for v in 0..<V { worst = max(worst, abs(logits[t * V + v] - row[v])) }
            }
        }
        print("text logits: max |swift − transformers| = \(worst)")
        #expect(worst < 1e-4)
    }

    @Test func greedyGenerationMatchesTransformers() throws {
        let tm = try TextModel(directory: Self.dir)
        let g = try Self.golden()
        var stoppedEarly = 0
        for r in g.records {
            let out = tm.generate(prompt: r.text, sampling: SamplingConfig(temperature: 0, topP: 1, maxNewTokens: g.max_new_tokens), seed: 0)
            #expect(out.ids == r.greedy, "\(r.text.debugDescription)")
            #expect(try tm.tokenizer.decode(out.ids) == r.greedy_text)
            if out.ids.count < g.max_new_tokens { stoppedEarly += 1 }
        }
        #expect(stoppedEarly > 0, "no golden generation stopped at an eos id: the stop is not exercised")
    }

    /// Sampling is seeded, stays below the tokenizer's size, and stops right after a stop id.
    @Test func samplingIsSeededAndStops() throws {
        let tm = try TextModel(directory: Self.dir)
        let s = SamplingConfig(temperature: 1.5, topP: 0.95, maxNewTokens: 10)
        let a = tm.generate(prompt: "Hello world", sampling: s, seed: 3)
        #expect(a.ids == tm.generate(prompt: "Hello world", sampling: s, seed: 3).ids)
        #expect(a.ids != tm.generate(prompt: "Hello world", sampling: s, seed: 4).ids)
        var rng = SeededGenerator(seed: 1)
        let prompt = tm.tokenizer.encode("Hello world")
        let many = generate(model: tm.model, prompts: [prompt], samplesPerPrompt: 64, sampling: s,
                            stopTokens: [7, 8, 9], vocabLimit: tm.tokenizer.size, rng: &rng)[0]
        for c in many {
            #expect(c.allSatisfy { Int($0) < tm.tokenizer.size })
            if let e = c.firstIndex(where: { [7, 8, 9].contains($0) }) { #expect(e == c.count - 1) } else { #expect(c.count == 10) }
        }
    }

    @Test func chatLayoutIsQwen3sFixedLayout() throws {
        let tok = try BPETokenizer(url: Self.dir)
        let p = TextModel.chatPrompt(user: "hi")
        #expect(p == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
        let ids = tok.encode(p)
        #expect(ids.first == tok.id(of: "<|im_start|>"))
        #expect(ids.filter { $0 == tok.id(of: "<think>") }.count == 1 && ids.filter { $0 == tok.id(of: "</think>") }.count == 1)
    }
}
