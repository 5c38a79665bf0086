import Foundation
import Policies

/// A practical method (``PracticalMethod``, `sftrl fixedpoint`'s) placed against the Pareto front:
/// where its exact expected-update flow θ̇ = v(θ) converges (``FixedPoint``) in the (L_SFT, J_β)
/// plane, J_β with the instance's β, and its three gaps to the front. A limit on the boundary of
/// the simplex that drops a response of the data's support (DFT's mode, CHORD-φ's water-filling)
/// has L_SFT = +∞: its `sftGap` is +∞ and its `distance` the distance to the front's SFT end
/// along J_β only where the front is bounded in L (reported as +∞); its `rewardGap` (the front's
/// J_β at L = ∞, the RL end's, minus the limit's) stays finite.
public struct ParetoMethodLimit: Sendable {
    public var settings: PracticalSettings
    public var fixedPoint: FixedPoint
    public var sftLoss: Double
    public var reward: Double
    public var rewardReg: Double
    public var distance: Double
    public var rewardGap: Double
    public var sftGap: Double

    /// The method's name in tables: its id (`grpo`, `dft`, …).
    public var name: String { settings.method.rawValue }

    public static func compute(_ settings: PracticalSettings, instance: Instance, curve: ParetoCurve) throws -> ParetoMethodLimit {
        let fp = try FixedPoint.compute(instance: instance, settings: settings)
        let plane = try instance.paretoPlane(probs: fp.policy)
        let l = plane.sftLoss, j = plane.rewardReg
        return ParetoMethodLimit(settings: settings, fixedPoint: fp, sftLoss: l, reward: plane.reward, rewardReg: j,
                                 distance: l.isFinite ? curve.distance(sft: l, reward: j) : .infinity,
                                 rewardGap: curve.rewardGap(sft: l, reward: j), sftGap: l.isFinite ? curve.sftGap(sft: l, reward: j) : .infinity)
    }
}

extension Instance {
    /// L_SFT, J and J_β (the instance's β) of the policy given by its response (autoregressive:
    /// sequence) probabilities per prompt (``paretoPoint(mu:probs:)``, of the sequence twin for
    /// autoregressive instances).
    public func paretoPlane(probs: [[Double]]) throws -> ParetoPoint {
        if case .autoregressive = policy { return try sequenceTabularTwin().paretoPoint(mu: .nan, probs: probs) }
        return paretoPoint(mu: .nan, probs: probs)
    }
}

extension ParetoPath {
    /// The practical method's exact expected-update flow (``PracticalUpdate/system``) from the
    /// instance's start to t = `duration`, measured against `curve` at `samples` evenly spaced times.
    /// The path is named `method-ID`; its schedule only carries the length (one phase of `duration`),
    /// `spec` names the method.
    public static func runMethod(_ settings: PracticalSettings, instance: Instance, duration: Double, curve: ParetoCurve,
                                 samples: Int, options: IntegratorOptions = IntegratorOptions()) throws -> ParetoPath {
        let u = try PracticalUpdate(instance: instance, settings: settings)
        let times = (0..<samples).map { duration * Double($0) / Double(samples - 1) }
        let traj = try integrate(u.system, from: 0, y0: instance.start, to: duration, outputTimes: Array(times.dropFirst()), options: options)
        let states = [instance.start] + traj.states
        let rows = zip(times, states).map { t, theta -> Row in
            let pt = instance.point(theta)
            let l = instance.value(.sft, at: pt), j = instance.value(.rewardRegularized, at: pt)
            return Row(t: t, phase: settings.method.rawValue, sftLoss: l, reward: instance.value(.reward, at: pt), rewardReg: j,
                       distance: curve.distance(sft: l, reward: j), rewardGap: curve.rewardGap(sft: l, reward: j),
                       sftGap: curve.sftGap(sft: l, reward: j))
        }
        var path = ParetoPath(name: "method-\(settings.method.rawValue)", schedule: try Schedule(phases: [Phase(.rl, duration: duration)]), rows: rows)
        path.methodSpec = settings.method.rawValue
        return path
    }
}
