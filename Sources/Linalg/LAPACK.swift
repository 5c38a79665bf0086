import COpenBLAS

/// LAPACK wrappers: OpenBLAS's LAPACK routines (column-major Fortran entry points) on row-major
/// matrices, transposed exactly as LAPACKE's row-major layer does, so results are LAPACKE's bit for bit.
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

/// Symmetric eigen-decomposition through LAPACK's dsyevd (divide and conquer).
/// The matrix is symmetrised as (A+Aᵀ)/2 first; an asymmetry above `tolerance·max(1, max|A|)` is an error.
/// Being symmetric, the row-major matrix is its own column-major form; the eigenvectors come back
/// as column-major columns and are transposed into `vectors`' columns.
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
    var jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
    var n32 = Int32(n), info: Int32 = 0
    // Workspace query (lwork = liwork = −1), then the decomposition.
    var query = [Double](repeating: 0, count: 1), iquery: [Int32] = [0], minus1: Int32 = -1
    dsyevd_(&jobz, &uplo, &n32, &m.data, &n32, &w, &query, &minus1, &iquery, &minus1, &info, 1, 1)
    guard info == 0 else { throw LinalgError.lapack(routine: "dsyevd", info: Int(info)) }
    var lwork = Int32(query[0]), liwork = iquery[0]
    var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
    dsyevd_(&jobz, &uplo, &n32, &m.data, &n32, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    guard info == 0 else { throw LinalgError.lapack(routine: "dsyevd", info: Int(info)) }
    return SymmetricEigen(values: w, vectors: m.transposed)
}

/// Solves A·x = b for square A through LAPACK's dgesv (LU with partial pivoting), on the
/// column-major copy Aᵀ of the row-major matrix.
public func solve(_ a: Matrix, _ b: [Double]) throws -> [Double] {
    guard a.rows == a.cols else { throw LinalgError.notSquare(rows: a.rows, cols: a.cols) }
    precondition(b.count == a.rows)
    let n = a.rows
    if n == 0 { return [] }
    var m = a.transposed.data
    var x = b
    var ipiv = [Int32](repeating: 0, count: n)
    var n32 = Int32(n), one: Int32 = 1, info: Int32 = 0
    dgesv_(&n32, &one, &m, &n32, &ipiv, &x, &n32, &info)
    if info > 0 { throw LinalgError.singular(pivot: Int(info)) }
    guard info == 0 else { throw LinalgError.lapack(routine: "dgesv", info: Int(info)) }
    return x
}
