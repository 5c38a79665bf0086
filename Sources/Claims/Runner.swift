import Foundation
import Dispatch
import Linalg
import Policies

/// What a check of one claim concluded.
public enum Verdict: String, Codable, Sendable {
    /// Every instance that met the hypotheses met the conclusion.
    case holds
    /// A certified counterexample exists (its sign survived the extended-precision re-check).
    case fails
    /// No generated instance met the hypotheses.
    case vacuous
}

/// A violating instance with all its margins, in Double and in extended precision.
public struct Counterexample: Codable, Equatable, Sendable {
    public var instance: ClaimInstance
    public var evaluation: Evaluation
    public var extended: Evaluation
    /// The index of the random instance it was found at (before shrinking), or −1 for a search.
    public var index: Int
    public var shrunk: Bool
    public var certified: Bool
    /// The hypotheses that were dropped (`--drop`) when it was found: the instance need not meet
    /// them. Absent in files written before it was recorded.
    public var dropped: [String]?

    public init(instance: ClaimInstance, evaluation: Evaluation, extended: Evaluation, index: Int, shrunk: Bool, certified: Bool, dropped: [String]? = nil) {
        self.instance = instance; self.evaluation = evaluation; self.extended = extended
        self.index = index; self.shrunk = shrunk; self.certified = certified; self.dropped = dropped
    }
}

/// The result of checking one claim. Byte-deterministic for a given seed (timing is optional).
public struct ClaimResult: Codable, Sendable {
    public var id: String
    public var reference: String
    public var statement: String
    public var verdict: Verdict
    /// Instances that met every (non-dropped) hypothesis: the evidence.
    public var instances: Int
    /// Instances generated in all (met + not met).
    public var generated: Int
    /// Violations in Double whose sign did not survive the extended re-check (round-off).
    public var roundoff: Int
    /// Instances whose evaluation threw or gave a NaN margin (never counted as evidence).
    public var errors: Int
    /// The first such error's message.
    public var firstError: String?
    /// The smallest conclusion margin over instances that met the hypotheses (nil when none did).
    public var minMargin: Double?
    public var minMarginInstance: ClaimInstance?
    public var counterexample: Counterexample?
    public var dropped: [String]
    public var seconds: Double?
    public var instancesPerSecond: Double?
    /// Sharded runs only: every evaluated instance index, for `Runner.merge`.
    public var records: [InstanceRecord]?
    /// Sharded runs only: the shard reached the attempt cap.
    public var exhausted: Bool?

    enum CodingKeys: String, CodingKey {
        case id, reference, statement, verdict, instances, generated, roundoff, errors, dropped, counterexample
        case firstError = "first_error"
        case minMargin = "min_margin", minMarginInstance = "min_margin_instance"
        case seconds, instancesPerSecond = "instances_per_second", records, exhausted
    }
}

/// One evaluated instance of a sharded run: its index, whether it met the hypotheses, its
/// conclusion margin (when met) or its error.
public struct InstanceRecord: Codable, Equatable, Sendable {
    public var index: Int
    public var met: Bool
    public var margin: Double?
    public var error: String?
}

/// Settings of a check run.
public struct CheckOptions: Sendable {
    /// Instances that must meet the hypotheses (default 1,000).
    public var instances: Int = 1000
    /// The run's seed; instance k of claim c is drawn from `SeededGenerator.derived(seed ⊕ hash(c), k)`.
    public var seed: UInt64 = 1
    /// Give up after `attemptFactor × instances` generated instances (default 20).
    public var attemptFactor: Int = 20
    /// Worker threads (default: the CPUs this process may use, `CPUs.available`). Results do not depend on it.
    public var threads: Int = CPUs.available
    /// Hypotheses not enforced (by the generator) nor required (of the instances).
    public var dropping: Set<String> = []
    /// Shrink a found counterexample (default true).
    public var shrink: Bool = true
    /// Record wall time and instances per second (non-deterministic; default false).
    public var timing: Bool = false
    /// Shard K of N: this run evaluates only the instance indices ≡ K (mod N) (default 0 of 1).
    public var shard: (index: Int, count: Int) = (0, 1)

    public init() {}
}

/// One evaluated random instance.
struct Outcome: Sendable {
    let index: Int
    let instance: ClaimInstance
    let evaluation: Evaluation?
    let error: String?
}

/// Runs claims on random instances in parallel, deterministically.
public enum Runner {
    /// A stable 64-bit hash of a claim id (FNV-1a), so seeds differ per claim.
    public static func hash(_ s: String) -> UInt64 { SeededGenerator.hash(s) }

    /// The random instance number `index` of a claim under a seed (what `--replay` and shards rely on).
    public static func instance(of claim: any Claim, seed: UInt64, index: Int, dropping: Set<String>) -> ClaimInstance {
        var g = SeededGenerator.derived(seed: seed ^ hash(claim.id), index: UInt64(index))
        let family = claim.families[g.int(0...(claim.families.count - 1))]
        return claim.generate(&g, family: family, dropping: dropping)
    }

    /// Checks one claim. `progress` is called after each batch with (instances met, target).
    ///
    /// Unsharded, instance indices 0, 1, 2, … are evaluated until `instances` of them meet the
    /// hypotheses (or `attemptFactor × instances` were generated). Shard K of N walks the indices
    /// ≡ K (mod N) until it holds ⌈instances/N⌉ + max(64, instances/(4N)) met ones, and records every
    /// evaluated index in `records`, so that `merge(_:)` can rebuild exactly the unsharded run.
    public static func check(_ claim: any Claim, options: CheckOptions,
                             progress: (@Sendable (Int, Int) -> Void)? = nil) -> ClaimResult {
        let start = Date()
        let n = options.shard.count
        let sharded = n > 1
        let cap = Swift.max(options.instances * options.attemptFactor, options.instances)
        let target = sharded ? (options.instances + n - 1) / n + Swift.max(64, options.instances / (4 * n)) : options.instances
        let batch = 64
        var met: [Outcome] = []
        var records: [InstanceRecord] = []
        var generated = 0, errors = 0
        var firstError: String?
        var next = 0
        while met.count < target && next < cap {
            let indices = Array(stride(from: next, to: Swift.min(next + batch * n, cap), by: 1)).filter { $0 % n == options.shard.index }
            next += batch * n
            let outcomes = evaluateParallel(claim, indices: indices, seed: options.seed, dropping: options.dropping, threads: options.threads)
            for o in outcomes {
                guard met.count < target else { break }
                generated += 1
                guard let e = o.evaluation, e.isWellDefined else {
                    errors += 1
                    let message = "instance \(o.index): " + (o.error ?? "NaN margin")
                    if firstError == nil { firstError = message }
                    if sharded { records.append(InstanceRecord(index: o.index, met: false, margin: nil, error: message)) }
                    continue
                }
                let ok = e.meetsHypotheses(dropping: options.dropping)
                if sharded { records.append(InstanceRecord(index: o.index, met: ok, margin: ok ? e.conclusion : nil, error: nil)) }
                if ok { met.append(o) }
            }
            progress?(met.count, target)
        }
        let byIndex = Dictionary(uniqueKeysWithValues: met.map { ($0.index, $0) })
        var result = conclude(claim, options: options, met: met.map { ($0.index, $0.evaluation!.conclusion) },
                              generated: generated, errors: errors, firstError: firstError) { i in
            (byIndex[i]!.instance, byIndex[i]!.evaluation!)
        }
        if sharded { result.records = records; result.exhausted = next >= cap }
        if options.timing {
            let s = Date().timeIntervalSince(start)
            result.seconds = s
            result.instancesPerSecond = s > 0 ? Double(generated) / s : nil
        }
        return result
    }

    /// The verdict from the instances that met the hypotheses, given as (index, conclusion margin)
    /// in index order; `outcome(index)` gives a met instance and its evaluation (stored, or
    /// regenerated from the seed by `merge`). The smallest margin (ties: lowest index) and its
    /// instance; then the violators, most violated first (ties: lowest index), re-checked in
    /// extended precision until one is certified, which is shrunk into the counterexample.
    static func conclude(_ claim: any Claim, options: CheckOptions, met: [(index: Int, margin: Double)],
                         generated: Int, errors: Int, firstError: String?,
                         outcome: (Int) -> (instance: ClaimInstance, evaluation: Evaluation)) -> ClaimResult {
        var result = ClaimResult(id: claim.id, reference: claim.reference, statement: claim.statement,
                                 verdict: met.isEmpty ? .vacuous : .holds, instances: met.count, generated: generated,
                                 roundoff: 0, errors: errors, firstError: firstError, minMargin: nil, minMarginInstance: nil, counterexample: nil,
                                 dropped: options.dropping.sorted(), seconds: nil, instancesPerSecond: nil)
        if let m = met.min(by: { ($0.margin, $0.index) < ($1.margin, $1.index) }) {
            result.minMargin = m.margin
            result.minMarginInstance = outcome(m.index).instance
        }
        let ordered = met.filter { Evaluation(conclusion: $0.margin).violates(strict: claim.strict) }
            .sorted { ($0.margin, $0.index) < ($1.margin, $1.index) }
        // The first certified violator (most violated first) that the claim calls instructive,
        // else the first certified one; the violators passed over uncertified are round-off.
        // Every violator is re-checked (no cap): a larger run's instances extend a smaller run's
        // (instance k depends on (seed, claim, k) only), so a counterexample certified in the
        // smaller run is re-checked, and found, in the larger one: more evidence never turns
        // "fails" into "holds".
        // The re-checks run `threads` at a time, in chunks of the ordered list (2, 4, … up to 256
        // per thread), and are read in order: the choice is the serial one whatever the thread count.
        var chosen: (index: Int, instance: ClaimInstance, evaluation: Evaluation, extended: Evaluation)?
        var uncertifiedBeforeChosen = 0, uncertified = 0
        var start = 0, chunk = Swift.max(1, options.threads)
        scan: while start < ordered.count {
            let slice = ordered[start..<Swift.min(start + chunk, ordered.count)]
            start += slice.count
            chunk = Swift.min(chunk * 2, 256 * Swift.max(1, options.threads))
            let items = slice.map { outcome($0.index) }   // serially: `outcome` may cache
            let judged = parallelMap(items.count, threads: options.threads) { k in
                Judgement(claim: claim, double: items[k].evaluation, extended: try? claim.evaluateExtended(items[k].instance), dropping: options.dropping)
            }
            for (k, v) in slice.enumerated() {
                let (instance, evaluation) = items[k], j = judged[k]
                guard j.outcome == .certified, let ext = j.extended else { uncertified += 1; continue }
                if chosen == nil { chosen = (v.index, instance, evaluation, ext); uncertifiedBeforeChosen = uncertified }
                if claim.instructive(instance) {
                    if !claim.instructive(chosen!.instance) { chosen = (v.index, instance, evaluation, ext) }
                    break scan
                }
            }
        }
        result.roundoff = chosen == nil ? uncertified : uncertifiedBeforeChosen
        if let c = chosen {
            var cx = Counterexample(instance: c.instance, evaluation: c.evaluation, extended: c.extended, index: c.index, shrunk: false, certified: true)
            if options.shrink && claim.shrinkable { cx = Shrinker.shrink(cx, claim: claim, dropping: options.dropping, threads: options.threads) }
            cx.dropped = options.dropping.isEmpty ? nil : options.dropping.sorted()
            result.counterexample = cx
            result.verdict = .fails
        }
        return result
    }

    /// Rebuilds the unsharded check from the `records` of shards 0..<N of one claim (same seed,
    /// options and `instances`): the indices in order until `instances` met, exactly as `check`
    /// walks them; met instances needed for the verdict are regenerated from the seed. Throws when a
    /// shard lacks records or stopped before the merged run's last index (rerun the shards with a
    /// larger `--instances`).
    public static func merge(_ claim: any Claim, options: CheckOptions, shards: [ClaimResult]) throws -> ClaimResult {
        var all: [Int: InstanceRecord] = [:]
        var reachedCap = true
        for s in shards {
            guard let r = s.records else {
                throw ClaimError.invalid("the report of \(claim.id) has no per-instance records: produce it with `sftrl check --shard K/N`")
            }
            for x in r { all[x.index] = x }
            reachedCap = reachedCap && (s.exhausted ?? false)
        }
        let cap = Swift.max(options.instances * options.attemptFactor, options.instances)
        var met: [(index: Int, margin: Double)] = []
        var generated = 0, errors = 0
        var firstError: String?
        var index = 0
        while met.count < options.instances && index < cap {
            guard let r = all[index] else {
                if reachedCap { break }
                throw ClaimError.invalid("\(claim.id): no shard evaluated instance \(index), which the whole run needs (shard \(index % shards.count)/\(shards.count) stopped earlier); rerun the shards with a larger --instances")
            }
            generated += 1
            if let e = r.error { errors += 1; if firstError == nil { firstError = e } }
            else if r.met, let m = r.margin { met.append((index, m)) }
            index += 1
        }
        var cache: [Int: (ClaimInstance, Evaluation)] = [:]
        return conclude(claim, options: options, met: met, generated: generated, errors: errors, firstError: firstError) { i in
            if let c = cache[i] { return c }
            let inst = instance(of: claim, seed: options.seed, index: i, dropping: options.dropping)
            let e = (try? claim.evaluate(inst)) ?? Evaluation(conclusion: .nan)
            cache[i] = (inst, e)
            return (inst, e)
        }
    }
    /// Evaluates the given instance indices on `threads` threads; the result is in index order.
    static func evaluateParallel(_ claim: any Claim, indices: [Int], seed: UInt64, dropping: Set<String>, threads: Int) -> [Outcome] {
        parallelMap(indices.count, threads: threads) { i in
            let idx = indices[i]
            let inst = Runner.instance(of: claim, seed: seed, index: idx, dropping: dropping)
            do { return Outcome(index: idx, instance: inst, evaluation: try claim.evaluate(inst), error: nil) } catch {
                return Outcome(index: idx, instance: inst, evaluation: nil, error: "\(error)")
            }
        }
    }
}

/// `body(0..<n)` on `threads` threads (one: in order, on this thread), the results in index order.
func parallelMap<R: Sendable>(_ n: Int, threads: Int, _ body: @Sendable (Int) -> R) -> [R] {
    if threads <= 1 || n <= 1 { return (0..<n).map(body) }
    let box = SlotBox<R>(count: n)
    DispatchQueue.concurrentPerform(iterations: n) { box.set($0, body($0)) }
    return box.values.map { $0! }
}

/// Thread-safe slots for parallel results (each slot written once, by one worker).
final class SlotBox<R: Sendable>: @unchecked Sendable {
    private var storage: [R?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: R) { lock.lock(); storage[i] = r; lock.unlock() }
    var values: [R?] { lock.lock(); defer { lock.unlock() }; return storage }
}
