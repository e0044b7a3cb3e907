"""`allocbench compare` on run reports.  Verdicts are asserted only where
the effect is far beyond noise: glibc against libab-timed-slow.so (glibc with a
fixed busy-wait in malloc, tens of times its cost) is `slower` and exits 1,
the other way round `faster`; a report against itself is `same` with ratio
1 and exits 0; two runs of glibc are compared without asserting their
verdict.  The gate's arithmetic is checked on reports whose times are set
by hand (a 1.5x slowdown fails, a 1.02x one is slower but within 5 %).  Too
few trials give no verdict and say why.  Reports that cannot be compared
(another workload, parameters, rounds, counter or command) and malformed
ones exit 2 with one line.  The comparison's report.json keys are the
docs/report-compare.md's."""
import copy
import json
import os
import re

from abtest import *

SLOW = fixture("libab-timed-slow.so")
COMMON = ["--param", "n=256", "--rounds", "20", "--timeout", "20"]
d = tmpdir()


def measure(name, allocator, variants, reps):
    out = os.path.join(d, name)
    p = run("run", "bulk-new", "--allocator", allocator, "--variant", variants,
            "--repetitions", str(reps), "--out", out, *COMMON)
    check(p.returncode == 0, f"run {name}: exit {p.returncode}: {p.stderr}")
    return out


def compare(*args):
    return run("compare", *args, timeout=60)


def doc_of(*args):
    p = compare(*args, "--format", "json")
    try:
        return p, json.loads(p.stdout)
    except ValueError:
        check(False, f"compare {args} --format json: not JSON: {p.stdout[:200]!r} {p.stderr!r}")
        return p, {"rows": [], "only_base": [], "only_head": [], "diagnostics": []}


def write(name, doc, text=None):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text if text is not None else json.dumps(doc, indent=1))
    return path


def one_line_error(p, what, words):
    lines = p.stderr.splitlines()
    check(p.returncode == 2 and len(lines) == 1 and p.stdout == "" and
          all(w in p.stderr for w in words),
          f"{what}: exit {p.returncode}, stdout {p.stdout[:80]!r}, stderr {p.stderr!r} "
          f"(expected 2, one line with {words})")


glibc = measure("glibc", "glibc", "loop,array", 8)
glibc2 = measure("glibc2", "glibc", "loop,array", 8)
slow = measure("slow", SLOW, "loop", 8)
few = measure("few", "glibc", "loop", 3)

# --- far beyond noise: glibc -> libab-timed-slow is slower and fails ---------------
p, doc = doc_of(glibc, slow)
rows = doc["rows"]
check(p.returncode == 1, f"glibc -> slow: exit {p.returncode}, expected 1: {p.stderr}")
check(doc.get("command") == "compare" and doc["compare"]["of"] == "run" and
      doc["compare"]["matched_by"] == "position" and doc["compare"]["workload"] == "bulk-new",
      f"glibc -> slow: document head {doc.get('compare')}")
check(len(rows) == 1 and rows[0]["variant"] == "loop" and rows[0]["verdict"] == "slower" and
      rows[0]["fails"] and rows[0]["ratio"] > 1 and rows[0]["ci95_low"] > 1.05 and
      rows[0]["base"]["allocator"] == "glibc" and rows[0]["head"]["allocator"] == "libab-timed-slow" and
      rows[0]["base"]["n"] == 8 and rows[0]["head"]["n"] == 8 and rows[0]["p"] < 0.01 and
      rows[0]["p_exact"] is True and rows[0]["reason"] is None,
      f"glibc -> slow: rows {rows}")
check(doc["only_base"] == [{"variant": "array", "threads": 1, "allocator": "glibc"}] and
      doc["only_head"] == [], f"rows of one side: {doc['only_base']} {doc['only_head']}")
check(doc["failures"] == 1 and [x["code"] for x in doc["diagnostics"]] ==
      ["ALLOCBENCH_COMPARE_SLOWER"], f"glibc -> slow: diagnostics {doc['diagnostics']}")
check(rows[0]["base"]["median"] == load_report(glibc)["aggregates"][0]["ns_per_op"]["median"],
      "the BASE median is the report's aggregate median")
p = compare(glibc, slow)
lines = [l for l in p.stdout.splitlines() if l.startswith("ALLOCBENCH_COMPARE_SLOWER ")]
check(p.returncode == 1 and len(lines) == 1 and
      lines[0].startswith("ALLOCBENCH_COMPARE_SLOWER bulk-new:loop threads=1 glibc -> libab-timed-slow "
                          "ratio=") and lines[0].endswith(" above 1.050") and
      "only in BASE: variant=array threads=1 allocator=glibc" in p.stdout and p.stderr == "",
      f"console: exit {p.returncode}\n{p.stdout}{p.stderr}")
p = compare(glibc, slow, "--format", "markdown")
check(p.returncode == 1 and "| variant | threads | allocator |" in p.stdout and
      re.search(r"^\| loop \| 1 \| glibc → libab-timed-slow \| 8 / 8 \|.*\| \*\*slower: fails\*\* ",
                p.stdout, re.M) and "ALLOCBENCH_COMPARE_SLOWER" in p.stdout,
      f"markdown: exit {p.returncode}\n{p.stdout}")
# The other way round: faster, and nothing fails.
p, doc = doc_of(slow, glibc)
check(p.returncode == 0 and [r["verdict"] for r in doc["rows"]] == ["faster"] and
      doc["rows"][0]["ci95_high"] < 1 and doc["only_head"] ==
      [{"variant": "array", "threads": 1, "allocator": "glibc"}] and doc["failures"] == 0,
      f"slow -> glibc: exit {p.returncode}, rows {doc['rows']}")

# --- a report against itself: same, ratio 1 ----------------------------------
p, doc = doc_of(glibc, glibc)
check(p.returncode == 0 and len(doc["rows"]) == 2 and
      all(r["verdict"] == "same" and r["ratio"] == 1 and r["p"] == 1 and not r["fails"] and
          r["ci95_low"] <= 1 <= r["ci95_high"] for r in doc["rows"]) and
      doc["compare"]["matched_by"] == "name" and doc["notes"] == [],
      f"A/A of one report: exit {p.returncode}, rows {doc['rows']}, notes {doc['notes']}")
# Two runs of one allocator: whatever the machine did, the exit status is
# the gate's and every row has a verdict.
p, doc = doc_of(glibc, glibc2)
check(len(doc["rows"]) == 2 and
      all(r["verdict"] in ("same", "faster", "slower") for r in doc["rows"]) and
      p.returncode == (1 if any(r["fails"] for r in doc["rows"]) else 0),
      f"two runs of glibc: exit {p.returncode}, rows {doc['rows']}")
print("two runs of glibc:", [(r["variant"], round(r["ratio"], 3), round(r["ci95_low"], 3),
                              round(r["ci95_high"], 3), r["verdict"]) for r in doc["rows"]])

# --- two allocators on one side: rows match by name --------------------------
merged = load_report(glibc2)
s = load_report(slow)
merged["trials"] += s["trials"]
merged["aggregates"] += s["aggregates"]
p, doc = doc_of(write("merged.json", merged), glibc)
check(doc["compare"]["matched_by"] == "name" and
      [(r["variant"], r["base"]["allocator"], r["head"]["allocator"]) for r in doc["rows"]] ==
      [("loop", "glibc", "glibc"), ("array", "glibc", "glibc")] and
      doc["only_base"] == [{"variant": "loop", "threads": 1, "allocator": "libab-timed-slow"}],
      f"match by name: rows {doc['rows']}, only_base {doc['only_base']}")

# --- the gate's arithmetic on times set by hand -------------------------------
def scaled(factor, name):
    r = load_report(glibc)
    for t in (t for t in r["trials"] if t["variant"] == "loop"):
        t["ns_per_op"] = 10.0 * (1 + 0.001 * t["repetition"]) * factor
    return write(name, r)


base = scaled(1.0, "base-10.json")
for factor, threshold, verdict, status in ((1.5, "5", "slower", 1), (1.02, "5", "slower", 0),
                                           (1.02, "1", "slower", 1), (0.8, "5", "faster", 0),
                                           (1.0, "0", "same", 0)):
    p, doc = doc_of(base, scaled(factor, f"head-{factor}.json"), "--threshold", threshold)
    loop = [r for r in doc["rows"] if r["variant"] == "loop"]
    check(p.returncode == status and len(loop) == 1 and loop[0]["verdict"] == verdict and
          abs(loop[0]["ratio"] - factor) < 1e-9 and
          loop[0]["ci95_low"] <= factor <= loop[0]["ci95_high"],
          f"times x{factor}, threshold {threshold}: exit {p.returncode} (expected {status}), "
          f"rows {loop}")

# --- too few trials: no verdict, and why; never fails --------------------------
p, doc = doc_of(few, few)
check(p.returncode == 0 and len(doc["rows"]) == 1 and doc["rows"][0]["verdict"] is None and
      doc["rows"][0]["ci95_low"] is None and "too few" in doc["rows"][0]["reason"] and
      not doc["rows"][0]["fails"], f"3 + 3 trials: exit {p.returncode}, rows {doc['rows']}")
p = compare(few, few)
check(p.returncode == 0 and "no verdict: 3 trials in BASE and 3 in HEAD are too few" in p.stdout,
      f"3 + 3 trials on the console:\n{p.stdout}")
# A configuration not measured on one side says so.
r = load_report(slow)
for t in r["trials"]:
    t.update(status="crashed", ns_per_op=None, reason="signal=SIGSEGV")
r["aggregates"][0].update(status="crashed", reason="signal=SIGSEGV", measured=0)
r["aggregates"][0]["ns_per_op"].update(median=None, n=0)
p, doc = doc_of(glibc, write("crashed.json", r))
check(p.returncode == 0 and doc["rows"][0]["verdict"] is None and
      doc["rows"][0]["reason"] == "not measured in HEAD: crashed: signal=SIGSEGV",
      f"a crashed HEAD: exit {p.returncode}, rows {doc['rows']}")

# --- --out: the comparison's report.json and report.html ----------------------
out = os.path.join(d, "cmp-out")
p = compare(glibc, slow, "--out", out)
check(p.returncode == 1 and sorted(os.listdir(out)) == ["report.html", "report.json"] and
      load_report(out)["rows"][0]["verdict"] == "slower" and f"{out}/report.json" in p.stdout,
      f"--out: exit {p.returncode}, {os.listdir(out) if os.path.isdir(out) else 'no folder'}")
one_line_error(compare(glibc, out), "a compare report as input",
               ["a report of allocbench compare", "ALLOCBENCH_BAD_INPUT"])

# --- the comparison's report.json keys are the reference's (docs/report-compare.md) -------------------------
section = doc_page("report-compare.md")
documented = set()
for line in section.splitlines():
    m = re.match(r"\| (`[^|]+`) \|", line)
    if m:
        documented.update(re.findall(r"`([^`]+)`", m.group(1)))


def keys(o, skip=("context",)):
    found = set()
    if isinstance(o, dict):
        for k, v in o.items():
            if k in skip:
                continue
            found.add(k)
            found |= keys(v)
    elif isinstance(o, list):
        for v in o:
            found |= keys(v)
    return found


_, run_doc = doc_of(glibc, slow)
actual = keys(run_doc)
check(actual <= documented, f"keys not in docs/report-compare.md: {sorted(actual - documented)}")
check({"of", "matched_by", "ratio", "ci95_low", "only_base", "verdict"} <= documented,
      f"docs/report-compare.md holds too few keys: {sorted(documented)}")

# --- reports that cannot be compared: exit 2, one line ------------------------
other = os.path.join(d, "other")
p = run("run", "param-batch", "--preset", "quick", "--repetitions", "2", "--rounds", "2",
        "--out", other)
check(p.returncode == 0, f"param-batch: {p.stderr}")
one_line_error(compare(glibc, other), "another workload",
               ["workload bulk-new, HEAD of param-batch", "ALLOCBENCH_COMPARE_MISMATCH"])
r = load_report(glibc)
r["run"]["params"]["n"] = 128
one_line_error(compare(glibc, write("n128.json", r)), "another parameter",
               ["n=256 in BASE, 128 in HEAD", "ALLOCBENCH_COMPARE_MISMATCH"])
r = load_report(glibc)
r["run"]["rounds"] = 30
one_line_error(compare(glibc, write("rounds.json", r)), "other rounds",
               ["20 measured rounds", "ALLOCBENCH_COMPARE_MISMATCH"])
r = load_report(glibc)
r["context"]["counter"] = "callgrind"
one_line_error(compare(write("counted.json", r), glibc), "another counter",
               ["counter callgrind", "ALLOCBENCH_COMPARE_MISMATCH"])
fp = os.path.join(d, "fp.json")
with open(fp, "w") as f:
    json.dump({"schema_version": 2, "schema": "allocbench-fastpath", "command": "fastpath",
               "context": {"counter": "ptrace"}, "config": {}, "rows": []}, f)
one_line_error(compare(glibc, fp), "run against fastpath",
               ["report of allocbench run, HEAD of allocbench fastpath",
                "ALLOCBENCH_COMPARE_MISMATCH"])

# --- malformed reports: exit 2, one line naming the file ----------------------
good = open(os.path.join(glibc, "report.json")).read()
doc = json.loads(good)


def mutated(change):
    r = copy.deepcopy(doc)
    change(r)
    return r


dup = re.sub(r'("command":\s*"run",)', r'\1 "command": "run",', good, count=1)
bad = [
    ("not JSON", None, good[:200], ["not JSON"]),
    ("trailing data", None, good + "{}\n", ["data after the document"]),
    ("a member twice", None, dup, ['holds "command" twice']),
    ("threads as a string", mutated(lambda r: r["trials"][0].update(threads="1")), None,
     ["trials[0]: threads"]),
    ("a time below 0", mutated(lambda r: r["trials"][1].update(ns_per_op=-1)), None,
     ["trials[1]: ns_per_op"]),
    ("a measured trial without a time", mutated(lambda r: r["trials"][2].update(ns_per_op=None)),
     None, ["trials[2]: ns_per_op"]),
    ("no trials", mutated(lambda r: r.pop("trials")), None, ['"trials"']),
    ("a configuration twice", mutated(lambda r: r["aggregates"].append(r["aggregates"][0])), None,
     ["are one configuration"]),
    ("a trial of no configuration", mutated(lambda r: r["trials"][0].update(variant="bulk")), None,
     ["trials[0]", "in no aggregate"]),
    ("params not an object", mutated(lambda r: r["run"].update(params=[])), None, ["run.params"]),
    ("another schema version", mutated(lambda r: r.update(schema_version=7)), None,
     ["schema version 7"]),
    ("no command", mutated(lambda r: r.pop("command")), None, ['no "command"']),
]
for what, r, text, words in bad:
    path = write(what.replace(" ", "-") + ".json", r, text)
    one_line_error(compare(path, glibc), what, [path, "ALLOCBENCH_BAD_INPUT"] + words)
one_line_error(compare(glibc, os.path.join(d, "nowhere")), "a missing report",
               ["nowhere", "cannot be read", "ALLOCBENCH_BAD_INPUT"])
for args, words in (([glibc], ["which two reports"]),
                    ([glibc, glibc, glibc], ["unexpected argument"]),
                    ([glibc, glibc, "--threshold", "-1"], ["--threshold -1", "[0, 1000]"]),
                    ([glibc, glibc, "--threshold", "ten"], ["--threshold ten"]),
                    ([glibc, glibc, "--format", "tsv"], ["console, json or markdown"])):
    one_line_error(compare(*args), f"usage {args[1:]}", words + ["ALLOCBENCH_USAGE"])
# Calibrated reports (run.rounds null, each configuration's own rounds):
# compared, not refused.
cal = []
for alloc in ("glibc", SLOW):
    d = tmpdir()
    p = run("run", "bulk-new", "--variant", "loop", "--param", "n=256", "--repetitions", "6",
            "--min-time", "0.01", "--allocator", alloc, "--out", d)
    check(p.returncode == 0, f"calibrated run: exit {p.returncode} {p.stderr[-200:]}")
    cal.append(d)
p = run("compare", *cal)
check(p.returncode == 1 and "slower" in p.stdout, f"calibrated reports: exit {p.returncode} {p.stdout[-300:]} {p.stderr!r}")
done()
