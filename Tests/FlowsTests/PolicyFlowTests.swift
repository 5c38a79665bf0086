import Foundation
import Linalg
import Numerics
import Policies
import Testing
@testable import Flows

@Suite("Policy flows")
struct PolicyFlowTests {
    @Test("two responses, β = 0: the RL flow's logit gap follows sinh Δ + Δ = sinh Δ₀ + Δ₀ + (r₁−r₂)t")
    func rlTwoResponseClosedForm() throws {
        let inst = try PFFixture.twoResponse(beta: 0, data: [0.5, 0.5], reward: [1, -0.5], start: [0.2, 0.8])
        let schedule = try Schedule(parsing: "rl:6")
        let run = try runFlow(instance: inst, schedule: schedule, samples: 13, options: PFFixture.tight())
        let delta0 = inst.start[0] - inst.start[1]
        #expect(run.rows.count == 13)
        for row in run.rows {
            let delta = row.theta[0] - row.theta[1]
            let exact = PFReference.rlGap(delta0: delta0, rewardGap: 1.5, t: row.t)
            #expect(delta.isApproximatelyEqual(to: exact, absoluteTolerance: 1e-9), "t = \(row.t): Δ = \(delta), exact \(exact)")
            // and the reward is r₁σ(Δ) + r₂(1 − σ(Δ))
            let j = 1 * PFReference.sigmoid(exact) - 0.5 * (1 - PFReference.sigmoid(exact))
            #expect(row.values[.reward].isApproximatelyEqual(to: j, absoluteTolerance: 1e-9))
        }
    }

    @Test("two responses: the SFT flow's logit gap satisfies F(Δ(t)) = F(Δ₀) − 2t and tends to log(d/(1−d))")
    func sftTwoResponseClosedForm() throws {
        for (d, start) in [(0.8, [0.1, 0.9]), (0.3, [0.95, 0.05])] {
            let inst = try PFFixture.twoResponse(beta: 0.7, data: [d, 1 - d], reward: [1, 0], start: start)
            let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "sft:4"), samples: 9, options: PFFixture.tight())
            let delta0 = inst.start[0] - inst.start[1]
            for row in run.rows {
                let exact = PFReference.sftGap(delta0: delta0, data: d, t: row.t)
                #expect((row.theta[0] - row.theta[1]).isApproximatelyEqual(to: exact, absoluteTolerance: 1e-9), "d = \(d), t = \(row.t)")
            }
            let long = try runFlow(instance: inst, schedule: try Schedule(parsing: "sft:150"), samples: 2, options: PFFixture.tight())
            let gap = long.finalTheta[0] - long.finalTheta[1]
            #expect(gap.isApproximatelyEqual(to: Foundation.log(d / (1 - d)), absoluteTolerance: 1e-9))
        }
    }

    /// Near its limit θ* a flow is linear, θ̇ ≈ −H(θ − θ*), so the error decays like e^{−μt} with
    /// μ the smallest curvature on the moving subspace; integrating to t = 40/μ leaves ~e^{−40}.
    @Test("the SFT flow converges to p_D (several prompts)")
    func sftConvergesToData() throws {
        let inst = try PFFixture.twoPrompt()
        let mu = try CurvatureReport(instance: inst, at: try inst.sftOptimum().theta).muSFT
        let horizon = 40 / mu
        let run = try runFlow(instance: inst, schedule: try Schedule(phases: [Phase(.sft, duration: horizon)]), samples: 2,
                              options: PFFixture.tight())
        let p = inst.policy.probabilities(run.finalTheta)
        for x in inst.data.indices {
            for y in inst.data[x].indices {
                #expect(p[x][y].isApproximatelyEqual(to: inst.data[x][y], absoluteTolerance: 1e-10), "x = \(x), y = \(y), t = \(horizon)")
            }
        }
        #expect(run.rows.last!.values[.klDataPolicy] < 1e-16)
    }

    @Test("the KL-regularised RL flow converges to π_ref·e^{r/β}/Z")
    func rlConvergesToGibbs() throws {
        for inst in [try PFFixture.threeResponse(), try PFFixture.twoPrompt(beta: 0.8)] {
            let mu = try CurvatureReport(instance: inst, at: try inst.rlOptimum().theta).muRL
            let horizon = 40 / mu
            let run = try runFlow(instance: inst, schedule: try Schedule(phases: [Phase(.rl, duration: horizon)]), samples: 2,
                                  options: PFFixture.tight())
            let p = inst.policy.probabilities(run.finalTheta)
            for x in inst.data.indices {
                let w = inst.reference[x].indices.map { inst.reference[x][$0] * Foundation.exp(inst.reward[x][$0] / inst.beta) }
                let z = w.reduce(0, +)
                for y in w.indices {
                    #expect(p[x][y].isApproximatelyEqual(to: w[y] / z, absoluteTolerance: 1e-10), "x = \(x), y = \(y), t = \(horizon)")
                }
            }
            #expect(run.rows.last!.values[.gradRLNorm] < 1e-10)
        }
    }

    @Test("Σ_y θ_{x,y} is conserved per prompt along sft, rl and mixed phases", arguments: ["sft:3,rl:4,sft:2", "mix:0.3:5,rl:1"])
    func logitSumConserved(spec: String) throws {
        let inst = try PFFixture.twoPrompt()
        let run = try runFlow(instance: inst, schedule: try Schedule(parsing: spec), samples: 21)
        let o = inst.policy.offsets
        func sums(_ th: [Double]) -> [Double] { (0..<(o.count - 1)).map { th[o[$0]..<o[$0 + 1]].reduce(0, +) } }
        let s0 = sums(inst.start)
        for row in run.rows {
            for (a, b) in zip(sums(row.theta), s0) {
                #expect(a.isApproximatelyEqual(to: b, absoluteTolerance: 1e-11), "t = \(row.t)")
            }
        }
        #expect(run.rows.count >= 21)
    }

    @Test("the vector fields are −∇L_SFT, +∇J_β and their mixture, checked against an independent formula")
    func velocityMatchesIndependentFormula() throws {
        let inst = try PFFixture.twoPrompt()
        var g = SeededGenerator(seed: 7)
        let theta = inst.start.map { $0 + g.normal() }
        for (kind, rl, sft) in [(PhaseKind.sft, 0.0, 1.0), (.rl, 1, 0), (.mix(mu: 0.3), 0.7, 0.3)] {
            let v = try PolicyFlow(instance: inst, kind: kind).velocity(at: theta)
            let ref = PFReference.tabularVelocity(inst, theta, rl: rl, sft: sft)
            for i in v.indices { #expect(v[i].isApproximatelyEqual(to: ref[i], absoluteTolerance: 1e-14), "\(kind) [\(i)]") }
        }
    }

    @Test("the Jacobian is the derivative of the velocity (central differences), every phase kind, both classes")
    func jacobianMatchesFiniteDifferences() throws {
        for inst in [try PFFixture.twoPrompt(), try PFFixture.loglinear()] {
            var g = SeededGenerator(seed: 11)
            let theta = inst.start.map { $0 + 0.5 * g.normal() }
            for kind in [PhaseKind.sft, .rl, .mix(mu: 0.6)] {
                let flow = try PolicyFlow(instance: inst, kind: kind)
                let jac = flow.jacobian(at: theta)
                let h = 1e-6
                for k in theta.indices {
                    var a = theta, b = theta
                    a[k] += h; b[k] -= h
                    let va = flow.velocity(at: a), vb = flow.velocity(at: b)
                    for i in theta.indices {
                        let fd = (va[i] - vb[i]) / (2 * h)
                        #expect(jac[i, k].isApproximatelyEqual(to: fd, absoluteTolerance: 1e-8), "\(kind) ∂v_\(i)/∂θ_\(k)")
                    }
                }
            }
        }
    }

    @Test("the mixture with μ = 0 is the RL flow and with μ = 1 the SFT flow")
    func mixtureEndpoints() throws {
        let inst = try PFFixture.twoPrompt()
        for (mix, pure) in [("mix:0:3", "rl:3"), ("mix:1:3", "sft:3")] {
            let a = try runFlow(instance: inst, schedule: try Schedule(parsing: mix), samples: 4)
            let b = try runFlow(instance: inst, schedule: try Schedule(parsing: pure), samples: 4)
            #expect(a.finalTheta == b.finalTheta, "\(mix) vs \(pure)")
            #expect(a.rows.map(\.t) == b.rows.map(\.t))
        }
        // In between, the velocity is the convex combination.
        let v3 = try PolicyFlow(instance: inst, kind: .mix(mu: 0.3)).velocity(at: inst.start)
        let vr = try PolicyFlow(instance: inst, kind: .rl).velocity(at: inst.start)
        let vs = try PolicyFlow(instance: inst, kind: .sft).velocity(at: inst.start)
        for i in v3.indices { #expect(v3[i].isApproximatelyEqual(to: 0.7 * vr[i] + 0.3 * vs[i], absoluteTolerance: 1e-15)) }
    }

    @Test("an explicit and an implicit stepper agree on a schedule", arguments: [Stepper.msbdf, .bsimp, .rk4imp])
    func explicitAndImplicitAgree(implicit: Stepper) throws {
        let inst = try PFFixture.twoPrompt()
        let schedule = try Schedule(parsing: "sft:2,rl:3,mix:0.5:1")
        let a = try runFlow(instance: inst, schedule: schedule, samples: 7, options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-11, atol: 1e-12))
        let b = try runFlow(instance: inst, schedule: schedule, samples: 7, options: IntegratorOptions(stepper: implicit, rtol: 1e-10, atol: 1e-11))
        #expect(b.stats.jacobianEvaluations > 0)
        #expect(a.rows.count == b.rows.count)
        for (ra, rb) in zip(a.rows, b.rows) {
            #expect(ra.t == rb.t)
            for i in ra.theta.indices {
                #expect(ra.theta[i].isApproximatelyEqual(to: rb.theta[i], absoluteTolerance: 1e-7), "\(implicit) t = \(ra.t) [\(i)]")
            }
        }
    }

    @Test("the log-linear class (d < responses) runs a schedule; L_SFT decreases along SFT and J_β increases along RL")
    func loglinearMonotone() throws {
        let inst = try PFFixture.loglinear()
        let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "rl:3,sft:3"), samples: 31)
        for (a, b) in zip(run.rows, run.rows.dropFirst()) {
            if b.phaseIndex == 0 { #expect(b.values[.rewardReg] >= a.values[.rewardReg] - 1e-12) }
            if b.phaseIndex == 1 && a.phaseIndex == 1 { #expect(b.values[.sftLoss] <= a.values[.sftLoss] + 1e-12) }
        }
        #expect(run.rows.last!.values[.gradSFTNorm] < run.rows[10].values[.gradSFTNorm])
    }
}
