#!/usr/bin/python3
"""Check that the files of lib/ depend on each other only as the layers allow.

The layers and their files are read from the table of the "Layers" section of
docs/architecture.md (its rows, top to bottom, are the layers from the lowest,
"left", to the highest, "right"). Every lib/*.c and lib/*.h must be in exactly
one row. A file may use what files of its own layer or of layers below define,
never what a file of a layer above defines.

What counts as a dependency of file A on file B:
  - A refers to cxm__NAME (a call, or the name alone: a function pointer, the
    address of a table) and B defines cxm__NAME: a function definition at file
    scope, `type cxm__name(...) {`, or an object defined at file scope (not
    extern). A static definition in A itself always wins.
  - A uses a macro of a lib header whose body refers to cxm__NAME: as if A
    referred to cxm__NAME itself.
  - B is a header (lib/*.h) defining cxm__NAME as a function with a body (a
    static inline): the use counts as one of the header's, not of any .c file.
    A header's own uses are those in its function bodies.
  - A #includes B (a lib header).

It fails (exit 1) on:
  - a file naming (anywhere in its code) a field of OWNED_FIELDS below that
    only other files may name, or a field listed there that no file names;
  - an upward dependency (B's layer above A's) not in ALLOWED_UPWARD below;
  - a circle of files within one layer (same-layer uses are fine, a circle of
    them is not) not in ALLOWED_CIRCLES below;
  - an ALLOWED_UPWARD or ALLOWED_CIRCLES entry that no longer matches: an edge
    gone, or no longer upward, or a function no longer used, or a circle that
    changed. Remove (or shrink) the entry: the lists only shrink.
and exits 2 when the table cannot be read, names a file lib/ does not have,
or lib/ has a file the table does not name.

usage: check-layers.py [--root DIR] [--list | --dot] [--self-test]
  --root DIR   the project tree (DIR/lib, DIR/docs/architecture.md); default:
               the tree this script is in
  --list       print every edge between files (and still check)
  --dot        print the file graph in Graphviz dot form (and still check)
  --self-test  first prove, on copies of the tree under a temporary directory,
               that an injected upward call, an injected circle and an unknown
               file are caught; then check the tree itself

Standard library only: it runs on Debian's /usr/bin/python3.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

# ---------------------------------------------------------------------------
# The allowlist. Each upward edge that exists today and is tolerated until the
# code moves: from-file -> to-file, exactly the names used across it (an
# include appears as "#include"), and why. A new name on an allowed edge fails
# as much as a new edge does; a name or an edge that went away fails as stale.

ALLOWED_UPWARD = [
]

# Circles of files within one layer, each exactly as its files are today.
ALLOWED_CIRCLES = [
]

# Fields of shared structs that only their owners' files may name, so that
# one module owns a piece of state even though its struct is declared where
# other files see it. A field's name counts wherever it appears in code (a
# member access, a macro's body or argument, offsetof; not in comments or
# strings), so only names that nothing else in lib/ uses as a word can be
# listed: the declaring header is among the owners, and a name listed here
# must not become a variable's or another struct's. Not seen: a name put
# together by token pasting (##).
SERIES_FILES = ["series.h", "series_hot.h", "window.c", "window_rewind.c", "series_scan.c",
                "cxm_internal.h"]
OWNED_FIELDS = [
    {"fields": ["index_rows"], "owners": ["series_index.c", "series_index.h", "cxm_internal.h"],
     "why": "the series index of a shard: found, made, dropped and walked only through "
            "series_index.h"},
    {"fields": ["warm_epoch", "warm", "qc_h", "qc", "bins_epoch", "bins_cell"],
     "owners": SERIES_FILES,
     "why": "a series' warm cell and query cache: the series code's (window.c and the files "
            "series.h serves)"},
    {"fields": ["hot_epoch", "top_idx"], "owners": SERIES_FILES + ["codec.c"],
     "why": "a series' hot bucket and ring tops: the series code's, and the series encoding's "
            "(codec.c)"},
    {"fields": ["full_cap"], "owners": ["customers.c", "cxm_internal.h"],
     "why": "how far a customer stripe may grow: customers.c's"},
]

# ---------------------------------------------------------------------------

DOC = os.path.join("docs", "architecture.md")
LIB = "lib"


class ConfigError(Exception):
    pass


def read_layers(root):
    """[(layer name, [file, ...]), ...] from the Layers table, lowest first."""
    path = os.path.join(root, DOC)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError("cannot read %s: %s" % (path, e.strerror))
    m = re.search(r"^## Layers[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if not m:
        raise ConfigError("%s has no section '## Layers'" % DOC)
    rows = []
    for line in m.group(1).splitlines():
        s = line.strip()
        if s.startswith("|"):
            rows.append([c.strip() for c in s.strip("|").split("|")])
        elif rows:
            break  # the first table only
    if len(rows) < 3:
        raise ConfigError("the Layers section of %s has no table" % DOC)
    head = [c.lower() for c in rows[0]]
    if "layer" not in head or "files" not in head:
        raise ConfigError("the Layers table of %s needs columns 'layer' and 'files' (has %s)"
                          % (DOC, ", ".join(rows[0])))
    li, fi = head.index("layer"), head.index("files")
    if not all(re.fullmatch(r":?-+:?", c) for c in rows[1]):
        raise ConfigError("the Layers table of %s: second row is not a |---| separator" % DOC)
    layers, seen = [], {}
    for n, row in enumerate(rows[2:], 3):
        if len(row) <= max(li, fi):
            raise ConfigError("the Layers table of %s: row %d has too few cells" % (DOC, n))
        name = row[li].strip("`* ")
        cell = row[fi]
        files = re.findall(r"`([^`]+)`", cell)
        rest = re.sub(r"`[^`]*`", "", cell)
        if not name or not files or re.search(r"[^\s,]", rest):
            raise ConfigError("the Layers table of %s: row %d (%r): the files cell must be "
                              "file names in backticks separated by commas, got %r"
                              % (DOC, n, name, cell))
        if name in [l for l, _ in layers]:
            raise ConfigError("the Layers table of %s names layer %r twice" % (DOC, name))
        for f in files:
            if not re.fullmatch(r"[A-Za-z0-9_.-]+\.[ch]", f):
                raise ConfigError("the Layers table of %s: %r (layer %r) is not a file name of lib/"
                                  % (DOC, f, name))
            if f in seen:
                raise ConfigError("the Layers table of %s puts %s in two layers: %r and %r"
                                  % (DOC, f, seen[f], name))
            seen[f] = name
        layers.append((name, files))
    return layers


# ---- a small C lexer --------------------------------------------------------

TOKEN = re.compile(r"""
    (?P<nl>\n)
  | (?P<ws>[ \t\r\f\v]+|\\\n)
  | (?P<bc>/\*.*?\*/)
  | (?P<lc>//(?:[^\n\\]|\\.)*)
  | (?P<str>"(?:[^"\\\n]|\\.)*")
  | (?P<chr>'(?:[^'\\\n]|\\.)*')
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
  | (?P<hash>\#)
  | (?P<p>.)
""", re.S | re.X)


def lex(text):
    """Tokens (kind, text, line, pp) with comments and blanks dropped; pp is the
    number of the preprocessor directive a token belongs to, or None."""
    toks = []
    line = 1
    bol = True      # only blanks since the last newline
    pp = None
    n_pp = 0
    pos = 0
    for m in TOKEN.finditer(text):
        kind, s = m.lastgroup, m.group()
        if m.start() != pos:
            raise ConfigError("lexer lost its place at line %d" % line)
        pos = m.end()
        if kind == "nl":
            line += 1
            bol = True
            pp = None
            continue
        if kind in ("ws", "bc", "lc"):
            line += s.count("\n")
            continue
        if kind == "hash" and bol and pp is None:
            pp = n_pp
            n_pp += 1
        bol = False
        toks.append((kind, s, line, pp))
    return toks


CXM = re.compile(r"cxm__[A-Za-z0-9_]*\Z")


class Source:
    """What one file of lib/ defines, uses and includes."""

    def __init__(self, name, text):
        self.name = name
        self.header = name.endswith(".h")
        self.defs = {}        # cxm__ name -> (static?, function?, line)
        self.uses = {}        # cxm__ name -> [(line, called?)]
        self.macro_uses = {}  # macro name -> [line]
        self.includes = {}    # "x.h" -> line
        self.macros = {}      # macro name -> set of cxm__ names its body refers to
        self.macro_refs = {}  # macro name -> set of identifiers of its body
        self.words = {}       # identifier anywhere in code or directives -> [line]
        toks = lex(text)
        for t in toks:
            if t[0] == "id":
                self.words.setdefault(t[1], []).append(t[2])
        code = [t for t in toks if t[3] is None]
        directives = {}
        for t in toks:
            if t[3] is not None:
                directives.setdefault(t[3], []).append(t)
        for d in directives.values():
            self._directive(d)
        self._code(code)

    def _use(self, name, line, called):
        self.uses.setdefault(name, []).append((line, called))

    def _directive(self, d):
        if len(d) < 2 or d[1][0] != "id":
            return
        word = d[1][1]
        if word == "include" and len(d) >= 3 and d[2][0] == "str":
            self.includes.setdefault(d[2][1][1:-1], d[0][2])
        elif word == "define" and len(d) >= 3 and d[2][0] == "id":
            mname = d[2][1]
            body = d[3:]
            names = set()
            for i, t in enumerate(body):
                if t[0] == "id" and CXM.match(t[1]):
                    names.add(t[1])
                    if not self.header:  # a .c file's own macros are its code
                        self._use(t[1], t[2], i + 1 < len(body) and body[i + 1][1] == "(")
            self.macros[mname] = names
            self.macro_refs[mname] = {t[1] for t in body if t[0] == "id"}

    def _code(self, code):
        depth = 0        # braces
        paren = 0
        decl_start = 0   # index of the first token of the current file-scope declaration
        body_end = -1    # inside a function body up to this token index (headers)
        i, n = 0, len(code)
        # matching brackets, once
        match = {}
        stack = []
        for j, t in enumerate(code):
            if t[1] in "({[" and t[0] == "p":
                stack.append(j)
            elif t[1] in ")}]" and t[0] == "p" and stack:
                match[stack.pop()] = j
        while i < n:
            kind, s, line, _ = code[i]
            if kind == "p":
                if s == "{":
                    depth += 1
                elif s == "}":
                    depth = max(0, depth - 1)
                    if depth == 0 and paren == 0:
                        decl_start = i + 1
                elif s == "(":
                    paren += 1
                elif s == ")":
                    paren = max(0, paren - 1)
                elif s == ";" and depth == 0 and paren == 0:
                    decl_start = i + 1
                i += 1
                continue
            if kind != "id":
                i += 1
                continue
            nxt = code[i + 1][1] if i + 1 < n else ""
            decl = [t[1] for t in code[decl_start:i]]
            if CXM.match(s) and depth == 0 and paren == 0:
                if nxt == "(" and (i + 1) in match:
                    # a function: a definition when its ")" is followed by "{"
                    k = match[i + 1] + 1
                    while k < n and code[k][1] == "__attribute__" and k + 1 < n and (k + 1) in match:
                        k = match[k + 1] + 1
                    if k < n and code[k][1] == "{" and "typedef" not in decl:
                        self._define(s, "static" in decl, True, line)
                        if self.header and k in match:
                            body_end = match[k]
                        i += 1
                        continue
                elif (nxt in ("=", "[", ";", ",") and "extern" not in decl and "typedef" not in decl
                      and not in_initializer(decl)):
                    self._define(s, "static" in decl, False, line)
                    i += 1
                    continue
            if self.header and i > body_end:
                i += 1  # a header's prototypes, types and declarations are no uses
                continue
            if CXM.match(s):
                self._use(s, line, nxt == "(")
            else:
                self.macro_uses.setdefault(s, []).append(line)
            i += 1

    def _define(self, name, static, function, line):
        if name in self.defs:
            return  # an #if/#else pair defining it twice: the first one
        self.defs[name] = (static, function, line)


def in_initializer(decl):
    """Whether the next token of a file-scope declaration (these its tokens so far)
    is in an initializer: after "=" and before the next top-level ","."""
    level, init = 0, False
    for t in decl:
        if t in ("(", "[", "{"):
            level += 1
        elif t in (")", "]", "}"):
            level -= 1
        elif t == "=" and level == 0:
            init = True
        elif t == "," and level == 0:
            init = False
    return init


def expand_macros(sources):
    """Header macros -> the cxm__ names they refer to, through other header macros."""
    macros = {}
    refs = {}
    for src in sources.values():
        if src.header:
            for m, names in src.macros.items():
                macros.setdefault(m, (src.name, set()))[1].update(names)
                refs.setdefault(m, set()).update(src.macro_refs[m])
    changed = True
    while changed:
        changed = False
        for m, (_, names) in macros.items():
            for r in refs[m]:
                if r in macros and r != m and not macros[r][1] <= names:
                    names |= macros[r][1]
                    changed = True
    return macros


# ---- the graph ---------------------------------------------------------------

class Graph:
    def __init__(self, root):
        self.root = root
        self.layers = read_layers(root)
        self.layer_of = {}
        for idx, (name, files) in enumerate(self.layers):
            for f in files:
                self.layer_of[f] = idx
        libdir = os.path.join(root, LIB)
        try:
            present = sorted(f for f in os.listdir(libdir)
                             if f.endswith((".c", ".h")) and os.path.isfile(os.path.join(libdir, f)))
        except OSError as e:
            raise ConfigError("cannot list %s: %s" % (libdir, e.strerror))
        missing = sorted(set(self.layer_of) - set(present))
        unknown = [f for f in present if f not in self.layer_of]
        problems = []
        for f in missing:
            problems.append("the Layers table of %s names %s (layer %r), but lib/%s does not exist"
                            % (DOC, f, self.layers[self.layer_of[f]][0], f))
        for f in unknown:
            problems.append("lib/%s is in no layer: add it to the files of one row of the Layers "
                            "table of %s" % (f, DOC))
        if problems:
            raise ConfigError("\n".join(problems))
        self.sources = {}
        for f in present:
            with open(os.path.join(libdir, f), encoding="utf-8", errors="replace") as fh:
                self.sources[f] = Source(f, fh.read())
        self.notes = []
        self._resolve()

    def layer_name(self, f):
        return self.layers[self.layer_of[f]][0]

    def _resolve(self):
        # who defines what (non-static: visible to every file)
        owners = {}
        for f, src in self.sources.items():
            for name, (static, function, line) in src.defs.items():
                if src.header and not function:
                    continue  # an object "defined" in a header: not a file's
                if not static or src.header:
                    owners.setdefault(name, []).append(f)
        for name, fs in sorted(owners.items()):
            cfiles = [f for f in fs if not f.endswith(".h")]
            if len(cfiles) > 1:
                self.notes.append("%s is defined in more than one file: %s"
                                  % (name, ", ".join("lib/" + f for f in cfiles)))
        macros = expand_macros(self.sources)
        # edges: (from, to) -> {name: [(line, how)]}
        self.edges = {}
        undefined = {}
        for f, src in sorted(self.sources.items()):
            uses = {k: list(v) for k, v in src.uses.items()}
            for m, lines in src.macro_uses.items():
                if m in macros and m not in src.macros:
                    mh, names = macros[m]
                    for name in names:
                        for line in lines:
                            uses.setdefault(name, []).append((line, "macro " + m))
            for name, where in uses.items():
                if name in src.defs:
                    continue  # its own
                targets = [t for t in owners.get(name, []) if t != f]
                if not targets:
                    undefined.setdefault(name, []).append(f)
                    continue
                # a .c definition over a header's when both exist
                cdefs = [t for t in targets if t.endswith(".c")]
                for t in (cdefs or targets)[:1]:
                    self.edges.setdefault((f, t), {})[name] = where
            for h, line in src.includes.items():
                if h in self.sources and h != f:
                    self.edges.setdefault((f, h), {})["#include"] = [(line, "include")]
        for name, fs in sorted(undefined.items()):
            self.notes.append("%s is used in %s but defined in no file of lib/ (not checked)"
                              % (name, ", ".join("lib/" + f for f in sorted(set(fs)))))
        if not any(s.defs for s in self.sources.values() if not s.header):
            raise ConfigError("found no cxm__ definition in any lib/*.c: the parser is broken")

    def upward(self):
        return {e: u for e, u in self.edges.items() if self.layer_of[e[1]] > self.layer_of[e[0]]}

    def circles(self, same_layer=True):
        """Strongly connected components (more than one file) of the same-layer edges,
        or of all edges."""
        adj = {}
        for (a, b) in self.edges:
            if not same_layer or self.layer_of[a] == self.layer_of[b]:
                adj.setdefault(a, []).append(b)
        index, low, on, stack, out = {}, {}, set(), [], []
        counter = [0]

        def visit(v):
            # iterative Tarjan
            work = [(v, iter(sorted(adj.get(v, []))))]
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            while work:
                node, it = work[-1]
                advanced = False
                for w in it:
                    if w not in index:
                        index[w] = low[w] = counter[0]
                        counter[0] += 1
                        stack.append(w)
                        on.add(w)
                        work.append((w, iter(sorted(adj.get(w, [])))))
                        advanced = True
                        break
                    if w in on:
                        low[node] = min(low[node], index[w])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))

        for v in sorted(adj):
            if v not in index:
                visit(v)
        return sorted(out)


def describe(g, a, b, name, where):
    la, lb = g.layer_name(a), g.layer_name(b)
    rel = "above" if g.layer_of[b] > g.layer_of[a] else "same layer" if la == lb else "below"
    lines = sorted({l for l, _ in where})
    at = ", ".join(str(l) for l in lines[:6]) + (", ..." if len(lines) > 6 else "")
    if name == "#include":
        return "lib/%s (layer %s) includes lib/%s (layer %s, %s) [line %s]" % (a, la, b, lb, rel, at)
    hows = {h for _, h in where}
    macro = sorted(h[6:] for h in hows if isinstance(h, str) and h.startswith("macro "))
    if True in hows:
        verb = "calls"
    elif macro:
        verb = "calls (through macro %s)" % ", ".join(macro)
    else:
        verb = "refers to (no call)"
    return "lib/%s (layer %s) %s %s defined in lib/%s (layer %s, %s) [line%s %s]" % (
        a, la, verb, name, b, lb, rel, "s" if len(lines) > 1 else "", at)


def check(root, out, allowed_upward=None, allowed_circles=None, owned_fields=None):
    """Check the tree at root, writing the report to out; returns the exit status."""
    allowed_upward = ALLOWED_UPWARD if allowed_upward is None else allowed_upward
    allowed_circles = ALLOWED_CIRCLES if allowed_circles is None else allowed_circles
    try:
        g = Graph(root)
    except ConfigError as e:
        out.write("check-layers: %s\n" % e)
        return 2
    return report(g, out, allowed_upward, allowed_circles, owned_fields)


def check_fields(g, out, owned_fields):
    """Problems with OWNED_FIELDS: a member use outside the owners, or a field
    no file of lib/ names any more."""
    bad = []
    for e in owned_fields:
        for field in e["fields"]:
            used = False
            for f, src in sorted(g.sources.items()):
                lines = src.words.get(field)
                if not lines:
                    continue
                used = True
                if f not in e["owners"]:
                    msg = ("lib/%s names field %s [line%s %s], which only %s may name: %s"
                           % (f, field, "s" if len(lines) > 1 else "",
                              ", ".join(str(l) for l in sorted(set(lines))[:6]),
                              ", ".join("lib/" + o for o in e["owners"]), e["why"]))
                    out.write("FIELD: %s\n" % msg)
                    bad.append(msg)
            if not used:
                msg = "stale owned field: no file of lib/ names %s any more; remove it" % field
                out.write("STALE: %s\n" % msg)
                bad.append(msg)
    return bad


def report(g, out, allowed_upward, allowed_circles, owned_fields=None):
    owned_fields = OWNED_FIELDS if owned_fields is None else owned_fields
    n_fields = sum(len(e["fields"]) for e in owned_fields)
    bad = check_fields(g, out, owned_fields)
    for note in g.notes:
        out.write("check-layers: note: %s\n" % note)
    allow = {}
    for e in allowed_upward:
        allow[(e["from"], e["to"])] = e
    up = g.upward()
    for (a, b), uses in sorted(up.items()):
        entry = allow.get((a, b))
        for name, where in sorted(uses.items()):
            line = describe(g, a, b, name, where)
            if entry and name in entry["uses"]:
                out.write("allowed: %s\n" % line)
            else:
                out.write("UPWARD: %s\n" % line)
                bad.append(line)
    for (a, b), entry in sorted(allow.items()):
        if (a, b) not in g.edges:
            msg = ("stale allowlist entry: lib/%s -> lib/%s: no such dependency any more; remove it"
                   % (a, b))
        elif (a, b) not in up:
            msg = ("stale allowlist entry: lib/%s -> lib/%s is no longer upward (layers %s -> %s); "
                   "remove it" % (a, b, g.layer_name(a), g.layer_name(b)))
        else:
            gone = sorted(set(entry["uses"]) - set(g.edges[(a, b)]))
            msg = ("stale allowlist entry: lib/%s -> lib/%s lists %s, no longer used; remove %s"
                   % (a, b, ", ".join(gone), "it" if len(gone) == 1 else "them")) if gone else None
        if msg:
            out.write("STALE: %s\n" % msg)
            bad.append(msg)
    circles = g.circles()
    callowed = [sorted(c["files"]) for c in allowed_circles]
    for comp in circles:
        ring = " <-> ".join("lib/" + f for f in comp)
        links = "; ".join("%s -> %s (%s)" % (a, b, ", ".join(sorted(g.edges[(a, b)])))
                          for a in comp for b in comp if (a, b) in g.edges)
        if comp in callowed:
            out.write("allowed: circle in layer %s: %s [%s]\n" % (g.layer_name(comp[0]), ring, links))
        else:
            msg = "circle in layer %s: %s [%s]" % (g.layer_name(comp[0]), ring, links)
            out.write("CIRCLE: %s\n" % msg)
            bad.append(msg)
    for comp in g.circles(same_layer=False):
        if comp not in circles:
            out.write("note: circle across layers, through the upward edges above: %s\n"
                      % " <-> ".join("lib/" + f for f in comp))
    for c in callowed:
        if c not in circles:
            msg = ("stale allowlist entry: circle %s no longer exists as such; remove it"
                   % " <-> ".join("lib/" + f for f in c))
            out.write("STALE: %s\n" % msg)
            bad.append(msg)
    n_edges = len(g.edges)
    if bad:
        out.write("check-layers: FAILED: %d problem%s (%d file edges, %d upward); the layers are "
                  "in the Layers table of %s, the allowlist in tools/check-layers.py\n"
                  % (len(bad), "" if len(bad) == 1 else "s", n_edges, len(up), DOC))
        return 1
    out.write("check-layers: ok: %d files in %d layers, %d file edges, %d upward (all allowed), "
              "%d same-layer circle%s (all allowed), %d owned fields named by their owners only\n"
              % (len(g.sources), len(g.layers), n_edges, len(up), len(circles),
                 "" if len(circles) == 1 else "s", n_fields))
    return 0


def print_list(g, out):
    for (a, b), uses in sorted(g.edges.items(), key=lambda e: (g.layer_of[e[0][0]], e[0])):
        la, lb = g.layer_of[a], g.layer_of[b]
        rel = "UP" if lb > la else "same" if la == lb else "down"
        out.write("%-4s lib/%s (%s) -> lib/%s (%s): %s\n"
                  % (rel, a, g.layer_name(a), b, g.layer_name(b), ", ".join(sorted(uses))))


def print_dot(g, out, allowed_upward):
    allowed = {(e["from"], e["to"]) for e in allowed_upward}
    out.write("digraph libcxm_layers {\n")
    out.write("\trankdir=LR;\n\tnode [shape=box, fontname=\"monospace\"];\n")
    for idx, (name, files) in enumerate(g.layers):
        out.write("\tsubgraph cluster_%d {\n\t\tlabel=\"%d: %s\";\n" % (idx, idx, name))
        for f in files:
            out.write("\t\t\"%s\";\n" % f)
        out.write("\t}\n")
    for (a, b), uses in sorted(g.edges.items()):
        attrs = ["label=\"%d\"" % len(uses)]
        if g.layer_of[b] > g.layer_of[a]:
            attrs.append("color=red")
            attrs.append("style=dashed" if (a, b) in allowed else "penwidth=2")
        elif "#include" in uses and len(uses) == 1:
            attrs.append("style=dotted")
        out.write("\t\"%s\" -> \"%s\" [%s];\n" % (a, b, ", ".join(attrs)))
    out.write("}\n")


# ---- self-test -----------------------------------------------------------------

class Capture:
    def __init__(self):
        self.parts = []

    def write(self, s):
        self.parts.append(s)

    def text(self):
        return "".join(self.parts)


def layer_of(g, f):
    return next(i for i, (_, fs) in enumerate(g.layers) if f in fs)


def copy_tree(root, into):
    os.makedirs(os.path.join(into, "docs"))
    shutil.copy(os.path.join(root, DOC), os.path.join(into, DOC))
    shutil.copytree(os.path.join(root, LIB), os.path.join(into, LIB))
    return into


def self_test(root, out):
    """On copies of root: an injected upward call, a same-layer circle, an unknown
    file and a stale allowlist entry must each fail. Returns a list of failures."""
    failures = []
    g = Graph(root)
    cfiles = [f for _, fs in g.layers for f in fs if f.endswith(".c")]

    def exports(f):
        return [n for n, (st, fn, _) in sorted(g.sources[f].defs.items()) if fn and not st]

    # the lowest and the highest file that define an internal function (the
    # top layer may define only the public API)
    withdefs = [f for f in cfiles if exports(f)]
    if len(withdefs) < 2 or layer_of(g, withdefs[0]) == layer_of(g, withdefs[-1]):
        return ["self-test: no two layers of lib/ define internal functions to inject a call of"]
    lowest, highest = withdefs[0], withdefs[-1]
    exported, low_exp = exports(highest), exports(lowest)
    fake, target = "cxm__layers_selftest_up", exported[0]
    pair = next(((a, b) for _, fs in g.layers for a in fs for b in fs
                 if a < b and a.endswith(".c") and b.endswith(".c")), None)
    with tempfile.TemporaryDirectory(prefix="check-layers.") as tmp:
        def case(what, tree, must, allowed_upward=None, owned_fields=None):
            cap = Capture()
            rc = check(tree, cap, allowed_upward=allowed_upward, owned_fields=owned_fields)
            ok = rc != 0 and all(s in cap.text() for s in must)
            out.write("self-test: %s: exit %d, %s\n" % (what, rc, "caught" if ok else "NOT CAUGHT"))
            for line in cap.text().splitlines():
                if line.startswith(("UPWARD", "CIRCLE", "STALE", "FIELD", "check-layers: lib/",
                                    "check-layers: the")):
                    out.write("self-test:   %s\n" % line)
            if not ok:
                failures.append("self-test: %s was not caught (exit %d):\n%s" % (what, rc, cap.text()))

        # 1. lowest file calls a function of the highest file
        t = copy_tree(root, os.path.join(tmp, "up"))
        with open(os.path.join(t, LIB, lowest), "a", encoding="utf-8") as f:
            f.write("\n/* injected by check-layers --self-test */\n"
                    "void %s(void);\nvoid %s(void)\n{\n\t(void)%s;\n}\n" % (fake, fake, target))
        case("call from lib/%s up to %s of lib/%s" % (lowest, target, highest), t,
             ["UPWARD: lib/%s" % lowest, target, "lib/%s" % highest])

        # 2. two files of one layer calling each other
        if pair:
            a, b = pair
            fa = [n for n, (st, fn, _) in sorted(g.sources[a].defs.items()) if fn and not st]
            fb = [n for n, (st, fn, _) in sorted(g.sources[b].defs.items()) if fn and not st]
            if fa and fb:
                t = copy_tree(root, os.path.join(tmp, "circle"))
                for f, callee, n in ((a, fb[0], 1), (b, fa[0], 2)):
                    with open(os.path.join(t, LIB, f), "a", encoding="utf-8") as fh:
                        fh.write("\nvoid cxm__layers_selftest_c%d(void);\n"
                                 "void cxm__layers_selftest_c%d(void)\n{\n\t%s();\n}\n"
                                 % (n, n, callee))
                case("circle lib/%s <-> lib/%s" % (a, b), t,
                     ["CIRCLE: circle in layer", "lib/%s <-> lib/%s" % (a, b)])

        # 3. a file in no layer
        t = copy_tree(root, os.path.join(tmp, "unknown"))
        with open(os.path.join(t, LIB, "zz_selftest.c"), "w", encoding="utf-8") as f:
            f.write("int cxm__layers_selftest_z(void);\nint cxm__layers_selftest_z(void)\n{\n"
                    "\treturn 0;\n}\n")
        case("lib/zz_selftest.c in no layer", t, ["lib/zz_selftest.c is in no layer"])

        # 4. a file that is no owner naming an owned field, and an entry for a
        #    field nobody names
        def field_case(e, name, how, use):
            """Append to a file that is no owner of e a function returning the field
            by `use` (a format taking x and the field): the field's one word in
            the injected text (the check reads, it does not compile)."""
            field = e["fields"][0]
            intruder = next(f for f in cfiles if f not in e["owners"])
            t = copy_tree(root, os.path.join(tmp, name))
            with open(os.path.join(t, LIB, intruder), "a", encoding="utf-8") as f:
                f.write("\n/* injected by check-layers --self-test */\n"
                        "#define LAYERS_SELFTEST_OF(p, f) ((p)->f)\n"
                        "int cxm__layers_selftest_f(struct layers_selftest_f *x);\n"
                        "int cxm__layers_selftest_f(struct layers_selftest_f *x)\n{\n"
                        "\treturn %s;\n}\n" % (use % ("x", field)))
            case("lib/%s naming field %s%s" % (intruder, field, how), t,
                 ["FIELD: lib/%s names field %s" % (intruder, field)])

        for e in OWNED_FIELDS:
            field_case(e, "field-" + e["fields"][0], "", "%s->%s")
        # ... also through a macro that takes the field's name as an argument
        field_case(OWNED_FIELDS[0], "field-macro", " through a macro's argument",
                   "LAYERS_SELFTEST_OF(%s, %s)")
        case("owned field nobody names", root, ["stale owned field: no file of lib/ names "
                                                "layers_selftest_nofield"],
             owned_fields=OWNED_FIELDS + [{"fields": ["layers_selftest_nofield"], "owners": [],
                                           "why": "self-test"}])

        # 5. an allowlist entry naming an edge that does not exist
        case("stale allowlist entry", root, ["stale allowlist entry: lib/%s -> lib/%s" % (highest, lowest)],
             allowed_upward=ALLOWED_UPWARD + [{"from": highest, "to": lowest, "uses": [low_exp[0]],
                                                 "why": "self-test"}])
        # 6. an allowed edge with a name not on its list, and a listed name no longer used
        if ALLOWED_UPWARD:
            e = dict(ALLOWED_UPWARD[0])
            dropped = sorted(e["uses"])[0]
            e["uses"] = [u for u in e["uses"] if u != dropped] + ["cxm__layers_selftest_gone"]
            case("allowlist entry lib/%s -> lib/%s without %s, with a name unused"
                 % (e["from"], e["to"], dropped), root,
                 ["UPWARD: lib/%s" % e["from"], dropped + " defined in lib/" + e["to"],
                  "lists cxm__layers_selftest_gone, no longer used"],
                 allowed_upward=[e] + ALLOWED_UPWARD[1:])
    return failures


def main(argv):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description="Check the layers of lib/ against docs/architecture.md.")
    ap.add_argument("--root", default=here, help="the project tree (default: %(default)s)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--list", action="store_true", help="print every edge between files")
    mode.add_argument("--dot", action="store_true", help="print the file graph as Graphviz dot")
    ap.add_argument("--self-test", action="store_true",
                    help="first prove on temporary copies that violations are caught")
    args = ap.parse_args(argv)
    root = os.path.abspath(args.root)
    out = sys.stdout
    if args.self_test:
        try:
            failures = self_test(root, out)
        except ConfigError as e:
            out.write("check-layers: %s\n" % e)
            return 2
        if failures:
            for f in failures:
                out.write(f + "\n")
            return 1
    if args.list or args.dot:
        try:
            g = Graph(root)
        except ConfigError as e:
            sys.stderr.write("check-layers: %s\n" % e)
            return 2
        if args.list:
            print_list(g, out)
            # the verdict goes to stderr so that stdout is the list alone
            return report(g, sys.stderr, ALLOWED_UPWARD, ALLOWED_CIRCLES)
        print_dot(g, out, ALLOWED_UPWARD)
        return report(g, sys.stderr, ALLOWED_UPWARD, ALLOWED_CIRCLES)
    return check(root, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
