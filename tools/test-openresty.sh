#!/usr/bin/env bash
# examples/openresty end to end: nginx with the lua module, 4 workers, each
# feeding its own libcxm context; /metrics must count every request once,
# whichever worker took it.
#
# Starts nginx on a free loopback port under a temporary prefix with
# examples/openresty/nginx.conf (its ports and paths replaced) and
# cxm_openresty.lua, sends 40 survey answers over 10 connections (the
# kernel spreads them over the workers: reuseport), and checks that
#   * more than one worker took answers;
#   * one scrape of /metrics counts the 40 exactly (responses, promoters,
#     detractors, the volume metric, accepted interactions), from 4
#     snapshots, with no worker late: the scrape made every worker save
#     (their own interval, 10 s, has not passed);
#   * 10 more answers, then `nginx -s reload` (new workers; the old ones,
#     which have not saved those 10, save on exit): one scrape counts 50,
#     now from 8 snapshots; 10 answers to the new workers make it 60;
#   * nginx logged no error.
# Then it stops nginx (SIGQUIT, then SIGKILL after 5 s), pass or fail.
#
# Usage: tools/test-openresty.sh <directory of cxm.so built for LuaJIT or Lua 5.1>
# Environment: CXM_NGINX (the nginx binary; not NGINX, which nginx itself
# reads as a list of inherited sockets), KEEP=1 keeps the work directory.
#
# The lua module: Debian 12's libnginx-mod-http-lua needs lua-resty-core,
# which needs libluajit2-5.1-2 (OpenResty's LuaJIT), which conflicts with
# libluajit-5.1-2, the LuaJIT of the luajit and libluajit-5.1-dev packages
# that the binding's own tests use. Installed, they are used; otherwise
# their .deb files are fetched (`apt-get download`, kept in
# ${CXM_DEB_CACHE:-~/.cache/libcxm/debs}) and unpacked into the work
# directory, and nginx loads the module and OpenResty's LuaJIT from there.
# nginx itself and libnginx-mod-http-ndk install beside the rest. Takes
# about 5 s.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
example=$top/examples/openresty

die() {
	echo "test-openresty: FAIL: $*" >&2
	exit 1
}

moddir=$(cd "${1:?usage: tools/test-openresty.sh <directory of cxm.so for LuaJIT or Lua 5.1>}" && pwd)
[ -f "$moddir/cxm.so" ] || die "no cxm.so in $moddir"
unset NGINX # nginx takes it for sockets inherited from an old binary
nginx=${CXM_NGINX:-nginx}
command -v "$nginx" >/dev/null || nginx=/usr/sbin/nginx
[ -x "$(command -v "$nginx")" ] || die "nginx is not installed (Debian: nginx libnginx-mod-http-ndk)"
for tool in curl python3 dpkg-deb; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
modules=/usr/lib/nginx/modules
[ -f "$modules/ndk_http_module.so" ] || die "$modules/ndk_http_module.so is missing (Debian: libnginx-mod-http-ndk)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cxm-openresty.XXXXXX")
prefix=$work/prefix
master=
cleanup() {
	local rc=$? kids='' p alive
	trap - EXIT INT TERM
	if [ -n "$master" ]; then
		kids=$(pgrep -P "$master" || true)
		kill -QUIT "$master" 2>/dev/null || true
		for _ in $(seq 50); do # 5 s, then SIGKILL
			alive=
			for p in "$master" $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
			[ -z "$alive" ] && break
			sleep 0.1
		done
		for p in "$master" $kids; do kill -9 "$p" 2>/dev/null || true; done
		wait "$master" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] && [ -f "$prefix/logs/error.log" ]; then
		echo "test-openresty: nginx's error log:" >&2
		tail -30 "$prefix/logs/error.log" >&2
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "test-openresty: kept $work" >&2; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT INT TERM

# The lua module, lua-resty-core and OpenResty's LuaJIT: installed, or unpacked.
lua_module=$modules/ngx_http_lua_module.so
resty_path=
libpath=
if [ -f "$lua_module" ] && [ -f /usr/share/lua/5.1/resty/core.lua ]; then
	echo "test-openresty: the installed libnginx-mod-http-lua"
else
	cache=${CXM_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libcxm/debs}
	mkdir -p "$cache"
	sandbox=()
	[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root) # a cache _apt cannot write
	for pkg in libnginx-mod-http-lua lua-resty-core lua-resty-lrucache libluajit2-5.1-2; do
		deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -1)
		if [ -z "$deb" ]; then
			(cd "$cache" && apt-get download "${sandbox[@]}" "$pkg" >/dev/null) ||
				die "apt-get download $pkg failed (run apt-get update, or install it)"
			deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -1)
			[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache"
		fi
		dpkg-deb -x "$deb" "$work/debs" || die "dpkg-deb -x $deb failed"
	done
	lua_module=$work/debs/usr/lib/nginx/modules/ngx_http_lua_module.so
	resty_path="$work/debs/usr/share/lua/5.1/?.lua;"
	luajit=$(find "$work/debs" -name 'libluajit-5.1.so.2.*' | head -1)
	[ -n "$luajit" ] || die "no libluajit-5.1.so.2 in libluajit2-5.1-2"
	ln -sf "$(basename "$luajit")" "$(dirname "$luajit")/libluajit-5.1.so.2"
	libpath=$(dirname "$luajit")
	echo "test-openresty: libnginx-mod-http-lua unpacked from $cache (not installed)"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$prefix/logs" "$prefix/temp" "$prefix/snapshots"
cp "$example/cxm_openresty.lua" "$prefix/"
od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$prefix/cxm.key"
# The example as it is, but for its port and where things are on this host.
subst() { # file, sed expression, what the result must contain
	sed -i "$2" "$1"
	grep -qF -- "$3" "$1" || die "examples/openresty/nginx.conf changed: '$2' no longer applies"
}
cp "$example/nginx.conf" "$prefix/nginx.conf"
subst "$prefix/nginx.conf" "s|listen 127.0.0.1:8080|listen 127.0.0.1:$port|" "listen 127.0.0.1:$port reuseport;"
subst "$prefix/nginx.conf" "s|load_module $modules/ngx_http_lua_module.so;|load_module $lua_module;|" \
	"load_module $lua_module;"
subst "$prefix/nginx.conf" "s|lua_package_cpath \"/usr/local/lib/lua/5.1/?.so;;\"|lua_package_cpath \"$moddir/?.so;\"|" \
	"lua_package_cpath \"$moddir/?.so;\""
subst "$prefix/nginx.conf" "s|lua_package_path \"\$prefix/?.lua;;\"|lua_package_path \"\$prefix/?.lua;$resty_path;\"|" \
	"lua_package_path \"\$prefix/?.lua;$resty_path;\""
grep -q "^worker_processes 4;" "$prefix/nginx.conf" || die "examples/openresty/nginx.conf no longer runs 4 workers"
# As root nginx runs its workers as nobody: they write the snapshots.
if [ "$(id -u)" -eq 0 ]; then
	chmod 755 "$work" "$prefix"
	chown nobody "$prefix/snapshots"
fi

# OpenResty's LuaJIT first, when unpacked (Debian's has the same soname).
[ -z "$libpath" ] || export LD_LIBRARY_PATH=$libpath${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
"$nginx" -p "$prefix/" -c nginx.conf -e "$prefix/logs/error.log" -t -q || die "nginx -t rejects the configuration"
"$nginx" -p "$prefix/" -c nginx.conf -e "$prefix/logs/error.log" -g "daemon off;" &
master=$! # nginx's master process itself
url=http://127.0.0.1:$port
for _ in $(seq 100); do
	curl -s -o /dev/null "$url/metrics" && break
	kill -0 "$master" 2>/dev/null || die "nginx exited"
	sleep 0.05
done

# n answers (number first .. first + n - 1, score = number % 11) over c
# connections at once; prints "status worker" per request.
answers() { # first, n, connections
	local first=$1 n=$2 c=$3 j k urls pids=()
	for ((j = 0; j < c; j++)); do
		urls=()
		for ((k = first + j; k < first + n; k += c)); do
			urls+=("$url/survey?score=$((k % 11))&customer=c$k")
		done
		curl -s -o /dev/null -w '%{http_code} %header{x-cxm-worker}\n' "${urls[@]}" &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# counter: the value of the one sample of family $2 whose labels match $3
sample() { # exposition file, metric name, label regex
	local v
	v=$(grep -E "^$2\\{$3[^}]*\\} " "$1" | awk '{print $NF}')
	[ "$(wc -w <<<"$v")" -eq 1 ] || die "$2{$3…} is not one sample in /metrics: '$v'"
	echo "$v"
}

scrape() { # file; checks status, snapshots and lateness; returns the body in file
	local headers=$work/headers
	curl -s -D "$headers" -o "$1" "$url/metrics" || die "scrape failed"
	grep -q "^HTTP/1.1 200" "$headers" || die "/metrics: $(head -1 "$headers"): $(cat "$1")"
	! grep -qi "^x-cxm-late-workers" "$headers" || die "/metrics: $(grep -i late "$headers")"
	tail -1 "$1" | grep -q "^# EOF" || die "/metrics is not whole OpenMetrics text"
	snapshots=$(grep -i "^x-cxm-snapshots:" "$headers" | tr -dc 0-9)
}

expect() { # file, total, promoters, detractors, snapshots, what
	local f=$1 tp='metric="nps",touchpoint="web survey"'
	[ "$(sample "$f" cxm_score_responses_total "$tp")" = "$2" ] ||
		die "$6: $(sample "$f" cxm_score_responses_total "$tp") responses, expected $2"
	[ "$(sample "$f" cxm_score_top_box_total "$tp")" = "$3" ] || die "$6: promoters, expected $3"
	[ "$(sample "$f" cxm_score_bottom_box_total "$tp")" = "$4" ] || die "$6: detractors, expected $4"
	[ "$(sample "$f" cxm_volume_total 'metric="answers"')" = "$2" ] || die "$6: answers, expected $2"
	[ "$(awk '$1 == "cxm_interactions_accepted_total" {print $2}' "$f")" = "$2" ] ||
		die "$6: accepted interactions, expected $2"
	[ "$snapshots" = "$5" ] || die "$6: merged $snapshots snapshots, expected $5"
	echo "  $6: $2 answers, $3 promoters, $4 detractors, from $5 worker snapshots"
}

# 40 answers: scores 0..10, 0..10, 0..10, 0..6: 6 promoters (9, 10), 28 detractors (0..6)
answers 0 40 10 >"$work/feeds"
[ "$(grep -c '^204 ' "$work/feeds")" -eq 40 ] || die "not every answer was taken: $(sort "$work/feeds" | uniq -c)"
workers=$(awk '{print $2}' "$work/feeds" | sort | uniq -c | awk '{printf "%s worker %s: %s answers", sep, $2, $1; sep = ","} END {print ""}')
[ "$(awk '{print $2}' "$work/feeds" | sort -u | wc -l)" -ge 2 ] || die "one worker took every answer: $workers"
echo "  answers spread: $workers"

scrape "$work/m1"
expect "$work/m1" 40 6 28 4 "first scrape"

# n answers, each a 10 (a promoter), over 5 connections
promoters() { # n, customer prefix, output file
	local k
	for ((k = 0; k < $1; k++)); do echo "$url/survey?score=10&customer=$2$k"; done |
		xargs -P 5 -n 2 curl -s -o /dev/null -w '%{http_code}\n' >"$3"
	[ "$(grep -c '^204$' "$3")" -eq "$1" ] || die "not every answer was taken: $(sort "$3" | uniq -c)"
}

# 10 answers that only the old workers' memory holds, then a reload.
promoters 10 d "$work/feeds2"
old=$(pgrep -P "$master" | sort)
kill -HUP "$master"
for _ in $(seq 100); do # new workers up, old ones gone (they save on exit)
	new=$(pgrep -P "$master" | sort)
	[ -n "$new" ] && [ -z "$(comm -12 <(echo "$old") <(echo "$new"))" ] && break
	sleep 0.05
done
[ -z "$(comm -12 <(echo "$old") <(echo "$new"))" ] || die "the old workers did not exit after a reload"
scrape "$work/m2"
expect "$work/m2" 50 16 28 8 "after 10 more and a reload"

promoters 10 e "$work/feeds3"
scrape "$work/m3"
expect "$work/m3" 60 26 28 8 "10 answers to the new workers"

# A bad answer is refused with libcxm's message, and counted nowhere.
status=$(curl -s -o "$work/bad" -w '%{http_code}' "$url/survey?score=11")
if [ "$status" != 400 ] || ! grep -q "OUT_OF_RANGE" "$work/bad"; then
	die "score 11: $status $(cat "$work/bad")"
fi

! grep -E "\[(error|crit|alert|emerg)\]" "$prefix/logs/error.log" || die "nginx logged errors"
echo "test-openresty: nginx with $(grep -o 'worker_processes [0-9]*' "$prefix/nginx.conf"), every answer counted once"
