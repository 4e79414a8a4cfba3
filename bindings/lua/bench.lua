-- Per-call cost of ctx:feed() from Lua, to compare with bench_c (the same
-- interaction fed from C): the difference is what the binding adds.
-- Usage: LUA_CPATH=<build>/bindings/lua/lua5.4/?.so lua5.4 bench.lua [iterations [c_ns]]
-- Prints "lua_feed_ns <style> <ns per call>" for each style, best of 5
-- rounds, and with c_ns (bench_c's figure) "above_c_ns <style> <ns>".
local cxm = require "cxm"

local iters = tonumber(arg and arg[1]) or 2000000
local ctx = assert(cxm.new())
local tp = assert(ctx:touchpoint_define("agent call", "phone"))
local aht = assert(ctx:metric_define("aht", "duration"))
local resolved = assert(ctx:metric_define("resolved", "rate"))
local tier = assert(ctx:segment_define("tier", 4))
local gold = assert(ctx:segment_value(tier, "gold"))
local t0 = os.time() * 1000

local function best_of(f)
	local best = math.huge
	for _ = 1, 5 do
		local start = os.clock()
		f()
		local ns = (os.clock() - start) * 1e9 / iters
		if ns < best then best = ns end
	end
	return best
end

-- 1. the table built once and reused: the binding's own cost.
local m1, m2 = {aht, 180.5}, {resolved, true}
local ix = {time = t0, touchpoint = tp, customer = "customer-42",
	segments = {[tier] = gold}, measures = {m1, m2}}
local reused = best_of(function()
	local feed = ctx.feed
	for _ = 1, iters do
		if not feed(ctx, ix) then error("feed failed") end
	end
end)

-- 2. a new table per call, as a script typically writes it.
local fresh = best_of(function()
	for _ = 1, iters do
		if not ctx:feed{time = t0, touchpoint = tp, customer = "customer-42",
			segments = {[tier] = gold}, measures = {{aht, 180.5}, {resolved, true}}} then
			error("feed failed")
		end
	end
end)

-- 3. a prepared interaction: only the time, customer and values per call.
local feed = assert(ctx:prepare{touchpoint = tp, segments = {[tier] = gold},
	measures = {aht, resolved}})
local prepared = best_of(function()
	for _ = 1, iters do
		if not feed(t0, "customer-42", 180.5, true) then error("feed failed") end
	end
end)

-- 4. the empty loop, to subtract.
local loop = best_of(function()
	local f = function() return true end
	for _ = 1, iters do
		if not f(ctx, ix) then error("x") end
	end
end)

local s = ctx:stats()
assert(s.accepted == 15 * iters, "accepted " .. s.accepted)
print(string.format("lua_feed_ns reused_table %.1f", reused))
print(string.format("lua_feed_ns new_table %.1f", fresh))
print(string.format("lua_feed_ns prepared %.1f", prepared))
print(string.format("lua_loop_ns %.1f", loop))
local c_ns = tonumber(arg and arg[2])
if c_ns then
	print(string.format("above_c_ns prepared %.1f", prepared - c_ns))
	print(string.format("above_c_ns reused_table %.1f", reused - c_ns))
	print(string.format("above_c_ns new_table %.1f", fresh - c_ns))
end
