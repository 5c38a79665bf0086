/// Line and scatter plots as SVG: training curves, margins against a parameter, phase diagrams.
///
/// A `LinePlot` has a left y axis and, when any series asks for it, a right one (e.g. SFT loss on
/// the left, reward on the right). Axis ranges default to nice numbers enclosing the data (and the
/// reference lines, markers and intervals); set `xRange` / `yRange` / `y2Range` to fix them.
/// Non-finite values (and non-positive x on a log axis) break a line rather than crash; an empty
/// series draws nothing but keeps its legend entry; a single finite point is drawn as a dot.
import Foundation

/// Which y axis a series or reference line belongs to.
public enum YAxisSide: Sendable, Equatable {
    case left, right
}

/// Where the legend box goes (inside the plot area), or `.hidden`.
public enum LegendPosition: Sendable, Equatable {
    case topRight, topLeft, bottomRight, bottomLeft, hidden
}

/// One curve: pairs `(xs[i], ys[i])` for `i < min(xs.count, ys.count)`.
public struct PlotSeries: Sendable {
    public var name: String
    public var xs: [Double]
    public var ys: [Double]
    /// An SVG colour; nil takes `Palette.color(index of the series)`.
    public var color: String?
    /// Dashed stroke (default solid).
    public var dashed: Bool
    /// Glyph drawn at every finite point (default none).
    public var marker: MarkerShape
    /// Draw the connecting line (default true; false with a marker gives a scatter plot).
    public var showLine: Bool
    /// Left (default) or right y axis.
    public var axis: YAxisSide
    /// Stroke width in pixels (default 1.8).
    public var lineWidth: Double

    public init(name: String, xs: [Double], ys: [Double], color: String? = nil, dashed: Bool = false,
                marker: MarkerShape = .none, showLine: Bool = true, axis: YAxisSide = .left,
                lineWidth: Double = 1.8) {
        self.name = name
        self.xs = xs
        self.ys = ys
        self.color = color
        self.dashed = dashed
        self.marker = marker
        self.showLine = showLine
        self.axis = axis
        self.lineWidth = lineWidth
    }

    /// A series against its index: xs = 0, 1, 2, …
    public init(name: String, ys: [Double], color: String? = nil, dashed: Bool = false,
                marker: MarkerShape = .none, axis: YAxisSide = .left) {
        self.init(name: name, xs: ys.indices.map(Double.init), ys: ys, color: color, dashed: dashed,
                  marker: marker, axis: axis)
    }

    /// Markers only, no line: a scatter series.
    public static func scatter(name: String, xs: [Double], ys: [Double], color: String? = nil,
                               marker: MarkerShape = .circle, axis: YAxisSide = .left) -> PlotSeries {
        PlotSeries(name: name, xs: xs, ys: ys, color: color, marker: marker, showLine: false, axis: axis)
    }
}

/// A labelled vertical line at `x` (e.g. a phase boundary "SFT | RL").
public struct VerticalMarker: Sendable {
    public var x: Double
    public var label: String
    public var color: String
    public var dashed: Bool
    public init(x: Double, label: String, color: String = "#444444", dashed: Bool = true) {
        self.x = x; self.label = label; self.color = color; self.dashed = dashed
    }
}

/// A labelled horizontal line at `y` on one axis (e.g. "base model").
public struct ReferenceLine: Sendable {
    public var y: Double
    public var label: String
    public var axis: YAxisSide
    public var color: String
    public var dashed: Bool
    public init(y: Double, label: String, axis: YAxisSide = .left, color: String = "#666666", dashed: Bool = true) {
        self.y = y; self.label = label; self.axis = axis; self.color = color; self.dashed = dashed
    }
}

/// A shaded band `from ≤ x ≤ to` across the plot (e.g. a training phase), with an optional label.
public struct ShadedInterval: Sendable {
    public var from: Double
    public var to: Double
    public var label: String?
    /// Fill colour (default light grey) at `opacity` (default 0.08).
    public var color: String
    public var opacity: Double
    public init(from: Double, to: Double, label: String? = nil, color: String = "#000000", opacity: Double = 0.08) {
        self.from = from; self.to = to; self.label = label; self.color = color; self.opacity = opacity
    }
}

/// A line (or scatter) plot rendered to SVG.
///
/// ```swift
/// var p = LinePlot(title: "SFT then RL", xLabel: "step", yLabel: "SFT loss", y2Label: "reward")
/// p.series.append(PlotSeries(name: "L_SFT", xs: steps, ys: loss))
/// p.series.append(PlotSeries(name: "J", xs: steps, ys: reward, dashed: true, axis: .right))
/// p.verticalMarkers.append(VerticalMarker(x: 100, label: "SFT | RL"))
/// try p.write(to: URL(fileURLWithPath: "out/curves.svg"))
/// ```
public struct LinePlot: Sendable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Label of the right axis; the right axis is drawn when a series uses `.right`.
    public var y2Label: String?
    public var series: [PlotSeries] = []
    public var verticalMarkers: [VerticalMarker] = []
    public var referenceLines: [ReferenceLine] = []
    public var shadedIntervals: [ShadedInterval] = []
    /// Linear (default) or log x axis.
    public var xScale: AxisScale = .linear
    /// Fixed axis ranges; nil (default) fits the data with nice ticks.
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    public var y2Range: ClosedRange<Double>?
    public var legend: LegendPosition = .topRight
    /// Size in pixels (default 720 × 450).
    public var width: Double = 720
    public var height: Double = 450

    public init(title: String, xLabel: String, yLabel: String, y2Label: String? = nil) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.y2Label = y2Label
    }

    /// Writes `render()` to `url` atomically.
    public func write(to url: URL) throws {
        try writeAtomically(render(), to: url)
    }

    var hasRightAxis: Bool {
        series.contains { $0.axis == .right } || referenceLines.contains { $0.axis == .right }
    }

    /// The finite data extent on an axis, or nil when there is nothing to fit.
    private func extent(_ values: [Double], log: Bool) -> (Double, Double)? {
        let v = values.filter { $0.isFinite && (!log || $0 > 0) }
        guard let lo = v.min(), let hi = v.max() else { return nil }
        return (lo, hi)
    }

    private func ticks(values: [Double], fixed: ClosedRange<Double>?, scale: AxisScale) -> AxisTicks {
        if let fixed {
            var t = scale == .log ? NiceTicks.log(lower: fixed.lowerBound, upper: fixed.upperBound)
                : NiceTicks.linear(lower: fixed.lowerBound, upper: fixed.upperBound)
            // Keep the user's range exactly; drop ticks outside it.
            let lo = fixed.lowerBound, hi = fixed.upperBound
            if hi > lo && (scale == .linear || lo > 0) {
                let keep = t.values.indices.filter { t.values[$0] >= lo - 1e-12 * abs(lo) && t.values[$0] <= hi + 1e-12 * abs(hi) }
                t = AxisTicks(lower: lo, upper: hi, values: keep.map { t.values[$0] }, labels: keep.map { t.labels[$0] })
            }
            return t
        }
        let e = extent(values, log: scale == .log)
        switch scale {
        case .linear: return NiceTicks.linear(lower: e?.0 ?? 0, upper: e?.1 ?? 1)
        case .log: return NiceTicks.log(lower: e?.0 ?? 1, upper: e?.1 ?? 10)
        }
    }

    /// The SVG document text.
    public func render() -> String {
        var doc = SVGDocument(width: width, height: height)
        let right = hasRightAxis
        let left = 74.0, top = 44.0, bottom = 58.0
        let rightMargin = right ? 74.0 : 24.0
        let x0 = left, x1 = width - rightMargin, y0 = height - bottom, y1 = top  // y0 is the bottom edge

        // Axis ranges.
        var xVals = series.flatMap { Array($0.xs.prefix(min($0.xs.count, $0.ys.count))) }
        xVals += verticalMarkers.map(\.x)
        xVals += shadedIntervals.flatMap { [$0.from, $0.to] }
        let leftY = series.filter { $0.axis == .left }.flatMap { Array($0.ys.prefix(min($0.xs.count, $0.ys.count))) }
            + referenceLines.filter { $0.axis == .left }.map(\.y)
        let rightY = series.filter { $0.axis == .right }.flatMap { Array($0.ys.prefix(min($0.xs.count, $0.ys.count))) }
            + referenceLines.filter { $0.axis == .right }.map(\.y)
        let xt = ticks(values: xVals, fixed: xRange, scale: xScale)
        let yt = ticks(values: leftY, fixed: yRange, scale: .linear)
        let y2t = ticks(values: rightY, fixed: y2Range, scale: .linear)
        // The axis ranges map to the frame inset by `inset` pixels, so points on the range ends
        // stay clear of the frame.
        let inset = 8.0
        let xm = AxisMap(lower: xt.lower, upper: xt.upper, p0: x0 + inset, p1: x1 - inset, scale: xScale)
        let ym = AxisMap(lower: yt.lower, upper: yt.upper, p0: y0 - inset, p1: y1 + inset, scale: .linear)
        let y2m = AxisMap(lower: y2t.lower, upper: y2t.upper, p0: y0 - inset, p1: y1 + inset, scale: .linear)

        doc.rect(0, 0, width, height, fill: "#ffffff")
        doc.text(width / 2, 26, title, size: 16, weight: "bold")
        doc.add("<defs><clipPath id=\"plot-area\"><rect x=\"\(px(x0))\" y=\"\(px(y1))\" width=\"\(px(x1 - x0))\" height=\"\(px(y0 - y1))\"/></clipPath></defs>")

        // Shaded intervals (clipped to the plot area), labels at the bottom of each band.
        for s in shadedIntervals {
            guard let a = xm(s.from), let b = xm(s.to) else { continue }
            let l = max(min(a, b), x0), r = min(max(a, b), x1)
            guard r > l else { continue }
            doc.rect(l, y1, r - l, y0 - y1, fill: s.color, fillOpacity: s.opacity)
            if let label = s.label { doc.text((l + r) / 2, y0 - 10, label, size: 11, fill: "#555555") }
        }

        // Grid, frame, ticks, labels.
        for v in xt.values { if let p = xm(v) { doc.line(p, y0, p, y1, stroke: "#e6e6e6") } }
        for v in yt.values { if let p = ym(v) { doc.line(x0, p, x1, p, stroke: "#e6e6e6") } }
        doc.rect(x0, y1, x1 - x0, y0 - y1, fill: "none", stroke: "#333333")
        for (v, label) in zip(xt.values, xt.labels) {
            guard let p = xm(v) else { continue }
            doc.line(p, y0, p, y0 + 5, stroke: "#333333")
            doc.text(p, y0 + 18, label, size: 11)
        }
        for (v, label) in zip(yt.values, yt.labels) {
            guard let p = ym(v) else { continue }
            doc.line(x0 - 5, p, x0, p, stroke: "#333333")
            doc.text(x0 - 8, p + 4, label, size: 11, anchor: "end")
        }
        if right {
            for (v, label) in zip(y2t.values, y2t.labels) {
                guard let p = y2m(v) else { continue }
                doc.line(x1, p, x1 + 5, p, stroke: "#333333")
                doc.text(x1 + 8, p + 4, label, size: 11, anchor: "start")
            }
            if let y2Label { doc.text(width - 18, (y0 + y1) / 2, y2Label, size: 13, rotate: 90) }
        }
        doc.text((x0 + x1) / 2, height - 16, xLabel, size: 13)
        doc.text(20, (y0 + y1) / 2, yLabel, size: 13, rotate: -90)

        // Reference lines and vertical markers.
        for r in referenceLines {
            guard let p = (r.axis == .left ? ym : y2m)(r.y), p >= y1 - 0.5, p <= y0 + 0.5 else { continue }
            doc.line(x0, p, x1, p, stroke: r.color, width: 1.2, dash: r.dashed ? "5 4" : nil)
            doc.text(r.axis == .left ? x1 - 6 : x0 + 6, p - 5, r.label, size: 11,
                     anchor: r.axis == .left ? "end" : "start", fill: r.color)
        }
        for m in verticalMarkers {
            guard let p = xm(m.x), p >= x0 - 0.5, p <= x1 + 0.5 else { continue }
            doc.line(p, y0, p, y1, stroke: m.color, width: 1.2, dash: m.dashed ? "5 4" : nil)
            doc.text(p + 4, y1 + 14, m.label, size: 11, anchor: "start", fill: m.color)
        }

        // Series, clipped.
        doc.add("<g clip-path=\"url(#plot-area)\">")
        for (i, s) in series.enumerated() {
            let color = s.color ?? Palette.color(i)
            let ymap = s.axis == .left ? ym : y2m
            var segments: [[(Double, Double)]] = []
            var current: [(Double, Double)] = []
            for k in 0..<min(s.xs.count, s.ys.count) {
                if let px = xm(s.xs[k]), let py = ymap(s.ys[k]) {
                    current.append((px, py))
                } else if !current.isEmpty {
                    segments.append(current); current = []
                }
            }
            if !current.isEmpty { segments.append(current) }
            if s.showLine {
                doc.path(segments, stroke: color, width: s.lineWidth, dash: s.dashed ? "7 4" : nil)
            }
            for seg in segments {
                if s.marker != .none {
                    for (a, b) in seg { doc.marker(s.marker, a, b, r: 3.2, color: color) }
                } else if seg.count == 1 {
                    doc.circle(seg[0].0, seg[0].1, r: 2.5, fill: color)  // an isolated point stays visible
                }
            }
        }
        doc.add("</g>")

        drawLegend(&doc, x0: x0, x1: x1, top: y1, bottom: y0)
        return doc.finish()
    }

    private func drawLegend(_ doc: inout SVGDocument, x0: Double, x1: Double, top: Double, bottom: Double) {
        let entries = series.enumerated().filter { !$0.element.name.isEmpty }
        guard legend != .hidden, !entries.isEmpty else { return }
        let rowH = 18.0, pad = 8.0, swatch = 26.0
        let textW = entries.map { textWidth($0.element.name, fontSize: 11) }.max() ?? 0
        let w = pad * 2 + swatch + 6 + textW, h = pad * 2 + rowH * Double(entries.count) - 4
        let bx: Double, by: Double
        switch legend {
        case .topLeft: bx = x0 + 10; by = top + 10
        case .bottomLeft: bx = x0 + 10; by = bottom - 10 - h
        case .bottomRight: bx = x1 - 10 - w; by = bottom - 10 - h
        default: bx = x1 - 10 - w; by = top + 10
        }
        doc.add("<g class=\"legend\">")
        doc.rect(bx, by, w, h, fill: "#ffffff", stroke: "#999999", fillOpacity: 0.9)
        for (row, (i, s)) in entries.enumerated() {
            let color = s.color ?? Palette.color(i)
            let cy = by + pad + 6 + rowH * Double(row)
            if s.showLine {
                doc.line(bx + pad, cy, bx + pad + swatch, cy, stroke: color, width: s.lineWidth, dash: s.dashed ? "7 4" : nil)
            }
            if s.marker != .none { doc.marker(s.marker, bx + pad + swatch / 2, cy, r: 3.2, color: color) }
            doc.text(bx + pad + swatch + 6, cy + 4, s.name, size: 11, anchor: "start")
        }
        doc.add("</g>")
    }
}
