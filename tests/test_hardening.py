"""Faults a hostile subject or a dying parent can cause end in one clear
diagnostic, and leave nothing behind.

- A subject that writes a well-formed reply of its own to the reply channel
  (descriptor 3) before the trial's is refused, by the reply's frame (a
  per-trial nonce and a length): ALLOCBENCH_SUBJECT_CHANNEL, never a trial
  or a stress case that "passes" with the forged figures.
- A subject that leaves a process in a session of its own holding the
  trial's pipes is noticed (ALLOCBENCH_SUBJECT_LEFTOVER) in a fraction of a
  second instead of the whole timeout, and the process is killed.
- SIGKILL of the parent kills its trial child too (PR_SET_PDEATHSIG): no
  process is left 2 s later."""
import signal
import subprocess
import time
import uuid

from abtest import *

FORGE = fixture("libab-forge.so")
LEFTOVER = fixture("libab-leftover.so")


def marked(mark):
    """Processes whose environment carries mark."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if mark.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


# --- a forged reply --------------------------------------------------------
out = tmpdir()
p = run("run", "bulk-new", "--allocator", FORGE, "--variant", "loop", "--repetitions", "2",
        "--rounds", "1", "--out", out)
r = load_report(out)
check(p.returncode == 1, f"forged reply: exit {p.returncode}")
check(all(t["status"] == "failed" and t["ops"] is None for t in r["trials"]),
      f"forged reply taken: {[(t['status'], t['ops']) for t in r['trials']]}")
check(r["diagnostics"] and all(d["code"] == "ALLOCBENCH_SUBJECT_CHANNEL" for d in r["diagnostics"]),
      f"forged reply diagnostics: {r['diagnostics']}")
check("before the reply" in r["diagnostics"][0]["detail"], f"detail {r['diagnostics'][0]['detail']}")
out = tmpdir()
p = run("stress", "--profile", "hosted-small", "--case", "local-free", "--ops", "100",
        "--allocator", FORGE, "--out", out)
r = load_report(out)
check(p.returncode == 1, f"forged stress reply: exit {p.returncode}")
case = r["cases"][0]
check(case["verdict"] == "fail" and case["diagnostics"] == ["ALLOCBENCH_SUBJECT_CHANNEL"],
      f"forged stress reply: {case['verdict']} {case['diagnostics']}")

# --- a process left behind ---------------------------------------------------
mark = "AB_TEST_MARK=" + uuid.uuid4().hex
env = {mark.split("=")[0]: mark.split("=")[1]}
out = tmpdir()
t0 = time.monotonic()
p = run("run", "bulk-new", "--allocator", LEFTOVER, "--variant", "loop", "--repetitions", "2",
        "--rounds", "1", "--timeout", "20", "--out", out, env=env)
r = load_report(out)
check(p.returncode == 1, f"leftover: exit {p.returncode}")
check([d["code"] for d in r["diagnostics"]] == ["ALLOCBENCH_SUBJECT_LEFTOVER"] * 2,
      f"leftover diagnostics: {r['diagnostics']}")
check(all(t["elapsed_s"] < 10 for t in r["trials"]),
      f"leftover waited for the timeout: {[t['elapsed_s'] for t in r['trials']]}")
time.sleep(0.3)
check(marked(mark.split("=")[1]) == [], f"leftover processes remain: {marked(mark.split('=')[1])}")

# --- the parent killed ------------------------------------------------------
tag = uuid.uuid4().hex
env = dict(os.environ, AB_TEST_MARK=tag)
out = tmpdir()
parent = subprocess.Popen([AB, "run", "tiny-box", "--rounds", "100000000", "--repetitions",
                           "1", "--timeout", "600", "--out", out], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.monotonic() + 20
while time.monotonic() < deadline and len(marked(tag)) < 2:
    time.sleep(0.05)
check(len(marked(tag)) >= 2, f"the trial child never started: {marked(tag)}")
parent.send_signal(signal.SIGKILL)
parent.wait()
time.sleep(2)
left = marked(tag)
check(left == [], f"processes left 2 s after the parent was killed: {left}")
for pid in left:
    os.kill(pid, signal.SIGKILL)
check(not os.path.exists(os.path.join(out, "report.json")), "a killed run left a report")
done()
