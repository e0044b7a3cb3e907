"""--format markdown prints GitHub-flavoured tables for run, fastpath and
stress: every table has a header row, a `---` separator and the same number
of cells in every row, `|` and markup escaped in cells (an allocator named
lib|ab*cr_ash keeps one cell), and each row's figures are report.json's, `-`
where report.json has null.  The shape and value checks fire on broken
tables and on a report that says otherwise."""
import copy
import re
import shutil

from abtest import *

SEPARATOR = re.compile(r"\|(\s*:?-{3,}:?\s*\|)+")


def cells(line):
    """A row's cells, unescaped (a backslash takes the next character as
    it is, a bare | ends a cell); None when the line is not a row."""
    if not (line.startswith("|") and line.endswith("|")) or len(line) < 2:
        return None
    out, cur, i = [], "", 1
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur += line[i + 1]
            i += 2
        elif ch == "|":
            out.append(cur.strip())
            cur = ""
            i += 1
        else:
            cur += ch
            i += 1
    return out


def tables(text):
    """The tables of text as (header, rows), and what is wrong with their shape."""
    found, problems, lines, i = [], [], text.split("\n"), 0
    if not text.endswith("\n"):
        problems.append("the output does not end with a newline")
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        block = []
        while i < len(lines) and lines[i].startswith("|"):
            block.append(lines[i])
            i += 1
        if len(block) < 2 or not SEPARATOR.fullmatch(block[1]):
            problems.append(f"a table without a separator row: {block[:2]}")
            continue
        parsed = [cells(l) for l in block]
        if any(p is None for p in parsed):
            problems.append(f"a row that does not start and end with |: {block}")
            continue
        widths = [len(p) for p in parsed]
        if len(set(widths)) != 1:
            problems.append(f"rows of {sorted(set(widths))} cells in one table: {block}")
            continue
        found.append((parsed[0], parsed[2:]))
    return found, problems


def num(cell, value, digits, scale=1.0, suffix=""):
    """Whether a cell shows value (in report.json) to its printed digits, or - for null."""
    if value is None:
        return cell == "-"
    if not cell.endswith(suffix):
        return False
    try:
        return abs(float(cell[:len(cell) - len(suffix)] if suffix else cell) - value * scale) \
            <= 0.5 * 10 ** -digits + 1e-9 * abs(value * scale)
    except ValueError:
        return False


def count(cell, value):
    return cell == ("-" if value is None else str(value))


def run_problems(text, rep):
    found, out = tables(text)
    if not found:
        return out + ["no table"]
    header, rows = found[0]
    want = ["variant", "allocator", "threads", "median ns", "95 % CI", "MAD", "Mops/s",
            "peak RSS KiB", "relative", "status"]
    if header != want:
        return out + [f"header {header}"]
    if len(rows) != len(rep["aggregates"]):
        out.append(f"{len(rows)} rows for {len(rep['aggregates'])} aggregates")
    for row, a in zip(rows, rep["aggregates"]):
        c = dict(zip(header, row))
        ns = a["ns_per_op"]
        what = f"{a['variant']} {a['allocator']} {a['threads']}"
        lo, hi = ns["ci95_low"], ns["ci95_high"]
        ci = c["95 % CI"].split(" to ")
        checks = [
            ("variant", c["variant"] == a["variant"]),
            ("allocator", c["allocator"] == a["allocator"]),
            ("threads", c["threads"] == str(a["threads"])),
            ("median ns", num(c["median ns"], ns["median"], 2)),
            ("95 % CI", c["95 % CI"] == "-" if lo is None else
             len(ci) == 2 and num(ci[0], lo, 2) and num(ci[1], hi, 2)),
            ("MAD", num(c["MAD"], ns["mad"], 2)),
            ("Mops/s", num(c["Mops/s"], a["ops_per_s"]["median"], 3, 1e-6)),
            ("peak RSS KiB", count(c["peak RSS KiB"], a["peak_rss_kib"])),
            ("relative", num(c["relative"], a["relative"], 3)),
            ("status", c["status"] == "ok" if a["status"] == "ok" and a["measured"] == a["trials"]
             else c["status"].startswith(a["status"])),
        ]
        for col, ok in checks:
            if not ok:
                out.append(f"{what}: {col} {c[col]!r}, report.json {a}")
    return out


COMPARISONS = ["variant", "threads", "allocator", "base", "ratio", "95 % CI", "p", "verdict"]


def comparisons_problems(text, rep):
    """The ratio table: report.json's comparisons[], where it has them; no
    such table where it has none."""
    found, out = tables(text)
    got = [rows for header, rows in found if header == COMPARISONS]
    cmps = rep.get("comparisons") or []
    if not cmps:
        return out + (["a ratio table without comparisons"] if got else [])
    if len(got) != 1:
        return out + [f"{len(got)} ratio tables"]
    if len(got[0]) != len(cmps):
        out.append(f"{len(got[0])} ratio rows for {len(cmps)} comparisons")
    for row, k in zip(got[0], cmps):
        c = dict(zip(COMPARISONS, row))
        ci = c["95 % CI"].split(" to ")
        verdict = (k["verdict"] or "-") + (" (noisy)" if k.get("noisy") else "")
        checks = [
            ("variant", c["variant"] == k["variant"]), ("threads", c["threads"] == str(k["threads"])),
            ("allocator", c["allocator"] == k["allocator"]), ("base", c["base"] == k["base"]),
            ("ratio", num(c["ratio"], k["ratio"], 3)),
            ("95 % CI", c["95 % CI"] == "-" if k["ci95_low"] is None else
             len(ci) == 2 and num(ci[0], k["ci95_low"], 3) and num(ci[1], k["ci95_high"], 3)),
            ("p", c["p"] == "-" if k["p_value"] is None else
             abs(float(c["p"]) - k["p_value"]) <= 5e-3 * k["p_value"] + 1e-12),
            ("verdict", c["verdict"] == verdict),
        ]
        for col, ok in checks:
            if not ok:
                out.append(f"ratio {k['variant']} {k['allocator']}: {col} {c[col]!r}, report.json {k}")
    return out


def fastpath_problems(text, rep):
    found, out = tables(text)
    if not found:
        return out + ["no table"]
    header, rows = found[0]
    if len(rows) != len(rep["rows"]):
        out.append(f"{len(rows)} rows for {len(rep['rows'])}")
    for row, r in zip(rows, rep["rows"]):
        c = dict(zip(header, row))
        ins = r["instructions"]
        checks = [
            ("allocator", c.get("allocator") == r["allocator"]), ("op", c.get("op") == r["op"]),
            ("size", c.get("size") == str(r["size"])), ("pattern", c.get("pattern") == r["pattern"]),
            ("instructions", count(c.get("instructions"), ins["p50"])),
            ("branches", count(c.get("branches"), r["branches"]["p50"])),
            ("conditional", count(c.get("conditional"), r["conditional"]["p50"])),
            ("min", count(c.get("min"), ins["min"])), ("p99", count(c.get("p99"), ins["p99"])),
            ("max", count(c.get("max"), ins["max"])), ("mean", num(c.get("mean", ""), ins["mean"], 2)),
            ("slow path", num(c.get("slow path", ""), r["slow_path_share"], 2, 100, " %")),
            ("status", c.get("status", "").startswith("ok" if r["status"] == "ok" else r["status"])),
        ]
        for col, ok in checks:
            if not ok:
                out.append(f"{r['allocator']} {r['op']} {r['size']}: {col} {c.get(col)!r}")
    return out


def stress_problems(text, rep):
    found, out = tables(text)
    if not found:
        return out + ["no table"]
    header, rows = found[0]
    if len(rows) != len(rep["cases"]):
        out.append(f"{len(rows)} rows for {len(rep['cases'])} cases")
    for row, k in zip(rows, rep["cases"]):
        c = dict(zip(header, row))
        ndiag = "-" if k["verdict"] == "not-applicable" else str(len(k["diagnostics"]))
        checks = [
            ("allocator", c.get("allocator") == k["allocator"]), ("case", c.get("case") == k["case"]),
            ("verdict", c.get("verdict") == k["verdict"]),
            ("operations", count(c.get("operations"), k["operations"])),
            ("blocks verified", count(c.get("blocks verified"), k["blocks_verified"])),
            ("diagnostics", c.get("diagnostics") == ndiag),
            ("seconds", num(c.get("seconds", ""), k["elapsed_s"], 2)),
        ]
        for col, ok in checks:
            if not ok:
                out.append(f"{k['allocator']} {k['case']}: {col} {c.get(col)!r}")
    diags = rep["diagnostics"]
    if diags:
        if len(found) < 2:
            return out + ["no diagnostics table"]
        header, rows = found[1]
        if len(rows) != len(diags):
            out.append(f"{len(rows)} diagnostics rows for {len(diags)}")
        for row, d in zip(rows, diags):
            if row != [d["code"], d["allocator"], d["case"], d["detail"], str(d["count"])]:
                out.append(f"diagnostics row {row}, report.json {d}")
    return out


def must_fire(problems_of, text, rep, what):
    check(problems_of(text, rep), f"the check missed {what}")


# --- the shape checks fire on broken tables ---------------------------------
good = "| a | b |\n|---|---:|\n| x\\|y | 1 |\n"
check(not tables(good)[1] and tables(good)[0] == [(["a", "b"], [["x|y", "1"]])], f"{tables(good)}")
for what, bad in [("an unescaped |", "| a | b |\n|---|---|\n| x|y | 1 |\n"),
                  ("no separator", "| a | b |\n| x | 1 |\n"),
                  ("a short row", "| a | b |\n|---|---|\n| x |\n"),
                  ("a separator of one dash", "| a | b |\n|-|-|\n| x | 1 |\n"),
                  ("no newline at the end", "| a | b |\n|---|---|\n| x | 1 |")]:
    check(tables(bad)[1], f"the shape check missed {what}")

# --- run ----------------------------------------------------------------------
# An allocator whose name holds | * and _ (a copy of the preloadable
# fixture that forwards to glibc, never misbehaving here); bulk is
# unavailable on both: a row of -.
lib = os.path.join(tmpdir(), "lib|ab*cr_ash.so")
shutil.copy(fixture("libab-crash.so"), lib)
out = tmpdir()
p = run("run", "bulk-new", "--variant", "loop,bulk", "--allocator", f"glibc,{lib}",
        "--repetitions", "6", "--rounds", "5", "--param", "n=256", "--out", out,
        "--format", "markdown", env={"AB_FIXTURE_AFTER": "1000000000"})
check(p.returncode == 0, f"run: exit {p.returncode}: {p.stderr}")
rep = load_report(out)
for x in run_problems(p.stdout, rep):
    check(False, f"run --format markdown: {x}")
check("lib\\|ab\\*cr\\_ash" in p.stdout, "run: the allocator's name is not escaped")
for x in comparisons_problems(p.stdout, rep):
    check(False, f"run --format markdown: {x}")
broken = copy.deepcopy(rep)
broken["comparisons"] = [{"variant": "loop", "threads": 1, "allocator": "x", "base": "glibc", "ratio": 1.0,
                          "ci95_low": None, "ci95_high": None, "p_value": None, "verdict": None}]
must_fire(comparisons_problems, p.stdout, broken, "a comparison the table lacks")
check("reports:" not in p.stdout, "run: a reports footer in the markdown")
check(any(a["status"] == "unavailable" for a in rep["aggregates"]) and
      any(a["status"] == "ok" for a in rep["aggregates"]), "run: not a measured and an unavailable row")
check(re.search(r"^- bulk on glibc: not available: ", p.stdout, re.M), "run: no note on bulk")
broken = copy.deepcopy(rep)
broken["aggregates"][0]["ns_per_op"]["median"] += 1
must_fire(run_problems, p.stdout, broken, "a median that is not report.json's")
broken = copy.deepcopy(rep)
broken["aggregates"][0]["peak_rss_kib"] = None
must_fire(run_problems, p.stdout, broken, "a figure where report.json has null")
must_fire(run_problems, p.stdout.replace("lib\\|ab", "lib|ab"), rep, "an unescaped | in a name")

# The workload's figures and the metric table.
out = tmpdir()
p = run("run", "tiny-box", "--preset", "quick", "--variant", "8", "--repetitions", "2",
        "--rounds", "2", "--out", out, "--format", "markdown")
check(p.returncode == 0, f"tiny-box: exit {p.returncode}: {p.stderr}")
rep = load_report(out)
found, shape = tables(p.stdout)
for x in shape + run_problems(p.stdout, rep):
    check(False, f"tiny-box --format markdown: {x}")
if check(len(found) == 2, f"tiny-box: {len(found)} tables"):
    header, rows = found[1]
    a = rep["aggregates"][0]
    for col, v in zip(header[3:], rows[0][3:]):
        name = col.split(" (")[0]
        m = a["metrics"][name]["median"]
        # Whole units from 1000 up, four significant digits below.
        check(num(v, m, 0) if abs(m) >= 1000 else abs(float(v) - m) <= 5e-4 * abs(m),
              f"tiny-box: {name} {v}, report.json {m}")

# --- fastpath -----------------------------------------------------------------
out = tmpdir()
p = run("fastpath", "--allocator", "glibc", "--sizes", "16,64", "--calls", "40",
        "--repetitions", "1", "--out", out, "--format", "markdown")
if check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr}"):
    rep = load_report(out)
    for x in fastpath_problems(p.stdout, rep):
        check(False, f"fastpath --format markdown: {x}")
    broken = copy.deepcopy(rep)
    broken["rows"][1]["instructions"]["p50"] += 1
    must_fire(fastpath_problems, p.stdout, broken, "a count that is not report.json's")

# --- stress -------------------------------------------------------------------
# A fixture that scribbles on live blocks: a diagnostics table.
out = tmpdir()
p = run("stress", "--profile", "hosted-small", "--case", "local-free,remote-free", "--ops", "1000",
        "--allocator", f"glibc,{fixture('libab-fix-scribble.so')}", "--out", out,
        "--format", "markdown")
check(p.returncode == 1, f"stress: exit {p.returncode}: {p.stderr}")
rep = load_report(out)
check(rep["diagnostics"], "stress: the scribbling fixture fired nothing")
for x in stress_problems(p.stdout, rep):
    check(False, f"stress --format markdown: {x}")
broken = copy.deepcopy(rep)
broken["cases"][0]["verdict"] = "fail"
must_fire(stress_problems, p.stdout, broken, "a verdict that is not report.json's")
broken = copy.deepcopy(rep)
broken["diagnostics"][0]["detail"] += "x"
must_fire(stress_problems, p.stdout, broken, "a diagnostic that is not report.json's")

# Not for trace: --format markdown is refused there.
p = run("trace", "--format", "markdown", "--", "true")
check(p.returncode == 2 and "--format markdown" in p.stderr, f"trace --format markdown: exit {p.returncode}: {p.stderr}")
done()
