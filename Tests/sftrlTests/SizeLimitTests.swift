import Foundation
import Testing
@testable import sftrl

/// Requests too large for the machine are refused with their size and the limit, before any
/// allocation (issue 13), instead of ending in the allocator.
@Suite("size limits")
struct SizeLimitTests {
    @Test func spectrumOfAHugeInstanceIsRefusedUpFront() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sftrl-size-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // 200,000 tabular logits: the dense matrices would need about 2.4 TiB.
        let n = 200_000
        let data = Array(repeating: "\(1.0 / Double(n))", count: n).joined(separator: ",")
        let reward = (0..<n).map { "\($0 % 3)" }.joined(separator: ",")
        let json = #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [\#(data)], "reward": [\#(reward)]}]}"#
        let path = dir.appendingPathComponent("huge.json")
        try json.write(to: path, atomically: true, encoding: .utf8)
        do {
            _ = try SpectrumCommand.parse(["--instance", path.path]).compute()
            Issue.record("a 200,000-parameter spectrum was attempted")
        } catch let f as FlowCommand.Failure {
            #expect(f.code == 2)
            #expect(f.description.contains("200000 parameters") && f.description.contains("GiB"), "\(f.description)")
        }
    }
}
