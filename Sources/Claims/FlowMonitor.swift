import Foundation
import Linalg
import Policies
import Flows

/// Continuous monitoring of a scale-free rate along an integrated policy flow: the way the flow
/// claims judge "f never falls along the whole flow" without a fixed grid of times.
///
/// The rate of a function f along the flow θ̇ = v(θ) is the cosine
///   c(θ) = ⟨∇f(θ), v(θ)⟩ / (‖∇f(θ)‖·‖v(θ)‖) ∈ [−1, 1],
/// the sign of df/dt normalised by |θ̇|·|∇f|. It keeps its size when the violation is deep in the
/// flow: approaching a limit θ* along the slowest eigendirection u of the linearised flow,
/// c → ±⟨∇f(θ*), u⟩/‖∇f(θ*)‖, a constant, while df/dt itself decays like e^{−λt}.
///
/// c is evaluated at every accepted step of the integrator (exact states, one event sample per
/// step) and wherever the event c = 0 is located (exact re-integration inside the step, Brent);
/// a downward crossing is a local maximum of f along the flow. The integration stops at `horizon`
/// or when ‖v‖ falls below `stopFraction`·‖v(θ₀)‖ or below the resolution floor (converged).
///
/// Resolution: the integrated state carries an error e ≈ ρ·(1 + ‖θ‖∞), ρ = `flowRtol` (the Double
/// run's tolerance, for both runs, so that they watch the same stretch of the flow); it moves ∇f by
/// about e and v by about `speed`·e (`speed` bounds the Jacobian of v, e.g. (1 + β)·max q). c is
/// recorded only where ‖∇f‖ ≥ 10³·e and ‖v‖ ≥ 10³·speed·e, so that its direction error is below
/// 10⁻³ (below that a cosine of round-off-sized vectors is noise: at an SFT optimum ∇f = 0 up to
/// rounding, and near the limit v is the difference of nearly equal advantages).
struct FlowMonitor {
    /// The smallest recorded cosine (+1 when none was recorded).
    var minRate = 1.0
    /// The time of the smallest cosine.
    var minRateTime = 0.0
    /// Times and states where c crossed 0 downward (local maxima of f).
    var peaks: [(t: Double, state: [Double])] = []
    /// The time the integration ended.
    var finalTime = 0.0
    var finalState: [Double] = []
    /// Whether ‖v‖ fell below `stopFraction`·‖v(θ₀)‖ before the horizon.
    var converged = false
    /// How many cosines were recorded.
    var samples = 0

    /// - Parameters:
    ///   - gradient: ∇f at a point of the instance.
    ///   - kind: the flow (its velocity is `PolicyFlow.velocity`).
    init(_ inst: Instance, from theta: [Double], kind: PhaseKind, horizon: Double, rtol: Double,
         stopFraction: Double = 1e-7, speed: Double,
         gradient: @escaping (PolicyPoint) -> [Double]) throws {
        var i = inst
        i.start = theta
        let flow = try PolicyFlow(instance: i, kind: kind)
        let v0 = norm(flow.velocity(at: theta))
        let box = MonitorBox()
        func resolution(_ y: [Double]) -> Double { 1e3 * flowRtol * (1 + (y.map(abs).max() ?? 0)) }
        func rate(_ t: Double, _ y: [Double]) -> Double {
            let pt = inst.point(y)
            let g = gradient(pt), v = flow.velocity(at: pt)
            let ng = norm(g), nv = norm(v), floor = resolution(y)
            guard ng >= floor, nv >= speed * floor else { return 1 }   // unresolved: no evidence, no crossing
            let c = dot(g, v) / (ng * nv)
            box.samples += 1
            if c < box.minRate { box.minRate = c; box.minTime = t }
            return c
        }
        let watch = Event(name: "df/dt", level: 0, direction: .down, isTerminal: false, quantity: rate)
        let stop = Event(name: "converged", level: 0, direction: .down, isTerminal: true) { _, y in
            norm(flow.velocity(at: y)) - Swift.max(stopFraction * v0, speed * resolution(y))
        }
        var o = IntegratorOptions()
        o.rtol = rtol
        o.atol = rtol * 1e-2
        o.eventSamplesPerStep = 1
        o.maxSteps = 200_000
        let run = try integrate(flow.system, from: 0, y0: theta, to: horizon, events: v0 > 0 ? [watch, stop] : [watch], options: o)
        minRate = box.minRate
        minRateTime = box.minTime
        samples = box.samples
        peaks = run.events.filter { $0.name == "df/dt" }.map { ($0.t, $0.y) }
        finalTime = run.finalTime
        finalState = run.finalState
        converged = run.stoppedByEvent
    }
}

/// The running minimum the event closure writes (one integration, one thread).
private final class MonitorBox {
    var minRate = 1.0
    var minTime = 0.0
    var samples = 0
}
