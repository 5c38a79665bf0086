/// Deterministic JSON output: sorted keys, pretty printing, non-finite doubles as strings.
///
/// JSON has no NaN or infinity. Rather than failing (the encoder's default), every encoder made
/// here writes them as the *strings* `"nan"`, `"inf"` and `"-inf"` (and decodes those strings
/// back to the Double values). A reader in Python can map them with
/// `float(v) if isinstance(v, str) else v`.
import Foundation

/// The encoder every report uses: `.sortedKeys`, `.prettyPrinted`, `.withoutEscapingSlashes`,
/// non-finite doubles as `"nan"` / `"inf"` / `"-inf"`. Same value → same bytes.
public func makeJSONEncoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    e.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return e
}

/// The matching decoder: reads `"nan"` / `"inf"` / `"-inf"` strings back into Double fields.
public func makeJSONDecoder() -> JSONDecoder {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return d
}

/// `value` as pretty, key-sorted JSON (see `makeJSONEncoder`), ending with a newline.
/// Throws only if `value`'s own `encode(to:)` throws; non-finite doubles never throw.
public func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
    var data = try makeJSONEncoder().encode(value)
    data.append(0x0A)
    return data
}

/// A manifest's `encodeJSON` bytes, written directly by `Manifest.prettyJSON()` (same bytes,
/// without the Encoder's cost on large `extra` arrays).
public func encodeJSON(_ value: Manifest) throws -> Data { Data(value.prettyJSON()) }

/// Encodes `value` with `encodeJSON` and writes it to `url` atomically.
public func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    try writeAtomically(encodeJSON(value), to: url)
}

/// Writes a manifest atomically through its direct writer (same bytes as the generic path).
public func writeJSON(_ value: Manifest, to url: URL) throws {
    try writeAtomically(encodeJSON(value), to: url)
}

/// A free-form JSON value for manifests and metadata (named apart from StrictJSON's `JSONValue`,
/// the tree of a parsed input file).
///
/// Integers that fit `Int` decode as `.integer`, other numbers as `.number` (so a whole-valued
/// `.number(2.0)`, written `2`, reads back as `.integer(2)`). A `.number` holding
/// NaN or ±∞ encodes as the string `"nan"` / `"inf"` / `"-inf"` (and so decodes as `.string`).
public enum ReportJSON: Codable, Equatable, Sendable, ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    case array([ReportJSON])
    case object([String: ReportJSON])

    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: ReportJSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, ReportJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let n = try? c.decode(Int.self) { self = .integer(n); return }
        if let x = try? c.decode(Double.self) { self = .number(x); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([ReportJSON].self) { self = .array(a); return }
        if let o = try? c.decode([String: ReportJSON].self) { self = .object(o); return }
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let n): try c.encode(n)
        case .number(let x): try c.encode(x)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// What produced a data set: enough to regenerate it byte for byte.
///
/// Encoded keys: `command` (argv as an array), `version`, `commit` (omitted when unknown), `seed` (omitted when nil),
/// `created_by`, `extra` (free-form), `timing` (omitted when nil). Nothing here reads the clock:
/// wall-clock facts go only in the optional `timing`, which callers leave nil for files that must
/// be byte-identical across runs.
///
/// ```swift
/// let m = Manifest(command: CommandLine.arguments, version: "0.1.0", seed: 42, extra: ["claims": 12])
/// try writeJSON(m, to: dir.appendingPathComponent("manifest.json"))
/// ```
public struct Manifest: Codable, Equatable, Sendable {
    /// Wall-clock facts; never part of a byte-identical file.
    public struct Timing: Codable, Equatable, Sendable {
        /// ISO 8601 start time, as the caller formats it.
        public var startedAt: String?
        /// Elapsed wall time in seconds.
        public var wallSeconds: Double?

        public init(startedAt: String? = nil, wallSeconds: Double? = nil) {
            self.startedAt = startedAt
            self.wallSeconds = wallSeconds
        }

        /// A start time as `started_at`, ISO 8601 in UTC to the second ("2026-12-06T02:56:02Z", what
        /// Foundation's `ISO8601DateFormatter` gives by default), with elapsed seconds. Formatted
        /// from `gmtime_r` directly: the first ISO8601DateFormatter of a process loads the time-zone
        /// and calendar data, about 1 ms of a 20 ms `sftrl flow`.
        public init(started: Date, wallSeconds: Double? = nil) {
            self.init(startedAt: Self.iso8601(started), wallSeconds: wallSeconds)
        }

        /// `date` as "yyyy-MM-ddTHH:mm:ssZ" in UTC (seconds rounded down).
        public static func iso8601(_ date: Date) -> String {
            var t = time_t(date.timeIntervalSince1970.rounded(.down))
            var c = tm()
            gmtime_r(&t, &c)
            func pad(_ v: Int32, _ width: Int) -> String {
                let d = String(v)
                return String(repeating: "0", count: max(0, width - d.count)) + d
            }
            return "\(pad(c.tm_year + 1900, 4))-\(pad(c.tm_mon + 1, 2))-\(pad(c.tm_mday, 2))T\(pad(c.tm_hour, 2)):\(pad(c.tm_min, 2)):\(pad(c.tm_sec, 2))Z"
        }

        enum CodingKeys: String, CodingKey {
            case startedAt = "started_at"
            case wallSeconds = "wall_seconds"
        }
    }

    /// The command line, one element per argument (argv[0] first).
    public var command: [String]
    /// The tool's version string.
    public var version: String
    /// The git commit of the checkout that wrote the file (``sftrlCommit``; omitted when unknown).
    public var commit: String?
    /// The seed of the random generator, if the output depends on one.
    public var seed: UInt64?
    /// Who wrote the file; default `"sftrl"`.
    public var createdBy: String
    /// Anything else (parameters, counts, file list). Keys are sorted on output.
    public var extra: [String: ReportJSON]
    /// Optional timing; leave nil for reproducible output.
    public var timing: Timing?

    public init(command: [String], version: String, commit: String? = sftrlCommit, seed: UInt64? = nil, createdBy: String = "sftrl",
                extra: [String: ReportJSON] = [:], timing: Timing? = nil) {
        self.command = command
        self.version = version
        self.commit = commit
        self.seed = seed
        self.createdBy = createdBy
        self.extra = extra
        self.timing = timing
    }

    /// The command as one shell line; arguments with spaces or shell characters are single-quoted.
    public var commandLine: String {
        command.map { arg in
            let safe = !arg.isEmpty && arg.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
            return safe ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }

    enum CodingKeys: String, CodingKey {
        case command, version, commit, seed, extra, timing
        case createdBy = "created_by"
    }
}
