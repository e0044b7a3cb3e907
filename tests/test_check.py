"""`allocbench check` and `allocbench budgets`: fast-path reports against
budgets.  The gate fires one instruction (or branch) over a budget with the
exact diagnostic line and exit 1, holds at the count, takes `*` default
rows, lists rows without a budget, and refuses malformed budget files (exit
2, file and line) and reports of another schema (exit 2).  It fails safe: a
budget row no report row matches, a ceiling on a figure the report lacks, a
budget counted with another counter and a check of nothing each exit 1.
Budgets made from a fixture fail a copy with one instruction more on its hit
path.  Counts come from the hand-counted fixtures (tests/fixtures/fp-exact.S
and fp-cache.S): malloc 16 instructions / 5 branches, free 5 / 3; the heavy
fixture's malloc 217 / 105; the cache fixture's hit 15 / 3."""
import shutil
from abtest import *

counters = run("list", "counters").stdout
if not any(l.split()[:2] == ["ptrace", "yes"] for l in counters.splitlines()):
    skip("the ptrace counter is not usable here")

EXACT = fixture("libab-fp-exact.so")
HEAVY = fixture("libab-fp-heavy.so")
HEADER = "allocator\top\tsize\tmax_instructions\tmax_branches\n"

rep = tmpdir()
p = run("fastpath", "--allocator", f"{EXACT},{HEAVY}", "--sizes", "16,64", "--calls", "16",
        "--repetitions", "1", "--counter", "ptrace", "--warmup", "10", "--out", rep)
check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr}")
d = tmpdir()


def budgets(text, name="b.tsv"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def gate(text, *extra, report=rep):
    return run("check", "--budgets", budgets(text), *extra, report)


def lines(p):
    return [l for l in p.stdout.splitlines() if l]


# At the measured counts: holds, nothing printed but the summary.
p = gate(HEADER + "libab-fp-exact\tmalloc\t*\t16\t5\nlibab-fp-exact\tfree\t*\t5\t3\n"
         "libab-fp-heavy\tmalloc\t*\t217\t105\nlibab-fp-heavy\tfree\t*\t5\t3\n")
check(p.returncode == 0 and lines(p) == [], f"at the counts: exit {p.returncode}, {p.stdout!r} {p.stderr!r}")
check("8 report rows against 4 budget rows" in p.stderr and "(used: 2-5): 8 held, 0 over budget" in p.stderr,
      f"summary {p.stderr!r}")

# One under: the exact diagnostic, per size, and exit 1.
p = gate(HEADER + "libab-fp-exact\tmalloc\t16\t15\t5\nlibab-fp-exact\tmalloc\t64\t16\t4\n"
         "*\tfree\t*\t5\t3\n*\tmalloc\t*\t300\t200\n")
check(p.returncode == 1, f"one under: exit {p.returncode}")
check(lines(p) == ["ALLOCATOR_FAST_PATH_BUDGET libab-fp-exact malloc size=16 pattern=pairs "
                   "instructions=16 budget=15",
                   "ALLOCATOR_FAST_PATH_BUDGET libab-fp-exact malloc size=64 pattern=pairs "
                   "branches=5 budget=4"],
      f"one under: {lines(p)}")

# A default row for every allocator: the heavy fast path fires, the exact one holds.
p = gate(HEADER + "*\tmalloc\t*\t16\t5\n*\tfree\t*\t5\t3\n")
check(p.returncode == 1, f"default rows: exit {p.returncode}")
check(lines(p) == [f"ALLOCATOR_FAST_PATH_BUDGET libab-fp-heavy malloc size={s} pattern=pairs {w}"
                   for s in (16, 64) for w in ("instructions=217 budget=16", "branches=105 budget=5")],
      f"default rows: {lines(p)}")
# The most specific row wins over the default.
p = gate(HEADER + "*\tmalloc\t*\t16\t5\n*\tfree\t*\t5\t3\nlibab-fp-heavy\tmalloc\t*\t217\t105\n")
check(p.returncode == 0 and lines(p) == [], f"specific over default: {p.returncode} {lines(p)}")
# A slow-path ceiling: these fixtures have no slow path (share 0).
p = gate("allocator\top\tsize\tmax_instructions\tmax_branches\tmax_slow_path_share\n"
         "*\tmalloc\t*\t\t\t0\n*\tfree\t*\t5\t3\t0\n")
check(p.returncode == 0, f"share ceiling 0: exit {p.returncode} {lines(p)}")

# Rows without a budget are listed; --require-budget makes them fail.
text = HEADER + "libab-fp-exact\tmalloc\t*\t16\t5\n"
p = gate(text)
check(p.returncode == 0 and len(lines(p)) == 6 and all(l.startswith("UNCHECKED ") for l in lines(p)),
      f"unchecked: exit {p.returncode}, {lines(p)}")
check("UNCHECKED libab-fp-heavy free size=64 pattern=pairs no budget" in lines(p),
      f"unchecked line: {lines(p)}")
p = gate(text, "--require-budget")
check(p.returncode == 1, f"--require-budget: exit {p.returncode}")

# Malformed budget files: exit 2, one line naming the file and the line.
bad = [
    ("allocator\top\tsize\tmax_instructions\n", 1, "max_branches"),
    ("allocator\top\tsize\tmax_instructions\tmax_branches\tcolour\n", 1, "colour"),
    (HEADER + "glibc\tmalloc\t16\t10\n", 2, "fields"),
    (HEADER + "glibc\tmalloc\t16\t10\t5\nglibc\tmallocc\t16\t10\t5\n", 3, "op 'mallocc'"),
    (HEADER + "glibc\tmalloc\tsixteen\t10\t5\n", 2, "size 'sixteen'"),
    (HEADER + "glibc\tmalloc\t16\t-1\t5\n", 2, "max_instructions"),
    (HEADER + "glibc\tmalloc\t16\t10\tmany\n", 2, "max_branches"),
    (HEADER + "glibc\tmalloc\t16\t\t\n", 2, "no ceiling"),
    (HEADER + "glibc\tmalloc\t16\t10\t5\n\nglibc\tfree\t16\t10\t5\n", 3, "empty line"),
    (HEADER + "glibc\tmalloc\t16\t10\t5\nglibc\tfree\t*\t9\t4\nglibc\tmalloc\t16\t11\t5\n", 4,
     "the same budget as line 2"),
    ("", 1, "empty file"),
]
for text, line, what in bad:
    p = gate(text)
    path = os.path.join(d, "b.tsv")
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 1 and f"{path}:{line}:" in p.stderr
          and what in p.stderr and p.stdout == "",
          f"malformed {text!r}: exit {p.returncode}, stderr {p.stderr!r}, stdout {p.stdout!r}")
p = run("check", "--budgets", os.path.join(d, "missing.tsv"), rep)
check(p.returncode == 2 and "missing.tsv" in p.stderr, f"missing budget file: {p.returncode} {p.stderr!r}")

# Reports that are not fast-path reports of this schema: exit 2, no verdict.
good = HEADER + "*\tmalloc\t*\t16\t5\n*\tfree\t*\t5\t3\n"
runout = tmpdir()
p = run("run", "bulk-new", "--allocator", "glibc", "--variant", "loop", "--repetitions", "1",
        "--rounds", "2", "--param", "n=100", "--out", runout)
check(p.returncode == 0, f"run for a foreign report: exit {p.returncode} {p.stderr}")
p = gate(good, report=runout)
check(p.returncode == 2 and "not a fast-path report" in p.stderr and p.stdout == "",
      f"a run report: exit {p.returncode}, {p.stderr!r}")
with open(os.path.join(rep, "report.json")) as f:
    doc = json.load(f)
doc["schema_version"] = 99
old = os.path.join(d, "old.json")
with open(old, "w") as f:
    json.dump(doc, f)
p = gate(good, report=old)
check(p.returncode == 2 and "schema version 99" in p.stderr, f"another schema version: {p.returncode} {p.stderr!r}")
notjson = budgets("{ not json", "r.json")
p = gate(good, report=notjson)
check(p.returncode == 2 and "not JSON" in p.stderr, f"not JSON: {p.returncode} {p.stderr!r}")
# Each malformed value of a report: exit 2, one line naming it, no verdict.
text = json.dumps(doc | {"schema_version": 2})


def mutated(where, value):
    m = json.loads(text)
    o = m["rows"][0]
    for k in where[:-1]:
        o = o[k]
    o[where[-1]] = value
    return json.dumps(m)


for what, report_text, word in [
    ("trailing data", text + " {}", "data after the document"),
    ("a duplicate member", text.replace('"rows":', '"rows": [], "rows":', 1), "twice"),
    ("a negative size", mutated(["size"], -16), "size"),
    ("a fractional size", mutated(["size"], 16.5), "size"),
    ("a size of 1e300", mutated(["size"], 1e300), "size"),
    ("a size of 2^31", mutated(["size"], 2 ** 31), "size"),
    ("an op 'bogus'", mutated(["op"], "bogus"), "op"),
    ("a pattern 'bogus'", mutated(["pattern"], "bogus"), "pattern"),
    ("a negative p50", mutated(["instructions", "p50"], -1), "instructions"),
    ("a fractional p50", mutated(["instructions", "p50"], 41.5), "instructions"),
    ("a p50 of 1e300", mutated(["branches", "p50"], 1e300), "branches"),
    ("a p50 as text", mutated(["instructions", "p50"], "41"), "instructions"),
    ("a slow share over 1", mutated(["slow_path_share"], 1.5), "slow_path_share"),
    ("an allocator as a number", mutated(["allocator"], 7), "allocator"),
    ("NaN", text.replace('"size": 16', '"size": NaN', 1), "not JSON"),
    ("Infinity", text.replace('"size": 16', '"size": Infinity', 1), "not JSON"),
]:
    p = gate(good, report=budgets(report_text, "m.json"))
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 1 and word in p.stderr
          and p.stdout == "", f"report with {what}: exit {p.returncode}, {p.stderr!r}")

# Budget matching is linear (hashed): 80,000 rows for other allocators,
# each reported unmatched (the gate fails safe), and the report's rows held
# by the two wildcard rows after them.
big = [HEADER]
for i in range(80000):
    big.append(f"fx{i}\tmalloc\t16\t10\t5\n")
big.append("*\tmalloc\t*\t1000\t500\n*\tfree\t*\t1000\t500\n")
p = gate("".join(big))
check(p.returncode == 1 and "80002 budget rows" in p.stderr and "8 held" in p.stderr
      and "80000 budget rows unmatched" in p.stderr and p.stdout.count("fx") == 80000,
      f"80,000 budget rows: exit {p.returncode} {p.stdout[-300:]!r} {p.stderr!r}")
# A bad report after a good one: still no verdict at all.
p = run("check", "--budgets", budgets(good), rep, notjson)
check(p.returncode == 2 and p.stdout == "", f"good then bad: {p.returncode} {p.stdout!r}")
p = run("check", rep)
check(p.returncode == 2 and "--budgets" in p.stderr, f"no --budgets: {p.returncode} {p.stderr!r}")

# A ceiling on a figure the report's backend does not count (branches under
# callgrind) fails the gate: it can neither hold nor be exceeded.
counters_cg = any(l.split()[:2] == ["callgrind", "yes"] for l in counters.splitlines())
if counters_cg:
    cg = tmpdir()
    p = run("fastpath", "--allocator", EXACT, "--sizes", "16", "--calls", "4", "--repetitions", "1",
            "--counter", "callgrind", "--warmup", "10", "--out", cg)
    p = gate(good, report=cg)
    check(p.returncode == 1 and lines(p) == [
        f"ALLOCBENCH_BUDGET_FIGURE libab-fp-exact {op} size=16 pattern=pairs branches: the budget "
        f"(line {n}) has a ceiling, the report has no branches (counted with callgrind)"
        for op, n in (("malloc", 2), ("free", 3))] +
        ["ALLOCBENCH_BUDGET_NOTHING_CHECKED no report row was checked against a budget"],
        f"callgrind report: {p.returncode} {lines(p)}")
    p = gate(HEADER + "*\tmalloc\t*\t15\t\n*\tfree\t*\t5\t\n", report=cg)
    check(p.returncode == 1 and lines(p) ==
          ["ALLOCATOR_FAST_PATH_BUDGET libab-fp-exact malloc size=16 pattern=pairs "
           "instructions=16 budget=15"],
          f"callgrind report over budget: {p.returncode} {lines(p)}")
    # A budget measured with another counter: callgrind counts a locked
    # read-modify-write as a conditional branch, ptrace does not.
    p = gate("allocator\top\tsize\tcounter\tmax_instructions\tmax_branches\n"
             "*\tmalloc\t*\tptrace\t16\t\n*\tfree\t*\tptrace\t5\t\n", report=cg)
    check(p.returncode == 1 and lines(p)[:2] == [
        f"ALLOCBENCH_BUDGET_COUNTER libab-fp-exact {op} size=16 pattern=pairs budget "
        f"counter=ptrace (line {n}) report counter=callgrind" for op, n in (("malloc", 2), ("free", 3))],
        f"counter mismatch: {p.returncode} {lines(p)}")

# A row that was not measured fails the gate, named.
crash = tmpdir()
p = run("fastpath", "--allocator", fixture("libab-crash.so"), "--sizes", "16", "--calls", "4",
        "--repetitions", "1", "--counter", "ptrace", "--out", crash, env={"AB_FIXTURE_AFTER": "200"})
p = gate(good, report=crash)
check(p.returncode == 1 and lines(p)[0].startswith(
      "ALLOCBENCH_TRIAL_FAILED libab-crash malloc size=16 pattern=pairs not measured"),
      f"unmeasured row: {p.returncode} {lines(p)}")

# A function the allocator does not have (libab-crash.so forwards malloc and
# free to glibc but defines no aligned_alloc): UNAVAILABLE, which no budget
# could change, so --require-budget does not fail on it.
plain = tmpdir()
p = run("fastpath", "--allocator", fixture("libab-crash.so"), "--sizes", "16", "--calls", "4",
        "--ops", "malloc,aligned", "--repetitions", "1", "--counter", "ptrace", "--out", plain,
        env={"AB_FIXTURE_AFTER": "100000000"})
check(p.returncode == 0, f"crash fixture below its limit: exit {p.returncode}: {p.stderr}")
p = gate(HEADER + "libab-crash\tmalloc\t16\t100000\t100000\n", "--require-budget", report=plain)
check(p.returncode == 0 and lines(p) == ["UNAVAILABLE libab-crash aligned size=16 pattern=pairs: "
                                         "the allocator does not provide this function"],
      f"unavailable row with --require-budget: {p.returncode} {lines(p)}")
check("1 not available" in p.stderr, f"unavailable summary: {p.stderr!r}")

# A slow-path ceiling that a real slow path exceeds: the periodic fixture takes
# its slow path on every 64th malloc of the process, so 10 of 640 calls.
per = tmpdir()
p = run("fastpath", "--allocator", fixture("libab-fp-periodic.so"), "--sizes", "16",
        "--calls", "640", "--ops", "malloc", "--repetitions", "1", "--counter", "ptrace",
        "--warmup", "10", "--out", per)
check(p.returncode == 0, f"periodic: exit {p.returncode}: {p.stderr}")
share = "allocator\top\tsize\tmax_instructions\tmax_branches\tmax_slow_path_share\n"
p = gate(share + "libab-fp-periodic\tmalloc\t16\t19\t6\t0.01\n", report=per)
check(p.returncode == 1 and lines(p) == ["ALLOCATOR_FAST_PATH_BUDGET libab-fp-periodic malloc "
                                         "size=16 pattern=pairs slow_path_share=0.015625 budget=0.01"],
      f"share over its ceiling: {p.returncode} {lines(p)}")
p = gate(share + "libab-fp-periodic\tmalloc\t16\t19\t6\t0.02\n", report=per)
check(p.returncode == 0 and lines(p) == [], f"share under its ceiling: {p.returncode} {lines(p)}")
# --- the gate fails safe -------------------------------------------------------
# A budget row that no report row matches: a typo, an allocator not run, a
# pattern not counted.  Each is named with its file and line.
p = gate(HEADER + "libab-fp-exact\tmalloc\t*\t16\t5\nlibab-fp-exact\tfree\t*\t5\t3\n"
         "libab-fp-heavy\tmalloc\t*\t217\t105\nlibab-fp-heavy\tfree\t*\t5\t3\n"
         "libab-fp-exakt\tmalloc\t16\t16\t5\n")
path = os.path.join(d, "b.tsv")
check(p.returncode == 1 and lines(p) ==
      [f"ALLOCBENCH_BUDGET_UNMATCHED {path}:6 libab-fp-exakt malloc size=16 pattern=pairs "
       "matches no report row"], f"unmatched budget row: {p.returncode} {lines(p)}")
p = gate("allocator\top\tsize\tpattern\tmax_instructions\tmax_branches\n"
         "*\tmalloc\t*\tpairs\t16\t5\n*\tmalloc\t*\tbatch\t300\t200\n"
         "libab-fp-heavy\tmalloc\t*\tpairs\t217\t105\n*\tfree\t*\tpairs\t5\t3\n")
check(p.returncode == 1 and lines(p) ==
      [f"ALLOCBENCH_BUDGET_UNMATCHED {path}:3 * malloc size=* pattern=batch matches no report row"],
      f"a batch budget with a pairs report: {p.returncode} {lines(p)}")
# A budget file that matches nothing at all: every row named, and nothing checked.
p = gate(HEADER + "glibc\tmalloc\t16\t41\t8\n")
check(p.returncode == 1 and lines(p)[-2:] ==
      [f"ALLOCBENCH_BUDGET_UNMATCHED {path}:2 glibc malloc size=16 pattern=pairs matches no report row",
       "ALLOCBENCH_BUDGET_NOTHING_CHECKED no report row was checked against a budget"] and
      sum(l.startswith("UNCHECKED ") for l in lines(p)) == 8,
      f"a budget file matching nothing: {p.returncode} {lines(p)}")
check("8 report rows against 1 budget rows" in p.stderr and "(used: none)" in p.stderr,
      f"summary of a check of nothing: {p.stderr!r}")

# A budget set on another allocator version: a warning naming both, once per
# allocator; the verdict stands.
p = gate("allocator\top\tsize\tallocator_version\tmax_instructions\tmax_branches\n"
         "*\tmalloc\t*\t9.9\t300\t200\n*\tfree\t*\t9.9\t5\t3\n")
warn = [l for l in p.stderr.splitlines() if "ALLOCBENCH_BUDGET_VERSION" in l]
check(p.returncode == 0 and len(warn) == 2 and all("version 9.9" in l and "version unknown" in l
                                                   for l in warn),
      f"version warnings: {p.returncode} {p.stderr!r}")

# --- allocbench budgets: from the bounded-cache fixture, against a copy of it
# with one instruction more on malloc's hit path (the same name, so the same
# budget rows apply) ---------------------------------------------------------
CACHE = fixture("libab-fp-cache.so")
plus1_dir = tmpdir()
PLUS1 = os.path.join(plus1_dir, "libab-fp-cache.so")
shutil.copy(fixture("libab-fp-cache-plus1.so"), PLUS1)
base, worse = tmpdir(), tmpdir()
for out, lib in ((base, CACHE), (worse, PLUS1)):
    p = run("fastpath", "--allocator", lib, "--sizes", "64,512", "--pattern", "pairs,batch",
            "--calls", "100", "--repetitions", "1", "--counter", "ptrace", "--warmup", "10",
            "--keep-live", "0", "--out", out)
    check(p.returncode == 0, f"cache fixture {lib}: exit {p.returncode}: {p.stderr}")
made = os.path.join(d, "made.tsv")
p = run("budgets", base, "--out", made)
check(p.returncode == 0 and p.stdout == "", f"budgets: exit {p.returncode}: {p.stderr}")
hdr, brows = read_tsv(made)
check(hdr == ["allocator", "op", "size", "pattern", "counter", "allocator_version",
              "max_instructions", "max_branches", "max_slow_path_share"], f"budgets header {hdr}")
got = {(b["op"], b["size"], b["pattern"]): (b["max_instructions"], b["max_branches"],
                                            b["max_slow_path_share"], b["counter"]) for b in brows}
check(got == {("malloc", "64", "pairs"): ("15", "3", "0", "ptrace"),
              ("free", "64", "pairs"): ("19", "4", "0", "ptrace"),
              ("malloc", "512", "pairs"): ("19", "3", "0", "ptrace"),
              ("free", "512", "pairs"): ("11", "3", "0", "ptrace"),
              ("malloc", "64", "batch"): ("85", "34", "0.99", "ptrace"),
              ("free", "64", "batch"): ("19", "4", "0.25", "ptrace"),
              ("malloc", "512", "batch"): ("19", "3", "0", "ptrace"),
              ("free", "512", "batch"): ("11", "3", "0", "ptrace")}, f"budgets made: {got}")
p = run("check", "--budgets", made, "--require-budget", base)
check(p.returncode == 0 and lines(p) == [], f"the fixture against its own budgets: {p.returncode} {lines(p)}")
p = run("check", "--budgets", made, worse)
check(p.returncode == 1 and lines(p) == ["ALLOCATOR_FAST_PATH_BUDGET libab-fp-cache malloc size=64 "
                                         "pattern=pairs instructions=16 budget=15"],
      f"one instruction more on the hit: {p.returncode} {lines(p)}")
# Headroom: 10 % over 15 is 16.5, so the ceiling is 16 and the copy holds.
p = run("budgets", base, "--headroom", "10")
check(p.returncode == 0 and "libab-fp-cache\tmalloc\t64\tpairs\tptrace\t\t16\t3\t0\n" in p.stdout,
      f"budgets --headroom 10: {p.returncode} {p.stdout!r}")
with open(made, "w") as f:
    f.write(p.stdout)
p = run("check", "--budgets", made, worse)
check(p.returncode == 0, f"the copy within 10 % headroom: {p.returncode} {lines(p)}")
# What budgets refuses: a row that was not measured, no report, a bad headroom.
p = run("budgets", crash)
check(p.returncode == 2 and "not measured cleanly" in p.stderr and len(p.stderr.splitlines()) == 1,
      f"budgets from a crashed row: {p.returncode} {p.stderr!r}")
for args, what in (([], "which reports"), ([base, "--headroom", "-1"], "--headroom"),
                   ([runout], "not a fast-path report"), ([base, "--bogus"], "unknown option")):
    p = run("budgets", *args)
    check(p.returncode == 2 and what in p.stderr and len(p.stderr.splitlines()) == 1 and p.stdout == "",
          f"budgets {args}: {p.returncode} {p.stderr!r}")
done()
