/// A direct writer for `ReportJSON` trees and `Manifest`s that produces exactly the bytes of
/// `makeJSONEncoder()` (sorted keys, two-space pretty printing, `"key" : value`, unescaped slashes,
/// non-finite doubles as `"nan"` / `"inf"` / `"-inf"`) without the `Encoder` machinery, which
/// dominates the cost of manifests holding hundreds of thousands of numbers (a flow's final θ).
///
/// Byte equality with `JSONEncoder` is a tested contract (ReportsTests/JSONWriterTests: random
/// trees and manifests), so callers may use either.

/// Pretty JSON bytes, one value at a time.
struct PrettyJSONWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity n: Int = 4096) { bytes.reserveCapacity(n) }

    private mutating func newline(_ depth: Int) {
        bytes.append(0x0A)
        bytes.append(contentsOf: repeatElement(UInt8(0x20), count: 2 * depth))
    }

    private mutating func ascii(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// A JSON string: `"` and `\` escaped, \b \t \n \f \r by name, other controls as \u00xx.
    mutating func string(_ s: String) {
        bytes.append(0x22)
        for c in s.utf8 {
            switch c {
            case 0x22: ascii("\\\"")
            case 0x5C: ascii("\\\\")
            case 0x08: ascii("\\b")
            case 0x09: ascii("\\t")
            case 0x0A: ascii("\\n")
            case 0x0C: ascii("\\f")
            case 0x0D: ascii("\\r")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                ascii("\\u00")
                bytes.append(hex[Int(c >> 4)])
                bytes.append(hex[Int(c & 15)])
            default: bytes.append(c)
            }
        }
        bytes.append(0x22)
    }

    /// A double as JSONEncoder writes it: Swift's shortest round-trip `description` without a
    /// trailing ".0"; NaN and ±∞ as the strings "nan", "inf", "-inf".
    mutating func number(_ x: Double) {
        if x.isNaN { ascii("\"nan\""); return }
        if x.isInfinite { if x < 0 { ascii("\"-inf\"") } else { ascii("\"inf\"") }; return }
        let d = x.description.utf8
        if d.count > 2, d.suffix(2).elementsEqual(".0".utf8) {
            bytes.append(contentsOf: d.dropLast(2))
        } else {
            bytes.append(contentsOf: d)
        }
    }

    mutating func integer<I: BinaryInteger>(_ n: I) { bytes.append(contentsOf: n.description.utf8) }

    /// An object from already-sorted (key, writer) pairs; empty objects print as JSONEncoder's
    /// "{", blank line, "}".
    mutating func object(depth: Int, _ members: [(key: String, write: (inout PrettyJSONWriter) -> Void)]) {
        bytes.append(0x7B)
        if members.isEmpty { newline(0); newline(depth); bytes.append(0x7D); return }
        for (i, m) in members.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            newline(depth + 1)
            string(m.key)
            ascii(" : ")
            m.write(&self)
        }
        newline(depth)
        bytes.append(0x7D)
    }

    mutating func array<C: Collection>(depth: Int, _ items: C, _ write: (inout PrettyJSONWriter, C.Element) -> Void) {
        bytes.append(0x5B)
        if items.isEmpty { newline(0); newline(depth); bytes.append(0x5D); return }
        var first = true
        for item in items {
            if !first { bytes.append(0x2C) }
            first = false
            newline(depth + 1)
            write(&self, item)
        }
        newline(depth)
        bytes.append(0x5D)
    }

    /// Any `ReportJSON`, keys sorted by their UTF-8 bytes (JSONEncoder's `.sortedKeys` order).
    mutating func value(_ v: ReportJSON, depth: Int) {
        switch v {
        case .null: ascii("null")
        case .bool(let b): if b { ascii("true") } else { ascii("false") }
        case .integer(let n): integer(n)
        case .number(let x): number(x)
        case .string(let s): string(s)
        case .array(let a): array(depth: depth, a) { w, e in w.value(e, depth: depth + 1) }
        case .object(let o):
            let keys = o.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            object(depth: depth, keys.map { k in (k, { w in w.value(o[k]!, depth: depth + 1) }) })
        }
    }
}

extension ReportJSON {
    /// The bytes `encodeJSON(self)` returns (pretty, sorted keys, final newline), written directly
    /// (the manifest writer's core, exposed to the tests that compare it with JSONEncoder).
    func prettyJSON() -> [UInt8] {
        var w = PrettyJSONWriter()
        w.value(self, depth: 0)
        return w.bytes + [0x0A]
    }
}

extension Manifest {
    /// The bytes `encodeJSON(self)` returns, written directly (no Encoder): keys command, commit
    /// (when known), created_by, extra, seed (when set), timing (when set), version.
    public func prettyJSON() -> [UInt8] {
        var w = PrettyJSONWriter()
        var members: [(key: String, write: (inout PrettyJSONWriter) -> Void)] = [
            ("command", { w in w.array(depth: 1, command) { w, s in w.string(s) } }),
        ]
        if let commit { members.append(("commit", { w in w.string(commit) })) }
        members.append(("created_by", { w in w.string(createdBy) }))
        members.append(("extra", { w in w.value(.object(extra), depth: 1) }))
        if let seed { members.append(("seed", { w in w.integer(seed) })) }
        if let timing {
            var t: [(key: String, write: (inout PrettyJSONWriter) -> Void)] = []
            if let s = timing.startedAt { t.append(("started_at", { w in w.string(s) })) }
            if let s = timing.wallSeconds { t.append(("wall_seconds", { w in w.number(s) })) }
            members.append(("timing", { w in w.object(depth: 1, t) }))
        }
        members.append(("version", { w in w.string(version) }))
        w.object(depth: 0, members)
        return w.bytes + [0x0A]
    }
}
