import CGSL

/// Process-wide GSL set-up.
public enum GSLRuntime {
    /// GSL's default error handler aborts the process; this replaces it, once per process and
    /// thread-safely (a lazily initialised global), by "return the error code". Every GSL return
    /// code is then checked by its caller. Idempotent and cheap: call it before any GSL use
    /// (``integrate(_:from:y0:to:outputTimes:events:options:)`` does).
    public static func disableAbortOnError() { _ = handlerDisabled }

    private static let handlerDisabled: Bool = {
        _ = gsl_set_error_handler_off()
        return true
    }()

    /// GSL's text for an error code.
    static func message(_ code: Int32) -> String {
        guard let text = gsl_strerror(code) else { return "GSL error \(code)" }
        return String(cString: text)
    }
}

/// What GSL's `void *params` points to: the user's closures, the call counters, and the first
/// failure seen inside a callback (Swift errors cannot cross the C frames, so they are parked
/// here and rethrown once GSL returns).
final class CallbackContext {
    let dimension: Int
    let rhs: ODESystem.RHS
    let jacobian: ODESystem.Jacobian?
    var rhsEvaluations = 0
    var jacobianEvaluations = 0
    /// Set when a user closure threw; the callback then returned GSL_EBADFUNC.
    var failure: IntegrationError?
    /// The last non-finite output of f (or the Jacobian) seen since ``clearNonFinite()``; the
    /// callback then returned GSL_FAILURE so that GSL retries with a smaller step.
    var nonFinite: (t: Double, component: Int)?

    init(system: ODESystem) {
        dimension = system.dimension
        rhs = system.rhs
        jacobian = system.jacobian
    }

    func clearNonFinite() { nonFinite = nil }
}

private let gslSuccess = Int32(GSL_SUCCESS)
private let gslFailure = Int32(GSL_FAILURE)
private let gslBadFunction = Int32(GSL_EBADFUNC)

/// `gsl_odeiv2_system.function`: f(t, y) through the boxed Swift closure.
private func rhsTrampoline(_ t: Double, _ y: UnsafePointer<Double>?, _ dydt: UnsafeMutablePointer<Double>?,
                           _ params: UnsafeMutableRawPointer?) -> Int32 {
    guard let y, let dydt, let params else { return Int32(GSL_EFAULT) }
    let context = Unmanaged<CallbackContext>.fromOpaque(params).takeUnretainedValue()
    let n = context.dimension
    context.rhsEvaluations += 1
    let out = UnsafeMutableBufferPointer(start: dydt, count: n)
    do {
        try context.rhs(t, UnsafeBufferPointer(start: y, count: n), out)
    } catch {
        if context.failure == nil {
            context.failure = .userFunction(t: t, message: "f(t, y) threw: \(error)")
        }
        return gslBadFunction
    }
    for i in 0..<n where !out[i].isFinite {
        context.nonFinite = (t, i)
        return gslFailure
    }
    return gslSuccess
}

/// `gsl_odeiv2_system.jacobian`: (∂f/∂y, ∂f/∂t) through the boxed Swift closure.
private func jacobianTrampoline(_ t: Double, _ y: UnsafePointer<Double>?, _ dfdy: UnsafeMutablePointer<Double>?,
                                _ dfdt: UnsafeMutablePointer<Double>?, _ params: UnsafeMutableRawPointer?) -> Int32 {
    guard let y, let dfdy, let dfdt, let params else { return Int32(GSL_EFAULT) }
    let context = Unmanaged<CallbackContext>.fromOpaque(params).takeUnretainedValue()
    guard let jacobian = context.jacobian else { return gslBadFunction }  // never installed then
    let n = context.dimension
    context.jacobianEvaluations += 1
    let matrix = UnsafeMutableBufferPointer(start: dfdy, count: n * n)
    let timeDerivative = UnsafeMutableBufferPointer(start: dfdt, count: n)
    do {
        try jacobian(t, UnsafeBufferPointer(start: y, count: n), matrix, timeDerivative)
    } catch {
        if context.failure == nil {
            context.failure = .userFunction(t: t, message: "the Jacobian threw: \(error)")
        }
        return gslBadFunction
    }
    for k in 0..<(n * n) where !matrix[k].isFinite {
        context.nonFinite = (t, k / n)
        return gslFailure
    }
    for i in 0..<n where !timeDerivative[i].isFinite {
        context.nonFinite = (t, i)
        return gslFailure
    }
    return gslSuccess
}

/// One GSL stepper, controller and evolution object (allocated together as a
/// `gsl_odeiv2_driver`, which also wires the driver into msadams/msbdf as they require), over a
/// heap-allocated `gsl_odeiv2_system` that outlives them.
///
/// Stepping goes through `gsl_odeiv2_evolve_apply`, one accepted step per call, so the caller
/// sees every step. Keeps its context alive; not thread-safe.
final class GSLStepSession {
    let context: CallbackContext
    let stepper: Stepper
    private let system: UnsafeMutablePointer<gsl_odeiv2_system>
    private let driver: UnsafeMutablePointer<gsl_odeiv2_driver>

    /// Error control: |err_i| ≤ atol + rtol·|y_i| (GSL standard control, a_y = 1, a_dydt = 0).
    init(context: CallbackContext, stepper: Stepper, rtol: Double, atol: Double, initialStep: Double) throws {
        GSLRuntime.disableAbortOnError()
        self.context = context
        self.stepper = stepper
        system = .allocate(capacity: 1)
        system.initialize(to: gsl_odeiv2_system(
            function: rhsTrampoline,
            jacobian: context.jacobian == nil ? nil : jacobianTrampoline,
            dimension: context.dimension,
            params: Unmanaged.passUnretained(context).toOpaque()))
        guard let type = stepper.gslType,
              let d = gsl_odeiv2_driver_alloc_standard_new(system, type, initialStep, atol, rtol, 1, 0) else {
            system.deinitialize(count: 1)
            system.deallocate()
            throw IntegrationError.gsl(code: Int32(GSL_ENOMEM), t: .nan,
                                       message: "could not allocate the \(stepper.rawValue) driver for dimension \(context.dimension)")
        }
        driver = d
    }

    deinit {
        gsl_odeiv2_driver_free(driver)  // frees step, control and evolve; never the system
        system.deinitialize(count: 1)
        system.deallocate()
    }

    /// Steps rejected by the error control (or retried after a stepper failure) so far.
    var rejectedSteps: Int { Int(driver.pointee.e.pointee.failed_steps) }

    /// f at the end of the last accepted step, when the stepper computes it exactly there
    /// (`gives_exact_dydt_out`); `nil` otherwise.
    var exactDerivativeAtEnd: UnsafePointer<Double>? {
        guard driver.pointee.s.pointee.type.pointee.gives_exact_dydt_out != 0 else { return nil }
        return UnsafePointer(driver.pointee.e.pointee.dydt_out)
    }

    /// Forgets the step history (multistep methods restart at order 1).
    func reset() throws {
        let status = gsl_odeiv2_driver_reset(driver)
        guard status == gslSuccess else {
            throw IntegrationError.gsl(code: status, t: .nan, message: "driver reset: \(GSLRuntime.message(status))")
        }
    }

    /// One accepted step from t toward `end`, never past it: on success t and y hold the new
    /// point, and h the step GSL suggests next (unchanged when the step was cut to land on
    /// `end`). Throws the mapped error otherwise; y is then unspecified.
    ///
    /// GSL lands exactly on `end` only when the trial step is strictly longer than the distance
    /// left (a step of exactly that length would put t at t + (end − t), which may round to a
    /// neighbour of `end`); so a step that would reach `end` is passed as twice the distance, and
    /// the caller's h is kept. A non-final step that rounds past `end` is clamped to it.
    func step(t: inout Double, to end: Double, h: inout Double, y: UnsafeMutablePointer<Double>) throws {
        let start = t
        let remaining = end - t
        let trial = abs(h) >= abs(remaining) ? 2 * remaining : h
        var suggested = trial
        context.clearNonFinite()
        let d = driver.pointee
        let status = gsl_odeiv2_evolve_apply(d.e, d.c, d.s, system, &t, end, &suggested, y)
        if let failure = context.failure { throw failure }
        if status == gslSuccess {
            if suggested != trial { h = suggested }  // else: a final step, GSL suggests nothing
            if (end - t) * remaining < 0 { t = end }
            return
        }
        if let (tBad, component) = context.nonFinite {
            throw IntegrationError.nonFinite(t: tBad, component: component)
        }
        switch status {
        // evolve_apply answers GSL_FAILURE when the error test still fails at a step too small
        // to change t (or the stepper itself fails there), GSL_ENOPROG in similar cases.
        case gslFailure, Int32(GSL_ENOPROG): throw IntegrationError.noProgress(t: start, step: suggested)
        case gslBadFunction:
            throw IntegrationError.userFunction(t: start, message: "GSL reported a bad user function (GSL_EBADFUNC)")
        default: throw IntegrationError.gsl(code: status, t: start, message: GSLRuntime.message(status))
        }
    }
}
