/// Plain-text tables for the terminal (`sftrl check`, `sftrl bench`).
///
/// Columns are separated by two spaces and padded to their widest cell; a dashed rule separates
/// the header from the body. No trailing spaces, no colour codes, every line ends with `\n`, so the
/// output is stable and diffable. Widths count Characters (grapheme clusters).

/// An aligned plain-text table.
///
/// ```swift
/// var t = ConsoleTable(columns: ["claim", "n", "min margin"], alignments: [.left, .right, .right])
/// t.append(["thm-3.1", "1000", formatMargin(1.2e-3)])
/// print(t.render(), terminator: "")
/// ```
public struct ConsoleTable: Equatable, Sendable {
    public let columns: [String]
    /// One per column; default all `.left`.
    public let alignments: [ColumnAlignment]
    public private(set) var rows: [[String]] = []

    public init(columns: [String], alignments: [ColumnAlignment]? = nil) {
        precondition(!columns.isEmpty, "a table needs at least one column")
        let a = alignments ?? Array(repeating: .left, count: columns.count)
        precondition(a.count == columns.count, "\(a.count) alignments for \(columns.count) columns")
        self.columns = columns
        self.alignments = a
    }

    /// Appends a row (at most `columns.count` cells; missing ones are empty). Line breaks in a
    /// cell are replaced by spaces so each row stays on one line.
    public mutating func append(_ row: [String]) {
        precondition(row.count <= columns.count, "row has \(row.count) cells, table has \(columns.count) columns")
        let clean = row.map { cell in String(cell.map { $0.isNewline ? " " : $0 }) }
        rows.append(clean + Array(repeating: "", count: columns.count - row.count))
    }

    /// The table: header, a rule of `-`, then the rows.
    public func render() -> String {
        var widths = columns.map(\.count)
        for r in rows { for (j, c) in r.enumerated() { widths[j] = max(widths[j], c.count) } }
        func line(_ cells: [String]) -> String {
            let s = cells.enumerated().map { j, c in pad(c, widths[j], alignments[j]) }.joined(separator: "  ")
            return String(s.reversed().drop(while: { $0 == " " }).reversed()) + "\n"
        }
        var out = line(columns)
        out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        for r in rows { out += line(r) }
        return out
    }
}
