import CLapacke

/// LAPACK wrappers through LAPACKE's C interface, row-major (LAPACKE transposes to LAPACK's
/// column-major layout and allocates the workspace).
public enum LinalgError: Error, CustomStringConvertible, Equatable {
    case notSquare(rows: Int, cols: Int)
    case notSymmetric(maxAsymmetry: Double)
    case lapack(routine: String, info: Int)
    case singular(pivot: Int)

    public var description: String {
        switch self {
        case let .notSquare(r, c): return "expected a square matrix, got \(r)×\(c)"
        case let .notSymmetric(a): return "expected a symmetric matrix, max |A−Aᵀ| = \(a)"
        case let .lapack(r, i): return "LAPACK \(r) failed with info = \(i)"
        case let .singular(p): return "matrix is singular (zero pivot at \(p))"
        }
    }
}

/// The eigen-decomposition A = V·diag(λ)·Vᵀ of a symmetric matrix.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues in ascending order.
    public let values: [Double]
    /// Eigenvectors as columns: `vectors[i, k]` is entry i of the k-th eigenvector (unit norm).
    public let vectors: Matrix

    /// Column k as an array.
    public func vector(_ k: Int) -> [Double] { (0..<vectors.rows).map { vectors[$0, k] } }
}

/// Symmetric eigen-decomposition through LAPACKE_dsyevd (divide and conquer), row-major: the
/// eigenvectors come back as the columns of the row-major matrix.
/// The matrix is symmetrised as (A+Aᵀ)/2 first; an asymmetry above `tolerance·max(1, max|A|)` is an error.
public func symmetricEigen(_ a: Matrix, tolerance: Double = 1e-8) throws -> SymmetricEigen {
    guard a.rows == a.cols else { throw LinalgError.notSquare(rows: a.rows, cols: a.cols) }
    let n = a.rows
    if n == 0 { return SymmetricEigen(values: [], vectors: Matrix(rows: 0, cols: 0)) }
    let scale = Swift.max(1, a.data.map(abs).max() ?? 0)
    let asym = a.asymmetry
    guard asym <= tolerance * scale else { throw LinalgError.notSymmetric(maxAsymmetry: asym) }
    var m = a
    for i in 0..<n { for j in 0..<i { let s = 0.5 * (m[i, j] + m[j, i]); m[i, j] = s; m[j, i] = s } }
    var w = [Double](repeating: 0, count: n)
    let info = m.data.withUnsafeMutableBufferPointer { pa in
        w.withUnsafeMutableBufferPointer { pw in
            LAPACKE_dsyevd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "V")), CChar(UInt8(ascii: "U")),
                           Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
        }
    }
    guard info == 0 else { throw LinalgError.lapack(routine: "dsyevd", info: Int(info)) }
    return SymmetricEigen(values: w, vectors: m)
}

/// Solves A·x = b for square A through LAPACKE_dgesv (LU with partial pivoting), row-major.
public func solve(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    guard a.rows == a.cols else { throw LinalgError.notSquare(rows: a.rows, cols: a.cols) }
    precondition(b.count == a.rows)
    let n = a.rows
    if n == 0 { return [] }
    var m = a.data
    var x = b
    var ipiv = [Int32](repeating: 0, count: n)
    let info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(n), 1, &m, Int32(n), &ipiv, &x, 1)
    if info > 0 { throw LinalgError.singular(pivot: Int(info)) }
    guard info == 0 else { throw LinalgError.lapack(routine: "dgesv", info: Int(info)) }
    return x
}
