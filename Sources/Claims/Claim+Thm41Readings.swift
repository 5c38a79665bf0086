import Foundation
import RealModule
import Linalg
import Policies

/// Rewards with no tie: n distinct values, scale log-uniform in [1e-1, 1e1].
func untiedReward(_ g: inout SeededGenerator, _ n: Int) -> [Double] {
    let scale = Foundation.pow(10, g.uniform(-1, 1))
    var r: [Double] = []
    while r.count < n {
        let v = scale * g.uniform(-1, 1)
        if !r.contains(v) { r.append(v) }
    }
    return r
}

/// The A3 band [a, A] around a measured KL: a ≤ KL ≤ A with random slack (A3 kept), or a above the
/// KL (A3 dropped).
func a3Band(_ g: inout SeededGenerator, kl: Double, dropping: Set<String>) -> [String: Double] {
    let base = kl.isFinite && kl > 0 ? kl : 1
    let lower = dropping.contains("A3") ? base * g.uniform(1.1, 3) : base * g.uniform(0.1, 1)
    return ["a": lower, "A": base * g.uniform(1, 3)]
}

/// Margin of 0 < a ≤ kl ≤ A.
func a3Margin<T: Real & BinaryFloatingPoint>(kl: T, lo: T, hi: T) -> T {
    Swift.min(lo > 0 ? 1 : -1, inequalityMargin(lo, kl, scale: lo), inequalityMargin(kl, hi, scale: hi))
}

/// Thm 4.1 with the RL stage the paper runs: p_RL1 is the Gibbs optimum of J_β from π_ref (Eq. 8),
/// the conclusion is on the unregularised J (Eq. 18), A3 with its band [a, A].
struct Thm41Gibbs: PrecisionGenericClaim {
    let id = "thm4.1-gibbs"
    let reference = "Thm 4.1 (Gibbs RL stage)"
    let statement = "RL-then-SFT with the RL stage of the paper's pipeline: p_RL1 = π_ref·e^{r/β}/Z_β (the Gibbs optimum of J_β, Eq. 8); under A3 (0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A), J(p_SFT2) ≤ J(p_RL1) − C₂ with C₂ > 0 for the unregularised J (Eq. 18), i.e. J(p_SFT2) < J(p_RL1) strictly."
    let hypotheses = [Hypothesis("A3", "0 < a ≤ E_x KL(p_SFT2‖p_RL1) ≤ A < ∞"), Hypothesis("β > 0", "the KL coefficient is positive")]
    let families: [Family] = [.tabularMulti, .tabularSingle]
    let strict = true

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = family == .tabularSingle ? 1 : g.int(2...4)
        let sizes = (0..<m).map { _ in g.int(2...6) }
        let beta = Foundation.pow(10, g.uniform(-2, 1))
        let reward = sizes.map { untiedReward(&g, $0) }
        let reference = sizes.map { Generate.positiveSimplex(&g, $0) }
        // p_SFT2: the Gibbs optimum mixed with a random positive point (an SFT stage that moved it).
        let sft: [[Double]] = sizes.indices.map { x in
            let p = Dist.gibbs(reference: reference[x], reward: reward[x], beta: beta)
            let s = Foundation.pow(10, g.uniform(-3, 0))
            let u = Generate.positiveSimplex(&g, sizes[x])
            return zip(p, u).map { (1 - s) * $0 + s * $1 }
        }
        let f = Generate.file(beta: beta, weights: Generate.weights(&g, m), data: sft, reward: reward, reference: reference)
        let a = Arrays<Double>(f)
        let kl = a.average { x in
            let lp = DistOf<Double>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            return Dist.kl(a.data[x], lp.map { Foundation.exp($0) }, logQ: lp)
        }
        return ClaimInstance(family: family, instance: f, parameters: a3Band(&g, kl: kl, dropping: dropping))
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        guard a.beta > 0 else { throw ClaimError.invalid("thm4.1-gibbs: the Gibbs optimum needs beta > 0") }
        let lo = T(try ci.parameter("a")), hi = T(try ci.parameter("A"))
        var kl: T = 0, jRL: T = 0, jSFT: T = 0
        for x in a.prompts where a.q[x] > 0 {
            let lp = DistOf<T>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            let p = lp.map { T.exp($0) }
            kl += a.q[x] * DistOf<T>.kl(a.data[x], p, logQ: lp)
            jRL += a.q[x] * DistOf<T>.expectation(p, a.reward[x])
            jSFT += a.q[x] * DistOf<T>.expectation(a.data[x], a.reward[x])
        }
        let scale = Swift.max(a.rewardBound, T.leastNormalMagnitude)
        return evaluation(hypotheses: ["A3": a3Margin(kl: kl, lo: lo, hi: hi), "β > 0": a.beta],
                          conclusion: (jRL - jSFT) / scale,
                          quantities: ["kl": kl, "a": lo, "A": hi, "J_rl1": jRL, "J_sft2": jSFT, "J_max": a.average { a.reward[$0].max() ?? 0 }])
    }

    var workedExample: WorkedExample? {
        WorkedExample("one prompt, r = (1, 0), π_ref = (½, ½), β = 1: p_RL1 = (e, 1)/(1 + e) = (0.731, 0.269) keeps mass on the worse response; SFT to p_SFT2 = data (0.9, 0.1), at KL 0.0957 ∈ [a, A] = [0.05, 0.2], raises J from 0.731 to 0.9",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [[0.9, 0.1]], reward: [[1, 0]], reference: [[0.5, 0.5]]),
                                    parameters: ["a": 0.05, "A": 0.2]))
    }
    var failureExplanation: String? {
        "The Gibbs optimum of J_β is not a maximiser of the unregularised J: it keeps mass on worse responses, so some SFT stage within A3's KL band (here one that moves all mass to the reward's argmax) raises J instead of lowering it; the sign of the change is indefinite in general."
    }
    /// No tie in the reward (ties are not why this reading fails), and a reference whose masses
    /// are at least 1% (numbers a reader can check by hand).
    func instructive(_ instance: ClaimInstance) -> Bool {
        rewardHasNoTie(instance) && (instance.instance?.references.joined().allSatisfy { $0 >= 0.01 } ?? true)
    }
}

/// Thm 4.1 with A3 measured the other way, E_x KL(p_RL1‖p_SFT2) ∈ [a, A], and a unique argmax.
struct Thm41Reverse: PrecisionGenericClaim {
    let id = "thm4.1-reverse"
    let reference = "Thm 4.1 (reverse-KL reading)"
    let statement = "RL-then-SFT with A3 as 0 < a ≤ E_x KL(p_RL1‖p_SFT2) ≤ A, p_RL1 a maximiser of the unregularised J over the simplex, and a unique argmax of the reward on every prompt: J(p_SFT2) < J(p_RL1) strictly."
    let hypotheses = [Hypothesis("A3", "0 < a ≤ E_x KL(p_RL1‖p_SFT2) ≤ A < ∞"),
                      Hypothesis("local-max", "p_RL1 maximises J: every p_RL1(·|x) is supported on argmax_y r(x, y)"),
                      Hypothesis("unique-argmax", "on every prompt the reward has one largest value (margin: the gap to the second largest, over R_max)")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    let strict = true

    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = family == .tabularSingle ? 1 : g.int(2...4)
        let sizes = (0..<m).map { _ in g.int(2...6) }
        var rewards: [[Double]] = [], rl: [[Double]] = [], sft: [[Double]] = []
        for n in sizes {
            var r = untiedReward(&g, n)
            if dropping.contains("unique-argmax") && g.uniform() < 0.7 {   // a tie at the top
                let top = r.indices.max { r[$0] < r[$1] }!
                r[(top + 1 + g.int(0...(n - 2))) % n] = r[top]
            }
            let best = r.max()!
            let argmax = r.indices.filter { r[$0] == best }
            var p1 = [Double](repeating: 0, count: n)
            if dropping.contains("local-max") { p1 = Generate.positiveSimplex(&g, n) } else {
                let w = argmax.map { _ in Double(g.int(1...8)) }
                let s = w.reduce(0, +)
                for (k, y) in argmax.enumerated() { p1[y] = w[k] / s }
            }
            // p_SFT2 must be positive where p_RL1 is (finite reverse KL): half the time only on the
            // argmax set (when it has two responses), else a mixture with a positive point.
            let p2: [Double]
            if argmax.count > 1 && g.uniform() < 0.5 {
                var q = [Double](repeating: 0, count: n)
                let w = argmax.map { _ in Double(g.int(1...8)) }
                let s = w.reduce(0, +)
                for (k, y) in argmax.enumerated() { q[y] = w[k] / s }
                p2 = q
            } else {
                let s = Foundation.pow(10, g.uniform(-3, 0))
                let u = Generate.positiveSimplex(&g, n)
                p2 = zip(p1, u).map { (1 - s) * $0 + s * $1 }
            }
            rewards.append(r); rl.append(p1); sft.append(p2)
        }
        let f = Generate.file(beta: 1, weights: Generate.weights(&g, m), data: sft, reward: rewards, start: rl)
        let kl = Arrays<Double>(f).average { Dist.kl(rl[$0], sft[$0]) }
        return ClaimInstance(family: family, instance: f, parameters: a3Band(&g, kl: kl, dropping: dropping))
    }

    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let lo = T(try ci.parameter("a")), hi = T(try ci.parameter("A"))
        let scale = Swift.max(a.rewardBound, T.leastNormalMagnitude)
        let kl = a.average { DistOf<T>.kl(a.start[$0], a.data[$0]) }
        let jRL = a.average { DistOf<T>.expectation(a.start[$0], a.reward[$0]) }
        let jSFT = a.average { DistOf<T>.expectation(a.data[$0], a.reward[$0]) }
        let jStar = a.average { a.reward[$0].max() ?? 0 }
        // The smallest gap between the largest and the second largest reward (−1 on a tie).
        var gap = T.infinity
        for x in a.prompts where a.q[x] > 0 && a.reward[x].count > 1 {
            let s = a.reward[x].sorted(by: >)
            gap = Swift.min(gap, s[0] > s[1] ? (s[0] - s[1]) / scale : -1)
        }
        return evaluation(hypotheses: ["A3": a3Margin(kl: kl, lo: lo, hi: hi), "local-max": -(jStar - jRL) / scale,
                                       "unique-argmax": gap.isFinite ? gap : 1],
                          conclusion: (jRL - jSFT) / scale,
                          quantities: ["reverse_kl": kl, "a": lo, "A": hi, "J_rl1": jRL, "J_sft2": jSFT, "J_max": jStar])
    }

    var workedExample: WorkedExample? {
        WorkedExample("unique argmax, r = (1, 0, −1): p_RL1 = start (1, 0, 0) maximises J; SFT to data (0.8, 0.15, 0.05) at KL(p_RL1‖p_SFT2) = 0.2231 ∈ [a, A] = [0.1, 0.5] loses reward: J drops from 1 to 0.75",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 1, weights: [1], data: [[0.8, 0.15, 0.05]], reward: [[1, 0, -1]], start: [[1, 0, 0]]),
                                    parameters: ["a": 0.1, "A": 0.5]))
    }
    func instructive(_ instance: ClaimInstance) -> Bool { rewardIsNonConstant(instance) }
}
