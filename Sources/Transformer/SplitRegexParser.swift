/// The syntax tree of a split pattern, and its parser.
///
/// The grammar is the part of Oniguruma's Ruby syntax (what Hugging Face `tokenizers` compiles a
/// `Split` pattern with) that tokenizer patterns use:
/// - alternation `a|b` (ordered: the first alternative that lets the whole match succeed wins);
/// - groups `(…)`, `(?:…)`, `(?<name>…)`, atomic `(?>…)`, lookahead `(?=…)` and `(?!…)`,
///   flag groups `(?i:…)`, `(?-i:…)`, `(?m:…)` and `(?i)` (to the end of the enclosing group);
///   in Ruby syntax `m` makes `.` match \n;
/// - classes `[…]` with ranges, negation `[^…]`, nested classes, `\p{…}`/`\P{…}`/`\p{^…}`,
///   `\s \S \d \D \w \W \h \H`, POSIX brackets `[:alpha:]`;
/// - quantifiers `* + ? {n} {n,} {,m} {n,m}`, lazy with a `?` suffix, possessive with a `+`
///   suffix on `* + ?` (in Ruby syntax `{n,m}+` is a greedy `+` of the interval, not possessive);
/// - anchors `^` `$` (line anchors in Ruby syntax), `\A` `\z` `\Z`, `\b` `\B`;
/// - escapes `\t \n \r \f \v \a \e \0 \xHH \x{H…} \uHHHH` and escaped punctuation.
/// Anything else (lookbehind, back-references, conditionals, `(?x)`) is refused by name.
indirect enum RegexNode: Sendable {
    case set(ScalarClass)
    case seq([RegexNode])
    case alt([RegexNode])
    case rep(RegexNode, min: Int, max: Int, mode: RepeatMode)
    case atomic(RegexNode)
    case look(RegexNode, negative: Bool)
    case anchor(Anchor)

    enum RepeatMode: Sendable { case greedy, lazy, possessive }
    enum Anchor: Sendable { case lineStart, lineEnd, textStart, textEnd, textEndBeforeNewline, wordBoundary, notWordBoundary }

    /// Whether the node can match the empty string.
    var canBeEmpty: Bool {
        switch self {
        case .set: return false
        case .seq(let xs): return xs.allSatisfy { $0.canBeEmpty }
        case .alt(let xs): return xs.contains { $0.canBeEmpty }
        case .rep(let x, let lo, _, _): return lo == 0 || x.canBeEmpty
        case .atomic(let x): return x.canBeEmpty
        case .look, .anchor: return true
        }
    }
}

/// A pattern that cannot be compiled: what and where.
public struct SplitRegexError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}

struct RegexParser {
    let s: [UInt32]
    var i = 0
    var caseInsensitive = false
    var dotAll = false

    init(_ pattern: String) { s = pattern.unicodeScalars.map(\.value) }

    func fail(_ what: String) -> SplitRegexError { SplitRegexError(message: "\(what) at offset \(i)") }
    var atEnd: Bool { i >= s.count }
    func peek(_ k: Int = 0) -> UInt32? { i + k < s.count ? s[i + k] : nil }
    func isChar(_ c: Character, _ k: Int = 0) -> Bool { peek(k) == c.unicodeScalars.first!.value }

    mutating func parse() throws -> RegexNode {
        let n = try parseAlt()
        if !atEnd { throw fail(isChar(")") ? "unbalanced ')'" : "unexpected character") }
        return n
    }

    mutating func parseAlt() throws -> RegexNode {
        var branches: [RegexNode] = []
        let saved = (caseInsensitive, dotAll)
        while true {
            branches.append(try parseSeq())
            if isChar("|") { i += 1; continue }
            break
        }
        (caseInsensitive, dotAll) = saved
        return branches.count == 1 ? branches[0] : .alt(branches)
    }

    mutating func parseSeq() throws -> RegexNode {
        var items: [RegexNode] = []
        while !atEnd && !isChar("|") && !isChar(")") {
            guard var atom = try parseAtom() else { continue }
            atom = try parseQuantifiers(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .seq(items)
    }

    mutating func parseQuantifiers(_ atomIn: RegexNode) throws -> RegexNode {
        var atom = atomIn
        while let c = peek() {
            var lo = 0, hi = Int.max
            var interval = false
            switch c {
            case 0x2A: i += 1                          // *
            case 0x2B: lo = 1; i += 1                  // +
            case 0x3F: hi = 1; i += 1                  // ?
            case 0x7B:                                 // {
                guard let (a, b, len) = intervalAt(i) else { return atom }
                lo = a; hi = b; i += len; interval = true
                if lo > hi { throw fail("interval {\(lo),\(hi)} has its bounds reversed") }
                if hi != Int.max && hi > 1000 { throw fail("interval bound \(hi) is above 1000") }
            default: return atom
            }
            if case .anchor = atom { throw fail("a quantifier after an anchor") }
            if case .look = atom { throw fail("a quantifier after a lookahead") }
            var mode = RegexNode.RepeatMode.greedy
            if isChar("?") { mode = .lazy; i += 1 } else if isChar("+") && !interval { mode = .possessive; i += 1 }
            atom = .rep(atom, min: lo, max: hi, mode: mode)
        }
        return atom
    }

    /// `{n}`, `{n,}`, `{,m}`, `{n,m}` at `k`: (min, max, length); nil when not an interval (then `{` is literal).
    func intervalAt(_ k: Int) -> (Int, Int, Int)? {
        var j = k + 1
        func number() -> Int? {
            var v = 0, any = false
            while j < s.count, s[j] >= 0x30, s[j] <= 0x39 { v = min(v * 10 + Int(s[j] - 0x30), 100_000); j += 1; any = true }
            return any ? v : nil
        }
        let a = number()
        if j < s.count && s[j] == 0x7D { return a.map { ($0, $0, j - k + 1) } }
        guard j < s.count, s[j] == 0x2C else { return nil }
        j += 1
        let b = number()
        guard j < s.count, s[j] == 0x7D, a != nil || b != nil else { return nil }
        return (a ?? 0, b ?? Int.max, j - k + 1)
    }

    /// One atom; nil for a construct that matches nothing and only changes flags (`(?i)`).
    mutating func parseAtom() throws -> RegexNode? {
        let c = s[i]
        switch c {
        case 0x28: return try parseGroup()
        case 0x5B: i += 1; return .set(try parseClass())
        case 0x2E: i += 1; var k = ScalarClass(items: [dotAll ? .any : .notNewline]); k.freeze(); return .set(k)
        case 0x5E: i += 1; return .anchor(.lineStart)
        case 0x24: i += 1; return .anchor(.lineEnd)
        case 0x5C: return try parseEscape(inClass: false).node(caseInsensitive)
        case 0x2A, 0x2B, 0x3F: throw fail("a quantifier with nothing before it")
        default: i += 1; return .set(.literal(c, caseInsensitive: caseInsensitive))
        }
    }

    mutating func parseGroup() throws -> RegexNode? {
        i += 1  // (
        guard isChar("?") else { return try groupBody { $0 } }
        i += 1
        guard let c = peek() else { throw fail("unterminated group") }
        switch Character(Unicode.Scalar(c)!) {
        case ":": i += 1; return try groupBody { $0 }
        case ">": i += 1; return try groupBody { .atomic($0) }
        case "=": i += 1; return try groupBody { .look($0, negative: false) }
        case "!": i += 1; return try groupBody { .look($0, negative: true) }
        case "#":
            while !atEnd && !isChar(")") { i += 1 }
            if atEnd { throw fail("unterminated comment group") }
            i += 1; return nil
        case "<":
            if isChar("=", 1) || isChar("!", 1) { throw fail("lookbehind (?<\(isChar("=", 1) ? "=" : "!")…) is not supported") }
            while !atEnd && !isChar(">") { i += 1 }
            if atEnd { throw fail("unterminated group name") }
            i += 1; return try groupBody { $0 }
        default:
            // Flags: (?imx-imx) or (?imx-imx:…)
            var on = true, ci = caseInsensitive, da = dotAll
            while let f = peek(), f != 0x3A, f != 0x29 {
                switch f {
                case 0x2D: on = false
                case 0x69: ci = on
                case 0x6D: da = on
                case 0x78: throw fail("the extended flag (?x) is not supported")
                default: throw fail("group construct (?\(Character(Unicode.Scalar(f)!))…) is not supported")
                }
                i += 1
            }
            guard let end = peek() else { throw fail("unterminated group") }
            i += 1
            if end == 0x29 { caseInsensitive = ci; dotAll = da; return nil }  // (?i): to the end of the group
            let saved = (caseInsensitive, dotAll)
            caseInsensitive = ci; dotAll = da
            defer { (caseInsensitive, dotAll) = saved }
            return try groupBody { $0 }
        }
    }

    mutating func groupBody(_ wrap: (RegexNode) -> RegexNode) throws -> RegexNode {
        let saved = (caseInsensitive, dotAll)
        let inner = try parseAlt()
        (caseInsensitive, dotAll) = saved
        guard isChar(")") else { throw fail("unterminated group: expected ')'") }
        i += 1
        return wrap(inner)
    }

    /// What an escape denotes: a scalar, a class item, or an anchor.
    enum Escape {
        case scalar(UInt32), item(ScalarClass.Item, negated: Bool), anchor(RegexNode.Anchor)
        func node(_ ci: Bool) -> RegexNode {
            switch self {
            case .scalar(let v): return .set(.literal(v, caseInsensitive: ci))
            case .item(let it, let neg): var k = ScalarClass(items: [it], negated: neg, caseInsensitive: ci); k.freeze(); return .set(k)
            case .anchor(let a): return .anchor(a)
            }
        }
    }

    mutating func parseEscape(inClass: Bool) throws -> Escape {
        i += 1  // backslash
        guard let c = peek() else { throw fail("a trailing backslash") }
        i += 1
        switch Character(Unicode.Scalar(c)!) {
        case "t": return .scalar(0x09)
        case "n": return .scalar(0x0A)
        case "r": return .scalar(0x0D)
        case "f": return .scalar(0x0C)
        case "v": return .scalar(0x0B)
        case "a": return .scalar(0x07)
        case "e": return .scalar(0x1B)
        case "0": return .scalar(0)
        case "s": return .item(.whiteSpace, negated: false)
        case "S": return .item(.whiteSpace, negated: true)
        case "d": return .item(.categories([.decimalNumber]), negated: false)
        case "D": return .item(.categories([.decimalNumber]), negated: true)
        case "w": return .item(.word, negated: false)
        case "W": return .item(.word, negated: true)
        case "h": return .item(.hexDigit, negated: false)
        case "H": return .item(.hexDigit, negated: true)
        case "x", "u":
            var digits = 0, v: UInt32 = 0
            let braced = c == 0x78 && isChar("{")
            if braced { i += 1 }
            let maxDigits = braced ? 8 : (c == 0x78 ? 2 : 4)
            while digits < maxDigits, let d = peek(), let h = Self.hexValue(d) { v = v * 16 + h; i += 1; digits += 1 }
            if braced { guard isChar("}") else { throw fail("unterminated \\x{…}") }; i += 1 }
            if digits == 0 || (c == 0x75 && digits != 4) { throw fail("a malformed \\\(Character(Unicode.Scalar(c)!)) escape") }
            guard Unicode.Scalar(v) != nil else { throw fail("escape names U+\(String(v, radix: 16, uppercase: true)), not a Unicode scalar") }
            return .scalar(v)
        case "p", "P":
            guard isChar("{") else { throw fail("\\p without {…}") }
            i += 1
            var neg = c == 0x50
            if isChar("^") { neg.toggle(); i += 1 }
            var name = ""
            while let d = peek(), d != 0x7D { name.unicodeScalars.append(Unicode.Scalar(d)!); i += 1 }
            guard isChar("}") else { throw fail("unterminated \\p{…}") }
            i += 1
            guard let item = ScalarClass.property(name) else { throw fail("Unicode property \\p{\(name)} is not supported") }
            return .item(item, negated: neg)
        case "A" where !inClass: return .anchor(.textStart)
        case "z" where !inClass: return .anchor(.textEnd)
        case "Z" where !inClass: return .anchor(.textEndBeforeNewline)
        case "b" where !inClass: return .anchor(.wordBoundary)
        case "B" where !inClass: return .anchor(.notWordBoundary)
        case "b": return .scalar(0x08)
        default:
            if (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) {
                throw fail("escape \\\(Character(Unicode.Scalar(c)!)) is not supported")
            }
            return .scalar(c)
        }
    }

    static func hexValue(_ d: UInt32) -> UInt32? {
        if d >= 0x30 && d <= 0x39 { return d - 0x30 }
        let l = d | 0x20
        if l >= 0x61 && l <= 0x66 { return l - 0x61 + 10 }
        return nil
    }

    /// A class after its `[`, through its `]`.
    mutating func parseClass() throws -> ScalarClass {
        var cls = ScalarClass(caseInsensitive: caseInsensitive)
        if isChar("^") { cls.negated = true; i += 1 }
        var first = true
        while true {
            guard let c = peek() else { throw fail("unterminated character class") }
            if c == 0x5D && !first { i += 1; break }                 // ]
            first = false
            if c == 0x5B && isChar(":", 1) {                         // [:name:]
                var j = i + 2, name = ""
                var neg = false
                if j < s.count && s[j] == 0x5E { neg = true; j += 1 }
                while j < s.count && s[j] != 0x3A { name.unicodeScalars.append(Unicode.Scalar(s[j])!); j += 1 }
                guard j + 1 < s.count, s[j + 1] == 0x5D, let item = ScalarClass.property(name) else {
                    throw fail("POSIX bracket [:\(name):] is not supported")
                }
                i = j + 2
                var k = ScalarClass(items: [item], negated: neg); k.freeze()
                cls.items.append(.nested(k))
                continue
            }
            if c == 0x5B {                                           // nested class
                i += 1
                cls.items.append(.nested(try parseClass()))
                continue
            }
            if c == 0x26 && isChar("&", 1) { throw fail("class intersection && is not supported") }
            var lo: UInt32
            if c == 0x5C {
                switch try parseEscape(inClass: true) {
                case .scalar(let v): lo = v
                case .item(let it, let neg):
                    if neg { var k = ScalarClass(items: [it], negated: true); k.freeze(); cls.items.append(.nested(k)) } else { cls.items.append(it) }
                    continue
                case .anchor: throw fail("an anchor inside a class")
                }
            } else {
                lo = c; i += 1
            }
            // A range lo-hi (a '-' before ']' is literal).
            if isChar("-"), let nx = peek(1), nx != 0x5D {
                i += 1
                var hi: UInt32
                if nx == 0x5C {
                    guard case .scalar(let v) = try parseEscape(inClass: true) else { throw fail("a class range ends in a class escape") }
                    hi = v
                } else {
                    hi = nx; i += 1
                }
                if hi < lo { throw fail("class range is out of order") }
                cls.items.append(.range(lo, hi))
            } else {
                cls.items.append(.range(lo, lo))
            }
        }
        cls.freeze()
        return cls
    }
}
