import Foundation

/// The transformer path's one softmax and log-sum-exp (attention rows, the LM losses, the GRPO
/// log-probabilities, sampling).
///
/// For a row x of n logits and an inverse temperature s > 0 (s = 1/T):
///   m = max_j x_j,   e_j = exp(s·(x_j − m)) ∈ (0, 1],   Z = Σ_j e_j ≥ 1,
///   log Σ_j exp(s·x_j) = s·m + log Z,   softmax(s·x)_j = e_j / Z.
/// The shift by the maximum keeps every exponent ≤ 0, so extreme logits neither overflow nor
/// give NaN; the exponentials are Float32 (`expf`), Z is summed in Double and the logarithm is
/// taken in Double (the maximum and the final scaling run 8 lanes at a time; both are exact, so
/// the results are those of the plain loops). A row of −∞ except one finite entry gives a one-hot softmax.
public enum Softmax {
    /// max_j x_j (−∞ for an empty row; NaN entries are skipped as by `>`).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var mv = F8(repeating: -.infinity)
        var j = 0
        while j + 8 <= n { mv = VectorMath.max(mv, VectorMath.load(x + j)); j += 8 }
        var mx = VectorMath.horizontalMax(mv)
        while j < n { if x[j] > mx { mx = x[j] }; j += 1 }
        return mx
    }

    /// Writes e_j = exp(s·(x_j − m)) into `out` (which may alias `x`) and returns (s·m, Z).
    /// The exponentials are libm's `expf` (correctly rounded in practice, which the tests of the
    /// losses against Double formulas at 1e-9 rely on), summed in order in Double.
    @inline(__always)
    static func exponentials(_ x: UnsafePointer<Float>, count n: Int, scale s: Float,
                             into out: UnsafeMutablePointer<Float>) -> (shift: Double, sum: Double) {
        let mx = maximum(x, count: n)
        var z = 0.0
        for j in 0..<n {
            let e = expf(s * (x[j] - mx))
            out[j] = e
            z += Double(e)
        }
        return (Double(s) * Double(mx), z)
    }

    /// log Σ_j exp(s·x_j), without writing anything.
    public static func logSumExp(_ x: UnsafePointer<Float>, count n: Int, scale s: Float = 1) -> Double {
        let mx = maximum(x, count: n)
        var z = 0.0
        for j in 0..<n { z += Double(expf(s * (x[j] - mx))) }
        return Double(s) * Double(mx) + Foundation.log(z)
    }

    /// out[j] *= c for j < n.
    @inline(__always)
    static func scale(_ out: UnsafeMutablePointer<Float>, count n: Int, by c: Float) {
        let cv = F8(repeating: c)
        var j = 0
        while j + 8 <= n { VectorMath.store(VectorMath.load(out + j) * cv, out + j); j += 8 }
        while j < n { out[j] *= c; j += 1 }
    }

    /// The causal attention row: replaces x[0..<valid] by its softmax, with `VectorMath.exp`
    /// (largest relative error 8e-8 measured) and Z summed in 8 Float lanes, and x[valid..<width]
    /// by zeros. (The losses, log-probabilities and sampling keep `expf`.) Whole
    /// 8-lane vectors are read and written up to `width` (lanes at or past `valid` are masked to
    /// −∞ before the exponential), so short rows cost no lane-by-lane tail.
    static func softmaxCausalRow(_ x: UnsafeMutablePointer<Float>, valid n: Int, width w: Int) {
        precondition(n >= 1 && n <= w, "softmaxCausalRow: \(n) valid entries in a row of \(w)")
        let full = n & ~7, rest = n - full
        let vectorTail = rest > 0 && full + 8 <= w
        // Lanes k of the tail vector with full + k ≥ n are outside the row.
        let outside = (SIMD8<Int32>(repeating: Int32(rest - 1)) &- SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)) &>> 31
        let minusInf = F8(repeating: -.infinity)
        var mv = minusInf
        var j = 0
        while j < full { mv = VectorMath.max(mv, VectorMath.load(x + j)); j += 8 }
        var tail = minusInf
        if vectorTail {
            tail = VectorMath.select(outside, minusInf, VectorMath.load(x + full))
            mv = VectorMath.max(mv, tail)
        }
        var mx = VectorMath.horizontalMax(mv)
        if !vectorTail { for k in full..<n where x[k] > mx { mx = x[k] } }
        let mvv = F8(repeating: mx)
        var acc = F8()
        j = 0
        while j < full {
            let e = VectorMath.exp(VectorMath.load(x + j) - mvv)
            VectorMath.store(e, x + j)
            acc += e
            j += 8
        }
        if vectorTail {
            let e = VectorMath.exp(tail - mvv)
            VectorMath.store(e, x + full)
            acc += e
        } else if rest > 0 {
            let e = VectorMath.exp(VectorMath.loadPartial(x + full, rest, fill: -.infinity) - mvv)
            VectorMath.storePartial(e, x + full, rest)
            acc += e
        }
        let z = Double(VectorMath.horizontalSum(acc))
        let end = vectorTail ? full + 8 : n
        scale(x, count: end, by: Float(1 / z))
        (x + end).update(repeating: 0, count: w - end)
    }

    /// Replaces the row by softmax(s·x) in place and returns log Σ_j exp(s·x_j).
    @discardableResult
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int, scale s: Float = 1) -> Double {
        let (shift, z) = exponentials(UnsafePointer(x), count: n, scale: s, into: x)
        scale(x, count: n, by: Float(1 / z))
        return shift + Foundation.log(z)
    }

    /// Writes softmax(s·x) into `out` and returns log Σ_j exp(s·x_j).
    @discardableResult
    public static func softmax(_ x: UnsafePointer<Float>, count n: Int, scale s: Float = 1,
                               into out: UnsafeMutablePointer<Float>) -> Double {
        let (shift, z) = exponentials(x, count: n, scale: s, into: out)
        scale(out, count: n, by: Float(1 / z))
        return shift + Foundation.log(z)
    }

    /// Array convenience: softmax(s·x).
    public static func softmax(_ x: [Float], scale s: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                _ = softmax(xp.baseAddress!, count: x.count, scale: s, into: op.baseAddress!)
            }
        }
        return out
    }

    /// Array convenience: log Σ_j exp(s·x_j).
    public static func logSumExp(_ x: [Float], scale s: Float = 1) -> Double {
        x.withUnsafeBufferPointer { logSumExp($0.baseAddress!, count: x.count, scale: s) }
    }
}
