import CGSL

/// Integrates dy/dt = f(t, y) from (t₀, y₀) to t₁ with a GSL odeiv2 stepper under local error
/// control |err_i| ≤ atol + rtol·|y_i|, returning y at the requested output times and the event
/// crossings found on the way.
///
/// **Output times are step ends** (unless `options.denseOutput`: then steps run free and each output
/// state is the interpolant of its step, of order 7 for dop853 and 3 (cubic Hermite) otherwise;
/// see ``IntegratorOptions/denseOutput``). Each GSL step is limited so that it never passes the next
/// output time, and the step that reaches it lands on it exactly (GSL's `evolve_apply` with that
/// time as its end point); the step size GSL suggests is kept across such cut steps. So
/// `states[k]` carries the integration's own accuracy, not an interpolant's. Dense output times
/// therefore cost steps: use only the times you need.
///
/// **Events** are located inside accepted steps, not only at their ends: see ``Event``.
///
/// Integration may run backward (t₁ < t₀); output times must then decrease.
///
/// - Parameters:
///   - system: f, its dimension n and optionally its Jacobian.
///   - t0: the initial time (finite).
///   - y0: the initial state, n finite components.
///   - t1: the end time (finite); t₁ = t₀ returns y₀.
///   - outputTimes: times at which to record y, each in [t₀, t₁], ordered in the direction of
///     integration (repeats allowed). Include t₀ and/or t₁ to record them. Default none.
///   - events: functions g(t, y) whose crossings of a level are located. Default none.
///   - options: stepper, tolerances and limits (defaults: rk8pd, rtol 1e-8, atol 1e-10).
/// - Returns: the states at the output times reached, the event hits, the final time and state
///   and the work counters.
/// - Throws: ``IntegrationError``: `invalidOptions` for bad arguments, `missingJacobian` when an
///   implicit stepper meets a system without a Jacobian (checked before any GSL call),
///   `userFunction`, `nonFinite`, `noProgress`, `tooManySteps`, `gsl`.
public func integrate(_ system: ODESystem, from t0: Double, y0: [Double], to t1: Double,
                      outputTimes: [Double] = [], events: [Event] = [],
                      options: IntegratorOptions = IntegratorOptions()) throws -> Trajectory {
    try options.validate()
    guard system.dimension >= 1 else {
        throw IntegrationError.invalidOptions("the system's dimension must be ≥ 1, got \(system.dimension)")
    }
    guard y0.count == system.dimension else {
        throw IntegrationError.invalidOptions("y0 has \(y0.count) components, the system has dimension \(system.dimension)")
    }
    if let i = y0.firstIndex(where: { !$0.isFinite }) {
        throw IntegrationError.invalidOptions("y0[\(i)] = \(y0[i]) is not finite")
    }
    guard t0.isFinite, t1.isFinite else {
        throw IntegrationError.invalidOptions("start and end times must be finite, got t0 = \(t0), t1 = \(t1)")
    }
    let forward = t1 >= t0
    for (k, time) in outputTimes.enumerated() {
        guard time.isFinite, forward ? (time >= t0 && time <= t1) : (time <= t0 && time >= t1) else {
            throw IntegrationError.invalidOptions("outputTimes[\(k)] = \(time) is outside [\(min(t0, t1)), \(max(t0, t1))]")
        }
        if k > 0, forward ? time < outputTimes[k - 1] : time > outputTimes[k - 1] {
            throw IntegrationError.invalidOptions(
                "outputTimes[\(k)] = \(time) comes before outputTimes[\(k - 1)] = \(outputTimes[k - 1]); "
                    + "order them in the direction of integration")
        }
    }
    if options.stepper.needsJacobian && system.jacobian == nil {
        throw IntegrationError.missingJacobian(stepper: options.stepper)
    }
    let run = try IntegrationRun(system: system, events: events, options: options, forward: forward)
    return try withExtendedLifetime(run) {
        try run.run(from: t0, y0: y0, to: t1, outputTimes: outputTimes)
    }
}

/// The state of one call of ``integrate(_:from:y0:to:outputTimes:events:options:)``: GSL objects,
/// work buffers (allocated once, reused by every step), and event bookkeeping.
final class IntegrationRun {
    let n: Int
    let options: IntegratorOptions
    let events: [Event]
    /// +1 forward, −1 backward.
    let direction: Double
    let context: CallbackContext
    let main: any StepSession
    /// Re-integrates inside an accepted step to locate events; made on first need.
    var locatorSession: (any StepSession)?

    /// Current state.
    let y: UnsafeMutableBufferPointer<Double>
    /// State at the start of the current step.
    let yStart: UnsafeMutableBufferPointer<Double>
    /// f at the start and at the end of the current step (events only).
    let fStart: UnsafeMutableBufferPointer<Double>
    let fEnd: UnsafeMutableBufferPointer<Double>
    /// Interpolated or re-integrated states (events only).
    let scratch: UnsafeMutableBufferPointer<Double>
    /// Dense output: f at the start and the end of the current step (swapped after each step) and
    /// the interpolated state.
    var denseStart: UnsafeMutableBufferPointer<Double>
    var denseEnd: UnsafeMutableBufferPointer<Double>
    let denseState: UnsafeMutableBufferPointer<Double>
    /// g_e − level_e at the start and at the end of the current step, exact (events only).
    var eventStart: [Double]
    var eventEnd: [Double]
    /// The array handed to the event closures (refilled in place).
    var eventArgument: [Double]

    init(system: ODESystem, events: [Event], options: IntegratorOptions, forward: Bool) throws {
        n = system.dimension
        self.options = options
        self.events = events
        direction = forward ? 1 : -1
        context = CallbackContext(system: system)
        main = try makeStepSession(context: context, stepper: options.stepper, options: options)
        let n = system.dimension
        func buffer() -> UnsafeMutableBufferPointer<Double> {
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
            b.initialize(repeating: 0)
            return b
        }
        y = buffer()
        yStart = buffer()
        fStart = buffer()
        fEnd = buffer()
        scratch = buffer()
        denseStart = buffer()
        denseEnd = buffer()
        denseState = buffer()
        eventStart = Array(repeating: 0, count: events.count)
        eventEnd = eventStart
        eventArgument = Array(repeating: 0, count: events.isEmpty ? 0 : n)
    }

    deinit {
        for b in [y, yStart, fStart, fEnd, scratch, denseStart, denseEnd, denseState] { b.deallocate() }
    }

    var stats: IntegrationStats {
        IntegrationStats(accepted: 0, rejected: main.rejectedSteps,
                         rhsEvaluations: context.rhsEvaluations, jacobianEvaluations: context.jacobianEvaluations)
    }

    func run(from t0: Double, y0: [Double], to t1: Double, outputTimes: [Double]) throws -> Trajectory {
        _ = y.update(fromContentsOf: y0)
        var t = t0
        var h = direction * min(options.initialStep, options.maxStep)
        if options.automaticInitialStep && t1 != t0 {
            h = direction * (try automaticStep(t0, span: abs(t1 - t0)))
            (main as? DOP853Session)?.setFirstStage(fStart.baseAddress!)  // f(t₀, y₀), just evaluated
        }
        var accepted = 0
        var times: [Double] = []
        var states: [[Double]] = []
        var hits: [EventHit] = []
        var stepTimes: [Double] = options.recordStepTimes ? [t0] : []
        times.reserveCapacity(outputTimes.count)
        states.reserveCapacity(outputTimes.count)
        var next = 0  // index of the next output time to record

        func recordOutputs(at time: Double, state: UnsafeMutableBufferPointer<Double>) {
            while next < outputTimes.count && outputTimes[next] == time {
                times.append(time)
                states.append(Array(state))
                next += 1
            }
        }
        func result(finalTime: Double, finalState: [Double], terminal: EventHit?) -> Trajectory {
            var s = stats
            s.accepted = accepted
            return Trajectory(times: times, states: states, events: hits, stats: s, finalTime: finalTime,
                              finalState: finalState, terminalEvent: terminal, stepTimes: stepTimes)
        }

        recordOutputs(at: t0, state: y)
        if !events.isEmpty { try beginEvents(at: t0) }
        let dense = options.denseOutput && !events.contains(where: \.isTerminal)
        let ownInterpolant = main as? DOP853Session
        var denseStartValid = false

        while t != t1 {
            guard accepted < options.maxSteps else {
                throw IntegrationError.tooManySteps(t: t, limit: options.maxSteps)
            }
            let target = dense ? t1 : (next < outputTimes.count ? outputTimes[next] : t1)
            let tStart = t
            _ = yStart.update(fromContentsOf: y)
            if dense && ownInterpolant == nil && !denseStartValid && next < outputTimes.count {
                try evaluateRHS(t, y, into: denseStart)
                denseStartValid = true
            }
            try main.step(t: &t, to: target, h: &h, y: y.baseAddress!)
            accepted += 1
            if let i = y.firstIndex(where: { !$0.isFinite }) {
                throw IntegrationError.nonFinite(t: t, component: i)
            }
            if abs(h) > options.maxStep { h = direction * options.maxStep }
            if options.minStep > 0 && abs(h) < options.minStep && abs(t1 - t) > options.minStep {
                throw IntegrationError.noProgress(t: t, step: h)
            }
            if options.recordStepTimes { stepTimes.append(t) }
            if dense, let session = ownInterpolant {
                let h = t - tStart
                if next < outputTimes.count && (direction > 0 ? outputTimes[next] < t : outputTimes[next] > t) {
                    try session.prepareDenseOutput()
                    while next < outputTimes.count && (direction > 0 ? outputTimes[next] < t : outputTimes[next] > t) {
                        let time = outputTimes[next]
                        session.denseState(theta: (time - tStart) / h, into: denseState.baseAddress!)
                        times.append(time)
                        states.append(Array(denseState))
                        next += 1
                    }
                }
            } else if dense {
                let pending = next < outputTimes.count && (direction > 0 ? outputTimes[next] < t : outputTimes[next] > t)
                var endValid = false
                if let exact = main.exactDerivativeAtEnd {
                    _ = denseEnd.update(fromContentsOf: UnsafeBufferPointer(start: exact, count: n))
                    endValid = true
                } else if pending {
                    try evaluateRHS(t, y, into: denseEnd)
                    endValid = true
                }
                if pending {
                    let h = t - tStart
                    while next < outputTimes.count && (direction > 0 ? outputTimes[next] < t : outputTimes[next] > t) {
                        let time = outputTimes[next]
                        hermite((time - tStart) / h, h: h)
                        times.append(time)
                        states.append(Array(denseState))
                        next += 1
                    }
                }
                if endValid { swap(&denseStart, &denseEnd) }
                denseStartValid = endValid
            }
            if !events.isEmpty {
                let found = try locateEvents(from: tStart, to: t)
                for hit in found {
                    hits.append(hit)
                    if events[hit.index].isTerminal {
                        hit.y.withUnsafeBufferPointer { _ = y.update(fromContentsOf: $0) }
                        recordOutputs(at: hit.t, state: y)
                        return result(finalTime: hit.t, finalState: hit.y, terminal: hit)
                    }
                }
            }
            recordOutputs(at: t, state: y)
        }
        return result(finalTime: t, finalState: Array(y), terminal: nil)
    }

    /// The first trial step of ``IntegratorOptions/automaticInitialStep`` from y (at t0), with two
    /// evaluations of f (into fStart and fEnd, which the event code refills before use).
    func automaticStep(_ t0: Double, span: Double) throws -> Double {
        let rtol = options.rtol, atol = options.atol
        func rms(_ v: (Int) -> Double) -> Double {
            var s = 0.0
            for i in 0..<n { let x = v(i); s += x * x }
            return (s / Double(n)).squareRoot()
        }
        try evaluateRHS(t0, y, into: fStart)
        let d0 = rms { self.y[$0] / (atol + rtol * abs(self.y[$0])) }
        let d1 = rms { self.fStart[$0] / (atol + rtol * abs(self.y[$0])) }
        let h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1
        for i in 0..<n { scratch[i] = y[i] + direction * h0 * fStart[i] }
        try evaluateRHS(t0 + direction * h0, scratch, into: fEnd)
        let d2 = rms { (self.fEnd[$0] - self.fStart[$0]) / (atol + rtol * abs(self.y[$0])) } / h0
        let big = max(d1, d2)
        let h1 = big <= 1e-15 ? max(1e-6, h0 * 1e-3) : pow(0.01 / big, 1 / Double(options.stepper.errorOrder + 1))
        return min(100 * h0, h1, span, options.maxStep)
    }

    /// The cubic Hermite interpolant of the current step at θ = (τ − t_a)/h into `denseState`, from
    /// y and f at both ends (yStart, denseStart; y, denseEnd). Its error is at most h⁴/384·max|y⁗|.
    func hermite(_ theta: Double, h: Double) {
        let t2 = theta * theta, t3 = t2 * theta
        let a = 2 * t3 - 3 * t2 + 1, b = (t3 - 2 * t2 + theta) * h
        let c = -2 * t3 + 3 * t2, d = (t3 - t2) * h
        for i in 0..<n { denseState[i] = a * yStart[i] + b * denseStart[i] + c * y[i] + d * denseEnd[i] }
    }

    /// f(t, y) outside GSL (for the event interpolant), counted, with the same error mapping.
    func evaluateRHS(_ t: Double, _ state: UnsafeMutableBufferPointer<Double>,
                     into out: UnsafeMutableBufferPointer<Double>) throws {
        context.rhsEvaluations += 1
        do {
            try context.rhs(t, UnsafeBufferPointer(state), out)
        } catch {
            throw IntegrationError.userFunction(t: t, message: "f(t, y) threw: \(error)")
        }
        if let i = out.firstIndex(where: { !$0.isFinite }) {
            throw IntegrationError.nonFinite(t: t, component: i)
        }
    }

    /// Integrates from (tStart, yStart) to `end` inside the current step, with a fresh one-step
    /// method at the same tolerances, leaving y(end) in `scratch`.
    func reintegrate(from tStart: Double, to end: Double) throws {
        _ = scratch.update(fromContentsOf: yStart)
        if end == tStart { return }
        let session: any StepSession
        if let s = locatorSession {
            session = s
        } else {
            session = try makeStepSession(context: context, stepper: options.stepper.eventLocator, options: options)
            locatorSession = session
        }
        try session.reset()
        var t = tStart
        var h = end - tStart
        if abs(h) > options.maxStep { h = direction * options.maxStep }
        var steps = 0
        while t != end {
            guard steps < options.maxSteps else {
                throw IntegrationError.tooManySteps(t: t, limit: options.maxSteps)
            }
            try session.step(t: &t, to: end, h: &h, y: scratch.baseAddress!)
            steps += 1
            if abs(h) > options.maxStep { h = direction * options.maxStep }
        }
    }
}
