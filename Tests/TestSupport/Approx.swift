import Foundation
import Linalg

/// |a − b| ≤ atol + rtol·|b|, with b the reference value: the approximate comparison of the tests.
public func close(_ a: Double, _ b: Double, atol: Double = 1e-9, rtol: Double = 1e-9) -> Bool {
    abs(a - b) <= atol + rtol * abs(b)
}

/// The largest |a_i − b_i| (0 for empty input); the arrays are compared over their common length.
public func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

/// The largest |a_i − b_i| of two Float slices (0 for empty input).
public func maxAbsDiff(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// Central finite difference of a scalar function: (f(x + h e_k) − f(x − h e_k)) / 2h for each k.
/// The independent check of every analytic gradient (error O(h²) plus round-off O(ε/h)).
public func fdGradient(_ f: ([Double]) -> Double, at x: [Double], h: Double = 1e-5) -> [Double] {
    x.indices.map { k in
        var a = x, b = x
        a[k] += h; b[k] -= h
        return (f(a) - f(b)) / (2 * h)
    }
}

/// Central finite difference of a vector function: column k is (g(x + h e_k) − g(x − h e_k)) / 2h.
/// Used on an analytic gradient, it checks the analytic Hessian.
public func fdJacobian(_ g: ([Double]) -> [Double], at x: [Double], h: Double = 1e-5) -> Matrix {
    let n = x.count
    var m = Matrix(rows: n, cols: n)
    for k in 0..<n {
        var a = x, b = x
        a[k] += h; b[k] -= h
        let ga = g(a), gb = g(b)
        for i in 0..<n { m[i, k] = (ga[i] - gb[i]) / (2 * h) }
    }
    return m
}

/// A point drawn uniformly from the probability simplex with n entries (normalised standard
/// exponentials, −log U with U clamped at 1e-300), drawing n uniforms from `g` in order.
public func uniformSimplex(_ n: Int, using g: inout SeededGenerator) -> [Double] {
    let e = (0..<n).map { _ in -Foundation.log(max(g.uniform(), 1e-300)) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}
