#!/usr/bin/env bash
# Tokenizer speed and agreement, sftrl vs Python `tokenizers` in the same run (see tokenizer_bench.py).
# Needs: a release build of sftrl; python3 with tokenizers (pip install tokenizers).
# Usage: benchmarks/tokenizer_bench.sh [--vocab 8000] [--repeat 40]   (SCRATCH=.build-x for another build folder)
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product sftrl >&2
PY=${PYTHON:-python3}
"$PY" benchmarks/tokenizer_bench.py "$SCRATCH/release/sftrl" "$@"
