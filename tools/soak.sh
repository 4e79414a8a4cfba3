#!/usr/bin/env bash
# A long hunt for hostile snapshots, for a person to run (not CI):
#   tools/soak.sh [MINUTES]     default 10 (at least 2)
# About two thirds of the time: tools/fuzz.sh with 2 jobs (libFuzzer on the
# loader, every accepted input fed, swept, queried, saved and reloaded).
# The rest: tests/test_hostile.c under ASan+UBSan (gcc -O2, build/h-fuzz-asan)
# with many rounds (more instances of every field, random values), a random
# sample of its files that fits its share of the time (a new sample each
# soak; CXM_HOSTILE_SAMPLE=n in the log repeats one), and a leak check of
# every child. Prints the figures at the end: fuzz executions,
# crashes, hostile files tried, crashes, hangs, allocation failures, peak
# bytes per file byte. Exit status 1 if anything failed.
# Logs: build/soak/fuzz.log, build/soak/hostile.log, build/soak/findings.txt
# (distinct failures); failing hostile files in build/soak/files.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
minutes=${1:-10}
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -lt 2 ]; then
	echo "usage: tools/soak.sh [MINUTES >= 2]" >&2
	exit 2
fi
total=$((minutes * 60))
fuzz_secs=$((total * 2 / 3))
hostile_secs=$((total - fuzz_secs - 60)) # a minute for the builds
[ "$hostile_secs" -ge 30 ] || hostile_secs=30
rounds=${CXM_HOSTILE_ROUNDS:-$((minutes / 2 > 3 ? minutes / 2 : 3))}
# about 10000 files a round; ASan (-O2) runs about 25 a second: a random
# sample that fits the time, another one each soak
stride=$(((10000 * rounds) / (hostile_secs * 25) + 1))
sample=$((RANDOM * 32768 + RANDOM + 1))
out=build/soak
mkdir -p "$out"
rm -rf "$out/files"

norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norandom=(setarch "$(uname -m)" -R)
fi

echo "== soak: $minutes min: fuzzing ${fuzz_secs} s with 2 jobs, then hostile snapshots" \
	"under ASan for ${hostile_secs} s (rounds $rounds, 1 file in $stride, sample $sample)"

# ASan build of the hostile test first, so that a build failure shows early
asan=build/h-fuzz-asan
if [ ! -f "$asan/build.ninja" ]; then
	meson setup "$asan" --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
		>"$out/setup.log" 2>&1 || { cat "$out/setup.log"; exit 1; }
fi
ninja -C "$asan" -j2 tests/test_hostile >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }

crashes_before=$(find build/fuzz/crashes -type f 2>/dev/null | wc -l)
rm -f build/fuzz/logs/fuzz-*.log
start=$(date +%s)
bash tools/fuzz.sh "$fuzz_secs" 2 >"$out/fuzz.log" 2>&1
fuzz_rc=$?
crashes_after=$(find build/fuzz/crashes -type f 2>/dev/null | wc -l)
fuzz_crashes=$((crashes_after - crashes_before))
# executions: the final stats of each job (in its own log with 2 jobs)
logs=(build/fuzz/logs/fuzz-*.log)
[ -f "${logs[0]}" ] || logs=("$out/fuzz.log")
execs=$(awk '/stat::number_of_executed_units/ {s += $2} END {print s + 0}' "${logs[@]}")
echo "   fuzzing took $(($(date +%s) - start)) s, exit $fuzz_rc"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
start=$(date +%s)
CXM_HOSTILE_ROUNDS=$rounds CXM_HOSTILE_SECONDS=$hostile_secs CXM_HOSTILE_TIMEOUT=20 \
	CXM_HOSTILE_STRIDE=$stride CXM_HOSTILE_SAMPLE=$sample \
	CXM_HOSTILE_REPORT="$out/findings.txt" CXM_HOSTILE_DUMP="$out/files" \
	"${norandom[@]}" "$asan/tests/test_hostile" >"$out/hostile.log" 2>&1
hostile_rc=$?
echo "   hostile snapshots took $(($(date +%s) - start)) s, exit $hostile_rc"

summary=$(grep 'hostile: SUMMARY' "$out/hostile.log" | tail -1)
field() { sed -n "s|.*[ ,]$1 \([0-9.]*\).*|\1|p" <<<"$summary"; }
echo
echo "== soak figures ($minutes min)"
echo "fuzz executions:          ${execs:-0}"
echo "fuzz crashes:             $fuzz_crashes (in build/fuzz/crashes)"
echo "hostile files tried:      $(field files)"
echo "hostile accepted:         $(field accepted) (loads and merges)"
echo "hostile crashes:          $(field crashes)"
echo "hostile hangs:            $(field hangs)"
echo "hostile allocation fails: $(field allocation)"
echo "hostile save/reload:      $(field save/reload)"
echo "hostile leaks:            $(field leaks)"
echo "peak bytes per file byte: $(field peak/byte)"
grep -E '^hostile: (load|merge):' "$out/hostile.log" | sed 's/^hostile: /  /'
if [ -s "$out/findings.txt" ]; then
	echo "distinct failures ($out/findings.txt):"
	grep -E '^x[0-9]' "$out/findings.txt" | sed 's/^/  /'
fi
if [ "$fuzz_rc" -ne 0 ] || [ "$fuzz_crashes" -ne 0 ] || [ "$hostile_rc" -ne 0 ] || [ -z "$summary" ]; then
	echo "soak: FAILED (logs in $out)"
	exit 1
fi
echo "soak: no failure"
