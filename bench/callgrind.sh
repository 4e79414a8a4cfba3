#!/usr/bin/env bash
# Repeatable regression figure: instructions executed inside cxm_feed_batch
# per interaction of the reference workload, counted by callgrind (the same
# for the same binary and input, whatever else the machine is doing).
#   bench/callgrind.sh [BUILD_DIR] [INTERACTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
n=${2:-1000000}
bin=$build/bench/cxm_bench
[ -x "$bin" ] || { echo "callgrind.sh: build $bin first (meson compile -C $build)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=cxm_feed_batch \
	"$bin" --ingest-only --interactions "$n" --customers 100000 >/dev/null 2>&1
ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
echo "callgrind: $ir instructions in cxm_feed_batch for $n interactions: $((ir / n)) per interaction"
