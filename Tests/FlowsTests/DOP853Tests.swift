import Foundation
import Linalg
import Numerics
import Policies
import Testing
@testable import Flows

/// The toolkit's own DOP853 (``DOP853Session``): its coefficients against the order conditions,
/// its order-7 interpolant against closed forms and forced step ends, and the work dense output
/// saves.
@Suite("DOP853 and dense output")
struct DOP853Tests {
    typealias C = DOP853Coefficients

    /// The weights b_j(θ) of the interpolant y(t₀ + θh) = y₀ + h·Σ_j b_j(θ)k_j, read off the
    /// interpolant's definition (F₀ = hΣb_jk_j, F₁ = hk₀ − F₀, F₂ = 2F₀ − h(k₁₂ + k₀), F₃₊ᵣ = hΣd_rjk_j).
    static func denseWeights(_ x: Double) -> [Double] {
        let u = 1 - x
        return (0..<16).map { j in
            let b = j < 12 ? C.b[j] : 0
            let e0: Double = j == 0 ? 1 : 0, e12: Double = j == 12 ? 1 : 0
            let f0 = b, f1 = e0 - b, f2 = 2 * b - (e0 + e12)
            let inner = C.d[0][j] + x * (C.d[1][j] + u * (C.d[2][j] + x * C.d[3][j]))
            return x * (f0 + u * (f1 + x * (f2 + u * inner)))
        }
    }

    @Test("the coefficients satisfy the order conditions: consistency, order 8 quadrature, embedded orders 5 and 3, interpolant order 7")
    func orderConditions() {
        let c = C.c
        for s in 1..<16 {
            #expect(abs(C.a[s].reduce(0, +) - c[s]) < 1e-14, "row \(s): Σ_j a_sj = \(C.a[s].reduce(0, +)), c = \(c[s])")
        }
        // Σ_j b_j c_j^{q−1} = 1/q (q ≤ 8) and Σ_j b_j Σ_k a_jk c_k^{q−1} = 1/(q(q+1)) (q ≤ 7).
        func ac(_ j: Int, _ p: Int) -> Double { C.a[j].enumerated().reduce(0) { $0 + $1.element * pow(c[$1.offset], Double(p)) } }
        for q in 1...8 {
            let s = (0..<12).reduce(0.0) { $0 + C.b[$1] * pow(c[$1], Double(q - 1)) }
            #expect(abs(s - 1 / Double(q)) < 1e-14, "quadrature q = \(q): \(s)")
        }
        for q in 1...7 {
            let s = (0..<12).reduce(0.0) { $0 + C.b[$1] * ac($1, q - 1) }
            #expect(abs(s - 1 / Double(q * (q + 1))) < 1e-14, "Σ b a c^{q−1}, q = \(q): \(s)")
        }
        // The error weights are differences of an order-8 and an order-5 (3) quadrature.
        for q in 1...5 { #expect(abs((0..<12).reduce(0.0) { $0 + C.e5[$1] * pow(c[$1], Double(q - 1)) }) < 1e-14, "e5, q = \(q)") }
        for q in 1...3 { #expect(abs((0..<12).reduce(0.0) { $0 + C.e3[$1] * pow(c[$1], Double(q - 1)) }) < 1e-14, "e3, q = \(q)") }
        // The interpolant: Σ_j b_j(θ) c_j^{q−1} = θ^q/q for q ≤ 7, and it is not of order 8.
        for x in [0.1, 0.37, 0.5, 0.9] {
            let w = Self.denseWeights(x)
            for q in 1...7 {
                let s = (0..<16).reduce(0.0) { $0 + w[$1] * pow(c[$1], Double(q - 1)) }
                #expect(abs(s - pow(x, Double(q)) / Double(q)) < 1e-14, "θ = \(x), q = \(q): \(s)")
            }
            for q in 1...6 {
                let s = (0..<16).reduce(0.0) { $0 + w[$1] * ac($1, q - 1) }
                #expect(abs(s - pow(x, Double(q + 1)) / Double(q * (q + 1))) < 1e-14, "θ = \(x), Σ b(θ) a c^{q−1}, q = \(q)")
            }
            let s8 = (0..<16).reduce(0.0) { $0 + w[$1] * pow(c[$1], 7) }
            #expect(abs(s8 - pow(x, 8) / 8) > 1e-7)
        }
        #expect(Self.denseWeights(1).enumerated().allSatisfy { abs($0.element - ($0.offset < 12 ? C.b[$0.offset] : 0)) < 1e-14 })
    }

    /// One step of y' = y from y = 1 (exact e^{θh}): the interpolant's error is O(h⁸), so halving
    /// h divides it by about 2⁸ (order 7); an interpolant of lower order divides it by less.
    @Test("one step of y' = y: the interpolant's error falls like h⁸")
    func interpolantOrder() throws {
        func worst(_ h: Double) throws -> Double {
            let context = CallbackContext(system: ODESystem.linear(Matrix([[1]])))
            let s = DOP853Session(context: context, rtol: 1, atol: 1, norm: .rms)  // accepts the step as asked
            var t = 0.0, step = h
            var y = [1.0]
            try y.withUnsafeMutableBufferPointer { try s.step(t: &t, to: h, h: &step, y: $0.baseAddress!) }
            #expect(t == h)
            try s.prepareDenseOutput()
            var out = [0.0]
            var e = 0.0
            for x in [0.1, 0.25, 0.5, 0.7, 0.95] {
                out.withUnsafeMutableBufferPointer { s.denseState(theta: x, into: $0.baseAddress!) }
                e = max(e, abs(out[0] - Foundation.exp(x * h)))
            }
            #expect(context.rhsEvaluations == 1 + 11 + 1 + 3)  // f₀, stages 1–11, f at the end, the extra stages
            return e
        }
        let e1 = try worst(1), e2 = try worst(0.5)
        #expect(e1 > 1e-12 && e1 < 1e-6, "error at h = 1: \(e1)")
        #expect(e1 / e2 > 150, "h = 1: \(e1), h = 0.5: \(e2), ratio \(e1 / e2) (2⁸ = 256 expected)")
    }

    @Test("dop853 dense output matches the RL and SFT closed forms to 1e-10 at rtol 1e-12")
    func closedForms() throws {
        var opts = IntegratorOptions(stepper: .dop853, rtol: 1e-12, atol: 1e-13)
        opts.denseOutput = true
        opts.norm = .rms
        opts.automaticInitialStep = true
        let rlInst = try PFFixture.twoResponse(beta: 0, data: [0.5, 0.5], reward: [1, -0.5], start: [0.2, 0.8])
        let rl = try runFlow(instance: rlInst, schedule: try Schedule(parsing: "rl:6"), samples: 61, options: opts)
        #expect(rl.rows.count == 61)
        for row in rl.rows {
            let exact = PFReference.rlGap(delta0: rlInst.start[0] - rlInst.start[1], rewardGap: 1.5, t: row.t)
            #expect((row.theta[0] - row.theta[1]).isApproximatelyEqual(to: exact, absoluteTolerance: 1e-10), "t = \(row.t)")
        }
        let sftInst = try PFFixture.twoResponse(beta: 0.7, data: [0.8, 0.2], reward: [1, 0], start: [0.1, 0.9])
        let sft = try runFlow(instance: sftInst, schedule: try Schedule(parsing: "sft:4"), samples: 41, options: opts)
        for row in sft.rows {
            let exact = PFReference.sftGap(delta0: sftInst.start[0] - sftInst.start[1], data: 0.8, t: row.t)
            #expect((row.theta[0] - row.theta[1]).isApproximatelyEqual(to: exact, absoluteTolerance: 1e-10), "t = \(row.t)")
        }
        // Fewer steps than rows: the rows really are interpolated.
        #expect(rl.stats.accepted < 30, "\(rl.stats.accepted) steps")
    }

    /// 16 prompts × 64 responses over sft:3,rl:4,mix:0.3:3 at rtol 1e-10: dense rows against a
    /// reference of forced step ends at rtol 1e-13, beside forced step ends at rtol 1e-10.
    @Test("dense rows are as accurate as forced step ends at the same tolerance, for the max and rms norms")
    func denseAgainstForced() throws {
        let inst = try PFFixture.random(prompts: 16, responses: 64, beta: 0.1, seed: 23)
        let schedule = try Schedule(parsing: "sft:3,rl:4,mix:0.3:3")
        func options(_ norm: ErrorNorm, _ rtol: Double, dense: Bool) -> IntegratorOptions {
            var o = IntegratorOptions(stepper: .dop853, rtol: rtol, atol: rtol / 100)
            o.norm = norm
            o.denseOutput = dense
            o.automaticInitialStep = true
            return o
        }
        let reference = try runFlow(instance: inst, schedule: schedule, samples: 50, options: options(.max, 1e-13, dense: false))
        func error(_ run: ScheduleRun) -> Double {
            zip(run.rows, reference.rows).map { a, b in zip(a.theta, b.theta).map { abs($0 - $1) }.max()! }.max()!
        }
        for norm in ErrorNorm.allCases {
            let dense = try runFlow(instance: inst, schedule: schedule, samples: 50, options: options(norm, 1e-10, dense: true))
            let forced = try runFlow(instance: inst, schedule: schedule, samples: 50, options: options(norm, 1e-10, dense: false))
            #expect(dense.rows.map(\.t) == reference.rows.map(\.t))
            let ed = error(dense), ef = error(forced)
            #expect(ed < 1e-8 && ef < 1e-8, "\(norm): dense \(ed), forced \(ef)")
            #expect(ed <= 3 * ef + 1e-12, "\(norm): dense \(ed) against forced \(ef)")
            #expect(dense.stats.rhsEvaluations * 3 < forced.stats.rhsEvaluations, "\(norm): \(dense.stats) \(forced.stats)")
        }
    }

    /// With dense output the steps do not depend on the output times: 50 samples take the same
    /// steps (so the same final θ, bit for bit) as 2, plus 3 evaluations per step that holds an
    /// output (the interpolant's extra stages). Every step holds one here, so the cost is the
    /// bound 1 + 3/12 of the steps' work.
    @Test("50 samples cost the steps of 2 samples plus 3 evaluations per step holding an output")
    func samplesCost() throws {
        let inst = try PFFixture.random(prompts: 16, responses: 64, beta: 0.1, seed: 23)
        let schedule = try Schedule(parsing: "sft:3,rl:4,mix:0.3:3")
        var o = IntegratorOptions(stepper: .dop853, rtol: 1e-10, atol: 1e-12)
        o.norm = .rms
        o.denseOutput = true
        o.automaticInitialStep = true
        let two = try runFlow(instance: inst, schedule: schedule, samples: 2, options: o)
        let fifty = try runFlow(instance: inst, schedule: schedule, samples: 50, options: o)
        #expect(two.stats.accepted == fifty.stats.accepted && two.stats.rejected == fifty.stats.rejected)
        #expect(two.finalTheta == fifty.finalTheta)
        let extra = fifty.stats.rhsEvaluations - two.stats.rhsEvaluations
        #expect(extra % 3 == 0 && extra / 3 <= fifty.stats.accepted, "\(extra) extra evaluations, \(fifty.stats.accepted) steps")
        let ratio = Double(fifty.stats.rhsEvaluations) / Double(two.stats.rhsEvaluations)
        #expect(ratio <= 1.25, "50 samples: \(fifty.stats.rhsEvaluations), 2 samples: \(two.stats.rhsEvaluations), ratio \(ratio)")
        // Forced step ends cost far more.
        o.denseOutput = false
        let forced = try runFlow(instance: inst, schedule: schedule, samples: 50, options: o)
        #expect(Double(forced.stats.rhsEvaluations) > 3 * Double(fifty.stats.rhsEvaluations))
    }

    @Test("the rms norm needs dop853; events and a terminal event work with dop853")
    func optionsAndEvents() throws {
        var o = IntegratorOptions(stepper: .rk8pd)
        o.norm = .rms
        #expect(throws: IntegrationError.self) { try o.validate() }
        o.stepper = .dop853
        try o.validate()
        let inst = try PFFixture.twoResponse(beta: 0, data: [0.5, 0.5], reward: [1, -0.5], start: [0.2, 0.8])
        let level = 0.7
        // J = σ(Δ) − 0.5(1 − σ(Δ)) = level at σ(Δ) = (level + 0.5)/1.5.
        let s = (level + 0.5) / 1.5, delta = Foundation.log(s / (1 - s)), delta0 = Foundation.log(0.2 / 0.8)
        let exactT = (Foundation.sinh(delta) + delta - Foundation.sinh(delta0) - delta0) / 1.5
        o = IntegratorOptions(stepper: .dop853, rtol: 1e-12, atol: 1e-13)
        o.denseOutput = true
        let run = try runFlow(instance: inst, schedule: try Schedule(parsing: "rl:6"), samples: 7,
                              events: [LevelEvent(.reward, level: level)], options: o)
        #expect(run.hits.count == 1)
        #expect(abs(run.hits[0].t - exactT) < 1e-9, "event at \(run.hits[0].t), exact \(exactT)")
    }
}
