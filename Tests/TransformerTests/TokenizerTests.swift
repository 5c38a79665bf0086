import Foundation
import Testing
@testable import Transformer

/// The tokenizer.json reader against Python `tokenizers` (fixture by scripts/make_text_fixture.py)
/// and against hand-derived splits of Qwen2's pattern.
@Suite struct TokenizerTests {
    struct Case: Decodable { let text: String; let ids: [Int32]; let decoded: String }
    struct Golden: Decodable { let size: Int; let cases: [Case] }

    static let dir = fixtureURL("qwen3-text")

    static func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: dir.appendingPathComponent("tokenizer-golden.json")))
    }

    /// Hand-derived from the pattern's alternatives (see Qwen2PreTokenizer), not from Python.
    @Test(arguments: [
        ("Hello world", ["Hello", " world"]),
        ("I'm here", ["I", "'m", " here"]),
        ("THEY'RE 'LL", ["THEY", "'RE", " '", "LL"]),
        ("2024 ab", ["2", "0", "2", "4", " ab"]),
        ("a  b", ["a", " ", " b"]),
        ("a   ", ["a", "   "]),
        ("   end", ["  ", " end"]),
        ("line\r\n\r\nx", ["line", "\r\n\r\n", "x"]),
        ("hi!!\n\nthere", ["hi", "!!\n\n", "there"]),
        ("a \n b", ["a", " \n", " b"]),
        ("x\t\ty", ["x", "\t", "\ty"]),
        (" 7", [" ", "7"]),
        ("$5.00", ["$", "5", ".", "0", "0"]),
        ("中文，好。", ["中文", "，好", "。"]),
        ("'", ["'"]),
        ("q\u{301}x", ["q", "\u{301}x"]),
    ] as [(String, [String])])
    func splitMatchesThePattern(text: String, pieces: [String]) {
        #expect(Qwen2PreTokenizer.split(text) == pieces)
    }

    @Test func byteAlphabetIsABijection() {
        #expect(Set(ByteLevel.byteToScalar).count == 256)
        #expect(ByteLevel.byteToScalar[0x20] == "Ġ" && ByteLevel.byteToScalar[0x0A] == "Ċ")
        #expect(ByteLevel.byteToScalar[0x41] == "A")
        let all = (0..<256).map { UInt8($0) }
        #expect(ByteLevel.decode(ByteLevel.encode(bytes: all)) == all)
    }

    @Test func idsMatchPythonTokenizers() throws {
        let tok = try BPETokenizer(url: Self.dir)
        let g = try Self.golden()
        #expect(tok.size == g.size)
        #expect(g.cases.count > 60)
        var mismatches = 0
        for c in g.cases {
            let ids = tok.encode(c.text)
            if ids != c.ids {
                mismatches += 1
                Issue.record("ids differ for \(c.text.debugDescription): swift \(ids), python \(c.ids)")
            }
            #expect(try tok.decode(c.ids) == c.decoded)
            // The pieces concatenate back to the text, and decoding round-trips (to NFC).
            #expect(Qwen2PreTokenizer.split(c.text).joined() == c.text)
            #expect(try tok.decode(ids) == c.text.precomposedStringWithCanonicalMapping)
        }
        #expect(mismatches == 0)
    }

    /// The same tokenizer with merges written the other way ("a b" ↔ ["a", "b"]) encodes alike.
    @Test func bothMergeSerialisations() throws {
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("tokenizer.json"))
        var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var model = try #require(root["model"] as? [String: Any])
        let merges = try #require(model["merges"] as? [Any])
        let flipped: [Any] = merges.map { m in
            if let s = m as? String { return s.split(separator: " ", maxSplits: 1).map(String.init) }
            return (m as! [String]).joined(separator: " ")
        }
        model["merges"] = flipped
        root["model"] = model
        let other = try BPETokenizer(json: JSONSerialization.data(withJSONObject: root))
        let tok = try BPETokenizer(url: Self.dir)
        for c in try Self.golden().cases { #expect(other.encode(c.text) == tok.encode(c.text)) }
    }

    @Test func addedTokensAndPaddedIds() throws {
        let tok = try BPETokenizer(url: Self.dir)
        let start = try #require(tok.id(of: "<|im_start|>")), think = try #require(tok.id(of: "<think>"))
        #expect(Int(start) >= tok.size - 7 && tok.isSpecial(start) && !tok.isSpecial(think))
        let ids = tok.encode("x<|im_start|><think>y")
        #expect(ids.contains(start) && ids.contains(think))
        #expect(try tok.decode(ids, skipSpecialTokens: true) == "x<think>y")
        #expect(throws: TokenizerError.idOutOfRange(Int32(tok.size), tok.size)) { try tok.decode([Int32(tok.size)]) }
        // A sampler limited to the tokenizer never draws a padded id, even when it has the largest logit.
        var logits = [Float](repeating: 0, count: tok.size + 8)
        logits[tok.size + 3] = 100
        logits[5] = 1
        #expect(greedyToken(logits: logits.withUnsafeBufferPointer { $0 }, vocabLimit: tok.size) == 5)
        #expect(nucleusDistribution(logits: logits, temperature: 1, topP: 1, vocabLimit: tok.size).allSatisfy { Int($0.token) < tok.size })
    }

    @Test func unsupportedFilesAreRejectedWithTheReason() throws {
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("tokenizer.json"))
        var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        root["pre_tokenizer"] = ["type": "WhitespaceSplit"]
        do {
            _ = try BPETokenizer(json: JSONSerialization.data(withJSONObject: root))
            Issue.record("a WhitespaceSplit pre-tokenizer was accepted")
        } catch let e as TokenizerError {
            #expect(e.description.contains("WhitespaceSplit"))
        }
        #expect(throws: TokenizerError.self) { try BPETokenizer(json: Data("[1]".utf8)) }
    }
}
