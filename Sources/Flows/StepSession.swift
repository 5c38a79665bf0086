/// One stepping method with its error control, stepped one accepted step at a time by
/// ``IntegrationRun``: GSL's odeiv2 steppers (``GSLStepSession``) or the toolkit's own DOP853
/// (``DOP853Session``).
protocol StepSession: AnyObject {
    /// Steps rejected by the error control (or retried after a failure) so far.
    var rejectedSteps: Int { get }
    /// f at the end of the last accepted step when the method computes it there exactly; `nil`
    /// otherwise.
    var exactDerivativeAtEnd: UnsafePointer<Double>? { get }
    /// Forgets the step history (multistep methods restart at order 1; DOP853 re-evaluates f).
    func reset() throws
    /// One accepted step from t toward `end`, never past it: on success t and y hold the new
    /// point and h the step to try next (the caller's h when the step was only cut to land on
    /// `end`). Throws the mapped ``IntegrationError`` otherwise; y is then unspecified.
    func step(t: inout Double, to end: Double, h: inout Double, y: UnsafeMutablePointer<Double>) throws
}

extension GSLStepSession: StepSession {}

/// The session of `stepper`: DOP853 is the toolkit's own, every other one GSL's.
func makeStepSession(context: CallbackContext, stepper: Stepper, options: IntegratorOptions) throws -> any StepSession {
    if stepper == .dop853 {
        return DOP853Session(context: context, rtol: options.rtol, atol: options.atol, norm: options.norm)
    }
    return try GSLStepSession(context: context, stepper: stepper, rtol: options.rtol, atol: options.atol,
                              initialStep: min(options.initialStep, options.maxStep))
}
