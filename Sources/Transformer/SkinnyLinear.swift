import CKernels

/// y (n, out) = x (n, in) · Wᵀ for few rows n, W row-major (out, in) read in place: the CKernels
/// skinny product (AVX2 + FMA when the CPU has them, chosen at run time). OpenBLAS's sgemm packs
/// the whole of W on every call, which dominates when n is small (44 % of a 16-token 0.6B
/// forward), and runs one-row products at a fraction of the memory bandwidth.
public enum SkinnyLinear {
    /// The most rows for which `linearForward` takes the skinny kernel instead of sgemm: the
    /// crossover measured on the Zen 3 development machine (benchmarks/skinny_bench.c, 1 thread,
    /// shapes of Qwen3-0.6B: the kernel leads sgemm by 3–6× at 2 rows, 1.3–1.6× at 16, 1.06–1.25×
    /// at 32; at 48 and more it is mixed or behind).
    public static let maxRows = 32

    /// Rows per call of the BF16 kernel (which has no sgemm to fall back on): it keeps its speed
    /// up to 48 rows (66–74 GFLOP/s measured at 48 against 52–60 at 16), each call streaming W once.
    public static let bf16Rows = 48

    /// True when this CPU runs the vectorised kernel (AVX2 + FMA).
    public static var vectorised: Bool { ck_avx2_active() != 0 }

    /// Whether an n-row Float32 product goes to the skinny kernel: n ≤ maxRows on a CPU with the
    /// vectorised path (the scalar path is slower than sgemm, so other CPUs keep sgemm).
    @inline(__always) static func takes(rows n: Int) -> Bool { n <= maxRows && ck_avx2_active() != 0 }

    /// out = x·Wᵀ with Float32 W (out overwritten).
    public static func f32(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                           n: Int, inDim: Int, outDim: Int) {
        ck_skinny_f32(out, x, w, n, inDim, outDim)
    }

    /// out = x·Wᵀ with W in bfloat16 bits as panels (`BF16Matrices`), widened exactly to Float32
    /// (Float32 accumulation). Any n: rows go in blocks of `bf16Rows`, each of which streams W once.
    public static func bf16(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<UInt16>,
                            n: Int, inDim: Int, outDim: Int) {
        var i = 0
        while i < n {
            let rows = min(bf16Rows, n - i)
            ck_skinny_bf16(out + i * outDim, x + i * inDim, w, rows, inDim, outDim)
            i += rows
        }
    }

    /// dst[i] = the Float32 value of the bfloat16 bits src[i] (exact).
    public static func widen(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<UInt16>, count: Int) {
        ck_bf16_to_f32(dst, src, count)
    }
}
