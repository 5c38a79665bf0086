import Foundation
import Testing
import Linalg
import Policies
import TestSupport
@testable import Flows

/// `sftrl fixedpoint`'s library: closed forms computed here independently, the flows' agreement
/// with them, and the expected updates against finite differences of the functions they ascend.
@Suite struct FixedPointTests {
    static func tabular(beta: Double = 0.3) throws -> Instance { try PFFixture.twoPrompt(beta: beta) }

    func settings(_ m: PracticalMethod, _ edit: (inout PracticalSettings) -> Void = { _ in }) -> PracticalSettings {
        var s = PracticalSettings(method: m)
        edit(&s)
        return s
    }

    /// GRPO, k3 in the loss, no scaling: p = β π_ref/(β + c E_p r − c r), c = 1 − 1/G. Solved here
    /// by Newton's method on m = E_p r for f(m) = Σ β π_ref/(β + c m − c r) − 1 (convex and
    /// decreasing, so Newton from the left of the root climbs to it monotonically), not the
    /// library's bisection; to 1e-8, and the flow of the enumerated expected update agrees.
    @Test(arguments: [2, 4]) func grpoK3MatchesItsClosedForm(groupSize: Int) throws {
        let inst = try Self.tabular(beta: 0.3)
        let beta = 0.25
        let fp = try FixedPoint.compute(instance: inst, settings: settings(.grpo) {
            $0.groupSize = groupSize; $0.scaling = AdvantageScaling.none; $0.klCoef = beta
        })
        #expect(fp.source == "closed-form")
        #expect(fp.converged, "flow agreement \(fp.flowAgreement)")
        #expect(fp.residual <= 1e-10)
        let c = 1 - 1 / Double(groupSize)
        for x in inst.weights.indices {
            let ref = inst.reference[x], r = inst.reward[x]
            var m = r.max()! - beta / c + 1e-9
            for _ in 0..<10_000 {
                let den = r.indices.map { beta + c * m - c * r[$0] }
                let f = ref.indices.reduce(0) { $0 + beta * ref[$1] / den[$1] } - 1
                let df = ref.indices.reduce(0) { $0 - beta * c * ref[$1] / (den[$1] * den[$1]) }
                let next = m - f / df
                if next == m { break }
                m = next
            }
            let p = ref.indices.map { beta * ref[$0] / (beta + c * m - c * r[$0]) }
            #expect(abs(p.reduce(0, +) - 1) <= 1e-12)
            #expect(abs(Dist.expectation(p, r) - m) <= 1e-12)
            #expect(maxAbsDiff(fp.policy[x], p) <= 1e-8, "prompt \(x): \(fp.policy[x]) vs \(p)")
        }
    }

    /// CHORD-φ's limit, found here by trying every support S and keeping the one that meets the
    /// KKT conditions of max Σ p_D(p − p²/2): p = 1 − λ/p_D on S (all > 0), p_D ≤ λ off S.
    @Test func chordPhiIsTheWaterFilling() throws {
        let inst = try Instance(file: InstanceFile(beta: 0.3, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 1, data: [0.55, 0.3, 0.1, 0.05], reward: [0, 0, 0, 0], start: [0.1, 0.2, 0.3, 0.4]),
            .init(weight: 1, data: [0.5, 0.3, 0.2], reward: [1, 0, 0], start: [0.2, 0.3, 0.5]),
        ]))
        let fp = try FixedPoint.compute(instance: inst, settings: settings(.chordPhi))
        #expect(fp.converged)
        for (x, d) in inst.data.enumerated() {
            var found: [Double]? = nil
            for mask in 1..<(1 << d.count) {
                let s = d.indices.filter { mask & (1 << $0) != 0 }
                let lambda = Double(s.count - 1) / s.reduce(0) { $0 + 1 / d[$1] }
                let p = d.indices.map { s.contains($0) ? 1 - lambda / d[$0] : 0 }
                if s.allSatisfy({ p[$0] > 0 }), d.indices.allSatisfy({ s.contains($0) || d[$0] <= lambda }) { found = p }
            }
            #expect(maxAbsDiff(fp.policy[x], found!) <= 1e-12, "prompt \(x)")
        }
        // The first prompt drops its two smallest responses; they fall like 1/t.
        #expect(fp.policy[0][2] == 0 && fp.policy[0][3] == 0)
        #expect(fp.boundary.count == 2)
        for b in fp.boundary { #expect(abs(b.exponent - 1) < 0.05, "\(b)") }
    }

    /// DFT's limit is the mode of p_D (tabular); the rest falls at rate 1/t.
    @Test func dftGoesToTheMode() throws {
        let inst = try Self.tabular()
        let fp = try FixedPoint.compute(instance: inst, settings: settings(.dft))
        #expect(fp.policy[0] == [1, 0, 0])
        #expect(fp.policy[1] == [0, 0, 0, 1])
        #expect(fp.converged)
        #expect(fp.boundary.count == 5)
        #expect(fp.sftLoss == .infinity)
    }

    /// Per-sequence token-mean SFT on an autoregressive instance: p ∝ p_D/|y| with |y| the emitted
    /// tokens (length + 1 for the end token, except at max_length), counted here from the sequence
    /// order (1 empty, V of length 1, V² of length 2 = L).
    @Test func seqnormSFTWeightsByInverseLength() throws {
        let inst = try SFixture.autoregressive()
        let lengths = [1, 2, 2, 2, 2, 2, 2]   // ε:1 (end), a/b: 2, aa..bb: 2 (end forced)
        let fp = try FixedPoint.compute(instance: inst, settings: settings(.sftSeqnorm))
        let w = inst.data[0].indices.map { inst.data[0][$0] / Double(lengths[$0]) }
        let s = w.reduce(0, +)
        #expect(maxAbsDiff(fp.policy[0], w.map { $0 / s }) <= 1e-12)
        #expect(fp.converged && fp.flowAgreement <= 1e-8)
        #expect(fp.residual <= 1e-10)
        // Token-sum SFT is p_D itself.
        let sft = try FixedPoint.compute(instance: inst, settings: settings(.sft))
        #expect(maxAbsDiff(sft.policy[0], inst.data[0]) <= 1e-12 && sft.converged)
    }

    /// Gibbs and RLOO (KL in the reward) share the Gibbs optimum; the flow agrees to 1e-8.
    @Test func gibbsAndRLOOReachTheGibbsOptimum() throws {
        for inst in [try Self.tabular(), try SFixture.autoregressive()] {
            for m in [PracticalMethod.gibbs, .rloo] {
                let fp = try FixedPoint.compute(instance: inst, settings: settings(m))
                for x in inst.weights.indices {
                    let g = inst.reference[x].indices.map { inst.reference[x][$0] * Foundation.exp(inst.reward[x][$0] / inst.beta) }
                    let z = g.reduce(0, +)
                    #expect(maxAbsDiff(fp.policy[x], g.map { $0 / z }) <= 1e-12)
                }
                #expect(fp.converged && fp.flowAgreement <= 1e-8, "\(m) on \(inst.policy.name): \(fp.flowAgreement)")
            }
        }
    }

    /// The expected updates are gradients of the functions they ascend, checked by central
    /// differences in all three classes: dft ∇Σ_n Σ_c w_n(c)π_n(c), chord-phi
    /// ∇Σ_n Σ_c w_n(c)(π − π²/2), sft-seqnorm ∇Σ_y p_D(y)/|y|·log p(y) (w_n(c): the data's mass on
    /// token (n, c); tabular w = q·p_D).
    @Test func perTokenUpdatesAreGradients() throws {
        for inst in SFixture.all {
            let nodes = DecisionNodes(policy: inst.policy, responseCounts: inst.responseCounts, offset: inst.logBase)
            let mass = FixedPointClosedForm.nodeDataMass(inst, nodes: nodes)
            func nodeSum(_ th: [Double], _ f: (Double) -> Double) -> Double {
                let v = nodes.values(th)
                var s = 0.0
                for x in mass.indices { for k in mass[x].indices { s += inst.weights[x] * mass[x][k] * f(v.probs[x][k]) } }
                return s
            }
            func seqnorm(_ th: [Double]) -> Double {
                let lp = nodes.sequenceProbabilities(nodes.values(th))
                var s = 0.0
                for x in inst.data.indices {
                    for (y, d) in inst.data[x].enumerated() where d > 0 { s += inst.weights[x] * d / Double(nodes.tokenCount(response: y)) * Foundation.log(lp[x][y]) }
                }
                return s
            }
            let th = inst.start
            let cases: [(PracticalMethod, ([Double]) -> Double)] = [
                (.dft, { nodeSum($0) { $0 } }), (.chordPhi, { nodeSum($0) { $0 - $0 * $0 / 2 } }), (.sftSeqnorm, seqnorm),
                (.sft, { -inst.value(.sft, at: inst.point($0)) }),
            ]
            for (m, f) in cases {
                let v = try PracticalUpdate(instance: inst, settings: settings(m)).direction(th)
                let fd = fdGradient(f, at: th)
                #expect(maxAbsDiff(v, fd) <= 1e-8, "\(m) on \(inst.policy.name)")
            }
        }
    }

    /// DFT's expected update is the policy gradient with reward p_D (tabular): ∇_θ E_p[p_D] q-weighted.
    @Test func dftIsPolicyGradientWithDataReward() throws {
        let inst = try Self.tabular()
        let pg = try Instance(beta: 0, weights: inst.weights, data: inst.data, reward: inst.data, reference: inst.reference,
                              policy: inst.policy, start: inst.start)
        let v = try PracticalUpdate(instance: inst, settings: settings(.dft)).direction(inst.start)
        #expect(maxAbsDiff(v, pg.gradient(.reward, at: pg.point())) <= 1e-15)
    }

    /// A flow-only method (grpo with group scaling) converges and reports its limit from the flow.
    @Test func grpoWithGroupScalingUsesTheFlow() throws {
        let inst = try Instance(file: InstanceFile(beta: 0.5, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 1, data: [0.5, 0.3, 0.2], reward: [1, 0, 0.5], reference: [0.4, 0.3, 0.3], start: [0.3, 0.3, 0.4]),
        ]))
        let fp = try FixedPoint.compute(instance: inst, settings: settings(.grpo) { $0.groupSize = 3 })
        #expect(fp.source == "flow")
        #expect(fp.converged, "residual \(fp.residual)")
        #expect(abs(fp.policy[0].reduce(0, +) - 1) <= 1e-12)
    }

    /// Options a method does not read, and enumerations beyond the limit, are refused by name.
    @Test func badSettingsAreRefused() throws {
        let inst = try Self.tabular()
        #expect(throws: FlowError.self) { try FixedPoint.compute(instance: inst, settings: settings(.dft) { $0.groupSize = 4 }) }
        do { _ = try PracticalUpdate(instance: inst, settings: settings(.sft) { $0.mix = 0.3 }); Issue.record("no error") } catch {
            #expect("\(error)".contains("--mix") && "\(error)".contains("sft"))
        }
        do { _ = try PracticalUpdate(instance: inst, settings: settings(.grpo) { $0.groupSize = 64 }); Issue.record("no error") } catch {
            #expect("\(error)".contains("limit"))
        }
    }
}
