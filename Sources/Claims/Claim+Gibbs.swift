import Foundation
import RealModule
import Linalg
import Policies

/// A tabular instance for the SFT-then-RL claims: p_D = data (zeros allowed), p_SFT = start
/// (= p_D under H10), π_ref = reference (= p_SFT unless "ref-is-sft" is dropped), β log-uniform.
func sftThenRLInstance(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
    let m = family == .tabularSingle ? 1 : Generate.promptCount(&g)
    let sizes = (0..<m).map { _ in Generate.responseCount(&g) }
    let data = sizes.map { Generate.simplex(&g, $0) }
    let start: [[Double]]? = dropping.contains("H10") ? sizes.map { Generate.positiveSimplex(&g, $0) } : nil
    let sft = start ?? data
    let reference = dropping.contains("ref-is-sft") ? sizes.map { Generate.positiveSimplex(&g, $0) } : sft
    let f = Generate.file(beta: Generate.beta(&g), weights: Generate.weights(&g, m), data: data,
                          reward: sizes.map { Generate.reward(&g, $0) }, reference: reference, start: start)
    return ClaimInstance(family: family, instance: f)
}

/// Shared quantities of Thm 3.1 at precision T: ΔL = L_SFT(p_RL) − L_SFT(p_SFT), C₁(β), the reward
/// gain, and the hypotheses' margins.
struct SFTThenRL<T: Real & BinaryFloatingPoint> {
    let deltaL: T, c1: T, gain: T, h10: T, refIsSFT: T, beta: T, rmax: T

    init(_ f: InstanceFile) throws {
        guard f.beta > 0 else { throw ClaimError.invalid("the Gibbs optimum needs beta > 0, got \(f.beta)") }
        let a = Arrays<T>(f)
        beta = a.beta
        rmax = a.rewardBound
        var lRL: T = 0, lSFT: T = 0, c: T = 0, jRL: T = 0, jSFT: T = 0, tvD: T = 0, tvR: T = 0
        for x in a.prompts where a.q[x] > 0 {
            let q = a.q[x]
            let logRL = DistOf<T>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            let pRL = logRL.map { T.exp($0) }
            lRL += q * DistOf<T>.crossEntropy(a.data[x], pRL, logQ: logRL)
            lSFT += q * DistOf<T>.crossEntropy(a.data[x], a.start[x])
            c += q * (DistOf<T>.logPartition(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
                      - DistOf<T>.expectation(a.data[x], a.reward[x]) / a.beta)
            jRL += q * DistOf<T>.expectation(pRL, a.reward[x])
            jSFT += q * DistOf<T>.expectation(a.start[x], a.reward[x])
            tvD = Swift.max(tvD, DistOf<T>.tv(a.start[x], a.data[x]))
            tvR = Swift.max(tvR, DistOf<T>.tv(a.reference[x], a.start[x]))
        }
        deltaL = lRL - lSFT
        c1 = c
        gain = jRL - jSFT
        h10 = -tvD
        refIsSFT = -tvR
    }

    var hypotheses: [String: T] { ["H10": h10, "ref-is-sft": refIsSFT, "β > 0": beta] }
    var quantities: [String: T] { ["delta_sft_loss": deltaL, "C1": c1, "reward_gain": gain, "beta": beta] }
}

/// Eq. 8: the Gibbs tilt maximises J_β over the simplex, with value β·E_x log Z_β(x).
struct EqGibbs: PrecisionGenericClaim {
    let id = "eq8-gibbs"
    let reference = "Eq. 8"
    let statement = "p*(y|x) = π_ref(y|x)e^{r(x,y)/β}/Z_β(x) maximises J_β over all conditionals, and J_β(p*) = β·E_x log Z_β(x); checked against random and nearby competitors π."
    let hypotheses = [Hypothesis("β > 0", "the KL coefficient is positive")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        let m = family == .tabularSingle ? 1 : Generate.promptCount(&g)
        let sizes = (0..<m).map { _ in Generate.responseCount(&g) }
        let ref = sizes.map { Generate.simplex(&g, $0) }
        let r = sizes.map { Generate.reward(&g, $0) }
        let beta = dropping.contains("β > 0") ? -Generate.beta(&g) : Generate.beta(&g)
        var comp = sizes.map { Generate.simplex(&g, $0) }
        if g.uniform() < 0.5 && beta > 0 {   // a competitor near the optimum
            let s = Foundation.pow(10, g.uniform(-6, 0))
            comp = comp.indices.map { x in
                let p = Dist.gibbs(reference: ref[x], reward: r[x], beta: beta)
                return zip(p, comp[x]).map { (1 - s) * $0 + s * $1 }
            }
        }
        var f = Generate.file(beta: abs(beta), weights: Generate.weights(&g, m), data: comp, reward: r, reference: ref, start: comp)
        f.beta = beta   // may be negative only when "β > 0" is dropped
        return ClaimInstance(family: family, instance: f)
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        guard a.beta > 0 else { throw ClaimError.invalid("eq8-gibbs: the Gibbs tilt needs beta > 0, got \(Double(a.beta))") }
        var jPi: T = 0, jStar: T = 0, value: T = 0
        for x in a.prompts where a.q[x] > 0 {
            let lp = DistOf<T>.logGibbs(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
            let p = lp.map { T.exp($0) }
            jStar += a.q[x] * DistOf<T>.regularizedReward(p, reward: a.reward[x], reference: a.reference[x], beta: a.beta, logP: lp)
            let pi = a.start[x]
            jPi += a.q[x] * DistOf<T>.regularizedReward(pi, reward: a.reward[x], reference: a.reference[x], beta: a.beta)
            value += a.q[x] * a.beta * DistOf<T>.logPartition(reference: a.reference[x], reward: a.reward[x], beta: a.beta)
        }
        let m = Swift.min(inequalityMargin(jPi, jStar, scale: Swift.max(abs(jStar), a.rewardBound)), identityMargin(jStar, value))
        return evaluation(hypotheses: ["β > 0": a.beta], conclusion: m,
                          quantities: ["J_beta_competitor": jPi, "J_beta_gibbs": jStar, "beta_E_log_Z": value])
    }
}

/// Thm 3.1, conclusion: SFT-then-RL raises the SFT loss, L_SFT(p_RL) ≥ L_SFT(p_SFT).
struct Thm31: PrecisionGenericClaim {
    let id = "thm3.1"
    let reference = "Thm 3.1"
    let statement = "SFT-then-RL: under H10 (p_SFT = p_D), with π_ref = p_SFT and p_RL the Gibbs optimum of J_β, L_SFT(p_RL) ≥ L_SFT(p_SFT)."
    let hypotheses = [Hypothesis("H10", "SFT optimality: p_SFT(·|x) = p_D(·|x) for every prompt"),
                      Hypothesis("ref-is-sft", "the RL reference is the SFT model: π_ref = p_SFT"),
                      Hypothesis("β > 0", "the KL coefficient is positive")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        sftThenRLInstance(&g, family: family, dropping: dropping)
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let s = try SFTThenRL<T>(ci.requireInstance())
        return evaluation(hypotheses: s.hypotheses, conclusion: squash(s.deltaL), quantities: s.quantities)
    }
}

/// Thm 3.1, the proof's identity: L_SFT(p_RL) − L_SFT(p_SFT) = C₁(β) = E_x[log Z_β(x) − E_{p_D}[r]/β].
struct Thm31Identity: PrecisionGenericClaim {
    let id = "thm3.1-identity"
    let reference = "Thm 3.1 (proof)"
    let statement = "Under H10 with π_ref = p_SFT: L_SFT(p_RL) − L_SFT(p_SFT) = C₁(β) = E_x[log Z_β(x) − E_{p_D}[r]/β] (non-negative by Jensen)."
    let hypotheses = Thm31().hypotheses
    let families: [Family] = [.tabularSingle, .tabularMulti]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        sftThenRLInstance(&g, family: family, dropping: dropping)
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let s = try SFTThenRL<T>(ci.requireInstance())
        return evaluation(hypotheses: s.hypotheses, conclusion: Swift.min(identityMargin(s.deltaL, s.c1), squash(s.c1)), quantities: s.quantities)
    }
}

/// Thm 3.1, the remark: any non-trivial reward gain forces a strictly positive SFT-loss increase.
struct Thm31Gain: PrecisionGenericClaim {
    let id = "thm3.1-gain"
    let reference = "Thm 3.1 (remark)"
    let statement = "Under H10 with π_ref = p_SFT: if RL gains reward (J(p_RL) > J(p_SFT), by at least 1e-6·R_max, so that the loss change is numerically resolvable), then L_SFT(p_RL) > L_SFT(p_SFT) strictly."
    let hypotheses = Thm31().hypotheses + [Hypothesis("gain", "RL gains reward: J(p_RL) − J(p_SFT) ≥ 1e-6·R_max")]
    let families: [Family] = [.tabularSingle, .tabularMulti]
    let strict = true
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        sftThenRLInstance(&g, family: family, dropping: dropping)
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let s = try SFTThenRL<T>(ci.requireInstance())
        var h = s.hypotheses
        h["gain"] = s.rmax > 0 ? s.gain / s.rmax - T(1e-6) : -1
        return evaluation(hypotheses: h, conclusion: squash(s.deltaL), quantities: s.quantities)
    }
}

// MARK: What each claim knows (worked example, paper version)

/// The hand instance of the Thm 3.1 claims: H10 with π_ref = p_SFT = p_D = (0.7, 0.2, 0.1), r = (0, 1, 0), β = 0.5.
let thm31Example = WorkedExample(
    "one prompt, three responses: p_SFT = p_D = π_ref = (0.7, 0.2, 0.1) (H10), the reward prefers the data's second response, r = (0, 1, 0), β = 0.5",
    ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 0.5, weights: [1], data: [[0.7, 0.2, 0.1]], reward: [[0, 1, 0]], reference: [[0.7, 0.2, 0.1]])))

extension EqGibbs {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? {
        WorkedExample("π_ref = reference (0.5, 0.3, 0.2), r = (1, 0, −1), β = 0.5; the competitor π is start (0.6, 0.3, 0.1)",
                      ClaimInstance(family: .tabularSingle, instance: Generate.file(beta: 0.5, weights: [1], data: [[0.6, 0.3, 0.1]], reward: [[1, 0, -1]],
                                                                                     reference: [[0.5, 0.3, 0.2]], start: [[0.6, 0.3, 0.1]])))
    }
}
extension Thm31 {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? { thm31Example }
}
extension Thm31Identity { var workedExample: WorkedExample? { thm31Example } }
extension Thm31Gain { var workedExample: WorkedExample? { thm31Example } }
