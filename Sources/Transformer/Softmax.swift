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

    /// The exponential of a softmax: libm's `expf` (correctly rounded in practice; the losses, the
    /// log-probabilities and sampling, whose tests compare with Double formulas at 1e-9), or
    /// `VectorMath.exp` (8 lanes, largest relative error 8e-8 measured; the attention rows, where Z
    /// is then summed in Float lanes before the Double).
    public enum Exponential: Sendable { case libm, vector }

    /// Writes e_j = exp(s·(x_j − m)) into `out` (which may alias `x`) and returns (s·m, Z).
    @inline(__always)
    static func exponentials(_ x: UnsafePointer<Float>, count n: Int, scale s: Float,
                             into out: UnsafeMutablePointer<Float>, exp: Exponential = .libm) -> (shift: Double, sum: Double) {
        let mx = maximum(x, count: n)
        var z = 0.0
        switch exp {
        case .libm:
            for j in 0..<n {
                let e = expf(s * (x[j] - mx))
                out[j] = e
                z += Double(e)
            }
        case .vector:
            let sv = F8(repeating: s), mv = F8(repeating: mx)
            var acc = F8()
            var j = 0, k = 0
            while j + 8 <= n {
                let e = VectorMath.exp(sv * (VectorMath.load(x + j) - mv))
                VectorMath.store(e, out + j)
                acc += e
                j += 8; k += 1
                if k == 64 { z += Double(VectorMath.horizontalSum(acc)); acc = F8(); k = 0 }
            }
            if j < n {
                // Lanes past the row hold −∞, whose exponential is 0.
                let e = VectorMath.exp(sv * (VectorMath.loadPartial(x + j, n - j, fill: -.infinity) - mv))
                VectorMath.storePartial(e, out + j, n - j)
                acc += e
            }
            z += Double(VectorMath.horizontalSum(acc))
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

    /// Replaces the row by softmax(s·x) in place and returns log Σ_j exp(s·x_j).
    @discardableResult
    public static func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int, scale s: Float = 1,
                                      exp: Exponential = .libm) -> Double {
        let (shift, z) = exponentials(UnsafePointer(x), count: n, scale: s, into: x, exp: exp)
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
