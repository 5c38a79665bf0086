import Foundation
import Testing
@testable import Reports

/// A tiny RFC 4180 parser for checking output (quoted fields, doubled quotes, \n line ends).
func parseCSV(_ text: String) -> [[String]] {
    var rows: [[String]] = [], row: [String] = [], field = ""
    var inQuotes = false, i = text.startIndex
    while i < text.endIndex {
        let c = text[i]
        if inQuotes {
            if c == "\"" {
                let next = text.index(after: i)
                if next < text.endIndex && text[next] == "\"" { field.append("\""); i = next } else { inQuotes = false }
            } else { field.append(c) }
        } else if c == "\"" { inQuotes = true
        } else if c == "," { row.append(field); field = ""
        } else if c == "\n" { row.append(field); rows.append(row); row = []; field = ""
        } else { field.append(c) }
        i = text.index(after: i)
    }
    if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
    return rows
}

@Suite struct CSVTests {
    @Test func quotingFollowsRFC4180() {
        #expect(CSVTable.quote("plain") == "plain")
        #expect(CSVTable.quote("a,b") == "\"a,b\"")
        #expect(CSVTable.quote("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVTable.quote("two\nlines") == "\"two\nlines\"")
        #expect(CSVTable.quote("crlf\r\n") == "\"crlf\r\n\"")
        #expect(CSVTable.quote(" padded") == "\" padded\"")
    }

    @Test func layoutAndRoundTrip() {
        let tricky = ["a,b", "q\"uote", "multi\nline", "π_ref", ""]
        let doubles: [Double] = [0.1, 1.0 / 3.0, -0.0, 1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 123456789.125, -2.5e-7]
        var t = CSVTable(columns: ["name", "value", "n"])
        for (k, (s, x)) in zip(tricky + tricky, doubles).enumerated() { t.append([.string(s), .double(x), .int(k - 3)]) }
        let text = t.render()
        #expect(text.hasPrefix("name,value,n\n"))
        #expect(text.hasSuffix("\n") && !text.contains("\r\n"))
        let parsed = parseCSV(text)
        #expect(parsed.count == doubles.count + 1)
        for (k, row) in parsed.dropFirst().enumerated() {
            guard row.count == 3 else { Issue.record("row \(k) has \(row.count) fields: \(row)"); continue }
            #expect(row[0] == (tricky + tricky)[k])
            #expect(Double(row[1]) == doubles[k], "row \(k): \(row[1])")
            #expect(Int(row[2]) == k - 3)
        }
    }

    @Test func nonFiniteAndMissing() {
        let t = CSVTable(columns: ["x", "y"], rows: [[.double(.nan), .double(.infinity)], [.double(-.infinity), .missing], [true, 2]])
        #expect(t.render() == "x,y\nnan,inf\n-inf,\ntrue,2\n")
    }

    @Test func sameInputSameBytes() {
        func make() -> String {
            var t = CSVTable(columns: ["step", "loss"])
            t.appendColumns([(0..<50).map(Double.init), (0..<50).map { exp(-Double($0) / 7) }])
            return t.render()
        }
        #expect(Data(make().utf8) == Data(make().utf8))
        #expect(make().split(separator: "\n")[1] == "0.0,1.0")
    }

    @Test func writesAtomically() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t.csv")
        try CSVTable(columns: ["a"], rows: [[1]]).write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "a\n1\n")
    }
}
