#!/usr/bin/env bash
# Transformer throughput: sftrl vs PyTorch on the CPU, same config, batch, length and threads,
# in one run. Prints both JSON reports and the ratios.
#   Train step: forward + mean cross-entropy + backward + plain SGD update (no AdamW), tiny preset.
#   Also: qwen3-0.6b forward tokens/s (random weights, one short sequence) and the share of the
#   sgemm peak (n×n×n product measured in the same process).
# Needs: a release build of sftrl; python3 with torch and transformers (pip install torch transformers).
# Usage: benchmarks/transformer_bench.sh [--threads 2] [--batch 16] [--length 64] [--steps 30]
#        [--large-length 16] [--large-steps 3]   (SCRATCH=.build-x to pick SwiftPM's build folder)
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=2 BATCH=16 LENGTH=64 STEPS=30 LARGE_LENGTH=16 LARGE_STEPS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2;; --batch) BATCH=$2; shift 2;; --length) LENGTH=$2; shift 2;;
    --steps) STEPS=$2; shift 2;; --large-length) LARGE_LENGTH=$2; shift 2;; --large-steps) LARGE_STEPS=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product sftrl >&2
BIN="$SCRATCH/release/sftrl"
ARGS=(--threads "$THREADS" --batch "$BATCH" --length "$LENGTH" --steps "$STEPS"
      --large-length "$LARGE_LENGTH" --large-steps "$LARGE_STEPS")
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
"$BIN" lm bench "${ARGS[@]}" > "$TMP/swift.json"
python3 benchmarks/transformer_bench.py "${ARGS[@]}" > "$TMP/torch.json"
echo "== load average at start: $LOAD0 (other processes skew both sides; compare runs at low load)"
echo "== sftrl";   cat "$TMP/swift.json"
echo "== pytorch"; cat "$TMP/torch.json"
python3 - "$TMP/swift.json" "$TMP/torch.json" <<'EOF'
import json, sys
s, t = (json.load(open(p)) for p in sys.argv[1:3])
print("== summary")
print(f"train tokens/s (tiny, B={s['train']['batch']}, T={s['train']['length']}, {s['threads']} threads): "
      f"sftrl {s['train']['tokens_per_s']:.0f}, pytorch {t['train']['tokens_per_s']:.0f}, "
      f"ratio sftrl/pytorch {s['train']['tokens_per_s'] / t['train']['tokens_per_s']:.2f}")
print(f"sgemm peak GFLOP/s: OpenBLAS {s['sgemm_peak_gflops']:.1f}, torch.mm {t['sgemm_peak_gflops']:.1f}; "
      f"sftrl train step at {100 * s['train']['share_of_sgemm_peak']:.1f}% of the OpenBLAS peak")
if "decode" in s:
    print(f"sftrl greedy KV-cache decoding (tiny, batch {s['decode']['batch']}): {s['decode']['tokens_per_s']:.0f} tokens/s")
if "qwen3_0_6b_forward" in s and "qwen3_0_6b_forward" in t:
    a, b = s["qwen3_0_6b_forward"], t["qwen3_0_6b_forward"]
    print(f"qwen3-0.6b forward tokens/s (T={a['length']}): sftrl {a['tokens_per_s']:.1f} "
          f"({100 * a['share_of_sgemm_peak']:.1f}% of peak), pytorch {b['tokens_per_s']:.1f}, "
          f"ratio {a['tokens_per_s'] / b['tokens_per_s']:.2f}")
EOF
