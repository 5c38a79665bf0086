import Foundation
import Linalg
import Policies
import Testing
@testable import Flows

@Suite("Pareto front against the flows")
struct ParetoPathTests {
    static func twoPrompt() throws -> Instance {
        try Instance(beta: 0.3, weights: [2, 1], data: [[0.6, 0.3, 0.1], [0.1, 0.2, 0.3, 0.4]],
                     reward: [[0.2, 1.0, -0.5], [1.0, -1.0, 0.5, 0.0]],
                     reference: [[0.5, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]])
    }

    /// The mix:μ flow is gradient descent on μ·L_SFT − (1−μ)·J_β, so a long one ends at the front
    /// point of that μ: an independent check of the exact solver through the integrator.
    @Test func longMixFlowEndsOnTheFront() throws {
        let inst = try ParetoPathTests.twoPrompt()
        for mu in [0.2, 0.5, 0.8] {
            let front = try inst.paretoFront(mus: [mu])[0]
            // The slowest mode decays like e^{−c t} with c ≈ 1e-2 here: integrate to t = 5,000.
            let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "mix:\(mu):5000"), samples: 2,
                                  options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-11, atol: 1e-13))
            let probs = inst.policy.probabilities(run.finalTheta)
            let diff = zip(probs.joined(), front.probs.joined()).map { abs($0 - $1) }.max()!
            #expect(diff < 1e-7, "mu \(mu): flow end differs from the front point by \(diff)")
        }
    }

    @Test func curveDistancesOnAKnownPolyline() {
        func pt(_ mu: Double, _ l: Double, _ j: Double) -> ParetoPoint {
            ParetoPoint(mu: mu, theta: [], probs: [], sftLoss: l, reward: j, rewardReg: j)
        }
        // Vertices (0,0) → (1,1) → (2,1.5), given out of order.
        let c = ParetoCurve(points: [pt(0.5, 1, 1), pt(0, 2, 1.5), pt(1, 0, 0)])
        #expect(c.vertices.map(\.sft) == [0, 1, 2])
        #expect(abs(c.distance(sft: 1, reward: 0) - sqrt(0.5)) < 1e-15)
        #expect(abs(c.distance(sft: 3, reward: 1.5) - 1) < 1e-15)
        #expect(abs(c.rewardGap(sft: 0.5, reward: 0.1) - 0.4) < 1e-15)
        #expect(abs(c.rewardGap(sft: 5, reward: 1) - 0.5) < 1e-15)       // beyond the RL end: its J_β
        #expect(abs(c.sftGap(sft: 1.5, reward: 1.25) - 0) < 1e-15)
        #expect(abs(c.sftGap(sft: 1.5, reward: 0.5) - 1) < 1e-15)
        #expect(abs(c.sftGap(sft: 0.7, reward: -3) - 0.7) < 1e-15)      // below the SFT end: L* = 0
    }

    /// Every point a flow visits is attainable, so its exact gaps to the (convex) front are ≥ 0;
    /// converged pipelines end where their last stage's optimum is: SFT→RL at the RL end, RL→SFT
    /// at the SFT end, mix:μ on the front.
    @Test func pipelinesStayBehindTheFront() throws {
        let inst = try ParetoPathTests.twoPrompt()
        var front = try inst.paretoFront(mus: (1...199).map { Double($0) / 200 })
        let ends = inst.paretoEnds()
        front += [ends.sft!, ends.rl!]
        let curve = ParetoCurve(points: front, exact: { mu in
            let p = inst.exactParetoPoint(mu: mu)!
            return (p.sftLoss, p.rewardReg)
        })
        // Phases of 30,000 time units: the slowest mode of the RL flow decays like e^{−βq·p_min·t}
        // with β·q·p_min ≈ 1.2e-3 here, so every stage converges before the next starts.
        for (name, schedule) in try ParetoPath.standardPipelines(duration: 30000, alternations: 3, mixes: [0.5]) {
            let path = try ParetoPath.run(name: name, instance: inst, schedule: schedule, curve: curve, samples: 41)
            for r in path.rows {
                #expect(r.rewardGap >= -1e-9 && r.sftGap >= -1e-9, "\(name) t = \(r.t): gaps \(r.rewardGap), \(r.sftGap)")
            }
            if name == "sft-then-rl" { #expect(abs(path.final.rewardReg - ends.rl!.rewardReg) < 1e-6, "\(path.final.rewardReg) vs \(ends.rl!.rewardReg)") }
            if name == "rl-then-sft" { #expect(abs(path.final.sftLoss - ends.sft!.sftLoss) < 1e-6) }
            if name == "mix-0.5" { #expect(path.final.distance < 1e-6) }
        }
    }
}
