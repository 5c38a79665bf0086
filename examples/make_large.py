#!/usr/bin/env python3
"""Writes a seeded tabular instance with P prompts x N responses (default 16 x 64).

    python3 examples/make_large.py                      # -> examples/large-64x16.json
    python3 examples/make_large.py --prompts 8 --responses 32 --seed 7 --out /tmp/i.json

Data, start and reference are softmax(2 * N(0, 1)) draws, so each prompt has a few heavy
responses and a long tail (the flows then move the logits by O(1) in a few time units).
Rewards are uniform in [-1, 1], prompt weights uniform in [0.5, 1.5], beta = 0.5 by default.
Only the Python standard library is used; the same arguments give the same bytes.
"""
import argparse
import json
import math
import random


def peaked_simplex(rng, n):
    w = [math.exp(2.0 * rng.gauss(0.0, 1.0)) for _ in range(n)]
    s = sum(w)
    p = [float("%.12g" % (x / s)) for x in w]
    # Put the rounding residue on the largest entry so the row sums to 1 within a few ulps.
    k = max(range(n), key=lambda i: p[i])
    p[k] = 1.0 - (sum(p) - p[k])
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=16)
    ap.add_argument("--responses", type=int, default=64)
    ap.add_argument("--beta", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default="examples/large-64x16.json")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    prompts = []
    for _ in range(a.prompts):
        prompts.append({
            "weight": float("%.6g" % rng.uniform(0.5, 1.5)),
            "data": peaked_simplex(rng, a.responses),
            "reward": [float("%.6g" % rng.uniform(-1.0, 1.0)) for _ in range(a.responses)],
            "reference": peaked_simplex(rng, a.responses),
            "start": peaked_simplex(rng, a.responses),
        })
    doc = {"beta": a.beta, "policy": {"kind": "tabular"}, "prompts": prompts}
    with open(a.out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
