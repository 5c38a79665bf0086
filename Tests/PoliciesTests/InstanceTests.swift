import Testing
import Foundation
import Linalg
@testable import Policies
import TestSupport

@Suite struct InstanceTests {
    func decode(_ json: String) throws -> Instance {
        try Instance(file: InstanceFile.decode(Data(json.utf8), path: "test.json"))
    }

    @Test func issueExampleLoads() throws {
        let inst = try decode(#"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1.0, "data": [0.7, 0.2, 0.1], "reward": [1.0, 0.0, -1.0], "reference": [0.4, 0.3, 0.3], "start": [0.7, 0.2, 0.1]}]}"#)
        #expect(inst.policy.dimension == 3)
        let p = inst.point().probs[0]
        #expect(maxAbsDiff(p, [0.7, 0.2, 0.1]) < 1e-15)
        #expect(abs(inst.start.reduce(0, +)) < 1e-15)   // centred logits
    }

    @Test func defaultsAreUniformReferenceAndDataStart() throws {
        let inst = try decode(#"{"beta": 0, "policy": {"kind": "tabular"}, "prompts": [{"weight": 2, "data": [0.5, 0.5], "reward": [1, 0]}, {"weight": 6, "data": [0.25, 0.75], "reward": [0, 1]}]}"#)
        #expect(inst.weights == [0.25, 0.75])
        #expect(inst.reference[1] == [0.5, 0.5])
        #expect(maxAbsDiff(inst.point().probs[1], [0.25, 0.75]) < 1e-15)
    }

    @Test(arguments: [
        (#"{"beta": -1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]}"#, "beta"),
        (#"{"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.2], "reward": [0, 0]}]}"#, "prompts[0].data: is not a probability vector"),
        (#"{"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1.2, -0.2], "reward": [0, 0]}]}"#, "negative"),
        (#"{"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0]}]}"#, "lengths must match"),
        (#"{"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 0, "data": [0.5, 0.5], "reward": [0, 1]}]}"#, "sum to 0"),
        (#"{"beta": 1, "policy": {"kind": "cubic"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1]}]}"#, "unknown kind"),
        (#"{"beta": 1, "policy": {"kind": "loglinear"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1]}]}"#, "needs features"),
        (#"{"beta": 1, "policy": {"kind": "loglinear", "features": [[[1, 0], [0]]]}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1]}]}"#, "expected d = 2"),
        (#"{"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1], "reference": [0.5, 0.5, 0]}]}"#, "prompts[0].reference"),
        (#"{"beta": 1, "prompts": []}"#, "missing key \"policy\""),
    ])
    func badInputsNameTheField(json: String, expected: String) {
        do {
            _ = try decode(json)
            Issue.record("accepted a bad instance: \(json)")
        } catch let e as InstanceError {
            #expect(e.description.contains(expected), "message \"\(e)\" should mention \(expected)")
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func flowValidationRefusesZeros() throws {
        let a = try decode(#"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1, 0], "reward": [1, 0]}]}"#)
        #expect(throws: InstanceError.self) { try a.validateForFlows() }
        let b = try decode(#"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0], "reference": [1, 0]}]}"#)
        #expect(throws: InstanceError.self) { try b.validateForFlows() }
        let c = try decode(#"{"beta": 0, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0], "reference": [1, 0]}]}"#)
        try c.validateForFlows()
    }

    @Test func fileRoundTrip() throws {
        let (inst, _) = try randomInstance(seed: 11, loglinear: true, mode: .moderate)
        let back = try Instance(file: inst.file())
        #expect(maxAbsDiff(back.start, inst.start) == 0)
        let (tab, _) = try randomInstance(seed: 12, loglinear: false, mode: .moderate)
        let back2 = try Instance(file: tab.file())
        #expect(maxAbsDiff(back2.point().probs.flatMap { $0 }, tab.point().probs.flatMap { $0 }) < 1e-14)
    }
}

@Suite struct OptimaTests {
    /// The Gibbs tilt is a stationary point of J_β and its value is β E_x log Z_β (Eq. 8).
    @Test func gibbsOptimumTabular() throws {
        for seed in 0..<20 {
            var (inst, _) = try randomInstance(seed: UInt64(seed), loglinear: false, mode: .moderate)
            if inst.beta == 0 { inst.beta = 0.3 }
            let opt = try inst.rlOptimum()
            #expect(opt.gradientNorm < 1e-12)
            let v = inst.value(.rewardRegularized, at: inst.point(opt.theta))
            let closed = inst.weights.indices.reduce(0.0) { $0 + inst.weights[$1] * inst.beta * Dist.logPartition(reference: inst.reference[$1], reward: inst.reward[$1], beta: inst.beta) }
            #expect(abs(v - closed) < 1e-12)
        }
    }

    /// The Gibbs optimum is finite whenever π_ref > 0, over the whole β range `check` generates
    /// (1e-3 … 1e3), even where e^{r/β} underflows: its logits are log π_ref + r/β.
    @Test(arguments: [1e-3, 1e-2, 0.1, 1, 10, 1e3])
    func gibbsOptimumFiniteAtSmallBeta(beta: Double) throws {
        let inst = try Instance(beta: beta, weights: [1, 3], data: [[0.5, 0.3, 0.2], [0.25, 0.75]],
                                reward: [[1, -1, 0.5], [0, 1]], reference: [[1.0 / 3, 1.0 / 3, 1.0 / 3], [0.5, 0.5]])
        let opt = try inst.rlOptimum()
        #expect(opt.theta.allSatisfy { $0.isFinite })
        // Logit differences are the reward differences over β (uniform reference), and the point is stationary.
        #expect(abs((opt.theta[0] - opt.theta[1]) - 2 / beta) <= 1e-12 * max(1, 2 / beta))
        #expect(opt.gradientNorm <= 1e-12)
        // A zero in the reference is the one reason the optimum is not attained.
        let zero = try Instance(beta: beta, weights: [1], data: [[0.5, 0.5]], reward: [[1, 0]], reference: [[1, 0]])
        #expect(throws: OptimumError.self) { _ = try zero.rlOptimum() }
    }

    /// The Fisher matrix is positive semidefinite: no reported eigenvalue is negative, at moderate,
    /// extreme and near-deterministic points of both classes.
    @Test func fisherSpectrumIsNonNegative() throws {
        for seed in 0..<30 {
            for mode in LogitMode.allCases {
                let (inst, theta) = try randomInstance(seed: UInt64(seed), loglinear: seed % 2 == 0, mode: mode)
                let rep = try CurvatureReport(instance: inst, at: theta)
                #expect(rep.fisher.allSatisfy { $0 >= 0 }, "seed \(seed) \(mode): \(rep.fisher)")
            }
        }
        #expect(CurvatureReport.clampRoundoff([-1e-17, 0.5, 2]) == [0, 0.5, 2])
        #expect(CurvatureReport.clampRoundoff([-1e-3, 0.5, 2]) == [-1e-3, 0.5, 2])
    }

    @Test func sftOptimumLoglinearIsStationary() throws {
        for seed in 0..<10 {
            let (inst, _) = try randomInstance(seed: UInt64(seed), loglinear: true, mode: .moderate)
            let opt = try inst.sftOptimum()
            #expect(opt.gradientNorm < 1e-9)
            // Convexity: no random perturbation lowers the loss.
            var g = SeededGenerator(seed: 99)
            let l0 = inst.value(.sft, at: inst.point(opt.theta))
            for _ in 0..<10 {
                let th = opt.theta.map { $0 + 0.1 * g.normal() }
                #expect(inst.value(.sft, at: inst.point(th)) >= l0 - 1e-12)
            }
        }
    }

    @Test func sftOptimumTabularIsData() throws {
        let (inst, _) = try randomInstance(seed: 5, loglinear: false, mode: .moderate)
        let opt = try inst.sftOptimum()
        #expect(maxAbsDiff(inst.point(opt.theta).probs.flatMap { $0 }, inst.data.flatMap { $0 }) < 1e-14)
    }

    /// The SFT Hessian of a tabular policy at p_D is blockdiag q(x)(diag p_D − p_D p_Dᵀ) (r1-local):
    /// on the moving subspace its spectrum has no zero and its null space is the per-prompt 1.
    @Test func spectrumOnMovingSubspace() throws {
        let (inst, _) = try randomInstance(seed: 8, loglinear: false, mode: .moderate)
        let sub = try MovingSubspace(instance: inst)
        #expect(sub.rank == inst.policy.dimension - inst.promptCount)
        let rep = try CurvatureReport(instance: inst, at: try inst.sftOptimum().theta)
        #expect(rep.muSFT > 0)
        #expect(rep.sftHessian.count == sub.rank)
        #expect(rep.gradSFTNorm < 1e-14)
    }
}

/// Instance files are read strictly (issue 13): nothing misspelt or non-finite is silently accepted.
@Suite struct StrictInstanceFileTests {
    func message(_ json: String) -> String? {
        do { _ = try InstanceFile.decode(Data(json.utf8), path: "i.json"); return nil } catch { return "\(error)" }
    }

    let valid = #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0], "reference": [0.5, 0.5]}]}"#

    @Test func aValidFileLoads() throws {
        let f = try InstanceFile.decode(Data(valid.utf8), path: "i.json")
        #expect(f.prompts[0].reference == [0.5, 0.5])
    }

    @Test(arguments: [
        (#"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0], "refrence": [0.9, 0.1]}]}"#,
         #"unknown key "refrence" in prompts[0]; did you mean "reference"?"#),
        (#"{"beta": 0.5, "policy": {"kind": "tabular", "thetta": [1]}, "prompts": []}"#, #"did you mean "theta"?"#),
        (#"{"beta": 0.5, "beta": 1, "policy": {"kind": "tabular"}, "prompts": []}"#, #"duplicate key "beta""#),
        (#"{"beta": NaN, "policy": {"kind": "tabular"}, "prompts": []}"#, "beta holds NaN"),
        (#"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1e400, 0]}]}"#, "prompts[0].reward[0] holds 1e400"),
        (#"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [1, 0]},]}"#, "line 1, column"),
        ("", "empty"),
        (#"{"seed": 1, "claims": []}"#, "this is a report"),
        (#"{"claim": "eq5", "instance": {"family": "x", "instance": {}}}"#, "jq '.instance.instance'"),
    ])
    func badFilesAreNamed(json: String, expected: String) {
        guard let m = message(json) else { Issue.record("accepted: \(json)"); return }
        #expect(m.contains(expected), "\(m)")
        #expect(m.contains("i.json"))
    }
}
