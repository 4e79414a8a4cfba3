#!/usr/bin/env bash
# ABI gate.
#   abi-check.sh check  LIBCXM.so   compare with abi/libcxm.abi; only additions pass
#   abi-check.sh update LIBCXM.so   rewrite abi/libcxm.abi from the library (a release
#                                   that adds symbols, or a new major)
# The library must carry DWARF: tools/test.sh builds build/release with -Doptimization=3 -Ddebug=true.
# Without it abidiff compares symbol names only and would pass silently.
#
# Why these options (each checked by mutating a copy of the tree):
# - update: --headers-dir include --drop-private-types keeps only the types
#   defined in include/ (plus libc typedefs); struct cxm_context and the other
#   internals become declaration-only, so changing them is not an ABI change.
#   --no-corpus-path --no-comp-dir-path --short-locs drop the build machine's
#   paths, so a baseline written in one checkout compares in any other.
#   Locations are kept (not --no-show-locs): libabigail needs them to tell
#   public types from private ones.
# - check: no --headers-dir1/2. With them, abidiff suppresses every change
#   whose leaf type is not defined in include/, and so misses a public member
#   going from int64_t to int32_t (the typedefs live in <stdint.h>). The
#   baseline already holds only the public layouts, so nothing is lost.
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change. Anything but 0 fails the gate.
set -euo pipefail
usage() { echo "usage: $0 check|update LIBCXM.so" >&2; exit 2; }
mode=${1:-} so=${2:-}
case "$mode" in check | update) ;; *) usage ;; esac
[ -n "$so" ] || usage
[ -f "$so" ] || { echo "abi-check: no library at $so" >&2; exit 2; }
so=$(readlink -f "$so")
cd "$(dirname "$0")/.."
baseline=abi/libcxm.abi

if ! readelf -S -W "$so" | grep -q '\.debug_info'; then
	echo "abi-check: $so has no DWARF (.debug_info); build it with -Ddebug=true" >&2
	exit 1
fi

case "$mode" in
update)
	mkdir -p abi
	abidw --headers-dir include --drop-private-types \
		--no-corpus-path --no-comp-dir-path --short-locs \
		--out-file "$baseline.tmp" "$so"
	mv "$baseline.tmp" "$baseline"
	echo "abi-check: wrote $baseline from $so"
	;;
check)
	[ -f "$baseline" ] || { echo "abi-check: $baseline is missing; run: $0 update $so" >&2; exit 1; }
	if grep -q "class-decl name='cxm_context' size-in-bits" "$baseline"; then
		echo "abi-check: WARNING: $baseline holds the private layout of struct cxm_context" >&2
		echo "abi-check: WARNING: (written by an older abi-check.sh), so any change inside the" >&2
		echo "abi-check: WARNING: library will fail this gate; regenerate it: $0 update $so" >&2
	fi
	rc=0
	report=$(abidiff --no-added-syms "$baseline" "$so" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s\n' "$report"
		why=()
		[ $((rc & 1)) -ne 0 ] && why+=("error")
		[ $((rc & 2)) -ne 0 ] && why+=("usage error")
		[ $((rc & 4)) -ne 0 ] && why+=("ABI change")
		[ $((rc & 8)) -ne 0 ] && why+=("incompatible ABI change")
		echo "abi-check: FAILED: abidiff exited $rc (${why[*]:-unknown}) against $baseline" >&2
		echo "abi-check: only additions may pass; a removal or a changed public type needs a new major" >&2
		echo "abi-check: (then a new node in lib/cxm.map and: $0 update LIBCXM.so)" >&2
		exit 1
	fi
	echo "abi-check: no change against $baseline other than additions"
	;;
*) usage ;;
esac
