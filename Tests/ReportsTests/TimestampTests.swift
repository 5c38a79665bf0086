import Foundation
import Linalg
import Testing
@testable import Reports

/// `Manifest.Timing.iso8601` (gmtime_r) against Foundation's ISO8601DateFormatter, which it replaced.
@Suite struct TimestampTests {
    @Test func matchesISO8601DateFormatter() {
        let reference = ISO8601DateFormatter()
        var rng = SeededGenerator(seed: 8601)
        // Edges (the epoch, a leap day, the last second of a year, fractional seconds, year 9999)
        // and 2,000 random instants between 1970 and 2200.
        var dates: [Double] = [0, 0.999, 951_782_400, 1_709_164_799.5, 4_102_444_799, 253_402_300_799]
        for _ in 0..<2000 { dates.append((rng.uniform() * 7.26e9).rounded(.down) + rng.uniform()) }
        for t in dates {
            let d = Date(timeIntervalSince1970: t)
            #expect(Manifest.Timing.iso8601(d) == reference.string(from: d), "t = \(t)")
        }
        #expect(Manifest.Timing(started: Date(timeIntervalSince1970: 86_400 * 365 + 3_661), wallSeconds: 2).startedAt == "1971-01-01T01:01:01Z")
    }
}
