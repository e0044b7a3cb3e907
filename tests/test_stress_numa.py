"""ALLOCATOR_NUMA_POLICY: a plugin that binds its memory to node 0 whatever
the profile fires it under hosted-small, in large-objects and nowhere else;
under hosted-server, where the hook is opt-in, it does not.  The binding is
read from the memory (get_mempolicy at each block), which one node shows as
well as several; without NUMA support in the kernel the check is skipped,
and so is this test."""
from abtest import *

out = tmpdir()
p = run("stress", "--profile", "hosted-small", "--ops", "500", "--case", "local-free,large-objects",
        "--allocator", fixture("ab-fix-numa.so"), "--out", out)
r = load_report(out)
lo = [c for c in r["cases"] if c["case"] == "large-objects"][0]
numa = {k["name"]: k for k in lo["checks"]}["numa"]
if numa["verdict"] == "skipped":
    skip(f"the NUMA policy cannot be observed here: {numa['detail']}")
got = {(d["code"], d["case"]) for d in r["diagnostics"]}
check(got == {("ALLOCATOR_NUMA_POLICY", "large-objects")}, f"hosted-small: fired {sorted(got)}")
check(p.returncode == 1, f"hosted-small: exit {p.returncode}")
check("policy bind" in r["diagnostics"][0]["detail"] if r["diagnostics"] else False,
      f"detail {r['diagnostics']}")

out = tmpdir()
p = run("stress", "--profile", "hosted-server", "--ops", "500", "--case", "large-objects",
        "--allocator", fixture("ab-fix-numa.so"), "--out", out)
r = load_report(out)
check(p.returncode == 0 and r["diagnostics"] == [], f"hosted-server: {p.returncode} {r['diagnostics']}")
done()
