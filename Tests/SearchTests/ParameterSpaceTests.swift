import Testing
import Foundation
import Policies
import Claims
@testable import Search

@Suite struct ParameterSpaceTests {
    func instance() -> ClaimInstance {
        let f = InstanceFile(beta: 0.5, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 0.25, data: [0.5, 0.3, 0.2, 0], reward: [1, 1, -1, 0.5], reference: [0.5, 0.3, 0.2, 0], start: [0.1, 0.2, 0.3, 0.4]),
            .init(weight: 0.75, data: [0.9, 0.1], reward: [0, 2]),
        ])
        return ClaimInstance(family: .tabularMulti, instance: f, parameters: ["B": 0.01, "k": 2])
    }

    @Test func decodingTheInitialPointGivesTheInstanceBack() throws {
        let ci = instance()
        let space = ParameterSpace(ci)
        let back = space.decode(space.initial)
        let a = try #require(ci.instance), b = try #require(back.instance)
        for (p, q) in zip(a.prompts, b.prompts) {
            #expect(zip(p.data, q.data).allSatisfy { abs($0 - $1) < 1e-14 })
            #expect(p.reward == q.reward)
            #expect((p.start == nil) == (q.start == nil) && (p.reference == nil) == (q.reference == nil))
        }
        #expect(abs(back.parameters["B"]! - 0.01) < 1e-15 && back.parameters["k"] == 2)
        #expect(abs(b.beta - 0.5) < 1e-15)
    }

    @Test func tiesZerosAndFixedParametersSurviveAnyMove() throws {
        let ci = instance()
        let space = ParameterSpace(ci)
        // Coordinates: weights 1, prompt 0: data=reference tied (3 supported → 2) + start 3, rewards 3 groups;
        // prompt 1: data 1, rewards 2; beta 1; B 1 (k fixed).
        #expect(space.dimension == 1 + 2 + 3 + 3 + 1 + 2 + 1 + 1)
        let x = space.initial.indices.map { Double($0 % 5) - 2 }
        let f = try #require(space.decode(x).instance)
        #expect(f.prompts[0].data == f.prompts[0].reference, "π_ref = p_D tie kept")
        #expect(f.prompts[0].data[3] == 0, "zero stays zero")
        #expect(f.prompts[0].reward[0] == f.prompts[0].reward[1], "reward tie kept")
        #expect(f.prompts[1].start == nil && f.prompts[1].reference == nil, "absent fields stay absent")
        #expect(f.beta > 0)
        for p in f.prompts {
            #expect(abs(p.data.reduce(0, +) - 1) < 1e-12)
            if let s = p.start { #expect(abs(s.reduce(0, +) - 1) < 1e-12) }
        }
        #expect(abs(f.prompts.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
        #expect(space.decode(x).parameters["k"] == 2)
    }

    @Test func frozenFieldsDoNotMove() throws {
        let space = ParameterSpace(instance(), frozen: ["reward", "beta", "start", "reference"])
        let f = try #require(space.decode(space.initial.map { $0 + 1 }).instance)
        #expect(f.prompts[0].reward == [1, 1, -1, 0.5] && f.beta == 0.5 && f.prompts[0].start == [0.1, 0.2, 0.3, 0.4])
    }
}
