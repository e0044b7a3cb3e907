#!/usr/bin/env bash
# The shards of a run as a Slurm job array, for real: munged, slurmctld and
# slurmd on this host with a configuration generated in a temporary folder,
# a 3-shard array of a quick run (scripts/slurm/allocbench.sbatch) and a
# merge job after it; the merged report checked against an unsharded run of
# the same options; every daemon it started stopped again.
#
#   tests/slurm/run.sh          (root; installs slurm-wlm and munge when missing)
#
# Exit 0 passed, 1 failed, 77 where it cannot run: not root, or the
# packages are missing and cannot be installed.  Not part of scripts/test.
set -uo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
started=$SECONDS

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) -eq 0 ]] || skip "needs root: slurmd starts each job as its user, and munged and slurmd run as root here"
have_slurm() {
  for c in sbatch squeue sinfo scancel slurmctld slurmd munged munge unmunge; do
    command -v "$c" >/dev/null || [[ -x /usr/sbin/$c ]] || return 1
  done
}
if ! "$here/scripts/setup" --slurm; then
  have_slurm || skip "slurm-wlm and munge are not installed and could not be (scripts/setup --slurm)"
  echo "FAIL: scripts/setup --slurm failed (the build?)"
  exit 1
fi
have_slurm || skip "slurm-wlm and munge are not installed (scripts/setup --slurm)"
PATH=$PATH:/usr/sbin
ab=$here/build/allocbench

tmp=$(mktemp -d /tmp/allocbench-slurm.XXXXXX)
chmod 700 "$tmp"
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log"
chmod 700 "$tmp/munge"
munged_pid= ctld_pid= slurmd_pid= jobs=()
failed=0

fail() {
  echo "FAIL: $*"
  failed=1
}

show_logs() {
  for f in "$tmp"/log/* "$tmp"/task-*.out "$tmp"/merge.out; do
    [[ -f "$f" ]] || continue
    echo "--- $f"
    tail -n 15 "$f"
  done
}

# Stop what this script started, by pid: the jobs, then the daemons; then
# make sure nothing of this folder is still running.
teardown() {
  local rc=$?
  ((rc)) && failed=1
  if ((${#jobs[@]})) && [[ -n "$ctld_pid" ]]; then
    scancel --quiet "${jobs[@]}" 2>/dev/null
  fi
  for pid in $slurmd_pid $ctld_pid $munged_pid; do
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null && echo "FAIL: daemon $pid ignored SIGTERM" && failed=1
    wait "$pid" 2>/dev/null
  done
  local left=() c cmd
  for c in /proc/[0-9]*/cmdline; do
    cmd=$(tr '\0' ' ' <"$c" 2>/dev/null)
    [[ "$cmd" == *"$tmp"* ]] && left+=("${c//[^0-9]/}")
  done
  if ((${#left[@]})); then
    echo "FAIL: processes of $tmp are still running: ${left[*]}"
    failed=1
  fi
  ((failed)) && show_logs
  rm -rf "$tmp"
  echo "slurm: $( ((failed)) && echo failed || echo passed) in $((SECONDS - started)) s"
  exit $((failed))
}
trap teardown EXIT
trap 'exit 1' INT TERM HUP

# --- munge: a key and a socket of our own ---------------------------------
if command -v mungekey >/dev/null || [[ -x /usr/sbin/mungekey ]]; then
  mungekey --create --keyfile="$tmp/munge/munge.key" --bits=1024 || exit 1
else
  dd if=/dev/urandom of="$tmp/munge/munge.key" bs=128 count=1 status=none || exit 1
fi
chmod 400 "$tmp/munge/munge.key"
sock=$tmp/munge/munge.socket
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$sock" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
  --seed-file="$tmp/munge/munged.seed" >"$tmp/log/munged.out" 2>&1 &
munged_pid=$!
for _ in $(seq 50); do
  munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1 && break
  sleep 0.2
done
munge -n -S "$sock" | unmunge -S "$sock" >/dev/null || { fail "munged does not answer"; exit 1; }

# --- slurmctld and slurmd on this host ---------------------------------------
read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
node=$(hostname -s)
# This machine as slurmd sees it (CPUs, sockets, cores, threads).
hw=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //; s/ RealMemory=[0-9]+//')
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=allocbench
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=allocbench Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" >"$tmp/log/slurmctld.out" 2>&1 &
ctld_pid=$!
slurmd -D -N "$node" -f "$SLURM_CONF" >"$tmp/log/slurmd.out" 2>&1 &
slurmd_pid=$!
state=
for _ in $(seq 100); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null)
  [[ "$state" == idle ]] && break
  sleep 0.3
done
[[ "$state" == idle ]] || { fail "node $node is '$state', not idle"; exit 1; }

# --- the array, its merge, and the same run unsharded ------------------------
args=(run bulk-new --variant loop,array --threads 1,2 --allocator glibc,jemalloc
      --preset quick --rounds 20 --repetitions 3)
cd "$here" || exit 1
job=$(sbatch --parsable --array=0-2 --output="$tmp/task-%a.out" \
  scripts/slurm/allocbench.sbatch "$tmp/r" "${args[@]}") || { fail "sbatch of the array"; exit 1; }
job=${job%%;*}
jobs+=("$job")
merge=$(timeout 300 sbatch --parsable --wait --dependency="afterany:$job" --output="$tmp/merge.out" \
  --wrap "$ab merge $tmp/r/shard-0 $tmp/r/shard-1 $tmp/r/shard-2 --out $tmp/r/merged --format json")
rc=$?
[[ -n "$merge" ]] && jobs+=("${merge%%;*}")
((rc == 0)) || { fail "the merge job ended with $rc"; exit 1; }
# Every task of the array ended with 0 (afterany would have run the merge anyway).
codes=$(scontrol -o show job "$job" | grep -o 'ExitCode=[0-9:]*' | sort | uniq -c)
[[ "$codes" =~ ^\ *3\ ExitCode=0:0$ ]] || fail "the array's tasks ended with: $codes"
"$ab" "${args[@]}" --out "$tmp/whole" --format json >/dev/null ||
  { fail "the unsharded run failed"; exit 1; }

python3 - "$tmp" <<'PY' || failed=1
import json, os, sys
tmp = sys.argv[1]
def load(d):
    with open(os.path.join(tmp, d, "report.json")) as f:
        return json.load(f)
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
m, w = load("r/merged"), load("whole")
shards = [load(f"r/shard-{k}") for k in range(3)]
KEY = ("variant", "threads", "allocator")
agg = lambda d: [tuple(a[k] for k in KEY) for a in d["aggregates"]]
check(agg(m) == agg(w), f"merged aggregates {agg(m)}, unsharded {agg(w)}")
check(m["run"] == w["run"], "the merged run block (params included) differs from the unsharded one")
check(m["run"]["params"] == w["run"]["params"], "params differ")
check(m["matrix_digest"] == w["matrix_digest"], "the matrix digests differ")
check(m["shard"] is None, "the merged report is still a shard")
check([s["shard"]["index"] for s in shards] == [0, 1, 2], "the tasks ran other shards")
check(sorted(sum((agg(s) for s in shards), [])) == sorted(agg(w)), "the shards do not cover the run")
check([x["shard"] for x in m["context"]["machines"]] == [0, 1, 2], "context.machines")
check(sorted(os.listdir(os.path.join(tmp, "r/merged"))) == sorted(os.listdir(os.path.join(tmp, "whole"))),
      "the merged report's files differ from the unsharded run's")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
for k in 0 1 2; do
  grep -q "shard $k/3" "$tmp/task-$k.out" || fail "task $k did not run shard $k/3"
done
