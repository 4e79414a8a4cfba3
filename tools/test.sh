#!/usr/bin/env bash
# Build and run every test of libcxm. This is the test command of README.md
# and what .ci/run executes. Stages:
#   1. release build: unit, docs (doxygen), symbols, header, example and
#      binding suites
#   2. ABI gate: abidiff --no-added-syms against abi/libcxm.abi
#   3. the unit suites under ASan+UBSan
#   4. the unit suites under valgrind
#   5. the stress suite under ThreadSanitizer (clang)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

bash tools/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
export MESON_TESTTHREADS=${MESON_TESTTHREADS:-$jobs}
passed=0
failed=0
summary=()

setup() { # dir, options...
	local dir=$1
	shift
	local log
	log=$(mktemp)
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >"$log" 2>&1 || { cat "$log"; echo "test.sh: meson setup of $dir failed" >&2; finish 1; }
	else
		rm -rf "$dir"
		meson setup "$dir" "$@" >"$log" 2>&1 || { cat "$log"; echo "test.sh: meson setup of $dir failed" >&2; finish 1; }
	fi
	meson compile -C "$dir" >"$log" 2>&1 || { cat "$log"; echo "test.sh: building $dir failed" >&2; finish 1; }
	rm -f "$log"
}

run_tests() { # stage name, meson test args...
	local name=$1
	shift
	local log
	log=$(mktemp)
	local rc=0
	meson test --print-errorlogs "$@" >"$log" 2>&1 || rc=$?
	local ok fail
	ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
	fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s += $NF} END {print s + 0}' "$log")
	ok=${ok:-0}
	passed=$((passed + ok))
	failed=$((failed + fail))
	if [ "$rc" -ne 0 ]; then
		cat "$log"
		echo "test.sh: stage '$name' FAILED ($ok ok, $fail failed)" >&2
		summary+=("$name: FAILED ($ok ok, $fail failed)")
		rm -f "$log"
		finish 1
	fi
	grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed 's/^/  /' || true
	summary+=("$name: $ok ok")
	rm -f "$log"
}

finish() {
	echo
	echo "== summary"
	for s in "${summary[@]}"; do echo "  $s"; done
	echo "$passed passed, $failed failed"
	exit "$1"
}

echo "== release build and tests"
setup build/release --buildtype=release -Ddebug=true
run_tests release -C build/release

echo "== ABI gate"
if bash tools/abi-check.sh check build/release/lib/libcxm.so; then
	summary+=("abi: abidiff clean against abi/libcxm.abi")
	passed=$((passed + 1))
else
	summary+=("abi: FAILED")
	failed=$((failed + 1))
	finish 1
fi

echo "== ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
setup build/asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
run_tests asan -C build/asan --suite unit
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== valgrind"
run_tests valgrind -C build/release --setup=valgrind --suite unit

echo "== ThreadSanitizer"
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
CC=clang CXX=clang++ setup build/tsan --buildtype=debug -Db_sanitize=thread -Db_lundef=false
run_tests tsan -C build/tsan --suite stress
unset TSAN_OPTIONS

cd "$root"
finish 0
