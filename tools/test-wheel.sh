#!/usr/bin/env bash
# The Python wheel as a user gets it, without PyPI:
#   1. builds the cxm wheel with Debian's Python (python3-mesonpy) and checks
#      its tag (cp38-abi3-PLATFORM) and its version (meson.build's project());
#   2. checks the extension module carries libcxm inside: no RPATH/RUNPATH,
#      no libcxm among its NEEDED libraries, no cxm_ symbol exported;
#   3. installs it with pip --no-index into a fresh plain venv (no system
#      site-packages) of the oldest and of the newest CPython >= 3.8 pyenv
#      has, and there, from a temporary directory with LD_LIBRARY_PATH and
#      PYTHONPATH unset, imports cxm, compares cxm.__version__ with the
#      project version, feeds and queries, and runs the console script.
# CXM_WHEEL_PYTHONS="/path/to/python3.8 /path/to/python3.13" names the
# interpreters instead of pyenv. Nothing stays in the source tree (the
# build's own standalone/.mesonpy-* directory is checked to be gone);
# temporary files go under ${TMPDIR:-/tmp} and are removed.
# Exit status 0 when everything passed; the last line says which.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
start=$SECONDS

fail() {
	echo "test-wheel.sh: FAIL: $*" >&2
	exit 1
}

build_python=/usr/bin/python3
[ -x "$build_python" ] || fail "no $build_python (Debian's Python builds the wheel)"
"$build_python" -c 'import mesonpy, pip' 2>/dev/null ||
	fail "$build_python lacks meson-python or pip: apt-get install python3-mesonpy python3-pip python3-dev"
for tool in meson readelf nm; do
	command -v "$tool" >/dev/null || fail "$tool is missing (apt-get install meson binutils)"
done

# the project version as meson reads it (every meson.build must parse)
projectinfo=$(meson introspect --projectinfo meson.build 2>/dev/null) ||
	fail "meson introspect cannot read meson.build:"$'\n'"$(meson introspect --projectinfo meson.build 2>&1)"
version=$("$build_python" -c 'import json, sys; print(json.loads(sys.argv[1])["version"])' \
	"$projectinfo") || fail "meson introspect gives no project version: $projectinfo"
[ -n "$version" ] || fail "meson.build gives no project version"

# the interpreters: CXM_WHEEL_PYTHONS, or the oldest and newest 3.8+ of pyenv
pythons=()
if [ -n "${CXM_WHEEL_PYTHONS:-}" ]; then
	read -r -a pythons <<<"$CXM_WHEEL_PYTHONS"
else
	pyenv_root=${PYENV_ROOT:-}
	if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null; then
		pyenv_root=$(pyenv root)
	fi
	pyenv_root=${pyenv_root:-$HOME/.pyenv}
	found=$(for exe in "$pyenv_root"/versions/3.*/bin/python3; do
		[ -x "$exe" ] || continue
		minor=$(sed -n 's|.*/versions/3\.\([0-9]*\)\.[0-9]*/bin/python3$|\1|p' <<<"$exe")
		if [ -n "$minor" ] && [ "$minor" -ge 8 ]; then echo "$minor $exe"; fi
	done | sort -n -k1,1)
	[ -n "$found" ] ||
		fail "no CPython 3.8 or later under $pyenv_root/versions (pyenv install 3.8 3.13, or set CXM_WHEEL_PYTHONS)"
	pythons=("$(head -1 <<<"$found" | cut -d' ' -f2)")
	newest=$(tail -1 <<<"$found" | cut -d' ' -f2)
	[ "$newest" = "${pythons[0]}" ] || pythons+=("$newest")
fi
[ "${#pythons[@]}" -gt 0 ] || fail "CXM_WHEEL_PYTHONS names no interpreter"
for py in "${pythons[@]}"; do
	[ -x "$py" ] || fail "$py is not an executable"
	pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') || fail "$py does not run"
	"$py" -c 'import sys; sys.exit(sys.version_info < (3, 8))' || fail "$py is Python $pyver, older than 3.8"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cxm-wheel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== build the wheel ($build_python, meson-python)"
stamp=$tmp/stamp
touch "$stamp"
if ! (cd "$tmp" && "$build_python" -m pip wheel --no-index --no-build-isolation --no-deps \
	--disable-pip-version-check -w "$tmp/dist" "$src/bindings/python") >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	fail "pip wheel of bindings/python failed"
fi
# meson-python works in standalone/.mesonpy-*; the backend must clean up
left=$(find bindings/python/standalone -maxdepth 1 -name '.mesonpy-*' -newer "$stamp")
if [ -n "$left" ]; then
	find bindings/python/standalone -maxdepth 1 -name '.mesonpy-*' -newer "$stamp" -exec rm -rf {} +
	fail "the build left files in the source tree: $left"
fi
wheels=("$tmp"/dist/*.whl)
if [ "${#wheels[@]}" -ne 1 ] || [ ! -f "${wheels[0]}" ]; then
	fail "pip wheel made no single wheel: ${wheels[*]}"
fi
wheel=${wheels[0]}
name=$(basename "$wheel")
echo "built $name ($(($(stat -c %s "$wheel") / 1024)) KiB)"
[[ $name =~ ^cxm-${version//./\\.}-cp38-abi3-[a-z0-9_]+\.whl$ ]] ||
	fail "$name is not cxm-$version-cp38-abi3-PLATFORM.whl"
# the tag and version inside (WHEEL, METADATA), and RECORD's hashes, the
# WHEEL file's included, as wheel itself verifies them
"$build_python" - "$wheel" "$version" <<'EOF' || fail "$name: its dist-info does not match (above)"
import base64, csv, hashlib, io, os, sys, zipfile
path, version = sys.argv[1:]
info = f"cxm-{version}.dist-info/"
with zipfile.ZipFile(path) as z:
    tags = [ln[5:] for ln in z.read(info + "WHEEL").decode().splitlines() if ln.startswith("Tag: ")]
    assert [f"cxm-{version}-{t}.whl" for t in tags] == [os.path.basename(path)], f"WHEEL says {tags}"
    assert f"Version: {version}" in z.read(info + "METADATA").decode().splitlines(), "METADATA"
    record = info + "RECORD"
    rows = {r[0]: r for r in csv.reader(io.StringIO(z.read(record).decode()))}
    for n in z.namelist():
        if n == record:
            continue
        data = z.read(n)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert rows[n][1:] == ["sha256=" + digest, str(len(data))], n
    assert set(rows) == set(z.namelist()), set(rows) ^ set(z.namelist())
EOF

cat >"$tmp/smoke.py" <<'EOF'
import os, sys
from datetime import datetime, timezone
import cxm

want = sys.argv[1]
assert cxm.__version__ == want, f"cxm.__version__ {cxm.__version__!r}, meson.build {want!r}"
assert cxm.libversion() == want, f"libversion() {cxm.libversion()!r}"
assert os.path.realpath(cxm._cxm.__file__).startswith(os.path.realpath(sys.prefix) + os.sep), \
    f"{cxm._cxm.__file__} is not the venv's"
assert cxm._cxm.__file__.endswith("_cxm.abi3.so") and cxm._cxm.LIMITED_API == 0x03080000
with cxm.Context() as ctx:
    agent = ctx.touchpoint("agent call", "phone")
    nps = ctx.metric("nps")
    now = datetime.now(timezone.utc)
    ctx.feed(now, agent, {nps: 9}, customer="c-1")
    ctx.feed(now, agent, {nps: 3}, customer="c-2")
    assert ctx.feed_many([(now, agent, {nps: 10}, "c-3")]).accepted == 1
    r = ctx.query(nps, "1h", touchpoint=agent)
    assert r.n == 3 and abs(r.value - 100 / 3) < 1e-9, r  # 2 promoters, 1 detractor
print(cxm._cxm.__file__)
print(f"Python {sys.version.split()[0]}: cxm {cxm.__version__}, NPS {r.value:+.1f} from {r.n}")
EOF

checked_elf=
n=0
for py in "${pythons[@]}"; do
	n=$((n + 1))
	pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	echo "== Python $pyver ($py): a plain venv, pip install --no-index the wheel"
	venv=$tmp/venv-$n-$pyver
	"$py" -m venv "$venv" || fail "$py -m venv failed"
	"$venv/bin/python" -c 'import sys; assert sys.prefix != sys.base_prefix' ||
		fail "$venv is not a venv"
	if ! "$venv/bin/python" -m pip install --no-index --no-deps --disable-pip-version-check \
		"$wheel" >"$tmp/install.log" 2>&1; then
		cat "$tmp/install.log"
		fail "pip of Python $pyver refuses $name"
	fi
	mkdir -p "$tmp/run"
	out=$(cd "$tmp/run" && env -u LD_LIBRARY_PATH -u PYTHONPATH -u PYTHONHOME \
		"$venv/bin/python" "$tmp/smoke.py" "$version" 2>&1) ||
		fail "the smoke test under Python $pyver failed:"$'\n'"$out"
	so=$(head -1 <<<"$out")
	tail -n +2 <<<"$out"
	(cd "$tmp/run" && env -u LD_LIBRARY_PATH -u PYTHONPATH "$venv/bin/cxm" --help >/dev/null) ||
		fail "the cxm console script does not run under Python $pyver"
	if [ -z "$checked_elf" ]; then
		dyn=$(readelf -d "$so") || fail "readelf -d $so failed"
		if grep -E '\((RPATH|RUNPATH)\)' <<<"$dyn"; then
			fail "the installed module has an RPATH/RUNPATH (libcxm should be inside it)"
		fi
		if grep -E '\(NEEDED\).*libcxm' <<<"$dyn"; then
			fail "the installed module needs a shared libcxm (libcxm should be inside it)"
		fi
		exported=$(nm -D --defined-only "$so" | awk '{print $3}')
		[ "$exported" = "PyInit__cxm" ] ||
			fail "the module exports more than PyInit__cxm: $(tr '\n' ' ' <<<"$exported")"
		echo "module: no RPATH/RUNPATH, no libcxm.so needed, exports PyInit__cxm only"
		checked_elf=1
	fi
done

echo "test-wheel.sh: OK: $name installs and works in Python $(for py in "${pythons[@]}"; do
	"$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])'
done | paste -sd' ') ($((SECONDS - start)) s)"
