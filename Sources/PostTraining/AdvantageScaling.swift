// (RealModule is re-exported: callers of these generic definitions need `Double: Real` in scope.)
@_exported import RealModule

/// How GRPO scales the group-centred rewards (TRL's `scale_rewards`; the one scaling enum of sftrl):
/// A_i = (r_i − mean_group r)/(s + 1e-4) with s the unbiased standard deviation of the group
/// (`group`) or of every reward of the batch (`batch`), or A_i = r_i − mean_group r (`none`, Dr. GRPO).
public enum AdvantageScaling: String, CaseIterable, Sendable, Codable { case group, batch, none }

/// Group advantages of one batch, with the statistics TRL logs.
public struct GroupAdvantages<T: Real & BinaryFloatingPoint>: Sendable, Equatable where T: Sendable {
    /// Per group (prompt), one advantage per reward, in the input order.
    public var advantages: [[T]]
    /// The unbiased standard deviation of each group's rewards (0 for a group of one).
    public var groupStd: [T]
    /// Fraction of groups whose rewards are all equal (std < 1e-12): their advantages are 0 and they
    /// contribute no policy gradient (TRL's `frac_reward_zero_std`).
    public var zeroStdFraction: T

    @inlinable public init(advantages: [[T]], groupStd: [T], zeroStdFraction: T) {
        self.advantages = advantages; self.groupStd = groupStd; self.zeroStdFraction = zeroStdFraction
    }
}

/// The unbiased standard deviation √(Σ (v − m)² / (n − 1)), 0 for fewer than two values.
@inlinable public func unbiasedStandardDeviation<T: Real & BinaryFloatingPoint, C: Collection>(_ v: C) -> T where C.Element == T {
    guard v.count > 1 else { return 0 }
    let m = v.reduce(0, +) / T(v.count)
    return (v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / T(v.count - 1)).squareRoot()
}

/// GRPO's advantages of rewards grouped by prompt (see ``AdvantageScaling``): the group mean is
/// subtracted, then the result is divided by s + 1e-4 (s: group or batch unbiased std) or not at all.
/// A zero-variance group gives 0 in every mode.
@inlinable public func groupAdvantages<T: Real & BinaryFloatingPoint>(groups rewards: [[T]], scaling: AdvantageScaling) -> GroupAdvantages<T> where T: Sendable {
    let batchStd: T = unbiasedStandardDeviation(Array(rewards.joined()))
    var stds: [T] = []
    stds.reserveCapacity(rewards.count)
    var zero = 0
    let adv = rewards.map { r -> [T] in
        let m = r.reduce(0, +) / T(r.count)
        let s: T = unbiasedStandardDeviation(r)
        stds.append(s)
        if s < 1e-12 { zero += 1 }
        switch scaling {
        case .none: return r.map { $0 - m }
        case .group: let d = s + 1e-4; return r.map { ($0 - m) / d }
        case .batch: let d = batchStd + 1e-4; return r.map { ($0 - m) / d }
        }
    }
    return GroupAdvantages(advantages: adv, groupStd: stds,
                           zeroStdFraction: rewards.isEmpty ? 0 : T(zero) / T(rewards.count))
}
