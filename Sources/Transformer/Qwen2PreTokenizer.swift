/// Qwen2's pre-tokenizer split, written as a scanner instead of a regular expression.
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
/// 1. `'` then s, t, re, ve, m, ll or d in either case (ASCII case folding).
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
/// Classes: L is a general category Lu, Ll, Lt, Lm or Lo; N is Nd, Nl or No; \s is the Unicode
/// White_Space property (which contains \t \n \v \f \r, U+0085, U+00A0, U+2028, …).
public enum Qwen2PreTokenizer {
    /// The pattern as it appears in Qwen2/Qwen3 tokenizer.json files.
    public static let pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    @inline(__always) static func isNumber(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value >= 0x30 && s.value <= 0x39 }
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    @inline(__always) static func isSpace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D) }
        return s.properties.isWhitespace
    }

    @inline(__always) static func isNewline(_ s: Unicode.Scalar) -> Bool { s.value == 0x0A || s.value == 0x0D }

    /// Splits `text` into pieces; returns the piece boundaries as ranges of scalar indices into
    /// `scalars`.
    public static func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        let n = scalars.count
        while i < n {
            let end = matchEnd(scalars, i)
            out.append(i..<end)
            i = end
        }
        return out
    }

    /// The pieces of `text` as strings (concatenated they give `text` back).
    public static func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return split(scalars).map { r in
            var s = String.UnicodeScalarView()
            s.append(contentsOf: scalars[r])
            return String(s)
        }
    }

    /// The end of the match starting at `i` (always > i).
    static func matchEnd(_ s: [Unicode.Scalar], _ i: Int) -> Int {
        let n = s.count
        let c = s[i]
        // 1. contractions
        if c == "'" && i + 1 < n {
            func lower(_ k: Int) -> UInt32? { k < n && s[k].value < 0x80 ? s[k].value | 0x20 : nil }
            let a = lower(i + 1), b = lower(i + 2)
            if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return i + 2 }            // s t m d
            if (a == 0x72 || a == 0x76) && b == 0x65 { return i + 3 }                       // re ve
            if a == 0x6C && b == 0x6C { return i + 3 }                                       // ll
        }
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        var start = -1
        if isLetter(c) {
            start = i
        } else if !isNewline(c) && !isNumber(c) && i + 1 < n && isLetter(s[i + 1]) {
            start = i + 1
        }
        if start >= 0 {
            var j = start + 1
            while j < n && isLetter(s[j]) { j += 1 }
            return j
        }
        // 3. \p{N}
        if isNumber(c) { return i + 1 }
        // 4. ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        func isOther(_ x: Unicode.Scalar) -> Bool { !isSpace(x) && !isLetter(x) && !isNumber(x) }
        var k = i
        if c == " " && i + 1 < n && isOther(s[i + 1]) { k = i + 1 }
        if isOther(s[k]) {
            var j = k + 1
            while j < n && isOther(s[j]) { j += 1 }
            while j < n && isNewline(s[j]) { j += 1 }
            return j
        }
        // Here c is white space: the run i..<j.
        var j = i + 1
        while j < n && isSpace(s[j]) { j += 1 }
        // 5. \s*[\r\n]+ : up to the last newline of the run.
        var lastNewline = -1
        for t in stride(from: j - 1, through: i, by: -1) where isNewline(s[t]) { lastNewline = t; break }
        if lastNewline >= 0 { return lastNewline + 1 }
        // 6. \s+(?!\S)
        if j == n { return j }
        if j - i >= 2 { return j - 1 }
        // 7. \s+
        return j
    }
}
