import Foundation
import StrictJSON

/// A Hugging Face byte-level BPE tokenizer.json (Qwen2/Qwen3, Qwen3.5/3.6, Llama 3, cl100k-style,
/// GPT-2-style), read and applied without Python.
///
/// Encoding, as the `tokenizers` library does it for these files:
/// 1. **Added tokens first.** The raw text is cut at the leftmost-longest occurrences of the added
///    tokens' contents (`<|im_start|>`, `<think>`, …); each occurrence becomes its id directly
///    (with `lstrip`/`rstrip` absorbing neighbouring white space, `single_word` requiring
///    non-word neighbours). Every added token is matched on the raw text.
/// 2. **Normalise** each remaining segment (`TextNormalizer`: NFC in Qwen's files).
/// 3. **Pre-tokenise** (`PreTokenizer`: Split with any pattern through `SplitRegex`, or the
///    specialised `QwenSplitScanner` for the patterns it knows; Digits; ByteLevel), then map
///    each piece's UTF-8 bytes to GPT-2's byte alphabet (`ByteLevel`).
/// 4. **BPE** each piece (`BPEMerges`): start from its byte symbols and repeatedly merge the
///    adjacent pair of lowest merge rank (leftmost on ties) until no pair has a rank; the ids
///    are the piece's ids. With `ignore_merges`, a piece that is itself in the vocabulary is one
///    token.
///
/// Decoding concatenates each token's bytes (byte symbols mapped back; added tokens' contents as
/// UTF-8) and reads them as UTF-8, invalid sequences becoming U+FFFD. So decode(encode(s)) is
/// NFC(s). Ids are 0..<`size`; a model's vocab_size may be larger (Qwen3 pads 151,669 to
/// 151,936): ids from `size` on are never produced and are rejected by `decode`.
public final class BPETokenizer: @unchecked Sendable {
    /// An entry of tokenizer.json's "added_tokens".
    public struct AddedToken: Sendable, Equatable {
        public let id: Int32
        public let content: String
        public let special: Bool
        public let lstrip: Bool
        public let rstrip: Bool
        public let singleWord: Bool
    }

    public let vocab: [String: Int32]
    public let addedTokens: [AddedToken]
    /// One more than the largest id of the vocabulary and the added tokens.
    public let size: Int
    /// Whether the normaliser is exactly NFC (as in Qwen2/Qwen3).
    public var normalizesNFC: Bool { normalizer.isNFCOnly }
    let normalizer: TextNormalizer
    let preTokenizer: PreTokenizer
    public let ignoreMerges: Bool
    /// Token text by id ("" for a hole in the id range).
    private let idToToken: [String]
    private let idIsAdded: [Bool]
    private let idIsSpecial: [Bool]
    let merges: BPEMerges
    let byteIds: [Int32]
    /// Added tokens grouped by their first UTF-8 byte, longest first.
    private let addedByFirstByte: [UInt8: [(bytes: [UInt8], token: AddedToken)]]
    private var cache: [UInt64: CacheEntry] = [:]
    private let lock = NSLock()

    /// Reads `tokenizer.json` (a file, or a folder holding one).
    public convenience init(url: URL) throws {
        var file = url
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            file = url.appendingPathComponent("tokenizer.json")
        }
        guard FileManager.default.fileExists(atPath: file.path) else { throw TokenizerError.missingFile(file.path) }
        let data: Data
        do { data = try Data(contentsOf: file) } catch { throw TokenizerError.invalid(file.path, "cannot read: \(PlainError.unreadableFile(file.path))") }
        try self.init(json: data, path: file.path)
    }

    /// Parses the text of a tokenizer.json; `path` names it in errors.
    public init(json data: Data, path: String = "tokenizer.json") throws {
        func fail(_ why: String) -> TokenizerError { .invalid(path, why) }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            // Say where the JSON breaks (line and column), or that it is valid JSON of another kind.
            do { _ = try JSONParser.parse(data) } catch { throw fail("\(error)") }
            throw fail("not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw fail("no \"model\" object") }
        if let type = model["type"] as? String, type != "BPE" { throw fail("model.type is \"\(type)\"; only BPE is supported") }
        if let d = model["dropout"], !(d is NSNull) { throw fail("model.dropout is set; BPE dropout is not supported") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key] as? String, !v.isEmpty { throw fail("model.\(key) \"\(v)\" is not supported") }
        }
        if let b = model["byte_fallback"] as? Bool, b { throw fail("model.byte_fallback is true; only byte-level BPE is supported") }
        ignoreMerges = (model["ignore_merges"] as? Bool) ?? false
        guard let v = model["vocab"] as? [String: Any] else { throw fail("model.vocab is not an object") }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(v.count)
        var maxId: Int32 = -1
        for (tok, idAny) in v {
            guard let id = (idAny as? NSNumber)?.int32Value, id >= 0 else { throw fail("model.vocab[\"\(tok)\"] is not a non-negative id") }
            vocab[tok] = id
            maxId = max(maxId, id)
        }
        // Added tokens.
        var added: [AddedToken] = []
        for (k, a) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let id = (a["id"] as? NSNumber)?.int32Value, id >= 0, let content = a["content"] as? String, !content.isEmpty else {
                throw fail("added_tokens[\(k)] lacks an id or a content")
            }
            added.append(AddedToken(id: id, content: content, special: (a["special"] as? Bool) ?? false,
                                    lstrip: (a["lstrip"] as? Bool) ?? false, rstrip: (a["rstrip"] as? Bool) ?? false,
                                    singleWord: (a["single_word"] as? Bool) ?? false))
            maxId = max(maxId, id)
        }
        size = Int(maxId) + 1
        var idToToken = [String](repeating: "", count: size)
        var isAdded = [Bool](repeating: false, count: size), isSpecial = isAdded
        for (t, id) in vocab { idToToken[Int(id)] = t }
        for a in added { idToToken[Int(a.id)] = a.content; isAdded[Int(a.id)] = true; isSpecial[Int(a.id)] = a.special }
        // Merges: "a b" strings or ["a", "b"] pairs.
        guard let mergesAny = model["merges"] as? [Any] else { throw fail("model.merges is not a list") }
        var merges: [UInt64: (rank: Int32, id: Int32)] = [:]
        merges.reserveCapacity(mergesAny.count)
        for (rank, m) in mergesAny.enumerated() {
            let pair: (String, String)
            if let s = m as? String {
                let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw fail("merges[\(rank)] \"\(s)\" is not two symbols separated by a space") }
                pair = (String(parts[0]), String(parts[1]))
            } else if let p = m as? [String], p.count == 2 {
                pair = (p[0], p[1])
            } else {
                throw fail("merges[\(rank)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
            guard let l = vocab[pair.0], let r = vocab[pair.1], let merged = vocab[pair.0 + pair.1] else {
                throw fail("merges[\(rank)] (\"\(pair.0)\", \"\(pair.1)\") names a symbol or a result that is not in model.vocab")
            }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if merges[key] == nil { merges[key] = (Int32(rank), merged) }
        }
        // Byte symbols must all be tokens (there is no unknown token).
        var byteIds: [Int32] = []
        for b in 0..<256 {
            guard let id = vocab[String(ByteLevel.byteToScalar[b])] else {
                throw fail("model.vocab lacks the byte symbol of byte \(b) (\"\(ByteLevel.byteToScalar[b])\"); not a byte-level BPE")
            }
            byteIds.append(id)
        }
        // Normaliser and pre-tokeniser.
        normalizer = try TextNormalizer(json: root["normalizer"], fail: fail)
        preTokenizer = try PreTokenizer(json: root["pre_tokenizer"], fail: fail)
        if !preTokenizer.byteLevel && !normalizer.byteLevel {
            throw fail("neither pre_tokenizer nor normalizer has a ByteLevel step; only byte-level BPE is supported")
        }
        var byFirst: [UInt8: [(bytes: [UInt8], token: AddedToken)]] = [:]
        for a in added { let b = Array(a.content.utf8); byFirst[b[0], default: []].append((b, a)) }
        for k in byFirst.keys { byFirst[k]!.sort { $0.bytes.count > $1.bytes.count } }
        self.vocab = vocab
        self.addedTokens = added
        self.idToToken = idToToken
        self.idIsAdded = isAdded
        self.idIsSpecial = isSpecial
        self.merges = BPEMerges(table: merges)
        self.byteIds = byteIds
        self.addedByFirstByte = byFirst
    }

    // MARK: encoding

    /// The ids of `text`.
    public func encode(_ text: String) -> [Int32] {
        var out: [Int32] = []
        let bytes = Array(text.utf8)
        var segmentStart = 0, i = 0
        while i < bytes.count {
            if let candidates = addedByFirstByte[bytes[i]], let (tok, len) = matchAdded(bytes, i, candidates) {
                var a = i, b = i + len
                if tok.lstrip { while a > segmentStart && isASCIISpace(bytes[a - 1]) { a -= 1 } }
                if tok.rstrip { while b < bytes.count && isASCIISpace(bytes[b]) { b += 1 } }
                encodeSegment(bytes[segmentStart..<a], into: &out)
                out.append(tok.id)
                segmentStart = b; i = b
            } else {
                i += 1
            }
        }
        encodeSegment(bytes[segmentStart..<bytes.count], into: &out)
        return out
    }

    private func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    private func matchAdded(_ bytes: [UInt8], _ i: Int, _ candidates: [(bytes: [UInt8], token: AddedToken)]) -> (AddedToken, Int)? {
        for (b, tok) in candidates where i + b.count <= bytes.count {
            var ok = true
            for k in 0..<b.count where bytes[i + k] != b[k] { ok = false; break }
            if !ok { continue }
            if tok.singleWord {
                func wordByte(_ x: UInt8) -> Bool { x >= 0x80 || (x >= 0x30 && x <= 0x39) || ((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A) || x == 0x5F }
                if i > 0 && wordByte(bytes[i - 1]) { continue }
                if i + b.count < bytes.count && wordByte(bytes[i + b.count]) { continue }
            }
            return (tok, b.count)
        }
        return nil
    }

    private func encodeSegment(_ bytes: ArraySlice<UInt8>, into out: inout [Int32]) {
        if bytes.isEmpty { return }
        var text = String(decoding: bytes, as: UTF8.self)
        if normalizer.isNFCOnly { text = TextNormalizer.nfc(text) } else if !normalizer.isIdentity { text = normalizer.apply(text) }
        var utf8 = Array(text.utf8)
        if let fast = preTokenizer.fast {
            // Scalars and the UTF-8 offset of each, so that a piece is a slice of the bytes.
            var scalars: [UInt32] = [], offsets: [Int32] = []
            scalars.reserveCapacity(utf8.count); offsets.reserveCapacity(utf8.count + 1)
            var k = 0
            utf8.withUnsafeBufferPointer { u in
                while k < u.count {
                    offsets.append(Int32(k))
                    let b0 = UInt32(u[k])
                    if b0 < 0x80 { scalars.append(b0); k += 1 }
                    else if b0 < 0xE0 { scalars.append((b0 & 0x1F) << 6 | UInt32(u[k + 1] & 0x3F)); k += 2 }
                    else if b0 < 0xF0 { scalars.append((b0 & 0x0F) << 12 | UInt32(u[k + 1] & 0x3F) << 6 | UInt32(u[k + 2] & 0x3F)); k += 3 }
                    else { scalars.append((b0 & 0x07) << 18 | UInt32(u[k + 1] & 0x3F) << 12 | UInt32(u[k + 2] & 0x3F) << 6 | UInt32(u[k + 3] & 0x3F)); k += 4 }
                }
            }
            offsets.append(Int32(utf8.count))
            for r in fast.split(scalars) {
                bpe(utf8[Int(offsets[r.lowerBound])..<Int(offsets[r.upperBound])], into: &out)
            }
            return
        }
        for piece in preTokenizer.pieces(text.unicodeScalars.map(\.value)) {
            utf8.removeAll(keepingCapacity: true)
            for v in piece { UTF8.encode(Unicode.Scalar(v)!) { utf8.append($0) } }
            bpe(utf8[...], into: &out)
        }
    }

    /// The BPE ids of one pre-tokenised piece (its UTF-8 bytes).
    func bpe(_ piece: [UInt8]) -> [Int32] {
        var out: [Int32] = []
        bpe(piece[...], into: &out)
        return out
    }

    /// A cache entry: the piece's bytes (to confirm a hash hit) and its ids.
    struct CacheEntry { let bytes: [UInt8]; let ids: [Int32] }

    /// FNV-1a of a piece's bytes: the cache key (a hit is confirmed against the stored bytes).
    @inline(__always) static func hash(_ piece: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in piece { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    private func bpe(_ piece: ArraySlice<UInt8>, into out: inout [Int32]) {
        let key = Self.hash(piece)
        lock.lock()
        if let hit = cache[key], hit.bytes.elementsEqual(piece) { lock.unlock(); out.append(contentsOf: hit.ids); return }
        lock.unlock()
        var result: [Int32]
        if ignoreMerges, let id = vocab[ByteLevel.encode(bytes: piece)] {
            result = [id]
        } else {
            result = piece.map { byteIds[Int($0)] }
            merges.mergeAll(&result)
        }
        lock.lock()
        if cache.count > 200_000 { cache.removeAll(keepingCapacity: true) }
        cache[key] = CacheEntry(bytes: Array(piece), ids: result)
        lock.unlock()
        out.append(contentsOf: result)
    }

    // MARK: decoding

    /// The token text of an id as stored in the file (byte symbols for BPE tokens), nil outside 0..<size.
    public func token(_ id: Int32) -> String? {
        id >= 0 && Int(id) < size ? idToToken[Int(id)] : nil
    }

    /// The id of an added token's content or a vocabulary entry.
    public func id(of token: String) -> Int32? {
        addedTokens.first(where: { $0.content == token })?.id ?? vocab[token]
    }

    /// Whether `id` is an added token marked special.
    public func isSpecial(_ id: Int32) -> Bool { id >= 0 && Int(id) < size && idIsSpecial[Int(id)] }

    /// The text of `ids`; throws for an id outside 0..<size (e.g. a padded vocabulary id).
    /// `skipSpecialTokens` drops added tokens marked special.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) throws -> String {
        var bytes: [UInt8] = []
        for id in ids {
            guard id >= 0 && Int(id) < size else { throw TokenizerError.idOutOfRange(id, size) }
            let k = Int(id)
            if idIsAdded[k] {
                if skipSpecialTokens && idIsSpecial[k] { continue }
                bytes.append(contentsOf: idToToken[k].utf8)
            } else if let b = ByteLevel.decode(idToToken[k]) {
                bytes.append(contentsOf: b)
            } else {
                bytes.append(contentsOf: idToToken[k].utf8)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A tokenizer.json that cannot be used, or an id it cannot decode.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case invalid(String, String)
    case idOutOfRange(Int32, Int)

    public var description: String {
        switch self {
        case .missingFile(let p): return "tokenizer file not found: \(p) (a Qwen folder needs tokenizer.json)"
        case .invalid(let p, let why): return "\(p): \(why)"
        case .idOutOfRange(let id, let n): return "token id \(id) is not below the tokenizer's size \(n)"
        }
    }
}
