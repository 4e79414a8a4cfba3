#!/usr/bin/env bash
# The Lua binding through luarocks, as its users get it, against a staged
# install of libcxm. For Lua 5.1 and 5.4:
#   1. tools/make-rockspec.sh writes the rockspec of meson.build's version;
#   2. `luarocks make` builds and installs the rock into a temporary tree;
#   3. `luarocks test` runs bindings/lua/test.lua (against the sources,
#      compiled into a temporary directory: bindings/lua/luarocks-test.lua);
#   4. the interpreter of that Lua loads cxm from the tree (LUA_CPATH from
#      `luarocks path`), feeds one NPS answer and queries it back.
# Then the release path: a tarball of the tracked files under
# libcxm-<version>/ (the layout of `meson dist`), a rockspec pointing at it
# with its MD5, and `luarocks build` from outside the source tree, whose
# module is loaded and fed the same way. Last, `git status` of bindings/lua
# (and of a cxm.so at the top) must be what it was before: luarocks left
# nothing in the tree.
#
# Usage: tools/test-luarocks.sh <staged libcxm>
#   a destdir root (build/install-root, from meson install --destdir), an
#   installation prefix, or a meson build directory (installed here into a
#   temporary destdir). The root or prefix must hold one include/cxm.h.
# Needs luarocks, lua5.1, lua5.4, liblua5.1-0-dev, liblua5.4-dev, a C
# compiler, git and tar; a missing one fails the test. KEEP=1 keeps the
# work directory. Takes about 20 s.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
	echo "test-luarocks: FAIL: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: tools/test-luarocks.sh <destdir root | prefix | meson build dir>"
staged=$(cd "$1" 2>/dev/null && pwd) || die "$1: no such directory"

for tool in luarocks lua5.1 lua5.4 cc git tar gzip md5sum; do
	command -v "$tool" >/dev/null || die "$tool is not installed (Debian: luarocks lua5.1 lua5.4 gcc git tar)"
done
for h in /usr/include/lua5.1/lua.h /usr/include/lua5.4/lua.h; do
	[ -f "$h" ] || die "$h is missing (Debian: liblua5.1-0-dev liblua5.4-dev)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cxm-luarocks.XXXXXX")
cleanup() {
	local rc=$?
	if [ "${KEEP:-0}" = 1 ]; then echo "test-luarocks: kept $work" >&2; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT

if [ -d "$staged/meson-info" ]; then
	meson install -C "$staged" --destdir "$work/root" --no-rebuild --quiet >/dev/null ||
		die "meson install -C $staged failed"
	staged=$work/root
fi
mapfile -t headers < <(find "$staged" -path '*/include/cxm.h' -not -path '*/meson-*')
[ ${#headers[@]} -eq 1 ] || die "$staged: expected one include/cxm.h, found ${#headers[@]}"
prefix=$(dirname "$(dirname "${headers[0]}")")
echo "test-luarocks: libcxm staged in $prefix"

# What git sees in the binding's directory (ignored files too: *.o is
# ignored) and where the builtin build used to drop cxm.so.
tree_state() { git status --porcelain --ignored --untracked-files=all -- bindings/lua cxm.so; }
before=$(tree_state)

checks=0
# Loads cxm with LUA_CPATH from `luarocks path` of tree $2 for Lua $1, checks
# that the module is the tree's and that its version is the rock's, feeds
# one promoter (9 on NPS) and queries it: n = 1, NPS = 100.
load_from_tree() { # lua version, tree, rock version, what
	local lv=$1 tree=$2 rv=$3 what=$4 out
	out=$(
		cd "$work" # not the source tree: ./?.so is on LUA_CPATH
		unset LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4
		eval "$(luarocks --lua-version="$lv" --tree "$tree" path)"
		"lua$lv" - "$tree" "$rv" <<'EOF'
local tree, version = arg[1], arg[2]
local found
for pattern in package.cpath:gmatch("[^;]+") do
	local f = pattern:gsub("%?", "cxm")
	local h = io.open(f, "rb")
	if h then h:close(); found = f; break end
end
assert(found, "cxm.so is on no path of package.cpath " .. package.cpath)
assert(found:sub(1, #tree + 1) == tree .. "/", "cxm.so found outside the tree: " .. found)
local cxm = require "cxm"
assert(cxm._VERSION:find("cxm " .. version .. " for ", 1, true), "module version: " .. cxm._VERSION)
local now = 1700000000000
local ctx = assert(cxm.new{clock = "fixed", now = now})
local tp = assert(ctx:touchpoint_define("checkout", "web"))
local nps = assert(ctx:metric_define("nps", "nps"))
assert(ctx:feed{time = now - 1000, touchpoint = tp, measures = {{nps, 9}}})
local r = assert(ctx:query{metric = nps, touchpoint = tp, span_ms = 3600000})
assert(r.n == 1 and r.value == 100, "query: n = " .. tostring(r.n) .. ", value = " .. tostring(r.value))
print(found .. ": " .. cxm._VERSION .. ", NPS " .. r.value .. " from n = " .. r.n)
EOF
	) || die "$what: loading cxm from $tree with lua$lv failed"
	echo "  $what: $out"
	checks=$((checks + 1))
}

spec=$(tools/make-rockspec.sh "$work/spec") || die "tools/make-rockspec.sh failed"
rockspec_name=$(basename "$spec")
version=${rockspec_name#cxm-}
version=${version%-*.rockspec}
echo "test-luarocks: $rockspec_name"

for lv in 5.1 5.4; do
	tree=$work/tree-$lv
	log=$work/make-$lv.log
	luarocks --lua-version="$lv" --tree "$tree" make "$spec" CXM_DIR="$prefix" >"$log" 2>&1 ||
		{ cat "$log"; die "luarocks make for Lua $lv failed"; }
	[ -f "$tree/lib/lua/$lv/cxm.so" ] || { cat "$log"; die "luarocks make installed no $tree/lib/lua/$lv/cxm.so"; }
	echo "  Lua $lv: luarocks make installed $tree/lib/lua/$lv/cxm.so"
	checks=$((checks + 1))
	[ "$(tree_state)" = "$before" ] || die "luarocks make (Lua $lv) changed the tree: $(diff <(echo "$before") <(tree_state))"

	log=$work/test-$lv.log
	CXM_DIR=$prefix luarocks --lua-version="$lv" --tree "$tree" test "$spec" >"$log" 2>&1 ||
		{ cat "$log"; die "luarocks test for Lua $lv failed"; }
	grep -E "^cxm $version for Lua $lv\.[0-9]+: [0-9]+ passed, 0 failed$" "$log" >/dev/null ||
		{ cat "$log"; die "luarocks test for Lua $lv did not report test.lua passing"; }
	echo "  Lua $lv: luarocks test: $(grep -E "passed, 0 failed" "$log")"
	checks=$((checks + 1))

	load_from_tree "$lv" "$tree" "$version" "Lua $lv, luarocks make"
done

# The release: what `meson dist` archives, the tracked files (and the new
# ones not yet committed, so that the working tree is what is tested)
# under libcxm-<version>/, as the .tar.gz that luarocks 3.8 can unpack.
dist=$work/dist
mkdir -p "$dist"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
	tar -c --null -T - --transform "s|^|libcxm-$version/|" -f - | gzip -n >"$dist/libcxm-$version.tar.gz" ||
	die "making the release tarball failed"
rel=$(tools/make-rockspec.sh -u "file://$dist/libcxm-$version.tar.gz" -t "$dist/libcxm-$version.tar.gz" \
	"$work/release") || die "tools/make-rockspec.sh -t failed on the tarball"
grep -q "md5 = \"$(md5sum "$dist/libcxm-$version.tar.gz" | cut -d' ' -f1)\"" "$rel" ||
	die "the release rockspec does not carry the tarball's MD5"
tree=$work/tree-release
log=$work/build-release.log
(cd "$work" && luarocks --lua-version=5.4 --tree "$tree" build "$rel" CXM_DIR="$prefix") >"$log" 2>&1 ||
	{ cat "$log"; die "luarocks build of the release tarball failed"; }
echo "  release: luarocks build from libcxm-$version.tar.gz installed $tree/lib/lua/5.4/cxm.so"
checks=$((checks + 1))
load_from_tree 5.4 "$tree" "$version" "Lua 5.4, luarocks build"

after=$(tree_state)
[ "$after" = "$before" ] || die "luarocks left files in the tree: $(diff <(echo "$before") <(echo "$after"))"
echo "  git status of bindings/lua unchanged"
checks=$((checks + 1))
echo "test-luarocks: $checks checks passed"
