"""PEP 517 backend of bindings/python: meson-python, run in standalone/.

meson-python builds the meson project of its working directory. The
project next to pyproject.toml is libcxm's subdir and cannot be a root
project, so every hook runs in this directory, whose meson.build is one,
and whose pyproject.toml is a link to the real one."""
import functools
import os

import mesonpy

_HERE = os.path.dirname(os.path.abspath(__file__))


def _here(hook):
    @functools.wraps(hook)
    def run(*args, **kwargs):
        # output directories come relative to the caller's working directory
        args = tuple(os.path.abspath(a) if isinstance(a, str) else a for a in args)
        old = os.getcwd()
        os.chdir(_HERE)
        try:
            return hook(*args, **kwargs)
        finally:
            os.chdir(old)
    return run


build_wheel = _here(mesonpy.build_wheel)
build_sdist = _here(mesonpy.build_sdist)
get_requires_for_build_wheel = _here(mesonpy.get_requires_for_build_wheel)
get_requires_for_build_sdist = _here(mesonpy.get_requires_for_build_sdist)
for _hook in ("build_editable", "get_requires_for_build_editable",
              "prepare_metadata_for_build_wheel"):
    if hasattr(mesonpy, _hook):
        globals()[_hook] = _here(getattr(mesonpy, _hook))
