#!/usr/bin/env bash
# Issue 19, item 5: `sftrl check --instances 10000` over every claim, wall time against the goal of
# 60 s on 2 cores, per-claim seconds, and the verdicts against a 1,000-instance run (more evidence
# must never turn "fails" into "holds"). Run by hand, not by CI:
#   bash benchmarks/check_10k.sh [INSTANCES] [SEED]      (defaults 10000, 1)
# Uses the release binary as CI builds it (swift build -c release -Xswiftc -enable-testing).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; seed="${2:-1}"
bin=.build/release/sftrl
[ -x "$bin" ] || swift build -c release -Xswiftc -enable-testing >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
start=$(date +%s.%N)
$bin check --quiet --timing --seed "$seed" --instances 1000 --json "$tmp/small.json" >/dev/null
t_small=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
$bin check --quiet --timing --seed "$seed" --instances "$n" --json "$tmp/large.json" >/dev/null
t_large=$(echo "$(date +%s.%N) - $start" | bc)
python3 - "$tmp/small.json" "$tmp/large.json" "$t_small" "$t_large" "$n" <<'PY'
import json, sys
small = {c["id"]: c for c in json.load(open(sys.argv[1]))["claims"]}
large = {c["id"]: c for c in json.load(open(sys.argv[2]))["claims"]}
n = int(sys.argv[5])
print(f"{'claim':22s} {'1000: verdict':>14s} {'s':>6s} {f'{n}: verdict':>14s} {'s':>7s}")
flips = []
for k, a in small.items():
    b = large[k]
    print(f"{k:22s} {a['verdict']:>14s} {a['seconds']:6.2f} {b['verdict']:>14s} {b['seconds']:7.2f}")
    if a["verdict"] == "fails" and b["verdict"] != "fails":
        flips.append(k)
print(f"whole check: 1000 instances {float(sys.argv[3]):.1f} s wall, {n} instances {float(sys.argv[4]):.1f} s wall (goal: < 60 s on 2 cores)")
print("verdicts: no fails became holds" if not flips else f"FLIPPED: {', '.join(flips)}")
sys.exit(1 if flips else 0)
PY
