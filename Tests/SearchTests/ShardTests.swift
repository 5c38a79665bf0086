import Testing
import Foundation
import Policies
import Claims
@testable import Search

/// Sharded runs merged with `ReportMerge` equal the unsharded run for the same seed.
@Suite struct ShardTests {
    @Test(arguments: ["eq5", "eq6-pinsker", "thm3.1", "prop1"])
    func checkShardsMergeToTheWholeRun(_ id: String) throws {
        let claim = try Registry.claim(id)
        var whole = CheckOptions()
        whole.instances = 240; whole.seed = 5; whole.threads = 2
        let w = Runner.check(claim, options: whole)
        for n in [2, 3] {
            var parts: [(result: ClaimResult, shard: (index: Int, count: Int))] = []
            for k in 0..<n {
                var o = whole
                o.instances = whole.instances / n
                o.shard = (k, n)
                parts.append((Runner.check(claim, options: o), (k, n)))
            }
            let m = try ReportMerge.mergeCheck(parts, seed: whole.seed)
            #expect(m.verdict == w.verdict && m.instances == w.instances && m.generated == w.generated)
            #expect(m.roundoff == w.roundoff && m.errors == w.errors)
            #expect(m.minMargin == w.minMargin && m.minMarginInstance == w.minMarginInstance, "\(id) \(n) shards: min margin")
            #expect(m.counterexample == w.counterexample, "\(id) \(n) shards: counterexample")
        }
    }

    @Test func minMarginTiesGoToTheLowestIndex() throws {
        // thm4.1's "ties" family gives many instances with conclusion margin exactly 0.
        let claim = try Registry.claim("thm4.1")
        var whole = CheckOptions()
        whole.instances = 64; whole.seed = 3; whole.threads = 2; whole.attemptFactor = 1_000_000
        let w = Runner.check(claim, options: whole)
        var o = whole
        o.instances = 32
        // Only meaningful when both shards walk the whole run's indices; otherwise skip the equality.
        let parts = (0..<2).map { k -> (result: ClaimResult, shard: (index: Int, count: Int)) in o.shard = (k, 2); return (Runner.check(claim, options: o), (k, 2)) }
        let m = try ReportMerge.mergeCheck(parts, seed: whole.seed)
        if m.generated == w.generated {
            #expect(m.minMargin == w.minMargin && m.minMarginInstance == w.minMarginInstance)
            #expect(m.counterexample == w.counterexample)
        }
        #expect(m.verdict == .fails)
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
