"""allocbench trace on a program whose allocator calls are known exactly
(tests/fixtures/trace-target.c), with each named allocator preloaded:

- by --pid, attached while the program waits: the calls per function, the
  size histogram bins, the bytes and the outstanding blocks are exact;
- started as a command through `env LD_PRELOAD=...` (an exec to follow):
  the allocation made before main is seen, the program's work is exact;
- threads created while traced are traced;
- an allocator that hands out a live block twice is caught, sound ones are
  not; an entry point the allocator lacks is probed in the C library;
- --duration and SIGINT end cleanly with the report written.

Needs root (CAP_SYS_ADMIN): exits 77 without it."""
import json
import os
import select
import shutil
import signal
import time
import subprocess

from abtest import *

if "trace" not in run("--help").stdout:
    skip("allocbench was built without trace (meson's summary says why)")
if os.geteuid() != 0:
    skip("allocbench trace needs root (CAP_SYS_ADMIN) to load BPF and attach uprobes")
for need, what in (("/sys/kernel/btf/vmlinux", "kernel BTF"),
                   ("/sys/bus/event_source/devices/uprobe", "the uprobe perf PMU")):
    if not os.path.exists(need):
        skip(f"this kernel lacks {what} ({need})")

TARGET = os.path.realpath(os.path.join(BUILD, "tests", "ab-trace-target"))
LIBC_FAMILY = "glibc"

# The fixture's known work (see trace-target.c); bins are log2.
CALLS = {"malloc": 120, "calloc": 30, "realloc": 25, "free": 161, "aligned_alloc": 4,
         "posix_memalign": 6}
BYTES = {"malloc": 24000, "calloc": 7680, "realloc": 115000, "aligned_alloc": 2048,
         "posix_memalign": 1200, "free": 129648}
SIZE_BINS = {"malloc": {6: 100, 10: 20}, "calloc": {9: 30}, "realloc": {12: 5, 13: 20},
             "aligned_alloc": {10: 4}, "posix_memalign": {8: 6},
             "free": {6: 93, 8: 6, 9: 30, 10: 4, 12: 5, 13: 20}}
ALL_BINS = {6: 100, 8: 6, 9: 30, 10: 24, 12: 5, 13: 20}


def allocators():
    """(name, path) of the named allocators installed here."""
    p = run("list", "allocators")
    out = []
    for line in p.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5 and cols[0] in NAMED and cols[2] == "yes":
            out.append((cols[0], cols[-1]))
    return out


def env_without_preload(extra=None):
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    e.update(extra or {})
    return e


def wait_line(stream, word, timeout=60):
    """Lines read from stream until one holds word (or EOF / the timeout)."""
    got = ""
    while True:
        r, _, _ = select.select([stream], [], [], timeout)
        if not r:
            return got
        line = stream.readline()
        got += line
        if not line or word in line:
            return got


def child_of(pid):
    """The one child of pid (a launcher such as unshare)."""
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return int(f.read().split()[0])


def trace_pid(preload, target_args=(), extra_env=None, trace_args=(), launcher=()):
    """Start the fixture waiting (under launcher, if any), trace it by pid,
    let it work; the trace's (exit status, stderr, stdout, report folder)."""
    env = env_without_preload(extra_env)
    if preload:
        env["LD_PRELOAD"] = preload
    tgt = subprocess.Popen([*launcher, TARGET, "--wait", *target_args], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, env=env)
    ready = tgt.stdout.readline()
    pid = child_of(tgt.pid) if launcher else tgt.pid
    out = tmpdir()
    tr = subprocess.Popen([AB, "trace", "--pid", str(pid), "--out", out, *trace_args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env_without_preload())
    err = wait_line(tr.stderr, "allocbench: tracing pid")
    tgt.stdin.write(b"g")
    tgt.stdin.close()
    tgt.wait(timeout=120)
    so, se = tr.communicate(timeout=120)
    check(ready == b"ready\n", f"fixture said {ready!r}")
    return tr.returncode, err + se, so, out


def functions(report):
    return {f["function"]: f for f in report["trace"]["functions"]}


def bins(hist):
    return {b["bin"]: b["count"] for b in hist}


def check_tsv(what, out, report):
    header, rows = read_tsv(os.path.join(out, "allocator-trace-report.tsv"))
    check(header == ["section", "function", "object", "bin", "low", "high", "count", "bytes",
                     "nested", "failed", "latency_ns_mean", "task_clock_ns_per_call",
                     "task_clock_calls", "instructions_per_call", "instruction_calls"],
          f"{what}: TSV header {header}")
    fs = functions(report)
    calls = {r["function"]: r for r in rows if r["section"] == "calls"}
    check(set(calls) == set(fs), f"{what}: TSV calls rows {sorted(calls)} vs JSON {sorted(fs)}")
    for name, f in fs.items():
        r = calls.get(name, {})
        check(r.get("count") == str(f["calls"]) and r.get("bytes") == str(f["bytes"]) and
              r.get("nested") == str(f["nested_calls"]),
              f"{what}: TSV calls row of {name} {r} vs JSON calls={f['calls']}")
    all_sizes = {int(r["bin"]): int(r["count"]) for r in rows
                 if r["section"] == "size" and r["function"] == "all"}
    check(all_sizes == bins(report["trace"]["size_histogram"]),
          f"{what}: TSV size bins {all_sizes}")
    total = [r for r in rows if r["section"] == "outstanding" and r["function"] == "all"]
    o = report["trace"]["outstanding"]
    check(len(total) == 1 and total[0]["count"] == str(o["allocations"]) and
          total[0]["bytes"] == str(o["bytes"]), f"{what}: TSV outstanding {total}")


def check_exact(what, report):
    t = report["trace"]
    fs = functions(report)
    for name, n in CALLS.items():
        got = fs.get(name, {}).get("calls")
        check(got == n, f"{what}: {name} calls {got}, expected {n}")
        check(fs.get(name, {}).get("bytes") == BYTES[name],
              f"{what}: {name} bytes {fs.get(name, {}).get('bytes')}, expected {BYTES[name]}")
        got_bins = bins(fs.get(name, {}).get("size_histogram", []))
        check(got_bins == SIZE_BINS[name], f"{what}: {name} size bins {got_bins}, expected {SIZE_BINS[name]}")
    others = {n: f["calls"] for n, f in fs.items() if n not in CALLS and f["calls"]}
    check(others == {}, f"{what}: calls of other functions {others}")
    check(fs.get("free", {}).get("null_frees") == 3, f"{what}: free(NULL) {fs.get('free', {}).get('null_frees')}")
    check(fs.get("free", {}).get("untracked_frees") == 0, f"{what}: untracked frees")
    check(all(f["failed"] in (0, None) for f in fs.values()), f"{what}: a call failed")
    check(bins(t["size_histogram"]) == ALL_BINS, f"{what}: size bins {bins(t['size_histogram'])}")
    o = t["outstanding"]
    check(o["allocations"] == 7 and o["bytes"] == 280 and o["complete"] is True,
          f"{what}: outstanding {o['allocations']} blocks {o['bytes']} bytes, expected 7, 280")
    check(o["groups"] == [{"size": 40, "count": 7, "bytes": 280}], f"{what}: groups {o['groups']}")
    a = t["accounting"]
    check(a["live_replaced"] == 0 and a["live_dropped"] == 0 and a["unmatched_returns"] == 0 and
          a["no_thread_state"] == 0, f"{what}: accounting {a}")
    # Every completed call has one latency sample; per-call figures are
    # labelled as including the probe.
    lat = sum(b["count"] for b in t["latency_histogram_ns"])
    check(lat == sum(f["calls"] for f in fs.values()), f"{what}: {lat} latency samples")
    check(t["latency_includes_probe_cost"] is True, f"{what}: latency label")
    ev = t["events"]
    for f in fs.values():
        if ev["task_clock"]["available"]:
            check(f["task_clock_calls"] <= f["calls"], f"{what}: {f['function']} task-clock calls")
        else:
            check(f["task_clock_ns_per_call"] is None, f"{what}: task-clock without the event")
        if ev["instructions"]["available"]:
            check(f["calls"] == 0 or f["instruction_calls"] is not None, f"{what}: instructions")
        else:
            check(f["instructions_per_call"] is None and f["instruction_calls"] is None,
                  f"{what}: {f['function']} has instructions without a PMU")
    if not ev["instructions"]["available"]:
        check(bool(ev["instructions"]["reason"]), f"{what}: no reason for missing instructions")
    check(t["functions_probed"] >= 6 and t["attach_ms"] >= 0 and t["detach_ms"] >= 0,
          f"{what}: probes {t['functions_probed']}")


installed = allocators()
check(any(n == "glibc" for n, _ in installed), f"glibc not found among {installed}")

# 1. By pid, each allocator preloaded: exact.
for name, path in installed:
    what = f"pid/{name}"
    rc, err, so, out = trace_pid(None if name == "glibc" else path)
    check(rc == 0, f"{what}: exit {rc}: {err}")
    if rc:
        continue
    check(err.startswith("allocbench: tracing pid"), f"{what}: stderr {err!r}")
    r = load_report(out)
    t = r["trace"]
    check(r["schema_version"] == 1 and r["command"] == "trace" and r["context"]["counter"] == "bpf",
          f"{what}: report head")
    check(t["library"]["family"] == name, f"{what}: library {t['library']}")
    check(t["target"]["started"] is False and t["ended_by"] == "exit" and
          t["target"]["exit_status"] is None, f"{what}: target {t['target']} ended {t['ended_by']}")
    check("outstanding at the end: 7 blocks, 280 bytes" in so, f"{what}: console: {so[:300]!r}")
    check_exact(what, r)
    check_tsv(what, out, r)

# 1b. A process in its own pid namespace (a container's), traced by its pid
# as seen from outside.
if shutil.which("unshare"):
    rc, err, so, out = trace_pid(None, launcher=("unshare", "--pid", "--fork", "--mount-proc"))
    check(rc == 0, f"pid namespace: exit {rc}: {err}")
    if rc == 0:
        check_exact("pid namespace", load_report(out))
else:
    print("note: no unshare here; the pid namespace case is left out")

# 2. As a command, through env LD_PRELOAD=...: the exec is followed, the
# constructor's allocation (before main) is seen, the work is exact.
for name, path in installed:
    what = f"command/{name}"
    out = tmpdir()
    p = subprocess.run([AB, "trace", "--out", out, "--format", "json", "--", "env",
                        f"LD_PRELOAD={path if name != 'glibc' else ''}", TARGET],
                       capture_output=True, text=True, timeout=120, env=env_without_preload())
    check(p.returncode == 0, f"{what}: exit {p.returncode}: {p.stderr}")
    if p.returncode:
        continue
    r = json.loads(p.stdout)
    check(r == load_report(out), f"{what}: --format json differs from report.json")
    t = r["trace"]
    fs = functions(r)
    check(t["target"]["started"] is True and t["target"]["images"] == 2 and
          t["target"]["exe"] == TARGET and t["target"]["exit_status"] == 0,
          f"{what}: target {t['target']}")
    check(t["library"]["family"] == name, f"{what}: library {t['library']}")
    check(bins(fs["malloc"]["size_histogram"]).get(22) == 1 and
          bins(fs["free"]["size_histogram"]).get(22) == 1,
          f"{what}: the allocation before main was not seen once: {fs['malloc']['size_histogram']}")
    for fn, want in SIZE_BINS.items():
        got = bins(fs[fn]["size_histogram"])
        check(all(got.get(k) == v for k, v in want.items()), f"{what}: {fn} bins {got} lack {want}")
    check({"size": 40, "count": 7, "bytes": 280} in t["outstanding"]["groups"],
          f"{what}: groups {t['outstanding']['groups']}")
    check(p.stderr.count("allocbench: tracing pid") == 2, f"{what}: stderr {p.stderr!r}")

# 2b. A static executable: malloc is found in its full symbol table and
# probed in the executable itself.  Static glibc's start-up allocates too,
# so only the fixture's own bins are exact.
static = os.path.join(BUILD, "tests", "ab-trace-target-static")
if os.path.exists(static):
    out = tmpdir()
    p = run("trace", "--out", out, "--", static, timeout=120, env={"LD_PRELOAD": ""})
    check(p.returncode == 0, f"static: exit {p.returncode}: {p.stderr}")
    if p.returncode == 0:
        r = load_report(out)
        t = r["trace"]
        fs = functions(r)
        check(t["library"]["path"] == os.path.realpath(static) and t["target"]["images"] == 1,
              f"static: library {t['library']}, images {t['target']['images']}")
        check(bins(fs["malloc"]["size_histogram"]).get(22) == 1 and
              bins(fs["realloc"]["size_histogram"]) == SIZE_BINS["realloc"] and
              fs["aligned_alloc"]["calls"] == 4 and fs["posix_memalign"]["calls"] == 6,
              f"static: malloc {fs['malloc']['size_histogram']} realloc {fs['realloc']['size_histogram']}")
else:
    print("note: no static build of the fixture here; the static case is left out")

# 3. Threads created while traced.
rc, err, so, out = trace_pid(None, target_args=("--threads", "3"))
check(rc == 0, f"threads: exit {rc}: {err}")
if rc == 0:
    fs = functions(load_report(out))
    check(bins(fs["malloc"]["size_histogram"]).get(17) == 150 and
          bins(fs["free"]["size_histogram"]).get(17) == 150,
          f"threads: bin 17 {fs['malloc']['size_histogram']} / {fs['free']['size_histogram']}")

# 3b. More blocks live than --max-live: the live set keeps the first ones,
# says how many it dropped, and the outstanding figures say they are a lower
# bound.  --top keeps the largest group.
rc, err, so, out = trace_pid(None, target_args=("--keep", "2000"),
                             trace_args=("--max-live", "1024", "--top", "1"))
check(rc == 0, f"max-live: exit {rc}: {err}")
if rc == 0:
    t = load_report(out)["trace"]
    o = t["outstanding"]
    check(t["accounting"]["live_dropped"] == 7 + 2000 - 1024 and o["allocations"] == 1024 and
          o["complete"] is False, f"max-live: dropped {t['accounting']['live_dropped']}, {o}")
    check(o["groups_total"] == 2 and len(o["groups"]) == 1 and o["groups"][0]["size"] == 24,
          f"max-live: groups {o['groups']} of {o['groups_total']}")
    check("a lower bound" in so, "max-live: the console does not say the figures are a lower bound")
    check(functions(load_report(out))["malloc"]["calls"] == 2120, "max-live: malloc calls")

# 4. An allocator that hands out a live block twice (every 10th malloc, the
# newest live block): caught once; it replaces only malloc, calloc, realloc
# and free, so aligned_alloc and posix_memalign are the C library's.
out = tmpdir()
p = subprocess.run([AB, "trace", "--out", out, "--", "env",
                    f"LD_PRELOAD={fixture('libab-fix-double.so')}", TARGET],
                   capture_output=True, text=True, timeout=120,
                   env=env_without_preload({"AB_FIXTURE_AFTER": "10"}))
check(p.returncode == 0, f"double: exit {p.returncode}: {p.stderr}")
if p.returncode == 0:
    r = load_report(out)
    t = r["trace"]
    fs = functions(r)
    check(t["accounting"]["live_replaced"] == 1, f"double: accounting {t['accounting']}")
    check("warning: 1 allocations returned a block still recorded as live" in p.stdout,
          f"double: console {p.stdout[-400:]!r}")
    check(t["library"]["path"].endswith("libab-fix-double.so") and
          [o["family"] for o in t["objects"]] == ["other", LIBC_FAMILY],
          f"double: objects {t['objects']}")
    check(fs["aligned_alloc"]["object"] == t["objects"][1]["path"] and
          fs["aligned_alloc"]["calls"] == 4 and fs["posix_memalign"]["calls"] == 6,
          f"double: aligned_alloc {fs['aligned_alloc']['object']} {fs['aligned_alloc']['calls']}")
    check(fs["free"]["untracked_frees"] == 0 and fs["free"]["bytes"] == BYTES["free"] + 3000000 + 16,
          f"double: free untracked {fs['free']['untracked_frees']} bytes {fs['free']['bytes']}")

# 5. --duration on a process that does nothing meanwhile: ends by duration,
# nothing counted, the process left running.
tgt = subprocess.Popen([TARGET, "--wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       env=env_without_preload())
tgt.stdout.readline()
out = tmpdir()
p = run("trace", "--pid", str(tgt.pid), "--duration", "0.3", "--out", out, timeout=120)
alive = tgt.poll() is None
tgt.kill()
tgt.wait()
check(p.returncode == 0, f"duration: exit {p.returncode}: {p.stderr}")
check(alive, "duration: the traced process did not survive tracing")
if p.returncode == 0:
    t = load_report(out)["trace"]
    check(t["ended_by"] == "duration" and t["duration_s"] == 0.3, f"duration: ended by {t['ended_by']}")
    check(sum(f["calls"] for f in t["functions"]) == 0 and t["outstanding"]["allocations"] == 0,
          "duration: calls counted while the process waited")

# 6. SIGINT while tracing a command that waits (its stdin stays open): the
# report is written and the command is terminated.
out = tmpdir()
hold_r, hold_w = os.pipe()
tr = subprocess.Popen([AB, "trace", "--out", out, "--", TARGET, "--wait"], stdin=hold_r,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                      env=env_without_preload())
os.close(hold_r)
ready = wait_line(tr.stdout, "ready")  # the command's own line: it runs, traced
tr.send_signal(signal.SIGINT)
so, se = tr.communicate(timeout=120)
os.close(hold_w)
check(ready == "ready\n", f"SIGINT: the command said {ready!r}")
check(tr.returncode == 0, f"SIGINT: exit {tr.returncode}: {se}")
if tr.returncode == 0:
    r = load_report(out)
    t = r["trace"]
    check(t["ended_by"] == "signal SIGINT", f"SIGINT: ended by {t['ended_by']}")
    check(t["target"]["exit_signal"] == "SIGTERM", f"SIGINT: target {t['target']}")
    check(bins(functions(r)["malloc"]["size_histogram"]).get(22) == 1,
          "SIGINT: the constructor's malloc was not seen")

# 7. A process in the allocator at every instant, traced by pid: threads that
# are inside malloc or free while the probes go in are still counted after.
tgt = subprocess.Popen([TARGET, "--wait", "--busy", "3", "--threads", "2"], stdin=subprocess.PIPE,
                       stdout=subprocess.PIPE, env=env_without_preload())
ready = tgt.stdout.readline()
tgt.stdin.write(b"g")
tgt.stdin.close()
time.sleep(0.3)
out = tmpdir()
p = run("trace", "--pid", str(tgt.pid), "--duration", "1", "--out", out,
        env={"LD_PRELOAD": ""}, timeout=120)
tgt.wait(timeout=120)
check(ready == b"ready\n" and p.returncode == 0, f"busy: exit {p.returncode}: {p.stderr}")
if p.returncode == 0:
    f = functions(load_report(out))
    m, fr = f["malloc"]["calls"], f["free"]["calls"]
    # How many depends on the machine's load (a count, not a rate, is
    # checked: that calls are seen at all, and that they pair up).
    check(m > 100, f"busy: {m} mallocs counted in a second of two busy threads")
    check(abs(m - fr) <= 2, f"busy: {m} mallocs but {fr} frees (two threads: at most 2 apart)")
    check(f["malloc"]["nested_calls"] == 0 and f["free"]["nested_calls"] == 0,
          "busy: nested calls counted in a program that never nests")
done()
