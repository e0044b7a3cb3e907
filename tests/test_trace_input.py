"""allocbench trace, bad input: each case exits 2 with exactly one line on
stderr naming the problem, prints nothing on stdout and writes no report.
These checks come before the privilege check, so they run as any user.  An
unprivileged user gets exit 3 and one line (checked as `nobody` when this
runs as root)."""
import os
import shutil
import stat
import subprocess

from abtest import *

if "trace" not in run("--help").stdout:
    skip("allocbench was built without trace (meson's summary says why)")

out = tmpdir()
never = os.path.join(out, "never")
text_exe = os.path.join(out, "not-a-program")
with open(text_exe, "w") as f:
    f.write("just text\n")
os.chmod(text_exe, 0o755)


def free_pid():
    """A pid no process has."""
    for pid in range(4194000, 1, -1):
        if not os.path.exists(f"/proc/{pid}"):
            return pid


def kernel_thread():
    """A kernel thread's pid (no executable, no user address space), or None."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                if "Kthread:\t1" not in f.read():
                    continue
            os.readlink(f"/proc/{pid}/exe")
        except FileNotFoundError:
            return pid
        except OSError:
            continue
    return None


gone = free_pid()
cases = [
    # (what, args, words the one line must contain)
    ("no such process", ["--pid", str(gone)], [f"--pid {gone}", "no such process", "ALLOCBENCH_USAGE"]),
    ("library without malloc", ["--lib", fixture("libab-not-allocator.so"), "--pid", "1"],
     ["libab-not-allocator.so", "defines no malloc", "ALLOCBENCH_BAD_SUBJECT"]),
    ("library that is no ELF file", ["--lib", text_exe, "--pid", "1"], ["not an ELF file", "ALLOCBENCH_BAD_SUBJECT"]),
    ("library that does not exist", ["--lib", "/nonexistent/libx.so", "--pid", "1"], ["/nonexistent/libx.so", "ALLOCBENCH_BAD_SUBJECT"]),
    ("command not found", ["--", "no-such-command-for-allocbench"], ["not found in PATH", "ALLOCBENCH_USAGE"]),
    ("command not executable", ["--", "/etc/passwd"], ["/etc/passwd", "cannot be executed", "ALLOCBENCH_USAGE"]),
    ("command neither ELF nor script", ["--", text_exe], ["neither an ELF executable nor a #! script", "ALLOCBENCH_USAGE"]),
    ("command is a folder", ["--", "/tmp"], ["not a regular file", "ALLOCBENCH_USAGE"]),
    ("pid and command", ["--pid", "1", "--", "true"], ["not both", "ALLOCBENCH_USAGE"]),
    ("nothing to trace", [], ["--pid PID or -- COMMAND", "ALLOCBENCH_USAGE"]),
    ("pid zero", ["--pid", "0"], ["--pid 0", "outside", "ALLOCBENCH_USAGE"]),
    ("pid not a number", ["--pid", "init"], ["--pid init", "ALLOCBENCH_USAGE"]),
    ("duration out of range", ["--duration", "0", "--pid", "1"], ["--duration", "ALLOCBENCH_USAGE"]),
    ("top out of range", ["--top", "0", "--pid", "1"], ["--top", "ALLOCBENCH_USAGE"]),
    ("max-live out of range", ["--max-live", "10", "--pid", "1"], ["--max-live", "ALLOCBENCH_USAGE"]),
    ("unknown format", ["--format", "xml", "--pid", "1"], ["xml", "ALLOCBENCH_USAGE"]),
    ("unknown option", ["--frobnicate", "--pid", "1"], ["--frobnicate", "ALLOCBENCH_USAGE"]),
    ("option without its value", ["--pid"], ["--pid", "needs a value", "ALLOCBENCH_USAGE"]),
]
kt = kernel_thread()
if kt:
    cases.append(("kernel thread", ["--pid", kt], [f"--pid {kt}", "no user address space", "ALLOCBENCH_USAGE"]))
else:
    print("note: no kernel thread visible here; that case is left out")

for what, args, words in cases:
    p = run("trace", "--out", never, *args, timeout=60)
    lines = p.stderr.splitlines()
    check(p.returncode == 2, f"{what}: exit {p.returncode}, expected 2 ({p.stderr.strip()})")
    check(len(lines) == 1, f"{what}: {len(lines)} stderr lines, expected one: {p.stderr!r}")
    check(lines and lines[0].startswith("allocbench: error: "), f"{what}: {p.stderr!r}")
    for w in words:
        check(w in p.stderr, f"{what}: '{w}' missing from {p.stderr.strip()!r}")
    check(p.stdout == "", f"{what}: wrote to stdout: {p.stdout[:200]!r}")
check(not os.path.exists(never), "a refused trace created its report folder")

# The same shapes, valid, do not fire: --help, and (as root) the privilege
# check passes for a real process.
p = run("help", "trace")
check(p.returncode == 0 and "--pid PID" in p.stdout and "--lib PATH" in p.stdout,
      f"help trace: exit {p.returncode}: {p.stdout[:200]!r}")

# Not privileged: one line, exit 3.  Run as nobody from a copy of the
# binary in a folder anyone can read.
if os.geteuid() == 0 and shutil.which("setpriv"):
    d = tmpdir()
    os.chmod(d, 0o755)
    ab = os.path.join(d, "allocbench")
    shutil.copy(AB, ab)
    os.chmod(ab, 0o755)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", "--bounding-set=-all", ab, "trace", "--pid",
                            str(sleeper.pid), "--out", os.path.join(d, "o")],
                           capture_output=True, text=True, timeout=60)
    finally:
        sleeper.kill()
        sleeper.wait()
    lines = p.stderr.splitlines()
    check(p.returncode == 3, f"unprivileged: exit {p.returncode}, expected 3 ({p.stderr.strip()})")
    check(len(lines) == 1 and "needs root or CAP_SYS_ADMIN" in p.stderr and
          "ALLOCBENCH_NOT_INSTALLED" in p.stderr, f"unprivileged: {p.stderr!r}")
    check(not os.path.exists(os.path.join(d, "o")), "unprivileged: created its report folder")
else:
    print("note: not root (or no setpriv): the unprivileged case is left out")
done()
