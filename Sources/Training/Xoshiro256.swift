/// Seeded randomness for the training path. Every random draw of a pipeline (data splits, label
/// noise, weight initialisation seeds, batch order, sampling) comes from a `Xoshiro256`
/// passed down explicitly, so that the same seed gives the same bytes.
///
/// The generator is xoshiro256** (Blackman and Vigna) seeded through SplitMix64. Its streams, and
/// the derived helpers below (`nextUnit`, `nextInt`, `shuffle`), are written here rather than
/// taken from the standard library so that they cannot change with a Swift release.
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator whose four words of state are the first four outputs of SplitMix64(seed).
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// A child seed for a named sub-stream: `derive(seed, "sft")` differs from `derive(seed, "rl")`,
    /// and both are fixed functions of their arguments (FNV-1a of the label mixed with the seed).
    public static func derive(_ seed: UInt64, _ label: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        var g = Xoshiro256(seed: seed ^ h)
        return g.next()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform integer in 0..<n (n > 0), by rejection (no modulo bias).
    public mutating func nextInt(_ n: Int) -> Int {
        precondition(n > 0, "nextInt needs n > 0, got \(n)")
        let bound = UInt64(n)
        let limit = UInt64.max - UInt64.max % bound
        while true {
            let x = next()
            if x < limit { return Int(x % bound) }
        }
    }

    /// True with probability p.
    public mutating func bernoulli(_ p: Double) -> Bool { nextUnit() < p }

    /// Fisher–Yates shuffle, in place.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = nextInt(i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// One element, uniformly.
    public mutating func pick<T>(_ a: [T]) -> T { a[nextInt(a.count)] }
}
