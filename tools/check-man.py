#!/usr/bin/env python3
"""Check libcxm's man pages and where the documentation is installed.

usage: check-man.py SOURCE_ROOT BUILD_ROOT DOCS_BUILD_DIR GROFF MESON

Fails (exit 1, every problem listed) when
- groff or meson is missing (GROFF or MESON empty or not executable);
- a call group of include/cxm.h (@defgroup NAME) has no generated page
  cxm-NAME.3, or a cxm-NAME.3 has no group (a stale page);
- an exported function of the header has no page NAME.3, or a one-line
  page (.so) points to a page that does not exist;
- libcxm(3)'s SEE ALSO, or the table of docs/mainpage.md (doxygen's
  index page), does not name exactly the groups;
- a page's .TH does not match its file name, or its NAME line is not
  "name[, name...] \\- description" (what whatis and apropos read);
- groff warns on a page, with every warning on (-ww), rendered both for a
  terminal 80 columns wide (as man(1) does) and for PostScript;
- a program installed into bindir has no section-1 page installed, or an
  option of `cxm replay` (bindings/python/cxm/_replay.py) is missing from
  cxm(1), or cxm(1) names one the program does not have;
- the install plan (meson-info/intro-installed.json) does not put the
  pages into MANDIR/man1 and man3, and the guides (docs/*.md but
  mainpage.md) and the HTML reference into DATADIR/doc/libcxm; or
  `meson install --no-rebuild --tags doc,man --destdir TMP` does not
  actually put them there.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

problems = []


def problem(msg):
    problems.append(msg)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def header_groups_and_functions(header):
    text = read(header)
    groups = re.findall(r"@defgroup\s+(\w+)", text)
    functions = re.findall(r"^CXM_EXPORT\b[^;(]*?\b(cxm_\w+)\s*\(", text, re.M)
    return groups, functions


def check_page_text(path, name, section):
    text = read(path)
    th = re.search(r'^\.TH\s+"?([^"\s]+)"?\s+"?(\w+)"?', text, re.M)
    if not th:
        problem("%s: no .TH line" % path)
    else:
        if th.group(1).replace("\\-", "-").lower() != name.lower():
            problem("%s: .TH names %s, the file %s" % (path, th.group(1), name))
        if th.group(2) != section:
            problem("%s: .TH gives section %s, the file %s" % (path, th.group(2), section))
    m = re.search(r"^\.SH\s+\"?NAME\"?\s*\n(.*)$", text, re.M)
    if not m or not re.match(r"^[\w.\\,\- ]+ \\- \S", m.group(1)):
        problem("%s: the line after .SH NAME is not 'name \\- description': %r"
                % (path, m.group(1) if m else None))


def render(groff, path):
    for device in (["-Tutf8", "-rLL=80n"], ["-Tps"]):
        cmd = [groff, "-K", "utf8", "-t", "-man", "-ww", "-z"] + device + [path]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           universal_newlines=True)
        if r.returncode != 0 or r.stderr.strip():
            problem("%s: groff %s: status %d\n    %s" % (path, device[0], r.returncode,
                                                   r.stderr.strip().replace("\n", "\n    ")))


def replay_options(source):
    tree = ast.parse(read(source))
    opts = {"--help"}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            for a in node.args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str) \
                        and a.value.startswith("--"):
                    opts.add(a.value)
    return opts


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: check-man.py SOURCE_ROOT BUILD_ROOT DOCS_BUILD_DIR GROFF MESON")
    src, build, docs = (os.path.abspath(p) for p in sys.argv[1:4])
    groff, meson = sys.argv[4:6]
    if not groff or not os.access(groff, os.X_OK):
        sys.exit("check-man: groff not found (apt-get install groff-base): no page was checked")
    if not meson or not os.access(meson, os.X_OK):
        sys.exit("check-man: meson not found: no page was checked")

    groups, functions = header_groups_and_functions(os.path.join(src, "include", "cxm.h"))
    if not groups:
        problem("include/cxm.h: no @defgroup found")
    man3 = os.path.join(docs, "man3")
    if not os.path.isdir(man3):
        sys.exit("check-man: %s does not exist: the section-3 pages were not generated "
                 "(doxygen missing at setup? apt-get install doxygen)" % man3)

    # Generated pages: group pages, struct pages and one-line links.
    pages, links = {}, {}
    for f in sorted(os.listdir(man3)):
        path = os.path.join(man3, f)
        if not f.endswith(".3"):
            problem("%s: not a section-3 page" % path)
            continue
        text = read(path)
        if text.startswith(".so "):
            links[f[:-2]] = text
        else:
            pages[f[:-2]] = path
    for name, text in links.items():
        m = re.fullmatch(r"\.so man3/([\w\-]+)\.3\n", text)
        if not m or m.group(1) not in pages:
            problem("man3/%s.3: %r does not point to a generated page" % (name, text))
    expected = {"cxm-" + g for g in groups}
    have = {p for p in pages if p.startswith("cxm-")}
    for p in sorted(expected - have):
        problem("group %s of include/cxm.h has no page man3/%s.3" % (p[4:], p))
    for p in sorted(have - expected):
        problem("man3/%s.3: no group %s in include/cxm.h" % (p, p[4:]))
    for fn in functions:
        if fn not in links and fn not in pages:
            problem("exported function %s has no page man3/%s.3" % (fn, fn))

    # Hand-written pages, as configured into the build directory.
    hand = {}
    for f in sorted(os.listdir(docs)):
        m = re.fullmatch(r"([\w\-]+)\.([1-8])", f)
        if m:
            hand[f] = os.path.join(docs, f)
    if "libcxm.3" not in hand:
        problem("%s/libcxm.3 was not built" % docs)
    else:
        text = read(hand["libcxm.3"])
        see = text.split(".SH SEE ALSO", 1)
        named = set(re.findall(r"^\.BR\s+(cxm\\-\w+)\s+\(3\)", see[1], re.M)) if len(see) == 2 else set()
        named = {n.replace("\\-", "-") for n in named}
        for p in sorted(expected - named):
            problem("libcxm.3: SEE ALSO does not name %s(3)" % p)
        for p in sorted(named - expected):
            problem("libcxm.3: SEE ALSO names %s(3), which is not a group of include/cxm.h" % p)
        for ref in set(re.findall(r"cxm\\-(\w+)\s*\(3\)", text)):
            if "cxm-" + ref not in expected:
                problem("libcxm.3: refers to cxm-%s(3), which is not generated" % ref)

    refs = set(re.findall(r"^\|\s*@ref\s+(\w+)", read(os.path.join(src, "docs", "mainpage.md")), re.M))
    for g in sorted(set(groups) - refs):
        problem("docs/mainpage.md: the table of call groups lacks @ref %s" % g)
    for g in sorted(refs - set(groups)):
        problem("docs/mainpage.md: the table of call groups has @ref %s, no group of include/cxm.h" % g)

    # cxm(1) against the replay's argparse parser.
    if "cxm.1" not in hand:
        problem("%s/cxm.1 was not built" % docs)
    else:
        text = read(hand["cxm.1"])
        in_page = {"--" + o.replace("\\-", "-")
                   for o in re.findall(r"\\-\\-([a-z](?:[a-z]|\\-)*)", text)}
        in_code = replay_options(os.path.join(src, "bindings", "python", "cxm", "_replay.py"))
        for o in sorted(in_code - in_page):
            problem("cxm.1 does not describe %s of `cxm replay`" % o)
        for o in sorted(in_page - in_code):
            problem("cxm.1 names %s, which `cxm replay` does not have" % o)

    for f, path in sorted(hand.items()):
        name, section = f.rsplit(".", 1)
        check_page_text(path, name, section)
        render(groff, path)
    for name, path in sorted(pages.items()):
        check_page_text(path, name, "3")
        render(groff, path)

    # The install plan.
    info = os.path.join(build, "meson-info")
    installed = json.loads(read(os.path.join(info, "intro-installed.json")))
    opts = {o["name"]: o["value"] for o in json.loads(read(os.path.join(info, "intro-buildoptions.json")))}
    prefix = opts["prefix"]

    def under(opt):
        return os.path.normpath(os.path.join(prefix, opts[opt]))

    mandir, bindir = under("mandir"), under("bindir")
    doc_dir = os.path.join(under("datadir"), "doc", "libcxm")
    plan = {os.path.normpath(k): os.path.normpath(v) for k, v in installed.items()}

    def expect(built, dest):
        built = os.path.normpath(built)
        if plan.get(built) != dest:
            problem("install: %s goes to %s, not %s" % (built, plan.get(built), dest))

    for f in hand:
        expect(os.path.join(docs, f), os.path.join(mandir, "man" + f[-1], f))
    expect(man3, os.path.join(mandir, "man3"))
    expect(os.path.join(docs, "html"), os.path.join(doc_dir, "html"))
    for f in sorted(os.listdir(os.path.join(src, "docs"))):
        if f.endswith(".md") and f != "mainpage.md":
            expect(os.path.join(src, "docs", f), os.path.join(doc_dir, f))
    man1 = {os.path.basename(d) for d in plan.values()
            if os.path.dirname(d) == os.path.join(mandir, "man1")}
    for dest in sorted(plan.values()):
        if os.path.dirname(dest) == bindir and os.path.basename(dest) + ".1" not in man1:
            problem("installed program %s has no section-1 page (docs/meson.build, man1_pages)"
                    % dest)

    # The real thing, for the doc and man tags only (nothing else is built).
    destdir = tempfile.mkdtemp(prefix="cxm-man-install.")
    try:
        r = subprocess.run([meson, "install", "-C", build, "--no-rebuild", "--tags", "doc,man",
                            "--destdir", destdir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        if r.returncode != 0:
            problem("meson install --tags doc,man failed:\n    " + r.stdout.strip()[-2000:])
        else:
            def root(path):
                return os.path.join(destdir, os.path.relpath(path, "/"))
            want = [os.path.join(mandir, "man3", p + ".3") for p in sorted(expected)]
            want += [os.path.join(mandir, "man3", fn + ".3") for fn in functions]
            want += [os.path.join(mandir, "man" + f[-1], f) for f in hand]
            want += [os.path.join(doc_dir, "html", "index.html")]
            want += [os.path.join(doc_dir, f) for f in os.listdir(os.path.join(src, "docs"))
                     if f.endswith(".md") and f != "mainpage.md"]
            for w in want:
                if not os.path.isfile(root(w)):
                    problem("meson install --destdir: no %s" % w)
    finally:
        shutil.rmtree(destdir, ignore_errors=True)

    index = os.path.join(docs, "html", "index.html")
    if not os.path.exists(index) or "group__feed.html" not in read(index):
        problem("%s: the main page does not link to the call groups" % index)

    if problems:
        print("check-man: %d problem(s):" % len(problems), file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        sys.exit(1)
    print("check-man: %d groups, %d generated pages, %d links, %d hand-written pages: "
          "all render without warnings and install where they should"
          % (len(groups), len(pages), len(links), len(hand)))


if __name__ == "__main__":
    main()
