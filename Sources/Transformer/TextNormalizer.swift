import Foundation

/// tokenizer.json's `normalizer`, applied to each text segment between added tokens before
/// pre-tokenisation.
///
/// Supported, as Hugging Face `tokenizers` defines them: `NFC`, `NFD`, `NFKC`, `NFKD` (Unicode
/// normalisation forms), `Lowercase` (each scalar's full lower-case mapping, no context),
/// `Strip {strip_left, strip_right}` (White_Space at the ends), `Replace {pattern: {String|Regex},
/// content}` (every non-empty match replaced), `Prepend {prepend}` (before non-empty text),
/// `ByteLevel` (the byte-symbol mapping, done by BPE here) and `Sequence` of these. Any other
/// normaliser (Precompiled, BertNormalizer, StripAccents, Nmt, …) is refused, naming it.
struct TextNormalizer: Sendable {
    enum Step: Sendable {
        case nfc, nfd, nfkc, nfkd, lowercase
        case strip(left: Bool, right: Bool)
        case replace(SplitRegex, [UInt32])
        case prepend(String)
    }

    var steps: [Step] = []
    /// A ByteLevel normaliser is present.
    var byteLevel = false

    init(json: Any?, fail: (String) -> TokenizerError) throws {
        guard let json, !(json is NSNull) else { return }
        try add(json, fail: fail)
    }

    private mutating func add(_ json: Any, fail: (String) -> TokenizerError) throws {
        guard let obj = json as? [String: Any], let type = obj["type"] as? String else { throw fail("normalizer is not an object with a type") }
        switch type {
        case "NFC": steps.append(.nfc)
        case "NFD": steps.append(.nfd)
        case "NFKC": steps.append(.nfkc)
        case "NFKD": steps.append(.nfkd)
        case "Lowercase": steps.append(.lowercase)
        case "ByteLevel": byteLevel = true
        case "Strip":
            steps.append(.strip(left: obj["strip_left"] as? Bool ?? true, right: obj["strip_right"] as? Bool ?? true))
        case "Prepend":
            guard let p = obj["prepend"] as? String else { throw fail("normalizer Prepend lacks a \"prepend\" string") }
            steps.append(.prepend(p))
        case "Replace":
            let pat = obj["pattern"] as? [String: Any]
            guard let content = obj["content"] as? String else { throw fail("normalizer Replace lacks a \"content\" string") }
            let source: String
            if let r = pat?["Regex"] as? String { source = r } else if let lit = pat?["String"] as? String {
                source = lit.unicodeScalars.map { "\\x{\(String($0.value, radix: 16))}" }.joined()
            } else { throw fail("normalizer Replace pattern is neither {\"Regex\": …} nor {\"String\": …}") }
            do { steps.append(.replace(try SplitRegex(source), content.unicodeScalars.map(\.value))) } catch {
                throw fail("normalizer Replace pattern \(jsonQuoted(source)): \(error)")
            }
        case "Sequence":
            guard let list = obj["normalizers"] as? [Any] else { throw fail("normalizer Sequence lacks a \"normalizers\" list") }
            for item in list { try add(item, fail: fail) }
        default:
            throw fail("normalizer type \"\(type)\" is not supported (supported: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend, ByteLevel, Sequence)")
        }
    }

    var isIdentity: Bool { steps.isEmpty }

    /// Whether the steps are exactly NFC.
    var isNFCOnly: Bool { if steps.count == 1, case .nfc = steps[0] { return true }; return false }

    /// NFC, skipping the work for text without a scalar ≥ U+0300 (no such text can change under
    /// NFC: every scalar below U+0300 is NFC_Quick_Check=Yes and none composes with a
    /// preceding one).
    static func nfc(_ s: String) -> String {
        for u in s.utf8 where u >= 0xCC { return s.precomposedStringWithCanonicalMapping }
        return s
    }

    /// Composes conjoining Hangul jamo (L V → LV, LV T → LVT, Unicode §3.12), the canonical
    /// composition step that Foundation's NFKC on Linux leaves out when compatibility jamo
    /// (ㄱ U+3131, ㅏ U+314F) decompose to conjoining ones: HF's NFKC of "ㄱㅏ" is "가". On text
    /// already in NFC/NFKC it changes nothing.
    static func composeHangul(_ s: String) -> String {
        var out: [Unicode.Scalar] = []
        var changed = false
        for u in s.unicodeScalars {
            let v = u.value
            if let last = out.last?.value {
                if last >= 0x1100 && last <= 0x1112 && v >= 0x1161 && v <= 0x1175 {
                    out[out.count - 1] = Unicode.Scalar(0xAC00 + ((last - 0x1100) * 21 + (v - 0x1161)) * 28)!
                    changed = true; continue
                }
                if last >= 0xAC00 && last <= 0xD7A3 && (last - 0xAC00) % 28 == 0 && v >= 0x11A8 && v <= 0x11C2 {
                    out[out.count - 1] = Unicode.Scalar(last + (v - 0x11A7))!
                    changed = true; continue
                }
            }
            out.append(u)
        }
        guard changed else { return s }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: out)
        return String(view)
    }

    func apply(_ text: String) -> String {
        var s = text
        for step in steps {
            switch step {
            case .nfc: s = Self.nfc(s)
            case .nfd: s = s.decomposedStringWithCanonicalMapping
            case .nfkc: s = Self.composeHangul(s.precomposedStringWithCompatibilityMapping)
            case .nfkd: s = s.decomposedStringWithCompatibilityMapping
            case .lowercase:
                var v = String.UnicodeScalarView()
                for u in s.unicodeScalars { v.append(contentsOf: u.properties.lowercaseMapping.unicodeScalars) }
                s = String(v)
            case .strip(let left, let right):
                var u = Array(s.unicodeScalars)
                if right { while let l = u.last, l.properties.isWhitespace { u.removeLast() } }
                if left { let k = u.firstIndex { !$0.properties.isWhitespace } ?? u.count; u.removeFirst(k) }
                var v = String.UnicodeScalarView(); v.append(contentsOf: u); s = String(v)
            case .prepend(let p):
                if !s.isEmpty { s = p + s }
            case .replace(let re, let content):
                let u = s.unicodeScalars.map(\.value)
                var out: [UInt32] = []
                var prev = 0
                for m in re.matches(in: u) where !m.isEmpty {
                    out.append(contentsOf: u[prev..<m.lowerBound]); out.append(contentsOf: content); prev = m.upperBound
                }
                out.append(contentsOf: u[prev...])
                var v = String.UnicodeScalarView()
                for x in out { v.append(Unicode.Scalar(x)!) }
                s = String(v)
            }
        }
        return s
    }
}
