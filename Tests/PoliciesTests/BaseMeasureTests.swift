import Testing
import Foundation
import Linalg
@testable import Policies
import TestSupport

/// The optional base measure of a log-linear prompt: p_θ(y|x) ∝ h(y|x)·exp(θᵀφ(x, y)).
@Suite struct BaseMeasureTests {
    func decode(_ json: String) throws -> Instance {
        try Instance(file: JSONDecoder().decode(InstanceFile.self, from: Data(json.utf8)))
    }

    static let json = #"{"beta": 0.3, "policy": {"kind": "loglinear", "features": [[[1, 0], [0, 1], [1, 1], [-1, 2]]], "theta": [0.4, -0.7]}, "prompts": [{"weight": 1, "data": [0.1, 0.2, 0.3, 0.4], "reward": [1, 0, 2, -1], "reference": [0.4, 0.3, 0.2, 0.1], "base": [2, 0.5, 1e-3, 7]}]}"#

    /// The probabilities are h·e^{θᵀφ} normalised, computed by hand.
    @Test func probabilitiesByHand() throws {
        let inst = try decode(Self.json)
        let h = [2, 0.5, 1e-3, 7.0], z = [0.4, -0.7, -0.3, -1.8]
        let w = zip(h, z).map { $0 * exp($1) }
        let s = w.reduce(0, +)
        #expect(maxAbsDiff(inst.point().probs[0], w.map { $0 / s }) < 1e-15)
        // The file round-trips the base.
        #expect(maxAbsDiff(inst.file().prompts[0].base!, h) < 1e-15)
    }

    /// The strict reader of instance files knows the key.
    @Test func strictReaderReadsTheBase() throws {
        let f = try InstanceFile.decode(Data(Self.json.utf8), path: "test")
        #expect(f.prompts[0].base == [2, 0.5, 1e-3, 7])
    }

    /// Every derivative is still the pull-back through Φ: gradients and Hessians against finite differences.
    @Test(arguments: [Objective.sft, .reward, .rewardRegularized, .klPolicyRef])
    func derivativesAgainstFiniteDifferences(objective: Objective) throws {
        let inst = try decode(Self.json)
        let f: ([Double]) -> Double = { inst.value(objective, at: inst.point($0)) }
        let g = inst.gradient(objective, at: inst.point())
        #expect(maxAbsDiff(g, fdGradient(f, at: inst.start)) < 1e-7)
        let h = inst.hessian(objective, at: inst.point())
        let fd = fdJacobian({ inst.gradient(objective, at: inst.point($0)) }, at: inst.start)
        #expect(maxAbsDiff(h.data, fd.data) < 1e-6)
    }

    @Test(arguments: [
        (#"{"beta": 1, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1], "base": [1, 2]}]}"#, "prompts[0].base: only a loglinear policy"),
        (#"{"beta": 1, "policy": {"kind": "loglinear", "features": [[[1], [0]]]}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1], "base": [1, 0]}]}"#, "prompts[0].base: entry 1 is 0.0"),
        (#"{"beta": 1, "policy": {"kind": "loglinear", "features": [[[1], [0]]]}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1], "base": [1]}]}"#, "lengths must match"),
    ])
    func badBaseNamesTheField(json: String, expected: String) {
        do {
            _ = try decode(json)
            Issue.record("accepted an invalid base")
        } catch {
            #expect("\(error)".contains(expected), "message: \(error)")
        }
    }
}
