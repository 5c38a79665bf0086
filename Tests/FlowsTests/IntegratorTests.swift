import Foundation
import Numerics
import Testing
import Linalg
@testable import Flows

// MARK: - Systems with closed-form solutions

/// y' = −k·y, y(t) = y₀·e^{−k t}; Jacobian −k.
func decay(_ k: Double) -> ODESystem {
    ODESystem(dimension: 1,
              rhs: { _, y, dydt in dydt[0] = -k * y[0] },
              jacobian: { _, _, dfdy, dfdt in dfdy[0] = -k; dfdt[0] = 0 })
}

/// x'' = −ω²x as (x, v): x = cos ωt, v = −ω sin ωt from (1, 0).
func oscillator(_ omega: Double) -> ODESystem {
    ODESystem(dimension: 2,
              rhs: { _, y, dydt in dydt[0] = y[1]; dydt[1] = -omega * omega * y[0] },
              jacobian: { _, _, dfdy, dfdt in
                  dfdy[0] = 0; dfdy[1] = 1; dfdy[2] = -omega * omega; dfdy[3] = 0
                  dfdt[0] = 0; dfdt[1] = 0
              })
}

/// Logistic y' = y(1 − y): y(t) = 1 / (1 + (1/y₀ − 1)e^{−t}); Jacobian 1 − 2y.
func logistic() -> ODESystem {
    ODESystem(dimension: 1,
              rhs: { _, y, dydt in dydt[0] = y[0] * (1 - y[0]) },
              jacobian: { _, y, dfdy, dfdt in dfdy[0] = 1 - 2 * y[0]; dfdt[0] = 0 })
}

func logisticExact(_ t: Double, y0: Double) -> Double { 1 / (1 + (1 / y0 - 1) * Foundation.exp(-t)) }

struct Boom: Error, CustomStringConvertible {
    var description: String { "boom from the test" }
}

/// Tolerances at which each stepper reaches the decay test in a reasonable number of steps,
/// and the accuracy then expected of the solution (global error, relative).
func decayTolerances(_ s: Stepper) -> (rtol: Double, check: Double) {
    switch s {
    case .rk1imp: (1e-7, 1e-3)  // order 1: about 10⁴ steps, local errors add up
    case .rk2: (1e-7, 1e-5)
    case .rk2imp, .rk4, .rkf45, .rkck, .rk4imp, .msadams, .msbdf: (1e-9, 1e-6)
    case .rk8pd, .bsimp: (1e-10, 1e-8)
    }
}

// MARK: - Accuracy at output times

@Suite("Integrator accuracy")
struct AccuracyTests {
    @Test("exponential decay at output times, every stepper", arguments: Stepper.allCases)
    func exponentialDecay(stepper: Stepper) throws {
        let k = 0.7, y0 = 2.0
        let grid = outputGrid(from: 0, to: 5, count: 11)
        let (rtol, check) = decayTolerances(stepper)
        let options = IntegratorOptions(stepper: stepper, rtol: rtol, atol: 1e-12)
        let traj = try integrate(decay(k), from: 0, y0: [y0], to: 5, outputTimes: grid, options: options)
        #expect(traj.times == grid)  // exact step ends, not interpolated times
        for (t, state) in zip(traj.times, traj.states) {
            let exact = y0 * Foundation.exp(-k * t)
            #expect(state[0].isApproximatelyEqual(to: exact, absoluteTolerance: 1e-12, relativeTolerance: check),
                    "\(stepper) at t = \(t): \(state[0]) vs \(exact)")
        }
        #expect(traj.finalTime == 5)
        #expect(traj.stats.accepted >= grid.count - 1)
        #expect(traj.stats.rhsEvaluations > 0)
        #expect((traj.stats.jacobianEvaluations > 0) == stepper.needsJacobian)
    }

    @Test("harmonic oscillator against cos/sin over several periods", arguments: [Stepper.rk8pd, .msadams, .bsimp])
    func harmonicOscillator(stepper: Stepper) throws {
        let omega = 2.0
        let grid = outputGrid(from: 0, to: 20, count: 41)
        let options = IntegratorOptions(stepper: stepper, rtol: 1e-11, atol: 1e-12)
        let traj = try integrate(oscillator(omega), from: 0, y0: [1, 0], to: 20, outputTimes: grid, options: options)
        for (t, s) in zip(traj.times, traj.states) {
            #expect(s[0].isApproximatelyEqual(to: Foundation.cos(omega * t), absoluteTolerance: 1e-8))
            #expect(s[1].isApproximatelyEqual(to: -omega * Foundation.sin(omega * t), absoluteTolerance: 2e-8))
            // The energy x² + v²/ω² is 1 along the exact flow.
            #expect((s[0] * s[0] + s[1] * s[1] / (omega * omega)).isApproximatelyEqual(to: 1, absoluteTolerance: 1e-8))
        }
    }

    /// A = P·diag(−1, −10⁴)·P⁻¹ with eigenvectors (1, 1) and (1, −1):
    /// y(t) = e^{−t}(1, 1) + e^{−10⁴t}(1, −1) from y₀ = (2, 0).
    @Test("stiff linear system with msbdf and bsimp", arguments: [Stepper.msbdf, .bsimp])
    func stiffLinear(stepper: Stepper) throws {
        let a = Matrix([[-5000.5, 4999.5], [4999.5, -5000.5]])
        let grid = [0.001, 0.01, 0.1, 1, 5, 10]
        let options = IntegratorOptions(stepper: stepper, rtol: 1e-9, atol: 1e-12)
        let traj = try integrate(.linear(a), from: 0, y0: [2, 0], to: 10, outputTimes: grid, options: options)
        for (t, s) in zip(traj.times, traj.states) {
            let slow = Foundation.exp(-t), fast = Foundation.exp(-10_000 * t)
            #expect(s[0].isApproximatelyEqual(to: slow + fast, absoluteTolerance: 1e-9, relativeTolerance: 1e-6), "t = \(t)")
            #expect(s[1].isApproximatelyEqual(to: slow - fast, absoluteTolerance: 1e-9, relativeTolerance: 1e-6), "t = \(t)")
        }
        // An explicit method is held to |h| ≲ 3/10⁴ by stability over the whole interval.
        let explicit = try integrate(.linear(a), from: 0, y0: [2, 0], to: 10,
                                     options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-9, atol: 1e-12))
        #expect(traj.stats.accepted * 5 < explicit.stats.accepted,
                "\(stepper): \(traj.stats.accepted) steps vs rk8pd \(explicit.stats.accepted)")
    }

    @Test("an explicit and an implicit stepper agree on the logistic equation")
    func logisticAgreement() throws {
        let grid = outputGrid(from: 0, to: 8, count: 17)
        let y0 = 0.1
        let explicit = try integrate(logistic(), from: 0, y0: [y0], to: 8, outputTimes: grid,
                                     options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12))
        let implicit = try integrate(logistic(), from: 0, y0: [y0], to: 8, outputTimes: grid,
                                     options: IntegratorOptions(stepper: .rk4imp, rtol: 1e-10, atol: 1e-12))
        for k in grid.indices {
            let exact = logisticExact(grid[k], y0: y0)
            #expect(explicit[k, 0].isApproximatelyEqual(to: exact, absoluteTolerance: 1e-9))
            #expect(implicit[k, 0].isApproximatelyEqual(to: exact, absoluteTolerance: 1e-8))
            #expect(explicit[k, 0].isApproximatelyEqual(to: implicit[k, 0], absoluteTolerance: 1e-8))
        }
    }

    @Test("backward integration recovers the initial state")
    func backward() throws {
        let k = 1.3
        let yEnd = Foundation.exp(-2 * k)
        let traj = try integrate(decay(k), from: 2, y0: [yEnd], to: 0, outputTimes: [2, 1, 0],
                                 options: IntegratorOptions(rtol: 1e-11, atol: 1e-14))
        #expect(traj.times == [2, 1, 0])
        #expect(traj[1, 0].isApproximatelyEqual(to: Foundation.exp(-k), relativeTolerance: 1e-9))
        #expect(traj.finalState[0].isApproximatelyEqual(to: 1, relativeTolerance: 1e-9))
    }

    @Test("t1 = t0 returns y0; output times equal to t0 are recorded")
    func emptyInterval() throws {
        let traj = try integrate(decay(1), from: 3, y0: [4], to: 3, outputTimes: [3, 3])
        #expect(traj.times == [3, 3])
        #expect(traj.states == [[4], [4]])
        #expect(traj.finalState == [4])
        #expect(traj.stats.accepted == 0)
    }

    @Test("maxStep bounds every step; recorded step times are increasing")
    func maxStepIsHonoured() throws {
        let options = IntegratorOptions(maxStep: 0.05, recordStepTimes: true)
        let traj = try integrate(decay(0.1), from: 0, y0: [1], to: 1, options: options)
        #expect(traj.stepTimes.first == 0 && traj.stepTimes.last == 1)
        #expect(traj.stepTimes.count == traj.stats.accepted + 1)
        for (a, b) in zip(traj.stepTimes, traj.stepTimes.dropFirst()) {
            #expect(b > a && b - a <= 0.05 * (1 + 1e-12))
        }
    }
}

// MARK: - Events

@Suite("Event location")
struct EventTests {
    @Test("y = e^{−t} crosses 0.5 at ln 2", arguments: [Stepper.rk8pd, .rkf45, .msadams, .msbdf, .bsimp])
    func halfLife(stepper: Stepper) throws {
        let half = Event(name: "half", level: 0.5, direction: .down) { _, y in y[0] }
        let options = IntegratorOptions(stepper: stepper, rtol: 1e-10, atol: 1e-12)
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 3, events: [half], options: options)
        try #require(traj.events.count == 1)
        let hit = traj.events[0]
        #expect(hit.name == "half" && hit.index == 0 && hit.direction == .down)
        #expect(hit.t.isApproximatelyEqual(to: Foundation.log(2), absoluteTolerance: 1e-8), "\(stepper): \(hit.t)")
        #expect(hit.y[0].isApproximatelyEqual(to: 0.5, absoluteTolerance: 1e-8))
        #expect(traj.finalTime == 3 && !traj.stoppedByEvent)
    }

    /// Backward from y(2) = e^{−2}, y grows: in the order of integration it crosses 0.5 upward at ln 2.
    @Test("events during backward integration")
    func backwardEvent() throws {
        let half = Event(name: "half", level: 0.5, direction: .up) { _, y in y[0] }
        let traj = try integrate(decay(1), from: 2, y0: [Foundation.exp(-2)], to: 0, events: [half],
                                 options: IntegratorOptions(rtol: 1e-10, atol: 1e-12))
        try #require(traj.events.count == 1)
        #expect(traj.events[0].direction == .up)
        #expect(traj.events[0].t.isApproximatelyEqual(to: Foundation.log(2), absoluteTolerance: 1e-8))
    }

    @Test("a direction filter ignores crossings the other way")
    func directionFilter() throws {
        let up = Event(name: "up", level: 0.5, direction: .up) { _, y in y[0] }
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 3, events: [up])
        #expect(traj.events.isEmpty)
    }

    @Test("a terminal event ends the integration at the crossing")
    func terminal() throws {
        let half = Event(name: "half", level: 0.5, isTerminal: true) { _, y in y[0] }
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 3, outputTimes: [0, 0.5, 1, 2], events: [half],
                                 options: IntegratorOptions(rtol: 1e-10, atol: 1e-12))
        #expect(traj.times == [0, 0.5])
        #expect(traj.stoppedByEvent)
        #expect(traj.finalTime.isApproximatelyEqual(to: Foundation.log(2), absoluteTolerance: 1e-9))
        #expect(traj.finalState[0].isApproximatelyEqual(to: 0.5, absoluteTolerance: 1e-9))
        #expect(traj.terminalEvent == traj.events.last)
    }

    /// g = (y − 0.6)(y − 0.55) along y = e^{−t}: down through 0 at ln(1/0.6), up at ln(1/0.55), 0.087
    /// apart; at rtol 1e-3 rk8pd takes one step over both, so the step ends see g > 0 twice.
    @Test("two crossings inside one accepted step are both found, the first one first")
    func doubleCrossingInOneStep() throws {
        let band = Event(name: "band") { _, y in (y[0] - 0.6) * (y[0] - 0.55) }
        let first = Foundation.log(1 / 0.6), second = Foundation.log(1 / 0.55)
        let options = IntegratorOptions(rtol: 1e-3, atol: 1e-6, recordStepTimes: true)
        let traj = try integrate(decay(1), from: 0, y0: [1], to: 2, events: [band], options: options)
        let spanning = zip(traj.stepTimes, traj.stepTimes.dropFirst()).contains { $0 < first && $1 > second }
        try #require(spanning, "no step spans both crossings: \(traj.stepTimes)")
        try #require(traj.events.count == 2, "\(traj.events)")
        #expect(traj.events[0].direction == .down && traj.events[1].direction == .up)
        // rk8pd at rtol 1e-3 is far more accurate than 1e-3 on this smooth problem.
        #expect(traj.events[0].t.isApproximatelyEqual(to: first, absoluteTolerance: 1e-6), "\(traj.events[0].t)")
        #expect(traj.events[1].t.isApproximatelyEqual(to: second, absoluteTolerance: 1e-6), "\(traj.events[1].t)")

        // Looking at step ends only (one sample per step) misses both: scipy issue 9228.
        var endsOnly = options
        endsOnly.eventSamplesPerStep = 1
        let blind = try integrate(decay(1), from: 0, y0: [1], to: 2, events: [band], options: endsOnly)
        #expect(blind.events.isEmpty)
    }

    /// x = cos 3t falls through 0.5 at (π/3 + 2πj)/3 and through 0.2 at (acos 0.2 + 2πj)/3, 0.107
    /// later; v = −3 sin 3t is 0 at πj/3. The events are listed latest-first, and at rtol 1e-6 one
    /// step holds both falls, so only sorting puts the hits in time order.
    @Test("hits of several events are reported in time order")
    func timeOrder() throws {
        let events = [
            Event(name: "v=0") { _, y in y[1] },
            Event(name: "x<0.2", level: 0.2, direction: .down) { _, y in y[0] },
            Event(name: "x<0.5", level: 0.5, direction: .down) { _, y in y[0] },
        ]
        let omega = 3.0, end = 4.0
        let options = IntegratorOptions(rtol: 1e-6, atol: 1e-9, recordStepTimes: true)
        let traj = try integrate(oscillator(omega), from: 0, y0: [1, 0], to: end, events: events, options: options)
        var expected: [(String, Double)] = []
        for j in 0..<10 {
            let turn = 2 * Double.pi * Double(j)
            expected.append(("x<0.5", (Double.pi / 3 + turn) / omega))
            expected.append(("x<0.2", (Foundation.acos(0.2) + turn) / omega))
            expected.append(("v=0", Double.pi * Double(j + 1) / omega))
        }
        expected = expected.filter { $0.1 < end }.sorted { $0.1 < $1.1 }
        let shared = zip(traj.stepTimes, traj.stepTimes.dropFirst()).contains { a, b in
            expected.filter { $0.1 > a && $0.1 < b }.count >= 2
        }
        try #require(shared, "no step holds two events: \(traj.stepTimes)")
        try #require(traj.events.count == expected.count, "\(traj.events.map { ($0.name, $0.t) })")
        for (hit, want) in zip(traj.events, expected) {
            #expect(hit.name == want.0)
            #expect(hit.t.isApproximatelyEqual(to: want.1, absoluteTolerance: 1e-6), "\(hit.name) \(hit.t) vs \(want.1)")
        }
    }

    @Test("Brent's method finds cos x = 0 at π/2 and returns an exact zero endpoint")
    func brent() {
        var calls = 0
        let root = findRoot(1, 2, Foundation.cos(1), Foundation.cos(2), tolerance: 1e-14) { x in
            calls += 1
            return Foundation.cos(x)
        }
        #expect(root.isApproximatelyEqual(to: Double.pi / 2, absoluteTolerance: 1e-13))
        #expect(calls < 20)
        #expect(findRoot(0, 1, -1, 0, tolerance: 1e-12) { _ in 1 } == 1)
    }
}

// MARK: - Errors

@Suite("Integration errors")
struct ErrorTests {
    @Test("an implicit stepper without a Jacobian throws missingJacobian", arguments: Stepper.allCases.filter(\.needsJacobian))
    func missingJacobian(stepper: Stepper) {
        let system = ODESystem(dimension: 1) { _, y, dydt in dydt[0] = -y[0] }
        #expect(throws: IntegrationError.missingJacobian(stepper: stepper)) {
            try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(stepper: stepper))
        }
        #expect("\(IntegrationError.missingJacobian(stepper: stepper))".contains("explicit stepper"))
    }

    @Test("steppers that need no Jacobian run without one", arguments: Stepper.allCases.filter { !$0.needsJacobian })
    func noJacobianNeeded(stepper: Stepper) throws {
        let system = ODESystem(dimension: 1) { _, y, dydt in dydt[0] = -y[0] }
        let traj = try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(stepper: stepper, rtol: 1e-6))
        #expect(traj.finalState[0].isApproximatelyEqual(to: Foundation.exp(-1), relativeTolerance: 1e-4))
    }

    @Test("a right-hand side that throws aborts with its message", arguments: Stepper.allCases)
    func throwingRHS(stepper: Stepper) {
        let system = ODESystem(dimension: 1,
                               rhs: { t, y, dydt in
                                   if t > 0.5 { throw Boom() }
                                   dydt[0] = -y[0]
                               },
                               jacobian: { _, _, dfdy, dfdt in dfdy[0] = -1; dfdt[0] = 0 })
        do {
            _ = try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(stepper: stepper, rtol: 1e-6))
            Issue.record("\(stepper): no error")
        } catch let IntegrationError.userFunction(t, message) {
            #expect(t > 0.5 && t <= 1)
            #expect(message.contains("boom from the test"))
        } catch {
            Issue.record("\(stepper): unexpected \(error)")
        }
    }

    @Test("a Jacobian that throws aborts with its message", arguments: Stepper.allCases.filter(\.needsJacobian))
    func throwingJacobian(stepper: Stepper) {
        let system = ODESystem(dimension: 1,
                               rhs: { _, y, dydt in dydt[0] = -y[0] },
                               jacobian: { _, _, _, _ in throw Boom() })
        #expect {
            try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(stepper: stepper))
        } throws: { error in
            guard case let IntegrationError.userFunction(_, message) = error else { return false }
            return message.contains("Jacobian") && message.contains("boom from the test")
        }
    }

    @Test("f returning NaN stops with nonFinite near where it starts", arguments: [Stepper.rk8pd, .rk2, .msadams, .msbdf, .bsimp])
    func nanFromRHS(stepper: Stepper) {
        let system = ODESystem(dimension: 2,
                               rhs: { t, y, dydt in dydt[0] = -y[0]; dydt[1] = t > 0.5 ? .nan : 1 },
                               jacobian: { _, _, dfdy, dfdt in
                                   dfdy[0] = -1; dfdy[1] = 0; dfdy[2] = 0; dfdy[3] = 0; dfdt[0] = 0; dfdt[1] = 0
                               })
        #expect {
            try integrate(system, from: 0, y0: [1, 0], to: 1, options: IntegratorOptions(stepper: stepper))
        } throws: { error in
            guard case let IntegrationError.nonFinite(t, component) = error else { return false }
            return component == 1 && abs(t - 0.5) < 1e-6
        }
    }

    /// y' = y², y(0) = 1: y = 1/(1 − t) blows up at t = 1.
    @Test("a blow-up stops with a clear error near the singularity", arguments: [Stepper.rk8pd, .rkf45, .msadams, .msbdf, .bsimp])
    func blowUp(stepper: Stepper) {
        let system = ODESystem(dimension: 1,
                               rhs: { _, y, dydt in dydt[0] = y[0] * y[0] },
                               jacobian: { _, y, dfdy, dfdt in dfdy[0] = 2 * y[0]; dfdt[0] = 0 })
        do {
            _ = try integrate(system, from: 0, y0: [1], to: 2, options: IntegratorOptions(stepper: stepper))
            Issue.record("\(stepper): integrated through a singularity")
        } catch let error as IntegrationError {
            switch error {
            case let .noProgress(t, step):
                #expect(abs(t - 1) < 1e-3, "\(stepper): \(error)")
                #expect(abs(step) < 1e-6, "\(stepper): \(error)")
            case let .nonFinite(t, _), let .tooManySteps(t, _):
                #expect(abs(t - 1) < 1e-3, "\(stepper): \(error)")
            default:
                Issue.record("\(stepper): unexpected \(error)")
            }
            #expect(!error.description.isEmpty)
        } catch {
            Issue.record("\(stepper): not an IntegrationError: \(error)")
        }
    }

    @Test("too few maxSteps stops with tooManySteps")
    func tooManySteps() throws {
        #expect {
            try integrate(decay(1), from: 0, y0: [1], to: 100, options: IntegratorOptions(maxSteps: 5))
        } throws: { error in
            guard case let IntegrationError.tooManySteps(t, limit) = error else { return false }
            return limit == 5 && t > 0 && t < 100 && "\(error)".contains("--max-steps")
        }
    }

    @Test("a step below minStep stops with noProgress")
    func minStep() throws {
        let system = ODESystem(dimension: 1) { _, y, dydt in dydt[0] = y[0] * y[0] }
        #expect {
            try integrate(system, from: 0, y0: [1], to: 2, options: IntegratorOptions(minStep: 1e-4))
        } throws: { error in
            guard case let IntegrationError.noProgress(t, step) = error else { return false }
            return t < 1 && t > 0.99 && abs(step) < 1e-4
        }
    }

    @Test("bad arguments throw invalidOptions")
    func invalidArguments() throws {
        let system = decay(1)
        func rejects(_ what: String, _ body: () throws -> Trajectory) {
            #expect(throws: IntegrationError.self, "\(what)") { _ = try body() }
        }
        rejects("negative rtol") { try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(rtol: -1)) }
        rejects("zero tolerances") { try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(rtol: 0, atol: 0)) }
        rejects("zero maxSteps") { try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(maxSteps: 0)) }
        rejects("minStep > maxStep") { try integrate(system, from: 0, y0: [1], to: 1, options: IntegratorOptions(minStep: 1, maxStep: 0.1)) }
        rejects("wrong y0 size") { try integrate(system, from: 0, y0: [1, 2], to: 1) }
        rejects("NaN in y0") { try integrate(system, from: 0, y0: [.nan], to: 1) }
        rejects("infinite t1") { try integrate(system, from: 0, y0: [1], to: .infinity) }
        rejects("unsorted outputs") { try integrate(system, from: 0, y0: [1], to: 1, outputTimes: [0.5, 0.2]) }
        rejects("output outside") { try integrate(system, from: 0, y0: [1], to: 1, outputTimes: [1.5]) }
        rejects("forward outputs backward") { try integrate(system, from: 1, y0: [1], to: 0, outputTimes: [0.2, 0.5]) }
    }
}

// MARK: - Options and performance

@Suite("Options and performance")
struct OptionsTests {
    @Test("options round-trip through JSON; ∞ maxStep is omitted and missing keys take defaults")
    func codable() throws {
        let options = IntegratorOptions(stepper: .msbdf, rtol: 1e-6, maxSteps: 42)
        let data = try JSONEncoder().encode(options)
        #expect(!String(decoding: data, as: UTF8.self).contains("maxStep\""))
        #expect(try JSONDecoder().decode(IntegratorOptions.self, from: data) == options)
        let partial = try JSONDecoder().decode(IntegratorOptions.self, from: Data(#"{"stepper":"bsimp","maxStep":0.5}"#.utf8))
        #expect(partial == IntegratorOptions(stepper: .bsimp, maxStep: 0.5))
    }

    @Test("stepper classification")
    func classification() {
        #expect(Stepper.allCases.count == 11)
        #expect(Stepper.allCases.filter(\.needsJacobian) == [.rk1imp, .rk2imp, .rk4imp, .bsimp, .msbdf])
        #expect(Stepper.msadams.isImplicit && !Stepper.msadams.needsJacobian)
        #expect(Stepper.allCases.filter(\.isMultistep) == [.msadams, .msbdf])
    }

    /// 512 undamped oscillators (x_j, v_j)' = (v_j, −ω_j² x_j), ω_j ∈ [1, 4], as one system of
    /// dimension 1024, to t = 10 at rtol 1e-10 with rk8pd; x_j = cos ω_j t, v_j = −ω_j sin ω_j t.
    @Test("a 1024-dimensional cheap system runs fast")
    func largeSystem() throws {
        let n = 1024
        let omega = (0..<(n / 2)).map { 1 + 3 * Double($0) / Double(n / 2) }
        let system = ODESystem(dimension: n) { _, y, dydt in
            omega.withUnsafeBufferPointer { w in
                for j in 0..<(n / 2) {
                    dydt[2 * j] = y[2 * j + 1]
                    dydt[2 * j + 1] = -w[j] * w[j] * y[2 * j]
                }
            }
        }
        let y0 = (0..<n).map { $0 % 2 == 0 ? 1.0 : 0.0 }
        let options = IntegratorOptions(rtol: 1e-10, atol: 1e-12)
        var traj: Trajectory?
        let elapsed = try ContinuousClock().measure {
            traj = try integrate(system, from: 0, y0: y0, to: 10, outputTimes: [5, 10], options: options)
        }
        let result = try #require(traj)
        for j in stride(from: 0, to: n / 2, by: 31) {
            let w = omega[j]
            #expect(result.finalState[2 * j].isApproximatelyEqual(to: Foundation.cos(10 * w), absoluteTolerance: 1e-7))
            #expect(result.finalState[2 * j + 1].isApproximatelyEqual(to: -w * Foundation.sin(10 * w), absoluteTolerance: 4e-7))
        }
        #if DEBUG
        let limit = Duration.seconds(30)
        #else
        let limit = Duration.seconds(1)
        #endif
        print("1024-dim rk8pd to t=10 at rtol 1e-10: \(elapsed), \(result.stats)")
        #expect(elapsed < limit)
    }
}
