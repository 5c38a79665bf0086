import Foundation
import Linalg
import Policies

/// The result of running a schedule on an instance, by the exact flow (``runFlow(instance:schedule:samples:events:options:)``)
/// or by gradient steps (``runGradientSteps(instance:schedule:eta:samples:events:)``).
public struct ScheduleRun: Sendable {
    public var schedule: Schedule
    /// One row per output time, in time order.
    public var rows: [TraceRow]
    /// The events asked for, in order.
    public var events: [LevelEvent]
    /// The first crossing of each event that was met, in the order of `events` (an event never
    /// met has no hit).
    public var hits: [LevelEventHit]
    /// Integrator work over the whole schedule (zeros for gradient steps).
    public var stats: IntegrationStats
    /// Integrator work per phase (empty for gradient steps).
    public var phaseStats: [IntegrationStats]
    /// θ at the end of the schedule.
    public var finalTheta: [Double]
    /// Gradient steps only: the step size η and the number of steps of each phase.
    public var eta: Double?
    public var stepsPerPhase: [Int]

    /// The hit of `event`, if it was met.
    public func hit(for event: LevelEvent) -> LevelEventHit? { hits.first { $0.event == event } }
}

/// Integrates the schedule's flows back to back from the instance's start θ₀ and records the
/// trace at `samples` evenly spaced times over [0, T] plus every phase boundary.
///
/// Each phase k is one integration from its start boundary to its end boundary, started from
/// the state where phase k−1 ended (θ is continuous; the vector field jumps). Output times are
/// exact step ends of the integrator (``integrate(_:from:y0:to:outputTimes:events:options:)``).
/// `options.maxSteps` bounds the accepted steps of the whole schedule.
///
/// - Parameters:
///   - samples: number of evenly spaced output times over [0, T], ≥ 2. Default 101.
///   - events: level crossings to locate; each reports its first crossing (either direction),
///     located inside a step.
///   - options: stepper, tolerances and limits (defaults: rk8pd, rtol 1e-8, atol 1e-10).
/// - Throws: ``FlowError`` (bad arguments; an integration failure, naming the phase) or the
///   instance's validation error.
public func runFlow(instance: Instance, schedule: Schedule, samples: Int = 101, events: [LevelEvent] = [],
                    options: IntegratorOptions = IntegratorOptions()) throws -> ScheduleRun {
    guard samples >= 2 else { throw FlowError.invalid("samples must be ≥ 2, got \(samples)") }
    return try runFlow(instance: instance, schedule: schedule, outputTimes: schedule.outputTimes(samples: samples),
                       events: events, options: options)
}

/// As ``runFlow(instance:schedule:samples:events:options:)``, with explicit output times
/// (increasing, within [0, T]; boundaries are not added).
public func runFlow(instance: Instance, schedule: Schedule, outputTimes: [Double], events: [LevelEvent] = [],
                    options: IntegratorOptions = IntegratorOptions()) throws -> ScheduleRun {
    try options.validate()
    try instance.validateForFlows()
    let total = schedule.totalDuration
    for (k, t) in outputTimes.enumerated() {
        guard t.isFinite, t >= 0, t <= total else {
            throw FlowError.invalid("output time \(t) is outside the schedule [0, \(total)]")
        }
        if k > 0 && t < outputTimes[k - 1] { throw FlowError.invalid("output times must increase: \(t) after \(outputTimes[k - 1])") }
    }
    let bounds = schedule.boundaries
    var theta = instance.start
    var rows: [TraceRow] = []
    var hits: [LevelEventHit] = []
    var phaseStats: [IntegrationStats] = []
    var total_ = IntegrationStats()
    var pending = Array(events.indices)
    // Trace rows: the fused tabular pass when the class allows, else the general code.
    let evaluator = TraceEvaluator.make(instance)
    func traceValues(_ theta: [Double]) -> TraceValues { evaluator?.values(at: theta) ?? TraceValues(instance, at: theta) }

    var next = 0  // next output time
    if next < outputTimes.count && outputTimes[next] == 0 {
        while next < outputTimes.count && outputTimes[next] == 0 { next += 1 }
        rows.append(TraceRow(t: 0, phaseIndex: 0, phase: schedule.phases[0].kind.label, theta: theta,
                             values: traceValues(theta)))
    }
    for (k, phase) in schedule.phases.enumerated() {
        let t0 = bounds[k], t1 = bounds[k + 1]
        // Output times of this phase: (t0, t1] (t = 0 was recorded above).
        var times: [Double] = []
        while next < outputTimes.count && outputTimes[next] <= t1 {
            if outputTimes[next] > t0 && times.last != outputTimes[next] { times.append(outputTimes[next]) }
            next += 1
        }
        let flow = try PolicyFlow(instance: instance, kind: phase.kind)
        let gslEvents = pending.map { e in
            let q = events[e].quantity
            return Event(name: events[e].spec, level: events[e].level, direction: .either) { _, y in q.value(instance, at: y) }
        }
        var phaseOptions = options
        phaseOptions.maxSteps = max(1, options.maxSteps - total_.accepted)
        let traj: Trajectory
        do {
            traj = try integrate(flow.system, from: t0, y0: theta, to: t1, outputTimes: times, events: gslEvents,
                                 options: phaseOptions)
        } catch let error as IntegrationError {
            var e = error
            if case let .tooManySteps(t, _) = error { e = .tooManySteps(t: t, limit: options.maxSteps) }
            throw FlowError.integration(phase: k, label: phase.kind.label, start: t0, end: t1, error: e)
        }
        for (time, state) in zip(traj.times, traj.states) {
            rows.append(TraceRow(t: time, phaseIndex: k, phase: phase.kind.label, theta: state,
                                 values: traceValues(state)))
        }
        var met: Set<Int> = []
        for hit in traj.events {
            let e = pending[hit.index]
            if met.contains(e) { continue }
            met.insert(e)
            hits.append(LevelEventHit(event: events[e], t: hit.t, phaseIndex: k, phase: phase.kind.label,
                                      direction: hit.direction, step: nil))
        }
        pending.removeAll { met.contains($0) }
        theta = traj.finalState
        phaseStats.append(traj.stats)
        total_.accepted += traj.stats.accepted
        total_.rejected += traj.stats.rejected
        total_.rhsEvaluations += traj.stats.rhsEvaluations
        total_.jacobianEvaluations += traj.stats.jacobianEvaluations
    }
    hits.sort { a, b in events.firstIndex(of: a.event)! < events.firstIndex(of: b.event)! }
    return ScheduleRun(schedule: schedule, rows: rows, events: events, hits: hits, stats: total_,
                       phaseStats: phaseStats, finalTheta: theta, eta: nil, stepsPerPhase: [])
}
