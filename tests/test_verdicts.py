"""Timing verdicts, where the effect is far beyond noise, and calibration.

- glibc slowed by a fixed spin in every malloc (libab-timed-slow.so) is
  `slower` than glibc on bulk-new, its whole interval above 1.
- One allocator under two names (libab-timed-a.so, libab-timed-b.so) comes
  out `same`, or is flagged noisy; a verdict of faster or slower without the
  flag fails only when it happens in three runs out of three (a 95 %
  interval misses one run in twenty by design).
- Without --rounds, every configuration is calibrated (rounds scaled from
  the workload's own in calibration children); with --rounds, none is, and
  a trial whose measured phase is that short is flagged noisy.  Calibration
  plans no trial past half its --timeout (rptest's unmeasured pauses).
- Each trial records the rusage of its child; the context records the load
  average at start and end."""
from abtest import *

SLOW = fixture("libab-timed-slow.so")
A, B = fixture("libab-timed-a.so"), fixture("libab-timed-b.so")
SMALL = ["--variant", "loop", "--param", "n=256"]


def comparisons(out):
    return {c["allocator"]: c for c in load_report(out)["comparisons"]}


out = tmpdir()
p = run("run", "bulk-new", *SMALL, "--allocator", f"glibc,{SLOW}", "--repetitions", "8",
        "--min-time", "0.02", "--out", out)
check(p.returncode == 0, f"slow fixture: exit {p.returncode}: {p.stderr[-300:]}")
c = comparisons(out).get("libab-timed-slow", {})
check(c.get("verdict") == "slower" and c.get("ci95_low", 0) > 1.5 and c.get("pairs") == 8,
      f"slow fixture: {c}")
check(c.get("p_value", 1) <= 0.0079, f"slow fixture: p {c.get('p_value')} (8 pairs, all slower: 2/256)")

misses = []
for attempt in range(3):
    out = tmpdir()
    p = run("run", "bulk-new", *SMALL, "--allocator", f"{A},{B}", "--repetitions", "10",
            "--min-time", "0.02", "--out", out)
    c = comparisons(out).get("libab-timed-b", {})
    if p.returncode == 0 and (c.get("verdict") == "same" or c.get("noisy")):
        break
    misses.append((p.returncode, c.get("verdict"), c.get("ratio"), c.get("ci95_low"), c.get("ci95_high")))
check(len(misses) < 3, f"A/A pair: not the same in three runs: {misses}")

# Calibrated: rounds scaled up from the workload's own.
out = tmpdir()
p = run("run", "bulk-new", *SMALL, "--repetitions", "2", "--min-time", "0.05", "--out", out)
r = load_report(out)
a = r["aggregates"][0]
default_rounds = 500
check(p.returncode == 0 and a["calibration_children"] >= 2 and a["rounds"] > default_rounds
      and r["run"]["rounds"] is None and r["run"]["min_time_s"] == 0.05,
      f"calibration: rounds {a['rounds']}, children {a['calibration_children']}, run {r['run']}")
check(all(t["rounds"] == a["rounds"] for t in r["trials"]), "a trial ran other rounds than its configuration's")
for t in r["trials"]:
    ru = t["rusage"]
    check(ru and ru["user_s"] + ru["sys_s"] > 0 and ru["minor_faults"] > 0
          and ru["voluntary_switches"] >= 0, f"rusage {ru}")
check(a["rusage"]["minor_faults"] > 0, f"aggregate rusage {a['rusage']}")
la = r["context"]["load_average"]
check(len(la["start"]) == 3 and len(la["end"]) == 3, f"load average {la}")

# Given rounds: no calibration; one round of 256 objects is a phase far
# under 10 ms, flagged noisy.
out = tmpdir()
p = run("run", "bulk-new", *SMALL, "--repetitions", "2", "--rounds", "1", "--out", out)
r = load_report(out)
a = r["aggregates"][0]
check(a["calibration_children"] == 0 and a["rounds"] == 1 and r["run"]["rounds"] == 1,
      f"--rounds 1: {a['rounds']} rounds, {a['calibration_children']} children")
check(a["noisy"] and "under 10 ms" in a["noisy_why"] and all(t["noisy"] for t in r["trials"]),
      f"--rounds 1: noisy {a['noisy']} {a['noisy_why']!r}")
check("is noisy" in p.stdout, "no noisy warning on the console")
p = run("run", "bulk-new", "--rounds", "5", "--min-time", "0.1")
check(p.returncode == 2 and "exclude" in p.stderr, f"--rounds with --min-time: {p.returncode} {p.stderr!r}")
p = run("run", "bulk-new", "--min-time", "-1")
check(p.returncode == 2 and "--min-time" in p.stderr, f"--min-time -1: {p.returncode} {p.stderr!r}")

# Calibration plans no trial past half its --timeout.  rptest with
# pause_ms=200 sleeps 0.81 s per measured round and measures a few ms of it:
# a --min-time of 5 s would take thousands of rounds, and the trials would be
# killed at their 3 s timeout.  Capped, the rounds stay where a child's whole
# time fits 1.5 s, and the trial ends well.
out = tmpdir()
p = run("run", "rptest", "--preset", "quick", "--param", "pause_ms=200", "--threads", "2",
        "--warmup", "0", "--min-time", "5", "--timeout", "3", "--repetitions", "1", "--out", out)
r = load_report(out)
a = r["aggregates"][0]
t = r["trials"][0]
check(p.returncode == 0 and t["status"] == "ok" and a["rounds"] == 2 and a["calibration_children"] == 1,
      f"rptest pauses: exit {p.returncode}, status {t['status']}, rounds {a['rounds']}, "
      f"children {a['calibration_children']}: {p.stderr[-300:]}")
done()
