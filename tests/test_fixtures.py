"""A crashing or hanging allocator is a finding: its trials become diagnostics
naming the signal or the timeout, the other allocators' trials in the same
run complete, and the exit status is 1.  A sound allocator in the same run
stays clean."""
from abtest import *

out = tmpdir()
crash = fixture("libab-crash.so")
p = run("run", "bulk-new", "--allocator", f"glibc,{crash}", "--variant", "loop",
        "--repetitions", "3", "--rounds", "50", "--param", "n=1000", "--out", out,
        env={"AB_FIXTURE_AFTER": "5000"})
check(p.returncode == 1, f"crash: exit {p.returncode}, expected 1: {p.stderr}")
r = load_report(out)
by = {}
for t in r["trials"]:
    by.setdefault(t["allocator"], []).append(t)
check(len(by.get("glibc", [])) == 3, "crash: glibc trials missing")
check(all(t["status"] == "ok" and t["ns_per_op"] > 0 for t in by.get("glibc", [])),
      "crash: glibc trials in the same run did not complete")
check(all(t["diagnostics"] == [] for t in by.get("glibc", [])), "crash: glibc got a diagnostic")
crashed = by.get("libab-crash", [])
check(len(crashed) == 3, f"crash: {len(crashed)} trials of the crashing allocator, expected 3")
check(all(t["status"] == "crashed" for t in crashed), f"crash: statuses {[t['status'] for t in crashed]}")
check(all(t["ns_per_op"] is None and t["ops"] is None for t in crashed), "crash: a crashed trial has figures")
diags = [d for d in r["diagnostics"] if d["allocator"] == "libab-crash"]
check(len(diags) == 3 and all(d["code"] == "ALLOCBENCH_TRIAL_CRASHED" and "SIGSEGV" in d["detail"] for d in diags),
      f"crash: diagnostics {diags}")
check("ALLOCBENCH_TRIAL_CRASHED libab-crash bulk-new:loop" in p.stdout, "crash: console lacks the diagnostic line")
header, rows = read_tsv(f"{out}/allocator-diagnostics-report.tsv")
check(header == ["code", "allocator", "profile", "case", "detail"], f"diagnostics TSV header {header}")
check(len(rows) == 3 and all(x["code"] == "ALLOCBENCH_TRIAL_CRASHED" for x in rows), f"diagnostics TSV rows {rows}")
agg = {(a["allocator"], a["variant"]): a for a in r["aggregates"]}
check(agg[("libab-crash", "loop")]["status"] == "crashed" or agg[("libab-crash", "loop")]["status"] == "failed",
      f"crash: aggregate status {agg[('libab-crash', 'loop')]['status']}")
check(agg[("libab-crash", "loop")]["ns_per_op"]["median"] is None, "crash: aggregate has a median")

# Past start-up: the same fixture with a limit it never reaches is clean.
out2 = tmpdir()
p = run("run", "bulk-new", "--allocator", crash, "--variant", "loop", "--repetitions", "2",
        "--rounds", "5", "--param", "n=100", "--out", out2, env={"AB_FIXTURE_AFTER": "100000000"})
check(p.returncode == 0, f"crash fixture below its limit: exit {p.returncode}: {p.stderr}")
check(all(t["status"] == "ok" for t in load_report(out2)["trials"]), "crash fixture below its limit: not ok")

# A hang: killed at the timeout, reported, the run goes on.
out3 = tmpdir()
hang = fixture("libab-hang.so")
p = run("run", "param-batch", "--allocator", f"{hang},glibc", "--variant", "small",
        "--repetitions", "2", "--rounds", "5", "--timeout", "1", "--out", out3,
        env={"AB_FIXTURE_AFTER": "3000"})
check(p.returncode == 1, f"hang: exit {p.returncode}, expected 1: {p.stderr}")
r = load_report(out3)
hung = [t for t in r["trials"] if t["allocator"] == "libab-hang"]
check(len(hung) == 2 and all(t["status"] == "timeout" for t in hung), f"hang: statuses {[t['status'] for t in hung]}")
check(all(d["code"] == "ALLOCBENCH_TRIAL_TIMEOUT" and "timeout=1.0s" in d["detail"]
          for d in r["diagnostics"]), f"hang: diagnostics {r['diagnostics']}")
check(len(r["diagnostics"]) == 2, f"hang: {len(r['diagnostics'])} diagnostics, expected 2")
check(all(t["status"] == "ok" for t in r["trials"] if t["allocator"] == "glibc"),
      "hang: glibc trials in the same run did not complete")
done()
