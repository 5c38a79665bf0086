import Foundation
import Testing
@testable import Reports

@Suite struct JSONTests {
    struct Sample: Codable, Equatable {
        var b: Double
        var a: [Double]
        var url: String
    }

    @Test func sortedPrettyAndNonFinite() throws {
        let s = Sample(b: .nan, a: [1.5, .infinity, -.infinity], url: "a/b")
        let text = String(decoding: try encodeJSON(s), as: UTF8.self)
        #expect(text.contains("\"nan\"") && text.contains("\"inf\"") && text.contains("\"-inf\""))
        #expect(text.contains("\"a/b\""))  // slashes not escaped
        let ia = try #require(text.range(of: "\"a\"")), ib = try #require(text.range(of: "\"b\""))
        #expect(ia.lowerBound < ib.lowerBound)
        #expect(text.hasSuffix("}\n") && text.contains("\n  "))
        let back = try makeJSONDecoder().decode(Sample.self, from: Data(text.utf8))
        #expect(back.b.isNaN && back.a[0] == 1.5 && back.a[1] == .infinity && back.a[2] == -.infinity)
    }

    @Test func deterministic() throws {
        let v: ReportJSON = ["z": 1, "a": [true, nil, 2.5, "s"], "m": ["y": 0.1, "x": .number(.nan)]]
        let d1 = try encodeJSON(v), d2 = try encodeJSON(v)
        #expect(d1 == d2)
        let text = String(decoding: d1, as: UTF8.self)
        let ia = try #require(text.range(of: "\"a\"")), im = try #require(text.range(of: "\"m\"")), iz = try #require(text.range(of: "\"z\""))
        #expect(ia.lowerBound < im.lowerBound && im.lowerBound < iz.lowerBound)
    }

    @Test func jsonValueRoundTrip() throws {
        let v: ReportJSON = ["n": 3, "x": 0.25, "s": "t", "b": false, "nil": nil, "arr": [1, [2]]]
        let back = try makeJSONDecoder().decode(ReportJSON.self, from: encodeJSON(v))
        #expect(back == v)
    }

    @Test func manifestHasNoTimestampUnlessAsked() throws {
        let m = Manifest(command: ["sftrl", "check", "--seed", "7", "--out", "my dir"], version: "0.1.0",
                         seed: UInt64.max, extra: ["claims": 12])
        let text = String(decoding: try encodeJSON(m), as: UTF8.self)
        #expect(text.contains("\"created_by\" : \"sftrl\"") || text.contains("\"created_by\": \"sftrl\""))
        #expect(text.contains("18446744073709551615"))  // full UInt64 seed, exact
        #expect(!text.contains("timing"))
        #expect(try encodeJSON(m) == encodeJSON(m))
        #expect(m.commandLine == "sftrl check --seed 7 --out 'my dir'")
        var timed = m
        timed.timing = .init(startedAt: "2026-01-01T00:00:00Z", wallSeconds: 1.5)
        let t2 = String(decoding: try encodeJSON(timed), as: UTF8.self)
        #expect(t2.contains("wall_seconds"))
        #expect(try makeJSONDecoder().decode(Manifest.self, from: Data(t2.utf8)) == timed)
    }
}
