import Foundation
import Testing
@testable import Transformer

/// The model against Hugging Face transformers' Qwen3ForCausalLM (fixture written by
/// scripts/make_qwen3_fixture.py: fp32, eager attention, seed 1234).
@Suite struct GoldenTests {
    struct Golden: Decodable {
        let tokens: [[Int32]]
        let targets: [[Int32]]
        let loss: Double
        let logits: [[[Float]]]
    }

    static let dir = fixtureURL("qwen3-tiny")

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: dir.appendingPathComponent("logits.json")))
    }

    @Test func logitsMatchTransformers() throws {
        let model = try Qwen3Model.load(directory: Self.dir)
        #expect(model.config.ropeTheta == 5000)
        #expect(model.config.headDim * model.config.numAttentionHeads != model.config.hiddenSize)
        let g = try Self.golden()
        let B = g.tokens.count, T = g.tokens[0].count, V = model.config.vocabSize
        let logits = model.forward(tokens: g.tokens.flatMap { $0 }, batch: B, length: T)
        let expected = g.logits.flatMap { $0.flatMap { $0 } }
        #expect(logits.count == expected.count)
        var maxDiff: Float = 0, maxMag: Float = 0
        for i in 0..<expected.count {
            maxDiff = max(maxDiff, abs(logits[i] - expected[i]))
            maxMag = max(maxMag, abs(expected[i]))
        }
        print("golden logits: max |swift − transformers| = \(maxDiff) (logits up to \(maxMag), \(B)×\(T)×\(V))")
        #expect(maxDiff < 1e-4)
        let loss = crossEntropy(logits: logits, targets: g.targets.flatMap { $0 }, vocab: V).loss
        #expect(abs(loss - g.loss) < 1e-5)
    }

    @Test func gradientsMatchAutograd() throws {
        let model = try Qwen3Model.load(directory: Self.dir)
        let g = try Self.golden()
        let B = g.tokens.count, T = g.tokens[0].count
        let logits = model.forward(tokens: g.tokens.flatMap { $0 }, batch: B, length: T)
        let dLogits = crossEntropy(logits: logits, targets: g.targets.flatMap { $0 }, vocab: model.config.vocabSize).dLogits
        model.zeroGradients()
        model.backward(dLogits: dLogits)
        let ref = try SafetensorsFile(url: Self.dir.appendingPathComponent("grads.safetensors"))
        #expect(ref.entries.count >= 4)
        var text = ""
        defer { print(text, terminator: "") }
        for name in ref.tensorNames {
            let expected = try ref.floats(name)
            let ours = try #require(model.gradients.first { $0.name == name }).data
            var maxDiff: Float = 0, maxMag: Float = 0
            for i in 0..<expected.count {
                maxDiff = max(maxDiff, abs(ours[i] - expected[i]))
                maxMag = max(maxMag, abs(expected[i]))
            }
            text += "autograd \(name): max diff \(maxDiff), relative \(maxDiff / maxMag)\n"
            #expect(maxDiff / maxMag < 1e-4, "gradient of \(name) differs from autograd by \(maxDiff)")
        }
    }

    @Test func bf16FileMatchesTorchRounding() throws {
        let f32 = try SafetensorsFile(url: Self.dir.appendingPathComponent("model.safetensors"))
        let bf = try SafetensorsFile(url: Self.dir.appendingPathComponent("model-bf16.safetensors"))
        for name in bf.tensorNames {
            #expect(bf.entries[name]?.dtype == .bf16)
            let exact = try f32.floats(name), rounded = try bf.floats(name)
            // torch rounds to nearest even, as bf16Bits does.
            #expect(exact.map { Float(bitPattern: UInt32(bf16Bits($0)) << 16) } == rounded, "\(name)")
        }
    }
}
