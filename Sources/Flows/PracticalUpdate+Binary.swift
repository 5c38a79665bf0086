import Foundation
import Policies

/// Expected updates of RL with a binary reward (r(x, y) ∈ {0, 1}; S_x = {y : r(x, y) > 0} the
/// rewarded set, p_x = p_θ(S_x|x) the success probability): the claims `psr-nsr-equal`,
/// `grpo-binary-arcsin` and `rl-razor` read them. s(y) = 1/|y| with length normalisation (|y| the
/// emitted tokens, ``DecisionNodes/tokenCount(response:)``), else 1.
extension PracticalUpdate {
    /// Positive-sample reinforcement (PSR): REINFORCE on the rewarded samples only, the loss
    /// −s(y)·log p(y) for y ∈ S_x:  v = Σ_x q Σ_{y ∈ S_x} p(y) s(y) ∇log p(y)   (= Σ_x q ∇p_x for s ≡ 1).
    public func psrDirection(_ theta: [Double], lengthNormalised: Bool) -> [Double] {
        reinforceDirection(theta, rewarded: true, sign: 1, lengthNormalised: lengthNormalised)
    }

    /// Negative-sample reinforcement (NSR): the unrewarded samples only, the loss +s(y)·log p(y)
    /// for y ∉ S_x:  v = −Σ_x q Σ_{y ∉ S_x} p(y) s(y) ∇log p(y)   (= −Σ_x q ∇(1 − p_x) for s ≡ 1).
    public func nsrDirection(_ theta: [Double], lengthNormalised: Bool) -> [Double] {
        reinforceDirection(theta, rewarded: false, sign: -1, lengthNormalised: lengthNormalised)
    }

    func reinforceDirection(_ theta: [Double], rewarded: Bool, sign: Double, lengthNormalised: Bool) -> [Double] {
        let probs = nodes.sequenceProbabilities(nodes.values(theta))
        let inst = instance, nd = nodes
        return tokenDirection(theta, coefficient: { x, y in
            guard (inst.reward[x][y] > 0) == rewarded else { return 0 }
            let s = lengthNormalised ? 1 / Double(nd.tokenCount(response: y)) : 1
            return sign * inst.weights[x] * probs[x][y] * s
        }, tokenWeight: { _ in 1 })
    }

    /// GRPO's population update (the group size G → ∞ with the std's 10⁻⁴ dropped): the advantage
    /// (r − μ_x)/σ_x with μ_x = E_p r, σ_x² = Var_p r, so v = Σ_x q Σ_y p(y)(r − μ_x)/σ_x ∇log p(y);
    /// prompts with σ_x = 0 contribute 0 (as in TRL). For a binary reward it is Σ_x q ∇p_x/√(p_x(1 − p_x)).
    public func populationGRPODirection(_ theta: [Double]) -> [Double] {
        let probs = nodes.sequenceProbabilities(nodes.values(theta))
        var adv = probs.map { [Double](repeating: 0, count: $0.count) }
        for x in probs.indices {
            let r = instance.reward[x]
            let mu = Dist.expectation(probs[x], r)
            let v = probs[x].indices.reduce(0.0) { $0 + probs[x][$1] * (r[$1] - mu) * (r[$1] - mu) }
            guard v > 0 else { continue }
            adv[x] = r.map { ($0 - mu) / v.squareRoot() }
        }
        let inst = instance
        return tokenDirection(theta, coefficient: { x, y in inst.weights[x] * probs[x][y] * adv[x][y] }, tokenWeight: { _ in 1 })
    }

    /// GRPO with a binary reward and group std scaling (``groupAdvantages``, `group`): by
    /// exchangeability the expected update on a prompt is E[A_1 ∇log p(y_1)] = (a₊ − a₋)∇p_x with
    /// a± = E[A_1 | r_1 = 1 or 0], so TRL's exact expected update is Σ_x q w_G(p_x)∇p_x with
    ///
    ///     w_G(p) = a₊ − a₋ = Σ_k C(G−1, k) p^k (1 − p)^{G−1−k} [A_1(1, k) − A_1(0, k)],
    ///
    /// A_1(r₁, k) the first advantage of the group (r₁, 1 × k, 0 × (G − 1 − k)) (exact for every G;
    /// tabular one-token responses, or any class with the `grpo` aggregation replaced by a sequence sum).
    public static func binaryGroupWeight(successProbability p: Double, groupSize g: Int, scaling: AdvantageScaling) -> Double {
        precondition(g >= 1 && p >= 0 && p <= 1)
        var w = 0.0
        var logC = 0.0   // log C(G−1, k)
        for k in 0..<g {
            if k > 0 { logC += Foundation.log(Double(g - k)) - Foundation.log(Double(k)) }
            let lp = (k > 0 ? Double(k) * Foundation.log(p) : 0) + (g - 1 - k > 0 ? Double(g - 1 - k) * Foundation.log1p(-p) : 0)
            let pk = Foundation.exp(logC + lp)
            guard pk > 0 else { continue }
            let others = [Double](repeating: 1, count: k) + [Double](repeating: 0, count: g - 1 - k)
            let aPlus: Double = groupAdvantages(groups: [[1] + others], scaling: scaling).advantages[0][0]
            let aMinus: Double = groupAdvantages(groups: [[0] + others], scaling: scaling).advantages[0][0]
            w += pk * (aPlus - aMinus)
        }
        return w
    }
}

/// The natural-gradient flow of J on a tabular instance: with the Fisher of each prompt's softmax,
/// q(x)(diag p − ppᵀ), the natural gradient of J in the logits z_x is the advantage
/// u_x = r_x − E_p r_x (up to the Fisher's null direction 1, which does not move p), so
///
///     ż_x = r_x − E_{p_x} r_x,   whose solution is p_t ∝ π₀·e^{t·r} (mirror ascent with the KL
///     mirror map, exponentiated gradient, in continuous time).
public enum NaturalGradient {
    /// The flow ż = r − E_p r on a tabular instance (θ = the logits), as an ``ODESystem``.
    public static func system(_ instance: Instance) throws -> ODESystem {
        guard case .tabular = instance.policy else { throw FlowError.invalid("the natural-gradient flow is implemented for tabular instances only") }
        let inst = instance
        let offsets = inst.policy.offsets
        return ODESystem(dimension: inst.policy.dimension, rhs: { _, z, dz in
            for x in inst.reward.indices {
                let o = offsets[x], r = inst.reward[x]
                var m = -Double.infinity
                for y in r.indices { m = Swift.max(m, z[o + y]) }
                var s = 0.0, e = 0.0
                for y in r.indices { let w = Foundation.exp(z[o + y] - m); s += w; e += w * r[y] }
                let mean = e / s
                for y in r.indices { dz[o + y] = r[y] - mean }
            }
        })
    }
}
