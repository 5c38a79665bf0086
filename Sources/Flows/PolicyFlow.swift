import Foundation
import Linalg
import Policies

/// The gradient-flow vector field of one phase on an instance's parameter space, with its exact
/// Jacobian.
///
/// With a = `kind.weights.rl`, b = `kind.weights.sft`:
///
///     v(θ) = a·∇J_β(θ) − b·∇L_SFT(θ),        ∂v/∂θ = a·∇²J_β(θ) − b·∇²L_SFT(θ),
///
/// so `sft` is θ̇ = −∇L_SFT (Jacobian −∇²L_SFT), `rl` is θ̇ = +∇J_β with the instance's β
/// (+∇J when β = 0; Jacobian +∇²J_β), and `mix(μ)` is θ̇ = (1−μ)∇J_β − μ∇L_SFT. Every gradient and
/// Hessian comes from `Instance.gradient` / `Instance.hessian` (the one numeric core).
///
/// Invariants: v is a function of θ only (the flows are autonomous, ∂v/∂t = 0), and v lies in the
/// moving subspace (``MovingSubspace``): for the tabular class Σ_y θ_{x,y} is conserved per prompt
/// along every flow, since each prompt's logit gradient sums to zero.
public struct PolicyFlow: Sendable {
    public let instance: Instance
    public let kind: PhaseKind
    /// Whether ``system`` evaluates v on contiguous storage (``PackedFlowField``: tabular and
    /// log-linear classes, checked against ``velocity(at:)`` at θ₀) rather than through the generic
    /// per-prompt core.
    public let isPacked: Bool

    /// - Parameter packed: use the packed right-hand side when the class allows it (default true);
    ///   false keeps the generic path (``velocity(at:)`` per evaluation).
    /// - Throws: the instance's ``Instance/validateForFlows()`` error (a zero start probability,
    ///   or a zero reference entry with β > 0) and a `mix` weight outside [0, 1].
    public init(instance: Instance, kind: PhaseKind, packed: Bool = true) throws {
        try instance.validateForFlows()
        if case let .mix(mu) = kind, !(mu >= 0 && mu <= 1) {
            throw FlowError.invalid("the mixture weight μ must be in [0, 1], got \(mu)")
        }
        self.instance = instance
        self.kind = kind
        isPacked = packed && PackedFlowField.make(instance: instance, kind: kind) != nil
    }

    /// The number of parameters, the dimension of the ODE.
    public var dimension: Int { instance.policy.dimension }

    /// v(θ) = a·∇J_β − b·∇L_SFT.
    public func velocity(at theta: [Double]) -> [Double] {
        velocity(at: instance.point(theta))
    }

    /// v at an already evaluated point.
    public func velocity(at pt: PolicyPoint) -> [Double] {
        let (a, b) = kind.weights
        var v = [Double](repeating: 0, count: dimension)
        if a != 0 {
            let g = instance.gradient(.rewardRegularized, at: pt)
            for i in v.indices { v[i] += a * g[i] }
        }
        if b != 0 {
            let g = instance.gradient(.sft, at: pt)
            for i in v.indices { v[i] -= b * g[i] }
        }
        return v
    }

    /// ∂v/∂θ = a·∇²J_β − b·∇²L_SFT (symmetric, n×n).
    public func jacobian(at theta: [Double]) -> Matrix {
        let pt = instance.point(theta)
        let (a, b) = kind.weights
        var m = Matrix(rows: dimension, cols: dimension)
        if a != 0 {
            let h = instance.hessian(.rewardRegularized, at: pt)
            for i in m.data.indices { m.data[i] += a * h.data[i] }
        }
        if b != 0 {
            let h = instance.hessian(.sft, at: pt)
            for i in m.data.indices { m.data[i] -= b * h.data[i] }
        }
        return m
    }

    /// The flow as an ``ODESystem`` (state y = θ) with its exact Jacobian, so every stepper,
    /// implicit ones included, can integrate it. A non-finite θ or velocity is reported by the
    /// integrator (``IntegrationError/nonFinite(t:component:)``), never a crash.
    ///
    /// With ``isPacked`` the right-hand side is a fresh ``PackedFlowField`` per call of this
    /// property (its scratch buffers belong to one integration), allocating nothing per evaluation.
    public var system: ODESystem {
        let flow = self
        let n = dimension
        let rhs: ODESystem.RHS
        if isPacked, let field = PackedFlowField.make(instance: instance, kind: kind, checked: false) {
            rhs = { _, y, dydt in field.evaluate(y.baseAddress!, dydt.baseAddress!) }
        } else {
            rhs = { _, y, dydt in
                let v = flow.velocity(at: Array(y))
                for i in 0..<n { dydt[i] = v[i] }
            }
        }
        return ODESystem(
            dimension: n,
            rhs: rhs,
            jacobian: { _, y, dfdy, dfdt in
                let j = flow.jacobian(at: Array(y))
                for k in 0..<(n * n) { dfdy[k] = j.data[k] }
                for i in 0..<n { dfdt[i] = 0 }
            })
    }
}

/// Why a flow or a run of gradient steps could not be done. Each case names the phase, the time
/// and what to change.
public enum FlowError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A bad argument (sample count, step size, …).
    case invalid(String)
    /// An event spec that does not parse.
    case badEvent(text: String, problem: String)
    /// The integrator stopped inside a phase.
    case integration(phase: Int, label: String, start: Double, end: Double, error: IntegrationError)
    /// Gradient steps produced a non-finite θ.
    case diverged(phase: Int, label: String, step: Int, t: Double)

    public var description: String {
        switch self {
        case let .invalid(s):
            return s
        case let .badEvent(text, problem):
            return "event '\(text)': \(problem)"
        case let .integration(phase, label, start, end, error):
            return "phase \(phase + 1) (\(label), t from \(shortNumber(start)) to \(shortNumber(end))): \(error)"
        case let .diverged(phase, label, step, t):
            return "phase \(phase + 1) (\(label)): gradient step \(step) (t = \(t)) produced a non-finite θ; "
                + "lower --eta or shorten the phase"
        }
    }
}
