#!/usr/bin/env bash
# Inference throughput at 1 thread: sftrl (f32 and bf16 weight storage) against PyTorch CPU on the
# same config in one run, rounds interleaved (sftrl f32, sftrl bf16, PyTorch f32[, PyTorch bf16])
# so that load drifts hit all sides alike; medians over rounds; ratios sftrl / PyTorch f32.
#   forward: qwen3-0.6b, random weights, 1 × 16 tokens, full logits (median of 5 per process);
#   decode:  greedy with the KV cache, 32 tokens after the 16-token prompt;
#   peak resident memory (ru_maxrss) of each process, and the OpenBLAS sgemm peak of the run.
# The sftrl side is `sftrl lm bench --phases forward,decode --weights f32|bf16` (one storage per
# process, so that each peak resident memory is that storage's).
# Needs: python3 with torch + transformers (PYTHON=/path/to/python to choose one).
# Usage: benchmarks/inference_bench.sh [--rounds 3] [--threads 1] [--length 16] [--decode 32]
#        [--preset qwen3-0.6b] [--torch-bf16]   (SCRATCH=.build-x picks SwiftPM's build folder;
#        BIN=path/to/sftrl times an existing binary)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=3 THREADS=1 LENGTH=16 DECODE=32 PRESET=qwen3-0.6b TORCH_BF16=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;; --threads) THREADS=$2; shift 2;; --length) LENGTH=$2; shift 2;;
    --decode) DECODE=$2; shift 2;; --preset) PRESET=$2; shift 2;; --torch-bf16) TORCH_BF16=1; shift;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
PYTHON=${PYTHON:-python3}
if [ -z "${BIN:-}" ]; then   # BIN=path/to/sftrl times an existing binary (no build)
  SCRATCH=${SCRATCH:-.build}
  swift build -c release --scratch-path "$SCRATCH" --product sftrl >&2
  BIN="$SCRATCH/release/sftrl"
fi
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
LOADS=()
for r in $(seq 1 "$ROUNDS"); do
  LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
  echo "round $r/$ROUNDS (load average ${LOADS[-1]})" >&2
  for w in f32 bf16; do
    "$BIN" lm bench --preset "$PRESET" --weights "$w" --phases forward,decode --forward-length "$LENGTH" \
      --decode-tokens "$DECODE" --forward-repeats 5 --peak-size 1024 --threads "$THREADS" --json "$TMP/sftrl-$w-$r.json"
  done
  "$PYTHON" benchmarks/inference_bench.py --preset "$PRESET" --length "$LENGTH" --decode "$DECODE" --threads "$THREADS" > "$TMP/torch-f32-$r.json"
  if [ "$TORCH_BF16" = 1 ]; then
    "$PYTHON" benchmarks/inference_bench.py --preset "$PRESET" --length "$LENGTH" --decode "$DECODE" --threads "$THREADS" --dtype bfloat16 > "$TMP/torch-bf16-$r.json"
  fi
done
LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
"$PYTHON" - "$TMP" "$ROUNDS" "$THREADS" "${LOADS[*]}" <<'PY'
import glob, json, os, statistics, sys
tmp, rounds, threads, loads = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = {}
for side in ["sftrl-f32", "sftrl-bf16", "torch-f32", "torch-bf16"]:
    files = sorted(glob.glob(os.path.join(tmp, side + "-*.json")))
    if files:
        runs[side] = [json.load(open(f)) for f in files]
# sftrl rows are `lm bench`'s flat keys; PyTorch rows are inference_bench.py's nested ones.
KEYS = {"forward_tps": ("forward_tokens_per_second", ("forward", "tokens_per_s")),
        "forward_ms": ("forward_ms", ("forward", "median_ms")),
        "forward_gflops": ("forward_matmul_gflops", None),
        "decode_tps": ("decode_tokens_per_second", ("decode", "tokens_per_s")),
        "rss_mb": ("peak_rss_mib", ("max_rss_mb",))}
def get(side, r, key):
    flat, nested = KEYS[key]
    if side.startswith("sftrl"):
        return r[flat]
    for k in nested: r = r[k]
    return r
med = lambda side, key: statistics.median(get(side, r, key) for r in runs[side])
s = runs["sftrl-f32"][0]
peak = statistics.median(r["sgemm_peak_gflops"] for side in runs if side.startswith("sftrl") for r in runs[side])
print(f"== {s['model']}, {threads} thread(s), {rounds} interleaved rounds; load average at each round start: {loads}")
print(f"   OpenBLAS sgemm peak {peak:.1f} GFLOP/s (median over the sftrl processes)")
print("per round: forward tok/s | decode tok/s")
for r in range(rounds):
    print(f"  round {r + 1}: " + "; ".join(f"{side} {get(side, runs[side][r], 'forward_tps'):.1f} | {get(side, runs[side][r], 'decode_tps'):.2f}"
                                       for side in runs))
print("kernels: " + "; ".join(f"{side} {runs[side][0].get('blas_kernel', '?')}" for side in runs)
      + f" (sftrl skinny AVX2+FMA: {s.get('skinny_kernel_vectorised')})")
print("load average per process (start→end): " + "; ".join(
    f"{side} " + ", ".join(f"{r.get('load_average_start', '?')}→{r.get('load_average_end', '?')}" for r in runs[side]) for side in runs))
# Share of the physical limits: sgemm peak (sftrl's OpenBLAS; matmul FLOPs) and the read bandwidth
# each process measured itself (weight bytes read per forward or decoding step, per second).
bw = lambda side, key: f"{100 * statistics.median(r.get(key, float('nan')) for r in runs[side]):.0f} %"
print("| side | forward tok/s | forward ms | matmul GFLOP/s (share of peak) | forward share of read bandwidth | decode tok/s | decode share of read bandwidth | read GB/s | peak RSS MB |")
print("|---|---|---|---|---|---|---|---|---|")
for side in runs:
    gf = f"{med(side, 'forward_gflops'):.1f} ({100 * med(side, 'forward_gflops') / peak:.0f} %)" if side.startswith("sftrl") else "—"
    print(f"| {side} | {med(side, 'forward_tps'):.1f} | {med(side, 'forward_ms'):.0f} | {gf} | {bw(side, 'forward_share_of_read_bandwidth')} "
          f"| {med(side, 'decode_tps'):.2f} | {bw(side, 'decode_share_of_read_bandwidth')} "
          f"| {statistics.median(r.get('read_bandwidth_gbs', float('nan')) for r in runs[side]):.1f} | {med(side, 'rss_mb'):.0f} |")
def ratios(side, key):
    return [get(side, runs[side][r], key) / get("torch-f32", runs["torch-f32"][r], key) for r in range(rounds)]
for side in ["sftrl-f32", "sftrl-bf16"]:
    f, d = ratios(side, "forward_tps"), ratios(side, "decode_tps")
    print(f"ratio {side} / torch-f32 (median of per-round ratios, then each round): "
          f"forward {statistics.median(f):.2f}× ({', '.join(f'{x:.2f}' for x in f)}), "
          f"decode {statistics.median(d):.2f}× ({', '.join(f'{x:.2f}' for x in d)})")
PY
