import Foundation

/// The toolkit's only source of randomness: SplitMix64 (Steele, Lea & Flood 2014), a 64-bit
/// generator with a full 2⁶⁴ period that passes BigCrush. The same seed gives the same stream on
/// every platform and thread count; derive independent streams with `derived(_:)` rather than
/// sharing one generator across threads.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public internal(set) var state: UInt64

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

    // MARK: added for the training path (new functions; the ones above are unchanged)

    /// A stable 64-bit hash of a label (FNV-1a over its UTF-8 bytes): names sub-streams
    /// ("sft", "rl", a claim id) so that seeds differ per label.
    public static func hash(_ label: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// An independent stream for a named sub-task: `derived(seed:index:)` at index hash(label).
    public static func derived(seed: UInt64, label: String) -> SeededGenerator {
        derived(seed: seed, index: hash(label))
    }

    /// A child seed for a named sub-task (the first output of `derived(seed:label:)`).
    public static func derivedSeed(_ seed: UInt64, _ label: String) -> UInt64 {
        var g = derived(seed: seed, label: label)
        return g.next()
    }

    /// Uniform in (0, 1] with 53 random bits: never 0, so its logarithm is finite.
    public mutating func uniformOpenZero() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }

    // fillNormal (the bulk N(0, std²) fill of the transformer's weights): NormalFill.swift.

    /// A uniform integer in 0..<n (n > 0), by rejection (no modulo bias); written out so that
    /// it cannot change with a Swift release.
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0, "below needs n > 0, got \(n)")
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// True with probability p.
    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Fisher–Yates shuffle in place (j = below(i + 1) for i from the end).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// One element, uniformly.
    public mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
}
