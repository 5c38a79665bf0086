import Foundation
import Linalg

/// Keys and values of past positions for incremental decoding (sampling), per layer
/// (B, capacity, KV, D) after QK-norm and RoPE, plus the scratch of one decoding step.
/// Every sequence of the batch sits at the same `position`.
public final class KVCache {
    public let batch: Int
    public let capacity: Int
    /// The number of positions already stored (the next token's position).
    public private(set) var position = 0
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    // scratch for B rows
    let x, ln, rstd, q, k, v, y, tmp, gate, up, h, scores: FloatBuffer

    init(config c: Qwen3Config, batch: Int, capacity: Int) {
        precondition(batch > 0 && capacity > 0, "KV cache of batch \(batch), capacity \(capacity)")
        self.batch = batch
        self.capacity = capacity
        let kvd = c.numKeyValueHeads * c.headDim, hd = c.numAttentionHeads * c.headDim
        keys = (0..<c.numHiddenLayers).map { _ in FloatBuffer(batch * capacity * kvd) }
        values = (0..<c.numHiddenLayers).map { _ in FloatBuffer(batch * capacity * kvd) }
        x = FloatBuffer(batch * c.hiddenSize); ln = FloatBuffer(batch * c.hiddenSize)
        rstd = FloatBuffer(batch * max(c.numAttentionHeads, 1)); tmp = FloatBuffer(batch * c.hiddenSize)
        q = FloatBuffer(batch * hd); y = FloatBuffer(batch * hd)
        k = FloatBuffer(batch * kvd); v = FloatBuffer(batch * kvd)
        gate = FloatBuffer(batch * c.intermediateSize); up = FloatBuffer(batch * c.intermediateSize)
        h = FloatBuffer(batch * c.intermediateSize); scores = FloatBuffer(capacity)
    }

    /// Forgets every stored position (the buffers are kept for reuse).
    public func reset() { position = 0 }

    func advance(by t: Int) { position += t }

    /// Makes the scratch hold `rows` = batch × new positions rows (contents undefined after).
    func reserve(rows: Int, config c: Qwen3Config) {
        let kvd = c.numKeyValueHeads * c.headDim, hd = c.numAttentionHeads * c.headDim
        x.ensure(rows * c.hiddenSize); ln.ensure(rows * c.hiddenSize); tmp.ensure(rows * c.hiddenSize)
        rstd.ensure(rows * max(c.numAttentionHeads, 1)); q.ensure(rows * hd); y.ensure(rows * hd)
        k.ensure(rows * kvd); v.ensure(rows * kvd)
        gate.ensure(rows * c.intermediateSize); up.ensure(rows * c.intermediateSize); h.ensure(rows * c.intermediateSize)
    }
}

extension Qwen3Model {
    /// An empty cache for `batch` sequences of up to `capacity` positions.
    public func makeCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(config: config, batch: batch, capacity: capacity)
    }

    /// Appends one token per sequence (tokens.count == batch) at `cache.position` and returns the
    /// next-token logits (B, V). Equal to the last row of `forward` on the whole prefix.
    public func decodeStep(tokens: [Int32], cache: KVCache) -> [Float] {
        precondition(tokens.count == cache.batch, "decodeStep: \(tokens.count) tokens for a cache of batch \(cache.batch)")
        return decode(tokens: tokens, length: 1, cache: cache)
    }

    /// Appends t tokens per sequence (tokens (B, t) row-major) at positions position..<position+t
    /// in one pass (the products take B·t rows at once, so W is read once, not t times) and
    /// returns the next-token logits after the last of them (B, V); the LM head runs on those
    /// B rows only. Position i of the new ones attends to every cached position and to new
    /// positions ≤ i, so the result equals t successive `decodeStep`s up to round-off.
    func decode(tokens: [Int32], length t: Int, cache: KVCache) -> [Float] {
        let B = cache.batch, pos = cache.position, N = B * t
        precondition(t > 0 && tokens.count == N, "decode: \(tokens.count) tokens for batch \(B) × length \(t)")
        precondition(pos + t <= cache.capacity, "decodeStep: the cache is full (\(cache.capacity) positions)")
        let V = config.vocabSize
        for tok in tokens { precondition(tok >= 0 && Int(tok) < V, "decodeStep: token id \(tok) outside 0..<\(V)") }
        let C = config.hiddenSize, H = config.numAttentionHeads, KV = config.numKeyValueHeads
        let D = config.headDim, I = config.intermediateSize
        let HD = H * D, KVD = KV * D, eps = Float(config.rmsNormEps), scale = 1 / Float(D).squareRoot()
        let cap = cache.capacity
        let w = weightPointers()
        cache.reserve(rows: N, config: config)
        var logits = [Float](repeating: 0, count: B * V)
        withRope(pos + t) { cosT, sinT in
            let x = cache.x.ptr, ln = cache.ln.ptr, tmp = cache.tmp.ptr
            tokens.withUnsafeBufferPointer { tok in
                embed(out: x, tokens: tok.baseAddress!, w, n: N, c: C)
            }
            for l in 0..<config.numHiddenLayers {
                let lw = LayerTensors(layer: l)
                let q = cache.q.ptr, k = cache.k.ptr, v = cache.v.ptr, y = cache.y.ptr
                rmsnormForward(out: ln, rstd: cache.rstd.ptr, x: x, w: w[lw.inputNorm], rows: N, width: C, eps: eps)
                linear(out: q, x: ln, w, lw.qProj, n: N, inDim: C, outDim: HD)
                linear(out: k, x: ln, w, lw.kProj, n: N, inDim: C, outDim: KVD)
                linear(out: v, x: ln, w, lw.vProj, n: N, inDim: C, outDim: KVD)
                rmsnormForward(out: q, rstd: cache.rstd.ptr, x: q, w: w[lw.qNorm], rows: N * H, width: D, eps: eps)
                rmsnormForward(out: k, rstd: cache.rstd.ptr, x: k, w: w[lw.kNorm], rows: N * KV, width: D, eps: eps)
                ropeForward(x: q, cosT: cosT, sinT: sinT, b: B, t: t, heads: H, d: D, start: pos)
                ropeForward(x: k, cosT: cosT, sinT: sinT, b: B, t: t, heads: KV, d: D, start: pos)
                cachedAttention(y: y, scores: cache.scores.ptr, q: q, k: k, v: v, keys: cache.keys[l].ptr, values: cache.values[l].ptr,
                                b: B, t: t, start: pos, capacity: cap, h: H, kv: KV, d: D, scale: scale)
                linear(out: tmp, x: y, w, lw.oProj, n: N, inDim: HD, outDim: C)
                addInPlace(x, tmp, count: N * C)
                rmsnormForward(out: ln, rstd: cache.rstd.ptr, x: x, w: w[lw.postAttentionNorm], rows: N, width: C, eps: eps)
                linear(out: cache.gate.ptr, x: ln, w, lw.gateProj, n: N, inDim: C, outDim: I)
                linear(out: cache.up.ptr, x: ln, w, lw.upProj, n: N, inDim: C, outDim: I)
                swigluForward(out: cache.h.ptr, gate: cache.gate.ptr, up: cache.up.ptr, count: N * I)
                linear(out: tmp, x: cache.h.ptr, w, lw.downProj, n: N, inDim: I, outDim: C)
                addInPlace(x, tmp, count: N * C)
            }
            // the final norm and the head on each sequence's last new position only
            for b in 0..<B where t > 1 { (x + b * C).update(from: x + (b * t + t - 1) * C, count: C) }
            rmsnormForward(out: ln, rstd: cache.rstd.ptr, x: x, w: w[finalNormIndex], rows: B, width: C, eps: eps)
            logits.withUnsafeMutableBufferPointer { lp in
                linear(out: lp.baseAddress!, x: ln, w, headIndex, n: B, inDim: C, outDim: V)
            }
        }
        cache.advance(by: t)
        return logits
    }

    /// Feeds tokens (B, T) row-major into the cache in one pass and returns the logits (B, V)
    /// after the last one (the distribution of the next token); equal to T `decodeStep`s.
    public func prefill(tokens: [Int32], length: Int, cache: KVCache) -> [Float] {
        let B = cache.batch
        precondition(length > 0 && tokens.count == B * length, "prefill: \(tokens.count) tokens for batch \(B) × length \(length)")
        return decode(tokens: tokens, length: length, cache: cache)
    }
}
