import Foundation
import Linalg
import Testing
@testable import Transformer

/// A config small enough for finite differences on every parameter, with Qwen3's shape:
/// GQA (4 query heads on 2 KV heads), H·D = 16 ≠ C = 8, RoPE θ small enough that positions matter.
func fdConfig(tied: Bool) -> Qwen3Config {
    Qwen3Config(vocabSize: 11, hiddenSize: 8, intermediateSize: 12, numHiddenLayers: 2,
                numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 4, ropeTheta: 100,
                rmsNormEps: 1e-6, tieWordEmbeddings: tied, maxPositionEmbeddings: 64)
}

/// For each tensor: the analytic (Float) gradient of the mean cross-entropy against central
/// differences of the Double reference forward, h = 1e-5, on every entry (or every
/// ⌈count / perTensor⌉-th one). Returns the largest difference per tensor and the relative one,
/// max|g − fd| / max(max|fd|, 1e-6), printed like llm.c's test_gpt2.c.
func gradientCheck(_ config: Qwen3Config, b: Int, t: Int, seed: UInt64,
                   perTensor: Int = .max) -> [(name: String, maxAbs: Double, rel: Double)] {
    let model = Qwen3Model(config: config, seed: seed)
    randomize(model, seed: seed &+ 1)
    var rng = SeededGenerator(seed: seed &+ 2)
    let tokens = (0..<(b * t)).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }
    let targets = (0..<(b * t)).map { _ in Int32(rng.next() % UInt64(config.vocabSize)) }

    model.zeroGradients()
    let logits = model.forward(tokens: tokens, batch: b, length: t)
    let dLogits = crossEntropy(logits: logits, targets: targets, vocab: config.vocabSize).dLogits
    model.backward(dLogits: dLogits)

    var ref = ScalarQwen3(model)
    let h = 1e-5
    var report: [(String, Double, Double)] = []
    for (i, g) in model.gradients.enumerated() {
        var maxAbs = 0.0, maxFD = 0.0
        for j in stride(from: 0, to: g.count, by: max(1, g.count / perTensor)) {
            let saved = ref.params[i][j]
            ref.params[i][j] = saved + h
            let lp = ref.loss(tokens: tokens, targets: targets, b: b, t: t)
            ref.params[i][j] = saved - h
            let lm = ref.loss(tokens: tokens, targets: targets, b: b, t: t)
            ref.params[i][j] = saved
            let fd = (lp - lm) / (2 * h)
            maxAbs = max(maxAbs, abs(Double(g.data[j]) - fd))
            maxFD = max(maxFD, abs(fd))
        }
        report.append((g.name, maxAbs, maxAbs / max(maxFD, 1e-6)))
    }
    return report
}

/// Every entry of every tensor of `fdConfig(tied:)`, batch 2 × 5 positions.
func gradientCheck(tied: Bool, seed: UInt64) -> [(name: String, maxAbs: Double, rel: Double)] {
    gradientCheck(fdConfig(tied: tied), b: 2, t: 5, seed: seed)
}

@Suite struct GradientTests {
    @Test(arguments: [true, false]) func everyTensorMatchesFiniteDifferences(tied: Bool) {
        let report = gradientCheck(tied: tied, seed: 42)
        var text = "FD gradient check (\(tied ? "tied" : "untied") head): largest |analytic − fd| and relative to max|fd|\n"
        for r in report {
            text += "  \(r.name.padding(toLength: 48, withPad: " ", startingAt: 0)) abs \(String(format: "%.2e", r.maxAbs))  rel \(String(format: "%.2e", r.rel))\n"
        }
        print(text, terminator: "")
        #expect(report.count == Qwen3Model.parameterLayout(fdConfig(tied: tied)).count)
        for r in report {
            #expect(r.rel < 1e-3, "gradient of \(r.name): relative difference \(r.rel)")
        }
    }

    @Test func crossEntropyGradientMatchesFiniteDifferences() {
        let V = 5
        let logits: [Float] = [0.3, -1, 2, 0.5, 0, 30, -30, 0, 1, 2]
        let targets: [Int32] = [2, 1]
        let ce0 = crossEntropy(logits: logits, targets: targets, vocab: V)
        let (loss, d) = (ce0.loss, ce0.dLogits)
        for j in 0..<logits.count {
            var p = logits, m = logits
            p[j] += 1e-2; m[j] -= 1e-2
            let fd = (crossEntropy(logits: p, targets: targets, vocab: V).loss
                - crossEntropy(logits: m, targets: targets, vocab: V).loss) / 2e-2
            #expect(abs(fd - Double(d[j])) < 1e-4)
        }
        #expect(loss.isFinite)
        let ignored = crossEntropy(logits: logits, targets: [2, -100], vocab: V)
        #expect(ignored.dLogits[5..<10].allSatisfy { $0 == 0 })
    }
}
