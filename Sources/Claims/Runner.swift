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

    enum CodingKeys: String, CodingKey {
        case id, reference, statement, verdict, instances, generated, roundoff, errors, dropped, counterexample
        case firstError = "first_error"
        case minMargin = "min_margin", minMarginInstance = "min_margin_instance"
        case seconds, instancesPerSecond = "instances_per_second"
    }
}

/// Settings of a check run.
public struct CheckOptions: Sendable {
    /// Instances that must meet the hypotheses (default 1,000).
    public var instances: Int = 1000
    /// The run's seed; instance k of claim c is drawn from `SeededGenerator.derived(seed ⊕ hash(c), k)`.
    public var seed: UInt64 = 1
    /// Give up after `attemptFactor × instances` generated instances (default 20).
    public var attemptFactor: Int = 20
    /// Worker threads (default: all cores). Results do not depend on it.
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
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
    public static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The random instance number `index` of a claim under a seed (what `--replay` and shards rely on).
    public static func instance(of claim: any Claim, seed: UInt64, index: Int, dropping: Set<String>) -> ClaimInstance {
        var g = SeededGenerator.derived(seed: seed ^ hash(claim.id), index: UInt64(index))
        let family = claim.families[g.int(0...(claim.families.count - 1))]
        return claim.generate(&g, family: family, dropping: dropping)
    }

    /// Checks one claim. `progress` is called after each batch with (instances met, target).
    public static func check(_ claim: any Claim, options: CheckOptions,
                             progress: (@Sendable (Int, Int) -> Void)? = nil) -> ClaimResult {
        let start = Date()
        let target = options.instances
        let cap = Swift.max(target * options.attemptFactor, target)
        let batch = 64
        var met: [Outcome] = []
        var generated = 0
        var next = 0
        var violators: [Outcome] = []
        var errors = 0
        var firstError: String?
        while met.count < target && next < cap {
            let indices = Array(stride(from: next, to: Swift.min(next + batch * options.shard.count, cap), by: 1))
                .filter { $0 % options.shard.count == options.shard.index }
            next += batch * options.shard.count
            let outcomes = evaluateParallel(claim, indices: indices, seed: options.seed, dropping: options.dropping, threads: options.threads)
            for o in outcomes {
                guard met.count < target else { break }
                generated += 1
                guard let e = o.evaluation, e.isWellDefined else {
                    errors += 1
                    if firstError == nil { firstError = "instance \(o.index): " + (o.error ?? "NaN margin") }
                    continue
                }
                guard e.meetsHypotheses(dropping: options.dropping) else { continue }
                met.append(o)
                if e.violates(strict: claim.strict) { violators.append(o) }
            }
            progress?(met.count, target)
        }
        var result = ClaimResult(id: claim.id, reference: claim.reference, statement: claim.statement,
                                 verdict: met.isEmpty ? .vacuous : .holds, instances: met.count, generated: generated,
                                 roundoff: 0, errors: errors, firstError: firstError, minMargin: nil, minMarginInstance: nil, counterexample: nil,
                                 dropped: options.dropping.sorted(), seconds: nil, instancesPerSecond: nil)
        if let m = met.min(by: { ($0.evaluation!.conclusion, $0.index) < ($1.evaluation!.conclusion, $1.index) }) {
            result.minMargin = m.evaluation!.conclusion
            result.minMarginInstance = m.instance
        }
        // Certify violators, most violated first; the first certified one becomes the counterexample.
        let ordered = violators.sorted { ($0.evaluation!.conclusion, $0.index) < ($1.evaluation!.conclusion, $1.index) }
        for o in ordered.prefix(50) {
            guard let ext = try? claim.evaluateExtended(o.instance), ext.meetsHypotheses(dropping: options.dropping),
                  Evaluation.certifies(double: o.evaluation!, extended: ext, strict: claim.strict) else {
                result.roundoff += 1
                continue
            }
            var cx = Counterexample(instance: o.instance, evaluation: o.evaluation!, extended: ext, index: o.index, shrunk: false, certified: true)
            if options.shrink && claim.shrinkable { cx = Shrinker.shrink(cx, claim: claim, dropping: options.dropping) }
            result.counterexample = cx
            result.verdict = .fails
            break
        }
        if ordered.count > 50 && result.counterexample == nil { result.roundoff += ordered.count - 50 }
        if options.timing {
            let s = Date().timeIntervalSince(start)
            result.seconds = s
            result.instancesPerSecond = s > 0 ? Double(generated) / s : nil
        }
        return result
    }

    /// Evaluates the given instance indices on `threads` threads; the result is in index order.
    static func evaluateParallel(_ claim: any Claim, indices: [Int], seed: UInt64, dropping: Set<String>, threads: Int) -> [Outcome] {
        let n = indices.count
        let box = OutcomeBox(count: n)
        let work: @Sendable (Int) -> Void = { (i: Int) in
            let idx = indices[i]
            let inst = Runner.instance(of: claim, seed: seed, index: idx, dropping: dropping)
            let o: Outcome
            do { o = Outcome(index: idx, instance: inst, evaluation: try claim.evaluate(inst), error: nil) } catch {
                o = Outcome(index: idx, instance: inst, evaluation: nil, error: "\(error)")
            }
            box.set(i, o)
        }
        if threads <= 1 {
            for i in 0..<n { work(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: n) { work($0) }
        }
        return box.values.map { $0! }
    }
}

/// Thread-safe slots for parallel results (each slot written once, by one worker).
final class OutcomeBox: @unchecked Sendable {
    private var storage: [Outcome?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ o: Outcome) { lock.lock(); storage[i] = o; lock.unlock() }
    var values: [Outcome?] { lock.lock(); defer { lock.unlock() }; return storage }
}
