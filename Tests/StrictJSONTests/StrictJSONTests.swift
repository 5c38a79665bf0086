import Testing
import Foundation
@testable import StrictJSON

@Suite struct StrictJSONTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser.parse(Data(s.utf8)) }

    func error(_ s: String) -> StrictJSONError? {
        do { _ = try parse(s); return nil } catch let e as StrictJSONError { return e } catch { return nil }
    }

    @Test func readsWhatJSONDecoderReads() throws {
        let text = #"{"a": [1, -2.5e-3, 0, true, false, null], "b": {"c": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}, "d": 1E2}"#
        let v = try parse(text)
        #expect(v.keys == ["a", "b", "d"])
        guard case let .array(a)? = v["a"], case let .number(x) = a[1] else { Issue.record("a"); return }
        #expect(x == -2.5e-3)
        #expect(v["b"]?["c"] == .string("x\"\\/\u{8}\u{c}\n\r\té😀"))
        guard case let .number(d)? = v["d"] else { Issue.record("d"); return }
        #expect(d == 100)
        // The same document through Foundation's reader gives the same numbers and strings.
        let f = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect((f["b"] as! [String: Any])["c"] as! String == "x\"\\/\u{8}\u{c}\n\r\té😀")
    }

    @Test func emptyAndWhitespaceFilesSayEmpty() {
        #expect(error("") == .empty)
        #expect(error(" \n\t ") == .empty)
        #expect(StrictJSONError.empty.description.contains("empty"))
    }

    @Test func syntaxErrorsGiveLineAndColumn() {
        guard case let .syntax(at, problem)? = error("{\n  \"a\": 1,\n  \"b\" 2\n}") else { Issue.record("no syntax error"); return }
        #expect(at == JSONPosition(line: 3, column: 7))
        #expect(problem.contains("expected \":\""))
        guard case let .syntax(at2, _)? = error("{\"é\": [1, 2,, 3]}") else { Issue.record("no syntax error"); return }
        #expect(at2 == JSONPosition(line: 1, column: 13))   // columns count scalars, not bytes
        guard case let .syntax(_, p3)? = error("{\"a\": 1} x") else { Issue.record("trailing"); return }
        #expect(p3.contains("after the end of the document"))
        guard case .syntax? = error("{\"a\": 01}") else { Issue.record("leading zero accepted"); return }
        guard case .syntax? = error("{\"a\": \"\\uZZZZ\"}") else { Issue.record("bad escape accepted"); return }
        guard case .syntax? = error("{\"a\": \"\\u+123\"}") else { Issue.record("signed hex accepted"); return }
        guard case .syntax? = error("{\"a\": [1, 2}") else { Issue.record("unclosed array accepted"); return }
        guard case .syntax? = error("{\"a\": \"tab\there\"}") else { Issue.record("raw control character accepted"); return }
    }

    @Test func duplicateKeysAreRefusedWithTheirPath() {
        let e = error("{\"prompts\": [{\"data\": [1], \"data\": [0.5, 0.5]}]}")
        guard case let .duplicateKey(path, key, at)? = e else { Issue.record("duplicate accepted: \(String(describing: e))"); return }
        #expect(key == "data")
        #expect(path.description == "prompts[0]")
        #expect(at.column == 28)
        #expect(e!.description.contains("prompts[0].data is given twice"))
    }

    @Test(arguments: ["NaN", "Infinity", "-Infinity", "nan", "inf"])
    func nonFiniteTokensAreNamedWithTheirField(token: String) {
        let e = error("{\"beta\": 1, \"prompts\": [{\"reward\": [0, \(token)]}]}")
        guard case let .notANumber(path, t, _)? = e else { Issue.record("\(token): \(String(describing: e))"); return }
        #expect(t == token)
        #expect(path.description == "prompts[0].reward[1]")
    }

    @Test func overflowIsNamedUnderflowIsZero() throws {
        let e = error("{\"beta\": 1e400}")
        guard case let .overflow(path, text, _)? = e else { Issue.record("overflow accepted"); return }
        #expect(path.description == "beta" && text == "1e400")
        #expect(e!.description.contains("overflows a double"))
        guard case let .number(v)? = try parse("{\"beta\": 1e-400}")["beta"] else { Issue.record("underflow"); return }
        #expect(v == 0)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        guard case .tooDeep? = error(deep) else { Issue.record("deep nesting accepted"); return }
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(error(ok) == nil)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: StrictJSONError.invalidUTF8) { try JSONParser.parse(Data([0x7B, 0xFF, 0x7D])) }
    }

    @Test func unknownKeysSuggestTheNearestKnownKey() throws {
        let schema = KeySchema.object(["beta": .any, "prompts": .array(.object(["weight": .any, "data": .any, "reference": .any, "start": .any]))])
        let v = try parse("{\"beta\": 1, \"prompts\": [{\"data\": [1]}, {\"data\": [1], \"refrence\": [1]}]}")
        do { try schema.check(v); Issue.record("misspelt key accepted") } catch let e as StrictJSONError {
            guard case let .unknownKey(path, key, suggestion, _) = e else { Issue.record("\(e)"); return }
            #expect(path.description == "prompts[1]" && key == "refrence" && suggestion == "reference")
            #expect(e.description == "unknown key \"refrence\" in prompts[1]; did you mean \"reference\"?")
        }
        let far = try parse("{\"colour\": 1}")
        do { try schema.check(far); Issue.record("unknown key accepted") } catch let e as StrictJSONError {
            #expect(e.description.contains("known keys: beta, prompts"))
        }
        try schema.check(try parse("{\"beta\": 1, \"prompts\": [{\"start\": [1], \"weight\": 2}]}"))
    }

    @Test func editDistanceIsLevenshtein() {
        #expect(editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(editDistance(Array(""), Array("abc")) == 3)
        #expect(editDistance(Array("abc"), Array("")) == 3)
        #expect(nearest("Start", in: ["start", "data"]) == "start")
        #expect(nearest("zzzzzz", in: ["start", "data"]) == nil)
    }
}

@Suite struct JSONFieldTests {
    @Test func typedReadsNameTheField() throws {
        let root = JSONField(try JSONParser.parse(Data(#"{"a": {"b": [1, "x"]}, "c": null, "d": "s"}"#.utf8)))
        #expect(try root.key("a").key("b").array().count == 2)
        #expect(try root.optionalKey("c") == nil)
        #expect(try root.optionalKey("zz") == nil)
        #expect(try root.key("d").string() == "s")
        func message(_ body: () throws -> Void) -> String { do { try body(); return "" } catch { return "\(error)" } }
        #expect(message { _ = try root.key("a").key("b").doubles() } == "a.b[1] should be a number, found a string")
        #expect(message { _ = try root.key("a").key("q") } == "missing key \"q\" in a")
        #expect(message { _ = try root.key("d").double() } == "d should be a number, found a string")
        #expect(message { _ = try root.key("c").doubles() } == "c should be an array of numbers, found null")
        #expect(message { _ = try root.key("d").key("e") } == "d should be an object, found a string")
    }
}
