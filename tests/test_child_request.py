"""The request a trial child takes is checked whole before anything runs:
a bad one is exit 2 with one line on stderr, never a crash and never a
reply.  Every case here is one member wrong in an otherwise good request;
the good request itself must run (exit 0, one framed reply on descriptor 3).
"""
import copy
import json
import subprocess

from abtest import *

TRIAL = os.path.join(BUILD, "allocbench-trial")
LIBC = subprocess.run(["sh", "-c", "ldd /bin/sh | awk '/libc.so/{print $3}'"],
                      capture_output=True, text=True).stdout.strip()


def child(request, prog=TRIAL):
    """Exit status, stderr and what came on descriptor 3."""
    r, w = os.pipe()
    os.set_inheritable(w, True)
    text = request if isinstance(request, str) else json.dumps(request)
    p = subprocess.Popen(["sh", "-c", f'exec "$0" "$@" 3>&{w}', prog, "__child", text],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, pass_fds=(w,),
                         text=True)
    os.close(w)
    reply = b""
    while chunk := os.read(r, 1 << 16):
        reply += chunk
    os.close(r)
    err = p.communicate(timeout=60)[1]
    return p.returncode, err, reply


describe = {"mode": "describe", "subject": {"kind": "system", "path": LIBC}}
rc, err, reply = child(describe)
check(rc == 0 and reply.startswith(b"ABRP "), f"good describe request: exit {rc}, {err!r} {reply[:40]!r}")

# A good trial request, then each member wrong.
trial = {"mode": "trial", "subject": {"kind": "system", "path": LIBC}, "workload": "bulk-new",
         "variant": 0, "threads": 1, "warmup": 0, "rounds": 1, "repetition": 0, "seed": "7",
         "params": {"n": 64, "size": 32, "disorder": 50, "batch": 0}}
rc, err, reply = child(trial)
check(rc == 0 and b'"ops"' in reply, f"good trial request: exit {rc}, {err!r}")


def mutated(path, value):
    r = copy.deepcopy(trial)
    o = r
    for k in path[:-1]:
        o = o[k]
    if value is KeyError:
        del o[path[-1]]
    else:
        o[path[-1]] = value
    return r


bad = [
    ("variant -1", mutated(["variant"], -1), "variant"),
    ("variant past the workload's", mutated(["variant"], 50), "variants"),
    ("variant fractional", mutated(["variant"], 0.5), "variant"),
    ("variant a string", mutated(["variant"], "0"), "variant"),
    ("threads 0", mutated(["threads"], 0), "threads"),
    ("threads 1100", mutated(["threads"], 1100), "threads"),
    ("rounds 1e300", mutated(["rounds"], 1e300), "rounds"),
    ("no seed", mutated(["seed"], KeyError), "seed"),
    ("seed past 2^64", mutated(["seed"], "18446744073709551616"), "seed"),
    ("seed a number", mutated(["seed"], -1), "seed"),
    ("unknown workload", mutated(["workload"], "nope"), "workload"),
    ("unknown member", mutated(["bogus"], 1), "bogus"),
    ("unknown param", mutated(["params", "bogus"], 1), "bogus"),
    ("missing param", mutated(["params"], {}), "params"),
    ("param out of range", mutated(["params", "n"], -5), "n"),
    ("unknown counter", mutated(["collect"], "nope"), "counter"),
    ("pin not an object", mutated(["pin"], [1]), "pin"),
    ("pin plan of 1100 CPUs", mutated(["pin"], {"plans": [[0] * 1100, [0]], "bindable": True}), "plans"),
    ("pin plan of strings", mutated(["pin"], {"plans": [["a"], [0]], "bindable": True}), "plans"),
    ("subject kind", mutated(["subject", "kind"], "elf"), "kind"),
    ("subject without path", mutated(["subject", "path"], KeyError), "path"),
    ("no subject", mutated(["subject"], KeyError), "subject"),
    ("unknown mode", mutated(["mode"], "explode"), "mode"),
]
# Parameters that contradict each other: the workload's own check.
larson = dict(trial, workload="larson", params={"min_size": 100, "max_size": 100, "chunks": 10,
                                                 "passes": 1, "seed": 4141})
bad.append(("larson's min_size not below max_size", larson, "min_size"))
for what, req, word in bad:
    rc, err, reply = child(req)
    lines = err.strip().splitlines()
    check(rc == 2 and len(lines) == 1 and word in lines[0] and not reply,
          f"{what}: exit {rc}, {err!r}, reply {reply[:40]!r}")

for what, text in [("trailing data", json.dumps(trial) + " {}"),
                   ("two documents", json.dumps(trial) + json.dumps(trial)),
                   ("not JSON", "{\"mode\":"), ("an array", "[]"), ("empty", ""),
                   ("duplicate member", json.dumps(trial)[:-1] + ", \"variant\": 0}")]:
    rc, err, reply = child(text)
    check(rc == 2 and len(err.strip().splitlines()) == 1 and not reply,
          f"{what}: exit {rc}, {err!r}")

# The other modes' tables: one wrong member each.
POLICY = {"hugepages": False, "thp_disabled": False, "hugepages_how": "", "hugepages_na": "",
          "numa_node": -1, "numa_process": False, "numa_how": "", "numa_na": "",
          "numa_skipped": False, "page_limit": "0", "limit_kind": 0, "limit_how": ""}
for req, word in [
    ({"mode": "fastpath", "subject": describe["subject"], "counter": "callgrind", "sizes": [16.5],
      "ops": ["malloc"], "patterns": ["pairs"], "fork_sizes": False, "calls": 10, "warmup": 0,
      "keep_live": 0}, "sizes"),
    ({"mode": "fastpath", "subject": describe["subject"], "counter": "callgrind", "sizes": [16],
      "ops": ["bogus"], "patterns": ["pairs"], "fork_sizes": False, "calls": 10, "warmup": 0,
      "keep_live": 0}, "ops"),
    ({"mode": "stress", "subject": describe["subject"], "case": "nope", "profiles_file": "x",
      "profiles": "", "profile": "p", "threads": 1, "ops": 1, "duration_s": 0, "seed": "1",
      "verify": True, "policy": POLICY}, "case"),
    ({"mode": "stress", "subject": describe["subject"], "case": "local-free", "profiles_file": "x",
      "profiles": "", "profile": "p", "threads": 1, "ops": -1, "duration_s": 0, "seed": "1",
      "verify": True, "policy": POLICY}, "ops"),
    ({"mode": "stress", "subject": describe["subject"], "case": "local-free", "profiles_file": "x",
      "profiles": "", "profile": "p", "threads": 1, "ops": 1, "duration_s": 0, "seed": "1",
      "verify": True, "policy": POLICY | {"limit_kind": 9}}, "limit_kind"),
]:
    rc, err, reply = child(req)
    check(rc == 2 and word in err and not reply, f"{req['mode']} {word}: exit {rc}, {err!r}")

# The supervisor's mode, in allocbench itself.
rc, err, reply = child({"mode": "supervise", "counter": "nope", "inner": "{}", "limit_s": 1}, AB)
check(rc == 2 and "counter" in err and not reply, f"supervise: exit {rc}, {err!r}")
done()
