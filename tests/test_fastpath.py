"""`allocbench fastpath`: the counts of the ground-truth fixtures (assembly,
hand-counted; see tests/fixtures/fp-exact.S) with both exact backends, the
slow-path share of the periodic fixture, the reports, determinism over
reruns, and what each backend must refuse.  Counts are asserted exactly."""
import re
import shutil
from abtest import *

EXACT = fixture("libab-fp-exact.so")
PERIODIC = fixture("libab-fp-periodic.so")
HEADER = ("allocator\top\tsize\tpattern\tcalls\tcounter\tinstructions_p50\tbranches_p50\t"
          "conditional_p50\tinstructions_min\tinstructions_p90\tinstructions_p99\t"
          "instructions_max\tinstructions_mean\tslow_path_share\tfast_path_reference")

counters = run("list", "counters").stdout
have = {c: any(l.split()[:2] == [c, "yes"] for l in counters.splitlines())
        for c in ("ptrace", "callgrind", "pmu")}
if not have["ptrace"]:
    skip("the ptrace counter is not usable here:\n" + counters)


def fastpath(*args, counter="ptrace", env=None):
    out = tmpdir()
    p = run("fastpath", "--counter", counter, "--out", out, *args, timeout=600, env=env)
    return p, out


def rows_of(out, pattern="pairs"):
    return {(r["allocator"], r["op"], r["size"]): r for r in load_report(out)["rows"]
            if r["pattern"] == pattern}


# --- ground truth: (instructions, branches, conditional) of every call ------
# 640 calls: the periodic fixture's slow path (every 64th malloc of the
# process) is taken by exactly 10 of them, whatever the phase.
SIZES = "16,64"
exact = {"malloc": (16, 5, 2), "free": (5, 3, 1), "calloc": (31, 9, 4)}
periodic = {"malloc": (19, 6, 3, 120), "free": (5, 3, 1, 5), "calloc": (34, 10, 5, 135)}

p, out = fastpath("--allocator", f"{EXACT},{PERIODIC}", "--sizes", SIZES, "--calls", "640",
                  "--ops", "malloc,free,calloc", "--repetitions", "2", "--warmup", "10")
check(p.returncode == 0, f"ptrace fixtures: exit {p.returncode}: {p.stderr}")
rows = rows_of(out)
for size in (16, 64):
    for op, (ins, br, cond) in exact.items():
        r = rows.get(("libab-fp-exact", op, size))
        if not check(r is not None, f"no row for exact {op} {size}"):
            continue
        i = r["instructions"]
        check(r["status"] == "ok" and r["calls"] == 1280 and r["repetitions_agree"] is True,
              f"exact {op} {size}: {r['status']} calls {r['calls']}")
        check(i["histogram"] == {str(ins): 1280}, f"exact {op} {size}: histogram {i['histogram']}")
        check((i["p50"], r["branches"]["p50"], r["conditional"]["p50"]) == (ins, br, cond),
              f"exact {op} {size}: {i['p50']}/{r['branches']['p50']}/{r['conditional']['p50']},"
              f" expected {ins}/{br}/{cond}")
        check(r["branches"]["histogram"] == {str(br): 1280}, f"exact {op} {size}: branches vary")
        check(r["slow_path_share"] == 0, f"exact {op} {size}: share {r['slow_path_share']}")
        # Every conditional branch of these paths falls through.
        check(r["conditional_taken_per_call"] == 0 and r["conditional_not_taken_per_call"] == cond,
              f"exact {op} {size}: taken {r['conditional_taken_per_call']}")
        rep = 1 if op == "calloc" else 0
        check(r["rep_instructions_per_call"] == rep and
              r["rep_iterations_per_call"] == (size if rep else 0),
              f"exact {op} {size}: rep {r['rep_instructions_per_call']} x {r['rep_iterations_per_call']}")
        check(r["locked_per_call"] == 0 and r["flagged_calls"] == 0, f"exact {op} {size}: locked/flagged")
    for op, (ins, br, cond, slow) in periodic.items():
        r = rows[("libab-fp-periodic", op, size)]
        i = r["instructions"]
        nslow = 20 if op != "free" else 0
        want = {str(ins): 1280 - nslow}
        if nslow:
            want[str(slow)] = nslow
        check(i["histogram"] == want, f"periodic {op} {size}: histogram {i['histogram']}, want {want}")
        check((i["p50"], r["branches"]["p50"], r["conditional"]["p50"]) == (ins, br, cond),
              f"periodic {op} {size}: p50s {i['p50']}/{r['branches']['p50']}/{r['conditional']['p50']}")
        check(r["slow_path_share"] == nslow / 1280, f"periodic {op} {size}: share {r['slow_path_share']}")
        if op == "malloc":
            check((i["min"], i["p90"], i["p99"], i["max"]) == (19, 19, 120, 120),
                  f"periodic malloc: min/p90/p99/max {i['min']}/{i['p90']}/{i['p99']}/{i['max']}")
            check(r["branches"]["histogram"] == {"6": 1260, "56": 20}, f"periodic branches {r['branches']['histogram']}")
            check(r["conditional"]["histogram"] == {"3": 1260, "53": 20}, f"periodic conditional {r['conditional']['histogram']}")
            # 20 slow calls take jz once and jnz 49 times; the fast ones take nothing.
            check(r["conditional_taken_per_call"] == 20 * 50 / 1280, f"periodic taken {r['conditional_taken_per_call']}")

# The TSV: its exact header, one row per (allocator, op, size), counts as integers.
header, trows = read_tsv(f"{out}/allocator-fast-path-report.tsv")
check("\t".join(header) == HEADER, f"TSV header {header}")
t = {(x["allocator"], x["op"], x["size"]): x for x in trows}
check(len(trows) == 12, f"{len(trows)} TSV rows")
x = t.get(("libab-fp-periodic", "malloc", "16"), {})
check([x.get(k) for k in ("pattern", "calls", "counter", "instructions_p50", "branches_p50",
                          "conditional_p50", "instructions_min", "instructions_p90",
                          "instructions_p99", "instructions_max", "instructions_mean",
                          "slow_path_share", "fast_path_reference")]
      == ["pairs", "1280", "ptrace", "19", "6", "3", "19", "19", "120", "120", "20.58", "0.015625",
          "19"],
      f"TSV periodic malloc row {x}")
check(re.search(r"^libab-fp-periodic malloc +16 pairs +19 +6 +3 ", p.stdout, re.M),
      f"console table lacks the periodic malloc row:\n{p.stdout}")
ctx = load_report(out)
check(ctx["schema"] == "allocbench-fastpath" and ctx["schema_version"] == 2, "report schema")
check(all(r["pattern"] == "pairs" and r["fast_path_reference"] == r["instructions"]["p50"]
          for r in ctx["rows"]), "pairs rows: their own p50 is their reference")
check(ctx["context"]["counter"] == "ptrace" and
      ctx["context"]["counter_version"].startswith("capstone "), f"context counter {ctx['context']['counter']}")

# --- callgrind: the same calls, the same instructions and conditionals ----
if have["callgrind"]:
    p, out = fastpath("--allocator", f"{EXACT},{PERIODIC}", "--sizes", SIZES, "--calls", "640",
                      "--ops", "malloc,free,calloc", "--repetitions", "1", "--warmup", "10",
                      counter="callgrind")
    check(p.returncode == 0, f"callgrind fixtures: exit {p.returncode}: {p.stderr}")
    rows = rows_of(out)
    for size in (16, 64):
        for name, table in (("libab-fp-exact", exact), ("libab-fp-periodic", periodic)):
            for op, want in table.items():
                r = rows[(name, op, size)]
                ins, cond = want[0], want[2]
                # callgrind counts a rep instruction once per iteration and once
                # more, with as many conditional branches: calloc's rep stosb
                # of `size` bytes.
                if op == "calloc":
                    ins, cond = ins + size, cond + size + 1
                check(r["status"] == "ok" and r["calls"] == 640, f"callgrind {name} {op} {size}: {r['status']}")
                check((r["instructions"]["p50"], r["conditional"]["p50"]) == (ins, cond),
                      f"callgrind {name} {op} {size}: {r['instructions']['p50']}/{r['conditional']['p50']},"
                      f" expected {ins}/{cond}")
                check(r["branches"]["p50"] is None and r["branches"]["histogram"] is None,
                      f"callgrind {name} {op}: branches should be null (not counted)")
                nslow = 10 if name.endswith("periodic") and op != "free" else 0
                check(r["slow_path_share"] == nslow / 640, f"callgrind {name} {op} {size}: share {r['slow_path_share']}")
    header, trows = read_tsv(f"{out}/allocator-fast-path-report.tsv")
    x = {(r["allocator"], r["op"], r["size"]): r for r in trows}[("libab-fp-exact", "free", "16")]
    check(x["branches_p50"] == "" and x["instructions_p50"] == "5" and x["counter"] == "callgrind",
          f"callgrind TSV row {x}")
else:
    print("note: valgrind missing, the callgrind half was not run")

# --- a signal mid-call flags the call; the others are counted ---------------
# The signal fixture's malloc sends itself SIGURG on every 64th call: under
# ptrace those 10 of 640 calls are left out (flagged), the 630 others count
# 19; callgrind, which sees no signal stop, counts them (27 instructions).
SIGNAL = fixture("libab-fp-signal.so")
p, out = fastpath("--allocator", SIGNAL, "--sizes", "16", "--calls", "640", "--repetitions", "1",
                  "--warmup", "10")
r = rows_of(out)[("libab-fp-signal", "malloc", 16)]
check(p.returncode == 0 and r["calls"] == 630 and r["flagged_calls"] == 10,
      f"signal: exit {p.returncode}, calls {r['calls']}, flagged {r['flagged_calls']}")
check(r["instructions"]["histogram"] == {"19": 630} and r["branches"]["histogram"] == {"6": 630},
      f"signal: {r['instructions']['histogram']} {r['branches']['histogram']}")
check(r["conditional_taken_per_call"] == 1, f"signal: taken {r['conditional_taken_per_call']}")
if have["callgrind"]:
    p, out = fastpath("--allocator", SIGNAL, "--sizes", "16", "--calls", "640", "--repetitions", "1",
                      "--warmup", "10", counter="callgrind")
    r = rows_of(out)[("libab-fp-signal", "malloc", 16)]
    check(r["calls"] == 640 and r["instructions"]["histogram"] == {"19": 630, "27": 10},
          f"signal under callgrind: {r['calls']} {r['instructions']['histogram']}")

# --- an allocator that runs dry: the rows say why, exit 1 --------------------
# The exact fixture never reuses a block and has a 256 MiB arena.  Pairs of
# 64 MiB run dry at once: malloc fails with its reason, and free too, whose
# mallocs (made for it, uncounted) returned NULL.  Asked for batch, the
# malloc batch runs dry as well (after the pairs every row is counted
# against), and free is not counted over the blocks that are missing (it
# would count free(NULL)).
p, out = fastpath("--allocator", EXACT, "--sizes", "64M", "--repetitions", "1", "--calls", "4",
                  "--warmup", "1")
check(p.returncode == 1, f"dry pairs: exit {p.returncode}")
if os.path.exists(os.path.join(out, "report.json")):
    rows = rows_of(out)
    m, f = rows[("libab-fp-exact", "malloc", 64 << 20)], rows[("libab-fp-exact", "free", 64 << 20)]
    check(m["status"] == "failed" and "returned NULL" in m["reason"], f"dry malloc: {m['status']} {m['reason']}")
    check(f["status"] == "failed" and "malloc(67108864) returned NULL" in f["reason"],
          f"dry free: {f['status']} {f['reason']}")
p, out = fastpath("--allocator", EXACT, "--sizes", "16M", "--repetitions", "1", "--calls", "16",
                  "--warmup", "0", "--keep-live", "0", "--pattern", "batch")
check(p.returncode == 1, f"dry batch: exit {p.returncode}")
if os.path.exists(os.path.join(out, "report.json")):
    rows = rows_of(out, "batch")
    m, f = rows[("libab-fp-exact", "malloc", 16 << 20)], rows[("libab-fp-exact", "free", 16 << 20)]
    check(m["status"] == "failed" and "returned NULL" in m["reason"], f"dry batch malloc: {m['reason']}")
    check(f["status"] == "failed" and "malloc batch before it failed" in f["reason"],
          f"dry batch free: {f['status']} {f['reason']}")

# F2/F3 prefixes on instructions that execute once (pause, bnd ret, rep ret)
# are not string instructions: counted once each, no rep instructions.
for counter in ("ptrace", "callgrind"):
    p, out = fastpath("--allocator", fixture("libab-fp-prefixed.so"), "--sizes", "16", "--calls",
                      "50", "--repetitions", "1", "--warmup", "10", counter=counter)
    check(p.returncode == 0, f"prefixed ({counter}): exit {p.returncode}: {p.stderr}")
    if p.returncode == 0:
        rows = rows_of(out)
        for op, want in (("malloc", (17, 2)), ("free", (5, 1))):
            r = rows[("libab-fp-prefixed", op, 16)]
            got = (r["instructions"]["p50"], r["conditional"]["p50"])
            check(got == want and r["instructions"]["histogram"] == {str(want[0]): 50},
                  f"prefixed {op} ({counter}): {got} {r['instructions']['histogram']}, want {want}")
            if counter == "ptrace":
                check(r["branches"]["p50"] == (5 if op == "malloc" else 3),
                      f"prefixed {op}: branches {r['branches']['p50']}")
                check(r["rep_instructions_per_call"] == 0,
                      f"prefixed {op}: {r['rep_instructions_per_call']} rep instructions per call")

# The plus8 fixture runs 8 more instructions in every other process.
runs = os.path.join(tmpdir(), "runs")
p, out = fastpath("--allocator", fixture("libab-fp-plus8.so"), "--sizes", "16", "--calls", "20",
                  "--repetitions", "2", env={"AB_FIXTURE_RUNS": runs})
rows = rows_of(out)
r = rows[("libab-fp-plus8", "malloc", 16)]
check(p.returncode == 1, f"plus8: exit {p.returncode}, expected 1")
check(r["repetitions_agree"] is False and r["reason"] == "the repetitions disagree"
      and sorted(r["repetition_p50"]["instructions"]) == [18, 26],
      f"plus8: agree {r['repetitions_agree']}, {r['reason']}, {r['repetition_p50']}")
check(rows[("libab-fp-plus8", "free", 16)]["repetitions_agree"] is True, "plus8: free disagrees")
check("repetitions disagree" in p.stdout, f"plus8 console:\n{p.stdout}")
with open(os.path.join(tmpdir(), "b.tsv"), "w") as f:
    f.write("allocator\top\tsize\tmax_instructions\tmax_branches\n*\tmalloc\t*\t100\t100\n"
            "*\tfree\t*\t100\t100\n")
    budget_file = f.name
p = run("check", "--budgets", budget_file, out)
check(p.returncode == 1 and p.stdout.splitlines() ==
      ["ALLOCBENCH_TRIAL_FAILED libab-fp-plus8 malloc size=16 pattern=pairs not measured: "
       "the repetitions disagree"],
      f"check of a disagreeing row: {p.returncode} {p.stdout!r}")

# --- determinism: three reruns of a real allocator give identical counts ----
hists = []
for i in range(3):
    p, out = fastpath("--allocator", "glibc", "--sizes", "32,256", "--calls", "50",
                      "--repetitions", "1")
    check(p.returncode == 0, f"rerun {i}: exit {p.returncode}: {p.stderr}")
    hists.append({k: (r["instructions"]["histogram"], r["branches"]["histogram"],
                      r["conditional"]["histogram"]) for k, r in rows_of(out).items()})
check(hists[0] == hists[1] == hists[2], f"three reruns differ: {hists}")

# --- the child's failures are findings, not a dead suite ---------------------
p, out = fastpath("--allocator", fixture("libab-crash.so"), "--sizes", "16", "--calls", "10",
                  "--repetitions", "1", env={"AB_FIXTURE_AFTER": "1005"})
check(p.returncode == 1, f"crashing allocator: exit {p.returncode}")
r = rows_of(out)[("libab-crash", "malloc", 16)]
check(r["status"] == "crashed" and "SIGSEGV" in (r["reason"] or "") and r["instructions"]["p50"] is None,
      f"crashing allocator row: {r['status']} {r['reason']}")

# --- what must be refused ------------------------------------------------------
for args, what in ((["--sizes", "0"], "--sizes"), (["--sizes", "16,16"], "twice"),
                   (["--ops", "malloc,frees"], "--ops"), (["--ops", "free,free"], "twice"),
                   (["--calls", "0"], "--calls"),
                   (["--repetitions", "0"], "--repetitions"), (["--counter", "perf"], "--counter"),
                   (["--keep-live", "x"], "--keep-live"), (["extra"], "unexpected"),
                   (["--pattern", "pair"], "--pattern"), (["--pattern", "pairs,"], "--pattern"),
                   (["--pattern", "batch,batch"], "twice")):
    p = run("fastpath", *args)
    check(p.returncode == 2 and what in p.stderr and len(p.stderr.splitlines()) == 1,
          f"fastpath {args}: exit {p.returncode}, stderr {p.stderr!r}")
if not have["pmu"]:
    out = tmpdir()
    p = run("fastpath", "--counter", "pmu", "--out", out)
    check(p.returncode == 3 and len(p.stderr.splitlines()) == 1 and "pmu" in p.stderr
          and "ALLOCBENCH_NOT_INSTALLED" in p.stderr,
          f"--counter pmu without a PMU: exit {p.returncode}, {p.stderr!r}")
    check(not os.path.exists(f"{out}/report.json"), "--counter pmu without a PMU wrote a report")
done()
