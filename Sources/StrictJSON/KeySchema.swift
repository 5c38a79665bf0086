import Foundation

/// The keys a JSON document may use, level by level: a misspelt optional key (`refrence`) is an
/// error that names it and the nearest known key, instead of being ignored while its default is used.
/// Only keys are checked here; types and values are the decoder's and the validator's business.
public indirect enum KeySchema: Sendable {
    /// Anything goes below this point (values a decoder checks, free-form metadata).
    case any
    /// An object whose keys must be among these; each key's value follows its own schema.
    case object([String: KeySchema])
    /// An array whose every element follows this schema (a non-array is left to the decoder).
    case array(KeySchema)

    /// Throws `StrictJSONError.unknownKey` for the first key (in file order) the schema does not know.
    public func check(_ value: JSONValue, path: JSONPath = JSONPath()) throws {
        switch (self, value) {
        case let (.object(known), .object(members)):
            for m in members {
                guard let sub = known[m.key] else {
                    let names = known.keys.sorted()
                    throw StrictJSONError.unknownKey(path: path, key: m.key, suggestion: nearest(m.key, in: names), known: names)
                }
                try sub.check(m.value, path: path.appending(.key(m.key)))
            }
        case let (.array(element), .array(items)):
            for (k, v) in items.enumerated() { try element.check(v, path: path.appending(.index(k))) }
        default:
            return
        }
    }
}

/// The known name closest to `key` by edit distance (case-insensitive), when it is close enough
/// to be a likely misspelling: distance at most max(2, ⌊length/3⌋).
public func nearest(_ key: String, in names: [String]) -> String? {
    let k = Array(key.lowercased())
    var best: (String, Int)? = nil
    for n in names {
        let d = editDistance(k, Array(n.lowercased()))
        if d <= max(2, n.count / 3), d < (best?.1 ?? .max) { best = (n, d) }
    }
    return best?.0
}

/// Levenshtein distance (insertions, deletions, substitutions, each cost 1).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var prev = row[0]
        row[0] = i
        if b.isEmpty { continue }
        for j in 1...b.count {
            let cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = cur
        }
    }
    return row[b.count]
}

public enum StrictJSON {
    /// Reads `data` strictly (syntax, duplicates, NaN/overflow, unknown keys against `schema`), then
    /// decodes it with `JSONDecoder`. Decoding errors (missing keys, wrong types) pass through as
    /// `DecodingError` for the caller to phrase.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, schema: KeySchema) throws -> T {
        let value = try JSONParser.parse(data)
        try schema.check(value)
        return try JSONDecoder().decode(T.self, from: data)
    }
}
