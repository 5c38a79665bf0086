#!/usr/bin/env python3
"""Independent check of `sftrl fixedpoint --method luffy` on a tabular instance: LUFFY's expected
update written here from its definition (docs/fixedpoint.md: G - N on-policy samples of p, N
off-policy samples of p_D, advantages normalised over the whole group, (r - mean)/(std + 1e-4) with
the unbiased std or r - mean, off-policy weight gamma*p/(p + gamma)^2), enumerated over multisets,
integrated with scipy's DOP853 (rtol 1e-10) by decades to T; the policy at T is compared with the
`policy` of a `sftrl fixedpoint --json` result. Nothing of sftrl is used except the two files.

Usage: python3 scripts/luffy_fixedpoint.py INSTANCE.json FIXEDPOINT.json [T]
  FIXEDPOINT.json: the --json output of `sftrl fixedpoint --instance INSTANCE.json --method luffy ...`
  (its settings are read from it). T: the horizon (default 1e4).
Prints the largest |p_python(T) - p_sftrl| and exits 0 when it is below 10/T (the boundary's 1/t
approach), 1 otherwise.
"""
import itertools
import json
import math
import sys

import numpy as np
from scipy.integrate import solve_ivp


def advantages(r, scaling):
    r = np.asarray(r, float)
    m = r.mean()
    if scaling == "none":
        return r - m
    s = r.std(ddof=1) if len(r) > 1 else 0.0
    return (r - m) / (s + 1e-4)


def multisets(p, k):
    n = len(p)
    for combo in itertools.combinations_with_replacement(range(n), k):
        c = np.bincount(combo, minlength=n)
        if np.any((c > 0) & (p <= 0)):
            continue
        pr = math.factorial(k) / np.prod([math.factorial(int(v)) for v in c]) * np.prod(p ** c)
        yield combo, pr


def update(z, r, pd, g, off, gamma, scaling):
    p = np.exp(z - z.max())
    p /= p.sum()
    v = np.zeros(len(p))
    offsets = list(multisets(pd, off))
    for on, pon in multisets(p, g - off):
        for o, poff in offsets:
            a = advantages([r[y] for y in on] + [r[y] for y in o], scaling)
            for i, y in enumerate(on):
                e = -p.copy(); e[y] += 1
                v += pon * poff * a[i] / g * e
            for j, y in enumerate(o):
                e = -p.copy(); e[y] += 1
                v += pon * poff * a[len(on) + j] / g * gamma * p[y] / (p[y] + gamma) ** 2 * e
    return v


def main():
    inst = json.load(open(sys.argv[1]))
    fp = json.load(open(sys.argv[2]))
    T = float(sys.argv[3]) if len(sys.argv) > 3 else 1e4
    assert inst["policy"]["kind"] == "tabular", "tabular instances only"
    s = fp["settings"]
    g, off, gamma, scaling = int(s["group-size"]), int(s["off-policy"]), float(s["shaping-gamma"]), s["scaling"]
    worst = 0.0
    for x, pr in enumerate(inst["prompts"]):
        if pr["weight"] <= 0:
            continue
        w = pr["weight"] / sum(q["weight"] for q in inst["prompts"])
        r = np.asarray(pr["reward"], float)
        pd = np.asarray(pr["data"], float)
        z = np.log(np.asarray(pr.get("start", pr["data"]), float))
        sol = solve_ivp(lambda t, z: w * update(z, r, pd, g, off, gamma, scaling), [0, T], z, rtol=1e-10, atol=1e-12, method="DOP853")
        zt = sol.y[:, -1]
        p = np.exp(zt - zt.max()); p /= p.sum()
        d = np.abs(p - np.asarray(fp["policy"][x])).max()
        print(f"prompt {x}: python p(T={T:g}) = {np.array2string(p, precision=8)}  sftrl limit = {fp['policy'][x]}  largest difference {d:.3g}")
        worst = max(worst, d)
    print(f"largest difference {worst:.3g} (tolerance 10/T = {10 / T:.3g})")
    sys.exit(0 if worst < 10 / T else 1)


if __name__ == "__main__":
    main()
