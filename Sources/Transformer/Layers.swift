import Foundation
import Linalg

// The Qwen3 layers as llm.c-style forward/backward pairs on raw row-major Float buffers.
// Shapes: B batch, T length, N = B·T rows, C hidden, H query heads, KV key/value heads,
// D head_dim, I intermediate, V vocab. Every backward ADDS into parameter gradients (`dw`)
// and either writes or adds into the input gradient (`accumulate`), as documented per function.

typealias FPtr = UnsafeMutablePointer<Float>
typealias CFPtr = UnsafePointer<Float>

// MARK: - Embedding

/// out[n, :] = wte[tokens[n], :]. out (N, C), wte (V, C).
func embeddingForward(out: FPtr, tokens: UnsafePointer<Int32>, wte: CFPtr, n: Int, c: Int) {
    for i in 0..<n {
        (out + i * c).update(from: wte + Int(tokens[i]) * c, count: c)
    }
}

/// dwte[tokens[n], :] += dout[n, :]. Repeated tokens sum.
func embeddingBackward(dwte: FPtr, dout: CFPtr, tokens: UnsafePointer<Int32>, n: Int, c: Int) {
    for i in 0..<n {
        let row = dwte + Int(tokens[i]) * c
        let g = dout + i * c
        for j in 0..<c { row[j] += g[j] }
    }
}

// MARK: - RMSNorm (also the per-head QK-norm: rows = N·H, width = D)

/// y = w ⊙ x · r, r = 1/√(mean(x²) + eps), per row. x, out (rows, width); w (width); rstd (rows).
/// out may alias x. Σx² in 8 lane partial sums (`VectorMath.dot`).
func rmsnormForward(out: FPtr, rstd: FPtr, x: CFPtr, w: CFPtr, rows: Int, width: Int, eps: Float) {
    for i in 0..<rows {
        let xi = x + i * width, yi = out + i * width
        let ss = VectorMath.dot(xi, xi, count: width)
        let r = 1 / (ss / Float(width) + eps).squareRoot()
        rstd[i] = r
        VectorMath.weightedScale(w, xi, by: r, into: yi, count: width)
    }
}

/// With x̂ = x·r and g = w ⊙ dy: dx = r·(g − x̂·mean(g ⊙ x̂)); dw += Σ_rows dy ⊙ x̂.
/// `accumulate`: dx += … instead of dx = ….
func rmsnormBackward(dx: FPtr, dw: FPtr, dout: CFPtr, x: CFPtr, w: CFPtr, rstd: CFPtr,
                     rows: Int, width: Int, accumulate: Bool) {
    let invW = 1 / Float(width)
    for i in 0..<rows {
        let xi = x + i * width, dyi = dout + i * width, dxi = dx + i * width
        let r = rstd[i]
        let rv = F8(repeating: r)
        var acc = F8()
        var j = 0
        while j + 8 <= width {
            let dy = VectorMath.load(dyi + j), xhat = VectorMath.load(xi + j) * rv
            acc += VectorMath.load(w + j) * dy * xhat
            VectorMath.store(VectorMath.load(dw + j) + dy * xhat, dw + j)
            j += 8
        }
        var dot = VectorMath.horizontalSum(acc)
        while j < width {
            let xhat = xi[j] * r
            dot += w[j] * dyi[j] * xhat
            dw[j] += dyi[j] * xhat
            j += 1
        }
        let m = dot * invW
        let mv = F8(repeating: r * m)
        j = 0
        while j + 8 <= width {
            var d = rv * (VectorMath.load(w + j) * VectorMath.load(dyi + j) - VectorMath.load(xi + j) * mv)
            if accumulate { d += VectorMath.load(dxi + j) }
            VectorMath.store(d, dxi + j)
            j += 8
        }
        while j < width {
            let d = r * (w[j] * dyi[j] - xi[j] * (r * m))
            dxi[j] = accumulate ? dxi[j] + d : d
            j += 1
        }
    }
}

// MARK: - Linear (HF layout: W is [out, in], y = x·Wᵀ, no bias)

/// out (N, outDim) = x (N, inDim) · Wᵀ, W (outDim, inDim). Few rows (N ≤ `SkinnyLinear.maxRows`,
/// 32: decoding, short prompts) go to the skinny kernel, which reads W in place; others to sgemm.
func linearForward(out: FPtr, x: CFPtr, w: CFPtr, n: Int, inDim: Int, outDim: Int) {
    if SkinnyLinear.takes(rows: n) { SkinnyLinear.f32(out: out, x: x, w: w, n: n, inDim: inDim, outDim: outDim); return }
    sgemm(transA: false, transB: true, m: n, n: outDim, k: inDim, alpha: 1, a: x, lda: inDim,
          b: w, ldb: inDim, beta: 0, c: out, ldc: outDim)
}

/// dW += doutᵀ·x; dx = dout·W (or dx += when `accumulate`).
func linearBackward(dx: FPtr, dw: FPtr, dout: CFPtr, x: CFPtr, w: CFPtr,
                    n: Int, inDim: Int, outDim: Int, accumulate: Bool) {
    sgemm(transA: true, transB: false, m: outDim, n: inDim, k: n, alpha: 1, a: dout, lda: outDim,
          b: x, ldb: inDim, beta: 1, c: dw, ldc: inDim)
    sgemm(transA: false, transB: false, m: n, n: inDim, k: outDim, alpha: 1, a: dout, lda: outDim,
          b: w, ldb: inDim, beta: accumulate ? 1 : 0, c: dx, ldc: inDim)
}

// MARK: - Rotary position embedding (rotate-half, not interleaved)

/// cos/sin tables (positions, D/2): angle(p, i) = p · θ^(−2i/D), computed in Double.
func ropeTables(positions: Int, headDim: Int, theta: Double) -> (cos: [Float], sin: [Float]) {
    let half = headDim / 2
    var cosT = [Float](repeating: 0, count: positions * half)
    var sinT = cosT
    for i in 0..<half {
        let invFreq = 1 / pow(theta, Double(2 * i) / Double(headDim))
        for p in 0..<positions {
            let a = Double(p) * invFreq
            cosT[p * half + i] = Float(cos(a))
            sinT[p * half + i] = Float(sin(a))
        }
    }
    return (cosT, sinT)
}

/// In place on x (B, T, heads, D) at positions start..<start+T (the same for every sequence):
/// for i < D/2, (x_i, x_{i+D/2}) ← (x_i·cos − x_{i+D/2}·sin, x_{i+D/2}·cos + x_i·sin).
func ropeForward(x: FPtr, cosT: CFPtr, sinT: CFPtr, b: Int, t: Int, heads: Int, d: Int, start: Int) {
    ropeRotate(x, cosT: cosT + start * (d / 2), sinT: sinT + start * (d / 2), b: b, t: t, heads: heads, d: d, sign: 1)
}

/// In place: the transpose of the rotation, dx = Rᵀ·dy.
func ropeBackward(dx: FPtr, cosT: CFPtr, sinT: CFPtr, b: Int, t: Int, heads: Int, d: Int) {
    ropeRotate(dx, cosT: cosT, sinT: sinT, b: b, t: t, heads: heads, d: d, sign: -1)
}

/// The rotation by +angle (sign 1) or −angle (sign −1, the transpose): with s = sign·sin,
/// (v_i, v_{i+D/2}) ← (v_i·cos − v_{i+D/2}·s, v_{i+D/2}·cos + v_i·s). Tables start at position 0 of x.
private func ropeRotate(_ x: FPtr, cosT: CFPtr, sinT: CFPtr, b: Int, t: Int, heads: Int, d: Int, sign: Float) {
    let half = d / 2
    for bi in 0..<b {
        for ti in 0..<t {
            let cs = cosT + ti * half, sn = sinT + ti * half
            for h in 0..<heads {
                let v = x + ((bi * t + ti) * heads + h) * d
                var i = 0
                while i + 8 <= half {
                    let x1 = VectorMath.load(v + i), x2 = VectorMath.load(v + i + half)
                    let c = VectorMath.load(cs + i), s = VectorMath.load(sn + i) * sign
                    VectorMath.store(x1 * c - x2 * s, v + i)
                    VectorMath.store(x2 * c + x1 * s, v + i + half)
                    i += 8
                }
                while i < half {
                    let x1 = v[i], x2 = v[i + half], s = sn[i] * sign
                    v[i] = x1 * cs[i] - x2 * s
                    v[i + half] = x2 * cs[i] + x1 * s
                    i += 1
                }
            }
        }
    }
}

// MARK: - Causal grouped-query attention

/// Floats of scratch that `attentionForward` and `attentionBackward` need: with G = H/KV query
/// heads per key/value head, G·T·T (the group's scores) + 2·G·T·D (gathered rows).
func attentionScratchCount(t: Int, h: Int, kv: Int, d: Int) -> Int {
    let g = h / kv
    return g * t * t + 2 * g * t * d
}

/// Copies the G heads kvh·G ..< (kvh+1)·G of one sequence, rows (T, H·D) with head width D, into
/// a (G·T, D) block (row gi·T + t) — `scatter` copies back.
@inline(__always)
private func gatherHeads(_ dst: FPtr, _ src: CFPtr, t: Int, hd: Int, d: Int, firstHead: Int, group: Int) {
    for gi in 0..<group {
        for ti in 0..<t { (dst + (gi * t + ti) * d).update(from: src + ti * hd + (firstHead + gi) * d, count: d) }
    }
}

@inline(__always)
private func scatterHeads(_ dst: FPtr, _ src: CFPtr, t: Int, hd: Int, d: Int, firstHead: Int, group: Int) {
    for gi in 0..<group {
        for ti in 0..<t { (dst + ti * hd + (firstHead + gi) * d).update(from: src + (gi * t + ti) * d, count: d) }
    }
}

/// q (B, T, H, D), k and v (B, T, KV, D) → y (B, T, H, D); att (B, H, T, T) keeps the softmax
/// probabilities (zero above the diagonal). Query head h reads key/value head h / (H/KV).
/// P = softmax_causal(scale · Q·Kᵀ), Y = P·V, per (b, h). The G query heads of one key/value
/// head are done together: one product (G·T × D)·(D × T) for their scores and one
/// (G·T × T)·(T × D) for their outputs. scratch: `attentionScratchCount` floats.
func attentionForward(y: FPtr, att: FPtr, scratch: FPtr, q: CFPtr, k: CFPtr, v: CFPtr,
                      b: Int, t: Int, h: Int, kv: Int, d: Int, scale: Float) {
    let hd = h * d, kvd = kv * d, group = h / kv, gt = group * t
    let qg = scratch + group * t * t, yg = qg + gt * d
    for bi in 0..<b {
        for kvh in 0..<kv {
            let h0 = kvh * group
            let kp = k + bi * t * kvd + kvh * d
            let vp = v + bi * t * kvd + kvh * d
            let p = att + (bi * h + h0) * t * t          // (G·T, T): row gi·T + i is head h0+gi, position i
            gatherHeads(qg, q + bi * t * hd, t: t, hd: hd, d: d, firstHead: h0, group: group)
            sgemm(transA: false, transB: true, m: gt, n: t, k: d, alpha: scale, a: qg, lda: d,
                  b: kp, ldb: kvd, beta: 0, c: p, ldc: t)
            for r in 0..<gt { Softmax.softmaxCausalRow(p + r * t, valid: r % t + 1, width: t) }
            sgemm(transA: false, transB: false, m: gt, n: d, k: t, alpha: 1, a: p, lda: t,
                  b: vp, ldb: kvd, beta: 0, c: yg, ldc: d)
            scatterHeads(y + bi * t * hd, yg, t: t, hd: hd, d: d, firstHead: h0, group: group)
        }
    }
}

/// Given dy (B, T, H, D): dq = scale·dS·K (written), dk += scale·dSᵀ·Q, dv += Pᵀ·dY (dk and dv
/// must be zeroed by the caller; heads of one group sum into their shared KV head), with
/// dP = dY·Vᵀ and dS = P ⊙ (dP − rowsum(P ⊙ dP)). As in the forward, the G heads of a key/value
/// head are one product each (the sums over the group's heads are inside the products for dk
/// and dv). scratch: `attentionScratchCount` floats.
func attentionBackward(dq: FPtr, dk: FPtr, dv: FPtr, scratch: FPtr, dy: CFPtr, att: CFPtr,
                       q: CFPtr, k: CFPtr, v: CFPtr,
                       b: Int, t: Int, h: Int, kv: Int, d: Int, scale: Float) {
    let hd = h * d, kvd = kv * d, group = h / kv, gt = group * t
    let ds = scratch, rows = scratch + group * t * t, dyg = rows + gt * d
    for bi in 0..<b {
        for kvh in 0..<kv {
            let h0 = kvh * group
            let kp = k + bi * t * kvd + kvh * d
            let vp = v + bi * t * kvd + kvh * d
            let p = att + (bi * h + h0) * t * t
            gatherHeads(dyg, dy + bi * t * hd, t: t, hd: hd, d: d, firstHead: h0, group: group)
            // dP = dY·Vᵀ (G·T, T)
            sgemm(transA: false, transB: true, m: gt, n: t, k: d, alpha: 1, a: dyg, lda: d,
                  b: vp, ldb: kvd, beta: 0, c: ds, ldc: t)
            // dV += Pᵀ·dY, summed over the group's heads
            sgemm(transA: true, transB: false, m: t, n: d, k: gt, alpha: 1, a: p, lda: t,
                  b: dyg, ldb: d, beta: 1, c: dv + bi * t * kvd + kvh * d, ldc: kvd)
            // Whole rows: P is zero above the diagonal, so the dot product is Σ_{j ≤ i} and dS is
            // (±)0 there, without a lane-by-lane tail at the diagonal.
            for r in 0..<gt {
                let pr = p + r * t, dr = ds + r * t
                let dot = VectorMath.dot(pr, dr, count: t)
                let dv = F8(repeating: dot)
                var j = 0
                while j + 8 <= t {
                    VectorMath.store(VectorMath.load(pr + j) * (VectorMath.load(dr + j) - dv), dr + j)
                    j += 8
                }
                while j < t { dr[j] = pr[j] * (dr[j] - dot); j += 1 }
            }
            // dQ = scale·dS·K ; dK += scale·dSᵀ·Q (summed over the group's heads)
            sgemm(transA: false, transB: false, m: gt, n: d, k: t, alpha: scale, a: ds, lda: t,
                  b: kp, ldb: kvd, beta: 0, c: rows, ldc: d)
            scatterHeads(dq + bi * t * hd, rows, t: t, hd: hd, d: d, firstHead: h0, group: group)
            gatherHeads(rows, q + bi * t * hd, t: t, hd: hd, d: d, firstHead: h0, group: group)
            sgemm(transA: true, transB: false, m: t, n: d, k: gt, alpha: scale, a: ds, lda: t,
                  b: rows, ldb: d, beta: 1, c: dk + bi * t * kvd + kvh * d, ldc: kvd)
        }
    }
}

// MARK: - Attention over a KV cache (decoding)

/// Appends the new keys and values k, v (B·t rows of KV·D) at positions start..<start+t of the
/// cache (keys, values: B × capacity rows of KV·D), then, for each new position i and head h,
/// y = softmax(q·Kᵀ·scale)·V over cached positions 0...start+i (causal), head h reading kv head
/// h/(H/KV). q (B·t, H·D) after QK-norm and RoPE; y (B·t, H·D); scores: start+t floats of scratch.
/// Scalar dot products in position order (the decoder's bits, unchanged by the extraction).
func cachedAttention(y: FPtr, scores sc: FPtr, q: CFPtr, k: CFPtr, v: CFPtr, keys kc: FPtr, values vc: FPtr,
                     b B: Int, t: Int, start pos: Int, capacity cap: Int, h H: Int, kv KV: Int, d D: Int, scale: Float) {
    let HD = H * D, KVD = KV * D, group = H / KV
    for b in 0..<B {
        for i in 0..<t {
            (kc + (b * cap + pos + i) * KVD).update(from: k + (b * t + i) * KVD, count: KVD)
            (vc + (b * cap + pos + i) * KVD).update(from: v + (b * t + i) * KVD, count: KVD)
        }
    }
    for b in 0..<B {
        for i in 0..<t {
            let last = pos + i
            for hi in 0..<H {
                let kvh = hi / group
                let qv = q + (b * t + i) * HD + hi * D
                for s in 0...last {
                    let kv = kc + (b * cap + s) * KVD + kvh * D
                    var dot: Float = 0
                    for j in 0..<D { dot += qv[j] * kv[j] }
                    sc[s] = dot * scale
                }
                Softmax.softmaxInPlace(sc, count: last + 1)
                let yv = y + (b * t + i) * HD + hi * D
                yv.update(repeating: 0, count: D)
                for s in 0...last {
                    let ps = sc[s]
                    let vv = vc + (b * cap + s) * KVD + kvh * D
                    for j in 0..<D { yv[j] += ps * vv[j] }
                }
            }
        }
    }
}

// MARK: - SwiGLU

/// out = silu(gate) ⊙ up, silu(g) = g·σ(g), σ(g) = 1/(1 + exp(−g)) (`VectorMath.exp`). All (N, I),
/// flattened to `count`. With `sigmoid`, σ(gate) is also stored there for the backward.
func swigluForward(out: FPtr, gate: CFPtr, up: CFPtr, count: Int, sigmoid: FPtr? = nil) {
    var i = 0
    while i + 8 <= count {
        let g = VectorMath.load(gate + i)
        let s = 1 / (1 + VectorMath.exp(-g))
        VectorMath.store(g * s * VectorMath.load(up + i), out + i)
        if let sigmoid { VectorMath.store(s, sigmoid + i) }
        i += 8
    }
    if i < count {
        let n = count - i
        let g = VectorMath.loadPartial(gate + i, n)
        let s = 1 / (1 + VectorMath.exp(-g))
        VectorMath.storePartial(g * s * VectorMath.loadPartial(up + i, n), out + i, n)
        if let sigmoid { VectorMath.storePartial(s, sigmoid + i, n) }
    }
}

/// dgate = dout ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))), dup = dout ⊙ silu(g) (both written), with σ(g)
/// as stored by `swigluForward`.
func swigluBackward(dgate: FPtr, dup: FPtr, dout: CFPtr, gate: CFPtr, up: CFPtr, sigmoid: CFPtr, count: Int) {
    var i = 0
    while i + 8 <= count {
        let g = VectorMath.load(gate + i), u = VectorMath.load(up + i), dy = VectorMath.load(dout + i)
        let s = VectorMath.load(sigmoid + i)
        VectorMath.store(dy * u * s * (1 + g * (1 - s)), dgate + i)
        VectorMath.store(dy * (g * s), dup + i)
        i += 8
    }
    while i < count {
        let g = gate[i], s = sigmoid[i]
        dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s))
        dup[i] = dout[i] * (g * s)
        i += 1
    }
}

// MARK: - Residual

/// out = a + b (count floats). Its backward is the identity into both branches.
func residualForward(out: FPtr, a: CFPtr, b: CFPtr, count: Int) {
    for i in 0..<count { out[i] = a[i] + b[i] }
}

/// dst += src (the residual backward's sum of branch gradients).
func addInPlace(_ dst: FPtr, _ src: CFPtr, count: Int) {
    for i in 0..<count { dst[i] += src[i] }
}
