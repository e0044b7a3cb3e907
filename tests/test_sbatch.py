"""scripts/slurm/allocbench.sbatch outside Slurm, with the environment a
task of a job array gets: task K of N runs shard K/N into OUT/shard-K with
the program $ALLOCBENCH names; an array that is not 0-(N-1), a script not
run as an array task, no command, or --shard or --out among the arguments
(the task sets both) is exit 2 with one line.  The same
script under a real slurmctld and slurmd is tests/slurm/run.sh."""
import glob
import os
import subprocess

from abtest import *

SCRIPT = os.path.join(SOURCE, "scripts", "slurm", "allocbench.sbatch")
ARGS = ["run", "bulk-new", "--variant", "loop,array", "--allocator", "glibc", "--preset",
        "quick", "--rounds", "3", "--repetitions", "1", "--format", "json"]


def task(out, args, shards=None, **array):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SLURM_") and k != "ALLOCBENCH_SHARDS"}
    env["ALLOCBENCH"] = AB
    if shards is not None:
        env["ALLOCBENCH_SHARDS"] = shards
    env.update({f"SLURM_ARRAY_TASK_{k.upper()}": str(v) for k, v in array.items()})
    return subprocess.run(["bash", SCRIPT, out, *args], capture_output=True, text=True,
                          env=env, timeout=300)


with open(SCRIPT) as f:
    head = f.read()
check("#SBATCH --exclusive" in head, "the batch script does not ask for --exclusive")

base = tmpdir()
out = os.path.join(base, "r")
for k in range(2):
    p = task(out, ARGS, id=k, min=0, max=1, count=2)
    check(p.returncode == 0, f"task {k} of 2: exit {p.returncode}: {p.stderr}")
    if p.returncode == 0:
        doc = load_report(os.path.join(out, f"shard-{k}"))
        check(doc["shard"]["index"] == k and doc["shard"]["count"] == 2,
              f"task {k} of 2 ran shard {doc['shard']}")
p = run("merge", os.path.join(out, "shard-0"), os.path.join(out, "shard-1"), "--out",
        os.path.join(out, "merged"))
check(p.returncode == 0, f"merging the tasks' shards: exit {p.returncode}: {p.stderr}")

# Task 1 run again on its own (sbatch --array=1): N from ALLOCBENCH_SHARDS.
again = os.path.join(base, "again")
p = task(again, ARGS, shards="2", id=1, min=1, max=1, count=1)
check(p.returncode == 0, f"task 1 again with ALLOCBENCH_SHARDS=2: exit {p.returncode}: {p.stderr}")
if p.returncode == 0:
    s = load_report(os.path.join(again, "shard-1"))["shard"]
    check((s["index"], s["count"]) == (1, 2), f"task 1 again ran shard {s}")
    p = run("merge", os.path.join(out, "shard-0"), os.path.join(again, "shard-1"), "--out",
            os.path.join(base, "merged-again"))
    check(p.returncode == 0, f"a shard run again does not merge: exit {p.returncode}: {p.stderr}")

for what, array, args in (("an array from 1", dict(id=1, min=1, max=2, count=2), ARGS),
                          ("an array with a gap", dict(id=0, min=0, max=4, count=3), ARGS),
                          ("not an array task", {}, ARGS),
                          ("no command", dict(id=0, min=0, max=0, count=1), []),
                          ("--shard in the arguments", dict(id=0, min=0, max=1, count=2),
                           ARGS + ["--shard", "1/2"]),
                          ("--out in the arguments", dict(id=0, min=0, max=1, count=2),
                           ARGS + ["--out=elsewhere"]),
                          ("ALLOCBENCH_SHARDS not above the task", dict(id=2, min=2, max=2,
                           count=1, shards="2"), ARGS),
                          ("ALLOCBENCH_SHARDS not a number", dict(id=0, min=0, max=0, count=1,
                           shards="two"), ARGS)):
    d = os.path.join(base, what.replace(" ", "-"))
    p = task(d, args, **array)
    lines = p.stderr.splitlines()
    check(p.returncode == 2 and len(lines) == 1,
          f"{what}: exit {p.returncode}, {len(lines)} lines: {p.stderr!r}")
    check(not glob.glob(os.path.join(d, "shard-*")), f"{what}: a shard was written")
done()
