"""The exhaustion and shutdown workloads: the exhaustion checks hold for
glibc, jemalloc, tcmalloc, mimalloc and the bump plugin (each check a metric,
1 held), and an allocator that aborts at exhaustion is reported failing
them; thread churn verifies its blocks (a block handed out twice is caught)
and reports what an allocator keeps per exited thread (a per-thread cache
that leaks at thread exit shows)."""
from abtest import *

names = installed()
subjects = [n for n in NAMED if n in names] + ["bump"]
CHECKS = ("impossible-sizes", "no-abort", "refusal", "enomem", "usable", "recovery")

out = tmpdir()
abort = fixture("libab-fix-abort.so")
p = run("run", "exhaustion", "--preset", "quick", "--allocator", ",".join(subjects + [abort]),
        "--repetitions", "1", "--threads", "1,2", "--out", out, timeout=600)
check(p.returncode == 1, f"exhaustion: exit {p.returncode}: {p.stderr[-400:]}")
r = load_report(out)
check(len(r["trials"]) == 2 * (len(subjects) + 1), f"exhaustion: {len(r['trials'])} trials")
for t in r["trials"]:
    where = f"exhaustion {t['allocator']} t={t['threads']}"
    m = {k: v["value"] for k, v in t["metrics"].items()}
    if t["allocator"] == "libab-fix-abort":
        check(t["status"] == "failed" and t["diagnostics"] == ["ALLOCATOR_EXHAUSTION"],
              f"{where}: {t['status']} {t['diagnostics']}")
        check(m.get("no-abort") == 0, f"{where}: no-abort {m.get('no-abort')}")
        continue
    check(t["status"] == "ok" and t["diagnostics"] == [], f"{where}: {t['status']} {t['diagnostics']} {t['reason']}")
    for k in CHECKS:
        check(m.get(k) == 1, f"{where}: check {k} = {m.get(k)}")
    check(m.get("page-limit") == (1 if t["allocator"] == "bump" else None), f"{where}: page-limit {m.get('page-limit')}")
    check(m.get("limit_bytes") == 32 << 20, f"{where}: limit {m.get('limit_bytes')}")
    check(t["ops"] > 0 and m.get("reached_4KiB", 0) > 0, f"{where}: ops {t['ops']} reached {m.get('reached_4KiB')}")
diags = [d for d in r["diagnostics"] if d["allocator"] == "libab-fix-abort"]
check(len(diags) == 2 and all("SIGABRT" in d["detail"] for d in diags), f"exhaustion: abort diagnostics {diags}")

out = tmpdir()
double, leak = fixture("libab-fix-double.so"), fixture("libab-fix-leak.so")
p = run("run", "shutdown", "--preset", "quick", "--allocator", f"glibc,{double},{leak}", "--threads", "2",
        "--repetitions", "1", "--warmup", "2", "--rounds", "8", "--out", out, env={"AB_FIXTURE_AFTER": "300"},
        timeout=600)
check(p.returncode == 1, f"shutdown: exit {p.returncode}: {p.stderr[-400:]}")
r = load_report(out)
t = {x["allocator"]: x for x in r["trials"]}
check(t["glibc"]["status"] == "ok" and t["glibc"]["diagnostics"] == [], f"shutdown glibc {t['glibc']['diagnostics']}")
check(t["glibc"]["ops"] == 2 * 256 * 8, f"shutdown glibc ops {t['glibc']['ops']}")
check(t["glibc"]["metrics"]["thread_exits"]["value"] == 16, "shutdown glibc exits")
check(t["libab-fix-double"]["diagnostics"] and set(t["libab-fix-double"]["diagnostics"]) == {"ALLOCBENCH_BLOCK_OVERLAP"},
      f"shutdown double: {t['libab-fix-double']['diagnostics']}")
kept = {a: t[a]["metrics"]["retained_per_thread"]["value"] for a in ("glibc", "libab-fix-leak")}
check(kept["glibc"] < 100 * 1024 < kept["libab-fix-leak"], f"shutdown: retained per exited thread {kept}")
done()
