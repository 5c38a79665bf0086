import Foundation
import Testing
@testable import Reports
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Checks that `svg` is well-formed XML (FoundationXML when present, else a tag-balance check).
func expectWellFormed(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #if canImport(FoundationXML) || os(macOS)
    do {
        let doc = try XMLDocument(xmlString: svg, options: [])
        #expect(doc.rootElement()?.name == "svg", sourceLocation: sourceLocation)
    } catch {
        Issue.record("SVG is not well-formed: \(error)", sourceLocation: sourceLocation)
    }
    #endif
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
