-- Kamailio routing script (KEMI, app_lua) that measures the calls it
-- proxies with libcxm:
--   * every INVITE's final reply feeds the touchpoint "sip invite" with
--     "answered" (yes for 2xx, no otherwise) and "response time" (seconds
--     from the INVITE to its final reply);
--   * every BYE feeds the touchpoint "sip bye" with "call duration"
--     (seconds from the 2xx of the INVITE to the BYE).
-- An OPTIONS to sip:cxm-dump@<this proxy> writes the aggregates of the last
-- hour to the file named by $CXM_DUMP (see run-test.sh).
--
-- Each Kamailio worker process runs this script in its own Lua state, so
-- each holds its own libcxm context and its own call table. Run with
-- children=1 (one SIP worker) until libcxm can merge contexts; see
-- docs/lua.md, "Hosts with several processes".

-- Kamailio's app_lua embeds Lua 5.1: load the cxm.so built for 5.1.
if os.getenv("CXM_LUA_CPATH") then
	package.cpath = os.getenv("CXM_LUA_CPATH") .. ";" .. package.cpath
end
local cxm = require "cxm"

local ctx = assert(cxm.new())
local invite_tp = assert(ctx:touchpoint_define("sip invite", "phone"))
local bye_tp = assert(ctx:touchpoint_define("sip bye", "phone"))
local answered = assert(ctx:metric_define("answered", "rate"))
local response_time = assert(ctx:metric_define("response time", "duration"))
local call_duration = assert(ctx:metric_define("call duration", "duration"))
local calls = assert(ctx:metric_define("interactions", "volume"))

-- The hot path: one prepared interaction per touchpoint, fed with plain
-- arguments (time, customer, values in the order of measures).
local feed_invite = assert(ctx:prepare{touchpoint = invite_tp, measures = {answered, response_time}})
local feed_bye = assert(ctx:prepare{touchpoint = bye_tp, measures = {call_duration}})

-- Call-ID -> ms of the INVITE, then of its 2xx. Entries leave on the final
-- reply (rejected calls) or on the BYE, so retransmissions count once.
local invited, answered_at = {}, {}
local failures = 0

local function note_failure(what, msg, code)
	failures = failures + 1
	KSR.err("cxm: " .. what .. ": " .. tostring(msg) .. " (" .. tostring(code) .. ")\n")
end

local function dump()
	local path = os.getenv("CXM_DUMP") or "/tmp/cxm-kamailio.txt"
	local hour = 3600 * 1000
	local lines = {}
	local function put(k, v) lines[#lines + 1] = k .. " " .. tostring(v) end
	local r = assert(ctx:query{metric = calls, touchpoint = invite_tp, span_ms = hour})
	put("invites", r.value)
	r = assert(ctx:query{metric = answered, touchpoint = invite_tp, span_ms = hour})
	put("answered_n", r.n)
	put("answered_yes", r.top)
	put("answered_no", r.bottom)
	r = assert(ctx:query{metric = response_time, touchpoint = invite_tp, span_ms = hour})
	put("response_n", r.n)
	put("response_mean_s", r.mean)
	put("response_min_s", r.min)
	put("response_max_s", r.max)
	r = assert(ctx:query{metric = calls, touchpoint = bye_tp, span_ms = hour})
	put("byes", r.value)
	r = assert(ctx:query{metric = call_duration, touchpoint = bye_tp, span_ms = hour})
	put("duration_n", r.n)
	put("duration_sum_s", r.sum)
	put("duration_mean_s", r.mean)
	put("duration_min_s", r.min)
	put("duration_max_s", r.max)
	local st = ctx:stats()
	put("accepted", st.accepted)
	put("rejected", st.rejected_total)
	put("failures", failures)
	local open_calls = 0
	for _ in pairs(invited) do open_calls = open_calls + 1 end
	for _ in pairs(answered_at) do open_calls = open_calls + 1 end
	put("open_calls", open_calls)
	local tmp = path .. ".tmp"
	local f = assert(io.open(tmp, "w"))
	f:write(table.concat(lines, "\n"), "\n")
	f:close()
	assert(os.rename(tmp, path))
end

local function relay()
	if KSR.tm.t_relay() < 0 then
		KSR.sl.sl_reply_error()
	end
end

function ksr_request_route()
	local method = KSR.pv.get("$rm")
	if method == "OPTIONS" and KSR.pv.get("$rU") == "cxm-dump" then
		local ok, err = pcall(dump)
		if ok then
			KSR.sl.sl_send_reply(200, "Dumped")
		else
			KSR.err("cxm: dump: " .. tostring(err) .. "\n")
			KSR.sl.sl_send_reply(500, "Dump failed")
		end
		return
	end
	if KSR.maxfwd.process_maxfwd(10) < 0 then
		KSR.sl.sl_send_reply(483, "Too Many Hops")
		return
	end
	if method == "ACK" then
		-- the ACK of a non-2xx goes to its transaction; others follow the route
		if KSR.tm.t_check_trans() > 0 or KSR.rr.loose_route() > 0 then relay() end
		return
	end
	if KSR.siputils.has_totag() > 0 then
		if KSR.rr.loose_route() < 0 then
			KSR.sl.sl_send_reply(404, "Not here")
			return
		end
		if method == "BYE" then
			local ci = KSR.pv.get("$ci")
			local t = answered_at[ci]
			if t then -- not a retransmission
				answered_at[ci] = nil
				local now = cxm.time_ms()
				local ok, msg, code = feed_bye(now, KSR.pv.get("$fU"), (now - t) / 1000)
				if not ok then note_failure("feed bye", msg, code) end
			end
		end
		relay()
		return
	end
	if method == "INVITE" then
		if KSR.tm.t_check_trans() == 0 then return end -- a retransmission
		invited[KSR.pv.get("$ci")] = cxm.time_ms()
		KSR.rr.record_route()
	end
	relay()
end

function ksr_reply_route()
	local status = KSR.pv.get("$rs")
	if status < 200 or KSR.pv.get("$rm") ~= "INVITE" then return end
	local ci = KSR.pv.get("$ci")
	local t = invited[ci]
	if not t then return end -- a retransmitted final reply
	invited[ci] = nil
	local now = cxm.time_ms()
	local yes = status < 300
	if yes then answered_at[ci] = now end
	local ok, msg, code = feed_invite(now, KSR.pv.get("$fU"), yes, (now - t) / 1000)
	if not ok then note_failure("feed invite", msg, code) end
end
