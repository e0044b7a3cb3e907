"""`allocbench check --format json|junit`: the verdict for CI systems.  The
file says what the console says: the same lines per row, the same counts and
exit status.  Fixtures: the hand-counted fast-path allocators (malloc 16
instructions / 5 branches, free 5 / 3; heavy malloc 217 / 105).  Held, one
over budget, a budget row matching nothing, a row without a budget (skipped
in JUnit, failed with --require-budget); a bad --format, --output without
--format and an output that cannot be written are exit 2 with no file."""
import json
import xml.etree.ElementTree as ET
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


def gate(text, *extra):
    path = os.path.join(d, "b.tsv")
    with open(path, "w") as f:
        f.write(text)
    return run("check", "--budgets", path, *extra, rep)


HELD = (HEADER + "libab-fp-exact\tmalloc\t*\t16\t5\nlibab-fp-exact\tfree\t*\t5\t3\n"
        "libab-fp-heavy\tmalloc\t*\t217\t105\nlibab-fp-heavy\tfree\t*\t5\t3\n")
# One instruction under at size 16, a budget row for an allocator not in the
# report, and no budget for the heavy fixture's free.
BAD = (HEADER + "libab-fp-exact\tmalloc\t16\t15\t5\nlibab-fp-exact\tmalloc\t64\t16\t5\n"
       "libab-fp-exact\tfree\t*\t5\t3\nlibab-fp-heavy\tmalloc\t*\t217\t105\n"
       "nosuch\tmalloc\t*\t10\t10\n")

out = os.path.join(d, "v.json")
p = gate(HELD, "--format", "json", "--output", out)
check(p.returncode == 0, f"held json: exit {p.returncode} {p.stderr}")
v = json.load(open(out))
check(v["command"] == "check" and v["verdict"] == "held" and v["counts"]["rows"] == 8
      and v["counts"]["held"] == 8 and v["budget_findings"] == [], f"held json: {v}")
check(sorted((r["allocator"], r["op"], r["size"]) for r in v["rows"])
      == sorted((a, o, s) for a in ("libab-fp-exact", "libab-fp-heavy")
                for o in ("malloc", "free") for s in (16, 64)), f"rows {v['rows']}")
check(all(r["verdict"] == "held" and r["lines"] == [] for r in v["rows"]), f"rows {v['rows']}")

plain = gate(BAD)
p = gate(BAD, "--format", "json", "--output", out)
check(p.returncode == 1 == plain.returncode and p.stdout == plain.stdout,
      f"bad json: exit {p.returncode}/{plain.returncode}; the console differs:\n{p.stdout}\n{plain.stdout}")
v = json.load(open(out))
by = {(r["allocator"], r["op"], r["size"]): r for r in v["rows"]}
over = by[("libab-fp-exact", "malloc", 16)]
check(v["verdict"] == "failed" and over["verdict"] == "over-budget"
      and over["lines"] == ["ALLOCATOR_FAST_PATH_BUDGET libab-fp-exact malloc size=16 pattern=pairs "
                            "instructions=16 budget=15"], f"over: {over}")
check(by[("libab-fp-exact", "malloc", 64)]["verdict"] == "held", f"{by}")
check(by[("libab-fp-heavy", "free", 16)]["verdict"] == "unchecked", f"{by}")
check(v["counts"]["over_budget"] == 1 and v["counts"]["held"] == 5 and v["counts"]["unchecked"] == 2
      and v["counts"]["budget_rows_unmatched"] == 1, f"counts {v['counts']}")
check([(f["code"], f["line"], f["allocator"]) for f in v["budget_findings"]]
      == [("ALLOCBENCH_BUDGET_UNMATCHED", 6, "nosuch")], f"{v['budget_findings']}")
every = [l for r in v["rows"] for l in r["lines"]] + [f["text"] for f in v["budget_findings"]]
check(sorted(every) == sorted(l for l in plain.stdout.splitlines() if l),
      f"json lines {every} vs console {plain.stdout!r}")

# JUnit: a test case per row and per budget finding.
xo = os.path.join(d, "v.xml")
for req, want_fail, want_skip in (((), 2, 2), (("--require-budget",), 4, 0)):
    p = gate(BAD, "--format", "junit", "--output", xo, *req)
    check(p.returncode == 1, f"junit {req}: exit {p.returncode}")
    s = ET.parse(xo).getroot().find("testsuite")
    cases = s.findall("testcase")
    check(s.get("tests") == str(len(cases)) == "9", f"junit {req}: tests {s.get('tests')} {len(cases)}")
    fails = [c for c in cases if c.find("failure") is not None]
    skips = [c for c in cases if c.find("skipped") is not None]
    check(len(fails) == want_fail == int(s.get("failures")) and len(skips) == want_skip == int(s.get("skipped")),
          f"junit {req}: {len(fails)} failures, {len(skips)} skipped: {ET.tostring(s)[:600]}")
    f16 = [c for c in fails if c.get("name") == "malloc size=16 pattern=pairs"
           and c.get("classname") == "allocbench.libab-fp-exact"]
    check(len(f16) == 1 and f16[0].find("failure").get("type") == "ALLOCATOR_FAST_PATH_BUDGET",
          f"junit {req}: the over-budget case {[ET.tostring(c) for c in f16]}")
    check(any(c.get("classname") == "allocbench.budgets" and c.get("name") == "line 6" for c in fails),
          f"junit {req}: the unmatched budget row")

# The default file names, in the current directory.
cwd = tmpdir()
p = subprocess.run([AB, "check", "--budgets", os.path.join(d, "b.tsv"), "--format", "junit", rep],
                   cwd=cwd, capture_output=True, text=True)
check(p.returncode == 1 and os.listdir(cwd) == ["check.xml"], f"default name: {os.listdir(cwd)} {p.stderr}")

# Bad input: exit 2, one line, no file.
for args, want in ((("--format", "yaml"), "--format yaml: json or junit"),
                   (("--output", out), "--output needs --format"),
                   (("--format", "json", "--output", ""), "empty file name")):
    p = gate(HELD, *args)
    check(p.returncode == 2 and want in p.stderr and len(p.stderr.splitlines()) == 1,
          f"{args}: exit {p.returncode} {p.stderr!r}")
gone = os.path.join(d, "no", "such", "v.json")
p = gate(BAD, "--format", "json", "--output", gone)
check(p.returncode == 2 and "cannot write" in p.stderr and not os.path.exists(os.path.dirname(gone)),
      f"unwritable: exit {p.returncode} {p.stderr!r}")
check("ALLOCATOR_FAST_PATH_BUDGET" in p.stdout, "the console verdict still printed")
done()
