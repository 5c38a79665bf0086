import Foundation

/// The box of small one-prompt instances a claim is verified on: N responses, every probability
/// ≥ δ, each reward in `reward`, β in `beta`, and two side conditions that keep the box away from
/// the claim's equality set (outward-rounded interval arithmetic can prove a margin > 0 or ≥ a
/// positive bound, never a margin that is exactly 0 at a point of the box):
/// - `separation`: |p(y) − q(y)| ≥ separation for every response (claims whose two sides meet at p = q);
/// - `rewardGap`: |r(y) − r(y')| ≥ rewardGap for every pair (claims whose two sides meet at a tie).
/// A claim uses only the conditions it names (`VerifyProblem.conditions`).
public struct VerifyDomain: Sendable, Equatable {
    public var responses: Int
    public var delta: Double
    public var reward: Interval
    public var beta: Interval
    public var separation: Double
    public var rewardGap: Double

    public init(responses: Int = 3, delta: Double = 0.05, reward: Interval = Interval(-1, 1), beta: Interval = Interval(0.5, 2),
                separation: Double = 0.05, rewardGap: Double = 0.1) {
        self.responses = responses; self.delta = delta; self.reward = reward; self.beta = beta
        self.separation = separation; self.rewardGap = rewardGap
    }

    /// Checks the ranges; the error names the `--box` field and what to change.
    public func validate() throws {
        guard (2...3).contains(responses) else { throw VerifyError.invalid("--responses must be 2 or 3, got \(responses)") }
        guard delta > 0, Double(responses) * delta < 1 else {
            throw VerifyError.invalid("--box delta=\(delta): need 0 < delta < 1/\(responses) (every probability ≥ delta)")
        }
        guard reward.lo.isFinite, reward.hi.isFinite, reward.lo < reward.hi else {
            throw VerifyError.invalid("--box reward=\(reward.lo):\(reward.hi): need finite lo < hi")
        }
        guard beta.lo > 0, beta.hi.isFinite, beta.lo < beta.hi else {
            throw VerifyError.invalid("--box beta=\(beta.lo):\(beta.hi): need 0 < lo < hi < ∞")
        }
        guard separation >= 0, separation < 1 else { throw VerifyError.invalid("--box sep=\(separation): need 0 ≤ sep < 1") }
        guard rewardGap >= 0, rewardGap < reward.width else {
            throw VerifyError.invalid("--box gap=\(rewardGap): need 0 ≤ gap < the reward range's width \(reward.width)")
        }
    }

    /// Parses "delta=0.05,reward=-1:1,beta=0.5:2,sep=0.05,gap=0.1" (any subset, any order) over `self`.
    public func applying(_ spec: String) throws -> VerifyDomain {
        var d = self
        for item in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw VerifyError.invalid("--box item \"\(item)\" is not key=value; keys: delta, reward, beta, sep, gap") }
            func number(_ s: String) throws -> Double {
                guard let v = Double(s), v.isFinite else { throw VerifyError.invalid("--box \(kv[0]): \"\(s)\" is not a finite number") }
                return v
            }
            func range(_ s: String) throws -> Interval {
                let ab = s.split(separator: ":").map(String.init)
                guard ab.count == 2 else { throw VerifyError.invalid("--box \(kv[0])=\(s): write a range as lo:hi, e.g. \(kv[0])=0.5:2") }
                let a = try number(ab[0]), b = try number(ab[1])
                guard a < b else { throw VerifyError.invalid("--box \(kv[0])=\(s): need lo < hi") }
                return Interval(a, b)
            }
            switch kv[0] {
            case "delta": d.delta = try number(kv[1])
            case "reward": d.reward = try range(kv[1])
            case "beta": d.beta = try range(kv[1])
            case "sep": d.separation = try number(kv[1])
            case "gap": d.rewardGap = try number(kv[1])
            default: throw VerifyError.invalid("--box: unknown key \"\(kv[0])\"; keys: delta, reward, beta, sep, gap")
            }
        }
        try d.validate()
        return d
    }

    /// The box in one line, e.g. "N=3, p ≥ 0.05, r ∈ [-1, 1], β ∈ [0.5, 2]" plus the named side conditions.
    public func summary(uses: Set<VerifyCondition>) -> String {
        var s = ["N=\(responses)", "p ≥ \(delta)"]
        if uses.contains(.reward) { s.append("r ∈ [\(reward.lo), \(reward.hi)]") }
        if uses.contains(.beta) { s.append("β ∈ [\(beta.lo), \(beta.hi)]") }
        if uses.contains(.separation) { s.append("|p−q| ≥ \(separation)") }
        if uses.contains(.rewardGap) { s.append("|r_i−r_j| ≥ \(rewardGap)") }
        return s.joined(separator: ", ")
    }
}

/// Which parts of a `VerifyDomain` a claim's box uses.
public enum VerifyCondition: Sendable, Hashable { case reward, beta, separation, rewardGap }

public enum VerifyError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    case unsupported(String)
    public var description: String {
        switch self {
        case let .invalid(s): return s
        case let .unsupported(s): return s
        }
    }
}
