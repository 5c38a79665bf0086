import Foundation

/// The scalar reference model: Qwen3's forward written from the architecture's definition in
/// Double precision with naive loops (no BLAS, no SIMD, no caches), reading the same parameters
/// by name (``LayerTensors``). It is the specification the fast model (``Qwen3Model``: OpenBLAS
/// sgemm, SIMD kernels, KV cache, BF16 storage) is tested against: logits to round-off, and
/// finite differences of ``loss(tokens:targets:b:t:)`` for the hand-written backward
/// (Tests/TransformerTests/GradientTests.swift, ModelTests.swift).
///
///     x₀ = embed(tokens)
///     per layer: h = rmsnorm(x)·ln1w;  q = rope(rmsnorm_D(h·Wqᵀ)·qnw), k = rope(rmsnorm_D(h·Wkᵀ)·knw), v = h·Wvᵀ
///                x += softmax_causal(q·kᵀ/√D)·v · Woᵀ   (grouped-query: head h reads kv head h/(H/KV))
///                h = rmsnorm(x)·ln2w;  x += (silu(h·Wgᵀ) ⊙ h·Wuᵀ)·Wdᵀ
///     logits = rmsnorm(x)·lnfw · Wᵀ   (W the embedding when tied, lm_head otherwise)
public struct ScalarQwen3 {
    public let config: Qwen3Config
    /// The parameters in ``Qwen3Model/parameterLayout(_:)`` order, in Double.
    public var params: [[Double]]

    /// The model's parameters, widened to Double (Float32 weights; a BF16-stored model's
    /// `parameters` hold the same values).
    public init(_ model: Qwen3Model) {
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
    public func forward(tokens: [Int32], b: Int, t: Int) -> [Double] {
        let c = config, C = c.hiddenSize, H = c.numAttentionHeads, KV = c.numKeyValueHeads
        let D = c.headDim, I = c.intermediateSize, V = c.vocabSize, N = b * t
        var x = [Double](repeating: 0, count: N * C)
        for n in 0..<N { for j in 0..<C { x[n * C + j] = params[0][Int(tokens[n]) * C + j] } }
        for l in 0..<c.numHiddenLayers {
            let lw = LayerTensors(layer: l)
            let h1 = rmsnorm(x, params[lw.inputNorm], width: C)
            let q = rope(rmsnorm(linear(h1, params[lw.qProj], n: N, inDim: C, outDim: H * D), params[lw.qNorm], width: D), b: b, t: t, heads: H)
            let k = rope(rmsnorm(linear(h1, params[lw.kProj], n: N, inDim: C, outDim: KV * D), params[lw.kNorm], width: D), b: b, t: t, heads: KV)
            let v = linear(h1, params[lw.vProj], n: N, inDim: C, outDim: KV * D)
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
            let o = linear(y, params[lw.oProj], n: N, inDim: H * D, outDim: C)
            for i in 0..<(N * C) { x[i] += o[i] }
            let h2 = rmsnorm(x, params[lw.postAttentionNorm], width: C)
            let g = linear(h2, params[lw.gateProj], n: N, inDim: C, outDim: I)
            let u = linear(h2, params[lw.upProj], n: N, inDim: C, outDim: I)
            var a = [Double](repeating: 0, count: N * I)
            for i in 0..<(N * I) { a[i] = g[i] / (1 + exp(-g[i])) * u[i] }
            let dn = linear(a, params[lw.downProj], n: N, inDim: I, outDim: C)
            for i in 0..<(N * C) { x[i] += dn[i] }
        }
        let fi = 1 + c.numHiddenLayers * LayerTensors.count
        let xf = rmsnorm(x, params[fi], width: C)
        return linear(xf, params[c.tieWordEmbeddings ? 0 : fi + 1], n: N, inDim: C, outDim: V)
    }

    /// Mean cross-entropy of targets under the logits.
    public func loss(tokens: [Int32], targets: [Int32], b: Int, t: Int) -> Double {
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
