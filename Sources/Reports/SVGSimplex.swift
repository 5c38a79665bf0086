/// Ternary plots of the 3-response probability simplex Δ² = {p ∈ ℝ³ : p ≥ 0, p₀ + p₁ + p₂ = 1}.
///
/// Coordinates: vertex e₀ is bottom-left (0, 0), e₁ bottom-right (1, 0), e₂ the apex (½, √3/2) of
/// a unit equilateral triangle; a point p maps to Σ pᵢ eᵢ / Σ pᵢ (barycentric). The centroid
/// (⅓, ⅓, ⅓) maps to (½, √3/6). Points are normalised by their sum, so unnormalised weights work;
/// a point with a non-finite entry or a non-positive sum is not drawn (it breaks a trajectory).
import Foundation

/// A trajectory on the simplex: a polyline with an open circle at the start and an arrowhead at the end.
public struct SimplexTrajectory: Sendable {
    public var name: String
    public var points: [SIMD3<Double>]
    /// nil takes `Palette.color(index)`.
    public var color: String?
    public var dashed: Bool
    /// Mark the start (open circle) and the end (arrowhead); default true.
    public var showEnds: Bool
    public init(name: String, points: [SIMD3<Double>], color: String? = nil, dashed: Bool = false, showEnds: Bool = true) {
        self.name = name; self.points = points; self.color = color; self.dashed = dashed; self.showEnds = showEnds
    }
}

/// A labelled point on the simplex (e.g. π_ref, the SFT optimum, a fixed point of the RL flow).
public struct SimplexPoint: Sendable {
    public var point: SIMD3<Double>
    public var label: String?
    public var color: String
    public var marker: MarkerShape
    public init(_ point: SIMD3<Double>, label: String? = nil, color: String = "#000000", marker: MarkerShape = .circle) {
        self.point = point; self.label = label; self.color = color; self.marker = marker
    }
}

/// One arrow of a background vector field: a base point and a tangent direction (components summing
/// to ≈ 0, e.g. the flow's velocity ṗ at `point`).
public struct SimplexArrow: Sendable {
    public var point: SIMD3<Double>
    public var direction: SIMD3<Double>
    public init(point: SIMD3<Double>, direction: SIMD3<Double>) {
        self.point = point; self.direction = direction
    }
}

/// A ternary plot of the probability simplex, rendered to SVG.
///
/// ```swift
/// var s = SimplexPlot(title: "RL flow", vertexLabels: ["y₀", "y₁", "y₂"])
/// s.field = grid.map { SimplexArrow(point: $0, direction: velocity($0)) }
/// s.trajectories.append(SimplexTrajectory(name: "SFT→RL", points: path))
/// s.points.append(SimplexPoint(SIMD3(1, 1, 1) / 3, label: "π_ref"))
/// try s.write(to: URL(fileURLWithPath: "out/simplex.svg"))
/// ```
public struct SimplexPlot: Sendable {
    public var title: String
    /// Labels of e₀ (bottom-left), e₁ (bottom-right), e₂ (top). Exactly three.
    public var vertexLabels: [String]
    public var trajectories: [SimplexTrajectory] = []
    public var points: [SimplexPoint] = []
    public var field: [SimplexArrow] = []
    /// Length of the longest field arrow as a fraction of the triangle side (default 0.045).
    public var fieldArrowLength: Double = 0.045
    /// When true (default) arrow lengths are proportional to |direction| (longest = `fieldArrowLength`);
    /// when false every arrow has the full length and only shows the direction.
    public var fieldProportional: Bool = true
    /// Grid lines at pᵢ = 0.2, 0.4, 0.6, 0.8 (default true).
    public var showGrid: Bool = true
    public var legend: LegendPosition = .topRight
    /// Size in pixels (default 560 × 520).
    public var width: Double = 560
    public var height: Double = 520

    public init(title: String, vertexLabels: [String] = ["y₀", "y₁", "y₂"]) {
        precondition(vertexLabels.count == 3, "a simplex plot needs 3 vertex labels, got \(vertexLabels.count)")
        self.title = title
        self.vertexLabels = vertexLabels
    }

    /// Cartesian coordinates of `p` in the unit triangle (e₀ = (0,0), e₁ = (1,0), e₂ = (½, √3/2)),
    /// y pointing up. Nil when `p` has a non-finite entry or `p₀ + p₁ + p₂ ≤ 0`.
    public static func cartesian(_ p: SIMD3<Double>) -> (x: Double, y: Double)? {
        let s = p.x + p.y + p.z
        guard p.x.isFinite, p.y.isFinite, p.z.isFinite, s > 0 else { return nil }
        return ((p.y + 0.5 * p.z) / s, (3.0.squareRoot() / 2) * p.z / s)
    }

    /// The image of a tangent vector `d` (the linear part of `cartesian`, no normalisation).
    static func cartesianDirection(_ d: SIMD3<Double>) -> (x: Double, y: Double) {
        (d.y + 0.5 * d.z, (3.0.squareRoot() / 2) * d.z)
    }

    /// Writes `render()` to `url` atomically.
    public func write(to url: URL) throws {
        try writeAtomically(render(), to: url)
    }

    /// The SVG document text.
    public func render() -> String {
        var doc = SVGDocument(width: width, height: height)
        let side = min(width - 100, (height - 110) * 2 / 3.0.squareRoot())
        let ox = (width - side) / 2, oy = height - 50  // pixel of e₀
        func toPixel(_ c: (x: Double, y: Double)) -> (Double, Double) { (ox + side * c.x, oy - side * c.y) }
        func pixel(_ p: SIMD3<Double>) -> (Double, Double)? { SimplexPlot.cartesian(p).map(toPixel) }
        let v0 = toPixel((0, 0)), v1 = toPixel((1, 0)), v2 = toPixel((0.5, 3.0.squareRoot() / 2))

        doc.rect(0, 0, width, height, fill: "#ffffff")
        doc.text(width / 2, 26, title, size: 16, weight: "bold")
        doc.polygon([v0, v1, v2], fill: "#fbfbfb", stroke: "#333333")
        if showGrid {
            for k in 1...4 {
                let t = Double(k) / 5
                // pᵢ = t: a segment between the two edges adjacent to vertex i.
                for i in 0..<3 {
                    var a = SIMD3<Double>(repeating: 0), b = SIMD3<Double>(repeating: 0)
                    a[i] = t; a[(i + 1) % 3] = 1 - t
                    b[i] = t; b[(i + 2) % 3] = 1 - t
                    if let pa = pixel(a), let pb = pixel(b) { doc.line(pa.0, pa.1, pb.0, pb.1, stroke: "#e3e3e3") }
                }
            }
        }
        doc.text(v0.0 - 6, v0.1 + 20, vertexLabels[0], size: 14, anchor: "end")
        doc.text(v1.0 + 6, v1.1 + 20, vertexLabels[1], size: 14, anchor: "start")
        doc.text(v2.0, v2.1 - 10, vertexLabels[2], size: 14)

        // Vector field.
        if !field.isEmpty {
            let mags = field.map { a -> Double in
                let d = SimplexPlot.cartesianDirection(a.direction)
                return (d.x * d.x + d.y * d.y).squareRoot()
            }
            let maxMag = mags.filter(\.isFinite).max() ?? 0
            doc.add("<g class=\"field\">")
            for (a, m) in zip(field, mags) {
                guard let base = pixel(a.point), m.isFinite else { continue }
                guard m > 0, maxMag > 0 else { doc.circle(base.0, base.1, r: 1.2, fill: "#9a9a9a"); continue }
                let d = SimplexPlot.cartesianDirection(a.direction)
                let len = side * fieldArrowLength * (fieldProportional ? m / maxMag : 1)
                let tip = (base.0 + d.x / m * len, base.1 - d.y / m * len)
                doc.line(base.0, base.1, tip.0, tip.1, stroke: "#9a9a9a", width: 1)
                doc.arrowHead(tip: tip, from: base, size: min(5, max(2, len * 0.45)), color: "#9a9a9a")
            }
            doc.add("</g>")
        }

        // Trajectories.
        for (i, t) in trajectories.enumerated() {
            let color = t.color ?? Palette.color(i)
            var segments: [[(Double, Double)]] = []
            var current: [(Double, Double)] = []
            for p in t.points {
                if let q = pixel(p) { current.append(q) } else if !current.isEmpty { segments.append(current); current = [] }
            }
            if !current.isEmpty { segments.append(current) }
            doc.path(segments, stroke: color, width: 2, dash: t.dashed ? "7 4" : nil)
            guard t.showEnds, let first = segments.first?.first, let lastSeg = segments.last, let last = lastSeg.last else { continue }
            doc.circle(first.0, first.1, r: 3.5, fill: "#ffffff", stroke: color)
            if lastSeg.count >= 2 {
                // Aim the arrowhead along the last visible step at least one pixel long.
                var j = lastSeg.count - 2
                while j > 0 && hypot(last.0 - lastSeg[j].0, last.1 - lastSeg[j].1) < 1 { j -= 1 }
                doc.arrowHead(tip: last, from: lastSeg[j], size: 9, color: color)
            } else {
                doc.circle(last.0, last.1, r: 3, fill: color)
            }
        }

        // Points.
        for p in points {
            guard let q = pixel(p.point) else { continue }
            doc.marker(p.marker == .none ? .circle : p.marker, q.0, q.1, r: 4, color: p.color)
            if let label = p.label { doc.text(q.0 + 7, q.1 - 6, label, size: 12, anchor: "start", fill: p.color) }
        }

        drawLegend(&doc)
        return doc.finish()
    }

    private func drawLegend(_ doc: inout SVGDocument) {
        let entries = trajectories.enumerated().filter { !$0.element.name.isEmpty }
        guard legend != .hidden, !entries.isEmpty else { return }
        let rowH = 18.0, pad = 8.0, swatch = 26.0
        let w = pad * 2 + swatch + 6 + (entries.map { textWidth($0.element.name, fontSize: 11) }.max() ?? 0)
        let h = pad * 2 + rowH * Double(entries.count) - 4
        let bx: Double, by: Double
        switch legend {
        case .topLeft: bx = 10; by = 40
        case .bottomLeft: bx = 10; by = height - 10 - h
        case .bottomRight: bx = width - 10 - w; by = height - 10 - h
        default: bx = width - 10 - w; by = 40
        }
        doc.add("<g class=\"legend\">")
        doc.rect(bx, by, w, h, fill: "#ffffff", stroke: "#999999", fillOpacity: 0.9)
        for (row, (i, t)) in entries.enumerated() {
            let cy = by + pad + 6 + rowH * Double(row)
            doc.line(bx + pad, cy, bx + pad + swatch, cy, stroke: t.color ?? Palette.color(i), width: 2, dash: t.dashed ? "7 4" : nil)
            doc.text(bx + pad + swatch + 6, cy + 4, t.name, size: 11, anchor: "start")
        }
        doc.add("</g>")
    }
}
