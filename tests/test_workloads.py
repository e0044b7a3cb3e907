"""Every workload x every installed named allocator x the bump plugin, with
the quick preset: the records exist, each names the subject asked for (path
and version, malloc really served by it), figures are positive where measured
and null where the variant is not available (never 0)."""
import os

from abtest import *

names = installed()
for n in NAMED:
    check(n in names, f"named allocator {n} is not installed (scripts/setup installs it)")
subjects = [n for n in NAMED if n in names] + ["bump"]
listing = run("list", "workloads").stdout
workloads = [l.split(" — ")[0] for l in listing.splitlines() if " — " in l and not l.startswith(" ")]
check({"bulk-new", "param-batch"} <= set(workloads), f"workloads listed: {workloads}")
# The catalogue's workloads have their own availability rules and tests
# (test_catalogue.py); these two are checked here.
workloads = [w for w in workloads if w in ("bulk-new", "param-batch")]

# Expected availability: the bulk variants need a bulk API (jemalloc, the plugin).
has_bulk = {"jemalloc", "bump"}

for wl in workloads:
    out = tmpdir()
    p = run("run", wl, "--preset", "quick", "--allocator", ",".join(subjects), "--repetitions", "2",
            "--rounds", "2", "--warmup", "1", "--threads", "1,2", "--out", out, "--format", "json")
    check(p.returncode == 0, f"{wl}: exit {p.returncode}: {p.stderr[-2000:]}")
    if p.returncode not in (0, 1):
        continue
    r = load_report(out)
    check(r["schema_version"] == 1, f"{wl}: schema_version {r['schema_version']}")
    ctx = r["context"]
    by_name = {s["name"]: s for s in ctx["subjects"]}
    for s in subjects:
        subj = by_name.get(s)
        if not check(subj is not None, f"{wl}: subject {s} missing from the context"):
            continue
        check(subj["version"], f"{wl}: {s} has no version")
        check(os.path.isfile(subj["path"]), f"{wl}: {s} path {subj['path']} is not a file")
        if s != "bump":
            check(subj["malloc_from"] == subj["path"], f"{wl}: {s} malloc from {subj['malloc_from']}, not {subj['path']}")
        check(subj["error"] is None, f"{wl}: {s} error {subj['error']}")
    check(by_name.get("glibc", {}).get("kind") == "system", f"{wl}: glibc kind")
    check(by_name.get("jemalloc", {}).get("kind") == "preload", f"{wl}: jemalloc kind")
    check(by_name.get("bump", {}).get("kind") == "plugin", f"{wl}: bump kind")
    check(by_name.get("jemalloc", {}).get("version", "").startswith("5."), f"{wl}: jemalloc version")
    check(by_name.get("mimalloc", {}).get("version", "").startswith("2."), f"{wl}: mimalloc version")
    check("gperftools" in (by_name.get("tcmalloc", {}).get("version") or ""), f"{wl}: tcmalloc version")

    variants = r["run"]["variants"]
    expect = len(variants) * len(subjects) * 2 * 2
    check(len(r["trials"]) == expect, f"{wl}: {len(r['trials'])} trials, expected {expect}")
    for t in r["trials"]:
        where = f"{wl} {t['variant']} {t['allocator']} t={t['threads']}"
        if t["variant"].startswith("bulk") and t["allocator"] not in has_bulk:
            check(t["status"] == "unavailable", f"{where}: status {t['status']}, expected unavailable")
            for k in ("ops", "ns", "ns_per_op", "ops_per_s"):
                check(t[k] is None, f"{where}: {k}={t[k]} on an unavailable variant (must be null)")
            check(t["reason"], f"{where}: unavailable without a reason")
            continue
        if not check(t["status"] == "ok", f"{where}: status {t['status']} {t['reason']}"):
            continue
        for k in ("ops", "ns", "ns_per_op", "ops_per_s", "peak_rss_kib", "rss_before_kib"):
            check(isinstance(t[k], (int, float)) and t[k] > 0, f"{where}: {k}={t[k]}")
        check(t["diagnostics"] == [], f"{where}: diagnostics {t['diagnostics']}")
    for a in r["aggregates"]:
        where = f"{wl} aggregate {a['variant']} {a['allocator']} t={a['threads']}"
        if a["status"] == "unavailable":
            check(a["ns_per_op"]["median"] is None and a["peak_rss_kib"] is None, f"{where}: figures on unavailable")
        else:
            check(a["status"] == "ok" and a["ns_per_op"]["median"] > 0, f"{where}: {a['status']}")
            check(a["ns_per_op"]["min"] <= a["ns_per_op"]["median"] <= a["ns_per_op"]["max"], f"{where}: min/median/max out of order")
    header, rows = read_tsv(f"{out}/allocator-fast-path-benchmarks.tsv")
    check(len(rows) == len(r["aggregates"]), f"{wl}: {len(rows)} TSV rows for {len(r['aggregates'])} aggregates")
    for row in rows:
        if row["status"] == "unavailable":
            check(row["ns_per_op_median"] == "" and row["peak_rss_kib"] == "", f"{wl}: TSV unavailable row has figures: {row}")
        else:
            check(float(row["ns_per_op_median"]) > 0, f"{wl}: TSV row {row}")
done()
