-- luarocks: builds the cxm module against an installed libcxm (headers and
-- libcxm.so from `meson install`, or a distribution package).
--   luarocks make bindings/lua/cxm-0.1.0-1.rockspec            (from a clone)
--   luarocks make bindings/lua/cxm-0.1.0-1.rockspec CXM_DIR=/opt/cxm
--   (or CXM_INCDIR=... CXM_LIBDIR=... when the library is in lib/<triplet>)
rockspec_format = "3.0"
package = "cxm"
version = "0.1.0-1"
source = {
   -- The release tarball of libcxm; luarocks make uses the working tree.
   url = "git+https://example.invalid/libcxm.git",
   tag = "v0.1.0",
}
description = {
   summary = "Customer-experience metrics (NPS, CSAT, CES, durations, rates) along customer journeys",
   detailed = [[
      Lua binding of libcxm: define journeys, touchpoints and metrics, feed
      interactions as they happen, and query rolling aggregates with
      confidence intervals. One C module for Lua 5.1 to 5.4 and LuaJIT;
      errors come back as nil, message, code.
   ]],
   license = "MIT",
   labels = { "metrics", "nps", "csat", "contact-center", "kamailio" },
}
dependencies = {
   "lua >= 5.1, < 5.5",
}
external_dependencies = {
   CXM = {
      header = "cxm.h",
      library = "cxm",
   },
}
build = {
   type = "builtin",
   modules = {
      cxm = {
         sources = { "bindings/lua/cxm_lua.c" },
         incdirs = { "bindings/lua", "$(CXM_INCDIR)" },
         libdirs = { "$(CXM_LIBDIR)" },
         libraries = { "cxm" },
      },
   },
   copy_directories = {},
}
test = {
   type = "command",
   command = "lua bindings/lua/test.lua",
}
