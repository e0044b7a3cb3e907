"""meson install puts a working tree in place: the binary, the trial
program, the profiles, the plugins and the man pages, and the installed
binary finds each of them beside itself (installed into a DESTDIR here, so
from a prefix it was not configured for)."""
import glob
import shutil

from abtest import *

meson = shutil.which("meson")
if not meson:
    skip("meson is not on PATH")
dest = tmpdir()
p = subprocess.run([meson, "install", "-C", BUILD, "--destdir", dest, "--quiet"],
                   capture_output=True, text=True, timeout=600)
check(p.returncode == 0, f"meson install: exit {p.returncode}: {p.stderr[-500:]}")
exe = glob.glob(os.path.join(dest, "**", "bin", "allocbench"), recursive=True)
check(len(exe) == 1, f"installed allocbench: {exe}")
if not exe:
    done()
exe = exe[0]
prefix = os.path.dirname(os.path.dirname(exe))
for what in ("libexec/allocbench/allocbench-trial", "share/allocbench/profiles.tsv",
             "share/man/man1/allocbench.1", "share/man/man1/allocbench-run.1"):
    check(os.path.exists(os.path.join(prefix, what)), f"not installed: {what}")
check(glob.glob(os.path.join(prefix, "lib*", "**", "ab-ref.so"), recursive=True) != [],
      "the ref plugin is not installed")
env = {k: v for k, v in os.environ.items()
       if k not in ("ALLOCBENCH_PLUGIN_DIR", "ALLOCBENCH_PROFILES", "LD_LIBRARY_PATH")}
out = tmpdir()
p = subprocess.run([exe, "run", "bulk-new", "--allocator", "glibc,ref", "--variant", "loop",
                    "--rounds", "2", "--repetitions", "1", "--param", "n=64", "--out", out],
                   capture_output=True, text=True, env=env, cwd=dest, timeout=300)
check(p.returncode == 0, f"installed run: exit {p.returncode}: {p.stderr[-300:]}")
if p.returncode == 0:
    r = load_report(out)
    ref = [s for s in r["context"]["subjects"] if s["name"] == "ref"]
    check(ref and ref[0]["path"].startswith(os.path.realpath(dest)),
          f"ref came from {ref[0]['path'] if ref else None}, not the installed tree")
    check(all(t["status"] == "ok" for t in r["trials"]), f"installed trials {[t['status'] for t in r['trials']]}")
out = tmpdir()
p = subprocess.run([exe, "stress", "--profile", "hosted-small", "--case", "local-free", "--ops", "100",
                    "--allocator", "glibc", "--out", out], capture_output=True, text=True, env=env,
                   cwd=dest, timeout=300)
check(p.returncode == 0, f"installed stress: exit {p.returncode}: {p.stderr[-300:]}")
if p.returncode == 0:
    pf = load_report(out)["stress"]["profiles_file"]
    check(pf.startswith(os.path.realpath(dest)), f"profiles from {pf}, not the installed tree")
man = shutil.which("man")
if man:
    p = subprocess.run([man, "-l", os.path.join(prefix, "share/man/man1/allocbench-run.1")],
                       capture_output=True, text=True, env=dict(env, MANPAGER="cat", PAGER="cat"))
    check(p.returncode == 0 and "--min-time" in p.stdout, f"man allocbench-run: {p.returncode}")
done()
