import Foundation

/// The toolkit's only source of randomness: SplitMix64 (Steele, Lea & Flood 2014), a 64-bit
/// generator with a full 2⁶⁴ period that passes BigCrush. The same seed gives the same stream on
/// every platform and thread count; derive independent streams with `derived(_:)` rather than
/// sharing one generator across threads.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An independent stream for sub-task `index` (e.g. instance number k of a run with seed S):
    /// the result depends only on (seed, index), never on the order tasks run in.
    public static func derived(seed: UInt64, index: UInt64) -> SeededGenerator {
        var g = SeededGenerator(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03))
        _ = g.next()
        return SeededGenerator(seed: g.next() ^ index)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [a, b).
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * uniform() }

    /// Standard normal by Box–Muller (one draw per call; deterministic).
    public mutating func normal() -> Double {
        var u = uniform()
        while u <= 0 { u = uniform() }
        let v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
    }

    /// Uniform integer in the closed range.
    public mutating func int(_ r: ClosedRange<Int>) -> Int { Int.random(in: r, using: &self) }
}
