#!/usr/bin/env bash
# Install what building, testing and the demo need on Debian 12.
# As root: apt-get installs whatever is missing. Otherwise: lists it and fails.
set -euo pipefail

pkgs=(meson ninja-build pkg-config gcc g++ binutils libcmocka-dev doxygen groff-base
      abigail-tools clang libclang-rt-14-dev valgrind libsqlite3-dev
      # Prometheus export: promtool and a real server for the two-node test,
      # libmicrohttpd for examples/exporter, Debian's python3 runs the test
      prometheus libmicrohttpd-dev python3
      # Lua binding: every Lua Debian ships, and a real host (Kamailio + sipp)
      lua5.1 lua5.2 lua5.3 lua5.4 luajit liblua5.1-0-dev liblua5.2-dev
      liblua5.3-dev liblua5.4-dev libluajit-5.1-dev
      kamailio kamailio-lua-modules sip-tester
      # Python binding: Debian's interpreter headers, numpy/pandas for the
      # buffer feed and the bench, tqdm for the replay progress bar
      python3-dev python3-numpy python3-pandas python3-tqdm python3-mesonpy
      python3-pip
      # Consumers and packaging: a CMake project against the install, the
      # man pages (groff), the monitoring kit's checker (PyYAML), luarocks,
      # and nginx for the OpenResty recipe (its Lua module is unpacked by
      # tools/test-openresty.sh: it cannot be installed beside luajit)
      cmake python3-yaml luarocks nginx libnginx-mod-http-ndk curl procps
      # the HTML report is checked by rendering it headless
      chromium)
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
