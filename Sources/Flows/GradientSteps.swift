import Foundation
import Linalg
import Policies

/// The number of gradient steps of size η in each phase: nₖ = durationₖ/η, which must be a whole
/// number (within 1e-9 relative) and ≥ 1.
///
/// - Throws: ``FlowError/invalid(_:)`` naming the first phase whose duration is not a whole
///   number of steps, or a bad η.
public func stepsPerPhase(_ schedule: Schedule, eta: Double) throws -> [Int] {
    guard eta.isFinite, eta > 0 else { throw FlowError.invalid("the step size η must be a positive number, got \(eta)") }
    return try schedule.phases.enumerated().map { k, p in
        let exact = p.duration / eta
        let n = exact.rounded()
        guard n >= 1, abs(exact - n) <= 1e-9 * max(1, n) else {
            throw FlowError.invalid(
                "phase \(k + 1) '\(p.spec)': duration \(shortNumber(p.duration)) is not a whole number of steps of "
                    + "η = \(shortNumber(eta)) (\(exact) steps); choose η so that every duration/η is a positive integer")
        }
        guard n <= 1e9 else { throw FlowError.invalid("phase \(k + 1) '\(p.spec)': \(n) steps of η = \(eta) is too many") }
        return Int(n)
    }
}

/// Runs the schedule as plain gradient steps of size η from θ₀ instead of the exact flow:
///
///     θ_{s+1} = θ_s + η·v_k(θ_s),   v_k the phase's vector field (``PolicyFlow/velocity(at:)``),
///
/// i.e. gradient descent on L_SFT in `sft` phases, ascent on J_β in `rl` phases and the mixed
/// step in `mix` phases (forward Euler on the flow). Phase k lasts nₖ = durationₖ/η steps
/// (``stepsPerPhase(_:eta:)``); step s is reported at time t = s·η, so a trace lines up with the
/// flow's. As η → 0, θ_s → θ(s·η) with error O(η) (the flow is smooth).
///
/// Rows are recorded at the steps nearest to `samples` evenly spaced times over [0, T] and at
/// every phase boundary; a row at a boundary belongs to the phase that ends there. An event is
/// reported at the first step after which its quantity lies on the other side of its level
/// (it is not interpolated between steps).
///
/// - Throws: ``FlowError`` for a bad η or sample count, or when θ becomes non-finite
///   (``FlowError/diverged(phase:label:step:t:)``: η too large).
public func runGradientSteps(instance: Instance, schedule: Schedule, eta: Double, samples: Int = 101,
                             events: [LevelEvent] = []) throws -> ScheduleRun {
    guard samples >= 2 else { throw FlowError.invalid("samples must be ≥ 2, got \(samples)") }
    try instance.validateForFlows()
    let counts = try stepsPerPhase(schedule, eta: eta)
    let totalSteps = counts.reduce(0, +)
    // Steps at which to record a row.
    var record = Set(schedule.outputTimes(samples: samples).map { min(totalSteps, Int(($0 / eta).rounded())) })
    var boundary = 0
    for n in counts { boundary += n; record.insert(boundary) }
    record.insert(0)

    var theta = instance.start
    var rows: [TraceRow] = []
    let evaluator = TraceEvaluator.make(instance)
    func traceValues(_ theta: [Double]) -> TraceValues { evaluator?.values(at: theta) ?? TraceValues(instance, at: theta) }
    var hits: [LevelEventHit] = []
    var pending = Array(events.indices)
    var last = pending.map { events[$0].quantity.value(instance, at: theta) - events[$0].level }
    rows.append(TraceRow(t: 0, phaseIndex: 0, phase: schedule.phases[0].kind.label, step: 0, theta: theta,
                         values: traceValues(theta)))
    var s = 0
    for (k, phase) in schedule.phases.enumerated() {
        let flow = try PolicyFlow(instance: instance, kind: phase.kind)
        for _ in 0..<counts[k] {
            let v = flow.velocity(at: theta)
            for i in theta.indices { theta[i] += eta * v[i] }
            s += 1
            let t = Double(s) * eta
            if theta.contains(where: { !$0.isFinite }) {
                throw FlowError.diverged(phase: k, label: phase.kind.label, step: s, t: t)
            }
            if !pending.isEmpty {
                var met: [Int] = []
                for (j, e) in pending.enumerated() {
                    let now = events[e].quantity.value(instance, at: theta) - events[e].level
                    if let dir = crossing(last[j], now, .either) {
                        hits.append(LevelEventHit(event: events[e], t: t, phaseIndex: k, phase: phase.kind.label,
                                                  direction: dir, step: s))
                        met.append(j)
                    }
                    last[j] = now
                }
                for j in met.reversed() { pending.remove(at: j); last.remove(at: j) }
            }
            if record.contains(s) {
                rows.append(TraceRow(t: t, phaseIndex: k, phase: phase.kind.label, step: s, theta: theta,
                                     values: traceValues(theta)))
            }
        }
    }
    hits.sort { a, b in events.firstIndex(of: a.event)! < events.firstIndex(of: b.event)! }
    return ScheduleRun(schedule: schedule, rows: rows, events: events, hits: hits, stats: IntegrationStats(),
                       phaseStats: [], finalTheta: theta, eta: eta, stepsPerPhase: counts)
}
