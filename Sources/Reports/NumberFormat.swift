/// Number formatting for tables, figures and progress lines.
///
/// Every formatter here is locale-independent (always `.` as the decimal point) and deterministic:
/// the same Double gives the same string on every machine. Non-finite values are spelled
/// `nan`, `inf`, `-inf` everywhere, the spelling pandas and NumPy read back.
import Foundation

/// `x` with `digits` significant digits, C `%g` style: trailing zeros dropped, exponent form
/// outside 1e-4 ..< 10^digits. `formatSignificant(0.00123456, digits: 3) == "0.00123"`,
/// `formatSignificant(1234567, digits: 3) == "1.23e+06"`. `digits` is clamped to 1...17.
public func formatSignificant(_ x: Double, digits: Int) -> String {
    if let s = nonFiniteName(x) { return s }
    let d = min(max(digits, 1), 17)
    return String(format: "%.\(d)g", x)
}

/// A signed margin in exponent form with an explicit sign, e.g. `+3.2e-04`, `-1.5e+00`.
///
/// `digits` is the number of digits after the decimal point of the mantissa (default 1).
/// Zero prints as `+0.0e+00`; NaN as `nan`; infinities as `+inf` / `-inf`. The sign is the
/// claim convention: `+` holds, `-` fails.
public func formatMargin(_ x: Double, digits: Int = 1) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "+inf" : "-inf" }
    let d = min(max(digits, 0), 16)
    let v = x == 0 ? 0.0 : x   // print -0.0 as +0
    return String(format: "%+.\(d)e", v)
}

/// `x` with exactly `decimals` digits after the point (`fixed(2.5, decimals: 2) == "2.50"`),
/// `-0.00` normalised to `0.00`. Non-finite values give `nan` / `inf` / `-inf`.
public func formatFixed(_ x: Double, decimals: Int) -> String {
    if let s = nonFiniteName(x) { return s }
    let d = min(max(decimals, 0), 17)
    let s = String(format: "%.\(d)f", x)
    if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) {
        return String(s.dropFirst())
    }
    return s
}

/// A duration in seconds for humans: `0.4s`, `12.0s`, `2m05s`, `1h02m`. Negative or non-finite → `?`.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    if seconds < 60 { return formatFixed(seconds, decimals: 1) + "s" }
    let total = Int(seconds.rounded(.down))
    if total < 3600 {
        return "\(total / 60)m" + twoDigits(total % 60) + "s"
    }
    return "\(total / 3600)h" + twoDigits((total % 3600) / 60) + "m"
}

/// Round-trippable decimal form of a Double (Swift's shortest representation): `0.1`, `1e-05`,
/// `nan`, `inf`, `-inf`. `Double(roundTrip(x)) == x` for every finite `x`.
public func formatRoundTrip(_ x: Double) -> String {
    if let s = nonFiniteName(x) { return s }
    return x.description
}

@inline(__always)
func nonFiniteName(_ x: Double) -> String? {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    return nil
}

private func twoDigits(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
