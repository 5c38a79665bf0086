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
        // The first few missing shards only: N may be 2^63 − 1 (a lazy walk stops after 10).
        let present = Set(ks)
        let missing = Array((0..<n).lazy.filter { !present.contains($0) }.prefix(10))
        guard missing.isEmpty else {
            let more = n - out.count > missing.count ? " and \(n - out.count - missing.count) more" : ""
            throw MergeError.inconsistent("shards missing: \(missing.map { "\($0)/\(n)" }.joined(separator: ", "))\(more)")
        }
        return out
    }

    /// Merges the results of one claim over the shards 0..<N of a check (seed `seed`, the whole
    /// run's `--instances`): `Runner.merge` walks the shards' per-instance records in index order
    /// exactly as the unsharded run walks its instances, so the merged result equals
    /// `Runner.check` of the whole run (the instances the verdict needs are regenerated from the
    /// seed). A single unsharded report is returned as it is.
    public static func mergeCheck(_ parts: [(result: ClaimResult, shard: (index: Int, count: Int))], seed: UInt64, instances: Int) throws -> ClaimResult {
        guard let first = parts.first?.result else { throw MergeError.inconsistent("nothing to merge") }
        if parts.count == 1 && parts[0].shard.count == 1 && first.records == nil { return first }
        for p in parts where p.result.id != first.id || p.result.dropped != first.dropped {
            throw MergeError.inconsistent("cannot merge \(p.result.id) (dropping \(p.result.dropped)) with \(first.id) (dropping \(first.dropped))")
        }
        let claim = try Registry.claim(first.id)
        var options = CheckOptions()
        options.seed = seed
        options.instances = instances
        options.dropping = Set(first.dropped)
        var merged = try Runner.merge(claim, options: options, shards: parts.sorted { $0.shard.index < $1.shard.index }.map(\.result))
        let secs = parts.compactMap { $0.result.seconds }
        if secs.count == parts.count {
            merged.seconds = secs.reduce(0, +)
            merged.instancesPerSecond = merged.seconds! > 0 ? Double(parts.reduce(0) { $0 + $1.result.generated }) / merged.seconds! : nil
        }
        return merged
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
            // The summary (with its round-off judgement) of the shard whose best finding won.
            if let b = out.best, let owner = parts.first(where: { $0.best == b }) { out.tightness = owner.tightness }
            else { out.tightness?.supremumFound = out.best?.ratioExtended ?? out.best?.ratio }
        }
        return out
    }
}
