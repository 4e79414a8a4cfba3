#!/usr/bin/env bash
# Build and run every test of libcxm. This is the test command of README.md
# and what .ci/run executes. Stages:
#   1. release build: unit, docs (doxygen, man pages), symbols, header,
#      examples, the monitoring kit (promtool), Python and Lua binding
#      suites, Kamailio+sipp and OpenResty (nginx, 4 workers)
#   2. install into a staging root, build examples/minimal.c with pkg-config;
#      consumers: a CMake project, a meson parent project, the cp38-abi3
#      wheel in fresh venvs, luarocks make and test
#   3. ABI gate: abidiff --no-added-syms against abi/libcxm.abi
#   4. the unit and Lua suites under ASan+UBSan, and the Python bulk paths
#   5. the unit suites and the Lua suites under valgrind
#   6. the stress suite under ThreadSanitizer (clang)
#   7. the snapshot loader under libFuzzer for 60 s (clang; tools/fuzz.sh)
# The last line is "N passed, M failed", summed over the stages.
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
summary=()

finish() {
	echo
	echo "== summary"
	local s
	for s in "${summary[@]}"; do echo "  $s"; done
	echo "$passed passed, $failed failed"
	exit "$1"
}

fail_stage() { # stage name, message
	echo "test.sh: $2" >&2
	summary+=("$1: FAILED")
	failed=$((failed + 1))
	finish 1
}

echo "== dependencies"
bash tools/deps.sh || fail_stage deps "tools/deps.sh failed: Debian packages are missing"

jobs=$(nproc 2>/dev/null || echo 2)
export MESON_TESTTHREADS=${MESON_TESTTHREADS:-$jobs}

# Sanitizer runtimes of clang 14 / gcc 12 break when the kernel randomizes
# mmap with more bits than they expect (vm.mmap_rnd_bits = 32 on some CI
# hosts); with address randomization off they always work.
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norandom=(setarch "$(uname -m)" -R)
fi

setup() { # stage name, dir, options...
	local name=$1 dir=$2
	shift 2
	local log
	log=$(mktemp)
	if [ -f "$dir/build.ninja" ] &&
		{ meson setup --reconfigure "$dir" "$@" >"$log" 2>&1 ||
			meson setup --wipe "$dir" "$@" >"$log" 2>&1; }; then
		:
	else
		rm -rf "$dir"
		meson setup "$dir" "$@" >"$log" 2>&1 ||
			{ cat "$log"; rm -f "$log"; fail_stage "$name" "meson setup of $dir failed"; }
	fi
	meson compile -C "$dir" >"$log" 2>&1 ||
		{ cat "$log"; rm -f "$log"; fail_stage "$name" "building $dir failed"; }
	rm -f "$log"
}

run_tests() { # stage name, meson test args...
	local name=$1
	shift
	local log rc=0 ok fail
	log=$(mktemp)
	"${prefix[@]}" meson test --print-errorlogs "$@" >"$log" 2>&1 || rc=$?
	ok=$(awk '/^Ok:/ {print $2}' "$log" | tail -1)
	fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s += $NF} END {print s + 0}' "$log")
	ok=${ok:-0}
	passed=$((passed + ok))
	if [ "$rc" -ne 0 ]; then
		[ "$fail" -gt 0 ] || fail=1
		failed=$((failed + fail))
		cat "$log"
		rm -f "$log"
		echo "test.sh: stage '$name' FAILED ($ok ok, $fail failed)" >&2
		summary+=("$name: FAILED ($ok ok, $fail failed)")
		finish 1
	fi
	grep -E '^ *[0-9]+/[0-9]+ ' "$log" | sed 's/^/  /' || true
	rm -f "$log"
	summary+=("$name: $ok ok")
}

prefix=()

echo "== release build and tests"
# Release optimization with DWARF (the ABI gate needs it). Not --buildtype=release
# -Ddebug=true: on --reconfigure, meson 1.0 lets the buildtype reset debug.
setup release build/release -Doptimization=3 -Ddebug=true
# The binding and host suites are only defined when meson finds their Lua,
# Python and servers; deps.sh installs them, so a missing one is a failure
# here, never a silent skip.
listed=$(meson test -C build/release --list 2>/dev/null)
for t in lua-5.1 lua-5.2 lua-5.3 lua-5.4 lua-luajit lua-luajit-sysalloc kamailio-sipp python-abi3 \
	openresty monitoring-rules man-pages doxygen triggers governor cxm-exporter \
	python-report python-serve example-python-callbacks; do
	grep -q "/ $t\$" <<<"$listed" ||
		fail_stage release "test '$t' is not defined: meson did not find what it needs"
done
run_tests release -C build/release
# The HTML report, rendered by a real browser (Debian's chromium, headless):
# its charts and tables in the DOM, a screenshot that is not blank.
bash tools/check-report.sh build/release || fail_stage release "tools/check-report.sh failed (see above)"
summary+=("report: renders in headless chromium")
passed=$((passed + 1))

echo "== install and pkg-config"
# What a C programmer does: install, then build against the installed copy
# with nothing but pkg-config's flags.
root=$PWD/build/install-root
rm -rf "$root"
meson install -C build/release --destdir "$root" >/dev/null ||
	fail_stage install "meson install failed"
pcdir=$(dirname "$(find "$root" -name cxm.pc | head -1)")
prefix_in_pc=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=prefix cxm) ||
	fail_stage install "pkg-config does not find the installed cxm.pc"
pc() { PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$root$prefix_in_pc" "$@" cxm; }
flags=$(pc --cflags --libs)
libdir=$(pc --variable=libdir)
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror examples/minimal.c $flags -Wl,-rpath,"$libdir" -o "$root/minimal" ||
	fail_stage install "examples/minimal.c does not build against the installed library"
"$root/minimal" >/dev/null || fail_stage install "minimal, built against the install, failed"
summary+=("install: header, libraries and cxm.pc install; pkg-config builds a program")
passed=$((passed + 1))

# What a Python user does: pip builds the binding against the installed
# library (found through a copy of cxm.pc pointing at the staging root).
mkdir -p "$root/pc"
sed "s|^prefix=.*|prefix=$root$prefix_in_pc|" "$pcdir/cxm.pc" >"$root/pc/cxm.pc"
pylog=$(mktemp)
if ! PKG_CONFIG_PATH=$root/pc /usr/bin/python3 -m pip install --no-build-isolation --no-index \
	--no-deps --config-settings=setup-args=-Dlibcxm=system --target "$root/python" \
	bindings/python >"$pylog" 2>&1; then
	cat "$pylog"
	rm -f "$pylog"
	fail_stage install "pip install of bindings/python against the installed library failed"
fi
rm -f "$pylog"
rm -rf bindings/python/standalone/.mesonpy-* 2>/dev/null || true
LD_LIBRARY_PATH=$libdir PYTHONPATH=$root/python /usr/bin/python3 -c \
	'import cxm; c = cxm.Context(); assert "abi3" in cxm._cxm.__file__' ||
	fail_stage install "the pip-installed cxm module does not import"
summary+=("install: pip builds and installs the abi3 Python module against it")
passed=$((passed + 1))

echo "== consumers: CMake, meson subproject, wheel, luarocks"
# A CMake project through find_package(cxm) against the staged install,
# shared and static; a meson parent project with libcxm as a static
# subproject (its tests, bindings and installs left out).
bash tools/test-consumers.sh build/release "$root" ||
	fail_stage consumers "tools/test-consumers.sh failed (see above)"
summary+=("consumers: CMake package and meson subproject")
passed=$((passed + 1))
# The cp38-abi3 wheel, libcxm inside, into plain venvs of the oldest and
# newest CPython pyenv has.
bash tools/test-wheel.sh || fail_stage consumers "tools/test-wheel.sh failed (see above)"
summary+=("consumers: the wheel installs and works in fresh venvs")
passed=$((passed + 1))
# The rock from the rockspec template: luarocks make, luarocks test, a
# tarball build, nothing left in the tree.
bash tools/test-luarocks.sh "$root" || fail_stage consumers "tools/test-luarocks.sh failed (see above)"
summary+=("consumers: luarocks make and test")
passed=$((passed + 1))

echo "== ABI gate"
if [ ! -f abi/libcxm.abi ]; then
	echo "test.sh: ************************************************************" >&2
	echo "test.sh: ABI gate SKIPPED: abi/libcxm.abi does not exist yet. Create it:" >&2
	echo "test.sh:   tools/abi-check.sh update build/release/lib/libcxm.so" >&2
	echo "test.sh: ************************************************************" >&2
	summary+=("abi: SKIPPED (no abi/libcxm.abi)")
elif bash tools/abi-check.sh check build/release/lib/libcxm.so; then
	summary+=("abi: abidiff clean against abi/libcxm.abi")
	passed=$((passed + 1))
else
	fail_stage abi "the ABI gate failed (see the report above)"
fi

echo "== ASan+UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
setup asan build/asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
prefix=("${norandom[@]}")
run_tests asan -C build/asan --suite unit
# The Lua suites in the same tree: the module and libcxm instrumented, the
# runtimes preloaded into each interpreter (bindings/lua/meson.build);
# LuaJIT through luajit-sysalloc, whose objects live on the malloc heap.
run_tests asan-lua -C build/asan --suite lua
prefix=()
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== Python binding under ASan+UBSan"
# feed_buffer's record loop, feed_many's chunks, replay and threads, in the
# ASan tree just built (the sanitizer runtimes preloaded into Python).
bash tools/python-asan.sh build/asan ||
	fail_stage python-asan "the Python bulk paths under ASan+UBSan failed (see above)"
summary+=("python-asan: feed_buffer, feed_many, replay, threads clean")
passed=$((passed + 1))

echo "== valgrind"
run_tests valgrind -C build/release --setup=valgrind --suite unit
# Lua under valgrind without --track-origins (5 min with it, ~1 min without);
# stock luajit keeps its objects where valgrind cannot see a free.
run_tests valgrind-lua -C build/release --suite lua \
	--wrapper "valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --quiet" \
	lua-5.1 lua-5.2 lua-5.3 lua-5.4 lua-luajit-sysalloc

echo "== ThreadSanitizer"
# A build dir first configured with gcc keeps gcc on --reconfigure: start over.
if [ -f build/tsan/compile_commands.json ] &&
	! grep -q '"command": "clang' build/tsan/compile_commands.json; then
	rm -rf build/tsan
fi
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
CC=clang CXX=clang++ setup tsan build/tsan --buildtype=debug -Db_sanitize=thread -Db_lundef=false
prefix=("${norandom[@]}")
run_tests tsan -C build/tsan --suite stress
prefix=()
unset TSAN_OPTIONS

echo "== snapshot fuzzing (libFuzzer, 60 s)"
# Replays the seed corpus and what earlier runs found, then fuzzes a
# bounded time; tools/fuzz.sh SECONDS fuzzes longer.
if bash tools/fuzz.sh "${CXM_FUZZ_SECONDS:-60}" >build/fuzz-stage.log 2>&1; then
	grep -E '^(Done|stat::number_of_executed_units)' build/fuzz-stage.log | sed 's/^/  /' || true
	summary+=("fuzz: $(grep -E '^Done' build/fuzz-stage.log | tail -1 || echo ok), no crash")
	passed=$((passed + 1))
else
	tail -60 build/fuzz-stage.log
	fail_stage fuzz "the snapshot fuzzer failed (see above; crashes in build/fuzz/crashes)"
fi

finish 0
