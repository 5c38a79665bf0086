import ArgumentParser
import Linalg
import Reports
import Search

/// How a seeded run is carried out: its seed, worker threads, shard, timing and progress display,
/// shared by `check` and `search`. The results depend on the seed and the shard only.
struct RunControl: ParsableArguments {
    @Option(help: "Seed of the run; every instance or restart is a function of (seed, claim, index).")
    var seed: UInt64 = 1

    @Option(help: "Worker threads; the default is the number of CPUs this process may use (its affinity mask, as taskset, a Slurm task or a container cpuset sets it). The results do not depend on it.")
    var threads: Int = CPUs.available

    @Option(help: "Run shard K of N (K in 0..<N): only the instance indices (check) or restarts (search) ≡ K mod N. Combine shards with `sftrl merge`.")
    var shard: String?

    @Flag(help: "Record wall times in the JSON (makes it non-deterministic).")
    var timing = false

    @Flag(help: "No progress display on stderr.")
    var quiet = false

    func validate() throws {
        try Bounds.check("--threads", threads, Bounds.threads)
        if let s = shard { _ = try Bounds.shard(s) }
    }

    /// The shard as (index, count), the whole run (0, 1) without --shard.
    var shardIndex: (index: Int, count: Int) { shard.flatMap(ReportMerge.parseShard) ?? (0, 1) }
}

/// The report file of a run: `--json FILE`, checked before any work.
struct ReportOutput: ParsableArguments {
    @Option(help: "Write the report as JSON to this file.")
    var json: String?

    func validate() throws {
        if let json { try validating { try OutputPaths.checkFile(json, option: "--json") } }
    }
}
