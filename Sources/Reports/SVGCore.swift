/// Shared pieces of the SVG figures: palette, escaping, fixed-precision coordinates, nice ticks.
///
/// Determinism: coordinates are printed with exactly two decimals (`formatFixed`), attributes in a
/// fixed order, no ids from counters or clocks; the same figure gives the same bytes.
import Foundation

/// The fixed colour palette (Okabe–Ito, readable by colour-blind readers, printable in grey).
/// Series without an explicit colour take `Palette.color(i)` for their index `i`.
public enum Palette {
    public static let colors: [String] = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999",
    ]
    /// The `i`-th palette colour, cycling; negative `i` is taken modulo the palette size.
    public static func color(_ i: Int) -> String {
        let n = colors.count
        return colors[((i % n) + n) % n]
    }
}

/// Escapes text for SVG/XML content and attribute values (`& < > " '`).
public func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(ch)
        }
    }
    return out
}

/// A pixel coordinate with two decimals, clamped to ±1e6 so off-range data cannot blow up a file.
/// Rounds half away from zero in integer arithmetic (several times faster than `String(format:)`,
/// which matters for series of 10⁵ points); `-0.00` prints as `0.00`.
func px(_ v: Double) -> String {
    guard v.isFinite else { return "0.00" }
    let n = Int((min(max(v, -1e6), 1e6) * 100).rounded())
    let a = n.magnitude
    let frac = a % 100
    return (n < 0 ? "-" : "") + String(a / 100) + (frac < 10 ? ".0" : ".") + String(frac)
}

/// A scale of an axis.
public enum AxisScale: Sendable, Equatable {
    /// Linear mapping.
    case linear
    /// Base-10 logarithmic mapping; non-positive values are not drawn (they break lines).
    case log
}

/// Tick positions and labels for one axis, with the axis range they fill.
public struct AxisTicks: Equatable, Sendable {
    /// The axis range: the outermost ticks (nice numbers enclosing the data).
    public var lower: Double
    public var upper: Double
    /// Tick values, increasing, `lower` and `upper` included.
    public var values: [Double]
    /// The label of each tick, same count as `values`.
    public var labels: [String]
}

/// "Nice numbers" ticks (Heckbert's 1–2–5 rule) for linear axes and decade ticks for log axes.
public enum NiceTicks {
    /// 10^e, exact for |e| ≤ 22 (powers of ten up to 1e22 are exact Doubles).
    static func pow10(_ e: Int) -> Double {
        var r = 1.0
        for _ in 0..<abs(e) { r *= 10 }
        return e >= 0 ? r : 1 / r
    }

    /// `k · 10^e` computed so that e.g. 14·10⁻⁴ is the Double nearest 0.0014 (divide by an exact power).
    static func scaled(_ k: Int, _ e: Int) -> Double {
        e >= 0 ? Double(k) * pow10(e) : Double(k) / pow10(-e)
    }

    /// The nice number m·10^e (m ∈ {1, 2, 5}) near `x > 0`: rounded to nearest when `round`,
    /// otherwise the smallest nice number ≥ x.
    static func nice(_ x: Double, round: Bool) -> (m: Int, e: Int) {
        let e = Int(Foundation.floor(Foundation.log10(x)))
        let f = x / pow10(e)
        let m: Int
        if round {
            m = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            m = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return m == 10 ? (1, e + 1) : (m, e)
    }

    /// Ticks for a linear axis covering `[lower, upper]`, about `targetCount` of them (default 6).
    ///
    /// Steps are 1, 2 or 5 times a power of ten; the range is widened to whole steps. Degenerate
    /// input is made drawable: non-finite bounds give [0, 1]; reversed bounds are swapped; a zero
    /// span around c becomes c ± 10 % of |c| (or ± 1 when c = 0). Extreme values of valid data
    /// stay drawable (issue 24): bounds are clamped to ±10³⁰⁰ and a span is at least 10⁻³⁰⁰, so
    /// every power of ten used below is a finite, nonzero Double (subnormal or 1e308 data crashed).
    public static func linear(lower: Double, upper: Double, targetCount: Int = 6) -> AxisTicks {
        var lo = lower, hi = upper
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        lo = min(max(lo, -1e300), 1e300); hi = min(max(hi, -1e300), 1e300)
        if hi - lo <= 1e-12 * max(abs(lo), abs(hi)) || hi - lo < 1e-300 {
            let c = (lo + hi) / 2
            let d = max(c == 0 ? 1 : abs(c) * 0.1, 1e-300)
            lo = c - d; hi = c + d
        }
        let n = max(targetCount, 2)
        let range = nice(hi - lo, round: false)
        let (m, e) = nice(scaled(range.m, range.e) / Double(n - 1), round: true)
        let step = scaled(m, e)
        let kLo = Int(Foundation.floor(lo / step + 1e-9))
        let kHi = Int(Foundation.ceil(hi / step - 1e-9))
        let values = (kLo...max(kHi, kLo + 1)).map { scaled($0 * m, e) }
        let maxAbs = values.map(abs).max() ?? 0
        let labels: [String]
        if e >= -5 && maxAbs < 1e6 {
            labels = values.map { formatFixed($0, decimals: max(0, -e)) }
        } else {
            let lead = maxAbs > 0 ? Int(Foundation.floor(Foundation.log10(maxAbs))) : e
            labels = values.map { $0 == 0 ? "0" : formatSignificant($0, digits: max(1, lead - e + 1)) }
        }
        return AxisTicks(lower: values.first!, upper: values.last!, values: values, labels: labels)
    }

    /// Ticks for a base-10 log axis covering `[lower, upper]` (both > 0).
    ///
    /// The range is widened to whole decades; every decade gets a tick, and when the range spans at
    /// most two decades the 2× and 5× ticks are added. Non-positive or non-finite bounds fall back
    /// to a decade around whatever bound is usable, or [1, 10].
    public static func log(lower: Double, upper: Double) -> AxisTicks {
        var lo = lower, hi = upper
        if lo > hi { swap(&lo, &hi) }
        let loOK = lo.isFinite && lo > 0, hiOK = hi.isFinite && hi > 0
        switch (loOK, hiOK) {
        case (true, true): break
        case (false, true): lo = hi / 10
        case (true, false): hi = lo * 10
        case (false, false): lo = 1; hi = 10
        }
        let dLo = Int(Foundation.floor(Foundation.log10(lo) + 1e-9))
        var dHi = Int(Foundation.ceil(Foundation.log10(hi) - 1e-9))
        if dHi <= dLo { dHi = dLo + 1 }
        var values: [Double] = []
        for d in dLo...dHi {
            values.append(scaled(1, d))
            if dHi - dLo <= 2 && d < dHi {
                values.append(scaled(2, d))
                values.append(scaled(5, d))
            }
        }
        let labels = values.map { v -> String in
            let d = Int(Foundation.floor(Foundation.log10(v) + 1e-9))
            return (d >= -4 && d < 6) ? formatFixed(v, decimals: max(0, -d)) : formatSignificant(v, digits: 1)
        }
        return AxisTicks(lower: values.first!, upper: values.last!, values: values, labels: labels)
    }
}

/// Maps data values on one axis to pixels: `lower ↦ p0`, `upper ↦ p1`.
struct AxisMap {
    var lower: Double
    var upper: Double
    var p0: Double
    var p1: Double
    var scale: AxisScale

    /// The pixel of `v`, or nil when `v` cannot be drawn (non-finite; ≤ 0 on a log axis).
    func callAsFunction(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        let t: Double
        switch scale {
        case .linear:
            t = (v - lower) / (upper - lower)
        case .log:
            guard v > 0 else { return nil }
            t = (Foundation.log10(v) - Foundation.log10(lower)) / (Foundation.log10(upper) - Foundation.log10(lower))
        }
        return p0 + t * (p1 - p0)
    }
}

/// Estimated width in pixels of `s` at `fontSize` (sans-serif, average glyph ≈ 0.62 em).
func textWidth(_ s: String, fontSize: Double) -> Double {
    Double(s.count) * fontSize * 0.62
}

/// Accumulates SVG elements; `finish()` wraps them in the root element.
struct SVGDocument {
    let width: Double
    let height: Double
    var parts: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    mutating func add(_ element: String) { parts.append(element) }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                       width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        var s = "<line x1=\"\(px(x1))\" y1=\"\(px(y1))\" x2=\"\(px(x2))\" y2=\"\(px(y2))\" stroke=\"\(xmlEscape(stroke))\" stroke-width=\"\(px(width))\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        if let opacity { s += " stroke-opacity=\"\(px(opacity))\"" }
        add(s + "/>")
    }

    mutating func text(_ x: Double, _ y: Double, _ content: String, size: Double = 12,
                       anchor: String = "middle", rotate: Double? = nil, fill: String = "#222222",
                       weight: String? = nil) {
        var s = "<text x=\"\(px(x))\" y=\"\(px(y))\" font-size=\"\(px(size))\" text-anchor=\"\(anchor)\" fill=\"\(xmlEscape(fill))\""
        if let weight { s += " font-weight=\"\(weight)\"" }
        if let rotate { s += " transform=\"rotate(\(px(rotate)) \(px(x)) \(px(y)))\"" }
        add(s + ">" + xmlEscape(content) + "</text>")
    }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String,
                       stroke: String? = nil, fillOpacity: Double? = nil) {
        var s = "<rect x=\"\(px(x))\" y=\"\(px(y))\" width=\"\(px(max(w, 0)))\" height=\"\(px(max(h, 0)))\" fill=\"\(xmlEscape(fill))\""
        if let fillOpacity { s += " fill-opacity=\"\(px(fillOpacity))\"" }
        if let stroke { s += " stroke=\"\(xmlEscape(stroke))\"" }
        add(s + "/>")
    }

    mutating func circle(_ x: Double, _ y: Double, r: Double, fill: String, stroke: String? = nil) {
        var s = "<circle cx=\"\(px(x))\" cy=\"\(px(y))\" r=\"\(px(r))\" fill=\"\(xmlEscape(fill))\""
        if let stroke { s += " stroke=\"\(xmlEscape(stroke))\" stroke-width=\"1.50\"" }
        add(s + "/>")
    }

    mutating func polygon(_ pts: [(Double, Double)], fill: String, stroke: String? = nil) {
        let p = pts.map { "\(px($0.0)),\(px($0.1))" }.joined(separator: " ")
        var s = "<polygon points=\"\(p)\" fill=\"\(xmlEscape(fill))\""
        if let stroke { s += " stroke=\"\(xmlEscape(stroke))\"" }
        add(s + "/>")
    }

    /// A path through `segments` (each a run of points drawn as one polyline).
    mutating func path(_ segments: [[(Double, Double)]], stroke: String, width: Double, dash: String?) {
        let d = segments.filter { $0.count >= 2 }.map { seg in
            "M" + seg.map { "\(px($0.0)) \(px($0.1))" }.joined(separator: " L")
        }.joined(separator: " ")
        guard !d.isEmpty else { return }
        var s = "<path d=\"\(d)\" fill=\"none\" stroke=\"\(xmlEscape(stroke))\" stroke-width=\"\(px(width))\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
        if let dash { s += " stroke-dasharray=\"\(dash)\"" }
        add(s + "/>")
    }

    func finish() -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(px(width))\" height=\"\(px(height))\" viewBox=\"0 0 \(px(width)) \(px(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
        for p in parts { out += p + "\n" }
        out += "</svg>\n"
        return out
    }
}

/// Marker glyphs for data points.
public enum MarkerShape: Sendable, Equatable {
    case none, circle, square, triangle, diamond
}

extension SVGDocument {
    /// Draws `shape` centred at (x, y) with half-size `r`.
    mutating func marker(_ shape: MarkerShape, _ x: Double, _ y: Double, r: Double, color: String) {
        switch shape {
        case .none: return
        case .circle: circle(x, y, r: r, fill: color)
        case .square: rect(x - r, y - r, 2 * r, 2 * r, fill: color)
        case .triangle: polygon([(x, y - r * 1.2), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8)], fill: color)
        case .diamond: polygon([(x, y - r * 1.3), (x + r * 1.3, y), (x, y + r * 1.3), (x - r * 1.3, y)], fill: color)
        }
    }

    /// A filled arrowhead with its tip at `tip`, pointing along `tip − from`, of length `size`.
    mutating func arrowHead(tip: (Double, Double), from: (Double, Double), size: Double, color: String) {
        let dx = tip.0 - from.0, dy = tip.1 - from.1
        let len = (dx * dx + dy * dy).squareRoot()
        guard len > 1e-9 else { return }
        let ux = dx / len, uy = dy / len
        let bx = tip.0 - ux * size, by = tip.1 - uy * size
        let w = size * 0.45
        polygon([tip, (bx - uy * w, by + ux * w), (bx + uy * w, by - ux * w)], fill: color)
    }
}
