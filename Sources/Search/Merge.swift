import Foundation
import Claims

/// Combining the reports of shards (`--shard K/N`) into the report of the whole run.
public enum ReportMerge {
    public enum MergeError: Error, CustomStringConvertible, Equatable {
        case inconsistent(String)
        public var description: String { switch self { case let .inconsistent(s): return s } }
    }

    /// Parses "K/N" with 0 ≤ K < N.
    public static func parseShard(_ s: String) -> (index: Int, count: Int)? {
        let parts = s.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 0, k < n else { return nil }
        return (k, n)
    }

    /// Checks that the shard labels are K/N for every K in 0..<N exactly once (nil labels: one
    /// unsharded report, or reports merged before). Returns the shards in the reports' order.
    public static func checkShards(_ labels: [String?]) throws -> [(index: Int, count: Int)] {
        if labels.count == 1 && labels[0] == nil { return [(0, 1)] }
        var out: [(index: Int, count: Int)] = []
        for l in labels {
            guard let l, let s = parseShard(l) else {
                throw MergeError.inconsistent("every report must come from a shard run (--shard K/N); one has shard \(l ?? "none")")
            }
            out.append(s)
        }
        let n = out[0].count
        guard out.allSatisfy({ $0.count == n }) else { throw MergeError.inconsistent("the reports come from different shard counts: \(labels.compactMap { $0 }.joined(separator: ", "))") }
        let ks = out.map(\.index)
        guard Set(ks).count == ks.count else { throw MergeError.inconsistent("a shard appears twice: \(labels.compactMap { $0 }.joined(separator: ", "))") }
        let missing = (0..<n).filter { !ks.contains($0) }
        guard missing.isEmpty else { throw MergeError.inconsistent("shards missing: \(missing.map { "\($0)/\(n)" }.joined(separator: ", "))") }
        return out
    }

    /// Merges the results of one claim over shards of a check with seed `seed`: instances,
    /// generated, round-off and errors summed; the smallest margin (ties: the lowest random index,
    /// found by regenerating the shard's instances); the counterexample whose random instance had
    /// the most negative margin before shrinking (ties: lowest index; the margin is recomputed from
    /// the instance the index regenerates); the verdict recomputed.
    ///
    /// Equal to the unsharded `Runner.check` when the shards walk the same instance indices as the
    /// whole run: every generated instance meets the kept hypotheses (and evaluates without error)
    /// and the whole run's `--instances` is the sum of the shards'. The round-off count can differ
    /// when a shard has uncertified violators ahead of its own counterexample.
    public static func mergeCheck(_ parts: [(result: ClaimResult, shard: (index: Int, count: Int))], seed: UInt64) throws -> ClaimResult {
        guard var out = parts.first?.result else { throw MergeError.inconsistent("nothing to merge") }
        let claim = try Registry.claim(out.id)
        let dropping = Set(out.dropped)
        for p in parts where p.result.id != out.id || p.result.dropped != out.dropped {
            throw MergeError.inconsistent("cannot merge \(p.result.id) (dropping \(p.result.dropped)) with \(out.id) (dropping \(out.dropped))")
        }
        out.instances = parts.reduce(0) { $0 + $1.result.instances }
        out.generated = parts.reduce(0) { $0 + $1.result.generated }
        out.roundoff = parts.reduce(0) { $0 + $1.result.roundoff }
        out.errors = parts.reduce(0) { $0 + $1.result.errors }
        // Smallest margin, ties by the lowest index.
        out.minMargin = nil; out.minMarginInstance = nil
        if let m = parts.compactMap({ $0.result.minMargin }).min() {
            let tied = parts.filter { $0.result.minMargin == m }
            if tied.count == 1 {
                out.minMargin = m; out.minMarginInstance = tied[0].result.minMarginInstance
            } else {
                var best: (Int, ClaimInstance?)?
                for p in tied {
                    let (k, n) = p.shard
                    var found = Int.max
                    for j in 0..<p.result.generated {
                        let idx = k + j * n
                        if Runner.instance(of: claim, seed: seed, index: idx, dropping: dropping) == p.result.minMarginInstance { found = idx; break }
                    }
                    if best == nil || found < best!.0 { best = (found, p.result.minMarginInstance) }
                }
                out.minMargin = m; out.minMarginInstance = best?.1
            }
        }
        // The counterexample: most negative margin of its original random instance, then lowest index.
        out.counterexample = nil
        var chosen: (Double, Int, Counterexample)?
        for p in parts {
            guard let cx = p.result.counterexample else { continue }
            let original = cx.index >= 0 ? Runner.instance(of: claim, seed: seed, index: cx.index, dropping: dropping) : cx.instance
            let margin = (try? claim.evaluate(original).conclusion) ?? cx.evaluation.conclusion
            if chosen == nil || (margin, cx.index) < (chosen!.0, chosen!.1) { chosen = (margin, cx.index, cx) }
        }
        out.counterexample = chosen?.2
        out.verdict = out.counterexample != nil ? .fails : (out.instances > 0 ? .holds : .vacuous)
        let secs = parts.compactMap { $0.result.seconds }
        if secs.count == parts.count {
            out.seconds = secs.reduce(0, +)
            out.instancesPerSecond = out.seconds! > 0 ? Double(out.generated) / out.seconds! : nil
        } else { out.seconds = nil; out.instancesPerSecond = nil }
        return out
    }

    /// Merges the results of one search over shards: restarts, evaluations and errors summed; the
    /// best finding and the counterexample with the smallest (margin before shrinking, restart,
    /// rank), which is the order the unsharded search certifies in; `stopped_by` "seconds" when any
    /// shard hit the clock. Equal to the unsharded search whenever no shard hit the clock.
    public static func mergeSearch(_ parts: [SearchResult]) throws -> SearchResult {
        guard var out = parts.first else { throw MergeError.inconsistent("nothing to merge") }
        for p in parts where p.claim != out.claim || p.dropped != out.dropped || p.mode != out.mode || p.seed != out.seed
            || p.budgetEvaluations != out.budgetEvaluations {
            throw MergeError.inconsistent("cannot merge the search of \(p.claim) (dropping \(p.dropped), \(p.mode.rawValue), seed \(p.seed), budget \(p.budgetEvaluations)) with that of \(out.claim) (dropping \(out.dropped), \(out.mode.rawValue), seed \(out.seed), budget \(out.budgetEvaluations))")
        }
        func key(_ f: Finding) -> (Double, Int, Int) { (f.foundMargin, f.restart, f.rank) }
        func smallest(_ fs: [Finding]) -> Finding? { fs.min { key($0) < key($1) } }
        out.restarts = parts.reduce(0) { $0 + $1.restarts }
        out.evaluations = parts.reduce(0) { $0 + $1.evaluations }
        out.errors = parts.reduce(0) { $0 + $1.errors }
        out.best = smallest(parts.compactMap(\.best))
        out.counterexample = smallest(parts.compactMap(\.counterexample))
        out.stoppedBy = parts.contains { $0.stoppedBy == "seconds" } ? "seconds" : "evaluations"
        out.shard = nil
        let secs = parts.compactMap(\.seconds)
        out.seconds = secs.count == parts.count ? secs.max() : nil
        switch out.mode {
        case .violation: out.verdict = out.counterexample != nil ? "counterexample" : (out.best != nil ? "none-found" : "no-feasible-instance")
        case .tightness:
            out.verdict = out.best != nil ? "tightness" : "no-feasible-instance"
            out.tightness?.supremumFound = out.best?.ratioExtended ?? out.best?.ratio
        }
        return out
    }
}
