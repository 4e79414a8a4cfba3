#!/usr/bin/env bash
# Build (release) and run the contact-center demonstration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
if [ -d build/release ]; then
	meson setup --reconfigure build/release >/dev/null
else
	meson setup build/release --buildtype=release >/dev/null
fi
meson compile -C build/release >/dev/null
exec build/release/examples/contact_center "$@"
