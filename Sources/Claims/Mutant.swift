import Foundation
import Linalg

/// A false near-variant of a claim ("mutant"), whose falsity is known by proof: a constant
/// tightened by a small relative amount where the inequality is tight, a margin required to exceed
/// a small fraction of its scale, an identity with one side perturbed, or a hypothesis dropped that
/// the proof needs. `sftrl power` runs the default check and search on every mutant: a mutant that
/// is not caught measures a blind spot of the checker.
///
/// A mutant reads its base claim's evaluation (Double and extended precision) and recomputes the
/// conclusion margin from it (`margin`), so the base claim's file stays as it is; its generator is
/// the base claim's, with `dropped` hypotheses no longer enforced, and its hypotheses are the base
/// claim's minus `dropped`. Certification is the usual `Judgement` on the mutant's margins.
public struct Mutant: Claim {
    public let base: any Claim
    /// A short name, unique per claim ("tighten-1e-3", "drop-H10", …).
    public let name: String
    /// What was changed, in words.
    public let change: String
    /// Why the variant is false (the proof, in one sentence).
    public let whyFalse: String
    /// Hypotheses of the base claim the mutant no longer requires.
    public let dropped: Set<String>
    /// The mutant's conclusion margin from the base claim's evaluation (nil: keep the base margin).
    let margin: (@Sendable (Evaluation) -> Double)?

    public init(_ base: any Claim, name: String, change: String, whyFalse: String, dropped: Set<String> = [],
                margin: (@Sendable (Evaluation) -> Double)?) {
        self.base = base; self.name = name; self.change = change; self.whyFalse = whyFalse; self.dropped = dropped; self.margin = margin
    }

    public var id: String { base.id + "~" + name }
    public var reference: String { base.reference + " (mutant)" }
    public var statement: String { "MUTANT (false by proof) of \(base.id): \(change)" }
    public var hypotheses: [Hypothesis] { base.hypotheses.filter { !dropped.contains($0.name) } }
    public var families: [Family] { base.families }
    public var strict: Bool { base.strict }
    public var shrinkable: Bool { base.shrinkable }
    public var searchFrozen: Set<String> { base.searchFrozen }
    public var paperVersion: PaperVersion { base.paperVersion }
    public func instructive(_ instance: ClaimInstance) -> Bool { true }

    public func generate(_ g: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance {
        base.generate(&g, family: family, dropping: dropping.union(dropped))
    }
    public func evaluate(_ ci: ClaimInstance) throws -> Evaluation { mutate(try base.evaluate(ci)) }
    public func evaluateExtended(_ ci: ClaimInstance) throws -> Evaluation { mutate(try base.evaluateExtended(ci)) }

    func mutate(_ e: Evaluation) -> Evaluation {
        var m = e
        m.hypotheses = e.hypotheses.filter { !dropped.contains($0.key) }
        if let margin { m.conclusion = margin(e) }
        return m
    }
}

/// Mutant margins built from an evaluation's quantities (one place for each kind of change).
public enum MutantMargin {
    /// lhs ≤ f·rhs as a relative margin (f·rhs − lhs)/max(|rhs|, tiny): the constant on the right
    /// tightened by the factor f < 1 (NaN when a quantity is missing: an error, never evidence).
    public static func tightened(_ lhs: String, _ rhs: String, factor: Double) -> @Sendable (Evaluation) -> Double {
        { e in
            guard let l = e.quantities[lhs], let r = e.quantities[rhs] else { return .nan }
            return (factor * r - l) / Swift.max(abs(r), Double.leastNormalMagnitude)
        }
    }

    /// a = b with a multiplied by f: identityTolerance − |f·a − b|/max(|f·a|, |b|, 1), the
    /// identity's own margin with one side perturbed by the relative amount f − 1.
    public static func perturbedIdentity(_ a: String, _ b: String, factor: Double) -> @Sendable (Evaluation) -> Double {
        { e in
            guard let x = e.quantities[a], let y = e.quantities[b] else { return .nan }
            let fa = factor * x
            return identityTolerance - abs(fa - y) / Swift.max(abs(fa), abs(y), 1)
        }
    }

    /// The conclusion margin minus ε: "≥ 0" strengthened to "≥ ε" on the margin's own scale (the
    /// margins are normalised by the claim's scale, so ε is a fraction of it).
    public static func shifted(_ epsilon: Double) -> @Sendable (Evaluation) -> Double { { e in e.conclusion - epsilon } }
}
