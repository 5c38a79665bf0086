import RealModule

/// The policy-gradient term of one completion token, as TRL's `loss_type` chooses it. With
/// ρ = e^{lr} the importance ratio (lr = lp − old for token-level importance sampling, the
/// sequence's mean of lp − old for GSPO's `sequence` level) and A the advantage:
///
///     clip   ℓ = −min(ρA, clip(ρ, 1 − ε, 1 + ε_high)A),      ∂ℓ/∂lp = −Aρ unclipped, else 0
///     cispo  ℓ = −sg(min(ρ, ε_high))·A·lp,                   ∂ℓ/∂lp = −min(ρ, ε_high)·A
///     sapo   ℓ = −(4/τ)·σ(τ(ρ − 1))·A,  τ = τ_pos (A > 0) or τ_neg,   ∂ℓ/∂lp = −4σ(1 − σ)·ρ·A
///
/// CISPO caps the *ratio itself* at ε_high (TRL's `clamp(coef_1, max=epsilon_high)`), so with
/// TRL's default ε_high = ε = 0.2 every on-policy token (ρ = 1) has weight 0.2, not 1. SAPO's gate
/// has slope 1 at ρ = 1: its first on-policy step equals GRPO's (−A per token).
public enum TokenSurrogate: String, CaseIterable, Sendable, Codable { case clip, cispo, sapo }

/// SAPO's gate temperatures (TRL's `sapo_temperature_pos` 1.0, `sapo_temperature_neg` 1.05).
public struct SAPOTemperatures: Sendable, Equatable, Codable {
    public var positive: Double
    public var negative: Double
    public init(positive: Double = 1.0, negative: Double = 1.05) { self.positive = positive; self.negative = negative }
}

/// Importance sampling level of the ratio (TRL's `importance_sampling_level`): per token, or
/// GSPO's per sequence ρ_seq = exp(mean_t (lp_t − old_t)), shared by every token of the sequence.
public enum ImportanceSamplingLevel: String, CaseIterable, Sendable, Codable { case token, sequence }

extension TokenSurrogate {
    /// ℓ and ∂ℓ/∂lp at log-ratio `logRatio` (ρ = e^{logRatio}) and log-probability `logp` (read by
    /// cispo's value only); `clipped` is TRL's clip-ratio indicator (cispo: A > 0 and ρ > ε_high).
    /// For the sequence level, ∂ℓ/∂lp is per token of the sequence: ρ_seq depends on each lp_t
    /// through mean_t, and the 1/|y| of the mean cancels the |y| tokens that share the loss.
    @inlinable public func term<T: Real & BinaryFloatingPoint>(logp: T, logRatio: T, advantage a: T, epsilon: T, epsilonHigh: T,
                                         sapo: SAPOTemperatures) -> (ratio: T, loss: T, dLogp: T, clipped: Bool) {
        let rho = T.exp(logRatio)
        switch self {
        case .clip:
            let clipped = a > 0 ? rho > 1 + epsilonHigh : (a < 0 ? rho < 1 - epsilon : false)
            if !clipped { return (rho, -(rho * a), -a * rho, false) }
            return (rho, -(min(max(rho, 1 - epsilon), 1 + epsilonHigh) * a), 0, true)
        case .cispo:
            let w = min(rho, epsilonHigh)
            return (rho, -(w * a * logp), -(w * a), a > 0 && rho > epsilonHigh)
        case .sapo:
            let tau = T(a > 0 ? sapo.positive : sapo.negative)
            let s = 1 / (1 + T.exp(-tau * (rho - 1)))
            return (rho, -(4 / tau) * s * a, -4 * s * (1 - s) * rho * a, false)
        }
    }
}

/// LUFFY's off-policy token (arXiv 2504.14945, "policy shaping"): the ratio of an off-policy token
/// is replaced by f(π) = π/(π + γ) of its current probability π (γ = 0.1 by default, the behaviour
/// policy taken as 1), so ℓ = −f(π)·A and ∂ℓ/∂log π = −A·f′(π)·π = −A·γπ/(π + γ)². The one definition
/// of LUFFY's per-sample loss, for the sampled algorithm and for its expected-update flow.
public struct LUFFYWeight: Sendable, Equatable, Codable {
    public var gamma: Double
    public init(gamma: Double = 0.1) { self.gamma = gamma }
    /// f(π) = π/(π + γ).
    @inlinable public func value<T: Real & BinaryFloatingPoint>(_ p: T) -> T { p / (p + T(gamma)) }
    /// ∂f(π)/∂log π = γπ/(π + γ)².
    @inlinable public func dLogp<T: Real & BinaryFloatingPoint>(_ p: T) -> T { let d = p + T(gamma); return T(gamma) * p / (d * d) }
    /// The token's loss −f(π)·A and its derivative in log π.
    @inlinable public func term<T: Real & BinaryFloatingPoint>(probability p: T, advantage a: T) -> (loss: T, dLogp: T) {
        (-value(p) * a, -dLogp(p) * a)
    }
}

/// The token weight w(π) of a weighted SFT loss −sg(w(π))·log π (the weight held fixed):
/// `plain` w = 1 (SFT), `dft` w = π (TRL's SFT `loss_type="dft"`), `phi` w = π(1 − π) (CHORD-φ).
/// Raw values are the command line's (`train --sft-loss-type`; TRL's SFT `loss_type` names nll and dft).
public enum SFTTokenWeight: String, CaseIterable, Sendable, Codable {
    case plain = "nll", dft
    case phi = "chord-phi"
    @inlinable public func weight<T: Real>(_ p: T) -> T {
        switch self {
        case .plain: return 1
        case .dft: return p
        case .phi: return p * (1 - p)
        }
    }
}

/// CHORD's schedule of the SFT weight μ over steps s = 0, 1, …: linear warm-up from 0 to μ_peak over
/// `warmup` steps, cosine decay to μ_valley over `decay` steps, then μ_valley:
///
///     μ(s) = μ_peak·s/warmup                                           s < warmup
///     μ(s) = μ_valley + (μ_peak − μ_valley)·(1 + cos(π(s − warmup)/decay))/2   warmup ≤ s < warmup + decay
///     μ(s) = μ_valley                                                   otherwise
/// (CHORD, arXiv 2508.11408; the schedule of its reference implementation.)
public struct CHORDMuSchedule: Sendable, Equatable, Codable {
    public var peak: Double
    public var valley: Double
    public var warmup: Int
    public var decay: Int
    public init(peak: Double, valley: Double, warmup: Int, decay: Int) {
        self.peak = peak; self.valley = valley; self.warmup = warmup; self.decay = decay
    }
    public func mu(step s: Int) -> Double {
        if s < warmup { return peak * Double(s) / Double(warmup) }
        if s >= warmup + decay { return valley }
        let c = 0.5 * (1 + Double.cos(Double.pi * Double(s - warmup) / Double(decay)))
        return valley + (peak - valley) * c
    }
}
