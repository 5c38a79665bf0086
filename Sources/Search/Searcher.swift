import Foundation
import Dispatch
import Linalg
import Policies
import Claims

/// Counterexample search: random restarts from the claim's own generator, then local
/// optimisation (GSL Nelder–Mead, then BFGS2 on finite differences) of a penalised, normalised
/// margin over the instance's coordinates (`ParameterSpace`), then extended-precision
/// certification and shrinking of the best violators.
///
/// Objective (minimised), with s(m) = m/(1 + |m|) so that no term's scale masks another:
///   violation:  s(conclusion) + ρ·Σ_{h kept} max(0, −s(margin_h))
///   tightness:  −ratio + ρ·Σ_{h kept} max(0, −s(margin_h))
/// ρ starts at 1 and grows ×10 (up to 10⁴) whenever a local optimum breaks a kept hypothesis.
/// Only evaluations that meet every kept hypothesis exactly are recorded as findings.
///
/// Deterministic for a seed: restart r is a pure function of (seed, claim, drops, mode, r) and
/// spends a fixed share of the evaluation budget; restarts run in parallel and are combined in
/// index order. Only the wall-clock cap (`budgetSeconds`) can make a result timing-dependent.
public enum Searcher {
    /// Claim-specific coordinates kept fixed (`Claim.searchFrozen`: relations the generator builds
    /// that are not hypotheses, e.g. r2 starts at the Gibbs optimum of (reference, reward, β)).
    public static func frozen(for claim: any Claim) -> Set<String> { claim.searchFrozen }

    /// Squashes a margin into (−1, 1), keeping its sign.
    @inlinable static func s(_ m: Double) -> Double { m.isInfinite ? (m > 0 ? 1 : -1) : m / (1 + abs(m)) }

    /// Searches one claim. `progress` receives (restarts done, restarts in this shard, best value so far).
    public static func search(_ claim: any Claim, options: SearchOptions,
                              progress: (@Sendable (Int, Int, Double?) -> Void)? = nil) -> SearchResult {
        let start = Date()
        let deadline = start.addingTimeInterval(options.budgetSeconds * 0.85)
        let dropping = options.dropping.intersection(claim.hypothesisNames)
        let spec = TightnessSpec.spec(for: claim.id)
        let indices = (0..<options.restarts).filter { $0 % options.shard.count == options.shard.index }
        let box = SlotBox<RestartOutcome>(count: indices.count)
        let tracker = ProgressTracker(total: indices.count, mode: options.mode, progress: progress)
        let work: @Sendable (Int) -> Void = { i in
            var r = Restart(claim: claim, options: options, dropping: dropping, spec: spec, index: indices[i], deadline: deadline)
            let o = r.run()
            box.set(i, o)
            tracker.done(o)
        }
        if options.threads <= 1 { for i in indices.indices { work(i) } } else {
            let q = DispatchQueue(label: "search", attributes: .concurrent)
            let group = DispatchGroup()
            let sem = DispatchSemaphore(value: options.threads)
            for i in indices.indices {
                sem.wait()
                q.async(group: group) { work(i); sem.signal() }
            }
            group.wait()
        }
        let outcomes = box.values.map { $0! }
        return combine(claim, options: options, dropping: dropping, spec: spec, outcomes: outcomes, start: start)
    }

    /// Combines restarts (in index order): best, certification in (margin, restart, rank) order, shrinking.
    static func combine(_ claim: any Claim, options: SearchOptions, dropping: Set<String>, spec: TightnessSpec?,
                        outcomes: [RestartOutcome], start: Date) -> SearchResult {
        let dropped = dropping.sorted()
        var result = SearchResult(claim: claim.id, reference: claim.reference, dropped: dropped, mode: options.mode, verdict: "no-feasible-instance",
                                  restarts: outcomes.count, evaluations: outcomes.reduce(0) { $0 + $1.evaluations },
                                  errors: outcomes.reduce(0) { $0 + $1.errors }, best: nil, counterexample: nil, tightness: nil,
                                  stoppedBy: outcomes.contains { $0.hitDeadline } ? "seconds" : "evaluations",
                                  budgetEvaluations: options.budgetEvaluations, budgetSeconds: options.budgetSeconds, seed: options.seed,
                                  shard: options.shard.count > 1 ? "\(options.shard.index)/\(options.shard.count)" : nil, seconds: nil)
        let all = outcomes.flatMap(\.candidates)
        func finding(_ c: Candidate, extended: Evaluation? = nil, certified: Bool = false) -> Finding {
            let x = extended ?? ((try? claim.evaluateExtended(c.instance)) ?? c.evaluation)
            return Finding(claim: claim.id, dropped: dropped, mode: options.mode, instance: c.instance, evaluation: c.evaluation, extended: x,
                           index: -1, restart: c.restart, rank: c.rank, foundMargin: c.value, shrunk: false, certified: certified,
                           ratio: options.mode == .tightness ? spec?.ratio(c.evaluation) : nil,
                           ratioExtended: options.mode == .tightness ? spec?.ratio(x) : nil)
        }
        // Candidates in order of their value (violation: margin ascending; tightness: ratio descending).
        let ordered = all.sorted { ($0.value, $0.restart, $0.rank) < ($1.value, $1.restart, $1.rank) }
        if let b = ordered.first { result.best = finding(b) }
        switch options.mode {
        case .violation:
            result.verdict = ordered.isEmpty ? "no-feasible-instance" : "none-found"
            for c in ordered where c.evaluation.violates(strict: claim.strict) {
                let j = Judgement(claim: claim, double: c.evaluation, extended: try? claim.evaluateExtended(c.instance), dropping: dropping)
                guard j.outcome == .certified, let x = j.extended else { continue }
                var f = finding(c, extended: x, certified: true)
                if c.restart == result.best?.restart && c.rank == result.best?.rank { result.best = f }
                if options.shrink && claim.shrinkable, let start = c.start {
                    let simple = simplify(c, start: start, claim: claim, dropping: dropping)
                    if simple.instance != c.instance, let x = try? claim.evaluateExtended(simple.instance) {
                        f.instance = simple.instance; f.evaluation = simple.evaluation; f.extended = x; f.shrunk = true
                    }
                }
                if options.shrink && claim.shrinkable, let original = try? f.counterexample {
                    // Deterministic: a quarter of the search budget (at most 4,000, the Shrinker's
                    // default). Only when the clock already bit (a timing-dependent result anyway)
                    // is it cut to what the time left allows.
                    var budget = Swift.max(200, Swift.min(4000, options.budgetEvaluations / 4))
                    if result.stoppedBy == "seconds" {
                        let elapsed = Date().timeIntervalSince(start)
                        let perEval = elapsed / Double(Swift.max(1, result.evaluations))
                        let left = Swift.max(options.budgetSeconds - elapsed, 0.1 * options.budgetSeconds)
                        budget = Swift.max(20, Swift.min(budget, Int(left / Swift.max(perEval * 2, 1e-7))))
                    }
                    let cx = Shrinker.shrink(original, claim: claim, dropping: dropping, budget: budget)
                    f.instance = cx.instance; f.evaluation = cx.evaluation; f.extended = cx.extended; f.shrunk = f.shrunk || cx.shrunk
                }
                result.counterexample = f
                result.verdict = "counterexample"
                break
            }
        case .tightness:
            result.verdict = ordered.isEmpty ? "no-feasible-instance" : "tightness"
            result.tightness = spec.map { s in
                var t = TightnessSummary(measure: s.measure, supremumFound: result.best?.ratioExtended ?? result.best?.ratio, knownSupremum: s.knownSupremum, attained: s.attained, note: s.note)
                // A ratio above the proven supremum is a violation of the inequality itself: only a
                // certified one (the same rule as check) is evidence; otherwise it is round-off and
                // the supremum found is reported as the bound, the raw ratio beside it.
                if let k = s.knownSupremum, let f = t.supremumFound, f > k, let b = result.best {
                    let j = Judgement(claim: claim, double: b.evaluation, extended: b.extended, dropping: dropping)
                    if j.outcome == .certified { t.aboveKnownSupremum = "certified violation" } else {
                        t.aboveKnownSupremum = "round-off"
                        t.roundoffRatio = f
                        t.supremumFound = k
                    }
                }
                return t
            }
        }
        if options.timing { result.seconds = Date().timeIntervalSince(start) }
        return result
    }
}

extension Searcher {
    /// Undoes the drift of coordinates the violation does not need, before the Shrinker rounds:
    /// each coordinate in turn is reset to its value in the random instance the local search
    /// started from, and then the rewards are rescaled to R_max = 1; a change is kept when the
    /// instance still meets the kept hypotheses and violates with at least half the original
    /// violation (the Shrinker's rule), in Double and in extended precision.
    static func simplify(_ c: Candidate, start: ClaimInstance, claim: any Claim, dropping: Set<String>) -> (instance: ClaimInstance, evaluation: Evaluation) {
        let frozen = frozen(for: claim)
        let space = ParameterSpace(c.instance, frozen: frozen)
        let origin = ParameterSpace(start, frozen: frozen).initial
        var best = (instance: c.instance, evaluation: c.evaluation)
        let keep = claim.strict ? 0 : 0.5 * c.evaluation.conclusion
        func accept(_ ci: ClaimInstance) -> Bool {
            guard ci != best.instance, let e = try? claim.evaluate(ci), e.isWellDefined, e.conclusion <= keep,
                  Judgement(claim: claim, double: e, extended: try? claim.evaluateExtended(ci), dropping: dropping).outcome == .certified
            else { return false }
            best = (ci, e)
            return true
        }
        if origin.count == space.dimension {
            var x = space.initial
            for i in x.indices where x[i] != origin[i] {
                var y = x
                y[i] = origin[i]
                if accept(space.decode(y)) { x = y }
            }
        }
        if var f = best.instance.instance {
            let rmax = f.prompts.flatMap(\.reward).map(abs).max() ?? 0
            if rmax > 0 && rmax != 1 {
                for x in f.prompts.indices { f.prompts[x].reward = f.prompts[x].reward.map { $0 / rmax } }
                var ci = best.instance
                ci.instance = f
                _ = accept(ci)
            }
        }
        return best
    }
}

/// A feasible evaluated instance a restart keeps.
struct Candidate: Sendable {
    let instance: ClaimInstance
    let evaluation: Evaluation
    /// Violation: the conclusion margin; tightness: −ratio (smaller is better in both).
    let value: Double
    let restart: Int
    var rank: Int
    /// The random instance the local search started from (nil for a random draw).
    var start: ClaimInstance? = nil
}

struct RestartOutcome: Sendable {
    let index: Int
    let evaluations: Int
    let errors: Int
    let candidates: [Candidate]
    let hitDeadline: Bool
}

/// One restart: random candidates, then local optimisation with hops.
struct Restart {
    let claim: any Claim
    let options: SearchOptions
    let dropping: Set<String>
    let spec: TightnessSpec?
    let index: Int
    let deadline: Date
    var g: SeededGenerator
    var evaluations = 0
    var errors = 0
    var hitDeadline = false
    /// The best feasible candidates (at most `keep`), sorted by value.
    var kept: [Candidate] = []
    let keep = 3
    /// The first exact tie of a strict claim (see `record`).
    var tie: Candidate?
    var rho = 1.0
    /// The random instance the current local search started from.
    var origin: ClaimInstance?

    init(claim: any Claim, options: SearchOptions, dropping: Set<String>, spec: TightnessSpec?, index: Int, deadline: Date) {
        self.claim = claim; self.options = options; self.dropping = dropping; self.spec = spec; self.index = index; self.deadline = deadline
        let key = claim.id + "|" + dropping.sorted().joined(separator: ",") + "|" + options.mode.rawValue
        g = SeededGenerator.derived(seed: options.seed ^ Runner.hash(key), index: UInt64(index))
    }

    var budget: Int { options.evaluationsPerRestart }
    var exhausted: Bool {
        if evaluations >= budget { return true }
        if Date() > deadline { return true }
        return false
    }

    /// The penalised objective at an instance (NaN when undefined), recording feasible findings.
    mutating func objective(_ ci: ClaimInstance) -> Double {
        evaluations += 1
        guard let e = try? claim.evaluate(ci), e.isWellDefined else { errors += 1; return .nan }
        let primary: Double
        switch options.mode {
        case .violation: primary = Searcher.s(e.conclusion)
        case .tightness:
            // A ratio counts only when the extended evaluation agrees with it to 1e-6: near
            // equality the Double formulas are dominated by round-off (Pinsker at KL ~ 1e-16).
            guard let r = spec?.ratio(e), r.isFinite, let x = try? claim.evaluateExtended(ci), let rx = spec?.ratio(x),
                  abs(r - rx) <= 1e-6 * Swift.max(abs(rx), 1e-300) else { return .nan }
            primary = -r
        }
        var penalty = 0.0
        for (k, v) in e.hypotheses where !dropping.contains(k) { penalty += Swift.max(0, -Searcher.s(v)) }
        if penalty == 0 && e.meetsHypotheses(dropping: dropping) {
            record(Candidate(instance: ci, evaluation: e, value: options.mode == .violation ? e.conclusion : primary, restart: index, rank: 0, start: origin))
        }
        return primary + rho * penalty
    }

    mutating func record(_ c: Candidate) {
        // A strict claim is violated by an exact tie (margin 0 in both precisions), which round-off
        // negatives (−1e-16 in Double, 0 in Float80: not certifiable) would crowd out of the kept
        // few: the first exact tie keeps a slot of its own.
        if claim.strict && options.mode == .violation && c.evaluation.conclusion == 0 && tie == nil { tie = c }
        if kept.count == keep, let last = kept.last, c.value >= last.value { return }
        if kept.contains(where: { $0.instance == c.instance }) { return }
        kept.append(c)
        kept.sort { $0.value < $1.value }
        if kept.count > keep { kept.removeLast() }
    }

    mutating func run() -> RestartOutcome {
        // 1. Random candidates from the claim's generator; the best optimisable one starts the local search.
        var startPoint: (ClaimInstance, Double)?
        var draws = 0
        while draws < options.candidatesPerRestart || (startPoint == nil && !exhausted && draws < 20 * options.candidatesPerRestart) {
            if exhausted { break }
            draws += 1
            let family = claim.families[g.int(0...(claim.families.count - 1))]
            let ci = claim.generate(&g, family: family, dropping: dropping)
            let v = objective(ci)
            guard v.isFinite, ParameterSpace(ci, frozen: Searcher.frozen(for: claim)).dimension <= options.maxDimension else { continue }
            if startPoint == nil || v < startPoint!.1 { startPoint = (ci, v) }
        }
        // 2. Local optimisation with hops; ρ grows when the local optimum breaks a kept hypothesis.
        if let (ci, _) = startPoint {
            let space = ParameterSpace(ci, frozen: Searcher.frozen(for: claim))
            origin = ci
            var x = space.initial
            var bestX = x, bestValue = Double.infinity
            var stepScale = 1.0
            var stalls = 0
            while !exhausted {
                for method in [LocalMethod.nelderMead, .bfgs] {
                    if exhausted { break }
                    var me = self
                    let m = Minimiser { v in me.objective(space.decode(v)) }
                    let cap = Swift.min(budget - evaluations, method == .nelderMead ? 300 + 60 * space.dimension : 40 * (2 * space.dimension + 1))
                    let r = m.minimise(method, from: x, step: space.steps.map { $0 * stepScale }, maxEvaluations: cap,
                                       shouldStop: { Date() > deadline })
                    // Carry over what the closure's copy recorded.
                    evaluations = me.evaluations; errors = me.errors; kept = me.kept; tie = me.tie
                    if r.value.isFinite && r.value < bestValue - 1e-15 * Swift.max(1, abs(bestValue)) {
                        bestValue = r.value; bestX = r.x; stalls = 0
                    } else { stalls += 1 }
                    x = r.x.allSatisfy(\.isFinite) ? r.x : bestX
                }
                // A local optimum that breaks a kept hypothesis: stiffen the penalty.
                if let e = try? claim.evaluate(space.decode(bestX)), !e.meetsHypotheses(dropping: dropping), rho < 1e4 {
                    rho *= 10; bestValue = .infinity
                }
                // Hop: perturb the best point (step shrinks on repeated stalls, resets when it gets tiny).
                if stalls >= 2 {
                    stepScale = stepScale < 1e-3 ? 1 : stepScale * 0.3
                    stalls = 0
                }
                x = bestX.indices.map { bestX[$0] + stepScale * space.steps[$0] * g.normal() }
            }
        } else {
            // Nothing optimisable: spend the budget on random draws.
            while !exhausted {
                let family = claim.families[g.int(0...(claim.families.count - 1))]
                _ = objective(claim.generate(&g, family: family, dropping: dropping))
            }
        }
        hitDeadline = Date() > deadline
        var all = kept
        if let t = tie, !kept.contains(where: { $0.instance == t.instance }) { all.append(t) }
        let ranked = all.enumerated().map { k, c in var c = c; c.rank = k; return c }
        return RestartOutcome(index: index, evaluations: evaluations, errors: errors, candidates: ranked, hitDeadline: hitDeadline)
    }
}

/// Thread-safe slots for parallel results (each written once).
final class SlotBox<T: Sendable>: @unchecked Sendable {
    private var storage: [T?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.lock(); storage[i] = v; lock.unlock() }
    var values: [T?] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// Progress of the restarts: count and best value so far (stderr display only).
final class ProgressTracker: @unchecked Sendable {
    let total: Int
    let mode: SearchMode
    let progress: (@Sendable (Int, Int, Double?) -> Void)?
    private let lock = NSLock()
    private var count = 0
    private var best: Double?
    init(total: Int, mode: SearchMode, progress: (@Sendable (Int, Int, Double?) -> Void)?) {
        self.total = total; self.mode = mode; self.progress = progress
    }
    func done(_ o: RestartOutcome) {
        lock.lock()
        count += 1
        if let v = o.candidates.first?.value {
            let shown = mode == .violation ? v : -v
            if let b = best { best = mode == .violation ? Swift.min(b, shown) : Swift.max(b, shown) } else { best = shown }
        }
        let (c, b) = (count, best)
        lock.unlock()
        progress?(c, total, b)
    }
}
