import Testing
import Foundation
import Linalg
import Policies
import Claims
@testable import Search

/// Sharded runs merged with `ReportMerge` equal the unsharded run for the same seed.
@Suite struct ShardTests {
    /// Every shard runs with the whole run's --instances and records its instances; the merge
    /// rebuilds the whole run exactly — including claims whose generators produce instances that
    /// miss a hypothesis (r1-global-kl, thm4.1) or throw (r5-spectral's zero gradients).
    @Test(arguments: ["eq5", "eq6-pinsker", "thm3.1", "prop1", "thm4.1", "r1-global-kl", "r4-step"])
    func checkShardsMergeToTheWholeRun(_ id: String) throws {
        BLASThreads.set(1)   // process-wide: LAPACK must sum the same way in every run compared
        let claim = try Registry.claim(id)
        var whole = CheckOptions()
        whole.instances = 240; whole.seed = 5; whole.threads = 2
        let w = Runner.check(claim, options: whole)
        for n in [2, 3] {
            var parts: [(result: ClaimResult, shard: (index: Int, count: Int))] = []
            for k in 0..<n {
                var o = whole
                o.shard = (k, n)
                parts.append((Runner.check(claim, options: o), (k, n)))
            }
            let m = try ReportMerge.mergeCheck(parts, seed: whole.seed, instances: whole.instances)
            #expect(m.verdict == w.verdict && m.instances == w.instances && m.generated == w.generated, "\(id) \(n) shards: counts")
            #expect(m.roundoff == w.roundoff && m.errors == w.errors && m.firstError == w.firstError)
            #expect(m.minMargin == w.minMargin && m.minMarginInstance == w.minMarginInstance, "\(id) \(n) shards: min margin")
            #expect(m.counterexample == w.counterexample, "\(id) \(n) shards: counterexample")
            #expect(try encodeResult(m) == encodeResult(w), "\(id) \(n) shards: JSON differs")
        }
    }

    func encodeResult(_ r: ClaimResult) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(r)
    }

    /// A shard that stopped before the whole run's last index is refused with a clear error.
    @Test func shortShardIsRefused() throws {
        let claim = try Registry.claim("eq6-pinsker")
        var o = CheckOptions()
        o.instances = 100; o.seed = 2; o.threads = 2
        var parts: [(result: ClaimResult, shard: (index: Int, count: Int))] = []
        for k in 0..<2 { var p = o; p.shard = (k, 2); parts.append((Runner.check(claim, options: p), (k, 2))) }
        parts[1].result.records = Array(parts[1].result.records!.prefix(3))
        #expect(throws: ClaimError.self) { try ReportMerge.mergeCheck(parts, seed: o.seed, instances: o.instances) }
    }

    @Test func searchShardsMergeToTheWholeSearch() throws {
        for (id, drop) in [("prop1", Set(["kl-budget"])), ("eq6-pinsker", Set<String>())] {
            let claim = try Registry.claim(id)
            var o = SearchOptions()
            o.seed = 9; o.budgetEvaluations = 600; o.budgetSeconds = 600; o.restarts = 6; o.dropping = drop
            let whole = Searcher.search(claim, options: o)
            let parts = (0..<3).map { k -> SearchResult in var s = o; s.shard = (k, 3); return Searcher.search(claim, options: s) }
            let merged = try ReportMerge.mergeSearch(parts)
            #expect(merged == whole, "\(id): merged shards differ from the whole search")
        }
    }

    @Test func incompleteOrDuplicatedShardsAreRefused() {
        #expect(throws: ReportMerge.MergeError.self) { try ReportMerge.checkShards(["0/3", "1/3"]) }
        #expect(throws: ReportMerge.MergeError.self) { try ReportMerge.checkShards(["0/2", "0/2"]) }
        #expect(throws: ReportMerge.MergeError.self) { try ReportMerge.checkShards(["0/2", "1/3"]) }
        #expect((try? ReportMerge.checkShards(["1/2", "0/2"]))?.count == 2)
    }
}
