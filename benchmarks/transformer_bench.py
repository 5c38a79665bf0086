#!/usr/bin/env python3
"""PyTorch side of benchmarks/transformer_bench.sh: the same measurements as `sftrl lm bench`.

Training step: forward, mean cross-entropy on random targets, backward, SGD update
(torch.optim.SGD, lr 1e-3, no momentum), on Qwen3ForCausalLM in fp32 with the tiny preset's
config (V 128, C 64, I 192, L 2, H 4 / KV 2, D 32, θ 1e6, tied). Forward of qwen3-0.6b with
random weights under torch.no_grad(). sgemm peak: torch.mm on n×n float32.
Prints JSON on stdout.

Usage: python3 benchmarks/transformer_bench.py --threads 2 --batch 16 --length 64 --steps 30
"""
import argparse
import json
import time

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

PRESETS = {
    "tiny": dict(vocab_size=128, hidden_size=64, intermediate_size=192, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=32, rope_theta=1e6,
                 rms_norm_eps=1e-6, tie_word_embeddings=True, max_position_embeddings=1024),
    "qwen3-0.6b": dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                       num_attention_heads=16, num_key_value_heads=8, head_dim=128, rope_theta=1e6,
                       rms_norm_eps=1e-6, tie_word_embeddings=True, max_position_embeddings=40960),
}


def make(preset, attn):
    cfg = Qwen3Config(**PRESETS[preset], attention_bias=False, hidden_act="silu")
    cfg._attn_implementation = attn
    return Qwen3ForCausalLM(cfg).to(torch.float32), cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--large-length", type=int, default=16)
    ap.add_argument("--large-steps", type=int, default=3)
    ap.add_argument("--peak-size", type=int, default=2048)
    ap.add_argument("--attn", default="sdpa", help="eager or sdpa")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    n = args.peak_size
    a, b = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
    best = 0.0
    for rep in range(4):
        t0 = time.perf_counter()
        torch.mm(a, b)
        dt = time.perf_counter() - t0
        if rep > 0:
            best = max(best, 2 * n ** 3 / dt / 1e9)

    model, cfg = make(args.preset, args.attn)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    tokens = torch.randint(0, cfg.vocab_size, (args.batch, args.length))
    targets = torch.randint(0, cfg.vocab_size, (args.batch, args.length))

    def step():
        opt.zero_grad(set_to_none=False)
        logits = model(input_ids=tokens).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_size), targets.reshape(-1))
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    dt = (time.perf_counter() - t0) / args.steps
    out = {
        "implementation": f"pytorch {torch.__version__} ({args.attn} attention)",
        "threads": torch.get_num_threads(),
        "sgemm_peak_gflops": best,
        "train": {"preset": args.preset, "batch": args.batch, "length": args.length, "steps": args.steps,
                  "update": "sgd", "step_ms": dt * 1e3, "tokens_per_s": args.batch * args.length / dt,
                  "final_loss": loss},
    }
    if args.large_length > 0:
        del model, opt
        big, bcfg = make("qwen3-0.6b", args.attn)
        big.eval()
        toks = torch.tensor([[i * 7919 % bcfg.vocab_size for i in range(args.large_length)]])
        with torch.no_grad():
            big(input_ids=toks)
            t0 = time.perf_counter()
            for _ in range(args.large_steps):
                big(input_ids=toks)
            dt = (time.perf_counter() - t0) / args.large_steps
        out["qwen3_0_6b_forward"] = {"batch": 1, "length": args.large_length, "steps": args.large_steps,
                                     "forward_ms": dt * 1e3, "tokens_per_s": args.large_length / dt}
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
