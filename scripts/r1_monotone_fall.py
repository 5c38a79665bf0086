#!/usr/bin/env python3
"""Independent check of an r1-monotone counterexample: integrate the tabular RL flow
dz/dt = q(x) p (a - E_p a), a = r - beta (log p - log pi_ref), from z0 = log p_D with scipy's
DOP853 (rtol 1e-13, atol 1e-15), and print the SFT excess L - L* = sum_x q KL(p_D || p_t): its peak,
its value at the end, and the fall after the peak. Nothing of sftrl is used except the instance.

Usage: python3 scripts/r1_monotone_fall.py REPORT.json [T]
  REPORT.json: a `sftrl check --json` or `sftrl search --json` report (its r1-monotone
  counterexample), or a claim instance {"instance": {...}, "parameters": {...}}.
  T: the horizon (default: the instance's T, at most 1000).
Exit status 0 when the excess falls by more than 1e-9 nats after its peak, 1 otherwise.
"""
import json
import sys

import numpy as np
from scipy.integrate import solve_ivp


def find_instance(doc):
    """The claim instance inside a check/search report, or the document itself."""
    if "instance" in doc and isinstance(doc["instance"], dict) and "prompts" in doc["instance"]:
        return doc
    for c in doc.get("claims", []):
        if c.get("id") == "r1-monotone" and c.get("counterexample"):
            return c["counterexample"]["instance"]
    for run in doc.get("runs", []):   # a `sftrl search --json` report
        if run.get("claim") == "r1-monotone" and run.get("counterexample"):
            return run["counterexample"]["instance"]
    for key in ("counterexample", "best"):
        if isinstance(doc.get(key), dict) and "instance" in doc[key]:
            return doc[key]["instance"]
    sys.exit("no r1-monotone instance found in the file")


def main():
    doc = json.load(open(sys.argv[1]))
    ci = find_instance(doc)
    f = ci["instance"]
    T = float(sys.argv[2]) if len(sys.argv) > 2 else min(float(ci.get("parameters", {}).get("T", 1000)), 1000.0)
    beta = float(f["beta"])
    w = np.array([p["weight"] for p in f["prompts"]], dtype=float)
    q = w / w.sum()
    data = [np.array(p["data"], dtype=float) for p in f["prompts"]]
    ref = [np.array(p.get("reference") or p["data"], dtype=float) for p in f["prompts"]]
    rew = [np.array(p["reward"], dtype=float) for p in f["prompts"]]
    sizes = [len(d) for d in data]
    cuts = np.cumsum([0] + sizes)

    def probs(z, k):
        u = z[cuts[k]:cuts[k + 1]]
        u = u - u.max()
        e = np.exp(u)
        return e / e.sum()

    def rhs(_t, z):
        out = np.empty_like(z)
        for k in range(len(sizes)):
            p = probs(z, k)
            a = rew[k] - beta * (np.log(p) - np.log(ref[k]))
            out[cuts[k]:cuts[k + 1]] = q[k] * p * (a - p @ a)
        return out

    def excess(z):
        return sum(q[k] * float(np.sum(data[k] * (np.log(data[k]) - np.log(probs(z, k))))) for k in range(len(sizes)))

    z0 = np.concatenate([np.log(d) for d in data])
    sol = solve_ivp(rhs, (0, T), z0, method="DOP853", rtol=1e-13, atol=1e-15, dense_output=True)
    ts = np.linspace(0, T, 20001)
    L = np.array([excess(sol.sol(t)) for t in ts])
    k = int(L.argmax())
    gibbs = [d * np.exp(r / beta) / np.sum(d * np.exp(r / beta)) for d, r in zip(data, rew)]
    c1 = sum(q[x] * float(np.sum(data[x] * np.log(data[x] / gibbs[x]))) for x in range(len(sizes)))
    fall = L[k] - L[-1]
    print(f"beta={beta} prompts={len(sizes)} responses={sizes} T={T}")
    print(f"SFT excess: start {L[0]:.3e}, peak {L[k]:.12f} at t={ts[k]:.3f}, end {L[-1]:.12f}, C1(beta)={c1:.12f}")
    print(f"fall after the peak: {fall:.3e} nats (relative to the rise: {fall / max(L[k] - L[0], 1e-300):.3e})")
    print("falls" if fall > 1e-9 else "does not fall")
    sys.exit(0 if fall > 1e-9 else 1)


if __name__ == "__main__":
    main()
