import Foundation
import Claims
import Linalg

/// What a search looks for.
public enum SearchMode: String, Codable, Sendable {
    /// The most negative conclusion margin over instances that meet the kept hypotheses.
    case violation
    /// The largest ratio lhs/rhs of an inequality (see `TightnessSpec`).
    case tightness
}

/// Settings of one search (one claim, one set of dropped hypotheses).
public struct SearchOptions: Sendable {
    /// The run's seed: restart r draws from `SeededGenerator.derived(seed ⊕ hash(claim|drops|mode), r)`.
    public var seed: UInt64 = 1
    /// Hypotheses neither enforced by the generator nor required of the instances.
    public var dropping: Set<String> = []
    public var mode: SearchMode = .violation
    /// Objective evaluations in all, split evenly over the restarts (default 50,000).
    public var budgetEvaluations = 50_000
    /// A wall-clock cap in seconds (default 50). When it bites the result depends on timing and the
    /// report says so (`stopped_by: "seconds"`).
    public var budgetSeconds: Double = 50
    /// Random restarts (default 16); each draws `candidatesPerRestart` random instances, starts a
    /// local optimisation from the best, and hops on when it stalls.
    public var restarts = 16
    public var candidatesPerRestart = 8
    /// Instances with more coordinates than this are only sampled, not optimised locally (default 48).
    public var maxDimension = 48
    /// Shard K of N: this run does the restarts r ≡ K (mod N).
    public var shard: (index: Int, count: Int) = (0, 1)
    /// Worker threads (default: the CPUs this process may use, `CPUs.available`). Results do not depend on it.
    public var threads = CPUs.available
    /// Shrink a certified counterexample (default true).
    public var shrink = true
    /// Record wall time in the result (non-deterministic; default false).
    public var timing = false

    public init() {}

    /// Evaluations per restart: the budget split evenly (at least 50).
    public var evaluationsPerRestart: Int { Swift.max(50, budgetEvaluations / Swift.max(1, restarts)) }
}

/// An instance a search found, with every margin in Double and extended precision. Encodes as a
/// superset of `Counterexample` (so `sftrl check --replay` reads it) plus the claim, the dropped
/// hypotheses and where it was found.
public struct Finding: Codable, Equatable, Sendable {
    public var claim: String
    public var dropped: [String]
    public var mode: SearchMode
    public var instance: ClaimInstance
    public var evaluation: Evaluation
    public var extended: Evaluation
    /// Always −1 (a search, not the Runner's random index), as `Counterexample` documents.
    public var index: Int
    /// The restart it came from, its rank among that restart's candidates and its margin (or
    /// ratio) before shrinking: the order in which candidates are certified, and how shards merge.
    public var restart: Int
    public var rank: Int
    public var foundMargin: Double
    public var shrunk: Bool
    public var certified: Bool
    /// Tightness: the ratio in Double and extended precision.
    public var ratio: Double?
    public var ratioExtended: Double?

    enum CodingKeys: String, CodingKey {
        case claim, dropped, mode, instance, evaluation, extended, index, restart, rank, shrunk, certified, ratio
        case foundMargin = "found_margin", ratioExtended = "ratio_extended"
    }

    /// The `Counterexample` view of this finding (its fields are a subset of the finding's; the
    /// conversion goes through the JSON contract, which round-trips every Double exactly, because
    /// `Counterexample` has no public initialiser).
    public var counterexample: Counterexample {
        get throws {
            let enc = JSONEncoder()
            enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let dec = JSONDecoder()
            dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            return try dec.decode(Counterexample.self, from: enc.encode(self))
        }
    }

    /// Sizes: prompts and responses per prompt (landscape: its dimension).
    public var size: String {
        if let f = instance.instance { return "\(f.prompts.count)×[\(f.prompts.map { "\($0.data.count)" }.joined(separator: ","))]" }
        if let l = instance.landscape { return "dim \(l.a.count)" }
        return "—"
    }
}

/// The tightness part of a result.
public struct TightnessSummary: Codable, Equatable, Sendable {
    public var measure: String
    /// The best instance's ratio in extended precision (its Double ratio is `best.ratio`).
    public var supremumFound: Double?
    public var knownSupremum: Double?
    public var attained: Bool
    public var note: String
    /// Set when the best ratio exceeded the known (proven) supremum: "round-off" (its violation of
    /// the inequality is not certified; `supremumFound` is then the bound and `roundoffRatio` the
    /// raw ratio) or "certified violation".
    public var aboveKnownSupremum: String?
    public var roundoffRatio: Double?

    enum CodingKeys: String, CodingKey {
        case measure, attained, note
        case supremumFound = "supremum_found", knownSupremum = "known_supremum"
        case aboveKnownSupremum = "above_known_supremum", roundoffRatio = "roundoff_ratio"
    }
}

/// The result of searching one claim with a set of dropped hypotheses.
public struct SearchResult: Codable, Equatable, Sendable {
    public var claim: String
    public var reference: String
    public var dropped: [String]
    public var mode: SearchMode
    /// "counterexample" (certified), "none-found" (the best margin stayed ≥ 0 or was round-off),
    /// "no-feasible-instance" (nothing met the kept hypotheses), "tightness".
    public var verdict: String
    /// Restarts done (in this shard) and their evaluations; evaluations that threw or gave NaN.
    public var restarts: Int
    public var evaluations: Int
    public var errors: Int
    /// The best instance met (lowest conclusion margin, or highest ratio), not shrunk; certified
    /// only when it is the counterexample's origin and certification succeeded.
    public var best: Finding?
    public var counterexample: Finding?
    public var tightness: TightnessSummary?
    /// "evaluations" (deterministic) or "seconds" (the wall-clock cap bit: timing-dependent).
    public var stoppedBy: String
    public var budgetEvaluations: Int
    public var budgetSeconds: Double
    public var seed: UInt64
    public var shard: String?
    public var seconds: Double?

    enum CodingKeys: String, CodingKey {
        case claim, reference, dropped, mode, verdict, restarts, evaluations, errors, best, counterexample, tightness, seed, shard, seconds
        case stoppedBy = "stopped_by", budgetEvaluations = "budget_evaluations", budgetSeconds = "budget_seconds"
    }

    /// The best margin reached (violation) or ratio (tightness).
    public var bestValue: Double? { mode == .violation ? best?.evaluation.conclusion : best?.ratio }
}

/// The JSON report of `sftrl search` (and of `sftrl merge` on search reports).
public struct SearchReport: Codable, Equatable, Sendable {
    public var version: String
    /// The git commit of the checkout that wrote the report (absent when unknown).
    public var commit: String?
    public var seed: UInt64
    public var shard: String?
    public var runs: [SearchResult]
    public init(version: String, commit: String? = nil, seed: UInt64, shard: String?, runs: [SearchResult]) {
        self.version = version; self.commit = commit; self.seed = seed; self.shard = shard; self.runs = runs
    }
}
