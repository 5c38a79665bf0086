import RealModule

/// Per-token estimators of KL(p_θ‖π_ref) from a token sampled from p_θ (Schulman's k1, k2, k3;
/// verl's kl, mse, low_var_kl). The one estimator enum of sftrl, with ONE sign convention:
///
///     d = log p_θ(token) − log π_ref(token)    (policy minus reference)
///     k1 = d,   k2 = d²/2,   k3 = e^{−d} − 1 + d  (TRL's, ≥ 0)
///     ∂k/∂log p_θ (the sample held fixed):  ∂k1 = 1,  ∂k2 = d,  ∂k3 = 1 − e^{−d}.
///
/// k1 and k3 are unbiased for KL(p_θ‖π_ref); k2 is not. In the loss, the expected gradient of k3
/// descends the forward KL(π_ref‖p_θ) and that of k2 the reverse KL(p_θ‖π_ref) (issue 20).
public enum KLEstimator: String, CaseIterable, Sendable, Codable {
    case k1, k2, k3

    /// The estimate at d = log p_θ − log π_ref.
    @inlinable public func value<T: Real>(_ d: T) -> T {
        switch self {
        case .k1: return d
        case .k2: return d * d / 2
        case .k3: return T.exp(-d) - 1 + d
        }
    }

    /// ∂(estimate)/∂log p_θ at d (the sample held fixed).
    @inlinable public func derivative<T: Real>(_ d: T) -> T {
        switch self {
        case .k1: return 1
        case .k2: return d
        case .k3: return 1 - T.exp(-d)
        }
    }
}

/// Where the KL regulariser β_kl·k enters GRPO.
/// - `loss` (TRL's GRPO): ℓ_t += β_kl·k(d_t) with d_t at the current θ; its gradient flows through p_θ.
/// - `reward` (verl's `use_kl_in_reward`): each response's reward becomes r − β_kl Σ_t k(d_t) with d_t
///   at the sampling policy θ_old (detached), before the group advantages; the loss has no KL term.
public enum KLPlacement: String, CaseIterable, Sendable, Codable { case loss, reward }

/// The KL term of one token in the loss (placement `loss`), per unit β_kl, and its derivative in
/// log p_θ: k(d), or with TRL's `use_bias_correction_kl` ρ·k(d) with ρ = p_θ/p_θold the importance
/// ratio, differentiated through ρ too: ∂(ρk)/∂log p_θ = ρ·(k(d) + k′(d)) (for k3: ρ·d).
@inlinable public func klLossTerm<T: Real>(_ estimator: KLEstimator, d: T, ratio: T, biasCorrection: Bool) -> (value: T, dLogp: T) {
    let k = estimator.value(d), dk = estimator.derivative(d)
    guard biasCorrection else { return (k, dk) }
    return (ratio * k, ratio * (k + dk))
}

/// The KL penalty subtracted from a response's reward under placement `reward`: β_kl Σ_t k(old_t − ref_t)
/// over its tokens, at the sampling policy's log-probabilities (no gradient).
@inlinable public func klRewardPenalty<T: Real>(_ estimator: KLEstimator, coefficient beta: T, oldLogps: [T], refLogps: [T]) -> T {
    var s: T = 0
    for t in oldLogps.indices { s += estimator.value(oldLogps[t] - refLogps[t]) }
    return beta * s
}
