import Foundation
import Testing
@testable import Reports

/// A tiny SplitMix64 for the generated trees (Reports depends on nothing, so the toolkit's
/// generator is not importable here; these trees are test inputs, never results).
private struct Mix {
    var s: UInt64
    mutating func next() -> UInt64 {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Doubles that exercise every formatting branch: whole values, exponents, subnormals, signed
/// zero, the largest finite value, NaN and ±∞, and random bit patterns.
private func double(_ g: inout Mix) -> Double {
    let special: [Double] = [0, -0.0, 1, 2, 100, 1e15, 1e16, 1e17, 1e21, 1e-5, 1e-7, 0.1, 5e-324,
                             .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan, .infinity, -.infinity,
                             123456789012345678, 0.000123]
    switch g.below(3) {
    case 0: return special[g.below(special.count)]
    case 1: return Double(bitPattern: g.next())
    default: return (Double(g.below(2_000_001)) - 1e6) / Double([1, 10, 1000, 7][g.below(4)])
    }
}

private func string(_ g: inout Mix) -> String {
    let alphabet: [String] = ["a", "B", "_", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{08}", "\u{0C}", "\u{01}",
                              "\u{1F}", "\u{7F}", "é", "😀", "\u{2028}", "0", "key"]
    return (0..<g.below(6)).map { _ in alphabet[g.below(alphabet.count)] }.joined()
}

private func tree(_ g: inout Mix, depth: Int) -> ReportJSON {
    switch g.below(depth > 3 ? 5 : 7) {
    case 0: return .null
    case 1: return .bool(g.below(2) == 0)
    case 2: return .integer(Int(bitPattern: UInt(g.next())) >> g.below(64))
    case 3: return .number(double(&g))
    case 4: return .string(string(&g))
    case 5: return .array((0..<g.below(5)).map { _ in tree(&g, depth: depth + 1) })
    default:
        var o: [String: ReportJSON] = [:]
        for _ in 0..<g.below(5) { o[string(&g)] = tree(&g, depth: depth + 1) }
        return .object(o)
    }
}

@Suite("direct JSON writer")
struct JSONWriterTests {
    @Test("ReportJSON trees: the same bytes as JSONEncoder", arguments: 0..<4)
    func trees(batch: UInt64) throws {
        var g = Mix(s: batch)
        for _ in 0..<200 {
            let v = tree(&g, depth: 0)
            var expected = try makeJSONEncoder().encode(v)
            expected.append(0x0A)
            #expect(Data(v.prettyJSON()) == expected, "\(v)")
        }
    }

    @Test("manifests: the same bytes as JSONEncoder, with and without seed and timing")
    func manifests() throws {
        var g = Mix(s: 99)
        for i in 0..<100 {
            var extra: [String: ReportJSON] = [:]
            for _ in 0..<g.below(4) { extra[string(&g)] = tree(&g, depth: 1) }
            extra["final_theta"] = .array((0..<g.below(50)).map { _ in .number(double(&g)) })
            let timing: Manifest.Timing? = [nil, Manifest.Timing(), Manifest.Timing(startedAt: "2026-12-06T00:00:00Z"),
                                            Manifest.Timing(startedAt: "x", wallSeconds: double(&g))][i % 4]
            let m = Manifest(command: (0..<g.below(4)).map { _ in string(&g) }, version: "0.1.0",
                             seed: i % 3 == 0 ? nil : g.next(), createdBy: string(&g), extra: extra, timing: timing)
            var expected = try makeJSONEncoder().encode(m)
            expected.append(0x0A)
            #expect(try encodeJSON(m) == expected)
        }
    }
}
