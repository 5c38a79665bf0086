import Foundation
import Linalg
import Testing
@testable import Policies

@Suite struct InstanceFileIOTests {
    /// Random files with awkward numbers (integers, −0, 5e-324, 1e+22, long mantissas), optional fields
    /// present and absent, tabular and log-linear.
    static func files() -> [InstanceFile] {
        var g = SeededGenerator(seed: 77)
        let awkward: [Double] = [1, -0.0, 0, .leastNonzeroMagnitude, 1e22, 1e-7, 0.30000000000000004, 1.2345678901234568e+20, 2.5, 100]
        func vec(_ n: Int) -> [Double] { (0..<n).map { k in k < awkward.count && g.int(0...2) == 0 ? awkward[k] : g.normal() * pow(10, Double(g.int(-8...8))) } }
        var out: [InstanceFile] = []
        for k in 0..<6 {
            let prompts = (0..<(1 + k)).map { x in
                InstanceFile.Prompt(weight: x == 0 ? 1 : g.uniform(), data: vec(3 + x), reward: vec(3 + x),
                                    reference: g.int(0...1) == 0 ? nil : vec(3 + x), start: g.int(0...1) == 0 ? nil : vec(3 + x))
            }
            let policy: InstanceFile.PolicySpec = k % 2 == 0 ? .init(kind: "tabular")
                : .init(kind: "loglinear", features: prompts.map { p in p.data.map { _ in vec(2) } }, theta: k == 3 ? nil : vec(2))
            out.append(InstanceFile(beta: k == 0 ? 0 : g.uniform(), policy: policy, prompts: prompts))
        }
        return out
    }

    @Test func readerAgreesWithJSONDecoder() throws {
        for file in InstanceFileIOTests.files() {
            for format in [JSONEncoder.OutputFormatting(), [.prettyPrinted], [.sortedKeys, .prettyPrinted]] {
                let enc = JSONEncoder()
                enc.outputFormatting = format
                let bytes = try enc.encode(file)
                let slow = try JSONDecoder().decode(InstanceFile.self, from: bytes)
                let fast = try? InstanceFile.decode(bytes, path: "t.json")
                #expect(fast == slow)
                // Bit-for-bit numbers (−0 included), not just ==.
                if let fast {
                    for (a, b) in zip(fast.prompts, slow.prompts) {
                        #expect(a.data.map(\.bitPattern) == b.data.map(\.bitPattern))
                        #expect(a.reward.map(\.bitPattern) == b.reward.map(\.bitPattern))
                    }
                }
            }
        }
    }

    @Test func writerReproducesCanonicalJSON() {
        for file in InstanceFileIOTests.files() {
            #expect(file.canonicalJSONFast() == file.canonicalJSON())
        }
    }

    @Test("the strict reader refuses what JSON or the schema does not allow", arguments: [
        #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}], "extra": 1}"#,
        #"{"beta": 0.5, "policy": {"kind": "tabular", "base": [1]}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]}"#,
        #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1,], "reward": [0]}]}"#,
        #"{"beta": 1., "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]}"#,
        #"{"beta": 0.5, "beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]}"#,
        #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [01], "reward": [0]}]}"#,
        #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]} x"#,
        #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [NaN], "reward": [0]}]}"#,
        #"{"policy": {"kind": "tabular"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]}"#,
    ])
    func refuses(text: String) {
        #expect(throws: InstanceError.self) { _ = try InstanceFile.decode(Data(text.utf8), path: "t.json") }
    }

    @Test func escapesAndNullOptionalsReadAsJSONDecoderReadsThem() throws {
        for text in [#"{"beta": 0.5, "policy": {"kind": "tabular", "theta": null}, "prompts": [{"weight": 1, "data": [0.5, 0.5], "reward": [0, 1e-3], "reference": null}]}"#,
                     #"{"beta": 0.5, "policy": {"kind": "tab\u0075lar"}, "prompts": [{"weight": 1, "data": [1], "reward": [0]}]}"#] {
            let strict = try InstanceFile.decode(Data(text.utf8), path: "t.json")
            #expect(strict == (try JSONDecoder().decode(InstanceFile.self, from: Data(text.utf8))))
            #expect(strict.policy.kind == "tabular")
        }
    }
}
