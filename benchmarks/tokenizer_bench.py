#!/usr/bin/env python3
"""Tokenizer speed and agreement: `sftrl lm tokenize` against Python `tokenizers` in one run, on a
tokenizer the Swift tests never saw (trained here by scripts/make_text_fixture.py with another
vocabulary size and corpus seed).

Checks ids equal on the whole text and on each line, then times encoding only (after loading):
Python `Tokenizer.encode` on the whole text (one call, one thread) and the Swift encoder (the
seconds `sftrl lm tokenize --stats` reports). Prints JSON with tokens/s of both and the ratio.
Usage: python3 benchmarks/tokenizer_bench.py SFTRL_BINARY [--vocab 8000] [--repeat 40]
Needs: pip install tokenizers.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import make_text_fixture as fx  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--vocab", type=int, default=8000)
    ap.add_argument("--corpus-seed", type=int, default=99)
    ap.add_argument("--repeat", type=int, default=40, help="copies of the base text")
    args = ap.parse_args()
    from tokenizers import Tokenizer
    tmp = tempfile.mkdtemp()
    root = os.path.join(HERE, "..")
    corpus_files = [os.path.join(root, "README.md")] + [os.path.join(root, "docs", f) for f in sorted(os.listdir(os.path.join(root, "docs")))]
    subprocess.run([sys.executable, os.path.join(HERE, "..", "scripts", "make_text_fixture.py"), tmp,
                    "--vocab", str(args.vocab), "--corpus-seed", str(args.corpus_seed), "--no-model"]
                   + [x for f in corpus_files for x in ("--corpus-file", f)],
                   check=True, stdout=subprocess.DEVNULL)
    tok = Tokenizer.from_file(os.path.join(tmp, "tokenizer.json"))
    readme = open(os.path.join(HERE, "..", "README.md"), encoding="utf-8").read()
    base = readme + "\n".join(fx.HARD) + "\n".join(fx.random_strings(args.corpus_seed + 5, 200))
    text = base * args.repeat
    path = os.path.join(tmp, "text.txt")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    best_py = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        ids = tok.encode(text, add_special_tokens=False).ids
        best_py = min(best_py, time.perf_counter() - t0)
    best_sw = float("inf")
    for _ in range(3):
        out = subprocess.run([args.binary, "lm", "tokenize", "--model", tmp, "--text-file", path, "--stats"],
                             capture_output=True, text=True, check=True)
        stats = json.loads(out.stderr.strip().splitlines()[-1])
        best_sw = min(best_sw, stats["seconds"])
        sw_ids = [int(x) for x in out.stdout.split()]
    mismatched_lines = 0
    for line in base.split("\n")[:400]:
        if not line:
            continue
        lp = os.path.join(tmp, "line.txt")
        with open(lp, "w", encoding="utf-8", newline="") as f:
            f.write(line)  # a file, so that no line is taken for an option
        r = subprocess.run([args.binary, "lm", "tokenize", "--model", tmp, "--text-file", lp, "--json"],
                           capture_output=True, text=True, check=True)
        if json.loads(r.stdout)["ids"] != tok.encode(line, add_special_tokens=False).ids:
            mismatched_lines += 1
    report = {
        "tokenizer_size": tok.get_vocab_size(with_added_tokens=True),
        "bytes": len(text.encode("utf-8")), "tokens": len(ids),
        "ids_equal_whole_text": sw_ids == ids, "mismatched_lines": mismatched_lines,
        "python_tokenizers_tokens_per_s": len(ids) / best_py,
        "sftrl_tokens_per_s": len(sw_ids) / best_sw,
        "ratio_sftrl_over_python": (len(sw_ids) / best_sw) / (len(ids) / best_py),
        "load_average": open("/proc/loadavg").read().split()[:3],
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
