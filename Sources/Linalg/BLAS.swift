import COpenBLAS

/// BLAS wrappers. Every product goes to OpenBLAS (never GSL's reference CBLAS; see
/// ENVIRONMENT.md: check with `LD_DEBUG=bindings sftrl ... | grep cblas_dgemm`).

/// C = A·B (dgemm, row-major).
public func matmul(_ a: Matrix, _ b: Matrix) -> Matrix {
    precondition(a.cols == b.rows, "matmul of \(a.rows)×\(a.cols) by \(b.rows)×\(b.cols)")
    var c = Matrix(rows: a.rows, cols: b.cols)
    if a.rows == 0 || b.cols == 0 || a.cols == 0 { return c }
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            c.data.withUnsafeMutableBufferPointer { pc in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                            Int32(a.rows), Int32(b.cols), Int32(a.cols), 1.0,
                            pa.baseAddress, Int32(a.cols), pb.baseAddress, Int32(b.cols),
                            0.0, pc.baseAddress, Int32(b.cols))
            }
        }
    }
    return c
}

/// y = A·x (dgemv, row-major).
public func matvec(_ a: Matrix, _ x: [Double]) -> [Double] {
    precondition(a.cols == x.count, "matvec of \(a.rows)×\(a.cols) by a vector of \(x.count)")
    var y = [Double](repeating: 0, count: a.rows)
    if a.rows == 0 || a.cols == 0 { return y }
    a.data.withUnsafeBufferPointer { pa in
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(a.rows), Int32(a.cols), 1.0,
                            pa.baseAddress, Int32(a.cols), px.baseAddress, 1, 0.0, py.baseAddress, 1)
            }
        }
    }
    return y
}

/// Single-precision GEMM on raw row-major buffers:
/// C[M×N] = alpha·op(A)·op(B) + beta·C, op(X) = Xᵀ when the flag is set.
/// A is M×K (K×M when transposed), B is K×N (N×K when transposed).
@inlinable public func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Double-precision GEMM on raw row-major buffers (same convention as `sgemm`).
@inlinable public func dgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int, alpha: Double = 1,
                             a: UnsafePointer<Double>, lda: Int,
                             b: UnsafePointer<Double>, ldb: Int, beta: Double = 0,
                             c: UnsafeMutablePointer<Double>, ldc: Int) {
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// OpenBLAS's thread count (process-wide). Set once at start-up, never per test.
public enum BLASThreads {
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var current: Int { Int(openblas_get_num_threads()) }

    /// The BLAS kernel that runs: OpenBLAS's build configuration and the core its DYNAMIC_ARCH
    /// dispatch chose for this CPU (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64; core Zen"),
    /// so that a benchmark says which sgemm it measured.
    public static var kernel: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "OpenBLAS"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config); core \(core)"
    }
}
