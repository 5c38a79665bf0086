import Testing
import Foundation
import Linalg
@testable import Transformer
import TestSupport

/// Seeded fuzzing of safetensors headers (issue 13): malformed headers — duplicated names, NaN,
/// fractional, negative or huge shapes and offsets, wrong types, truncation, stray bytes, unknown
/// dtypes — are each refused with a `SafetensorsError` whose message names the file; none crashes.
@Suite struct SafetensorsFuzzTests {
    /// A file with this header text (padded as the writer pads) and `dataBytes` zero bytes of data.
    static func file(header: String, dataBytes: Int, at url: URL) throws {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(0x20) }
        var bytes = [UInt8]()
        var n = UInt64(h.count)
        for _ in 0..<8 { bytes.append(UInt8(n & 0xFF)); n >>= 8 }
        bytes += h + [UInt8](repeating: 0, count: dataBytes)
        try Data(bytes).write(to: url)
    }

    static let valid = #"{"__metadata__":{"format":"pt"},"a.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}}"#

    /// One malformed header from `valid`, chosen by `g`, and whether the mutation can leave it valid.
    static func mutate(_ g: inout SeededGenerator) -> (header: String, mayStayValid: Bool) {
        let v = valid
        let kind = g.int(0...11)
        return (mutation(kind, v, &g), kind == 11)
    }

    static func mutation(_ kind: Int, _ v: String, _ g: inout SeededGenerator) -> String {
        switch kind {
        case 0: return v.replacingOccurrences(of: #""b":"#, with: #""a.weight":"#)                   // duplicate name
        case 1: return v.replacingOccurrences(of: "[2,3]", with: "[2,NaN]")
        case 2: return v.replacingOccurrences(of: "[2,3]", with: "[2.5,3]")
        case 3: return v.replacingOccurrences(of: "[2,3]", with: "[-2,3]")
        case 4: return v.replacingOccurrences(of: "[2,3]", with: "[1e300,1e300]")
        case 5: return v.replacingOccurrences(of: "[0,24]", with: "[0,1e400]")
        case 6: return v.replacingOccurrences(of: "[0,24]", with: "[24,0]")
        case 7: return v.replacingOccurrences(of: #""F32""#, with: ["\"F64\"", "3", "null", "[]"][g.int(0...3)])
        case 8: return v.replacingOccurrences(of: #""pt""#, with: "7")                                  // metadata not a string
        case 9: return String(v.prefix(g.int(1...(v.count - 2))))                                       // truncated
        case 10: return v.replacingOccurrences(of: "[24,32]", with: "[24,\(32 + 8 * g.int(1...1000))]")  // past the data
        default:
            var c = Array(v)
            c.insert(["#", "'", "}", "{"][g.int(0...3)], at: g.int(1...(c.count - 2)))
            return String(c)
        }
    }

    @Test func malformedHeadersAreRefusedWithAMessage() throws {
        let dir = try makeTemporaryDirectory("stfuzz")
        defer { removeTemporaryDirectory(dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try Self.file(header: Self.valid, dataBytes: 32, at: url)
        let ok = try SafetensorsFile(url: url)
        #expect(ok.tensorNames == ["a.weight", "b"] && ok.metadata == ["format": "pt"])

        var g = SeededGenerator(seed: 2026)
        var refused = 0
        for _ in 0..<300 {
            let (header, mayStayValid) = Self.mutate(&g)
            try Self.file(header: header, dataBytes: 32, at: url)
            do {
                _ = try SafetensorsFile(url: url)
                #expect(mayStayValid, "accepted a malformed header: \(header)")
            } catch let e as SafetensorsError {
                refused += 1
                #expect(e.description.contains(url.path), "\(e)")
            }
        }
        // Only a stray character that lands inside a string (a tensor name) can keep a header valid.
        #expect(refused >= 250)
    }
}
