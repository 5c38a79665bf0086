#!/usr/bin/env bash
# Submit a sharded `sftrl check` or `sftrl search` as a Slurm job array plus a dependent merge job.
#
#   scripts/slurm/submit.sh --shards 64 --out /scratch/run1 [--cpus-per-task 2] [--sbatch "OPTS"] \
#       -- check --claim thm3.1 --instances 1000000 --seed 7
#
# Array task K runs `sftrl ARGS --shard K/N --json OUT/part-K.json`; the merge job (afterok) writes
# OUT/merged.json, equal byte for byte to `sftrl ARGS --json merged.json` run in one process. For
# `check`, every shard must get the whole run's --instances (it does: ARGS are passed unchanged).
# The binary is $SFTRL_BIN, else `sftrl` on PATH, else this checkout's .build/release/sftrl; it
# and OUT must be visible on the compute nodes. Prints "ARRAY_JOB_ID MERGE_JOB_ID" on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards="" out="" cpus=1 extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) shards=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cpus-per-task) cpus=$2; shift 2 ;;
    --sbatch) extra=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "submit.sh: unknown option $1 (usage: submit.sh --shards N --out DIR [--cpus-per-task C] [--sbatch OPTS] -- check|search ARGS...)" >&2; exit 2 ;;
  esac
done
case "${1:-}" in check|search) ;; *) echo "submit.sh: after --, give check or search and its options" >&2; exit 2 ;; esac
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: --shards must be a positive integer, got '$shards'" >&2; exit 2; }
[ -n "$out" ] || { echo "submit.sh: --out DIR is required" >&2; exit 2; }
for a in "$@"; do
  case "$a" in --shard|--shard=*|--json|--json=*) echo "submit.sh: do not pass $a; the recipe sets it per task" >&2; exit 2 ;; esac
done
bin=${SFTRL_BIN:-$(command -v sftrl || echo "$here/../../.build/release/sftrl")}
[ -x "$bin" ] || { echo "submit.sh: no sftrl binary at $bin (set SFTRL_BIN)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
mkdir -p "$out"; out=$(cd "$out" && pwd)
export SFTRL_BIN=$bin SFTRL_OUT=$out SFTRL_ARGS="$*" SFTRL_SHARDS=$shards
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL --chdir="$out" --array="0-$((shards - 1))" --cpus-per-task="$cpus" $extra "$here/shard.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL --chdir="$out" --dependency="afterok:$array" --kill-on-invalid-dep=yes $extra "$here/merge.sbatch")
echo "$array ${merge%%;*}"
