/// Tidy CSV tables that pandas `read_csv` reads with no options.
///
/// Format (fixed, so the same table always gives the same bytes):
/// - a header row with the column names, then one line per row, each line ended by `\n`
///   (also the last one); fields separated by `,`;
/// - RFC 4180 quoting: a field containing `,`, `"`, `\n` or `\r` (or beginning or ending with a
///   space) is wrapped in `"` and its `"` doubled; other fields are written bare;
/// - Doubles in Swift's shortest round-trip form (`0.1`, `1e-05`, `-0.0`), so
///   `Double(field) == value` exactly; NaN as `nan`, infinities as `inf` / `-inf`;
/// - Ints in decimal; `.missing` as an empty field (pandas reads it as NaN — and so it reads an
///   empty *string* cell too: pandas cannot tell the two apart without options).
import Foundation

/// One CSV cell. Literals work: `[1, 0.5, "sft"]` is `[.int(1), .double(0.5), .string("sft")]`.
public enum CSVCell: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    case double(Double)
    case int(Int)
    case string(String)
    /// An empty field (a missing value).
    case missing

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    /// Booleans are written as `true` / `false`, which pandas reads as bool.
    public init(booleanLiteral value: Bool) { self = .string(value ? "true" : "false") }

    /// The unquoted text of the cell.
    public var text: String {
        switch self {
        case .double(let x): return formatRoundTrip(x)
        case .int(let n): return String(n)
        case .string(let s): return s
        case .missing: return ""
        }
    }
}

/// A rectangular table with named columns, rendered as CSV.
///
/// ```swift
/// var t = CSVTable(columns: ["step", "phase", "loss"])
/// t.append([0, "sft", 0.693])
/// try t.write(to: URL(fileURLWithPath: "out/loss.csv"))
/// ```
public struct CSVTable: Equatable, Sendable {
    /// Column names, in order. Must be non-empty.
    public let columns: [String]
    /// Rows; every row has exactly `columns.count` cells.
    public private(set) var rows: [[CSVCell]]

    /// An empty table with these columns.
    public init(columns: [String]) {
        precondition(!columns.isEmpty, "a CSV table needs at least one column")
        self.columns = columns
        self.rows = []
    }

    /// A table from columns and rows; every row must have `columns.count` cells.
    public init(columns: [String], rows: [[CSVCell]]) {
        self.init(columns: columns)
        for r in rows { append(r) }
    }

    /// Appends a row. Precondition: `row.count == columns.count` (a programming error otherwise).
    public mutating func append(_ row: [CSVCell]) {
        precondition(row.count == columns.count,
                     "CSV row \(rows.count) has \(row.count) cells, expected \(columns.count) (\(columns.joined(separator: ",")))")
        rows.append(row)
    }

    /// Appends one row per index from equally long numeric columns, e.g. `appendColumns([xs, ys])`.
    /// Precondition: `values.count == columns.count` and all arrays have the same length.
    public mutating func appendColumns(_ values: [[Double]]) {
        precondition(values.count == columns.count, "got \(values.count) columns, expected \(columns.count)")
        let n = values.first?.count ?? 0
        precondition(values.allSatisfy { $0.count == n }, "columns have different lengths")
        for i in 0..<n { append(values.map { .double($0[i]) }) }
    }

    /// The CSV text (header plus rows, `\n` after every line).
    public func render() -> String {
        var out = ""
        out.reserveCapacity(64 * (rows.count + 1))
        out += columns.map(CSVTable.quote).joined(separator: ",")
        out += "\n"
        for row in rows {
            out += row.map { CSVTable.quote($0.text) }.joined(separator: ",")
            out += "\n"
        }
        return out
    }

    /// Writes `render()` to `url` atomically (see `writeAtomically`).
    public func write(to url: URL) throws {
        try writeAtomically(render(), to: url)
    }

    /// RFC 4180 quoting of one field: quoted when it holds `,` `"` CR LF or edge spaces.
    public static func quote(_ field: String) -> String {
        let needs = field.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
            || field.hasPrefix(" ") || field.hasSuffix(" ")
        guard needs else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
