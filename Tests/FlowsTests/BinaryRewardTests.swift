import Foundation
import Testing
import Linalg
import Policies
import TestSupport
@testable import Flows

/// The binary-reward updates (PracticalUpdate+Binary) against central finite differences of the
/// functions they are claimed to ascend, and GRPO's finite-G weight against the exact enumeration.
@Suite struct BinaryRewardTests {
    /// Two prompts, binary rewards: tabular, and autoregressive (vocab 1, max_length 2: ε, a, aa).
    static func instances() throws -> [Instance] {
        [try Instance(file: InstanceFile(beta: 0, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 2, data: [0.6, 0.3, 0.1], reward: [0, 1, 1], reference: nil, start: [0.2, 0.2, 0.6]),
            .init(weight: 1, data: [0.1, 0.2, 0.3, 0.4], reward: [1, 0, 0, 1], reference: nil, start: [0.4, 0.3, 0.2, 0.1]),
        ])),
         try Instance(file: InstanceFile(beta: 0, policy: .init(kind: "autoregressive", vocab: 1, maxLength: 2), prompts: [
            .init(weight: 1, data: [0.2, 0.3, 0.5], reward: [1, 0, 0], reference: nil, start: [0.3, 0.5, 0.2]),
            .init(weight: 3, data: [0.2, 0.3, 0.5], reward: [0, 1, 0], reference: nil, start: [0.6, 0.1, 0.3]),
        ]))]
    }

    static func update(_ inst: Instance) throws -> PracticalUpdate {
        var s = PracticalSettings(method: .gibbs)
        s.klCoef = 0
        return try PracticalUpdate(instance: inst, settings: s)
    }

    /// ∇ of Σ_x q(x)·F(p_x(θ)) by a 4-point central difference (p_x the success probability).
    static func fdGradient(_ inst: Instance, _ f: @escaping (Double) -> Double) -> [Double] {
        func value(_ th: [Double]) -> Double {
            let p = inst.policy.probabilities(th)
            return inst.weights.indices.reduce(0.0) { s, x in
                s + inst.weights[x] * f(p[x].indices.reduce(0.0) { $0 + (inst.reward[x][$1] > 0 ? p[x][$1] : 0) })
            }
        }
        let h = 1e-3, th = inst.start
        return th.indices.map { k in
            func at(_ d: Double) -> Double { var t = th; t[k] += d; return value(t) }
            return (at(-2 * h) - 8 * at(-h) + 8 * at(h) - at(2 * h)) / (12 * h)
        }
    }

    static func maxDiff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max()! }

    /// PSR and NSR (no normalisation) are both ∇ Σ q p_x; with 1/|y| they differ on sequences.
    @Test func psrAndNSRAreBothTheSuccessGradient() throws {
        for inst in try Self.instances() {
            let u = try Self.update(inst)
            let fd = Self.fdGradient(inst) { $0 }
            #expect(Self.maxDiff(u.psrDirection(inst.start, lengthNormalised: false), fd) <= 1e-10)
            #expect(Self.maxDiff(u.nsrDirection(inst.start, lengthNormalised: false), fd) <= 1e-10)
        }
        let seq = try Self.instances()[1], u = try Self.update(seq)
        let gap = Self.maxDiff(u.psrDirection(seq.start, lengthNormalised: true), u.nsrDirection(seq.start, lengthNormalised: true))
        #expect(gap > 1e-3, "length-normalised PSR and NSR should differ on sequences of lengths 1 and 2, gap \(gap)")
    }

    /// GRPO's population update is ∇ Σ q 2 arcsin√p_x in both classes.
    @Test func populationGRPOAscendsTheArcsine() throws {
        for inst in try Self.instances() {
            let v = try Self.update(inst).populationGRPODirection(inst.start)
            #expect(Self.maxDiff(v, Self.fdGradient(inst) { 2 * Foundation.asin($0.squareRoot()) }) <= 1e-9)
        }
    }

    /// TRL's exact GRPO update on a one-prompt tabular instance is w_G(p)·∇p, w_G the binomial sum;
    /// w_2 is the constant 0.5/(√½ + 10⁻⁴); w_G·√(p(1 − p)) → 1 as G grows.
    @Test func finiteGroupWeightMatchesEnumerationAndTendsToTheArcsine() throws {
        let inst = try Instance(file: InstanceFile(beta: 0, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 1, data: [0.25, 0.25, 0.5], reward: [1, 0, 1], reference: nil, start: [0.2, 0.5, 0.3])]))
        let grad = Self.fdGradient(inst) { $0 }
        for g in [2, 3, 5] {
            var s = PracticalSettings(method: .grpo)
            s.groupSize = g; s.klCoef = 0
            let v = try PracticalUpdate(instance: inst, settings: s).direction(inst.start)
            let w = PracticalUpdate.binaryGroupWeight(successProbability: 0.5, groupSize: g, scaling: .group)
            #expect(Self.maxDiff(v, grad.map { w * $0 }) <= 1e-10, "G = \(g)")
        }
        for p in [0.1, 0.5, 0.9] {
            #expect(abs(PracticalUpdate.binaryGroupWeight(successProbability: p, groupSize: 2, scaling: .group) - 0.5 / (0.5.squareRoot() + 1e-4)) <= 1e-12)
        }
        let p = 0.3, sigma = (p * (1 - p)).squareRoot()
        let gaps = [16, 64, 256, 1024].map { abs(PracticalUpdate.binaryGroupWeight(successProbability: p, groupSize: $0, scaling: .group) * sigma - 1) }
        for k in 1..<gaps.count { #expect(gaps[k] < gaps[k - 1], "\(gaps)") }
        #expect(gaps.last! < 3e-3, "\(gaps)")
    }

    /// The natural-gradient flow ż = r − E_p r is mirror ascent: p_t = π₀·e^{t r}/Z, the Gibbs tilt at β = 1/t.
    @Test func naturalGradientFlowIsTheExponentialTilt() throws {
        let inst = try Self.instances()[0]
        var o = IntegratorOptions()
        o.rtol = 1e-12; o.atol = 1e-14
        let end = try integrate(try NaturalGradient.system(inst), from: 0, y0: inst.start, to: 3, options: o).finalState
        let p = inst.policy.probabilities(end), p0 = inst.policy.probabilities(inst.start)
        for x in p.indices {
            #expect(Self.maxDiff(p[x], Dist.gibbs(reference: p0[x], reward: inst.reward[x], beta: 1.0 / 3)) <= 1e-9)
        }
    }
}
