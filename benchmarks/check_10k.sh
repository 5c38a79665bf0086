#!/usr/bin/env bash
# Issue 19, item 5: `sftrl check --instances 10000` over every claim, wall time against the goal of
# 60 s on 2 cores, per-claim seconds, and the verdicts against a 1,000-instance run (more evidence
# must never turn "fails" into "holds"). Run by hand, not by CI:
#   bash benchmarks/check_10k.sh [INSTANCES] [SEED]      (defaults 10000, 1)
# Uses the release binary as CI builds it (swift build -c release -Xswiftc -enable-testing).
# The machine may be shared: besides wall time it prints the load average before each run and the
# CPU time (user + sys, from /usr/bin/time), which depends far less on the load.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; seed="${2:-1}"
bin=.build/release/sftrl
[ -x "$bin" ] || swift build -c release -Xswiftc -enable-testing >/dev/null
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cut -d' ' -f1-3 /proc/loadavg > "$tmp/load_small"
/usr/bin/time -f "%e %U %S" -o "$tmp/time_small" $bin check --quiet --timing --seed "$seed" --instances 1000 --json "$tmp/small.json" >/dev/null
cut -d' ' -f1-3 /proc/loadavg > "$tmp/load_large"
/usr/bin/time -f "%e %U %S" -o "$tmp/time_large" $bin check --quiet --timing --seed "$seed" --instances "$n" --json "$tmp/large.json" >/dev/null
python3 - "$tmp/small.json" "$tmp/large.json" "$tmp/time_small" "$tmp/time_large" "$n" "$tmp/load_small" "$tmp/load_large" <<'PY'
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
ts = [list(map(float, open(sys.argv[i]).read().split()[-3:])) for i in (3, 4)]
loads = [open(sys.argv[i]).read().strip() for i in (6, 7)]
for label, (wall, user, sys_), load in zip(("1000", str(n)), ts, loads):
    print(f"whole check, {label} instances: {wall:.1f} s wall, {user + sys_:.1f} s CPU (user+sys), load average before: {load}")
print("goal: < 60 s wall on 2 cores for 10,000 instances")
print("verdicts: no fails became holds" if not flips else f"FLIPPED: {', '.join(flips)}")
sys.exit(1 if flips else 0)
PY
