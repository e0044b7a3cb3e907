"""The trial child is lean: what it maps before the allocator's first call
is within 1 MiB of a bare C program's (tests/fixtures/bare-rss.c), and the
report says it (context.trial_child_rss_kib) and subtracts it from peak RSS
(peak_rss_over_baseline_kib, per trial and per aggregate).

The check can fire: a bare program 2 MiB fatter (bare-rss-fat) is over the
same bound.  RSS figures are counts of pages, not times."""
import statistics
import subprocess

from abtest import *

BOUND_KIB = 1024
BARE, FAT = fixture("bare-rss"), fixture("bare-rss-fat")


def rss(prog):
    """The median of five runs' RSS, KiB."""
    return statistics.median(int(subprocess.run([prog], capture_output=True, text=True,
                                                check=True).stdout) for _ in range(5))


def lean(kib, floor):
    return kib - floor <= BOUND_KIB


bare, fat = rss(BARE), rss(FAT)
check(bare > 0, f"the bare program read no RSS ({bare})")
check(not lean(fat, bare), f"a program 2 MiB fatter passes as lean: {fat} KiB against {bare} KiB")

allocs = ["glibc"] + [a for a in installed() if a != "glibc"]
out = tmpdir()
p = run("run", "bulk-new", "--variant", "loop", "--preset", "quick", "--allocator", ",".join(allocs), "--repetitions",
        "2", "--warmup", "0", "--rounds", "1", "--out", out, "--format", "json")
check(p.returncode == 0, f"run: exit {p.returncode}: {p.stderr[-800:]}")
r = load_report(out)
base = r["context"]["trial_child_rss_kib"]
print(f"bare program {bare} KiB, 2 MiB fatter {fat} KiB, trial child {base} KiB")
if check(isinstance(base, int) and base > 0, f"context.trial_child_rss_kib is {base!r}"):
    check(base >= bare - 64, f"the trial child's baseline {base} KiB is under a bare program's {bare}")
    check(lean(base, bare), f"the trial child's baseline {base} KiB is over a bare program's "
          f"{bare} KiB by more than {BOUND_KIB} KiB")
    for t in r["trials"]:
        where = f"{t['allocator']} repetition {t['repetition']}"
        if not check(t["status"] == "ok", f"{where}: {t['status']} {t['reason']}"):
            continue
        check(t["peak_rss_over_baseline_kib"] == t["peak_rss_kib"] - base,
              f"{where}: peak_rss_over_baseline_kib {t['peak_rss_over_baseline_kib']} is not "
              f"{t['peak_rss_kib']} - {base}")
        if t["allocator"] == "glibc":
            # glibc is the C library's own allocator: nothing more is mapped
            # before the workload than in the baseline child.
            check(lean(t["rss_start_kib"], bare), f"{where}: the trial started at "
                  f"{t['rss_start_kib']} KiB, a bare program at {bare} KiB")
    for a in r["aggregates"]:
        check(a["peak_rss_over_baseline_kib"] == a["peak_rss_kib"] - base,
              f"aggregate {a['allocator']}: peak_rss_over_baseline_kib "
              f"{a['peak_rss_over_baseline_kib']} is not {a['peak_rss_kib']} - {base}")
done()
