-- `luarocks test`: the test script of the rockspec, run by the Lua that
-- luarocks is configured for (--lua-version), from the top of the source
-- tree, with the rock's version as its first argument.
--
-- luarocks runs a test script without its tree in the module paths, so
-- the installed rock could not be found here (and an installed module
-- could be older than these sources). Instead this script compiles the
-- module from the sources, with the same build script as the rock, into a
-- temporary directory, runs bindings/lua/test.lua against it in a child
-- interpreter (test.lua ends with os.exit), and removes the directory.
--
-- It finds what the build needs as the build does, from the environment:
--   CXM_DIR=<prefix> (or CXM_INCDIR and CXM_LIBDIR) for libcxm, else
--   pkg-config's cxm; LUA_INCDIR, else pkg-config's package of this Lua
--   (lua5.X, lua-5.X, lua5X, lua; luajit); CC (cc) and CFLAGS (-O2 -fPIC).
-- Whatever is missing stops it with a message and a failure.

local version = arg[1] or ""

local function fail(msg)
	io.stderr:write("luarocks-test.lua: ", msg, "\n")
	os.exit(1)
end

local function q(s) -- one shell word
	return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function run(cmd) -- true when cmd exits with 0 (5.1 gives a number, 5.2+ true)
	local r = os.execute(cmd)
	return r == true or r == 0
end

local function output(cmd) -- first line of cmd's standard output, or nil
	local p = io.popen(cmd .. " 2>/dev/null")
	local line = p:read("*l")
	p:close()
	if line and line ~= "" then return line end
end

local function exists(path)
	local f = io.open(path, "rb")
	if f then f:close() end
	return f ~= nil
end

-- The interpreter running this script: the lowest index of arg.
local interp, i = nil, -1
while arg[i] do
	interp, i = arg[i], i - 1
end
if not interp then fail("cannot tell which interpreter runs this script (arg[-1] is nil)") end

local function first_include(cflags, header) -- the -I directory holding header
	for d in (cflags or ""):gmatch("%-I(%S+)") do
		if exists(d .. "/" .. header) then return d end
	end
end

local lua_incdir = os.getenv("LUA_INCDIR")
if not lua_incdir then
	local names
	if rawget(_G, "jit") then
		names = {"luajit"}
	else
		local v = _VERSION:match("%d+%.%d+")
		names = {"lua" .. v, "lua-" .. v, "lua" .. v:gsub("%.", ""), "lua"}
	end
	for _, name in ipairs(names) do
		lua_incdir = first_include(output("pkg-config --cflags-only-I " .. name), "lua.h")
		if lua_incdir then break end
	end
	if not lua_incdir then
		fail("no lua.h for " .. _VERSION .. " from pkg-config (" .. table.concat(names, ", ")
			.. "): install its development package or set LUA_INCDIR")
	end
end

local cxm_incdir, cxm_libdir = os.getenv("CXM_INCDIR"), os.getenv("CXM_LIBDIR")
local cxm_dir = os.getenv("CXM_DIR")
if not (cxm_incdir and cxm_libdir) and cxm_dir then
	cxm_incdir = cxm_incdir or cxm_dir .. "/include"
	if not cxm_libdir then
		local multiarch = output((os.getenv("CC") or "cc") .. " -print-multiarch") or ""
		for _, sub in ipairs{"lib", "lib/" .. multiarch, "lib64"} do
			if exists(cxm_dir .. "/" .. sub .. "/libcxm.so") then
				cxm_libdir = cxm_dir .. "/" .. sub
				break
			end
		end
	end
elseif not (cxm_incdir and cxm_libdir) then
	cxm_incdir = cxm_incdir or first_include(output("pkg-config --cflags-only-I cxm"), "cxm.h")
		or output("pkg-config --variable=includedir cxm")
	cxm_libdir = cxm_libdir or output("pkg-config --variable=libdir cxm")
end
if not (cxm_incdir and exists(cxm_incdir .. "/cxm.h")) then
	fail("cxm.h not found: install libcxm, or set CXM_DIR=<prefix> (or CXM_INCDIR), "
		.. "or PKG_CONFIG_PATH to the directory of its cxm.pc")
end
if not (cxm_libdir and exists(cxm_libdir .. "/libcxm.so")) then
	fail("libcxm.so not found: install libcxm, or set CXM_DIR=<prefix> (or CXM_LIBDIR), "
		.. "or PKG_CONFIG_PATH to the directory of its cxm.pc")
end

local tmp = output("mktemp -d \"${TMPDIR:-/tmp}/cxm-rocktest.XXXXXX\"")
if not tmp then fail("mktemp -d failed") end

local ok = run(table.concat({"sh bindings/lua/luarocks-build.sh", q(tmp), q(version),
	q(os.getenv("CC") or "cc"), q(os.getenv("CFLAGS") or "-O2 -fPIC"), q("-shared"),
	q(lua_incdir), q(cxm_incdir), q(cxm_libdir)}, " "))
if ok then
	print("luarocks-test.lua: testing " .. tmp .. "/cxm.so under " .. interp)
	io.stdout:flush()
	-- Only the module just built: package.cpath is set before test.lua runs.
	ok = run(q(interp) .. " -e " .. q("package.cpath = " .. string.format("%q", tmp .. "/?.so"))
		.. " bindings/lua/test.lua")
else
	io.stderr:write("luarocks-test.lua: building the module failed\n")
end
run("rm -rf " .. q(tmp))
os.exit(ok and 0 or 1)
