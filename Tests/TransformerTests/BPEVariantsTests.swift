import Foundation
import Linalg
import Testing
@testable import Transformer

/// Byte-level BPE tokenizers beyond Qwen2's split (Qwen3.6's \p{M}, cl100k/Llama 3 digit runs,
/// o200k's pattern through the regex engine, GPT-2 style with other normalizers and
/// pre-tokenizers), and `Split` patterns one construct at a time, against Hugging Face
/// `tokenizers` (fixtures by scripts/make_bpe_fixtures.py from the public Qwen BPE ranks).
@Suite struct BPEVariantsTests {
    struct Split: Decodable { let pattern: String; let behavior: String; let offsets: [[Int]?]?; let error: String? }
    struct Golden: Decodable { let texts: [String]; let tokenizers: [String: [[Int32]]]; let splits: [Split] }

    static let dir = fixtureURL("bpe-variants")
    static let golden: Golden = try! JSONDecoder().decode(Golden.self, from: Data(contentsOf: dir.appendingPathComponent("golden.json")))

    @Test(arguments: ["qwen3", "qwen36", "cl100k", "llama3", "qwen36-engine", "o200k-pattern", "gpt2-style"])
    func idsMatchPythonTokenizers(variant: String) throws {
        let tok = try BPETokenizer(url: Self.dir.appendingPathComponent(variant + ".json"))
        let expected = try #require(Self.golden.tokenizers[variant])
        #expect(expected.count == Self.golden.texts.count && expected.count > 200)
        var mismatches = 0
        for (text, ids) in zip(Self.golden.texts, expected) {
            let got = tok.encode(text)
            if got != ids {
                mismatches += 1
                if mismatches <= 3 { Issue.record("\(variant): ids differ for \(text.debugDescription): swift \(got), python \(ids)") }
            }
        }
        #expect(mismatches == 0, "\(variant): \(mismatches) of \(expected.count) texts differ")
    }

    /// The specialised scanner is used exactly for the patterns it knows.
    @Test func fastPathIsTakenForKnownPatternsOnly() throws {
        for (variant, fast) in [("qwen3", true), ("qwen36", true), ("cl100k", true), ("llama3", true), ("qwen36-engine", false), ("o200k-pattern", false), ("gpt2-style", false)] {
            let tok = try BPETokenizer(url: Self.dir.appendingPathComponent(variant + ".json"))
            #expect((tok.preTokenizer.fast != nil) == fast, "\(variant)")
        }
    }

    @Test func splitPatternsMatchOniguruma() throws {
        var checked = 0
        for sp in Self.golden.splits {
            let behavior = ["isolated": "Isolated", "removed": "Removed", "merged_with_next": "MergedWithNext",
                            "merged_with_previous": "MergedWithPrevious", "contiguous": "Contiguous", "refused": "Isolated"][sp.behavior]!
            let json: [String: Any] = ["type": "Split", "pattern": ["Regex": sp.pattern], "behavior": behavior, "invert": false]
            if sp.behavior == "refused" {
                #expect(throws: TokenizerError.self, "\(sp.pattern) must be refused") { try PreTokenizer(json: json) { .invalid("t", $0) } }
                continue
            }
            let pre = try PreTokenizer(json: json) { .invalid("t", $0) }
            let offsets = try #require(sp.offsets)
            for (text, off) in zip(Self.golden.texts, offsets) {
                guard let off else { continue }
                let scalars = text.unicodeScalars.map(\.value)
                let want = stride(from: 0, to: off.count, by: 2).map { Array(scalars[off[$0]..<off[$0 + 1]]) }
                let got = pre.pieces(scalars)
                if got != want { Issue.record("pattern \(sp.pattern) [\(sp.behavior)] on \(text.debugDescription): \(got.count) pieces, expected \(want.count)") }
                checked += 1
            }
        }
        #expect(checked > 2000)
    }

    /// The scanner and the engine give the same pieces on random text, for every known pattern.
    @Test(arguments: [QwenSplitScanner.qwen2, QwenSplitScanner.qwen35, QwenSplitScanner.llama3, QwenSplitScanner.cl100k])
    func scannerAgreesWithTheEngine(pattern: String) throws {
        let scanner = try #require(QwenSplitScanner(pattern: pattern))
        let engine = try SplitRegex(pattern)
        let pool: [String] = ["a", "Z", "é", "ſ", "'", "'s", "'LL", "'ve", "1", "٣", "½", "Ⅻ", " ", "  ", "\t", "\n", "\r", "\r\n",
                              "\u{a0}", "\u{3000}", ".", "!", "$", "中", "😀", "\u{301}", "\u{94d}", "\u{915}", "\u{93f}", "\u{488}", "_", "-", "/"]
        var rng = SeededGenerator(seed: 20261208)
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<rng.int(1...24) { text += pool[rng.int(0...(pool.count - 1))] }
            let scalars = text.unicodeScalars.map(\.value)
            let fast = scanner.split(scalars)
            let slow = engine.matches(in: scalars)
            if fast != slow { Issue.record("\(text.debugDescription): scanner \(fast), engine \(slow)"); return }
        }
    }

    /// The heap merge loop equals the direct one, on long words where the heap is used.
    @Test func heapMergeEqualsDirectMerge() throws {
        let tok = try BPETokenizer(url: Self.dir.appendingPathComponent("qwen3.json"))
        var rng = SeededGenerator(seed: 7)
        let letters = Array("aaabcdeeinorst thequ".utf8)
        for _ in 0..<200 {
            let n = rng.int(2...400)
            let bytes = (0..<n).map { _ in letters[rng.int(0...(letters.count - 1))] }
            var direct = bytes.map { tok.byteIds[Int($0)] }, heap = direct
            tok.merges.mergeDirect(&direct)
            if heap.count > 1 { tok.merges.mergeHeap(&heap) }
            #expect(direct == heap)
        }
    }

    /// A 90 KB word without spaces: the merge loop is O(n log n), not quadratic.
    @Test func longWordIsFast() throws {
        let tok = try BPETokenizer(url: Self.dir.appendingPathComponent("qwen3.json"))
        var rng = SeededGenerator(seed: 3)
        let word = String((0..<90_000).map { _ in Character(Unicode.Scalar(UInt8(97 + rng.int(0...25)))) })
        let t0 = Date()
        let ids = tok.encode(word)
        let dt = Date().timeIntervalSince(t0)
        #expect(try tok.decode(ids) == word)
        #expect(dt < 3, "90 KB word took \(dt) s")
    }

    @Test func unsupportedComponentsAreNamed() throws {
        let data = try Data(contentsOf: Self.dir.appendingPathComponent("qwen3.json"))
        func attempt(_ edit: (inout [String: Any]) -> Void) -> String {
            var root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
            edit(&root)
            do { _ = try BPETokenizer(json: try JSONSerialization.data(withJSONObject: root)); return "accepted" } catch { return "\(error)" }
        }
        #expect(attempt { $0["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"] }.contains("Metaspace"))
        #expect(attempt { $0["normalizer"] = ["type": "Precompiled", "precompiled_charsmap": ""] }.contains("Precompiled"))
        #expect(attempt { $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "(?<=a)b"], "behavior": "Isolated"] }.contains("lookbehind"))
        #expect(attempt { $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\p{Greek}"], "behavior": "Isolated"] }.contains("Greek"))
        #expect(attempt { $0["pre_tokenizer"] = ["type": "Split", "pattern": ["Regex": "\\s"], "behavior": "Isolated"] }.contains("ByteLevel"))
        #expect(attempt { $0["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true] } == "accepted")
    }
}
