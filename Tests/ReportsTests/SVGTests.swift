import Foundation
import Testing
@testable import Reports
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Records the first element name; XMLParser reports errors through `parserError`.
final class RootRecorder: NSObject, XMLParserDelegate {
    var root: String?
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if root == nil { root = elementName }
    }
}

/// Checks that `svg` is well-formed XML with an `svg` root (XMLParser: on Linux `XMLDocument`
/// recovers from errors silently, and `parse()` can return true while `parserError` is set),
/// and, independently, that its tags balance.
func expectWellFormed(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let parser = XMLParser(data: Data(svg.utf8))
    let recorder = RootRecorder()
    parser.delegate = recorder
    let ok = parser.parse()
    #expect(ok && parser.parserError == nil, "SVG is not well-formed: \(String(describing: parser.parserError))",
            sourceLocation: sourceLocation)
    #expect(recorder.root == "svg", sourceLocation: sourceLocation)
    // Tag balance, independent of the XML parser.
    var stack: [String] = []
    var rest = Substring(svg)
    while let open = rest.firstIndex(of: "<") {
        guard let close = rest[open...].firstIndex(of: ">") else { Issue.record("unclosed <", sourceLocation: sourceLocation); return }
        let tag = rest[rest.index(after: open)..<close]
        rest = rest[rest.index(after: close)...]
        if tag.hasPrefix("?") || tag.hasSuffix("/") { continue }
        let name = String(tag.split(separator: " ").first ?? "")
        if name.hasPrefix("/") {
            #expect(stack.popLast() == String(name.dropFirst()), "mismatched \(name)", sourceLocation: sourceLocation)
        } else { stack.append(name) }
    }
    #expect(stack.isEmpty, "unclosed tags \(stack)", sourceLocation: sourceLocation)
}

@Suite struct SVGTests {
    func phasePlot() -> LinePlot {
        var p = LinePlot(title: "SFT → RL → SFT", xLabel: "step", yLabel: "SFT loss <nats>", y2Label: "reward J")
        let steps = (0..<300).map(Double.init)
        p.series.append(PlotSeries(name: "L_SFT", xs: steps, ys: steps.map { 1 / (1 + $0 / 50) }, marker: .circle))
        p.series.append(PlotSeries(name: "J & reward", xs: steps, ys: steps.map { $0 == 150 ? .nan : sin($0 / 40) },
                                   dashed: true, axis: .right))
        p.verticalMarkers = [VerticalMarker(x: 100, label: "SFT | RL"), VerticalMarker(x: 200, label: "RL | SFT")]
        p.referenceLines = [ReferenceLine(y: 0.5, label: "base model")]
        p.shadedIntervals = [ShadedInterval(from: 100, to: 200, label: "RL phase")]
        return p
    }

    @Test func linePlotContainsLabelsAndIsWellFormed() {
        let svg = phasePlot().render()
        expectWellFormed(svg)
        for s in ["SFT → RL → SFT", "step", "SFT loss &lt;nats&gt;", "reward J", "L_SFT", "J &amp; reward",
                  "SFT | RL", "RL | SFT", "base model", "RL phase", "stroke-dasharray"] {
            #expect(svg.contains(s), "missing \(s)")
        }
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        // The NaN at step 150 breaks the dashed series into two subpaths.
        let dashedPath = svg.split(separator: "\n").first { $0.hasPrefix("<path") && $0.contains("stroke-dasharray=\"7 4\"") }
        #expect(dashedPath?.components(separatedBy: "M").count == 3)
    }

    @Test func deterministicBytes() {
        #expect(Data(phasePlot().render().utf8) == Data(phasePlot().render().utf8))
    }

    @Test func degenerateSeries() {
        var p = LinePlot(title: "edge cases", xLabel: "x", yLabel: "y")
        p.series.append(PlotSeries(name: "empty", xs: [], ys: []))
        p.series.append(PlotSeries(name: "constant", xs: [0, 1, 2], ys: [3, 3, 3]))
        p.series.append(PlotSeries(name: "single", xs: [1], ys: [3.1]))
        p.series.append(PlotSeries(name: "all missing", xs: [0, 1], ys: [.nan, .infinity]))
        let svg = p.render()
        expectWellFormed(svg)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        #expect(svg.contains("<circle"))  // the single point is drawn
        #expect(svg.contains(">empty</text>") && svg.contains(">all missing</text>"))  // legend keeps them

        var nothing = LinePlot(title: "nothing", xLabel: "x", yLabel: "y")
        nothing.series.append(PlotSeries(name: "", ys: []))
        expectWellFormed(nothing.render())
    }

    @Test func logAxisAndScatter() {
        var p = LinePlot(title: "margin vs β", xLabel: "β", yLabel: "margin")
        p.xScale = .log
        p.series.append(.scatter(name: "instances", xs: [0.001, 0.01, 0, -1, 10], ys: [1, 2, 3, 4, 5], marker: .diamond))
        let svg = p.render()
        expectWellFormed(svg)
        for label in ["0.001", "0.01", "0.1", "10"] { #expect(svg.contains(">\(label)</text>"), "tick \(label)") }
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 3 + 1)  // 3 drawable points + legend glyph
    }

    @Test func fixedRangeKeepsBoundsAndDropsOuterTicks() {
        var p = LinePlot(title: "fixed", xLabel: "x", yLabel: "y")
        p.series.append(PlotSeries(name: "s", xs: [0, 10, 20], ys: [-3, 0.25, 9]))
        p.yRange = 0...0.45  // nice ticks would run to 0.5; the fixed range must cut them at 0.4
        let svg = p.render()
        expectWellFormed(svg)
        #expect(svg.contains(">0.4</text>") && svg.contains(">0.0</text>") && !svg.contains(">0.5</text>"))
        #expect(svg.contains("clip-path=\"url(#plot-area)\""))
    }

    @Test func simplexCoordinates() throws {
        let e0 = try #require(SimplexPlot.cartesian(SIMD3(1, 0, 0)))
        let e1 = try #require(SimplexPlot.cartesian(SIMD3(0, 1, 0)))
        let e2 = try #require(SimplexPlot.cartesian(SIMD3(0, 0, 1)))
        #expect(e0 == (0, 0) && e1 == (1, 0))
        #expect(e2.x == 0.5 && abs(e2.y - 3.0.squareRoot() / 2) < 1e-15)
        let c = try #require(SimplexPlot.cartesian(SIMD3(1, 1, 1)))  // unnormalised weights work
        #expect(abs(c.x - 0.5) < 1e-15 && abs(c.y - 3.0.squareRoot() / 6) < 1e-15)
        #expect(SimplexPlot.cartesian(SIMD3(0, 0, 0)) == nil && SimplexPlot.cartesian(SIMD3(.nan, 1, 0)) == nil)
    }

    @Test func simplexPlotRenders() {
        var s = SimplexPlot(title: "flow", vertexLabels: ["y₀", "y₁ <best>", "y₂"])
        var grid: [SIMD3<Double>] = []
        for i in 0...6 { for j in 0...(6 - i) { grid.append(SIMD3(Double(i), Double(j), Double(6 - i - j)) / 6) } }
        s.field = grid.map { p in SimplexArrow(point: p, direction: SIMD3(0, 1, 0) * p.y - p * p.y) }
        s.trajectories.append(SimplexTrajectory(name: "SFT→RL", points: (0...20).map { t in
            let a = Double(t) / 20; return SIMD3(0.6 - 0.5 * a, 0.2 + 0.6 * a, 0.2 - 0.1 * a) }))
        s.trajectories.append(SimplexTrajectory(name: "broken", points: [SIMD3(1, 0, 0), SIMD3(.nan, 0, 0), SIMD3(0, 0, 1)]))
        s.points.append(SimplexPoint(SIMD3(1, 1, 1) / 3, label: "π_ref"))
        let svg = s.render()
        expectWellFormed(svg)
        for label in ["y₀", "y₁ &lt;best&gt;", "y₂", "SFT→RL", "π_ref", "class=\"field\""] { #expect(svg.contains(label), "missing \(label)") }
        #expect(!svg.contains("nan"))
        #expect(svg == s.render())
    }

    @Test func pixelFormatting() {
        #expect(px(3) == "3.00" && px(-2.5) == "-2.50" && px(0.07) == "0.07" && px(12.3) == "12.30")
        #expect(px(-0.004) == "0.00" && px(.nan) == "0.00" && px(1e9) == "1000000.00" && px(-1e9) == "-1000000.00")
    }

    @Test func xmlEscaping() {
        #expect(xmlEscape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
    }

    @Test func writesFile() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("p.svg")
        try phasePlot().write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == phasePlot().render())
    }
}
