import Foundation
import CGSLMin

/// Which local method `Minimiser` runs.
public enum LocalMethod: String, Codable, Sendable, CaseIterable {
    /// GSL's `nmsimplex2`: derivative-free, robust on kinks (|·|, max) and flat regions.
    case nelderMead = "nelder-mead"
    /// GSL's `vector_bfgs2` with central finite-difference gradients (2n + 1 evaluations per
    /// gradient): fast where the objective is smooth.
    case bfgs = "bfgs2"
}

/// The outcome of one local minimisation.
public struct LocalResult: Sendable {
    /// The best point and its objective value.
    public var x: [Double]
    public var value: Double
    /// Objective evaluations spent (gradients count 2n + 1).
    public var evaluations: Int
    public var iterations: Int
    /// Why it stopped: "converged", "budget", "no-progress", "deadline", or a GSL error text.
    public var stop: String
}

/// GSL's minimisers (through the C target CGSLMin) for a Swift objective `f: ℝⁿ → ℝ`.
///
/// `f` must return a finite number; a non-finite value is replaced by `penaltyValue` (1e6) so the
/// simplex moves away from undefined regions. Budgets are checked between iterations, so a run may
/// exceed `maxEvaluations` by one iteration's evaluations (deterministically).
public final class Minimiser: @unchecked Sendable {
    public let f: ([Double]) -> Double
    public private(set) var evaluations = 0
    /// Replaces a non-finite objective value.
    public static let penaltyValue = 1e6

    public init(_ f: @escaping ([Double]) -> Double) {
        self.f = f
        CGSLMinRuntime.disable()
    }

    func value(_ x: UnsafePointer<Double>, _ n: Int) -> Double {
        evaluations += 1
        let v = f(Array(UnsafeBufferPointer(start: x, count: n)))
        return v.isFinite ? v : Minimiser.penaltyValue
    }

    /// Central differences with step h_i = 1e-6·max(1, |x_i|).
    func valueAndGradient(_ x: UnsafePointer<Double>, _ n: Int, _ value: UnsafeMutablePointer<Double>, _ grad: UnsafeMutablePointer<Double>) {
        var p = Array(UnsafeBufferPointer(start: x, count: n))
        value.pointee = self.value(x, n)
        for i in 0..<n {
            let xi = p[i], h = 1e-6 * Swift.max(1, abs(xi))
            p[i] = xi + h
            let up = p.withUnsafeBufferPointer { self.value($0.baseAddress!, n) }
            p[i] = xi - h
            let down = p.withUnsafeBufferPointer { self.value($0.baseAddress!, n) }
            p[i] = xi
            let g = (up - down) / (2 * h)
            grad[i] = g.isFinite ? g : 0
        }
    }

    /// Minimises from `x0`.
    /// - Parameters:
    ///   - step: Nelder–Mead's initial simplex step per coordinate (BFGS uses their norm as its first trial step).
    ///   - maxEvaluations: the evaluation budget of this call.
    ///   - tolerance: stop when the simplex size (NM) or gradient norm (BFGS) falls below it.
    ///   - shouldStop: polled between iterations (a wall-clock deadline).
    public func minimise(_ method: LocalMethod, from x0: [Double], step: [Double], maxEvaluations: Int,
                         tolerance: Double = 1e-10, shouldStop: () -> Bool = { false }) -> LocalResult {
        let n = x0.count
        let start = evaluations
        guard n > 0 else {
            let v = x0.withUnsafeBufferPointer { value($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, 0) }
            return LocalResult(x: x0, value: v, evaluations: 1, iterations: 0, stop: "converged")
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        var status: Int32 = 0
        let state: OpaquePointer? = withExtendedLifetime(self) {
            switch method {
            case .nelderMead:
                return cgslmin_nelder_mead_new(n, x0, step, { x, n, ctx in
                    Unmanaged<Minimiser>.fromOpaque(ctx!).takeUnretainedValue().value(x!, n)
                }, context, &status)
            case .bfgs:
                let s = (step.reduce(0) { $0 + $1 * $1 }).squareRoot()
                return cgslmin_bfgs2_new(n, x0, Swift.max(s, 1e-8), 0.1, { x, n, ctx in
                    Unmanaged<Minimiser>.fromOpaque(ctx!).takeUnretainedValue().value(x!, n)
                }, { x, n, ctx, v, g in
                    Unmanaged<Minimiser>.fromOpaque(ctx!).takeUnretainedValue().valueAndGradient(x!, n, v!, g!)
                }, context, &status)
            }
        }
        guard let state else {
            return LocalResult(x: x0, value: .nan, evaluations: evaluations - start, iterations: 0,
                               stop: String(cString: cgslmin_strerror(status)))
        }
        defer { cgslmin_free(state) }
        var iterations = 0
        var stop = "budget"
        while evaluations - start < maxEvaluations {
            if shouldStop() { stop = "deadline"; break }
            let code = withExtendedLifetime(self) { cgslmin_iterate(state) }
            iterations += 1
            if code != 0 { stop = code == 27 ? "no-progress" : String(cString: cgslmin_strerror(code)); break }
            if cgslmin_size(state) < tolerance { stop = "converged"; break }
        }
        var x = [Double](repeating: 0, count: n)
        x.withUnsafeMutableBufferPointer { cgslmin_x(state, $0.baseAddress!) }
        return LocalResult(x: x, value: cgslmin_value(state), evaluations: evaluations - start, iterations: iterations, stop: stop)
    }
}

/// GSL's default error handler aborts the process; the minimisers run with it off (once per process).
enum CGSLMinRuntime {
    static func disable() { _ = done }
    private static let done: Bool = { cgslmin_disable_abort(); return true }()
}
