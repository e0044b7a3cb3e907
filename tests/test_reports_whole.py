"""Report sets appear whole or not at all.

- An --out that cannot take the reports fails before any trial runs (no
  trial child is ever started), exit 2, one line.
- On a full disk (a 64 KiB tmpfs; root) nothing half-written is left: the
  run exits 2, says that no report is under --out and that its results are
  on standard output, which holds them; no staging folder or temporary
  file remains.
- SIGINT landing while the set is renamed into place (the rename held for
  a second under strace) leaves no staging folder or temporary name, and
  --out holds either the whole set or none of it -- staged beside the
  folder, and written in place in a folder holding the user's own file."""
import re
import shutil
import signal
import subprocess
import time

from abtest import *

SET = {"report.json", "allocator-fast-path-benchmarks.tsv", "allocator-diagnostics-report.tsv",
       "benchmark.json", "report.html"}
ARGS = ["run", "bulk-new", "--variant", "loop", "--repetitions", "1", "--rounds", "1"]


def leftovers(d):
    return [n for n in os.listdir(d) if ".staging." in n or ".tmp." in n or "probe" in n]


# --- a place that cannot take reports: refused before any trial ------------
strace = shutil.which("strace")
for bad in ["/proc/allocbench-x", "/proc/self/allocbench-x", "/dev/null/x"]:
    if strace:
        log = os.path.join(tmpdir(), "exec.log")
        p = subprocess.run([strace, "-f", "-qq", "-e", "trace=execve", "-o", log, AB, *ARGS,
                            "--out", bad], capture_output=True, text=True, timeout=120)
        execs = open(log).read().count("allocbench-trial")
    else:
        p = run(*ARGS, "--out", bad)
        execs = 0
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 2 and len(lines) == 1 and bad in lines[0] and execs == 0,
          f"--out {bad}: exit {p.returncode}, {lines}, {execs} trial children")

# --- a full disk -------------------------------------------------------------
if os.geteuid() == 0:
    mnt = tmpdir()
    m = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                       capture_output=True, text=True)
    if m.returncode == 0:
        try:
            with open(os.path.join(mnt, "fill"), "wb") as f:  # leave 8 KiB: two of the three files
                try:
                    f.write(b"\0" * (56 * 1024))
                except OSError:
                    pass
            out = os.path.join(mnt, "out")
            p = run(*ARGS, "--out", out)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 2 and "no report of this run is under" in p.stderr
                  and "standard output only" in p.stderr,
                  f"full disk: exit {p.returncode}, {p.stderr!r}")
            check("bulk-new" in p.stdout and "glibc" in p.stdout, f"full disk stdout {p.stdout!r}")
            check(not os.path.exists(out), f"full disk: {out} left: {os.listdir(out) if os.path.isdir(out) else ''}")
            check(leftovers(mnt) == [], f"full disk leftovers {leftovers(mnt)}")
            # Full before the run: refused at once, nothing created.
            with open(os.path.join(mnt, "fill2"), "wb") as f:
                try:
                    f.write(b"\0" * (64 * 1024))
                except OSError:
                    pass
            p = run(*ARGS, "--out", out)
            check(p.returncode == 2 and "cannot be written" in p.stderr and not os.path.exists(out),
                  f"full disk before the run: exit {p.returncode}, {p.stderr!r}")
        finally:
            subprocess.run(["umount", mnt])
    else:
        print(f"note: no tmpfs mount here ({m.stderr.strip()}): the full-disk case is left out")
else:
    print("note: not root: the full-disk case (a small tmpfs) is left out")

# --- SIGINT during the rename --------------------------------------------------
if not strace:
    skip("strace is not installed (scripts/setup installs it): the signal cases need it")


def interrupted(out, parent):
    log = os.path.join(tmpdir(), "strace.log")
    p = subprocess.Popen([strace, "-f", "-qq", "-o", log, "-e", "trace=rename,renameat2",
                          "-e", "inject=rename,renameat2:delay_enter=1000000", AB, *ARGS,
                          "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = None
    deadline = time.monotonic() + 120
    while pid is None and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.05)
        for line in open(log).read().splitlines():
            m = re.match(r"(\d+)\s+rename", line)
            if m:
                pid = int(m.group(1))
                break
    check(pid is not None, "no rename seen under strace")
    if pid:
        os.kill(pid, signal.SIGINT)
    p.communicate(timeout=120)
    got = set(os.listdir(out)) if os.path.isdir(out) else set()
    files = {n for n in got if not n.startswith(".")} - {"mine.txt"}
    check(leftovers(parent) == [] and (not os.path.isdir(out) or leftovers(out) == []),
          f"SIGINT in a rename: left {leftovers(parent)} {leftovers(out) if os.path.isdir(out) else ''}")
    check(files in (set(), SET), f"SIGINT in a rename: a partial set {sorted(files)}")
    return files


parent = tmpdir()
interrupted(os.path.join(parent, "out"), parent)
# In place: the folder holds the user's own file, which stays.
parent = tmpdir()
out = os.path.join(parent, "out")
os.mkdir(out)
with open(os.path.join(out, "mine.txt"), "w") as f:
    f.write("mine\n")
interrupted(out, parent)
check(open(os.path.join(out, "mine.txt")).read() == "mine\n", "the user's own file changed")
# --- the reports line names every file the set holds, and no other ---------
for args, want in ((["cross-thread-free", "--preset", "quick", "--threads", "2"],
                    {"allocator-remote-free-report.tsv", "allocator-diagnostics-report.tsv"}),
                   (["bulk-new", "--variant", "loop"], set())):
    out = os.path.join(tmpdir(), "r")
    p = run("run", *args, "--repetitions", "2", "--rounds", "2", "--out", out)
    line = [l for l in p.stdout.splitlines() if l.startswith("reports: ")]
    named = [os.path.basename(x) for x in line[0][len("reports: "):].split(", ")] if line else []
    check(p.returncode == 0 and line and sorted(named) == sorted(os.listdir(out)) and want <= set(named)
          and named[0] == "report.json", f"{args[0]}: exit {p.returncode}, reports line {line}, "
          f"folder {sorted(os.listdir(out))}")
done()
