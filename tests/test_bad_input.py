"""Bad input: each case exits 2 (usage) with exactly one line on stderr that
names the problem, and writes no report; a good input in the same shape does
not fire."""
import os
import shutil
import stat
import subprocess

from abtest import *

out = tmpdir()
not_so = os.path.join(out, "not-a-library.so")
with open(not_so, "w") as f:
    f.write("just text\n")
readonly = os.path.join(out, "readonly")
os.mkdir(readonly)
os.chmod(readonly, stat.S_IRUSR | stat.S_IXUSR)

cases = [
    # (what, args, expected exit, words the one line must contain)
    ("unknown workload", ["run", "no-such-workload"], 2, ["no-such-workload", "ALLOCBENCH_UNKNOWN_WORKLOAD"]),
    ("unknown allocator", ["run", "bulk-new", "--allocator", "nosuchalloc"], 2, ["nosuchalloc", "ALLOCBENCH_UNKNOWN_ALLOCATOR"]),
    ("missing .so", ["run", "bulk-new", "--allocator", "/nonexistent/libx.so"], 2, ["/nonexistent/libx.so", "ALLOCBENCH_BAD_SUBJECT"]),
    ("not a shared object", ["run", "bulk-new", "--allocator", not_so], 2, ["not a shared object", "ALLOCBENCH_BAD_SUBJECT"]),
    ("neither plugin nor malloc", ["run", "bulk-new", "--allocator", fixture("libab-not-allocator.so")], 2, ["neither", "ALLOCBENCH_BAD_SUBJECT"]),
    ("wrong plugin ABI", ["run", "bulk-new", "--allocator", fixture("ab-plugin-bad-abi.so")], 2, ["ABI version 999", "ALLOCBENCH_PLUGIN_ABI"]),
    ("plugin without a required member", ["run", "bulk-new", "--allocator", fixture("ab-plugin-no-usable.so")], 2, ["usable_size", "ALLOCBENCH_PLUGIN_ABI"]),
    ("parameter out of range", ["run", "bulk-new", "--param", "n=0"], 2, ["n", "outside", "ALLOCBENCH_BAD_PARAM"]),
    ("unknown parameter", ["run", "bulk-new", "--param", "bogus=1"], 2, ["bogus", "ALLOCBENCH_BAD_PARAM"]),
    ("parameter not a number", ["run", "bulk-new", "--param", "size=lots"], 2, ["size", "ALLOCBENCH_BAD_PARAM"]),
    ("threads out of range", ["run", "bulk-new", "--threads", "0"], 2, ["--threads", "ALLOCBENCH_USAGE"]),
    ("threads twice", ["run", "bulk-new", "--threads", "2,1,2"], 2, ["--threads names 2 twice"]),
    ("a stray word after help", ["help", "run", "extra"], 2, ["unexpected argument 'extra'"]),
    ("a stray word after --version", ["--version", "extra"], 2, ["unexpected argument 'extra'"]),
    ("a stray word after --help", ["--help", "extra"], 2, ["unexpected argument 'extra'"]),
    ("threads twice, spelled apart", ["run", "bulk-new", "--threads", "1,01"], 2, ["--threads names 1 twice"]),
    ("threads with an empty item", ["run", "bulk-new", "--threads", "1,,2"], 2, ["--threads", "empty item"]),
    ("variant twice", ["run", "bulk-new", "--variant", "loop,array,loop"], 2, ["--variant names loop twice"]),
    ("one library named twice", ["run", "bulk-new", "--allocator", "glibc,/lib/x86_64-linux-gnu/libc.so.6"], 2, ["twice"]),
    ("sizes with an empty item", ["fastpath", "--sizes", "16,,32"], 2, ["--sizes", "empty item"]),
    ("cases with an empty item", ["stress", "--profile", "hosted-small", "--case", "local-free,"], 2, ["--case", "empty item"]),
    ("repetitions not a number", ["run", "bulk-new", "--repetitions", "ten"], 2, ["--repetitions", "ALLOCBENCH_USAGE"]),
    ("timeout out of range", ["run", "bulk-new", "--timeout", "0"], 2, ["--timeout", "ALLOCBENCH_USAGE"]),
    ("unknown variant", ["run", "bulk-new", "--variant", "nope"], 2, ["nope", "ALLOCBENCH_USAGE"]),
    ("unknown format", ["run", "bulk-new", "--format", "xml"], 2, ["xml", "ALLOCBENCH_USAGE"]),
    ("unknown option", ["run", "bulk-new", "--frobnicate"], 2, ["--frobnicate", "ALLOCBENCH_USAGE"]),
    ("no workload", ["run"], 2, ["workload", "ALLOCBENCH_USAGE"]),
    ("unknown command", ["frobnicate"], 2, ["frobnicate", "ALLOCBENCH_USAGE"]),
    ("out folder not writable", ["run", "bulk-new", "--out", os.path.join(readonly, "sub")], 2, ["--out", "ALLOCBENCH_OUTPUT"]),
    ("out is a file", ["run", "bulk-new", "--out", not_so], 2, ["--out", "ALLOCBENCH_OUTPUT"]),
    ("list of nothing known", ["list", "frobs"], 2, ["frobs", "ALLOCBENCH_USAGE"]),
]

root = os.geteuid() == 0
for what, args, code, words in cases:
    if what == "out folder not writable" and root:
        continue  # root writes anywhere; the "out is a file" case still runs
    if "--out" not in args and args[0] == "run":
        args = args + ["--out", os.path.join(out, "never")]
    p = run(*args, timeout=60)
    lines = p.stderr.splitlines()
    check(p.returncode == code, f"{what}: exit {p.returncode}, expected {code} ({p.stderr.strip()})")
    check(len(lines) == 1, f"{what}: {len(lines)} stderr lines, expected one: {p.stderr!r}")
    check(lines and lines[0].startswith("allocbench: error: "), f"{what}: line does not start with 'allocbench: error: ': {p.stderr!r}")
    for w in words:
        check(w in p.stderr, f"{what}: '{w}' missing from {p.stderr.strip()!r}")
    check(p.stdout == "", f"{what}: wrote to stdout: {p.stdout[:200]!r}")
check(not os.path.exists(os.path.join(out, "never", "report.json")), "a refused run left a report")

# More threads than a process may start here (RLIMIT_NPROC of 30, as an
# unprivileged user): refused before any trial, naming the limit.
if os.geteuid() == 0 and shutil.which("setpriv") and shutil.which("prlimit"):
    cmd = ["prlimit", "--nproc=30:30", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
           AB, "run", "bulk-new", "--variant", "loop", "--out", os.path.join("/tmp", "ab-never")]
    p = subprocess.run(cmd + ["--threads", "100"], capture_output=True, text=True, timeout=120)
    check(p.returncode == 2 and "RLIMIT_NPROC" in p.stderr and len(p.stderr.splitlines()) == 1,
          f"threads past RLIMIT_NPROC: exit {p.returncode}, {p.stderr!r}")
    p = subprocess.run(cmd[:1] + ["--nproc=300:300"] + cmd[2:] + ["--threads", "4", "--repetitions", "1",
                       "--rounds", "1"], capture_output=True, text=True, timeout=120, cwd="/tmp")
    check(p.returncode in (0, 2) and "RLIMIT_NPROC" not in p.stderr,
          f"threads within RLIMIT_NPROC: exit {p.returncode}, {p.stderr!r}")
else:
    print("note: not root, or no setpriv/prlimit: the RLIMIT_NPROC case is left out")

# The default --out is a folder of its own: runs within one second never
# share one (three at once here).
cwd = tmpdir()
procs = [subprocess.Popen([AB, "run", "bulk-new", "--variant", "loop", "--rounds", "1",
                           "--repetitions", "1", "--param", "n=64"], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(3)]
codes = [p.wait(timeout=120) for p in procs]
made = os.listdir(os.path.join(cwd, "results", "runs"))
check(codes == [0, 0, 0] and len(made) == 3 and
      all(os.path.exists(os.path.join(cwd, "results", "runs", m, "report.json")) for m in made),
      f"three runs at once: exits {codes}, folders {made}")

# The same shapes, valid: none of them fires.
good = tmpdir()
p = run("run", "bulk-new", "--param", "n=64", "--param", "size=48", "--threads", "1",
        "--repetitions", "2", "--rounds", "3", "--variant", "loop", "--timeout", "30",
        "--format", "tsv", "--allocator", fixture("../../plugins/ab-bump.so"), "--out", good)
check(p.returncode == 0, f"valid run: exit {p.returncode}: {p.stderr}")
check(p.stdout.startswith("workload\tallocator\tvariant\t"), "valid run: --format tsv did not print the TSV")
check(os.path.exists(os.path.join(good, "report.json")), "valid run: no report.json")
done()
