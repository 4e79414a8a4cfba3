#!/usr/bin/env bash
# Run doxygen and fail on any warning. usage: doxygen-check.sh DOXYGEN DOXYFILE WARNLOG
set -euo pipefail
doxygen=$1 doxyfile=$2 log=$3
rm -f "$log"
mkdir -p "$(dirname "$log")"   # doxygen opens the log before it makes its output directory
"$doxygen" "$doxyfile"
if [ -s "$log" ]; then
	echo "doxygen-check: $(wc -l <"$log") warning line(s):" >&2
	cat "$log" >&2
	exit 1
fi
echo "doxygen-check: no warnings"
