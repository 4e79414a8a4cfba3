-- Kamailio routing script (KEMI, app_lua) that measures the calls it
-- proxies with libcxm:
--   * every INVITE's final reply feeds the touchpoint "sip invite" with
--     "answered" (yes for 2xx, no otherwise) and "response time" (seconds
--     from the INVITE to its final reply);
--   * every BYE feeds the touchpoint "sip bye" with "call duration"
--     (seconds from the 2xx of the INVITE to the BYE);
--   * at every BYE, the survey governor says whether to offer the caller
--     the post-call IVR survey: at most once a week, and not within 30 days
--     of an answer. The script logs "cxm: survey offered to <caller> by
--     worker <pid>" (where a deployment would send the caller to the IVR)
--     or "cxm: survey not offered to <caller> by worker <pid>: <reason>".
--
-- Kamailio runs this script in each of its worker processes, each with its
-- own Lua state. So:
--   * each worker keeps its own libcxm context, and saves it to its own
--     snapshot file, <cxm.snapshot_dir>/worker-<pid>-<start ms>.cxm: after
--     a feed when cxm.save_ms have passed since its last save, and when it
--     is asked to (an OPTIONS to sip:cxm-flush@<this proxy>);
--   * a reader (merge.lua, or any program linking libcxm) merges the
--     workers' last snapshots into one context: every call, once;
--   * what a call needs between its messages (the time of its INVITE, and
--     the time of its answer with its caller) lives in Kamailio's shared
--     memory (htable "cxm_calls"), because its INVITE, replies and BYE may
--     each reach another worker;
--   * so do the survey invitations: a caller's next call may end in another
--     worker, whose governor must know of the invitation. Each invitation
--     is appended to a log in shared memory (htable "cxm_surveys", its
--     length in "cxm_workers"), and a worker records the entries it has not
--     seen in its own context before it asks, all under one lock, so that
--     two workers never both invite one caller.
-- See docs/lua.md, "Hosts with several processes".

-- Kamailio's app_lua embeds Lua 5.1: load the cxm.so built for 5.1.
if os.getenv("CXM_LUA_CPATH") then
	package.cpath = os.getenv("CXM_LUA_CPATH") .. ";" .. package.cpath
end
local cxm = require "cxm"

local CALLS, WORKERS, SURVEYS = "cxm_calls", "cxm_workers", "cxm_surveys" -- htables (kamailio.cfg)

local DAY = 24 * 3600 * 1000
-- The post-call IVR survey, offered at the end of a call (the touchpoint
-- "sip bye"). The log of invitations in shared memory must keep entries at
-- least as long as the longest of these intervals: cxm_surveys' autoexpire
-- in kamailio.cfg (30 days) is that.
local POST_CALL = {min_since_invite_ms = 7 * DAY, min_since_response_ms = 30 * DAY}

-- This worker's state, made on its first message: Kamailio's other
-- processes (timers, RPC) load the script too, and as long as they route
-- no message they make no context and write no file.
local w

local function config(name)
	return KSR.pv.get("$sel(cfg_get.cxm." .. name .. ")")
end

local function init()
	local hex = config("customer_key")
	-- Every worker and the reader must hash customer ids with the same key:
	-- merge (and load) refuse contexts whose keys differ.
	assert(type(hex) == "string" and hex:match("^" .. string.rep("%x", 32) .. "$"),
		"cxm.customer_key: 32 hex digits expected")
	local key = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
	local ctx = assert(cxm.new{customer_key = key})
	local pid = KSR.pv.get("$pp")
	local s = {
		ctx = ctx,
		invite = assert(ctx:touchpoint_define("sip invite", "phone")),
		bye = assert(ctx:touchpoint_define("sip bye", "phone")),
		path = config("snapshot_dir") .. "/worker-" .. pid .. "-" .. cxm.time_ms() .. ".cxm",
		save_ms = tonumber(config("save_ms")) or 1000,
		dirty_key = "dirty:" .. pid,
		dirty = false, -- fed since the last good save
		saved_at = 0,  -- ms of the last good save
		pid = pid,
		survey_seen = 0, -- entries of the shared log of invitations recorded here
	}
	local answered = assert(ctx:metric_define("answered", "rate"))
	local response_time = assert(ctx:metric_define("response time", "duration"))
	local call_duration = assert(ctx:metric_define("call duration", "duration"))
	assert(ctx:metric_define("interactions", "volume"))
	-- The hot path: one prepared interaction per touchpoint, fed with plain
	-- arguments (time, customer, values in the order of measures).
	s.feed_invite = assert(ctx:prepare{touchpoint = s.invite, measures = {answered, response_time}})
	s.feed_bye = assert(ctx:prepare{touchpoint = s.bye, measures = {call_duration}})
	-- Every worker defines the same surveys in the same order: their ids
	-- are the same in every worker, and the log can name them by id.
	s.post_call = assert(ctx:survey_define("post-call ivr", {touchpoint = s.bye,
		min_since_invite_ms = POST_CALL.min_since_invite_ms,
		min_since_response_ms = POST_CALL.min_since_response_ms}))
	return s
end

local function worker()
	if not w then w = init() end
	return w
end

local function save(s, now)
	local ok, msg, code = s.ctx:save(s.path)
	if not ok then -- the previous snapshot is still whole; try again later
		KSR.err("cxm: save " .. s.path .. ": " .. tostring(msg) .. " (" .. tostring(code) .. ")\n")
		return false
	end
	s.dirty, s.saved_at = false, now
	KSR.htable.sht_rm(WORKERS, s.dirty_key)
	return true
end

-- Feed through f(...), which is s.feed_invite or s.feed_bye; then save if
-- it is time. The worker says it is dirty (in shared memory) before it
-- feeds, so a flush that sees no dirty worker has every feed saved.
local function feed(s, now, f, ...)
	if not s.dirty then
		s.dirty = true
		KSR.htable.sht_seti(WORKERS, s.dirty_key, 1)
	end
	local ok, msg, code = f(now, ...)
	if not ok then
		KSR.err("cxm: feed: " .. tostring(msg) .. " (" .. tostring(code) .. ")\n")
	end
	if now - s.saved_at >= s.save_ms then save(s, now) end
end

-- Remove and return the value stored under key, atomically: of two workers
-- handling retransmissions of one message, only one gets it.
local function take(key)
	KSR.htable.sht_lock(CALLS, key)
	local v = KSR.htable.sht_get(CALLS, key)
	if v ~= nil then KSR.htable.sht_rm(CALLS, key) end
	KSR.htable.sht_unlock(CALLS, key)
	return v
end

-- The shared log of survey records: WORKERS' "surveys" is the number of
-- entries, SURVEYS' "r:<n>" entry n, "<survey id> <invited|responded>
-- <ms> <customer>". Entries expire with cxm_surveys' autoexpire, once no
-- rule reaches them; the count does not. Both are used under the lock of
-- WORKERS' "surveys" only: survey_catch_up and survey_record, and the
-- question between them, need it.

-- Record in this worker's context the entries it has not seen yet.
local function survey_catch_up(s)
	local n = tonumber(KSR.htable.sht_get(WORKERS, "surveys")) or 0
	for i = s.survey_seen + 1, n do
		local e = KSR.htable.sht_get(SURVEYS, "r:" .. i)
		local id, what, t, who = tostring(e):match("^(%d+) (%a+) (%d+) (.+)$")
		if id then -- else expired: older than any rule reaches
			local ok, msg, code = s.ctx:survey_record(tonumber(id), who, what, tonumber(t))
			if not ok then error("record " .. e .. ": " .. tostring(msg) .. " (" .. tostring(code) .. ")") end
		end
	end
	s.survey_seen = n
end

-- Record that survey invited who (what = "invited") or that they answered
-- it ("responded") at t ms: in the shared log, then in this worker's
-- context, caught up first.
local function survey_record(s, survey, who, what, t)
	survey_catch_up(s)
	local n = s.survey_seen + 1
	KSR.htable.sht_sets(SURVEYS, "r:" .. n,
		table.concat({survey, what, string.format("%d", t), who}, " "))
	KSR.htable.sht_seti(WORKERS, "surveys", n)
	s.survey_seen = n
	local ok, msg, code = s.ctx:survey_record(survey, who, what, t)
	if not ok then error("record: " .. tostring(msg) .. " (" .. tostring(code) .. ")") end
end

-- At the end of a call: ask the governor whether to offer the caller the
-- post-call survey and, if so, offer it and record the invitation. (When
-- the IVR reports an answer, survey_record(s, s.post_call, caller,
-- "responded", ms), between the same sht_lock and sht_unlock, records it
-- for every worker.)
local function offer_survey(s, caller, now)
	KSR.htable.sht_lock(WORKERS, "surveys")
	local ok, err = pcall(function()
		survey_catch_up(s)
		local ask, reason = s.ctx:survey_should_ask(s.post_call, caller, s.bye, now)
		if ask == nil then error(reason) end
		if ask then
			-- a deployment would send the caller to the IVR survey here
			KSR.info("cxm: survey offered to " .. caller .. " by worker " .. s.pid .. "\n")
			survey_record(s, s.post_call, caller, "invited", now)
		else
			KSR.info("cxm: survey not offered to " .. caller .. " by worker " .. s.pid .. ": " .. reason .. "\n")
		end
	end)
	KSR.htable.sht_unlock(WORKERS, "surveys")
	if not ok then KSR.err("cxm: survey: " .. tostring(err) .. "\n") end
end

local function count_open_calls()
	local n = 0
	if KSR.htable.sht_iterator_start("cxm_it", CALLS) > 0 then
		while KSR.htable.sht_iterator_next("cxm_it") > 0 do n = n + 1 end
		KSR.htable.sht_iterator_end("cxm_it")
	end
	return n
end

-- OPTIONS sip:cxm-flush@proxy: save this worker's context if it is dirty;
-- 200 when no worker is left dirty, 503 while some are. Each request
-- reaches one worker, whichever the kernel wakes (often the same one or
-- two), so send several at once: a worker that finds others dirty holds
-- its request for 50 ms before answering, and the others of the burst go
-- to the other workers.
local function flush()
	local s = worker()
	if s.dirty and not save(s, cxm.time_ms()) then
		KSR.sl.sl_send_reply(500, "Save failed")
		return
	end
	if KSR.htable.sht_match_name(WORKERS, "sw", "dirty:") > 0 then
		KSR.cfgutils.usleep(50000)
		KSR.sl.sl_send_reply(503, "Workers still dirty")
		return
	end
	KSR.info("cxm: flushed; " .. count_open_calls() .. " calls open\n")
	KSR.sl.sl_send_reply(200, "Saved")
end

local function relay()
	if KSR.tm.t_relay() < 0 then
		KSR.sl.sl_reply_error()
	end
end

function ksr_request_route()
	local method = KSR.pv.get("$rm")
	if method == "OPTIONS" and KSR.pv.get("$rU") == "cxm-flush" then
		local ok, err = pcall(flush)
		if not ok then
			KSR.err("cxm: flush: " .. tostring(err) .. "\n")
			KSR.sl.sl_send_reply(500, "Flush failed")
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
			local a = take("a:" .. KSR.pv.get("$ci"))
			if a then -- not a retransmission
				-- the answer's time and the caller (the BYE may be the callee's)
				local t, caller = a:match("^(%d+) ?(.*)$")
				if caller == "" then caller = nil end
				local now = cxm.time_ms()
				local s = worker()
				feed(s, now, s.feed_bye, caller, (now - tonumber(t)) / 1000)
				if caller then offer_survey(s, caller, now) end
			end
		end
		relay()
		return
	end
	if method == "INVITE" then
		if KSR.tm.t_check_trans() == 0 then return end -- a retransmission
		-- ms since the epoch do not fit Kamailio's integers: a string
		KSR.htable.sht_sets(CALLS, "i:" .. KSR.pv.get("$ci"), tostring(cxm.time_ms()))
		KSR.rr.record_route()
	end
	relay()
end

function ksr_reply_route()
	local status = KSR.pv.get("$rs")
	if status < 200 or KSR.pv.get("$rm") ~= "INVITE" then return end
	local ci = KSR.pv.get("$ci")
	local t = tonumber(take("i:" .. ci))
	if not t then return end -- a retransmitted final reply
	local now = cxm.time_ms()
	local yes = status < 300
	local caller = KSR.pv.get("$fU") -- the INVITE's From: the caller
	-- stored before the 2xx goes on, so before its BYE can come
	if yes then KSR.htable.sht_sets(CALLS, "a:" .. ci, tostring(now) .. " " .. (caller or "")) end
	local s = worker()
	feed(s, now, s.feed_invite, caller, yes, (now - t) / 1000)
end
