"""The workload catalogue with the quick preset: every workload x the four named
allocators and the bump plugin, threads 1 and 2.  Records are present, counts
are the exact ones each workload's parameters imply, figures are positive or
in range, variants without their mechanism are unavailable with a reason and
null figures, the evidence files appear exactly when a workload has rows for
them, and the verifying workload catches the fixture allocators that hand out
a live block twice or scribble into one, and stays clean everywhere else."""
import math
import os

from abtest import *

names = installed()
for n in NAMED:
    check(n in names, f"named allocator {n} is not installed (scripts/setup installs it)")
SUBJECTS = [n for n in NAMED if n in names] + ["bump"]
ROUNDS = 2
THREADS = (1, 2)

CATALOGUE = ["tiny-box", "arena-scope", "cross-thread-free", "xmalloc", "fragmentation",
             "large-objects", "threadtest", "cache-thrash", "cache-scratch", "glibc-thread",
             "glibc-simple", "larson", "mstress", "rptest"]
REMOTE = {"cross-thread-free", "xmalloc", "cache-scratch", "larson", "mstress", "rptest"}
PAGES = {"fragmentation", "large-objects"}

listing = run("list", "workloads").stdout
for wl in CATALOGUE:
    check(f"\n{wl} — " in "\n" + listing, f"{wl}: not listed")
    check("figure of merit:" in listing.split(f"{wl} — ", 1)[-1].split("\n\n")[0],
          f"{wl}: no figure of merit in the listing")


def available(wl, variant, subject):
    """Where arena-scope's mechanisms exist; everything else runs everywhere."""
    if wl != "arena-scope":
        return True
    if variant == "malloc-free":
        return not subject.startswith("bump")   # its free releases nothing
    if variant in ("checkpoint", "checkpoint-nested", "slab-interior", "slab-boundary"):
        return subject.startswith("bump")
    return {"mi-heap": "mimalloc", "je-arena": "jemalloc"}[variant] == subject


def expected_ops(wl, threads):
    """Ops per trial that the quick preset fixes exactly (None: data-driven)."""
    producers = (threads + 1) // 2
    return {
        "tiny-box": 20000 * threads * ROUNDS,
        "cross-thread-free": producers * 32 * 64 * ROUNDS,
        # --threads N: N allocating threads, 4 batches of 256 blocks each.
        "xmalloc": threads * 4 * 256 * ROUNDS,
        "threadtest": (1000 // threads) * threads * ROUNDS,
        "cache-thrash": 100 * threads * ROUNDS,
        "cache-scratch": 100 * threads * ROUNDS,
        "glibc-thread": 10000 * threads * ROUNDS,
        # 3 sizes x 4 runs x 4 counts x 16000 blocks per thread.
        "glibc-simple": 48 * 16000 * threads * ROUNDS,
        "larson": 500 * 4 * threads * ROUNDS,
        # Thread tid: 1.5 * 100 * scale * (tid % 8 + 1) steps, scale 5.
        "mstress": sum(750 * (tid % 8 + 1) for tid in range(threads)) * ROUNDS,
        "large-objects": 8 * threads * ROUNDS,
    }.get(wl)


def metric(t, name):
    m = t["metrics"].get(name)
    return m["value"] if m else None


def check_trial(wl, t):
    where = f"{wl} {t['variant']} {t['allocator']} t={t['threads']} r={t['repetition']}"
    if not available(wl, t["variant"], t["allocator"]):
        check(t["status"] == "unavailable", f"{where}: status {t['status']}, expected unavailable")
        check(t["reason"], f"{where}: unavailable without a reason")
        for k in ("ops", "ns", "ns_per_op", "ops_per_s"):
            check(t[k] is None, f"{where}: {k}={t[k]} on an unavailable variant (must be null)")
        return
    if not check(t["status"] == "ok", f"{where}: status {t['status']} {t['reason']}"):
        return
    check(t["diagnostics"] == [], f"{where}: diagnostics {t['diagnostics']}")
    for k in ("ops", "ns", "ns_per_op", "ops_per_s", "peak_rss_kib"):
        check(isinstance(t[k], (int, float)) and t[k] > 0, f"{where}: {k}={t[k]}")
    ops = expected_ops(wl, t["threads"])
    if wl == "arena-scope":
        ops = (200 if t["variant"].startswith("slab") else 500) * t["threads"] * ROUNDS
    if ops is not None:
        check(t["ops"] == ops, f"{where}: ops {t['ops']}, expected {ops}")
    check(t["placement"] is None, f"{where}: placement {t['placement']} without --pin")
    m = lambda name: metric(t, name)
    if wl == "tiny-box":
        check(m("boxes_per_s_per_thread") > 0, f"{where}: boxes_per_s_per_thread {m('boxes_per_s_per_thread')}")
        check(isinstance(m("rss_growth_kib"), (int, float)), f"{where}: rss_growth_kib missing")
    if wl == "arena-scope":
        check(m("ns_per_allocation") > 0, f"{where}: ns_per_allocation {m('ns_per_allocation')}")
        if t["variant"] == "slab-boundary":
            check(m("boundary_found") == 1 and m("slab_opens_per_scope") == 1,
                  f"{where}: the slab buffer's boundary: found {m('boundary_found')}, "
                  f"opens per scope {m('slab_opens_per_scope')}")
        if t["variant"] == "slab-interior":
            check(m("slab_opens_per_scope") == 0, f"{where}: opens per scope {m('slab_opens_per_scope')}")
    if wl in REMOTE:
        rf = m("remote_frees")
        check(isinstance(rf, (int, float)) and rf >= 0, f"{where}: remote_frees {rf}")
        if wl in ("cross-thread-free", "xmalloc"):
            # xmalloc: a batch header per 256 blocks is freed remotely too.
            want = ops + ops // 256 if wl == "xmalloc" else ops
            check(rf == want, f"{where}: remote_frees {rf}, expected every block: {want}")
            check(m("ns_per_remote_free") > 0, f"{where}: ns_per_remote_free {m('ns_per_remote_free')}")
            check(m("producers") + m("consumers") >= 2, f"{where}: roles {m('producers')}+{m('consumers')}")
        elif wl == "cache-scratch":
            check(rf == (t["threads"] if t["threads"] > 1 else 0), f"{where}: remote_frees {rf}")
        elif wl == "rptest" and t["threads"] == 1:
            check(rf == 0, f"{where}: remote_frees {rf} with one thread")
        elif wl == "larson" or (wl == "mstress" and t["threads"] > 1):
            check(rf > 0, f"{where}: no remote frees (blocks must outlive their threads)")
        elif wl == "mstress":
            # One thread: thread 0 of every round is the main thread.
            check(rf == 0, f"{where}: remote_frees {rf} with one thread")
    if wl == "mstress":
        check(m("blocks_checked") > 0, f"{where}: blocks_checked {m('blocks_checked')}")
        check(m("blocks_verified") is None, f"{where}: blocks_verified {m('blocks_verified')} without verify=1")
    if wl == "rptest":
        check(m("ops_per_thread_s") > 0, f"{where}: ops_per_thread_s {m('ops_per_thread_s')}")
    if wl in ("cache-thrash", "cache-scratch"):
        # Where the allocator put the threads' objects: placement, not a verdict.
        n = m("threads_sharing_lines")
        check(n in range(0, t["threads"] + 1) and n != 1 and (t["threads"] > 1 or n == 0),
              f"{where}: threads_sharing_lines {n}")
    if wl == "fragmentation":
        phases = [s["phase"] for s in t["samples"]]
        per_round = ["start", "fill-0", "free-1", "refill-1", "free-2", "refill-2", "release"]
        want = [f"r{r}:{p}" for r in range(ROUNDS) for p in per_round]
        check(phases == want, f"{where}: phases {phases}")
        for s in t["samples"]:
            check(s["rss_bytes"] > 0, f"{where}: {s['phase']} rss {s['rss_bytes']}")
            if s["phase"].endswith(("fill-0", "refill-1", "refill-2")):
                check(s["live_bytes"] >= 4 << 20, f"{where}: {s['phase']} live {s['live_bytes']} below the 4 MiB target")
            if s["phase"].endswith(("start", "release")):
                check(s["live_bytes"] == 0, f"{where}: {s['phase']} live {s['live_bytes']}")
        check(m("peak_rss_over_live") > 0 and m("final_rss_over_live") > 0,
              f"{where}: ratios {m('peak_rss_over_live')} {m('final_rss_over_live')}")
    if wl == "large-objects":
        phases = [s["phase"] for s in t["samples"]]
        want = ["start", "live", "freed", "freed+1ms", "freed+10ms"]
        check(phases == want, f"{where}: phases {phases}")
        if phases == want:
            least = (64 if t["variant"] == "realloc-chain" else 256) << 10
            check(t["samples"][1]["live_bytes"] >= least * t["threads"], f"{where}: live {t['samples'][1]['live_bytes']}")
            check(t["samples"][2]["live_bytes"] == 0, f"{where}: freed live {t['samples'][2]['live_bytes']}")
        r = m("rss_returned_pct")
        check(r is None or -5 <= r <= 100.5, f"{where}: rss_returned_pct {r}")
        check(isinstance(m("rss_retained_kib"), (int, float)), f"{where}: rss_retained_kib missing")
    if wl not in PAGES:
        check(t["samples"] == [], f"{where}: samples from a workload without phases")


for wl in CATALOGUE:
    out = tmpdir()
    p = run("run", wl, "--preset", "quick", "--allocator", ",".join(SUBJECTS), "--repetitions", "2",
            "--rounds", str(ROUNDS), "--warmup", "1", "--threads", ",".join(map(str, THREADS)),
            "--out", out, "--format", "json", timeout=600)
    if not check(p.returncode == 0, f"{wl}: exit {p.returncode}: {p.stderr[-2000:]}"):
        continue
    r = load_report(out)
    check(r["run"]["figure_of_merit"], f"{wl}: no figure_of_merit in the report")
    check(r["run"]["pin"] is False, f"{wl}: pin {r['run']['pin']}")
    variants = r["run"]["variants"]
    expect = len(variants) * len(SUBJECTS) * len(THREADS) * 2
    check(len(r["trials"]) == expect, f"{wl}: {len(r['trials'])} trials, expected {expect}")
    for t in r["trials"]:
        check_trial(wl, t)
    for a in r["aggregates"]:
        where = f"{wl} aggregate {a['variant']} {a['allocator']} t={a['threads']}"
        if a["status"] == "unavailable":
            check(a["ns_per_op"]["median"] is None and a["metrics"] == {}, f"{where}: figures on unavailable")
        else:
            check(a["status"] == "ok" and a["ns_per_op"]["median"] > 0, f"{where}: {a['status']}")
            check(a["measured"] == 2, f"{where}: measured {a['measured']}")
    files = set(os.listdir(out))
    check(("allocator-remote-free-report.tsv" in files) == (wl in REMOTE),
          f"{wl}: remote-free report present: {'allocator-remote-free-report.tsv' in files}")
    check(("allocator-page-backend-report.tsv" in files) == (wl in PAGES),
          f"{wl}: page-backend report present: {'allocator-page-backend-report.tsv' in files}")
    if wl in REMOTE:
        header, rows = read_tsv(f"{out}/allocator-remote-free-report.tsv")
        check(header[:6] == ["workload", "allocator", "threads", "remote_frees", "ns_per_remote_free",
                             "pending_at_end"], f"{wl}: remote-free header {header}")
        measured = [a for a in r["aggregates"] if a["status"] == "ok"]
        check(len(rows) == len(measured), f"{wl}: {len(rows)} remote-free rows for {len(measured)} aggregates")
        for row in rows:
            agg = next(a for a in measured if a["allocator"] == row["allocator"] and str(a["threads"]) == row["threads"])
            check(float(row["remote_frees"]) == agg["metrics"]["remote_frees"]["median"],
                  f"{wl}: remote-free row {row} against the aggregate")
            check(row["pending_at_end"] == "", f"{wl}: pending_at_end {row['pending_at_end']!r} not reported by any of these allocators")
            if wl in ("cross-thread-free", "xmalloc"):
                check(float(row["ns_per_remote_free"]) > 0, f"{wl}: row {row}")
            else:
                check(row["ns_per_remote_free"] == "", f"{wl}: untimed remote frees given a time: {row}")
    if wl in PAGES:
        header, rows = read_tsv(f"{out}/allocator-page-backend-report.tsv")
        check(header[:7] == ["workload", "allocator", "phase", "live_bytes", "rss_bytes", "mapped_bytes",
                             "resident_bytes"], f"{wl}: page-backend header {header}")
        nsamples = sum(len(t["samples"]) for t in r["trials"])
        check(len(rows) == nsamples, f"{wl}: {len(rows)} page-backend rows for {nsamples} samples")
        for row in rows:
            check(int(row["rss_bytes"]) > 0, f"{wl}: row {row}")
            # mapped where the allocator reports it (glibc, jemalloc, tcmalloc,
            # mimalloc, the plugin), resident where it does: never invented.
            check(row["mapped_bytes"] != "", f"{wl}: {row['allocator']} mapped not reported: {row}")
            if row["allocator"] in ("glibc", "bump"):
                check(row["resident_bytes"] == "", f"{wl}: {row['allocator']} resident invented: {row}")

# The catalogue's parameters are checked against their ranges: one line, exit 2.
for wl, bad in (("fragmentation", "dist=cubic"), ("large-objects", "max_size=2G"),
                ("tiny-box", "window=0"), ("rptest", "mode=sometimes"), ("mstress", "verify=2"),
                ("glibc-simple", "iters=1599"), ("cache-thrash", "size=4097"),
                ("cache-scratch", "repetitions=0"), ("xmalloc", "batch=0"), ("larson", "min_size=1"),
                ("glibc-thread", "slots=0"), ("mstress", "scale=10001"),
                ("larson", "min_size=1000"), ("glibc-thread", "min_size=40000"),
                ("rptest", "min_size=20000")):
    out = tmpdir()
    p = run("run", wl, "--param", bad, "--out", out)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and "ALLOCBENCH_BAD_PARAM" in lines[0]
          and bad.split("=")[0] in lines[0], f"{wl} --param {bad}: exit {p.returncode}: {p.stderr!r}")
    check(not os.path.exists(f"{out}/report.json"), f"{wl} --param {bad}: a report was written")

# arena-scope on the fixed buffer: the same pitfall finds no boundary.
out = tmpdir()
p = run("run", "arena-scope", "--preset", "quick", "--allocator", "bump-fixed", "--variant",
        "malloc-free,checkpoint,slab-boundary", "--repetitions", "2", "--rounds", "2", "--out", out)
check(p.returncode == 0, f"arena-scope bump-fixed: exit {p.returncode}: {p.stderr}")
for t in load_report(out)["trials"]:
    if t["variant"] == "malloc-free":
        check(t["status"] == "unavailable" and "releases nothing" in t["reason"],
              f"bump-fixed malloc-free: {t['status']} {t['reason']}")
        continue
    check(t["status"] == "ok", f"bump-fixed {t['variant']}: {t['status']} {t['reason']}")
    if t["variant"] == "slab-boundary":
        check(metric(t, "boundary_found") == 0 and metric(t, "slab_opens_per_scope") == 0,
              f"bump-fixed: a fixed buffer has no slab boundary: {t['metrics']}")

# Verification: a live block handed out twice (the shadow of verify=1 sees
# it), a byte written into a live block (the word checks see it, with or
# without the shadow).
for fx, code, every, verify in (("libab-fix-double.so", "ALLOCBENCH_BLOCK_OVERLAP", "100", "1"),
                                ("libab-fix-scribble.so", "ALLOCBENCH_BLOCK_CORRUPTED", "200", "0"),
                                ("libab-fix-scribble.so", "ALLOCBENCH_BLOCK_CORRUPTED", "200", "1")):
    out = tmpdir()
    p = run("run", "mstress", "--preset", "quick", "--param", f"verify={verify}", "--allocator",
            f"glibc,{fixture(fx)}", "--repetitions", "2", "--rounds", "2", "--threads", "1,2",
            "--out", out, env={"AB_FIXTURE_AFTER": every})
    check(p.returncode == 1, f"{fx}: exit {p.returncode}, expected 1: {p.stderr[-1000:]}")
    r = load_report(out)
    stem = fx[:-3]
    bad = [t for t in r["trials"] if t["allocator"] == stem]
    check(len(bad) == 4, f"{fx}: {len(bad)} trials")
    for t in bad:
        check(t["status"] == "failed" and t["diagnostics"] and set(t["diagnostics"]) == {code},
              f"{fx}: t={t['threads']} status {t['status']} diagnostics {t['diagnostics']}")
    for t in r["trials"]:
        if t["allocator"] == "glibc":
            check(t["status"] == "ok" and t["diagnostics"] == [], f"{fx}: glibc beside it: {t['status']} {t['diagnostics']}")
    header, rows = read_tsv(f"{out}/allocator-diagnostics-report.tsv")
    check(rows and all(x["code"] == code and x["allocator"] == stem for x in rows), f"{fx}: diagnostics rows {rows[:3]}")
    check(f"{code} {stem} mstress:phases" in p.stdout, f"{fx}: console lacks the diagnostic")
    # The same fixture below its trigger is a sound allocator: clean.
    out = tmpdir()
    p = run("run", "mstress", "--preset", "quick", "--param", f"verify={verify}", "--allocator", fixture(fx),
            "--repetitions", "1", "--rounds", "2", "--threads", "1,2", "--out", out,
            env={"AB_FIXTURE_AFTER": "1000000000"})
    check(p.returncode == 0, f"{fx} below its trigger: exit {p.returncode}: {p.stderr[-500:]}")
    check(all(t["status"] == "ok" and t["diagnostics"] == [] for t in load_report(out)["trials"]),
          f"{fx} below its trigger: not clean")

# rptest's pauses, the original's sleeps around its passes, are slept and not
# measured.  The quick preset's life does a few milliseconds of work; with
# pause_ms=100 each measured life sleeps 4 x 100 ms and 10 ms, so two lives
# sleep 0.82 s, of which the measured time may hold none: it stays under one
# life's pauses (0.41 s), and the trial's elapsed time holds them all.
out = tmpdir()
p = run("run", "rptest", "--preset", "quick", "--param", "pause_ms=100", "--threads", "2",
        "--warmup", "0", "--rounds", "2", "--repetitions", "1", "--out", out, "--format", "json")
check(p.returncode == 0, f"rptest pause_ms=100: exit {p.returncode}: {p.stderr[-500:]}")
if p.returncode == 0:
    t = load_report(out)["trials"][0]
    check(t["params"]["pause_ms"] == 100, f"rptest pause_ms: {t['params']}")
    check(t["elapsed_s"] >= 0.82, f"rptest pause_ms=100: elapsed {t['elapsed_s']} s, the pauses not slept")
    check(0 < t["ns"] < 0.41e9, f"rptest pause_ms=100: measured {t['ns']} ns holds the pauses")
    check(abs(t["ops_per_s"] - t["ops"] / (t["ns"] / 1e9)) < 1e-6 * t["ops_per_s"],
          f"rptest pause_ms=100: ops_per_s {t['ops_per_s']} is not ops over the measured time")

done()
