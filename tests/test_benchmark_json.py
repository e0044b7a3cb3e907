"""benchmark.json is google-benchmark's JSON output format, with report.json's
figures: one "iteration" benchmark per measured trial (real_time is its
ns_per_op exactly, cpu_time its rusage per op or, without one, the same),
mean/median/stddev/cv aggregates where two or more trials were measured, the
context block; a fast-path count's rows with their counts.  Every check runs
on a broken copy too, and must fire there.  compare.py itself reads these
files in test_compare_py.py."""
import copy
import math
import statistics

from abtest import *


def close(a, b, rel=1e-12):
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
        abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def context_problems(gb, rep):
    out, ctx, rc = [], gb.get("context", {}), rep["context"]
    for k in ("date", "host_name", "executable", "num_cpus", "caches", "library_build_type",
              "json_schema_version"):
        if k not in ctx:
            out.append(f"context lacks {k}")
    if ctx.get("host_name") != rc["hostname"]:
        out.append(f"host_name {ctx.get('host_name')!r}, report.json {rc['hostname']!r}")
    if ctx.get("num_cpus") != rc["topology"]["pus"]:
        out.append(f"num_cpus {ctx.get('num_cpus')}, report.json pus {rc['topology']['pus']}")
    su = rc["started_utc"]
    date = f"{su[0:4]}-{su[4:6]}-{su[6:8]}T{su[9:11]}:{su[11:13]}:{su[13:15]}+00:00"
    if ctx.get("date") != date:
        out.append(f"date {ctx.get('date')!r}, expected {date!r}")
    if "command_line" in rc and ctx.get("allocbench_command_line") != rc["command_line"]:
        out.append(f"allocbench_command_line {ctx.get('allocbench_command_line')!r}, report.json {rc['command_line']!r}")
    caches = [(c["level"], c["size"]) for c in ctx.get("caches", [])]
    want = [(c["level"], c["size_bytes"]) for c in rc["topology"]["caches"]]
    if caches != want:
        out.append(f"caches {caches}, report.json {want}")
    return out


def run_problems(gb, rep):
    """What benchmark.json gets wrong against its run's report.json."""
    out = context_problems(gb, rep)
    benches = gb.get("benchmarks", [])
    reps = rep["run"]["repetitions"]
    its = [b for b in benches if b.get("run_type") == "iteration"]
    ok = [t for t in rep["trials"] if t["status"] == "ok"]
    if len(its) != len(ok):
        out.append(f"{len(its)} iteration benchmarks for {len(ok)} measured trials")
    for b in benches:
        for k in ("name", "run_name", "run_type", "repetitions", "threads", "iterations",
                  "real_time", "cpu_time", "time_unit", "family_index"):
            if k not in b:
                out.append(f"{b.get('name')}: no {k}")
        if b.get("time_unit") != "ns":
            out.append(f"{b.get('name')}: time_unit {b.get('time_unit')!r}")
    for t in ok:
        name = f"{t['workload']}/{t['variant']}/{t['allocator']}/threads:{t['threads']}"
        got = [b for b in its if b.get("name") == name and b.get("repetition_index") == t["repetition"]]
        if len(got) != 1:
            out.append(f"{name} repetition {t['repetition']}: {len(got)} iteration benchmarks")
            continue
        b = got[0]
        ru = t.get("rusage") or {}
        if ru.get("user_s") is not None and ru.get("sys_s") is not None:
            cpu = (ru["user_s"] + ru["sys_s"]) * 1e9 / t["ops"]
        else:
            cpu = t["ns_per_op"]
        for k, want in (("run_name", name), ("repetitions", reps), ("threads", t["threads"]),
                        ("iterations", t["ops"]), ("real_time", t["ns_per_op"])):
            if b.get(k) != want:
                out.append(f"{name} repetition {t['repetition']}: {k} {b.get(k)!r}, expected {want!r}")
        if not close(b.get("cpu_time"), cpu):
            out.append(f"{name} repetition {t['repetition']}: cpu_time {b.get('cpu_time')}, expected {cpu}")
    naggs = 0
    for a in rep["aggregates"]:
        name = f"{a['workload']}/{a['variant']}/{a['allocator']}/threads:{a['threads']}"
        trials = [t for t in ok if t["variant"] == a["variant"] and t["allocator"] == a["allocator"]
                  and t["threads"] == a["threads"]]
        real = [t["ns_per_op"] for t in trials]
        mine = [i for i, b in enumerate(benches) if b.get("run_name") == name]
        if len(real) < 2:
            if any(benches[i].get("run_type") == "aggregate" for i in mine):
                out.append(f"{name}: aggregates of {len(real)} trial(s)")
            continue
        sd = statistics.stdev(real)
        want = {"mean": a["ns_per_op"]["mean"], "median": a["ns_per_op"]["median"], "stddev": sd,
                "cv": sd / statistics.fmean(real)}
        for agg, value in want.items():
            got = [b for b in benches if b.get("name") == f"{name}_{agg}"]
            naggs += 1
            if len(got) != 1:
                out.append(f"{name}_{agg}: {len(got)} benchmarks")
                continue
            b = got[0]
            unit = "percentage" if agg == "cv" else "time"
            for k, w in (("run_name", name), ("run_type", "aggregate"), ("aggregate_name", agg),
                         ("aggregate_unit", unit), ("iterations", len(real)), ("repetitions", reps)):
                if b.get(k) != w:
                    out.append(f"{name}_{agg}: {k} {b.get(k)!r}, expected {w!r}")
            if not close(b.get("real_time"), value, 1e-9):
                out.append(f"{name}_{agg}: real_time {b.get('real_time')}, expected {value}")
        # google-benchmark's order: a configuration's iterations, then its aggregates.
        kinds = [benches[i].get("run_type") for i in mine]
        if mine and kinds != sorted(kinds, key=lambda k: k == "aggregate") or mine != list(range(mine[0], mine[-1] + 1)):
            out.append(f"{name}: benchmarks out of google-benchmark's order: {kinds}")
    if len(benches) - len(its) != naggs:
        out.append(f"{len(benches) - len(its)} aggregate benchmarks, expected {naggs}")
    return out


def fastpath_problems(gb, rep):
    out = context_problems(gb, rep)
    benches = gb.get("benchmarks", [])
    rows = [r for r in rep["rows"] if r["status"] == "ok"]
    if len(benches) != len(rows):
        out.append(f"{len(benches)} benchmarks for {len(rows)} counted rows")
    for r in rows:
        name = f"fastpath/{r['op']}/{r['size']}/{r['pattern']}/{r['allocator']}"
        got = [b for b in benches if b.get("name") == name]
        if len(got) != 1:
            out.append(f"{name}: {len(got)} benchmarks")
            continue
        b, p50 = got[0], r["instructions"]["p50"]
        for k, want in (("run_type", "iteration"), ("iterations", r["calls"]), ("real_time", p50),
                        ("cpu_time", p50), ("time_unit", "ns"), ("instructions", p50),
                        ("instructions_mean", r["instructions"]["mean"]),
                        ("branches", r["branches"]["p50"]), ("conditional", r["conditional"]["p50"]),
                        ("slow_path_share", r["slow_path_share"])):
            if b.get(k) != want and not (want is None and k not in b):
                out.append(f"{name}: {k} {b.get(k)!r}, expected {want!r}")
    return out


def must_fire(problems_of, gb, rep, what, mutate):
    broken = copy.deepcopy(gb)
    mutate(broken)
    check(problems_of(broken, rep), f"the check missed a broken benchmark.json: {what}")


def mutate_aggregate(gb, agg, k, v):
    for b in gb["benchmarks"]:
        if b.get("aggregate_name") == agg:
            b[k] = v
            return


named = installed()
je = "jemalloc" in named
# A measured, an unavailable (bulk on glibc) and a crashed configuration;
# two repetitions: aggregates; the crashing allocator's trials are absent.
out = tmpdir()
subjects = ["glibc"] + (["jemalloc"] if je else []) + [fixture("libab-crash.so")]
p = run("run", "bulk-new", "--variant", "loop,bulk", "--allocator", ",".join(subjects),
        "--repetitions", "3", "--rounds", "10", "--param", "n=500", "--out", out,
        env={"AB_FIXTURE_AFTER": "2000"})
check(p.returncode == 1, f"run: exit {p.returncode}: {p.stderr}")
check(f"{out}/benchmark.json" in p.stdout, f"the reports footer does not name benchmark.json: {p.stdout[-300:]}")
rep = load_report(out)
gb = load_report(out, "benchmark.json")
check({t["status"] for t in rep["trials"]} >= {"ok", "unavailable", "crashed"},
      f"the run did not exercise every status: {sorted({t['status'] for t in rep['trials']})}")
for problem in run_problems(gb, rep):
    check(False, f"benchmark.json: {problem}")
check(not any("libab-crash" in b["name"] for b in gb["benchmarks"]), "a crashed trial has a benchmark")
check(len(gb["benchmarks"]) == (3 if je else 1) * (3 + 4),
      f"{len(gb['benchmarks'])} benchmarks")

must_fire(run_problems, gb, rep, "a real_time off by one", lambda g: g["benchmarks"][0].update(real_time=g["benchmarks"][0]["real_time"] + 1))
must_fire(run_problems, gb, rep, "an iteration missing", lambda g: g["benchmarks"].pop(1))
must_fire(run_problems, gb, rep, "aggregates named as their run", lambda g: [b.update(name=b["run_name"]) for b in g["benchmarks"]])
must_fire(run_problems, gb, rep, "cv as a time", lambda g: mutate_aggregate(g, "cv", "aggregate_unit", "time"))
must_fire(run_problems, gb, rep, "cv in percent, not a fraction", lambda g: mutate_aggregate(g, "cv", "real_time", 100))
must_fire(run_problems, gb, rep, "a stddev of 0", lambda g: mutate_aggregate(g, "stddev", "real_time", 0))
must_fire(run_problems, gb, rep, "no time_unit", lambda g: g["benchmarks"][0].pop("time_unit"))
must_fire(run_problems, gb, rep, "no host_name", lambda g: g["context"].pop("host_name"))
must_fire(run_problems, gb, rep, "another command line", lambda g: g["context"].update(allocbench_command_line="x"))
must_fire(run_problems, gb, rep, "aggregates first", lambda g: g["benchmarks"].insert(0, g["benchmarks"].pop(3)))

# cpu_time is the trial's rusage per op where the trial has one: a
# report.json whose trial says otherwise makes the check fire.
rep2 = copy.deepcopy(rep)
next(t for t in rep2["trials"] if t["status"] == "ok")["rusage"] = {"user_s": 1.0, "sys_s": 0.5}
check(any("cpu_time" in x for x in run_problems(gb, rep2)), "the cpu_time check does not read a trial's rusage")

# One repetition: no aggregates.
out1 = tmpdir()
p = run("run", "bulk-new", "--variant", "loop", "--repetitions", "1", "--rounds", "5",
        "--param", "n=256", "--out", out1)
check(p.returncode == 0, f"one repetition: exit {p.returncode}: {p.stderr}")
gb1, rep1 = load_report(out1, "benchmark.json"), load_report(out1)
for problem in run_problems(gb1, rep1):
    check(False, f"one repetition: {problem}")
check([b["run_type"] for b in gb1["benchmarks"]] == ["iteration"], f"one repetition: {gb1['benchmarks']}")

# --format gbench prints benchmark.json.
p = run("run", "bulk-new", "--variant", "loop", "--repetitions", "2", "--rounds", "5",
        "--param", "n=256", "--format", "gbench", "--out", out1)
check(p.returncode == 0 and p.stdout == open(f"{out1}/benchmark.json").read(),
      f"--format gbench does not print benchmark.json: exit {p.returncode} {p.stderr}")

# A fast-path count.
outf = tmpdir()
p = run("fastpath", "--allocator", "glibc", "--sizes", "16,64", "--calls", "40",
        "--repetitions", "1", "--out", outf)
if check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr}"):
    check(f"{outf}/benchmark.json" in p.stdout, "fastpath: the reports footer does not name benchmark.json")
    gbf, repf = load_report(outf, "benchmark.json"), load_report(outf)
    for problem in fastpath_problems(gbf, repf):
        check(False, f"fastpath benchmark.json: {problem}")
    check(len(gbf["benchmarks"]) == 4, f"fastpath: {len(gbf['benchmarks'])} benchmarks")
    must_fire(fastpath_problems, gbf, repf, "a count off by one",
              lambda g: g["benchmarks"][1].update(branches=g["benchmarks"][1]["branches"] + 1))
    must_fire(fastpath_problems, gbf, repf, "a row missing", lambda g: g["benchmarks"].pop())

# Stress writes none.
outs = tmpdir()
p = run("stress", "--profile", "hosted-small", "--case", "local-free", "--ops", "500", "--out", outs)
check(p.returncode == 0 and not os.path.exists(f"{outs}/benchmark.json"),
      f"stress: exit {p.returncode}, benchmark.json {os.path.exists(f'{outs}/benchmark.json')}")
done()
