import CAffinity
import Foundation

/// How many CPUs this process may use: the one place that chooses default thread counts.
///
/// `available` is the size of the process's CPU affinity mask (`sched_getaffinity`), which is
/// what a Slurm task (task/affinity or a cpuset cgroup), `taskset`, `docker --cpuset-cpus` or a
/// Kubernetes static CPU policy restricts, and never the machine's core count when those say
/// fewer. `ProcessInfo.activeProcessorCount` reports the machine's online CPUs on Linux and
/// ignores the mask (a task given one CPU of 64 would start 64 workers on it). Where the mask
/// cannot be read (other systems, errors), it falls back to `activeProcessorCount`. At least 1.
public enum CPUs {
    /// CPUs in the affinity mask (≥ 1), read once per process.
    public static let available: Int = {
        let fromMask = Int(caffinity_cpu_count())
        return max(1, fromMask > 0 ? fromMask : ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// CPUs in the affinity mask now (re-read; for tests that change the mask).
    public static func current() -> Int {
        let fromMask = Int(caffinity_cpu_count())
        return max(1, fromMask > 0 ? fromMask : ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Pins the calling thread to one CPU of its mask; that CPU's number, or -1 (tests only).
    static func pinCallingThreadToOneCPU() -> Int { Int(caffinity_pin_calling_thread()) }
}
