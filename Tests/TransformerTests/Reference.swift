import Foundation
import Linalg
@testable import Transformer

/// A compact, independent Double-precision Qwen3 forward (naive loops, no BLAS), written from
/// the architecture's definition, used as the finite-difference reference. Parameters in
/// `Qwen3Model.parameterLayout` order.
struct ReferenceQwen3 {
    let config: Qwen3Config
    var params: [[Double]]

    init(_ model: Qwen3Model) {
        config = model.config
        params = model.parameters.map { $0.data.map(Double.init) }
    }

    /// y = x·Wᵀ for x (n, inDim), W (outDim, inDim).
    private func linear(_ x: [Double], _ w: [Double], n: Int, inDim: Int, outDim: Int) -> [Double] {
        var y = [Double](repeating: 0, count: n * outDim)
        for i in 0..<n {
            for o in 0..<outDim {
                var s = 0.0
                for j in 0..<inDim { s += x[i * inDim + j] * w[o * inDim + j] }
                y[i * outDim + o] = s
            }
        }
        return y
    }

    private func rmsnorm(_ x: [Double], _ w: [Double], width: Int) -> [Double] {
        var y = x
        let eps = config.rmsNormEps
        for r in 0..<(x.count / width) {
            var ss = 0.0
            for j in 0..<width { ss += x[r * width + j] * x[r * width + j] }
            let inv = 1 / (ss / Double(width) + eps).squareRoot()
            for j in 0..<width { y[r * width + j] = w[j] * x[r * width + j] * inv }
        }
        return y
    }

    /// Rotate-half RoPE on (B, T, heads, D), position = t.
    private func rope(_ x: [Double], b: Int, t: Int, heads: Int) -> [Double] {
        let D = config.headDim, half = D / 2
        var y = x
        for bi in 0..<b {
            for ti in 0..<t {
                for h in 0..<heads {
                    let o = ((bi * t + ti) * heads + h) * D
                    for i in 0..<half {
                        let a = Double(ti) / pow(config.ropeTheta, Double(2 * i) / Double(D))
                        y[o + i] = x[o + i] * cos(a) - x[o + i + half] * sin(a)
                        y[o + i + half] = x[o + i + half] * cos(a) + x[o + i] * sin(a)
                    }
                }
            }
        }
        return y
    }

    /// Logits (B, T, V).
    func forward(tokens: [Int32], b: Int, t: Int) -> [Double] {
        let c = config, C = c.hiddenSize, H = c.numAttentionHeads, KV = c.numKeyValueHeads
        let D = c.headDim, I = c.intermediateSize, V = c.vocabSize, N = b * t
        var x = [Double](repeating: 0, count: N * C)
        for n in 0..<N { for j in 0..<C { x[n * C + j] = params[0][Int(tokens[n]) * C + j] } }
        for l in 0..<c.numHiddenLayers {
            let p = 1 + l * 11
            let h1 = rmsnorm(x, params[p], width: C)
            let q = rope(rmsnorm(linear(h1, params[p + 1], n: N, inDim: C, outDim: H * D), params[p + 5], width: D), b: b, t: t, heads: H)
            let k = rope(rmsnorm(linear(h1, params[p + 2], n: N, inDim: C, outDim: KV * D), params[p + 6], width: D), b: b, t: t, heads: KV)
            let v = linear(h1, params[p + 3], n: N, inDim: C, outDim: KV * D)
            var y = [Double](repeating: 0, count: N * H * D)
            for bi in 0..<b {
                for h in 0..<H {
                    let kh = h / (H / KV)
                    for i in 0..<t {
                        var s = [Double](repeating: 0, count: i + 1)
                        for j in 0...i {
                            var d = 0.0
                            for e in 0..<D { d += q[((bi * t + i) * H + h) * D + e] * k[((bi * t + j) * KV + kh) * D + e] }
                            s[j] = d / Double(D).squareRoot()
                        }
                        let m = s.max()!
                        let z = s.reduce(0) { $0 + exp($1 - m) }
                        for j in 0...i {
                            let pr = exp(s[j] - m) / z
                            for e in 0..<D { y[((bi * t + i) * H + h) * D + e] += pr * v[((bi * t + j) * KV + kh) * D + e] }
                        }
                    }
                }
            }
            let o = linear(y, params[p + 4], n: N, inDim: H * D, outDim: C)
            for i in 0..<(N * C) { x[i] += o[i] }
            let h2 = rmsnorm(x, params[p + 7], width: C)
            let g = linear(h2, params[p + 8], n: N, inDim: C, outDim: I)
            let u = linear(h2, params[p + 9], n: N, inDim: C, outDim: I)
            var a = [Double](repeating: 0, count: N * I)
            for i in 0..<(N * I) { a[i] = g[i] / (1 + exp(-g[i])) * u[i] }
            let dn = linear(a, params[p + 10], n: N, inDim: I, outDim: C)
            for i in 0..<(N * C) { x[i] += dn[i] }
        }
        let fi = 1 + c.numHiddenLayers * 11
        let xf = rmsnorm(x, params[fi], width: C)
        return linear(xf, params[c.tieWordEmbeddings ? 0 : fi + 1], n: N, inDim: C, outDim: V)
    }

    /// Mean cross-entropy of targets under the logits.
    func loss(tokens: [Int32], targets: [Int32], b: Int, t: Int) -> Double {
        let V = config.vocabSize
        let logits = forward(tokens: tokens, b: b, t: t)
        var total = 0.0
        for n in 0..<(b * t) {
            let row = logits[(n * V)..<((n + 1) * V)]
            let m = row.max()!
            let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
            total += lse - row[n * V + Int(targets[n])]
        }
        return total / Double(b * t)
    }
}

/// Fills every tensor with values large enough that each layer matters: matrices ~ N(0, std²),
/// norm weights ~ 1 + N(0, 0.3²). Deterministic in `seed`.
func randomize(_ model: Qwen3Model, seed: UInt64, std: Double = 0.4) {
    var rng = SeededGenerator(seed: seed)
    for t in model.parameters {
        let n = t.count
        t.data.withUnsafeMutableBufferPointer { p in
            if t.shape.count == 1 {
                rng.fillNormal(p.baseAddress!, count: n, std: 0.3)
                for i in 0..<n { p[i] += 1 }
            } else {
                rng.fillNormal(p.baseAddress!, count: n, std: std)
            }
        }
    }
}

/// Fixtures folder inside the test bundle.
func fixtureURL(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
}
