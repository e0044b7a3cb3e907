"""Helpers for allocbench's integration tests (run by meson; see tests/meson.build).

Every test script: run the real binary, assert counts, verdicts and report
contents (never wall-clock seconds), print what failed, exit 1 on a failure,
77 when a facility it needs is missing.
"""
import json
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("AB_BUILD", os.path.join(os.path.dirname(__file__), "..", "build"))
SOURCE = os.environ.get("AB_SOURCE", os.path.join(os.path.dirname(__file__), ".."))
AB = os.path.join(BUILD, "allocbench")
FIXTURES = os.path.join(BUILD, "tests", "fixtures")
NAMED = ("glibc", "jemalloc", "tcmalloc", "mimalloc")

_failures = []


def run(*args, timeout=900, env=None, check_stderr_lines=None):
    """Run allocbench with args; return CompletedProcess (text)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run([AB, *args], capture_output=True, text=True, timeout=timeout, env=e)


def fixture(name):
    """A fixture allocator: tests/fixtures/ or stress/fixtures/ in the build."""
    for d in (FIXTURES, os.path.join(BUILD, "stress", "fixtures")):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return os.path.join(FIXTURES, name)


def doc_page(name):
    """A page of the reference, docs/<name>."""
    with open(os.path.join(SOURCE, "docs", name)) as f:
        return f.read()


def tmpdir():
    return tempfile.mkdtemp(prefix="abtest-")


def load_report(out_dir, name="report.json"):
    with open(os.path.join(out_dir, name)) as f:
        return json.load(f)


def read_tsv(path):
    with open(path) as f:
        lines = f.read().split("\n")
    assert lines[-1] == "", f"{path}: does not end with a newline"
    header = lines[0].split("\t")
    rows = [dict(zip(header, l.split("\t"))) for l in lines[1:-1]]
    for l in lines[1:-1]:
        assert len(l.split("\t")) == len(header), f"{path}: ragged row {l!r}"
    return header, rows


def check(cond, what):
    """Record a failed expectation (the test goes on, and fails at the end)."""
    if not cond:
        _failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return cond


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def installed():
    """The named allocators installed here (from `allocbench list allocators`)."""
    p = run("list", "allocators")
    names = []
    for line in p.stdout.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 3 and cols[2] == "yes":
            names.append(cols[0])
    return names


def done():
    if _failures:
        print(f"{len(_failures)} expectation(s) failed")
        sys.exit(1)
    print("all expectations held")
    sys.exit(0)
