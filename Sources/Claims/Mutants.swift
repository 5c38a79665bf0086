import Foundation

/// Every claim's registered mutants (false near-variants, see `Mutant`), grouped like the claim
/// files: `Mutants+Inequalities.swift` (closed-form v1 statements and readings) and
/// `Mutants+Dynamics.swift` (landscapes, flows, sampled algorithms), `Mutants+Practical.swift`
/// (the practical methods and KL placements). The registry test requires
/// every claim of `Registry.all` to have at least one.
public enum Mutants {
    /// The relative size of every tightening and shift (10⁻³ of the quantity's scale).
    public static let epsilon = 1e-3

    public static var all: [Mutant] { closedForm + dynamics + practical + binaryReward }

    /// The mutants of one claim (empty for an unknown id).
    public static func of(_ id: String) -> [Mutant] { all.filter { $0.base.id == id } }

    /// The base claim of a mutant list entry (the registry's instance, so ids always agree).
    static func base(_ id: String) -> any Claim {
        guard let c = try? Registry.claim(id) else { preconditionFailure("Mutants: no claim \(id) in the registry") }
        return c
    }

    /// "≥ 0" strengthened to "≥ ε" on the margin's own scale. False by proof exactly when the
    /// claim's margin has infimum 0 over instances meeting its hypotheses (its `why`).
    static func shift(_ id: String, why: String) -> Mutant {
        Mutant(base(id), name: "shift-1e-3", change: "the conclusion margin must be at least 10⁻³ of its scale (≥ 0 strengthened to ≥ ε·scale)",
               whyFalse: why, margin: MutantMargin.shifted(epsilon))
    }

    /// An identity a = b with a multiplied by 1 + ε. False wherever a ≠ 0, since a = b exactly.
    static func perturb(_ id: String, _ a: String, _ b: String, in words: String) -> Mutant {
        Mutant(base(id), name: "perturb-1e-3", change: "\(words) with its left side multiplied by 1 + 10⁻³",
               whyFalse: "the identity holds exactly, so (1 + 10⁻³)·a = b fails wherever a ≠ 0",
               margin: MutantMargin.perturbedIdentity(a, b, factor: 1 + epsilon))
    }

    /// lhs ≤ (1 − ε)·rhs: the constant tightened where the inequality is sharp.
    static func tighten(_ id: String, _ lhs: String, _ rhs: String, in words: String, why: String) -> Mutant {
        Mutant(base(id), name: "tighten-1e-3", change: "\(words) with the right side multiplied by 1 − 10⁻³",
               whyFalse: why, margin: MutantMargin.tightened(lhs, rhs, factor: 1 - epsilon))
    }

    /// The base claim with a hypothesis dropped (conclusion unchanged).
    static func drop(_ id: String, _ hypothesis: String, why: String) -> Mutant {
        Mutant(base(id), name: "drop-\(hypothesis.replacingOccurrences(of: " ", with: ""))", change: "the hypothesis \(hypothesis) dropped",
               whyFalse: why, dropped: [hypothesis], margin: nil)
    }
}
