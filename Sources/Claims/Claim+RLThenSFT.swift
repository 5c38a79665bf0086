import Foundation
import RealModule
import Linalg
import Policies

/// E_x KL(p_SFT2‖p_RL1), E_x J of both, with p_RL1 = start and p_SFT2 = data.
private struct RLThenSFT<T: Real & BinaryFloatingPoint> {
    let kl: T, jRL: T, jSFT: T, jStar: T, rmax: T
    init(_ a: Arrays<T>) {
        kl = a.average { DistOf<T>.kl(a.data[$0], a.start[$0]) }
        jRL = a.average { DistOf<T>.expectation(a.start[$0], a.reward[$0]) }
        jSFT = a.average { DistOf<T>.expectation(a.data[$0], a.reward[$0]) }
        jStar = a.average { a.reward[$0].max() ?? 0 }
        rmax = a.rewardBound
    }
}

/// Prop. 1: if E_x KL(p_SFT2‖p_RL1) ≤ B then E_{p_SFT2}[r] ≤ E_{p_RL1}[r] + R_max·√(2B).
struct Prop1: PrecisionGenericClaim {
    let id = "prop1"
    let reference = "Prop. 1"
    let statement = "RL-then-SFT, weak form: if E_x KL(p_SFT2‖p_RL1) ≤ B, then E_{p_SFT2}[r] ≤ E_{p_RL1}[r] + R_max·√(2B), R_max = max|r|."
    let hypotheses = [Hypothesis("kl-budget", "the post-RL SFT stage stays within KL budget B: E_x KL(p_SFT2‖p_RL1) ≤ B"),
                      Hypothesis("A2", "bounded reward: R_max = max|r| is finite (always true for a finite table)")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = family == .tabularSingle ? 1 : Generate.promptCount(&g)
        let sizes = (0..<m).map { _ in Generate.responseCount(&g) }
        var rl = sizes.map { Generate.positiveSimplex(&g, $0) }
        var sft: [[Double]] = sizes.indices.map { x in
            let s = Foundation.pow(10, g.uniform(-4, 0))
            let u = Generate.simplex(&g, sizes[x])
            return zip(rl[x], u).map { (1 - s) * $0 + s * $1 }
        }
        var rewards = sizes.map { Generate.reward(&g, $0) }
        // A quarter of the time, the proof's equality case, where the bound is sharp in the limit:
        // p_RL1 split into two halves of mass ½ (a random subset S and its complement), p_SFT2 =
        // p_RL1·(1 ± ε) (+ on S, − off it, so Σ = 1 exactly), r = ±R on the two sides, B = KL. Then
        // |ΔE r| = 2R·TV, Pinsker is sharp up to O(ε), and the ratio to R·√(2B) tends to 1. (Without
        // it neither the check nor the search came within 10⁻³ of the constant: `sftrl power`.)
        let sharp = g.uniform() < 0.25
        if sharp && !dropping.contains("kl-budget") {
            for x in sizes.indices where sizes[x] >= 2 {
                let n = sizes[x]
                var inS = (0..<n).map { _ in g.uniform() < 0.5 }
                inS[0] = true; inS[n - 1] = false
                let base = Generate.positiveSimplex(&g, n)
                let massS = zip(base, inS).filter { $0.1 }.reduce(0) { $0 + $1.0 }
                let split = base.indices.map { inS[$0] ? 0.5 * base[$0] / massS : 0.5 * base[$0] / (1 - massS) }
                let eps = Foundation.pow(10, g.uniform(-4, -1))
                let r = g.uniform(0.1, 2)
                rl[x] = split
                sft[x] = split.indices.map { inS[$0] ? split[$0] * (1 + eps) : split[$0] * (1 - eps) }
                rewards[x] = inS.map { $0 ? r : -r }
            }
        }
        let f = Generate.file(beta: 1, weights: Generate.weights(&g, m), data: sft, reward: rewards, start: rl)
        let kl = Arrays<Double>(f).average { Dist.kl(sft[$0], rl[$0]) }
        let slack = sharp ? 0 : [0, g.uniform(0, 0.1), g.uniform(0, 3)][g.int(0...2)]
        let b = dropping.contains("kl-budget") ? kl * Foundation.pow(10, g.uniform(-3, 0)) : kl * (1 + slack)
        return ClaimInstance(family: family, instance: f, parameters: ["B": b])
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let b = T(try ci.parameter("B"))
        let s = RLThenSFT(a)
        let bound = s.jRL + s.rmax * (2 * Swift.max(b, 0)).squareRoot()
        return evaluation(hypotheses: ["kl-budget": inequalityMargin(s.kl, b, scale: b), "A2": s.rmax.isFinite ? 1 : -1],
                          conclusion: inequalityMargin(s.jSFT, bound, scale: s.rmax),
                          quantities: ["kl": s.kl, "B": b, "J_sft2": s.jSFT, "J_rl1": s.jRL, "R_max": s.rmax, "bound": bound])
    }
}

/// Thm 4.1 as stated: under A3, with p_RL1 a (local) maximiser of the unregularised J,
/// J(p_SFT2) ≤ J(p_RL1) − C₂ for some C₂ > 0, i.e. J(p_SFT2) < J(p_RL1) strictly.
struct Thm41: PrecisionGenericClaim {
    let id = "thm4.1"
    let reference = "Thm 4.1"
    let statement = "RL-then-SFT, strong form: under A3 (0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A), with p_RL1 a maximiser of the unregularised J over the simplex, J(p_SFT2) ≤ J(p_RL1) − C₂ with C₂ > 0 (so J(p_SFT2) < J(p_RL1) strictly)."
    let hypotheses = [Hypothesis("A3", "0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A < ∞"),
                      Hypothesis("local-max", "p_RL1 maximises J: every p_RL1(·|x) is supported on argmax_y r(x, y)")]
    let families: [Family] = [.ties, .generic]
    let strict = true
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = Generate.promptCount(&g, max: 3)
        let sizes = (0..<m).map { _ in g.int(2...8) }
        var rewards: [[Double]] = [], rl: [[Double]] = [], sft: [[Double]] = []
        for n in sizes {
            var r = Generate.reward(&g, n)
            let top = r.max()!
            if family == .ties {   // a second maximiser, so A3 can be met with finite KL
                var other = g.int(0...(n - 1))
                if r[other] == top { other = (other + 1) % n }
                r[other] = top
            }
            let argmax = r.indices.filter { r[$0] == top }
            // Dyadic masses so sums are exact in binary.
            func dyadic(_ support: [Int]) -> [Double] {
                var w = [Double](repeating: 0, count: n)
                var units = support.map { _ in g.int(1...16) }
                let total = units.reduce(0, +)
                var t = 1
                while t < total { t *= 2 }
                units[0] += t - total   // the total is a power of two: every mass is dyadic
                for (k, y) in support.enumerated() { w[y] = Double(units[k]) / Double(t) }
                return w
            }
            let p1 = dropping.contains("local-max") ? Generate.positiveSimplex(&g, n) : dyadic(argmax)
            let support = p1.indices.filter { p1[$0] > 0 }
            let p2 = family == .ties ? dyadic(support.shuffled(using: &g)) : Generate.positiveSimplex(&g, n)
            rewards.append(r); rl.append(p1); sft.append(p2)
        }
        let f = Generate.file(beta: 1, weights: [Double](repeating: 1.0 / Double(m), count: m), data: sft, reward: rewards, start: rl)
        let kl = Arrays<Double>(f).average { Dist.kl(sft[$0], rl[$0]) }
        let base = kl.isFinite && kl > 0 ? kl : 1
        return ClaimInstance(family: family, instance: f, parameters: ["a": base * g.uniform(0.1, 1), "A": base * g.uniform(1, 3)])
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let lo = T(try ci.parameter("a")), hi = T(try ci.parameter("A"))
        let s = RLThenSFT(a)
        let scale = Swift.max(s.rmax, T.leastNormalMagnitude)
        let a3 = Swift.min(lo > 0 ? 1 : -1, inequalityMargin(lo, s.kl, scale: lo), inequalityMargin(s.kl, hi, scale: hi))
        return evaluation(hypotheses: ["A3": a3, "local-max": -(s.jStar - s.jRL) / scale],
                          conclusion: (s.jRL - s.jSFT) / scale,
                          quantities: ["kl": s.kl, "a": lo, "A": hi, "J_rl1": s.jRL, "J_sft2": s.jSFT, "J_max": s.jStar])
    }
}

/// The KL-regularised reading of Thm 4.1, which holds: with p_RL1 the Gibbs maximiser of J_β,
/// J_β(π) = J_β(p_RL1) − β·E_x KL(π‖p_RL1) exactly, so A3's lower bound a gives C₂ = β·a.
struct Thm41Regularised: PrecisionGenericClaim {
    let id = "thm4.1-regularised"
    let reference = "Thm 4.1 (regularised reading)"
    let statement = "With p_RL1 the Gibbs maximiser of J_β (β > 0) and E_x KL(p_SFT2‖p_RL1) ≥ a > 0: J_β(p_SFT2) ≤ J_β(p_RL1) − β·a."
    let hypotheses = [Hypothesis("A3", "0 < a ≤ E_x KL(p_SFT2‖p_RL1)"), Hypothesis("β > 0", "the KL coefficient is positive")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = family == .tabularSingle ? 1 : Generate.promptCount(&g)
        let sizes = (0..<m).map { _ in Generate.responseCount(&g) }
        let f = Generate.file(beta: Generate.beta(&g), weights: Generate.weights(&g, m), data: sizes.map { Generate.positiveSimplex(&g, $0) },
                              reward: sizes.map { Generate.reward(&g, $0) }, reference: sizes.map { Generate.positiveSimplex(&g, $0) })
        let a = Arrays<Double>(f)
        let kl = a.average { x in
            let lp = DistOf<Double>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            return Dist.kl(a.data[x], lp.map { Foundation.exp($0) }, logQ: lp)
        }
        let lower = dropping.contains("A3") ? kl * g.uniform(1, 2) : kl * g.uniform(0.05, 1)
        return ClaimInstance(family: family, instance: f, parameters: ["a": lower])
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        guard a.beta > 0 else { throw ClaimError.invalid("thm4.1-regularised needs beta > 0") }
        let lo = T(try ci.parameter("a"))
        var kl: T = 0, jSFT: T = 0, jStar: T = 0
        for x in a.prompts where a.q[x] > 0 {
            let lp = DistOf<T>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            let p = lp.map { T.exp($0) }
            kl += a.q[x] * DistOf<T>.kl(a.data[x], p, logQ: lp)
            jStar += a.q[x] * DistOf<T>.regularizedReward(p, reward: a.reward[x], reference: a.reference[x], beta: a.beta, logP: lp)
            jSFT += a.q[x] * DistOf<T>.regularizedReward(a.data[x], reward: a.reward[x], reference: a.reference[x], beta: a.beta)
        }
        let bound = jStar - a.beta * lo
        return evaluation(hypotheses: ["A3": Swift.min(lo > 0 ? 1 : -1, inequalityMargin(lo, kl, scale: lo)), "β > 0": a.beta],
                          conclusion: inequalityMargin(jSFT, bound, scale: Swift.max(abs(jStar), a.rewardBound)),
                          quantities: ["kl": kl, "a": lo, "J_beta_sft2": jSFT, "J_beta_rl1": jStar, "bound": bound])
    }
}

// MARK: What each claim knows (worked example, tightness, paper version)

extension Prop1 {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? {
        WorkedExample("p_RL1 = start (0.2, 0.5, 0.3), p_SFT2 = data (0.3, 0.4, 0.3), r = (1, 0, −1), KL budget B = 0.05 (the KL is 0.0324)",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [[0.3, 0.4, 0.3]], reward: [[1, 0, -1]],
                                                                                     start: [[0.2, 0.5, 0.3]]), parameters: ["B": 0.05]))
    }
    var tightness: Tightness? {
        Tightness(measure: "(E_{p_SFT2} r − E_{p_RL1} r) / (R_max·√(2B))",
                  ratio: { e in
                      guard let s = e.quantities["J_sft2"], let r = e.quantities["J_rl1"], let b = e.quantities["bound"] else { return nil }
                      return b - r > 1e-6 * (e.quantities["R_max"] ?? 1) ? (s - r) / (b - r) : nil
                  },
                  knownSupremum: 1, attained: false,
                  note: "Approached with two responses, r = ±R_max, B = E KL and p_SFT2 → p_RL1 (each step of the proof is then tight in the limit: |ΔE r| = 2R_max·TV, Pinsker, Jensen with one prompt).",
                  witness: WorkedExample("p_RL1 = (0.5, 0.5), p_SFT2 = (0.51, 0.49), r = (1, −1), B = KL(p_SFT2‖p_RL1)",
                                         ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [[0.51, 0.49]], reward: [[1, -1]], start: [[0.5, 0.5]]),
                                                       parameters: ["B": Dist.kl([0.51, 0.49], [0.5, 0.5])])))
    }
}

extension Thm41 {
    var paperVersion: PaperVersion { .v1 }
    /// A tie at the top of a non-constant reward, not a constant reward.
    func instructive(_ instance: ClaimInstance) -> Bool { rewardIsNonConstant(instance) }
    var workedExample: WorkedExample? {
        WorkedExample("a tie in the reward r = (1, 1, 0): p_RL1 = start (0.5, 0.5, 0) maximises J, SFT moves it to data (0.25, 0.75, 0) at KL 0.1308 ∈ [a, A] = [0.1, 0.2] without losing any reward",
                      ClaimInstance(family: .ties, instance: Generate.file(beta: 1, weights: [1], data: [[0.25, 0.75, 0]], reward: [[1, 1, 0]],
                                                                           start: [[0.5, 0.5, 0]]), parameters: ["a": 0.1, "A": 0.2]))
    }
    var failureExplanation: String? {
        "A maximiser of the unregularised J over the simplex is any policy supported on the reward's argmax set; when that set has two responses, SFT can move mass between them — a KL distance in [a, A] — at no cost in reward, so no C₂ > 0 exists (ties are the only way: with a unique argmax p_RL1 is a point mass, and A3's finite KL(p_SFT2‖p_RL1) forces p_SFT2 = p_RL1, contradicting a > 0)."
    }
}

extension Thm41Regularised {
    var workedExample: WorkedExample? {
        WorkedExample("π_ref uniform, r = (1, 0, −1), β = 0.5, p_SFT2 = data (0.6, 0.3, 0.1) at KL 0.245 from the Gibbs maximiser; a = 0.1",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                                                     reference: [[1.0 / 3, 1.0 / 3, 1 - 2.0 / 3]]), parameters: ["a": 0.1]))
    }
    var tightness: Tightness? {
        Tightness(measure: "β·a / (J_β(p_RL1) − J_β(p_SFT2))",
                  ratio: { e in
                      guard let j1 = e.quantities["J_beta_rl1"], let j2 = e.quantities["J_beta_sft2"], let b = e.quantities["bound"] else { return nil }
                      return j1 - j2 > 1e-6 * Swift.max(1, abs(j1)) ? (j1 - b) / (j1 - j2) : nil
                  },
                  knownSupremum: 1, attained: true, note: "J_β(π) = J_β(p_RL1) − β·E KL(π‖p_RL1) exactly, so the ratio is a/E KL: 1 when a equals the KL.",
                  witness: WorkedExample("π_ref = (0.5, 0.5), r = (1, 0), β = 1, p_SFT2 = (0.5, 0.5), a = 0.99·KL(p_SFT2‖p_RL1)",
                                         ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [[0.5, 0.5]], reward: [[1, 0]], reference: [[0.5, 0.5]]),
                                                       parameters: ["a": 0.99 * Dist.kl([0.5, 0.5], Dist.gibbs(reference: [0.5, 0.5], reward: [1, 0], beta: 1))])))
    }
}
