import Foundation
import Claims

/// The JSON of `sftrl verify --json`: keys claim, status, box, boxes, min_margin, undecided (and
/// the margin enclosed, the box's coordinate names, and for a counterexample its point, instance
/// and the claim's judgement).
public struct VerifyReport: Codable, Sendable {
    public struct Range: Codable, Sendable { public var name: String; public var lo: Double; public var hi: Double }
    public var claim: String
    public var status: String
    /// The box in words (its ranges and side conditions), e.g. "N=3, p ≥ 0.05, |p−q| ≥ 0.05".
    public var box: String
    public var ranges: [Range]
    public var margin: String
    public var boxes: Int
    public var minMargin: Double?
    public var discarded: Int
    /// Unresolved sub-boxes (the first 20), each as its ranges, and how many there were.
    public var undecided: [[Range]]
    public var undecidedCount: Int
    public var point: [Double]?
    public var instance: ClaimInstance?
    public var judgement: String?
    public var extendedMargin: Double?

    enum CodingKeys: String, CodingKey {
        case claim, status, box, ranges, margin, boxes, discarded, undecided, point, instance, judgement
        case minMargin = "min_margin", undecidedCount = "undecided_count", extendedMargin = "extended_margin"
    }

    public init(_ r: VerifyResult) {
        func ranges(_ b: [Interval]) -> [Range] { zip(r.names, b).map { Range(name: $0, lo: $1.lo, hi: $1.hi) } }
        claim = r.claim; status = r.status.rawValue; box = r.conditions; self.ranges = ranges(r.box); margin = r.marginText
        boxes = r.boxes; minMargin = r.minMargin; discarded = r.discarded
        undecided = r.undecided.map(ranges); undecidedCount = r.undecidedCount
        point = r.point; instance = r.instance; judgement = r.counterexample?.sentence; extendedMargin = r.counterexample?.extended?.conclusion
    }

    /// One line per result: claim, status, boxes, smallest margin, box.
    public var line: String {
        switch status {
        case "verified": return "\(claim): verified on [\(box)]: \(boxes) boxes, smallest certified margin \(minMargin.map { String(format: "%.3g", $0) } ?? "-")"
        case "counterexample": return "\(claim): counterexample at \(point.map { $0.map { String(format: "%.6g", $0) }.joined(separator: ", ") } ?? "") — \(judgement ?? "")"
        default: return "\(claim): undecided on [\(box)]: \(undecidedCount) unresolved sub-boxes, \(boxes) proven"
        }
    }
}
