#!/usr/bin/env python3
"""Builds the golden fixture for the Swift Qwen3 model from Hugging Face transformers.

Writes Tests/TransformerTests/Fixtures/qwen3-tiny/:
  config.json, model.safetensors   a tiny random Qwen3ForCausalLM (fp32, eager attention, seed 1234)
  model-bf16.safetensors           the same weights rounded to bfloat16 by torch
  logits.json                      fixed token ids (2 × 12) and the model's logits (2 × 12 × 257)
  grads.safetensors                autograd gradients of the mean cross-entropy on fixed targets
                                   (in logits.json) for a few tensors

Needs: pip install torch transformers safetensors. The Swift tests never need Python.
Usage: python3 scripts/make_qwen3_fixture.py [out_dir]
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import Qwen3Config, Qwen3ForCausalLM

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "TransformerTests", "Fixtures", "qwen3-tiny")
GRAD_TENSORS = [
    "model.embed_tokens.weight",                # tied head: embedding + head gradients summed
    "model.layers.0.self_attn.q_norm.weight",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.1.mlp.down_proj.weight",
    "model.layers.1.input_layernorm.weight",
    "model.norm.weight",
]


def main():
    torch.manual_seed(1234)
    config = Qwen3Config(
        vocab_size=257, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16,  # H·D = 64 ≠ C = 32, as in Qwen3
        rope_theta=5000.0, rms_norm_eps=1e-6, tie_word_embeddings=True,
        max_position_embeddings=128, attention_bias=False, hidden_act="silu",
    )
    config._attn_implementation = "eager"
    model = Qwen3ForCausalLM(config).to(torch.float32).eval()
    # Larger weights than the 0.02 default so every layer moves the logits; norms ≠ 1.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.25 * torch.randn_like(p))
    os.makedirs(OUT, exist_ok=True)
    model.save_pretrained(OUT, safe_serialization=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file({k: v.to(torch.bfloat16) for k, v in state.items()}, os.path.join(OUT, "model-bf16.safetensors"),
              metadata={"format": "pt"})

    g = torch.Generator().manual_seed(7)
    tokens = torch.randint(0, config.vocab_size, (2, 12), generator=g)
    targets = torch.randint(0, config.vocab_size, (2, 12), generator=g)
    out = model(input_ids=tokens)
    logits = out.logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, config.vocab_size), targets.reshape(-1))
    loss.backward()
    params = dict(model.named_parameters())
    grads = {name: params[name].grad.detach().contiguous() for name in GRAD_TENSORS}
    save_file(grads, os.path.join(OUT, "grads.safetensors"), metadata={"loss": repr(loss.item())})
    with open(os.path.join(OUT, "logits.json"), "w") as f:
        json.dump({
            "tokens": tokens.tolist(),
            "targets": targets.tolist(),
            "loss": loss.item(),
            "logits": [[[round(x, 7) for x in row] for row in seq] for seq in logits.detach().tolist()],
        }, f, separators=(",", ":"))
    print("wrote", os.path.abspath(OUT), "loss", loss.item())


if __name__ == "__main__":
    main()
