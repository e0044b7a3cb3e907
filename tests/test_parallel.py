"""GNU parallel over --shard on this machine's cores: the shards it runs
at once merge into the unsharded run's configurations.  Skipped where
`parallel` is not installed (scripts/setup --parallel installs it)."""
import os
import shutil
import subprocess

from abtest import *

exe = shutil.which("parallel")
if not exe:
    skip("GNU parallel is not installed (scripts/setup --parallel)")
if "GNU parallel" not in subprocess.run([exe, "--version"], capture_output=True,
                                        text=True).stdout:
    skip(f"{exe} is not GNU parallel (moreutils has a parallel of its own)")

base = tmpdir()
args = ["run", "bulk-new", "--variant", "loop,array", "--threads", "1,2",
        "--allocator", "glibc,jemalloc", "--preset", "quick", "--rounds", "5",
        "--repetitions", "2"]
p = subprocess.run([exe, "--will-cite", "--halt", "now,fail=1", "-j", "2", AB, *args,
                    "--shard", "{}/3", "--out", os.path.join(base, "shard-{}"),
                    "--format", "json", ":::", "0", "1", "2"],
                   capture_output=True, text=True, timeout=300)
check(p.returncode == 0, f"parallel: exit {p.returncode}: {p.stderr}")
shards = sorted(os.path.join(base, d) for d in os.listdir(base) if d.startswith("shard-"))
check(len(shards) == 3, f"parallel left {shards}")

p = run("merge", *shards, "--out", os.path.join(base, "merged"))
check(p.returncode == 0, f"merge: exit {p.returncode}: {p.stderr}")
p = run(*args, "--out", os.path.join(base, "whole"), "--format", "json")
check(p.returncode == 0, f"unsharded run: exit {p.returncode}: {p.stderr}")
m, w = load_report(os.path.join(base, "merged")), load_report(os.path.join(base, "whole"))
KEY = ("variant", "threads", "allocator")
check([tuple(a[k] for k in KEY) for a in m["aggregates"]] ==
      [tuple(a[k] for k in KEY) for a in w["aggregates"]],
      "the merged aggregates are not the unsharded run's configurations")
check(m["matrix_digest"] == w["matrix_digest"] and m["run"] == w["run"],
      "the merged report is of another matrix than the unsharded run")
check(len(m["context"]["machines"]) == 3, "the merged context does not list three shards")
done()
