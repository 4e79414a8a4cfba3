#!/usr/bin/env bash
# Install what building, testing and the demo need on Debian 12.
# As root: apt-get installs whatever is missing. Otherwise: lists it and fails.
set -euo pipefail

pkgs=(meson ninja-build pkg-config gcc g++ binutils libcmocka-dev doxygen
      abigail-tools clang libclang-rt-14-dev valgrind libsqlite3-dev)
pkgs+=("$@")

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
