import Foundation
import RealModule
import Linalg
import Policies

/// A pair (or triple) of distributions on n points stored in one prompt of an instance:
/// p = data, q = start, r = reference, f = reward.
private func distributionInstance(_ g: inout SeededGenerator, family: Family, maxN: Int = 512) -> ClaimInstance {
    let n = family == .small ? g.int(2...10) : Generate.responseCount(&g, max: maxN)
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
    let families: [Family] = [.small]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        distributionInstance(&g, family: .small)
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
    let families: [Family] = [.generic]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
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
    let families: [Family] = [.generic]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
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
    let families: [Family] = [.generic]
    func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
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

// MARK: What each claim knows (worked example, tightness, paper version)

/// One prompt: p = data, q = start, r = reference, f = reward (the distribution claims' layout).
func distributionPair(_ p: [Double], _ q: [Double], reference: [Double], reward: [Double]) -> ClaimInstance {
    ClaimInstance(family: .generic, instance: Generate.file(beta: 1, weights: [1], data: [p], reward: [reward], reference: [reference], start: [q]))
}

extension EqTV {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? {
        WorkedExample("p = data (0.5, 0.3, 0.2), q = start (0.2, 0.3, 0.5): TV = 0.3, attained by the event {y₀}",
                      ClaimInstance(family: .small, instance: distributionPair([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], reference: [0.2, 0.5, 0.3], reward: [1, 0, -1]).instance))
    }
}

extension EqTriangle {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? {
        WorkedExample("p = data (0.5, 0.3, 0.2), q = start (0.2, 0.3, 0.5), r = reference (0.1, 0.6, 0.3): TV(p, r) = 0.4 ≤ 0.3 + 0.3",
                      distributionPair([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], reference: [0.1, 0.6, 0.3], reward: [1, 0, -1]))
    }
    var tightness: Tightness? {
        Tightness(measure: "TV(p,r) / (TV(p,q) + TV(q,r))", ratio: Tightness.quotient("tv_pr", "tv_pq_plus_tv_qr", floor: 1e-6),
                  knownSupremum: 1, attained: true, note: "Equality when q lies between p and r coordinatewise (e.g. on the segment).",
                  witness: WorkedExample("q = start (0.35, 0.4, 0.25) on the segment between p = data (0.5, 0.3, 0.2) and r = reference (0.2, 0.5, 0.3)",
                                         distributionPair([0.5, 0.3, 0.2], [0.35, 0.4, 0.25], reference: [0.2, 0.5, 0.3], reward: [1, 0, -1])))
    }
}

extension EqExpectationBound {
    var paperVersion: PaperVersion { reading == .printed ? .v1 : .v1Reading }
    var workedExample: WorkedExample? {
        WorkedExample("p = data (0, 1) and q = start (1, 0) are point masses, f = reward (−1, 1): |E_p f − E_q f| = 2, sup|f| = 1, TV = 1",
                      distributionPair([0, 1], [1, 0], reference: [0.5, 0.5], reward: [-1, 1]))
    }
    var failureExplanation: String? {
        reading == .printed ? "The printed constant sup|f| is too small by a factor 2: f = +1 where p > q and −1 where p < q gives |E_p f − E_q f| = 2·sup|f|·TV." : nil
    }
    var tightness: Tightness? {
        let ratio: @Sendable (Evaluation) -> Double? = { e in (e.quantities["tv"] ?? 0) > 1e-6 ? Tightness.quotient("lhs", "rhs")(e) : nil }
        let witness = WorkedExample("p = (0.6, 0.4), q = (0.2, 0.8), f = (1, −1): f takes +sup|f| where p > q and −sup|f| where p < q",
                                    distributionPair([0.6, 0.4], [0.2, 0.8], reference: [0.5, 0.5], reward: [1, -1]))
        switch reading {
        case .printed:
            return Tightness(measure: "|E_p f − E_q f| / (sup|f|·TV)", ratio: ratio, knownSupremum: 2, attained: true,
                             note: "As printed the constant is too small by 2: f = ±c on the two sides of p − q attains ratio 2.", witness: witness)
        case .twiceSup:
            return Tightness(measure: "|E_p f − E_q f| / (2 sup|f|·TV)", ratio: ratio, knownSupremum: 1, attained: true,
                             note: "Attained by f = +sup|f| where p > q and −sup|f| where p < q.", witness: witness)
        case .oscillation:
            return Tightness(measure: "|E_p f − E_q f| / ((max f − min f)·TV)", ratio: ratio, knownSupremum: 1, attained: true,
                             note: "Attained by f taking its max where p > q and its min where p < q.", witness: witness)
        }
    }
}

extension EqPinsker {
    var paperVersion: PaperVersion { .v1 }
    var workedExample: WorkedExample? {
        WorkedExample("p = data (0.5, 0.5), q = start (0.9, 0.1): TV = 0.4, KL(p‖q) = 0.5108",
                      distributionPair([0.5, 0.5], [0.9, 0.1], reference: [0.5, 0.5], reward: [1, 0]))
    }
    var tightness: Tightness? {
        Tightness(measure: "TV(p,q) / √(KL(p‖q)/2)", ratio: Tightness.quotient("tv", "sqrt_half_kl", floor: 1e-6), knownSupremum: 1, attained: false,
                  note: "Pinsker's constant is sharp: the ratio tends to 1 as q → p along a two-point perturbation, and is < 1 for every p ≠ q.",
                  witness: WorkedExample("p = (0.5, 0.5), q = (0.51, 0.49): ratio 1 − O(ε²)", distributionPair([0.5, 0.5], [0.51, 0.49], reference: [0.5, 0.5], reward: [1, 0])))
    }
}
