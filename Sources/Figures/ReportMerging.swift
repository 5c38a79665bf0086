import Claims
import Search
import Reports

extension CheckReport {
    /// The report of a whole run from its shards (`sftrl merge`): every shard of the same seed,
    /// version and --instances, each K/N exactly once; per claim, `ReportMerge.mergeCheck` of the
    /// shards' results (the same verdict and margins as the unsharded run).
    public static func merge(_ reports: [CheckReport]) throws -> CheckReport {
        let first = reports[0]
        for r in reports where r.seed != first.seed || r.version != first.version || r.instances != first.instances {
            throw UserInputError("the reports differ in seed, version or --instances (\(r.seed)/\(r.version)/\(r.instances) vs \(first.seed)/\(first.version)/\(first.instances)): run every shard with the same options")
        }
        let shards = try ReportMerge.checkShards(reports.map(\.shard))
        var claims: [ClaimResult] = []
        for c in first.claims {
            var parts: [(result: ClaimResult, shard: (index: Int, count: Int))] = []
            for (k, r) in reports.enumerated() {
                guard let m = r.claims.first(where: { $0.id == c.id && $0.dropped == c.dropped }) else {
                    throw UserInputError("report \(k + 1) has no result for claim \(c.id)")
                }
                parts.append((m, shards[k]))
            }
            claims.append(try ReportMerge.mergeCheck(parts, seed: first.seed, instances: first.instances))
        }
        return CheckReport(seed: first.seed, version: first.version, commit: first.commit, instances: first.instances, shard: nil, claims: claims)
    }
}

extension SearchReport {
    /// The report of a whole search from its shards: same seed and version, each K/N exactly once;
    /// per search, `ReportMerge.mergeSearch` of the shards' results.
    public static func merge(_ reports: [SearchReport]) throws -> SearchReport {
        let first = reports[0]
        for r in reports where r.seed != first.seed || r.version != first.version {
            throw UserInputError("the reports differ in seed or version (\(r.seed)/\(r.version) vs \(first.seed)/\(first.version))")
        }
        _ = try ReportMerge.checkShards(reports.map(\.shard))
        var runs: [SearchResult] = []
        for run in first.runs {
            let parts = try reports.enumerated().map { k, r -> SearchResult in
                guard let m = r.runs.first(where: { $0.claim == run.claim && $0.dropped == run.dropped && $0.mode == run.mode }) else {
                    throw UserInputError("report \(k + 1) has no search of \(run.claim) dropping [\(run.dropped.joined(separator: ", "))]")
                }
                return m
            }
            runs.append(try ReportMerge.mergeSearch(parts))
        }
        return SearchReport(version: first.version, commit: first.commit, seed: first.seed, shard: nil, runs: runs)
    }
}
