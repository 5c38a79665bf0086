#!/usr/bin/env bash
# The recipe without Slurm (no root needed): a fake `sbatch` runs each array task in turn and a fake
# sftrl records its argv. Checks that ARGS reach sftrl word for word (an argument with spaces, an
# empty one, a glob), that every shard gets --shard K/N, and that --resubmit submits only the
# shards whose report is missing or unfinished. Usage: bash scripts/slurm/args_test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin"
# Fake sbatch: --array=LIST runs the script once per index (LIST: a-b or k,l,...); prints a job id.
cat > "$work/bin/sbatch" <<'SB'
#!/usr/bin/env bash
array="" chdir="." script=""
for a in "$@"; do
  case "$a" in --array=*) array=${a#--array=} ;; --chdir=*) chdir=${a#--chdir=} ;; --*) ;; *) script=$a ;; esac
done
echo "$array" >> "$SBATCH_LOG"
if [ -n "$array" ]; then
  if [[ "$array" == *-* ]]; then ids=$(seq "${array%-*}" "${array#*-}"); else ids=${array//,/ }; fi
  for k in $ids; do (cd "$chdir" && SLURM_ARRAY_TASK_ID=$k bash "$script") || true; done
fi
echo "$RANDOM"
SB
# Fake sftrl: records its argv (one argument per line, with a marker for empty ones) in the --json file.
cat > "$work/bin/sftrl" <<'SF'
#!/usr/bin/env bash
json="" prev=""
for a in "$@"; do [ "$prev" = "--json" ] && json=$a; prev=$a; done
[ "${1:-}" = merge ] && exit 0
if [ -n "${FAIL_SHARD:-}" ] && [[ " $* " == *" --shard $FAIL_SHARD/"* ]]; then exit 1; fi
{ for a in "$@"; do printf '<%s>\n' "$a"; done; echo "}"; } > "$json"
SF
chmod +x "$work/bin/sbatch" "$work/bin/sftrl"
export PATH="$work/bin:$PATH" SBATCH_LOG="$work/sbatch.log" SFTRL_BIN="$work/bin/sftrl"
out="$work/out"
FAIL_SHARD=2 "$here/submit.sh" --shards 3 --out "$out" -- check --claim "a b" --drop "" --seed '*' >/dev/null
fail() { echo "args_test.sh: FAILED: $*" >&2; exit 1; }
for k in 0 1; do
  grep -qx '<a b>' "$out/part-$k.json" || fail "the argument 'a b' did not arrive whole in shard $k"
  grep -qx '<>' "$out/part-$k.json" || fail "the empty argument was lost in shard $k"
  grep -qx '<\*>' "$out/part-$k.json" || fail "the argument '*' was expanded in shard $k"
  grep -qx "<$k/3>" "$out/part-$k.json" || fail "shard $k did not get --shard $k/3"
done
[ ! -e "$out/part-2.json" ] || fail "the failing shard left a report"
: > "$SBATCH_LOG"
"$here/submit.sh" --resubmit --out "$out" >/dev/null
[ "$(head -1 "$SBATCH_LOG")" = "2" ] || fail "--resubmit submitted '$(head -1 "$SBATCH_LOG")', expected only shard 2"
grep -qx '<2/3>' "$out/part-2.json" && grep -qx '<a b>' "$out/part-2.json" || fail "the resubmitted shard did not get the stored ARGS"
: > "$SBATCH_LOG"
"$here/submit.sh" --resubmit --out "$out" 2>/dev/null >/dev/null
[ ! -s "$SBATCH_LOG" ] || fail "--resubmit with every report present submitted a job"
echo "args_test.sh: arguments intact, --resubmit runs only the missing shard"
