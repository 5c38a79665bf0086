/// How per-token losses ℓ_{x,i,t} are combined into the step's loss (TRL's `loss_type`; the one
/// aggregation enum of sftrl). With prompt weights q(x) (1 for a batch of prompts), G responses per
/// prompt (N responses in all for a flat batch) and |y_i| tokens in response i:
/// - `grpo`: Σ_x q(x) (1/G) Σ_i (1/|y_i|) Σ_t ℓ (mean over a response's tokens, then over responses);
/// - `dapo`: Σ_x q(x) Σ_i Σ_t ℓ / Σ_x q(x) Σ_i |y_i| (one mean over every token of the batch);
/// - `dr_grpo`: Σ_x q(x) (1/G) Σ_i Σ_t ℓ / L_max (L_max the longest possible completion);
/// - `bnpo`: TRL's sum over the local batch's tokens divided by their count: `dapo` on one process
///   without gradient accumulation (the only setting here);
/// - `cispo`: `dapo`'s aggregation of CISPO's token loss (``TokenSurrogate/cispo``);
/// - `sapo`: `grpo`'s aggregation of SAPO's soft-gated token loss (``TokenSurrogate/sapo``).
/// With one token per response the aggregations coincide.
public enum LossAggregation: String, CaseIterable, Sendable, Codable {
    case grpo, dapo
    case drGRPO = "dr_grpo"
    case bnpo, cispo, sapo

    /// The per-token surrogate TRL pairs with this `loss_type`: CISPO's and SAPO's own, else the
    /// clipped ratio.
    public var surrogate: TokenSurrogate {
        switch self {
        case .cispo: return .cispo
        case .sapo: return .sapo
        default: return .clip
        }
    }

    /// Whether the weights divide by the batch's total token count (dapo, bnpo, cispo).
    public var normalisesByBatchTokens: Bool { self == .dapo || self == .bnpo || self == .cispo }

    /// The weight w of every token of one response in L = Σ w ℓ: q/(G·|y|) (`grpo`, `sapo`),
    /// q/total (`dapo`, `bnpo`, `cispo`; total = Σ q·|y| over the batch), q/(G·L_max) (`dr_grpo`);
    /// 0 for an empty response.
    @inlinable public func tokenWeight<T: BinaryFloatingPoint>(promptWeight q: T, responses g: T, length: Int,
                                                                 totalTokens: T, maxLength: Int) -> T {
        guard length > 0 else { return 0 }
        switch self {
        case .grpo, .sapo: return q / (g * T(length))
        case .dapo, .bnpo, .cispo: return q / totalTokens
        case .drGRPO: return q / (g * T(maxLength))
        }
    }
}
