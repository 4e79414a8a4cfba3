#!/usr/bin/env bash
# Repeatable regression figures: instructions (callgrind Ir) executed inside
# cxm_feed_batch per interaction, and inside cxm_query_run per query, for a
# fixed run of the reference workload (`cxm_bench --regress`: one batch
# ingest on one thread, one 1800-query dashboard, nothing timed). The same
# binary and input always give the same counts, whatever the machine does.
#   bench/callgrind.sh [BUILD_DIR [INTERACTIONS [SEED]]]
# Defaults: build/release, 100000 (the --quick size), seed 1. Compare
# counts of the same size only: per-interaction cost depends on how many
# interactions share each series-minute (roll-up), so it falls as N grows.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
n=${2:-100000}
seed=${3:-1}
bin=$build/bench/cxm_bench
[ -x "$bin" ] || { echo "callgrind.sh: build $bin first (meson compile -C $build)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out" "$out.txt" "$out.log"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" \
	"$bin" --regress --no-sqlite --interactions "$n" --seed "$seed" >/dev/null 2>"$out.log" ||
	{ cat "$out.log" >&2; exit 1; }
# inclusive cost of a function: the Ir column of its line in the inclusive listing
callgrind_annotate --inclusive=yes --threshold=100 "$out" >"$out.txt"
incl() {
	awk -v f="$1" '!done && $0 ~ (":" f " ") { gsub(",", "", $1); print $1; done = 1 }' "$out.txt"
}
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
feed=$(incl cxm_feed_batch)
query=$(incl cxm_query_run)
[ -n "$feed" ] && [ -n "$query" ] || { echo "callgrind.sh: no cxm_feed_batch / cxm_query_run in the profile" >&2; exit 1; }
echo "callgrind: $bin --regress --no-sqlite --interactions $n --seed $seed"
printf '  %-32s %15s Ir  %8d Ir per interaction\n' "cxm_feed_batch (inclusive)" "$feed" $((feed / n))
printf '  %-32s %15s Ir  %8d Ir per query (1800 queries)\n' "cxm_query_run (inclusive)" "$query" $((query / 1800))
printf '  %-32s %15s Ir  (workload generation included)\n' "whole program" "$total"
