import Testing
import Foundation
import Linalg
@testable import Policies

/// Seeded fuzzing of instance files (issue 13): hundreds of malformed variants of valid files, each
/// of which must be refused with an `InstanceError` that names a field or a position — never
/// accepted, never a crash. Mutations that keep a file well-formed are not generated here.
@Suite struct InstanceFuzzTests {
    static let seeds: [String] = [
        #"{"beta": 0.5, "policy": {"kind": "tabular"}, "prompts": [{"weight": 1.0, "data": [0.7, 0.2, 0.1], "reward": [1.0, 0.0, -1.0], "reference": [0.4, 0.3, 0.3], "start": [0.7, 0.2, 0.1]}]}"#,
        #"{"beta": 0, "policy": {"kind": "tabular"}, "prompts": [{"weight": 2, "data": [0.5, 0.5], "reward": [1, 0]}, {"weight": 6, "data": [0.25, 0.75], "reward": [0, 1]}]}"#,
        #"{"beta": 1, "policy": {"kind": "loglinear", "features": [[[1, 0], [0, 1], [1, 1]]], "theta": [0.1, -0.2]}, "prompts": [{"weight": 1, "data": [0.2, 0.3, 0.5], "reward": [0, 1, 0.5]}]}"#,
    ]

    /// One malformed variant of `text`, chosen by `g`, with the words its error must contain.
    static func mutate(_ text: String, _ g: inout SeededGenerator) -> (String, [String]) {
        let keys = ["beta", "policy", "kind", "prompts", "weight", "data", "reward", "reference", "start", "features", "theta"]
        let present = keys.filter { text.contains("\"\($0)\"") }
        let key = present[g.int(0...(present.count - 1))]
        switch g.int(0...7) {
        case 0: // a misspelt key: one letter doubled
            let k = Array(key)
            let at = g.int(0...(k.count - 1))
            let bad = String(k[...at]) + String(k[at...])
            return (text.replacingOccurrences(of: "\"\(key)\"", with: "\"\(bad)\""), ["unknown key \"\(bad)\"", "did you mean \"\(key)\""])
        case 1: // a key nobody knows
            return (text.replacingOccurrences(of: "{\"beta\"", with: "{\"zz_extra\": 1, \"beta\""), ["unknown key \"zz_extra\""])
        case 2: // a non-finite or overflowing number in place of the first number after a key
            let token = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"][g.int(0...4)]
            return (replaceFirstNumber(in: text, after: key, with: token), [token.contains("e") ? "overflows" : "NaN or infinity"])
        case 3: // truncated
            let n = g.int(1...(text.count - 1))
            return (String(text.prefix(n)), ["instance"])
        case 4: // a duplicated key
            return (text.replacingOccurrences(of: "{\"beta\": ", with: "{\"beta\": 2, \"beta\": "), ["duplicate key \"beta\""])
        case 5: // a stray character at a random place outside strings
            var chars = Array(text)
            let at = g.int(1...(chars.count - 2))
            guard !insideString(chars, at) else { return (text + "}", ["after the end of the document"]) }
            chars.insert(["#", "'", ";", "}"][g.int(0...3)], at: at)
            return (String(chars), ["instance"])
        case 6: // a value of the wrong type
            return (replaceFirstNumber(in: text, after: key, with: "\"x\""), ["instance"])
        default: // an empty prompt list or an empty file
            return g.int(0...1) == 0 ? ("", ["empty"]) : ("{\"beta\": 1, \"policy\": {\"kind\": \"tabular\"}, \"prompts\": []}", ["prompt"])
        }
    }

    static func insideString(_ chars: [Character], _ at: Int) -> Bool {
        chars[..<at].filter { $0 == "\"" }.count % 2 == 1
    }

    /// `text` with the first number after `"key":` replaced by `token` (the text itself when none).
    static func replaceFirstNumber(in text: String, after key: String, with token: String) -> String {
        guard let r = text.range(of: "\"\(key)\":") else { return text }
        let tail = text[r.upperBound...]
        guard let start = tail.firstIndex(where: { "-0123456789".contains($0) }) else {
            return text.replacingOccurrences(of: "\"\(key)\":", with: "\"\(key)\": \(token), \"zz\":")
        }
        var end = start
        while end < tail.endIndex, "-+.eE0123456789".contains(tail[end]) { end = tail.index(after: end) }
        return String(text[..<start]) + token + String(text[end...])
    }

    @Test func malformedInstancesAreRefusedWithAMessage() {
        var g = SeededGenerator(seed: 13)
        var refused = 0
        for n in 0..<600 {
            let base = Self.seeds[n % Self.seeds.count]
            let (text, words) = Self.mutate(base, &g)
            guard text != base else { continue }
            do {
                let file = try InstanceFile.decode(Data(text.utf8), path: "fuzz.json")
                _ = try Instance(file: file)
                // Accepted: only a mutation that kept the file valid may get here (a wrong type in
                // place of an optional number cannot; an unchanged text was skipped above).
                Issue.record("accepted malformed instance #\(n): \(text)")
            } catch let e as InstanceError {
                refused += 1
                let m = e.description
                // A reading error names the file (a validation error names the field; the command
                // adds the file); the designed faults also name what is wrong.
                if case .invalid = e { #expect(m.contains(":"), "#\(n): \(m)") } else { #expect(m.contains("fuzz.json"), "#\(n): \(m)") }
                #expect(words == ["instance"] || words.contains { m.contains($0) }, "#\(n): \(m) should say one of \(words)")
            } catch {
                Issue.record("#\(n): \(text) threw a non-instance error \(error)")
            }
        }
        #expect(refused >= 500)
    }
}
