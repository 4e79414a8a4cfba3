"""PEP 517 backend of bindings/python: meson-python, run in standalone/.

meson-python builds the meson project of its working directory. The
project next to pyproject.toml is libcxm's subdir and cannot be a root
project, so every hook runs in this directory, whose meson.build is one,
and whose pyproject.toml is a link to the real one.

Two more things meson-python does not do:

- It names an abi3 wheel after the interpreter that built it (cp311-abi3
  from Debian 12's Python), so pip refuses it on 3.8-3.10 although the
  module was compiled for the limited API of 3.8. build_wheel() retags it
  with the version meson.build gives Py_LIMITED_API (cp38-abi3-PLATFORM):
  the WHEEL file's Tag line, its RECORD line and the file name.
- It leaves its native file (.mesonpy-native-file.ini) in this directory;
  the hooks remove it when they created it.
"""
import base64
import functools
import hashlib
import os
import re
import sys
import zipfile

try:
    import mesonpy
except ImportError as e:  # pip --no-build-isolation under a Python without it
    raise ImportError(
        f"meson-python is not installed for {sys.executable}. Build the wheel with a Python "
        "that has it (Debian: apt-get install python3-mesonpy python3-pip python3-dev; "
        "/usr/bin/python3 -m pip wheel --no-build-isolation --no-index --no-deps -w DIR "
        "bindings/python), then pip install that wheel into any CPython >= 3.8: see "
        "docs/python.md") from e

_HERE = os.path.dirname(os.path.abspath(__file__))
_NATIVE_FILE = os.path.join(_HERE, ".mesonpy-native-file.ini")


def _here(hook):
    @functools.wraps(hook)
    def run(*args, **kwargs):
        # output directories come relative to the caller's working directory
        args = tuple(os.path.abspath(a) if isinstance(a, str) else a for a in args)
        had_native_file = os.path.exists(_NATIVE_FILE)
        old = os.getcwd()
        os.chdir(_HERE)
        try:
            return hook(*args, **kwargs)
        finally:
            os.chdir(old)
            if not had_native_file:
                try:
                    os.remove(_NATIVE_FILE)
                except FileNotFoundError:
                    pass
    return run


def _abi3_python_tag():
    """cp3X, X being the minor version meson.build gives Py_LIMITED_API."""
    with open(os.path.join(_HERE, "meson.build"), encoding="utf-8") as f:
        found = set(re.findall(r"-DPy_LIMITED_API=0x03([0-9a-fA-F]{2})0000", f.read()))
    if len(found) != 1:
        raise RuntimeError("standalone/meson.build must set -DPy_LIMITED_API=0x03XX0000 once")
    return f"cp3{int(found.pop(), 16)}"


def _record_hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _retag(directory, name):
    """Rename DIST-VER-cpXY-abi3-PLAT.whl to the limited API's python tag
    and rewrite its WHEEL and RECORD to match; returns the new name."""
    parts = name[:-len(".whl")].split("-")
    if len(parts) != 5 or parts[3] != "abi3":
        return name  # not an abi3 wheel: meson-python's tag is right
    dist, version, python, abi, platform = parts
    want = _abi3_python_tag()
    if python == want:
        return name
    new_name = f"{dist}-{version}-{want}-{abi}-{platform}.whl"
    src, dst = os.path.join(directory, name), os.path.join(directory, new_name)
    info_dir = f"{dist}-{version}.dist-info/"
    old_tag, new_tag = f"Tag: {python}-{abi}-{platform}", f"Tag: {want}-{abi}-{platform}"
    with zipfile.ZipFile(src) as zin:
        wheel = zin.read(info_dir + "WHEEL").decode("utf-8").splitlines()
        if wheel.count(old_tag) != 1:
            raise RuntimeError(f"{name}: its WHEEL file does not say {old_tag!r} once")
        wheel_data = "".join((new_tag if ln == old_tag else ln) + "\n" for ln in wheel).encode()
        wheel_line = f"{info_dir}WHEEL,{_record_hash(wheel_data)},{len(wheel_data)}"
        with zipfile.ZipFile(dst + ".part", "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename == info_dir + "WHEEL":
                    data = wheel_data
                elif info.filename == info_dir + "RECORD":
                    lines = [wheel_line if ln.startswith(info_dir + "WHEEL,") else ln
                             for ln in data.decode("utf-8").splitlines()]
                    if wheel_line not in lines:
                        raise RuntimeError(f"{name}: its RECORD has no line for WHEEL")
                    data = "".join(ln + "\n" for ln in lines).encode()
                zout.writestr(info, data)
    os.replace(dst + ".part", dst)
    os.remove(src)
    return new_name


def _build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = mesonpy.build_wheel(wheel_directory, config_settings, metadata_directory)
    return _retag(wheel_directory, name)


build_wheel = _here(_build_wheel)
build_sdist = _here(mesonpy.build_sdist)
get_requires_for_build_sdist = _here(mesonpy.get_requires_for_build_sdist)
get_requires_for_build_wheel = _here(mesonpy.get_requires_for_build_wheel)
for _hook in ("build_editable", "get_requires_for_build_editable",
              "prepare_metadata_for_build_wheel"):
    if hasattr(mesonpy, _hook):
        globals()[_hook] = _here(getattr(mesonpy, _hook))
