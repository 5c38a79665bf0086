import Foundation
import Linalg
import Policies
import Testing
@testable import Flows

@Suite("Packed right-hand side and dense output")
struct PackedFlowTests {
    static func packedVelocity(_ flow: PolicyFlow, _ theta: [Double]) -> [Double] {
        let sys = flow.system
        var out = [Double](repeating: 0, count: theta.count)
        theta.withUnsafeBufferPointer { t in out.withUnsafeMutableBufferPointer { try! sys.rhs(0, t, $0) } }
        return out
    }

    static let kinds: [PhaseKind] = [.sft, .rl, .mix(mu: 0.3), .mix(mu: 0), .mix(mu: 1)]

    /// The packed field against the generic core (the path the derivative tests check), at random,
    /// extreme and near-deterministic logits, β = 0, small and large, both classes.
    @Test func packedAgreesWithTheGenericCore() throws {
        var g = SeededGenerator(seed: 12)
        var instances: [Instance] = [try PFFixture.twoPrompt(), try PFFixture.twoPrompt(beta: 0), try PFFixture.twoPrompt(beta: 1e-4),
                                     try PFFixture.twoPrompt(beta: 50), try PFFixture.loglinear(), try PFFixture.threeResponse()]
        instances.append(try Instance(beta: 0.5, weights: [1, 0, 2], data: [[1], [0.5, 0.5], [0.2, 0.8]], reward: [[3], [1, 1], [1, -1]]))
        for inst in instances {
            for kind in PackedFlowTests.kinds {
                let flow = try PolicyFlow(instance: inst, kind: kind)
                #expect(flow.isPacked)
                for scale in [1.0, 30.0] {
                    var theta = inst.start.map { $0 + scale * g.normal() }
                    if scale > 1 { theta[0] = 60 }
                    let a = PackedFlowTests.packedVelocity(flow, theta), b = flow.velocity(at: theta)
                    let err = zip(a, b).map { abs($0 - $1) }.max()!
                    #expect(err <= 1e-13 * max(1, b.map(abs).max()!), "\(kind) scale \(scale): \(err)")
                }
            }
        }
    }

    /// Above the parallel threshold (2¹⁵ logits) the chunked evaluation equals the generic one and
    /// is the same bytes run after run.
    @Test func parallelChunksAgree() throws {
        let inst = try PFFixture.random(prompts: 40, responses: 1024, beta: 0.5, seed: 3)
        #expect(inst.policy.dimension >= PackedFlowField.parallelThreshold)
        let flow = try PolicyFlow(instance: inst, kind: .mix(mu: 0.4))
        let a = PackedFlowTests.packedVelocity(flow, inst.start), b = flow.velocity(at: inst.start)
        #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-15)
        #expect(PackedFlowTests.packedVelocity(flow, inst.start) == a)
    }

    /// A packed and a generic integration of the same schedule end at the same θ (to the
    /// integration tolerance), and the generic path is still reachable.
    @Test func packedAndGenericFlowsAgree() throws {
        let inst = try PFFixture.twoPrompt()
        let generic = try PolicyFlow(instance: inst, kind: .mix(mu: 0.3), packed: false)
        #expect(!generic.isPacked)
        let opts = PFFixture.tight()
        let a = try integrate(try PolicyFlow(instance: inst, kind: .mix(mu: 0.3)).system, from: 0, y0: inst.start, to: 4, options: opts)
        let b = try integrate(generic.system, from: 0, y0: inst.start, to: 4, options: opts)
        #expect(zip(a.finalState, b.finalState).map { abs($0 - $1) }.max()! < 1e-11)
    }

    /// Dense output on y' = −y (y = e^{−t}): each output is within the Hermite bound h⁴/384·max|y⁗|
    /// (= h⁴/384·e^{−t_a} on a step [t_a, t_a + h]) plus the tolerance, it costs fewer evaluations
    /// than exact step ends, and the final state is as accurate as before.
    @Test func denseOutputWithinTheHermiteBound() throws {
        let sys = ODESystem.linear(Matrix([[-1]]))
        let times = (0...200).map { Double($0) * 0.05 }
        var dense = IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12)
        dense.denseOutput = true
        dense.recordStepTimes = true
        let d = try integrate(sys, from: 0, y0: [1], to: 10, outputTimes: times, options: dense)
        let e = try integrate(sys, from: 0, y0: [1], to: 10, outputTimes: times, options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12))
        #expect(d.times == times && e.times == times)
        #expect(d.stats.rhsEvaluations < e.stats.rhsEvaluations / 3)
        var worstRatio = 0.0
        for (t, y) in zip(d.times, d.states) {
            let k = d.stepTimes.lastIndex { $0 <= t }!
            let ta = d.stepTimes[k], h = k + 1 < d.stepTimes.count ? d.stepTimes[k + 1] - ta : 0
            let bound = pow(h, 4) / 384 * exp(-ta) + 1e-9
            let err = abs(y[0] - exp(-t))
            worstRatio = max(worstRatio, err / bound)
            #expect(err <= bound, "t = \(t): error \(err) > bound \(bound) (h = \(h))")
        }
        #expect(abs(d.finalState[0] - exp(-10)) < 1e-12)
        // Exact step ends: every output as accurate as the integration.
        for (t, y) in zip(e.times, e.states) { #expect(abs(y[0] - exp(-t)) < 1e-10) }
        #expect(worstRatio > 0)
    }

    /// runFlow with dense output: same final θ (to tolerance) as exact outputs, trace rows close.
    @Test func runFlowDenseOutput() throws {
        let inst = try PFFixture.twoPrompt()
        let schedule = try Schedule(parsing: "sft:2,rl:3")
        var opts = IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12)
        let exact = try runFlow(instance: inst, schedule: schedule, samples: 101, options: opts)
        opts.denseOutput = true
        let dense = try runFlow(instance: inst, schedule: schedule, samples: 101, options: opts)
        #expect(dense.rows.map(\.t) == exact.rows.map(\.t))
        #expect(zip(dense.finalTheta, exact.finalTheta).map { abs($0 - $1) }.max()! < 1e-9)
        let worst = zip(dense.rows, exact.rows).map { a, b in zip(a.theta, b.theta).map { abs($0 - $1) }.max()! }.max()!
        #expect(worst < 1e-4)
        #expect(dense.stats.rhsEvaluations < exact.stats.rhsEvaluations)
    }
}
