#!/usr/bin/env bash
# Benchmark of the sampled algorithms: 64 seeds × 1,000 GRPO steps (G = 8) on a 16-prompt ×
# 64-response tabular instance (`sftrl flow --schedule grpo:1000 --seeds 64`), and `sftrl update
# --method grpo --monte-carlo 20000` on it (exact enumeration would need C(71, 8)^16 batches), each
# against the same estimator vectorised in numpy (benchmarks/grpo_numpy.py), measured in the same run.
# Run by hand (not by CI): bash benchmarks/sampled_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh >/dev/null
swift build -c release >/dev/null
bin=.build/release/sftrl
tmp=$(mktemp -d)
python3 - "$tmp/inst.json" <<'PY'
import json, sys
import numpy as np
rng = np.random.default_rng(7)
X, N = 16, 64
def simplex(): v = rng.dirichlet(np.ones(N)); v = np.maximum(v, 1e-6); return list(v / v.sum())
prompts = [{"weight": 1.0, "data": simplex(), "reward": list(rng.uniform(-1, 1, N)), "reference": simplex(), "start": simplex()} for _ in range(X)]
json.dump({"beta": 0.1, "policy": {"kind": "tabular"}, "prompts": prompts}, open(sys.argv[1], "w"))
PY
export OPENBLAS_NUM_THREADS=1
s=$(date +%s.%N)
$bin flow --instance "$tmp/inst.json" --schedule grpo:1000 --seeds 64 --eta 0.1 --group-size 8 --every 1000 --out "$tmp/flow" --quiet
t_flow=$(echo "$(date +%s.%N) - $s" | bc)
s=$(date +%s.%N)
$bin update --instance "$tmp/inst.json" --method grpo --group-size 8 --eta 0.1 --monte-carlo 20000 --json "$tmp/update.json" >/dev/null
t_update=$(echo "$(date +%s.%N) - $s" | bc)
read -r np_flow np_update np_loss np_trace < <(python3 benchmarks/grpo_numpy.py "$tmp/inst.json" 64 1000 8 0.1 20000)
echo "sftrl flow grpo:1000, 64 seeds (2 threads, plus the exact steps and trace): ${t_flow} s; numpy vectorised over seeds: ${np_flow} s; ratio numpy/sftrl = $(echo "$np_flow / $t_flow" | bc -l | cut -c1-5)"
echo "sftrl update --monte-carlo 20000: ${t_update} s; numpy: ${np_update} s; ratio numpy/sftrl = $(echo "$np_update / $t_update" | bc -l | cut -c1-5)"
echo "check: final sft_loss mean sftrl $(tail -1 "$tmp/flow/trace.csv" | cut -d, -f3) vs numpy ${np_loss}; tr Cov sftrl $(python3 -c "import json;print(json.load(open('$tmp/update.json'))['trace_covariance'])") vs numpy ${np_trace}"
rm -rf "$tmp"
