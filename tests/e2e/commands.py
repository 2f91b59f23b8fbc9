#!/usr/bin/env python3
"""commands.py — every program the project's scripts run comes from scripts/deps.sh.

    python3 tests/e2e/commands.py [--list] FILE...

Reads shell scripts (and the recipes of Makefiles) and finds every word in command
position: the first word of each simple command, after pipes, `;`, `&&`, `||`, `!`,
`if`/`while`/`then`/`do`, inside `$(...)` and backquotes, and the command that
`nice`, `env`, `timeout`, `xargs`, `nohup`, `setsid`, `flock`, `exec` and `command`
run. Words in single quotes (awk and python programs, SQL) and here-documents are data,
not commands; words built from variables (`"$AGENT" sync`) are the project's own
binaries. Shell functions defined in any of the files, keywords and dash's builtins are
left out. Each remaining command must be
  * installed on this machine (found in PATH, or the absolute path exists), and
  * owned by a Debian package that `scripts/deps.sh --list SET` names (or one of its
    dependencies), or by a package of Debian's required set (what
    `debootstrap --variant=minbase` installs);
where SET is `demo` for scripts/demo.sh (`make demo` installs only that set), `test`
for what `make test` runs (tests/e2e, scripts/run-tests.sh, scripts/fuzz.sh, bench/),
and any set for the rest (Makefile recipes, scripts/soak.sh, .ci/run, scripts/deps.sh);
a command of the rest that is not installed here passes when a set names a package of
its name (`make lint` installs cppcheck and clang-tidy itself).
OPTIONAL below lists the few commands run only on an explicit request, with the
request. Prints one line per problem and exits 1 when there is any; --list prints
every command found with its file, line and package.
"""
import os, re, sys

KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for",
            "case", "esac", "in", "function", "!", "{", "}"}
BUILTINS = {"alias", "bg", "break", "cd", "command", "continue", "echo", "eval", "exec",
            "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "local",
            "printf", "pwd", "read", "readonly", "return", "set", "shift", "test", "[",
            "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait",
            ".", ":", "sh", "wait"}
# wrappers: external commands that run another command; value = options taking an argument
WRAPPERS = {"nice": "n", "env": "u", "timeout": "sk", "xargs": "PnLsdEI", "nohup": "",
            "setsid": "", "flock": "wEx", "exec": "", "command": ""}
WRAP_POSITIONAL = {"timeout": 1, "flock": 1}

def lex(text, fname, emit):
    """Emits (word, line) for every word in command position of shell TEXT."""
    i, n, line = 0, len(text), 1
    stack = [{"kind": "cmd", "paren": 0}]
    at_cmd, word, wline, quoted_dollar = True, "", 1, False
    wrap = None       # (name, skip_positional, opt_args)
    redirect = False
    case_pat = False  # reading a case pattern up to ')'
    expect_in = False
    heredocs = []

    def finish():
        nonlocal word, at_cmd, wrap, redirect, case_pat, expect_in, quoted_dollar
        w, word = word, ""
        dyn, quoted_dollar = quoted_dollar, False
        if w == "":
            return
        if redirect:
            redirect = False
            return
        if expect_in:
            if w == "in":
                expect_in = False
                case_pat = True
            return
        if not at_cmd:
            return
        if wrap is not None:
            name, pos, optargs = wrap
            if w.startswith("-"):
                if len(w) == 2 and w[1] in optargs:
                    wrap = (name, pos, optargs + "\0")  # next word is the option's value
                return
            if optargs.endswith("\0"):
                wrap = (name, pos, optargs[:-1])
                return
            if pos > 0:
                wrap = (name, pos - 1, optargs)
                return
            wrap = None
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w):
            return
        if w == "case":
            expect_in = True
            at_cmd = False
            return
        if w == "for":
            at_cmd = False  # the variable and its list are words, not commands
            return
        if w in KEYWORDS:
            return
        if dyn or "$" in w:
            at_cmd = False
            return
        if w in WRAPPERS:
            if w not in ("exec", "command"):
                emit(w, wline)
            wrap = (w, WRAP_POSITIONAL.get(w, 0), WRAPPERS[w])
            return
        at_cmd = False
        if w.startswith("/") or re.match(r"^[a-z][a-z0-9._+-]*$", w):
            emit(w, wline)

    def push(kind):
        nonlocal word, at_cmd, wrap, redirect, quoted_dollar
        stack.append({"kind": kind, "paren": 0, "sub": True,
                      "saved": (word, at_cmd, wrap, redirect, quoted_dollar)})
        word, at_cmd, wrap, redirect, quoted_dollar = "", True, None, False, False

    def pop():
        nonlocal word, at_cmd, wrap, redirect, quoted_dollar
        finish()
        ctx = stack.pop()
        word, at_cmd, wrap, redirect, quoted_dollar = ctx["saved"]
        word += "$"

    def sep():
        nonlocal at_cmd, wrap
        finish()
        at_cmd, wrap = True, None

    while i < n:
        c = text[i]
        ctx = stack[-1]
        if ctx["kind"] == "dq":
            if c == "\\":
                i += 2; continue
            if c == '"':
                stack.pop(); i += 1; continue
            if text.startswith("$((", i):
                i = skip_arith(text, i); continue
            if text.startswith("$(", i):
                push("cmd"); i += 2; continue
            if c == "`":
                push("bt"); i += 1; continue
            if c == "\n":
                line += 1
            i += 1; continue
        # command context (cmd or bt)
        if c == "\\":
            if i + 1 < n and text[i + 1] == "\n":
                line += 1
            else:
                word += text[i:i + 2]
            i += 2; continue
        if c == "'":
            j = text.index("'", i + 1) if "'" in text[i + 1:] else n
            word += text[i + 1:j].replace("$", "")  # literal, never expanded
            line += text.count("\n", i, j)
            i = j + 1; continue
        if c == '"':
            # a double-quoted part of the word: its text counts, $ makes it dynamic
            if word == "" and not at_cmd:
                pass
            stack.append({"kind": "dq"})
            quoted_dollar = quoted_dollar or "$" in text[i:text.find('"', i + 1) + 1 if '"' in text[i+1:] else n]
            # take the literal text of the quoted part as part of the word
            j = i + 1; lit = ""
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    lit += text[j + 1:j + 2]; j += 2; continue
                if text[j] in "$`":
                    break
                lit += text[j]; j += 1
            if j < n and text[j] == '"':
                word += lit; stack.pop(); line += lit.count("\n"); i = j + 1
            else:
                word += lit + "$"; line += lit.count("\n"); quoted_dollar = True; i = j
            continue
        if c == "#" and word == "":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "$":
            if text.startswith("$((", i):
                i = skip_arith(text, i); word += "$"; continue
            if text.startswith("$(", i):
                push("cmd"); i += 2; continue
            if text.startswith("${", i):
                depth, j = 0, i + 1
                while j < n:
                    if text[j] == "{": depth += 1
                    elif text[j] == "}":
                        depth -= 1
                        if depth == 0: break
                    j += 1
                word += "$"; i = j + 1; continue
            word += "$"; i += 1; continue
        if c == "`":
            if ctx["kind"] == "bt":
                pop(); i += 1; continue
            push("bt"); i += 1; continue
        if c == "\n" and case_pat:
            line += 1; i += 1; continue
        if c == "\n":
            finish()
            line += 1
            i += 1
            if heredocs:
                for delim, strip in heredocs:
                    while i < n:
                        j = text.find("\n", i)
                        j = n if j < 0 else j
                        l = text[i:j]
                        line += 1
                        i = j + 1
                        if (l.lstrip("\t") if strip else l) == delim:
                            break
                heredocs = []
            if case_pat is False:
                at_cmd, wrap = True, None
            continue
        if c in " \t":
            finish(); i += 1; continue
        if c == "<" and text.startswith("<<", i):
            finish()
            strip = text.startswith("<<-", i)
            j = i + (3 if strip else 2)
            m = re.match(r"\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1", text[j:])
            if m:
                heredocs.append((m.group(2), strip))
                i = j + m.end(); continue
            i = j; continue
        if c in "<>":
            if word.isdigit():
                word = ""
            finish()
            j = i + 1
            while j < n and text[j] in "<>&|":
                j += 1
            if text[j - 1] == "&" and j < n and (text[j].isdigit() or text[j] == "-"):
                j += 1
            else:
                redirect = True
            i = j; continue
        if c == ")":
            if case_pat:
                word = ""; case_pat = False; at_cmd, wrap = True, None; i += 1; continue
            if ctx["kind"] == "cmd" and ctx["paren"] == 0 and ctx.get("sub"):
                pop(); i += 1; continue
            finish(); ctx["paren"] = max(0, ctx["paren"] - 1); at_cmd = False; i += 1; continue
        if c == "(":
            if word and not at_cmd:
                word += c; i += 1; continue
            if text.startswith("()", i):   # a function definition: NAME() { ...
                word = ""; i += 2; at_cmd, wrap = True, None; continue
            if text.startswith("((", i):
                i = skip_arith(text, i - 1); continue
            finish(); ctx["paren"] += 1; at_cmd, wrap = True, None; i += 1; continue
        if c == ";":
            if text.startswith(";;", i):
                finish(); case_pat = True; i += 2; continue
            sep(); i += 1; continue
        if c in "|&":
            sep(); i += 2 if text.startswith(c * 2, i) else 1; continue
        if case_pat:
            if re.match(r"esac(?![A-Za-z0-9_])", text[i:]) and (i == 0 or text[i - 1] in " \t\n;"):
                case_pat = False; at_cmd = False; i += 4; continue
            i += 1; continue
        if c == "{" and word == "" and at_cmd:
            i += 1; continue
        if c == "}" and word == "":
            finish(); at_cmd = False; i += 1; continue
        if word == "":
            wline = line
        word += c
        i += 1
    finish()

def skip_arith(text, i):
    # i at "$((" (or one before "((" ): returns the index after the matching "))"
    j = text.index("((", i) + 2
    depth = 2
    while j < len(text) and depth > 0:
        if text[j] == "(": depth += 1
        elif text[j] == ")": depth -= 1
        j += 1
    return j

def make_recipes(text):
    out = []
    for l in text.split("\n"):
        if l.startswith("\t"):
            l = l[1:].lstrip("@-+")
            l = re.sub(r"\$\([^()]*\)", "MAKEVAR", re.sub(r"\$\([^()]*\)", "MAKEVAR", l))
            l = re.sub(r"\$\$", "$", l)
            out.append(l)
        else:
            out.append("")
    return "\n".join(out)


# Run only on an explicit request; not installed by `make test` or `make demo`.
OPTIONAL = {
    "perf": "bench/run.sh with BENCH_PROFILE=1 (bench/README.md: install linux-perf)",
    "valgrind": "under LK_VALGRIND=1 / VALGRIND=1 only (make valgrind: deps.sh valgrind)",
}
SETS = ("build", "test", "demo", "browser", "fuzz", "valgrind", "lint", "deb")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def run(*args):
    import subprocess
    return subprocess.run(args, capture_output=True, text=True).stdout


def set_of(path):
    """The deps.sh set that must provide what FILE runs (None: any set)."""
    p = path.replace(os.sep, "/")
    if p.endswith("scripts/demo.sh"):
        return "demo"
    if "tests/deb/" in p or p.endswith("scripts/deb.sh") or p.endswith("scripts/manpages.sh"):
        return "deb"
    if "tests/e2e/" in p or "bench/" in p and p.endswith(".sh") or \
            p.endswith("scripts/run-tests.sh") or p.endswith("scripts/fuzz.sh"):
        return "test"
    return None


def closure(pkgs):
    """PKGS and everything apt installs with them (Depends and Pre-Depends)."""
    out = run("apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
              "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", *pkgs)
    got = set(pkgs)
    for l in out.splitlines():
        m = re.match(r"^\s*\|?(?:Pre)?Depends: <?([^<>\s:]+)", l)
        if m:
            got.add(m.group(1))
        elif l and not l[0].isspace():
            got.add(l.strip("<>").split(":")[0])
    return got


def required():
    out = run("dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\n")
    return {p.split()[0] for p in out.splitlines()
            if len(p.split()) == 3 and (p.split()[1] == "yes" or p.split()[2] == "required")}


def owner(path):
    """The Debian package that installed PATH, or None."""
    cands = [path, os.path.realpath(path)]
    for d in ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/"):
        for c in list(cands):
            if c.startswith(d):
                other = {"/bin/": "/usr/bin/", "/usr/bin/": "/bin/",
                         "/sbin/": "/usr/sbin/", "/usr/sbin/": "/sbin/"}[d]
                cands.append(other + c[len(d):])
    for c in cands:
        for l in run("dpkg", "-S", c).splitlines():
            if not l.startswith("diversion") and ": " in l:
                return l.split(": ")[0].split(":")[0].split(",")[0]
    return None


def main(argv):
    import shutil
    listing = argv[:1] == ["--list"]
    files = argv[1:] if listing else argv
    texts = {}
    for f in files:
        t = open(f, encoding="utf-8").read()
        texts[f] = make_recipes(t) if f.endswith("Makefile") or f.endswith(".mk") else t
    funcs = set()
    for t in texts.values():
        funcs |= set(re.findall(r"(?m)^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(\)", t))
    uses = {}
    for f, t in texts.items():
        def emit(w, l, f=f):
            if w not in funcs and w not in BUILTINS and w not in KEYWORDS:
                uses.setdefault(w, []).append((f, l))
        lex(t, f, emit)
    deps = {s: closure(run("sh", "scripts/deps.sh", "--list", s).split()) for s in SETS}
    anyset = set().union(*deps.values())
    listed = set(run("sh", "-c", "for s in " + " ".join(SETS) +
                     "; do sh scripts/deps.sh --list $s; done").split())
    base = required()
    problems = 0
    for w in sorted(uses):
        where = ", ".join(f"{f}:{l}" for f, l in uses[w][:3])
        path = w if w.startswith("/") else shutil.which(w, path=PATH)
        if w in OPTIONAL:
            if listing:
                print(f"{w}\toptional: {OPTIONAL[w]}\t{where}")
            continue
        if not path or not os.access(path, os.X_OK):
            # Not installed here: a problem unless only a Makefile target that installs
            # its own set runs it (make lint: cppcheck, clang-tidy; make deb), named as
            # the package.
            # The deb set's scripts run only under `make deb` / `make test-deb`, which
            # install that set themselves; what `make test` and `make demo` run must be here.
            if any(set_of(f) in ("test", "demo") for f, l in uses[w]) or w not in listed:
                print(f"commands: '{w}' ({where}) is not installed; add its package to scripts/deps.sh")
                problems += 1
            elif listing:
                print(f"{w}\tnot installed here; deps.sh installs it\t{where}")
            continue
        pkg = owner(path)
        if listing:
            print(f"{w}\t{pkg}\t{where}")
        if pkg is None:
            print(f"commands: '{w}' ({path}; {where}) belongs to no Debian package")
            problems += 1
            continue
        for f, l in uses[w]:
            s = set_of(f)
            ok = pkg in base or pkg in (deps[s] if s else anyset)
            if not ok:
                print(f"commands: '{w}' ({f}:{l}) is in package '{pkg}', which "
                      f"'scripts/deps.sh --check-or-install {s or 'SET'}' does not install")
                problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
