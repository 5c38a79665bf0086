#!/usr/bin/env python3
"""scipy reference for `sftrl flow` on tabular instances (the benchmark's other side).

    flow_vs_scipy.py solve INSTANCE SCHEDULE --method DOP853 --rtol 1e-10 --atol 1e-12 [--out FINAL.json]
    flow_vs_scipy.py compare MANIFEST.json FINAL.json [--tol 1e-8]

`solve` integrates the same gradient flows as `sftrl flow` with scipy.integrate.solve_ivp, phase
after phase (sft:D, rl:D, mix:MU:D), from the same start: per prompt x, with q = normalised weights,
    SFT: dz_x/dt = -q(x) (p - p_D),   RL: dz_x/dt = q(x) p * (a - E_p a),  a = r - beta (log p - log ref),
    mix(mu): (1 - mu) RL + mu SFT,    z_x(0) = log start_x - mean(log start_x),
a numpy right-hand side written here independently of the Swift code. It prints the solve time
(integration only, after imports and set-up) and writes the final state as JSON.
`compare` reads sftrl's manifest (extra.final.theta) and the final state, prints the largest
absolute difference and exits 1 when it exceeds --tol.
"""
import argparse
import json
import sys
import time

import numpy as np


def load_instance(path):
    with open(path) as f:
        doc = json.load(f)
    if doc["policy"]["kind"] != "tabular":
        sys.exit("flow_vs_scipy.py handles tabular instances only")
    prompts = doc["prompts"]
    w = np.array([p["weight"] for p in prompts], dtype=float)
    q = w / w.sum()
    blocks = []
    for x, p in enumerate(prompts):
        n = len(p["data"])
        data = np.array(p["data"], dtype=float)
        ref = np.array(p.get("reference") or [1.0 / n] * n, dtype=float)
        start = np.array(p.get("start") or p["data"], dtype=float)
        l = np.log(start)
        blocks.append(dict(q=q[x], data=data, reward=np.array(p["reward"], dtype=float), logref=np.log(ref),
                           z0=l - l.mean(), n=n))
    return float(doc["beta"]), blocks


def parse_schedule(spec):
    phases = []
    for item in spec.split(","):
        parts = item.strip().split(":")
        if parts[0] == "mix":
            mu, d = float(parts[1]), float(parts[2])
            phases.append((1.0 - mu, mu, d))
        elif parts[0] == "sft":
            phases.append((0.0, 1.0, float(parts[1])))
        elif parts[0] == "rl":
            phases.append((1.0, 0.0, float(parts[1])))
        else:
            sys.exit("bad phase %r" % item)
    return phases


def make_rhs(beta, blocks, a, b):
    """v = a * grad J_beta - b * grad L_SFT, vectorised when all prompts have the same size."""
    sizes = {blk["n"] for blk in blocks}
    if len(sizes) == 1:
        P, N = len(blocks), sizes.pop()
        Q = np.array([blk["q"] for blk in blocks])[:, None]
        D = np.stack([blk["data"] for blk in blocks])
        R = np.stack([blk["reward"] for blk in blocks])
        LR = np.stack([blk["logref"] for blk in blocks])

        def f(t, y):
            z = y.reshape(P, N)
            m = z.max(axis=1, keepdims=True)
            e = np.exp(z - m)
            s = e.sum(axis=1, keepdims=True)
            p = e / s
            v = np.zeros_like(z)
            if a != 0.0:
                adv = R - beta * (z - m - np.log(s) - LR) if beta > 0 else R
                v += a * p * (adv - (p * adv).sum(axis=1, keepdims=True))
            if b != 0.0:
                v -= b * (p - D)
            return (Q * v).ravel()
        return f

    offsets = np.cumsum([0] + [blk["n"] for blk in blocks])

    def f(t, y):
        out = np.empty_like(y)
        for blk, o0, o1 in zip(blocks, offsets[:-1], offsets[1:]):
            z = y[o0:o1]
            m = z.max()
            e = np.exp(z - m)
            s = e.sum()
            p = e / s
            v = np.zeros_like(z)
            if a != 0.0:
                adv = blk["reward"] - beta * (z - m - np.log(s) - blk["logref"]) if beta > 0 else blk["reward"]
                v += a * p * (adv - (p * adv).sum())
            if b != 0.0:
                v -= b * (p - blk["data"])
            out[o0:o1] = blk["q"] * v
        return out
    return f


def solve(args):
    from scipy.integrate import solve_ivp
    beta, blocks = load_instance(args.instance)
    phases = parse_schedule(args.schedule)
    y = np.concatenate([blk["z0"] for blk in blocks])
    t = 0.0
    nfev = 0
    t0 = time.perf_counter()
    for a, b, d in phases:
        sol = solve_ivp(make_rhs(beta, blocks, a, b), (t, t + d), y, method=args.method,
                        rtol=args.rtol, atol=args.atol)
        if sol.status != 0:
            sys.exit("solve_ivp failed: %s" % sol.message)
        y = sol.y[:, -1]
        t += d
        nfev += sol.nfev
    elapsed = time.perf_counter() - t0
    out = {"method": args.method, "rtol": args.rtol, "atol": args.atol, "t": t, "nfev": int(nfev),
           "solve_seconds": elapsed, "theta": y.tolist()}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f)
    print("%s: %d f evaluations, solve %.4f s" % (args.method, nfev, elapsed))


def compare(args):
    with open(args.manifest) as f:
        mine = np.array(json.load(f)["extra"]["final"]["theta"], dtype=float)
    with open(args.final) as f:
        ref = np.array(json.load(f)["theta"], dtype=float)
    if mine.shape != ref.shape:
        sys.exit("different dimensions: %s vs %s" % (mine.shape, ref.shape))
    diff = float(np.max(np.abs(mine - ref)))
    ok = diff <= args.tol
    print("max |theta_sftrl - theta_scipy| = %.3e (%s %.0e)" % (diff, "<=" if ok else ">", args.tol))
    sys.exit(0 if ok else 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("solve")
    s.add_argument("instance")
    s.add_argument("schedule")
    s.add_argument("--method", default="DOP853")
    s.add_argument("--rtol", type=float, default=1e-8)
    s.add_argument("--atol", type=float, default=1e-10)
    s.add_argument("--out")
    c = sub.add_parser("compare")
    c.add_argument("manifest")
    c.add_argument("final")
    c.add_argument("--tol", type=float, default=1e-8)
    args = ap.parse_args()
    solve(args) if args.cmd == "solve" else compare(args)


if __name__ == "__main__":
    main()
