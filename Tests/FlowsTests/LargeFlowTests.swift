import Foundation
import Linalg
import Numerics
import Policies
import Testing
@testable import Flows

@Suite("Policy flows at scale")
struct LargeFlowTests {
    /// 16 prompts × 64 responses (1,024 logits) over a three-phase schedule to t = 10, against an
    /// independent reference: the tabular velocity written out by hand and classical RK4 with a
    /// fixed step of 0.005 restarted at each phase boundary (its error, O(h⁴), is far below 1e-8).
    @Test("64 responses × 16 prompts to t = 10 against an independent fixed-step RK4, to 1e-8")
    func largeAgainstRK4() throws {
        let inst = try PFFixture.random(prompts: 16, responses: 64, beta: 0.5, seed: 2026)
        let schedule = try Schedule(parsing: "sft:3,rl:4,mix:0.3:3")
        let run = try runFlow(instance: inst, schedule: schedule, samples: 2,
                              options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-10, atol: 1e-12))
        var y = inst.start
        for phase in schedule.phases {
            let (rl, sft) = phase.kind.weights
            y = PFReference.rk4({ PFReference.tabularVelocity(inst, $0, rl: rl, sft: sft) }, y0: y,
                                to: phase.duration, steps: Int(phase.duration / 0.005))
        }
        let diff = zip(run.finalTheta, y).map { abs($0 - $1) }.max()!
        let moved = zip(inst.start, y).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-8, "max |θ_gsl − θ_rk4| = \(diff)")
        #expect(moved > 0.1, "the flow should move θ visibly (moved \(moved))")
    }
}
