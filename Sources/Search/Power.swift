import Foundation
import Dispatch
import Linalg
import Claims

/// The power of a verdict: every registered mutant of a claim (a false near-variant, `Mutant`) is
/// run through the default check and, when the check misses it, the default search.
///
/// Check phase: the default check's instance stream (`Runner.instance`, seed 1, indices 0, 1, 2, …)
/// is walked in order, instances evaluated in parallel batches of 64 and judged in index order
/// (`Judgement`: Double, then the extended-precision re-check); it stops at the first certified
/// violation or after the default budget (1,000 instances meeting the hypotheses, 20× that
/// generated). `instances_to_catch` counts the instances that met the hypotheses up to and
/// including the catch; `seconds` is the wall time to it. Search phase (only when the check
/// missed): `Searcher.search` with its defaults; `instances_to_catch` is then the check's budget
/// plus the search's evaluations, `seconds` both phases' time.
public enum Power {
    public struct MutantResult: Codable, Sendable {
        public var name: String
        public var change: String
        public var whyFalse: String
        public var expected: String
        /// "fails" (a certified counterexample was found) or "holds" (the mutant was missed).
        public var verdict: String
        /// "check", "search" or nil (missed).
        public var caughtBy: String?
        public var instancesToCatch: Int?
        public var seconds: Double?
        enum CodingKeys: String, CodingKey {
            case name, change, expected, verdict, seconds
            case whyFalse = "why_false", caughtBy = "caught_by", instancesToCatch = "instances_to_catch"
        }
    }
    public struct ClaimPower: Codable, Sendable {
        public var id: String
        public var mutants: [MutantResult]
    }
    public struct Report: Codable, Sendable {
        public var claims: [ClaimPower]
    }

    /// Runs every mutant of the given claims (all claims when empty). `progress` gets each mutant's id.
    public static func run(claims ids: [String], threads: Int = CPUs.available, searchSeconds: Double? = nil,
                           progress: (@Sendable (String) -> Void)? = nil) throws -> Report {
        let chosen = ids.isEmpty ? Registry.ids : ids
        for id in chosen { _ = try Registry.claim(id) }
        var out: [ClaimPower] = []
        for id in chosen {
            var results: [MutantResult] = []
            for m in Mutants.of(id) {
                progress?(m.id)
                results.append(run(m, threads: threads, searchSeconds: searchSeconds))
            }
            out.append(ClaimPower(id: id, mutants: results))
        }
        return Report(claims: out)
    }

    /// One mutant through the check phase, then (if missed) the search phase.
    public static func run(_ m: Mutant, threads: Int = CPUs.available, searchSeconds: Double? = nil) -> MutantResult {
        var r = MutantResult(name: m.name, change: m.change, whyFalse: m.whyFalse, expected: "fails", verdict: "holds",
                             caughtBy: nil, instancesToCatch: nil, seconds: nil)
        let start = Date()
        let defaults = CheckOptions()
        if let k = firstCatch(m, options: defaults, threads: threads) {
            r.verdict = "fails"; r.caughtBy = "check"; r.instancesToCatch = k
            r.seconds = Date().timeIntervalSince(start)
            return r
        }
        var so = SearchOptions()
        so.threads = threads
        so.shrink = false
        if let s = searchSeconds { so.budgetSeconds = s }
        let s = Searcher.search(m, options: so)
        if let c = s.counterexample, c.certified {
            r.verdict = "fails"; r.caughtBy = "search"; r.instancesToCatch = defaults.instances + s.evaluations
            r.seconds = Date().timeIntervalSince(start)
        }
        return r
    }

    /// The number of hypothesis-meeting instances of the default check stream up to and including
    /// the first certified violation, or nil when the default budget holds none.
    public static func firstCatch(_ claim: any Claim, options: CheckOptions, threads: Int) -> Int? {
        let cap = Swift.max(options.instances * options.attemptFactor, options.instances)
        var met = 0, next = 0
        while met < options.instances && next < cap {
            let indices = Array(next..<Swift.min(next + 64, cap))
            next += 64
            let box = JudgementBox(count: indices.count)
            let work: @Sendable (Int) -> Void = { i in
                let inst = Runner.instance(of: claim, seed: options.seed, index: indices[i], dropping: [])
                box.set(i, try? Judgement(claim: claim, instance: inst, dropping: []))
            }
            if threads <= 1 { for i in indices.indices { work(i) } } else { DispatchQueue.concurrentPerform(iterations: indices.count, execute: work) }
            for j in box.values {
                guard met < options.instances else { break }
                guard let j, j.double.isWellDefined, j.outcome != .hypothesesNotMet else { continue }
                met += 1
                if j.outcome == .certified { return met }
            }
        }
        return nil
    }
}

/// Thread-safe slots for parallel judgements (each written once).
final class JudgementBox: @unchecked Sendable {
    private var storage: [Judgement?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ j: Judgement?) { lock.lock(); storage[i] = j; lock.unlock() }
    var values: [Judgement?] { lock.lock(); defer { lock.unlock() }; return storage }
}

extension Power {
    /// The report as a plain table: claim, mutant, expected, verdict, caught by, instances, seconds.
    public static func table(_ r: Report) -> String {
        var lines = ["claim                  mutant            expected  verdict  caught by  instances  seconds"]
        for c in r.claims {
            for m in c.mutants {
                func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
                lines.append(pad(c.id, 23) + pad(m.name, 18) + pad(m.expected, 10) + pad(m.verdict, 9) + pad(m.caughtBy ?? "-", 11)
                             + pad(m.instancesToCatch.map(String.init) ?? "-", 11) + (m.seconds.map { String(format: "%.2f", $0) } ?? "-"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The power column of the verdict table for one claim, e.g. "catches 10⁻³ tightening in 40 instances".
    public static func summary(_ c: ClaimPower) -> String {
        c.mutants.map { m in
            guard m.verdict == "fails", let k = m.instancesToCatch else { return "MISSES \(m.name)" }
            return "catches \(m.name) in \(k) instances (\(m.caughtBy ?? ""))"
        }.joined(separator: "; ")
    }
}

extension Power {
    /// docs/power.md: the command that made it, then one row per mutant (claim, mutant, change,
    /// verdict, caught by, instances, seconds). Seconds are wall time on the machine that ran it.
    public static func markdown(_ r: Report, command: String) -> String {
        var s = """
        # Power of the verdicts (generated)

        Made by `\(command)`; do not edit by hand. Each claim's mutants (false near-variants, each false
        by the proof in `why_false` of the JSON) run through the default check (seed 1, up to 1,000
        instances meeting the hypotheses, walked in order until the first certified violation) and,
        when the check misses, the default search. "instances": hypothesis-meeting instances up to and
        including the first certified catch (for a search catch: 1,000 plus the search's evaluations).
        Mutant kinds: tighten-1e-3 (a constant × (1 − 10⁻³) where the inequality is sharp), perturb-1e-3
        (one side of an identity × (1 + 10⁻³)), shift-1e-3 (the margin must exceed 10⁻³ of its scale; for
        identity-type margins, whose maximum is the 10⁻⁹ tolerance, this is caught at once and measures
        little), gap-1e-3, drop-H (a hypothesis the proof needs, dropped). Seconds are wall time on the
        machine that made the page.

        | claim | mutant | change | verdict | caught by | instances | seconds |
        |---|---|---|---|---|---|---|

        """
        for c in r.claims {
            for m in c.mutants {
                let cells = [c.id, m.name, m.change.replacingOccurrences(of: "|", with: "\\|"), m.verdict == m.expected ? "caught" : "**MISSED**",
                             m.caughtBy ?? "-", m.instancesToCatch.map(String.init) ?? "-", m.seconds.map { String(format: "%.2f", $0) } ?? "-"]
                s += "| " + cells.joined(separator: " | ") + " |\n"
            }
        }
        return s
    }
}
