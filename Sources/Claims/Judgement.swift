import Foundation

/// The one rule that turns the two evaluations of an instance (Double and extended precision) into
/// an outcome. `Runner` (check), `Searcher` (search), `sftrl check --replay` and `sftrl explain` all
/// judge through it, so that a violation is called certified in exactly one way:
///
/// 1. every non-dropped hypothesis must hold in Double (else `hypothesesNotMet`, naming them);
/// 2. the conclusion must be violated in Double (else `holds`);
/// 3. every non-dropped hypothesis must hold in extended precision too (else `roundoff`: the
///    instance meets the hypotheses only by the rounding of Double);
/// 4. the extended conclusion margin must be below −`certificationTolerance`, or, for a strict
///    claim, exactly 0 in extended precision (an exact tie, `Evaluation.certifies`); else `roundoff`.
public struct Judgement: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        case holds
        case certified = "violated (certified)"
        case roundoff = "violated in Double only (round-off)"
        case hypothesesNotMet = "hypotheses not met"
    }

    public var outcome: Outcome
    public var double: Evaluation
    public var extended: Evaluation?
    /// Non-dropped hypotheses not met in Double (outcome `hypothesesNotMet`).
    public var unmet: [String]
    /// Non-dropped hypotheses met in Double but not in extended precision (a round-off outcome).
    public var unmetExtended: [String]

    /// Judges given evaluations (`extended` nil when its evaluation threw: never certified).
    public init(claim: any Claim, double e: Evaluation, extended x: Evaluation?, dropping: Set<String>) {
        double = e
        extended = x
        unmet = e.hypotheses.filter { !dropping.contains($0.key) && !($0.value >= 0) }.map(\.key).sorted()
        unmetExtended = []
        if !unmet.isEmpty { outcome = .hypothesesNotMet; return }
        if !e.violates(strict: claim.strict) { outcome = .holds; return }
        guard let x else { outcome = .roundoff; return }
        unmetExtended = x.hypotheses.filter { !dropping.contains($0.key) && !($0.value >= 0) }.map(\.key).sorted()
        outcome = unmetExtended.isEmpty && Evaluation.certifies(double: e, extended: x, strict: claim.strict) ? .certified : .roundoff
    }

    /// Evaluates `instance` in both precisions and judges it. Throws only when the Double
    /// evaluation throws.
    public init(claim: any Claim, instance: ClaimInstance, dropping: Set<String>) throws {
        let e = try claim.evaluate(instance)
        let x = try? claim.evaluateExtended(instance)
        self.init(claim: claim, double: e, extended: x, dropping: dropping)
    }

    /// One line a reader can act on.
    public var sentence: String {
        switch outcome {
        case .holds: return "conclusion holds"
        case .certified: return "VIOLATED (certified: the sign survives the extended-precision re-check, margin below −\(certificationTolerance) or an exact tie)"
        case .roundoff:
            if !unmetExtended.isEmpty {
                return "violated in Double only (round-off): the hypotheses \(unmetExtended.joined(separator: ", ")) hold in Double but not in extended precision"
            }
            return "violated in Double only (round-off): the extended-precision margin \(extended.map { "\($0.conclusion)" } ?? "(evaluation failed)") does not certify it"
        case .hypothesesNotMet: return "hypotheses not met: \(unmet.joined(separator: ", "))"
        }
    }
}
