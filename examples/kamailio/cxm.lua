-- Kamailio routing script (KEMI, app_lua) that measures the calls it
-- proxies with libcxm:
--   * every INVITE's final reply feeds the touchpoint "sip invite" with
--     "answered" (yes for 2xx, no otherwise) and "response time" (seconds
--     from the INVITE to its final reply);
--   * every BYE feeds the touchpoint "sip bye" with "call duration"
--     (seconds from the 2xx of the INVITE to the BYE).
--
-- Kamailio runs this script in each of its worker processes, each with its
-- own Lua state. So:
--   * each worker keeps its own libcxm context, and saves it to its own
--     snapshot file, <cxm.snapshot_dir>/worker-<pid>-<start ms>.cxm: after
--     a feed when cxm.save_ms have passed since its last save, and when it
--     is asked to (an OPTIONS to sip:cxm-flush@<this proxy>);
--   * a reader (merge.lua, or any program linking libcxm) merges the
--     workers' last snapshots into one context: every call, once;
--   * what a call needs between its messages (the time of its INVITE and
--     of its answer) lives in Kamailio's shared memory (htable "cxm_calls"),
--     because its INVITE, replies and BYE may each reach another worker.
-- See docs/lua.md, "Hosts with several processes".

-- Kamailio's app_lua embeds Lua 5.1: load the cxm.so built for 5.1.
if os.getenv("CXM_LUA_CPATH") then
	package.cpath = os.getenv("CXM_LUA_CPATH") .. ";" .. package.cpath
end
local cxm = require "cxm"

local CALLS, WORKERS = "cxm_calls", "cxm_workers" -- htables (kamailio.cfg)

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
	}
	local answered = assert(ctx:metric_define("answered", "rate"))
	local response_time = assert(ctx:metric_define("response time", "duration"))
	local call_duration = assert(ctx:metric_define("call duration", "duration"))
	assert(ctx:metric_define("interactions", "volume"))
	-- The hot path: one prepared interaction per touchpoint, fed with plain
	-- arguments (time, customer, values in the order of measures).
	s.feed_invite = assert(ctx:prepare{touchpoint = s.invite, measures = {answered, response_time}})
	s.feed_bye = assert(ctx:prepare{touchpoint = s.bye, measures = {call_duration}})
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

-- Remove and return the time stored under key, atomically: of two workers
-- handling retransmissions of one message, only one gets it.
local function take(key)
	KSR.htable.sht_lock(CALLS, key)
	local v = KSR.htable.sht_get(CALLS, key)
	if v ~= nil then KSR.htable.sht_rm(CALLS, key) end
	KSR.htable.sht_unlock(CALLS, key)
	return tonumber(v)
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
			local t = take("a:" .. KSR.pv.get("$ci"))
			if t then -- not a retransmission
				local now = cxm.time_ms()
				local s = worker()
				feed(s, now, s.feed_bye, KSR.pv.get("$fU"), (now - t) / 1000)
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
	local t = take("i:" .. ci)
	if not t then return end -- a retransmitted final reply
	local now = cxm.time_ms()
	local yes = status < 300
	-- stored before the 2xx goes on, so before its BYE can come
	if yes then KSR.htable.sht_sets(CALLS, "a:" .. ci, tostring(now)) end
	local s = worker()
	feed(s, now, s.feed_invite, KSR.pv.get("$fU"), yes, (now - t) / 1000)
end
