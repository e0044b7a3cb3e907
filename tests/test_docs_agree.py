"""The README, docs/ and the program agree.  Every command `--help` lists
is in the README's command list and has a page docs/<command>.md, and the
reverse; every option a command's help names is on its page, and every
option the README or a page names is an option of some command; the exit
statuses of each command's help are those its page states, and the README's
exit status table holds exactly the statuses the commands use.  Each check
is also run on a copy of the documents with one thing wrong, and must fire."""
import glob
import re
from abtest import *

GLOBAL = {"--help", "--version"}


def helps():
    top = run("--help").stdout
    cmds = re.findall(r"^  ([a-z]+) {2,}", top.split("commands:")[1].split("options:")[0], re.M)
    return top, {c: run("help", c).stdout for c in cmds if c != "help"}


def options(text):
    """Long options named in a text: --word, as the help prints them (not a
    link's #--anchor)."""
    return set(re.findall(r"(?<![\w#-])(--[a-z][a-z0-9-]*[a-z0-9])", text))


def claimed(text, cmds):
    """(command, option) for every option a text gives to an allocbench
    command: on a command line `allocbench <command> ...` (with its
    indented continuation lines), and in a page's option table rows."""
    out = set()
    cur = None
    for line in text.splitlines():
        m = re.search(r"(?:^|[\s/`(])allocbench ([a-z]+)\b(.*)", line)
        if m and m.group(1) in cmds:
            cur = m.group(1)
            rest = m.group(2).split("`")[0] if line.count("`") else m.group(2)
            rest = rest.split("#")[0].split(" -- ")[0]  # not a comment, not the traced command's
            out |= {(cur, o) for o in options(rest)}
            continue
        if cur and re.match(r"^ {8,}\[", line):
            out |= {(cur, o) for o in options(line)}
            continue
        cur = None
    return out


def help_options(h):
    """The options a command's help defines: its options: section, and the
    synopsis."""
    opts = options(h.split("exit status")[0])
    return opts


def statuses(text, lead):
    """The statuses listed after `lead` (exit status:), to the paragraph's end."""
    m = re.search(lead + r"(.*?)(?:\n\s*\n|$)", text, re.S)
    if not m:
        return None
    return set(int(x) for x in re.findall(r"(?:^|[:;] ?)\s*([0-3])\b(?! ?[%x.,])", m.group(1)))


def disagreements(readme, pages, top, hs):
    """Every way the documents and the program differ, one line each."""
    out = []
    block = readme.split("## Commands")[1].split("\n## ")[0]
    listed = set(re.findall(r"^    allocbench ([a-z]+)", block, re.M))
    cmds = set(hs) | {"help"}
    for c in sorted(cmds - listed):
        out.append(f"README's command list lacks `{c}`")
    for c in sorted(listed - cmds):
        out.append(f"README lists `{c}`, the program has no such command")
    for c in sorted(set(hs) - set(pages)):
        out.append(f"no page docs/{c}.md")
    for c, h in sorted(hs.items()):
        page = pages.get(c, "")
        for o in sorted(help_options(h) - options(page)):
            out.append(f"docs/{c}.md does not name {c}'s option {o}")
        want, got = statuses(h, r"exit status:"), statuses(page, r"Exit status:")
        if want is not None and got != want:
            out.append(f"docs/{c}.md gives exit statuses {sorted(got) if got else got}, "
                       f"`help {c}` {sorted(want)}")
    for name, text in [("README.md", readme)] + [(f"docs/{p}.md", t) for p, t in sorted(pages.items())]:
        for c, o in sorted(claimed(text, hs)):
            if o not in help_options(hs[c]) | GLOBAL:
                out.append(f"{name} gives `{c}` the option {o}, which `help {c}` does not have")
    for c, h in sorted(hs.items()):
        for o in re.findall(r"^\| `(--[a-z][a-z0-9-]*)", pages.get(c, ""), re.M):
            if o not in help_options(h):
                out.append(f"docs/{c}.md's option table has {o}, which `help {c}` does not")
    table = set(int(x) for x in re.findall(r"^\| ([0-9]) \|", readme.split("## Exit status")[1].split("\n## ")[0], re.M))
    used = set()
    for h in hs.values():
        used |= statuses(h, r"exit status:") or set()
    used |= statuses(top, r"exit status:") or set(int(x) for x in re.findall(r"^  ([0-9])  ", top, re.M))
    if table != used:
        out.append(f"README's exit status table holds {sorted(table)}, the commands use {sorted(used)}")
    return out


with open(os.path.join(SOURCE, "README.md")) as f:
    readme = f.read()
pages = {}
for path in glob.glob(os.path.join(SOURCE, "docs", "*.md")):
    with open(path) as f:
        pages[os.path.basename(path)[:-3]] = f.read()
top, hs = helps()
check(len(hs) >= 7, f"only {sorted(hs)} commands found in --help")

# The real documents: no disagreement.
for line in disagreements(readme, pages, top, hs):
    check(False, line)

# Each kind of disagreement, made on purpose, is found.
c0 = sorted(hs)[0]
opt = sorted(help_options(hs["run"]))[0]
mutants = {
    "a command missing from the README": (readme.replace(f"    allocbench {c0} ", "    allocbench nothing ", 1), pages),
    "a page missing": (readme, {k: v for k, v in pages.items() if k != "stress"}),
    "an option missing from its page": (readme, {**pages, "run": pages["run"].replace(opt, "--")}),
    "an option that does not exist": (readme + "\n    allocbench run bulk-new --frobnicate\n", pages),
    "an option given to the wrong command": (readme, {**pages, "check": pages["check"] + "\n    allocbench check --pin\n"}),
    "another exit status on a page": (readme, {**pages, "list": pages["list"].replace("Exit status: 0 listed;", "Exit status: 0 listed; 1 never;")}),
    "the README's exit table short of a status": (readme.replace("\n| 3 |", "\n| x |"), pages),
}
for what, (r, p) in mutants.items():
    check(disagreements(r, p, top, hs), f"{what}: not found")
done()
