#!/usr/bin/env bash
# ABI gate.
#   abi-check.sh check  LIBCXM.so   compare with abi/libcxm.abi; only additions pass
#   abi-check.sh update LIBCXM.so   write abi/libcxm.abi from the library (a release
#                                   that may change the ABI: a new major, or additions)
# The library must carry DWARF (tools/test.sh builds release with -Ddebug=true);
# exports are only cxm_ functions (hidden visibility), so every type compared is public.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-} so=${2:-}
baseline=abi/libcxm.abi
[ -n "$mode" ] && [ -n "$so" ] || { echo "usage: $0 check|update LIBCXM.so" >&2; exit 2; }
[ -f "$so" ] || { echo "abi-check: no library at $so" >&2; exit 2; }
case "$mode" in
update)
	abidw --no-corpus-path --no-show-locs --out-file "$baseline" "$so"
	echo "abi-check: wrote $baseline"
	;;
check)
	[ -f "$baseline" ] || { echo "abi-check: $baseline is missing" >&2; exit 1; }
	rc=0
	abidiff --no-added-syms "$baseline" "$so" || rc=$?
	# abidiff's status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change
	if [ $rc -ne 0 ]; then
		echo "abi-check: abidiff exited $rc (1 error, 2 usage, 4 change, 8 incompatible) against $baseline" >&2
		exit 1
	fi
	echo "abi-check: no change against $baseline other than additions"
	;;
*) echo "usage: $0 check|update LIBCXM.so" >&2; exit 2 ;;
esac
