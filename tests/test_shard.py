"""Shards: `--shard K/N` of run, fastpath and stress covers the unsharded
configurations exactly once between the N shards, each configuration with
all its allocators; `allocbench merge` puts them back into the unsharded
report (the same records in the same order, the same run block and
digest, the same files); slices are balanced by cost (allocators x
repetitions x threads); every refusal is exit 2 with one line."""
import json
import os
import shutil

from abtest import *

QUICK = ["--preset", "quick", "--rounds", "5", "--repetitions", "2", "--warmup", "1"]
MATRIX = ["bulk-new", "--variant", "loop,array", "--threads", "1,2",
          "--allocator", "glibc,jemalloc"] + QUICK


def shard_runs(cmd, args, n, base):
    """The n shards of cmd args, each into base/shard-K; their folders."""
    dirs = []
    for k in range(n):
        d = os.path.join(base, f"shard-{k}")
        p = run(cmd, *args, "--shard", f"{k}/{n}", "--out", d, "--format", "json")
        check(p.returncode == 0, f"{cmd} --shard {k}/{n}: exit {p.returncode}: {p.stderr}")
        dirs.append(d)
    return dirs


def keys(doc, array, fields):
    return [tuple(r[f] for f in fields) for r in doc[array]]


def merge(*args):
    return run("merge", *args, timeout=120)


def one_line_refusal(what, p, words):
    lines = p.stderr.splitlines()
    check(p.returncode == 2, f"{what}: exit {p.returncode}, expected 2 ({p.stderr.strip()})")
    check(len(lines) == 1, f"{what}: {len(lines)} stderr lines, expected one: {p.stderr!r}")
    for w in words:
        check(w in p.stderr, f"{what}: '{w}' not in {p.stderr.strip()!r}")


base = tmpdir()
CONFIG = ("variant", "threads", "allocator")

# --- run: three shards of 4 configurations x 2 allocators -----------------
whole = os.path.join(base, "whole")
p = run("run", *MATRIX, "--out", whole, "--format", "json")
check(p.returncode == 0, f"unsharded run: exit {p.returncode}: {p.stderr}")
w = load_report(whole)
check(w["shard"] is None, "an unsharded report's shard is not null")
check(w["matrix_digest"].startswith("sha256:") and len(w["matrix_digest"]) == 71,
      f"matrix_digest {w['matrix_digest']!r}")
shards = shard_runs("run", MATRIX, 3, os.path.join(base, "run"))
docs = [load_report(d) for d in shards]
seen = []
for k, d in enumerate(docs):
    check(d["shard"]["index"] == k and d["shard"]["count"] == 3, f"shard {k}: {d['shard']}")
    check(d["matrix_digest"] == w["matrix_digest"], f"shard {k}: another digest than unsharded")
    check(d["run"] == w["run"], f"shard {k}: its run block is not the unsharded one")
    confs = {(c["variant"], c["threads"]) for c in d["shard"]["configurations"]}
    # Every allocator of a configuration in the shard that has it.
    for a in d["aggregates"]:
        check((a["variant"], a["threads"]) in confs, f"shard {k} holds {a['variant']}/{a['threads']}")
    for c in confs:
        got = {a["allocator"] for a in d["aggregates"] if (a["variant"], a["threads"]) == c}
        check(got == {"glibc", "jemalloc"}, f"shard {k}: {c} has allocators {got}")
    seen += keys(d, "aggregates", CONFIG)
check(len(seen) == len(set(seen)), f"a configuration in two shards: {sorted(seen)}")
check(set(seen) == set(keys(w, "aggregates", CONFIG)),
      f"the shards cover {sorted(set(seen))}, unsharded {keys(w, 'aggregates', CONFIG)}")
check(sum(d["shard"]["cost"] for d in docs) == docs[0]["shard"]["matrix_cost"],
      "the slices' costs do not add up to the matrix's")
# Inside a shard the order stays interleaved: repetition, then configuration.
for k, d in enumerate(docs):
    reps = [t["repetition"] for t in d["trials"]]
    check(reps == sorted(reps), f"shard {k}: trials not repetition by repetition: {reps}")

merged = os.path.join(base, "merged")
p = merge(*reversed(shards), "--out", merged, "--format", "json")
check(p.returncode == 0, f"merge: exit {p.returncode}: {p.stderr}")
m = load_report(merged)
check(list(m.keys()) == list(w.keys()), f"merged keys {list(m.keys())}, unsharded {list(w.keys())}")
for arr, fields in (("trials", CONFIG + ("repetition",)), ("aggregates", CONFIG),
                    ("comparisons", CONFIG + ("base",)), ("diagnostics", CONFIG + ("repetition",))):
    check(keys(m, arr, fields) == keys(w, arr, fields),
          f"merged {arr} {keys(m, arr, fields)} differ from unsharded {keys(w, arr, fields)}")
check(m["run"] == w["run"] and m["matrix_digest"] == w["matrix_digest"] and m["shard"] is None,
      "merged run block, digest or shard differ from unsharded")
check(json.loads(p.stdout) == m, "merge --format json did not print the merged report.json")
check(sorted(os.listdir(merged)) == sorted(os.listdir(whole)),
      f"merged files {sorted(os.listdir(merged))}, unsharded {sorted(os.listdir(whole))}")
_, mrows = read_tsv(os.path.join(merged, "allocator-fast-path-benchmarks.tsv"))
_, wrows = read_tsv(os.path.join(whole, "allocator-fast-path-benchmarks.tsv"))
check([(r["variant"], r["threads"], r["allocator"]) for r in mrows] ==
      [(r["variant"], r["threads"], r["allocator"]) for r in wrows], "the merged TSV's rows differ")
ctx = m["context"]
check([x["shard"] for x in ctx["machines"]] == [0, 1, 2], f"machines {ctx.get('machines')}")
check(ctx["machines"][1]["started_utc"] == docs[1]["context"]["started_utc"],
      "machines[1] is not shard 1's context")
check(ctx["started_utc"] == min(d["context"]["started_utc"] for d in docs),
      "the merged start is not the first shard's")
check(ctx["hostname"] == w["context"]["hostname"], "the hostname all shards share was dropped")
check("merge" in ctx["command_line"], f"command_line {ctx['command_line']!r}")
check(not [l for l in p.stderr.splitlines() if "differ" in l],
      f"shards of one machine said to differ: {p.stderr}")

# --- balanced by cost: thread counts 1, 2, 3 and 8 in two shards ----------
bal = ["bulk-new", "--variant", "loop", "--threads", "1,2,3,8"] + QUICK
slices = []
for k in range(2):
    d = os.path.join(base, "bal", str(k))
    p = run("run", *bal, "--shard", f"{k}/2", "--out", d, "--format", "json")
    check(p.returncode == 0, f"balance shard {k}: exit {p.returncode}: {p.stderr}")
    doc = load_report(d)
    slices.append(([c["threads"] for c in doc["shard"]["configurations"]], doc["shard"]["cost"]))
    check(sorted({t["threads"] for t in doc["trials"]}) == slices[-1][0],
          f"shard {k} ran {sorted({t['threads'] for t in doc['trials']})}")
# 1 allocator x 2 repetitions x threads: 16 against 2 + 4 + 6.
check(slices == [([8], 16), ([1, 2, 3], 12)], f"slices {slices}, expected 8 | 1,2,3")

# --- one repetition: a shard's slice followed by configurations of others -
for k in range(2):
    d = os.path.join(base, "one-rep", str(k))
    p = run("run", "bulk-new", "--variant", "loop,array", "--allocator", "glibc", "--preset",
            "quick", "--rounds", "3", "--repetitions", "1", "--shard", f"{k}/2", "--out", d,
            "--format", "json")
    check(p.returncode == 0, f"one repetition, shard {k}/2: exit {p.returncode}: {p.stderr}")
    if p.returncode == 0:
        doc = load_report(d)
        check([(a["variant"], a["threads"]) for a in doc["aggregates"]] ==
              [(["loop", "array"][k], 1)], f"one repetition, shard {k}/2: {doc['aggregates']}")

# --- a crashed trial: its shard exits 1 with its report, and so does the merge
crash = ["bulk-new", "--variant", "loop,loop-shuffled", "--allocator", "glibc," + fixture("libab-crash.so"),
         "--rounds", "10", "--param", "n=500", "--repetitions", "1"]
crashed = []
for k in range(2):
    d = os.path.join(base, "crash", str(k))
    p = run("run", *crash, "--shard", f"{k}/2", "--out", d, "--format", "json",
            env={"AB_FIXTURE_AFTER": "2000"})
    check(p.returncode == 1, f"a crashing allocator, shard {k}/2: exit {p.returncode}, expected 1")
    crashed.append(d)
p = merge(*crashed, "--out", base + "/crash-merged", "--format", "json")
check(p.returncode == 1, f"merge of shards with crashed trials: exit {p.returncode}, expected 1")
if os.path.exists(base + "/crash-merged/report.json"):
    st = [t["status"] for t in load_report(base + "/crash-merged")["trials"]]
    check(st.count("crashed") == 2 and st.count("ok") == 2, f"merged trial statuses {st}")
p = merge(*shards, "--out", base + "/ok-merged", "--format", "json")
check(p.returncode == 0, f"merge of shards with every trial measured: exit {p.returncode}")

# --- refusals: exit 2, one line --------------------------------------------
def edited(src, name, change):
    d = os.path.join(base, name)
    shutil.copytree(src, d)
    path = os.path.join(d, "report.json")
    with open(path) as f:
        doc = json.load(f)
    change(doc)
    with open(path, "w") as f:
        json.dump(doc, f)
    return d

def set_index(doc):
    doc["shard"]["index"] = 1
dup = edited(shards[0], "dup", set_index)
one_line_refusal("a configuration twice", merge(shards[0], dup, shards[2], "--out", base + "/x"),
                 ["is in", "and in", "ALLOCBENCH_MERGE_MISMATCH"])
one_line_refusal("a shard twice", merge(shards[0], shards[1], shards[1], shards[2], "--out",
                 base + "/x"), ["shard 1/3 is given twice", "ALLOCBENCH_MERGE_MISMATCH"])
one_line_refusal("a shard missing", merge(shards[0], shards[2], "--out", base + "/x"),
                 ["shard 1/3 is missing", "ALLOCBENCH_MERGE_MISMATCH"])
def other_digest(doc):
    doc["matrix_digest"] = "sha256:" + "0" * 64
one_line_refusal("another matrix digest",
                 merge(shards[0], edited(shards[1], "digest", other_digest), shards[2], "--out",
                       base + "/x"), ["another matrix", "ALLOCBENCH_MERGE_MISMATCH"])
def other_build(doc):
    doc["context"]["allocbench"]["git_revision"] = "v0-0-gdeadbee"
one_line_refusal("another build",
                 merge(shards[0], shards[1], edited(shards[2], "build", other_build), "--out",
                       base + "/x"), ["deadbee", "one build", "ALLOCBENCH_MERGE_MISMATCH"])
def other_block(doc):
    doc["run"]["warmup"] = 7
one_line_refusal("another run block under one digest",
                 merge(shards[0], edited(shards[1], "block", other_block), shards[2], "--out",
                       base + "/x"), ["another matrix", "run block", "ALLOCBENCH_MERGE_MISMATCH"])
def foreign_trial(doc):
    doc["comparisons"].append(dict(docs[0]["comparisons"][0]))
one_line_refusal("a comparison of another shard's configuration",
                 merge(shards[0], edited(shards[1], "foreign", foreign_trial), shards[2], "--out",
                       base + "/x"), ["comparisons[", "does not hold", "ALLOCBENCH_BAD_INPUT"])
def variant_twice(doc):
    doc["run"]["variants"] = ["loop", "loop"]
one_line_refusal("a matrix listing a variant twice",
                 merge(edited(shards[0], "twice0", variant_twice),
                       edited(shards[1], "twice1", variant_twice),
                       edited(shards[2], "twice2", variant_twice), "--out", base + "/x"),
                 ["run.variants", "ALLOCBENCH_BAD_INPUT"])
def other_count(doc):
    doc["shard"]["count"] = 4
one_line_refusal("another split",
                 merge(shards[0], edited(shards[1], "count", other_count), shards[2], "--out",
                       base + "/x"), ["1/4", "ALLOCBENCH_MERGE_MISMATCH"])
one_line_refusal("not a shard", merge(whole, "--out", base + "/x"),
                 ["not a shard", "ALLOCBENCH_BAD_INPUT"])
one_line_refusal("--out over a shard", merge(shards[0], shards[1], shards[2], "--out", shards[1]),
                 ["--out", "ALLOCBENCH_USAGE"])
one_line_refusal("no --out", merge(*shards), ["--out", "ALLOCBENCH_USAGE"])
check(not os.path.exists(base + "/x"), "a refused merge wrote a report")
for cmd, args in (("run", ["bulk-new"]), ("fastpath", []), ("stress", ["--profile", "test-fixture"])):
    for bad, word in (("3/3", "outside"), ("0/0", "outside"), ("1/10001", "outside"),
                      ("-1/3", "not K/N"), ("2", "not K/N"), ("a/b", "not K/N")):
        one_line_refusal(f"{cmd} --shard {bad}",
                         run(cmd, *args, "--shard", bad, "--out", base + "/never"),
                         [f"--shard {bad}", word, "ALLOCBENCH_USAGE"])
check(not os.path.exists(base + "/never"), "a refused --shard wrote a report")

# --- machines that differ: merged, with a warning, null at the top --------
def other_cpu(doc):
    doc["context"]["cpu_model"] = "Another CPU"
    doc["context"]["subjects"][1]["version"] = "0.0.1"
p = merge(shards[0], edited(shards[1], "cpu", other_cpu), shards[2], "--out", base + "/cpu-merged")
check(p.returncode == 0, f"merge of differing machines: exit {p.returncode}: {p.stderr}")
check(p.stdout.startswith("context: ") and "3 shards merged" in p.stdout.splitlines()[0],
      f"the console's context line does not say the report is merged: {p.stdout[:200]!r}")
warns = [l for l in p.stderr.splitlines() if l.startswith("allocbench: warning:")]
check(any("cpu_model" in l and "Another CPU" in l for l in warns), f"no cpu_model warning: {warns}")
check(any("jemalloc's version" in l for l in warns), f"no allocator version warning: {warns}")
c = load_report(base + "/cpu-merged")["context"]
check(c["cpu_model"] is None and c["machines"][1]["cpu_model"] == "Another CPU",
      "the merged context does not say the CPUs differ")
check(c["subjects"][1]["version"] is None and c["subjects"][1]["name"] == "jemalloc"
      and c["subjects"][0]["version"] == w["context"]["subjects"][0]["version"],
      f"merged subjects {c['subjects']}")

# --- an empty slice, and a seed past 2^53 kept exact -------------------------
seed = "18446744073709551615"
few = ["bulk-new", "--variant", "loop", "--seed", seed] + QUICK
empty = []
for k in range(3):
    d = os.path.join(base, "few", str(k))
    p = run("run", *few, "--shard", f"{k}/3", "--out", d, "--format", "json")
    check(p.returncode == 0, f"few shard {k}: exit {p.returncode}: {p.stderr}")
    if k:
        check("has no configuration" in p.stderr, f"shard {k}/3 of one configuration: {p.stderr}")
        check(load_report(d)["trials"] == [], f"shard {k}/3 of one configuration ran trials")
    empty.append(d)
p = merge(*empty, "--out", base + "/few-merged")
check(p.returncode == 0, f"merge with empty shards: exit {p.returncode}: {p.stderr}")
with open(os.path.join(base, "few-merged", "report.json")) as f:
    text = f.read()
check(f'"seed":\t{seed}' in text or f'"seed": {seed}' in text or f'"seed":{seed}' in text,
      "the merged report lost the seed's exact value")

# --- fastpath: slices of sizes --------------------------------------------
fp = ["--sizes", "16,32,64", "--calls", "20", "--warmup", "10", "--repetitions", "1"]
fwhole = os.path.join(base, "fp-whole")
p = run("fastpath", *fp, "--out", fwhole, "--format", "json")
check(p.returncode == 0, f"fastpath: exit {p.returncode}: {p.stderr}")
fshards = shard_runs("fastpath", fp, 2, os.path.join(base, "fp"))
sizes = [sorted(c["size"] for c in load_report(d)["shard"]["configurations"]) for d in fshards]
check(sizes == [[16, 64], [32]], f"fastpath slices {sizes}")
p = merge(*fshards, "--out", base + "/fp-merged")
check(p.returncode == 0, f"fastpath merge: exit {p.returncode}: {p.stderr}")
fm, fw = load_report(base + "/fp-merged"), load_report(fwhole)
ROW = ("allocator", "op", "size", "pattern")
check(keys(fm, "rows", ROW) == keys(fw, "rows", ROW), f"merged rows {keys(fm, 'rows', ROW)}")
check([r["instructions"]["p50"] for r in fm["rows"]] == [r["instructions"]["p50"] for r in fw["rows"]],
      "merged fast-path counts differ from unsharded")
check(fm["matrix_digest"] == fw["matrix_digest"] and fm["config"] == fw["config"],
      "merged fastpath digest or config differ")
one_line_refusal("shards of two commands", merge(shards[0], fshards[0], "--out", base + "/x"),
                 ["fastpath", "ALLOCBENCH_MERGE_MISMATCH"])

# --- stress: slices of cases ------------------------------------------------
st = ["--profile", "test-fixture", "--case", "local-free,remote-free,fragmentation",
      "--ops", "100", "--allocator", "glibc,jemalloc"]
swhole = os.path.join(base, "st-whole")
p = run("stress", *st, "--out", swhole, "--format", "json")
check(p.returncode == 0, f"stress: exit {p.returncode}: {p.stderr}")
sshards = shard_runs("stress", st, 2, os.path.join(base, "st"))
p = merge(*sshards, "--out", base + "/st-merged")
check(p.returncode == 0, f"stress merge: exit {p.returncode}: {p.stderr}")
sm, sw = load_report(base + "/st-merged"), load_report(swhole)
check(keys(sm, "cases", ("allocator", "case")) == keys(sw, "cases", ("allocator", "case")),
      f"merged cases {keys(sm, 'cases', ('allocator', 'case'))}")
check(sm["matrix_digest"] == sw["matrix_digest"], "merged stress digest differs")
for d in sshards:
    cases = {c["case"] for c in load_report(d)["cases"]}
    for c in cases:
        got = {r["allocator"] for r in load_report(d)["cases"] if r["case"] == c}
        check(got == {"glibc", "jemalloc"}, f"{d}: case {c} with allocators {got}")
check(sorted(os.listdir(base + "/st-merged")) == sorted(os.listdir(swhole)),
      "merged stress files differ")
# The profiles file's path is the machine's: another one is the same matrix.
def other_path(doc):
    doc["stress"]["profiles_file"] = "/elsewhere/profiles.tsv"
p = merge(sshards[0], edited(sshards[1], "st-path", other_path), "--out", base + "/st-path-merged")
check(p.returncode == 0, f"stress shards with another profiles path: exit {p.returncode}: {p.stderr}")

# Other options, other digest.
p = run("run", *MATRIX[:-2], "--warmup", "2", "--out", base + "/other", "--format", "json")
check(p.returncode == 0, f"run with another warm-up: exit {p.returncode}")
check(load_report(base + "/other")["matrix_digest"] != w["matrix_digest"],
      "another --warmup gave the same matrix digest")
done()
