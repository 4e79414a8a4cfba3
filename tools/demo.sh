#!/usr/bin/env bash
# Build (release, the same build dir and options as tools/test.sh) and run
# the contact-center demonstration. Arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/deps.sh || { echo "demo.sh: tools/deps.sh failed: Debian packages are missing" >&2; exit 1; }

dir=build/release
opts=(-Doptimization=3 -Ddebug=true) # as tools/test.sh, which explains why
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ -f "$dir/build.ninja" ] &&
	{ meson setup --reconfigure "$dir" "${opts[@]}" >"$log" 2>&1 ||
		meson setup --wipe "$dir" "${opts[@]}" >"$log" 2>&1; }; then
	:
else
	rm -rf "$dir"
	meson setup "$dir" "${opts[@]}" >"$log" 2>&1 ||
		{ cat "$log"; echo "demo.sh: meson setup of $dir failed" >&2; exit 1; }
fi
meson compile -C "$dir" >"$log" 2>&1 ||
	{ cat "$log"; echo "demo.sh: building $dir failed" >&2; exit 1; }

demo=$dir/examples/contact_center
if [ ! -x "$demo" ]; then
	echo "demo.sh: $demo was not built (examples/contact_center.c is missing?)" >&2
	exit 1
fi
rm -f "$log"
trap - EXIT
exec "$demo" "$@"
