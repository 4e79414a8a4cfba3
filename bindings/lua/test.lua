-- Tests of the cxm Lua module: one file, no framework, run by meson under
-- every Lua found (LUA_CPATH points at that Lua's build of cxm.so).
-- Every method, its failures as nil, message, code, the raising cases,
-- garbage collection of contexts in use, batches of 100 000, values the
-- binding must refuse rather than coerce (holes in lists, true as a segment
-- value), and strings from __index functions collected during a call.

local globals_before = {}
for k in pairs(_G) do globals_before[k] = true end

local cxm = require "cxm"

local passed, failed = 0, 0
local function check(cond, what)
	if cond then
		passed = passed + 1
	else
		failed = failed + 1
		io.stderr:write("FAIL: ", what, "\n", debug.traceback(), "\n")
	end
	return cond
end

local function eq(a, b, what)
	return check(a == b, string.format("%s: expected %s, got %s", what, tostring(b), tostring(a)))
end

local function near(a, b, tol, what)
	return check(type(a) == "number" and math.abs(a - b) <= tol,
		string.format("%s: expected %s ± %s, got %s", what, tostring(b), tostring(tol), tostring(a)))
end

-- f(...) must fail the non-raising way: nil, a message, the code name.
local function fails(code, what, f, ...)
	local r, msg, c = f(...)
	return check(r == nil and type(msg) == "string" and msg ~= "" and c == code,
		string.format("%s: expected nil, message, %s; got %s, %s, %s", what, code,
			tostring(r), tostring(msg), tostring(c)))
end

-- f(...) must raise an error whose message contains pattern.
local function raises(pattern, what, f, ...)
	local ok, err = pcall(f, ...)
	return check(not ok and tostring(err):find(pattern, 1, true) ~= nil,
		string.format("%s: expected an error with '%s', got %s, %s", what, pattern,
			tostring(ok), tostring(err)))
end

local function isnan(x) return x ~= x end

local T0 = 1700000000000 -- 2023-11-14T22:13:20Z, the fixed clock's now
local MIN, HOUR, DAY = 60000, 3600000, 86400000

local function fixed_ctx(cfg)
	cfg = cfg or {}
	cfg.clock, cfg.now = "fixed", T0
	return assert(cxm.new(cfg))
end

------------------------------------------------------------------------------
-- the module
------------------------------------------------------------------------------
do
	for k in pairs(_G) do check(globals_before[k], "require created the global " .. tostring(k)) end
	eq(cxm.VERSION, cxm.libversion(), "header and library versions")
	eq(cxm.libversion_number(), 1000, "libversion_number of 0.1.0")
	check(cxm._VERSION:find(cxm.VERSION, 1, true) ~= nil, "_VERSION names the version")
	eq(cxm.TIME_MAX, 253402300799999, "TIME_MAX")
	check(math.abs(cxm.time_ms() - os.time() * 1000) < 2000, "time_ms is the wall clock in ms")
	local names = {"OK", "INVALID", "UNKNOWN_ID", "OUT_OF_RANGE", "TOO_LATE", "TOO_EARLY",
		"NOT_FINITE", "TOO_LONG", "NO_MEMORY", "LIMIT", "CORRUPT", "IO", "VERSION",
		"UNSUPPORTED", "EXISTS", "ENCODING", "KIND", "REJECTED"}
	for i, n in ipairs(names) do
		eq(cxm.errors[n], i - 1, "errors." .. n)
		eq(cxm.errors[i - 1], n, "errors[" .. (i - 1) .. "]")
		eq(cxm.strerror(n), cxm.strerror(i - 1), "strerror by name and number: " .. n)
	end
	eq(cxm.strerror(3), "out of range", "strerror(3)")
	eq(cxm.strerror(cxm.errors.EXISTS), "already defined", "strerror(EXISTS)")
	eq(cxm.strerror(99), "unknown status", "strerror of a non-status")
	eq(cxm.strerror("NOPE"), "unknown status", "strerror of an unknown name")
	raises("number expected", "strerror(table)", cxm.strerror, {})

	local nps = cxm.preset("nps")
	eq(nps.kind, "score", "preset nps kind")
	eq(nps.headline, "net", "preset nps headline")
	eq(nps.scale_min, 0, "preset nps scale_min")
	eq(nps.scale_max, 10, "preset nps scale_max")
	eq(nps.top_min[1], 9, "preset nps top_min")
	eq(nps.bottom_max[1], 6, "preset nps bottom_max")
	eq(cxm.preset("cxi").questions, 3, "preset cxi questions")
	eq(#cxm.preset("cxi").top_min, 3, "preset cxi boxes per question")
	eq(cxm.preset("duration").relative_error, 0.01, "preset duration error")
	eq(cxm.preset("distinct").precision, 12, "preset distinct precision")
	for _, p in ipairs{"csat5", "csat7", "csat10", "ces7", "ces5", "rate", "amount", "volume"} do
		check(cxm.preset(p).kind ~= nil, "preset " .. p)
	end
	fails("INVALID", "unknown preset", cxm.preset, "nope")
	raises("string expected", "preset(nil)", cxm.preset)
end

------------------------------------------------------------------------------
-- cxm.new and the context object
------------------------------------------------------------------------------
do
	local ctx = assert(cxm.new())
	check(tostring(ctx):find("^cxm.context %(0 touchpoints, 0 metrics%)") ~= nil, "tostring")
	eq(getmetatable(ctx), false, "the metatable is private")
	eq(type(ctx.feed), "function", "methods through __index")
	ctx:close()
	check(tostring(ctx):find("closed", 1, true) ~= nil, "tostring of a closed context")
	ctx:close() -- twice is fine
	raises("closed cxm context", "a method on a closed context", ctx.count, ctx, "metric")

	ctx = assert(cxm.new{
		tiers = {{bucket_ms = MIN, buckets = 180}, {HOUR, 48}, {DAY, 30}},
		shards = 4, max_future_ms = 10 * MIN, max_journeys = 4, max_steps = 4,
		max_touchpoints = 16, max_metrics = 16, max_segments = 2, max_segment_values = 8,
		max_name_len = 32, max_customer_id_len = 16, max_measures = 4, min_samples = 5,
		max_series = 10000, confidence = 0.9, customer_key = ("k"):rep(16),
		max_customers = 100, customer_policy = "refuse",
	})
	eq(ctx:stats().shards, 4, "config reaches the context")
	fails("TOO_LONG", "max_name_len from the config", ctx.metric_define, ctx, ("n"):rep(33), "nps")
	ctx:close()

	fails("INVALID", "unknown config field", cxm.new, {shard = 4})
	fails("INVALID", "config field names are strings", cxm.new, {4})
	fails("OUT_OF_RANGE", "shards above 64 (library)", cxm.new, {shards = 65})
	fails("OUT_OF_RANGE", "a negative limit (binding)", cxm.new, {max_touchpoints = -1})
	fails("INVALID", "a fractional limit", cxm.new, {max_touchpoints = 1.5})
	fails("INVALID", "a limit of the wrong type", cxm.new, {max_touchpoints = "many"})
	fails("NOT_FINITE", "a NaN limit", cxm.new, {max_touchpoints = 0 / 0})
	fails("OUT_OF_RANGE", "confidence 1.5", cxm.new, {confidence = 1.5})
	fails("NOT_FINITE", "confidence NaN", cxm.new, {confidence = 0 / 0})
	fails("INVALID", "customer_key of 3 bytes", cxm.new, {customer_key = "abc"})
	fails("INVALID", "unknown customer_policy", cxm.new, {customer_policy = "lru"})
	fails("INVALID", "customer_policy 7 (library)", cxm.new, {customer_policy = 7})
	fails("INVALID", "unknown clock", cxm.new, {clock = "lua"})
	fails("INVALID", "now without a fixed clock", cxm.new, {now = T0})
	fails("OUT_OF_RANGE", "a 500 ms bucket (library)", cxm.new, {tiers = {{500, 10}}})
	fails("OUT_OF_RANGE", "five tiers", cxm.new, {tiers = {{MIN, 2}, {MIN, 2}, {MIN, 2}, {MIN, 2}, {MIN, 2}}})
	fails("INVALID", "a tier that is not a table", cxm.new, {tiers = {60000}})
	fails("INVALID", "tiers that are not a table", cxm.new, {tiers = 1})
	fails("OUT_OF_RANGE", "max_future_ms of two years", cxm.new, {max_future_ms = 2 * 366 * DAY})
	raises("table expected", "new with a string", cxm.new, "config")

	-- set_now
	ctx = assert(cxm.new())
	fails("INVALID", "set_now on the system clock", ctx.set_now, ctx, T0)
	ctx = fixed_ctx()
	eq(ctx:set_now(T0 + 1000), true, "set_now")
	fails("INVALID", "set_now to a fraction", ctx.set_now, ctx, 1.5)
	raises("number expected", "set_now(string)", ctx.set_now, ctx, "now")
end

------------------------------------------------------------------------------
-- definitions
------------------------------------------------------------------------------
local function model(cfg)
	cfg = cfg or {}
	cfg.min_samples = cfg.min_samples or 5
	local ctx = fixed_ctx(cfg)
	local m = {ctx = ctx}
	m.support = assert(ctx:journey_define("support case", {"contact", "diagnosis", "resolution"}))
	m.buy = assert(ctx:journey_define("buy", {"browse", "checkout"}))
	m.ivr = assert(ctx:touchpoint_define("ivr", "phone", m.support, 0))
	m.agent = assert(ctx:touchpoint_define("agent call", "phone", m.support, "diagnosis"))
	m.chat = assert(ctx:touchpoint_define("chat", "chat", m.support, "diagnosis"))
	m.web = assert(ctx:touchpoint_define("checkout page", "web", m.buy, "checkout"))
	m.email = assert(ctx:touchpoint_define("invoice email", "email"))
	m.nps = assert(ctx:metric_define("nps", "nps"))
	m.csat = assert(ctx:metric_define("csat", "csat5"))
	m.ces = assert(ctx:metric_define("ces", "ces7"))
	m.cxi = assert(ctx:metric_define("cx index", "cxi"))
	m.aht = assert(ctx:metric_define("aht", "duration"))
	m.resolved = assert(ctx:metric_define("resolved", "rate"))
	m.revenue = assert(ctx:metric_define("revenue", "amount"))
	m.volume = assert(ctx:metric_define("contacts", "volume"))
	m.customers = assert(ctx:metric_define("customers", "distinct"))
	m.tier = assert(ctx:segment_define("tier", 4))
	m.region = assert(ctx:segment_define("region", 8))
	m.gold = assert(ctx:segment_value(m.tier, "gold"))
	m.silver = assert(ctx:segment_value(m.tier, "silver"))
	m.north = assert(ctx:segment_value(m.region, "north"))
	return m
end

do
	local m = model()
	local ctx = m.ctx
	eq(m.support, 0, "ids are dense from 0")
	eq(m.buy, 1, "second journey id")
	eq(ctx:count("journey"), 2, "count journeys")
	eq(ctx:count("touchpoint"), 5, "count touchpoints")
	eq(ctx:count("metric"), 9, "count metrics")
	eq(ctx:count("segment"), 2, "count segments")
	fails("INVALID", "count of an unknown kind", ctx.count, ctx, "customer")
	raises("string expected", "count(nil)", ctx.count, ctx)
	eq(ctx:find("touchpoint", "agent call"), m.agent, "find touchpoint")
	eq(ctx:find("journey", "buy"), m.buy, "find journey")
	eq(ctx:find("metric", "aht"), m.aht, "find metric")
	eq(ctx:find("segment", "region"), m.region, "find segment")
	fails("UNKNOWN_ID", "find an unknown name", ctx.find, ctx, "touchpoint", "fax")
	fails("INVALID", "find of an unknown kind", ctx.find, ctx, "fax", "x")
	eq(ctx:name("touchpoint", m.web), "checkout page", "name touchpoint")
	eq(ctx:name("metric", m.nps), "nps", "name metric")
	eq(ctx:name("journey", m.support), "support case", "name journey")
	eq(ctx:name("segment", m.tier), "tier", "name segment")
	fails("UNKNOWN_ID", "name of an unknown id", ctx.name, ctx, "metric", 99)
	fails("OUT_OF_RANGE", "name of a negative id", ctx.name, ctx, "metric", -1)
	fails("INVALID", "name of a fractional id", ctx.name, ctx, "metric", 0.5)
	fails("OUT_OF_RANGE", "name of id 2^32", ctx.name, ctx, "metric", 2 ^ 32)
	raises("number expected", "name with a string id", ctx.name, ctx, "metric", "nps")

	-- journeys and steps
	eq(ctx:journey_steps(m.support), 3, "journey_steps")
	eq(ctx:step_name(m.support, 2), "resolution", "step_name")
	eq(ctx:step_find(m.support, "diagnosis"), 1, "step_find")
	fails("UNKNOWN_ID", "step_find unknown step", ctx.step_find, ctx, m.support, "payment")
	fails("UNKNOWN_ID", "step_name unknown step", ctx.step_name, ctx, m.support, 3)
	fails("UNKNOWN_ID", "journey_steps unknown journey", ctx.journey_steps, ctx, 9)
	fails("EXISTS", "journey defined twice", ctx.journey_define, ctx, "buy", {"x"})
	fails("EXISTS", "two steps of one name", ctx.journey_define, ctx, "j2", {"a", "a"})
	fails("INVALID", "a journey without steps (library)", ctx.journey_define, ctx, "j3", {})
	fails("INVALID", "a step that is not a string", ctx.journey_define, ctx, "j4", {"a", 5})
	fails("ENCODING", "an empty journey name", ctx.journey_define, ctx, "", {"a"})
	fails("ENCODING", "a name with a NUL byte", ctx.journey_define, ctx, "a\0b", {"a"})
	fails("ENCODING", "a step with a NUL byte", ctx.journey_define, ctx, "j5", {"a\0b"})
	fails("ENCODING", "a name with a control character", ctx.journey_define, ctx, "a\nb", {"a"})
	fails("TOO_LONG", "a name of 129 bytes", ctx.journey_define, ctx, ("x"):rep(129), {"a"})
	raises("table expected", "journey_define without steps", ctx.journey_define, ctx, "j6")
	local many = {}
	for i = 1, 100 do many[i] = "step " .. i end
	fails("LIMIT", "more steps than max_steps", ctx.journey_define, ctx, "long", many)

	-- touchpoints
	local ch, j, s = ctx:touchpoint_get(m.agent)
	eq(ch, "phone", "touchpoint_get channel")
	eq(j, m.support, "touchpoint_get journey")
	eq(s, 1, "touchpoint_get step")
	ch, j, s = ctx:touchpoint_get(m.email)
	check(ch == "email" and j == nil and s == nil, "a standalone touchpoint has no journey")
	fails("UNKNOWN_ID", "touchpoint_get unknown", ctx.touchpoint_get, ctx, 77)
	fails("INVALID", "an unknown channel name", ctx.touchpoint_define, ctx, "fax", "fax")
	fails("INVALID", "channel 99 (library)", ctx.touchpoint_define, ctx, "fax", 99)
	eq(ctx:touchpoint_define("kiosk", 7), 5, "channel by number")
	eq((ctx:touchpoint_get(5)), "in_person", "channel 7 is in_person")
	fails("UNKNOWN_ID", "an unknown journey", ctx.touchpoint_define, ctx, "x1", "web", 42, 0)
	fails("UNKNOWN_ID", "an unknown step name", ctx.touchpoint_define, ctx, "x2", "web", m.buy, "pay")
	fails("UNKNOWN_ID", "an unknown step id", ctx.touchpoint_define, ctx, "x3", "web", m.buy, 5)
	fails("INVALID", "a journey without a step", ctx.touchpoint_define, ctx, "x4", "web", m.buy)
	fails("EXISTS", "a touchpoint defined twice", ctx.touchpoint_define, ctx, "ivr", "phone")
	raises("channel name expected", "touchpoint without channel", ctx.touchpoint_define, ctx, "x5")

	-- metrics
	local d = ctx:metric_get(m.nps)
	check(d.kind == "score" and d.scale_max == 10 and d.top_min[1] == 9, "metric_get nps")
	d = ctx:metric_get(m.aht)
	check(d.kind == "duration" and d.duration_hi == 604800, "metric_get aht")
	fails("UNKNOWN_ID", "metric_get unknown", ctx.metric_get, ctx, 50)
	local effort = assert(ctx:metric_define("effort 1-10", {kind = "score", scale_min = 1, questions = 1,
		scale_max = 10, top_min = 8, bottom_max = 4, headline = "mean", na = 99}))
	d = ctx:metric_get(effort)
	check(d.headline == "mean" and d.na == 99 and d.top_min[1] == 8 and #d.top_min == 1,
		"custom score round trip")
	local q4 = assert(ctx:metric_define("index4", {preset = "cxi", questions = 4,
		top_min = {9, 9, 8, 8}, bottom_max = 6}))
	d = ctx:metric_get(q4)
	check(d.kind == "index" and d.questions == 4 and d.top_min[4] == 8 and d.bottom_max[4] == 6,
		"custom index from a preset")
	local slow = assert(ctx:metric_define("slow", {preset = "duration", duration_lo = 1,
		duration_hi = 3600, relative_error = 0.02}))
	eq(ctx:metric_get(slow).relative_error, 0.02, "custom duration")
	eq(ctx:metric_get(assert(ctx:metric_define("hll", {preset = "distinct", precision = 10}))).precision,
		10, "custom distinct")
	fails("INVALID", "an unknown preset", ctx.metric_define, ctx, "m1", "net promoter")
	fails("INVALID", "an unknown definition field", ctx.metric_define, ctx, "m2", {kind = "rate", scale = 5})
	fails("INVALID", "an unknown kind", ctx.metric_define, ctx, "m3", {kind = "ratio"})
	fails("INVALID", "no kind (library)", ctx.metric_define, ctx, "m4", {})
	fails("INVALID", "a headline that does not fit (library)", ctx.metric_define, ctx, "m5",
		{kind = "rate", headline = "net"})
	fails("OUT_OF_RANGE", "a scale of 200 points", ctx.metric_define, ctx, "m6",
		{preset = "nps", scale_max = 199})
	fails("OUT_OF_RANGE", "na on the scale", ctx.metric_define, ctx, "m7", {preset = "nps", na = 5})
	-- observations take a "no answer" code too: 0 s for an unanswered call
	local asa = assert(ctx:metric_define("asa", {preset = "duration", na = 0}))
	for _, v in ipairs{30, 0, 90, 0, 60} do
		assert(ctx:feed{time = T0, touchpoint = m.agent, measures = {{asa, v}}})
	end
	local ra = assert(ctx:query{metric = asa, touchpoint = m.agent, span_ms = HOUR, end_ms = T0 + 1})
	check(ra.n == 3 and ra.skipped == 2 and ra.mean == 60, "a duration's no-answer code")
	fails("OUT_OF_RANGE", "a rate's na of 1", ctx.metric_define, ctx, "m7r", {preset = "rate", na = 1})
	fails("INVALID", "a volume's na", ctx.metric_define, ctx, "m7v", {preset = "volume", na = -1})
	fails("NOT_FINITE", "a NaN duration bound", ctx.metric_define, ctx, "m8",
		{preset = "duration", duration_hi = 0 / 0})
	fails("OUT_OF_RANGE", "nine questions", ctx.metric_define, ctx, "m9",
		{preset = "cxi", top_min = {9, 9, 9, 9, 9, 9, 9, 9, 9}})
	fails("INVALID", "boxes of the wrong type", ctx.metric_define, ctx, "m10", {preset = "nps", top_min = "9"})
	fails("EXISTS", "a metric defined twice", ctx.metric_define, ctx, "nps", "nps")
	raises("table expected", "metric_define without a definition", ctx.metric_define, ctx, "m11")

	-- segments
	eq(ctx:segment_values(m.tier), 2, "segment_values")
	eq(ctx:segment_value(m.tier, "gold"), m.gold, "segment_value of an existing value")
	eq(ctx:segment_value_find(m.tier, "silver"), m.silver, "segment_value_find")
	eq(ctx:segment_value_name(m.tier, m.silver), "silver", "segment_value_name")
	fails("UNKNOWN_ID", "segment_value_find unknown value", ctx.segment_value_find, ctx, m.tier, "bronze")
	eq(ctx:segment_values(m.tier), 2, "find does not add")
	fails("UNKNOWN_ID", "segment_value_name unknown", ctx.segment_value_name, ctx, m.tier, 3)
	fails("UNKNOWN_ID", "segment_value of an unknown dimension", ctx.segment_value, ctx, 9, "x")
	fails("UNKNOWN_ID", "segment_values of an unknown dimension", ctx.segment_values, ctx, 9)
	assert(ctx:segment_value(m.tier, "bronze"))
	assert(ctx:segment_value(m.tier, "platinum"))
	fails("LIMIT", "a fifth tier value", ctx.segment_value, ctx, m.tier, "iron")
	fails("ENCODING", "an empty value", ctx.segment_value, ctx, m.region, "")
	fails("OUT_OF_RANGE", "max_values 0", ctx.segment_define, ctx, "queue", 0)
	fails("EXISTS", "a segment defined twice", ctx.segment_define, ctx, "tier", 2)
	fails("OUT_OF_RANGE", "max_values -1", ctx.segment_define, ctx, "queue", -1)
	eq(ctx:series_bytes(m.nps) > 0, true, "series_bytes")
	fails("UNKNOWN_ID", "series_bytes unknown", ctx.series_bytes, ctx, 99)

	-- a full customer table under policy "refuse"
	local full = fixed_ctx{max_customers = 1, customer_policy = "refuse"}
	local ftp = assert(full:touchpoint_define("t", "web"))
	local ok, limited = 0, 0
	for i = 1, 200 do
		local r, _, code = full:feed{time = T0, touchpoint = ftp, customer = "c" .. i}
		if r then ok = ok + 1 elseif code == "LIMIT" then limited = limited + 1 end
	end
	check(ok >= 1 and limited > 0 and ok + limited == 200, "customer_policy refuse: LIMIT")
	eq(full:stats().customers_refused, limited, "stats.customers_refused")

	local small = fixed_ctx{max_journeys = 1, max_segments = 1}
	assert(small:journey_define("one", {"a"}))
	fails("LIMIT", "max_journeys reached", small.journey_define, small, "two", {"a"})
	assert(small:segment_define("s", 1))
	fails("LIMIT", "max_segments reached", small.segment_define, small, "t", 1)
end

------------------------------------------------------------------------------
-- feeding one interaction
------------------------------------------------------------------------------
do
	local m = model()
	local ctx = m.ctx
	local function ix(t)
		t.time = t.time or T0 - MIN
		t.touchpoint = t.touchpoint or m.agent
		return t
	end
	eq(ctx:feed(ix{customer = "c1", segments = {[m.tier] = m.gold, [m.region] = m.north},
		measures = {{m.nps, 10}, {m.aht, 120}, {m.resolved, true}, {m.revenue, 9.5}}}), true, "feed")
	eq(ctx:feed(ix{measures = {{metric = m.nps, value = 3}}}), true, "a named measure")
	eq(ctx:feed(ix{measures = {{m.cxi, 9, 0}, {m.cxi, 3, 2}}}), true, "index answers with items")
	eq(ctx:feed(ix{customer = 12345}), true, "a numeric customer id")
	eq(ctx:feed(ix{segments = {[m.tier] = false}}), true, "false: no value for a dimension")
	eq(ctx:feed(ix{time = T0}), true, "volume only")
	local fed = 6

	local rejected = {}
	local function bad(code, what, t)
		if fails(code, what, ctx.feed, ctx, t) then
			rejected[code] = (rejected[code] or 0) + 1
		end
	end
	-- rejected by the library (counted in its stats)
	bad("OUT_OF_RANGE", "NPS 11", ix{measures = {{m.nps, 11}}})
	bad("OUT_OF_RANGE", "a negative duration", ix{measures = {{m.aht, -1}}})
	bad("OUT_OF_RANGE", "a rate of 2", ix{measures = {{m.resolved, 2}}})
	bad("OUT_OF_RANGE", "a negative time", ix{time = -1})
	bad("OUT_OF_RANGE", "a time after 9999", ix{time = 2 ^ 62})
	bad("NOT_FINITE", "a NaN answer", ix{measures = {{m.revenue, 0 / 0}}})
	bad("NOT_FINITE", "an infinite amount", ix{measures = {{m.revenue, math.huge}}})
	bad("UNKNOWN_ID", "an unknown touchpoint", ix{touchpoint = 99})
	bad("UNKNOWN_ID", "an unknown metric", ix{measures = {{77, 1}}})
	bad("UNKNOWN_ID", "an unknown segment value", ix{segments = {[m.tier] = 9}})
	bad("UNKNOWN_ID", "an unknown dimension", ix{segments = {[5] = 0}})
	bad("KIND", "a measure for a volume metric", ix{measures = {{m.volume, 1}}})
	bad("OUT_OF_RANGE", "an index question past the last", ix{measures = {{m.cxi, 9, 3}}})
	bad("TOO_EARLY", "an hour in the future", ix{time = T0 + HOUR})
	bad("TOO_LATE", "a day behind the watermark", ix{time = T0 - DAY})
	bad("TOO_LONG", "a customer id of 300 bytes", ix{customer = ("c"):rep(300)})
	local lots = {}
	for i = 1, 65 do lots[i] = {m.revenue, i} end
	bad("LIMIT", "65 measures", ix{measures = lots})
	-- rejected by the binding (values it cannot put in the C struct)
	fails("INVALID", "no time", ctx.feed, ctx, {touchpoint = m.agent})
	fails("INVALID", "a fractional time", ctx.feed, ctx, ix{time = T0 + 0.5})
	fails("NOT_FINITE", "a NaN time", ctx.feed, ctx, ix{time = 0 / 0})
	fails("INVALID", "a string time", ctx.feed, ctx, ix{time = "now"})
	fails("INVALID", "no touchpoint", ctx.feed, ctx, {time = T0})
	fails("OUT_OF_RANGE", "a negative touchpoint", ctx.feed, ctx, ix{touchpoint = -1})
	fails("INVALID", "a customer table", ctx.feed, ctx, ix{customer = {}})
	fails("INVALID", "segments not a table", ctx.feed, ctx, ix{segments = 3})
	fails("OUT_OF_RANGE", "a dimension of 64", ctx.feed, ctx, ix{segments = {[64] = 0}})
	fails("INVALID", "a dimension named by a string", ctx.feed, ctx, ix{segments = {tier = 0}})
	fails("INVALID", "measures not a table", ctx.feed, ctx, ix{measures = 5})
	fails("INVALID", "a measure not a table", ctx.feed, ctx, ix{measures = {5}})
	fails("INVALID", "a measure without a value", ctx.feed, ctx, ix{measures = {{m.nps}}})
	fails("INVALID", "a string value", ctx.feed, ctx, ix{measures = {{m.nps, "ten"}}})
	raises("table expected", "feed(string)", ctx.feed, ctx, "interaction")
	raises("cxm context expected", "feed on a non-context", ctx.feed, {}, {})

	local st = ctx:stats()
	eq(st.accepted, fed, "stats.accepted counts what was fed")
	local total = 0
	for code, n in pairs(rejected) do
		eq(st.rejected[code], n, "stats.rejected." .. code)
		total = total + n
	end
	eq(st.rejected_total, total, "stats.rejected_total")
	eq(st.rejected.EXISTS, 0, "stats.rejected has every code")
	eq(st.watermark_ms, T0, "stats.watermark_ms")
	eq(st.customers, 2, "two customers tracked")
	check(st.memory_bytes > 0 and st.series > 0 and st.series_bytes > 0, "stats sizes")
	for _, k in ipairs{"saturated", "shards", "shards_used", "customers_evicted",
		"customers_refused", "customers_forgotten", "customer_bytes"} do
		check(type(st[k]) == "number", "stats." .. k)
	end

	-- customers
	eq(ctx:customer_last_seen("c1"), T0 - MIN, "customer_last_seen")
	eq(ctx:customer_last_seen("12345"), T0 - MIN, "a numeric id is its decimal string")
	fails("UNKNOWN_ID", "last_seen of a stranger", ctx.customer_last_seen, ctx, "c2")
	fails("INVALID", "last_seen of an empty id", ctx.customer_last_seen, ctx, "")
	fails("TOO_LONG", "last_seen of a long id", ctx.customer_last_seen, ctx, ("x"):rep(300))
	eq(ctx:customer_forget("c1"), true, "customer_forget")
	fails("UNKNOWN_ID", "forget twice", ctx.customer_forget, ctx, "c1")
	eq(ctx:stats().customers_forgotten, 1, "stats.customers_forgotten")
	raises("string expected", "customer_forget(nil)", ctx.customer_forget, ctx)

	-- queries see what was fed
	local r = assert(ctx:query{metric = m.nps, touchpoint = m.agent, span_ms = HOUR})
	check(r.n == 2 and r.top == 1 and r.bottom == 1 and r.value == 0, "NPS of 10 and 3")
	r = assert(ctx:query{metric = m.revenue, span_ms = HOUR})
	check(r.n == 1 and r.sum == 9.5, "amount")
	r = assert(ctx:query{metric = m.volume, span_ms = HOUR})
	eq(r.value, fed, "volume counts every accepted interaction")
	r = assert(ctx:query{metric = m.cxi, touchpoint = m.agent, span_ms = HOUR})
	check(r.kind == "index" and r.questions == 3 and #r.item_n == 3 and r.item_n[1] == 1 and
		r.item_n[2] == 0 and r.item_n[3] == 1 and r.item_net[1] == 100 and r.item_net[3] == -100,
		"index per question")
end

------------------------------------------------------------------------------
-- prepared interactions
------------------------------------------------------------------------------
do
	local m = model()
	local ctx = m.ctx
	local feed = assert(ctx:prepare{touchpoint = m.agent, segments = {[m.tier] = m.gold},
		measures = {m.aht, m.resolved, m.nps, {metric = m.cxi, item = 1}}})
	eq(type(feed), "function", "prepare gives a function")
	eq(feed(T0, "c1", 60, true, 9, 10), true, "feed all values")
	eq(feed(T0, "c2", 30, false), true, "missing values are left out")
	eq(feed(T0, nil, 90, nil, 0), true, "no customer, a nil in the middle")
	eq(feed(T0), true, "only the interaction")
	fails("OUT_OF_RANGE", "prepared: NPS 11", feed, T0, "c3", 1, true, 11)
	fails("TOO_EARLY", "prepared: the future", feed, T0 + DAY)
	fails("INVALID", "prepared: a fractional time", feed, T0 + 0.25)
	raises("more values than measures", "too many values", feed, T0, nil, 1, 1, 1, 1, 1)
	raises("number, boolean or nil expected", "a table value", feed, T0, nil, {})
	raises("string or nil expected", "a table customer", feed, T0, {})
	fails("UNKNOWN_ID", "prepare: unknown metric", ctx.prepare, ctx, {touchpoint = m.agent, measures = {99}})
	fails("UNKNOWN_ID", "prepare: unknown touchpoint", ctx.prepare, ctx, {touchpoint = 99})
	fails("UNKNOWN_ID", "prepare: unknown segment value", ctx.prepare, ctx,
		{touchpoint = m.agent, segments = {[m.tier] = 7}})
	fails("INVALID", "prepare: unknown field", ctx.prepare, ctx, {touchpoint = m.agent, time = T0})
	fails("INVALID", "prepare: no touchpoint", ctx.prepare, ctx, {})
	fails("INVALID", "prepare: measures not a table", ctx.prepare, ctx, {touchpoint = 0, measures = 1})
	local r = assert(ctx:query{metric = m.aht, touchpoint = m.agent, segment = m.tier,
		segment_value = m.gold, span_ms = HOUR})
	check(r.n == 3 and r.sum == 180, "prepared durations")
	r = assert(ctx:query{metric = m.resolved, touchpoint = m.agent, span_ms = HOUR})
	check(r.n == 2 and r.top == 1 and r.bottom == 1, "prepared booleans")
	r = assert(ctx:query{metric = m.nps, span_ms = HOUR})
	check(r.n == 2 and r.top == 1 and r.bottom == 1, "prepared scores")
	eq(ctx:stats().accepted, 4, "prepared accepted")
	-- the function keeps its context alive
	local c2 = fixed_ctx()
	assert(c2:touchpoint_define("t", "web"))
	local feed2 = assert(c2:prepare{touchpoint = 0, measures = {}})
	c2 = nil
	collectgarbage("collect")
	collectgarbage("collect")
	eq(feed2(T0), true, "a prepared function keeps its context alive")
	ctx:close()
	raises("closed cxm context", "prepared function on a closed context", feed, T0)
end

------------------------------------------------------------------------------
-- batches
------------------------------------------------------------------------------
do
	local m = model()
	local ctx = m.ctx
	local acc, rej = ctx:feed_batch{}
	check(acc == 0 and #rej == 0, "an empty batch")
	acc, rej = ctx:feed_batch{
		{time = T0, touchpoint = m.ivr, measures = {{m.nps, 9}}},        -- 1 ok
		{time = T0, touchpoint = m.ivr, measures = {{m.nps, 12}}},       -- 2 library
		"not an interaction",                                           -- 3 binding
		{time = T0, touchpoint = 50},                                    -- 4 library
		{time = T0, touchpoint = m.ivr, measures = {{m.aht, 3}}},        -- 5 ok
		{touchpoint = m.ivr},                                            -- 6 binding
		{time = T0 + DAY, touchpoint = m.ivr},                           -- 7 library
		{time = T0, touchpoint = m.ivr, customer = "x"},                 -- 8 ok
	}
	eq(acc, 3, "batch accepted")
	eq(#rej, 5, "batch rejections")
	local want = {{2, "OUT_OF_RANGE"}, {3, "INVALID"}, {4, "UNKNOWN_ID"}, {6, "INVALID"}, {7, "TOO_EARLY"}}
	for i, w in ipairs(want) do
		check(rej[i] and rej[i].index == w[1] and rej[i].code == w[2] and type(rej[i].message) == "string",
			string.format("rejection %d: index %d code %s, got %s %s", i, w[1], w[2],
				tostring(rej[i] and rej[i].index), tostring(rej[i] and rej[i].code)))
	end
	local st = ctx:stats()
	eq(st.accepted, 3, "batch: stats.accepted")
	eq(st.rejected_total, 3, "batch: the library counts its own rejections")
	raises("table expected", "feed_batch(nil)", ctx.feed_batch, ctx)

	-- 100 000 interactions in one batch, counts checked against Lua's own
	local N = 100000
	local batch = {}
	local tps = {m.ivr, m.agent, m.chat, m.web, m.email}
	local want_n = {}        -- per touchpoint
	local want_gold = 0      -- NPS answers with tier gold
	local want_prom, want_det = 0, 0
	local want_sum = 0
	local want_bad = 0
	for i = 1, N do
		local tp = tps[i % #tps + 1]
		local score = (i * 7) % 12 -- 11 is out of range: rejected
		local seg = (i % 3 == 0) and m.gold or m.silver
		batch[i] = {time = T0 - (i % 100) * MIN, touchpoint = tp, customer = "cust" .. (i % 5000),
			segments = {[m.tier] = seg}, measures = {{m.nps, score}, {m.aht, i % 600}}}
		if score == 11 then
			want_bad = want_bad + 1
		else
			want_n[tp] = (want_n[tp] or 0) + 1
			if seg == m.gold then want_gold = want_gold + 1 end
			if score >= 9 then want_prom = want_prom + 1 elseif score <= 6 then want_det = want_det + 1 end
			want_sum = want_sum + i % 600
		end
	end
	acc, rej = ctx:feed_batch(batch)
	eq(acc, N - want_bad, "100k batch accepted")
	eq(#rej, want_bad, "100k batch rejections")
	check(rej[1].index == 5 and rej[1].code == "OUT_OF_RANGE", "first rejection of the 100k batch")
	for _, tp in ipairs(tps) do
		local r = assert(ctx:query{metric = m.nps, touchpoint = tp, span_ms = 2 * HOUR})
		eq(r.n, want_n[tp] + (tp == m.ivr and 1 or 0), "100k batch: NPS responses at touchpoint " .. tp)
	end
	local r = assert(ctx:query{metric = m.nps, span_ms = 2 * HOUR, segment = m.tier, segment_value = m.gold})
	eq(r.n, want_gold, "100k batch: gold responses")
	r = assert(ctx:query{metric = m.nps, span_ms = 2 * HOUR})
	eq(r.top, want_prom + 1, "100k batch: promoters")
	eq(r.bottom, want_det, "100k batch: detractors")
	near(r.value, 100 * (want_prom + 1 - want_det) / (N - want_bad + 1), 1e-9, "100k batch: NPS")
	r = assert(ctx:query{metric = m.aht, span_ms = 2 * HOUR})
	eq(r.n, N - want_bad + 1, "100k batch: durations")
	near(r.sum, want_sum + 3, 1e-6, "100k batch: duration sum")
	r = assert(ctx:query{metric = m.customers, span_ms = 2 * HOUR})
	near(r.value, 5001, 5001 * 0.05, "100k batch: distinct customers")
	eq(ctx:stats().accepted, 3 + N - want_bad, "100k batch: stats.accepted")

	-- the same through feed() one by one, on a fresh context
	local m2 = model()
	local ok = 0
	for i = 1, N do
		if m2.ctx:feed(batch[i]) then ok = ok + 1 end
	end
	eq(ok, N - want_bad, "100k feeds accepted")
	eq(m2.ctx:stats().accepted, N - want_bad, "100k feeds: stats")
	eq(assert(m2.ctx:query{metric = m2.nps, span_ms = 2 * HOUR}).top, want_prom, "100k feeds: promoters")
end

------------------------------------------------------------------------------
-- queries
------------------------------------------------------------------------------
do
	local m = model()
	local ctx = m.ctx
	-- NPS answers at the agent (gold) and chat (silver); CSAT, CES at the ivr
	local answers = {10, 9, 9, 7, 3, 10, 8, 6, 0, 10}
	for i, a in ipairs(answers) do
		assert(ctx:feed{time = T0 - i * MIN, touchpoint = (i % 2 == 0) and m.chat or m.agent,
			segments = {[m.tier] = (i % 2 == 0) and m.silver or m.gold},
			measures = {{m.nps, a}, {m.aht, i * 10}, {m.csat, (i % 5) + 1}}})
	end
	assert(ctx:feed{time = T0 - MIN, touchpoint = m.web, measures = {{m.ces, 6}, {m.nps, 10}}})
	assert(ctx:feed{time = T0 - 2 * MIN, touchpoint = m.email, measures = {{m.nps, 2}}})

	local r = assert(ctx:query{metric = m.nps, span_ms = HOUR})
	eq(r.n, 12, "all: n")
	eq(r.kind, "score", "result kind")
	eq(r.headline, "net", "result headline")
	eq(r.top, 6, "all: promoters")
	eq(r.bottom, 4, "all: detractors")
	near(r.value, 100 * (6 - 4) / 12, 1e-9, "all: NPS")
	near(r.top_share, 6 / 12, 1e-12, "top_share")
	near(r.bottom_share, 4 / 12, 1e-12, "bottom_share")
	check(r.ci_low < r.value and r.value < r.ci_high, "confidence interval around the value")
	check(r.low_sample == false and r.empty == false and r.clamped == false and r.truncated == false,
		"flag booleans")
	eq(r.flags, 0, "flags")
	eq(r.end_ms, T0 + MIN - T0 % MIN, "end_ms: the end of now's minute")
	eq(r.end_ms - r.start_ms, HOUR, "the window spans an hour")
	eq(r.min, 0, "min")
	eq(r.max, 10, "max")
	eq(r.skipped, 0, "skipped")
	for _, k in ipairs{"mean", "sum", "stddev", "p50", "p90", "p99", "quantile_start_ms",
		"quantile_end_ms", "quantile_n", "questions"} do
		check(type(r[k]) == "number", "result field " .. k)
	end
	check(type(r.item_net) == "table" and type(r.item_n) == "table", "result item tables")

	eq(assert(ctx:query{metric = m.nps, touchpoint = m.agent, span_ms = HOUR}).n, 5, "touchpoint scope")
	eq(assert(ctx:query{metric = m.nps, journey = m.support, span_ms = HOUR}).n, 10, "journey scope")
	eq(assert(ctx:query{metric = m.nps, journey = m.support, step = 1, span_ms = HOUR}).n, 10, "step scope")
	eq(assert(ctx:query{metric = m.nps, journey = m.buy, step = "checkout", span_ms = HOUR}).n, 1,
		"step scope by name")
	eq(assert(ctx:query{metric = m.nps, channel = "phone", span_ms = HOUR}).n, 5, "channel scope")
	eq(assert(ctx:query{metric = m.nps, channel = 2, span_ms = HOUR}).n, 5, "channel by number")
	eq(assert(ctx:query{metric = m.nps, segment = m.tier, segment_value = m.silver, span_ms = HOUR}).n, 5,
		"segment filter")
	eq(assert(ctx:query{metric = m.nps, span_ms = 3 * MIN, end_ms = T0}).n, 4, "end_ms and a short span")
	r = assert(ctx:query{metric = m.nps, touchpoint = m.email, span_ms = HOUR})
	check(r.n == 1 and r.low_sample and r.flags == 1, "a low sample is flagged")
	r = assert(ctx:query{metric = m.nps, touchpoint = m.ivr, span_ms = HOUR})
	check(r.n == 0 and r.empty and isnan(r.value), "an empty window: NaN value and the flag")
	r = assert(ctx:query{metric = m.nps, span_ms = 500 * DAY})
	check(r.truncated, "a window before the retention is truncated")

	-- the result table may be reused
	local out = {}
	local r2 = assert(ctx:query({metric = m.csat, span_ms = HOUR}, out))
	check(r2 == out and out.n == 10 and out.headline == "top_box", "query into a given table")
	raises("table expected", "query into a string", ctx.query, ctx, {metric = m.csat, span_ms = HOUR}, "x")

	r = assert(ctx:query{metric = m.aht, touchpoint = m.agent, span_ms = HOUR})
	check(r.kind == "duration" and r.n == 5 and r.sum == 250 and r.min == 10 and r.max == 90,
		"duration moments")
	near(r.p50, 50, 0.5, "duration p50 within 1 %")
	near(r.p99, 90, 0.9, "duration p99 within 1 %")
	check(r.quantile_n == 5 and r.quantile_end_ms > r.quantile_start_ms, "quantile interval")

	fails("INVALID", "query without metric", ctx.query, ctx, {span_ms = HOUR})
	fails("INVALID", "query without span", ctx.query, ctx, {metric = m.nps})
	fails("INVALID", "query with an unknown field", ctx.query, ctx, {metric = m.nps, span_ms = HOUR, tp = 1})
	fails("INVALID", "query with two scopes", ctx.query, ctx,
		{metric = m.nps, span_ms = HOUR, touchpoint = m.agent, journey = m.support})
	fails("INVALID", "query with a step but no journey", ctx.query, ctx, {metric = m.nps, span_ms = HOUR, step = 1})
	fails("INVALID", "query with a segment but no value", ctx.query, ctx,
		{metric = m.nps, span_ms = HOUR, segment = m.tier})
	fails("INVALID", "query with an unknown channel", ctx.query, ctx, {metric = m.nps, span_ms = HOUR, channel = "fax"})
	fails("OUT_OF_RANGE", "span 0 (library)", ctx.query, ctx, {metric = m.nps, span_ms = 0})
	fails("OUT_OF_RANGE", "a negative end (library)", ctx.query, ctx, {metric = m.nps, span_ms = HOUR, end_ms = -5})
	fails("UNKNOWN_ID", "an unknown metric", ctx.query, ctx, {metric = 40, span_ms = HOUR})
	fails("UNKNOWN_ID", "an unknown touchpoint", ctx.query, ctx, {metric = m.nps, touchpoint = 40, span_ms = HOUR})
	fails("UNKNOWN_ID", "an unknown step name", ctx.query, ctx,
		{metric = m.nps, journey = m.buy, step = "pay", span_ms = HOUR})
	fails("UNKNOWN_ID", "an unknown segment value", ctx.query, ctx,
		{metric = m.nps, segment = m.tier, segment_value = 3, span_ms = HOUR})
	fails("UNKNOWN_ID", "channel 99 (library)", ctx.query, ctx, {metric = m.nps, span_ms = HOUR, channel = 99})
	raises("table expected", "query(nil)", ctx.query, ctx)

	-- quantiles
	local qs = assert(ctx:quantiles({metric = m.aht, touchpoint = m.agent, span_ms = HOUR}, {0, 0.5, 1}))
	check(#qs == 3 and qs[1] == 10 and math.abs(qs[2] - 50) <= 0.5 and qs[3] == 90, "quantiles")
	qs = assert(ctx:quantiles({metric = m.aht, touchpoint = m.ivr, span_ms = HOUR}, {0.5}))
	check(isnan(qs[1]), "quantiles of an empty window are NaN")
	fails("KIND", "quantiles of a score", ctx.quantiles, ctx, {metric = m.nps, span_ms = HOUR}, {0.5})
	fails("OUT_OF_RANGE", "quantile 1.5", ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR}, {1.5})
	fails("NOT_FINITE", "quantile NaN", ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR}, {0 / 0})
	fails("INVALID", "no quantiles (library)", ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR}, {})
	local many = {}
	for i = 1, 65 do many[i] = i / 100 end
	fails("INVALID", "65 quantiles", ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR}, many)
	fails("INVALID", "a string quantile", ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR}, {"median"})
	fails("INVALID", "quantiles of a bad query", ctx.quantiles, ctx, {metric = m.aht}, {0.5})
	raises("table expected", "quantiles without a list", ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR})

	-- distribution
	local dist = assert(ctx:distribution{metric = m.nps, span_ms = HOUR})
	eq(#dist, 11, "distribution: 11 points of NPS")
	check(dist[11] == 4 and dist[10] == 2 and dist[1] == 1 and dist[3] == 1, "distribution counts")
	assert(ctx:feed{time = T0, touchpoint = m.ivr, measures = {{m.cxi, 4, 1}}})
	dist = assert(ctx:distribution({metric = m.cxi, span_ms = HOUR}, 1))
	check(#dist == 10 and dist[4] == 1, "distribution of one index question")
	fails("OUT_OF_RANGE", "distribution of question 3", ctx.distribution, ctx, {metric = m.cxi, span_ms = HOUR}, 3)
	fails("KIND", "distribution of a duration", ctx.distribution, ctx, {metric = m.aht, span_ms = HOUR})
	fails("OUT_OF_RANGE", "distribution of item -1", ctx.distribution, ctx, {metric = m.nps, span_ms = HOUR}, -1)

	-- compare
	local c = assert(ctx:compare({metric = m.nps, segment = m.tier, segment_value = m.gold, span_ms = HOUR},
		{metric = m.nps, segment = m.tier, segment_value = m.silver, span_ms = HOUR}))
	check(c.headline == "net" and c.n_a == 5 and c.n_b == 5, "compare sizes")
	near(c.difference, c.b - c.a, 1e-9, "compare difference")
	check(c.p_value >= 0 and c.p_value <= 1 and c.ci_low <= c.difference and c.difference <= c.ci_high,
		"compare interval and p-value")
	check(c.low_sample == false and type(c.z) == "number" and c.flags == 0, "compare flags")
	c = assert(ctx:compare({metric = m.nps, touchpoint = m.email, span_ms = HOUR},
		{metric = m.nps, touchpoint = m.web, span_ms = HOUR}))
	check(c.low_sample == true and c.flags == 1 and c.n_a == 1, "compare carries a low sample")
	fails("KIND", "compare volumes", ctx.compare, ctx, {metric = m.volume, span_ms = HOUR},
		{metric = m.volume, span_ms = DAY})
	fails("INVALID", "compare two metrics", ctx.compare, ctx, {metric = m.nps, span_ms = HOUR},
		{metric = m.csat, span_ms = HOUR})
	fails("INVALID", "compare with a bad second query", ctx.compare, ctx, {metric = m.nps, span_ms = HOUR}, {})
	raises("table expected", "compare with one query", ctx.compare, ctx, {metric = m.nps, span_ms = HOUR})

	-- the fixed clock decides "now"
	ctx:set_now(T0 + 2 * HOUR)
	eq(assert(ctx:query{metric = m.nps, span_ms = HOUR}).n, 0, "an hour later the last hour is empty")
	eq(assert(ctx:query{metric = m.nps, span_ms = 3 * HOUR}).n, 12, "the last three hours hold it all")
end

------------------------------------------------------------------------------
-- breakdowns and time series (the cases of tests/test_group.c)
------------------------------------------------------------------------------
do
	-- g, a group's or a window's result, is the single query's result r:
	-- every field of r, NaN for NaN, and nothing else but key and name.
	local function same(g, r, what)
		local ok = true
		for k, v in pairs(r) do
			local gv = g[k]
			if type(v) == "table" then
				ok = ok and type(gv) == "table" and #gv == #v
				for i = 1, #v do
					ok = ok and type(gv) == "table" and (gv[i] == v[i] or (isnan(v[i]) and isnan(gv[i])))
				end
			elseif isnan(v) then
				ok = ok and isnan(gv)
			else
				ok = ok and gv == v
			end
			if not ok then
				return check(false, string.format("%s: field %s: expected %s, got %s", what, k,
					tostring(v), tostring(gv)))
			end
		end
		for k in pairs(g) do
			if k ~= "key" and k ~= "name" and r[k] == nil then
				return check(false, what .. ": an extra field " .. tostring(k))
			end
		end
		return check(true, what)
	end
	local function copy(t, extra)
		local c = {}
		for k, v in pairs(t) do c[k] = v end
		for k, v in pairs(extra or {}) do c[k] = v end
		return c
	end

	local m = model()
	local ctx = m.ctx
	m.bronze = assert(ctx:segment_value(m.tier, "bronze"))
	-- Six whole hours before now's: hour h has h + 1 interactions on each of
	-- ivr, agent, chat and the checkout page (the invoice email never), an
	-- NPS answer h (a detractor), or 9 (a promoter) from hour 3 on, on ivr
	-- and agent, a handle time on all, and a tier that goes round.
	local H0 = T0 - T0 % HOUR - 6 * HOUR
	local E = H0 + 6 * HOUR - 1
	local fed = {m.ivr, m.agent, m.chat, m.web}
	local tiers = {m.gold, m.silver, m.bronze}
	for h = 0, 5 do
		for k = 0, h do
			for t, tp in ipairs(fed) do
				local ms = {{m.aht, 60 * t}}
				if tp == m.ivr or tp == m.agent then ms[2] = {m.nps, h >= 3 and 9 or h} end
				assert(ctx:feed{time = H0 + h * HOUR + k * MIN, touchpoint = tp,
					segments = {[m.tier] = tiers[(h + k + t) % 3 + 1]}, measures = ms})
			end
		end
	end

	for _, metric in ipairs{m.nps, m.volume, m.aht} do
		local q = {metric = metric, span_ms = 6 * HOUR, end_ms = E}
		local what = ctx:name("metric", metric)
		local whole = assert(ctx:query(q))
		-- by touchpoint: every one, the email too, in id order
		local gs = assert(ctx:query_by(q, "touchpoint"))
		eq(#gs, 5, what .. " by touchpoint: every touchpoint")
		local total = 0
		for i, g in ipairs(gs) do
			eq(g.key, i - 1, what .. " by touchpoint: key " .. i)
			eq(g.name, ctx:name("touchpoint", g.key), what .. " by touchpoint: name " .. i)
			same(g, assert(ctx:query(copy(q, {touchpoint = g.key}))), what .. " by touchpoint " .. g.name)
			total = total + g.n
		end
		check(gs[m.email + 1].empty, what .. ": the email's group is empty")
		eq(total, whole.n, what .. " by touchpoint: the groups add up")
		-- by segment value: the tier's three, by id or name, adding up
		gs = assert(ctx:query_by(q, "segment", m.tier))
		eq(#gs, 3, what .. " by tier")
		total = 0
		for i, g in ipairs(gs) do
			eq(g.key, tiers[i], what .. " by tier: key " .. i)
			eq(g.name, ctx:segment_value_name(m.tier, g.key), what .. " by tier: name " .. i)
			same(g, assert(ctx:query(copy(q, {segment = m.tier, segment_value = g.key}))),
				what .. " by tier " .. g.name)
			total = total + g.n
		end
		eq(total, whole.n, what .. " by tier: the values add up")
		same(assert(ctx:query_by(q, "segment", "tier"))[2], gs[2], what .. " by tier by name")
		gs = assert(ctx:query_by(q, "segment", m.region))
		check(#gs == 1 and gs[1].name == "north" and gs[1].empty, what .. " by region: north, empty")
		-- by step of a journey
		local qj = copy(q, {journey = m.support})
		gs = assert(ctx:query_by(qj, "step"))
		eq(#gs, 3, what .. " by step")
		for i, g in ipairs(gs) do
			eq(g.key, i - 1, what .. " by step: key " .. i)
			eq(g.name, ctx:step_name(m.support, g.key), what .. " by step: name " .. i)
			same(g, assert(ctx:query(copy(qj, {step = g.key}))), what .. " by step " .. g.name)
		end
		-- within a journey, by touchpoint: its own
		gs = assert(ctx:query_by(qj, "touchpoint"))
		check(#gs == 3 and gs[1].key == m.ivr and gs[2].key == m.agent and gs[3].key == m.chat,
			what .. " by touchpoint within a journey")
		-- by channel: those that have a touchpoint, in enum order
		gs = assert(ctx:query_by(q, "channel"))
		local want = {"phone", "chat", "email", "web"}
		eq(#gs, 4, what .. " by channel")
		for i, g in ipairs(gs) do
			eq(g.name, want[i], what .. " by channel: name " .. i)
			eq(g.key, i, what .. " by channel: key " .. i) -- phone 1, chat 2, email 3, web 4
			same(g, assert(ctx:query(copy(q, {channel = g.name}))), what .. " by channel " .. g.name)
		end
		check(gs[3].empty, what .. ": e-mail is empty")
	end
	-- hand counts: 21 contacts on each fed touchpoint, the phone's 42
	local gs = assert(ctx:query_by({metric = m.volume, span_ms = 6 * HOUR, end_ms = E}, "touchpoint"))
	check(gs[m.ivr + 1].n == 21 and gs[m.web + 1].value == 21 and gs[m.email + 1].n == 0,
		"by touchpoint: 21 contacts each")
	gs = assert(ctx:query_by({metric = m.volume, span_ms = 6 * HOUR, end_ms = E}, "channel"))
	check(gs[1].n == 42 and gs[2].n == 21, "by channel: 42 on the phone, 21 in chat")

	-- series: NPS per hour, -100 for hours 0 to 2, +100 after, 2 (h + 1) answers
	local q = {metric = m.nps, span_ms = 6 * HOUR, end_ms = E}
	local s = assert(ctx:query_series(q, HOUR))
	eq(#s, 6, "series: six hours")
	for h = 0, 5 do
		local w = s[h + 1]
		check(w.start_ms == H0 + h * HOUR and w.end_ms == H0 + (h + 1) * HOUR,
			"series: hour " .. h .. " covers its hour")
		eq(w.n, 2 * (h + 1), "series: hour " .. h .. ": n")
		near(w.value, h < 3 and -100 or 100, 1e-9, "series: hour " .. h .. ": NPS")
		check(w.key == nil and w.name == nil, "series: no key, no name")
		same(w, assert(ctx:query(copy(q, {span_ms = HOUR, end_ms = H0 + (h + 1) * HOUR - 1}))),
			"series: hour " .. h .. " is its query")
	end
	-- trend of those hours: -100 three times then +100 three times at x = 0 … 5:
	-- Sxx 17.5, Sxy 900, slope 900 / 17.5 per hour
	local t = assert(ctx:query_trend(q, HOUR, 2))
	check(t.windows == 6 and t.points == 6, "trend: six points")
	near(t.slope, 900 / 17.5, 1e-9, "trend: slope")
	check(t.slope_ci_low < t.slope and t.slope < t.slope_ci_high and t.p_value < 0.05, "trend: interval")
	check(#t.forecast == 2 and t.forecast[1].start_ms == E + 1 and
		t.forecast[1].pi_low < t.forecast[1].value, "trend: a forecast of two hours")
	eq(#assert(ctx:query_trend(q, HOUR)).forecast, 0, "trend: no horizon, no forecast")
	fails("OUT_OF_RANGE", "trend: horizon above 64", ctx.query_trend, ctx, q, HOUR, 65)
	fails("OUT_OF_RANGE", "trend: a step above the span", ctx.query_trend, ctx, q, 7 * HOUR)
	-- a span that is not a multiple of the step: the first window reaches back
	s = assert(ctx:query_series(copy(q, {span_ms = 5 * HOUR}), 2 * HOUR))
	check(#s == 3 and s[1].start_ms == H0 and s[1].end_ms == H0 + 2 * HOUR and s[3].end_ms == E + 1,
		"series: 5 h by 2 h: three windows, the first from H0")
	eq(s[1].n + s[2].n + s[3].n, 42, "series: 5 h by 2 h: every answer")
	-- one window: the query itself
	s = assert(ctx:query_series(copy(q, {span_ms = HOUR}), HOUR))
	eq(#s, 1, "series of one window")
	same(s[1], assert(ctx:query(copy(q, {span_ms = HOUR}))), "series of one window is the query")
	-- more windows than the binding holds on the C stack: 360 minutes
	s = assert(ctx:query_series(q, MIN))
	eq(#s, 360, "series by the minute: 360 windows")
	local total, all = 0, true
	for i, w in ipairs(s) do
		total = total + w.n
		local r = assert(ctx:query(copy(q, {span_ms = MIN, end_ms = H0 + i * MIN - 1})))
		all = all and w.n == r.n and w.start_ms == r.start_ms and w.end_ms == r.end_ms
	end
	check(all, "series by the minute: each window is its query")
	eq(total, 42, "series by the minute: every answer")
	-- the last hour is held by the minute; the first, older than the minute
	-- tier reaches, by the hour: its first minute's window is the hour
	check(s[301].n == 2 and s[301].start_ms == H0 + 5 * HOUR and s[301].end_ms == H0 + 5 * HOUR + MIN
		and s[307].n == 0, "series by the minute: the last hour's minutes")
	check(s[1].n == 2 and s[1].start_ms == H0 and s[1].end_ms == H0 + HOUR and s[2].n == 0,
		"series by the minute: the first hour, held by the hour")

	-- more groups than the C stack holds: 40 values of a dimension
	local many = fixed_ctx{max_segment_values = 64}
	local mtp = assert(many:touchpoint_define("ivr", "phone"))
	local mvol = assert(many:metric_define("contacts", "volume"))
	local queue = assert(many:segment_define("queue", 64))
	for i = 1, 40 do
		local v = assert(many:segment_value(queue, "queue " .. i))
		for _ = 1, i do assert(many:feed{time = T0 - MIN, touchpoint = mtp, segments = {[queue] = v}}) end
	end
	gs = assert(many:query_by({metric = mvol, span_ms = HOUR}, "segment", "queue"))
	eq(#gs, 40, "40 groups")
	all = true
	for i, g in ipairs(gs) do
		all = all and g.key == i - 1 and g.name == "queue " .. i and g.n == i and g.value == i
	end
	check(all, "40 groups: keys, names and counts")

	-- bad arguments: nil, message, code
	q = {metric = m.volume, span_ms = HOUR, end_ms = E}
	fails("INVALID", "by an unknown grouping", ctx.query_by, ctx, q, "region")
	fails("INVALID", "by segment without its dimension", ctx.query_by, ctx, q, "segment")
	fails("INVALID", "a dimension for a breakdown by touchpoint", ctx.query_by, ctx, q, "touchpoint", m.tier)
	fails("UNKNOWN_ID", "by an unknown dimension (library)", ctx.query_by, ctx, q, "segment", 9)
	fails("UNKNOWN_ID", "by a dimension of an unknown name", ctx.query_by, ctx, q, "segment", "queue")
	fails("OUT_OF_RANGE", "by dimension -1", ctx.query_by, ctx, q, "segment", -1)
	fails("INVALID", "by dimension 0.5", ctx.query_by, ctx, q, "segment", 0.5)
	fails("UNSUPPORTED", "by segment of a segment-filtered query", ctx.query_by, ctx,
		copy(q, {segment = m.tier, segment_value = m.gold}), "segment", m.region)
	fails("INVALID", "by step of a query of everything", ctx.query_by, ctx, q, "step")
	fails("INVALID", "by step of a step's query", ctx.query_by, ctx,
		copy(q, {journey = m.support, step = 1}), "step")
	fails("INVALID", "by channel of a touchpoint's query", ctx.query_by, ctx,
		copy(q, {touchpoint = m.ivr}), "channel")
	fails("INVALID", "by touchpoint of a query without span", ctx.query_by, ctx, {metric = m.volume}, "touchpoint")
	fails("INVALID", "by touchpoint of a query with an unknown field", ctx.query_by, ctx,
		copy(q, {tp = 1}), "touchpoint")
	fails("UNKNOWN_ID", "by touchpoint of an unknown metric", ctx.query_by, ctx, copy(q, {metric = 40}),
		"touchpoint")
	fails("OUT_OF_RANGE", "by touchpoint of span 0", ctx.query_by, ctx, copy(q, {span_ms = 0}), "touchpoint")
	fails("OUT_OF_RANGE", "a series by a minute and a millisecond", ctx.query_series, ctx, q, MIN + 1)
	fails("OUT_OF_RANGE", "a series by half a minute", ctx.query_series, ctx, q, MIN / 2)
	fails("OUT_OF_RANGE", "a series by 0", ctx.query_series, ctx, q, 0)
	fails("OUT_OF_RANGE", "a series by -1 min", ctx.query_series, ctx, q, -MIN)
	fails("OUT_OF_RANGE", "a series step longer than the span", ctx.query_series, ctx, q, 2 * HOUR)
	fails("INVALID", "a series step with a fraction", ctx.query_series, ctx, q, MIN + 0.5)
	fails("NOT_FINITE", "a series step of NaN", ctx.query_series, ctx, q, 0 / 0)
	fails("INVALID", "a series of a query without metric", ctx.query_series, ctx, {span_ms = HOUR}, MIN)
	fails("UNKNOWN_ID", "a series of an unknown metric", ctx.query_series, ctx, copy(q, {metric = 40}), MIN)
	local _, msg = ctx:query_series(q, MIN + 1)
	check(msg:find("step_ms", 1, true) ~= nil, "the message is libcxm's: " .. tostring(msg))
	_, msg = ctx:query_by(q, "region")
	check(msg:find("region", 1, true) ~= nil, "the message names the grouping: " .. tostring(msg))
	-- raised: arguments of the wrong type, a closed context
	raises("table expected", "query_by without a query", ctx.query_by, ctx)
	raises("string expected", "query_by without by", ctx.query_by, ctx, q)
	raises("segment id or name expected", "query_by with a table as dim", ctx.query_by, ctx, q, "segment", {})
	raises("table expected", "query_series without a query", ctx.query_series, ctx, nil, MIN)
	raises("number expected", "query_series without a step", ctx.query_series, ctx, q)
	raises("number expected", "query_series with a string step", ctx.query_series, ctx, q, "60000")
	many:close()
	raises("closed cxm context", "query_by on a closed context", many.query_by, many, q, "touchpoint")
	raises("closed cxm context", "query_series on a closed context", many.query_series, many, q, MIN)
end

------------------------------------------------------------------------------
-- garbage collection
------------------------------------------------------------------------------
do
	-- results and names outlive their context
	local m = model()
	assert(m.ctx:feed{time = T0, touchpoint = m.agent, measures = {{m.nps, 10}}})
	local r = assert(m.ctx:query{metric = m.nps, span_ms = HOUR})
	local name = m.ctx:name("touchpoint", m.agent)
	local def = m.ctx:metric_get(m.nps)
	local st = m.ctx:stats()
	m = nil
	collectgarbage("collect")
	collectgarbage("collect")
	check(r.n == 1 and r.value == 100 and name == "agent call" and def.scale_max == 10 and st.accepted == 1,
		"results stay readable after their context is collected")

	-- contexts created and dropped while others are in use
	local keep = model()
	local keep_feed = assert(keep.ctx:prepare{touchpoint = keep.agent, measures = {keep.nps}})
	local fed = 0
	for i = 1, 300 do
		local tmp = model()
		assert(tmp.ctx:feed{time = T0, touchpoint = tmp.ivr, measures = {{tmp.nps, i % 11}}})
		assert(keep_feed(T0 - (i % 60) * MIN, "c" .. i, i % 11))
		fed = fed + 1
		if i % 7 == 0 then collectgarbage("step") end
		if i % 50 == 0 then collectgarbage("collect") end
	end
	collectgarbage("collect")
	eq(assert(keep.ctx:query{metric = keep.nps, span_ms = 2 * HOUR}).n, fed, "the context in use kept every answer")
	eq(keep.ctx:stats().accepted, fed, "stats of the context in use")

	-- a context dropped in the middle of a batch's lifetime: its batch table survives
	local batch = {}
	for i = 1, 1000 do batch[i] = {time = T0, touchpoint = 0, measures = {{0, i % 11}}} end
	for _ = 1, 5 do
		local c = fixed_ctx()
		assert(c:touchpoint_define("t", "web"))
		assert(c:metric_define("nps", "nps"))
		eq((c:feed_batch(batch)), 1000, "a batch into a short-lived context")
		c = nil
		collectgarbage("collect")
	end

	-- __close on 5.4
	if _VERSION == "Lua 5.4" then
		local chunk = assert(load([[
			local cxm, T0 = ...
			local outer
			do
				local ctx <close> = assert(cxm.new())
				outer = ctx
				assert(ctx:metric_define("nps", "nps"))
			end
			return outer
		]]))
		local closed = chunk(cxm, T0)
		check(tostring(closed):find("closed", 1, true) ~= nil, "<close> frees the context")
		raises("closed cxm context", "a closed context raises", closed.count, closed, "metric")
	end
end

------------------------------------------------------------------------------
-- snapshots and merge
------------------------------------------------------------------------------
local KEY, OTHER_KEY = "0123456789abcdef", "fedcba9876543210"

-- Contexts that can load and merge each other's state (one customer key
-- and the same tiers), small enough to keep a dozen alive: short tiers,
-- and a customer table for 1000 rather than the default's 42 MB.
local function snapcfg(cfg)
	cfg = cfg or {}
	cfg.customer_key = cfg.customer_key or KEY
	cfg.tiers = cfg.tiers or {{MIN, 60}, {HOUR, 3}}
	cfg.max_customers = cfg.max_customers or 1000
	return cfg
end

local function slurp(path)
	local f = assert(io.open(path, "rb"))
	local d = f:read("*a")
	f:close()
	return d
end

local function spit(path, data)
	local f = assert(io.open(path, "wb"))
	f:write(data)
	f:close()
end

-- n interactions from number first on, over every touchpoint and most kinds.
local function traffic(m, first, n)
	local tps = {m.ivr, m.agent, m.chat, m.web, m.email}
	for i = first, first + n - 1 do
		assert(m.ctx:feed{time = T0 - 30 * MIN + i * 1000, touchpoint = tps[i % 5 + 1],
			customer = "c" .. (i % 37),
			segments = {[m.tier] = (i % 3 == 0) and m.gold or m.silver},
			measures = {{m.nps, i % 11}, {m.csat, i % 5 + 1}, {m.aht, 10 + i % 97},
				{m.resolved, i % 4 ~= 0}, {m.revenue, i % 13}}})
	end
end

-- A format-3 header with a good CRC32C: a snapshot from a newer libcxm.
local NEWER_HEADER = "\137\67\88\77\13\10\26\10\99\0\0\0\64\0\0\0" .. string.rep("\0", 44) ..
	"\171\61\224\98"

do
	local a, b = model(snapcfg()), model(snapcfg())
	local all = model(snapcfg())
	traffic(a, 1, 200)
	traffic(b, 201, 150)
	traffic(all, 1, 200)
	traffic(all, 201, 150)
	local a_text = a.ctx:export()
	local want = all.ctx:export()

	-- the state of `all`, by exposition and by query of every metric
	local function same_as_all(ctx, what)
		eq(ctx:export(), want, what .. ": exposition equals one context fed with both")
		for _, metric in ipairs{all.nps, all.csat, all.aht, all.resolved, all.revenue,
				all.volume, all.customers} do
			local r1 = assert(ctx:query{metric = metric, span_ms = HOUR})
			local r2 = assert(all.ctx:query{metric = metric, span_ms = HOUR})
			eq(r1.n, r2.n, what .. ": n of metric " .. metric)
			check(r1.value == r2.value or (isnan(r1.value) and isnan(r2.value)),
				what .. ": value of metric " .. metric)
			check(r1.p90 == r2.p90 or (isnan(r1.p90) and isnan(r2.p90)),
				what .. ": p90 of metric " .. metric)
		end
		eq(ctx:stats().accepted, 350, what .. ": accepted")
	end

	-- save, snapshot, load, load_string
	local path = os.tmpname()
	eq(a.ctx:save(path), true, "save")
	local bytes = slurp(path)
	check(#bytes > 64, "a snapshot file")
	eq(a.ctx:snapshot(), bytes, "snapshot() gives the bytes save() writes")
	local tiers = assert(cxm.snapshot_tiers(bytes:sub(1, 64 + 16 + 4 + 48 + 4)))
	check(#tiers == 2 and tiers[1].bucket_ms == MIN and tiers[1].buckets == 60 and
		tiers[2].bucket_ms == HOUR and tiers[2].buckets == 3, "snapshot_tiers from the first bytes")
	fails("CORRUPT", "snapshot_tiers of too few bytes", cxm.snapshot_tiers, bytes:sub(1, 70))
	fails("VERSION", "snapshot_tiers of a newer format", cxm.snapshot_tiers, NEWER_HEADER)
	eq(a.ctx:save(path), true, "save over a previous snapshot")
	local la = fixed_ctx(snapcfg())
	eq(la:load(path), true, "load")
	eq(la:export(), a_text, "a loaded context exposes what the saver did")
	eq(la:count("touchpoint"), 5, "load brings the model")
	eq(la:find("metric", "aht"), a.aht, "load keeps the ids")
	eq(la:stats().accepted, 200, "load brings the statistics")
	local ls = fixed_ctx(snapcfg())
	eq(ls:load_string(bytes), true, "load_string")
	eq(ls:export(), a_text, "load_string gives the saver's state")
	check(#assert(cxm.new():snapshot()) >= 64, "snapshot of an empty context")

	-- merge A into B (context, file, string) and B into a copy of A
	local b1, b2, b3 = model(snapcfg()), model(snapcfg()), model(snapcfg())
	traffic(b1, 201, 150)
	traffic(b2, 201, 150)
	traffic(b3, 201, 150)
	eq(b1.ctx:merge(a.ctx), true, "merge")
	same_as_all(b1.ctx, "merge(ctx)")
	eq(a.ctx:export(), a_text, "merge leaves its source as it was")
	eq(b2.ctx:merge_file(path), true, "merge_file")
	same_as_all(b2.ctx, "merge_file")
	eq(b3.ctx:merge_string(bytes), true, "merge_string")
	same_as_all(b3.ctx, "merge_string")
	eq(ls:merge(b.ctx), true, "merge the other way round")
	same_as_all(ls, "merge B into A")
	-- an empty context takes a whole snapshot by load, then merges more
	local sum = fixed_ctx(snapcfg())
	assert(sum:load_string(b.ctx:snapshot()))
	eq(sum:merge_file(path), true, "merge_file into a loaded context")
	same_as_all(sum, "load B, merge A's file")

	-- failures: nil, message, code; the context unchanged
	local full = a.ctx
	fails("INVALID", "load into a context that is not empty", full.load, full, path)
	fails("INVALID", "load_string into a context that is not empty", full.load_string, full, bytes)
	eq(full:export(), a_text, "a failed load leaves the context as it was")
	fails("INVALID", "merge a context into itself", full.merge, full, full)
	local fresh = fixed_ctx(snapcfg())
	fails("IO", "load of a missing file", fresh.load, fresh, path .. ".missing/x")
	fails("IO", "merge_file of a missing file", b.ctx.merge_file, b.ctx, path .. ".missing/x")
	fails("IO", "save into a missing directory", full.save, full, path .. ".missing/x")
	fails("INVALID", "save to an empty path", full.save, full, "")
	fails("INVALID", "load from an empty path", fresh.load, fresh, "")
	fails("INVALID", "merge_file from an empty path", b.ctx.merge_file, b.ctx, "")
	fails("ENCODING", "save to a path with a NUL", full.save, full, path .. "\0x")
	fails("ENCODING", "load from a path with a NUL", fresh.load, fresh, path .. "\0x")
	fails("ENCODING", "merge_file from a path with a NUL", b.ctx.merge_file, b.ctx, path .. "\0x")
	eq(slurp(path), bytes, "a failed save leaves the previous snapshot")

	local flipped = bytes:sub(1, 99) .. string.char((bytes:byte(100) + 1) % 256) .. bytes:sub(101)
	fails("CORRUPT", "load_string of a damaged snapshot", fresh.load_string, fresh, flipped)
	fails("CORRUPT", "load_string of a truncated snapshot", fresh.load_string, fresh, bytes:sub(1, -2))
	fails("CORRUPT", "load_string of an empty string", fresh.load_string, fresh, "")
	fails("CORRUPT", "load_string of text", fresh.load_string, fresh, "not a snapshot")
	fails("CORRUPT", "merge_string of a damaged snapshot", b.ctx.merge_string, b.ctx, flipped)
	local bad = os.tmpname()
	spit(bad, flipped)
	fails("CORRUPT", "load of a damaged file", fresh.load, fresh, bad)
	fails("CORRUPT", "merge_file of a damaged file", b.ctx.merge_file, b.ctx, bad)
	fails("VERSION", "load_string of a newer format", fresh.load_string, fresh, NEWER_HEADER)
	fails("VERSION", "merge_string of a newer format", b.ctx.merge_string, b.ctx, NEWER_HEADER)
	spit(bad, NEWER_HEADER)
	fails("VERSION", "load of a newer format", fresh.load, fresh, bad)
	fails("VERSION", "merge_file of a newer format", b.ctx.merge_file, b.ctx, bad)
	os.remove(bad)
	eq(fresh:count("metric"), 0, "failed loads leave the context empty")
	eq(fresh:load(path), true, "and it still loads a good snapshot")

	local keyed = fixed_ctx(snapcfg{customer_key = OTHER_KEY})
	fails("EXISTS", "load with another customer key", keyed.load, keyed, path)
	fails("EXISTS", "load_string with another customer key", keyed.load_string, keyed, bytes)
	local other = model(snapcfg{customer_key = OTHER_KEY})
	fails("EXISTS", "merge with another customer key", other.ctx.merge, other.ctx, a.ctx)
	fails("EXISTS", "merge_file with another customer key", other.ctx.merge_file, other.ctx, path)
	fails("EXISTS", "merge_string with another customer key", other.ctx.merge_string, other.ctx, bytes)
	local tiered = fixed_ctx(snapcfg{tiers = {{MIN, 30}}})
	fails("EXISTS", "load with other tiers", tiered.load, tiered, path)

	local lacking = fixed_ctx(snapcfg())
	assert(lacking:metric_define("nps", "nps"))
	fails("UNKNOWN_ID", "merge of a source defining more", lacking.merge, lacking, a.ctx)
	fails("UNKNOWN_ID", "merge_file of a source defining more", lacking.merge_file, lacking, path)
	fails("UNKNOWN_ID", "merge_string of a source defining more", lacking.merge_string, lacking, bytes)
	local src, dst = fixed_ctx(snapcfg()), fixed_ctx(snapcfg())
	assert(src:metric_define("score", "nps"))
	assert(dst:metric_define("score", "csat5"))
	fails("EXISTS", "merge of a metric defined differently", dst.merge, dst, src)

	local narrow = fixed_ctx(snapcfg{max_touchpoints = 2})
	fails("LIMIT", "load beyond max_touchpoints", narrow.load, narrow, path)
	fails("LIMIT", "load_string beyond max_touchpoints", narrow.load_string, narrow, bytes)
	local few = model(snapcfg{max_series = 4})
	fails("LIMIT", "merge beyond max_series", few.ctx.merge, few.ctx, a.ctx)
	fails("LIMIT", "merge_string beyond max_series", few.ctx.merge_string, few.ctx, bytes)
	eq(few.ctx:stats().series, 0, "a failed merge adds no series")

	-- programming errors raise
	raises("string expected", "save(nil)", full.save, full)
	raises("string expected", "load({})", fresh.load, fresh, {})
	raises("string expected", "merge_file(nil)", full.merge_file, full)
	raises("string expected", "load_string(nil)", fresh.load_string, fresh)
	raises("string expected", "merge_string(false)", full.merge_string, full, false)
	raises("cxm context expected", "merge(table)", full.merge, full, {})
	raises("cxm context expected", "merge(nil)", full.merge, full)
	raises("cxm context expected", "snapshot of a table", full.snapshot, {})
	local closed = fixed_ctx(snapcfg())
	closed:close()
	raises("closed cxm context", "merge of a closed source", full.merge, full, closed)
	raises("closed cxm context", "merge into a closed context", closed.merge, closed, full)
	for _, f in ipairs{"save", "load", "merge_file", "load_string", "merge_string"} do
		raises("closed cxm context", f .. " on a closed context", closed[f], closed, path)
	end
	raises("closed cxm context", "snapshot of a closed context", closed.snapshot, closed)

	-- snapshots are plain strings, and their buffers are collected
	for i = 1, 200 do
		local s = a.ctx:snapshot()
		if i % 50 == 0 then
			eq(s, bytes, "snapshot " .. i)
			collectgarbage("collect")
		end
	end
	os.remove(path)
end

------------------------------------------------------------------------------
-- save_for_exporter: DIR/NAME.cxms, the file cxm-exporter merges
------------------------------------------------------------------------------
do
	-- a directory of our own beside os.tmpname()'s files
	local dir = os.tmpname()
	os.remove(dir)
	assert(os.execute("mkdir '" .. dir .. "'"), "mkdir " .. dir)
	local function listing()
		local p = assert(io.popen("ls -A '" .. dir .. "'"))
		local names = {}
		for line in p:lines() do names[#names + 1] = line end
		p:close()
		table.sort(names)
		return table.concat(names, " ")
	end
	local function loaded(path)
		local ctx = fixed_ctx(snapcfg())
		local ok, msg = ctx:load(path)
		check(ok, "load " .. path .. ": " .. tostring(msg))
		return ctx
	end
	-- this process's id, as the default name has it (Linux /proc; else not checked)
	local pid
	local f = io.open("/proc/self/stat", "r")
	if f then
		pid = f:read("*l"):match("^(%d+)")
		f:close()
	end

	-- the directory goes away whatever happens in between
	local ok, err = pcall(function()
		local m = model(snapcfg())
		traffic(m, 1, 40)
		eq(m.ctx:save_for_exporter(dir, "worker-1"), true, "save_for_exporter with a name")
		eq(listing(), "worker-1.cxms", "the file is NAME.cxms, and no temporary file is left")
		local back = loaded(dir .. "/worker-1.cxms")
		eq(back:stats().accepted, 40, "the saved file loads back with its count")
		eq(back:export(), m.ctx:export(), "and exposes what the saver did")
		eq(slurp(dir .. "/worker-1.cxms"), m.ctx:snapshot(), "the bytes of a snapshot")

		traffic(m, 41, 10)
		eq(m.ctx:save_for_exporter(dir .. "//", "worker-1"), true, "again, over the same file")
		eq(listing(), "worker-1.cxms", "one file per name, replaced")
		eq(loaded(dir .. "/worker-1.cxms"):stats().accepted, 50, "the later count replaces the earlier")

		eq(m.ctx:save_for_exporter(dir), true, "save_for_exporter with the default name")
		if pid then
			eq(listing(), "cxm-" .. pid .. ".cxms worker-1.cxms", "the default name is cxm-<pid>")
			eq(loaded(dir .. "/cxm-" .. pid .. ".cxms"):stats().accepted, 50, "default name: its count")
		end
		eq(m.ctx:save_for_exporter(dir, 7), true, "a number is its decimal text, as for paths")
		eq(loaded(dir .. "/7.cxms"):stats().accepted, 50, "saved as 7.cxms")

		-- failures: nil, message, code; no file written
		local before = listing()
		local ctx = m.ctx
		fails("INVALID", "an empty dir", ctx.save_for_exporter, ctx, "")
		fails("INVALID", "an empty name", ctx.save_for_exporter, ctx, dir, "")
		fails("INVALID", "a name with a /", ctx.save_for_exporter, ctx, dir, "a/b")
		fails("INVALID", "a name the exporter skips (.x)", ctx.save_for_exporter, ctx, dir, ".hidden")
		fails("ENCODING", "a dir with a NUL", ctx.save_for_exporter, ctx, dir .. "\0x", "w")
		fails("ENCODING", "a name with a NUL", ctx.save_for_exporter, ctx, dir, "w\0x")
		fails("IO", "a missing directory", ctx.save_for_exporter, ctx, dir .. "/missing", "w")
		local _, msg = ctx:save_for_exporter(dir, "a/b")
		check(msg:find('"a/b"', 1, true) ~= nil, "the message names the name: " .. tostring(msg))
		_, msg = ctx:save_for_exporter(dir .. "/missing", "w")
		check(msg:find(dir .. "/missing/w.cxms", 1, true) ~= nil,
			"the message names the file: " .. tostring(msg))
		eq(listing(), before, "failures write nothing")
		raises("string expected", "save_for_exporter(nil)", ctx.save_for_exporter, ctx)
		raises("string expected", "save_for_exporter(dir, {})", ctx.save_for_exporter, ctx, dir, {})
		raises("string expected", "save_for_exporter(dir, false)", ctx.save_for_exporter, ctx, dir, false)
		local closed = fixed_ctx(snapcfg())
		closed:close()
		raises("closed cxm context", "save_for_exporter on a closed context", closed.save_for_exporter,
			closed, dir)
	end)
	for name in listing():gmatch("%S+") do os.remove(dir .. "/" .. name) end
	eq(listing(), "", "the test's files removed")
	check(os.remove(dir), "the test's directory removed")
	if not ok then error(err, 0) end
end

------------------------------------------------------------------------------
-- exposition
------------------------------------------------------------------------------
do
	local m = model(snapcfg())
	traffic(m, 1, 120)
	local text, ctype = m.ctx:export()
	eq(type(text), "string", "export gives text")
	eq(text:sub(-6), "# EOF\n", "OpenMetrics text ends with # EOF")
	eq(ctype, "application/openmetrics-text; version=1.0.0; charset=utf-8", "OpenMetrics content type")
	eq(m.ctx:export{}, text, "an empty options table is the default")
	eq(m.ctx:export{format = "openmetrics"}, text, "format openmetrics")
	local prom, ptype = m.ctx:export{format = "prometheus"}
	eq(ptype, "text/plain; version=0.0.4; charset=utf-8", "Prometheus content type")
	check(not prom:find("# EOF", 1, true), "Prometheus text has no # EOF")
	eq(m.ctx:export{format = 1}, prom, "format by number")
	eq(prom:match("\ncxm_interactions_accepted_total (%d+)\n"), "120", "accepted in the text")
	check(prom:find('cxm_rate_outcomes_total{metric="resolved",touchpoint="ivr",channel="phone",' ..
		'journey="support case",step="contact",outcome="yes"} 18', 1, true) ~= nil,
		"a rate outcome counter")

	local labelled = m.ctx:export{format = "prometheus", labels = {worker = "3", host = "a"}}
	check(labelled:find('\ncxm_interactions_accepted_total{host="a",worker="3"} 120\n', 1, true) ~= nil,
		"constant labels first, sorted by name")
	check(prom:find("segment_value=", 1, true) ~= nil, "series per segment value by default")
	local noseg = m.ctx:export{format = "prometheus", segments = false}
	check(noseg:find("segment_value=", 1, true) == nil, "segments = false leaves them out")
	eq(m.ctx:export{format = "prometheus", segments = true}, prom, "segments = true is the default")
	check(prom:find("cxm_score_answers_total{", 1, true) ~= nil, "answers per point by default")
	local nopoints = m.ctx:export{format = "prometheus", points = false}
	check(nopoints:find("cxm_score_answers", 1, true) == nil, "points = false leaves them out")
	check(nopoints:find("cxm_score_top_box_total{", 1, true) ~= nil, "but keeps the boxes")
	eq(m.ctx:export{format = "prometheus", points = true}, prom, "points = true is the default")
	check(prom:find('le="30"', 1, true) ~= nil, "default buckets")
	local b = m.ctx:export{format = "prometheus", buckets = {1, 10, 100.5}}
	check(b:find('le="100.5"', 1, true) ~= nil and b:find('le="30"', 1, true) == nil,
		"buckets")

	-- failures the binding finds
	fails("INVALID", "unknown option", m.ctx.export, m.ctx, {formats = "prometheus"})
	fails("INVALID", "unknown format", m.ctx.export, m.ctx, {format = "json"})
	fails("INVALID", "format of another type", m.ctx.export, m.ctx, {format = true})
	fails("INVALID", "segments not a boolean", m.ctx.export, m.ctx, {segments = "no"})
	fails("INVALID", "points not a boolean", m.ctx.export, m.ctx, {points = 0})
	fails("INVALID", "buckets not a table", m.ctx.export, m.ctx, {buckets = 5})
	fails("INVALID", "no buckets", m.ctx.export, m.ctx, {buckets = {}})
	fails("INVALID", "a bucket not a number", m.ctx.export, m.ctx, {buckets = {1, "2"}})
	local many = {}
	for i = 1, 65 do many[i] = i end
	fails("OUT_OF_RANGE", "65 buckets", m.ctx.export, m.ctx, {buckets = many})
	fails("INVALID", "labels not a table", m.ctx.export, m.ctx, {labels = "worker"})
	fails("INVALID", "a label without a name", m.ctx.export, m.ctx, {labels = {"a"}})
	fails("INVALID", "a label value not a string", m.ctx.export, m.ctx, {labels = {worker = 3}})
	fails("ENCODING", "a label value with a NUL", m.ctx.export, m.ctx, {labels = {worker = "a\0b"}})
	fails("ENCODING", "a label name with a NUL", m.ctx.export, m.ctx, {labels = {["a\0b"] = "x"}})
	local nine = {}
	for i = 1, 9 do nine["l" .. i] = "v" end
	fails("OUT_OF_RANGE", "9 labels", m.ctx.export, m.ctx, {labels = nine})
	-- failures libcxm finds
	fails("OUT_OF_RANGE", "buckets not increasing", m.ctx.export, m.ctx, {buckets = {2, 1}})
	fails("OUT_OF_RANGE", "a negative bucket", m.ctx.export, m.ctx, {buckets = {-1}})
	fails("NOT_FINITE", "a NaN bucket", m.ctx.export, m.ctx, {buckets = {1, 0 / 0}})
	fails("NOT_FINITE", "an infinite bucket", m.ctx.export, m.ctx, {buckets = {1, 1 / 0}})
	fails("INVALID", "a label the exposition sets", m.ctx.export, m.ctx, {labels = {metric = "x"}})
	fails("INVALID", "a malformed label name", m.ctx.export, m.ctx, {labels = {["1x"] = "x"}})
	fails("INVALID", "a reserved label name", m.ctx.export, m.ctx, {labels = {__x = "x"}})
	fails("ENCODING", "an empty label value", m.ctx.export, m.ctx, {labels = {worker = ""}})
	fails("ENCODING", "a label value not UTF-8", m.ctx.export, m.ctx, {labels = {worker = "\255"}})
	fails("TOO_LONG", "a label value too long", m.ctx.export, m.ctx,
		{labels = {worker = string.rep("w", 5000)}})
	-- programming errors raise
	raises("table expected", "export(string)", m.ctx.export, m.ctx, "prometheus")
	local closed = cxm.new()
	closed:close()
	raises("closed cxm context", "export of a closed context", closed.export, closed)

	-- a long text, which libcxm hands over in pieces of 8 to 16 KiB
	local big = fixed_ctx()
	assert(big:metric_define("calls", "volume"))
	for i = 1, 600 do
		local tp = assert(big:touchpoint_define("touchpoint " .. i, "phone"))
		assert(big:feed{time = T0, touchpoint = tp})
	end
	local long = assert(big:export{format = "prometheus"})
	check(#long > 2 * 16384, "a text of several pieces: " .. #long)
	eq(select(2, long:gsub("\ncxm_volume_total{", "")), 600, "every series in it")
	check(long:find('\ncxm_volume_total{metric="calls",touchpoint="touchpoint 600",channel="phone"} 1\n',
		1, true) ~= nil, "the last series whole")
	eq(big:export{format = "prometheus"}, long, "the same text again")
end

------------------------------------------------------------------------------
-- journeys: options, funnels, sweep, churn
------------------------------------------------------------------------------
local S = 1000

-- The world of tests/test_journeys.c: buy = browse, cart, checkout, pay
-- (browse on the web or in chat), support = contact, resolved, and a
-- standalone newsletter; a customer table for 1000.
local function jworld(cfg)
	cfg = cfg or {}
	cfg.max_customers = cfg.max_customers or 1000
	local ctx = fixed_ctx(cfg)
	local w = {ctx = ctx}
	w.buy = assert(ctx:journey_define("buy", {"browse", "cart", "checkout", "pay"}))
	w.support = assert(ctx:journey_define("support", {"contact", "resolved"}))
	w.browse = assert(ctx:touchpoint_define("web browse", "web", w.buy, "browse"))
	w.browse_app = assert(ctx:touchpoint_define("chat browse", "chat", w.buy, 0))
	w.cart = assert(ctx:touchpoint_define("cart", "web", w.buy, "cart"))
	w.checkout = assert(ctx:touchpoint_define("checkout", "web", w.buy, "checkout"))
	w.pay = assert(ctx:touchpoint_define("pay", "web", w.buy, "pay"))
	w.call = assert(ctx:touchpoint_define("call", "phone", w.support, "contact"))
	w.fixed = assert(ctx:touchpoint_define("fixed", "phone", w.support, "resolved"))
	w.alone = assert(ctx:touchpoint_define("newsletter", "email"))
	w.tier = assert(ctx:segment_define("tier", 4))
	w.gold = assert(ctx:segment_value(w.tier, "gold"))
	w.silver = assert(ctx:segment_value(w.tier, "silver"))
	w.uniq = assert(ctx:metric_define("customers", "distinct"))
	w.volume = assert(ctx:metric_define("contacts", "volume"))
	w.touch = function(tp, t, id, seg)
		return ctx:feed{time = t, touchpoint = tp, customer = id,
			segments = seg and {[w.tier] = seg} or nil}
	end
	return w
end

-- docs/journeys.md's sequence: E1 0 s browse, E2 10 s cart, E3 10 s
-- checkout, E4 15 s browse, E5 5 s cart (late), E6 30 s pay, E7 40 s browse.
local function sample(w)
	local base = T0 - HOUR
	for _, e in ipairs{{w.browse, 0}, {w.cart, 10}, {w.checkout, 10}, {w.browse, 15},
		{w.cart, 5}, {w.pay, 30}, {w.browse, 40}} do
		assert(w.touch(e[1], base + e[2] * S, "ann"))
	end
end

-- The funnel f against the expected counts and median times (nil: no sample).
local function check_funnel(f, x, mode)
	for _, k in ipairs{"entered", "completed", "broken", "displaced", "expired", "repeats",
		"abandoned"} do
		eq(f[k], x[k] or 0, mode .. ": " .. k)
	end
	eq(f.n_steps, 4, mode .. ": n_steps")
	eq(#f.steps, 4, mode .. ": a table per step")
	for k = 1, 4 do
		local s = f.steps[k]
		eq(s.step, k - 1, mode .. ": steps[" .. k .. "].step is the C step id")
		eq(s.reached, x.reached[k], mode .. ": steps[" .. k .. "].reached")
		near(s.conversion, x.reached[k] / x.entered, 1e-12, mode .. ": step conversion")
		local before = k == 1 and x.entered or x.reached[k - 1]
		if before == 0 then -- no one reached the step before: no rate
			check(isnan(s.step_conversion) and isnan(s.drop_off), mode .. ": NaN rates")
		else
			near(s.step_conversion, x.reached[k] / before, 1e-12, mode .. ": step_conversion")
			near(s.drop_off, 1 - x.reached[k] / before, 1e-12, mode .. ": drop_off")
		end
	end
	for k = 1, 3 do
		local s, want = f.steps[k], x.next[k]
		if want then
			check(s.next_n > 0, mode .. ": step " .. k .. " has next-step times")
			near(s.next_p50, want, 0.05 * want, mode .. ": step " .. k .. " next_p50")
			check(s.next_p90 >= s.next_p50, mode .. ": next_p90 >= next_p50")
		else
			eq(s.next_n, 0, mode .. ": step " .. k .. " has no next-step time")
			check(isnan(s.next_p50) and isnan(s.next_mean), mode .. ": NaN without samples")
		end
	end
	check(isnan(f.steps[4].next_p50), mode .. ": the goal has no next step")
	if x.goal then
		eq(f.goal_n, 1, mode .. ": goal_n")
		near(f.goal_p50, x.goal, 0.05 * x.goal, mode .. ": goal_p50")
		near(f.goal_mean, x.goal, 1e-9, mode .. ": goal_mean is exact")
	else
		eq(f.goal_n, 0, mode .. ": goal_n")
		check(isnan(f.goal_p50) and isnan(f.goal_p90), mode .. ": no time to the goal")
	end
	near(f.conversion, (x.completed or 0) / x.entered, 1e-12, mode .. ": conversion")
	near(f.repeat_rate, (x.repeats or 0) / x.entered, 1e-12, mode .. ": repeat_rate")
	check(f.quantile_start_ms <= f.start_ms and f.quantile_end_ms >= f.end_ms,
		mode .. ": quantile interval covers the window")
end

-- every mode of docs/journeys.md's table, flags given as booleans or as names
do
	local modes = {
		{"default", {}, {entered = 2, reached = {2, 1, 1, 1}, completed = 1, repeats = 1,
			next = {10, 0, 20}, goal = 30}},
		{"strict", {strict = true}, {entered = 3, reached = {3, 2, 1, 0}, broken = 2,
			repeats = 2, next = {0, 0}}},
		{"count repeats", {flags = {"count_repeats"}}, {entered = 2, reached = {3, 2, 1, 1},
			completed = 1, repeats = 1, next = {10, 0, 20}, goal = 30}},
		{"equal times hold", {flags = "equal_times_hold"}, {entered = 2,
			reached = {2, 1, 1, 1}, completed = 1, repeats = 1, next = {10, 20}, goal = 30}},
		{"restart", {restart = true, flags = {"restart"}}, {entered = 3,
			reached = {3, 2, 2, 1}, completed = 1, displaced = 1, repeats = 2, next = {0, 0},
			goal = 15}},
		{"inclusive window", {conversion_ms = 30 * S}, {entered = 2, reached = {2, 1, 1, 1},
			completed = 1, repeats = 1, next = {10, 0, 20}, goal = 30}},
		{"exclusive window", {window_exclusive = true, conversion_ms = 30 * S}, {entered = 2,
			reached = {2, 1, 1, 0}, expired = 1, repeats = 1, next = {10, 0}}},
	}
	for _, m in ipairs(modes) do
		local w = jworld()
		eq(w.ctx:journey_set_options(w.buy, m[2]), true, m[1] .. ": set_options")
		sample(w)
		local f = assert(w.ctx:funnel{journey = w.buy, span_ms = DAY})
		check_funnel(f, m[3], m[1])
		eq(f.low_sample, true, m[1] .. ": fewer entered than min_samples")
		eq(f.empty, false, m[1] .. ": not empty")
		w.ctx:close()
	end
end

-- the windowFunnel modes on docs/journeys.md's second sequence
do
	local function sample2(w)
		local at = {{w.browse, 0}, {w.cart, 10}, {w.browse, 15}, {w.cart, 20}, {w.pay, 30},
			{w.checkout, 40}, {w.alone, 50}, {w.pay, 60}}
		for _, e in ipairs(at) do assert(w.touch(e[1], T0 - HOUR + e[2] * S, "eve")) end
	end
	local modes = {
		{"strict_order", {strict_order = true}, {entered = 1, reached = {1, 1, 0, 0},
			broken = 1, next = {10}}},
		{"allow_reentry", {flags = {"strict_order", "allow_reentry"}}, {entered = 1,
			reached = {1, 1, 1, 0}, broken = 1, next = {10, 30}}},
		{"strict_dedup", {strict_dedup = true}, {entered = 1, reached = {1, 1, 0, 0},
			broken = 1, next = {10}}},
	}
	for _, m in ipairs(modes) do
		local w = jworld()
		eq(w.ctx:journey_set_options(w.buy, m[2]), true, m[1] .. ": set_options")
		sample2(w)
		local f = assert(w.ctx:funnel{journey = w.buy, span_ms = DAY})
		check_funnel(f, m[3], m[1])
		local o = assert(w.ctx:journey_get_options(w.buy))
		eq(o[m[1]], true, m[1] .. ": read back")
		w.ctx:close()
	end
	local w = jworld()
	fails("INVALID", "allow_reentry without strict_order", w.ctx.journey_set_options, w.ctx,
		w.buy, {allow_reentry = true})
	fails("INVALID", "strict_dedup with count_repeats", w.ctx.journey_set_options, w.ctx,
		w.buy, {strict_dedup = true, count_repeats = true})
	w.ctx:close()
end

-- options: defaults, round trip, every failure, state unchanged by them
do
	local d = assert(cxm.journey_options())
	for _, k in ipairs{"strict", "count_repeats", "equal_times_hold", "restart", "window_exclusive",
			"strict_order", "allow_reentry", "strict_dedup"} do
		eq(d[k], false, "journey_options(): " .. k)
	end
	eq(#d.flags, 0, "journey_options(): no flag names")
	for _, k in ipairs{"conversion_ms", "abandon_ms", "lateness_ms", "repeat_ms"} do
		eq(d[k], 0, "journey_options(): " .. k .. " 0, the default")
	end

	local w = jworld()
	local ctx = w.ctx
	local o = assert(ctx:journey_get_options(w.buy))
	eq(o.conversion_ms, 7 * DAY, "default conversion window")
	eq(o.abandon_ms, 7 * DAY, "default abandonment timeout: the conversion window")
	eq(o.lateness_ms, 2 * HOUR, "default lateness: the finest tier's reach")
	eq(o.repeat_ms, 7 * DAY, "default repeat window")
	eq(o.strict, false, "default: not strict")
	eq(ctx:journey_set_options(w.buy, d), true, "set the defaults as journey_options() gives them")
	eq(ctx:journey_set_options(w.buy, {strict = true, flags = {"restart", "window_exclusive"},
		conversion_ms = 2 * DAY, abandon_ms = HOUR, lateness_ms = 5 * S, repeat_ms = 3 * DAY}),
		true, "set options")
	o = assert(ctx:journey_get_options(w.buy))
	eq(o.strict and o.restart and o.window_exclusive, true, "flags set")
	eq(o.count_repeats or o.equal_times_hold, false, "other flags clear")
	eq(table.concat(o.flags, ","), "strict,restart,window_exclusive", "flag names in bit order")
	eq(o.conversion_ms, 2 * DAY, "conversion_ms")
	eq(o.abandon_ms, HOUR, "abandon_ms")
	eq(o.lateness_ms, 5 * S, "lateness_ms")
	eq(o.repeat_ms, 3 * DAY, "repeat_ms")
	eq(ctx:journey_set_options(w.buy, o), true, "what get gives, set takes")
	local o2 = assert(ctx:journey_get_options(w.buy))
	for k, v in pairs(o) do
		if k ~= "flags" then eq(o2[k], v, "round trip: " .. k) end
	end
	eq(table.concat(o2.flags, ","), table.concat(o.flags, ","), "round trip: flags")
	eq(assert(ctx:journey_get_options(w.support)).strict, false, "other journeys keep theirs")

	-- libcxm's failures
	fails("UNKNOWN_ID", "set_options of journey 77", ctx.journey_set_options, ctx, 77, {})
	fails("UNKNOWN_ID", "get_options of journey 77", ctx.journey_get_options, ctx, 77)
	fails("OUT_OF_RANGE", "a conversion window of 401 days", ctx.journey_set_options, ctx, w.buy,
		{conversion_ms = 401 * DAY})
	fails("OUT_OF_RANGE", "a negative conversion window", ctx.journey_set_options, ctx, w.buy,
		{conversion_ms = -5})
	fails("OUT_OF_RANGE", "an abandonment timeout of 999 ms", ctx.journey_set_options, ctx, w.buy,
		{abandon_ms = 999})
	fails("OUT_OF_RANGE", "a repeat window of 500 days", ctx.journey_set_options, ctx, w.buy,
		{repeat_ms = 500 * DAY})
	-- the binding's
	fails("INVALID", "an unknown option", ctx.journey_set_options, ctx, w.buy, {strictly = true})
	fails("INVALID", "option names are strings", ctx.journey_set_options, ctx, w.buy, {true})
	fails("INVALID", "a flag that is not a boolean", ctx.journey_set_options, ctx, w.buy,
		{strict = "yes"})
	fails("INVALID", "an unknown flag name", ctx.journey_set_options, ctx, w.buy, {flags = {"lax"}})
	fails("INVALID", "an unknown flag as a string", ctx.journey_set_options, ctx, w.buy,
		{flags = "lax"})
	fails("INVALID", "a flag name that is not a string", ctx.journey_set_options, ctx, w.buy,
		{flags = {1}})
	fails("INVALID", "flags as a number", ctx.journey_set_options, ctx, w.buy, {flags = 3})
	fails("INVALID", "a flag named and false", ctx.journey_set_options, ctx, w.buy,
		{flags = {"strict"}, strict = false})
	fails("INVALID", "a fractional duration", ctx.journey_set_options, ctx, w.buy,
		{abandon_ms = 1500.5})
	fails("NOT_FINITE", "a NaN duration", ctx.journey_set_options, ctx, w.buy,
		{abandon_ms = 0 / 0})
	fails("INVALID", "a duration of the wrong type", ctx.journey_set_options, ctx, w.buy,
		{lateness_ms = "1h"})
	fails("OUT_OF_RANGE", "a negative journey id", ctx.journey_set_options, ctx, -1, {})
	fails("INVALID", "a fractional journey id", ctx.journey_get_options, ctx, 0.5)
	local after = assert(ctx:journey_get_options(w.buy))
	for k, v in pairs(o) do
		if k ~= "flags" then eq(after[k], v, "failures changed nothing: " .. k) end
	end
	-- programming errors raise
	raises("number expected", "set_options(name)", ctx.journey_set_options, ctx, "buy", {})
	raises("table expected", "set_options without options", ctx.journey_set_options, ctx, w.buy)
	raises("number expected", "get_options(nil)", ctx.journey_get_options, ctx)
	ctx:close()
	raises("closed cxm context", "set_options on a closed context", ctx.journey_set_options,
		ctx, 0, {})
	raises("closed cxm context", "get_options on a closed context", ctx.journey_get_options, ctx, 0)
end

-- abandonment, the sweep, breakdowns by channel and segment, quantiles
do
	local w = jworld()
	local ctx = w.ctx
	assert(ctx:journey_set_options(w.buy, {abandon_ms = 10 * MIN}))
	assert(w.touch(w.browse, T0 - 60 * MIN, "bob"))      -- stops after cart
	assert(w.touch(w.cart, T0 - 55 * MIN, "bob"))
	assert(w.touch(w.browse_app, T0 - 50 * MIN, "carl")) -- back after 45 min
	assert(w.touch(w.cart, T0 - 5 * MIN, "carl"))
	local q = {journey = w.buy, span_ms = DAY}
	local f = assert(ctx:funnel(q))
	eq(f.entered, 2, "abandonment: entered")
	eq(f.abandoned, 1, "carl's abandonment noticed on his return")
	eq(f.steps[2].reached, 1, "carl's cart is no progress")
	eq(ctx:journey_sweep(T0 - 46 * MIN), 0, "sweep before bob's deadline")
	eq(ctx:journey_sweep(), 1, "sweep now ends bob's instance")
	eq(ctx:journey_sweep(), 0, "once")
	eq(assert(ctx:funnel(q)).abandoned, 2, "both abandoned")
	f = assert(ctx:funnel{journey = w.buy, span_ms = DAY, channel = "chat"})
	eq(f.entered, 1, "chat: entered")
	eq(f.abandoned, 1, "chat: abandoned")
	eq(f.steps[2].reached, 0, "chat: cart")
	f = assert(ctx:funnel{journey = w.buy, span_ms = DAY, channel = 4}) -- web, by number
	eq(f.entered, 1, "web: entered")
	eq(f.steps[2].reached, 1, "web: cart")
	f = assert(ctx:funnel{journey = w.buy, span_ms = 30 * MIN})
	eq(f.entered, 0, "last 30 min: nothing entered")
	eq(f.abandoned, 0, "counted when it happened")
	eq(f.empty, true, "empty")
	check(isnan(f.conversion), "conversion of nothing is NaN")
	f = assert(ctx:funnel{journey = w.buy, span_ms = HOUR, end_ms = T0 - 30 * MIN})
	eq(f.end_ms - f.start_ms, HOUR, "end_ms and span_ms reach libcxm")
	eq(f.entered, 2, "an hour ending 30 min ago")

	-- segments: dave (gold) gets to cart, erin (silver) only browses
	local v = jworld()
	assert(v.touch(v.browse, T0 - 30 * MIN, "dave", v.gold))
	assert(v.touch(v.cart, T0 - 29 * MIN, "dave", v.gold))
	assert(v.touch(v.browse, T0 - 28 * MIN, "erin", v.silver))
	local gq = {journey = v.buy, span_ms = DAY, segment = v.tier, segment_value = v.gold}
	f = assert(v.ctx:funnel(gq))
	eq(f.entered, 1, "gold: entered")
	eq(f.steps[2].reached, 1, "gold: cart")
	gq.segment_value = v.silver
	f = assert(v.ctx:funnel(gq))
	eq(f.entered, 1, "silver: entered")
	eq(f.steps[2].reached, 0, "silver: cart")
	eq(f.steps[2].drop_off, 1, "silver: all dropped off")
	-- quantiles of browse -> cart (60 s), by id and by name; to the goal: none
	local bq = {journey = v.buy, span_ms = DAY}
	local qs = assert(v.ctx:funnel_quantiles(bq, {0.5, 1}, 0))
	eq(#qs, 2, "two quantiles")
	near(qs[1], 60, 3, "browse -> cart median")
	near(qs[2], 60, 3, "browse -> cart max")
	near(assert(v.ctx:funnel_quantiles(bq, {0.5}, "browse"))[1], 60, 3, "the step by name")
	check(isnan(assert(v.ctx:funnel_quantiles(bq, {0.5}))[1]), "nobody reached the goal: NaN")
	check(isnan(assert(v.ctx:funnel_quantiles(bq, {0.5}, nil))[1]), "nil step: the goal")
	near(assert(v.ctx:funnel_quantiles({journey = v.buy, span_ms = DAY, segment = v.tier,
		segment_value = v.gold}, {0.5}, 0))[1], 60, 3, "quantiles of one segment value")

	-- out tables are refilled, their step lists too
	local out = {}
	local r = assert(v.ctx:funnel(bq, out))
	check(rawequal(r, out), "funnel fills out")
	local s2 = out.steps[2]
	assert(v.ctx:funnel(bq, out))
	check(rawequal(out.steps[2], s2), "the step tables are reused")
	assert(v.ctx:funnel({journey = v.support, span_ms = DAY}, out))
	eq(#out.steps, 2, "a shorter journey's funnel leaves no stale steps")
	eq(out.n_steps, 2, "n_steps of support")

	-- failures of funnel and funnel_quantiles, libcxm's then the binding's
	fails("UNKNOWN_ID", "funnel of journey 77", v.ctx.funnel, v.ctx, {journey = 77, span_ms = DAY})
	fails("INVALID", "channel 9", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = DAY, channel = 9})
	fails("INVALID", "a channel and a segment", v.ctx.funnel, v.ctx, {journey = v.buy,
		span_ms = DAY, channel = "web", segment = v.tier, segment_value = v.gold})
	fails("UNKNOWN_ID", "segment value 3", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = DAY,
		segment = v.tier, segment_value = 3})
	fails("UNKNOWN_ID", "segment 5", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = DAY,
		segment = 5, segment_value = 0})
	fails("OUT_OF_RANGE", "span_ms 0", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = 0})
	fails("OUT_OF_RANGE", "end_ms -3", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = DAY,
		end_ms = -3})
	fails("INVALID", "a funnel query without journey", v.ctx.funnel, v.ctx, {span_ms = DAY})
	fails("INVALID", "a funnel query without span", v.ctx.funnel, v.ctx, {journey = v.buy})
	fails("INVALID", "an unknown funnel query field", v.ctx.funnel, v.ctx, {journey = v.buy,
		span_ms = DAY, metric = 0})
	fails("INVALID", "a segment without its value", v.ctx.funnel, v.ctx, {journey = v.buy,
		span_ms = DAY, segment = v.tier})
	fails("INVALID", "an unknown channel name", v.ctx.funnel, v.ctx, {journey = v.buy,
		span_ms = DAY, channel = "fax"})
	fails("OUT_OF_RANGE", "a negative segment value", v.ctx.funnel, v.ctx, {journey = v.buy,
		span_ms = DAY, segment = v.tier, segment_value = -1})
	fails("INVALID", "a fractional span", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = 1.5})
	fails("NOT_FINITE", "a NaN end", v.ctx.funnel, v.ctx, {journey = v.buy, span_ms = DAY,
		end_ms = 0 / 0})
	fails("UNKNOWN_ID", "quantiles of step 4", v.ctx.funnel_quantiles, v.ctx, bq, {0.5}, 4)
	fails("OUT_OF_RANGE", "quantiles of the last step", v.ctx.funnel_quantiles, v.ctx, bq, {0.5}, 3)
	fails("UNKNOWN_ID", "quantiles of an unknown step name", v.ctx.funnel_quantiles, v.ctx, bq,
		{0.5}, "refund")
	fails("INVALID", "no quantiles", v.ctx.funnel_quantiles, v.ctx, bq, {}, 0)
	fails("NOT_FINITE", "a NaN quantile", v.ctx.funnel_quantiles, v.ctx, bq, {0 / 0}, 0)
	fails("OUT_OF_RANGE", "quantile 1.5", v.ctx.funnel_quantiles, v.ctx, bq, {1.5}, 0)
	fails("UNKNOWN_ID", "quantiles of journey 77", v.ctx.funnel_quantiles, v.ctx,
		{journey = 77, span_ms = DAY}, {0.5})
	local many = {}
	for i = 1, 65 do many[i] = i / 65 end
	fails("INVALID", "65 quantiles", v.ctx.funnel_quantiles, v.ctx, bq, many, 0)
	fails("INVALID", "a quantile that is not a number", v.ctx.funnel_quantiles, v.ctx, bq, {"p50"}, 0)
	fails("INVALID", "a fractional step", v.ctx.funnel_quantiles, v.ctx, bq, {0.5}, 0.5)
	fails("OUT_OF_RANGE", "a negative step", v.ctx.funnel_quantiles, v.ctx, bq, {0.5}, -1)
	fails("INVALID", "quantiles of a query without span", v.ctx.funnel_quantiles, v.ctx,
		{journey = v.buy}, {0.5})
	-- sweep failures
	fails("OUT_OF_RANGE", "sweep at -2", v.ctx.journey_sweep, v.ctx, -2)
	fails("NOT_FINITE", "sweep at NaN", v.ctx.journey_sweep, v.ctx, 0 / 0)
	fails("INVALID", "sweep at a fraction", v.ctx.journey_sweep, v.ctx, 1.5)
	-- programming errors raise
	raises("table expected", "funnel(journey id)", v.ctx.funnel, v.ctx, v.buy)
	raises("table expected", "funnel with a string out", v.ctx.funnel, v.ctx, bq, "out")
	raises("table expected", "funnel_quantiles without quantiles", v.ctx.funnel_quantiles,
		v.ctx, bq, 0.5)
	raises("table expected", "funnel_quantiles without a query", v.ctx.funnel_quantiles,
		v.ctx, nil, {0.5})
	raises("step id or name expected", "a step that is a table", v.ctx.funnel_quantiles,
		v.ctx, bq, {0.5}, {})
	raises("number expected", "sweep at a string", v.ctx.journey_sweep, v.ctx, "now")
	v.ctx:close()
	raises("closed cxm context", "funnel on a closed context", v.ctx.funnel, v.ctx, bq)
	raises("closed cxm context", "funnel_quantiles on a closed context", v.ctx.funnel_quantiles,
		v.ctx, bq, {0.5})
	raises("closed cxm context", "sweep on a closed context", v.ctx.journey_sweep, v.ctx)
	ctx:close()
end

-- a journey longer than the binding's 32 steps on the C stack, and one
-- too long to be tracked (more than 255 steps)
do
	local ctx = fixed_ctx{max_steps = 300, max_customers = 1000}
	local names = {}
	for i = 1, 256 do names[i] = "s" .. i end
	local long = {}
	for i = 1, 40 do long[i] = names[i] end
	local j40 = assert(ctx:journey_define("forty", long))
	local j256 = assert(ctx:journey_define("too long", names))
	local first = assert(ctx:touchpoint_define("first", "web", j40, 0))
	local mid = assert(ctx:touchpoint_define("middle", "web", j40, 19))
	local last = assert(ctx:touchpoint_define("last", "web", j40, 39))
	local start = assert(ctx:touchpoint_define("start", "web", j256, 0))
	assert(ctx:feed{time = T0 - 10 * MIN, touchpoint = first, customer = "pat"})
	assert(ctx:feed{time = T0 - 9 * MIN, touchpoint = mid, customer = "pat"})
	assert(ctx:feed{time = T0 - 5 * MIN, touchpoint = last, customer = "pat"})
	local f = assert(ctx:funnel{journey = j40, span_ms = DAY})
	eq(f.n_steps, 40, "40 steps")
	eq(#f.steps, 40, "40 step tables")
	eq(f.steps[40].step, 39, "the last step's id")
	eq(f.steps[40].reached, 1, "the goal reached")
	eq(f.steps[25].reached, 1, "skipped steps count as reached")
	eq(f.completed, 1, "completed")
	near(f.goal_p50, 300, 15, "5 min to the goal")
	near(f.steps[1].next_p50, 60, 3, "1 min from step 0 to the next reached")
	eq(f.steps[2].next_n, 0, "no time from a skipped step")
	near(f.steps[20].next_p50, 240, 12, "4 min from step 19 to the goal")
	near(assert(ctx:funnel_quantiles({journey = j40, span_ms = DAY}, {0.5}, "s20"))[1], 240, 12,
		"quantiles of a step by name on a long journey")
	local fc = assert(ctx:funnel{journey = j40, span_ms = DAY, cohort = true})
	eq(fc.n_steps, 40, "cohorts: 40 steps")
	eq(fc.steps[40].reached, 1, "cohorts: the goal reached")
	eq(fc.completed, 1, "cohorts: completed")
	near(fc.goal_mean, 300, 1e-9, "cohorts: 5 min to the goal, exact")
	check(isnan(fc.goal_p50), "cohorts: no goal quantiles")
	assert(ctx:feed{time = T0 - MIN, touchpoint = start, customer = "quinn"})
	eq(assert(ctx:stats()).accepted, 4, "an untracked journey's interactions feed as usual")
	fails("LIMIT", "funnel of an untracked journey", ctx.funnel, ctx, {journey = j256, span_ms = DAY})
	fails("LIMIT", "cohorts of an untracked journey", ctx.funnel, ctx, {journey = j256,
		span_ms = DAY, cohort = true})
	fails("LIMIT", "options of an untracked journey", ctx.journey_set_options, ctx, j256, {})
	ctx:close()
end

-- entry cohorts (cohort = true: cxm_funnel_cohort_run), the hand-worked
-- sequence of tests/test_cohorts.c: ann and bob enter in hour A, cid in
-- hour B; ann pays 10 days after her entry
do
	-- the counts and exact means of two funnels, field by field
	local function same_counts(x, y, what)
		for _, k in ipairs{"n_steps", "entered", "completed", "abandoned", "expired",
			"broken", "displaced", "repeats", "goal_n"} do
			eq(x[k], y[k], what .. ": " .. k)
		end
		if y.goal_n > 0 then
			near(x.goal_mean, y.goal_mean, 1e-9 * y.goal_mean, what .. ": goal_mean")
		end
		for k = 1, y.n_steps do
			local s, t = x.steps[k], y.steps[k]
			local sk = what .. ": steps[" .. k .. "]."
			eq(s.reached, t.reached, sk .. "reached")
			eq(s.next_n, t.next_n, sk .. "next_n")
			if t.next_n > 0 then
				near(s.next_mean, t.next_mean, 1e-9 * t.next_mean, sk .. "next_mean")
			end
		end
	end
	-- a cohort funnel keeps no quantiles
	local function no_quantiles(f, what)
		check(isnan(f.goal_p50) and isnan(f.goal_p90), what .. ": goal quantiles NaN")
		for k = 1, f.n_steps do
			check(isnan(f.steps[k].next_p50) and isnan(f.steps[k].next_p90),
				what .. ": steps[" .. k .. "] quantiles NaN")
		end
	end

	local w = jworld()
	local ctx = w.ctx
	assert(ctx:journey_set_options(w.buy, {conversion_ms = 30 * DAY, abandon_ms = 30 * DAY}))
	local D = T0 - T0 % DAY - 12 * DAY -- a UTC midnight 12 days back: the entry day
	local A, B = D + 10 * HOUR, D + 11 * HOUR
	assert(w.touch(w.browse, A + 5 * MIN, "ann"))
	assert(w.touch(w.browse_app, A + 50 * MIN, "bob")) -- in chat
	assert(w.touch(w.browse, B + MIN, "cid"))
	assert(w.touch(w.pay, A + 5 * MIN + 10 * DAY, "ann"))

	local a = assert(ctx:funnel{journey = w.buy, end_ms = A + HOUR - 1, span_ms = HOUR,
		cohort = true})
	eq(a.start_ms, A, "cohort A: start_ms")
	eq(a.end_ms, A + HOUR, "cohort A: end_ms")
	eq(a.truncated, false, "cohort A: not truncated")
	eq(a.entered, 2, "cohort A: entered")
	eq(a.completed, 1, "cohort A: completed, 10 days after the window")
	eq(a.n_steps, 4, "cohort A: n_steps")
	eq(a.steps[1].reached, 2, "cohort A: browse")
	eq(a.steps[3].reached, 1, "cohort A: checkout, skipped by ann")
	eq(a.steps[4].reached, 1, "cohort A: pay")
	eq(a.conversion, 0.5, "cohort A: conversion")
	eq(a.goal_n, 1, "cohort A: goal_n")
	near(a.goal_mean, 10 * DAY / 1000, 1e-6, "cohort A: goal_mean, 10 days in seconds")
	eq(a.steps[1].next_n, 1, "cohort A: one time from browse")
	near(a.steps[1].next_mean, 10 * DAY / 1000, 1e-6, "cohort A: browse to pay")
	no_quantiles(a, "cohort A")

	local b = assert(ctx:funnel{journey = w.buy, end_ms = B + HOUR - 1, span_ms = HOUR,
		cohort = true})
	eq(b.start_ms, B, "cohort B: start_ms")
	eq(b.entered, 1, "cohort B: entered")
	eq(b.completed, 0, "cohort B: completed")
	eq(b.goal_n, 0, "cohort B: goal_n")
	check(isnan(b.goal_mean), "cohort B: no goal time")

	-- a window inside hours takes the whole hours it touches
	local ab = assert(ctx:funnel{journey = w.buy, end_ms = B + 30 * MIN, span_ms = HOUR,
		cohort = true})
	eq(ab.start_ms, A, "cohorts A and B: start_ms")
	eq(ab.end_ms, B + HOUR, "cohorts A and B: end_ms")
	eq(ab.entered, 3, "cohorts A and B: entered")
	eq(ab.completed, 1, "cohorts A and B: completed")

	-- the entry day by event time: the entries, not ann's later payment
	local dq = {journey = w.buy, end_ms = D + DAY - 1, span_ms = DAY}
	local ev = assert(ctx:funnel(dq))
	eq(ev.start_ms, D, "event time, entry day: start_ms")
	eq(ev.entered, 3, "event time, entry day: entered")
	eq(ev.completed, 0, "event time, entry day: completed")
	dq.cohort = false
	same_counts(assert(ctx:funnel(dq)), ev, "cohort = false is event time")
	dq.cohort = true
	local day = assert(ctx:funnel(dq))
	eq(day.start_ms, D, "cohorts of the entry day: start_ms")
	eq(day.end_ms, D + DAY, "cohorts of the entry day: end_ms")
	eq(day.entered, 3, "cohorts of the entry day: entered")
	eq(day.completed, 1, "cohorts of the entry day: completed")
	-- a calendar bucket's edges select its cohorts exactly (whole-hour offsets)
	local ny0, ny1 = ctx:calendar_bucket("America/New_York", "day", A)
	local nyday = assert(ctx:funnel{journey = w.buy, end_ms = ny1 - 1, span_ms = ny1 - ny0,
		cohort = true})
	eq(nyday.start_ms, ny0, "cohorts of a New York day: start_ms")
	eq(nyday.end_ms, ny1, "cohorts of a New York day: end_ms")
	eq(nyday.entered, 3, "cohorts of a New York day: entered")
	eq(nyday.completed, 1, "cohorts of a New York day: completed")
	local empty = assert(ctx:funnel{journey = w.buy, end_ms = D + 5 * DAY, span_ms = DAY,
		cohort = true})
	eq(empty.entered, 0, "cohorts of a day without entries: entered")
	eq(empty.empty, true, "cohorts of a day without entries: empty")
	check(isnan(empty.conversion), "cohorts of a day without entries: NaN conversion")

	-- breakdowns: chat began bob's instance only
	local chat = assert(ctx:funnel{journey = w.buy, end_ms = A + HOUR - 1, span_ms = HOUR,
		channel = "chat", cohort = true})
	eq(chat.entered, 1, "cohort A in chat: entered")
	eq(chat.completed, 0, "cohort A in chat: completed")

	-- over a window holding every entry and event: the event-time counts
	local all = {journey = w.buy, span_ms = 30 * DAY}
	local e_all = assert(ctx:funnel(all))
	all.cohort = true
	local c_all = assert(ctx:funnel(all))
	eq(c_all.entered, 3, "all cohorts: entered")
	eq(c_all.completed, 1, "all cohorts: completed")
	same_counts(c_all, e_all, "all cohorts and event time")
	no_quantiles(c_all, "all cohorts")
	eq(c_all.quantile_start_ms, c_all.start_ms, "cohorts: quantile_start_ms is start_ms")
	eq(c_all.quantile_end_ms, c_all.end_ms, "cohorts: quantile_end_ms is end_ms")

	-- an out table takes a cohort funnel, then an event-time one
	local out = {}
	check(rawequal(assert(ctx:funnel(all, out)), out), "a cohort funnel fills out")
	eq(out.completed, 1, "out: cohort completed")
	assert(ctx:funnel(dq, out))
	eq(out.completed, 1, "out: the entry day's cohorts")
	all.cohort = nil
	assert(ctx:funnel(all, out))
	eq(out.completed, 1, "out: every event by event time")
	near(out.goal_p50, 10 * DAY / 1000, 0.05 * 10 * DAY / 1000,
		"out: event time has its quantiles")
	dq.cohort = nil
	assert(ctx:funnel(dq, out))
	eq(out.completed, 0, "out: the entry day by event time")

	-- bad input: the binding's, then libcxm's through cohort = true
	local bad = {journey = w.buy, span_ms = DAY, cohort = "yes"}
	fails("INVALID", "cohort = \"yes\"", ctx.funnel, ctx, bad)
	local _, msg = ctx:funnel(bad)
	check(msg:find("cohort: boolean expected, got string", 1, true) ~= nil,
		"cohort = \"yes\": the message names the field: " .. tostring(msg))
	fails("INVALID", "cohort = 1", ctx.funnel, ctx,
		{journey = w.buy, span_ms = DAY, cohort = 1})
	fails("INVALID", "cohort = {}", ctx.funnel, ctx,
		{journey = w.buy, span_ms = DAY, cohort = {}})
	fails("INVALID", "cohort = \"yes\" in funnel_quantiles", ctx.funnel_quantiles, ctx, bad,
		{0.5})
	fails("INVALID", "quantiles of cohorts", ctx.funnel_quantiles, ctx,
		{journey = w.buy, span_ms = DAY, cohort = true}, {0.5})
	eq(#assert(ctx:funnel_quantiles({journey = w.buy, span_ms = DAY, cohort = false},
		{0.5})), 1, "funnel_quantiles with cohort = false")
	fails("UNKNOWN_ID", "cohorts of journey 77", ctx.funnel, ctx,
		{journey = 77, span_ms = DAY, cohort = true})
	fails("OUT_OF_RANGE", "cohorts of span 0", ctx.funnel, ctx,
		{journey = w.buy, span_ms = 0, cohort = true})
	fails("INVALID", "cohorts of a channel and a segment", ctx.funnel, ctx, {journey = w.buy,
		span_ms = DAY, channel = "web", segment = w.tier, segment_value = w.gold,
		cohort = true})
	ctx:close()
	raises("closed cxm context", "cohorts on a closed context", ctx.funnel, ctx,
		{journey = 0, span_ms = DAY, cohort = true})

	-- every mode of docs/journeys.md's sequence: cohorts over the day equal event time
	for _, o in ipairs{{}, {strict = true}, {count_repeats = true}, {equal_times_hold = true},
		{restart = true}, {window_exclusive = true, conversion_ms = 30 * S},
		{strict_order = true}, {strict_order = true, allow_reentry = true},
		{strict_dedup = true}} do
		local v = jworld()
		assert(v.ctx:journey_set_options(v.buy, o))
		sample(v)
		local q = {journey = v.buy, span_ms = DAY}
		local e = assert(v.ctx:funnel(q))
		q.cohort = true
		local flags = assert(v.ctx:journey_get_options(v.buy)).flags
		local what = "cohorts in mode " .. table.concat(flags, ",")
		same_counts(assert(v.ctx:funnel(q)), e, what)
		v.ctx:close()
	end
end

-- churn: marks, the rate over a window, failures
do
	local w = jworld()
	local ctx = w.ctx
	for c = 0, 199 do assert(w.touch(w.alone, T0 - 100 * MIN + c * 100, "c" .. c)) end
	for c = 0, 19 do
		eq(ctx:customer_churn("c" .. c, T0 - 10 * MIN), true, "churn c" .. c)
	end
	fails("EXISTS", "churned twice before being seen again", ctx.customer_churn, ctx, "c0",
		T0 - 9 * MIN)
	assert(w.touch(w.alone, T0 - 8 * MIN, "c0"))
	eq(ctx:customer_churn("c0", T0 - 7 * MIN), true, "churn again after being seen")
	eq(ctx:customer_churn(12345, T0 - 7 * MIN), true, "a number id is its decimal text")
	fails("EXISTS", "the same id as a string", ctx.customer_churn, ctx, "12345", T0 - 7 * MIN)
	local r = assert(ctx:churn_rate{metric = w.uniq, span_ms = 30 * MIN, active_ms = DAY})
	eq(r.churned, 22, "churn events in the window")
	check(r.active > 190 and r.active < 210, "about 200 active before: " .. tostring(r.active))
	near(r.rate, 22 / r.active, 1e-12, "rate = churned / active")
	check(r.end_ms >= T0 and r.end_ms < T0 + MIN, "ends now by default, widened to a bucket")
	eq(r.empty, false, "not empty")
	check(r.active_end_ms >= r.start_ms - HOUR and r.active_end_ms <= r.start_ms + HOUR,
		"the denominator ends at the window's start")
	check(r.active_start_ms < r.active_end_ms, "the denominator's interval")
	r = assert(ctx:churn_rate{metric = w.uniq, end_ms = T0 - 3 * HOUR, span_ms = 30 * MIN,
		active_ms = HOUR})
	eq(r.churned, 0, "no churn then")
	eq(r.empty, true, "nobody active before it")
	check(isnan(r.rate), "rate NaN")
	-- erasure takes the churn mark along
	eq(ctx:customer_forget("c5"), true, "forget c5")
	eq(ctx:customer_churn("c5", T0 - MIN), true, "a forgotten customer churns anew")

	fails("UNKNOWN_ID", "churn rate of metric 99", ctx.churn_rate, ctx,
		{metric = 99, span_ms = HOUR, active_ms = DAY})
	fails("KIND", "churn rate over a VOLUME metric", ctx.churn_rate, ctx,
		{metric = w.volume, span_ms = HOUR, active_ms = DAY})
	fails("OUT_OF_RANGE", "churn rate span 0", ctx.churn_rate, ctx,
		{metric = w.uniq, span_ms = 0, active_ms = DAY})
	fails("OUT_OF_RANGE", "churn rate active 0", ctx.churn_rate, ctx,
		{metric = w.uniq, span_ms = HOUR, active_ms = 0})
	fails("OUT_OF_RANGE", "churn rate end -1", ctx.churn_rate, ctx,
		{metric = w.uniq, span_ms = HOUR, active_ms = DAY, end_ms = -1})
	fails("INVALID", "churn rate without metric", ctx.churn_rate, ctx, {span_ms = HOUR, active_ms = DAY})
	fails("INVALID", "churn rate without span", ctx.churn_rate, ctx, {metric = w.uniq, active_ms = DAY})
	fails("INVALID", "churn rate without active_ms", ctx.churn_rate, ctx, {metric = w.uniq, span_ms = HOUR})
	fails("INVALID", "an unknown churn query field", ctx.churn_rate, ctx,
		{metric = w.uniq, span_ms = HOUR, active_ms = DAY, journey = 0})
	fails("INVALID", "a fractional metric id", ctx.churn_rate, ctx,
		{metric = 0.5, span_ms = HOUR, active_ms = DAY})
	fails("NOT_FINITE", "a NaN active_ms", ctx.churn_rate, ctx,
		{metric = w.uniq, span_ms = HOUR, active_ms = 0 / 0})
	fails("TOO_LONG", "a churned id above the limit", ctx.customer_churn, ctx, ("x"):rep(300), T0)
	fails("INVALID", "an empty churned id", ctx.customer_churn, ctx, "", T0)
	fails("OUT_OF_RANGE", "churn at -1", ctx.customer_churn, ctx, "x", -1)
	fails("TOO_EARLY", "churn a day ahead", ctx.customer_churn, ctx, "x", T0 + DAY)
	fails("TOO_LATE", "churn a day ago", ctx.customer_churn, ctx, "x", T0 - DAY)
	fails("INVALID", "churn at a fraction", ctx.customer_churn, ctx, "x", T0 + 0.5)
	fails("NOT_FINITE", "churn at NaN", ctx.customer_churn, ctx, "x", 0 / 0)
	eq(assert(ctx:churn_rate{metric = w.uniq, span_ms = 30 * MIN, active_ms = DAY}).churned, 23,
		"failures counted nothing")
	raises("string expected", "churn without an id", ctx.customer_churn, ctx, nil, T0)
	raises("number expected", "churn at a string time", ctx.customer_churn, ctx, "x", "now")
	raises("table expected", "churn_rate(metric id)", ctx.churn_rate, ctx, w.uniq)
	ctx:close()
	raises("closed cxm context", "churn on a closed context", ctx.customer_churn, ctx, "x", T0)
	raises("closed cxm context", "churn_rate on a closed context", ctx.churn_rate, ctx, {})
end

------------------------------------------------------------------------------
-- strings that only the call holds: an __index function's fresh results,
-- collected while the binding still needs them (the checks below see a
-- read of freed memory when it gives a wrong answer; run under ASan or
-- valgrind, docs/lua.md, this suite also fails when it happens to give the
-- right one)
------------------------------------------------------------------------------

-- fails(), and the message contains text (plain).
local function fails_with(code, text, what, f, ...)
	local r, msg, c = f(...)
	return check(r == nil and c == code and type(msg) == "string" and msg:find(text, 1, true) ~= nil,
		string.format("%s: expected nil, '…%s…', %s; got %s, %s, %s", what, text, code,
			tostring(r), tostring(msg), tostring(c)))
end

-- f() with the collector at its most eager: after a full collection, the
-- next allocation starts a cycle and runs it to the end.
local function eager_gc(f)
	local pause = collectgarbage("setpause", 0)
	local mul = collectgarbage("setstepmul", 1000000)
	if _VERSION == "Lua 5.4" then collectgarbage("incremental", 0, 1000, 20) end
	local ok, err = pcall(f)
	if _VERSION == "Lua 5.4" then
		collectgarbage("incremental", pause, mul, 13) -- 13: 5.4's default step size
	else
		collectgarbage("setpause", pause)
		collectgarbage("setstepmul", mul)
	end
	assert(ok, err)
end

do -- feed_batch: customer ids from __index functions
	local m = model{max_customers = 5000}
	local ctx = m.ctx
	local N, base = 3000, T0 - HOUR
	local calls = 0
	local fresh = {__index = function(t, k)
		if k == "customer" then
			calls = calls + 1
			-- free the previous interaction's id (nothing else holds it),
			-- and make new strings that may take its memory
			if calls % 10 == 0 then collectgarbage("collect") else collectgarbage("step") end
			local junk = {}
			for j = 1, 4 do junk[j] = "other-" .. (calls + j) end
			return "fresh-" .. rawget(t, "n")
		end
	end}
	local batch = {}
	for i = 1, N do
		batch[i] = setmetatable({time = base + i * 1000, touchpoint = m.ivr, n = i}, fresh)
	end
	local acc, rej = ctx:feed_batch(batch)
	eq(acc, N, "fresh customer ids: every interaction accepted")
	eq(#rej, 0, "fresh customer ids: no rejection")
	eq(calls, N, "the __index function ran once per interaction")
	eq(ctx:stats().customers, N, "fresh customer ids: every customer tracked")
	local wrong = 0
	for i = 1, N do
		if ctx:customer_last_seen("fresh-" .. i) ~= base + i * 1000 then wrong = wrong + 1 end
	end
	eq(wrong, 0, "fresh customer ids: each customer's last_seen is its own interaction's")

	-- numbers from __index too (their decimal text is a new string)
	local numbered = {__index = function(t, k)
		if k == "customer" then
			collectgarbage("step")
			return 700000 + rawget(t, "n")
		end
	end}
	batch = {}
	for i = 1, 200 do
		batch[i] = setmetatable({time = base + i * 1000, touchpoint = m.ivr, n = i}, numbered)
	end
	eq((ctx:feed_batch(batch)), 200, "numeric customer ids from __index")
	wrong = 0
	for i = 1, 200 do
		if ctx:customer_last_seen(tostring(700000 + i)) ~= base + i * 1000 then wrong = wrong + 1 end
	end
	eq(wrong, 0, "numeric customer ids: each customer's last_seen")
end

do -- feed: the customer id comes before segments and measures, whose
	-- __index function collects garbage and reuses memory (a guard: read_ix
	-- keeps the id on the stack until it returns, and feed() calls libcxm
	-- next, so only feed_batch lost ids before they were copied)
	local m = model{max_customers = 5000}
	local ctx = m.ctx
	local base = T0 - HOUR
	for i = 1, 100 do
		local ix = setmetatable({time = base + i * 1000, touchpoint = m.agent}, {__index = function(_, k)
			if k == "customer" then return "single-" .. i end
			if k == "measures" then
				collectgarbage("collect")
				local junk = {}
				for j = 1, 8 do junk[j] = "other-" .. (i * 10 + j) end
				return {{m.nps, 9}}
			end
		end})
		assert(ctx:feed(ix))
	end
	local wrong = 0
	for i = 1, 100 do
		if ctx:customer_last_seen("single-" .. i) ~= base + i * 1000 then wrong = wrong + 1 end
	end
	eq(wrong, 0, "feed: customer ids from __index recorded exactly")
	eq(ctx:stats().customers, 100, "feed: 100 customers")
end

do -- export: labels from an __index function, collected (with their
	-- strings) by the allocation of the output buffer, before libcxm reads them
	local m = model()
	assert(m.ctx:feed{time = T0, touchpoint = m.ivr})
	for i = 1, 20 do
		local opts = setmetatable({format = "prometheus"}, {__index = function(_, k)
			if k == "labels" then
				local labels = {["worker_" .. i] = "w" .. i * 7, ["host_" .. i] = "h" .. i}
				collectgarbage("collect") -- so that the next allocation starts a cycle
				return labels
			end
		end})
		local text
		eager_gc(function() text = assert(m.ctx:export(opts)) end)
		check(text:find('\ncxm_interactions_accepted_total{host_' .. i .. '="h' .. i .. '",worker_' ..
			i .. '="w' .. i * 7 .. '"} 1\n', 1, true) ~= nil, "export: labels from __index, " .. i)
	end
end

------------------------------------------------------------------------------
-- what the binding must not take silently: holes in lists, a segment value
-- that is no id, negative enum numbers; and precise messages
------------------------------------------------------------------------------
do
	local m = model{tiers = {{MIN, 180}}}
	local ctx = m.ctx
	local function ix(t)
		t.time = t.time or T0 - MIN
		t.touchpoint = t.touchpoint or m.agent
		return t
	end
	local accepted = ctx:stats().accepted
	-- measures with a hole: Lua's # may stop at it (LuaJIT does for
	-- {a, nil, c}; every Lua does when c was assigned later)
	local later = {{m.nps, 9}}
	later[3] = {m.aht, 30}
	fails_with("INVALID", "measures[2] is nil but measures[3] is not", "a hole before a later measure",
		ctx.feed, ctx, ix{measures = later})
	fails_with("INVALID", "measures[2] is nil but measures[3] is not", "{m1, nil, m3}",
		ctx.feed, ctx, ix{measures = {{m.nps, 9}, nil, {m.aht, 30}}})
	local far = {{m.nps, 9}}
	far[10] = {m.aht, 30}
	fails_with("INVALID", "measures[2] is nil but measures[10] is not", "a far later measure",
		ctx.feed, ctx, ix{measures = far})
	fails_with("INVALID", "measures must be a list, not a table with the key 'metric'",
		"one measure not in a list", ctx.feed, ctx, ix{measures = {metric = m.nps, value = 9}})
	fails_with("INVALID", "measures must be a list, not a table with the key 0", "measures from 0",
		ctx.feed, ctx, ix{measures = {[0] = {m.nps, 9}}})
	fails_with("INVALID", "measures must be a list, not a table with the key 1.5",
		"a fractional measure index", ctx.feed, ctx, ix{measures = {{m.nps, 9}, [1.5] = {m.nps, 3}}})
	local acc, rej = ctx:feed_batch{ix{measures = later}, ix{measures = {{m.nps, 9}}}}
	check(acc == 1 and #rej == 1 and rej[1].index == 1 and rej[1].code == "INVALID" and
		rej[1].message:find("measures[2] is nil", 1, true) ~= nil, "feed_batch: a hole in measures")
	fails_with("INVALID", "measures[2] is nil but measures[3] is not", "prepare: a hole",
		ctx.prepare, ctx, {touchpoint = m.agent, measures = later})
	local p_later = {m.nps}
	p_later[3] = m.aht
	fails_with("INVALID", "measures[2] is nil", "prepare: a hole in metric ids",
		ctx.prepare, ctx, {touchpoint = m.agent, measures = p_later})
	eq(ctx:stats().accepted, accepted + 1, "only the good interaction was fed")
	eq(assert(ctx:query{metric = m.aht, span_ms = HOUR}).n, 0, "no measure after a hole was fed")

	-- other lists: the batch, steps, tiers, quantiles, boxes, buckets, flags
	local batch = {ix{}}
	batch[3] = ix{}
	fails_with("INVALID", "batch[2] is nil but batch[3] is not", "feed_batch: a hole in the batch",
		ctx.feed_batch, ctx, batch)
	eq(ctx:stats().accepted, accepted + 1, "a batch with a hole feeds nothing")
	local steps = {"a"}
	steps[3] = "c"
	fails_with("INVALID", "steps[2] is nil but steps[3] is not", "journey_define: a hole",
		ctx.journey_define, ctx, "holey", steps)
	fails("UNKNOWN_ID", "no journey was defined", ctx.find, ctx, "journey", "holey")
	local tiers = {{MIN, 10}}
	tiers[3] = {HOUR, 10}
	fails_with("INVALID", "tiers[2] is nil but tiers[3] is not", "new: a hole in tiers", cxm.new,
		{tiers = tiers})
	fails_with("INVALID", "tiers[1].buckets must be an integer, got 1.5", "a fractional tier",
		cxm.new, {tiers = {{MIN, 1.5}}})
	local qs = {0.5}
	qs[3] = 0.9
	fails_with("INVALID", "quantiles[2] is nil", "quantiles: a hole", ctx.quantiles, ctx,
		{metric = m.aht, span_ms = HOUR}, qs)
	fails_with("INVALID", "quantiles[2] must be a number, got true", "quantiles: a boolean",
		ctx.quantiles, ctx, {metric = m.aht, span_ms = HOUR}, {0.5, true})
	local boxes = {9}
	boxes[3] = 9
	fails_with("INVALID", "top_min[2] is nil", "top_min: a hole", ctx.metric_define, ctx, "holes",
		{preset = "cxi", top_min = boxes})
	fails_with("INVALID", "top_min[2] must be an integer, got 8.5", "top_min: a fraction",
		ctx.metric_define, ctx, "halves", {preset = "cxi", top_min = {9, 8.5, 9}})
	local bounds = {1}
	bounds[3] = 10
	fails_with("INVALID", "buckets[2] is nil", "export: a hole in buckets", ctx.export, ctx,
		{buckets = bounds})
	local flags = {"strict"}
	flags[3] = "restart"
	fails_with("INVALID", "flags[2] is nil", "journey options: a hole in flags",
		ctx.journey_set_options, ctx, m.buy, {flags = flags})
	eq(assert(ctx:journey_get_options(m.buy)).strict, false, "options unchanged")

	-- segment values: an id or false, nothing else
	fails_with("INVALID", "segments[" .. m.tier .. "] must be a value id or false, got true",
		"segment value true", ctx.feed, ctx, ix{segments = {[m.tier] = true}})
	fails_with("INVALID", "segments[" .. m.tier .. "] must be a value id or false, got string",
		"segment value by name", ctx.feed, ctx, ix{segments = {[m.tier] = "gold"}})
	fails_with("INVALID", "must be a value id or false, got table", "segment value a table",
		ctx.feed, ctx, ix{segments = {[m.tier] = {}}})
	fails_with("INVALID", "segments[" .. m.tier .. "] must be an integer, got 0.5",
		"a fractional segment value", ctx.feed, ctx, ix{segments = {[m.tier] = 0.5}})
	fails_with("OUT_OF_RANGE", "segments[" .. m.tier .. "] must be an integer in 0 .. 4294967294, got -1",
		"a negative segment value", ctx.feed, ctx, ix{segments = {[m.tier] = -1}})
	fails_with("INVALID", "a segment dimension must be an integer, got 0.5",
		"a fractional dimension", ctx.feed, ctx, ix{segments = {[0.5] = m.gold}})
	fails_with("INVALID", "segments[" .. m.tier .. "] must be a value id or false, got true",
		"prepare: segment value true", ctx.prepare, ctx, {touchpoint = m.agent,
			segments = {[m.tier] = true}})
	eq(ctx:feed(ix{segments = {[m.tier] = false, [m.region] = m.north}}), true,
		"false is still no value")

	-- negative numbers for enums are refused, not wrapped to 2^32 - 1
	fails_with("INVALID", "channel must be a name or a number in 0 .. 2147483647, got -1",
		"query channel -1", ctx.query, ctx, {metric = m.nps, span_ms = HOUR, channel = -1})
	fails_with("INVALID", "got -1", "funnel channel -1", ctx.funnel, ctx,
		{journey = m.buy, span_ms = HOUR, channel = -1})
	fails_with("INVALID", "got -1", "touchpoint channel -1", ctx.touchpoint_define, ctx, "neg", -1)
	fails_with("INVALID", "customer_policy must be a name or a number in 0 .. 2147483647, got -1",
		"customer_policy -1", cxm.new, {customer_policy = -1})
	fails_with("INVALID", "got true", "format true", ctx.export, ctx, {format = true})

	-- messages: the field, what it must be, the value exactly
	fails_with("INVALID", "time must be an integer, got 1795390000000.5", "feed: fractional time",
		ctx.feed, ctx, ix{time = 1795390000000.5})
	fails_with("INVALID", "time_ms must be an integer, got 1795390000000.5",
		"customer_churn: fractional time", ctx.customer_churn, ctx, "x", 1795390000000.5)
	fails_with("INVALID", "span_ms must be an integer, got 0.1", "query: span 0.1", ctx.query, ctx,
		{metric = m.nps, span_ms = 0.1})
	fails_with("INVALID", "time must be a number, got string", "feed: a string time", ctx.feed, ctx,
		ix{time = "now"})
	fails_with("INVALID", "time must be a number, got true", "feed: a boolean time", ctx.feed, ctx,
		ix{time = true})
	fails_with("OUT_OF_RANGE", "got 1e+300", "feed: a time beyond int64", ctx.feed, ctx,
		ix{time = 1e300})
	fails_with("OUT_OF_RANGE", "touchpoint must be an integer in 0 .. 4294967294, got -1",
		"feed: a negative touchpoint", ctx.feed, ctx, ix{touchpoint = -1})
	fails_with("INVALID", "interaction has no touchpoint", "feed: no touchpoint", ctx.feed, ctx,
		{time = T0})
	fails_with("INVALID", "measures[2].value must be a number, got string", "a string value",
		ctx.feed, ctx, ix{measures = {{m.nps, 9}, {m.nps, "ten"}}})
	fails_with("INVALID", "measures[1].metric must be an integer, got 2.5", "a fractional metric",
		ctx.feed, ctx, ix{measures = {{metric = 2.5, value = 1}}})
	fails_with("OUT_OF_RANGE", "measures[1].item must be an integer in 0 .. 4294967295, got -1",
		"a negative item", ctx.feed, ctx, ix{measures = {{m.cxi, 9, -1}}})
	fails_with("INVALID", "measures[1] must be a table {metric, value[, item]}, got 5",
		"a measure that is a number", ctx.feed, ctx, ix{measures = {5}})
	fails_with("INVALID", "customer must be a string or a number, got true", "a boolean customer",
		ctx.feed, ctx, ix{customer = true})
	fails_with("INVALID", "max_touchpoints must be an integer, got 1.5", "a fractional limit",
		cxm.new, {max_touchpoints = 1.5})
	if math.type then
		-- math.mininteger is CXM_NOW in C: as a number it is out of range, not "now"
		fails("OUT_OF_RANGE", "end_ms = math.mininteger", ctx.query, ctx,
			{metric = m.nps, span_ms = HOUR, end_ms = math.mininteger})
	end
	eq(cxm.strerror(1.5), "unknown status", "strerror of a fraction is no code")
	eq(cxm.strerror(1), cxm.strerror("INVALID"), "strerror(1) still")
	eq(ctx:stats().accepted, accepted + 2, "none of the refused interactions was fed")
end

------------------------------------------------------------------------------
-- triggers and events (docs/loop.md; the cases of tests/test_triggers.c)
------------------------------------------------------------------------------

-- Every event of ctx's queue, taken by events_poll(max).
local function poll(ctx, max)
	local ev, msg, code = ctx:events_poll(max)
	check(type(ev) == "table", "events_poll: " .. tostring(msg) .. " " .. tostring(code))
	return ev or {}
end

-- The values of the events of each rule: {[rule] = "5,6", …} (values are
-- floats: 5.0 on Lua 5.3+, hence %g).
local function by_rule(events)
	local t = {}
	for _, e in ipairs(events) do
		t[e.rule] = (t[e.rule] and t[e.rule] .. "," or "") .. string.format("%g", e.value)
	end
	return t
end

do -- a detractor after an agent call: one event, every field
	local KEY = ("k"):rep(16)
	local m = model{customer_key = KEY, max_customers = 1000}
	local ctx = m.ctx
	local none = ctx:events_poll()
	check(type(none) == "table" and next(none) == nil, "no trigger: an empty table")
	local r = assert(ctx:trigger_define{metric = m.nps, op = "<=", threshold = 6, touchpoint = m.agent})
	eq(r, 0, "the first trigger's id")
	none = ctx:events_poll()
	check(type(none) == "table" and next(none) == nil, "an empty queue: an empty table")
	local t = T0 - MIN
	assert(ctx:feed{time = t, touchpoint = m.agent, customer = "alice", measures = {{m.nps, 9}}})
	assert(ctx:feed{time = t + 1, touchpoint = m.agent, customer = "bob", measures = {{m.nps, 6}}})
	assert(ctx:feed{time = t + 2, touchpoint = m.ivr, customer = "carol", measures = {{m.nps, 3}}})
	fails("OUT_OF_RANGE", "a refused answer", ctx.feed, ctx,
		{time = t + 3, touchpoint = m.agent, customer = "dan", measures = {{m.nps, 2}, {m.nps, 11}}})
	local ev = poll(ctx)
	eq(#ev, 1, "one detractor at the agent call: one event")
	local e = ev[1] or {}
	eq(e.kind, "trigger", "event kind")
	eq(e.rule, r, "event rule")
	eq(e.seq, 0, "event seq")
	eq(type(e.customer), "string", "event customer is a string")
	eq(e.customer and #e.customer, 16, "event customer: 16 bytes")
	eq(e.customer, ctx:customer_hash("bob"), "event customer == customer_hash(\"bob\")")
	check(e.customer ~= ctx:customer_hash("alice"), "another id, another hash")
	eq(e.time_ms, t + 1, "event time_ms")
	eq(e.touchpoint, m.agent, "event touchpoint")
	eq(e.metric, m.nps, "event metric")
	eq(e.item, 0, "event item")
	eq(e.value, 6, "event value")
	eq(#poll(ctx), 0, "an event is taken once")

	-- an interaction without a customer id: no customer field
	assert(ctx:feed{time = t + 4, touchpoint = m.agent, measures = {{m.nps, 0}}})
	ev = poll(ctx)
	check(#ev == 1 and ev[1].customer == nil and ev[1].seq == 1 and ev[1].value == 0,
		"an anonymous detractor: customer nil, seq 1")
	local st = ctx:stats()
	eq(st.events_queued, 2, "stats.events_queued")
	eq(st.events_dropped, 0, "stats.events_dropped")
	check(type(st.lost_buckets) == "number" and type(st.unpacked_buckets) == "number",
		"stats.lost_buckets, unpacked_buckets")
	if math.type then
		eq(math.type(e.seq), "integer", "seq is an integer on 5.3+")
		eq(math.type(e.time_ms), "integer", "time_ms is an integer on 5.3+")
		eq(math.type(e.rule), "integer", "rule is an integer on 5.3+")
	end

	-- the hash: a numeric id is its decimal text; the same key, the same
	-- bytes in another context; another key, others
	eq(ctx:customer_hash(12345), ctx:customer_hash("12345"), "customer_hash of a number")
	local same = fixed_ctx{customer_key = KEY}
	eq(same:customer_hash("bob"), e.customer, "the same key: the same hash")
	local other = fixed_ctx{customer_key = ("o"):rep(16)}
	check(other:customer_hash("bob") ~= e.customer, "another key: another hash")
	-- the byte order: SipHash-2-4's reference vectors (key 00 … 0f, message
	-- 00 … len - 1, 128-bit output), word 0 then word 1, least significant
	-- byte first
	local ref = fixed_ctx{customer_key = "\0\1\2\3\4\5\6\7\8\9\10\11\12\13\14\15"}
	local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
	eq(hex(ref:customer_hash("\0")), "da87c1d86b99af44347659119b22fc45", "customer_hash: reference vector 1")
	eq(hex(ref:customer_hash("\0\1")), "8177228da4a45dc7fca38bdef60affe4", "customer_hash: reference vector 2")

	-- the rules travel in a snapshot, the queued events do not
	assert(ctx:feed{time = t + 5, touchpoint = m.agent, customer = "erin", measures = {{m.nps, 1}}})
	local copy = fixed_ctx{customer_key = KEY, max_customers = 1000}
	assert(copy:load_string(assert(ctx:snapshot())))
	eq(copy:trigger_get(r).op, "<=", "a loaded rule")
	eq(#poll(copy), 0, "no event is in a snapshot")
	eq(#poll(ctx), 1, "the event is still in its own context")
end

do -- bounds as written: each comparison at, below and above 6
	local m = model()
	local ctx = m.ctx
	local ops = {"<", "<=", ">", ">=", "==", "~=", "!="}
	local ids = {}
	for i, op in ipairs(ops) do
		ids[i] = assert(ctx:trigger_define{metric = m.nps, op = op, threshold = 6})
		eq(ids[i], i - 1, "trigger ids from 0: " .. op)
	end
	eq(ctx:trigger_get(ids[7]).op, "~=", "\"!=\" is \"~=\"")
	for v = 5, 7 do
		assert(ctx:feed{time = T0 - MIN, touchpoint = m.web, measures = {{m.nps, v}}})
	end
	local got = by_rule(poll(ctx))
	local want = {"5", "5,6", "7", "6,7", "6", "5,7", "5,7"}
	for i, op in ipairs(ops) do
		eq(got[ids[i]], want[i], "op " .. op .. " 6 matches")
	end

	-- an interaction matches a rule once, at its first matching measure
	assert(ctx:feed{time = T0 - MIN, touchpoint = m.web, measures = {{m.nps, 9}, {m.nps, 5}, {m.nps, 4}}})
	eq(by_rule(poll(ctx))[ids[1]], "5", "once per interaction, its first match")

	-- a RATE's failure (threshold false is 0), an INDEX's question
	local fail = assert(ctx:trigger_define{metric = m.resolved, op = "==", threshold = false})
	eq(ctx:trigger_get(fail).threshold, 0, "threshold false is 0")
	local easy = assert(ctx:trigger_define{metric = m.cxi, item = 1, op = "<", threshold = 5})
	assert(ctx:feed{time = T0 - MIN, touchpoint = m.web,
		measures = {{m.resolved, true}, {m.cxi, 2, 0}, {m.cxi, 9, 1}}})
	assert(ctx:feed{time = T0 - MIN, touchpoint = m.web,
		measures = {{m.resolved, false}, {m.cxi, 9, 0}, {m.cxi, 2, 1}}})
	local ev = poll(ctx)
	got = by_rule(ev)
	eq(got[fail], "0", "a RATE's failure")
	eq(got[easy], "2", "an INDEX's question 1 only")
	for _, e in ipairs(ev) do
		if e.rule == easy then eq(e.item, 1, "the event names the question") end
	end

	-- a large drain, in order, EVENTS_CHUNK at a time in C; max
	local big = model()
	assert(big.ctx:trigger_define{metric = big.aht, op = ">=", threshold = 0})
	for i = 1, 300 do
		assert(big.ctx:feed{time = T0 - MIN, touchpoint = big.agent, measures = {{big.aht, i}}})
	end
	eq(#poll(big.ctx, 0), 0, "max 0: nothing taken")
	ev = poll(big.ctx, 100)
	eq(#ev, 100, "max 100")
	local order = 0
	for i, e in ipairs(ev) do if e.seq == i - 1 and e.value == i then order = order + 1 end end
	eq(order, 100, "the first 100, oldest first")
	ev = poll(big.ctx)
	eq(#ev, 200, "the rest")
	eq(ev[200] and ev[200].seq, 299, "the last")
	eq(#poll(big.ctx), 0, "drained")
end

do -- scopes, segments, switching off, get and define round trip
	local m = model()
	local ctx = m.ctx
	local step = assert(ctx:trigger_define{metric = m.csat, op = "<=", threshold = 2,
		journey = m.support, step = "diagnosis"})
	local journey = assert(ctx:trigger_define{metric = m.csat, op = "<=", threshold = 2, journey = m.buy})
	local chat = assert(ctx:trigger_define{metric = m.csat, op = "<=", threshold = 2, channel = "chat"})
	local gold = assert(ctx:trigger_define{metric = m.csat, op = "<=", threshold = 2,
		segment = m.tier, segment_value = m.gold})
	local off = assert(ctx:trigger_define{metric = m.csat, op = "<=", threshold = 2, enabled = false})
	local g = assert(ctx:trigger_get(step))
	check(g.metric == m.csat and g.op == "<=" and g.threshold == 2 and g.item == 0 and
		g.journey == m.support and g.step == 1 and g.touchpoint == nil and g.channel == nil and
		g.segment == nil and g.enabled == true, "trigger_get: a step, by name")
	g = assert(ctx:trigger_get(journey))
	check(g.journey == m.buy and g.step == nil, "trigger_get: a journey")
	eq(assert(ctx:trigger_get(chat)).channel, "chat", "trigger_get: a channel")
	g = assert(ctx:trigger_get(gold))
	check(g.segment == m.tier and g.segment_value == m.gold and g.journey == nil, "trigger_get: a segment")
	eq(assert(ctx:trigger_get(off)).enabled, false, "defined off")

	local function low(tp, segs)
		assert(ctx:feed{time = T0 - MIN, touchpoint = tp, segments = segs, measures = {{m.csat, 1}}})
	end
	low(m.agent)                        -- support/diagnosis, phone
	low(m.chat)                         -- support/diagnosis, chat
	low(m.ivr, {[m.tier] = m.gold})     -- support/contact, gold
	low(m.web, {[m.tier] = m.silver})   -- buy/checkout
	local got = {}
	for _, e in ipairs(poll(ctx)) do
		got[e.rule] = (got[e.rule] and got[e.rule] .. "," or "") .. ctx:name("touchpoint", e.touchpoint)
	end
	eq(got[step], "agent call,chat", "step scope")
	eq(got[journey], "checkout page", "journey scope")
	eq(got[chat], "chat", "channel scope")
	eq(got[gold], "ivr", "segment filter")
	eq(got[off], nil, "a rule defined off does not match")

	eq(ctx:trigger_enable(off, true), true, "trigger_enable true")
	eq(ctx:trigger_enable(gold, false), true, "trigger_enable false")
	eq(ctx:trigger_get(gold).enabled, false, "enabled read back")
	low(m.ivr, {[m.tier] = m.gold})
	got = by_rule(poll(ctx))
	eq(got[off], "1", "switched on: matches")
	eq(got[gold], nil, "switched off: no event")
	eq(ctx:stats().events_dropped, 0, "switched off is not dropped")

	-- what trigger_get gives, trigger_define takes
	for _, r in ipairs{step, journey, chat, gold, off} do
		local d = assert(ctx:trigger_get(r))
		local again = assert(ctx:trigger_define(d))
		local d2 = assert(ctx:trigger_get(again))
		local same = true
		for k, v in pairs(d) do same = same and d2[k] == v end
		for k in pairs(d2) do same = same and d[k] ~= nil end
		check(same, "trigger_get → trigger_define round trip, rule " .. r)
	end
end

do -- overflow: docs/loop.md's worked example, a queue of 4
	local m = model{event_queue = 4}
	local ctx = m.ctx
	assert(ctx:trigger_define{metric = m.nps, op = "<=", threshold = 6})
	local function detractors(n)
		for _ = 1, n do
			assert(ctx:feed{time = T0 - MIN, touchpoint = m.agent, measures = {{m.nps, 2}}})
		end
	end
	detractors(10)
	local st = ctx:stats()
	eq(st.events_queued, 4, "overflow: 4 queued")
	eq(st.events_dropped, 6, "overflow: 6 dropped")
	local function seqs(ev)
		local s = {}
		for i, e in ipairs(ev) do s[i] = tostring(e.seq) end
		return table.concat(s, ",")
	end
	eq(seqs(poll(ctx, 3)), "0,1,2", "the first three")
	detractors(3)
	eq(seqs(poll(ctx)), "3,10,11,12", "the gap is the six dropped")
	st = ctx:stats()
	check(st.events_queued == 7 and st.events_dropped == 6, "overflow: 7 queued, 6 dropped in all")
end

do -- bad arguments: returned (nil, message, code) or raised
	local m = model{max_triggers = 3}
	local ctx = m.ctx
	local function def(t)
		t.metric = t.metric == nil and m.nps or t.metric
		t.op = t.op == nil and "<=" or t.op
		if t.threshold == nil then t.threshold = 6 end
		return t
	end
	local function bad(code, what, t) fails(code, what, ctx.trigger_define, ctx, t) end
	-- from libcxm
	bad("UNKNOWN_ID", "an unknown metric", def{metric = 99})
	bad("KIND", "a VOLUME metric", def{metric = m.volume})
	bad("KIND", "a DISTINCT metric", def{metric = m.customers})
	bad("NOT_FINITE", "a NaN threshold", def{threshold = 0 / 0})
	bad("NOT_FINITE", "an infinite threshold", def{threshold = math.huge})
	bad("INVALID", "op 6 (library)", def{op = 6})
	bad("OUT_OF_RANGE", "item 1 of a score", def{item = 1})
	bad("OUT_OF_RANGE", "item 3 of the CX index", def{metric = m.cxi, item = 3})
	bad("UNKNOWN_ID", "an unknown touchpoint", def{touchpoint = 99})
	bad("UNKNOWN_ID", "an unknown journey", def{journey = 9})
	bad("UNKNOWN_ID", "an unknown step id", def{journey = m.buy, step = 2})
	bad("UNKNOWN_ID", "an unknown step name", def{journey = m.buy, step = "pay"})
	bad("UNKNOWN_ID", "channel 99 (library)", def{channel = 99})
	bad("UNKNOWN_ID", "an unknown segment", def{segment = 7, segment_value = 0})
	bad("UNKNOWN_ID", "an unknown segment value", def{segment = m.tier, segment_value = 3})
	-- from the binding
	fails_with("INVALID", "unknown op '=<'", "a bad op string", ctx.trigger_define, ctx, def{op = "=<"})
	bad("INVALID", "op \"=\"", def{op = "="})
	bad("INVALID", "op -1", def{op = -1})
	bad("INVALID", "op true", def{op = true})
	fails_with("INVALID", "threshold must be a number, got string", "a string threshold",
		ctx.trigger_define, ctx, def{threshold = "6"})
	bad("INVALID", "no metric", {op = "<", threshold = 1})
	bad("INVALID", "no op", {metric = m.nps, threshold = 1})
	bad("INVALID", "no threshold", {metric = m.nps, op = "<"})
	fails_with("INVALID", "trigger: unknown field 'scope'", "an unknown field", ctx.trigger_define, ctx,
		def{scope = "all"})
	bad("INVALID", "a fractional metric", def{metric = 1.5})
	bad("INVALID", "a metric by name", def{metric = "nps"})
	bad("OUT_OF_RANGE", "a negative metric", def{metric = -1})
	bad("NOT_FINITE", "a NaN metric", def{metric = 0 / 0})
	bad("OUT_OF_RANGE", "a negative item", def{item = -1})
	bad("INVALID", "two scopes", def{touchpoint = m.agent, channel = "phone"})
	bad("INVALID", "a step without its journey", def{step = 0})
	bad("INVALID", "a segment without a value", def{segment = m.tier})
	bad("INVALID", "an unknown channel name", def{channel = "fax"})
	bad("INVALID", "a channel of the wrong type", def{channel = true})
	bad("INVALID", "enabled 1", def{enabled = 1})
	raises("table expected", "trigger_define(string)", ctx.trigger_define, ctx, "nps <= 6")
	raises("table expected", "trigger_define()", ctx.trigger_define, ctx)
	raises("cxm context expected", "trigger_define on a non-context", ctx.trigger_define, {}, def{})

	-- nothing was defined by a failure; then the limit
	eq(assert(ctx:trigger_define(def{})), 0, "ids unchanged by failures")
	fails("UNKNOWN_ID", "trigger_get of an undefined id", ctx.trigger_get, ctx, 1)
	assert(ctx:trigger_define(def{}))
	assert(ctx:trigger_define(def{}))
	bad("LIMIT", "max_triggers reached", def{})

	fails("UNKNOWN_ID", "trigger_enable of an unknown trigger", ctx.trigger_enable, ctx, 99, true)
	fails("OUT_OF_RANGE", "trigger_enable of a negative id", ctx.trigger_enable, ctx, -1, true)
	fails("INVALID", "trigger_enable of a fractional id", ctx.trigger_enable, ctx, 0.5, true)
	raises("boolean expected", "trigger_enable(r, 1)", ctx.trigger_enable, ctx, 0, 1)
	raises("boolean expected", "trigger_enable(r)", ctx.trigger_enable, ctx, 0)
	raises("number expected", "trigger_enable(\"0\", true)", ctx.trigger_enable, ctx, "0", true)
	fails("UNKNOWN_ID", "trigger_get of an unknown trigger", ctx.trigger_get, ctx, 99)
	fails("INVALID", "trigger_get of a fractional id", ctx.trigger_get, ctx, 0.5)
	fails("OUT_OF_RANGE", "trigger_get of id 2^32", ctx.trigger_get, ctx, 2 ^ 32)
	raises("number expected", "trigger_get(string)", ctx.trigger_get, ctx, "0")
	fails("UNKNOWN_ID", "trigger_get without any trigger", m.ctx.trigger_get, model().ctx, 0)

	fails_with("OUT_OF_RANGE", "max must be an integer in 0 .. 2147483647, got -1", "events_poll(-1)",
		ctx.events_poll, ctx, -1)
	fails("OUT_OF_RANGE", "events_poll(2^31)", ctx.events_poll, ctx, 2 ^ 31)
	fails("INVALID", "events_poll(1.5)", ctx.events_poll, ctx, 1.5)
	fails("NOT_FINITE", "events_poll(NaN)", ctx.events_poll, ctx, 0 / 0)
	raises("number expected", "events_poll(string)", ctx.events_poll, ctx, "all")

	fails("INVALID", "customer_hash of an empty id", ctx.customer_hash, ctx, "")
	fails("TOO_LONG", "customer_hash of a long id", ctx.customer_hash, ctx, ("x"):rep(300))
	raises("string expected", "customer_hash()", ctx.customer_hash, ctx)
	raises("string expected", "customer_hash(table)", ctx.customer_hash, ctx, {})

	-- the context's limits
	fails("OUT_OF_RANGE", "max_triggers above 65536 (library)", cxm.new, {max_triggers = 65537})
	fails("OUT_OF_RANGE", "event_queue above 2^20 (library)", cxm.new, {event_queue = 2 ^ 20 + 1})
	fails("OUT_OF_RANGE", "a negative max_triggers", cxm.new, {max_triggers = -1})
	fails("INVALID", "a fractional event_queue", cxm.new, {event_queue = 1.5})

	ctx:close()
	for _, f in ipairs{"trigger_define", "trigger_enable", "trigger_get", "events_poll", "customer_hash"} do
		raises("closed cxm context", f .. " on a closed context", ctx[f], ctx, {}, true)
	end
end

------------------------------------------------------------------------------
-- the survey governor (docs/loop.md; the cases of tests/test_governor.c)
------------------------------------------------------------------------------

local WEEK = 7 * DAY

-- ask, reason, until_ms of survey_should_ask, checked against the answer
-- wanted: reason, and until_ms (nil for an ask and a skip that does not end).
local function asks(ctx, s, who, tp, t, reason, until_ms, what)
	local ask, r, u = ctx:survey_should_ask(s, who, tp, t)
	return check(ask == (reason == "ask") and r == reason and u == until_ms,
		string.format("%s: expected %s, %s, %s; got %s, %s, %s", what, tostring(reason == "ask"),
			reason, tostring(until_ms), tostring(ask), tostring(r), tostring(u)))
end

do -- docs/loop.md's worked timeline: a post-call survey and an e-mail one
	local m = model()
	local ctx = m.ctx
	local post = assert(ctx:survey_define("post-call", {
		min_since_invite_ms = WEEK, min_since_response_ms = 30 * DAY, touchpoint = m.agent}))
	eq(post, 0, "the first survey's id")
	local mail = assert(ctx:survey_define("e-mail"))
	eq(mail, 1, "the second survey's id")
	eq(ctx:governor_set{min_since_invite_ms = DAY, min_since_response_ms = WEEK}, true, "governor_set")

	asks(ctx, post, "alice", m.agent, T0, "ask", nil, "day 0, at an agent call")
	asks(ctx, post, "alice", m.ivr, T0, "not eligible", nil, "day 0, at the IVR")
	eq(ctx:survey_record(post, "alice", "invited", T0 + 500), true, "survey_record invited")
	-- the survey's own 7 days first, before the 1 day across surveys
	asks(ctx, post, "alice", m.agent, T0 + HOUR, "survey invited", T0 + WEEK, "day 0 01:00")
	asks(ctx, post, "alice", m.agent, T0 + WEEK - 1, "survey invited", T0 + WEEK, "day 7 − 1 ms")
	asks(ctx, post, "alice", m.agent, T0 + WEEK, "ask", nil, "day 7: the bound is inclusive")
	asks(ctx, mail, "alice", m.email, T0 + HOUR, "invited", T0 + DAY, "e-mail at day 0 01:00")
	asks(ctx, mail, "alice", m.email, T0 + DAY - 1000, "invited", T0 + DAY, "e-mail a second before day 1")
	asks(ctx, mail, "alice", m.email, T0 + DAY, "ask", nil, "e-mail at day 1")
	asks(ctx, post, "bob", m.agent, T0 + HOUR, "ask", nil, "another customer")
	-- alice answers at day 0 02:00
	eq(ctx:survey_record(post, "alice", "responded", T0 + 2 * HOUR), true, "survey_record responded")
	asks(ctx, post, "alice", m.agent, T0 + WEEK, "survey responded", T0 + 2 * HOUR + 30 * DAY, "day 7 after the answer")
	asks(ctx, mail, "alice", m.email, T0 + 3 * DAY, "responded", T0 + 2 * HOUR + WEEK, "e-mail at day 3")
	asks(ctx, mail, "alice", m.email, T0 + 2 * HOUR + WEEK, "ask", nil, "e-mail when the 7 days end")
	asks(ctx, post, "alice", m.agent, T0 + 2 * HOUR + 30 * DAY, "ask", nil, "post-call when the 30 days end")
	if math.type then
		local _, _, u = ctx:survey_should_ask(post, "alice", m.agent, T0 + WEEK)
		eq(math.type(u), "integer", "until_ms is an integer on 5.3+")
	end

	-- 1.5 s is 2 whole seconds; then the survey's rule ends and the rule
	-- across surveys, which also said no, is the answer
	local quick = assert(ctx:survey_define("quick", {min_since_invite_ms = 1500}))
	assert(ctx:survey_record(quick, "carol", 1, T0 + 999)) -- 1: invited, by number
	asks(ctx, quick, "carol", m.web, T0 + 1999, "survey invited", T0 + 2000, "1.5 s is 2 s")
	asks(ctx, quick, "carol", m.web, T0 + 2000, "invited", T0 + DAY, "then the rule across surveys")
	-- a numeric customer id is its decimal text, as in feed
	assert(ctx:survey_record(quick, 12345, "invited", T0))
	asks(ctx, quick, "12345", m.web, T0 + 1000, "survey invited", T0 + 2000, "the id 12345 is \"12345\"")
end

do -- caps: 2 of a survey in 10 days, 3 of all surveys in 30
	local m = model()
	local ctx = m.ctx
	local pulse = assert(ctx:survey_define("pulse", {max_invites = 2, invites_window_ms = 10 * DAY}))
	local other = assert(ctx:survey_define("other", {}))
	assert(ctx:governor_set{max_invites = 3, invites_window_ms = 30 * DAY})
	assert(ctx:survey_record(pulse, "dan", "invited", T0))
	asks(ctx, pulse, "dan", m.web, T0 + DAY, "ask", nil, "one of 2")
	assert(ctx:survey_record(pulse, "dan", "invited", T0 + DAY))
	asks(ctx, pulse, "dan", m.web, T0 + 2 * DAY, "survey cap", T0 + 10 * DAY, "2 of 2")
	asks(ctx, pulse, "dan", m.web, T0 + 10 * DAY - 1000, "survey cap", T0 + 10 * DAY, "a second before day 10")
	asks(ctx, pulse, "dan", m.web, T0 + 10 * DAY, "ask", nil, "day 0's left the window")
	-- a response counts against no cap; another survey's invitation against
	-- the cap across surveys
	assert(ctx:survey_record(pulse, "dan", "responded", T0 + 10 * DAY))
	assert(ctx:survey_record(other, "dan", "invited", T0 + 10 * DAY))
	asks(ctx, pulse, "dan", m.web, T0 + 10 * DAY, "cap", T0 + 30 * DAY, "3 of all surveys")
	asks(ctx, other, "dan", m.web, T0 + 11 * DAY, "cap", T0 + 30 * DAY, "3 of all, the other survey")
	asks(ctx, other, "dan", m.web, T0 + 30 * DAY - 1000, "cap", T0 + 30 * DAY, "a second before day 30")
	asks(ctx, other, "dan", m.web, T0 + 30 * DAY, "ask", nil, "day 30")
	eq(ctx:governor_set{}, true, "governor_set{}: no rule across surveys")
	asks(ctx, other, "dan", m.web, T0 + 11 * DAY, "ask", nil, "rules back to none")
end

do -- eligibility: a step (by name and by id), a journey, a channel, anywhere
	local m = model()
	local ctx = m.ctx
	local contact = assert(ctx:survey_define("contact", {journey = m.support, step = "contact"}))
	local diagnosis = assert(ctx:survey_define("diagnosis", {journey = m.support, step = 1}))
	local support = assert(ctx:survey_define("support", {journey = m.support}))
	local web = assert(ctx:survey_define("web", {channel = "web"}))
	local chat = assert(ctx:survey_define("chat", {channel = 2}))
	local agent = assert(ctx:survey_define("agent", {touchpoint = m.agent}))
	local any = assert(ctx:survey_define("any", {}))
	local want = { -- survey, touchpoint, asked
		{contact, m.ivr, true}, {contact, m.agent, false}, {contact, m.web, false},
		{diagnosis, m.agent, true}, {diagnosis, m.chat, true}, {diagnosis, m.ivr, false},
		{support, m.ivr, true}, {support, m.chat, true}, {support, m.web, false},
		{support, m.email, false}, {web, m.web, true}, {web, m.ivr, false},
		{chat, m.chat, true}, {chat, m.agent, false}, {agent, m.agent, true},
		{agent, m.chat, false}, {any, m.email, true}, {any, m.ivr, true},
	}
	for i, w in ipairs(want) do
		asks(ctx, w[1], "erin", w[2], T0, w[3] and "ask" or "not eligible", nil, "eligibility case " .. i)
	end
end

do -- sampling: the customer's keyed hash and the survey's name decide
	local KEY = ("g"):rep(16)
	local a, b = model{customer_key = KEY}, model{customer_key = KEY}
	local c = model{customer_key = ("h"):rep(16)}
	local sa = assert(a.ctx:survey_define("nps relationship", {sample_rate = 0.3}))
	assert(b.ctx:survey_define("first"))
	local sb = assert(b.ctx:survey_define("nps relationship", {sample_rate = 0.3}))
	local sc = assert(c.ctx:survey_define("nps relationship", {sample_rate = 0.3}))
	check(sa ~= sb, "the same name under another id")
	local n, asked, same, same_other, others = 2000, 0, 0, 0, 0
	for i = 1, n do
		local who = "customer-" .. i
		local x, rx, ux = a.ctx:survey_should_ask(sa, who, a.web, T0)
		local y, ry = b.ctx:survey_should_ask(sb, who, b.web, T0 + i * MIN) -- any moment
		local z = c.ctx:survey_should_ask(sc, who, c.web, T0)
		if not (rx == "ask" or rx == "sampled out") or ux ~= nil then others = others + 1 end
		if x then asked = asked + 1 end
		if x == y and rx == ry then same = same + 1 end
		if x == z then same_other = same_other + 1 end
	end
	eq(others, 0, "every answer is ask or sampled out, with no until_ms")
	near(asked, 0.3 * n, 3 * math.sqrt(n * 0.3 * 0.7), "customers asked at a rate of 0.3 (3 sigma)")
	eq(same, n, "the same answers in a context with the same key and survey name")
	check(same_other < n * 0.7, "another key draws otherwise: " .. same_other .. " of " .. n .. " alike")
	-- the same customer, every time
	local first = a.ctx:survey_should_ask(sa, "customer-1", a.web, T0)
	for _ = 1, 10 do eq(a.ctx:survey_should_ask(sa, "customer-1", a.web, T0 + DAY), first, "the same answer again") end
end

do -- forget erases the governor's history; the limit of customers kept
	local m = model{max_customers = 2}
	local ctx = m.ctx
	local s = assert(ctx:survey_define("quarterly", {min_since_invite_ms = 90 * DAY}))
	assert(ctx:survey_record(s, "frank", "invited", T0))
	assert(ctx:survey_record(s, "gina", "invited", T0))
	fails("LIMIT", "a third customer beyond max_customers", ctx.survey_record, ctx, s, "hal", "invited", T0)
	asks(ctx, s, "hal", m.web, T0 + 1000, "ask", nil, "nothing recorded for hal")
	asks(ctx, s, "frank", m.web, T0 + DAY, "survey invited", T0 + 90 * DAY, "frank invited")
	eq(ctx:customer_forget("frank"), true, "forget frank (known to the governor only)")
	asks(ctx, s, "frank", m.web, T0 + DAY, "ask", nil, "frank forgotten")
	fails("UNKNOWN_ID", "forget frank again", ctx.customer_forget, ctx, "frank")
	assert(ctx:survey_record(s, "hal", "invited", T0 + DAY)) -- room again
	-- gina, fed and recorded: forgotten by both
	assert(ctx:feed{time = T0, touchpoint = m.web, customer = "gina"})
	eq(ctx:customer_forget("gina"), true, "forget gina")
	fails("UNKNOWN_ID", "gina's last seen is forgotten", ctx.customer_last_seen, ctx, "gina")
	asks(ctx, s, "gina", m.web, T0 + DAY, "ask", nil, "gina's invitation is forgotten")
end

do -- bad arguments: returned (nil, message, code) or raised
	local m = model()
	local ctx = m.ctx
	local function bad(code, what, def) fails(code, what, ctx.survey_define, ctx, "bad", def) end
	-- from libcxm
	bad("OUT_OF_RANGE", "a negative min_since_invite_ms", {min_since_invite_ms = -1})
	bad("OUT_OF_RANGE", "min_since_response_ms above TIME_MAX", {min_since_response_ms = cxm.TIME_MAX + 1})
	bad("OUT_OF_RANGE", "max_invites 33", {max_invites = 33, invites_window_ms = DAY})
	bad("OUT_OF_RANGE", "max_invites without a window", {max_invites = 2})
	bad("OUT_OF_RANGE", "a window without max_invites", {invites_window_ms = DAY})
	bad("OUT_OF_RANGE", "a negative window", {max_invites = 2, invites_window_ms = -DAY})
	bad("NOT_FINITE", "a NaN sample_rate", {sample_rate = 0 / 0})
	bad("OUT_OF_RANGE", "sample_rate 1.5", {sample_rate = 1.5})
	bad("OUT_OF_RANGE", "sample_rate -0.1", {sample_rate = -0.1})
	bad("UNKNOWN_ID", "an unknown touchpoint", {touchpoint = 99})
	bad("UNKNOWN_ID", "an unknown journey", {journey = 9})
	bad("UNKNOWN_ID", "an unknown step id", {journey = m.buy, step = 2})
	bad("UNKNOWN_ID", "an unknown step name", {journey = m.buy, step = "pay"})
	bad("UNKNOWN_ID", "channel 0 (library)", {channel = 0})
	bad("UNKNOWN_ID", "channel 99 (library)", {channel = 99})
	fails("ENCODING", "an empty name", ctx.survey_define, ctx, "")
	fails("ENCODING", "a name with a newline", ctx.survey_define, ctx, "a\nb")
	fails("ENCODING", "a name with a NUL byte", ctx.survey_define, ctx, "a\0b")
	fails("TOO_LONG", "a long name", ctx.survey_define, ctx, ("n"):rep(300))
	-- from the binding
	fails_with("INVALID", "survey: unknown field 'scope'", "an unknown field", ctx.survey_define, ctx,
		"bad", {scope = "all"})
	fails_with("INVALID", "min_since_invite_ms must be a number, got string", "a string interval",
		ctx.survey_define, ctx, "bad", {min_since_invite_ms = "1"})
	bad("INVALID", "a fractional interval", {min_since_response_ms = 1.5})
	bad("NOT_FINITE", "a NaN interval", {invites_window_ms = 0 / 0})
	bad("OUT_OF_RANGE", "an interval beyond 2^63", {min_since_invite_ms = 2 ^ 63})
	bad("OUT_OF_RANGE", "a negative max_invites", {max_invites = -1, invites_window_ms = DAY})
	bad("OUT_OF_RANGE", "max_invites 2^32", {max_invites = 2 ^ 32, invites_window_ms = DAY})
	bad("INVALID", "a string sample_rate", {sample_rate = "0.5"})
	bad("INVALID", "a boolean sample_rate", {sample_rate = true})
	bad("INVALID", "two scopes", {touchpoint = m.agent, channel = "phone"})
	bad("INVALID", "a step without its journey", {step = 0})
	bad("INVALID", "an unknown channel name", {channel = "fax"})
	bad("INVALID", "a touchpoint by name", {touchpoint = "agent call"})
	bad("OUT_OF_RANGE", "a negative touchpoint", {touchpoint = -1})
	raises("string expected", "survey_define(table)", ctx.survey_define, ctx, {})
	raises("table expected", "survey_define(name, string)", ctx.survey_define, ctx, "s", "daily")
	raises("cxm context expected", "survey_define on a non-context", ctx.survey_define, {}, "s")
	-- nothing was defined by a failure; a name once; the limit
	local s = assert(ctx:survey_define("ok", {min_since_invite_ms = DAY}))
	eq(s, 0, "ids unchanged by failures")
	fails("EXISTS", "a name defined twice", ctx.survey_define, ctx, "ok")
	for i = 1, 255 do assert(ctx:survey_define("s" .. i)) end
	fails("LIMIT", "256 surveys defined", ctx.survey_define, ctx, "one too many")

	-- governor_set
	local function badg(code, what, rules) fails(code, what, ctx.governor_set, ctx, rules) end
	assert(ctx:governor_set{min_since_invite_ms = WEEK})
	badg("OUT_OF_RANGE", "max_invites without a window", {max_invites = 1})
	badg("OUT_OF_RANGE", "a window without max_invites", {invites_window_ms = DAY})
	badg("OUT_OF_RANGE", "a negative interval", {min_since_response_ms = -1})
	badg("OUT_OF_RANGE", "max_invites 33", {max_invites = 33, invites_window_ms = DAY})
	fails_with("INVALID", "governor rules: unknown field 'sample_rate'", "a survey's field",
		ctx.governor_set, ctx, {sample_rate = 0.5})
	badg("INVALID", "a scope", {touchpoint = m.agent})
	badg("INVALID", "a fractional max_invites", {max_invites = 1.5, invites_window_ms = DAY})
	badg("INVALID", "a string interval", {min_since_invite_ms = "1d"})
	badg("NOT_FINITE", "a NaN interval", {min_since_invite_ms = 0 / 0})
	raises("table expected", "governor_set()", ctx.governor_set, ctx)
	raises("table expected", "governor_set(string)", ctx.governor_set, ctx, "none")
	-- a failure changes nothing: the week across surveys still holds
	assert(ctx:survey_record(1, "x1", "invited", T0))
	asks(ctx, 2, "x1", m.web, T0 + DAY, "invited", T0 + WEEK, "rules unchanged by failures")

	-- survey_should_ask
	local function bada(code, what, ...) fails(code, what, ctx.survey_should_ask, ctx, ...) end
	bada("UNKNOWN_ID", "an unknown survey", 999, "x", m.web, T0)
	bada("UNKNOWN_ID", "an unknown touchpoint", s, "x", 99, T0)
	bada("OUT_OF_RANGE", "a time before 1970", s, "x", m.web, -1)
	bada("OUT_OF_RANGE", "a time after TIME_MAX", s, "x", m.web, cxm.TIME_MAX + 1)
	bada("INVALID", "an empty customer id", s, "", m.web, T0)
	bada("TOO_LONG", "a long customer id", s, ("y"):rep(300), m.web, T0)
	fails_with("INVALID", "time_ms must be an integer, got 1700000000000.5", "a fractional time",
		ctx.survey_should_ask, ctx, s, "x", m.web, T0 + 0.5)
	bada("NOT_FINITE", "a NaN time", s, "x", m.web, 0 / 0)
	bada("OUT_OF_RANGE", "a negative survey", -1, "x", m.web, T0)
	bada("INVALID", "a fractional survey", 0.5, "x", m.web, T0)
	bada("OUT_OF_RANGE", "touchpoint 2^32", s, "x", 2 ^ 32, T0)
	raises("number expected", "survey_should_ask(string survey)", ctx.survey_should_ask, ctx, "ok", "x", m.web, T0)
	raises("string expected", "survey_should_ask(nil customer)", ctx.survey_should_ask, ctx, s, nil, m.web, T0)
	raises("string expected", "survey_should_ask(table customer)", ctx.survey_should_ask, ctx, s, {}, m.web, T0)
	raises("number expected", "survey_should_ask(no touchpoint)", ctx.survey_should_ask, ctx, s, "x")
	raises("number expected", "survey_should_ask(no time)", ctx.survey_should_ask, ctx, s, "x", m.web)
	raises("number expected", "survey_should_ask(string time)", ctx.survey_should_ask, ctx, s, "x", m.web, "now")
	fails("UNKNOWN_ID", "survey_should_ask without any survey", ctx.survey_should_ask, model().ctx, 0, "x",
		m.web, T0)

	-- survey_record
	local function badr(code, what, ...) fails(code, what, ctx.survey_record, ctx, ...) end
	badr("UNKNOWN_ID", "an unknown survey", 999, "x", "invited", T0)
	fails_with("INVALID", "unknown survey event 'asked'", "an unknown event name",
		ctx.survey_record, ctx, s, "x", "asked", T0)
	badr("INVALID", "event 3 (library)", s, "x", 3, T0)
	badr("INVALID", "event 0 (library)", s, "x", 0, T0)
	badr("INVALID", "event -1", s, "x", -1, T0)
	badr("INVALID", "event 1.5", s, "x", 1.5, T0)
	badr("OUT_OF_RANGE", "a time before 1970", s, "x", "invited", -5)
	badr("OUT_OF_RANGE", "a time after TIME_MAX", s, "x", "responded", cxm.TIME_MAX + 1)
	badr("INVALID", "a fractional time", s, "x", "invited", T0 + 0.5)
	badr("INVALID", "an empty customer id", s, "", "invited", T0)
	badr("TOO_LONG", "a long customer id", s, ("y"):rep(300), "invited", T0)
	badr("OUT_OF_RANGE", "a negative survey", -1, "x", "invited", T0)
	raises("\"invited\" or \"responded\" expected", "survey_record(event true)", ctx.survey_record, ctx,
		s, "x", true, T0)
	raises("\"invited\" or \"responded\" expected", "survey_record(no event)", ctx.survey_record, ctx,
		s, "x", nil, T0)
	raises("number expected", "survey_record(no time)", ctx.survey_record, ctx, s, "x", "invited")
	raises("string expected", "survey_record(table customer)", ctx.survey_record, ctx, s, {}, "invited", T0)
	raises("number expected", "survey_record(string survey)", ctx.survey_record, ctx, "ok", "x", "invited", T0)
	fails("UNKNOWN_ID", "survey_record without any survey", ctx.survey_record, model().ctx, 0, "x",
		"invited", T0)
	-- none of them recorded anything
	fails("UNKNOWN_ID", "nothing recorded for x", ctx.customer_forget, ctx, "x")
	asks(ctx, s, "x", m.web, T0, "ask", nil, "x was never invited")

	ctx:close()
	raises("closed cxm context", "survey_define on a closed context", ctx.survey_define, ctx, "s")
	raises("closed cxm context", "governor_set on a closed context", ctx.governor_set, ctx, {})
	raises("closed cxm context", "survey_should_ask on a closed context", ctx.survey_should_ask, ctx,
		0, "x", 0, T0)
	raises("closed cxm context", "survey_record on a closed context", ctx.survey_record, ctx,
		0, "x", "invited", T0)
end

------------------------------------------------------------------------------
-- metric alerts (docs/loop.md, "Metric alerts"; the cases of tests/test_alerts.c)
------------------------------------------------------------------------------

-- A context at TA (midnight, as the C tests' T0) whose clock follows feeds
-- and evaluations.
local TA = 1795392000000
local function alert_world()
	local m = model{customer_key = ("a"):rep(16)}
	assert(m.ctx:set_now(TA))
	m.now = TA
	function m.answers(n, v, t)
		if t > m.now then m.now = t; assert(m.ctx:set_now(t)) end
		for _ = 1, n do assert(m.ctx:feed{time = t, touchpoint = m.agent, measures = {{m.nps, v}}}) end
	end
	function m.eval(t)
		if t > m.now then m.now = t; assert(m.ctx:set_now(t)) end
		local changed, msg = m.ctx:alerts_evaluate(t)
		check(changed ~= nil, "alerts_evaluate: " .. tostring(msg))
		return changed
	end
	return m
end

do -- LEVEL: agent NPS over the last hour below 0 for 10 min, clear at 10, cool-down 30 min
	local m = alert_world()
	local ctx = m.ctx
	local a = assert(ctx:alert_define("nps \"low\"", {
		metric = m.nps, touchpoint = m.agent, span_ms = HOUR,
		op = "<", fire = 0, clear = 10, min_samples = 5, for_ms = 10 * MIN, cooldown_ms = 30 * MIN,
	}))
	eq(a, 0, "the first alert's id")
	local s = assert(ctx:alert_status(a))
	check(s.state == "ok" and s.since_ms == nil and s.evaluated_ms == nil and s.resolved_ms == nil
		and s.fired == 0 and s.insufficient == false, "never evaluated: ok, no times")

	eq(m.eval(TA), 0, "nothing yet")
	s = ctx:alert_status(a)
	check(s.insufficient and s.since_ms == TA and s.evaluated_ms == TA and s.n == 0,
		"0 answers: insufficient, since the first evaluation")
	m.answers(4, 0, TA + MIN)
	eq(m.eval(TA + 2 * MIN), 0, "4 < 5 answers")
	eq(ctx:alert_status(a).insufficient, true, "4 answers: insufficient")
	m.answers(2, 0, TA + 3 * MIN)
	eq(m.eval(TA + 10 * MIN), 1, "6 detractors: a change")
	s = ctx:alert_status(a)
	check(s.state == "pending" and s.since_ms == TA + 10 * MIN and not s.insufficient and s.n == 6,
		"pending since 00:10")
	near(s.value, -100, 1e-9, "pending at -100")
	check(isnan(s.baseline) and isnan(s.p_value), "a LEVEL alert has no baseline nor p-value")
	eq(m.eval(TA + 19 * MIN), 0, "9 of its 10 minutes")
	eq(ctx:alert_status(a).state, "pending", "still pending at 00:19")
	eq(#poll(ctx), 0, "no event while pending")
	eq(m.eval(TA + 20 * MIN), 1, "firing: a change")
	s = ctx:alert_status(a)
	check(s.state == "firing" and s.since_ms == TA + 20 * MIN and s.fired == 1, "firing since 00:20")
	local ev = poll(ctx)
	eq(#ev, 1, "one event on firing")
	local e = ev[1] or {}
	check(e.kind == "alert firing" and e.rule == a and e.time_ms == TA + 20 * MIN and e.metric == m.nps
		and e.touchpoint == nil and e.customer == nil and e.value == -100, "the firing event's fields")
	local text = assert(ctx:export())
	check(text:find('\ncxm_alert_firing{alert="nps \\"low\\""} 1\n', 1, true) ~= nil,
		"exposition: firing 1")

	m.answers(7, 10, TA + 21 * MIN)
	eq(m.eval(TA + 25 * MIN), 0, "+7.7: above 0, below the clear level")
	s = ctx:alert_status(a)
	eq(s.state, "firing", "hysteresis: still firing")
	near(s.value, 100 / 13, 1e-9, "NPS +7.7")
	m.answers(3, 9, TA + 26 * MIN)
	eq(m.eval(TA + 30 * MIN), 1, "+25: resolved")
	s = ctx:alert_status(a)
	check(s.state == "ok" and s.resolved_ms == TA + 30 * MIN and s.since_ms == TA + 30 * MIN,
		"ok, resolved at 00:30")
	ev = poll(ctx)
	e = ev[1] or {}
	check(#ev == 1 and e.kind == "alert resolved" and e.rule == a and e.value == 25
		and e.time_ms == TA + 30 * MIN, "one resolved event at +25")
	check(e.seq ~= nil and e.seq > 0, "alert events are numbered: " .. tostring(e.seq))
	text = assert(ctx:export())
	check(text:find('\ncxm_alert_firing{alert="nps \\"low\\""} 0\n', 1, true) ~= nil,
		"exposition: firing 0")

	m.answers(30, 3, TA + 31 * MIN)
	eq(m.eval(TA + 40 * MIN), 0, "condition again, in the cool-down")
	eq(ctx:alert_status(a).state, "ok", "cool-down at 00:40")
	eq(m.eval(TA + 59 * MIN + 59999), 0, "29:59.999 after resolving")
	eq(ctx:alert_status(a).state, "ok", "cool-down at 00:59:59.999")
	eq(m.eval(TA + 60 * MIN), 1, "30 minutes after resolving")
	eq(ctx:alert_status(a).state, "pending", "pending again at 01:00")
	eq(#poll(ctx), 0, "no event for pending")
	eq(m.eval(TA + 70 * MIN), 1, "firing again")
	s = ctx:alert_status(a)
	check(s.state == "firing" and s.fired == 2 and s.resolved_ms == TA + 30 * MIN, "fired twice")
	near(s.value, (10 - 30) / 40 * 100, 1e-9, "-50: the first 6 detractors left the window")
	eq(s.n, 40, "40 answers in the window")
	eq(by_rule(poll(ctx))[a], "-50", "the second firing event")
	-- a snapshot carries the alert and its state
	local copy = fixed_ctx{customer_key = ("a"):rep(16)}
	assert(copy:load_string(assert(ctx:snapshot())))
	local cs = assert(copy:alert_status(a))
	check(cs.state == "firing" and cs.fired == 2 and cs.since_ms == TA + 70 * MIN
		and cs.resolved_ms == TA + 30 * MIN, "a loaded alert still fires")
	fails("EXISTS", "a loaded alert's name", copy.alert_define, copy, "nps \"low\"",
		{metric = m.nps, span_ms = HOUR, op = "<", fire = 0, clear = 10})
	copy:close()
	-- left out, now_ms is the context's clock
	eq(ctx:alerts_evaluate(), 0, "alerts_evaluate() at now")
	eq(ctx:alert_status(a).evaluated_ms, TA + 70 * MIN, "evaluated at the clock's now")
	if math.type then
		s = ctx:alert_status(a)
		check(math.type(s.since_ms) == "integer" and math.type(s.n) == "integer"
			and math.type(ctx:alerts_evaluate()) == "integer", "times and counts are integers on 5.3+")
	end
end

do -- CHANGE: NPS down more than 20 points against the previous hour, at 5 %
	local m = alert_world()
	local ctx = m.ctx
	local a = assert(ctx:alert_define("nps drop", {
		metric = m.nps, span_ms = HOUR, kind = "change", baseline_offset_ms = HOUR,
		op = "<", fire = -20, clear = -10, max_p_value = 0.05, min_samples = 3,
	}))
	-- hour 1: +66.7 on 3 answers; hour 2: -33.3 on 3: -100 points, not significant
	m.answers(2, 10, TA + 10 * MIN)
	m.answers(1, 8, TA + 11 * MIN)
	m.answers(1, 10, TA + HOUR + 10 * MIN)
	m.answers(2, 1, TA + HOUR + 11 * MIN)
	eq(m.eval(TA + 2 * HOUR - 1), 0, "a drop on 3 answers a side")
	local s = ctx:alert_status(a)
	eq(s.state, "ok", "-100 points but p >= 0.05")
	near(s.value, -100, 1e-9, "the change")
	near(s.baseline, 200 / 3, 1e-9, "the baseline")
	check(s.p_value >= 0.05, "not significant: " .. tostring(s.p_value))
	-- hour 4: 35 promoters, 5 detractors (+75); hour 5 the other way round (-75)
	m.answers(35, 10, TA + 3 * HOUR + 5 * MIN)
	m.answers(5, 0, TA + 3 * HOUR + 6 * MIN)
	m.answers(5, 10, TA + 4 * HOUR + 5 * MIN)
	m.answers(35, 0, TA + 4 * HOUR + 6 * MIN)
	eq(m.eval(TA + 5 * HOUR - 1), 1, "a significant drop of 150 points")
	s = ctx:alert_status(a)
	check(s.state == "firing" and s.fired == 1 and s.n == 40, "firing, 40 answers")
	near(s.value, -150, 1e-9, "the change")
	near(s.baseline, 75, 1e-9, "the baseline")
	check(s.p_value < 0.001, "p tiny: " .. tostring(s.p_value))
	local ev = poll(ctx)
	check(#ev == 1 and ev[1].kind == "alert firing" and ev[1].rule == a and ev[1].value == -150,
		"one firing event of -150")
	-- hour 6 like hour 5: a change of 0, past the clear level
	m.answers(5, 10, TA + 5 * HOUR + 5 * MIN)
	m.answers(35, 0, TA + 5 * HOUR + 6 * MIN)
	eq(m.eval(TA + 6 * HOUR - 1), 1, "resolved")
	s = ctx:alert_status(a)
	check(s.state == "ok" and s.resolved_ms == TA + 6 * HOUR - 1, "ok, resolved")
	ev = poll(ctx)
	check(#ev == 1 and ev[1].kind == "alert resolved" and ev[1].value == 0, "one resolved event at 0")
end

do -- alerts: bad arguments, returned (nil, message, code) or raised
	local m = model()
	local ctx = m.ctx
	local function def(t)
		t.metric = t.metric == nil and m.nps or t.metric
		if t.span_ms == nil then t.span_ms = HOUR end
		t.op = t.op == nil and "<" or t.op
		if t.fire == nil then t.fire = 0 end
		if t.clear == nil then t.clear = 10 end
		return t
	end
	local function bad(code, what, t) fails(code, what, ctx.alert_define, ctx, "bad", t) end
	-- from libcxm
	bad("INVALID", "op == (library)", def{op = "=="})
	bad("INVALID", "op 9 (library)", def{op = 9})
	bad("INVALID", "kind 3 (library)", def{kind = 3})
	bad("NOT_FINITE", "a NaN fire", def{fire = 0 / 0})
	bad("NOT_FINITE", "an infinite clear", def{clear = math.huge})
	bad("OUT_OF_RANGE", "clear on the firing side", def{clear = -1})
	bad("OUT_OF_RANGE", "clear on the firing side of >", def{op = ">", clear = 1})
	bad("OUT_OF_RANGE", "a negative for_ms", def{for_ms = -1})
	bad("OUT_OF_RANGE", "a negative cooldown_ms", def{cooldown_ms = -1})
	bad("OUT_OF_RANGE", "a LEVEL with a baseline offset", def{baseline_offset_ms = HOUR})
	bad("OUT_OF_RANGE", "a LEVEL with a p-value", def{max_p_value = 0.05})
	bad("OUT_OF_RANGE", "a CHANGE without its offset", def{kind = "change"})
	bad("OUT_OF_RANGE", "a p-value of 2", def{kind = "change", baseline_offset_ms = HOUR, max_p_value = 2})
	bad("KIND", "a CHANGE with a p-value on a SUM", def{metric = m.revenue, kind = "change",
		baseline_offset_ms = HOUR, max_p_value = 0.05, fire = 0, clear = 0, op = "<"})
	bad("OUT_OF_RANGE", "span_ms 0", def{span_ms = 0})
	bad("UNKNOWN_ID", "an unknown metric", def{metric = 99})
	bad("UNKNOWN_ID", "an unknown touchpoint", def{touchpoint = 99})
	bad("UNKNOWN_ID", "an unknown step name", def{journey = m.buy, step = "pay"})
	bad("UNKNOWN_ID", "an unknown segment value", def{segment = m.tier, segment_value = 3})
	fails("ENCODING", "an empty name", ctx.alert_define, ctx, "", def{})
	fails("ENCODING", "a name with a NUL byte", ctx.alert_define, ctx, "a\0b", def{})
	fails("TOO_LONG", "a long name", ctx.alert_define, ctx, ("n"):rep(300), def{})
	-- from the binding
	fails_with("INVALID", "alert: unknown field 'end_ms'", "end_ms (each evaluation's instant)",
		ctx.alert_define, ctx, "bad", def{end_ms = T0})
	fails_with("INVALID", "alert has no metric", "no metric", ctx.alert_define, ctx, "bad",
		{span_ms = HOUR, op = "<", fire = 0, clear = 1})
	fails_with("INVALID", "alert has no span_ms", "no span_ms", ctx.alert_define, ctx, "bad",
		{metric = m.nps, op = "<", fire = 0, clear = 1})
	fails_with("INVALID", "alert has no op", "no op", ctx.alert_define, ctx, "bad",
		{metric = m.nps, span_ms = HOUR, fire = 0, clear = 1})
	fails_with("INVALID", "alert has no fire", "no fire", ctx.alert_define, ctx, "bad",
		{metric = m.nps, span_ms = HOUR, op = "<", clear = 1})
	fails_with("INVALID", "alert has no clear", "no clear", ctx.alert_define, ctx, "bad",
		{metric = m.nps, span_ms = HOUR, op = "<", fire = 0})
	fails_with("INVALID", "unknown alert kind 'trend'", "an unknown kind", ctx.alert_define, ctx, "bad",
		def{kind = "trend"})
	fails_with("INVALID", "unknown op '=<'", "an unknown op", ctx.alert_define, ctx, "bad", def{op = "=<"})
	fails_with("INVALID", "fire must be a number, got string", "a string fire", ctx.alert_define, ctx,
		"bad", def{fire = "0"})
	bad("INVALID", "a boolean clear", def{clear = true})
	bad("INVALID", "a string max_p_value", def{max_p_value = "5%"})
	bad("INVALID", "a fractional for_ms", def{for_ms = 1.5})
	bad("NOT_FINITE", "a NaN cooldown_ms", def{cooldown_ms = 0 / 0})
	bad("OUT_OF_RANGE", "a negative min_samples", def{min_samples = -1})
	bad("INVALID", "a fractional min_samples", def{min_samples = 2.5})
	bad("OUT_OF_RANGE", "a baseline offset beyond 2^63", def{baseline_offset_ms = 2 ^ 63})
	bad("INVALID", "kind -1", def{kind = -1})
	bad("INVALID", "two scopes", def{touchpoint = m.agent, channel = "phone"})
	bad("INVALID", "a step without its journey", def{step = 0})
	bad("INVALID", "a segment without its value", def{segment = m.tier})
	bad("INVALID", "an unknown channel name", def{channel = "fax"})
	bad("INVALID", "a metric by name", def{metric = "nps"})
	fails_with("INVALID", "alert: field names must be strings", "a list entry", ctx.alert_define, ctx,
		"bad", def{[1] = "x"})
	raises("string expected", "alert_define(nil name)", ctx.alert_define, ctx, nil, def{})
	raises("table expected", "alert_define(name)", ctx.alert_define, ctx, "a")
	raises("table expected", "alert_define(name, string)", ctx.alert_define, ctx, "a", "nps < 0")
	raises("cxm context expected", "alert_define on a non-context", ctx.alert_define, {}, "a", def{})

	-- nothing was defined by a failure; a name once
	eq(assert(ctx:alert_define("ok", def{})), 0, "ids unchanged by failures")
	eq(assert(ctx:alert_define("by channel", def{channel = "phone", segment = m.tier,
		segment_value = m.gold, kind = 0, op = 1})), 1, "channel, segment, enum numbers")
	eq(assert(ctx:alert_define("by step", def{journey = m.support, step = "diagnosis"})), 2, "a step by name")
	fails("EXISTS", "a name defined twice", ctx.alert_define, ctx, "ok", def{})

	-- alerts_evaluate
	fails("OUT_OF_RANGE", "alerts_evaluate before 1970", ctx.alerts_evaluate, ctx, -1)
	fails("OUT_OF_RANGE", "alerts_evaluate after TIME_MAX", ctx.alerts_evaluate, ctx, cxm.TIME_MAX + 1)
	fails_with("INVALID", "now_ms must be an integer, got 1700000000000.5", "a fractional now",
		ctx.alerts_evaluate, ctx, T0 + 0.5)
	fails("NOT_FINITE", "a NaN now", ctx.alerts_evaluate, ctx, 0 / 0)
	raises("number expected", "alerts_evaluate(string)", ctx.alerts_evaluate, ctx, "now")
	eq(ctx:alert_status(0).evaluated_ms, nil, "failed evaluations evaluated nothing")
	eq(model().ctx:alerts_evaluate(T0), 0, "a context without alerts")

	-- alert_status
	fails("UNKNOWN_ID", "alert_status of an unknown alert", ctx.alert_status, ctx, 3)
	fails("UNKNOWN_ID", "alert_status without any alert", ctx.alert_status, model().ctx, 0)
	fails("OUT_OF_RANGE", "alert_status of a negative id", ctx.alert_status, ctx, -1)
	fails("INVALID", "alert_status of a fractional id", ctx.alert_status, ctx, 0.5)
	fails("OUT_OF_RANGE", "alert_status of id 2^32", ctx.alert_status, ctx, 2 ^ 32)
	raises("number expected", "alert_status(string)", ctx.alert_status, ctx, "ok")
	raises("number expected", "alert_status()", ctx.alert_status, ctx)

	ctx:close()
	for _, f in ipairs{"alert_define", "alerts_evaluate", "alert_status"} do
		raises("closed cxm context", f .. " on a closed context", ctx[f], ctx, "x", {})
	end
end

------------------------------------------------------------------------------
-- in-journey signals (the cases of tests/test_signals.c)
------------------------------------------------------------------------------

-- tests/test_signals.c's world: a shop journey of five steps (browse,
-- cart, address, pay, done), a touchpoint on each, a FAQ page off the
-- journey, a RATE (paid), a VOLUME and a DURATION; a clock that follows
-- the feeds, starting at TS.
local TS = T0
local SKEY = ("s"):rep(16)
local function signal_world(cfg)
	cfg = cfg or {}
	cfg.customer_key = cfg.customer_key or SKEY
	cfg.max_customers = cfg.max_customers or 1000
	local ctx = fixed_ctx(cfg)
	local w = {ctx = ctx, now = T0}
	w.shop = assert(ctx:journey_define("shop", {"browse", "cart", "address", "pay", "done"}))
	w.browse = assert(ctx:touchpoint_define("browse", "web", w.shop, "browse"))
	w.cart = assert(ctx:touchpoint_define("cart", "web", w.shop, "cart"))
	w.address = assert(ctx:touchpoint_define("address", "web", w.shop, "address"))
	w.pay = assert(ctx:touchpoint_define("pay", "web", w.shop, "pay"))
	w.done = assert(ctx:touchpoint_define("done", "web", w.shop, "done"))
	w.faq = assert(ctx:touchpoint_define("faq", "web"))
	w.paid = assert(ctx:metric_define("paid", "rate"))
	w.nps = assert(ctx:metric_define("nps", "nps"))
	w.calls = assert(ctx:metric_define("calls", "volume"))
	w.aht = assert(ctx:metric_define("aht", "duration"))
	-- a contact of who at tp and t; paid true or false: a payment attempt
	function w.visit(tp, t, who, paid)
		if t > w.now then w.now = t; assert(ctx:set_now(t)) end
		local ok, msg = ctx:feed{time = t, touchpoint = tp, customer = who,
			measures = paid ~= nil and {{w.paid, paid}} or nil}
		check(ok == true, "feed: " .. tostring(msg))
	end
	function w.sweep(t)
		local n, msg = ctx:journey_sweep(t)
		check(n ~= nil, "journey_sweep: " .. tostring(msg))
		return n
	end
	return w
end

do -- STUCK: at the cart for 30 min, seen by the sweep at exactly window_ms
	local w = signal_world()
	local ctx = w.ctx
	local W, t = 30 * MIN, TS
	local at_cart = assert(ctx:signal_define{kind = "stuck", journey = w.shop, step = "cart",
		window_ms = W})
	eq(at_cart, 0, "the first signal's id")
	w.visit(w.browse, t, "alice")
	w.visit(w.cart, t + MIN, "alice")           -- at the cart from t + 1 min
	w.visit(w.browse, t, "bob")
	w.visit(w.cart, t + MIN, "bob")
	w.visit(w.address, t + 20 * MIN, "bob")     -- moves on in time
	w.visit(w.browse, t, "carol")               -- stuck, but at browse
	eq(w.sweep(t + MIN + W - 1), 0, "no instance ended by the sweep")
	eq(#poll(ctx), 0, "one ms short of the window")
	w.sweep(t + MIN + W)
	local ev = poll(ctx)
	eq(#ev, 1, "exactly window_ms: inclusive")
	local e = ev[1] or {}
	eq(e.kind, "signal", "a signal's event kind")
	eq(e.rule, at_cart, "event rule: the signal")
	eq(e.customer, ctx:customer_hash("alice"), "event customer: alice")
	eq(e.time_ms, t + MIN + W, "event time_ms: when the window ran out")
	eq(e.item, 1, "event item: the step (cart)")
	eq(e.touchpoint, nil, "a STUCK event has no touchpoint")
	eq(e.metric, nil, "a STUCK event has no metric")
	eq(e.value, 1800, "event value: seconds without progress at the sweep")
	check(e.seq ~= nil, "a signal's event is numbered")
	w.sweep(t + 2 * HOUR)
	eq(#poll(ctx), 0, "later sweeps see nothing new")
	w.sweep(t + MIN + W)
	eq(#poll(ctx), 0, "a sweep far behind sees nothing either")
	eq(ctx:stats().signals_unjudged, 0, "stats.signals_unjudged")
	eq(ctx:stats().query_cache_bytes, 0, "stats.query_cache_bytes: no query has run")
	if math.type then
		eq(math.type(ctx:stats().signals_unjudged), "integer", "signals_unjudged is an integer on 5.3+")
	end

	-- any step: the first sweep after the definition sees every instant
	-- before; once per instance; re-armed, the next step stuck at
	local v = signal_world()
	local vc = v.ctx
	W = 10 * MIN
	v.visit(v.browse, t, "dan")                 -- stuck at browse from t + W
	v.visit(v.browse, t + 5 * MIN, "erin")
	v.visit(v.cart, t + 5 * MIN + 1, "erin")    -- stuck at the cart from t + 15 min + 1
	local any = assert(vc:signal_define{kind = "stuck", journey = v.shop, window_ms = W})
	v.sweep(t + HOUR)
	ev = poll(vc)
	eq(#ev, 2, "the first sweep: both")
	local got = {}
	for _, x in ipairs(ev) do
		got[x.customer == vc:customer_hash("dan") and "dan" or "erin"] = x
	end
	check(got.dan and got.dan.rule == any and got.dan.time_ms == t + W and got.dan.item == 0,
		"dan: stuck at browse from t + W")
	check(got.erin and got.erin.time_ms == t + 15 * MIN + 1 and got.erin.item == 1,
		"erin: stuck at the cart from t + 15 min + 1")
	near(got.erin and got.erin.value, (55 * MIN - 1) / 1000, 1e-9, "erin: seconds without progress")
	v.visit(v.address, t + 2 * HOUR, "erin")
	v.sweep(t + 3 * HOUR)
	eq(#poll(vc), 0, "stuck again in the instance: once per instance")
	eq(vc:signal_rearm(any, "erin"), true, "signal_rearm")
	v.sweep(t + 4 * HOUR)
	eq(#poll(vc), 0, "re-armed: the address instant has passed already")
	v.visit(v.pay, t + 5 * HOUR, "erin")
	v.sweep(t + 5 * HOUR + W)
	ev = poll(vc)
	check(#ev == 1 and ev[1].item == 3 and ev[1].time_ms == t + 5 * HOUR + W,
		"re-armed: stuck at the next step, pay")
	eq(vc:signal_enable(any, false), true, "signal_enable false")
	eq(vc:signal_get(any).enabled, false, "enabled read back")
	v.visit(v.browse, t + 6 * HOUR, "fay")
	v.sweep(t + 7 * HOUR)
	eq(#poll(vc), 0, "switched off: nothing")
	eq(vc:signal_enable(any, true), true, "signal_enable true")
	v.visit(v.browse, t + 8 * HOUR, "gus")
	v.sweep(t + 9 * HOUR)
	ev = poll(vc)
	check(#ev == 1 and ev[1].customer == vc:customer_hash("gus"), "switched on again: gus")
	w.ctx:close()
	vc:close()
end

do -- REPEAT: three contacts on a step within an hour, inclusive
	local w = signal_world()
	local ctx = w.ctx
	local t = TS
	local three = assert(ctx:signal_define{kind = "repeat", journey = w.shop, count = 3,
		window_ms = HOUR})
	-- alice reaches the cart at t, is back at +20 min and at +60 min: three
	-- contacts exactly window_ms apart
	w.visit(w.browse, t - MIN, "alice")
	w.visit(w.cart, t, "alice")
	w.visit(w.cart, t + 20 * MIN, "alice")
	eq(#poll(ctx), 0, "two contacts")
	w.visit(w.cart, t + 60 * MIN, "alice")
	local ev = poll(ctx)
	eq(#ev, 1, "the third, exactly window_ms after the first")
	local e = ev[1] or {}
	eq(e.kind, "signal", "event kind")
	eq(e.rule, three, "event rule")
	eq(e.customer, ctx:customer_hash("alice"), "event customer")
	eq(e.time_ms, t + 60 * MIN, "event time_ms: the contact's")
	eq(e.touchpoint, w.cart, "event touchpoint: the contact's")
	eq(e.item, 1, "event item: the step")
	eq(e.metric, nil, "a REPEAT event has no metric")
	eq(e.value, 3, "event value: how many contacts")
	w.visit(w.cart, t + 61 * MIN, "alice")
	eq(#poll(ctx), 0, "once per instance")
	eq(ctx:signal_rearm(three, "alice"), true, "signal_rearm")
	w.visit(w.cart, t + 62 * MIN, "alice")
	ev = poll(ctx)
	check(#ev == 1 and ev[1].value == 4, "re-armed: the next contact, 4 in the window")
	-- bob: one ms too late for the first; a fourth makes three
	w.visit(w.browse, t - MIN, "bob")
	w.visit(w.cart, t, "bob")
	w.visit(w.cart, t + 20 * MIN, "bob")
	w.visit(w.cart, t + 60 * MIN + 1, "bob")
	eq(#poll(ctx), 0, "window_ms + 1 ms: not within")
	w.visit(w.cart, t + 70 * MIN, "bob")
	ev = poll(ctx)
	check(#ev == 1 and ev[1].customer == ctx:customer_hash("bob") and ev[1].value == 3,
		"bob: three within the hour")
	-- carol: contacts below the step reached are no repeats, moving on
	-- starts afresh
	w.visit(w.browse, t - MIN, "carol")
	w.visit(w.cart, t, "carol")
	w.visit(w.browse, t + MIN, "carol")
	w.visit(w.browse, t + 2 * MIN, "carol")
	w.visit(w.cart, t + 3 * MIN, "carol")
	w.visit(w.address, t + 4 * MIN, "carol")
	w.visit(w.address, t + 5 * MIN, "carol")
	eq(#poll(ctx), 0, "carol: two on the cart, two on the address")
	w.visit(w.address, t + 6 * MIN, "carol")
	ev = poll(ctx)
	check(#ev == 1 and ev[1].item == 2, "carol: three on the address")
	eq(ctx:signal_rearm(three, "never seen"), true, "re-arming a customer never seen")
	eq(ctx:signal_rearm(three, 12345), true, "a numeric customer id")
	-- a step by id; a signal defined off
	local pay2 = assert(ctx:signal_define{kind = "repeat", journey = w.shop, step = 3, count = 2,
		window_ms = 10 * MIN, enabled = false})
	local g = assert(ctx:signal_get(pay2))
	check(g.kind == "repeat" and g.journey == w.shop and g.step == 3 and g.count == 2
		and g.window_ms == 10 * MIN and g.enabled == false and g.metric == nil and g.op == nil
		and g.threshold == nil and g.item == nil, "signal_get of a REPEAT defined off")
	eq(ctx:signal_get(three).step, nil, "any step: step nil")
	w.visit(w.browse, t, "dan")
	w.visit(w.pay, t + 1, "dan")
	w.visit(w.pay, t + 2, "dan")
	eq(#poll(ctx), 0, "defined off: nothing")
	ctx:close()
end

do -- BACKWARDS: a contact below the highest step reached
	local w = signal_world()
	local ctx = w.ctx
	local t = TS
	local back = assert(ctx:signal_define{kind = "backwards", journey = w.shop})
	local from_cart = assert(ctx:signal_define{kind = "backwards", journey = w.shop, step = "cart"})
	w.visit(w.browse, t, "alice")
	w.visit(w.address, t + MIN, "alice")
	w.visit(w.address, t + 2 * MIN, "alice")
	eq(#poll(ctx), 0, "the same step: not back")
	w.visit(w.cart, t + 3 * MIN, "alice")
	local ev = poll(ctx)
	eq(#ev, 1, "back from the address")
	local e = ev[1] or {}
	eq(e.kind, "signal", "event kind")
	eq(e.rule, back, "event rule: any step")
	eq(e.item, 2, "event item: the step it went back from")
	eq(e.value, 1, "event value: the step it went back to")
	eq(e.touchpoint, w.cart, "event touchpoint")
	eq(e.time_ms, t + 3 * MIN, "event time_ms")
	w.visit(w.browse, t + 4 * MIN, "alice")
	eq(#poll(ctx), 0, "once per instance")
	w.visit(w.browse, t, "bob")
	w.visit(w.cart, t + MIN, "bob")
	w.visit(w.browse, t + 2 * MIN, "bob")
	ev = poll(ctx)
	check(#ev == 2 and (ev[1].rule + ev[2].rule) == back + from_cart, "bob: both signals")
	-- a new instance starts afresh: alice reaches the goal, comes back
	w.visit(w.done, t + 5 * MIN, "alice")
	w.visit(w.browse, t + 6 * MIN, "alice")
	w.visit(w.cart, t + 7 * MIN, "alice")
	eq(#poll(ctx), 0, "a new instance")
	w.visit(w.browse, t + 8 * MIN, "alice")
	eq(#poll(ctx), 2, "a new instance: both again")
	w.visit(w.faq, t + 9 * MIN, "alice")
	w.visit(w.cart, t + 9 * MIN, "nobody")
	eq(#poll(ctx), 0, "off the journey, or no instance: nothing")
	local g = assert(ctx:signal_get(from_cart))
	check(g.kind == "backwards" and g.step == 1 and g.count == nil and g.window_ms == nil
		and g.enabled == true, "signal_get of a BACKWARDS: no count, no window")
	ctx:close()
end

do -- FAILURE: two failed payments (paid == false) at pay within 10 min
	local w = signal_world()
	local ctx = w.ctx
	local W, t = 10 * MIN, TS
	local twice = assert(ctx:signal_define{kind = "failure", journey = w.shop, step = "pay",
		count = 2, window_ms = W, metric = w.paid, op = "==", threshold = false})
	local g = assert(ctx:signal_get(twice))
	check(g.kind == "failure" and g.step == 3 and g.count == 2 and g.window_ms == W
		and g.metric == w.paid and g.item == 0 and g.op == "==" and g.threshold == 0,
		"signal_get of a FAILURE: threshold false is 0")
	w.visit(w.browse, t - MIN, "alice")
	w.visit(w.pay, t, "alice", false)
	w.visit(w.pay, t + MIN, "alice", true)
	eq(#poll(ctx), 0, "a success is no failure")
	w.visit(w.pay, t + W, "alice", false)
	local ev = poll(ctx)
	eq(#ev, 1, "the second failure, exactly window_ms after the first")
	local e = ev[1] or {}
	eq(e.kind, "signal", "event kind")
	eq(e.rule, twice, "event rule")
	eq(e.metric, w.paid, "event metric: the signal's")
	eq(e.touchpoint, w.pay, "event touchpoint")
	eq(e.item, 3, "event item: the step")
	eq(e.value, 2, "event value: how many failures")
	eq(e.customer, ctx:customer_hash("alice"), "event customer")
	w.visit(w.pay, t + W + 1, "alice", false)
	eq(#poll(ctx), 0, "once per instance")
	-- bob: one ms too far apart; a failure on another step is not this one's
	w.visit(w.browse, t - MIN, "bob")
	w.visit(w.pay, t, "bob", false)
	w.visit(w.address, t + MIN, "bob", false)
	w.visit(w.pay, t + W + 1, "bob", false)
	eq(#poll(ctx), 0, "window_ms + 1 ms apart")
	w.visit(w.pay, t + W + 2, "bob", false)
	eq(#poll(ctx), 1, "bob: two within the window")
	-- with no instance, a failure belongs to none
	w.visit(w.pay, t, "carol", false)
	w.visit(w.pay, t + 1, "carol", false)
	eq(#poll(ctx), 0, "no instance: nothing")
	-- any step, once, the op by number (CXM_CMP_EQ), a DURATION over 600 s
	local once = assert(ctx:signal_define{kind = 4, journey = w.shop, count = 1, window_ms = HOUR,
		metric = w.paid, op = 4, threshold = 0})
	local slow = assert(ctx:signal_define{kind = "failure", journey = w.shop, count = 1,
		window_ms = HOUR, metric = w.aht, op = ">", threshold = 600})
	eq(ctx:signal_get(once).op, "==", "op 4 is \"==\"")
	w.visit(w.browse, t + 2 * HOUR, "dan")
	assert(ctx:feed{time = t + 2 * HOUR + 1, touchpoint = w.cart, customer = "dan",
		measures = {{w.aht, 601}, {w.paid, 0}}})
	local got = by_rule(poll(ctx))
	eq(got[once], "1", "a failure at the cart")
	eq(got[slow], "1", "a DURATION above 600 s")
	eq(got[twice], nil, "not at pay")
	eq(ctx:stats().signals_unjudged, 0, "nothing unjudged")
	ctx:close()
end

do -- a snapshot keeps the signals, on or off, and each customer's state
	local w = signal_world()
	local ctx = w.ctx
	local back = assert(ctx:signal_define{kind = "backwards", journey = w.shop})
	local rep = assert(ctx:signal_define{kind = "repeat", journey = w.shop, count = 3, window_ms = HOUR})
	local stuck = assert(ctx:signal_define{kind = "stuck", journey = w.shop, window_ms = HOUR})
	local fail = assert(ctx:signal_define{kind = "failure", journey = w.shop, step = "pay", count = 2,
		window_ms = HOUR, metric = w.paid, op = "==", threshold = false})
	eq(ctx:signal_enable(fail, false), true, "one switched off")
	local t = TS
	w.visit(w.browse, t, "alice")
	w.visit(w.cart, t + MIN, "alice")
	w.visit(w.browse, t + 2 * MIN, "alice")   -- back: fired
	w.visit(w.browse, t, "bob")
	w.visit(w.cart, t + MIN, "bob")
	w.visit(w.cart, t + 2 * MIN, "bob")       -- two of three
	w.sweep(t + 2 * HOUR)                     -- both stuck
	local ev = poll(ctx)
	eq(#ev, 3, "back, and two stuck")
	local snap = assert(ctx:snapshot())
	local copy = fixed_ctx{customer_key = SKEY, max_customers = 1000}
	assert(copy:set_now(w.now))
	eq(copy:load_string(snap), true, "load_string")
	for _, id in ipairs{back, rep, stuck, fail} do
		local a, b = assert(ctx:signal_get(id)), assert(copy:signal_get(id))
		local same = true
		for k, v in pairs(a) do same = same and b[k] == v end
		for k in pairs(b) do same = same and a[k] ~= nil end
		check(same, "a loaded signal is the same, signal " .. id)
	end
	eq(copy:signal_get(fail).enabled, false, "off when saved: off when loaded")
	fails("UNKNOWN_ID", "no fifth signal", copy.signal_get, copy, 4)
	-- alice's fired signal is remembered; bob's two contacts too
	local m = {now = w.now}
	local function visit(tp, t2, who)
		if t2 > m.now then m.now = t2; assert(copy:set_now(t2)) end
		assert(copy:feed{time = t2, touchpoint = tp, customer = who})
	end
	visit(w.browse, t + 3 * MIN, "alice")
	eq(#poll(copy), 0, "alice's BACKWARDS fired before the snapshot")
	visit(w.cart, t + 3 * MIN, "bob")
	ev = poll(copy)
	check(#ev == 1 and ev[1].rule == rep and ev[1].value == 3, "bob's third contact")
	copy:journey_sweep(t + 2 * HOUR)
	eq(#poll(copy), 0, "the last sweep's instant came along")
	-- a merge keeps the target's signals
	eq(copy:merge_string(snap), true, "merge_string")
	fails("UNKNOWN_ID", "still no fifth signal", copy.signal_get, copy, 4)
	-- what signal_get gives, signal_define takes
	for _, id in ipairs{back, rep, stuck, fail} do
		local d = assert(ctx:signal_get(id))
		local again = assert(ctx:signal_define(d))
		local d2 = assert(ctx:signal_get(again))
		local same = true
		for k, v in pairs(d) do same = same and d2[k] == v end
		for k in pairs(d2) do same = same and d[k] ~= nil end
		check(same, "signal_get → signal_define round trip, signal " .. id)
	end
	copy:close()
	ctx:close()
end

do -- signals: bad arguments, returned (nil, message, code) or raised
	local w = signal_world()
	local ctx = w.ctx
	local function def(t)
		if t.kind == nil then t.kind = "repeat" end
		if t.journey == nil then t.journey = w.shop end
		if t.count == nil and t.kind == "repeat" then t.count = 2 end
		if t.window_ms == nil and t.kind == "repeat" then t.window_ms = HOUR end
		return t
	end
	local function fdef(t)
		t.kind = "failure"
		if t.count == nil then t.count = 1 end
		if t.window_ms == nil then t.window_ms = HOUR end
		if t.metric == nil then t.metric = w.paid end
		if t.op == nil then t.op = "==" end
		if t.threshold == nil then t.threshold = false end
		return def(t)
	end
	local function bad(code, what, t) fails(code, what, ctx.signal_define, ctx, t) end
	-- from libcxm
	bad("INVALID", "kind 0 (library)", def{kind = 0})
	bad("INVALID", "kind 5 (library)", def{kind = 5})
	bad("UNKNOWN_ID", "an unknown journey", def{journey = 9})
	bad("UNKNOWN_ID", "an unknown step id", def{step = 5})
	bad("UNKNOWN_ID", "an unknown step name", def{step = "refund"})
	fails_with("OUT_OF_RANGE", "count 1", "a REPEAT of 1", ctx.signal_define, ctx, def{count = 1})
	bad("OUT_OF_RANGE", "a REPEAT of 9", def{count = 9})
	bad("OUT_OF_RANGE", "a REPEAT without its count", {kind = "repeat", journey = w.shop,
		window_ms = HOUR})
	bad("OUT_OF_RANGE", "a REPEAT without its window", def{window_ms = 0})
	bad("OUT_OF_RANGE", "a window above CXM_JOURNEY_MAX_WINDOW_MS", def{window_ms = 400 * DAY + 1})
	bad("OUT_OF_RANGE", "a negative window", def{window_ms = -1})
	bad("INVALID", "a metric on a REPEAT", def{metric = w.paid})
	bad("INVALID", "an op on a REPEAT", def{op = "<="})
	bad("INVALID", "a threshold on a REPEAT", def{threshold = 1})
	bad("OUT_OF_RANGE", "a BACKWARDS with a window", {kind = "backwards", journey = w.shop, window_ms = HOUR})
	bad("OUT_OF_RANGE", "a BACKWARDS with a count", {kind = "backwards", journey = w.shop, count = 2})
	bad("OUT_OF_RANGE", "STUCK at the goal", {kind = "stuck", journey = w.shop, step = "done",
		window_ms = HOUR})
	bad("OUT_OF_RANGE", "a STUCK with a count", {kind = "stuck", journey = w.shop, count = 2,
		window_ms = HOUR})
	bad("KIND", "a FAILURE of a VOLUME", fdef{metric = w.calls})
	bad("UNKNOWN_ID", "a FAILURE of an unknown metric", fdef{metric = 99})
	bad("OUT_OF_RANGE", "item 1 of a RATE", fdef{item = 1})
	bad("INVALID", "op 6 (library)", fdef{op = 6})
	bad("NOT_FINITE", "a NaN threshold", fdef{threshold = 0 / 0})
	bad("NOT_FINITE", "an infinite threshold", fdef{threshold = -math.huge})
	bad("OUT_OF_RANGE", "a FAILURE of 0", fdef{count = 0})
	bad("OUT_OF_RANGE", "a FAILURE of 9", fdef{count = 9})
	-- from the binding
	fails_with("INVALID", "signal: unknown field 'steps'", "an unknown field", ctx.signal_define, ctx,
		def{steps = 1})
	fails_with("INVALID", "signal: unknown field 'window'", "a duration without _ms",
		ctx.signal_define, ctx, def{window = HOUR})
	fails_with("INVALID", "signal: field names must be strings", "a list entry", ctx.signal_define,
		ctx, def{[1] = "x"})
	fails_with("INVALID", "unknown signal kind 'slow'", "an unknown kind name", ctx.signal_define,
		ctx, def{kind = "slow"})
	bad("INVALID", "a kind name in upper case", def{kind = "REPEAT"})
	bad("INVALID", "kind -1", def{kind = -1})
	bad("INVALID", "kind true", def{kind = true})
	fails_with("INVALID", "signal has no kind", "no kind", ctx.signal_define, ctx, {journey = w.shop})
	fails_with("INVALID", "signal has no journey", "no journey", ctx.signal_define, ctx,
		{kind = "backwards"})
	fails_with("INVALID", "failure signal has no metric", "a FAILURE without its metric",
		ctx.signal_define, ctx, {kind = "failure", journey = w.shop, count = 1, window_ms = HOUR,
		op = "==", threshold = 0})
	fails_with("INVALID", "failure signal has no op", "a FAILURE without its op", ctx.signal_define,
		ctx, {kind = "failure", journey = w.shop, count = 1, window_ms = HOUR, metric = w.paid,
		threshold = 0})
	fails_with("INVALID", "failure signal has no threshold", "a FAILURE without its threshold",
		ctx.signal_define, ctx, {kind = "failure", journey = w.shop, count = 1, window_ms = HOUR,
		metric = w.paid, op = "=="})
	fails_with("OUT_OF_RANGE", "count must be an integer in 0 .. 4294967295, got -1", "count -1",
		ctx.signal_define, ctx, def{count = -1})
	fails_with("INVALID", "count must be an integer, got 2.5", "count 2.5", ctx.signal_define, ctx,
		def{count = 2.5})
	bad("INVALID", "count \"2\"", def{count = "2"})
	bad("NOT_FINITE", "a NaN count", def{count = 0 / 0})
	bad("INVALID", "a fractional window", def{window_ms = 1.5})
	bad("INVALID", "a window of the wrong type", def{window_ms = "1h"})
	bad("INVALID", "a journey by name", def{journey = "shop"})
	bad("OUT_OF_RANGE", "a negative journey", def{journey = -1})
	bad("INVALID", "a step that is a table", def{step = {}})
	bad("INVALID", "an unknown op", fdef{op = "=<"})
	fails_with("INVALID", "threshold must be a number, got string", "a string threshold",
		ctx.signal_define, ctx, fdef{threshold = "0"})
	bad("OUT_OF_RANGE", "a negative item", fdef{item = -1})
	bad("INVALID", "a metric by name", fdef{metric = "paid"})
	bad("INVALID", "enabled 1", def{enabled = 1})
	raises("table expected", "signal_define(string)", ctx.signal_define, ctx, "repeat")
	raises("table expected", "signal_define()", ctx.signal_define, ctx)
	raises("cxm context expected", "signal_define on a non-context", ctx.signal_define, {}, def{})

	-- nothing was defined by a failure
	fails("UNKNOWN_ID", "signal_get without any signal", ctx.signal_get, ctx, 0)
	fails("UNKNOWN_ID", "signal_enable without any signal", ctx.signal_enable, ctx, 0, true)
	fails("UNKNOWN_ID", "signal_rearm without any signal", ctx.signal_rearm, ctx, 0, "alice")
	eq(assert(ctx:signal_define(def{})), 0, "ids unchanged by failures")
	eq(assert(ctx:signal_define(fdef{})), 1, "a FAILURE")
	fails("UNKNOWN_ID", "signal_get of an unknown signal", ctx.signal_get, ctx, 2)
	fails("OUT_OF_RANGE", "signal_get of a negative id", ctx.signal_get, ctx, -1)
	fails("INVALID", "signal_get of a fractional id", ctx.signal_get, ctx, 0.5)
	fails("OUT_OF_RANGE", "signal_get of id 2^32", ctx.signal_get, ctx, 2 ^ 32)
	raises("number expected", "signal_get(string)", ctx.signal_get, ctx, "0")
	raises("number expected", "signal_get()", ctx.signal_get, ctx)
	fails("UNKNOWN_ID", "signal_enable of an unknown signal", ctx.signal_enable, ctx, 99, true)
	fails("OUT_OF_RANGE", "signal_enable of a negative id", ctx.signal_enable, ctx, -1, true)
	fails("INVALID", "signal_enable of a fractional id", ctx.signal_enable, ctx, 0.5, false)
	raises("boolean expected", "signal_enable(s, 1)", ctx.signal_enable, ctx, 0, 1)
	raises("boolean expected", "signal_enable(s)", ctx.signal_enable, ctx, 0)
	raises("number expected", "signal_enable(\"0\", true)", ctx.signal_enable, ctx, "0", true)
	fails("UNKNOWN_ID", "signal_rearm of an unknown signal", ctx.signal_rearm, ctx, 2, "alice")
	fails("OUT_OF_RANGE", "signal_rearm of a negative id", ctx.signal_rearm, ctx, -1, "alice")
	fails("INVALID", "signal_rearm of a fractional id", ctx.signal_rearm, ctx, 0.5, "alice")
	fails("INVALID", "signal_rearm of an empty customer id", ctx.signal_rearm, ctx, 0, "")
	fails("TOO_LONG", "signal_rearm of a long customer id", ctx.signal_rearm, ctx, 0, ("x"):rep(300))
	raises("string expected", "signal_rearm(s)", ctx.signal_rearm, ctx, 0)
	raises("string expected", "signal_rearm(s, table)", ctx.signal_rearm, ctx, 0, {})
	raises("number expected", "signal_rearm(\"0\", id)", ctx.signal_rearm, ctx, "0", "alice")

	-- the limit: 64 signals a context
	for _ = 3, 64 do assert(ctx:signal_define(def{})) end
	fails_with("LIMIT", "64 signals", "the 65th signal", ctx.signal_define, ctx, def{})

	ctx:close()
	for _, f in ipairs{"signal_define", "signal_enable", "signal_get", "signal_rearm"} do
		raises("closed cxm context", f .. " on a closed context", ctx[f], ctx, {}, true)
	end
end

------------------------------------------------------------------------------
-- end_ms = "watermark": history fed in bulk, a year before the clock
------------------------------------------------------------------------------
do
	local ctx = fixed_ctx()
	local tp = assert(ctx:touchpoint_define("ivr", "phone"))
	local calls = assert(ctx:metric_define("calls", "volume"))
	local YEAR = 365 * DAY
	for i = 0, 89 do assert(ctx:feed{time = T0 - YEAR + i * MIN, touchpoint = tp}) end
	local now = assert(ctx:query{metric = calls, span_ms = HOUR})
	eq(now.n, 0, "a window ending now misses last year's history")
	local w = assert(ctx:query{metric = calls, span_ms = HOUR, end_ms = "watermark"})
	eq(w.n, 60, "a window ending at the watermark holds its last hour")
	local last = T0 - YEAR + 89 * MIN
	eq(w.end_ms, last - last % MIN + MIN, "it ends with the newest interaction's minute")
	eq(assert(ctx:query{metric = calls, span_ms = HOUR, end_ms = "now"}).end_ms, now.end_ms,
		"\"now\" is the clock")
	local s = assert(ctx:query_series({metric = calls, span_ms = 2 * HOUR, end_ms = "watermark"}, HOUR))
	eq(#s, 2, "a series to the watermark")
	eq(s[1].n + s[2].n, 90, "the series holds the history")
	fails("INVALID", "end_ms of another word", ctx.query, ctx,
		{metric = calls, span_ms = HOUR, end_ms = "yesterday"})
	ctx:close()
end

------------------------------------------------------------------------------
-- sentiment scores (docs/outcomes.md)
------------------------------------------------------------------------------
do
	local ctx = fixed_ctx()
	local s = assert(ctx:metric_define("mood", "sentiment"))
	local tp = assert(ctx:touchpoint_define("chat", "chat"))
	for _, v in ipairs{0.8, -0.6, 0.05, 0, -0.05, 0.5} do
		assert(ctx:feed{time = T0, touchpoint = tp, measures = {{s, v}}})
	end
	local r = assert(ctx:query{metric = s, span_ms = HOUR})
	check(r.kind == "sentiment" and r.headline == "mean" and r.n == 6 and r.top == 3 and r.bottom == 2,
		"sentiment: kind, headline, positive and negative counts")
	near(r.value, 0.7 / 6, 1e-12, "sentiment: the mean")
	eq(assert(ctx:metric_get(s)).kind, "sentiment", "sentiment: the definition's kind")
	fails("OUT_OF_RANGE", "a score above 1", ctx.feed, ctx,
		{time = T0, touchpoint = tp, measures = {{s, 1.5}}})
	ctx:close()
end

------------------------------------------------------------------------------
-- named baselines (the weeks of tests/test_baselines.c)
------------------------------------------------------------------------------
do
	local WEEK = 7 * DAY
	local ctx = assert(cxm.new{clock = "fixed", now = T0, tiers = {{MIN, 120}, {HOUR, 24 * 30}}})
	local nps = assert(ctx:metric_define("nps", "nps"))
	local tp = assert(ctx:touchpoint_define("agent", "phone"))
	for i = 0, 39 do
		assert(ctx:feed{time = T0 - 2 * WEEK + HOUR + i * HOUR, touchpoint = tp,
			measures = {{nps, i < 20 and 9 or 0}}})
	end
	for i = 0, 39 do
		assert(ctx:feed{time = T0 - WEEK + HOUR + i * HOUR, touchpoint = tp,
			measures = {{nps, i < 30 and 9 or 0}}})
	end
	local wk = assert(ctx:baseline_define("last week", {kind = "offset", offset_ms = WEEK}))
	assert(ctx:baseline_define("benchmark", {kind = "target", metric = "nps", target = 40}))
	local q = {metric = nps, span_ms = WEEK, end_ms = T0 - 1}
	local c = assert(ctx:query_baseline(q, wk))
	near(c.a, 0, 1e-9, "vs last week: a is last week's NPS")
	near(c.difference, 50, 1e-9, "vs last week: the difference")
	c = assert(ctx:query_baseline(q, "benchmark"))
	check(c.a == 40 and c.n_a == 0 and math.abs(c.difference - 10) < 1e-9, "vs the target")
	local b = assert(ctx:baseline_get("benchmark"))
	check(b.kind == "target" and b.target == 40 and b.metric == nps, "baseline_get")
	fails("EXISTS", "a baseline of the same name", ctx.baseline_define, ctx, "benchmark",
		{kind = "offset", offset_ms = DAY})
	fails("INVALID", "an unknown kind", ctx.baseline_define, ctx, "x", {kind = "fortnight"})
	fails("UNKNOWN_ID", "an unknown baseline", ctx.query_baseline, ctx, q, "nope")
	ctx:close()
end

------------------------------------------------------------------------------
-- key drivers (the planted effects and hand-worked bands of tests/test_drivers.c)
------------------------------------------------------------------------------
do
	-- Park and Miller's generator: every product below 2^53 and every state
	-- below 2^31, so 5.1 (doubles), 5.3+ (integers) and LuaJIT agree
	local seed = 42
	local function rand(n) -- 0 .. n - 1
		seed = seed * 16807 % 2147483647
		return seed % n
	end
	local function unit() -- (0, 1)
		seed = seed * 16807 % 2147483647
		return seed / 2147483647
	end
	local key = ("k"):rep(16) -- for the snapshot below
	local ctx = fixed_ctx{customer_key = key}
	local tps = {}
	for i = 1, 5 do tps[i] = assert(ctx:touchpoint_define("tp" .. i, "phone")) end
	local survey = assert(ctx:touchpoint_define("survey", "email"))
	local shop = assert(ctx:touchpoint_define("shop", "web"))
	local csat = assert(ctx:metric_define("csat", "csat5"))
	local nps = assert(ctx:metric_define("nps", "nps"))
	local revenue = assert(ctx:metric_define("revenue", "amount"))
	-- the metrics and some touchpoints by name, the others by id
	local set = assert(ctx:drivers_define("csat drivers of nps", {outcome = "nps", driver = csat,
		touchpoints = {"tp1", tps[2], "tp3", tps[4], "tp5"}, window_ms = 7 * DAY}))
	eq(set, 0, "the first driver set's id")
	eq(ctx:drivers_find("csat drivers of nps"), set, "drivers_find")
	local got = assert(ctx:drivers_get("csat drivers of nps"))
	eq(got.id, set, "drivers_get: the id")
	eq(got.name, "csat drivers of nps", "drivers_get: the name")
	eq(got.outcome, nps, "drivers_get: the outcome")
	eq(got.driver, csat, "drivers_get: the driver")
	eq(got.journey, nil, "drivers_get: no journey")
	eq(#got.touchpoints, 5, "drivers_get: five touchpoints")
	eq(got.touchpoints[2], tps[2], "drivers_get: in order")
	eq(got.overall, false, "drivers_get: no overall driver")
	eq(got.window_ms, 7 * DAY, "drivers_get: the window")
	-- NPS = 6 + (csat1 - 3) + 0.5 (csat2 - 3) + noise, clamped to 0 .. 10;
	-- csat3 .. csat5 have no effect. Customer c visits every touchpoint a
	-- second apart, then answers.
	local N = 600
	local x, y = {}, {}
	for c = 1, N do
		local t = T0 - 12 * HOUR + c * MIN
		x[c] = {}
		for i = 1, 5 do
			x[c][i] = 1 + rand(5)
			assert(ctx:feed{time = t + i * 1000, touchpoint = tps[i], customer = "c" .. c,
				measures = {{csat, x[c][i]}}})
		end
		local noise = (unit() + unit() + unit() + unit() - 2) * 1.2 * math.sqrt(3)
		local v = math.floor(6 + (x[c][1] - 3) + 0.5 * (x[c][2] - 3) + noise + 0.5)
		y[c] = v < 0 and 0 or v > 10 and 10 or v
		assert(ctx:feed{time = t + 6000, touchpoint = survey, customer = "c" .. c,
			measures = {{nps, y[c]}}})
	end
	local r = assert(ctx:key_drivers(set))
	check(r.n_drivers == 5 and #r.drivers == 5, "five drivers")
	check(r.outcomes == N and r.paired == N and r.customers == N and r.unremembered == 0,
		"outcomes, paired, customers, unremembered")
	check(r.memory_bytes > 0, "memory_bytes")
	local function pearson(i)
		local mx, my = 0, 0
		for c = 1, N do mx, my = mx + x[c][i], my + y[c] end
		mx, my = mx / N, my / N
		local sxx, syy, sxy = 0, 0, 0
		for c = 1, N do
			sxx = sxx + (x[c][i] - mx) ^ 2
			syy = syy + (y[c] - my) ^ 2
			sxy = sxy + (x[c][i] - mx) * (y[c] - my)
		end
		return sxy / math.sqrt(sxx * syy), mx
	end
	for i, d in ipairs(r.drivers) do
		eq(d.touchpoint, tps[i], "driver " .. i .. ": its touchpoint, in definition order")
		eq(d.overall, false, "driver " .. i .. " is not the overall one")
		eq(d.n, N, "driver " .. i .. ": pairs")
		local rho, mean = pearson(i)
		near(d.importance, rho, 1e-9, "driver " .. i .. ": importance is Pearson's r")
		near(d.performance, mean, 1e-9, "driver " .. i .. ": performance is the mean csat")
		check(d.ci_low < d.importance and d.importance < d.ci_high, "driver " .. i .. ": r in its interval")
		check(type(d.significant) == "boolean", "driver " .. i .. ": significant is a boolean")
		check(d.quadrant == "none" or d.quadrant == "strength" or d.quadrant == "priority" or
			d.quadrant == "maintain" or d.quadrant == "low", "driver " .. i .. ": a quadrant's name")
		eq(#d.bands, 3, "driver " .. i .. ": three bands")
	end
	-- ranked by importance: the strongest planted driver first, then the other
	local ranked = {}
	for _, d in ipairs(r.drivers) do ranked[#ranked + 1] = d end
	table.sort(ranked, function(a, b) return a.importance > b.importance end)
	eq(ranked[1].touchpoint, tps[1], "the strongest planted driver ranks first")
	eq(ranked[2].touchpoint, tps[2], "the weaker planted driver ranks second")
	local d1 = r.drivers[1]
	check(d1.significant and r.drivers[2].significant and d1.p_value < 1e-20,
		"the planted drivers are significant")
	-- the strongest performs a little below the mean (3.0 against 3.01)
	eq(d1.quadrant, "priority", "the strongest driver's quadrant")
	eq(r.drivers[2].quadrant, "strength", "the weaker planted driver's quadrant")
	for i = 3, 5 do
		local d = r.drivers[i]
		check(math.abs(d.importance) < 0.1 and not d.significant, "null driver " .. i .. " is small")
		check(d.quadrant == "maintain" or d.quadrant == "low", "null driver " .. i .. " is not important")
	end
	-- csat's bands: 1-2 bottom, 3 middle, 4-5 top
	local sum, cnt = {0, 0, 0}, {0, 0, 0}
	for c = 1, N do
		local b = x[c][1] >= 4 and 3 or x[c][1] <= 2 and 1 or 2
		sum[b], cnt[b] = sum[b] + y[c], cnt[b] + 1
	end
	for b = 1, 3 do
		eq(d1.bands[b].n, cnt[b], "band " .. b .. ": its count")
		near(d1.bands[b].mean, sum[b] / cnt[b], 1e-9, "band " .. b .. ": its mean")
		check(d1.bands[b].ci_low < d1.bands[b].mean and d1.bands[b].mean < d1.bands[b].ci_high,
			"band " .. b .. ": its interval")
	end
	near(d1.band_difference, sum[3] / cnt[3] - sum[1] / cnt[1], 1e-9, "top band minus bottom band")
	check(d1.band_ci_low < d1.band_difference and d1.band_difference < d1.band_ci_high and
		d1.band_p_value < 1e-10, "the band difference's interval and p-value")

	-- revenue by NPS band through the overall driver: detractors 50 and 70,
	-- a passive 80, promoters 90, 110 and 100
	local rev = assert(ctx:drivers_define("revenue by nps", {outcome = revenue, driver = "nps",
		overall = true}))
	eq(rev, 1, "the second driver set's id")
	local answers, amounts = {3, 6, 8, 9, 10, 9}, {50, 70, 80, 90, 110, 100}
	for c = 1, 6 do
		assert(ctx:feed{time = T0 - 3 * HOUR + c * MIN, touchpoint = tps[(c - 1) % 5 + 1],
			customer = "r" .. c, measures = {{nps, answers[c]}}})
	end
	for c = 1, 6 do
		assert(ctx:feed{time = T0 - HOUR + c * MIN, touchpoint = shop, customer = "r" .. c,
			measures = {{revenue, amounts[c]}}})
	end
	r = assert(ctx:key_drivers("revenue by nps"))
	eq(r.n_drivers, 1, "one driver: the overall one")
	local o = r.drivers[1]
	check(o.touchpoint == nil and o.overall == true, "the overall driver has no touchpoint")
	eq(o.n, 6, "the overall driver's pairs")
	check(o.bands[1].n == 2 and o.bands[2].n == 1 and o.bands[3].n == 3, "the bands' counts")
	near(o.bands[1].mean, 60, 1e-12, "detractors' revenue")
	near(o.bands[2].mean, 80, 1e-12, "passives' revenue")
	near(o.bands[3].mean, 100, 1e-12, "promoters' revenue")
	check(isnan(o.bands[2].ci_low) and isnan(o.bands[2].ci_high), "one passive: no interval")
	-- detractors: sd 14.142, t(0.975, 1) = 12.706; promoters: sd 10, t(0.975, 2) = 4.303
	near(o.bands[1].ci_low, 60 - 12.706204736174698 * 10, 1e-6, "detractors' interval")
	near(o.bands[3].ci_high, 100 + 4.302652729749464 * 10 / math.sqrt(3), 1e-6, "promoters' interval")
	near(o.band_difference, 40, 1e-12, "what a detractor costs")
	check(o.band_p_value > 0.05 and o.band_p_value < 0.2, "Welch's p of 3 against 2")
	check(o.importance > 0.8, "revenue correlates with the answer")
	-- the earlier answers paired with nothing: they came before the set
	eq(assert(ctx:key_drivers(set)).paired, N, "csat drivers: revenue is no outcome of theirs")

	-- drivers from a journey's steps (the journey by name), the overall one last
	local j = assert(ctx:journey_define("buy", {"call", "visit", "order"}))
	local order = assert(ctx:touchpoint_define("order page", "web", j, "order"))
	local call = assert(ctx:touchpoint_define("sales call", "phone", j, "call"))
	local store = assert(ctx:touchpoint_define("store", "other", j, "visit"))
	local js = assert(ctx:drivers_define("buy", {outcome = nps, driver = csat, journey = "buy",
		overall = true}))
	r = assert(ctx:key_drivers(js))
	eq(r.n_drivers, 4, "three steps and the overall driver")
	check(r.drivers[1].touchpoint == call and r.drivers[2].touchpoint == store and
		r.drivers[3].touchpoint == order and r.drivers[4].overall, "in step order, overall last")
	check(r.drivers[1].n == 0 and isnan(r.drivers[1].importance) and r.drivers[1].quadrant == "none",
		"a driver with no pairs")

	-- a snapshot keeps the sets and their statistics
	local copy = fixed_ctx{customer_key = key}
	assert(copy:load_string(assert(ctx:snapshot())))
	eq(copy:drivers_find("revenue by nps"), rev, "drivers_find after a load")
	near(assert(copy:key_drivers("csat drivers of nps")).drivers[1].importance, d1.importance, 0,
		"the same importance after a load")
	copy:close()

	-- bad arguments
	local function def(t)
		local d = {outcome = nps, driver = csat, touchpoints = {tps[1], tps[2]}}
		for k, v in pairs(t) do d[k] = v end
		return d
	end
	local function bad(code, what, d)
		fails(code, what, ctx.drivers_define, ctx, "bad", d)
	end
	bad("UNKNOWN_ID", "an unknown metric", def{outcome = "nope"})
	bad("UNKNOWN_ID", "an unknown metric id", def{driver = 99})
	bad("UNKNOWN_ID", "an unknown touchpoint", def{touchpoints = {tps[1], "nowhere"}})
	bad("UNKNOWN_ID", "an unknown journey", def{touchpoints = {}, journey = "sell"})
	bad("KIND", "revenue as a driver", def{driver = revenue})
	fails("INVALID", "no outcome", ctx.drivers_define, ctx, "bad", {driver = csat, touchpoints = {tps[1]}})
	fails("INVALID", "no driver metric", ctx.drivers_define, ctx, "bad", {outcome = nps, touchpoints = {tps[1]}})
	bad("INVALID", "an outcome of no type an id has", def{outcome = {}})
	bad("INVALID", "a touchpoint listed twice", def{touchpoints = {tps[1], "tp1"}})
	bad("INVALID", "touchpoints with a hole", def{touchpoints = {tps[1], nil, tps[3]}})
	bad("INVALID", "touchpoints not a list", def{touchpoints = "tp1"})
	bad("INVALID", "a touchpoint of the wrong type", def{touchpoints = {true}})
	bad("INVALID", "no driver at all", def{touchpoints = {}})
	bad("INVALID", "overall not a boolean", def{overall = 1})
	bad("INVALID", "an unknown field", def{window = DAY})
	bad("OUT_OF_RANGE", "a negative window", def{window_ms = -1})
	bad("INVALID", "a fractional window", def{window_ms = 1.5})
	local many = {}
	for i = 1, 129 do many[i] = tps[1] end
	bad("LIMIT", "129 touchpoints", def{touchpoints = many})
	fails("EXISTS", "a driver set of the same name", ctx.drivers_define, ctx, "buy", def{})
	fails("ENCODING", "a name with a NUL byte", ctx.drivers_define, ctx, "a\0b", def{})
	fails("UNKNOWN_ID", "drivers_find of an unknown set", ctx.drivers_find, ctx, "nope")
	fails("UNKNOWN_ID", "drivers_get of an unknown set", ctx.drivers_get, ctx, "nope")
	fails("UNKNOWN_ID", "drivers_get of an unknown id", ctx.drivers_get, ctx, 15)
	fails("UNKNOWN_ID", "key_drivers of an unknown name", ctx.key_drivers, ctx, "nope")
	fails("UNKNOWN_ID", "key_drivers of an unknown id", ctx.key_drivers, ctx, 15)
	fails("OUT_OF_RANGE", "key_drivers of a negative id", ctx.key_drivers, ctx, -1)
	raises("table expected", "drivers_define without a table", ctx.drivers_define, ctx, "x")
	raises("string expected", "drivers_find(nil)", ctx.drivers_find, ctx)
	eq(ctx:drivers_find("bad"), nil, "nothing defined by the bad arguments")
	ctx:close()
end

------------------------------------------------------------------------------
-- calendar buckets in a time zone (the answers of tests/test_calendar_query.c)
------------------------------------------------------------------------------
do
	-- New York's local midnights, UTC ms
	local DEC1, JAN1, FEB1, MAR1 = 1764565200000, 1767243600000, 1769922000000, 1772341200000
	local NY = "America/New_York"
	local ctx = assert(cxm.new{clock = "fixed", now = 1770699600000,
		tiers = {{MIN, 120}, {HOUR, 24 * 100}}})
	local nps = assert(ctx:metric_define("nps", "nps"))
	local tp = assert(ctx:touchpoint_define("survey", "email"))
	for _, e in ipairs{{JAN1 - 10 * MIN, 5}, {JAN1 + 10 * MIN, 9}, {FEB1 - 30 * MIN, 10},
		{FEB1 + 30 * MIN, 0}} do
		assert(ctx:feed{time = e[1], touchpoint = tp, measures = {{nps, e[2]}}})
	end
	local q = {metric = nps, end_ms = JAN1 + 14 * DAY}
	local r = assert(ctx:query_calendar(q, NY, "month"))
	check(r.n == 2 and r.value == 100 and r.start_ms == JAN1 and r.end_ms == FEB1 and not r.inexact,
		"January in New York: the 9 and the 10")
	eq(q.span_ms, nil, "the caller's query table is left as it was")
	eq(assert(ctx:query_calendar(q, "UTC", 3)).n, 2, "January in UTC, the unit as a number")
	local s = assert(ctx:query_calendar_series({metric = nps, end_ms = FEB1 + 3 * DAY,
		span_ms = FEB1 + 3 * DAY - DEC1 - 20 * DAY + 1}, NY, "month"))
	eq(#s, 3, "December to February")
	check(s[1].start_ms == DEC1 and s[2].n == 2 and s[3].end_ms == MAR1, "series edges and counts")
	local a, b = ctx:calendar_bucket(NY, "day", 1772946000000 + 12 * HOUR)
	eq(b - a, 23 * HOUR, "the day daylight saving begins has 23 hours")
	fails("UNKNOWN_ID", "an unknown zone", ctx.query_calendar, ctx, q, "Mars/Olympus_Mons", "month")
	fails("ENCODING", "a path for a zone", ctx.calendar_bucket, ctx, "../etc/passwd", "day")
	fails("INVALID", "an unknown unit", ctx.calendar_bucket, ctx, NY, "fortnight")
	fails("INVALID", "unit 9", ctx.calendar_bucket, ctx, NY, 9)
	ctx:close()
end

------------------------------------------------------------------------------
-- no globals, integers where the Lua has them
------------------------------------------------------------------------------
for k in pairs(_G) do check(globals_before[k], "a global appeared: " .. tostring(k)) end
if math.type then
	local m = model()
	eq(math.type(m.nps), "integer", "ids are integers on 5.3+")
	assert(m.ctx:feed{time = T0, touchpoint = m.ivr})
	local r = assert(m.ctx:query{metric = m.volume, span_ms = HOUR})
	eq(math.type(r.end_ms), "integer", "times are integers on 5.3+")
	eq(math.type(r.n), "integer", "counts are integers on 5.3+")
	eq(m.ctx:feed{time = T0 + 0.0, touchpoint = m.ivr}, true, "a float time with no fraction is accepted")
end

print(string.format("%s: %d passed, %d failed", cxm._VERSION, passed, failed))
os.exit(failed == 0 and 0 or 1, true) -- close the state: every context is collected
