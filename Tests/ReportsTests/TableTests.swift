import Testing
@testable import Reports

@Suite struct TableTests {
    @Test func markdownEscapesAndAligns() {
        var t = MarkdownTable(columns: ["claim", "margin", "ok"], alignments: [.left, .right, .center])
        t.append(["a|b", "+3.2e-04", "yes"])
        t.append(["two\nlines"])
        let lines = t.render().split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "| claim        |   margin | ok  |")
        #expect(lines[1] == "|:-------------|---------:|:---:|")
        #expect(lines[2] == "| a\\|b         | +3.2e-04 | yes |")
        #expect(lines[3] == "| two<br>lines |          |     |")
        #expect(lines.count == 5 && lines[4] == "")
        #expect(MarkdownTable.escape("x|y|z") == "x\\|y\\|z")
    }

    @Test func consoleTableAligns() {
        var t = ConsoleTable(columns: ["claim", "n", "min"], alignments: [.left, .right, .right])
        t.append(["thm-3.1", "1000", "+1.2e-03"])
        t.append(["lem", "7"])
        #expect(t.render() == """
            claim       n       min
            -------  ----  --------
            thm-3.1  1000  +1.2e-03
            lem         7

            """)
    }

    @Test func numberFormatting() {
        #expect(formatSignificant(0.00123456, digits: 3) == "0.00123")
        #expect(formatSignificant(1234567, digits: 3) == "1.23e+06")
        #expect(formatSignificant(.nan, digits: 3) == "nan")
        #expect(formatMargin(3.2e-4) == "+3.2e-04")
        #expect(formatMargin(-0.012, digits: 2) == "-1.20e-02")
        #expect(formatMargin(0) == "+0.0e+00" && formatMargin(-0.0) == "+0.0e+00")
        #expect(formatMargin(-.infinity) == "-inf")
        #expect(formatFixed(-0.001, decimals: 2) == "0.00")
        #expect(formatFixed(2.5, decimals: 2) == "2.50")
        #expect(formatDuration(2.14) == "2.1s" && formatDuration(125) == "2m05s" && formatDuration(3720) == "1h02m")
        #expect(formatRoundTrip(0.1) == "0.1" && formatRoundTrip(-.infinity) == "-inf")
    }
}
