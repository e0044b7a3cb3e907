"""Every stress diagnostic has a fixture allocator that makes it fire: each
negative fixture fires exactly its code, in exactly the case it belongs to,
and every other case of the profile passes; the positive fixture (sound
hooks) fires nothing under hosted-small or hosted-server.  A crashing or
hanging allocator is a case of its own (crashed, timed out), the other
cases and allocators of the run go on."""
from abtest import *

OVERLAP, CORRUPTED, CONTRACT = ("ALLOCBENCH_BLOCK_OVERLAP", "ALLOCBENCH_BLOCK_CORRUPTED",
                                "ALLOCBENCH_BLOCK_CONTRACT")
# fixture file -> the (code, case) pairs it must fire, exactly.
SMALL = {
    "ab-fix-hugepage.so": {("ALLOCATOR_HUGEPAGE_POLICY", "large-objects")},
    "ab-fix-remote.so": {("ALLOCATOR_REMOTE_FREE_OVERFLOW", "remote-free")},
    "ab-fix-pages.so": {("ALLOCATOR_PAGE_EXHAUSTION", "exhaustion")},
    "ab-fix-fini.so": {("ALLOCATOR_SHUTDOWN_LEAK", "shutdown-cleanup")},
    "libab-fix-leak.so": {("ALLOCATOR_SHUTDOWN_LEAK", "shutdown-cleanup")},
    "libab-fix-abort.so": {("ALLOCATOR_EXHAUSTION", "exhaustion")},
    "libab-fix-late.so": {("ALLOCATOR_EXHAUSTION", "exhaustion")},
    "libab-fix-misalign.so": {(CONTRACT, "local-free"), (CONTRACT, "large-objects")},
    "ab-fix-hooks.so": set(),
}
# Faults that show wherever blocks live: exactly their code, in local-free
# among others.
EVERYWHERE = {"libab-fix-double.so": OVERLAP, "libab-fix-scribble.so": CORRUPTED}


def stem(f):
    return f[:-3]


def name_of(f):
    return f[3:-3] if f.startswith("ab-fix") else stem(f)


def run_profile(profile, fixtures, env=None, ops="1000"):
    out = tmpdir()
    p = run("stress", "--profile", profile, "--ops", ops, "--timeout", "120", "--out", out,
            "--allocator", ",".join(fixture(f) for f in fixtures), env=env, timeout=900)
    r = load_report(out)
    check(len(r["cases"]) == 7 * len(fixtures), f"{profile}: {len(r['cases'])} case records")
    return p, r, out


files = list(SMALL) + list(EVERYWHERE)
p, r, out = run_profile("hosted-small", files, env={"AB_FIXTURE_AFTER": "97"})
check(p.returncode == 1, f"hosted-small fixtures: exit {p.returncode}: {p.stderr[-500:]}")
for f in files:
    a = name_of(f)
    got = {(d["code"], d["case"]) for d in r["diagnostics"] if d["allocator"] == a}
    cases = [c for c in r["cases"] if c["allocator"] == a]
    if f in SMALL:
        check(got == SMALL[f], f"{f}: fired {sorted(got)}, expected {sorted(SMALL[f])}")
        failing = {case for _, case in SMALL[f]}
    else:
        check({code for code, _ in got} == {EVERYWHERE[f]}, f"{f}: fired {sorted(got)}")
        check((EVERYWHERE[f], "local-free") in got, f"{f}: not in local-free: {sorted(got)}")
        failing = {case for _, case in got}
    for c in cases:
        want = "fail" if c["case"] in failing else "pass"
        check(c["verdict"] == want, f"{f} {c['case']}: verdict {c['verdict']} {c['reason']}")
    for d in r["diagnostics"]:
        if d["allocator"] == a:
            check(d["detail"] and d["profile"] == "hosted-small", f"{f}: diagnostic {d}")

# What each one says, in the words a maintainer needs.
by = {(d["allocator"], d["code"]): d["detail"] for d in r["diagnostics"]}
check("past its bound 64" in by.get(("fix-remote", "ALLOCATOR_REMOTE_FREE_OVERFLOW"), ""), f"remote detail {by}")
check("forbids hugepages" in by.get(("fix-hugepage", "ALLOCATOR_HUGEPAGE_POLICY"), ""), "hugepage detail")
check("SIGABRT" in by.get(("libab-fix-abort", "ALLOCATOR_EXHAUSTION"), ""), "abort detail")
check("after fini" in by.get(("fix-fini", "ALLOCATOR_SHUTDOWN_LEAK"), ""), "fini detail")
check("page limit 33554432" in by.get(("fix-pages", "ALLOCATOR_PAGE_EXHAUSTION"), ""), "pages detail")
check("in a thread's first malloc at the limit" in by.get(("libab-fix-late", "ALLOCATOR_EXHAUSTION"), ""),
      "late detail")
# The page limit fails where the allocator does not fail closed under it: a
# backend that maps past it, and one held by RLIMIT_AS that aborts or dies
# in a late thread's first malloc.
ex = {c["allocator"]: {k["name"]: k["verdict"] for k in c["checks"]} for c in r["cases"]
      if c["case"] == "exhaustion"}
for a in ("fix-pages", "libab-fix-abort", "libab-fix-late"):
    check(ex[a].get("page-limit") == "failed", f"{a}: page-limit {ex[a]}")
check(ex["libab-fix-late"]["late-thread"] == "failed", f"late: {ex['libab-fix-late']}")
check(ex["libab-fix-double"]["late-thread"] == "held", f"double: {ex['libab-fix-double']}")
# The sound plugin exposes its queue: the remote-free checks hold, not "not applicable".
hooks = {c["case"]: {k["name"]: k["verdict"] for k in c["checks"]} for c in r["cases"]
         if c["allocator"] == "fix-hooks"}
check(hooks["remote-free"] == {**hooks["remote-free"], "queue-bound": "held", "drained": "held",
                               "accepted": "held"}, f"hooks remote-free checks {hooks['remote-free']}")
check(hooks["exhaustion"]["page-limit"] == "held", f"hooks page-limit {hooks['exhaustion']}")
check(hooks["large-objects"]["hugepages"] == "held", f"hooks hugepages {hooks['large-objects']}")
_, rows = read_tsv(f"{out}/allocator-diagnostics-report.tsv")
check(len(rows) == len(r["diagnostics"]), "diagnostics TSV rows")

# hosted-server: the hooks are opt-in.  The sound plugin applies them as
# configured, and so do the two that apply them unasked; the inert one
# accepts them and applies neither.
thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
p, r, _ = run_profile("hosted-server", ["ab-fix-hooks.so", "ab-fix-hugepage.so", "ab-fix-inert.so"])
got = {(d["allocator"], d["code"], d["case"]) for d in r["diagnostics"]}
want = {("fix-inert", "ALLOCATOR_HUGEPAGE_POLICY", "large-objects"),
        ("fix-inert", "ALLOCATOR_NUMA_POLICY", "large-objects")}
if "[never]" in thp:
    want.discard(("fix-inert", "ALLOCATOR_HUGEPAGE_POLICY", "large-objects"))
check(got == want, f"hosted-server: fired {sorted(got)}, expected {sorted(want)}")
check(p.returncode == 1, f"hosted-server: exit {p.returncode}")
for c in r["cases"]:
    if c["allocator"] == "fix-hooks" and c["case"] == "large-objects":
        v = {k["name"]: k["verdict"] for k in c["checks"]}
        check(v["hugepages"] == ("skipped" if "[never]" in thp else "held"), f"hooks hugepages {v}")
        check(v["numa"] == "held", f"hooks numa {v}")
        check(v["numa-placement"] == "held", f"hooks placement {v}")

# A 4 KiB-per-thread leaker is caught on hosted-small and hosted-server by
# the slope, with the bytes it keeps per thread exit in the diagnostic.
for profile in ("hosted-small", "hosted-server"):
    out = tmpdir()
    p = run("stress", "--profile", profile, "--case", "shutdown-cleanup", "--out", out,
            "--allocator", fixture("libab-fix-leak4k.so"))
    r = load_report(out)
    c = r["cases"][0]
    slope = c["figures"].get("retained_per_exit", {}).get("value")
    got = [(d["code"], d["detail"]) for d in r["diagnostics"]]
    check(p.returncode == 1 and len(got) == 1 and got[0][0] == "ALLOCATOR_SHUTDOWN_LEAK",
          f"leak4k {profile}: {p.returncode} {got}")
    check(slope is not None and slope >= 4096 and got and f"keeps {slope:.0f} bytes per thread exit" in got[0][1],
          f"leak4k {profile}: slope {slope}, {got}")
    check(c["figures"]["thread_exits"]["value"] == 2500, f"leak4k {profile}: {c['figures']}")

# A crash and a hang: their cases are reported crashed and timed out, the
# other allocator in the run is untouched.  A crash in the exhaustion case
# before the limit is reached is a crash, not an exhaustion finding.
out = tmpdir()
p = run("stress", "--profile", "hosted-small", "--ops", "1000", "--case", "local-free,exhaustion",
        "--out", out, "--allocator", f"{fixture('libab-crash.so')},glibc",
        env={"AB_FIXTURE_AFTER": "1500"}, timeout=300)
r = load_report(out)
check(p.returncode == 1, f"crash: exit {p.returncode}")
got = {(d["allocator"], d["case"], d["code"]) for d in r["diagnostics"]}
check(got == {("libab-crash", "local-free", "ALLOCBENCH_TRIAL_CRASHED"),
              ("libab-crash", "exhaustion", "ALLOCBENCH_TRIAL_CRASHED")}, f"crash: {sorted(got)}")
for c in r["cases"]:
    if c["allocator"] == "glibc":
        check(c["verdict"] == "pass", f"crash: glibc {c['case']} {c['verdict']}")
    else:
        check(c["verdict"] == "fail", f"crash: {c['case']} {c['verdict']}")
lf = [c for c in r["cases"] if c["allocator"] == "libab-crash" and c["case"] == "local-free"][0]
check(lf["operations"] is None and "SIGSEGV" in lf["reason"], f"crash: local-free {lf['operations']} {lf['reason']}")
check(any("before exhaustion" in d["detail"] for d in r["diagnostics"] if d["case"] == "exhaustion"),
      f"crash in exhaustion not told apart from an abort at the limit: {r['diagnostics']}")

out = tmpdir()
p = run("stress", "--profile", "hosted-small", "--ops", "1000", "--case", "local-free,fragmentation",
        "--timeout", "2", "--out", out, "--allocator", f"{fixture('libab-hang.so')},glibc",
        env={"AB_FIXTURE_AFTER": "1500"}, timeout=300)
r = load_report(out)
check(p.returncode == 1, f"hang: exit {p.returncode}")
got = {(d["allocator"], d["case"], d["code"], d["detail"]) for d in r["diagnostics"]}
check(got == {("libab-hang", "local-free", "ALLOCBENCH_TRIAL_TIMEOUT", "timeout=2.0s"),
              ("libab-hang", "fragmentation", "ALLOCBENCH_TRIAL_TIMEOUT", "timeout=2.0s")},
      f"hang: {sorted(got)}")
check(all(c["verdict"] == "pass" for c in r["cases"] if c["allocator"] == "glibc"), "hang: glibc cases")
done()
