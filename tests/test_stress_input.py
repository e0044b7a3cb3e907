"""Bad input to `stress` and `list profiles`: one line on stderr naming the
problem (a malformed profiles file by file and line), exit 2, no report; a
good profiles file of the same shape is accepted."""
import os
import shutil

from abtest import *

out = tmpdir()
shipped = os.path.join(SOURCE, "stress", "profiles.tsv")
lines = open(shipped).read().split("\n")


def variant(name, edit):
    """A copy of the shipped file with one edit; rows[i] is line i + 1."""
    path = os.path.join(out, name)
    rows = [l for l in lines]
    edit(rows)
    with open(path, "w") as f:
        f.write("\n".join(rows))
    return path


def set_field(row, col, value):
    def edit(rows):
        header = rows[0].split("\t")
        fields = rows[row].split("\t")
        fields[header.index(col)] = value
        rows[row] = "\t".join(fields)
    return edit


bad_threads = variant("threads.tsv", set_field(3, "threads", "many"))
bad_hooks = variant("hooks.tsv", set_field(2, "hugepages", "opt-in"))
bad_mix = variant("mix.tsv", set_field(4, "sizes", "64-8"))
bad_case = variant("case.tsv", set_field(5, "cases", "local-free,teleport"))
short = variant("short.tsv", lambda rows: rows.__setitem__(6, rows[6].rsplit("\t", 1)[0]))
no_col = variant("nocol.tsv", lambda rows: [rows.__setitem__(i, "\t".join(r.split("\t")[:-1]))
                                             for i, r in enumerate(rows) if r])
binary = os.path.join(out, "binary.tsv")
with open(binary, "wb") as f:
    f.write(b"profile\x00\tthreads\n")
never = os.path.join(out, "never")

cases = [
    ("no profile", ["stress"], 2, ["--profile", "ALLOCBENCH_USAGE"]),
    ("unknown profile", ["stress", "--profile", "fast"], 2, ["fast", "ALLOCBENCH_USAGE"]),
    ("unknown case", ["stress", "--profile", "hosted-small", "--case", "teleport"], 2,
     ["teleport", "ALLOCBENCH_USAGE"]),
    ("ops and duration", ["stress", "--profile", "hosted-small", "--ops", "5", "--duration", "1"], 2,
     ["--ops", "--duration", "ALLOCBENCH_USAGE"]),
    ("ops out of range", ["stress", "--profile", "hosted-small", "--ops", "0"], 2, ["--ops", "ALLOCBENCH_USAGE"]),
    ("duration not a number", ["stress", "--profile", "hosted-small", "--duration", "soon"], 2,
     ["--duration", "ALLOCBENCH_USAGE"]),
    ("unknown allocator", ["stress", "--profile", "hosted-small", "--allocator", "nosuch"], 2,
     ["nosuch", "ALLOCBENCH_UNKNOWN_ALLOCATOR"]),
    ("stray argument", ["stress", "--profile", "hosted-small", "extra"], 2, ["extra", "ALLOCBENCH_USAGE"]),
    ("missing profiles file", ["stress", "--profile", "hosted-small", "--profiles", "/nonexistent/p.tsv"], 2,
     ["/nonexistent/p.tsv", "ALLOCBENCH_BAD_INPUT"]),
    ("bad threads", ["stress", "--profile", "hosted-small", "--profiles", bad_threads], 2,
     [f"{bad_threads}:4:", "threads", "many", "ALLOCBENCH_BAD_INPUT"]),
    ("hooks outside hosted-server", ["stress", "--profile", "hosted-small", "--profiles", bad_hooks], 2,
     [f"{bad_hooks}:3:", "hosted-server", "ALLOCBENCH_BAD_INPUT"]),
    ("bad size mix", ["stress", "--profile", "hosted-small", "--profiles", bad_mix], 2,
     [f"{bad_mix}:5:", "sizes", "ALLOCBENCH_BAD_INPUT"]),
    ("unknown case in the file", ["stress", "--profile", "hosted-small", "--profiles", bad_case], 2,
     [f"{bad_case}:6:", "teleport", "ALLOCBENCH_BAD_INPUT"]),
    ("short row", ["stress", "--profile", "hosted-small", "--profiles", short], 2,
     [f"{short}:7:", "fields", "ALLOCBENCH_BAD_INPUT"]),
    ("missing column", ["stress", "--profile", "hosted-small", "--profiles", no_col], 2,
     [f"{no_col}:1:", "summary", "ALLOCBENCH_BAD_INPUT"]),
    ("not a text file", ["stress", "--profile", "hosted-small", "--profiles", binary], 2,
     [binary, "ALLOCBENCH_BAD_INPUT"]),
]
for what, args, code, words in cases:
    p = run(*args, "--out", never, timeout=120)
    lines_err = p.stderr.splitlines()
    check(p.returncode == code, f"{what}: exit {p.returncode}, expected {code} ({p.stderr.strip()})")
    check(len(lines_err) == 1 and lines_err[0].startswith("allocbench: error: "),
          f"{what}: stderr {p.stderr!r}")
    for w in words:
        check(w in p.stderr, f"{what}: '{w}' missing from {p.stderr.strip()!r}")
    check(p.stdout == "", f"{what}: wrote to stdout")
check(not os.path.exists(never), "a refused stress run made its report folder")

p = run("list", "profiles", env={"ALLOCBENCH_PROFILES": bad_threads})
check(p.returncode == 2 and f"{bad_threads}:4:" in p.stderr, f"list profiles, bad file: {p.returncode} {p.stderr}")

# The same shapes, valid: a copy of the shipped file is accepted and listed.
good = os.path.join(out, "good.tsv")
shutil.copy(shipped, good)
p = run("list", "profiles", env={"ALLOCBENCH_PROFILES": good})
check(p.returncode == 0, f"list profiles: exit {p.returncode} {p.stderr}")
for name in ("freestanding", "hosted-small", "hosted-server", "realtime", "test-fixture", "compiler-internal"):
    check(f"\n{name} — " in p.stdout, f"list profiles lacks {name}")
check("hugepage hooks opt-in" in p.stdout and p.stdout.count("hugepage hooks forbid") == 5,
      "list profiles: hooks")
good_out = tmpdir()
p = run("stress", "--profile", "test-fixture", "--profiles", good, "--case", "local-free", "--out", good_out,
        "--format", "tsv")
check(p.returncode == 0, f"valid profiles file: exit {p.returncode} {p.stderr}")
check(p.stdout.startswith("profile\tallocator\tcase\tverdict\t"), "--format tsv did not print the stress TSV")
r = load_report(good_out)
check(r["stress"]["profiles_file"] == good and r["cases"][0]["operations"] == 2 * 20000,
      f"valid profiles file: {r['stress']['profiles_file']} {r['cases'][0]['operations']}")
done()
