import Foundation
import Testing
import Policies
@testable import Flows

/// `sftrl pareto` on autoregressive instances (the front of the sequence twin) and the practical
/// methods' limits against the front.
@Suite struct ParetoMethodTests {
    /// The mix:μ flow is gradient descent on μ·L_SFT − (1 − μ)·J_β over the autoregressive class
    /// itself: run long, it must end at the twin's front point of that μ, in (L_SFT, J_β) as computed
    /// by the autoregressive instance's own objectives.
    @Test func autoregressiveFrontIsWhereTheMixFlowEnds() throws {
        let inst = try SFixture.autoregressive()
        for mu in [0.3, 0.7] {
            let front = try inst.paretoFront(mus: [mu])[0]
            let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "mix:\(mu):3000"), samples: 2,
                                  options: IntegratorOptions(stepper: .rk8pd, rtol: 1e-11, atol: 1e-13))
            let pt = inst.point(run.finalTheta)
            let l = inst.value(.sft, at: pt), j = inst.value(.rewardRegularized, at: pt)
            #expect(abs(l - front.sftLoss) < 1e-7 && abs(j - front.rewardReg) < 1e-7, "μ \(mu): (\(l), \(j)) vs (\(front.sftLoss), \(front.rewardReg))")
        }
        let ends = inst.paretoEnds()
        #expect(ends.sft != nil && ends.rl != nil)
    }

    /// SFT's and the Gibbs optimum's limits lie on the front (gaps 0), DFT's at infinite SFT loss
    /// with a positive, finite reward gap; the method path starts at θ₀ and carries the method's id.
    @Test func limitsAgainstTheFront() throws {
        let inst = try SFixture.tabular(beta: 0.3)
        var plan = ParetoStudy.Plan(instance: inst, file: InstanceFile(beta: 0.3, policy: .init(kind: "tabular"), prompts: []), name: "t",
                                    mus: (1...19).map { Double($0) / 20 }, paths: [], samples: 5, options: IntegratorOptions())
        plan.methods = [PracticalSettings(method: .sft), PracticalSettings(method: .gibbs), PracticalSettings(method: .dft)]
        plan.methodDuration = 4
        let s = try ParetoStudy.compute(plan)
        #expect(s.limits.map(\.name) == ["sft", "gibbs", "dft"])
        for l in s.limits.prefix(2) { #expect(abs(l.rewardGap) < 1e-9 && abs(l.sftGap) < 1e-9, "\(l.name): \(l.rewardGap), \(l.sftGap)") }
        let dft = s.limits[2]
        #expect(dft.sftLoss == .infinity && dft.sftGap == .infinity && dft.rewardGap > 1e-3 && dft.rewardGap.isFinite)
        #expect(s.paths.map(\.spec) == ["sft", "gibbs", "dft"] && s.paths[0].rows.count == 5 && s.paths[0].rows[0].t == 0)
        let start = inst.point(inst.start)
        #expect(abs(s.paths[2].rows[0].sftLoss - inst.value(.sft, at: start)) < 1e-12)
    }
}
