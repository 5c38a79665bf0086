import Linalg

/// An initial-value problem's vector field: dy/dt = f(t, y), y ∈ ℝⁿ, with an optional exact
/// Jacobian.
///
/// The closures work on buffers owned by the integrator, so a right-hand side that writes into
/// `dydt` in place makes no heap allocation per call. They are called from one thread at a time
/// (the thread that called ``integrate(_:from:y0:to:outputTimes:events:options:)``), so a closure
/// may keep scratch space in a captured object.
///
/// Invariants the integrator relies on:
/// - `rhs` writes all `dimension` components of `dydt` and nothing else; it must be a function of
///   `(t, y)` only (steppers call it at trial points that are later discarded).
/// - `jacobian`, when given, writes `dfdy[i*n + j] = ∂f_i/∂y_j` (row-major, n×n) and
///   `dfdt[i] = ∂f_i/∂t`, both in full.
/// - Throwing from either closure aborts the integration with
///   ``IntegrationError/userFunction(t:message:)``. A non-finite value written into `dydt` (or the
///   Jacobian) makes the stepper retry with a smaller step, since a trial step may overshoot into
///   a region where f overflows; if no smaller step helps, or an accepted state is non-finite,
///   the integration stops with ``IntegrationError/nonFinite(t:component:)``.
public struct ODESystem {
    /// Writes f(t, y) into `dydt`.
    public typealias RHS = (
        _ t: Double, _ y: UnsafeBufferPointer<Double>, _ dydt: UnsafeMutableBufferPointer<Double>
    ) throws -> Void

    /// Writes ∂f/∂y row-major into `dfdy` (n·n entries, `dfdy[i*n+j] = ∂f_i/∂y_j`) and ∂f/∂t into
    /// `dfdt` (n entries).
    public typealias Jacobian = (
        _ t: Double, _ y: UnsafeBufferPointer<Double>,
        _ dfdy: UnsafeMutableBufferPointer<Double>, _ dfdt: UnsafeMutableBufferPointer<Double>
    ) throws -> Void

    /// n, the number of state components (≥ 1).
    public let dimension: Int
    /// Writes f(t, y) into dydt. Throwing (or writing a non-finite value) aborts the integration
    /// with a clear error; see the type's documentation.
    public let rhs: RHS
    /// Writes ∂f/∂y row-major (dfdy[i*n+j] = ∂f_i/∂y_j) and ∂f/∂t. Required by the steppers whose
    /// ``Stepper/needsJacobian`` is true (rk1imp, rk2imp, rk4imp, bsimp, msbdf); ignored by the
    /// others.
    public let jacobian: Jacobian?

    /// - Parameters:
    ///   - dimension: n ≥ 1 (checked when integrating).
    ///   - rhs: f(t, y), written into its third argument.
    ///   - jacobian: (∂f/∂y, ∂f/∂t), or `nil` when only explicit steppers will be used.
    public init(dimension: Int, rhs: @escaping RHS, jacobian: Jacobian? = nil) {
        self.dimension = dimension
        self.rhs = rhs
        self.jacobian = jacobian
    }

    /// The autonomous linear system dy/dt = A·y with its exact Jacobian ∂f/∂y = A, ∂f/∂t = 0.
    ///
    /// Its solution is y(t) = exp(A (t − t₀)) y₀. A must be square; the product is a plain loop
    /// (no allocation per call), meant for tests and small systems.
    public static func linear(_ a: Matrix) -> ODESystem {
        precondition(a.rows == a.cols, "ODESystem.linear needs a square matrix, got \(a.rows)×\(a.cols)")
        let n = a.rows
        let entries = a.data
        return ODESystem(
            dimension: n,
            rhs: { _, y, dydt in
                entries.withUnsafeBufferPointer { m in
                    for i in 0..<n {
                        var s = 0.0
                        let row = i * n
                        for j in 0..<n { s += m[row + j] * y[j] }
                        dydt[i] = s
                    }
                }
            },
            jacobian: { _, _, dfdy, dfdt in
                for k in 0..<(n * n) { dfdy[k] = entries[k] }
                for i in 0..<n { dfdt[i] = 0 }
            })
    }
}
