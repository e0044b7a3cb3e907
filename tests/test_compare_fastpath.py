"""`allocbench compare` on fast-path reports: exact deltas.  The
hand-counted cache fixture (tests/fixtures/fp-cache.S: malloc's hit 15
instructions / 3 branches) against its copy with one instruction more on
the hit (libab-fp-cache-plus1.so): exactly one row differs, malloc 64 pairs
15 -> 16 (+1, +6.67 %), which fails the default 5 % (exit 1) and holds at
10 %; the other way round it is faster; a report against itself is the
same everywhere.  Matched by position under two names and by name under
one.  Counts of another counter or over other calls, and a row held twice,
exit 2 with one line."""
import copy
import json
import os
import shutil

from abtest import *

counters = run("list", "counters").stdout
if not any(l.split()[:2] == ["ptrace", "yes"] for l in counters.splitlines()):
    skip("the ptrace counter is not usable here")

d = tmpdir()
CACHE = fixture("libab-fp-cache.so")
PLUS1 = fixture("libab-fp-cache-plus1.so")
# The same library under the fixture's own name: rows then match by name.
same_name = os.path.join(d, "same-name")
os.mkdir(same_name)
shutil.copy(PLUS1, os.path.join(same_name, "libab-fp-cache.so"))


def count(name, lib):
    out = os.path.join(d, name)
    p = run("fastpath", "--allocator", lib, "--sizes", "64,512", "--pattern", "pairs,batch",
            "--calls", "100", "--repetitions", "1", "--counter", "ptrace", "--warmup", "10",
            "--keep-live", "0", "--out", out)
    check(p.returncode == 0, f"fastpath {lib}: exit {p.returncode}: {p.stderr}")
    return out


def doc_of(*args):
    p = run("compare", *args, "--format", "json")
    try:
        return p, json.loads(p.stdout)
    except ValueError:
        check(False, f"compare {args}: not JSON: {p.stdout[:200]!r} {p.stderr!r}")
        return p, {"rows": [], "compare": {}, "diagnostics": []}


def deltas(doc):
    return {(r["op"], r["size"], r["pattern"]): tuple(r[f]["delta"] for f in
                                                      ("instructions", "branches",
                                                       "slow_path_share"))
            for r in doc["rows"]}


base = count("base", CACHE)
plus1 = count("plus1", PLUS1)
renamed = count("renamed", os.path.join(same_name, "libab-fp-cache.so"))
KEYS = {(op, size, pat) for op in ("malloc", "free") for size in (64, 512)
        for pat in ("pairs", "batch")}
HIT = ("malloc", 64, "pairs")

for head, matched in ((plus1, "position"), (renamed, "name")):
    p, doc = doc_of(base, head)
    got = deltas(doc)
    check(p.returncode == 1 and doc["compare"]["of"] == "fastpath" and
          doc["compare"]["matched_by"] == matched and set(got) == KEYS and
          got[HIT] == (1, 0, 0) and all(v == (0, 0, 0) for k, v in got.items() if k != HIT),
          f"base -> +1 ({matched}): exit {p.returncode}, deltas {got}")
    hit = [r for r in doc["rows"] if (r["op"], r["size"], r["pattern"]) == HIT]
    check(len(hit) == 1 and hit[0]["instructions"]["base"] == 15 and
          hit[0]["instructions"]["head"] == 16 and hit[0]["instructions"]["fails"] and
          abs(hit[0]["instructions"]["change"] - 1 / 15) < 1e-12 and
          hit[0]["verdict"] == "slower" and hit[0]["fails"] and doc["failures"] == 1 and
          all(r["verdict"] == "same" and not r["fails"] for r in doc["rows"] if r is not hit[0]),
          f"the hit row: {hit}")
p = run("compare", base, plus1)
lines = [l for l in p.stdout.splitlines() if l.startswith("ALLOCBENCH_")]
check(p.returncode == 1 and lines ==
      ["ALLOCBENCH_COMPARE_COUNT libab-fp-cache -> libab-fp-cache-plus1 malloc size=64 "
       "pattern=pairs instructions=16 base=15 (+6.67 %) threshold=5 %"] and p.stderr == "",
      f"console: exit {p.returncode}\n{p.stdout}{p.stderr}")
p = run("compare", base, plus1, "--format", "markdown")
check(p.returncode == 1 and "| libab-fp-cache → libab-fp-cache-plus1 | malloc | 64 | pairs | "
      "15 → 16 (+1) | 3 → 3 (0) | 0.0000 → 0.0000 (0) | **slower: fails** |" in p.stdout,
      f"markdown: exit {p.returncode}\n{p.stdout}")

# The threshold moves the gate: +6.67 % holds at 10 %, fails at 0 and 6.
for threshold, status in (("10", 0), ("6.67", 0), ("6.6", 1), ("0", 1)):
    p, doc = doc_of(base, plus1, "--threshold", threshold)
    check(p.returncode == status and [r["verdict"] for r in doc["rows"]].count("slower") == 1,
          f"--threshold {threshold}: exit {p.returncode}, expected {status}")
p, doc = doc_of(plus1, base)
got = deltas(doc)
check(p.returncode == 0 and got.get(HIT) == (-1, 0, 0) and
      [r["verdict"] for r in doc["rows"]].count("faster") == 1 and doc["failures"] == 0,
      f"+1 -> base: exit {p.returncode}, deltas {got}")
p, doc = doc_of(base, base)
check(p.returncode == 0 and len(doc["rows"]) == 8 and
      all(r["verdict"] == "same" for r in doc["rows"]), f"base -> base: exit {p.returncode}")

# Rows of one side only, and a row not compared.
r = load_report(plus1)
r["rows"] = [x for x in r["rows"] if x["size"] == 64]
r["rows"][1].update(status="crashed", reason="signal=SIGSEGV")
path = os.path.join(d, "partial.json")
with open(path, "w") as f:
    json.dump(r, f)
p, doc = doc_of(base, path)
check(len(doc["rows"]) == 4 and len(doc["only_base"]) == 4 and
      all(o["size"] == 512 for o in doc["only_base"]) and
      [x["reason"] for x in doc["rows"] if x["reason"]] ==
      ["not measured in HEAD: crashed: signal=SIGSEGV"], f"partial HEAD: {doc['rows']}")

# The document's keys are the reference's (docs/report-compare.md).
documented = set()
for line in doc_page("report-compare.md").splitlines():
    if line.startswith("| `"):
        documented.update(__import__("re").findall(r"`([^`]+)`", line.split(" | ")[0]))


def keys(o):
    found = set()
    if isinstance(o, dict):
        for k, v in o.items():
            if k != "context":
                found |= {k} | keys(v)
    elif isinstance(o, list):
        for v in o:
            found |= keys(v)
    return found


_, doc = doc_of(base, plus1)
check(keys(doc) <= documented, f"keys not in docs/report-compare.md: {sorted(keys(doc) - documented)}")

# Counts that cannot be compared, and a malformed report: exit 2, one line.
good = load_report(base)
cases = [
    ("another counter", lambda r: r["context"].update(counter="callgrind"),
     ["counted with ptrace, HEAD with callgrind", "ALLOCBENCH_COMPARE_MISMATCH"]),
    ("other calls", lambda r: r["config"].update(calls=50),
     ["calls 100, HEAD with 50", "ALLOCBENCH_COMPARE_MISMATCH"]),
    ("a row twice", lambda r: r["rows"].append(copy.deepcopy(r["rows"][0])),
     ["holds the row libab-fp-cache malloc size=64 pattern=pairs twice", "ALLOCBENCH_BAD_INPUT"]),
    ("a row without its op", lambda r: r["rows"][0].pop("op"),
     ["row 1: op is missing or malformed", "ALLOCBENCH_BAD_INPUT"]),
]
for what, change, words in cases:
    r = copy.deepcopy(good)
    change(r)
    path = os.path.join(d, what.replace(" ", "-") + ".json")
    with open(path, "w") as f:
        json.dump(r, f)
    p = run("compare", base, path)
    check(p.returncode == 2 and len(p.stderr.splitlines()) == 1 and p.stdout == "" and
          all(w in p.stderr for w in words), f"{what}: exit {p.returncode}: {p.stderr!r}")
done()
