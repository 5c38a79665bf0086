import RealModule

/// The clipped-ratio surrogate of one token and its derivative in log p_θ:
///
///     ρ = e^{lp − old},   ℓ = −min(ρ·A, clip(ρ, 1 − ε, 1 + ε_high)·A),
///     ∂ℓ/∂lp = −A·ρ where the unclipped term is the minimum, else 0.
///
/// The clipped term is strictly smaller (`clipped`, TRL's clip-ratio region) exactly when A > 0 and
/// ρ > 1 + ε_high, or A < 0 and ρ < 1 − ε; A = 0 is never clipped.
@inlinable public func clippedSurrogate<T: Real & BinaryFloatingPoint>(logp: T, oldLogp: T, advantage a: T, epsilon: T, epsilonHigh: T)
    -> (ratio: T, loss: T, dLogp: T, clipped: Bool) {
    TokenSurrogate.clip.term(logp: logp, logRatio: logp - oldLogp, advantage: a, epsilon: epsilon, epsilonHigh: epsilonHigh,
                             sapo: SAPOTemperatures())
}

/// One completion token of GRPO's loss, per unit aggregation weight: the surrogate (``TokenSurrogate``,
/// the clipped ratio unless `surrogate` says otherwise; `logRatio` overrides lp − old, for GSPO's
/// sequence-level ratio) plus, under
/// placement `loss`, β_kl times the KL term (see ``klLossTerm(_:d:ratio:biasCorrection:)``), with the
/// token's log-probabilities now (`logp`), at sampling (`oldLogp`) and under π_ref (`refLogp`, nil:
/// no KL). `kl` is the estimate k(logp − refLogp) (logged whatever the placement).
public struct GRPOTokenTerm<T: Real & BinaryFloatingPoint> {
    public var loss: T
    public var dLogp: T
    public var clipped: Bool
    public var kl: T?

    @inlinable public init(logp: T, oldLogp: T, refLogp: T?, advantage a: T, epsilon: T, epsilonHigh: T,
                           klCoefficient beta: T, estimator: KLEstimator, placement: KLPlacement, biasCorrection: Bool,
                           surrogate: TokenSurrogate = .clip, logRatio: T? = nil, sapo: SAPOTemperatures = SAPOTemperatures()) {
        let s = surrogate.term(logp: logp, logRatio: logRatio ?? (logp - oldLogp), advantage: a, epsilon: epsilon,
                               epsilonHigh: epsilonHigh, sapo: sapo)
        loss = s.loss; dLogp = s.dLogp; clipped = s.clipped; kl = nil
        if let ref = refLogp {
            let d = logp - ref
            kl = estimator.value(d)
            if placement == .loss, beta != 0 {
                let k = klLossTerm(estimator, d: d, ratio: s.ratio, biasCorrection: biasCorrection)
                loss += beta * k.value
                dLogp += beta * k.dLogp
            }
        }
    }
}
