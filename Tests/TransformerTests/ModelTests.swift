import Foundation
import Testing
import Linalg
@testable import Transformer
import TestSupport

@Suite struct ConfigTests {
    @Test func qwen3_0_6bParameterCount() {
        let c = Qwen3Config.qwen3_0_6b
        #expect(c.parametersPerLayer == 15_730_944)
        #expect(c.parameterCount == 596_049_920)
        #expect(c.parameterCount - c.vocabSize * c.hiddenSize == 440_467_456)
        // The layout (names and shapes, nothing allocated) agrees with the formula.
        let layout = Qwen3Model.parameterLayout(c)
        #expect(layout.reduce(0) { $0 + $1.shape.reduce(1, *) } == 596_049_920)
        #expect(layout.count == 1 + 28 * 11 + 1)
        #expect(layout.first { $0.name == "model.layers.0.self_attn.q_proj.weight" }?.shape == [2048, 1024])
        #expect(layout.first { $0.name == "model.layers.27.self_attn.o_proj.weight" }?.shape == [1024, 2048])
        #expect(layout.first { $0.name == "model.layers.3.self_attn.k_norm.weight" }?.shape == [128])
    }

    @Test func tinyPreset() throws {
        let c = Qwen3Config.tiny
        try c.validate()
        #expect(c.numAttentionHeads > c.numKeyValueHeads)
        #expect(c.numAttentionHeads * c.headDim != c.hiddenSize)
        #expect(c.parameterCount == 131_520)
        #expect(Qwen3Model(config: c, seed: 1).parameters.reduce(0) { $0 + $1.count } == 131_520)
    }

    @Test func parsesHuggingFaceConfig() throws {
        let json = """
        {"architectures":["Qwen3ForCausalLM"],"attention_bias":false,"bos_token_id":151643,
         "head_dim":128,"hidden_act":"silu","hidden_size":1024,"initializer_range":0.02,
         "intermediate_size":3072,"max_position_embeddings":40960,"max_window_layers":28,
         "model_type":"qwen3","num_attention_heads":16,"num_hidden_layers":28,"num_key_value_heads":8,
         "rms_norm_eps":1e-06,"rope_scaling":null,"rope_theta":1000000,"sliding_window":null,
         "tie_word_embeddings":true,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":151936}
        """
        let c = try JSONDecoder().decode(Qwen3Config.self, from: Data(json.utf8))
        #expect(c == .qwen3_0_6b)
        // Round trip through our own config.json.
        #expect(try JSONDecoder().decode(Qwen3Config.self, from: c.jsonData()) == c)
        // transformers 5 moves rope_theta into rope_parameters (the fixture's config.json).
        let fixture = try Qwen3Config.load(from: fixtureURL("qwen3-tiny"))
        #expect(fixture.ropeTheta == 5000 && fixture.vocabSize == 257 && fixture.headDim == 16)
    }

    @Test func rejectsBadConfigs() throws {
        let missing = #"{"hidden_size": 8}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Qwen3Config.self, from: Data(missing.utf8)) }
        let yarn = #"{"vocab_size":8,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"rope_scaling":{"rope_type":"yarn","factor":4}}"#
        #expect(throws: ConfigError.self) { try JSONDecoder().decode(Qwen3Config.self, from: Data(yarn.utf8)) }
        let sliding = #"{"vocab_size":8,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"use_sliding_window":true}"#
        #expect(throws: ConfigError.self) { try JSONDecoder().decode(Qwen3Config.self, from: Data(sliding.utf8)) }
        var c = Qwen3Config.tiny
        c.numKeyValueHeads = 3
        #expect(throws: ConfigError.self) { try c.validate() }
        #expect(throws: ConfigError.missingFile("/nonexistent/config.json")) {
            try Qwen3Config.load(from: URL(fileURLWithPath: "/nonexistent/config.json"))
        }
    }

    /// config.json is read strictly: a duplicated key or a NaN is named, not silently resolved.
    @Test(arguments: [
        (#"{"vocab_size":8,"hidden_size":8,"hidden_size":16,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2}"#, #"duplicate key "hidden_size""#),
        (#"{"vocab_size":8,"hidden_size":8,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"rope_theta":NaN}"#, "rope_theta holds NaN"),
        ("{\"vocab_size\":8,\n\"hidden_size\" 8}", "line 2, column 15"),
    ])
    func configsAreReadStrictly(json: String, expected: String) throws {
        let dir = try makeTemporaryDirectory("config")
        defer { removeTemporaryDirectory(dir) }
        try Data(json.utf8).write(to: dir.appendingPathComponent("config.json"))
        do { _ = try Qwen3Config.load(from: dir); Issue.record("accepted \(json)") } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }
}

@Suite struct ModelTests {
    @Test(arguments: [true, false]) func decodeStepMatchesForward(tied: Bool) {
        var config = Qwen3Config.tiny
        config.tieWordEmbeddings = tied
        let model = Qwen3Model(config: config, seed: 3)
        randomize(model, seed: 4, std: 0.15)
        let B = 3, T = 9, V = config.vocabSize
        var rng = SeededGenerator(seed: 5)
        let tokens = (0..<(B * T)).map { _ in Int32(rng.next() % UInt64(V)) }
        let full = model.forward(tokens: tokens, batch: B, length: T)
        let scale = full.reduce(0) { max($0, abs($1)) }
        let cache = model.makeCache(batch: B, capacity: T)
        var worst: Float = 0
        for t in 0..<T {
            let step = model.decodeStep(tokens: (0..<B).map { tokens[$0 * T + t] }, cache: cache)
            for b in 0..<B {
                let row = full[((b * T + t) * V)..<((b * T + t + 1) * V)]
                worst = max(worst, maxAbsDiff(row, step[(b * V)..<((b + 1) * V)]))
            }
        }
        print("decodeStep vs forward: max diff \(worst) (logits up to \(scale))")
        #expect(cache.position == T)
        #expect(worst < 1e-4 * max(1, scale))
        // prefill after reset gives the last row again.
        cache.reset()
        let last = model.prefill(tokens: tokens, length: T, cache: cache)
        for b in 0..<B {
            #expect(maxAbsDiff(last[(b * V)..<((b + 1) * V)], full[((b * T + T - 1) * V)..<((b * T + T) * V)]) < 1e-4 * max(1, scale))
        }
    }

    @Test func decodingBetweenForwardAndBackwardChangesNothing() {
        BLASThreads.set(1)   // process-wide: both gradients must be summed in the same order
        let model = Qwen3Model(config: .tiny, seed: 31)
        let tokens: [Int32] = [3, 1, 4, 1, 5, 9]
        let targets: [Int32] = [1, 4, 1, 5, 9, 2]
        func grads(decodeInBetween: Bool) -> [[Float]] {
            model.zeroGradients()
            let logits = model.forward(tokens: tokens, batch: 2, length: 3)
            if decodeInBetween {
                let cache = model.makeCache(batch: 1, capacity: 200)
                for t in 0..<150 { _ = model.decodeStep(tokens: [Int32(t % 128)], cache: cache) }
            }
            model.backward(dLogits: crossEntropy(logits: logits, targets: targets, vocab: 128).dLogits)
            return model.gradients.map(\.data)
        }
        #expect(grads(decodeInBetween: false) == grads(decodeInBetween: true))
    }

    @Test func causalityAndBatchIndependence() {
        let model = Qwen3Model(config: .tiny, seed: 9)
        randomize(model, seed: 10, std: 0.15)
        let V = model.config.vocabSize
        let a: [Int32] = [5, 17, 3, 99, 42, 7]
        let padded: [Int32] = [5, 17, 3, 0, 0, 0, 0, 0]
        let one = model.forward(tokens: Array(a.prefix(3)), batch: 1, length: 3)
        let two = model.forward(tokens: Array(a.prefix(6)) + [1, 1] + padded, batch: 2, length: 8)
        // Right padding and the other sequence change nothing at earlier positions.
        #expect(maxAbsDiff(one[...], two[0..<(3 * V)]) < 1e-5)
        #expect(maxAbsDiff(one[...], two[(8 * V)..<(11 * V)]) < 1e-5)
    }

    @Test func initIsDeterministicAndCopyIsDeep() {
        let a = Qwen3Model(config: .tiny, seed: 11), b = Qwen3Model(config: .tiny, seed: 11)
        #expect(a.parameters.map(\.data) == b.parameters.map(\.data))
        #expect(a.parameters.first { $0.name == "model.norm.weight" }!.data.allSatisfy { $0 == 1 })
        let std = a.parameters[1 + 1].data.reduce(0.0) { $0 + Double($1 * $1) } / Double(a.parameters[2].count)
        #expect(abs(std.squareRoot() - 0.02) < 0.002)
        let c = a.copy()
        c.parameters[0].data[0] += 1
        #expect(a.parameters[0].data[0] != c.parameters[0].data[0])
        #expect(Qwen3Model(config: .tiny, seed: 12).parameters[0].data != a.parameters[0].data)
    }

    /// The random initialisation gives the same bytes with 1 and 2 threads (the `small` preset's
    /// matrices span several of the fill's blocks, so the threads split them), and the BF16 model
    /// drawn in chunks holds the same values rounded.
    @Test func initIsTheSameAtEveryThreadCount() {
        let one = Qwen3Model(config: .small, seed: 4, threads: 1), two = Qwen3Model(config: .small, seed: 4, threads: 2)
        #expect(one.parameters.count == two.parameters.count)
        for (a, b) in zip(one.parameters, two.parameters) { #expect(a.data == b.data, "\(a.name)") }
        let embed = one.parameters[0].data.map(Double.init)
        let sd = (embed.reduce(0) { $0 + $1 * $1 } / Double(embed.count)).squareRoot()
        #expect(abs(sd - 0.02) < 0.02 * 4.5 * (0.5 / Double(embed.count)).squareRoot(), "sd \(sd)")
    }

    @Test func gradientsAccumulateAndZero() {
        let model = Qwen3Model(config: .tiny, seed: 13)
        let tokens: [Int32] = [1, 2, 3, 4]
        let logits = model.forward(tokens: tokens, batch: 1, length: 4)
        let d = crossEntropy(logits: logits, targets: [2, 3, 4, 5], vocab: model.config.vocabSize).dLogits
        model.zeroGradients()
        model.backward(dLogits: d)
        let once = model.gradients.map(\.data)
        model.backward(dLogits: d)
        for (g, o) in zip(model.gradients, once) {
            #expect(maxAbsDiff(g.data[...], o.map { 2 * $0 }[...]) <= 1e-6 * max(1, o.map(abs).max()!))
        }
        model.zeroGradients()
        #expect(model.gradients.allSatisfy { $0.data.allSatisfy { $0 == 0 } })
        #expect(zip(model.gradients, model.parameters).allSatisfy { $0.name == $1.name && $0.shape == $1.shape })
    }

    @Test(arguments: SafetensorsDType.allCases) func saveLoadRoundTrip(dtype: SafetensorsDType) throws {
        var config = Qwen3Config.tiny
        config.tieWordEmbeddings = dtype != .f32   // exercise lm_head.weight too
        let model = Qwen3Model(config: config, seed: 21)
        let dir = try makeTemporaryDirectory("model-\(dtype.rawValue)")
        defer { removeTemporaryDirectory(dir) }
        try model.save(directory: dir, dtype: dtype)
        let back = try Qwen3Model.load(directory: dir)
        #expect(back.config == config)
        let tol: Float = dtype == .f32 ? 0 : (dtype == .bf16 ? 1.0 / 256 : 1.0 / 2048)
        for (a, b) in zip(model.parameters, back.parameters) {
            #expect(a.name == b.name && a.shape == b.shape)
            let bad = (0..<a.count).filter { abs(a.data[$0] - b.data[$0]) > tol * abs(a.data[$0]) + 1e-7 }.count
            #expect(bad == 0, "\(a.name): \(bad) values off after a \(dtype) round trip")
        }
    }
}
