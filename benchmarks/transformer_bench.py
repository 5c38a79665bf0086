#!/usr/bin/env python3
"""PyTorch side of benchmarks/transformer_bench.sh: the measurements of `sftrl lm bench`, with the
same flat JSON keys, on transformers' Qwen3ForCausalLM (fp32, random weights, eager CPU).

Training step: forward, mean cross-entropy on random targets, backward, SGD update
(torch.optim.SGD, lr 1e-3, no momentum), `steps` timed after `warmup` untimed steps.
Forward: 1 × forward-length tokens under torch.no_grad(). Decode: greedy, KV cache
(use_cache=True, past_key_values), batch 1, decode-tokens tokens after the forward's prompt.
sgemm peak: torch.mm on n×n float32 (best of 3 after a warm-up). Matmul FLOPs: the same count
as Qwen3Config.forwardMatmulFlops in sftrl (×3 for a training step).

Usage: python3 benchmarks/transformer_bench.py --preset small --threads 1 [--batch 8 --length 128]
       [--steps 20] [--phases train,forward,decode] [--attn sdpa|eager]
"""
import argparse
import json
import resource
import time

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

PRESETS = {
    "tiny": dict(vocab_size=128, hidden_size=64, intermediate_size=192, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=32, rope_theta=1e6,
                 rms_norm_eps=1e-6, tie_word_embeddings=True, max_position_embeddings=1024),
    "small": dict(vocab_size=1024, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                  num_attention_heads=4, num_key_value_heads=2, head_dim=64, rope_theta=1e6,
                  rms_norm_eps=1e-6, tie_word_embeddings=True, max_position_embeddings=1024),
    "qwen3-0.6b": dict(vocab_size=151936, hidden_size=1024, intermediate_size=3072, num_hidden_layers=28,
                       num_attention_heads=16, num_key_value_heads=8, head_dim=128, rope_theta=1e6,
                       rms_norm_eps=1e-6, tie_word_embeddings=True, max_position_embeddings=40960),
}


def forward_matmul_flops(c, batch, length):
    """sftrl's Qwen3Config.forwardMatmulFlops: projections, attention over the full T×T square, head."""
    n, d = batch * length, c.head_dim
    hd, kvd = c.num_attention_heads * d, c.num_key_value_heads * d
    proj = 2 * n * (c.hidden_size * hd + 2 * c.hidden_size * kvd + hd * c.hidden_size
                    + 3 * c.hidden_size * c.intermediate_size)
    attn = 4 * batch * c.num_attention_heads * length * length * d
    return c.num_hidden_layers * (proj + attn) + 2 * n * c.hidden_size * c.vocab_size


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_average():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def blas_kernel():
    """The kernel behind torch.mm: the BLAS and CPU capability PyTorch was built and dispatched with."""
    info = dict(kv.split("=", 1) for kv in torch.__config__.show().replace(",", " ").split() if "=" in kv)
    cap = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else "?"
    return f"BLAS {info.get('BLAS_INFO', '?')}, oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}, cpu capability {cap}"


def read_bandwidth(nbytes=512 << 20):
    """GB/s of torch.sum over a float32 buffer far larger than the caches (best of 3 after a warm-up),
    at torch's thread count: the same measurement as sftrl's `read_bandwidth_gbs`."""
    x = torch.ones(nbytes // 4)
    best = 0.0
    for rep in range(4):
        t0 = time.perf_counter()
        x.sum().item()
        dt = time.perf_counter() - t0
        if rep > 0:
            best = max(best, x.numel() * 4 / dt / 1e9)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup-steps", type=int, default=2)
    ap.add_argument("--forward-length", type=int, default=16)
    ap.add_argument("--forward-repeats", type=int, default=5)
    ap.add_argument("--decode-tokens", type=int, default=32)
    ap.add_argument("--phases", default="forward,decode,train")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--peak-size", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--attn", default="sdpa", help="eager or sdpa")
    args = ap.parse_args()
    phases = set(args.phases.split(","))
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    load_start = load_average()
    n = args.peak_size
    a, b = torch.full((n, n), 0.5), torch.full((n, n), 0.25)
    best = 0.0
    for rep in range(4):
        t0 = time.perf_counter()
        torch.mm(a, b)
        dt = time.perf_counter() - t0
        if rep > 0:
            best = max(best, 2 * n ** 3 / dt / 1e9)
    del a, b

    cfg = Qwen3Config(**PRESETS[args.preset], attention_bias=False, hidden_act="silu")
    cfg._attn_implementation = args.attn
    model = Qwen3ForCausalLM(cfg).to(torch.float32)
    out = {
        "implementation": f"pytorch {torch.__version__} ({args.attn} attention)",
        "model": args.preset, "parameters": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(), "sgemm_peak_size": n, "sgemm_peak_gflops": best,
        "blas_kernel": blas_kernel(), "load_average_start": load_start,
    }
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    if "forward" in phases or "decode" in phases:
        out["read_bandwidth_gbs"] = read_bandwidth()
    prompt = torch.tensor([[i * 7919 % cfg.vocab_size for i in range(args.forward_length)]])
    if "forward" in phases:
        model.eval()
        with torch.no_grad():
            model(input_ids=prompt)
            t0 = time.perf_counter()
            for _ in range(args.forward_repeats):
                model(input_ids=prompt)
            dt = (time.perf_counter() - t0) / args.forward_repeats
        g = forward_matmul_flops(cfg, 1, args.forward_length) / dt / 1e9
        out.update(forward_length=args.forward_length, forward_ms=dt * 1e3,
                   forward_tokens_per_second=args.forward_length / dt, forward_matmul_gflops=g,
                   forward_share_of_sgemm_peak=g / best, forward_peak_rss_mib=peak_rss_mib(),
                   forward_share_of_read_bandwidth=weight_bytes / dt / 1e9 / out["read_bandwidth_gbs"])
    if "decode" in phases:
        model.eval()
        with torch.no_grad():
            res = model(input_ids=prompt, use_cache=True)
            past, nxt = res.past_key_values, res.logits[:, -1].argmax(-1, keepdim=True)
            t0 = time.perf_counter()
            for _ in range(args.decode_tokens):
                res = model(input_ids=nxt, past_key_values=past, use_cache=True)
                past, nxt = res.past_key_values, res.logits[:, -1].argmax(-1, keepdim=True)
            dt = time.perf_counter() - t0
        out.update(decode_tokens=args.decode_tokens, decode_ms_per_token=dt / args.decode_tokens * 1e3,
                   decode_tokens_per_second=args.decode_tokens / dt, decode_peak_rss_mib=peak_rss_mib(),
                   decode_share_of_read_bandwidth=weight_bytes * args.decode_tokens / dt / 1e9 / out["read_bandwidth_gbs"])
    if "train" in phases:
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

        for _ in range(args.warmup_steps):
            step()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            loss = step()
        dt = (time.perf_counter() - t0) / args.steps
        g = 3 * forward_matmul_flops(cfg, args.batch, args.length) / dt / 1e9
        out.update(train_batch=args.batch, train_length=args.length, train_steps=args.steps,
                   train_update="sgd", train_step_ms=dt * 1e3,
                   train_tokens_per_second=args.batch * args.length / dt, train_matmul_gflops=g,
                   train_share_of_sgemm_peak=g / best, train_final_loss=loss, train_peak_rss_mib=peak_rss_mib())
    out["peak_rss_mib"] = peak_rss_mib()
    out["load_average_end"] = load_average()
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
