import Testing
import Numerics
@testable import Linalg

@Suite struct LinalgTests {
    @Test func matmulMatchesHandProduct() {
        let a = Matrix([[1, 2, 3], [4, 5, 6]])
        let b = Matrix([[7, 8], [9, 10], [11, 12]])
        let c = a * b
        #expect(c == Matrix([[58, 64], [139, 154]]))
        #expect(a * [1, 0, -1] == [-2, -2])
    }

    @Test func symmetricEigenReconstructs() throws {
        let a = Matrix([[4, 1, 0.5], [1, 3, -1], [0.5, -1, 2]])
        let e = try symmetricEigen(a)
        #expect(e.values == e.values.sorted())
        for k in 0..<3 {
            let v = e.vector(k)
            let av = a * v
            for i in 0..<3 { #expect(av[i].isApproximatelyEqual(to: e.values[k] * v[i], absoluteTolerance: 1e-12)) }
            #expect(norm(v).isApproximatelyEqual(to: 1, absoluteTolerance: 1e-12))
        }
        // trace = Σλ
        #expect((e.values.reduce(0, +)).isApproximatelyEqual(to: 9, absoluteTolerance: 1e-12))
    }

    @Test func eigenRejectsAsymmetric() {
        #expect(throws: LinalgError.self) { try symmetricEigen(Matrix([[1, 2], [0, 1]])) }
        #expect(throws: LinalgError.self) { try symmetricEigen(Matrix([[1, 2, 3], [4, 5, 6]])) }
    }

    @Test func solveAndSingular() throws {
        let x = try solve(Matrix([[2, 1], [1, 3]]), [3, 5])
        #expect(x[0].isApproximatelyEqual(to: 0.8, absoluteTolerance: 1e-14))
        #expect(x[1].isApproximatelyEqual(to: 1.4, absoluteTolerance: 1e-14))
        #expect(throws: LinalgError.self) { try solve(Matrix([[1, 2], [2, 4]]), [1, 1]) }
    }

    @Test func sgemmTransposes() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
        let b: [Float] = [1, 0, 1, 1, 0, 2]  // 2×3, used transposed (3×2)
        var c = [Float](repeating: 0, count: 4)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            sgemm(transB: true, m: 2, n: 2, k: 3, a: pa.baseAddress!, lda: 3, b: pb.baseAddress!, ldb: 3, c: pc.baseAddress!, ldc: 2)
        } } }
        #expect(c == [4, 7, 10, 16])
    }
}
