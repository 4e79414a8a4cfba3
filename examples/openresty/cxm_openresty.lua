-- libcxm in OpenResty (nginx with lua-nginx-module): every worker process
-- feeds a context of its own, and /metrics serves the sum of all of them.
--
-- nginx runs the Lua code of a request in whichever worker accepted its
-- connection, each worker with its own Lua state: a context made there
-- sees only that worker's requests. So:
--   * each worker keeps its own context, with the model that the
--     configuration defines and the customer key that it reads from a
--     file (merging needs one key everywhere), and saves it, now and then,
--     to <dir>/worker-<id>-<pid>.cxm (a save is atomic: temporary file,
--     fsync, rename);
--   * the scrape handler asks every worker to save what it fed since its
--     last save, waits until each has (flush_timeout at most), merges
--     every snapshot into a fresh context with the model and exports the
--     result. Merging is exact: the totals are those of one context fed
--     with every request, whichever worker took it.
-- The workers meet in a lua_shared_dict (default "cxm"):
--   flush          generation of the last save request (a scrape increments it)
--   worker:<id>    pid of the worker that holds ordinal <id> now
--   ack:<pid>      last generation that worker has answered
--   error:<pid>    why its last save failed (removed by a good save)
--   file:<pid>     its snapshot, once saved: the files to merge
-- A worker polls "flush" on a timer (poll_interval) and saves, when it has
-- fed since its last save, on request or once save_interval has passed;
-- on exit (nginx -s reload, -s quit) it saves a last time. The files of
-- exited workers stay in the list, so a reload does not make the counters
-- go back; a stop (and so a new shared dict) starts the sum from zero.
-- Saving runs in the worker's event loop: it holds that worker for the time
-- it takes to write and fsync its snapshot.
--
-- Used from nginx.conf (see nginx.conf next to this file and docs/lua.md):
--   init_by_lua_block        require("cxm_openresty").configure{...}
--   init_worker_by_lua_block require("cxm_openresty").init_worker()
--   exit_worker_by_lua_block require("cxm_openresty").exit_worker()
--   a handler                local w = require("cxm_openresty").worker()
--                            require("cxm_openresty").feed{touchpoint = w.ids.x, ...}
--   location = /metrics      require("cxm_openresty").metrics()

local cxm = require "cxm"
local process = require "ngx.process"

local M = {}

local conf -- set by configure() in the master, inherited by the workers
local w    -- this worker's context and state, made by init_worker()

local function resolve(path) -- relative paths are relative to nginx's prefix (-p)
	if path:sub(1, 1) == "/" then return path end
	return ngx.config.prefix() .. path
end

local function read_key(path)
	local f, err = io.open(path, "rb")
	if not f then error("cxm: customer key: " .. err, 0) end
	local hex = f:read("*a"):gsub("%s", "")
	f:close()
	if not hex:match("^" .. string.rep("%x", 32) .. "$") then
		error("cxm: customer key: " .. path .. " must hold 32 hex digits", 0)
	end
	return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

-- Options (init_by_lua):
--   dir            directory of the snapshots, writable by the workers' user (required)
--   key_file       file of 32 hex digits, the customer key shared by every worker (required)
--   define(ctx)    defines the model in a context and returns a table of its ids (required)
--   cxm            other fields for cxm.new (tiers, max_customers, …), the same in every worker
--   export         options of ctx:export for /metrics
--   dict           name of the lua_shared_dict (default "cxm")
--   save_interval  seconds between saves of a worker that feeds (default 10)
--   poll_interval  seconds between two looks at "flush" (default 0.1)
--   flush_timeout  seconds a scrape waits for the workers' saves (default 2)
function M.configure(opts)
	assert(type(opts) == "table", "cxm: configure{...} expected")
	assert(type(opts.dir) == "string", "cxm: configure: dir (a directory) is required")
	assert(type(opts.key_file) == "string", "cxm: configure: key_file is required")
	assert(type(opts.define) == "function", "cxm: configure: define(ctx) is required")
	local config = {}
	for k, v in pairs(opts.cxm or {}) do config[k] = v end
	config.customer_key = read_key(resolve(opts.key_file))
	local dict = ngx.shared[opts.dict or "cxm"]
	assert(dict, "cxm: no lua_shared_dict " .. (opts.dict or "cxm"))
	-- The model is defined once here, so that a mistake in it stops nginx
	-- from starting instead of failing in every worker.
	local probe = assert(cxm.new(config))
	opts.define(probe)
	probe:close()
	conf = {
		dir = resolve(opts.dir), config = config, define = opts.define,
		export = opts.export, dict = dict,
		save_interval = opts.save_interval or 10,
		poll_interval = opts.poll_interval or 0.1,
		flush_timeout = opts.flush_timeout or 2,
	}
end

local function save()
	local ok, msg, code = w.ctx:save(w.path)
	if not ok then
		msg = "save " .. w.path .. ": " .. tostring(msg) .. " (" .. tostring(code) .. ")"
		ngx.log(ngx.ERR, "cxm: ", msg)
		conf.dict:set("error:" .. w.pid, msg)
		return false
	end
	w.dirty, w.saved_at = false, ngx.now()
	if not w.listed then -- merged from now on
		local stored, err = conf.dict:set("file:" .. w.pid, w.path)
		if not stored then
			ngx.log(ngx.ERR, "cxm: lua_shared_dict full, cannot list ", w.path, ": ", err)
			conf.dict:set("error:" .. w.pid, "cannot list " .. w.path .. ": " .. tostring(err))
			return false
		end
		w.listed = true
	end
	conf.dict:delete("error:" .. w.pid)
	return true
end

-- Saves when asked to (a new "flush" generation) or when it is time to.
local function answer(gen)
	if w.dirty then save() end
	conf.dict:set("ack:" .. w.pid, gen)
end

local function tick(premature)
	if premature then return end -- exiting: exit_worker() saves
	local gen = conf.dict:get("flush") or 0
	if gen > (conf.dict:get("ack:" .. w.pid) or 0) then
		answer(gen)
	elseif w.dirty and ngx.now() - w.saved_at >= conf.save_interval then
		save()
	end
end

function M.init_worker()
	if process.type() ~= "worker" then return end -- cache loader, privileged agent, …
	assert(conf, "cxm: configure{...} was not called in init_by_lua")
	local ctx = assert(cxm.new(conf.config))
	local id, pid = ngx.worker.id(), ngx.worker.pid()
	w = {
		ctx = ctx, ids = conf.define(ctx), id = id, pid = pid,
		path = string.format("%s/worker-%d-%d.cxm", conf.dir, id, pid),
		dirty = true, saved_at = 0, listed = false,
	}
	conf.dict:set("ack:" .. pid, conf.dict:get("flush") or 0)
	save() -- the file exists, and is listed, from the start
	conf.dict:set("worker:" .. id, pid)
	local ok, err = ngx.timer.every(conf.poll_interval, tick)
	if not ok then ngx.log(ngx.ERR, "cxm: no timer: ", err) end
end

function M.exit_worker()
	if w and w.dirty then save() end
end

-- This worker's state: w.ctx (its context), w.ids (what define returned).
function M.worker()
	return assert(w, "cxm: no context in this process (init_worker has not run)")
end

-- Feeds one interaction into this worker's context; time defaults to now.
-- Returns true, or nil, message, code.
function M.feed(interaction)
	if interaction.time == nil then interaction.time = math.floor(ngx.now() * 1000) end
	w.dirty = true
	return w.ctx:feed(interaction)
end

local function fail(status, msg)
	ngx.log(ngx.ERR, "cxm: /metrics: ", msg)
	ngx.status = status
	ngx.header["Content-Type"] = "text/plain"
	ngx.say(msg)
end

-- The scrape handler: every worker's state, merged, as OpenMetrics text.
function M.metrics()
	local dict = conf.dict
	local gen = assert(dict:incr("flush", 1, 0))
	answer(gen) -- this worker at once
	local deadline = ngx.now() + conf.flush_timeout
	local late
	repeat
		late = {}
		for id = 0, ngx.worker.count() - 1 do
			local pid = dict:get("worker:" .. id)
			if pid and (dict:get("ack:" .. pid) or 0) < gen then late[#late + 1] = id end
		end
		if #late == 0 then break end
		ngx.sleep(0.01)
		ngx.update_time()
	until ngx.now() >= deadline
	for id = 0, ngx.worker.count() - 1 do
		local pid = dict:get("worker:" .. id)
		local err = pid and dict:get("error:" .. pid)
		if err then return fail(500, "worker " .. id .. ": " .. err) end
	end
	if #late > 0 then -- serve their last snapshots: older, never lower
		ngx.log(ngx.WARN, "cxm: /metrics: workers ", table.concat(late, ","),
			" did not save within ", conf.flush_timeout, " s")
		ngx.header["X-Cxm-Late-Workers"] = table.concat(late, ",")
	end

	local files = {}
	for _, key in ipairs(dict:get_keys(0)) do
		if key:sub(1, 5) == "file:" then files[#files + 1] = dict:get(key) end
	end
	table.sort(files)
	if #files == 0 then return fail(503, "no worker has saved a snapshot yet") end
	-- The model of this configuration, then every snapshot merged into it:
	-- the files of workers from before a reload that added to the model
	-- merge too (a source may define less than its destination).
	local total = assert(cxm.new(conf.config))
	conf.define(total)
	for _, path in ipairs(files) do
		local ok, msg, code = total:merge_file(path)
		if not ok then
			total:close()
			return fail(500, path .. ": " .. tostring(msg) .. " (" .. tostring(code) .. ")")
		end
	end
	local text, content_type = total:export(conf.export)
	total:close()
	if not text then return fail(500, "export: " .. tostring(content_type)) end
	ngx.header["Content-Type"] = content_type
	ngx.header["X-Cxm-Snapshots"] = #files
	ngx.print(text)
end

return M
