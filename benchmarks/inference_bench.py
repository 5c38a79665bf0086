#!/usr/bin/env python3
"""PyTorch side of benchmarks/inference_bench.sh: the measurements of `sftrl lm bench --phases forward,decode`.

transformers Qwen3ForCausalLM with random weights (the qwen3-0.6b config, or tiny or small), eval mode,
torch.no_grad(), sdpa attention, torch.set_num_threads(--threads). Tokens i·7919 mod V.
  forward: model(input_ids) on 1 × --length (full logits), median of --repeats after a warm-up;
  decode:  prefill with use_cache=True, then --decode greedy steps each feeding the argmax
           with past_key_values (a plain loop, no generate() overhead); the steps are timed;
  max_rss_mb: resource.getrusage(RUSAGE_SELF).ru_maxrss after everything.
--dtype bfloat16 stores and computes in bfloat16 (PyTorch's own BF16 path), for reference.
Prints JSON on stdout.
"""
import argparse
import json
import resource
import statistics
import time
import warnings

import torch
from transformers import Qwen3Config, Qwen3ForCausalLM

from transformer_bench import PRESETS, blas_kernel, load_average, read_bandwidth  # the training benchmark's (this folder)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="qwen3-0.6b", choices=sorted(PRESETS))
    ap.add_argument("--length", type=int, default=16)
    ap.add_argument("--decode", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = ap.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)   # past_key_values renamed in newer transformers
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    load_start = load_average()
    bandwidth = read_bandwidth()
    cfg = Qwen3Config(**PRESETS[args.preset], attention_bias=False, hidden_act="silu")
    cfg._attn_implementation = "sdpa"
    t0 = time.perf_counter()
    model = Qwen3ForCausalLM(cfg).to(getattr(torch, args.dtype)).eval()
    init_s = time.perf_counter() - t0
    V = cfg.vocab_size
    toks = torch.tensor([[i * 7919 % V for i in range(args.length)]])
    with torch.no_grad():
        model(input_ids=toks)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            model(input_ids=toks)
            times.append(time.perf_counter() - t0)
        fwd = statistics.median(times)
        t0 = time.perf_counter()
        out = model(input_ids=toks, use_cache=True)
        prefill_s = time.perf_counter() - t0
        past, logits = out.past_key_values, out.logits[:, -1, :]
        ids = []
        t0 = time.perf_counter()
        for _ in range(args.decode):
            nxt = logits.argmax(dim=-1, keepdim=True)
            ids.append(int(nxt))
            out = model(input_ids=nxt, past_key_values=past, use_cache=True)
            past, logits = out.past_key_values, out.logits[:, -1, :]
        dec_s = time.perf_counter() - t0
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    print(json.dumps({
        "blas_kernel": blas_kernel(), "load_average_start": load_start, "load_average_end": load_average(),
        "read_bandwidth_gbs": bandwidth, "forward_share_of_read_bandwidth": weight_bytes / fwd / 1e9 / bandwidth,
        "decode_share_of_read_bandwidth": weight_bytes * args.decode / dec_s / 1e9 / bandwidth,
        "implementation": f"pytorch {torch.__version__} ({args.dtype}, sdpa)", "threads": torch.get_num_threads(),
        "preset": args.preset, "init_s": init_s,
        "forward": {"length": args.length, "repeats": args.repeats, "median_ms": fwd * 1e3,
                    "tokens_per_s": args.length / fwd},
        "decode": {"prompt": args.length, "tokens": args.decode, "prefill_s": prefill_s, "seconds": dec_s,
                   "tokens_per_s": args.decode / dec_s, "first_ids": ids[:8]},
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
