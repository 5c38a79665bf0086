#!/usr/bin/env bash
# Smoke test of the Slurm recipe on this one machine (as root; Debian 12): installs slurm-wlm and
# munge from Debian's packages when missing, starts munged (unless one already answers), slurmctld
# and slurmd for a single node with a private configuration in a temporary folder, submits a 4-task
# `sftrl check` array and a 4-task `sftrl search` array through submit.sh (each with its dependent
# merge job), waits, and compares each merged report with the unsharded run byte for byte. It also
# checks that an array task with --cpus-per-task=1 is bound to one CPU and that sftrl's --threads
# default follows (the affinity mask). Stops only the daemons it started (by process id).
#
#   scripts/slurm/smoke.sh            # SFTRL_BIN, else .build/release/sftrl
# The daemons listen on 127.0.0.1 ports 16817 and 16818 (SFTRL_SMOKE_PORT=P: P and P+1), so the
# host name need not resolve.
# Exit 0 when everything matched; prints the time of each step.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${SFTRL_BIN:-$root/.build/release/sftrl}
[ -x "$bin" ] || { echo "smoke: no sftrl binary at $bin (build it or set SFTRL_BIN)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "smoke: run as root (it starts slurmctld, slurmd and munged)" >&2; exit 2; }
t0=$SECONDS
step() { echo "smoke: [$((SECONDS - t0)) s] $*"; }

# 1. Packages.
if ! dpkg -s slurm-wlm munge >/dev/null 2>&1; then
  step "installing slurm-wlm and munge (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
step "slurm $(slurmctld -V 2>/dev/null | awk '{print $2}'), $(munged --version 2>&1 | head -1)"

work=$(mktemp -d /tmp/sftrl-slurm-smoke.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  local rc=$?
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  if [ "$rc" != 0 ]; then
    echo "smoke: FAILED (exit $rc); logs:" >&2
    for f in "$work"/*.log "$work"/out-*/*.log; do [ -f "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }; done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

# 2. munge: a key owned by munge (mode 400), munged as the munge user.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  step "munged already running; using it"
else
  install -d -o munge -g munge -m 700 /etc/munge /var/lib/munge /var/log/munge
  install -d -o munge -g munge -m 755 /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground >"$work/munged.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null
  step "munged started (pid ${pids[0]})"
fi

# 3. A single-node cluster: this host, all its CPUs, task/affinity binding tasks to their CPUs.
host=$(hostname -s)
cpus=$(nproc --all)
ctl_port=${SFTRL_SMOKE_PORT:-16817}
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<CONF
ClusterName=sftrlsmoke
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$((ctl_port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=smoke Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
cat >"$work/cgroup.conf" <<CONF
CgroupPlugin=autodetect
IgnoreSystemd=yes
CONF
export SLURM_CONF=$work/slurm.conf
slurmctld -D -c >>"$work/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D >>"$work/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
  state=$(sinfo -h -N -o %t 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || { echo "smoke: the node did not become idle (sinfo state '$state')" >&2; exit 1; }
step "slurmctld and slurmd up, node $host idle with $cpus CPUs"

# 4. The thread default inside a task given one CPU.
timeout 300 sbatch --wait --quiet --cpus-per-task=1 --chdir="$work" --output="$work/threads.log" \
  --wrap "grep Cpus_allowed_list /proc/self/status; $bin check --help" >/dev/null
allowed=$(awk '/Cpus_allowed_list/ {print $2}' "$work/threads.log")
default=$(tr -s ' \n' ' ' <"$work/threads.log" | sed 's/.*--threads <threads>//; s/--shard.*//' | grep -o '(default: [0-9]*)' | tail -1)
step "a 1-CPU task: CPUs allowed '$allowed', sftrl check --threads $default"
case "$allowed" in *[,-]*) echo "smoke: a --cpus-per-task=1 task may use CPUs $allowed (task/affinity did not bind it)" >&2; exit 1 ;; esac
[ "$default" = "(default: 1)" ] || { echo "smoke: sftrl's --threads default in a 1-CPU task is $default, expected 1" >&2; exit 1; }

# 5. Sharded check and search: 4-task arrays with their merge jobs, against the unsharded runs.
run_case() {
  local name=$1; shift
  local out="$work/out-$name"
  read -r array merge < <(SFTRL_BIN=$bin "$here/submit.sh" --shards 4 --out "$out" --cpus-per-task 1 -- "$@")
  local start=$SECONDS
  while squeue -h -j "$array,$merge" 2>/dev/null | grep -q .; do
    [ $((SECONDS - start)) -lt 600 ] || { echo "smoke: $name jobs still queued after 600 s" >&2; exit 1; }
    sleep 0.5
  done
  local mstate
  mstate=$(scontrol show job "$merge" | grep -o 'JobState=[A-Z]*' | cut -d= -f2)
  [ "$mstate" = COMPLETED ] || { echo "smoke: $name merge job ended $mstate" >&2; exit 1; }
  "$bin" "$@" --json "$work/$name-whole.json" --quiet >/dev/null
  cmp "$out/merged.json" "$work/$name-whole.json" || { echo "smoke: $name: merged report differs from the unsharded run" >&2; exit 1; }
  grep -h "CPUs allowed" "$out"/sftrl-shard-*.log | sed 's/^/smoke:   /'
  step "$name: array $array (4 tasks) + merge $merge done in $((SECONDS - start)) s; merged.json = unsharded run, byte for byte ($(wc -c <"$out/merged.json") bytes)"
}
run_case check check --claim eq6-pinsker --claim thm3.1 --claim r4-threshold --claim eq5 --claim r1-local --instances 300 --seed 5
run_case search search --claim eq5 --claim prop1 --drop kl-budget --budget-evals 4000 --restarts 8 --seed 5

step "passed; stopping the daemons it started"
