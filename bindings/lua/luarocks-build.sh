#!/bin/sh
# Compiles the cxm Lua module for luarocks: the build command of the
# rockspec (bindings/lua/cxm.rockspec.in) and of its test
# (luarocks-test.lua). Run from the top of the source tree.
#
#   sh bindings/lua/luarocks-build.sh OUTDIR VERSION CC CFLAGS LIBFLAG \
#       LUA_INCDIR CXM_INCDIR CXM_LIBDIR
#
# Writes OUTDIR/cxm.so and nothing else: the object file goes to a
# temporary directory, removed on exit, so a build leaves the source tree
# as it found it. VERSION (may be empty) becomes cxm._VERSION's. The module
# links the installed libcxm.so and records CXM_LIBDIR as its run path, as
# luarocks does for the libraries of its builtin modules, so that a libcxm
# installed outside the loader's directories is found at run time.
set -eu

[ $# -eq 8 ] || {
	echo "luarocks-build.sh: 8 arguments expected, got $#" >&2
	exit 2
}
out=$1 version=$2 cc=$3 cflags=$4 libflag=$5 lua_incdir=$6 cxm_incdir=$7 cxm_libdir=$8

[ -f bindings/lua/cxm_lua.c ] || {
	echo "luarocks-build.sh: run from the top of libcxm's source tree" >&2
	exit 1
}
for f in "$lua_incdir/lua.h" "$cxm_incdir/cxm.h"; do
	[ -f "$f" ] || {
		echo "luarocks-build.sh: $f not found" >&2
		exit 1
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cxm-rock.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

set -- -std=c11 -fvisibility=hidden -I"$lua_incdir" -I"$cxm_incdir"
[ -n "$version" ] && set -- "$@" "-DCXM_LUA_VERSION=\"$version\""
# CFLAGS and LIBFLAG hold several options: split them into words.
# shellcheck disable=SC2086
$cc $cflags "$@" -c bindings/lua/cxm_lua.c -o "$tmp/cxm_lua.o"
# shellcheck disable=SC2086
$cc $libflag -o "$tmp/cxm.so" "$tmp/cxm_lua.o" -L"$cxm_libdir" -Wl,-rpath,"$cxm_libdir" -lcxm

mkdir -p "$out"
cp "$tmp/cxm.so" "$out/cxm.so"
