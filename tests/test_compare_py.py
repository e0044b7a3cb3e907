"""google-benchmark's own tools/compare.py reads benchmark.json unchanged
(Debian's libbenchmark-tools installs it at /usr/share/benchmark/compare.py;
it needs python3-scipy; scripts/setup installs both).  In `benchmarks` mode
on two runs' files its output parses, names every benchmark with the
figures benchmark.json holds, and has its U-test line ("Repetitions: 9 vs
9") for each configuration measured in enough repetitions, none with one;
`filters` mode compares two allocators of one run.  The same checks fire on
broken files: aggregates named as their run, no time unit."""
import copy
import json
import re
import shutil

from abtest import *

COMPARE = "/usr/share/benchmark/compare.py"  # dpkg -L libbenchmark-tools
if not os.path.exists(COMPARE):
    skip(f"google-benchmark's compare.py is not installed ({COMPARE}, Debian's libbenchmark-tools)")


def interpreter():
    """A python3 with scipy (Debian's own, where python3-scipy installs it)."""
    for py in ("/usr/bin/python3", sys.executable, shutil.which("python3")):
        if py and os.path.exists(py) and subprocess.run(
                [py, "-c", "import scipy.stats, numpy"], capture_output=True).returncode == 0:
            return py
    return None


PY = interpreter()
if not PY:
    skip("compare.py needs scipy, and no python3 here has it (Debian's python3-scipy)")

ROW = re.compile(r"^(\S+)\s+([+-]\d+\.\d{4})\s+([+-]\d+\.\d{4})\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)$")
PVALUE = re.compile(r"^(\S+)_pvalue\s+(\d+\.\d{4})\s+(\d+\.\d{4})\s+U Test, Repetitions: (\d+) vs (\d+)(.*)$")


def compare(*args):
    """compare.py's result and the difference report it dumps (-d)."""
    dump = os.path.join(tmpdir(), "diff.json")
    p = subprocess.run([PY, COMPARE, "--no-color", "-d", dump, *args], capture_output=True,
                       text=True, timeout=300)
    diff = json.load(open(dump)) if p.returncode == 0 and os.path.exists(dump) else None
    return p, diff


def problems(p, diff, base, other, reps):
    """What compare.py's output of base against other (benchmark.json
    documents) gets wrong; reps: the repetitions of every configuration."""
    if p.returncode != 0:
        return [f"exit {p.returncode}: {p.stderr[-500:]}"]
    out, rows, pvalues = [], {}, {}
    lines = p.stdout.splitlines()
    if len(lines) < 3 or not re.match(r"Benchmark\s+Time\s+CPU\s+Time Old\s+Time New\s+CPU Old\s+CPU New$",
                                      lines[1]) or set(lines[2]) != {"-"}:
        out.append(f"no header: {lines[:3]}")
    for line in lines[3:]:
        m = ROW.match(line)
        if m:
            rows.setdefault(m.group(1), []).append(m)
            continue
        m = PVALUE.match(line)
        if m:
            pvalues[m.group(1)] = m
            continue
        out.append(f"a line of compare.py's does not parse: {line!r}")
    names = list(dict.fromkeys(b["name"] for b in base["benchmarks"]))
    for name in names + ["OVERALL_GEOMEAN"]:
        if name not in rows:
            out.append(f"compare.py names no {name}")
    # Each row: benchmark.json's times, as compare.py prints them.
    for name in names:
        b = [x for x in base["benchmarks"] if x["name"] == name]
        o = [x for x in other["benchmarks"] if x["name"] == name]
        got = rows.get(name, [])
        if len(got) != min(len(b), len(o)):
            out.append(f"{name}: {len(got)} rows for {len(b)} and {len(o)} benchmarks")
        for m, x, y in zip(got, b, o):
            want = [f"{v:.0f}" for v in (x["real_time"], y["real_time"], x["cpu_time"], y["cpu_time"])]
            if [m.group(i) for i in (4, 5, 6, 7)] != want:
                out.append(f"{name}: printed {[m.group(i) for i in (4, 5, 6, 7)]}, benchmark.json {want}")
    # Its difference report holds benchmark.json's figures exactly.
    for entry in diff or []:
        b = [x for x in base["benchmarks"] if x["name"] == entry["name"]]
        o = [x for x in other["benchmarks"] if x["name"] == entry["name"]]
        for meas, x, y in zip(entry["measurements"], b, o):
            if (meas["real_time"], meas["cpu_time"], meas["real_time_other"], meas["cpu_time_other"]) != \
                    (x["real_time"], x["cpu_time"], y["real_time"], y["cpu_time"]):
                out.append(f"{entry['name']}: compare.py read {meas}, benchmark.json {x} {y}")
    if diff is None:
        out.append("no difference report")
    # The U test: one line per configuration when it has repetitions.
    runs = list(dict.fromkeys(b["run_name"] for b in base["benchmarks"] if b["run_type"] == "iteration"))
    for name in runs:
        m = pvalues.get(name)
        if reps < 2:
            if m:
                out.append(f"{name}: a U test of one repetition")
        elif not m:
            out.append(f"{name}: no U-test line")
        elif (int(m.group(4)), int(m.group(5))) != (reps, reps):
            out.append(f"{name}: U test over {m.group(4)} vs {m.group(5)} repetitions, not {reps}")
        elif reps >= 9 and "WARNING" in m.group(6):
            out.append(f"{name}: {m.group(0)}")
    for name in pvalues:
        if name not in runs:
            out.append(f"a U test of {name}, no configuration")
    return out


def bench_run(reps, allocators):
    out = tmpdir()
    p = run("run", "bulk-new", "--variant", "loop", "--allocator", ",".join(allocators),
            "--repetitions", str(reps), "--rounds", "5", "--param", "n=256", "--out", out)
    check(p.returncode == 0, f"run: exit {p.returncode}: {p.stderr}")
    return f"{out}/benchmark.json", load_report(out, "benchmark.json")


def broken(doc, mutate):
    d = copy.deepcopy(doc)
    for b in d["benchmarks"]:
        mutate(b)
    path = os.path.join(tmpdir(), "benchmark.json")
    with open(path, "w") as f:
        json.dump(d, f)
    return path, d


allocators = ["glibc"] + (["jemalloc"] if "jemalloc" in installed() else [])
# Two runs of nine repetitions: compare.py's U test without its warning.
a_path, a = bench_run(9, allocators)
b_path, b = bench_run(9, allocators)
p, diff = compare("benchmarks", a_path, b_path)
for x in problems(p, diff, a, b, 9):
    check(False, f"compare.py benchmarks: {x}")
print(p.stdout)

# Broken files: the checks fire.
path, d = broken(b, lambda x: x.update(name=x["run_name"]))
p, diff = compare("benchmarks", a_path, path)
check(problems(p, diff, a, d, 9), "aggregates named as their run: the checks did not fire")
path, d = broken(b, lambda x: x.pop("time_unit"))
p, diff = compare("benchmarks", a_path, path)
check(problems(p, diff, a, d, 9), "no time_unit: the checks did not fire")

# One repetition each: no U test (and the check that wants one fires).
c_path, c = bench_run(1, ["glibc"])
d_path, d = bench_run(1, ["glibc"])
p, diff = compare("benchmarks", c_path, d_path)
for x in problems(p, diff, c, d, 1):
    check(False, f"compare.py on one repetition: {x}")
check(problems(p, diff, c, d, 9), "one repetition: the U-test check did not fire")

# Two allocators of one run, A against B (the README's example).
if len(allocators) == 2:
    p, _ = compare("filters", a_path, "glibc", "jemalloc")
    check(p.returncode == 0 and re.search(r"^bulk-new/loop/\[glibc vs\. jemalloc\]/threads:1_pvalue .*"
                                          r"U Test, Repetitions: 9 vs 9$", p.stdout, re.M),
          f"compare.py filters glibc jemalloc: exit {p.returncode}\n{p.stdout}{p.stderr[-500:]}")

# A fast-path count against another: counts, no change.
fp = []
for _ in range(2):
    out = tmpdir()
    p = run("fastpath", "--allocator", "glibc", "--sizes", "16", "--calls", "40",
            "--repetitions", "1", "--out", out)
    check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr}")
    fp.append((f"{out}/benchmark.json", load_report(out, "benchmark.json")))
p, diff = compare("benchmarks", fp[0][0], fp[1][0])
for x in problems(p, diff, fp[0][1], fp[1][1], 1):
    check(False, f"compare.py on fastpath: {x}")
check(p.returncode == 0 and re.search(r"^fastpath/malloc/16/pairs/glibc\s+\+0\.0000\s+\+0\.0000\s", p.stdout, re.M),
      f"compare.py on fastpath: no unchanged malloc row\n{p.stdout}")
done()
