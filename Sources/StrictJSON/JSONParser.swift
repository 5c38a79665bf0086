import Foundation

/// A strict reader of RFC 8259 JSON that says where a text goes wrong.
///
/// It refuses what `JSONDecoder` reports vaguely or accepts silently: an empty text, a duplicated
/// key in one object, `NaN`/`Infinity` tokens, numbers that overflow a double (`1e400`), trailing
/// content, nesting deeper than `maxDepth` (a bounded recursion: hostile input cannot exhaust the
/// stack). Errors carry the line and column and, where a value is at fault, its path.
/// Numbers that underflow (`1e-400`) read as 0, as in every JSON reader.
public struct JSONParser {
    public static let maxDepth = 256

    private let bytes: [UInt8]
    private var i = 0
    private var line = 1
    private var lineStart = 0
    /// The path to the value being read, kept as a stack (an error turns it into a `JSONPath`).
    private var stack: [JSONPath.Step] = []
    private var path: JSONPath { JSONPath(stack) }

    /// Parses a whole document (a UTF-8 byte-order mark is skipped).
    public static func parse(_ data: Data) throws -> JSONValue {
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard String(validating: bytes, as: UTF8.self) != nil else { throw StrictJSONError.invalidUTF8 }
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        guard p.i < bytes.count else { throw StrictJSONError.empty }
        let v = try p.value(depth: 0)
        p.skipSpace()
        if p.i < bytes.count { throw p.syntax("unexpected \(p.describeHere()) after the end of the document") }
        return v
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// The position of byte `k` (the column counts scalars: UTF-8 continuation bytes are skipped).
    private func position(_ k: Int) -> JSONPosition {
        let col = bytes[lineStart..<min(k, bytes.count)].reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
        return JSONPosition(line: line, column: col + 1)
    }

    private func syntax(_ problem: String, at k: Int? = nil) -> StrictJSONError {
        .syntax(at: position(k ?? i), problem: problem)
    }

    /// The next character, quoted, or "the end of the file".
    private func describeHere() -> String {
        guard i < bytes.count else { return "the end of the file" }
        var end = i + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let s = String(decoding: bytes[i..<end], as: UTF8.self)
        return "character \"\(s.unicodeScalars.first.map { $0.value < 0x20 ? "\\u{\(String($0.value, radix: 16))}" : s } ?? s)\""
    }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0D: i += 1
            case 0x0A: i += 1; line += 1; lineStart = i
            default: return
            }
        }
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        skipSpace()
        guard i < bytes.count else { throw syntax("expected a value, found the end of the file") }
        guard depth < Self.maxDepth else { throw StrictJSONError.tooDeep(at: position(i), limit: Self.maxDepth) }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default:
            let start = i
            while i < bytes.count, (bytes[i] >= 0x41 && bytes[i] <= 0x5A) || (bytes[i] >= 0x61 && bytes[i] <= 0x7A) { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "null": return .null
            case "NaN", "nan", "Infinity", "infinity", "inf", "Inf":
                throw StrictJSONError.notANumber(path: path, token: word, at: position(start))
            default:
                i = start
                throw syntax("expected a value, found \(describeHere())")
            }
        }
    }

    private mutating func object(depth: Int) throws -> JSONValue {
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        var seen = Set<String>()
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else {
                throw syntax("expected a key in double quotes, found \(describeHere())")
            }
            let keyStart = i
            let key = try string()
            guard seen.insert(key).inserted else { throw StrictJSONError.duplicateKey(path: path, key: key, at: position(keyStart)) }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else {
                throw syntax("expected \":\" after the key \"\(key)\", found \(describeHere())")
            }
            i += 1
            stack.append(.key(key))
            let v = try value(depth: depth + 1)
            stack.removeLast()
            members.append((key, v))
            skipSpace()
            guard i < bytes.count else { throw syntax("the object is not closed: expected \",\" or \"}\", found the end of the file") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw syntax("expected \",\" or \"}\" after the value of \"\(key)\", found \(describeHere())")
        }
    }

    private mutating func array(depth: Int) throws -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        stack.append(.index(0))
        defer { stack.removeLast() }
        while true {
            stack[stack.count - 1] = .index(items.count)
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard i < bytes.count else { throw syntax("the array is not closed: expected \",\" or \"]\", found the end of the file") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw syntax("expected \",\" or \"]\" in the array, found \(describeHere())")
        }
    }

    /// A number by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func number() throws -> JSONValue {
        let start = i
        func digits() -> Int { let s = i; while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }; return i - s }
        if bytes[i] == UInt8(ascii: "-") {
            i += 1
            let w = i
            while i < bytes.count, (bytes[i] >= 0x41 && bytes[i] <= 0x5A) || (bytes[i] >= 0x61 && bytes[i] <= 0x7A) { i += 1 }
            let word = String(decoding: bytes[w..<i], as: UTF8.self)
            if ["Infinity", "infinity", "inf", "Inf"].contains(word) {
                throw StrictJSONError.notANumber(path: path, token: "-" + word, at: position(start))
            }
            i = w
        }
        guard i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 else { throw syntax("expected a digit after \"-\", found \(describeHere())") }
        if bytes[i] == 0x30 {
            i += 1
            if i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { throw syntax("a number cannot start with 0 followed by digits", at: start) }
        } else { _ = digits() }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw syntax("expected a digit after the decimal point, found \(describeHere())") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw syntax("expected a digit in the exponent, found \(describeHere())") }
        }
        // The grammar is checked; strtod rounds correctly (C locale: the decimal point is ".").
        let v: Double = withUnsafeTemporaryAllocation(of: CChar.self, capacity: i - start + 1) { buf in
            for k in start..<i { buf[k - start] = CChar(bitPattern: bytes[k]) }
            buf[i - start] = 0
            return strtod(buf.baseAddress!, nil)
        }
        guard v.isFinite else {
            throw StrictJSONError.overflow(path: path, text: String(decoding: bytes[start..<i], as: UTF8.self), at: position(start))
        }
        return .number(v)
    }

    /// A string with JSON's escapes (surrogate pairs joined; raw control characters refused).
    private mutating func string() throws -> String {
        let open = i
        i += 1
        var out = [UInt8]()
        while true {
            guard i < bytes.count else { throw syntax("the string is not closed (missing \")", at: open) }
            let b = bytes[i]
            if b == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if b < 0x20 { throw syntax("a control character inside a string must be escaped (\\n, \\t, \\u00XX)") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw syntax("the string is not closed (missing \")", at: open) }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw syntax("a \\u high surrogate must be followed by a low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw syntax("\\u escape of a lone surrogate") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                i -= 1
                throw syntax("unknown escape \"\\\(String(decoding: [e], as: UTF8.self))\" in a string")
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        let isHex: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) || ($0 >= 0x61 && $0 <= 0x66) }
        guard i + 4 <= bytes.count, bytes[i..<(i + 4)].allSatisfy(isHex),
              let v = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else {
            throw syntax("expected four hexadecimal digits after \\u")
        }
        i += 4
        return v
    }
}
