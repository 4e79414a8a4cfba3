#!/usr/bin/env bash
# Fail unless the shared library exports exactly the functions that
# include/cxm.h declares with CXM_EXPORT and lib/cxm.map lists, every one
# prefixed cxm_ and carrying a CXM_ symbol version.
# usage: check-symbols.sh LIBCXM.so cxm.h cxm.map
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 LIBCXM.so cxm.h cxm.map" >&2; exit 2; }
so=$1 header=$2 map=$3
for f in "$so" "$header" "$map"; do
	[ -f "$f" ] || { echo "check-symbols: no file $f" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# what the header promises
sed -n 's/^CXM_EXPORT[^(]*[ *]\(cxm_[a-z0-9_]*\)(.*/\1/p' "$header" | sort -u >"$tmp/header"
# what the version script lists
sed -n 's/^[[:space:]]*\(cxm_[a-z0-9_]*\);.*/\1/p' "$map" | sort -u >"$tmp/map"
# what the library exports (defined dynamic symbols, without the version)
readelf --dyn-syms -W "$so" | awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $8 != "" {print $8}' \
	>"$tmp/dyn"
sed 's/@.*//' "$tmp/dyn" | grep -v '^CXM_' | sort -u >"$tmp/exported"

rc=0
if [ ! -s "$tmp/header" ]; then
	echo "check-symbols: found no CXM_EXPORT declaration in $header" >&2
	exit 1
fi
if ! diff -u "$tmp/header" "$tmp/map" >"$tmp/d1"; then
	echo "check-symbols: cxm.h and cxm.map disagree (- header, + map):" >&2
	cat "$tmp/d1" >&2
	rc=1
fi
if ! diff -u "$tmp/map" "$tmp/exported" >"$tmp/d2"; then
	echo "check-symbols: cxm.map and the exported symbols disagree (- map, + exported):" >&2
	cat "$tmp/d2" >&2
	rc=1
fi
if grep -v '^cxm_' "$tmp/exported" >"$tmp/bad"; then
	echo "check-symbols: exported symbols without the cxm_ prefix:" >&2
	cat "$tmp/bad" >&2
	rc=1
fi
# every exported function carries a CXM_ version (readelf prints name@VERSION)
if grep -v '^CXM_' "$tmp/dyn" | grep -v '@CXM_' >"$tmp/unver"; then
	echo "check-symbols: exported symbols without a CXM_ version:" >&2
	cat "$tmp/unver" >&2
	rc=1
fi
[ $rc -eq 0 ] && echo "check-symbols: $(wc -l <"$tmp/exported") symbols, all cxm_, all versioned, header = map = exports"
exit $rc
