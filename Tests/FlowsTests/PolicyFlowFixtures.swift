import Foundation
import Linalg
import Policies
@testable import Flows

/// Instances and independent references for the policy-flow tests (names prefixed to stay clear
/// of the integrator tests' helpers in the same module).
enum PFFixture {
    /// The 3-response example: β = 0.5, one prompt.
    static func threeResponse(beta: Double = 0.5) throws -> Instance {
        try Instance(file: InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 1, data: [0.7, 0.2, 0.1], reward: [1, 0, -1], reference: [0.4, 0.3, 0.3], start: [0.7, 0.2, 0.1]),
        ]))
    }

    /// One prompt, two responses, start probabilities `start`.
    static func twoResponse(beta: Double, data: [Double], reward: [Double], start: [Double],
                            reference: [Double] = [0.5, 0.5]) throws -> Instance {
        try Instance(file: InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 1, data: data, reward: reward, reference: reference, start: start),
        ]))
    }

    /// Two prompts of 3 and 4 responses, unequal weights, a start far from the data.
    static func twoPrompt(beta: Double = 0.3) throws -> Instance {
        try Instance(file: InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: [
            .init(weight: 2, data: [0.6, 0.3, 0.1], reward: [0.2, 1, -0.5], reference: [0.5, 0.25, 0.25],
                  start: [0.2, 0.2, 0.6]),
            .init(weight: 1, data: [0.1, 0.2, 0.3, 0.4], reward: [1, -1, 0.5, 0], reference: [0.25, 0.25, 0.25, 0.25],
                  start: [0.4, 0.3, 0.2, 0.1]),
        ]))
    }

    /// A log-linear instance with d = 2 < 3 responses (non-realisable), θ₀ given (`start`).
    static func loglinear(start: [Double] = [0.3, -0.2]) throws -> Instance {
        let f1 = Matrix([[1, 0], [0, 1], [1, 1]]), f2 = Matrix([[0.5, -1], [1, 0.3], [-0.2, 0.8]])
        return try Instance(beta: 0.4, weights: [1, 1], data: [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]],
                            reward: [[1, 0, -1], [0, 1, 0.5]], reference: [[0.3, 0.3, 0.4], [0.4, 0.4, 0.2]],
                            policy: .loglinear(features: [f1, f2]), start: start)
    }

    /// A seeded random tabular instance: `prompts` × `responses`, peaked data, start and
    /// reference (softmax of 2·N(0, 1) logits, so some responses carry much of the mass and the
    /// flows move θ by O(1) in a few time units), rewards in [−1, 1], random weights.
    static func random(prompts: Int, responses: Int, beta: Double, seed: UInt64) throws -> Instance {
        var g = SeededGenerator(seed: seed)
        func simplex() -> [Double] {
            let e = (0..<responses).map { _ in Foundation.exp(2 * g.normal()) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
        let prompts = (0..<prompts).map { _ in
            InstanceFile.Prompt(weight: g.uniform(0.5, 1.5), data: simplex(),
                                reward: (0..<responses).map { _ in g.uniform(-1, 1) }, reference: simplex(), start: simplex())
        }
        return try Instance(file: InstanceFile(beta: beta, policy: .init(kind: "tabular"), prompts: prompts))
    }

    /// Tight integration options for closed-form comparisons.
    static func tight(_ stepper: Stepper = .rk8pd) -> IntegratorOptions {
        IntegratorOptions(stepper: stepper, rtol: 1e-12, atol: 1e-13)
    }
}

/// Independent references, written from the closed forms (not from `Policies`).
enum PFReference {
    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    /// Two responses, β = 0, RL flow: Δ = z₁ − z₂ obeys Δ̇ = 2(r₁ − r₂)σ(Δ)(1 − σ(Δ)) (both
    /// logits move, each by ±p₁p₂(r₁ − r₂)). Separating, ∫(1+e^Δ)²e^{−Δ} dΔ = 2(sinh Δ + Δ), so
    /// sinh Δ(t) + Δ(t) = sinh Δ₀ + Δ₀ + (r₁ − r₂)·t. Solved for Δ by Newton (the left side is
    /// increasing with derivative cosh Δ + 1 ≥ 2).
    static func rlGap(delta0: Double, rewardGap: Double, t: Double) -> Double {
        let k = Foundation.sinh(delta0) + delta0 + rewardGap * t
        var d = Foundation.asinh(k)  // close when |k| is large; Newton converges from anywhere
        for _ in 0..<100 {
            let step = (Foundation.sinh(d) + d - k) / (Foundation.cosh(d) + 1)
            d -= step
            if abs(step) <= 1e-16 * max(1, abs(d)) { break }
        }
        return d
    }

    /// Two responses, SFT flow: Δ̇ = −2(σ(Δ) − d) with d = p_D(1). With w = e^Δ,
    /// ∫dΔ/(σ(Δ) − d) = ∫(1+w)/(w((1−d)w − d)) dw = −Δ/d + ln|(1−d)e^Δ − d| / (d(1−d)) =: F(Δ),
    /// so F(Δ(t)) = F(Δ₀) − 2t. Δ moves monotonically toward Δ* = log(d/(1−d)), and F is monotone
    /// between Δ₀ and Δ*: solve by bisection.
    static func sftGap(delta0: Double, data d: Double, t: Double) -> Double {
        func F(_ x: Double) -> Double { -x / d + Foundation.log(abs((1 - d) * Foundation.exp(x) - d)) / (d * (1 - d)) }
        let target = F(delta0) - 2 * t
        let star = Foundation.log(d / (1 - d))
        var lo = delta0, hi = star  // F(lo) − target = 2t ≥ 0; F → −∞ at star
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if mid == lo || mid == hi { break }
            if F(mid) - target > 0 { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }

    /// Tabular velocity written out independently: per prompt x with q = weights,
    /// SFT: −q(p − p_D); RL: q·p∘(a − ā), a = r − β(log p − log π_ref).
    static func tabularVelocity(_ inst: Instance, _ theta: [Double], rl: Double, sft: Double) -> [Double] {
        var out: [Double] = []
        var o = 0
        for x in inst.weights.indices {
            let n = inst.data[x].count
            let z = Array(theta[o..<(o + n)])
            o += n
            let m = z.max()!
            let e = z.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            let p = e.map { $0 / s }
            let lp = z.map { $0 - m - Foundation.log(s) }
            let a = (0..<n).map { y in inst.reward[x][y] - (inst.beta == 0 ? 0 : inst.beta * (lp[y] - Foundation.log(inst.reference[x][y]))) }
            let abar = zip(p, a).map { $0 * $1 }.reduce(0, +)
            for y in 0..<n {
                let vr = p[y] * (a[y] - abar)
                let vs = -(p[y] - inst.data[x][y])
                out.append(inst.weights[x] * (rl * vr + sft * vs))
            }
        }
        return out
    }

    /// Classical RK4 with a fixed step h from 0 to T on `f`.
    static func rk4(_ f: ([Double]) -> [Double], y0: [Double], to T: Double, steps: Int) -> [Double] {
        let h = T / Double(steps)
        var y = y0
        for _ in 0..<steps {
            let k1 = f(y)
            let k2 = f(axpy(y, h / 2, k1))
            let k3 = f(axpy(y, h / 2, k2))
            let k4 = f(axpy(y, h, k3))
            for i in y.indices { y[i] += h / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]) }
        }
        return y
    }
}
