// Vectorised elementwise maths of the transformer path (8 Float lanes per operation; with the
// baseline x86-64 target the compiler issues them as two SSE operations). Plain multiplies and
// adds, no fused multiply-add, no reassociation by the compiler: the same input gives the same
// bits on every machine and at every thread count.

typealias F8 = SIMD8<Float>

enum VectorMath {
    // exp(x) = 2ⁿ·exp(r), n = round(x·log₂e), r = x − n·ln2 (Cody–Waite: ln2 = hi + lo, hi exact in
    // 9 bits so n·hi is exact for |n| < 2¹⁵), exp(r) on |r| ≤ ln2/2 by Cephes' degree-6 polynomial
    // 1 + r + r²·P(r) (relative error about 1e-7, within 2 ulp of the correctly rounded value).
    static let ln2Hi: Float = 0.693359375
    static let ln2Lo: Float = -2.12194440e-4
    static let log2e: Float = 1.44269504088896341
    /// x at or below this gives exactly 0 (exp would be subnormal); at or above `expMax`, +∞.
    static let expMin: Float = -87.3365447505531
    static let expMax: Float = 88.7228391116729
    /// 1.5·2²³: adding it rounds a Float of magnitude < 2²² to an integer (ties to even), which
    /// is then read from the low mantissa bits.
    static let roundMagic: Float = 12_582_912

    /// All-ones lanes where v is negative (its sign bit set), zero lanes elsewhere. With v = a − b
    /// this is a < b for non-NaN lanes (a − b is never −0 when a ≠ b). Masks are made from sign
    /// bits with integer shifts because the SIMD comparisons (`.<`), `pointwiseMin/Max`,
    /// `clamped` and `replacing(with:where:)` went lane by lane through scalar code here.
    @inline(__always) static func negativeMask(_ v: F8) -> SIMD8<Int32> {
        unsafeBitCast(v, to: SIMD8<Int32>.self) &>> 31
    }

    /// All-ones lanes where v is NaN: its magnitude bits exceed those of +∞.
    @inline(__always) static func nanMask(_ v: F8) -> SIMD8<Int32> {
        let magnitude = unsafeBitCast(v, to: SIMD8<Int32>.self) & Int32(0x7FFF_FFFF)
        return (SIMD8<Int32>(repeating: 0x7F80_0000) &- magnitude) &>> 31
    }

    /// Lane i of `a` where mask lane i is all ones, else of `b`.
    @inline(__always) static func select(_ m: SIMD8<Int32>, _ a: F8, _ b: F8) -> F8 {
        let ai = unsafeBitCast(a, to: SIMD8<Int32>.self), bi = unsafeBitCast(b, to: SIMD8<Int32>.self)
        return unsafeBitCast((ai & m) | (bi & ~m), to: F8.self)
    }

    /// The lane-wise maximum of non-NaN lanes (exact: a lane of b replaces a lane of a iff a < b).
    @inline(__always) static func max(_ a: F8, _ b: F8) -> F8 { select(negativeMask(a - b), b, a) }

    /// exp(x) lane by lane; x ≤ expMin gives 0 (exp(−∞) = 0), x ≥ expMax gives +∞, NaN stays NaN.
    /// Lanes outside (expMin, expMax) compute garbage that the final selects replace.
    @inline(__always) static func exp(_ x: F8) -> F8 {
        let shifted = x * log2e + roundMagic
        let n = shifted - roundMagic
        var r = x - n * ln2Hi
        r = r - n * ln2Lo
        var p = F8(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        // 2ⁿ from the rounded value's bits: n sits in the low mantissa bits of `shifted`.
        let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: roundMagic.bitPattern)
        // Split 2ⁿ = 2^(n/2)·2^(n−n/2) so that n = 128 (x near expMax) does not overflow the exponent.
        let half = nBits &>> 1
        let bias = SIMD8<Int32>(repeating: 127)
        let s1 = unsafeBitCast((half &+ bias) &<< 23, to: F8.self)
        let s2 = unsafeBitCast((nBits &- half &+ bias) &<< 23, to: F8.self)
        var y = p * s1 * s2
        let low = ~negativeMask(expMin - x), high = ~negativeMask(x - expMax)
        y = unsafeBitCast(unsafeBitCast(y, to: SIMD8<Int32>.self) & ~low, to: F8.self)
        y = select(high, F8(repeating: .infinity), y)
        y = select(nanMask(x), x, y)
        return y
    }

    /// Loads `count` < 8 floats into the low lanes (the rest `fill`).
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float = 0) -> F8 {
        var v = F8(repeating: fill)
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> F8 {
        UnsafeRawPointer(p).loadUnaligned(as: F8.self)
    }

    @inline(__always) static func store(_ v: F8, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: F8.self)
    }

    @inline(__always) static func storePartial(_ v: F8, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for i in 0..<count { p[i] = v[i] }
    }

    /// out[i] = exp(x[i]) for i < n (out may alias x).
    static func exp(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n { store(exp(load(x + i)), out + i); i += 8 }
        if i < n { storePartial(exp(loadPartial(x + i, n - i)), out + i, n - i) }
    }

    /// exp(x) of one Float, by the same arithmetic as the vector lanes (same bits).
    @inline(__always) static func exp(_ x: Float) -> Float { exp(F8(repeating: x))[0] }

    /// Σ x[i]·y[i], in 8 lane partial sums added pairwise at the end (a fixed order).
    @inline(__always) static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
        var acc = F8()
        var i = 0
        while i + 8 <= n { acc += load(x + i) * load(y + i); i += 8 }
        if i < n { acc += loadPartial(x + i, n - i) * loadPartial(y + i, n - i) }
        return horizontalSum(acc)
    }

    /// The sum of the lanes, ((0+4)+(2+6))+((1+5)+(3+7)).
    /// out = w ⊙ (x·r) elementwise (8 lanes, then the tail), out may alias x: rmsnorm's scaling.
    @inline(__always) static func weightedScale(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, by r: Float,
                                                into out: UnsafeMutablePointer<Float>, count n: Int) {
        let rv = F8(repeating: r)
        var j = 0
        while j + 8 <= n {
            store(load(w + j) * (load(x + j) * rv), out + j)
            j += 8
        }
        while j < n { out[j] = w[j] * (x[j] * r); j += 1 }
    }

    @inline(__always) static func horizontalSum(_ v: F8) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        return b[0] + b[1]
    }

    /// The largest lane (NaN lanes skipped).
    @inline(__always) static func horizontalMax(_ v: F8) -> Float {
        var m = v[0]
        for i in 1..<8 where v[i] > m { m = v[i] }
        return m
    }
}

/// Σ_i x_i² (e.g. a gradient's squared norm), in 8 Float lanes flushed into a Double every 512
/// terms (a fixed order: the same values give the same bits).
public func sumOfSquares(_ x: [Float]) -> Double {
    x.withUnsafeBufferPointer { p in
        var s = 0.0
        var j = 0
        while j < p.count {
            let n = min(512, p.count - j)
            s += Double(VectorMath.dot(p.baseAddress! + j, p.baseAddress! + j, count: n))
            j += n
        }
        return s
    }
}
