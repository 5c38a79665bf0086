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
    case .rk8pd, .bsimp, .dop853: (1e-10, 1e-8)
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
        #expect(Stepper.allCases.count == 12)
        #expect(Stepper.allCases.filter { $0.denseOutputOrder == 7 } == [.dop853])
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
