import CKernels
import Dispatch
import Linalg

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

    /// Threads that share one product, each taking a block of W's rows (of y's columns): the
    /// process's CPUs (`CPUs.available`, its affinity mask) unless set; the `--threads` of
    /// `sftrl lm logits`, `lm generate` and `lm bench` sets it. Process-wide, like OpenBLAS's
    /// count. Splits are at multiples of 4 rows, the kernels' blocks, so every thread count gives
    /// the same bits; products of fewer than `parallelWeights` weights stay on one thread (one
    /// dispatch costs microseconds).
    nonisolated(unsafe) public static var threads = CPUs.available

    /// The fewest weights (in·out) for which a product is split across threads.
    public static let parallelWeights = 1 << 18

    /// Runs body(j0, j1) over column blocks of [0, out) on `threads` threads (or directly). The
    /// callers pass their buffers as addresses (`UInt(bitPattern:)`), which are Sendable.
    @inline(__always)
    static func split(inDim: Int, outDim: Int, _ body: @Sendable (Int, Int) -> Void) {
        let t = min(threads, outDim / 64)
        if t <= 1 || inDim * outDim < parallelWeights { body(0, outDim); return }
        let block = ((outDim + t - 1) / t + 3) / 4 * 4
        DispatchQueue.concurrentPerform(iterations: t) { c in body(c * block, min((c + 1) * block, outDim)) }
    }

    /// True when this CPU runs the vectorised kernel (AVX2 + FMA).
    public static var vectorised: Bool { ck_avx2_active() != 0 }

    /// Whether an n-row Float32 product goes to the skinny kernel: n ≤ maxRows on a CPU with the
    /// vectorised path (the scalar path is slower than sgemm, so other CPUs keep sgemm).
    @inline(__always) static func takes(rows n: Int) -> Bool { n <= maxRows && ck_avx2_active() != 0 }

    /// out = x·Wᵀ with Float32 W (out overwritten).
    public static func f32(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                           n: Int, inDim: Int, outDim: Int) {
        let (ya, xa, wa) = (UInt(bitPattern: out), UInt(bitPattern: x), UInt(bitPattern: w))
        split(inDim: inDim, outDim: outDim) { j0, j1 in
            ck_skinny_f32_cols(.init(bitPattern: ya), .init(bitPattern: xa), .init(bitPattern: wa), n, inDim, outDim, j0, j1)
        }
    }

    /// out = x·Wᵀ with W in bfloat16 bits as panels (`BF16Matrices`), widened exactly to Float32
    /// (Float32 accumulation). Any n: rows go in blocks of `bf16Rows`, each of which streams W once.
    public static func bf16(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<UInt16>,
                            n: Int, inDim: Int, outDim: Int) {
        var i = 0
        while i < n {
            let rows = min(bf16Rows, n - i)
            let (ya, xa, wa) = (UInt(bitPattern: out + i * outDim), UInt(bitPattern: x + i * inDim), UInt(bitPattern: w))
            split(inDim: inDim, outDim: outDim) { j0, j1 in
                ck_skinny_bf16_cols(.init(bitPattern: ya), .init(bitPattern: xa), .init(bitPattern: wa), rows, inDim, outDim, j0, j1)
            }
            i += rows
        }
    }
}
