"""Every workload reaches the allocator: each runs on the counting fixture
(libab-counting.so, which counts the calls per entry point and writes them at
exit), twice, with --rounds 1 and 3; what the process and the harness call
once cancels in the difference, and the difference over the difference in ops
must be the calls per op the workload's definition implies -- exactly where
the definition fixes it, within bounds where it is random.  A workload a
compiler could optimise into not allocating fails here: libab-counting-miss.so,
which leaves 1-byte mallocs uncounted as an elided allocation would be, makes
cache-thrash's check fire.

free_nn is free minus free(NULL).  Thread starts and exits make calls of
their own (a DTV calloc for a thread on a fresh stack, free(NULL)s at thread
exit): the bounds say where they can appear."""
import json
import os
from concurrent.futures import ThreadPoolExecutor

from abtest import *

COUNTING = fixture("libab-counting.so")
if not os.path.exists(COUNTING):
    skip(f"{COUNTING} is not built")
THREADS = 2
ROUNDS = (1, 3)
ALLOCS = ("malloc", "calloc", "realloc", "memalign", "aligned_alloc", "posix_memalign", "valloc",
          "pvalloc")

listing = run("list", "workloads").stdout
WORKLOADS = [l.split(" — ")[0] for l in listing.splitlines() if " — " in l and not l.startswith(" ")]


def counted(wl, rounds, fixture=COUNTING):
    """Run wl on the fixture; {variant: (calls summed over its trial lines, ops)}."""
    out = tmpdir()
    counts = os.path.join(out, "counts.txt")
    p = run("run", wl, "--preset", "quick", "--allocator", fixture, "--threads", str(THREADS),
            "--repetitions", "1", "--warmup", "0", "--rounds", str(rounds), "--out", out,
            "--format", "json", env={"AB_COUNT_OUT": counts}, timeout=300)
    if not check(p.returncode == 0, f"{wl} --rounds {rounds}: exit {p.returncode}: {p.stderr[-1500:]}"):
        return {}
    report = load_report(out)
    variants = report["run"]["variants"]
    calls = {v: {} for v in variants}
    with open(counts) as f:
        for line in f:
            pid, rest = line.split(" ", 1)
            fields, _, req = rest.rpartition(" {")
            req = json.loads("{" + req) if req else {}
            if req.get("mode") != "trial":
                continue
            c = calls[variants[req["variant"]]]
            for kv in fields.split():
                k, v = kv.split("=")
                c[k] = c.get(k, 0) + int(v)
    result = {}
    for t in report["trials"]:
        if t["status"] == "unavailable":
            continue
        if not check(t["status"] == "ok", f"{wl} {t['variant']}: {t['status']} {t['reason']}"):
            continue
        c = calls[t["variant"]]
        if not check(c, f"{wl} {t['variant']}: no counts from the trial child"):
            continue
        c["free_nn"] = c["free"] - c["free_null"]
        c["allocs"] = sum(c[k] for k in ALLOCS)
        result[t["variant"]] = (c, t["ops"], t["metrics"])
    return result


def per_op(wl, fixture=COUNTING):
    a, b = counted(wl, ROUNDS[0], fixture), counted(wl, ROUNDS[1], fixture)
    out = {}
    for v in a.keys() & b.keys():
        ca, opsa, _ = a[v]
        cb, opsb, metrics = b[v]
        d = {k: cb[k] - ca[k] for k in cb}
        out[v] = (d, opsb - opsa, metrics)
    return out


with ThreadPoolExecutor(max_workers=2) as pool:
    deltas = dict(zip(WORKLOADS, pool.map(per_op, WORKLOADS)))

DROUNDS = ROUNDS[1] - ROUNDS[0]
DLIVES = DROUNDS * THREADS   # thread lives that larson, rptest add


def exact(where, d, **want):
    for k, v in want.items():
        check(d[k] == v, f"{where}: {k} {d[k]}, expected exactly {v}")


# The check fires: on a fixture that misses cache-thrash's 1-byte mallocs
# (as a compiler eliding them would), its malloc count is not its ops.
for v, (d, ops, _) in per_op("cache-thrash", fixture("libab-counting-miss.so")).items():
    check(ops > 0 and d["malloc"] != ops and d["free_nn"] == ops,
          f"cache-thrash {v} on the missing fixture: malloc {d['malloc']}, free_nn "
          f"{d['free_nn']}, ops {ops}: the elided mallocs went unseen")


def within(where, d, k, lo, hi):
    check(lo <= d[k] <= hi, f"{where}: {k} {d[k]}, expected within [{lo}, {hi}]")


# The quick presets' numbers the expectations use.
XMALLOC_BATCH = 256
MSTRESS_THREAD_STARTS = DROUNDS * (THREADS - 1)
GLIBC_SIMPLE_ARRAYS = 3 * THREADS  # a pointer array per block size, round and thread
MULTIPAGE_EXTRA = 6              # 10 x 1008 bytes: 4 fit the arena's page, 6 get pages

for wl in WORKLOADS:
    variants = deltas.get(wl, {})
    check(variants, f"{wl}: nothing measured")
    for v, (d, ops, metrics) in sorted(variants.items()):
        where = f"{wl} {v} (d ops {ops}, d calls {d})"
        if wl != "exhaustion" and not check(ops > 0, f"{where}: no ops in the added rounds"):
            continue
        if wl in ("cache-thrash", "cache-scratch", "threadtest", "tiny-box", "cross-thread-free",
                  "glibc-thread") or (wl, v) in (("bulk-new", "loop"), ("bulk-new", "loop-shuffled"),
                                                  ("large-objects", "touch-free"),
                                                  ("large-objects", "working-set")):
            # One malloc and one free per op (glibc-thread: every slot is
            # full after the first round, so no free(NULL) in the others).
            exact(where, d, malloc=ops, free_nn=ops, allocs=ops)
        elif (wl, v) == ("bulk-new", "array"):
            exact(where, d, malloc=ops // 256, free_nn=ops // 256, allocs=ops // 256)
        elif wl == "param-batch":
            n = {"small": 4, "multipage": 10, "small-pooled": 0, "multipage-pooled": MULTIPAGE_EXTRA}[v]
            # The pooled variants make an arena (its first page) when none is
            # free: one run may make one more than the other, per thread.
            slack = THREADS if "pooled" in v else 0
            within(where, d, "malloc", n * ops - slack, n * ops + slack)
            check(d["free_nn"] == d["malloc"], f"{where}: free_nn {d['free_nn']} != malloc {d['malloc']}")
            exact(where, d, allocs=d["malloc"])
        elif (wl, v) == ("arena-scope", "malloc-free"):
            exact(where, d, malloc=32 * ops, free_nn=32 * ops, allocs=32 * ops)
        elif wl == "fragmentation":
            # One op is one malloc or one free; everything is freed by the end.
            exact(where, d, allocs=d["malloc"])
            check(d["malloc"] + d["free_nn"] == ops, f"{where}: malloc + free_nn != ops")
            check(d["malloc"] == d["free_nn"], f"{where}: malloc {d['malloc']} != free_nn {d['free_nn']}")
        elif (wl, v) == ("large-objects", "realloc-chain"):
            check(d["malloc"] + d["realloc"] == ops, f"{where}: malloc + realloc != ops")
            exact(where, d, free_nn=d["malloc"], allocs=ops)
        elif wl == "xmalloc":
            # Per block freed: its malloc, and a batch header per 256 blocks.
            n = ops + ops // XMALLOC_BATCH
            exact(where, d, malloc=n, free_nn=n, allocs=n)
        elif wl == "larson":
            # A replacement: one free, one malloc.  A life is a thread on a
            # fresh stack (nobody joins it in the trial): its DTV calloc, and
            # its free when the stack is released at the end.
            exact(where, d, malloc=ops)
            within(where, d, "calloc", 0, DLIVES)
            within(where, d, "free_nn", ops, ops + DLIVES)
        elif wl == "mstress":
            # A step: one malloc; per thread and round its retained array
            # (malloc) and its appended array (realloc(NULL) once at scale 5);
            # everything made is freed by the end of the trial.
            starts = DROUNDS * THREADS
            exact(where, d, malloc=ops + starts, realloc=starts)
            within(where, d, "calloc", 0, MSTRESS_THREAD_STARTS)
            within(where, d, "free_nn", d["malloc"] + d["realloc"],
                   d["malloc"] + d["realloc"] + d["calloc"])
            # The 66 % free of a random earlier slot finds it empty often;
            # the transfer array's half-free too.
            check(d["free_null"] > 0, f"{where}: no free(NULL): the original's frees of empty slots")
        elif wl == "rptest":
            # memalign (8 or 16, then a memset) or calloc, never malloc; one
            # op per call, but each life's pointer array (2 calls) is not.
            exact(where, d, malloc=0, realloc=0, aligned_alloc=0)
            calls = d["memalign"] + d["calloc"] + d["free_nn"]
            check(calls == ops + 2 * DLIVES,
                  f"{where}: memalign + calloc + free_nn {calls}, expected {ops + 2 * DLIVES}")
            share = d["memalign"] / max(1, d["memalign"] + d["calloc"])
            check(0.3 <= share <= 0.8, f"{where}: memalign share {share:.2f} of the allocations")
            check(d["free_nn"] == d["memalign"] + d["calloc"], f"{where}: not everything freed")
        elif wl == "glibc-simple":
            # The blocks and a pointer array per size, round and thread; the
            # second thread of a round starts on a cached stack or on a
            # fresh one, whose DTV is one calloc (freed with the stack), in
            # the shorter run as in the longer: the difference of those
            # callocs is anything from minus the shorter run's thread lives
            # to plus the longer's.
            n = ops + GLIBC_SIMPLE_ARRAYS * DROUNDS
            exact(where, d, malloc=n, allocs=n + d["calloc"])
            within(where, d, "calloc", -ROUNDS[0] * THREADS, ROUNDS[1] * THREADS)
            within(where, d, "free_nn", n - ROUNDS[0] * THREADS, n + ROUNDS[1] * THREADS)
        elif wl == "shutdown":
            # Verified blocks (malloc), each freed by its thread or the next;
            # a thread per rank and round, on a fresh stack or a cached one
            # (a DTV calloc each, in either run: see glibc-simple).
            exact(where, d, malloc=ops)
            within(where, d, "calloc", -ROUNDS[0] * THREADS, ROUNDS[1] * THREADS)
            within(where, d, "free_nn", ops - ROUNDS[0] * THREADS, ops + ROUNDS[1] * THREADS)
        elif wl == "exhaustion":
            continue  # one round whatever --rounds says: checked below
        else:
            check(False, f"{where}: no expectation for this workload's variant")

# exhaustion is one round whatever --rounds says: its calls, not their
# difference, are checked (a helper process allocates until NULL; ops are the
# blocks it got, so at least as many calls: the NULLs and the probes more).
ex = counted("exhaustion", 1)
for v, (c, ops, _) in ex.items():
    check(ops > 0 and c["allocs"] >= ops and c["free_nn"] > 0,
          f"exhaustion {v}: {c['allocs']} allocation calls, {c['free_nn']} frees for {ops} blocks")
done()
