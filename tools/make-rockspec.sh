#!/usr/bin/env bash
# Writes the rockspec of the Lua binding for this release of libcxm:
# OUTDIR/cxm-<version>-<revision>.rockspec, from bindings/lua/cxm.rockspec.in,
# and prints its path. The version is the project version in meson.build
# (its one source); nothing in the template changes per release.
#
# Usage: tools/make-rockspec.sh [-r REVISION] [-u URL] [-t TARBALL] OUTDIR
#   -r  rockspec revision, 1 by default (2, 3… for a new rockspec of the
#       same release)
#   -u  the release tarball's URL; by default the release download URL,
#       ${CXM_RELEASE_URL} with @VERSION@ replaced
#   -t  the tarball itself (from `meson dist --formats gztar`): checked to be
#       libcxm-<version>.tar.gz with everything under libcxm-<version>/, and
#       its MD5 written into the rockspec
#
# A release: meson dist -C build/release --formats xztar,gztar
#            tools/make-rockspec.sh -t build/release/meson-dist/libcxm-X.Y.Z.tar.gz DIR
# then upload the .tar.gz to the URL and DIR/cxm-X.Y.Z-1.rockspec to luarocks.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: '&' in a URL stays '&'
cd "$(dirname "$0")/.."

CXM_RELEASE_URL=${CXM_RELEASE_URL:-https://github.com/libcxm/libcxm/releases/download/v@VERSION@/libcxm-@VERSION@.tar.gz}

usage() {
	echo "usage: tools/make-rockspec.sh [-r REVISION] [-u URL] [-t TARBALL] OUTDIR" >&2
	exit 2
}
revision=1 url='' tarball=''
while getopts r:u:t: opt; do
	case $opt in
	r) revision=$OPTARG ;;
	u) url=$OPTARG ;;
	t) tarball=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
outdir=$1

die() {
	echo "make-rockspec: $*" >&2
	exit 1
}

# The version: key of project(…), the first call of meson.build.
version=$(sed -n "/^project(/,/^ *)/ s/^ *version: *'\([^']*\)'.*/\1/p" meson.build | head -1)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	die "no X.Y.Z version in meson.build's project() (found '$version')"
[[ $revision =~ ^[1-9][0-9]*$ ]] || die "the revision must be a positive integer, got '$revision'"
[ -n "$url" ] || url=${CXM_RELEASE_URL//@VERSION@/$version}
[[ $url == *"$version"* ]] || die "the URL does not name version $version: $url"

md5=
if [ -n "$tarball" ]; then
	[ -f "$tarball" ] || die "$tarball: no such file"
	[ "$(basename "$tarball")" = "libcxm-$version.tar.gz" ] ||
		die "$tarball: expected libcxm-$version.tar.gz (meson dist --formats gztar)"
	tops=$(tar -tzf "$tarball" | cut -d/ -f1 | sort -u)
	[ "$tops" = "libcxm-$version" ] || die "$tarball: everything must be under libcxm-$version/, found: $tops"
	tar -xzOf "$tarball" "libcxm-$version/bindings/lua/cxm_lua.c" >/dev/null 2>&1 ||
		die "$tarball: no libcxm-$version/bindings/lua/cxm_lua.c"
	md5=$(md5sum "$tarball" | cut -d' ' -f1)
fi

mkdir -p "$outdir"
out=$outdir/cxm-$version-$revision.rockspec
md5_line=
[ -z "$md5" ] || md5_line=$'\n'"   md5 = \"$md5\","
tmp=$(mktemp "$outdir/.cxm-rockspec.XXXXXX")
trap 'rm -f "$tmp"' EXIT
while IFS= read -r line || [ -n "$line" ]; do
	line=${line//@VERSION@/$version}
	line=${line//@REVISION@/$revision}
	line=${line//@URL@/$url}
	line=${line//@MD5@/$md5_line}
	printf '%s\n' "$line"
done <bindings/lua/cxm.rockspec.in >"$tmp"
grep -q '@[A-Z0-9]*@' "$tmp" && die "a placeholder is left in $tmp: $(grep -o '@[A-Z0-9]*@' "$tmp" | head -1)"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
