#!/usr/bin/env bash
# Submit a sharded `sftrl check` or `sftrl search` as a Slurm job array plus a dependent merge job.
#
#   scripts/slurm/submit.sh --shards 64 --out /scratch/run1 [--cpus-per-task 2] [--sbatch "OPTS"] \
#       -- check --claim thm3.1 --instances 1000000 --seed 7
#   scripts/slurm/submit.sh --resubmit --out /scratch/run1 [--sbatch "OPTS"]
#
# ARGS reach sftrl word for word (a value with spaces stays one argument): they are stored in
# OUT/sftrl-args, NUL-separated, and shard.sbatch reads them back into an array. --resubmit
# submits again only the shards whose OUT/part-K.json is missing or not a finished report (a
# timed-out or failed task), with the stored ARGS and shard count, plus a new merge job.
#
# Sizing (--time, --mem in --sbatch): a shard of `check` costs about (instances/N) x (seconds per
# instance of its claims); measure that with a small run on one core first, e.g.
#   sftrl check --claim C --instances 2000 --timing --json pilot.json --threads 1
# (each claim's "instances_per_second"), and give --time about 3x the estimate; docs/slurm.md lists
# measured rates. Memory: a check task peaked at 29 MB here; --mem=512M is ample (docs/slurm.md).
#
# Array task K runs `sftrl ARGS --shard K/N --json OUT/part-K.json`; the merge job (afterok) writes
# OUT/merged.json, equal byte for byte to `sftrl ARGS --json merged.json` run in one process. For
# `check`, every shard must get the whole run's --instances (it does: ARGS are passed unchanged).
# The binary is $SFTRL_BIN, else `sftrl` on PATH, else this checkout's .build/release/sftrl; it
# and OUT must be visible on the compute nodes. Prints "ARRAY_JOB_ID MERGE_JOB_ID" on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards="" out="" cpus=1 extra="" resubmit=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resubmit) resubmit=1; shift ;;
    --shards) shards=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cpus-per-task) cpus=$2; shift 2 ;;
    --sbatch) extra=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "submit.sh: unknown option $1 (usage: submit.sh --shards N --out DIR [--cpus-per-task C] [--sbatch OPTS] -- check|search ARGS..., or submit.sh --resubmit --out DIR)" >&2; exit 2 ;;
  esac
done
if [ "$resubmit" = 1 ]; then
  [ -n "$out" ] && [ -s "$out/sftrl-args" ] && [ -s "$out/sftrl-shards" ] || {
    echo "submit.sh: --resubmit needs --out DIR of an earlier submission (with sftrl-args and sftrl-shards)" >&2; exit 2; }
  [ $# -eq 0 ] || { echo "submit.sh: --resubmit takes no ARGS (it reuses OUT/sftrl-args)" >&2; exit 2; }
  out=$(cd "$out" && pwd)
  shards=$(cat "$out/sftrl-shards")
  mapfile -d '' -t stored < "$out/sftrl-args"
  set -- "${stored[@]}"
fi
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
tasks="0-$((shards - 1))"
if [ "$resubmit" = 1 ]; then
  # A finished part is a whole JSON report (sftrl writes it atomically): it ends with "}".
  missing=()
  for ((k = 0; k < shards; k++)); do
    f="$out/part-$k.json"
    if [ ! -s "$f" ] || [ "$(tail -c 2 "$f" | tr -d '\n')" != "}" ]; then missing+=("$k"); fi
  done
  if [ ${#missing[@]} -eq 0 ]; then echo "submit.sh: every shard of $out has its report; nothing to resubmit" >&2; exit 0; fi
  tasks=$(IFS=,; echo "${missing[*]}")
  echo "submit.sh: resubmitting shards $tasks of $shards" >&2
else
  printf '%s\0' "$@" > "$out/sftrl-args"
  echo "$shards" > "$out/sftrl-shards"
fi
export SFTRL_BIN=$bin SFTRL_OUT=$out SFTRL_SHARDS=$shards
# shellcheck disable=SC2086
array=$(sbatch --parsable --export=ALL --chdir="$out" --array="$tasks" --cpus-per-task="$cpus" $extra "$here/shard.sbatch")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable --export=ALL --chdir="$out" --dependency="afterok:$array" --kill-on-invalid-dep=yes $extra "$here/merge.sbatch")
echo "$array ${merge%%;*}"
