#!/usr/bin/env bash
# Fuzz the snapshot loader (tests/fuzz/fuzz_load.c) with libFuzzer.
#   tools/fuzz.sh [SECONDS] [JOBS]     default: 600 s, 1 job
# Builds build/fuzz with clang and -Dfuzz=true (the library's checksums are
# skipped in that build), writes the seed corpus, and fuzzes for SECONDS,
# keeping what it finds in build/fuzz/corpus (reused by the next run).
# Crashes land in build/fuzz/crashes; reproduce one with
#   build/fuzz/tests/fuzz/fuzz_load build/fuzz/crashes/crash-...
# or, without libFuzzer, build/<dir>/tests/fuzz_replay FILE.
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

mkdir -p "$dir/seeds" "$dir/corpus" "$dir/crashes"
"$dir/tests/fuzz_replay" --write "$dir/seeds"

# Sanitizer runtimes misbehave with more mmap randomization than they expect.
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norandom=(setarch "$(uname -m)" -R)
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
par=()
[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
"${norandom[@]}" "$dir/tests/fuzz/fuzz_load" -max_total_time="$secs" "${par[@]}" \
	-max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$dir/crashes/" "$dir/corpus" "$dir/seeds"
