import Foundation
import Claims

/// A closed-form claim posed on a box of small instances: named coordinates with their ranges,
/// the part of the box that lies outside the claim's domain, an interval enclosure of the claim's
/// conclusion margin (≥ 0 holds, or > 0 for a strict claim), and the instance a point stands for
/// (so that a candidate counterexample is judged by the claim's own Double and extended-precision
/// evaluations: `Judgement`).
public struct VerifyProblem: Sendable {
    public let claim: any Claim
    public let names: [String]
    public let box: [Interval]
    /// The side conditions in words (those the box's ranges do not say).
    public let conditions: String
    /// The margin that is enclosed, in words.
    public let marginText: String
    /// An enclosure of the margin over every point of `box` that lies in the domain; nil when no
    /// point of the box lies in it (the box is then discarded).
    public let margin: @Sendable ([Interval]) -> Interval?
    /// The claim instance at a point of the domain.
    public let instance: @Sendable ([Double]) -> ClaimInstance
}

/// What `verify` concluded.
public struct VerifyResult: Sendable {
    public enum Status: String, Sendable { case verified, counterexample, undecided }
    public var claim: String
    public var status: Status
    /// The box's coordinates and ranges, and its side conditions.
    public var names: [String]
    public var box: [Interval]
    public var conditions: String
    public var marginText: String
    /// Sub-boxes on which the margin was proven (≥ 0, or > 0 for a strict claim), and the smallest
    /// proven lower bound among them.
    public var boxes: Int
    public var minMargin: Double?
    /// Sub-boxes that lie outside the domain (discarded).
    public var discarded: Int
    /// Sub-boxes left unresolved (at most `maxListed` are kept).
    public var undecided: [[Interval]]
    public var undecidedCount: Int
    /// A certified counterexample (status `counterexample`): the point and the claim's judgement.
    public var point: [Double]?
    public var counterexample: Judgement?
    public var instance: ClaimInstance?
}

/// Branch-and-bound over a box: a sub-box is proven when the enclosure's lower end is ≥ 0 (> 0
/// for a strict claim); otherwise its midpoint is judged by the claim (`Judgement`, the usual
/// Double + extended-precision certification) and a certified violation ends the run; else the
/// sub-box is split in half along its widest coordinate (relative to the box's own ranges), down
/// to `minRelativeWidth`. Two phases, both deterministic (no randomness, no threads):
/// 1. a hunt, best-first (the sub-box with the lowest enclosure next) for `maxBoxes`/10 sub-boxes:
///    it approaches a violation first;
/// 2. the proof, depth-first from the whole box for `maxBoxes` sub-boxes (its frontier stays
///    small); sub-boxes that cannot be split further, or that remain when the budget is spent,
///    are undecided.
public enum BranchAndBound {
    public static func run(_ p: VerifyProblem, maxBoxes: Int = 200_000, minRelativeWidth: Double = 1e-6, maxListed: Int = 20) -> VerifyResult {
        var result = VerifyResult(claim: p.claim.id, status: .verified, names: p.names, box: p.box, conditions: p.conditions,
                                  marginText: p.marginText, boxes: 0, minMargin: nil, discarded: 0, undecided: [], undecidedCount: 0)
        let scale = p.box.map { Swift.max($0.width, Double.leastNormalMagnitude) }
        /// The enclosure of a sub-box, nil when it lies outside the domain, and whether it is proven.
        func judge(_ b: [Interval]) -> (m: Interval, proven: Bool)? {
            guard let m = p.margin(b) else { return nil }
            return (m, p.claim.strict ? m.lo > 0 : m.lo >= 0)
        }
        /// A certified violation at the midpoint of an unproven sub-box, if there is one.
        func hunt(_ b: [Interval]) -> Bool {
            let mid = b.map(\.mid)
            guard let pm = p.margin(mid.map { Interval($0) }), pm.lo < 0 || (p.claim.strict && pm.lo <= 0) else { return false }
            let inst = p.instance(mid)
            guard let j = try? Judgement(claim: p.claim, instance: inst, dropping: []), j.outcome == .certified else { return false }
            result.status = .counterexample
            result.point = mid; result.counterexample = j; result.instance = inst
            return true
        }
        /// The two halves along the widest coordinate, or nil when the sub-box is too small to split.
        func split(_ b: [Interval]) -> ([Interval], [Interval])? {
            let rel = b.indices.map { b[$0].width / scale[$0] }
            let k = rel.indices.max { rel[$0] < rel[$1] }!
            guard rel[k] > minRelativeWidth else { return nil }
            let (l, r) = b[k].halves
            var bl = b, br = b
            bl[k] = l; br[k] = r
            return (bl, br)
        }

        // Phase 1: the hunt.
        var queue = BoxQueue()
        if let j = judge(p.box), !j.proven { queue.push(p.box, key: j.m.lo) }
        var hunted = 0
        while hunted < Swift.max(1, maxBoxes / 10), let b = queue.pop() {
            hunted += 1
            if hunt(b) { return result }
            guard let (l, r) = split(b) else { continue }
            for c in [l, r] { if let j = judge(c), !j.proven { queue.push(c, key: j.m.lo) } }
        }

        // Phase 2: the proof.
        var stack: [[Interval]] = [p.box]
        var examined = 0
        while let b = stack.popLast() {
            if examined >= maxBoxes { result.undecidedCount += 1; if result.undecided.count < maxListed { result.undecided.append(b) }; continue }
            examined += 1
            guard let j = judge(b) else { result.discarded += 1; continue }
            if j.proven {
                result.boxes += 1
                result.minMargin = Swift.min(result.minMargin ?? .infinity, j.m.lo)
                continue
            }
            if hunt(b) { return result }
            guard let (l, r) = split(b) else {
                result.undecidedCount += 1
                if result.undecided.count < maxListed { result.undecided.append(b) }
                continue
            }
            stack.append(r); stack.append(l)
        }
        if result.undecidedCount > 0 { result.status = .undecided }
        return result
    }
}

/// A min-heap of boxes by key (ties: insertion order), for best-first branch-and-bound.
struct BoxQueue {
    private var heap: [(key: Double, order: Int, box: [Interval])] = []
    private var counter = 0
    private func less(_ i: Int, _ j: Int) -> Bool { (heap[i].key, heap[i].order) < (heap[j].key, heap[j].order) }
    mutating func push(_ b: [Interval], key: Double) {
        heap.append((key, counter, b)); counter += 1
        var i = heap.count - 1
        while i > 0 { let parent = (i - 1) / 2; if less(i, parent) { heap.swapAt(i, parent); i = parent } else { break } }
    }
    mutating func pop() -> [Interval]? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(l, m) { m = l }
            if r < heap.count && less(r, m) { m = r }
            if m == i { break }
            heap.swapAt(i, m); i = m
        }
        return top.box
    }
}
