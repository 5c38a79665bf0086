import Foundation
import Claims

/// A claim's tightness measure (`Claim.tightness`), with the claim id: what `sftrl search
/// --tightness` maximises. Each claim states its own measure in its file; this type only lists them.
/// A ratio counts only when its denominator is above the claim's round-off floor and the Double
/// and extended evaluations agree on it to 1e-6 (see `Searcher`).
public struct TightnessSpec: Sendable {
    public let claim: String
    public let measure: String
    public let ratio: @Sendable (Evaluation) -> Double?
    public let knownSupremum: Double?
    public let attained: Bool
    public let note: String

    public init(claim: String, _ t: Tightness) {
        self.claim = claim; measure = t.measure; ratio = t.ratio; knownSupremum = t.knownSupremum; attained = t.attained; note = t.note
    }

    /// The claims with a tightness measure, in registry order.
    public static var all: [TightnessSpec] { Registry.all.compactMap { c in c.tightness.map { TightnessSpec(claim: c.id, $0) } } }

    public static func spec(for claim: String) -> TightnessSpec? { all.first { $0.claim == claim } }
}
