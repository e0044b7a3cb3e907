"""The ref plugin (plugins/ref) on what seed 003 asks of a hosted-server
allocator: all seven stress cases of hosted-small and hosted-server pass
with every check judged (none not-applicable); its remote-free queue is
driven to its bound (the overflow path taken, the bound still held, every
free accepted); exhaustion meets its own page limit; shutdown-cleanup
leaves nothing after fini.  Its fast-path counts are gated with the other
allocators' by test_budget_gate.py."""
from abtest import *

if "ref" not in installed():
    skip("the ref plugin is not built")
for profile in ("hosted-small", "hosted-server"):
    out = tmpdir()
    p = run("stress", "--profile", profile, "--allocator", "ref", "--out", out)
    r = load_report(out)
    check(p.returncode == 0, f"{profile}: exit {p.returncode}: {p.stderr[-400:]}")
    cases = {c["case"]: c for c in r["cases"]}
    check(len(cases) == 7 and all(c["verdict"] == "pass" for c in cases.values()),
          f"{profile}: {[(c['case'], c['verdict']) for c in r['cases']]}")
    na = [(c["case"], k["name"]) for c in r["cases"] for k in c["checks"]
          if k["verdict"] == "not-applicable"]
    check(na == [], f"{profile}: checks not applicable: {na}")
    bound = r["stress"]["profile"]["remote_bound"]
    rf = cases["remote-free"]
    depth = rf["figures"]["max_queue_depth"]["value"]
    check(bound and depth == bound, f"{profile}: deepest remote queue {depth}, bound {bound}")
    check({k["name"]: k["verdict"] for k in rf["checks"]}.get("accepted") == "held",
          f"{profile}: remote frees not all accepted: {rf['checks']}")
    ex = {k["name"]: k["verdict"] for k in cases["exhaustion"]["checks"]}
    check(ex.get("page-limit") == "held" and ex.get("enomem") == "held",
          f"{profile}: exhaustion checks {ex}")
    sc = cases["shutdown-cleanup"]
    check({k["name"]: k["verdict"] for k in sc["checks"]}.get("baseline") == "held",
          f"{profile}: shutdown {sc['checks']}")
    # After fini: no address space kept (the C library's thread stacks
    # may move resident memory a little; the spans must all be gone).
    kept = sc["figures"]["retained_address_space"]["value"]
    check(kept <= 0, f"{profile}: {kept} bytes of address space kept after fini")
done()
