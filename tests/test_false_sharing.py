"""cache-thrash and cache-scratch reach the false sharing they exist to show,
as counts of where the allocator put the objects (metric
threads_sharing_lines: threads whose last object shares a 64-byte line with
another thread's), never as times.

With two threads, tcmalloc (whose thread caches start by fetching one object
at a time from a shared list) hands the threads neighbouring 1-byte objects
in cache-thrash (active false sharing) and gives each thread back the object
the main thread made beside the other's in cache-scratch (passive): both
threads share a line.  glibc (an arena per thread) keeps them apart in
cache-thrash.  This holds only if nothing but the workload has called the
allocator before: the harness allocating in the allocator's 8-byte class
(the child's request once did, through __libc_malloc) moves the first object
within its line, and the count falls to 0."""
from abtest import *

have = installed()
if "tcmalloc" not in have:
    skip("tcmalloc (gperftools) is not installed")


def sharing(wl, alloc):
    out = tmpdir()
    p = run("run", wl, "--preset", "quick", "--allocator", alloc, "--threads", "2",
            "--repetitions", "3", "--warmup", "0", "--rounds", "1", "--out", out,
            "--format", "json")
    if not check(p.returncode == 0, f"{wl} on {alloc}: exit {p.returncode}: {p.stderr[-800:]}"):
        return []
    return [t["metrics"]["threads_sharing_lines"]["value"] for t in load_report(out)["trials"]]


for wl, alloc, want in (("cache-thrash", "tcmalloc", 2), ("cache-scratch", "tcmalloc", 2),
                        ("cache-thrash", "glibc", 0)):
    got = sharing(wl, alloc)
    check(got == [want] * 3, f"{wl} on {alloc}: threads sharing a line {got}, not {want} each")
done()
