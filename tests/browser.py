"""report.html in a real browser, for the tests (test_html.py).

Headless Chromium loads a copy of a page with two scripts added: one at the
top of <head> that records every script error, and one at the end of <body>
that, once the page has loaded (its own script run, the layout done), writes
what it finds (every chart, each mark with its figure, row, <title> and box
from getBBox, the table under it, the errors, what was loaded) into the DOM
as JSON.  --dump-dom prints the DOM, the JSON is read back, and
page_problems() checks it against the report.json the page was drawn from.
"""
import html
import json
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

# $AB_CHROMIUM names another browser binary (empty: none, to see the test skip).
_named = os.environ.get("AB_CHROMIUM")
CHROMIUM = (_named if _named and os.path.exists(_named) else None) if _named is not None else \
    shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-extensions", "--disable-background-networking", "--mute-audio"]

WATCH = """<script>window.__abErrors=[];window.addEventListener('error',function(e){
__abErrors.push(String(e.message||e.type))},true);(function(){var ce=console.error;
console.error=function(){__abErrors.push('console.error: '+[].join.call(arguments,' '));
return ce.apply(console,arguments)}})();</script>"""

COLLECT = """<script>window.addEventListener('load',function(){
function txt(e){return e?e.textContent:null}
function own(e,sel){for(var c=e.firstElementChild;c;c=c.nextElementSibling)if(c.matches(sel))return c;return null}
function mark(m){var b=m.getBBox(),t=own(m,'title');return {tag:m.tagName,cls:m.getAttribute('class'),
 v:m.hasAttribute('data-v')?parseFloat(m.getAttribute('data-v')):null,
 row:m.hasAttribute('data-row')?parseInt(m.getAttribute('data-row')):null,
 x:b.x,y:b.y,w:b.width,h:b.height,title:t?t.textContent:'',fill:getComputedStyle(m).fill,
 text:m.tagName=='g'?txt(m.querySelector('text')):null}}
var out={errors:window.__abErrors,dark:matchMedia('(prefers-color-scheme: dark)').matches,
 bg:getComputedStyle(document.body).backgroundColor,
 resources:performance.getEntriesByType('resource').map(function(e){return e.name}),
 external:[].map.call(document.querySelectorAll('[src],[href]'),function(e){
  return e.getAttribute('src')||e.getAttribute('href')}).filter(function(u){return u.charAt(0)!='#'}),
 title:document.title,figures:[],
 sections:[].map.call(document.querySelectorAll('section[id]'),function(s){return s.id}),
 commandLine:txt(document.querySelector('#context pre')),
 copyButtons:document.querySelectorAll('button.copy').length,
 dataTables:document.querySelectorAll('table.data').length,
 elements:[].map.call(document.querySelectorAll('body *'),function(e){return e.tagName.toLowerCase()})
  .filter(function(v,i,a){return a.indexOf(v)==i})};
document.querySelectorAll('figure.chart').forEach(function(f){
 var svg=f.querySelector('svg.chart'),tb=f.querySelector('table.data'),fig={kind:f.getAttribute('data-chart'),
  title:svg&&own(svg,'title')?own(svg,'title').textContent:null,visibleTitle:svg?txt(svg.querySelector('text.ttl')):null,
  axisLabels:svg?[].map.call(svg.querySelectorAll('text.lbl'),function(t){return t.textContent}):[],
  marks:[],mini:[],heads:[],rows:[],legend:[].map.call(f.querySelectorAll('.legend li'),function(l){return l.textContent}),
  tableAfterChart:!!(svg&&tb&&(svg.compareDocumentPosition(tb)&Node.DOCUMENT_POSITION_FOLLOWING))};
 if(svg)svg.querySelectorAll('.mark').forEach(function(m){fig.marks.push(mark(m))});
 f.querySelectorAll('td svg .mark').forEach(function(m){fig.mini.push(mark(m))});
 if(tb){fig.heads=[].map.call(tb.tHead.rows[0].cells,function(c){return c.textContent});
  [].forEach.call(tb.tBodies[0].rows,function(r){fig.rows.push({row:r.hasAttribute('data-row')?
   parseInt(r.getAttribute('data-row')):null,cells:[].map.call(r.cells,function(c){return c.textContent})})})}
 out.figures.push(fig)});
var pre=document.createElement('pre');pre.id='ab-test-result';pre.textContent=JSON.stringify(out);
document.body.appendChild(pre)});</script>"""


def chromium(args, timeout=120):
    """Chromium with the test flags and its own profile folder; stdout."""
    profile = tempfile.mkdtemp(prefix="abtest-chromium-")
    try:
        p = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                           capture_output=True, text=True, timeout=timeout)
        return p
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def instrument(text):
    """The page with the error watch first in <head> and the collector last."""
    text = text.replace("<head>", "<head>\n" + WATCH, 1)
    i = text.rindex("</body>")
    return text[:i] + COLLECT + "\n" + text[i:]


def inspect_text(text, dark=False):
    """What the collector finds in page text (a dict), or raises."""
    d = tempfile.mkdtemp(prefix="abtest-page-")
    try:
        path = os.path.join(d, "report.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(instrument(text))
        p = chromium((["--force-dark-mode"] if dark else []) +
                     ["--virtual-time-budget=5000", "--dump-dom", "file://" + path])
        m = re.search(r'<pre id="ab-test-result">(.*?)</pre>', p.stdout, re.S)
        if not m:
            raise RuntimeError(f"chromium gave no result (exit {p.returncode}): {p.stderr[-800:]}")
        return json.loads(html.unescape(m.group(1)))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def inspect(path, dark=False):
    with open(path, encoding="utf-8") as f:
        return inspect_text(f.read(), dark)


def screenshot(path, size="1000,1400"):
    """A PNG of the page as Chromium draws it (bytes)."""
    d = tempfile.mkdtemp(prefix="abtest-shot-")
    try:
        png = os.path.join(d, "shot.png")
        chromium([f"--window-size={size}", f"--screenshot={png}", "file://" + os.path.abspath(path)])
        with open(png, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def print_pdf(path):
    """The page printed to paper (PDF bytes)."""
    d = tempfile.mkdtemp(prefix="abtest-pdf-")
    try:
        pdf = os.path.join(d, "page.pdf")
        chromium(["--no-pdf-header-footer", f"--print-to-pdf={pdf}", "file://" + os.path.abspath(path)])
        with open(pdf, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def png_pixels(data):
    """(width, height, rows of RGB(A) tuples' bytes) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"PNG depth {depth} colour type {ctype}"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def ink(data):
    """(distinct colours, share of pixels unlike the top-left one) of a PNG."""
    w, h, bpp, rows = png_pixels(data)
    bg, colours, other = rows[0][:3], set(), 0
    for r in rows:
        for x in range(0, w * bpp, bpp):
            px = r[x:x + 3]
            colours.add(px)
            other += px != bg
    return len(colours), other / (w * h)


# ------------------------------------------------------------- the checks

HORIZONTAL = {"ns-per-op", "instructions", "peak-rss"}   # bars along x
VERTICAL = {"latency", "sizes"}                          # bars along y
NO_AXES = {"stress-matrix"}
# What an axis label of each chart must say: its figure's unit.
UNITS = {"ns-per-op": "ns per", "instructions": "instructions per", "peak-rss": "bytes",
         "scaling": "per second", "phases": "bytes", "forest": "ratio",
         "fastpath-instructions": "instructions per call", "fastpath-slow-share": "%",
         "compare-forest": "HEAD / BASE", "latency": "ns", "sizes": "bytes"}


def close(a, b, rel=1e-4):
    return a is not None and b is not None and abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def bars_problems(fig):
    """Bars of one chart: one baseline, lengths proportional to figures."""
    bars = [m for m in fig["marks"] if m["tag"] == "rect" and "bar" in m["cls"].split() and m["v"] is not None]
    if not bars:
        return []
    out = []
    horizontal = fig["kind"] in HORIZONTAL
    length = [(m["w"] if horizontal else m["h"]) for m in bars]
    base = [(m["x"] if horizontal else m["y"] + m["h"]) for m in bars]
    if max(base) - min(base) > 0.25:
        out.append(f"{fig['kind']} {fig['title']!r}: bars start at {min(base)}..{max(base)} px, not one baseline")
    top = max(range(len(bars)), key=lambda i: bars[i]["v"])
    if bars[top]["v"] <= 0:
        return out
    k = length[top] / bars[top]["v"]
    for m, l in zip(bars, length):
        if abs(l - k * m["v"]) > 0.3 + 0.002 * l:
            out.append(f"{fig['kind']} {fig['title']!r}: a bar of {m['v']} is {l:.2f} px, "
                       f"not {k * m['v']:.2f} (proportional to {bars[top]['v']} at {length[top]:.2f})")
    return out


def figure_problems(fig):
    """What every chart must have, whatever it draws."""
    out, name = [], f"{fig['kind']} {fig['title']!r}"
    if not fig["title"] or fig["title"] != fig["visibleTitle"]:
        out.append(f"{fig['kind']}: title {fig['title']!r}, visible {fig['visibleTitle']!r}")
    if fig["kind"] not in NO_AXES and not fig["axisLabels"]:
        out.append(f"{name}: no axis label")
    unit = UNITS.get(fig["kind"])
    if unit and not any(unit in lbl for lbl in fig["axisLabels"]):
        out.append(f"{name}: no axis label names {unit!r}: {fig['axisLabels']}")
    if not fig["marks"]:
        out.append(f"{name}: no marks")
    for m in fig["marks"] + fig["mini"]:
        if not m["title"].strip():
            out.append(f"{name}: a {m['tag']} mark without <title>")
    if not fig["rows"] or not fig["tableAfterChart"]:
        out.append(f"{name}: no table under the chart")
    rows = {r["row"] for r in fig["rows"] if r["row"] is not None}
    for m in fig["marks"]:
        if m["row"] is not None and m["row"] not in rows:
            out.append(f"{name}: a mark of row {m['row']}, which the table lacks")
    return out + bars_problems(fig)


def page_problems(found, doc):
    """Everything a page of doc must hold, as a list of what is wrong."""
    out = []
    if found["errors"]:
        out.append(f"script errors: {found['errors']}")
    if found["resources"] or found["external"]:
        out.append(f"resources loaded: {found['resources']}, referred to: {found['external']}")
    for s in ("context", "diagnostics"):
        if s not in found["sections"]:
            out.append(f"no section {s!r} (sections: {found['sections']})")
    want = doc.get("context", {}).get("command_line")
    if want and found["commandLine"] != want:
        out.append(f"command line {found['commandLine']!r}, report.json says {want!r}")
    if found["copyButtons"] != found["dataTables"]:
        out.append(f"{found['copyButtons']} copy buttons for {found['dataTables']} tables")
    for fig in found["figures"]:
        out += figure_problems(fig)
    kind = doc.get("command")
    out += {"run": run_problems, "fastpath": fastpath_problems, "stress": stress_problems,
            "compare": compare_problems, "trace": trace_problems}[kind](found, doc)
    return out


def points(fig):
    return [m for m in fig["marks"] if m["tag"] == "circle"]


def bars(fig):
    return [m for m in fig["marks"] if m["tag"] == "rect"]


def figs(found, kind, prefix=None):
    return [f for f in found["figures"] if f["kind"] == kind and (prefix is None or f["title"].startswith(prefix))]


def values_problems(name, marks, want):
    """Each mark's figure is the document's figure of its row."""
    out = []
    for m in marks:
        w = want.get(m["row"])
        if not close(m["v"], w):
            out.append(f"{name}: mark of row {m['row']} holds {m['v']}, the report {w}")
    return out


def run_problems(found, doc):
    out = []
    threads = doc["run"]["threads"]
    for v in doc["run"]["variants"]:
        ag = [a for t in threads for a in doc["aggregates"] if a["variant"] == v and a["threads"] == t]
        med = {i: a["ns_per_op"]["median"] for i, a in enumerate(ag) if a["ns_per_op"]["median"] is not None}
        f = figs(found, "ns-per-op", v + ":")
        if len(f) != 1:
            out.append(f"run {v}: {len(f)} ns-per-op charts")
            continue
        f = f[0]
        if len(bars(f)) != len(med) or len(f["rows"]) != len(ag):
            out.append(f"run {v}: {len(bars(f))} bars and {len(f['rows'])} rows for "
                       f"{len(med)} medians of {len(ag)} configurations")
        out += values_problems(f"run {v} ns-per-op", bars(f), med)
        cis = [m for m in f["marks"] if "ci" in m["cls"].split()]
        want_ci = sum(1 for a in ag if a["ns_per_op"]["ci95_low"] is not None and a["ns_per_op"]["ci95_high"] is not None)
        if len(cis) != want_ci:
            out.append(f"run {v}: {len(cis)} CI whiskers for {want_ci} intervals")
        rss = {i: a["peak_rss_kib"] * 1024 for i, a in enumerate(ag) if a.get("peak_rss_kib") is not None}
        f = figs(found, "peak-rss", v + ":")
        if rss and (len(f) != 1 or len(bars(f[0])) != len(rss)):
            out.append(f"run {v}: peak RSS: {[len(bars(x)) for x in f]} bars for {len(rss)} figures")
        elif rss:
            out += values_problems(f"run {v} peak-rss", bars(f[0]), rss)
        ops = {i: a["ops_per_s"]["median"] for i, a in enumerate(ag) if a["ops_per_s"]["median"] is not None}
        f = figs(found, "scaling", v + ":")
        if len(threads) > 1 and ops:
            if len(f) != 1 or len(points(f[0])) != len(ops):
                out.append(f"run {v}: scaling: {[len(points(x)) for x in f]} points for {len(ops)} medians")
            else:
                out += values_problems(f"run {v} scaling", points(f[0]), ops)
                names = {a["allocator"] for a in ag}
                lines = [m for m in f[0]["marks"] if "ln" in m["cls"].split()]
                if len(lines) != len(names) or len(f[0]["legend"]) != len(names):
                    out.append(f"run {v}: scaling: {len(lines)} lines, legend {f[0]['legend']} for {sorted(names)}")
        elif f:
            out.append(f"run {v}: a scaling chart with one thread count")
        cmp = [c for t in threads for c in doc.get("comparisons", []) if c["variant"] == v and c["threads"] == t]
        f = figs(found, "forest", v + ":")
        if cmp:
            ratios = {i: c["ratio"] for i, c in enumerate(cmp) if c["ratio"] is not None}
            if len(f) != 1 or len(points(f[0])) != len(ratios) or len(f[0]["rows"]) != len(cmp):
                out.append(f"run {v}: forest: {[len(points(x)) for x in f]} points for {len(ratios)} ratios")
            else:
                out += values_problems(f"run {v} forest", points(f[0]), ratios)
        sampled = [r for r in doc["trials"] if r["variant"] == v and r.get("samples")]
        f = figs(found, "phases", v + ",")
        if sampled and not f:
            out.append(f"run {v}: trials sampled phases and no phases chart")
        for x in f:
            # One point per RSS figure of the table (columns: phase, then RSS
            # and live bytes per allocator).
            cells = sum(1 for r in x["rows"] for c in r["cells"][1::2] if c != "-")
            if len(points(x)) != cells:
                out.append(f"run {v}: phases: {len(points(x))} points for {cells} RSS figures")
    return out


def log2_bins(hist):
    """Occupied log2 bins of a {value: calls} histogram (bin 0 holds 0)."""
    return {0 if float(k) < 1 else min(65, math.floor(math.log2(float(k))) + 1)
            for k, n in hist.items() if n and n > 0}


def fastpath_problems(found, doc):
    out = []
    ops = []
    for r in doc["rows"]:
        if r["op"] not in ops:
            ops.append(r["op"])
    for op in ops:
        rows = [r for r in doc["rows"] if r["op"] == op]
        counted = [r for r in rows if r["status"] == "ok" and r["instructions"]["p50"] is not None]
        f = figs(found, "fastpath-instructions", op + ":")
        if len(f) != 1:
            out.append(f"fastpath {op}: {len(f)} instruction charts")
            continue
        f = f[0]
        if len(points(f)) != len(counted) or len(f["rows"]) != len(rows):
            out.append(f"fastpath {op}: {len(points(f))} points and {len(f['rows'])} rows for "
                       f"{len(counted)} counted of {len(rows)} rows")
        # Row i of the table is the row of its allocator, pattern and size.
        by_key = {(r["allocator"], r["pattern"], str(r["size"])): r for r in rows}
        want, bins_want = {}, {}
        for t in f["rows"]:
            r = by_key.get((t["cells"][0], t["cells"][1], t["cells"][2]))
            if r is None:
                out.append(f"fastpath {op}: a table row {t['cells'][:3]} the report lacks")
                continue
            if r in counted:
                want[t["row"]] = r["instructions"]["p50"]
            bins_want[t["row"]] = len(log2_bins(r["instructions"].get("histogram") or {}))
        out += values_problems(f"fastpath {op}", points(f), want)
        for row, n in bins_want.items():
            got = sum(1 for m in f["mini"] if m["row"] == row)
            if got != n:
                out.append(f"fastpath {op}: row {row}'s histogram has {got} bars for {n} occupied bins")
        shares = [r for r in rows if r["status"] == "ok" and r.get("slow_path_share") is not None]
        f = figs(found, "fastpath-slow-share", op + ":")
        if shares and (len(f) != 1 or len(points(f[0])) != len(shares)):
            out.append(f"fastpath {op}: slow share: {[len(points(x)) for x in f]} points for {len(shares)} shares")
    return out


def stress_problems(found, doc):
    out = []
    f = figs(found, "stress-matrix")
    if len(f) != 1:
        return [f"stress: {len(f)} verdict matrices"]
    f = f[0]
    cells = [m for m in f["marks"] if m["tag"] == "g"]
    if len(cells) != len(doc["cases"]) or len(f["rows"]) != len(doc["cases"]):
        out.append(f"stress: {len(cells)} cells and {len(f['rows'])} rows for {len(doc['cases'])} cases")
    words = {"pass": "pass", "fail": "FAIL", "incomplete": "incomplete", "not-applicable": "n/a"}
    fills = {}
    for m in cells:
        c = doc["cases"][m["row"]]
        v = c["verdict"]
        cls = {"pass": "v-pass", "fail": "v-fail", "incomplete": "v-incomplete", "not-applicable": "v-na"}
        if cls.get(v, "v-none") not in m["cls"].split() or \
                m["text"] != words.get(v, v) or c["allocator"] not in m["title"] or c["case"] not in m["title"]:
            out.append(f"stress: the cell of {c['allocator']} {c['case']} ({v}) says {m['text']!r}, "
                       f"class {m['cls']!r}, title {m['title']!r}")
        fills.setdefault(v, set()).add(m["fill"])
    if "pass" in fills and "fail" in fills and fills["pass"] & fills["fail"]:
        out.append(f"stress: pass and fail cells share a colour {fills}")
    failed = [(c["allocator"], c["case"], k["name"]) for c in doc["cases"] for k in c.get("checks", [])
              if k["verdict"] == "failed"]
    for a, c, k in failed:
        if not any(a in m["title"] and c in m["title"] and k in m["title"] for m in cells):
            out.append(f"stress: the failed check {k} of {a} {c} is not in its cell's title")
    return out


def compare_problems(found, doc):
    f = figs(found, "compare-forest")
    rows = doc["rows"]
    if not rows:
        return [] if not f else ["compare: a forest plot without rows"]
    if len(f) != 1:
        return [f"compare: {len(f)} forest plots"]
    f = f[0]
    if doc["compare"]["of"] == "run":
        want = {i: r["ratio"] for i, r in enumerate(rows) if r["ratio"] is not None}
    else:
        want = {i: r["instructions"]["head"] / r["instructions"]["base"] for i, r in enumerate(rows)
                if r["instructions"]["base"] and r["instructions"]["head"] is not None}
    out = []
    if len(points(f)) != len(want) or len(f["rows"]) != len(rows):
        out.append(f"compare: {len(points(f))} points and {len(f['rows'])} rows for {len(want)} ratios of {len(rows)} rows")
    return out + values_problems("compare", points(f), want)


def trace_problems(found, doc):
    out = []
    lat = figs(found, "latency")
    fns = [fn for fn in doc["trace"]["functions"] if any(b["count"] > 0 for b in fn.get("latency_histogram_ns") or [])]
    if len(lat) != len(fns) + (1 if fns else 0):
        out.append(f"trace: {len(lat)} latency charts for {len(fns)} functions with calls and the whole")
    for fn in fns:
        f = [x for x in lat if x["title"].startswith(fn["function"] + ":")]
        want = {i: b["count"] for i, b in enumerate(fn["latency_histogram_ns"]) if b["count"] > 0}
        if len(f) != 1 or len(bars(f[0])) != len(want):
            out.append(f"trace {fn['function']}: {[len(bars(x)) for x in f]} bars for {len(want)} occupied bins")
        else:
            out += values_problems(f"trace {fn['function']}", bars(f[0]), want)
    return out
