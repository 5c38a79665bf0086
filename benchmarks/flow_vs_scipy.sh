#!/usr/bin/env bash
# Times `sftrl flow` (release build) against scipy's solve_ivp (DOP853 and RK45) on the same
# gradient flows, whole process against whole process, and checks that the final states agree.
#
#   benchmarks/flow_vs_scipy.sh                 # all cases, 10 timed runs each
#   RUNS=20 SCRATCH=.build-policyflow benchmarks/flow_vs_scipy.sh
#   BIN=.build/release/sftrl ...   # time an existing binary (no build)
#   CASES_ONLY=1 ... / SIZES_ONLY=1 SIZES="16x64 128x1024" RUNS_BIG=3 ...   # only the fixed cases / only chosen sizes
#
# Same rtol/atol on both sides. Timing uses hyperfine (apt-get install hyperfine) when present,
# else a loop of RUNS runs timed with `date`. The script exits 1 if any final state differs from
# sftrl's by more than TOL (default 1e-8, largest absolute difference of the logits).
# Columns: mean wall time of the whole process (start-up, imports, instance loading, integration,
# output) for sftrl, DOP853 and RK45; the ratios scipy/sftrl; and the in-process times: sftrl's
# manifest wall time (load + integrate + trace) against solve_ivp's integration alone.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
RUNS_SAVED=$RUNS
# The binary is linked with Swift's runtime and Foundation statically (--static-swift-stdlib, its own
# scratch folder): dynamic loading is a third of sftrl's start-up (31 ms against 24 ms for the whole
# 16 × 64 run here). STATIC=0 times the default dynamically linked build instead.
# It is also linked as a position-dependent executable (-no-pie): the 82,000 relative relocations
# a PIE applies at every start cost about 0.7 ms of the 18 ms run.
STATIC=${STATIC:-1}
if [ "$STATIC" = 1 ]; then SCRATCH=${SCRATCH:-.build-static}; STATIC_FLAG=(--static-swift-stdlib -Xlinker -no-pie); else SCRATCH=${SCRATCH:-.build}; STATIC_FLAG=(); fi
TOL=${TOL:-1e-8}
# One BLAS thread on both sides (numpy loads OpenBLAS too; neither RHS calls BLAS). OpenBLAS's
# thread pool costs about 30 ms of start-up per process here; override with OPENBLAS_NUM_THREADS.
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
PY=${PYTHON:-python3}

if [ -z "${BIN:-}" ]; then   # BIN=path/to/sftrl skips the build
  swift build -c release "${STATIC_FLAG[@]}" --scratch-path "$SCRATCH" --product sftrl >&2
  BIN="$SCRATCH/release/sftrl"
fi
[ -f examples/large-64x16.json ] || "$PY" examples/make_large.py
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# instance | schedule | rtol | atol
CASES=(
  "examples/three-response.json|sft:2,rl:5,sft:2|1e-10|1e-12"
  "examples/two-prompt.json|sft:2,rl:5,mix:0.3:4|1e-10|1e-12"
  "examples/large-64x16.json|rl:10|1e-10|1e-12"
  "examples/large-64x16.json|sft:3,rl:4,mix:0.3:3|1e-10|1e-12"
  "examples/large-64x16.json|rl:400|1e-10|1e-12"
)

mean_seconds() {  # command... -> mean wall seconds over RUNS runs (after 2 warm-up runs)
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$TMP/h.json" "$*" >/dev/null 2>&1
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.4f %.4f" % (r["mean"], r["stddev"] or 0))' "$TMP/h.json"
  else
    "$@" >/dev/null; "$@" >/dev/null
    local start end
    start=$(date +%s.%N)
    for _ in $(seq "$RUNS"); do "$@" >/dev/null; done
    end=$(date +%s.%N)
    "$PY" -c 'import sys; print("%.4f nan" % ((float(sys.argv[2]) - float(sys.argv[1])) / int(sys.argv[3])))' "$start" "$end" "$RUNS"
  fi
}

echo "timer: $(command -v hyperfine >/dev/null && hyperfine --version || echo 'date loop'), runs: $RUNS, machine: $(nproc) cores"
printf '%-28s %-22s %-7s %16s %16s %16s %8s %8s %12s %12s %9s %9s\n' instance schedule rtol \
  "sftrl s" "DOP853 s" "RK45 s" "D/sftrl" "R/sftrl" "sftrl in-p" "DOP853 in-p" "ΔDOP853" "ΔRK45"
status=0
k=0
[ -n "${SIZES_ONLY:-}" ] && CASES=()
for c in "${CASES[@]}"; do
  IFS='|' read -r inst sched rtol atol <<<"$c"
  k=$((k + 1))
  out="$TMP/sftrl-$k"
  sftrl_cmd=("$BIN" flow --instance "$inst" --schedule "$sched" --rtol "$rtol" --atol "$atol" --samples 2 --quiet --out "$out")
  "${sftrl_cmd[@]}"
  diffs=()
  for m in DOP853 RK45; do
    "$PY" benchmarks/flow_vs_scipy.py solve "$inst" "$sched" --method "$m" --rtol "$rtol" --atol "$atol" --out "$TMP/$m-$k.json" >/dev/null
    if line=$("$PY" benchmarks/flow_vs_scipy.py compare "$out/manifest.json" "$TMP/$m-$k.json" --tol "$TOL"); then :; else status=1; fi
    diffs+=("$(sed -E 's/.*= ([^ ]+) .*/\1/' <<<"$line")")
  done
  read -r ts _ < <(mean_seconds "${sftrl_cmd[@]}")
  read -r td _ < <(mean_seconds "$PY" benchmarks/flow_vs_scipy.py solve "$inst" "$sched" --method DOP853 --rtol "$rtol" --atol "$atol" --out "$TMP/DOP853-$k.json")
  read -r tr _ < <(mean_seconds "$PY" benchmarks/flow_vs_scipy.py solve "$inst" "$sched" --method RK45 --rtol "$rtol" --atol "$atol" --out "$TMP/RK45-$k.json")
  inproc_s=$("$PY" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["timing"]["wall_seconds"])' "$out/manifest.json")
  inproc_d=$("$PY" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["solve_seconds"])' "$TMP/DOP853-$k.json")
  ratio_d=$("$PY" -c 'import sys; print("%.1f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$td" "$ts")
  ratio_r=$("$PY" -c 'import sys; print("%.1f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$tr" "$ts")
  printf '%-28s %-22s %-7s %16s %16s %16s %8s %8s %12s %12s %9s %9s\n' "$(basename "$inst")" "$sched" "$rtol" \
    "$ts" "$td" "$tr" "$ratio_d" "$ratio_r" "$inproc_s" "$inproc_d" "${diffs[0]}" "${diffs[1]}"
done

# Cost versus size: seeded instances P prompts x N responses (examples/make_large.py), the schedule
# sft:3,rl:4,mix:0.3:3 at rtol 1e-10 / atol 1e-12, whole process against whole process (fewer runs for
# the two largest sizes), the in-process times, the work (f evaluations), sftrl's integration time per
# f evaluation (GSL's stepper work included) against a fused C loop of the same right-hand side
# (benchmarks/rhs_fused.c, -O2, one exp per logit), and the largest difference of the final states.
SIZES=${SIZES:-"4x16 16x64 64x256 128x1024 256x2048"}
[ -n "${CASES_ONLY:-}" ] && SIZES=""
RUNS_BIG=${RUNS_BIG:-3}
SCHED_SIZE="sft:3,rl:4,mix:0.3:3"
cc -O2 -o "$TMP/rhs_fused" benchmarks/rhs_fused.c -lm
echo
echo "cost versus size ($SCHED_SIZE, rtol 1e-10, atol 1e-12, --samples 2; seconds)"
printf '%-10s %8s %9s %9s %8s %10s %10s %8s %8s %11s %11s %7s %9s\n' size logits "sftrl" "DOP853" "D/sftrl" \
  "sftrl run" "DOP853 ivp" "sftrl f" "scipy f" "sftrl s/f" "C fused s/f" "s/f÷C" "Δ"
for size in $SIZES; do
  P=${size%x*}; N=${size#*x}
  inst="$TMP/size-$size.json"
  "$PY" examples/make_large.py --prompts "$P" --responses "$N" --out "$inst"
  runs=$RUNS; [ $((P * N)) -ge 100000 ] && runs=$RUNS_BIG
  out="$TMP/size-sftrl-$size"
  sftrl_cmd=("$BIN" flow --instance "$inst" --schedule "$SCHED_SIZE" --rtol 1e-10 --atol 1e-12 --samples 2 --quiet --out "$out")
  "${sftrl_cmd[@]}"
  "$PY" benchmarks/flow_vs_scipy.py solve "$inst" "$SCHED_SIZE" --method DOP853 --rtol 1e-10 --atol 1e-12 --out "$TMP/size-D-$size.json" >/dev/null
  if line=$("$PY" benchmarks/flow_vs_scipy.py compare "$out/manifest.json" "$TMP/size-D-$size.json" --tol "$TOL"); then :; else status=1; fi
  diff=$(sed -E 's/.*= ([^ ]+) .*/\1/' <<<"$line")
  RUNS=$runs
  read -r ts _ < <(mean_seconds "${sftrl_cmd[@]}")
  read -r td _ < <(mean_seconds "$PY" benchmarks/flow_vs_scipy.py solve "$inst" "$SCHED_SIZE" --method DOP853 --rtol 1e-10 --atol 1e-12 --out "$TMP/size-D-$size.json")
  RUNS=${RUNS_SAVED:-$RUNS}
  read -r run_s nf_s < <("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1]))["extra"]; print("%.4f %d" % (m["run_seconds"], m["stats"]["rhs_evaluations"]))' "$out/manifest.json")
  read -r ivp_d nf_d < <("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%.4f %d" % (m["solve_seconds"], m["nfev"]))' "$TMP/size-D-$size.json")
  read -r c_per _ < <("$TMP/rhs_fused" "$P" "$N")
  "$PY" - "$size" "$((P * N))" "$ts" "$td" "$run_s" "$ivp_d" "$nf_s" "$nf_d" "$c_per" "$diff" <<'PYEOF'
import sys
size, n, ts, td, rs, ivp, nfs, nfd, c, diff = sys.argv[1:]
per = float(rs) / int(nfs)
print("%-10s %8s %9.4f %9.4f %8.1f %10.4f %10.4f %8s %8s %11.3e %11.3e %7.2f %9s" % (
    size, n, float(ts), float(td), float(td) / float(ts), float(rs), float(ivp), nfs, nfd, per, float(c), per / float(c), diff))
PYEOF
done
[ "$status" -eq 0 ] && echo "all final states agree to $TOL" || echo "SOME FINAL STATES DIFFER BY MORE THAN $TOL"
exit "$status"
