#!/usr/bin/env python3
"""What the standalone build of the cxm package takes from libcxm's tree.

  libcxm_tree.py version   the project version of the top-level meson.build
  libcxm_tree.py sources   the library's C files (lib/meson.build's
                           cxm_sources), one path a line, relative to here

Both are read from the files where libcxm keeps them, so that the version
and the list of sources are written in one place only. Anything unexpected
stops the build with a message rather than guessing."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def fail(msg):
    sys.exit(f"libcxm_tree.py: {msg}")


def read(rel):
    path = os.path.join(ROOT, rel)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        fail(f"cannot read {path} ({e.strerror}): the standalone build needs libcxm's whole tree")


def strip_comments(text):
    return re.sub(r"#[^\n]*", "", text)


def version():
    text = strip_comments(read("meson.build"))
    m = re.match(r"\s*project\(\s*'libcxm'\s*,(.*?)\bversion\s*:\s*'([^']+)'", text, re.S)
    if not m:
        fail("meson.build does not begin with project('libcxm', ..., version: '...')")
    if not re.fullmatch(r"\d+\.\d+\.\d+", m.group(2)):
        fail(f"meson.build's version {m.group(2)!r} is not MAJOR.MINOR.PATCH")
    return m.group(2)


def sources():
    text = strip_comments(read(os.path.join("lib", "meson.build")))
    m = re.search(r"\bcxm_sources\s*=\s*files\(([^)]*)\)", text)
    if not m:
        fail("lib/meson.build has no cxm_sources = files(...)")
    names = re.findall(r"'([^']+)'", m.group(1))
    if not names or not all(n.endswith(".c") for n in names):
        fail(f"lib/meson.build's cxm_sources are not a list of C files: {names!r}")
    return [os.path.join("..", "..", "..", "lib", n) for n in names]


if __name__ == "__main__":
    if sys.argv[1:] == ["version"]:
        print(version())
    elif sys.argv[1:] == ["sources"]:
        print("\n".join(sources()))
    else:
        fail("usage: libcxm_tree.py version|sources")
