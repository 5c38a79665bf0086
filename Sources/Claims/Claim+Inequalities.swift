import Foundation
import RealModule
import Linalg
import Policies

/// A pair (or triple) of distributions on n points stored in one prompt of an instance:
/// p = data, q = start, r = reference, f = reward.
private func distributionInstance(_ g: inout SeededGenerator, family: String, maxN: Int = 512) -> ClaimInstance {
    let n = family == "small" ? g.int(2...10) : Generate.responseCount(&g, max: maxN)
    let f = Generate.file(beta: 1, weights: [1], data: [Generate.simplex(&g, n)], reward: [Generate.reward(&g, n)],
                          reference: [Generate.simplex(&g, n)], start: [Generate.simplex(&g, n)])
    return ClaimInstance(family: family, instance: f)
}

/// Eq. 3: TV(p, q) = ½‖p − q‖₁, checked against the definition sup_A |p(A) − q(A)| by enumerating
/// every event A (n ≤ 10).
struct EqTV: PrecisionGenericClaim {
    let id = "eq3-tv"
    let reference = "Eq. 3"
    let statement = "TV(p, q) = ½‖p − q‖₁, where TV(p, q) = sup over events A of |p(A) − q(A)|."
    let hypotheses: [Hypothesis] = []
    let families = ["small"]
    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        distributionInstance(&g, family: "small")
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let p = a.data[0], q = a.start[0]
        guard p.count <= 16 else { throw ClaimError.invalid("eq3-tv enumerates events: at most 16 responses") }
        var sup: T = 0
        for mask in 0..<(1 << p.count) {
            var d: T = 0
            for y in p.indices where mask & (1 << y) != 0 { d += p[y] - q[y] }
            sup = Swift.max(sup, abs(d))
        }
        let half = DistOf<T>.tv(p, q)
        return evaluation(conclusion: identityMargin(half, sup), quantities: ["half_l1": half, "sup_events": sup])
    }
}

/// Eq. 4: TV(p, r) ≤ TV(p, q) + TV(q, r).
struct EqTriangle: PrecisionGenericClaim {
    let id = "eq4-triangle"
    let reference = "Eq. 4"
    let statement = "TV satisfies the triangle inequality: TV(p, r) ≤ TV(p, q) + TV(q, r)."
    let hypotheses: [Hypothesis] = []
    let families = ["generic"]
    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        distributionInstance(&g, family: family)
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let p = a.data[0], q = a.start[0], r = a.reference[0]
        let lhs = DistOf<T>.tv(p, r), rhs = DistOf<T>.tv(p, q) + DistOf<T>.tv(q, r)
        return evaluation(conclusion: inequalityMargin(lhs, rhs, scale: 1), quantities: ["tv_pr": lhs, "tv_pq_plus_tv_qr": rhs])
    }
}

/// Eq. 5 and its readings: |E_p f − E_q f| ≤ c(f)·TV(p, q) with c(f) = sup|f| (as printed),
/// 2·sup|f| (the standard bound) or max f − min f (the sharp bound).
struct EqExpectationBound: PrecisionGenericClaim {
    enum Reading: String, CaseIterable { case printed, twiceSup, oscillation }
    let reading: Reading
    var id: String { ["eq5", "eq5-2sup", "eq5-osc"][Reading.allCases.firstIndex(of: reading)!] }
    let reference = "Eq. 5"
    var statement: String {
        switch reading {
        case .printed: return "As printed: |E_p f − E_q f| ≤ sup|f| · TV(p, q) for bounded f."
        case .twiceSup: return "Reading with the factor 2: |E_p f − E_q f| ≤ 2·sup|f| · TV(p, q)."
        case .oscillation: return "Reading with the oscillation: |E_p f − E_q f| ≤ (max f − min f) · TV(p, q)."
        }
    }
    let hypotheses: [Hypothesis] = []
    let families = ["generic"]
    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        distributionInstance(&g, family: family)
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let p = a.data[0], q = a.start[0], f = a.reward[0]
        let lhs = abs(DistOf<T>.expectation(p, f) - DistOf<T>.expectation(q, f))
        let sup = f.map { abs($0) }.max() ?? 0
        let c: T
        switch reading {
        case .printed: c = sup
        case .twiceSup: c = 2 * sup
        case .oscillation: c = (f.max() ?? 0) - (f.min() ?? 0)
        }
        let tv = DistOf<T>.tv(p, q)
        return evaluation(conclusion: inequalityMargin(lhs, c * tv, scale: sup),
                          quantities: ["lhs": lhs, "constant": c, "tv": tv, "rhs": c * tv])
    }
}

/// Eq. 6, Pinsker: TV(p, q) ≤ √(½ KL(p‖q)).
struct EqPinsker: PrecisionGenericClaim {
    let id = "eq6-pinsker"
    let reference = "Eq. 6"
    let statement = "Pinsker's inequality: TV(p, q) ≤ √(½ KL(p‖q)) (natural logarithm)."
    let hypotheses: [Hypothesis] = []
    let families = ["generic"]
    func generate(_ g: inout SeededGenerator, family: String, dropping: Set<String>) -> ClaimInstance {
        var ci = distributionInstance(&g, family: family)
        // Half the time q is a small perturbation of p, where Pinsker is tightest.
        if g.uniform() < 0.5 {
            let p = ci.instance!.prompts[0].data
            let s = Foundation.pow(10, g.uniform(-4, 0))
            let u = Generate.positiveSimplex(&g, p.count)
            ci.instance!.prompts[0].start = zip(p, u).map { (1 - s) * $0 + s * $1 }
        }
        return ci
    }
    func margins<T: Real & BinaryFloatingPoint>(_ ci: ClaimInstance, _: T.Type) throws -> Evaluation {
        let a = Arrays<T>(try ci.requireInstance())
        let p = a.data[0], q = a.start[0]
        let tv = DistOf<T>.tv(p, q), kl = DistOf<T>.kl(p, q)
        let rhs = (kl / 2).squareRoot()
        return evaluation(conclusion: inequalityMargin(tv, rhs, scale: 1), quantities: ["tv": tv, "kl": kl, "sqrt_half_kl": rhs])
    }
}
