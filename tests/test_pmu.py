"""The pmu backend on a machine with hardware counters: the hand-counted
fixtures (tests/fixtures/fp-exact.S) must come out exact once the harness,
calibrated with an empty function, is subtracted.  Machines without a PMU
(VMs such as the CI machines) skip this test; what they must do instead
(`--counter pmu` ends with one line and exit 3) is asserted in
test_fastpath.py."""
from abtest import *

counters = run("list", "counters").stdout
if not any(l.split()[:2] == ["pmu", "yes"] for l in counters.splitlines()):
    skip("no hardware performance counters here (see: allocbench list counters)")

out = tmpdir()
p = run("fastpath", "--allocator", fixture("libab-fp-exact.so"), "--sizes", "16,64",
        "--calls", "200", "--repetitions", "2", "--counter", "pmu", "--out", out)
check(p.returncode == 0, f"exit {p.returncode}: {p.stderr}")
for r in load_report(out)["rows"]:
    want = {"malloc": (16, 5), "free": (5, 3)}[r["op"]]
    got = (r["instructions"]["p50"], r["branches"]["p50"])
    check(got == want, f"{r['op']} {r['size']}: {got}, expected {want}")
    check(r["conditional"]["p50"] is None, f"{r['op']}: conditional should be null with pmu")

# Both patterns on the bounded-cache fixture (tests/fixtures/fp-cache.S):
# the hit and the push in pairs, the refill in batch, and the shares.
out = tmpdir()
p = run("fastpath", "--allocator", fixture("libab-fp-cache.so"), "--sizes", "64",
        "--pattern", "pairs,batch", "--calls", "1000", "--repetitions", "1", "--counter", "pmu",
        "--warmup", "10", "--keep-live", "0", "--out", out)
check(p.returncode == 0, f"cache fixture: exit {p.returncode}: {p.stderr}")
want = {("malloc", "pairs"): (15, 3, 0.0), ("free", "pairs"): (19, 4, 0.0),
        ("malloc", "batch"): (85, 34, 0.999), ("free", "batch"): (19, 4, 0.25)}
for r in load_report(out)["rows"]:
    got = (r["instructions"]["p50"], r["branches"]["p50"], r["slow_path_share"])
    check(got == want[(r["op"], r["pattern"])], f"cache {r['op']} {r['pattern']}: {got}")
done()
