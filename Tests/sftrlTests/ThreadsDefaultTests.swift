import Testing
import Linalg
@testable import sftrl

/// `check` and `search` default `--threads` to the CPUs in the affinity mask (`CPUs.available`),
/// not the machine's count; an explicit value wins. (The Slurm smoke test checks the same from
/// inside a one-CPU task: scripts/slurm/smoke.sh.)
@Suite struct ThreadsDefaultTests {
    @Test func checkAndSearchDefaultToTheAffinityMask() throws {
        #expect(try CheckCommand.parse([]).threads == CPUs.available)
        #expect(try SearchCommand.parse(["--claim", "eq5"]).threads == CPUs.available)
        #expect(try CheckCommand.parse(["--threads", "3"]).threads == 3)
    }
}
