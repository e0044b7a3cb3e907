"""The progress line on a terminal: done/total and an ETA, rewritten with
escape codes on a terminal that takes them, without any escape code under
TERM=dumb or NO_COLOR, and nothing at all when stderr is not a terminal."""
import pty
import select

from abtest import *

ARGS = [AB, "run", "bulk-new", "--variant", "loop,array", "--repetitions", "3", "--rounds", "2",
        "--param", "n=64"]


def on_pty(extra_env):
    master, slave = pty.openpty()
    env = dict(os.environ, **extra_env)
    for k in [k for k, v in extra_env.items() if v is None]:
        env.pop(k)
    out = tmpdir()
    p = subprocess.Popen(ARGS + ["--out", out], stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
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
done()
