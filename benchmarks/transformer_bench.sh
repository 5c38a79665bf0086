#!/usr/bin/env bash
# Transformer training throughput: sftrl against PyTorch on the CPU, same configuration, batch,
# length, update and thread count, in one run, interleaved (sftrl, PyTorch, sftrl, ...), medians.
#   Train step, both sides: forward, mean cross-entropy on random targets, backward, SGD p -= 1e-3·g.
#   Rows: tiny (V 128, C 64, 2 layers) at 16 × 64 tokens; small (V 1,024, C 256, 4 layers) at 8 × 128.
#   Each row: tokens/s of both, the ratio sftrl/PyTorch, and each side's matmul GFLOP/s as a share
#   of its own sgemm peak (OpenBLAS sgemm / torch.mm on 2048³, same run); the kernels that ran
#   (OpenBLAS core, AVX2 kernel; torch's BLAS and CPU capability) and each process's load average.
# Needs: a release build of sftrl; python3 with torch and transformers (PYTHON=/path/to/python).
# Usage: benchmarks/transformer_bench.sh [--threads "1"] [--runs 3] [--steps 20] [--rows "tiny small"]
#        (BIN=path/to/sftrl to skip the build; SCRATCH=.build-x picks SwiftPM's build folder;
#         MARKDOWN=FILE also writes the table as Markdown.)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="1" RUNS=3 STEPS=20 ROWS="tiny small" ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2;; --runs) RUNS=$2; shift 2;; --steps) STEPS=$2; shift 2;;
    --rows) ROWS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
PYTHON=${PYTHON:-python3}
if [ -z "${BIN:-}" ]; then
  SCRATCH=${SCRATCH:-.build}
  swift build -c release --scratch-path "$SCRATCH" --product sftrl >&2
  BIN="$SCRATCH/release/sftrl"
fi
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
shape() { case "$1" in tiny) echo "--batch 16 --length 64";; small) echo "--batch 8 --length 128";;
          *) echo "unknown row $1" >&2; exit 2;; esac; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
DATE=$(date -u +"%Y-%m-%d %H:%M UTC")
for th in $THREADS; do
  export OPENBLAS_NUM_THREADS=$th OMP_NUM_THREADS=$th MKL_NUM_THREADS=$th
  for row in $ROWS; do
    for r in $(seq 1 "$RUNS"); do
      echo "== $row, $th thread(s), run $r/$RUNS" >&2
      # shellcheck disable=SC2046
      "$BIN" lm bench --preset "$row" $(shape "$row") --steps "$STEPS" --phases train --threads "$th" \
        --peak-size 2048 --json "$TMP/sftrl-$row-$th-$r.json" 2>/dev/null
      # shellcheck disable=SC2046
      "$PYTHON" benchmarks/transformer_bench.py --preset "$row" $(shape "$row") --steps "$STEPS" \
        --phases train --threads "$th" > "$TMP/torch-$row-$th-$r.json"
    done
  done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
"$PYTHON" - "$TMP" "$LOAD0" "$LOAD1" "$DATE" "$ARGS" "${MARKDOWN:-}" <<'EOF'
import glob, json, os, statistics, sys
tmp, load0, load1, date, args, md = sys.argv[1:7]
rows = {}
for path in sorted(glob.glob(os.path.join(tmp, "*.json"))):
    impl, row, th, _ = os.path.basename(path)[:-5].split("-", 3) if os.path.basename(path).count("-") >= 3 else (None,)*4
    d = json.load(open(path))
    rows.setdefault((row, int(th)), {}).setdefault(impl, []).append(d)
med = lambda ds, k: statistics.median(x[k] for x in ds)
lines = ["| row | threads | sftrl tok/s | PyTorch tok/s | ratio | sftrl share of peak | PyTorch share of peak | sgemm peak GFLOP/s (OpenBLAS / torch) | runs |",
         "|---|---|---|---|---|---|---|---|---|"]
for (row, th), d in sorted(rows.items(), key=lambda kv: (kv[0][1], ["tiny", "small"].index(kv[0][0]) if kv[0][0] in ("tiny", "small") else 9)):
    s, t = d["sftrl"], d["torch"]
    st, tt = med(s, "train_tokens_per_second"), med(t, "train_tokens_per_second")
    ratios = sorted(a["train_tokens_per_second"] / b["train_tokens_per_second"] for a, b in zip(s, t))
    b0 = s[0]
    lines.append(f"| {row} ({b0['parameters']:,} params, {b0['train_batch']}×{b0['train_length']}) | {th} | {st:,.0f} | {tt:,.0f} | "
                 f"**{st / tt:.2f}** (runs {', '.join(f'{r:.2f}' for r in ratios)}) | "
                 f"{100 * med(s, 'train_share_of_sgemm_peak'):.0f}% | {100 * med(t, 'train_share_of_sgemm_peak'):.0f}% | "
                 f"{med(s, 'sgemm_peak_gflops'):.0f} / {med(t, 'sgemm_peak_gflops'):.0f} | {len(s)} |")
print(f"== {date}; load average (1, 5, 15 min) before {load0}, after {load1}; "
      f"command: benchmarks/transformer_bench.sh {args}".rstrip())
first = rows[next(iter(rows))]
print(f"== PyTorch: {first['torch'][0]['implementation']}")
# The kernel that ran on each side, and the 1-minute load each process saw at its start and end.
print(f"== kernels: sftrl sgemm {first['sftrl'][0].get('blas_kernel', '?')}, skinny AVX2+FMA "
      f"{first['sftrl'][0].get('skinny_kernel_vectorised')}; PyTorch {first['torch'][0].get('blas_kernel', '?')}")
for (row, th), d in sorted(rows.items()):
    pairs = [f"{x.get('load_average_start', '?')}→{x.get('load_average_end', '?')}" for side in ("sftrl", "torch") for x in d[side]]
    print(f"== load per process, {row} {th} thread(s) (sftrl runs, then PyTorch runs): {', '.join(pairs)}")
print("\n".join(lines))
if md:
    with open(md, "w") as f:
        f.write("\n".join(lines) + "\n")
EOF
