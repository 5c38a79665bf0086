import Foundation
import Testing
import Linalg
import Policies
import TestSupport
@testable import Flows

/// LUFFY's expected update (PracticalUpdate+LUFFY) against an independent computation: the
/// gradient, by a 4-point finite difference, of the surrogate Φ(θ′) = Σ over every ordered group
/// P_θ(group)·(1/G)[Σ_i A_i log p_θ′(y_i) + Σ_j A_j Σ_t π_t,θ′/(π_t,θ′ + γ)], with the groups
/// (ordered tuples, not multisets) and the advantages (mean and unbiased std written here) fixed at θ.
@Suite struct LUFFYTests {
    static func autoregressive() throws -> Instance {
        try Instance(file: InstanceFile(beta: 0, policy: .init(kind: "autoregressive", vocab: 1, maxLength: 2), prompts: [
            .init(weight: 1, data: [0.2, 0.3, 0.5], reward: [1, 0, 0.5], reference: nil, start: [0.3, 0.5, 0.2]),
        ]))
    }

    /// Every ordered tuple of length k over 0..<n.
    static func tuples(_ n: Int, _ k: Int) -> [[Int]] {
        k == 0 ? [[]] : tuples(n, k - 1).flatMap { t in (0..<n).map { t + [$0] } }
    }

    static func advantages(_ r: [Double], scaling: AdvantageScaling) -> [Double] {
        let m = r.reduce(0, +) / Double(r.count)
        guard scaling == .group else { return r.map { $0 - m } }
        let s = r.count > 1 ? (r.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(r.count - 1)).squareRoot() : 0
        return r.map { ($0 - m) / (s + 1e-4) }
    }

    static func independent(_ inst: Instance, g: Int, off: Int, gamma: Double, scaling: AdvantageScaling) -> [Double] {
        let nodes = DecisionNodes(policy: inst.policy, responseCounts: inst.responseCounts, offset: inst.logBase)
        let theta = inst.start
        let probs = nodes.sequenceProbabilities(nodes.values(theta))
        // The groups and their fixed weights: (prompt, on samples, off samples, advantages, probability).
        var groups: [(Int, [Int], [Int], [Double], Double)] = []
        for x in inst.weights.indices {
            let n = inst.responseCounts[x]
            for on in tuples(n, g - off) {
                for o in tuples(n, off) {
                    let pr = on.reduce(1.0) { $0 * probs[x][$1] } * o.reduce(1.0) { $0 * inst.data[x][$1] }
                    guard pr > 0 else { continue }
                    groups.append((x, on, o, advantages((on + o).map { inst.reward[x][$0] }, scaling: scaling), pr))
                }
            }
        }
        func phi(_ th: [Double]) -> Double {
            let v = nodes.values(th)
            let lp = nodes.sequenceProbabilities(v).map { $0.map { Foundation.log($0) } }
            var s = 0.0
            for (x, on, o, a, pr) in groups {
                var t = 0.0
                for (i, y) in on.enumerated() { t += a[i] * lp[x][y] }
                for (j, y) in o.enumerated() {
                    for tok in nodes.path(response: y) {
                        let pi = v.probs[x][tok.node * nodes.width[x] + tok.choice]
                        t += a[on.count + j] * pi / (pi + gamma)
                    }
                }
                s += inst.weights[x] * pr * t / Double(g)
            }
            return s
        }
        let h = 1e-3
        return theta.indices.map { k in
            func at(_ d: Double) -> Double { var t = theta; t[k] += d; return phi(t) }
            return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)
        }
    }

    @Test(arguments: [AdvantageScaling.group, .none])
    func expectedUpdateMatchesFiniteDifferencesOfTheSurrogate(scaling: AdvantageScaling) throws {
        for (inst, g, off) in [(try PFFixture.twoPrompt(), 3, 1), (try Self.autoregressive(), 3, 2), (try Self.autoregressive(), 4, 1)] {
            var s = PracticalSettings(method: .luffy)
            s.groupSize = g; s.offPolicy = off; s.scaling = scaling; s.shapingGamma = 0.1
            let v = try PracticalUpdate(instance: inst, settings: s).direction(inst.start)
            let fd = Self.independent(inst, g: g, off: off, gamma: 0.1, scaling: scaling)
            let err = zip(v, fd).map { abs($0 - $1) }.max()!
            let scale = fd.map(abs).max()!
            #expect(err <= 1e-9 * max(scale, 1), "G \(g) N \(off) \(scaling): largest difference \(err) of \(scale)")
        }
    }

    /// With no off-policy sample LUFFY is on-policy GRPO at β = 0 (one token: every aggregation).
    @Test func noOffPolicySampleIsGRPO() throws {
        let inst = try PFFixture.twoPrompt()
        var l = PracticalSettings(method: .luffy)
        l.groupSize = 4; l.offPolicy = 0
        var g = PracticalSettings(method: .grpo)
        g.groupSize = 4; g.klCoef = 0
        let a = try PracticalUpdate(instance: inst, settings: l).direction(inst.start)
        let b = try PracticalUpdate(instance: inst, settings: g).direction(inst.start)
        #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 1e-12)
    }

    /// A unique best response: every force of the update points to it (on-policy: J's ascent; an
    /// off-policy sample with a lower reward than its group's mean is pushed down, with weight
    /// ≈ π/γ near 0), so the limit is the vertex of argmax r, approached like 1/t, even with
    /// demonstrations that mostly show wrong responses (p_D = (0.2, 0.5, 0.3)). An independent
    /// integration (scipy DOP853 of an enumeration written in Python) gave p(10⁴) = (0.99998,
    /// 1.0e-5, 1.2e-5).
    @Test func uniqueBestResponseIsTheLimit() throws {
        let inst = try PFFixture.twoResponse(beta: 0, data: [0.2, 0.5, 0.3], reward: [1, 0, 0], start: [1.0 / 3, 1.0 / 3, 1.0 / 3], reference: [1.0 / 3, 1.0 / 3, 1.0 / 3])
        let fp = try FixedPoint.compute(instance: inst, settings: PracticalSettings(method: .luffy))
        #expect(fp.source == "flow")
        #expect(fp.converged)
        #expect(abs(fp.policy[0][0] - 1) <= 1e-6)
        #expect(Set(fp.boundary.map(\.response)) == [1, 2])
        for b in fp.boundary { #expect(abs(b.exponent - 1) < 0.05, "rate t^-\(b.exponent)") }
        #expect(fp.settings["off-policy"] == "1" && fp.settings["shaping-gamma"] == "0.1" && fp.settings["group-size"] == "8")
    }

    @Test func badOptionsAreRefusedNamingThem() {
        var s = PracticalSettings(method: .luffy)
        s.offPolicy = 9
        #expect(throws: FlowError.self) { try s.validate() }
        s.offPolicy = 1; s.scaling = .batch
        #expect(throws: FlowError.self) { try s.validate() }
        s.scaling = nil; s.shapingGamma = 0
        #expect(throws: FlowError.self) { try s.validate() }
        var t = PracticalSettings(method: .grpo)
        t.offPolicy = 1
        #expect(throws: FlowError.self) { try t.validate() }
    }
}
