"""report.json's keys are the reference's: every key a real report carries
is documented in docs/report-json.md, and every documented key is in the
report.  A report from a run with a measured, an unavailable and a crashed
configuration exercises every object; two shards and their merge add
`shard` and `context.machines[]`."""
import os
import re

from abtest import *

def documented():
    text = doc_page("report-json.md")
    sections, path = {}, None
    for line in text.splitlines():
        h = re.match(r"## (?:`([^`]+)`|top level)$", line)
        if h:
            path = h.group(1) or ""
            sections[path] = {"keys": set(), "maps": set(), "also": []}
            continue
        if path is None:
            continue
        also = re.match(r"Also `([^`]+)`", line)
        if also:
            sections[path]["also"].append(also.group(1))
        row = re.match(r"\| (`[^|]+`) \| (.*) \|$", line)
        if row and not row.group(1).startswith("`key"):
            for k in re.findall(r"`([^`]+)`", row.group(1)):
                sections[path]["keys"].add(k)
                if "(map)" in row.group(2):
                    sections[path]["maps"].add(k)
    # "Also `x`": the same keys for the sibling x (a path with a dot: for
    # the object at that path).
    for p, s in list(sections.items()):
        for sib in s["also"]:
            parent = p.rsplit(".", 1)[0] if "." in p else ""
            sections[sib if "." in sib else (parent + "." if parent else "") + sib] = s
    return sections

def resolve(doc, path):
    """The objects at a documented path (a[] means every element of a)."""
    objs = [doc]
    for part in [p for p in path.split(".") if p]:
        nxt = []
        arr = part.endswith("[]")
        name = part[:-2] if arr else part
        for o in objs:
            v = o.get(name)
            if arr:
                nxt.extend(x for x in (v or []) if isinstance(x, dict))
            elif isinstance(v, dict):
                nxt.append(v)
        objs = nxt
    return objs

reports = []
out = tmpdir()
p = run("run", "bulk-new", "--allocator", f"glibc,jemalloc,{fixture('libab-crash.so')}",
        "--variant", "loop,bulk", "--repetitions", "2", "--rounds", "20", "--param", "n=500",
        "--out", out, env={"AB_FIXTURE_AFTER": "2000"})
check(p.returncode == 1, f"exit {p.returncode}: {p.stderr}")
doc = load_report(out)
statuses = {t["status"] for t in doc["trials"]}
check({"ok", "unavailable", "crashed"} <= statuses, f"the run did not exercise every status: {statuses}")
reports.append(doc)
# Phase samples, placement and metric summaries.
out2 = tmpdir()
p = run("run", "fragmentation", "--preset", "quick", "--allocator", "jemalloc",
        "--repetitions", "2", "--pin", "--out", out2)
check(p.returncode == 0, f"fragmentation: exit {p.returncode}: {p.stderr}")
reports.append(load_report(out2))
# Two shards of a run, and their merge.
shards = []
for k in range(2):
    d = tmpdir()
    p = run("run", "bulk-new", "--variant", "loop,array", "--repetitions", "2", "--rounds", "20",
            "--param", "n=500", "--shard", f"{k}/2", "--out", d)
    check(p.returncode == 0, f"shard {k}/2: exit {p.returncode}: {p.stderr}")
    shards.append(d)
    reports.append(load_report(d))
merged = tmpdir()
p = run("merge", *shards, "--out", merged)
check(p.returncode == 0, f"merge: exit {p.returncode}: {p.stderr}")
reports.append(load_report(merged))

sections = documented()
check(len(sections) >= 10, f"only {len(sections)} documented objects found in docs/report-json.md")
for path, s in sorted(sections.items()):
    objs = [o for d in reports for o in resolve(d, path)]
    if not check(objs, f"docs/report-json.md documents `{path or 'top level'}`, the report has no such object"):
        continue
    actual = set()
    for o in objs:
        actual |= set(o.keys())
    for k in sorted(actual - s["keys"]):
        check(False, f"report key `{path + '.' if path else ''}{k}` is not documented in docs/report-json.md")
    for k in sorted(s["keys"] - actual):
        check(False, f"docs/report-json.md documents `{path + '.' if path else ''}{k}`, the report lacks it")

# Every object in the report is covered by some section (maps excepted).
def walk(o, path):
    if isinstance(o, dict):
        yield path
        for k, v in o.items():
            sec = sections.get(path, {"maps": set()})
            if k in sec.get("maps", set()):
                continue
            yield from walk(v, (path + "." if path else "") + k)
    elif isinstance(o, list):
        for x in o:
            yield from walk(x, path + "[]")
for path in sorted(set(p for d in reports for p in walk(d, ""))):
    check(path in sections, f"report object `{path}` has no section in docs/report-json.md")
done()
