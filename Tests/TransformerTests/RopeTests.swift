import Testing
import Foundation
@testable import Transformer

/// Absolute RoPE angles (issue 13): the decode-versus-forward test compares two paths that share the
/// tables, so a wrong frequency would pass it; these pin the tables and the rotation to the closed
/// form of rotate-half RoPE, angle(p, i) = p·θ^(−2i/D), at positions well past 0.
@Suite struct RopeTests {
    @Test(arguments: [(8, 10_000.0), (16, 1_000_000.0), (128, 1_000_000.0)])
    func tablesAreTheClosedForm(headDim: Int, theta: Double) {
        let positions = 300
        let (c, s) = ropeTables(positions: positions, headDim: headDim, theta: theta)
        let half = headDim / 2
        for p in [0, 1, 7, 123, 299] {
            for i in [0, 1, half / 2, half - 1] {
                let angle = Double(p) / pow(theta, Double(2 * i) / Double(headDim))
                #expect(abs(Double(c[p * half + i]) - cos(angle)) < 1e-6, "cos p=\(p) i=\(i)")
                #expect(abs(Double(s[p * half + i]) - sin(angle)) < 1e-6, "sin p=\(p) i=\(i)")
            }
        }
        // The first pair turns by exactly p radians per position: at p = 123, 123 rad.
        #expect(abs(Double(s[123 * half]) - sin(123.0)) < 1e-6)
    }

    /// Rotating at a non-zero start position turns pair (x_i, x_{i+D/2}) by angle(start + t, i).
    @Test func rotationAtAnOffsetStart() {
        let d = 8, half = 4, heads = 2, t = 3, start = 41, theta = 10_000.0
        let (c, s) = ropeTables(positions: start + t, headDim: d, theta: theta)
        var x = (0..<(t * heads * d)).map { Float(sin(Double($0) * 0.37) + 0.1) }
        let original = x
        c.withUnsafeBufferPointer { cp in
            s.withUnsafeBufferPointer { sp in
                x.withUnsafeMutableBufferPointer { xp in
                    ropeForward(x: xp.baseAddress!, cosT: cp.baseAddress!, sinT: sp.baseAddress!, b: 1, t: t, heads: heads, d: d, start: start)
                }
            }
        }
        for ti in 0..<t {
            for h in 0..<heads {
                let base = (ti * heads + h) * d
                for i in 0..<half {
                    let a = Double(start + ti) / pow(theta, Double(2 * i) / Double(d))
                    let x1 = Double(original[base + i]), x2 = Double(original[base + i + half])
                    #expect(abs(Double(x[base + i]) - (x1 * cos(a) - x2 * sin(a))) < 1e-5)
                    #expect(abs(Double(x[base + i + half]) - (x2 * cos(a) + x1 * sin(a))) < 1e-5)
                }
            }
        }
    }
}
