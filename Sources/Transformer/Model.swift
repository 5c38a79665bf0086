// Qwen3Model: the Qwen3 decoder (Float32, OpenBLAS sgemm) with an exact hand-written backward.
//
// API notes for the trainer (the agreed API is implemented as specified; these are additions):
// - `gradients` are allocated lazily on first use (a forward-only model, e.g. the KL reference
//   or the qwen3-0.6b benchmark, never holds them); `zeroGradients()` allocates them too.
// - `forward` / `decodeStep` check token ids (0 ≤ id < V) with a precondition; right padding is fine.
// - Additions: `Qwen3Model.parameterLayout(_:)`, `init(config:parameters:)`, `parameterCount`;
//   `crossEntropy(logits:targets:vocab:ignoreIndex:)` (LMLoss.swift); `prefill(tokens:length:cache:)`,
//   `KVCache.reset()`, `KVCache.position` (KVCache.swift); `Qwen3Config.parametersPerLayer`,
//   `validate()`, `forwardMatmulFlops(batch:length:)`; `SafetensorsFile`, `writeSafetensors`.
// - Not thread-safe: one model is used by one thread at a time (it owns its activation buffers).
//   `copy()` gives an independent model for another thread. A KV cache holds its own scratch, so
//   decoding between `forward` and `backward` does not disturb the cached activations.
// - `sftrl lm` errors exit with status 2 through `ExitCode(2)` and a message on stderr (as
//   `sftrl train` does); ArgumentParser's `ValidationError` would exit with 64.

import Foundation
import Linalg

/// The Qwen3 causal language model:
/// embed → L × [x += o(attn(rope(qknorm(q,k)), v)) of rmsnorm(x); x += down(silu(gate)·up) of rmsnorm(x)]
/// → rmsnorm → logits = x·Wᵀ with W the embedding when tied, `lm_head.weight` otherwise.
/// Causal attention, scale D^−½, no biases.
public final class Qwen3Model {
    public let config: Qwen3Config

    /// Parameters in a fixed order with Hugging Face names: embed_tokens; per layer
    /// input_layernorm, q/k/v/o_proj, q_norm, k_norm, post_attention_layernorm, gate/up/down_proj;
    /// model.norm; lm_head when untied.
    public let parameters: [Tensor]
    private var grads: [Tensor]?
    /// The weight matrices in bfloat16 when `weightStorage == .bf16` (WeightStorage.swift).
    var bf16Store: BF16Matrices?
    let acts = Activations()
    private var ropeCos: [Float] = []
    private var ropeSin: [Float] = []
    private var ropeLength = 0
    private var lastTokens: [Int32] = []
    private var lastB = 0, lastT = 0

    static let perLayer = LayerTensors.count

    /// The parameter names and shapes in `parameters` order.
    public static func parameterLayout(_ c: Qwen3Config) -> [(name: String, shape: [Int])] {
        let C = c.hiddenSize, D = c.headDim, HD = c.numAttentionHeads * D, KVD = c.numKeyValueHeads * D
        let I = c.intermediateSize
        var out: [(String, [Int])] = [("model.embed_tokens.weight", [c.vocabSize, C])]
        for l in 0..<c.numHiddenLayers {
            let shapes = [[C], [HD, C], [KVD, C], [KVD, C], [C, HD], [D], [D], [C], [I, C], [I, C], [C, I]]
            out += zip(LayerTensors.names, shapes).map { ("model.layers.\(l)." + $0, $1) }
        }
        out.append(("model.norm.weight", [C]))
        if !c.tieWordEmbeddings { out.append(("lm_head.weight", [c.vocabSize, C])) }
        return out
    }

    /// Deterministic random initialisation: every matrix ~ N(0, 0.02²) (the Hugging Face
    /// initializer_range), every norm weight = 1, the matrices drawn in `parameterLayout` order
    /// from one stream (`SeededGenerator.fillNormal`). The same seed gives the same bytes at
    /// every thread count (`threads` only splits each matrix's fill).
    public init(config: Qwen3Config, seed: UInt64, threads: Int = CPUs.available) {
        precondition((try? config.validate()) != nil, "invalid config: \(config)")
        self.config = config
        var rng = SeededGenerator(seed: seed)
        parameters = Self.parameterLayout(config).map { name, shape in
            let n = shape.reduce(1, *)
            if shape.count == 1 { return Tensor(name: name, shape: shape, data: [Float](repeating: 1, count: n)) }
            let data = [Float](unsafeUninitializedCapacity: n) { p, initialised in
                rng.fillNormal(p.baseAddress!, count: n, std: 0.02, threads: threads)
                initialised = n
            }
            return Tensor(name: name, shape: shape, data: data)
        }
    }

    /// A model from given tensors, which must follow `parameterLayout(config)` (names and shapes).
    public init(config: Qwen3Config, parameters: [Tensor]) {
        let layout = Self.parameterLayout(config)
        precondition(layout.count == parameters.count, "expected \(layout.count) tensors, got \(parameters.count)")
        for (l, p) in zip(layout, parameters) {
            precondition(l.name == p.name && l.shape == p.shape, "tensor \(p.name) \(p.shape), expected \(l.name) \(l.shape)")
        }
        self.config = config
        self.parameters = parameters
    }

    /// Number of parameters (`config.parameterCount`).
    public var parameterCount: Int { config.parameterCount }

    /// Gradients, same order, names and shapes as `parameters`; `backward` adds into them.
    public var gradients: [Tensor] {
        if let g = grads { return g }
        let g = parameters.map { Tensor(name: $0.name, shape: $0.shape) }
        grads = g
        return g
    }

    /// Sets every gradient to 0.
    public func zeroGradients() {
        for g in gradients { g.data.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
    }

    /// A deep copy of the parameters (no gradients, fresh buffers): e.g. the frozen reference
    /// model for a KL penalty.
    /// A BF16 model's copy shares its (never updated) BF16 matrices.
    public func copy() -> Qwen3Model {
        let m = Qwen3Model(config: config, parameters: parameters.map {
            $0.data.isEmpty && $0.count > 0 ? Tensor(emptyMatrix: $0.name, shape: $0.shape) : $0.copy()
        })
        m.bf16Store = bf16Store
        return m
    }

    // MARK: pointers (taken per call: an optimiser may replace a tensor's array between calls)

    func weightPointers() -> [CFPtr] {
        parameters.map { t in t.data.withUnsafeBufferPointer { $0.baseAddress ?? Self.noWeights } }
    }

    private func gradientPointers() -> [FPtr] {
        gradients.map { t in t.data.withUnsafeMutableBufferPointer { $0.baseAddress! } }
    }

    var finalNormIndex: Int { 1 + config.numHiddenLayers * Self.perLayer }
    var headIndex: Int { config.tieWordEmbeddings ? 0 : finalNormIndex + 1 }

    func ensureRope(_ positions: Int) {
        if positions <= ropeLength { return }
        let n = max(positions, 64, ropeLength * 2)
        (ropeCos, ropeSin) = ropeTables(positions: n, headDim: config.headDim, theta: config.ropeTheta)
        ropeLength = n
    }

    func withRope<R>(_ positions: Int, _ body: (CFPtr, CFPtr) -> R) -> R {
        ensureRope(positions)
        return ropeCos.withUnsafeBufferPointer { c in ropeSin.withUnsafeBufferPointer { s in body(c.baseAddress!, s.baseAddress!) } }
    }

    // MARK: forward

    /// Logits (B, T, V) row-major for tokens (B, T) row-major, every position attending causally
    /// to positions 0…t of its own sequence (so right padding does not change earlier logits).
    /// Caches the activations that `backward` needs.
    public func forward(tokens: [Int32], batch: Int, length: Int) -> [Float] {
        forward(tokens: tokens, batch: batch, length: length, lastOnly: false)
    }

    /// `forward`, but the LM head runs on the last position of each sequence only: logits (B, V),
    /// equal to the rows t = T−1 of `forward` (the activations for `backward` are cached alike).
    public func lastLogits(tokens: [Int32], batch: Int, length: Int) -> [Float] {
        forward(tokens: tokens, batch: batch, length: length, lastOnly: true)
    }

    func forward(tokens: [Int32], batch: Int, length: Int, lastOnly: Bool) -> [Float] {
        let B = batch, T = length, N = B * T
        precondition(B > 0 && T > 0 && tokens.count == N, "forward: \(tokens.count) tokens for batch \(B) × length \(T)")
        let V = config.vocabSize
        for tok in tokens { precondition(tok >= 0 && Int(tok) < V, "forward: token id \(tok) outside 0..<\(V)") }
        let C = config.hiddenSize, H = config.numAttentionHeads, KV = config.numKeyValueHeads
        let D = config.headDim, I = config.intermediateSize
        let HD = H * D, KVD = KV * D, eps = Float(config.rmsNormEps), scale = 1 / Float(D).squareRoot()
        acts.resize(config, b: B, t: T)
        lastTokens = tokens; lastB = B; lastT = T
        let w = weightPointers()
        var logits = [Float](repeating: 0, count: (lastOnly ? B : N) * V)
        withRope(T) { cosT, sinT in
            tokens.withUnsafeBufferPointer { tok in
                embed(out: acts.resid[0].ptr, tokens: tok.baseAddress!, w, n: N, c: C)
            }
            for l in 0..<config.numHiddenLayers {
                let a = acts.layers[l], lw = LayerTensors(layer: l)
                let x = acts.resid[l].ptr, out = acts.resid[l + 1].ptr, tmp = acts.scratchC.ptr
                // attention block
                rmsnormForward(out: a.ln1.ptr, rstd: a.ln1Rstd.ptr, x: x, w: w[lw.inputNorm], rows: N, width: C, eps: eps)
                linear(out: a.q.ptr, x: a.ln1.ptr, w, lw.qProj, n: N, inDim: C, outDim: HD)
                linear(out: a.k.ptr, x: a.ln1.ptr, w, lw.kProj, n: N, inDim: C, outDim: KVD)
                linear(out: a.v.ptr, x: a.ln1.ptr, w, lw.vProj, n: N, inDim: C, outDim: KVD)
                rmsnormForward(out: a.qr.ptr, rstd: a.qRstd.ptr, x: a.q.ptr, w: w[lw.qNorm], rows: N * H, width: D, eps: eps)
                rmsnormForward(out: a.kr.ptr, rstd: a.kRstd.ptr, x: a.k.ptr, w: w[lw.kNorm], rows: N * KV, width: D, eps: eps)
                ropeForward(x: a.qr.ptr, cosT: cosT, sinT: sinT, b: B, t: T, heads: H, d: D, start: 0)
                ropeForward(x: a.kr.ptr, cosT: cosT, sinT: sinT, b: B, t: T, heads: KV, d: D, start: 0)
                attentionForward(y: a.atty.ptr, att: a.att.ptr, scratch: acts.attScratch.ptr, q: a.qr.ptr, k: a.kr.ptr, v: a.v.ptr,
                                 b: B, t: T, h: H, kv: KV, d: D, scale: scale)
                linear(out: tmp, x: a.atty.ptr, w, lw.oProj, n: N, inDim: HD, outDim: C)
                residualForward(out: a.resid2.ptr, a: x, b: tmp, count: N * C)
                // MLP block
                rmsnormForward(out: a.ln2.ptr, rstd: a.ln2Rstd.ptr, x: a.resid2.ptr, w: w[lw.postAttentionNorm], rows: N, width: C, eps: eps)
                linear(out: a.gate.ptr, x: a.ln2.ptr, w, lw.gateProj, n: N, inDim: C, outDim: I)
                linear(out: a.up.ptr, x: a.ln2.ptr, w, lw.upProj, n: N, inDim: C, outDim: I)
                swigluForward(out: a.h.ptr, gate: a.gate.ptr, up: a.up.ptr, count: N * I, sigmoid: a.sig.ptr)
                linear(out: tmp, x: a.h.ptr, w, lw.downProj, n: N, inDim: I, outDim: C)
                residualForward(out: out, a: a.resid2.ptr, b: tmp, count: N * C)
            }
            let L = config.numHiddenLayers
            rmsnormForward(out: acts.lnf.ptr, rstd: acts.lnfRstd.ptr, x: acts.resid[L].ptr, w: w[finalNormIndex],
                           rows: N, width: C, eps: eps)
            logits.withUnsafeMutableBufferPointer { lp in
                if lastOnly {
                    let rows = acts.scratchC.ptr
                    for b in 0..<B { (rows + b * C).update(from: acts.lnf.ptr + (b * T + T - 1) * C, count: C) }
                    linear(out: lp.baseAddress!, x: rows, w, headIndex, n: B, inDim: C, outDim: V)
                } else {
                    linear(out: lp.baseAddress!, x: acts.lnf.ptr, w, headIndex, n: N, inDim: C, outDim: V)
                }
            }
        }
        return logits
    }

    // MARK: backward

    /// Given dLogits (B, T, V) = ∂loss/∂logits of the last `forward`, ADDS ∂loss/∂θ into
    /// `gradients` (call `zeroGradients()` between steps). The tied head's gradient sums into
    /// the embedding's.
    public func backward(dLogits: [Float]) {
        let B = lastB, T = lastT, N = B * T
        let V = config.vocabSize
        precondition(bf16Store == nil, "backward needs Float32 weights; this model stores BF16 weights for inference only "
                     + "(convertWeights(to: .f32) first)")
        precondition(N > 0, "backward called before forward")
        precondition(dLogits.count == N * V, "backward: dLogits has \(dLogits.count) values, expected \(N) × \(V)")
        let C = config.hiddenSize, H = config.numAttentionHeads, KV = config.numKeyValueHeads
        let D = config.headDim, I = config.intermediateSize
        let HD = H * D, KVD = KV * D, scale = 1 / Float(D).squareRoot()
        let w = weightPointers(), g = gradientPointers()
        let s = acts
        withRope(T) { cosT, sinT in
            dLogits.withUnsafeBufferPointer { dl in
                linearBackward(dx: s.dlnf.ptr, dw: g[headIndex], dout: dl.baseAddress!, x: s.lnf.ptr, w: w[headIndex],
                               n: N, inDim: C, outDim: V, accumulate: false)
            }
            let L = config.numHiddenLayers
            rmsnormBackward(dx: s.dResid.ptr, dw: g[finalNormIndex], dout: s.dlnf.ptr, x: s.resid[L].ptr,
                            w: w[finalNormIndex], rstd: s.lnfRstd.ptr, rows: N, width: C, accumulate: false)
            for l in stride(from: L - 1, through: 0, by: -1) {
                let a = s.layers[l], lw = LayerTensors(layer: l)
                let x = s.resid[l].ptr, dR = s.dResid.ptr
                // MLP block: out = resid2 + down(silu(gate)·up), gate/up of ln2 = rmsnorm(resid2)
                linearBackward(dx: s.dh.ptr, dw: g[lw.downProj], dout: dR, x: a.h.ptr, w: w[lw.downProj],
                               n: N, inDim: I, outDim: C, accumulate: false)
                swigluBackward(dgate: s.dgate.ptr, dup: s.dup.ptr, dout: s.dh.ptr, gate: a.gate.ptr, up: a.up.ptr,
                               sigmoid: a.sig.ptr, count: N * I)
                linearBackward(dx: s.dln.ptr, dw: g[lw.gateProj], dout: s.dgate.ptr, x: a.ln2.ptr, w: w[lw.gateProj],
                               n: N, inDim: C, outDim: I, accumulate: false)
                linearBackward(dx: s.dln.ptr, dw: g[lw.upProj], dout: s.dup.ptr, x: a.ln2.ptr, w: w[lw.upProj],
                               n: N, inDim: C, outDim: I, accumulate: true)
                rmsnormBackward(dx: dR, dw: g[lw.postAttentionNorm], dout: s.dln.ptr, x: a.resid2.ptr, w: w[lw.postAttentionNorm], rstd: a.ln2Rstd.ptr,
                                rows: N, width: C, accumulate: true)
                // attention block: resid2 = x + o(attn), q/k/v of ln1 = rmsnorm(x)
                linearBackward(dx: s.datty.ptr, dw: g[lw.oProj], dout: dR, x: a.atty.ptr, w: w[lw.oProj],
                               n: N, inDim: HD, outDim: C, accumulate: false)
                s.dkr.zero(N * KVD)
                s.dv.zero(N * KVD)
                attentionBackward(dq: s.dqr.ptr, dk: s.dkr.ptr, dv: s.dv.ptr, scratch: s.attScratch.ptr,
                                  dy: s.datty.ptr, att: a.att.ptr, q: a.qr.ptr, k: a.kr.ptr, v: a.v.ptr,
                                  b: B, t: T, h: H, kv: KV, d: D, scale: scale)
                ropeBackward(dx: s.dqr.ptr, cosT: cosT, sinT: sinT, b: B, t: T, heads: H, d: D)
                ropeBackward(dx: s.dkr.ptr, cosT: cosT, sinT: sinT, b: B, t: T, heads: KV, d: D)
                rmsnormBackward(dx: s.dq.ptr, dw: g[lw.qNorm], dout: s.dqr.ptr, x: a.q.ptr, w: w[lw.qNorm], rstd: a.qRstd.ptr,
                                rows: N * H, width: D, accumulate: false)
                rmsnormBackward(dx: s.dk.ptr, dw: g[lw.kNorm], dout: s.dkr.ptr, x: a.k.ptr, w: w[lw.kNorm], rstd: a.kRstd.ptr,
                                rows: N * KV, width: D, accumulate: false)
                linearBackward(dx: s.dln.ptr, dw: g[lw.qProj], dout: s.dq.ptr, x: a.ln1.ptr, w: w[lw.qProj],
                               n: N, inDim: C, outDim: HD, accumulate: false)
                linearBackward(dx: s.dln.ptr, dw: g[lw.kProj], dout: s.dk.ptr, x: a.ln1.ptr, w: w[lw.kProj],
                               n: N, inDim: C, outDim: KVD, accumulate: true)
                linearBackward(dx: s.dln.ptr, dw: g[lw.vProj], dout: s.dv.ptr, x: a.ln1.ptr, w: w[lw.vProj],
                               n: N, inDim: C, outDim: KVD, accumulate: true)
                rmsnormBackward(dx: dR, dw: g[lw.inputNorm], dout: s.dln.ptr, x: x, w: w[lw.inputNorm], rstd: a.ln1Rstd.ptr,
                                rows: N, width: C, accumulate: true)
            }
            lastTokens.withUnsafeBufferPointer { tok in
                embeddingBackward(dwte: g[0], dout: s.dResid.ptr, tokens: tok.baseAddress!, n: N, c: C)
            }
        }
    }
}

/// The activations of one forward (per layer) and the backward's scratch (shared by layers).
final class Activations {
    final class Layer {
        let ln1 = FloatBuffer(), ln1Rstd = FloatBuffer()
        let q = FloatBuffer(), k = FloatBuffer(), v = FloatBuffer()       // raw projections
        let qr = FloatBuffer(), qRstd = FloatBuffer()                      // q after QK-norm and RoPE
        let kr = FloatBuffer(), kRstd = FloatBuffer()
        let att = FloatBuffer(), atty = FloatBuffer()                      // (B, H, T, T), (N, H·D)
        let resid2 = FloatBuffer(), ln2 = FloatBuffer(), ln2Rstd = FloatBuffer()
        let gate = FloatBuffer(), up = FloatBuffer(), h = FloatBuffer()    // (N, I)
        let sig = FloatBuffer()                                            // σ(gate), (N, I)
    }
    var layers: [Layer] = []
    var resid: [FloatBuffer] = []          // L+1 residual streams (N, C)
    let lnf = FloatBuffer(), lnfRstd = FloatBuffer(), scratchC = FloatBuffer()
    // backward scratch
    let dResid = FloatBuffer(), dln = FloatBuffer(), dlnf = FloatBuffer(), datty = FloatBuffer()
    let dqr = FloatBuffer(), dkr = FloatBuffer(), dv = FloatBuffer(), dq = FloatBuffer(), dk = FloatBuffer()
    let dh = FloatBuffer(), dgate = FloatBuffer(), dup = FloatBuffer(), attScratch = FloatBuffer()

    func resize(_ c: Qwen3Config, b: Int, t: Int) {
        let N = b * t, C = c.hiddenSize, H = c.numAttentionHeads, D = c.headDim
        let HD = H * D, KVD = c.numKeyValueHeads * D, I = c.intermediateSize
        while layers.count < c.numHiddenLayers { layers.append(Layer()) }
        while resid.count < c.numHiddenLayers + 1 { resid.append(FloatBuffer()) }
        for r in resid { r.ensure(N * C) }
        for a in layers {
            a.ln1.ensure(N * C); a.ln1Rstd.ensure(N)
            a.q.ensure(N * HD); a.k.ensure(N * KVD); a.v.ensure(N * KVD)
            a.qr.ensure(N * HD); a.qRstd.ensure(N * H); a.kr.ensure(N * KVD); a.kRstd.ensure(N * c.numKeyValueHeads)
            a.att.ensure(b * H * t * t); a.atty.ensure(N * HD)
            a.resid2.ensure(N * C); a.ln2.ensure(N * C); a.ln2Rstd.ensure(N)
            a.gate.ensure(N * I); a.up.ensure(N * I); a.h.ensure(N * I); a.sig.ensure(N * I)
        }
        lnf.ensure(N * C); lnfRstd.ensure(N); scratchC.ensure(N * C)
        dResid.ensure(N * C); dln.ensure(N * C); dlnf.ensure(N * C); datty.ensure(N * HD)
        dqr.ensure(N * HD); dq.ensure(N * HD); dkr.ensure(N * KVD); dk.ensure(N * KVD); dv.ensure(N * KVD)
        dh.ensure(N * I); dgate.ensure(N * I); dup.ensure(N * I)
        attScratch.ensure(attentionScratchCount(t: t, h: H, kv: c.numKeyValueHeads, d: D))
    }
}
