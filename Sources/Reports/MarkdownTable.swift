/// Markdown (GitHub-flavoured) tables with per-column alignment.
///
/// Cells are escaped so the table structure survives any text: `|` becomes `\|`, a line break
/// becomes `<br>`. Columns are padded to equal width so the source reads as a table too.
/// Rows shorter than the header are padded with empty cells; longer rows are a programming error.

/// Horizontal alignment of a table column.
public enum ColumnAlignment: Sendable, Equatable {
    case left, center, right
}

/// A Markdown table.
///
/// ```swift
/// var t = MarkdownTable(columns: ["claim", "margin"], alignments: [.left, .right])
/// t.append(["Thm 3.1", formatMargin(3.2e-4)])
/// print(t.render())
/// ```
public struct MarkdownTable: Equatable, Sendable {
    var cells: TableCells
    public var columns: [String] { cells.columns }
    /// One per column; default all `.left`.
    public var alignments: [ColumnAlignment] { cells.alignments }
    public var rows: [[String]] { cells.rows }

    public init(columns: [String], alignments: [ColumnAlignment]? = nil) {
        cells = TableCells(columns: columns, alignments: alignments)
    }

    /// Appends a row (at most `columns.count` cells; missing ones are empty).
    public mutating func append(_ row: [String]) { cells.append(row) }

    /// Escapes one cell: `\|` for `|`, `<br>` for line breaks.
    public static func escape(_ cell: String) -> String {
        var out = ""
        for ch in cell {
            switch ch {
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += "<br>"
            default: out.append(ch)
            }
        }
        return out
    }

    /// The table as Markdown, one line per row, each ended by `\n`.
    public func render() -> String {
        let header = columns.map(MarkdownTable.escape)
        let body = rows.map { $0.map(MarkdownTable.escape) }
        let widths = TableCells.widths(header: header, rows: body, minimum: 3)
        func line(_ cells: [String]) -> String {
            "| " + cells.enumerated().map { j, c in pad(c, widths[j], alignments[j]) }.joined(separator: " | ") + " |\n"
        }
        var out = line(header)
        out += "|" + alignments.enumerated().map { j, a -> String in
            let w = widths[j]
            switch a {
            case .left: return ":" + String(repeating: "-", count: w + 1)
            case .center: return ":" + String(repeating: "-", count: w) + ":"
            case .right: return String(repeating: "-", count: w + 1) + ":"
            }
        }.joined(separator: "|") + "|\n"
        for r in body { out += line(r) }
        return out
    }
}

/// The columns, alignments and rows shared by `ConsoleTable` and `MarkdownTable`.
struct TableCells: Equatable, Sendable {
    let columns: [String]
    let alignments: [ColumnAlignment]
    private(set) var rows: [[String]] = []

    init(columns: [String], alignments: [ColumnAlignment]?) {
        precondition(!columns.isEmpty, "a table needs at least one column")
        let a = alignments ?? Array(repeating: .left, count: columns.count)
        precondition(a.count == columns.count, "\(a.count) alignments for \(columns.count) columns")
        self.columns = columns
        self.alignments = a
    }

    /// Appends a row of at most `columns.count` cells, padding missing ones with empty cells.
    mutating func append(_ row: [String]) {
        precondition(row.count <= columns.count, "row has \(row.count) cells, table has \(columns.count) columns")
        rows.append(row + Array(repeating: "", count: columns.count - row.count))
    }

    /// The width of each column: its widest cell (header included), at least `minimum`.
    static func widths(header: [String], rows: [[String]], minimum: Int = 0) -> [Int] {
        var w = header.map { max($0.count, minimum) }
        for r in rows { for (j, c) in r.enumerated() { w[j] = max(w[j], c.count) } }
        return w
    }
}

/// `s` padded with spaces to `width` characters according to `alignment`.
func pad(_ s: String, _ width: Int, _ alignment: ColumnAlignment) -> String {
    let n = max(0, width - s.count)
    switch alignment {
    case .left: return s + String(repeating: " ", count: n)
    case .right: return String(repeating: " ", count: n) + s
    case .center:
        let l = n / 2
        return String(repeating: " ", count: l) + s + String(repeating: " ", count: n - l)
    }
}
