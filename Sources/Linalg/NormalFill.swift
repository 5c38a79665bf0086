import Foundation

// The bulk normal generator: Box–Muller over SplitMix64, 8 pairs at a time in Float lanes.
//
// Pair j of a fill (values 2j and 2j+1) reads one 64-bit draw, D_j = the (j+1)-th output of the
// generator from its state at the call (SplitMix64 is a counter: output k depends on state + k·γ
// only, so any pair can be computed without the ones before it). Its high 32 bits h give
// u₁ = (h + ½)·2⁻³² ∈ (0, 1), its low 32 bits l give the angle t = ⌊l/2⁹⌋·2⁻²³ ∈ [0, 1) turns; then
// r = std·√(−2 ln u₁), value 2j = r·cos 2πt, value 2j+1 = r·sin 2πt (Box & Muller 1958). Each value
// depends only on (state, j): the same bytes at every thread count and on every machine (plain
// IEEE Float multiplies and adds in a fixed order, no fused multiply-add, correctly rounded √).
// The generator then stands ⌈count/2⌉ draws further on, so consecutive fills continue one stream.
//
// ln and sin/cos are polynomials (Cephes' logf, sinf, cosf; relative error about 1e-7, far below
// the Float result's rounding at the scale of the draws): ln on the mantissa in [√½, √2) with the
// exponent added as e·ln 2 (Cody–Waite split), sin and cos on x = (4t − q)·π/2 ∈ [−π/4, π/4] with
// the quadrant q = round(4t) applied by swapping and sign flips (exact). u₁ ≥ 2⁻³³ bounds
// |value| ≤ 6.77·std (the exact tail beyond has probability 1.3e-11).

typealias NormalLanes = SIMD8<Float>
typealias NormalBits = SIMD8<Int32>

extension SeededGenerator {
    /// The SplitMix64 increment γ.
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's output function of a state (`next()` returns mix(state + γ) after adding γ).
    @inline(__always) static func mix(_ s: UInt64) -> UInt64 {
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fills `count` Floats ~ N(0, std²): value pairs by vectorised Box–Muller, one draw per pair
    /// (see the top of NormalFill.swift), split over `threads` threads in blocks of 2¹⁵ pairs. The
    /// values do not depend on `threads`; the generator advances by ⌈count/2⌉ draws.
    public mutating func fillNormal(_ p: UnsafeMutablePointer<Float>, count: Int, std: Double, threads: Int = 1) {
        precondition(count >= 0 && threads >= 1, "fillNormal: count \(count), threads \(threads)")
        let pairs = (count + 1) / 2, start = state, s = Float(std)
        let block = 1 << 15, blocks = (pairs + block - 1) / block
        let out = UnsafeMutableSendablePointer(p)
        let work: @Sendable (Int) -> Void = { b in
            let j0 = b * block, j1 = Swift.min(pairs, j0 + block)
            Self.normalPairs(out.p, count: count, from: j0, to: j1, state: start, std: s)
        }
        if threads == 1 || blocks < 2 {
            for b in 0..<blocks { work(b) }
        } else {
            let t = Swift.min(threads, blocks)
            DispatchQueue.concurrentPerform(iterations: t) { k in
                for b in stride(from: k, to: blocks, by: t) { work(b) }
            }
        }
        state = start &+ UInt64(pairs) &* Self.gamma
    }

    /// Pairs j0 ..< j1 of a fill from `state` (values 2j, 2j+1 below `count`).
    static func normalPairs(_ p: UnsafeMutablePointer<Float>, count: Int, from j0: Int, to j1: Int, state: UInt64, std: Float) {
        var j = j0
        var hi = SIMD8<UInt32>(), lo = SIMD8<UInt32>()
        while j < j1 {
            let n = Swift.min(8, j1 - j)
            for k in 0..<8 {
                let d = mix(state &+ UInt64(j + Swift.min(k, n - 1) + 1) &* gamma)
                hi[k] = UInt32(truncatingIfNeeded: d >> 32)
                lo[k] = UInt32(truncatingIfNeeded: d)
            }
            let (c, s) = boxMuller(hi: hi, lo: lo, std: std)
            if n == 8 && 2 * (j + 8) <= count {
                // Interleave (c₀, s₀, c₁, s₁, …) into 16 consecutive values.
                let q = p + 2 * j
                for k in 0..<8 { q[2 * k] = c[k]; q[2 * k + 1] = s[k] }
            } else {
                for k in 0..<n {
                    if 2 * (j + k) < count { p[2 * (j + k)] = c[k] }
                    if 2 * (j + k) + 1 < count { p[2 * (j + k) + 1] = s[k] }
                }
            }
            j += n
        }
    }

    /// Integers below 2²³ in lanes as exact Floats (2²³ + n from the bits, minus 2²³).
    @inline(__always) static func exactFloat(_ n: SIMD8<UInt32>) -> NormalLanes {
        unsafeBitCast(n | 0x4B00_0000, to: NormalLanes.self) - 8_388_608
    }

    /// (r cos 2πt, r sin 2πt) for the eight draws' halves (see the top of the file).
    @inline(__always) static func boxMuller(hi: SIMD8<UInt32>, lo: SIMD8<UInt32>, std: Float) -> (NormalLanes, NormalLanes) {
        // u₁ = (h + ½)·2⁻³² = (⌊h/2⁹⌋ + ((h mod 2⁹) + ½)·2⁻⁹)·2⁻²³, each part exact in Float.
        let u1 = (exactFloat(hi &>> 9) + (exactFloat(hi & 0x1FF) + 0.5) * 0x1p-9) * 0x1p-23
        let r2 = logNegTwo(u1)
        let r = r2.squareRoot() * std
        let y = exactFloat(lo &>> 9) * 0x1p-21                  // 4t ∈ [0, 4), exact
        let magic: Float = 12_582_912                          // 1.5·2²³: adding it rounds to an integer
        let shifted = y + magic
        let q = unsafeBitCast(shifted, to: NormalBits.self) &- Int32(bitPattern: magic.bitPattern)
        let x = (y - (shifted - magic)) * (Float.pi / 2)       // 4t − q exact, |x| ≤ π/4
        let z = x * x
        var sp = NormalLanes(repeating: -1.9515295891e-4)
        sp = sp * z + 8.3321608736e-3
        sp = sp * z - 1.6666654611e-1
        let sx = sp * z * x + x
        var cp = NormalLanes(repeating: 2.443315711809948e-5)
        cp = cp * z - 1.388731625493765e-3
        cp = cp * z + 4.166664568298827e-2
        let cx = cp * z * z - 0.5 * z + 1
        // Quadrant: odd q swaps sin and cos; cos is negated for q ∈ {1, 2}, sin for q ∈ {2, 3}.
        let swap = NormalBits(repeating: 0) &- (q & 1)
        let cb = unsafeBitCast(cx, to: NormalBits.self), sb = unsafeBitCast(sx, to: NormalBits.self)
        let cosBits = ((sb & swap) | (cb & ~swap)) ^ (((q &+ 1) & 2) &<< 30)
        let sinBits = ((cb & swap) | (sb & ~swap)) ^ ((q & 2) &<< 30)
        return (r * unsafeBitCast(cosBits, to: NormalLanes.self), r * unsafeBitCast(sinBits, to: NormalLanes.self))
    }

    /// −2 ln u for u ∈ [2⁻³³, 1] (Cephes' logf), never negative.
    @inline(__always) static func logNegTwo(_ u: NormalLanes) -> NormalLanes {
        let bits = unsafeBitCast(u, to: NormalBits.self)
        var e = (bits &>> 23) &- 126                          // u = m·2^e, m ∈ [½, 1)
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: NormalLanes.self)
        // m < √½: m ← 2m − 1 and e ← e − 1; else m ← m − 1 (so x ∈ [√½ − 1, √2 − 1)).
        let small = unsafeBitCast(m - 0.707106781186547524, to: NormalBits.self) &>> 31
        e = e &+ small
        let mm = unsafeBitCast(unsafeBitCast(m, to: NormalBits.self) & small, to: NormalLanes.self)
        m = m - 1 + mm
        let x = m, z = x * x
        var y = NormalLanes(repeating: 7.0376836292e-2)
        y = y * x - 1.1514610310e-1
        y = y * x + 1.1676998740e-1
        y = y * x - 1.2420140846e-1
        y = y * x + 1.4249322787e-1
        y = y * x - 1.6668057665e-1
        y = y * x + 2.0000714765e-1
        y = y * x - 2.4999993993e-1
        y = y * x + 3.3333331174e-1
        y = y * x * z
        let ef = exactFloat(SIMD8<UInt32>(truncatingIfNeeded: e &+ 64)) - 64   // e ∈ [−33, 1], exact
        y = y + ef * -2.12194440e-4
        y = y - 0.5 * z
        let ln = x + y + ef * 0.693359375
        let v = -2 * ln
        // Clear lanes where rounding left −2 ln u below 0 (u at or next to 1).
        let neg = unsafeBitCast(v, to: NormalBits.self) &>> 31
        return unsafeBitCast(unsafeBitCast(v, to: NormalBits.self) & ~neg, to: NormalLanes.self)
    }
}

/// A raw pointer handed to the workers of one fill (each writes its own blocks).
struct UnsafeMutableSendablePointer: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { self.p = p }
}
