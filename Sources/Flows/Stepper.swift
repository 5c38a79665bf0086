import CGSL

/// The eleven GSL odeiv2 stepping methods, by their GSL names, and the toolkit's own DOP853.
///
/// | stepper | method | order | Jacobian |
/// |---|---|---|---|
/// | dop853 | explicit Runge–Kutta of Dormand–Prince (Hairer's DOP853; ``DOP853Session``), errors of order 5 and 3, dense output of order 7 | 8 | no |
/// | rk2 | explicit embedded Runge–Kutta (2, 3) | 2 | no |
/// | rk4 | explicit classical Runge–Kutta, error by step doubling | 4 | no |
/// | rkf45 | explicit embedded Runge–Kutta–Fehlberg (4, 5) | 4–5 | no |
/// | rkck | explicit embedded Runge–Kutta Cash–Karp (4, 5) | 4–5 | no |
/// | rk8pd | explicit embedded Runge–Kutta Prince–Dormand (8, 9) | 8–9 | no |
/// | rk1imp | implicit (backward) Euler, error by step doubling | 1 | yes |
/// | rk2imp | implicit Gaussian Runge–Kutta (implicit midpoint) | 2 | yes |
/// | rk4imp | implicit Gaussian Runge–Kutta, two stages | 4 | yes |
/// | bsimp | implicit Bulirsch–Stoer extrapolation (Bader–Deuflhard) | variable | yes |
/// | msadams | variable-order Adams, Nordsieck form, functional iteration | 1–12 | no |
/// | msbdf | variable-order BDF (Newton iteration) | 1–5 | yes |
///
/// Use dop853 or rk8pd (the library's default) for smooth non-stiff problems at tight
/// tolerances, msbdf or bsimp for stiff ones. dop853 alone offers the RMS error norm
/// (``ErrorNorm``) and an interpolant of its own order (``denseOutputOrder``).
public enum Stepper: String, CaseIterable, Sendable, Codable {
    case rk2, rk4, rkf45, rkck, rk8pd, rk1imp, rk2imp, rk4imp, bsimp, msadams, msbdf, dop853

    /// True when the method needs ∂f/∂y (``ODESystem/jacobian``): rk1imp, rk2imp, rk4imp, bsimp,
    /// msbdf. GSL calls the Jacobian unconditionally for these, so integrating without one throws
    /// ``IntegrationError/missingJacobian(stepper:)`` before any GSL call.
    public var needsJacobian: Bool {
        switch self {
        case .rk1imp, .rk2imp, .rk4imp, .bsimp, .msbdf: true
        case .rk2, .rk4, .rkf45, .rkck, .rk8pd, .msadams, .dop853: false
        }
    }

    /// The order of the interpolant that ``IntegratorOptions/denseOutput`` uses between step ends
    /// (its error inside a step of length h is O(h^{order+1})): 7 for dop853 (its own continuous
    /// extension), 3 for every GSL stepper (the cubic Hermite interpolant from y and f at both
    /// ends: GSL's odeiv2 exposes no stage values to build a higher one from).
    public var denseOutputOrder: Int { self == .dop853 ? 7 : 3 }

    /// True when each step solves an implicit equation: the `needsJacobian` methods and msadams,
    /// whose Adams–Moulton corrector is iterated functionally (so it needs no Jacobian, and it
    /// is not suited to stiff problems).
    public var isImplicit: Bool { needsJacobian || self == .msadams }

    /// True for the linear multistep methods (msadams, msbdf), which keep a history of past
    /// steps and restart at order 1 after a reset.
    public var isMultistep: Bool { self == .msadams || self == .msbdf }

    /// The order p of the local error estimate that the step-size control uses (the lower order
    /// of an embedded pair; 1 for the multistep methods, which start at order 1).
    var errorOrder: Int {
        switch self {
        case .rk2: 2
        case .rk4: 4
        case .rkf45, .rkck: 4
        case .rk8pd, .dop853: 7
        case .rk1imp: 1
        case .rk2imp: 2
        case .rk4imp, .bsimp: 4
        case .msadams, .msbdf: 1
        }
    }

    /// The GSL step type (`nil` for dop853, the toolkit's own).
    var gslType: UnsafePointer<gsl_odeiv2_step_type>? {
        switch self {
        case .dop853: nil
        case .rk2: sftrl_step_rk2()
        case .rk4: sftrl_step_rk4()
        case .rkf45: sftrl_step_rkf45()
        case .rkck: sftrl_step_rkck()
        case .rk8pd: sftrl_step_rk8pd()
        case .rk1imp: sftrl_step_rk1imp()
        case .rk2imp: sftrl_step_rk2imp()
        case .rk4imp: sftrl_step_rk4imp()
        case .bsimp: sftrl_step_bsimp()
        case .msadams: sftrl_step_msadams()
        case .msbdf: sftrl_step_msbdf()
        }
    }

    /// The one-step method used to re-integrate inside an accepted step when locating an event:
    /// the stepper itself, except that the multistep methods (which would restart at order 1)
    /// are replaced by rk8pd (for msadams) and bsimp (for msbdf, which has a Jacobian). dop853
    /// locates with itself.
    var eventLocator: Stepper {
        switch self {
        case .msadams: .rk8pd
        case .msbdf: .bsimp
        default: self
        }
    }
}

/// Where the states of a trace's output times come from (`sftrl flow --output-steps`):
/// `forced`, every output time is an exact step end (steps are cut there);
/// `dense`, steps run free and outputs come from the step's interpolant
/// (``IntegratorOptions/denseOutput``).
public enum OutputSteps: String, CaseIterable, Sendable {
    case forced, dense
}

/// How ``integrate(_:from:y0:to:outputTimes:events:options:)`` steps.
///
/// Error control is GSL's standard one with a_y = 1, a_dydt = 0: a step is accepted when every
/// component's local error estimate satisfies |err_i| ≤ atol + rtol·|y_i|.
public struct IntegratorOptions: Sendable, Codable, Equatable {
    /// The stepping method. Default ``Stepper/rk8pd``.
    public var stepper: Stepper = .rk8pd
    /// Relative tolerance, ≥ 0. Default 1e-8.
    public var rtol: Double = 1e-8
    /// Absolute tolerance, ≥ 0 (rtol and atol may not both be 0). Default 1e-10.
    public var atol: Double = 1e-10
    /// The first trial step |h₀| > 0; GSL shrinks it at once if it is too large. Default 1e-3.
    public var initialStep: Double = 1e-3
    /// Smallest step allowed, ≥ 0: when the controller asks for a smaller one, the integration
    /// stops with ``IntegrationError/noProgress(t:step:)``. Default 0 (no limit; GSL still stops
    /// when a step no longer changes t).
    public var minStep: Double = 0
    /// Largest step allowed, > 0. Default +∞ (no limit). Steps are also cut at output times.
    public var maxStep: Double = .infinity
    /// Most accepted steps before ``IntegrationError/tooManySteps(t:limit:)``, ≥ 1. Steps cut at
    /// output times count. Default 1,000,000.
    public var maxSteps: Int = 1_000_000
    /// Points at which each accepted step's cubic Hermite interpolant is sampled, per step, to
    /// detect event crossings (two crossings closer than about step/samples can be missed).
    /// ≥ 1. Default 16.
    public var eventSamplesPerStep: Int = 16
    /// Absolute accuracy, in units of t, to which an event time is located (on top of 2 ulp of
    /// t), > 0. The located time is also only as good as the integration tolerances allow.
    /// Default 1e-12.
    public var eventTimeTolerance: Double = 1e-12
    /// Record the end time of every accepted step in ``Trajectory/stepTimes``. Default false.
    public var recordStepTimes: Bool = false
    /// How states at output times are obtained. `false` (default): every output time is the exact
    /// end of an integrator step (steps are cut there), so a state carries the integration's own
    /// accuracy. `true`: steps run free to the end time and each output state is the cubic
    /// Hermite interpolant of the accepted step that contains it, from y and f = dy/dt at both
    /// ends (f at the end is the stepper's own when it gives one exactly, as rk8pd, rkf45, rkck
    /// and rk4 do; else one extra evaluation). Accuracy: the interpolant's error inside a step
    /// of length h is at most h⁴/384 · max|y⁗| on that step, on top of the integration error, so
    /// it is only as good as the steps are short; the final state and event locations are
    /// unaffected (they never use it). A terminal event turns it off (outputs are step ends then).
    public var denseOutput: Bool = false
    /// The norm in which a step's error estimate meets the tolerance. Default ``ErrorNorm/max``
    /// (GSL's control; the only one its steppers offer); ``ErrorNorm/rms`` needs dop853.
    public var norm: ErrorNorm = .max
    /// Choose the first trial step of each integration from the problem instead of
    /// `initialStep` (Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4, as scipy's solve_ivp
    /// does): with sc_i = atol + rtol·|y₀,i| and RMS norms, d₀ = ‖y₀/sc‖, d₁ = ‖f₀/sc‖,
    /// h₀ = 0.01·d₀/d₁ (10⁻⁶ when either is below 10⁻⁵), one Euler step to f₁,
    /// d₂ = ‖(f₁ − f₀)/sc‖/h₀, h₁ = (0.01/max(d₁, d₂))^{1/(p+1)} (p the stepper's error order) and
    /// h = min(100·h₀, h₁), clamped to maxStep and the interval. Costs two evaluations of f; saves
    /// the steps GSL otherwise spends growing a small `initialStep` (a factor ≤ 5 per step). The
    /// error control is unchanged. Default false (`initialStep` as given).
    public var automaticInitialStep: Bool = false

    /// All defaults: rk8pd, rtol 1e-8, atol 1e-10, h₀ 1e-3, no step limits, 1,000,000 steps.
    public init() {}

    /// Every field, each with its default.
    public init(stepper: Stepper = .rk8pd, rtol: Double = 1e-8, atol: Double = 1e-10,
                initialStep: Double = 1e-3, minStep: Double = 0, maxStep: Double = .infinity,
                maxSteps: Int = 1_000_000, eventSamplesPerStep: Int = 16,
                eventTimeTolerance: Double = 1e-12, recordStepTimes: Bool = false) {
        self.stepper = stepper
        self.rtol = rtol
        self.atol = atol
        self.initialStep = initialStep
        self.minStep = minStep
        self.maxStep = maxStep
        self.maxSteps = maxSteps
        self.eventSamplesPerStep = eventSamplesPerStep
        self.eventTimeTolerance = eventTimeTolerance
        self.recordStepTimes = recordStepTimes
    }

    /// Throws ``IntegrationError/invalidOptions(_:)`` naming the first field out of range.
    public func validate() throws {
        func bad(_ message: String) -> IntegrationError { .invalidOptions(message) }
        guard rtol.isFinite, rtol >= 0 else { throw bad("rtol must be finite and ≥ 0, got \(rtol)") }
        guard atol.isFinite, atol >= 0 else { throw bad("atol must be finite and ≥ 0, got \(atol)") }
        guard rtol > 0 || atol > 0 else { throw bad("rtol and atol are both 0: set at least one > 0") }
        guard initialStep.isFinite, initialStep > 0 else {
            throw bad("initialStep must be finite and > 0, got \(initialStep)")
        }
        guard minStep.isFinite, minStep >= 0 else { throw bad("minStep must be finite and ≥ 0, got \(minStep)") }
        guard maxStep > 0, !maxStep.isNaN else { throw bad("maxStep must be > 0 (∞ for no limit), got \(maxStep)") }
        guard minStep <= maxStep else { throw bad("minStep \(minStep) exceeds maxStep \(maxStep)") }
        guard maxSteps >= 1 else { throw bad("maxSteps must be ≥ 1, got \(maxSteps)") }
        guard eventSamplesPerStep >= 1 else {
            throw bad("eventSamplesPerStep must be ≥ 1, got \(eventSamplesPerStep)")
        }
        guard eventTimeTolerance.isFinite, eventTimeTolerance > 0 else {
            throw bad("eventTimeTolerance must be finite and > 0, got \(eventTimeTolerance)")
        }
        guard norm == .max || stepper == .dop853 else {
            throw bad("the rms error norm needs the dop853 stepper (GSL's \(stepper.rawValue) controls the max norm only): use norm max or stepper dop853")
        }
    }

    // Codable: a missing key takes its default, and maxStep = ∞ is written as an absent key
    // (JSON has no infinity).
    private enum CodingKeys: String, CodingKey {
        case stepper, rtol, atol, initialStep, minStep, maxStep, maxSteps
        case eventSamplesPerStep, eventTimeTolerance, recordStepTimes, denseOutput, automaticInitialStep, norm
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = IntegratorOptions()
        stepper = try c.decodeIfPresent(Stepper.self, forKey: .stepper) ?? d.stepper
        rtol = try c.decodeIfPresent(Double.self, forKey: .rtol) ?? d.rtol
        atol = try c.decodeIfPresent(Double.self, forKey: .atol) ?? d.atol
        initialStep = try c.decodeIfPresent(Double.self, forKey: .initialStep) ?? d.initialStep
        minStep = try c.decodeIfPresent(Double.self, forKey: .minStep) ?? d.minStep
        maxStep = try c.decodeIfPresent(Double.self, forKey: .maxStep) ?? d.maxStep
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps) ?? d.maxSteps
        eventSamplesPerStep = try c.decodeIfPresent(Int.self, forKey: .eventSamplesPerStep) ?? d.eventSamplesPerStep
        eventTimeTolerance = try c.decodeIfPresent(Double.self, forKey: .eventTimeTolerance) ?? d.eventTimeTolerance
        recordStepTimes = try c.decodeIfPresent(Bool.self, forKey: .recordStepTimes) ?? d.recordStepTimes
        denseOutput = try c.decodeIfPresent(Bool.self, forKey: .denseOutput) ?? d.denseOutput
        automaticInitialStep = try c.decodeIfPresent(Bool.self, forKey: .automaticInitialStep) ?? d.automaticInitialStep
        norm = try c.decodeIfPresent(ErrorNorm.self, forKey: .norm) ?? d.norm
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stepper, forKey: .stepper)
        try c.encode(rtol, forKey: .rtol)
        try c.encode(atol, forKey: .atol)
        try c.encode(initialStep, forKey: .initialStep)
        try c.encode(minStep, forKey: .minStep)
        if maxStep.isFinite { try c.encode(maxStep, forKey: .maxStep) }
        try c.encode(maxSteps, forKey: .maxSteps)
        try c.encode(eventSamplesPerStep, forKey: .eventSamplesPerStep)
        try c.encode(eventTimeTolerance, forKey: .eventTimeTolerance)
        try c.encode(recordStepTimes, forKey: .recordStepTimes)
        if denseOutput { try c.encode(denseOutput, forKey: .denseOutput) }
        if automaticInitialStep { try c.encode(automaticInitialStep, forKey: .automaticInitialStep) }
        if norm != .max { try c.encode(norm, forKey: .norm) }
    }
}
