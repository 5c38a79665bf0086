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

    func advance() { position += 1 }
}

extension Qwen3Model {
    /// An empty cache for `batch` sequences of up to `capacity` positions.
    public func makeCache(batch: Int, capacity: Int) -> KVCache {
        KVCache(config: config, batch: batch, capacity: capacity)
    }

    /// Appends one token per sequence (tokens.count == batch) at `cache.position` and returns the
    /// next-token logits (B, V). Equal to the last row of `forward` on the whole prefix.
    public func decodeStep(tokens: [Int32], cache: KVCache) -> [Float] {
        decode(tokens: tokens, cache: cache, logits: true)
    }

    /// `decodeStep` without the LM head (no logits): stores the tokens' keys and values and
    /// advances the cache. For prompt positions whose next-token distribution is not needed.
    public func advance(tokens: [Int32], cache: KVCache) {
        _ = decode(tokens: tokens, cache: cache, logits: false)
    }

    func decode(tokens: [Int32], cache: KVCache, logits wantLogits: Bool) -> [Float] {
        let B = cache.batch, pos = cache.position
        precondition(tokens.count == B, "decodeStep: \(tokens.count) tokens for a cache of batch \(B)")
        precondition(pos < cache.capacity, "decodeStep: the cache is full (\(cache.capacity) positions)")
        let V = config.vocabSize
        for tok in tokens { precondition(tok >= 0 && Int(tok) < V, "decodeStep: token id \(tok) outside 0..<\(V)") }
        let C = config.hiddenSize, H = config.numAttentionHeads, KV = config.numKeyValueHeads
        let D = config.headDim, I = config.intermediateSize
        let HD = H * D, KVD = KV * D, eps = Float(config.rmsNormEps), scale = 1 / Float(D).squareRoot()
        let group = H / KV, cap = cache.capacity
        let w = weightPointers()
        var logits = [Float](repeating: 0, count: wantLogits ? B * V : 0)
        withRope(pos + 1) { cosT, sinT in
            let x = cache.x.ptr, ln = cache.ln.ptr, tmp = cache.tmp.ptr
            tokens.withUnsafeBufferPointer { tok in
                embed(out: x, tokens: tok.baseAddress!, w, n: B, c: C)
            }
            for l in 0..<config.numHiddenLayers {
                let p = Self.layerBase(l)
                let q = cache.q.ptr, k = cache.k.ptr, v = cache.v.ptr, y = cache.y.ptr
                rmsnormForward(out: ln, rstd: cache.rstd.ptr, x: x, w: w[p], rows: B, width: C, eps: eps)
                linear(out: q, x: ln, w, p + 1, n: B, inDim: C, outDim: HD)
                linear(out: k, x: ln, w, p + 2, n: B, inDim: C, outDim: KVD)
                linear(out: v, x: ln, w, p + 3, n: B, inDim: C, outDim: KVD)
                rmsnormForward(out: q, rstd: cache.rstd.ptr, x: q, w: w[p + 5], rows: B * H, width: D, eps: eps)
                rmsnormForward(out: k, rstd: cache.rstd.ptr, x: k, w: w[p + 6], rows: B * KV, width: D, eps: eps)
                ropeForward(x: q, cosT: cosT, sinT: sinT, b: B, t: 1, heads: H, d: D, start: pos)
                ropeForward(x: k, cosT: cosT, sinT: sinT, b: B, t: 1, heads: KV, d: D, start: pos)
                let kc = cache.keys[l].ptr, vc = cache.values[l].ptr
                for b in 0..<B {
                    (kc + (b * cap + pos) * KVD).update(from: k + b * KVD, count: KVD)
                    (vc + (b * cap + pos) * KVD).update(from: v + b * KVD, count: KVD)
                }
                // attention of the new position over 0...pos
                let sc = cache.scores.ptr
                for b in 0..<B {
                    for hi in 0..<H {
                        let kvh = hi / group
                        let qv = q + b * HD + hi * D
                        for s in 0...pos {
                            let kv = kc + (b * cap + s) * KVD + kvh * D
                            var dot: Float = 0
                            for j in 0..<D { dot += qv[j] * kv[j] }
                            sc[s] = dot * scale
                        }
                        Softmax.softmaxInPlace(sc, count: pos + 1)
                        let yv = y + b * HD + hi * D
                        yv.update(repeating: 0, count: D)
                        for s in 0...pos {
                            let ps = sc[s]
                            let vv = vc + (b * cap + s) * KVD + kvh * D
                            for j in 0..<D { yv[j] += ps * vv[j] }
                        }
                    }
                }
                linear(out: tmp, x: y, w, p + 4, n: B, inDim: HD, outDim: C)
                addInPlace(x, tmp, count: B * C)
                rmsnormForward(out: ln, rstd: cache.rstd.ptr, x: x, w: w[p + 7], rows: B, width: C, eps: eps)
                linear(out: cache.gate.ptr, x: ln, w, p + 8, n: B, inDim: C, outDim: I)
                linear(out: cache.up.ptr, x: ln, w, p + 9, n: B, inDim: C, outDim: I)
                swigluForward(out: cache.h.ptr, gate: cache.gate.ptr, up: cache.up.ptr, count: B * I)
                linear(out: tmp, x: cache.h.ptr, w, p + 10, n: B, inDim: I, outDim: C)
                addInPlace(x, tmp, count: B * C)
            }
            rmsnormForward(out: ln, rstd: cache.rstd.ptr, x: x, w: w[finalNormIndex], rows: B, width: C, eps: eps)
            if wantLogits { logits.withUnsafeMutableBufferPointer { lp in
                linear(out: lp.baseAddress!, x: ln, w, headIndex, n: B, inDim: C, outDim: V)
            } }
        }
        cache.advance()
        return logits
    }

    /// Feeds tokens (B, T) row-major through `decodeStep`, one position at a time, and returns
    /// the logits (B, V) after the last one (the distribution of the next token).
    public func prefill(tokens: [Int32], length: Int, cache: KVCache) -> [Float] {
        let B = cache.batch
        precondition(length > 0 && tokens.count == B * length, "prefill: \(tokens.count) tokens for batch \(B) × length \(length)")
        var logits: [Float] = []
        for t in 0..<length {
            let column = (0..<B).map { tokens[$0 * length + t] }
            if t < length - 1 { advance(tokens: column, cache: cache) } else { logits = decodeStep(tokens: column, cache: cache) }
        }
        return logits
    }
}
