"""The progress line on a terminal: done/total and an ETA, rewritten with
escape codes on a terminal that takes them, without any escape code under
TERM=dumb or NO_COLOR, and nothing at all when stderr is not a terminal.
`list` on a terminal of 60 columns cuts its wider lines there, marked, and
says how to get them whole; through a pipe every line is whole.  The console
tables and notes of run, compare and fastpath fit 100 columns (a diagnostic
line, which scripts read whole, and a line of paths excepted)."""
import fcntl
import struct
import termios
import pty
import re
import select

from abtest import *

ARGS = [AB, "run", "bulk-new", "--variant", "loop,array", "--repetitions", "3", "--rounds", "2",
        "--param", "n=64"]


def read_all(master):
    """What the terminal's other side wrote, to its end (or a minute's quiet)."""
    data = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def on_pty(extra_env):
    master, slave = pty.openpty()
    env = dict(os.environ, **extra_env)
    for k in [k for k, v in extra_env.items() if v is None]:
        env.pop(k)
    out = tmpdir()
    p = subprocess.Popen(ARGS + ["--out", out], stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    data = read_all(master)
    p.wait(timeout=120)
    os.close(master)
    return p.returncode, data


rc, data = on_pty({"TERM": "xterm", "NO_COLOR": None})
check(rc == 0 and b"\x1b[K" in data and b"[6/6]" in data and b"ETA" in data,
      f"xterm: exit {rc}, {data[-200:]!r}")
for env in ({"TERM": "dumb", "NO_COLOR": None}, {"TERM": "xterm", "NO_COLOR": "1"}):
    rc, data = on_pty(env)
    check(rc == 0 and b"\x1b" not in data and b"[6/6]" in data, f"{env}: exit {rc}, {data[-200:]!r}")
p = run(*ARGS[1:], "--out", tmpdir())
check(p.returncode == 0 and "[1/6]" not in p.stderr and "\x1b" not in p.stderr,
      f"not a terminal: {p.stderr!r}")

# list on a 60-column terminal.
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
p = subprocess.Popen([AB, "list", "allocators"], stdout=slave, stderr=subprocess.DEVNULL)
os.close(slave)
data = read_all(master)
p.wait(timeout=60)
os.close(master)
lines = data.decode().replace("\r", "").splitlines()
whole = run("list", "allocators").stdout.splitlines()
long = [l for l in whole if len(l) > 60]
check(long and max(len(l) for l in whole) > 60, f"no line of list allocators is over 60 columns: {whole}")
check(all(len(l) <= 60 for l in lines[:-1]) and sum(l.endswith("~") for l in lines) == len(long)
      and "| cat` prints whole lines" in lines[-1], f"list on 60 columns: {lines}")
check([l[:59] for l in long] == [l[:-1] for l in lines if l.endswith("~")], f"cut lines {lines}")
check(not any(l.endswith("~") for l in whole) and "prints whole lines" not in "\n".join(whole),
      f"through a pipe: {whole}")

def too_wide(text):
    """The console lines over 100 columns that are neither a diagnostic nor paths."""
    return [l for l in text.splitlines() if len(l) > 100 and not re.match(r"[A-Z][A-Z_]+ ", l)
            and not l.startswith(("reports: ", "BASE "))]


check(too_wide("x" * 101) and not too_wide("x" * 100) and not too_wide("ALLOCBENCH_X " + "y" * 200),
      "the width check does not fire")
runs = []
for i in range(2):
    out = tmpdir()
    p = run("run", "bulk-new", "--allocator", "glibc,jemalloc,tcmalloc,mimalloc", "--preset", "quick",
            "--repetitions", "6", "--rounds", "3", "--threads", "1,2", "--out", out)
    check(p.returncode == 0 and not too_wide(p.stdout), f"run: exit {p.returncode}, wide: {too_wide(p.stdout)}")
    runs.append(out)
p = run("compare", *runs)
check(p.returncode in (0, 1) and "ratio" in p.stdout and not too_wide(p.stdout),
      f"compare: exit {p.returncode}, wide: {too_wide(p.stdout)}")
p = run("fastpath", "--allocator", "glibc,mimalloc", "--sizes", "16", "--calls", "50",
        "--repetitions", "1", "--out", tmpdir())
check(p.returncode in (0, 3) and not too_wide(p.stdout), f"fastpath: exit {p.returncode}, wide: {too_wide(p.stdout)}")
done()
