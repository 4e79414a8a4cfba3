#!/usr/bin/env bash
# Fuzz the snapshot loader (tests/fuzz/fuzz_load.c) with libFuzzer.
#   tools/fuzz.sh [SECONDS] [JOBS]     default: 600 s, 1 job
# Builds build/fuzz with clang and -Dfuzz=true (the library's checksums are
# skipped in that build), writes the seed corpus afresh (tests/fuzz/corpus.c:
# journeys over several channels with open instances, variants without the
# JOURNEYS section...), and fuzzes for SECONDS, keeping what it finds in
# build/fuzz/corpus (reused by the next run). Every accepted input is fed,
# swept, queried, saved and reloaded by the target; a save that does not
# load aborts like a crash. Crashes land in build/fuzz/crashes; reproduce one
# with
#   build/fuzz/tests/fuzz/fuzz_load build/fuzz/crashes/crash-...
# or, without libFuzzer, build/<dir>/tests/fuzz_replay FILE. With JOBS > 1
# the jobs' logs are build/fuzz/logs/fuzz-N.log.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
jobs=${2:-1}
dir=${CXM_FUZZ_DIR:-build/fuzz}

if [ -f "$dir/compile_commands.json" ] && ! grep -q '"command": "clang' "$dir/compile_commands.json"; then
	rm -rf "$dir" # configured with another compiler
fi
if [ -f "$dir/build.ninja" ]; then
	meson setup --reconfigure "$dir" -Dfuzz=true >/dev/null
else
	CC=clang CXX=clang++ meson setup "$dir" -Dfuzz=true --buildtype=debugoptimized -Db_lundef=false >/dev/null
fi
ninja -C "$dir" -j2 tests/fuzz/fuzz_load tests/fuzz_replay >/dev/null

mkdir -p "$dir/seeds" "$dir/corpus" "$dir/crashes" "$dir/logs"
rm -f "$dir/seeds"/seed-*.cxm # seeds of an older corpus.c
"$dir/tests/fuzz_replay" --write "$dir/seeds"
# the largest seed, so that libFuzzer keeps every seed whole
max_len=65536
for f in "$dir"/seeds/*.cxm; do
	n=$(stat -c %s "$f")
	while [ "$n" -gt "$max_len" ]; do max_len=$((max_len * 2)); done
done

# Sanitizer runtimes misbehave with more mmap randomization than they expect.
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norandom=(setarch "$(uname -m)" -R)
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
par=()
[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
abs=$(cd "$dir" && pwd)
# libFuzzer writes the jobs' logs (fuzz-N.log) into its working directory
cd "$abs/logs"
"${norandom[@]}" "$abs/tests/fuzz/fuzz_load" -max_total_time="$secs" "${par[@]}" \
	-max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$abs/crashes/" "$abs/corpus" "$abs/seeds"
