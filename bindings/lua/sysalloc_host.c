/*
 * luajit-sysalloc: a LuaJIT interpreter for the memory checkers, which
 * runs a script like `luajit script.lua args…` in a Lua state whose every
 * object is allocated with malloc, realloc and free.
 *
 * luajit(1) allocates its objects with LuaJIT's own allocator, inside
 * large mmap'ed regions: neither AddressSanitizer nor valgrind sees a
 * string freed there, so a read of one by the cxm module (a pointer kept
 * after its string was collected) goes unnoticed. With the objects on the
 * malloc heap, ASan's quarantine and valgrind's freed-block tracking see
 * it, as they do for the PUC-Rio interpreters, whose allocator is realloc.
 * LuaJIT takes a custom allocator only in its GC64 mode (the default on
 * x86-64 since 2.1); elsewhere lua_newstate fails and this says so.
 *
 * SPDX-License-Identifier: MIT
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include <stdio.h>
#include <stdlib.h>

static void *sys_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	(void)ud;
	(void)osize;
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, nsize);
}

/* The message handler: the error with a traceback, as luajit(1) prints it. */
static int traceback(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s script.lua [args…]\n", argv[0]);
		return 2;
	}
	lua_State *L = lua_newstate(sys_alloc, NULL);
	if (!L) {
		fprintf(stderr, "%s: lua_newstate refused a custom allocator (LuaJIT without GC64)\n",
			argv[0]);
		return 1;
	}
	luaL_openlibs(L);
	/* arg as luajit(1) sets it: the script at 0, its arguments from 1 */
	lua_createtable(L, argc - 2, 2);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - 1);
	}
	lua_setglobal(L, "arg");
	lua_pushcfunction(L, traceback);
	int rc = 0;
	if (luaL_loadfile(L, argv[1])) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		rc = 1;
	} else {
		for (int i = 2; i < argc; i++)
			lua_pushstring(L, argv[i]);
		if (lua_pcall(L, argc - 2, 0, 1)) {
			fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
			rc = 1;
		}
	}
	lua_close(L);
	return rc;
}
