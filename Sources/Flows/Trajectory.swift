/// Why an integration stopped early. Every case says what to change.
public enum IntegrationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The controller asked for a step below `minStep`, or one too small to change t (GSL_ENOPROG):
    /// the tolerance cannot be met, typically near a blow-up or on a stiff problem.
    case noProgress(t: Double, step: Double)
    /// `maxSteps` accepted steps were taken and t₁ was not reached.
    case tooManySteps(t: Double, limit: Int)
    /// An accepted state, or f at a point no smaller step could avoid, has a NaN or ±∞ component.
    case nonFinite(t: Double, component: Int)
    /// The right-hand side or the Jacobian threw (its error's text is in `message`).
    case userFunction(t: Double, message: String)
    /// An implicit stepper was chosen for a system without a Jacobian.
    case missingJacobian(stepper: Stepper)
    /// Any other GSL failure, with GSL's code and text.
    case gsl(code: Int32, t: Double, message: String)
    /// An argument or option is out of range; the text names it.
    case invalidOptions(String)

    public var description: String {
        switch self {
        case let .noProgress(t, step):
            return "no progress at t = \(t): the step shrank to \(step) without meeting the tolerance "
                + "(the solution may blow up near here, or the problem is stiff); loosen --rtol/--atol, "
                + "stop before t = \(t), or use an implicit stepper (msbdf, bsimp)"
        case let .tooManySteps(t, limit):
            return "reached the limit of \(limit) steps at t = \(t) before the end time; raise --max-steps, "
                + "loosen --rtol, or use an implicit stepper (msbdf, bsimp) if the problem is stiff"
        case let .nonFinite(t, component):
            return "component \(component) of the state became non-finite (NaN or ±∞) near t = \(t): "
                + "the solution blows up or f returned NaN/∞ there; shorten the time horizon, check f, "
                + "or tighten --rtol"
        case let .userFunction(t, message):
            return "the user function failed at t = \(t): \(message)"
        case let .missingJacobian(stepper):
            return "stepper \(stepper.rawValue) needs the Jacobian ∂f/∂y and the system has none: "
                + "give the system a Jacobian or use an explicit stepper (rk8pd, rkf45, msadams)"
        case let .gsl(code, t, message):
            return "GSL error \(code) (\(message))" + (t.isFinite ? " at t = \(t)" : " (before the integration reached a time)")
        case let .invalidOptions(message):
            return "invalid integration request: \(message)"
        }
    }
}

/// Work counters of one integration.
public struct IntegrationStats: Sendable, Codable, Equatable {
    /// Accepted steps of the main integration (steps cut short at output times count).
    public var accepted: Int = 0
    /// Steps of the main integration rejected by the error control or retried at a smaller
    /// size after a stepper failure.
    public var rejected: Int = 0
    /// Every call of f, including those spent locating events.
    public var rhsEvaluations: Int = 0
    /// Every call of the Jacobian, including those spent locating events.
    public var jacobianEvaluations: Int = 0

    public init(accepted: Int = 0, rejected: Int = 0, rhsEvaluations: Int = 0, jacobianEvaluations: Int = 0) {
        self.accepted = accepted
        self.rejected = rejected
        self.rhsEvaluations = rhsEvaluations
        self.jacobianEvaluations = jacobianEvaluations
    }
}

/// The result of ``integrate(_:from:y0:to:outputTimes:events:options:)``.
///
/// Invariants: `times` is the prefix of the requested output times that is not after the end
/// of the integration (all of them unless a terminal event fired), `states[k]` is y(times[k]),
/// `events` are in the order of integration and none is after `finalTime`.
public struct Trajectory: Sendable {
    /// The output times reached, as requested (exact step ends, never interpolated).
    public var times: [Double]
    /// y at each of `times`: `states[k].count == dimension`.
    public var states: [[Double]]
    /// Event crossings, in the order of integration.
    public var events: [EventHit]
    /// Work counters.
    public var stats: IntegrationStats
    /// Where the integration ended: t₁, or the time of the first terminal event.
    public var finalTime: Double
    /// y(finalTime).
    public var finalState: [Double]
    /// The terminal event that stopped the integration, if one did.
    public var terminalEvent: EventHit?
    /// The start time followed by the end of every accepted step, when
    /// ``IntegratorOptions/recordStepTimes`` is set; empty otherwise.
    public var stepTimes: [Double]

    /// The state at the output time `times[k]`, component `i`: `states[k][i]`.
    public subscript(k: Int, i: Int) -> Double { states[k][i] }

    /// True when a terminal event ended the integration before t₁.
    public var stoppedByEvent: Bool { terminalEvent != nil }
}

/// Evenly spaced output times: `count` points from `start` to `end`, both included (count ≥ 2),
/// or `[start]` when count is 1. The last point is exactly `end`.
public func outputGrid(from start: Double, to end: Double, count: Int) -> [Double] {
    precondition(count >= 1, "outputGrid needs count ≥ 1")
    if count == 1 { return [start] }
    let step = (end - start) / Double(count - 1)
    return (0..<count).map { k in k == count - 1 ? end : start + Double(k) * step }
}
