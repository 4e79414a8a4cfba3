/*
 * The few differences between Lua 5.1 (and LuaJIT) and 5.2+ that the cxm
 * module meets, in one place so that cxm_lua.c reads as plain 5.4.
 * SPDX-License-Identifier: MIT
 */
#ifndef CXM_LUA_COMPAT_H
#define CXM_LUA_COMPAT_H

#include <lauxlib.h>
#include <lua.h>

#include <stdint.h>

#if LUA_VERSION_NUM < 502
/* LuaJIT 2.1 declares luaL_setfuncs and friends, Lua 5.1 does not; a module
 * built against LuaJIT's headers must still load in a Lua 5.1 host
 * (Kamailio's app_lua), so both use these static versions. */
static void cxm_setfuncs(lua_State *L, const luaL_Reg *l, int nup)
{
	luaL_checkstack(L, nup + 1, "too many upvalues");
	for (; l->name != NULL; l++) {
		for (int i = 0; i < nup; i++)
			lua_pushvalue(L, -nup);
		lua_pushcclosure(L, l->func, nup);
		lua_setfield(L, -(nup + 2), l->name);
	}
	lua_pop(L, nup);
}
#define luaL_setfuncs(L, l, nup) cxm_setfuncs((L), (l), (nup))
#define lua_rawlen(L, i) lua_objlen((L), (i))
#endif

#if LUA_VERSION_NUM >= 503
/* 64-bit integers: times and counts come back as integers. */
static inline void cxm_pushint64(lua_State *L, int64_t v)
{
	lua_pushinteger(L, (lua_Integer)v);
}
static inline void cxm_pushuint64(lua_State *L, uint64_t v)
{
	if (v <= (uint64_t)LUA_MAXINTEGER)
		lua_pushinteger(L, (lua_Integer)v);
	else
		lua_pushnumber(L, (lua_Number)v);
}
#define CXM_HAS_INT64 1
#else
/* Numbers are doubles: exact for times (< 2^53 ms) and for any count a
 * context can hold in practice. */
static inline void cxm_pushint64(lua_State *L, int64_t v)
{
	lua_pushnumber(L, (lua_Number)v);
}
static inline void cxm_pushuint64(lua_State *L, uint64_t v)
{
	lua_pushnumber(L, (lua_Number)v);
}
#define CXM_HAS_INT64 0
#endif

/* The value on top becomes the user value of the userdata at idx (a table:
 * Lua 5.1 takes nothing else). */
#if LUA_VERSION_NUM < 502
#define cxm_setuservalue(L, idx) lua_setfenv((L), (idx))
#elif LUA_VERSION_NUM < 504
#define cxm_setuservalue(L, idx) lua_setuservalue((L), (idx))
#else
#define cxm_setuservalue(L, idx) lua_setiuservalue((L), (idx), 1)
#endif

#if LUA_VERSION_NUM >= 504
#define CXM_HAS_CLOSE 1
#else
#define CXM_HAS_CLOSE 0
#endif

#endif /* CXM_LUA_COMPAT_H */
