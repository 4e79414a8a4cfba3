#!/usr/bin/env bash
# Kamailio + sipp end-to-end test of the Lua binding.
#
# Starts Kamailio on loopback (high ports derived from this shell's pid)
# with kamailio.cfg, whose Lua routing script cxm.lua measures every call
# with libcxm, a sipp callee (uas.xml) behind it, and two sipp callers
# (uac.xml) at once: 150 calls held 0.5 s and 150 held 1.5 s, every fourth
# call refused by the callee with 486. Then asks the script for its
# aggregates (dump.xml) and checks them against sipp's own message counts:
# INVITEs, answered (200) and refused (486) calls, BYEs, response times
# (the callee answers after 100 ms) and call durations.
#
# Kamailio runs with children=1: each worker has its own Lua state and so
# its own libcxm context (see docs/lua.md).
#
# Usage: run-test.sh <directory holding cxm.so built for Lua 5.1>
# Environment: KAMAILIO, SIPP (programs), CALLS (per caller, default 150),
# KEEP=1 keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
moddir=$(cd "${1:?usage: run-test.sh <directory of the Lua 5.1 cxm.so>}" && pwd)
KAMAILIO=${KAMAILIO:-kamailio}
SIPP=${SIPP:-sipp}
CALLS=${CALLS:-150}
[ -f "$moddir/cxm.so" ] || { echo "run-test: no cxm.so in $moddir" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cxm-kamailio.XXXXXX")
base=$((30000 + ($$ % 1000) * 10))
kport=$base          # Kamailio
uas_port=$((base + 2))
pids=()

cleanup() {
	local rc=$?
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	if [ -f "$work/kamailio.pid" ]; then kill "$(cat "$work/kamailio.pid")" 2>/dev/null || true; fi
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "$rc" -ne 0 ]; then
		echo "run-test: failed; Kamailio's log:" >&2
		grep -v " INFO: " "$work/kamailio.log" 2>/dev/null | tail -30 >&2 || true
	fi
	if [ "${KEEP:-0}" = 1 ]; then echo "run-test: kept $work" >&2; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT INT TERM

app_lua=$("$KAMAILIO" -h 2>/dev/null | sed -n 's/^ *-L path .*default: \(.*\))$/\1/p')/app_lua.so
if [ -f "$app_lua" ] && command -v ldd >/dev/null; then
	echo "run-test: app_lua embeds $(ldd "$app_lua" | grep -o 'lib[a-z]*lua[^ ]*' | head -1)"
fi

# Kamailio, in the foreground (-DD) of a background job, logging to stderr.
export CXM_LUA_CPATH="$moddir/?.so" CXM_DUMP="$work/dump.txt"
"$KAMAILIO" -DD -E -f "$here/kamailio.cfg" -A "CXM_LISTEN=udp:127.0.0.1:$kport" \
	-A "CXM_SCRIPT=\"$here/cxm.lua\"" -Y "$work" -P "$work/kamailio.pid" -w "$work" \
	-m 64 -M 8 >"$work/kamailio.log" 2>&1 &
pids+=($!)

dump() { # ask the script to write its aggregates; fails until it is up
	"$SIPP" "127.0.0.1:$kport" -sf "$here/dump.xml" -i 127.0.0.1 -p $((base + 4)) -m 1 \
		-nostdin -timeout 3s -timeout_error -recv_timeout 2000 >"$work/dump.out" 2>&1
}
for i in $(seq 50); do
	dump && break
	kill -0 "${pids[0]}" 2>/dev/null || { echo "run-test: Kamailio exited" >&2; exit 1; }
	[ "$i" = 50 ] && { echo "run-test: Kamailio did not answer" >&2; exit 1; }
	sleep 0.2
done
echo "run-test: Kamailio up on 127.0.0.1:$kport; the Lua script loaded cxm.so"

cd "$work"
"$SIPP" -sf "$here/uas.xml" -i 127.0.0.1 -p "$uas_port" -nostdin -trace_err \
	>"$work/uas.out" 2>&1 &
pids+=($!)
sleep 0.3

printf 'SEQUENTIAL\nno\nno\nno\nyes\n' >"$work/calls.csv"
caller() { # name, local port, hold time in ms
	"$SIPP" "127.0.0.1:$kport" -sf "$here/uac.xml" -i 127.0.0.1 -p "$2" \
		-key uas "127.0.0.1:$uas_port" -s svc -inf "$work/calls.csv" \
		-m "$CALLS" -r 30 -l 100 -d "$3" -nostdin -timeout 120s -timeout_error \
		-recv_timeout 10000 -trace_counts -trace_err -error_file "$work/$1.err" \
		>"$work/$1.out" 2>&1
}
# Both at once; each writes uac_<its pid>_counts.csv, which count() sums.
caller short $((base + 1)) 500 & c1=$!
caller long $((base + 3)) 1500 & c2=$!
rc=0
wait $c1 || rc=$?
wait $c2 || rc=$?
[ "$rc" = 0 ] || { echo "run-test: a sipp caller failed (rc $rc)" >&2; tail -5 "$work"/*.err >&2 || true; exit 1; }
sleep 0.3
dump || { echo "run-test: the dump request failed" >&2; exit 1; }
cat "$work/dump.txt"

# sipp's counts: sum each named column over the callers' final lines.
count() {
	local col=$1 total=0 f v
	# the header names the columns; the last line has the final counts
	for f in "$work"/uac_*_counts.csv; do
		v=$(awk -F';' -v c="$col" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i }
			END { print $k + 0 }' "$f")
		total=$((total + v))
	done
	echo "$total"
}
got() { awk -v k="$1" '$1 == k { print $2 }' "$work/dump.txt"; }

invites=$(count 0_INVITE_Sent)
answered=$(count 4_200_Recv)
refused=$(count 3_486_Recv)
byes=$(count 7_BYE_Sent)
echo "run-test: sipp sent $invites INVITEs and $byes BYEs; got $answered answers and $refused refusals"

fails=0
expect() { # what, got, want
	if [ "$2" = "$3" ]; then echo "ok   $1: $2"; else echo "FAIL $1: got $2, want $3"; fails=$((fails + 1)); fi
}
within() { # what, got, low, high
	if awk -v g="$2" -v l="$3" -v h="$4" 'BEGIN { exit !(g >= l && g <= h) }'; then
		echo "ok   $1: $2 in [$3, $4]"
	else
		echo "FAIL $1: $2 not in [$3, $4]"; fails=$((fails + 1))
	fi
}
expect "calls made" "$invites" $((2 * CALLS))
expect "INVITEs in libcxm" "$(got invites)" "$invites"
expect "answer observations" "$(got answered_n)" "$invites"
expect "answered" "$(got answered_yes)" "$answered"
expect "refused" "$(got answered_no)" "$refused"
expect "refused is every fourth call" "$refused" $((2 * (CALLS / 4)))
expect "response times" "$(got response_n)" "$invites"
within "fastest response (s)" "$(got response_min_s)" 0.095 0.5
within "slowest response (s)" "$(got response_max_s)" 0.095 2.0
within "mean response (s)" "$(got response_mean_s)" 0.095 0.5
expect "BYEs in libcxm" "$(got byes)" "$byes"
expect "call durations" "$(got duration_n)" "$byes"
expect "BYEs are the answered calls" "$byes" "$answered"
within "shortest call (s)" "$(got duration_min_s)" 0.49 0.8
within "longest call (s)" "$(got duration_max_s)" 1.49 2.5
# half the answered calls last 0.5 s, half 1.5 s
within "mean call (s)" "$(got duration_mean_s)" 0.98 1.25
expect "interactions accepted" "$(got accepted)" $((invites + byes))
expect "interactions rejected" "$(got rejected)" 0
expect "feed failures in the script" "$(got failures)" 0
expect "calls left open" "$(got open_calls)" 0
[ "$fails" = 0 ] || exit 1
echo "run-test: Kamailio fed libcxm every call sipp made"
