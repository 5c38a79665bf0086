import Foundation

/// A fast reader and canonical writer for the plain instance schema, for instances of millions of
/// numbers (Foundation's JSONDecoder/JSONEncoder spend seconds on them).
///
/// Both are exact shortcuts, never a second schema: the reader accepts only documents made of the
/// keys of `InstanceFile` it knows (`beta`; `policy.kind`, `policy.features`, `policy.theta`;
/// `prompts[].weight`, `data`, `reward`, `reference`, `start`) in strict JSON, parses every number
/// with `strtod` (correctly rounded, as JSONDecoder does) and returns nil on anything else (another
/// key, an escape in a string, a duplicate key, a syntax error), so that the caller falls back to
/// JSONDecoder and its error messages. The writer reproduces JSONEncoder's `.sortedKeys` bytes
/// (each Double as its shortest round-trip `description`, a trailing ".0" dropped) and is used only
/// when the file holds nothing but those fields (checked by rebuilding it from them and comparing).
extension InstanceFile {
    /// Reads an instance file by the fast path when it applies, else by ``load(_:)``.
    public static func loadFast(_ url: URL) throws -> InstanceFile {
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return try load(url) }
        if let file = decodeFast(data) { return file }
        return try load(url)
    }

    /// Decodes JSON bytes by the fast path, or nil when it does not apply.
    public static func decodeFast(_ data: Data) -> InstanceFile? {
        data.withUnsafeBytes { bytes in
            var reader = FastInstanceReader(bytes: bytes)
            return reader.document()
        }
    }

    /// The bytes of ``canonicalJSON(pretty:)`` (compact form), written directly when the file holds
    /// only the fields this writer knows; identical bytes either way.
    public func canonicalJSONFast() -> Data {
        let rebuilt = InstanceFile(beta: beta, policy: PolicySpec(kind: policy.kind, features: policy.features, theta: policy.theta),
                                   prompts: prompts.map { Prompt(weight: $0.weight, data: $0.data, reward: $0.reward, reference: $0.reference, start: $0.start) })
        guard rebuilt == self, beta.isFinite, !policy.kind.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x2F || $0 >= 0x80 }) else {
            return canonicalJSON()
        }
        var out = [UInt8]()
        out.reserveCapacity(32 + prompts.reduce(0) { $0 + 20 * ($1.data.count * 4) })
        func text(_ s: String) { out.append(contentsOf: s.utf8) }
        var ok = true
        func number(_ x: Double) {
            guard x.isFinite else { ok = false; return }
            var s = x.description
            if s.hasSuffix(".0") { s.removeLast(2) }
            text(s)
        }
        func array(_ a: [Double]) {
            out.append(0x5B)
            for (i, x) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                number(x)
            }
            out.append(0x5D)
        }
        text("{\"beta\":"); number(beta)
        text(",\"policy\":{")
        if let f = policy.features {
            text("\"features\":[")
            for (i, p) in f.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(0x5B)
                for (j, v) in p.enumerated() {
                    if j > 0 { out.append(0x2C) }
                    array(v)
                }
                out.append(0x5D)
            }
            text("],")
        }
        text("\"kind\":\"\(policy.kind)\"")
        if let t = policy.theta { text(",\"theta\":"); array(t) }
        text("},\"prompts\":[")
        for (i, p) in prompts.enumerated() {
            if i > 0 { out.append(0x2C) }
            text("{\"data\":"); array(p.data)
            if let r = p.reference { text(",\"reference\":"); array(r) }
            text(",\"reward\":"); array(p.reward)
            if let s = p.start { text(",\"start\":"); array(s) }
            text(",\"weight\":"); number(p.weight)
            out.append(0x7D)
        }
        text("]}")
        return ok ? Data(out) : canonicalJSON()
    }
}

/// A strict recursive-descent reader of the plain instance schema over raw bytes (see
/// ``InstanceFile/loadFast(_:)``). Every method returns nil on anything it does not handle.
struct FastInstanceReader {
    let bytes: UnsafeRawBufferPointer
    var i = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func document() -> InstanceFile? {
        guard let file = instance() else { return nil }
        skipSpace()
        return i == bytes.count ? file : nil
    }

    // MARK: lexical

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func expect(_ c: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == c else { return false }
        i += 1
        return true
    }

    mutating func peek() -> UInt8? {
        skipSpace()
        return i < bytes.count ? bytes[i] : nil
    }

    /// A string without escapes or control characters.
    mutating func string() -> String? {
        guard expect(0x22) else { return nil }
        let start = i
        while i < bytes.count, bytes[i] != 0x22 {
            if bytes[i] == 0x5C || bytes[i] < 0x20 { return nil }
            i += 1
        }
        guard i < bytes.count else { return nil }
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        i += 1
        return s
    }

    /// A JSON number (strict grammar), parsed by strtod.
    mutating func number() -> Double? {
        skipSpace()
        let start = i
        func digits() -> Int { let s = i; while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }; return i - s }
        if i < bytes.count, bytes[i] == 0x2D { i += 1 }
        guard i < bytes.count else { return nil }
        if bytes[i] == 0x30 { i += 1 } else if digits() == 0 { return nil }
        if i < bytes.count, bytes[i] == 0x2E { i += 1; if digits() == 0 { return nil } }
        if i < bytes.count, bytes[i] == 0x65 || bytes[i] == 0x45 {
            i += 1
            if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }
            if digits() == 0 { return nil }
        }
        let n = i - start
        guard n < 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            for k in 0..<n { buf[k] = CChar(bitPattern: bytes[start + k]) }
            buf[n] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(buf.baseAddress!, &end)
            guard end == buf.baseAddress! + n, v.isFinite else { return nil }
            return v
        }
    }

    mutating func null() -> Bool {
        skipSpace()
        guard i + 4 <= bytes.count, bytes[i] == 0x6E, bytes[i + 1] == 0x75, bytes[i + 2] == 0x6C, bytes[i + 3] == 0x6C else { return false }
        i += 4
        return true
    }

    /// `[` element (`,` element)* `]` or `[]`.
    mutating func array<T>(_ element: (inout FastInstanceReader) -> T?) -> [T]? {
        guard expect(0x5B) else { return nil }
        var out: [T] = []
        if peek() == 0x5D { i += 1; return out }
        while true {
            guard let e = element(&self) else { return nil }
            out.append(e)
            if expect(0x2C) { continue }
            return expect(0x5D) ? out : nil
        }
    }

    mutating func numbers() -> [Double]? { array { $0.number() } }

    /// `{` "key": value, … `}` with each key handled by `field` (false = unknown key or bad value);
    /// duplicate keys are refused.
    mutating func fields(_ field: (inout FastInstanceReader, String) -> Bool) -> Bool {
        guard expect(0x7B) else { return false }
        var seen = Set<String>()
        if peek() == 0x7D { i += 1; return true }
        while true {
            guard let key = string(), !seen.contains(key), expect(0x3A), field(&self, key) else { return false }
            seen.insert(key)
            if expect(0x2C) { continue }
            return expect(0x7D)
        }
    }

    mutating func instance() -> InstanceFile? {
        var beta: Double?
        var policy: InstanceFile.PolicySpec?
        var prompts: [InstanceFile.Prompt]?
        let ok = fields { r, key in
            switch key {
            case "beta": beta = r.number(); return beta != nil
            case "policy": policy = r.policySpec(); return policy != nil
            case "prompts": prompts = r.array { $0.prompt() }; return prompts != nil
            default: return false
            }
        }
        guard ok, let beta, let policy, let prompts else { return nil }
        return InstanceFile(beta: beta, policy: policy, prompts: prompts)
    }

    mutating func optionalNumbers() -> [Double]?? {
        if null() { return .some(nil) }
        guard let a = numbers() else { return nil }
        return .some(a)
    }

    mutating func policySpec() -> InstanceFile.PolicySpec? {
        var kind: String?
        var features: [[[Double]]]?
        var theta: [Double]?
        let ok = fields { r, key in
            switch key {
            case "kind": kind = r.string(); return kind != nil
            case "features":
                if r.null() { return true }
                features = r.array { p in p.array { $0.numbers() } }
                return features != nil
            case "theta":
                guard let t = r.optionalNumbers() else { return false }
                theta = t
                return true
            default: return false
            }
        }
        guard ok, let kind else { return nil }
        return InstanceFile.PolicySpec(kind: kind, features: features, theta: theta)
    }

    mutating func prompt() -> InstanceFile.Prompt? {
        var weight: Double?
        var data: [Double]?, reward: [Double]?, reference: [Double]?, start: [Double]?
        let ok = fields { r, key in
            switch key {
            case "weight": weight = r.number(); return weight != nil
            case "data": data = r.numbers(); return data != nil
            case "reward": reward = r.numbers(); return reward != nil
            case "reference":
                guard let v = r.optionalNumbers() else { return false }
                reference = v
                return true
            case "start":
                guard let v = r.optionalNumbers() else { return false }
                start = v
                return true
            default: return false
            }
        }
        guard ok, let weight, let data, let reward else { return nil }
        return InstanceFile.Prompt(weight: weight, data: data, reward: reward, reference: reference, start: start)
    }
}
