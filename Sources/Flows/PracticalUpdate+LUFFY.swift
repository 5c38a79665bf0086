import Foundation
import Policies
import PostTraining

extension PracticalUpdate {
    /// LUFFY's off-policy token weight: the gradient of the shaped ratio f(π) = π/(π + γ) is
    /// f′(π)·π·∇log π = γπ/(π + γ)²·∇log π (LUFFY's "policy shaping", the off-policy policy's
    /// probability taken as 1, so the importance ratio is π itself).
    /// The formula is ``LUFFYWeight/dLogp(_:)``'s, the one the sampled algorithm uses.
    public static func luffyShapingWeight(_ pi: Double, gamma: Double) -> Double {
        LUFFYWeight(gamma: gamma).dLogp(pi)
    }

    /// LUFFY's exact expected update at ratio 1 (Yan et al., "Learning to Reason under Off-Policy
    /// Guidance", arXiv 2504.14945, Mixed-Policy GRPO with policy shaping). Per prompt x, a group of
    /// G samples: M = G − N on-policy y_1…y_M ∼ p_θ(·|x) and N off-policy y′_1…y′_N ∼ p_D(·|x) (the
    /// demonstrations), rewards r, advantages A normalised over the whole group of G together
    /// (``groupAdvantages``: `group`, (r − mean)/(std + 10⁻⁴), or `none`, r − mean). The loss of the
    /// group is −(1/G)[Σ_i A_i Σ_t log π_t(y_i) + Σ_j A_j Σ_t f(π_t(y′_j))], f(π) = π/(π + γ), summed
    /// over each sample's tokens (the end token where emitted) and averaged over the G samples, so
    ///
    ///     v = Σ_x q(x) E[(1/G)(Σ_i A_i Σ_t ∇log π_t(y_i) + Σ_j A_j Σ_t γπ_t/(π_t + γ)² ∇log π_t(y′_j))],
    ///
    /// the expectation exact over every pair of multisets (on-policy under p_θ, off-policy under
    /// p_D). No KL term, no clipping (ratio 1). N = 0 is on-policy GRPO with sequence-summed tokens;
    /// on tabular instances (one token) it is TRL's GRPO at β = 0 for every aggregation.
    public func luffyDirection(_ theta: [Double]) -> [Double] {
        let g = settings.groupSize ?? PracticalSettings.defaultGroupSize
        let off = settings.offPolicy ?? PracticalSettings.defaultOffPolicy
        let gamma = settings.shapingGamma ?? PracticalSettings.defaultShapingGamma
        let scaling = settings.scaling ?? .group
        let probs = nodes.sequenceProbabilities(nodes.values(theta))
        var onCoef = instance.reward.map { [Double](repeating: 0, count: $0.count) }
        var offCoef = onCoef
        for x in instance.weights.indices where instance.weights[x] > 0 {
            let q = instance.weights[x], r = instance.reward[x]
            let offSets = UpdateDistribution.multisets(instance.data[x], off)
            for (on, pOn) in UpdateDistribution.multisets(probs[x], g - off) {
                for (offSample, pOff) in offSets {
                    let rewards = on.map { r[$0] } + offSample.map { r[$0] }
                    let a: [Double] = groupAdvantages(groups: [rewards], scaling: scaling).advantages[0]
                    let c = q * pOn * pOff / Double(g)
                    for (i, y) in on.enumerated() { onCoef[x][y] += c * a[i] }
                    for (j, y) in offSample.enumerated() { offCoef[x][y] += c * a[on.count + j] }
                }
            }
        }
        let vOn = tokenDirection(theta, coefficient: { onCoef[$0][$1] }, tokenWeight: { _ in 1 })
        let vOff = tokenDirection(theta, coefficient: { offCoef[$0][$1] }, tokenWeight: { PracticalUpdate.luffyShapingWeight($0, gamma: gamma) })
        return zip(vOn, vOff).map { $0 + $1 }
    }
}
