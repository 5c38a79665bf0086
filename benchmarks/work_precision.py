#!/usr/bin/env python3
"""Work against precision for `sftrl flow` and scipy's solve_ivp, as ODE users judge solvers.

    work_precision.py run --bin SFTRL --out-dir DIR [--sizes 16x64,128x1024,256x2048]
                          [--tols 1e-6,...,1e-12] [--runs 3] [--samples 50] [--timeout 120]
    work_precision.py scipy-solve INSTANCE SCHEDULE TIMES.json --method DOP853 --rtol R --atol A --out OUT.json
    work_precision.py plot CSV PNG

`run`: for each size P x N (a seeded instance from examples/make_large.py, the schedule
sft:3P,rl:4P,mix:0.3:3P, see schedule_for) and each tolerance rtol (atol = rtol/100), runs every method as a whole
process (start-up, imports, instance loading, integration, output), the fastest of --runs, and
measures
  - final_error: max |theta(T) - theta_ref(T)| over the logits;
  - trace_error: max over the trace's rows (the --samples output times plus the phase boundaries)
    of |sft_loss - ref| and |reward - ref|, the quantities a user reads off the trace;
against a reference: scipy DOP853 at rtol 1e-13, atol 1e-15 with its dense output at the same
times (an independent code: the numpy right-hand side of benchmarks/flow_vs_scipy.py). The CSV
also holds sftrl's own forced-step solution at rtol 1e-13 against that reference (method
`reference-check`): the floor below which errors are not resolved.

Methods: sftrl dop853 (default: dense output of order 7, rms norm), sftrl dop853 --norm max,
sftrl rk8pd --output-steps forced (the old default), scipy DOP853, RK45 and LSODA (t_eval: their
own dense output). A run that passes --timeout seconds is recorded with time = timeout and no
errors.

`scipy-solve` is one scipy process (the timed unit): it reads the output times from TIMES.json
(those of sftrl's trace), integrates phase after phase with t_eval, and writes the final theta and
the trace quantities.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def schedule_for(prompts):
    """sft:3P,rl:4P,mix:0.3:3P for P prompts: prompt x's logits move at rate q(x), about 1/P, so
    every size sees the motion per prompt that sft:3,rl:4,mix:0.3:3 gives one prompt (on the
    unscaled schedule the make_large instances barely move and every tolerance hits roundoff)."""
    return "sft:%d,rl:%d,mix:0.3:%d" % (3 * prompts, 4 * prompts, 3 * prompts)

SFTRL_METHODS = {
    "sftrl dop853 dense rms": ["--stepper", "dop853"],
    "sftrl dop853 dense max": ["--stepper", "dop853", "--norm", "max"],
    "sftrl rk8pd forced": ["--stepper", "rk8pd", "--output-steps", "forced"],
}
SCIPY_METHODS = ["DOP853", "RK45", "LSODA"]


def quantities(blocks, theta):
    """L_SFT = sum_x q_x sum_y p_D(y) (-log p(y)) and J = sum_x q_x sum_y p(y) r(y)."""
    loss, reward, o = 0.0, 0.0, 0
    for blk in blocks:
        z = theta[o:o + blk["n"]]
        o += blk["n"]
        m = z.max()
        lse = m + np.log(np.exp(z - m).sum())
        logp = z - lse
        loss += blk["q"] * float(-(blk["data"] * logp).sum())
        reward += blk["q"] * float((np.exp(logp) * blk["reward"]).sum())
    return loss, reward


def scipy_solve(args):
    sys.path.insert(0, HERE)
    from flow_vs_scipy import load_instance, make_rhs, parse_schedule
    from scipy.integrate import solve_ivp
    beta, blocks = load_instance(args.instance)
    phases = parse_schedule(args.schedule)
    with open(args.times) as f:
        times = json.load(f)
    y = np.concatenate([blk["z0"] for blk in blocks])
    t, nfev, k = 0.0, 0, 0
    rows = []
    while k < len(times) and times[k] <= 0:
        rows.append((times[k],) + quantities(blocks, y))
        k += 1
    for a, b, d in phases:
        t1 = t + d
        inside = []
        while k < len(times) and times[k] <= t1 + 1e-12 * t1:
            inside.append(min(times[k], t1))
            k += 1
        evals = inside if inside and inside[-1] == t1 else inside + [t1]
        sol = solve_ivp(make_rhs(beta, blocks, a, b), (t, t1), y, method=args.method, rtol=args.rtol,
                        atol=args.atol, t_eval=evals)
        if sol.status != 0:
            sys.exit("solve_ivp failed: %s" % sol.message)
        for j, tj in enumerate(inside):
            rows.append((tj,) + quantities(blocks, sol.y[:, j]))
        y = sol.y[:, -1]
        t = t1
        nfev += sol.nfev
    with open(args.out, "w") as f:
        json.dump({"nfev": int(nfev), "theta": y.tolist(), "rows": rows}, f)


def read_trace(path):
    with open(path) as f:
        r = list(csv.DictReader(f))
    return [(float(x["t"]), float(x["sft_loss"]), float(x["reward"])) for x in r]


def timed(cmd, timeout):
    """Seconds of one whole-process run; None past the timeout, -1 when the process fails (LSODA's
    dense n x n Jacobian cannot be allocated from 128 x 1,024 on: 128 GiB)."""
    start = time.perf_counter()
    try:
        subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError:
        return -1
    return time.perf_counter() - start


def run(args):
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    tols = [float(v) for v in args.tols.split(",")]
    tols_large = [float(v) for v in (args.tols_large or args.tols).split(",")]
    os.makedirs(args.out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="wp-")
    py = sys.executable
    rows = []
    load = os.getloadavg()
    print("load average at start: %.2f %.2f %.2f, %d cores" % (load + (os.cpu_count(),)), flush=True)
    for P, N in sizes:
        inst = os.path.join(tmp, "inst-%dx%d.json" % (P, N))
        subprocess.run([py, os.path.join(ROOT, "examples/make_large.py"), "--prompts", str(P), "--responses", str(N),
                        "--out", inst], check=True, stdout=subprocess.DEVNULL)
        sys.path.insert(0, HERE)
        SCHEDULE = schedule_for(P)
        # sftrl's output times (its trace rows) from one run; the same times for every method.
        base = os.path.join(tmp, "base")
        subprocess.run([args.bin, "flow", "--instance", inst, "--schedule", SCHEDULE, "--samples", str(args.samples),
                        "--rtol", "1e-13", "--atol", "1e-15", "--output-steps", "forced", "--out", base, "--quiet"], check=True)
        times = [r[0] for r in read_trace(os.path.join(base, "trace.csv"))]
        times_file = os.path.join(tmp, "times.json")
        with open(times_file, "w") as f:
            json.dump(times, f)
        ref_file = os.path.join(tmp, "ref.json")
        subprocess.run([py, __file__, "scipy-solve", inst, SCHEDULE, times_file, "--method", "DOP853", "--rtol", "1e-13",
                        "--atol", "1e-15", "--out", ref_file], check=True)
        with open(ref_file) as f:
            ref = json.load(f)
        ref_theta = np.array(ref["theta"])
        ref_rows = ref["rows"]

        def errors(theta, trace):
            fe = float(np.max(np.abs(np.asarray(theta) - ref_theta)))
            te = max(max(abs(a[1] - b[1]), abs(a[2] - b[2])) for a, b in zip(trace, ref_rows))
            return fe, te

        with open(os.path.join(base, "manifest.json")) as f:
            m = json.load(f)["extra"]
        fe, te = errors(m["final"]["theta"], read_trace(os.path.join(base, "trace.csv")))
        rows.append(dict(size="%dx%d" % (P, N), logits=P * N, method="reference-check", rtol=1e-13, atol=1e-15,
                         seconds="", f_evals=m["stats"]["rhs_evaluations"], final_error=fe, trace_error=te))
        print("%dx%d reference: sftrl forced 1e-13 against scipy DOP853 1e-13: final %.2e, trace %.2e" % (P, N, fe, te), flush=True)
        for rtol in (tols if P * N <= 131072 else tols_large):
            atol = rtol / 100
            for name, extra in SFTRL_METHODS.items():
                out = os.path.join(tmp, "s")
                cmd = [args.bin, "flow", "--instance", inst, "--schedule", SCHEDULE, "--samples", str(args.samples),
                       "--rtol", repr(rtol), "--atol", repr(atol), "--out", out, "--quiet"] + extra
                secs = [timed(cmd, args.timeout) for _ in range(args.runs if P * N <= 131072 else 1)]
                if None in secs or -1 in secs:
                    rows.append(dict(size="%dx%d" % (P, N), logits=P * N, method=name, rtol=rtol, atol=atol,
                                     seconds=args.timeout, f_evals="", final_error="", trace_error=""))
                    continue
                with open(os.path.join(out, "manifest.json")) as f:
                    m = json.load(f)["extra"]
                fe, te = errors(m["final"]["theta"], read_trace(os.path.join(out, "trace.csv")))
                rows.append(dict(size="%dx%d" % (P, N), logits=P * N, method=name, rtol=rtol, atol=atol, seconds=min(secs),
                                 f_evals=m["stats"]["rhs_evaluations"], final_error=fe, trace_error=te))
                print("%s %-24s rtol %.0e: %.3f s, %d f, final %.2e, trace %.2e" % (rows[-1]["size"], name, rtol, min(secs),
                      m["stats"]["rhs_evaluations"], fe, te), flush=True)
            for method in SCIPY_METHODS:
                out = os.path.join(tmp, "p.json")
                cmd = [py, __file__, "scipy-solve", inst, SCHEDULE, times_file, "--method", method, "--rtol", repr(rtol),
                       "--atol", repr(atol), "--out", out]
                runs = args.runs if P * N <= 131072 else 1
                secs = [timed(cmd, args.timeout) for _ in range(runs)]
                name = "scipy " + method
                if -1 in secs:
                    rows.append(dict(size="%dx%d" % (P, N), logits=P * N, method=name, rtol=rtol, atol=atol,
                                     seconds="failed", f_evals="", final_error="", trace_error=""))
                    print("%s %-24s rtol %.0e: failed" % (rows[-1]["size"], name, rtol), flush=True)
                    continue
                if None in secs:
                    rows.append(dict(size="%dx%d" % (P, N), logits=P * N, method=name, rtol=rtol, atol=atol,
                                     seconds=args.timeout, f_evals="", final_error="", trace_error=""))
                    print("%s %-24s rtol %.0e: timeout" % (rows[-1]["size"], name, rtol), flush=True)
                    continue
                with open(out) as f:
                    res = json.load(f)
                fe, te = errors(res["theta"], res["rows"])
                rows.append(dict(size="%dx%d" % (P, N), logits=P * N, method=name, rtol=rtol, atol=atol, seconds=min(secs),
                                 f_evals=res["nfev"], final_error=fe, trace_error=te))
                print("%s %-24s rtol %.0e: %.3f s, %d f, final %.2e, trace %.2e" % (rows[-1]["size"], name, rtol, min(secs),
                      res["nfev"], fe, te), flush=True)
    load_end = os.getloadavg()
    print("load average at end: %.2f %.2f %.2f" % load_end)
    path = os.path.join(args.out_dir, "work_precision.csv")
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["size", "logits", "method", "rtol", "atol", "seconds", "f_evals", "final_error", "trace_error"])
        w.writeheader()
        for r in rows:
            w.writerow({k: (("%.4g" % v) if isinstance(v, float) else v) for k, v in r.items()})
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump({"command": " ".join(sys.argv), "schedule": "sft:3P,rl:4P,mix:0.3:3P for P prompts", "samples": args.samples, "runs": args.runs,
                   "sizes": args.sizes, "tolerances": args.tols, "tolerances_above_131072_logits": args.tols_large or args.tols, "atol": "rtol/100",
                   "reference": "scipy DOP853, rtol 1e-13, atol 1e-15, dense output at the trace's times",
                   "timing": "whole process, fastest of runs (one run above 131,072 logits)",
                   "load_average_start": load, "load_average_end": load_end, "cores": os.cpu_count(),
                   "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, f, indent=1)
    print("wrote", path)


def plot(args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(args.csv) as f:
        rows = [r for r in csv.DictReader(f) if r["method"] != "reference-check" and r["final_error"]]
    sizes = list(dict.fromkeys(r["size"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(2, len(sizes), figsize=(3.2 * len(sizes), 5.4), squeeze=False)
    for row, (column, label) in enumerate([("trace_error", "trace error (sft_loss, reward)"), ("final_error", "final θ error (max over logits)")]):
        for ax, size in zip(axes[row], sizes):
            for m in methods:
                pts = [(float(r["seconds"]), float(r[column])) for r in rows if r["size"] == size and r["method"] == m]
                if pts:
                    style = "-o" if m.startswith("sftrl") else "--s"
                    ax.loglog([max(p[1], 1e-16) for p in pts], [p[0] for p in pts], style, ms=3, lw=1, label=m)
            ax.set_title(size + " logits", fontsize=8)
            ax.set_xlabel(label, fontsize=7)
            ax.tick_params(labelsize=6)
            ax.invert_xaxis()
        axes[row][0].set_ylabel("whole-process seconds", fontsize=7)
    axes[0][-1].legend(fontsize=5)
    fig.tight_layout()
    fig.savefig(args.png, dpi=90)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--bin", required=True)
    r.add_argument("--out-dir", required=True)
    r.add_argument("--sizes", default="16x64,128x1024,256x2048")
    r.add_argument("--tols", default="1e-6,1e-7,1e-8,1e-9,1e-10,1e-11,1e-12")
    r.add_argument("--tols-large", help="tolerances above 131,072 logits (default: --tols)")
    r.add_argument("--runs", type=int, default=3)
    r.add_argument("--samples", type=int, default=50)
    r.add_argument("--timeout", type=float, default=120)
    s = sub.add_parser("scipy-solve")
    s.add_argument("instance")
    s.add_argument("schedule")
    s.add_argument("times")
    s.add_argument("--method", default="DOP853")
    s.add_argument("--rtol", type=float, required=True)
    s.add_argument("--atol", type=float, required=True)
    s.add_argument("--out", required=True)
    p = sub.add_parser("plot")
    p.add_argument("csv")
    p.add_argument("png")
    args = ap.parse_args()
    {"run": run, "scipy-solve": scipy_solve, "plot": plot}[args.cmd](args)


if __name__ == "__main__":
    main()
