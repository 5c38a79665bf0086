/// How per-token losses ℓ_{x,i,t} are combined into the step's loss (TRL's `loss_type`; the one
/// aggregation enum of sftrl). With prompt weights q(x) (1 for a batch of prompts), G responses per
/// prompt (N responses in all for a flat batch) and |y_i| tokens in response i:
/// - `grpo`: Σ_x q(x) (1/G) Σ_i (1/|y_i|) Σ_t ℓ (mean over a response's tokens, then over responses);
/// - `dapo`: Σ_x q(x) Σ_i Σ_t ℓ / Σ_x q(x) Σ_i |y_i| (one mean over every token of the batch);
/// - `dr_grpo`: Σ_x q(x) (1/G) Σ_i Σ_t ℓ / L_max (L_max the longest possible completion).
/// With one token per response the three coincide.
public enum LossAggregation: String, CaseIterable, Sendable, Codable {
    case grpo, dapo
    case drGRPO = "dr_grpo"

    /// The weight w of every token of one response in L = Σ w ℓ: q/(G·|y|) (`grpo`), q/total (`dapo`,
    /// total = Σ q·|y| over the batch), q/(G·L_max) (`dr_grpo`); 0 for an empty response.
    @inlinable public func tokenWeight<T: BinaryFloatingPoint>(promptWeight q: T, responses g: T, length: Int,
                                                                 totalTokens: T, maxLength: Int) -> T {
        guard length > 0 else { return 0 }
        switch self {
        case .grpo: return q / (g * T(length))
        case .dapo: return q / totalTokens
        case .drGRPO: return q / (g * T(maxLength))
        }
    }
}
