import Foundation
import Testing
import Linalg
import Transformer

/// The fast model against the library's scalar reference model (``ScalarQwen3``): the same logits
/// to Float32 round-off, untied and tied, grouped-query attention, through the full forward and
/// through prefill + decode steps of the KV cache.
@Suite struct ScalarReferenceTests {
    static func model(tied: Bool, seed: UInt64) -> Qwen3Model {
        let c = Qwen3Config(vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 2, numAttentionHeads: 4,
                            numKeyValueHeads: 2, headDim: 4, ropeTheta: 10_000, tieWordEmbeddings: tied, maxPositionEmbeddings: 32)
        let m = Qwen3Model(config: c, seed: seed)
        randomize(m, seed: seed + 1)
        return m
    }

    @Test(arguments: [false, true])
    func fastForwardMatchesScalarReference(tied: Bool) {
        let m = Self.model(tied: tied, seed: 21)
        let (b, t) = (2, 6)
        var rng = SeededGenerator(seed: 5)
        let tokens = (0..<(b * t)).map { _ in Int32(rng.uniform() * 11) }
        let fast = m.forward(tokens: tokens, batch: b, length: t)
        let ref = ScalarQwen3(m).forward(tokens: tokens, b: b, t: t)
        let worst = zip(fast, ref).map { abs(Double($0) - $1) }.max()!
        let scale = ref.map(abs).max()!
        #expect(scale > 0.5, "logits too small to tell layers apart")
        #expect(worst <= 2e-5 * scale, "largest |fast − scalar| = \(worst) (scale \(scale))")
    }
}
