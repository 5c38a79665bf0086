/// The split patterns of Qwen2/Qwen3, Qwen3.5/3.6, Llama 3 and cl100k, written as a scanner
/// instead of a regular expression (the `SplitRegex` engine gives the same pieces, only slower;
/// a test holds them equal on random text).
///
/// Qwen2 and Qwen3 cut text into pieces with this pattern (transformers' `tokenization_qwen2.py`,
/// the `Split` pre-tokenizer of their tokenizer.json, behaviour "isolated"):
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// Matches are found left to right, each the first alternative that matches at the current
/// position (ordered alternation, greedy quantifiers with backtracking). Every code point is a
/// letter (L), a number (N), white space (\s) or "other", so the matches tile the text and the
/// pieces concatenate back to it.
///
/// The scanner below decides each alternative directly on Unicode scalars:
/// 1. `'` then s, t, re, ve, m, ll or d in either case (ASCII case folding, and ſ as s: the
///    only non-ASCII scalar whose simple case folding gives one of these letters).
/// 2. an optional scalar that is not \r, \n, L or N, then a maximal run of letters (≥ 1);
///    the optional scalar is taken when a letter follows it, else the run must start here.
/// 3. one number scalar (digits are never grouped: "2024" is four pieces).
/// 4. an optional literal space, a maximal run (≥ 1) of scalars that are not \s, L or N, then
///    any \r and \n that follow.
/// 5. within the maximal white-space run starting here, everything up to and including its last
///    \r or \n (greedy `\s*` backtracks to the last newline); fails when the run has none.
/// 6. the white-space run without its last scalar when something that is not white space
///    follows (so that scalar can lead the next piece), the whole run at the end of the text;
///    fails for a single white-space scalar followed by non-space.
/// 7. the whole white-space run.
///
/// Variants (`QwenSplitScanner`): Qwen3.5/3.6 count marks (M) as letters in alternative 2 and
/// exclude them from "other" in 4; Llama 3 and cl100k take runs of one to three numbers in 3
/// (cl100k's possessive `?+`/`++` and single `[\r\n]` give the same matches here, because the
/// classes they guard cannot give a scalar back to what follows).
///
/// Classes: L is a general category Lu, Ll, Lt, Lm or Lo; N is Nd, Nl or No; \s is the Unicode
/// White_Space property (which contains \t \n \v \f \r, U+0085, U+00A0, U+2028, …).
public enum Qwen2PreTokenizer {
    /// The pattern as it appears in Qwen2/Qwen3 tokenizer.json files.
    public static let pattern = QwenSplitScanner.qwen2

    /// Splits `text` into pieces; returns the piece boundaries as ranges of scalar indices.
    public static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        QwenSplitScanner(marksAreLetters: false, maxDigits: 1).split(scalars.map(\.value))
    }

    /// The pieces of `text` as strings (concatenated they give `text` back).
    public static func split(_ text: String) -> [String] {
        QwenSplitScanner(marksAreLetters: false, maxDigits: 1).split(text)
    }
}

/// The specialised scanner for one of the known patterns (see above).
public struct QwenSplitScanner: Sendable, Equatable {
    public static let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    public static let qwen35 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    public static let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    public static let cl100k = #"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"#

    public let marksAreLetters: Bool
    public let maxDigits: Int

    public init(marksAreLetters: Bool, maxDigits: Int) {
        self.marksAreLetters = marksAreLetters
        self.maxDigits = maxDigits
    }

    /// The scanner of a known pattern, nil for any other.
    public init?(pattern: String) {
        switch pattern {
        case Self.qwen2: self.init(marksAreLetters: false, maxDigits: 1)
        case Self.qwen35: self.init(marksAreLetters: true, maxDigits: 1)
        case Self.llama3, Self.cl100k: self.init(marksAreLetters: false, maxDigits: 3)
        default: return nil
        }
    }

    @inline(__always) static func category(_ v: UInt32) -> Unicode.GeneralCategory? { Unicode.Scalar(v)?.properties.generalCategory }

    /// L (or L ∪ M when marks count as letters).
    @inline(__always) func isLetter(_ v: UInt32) -> Bool {
        if v < 0x80 { return (v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A }
        switch Self.category(v) {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        case .nonspacingMark, .spacingMark, .enclosingMark: return marksAreLetters
        default: return false
        }
    }

    /// L only (the optional lead scalar of alternative 2 excludes L and N, not M).
    @inline(__always) func isPlainLetter(_ v: UInt32) -> Bool {
        if v < 0x80 { return (v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A }
        switch Self.category(v) {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ v: UInt32) -> Bool {
        if v < 0x80 { return v >= 0x30 && v <= 0x39 }
        switch category(v) {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always) static func isSpace(_ v: UInt32) -> Bool {
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return Unicode.Scalar(v)?.properties.isWhitespace ?? false
    }

    @inline(__always) static func isNewline(_ v: UInt32) -> Bool { v == 0x0A || v == 0x0D }

    /// The piece boundaries of `scalars` as ranges of indices (they tile the text).
    public func split(_ scalars: [UInt32]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        out.reserveCapacity(scalars.count / 3)
        var i = 0
        scalars.withUnsafeBufferPointer { s in
            while i < s.count {
                let end = matchEnd(s, i)
                out.append(i..<end)
                i = end
            }
        }
        return out
    }

    /// The pieces of `text` as strings.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return split(scalars.map(\.value)).map { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
    }

    /// The end of the match starting at `i` (always > i).
    @inline(__always) func matchEnd(_ s: UnsafeBufferPointer<UInt32>, _ i: Int) -> Int {
        let n = s.count
        let c = s[i]
        // 1. contractions
        if c == 0x27 && i + 1 < n {
            // ASCII case folding, and ſ (U+017F), which case-folds to s.
            func lower(_ k: Int) -> UInt32? { k < n ? (s[k] < 0x80 ? s[k] | 0x20 : (s[k] == 0x17F ? 0x73 : nil)) : nil }
            let a = lower(i + 1), b = lower(i + 2)
            if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return i + 2 }            // s t m d
            if (a == 0x72 || a == 0x76) && b == 0x65 { return i + 3 }                       // re ve
            if a == 0x6C && b == 0x6C { return i + 3 }                                       // ll
        }
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+   (or [\p{L}\p{M}]+)
        var start = -1
        if isLetter(c) {
            start = i
        } else if !Self.isNewline(c) && !isPlainLetter(c) && !Self.isNumber(c) && i + 1 < n && isLetter(s[i + 1]) {
            start = i + 1
        }
        if start >= 0 {
            var j = start + 1
            while j < n && isLetter(s[j]) { j += 1 }
            return j
        }
        // 3. \p{N} or \p{N}{1,3}
        if Self.isNumber(c) {
            var j = i + 1
            while j < n && j - i < maxDigits && Self.isNumber(s[j]) { j += 1 }
            return j
        }
        // 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        func isOther(_ x: UInt32) -> Bool { !Self.isSpace(x) && !isLetter(x) && !Self.isNumber(x) }
        var k = i
        if c == 0x20 && i + 1 < n && isOther(s[i + 1]) { k = i + 1 }
        if isOther(s[k]) {
            var j = k + 1
            while j < n && isOther(s[j]) { j += 1 }
            while j < n && Self.isNewline(s[j]) { j += 1 }
            return j
        }
        // Here c is white space: the run i..<j.
        var j = i + 1
        while j < n && Self.isSpace(s[j]) { j += 1 }
        // 5. \s*[\r\n]+ : up to the last newline of the run.
        var lastNewline = -1
        for t in stride(from: j - 1, through: i, by: -1) where Self.isNewline(s[t]) { lastNewline = t; break }
        if lastNewline >= 0 { return lastNewline + 1 }
        // 6. \s+(?!\S)
        if j == n { return j }
        if j - i >= 2 { return j - 1 }
        // 7. \s+
        return j
    }
}
