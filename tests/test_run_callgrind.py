"""`run --counter callgrind`: the measured phase of a workload under
callgrind, counted per operation, no times.  The heavy fixture's malloc runs
exactly 201 instructions and 100 conditional branches more than the exact
fixture's (tests/fixtures/fp-exact.S) and bulk-new's loop variant makes one
malloc per object, so the two differ by exactly that per object, whatever
the workload's own code costs; the counts repeat exactly across trials."""
from abtest import *

counters = run("list", "counters").stdout
if not any(l.split()[:2] == ["callgrind", "yes"] for l in counters.splitlines()):
    skip("the callgrind counter is not usable here (valgrind comes from scripts/setup)")

EXACT, HEAVY = fixture("libab-fp-exact.so"), fixture("libab-fp-heavy.so")
out = tmpdir()
p = run("run", "bulk-new", "--allocator", f"{EXACT},{HEAVY}", "--variant", "loop",
        "--repetitions", "2", "--rounds", "3", "--param", "n=1000", "--counter", "callgrind",
        "--out", out)
check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
r = load_report(out)
check(r["context"]["counter"] == "callgrind" and r["context"]["counter_version"].startswith("valgrind-"),
      f"context counter {r['context'].get('counter')} {r['context'].get('counter_version')}")
per = {}
for t in r["trials"]:
    check(t["status"] == "ok" and t["ops"] == 3000, f"trial {t['allocator']}: {t['status']} ops {t['ops']}")
    check(t["ns"] is None and t["ns_per_op"] is None and t["ops_per_s"] is None,
          f"trial {t['allocator']}: a time under valgrind was reported")
    m = t["metrics"]
    per.setdefault(t["allocator"], []).append(
        (m["instructions_per_op"]["value"], m["conditional_branches_per_op"]["value"]))
for a, v in per.items():
    check(len(v) == 2 and v[0] == v[1], f"{a}: trials differ {v}")
ex, hv = per["libab-fp-exact"][0], per["libab-fp-heavy"][0]
check(round((hv[0] - ex[0]) * 3000) == 201 * 3000 and round((hv[1] - ex[1]) * 3000) == 100 * 3000,
      f"heavy - exact per object: {hv[0] - ex[0]} instructions, {hv[1] - ex[1]} conditional; want 201, 100")
agg = {a["allocator"]: a for a in r["aggregates"]}
check(agg["libab-fp-heavy"]["instructions_per_op"] == hv[0] and agg["libab-fp-heavy"]["status"] == "ok",
      f"aggregate {agg['libab-fp-heavy']}")
check(agg["libab-fp-exact"]["ns_per_op"]["median"] is None, "aggregate has a time")
check("counted with callgrind" in p.stdout and "libab-fp-heavy" in p.stdout, f"console:\n{p.stdout}")
p = run("run", "bulk-new", "--counter", "ptrace")
check(p.returncode == 2 and "none or callgrind" in p.stderr, f"--counter ptrace: {p.returncode} {p.stderr!r}")
done()
