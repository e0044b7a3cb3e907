"""report.html of every command, rendered in headless Chromium (browser.py).

Real reports of run (several thread counts, and a workload that samples
its phases; two shards and their merge), fastpath (both patterns), stress (a fixture that fails a
check), compare (run and fast-path reports) and trace (when it can attach
here) are loaded in the browser, and each page is checked against its own
report.json: no script errors and nothing loaded, the charts each kind
must have with a title, axis labels naming their units and a <title> on
every mark, one mark per figure of the table under the chart, the mark's
figure the report's, bars proportional to their figures from one
baseline; the context's command line; a screenshot that is not blank; a
dark theme under prefers-color-scheme; a printout.  The checks are then
run on broken copies of a page (a script error, a bar drawn twice as long,
a mark gone, a mark's <title> gone, a stylesheet loaded) and must fire on
each; a blank screenshot must read as blank.
"""
import json
import os
import re
import shutil
import subprocess

from abtest import AB, check, done, fixture, load_report, run, skip, tmpdir
import browser

if not browser.CHROMIUM:
    skip("no chromium here (Debian's chromium package; scripts/setup installs it)")
p = browser.chromium(["--version"])
if p.returncode != 0:
    skip(f"chromium does not start here: {p.stderr.strip()[-300:]}")

base = tmpdir()


def made(name, *args, ok=(0,)):
    out = os.path.join(base, name)
    p = run(*args, "--out", out)
    check(p.returncode in ok, f"{name}: exit {p.returncode}: {p.stderr[-600:]}")
    check(os.path.join(out, "report.html") in p.stdout,
          f"{name}: the reports line does not name report.html: {p.stdout[-300:]!r}")
    return out


def page_ok(name, out, want_kinds):
    """The page of out, checked; what the browser found."""
    doc = load_report(out)
    with open(os.path.join(out, "report.html"), encoding="utf-8") as fh:
        text = fh.read()
    outside = re.findall(r'(?:src|href)="(?!#)[^"]*"|url\(|@import', text)
    check(not outside, f"{name}: the page refers outside itself: {outside[:3]}")
    found = browser.inspect(os.path.join(out, "report.html"))
    for problem in browser.page_problems(found, doc):
        check(False, f"{name}: {problem}")
    kinds = {f["kind"] for f in found["figures"]}
    check(set(want_kinds) <= kinds, f"{name}: charts {sorted(kinds)}, want {sorted(want_kinds)}")
    return found, doc


# A library file whose name is markup: its name must be text on the page.
odd = os.path.join(base, "lib<i>odd&.so")
shutil.copy("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", odd)
allocs = ",".join(["glibc", "jemalloc", "mimalloc", odd])

r = made("run", "run", "bulk-new", "--preset", "quick", "--allocator", allocs, "--threads", "1,2",
         "--variant", "loop,array", "--repetitions", "4", "--min-time", "0")
found, doc = page_ok("run", r, {"ns-per-op", "scaling", "peak-rss", "forest"})
check(len(browser.figs(found, "ns-per-op")) == 2, "run: one ns-per-op chart per variant")
check("i" not in found["elements"], f"run: a file name became markup: {found['elements']}")
check(any("lib<i>odd&" in r["cells"][0] for f in found["figures"] for r in f["rows"]),
      "run: the odd library's name is not in a table as text")
classes = {m["cls"].split()[2] for f in browser.figs(found, "ns-per-op") for m in browser.bars(f)}
check(len(classes) == 4, f"run: four allocators drawn in {sorted(classes)}")
fills = {m["fill"] for f in browser.figs(found, "ns-per-op") for m in browser.bars(f)}
okabe_ito = {"rgb(0, 114, 178)", "rgb(230, 159, 0)", "rgb(0, 158, 115)", "rgb(213, 94, 0)"}
check(fills == okabe_ito, f"run: the first four series are not Okabe and Ito's colours: {fills}")
run_page = os.path.join(r, "report.html")

# Two shards of one matrix and their merge: each a page, the merge's naming
# both machines.
shards = [made(f"shard{k}", "run", "bulk-new", "--preset", "quick", "--allocator", "glibc,mimalloc",
               "--threads", "1,2", "--variant", "loop", "--repetitions", "4", "--min-time", "0",
               "--shard", f"{k}/2") for k in (0, 1)]
for k, sh in enumerate(shards):
    page_ok(f"shard {k}", sh, {"ns-per-op"})
merged = os.path.join(base, "merged")
p = run("merge", *shards, "--out", merged)
check(p.returncode == 0, f"merge: exit {p.returncode}: {p.stderr[-300:]}")
if p.returncode == 0:
    found, doc = page_ok("merged", merged, {"ns-per-op", "scaling", "peak-rss"})
    with open(os.path.join(merged, "report.html"), encoding="utf-8") as fh:
        text = fh.read()
    table = text.split('<table class="data machines">', 1)[-1].split("</table>", 1)[0]
    check(table.count("<tr>") == 1 + 2, f"merged: the machines table has {table.count('<tr>') - 1} rows, want 2")

f = made("fragmentation", "run", "fragmentation", "--preset", "quick", "--allocator", "glibc,mimalloc",
         "--repetitions", "2", "--min-time", "0")
page_ok("fragmentation", f, {"ns-per-op", "phases", "peak-rss"})

fp = made("fastpath", "fastpath", "--allocator", "glibc,jemalloc", "--sizes", "16,64,1024",
          "--pattern", "pairs,batch", "--calls", "100", "--repetitions", "1")
found, doc = page_ok("fastpath", fp, {"fastpath-instructions", "fastpath-slow-share"})
check(len(browser.figs(found, "fastpath-instructions")) == 2, "fastpath: one chart per op (malloc, free)")
check(any(f["mini"] for f in found["figures"]), "fastpath: no small histograms in the tables")
dashed = [m for f in browser.figs(found, "fastpath-instructions") for m in f["marks"]
          if "ln" in m["cls"].split() and "dash" in m["cls"].split()]
check(len(dashed) == 2 * 2, f"fastpath: {len(dashed)} dashed batch lines, want 2 allocators x 2 ops")

misalign = fixture("libab-fix-misalign.so")
st = made("stress", "stress", "--profile", "hosted-small", "--allocator", "glibc," + misalign,
          "--case", "local-free,remote-free", "--ops", "2000", ok=(1,))
found, doc = page_ok("stress", st, {"stress-matrix"})
verdicts = {c["verdict"] for c in doc["cases"]}
check("pass" in verdicts and "fail" in verdicts, f"stress: the fixture's verdicts are {verdicts}")
check(any("ALLOCBENCH_BLOCK_CONTRACT" in c for f in found["figures"] for r in f["rows"] for c in r["cells"]),
      "stress: the failing case's diagnostic is not in the matrix's table")

b = made("base", "run", "bulk-new", "--preset", "quick", "--allocator", "glibc,mimalloc",
         "--variant", "loop", "--repetitions", "4", "--min-time", "0")
c = os.path.join(base, "compare")
p = run("compare", b, r, "--out", c)
check(p.returncode in (0, 1) and os.path.exists(os.path.join(c, "report.html")),
      f"compare: exit {p.returncode}, {p.stderr[-300:]}")
if os.path.exists(os.path.join(c, "report.html")):
    page_ok("compare", c, {"compare-forest"})
cf = os.path.join(base, "compare-fastpath")
p = run("compare", fp, fp, "--out", cf)
check(p.returncode == 0, f"compare fastpath: exit {p.returncode}, {p.stderr[-300:]}")
if os.path.exists(os.path.join(cf, "report.html")):
    found, doc = page_ok("compare fastpath", cf, {"compare-forest"})
    check(all(m["v"] == 1 for f in found["figures"] for m in browser.points(f)),
          "compare fastpath: a report against itself is not 1 on every row")

if "trace" in run("--help").stdout and os.geteuid() == 0:
    t = os.path.join(base, "trace")
    p = run("trace", "--out", t, "--", "python3", "-c", "x = [bytes(i % 3000) for i in range(20000)]")
    if p.returncode == 0:
        page_ok("trace", t, {"latency", "sizes"})
    else:
        print(f"trace not checked: it cannot attach here (exit {p.returncode}): {p.stderr.strip()[-200:]}")
else:
    print("trace not checked: allocbench trace needs root and a build with libbpf")

# --- what a reader sees -----------------------------------------------------
colours, share = browser.ink(browser.screenshot(run_page))
check(colours >= 16 and share >= 0.05, f"run: the screenshot looks blank ({colours} colours, {share:.1%} ink)")
blank = os.path.join(base, "blank.html")
with open(blank, "w") as f:
    f.write("<!DOCTYPE html><html><body></body></html>\n")
colours, share = browser.ink(browser.screenshot(blank))
check(colours < 16 or share < 0.05, f"a blank page reads as not blank ({colours} colours, {share:.1%})")

light, dark = browser.inspect(run_page), browser.inspect(run_page, dark=True)
check(not light["dark"] and dark["dark"], "prefers-color-scheme was not what was asked")
check(light["bg"] != dark["bg"], f"the dark theme has the light one's background {dark['bg']}")
check(not dark["errors"], f"dark theme: script errors {dark['errors']}")

pdf = browser.print_pdf(run_page)
pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
check(pdf[:5] == b"%PDF-" and pages >= 1, f"the printout: {len(pdf)} bytes, {pages} pages")

# --- the checks fire on broken pages -----------------------------------------
with open(run_page, encoding="utf-8") as fh:
    text = fh.read()
doc = load_report(r)


def broken(what, change):
    t = change(text)
    check(t != text, f"broken page '{what}': the change did not apply")
    problems = browser.page_problems(browser.inspect_text(t), doc)
    check(problems, f"broken page '{what}': the checks found nothing wrong")
    print(f"broken page {what!r}: {problems[:2]}")


def longer_bar(t):
    i = t.index('class="mark bar')
    j = t.index('width="', i) + len('width="')
    k = t.index('"', j)
    return t[:j] + str(float(t[j:k]) * 2) + t[k:]


def drop_mark(t):
    i = t.index('<rect class="mark bar')
    return t[:i] + t[t.index("</rect>", i) + len("</rect>"):]


def drop_title(t):
    i = t.index('<rect class="mark bar')
    j = t.index("<title>", i)
    return t[:j] + t[t.index("</title>", j) + len("</title>"):]


broken("a script error", lambda t: t.replace("</main>", "<script>noSuchFunction()</script></main>", 1))
broken("a bar twice as long", longer_bar)
broken("a mark gone", drop_mark)
broken("a mark without <title>", drop_title)
broken("a stylesheet loaded", lambda t: t.replace("</head>", '<link rel="stylesheet" href="extra.css"></head>', 1))

shutil.rmtree(base, ignore_errors=True)
done()
