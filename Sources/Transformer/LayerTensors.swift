/// One decoder layer's tensors by name (as llm.c's `params.ln1w`): the position of each in
/// ``Qwen3Model/parameters`` (Hugging Face's order, ``Qwen3Model/parameterLayout(_:)``), so the
/// forward, the backward and the KV-cache decoder write `w[lw.qNorm]`, never `w[p + 5]`.
///
/// Layer l's tensors follow the embedding (index 0) as l·11 + 1 … l·11 + 11:
/// input_layernorm, q/k/v/o_proj, q_norm, k_norm, post_attention_layernorm, gate/up/down_proj.
struct LayerTensors {
    /// Tensors per layer.
    static let count = 11
    /// Hugging Face's names under `model.layers.{l}.`, in parameter order (one place for both).
    static let names = ["input_layernorm.weight", "self_attn.q_proj.weight", "self_attn.k_proj.weight",
                        "self_attn.v_proj.weight", "self_attn.o_proj.weight", "self_attn.q_norm.weight",
                        "self_attn.k_norm.weight", "post_attention_layernorm.weight", "mlp.gate_proj.weight",
                        "mlp.up_proj.weight", "mlp.down_proj.weight"]

    /// rmsnorm weight before attention (C) — llm.c's ln1w.
    let inputNorm: Int
    /// Query, key, value projections (H·D × C, KV·D × C, KV·D × C).
    let qProj: Int, kProj: Int, vProj: Int
    /// Attention output projection (C × H·D).
    let oProj: Int
    /// Per-head rmsnorm weights of q and k (D each; Qwen3's QK-norm).
    let qNorm: Int, kNorm: Int
    /// rmsnorm weight before the MLP (C) — llm.c's ln2w.
    let postAttentionNorm: Int
    /// SwiGLU MLP: gate and up (I × C), down (C × I).
    let gateProj: Int, upProj: Int, downProj: Int

    init(layer l: Int) {
        let b = 1 + l * Self.count
        inputNorm = b
        qProj = b + 1; kProj = b + 2; vProj = b + 3; oProj = b + 4
        qNorm = b + 5; kNorm = b + 6
        postAttentionNorm = b + 7
        gateProj = b + 8; upProj = b + 9; downProj = b + 10
    }
}
