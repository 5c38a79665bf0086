import ArgumentParser
import Search

/// The one rule for integer options (issue 24): every count or size a user types is checked
/// against a stated range before any arithmetic or allocation uses it, so 2³¹, 2⁵³, 2⁶³ − 1 or a
/// negative number is refused with exit 2 naming the option and its limits, instead of
/// overflowing, allocating terabytes or counting for minutes. Commands call `Bounds.check` from
/// their `validate()` with the ranges below; the limits are generous for real use and far from
/// `Int.max`, so sums and products of a few bounded options cannot overflow.
enum Bounds {
    /// Worker or BLAS threads.
    static let threads: ClosedRange<Int> = 1...1024
    /// Steps, epochs, restarts, instances, evaluations: counts of repeated work.
    static let steps: ClosedRange<Int> = 1...1_000_000_000
    /// Steps that may be zero (pretraining or SFT skipped).
    static let stepsOrZero: ClosedRange<Int> = 0...1_000_000_000
    /// Items kept in memory at once (batch sizes, groups, samples of a trace, points, prompts).
    static let items: ClosedRange<Int> = 1...1_000_000
    /// Tokens of one sequence (a context length, new tokens to generate).
    static let tokens: ClosedRange<Int> = 1...1_048_576
    /// Shards of a sharded run (`--shard K/N`: N).
    static let shards: ClosedRange<Int> = 1...1_000_000

    /// The message for a value outside `range`, naming the option and both limits.
    static func message(_ option: String, _ value: Int, _ range: ClosedRange<Int>) -> String {
        "\(option) \(value) is out of range; give a whole number from \(range.lowerBound) to \(range.upperBound)"
    }

    /// Throws a `ValidationError` (exit 2) when `value` is outside `range`.
    static func check(_ option: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else { throw ValidationError(message(option, value, range)) }
    }

    /// Checks an optional value; nil (the option left out) passes.
    static func check(_ option: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
        if let value { try check(option, value, range) }
    }

    /// Checks each (option, value, range); a nil value (an option left out) passes.
    static func check(_ items: [(String, Int?, ClosedRange<Int>)]) throws {
        for case let (option, value?, range) in items { try check(option, value, range) }
    }

    /// A product of bounded options (a batch of prompts × completions, …) refused above `limit`,
    /// computed without overflow; returns the product.
    @discardableResult
    static func product(_ factors: [(String, Int)], limit: Int, what: String) throws -> Int {
        var p = 1
        for (_, v) in factors {
            let (r, overflow) = p.multipliedReportingOverflow(by: v)
            guard !overflow, r <= limit else {
                throw ValidationError("\(factors.map { "\($0.0) \($0.1)" }.joined(separator: " × ")) asks for more than \(limit) \(what); lower \(factors.map(\.0).joined(separator: " or "))")
            }
            p = r
        }
        return p
    }

    /// `K/N` of `--shard`, with 0 ≤ K < N and N within `shards`: the one parser
    /// (`ReportMerge.parseShard`), then the bound on N.
    static func shard(_ s: String, option: String = "--shard") throws -> (index: Int, count: Int) {
        guard let parsed = ReportMerge.parseShard(s) else {
            throw ValidationError("\(option) must be K/N with 0 ≤ K < N (e.g. 0/4), got \"\(s)\"")
        }
        try check("\(option) N", parsed.count, shards)
        return parsed
    }
}
