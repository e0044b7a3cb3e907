#!/usr/bin/env python3
"""Write a man page from the program's own help, so the two never disagree.

    manpage.py ALLOCBENCH COMMAND OUT.1 [OTHER COMMANDS...]   (COMMAND "" for allocbench(1))

The help text is the page: its usage line becomes the SYNOPSIS, its first
paragraph the DESCRIPTION, "options:" and "exit status:" blocks become their
sections with one tagged paragraph per entry, and anything else is kept as
it is written (no fill)."""
import datetime
import os
import re
import subprocess
import sys

exe, command, out = sys.argv[1], sys.argv[2], sys.argv[3]
args = [exe, "help", command] if command else [exe, "--help"]
text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[1]
name = f"allocbench-{command}" if command else "allocbench"


def roff(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + s if s.startswith((".", "'")) else s


summary = {"": "benchmark and stress-test memory allocators"}
if command:
    top = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    for line in top.splitlines():
        m = re.match(r"\s+" + re.escape(command) + r"\s{2,}(.*)", line)
        if m:
            summary[command] = m.group(1)
# SOURCE_DATE_EPOCH where a reproducible build sets it, else today.
epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or datetime.datetime.now().timestamp())
when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
page = [f'.TH {name.upper()} 1 "{when:%Y-%m-%d}" '
        f'"allocbench {version}" "User Commands"',
        ".SH NAME", f"{roff(name)} \\- {roff(summary.get(command, ''))}"]
blocks = re.split(r"\n\s*\n", text.strip("\n"))
first = True
for block in blocks:
    lines = block.split("\n")
    head = lines[0].strip().lower()
    if block.startswith("usage:"):
        page += [".SH SYNOPSIS", ".nf"] + [roff(l.replace("usage: ", "", 1).rstrip())
                                           for l in lines] + [".fi"]
        continue
    if head.endswith(":") and head.rstrip(":") in ("options", "exit status", "commands",
                                                    "files written to dir"):
        page.append(f".SH {head.rstrip(':').upper()}")
        entry = None
        for l in lines[1:]:
            m = re.match(r"\s{2}(\S.*?)(?:\s{2,}(.*))?$", l)
            if m and not l.startswith("    "):
                page += [".TP", f".B {roff(m.group(1))}"]
                if m.group(2):
                    page.append(roff(m.group(2)))
            else:
                page.append(roff(l.strip()))
        continue
    page.append(".SH DESCRIPTION" if first else ".PP")
    first = False
    page += [".nf"] + [roff(l.rstrip()) for l in lines] + [".fi"]
others = [c for c in sys.argv[4:] if c != command]
page += [".SH SEE ALSO",
         ", ".join([f"allocbench\\-{c}(1)" for c in others] +
                   (["allocbench(1)"] if command else [])),
         ".PP", "The reference: docs/ in the source tree (docs/index.md)."]
with open(out, "w") as f:
    f.write("\n".join(page) + "\n")
