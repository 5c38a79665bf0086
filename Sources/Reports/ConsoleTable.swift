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
    var cells: TableCells
    public var columns: [String] { cells.columns }
    /// One per column; default all `.left`.
    public var alignments: [ColumnAlignment] { cells.alignments }
    public var rows: [[String]] { cells.rows }

    public init(columns: [String], alignments: [ColumnAlignment]? = nil) {
        cells = TableCells(columns: columns, alignments: alignments)
    }

    /// Appends a row (at most `columns.count` cells; missing ones are empty). Line breaks in a
    /// cell are replaced by spaces so each row stays on one line.
    public mutating func append(_ row: [String]) {
        cells.append(row.map { cell in String(cell.map { $0.isNewline ? " " : $0 }) })
    }

    /// The table: header, a rule of `-`, then the rows.
    public func render() -> String {
        let widths = TableCells.widths(header: columns, rows: rows)
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
