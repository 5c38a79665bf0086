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
func rmsnormForward(out: FPtr, rstd: FPtr, x: CFPtr, w: CFPtr, rows: Int, width: Int, eps: Float) {
    for i in 0..<rows {
        let xi = x + i * width, yi = out + i * width
        var ss: Float = 0
        for j in 0..<width { ss += xi[j] * xi[j] }
        let r = 1 / (ss / Float(width) + eps).squareRoot()
        rstd[i] = r
        for j in 0..<width { yi[j] = w[j] * (xi[j] * r) }
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
        var dot: Float = 0
        for j in 0..<width {
            let xhat = xi[j] * r
            dot += w[j] * dyi[j] * xhat
            dw[j] += dyi[j] * xhat
        }
        let m = dot * invW
        if accumulate {
            for j in 0..<width { dxi[j] += r * (w[j] * dyi[j] - xi[j] * r * m) }
        } else {
            for j in 0..<width { dxi[j] = r * (w[j] * dyi[j] - xi[j] * r * m) }
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
    let half = d / 2
    for bi in 0..<b {
        for ti in 0..<t {
            let cs = cosT + (start + ti) * half, sn = sinT + (start + ti) * half
            for h in 0..<heads {
                let v = x + ((bi * t + ti) * heads + h) * d
                for i in 0..<half {
                    let x1 = v[i], x2 = v[i + half]
                    v[i] = x1 * cs[i] - x2 * sn[i]
                    v[i + half] = x2 * cs[i] + x1 * sn[i]
                }
            }
        }
    }
}

/// In place: the transpose of the rotation, dx = Rᵀ·dy.
func ropeBackward(dx: FPtr, cosT: CFPtr, sinT: CFPtr, b: Int, t: Int, heads: Int, d: Int) {
    let half = d / 2
    for bi in 0..<b {
        for ti in 0..<t {
            let cs = cosT + ti * half, sn = sinT + ti * half
            for h in 0..<heads {
                let v = dx + ((bi * t + ti) * heads + h) * d
                for i in 0..<half {
                    let g1 = v[i], g2 = v[i + half]
                    v[i] = g1 * cs[i] + g2 * sn[i]
                    v[i + half] = g2 * cs[i] - g1 * sn[i]
                }
            }
        }
    }
}

// MARK: - Causal grouped-query attention

/// q (B, T, H, D), k and v (B, T, KV, D) → y (B, T, H, D); att (B, H, T, T) keeps the softmax
/// probabilities (zero above the diagonal). Query head h reads key/value head h / (H/KV).
/// P = softmax_causal(scale · Q·Kᵀ), Y = P·V, per (b, h).
func attentionForward(y: FPtr, att: FPtr, q: CFPtr, k: CFPtr, v: CFPtr,
                      b: Int, t: Int, h: Int, kv: Int, d: Int, scale: Float) {
    let hd = h * d, kvd = kv * d, group = h / kv
    for bi in 0..<b {
        for hi in 0..<h {
            let kvh = hi / group
            let qp = q + bi * t * hd + hi * d
            let kp = k + bi * t * kvd + kvh * d
            let vp = v + bi * t * kvd + kvh * d
            let p = att + (bi * h + hi) * t * t
            sgemm(transA: false, transB: true, m: t, n: t, k: d, alpha: scale, a: qp, lda: hd,
                  b: kp, ldb: kvd, beta: 0, c: p, ldc: t)
            for i in 0..<t {
                let row = p + i * t
                Softmax.softmaxInPlace(row, count: i + 1)
                for j in (i + 1)..<t { row[j] = 0 }
            }
            sgemm(transA: false, transB: false, m: t, n: d, k: t, alpha: 1, a: p, lda: t,
                  b: vp, ldb: kvd, beta: 0, c: y + bi * t * hd + hi * d, ldc: hd)
        }
    }
}

/// Given dy (B, T, H, D): dq = scale·dS·K (written), dk += scale·dSᵀ·Q, dv += Pᵀ·dY (dk and dv
/// must be zeroed by the caller; heads of one group sum into their shared KV head), with
/// dP = dY·Vᵀ and dS = P ⊙ (dP − rowsum(P ⊙ dP)). scratch holds T·T floats.
func attentionBackward(dq: FPtr, dk: FPtr, dv: FPtr, scratch: FPtr, dy: CFPtr, att: CFPtr,
                       q: CFPtr, k: CFPtr, v: CFPtr,
                       b: Int, t: Int, h: Int, kv: Int, d: Int, scale: Float) {
    let hd = h * d, kvd = kv * d, group = h / kv
    for bi in 0..<b {
        for hi in 0..<h {
            let kvh = hi / group
            let qp = q + bi * t * hd + hi * d
            let kp = k + bi * t * kvd + kvh * d
            let vp = v + bi * t * kvd + kvh * d
            let dyp = dy + bi * t * hd + hi * d
            let p = att + (bi * h + hi) * t * t
            let ds = scratch
            // dP = dY·Vᵀ (T, T)
            sgemm(transA: false, transB: true, m: t, n: t, k: d, alpha: 1, a: dyp, lda: hd,
                  b: vp, ldb: kvd, beta: 0, c: ds, ldc: t)
            // dV += Pᵀ·dY
            sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: 1, a: p, lda: t,
                  b: dyp, ldb: hd, beta: 1, c: dv + bi * t * kvd + kvh * d, ldc: kvd)
            for i in 0..<t {
                let pr = p + i * t, dr = ds + i * t
                var dot: Float = 0
                for j in 0...i { dot += pr[j] * dr[j] }
                for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                for j in (i + 1)..<t { dr[j] = 0 }
            }
            // dQ = scale·dS·K ; dK += scale·dSᵀ·Q
            sgemm(transA: false, transB: false, m: t, n: d, k: t, alpha: scale, a: ds, lda: t,
                  b: kp, ldb: kvd, beta: 0, c: dq + bi * t * hd + hi * d, ldc: hd)
            sgemm(transA: true, transB: false, m: t, n: d, k: t, alpha: scale, a: ds, lda: t,
                  b: qp, ldb: hd, beta: 1, c: dk + bi * t * kvd + kvh * d, ldc: kvd)
        }
    }
}

// MARK: - SwiGLU

/// out = silu(gate) ⊙ up, silu(g) = g·σ(g). All (N, I), flattened to `count`.
func swigluForward(out: FPtr, gate: CFPtr, up: CFPtr, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        out[i] = g / (1 + expf(-g)) * up[i]
    }
}

/// dgate = dout ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))), dup = dout ⊙ silu(g) (both written).
func swigluBackward(dgate: FPtr, dup: FPtr, dout: CFPtr, gate: CFPtr, up: CFPtr, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        let s = 1 / (1 + expf(-g))
        dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s))
        dup[i] = dout[i] * g * s
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
