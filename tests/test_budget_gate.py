"""The gate on the measurement itself: glibc, jemalloc, tcmalloc, mimalloc,
the bump plugin and the ref plugin must hold against the checked-in budgets
(results/budgets/size-classes.tsv, written by `allocbench budgets` from the
counts measured on the development machine with the default protocol), with
every report row budgeted and every budget row matched.  The pairs rows (the
fast path: instructions and branches) are counted with ptrace; the batch
rows (refill and flush: instructions and slow share) with callgrind, which
counts a batch in about 2 s where ptrace takes 11-55 s per allocator.  Every
p50 and share must also equal its budget: a change of a counter that moves a
count by one instruction or branch, up or down, fails here.

One repetition, the default 1000 calls per row (the p50 of some rows
differs with fewer calls)."""
from abtest import *

# glibc's free calls memset when MALLOC_PERTURB_ is set (meson sets it):
# the budgets are for glibc as deployed, without it.
os.environ.pop("MALLOC_PERTURB_", None)

counters = run("list", "counters").stdout
for c in ("ptrace", "callgrind"):
    if not any(l.split()[:2] == [c, "yes"] for l in counters.splitlines()):
        skip(f"the {c} counter is not usable here (capstone and valgrind come from scripts/setup)")
names = [a for a in ("glibc", "jemalloc", "tcmalloc", "mimalloc", "bump", "ref") if a in installed()]
if len(names) < 6:
    skip(f"the budgets are for glibc, jemalloc, tcmalloc, mimalloc, bump and ref; installed: {names}")
budgets = os.path.join(SOURCE, "results", "budgets", "size-classes.tsv")
pairs, batch = tmpdir(), tmpdir()
for out, pattern, counter in ((pairs, "pairs", "ptrace"), (batch, "batch", "callgrind")):
    p = run("fastpath", "--allocator", ",".join(names), "--pattern", pattern, "--repetitions", "1",
            "--counter", counter, "--out", out, timeout=1200)
    check(p.returncode == 0, f"fastpath {pattern}: exit {p.returncode}: {p.stderr}")
rows = load_report(pairs)["rows"] + load_report(batch)["rows"]
check(len(rows) == len(names) * 52, f"{len(rows)} rows for {names}")
p = run("check", "--budgets", budgets, "--require-budget", pairs, batch)
check(p.returncode == 0 and p.stdout == "",
      f"check: exit {p.returncode}\n{p.stdout}{p.stderr}")
n = len(names) * 52
check(f"{n} report rows against {n} budget rows" in p.stderr and f"used: 2-{n + 1})" in p.stderr
      and f": {n} held," in p.stderr, f"summary {p.stderr!r}")
# Ceilings catch a count that grew; equality catches one that shrank too.
_, brows = read_tsv(budgets)
budget = {(b["allocator"], b["op"], int(b["size"]), b["pattern"]): b for b in brows}
for r in rows:
    key = (r["allocator"], r["op"], r["size"], r["pattern"])
    b = budget.get(key, {})
    got = (str(r["instructions"]["p50"]), "" if r["branches"]["p50"] is None else
           str(r["branches"]["p50"]), r["counter"])
    want = (b.get("max_instructions"), b.get("max_branches"), b.get("counter"))
    check(got == want, f"{key}: counted {got}, the budget file says {want}")
    check(b and float(b["max_slow_path_share"]) == r["slow_path_share"],
          f"{key}: slow share {r['slow_path_share']}, budget {b.get('max_slow_path_share')}")
done()
