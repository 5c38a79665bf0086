#!/usr/bin/env bash
# Benchmark of `sftrl check`: instances per second per claim with 1 and 2 threads (the ratio is
# the parallel speed-up, measured in the same run), and, as an outside reference, the same
# per-instance margins of eq6-pinsker and thm3.1 evaluated by a plain numpy script.
# Run by hand (not by CI): bash benchmarks/check_bench.sh [INSTANCES]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
bash scripts/setup-debian.sh
swift build -c release >/dev/null
bin=.build/release/sftrl
tmp=$(mktemp -d)
start=$(date +%s.%N); $bin check --quiet --timing --threads 1 --instances "$n" --json "$tmp/one.json" >/dev/null; t1=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N); $bin check --quiet --timing --threads 2 --instances "$n" --json "$tmp/two.json" >/dev/null; t2=$(echo "$(date +%s.%N) - $start" | bc)
python3 - "$tmp/one.json" "$tmp/two.json" "$t1" "$t2" "$n" <<'PY'
import json, sys, time
import numpy as np
one = {c["id"]: c for c in json.load(open(sys.argv[1]))["claims"]}
two = {c["id"]: c for c in json.load(open(sys.argv[2]))["claims"]}
print(f"{'claim':20s} {'inst/s 1 thread':>16s} {'inst/s 2 threads':>17s} {'speed-up':>9s}")
for k in one:
    a, b = one[k]["instances_per_second"], two[k]["instances_per_second"]
    print(f"{k:20s} {a:16.0f} {b:17.0f} {b / a:9.2f}")
print(f"whole suite: {float(sys.argv[3]):.1f} s with 1 thread, {float(sys.argv[4]):.1f} s with 2 threads")

# Reference: numpy, one instance at a time, Pinsker and Thm 3.1 margins on random simplex points.
n = int(sys.argv[5]); rng = np.random.default_rng(1)
def simplex(k): x = rng.dirichlet(np.ones(k)); return x
t = time.perf_counter()
for _ in range(n):
    k = rng.integers(2, 7); p, q = simplex(k), simplex(k)
    tv = 0.5 * np.abs(p - q).sum(); kl = float(np.sum(p * np.log(p / q)))
    _ = np.sqrt(kl / 2) - tv
ref_pinsker = n / (time.perf_counter() - t)
t = time.perf_counter()
for _ in range(n):
    k = rng.integers(2, 7); pd = simplex(k); r = rng.uniform(-1, 1, k); beta = 10 ** rng.uniform(-3, 3)
    z = np.log(pd) + r / beta; m = z.max(); logz = m + np.log(np.exp(z - m).sum())
    log_rl = np.log(pd) + r / beta - logz
    _ = float(-(pd * log_rl).sum() + (pd * np.log(pd)).sum())
ref_thm31 = n / (time.perf_counter() - t)
for cid, ref in (("eq6-pinsker", ref_pinsker), ("thm3.1", ref_thm31)):
    s = one[cid]["instances_per_second"]
    print(f"{cid}: sftrl {s:.0f}/s (1 thread, with generation, Float80 re-checks and shrinking) vs numpy {ref:.0f}/s: ratio {s / ref:.1f}x")
PY
rm -rf "$tmp"
