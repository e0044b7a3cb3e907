"""The gate on the measurement itself: glibc, jemalloc, tcmalloc, mimalloc
and the bump plugin, counted with ptrace, must hold against the checked-in
budgets (results/budgets/size-classes.tsv, set at the counts measured on the
development machine with the default protocol), and every row must have a
budget.  Every p50 must also equal its budget: a change of the counter that
moves a fast-path count by one instruction or branch, up or down, fails here.

The gate runs the default protocol (1000 calls per size; the p50 of some
rows differs with fewer calls), with one repetition."""
from abtest import *

# glibc's free calls memset when MALLOC_PERTURB_ is set (meson sets it):
# the budgets are for glibc as deployed, without it.
os.environ.pop("MALLOC_PERTURB_", None)

counters = run("list", "counters").stdout
if not any(l.split()[:2] == ["ptrace", "yes"] for l in counters.splitlines()):
    skip("the ptrace counter is not usable here")
names = [a for a in ("glibc", "jemalloc", "tcmalloc", "mimalloc", "bump") if a in installed()]
if not names:
    skip("none of the budgeted allocators is installed")
budgets = os.path.join(SOURCE, "results", "budgets", "size-classes.tsv")
out = tmpdir()
p = run("fastpath", "--allocator", ",".join(names), "--repetitions", "1", "--counter", "ptrace",
        "--out", out, timeout=1200)
check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr}")
rows = load_report(out)["rows"]
check(len(rows) == len(names) * 26, f"{len(rows)} rows for {names}")
p = run("check", "--budgets", budgets, "--require-budget", out)
check(p.returncode == 0 and p.stdout == "",
      f"check: exit {p.returncode}\n{p.stdout}{p.stderr}")
check(f"{len(names) * 26} rows: {len(names) * 26} held" in p.stderr, f"summary {p.stderr!r}")
# Ceilings catch a count that grew; equality catches one that shrank too.
with open(budgets) as f:
    lines = f.read().splitlines()
cols = lines[0].split("\t")
budget = {}
for line in lines[1:]:
    b = dict(zip(cols, line.split("\t")))
    budget[(b["allocator"], b["op"], int(b["size"]))] = (int(b["max_instructions"]),
                                                          int(b["max_branches"]))
for r in rows:
    key = (r["allocator"], r["op"], r["size"])
    got = (r["instructions"]["p50"], r["branches"]["p50"])
    check(budget.get(key) == got, f"{key}: counted {got}, the budget file says {budget.get(key)}")
done()
