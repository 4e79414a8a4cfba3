#!/usr/bin/env bash
# Build programs against libcxm the ways docs/install.md describes, other
# than pkg-config (tools/test.sh checks that one):
#   cmake  tests/consumers/cmake finds the staged install with find_package(cxm),
#          once for the default library (shared) and once with COMPONENTS static
#   meson  tests/consumers/meson-parent takes a copy of this tree as the
#          subproject cxm, with default_library=static
# usage: tools/test-consumers.sh BUILD_DIR STAGING_ROOT
#   after: meson install -C BUILD_DIR --destdir STAGING_ROOT
# One line per check; exits 1 when any check fails, 2 on bad usage.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR STAGING_ROOT (after meson install -C BUILD_DIR --destdir STAGING_ROOT)" >&2; exit 2; }
[ $# -eq 2 ] || usage
[ -f "$1/meson-info/meson-info.json" ] || { echo "test-consumers: $1 is not a meson build directory" >&2; usage; }
[ -d "$2" ] || { echo "test-consumers: no staging root $2" >&2; usage; }
build=$(cd "$1" && pwd)
root=$(cd "$2" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)

failures=0
ok() { echo "consumers: ok   $*"; }
bad() { echo "consumers: FAIL $*" >&2; failures=$((failures + 1)); }
die() { echo "consumers: FAIL $*" >&2; exit 1; }
show() { sed 's/^/    | /' "$1" >&2; } # a log, under the line that failed

# A missing tool fails: these checks are not optional.
for tool in cmake:cmake meson:meson ninja:ninja-build readelf:binutils cc:gcc \
	/usr/bin/python3:python3; do
	command -v "${tool%%:*}" >/dev/null || die "${tool%%:*} is missing (apt-get install ${tool#*:})"
done

tmp=$(mktemp -d /tmp/cxm-consumers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# Where BUILD_DIR installs, and which version it is.
info=$(meson introspect --buildoptions --projectinfo "$build" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
opts = {o["name"]: o["value"] for o in d["buildoptions"]}
print(opts["prefix"], opts["libdir"], d["projectinfo"]["version"])') ||
	die "meson introspect $build failed"
read -r prefix libdir version <<<"$info"
case $libdir in /*) ;; *) libdir=$prefix/$libdir ;; esac
stage=$root$prefix
stage_lib=$root$libdir
major=${version%%.*}
want=$(echo "$version" | cut -d. -f1,2)

# NEEDED entries of an ELF file, one a line.
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

echo "consumers: libcxm $version installed under $stage"
for f in cmake/cxm/cxmConfig.cmake cmake/cxm/cxmConfigVersion.cmake libcxm.a "libcxm.so.$major"; do
	if [ -e "$stage_lib/$f" ]; then
		ok "install holds ${stage_lib#"$root"}/$f"
	else
		bad "install lacks ${stage_lib#"$root"}/$f"
	fi
done

# (a) CMake, against the staged prefix (the package finds its paths from
# where its files are, not from the prefix it was configured with).
generator=(-G Ninja)
for kind in default static; do
	b=$tmp/cmake-$kind
	if [ "$kind" = default ]; then comp=""; expect=SHARED_LIBRARY; else comp=$kind; expect=STATIC_LIBRARY; fi
	if ! cmake "${generator[@]}" -S "$src/tests/consumers/cmake" -B "$b" \
		-DCMAKE_PREFIX_PATH="$stage" -DCXM_KIND="$comp" -DCXM_WANT="$want" \
		-DCXM_VERSION_EXPECTED="$version" >"$tmp/log" 2>&1; then
		bad "cmake ($kind): configuring tests/consumers/cmake failed"
		show "$tmp/log"
		continue
	fi
	ok "cmake ($kind): find_package(cxm $want) found $version; it refuses a later major, a later minor, a range below $version, a bogus component, shared+static"
	type=$(sed -n 's/^type=//p' "$b/cxm-found.txt")
	location=$(sed -n 's/^location=//p' "$b/cxm-found.txt")
	include=$(sed -n 's/^include=//p' "$b/cxm-found.txt")
	if [ "$type" = "$expect" ] && [ "${location#"$stage_lib"/}" != "$location" ] &&
		[ "$include" = "$stage/include" ]; then
		ok "cmake ($kind): cxm::cxm is a $type at ${location#"$root"} in the staging root"
	else
		bad "cmake ($kind): cxm::cxm is a $type at $location including $include; expected a $expect in $stage_lib"
	fi
	if ! cmake --build "$b" >"$tmp/log" 2>&1; then
		bad "cmake ($kind): building the consumer failed"
		show "$tmp/log"
		continue
	fi
	if env -u LD_LIBRARY_PATH "$b/consumer" >"$tmp/log" 2>&1; then
		ok "cmake ($kind): the consumer runs: $(cat "$tmp/log")"
	else
		bad "cmake ($kind): the consumer failed"
		show "$tmp/log"
	fi
	libs=$(needed "$b/consumer" | tr '\n' ' ')
	if [ "$kind" = static ]; then
		if grep -q '\blibcxm' <<<"$libs"; then
			bad "cmake (static): the consumer needs a shared libcxm: $libs"
		else
			ok "cmake (static): the consumer needs no libcxm.so (NEEDED: $libs)"
		fi
	elif grep -q "\blibcxm\.so\.$major " <<<"$libs"; then
		ok "cmake (default): the consumer needs libcxm.so.$major"
	else
		bad "cmake (default): the consumer does not need libcxm.so.$major (NEEDED: $libs)"
	fi
done

# (b) A meson project with libcxm as its subproject cxm: a copy of this
# tree's sources (what git tracks plus new files it does not ignore; never
# a build directory), found through the parent's cxm.wrap.
parent=$tmp/parent
cp -R "$src/tests/consumers/meson-parent" "$parent"
# the same program as the CMake consumer's
cp "$src/tests/consumers/cmake/main.c" "$parent/main.c"
sub=$parent/subprojects/cxm
mkdir -p "$sub"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -f "$src/$f" ] && printf '%s\0' "$f"; done >"$tmp/files"
	tar -C "$src" --null -T "$tmp/files" -cf - | tar -C "$sub" -xf -
else
	tar -C "$src" --exclude=./build --exclude=./.git -cf - . | tar -C "$sub" -xf -
fi
if [ -f "$sub/meson.build" ] && [ -z "$(find "$sub" -name meson-private -print -quit)" ]; then
	ok "meson: subprojects/cxm is a copy of the sources ($(find "$sub" -type f | wc -l) files, no build tree)"
else
	bad "meson: the copy of the tree in subprojects/cxm has no meson.build or holds a build tree"
fi

pb=$tmp/parent-build
if ! meson setup "$pb" "$parent" -Ddefault_library=static --force-fallback-for=cxm >"$tmp/log" 2>&1; then
	bad "meson: configuring the parent with -Ddefault_library=static failed"
	show "$tmp/log"
else
	ok "meson: the parent configures; dependency('cxm') comes from the subproject"
	# What the subproject defines: the static library alone.
	targets=$(meson introspect --targets "$pb" | /usr/bin/python3 -c '
import json, sys
print(" ".join(sorted(t["name"] + "(" + t["type"] + ")" for t in json.load(sys.stdin)
                      if t.get("subproject") == "cxm")))')
	if [ "$targets" = "cxm(static library)" ]; then
		ok "meson: the subproject builds only its static library"
	else
		bad "meson: the subproject defines more than its static library: $targets"
	fi
	# (ninja, run first, may say "no work to do" on the same output)
	if meson test -C "$pb" --list 2>"$tmp/log" | grep -v '^ninja: ' >"$tmp/list" &&
		[ "$(cat "$tmp/list")" = "parent-runs" ]; then
		ok "meson: meson test --list shows only the parent's test"
	else
		bad "meson: meson test --list is not just the parent's test:"
		show "$tmp/list"
	fi
	if ! meson compile -C "$pb" >"$tmp/log" 2>&1; then
		bad "meson: building the parent failed"
		show "$tmp/log"
	else
		if meson test -C "$pb" --print-errorlogs >"$tmp/log" 2>&1; then
			ok "meson: the parent's program runs: $(grep -ho 'consumer: .*' "$pb/meson-logs/testlog.txt" | head -1)"
		else
			bad "meson: the parent's test failed"
			show "$tmp/log"
		fi
		libs=$(needed "$pb/parent" | tr '\n' ' ')
		if grep -q '\blibcxm' <<<"$libs"; then
			bad "meson: the parent's program needs a shared libcxm: $libs"
		else
			ok "meson: the parent's program needs no libcxm.so (NEEDED: $libs)"
		fi
		if ! meson install -C "$pb" --destdir "$tmp/parent-root" >"$tmp/log" 2>&1; then
			bad "meson: installing the parent failed"
			show "$tmp/log"
		else
			(cd "$tmp/parent-root" && find . -type f | sed 's|^\.||' | sort) >"$tmp/installed"
			if grep -Eq '\.pyi?$|/python[0-9.]*/|/lua/|\.abi3\.so$|/cxm\.so$|py\.typed$' "$tmp/installed"; then
				bad "meson: the parent's install holds Python or Lua files:"
				grep -E '\.pyi?$|/python[0-9.]*/|/lua/|\.abi3\.so$|/cxm\.so$|py\.typed$' "$tmp/installed" |
					sed 's/^/    | /' >&2
			elif ! grep -q '/bin/parent$' "$tmp/installed"; then
				bad "meson: the parent's install lacks its program:"
				show "$tmp/installed"
			else
				ok "meson: the parent installs no Python or Lua file ($(wc -l <"$tmp/installed") files: $(xargs -n1 basename <"$tmp/installed" | tr '\n' ' '))"
			fi
		fi
	fi
fi

if [ "$failures" -ne 0 ]; then
	echo "consumers: $failures check(s) failed" >&2
	exit 1
fi
echo "consumers: all checks passed"
