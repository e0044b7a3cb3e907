"""Paths reach the trial and the reports faithfully.

An allocator at a path with a space, a colon, a tab or a byte that is not
UTF-8 is the allocator that runs (LD_PRELOAD cannot carry such a path: it
goes through a private link, which is gone after the run), and the reports
name its real path: the TSV escapes tab, newline, carriage return and
backslash (and the field reads back exactly); report.json stays valid
UTF-8, the stray byte as U+FFFD with the exact bytes in "<name>_hex"."""
import glob
import json
import shutil

from abtest import *

JEMALLOC = None
for cand in ["/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "/usr/lib/libjemalloc.so.2"]:
    if os.path.exists(cand):
        JEMALLOC = cand
if not JEMALLOC:
    skip("no libjemalloc.so.2 to copy (scripts/setup installs it)")


def unescape(field):
    out, i = bytearray(), 0
    b = field.encode("utf-8", "surrogateescape")
    while i < len(b):
        if b[i:i + 1] == b"\\" and i + 1 < len(b):
            out += {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}[b[i + 1:i + 2]]
            i += 2
        else:
            out += b[i:i + 1]
            i += 1
    return bytes(out)


links_before = set(glob.glob("/tmp/allocbench-preload.*"))
root = tmpdir().encode()
for name in [b"with space", b"colon:s", b"tab\there", b"back\\slash", b"not-utf8-\xff\xfe"]:
    d = os.path.join(root, name)
    os.mkdir(d)
    lib = os.path.join(d, b"libje " + name.replace(b"/", b"_") + b".so")
    shutil.copy(JEMALLOC, lib)
    out = tmpdir()
    p = subprocess.run([AB.encode(), b"run", b"bulk-new", b"--variant", b"loop", b"--repetitions", b"2",
                        b"--rounds", b"1", b"--param", b"n=64", b"--allocator", lib, b"--out",
                        out.encode()], capture_output=True, timeout=300)
    what = repr(name)
    check(p.returncode == 0, f"{what}: exit {p.returncode}: {p.stderr[-300:]!r}")
    raw = open(os.path.join(out, "report.json"), "rb").read()
    try:
        r = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        check(False, f"{what}: report.json is not UTF-8: {e}")
        continue
    check(all(t["status"] == "ok" for t in r["trials"]), f"{what}: trials {[t['status'] for t in r['trials']]}")
    check(not any(d["code"] == "ALLOCBENCH_SUBJECT_MISMATCH" for d in r["diagnostics"]),
          f"{what}: {r['diagnostics']}")
    subj = r["context"]["subjects"][0]
    real = os.path.realpath(lib)
    got = bytes.fromhex(subj["path_hex"]) if "path_hex" in subj else subj["path"].encode()
    check(got == real, f"{what}: report path {got!r}, expected {real!r}")
    check(bytes.fromhex(subj["malloc_from_hex"]) == real if "malloc_from_hex" in subj
          else subj["malloc_from"].encode() == real, f"{what}: malloc_from {subj.get('malloc_from')!r}")
    # The TSV: one record per line, the allocator field (its stem) exact.
    tsv = open(os.path.join(out, "allocator-fast-path-benchmarks.tsv"), "rb").read().decode("utf-8", "surrogateescape")
    rows = tsv.rstrip("\n").split("\n")
    header = rows[0].split("\t")
    check(len(rows) == 2 and all(len(l.split("\t")) == len(header) for l in rows),
          f"{what}: TSV records {rows!r}")
    field = rows[1].split("\t")[header.index("allocator")]
    check(unescape(field) == os.path.basename(lib)[:-3], f"{what}: TSV allocator {field!r}")
check(set(glob.glob("/tmp/allocbench-preload.*")) == links_before,
      f"private links left: {set(glob.glob('/tmp/allocbench-preload.*')) - links_before}")
done()
