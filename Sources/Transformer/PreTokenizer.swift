import Foundation

/// tokenizer.json's `pre_tokenizer`: the steps that cut normalised text into pieces for BPE.
///
/// As in Hugging Face `tokenizers`, the text starts as one piece and each step refines every
/// piece in turn (a `Sequence` lists the steps); empty pieces are dropped. Steps:
/// - `Split {pattern: {Regex|String}, behavior, invert}`: the pattern's non-overlapping leftmost
///   matches (see `SplitRegex`) and the gaps between them are segments; `invert` swaps which are
///   the "matches". Behaviour `Isolated` keeps every segment as a piece, `Removed` drops the
///   matches, `MergedWithPrevious`/`MergedWithNext` glue each match to the piece before/after,
///   `Contiguous` joins runs of adjacent matches.
/// - `Digits {individual_digits}`: each scalar of category N (Nd, Nl, No) is a match; isolated
///   one by one, or joined in runs (`Contiguous`) when `individual_digits` is false.
/// - `ByteLevel {add_prefix_space, use_regex}`: prepends a space to each piece that does not
///   start with one (when `add_prefix_space`), splits it with GPT-2's pattern (when
///   `use_regex`), and maps bytes to GPT-2's byte alphabet (done by BPE on the UTF-8 bytes here).
///   It must be the last step (a step after it would see byte symbols).
/// Any other pre-tokenizer is refused, naming it.
struct PreTokenizer: Sendable {
    enum Behavior: String, Sendable { case removed = "Removed", isolated = "Isolated", mergedWithPrevious = "MergedWithPrevious", mergedWithNext = "MergedWithNext", contiguous = "Contiguous" }
    enum Step: Sendable {
        case split(SplitRegex, Behavior, invert: Bool)
        case digits(individual: Bool)
        case prefixSpace
    }

    /// GPT-2's split pattern, used by ByteLevel with `use_regex`.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    var steps: [Step] = []
    /// Whether a ByteLevel pre-tokenizer is present (the vocabulary is over byte symbols).
    var byteLevel = false
    /// Set when the steps are exactly one Split whose pattern the specialised scanner decides.
    var fast: QwenSplitScanner?

    init(json: Any?, fail: (String) -> TokenizerError) throws {
        guard let json, !(json is NSNull) else { return }
        guard let obj = json as? [String: Any], let type = obj["type"] as? String else { throw fail("pre_tokenizer is not an object with a type") }
        let items: [[String: Any]]
        if type == "Sequence" {
            guard let list = obj["pretokenizers"] as? [[String: Any]] else { throw fail("pre_tokenizer Sequence lacks a \"pretokenizers\" list") }
            items = list
        } else {
            items = [obj]
        }
        for (k, item) in items.enumerated() {
            let name = item["type"] as? String ?? "?"
            if byteLevel { throw fail("pre_tokenizer \(name) after ByteLevel is not supported (ByteLevel must come last)") }
            switch name {
            case "Split":
                let pat = item["pattern"] as? [String: Any]
                let source: String
                if let r = pat?["Regex"] as? String {
                    source = r
                } else if let lit = pat?["String"] as? String {
                    source = lit.unicodeScalars.map { "\\x{\(String($0.value, radix: 16))}" }.joined()
                } else {
                    throw fail("pre_tokenizer Split pattern is neither {\"Regex\": …} nor {\"String\": …}")
                }
                let regex: SplitRegex
                do { regex = try SplitRegex(source) } catch { throw fail("pre_tokenizer Split pattern \(jsonQuoted(source)): \(error)") }
                let bname = item["behavior"] as? String ?? "Isolated"
                guard let behavior = Behavior(rawValue: bname) else { throw fail("pre_tokenizer Split behavior \"\(bname)\" is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous") }
                let invert = item["invert"] as? Bool ?? false
                steps.append(.split(regex, behavior, invert: invert))
                if k == 0, behavior == .isolated, !invert { fast = QwenSplitScanner(pattern: source) }
            case "Digits":
                steps.append(.digits(individual: item["individual_digits"] as? Bool ?? false))
            case "ByteLevel":
                if item["add_prefix_space"] as? Bool ?? true { steps.append(.prefixSpace) }
                if item["use_regex"] as? Bool ?? true { steps.append(.split(try! SplitRegex(Self.gpt2Pattern), .isolated, invert: false)) }
                byteLevel = true
            default:
                throw fail("pre_tokenizer type \"\(name)\" is not supported (supported: Split, Digits, ByteLevel, Sequence)")
            }
        }
        if steps.count != 1 { fast = nil }
    }

    /// The pieces of `text` (scalar values), each a non-empty array of scalar values.
    func pieces(_ text: [UInt32]) -> [[UInt32]] {
        var pieces: [[UInt32]] = text.isEmpty ? [] : [text]
        for step in steps {
            var next: [[UInt32]] = []
            next.reserveCapacity(pieces.count)
            for p in pieces {
                switch step {
                case .prefixSpace:
                    next.append(p.first == 0x20 ? p : [0x20] + p)
                case .split(let re, let behavior, let invert):
                    let segs = Self.segments(p, re.matches(in: p), invert: invert)
                    for r in Self.apply(behavior, segs) where !r.isEmpty { next.append(Array(p[r])) }
                case .digits(let individual):
                    var ms: [Range<Int>] = []
                    for (k, v) in p.enumerated() where Self.isNumeric(v) { ms.append(k..<(k + 1)) }
                    for r in Self.apply(individual ? .isolated : .contiguous, Self.segments(p, ms, invert: false)) where !r.isEmpty {
                        next.append(Array(p[r]))
                    }
                }
            }
            pieces = next
        }
        return pieces
    }

    /// Rust's `char::is_numeric`: general category Nd, Nl or No.
    static func isNumeric(_ v: UInt32) -> Bool {
        if v < 0x80 { return v >= 0x30 && v <= 0x39 }
        guard let s = Unicode.Scalar(v) else { return false }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// Matches and the gaps between them, in order, flagged (is a match).
    static func segments(_ p: [UInt32], _ matches: [Range<Int>], invert: Bool) -> [(Range<Int>, Bool)] {
        var out: [(Range<Int>, Bool)] = []
        var prev = 0
        for m in matches {
            if prev != m.lowerBound { out.append((prev..<m.lowerBound, invert)) }
            out.append((m, !invert))
            prev = m.upperBound
        }
        if prev != p.count { out.append((prev..<p.count, invert)) }
        return out
    }

    /// The pieces a behaviour makes of flagged segments (as `tokenizers`' `NormalizedString::split`).
    static func apply(_ behavior: Behavior, _ segs: [(Range<Int>, Bool)]) -> [Range<Int>] {
        switch behavior {
        case .isolated: return segs.map(\.0)
        case .removed: return segs.filter { !$0.1 }.map(\.0)
        case .contiguous:
            var out: [Range<Int>] = []
            var previous = false
            for (r, m) in segs {
                if m == previous, let last = out.last { out[out.count - 1] = last.lowerBound..<r.upperBound } else { out.append(r) }
                previous = m
            }
            return out
        case .mergedWithPrevious:
            var out: [Range<Int>] = []
            var previous = false
            for (r, m) in segs {
                if m && !previous, let last = out.last { out[out.count - 1] = last.lowerBound..<r.upperBound } else { out.append(r) }
                previous = m
            }
            return out
        case .mergedWithNext:
            var out: [Range<Int>] = []
            var previous = false
            for (r, m) in segs.reversed() {
                if m && !previous, let last = out.last { out[out.count - 1] = r.lowerBound..<last.upperBound } else { out.append(r) }
                previous = m
            }
            return out.reversed()
        }
    }
}

/// A string as JSON writes it (for messages).
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}
