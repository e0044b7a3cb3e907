"""The two exact backends agree: ptrace (native, single-stepped) and callgrind
(simulated) give the same fast-path counts (p50 over the calls) of
instructions and conditional branches for the named allocators and the bump
plugin, sizes 16, 32, 64, 256 and 1024, malloc and free.

Where callgrind counts otherwise than the hardware, by design: a locked
read-modify-write (the bump plugin's statistics counter) is one more
conditional branch there (valgrind retries it as a compare-and-swap).  The
fast path of such a row has min == max, so ptrace's locked_per_call is its
exact per-call count and is added; elsewhere the fast path must have none."""
from abtest import *

# meson sets MALLOC_PERTURB_, which makes glibc's free call memset, and
# memset dispatches on CPU features that valgrind does not pass on: another
# variant runs under callgrind.  Without it free has no such call.
os.environ.pop("MALLOC_PERTURB_", None)

counters = run("list", "counters").stdout
for c in ("ptrace", "callgrind"):
    if not any(l.split()[:2] == [c, "yes"] for l in counters.splitlines()):
        skip(f"the {c} counter is not usable here (valgrind and capstone come from scripts/setup)")

names = [a for a in ("glibc", "jemalloc", "tcmalloc", "mimalloc", "bump") if a in installed()]
if len(names) < 5:
    print(f"note: only {names} installed")
reports = {}
for counter in ("ptrace", "callgrind"):
    out = tmpdir()
    p = run("fastpath", "--allocator", ",".join(names), "--sizes", "16,32,64,256,1024",
            "--calls", "32", "--repetitions", "1", "--counter", counter, "--out", out)
    check(p.returncode == 0, f"{counter}: exit {p.returncode}: {p.stderr}")
    reports[counter] = {(r["allocator"], r["op"], r["size"]): r for r in load_report(out)["rows"]}

compared = 0
for key, pt in reports["ptrace"].items():
    cg = reports["callgrind"].get(key)
    if not check(cg is not None and pt["status"] == "ok" and cg["status"] == "ok",
                 f"{key}: not measured by both"):
        continue
    uniform = pt["instructions"]["min"] == pt["instructions"]["max"]
    locked = pt["locked_per_call"] if uniform else 0
    check(locked == int(locked), f"{key}: {locked} locked instructions per fast call")
    want = (pt["instructions"]["p50"], pt["conditional"]["p50"] + int(locked))
    got = (cg["instructions"]["p50"], cg["conditional"]["p50"])
    check(got == want, f"{key}: callgrind {got}, ptrace {want} (instructions, conditional)")
    compared += 1
check(compared == len(names) * 10, f"{compared} rows compared")
print(f"{compared} rows agree")
done()
