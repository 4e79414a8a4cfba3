#!/usr/bin/env bash
# The Python binding's bulk paths under AddressSanitizer and UBSan: libcxm
# and the extension module built with -fsanitize=address,undefined (gcc) in
# build/h-py-asan, and the test files that feed through them (feed_buffer's
# record loop, feed_many's chunks, the replay command, threads) run by
# Debian's /usr/bin/python3 with the sanitizer runtimes preloaded (Python
# itself is not instrumented). PYTHONMALLOC=malloc puts every Python object,
# the buffers fed included, in ASan-checked heap memory.
#
#   tools/python-asan.sh [BUILD_DIR]  # about 1 minute on 2 cores once built
#
# Exits non-zero on any failure: build, test, or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${1:-build/h-py-asan} # tools/test.sh passes its own ASan tree
py=/usr/bin/python3
tests=(test_bulk test_feed test_cli test_threads)

if [ ! -x "$py" ]; then
	echo "python-asan.sh: $py not found (apt-get install python3-dev)" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >"$log" 2>&1 ||
		{ cat "$log"; echo "python-asan.sh: meson setup of $dir failed" >&2; exit 1; }
fi
# the extension (and libcxm under it) only: the rest of the tree is not needed here
meson compile -C "$dir" -j 2 bindings/python/cxm/_cxm >"$log" 2>&1 ||
	{ cat "$log"; echo "python-asan.sh: building $dir failed (is python3-dev installed?)" >&2; exit 1; }

libasan=$(gcc -print-file-name=libasan.so)
libubsan=$(gcc -print-file-name=libubsan.so)
for lib in "$libasan" "$libubsan"; do
	[ -f "$lib" ] || { echo "python-asan.sh: $lib not found (gcc's sanitizer runtimes)" >&2; exit 1; }
done

# As in tools/test.sh: the runtimes break when the kernel randomizes mmap
# with more bits than they expect; with address randomization off they work.
norandom=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norandom=(setarch "$(uname -m)" -R)
fi

build=$PWD/$dir/bindings/python
start=$SECONDS
cd bindings/python/tests
# detect_leaks=0: CPython keeps interned objects and arenas until exit
if ! env LD_PRELOAD="$libasan:$libubsan" \
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1 \
	PYTHONPATH="$build" CXM_PY_BUILD_DIR="$build" \
	"${norandom[@]}" "$py" -m unittest "${tests[@]}" >"$log" 2>&1; then
	cat "$log"
	echo "python-asan.sh: FAILED (a test failed or a sanitizer reported an error, above)" >&2
	exit 1
fi
# a report from a child process that still exited 0 would be a bug of ours
if grep -E "ERROR: AddressSanitizer|runtime error:" "$log" >/dev/null; then
	cat "$log"
	echo "python-asan.sh: FAILED (sanitizer report above)" >&2
	exit 1
fi
summary=$(grep -E '^(Ran|OK)' "$log" | tr '\n' ' ')
echo "python-asan.sh: ${tests[*]} under ASan+UBSan: ${summary}($((SECONDS - start)) s)"
