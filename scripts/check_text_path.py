#!/usr/bin/env python3
"""By-hand check of the text path on a model and tokenizer the Swift tests never saw.

Makes a fresh fixture with scripts/make_text_fixture.py (another vocabulary size, corpus, seed)
in a temporary folder, then runs the sftrl binary on it and compares with what Python
`tokenizers` and `transformers` recorded there: `lm tokenize` ids and `--decode` text for every
string, `lm logits --text` (largest difference over the recorded positions) and greedy
`lm generate` token for token. Prints a JSON summary; exit status 1 on any mismatch.
Usage: python3 scripts/check_text_path.py SFTRL_BINARY [--vocab 3000] [--seed 99]
Needs: pip install tokenizers torch transformers safetensors.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"sftrl {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--vocab", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=99)
    args = ap.parse_args()
    d = tempfile.mkdtemp()
    root = os.path.join(HERE, "..")
    subprocess.run([sys.executable, os.path.join(HERE, "make_text_fixture.py"), d, "--vocab", str(args.vocab),
                    "--seed", str(args.seed), "--corpus-seed", str(args.seed + 1),
                    "--corpus-file", os.path.join(root, "README.md")], check=True, stdout=subprocess.DEVNULL)
    tg = json.load(open(os.path.join(d, "tokenizer-golden.json")))
    lg = json.load(open(os.path.join(d, "lm-golden.json")))
    bad_ids = bad_text = 0
    for c in tg["cases"]:
        if not c["text"]:
            continue
        path = os.path.join(d, "case.txt")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(c["text"])  # a file, so that no string is taken for an option
        ids = json.loads(run(args.binary, "lm", "tokenize", "--model", d, "--text-file", path, "--json"))["ids"]
        bad_ids += ids != c["ids"]
        if c["ids"]:
            text = json.loads(run(args.binary, "lm", "tokenize", "--model", d, "--decode", " ".join(map(str, c["ids"])), "--json"))["text"]
            bad_text += text != c["decoded"]
    worst = 0.0
    bad_gen = 0
    for r in lg["records"]:
        out = json.loads(run(args.binary, "lm", "logits", "--model", d, "--text=" + r["text"]))
        assert out["ids"] == r["ids"], (out["ids"], r["ids"])
        for k, row in enumerate(r["logits"]):
            ours = out["logits"][r["logits_from"] + k]
            worst = max(worst, max(abs(a - b) for a, b in zip(ours, row)))
        g = json.loads(run(args.binary, "lm", "generate", "--model", d, "--prompt=" + r["text"], "--greedy",
                           "--max-new-tokens", str(lg["max_new_tokens"]), "--json"))
        bad_gen += g["ids"] != r["greedy"]
    summary = {"tokenizer_size": tg["size"], "vocab_size": lg["vocab_size"], "strings": len(tg["cases"]),
               "id_mismatches": bad_ids, "decode_mismatches": bad_text, "max_logit_difference": worst,
               "greedy_mismatches": bad_gen, "generations": len(lg["records"])}
    print(json.dumps(summary, indent=1))
    sys.exit(1 if bad_ids or bad_text or bad_gen or worst > 1e-4 else 0)


if __name__ == "__main__":
    main()
