#!/usr/bin/env bash
# Kamailio + sipp end-to-end test of the Lua binding, across worker processes.
#
# Starts Kamailio on loopback (high ports derived from this shell's pid)
# with kamailio.cfg: 4 SIP workers, each running the Lua routing script
# cxm.lua in its own Lua state with its own libcxm context, saving it to
# its own snapshot file every second while it feeds. Behind it a sipp callee
# (uas.xml); in front two sipp callers (uac.xml) at once: 150 calls held
# 0.5 s and 150 held 1.5 s, every fourth call refused by the callee with 486.
# Then it asks the workers to save their last state (bursts of flush.xml,
# until no worker has unsaved feeds, for at most 20 s), merges every
# worker's snapshot with merge.lua, and checks the merged counts against
# sipp's own message counts: INVITEs, answered (200) and refused (486)
# calls, BYEs, response times (the callee answers after 100 ms) and call
# durations; and that more than one worker handled calls. Each caller
# (caller1 … callerN, the same N in both sipp callers) ends up to two calls,
# and the survey governor, with a week's cool-down shared by the workers,
# must offer the post-call survey once to each caller with an answered
# call, whichever workers end their calls.
#
# Usage: run-test.sh <directory holding cxm.so built for Lua 5.1>
# Environment: KAMAILIO, SIPP, LUA (a Lua 5.1 interpreter: the module is
# built for 5.1), CALLS (per caller, default 150), CHILDREN (SIP workers,
# default 4), KEEP=1 keeps the work directory.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
moddir=$(cd "${1:?usage: run-test.sh <directory of the Lua 5.1 cxm.so>}" && pwd)
KAMAILIO=${KAMAILIO:-kamailio}
SIPP=${SIPP:-sipp}
LUA=${LUA:-lua5.1}
CALLS=${CALLS:-150}
CHILDREN=${CHILDREN:-4}
[ -f "$moddir/cxm.so" ] || { echo "run-test: no cxm.so in $moddir" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cxm-kamailio.XXXXXX")
base=$((30000 + ($$ % 1000) * 10))
kport=$base          # Kamailio
uas_port=$((base + 2))
pids=()

kpid=        # Kamailio's main process
cleanup() {
	local rc=$? p i kids=
	trap - EXIT INT TERM
	# Kamailio's main process stops its workers on SIGTERM; note them in
	# case it has to be forced.
	if [ -n "$kpid" ] && command -v pgrep >/dev/null; then kids=$(pgrep -P "$kpid" || true); fi
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for i in $(seq 50); do # at most 5 s, then SIGKILL
		alive=
		for p in "${pids[@]}" $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for p in "${pids[@]}" $kids; do kill -9 "$p" 2>/dev/null || true; done
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

# The customer key that every worker and the reader share (merge refuses
# contexts whose keys differ); a deployment makes one and keeps it.
key=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
snapdir="$work/snapshots"
mkdir "$snapdir"

# Kamailio, in the foreground (-DD) of a background job, logging to stderr.
export CXM_LUA_CPATH="$moddir/?.so"
"$KAMAILIO" -DD -E -f "$here/kamailio.cfg" -A "CXM_LISTEN=udp:127.0.0.1:$kport" \
	-A "CXM_SCRIPT=\"$here/cxm.lua\"" -A "CXM_SNAPSHOT_DIR=\"$snapdir\"" \
	-A "CXM_CUSTOMER_KEY=\"$key\"" -A "CXM_CHILDREN=$CHILDREN" \
	-Y "$work" -P "$work/kamailio.pid" -w "$work" \
	-m 64 -M 8 >"$work/kamailio.log" 2>&1 &
kpid=$!
pids+=($kpid)

flush() { # [n]: n requests at once to save; fails until no worker has unsaved feeds
	"$SIPP" "127.0.0.1:$kport" -sf "$here/flush.xml" -i 127.0.0.1 -p $((base + 4)) \
		-m "${1:-1}" -l "${1:-1}" -r 1000 -nostdin -timeout 3s -timeout_error \
		-recv_timeout 2000 >"$work/flush.out" 2>&1
}
deadline=$((SECONDS + 15))
until flush; do
	kill -0 "$kpid" 2>/dev/null || { echo "run-test: Kamailio exited" >&2; exit 1; }
	[ "$SECONDS" -lt "$deadline" ] || { echo "run-test: Kamailio did not answer in 15 s" >&2; exit 1; }
	sleep 0.2
done
echo "run-test: Kamailio up on 127.0.0.1:$kport with $CHILDREN SIP workers; the Lua script loaded cxm.so"

cd "$work"
# On a loaded machine the proxy may resend an INVITE that the callee has
# already answered: the callee ignores it rather than abort the call.
"$SIPP" -sf "$here/uas.xml" -i 127.0.0.1 -p "$uas_port" -nostdin -trace_err \
	-default_behaviors all,-abortunexp \
	>"$work/uas.out" 2>&1 &
pids+=($!)
sleep 0.3

printf 'SEQUENTIAL\nno\nno\nno\nyes\n' >"$work/calls.csv"
caller() { # name, local port, hold time in ms; run as a job, whose pid is sipp's
	exec "$SIPP" "127.0.0.1:$kport" -sf "$here/uac.xml" -i 127.0.0.1 -p "$2" \
		-key uas "127.0.0.1:$uas_port" -s svc -inf "$work/calls.csv" \
		-m "$CALLS" -r 30 -l 100 -d "$3" -nostdin -timeout 40s -timeout_error \
		-recv_timeout 10000 -trace_counts -trace_err -error_file "$work/$1.err" \
		>"$work/$1.out" 2>&1
}
# Both at once; each writes uac_<its pid>_counts.csv, which count() sums.
caller short $((base + 1)) 500 & c1=$!
caller long $((base + 3)) 1500 & c2=$!
pids+=($c1 $c2)
rc=0
wait $c1 || rc=$?
wait $c2 || rc=$?
pids=("${pids[@]:0:2}") # Kamailio and the callee: the callers are gone
[ "$rc" = 0 ] || { echo "run-test: a sipp caller failed (rc $rc)" >&2; tail -5 "$work"/*.err >&2 || true; exit 1; }

# Each worker saved when it first fed and then every second while feeding:
# its snapshot is there, though maybe not with its last calls.
periodic=$(find "$snapdir" -name 'worker-*.cxm' | wc -l)
echo "run-test: $periodic workers saved snapshots while the calls went on"

# Their last state: each flush request reaches one worker, which saves if
# it fed since its last save; all are answered 200 once none is left. A
# burst of twice as many requests as workers reaches every one of them.
deadline=$((SECONDS + 20)) tries=1
until flush $((2 * CHILDREN)); do
	kill -0 "$kpid" 2>/dev/null || { echo "run-test: Kamailio exited" >&2; exit 1; }
	[ "$SECONDS" -lt "$deadline" ] || { echo "run-test: workers still unsaved after 20 s" >&2; exit 1; }
	tries=$((tries + 1))
	sleep 0.05
done
snapshots=("$snapdir"/worker-*.cxm)
echo "run-test: every worker saved after $tries bursts of flush requests; merging ${#snapshots[@]} snapshots"
LUA_CPATH="$moddir/?.so;;" "$LUA" "$here/merge.lua" "$key" "$work/merged.txt" "${snapshots[@]}"
cat "$work/merged.txt"

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
got() { awk -v k="$1" '$1 == k { print $2 }' "$work/merged.txt"; }

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
# Lower bounds are what sipp does (the callee answers after 100 ms, calls
# are held 0.5 s and 1.5 s); upper bounds only catch nonsense, since a
# loaded machine delays sipp's messages by seconds.
within "fastest response (s)" "$(got response_min_s)" 0.095 1.0
within "slowest response (s)" "$(got response_max_s)" 0.095 10
within "mean response (s)" "$(got response_mean_s)" 0.095 2.0
expect "BYEs in libcxm" "$(got byes)" "$byes"
expect "call durations" "$(got duration_n)" "$byes"
expect "BYEs are the answered calls" "$byes" "$answered"
within "shortest call (s)" "$(got duration_min_s)" 0.49 2.0
within "longest call (s)" "$(got duration_max_s)" 1.49 12
# half the answered calls last 0.5 s, half 1.5 s
within "mean call (s)" "$(got duration_mean_s)" 0.98 3.0
expect "interactions accepted" "$(got accepted)" $((invites + byes))
expect "interactions rejected" "$(got rejected)" 0
expect "accepted in the exposition" "$(got exported_accepted)" "$(got accepted)"
expect "INVITEs in the exposition" "$(got exported_invites)" "$invites"
# the workers: their own counts add up to the merged ones, and more than
# one of them handled calls (else this test proves nothing about merging)
workers_fed=$(awk '$1 == "worker" && $3 > 0 { n++ } END { print n + 0 }' "$work/merged.txt")
per_worker=$(awk '$1 == "worker" { s += $3 } END { print s + 0 }' "$work/merged.txt")
expect "snapshots merged" "$(got workers)" "${#snapshots[@]}"
expect "sum of the workers' counts" "$per_worker" "$(got accepted)"
within "workers that handled calls" "$workers_fed" 2 "$CHILDREN"
within "workers that saved while feeding" "$periodic" 2 "$CHILDREN"
open=$(sed -n 's/.*cxm: flushed; \([0-9]*\) calls open.*/\1/p' "$work/kamailio.log" | tail -1)
expect "calls left open" "$open" 0
# The survey governor: one question per BYE; one offer per caller whose
# call was answered (every caller but every fourth), never two, though a
# caller's two calls usually end in different workers; each other call
# refused for the cool-down. (sort, uniq and join: in byte order.)
export LC_ALL=C
sed -n 's/.*cxm: survey offered to \([^ ]*\) by worker \([0-9]*\).*/\1 \2/p' \
	"$work/kamailio.log" | sort >"$work/offered.txt"
sed -n 's/.*cxm: survey not offered to \([^ ]*\) by worker \([0-9]*\): \(.*[^ ]\) *$/\1 \2 \3/p' \
	"$work/kamailio.log" | sort >"$work/not-offered.txt"
offered=$(wc -l <"$work/offered.txt")
not_offered=$(wc -l <"$work/not-offered.txt")
expect "survey questions (one per BYE)" $((offered + not_offered)) "$byes"
expect "callers offered the survey twice" "$(cut -d' ' -f1 "$work/offered.txt" | uniq -d | wc -l)" 0
expect "callers offered the survey" "$(cut -d' ' -f1 "$work/offered.txt" | uniq | wc -l)" $((CALLS - CALLS / 4))
expect "callers asked and never offered" \
	"$(join -v 1 <(cut -d' ' -f1 "$work/not-offered.txt" | sort -u) <(cut -d' ' -f1 "$work/offered.txt" | sort -u) | wc -l)" 0
expect "not offered for another reason than the cool-down" "$(grep -vc ' survey invited$' "$work/not-offered.txt" || true)" 0
# the worker that refused differs from the one that offered: the shared log
across=$(join "$work/offered.txt" "$work/not-offered.txt" | awk '$2 != $3 { n++ } END { print n + 0 }')
within "refused by another worker than the offer's" "$across" 1 "$not_offered"
expect "feed, save and survey failures in the script" \
	"$(grep -c 'cxm: \(feed:\|save \|flush:\|survey:\)' "$work/kamailio.log" || true)" 0
[ "$fails" = 0 ] || exit 1
echo "run-test: Kamailio's $workers_fed workers fed libcxm every call sipp made, merged from their snapshots"
echo "run-test: the survey was offered once to each of $offered callers; $across of the $not_offered refusals by another worker"
