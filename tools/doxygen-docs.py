#!/usr/bin/env python3
"""Render the API documentation of include/cxm.h: HTML and section-3 man pages.

usage: doxygen-docs.py DOXYGEN DOXYFILE OUTDIR

Runs doxygen once with DOXYFILE (which asks for HTML, man and XML output),
writing into OUTDIR/doxygen-stage, then leaves in OUTDIR:

  html/   doxygen's HTML, as it made it;
  man3/   one page per call group of the header, cxm-GROUP.3 (doxygen
          names it GROUP.3, too generic a name for /usr/share/man), one
          page per public struct, cxm_STRUCT.3, and for every function,
          typedef, enum and macro of a group a one-line page
          (".so man3/cxm-GROUP.3") so that `man cxm_feed` finds its group.

The XML output says which group holds which member; doxygen's own link
pages (MAN_LINKS) are not used, because a typedef and the struct of the
same name would both write NAME.3. The pages are lightly repaired: the NAME
line gets a description (whatis/apropos need "name \\- text"), a group's
SYNOPSIS names the header, lists of status codes get spaces after their
commas (doxygen joins "@retval A, B" into one word nroff cannot break),
an empty "Detailed Description" goes, and every page ends with SEE ALSO.
Doxygen warnings do not stop the build; the doxygen test of the docs suite
fails on them.
"""
import datetime
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

LINK_KINDS = ("function", "typedef", "enum", "define")


def text_of(elem):
    return " ".join("".join(elem.itertext()).split()) if elem is not None else ""


def first_sentence(compound):
    """The brief of a compound, else the first sentence of its description."""
    brief = text_of(compound.find("briefdescription"))
    if not brief:
        para = compound.find("detaileddescription/para")
        brief = text_of(para)
        m = re.match(r"(.+?[.:])(\s|$)", brief)
        if m:
            brief = m.group(1)
    return brief.rstrip(".:")


def roff_escape(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + s if s[:1] in (".", "'") else s


def read_model(xml_dir):
    """[(group, title, [struct, ...], [member, ...])] and {struct: brief}."""
    index = ET.parse(os.path.join(xml_dir, "index.xml")).getroot()
    groups, structs = [], {}
    for comp in index.findall("compound"):
        kind, refid = comp.get("kind"), comp.get("refid")
        if kind not in ("group", "struct"):
            continue
        cdef = ET.parse(os.path.join(xml_dir, refid + ".xml")).getroot().find("compounddef")
        name = cdef.findtext("compoundname")
        if kind == "struct":
            structs[name] = first_sentence(cdef)
            continue
        members = [m.findtext("name") for m in cdef.iter("memberdef")
                   if m.get("kind") in LINK_KINDS]
        groups.append((name, cdef.findtext("title") or name,
                       [c.text for c in cdef.findall("innerclass")], members))
    return groups, structs


def see_also(pages):
    lines = ['.SH "SEE ALSO"']
    for i, page in enumerate(pages):
        lines.append(".BR %s (3)%s" % (page, "," if i + 1 < len(pages) else ""))
    return lines


def rewrite(src, dst, name, description, see, include_in_synopsis):
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    out, i = [], 0
    if not lines or not lines[0].startswith(".TH "):
        sys.exit("doxygen-docs: %s does not start with .TH" % src)
    while i < len(lines):
        line = lines[i]
        if i == 0:
            # .TH "name" 3 "date" "Version x" "libcxm" -> our name and source
            fields = re.findall(r'"([^"]*)"', line)
            date = fields[1] if len(fields) > 1 else ""
            try:  # doxygen writes "Thu Dec 3 2026"; man pages use 2026-12-03
                date = datetime.datetime.strptime(date, "%a %b %d %Y").strftime("%Y-%m-%d")
            except ValueError:
                pass
            line = '.TH "%s" 3 "%s" "libcxm %s" "libcxm manual"' % (name, date, VERSION)
        elif line == ".SH NAME" and i + 1 < len(lines):
            out.append(line)
            out.append("%s \\- %s" % (roff_escape(name), roff_escape(description)))
            i += 2
            continue
        elif line == ".SH SYNOPSIS" and include_in_synopsis:
            out += [line, ".nf", "\\fB#include <cxm.h>\\fP", ".fi", ".PP",
                    "Link with \\fB\\-lcxm\\fP (\\fBpkg\\-config \\-\\-libs cxm\\fP)."]
            i += 1
            continue
        elif line == '.SH "Detailed Description"':
            j = i + 1
            while j < len(lines) and lines[j].strip() in ("", ".PP"):
                j += 1
            if j < len(lines) and lines[j].startswith(".SH "):
                i = j  # a group without a description: no empty section
                continue
        elif line == '.SH "Author"':
            out += see_also(see)
        elif line.startswith("\\fICXM_"):
            # "@retval CXM_A, CXM_B text" comes out as \fICXM_A,CXM_B\fP
            line = re.sub(r",(?=CXM_)", ", ", line)
        out.append(line)
        i += 1
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def main():
    global VERSION
    if len(sys.argv) != 4:
        sys.exit("usage: doxygen-docs.py DOXYGEN DOXYFILE OUTDIR")
    doxygen, doxyfile, outdir = sys.argv[1:]
    stage = os.path.join(outdir, "doxygen-stage")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    with open(doxyfile, encoding="utf-8") as f:
        config = f.read()
    m = re.search(r"^PROJECT_NUMBER\s*=\s*(\S+)", config, re.M)
    VERSION = m.group(1) if m else ""
    # Later assignments win: the same configuration, another output place.
    config += "\nOUTPUT_DIRECTORY = %s\nWARN_LOGFILE = %s\n" % (
        stage, os.path.join(stage, "warnings.log"))
    subprocess.run([doxygen, "-"], input=config.encode(), check=True)
    log = os.path.join(stage, "warnings.log")
    if os.path.exists(log) and os.path.getsize(log):
        print("doxygen-docs: doxygen warned; `meson test --suite docs` lists the warnings",
              file=sys.stderr)

    html = os.path.join(outdir, "html")
    shutil.rmtree(html, ignore_errors=True)
    shutil.move(os.path.join(stage, "html"), html)

    man_in = os.path.join(stage, "man", "man3")
    man = os.path.join(outdir, "man3")
    shutil.rmtree(man, ignore_errors=True)
    os.makedirs(man)
    groups, structs = read_model(os.path.join(stage, "xml"))
    group_of = {}
    for group, title, inner, members in groups:
        page = "cxm-" + group
        for s in inner:
            group_of[s] = page
        rewrite(os.path.join(man_in, group + ".3"), os.path.join(man, page + ".3"),
                page, "libcxm: " + title, ["libcxm"] + inner, True)
        for member in members:
            if member not in structs:
                with open(os.path.join(man, member + ".3"), "w", encoding="utf-8") as f:
                    f.write(".so man3/%s.3\n" % page)
    for struct, brief in structs.items():
        see = ["libcxm"] + ([group_of[struct]] if struct in group_of else [])
        rewrite(os.path.join(man_in, struct + ".3"), os.path.join(man, struct + ".3"),
                struct, brief or "a struct of libcxm", see, False)
    shutil.rmtree(stage)


VERSION = ""
if __name__ == "__main__":
    main()
