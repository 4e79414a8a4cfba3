-- The reader of the Kamailio example: merges the snapshots that the
-- workers of kamailio.cfg save (one file per worker) into one libcxm
-- context, and writes what it holds, one "name value" line each:
--
--   lua5.1 merge.lua <customer key, 32 hex digits> <output> <snapshot>...
--
-- The counts of the merged context are those of every call, whichever
-- worker handled it; per-worker lines ("worker <file> <accepted>") show how
-- the calls were spread. Any Lua with the cxm module runs it (LUA_CPATH).

local cxm = require "cxm"

local hex, out = arg[1], arg[2]
assert(hex and hex:match("^" .. string.rep("%x", 32) .. "$") and out and arg[3],
	"usage: merge.lua <customer key, 32 hex digits> <output> <snapshot>...")
local key = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)

local lines = {}
local function put(k, v) lines[#lines + 1] = k .. " " .. tostring(v) end

-- The first snapshot is loaded into an empty context, which takes its
-- model (journeys, touchpoints, metrics); the others are merged into it,
-- matched by name. Each is also loaded on its own, for its worker's line.
local total
for i = 3, #arg do
	local one = assert(cxm.new{customer_key = key})
	assert(one:load(arg[i]))
	put("worker " .. arg[i]:match("[^/]*$"), one:stats().accepted)
	if not total then
		total = one
	else
		assert(total:merge(one))
		one:close()
	end
end
put("workers", #arg - 2)

local function id(kind, name) return assert(total:find(kind, name)) end
local invite, bye = id("touchpoint", "sip invite"), id("touchpoint", "sip bye")
local calls, answered = id("metric", "interactions"), id("metric", "answered")
local response_time, call_duration = id("metric", "response time"), id("metric", "call duration")

local day = 24 * 3600 * 1000
local function query(metric, tp) return assert(total:query{metric = metric, touchpoint = tp, span_ms = day}) end
put("invites", query(calls, invite).value)
local r = query(answered, invite)
put("answered_n", r.n)
put("answered_yes", r.top)
put("answered_no", r.bottom)
r = query(response_time, invite)
put("response_n", r.n)
put("response_mean_s", r.mean)
put("response_min_s", r.min)
put("response_max_s", r.max)
put("byes", query(calls, bye).value)
r = query(call_duration, bye)
put("duration_n", r.n)
put("duration_sum_s", r.sum)
put("duration_mean_s", r.mean)
put("duration_min_s", r.min)
put("duration_max_s", r.max)
local st = total:stats()
put("accepted", st.accepted)
put("rejected", st.rejected_total)

-- The same totals as Prometheus would scrape them from the merged context.
local text = assert(total:export{format = "prometheus", labels = {job = "kamailio"}})
put("exported_accepted", text:match('\ncxm_interactions_accepted_total{job="kamailio"} (%d+)\n'))
put("exported_invites", text:match('\ncxm_volume_total{job="kamailio",metric="interactions",' ..
	'touchpoint="sip invite",channel="phone"} (%d+)\n'))

local f = assert(io.open(out .. ".tmp", "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
assert(os.rename(out .. ".tmp", out))
