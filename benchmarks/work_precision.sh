#!/usr/bin/env bash
# Work against precision: `sftrl flow` (dop853 with dense output, rms and max norms; rk8pd with
# forced step ends) against scipy's solve_ivp (DOP853, RK45, LSODA) at tolerances 1e-6 … 1e-12,
# whole process against whole process, the errors of the final state and of the trace (50 samples
# and the phase boundaries) against scipy DOP853 at rtol 1e-13. See benchmarks/work_precision.py.
#
#   benchmarks/work_precision.sh                       # all sizes, writes docs/work-precision/
#   SIZES=16x64 TOLS=1e-8,1e-10 RUNS=1 OUT=/tmp/wp benchmarks/work_precision.sh
#   BIN=.build-static/release/sftrl ...                # an existing binary (no build)
#
# PYTHON must have numpy and scipy (matplotlib for the plot; without it the plot is skipped).
# Built and linked as benchmarks/flow_vs_scipy.sh does (static Swift runtime, no PIE).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
PY=${PYTHON:-python3}
OUT=${OUT:-docs/work-precision}
if [ -z "${BIN:-}" ]; then
  swift build -c release --static-swift-stdlib -Xlinker -no-pie --scratch-path .build-static --product sftrl >&2
  BIN=.build-static/release/sftrl
fi
"$PY" benchmarks/work_precision.py run --bin "$BIN" --out-dir "$OUT" \
  --sizes "${SIZES:-16x64,128x1024,256x2048}" --tols "${TOLS:-1e-6,1e-7,1e-8,1e-9,1e-10,1e-11,1e-12}" --tols-large "${TOLS_LARGE:-${TOLS:-1e-6,1e-8,1e-10,1e-12}}" \
  --runs "${RUNS:-3}" --samples "${SAMPLES:-50}" --timeout "${TIMEOUT:-120}"
if "$PY" -c "import matplotlib" 2>/dev/null; then
  "$PY" benchmarks/work_precision.py plot "$OUT/work_precision.csv" "$OUT/work_precision.png"
else
  echo "matplotlib not found: no plot" >&2
fi
