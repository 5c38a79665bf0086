import Foundation
import Dispatch
import Testing
@testable import Linalg

/// `CPUs.available` against an independent reading of the affinity mask: the kernel's
/// `Cpus_allowed_list` in /proc/self/status (ranges such as `0-3,8,10-11`).
@Suite struct CPUsTests {
    /// Number of CPUs in a list such as "0-3,8,10-11".
    static func count(cpuList: String) -> Int {
        cpuList.split(separator: ",").reduce(0) { total, part in
            let bounds = part.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return total + (bounds.count == 2 ? bounds[1] - bounds[0] + 1 : 1)
        }
    }

    @Test func listParser() {
        #expect(Self.count(cpuList: "0") == 1)
        #expect(Self.count(cpuList: "0-3,8,10-11") == 7)
    }

    #if os(Linux)
    @Test func matchesTheKernelsAllowedList() throws {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") })
        let list = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
        #expect(CPUs.current() == Self.count(cpuList: list))
        #expect(CPUs.available == CPUs.current())
        #expect(CPUs.available >= 1)
    }

    /// A thread restricted to one CPU counts 1, whatever the machine has (ProcessInfo's
    /// activeProcessorCount would still say the machine's count); the other threads keep theirs.
    @Test func countsARestrictedMask() throws {
        final class Box: @unchecked Sendable { var pinned = -2; var counted = 0 }
        let box = Box()
        let before = CPUs.current()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.pinned = CPUs.pinCallingThreadToOneCPU()
            box.counted = CPUs.current()
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(box.pinned >= 0)
        #expect(box.counted == 1)
        #expect(CPUs.current() == before)
    }
    #endif
}
