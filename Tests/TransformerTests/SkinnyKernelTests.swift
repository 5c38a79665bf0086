import CKernels
import Foundation
import Linalg
import Testing
@testable import Transformer
import TestSupport

/// The skinny products y = x·Wᵀ (CKernels) against a plain triple loop in Double, on both the
/// vectorised path (when the CPU has AVX2 + FMA) and the scalar fallback, and the BF16 helpers.
@Suite struct SkinnyKernelTests {
    enum Path: String, CaseIterable { case dispatched, scalar }

    /// (n, in, out): every n from 1 to 33 and edges of the inner dimension (1, < 8, not a
    /// multiple of 8, longer than one L1 slice) and of the output (not a multiple of 4).
    static let shapes: [(Int, Int, Int)] = {
        var s: [(Int, Int, Int)] = []
        for n in 1...33 { s.append((n, [1, 7, 8, 9, 31, 64, 300][n % 7], [1, 2, 3, 4, 5, 7, 13][(n / 2) % 7])) }
        // Inner slices: n = 33 and 2 slice 2,051 and 30,000 (x kept within 256 KiB), the BF16
        // widened block slices at 4,096 floats (n ≥ 3).
        s += [(1, 1, 1), (16, 1030, 9), (17, 2051, 6), (33, 2051, 5), (2, 30_000, 3), (3, 8200, 5), (5, 0, 3), (2, 3, 0)]
        return s
    }()

    /// The worst ratio |y − exact| / bound over all entries, bound = γ·Σ_k |x_k w_k| + tiny with
    /// γ = 1.01·in·2⁻²⁴ (the worst-case Float32 error of an in-term dot product in any order).
    static func worstRatio(path: Path, bf16: Bool, n: Int, inDim: Int, outDim: Int, seed: UInt64) -> Double {
        var rng = SeededGenerator(seed: seed)
        let x = (0..<(n * inDim)).map { _ in Float(rng.uniform() * 2 - 1) }
        var w = (0..<(outDim * inDim)).map { _ in Float(rng.uniform() * 2 - 1) }
        let bits = w.map(bf16Bits)
        if bf16 { w = bits.map { Float(bitPattern: UInt32($0) << 16) } }
        let wb = Self.panels(bits, inDim: inDim, outDim: outDim)
        var y = [Float](repeating: .nan, count: max(n * outDim, 1))
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in wb.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in
                let xa = xp.baseAddress ?? Qwen3Model.noWeights, wa = wp.baseAddress ?? Qwen3Model.noWeights
                let ba = bp.baseAddress ?? UnsafePointer(UnsafeMutablePointer<UInt16>.allocate(capacity: 1))
                switch (path, bf16) {
                case (.dispatched, false): ck_skinny_f32(yp.baseAddress!, xa, wa, n, inDim, outDim)
                case (.dispatched, true): ck_skinny_bf16(yp.baseAddress!, xa, ba, n, inDim, outDim)
                case (.scalar, false): ck_skinny_f32_scalar(yp.baseAddress!, xa, wa, n, inDim, outDim)
                case (.scalar, true): ck_skinny_bf16_scalar(yp.baseAddress!, xa, ba, n, inDim, outDim)
                }
            }
        } } }
        let gamma = 1.01 * Double(max(inDim, 1)) * 0x1p-24
        var worst = 0.0
        for i in 0..<n {
            for j in 0..<outDim {
                var exact = 0.0, mag = 0.0
                for k in 0..<inDim {
                    let p = Double(x[i * inDim + k]) * Double(w[j * inDim + k])
                    exact += p; mag += abs(p)
                }
                let got = Double(y[i * outDim + j])
                worst = max(worst, got.isFinite ? abs(got - exact) / (gamma * mag + 1e-30) : .infinity)
            }
        }
        return worst
    }

    /// Row-major BF16 bits as the panels the BF16 kernel reads (`ck_bf16_pack_span`).
    static func panels(_ bits: [UInt16], inDim: Int, outDim: Int) -> [UInt16] {
        var p = [UInt16](repeating: 0, count: ck_bf16_packed_count(inDim, outDim))
        p.withUnsafeMutableBufferPointer { d in bits.withUnsafeBytes { s in
            if let sb = s.baseAddress { ck_bf16_pack_span(d.baseAddress!, sb, 0, bits.count, inDim) }
        } }
        return p
    }

    /// The panel layout element by element: (j, k) at (j/4)·4·inP + (k/16)·64 + (j%4)·16 + k%16,
    /// zero padding, packing in arbitrary spans (odd starts, unaligned sources) equal to packing
    /// at once, and the exact widening of any rows back.
    @Test func bf16PanelLayout() {
        var rng = SeededGenerator(seed: 5)
        for (inDim, outDim) in [(1, 1), (16, 4), (17, 5), (33, 9), (100, 3), (1024, 7)] {
            let bits = (0..<(inDim * outDim)).map { _ in UInt16(truncatingIfNeeded: rng.next()) & 0x7F7F }
            let p = Self.panels(bits, inDim: inDim, outDim: outDim)
            let inP = (inDim + 15) / 16 * 16
            #expect(p.count == (outDim + 3) / 4 * 4 * inP)
            var expected = [UInt16](repeating: 0, count: p.count)
            for j in 0..<outDim { for k in 0..<inDim { expected[(j / 4) * 4 * inP + (k / 16) * 64 + (j % 4) * 16 + k % 16] = bits[j * inDim + k] } }
            #expect(p == expected, "in \(inDim) out \(outDim)")
            // The same panels from spans of odd lengths, read from an odd byte offset.
            var q = [UInt16](repeating: 0, count: p.count)
            var bytes = [UInt8](repeating: 0, count: 1)
            for b in bits { bytes += [UInt8(b & 0xFF), UInt8(b >> 8)] }
            var start = 0
            while start < bits.count {
                let m = min(1 + Int(rng.next() % 37), bits.count - start)
                q.withUnsafeMutableBufferPointer { d in bytes.withUnsafeBytes { s in ck_bf16_pack_span(d.baseAddress!, s.baseAddress! + 1 + 2 * start, start, m, inDim) } }
                start += m
            }
            #expect(q == p, "spans, in \(inDim) out \(outDim)")
            // Rows back, widened: rows 1 … out−1 in one call, row 0 alone.
            var f = [Float](repeating: .nan, count: inDim * outDim)
            f.withUnsafeMutableBufferPointer { d in p.withUnsafeBufferPointer { s in
                ck_bf16_packed_rows(d.baseAddress!, s.baseAddress!, inDim, 0, 1)
                if outDim > 1 { ck_bf16_packed_rows(d.baseAddress! + inDim, s.baseAddress!, inDim, 1, outDim - 1) }
            } }
            #expect(f.map { UInt16($0.bitPattern >> 16) } == bits && f.allSatisfy { $0.bitPattern & 0xFFFF == 0 })
        }
    }

    @Test(arguments: Path.allCases, [false, true]) func skinnyMatchesTripleLoop(path: Path, bf16: Bool) {
        for (idx, (n, inDim, outDim)) in Self.shapes.enumerated() {
            let r = Self.worstRatio(path: path, bf16: bf16, n: n, inDim: inDim, outDim: outDim, seed: UInt64(100 + idx))
            #expect(r <= 1, "\(path) bf16=\(bf16) n=\(n) in=\(inDim) out=\(outDim): error \(r)× the Float32 bound")
        }
    }

    /// Column blocks: any split of [0, out) at multiples of 4 gives the whole product's bits (f32
    /// and BF16, 1 to 3 rows and 5 rows for the staged BF16 path); BF16 splits elsewhere stay
    /// within the Float32 bound (their leading columns take the scalar path). SkinnyLinear with
    /// 1 and 3 threads on a product large enough to split gives the same bits.
    @Test func columnBlocksAndThreadsGiveTheWholeProduct() {
        var rng = SeededGenerator(seed: 44)
        for (n, inDim, outDim) in [(1, 300, 37), (2, 64, 96), (3, 129, 21), (5, 40, 64)] {
            let x = (0..<(n * inDim)).map { _ in Float(rng.uniform() * 2 - 1) }
            let w = (0..<(outDim * inDim)).map { _ in Float(rng.uniform() * 2 - 1) }
            let bits = w.map(bf16Bits), panels = Self.panels(bits, inDim: inDim, outDim: outDim)
            for bf16 in [false, true] {
                func run(_ cuts: [Int]) -> [Float] {
                    var y = [Float](repeating: .nan, count: n * outDim)
                    y.withUnsafeMutableBufferPointer { yp in
                        for (j0, j1) in zip(cuts, cuts.dropFirst()) {
                            if bf16 { ck_skinny_bf16_cols(yp.baseAddress!, x, panels, n, inDim, outDim, j0, j1) }
                            else { ck_skinny_f32_cols(yp.baseAddress!, x, w, n, inDim, outDim, j0, j1) }
                        }
                    }
                    return y
                }
                let whole = run([0, outDim])
                let byFours = run([0] + stride(from: 4, to: outDim, by: 8).map { $0 } + [outDim + 5])
                #expect(byFours.map(\.bitPattern) == whole.map(\.bitPattern), "n \(n) in \(inDim) out \(outDim) bf16 \(bf16)")
                let odd = run([0, 3, 10, 11, outDim])
                let scale = x.map { abs($0) }.reduce(0, +)
                #expect(zip(odd, whole).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "odd cuts, n \(n) bf16 \(bf16)")
            }
        }
        // Threads: 2,050 × 600 weights (above parallelWeights), 1 and 2 rows, 1, 3 and 7 threads
        // (blocks of 684 and 296 columns, the last one shorter).
        let (inDim, outDim) = (600, 2050)
        let w = (0..<(outDim * inDim)).map { _ in Float(rng.uniform() * 2 - 1) }
        let panels = Self.panels(w.map(bf16Bits), inDim: inDim, outDim: outDim)
        #expect(inDim * outDim >= SkinnyLinear.parallelWeights)
        let saved = SkinnyLinear.threads
        defer { SkinnyLinear.threads = saved }
        for n in [1, 2] {
            let x = (0..<(n * inDim)).map { _ in Float(rng.uniform() * 2 - 1) }
            var results: [[UInt32]] = []
            for t in [1, 3, 7] {
                SkinnyLinear.threads = t
                var yf = [Float](repeating: .nan, count: n * outDim), yb = yf
                SkinnyLinear.f32(out: &yf, x: x, w: w, n: n, inDim: inDim, outDim: outDim)
                panels.withUnsafeBufferPointer { SkinnyLinear.bf16(out: &yb, x: x, w: $0.baseAddress!, n: n, inDim: inDim, outDim: outDim) }
                results.append((yf + yb).map(\.bitPattern))
            }
            #expect(results[0] == results[1] && results[0] == results[2] && !results[0].contains(Float.nan.bitPattern), "threads, n \(n)")
        }
    }

    @Test func vectorisedPathIsTakenOnThisCPU() {
        // Not a speed claim: records which path the test above checked as `dispatched`.
        print("skinny kernel: vectorised (AVX2 + FMA) = \(SkinnyLinear.vectorised)")
        #expect(SkinnyLinear.takes(rows: SkinnyLinear.maxRows) == SkinnyLinear.vectorised)
        #expect(!SkinnyLinear.takes(rows: SkinnyLinear.maxRows + 1))
    }

    /// Hand-computed round-to-nearest-even table (bit patterns in, bfloat16 bits out).
    @Test func bf16RoundingTable() {
        let table: [(UInt32, UInt16)] = [
            (0x3F80_0000, 0x3F80),   // 1.0 exact
            (0x3F80_7FFF, 0x3F80),   // below half: down
            (0x3F80_8000, 0x3F80),   // tie, even below: down
            (0x3F81_8000, 0x3F82),   // tie, odd below: up to even
            (0x3F80_8001, 0x3F81),   // above half: up
            (0xBFC0_0000, 0xBFC0),   // −1.5 exact
            (0xBF80_8001, 0xBF81),   // negative rounds by magnitude
            (0x8000_0000, 0x8000),   // −0 kept
            (0x0000_8000, 0x0000),   // subnormal tie → even (0)
            (0x0001_8000, 0x0002),   // subnormal tie → even (up)
            (0x7F7F_7FFF, 0x7F7F),   // large finite stays finite
            (0x7F7F_FFFF, 0x7F80),   // Float.greatestFiniteMagnitude rounds to +Inf (as RNE must)
            (0x7F80_0000, 0x7F80),   // +Inf
            (0xFF80_0000, 0xFF80),   // −Inf
        ]
        for (bits, want) in table {
            #expect(bf16Bits(Float(bitPattern: bits)) == want, "bf16Bits(0x\(String(bits, radix: 16)))")
        }
        for nan: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0xFFC0_0001, 0x7FFF_FFFF] {
            let b = bf16Bits(Float(bitPattern: nan))
            #expect(Float(bitPattern: UInt32(b) << 16).isNaN, "NaN 0x\(String(nan, radix: 16)) must stay NaN")
        }
        // Widening is exact: every bfloat16 pattern, as one row of panels, back to its Float32.
        let all = (0...UInt16.max).map { $0 }
        let panels = Self.panels(all, inDim: all.count, outDim: 1)
        var wide = [Float](repeating: 0, count: all.count)
        wide.withUnsafeMutableBufferPointer { d in panels.withUnsafeBufferPointer { s in
            ck_bf16_packed_rows(d.baseAddress!, s.baseAddress!, all.count, 0, 1)
        } }
        #expect(zip(all, wide).allSatisfy { $1.bitPattern == UInt32($0) << 16 })
    }
}
