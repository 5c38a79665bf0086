import Foundation
import Linalg
import Testing
@testable import Transformer

/// The vectorised kernels: the 8-lane exp against the Double exp, and the gradients of a model
/// whose widths fill whole vectors (hidden 16, head_dim 16 so RoPE's half is one vector, rows of
/// up to 11 positions, three query heads per key/value head) against central differences of the
/// Double reference. GradientTests' model (head_dim 4, 5 positions) runs mostly the scalar tails.
@Suite struct VectorKernelTests {
    @Test func expMatchesDoubleExp() {
        var worst = 0.0
        var x: Float = -87
        while x < 88.5 {
            let e = VectorMath.exp(x)
            let ref = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(e) - ref) / ref)
            x += 0.01173
        }
        print("VectorMath.exp: largest relative error \(worst) on [-87, 88.5]")
        #expect(worst < 3e-7)
        #expect(VectorMath.exp(-Float.infinity) == 0)
        #expect(VectorMath.exp(-100) == 0)
        #expect(VectorMath.exp(Float.infinity) == .infinity)
        #expect(VectorMath.exp(89) == .infinity)
        #expect(VectorMath.exp(Float.nan).isNaN)
        #expect(VectorMath.exp(0) == 1)
        // A lane's value does not depend on its neighbours (the tails of rows use partial vectors).
        let xs: [Float] = [-3, 0.5, 2, -87.3, 88.7, -0.25, 7, 1e-3, 4, 5]
        var out = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
            VectorMath.exp(xp.baseAddress!, into: op.baseAddress!, count: xs.count)
        } }
        for (v, e) in zip(xs, out) { #expect(e == VectorMath.exp(v)) }
    }

    @Test func softmaxOfMinusInfinityRowsIsOneHot() {
        let row: [Float] = [-.infinity, -.infinity, 3, -.infinity, -.infinity, -.infinity, -.infinity, -.infinity, -.infinity, -.infinity]
        #expect(Softmax.softmax(row) == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        #expect(abs(Softmax.logSumExp(row) - 3) < 1e-12)
    }

    /// Largest relative difference per tensor between the analytic gradient and central
    /// differences (h = 1e-5) of the Double reference, on at most `perTensor` entries per tensor.
    static func check(_ config: Qwen3Config, b: Int, t: Int, seed: UInt64, perTensor: Int) -> [(String, Double)] {
        gradientCheck(config, b: b, t: t, seed: seed, perTensor: perTensor).map { ($0.name, $0.rel) }
    }

    @Test func gradientsAtVectorWidthsMatchFiniteDifferences() {
        let config = Qwen3Config(vocabSize: 19, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2,
                                 numAttentionHeads: 6, numKeyValueHeads: 2, headDim: 16, ropeTheta: 100,
                                 rmsNormEps: 1e-6, tieWordEmbeddings: false, maxPositionEmbeddings: 64)
        let report = Self.check(config, b: 2, t: 11, seed: 7, perTensor: 24)
        var text = "FD gradient check at vector widths (C 16, D 16, H 6 / KV 2, T 11):\n"
        for (name, rel) in report {
            text += "  \(name.padding(toLength: 48, withPad: " ", startingAt: 0)) rel \(String(format: "%.2e", rel))\n"
        }
        print(text, terminator: "")
        for (name, rel) in report { #expect(rel < 1e-3, "gradient of \(name): relative difference \(rel)") }
    }
}
