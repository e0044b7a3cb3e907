"""--pin: each thread is bound to a PU planned with hwloc and the placement is
recorded per trial; where hwloc cannot bind (a topology not of this system)
sched_setaffinity takes over, and a PU that does not exist is recorded as
not pinned, never as pinned."""
import os

from abtest import *

cpus = len(os.sched_getaffinity(0))


def pinned_run(workload, threads, env=None, extra=()):
    out = tmpdir()
    p = run("run", workload, "--preset", "quick", "--threads", threads, "--repetitions", "2",
            "--rounds", "2", "--pin", "--out", out, *extra, env=env)
    check(p.returncode == 0, f"{workload} --pin: exit {p.returncode}: {p.stderr[-500:]}")
    return p, load_report(out)


p, r = pinned_run("tiny-box", "1,2", extra=("--variant", "8"))
check(r["run"]["pin"] is True, f"run.pin {r['run']['pin']}")
check("placement (--pin)" in p.stdout, "console lacks the placement")
for t in r["trials"]:
    pl = t["placement"]
    if not check(pl is not None, f"tiny-box t={t['threads']}: no placement"):
        continue
    check(pl["method"] == "hwloc", f"tiny-box t={t['threads']}: method {pl['method']}")
    check(len(pl["pus"]) == t["threads"], f"tiny-box t={t['threads']}: pus {pl['pus']}")
    check(all(isinstance(x, int) and 0 <= x for x in pl["pus"]), f"pus {pl['pus']}")
    if t["threads"] <= cpus:
        check(len(set(pl["pus"])) == t["threads"], f"tiny-box t={t['threads']}: PUs shared {pl['pus']}")

# A workload whose roles need two threads for --threads 1 plans two.
p, r = pinned_run("cross-thread-free", "1")
for t in r["trials"]:
    check(t["placement"] and len(t["placement"]["pus"]) == 2, f"cross-thread-free: {t['placement']}")

# hwloc's topology not of this system: sched_setaffinity binds instead.
p, r = pinned_run("tiny-box", "2", env={"HWLOC_SYNTHETIC": "pack:1 pu:2"}, extra=("--variant", "8"))
for t in r["trials"]:
    check(t["placement"]["method"] == "sched_setaffinity" and t["placement"]["pus"] == [0, 1],
          f"synthetic topology: {t['placement']}")

# PUs this machine does not have: not pinned, said so.
n = cpus + 2
p, r = pinned_run("tiny-box", str(n), env={"HWLOC_SYNTHETIC": f"pack:1 pu:{n}"},
                  extra=("--variant", "8"))
for t in r["trials"]:
    pl = t["placement"]
    check(pl["method"] == "failed", f"missing PUs: method {pl['method']}")
    check(pl["pus"].count(None) >= 2 and len(pl["pus"]) == n, f"missing PUs: {pl['pus']}")
done()
