"""`allocbench report DIR`: report.html written again from report.json.

- The page it writes is the page the command wrote, byte for byte (run,
  stress, fastpath, compare --out), from the folder or from the report.json
  named.
- Bad input gets exit 2 and one line on stderr, and leaves the folder as it
  was: no argument, a missing folder, a folder without report.json, a
  report.json that is not JSON, has trailing data or a member held twice, a
  document of a command without a page; a report.html that cannot be
  replaced (a folder of that name).  Nothing half-written stays behind.
- A run of 16 allocators, five variants and two thread counts has a page
  under 1 MB.
"""
import json
import os
import shutil

from abtest import check, done, load_report, run, tmpdir

base = tmpdir()


def folder_files(d):
    return sorted(os.listdir(d))


def rerendered(name, out):
    """report DIR on a folder a command wrote: the same page, the same files."""
    path = os.path.join(out, "report.html")
    with open(path, "rb") as f:
        first = f.read()
    before = folder_files(out)
    os.unlink(path)
    p = run("report", out)
    check(p.returncode == 0 and p.stdout == f"reports: {path}\n" and not p.stderr,
          f"{name}: report DIR: exit {p.returncode}, {p.stdout!r}, {p.stderr!r}")
    with open(path, "rb") as f:
        again = f.read()
    check(again == first, f"{name}: report DIR wrote {len(again)} bytes, the command {len(first)}, "
                          "or other bytes")
    check(folder_files(out) == before, f"{name}: the folder holds {folder_files(out)}, was {before}")
    p = run("report", os.path.join(out, "report.json"))
    with open(path, "rb") as f:
        check(p.returncode == 0 and f.read() == first, f"{name}: report DIR/report.json: exit {p.returncode}")


r = os.path.join(base, "run")
p = run("run", "bulk-new", "--preset", "quick", "--allocator", "glibc,mimalloc", "--threads", "1,2",
        "--variant", "loop", "--repetitions", "4", "--min-time", "0", "--out", r)
check(p.returncode == 0, f"run: exit {p.returncode}: {p.stderr[-300:]}")
rerendered("run", r)

s = os.path.join(base, "stress")
p = run("stress", "--profile", "hosted-small", "--allocator", "glibc", "--case", "local-free",
        "--ops", "2000", "--out", s)
check(p.returncode == 0, f"stress: exit {p.returncode}: {p.stderr[-300:]}")
rerendered("stress", s)

f = os.path.join(base, "fastpath")
p = run("fastpath", "--allocator", "glibc", "--sizes", "16,256", "--calls", "50", "--repetitions", "1",
        "--out", f)
check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr[-300:]}")
rerendered("fastpath", f)

c = os.path.join(base, "compare")
p = run("compare", r, r, "--out", c)
check(p.returncode == 0, f"compare: exit {p.returncode}: {p.stderr[-300:]}")
check(folder_files(c) == ["report.html", "report.json"], f"compare --out wrote {folder_files(c)}")
rerendered("compare", c)

# --- bad input ----------------------------------------------------------------
with open(os.path.join(r, "report.json")) as f:
    good = f.read()


def refused(name, arg, words, folder=None):
    """report ARG: exit 2, one line naming the trouble; folder unchanged."""
    before = folder_files(folder) if folder else None
    page = None
    if folder and os.path.isfile(os.path.join(folder, "report.html")):
        with open(os.path.join(folder, "report.html"), "rb") as f:
            page = f.read()
    p = run("report", *arg)
    lines = p.stderr.splitlines()
    check(p.returncode == 2 and len(lines) == 1 and lines[0].startswith("allocbench: error: ")
          and all(w in lines[0] for w in words) and not p.stdout,
          f"{name}: exit {p.returncode}, stdout {p.stdout!r}, stderr {p.stderr!r}, want {words}")
    if folder:
        check(folder_files(folder) == before, f"{name}: the folder now holds {folder_files(folder)}")
        if page is not None:
            with open(os.path.join(folder, "report.html"), "rb") as f:
                check(f.read() == page, f"{name}: report.html changed")


def bad_folder(name, text):
    d = os.path.join(base, name)
    os.makedirs(d)
    if text is not None:
        with open(os.path.join(d, "report.json"), "w") as f:
            f.write(text)
    with open(os.path.join(d, "report.html"), "w") as f:
        f.write("the page of an earlier run\n")
    return d


refused("no argument", [], ["report folder"])
refused("two folders", [r, r], ["unexpected argument"])
refused("a missing folder", [os.path.join(base, "nowhere")], ["nowhere", "cannot be read"])
d = bad_folder("empty", None)
refused("a folder without report.json", [d], ["report.json", "cannot be read"], d)
d = bad_folder("truncated", good[: len(good) // 2])
refused("a truncated report.json", [d], ["report.json"], d)
d = bad_folder("trailing", good + "{}\n")
refused("trailing data", [d], ["report.json"], d)
d = bad_folder("twice", good.replace('"command":', '"command":\t"run",\n\t"command":', 1))
refused("a member held twice", [d], ["report.json"], d)
d = bad_folder("check", json.dumps({"schema_version": 1, "command": "check"}))
refused("a command without a page", [d], ["'check'", "no page"], d)
d = bad_folder("nocommand", json.dumps({"schema_version": 1}))
refused("no command", [d], ["no command"], d)
d = bad_folder("array", "[1, 2, 3]\n")
refused("not an object", [d], ["no command"], d)

# report.html a folder: the rename fails, nothing is left under a temporary name.
d = os.path.join(base, "blocked")
shutil.copytree(r, d)
os.unlink(os.path.join(d, "report.html"))
os.makedirs(os.path.join(d, "report.html"))
refused("report.html a folder", [d], ["report.html"], d)

# --- a 16-allocator run ---------------------------------------------------------
libs = os.path.join(base, "libs")
os.makedirs(libs)
copies = []
for i in range(9):
    src = "/usr/lib/x86_64-linux-gnu/" + ("libmimalloc.so.2.0" if i % 2 else "libjemalloc.so.2")
    copies.append(os.path.join(libs, f"libcopy{i}.so"))
    shutil.copy(src, copies[-1])
names = ["glibc", "jemalloc", "tcmalloc", "mimalloc", "bump", "bump-fixed", "ref"] + copies
big = os.path.join(base, "sixteen")
p = run("run", "bulk-new", "--preset", "quick", "--allocator", ",".join(names), "--threads", "1,2",
        "--repetitions", "3", "--min-time", "0", "--out", big)
check(p.returncode == 0, f"16 allocators: exit {p.returncode}: {p.stderr[-400:]}")
if p.returncode == 0:
    doc = load_report(big)
    size = os.path.getsize(os.path.join(big, "report.html"))
    configs = len(doc["aggregates"])
    print(f"16 allocators, {len(doc['run']['variants'])} variants, threads 1,2: {configs} "
          f"configurations, report.html {size} bytes, report.json "
          f"{os.path.getsize(os.path.join(big, 'report.json'))} bytes")
    check(len(doc["context"]["subjects"]) == 16 and configs == 16 * 2 * len(doc["run"]["variants"]),
          f"16 allocators: {len(doc['context']['subjects'])} subjects, {configs} configurations")
    check(size < 1 << 20, f"16 allocators: report.html is {size} bytes, over 1 MB")

shutil.rmtree(base, ignore_errors=True)
done()
