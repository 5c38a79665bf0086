import Foundation
import Linalg
import Transformer

// The probe's passes over the model, in micro-batches: activations and logits exist for `micro`
// rows at a time, and the gradient of a batch is accumulated over its micro-batches in the model's
// gradient buffers (the backward adds into them). Micro-batching changes only the order of Float32
// sums inside the products (the tests hold it to the whole-batch result at 1e-5 relative).

extension TokenBatch {
    /// Rows `r` of the batch, cut after the last position whose next token is a target (length
    /// ≥ 1): later positions change no target's logits, since attention is causal.
    func rows(_ r: Range<Int>) -> TokenBatch {
        var used = 1
        for b in r { for p in 0..<length where targetMask[b * length + p] { used = max(used, p + 2) } }
        used = min(used, length)
        var tokens: [Int32] = [], mask: [Bool] = []
        tokens.reserveCapacity(r.count * used); mask.reserveCapacity(r.count * used)
        for b in r {
            tokens += self.tokens[(b * length)..<(b * length + used)]
            mask += targetMask[(b * length)..<(b * length + used)]
        }
        return TokenBatch(tokens: tokens, batch: r.count, length: used, targetMask: mask)
    }
}

extension Probe {
    /// Row sums of the target tokens' negative log-likelihoods at scale s,
    ///   nll_b = Σ_{p target in row b} ℓ_bp,  ℓ_bp = −log softmax(s·z_bp)[y_bp] = log Σ_v e^{s·z_bpv} − s·z_bpy,
    /// with z the model's logits on `batch`, run `micro` rows at a time. With `weights` w_b it also
    /// ADDS ∇_θ Σ_b w_b·nll_b into model.gradients, from ∂ℓ_bp/∂z_bp = s·(softmax(s·z_bp) − onehot(y_bp));
    /// rows with w_b = 0 are skipped (their nll_b is reported as 0) and so is a micro-batch of them.
    static func rowNLL(_ model: Qwen3Model, _ batch: TokenBatch, scale s: Double, micro: Int,
                       weights: [Double]? = nil) -> [Double] {
        let V = model.config.vocabSize, sf = Float(s)
        var nll = [Double](repeating: 0, count: batch.batch)
        var r0 = 0
        while r0 < batch.batch {
            let r1 = min(batch.batch, r0 + max(micro, 1))
            defer { r0 = r1 }
            if let w = weights, w[r0..<r1].allSatisfy({ $0 == 0 }) { continue }
            let sub = batch.rows(r0..<r1)
            let (B, T) = (sub.batch, sub.length)
            let logits = model.forward(tokens: sub.tokens, batch: B, length: T)
            var d = [Float](repeating: 0, count: weights == nil ? 0 : logits.count)
            var scratch = [Float](repeating: 0, count: weights == nil ? V : 0)
            logits.withUnsafeBufferPointer { lp in
                d.withUnsafeMutableBufferPointer { dp in
                    scratch.withUnsafeMutableBufferPointer { sp in
                        for b in 0..<B {
                            let w = weights.map { Float($0[r0 + b]) * sf }
                            if w == 0 { continue }
                            for p in 0..<(T - 1) where sub.targetMask[b * T + p] {
                                let off = (b * T + p) * V, y = Int(sub.tokens[b * T + p + 1])
                                let row = w == nil ? sp.baseAddress! : dp.baseAddress! + off
                                let logZ = Softmax.softmax(lp.baseAddress! + off, count: V, scale: sf, into: row)
                                nll[r0 + b] += logZ - Double(sf) * Double(lp[off + y])
                                if let w {
                                    for v in 0..<V { row[v] *= w }
                                    row[y] -= w
                                }
                            }
                        }
                    }
                }
            }
            if weights != nil { model.backward(dLogits: d) }
        }
        return nll
    }

    /// The target tokens' log-probabilities log π(y_bp | ·) at temperature 1 (`tokenLogProbs`), in
    /// row order, from forward passes of `micro` rows.
    static func targetLogProbs(_ model: Qwen3Model, _ batch: TokenBatch, micro: Int) -> [Double] {
        var out: [Double] = []
        for r0 in stride(from: 0, to: batch.batch, by: max(micro, 1)) {
            let sub = batch.rows(r0..<min(batch.batch, r0 + max(micro, 1)))
            let logits = model.forward(tokens: sub.tokens, batch: sub.batch, length: sub.length)
            out += tokenLogProbs(logits: logits, batch: sub, vocab: model.config.vocabSize, temperature: 1)
        }
        return out
    }
}

/// Σ a_i·b_i over n Floats, products and sums in Double (four partial sums, added in a fixed order).
func doubleDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var i = 0
    while i + 4 <= n {
        s0 += Double(a[i]) * Double(b[i]); s1 += Double(a[i + 1]) * Double(b[i + 1])
        s2 += Double(a[i + 2]) * Double(b[i + 2]); s3 += Double(a[i + 3]) * Double(b[i + 3])
        i += 4
    }
    while i < n { s0 += Double(a[i]) * Double(b[i]); i += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// The model's parameters at the probe's checkpoint θ, kept to restore them exactly after the
/// perturbed passes: as bfloat16 bits when every value is exactly a bfloat16 (a BF16 checkpoint
/// such as Qwen3's, read into Float32: half the memory, no loss), otherwise as Float32.
struct ParameterBackup {
    private var f32: [Float] = []
    private var bf16: [UInt16] = []
    let count: Int

    init(_ model: Qwen3Model) {
        count = model.parameters.reduce(0) { $0 + $1.count }
        let exact = model.parameters.allSatisfy { t in t.data.allSatisfy { $0.bitPattern & 0xFFFF == 0 } }
        if exact {
            bf16.reserveCapacity(count)
            for t in model.parameters { bf16 += t.data.lazy.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) } }
        } else {
            f32.reserveCapacity(count)
            for t in model.parameters { f32 += t.data }
        }
    }

    /// Bytes held.
    var bytes: Int { 4 * f32.count + 2 * bf16.count }

    /// θ ← θ_saved + a·v (v flat in parameter order; a = 0 restores θ exactly).
    func apply(_ model: Qwen3Model, plus a: Double, along v: [Float]?) {
        var k = 0
        let af = Float(a)
        for p in model.parameters {
            p.data.withUnsafeMutableBufferPointer { d in
                let n = d.count
                if bf16.isEmpty {
                    f32.withUnsafeBufferPointer { base in
                        if let v, af != 0 { for i in 0..<n { d[i] = base[k + i] + af * v[k + i] } }
                        else { for i in 0..<n { d[i] = base[k + i] } }
                    }
                } else {
                    bf16.withUnsafeBufferPointer { base in
                        if let v, af != 0 { for i in 0..<n { d[i] = Float(bitPattern: UInt32(base[k + i]) << 16) + af * v[k + i] } }
                        else { for i in 0..<n { d[i] = Float(bitPattern: UInt32(base[k + i]) << 16) } }
                    }
                }
            }
            k += p.count
        }
    }
}
