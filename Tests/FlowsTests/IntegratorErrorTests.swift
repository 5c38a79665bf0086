import Foundation
import Numerics
import Testing
@testable import Flows

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
