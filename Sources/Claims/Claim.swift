import Foundation
import Linalg
import Policies

/// One instance a claim is checked on: an instance in the foundation's JSON schema (when the claim
/// is about policies or distributions), named scalar parameters (B, a, A, λ, k, η, …) and, for the
/// quadratic/PL landscapes of the v2 reconstructions, a landscape.
public struct ClaimInstance: Codable, Equatable, Sendable {
    /// The generator family the instance came from (`.tabularMulti`, `.quadraticIsotropic`, …;
    /// `.file` for an instance read from a plain instance file).
    public var family: Family
    public var instance: InstanceFile?
    public var parameters: [String: Double]
    public var landscape: Landscape?

    public init(family: Family, instance: InstanceFile? = nil, parameters: [String: Double] = [:], landscape: Landscape? = nil) {
        self.family = family; self.instance = instance; self.parameters = parameters; self.landscape = landscape
    }

    /// A named parameter, or a clear error when it is missing (a hand-edited replay file).
    public func parameter(_ name: String) throws -> Double {
        guard let v = parameters[name], v.isFinite else { throw ClaimError.missingParameter(name) }
        return v
    }

    /// The instance, or a clear error when the claim needs one and the file has none.
    public func requireInstance() throws -> InstanceFile {
        guard let i = instance else { throw ClaimError.missingInstance(family) }
        return i
    }
}

/// A pair of quadratic objectives J(θ) = −½(θ − θ_R)ᵀA(θ − θ_R) and L_SFT(θ) = ½(θ − θ₀)ᵀB(θ − θ₀)
/// with diagonal A, B (the landscapes of `r3-duration`).
public struct Landscape: Codable, Equatable, Sendable {
    /// Diagonal of A (curvature of −J), all > 0.
    public var a: [Double]
    /// Diagonal of B (curvature of L_SFT), all > 0.
    public var b: [Double]
    public var thetaR: [Double]
    public var theta0: [Double]

    public init(a: [Double], b: [Double], thetaR: [Double], theta0: [Double]) {
        self.a = a; self.b = b; self.thetaR = thetaR; self.theta0 = theta0
    }
}

/// The margins of one evaluation: every hypothesis (≥ 0: satisfied) and the conclusion (> 0 holds,
/// < 0 violated; = 0 holds for a non-strict inequality and fails for a strict one), plus the
/// intermediate quantities a reader wants to see.
public struct Evaluation: Codable, Equatable, Sendable {
    public var hypotheses: [String: Double]
    public var conclusion: Double
    public var quantities: [String: Double]

    public init(hypotheses: [String: Double] = [:], conclusion: Double, quantities: [String: Double] = [:]) {
        self.hypotheses = hypotheses; self.conclusion = conclusion; self.quantities = quantities
    }

    /// All hypotheses hold, except those in `dropped`.
    public func meetsHypotheses(dropping dropped: Set<String> = []) -> Bool {
        hypotheses.allSatisfy { dropped.contains($0.key) || $0.value >= 0 }
    }

    /// The conclusion is violated in this evaluation (strict claims also at exactly 0).
    public func violates(strict: Bool) -> Bool { strict ? !(conclusion > 0) : conclusion < 0 }

    /// Whether every margin is a number (a NaN margin is an error, never evidence).
    public var isWellDefined: Bool { !conclusion.isNaN && !hypotheses.values.contains { $0.isNaN } }

    /// The violation survives re-evaluation: a non-strict claim needs the extended margin below
    /// −`certificationTolerance`; a strict one needs it below that, or exactly 0 in extended
    /// precision (an exact tie, as with dyadic inputs: the Double margin of a tie may round to a few
    /// ulps below 0, and a strict claim whose margin is 0 is violated, not "holding by round-off").
    public static func certifies(double d: Evaluation, extended x: Evaluation, strict: Bool) -> Bool {
        guard d.violates(strict: strict), x.isWellDefined else { return false }
        if x.conclusion < -certificationTolerance { return true }
        return strict && x.conclusion == 0 && d.conclusion <= 0
    }
}

/// A named hypothesis of a claim: `name` is its mathematical name (display, and the key of
/// evaluations and reports), `id` (HypothesisID.swift) the ASCII word `--drop` takes.
public struct Hypothesis: Sendable, Codable, Equatable {
    public let name: String
    public let text: String
    public init(_ name: String, _ text: String) { self.name = name; self.text = text }
}

public enum ClaimError: Error, CustomStringConvertible, Equatable {
    case missingParameter(String)
    case missingInstance(Family)
    case invalid(String)
    /// A family id that is not one of ``Family/all`` (a hand-edited or foreign replay file).
    case unknownFamily(String, known: [String])
    case unknownClaim(String)
    case unknownHypothesis(claim: String, name: String, known: [String])

    public var description: String {
        switch self {
        case let .missingParameter(n): return "the claim instance has no parameter \"\(n)\""
        case let .missingInstance(f): return "the claim instance (family \(f)) has no \"instance\""
        case let .invalid(s): return s
        case let .unknownFamily(f, known): return "unknown family \"\(f)\"; the known families are: \(known.joined(separator: ", "))"
        case let .unknownClaim(id): return "unknown claim id \"\(id)\": run `sftrl explain --list` for the ids"
        case let .unknownHypothesis(c, n, k): return "claim \(c) has no hypothesis \"\(n)\"; its hypotheses are: \(k.joined(separator: ", "))"
        }
    }
}

/// A statement of the paper (or a reconstruction of v2), checkable on random instances.
///
/// `evaluate` computes every margin in Double; `evaluateExtended` recomputes them in higher
/// precision (Float80, or tighter integration tolerances for flow claims) and is what certifies a
/// counterexample: a violation is reported only when its sign survives.
public protocol Claim: Sendable {
    /// The id of paper-notes.md (`eq6-pinsker`, `thm3.1`, …), or an id for a reading/variant.
    var id: String { get }
    /// Where it stands in the paper ("Eq. 6", "Thm 3.1") or "reconstruction of v2 (R1)".
    var reference: String { get }
    /// The statement, in words, with the reading taken when the paper is ambiguous.
    var statement: String { get }
    var hypotheses: [Hypothesis] { get }
    /// Generator families the claim is checked on, typed (Family.swift): write
    /// `let families: [Family] = [.tabularSingle, .tabularMulti]`, not strings; a new kind of
    /// instance is a new constant in `Family` with its doc comment.
    var families: [Family] { get }
    /// Whether the conclusion is a strict inequality (margin must be > 0).
    var strict: Bool { get }
    /// A random instance of `family` (one of `families`); hypotheses in `dropping` are not
    /// enforced by construction.
    func generate(_ rng: inout SeededGenerator, family: Family, dropping: Set<String>) -> ClaimInstance
    func evaluate(_ instance: ClaimInstance) throws -> Evaluation
    func evaluateExtended(_ instance: ClaimInstance) throws -> Evaluation
    /// How this claim's instances may be simplified while shrinking (default: the generic rules).
    var shrinkable: Bool { get }

    // What the claim knows beyond its margins, so that nothing outside it switches on its id
    // (each has a default: a claim that has none of them needs none).

    /// Which text of the paper it checks (default: `.v2Reconstruction` when the reference says
    /// "reconstruction", else `.v1Reading`).
    var paperVersion: PaperVersion { get }
    /// A small hand-picked instance for `sftrl explain` (default none: explain then shows a
    /// generated one). It meets the hypotheses; for a claim that fails, it is a clear counterexample.
    var workedExample: WorkedExample? { get }
    /// How close the inequality comes to equality (`sftrl search --tightness`; default none).
    var tightness: Tightness? { get }
    /// Instance coordinates the search must keep fixed: relations the generator builds that are
    /// not hypotheses (names of `ParameterSpace` fields: "start", "reference", "reward", "beta", …).
    var searchFrozen: Set<String> { get }
    /// For a claim the toolkit finds false: one sentence saying why it fails (printed beside the
    /// counterexample by check and explain; default none).
    var failureExplanation: String? { get }
    /// Whether a counterexample is one the claim wants shown (default: every one). The check takes
    /// the first certified violator that is instructive (else the first certified one), and the
    /// shrinker keeps the property: thm4.1 shows a tie at the top of a non-constant reward, not a
    /// constant reward; thm4.1-gibbs a reward with no tie.
    func instructive(_ instance: ClaimInstance) -> Bool
}

extension Claim {
    public var strict: Bool { false }
    public var shrinkable: Bool { true }
    public var hypothesisNames: [String] { hypotheses.map(\.name) }
    public var paperVersion: PaperVersion { reference.contains("reconstruction") ? .v2Reconstruction : .v1Reading }
    public var workedExample: WorkedExample? { nil }
    public var tightness: Tightness? { nil }
    public var searchFrozen: Set<String> { [] }
    public var failureExplanation: String? { nil }
    public func instructive(_ instance: ClaimInstance) -> Bool { true }
}

/// Whether no prompt of the instance has two equal rewards.
public func rewardHasNoTie(_ ci: ClaimInstance) -> Bool {
    ci.instance?.prompts.allSatisfy { Set($0.reward).count == $0.reward.count } ?? true
}

/// Whether every prompt's reward takes at least two values.
public func rewardIsNonConstant(_ ci: ClaimInstance) -> Bool {
    ci.instance?.prompts.allSatisfy { Set($0.reward).count > 1 } ?? true
}

/// Which text of the paper a claim checks.
public enum PaperVersion: String, Codable, Sendable {
    /// A numbered statement of v1 as printed (paper-notes.md §3): what `sftrl search --v1` searches.
    case v1
    /// A reading, variant or proof step of a v1 statement (§4b and the proof identities).
    case v1Reading = "v1-reading"
    /// One of our reconstructions of v2 (labelled R*).
    case v2Reconstruction = "v2-reconstruction"
}

/// A hand-picked instance and what it shows, in one sentence.
public struct WorkedExample: Sendable {
    public let description: String
    public let instance: ClaimInstance
    public init(_ description: String, _ instance: ClaimInstance) { self.description = description; self.instance = instance }
}

/// How close an inequality comes to equality: a ratio lhs/rhs read from an evaluation's quantities
/// (1 = equality; above the known supremum would be a violation), with the supremum known from
/// the analysis. The search reports a ratio only when both precisions agree on it.
public struct Tightness: Sendable {
    /// What the ratio is, in words ("TV/√(KL/2)").
    public let measure: String
    /// The ratio of an evaluation (nil when undefined, e.g. 0/0 or a round-off-sized denominator).
    public let ratio: @Sendable (Evaluation) -> Double?
    /// The known supremum over instances meeting the hypotheses (nil: unbounded).
    public let knownSupremum: Double?
    /// Whether some instance attains it (as opposed to a limit).
    public let attained: Bool
    /// Where the supremum comes from.
    public let note: String
    /// A known (near-)tight instance: its ratio is within 1% of the supremum. The test suite
    /// evaluates it, so a weakened constant in the claim's inequality (√KL for √(KL/2)) lowers the
    /// ratio and fails a test, although the weakened claim still "holds" on every instance.
    public let witness: WorkedExample?

    public init(measure: String, ratio: @escaping @Sendable (Evaluation) -> Double?, knownSupremum: Double?, attained: Bool, note: String,
                witness: WorkedExample? = nil) {
        self.measure = measure; self.ratio = ratio; self.knownSupremum = knownSupremum; self.attained = attained; self.note = note
        self.witness = witness
    }

    /// quantities[num]/quantities[den], undefined when den ≤ floor (a ratio of round-off-sized
    /// quantities is not evidence).
    public static func quotient(_ num: String, _ den: String, floor: Double = 0) -> @Sendable (Evaluation) -> Double? {
        { e in
            guard let n = e.quantities[num], let d = e.quantities[den], d > floor, n.isFinite, d.isFinite else { return nil }
            return n / d
        }
    }
}

/// Margin of `lhs ≤ rhs` on the claim's natural scale: (rhs − lhs)/scale (scale: 1 for
/// probabilities and TV, R_max for rewards, …), so that margins of different claims are comparable.
/// Infinite sides are handled: a finite lhs under rhs = +∞ gives +1, lhs = +∞ under a finite rhs −1.
@inlinable func inequalityMargin<T: BinaryFloatingPoint>(_ lhs: T, _ rhs: T, scale: T) -> T {
    if rhs == .infinity && lhs < .infinity { return 1 }
    if lhs == .infinity && rhs < .infinity { return -1 }
    if lhs == -.infinity && rhs > -.infinity { return 1 }
    return (rhs - lhs) / Swift.max(scale, T.leastNormalMagnitude)
}

/// Margin of an identity a = b checked in floating point: tol − |a − b|/max(|a|, |b|, 1).
/// `identityTolerance` (1e-9 relative) is the stated resolution of every identity check.
@inlinable func identityMargin<T: BinaryFloatingPoint>(_ a: T, _ b: T, tolerance: T = T(identityTolerance)) -> T {
    if a == b { return tolerance }
    let s = Swift.max(abs(a), abs(b), 1)
    return tolerance - abs(a - b) / s
}

/// The relative resolution of identity checks (both precisions).
public let identityTolerance = 1e-9

/// How far below zero an extended-precision margin must be for a violation to be certified
/// (margins are on natural scales; inputs are Doubles, whose own rounding is ~1e-16).
public let certificationTolerance = 1e-12
