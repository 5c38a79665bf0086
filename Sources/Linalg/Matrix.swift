/// Dense row-major matrices and the vector helpers the numeric core needs.
///
/// `Matrix` stores `rows × cols` doubles in row-major order: entry (i, j) is `data[i*cols + j]`.
/// Vectors are plain `[Double]`. Everything here is Double; the transformer path uses the Float
/// BLAS wrappers in `BLAS.swift` directly on its own buffers.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let cols: Int
    public var data: [Double]

    /// A `rows × cols` matrix filled with `value`.
    public init(rows: Int, cols: Int, value: Double = 0) {
        precondition(rows >= 0 && cols >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.cols = cols
        self.data = Array(repeating: value, count: rows * cols)
    }

    /// A matrix from row-major data; `data.count` must equal `rows*cols`.
    public init(rows: Int, cols: Int, data: [Double]) {
        precondition(data.count == rows * cols, "matrix data has \(data.count) entries, expected \(rows * cols)")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// A matrix from an array of equally long rows.
    public init(_ rowArrays: [[Double]]) {
        let r = rowArrays.count
        let c = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == c }, "rows of different lengths")
        self.init(rows: r, cols: c, data: rowArrays.flatMap { $0 })
    }

    /// The n × n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    @inlinable public subscript(i: Int, j: Int) -> Double {
        get { data[i * cols + j] }
        set { data[i * cols + j] = newValue }
    }

    /// Row i as an array.
    public func row(_ i: Int) -> [Double] { Array(data[(i * cols)..<((i + 1) * cols)]) }

    /// The transpose.
    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t[j, i] = self[i, j] } }
        return t
    }

    /// max |A − Aᵀ| (0 for an exactly symmetric matrix).
    public var asymmetry: Double {
        precondition(rows == cols)
        var m = 0.0
        for i in 0..<rows { for j in 0..<i { m = Swift.max(m, abs(self[i, j] - self[j, i])) } }
        return m
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        return Matrix(rows: a.rows, cols: a.cols, data: zip(a.data, b.data).map { $0 + $1 })
    }

    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.cols == b.cols)
        return Matrix(rows: a.rows, cols: a.cols, data: zip(a.data, b.data).map { $0 - $1 })
    }

    public static func * (s: Double, a: Matrix) -> Matrix {
        Matrix(rows: a.rows, cols: a.cols, data: a.data.map { s * $0 })
    }

    /// Matrix product through BLAS dgemm.
    public static func * (a: Matrix, b: Matrix) -> Matrix { matmul(a, b) }

    /// Matrix–vector product through BLAS dgemv.
    public static func * (a: Matrix, x: [Double]) -> [Double] { matvec(a, x) }

    public var description: String {
        (0..<rows).map { i in row(i).map { String($0) }.joined(separator: " ") }.joined(separator: "\n")
    }
}

// MARK: - Vector helpers (plain arrays)

/// Σ aᵢbᵢ.
@inlinable public func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "dot of vectors of lengths \(a.count) and \(b.count)")
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}

/// Euclidean norm ‖a‖₂.
@inlinable public func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

/// cos∠(a, b) = ⟨a,b⟩/(‖a‖‖b‖); 0 when either vector is zero (the angle is undefined there).
@inlinable public func cosine(_ a: [Double], _ b: [Double]) -> Double {
    let na = norm(a), nb = norm(b)
    return (na == 0 || nb == 0) ? 0 : dot(a, b) / (na * nb)
}

/// a + s·b.
@inlinable public func axpy(_ a: [Double], _ s: Double, _ b: [Double]) -> [Double] {
    precondition(a.count == b.count)
    var r = a
    for i in r.indices { r[i] += s * b[i] }
    return r
}

/// s·a.
@inlinable public func scaled(_ a: [Double], _ s: Double) -> [Double] { a.map { s * $0 } }
