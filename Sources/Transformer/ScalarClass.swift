/// A set of Unicode scalars, as a character class of a split pattern denotes it (`[^\r\n\p{L}]`,
/// `\s`, a literal `a`).
///
/// Membership follows Oniguruma's Unicode definitions, the regex library Hugging Face
/// `tokenizers` uses for `Split`:
/// - `\p{L}`, `\p{Lu}`, …, `\p{M}`, `\p{N}`, `\p{P}`, `\p{S}`, `\p{Z}`, `\p{C}` (and their long
///   names): the Unicode general categories; `\p{Alpha}` the Alphabetic property.
/// - `\s`: the White_Space property (\t \n \v \f \r, space, U+0085, U+00A0, U+2028, U+3000, …);
///   `\d`: Nd; `\w`: Alphabetic ∪ M ∪ Nd ∪ Pc, and below U+0100 Oniguruma's Latin-1 table
///   (which adds ² ³ ¹ ¼ ½ ¾); `\h`: a hexadecimal digit; `.`: any scalar but \n.
/// - Case-insensitive classes (under `(?i)`) also contain a scalar whose one-scalar lower-,
///   upper- or title-case mapping, or the lower case of its upper case, is in the class (so
///   ſ matches s and K (Kelvin) matches k, as Unicode simple case folding has it; multi-scalar
///   folds such as ß ↔ SS are not applied). A negated class is the complement of that.
struct ScalarClass: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case categories(Set<Unicode.GeneralCategory>)
        case whiteSpace, alphabetic, uppercase, lowercase, hexDigit, word, any
        case notNewline
        case nested(ScalarClass)
    }

    var items: [Item] = []
    var negated = false
    var caseInsensitive = false
    /// Membership of the 128 ASCII scalars, filled by `freeze()`.
    private var asciiLow: UInt64 = 0, asciiHigh: UInt64 = 0
    private var frozen = false

    init(items: [Item] = [], negated: Bool = false, caseInsensitive: Bool = false) {
        self.items = items; self.negated = negated; self.caseInsensitive = caseInsensitive
    }

    static func literal(_ v: UInt32, caseInsensitive: Bool) -> ScalarClass {
        var c = ScalarClass(items: [.range(v, v)], caseInsensitive: caseInsensitive)
        c.freeze()
        return c
    }

    /// Precomputes the ASCII table; call once the items are final.
    mutating func freeze() {
        frozen = false
        var lo: UInt64 = 0, hi: UInt64 = 0
        for v in UInt32(0)..<128 where slowContains(v) {
            if v < 64 { lo |= 1 << UInt64(v) } else { hi |= 1 << UInt64(v - 64) }
        }
        asciiLow = lo; asciiHigh = hi
        frozen = true
    }

    /// Whether scalar value `v` is in the class.
    @inline(__always) func contains(_ v: UInt32) -> Bool {
        if frozen && v < 128 { return v < 64 ? (asciiLow >> UInt64(v)) & 1 != 0 : (asciiHigh >> UInt64(v - 64)) & 1 != 0 }
        return slowContains(v)
    }

    private func slowContains(_ v: UInt32) -> Bool {
        var hit = itemsContain(v)
        if !hit && caseInsensitive, let s = Unicode.Scalar(v) {
            let up = s.properties.uppercaseMapping
            let upLower = up.unicodeScalars.count == 1 ? up.unicodeScalars.first!.properties.lowercaseMapping : ""
            for m in [s.properties.lowercaseMapping, up, s.properties.titlecaseMapping, upLower] {
                let u = m.unicodeScalars
                if u.count == 1, let f = u.first, f.value != v, itemsContain(f.value) { hit = true; break }
            }
        }
        return hit != negated
    }

    private func itemsContain(_ v: UInt32) -> Bool {
        guard let s = Unicode.Scalar(v) else { return false }
        for item in items {
            switch item {
            case .range(let a, let b): if v >= a && v <= b { return true }
            case .categories(let set): if set.contains(s.properties.generalCategory) { return true }
            case .whiteSpace: if s.properties.isWhitespace { return true }
            case .alphabetic: if s.properties.isAlphabetic { return true }
            case .uppercase: if s.properties.isUppercase { return true }
            case .lowercase: if s.properties.isLowercase { return true }
            case .hexDigit: if (v >= 0x30 && v <= 0x39) || ((v | 0x20) >= 0x61 && (v | 0x20) <= 0x66) { return true }
            case .word:
                if v < 256 {
                    // Oniguruma's Latin-1 table: ASCII word characters, ª ² ³ µ ¹ º ¼ ½ ¾ and À–ÿ but × ÷.
                    if (v >= 0x30 && v <= 0x39) || ((v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A) || v == 0x5F { return true }
                    if [0xAA, 0xB2, 0xB3, 0xB5, 0xB9, 0xBA, 0xBC, 0xBD, 0xBE].contains(v) || (v >= 0xC0 && v != 0xD7 && v != 0xF7) { return true }
                    break
                }
                if s.properties.isAlphabetic { return true }
                switch s.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
                default: break
                }
            case .any: return true
            case .notNewline: if v != 0x0A { return true }
            case .nested(let c): if c.contains(v) { return true }
            }
        }
        return false
    }

    /// The general categories of a `\p{…}` name (one- or two-letter or long form), or the
    /// item of a binary property; nil for a name not supported.
    static func property(_ name: String) -> Item? {
        typealias G = Unicode.GeneralCategory
        let groups: [String: [G]] = [
            "L": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter],
            "LC": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter], "L&": [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter],
            "Lu": [.uppercaseLetter], "Ll": [.lowercaseLetter], "Lt": [.titlecaseLetter], "Lm": [.modifierLetter], "Lo": [.otherLetter],
            "M": [.nonspacingMark, .spacingMark, .enclosingMark], "Mn": [.nonspacingMark], "Mc": [.spacingMark], "Me": [.enclosingMark],
            "N": [.decimalNumber, .letterNumber, .otherNumber], "Nd": [.decimalNumber], "Nl": [.letterNumber], "No": [.otherNumber],
            "P": [.connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation, .finalPunctuation, .otherPunctuation],
            "Pc": [.connectorPunctuation], "Pd": [.dashPunctuation], "Ps": [.openPunctuation], "Pe": [.closePunctuation],
            "Pi": [.initialPunctuation], "Pf": [.finalPunctuation], "Po": [.otherPunctuation],
            "S": [.mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol],
            "Sm": [.mathSymbol], "Sc": [.currencySymbol], "Sk": [.modifierSymbol], "So": [.otherSymbol],
            "Z": [.spaceSeparator, .lineSeparator, .paragraphSeparator],
            "Zs": [.spaceSeparator], "Zl": [.lineSeparator], "Zp": [.paragraphSeparator],
            "C": [.control, .format, .surrogate, .privateUse, .unassigned],
            "Cc": [.control], "Cf": [.format], "Cs": [.surrogate], "Co": [.privateUse], "Cn": [.unassigned],
        ]
        let long: [String: String] = [
            "letter": "L", "casedletter": "LC", "uppercaseletter": "Lu", "lowercaseletter": "Ll", "titlecaseletter": "Lt",
            "modifierletter": "Lm", "otherletter": "Lo", "mark": "M", "combiningmark": "M", "nonspacingmark": "Mn",
            "spacingmark": "Mc", "enclosingmark": "Me", "number": "N", "decimalnumber": "Nd", "letternumber": "Nl",
            "othernumber": "No", "punctuation": "P", "connectorpunctuation": "Pc", "dashpunctuation": "Pd",
            "openpunctuation": "Ps", "closepunctuation": "Pe", "initialpunctuation": "Pi", "finalpunctuation": "Pf",
            "otherpunctuation": "Po", "symbol": "S", "mathsymbol": "Sm", "currencysymbol": "Sc", "modifiersymbol": "Sk",
            "othersymbol": "So", "separator": "Z", "spaceseparator": "Zs", "lineseparator": "Zl",
            "paragraphseparator": "Zp", "other": "C", "control": "Cc", "format": "Cf", "surrogate": "Cs",
            "privateuse": "Co", "unassigned": "Cn",
        ]
        let key = name.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: " ", with: "").replacingOccurrences(of: "-", with: "")
        if let g = groups[key] { return .categories(Set(g)) }
        if let short = long[key.lowercased()], let g = groups[short] { return .categories(Set(g)) }
        if let g = groups.first(where: { $0.key.lowercased() == key.lowercased() })?.value { return .categories(Set(g)) }
        switch key.lowercased() {
        case "alpha", "alphabetic": return .alphabetic
        case "space", "whitespace": return .whiteSpace
        case "upper", "uppercase": return .uppercase
        case "lower", "lowercase": return .lowercase
        case "digit": return .categories([.decimalNumber])
        case "word": return .word
        case "xdigit", "hexdigit": return .hexDigit
        case "any": return .any
        case "ascii": return .range(0, 127)
        case "alnum": return .nested({ var c = ScalarClass(items: [.alphabetic, .categories([.decimalNumber])]); c.freeze(); return c }())
        case "punct": return .categories(Set(groups["P"]!))
        case "cntrl": return .categories([.control])
        default: return nil
        }
    }
}
