/*
 * cxm — Lua binding of libcxm, one source for Lua 5.1, 5.2, 5.3, 5.4 and
 * LuaJIT. Each method is one libcxm call; the binding only moves values
 * between Lua tables and the C structs.
 *
 * Errors: a failure that libcxm (or the binding, for a value it cannot put
 * in a C struct) reports returns nil, message, code name ("OUT_OF_RANGE").
 * Only a wrong type of a direct argument and the use of a closed context
 * raise, as they do in Lua's own io library. docs/lua.md says the same.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif
#include "compat.h"

#include <cxm.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h> /* getpid */

/* The module's own version, in cxm._VERSION: luarocks passes the rock's
 * (bindings/lua/luarocks-build.sh); a meson build is the library's release,
 * whose version cxm.h carries. */
#ifndef CXM_LUA_VERSION
#define CXM_LUA_VERSION CXM_VERSION_STRING
#endif

#if defined(__has_include)
#if __has_include(<luajit.h>)
#include <luajit.h>
#endif
#endif
#ifdef LUAJIT_VERSION
#define CXM_LUA_HOST LUAJIT_VERSION
#else
#define CXM_LUA_HOST LUA_RELEASE
#endif

/* ---- names of the C enums ------------------------------------------------ */

static const char *const status_names[CXM_STATUS_COUNT] = {
	"OK", "INVALID", "UNKNOWN_ID", "OUT_OF_RANGE", "TOO_LATE", "TOO_EARLY",
	"NOT_FINITE", "TOO_LONG", "NO_MEMORY", "LIMIT", "CORRUPT", "IO",
	"VERSION", "UNSUPPORTED", "EXISTS", "ENCODING", "KIND", "REJECTED",
};

/* Indexed by the enum value; NULL where the enum has no member. */
static const char *const channel_names[] = {
	NULL, "phone", "chat", "email", "web", "sms", "social", "in_person", "other", NULL,
};
static const char *const object_names[] = {
	NULL, "journey", "touchpoint", "metric", "segment", NULL,
};
static const char *const kind_names[] = {
	NULL, "score", "index", "duration", "rate", "amount", "volume", "distinct", "sentiment", NULL,
};
static const char *const headline_names[] = {
	"default", "net", "top_box", "bottom_box", "mean", "share", "sum", "count", NULL,
};
static const char *const preset_names[] = {
	NULL, "nps", "csat5", "csat7", "csat10", "ces7", "ces5", "cxi",
	"duration", "rate", "amount", "volume", "distinct", "sentiment", NULL,
};
static const char *const policy_names[] = {"evict", "refuse", NULL};

#define N_CHANNELS 9
#define N_OBJECTS 5
#define N_KINDS 9
#define N_HEADLINES 8
#define N_PRESETS 14

static const char *status_name(cxm_status st)
{
	return (unsigned)st < CXM_STATUS_COUNT ? status_names[st] : "UNKNOWN";
}

static const char *enum_name(const char *const *names, int n, int v)
{
	return v >= 0 && v < n && names[v] ? names[v] : "unknown";
}

static int enum_value(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* ---- failures -------------------------------------------------------------- */

/* A failure the binding finds before calling libcxm: its code and message. */
typedef struct berr {
	cxm_status st;
	char msg[200];
} berr;

static cxm_status bfail(berr *e, cxm_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->st = st;
	return st;
}

static int push_berr(lua_State *L, const berr *e)
{
	lua_pushnil(L);
	lua_pushstring(L, e->msg);
	lua_pushstring(L, status_name(e->st));
	return 3;
}

/* nil, libcxm's message for ctx (or the status's name when it has none), code. */
static int push_fail(lua_State *L, const cxm_context *ctx, cxm_status st)
{
	const char *m = cxm_errmsg(ctx);
	lua_pushnil(L);
	lua_pushstring(L, *m ? m : cxm_strerror(st));
	lua_pushstring(L, status_name(st));
	return 3;
}

/* ---- numbers --------------------------------------------------------------- */

static const char *type_of(lua_State *L, int idx)
{
	return lua_typename(L, lua_type(L, idx));
}

/* d in the fewest digits (15 to 17) that read back as d: "1795390000000.5"
 * where %g would say "1.79539e+12". */
static const char *num_text(char *buf, size_t size, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return buf;
}

/* The value at idx for a message: a number exactly, true or false, or
 * the name of its type. */
static const char *value_text(lua_State *L, int idx, char *buf, size_t size)
{
	switch (lua_type(L, idx)) {
	case LUA_TNUMBER:
#if CXM_HAS_INT64
		if (lua_isinteger(L, idx)) {
			snprintf(buf, size, "%lld", (long long)lua_tointeger(L, idx));
			return buf;
		}
#endif
		return num_text(buf, size, (double)lua_tonumber(L, idx));
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? "true" : "false";
	default:
		return type_of(L, idx);
	}
}

/* "<what> must be <want>, got <the value at idx>". */
static cxm_status bad_value(lua_State *L, int idx, berr *e, cxm_status st, const char *what,
			    const char *want)
{
	char v[48];
	return bfail(e, st, "%s must be %s, got %s", what, want, value_text(L, idx, v, sizeof v));
}

/* Put "<fmt …>" before the message of e (which names no field, or only the
 * last part of one): "measures[2]" + ".value must be …". */
static cxm_status bprefix(berr *e, const char *fmt, ...)
{
	char head[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	size_t hl = strlen(head), tl = strlen(e->msg);
	if (hl + tl >= sizeof e->msg)
		tl = sizeof e->msg - 1 - hl;
	memmove(e->msg + hl, e->msg, tl);
	memcpy(e->msg, head, hl);
	e->msg[hl + tl] = '\0';
	return e->st;
}

/* The integer at idx, which must be a number with no fraction, strictly
 * inside the int64 range (INT64_MIN is CXM_NOW, which no field takes as a
 * number: a time left out is written nil). */
static cxm_status get_i64(lua_State *L, int idx, const char *what, int64_t *out, berr *e)
{
#if CXM_HAS_INT64
	/* the common case in one API call */
	if (lua_type(L, idx) == LUA_TNUMBER) {
		int ok;
		lua_Integer v = lua_tointegerx(L, idx, &ok);
		if (ok && v != LUA_MININTEGER) {
			*out = (int64_t)v;
			return CXM_OK;
		}
	}
#endif
	if (lua_type(L, idx) != LUA_TNUMBER)
		return bad_value(L, idx, e, CXM_ERR_INVALID, what, "a number");
	double d = (double)lua_tonumber(L, idx);
	if (isnan(d) || isinf(d))
		return bad_value(L, idx, e, CXM_ERR_NOT_FINITE, what, "finite");
	if (d != floor(d))
		return bad_value(L, idx, e, CXM_ERR_INVALID, what, "an integer");
	if (d >= 9223372036854775808.0 || d <= -9223372036854775808.0)
		return bad_value(L, idx, e, CXM_ERR_OUT_OF_RANGE, what,
				 "an integer in -(2^63 - 1) .. 2^63 - 1");
	*out = (int64_t)d;
	return CXM_OK;
}

/* A window's end: a time in ms, or "now" (CXM_NOW, the clock) or
 * "watermark" (CXM_WATERMARK, the newest interaction accepted). */
static cxm_status get_end(lua_State *L, int idx, int64_t *out, berr *e)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		const char *s = lua_tostring(L, idx);
		if (!strcmp(s, "now")) {
			*out = CXM_NOW;
			return CXM_OK;
		}
		if (!strcmp(s, "watermark")) {
			*out = CXM_WATERMARK;
			return CXM_OK;
		}
		return bad_value(L, idx, e, CXM_ERR_INVALID, "end_ms", "a time in ms, \"now\" or \"watermark\"");
	}
	return get_i64(L, idx, "end_ms", out, e);
}

static cxm_status get_range(lua_State *L, int idx, const char *what, int64_t lo, int64_t hi,
			    int64_t *out, berr *e)
{
	cxm_status st = get_i64(L, idx, what, out, e);
	if (st)
		return st;
	if (*out < lo || *out > hi)
		return bfail(e, CXM_ERR_OUT_OF_RANGE, "%s must be an integer in %lld .. %lld, got %lld",
			     what, (long long)lo, (long long)hi, (long long)*out);
	return CXM_OK;
}

static cxm_status get_u32(lua_State *L, int idx, const char *what, uint32_t *out, berr *e)
{
	int64_t v;
	cxm_status st = get_range(L, idx, what, 0, UINT32_MAX, &v, e);
	if (!st)
		*out = (uint32_t)v;
	return st;
}

static cxm_status get_i32(lua_State *L, int idx, const char *what, int32_t *out, berr *e)
{
	int64_t v;
	cxm_status st = get_range(L, idx, what, INT32_MIN, INT32_MAX, &v, e);
	if (!st)
		*out = (int32_t)v;
	return st;
}

/* An id: 0 … CXM_NONE − 1 (nil stands for CXM_NONE where it is allowed). */
static cxm_status get_id(lua_State *L, int idx, const char *what, cxm_id *out, berr *e)
{
	int64_t v = 0; /* set by get_range when it succeeds (gcc -O3 cannot see it) */
	cxm_status st = get_range(L, idx, what, 0, (int64_t)CXM_NONE - 1, &v, e);
	if (!st)
		*out = (cxm_id)v;
	return st;
}

static cxm_status get_double(lua_State *L, int idx, const char *what, double *out, berr *e)
{
	if (lua_type(L, idx) != LUA_TNUMBER)
		return bad_value(L, idx, e, CXM_ERR_INVALID, what, "a number");
	*out = (double)lua_tonumber(L, idx);
	return CXM_OK;
}

/* A string naming an enum member, or its number: one that is not a
 * member goes to libcxm, which says so, but a negative one, which the C
 * field (unsigned for some) would wrap, stops here. */
static cxm_status get_enum(lua_State *L, int idx, const char *what, const char *const *names,
			   int n, int *out, berr *e)
{
	if (lua_type(L, idx) == LUA_TSTRING) {
		const char *s = lua_tostring(L, idx);
		int v = enum_value(names, n, s);
		if (v < 0)
			return bfail(e, CXM_ERR_INVALID, "unknown %s '%s'", what, s);
		*out = v;
		return CXM_OK;
	}
	if (lua_type(L, idx) != LUA_TNUMBER)
		return bad_value(L, idx, e, CXM_ERR_INVALID, what, "a name or a number");
	int64_t v;
	cxm_status st = get_i64(L, idx, what, &v, e);
	if (st)
		return st;
	if (v < 0 || v > INT32_MAX)
		return bad_value(L, idx, e, CXM_ERR_INVALID, what,
				 "a name or a number in 0 .. 2147483647");
	*out = (int)v;
	return CXM_OK;
}

static cxm_status list_error(lua_State *L, int idx, const char *what, berr *e);

/* The key at idx as a 0-based index of a list of n, or n when it is none. */
static size_t list_index(lua_State *L, int idx, size_t n)
{
	if (lua_type(L, idx) != LUA_TNUMBER)
		return n;
#if CXM_HAS_INT64
	int ok;
	lua_Integer k = lua_tointegerx(L, idx, &ok);
	return ok && k >= 1 && (lua_Unsigned)k <= n ? (size_t)k - 1 : n;
#else
	double k = (double)lua_tonumber(L, idx);
	return k >= 1 && k <= (double)n && k == floor(k) ? (size_t)k - 1 : n;
#endif
}

/* The length n of the list at idx (an absolute index): its keys must be
 * 1 … n and nothing else. lua_rawlen alone gives any border of a table
 * with holes, so {a, nil, c} could be read as {a} (LuaJIT does). */
static cxm_status get_list_len(lua_State *L, int idx, const char *what, size_t *len, berr *e)
{
	size_t n = lua_rawlen(L, idx), count = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		count++;
		if (list_index(L, -1, n) == n) {
			lua_pop(L, 1);
			return list_error(L, idx, what, e);
		}
	}
	if (count != n)
		return list_error(L, idx, what, e);
	*len = n;
	return CXM_OK;
}

/* Why the table at idx is not a list (the slow path of get_list_len): a
 * key that is no index (the first string key in byte order, for one
 * message whatever the traversal order), or else its first hole. */
static cxm_status list_error(lua_State *L, int idx, const char *what, berr *e)
{
	double max = 0;
	char other[48] = "", name[48], num[48];
	int named = 0;
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		double k = lua_type(L, -1) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : 0;
		if (lua_type(L, -1) == LUA_TSTRING) {
			const char *s = lua_tostring(L, -1);
			if (!named || strcmp(s, name) < 0)
				snprintf(name, sizeof name, "%s", s);
			named = 1;
		} else if (k < 1 || k != floor(k)) {
			int ty = lua_type(L, -1);
			if (*other)
				; /* the first one found */
			else if (ty == LUA_TNUMBER || ty == LUA_TBOOLEAN)
				snprintf(other, sizeof other, "%s", value_text(L, -1, num, sizeof num));
			else
				snprintf(other, sizeof other, "of type %s", type_of(L, -1));
		} else if (k > max) {
			max = k;
		}
	}
	if (named)
		return bfail(e, CXM_ERR_INVALID, "%s must be a list, not a table with the key '%s'",
			     what, name);
	if (*other)
		return bfail(e, CXM_ERR_INVALID, "%s must be a list, not a table with the key %s",
			     what, other);
	/* every key a positive integer: the first one missing is a hole */
	size_t hole = 1;
	for (;; hole++) {
		lua_rawgeti(L, idx, (int)hole);
		int nil = lua_isnil(L, -1);
		lua_pop(L, 1);
		if (nil)
			break;
	}
	char v[48];
	return bfail(e, CXM_ERR_INVALID, "%s[%zu] is nil but %s[%s] is not: a list cannot have holes",
		     what, hole, what, num_text(v, sizeof v, max));
}

/* ---- pushing results ----------------------------------------------------- */

static void set_num(lua_State *L, const char *k, double v)
{
	lua_pushnumber(L, (lua_Number)v);
	lua_setfield(L, -2, k);
}

static void set_i64(lua_State *L, const char *k, int64_t v)
{
	cxm_pushint64(L, v);
	lua_setfield(L, -2, k);
}

static void set_u64(lua_State *L, const char *k, uint64_t v)
{
	cxm_pushuint64(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, int v)
{
	lua_pushboolean(L, v);
	lua_setfield(L, -2, k);
}

static void set_flags(lua_State *L, uint32_t flags)
{
	lua_pushinteger(L, (lua_Integer)flags);
	lua_setfield(L, -2, "flags");
	set_bool(L, "low_sample", (flags & CXM_RESULT_LOW_SAMPLE) != 0);
	set_bool(L, "empty", (flags & CXM_RESULT_EMPTY) != 0);
	set_bool(L, "clamped", (flags & CXM_RESULT_CLAMPED) != 0);
	set_bool(L, "truncated", (flags & CXM_RESULT_TRUNCATED) != 0);
	set_bool(L, "inexact", (flags & CXM_RESULT_INEXACT) != 0);
}

/* The table at idx, or a new one when idx is 0 or none/nil: left on top. */
static void push_out_table(lua_State *L, int idx, int nrec)
{
	if (idx && lua_type(L, idx) == LUA_TTABLE)
		lua_pushvalue(L, idx);
	else
		lua_createtable(L, 0, nrec);
}

/* Every key of the table at t must be one of allowed (a NULL-ended list). */
static cxm_status check_keys(lua_State *L, int t, const char *what, const char *const *allowed,
			     berr *e)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) != LUA_TSTRING) {
			lua_pop(L, 1);
			return bfail(e, CXM_ERR_INVALID, "%s: field names must be strings", what);
		}
		const char *k = lua_tostring(L, -1);
		const char *const *a = allowed;
		while (*a && strcmp(*a, k) != 0)
			a++;
		if (!*a) {
			bfail(e, CXM_ERR_INVALID, "%s: unknown field '%s'", what, k);
			lua_pop(L, 1);
			return e->st;
		}
	}
	return CXM_OK;
}

/* ---- scratch memory ------------------------------------------------------ */

/* Bump allocation for one call: a stack buffer first, then userdata chunks
 * that the garbage collector reclaims even if the call raises. Chunks are
 * kept alive by the table in stack slot anchor, made on first need. */
typedef struct arena {
	lua_State *L;
	int anchor;
	int chunks;
	char *p;
	size_t left;
} arena;

static void *arena_alloc(arena *a, size_t bytes)
{
	bytes = (bytes + 15) & ~(size_t)15;
	if (bytes > a->left) {
		size_t size = bytes > 65536 ? bytes : 65536;
		if (lua_type(a->L, a->anchor) != LUA_TTABLE) {
			lua_newtable(a->L);
			lua_replace(a->L, a->anchor);
		}
		a->p = lua_newuserdata(a->L, size);
		a->left = size;
		lua_rawseti(a->L, a->anchor, ++a->chunks);
	}
	void *r = a->p;
	a->p += bytes;
	a->left -= bytes;
	return r;
}

/* ---- the context userdata ------------------------------------------------ */

typedef struct lctx {
	cxm_context *ctx;
	int fixed_clock; /* 1: clock = "fixed", reading now */
	int64_t now;
} lctx;

/* The metatable of contexts is upvalue 1 of every method and of cxm.new. */
#define CTX_MT lua_upvalueindex(1)

static int64_t fixed_clock(void *opaque)
{
	return ((const lctx *)opaque)->now;
}

static lctx *to_lctx(lua_State *L, int idx)
{
	lctx *c = lua_touserdata(L, idx);
	if (c && lua_getmetatable(L, idx)) {
		int same = lua_rawequal(L, -1, CTX_MT);
		lua_pop(L, 1);
		if (same)
			return c;
	}
	return NULL;
}

static lctx *check_lctx(lua_State *L, int idx)
{
	lctx *c = to_lctx(L, idx);
	if (!c)
		luaL_argerror(L, idx, "cxm context expected");
	if (!c->ctx)
		luaL_error(L, "attempt to use a closed cxm context");
	return c;
}

/* A name argument: a string without NUL bytes (which C would cut short). */
static const char *check_name(lua_State *L, int idx, berr *e)
{
	size_t len;
	const char *s = luaL_checklstring(L, idx, &len);
	if (strlen(s) != len) {
		bfail(e, CXM_ERR_ENCODING, "name contains a NUL byte");
		return NULL;
	}
	return s;
}

/* ---- cxm.new ----------------------------------------------------------- */

static const char *const config_keys[] = {
	"clock", "now", "tiers", "shards", "max_future_ms", "max_journeys", "max_steps",
	"max_touchpoints", "max_metrics", "max_segments", "max_segment_values", "max_name_len",
	"max_customer_id_len", "max_measures", "min_samples", "max_series", "confidence",
	"customer_key", "max_customers", "customer_policy", "max_triggers", "event_queue", NULL,
};

static cxm_status read_tiers(lua_State *L, int t, cxm_config *cfg, berr *e)
{
	size_t n;
	cxm_status lst = get_list_len(L, t, "tiers", &n, e);
	if (lst)
		return lst;
	if (n > CXM_MAX_TIERS)
		return bfail(e, CXM_ERR_OUT_OF_RANGE, "tiers: at most %d, got %d", CXM_MAX_TIERS,
			     (int)n);
	cfg->n_tiers = (uint32_t)n;
	for (size_t i = 0; i < n; i++) {
		lua_rawgeti(L, t, (int)i + 1);
		int tt = lua_gettop(L);
		cxm_status st = CXM_OK;
		if (lua_type(L, tt) != LUA_TTABLE) {
			st = bfail(e, CXM_ERR_INVALID, "tiers[%d] must be a table, got %s", (int)i + 1,
				   type_of(L, tt));
		} else {
			lua_getfield(L, tt, "bucket_ms");
			if (lua_isnil(L, -1)) {
				lua_pop(L, 1);
				lua_rawgeti(L, tt, 1);
			}
			lua_getfield(L, tt, "buckets");
			if (lua_isnil(L, -1)) {
				lua_pop(L, 1);
				lua_rawgeti(L, tt, 2);
			}
			st = get_i64(L, -2, ".bucket_ms", &cfg->tiers[i].bucket_ms, e);
			if (!st)
				st = get_u32(L, -1, ".buckets", &cfg->tiers[i].buckets, e);
			if (st)
				bprefix(e, "tiers[%d]", (int)i + 1);
		}
		lua_settop(L, tt - 1);
		if (st)
			return st;
	}
	return CXM_OK;
}

static cxm_status read_config(lua_State *L, int t, cxm_config *cfg, int *fixed, int64_t *now,
			      berr *e)
{
	cxm_status st = check_keys(L, t, "config", config_keys, e);
	if (st)
		return st;
	struct {
		const char *k;
		uint32_t *p;
	} u32[] = {
		{"shards", &cfg->shards},
		{"max_journeys", &cfg->max_journeys},
		{"max_steps", &cfg->max_steps},
		{"max_touchpoints", &cfg->max_touchpoints},
		{"max_metrics", &cfg->max_metrics},
		{"max_segments", &cfg->max_segments},
		{"max_segment_values", &cfg->max_segment_values},
		{"max_name_len", &cfg->max_name_len},
		{"max_customer_id_len", &cfg->max_customer_id_len},
		{"max_measures", &cfg->max_measures},
		{"min_samples", &cfg->min_samples},
		{"max_customers", &cfg->max_customers},
		{"max_triggers", &cfg->max_triggers},
		{"event_queue", &cfg->event_queue},
	};
	int top = lua_gettop(L);
	for (size_t i = 0; i < sizeof u32 / sizeof u32[0] && !st; i++) {
		lua_getfield(L, t, u32[i].k);
		if (!lua_isnil(L, -1))
			st = get_u32(L, -1, u32[i].k, u32[i].p, e);
		lua_settop(L, top);
	}
	if (st)
		return st;

	int64_t v;
	lua_getfield(L, t, "max_series");
	if (!lua_isnil(L, -1) && !(st = get_range(L, -1, "max_series", 0, INT64_MAX, &v, e)))
		cfg->max_series = (uint64_t)v;
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, t, "max_future_ms");
	if (!lua_isnil(L, -1))
		st = get_i64(L, -1, "max_future_ms", &cfg->max_future_ms, e);
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, t, "confidence");
	if (!lua_isnil(L, -1))
		st = get_double(L, -1, "confidence", &cfg->confidence, e);
	lua_settop(L, top);
	if (st)
		return st;

	lua_getfield(L, t, "tiers");
	if (lua_type(L, -1) == LUA_TTABLE)
		st = read_tiers(L, lua_gettop(L), cfg, e);
	else if (!lua_isnil(L, -1))
		st = bfail(e, CXM_ERR_INVALID, "tiers: table expected, got %s", type_of(L, -1));
	lua_settop(L, top);
	if (st)
		return st;

	lua_getfield(L, t, "customer_key");
	if (!lua_isnil(L, -1)) {
		size_t len = 0;
		const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (!k || len != sizeof cfg->customer_key)
			st = bfail(e, CXM_ERR_INVALID, "customer_key: a string of %d bytes expected",
				   (int)sizeof cfg->customer_key);
		else
			memcpy(cfg->customer_key, k, len);
	}
	lua_settop(L, top);
	if (st)
		return st;

	lua_getfield(L, t, "customer_policy");
	if (!lua_isnil(L, -1)) {
		int p;
		st = get_enum(L, -1, "customer_policy", policy_names, 2, &p, e);
		cfg->customer_policy = (uint32_t)p;
	}
	lua_settop(L, top);
	if (st)
		return st;

	lua_getfield(L, t, "clock");
	if (!lua_isnil(L, -1)) {
		const char *c = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
		if (strcmp(c, "fixed") == 0)
			*fixed = 1;
		else if (strcmp(c, "system") != 0)
			st = bfail(e, CXM_ERR_INVALID, "clock: \"system\" or \"fixed\" expected");
	}
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, t, "now");
	if (!lua_isnil(L, -1)) {
		if (!*fixed)
			st = bfail(e, CXM_ERR_INVALID, "now: only with clock = \"fixed\"");
		else
			st = get_i64(L, -1, "now", now, e);
	}
	lua_settop(L, top);
	return st;
}

static int l_new(lua_State *L)
{
	cxm_config cfg;
	berr e;
	int fixed = 0;
	int64_t now = 0;
	cxm_status st = cxm_config_init(&cfg, sizeof cfg);
	if (st)
		return push_fail(L, NULL, st);
	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		if (read_config(L, 1, &cfg, &fixed, &now, &e))
			return push_berr(L, &e);
	}
	lctx *c = lua_newuserdata(L, sizeof *c);
	c->ctx = NULL;
	c->fixed_clock = fixed;
	c->now = now;
	lua_pushvalue(L, CTX_MT);
	lua_setmetatable(L, -2);
	if (fixed) {
		cfg.clock = fixed_clock;
		cfg.clock_opaque = c; /* userdata never moves */
	}
	st = cxm_context_new(&c->ctx, &cfg);
	if (st)
		return push_fail(L, NULL, st);
	return 1;
}

static int l_close(lua_State *L)
{
	lctx *c = to_lctx(L, 1);
	if (!c)
		return luaL_argerror(L, 1, "cxm context expected");
	cxm_context_free(c->ctx);
	c->ctx = NULL;
	return 0;
}

static int l_tostring(lua_State *L)
{
	lctx *c = to_lctx(L, 1);
	if (!c)
		return luaL_argerror(L, 1, "cxm context expected");
	if (!c->ctx) {
		lua_pushfstring(L, "cxm.context (closed): %p", (void *)c);
		return 1;
	}
	uint32_t tp = 0, m = 0;
	cxm_count(&tp, c->ctx, CXM_OBJECT_TOUCHPOINT);
	cxm_count(&m, c->ctx, CXM_OBJECT_METRIC);
	lua_pushfstring(L, "cxm.context (%d touchpoints, %d metrics): %p", (int)tp, (int)m,
			(void *)c);
	return 1;
}

static int l_set_now(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	int64_t now;
	luaL_checktype(L, 2, LUA_TNUMBER);
	if (!c->fixed_clock) {
		bfail(&e, CXM_ERR_INVALID, "set_now: the context's clock is not \"fixed\"");
		return push_berr(L, &e);
	}
	if (get_i64(L, 2, "now", &now, &e))
		return push_berr(L, &e);
	c->now = now;
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- definitions ------------------------------------------------------- */

static int push_id(lua_State *L, cxm_id id)
{
	lua_pushinteger(L, (lua_Integer)id);
	return 1;
}

/* Argument idx as an id (raises when it is not a number). */
static cxm_status arg_id(lua_State *L, int idx, const char *what, cxm_id *out, berr *e)
{
	luaL_checktype(L, idx, LUA_TNUMBER);
	return get_id(L, idx, what, out, e);
}

static int l_journey_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	luaL_checktype(L, 3, LUA_TTABLE);
	if (!name)
		return push_berr(L, &e);
	size_t n;
	if (get_list_len(L, 3, "steps", &n, &e))
		return push_berr(L, &e);
	const char *local[64];
	const char **steps = n <= 64 ? local : lua_newuserdata(L, n * sizeof *steps);
	/* The pointers stay valid after the pop: the table (argument 3, on the
	 * stack) holds each string, and from here to the end of
	 * cxm_journey_define nothing runs Lua code or allocates (raw reads of
	 * strings only), so no collection or change of the table can happen. */
	for (size_t i = 0; i < n; i++) {
		lua_rawgeti(L, 3, (int)i + 1);
		size_t len = 0;
		steps[i] = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
		if (!steps[i]) {
			char v[48];
			bfail(&e, CXM_ERR_INVALID, "steps[%d] must be a string, got %s", (int)i + 1,
			      value_text(L, -1, v, sizeof v));
			return push_berr(L, &e);
		}
		lua_pop(L, 1);
		if (strlen(steps[i]) != len) {
			bfail(&e, CXM_ERR_ENCODING, "steps[%d] contains a NUL byte", (int)i + 1);
			return push_berr(L, &e);
		}
	}
	cxm_id id;
	cxm_status st = cxm_journey_define(&id, c->ctx, name, steps, n);
	return st ? push_fail(L, c->ctx, st) : push_id(L, id);
}

/* A step given by id or by name within journey j. */
static cxm_status get_step(lua_State *L, int idx, cxm_context *ctx, cxm_id j, cxm_id *out,
			   berr *e, int *from_lib)
{
	*from_lib = 0;
	if (lua_type(L, idx) == LUA_TSTRING) {
		cxm_status st = cxm_step_find(out, ctx, j, lua_tostring(L, idx));
		*from_lib = st != CXM_OK;
		return st;
	}
	return get_id(L, idx, "step", out, e);
}

static int l_touchpoint_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	if (lua_type(L, 3) != LUA_TSTRING && lua_type(L, 3) != LUA_TNUMBER)
		luaL_argerror(L, 3, "channel name expected");
	if (!lua_isnoneornil(L, 4))
		luaL_checktype(L, 4, LUA_TNUMBER);
	if (!name)
		return push_berr(L, &e);
	int ch;
	cxm_id j = CXM_NONE, s = CXM_NONE;
	if (get_enum(L, 3, "channel", channel_names, N_CHANNELS, &ch, &e))
		return push_berr(L, &e);
	if (!lua_isnoneornil(L, 4)) {
		if (get_id(L, 4, "journey", &j, &e))
			return push_berr(L, &e);
		if (lua_isnoneornil(L, 5)) {
			bfail(&e, CXM_ERR_INVALID, "a touchpoint on a journey needs a step");
			return push_berr(L, &e);
		}
		if (lua_type(L, 5) != LUA_TSTRING)
			luaL_checktype(L, 5, LUA_TNUMBER);
		int lib;
		cxm_status st = get_step(L, 5, c->ctx, j, &s, &e, &lib);
		if (st)
			return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	}
	cxm_id id;
	cxm_status st = cxm_touchpoint_define(&id, c->ctx, name, (cxm_channel)ch, j, s);
	return st ? push_fail(L, c->ctx, st) : push_id(L, id);
}

static const char *const def_keys[] = {
	"preset", "kind", "headline", "scale_min", "scale_max", "questions", "na", "top_min",
	"bottom_max", "duration_lo", "duration_hi", "relative_error", "precision", NULL,
};

/* top_min / bottom_max: one number for every question, or one per question. */
static cxm_status read_boxes(lua_State *L, int idx, const char *what, int32_t *dst, berr *e)
{
	if (lua_type(L, idx) == LUA_TNUMBER) {
		int32_t v;
		cxm_status st = get_i32(L, idx, what, &v, e);
		for (int q = 0; q < CXM_MAX_QUESTIONS && !st; q++)
			dst[q] = v;
		return st;
	}
	if (lua_type(L, idx) != LUA_TTABLE)
		return bad_value(L, idx, e, CXM_ERR_INVALID, what, "a number or a list");
	size_t n;
	cxm_status lst = get_list_len(L, idx, what, &n, e);
	if (lst)
		return lst;
	if (n > CXM_MAX_QUESTIONS)
		return bfail(e, CXM_ERR_OUT_OF_RANGE, "%s: at most %d questions", what,
			     CXM_MAX_QUESTIONS);
	for (size_t q = 0; q < n; q++) {
		lua_rawgeti(L, idx, (int)q + 1);
		cxm_status st = get_i32(L, -1, "", &dst[q], e);
		lua_pop(L, 1);
		if (st)
			return bprefix(e, "%s[%d]", what, (int)q + 1);
	}
	return CXM_OK;
}

/* A metric definition from a preset name or a table (see docs/lua.md). */
static cxm_status read_def(lua_State *L, int idx, cxm_metric_def *d, berr *e, int *from_lib)
{
	*from_lib = 0;
	cxm_status st = cxm_metric_def_init(d, sizeof *d);
	if (st) {
		*from_lib = 1;
		return st;
	}
	if (lua_type(L, idx) == LUA_TSTRING) {
		int p;
		if ((st = get_enum(L, idx, "preset", preset_names, N_PRESETS, &p, e)))
			return st;
		st = cxm_metric_preset(d, (cxm_preset)p);
		*from_lib = st != CXM_OK;
		return st;
	}
	if ((st = check_keys(L, idx, "metric definition", def_keys, e)))
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, idx, "preset");
	if (!lua_isnil(L, -1)) {
		int p;
		if (!(st = get_enum(L, -1, "preset", preset_names, N_PRESETS, &p, e))) {
			st = cxm_metric_preset(d, (cxm_preset)p);
			*from_lib = st != CXM_OK;
		}
	}
	lua_settop(L, top);
	if (st)
		return st;
	int v;
	lua_getfield(L, idx, "kind");
	if (!lua_isnil(L, -1) && !(st = get_enum(L, -1, "kind", kind_names, N_KINDS, &v, e)))
		d->kind = (cxm_metric_kind)v;
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, idx, "headline");
	if (!lua_isnil(L, -1) &&
	    !(st = get_enum(L, -1, "headline", headline_names, N_HEADLINES, &v, e)))
		d->headline = (cxm_headline)v;
	lua_settop(L, top);
	if (st)
		return st;
	struct {
		const char *k;
		int32_t *p;
	} i32[] = {{"scale_min", &d->scale_min}, {"scale_max", &d->scale_max}};
	for (int i = 0; i < 2 && !st; i++) {
		lua_getfield(L, idx, i32[i].k);
		if (!lua_isnil(L, -1))
			st = get_i32(L, -1, i32[i].k, i32[i].p, e);
		lua_settop(L, top);
	}
	struct {
		const char *k;
		uint32_t *p;
	} u32[] = {{"questions", &d->questions}, {"precision", &d->precision}};
	for (int i = 0; i < 2 && !st; i++) {
		lua_getfield(L, idx, u32[i].k);
		if (!lua_isnil(L, -1))
			st = get_u32(L, -1, u32[i].k, u32[i].p, e);
		lua_settop(L, top);
	}
	struct {
		const char *k;
		double *p;
	} dbl[] = {{"duration_lo", &d->duration_lo},
		   {"duration_hi", &d->duration_hi},
		   {"relative_error", &d->relative_error}};
	for (int i = 0; i < 3 && !st; i++) {
		lua_getfield(L, idx, dbl[i].k);
		if (!lua_isnil(L, -1))
			st = get_double(L, -1, dbl[i].k, dbl[i].p, e);
		lua_settop(L, top);
	}
	if (st)
		return st;
	lua_getfield(L, idx, "na");
	if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
		d->has_na = 0; /* na = false: no "no answer" code, even if the preset had one */
	else if (!lua_isnil(L, -1) && !(st = get_i32(L, -1, "na", &d->na_value, e)))
		d->has_na = 1;
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, idx, "top_min");
	if (!lua_isnil(L, -1))
		st = read_boxes(L, lua_gettop(L), "top_min", d->top_min, e);
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, idx, "bottom_max");
	if (!lua_isnil(L, -1))
		st = read_boxes(L, lua_gettop(L), "bottom_max", d->bottom_max, e);
	lua_settop(L, top);
	if (st)
		return st;
	/* A number given for the boxes filled every question: keep those past
	 * the metric's questions at 0. */
	if (d->kind == CXM_KIND_SCORE || d->kind == CXM_KIND_INDEX) {
		uint32_t q = d->kind == CXM_KIND_INDEX ? d->questions : 1;
		for (uint32_t i = q; i < CXM_MAX_QUESTIONS; i++)
			d->top_min[i] = d->bottom_max[i] = 0;
	}
	return CXM_OK;
}

static void push_def(lua_State *L, const cxm_metric_def *d)
{
	lua_createtable(L, 0, 12);
	set_str(L, "kind", enum_name(kind_names, N_KINDS, d->kind));
	set_str(L, "headline", enum_name(headline_names, N_HEADLINES, d->headline));
	if (d->kind == CXM_KIND_SCORE || d->kind == CXM_KIND_INDEX) {
		uint32_t q = d->questions <= CXM_MAX_QUESTIONS ? d->questions : CXM_MAX_QUESTIONS;
		lua_pushinteger(L, d->scale_min);
		lua_setfield(L, -2, "scale_min");
		lua_pushinteger(L, d->scale_max);
		lua_setfield(L, -2, "scale_max");
		lua_pushinteger(L, (lua_Integer)d->questions);
		lua_setfield(L, -2, "questions");
		if (d->has_na) {
			lua_pushinteger(L, d->na_value);
			lua_setfield(L, -2, "na");
		}
		lua_createtable(L, (int)q, 0);
		for (uint32_t i = 0; i < q; i++) {
			lua_pushinteger(L, d->top_min[i]);
			lua_rawseti(L, -2, (int)i + 1);
		}
		lua_setfield(L, -2, "top_min");
		lua_createtable(L, (int)q, 0);
		for (uint32_t i = 0; i < q; i++) {
			lua_pushinteger(L, d->bottom_max[i]);
			lua_rawseti(L, -2, (int)i + 1);
		}
		lua_setfield(L, -2, "bottom_max");
	}
	if (d->kind == CXM_KIND_DURATION) {
		set_num(L, "duration_lo", d->duration_lo);
		set_num(L, "duration_hi", d->duration_hi);
		set_num(L, "relative_error", d->relative_error);
	}
	if (d->kind == CXM_KIND_DISTINCT) {
		lua_pushinteger(L, (lua_Integer)d->precision);
		lua_setfield(L, -2, "precision");
	}
}

static int l_metric_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	if (lua_type(L, 3) != LUA_TSTRING)
		luaL_checktype(L, 3, LUA_TTABLE);
	if (!name)
		return push_berr(L, &e);
	cxm_metric_def d;
	int lib;
	cxm_status st = read_def(L, 3, &d, &e, &lib);
	if (st)
		return lib ? push_fail(L, NULL, st) : push_berr(L, &e);
	cxm_id id;
	st = cxm_metric_define(&id, c->ctx, name, &d);
	return st ? push_fail(L, c->ctx, st) : push_id(L, id);
}

static int l_metric_get(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id m;
	if (arg_id(L, 2, "metric", &m, &e))
		return push_berr(L, &e);
	cxm_metric_def d;
	cxm_status st = cxm_metric_def_init(&d, sizeof d);
	if (!st)
		st = cxm_metric_get(&d, c->ctx, m);
	if (st)
		return push_fail(L, c->ctx, st);
	push_def(L, &d);
	return 1;
}

/* cxm.preset(name): the definition a preset fills in, to start a custom one from. */
static int l_preset(lua_State *L)
{
	luaL_checkstring(L, 1);
	berr e;
	cxm_metric_def d;
	int lib;
	cxm_status st = read_def(L, 1, &d, &e, &lib);
	if (st)
		return lib ? push_fail(L, NULL, st) : push_berr(L, &e);
	push_def(L, &d);
	return 1;
}

static int l_segment_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	luaL_checktype(L, 3, LUA_TNUMBER);
	if (!name)
		return push_berr(L, &e);
	uint32_t maxv;
	if (get_u32(L, 3, "max_values", &maxv, &e))
		return push_berr(L, &e);
	cxm_id id;
	cxm_status st = cxm_segment_define(&id, c->ctx, name, maxv);
	return st ? push_fail(L, c->ctx, st) : push_id(L, id);
}

static int segment_value_common(lua_State *L, int add)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id seg;
	luaL_checktype(L, 2, LUA_TNUMBER);
	const char *value = check_name(L, 3, &e);
	if (!value || get_id(L, 2, "segment", &seg, &e))
		return push_berr(L, &e);
	uint32_t v;
	cxm_status st = add ? cxm_segment_value(&v, c->ctx, seg, value)
			    : cxm_segment_value_find(&v, c->ctx, seg, value);
	return st ? push_fail(L, c->ctx, st) : push_id(L, v);
}

static int l_segment_value(lua_State *L)
{
	return segment_value_common(L, 1);
}

static int l_segment_value_find(lua_State *L)
{
	return segment_value_common(L, 0);
}

static int l_segment_value_name(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id seg, v;
	luaL_checktype(L, 3, LUA_TNUMBER);
	if (arg_id(L, 2, "segment", &seg, &e) || get_id(L, 3, "value", &v, &e))
		return push_berr(L, &e);
	const char *name;
	cxm_status st = cxm_segment_value_name(&name, c->ctx, seg, v);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushstring(L, name);
	return 1;
}

static int l_segment_values(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id seg;
	if (arg_id(L, 2, "segment", &seg, &e))
		return push_berr(L, &e);
	uint32_t n;
	cxm_status st = cxm_segment_values(&n, c->ctx, seg);
	return st ? push_fail(L, c->ctx, st) : push_id(L, n);
}

static cxm_status arg_object(lua_State *L, int idx, int *kind, berr *e)
{
	luaL_checkstring(L, idx);
	return get_enum(L, idx, "kind", object_names, N_OBJECTS, kind, e);
}

static int l_count(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	int kind;
	if (arg_object(L, 2, &kind, &e))
		return push_berr(L, &e);
	uint32_t n;
	cxm_status st = cxm_count(&n, c->ctx, (cxm_object)kind);
	return st ? push_fail(L, c->ctx, st) : push_id(L, n);
}

static int l_find(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	int kind;
	luaL_checkstring(L, 3);
	if (arg_object(L, 2, &kind, &e))
		return push_berr(L, &e);
	cxm_id id;
	cxm_status st = cxm_find(&id, c->ctx, (cxm_object)kind, lua_tostring(L, 3));
	return st ? push_fail(L, c->ctx, st) : push_id(L, id);
}

static int l_name(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	int kind;
	cxm_id id;
	luaL_checktype(L, 3, LUA_TNUMBER);
	if (arg_object(L, 2, &kind, &e) || get_id(L, 3, "id", &id, &e))
		return push_berr(L, &e);
	const char *name;
	cxm_status st = cxm_name(&name, c->ctx, (cxm_object)kind, id);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushstring(L, name);
	return 1;
}

static int l_journey_steps(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id j;
	if (arg_id(L, 2, "journey", &j, &e))
		return push_berr(L, &e);
	uint32_t n;
	cxm_status st = cxm_journey_steps(&n, c->ctx, j);
	return st ? push_fail(L, c->ctx, st) : push_id(L, n);
}

static int l_step_name(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id j, s;
	luaL_checktype(L, 3, LUA_TNUMBER);
	if (arg_id(L, 2, "journey", &j, &e) || get_id(L, 3, "step", &s, &e))
		return push_berr(L, &e);
	const char *name;
	cxm_status st = cxm_step_name(&name, c->ctx, j, s);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushstring(L, name);
	return 1;
}

static int l_step_find(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id j, s;
	luaL_checkstring(L, 3);
	if (arg_id(L, 2, "journey", &j, &e))
		return push_berr(L, &e);
	cxm_status st = cxm_step_find(&s, c->ctx, j, lua_tostring(L, 3));
	return st ? push_fail(L, c->ctx, st) : push_id(L, s);
}

/* channel, journey, step (nil for a touchpoint that stands alone). */
static int l_touchpoint_get(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id tp, j, s;
	cxm_channel ch;
	if (arg_id(L, 2, "touchpoint", &tp, &e))
		return push_berr(L, &e);
	cxm_status st = cxm_touchpoint_get(&ch, &j, &s, c->ctx, tp);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushstring(L, enum_name(channel_names, N_CHANNELS, ch));
	if (j == CXM_NONE)
		lua_pushnil(L);
	else
		lua_pushinteger(L, (lua_Integer)j);
	if (s == CXM_NONE)
		lua_pushnil(L);
	else
		lua_pushinteger(L, (lua_Integer)s);
	return 3;
}

/* ---- feeding ----------------------------------------------------------- */

/* The interaction table at t into *ix; measures, segments and a converted
 * customer id go to the arena. Never raises (but for memory). */
static cxm_status read_ix(lua_State *L, int t, cxm_interaction *ix, arena *a, berr *e)
{
	cxm_status st;
	int top = lua_gettop(L);
	memset(ix, 0, sizeof *ix);
	ix->size = sizeof *ix;

	lua_getfield(L, t, "time");
	if (lua_isnil(L, -1))
		st = bfail(e, CXM_ERR_INVALID, "interaction has no time");
	else
		st = get_i64(L, -1, "time", &ix->time_ms, e);
	if (st)
		goto out;
	lua_getfield(L, t, "touchpoint");
	if ((st = get_id(L, -1, "touchpoint", &ix->touchpoint, e))) {
		if (lua_isnil(L, -1))
			bfail(e, CXM_ERR_INVALID, "interaction has no touchpoint");
		goto out;
	}

	/* The customer id is copied: the string on the stack is popped before
	 * libcxm reads it, and nothing else need hold it (an __index function
	 * may return a new string), so a collection in between — in a later
	 * lua_getfield, or while feed_batch reads the next interaction —
	 * would free it. */
	lua_getfield(L, t, "customer");
	switch (lua_type(L, -1)) {
	case LUA_TNIL: break;
	case LUA_TSTRING:
	case LUA_TNUMBER: { /* a number: its decimal text, a new string */
		size_t len;
		const char *s = lua_tolstring(L, -1, &len);
		char *copy = arena_alloc(a, len + 1);
		memcpy(copy, s, len + 1);
		ix->customer = copy;
		ix->customer_len = len;
		break;
	}
	default:
		st = bad_value(L, -1, e, CXM_ERR_INVALID, "customer", "a string or a number");
		goto out;
	}

	lua_getfield(L, t, "segments");
	if (lua_type(L, -1) == LUA_TTABLE) {
		uint32_t seg[64];
		size_t n = 0;
		int st_idx = lua_gettop(L);
		lua_pushnil(L);
		while (lua_next(L, st_idx)) {
			int64_t d;
			cxm_id v = CXM_NONE;
			st = get_range(L, -2, "a segment dimension", 0, 63, &d, e);
			if (!st) {
				int ty = lua_type(L, -1);
				if (ty == LUA_TNUMBER)
					st = get_id(L, -1, "", &v, e);
				else if (ty == LUA_TBOOLEAN && !lua_toboolean(L, -1))
					v = CXM_NONE; /* false: no value */
				else /* true is no id */
					st = bad_value(L, -1, e, CXM_ERR_INVALID, "",
						       "a value id or false");
				if (st)
					bprefix(e, "segments[%d]", (int)d);
			}
			lua_pop(L, 1);
			if (st) {
				lua_pop(L, 1);
				goto out;
			}
			while (n <= (size_t)d)
				seg[n++] = CXM_NONE;
			seg[d] = v;
		}
		if (n) {
			uint32_t *p = arena_alloc(a, n * sizeof *p);
			memcpy(p, seg, n * sizeof *p);
			ix->segments = p;
			ix->n_segments = n;
		}
	} else if (!lua_isnil(L, -1)) {
		st = bad_value(L, -1, e, CXM_ERR_INVALID, "segments", "a table");
		goto out;
	}

	lua_getfield(L, t, "measures");
	if (lua_type(L, -1) == LUA_TTABLE) {
		/* One pass of lua_next both reads the measures and checks that
		 * they are a list (get_list_len's test, without a second pass:
		 * this is the hot path): each goes to the slot its key names. */
		int mt = lua_gettop(L);
		size_t n = lua_rawlen(L, mt), count = 0;
		cxm_measure *m = n ? arena_alloc(a, n * sizeof *m) : NULL;
		lua_pushnil(L);
		while (lua_next(L, mt)) {
			size_t i = list_index(L, mt + 1, n);
			if (i == n) {
				st = list_error(L, mt, "measures", e);
				goto out;
			}
			count++; /* keys are distinct: count == n at the end means 1 … n */
			int me = mt + 2;
			if (lua_type(L, me) != LUA_TTABLE) {
				st = bad_value(L, me, e, CXM_ERR_INVALID, "",
					       "a table {metric, value[, item]}");
				bprefix(e, "measures[%d]", (int)i + 1);
				goto out;
			}
			lua_rawgeti(L, me, 1);
			if (lua_isnil(L, -1)) { /* {metric = m, value = v, item = i} */
				lua_pop(L, 1);
				lua_getfield(L, me, "metric");
				lua_getfield(L, me, "value");
				lua_getfield(L, me, "item");
			} else {
				lua_rawgeti(L, me, 2);
				lua_rawgeti(L, me, 3);
			}
			m[i].item = 0;
			if ((st = get_id(L, me + 1, ".metric", &m[i].metric, e)))
				;
			else if (lua_type(L, me + 2) == LUA_TBOOLEAN)
				m[i].value = lua_toboolean(L, me + 2) ? 1.0 : 0.0;
			else if ((st = get_double(L, me + 2, ".value", &m[i].value, e)))
				;
			else if (!lua_isnil(L, me + 3))
				st = get_u32(L, me + 3, ".item", &m[i].item, e);
			if (st) {
				bprefix(e, "measures[%d]", (int)i + 1);
				goto out;
			}
			lua_settop(L, mt + 1); /* the key, for lua_next */
		}
		if (count != n) {
			st = list_error(L, mt, "measures", e);
			goto out;
		}
		ix->measures = m;
		ix->n_measures = n;
	} else if (!lua_isnil(L, -1)) {
		st = bad_value(L, -1, e, CXM_ERR_INVALID, "measures", "a list");
	}
out:
	lua_settop(L, top);
	return st;
}

static int l_feed(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	union {
		char b[1024];
		cxm_measure m; /* alignment */
	} buf;
	lua_settop(L, 3); /* slot 3: the arena's anchor, if it needs one */
	arena a = {L, 3, 0, buf.b, sizeof buf.b};
	cxm_interaction ix;
	berr e;
	if (read_ix(L, 2, &ix, &a, &e))
		return push_berr(L, &e);
	cxm_status st = cxm_feed(c->ctx, &ix);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- prepared interactions --------------------------------------------- */

/* ctx:prepare{touchpoint =, segments =, measures = {metric, …}} fixes what
 * stays the same from one interaction to the next and returns a function
 * feed(time, customer, value1, value2, …) that reads only plain arguments.
 * The function's upvalue is a userdata holding the interaction, its
 * segments and two measure arrays (the template and the one fed); it keeps
 * the context alive through its user value. Nothing else can reach the
 * userdata, so the hot call needs no type check of it. */
typedef struct lfeeder {
	lctx *c;
	cxm_interaction ix;
	size_t n_measures;
	cxm_measure *tmpl; /* n_measures: metric and item of each value */
	cxm_measure *fed;  /* n_measures: what one call feeds */
} lfeeder;

/* feed(time, customer, value1, value2, …): value k goes to the template's
 * measure k; nil leaves that measure out (a question not answered), a
 * boolean is 1 or 0. */
static int l_prepared_feed(lua_State *L)
{
	lfeeder *f = lua_touserdata(L, lua_upvalueindex(1));
	cxm_interaction *ix = &f->ix;
	berr e;
	if (!f->c->ctx)
		return luaL_error(L, "attempt to use a closed cxm context");
	/* Each argument is read with one API call in the common case: this
	 * is the path the per-call budget of docs/lua.md is about. */
#if CXM_HAS_INT64
	int ok;
	lua_Integer t = lua_tointegerx(L, 1, &ok);
	if (ok)
		ix->time_ms = (int64_t)t;
	else
#endif
	{
		luaL_checktype(L, 1, LUA_TNUMBER);
		if (get_i64(L, 1, "time", &ix->time_ms, &e))
			return push_berr(L, &e);
	}
	ix->customer = lua_tolstring(L, 2, &ix->customer_len);
	if (!ix->customer) {
		if (!lua_isnoneornil(L, 2))
			return luaL_argerror(L, 2, "string or nil expected");
		ix->customer_len = 0;
	}
	if (lua_gettop(L) > 2 + (int)f->n_measures)
		return luaL_argerror(L, 3 + (int)f->n_measures, "more values than measures");
	size_t k = 0;
	for (size_t i = 0; i < f->n_measures; i++) {
		int idx = 3 + (int)i;
		double v;
#if LUA_VERSION_NUM >= 502
		int isnum;
		v = (double)lua_tonumberx(L, idx, &isnum);
		if (!isnum)
#else
		if (lua_isnumber(L, idx)) /* numeric strings too, as tonumberx */
			v = (double)lua_tonumber(L, idx);
		else
#endif
		{
			int ty = lua_type(L, idx);
			if (ty == LUA_TNIL || ty == LUA_TNONE)
				continue;
			if (ty != LUA_TBOOLEAN)
				return luaL_argerror(L, idx, "number, boolean or nil expected");
			v = lua_toboolean(L, idx) ? 1.0 : 0.0;
		}
		f->fed[k].metric = f->tmpl[i].metric;
		f->fed[k].item = f->tmpl[i].item;
		f->fed[k++].value = v;
	}
	ix->n_measures = k;
	cxm_status st = cxm_feed(f->c->ctx, ix);
	ix->customer = NULL; /* the string is only valid during the call */
	if (st)
		return push_fail(L, f->c->ctx, st);
	lua_pushboolean(L, 1);
	return 1;
}

static const char *const prepare_keys[] = {"touchpoint", "segments", "measures", NULL};

static int l_prepare(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	berr e;
	cxm_interaction ix;
	if (check_keys(L, 2, "prepare", prepare_keys, &e))
		return push_berr(L, &e);
	/* read_ix wants a time and measures with values: give it a copy of
	 * the template with both, and take the ids it resolves. */
	lua_createtable(L, 0, 4); /* 3 */
	lua_pushinteger(L, 0);
	lua_setfield(L, 3, "time");
	lua_getfield(L, 2, "touchpoint");
	lua_setfield(L, 3, "touchpoint");
	lua_getfield(L, 2, "segments");
	lua_setfield(L, 3, "segments");
	lua_getfield(L, 2, "measures"); /* 4 */
	if (lua_type(L, 4) == LUA_TTABLE) {
		size_t n;
		if (get_list_len(L, 4, "measures", &n, &e))
			return push_berr(L, &e);
		lua_createtable(L, (int)n, 0); /* 5 */
		for (size_t i = 0; i < n; i++) {
			lua_createtable(L, 3, 0);
			lua_rawgeti(L, 4, (int)i + 1);
			if (lua_type(L, -1) == LUA_TTABLE) { /* {metric = m, item = i} */
				lua_getfield(L, -1, "metric");
				lua_rawseti(L, -3, 1);
				lua_getfield(L, -1, "item");
				lua_rawseti(L, -3, 3);
				lua_pop(L, 1);
			} else {
				lua_rawseti(L, -2, 1);
			}
			lua_pushinteger(L, 0);
			lua_rawseti(L, -2, 2);
			lua_rawseti(L, 5, (int)i + 1);
		}
		lua_setfield(L, 3, "measures");
	} else if (!lua_isnil(L, 4)) {
		bad_value(L, 4, &e, CXM_ERR_INVALID, "measures", "a list");
		return push_berr(L, &e);
	}
	lua_settop(L, 3);
	lua_pushnil(L); /* 4: the arena's anchor */
	union {
		char b[1024];
		cxm_measure m;
	} buf;
	arena a = {L, 4, 0, buf.b, sizeof buf.b};
	if (read_ix(L, 3, &ix, &a, &e))
		return push_berr(L, &e);

	/* Check the ids now rather than on every call: a template that names
	 * an unknown touchpoint, metric or segment value fails here. */
	cxm_status st = cxm_touchpoint_get(NULL, NULL, NULL, c->ctx, ix.touchpoint);
	const char *name;
	for (size_t i = 0; i < ix.n_measures && !st; i++)
		st = cxm_name(&name, c->ctx, CXM_OBJECT_METRIC, ix.measures[i].metric);
	for (size_t d = 0; d < ix.n_segments && !st; d++)
		if (ix.segments[d] != CXM_NONE)
			st = cxm_segment_value_name(&name, c->ctx, (cxm_id)d, ix.segments[d]);
	if (st)
		return push_fail(L, c->ctx, st);

	size_t n = ix.n_measures, ns = ix.n_segments;
	lfeeder *f = lua_newuserdata(L, sizeof *f + 2 * n * sizeof(cxm_measure) +
						ns * sizeof(uint32_t));
	f->c = c;
	f->ix = ix;
	f->n_measures = n;
	f->tmpl = (cxm_measure *)(void *)(f + 1);
	f->fed = f->tmpl + n;
	if (n)
		memcpy(f->tmpl, ix.measures, n * sizeof(cxm_measure));
	if (ns) {
		uint32_t *seg = (uint32_t *)(void *)(f->fed + n);
		memcpy(seg, ix.segments, ns * sizeof *seg);
		f->ix.segments = seg;
	}
	f->ix.measures = f->fed;
	f->ix.customer = NULL;
	f->ix.customer_len = 0;
	lua_createtable(L, 1, 0);
	lua_pushvalue(L, 1);
	lua_rawseti(L, -2, 1);
	cxm_setuservalue(L, -2); /* the feeder keeps its context alive */
	lua_pushcclosure(L, l_prepared_feed, 1);
	return 1;
}

static void push_rejection(lua_State *L, size_t index, cxm_status st, const char *msg)
{
	lua_createtable(L, 0, 3);
	cxm_pushuint64(L, index);
	lua_setfield(L, -2, "index");
	set_str(L, "code", status_name(st));
	set_str(L, "message", msg);
}

/* accepted, rejections: {{index = i, code = "NAME", message = "..."}, ...}
 * in batch order, indices 1-based. */
static int l_feed_batch(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 2);
	size_t n;
	berr e;
	if (get_list_len(L, 2, "batch", &n, &e))
		return push_berr(L, &e);
	lua_newtable(L); /* 3: anchor of scratch chunks */
	lua_newtable(L); /* 4: rejections found by the binding */
	arena a = {L, 3, 0, NULL, 0};
	cxm_interaction *ixs = n ? arena_alloc(&a, n * sizeof *ixs) : NULL;
	size_t *lua_index = n ? arena_alloc(&a, n * sizeof *lua_index) : NULL;
	size_t k = 0, nb = 0;
	for (size_t i = 0; i < n; i++) {
		lua_rawgeti(L, 2, (int)i + 1);
		cxm_status st;
		if (lua_type(L, -1) != LUA_TTABLE)
			st = bad_value(L, -1, &e, CXM_ERR_INVALID, "an interaction", "a table");
		else
			st = read_ix(L, lua_gettop(L), &ixs[k], &a, &e);
		lua_pop(L, 1);
		if (st) {
			push_rejection(L, i + 1, st, e.msg);
			lua_rawseti(L, 4, (int)++nb);
		} else {
			lua_index[k++] = i + 1;
		}
	}
	cxm_rejection *rej = k ? arena_alloc(&a, k * sizeof *rej) : NULL;
	size_t accepted = 0, nrej = 0;
	cxm_status st = cxm_feed_batch(&accepted, c->ctx, ixs, k, rej, k, &nrej);
	if (st && st != CXM_ERR_REJECTED)
		return push_fail(L, c->ctx, st);
	cxm_pushuint64(L, accepted);
	lua_createtable(L, (int)(nb + nrej), 0);
	/* merge the binding's and the library's rejections by index */
	size_t ib = 0, ic = 0, out = 0;
	while (ib < nb || ic < nrej) {
		int take_b = ic >= nrej;
		if (!take_b && ib < nb) {
			lua_rawgeti(L, 4, (int)ib + 1);
			lua_getfield(L, -1, "index");
			take_b = (size_t)lua_tonumber(L, -1) < lua_index[rej[ic].index];
			lua_pop(L, 2);
		}
		if (take_b) {
			lua_rawgeti(L, 4, (int)++ib);
		} else {
			push_rejection(L, lua_index[rej[ic].index], rej[ic].status,
				       cxm_strerror(rej[ic].status));
			ic++;
		}
		lua_rawseti(L, -2, (int)++out);
	}
	return 2;
}

/* ---- queries ----------------------------------------------------------- */

static const char *const query_keys[] = {
	"metric", "touchpoint", "journey", "step", "channel", "segment", "segment_value",
	"end_ms", "span_ms", NULL,
};

/* The scope of a query or a trigger, from its fields touchpoint, journey,
 * step and channel in stack slots f, f + 1, f + 2, f + 3: touchpoint = id,
 * journey = id (with step = id or name), channel = name, or none of them
 * for everything. check_scope finds what is wrong with the fields given,
 * read_scope reads them. */
static cxm_status check_scope(lua_State *L, int f, const char *what, berr *e)
{
	int scopes = !lua_isnil(L, f) + !lua_isnil(L, f + 1) + !lua_isnil(L, f + 3);
	if (scopes > 1)
		return bfail(e, CXM_ERR_INVALID, "%s: give one of touchpoint, journey, channel",
			     what);
	if (!lua_isnil(L, f + 2) && lua_isnil(L, f + 1))
		return bfail(e, CXM_ERR_INVALID, "%s: step needs its journey", what);
	return CXM_OK;
}

static cxm_status read_scope(lua_State *L, int f, cxm_context *ctx, cxm_scope *scope, cxm_id *id,
			     cxm_id *step, berr *e, int *from_lib)
{
	cxm_status st = CXM_OK;
	if (!lua_isnil(L, f)) {
		*scope = CXM_SCOPE_TOUCHPOINT;
		st = get_id(L, f, "touchpoint", id, e);
	}
	if (!st && !lua_isnil(L, f + 1)) {
		*scope = CXM_SCOPE_JOURNEY;
		st = get_id(L, f + 1, "journey", id, e);
		if (!st && !lua_isnil(L, f + 2)) {
			*scope = CXM_SCOPE_STEP;
			if (lua_type(L, f + 2) == LUA_TSTRING) {
				st = cxm_step_find(step, ctx, *id, lua_tostring(L, f + 2));
				*from_lib = st != CXM_OK;
			} else {
				st = get_id(L, f + 2, "step", step, e);
			}
		}
	}
	if (!st && !lua_isnil(L, f + 3)) {
		int ch;
		*scope = CXM_SCOPE_CHANNEL;
		if (!(st = get_enum(L, f + 3, "channel", channel_names, N_CHANNELS, &ch, e)))
			*id = (cxm_id)ch;
	}
	return st;
}

/* The query fields of the table at t into *q (from cxm_query_init's):
 * metric and span_ms required, its scope as read_scope reads it; what
 * names the table in messages ("query", "alert"). The caller checks the
 * keys. */
static cxm_status read_query_fields(lua_State *L, int t, cxm_context *ctx, cxm_query *q,
				    const char *what, berr *e, int *from_lib)
{
	*from_lib = 0;
	cxm_status st = cxm_query_init(q, sizeof *q);
	if (st) {
		*from_lib = 1;
		return st;
	}
	int top = lua_gettop(L);
	lua_getfield(L, t, "metric");      /* top + 1 */
	lua_getfield(L, t, "touchpoint");  /* top + 2 */
	lua_getfield(L, t, "journey");     /* top + 3 */
	lua_getfield(L, t, "step");        /* top + 4 */
	lua_getfield(L, t, "channel");     /* top + 5 */
	lua_getfield(L, t, "segment");     /* top + 6 */
	lua_getfield(L, t, "segment_value"); /* top + 7 */
	lua_getfield(L, t, "end_ms");      /* top + 8 */
	lua_getfield(L, t, "span_ms");     /* top + 9 */
	if (lua_isnil(L, top + 1))
		st = bfail(e, CXM_ERR_INVALID, "%s has no metric", what);
	else if (lua_isnil(L, top + 9))
		st = bfail(e, CXM_ERR_INVALID, "%s has no span_ms", what);
	else if ((st = check_scope(L, top + 2, what, e)))
		;
	else if (lua_isnil(L, top + 6) != lua_isnil(L, top + 7))
		st = bfail(e, CXM_ERR_INVALID, "%s: segment and segment_value go together", what);
	if (!st)
		st = get_id(L, top + 1, "metric", &q->metric, e);
	if (!st)
		st = read_scope(L, top + 2, ctx, &q->scope, &q->id, &q->step, e, from_lib);
	if (!st && !lua_isnil(L, top + 6)) {
		st = get_id(L, top + 6, "segment", &q->segment, e);
		if (!st)
			st = get_id(L, top + 7, "segment_value", &q->segment_value, e);
	}
	if (!st && !lua_isnil(L, top + 8))
		st = get_end(L, top + 8, &q->end_ms, e);
	if (!st)
		st = get_i64(L, top + 9, "span_ms", &q->span_ms, e);
	lua_settop(L, top);
	return st;
}

/* The query table at t into *q; its scope as read_scope reads it. */
static cxm_status read_query(lua_State *L, int t, cxm_context *ctx, cxm_query *q, berr *e,
			     int *from_lib)
{
	*from_lib = 0;
	cxm_status st = check_keys(L, t, "query", query_keys, e);
	return st ? st : read_query_fields(L, t, ctx, q, "query", e, from_lib);
}

/* Argument idx as a query; returns 0 or the count of values pushed for a failure. */
static int arg_query(lua_State *L, int idx, lctx *c, cxm_query *q)
{
	berr e;
	int lib;
	luaL_checktype(L, idx, LUA_TTABLE);
	cxm_status st = read_query(L, idx, c->ctx, q, &e, &lib);
	if (!st)
		return 0;
	return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
}

static void push_result(lua_State *L, const cxm_result *r, int into)
{
	push_out_table(L, into, 40);
	set_flags(L, r->flags);
	set_str(L, "kind", enum_name(kind_names, N_KINDS, r->kind));
	set_str(L, "headline", enum_name(headline_names, N_HEADLINES, r->headline));
	set_i64(L, "start_ms", r->start_ms);
	set_i64(L, "end_ms", r->end_ms);
	set_u64(L, "n", r->n);
	set_u64(L, "skipped", r->skipped);
	set_u64(L, "top", r->top);
	set_u64(L, "bottom", r->bottom);
	set_num(L, "value", r->value);
	set_num(L, "ci_low", r->ci_low);
	set_num(L, "ci_high", r->ci_high);
	set_num(L, "top_share", r->top_share);
	set_num(L, "bottom_share", r->bottom_share);
	set_num(L, "mean", r->mean);
	set_num(L, "min", r->min);
	set_num(L, "max", r->max);
	set_num(L, "sum", r->sum);
	set_num(L, "stddev", r->stddev);
	set_num(L, "p50", r->p50);
	set_num(L, "p90", r->p90);
	set_num(L, "p99", r->p99);
	set_i64(L, "quantile_start_ms", r->quantile_start_ms);
	set_i64(L, "quantile_end_ms", r->quantile_end_ms);
	set_u64(L, "quantile_n", r->quantile_n);
	lua_pushinteger(L, (lua_Integer)r->questions);
	lua_setfield(L, -2, "questions");
	uint32_t q = r->kind == CXM_KIND_INDEX && r->questions <= CXM_MAX_QUESTIONS ? r->questions
										    : 0;
	lua_createtable(L, (int)q, 0);
	for (uint32_t i = 0; i < q; i++) {
		lua_pushnumber(L, r->item_net[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "item_net");
	lua_createtable(L, (int)q, 0);
	for (uint32_t i = 0; i < q; i++) {
		cxm_pushuint64(L, r->item_n[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "item_n");
}

/* ctx:query(q [, out]): the result, in out if given (to reuse a table). */
static int l_query(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	cxm_query q;
	int r = arg_query(L, 2, c, &q);
	if (r)
		return r;
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	cxm_result res;
	memset(&res, 0, sizeof res);
	res.size = sizeof res;
	cxm_status st = cxm_query_run(&res, c->ctx, &q);
	if (st)
		return push_fail(L, c->ctx, st);
	push_result(L, &res, 3);
	return 1;
}

/* The list of quantiles at idx into qs[64]. */
static cxm_status read_quantiles(lua_State *L, int idx, double *qs, size_t *n, berr *e)
{
	cxm_status st = get_list_len(L, idx, "quantiles", n, e);
	if (st)
		return st;
	if (*n > 64)
		return bfail(e, CXM_ERR_INVALID, "at most 64 quantiles, got %zu", *n);
	for (size_t i = 0; i < *n; i++) {
		lua_rawgeti(L, idx, (int)i + 1);
		st = get_double(L, -1, "", &qs[i], e);
		lua_pop(L, 1);
		if (st)
			return bprefix(e, "quantiles[%d]", (int)i + 1);
	}
	return CXM_OK;
}

static int l_quantiles(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	cxm_query q;
	int r = arg_query(L, 2, c, &q);
	if (r)
		return r;
	luaL_checktype(L, 3, LUA_TTABLE);
	berr e;
	size_t n;
	double qs[64], out[64];
	if (read_quantiles(L, 3, qs, &n, &e))
		return push_berr(L, &e);
	cxm_status st = cxm_query_quantiles(out, c->ctx, &q, qs, n);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushnumber(L, out[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

/* ctx:distribution(q [, item]): counts per answer point, lowest point first. */
static int l_distribution(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	cxm_query q;
	int r = arg_query(L, 2, c, &q);
	if (r)
		return r;
	berr e;
	uint32_t item = 0;
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TNUMBER);
		if (get_u32(L, 3, "item", &item, &e))
			return push_berr(L, &e);
	}
	uint64_t counts[CXM_MAX_POINTS];
	size_t n = 0;
	cxm_status st = cxm_query_distribution(counts, CXM_MAX_POINTS, &n, c->ctx, &q, item);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		cxm_pushuint64(L, counts[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

static int push_comparison(lua_State *L, const cxm_comparison *cm);

static int l_compare(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	cxm_query a, b;
	int r = arg_query(L, 2, c, &a);
	if (r)
		return r;
	if ((r = arg_query(L, 3, c, &b)))
		return r;
	cxm_comparison cmp;
	memset(&cmp, 0, sizeof cmp);
	cmp.size = sizeof cmp;
	cxm_status st = cxm_query_compare(&cmp, c->ctx, &a, &b);
	if (st)
		return push_fail(L, c->ctx, st);
	return push_comparison(L, &cmp);
}

static int push_comparison(lua_State *L, const cxm_comparison *cm)
{
	const cxm_comparison cmp = *cm;
	lua_createtable(L, 0, 16);
	set_flags(L, cmp.flags);
	set_str(L, "headline", enum_name(headline_names, N_HEADLINES, cmp.headline));
	set_num(L, "a", cmp.a);
	set_num(L, "b", cmp.b);
	set_num(L, "difference", cmp.difference);
	set_num(L, "ci_low", cmp.ci_low);
	set_num(L, "ci_high", cmp.ci_high);
	set_num(L, "z", cmp.z);
	set_num(L, "p_value", cmp.p_value);
	set_u64(L, "n_a", cmp.n_a);
	set_u64(L, "n_b", cmp.n_b);
	return 1;
}

/* ---- named baselines --------------------------------------------------- */

/* Indexed by cxm_baseline_kind. */
static const char *const baseline_names[] = {NULL, "offset", "period", "target", NULL};
#define N_BASELINE_KINDS 4

/* The baseline named or numbered at idx. */
static int arg_baseline(lua_State *L, int idx, lctx *c, cxm_id *id)
{
	berr e;
	if (lua_type(L, idx) == LUA_TSTRING) {
		cxm_status st = cxm_baseline_find(id, c->ctx, lua_tostring(L, idx));
		return st ? push_fail(L, c->ctx, st) : 0;
	}
	return get_id(L, idx, "baseline", id, &e) ? push_berr(L, &e) : 0;
}

/* ctx:baseline_define(name, {kind = "offset" | "period" | "target", offset_ms =,
 * start_ms =, end_ms =, metric =, target =}) → id */
static int l_baseline_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	const char *name = luaL_checkstring(L, 2);
	luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	cxm_baseline_def d;
	cxm_baseline_def_init(&d, sizeof d);
	berr e;
	cxm_status st = CXM_OK;
	lua_getfield(L, 3, "kind");          /* 4 */
	lua_getfield(L, 3, "offset_ms");     /* 5 */
	lua_getfield(L, 3, "start_ms");      /* 6 */
	lua_getfield(L, 3, "end_ms");        /* 7 */
	lua_getfield(L, 3, "metric");        /* 8 */
	lua_getfield(L, 3, "target");        /* 9 */
	int k = lua_type(L, 4) == LUA_TSTRING ? enum_value(baseline_names, N_BASELINE_KINDS,
							    lua_tostring(L, 4))
					      : -1;
	if (k < 0)
		st = bfail(&e, CXM_ERR_INVALID, "kind must be \"offset\", \"period\" or \"target\"");
	d.kind = (cxm_baseline_kind)k;
	if (!st && !lua_isnil(L, 5))
		st = get_i64(L, 5, "offset_ms", &d.offset_ms, &e);
	if (!st && !lua_isnil(L, 6))
		st = get_i64(L, 6, "start_ms", &d.start_ms, &e);
	if (!st && !lua_isnil(L, 7))
		st = get_i64(L, 7, "end_ms", &d.end_ms, &e);
	if (!st && lua_type(L, 8) == LUA_TSTRING) {
		if ((st = cxm_find(&d.metric, c->ctx, CXM_OBJECT_METRIC, lua_tostring(L, 8))))
			return push_fail(L, c->ctx, st);
	} else if (!st && !lua_isnil(L, 8)) {
		st = get_id(L, 8, "metric", &d.metric, &e);
	}
	if (!st && !lua_isnil(L, 9))
		st = get_double(L, 9, "target", &d.target, &e);
	if (st)
		return push_berr(L, &e);
	cxm_id id;
	if ((st = cxm_baseline_define(&id, c->ctx, name, &d)))
		return push_fail(L, c->ctx, st);
	lua_pushinteger(L, (lua_Integer)id);
	return 1;
}

/* ctx:baseline_get(name or id) → {id =, name =, kind =, offset_ms =, …} */
static int l_baseline_get(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	cxm_id id;
	int r = arg_baseline(L, 2, c, &id);
	if (r)
		return r;
	cxm_baseline_def d = {.size = sizeof d};
	const char *name = NULL;
	cxm_status st = cxm_baseline_get(&d, &name, c->ctx, id);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)id);
	lua_setfield(L, -2, "id");
	set_str(L, "name", name);
	set_str(L, "kind", enum_name(baseline_names, N_BASELINE_KINDS, d.kind));
	set_i64(L, "offset_ms", d.offset_ms);
	set_i64(L, "start_ms", d.start_ms);
	set_i64(L, "end_ms", d.end_ms);
	lua_pushinteger(L, (lua_Integer)d.metric);
	lua_setfield(L, -2, "metric");
	set_num(L, "target", d.target);
	return 1;
}

/* ctx:query_baseline(query, baseline) → comparison (a: the baseline) */
static int l_query_baseline(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	lua_settop(L, 3);
	cxm_query q;
	cxm_id id;
	int r = arg_query(L, 2, c, &q);
	if (r || (r = arg_baseline(L, 3, c, &id)))
		return r;
	cxm_comparison cmp;
	memset(&cmp, 0, sizeof cmp);
	cmp.size = sizeof cmp;
	cxm_status st = cxm_query_baseline(&cmp, c->ctx, &q, id);
	if (st)
		return push_fail(L, c->ctx, st);
	return push_comparison(L, &cmp);
}

/* ---- key drivers ------------------------------------------------------- */

/* Indexed by cxm_driver_quadrant. */
static const char *const quadrant_names[] = {
	"none", "strength", "priority", "maintain", "low", NULL,
};
#define N_QUADRANTS 5

static const char *const drivers_keys[] = {
	"outcome", "driver", "touchpoints", "journey", "overall", "window_ms", NULL,
};

/* The object of kind named or numbered at idx (what names it in
 * messages); *from_lib when libcxm's lookup failed. */
static cxm_status get_named(lua_State *L, int idx, cxm_context *ctx, cxm_object kind,
			    const char *what, cxm_id *out, berr *e, int *from_lib)
{
	*from_lib = 0;
	if (lua_type(L, idx) == LUA_TSTRING) {
		cxm_status st = cxm_find(out, ctx, kind, lua_tostring(L, idx));
		*from_lib = st != CXM_OK;
		return st;
	}
	return get_id(L, idx, what, out, e);
}

/* The list of touchpoints (names or ids) at idx into tps[CXM_DRIVERS_MAX]. */
static cxm_status read_driver_touchpoints(lua_State *L, int idx, cxm_context *ctx, cxm_id *tps,
					  uint32_t *n_out, berr *e, int *from_lib)
{
	*from_lib = 0;
	if (lua_type(L, idx) != LUA_TTABLE)
		return bad_value(L, idx, e, CXM_ERR_INVALID, "touchpoints", "a list");
	size_t n;
	cxm_status st = get_list_len(L, idx, "touchpoints", &n, e);
	if (st)
		return st;
	if (n > CXM_DRIVERS_MAX)
		return bfail(e, CXM_ERR_LIMIT, "touchpoints: at most %d, got %d", CXM_DRIVERS_MAX,
			     n > INT32_MAX ? INT32_MAX : (int)n);
	for (size_t i = 0; i < n && !st; i++) {
		lua_rawgeti(L, idx, (int)i + 1);
		st = get_named(L, -1, ctx, CXM_OBJECT_TOUCHPOINT, "", &tps[i], e, from_lib);
		lua_pop(L, 1);
		if (st && !*from_lib)
			bprefix(e, "touchpoints[%d]", (int)i + 1);
	}
	*n_out = (uint32_t)n;
	return st;
}

/* ctx:drivers_define(name, {outcome =, driver =, touchpoints = {tp, …},
 * journey =, overall =, window_ms =}) → id. outcome and driver: metrics,
 * journey and each touchpoint: by name or id. */
static int l_drivers_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	if (!name)
		return push_berr(L, &e);
	cxm_drivers_def d;
	cxm_status st = cxm_drivers_def_init(&d, sizeof d);
	if (st)
		return push_fail(L, c->ctx, st);
	if (check_keys(L, 3, "driver set", drivers_keys, &e))
		return push_berr(L, &e);
	cxm_id tps[CXM_DRIVERS_MAX];
	int lib = 0;
	lua_getfield(L, 3, "outcome");     /* 4 */
	lua_getfield(L, 3, "driver");      /* 5 */
	lua_getfield(L, 3, "touchpoints"); /* 6 */
	lua_getfield(L, 3, "journey");     /* 7 */
	lua_getfield(L, 3, "overall");     /* 8 */
	lua_getfield(L, 3, "window_ms");   /* 9 */
	if (lua_isnil(L, 4))
		st = bfail(&e, CXM_ERR_INVALID, "driver set has no outcome");
	else if (lua_isnil(L, 5))
		st = bfail(&e, CXM_ERR_INVALID, "driver set has no driver");
	if (!st)
		st = get_named(L, 4, c->ctx, CXM_OBJECT_METRIC, "outcome", &d.outcome, &e, &lib);
	if (!st)
		st = get_named(L, 5, c->ctx, CXM_OBJECT_METRIC, "driver", &d.driver, &e, &lib);
	if (!st && !lua_isnil(L, 6)) {
		st = read_driver_touchpoints(L, 6, c->ctx, tps, &d.n_touchpoints, &e, &lib);
		d.touchpoints = tps;
	}
	if (!st && !lua_isnil(L, 7))
		st = get_named(L, 7, c->ctx, CXM_OBJECT_JOURNEY, "journey", &d.journey, &e, &lib);
	if (!st && lua_type(L, 8) == LUA_TBOOLEAN)
		d.flags = lua_toboolean(L, 8) ? CXM_DRIVERS_OVERALL : 0;
	else if (!st && !lua_isnil(L, 8))
		st = bad_value(L, 8, &e, CXM_ERR_INVALID, "overall", "a boolean");
	if (!st && !lua_isnil(L, 9))
		st = get_i64(L, 9, "window_ms", &d.window_ms, &e);
	if (st)
		return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	cxm_id id;
	if ((st = cxm_drivers_define(&id, c->ctx, name, &d)))
		return push_fail(L, c->ctx, st);
	return push_id(L, id);
}

/* ctx:drivers_find(name) → id */
static int l_drivers_find(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	if (!name)
		return push_berr(L, &e);
	cxm_id id;
	cxm_status st = cxm_drivers_find(&id, c->ctx, name);
	return st ? push_fail(L, c->ctx, st) : push_id(L, id);
}

/* The driver set named or numbered at idx. */
static int arg_drivers(lua_State *L, int idx, lctx *c, cxm_id *id)
{
	berr e;
	if (lua_type(L, idx) == LUA_TSTRING) {
		cxm_status st = cxm_drivers_find(id, c->ctx, lua_tostring(L, idx));
		return st ? push_fail(L, c->ctx, st) : 0;
	}
	return get_id(L, idx, "driver set", id, &e) ? push_berr(L, &e) : 0;
}

static void push_driver(lua_State *L, const cxm_driver *d)
{
	lua_createtable(L, 0, 18);
	if (d->touchpoint != CXM_NONE) {
		lua_pushinteger(L, (lua_Integer)d->touchpoint);
		lua_setfield(L, -2, "touchpoint");
	}
	set_bool(L, "overall", d->touchpoint == CXM_NONE);
	set_u64(L, "n", d->n);
	set_num(L, "importance", d->importance);
	set_num(L, "ci_low", d->ci_low);
	set_num(L, "ci_high", d->ci_high);
	set_num(L, "p_value", d->p_value);
	set_bool(L, "significant", d->significant != 0);
	set_str(L, "quadrant", enum_name(quadrant_names, N_QUADRANTS, (int)d->quadrant));
	set_num(L, "performance", d->performance);
	set_num(L, "outcome_mean", d->outcome_mean);
	lua_createtable(L, 3, 0);
	for (int b = 0; b < 3; b++) {
		lua_createtable(L, 0, 4);
		set_u64(L, "n", d->bands[b].n);
		set_num(L, "mean", d->bands[b].mean);
		set_num(L, "ci_low", d->bands[b].ci_low);
		set_num(L, "ci_high", d->bands[b].ci_high);
		lua_rawseti(L, -2, b + 1);
	}
	lua_setfield(L, -2, "bands");
	set_num(L, "band_difference", d->band_difference);
	set_num(L, "band_ci_low", d->band_ci_low);
	set_num(L, "band_ci_high", d->band_ci_high);
	set_num(L, "band_p_value", d->band_p_value);
}

/* ctx:drivers_get(set) → {id =, name =, outcome =, driver =, journey = (nil:
 * none), touchpoints = {tp, …}, overall =, window_ms =}: the definition as
 * the set holds it (a journey's touchpoints resolved, the default window). */
static int l_drivers_get(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	lua_settop(L, 2);
	cxm_id id;
	int r = arg_drivers(L, 2, c, &id);
	if (r)
		return r;
	cxm_drivers_def d;
	memset(&d, 0, sizeof d);
	d.size = sizeof d;
	const char *name = NULL;
	cxm_status st = cxm_drivers_get(&d, &name, c->ctx, id);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)id);
	lua_setfield(L, -2, "id");
	set_str(L, "name", name);
	lua_pushinteger(L, (lua_Integer)d.outcome);
	lua_setfield(L, -2, "outcome");
	lua_pushinteger(L, (lua_Integer)d.driver);
	lua_setfield(L, -2, "driver");
	if (d.journey != CXM_NONE) {
		lua_pushinteger(L, (lua_Integer)d.journey);
		lua_setfield(L, -2, "journey");
	}
	lua_createtable(L, (int)d.n_touchpoints, 0);
	for (uint32_t i = 0; i < d.n_touchpoints; i++) {
		lua_pushinteger(L, (lua_Integer)d.touchpoints[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "touchpoints");
	set_bool(L, "overall", (d.flags & CXM_DRIVERS_OVERALL) != 0);
	set_i64(L, "window_ms", d.window_ms);
	return 1;
}

/* ctx:key_drivers(set) → {n_drivers =, outcomes =, paired =, customers =,
 * unremembered =, memory_bytes =, drivers = {{touchpoint =, n =,
 * importance =, …, bands = {bottom, middle, top}, …}, …}}: the drivers in
 * definition order, the overall one (touchpoint nil, overall true) last. */
static int l_key_drivers(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	lua_settop(L, 2);
	cxm_id id;
	int r = arg_drivers(L, 2, c, &id);
	if (r)
		return r;
	cxm_drivers_result res;
	memset(&res, 0, sizeof res);
	res.size = sizeof res;
	/* how many: a set's drivers are fixed when it is defined */
	cxm_status st = cxm_drivers_run(&res, NULL, 0, c->ctx, id);
	if (st && st != CXM_ERR_LIMIT)
		return push_fail(L, c->ctx, st);
	size_t cap = res.n_drivers < CXM_DRIVERS_MAX ? res.n_drivers : CXM_DRIVERS_MAX;
	cxm_driver *out = NULL;
	if (cap) {
		/* collected by the garbage collector, whatever happens below */
		out = lua_newuserdata(L, cap * sizeof *out); /* 3 */
		memset(out, 0, cap * sizeof *out);
		out[0].size = sizeof *out;
		st = cxm_drivers_run(&res, out, cap, c->ctx, id);
		if (st && st != CXM_ERR_LIMIT)
			return push_fail(L, c->ctx, st);
	}
	size_t n = res.n_drivers < cap ? res.n_drivers : cap;
	lua_createtable(L, 0, 7);
	lua_pushinteger(L, (lua_Integer)res.n_drivers);
	lua_setfield(L, -2, "n_drivers");
	set_u64(L, "outcomes", res.outcomes);
	set_u64(L, "paired", res.paired);
	set_u64(L, "customers", res.customers);
	set_u64(L, "unremembered", res.unremembered);
	set_u64(L, "memory_bytes", res.memory_bytes);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		push_driver(L, &out[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "drivers");
	return 1;
}

/* ---- breakdowns and time series ---------------------------------------- */

/* Results of cxm_query_group and cxm_query_series: MULTI_LOCAL on the C
 * stack, more in a membuf (the Lua state's allocator, which never raises:
 * a failure is "NO_MEMORY", not an error). */
typedef struct membuf membuf;
static membuf *push_membuf(lua_State *L);
static void *membuf_reserve(membuf *b, size_t bytes);
static void membuf_free(membuf *b);

#define MULTI_LOCAL 16

/* Indexed by cxm_group_by. */
static const char *const group_names[] = {NULL, "touchpoint", "segment", "step", "channel", NULL};
#define N_GROUPS 5

typedef struct multi_call {
	cxm_context *ctx;
	const cxm_query *q;
	cxm_group_by by; /* 0: a series */
	cxm_id dim;
	int64_t step_ms;
	const char *tz; /* a calendar series (by 0) in this zone, of unit */
	cxm_calendar_unit unit;
} multi_call;

/* Runs m into *out (and *keys for a breakdown), on the stack's buffers
 * while they hold every result, else in b, sized at the count libcxm
 * gives with CXM_ERR_LIMIT: *n results. Returns libcxm's status, or sets
 * e and returns its code (*from_lib = 0) when the results need more memory
 * than there is. */
static cxm_status multi_run(const multi_call *m, membuf *b, cxm_result *local,
			    uint32_t *local_keys, cxm_result **out, uint32_t **keys, size_t *n,
			    berr *e, int *from_lib)
{
	const size_t each = sizeof(cxm_result) + sizeof(uint32_t);
	cxm_result *res = local;
	uint32_t *k = local_keys;
	size_t cap = MULTI_LOCAL;
	cxm_status st;
	*from_lib = 1;
	/* The count may grow between calls (a touchpoint or a segment value
	 * defined meanwhile by another thread): a few tries. */
	for (int tries = 0;; tries++) {
		memset(res, 0, cap * sizeof *res);
		res[0].size = sizeof *res;
		*n = 0;
		st = m->by   ? cxm_query_group(res, k, cap, n, m->ctx, m->q, m->by, m->dim)
		     : m->tz ? cxm_query_calendar_series(res, cap, n, m->ctx, m->q, m->tz, m->unit)
			     : cxm_query_series(res, cap, n, m->ctx, m->q, m->step_ms);
		if (st != CXM_ERR_LIMIT || *n <= cap || tries == 4)
			break;
		if (*n > (size_t)INT32_MAX || *n > SIZE_MAX / each ||
		    !(res = membuf_reserve(b, *n * each))) {
			*from_lib = 0;
			return bfail(e, CXM_ERR_NO_MEMORY, "%zu results: out of memory", *n);
		}
		cap = *n;
		k = (uint32_t *)(res + cap);
	}
	*out = res;
	*keys = k;
	return st;
}

/* The name of group key of a breakdown of q by by (dimension dim), or NULL. */
static const char *group_key_name(cxm_context *ctx, const cxm_query *q, cxm_group_by by,
				  cxm_id dim, uint32_t key)
{
	const char *name = NULL;
	switch (by) {
	case CXM_GROUP_TOUCHPOINT:
		return cxm_name(&name, ctx, CXM_OBJECT_TOUCHPOINT, key) ? NULL : name;
	case CXM_GROUP_SEGMENT:
		return cxm_segment_value_name(&name, ctx, dim, key) ? NULL : name;
	case CXM_GROUP_STEP:
		return cxm_step_name(&name, ctx, q->id, key) ? NULL : name;
	case CXM_GROUP_CHANNEL:
		return key < N_CHANNELS ? channel_names[key] : NULL;
	}
	return NULL;
}

/* The results of m as a list; a breakdown's each with its key and name. */
static int push_multi(lua_State *L, const multi_call *m)
{
	membuf *b = push_membuf(L);
	cxm_result local[MULTI_LOCAL];
	uint32_t local_keys[MULTI_LOCAL];
	cxm_result *res = NULL; /* set by multi_run when it succeeds */
	uint32_t *keys = NULL;
	size_t n = 0;
	berr e;
	int lib;
	cxm_status st = multi_run(m, b, local, local_keys, &res, &keys, &n, &e, &lib);
	if (st) {
		membuf_free(b);
		return lib ? push_fail(L, m->ctx, st) : push_berr(L, &e);
	}
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		push_result(L, &res[i], 0);
		if (m->by) {
			lua_pushinteger(L, (lua_Integer)keys[i]);
			lua_setfield(L, -2, "key");
			const char *name = group_key_name(m->ctx, m->q, m->by, m->dim, keys[i]);
			if (name)
				set_str(L, "name", name);
		}
		lua_rawseti(L, -2, (int)i + 1);
	}
	membuf_free(b); /* now, rather than at the next collection */
	return 1;
}

/* ctx:query_by(query, by[, dim]) → {result, …}: by "touchpoint", "segment"
 * (dim: the dimension, by id or name), "step" or "channel". */
static int l_query_by(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	const char *bys = luaL_checkstring(L, 3);
	int dty = lua_type(L, 4);
	if (dty != LUA_TNONE && dty != LUA_TNIL && dty != LUA_TNUMBER && dty != LUA_TSTRING)
		luaL_argerror(L, 4, "segment id or name expected");
	lua_settop(L, 4);
	cxm_query q;
	int r = arg_query(L, 2, c, &q);
	if (r)
		return r;
	berr e;
	int by = enum_value(group_names, N_GROUPS, bys);
	if (by < 0) {
		bfail(&e, CXM_ERR_INVALID,
		      "by must be \"touchpoint\", \"segment\", \"step\" or \"channel\", got '%s'", bys);
		return push_berr(L, &e);
	}
	cxm_id dim = CXM_NONE;
	if (by == CXM_GROUP_SEGMENT) {
		if (dty == LUA_TSTRING) {
			cxm_status st = cxm_find(&dim, c->ctx, CXM_OBJECT_SEGMENT, lua_tostring(L, 4));
			if (st)
				return push_fail(L, c->ctx, st);
		} else if (dty == LUA_TNUMBER) {
			if (get_id(L, 4, "dim", &dim, &e))
				return push_berr(L, &e);
		} else {
			bfail(&e, CXM_ERR_INVALID, "by \"segment\" needs the dimension (dim)");
			return push_berr(L, &e);
		}
	} else if (dty == LUA_TNUMBER || dty == LUA_TSTRING) {
		bfail(&e, CXM_ERR_INVALID, "dim is for by \"segment\" only, not \"%s\"", bys);
		return push_berr(L, &e);
	}
	multi_call m = {c->ctx, &q, (cxm_group_by)by, dim, 0, NULL, 0};
	return push_multi(L, &m);
}

/* The arguments (ctx, query table, step_ms, …) of query_series and
 * query_trend, the stack cut to `top`: 0, or the values an error pushed. */
static int query_step_args(lua_State *L, int top, lctx **c, cxm_query *q, int64_t *step)
{
	*c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TNUMBER);
	lua_settop(L, top);
	int r = arg_query(L, 2, *c, q);
	if (r)
		return r;
	berr e;
	return get_i64(L, 3, "step_ms", step, &e) ? push_berr(L, &e) : 0;
}

/* ctx:query_series(query, step_ms) → {result, …}, oldest first. */
static int l_query_series(lua_State *L)
{
	lctx *c;
	cxm_query q;
	int64_t step;
	int r = query_step_args(L, 3, &c, &q, &step);
	if (r)
		return r;
	multi_call m = {c->ctx, &q, (cxm_group_by)0, CXM_NONE, step, NULL, 0};
	return push_multi(L, &m);
}

/* Indexed by cxm_calendar_unit. */
static const char *const calendar_names[] = {NULL, "day", "week", "month", "quarter", "year", NULL};
#define N_CALENDAR 6

/* The zone (idx) and unit (idx + 1: a name or a cxm_calendar_unit number)
 * of a calendar call; 0, or the values an error pushed. */
static int calendar_args(lua_State *L, int idx, const char **tz, cxm_calendar_unit *unit)
{
	*tz = luaL_checkstring(L, idx);
	berr e;
	if (lua_type(L, idx + 1) == LUA_TSTRING) {
		int u = enum_value(calendar_names, N_CALENDAR, lua_tostring(L, idx + 1));
		if (u < 0) {
			bfail(&e, CXM_ERR_INVALID, "unit must be \"day\", \"week\", \"month\", "
			      "\"quarter\" or \"year\", got '%s'", lua_tostring(L, idx + 1));
			return push_berr(L, &e);
		}
		*unit = (cxm_calendar_unit)u;
		return 0;
	}
	uint32_t u;
	if (get_u32(L, idx + 1, "unit", &u, &e))
		return push_berr(L, &e);
	*unit = (cxm_calendar_unit)u;
	return 0;
}

/* The query table at 2 with span_ms 1 when it has none (a calendar query
 * does not use it): a copy replaces it, the caller's table is untouched. */
static void calendar_query_table(lua_State *L)
{
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_getfield(L, 2, "span_ms");
	const int none = lua_isnil(L, -1);
	lua_pop(L, 1);
	if (!none)
		return;
	lua_newtable(L);
	lua_pushnil(L);
	while (lua_next(L, 2)) {
		lua_pushvalue(L, -2);
		lua_insert(L, -2);
		lua_rawset(L, -4);
	}
	lua_pushinteger(L, 1);
	lua_setfield(L, -2, "span_ms");
	lua_replace(L, 2);
}

/* ctx:query_calendar(query, tz, unit) → the result over the calendar bucket
 * of unit ("month", …) in zone tz that holds the query's end_ms. */
static int l_query_calendar(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	lua_settop(L, 4);
	calendar_query_table(L);
	const char *tz;
	cxm_calendar_unit unit;
	cxm_query q;
	int r = calendar_args(L, 3, &tz, &unit);
	if (r || (r = arg_query(L, 2, c, &q)))
		return r;
	cxm_result res;
	memset(&res, 0, sizeof res);
	res.size = sizeof res;
	cxm_status st = cxm_query_calendar(&res, c->ctx, &q, tz, unit);
	if (st)
		return push_fail(L, c->ctx, st);
	push_result(L, &res, 0);
	return 1;
}

/* ctx:query_calendar_series(query, tz, unit) → {result, …}, oldest first. */
static int l_query_calendar_series(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 4);
	const char *tz;
	cxm_calendar_unit unit;
	cxm_query q;
	int r = calendar_args(L, 3, &tz, &unit);
	if (r || (r = arg_query(L, 2, c, &q)))
		return r;
	multi_call m = {c->ctx, &q, (cxm_group_by)0, CXM_NONE, 0, tz, unit};
	return push_multi(L, &m);
}

/* ctx:calendar_bucket(tz, unit[, at_ms]) → start_ms, end_ms; at_ms as a
 * query's end_ms (nil: now, "watermark"). */
static int l_calendar_bucket(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	lua_settop(L, 4);
	const char *tz;
	cxm_calendar_unit unit;
	int r = calendar_args(L, 2, &tz, &unit);
	if (r)
		return r;
	int64_t at = CXM_NOW, s, e;
	berr err;
	if (!lua_isnil(L, 4) && get_end(L, 4, &at, &err))
		return push_berr(L, &err);
	cxm_status st = cxm_calendar_bucket(&s, &e, c->ctx, tz, unit, at);
	if (st)
		return push_fail(L, c->ctx, st);
	cxm_pushint64(L, s);
	cxm_pushint64(L, e);
	return 2;
}

/* ctx:query_trend(query, step_ms[, horizon]) → {slope = , …, forecast = {{value = , …}, …}}. */
static int l_query_trend(lua_State *L)
{
	lctx *c;
	cxm_query q;
	int64_t step;
	int r = query_step_args(L, 4, &c, &q, &step);
	if (r)
		return r;
	berr e;
	uint32_t horizon = 0;
	if (!lua_isnil(L, 4) && get_u32(L, 4, "horizon", &horizon, &e))
		return push_berr(L, &e);
	if (horizon > CXM_TREND_MAX_HORIZON) {
		bfail(&e, CXM_ERR_OUT_OF_RANGE, "horizon %u is above %d", horizon, CXM_TREND_MAX_HORIZON);
		return push_berr(L, &e);
	}
	cxm_trend t;
	cxm_trend_init(&t, sizeof t);
	cxm_forecast f[CXM_TREND_MAX_HORIZON];
	cxm_status st = cxm_query_trend(&t, f, horizon, c->ctx, &q, step);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 17);
	set_num(L, "windows", t.windows);
	set_num(L, "points", t.points);
	set_i64(L, "start_ms", t.start_ms);
	set_i64(L, "end_ms", t.end_ms);
	set_i64(L, "step_ms", t.step_ms);
	set_num(L, "slope", t.slope);
	set_num(L, "slope_ci_low", t.slope_ci_low);
	set_num(L, "slope_ci_high", t.slope_ci_high);
	set_num(L, "p_value", t.p_value);
	set_num(L, "r2", t.r2);
	set_num(L, "fitted_last", t.fitted_last);
	set_num(L, "alpha", t.alpha);
	set_num(L, "beta", t.beta);
	set_num(L, "level", t.level);
	set_num(L, "trend", t.trend);
	set_num(L, "sigma", t.sigma);
	lua_createtable(L, (int)horizon, 0);
	for (uint32_t i = 0; i < horizon; i++) {
		lua_createtable(L, 0, 5);
		set_i64(L, "start_ms", f[i].start_ms);
		set_i64(L, "end_ms", f[i].end_ms);
		set_num(L, "value", f[i].value);
		set_num(L, "pi_low", f[i].pi_low);
		set_num(L, "pi_high", f[i].pi_high);
		lua_rawseti(L, -2, (int)i + 1);
	}
	lua_setfield(L, -2, "forecast");
	return 1;
}

/* ---- statistics and customers ------------------------------------------ */

static int l_stats(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	cxm_stats s;
	memset(&s, 0, sizeof s);
	s.size = sizeof s;
	cxm_status st = cxm_stats_get(&s, c->ctx);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 23);
	set_u64(L, "memory_bytes", s.memory_bytes);
	set_u64(L, "series", s.series);
	set_u64(L, "series_bytes", s.series_bytes);
	set_u64(L, "accepted", s.accepted);
	set_u64(L, "rejected_total", s.rejected_total);
	lua_createtable(L, 0, CXM_STATUS_COUNT - 1);
	for (int i = 1; i < CXM_STATUS_COUNT; i++)
		set_u64(L, status_names[i], s.rejected[i]);
	lua_setfield(L, -2, "rejected");
	set_u64(L, "saturated", s.saturated);
	set_i64(L, "watermark_ms", s.watermark_ms);
	set_u64(L, "shards", s.shards);
	set_u64(L, "shards_used", s.shards_used);
	set_u64(L, "customers", s.customers);
	set_u64(L, "customers_evicted", s.customers_evicted);
	set_u64(L, "customers_refused", s.customers_refused);
	set_u64(L, "customers_forgotten", s.customers_forgotten);
	set_u64(L, "customer_bytes", s.customer_bytes);
	set_u64(L, "lost_buckets", s.lost_buckets);
	set_u64(L, "unpacked_buckets", s.unpacked_buckets);
	set_u64(L, "events_queued", s.events_queued);
	set_u64(L, "events_dropped", s.events_dropped);
	set_u64(L, "signals_unjudged", s.signals_unjudged);
	set_u64(L, "query_cache_bytes", s.query_cache_bytes);
	return 1;
}

static int l_series_bytes(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id m;
	if (arg_id(L, 2, "metric", &m, &e))
		return push_berr(L, &e);
	size_t n;
	cxm_status st = cxm_series_bytes(&n, c->ctx, m);
	if (st)
		return push_fail(L, c->ctx, st);
	cxm_pushuint64(L, n);
	return 1;
}

static int l_customer_last_seen(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	size_t len;
	const char *id = luaL_checklstring(L, 2, &len);
	int64_t t;
	cxm_status st = cxm_customer_last_seen(&t, c->ctx, id, len);
	if (st)
		return push_fail(L, c->ctx, st);
	cxm_pushint64(L, t);
	return 1;
}

static int l_customer_forget(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	size_t len;
	const char *id = luaL_checklstring(L, 2, &len);
	cxm_status st = cxm_customer_forget(c->ctx, id, len);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- snapshots, merge and exposition ----------------------------------- */

/* true, or nil, message, code. */
static int push_done(lua_State *L, const cxm_context *ctx, cxm_status st)
{
	if (st)
		return push_fail(L, ctx, st);
	lua_pushboolean(L, 1);
	return 1;
}

/* ctx:<method>(path) → true, for op one of cxm_snapshot_save, _load, _merge. */
static int path_op(lua_State *L, cxm_status (*op)(cxm_context *, const char *))
{
	lctx *c = check_lctx(L, 1);
	size_t len;
	const char *path = luaL_checklstring(L, 2, &len);
	if (strlen(path) != len) { /* C would cut it short */
		berr e;
		bfail(&e, CXM_ERR_ENCODING, "path contains a NUL byte");
		return push_berr(L, &e);
	}
	return push_done(L, c->ctx, op(c->ctx, path));
}

static int l_save(lua_State *L)
{
	return path_op(L, cxm_snapshot_save);
}

/* ctx:save_for_exporter(dir[, name]) → true: the snapshot, saved atomically
 * as dir/name.cxms, where cxm-exporter reads it (name "cxm-<pid>" by
 * default). For hosts whose workers cannot serve HTTP themselves: only the
 * file name is made here, the save is cxm_snapshot_save's. A name is one
 * file name without '/' and not starting with '.', which the exporter
 * skips, as it does the temporary file of a save in progress. */
static int l_save_for_exporter(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	size_t dlen, nlen = 0;
	const char *dir = luaL_checklstring(L, 2, &dlen);
	const char *name = luaL_optlstring(L, 3, NULL, &nlen);
	char pid_name[32];
	berr e;
	if (!name) {
		snprintf(pid_name, sizeof pid_name, "cxm-%ld", (long)getpid());
		name = pid_name;
		nlen = strlen(name);
	}
	if (strlen(dir) != dlen || strlen(name) != nlen) {
		bfail(&e, CXM_ERR_ENCODING, "%s contains a NUL byte",
		      strlen(dir) != dlen ? "dir" : "name");
		return push_berr(L, &e);
	}
	if (dlen == 0) {
		bfail(&e, CXM_ERR_INVALID, "dir is empty");
		return push_berr(L, &e);
	}
	if (nlen == 0 || name[0] == '.' || memchr(name, '/', nlen)) {
		bfail(&e, CXM_ERR_INVALID,
		      "name must be a file name without '/' that does not start with '.', got \"%.80s\"",
		      name);
		return push_berr(L, &e);
	}
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	luaL_Buffer b;
	luaL_buffinit(L, &b);
	luaL_addlstring(&b, dir, dlen);
	if (dir[dlen - 1] != '/')
		luaL_addchar(&b, '/');
	luaL_addlstring(&b, name, nlen);
	luaL_addstring(&b, ".cxms");
	luaL_pushresult(&b);
	return push_done(L, c->ctx, cxm_snapshot_save(c->ctx, lua_tostring(L, -1)));
}

static int l_load(lua_State *L)
{
	return path_op(L, cxm_snapshot_load);
}

static int l_merge_file(lua_State *L)
{
	return path_op(L, cxm_snapshot_merge);
}

/* ctx:<method>(s) → true, for op cxm_snapshot_load_mem or _merge_mem. */
static int string_op(lua_State *L, cxm_status (*op)(cxm_context *, const void *, size_t))
{
	lctx *c = check_lctx(L, 1);
	size_t len;
	const char *s = luaL_checklstring(L, 2, &len);
	return push_done(L, c->ctx, op(c->ctx, s, len));
}

static int l_load_string(lua_State *L)
{
	return string_op(L, cxm_snapshot_load_mem);
}

static int l_merge_string(lua_State *L)
{
	return string_op(L, cxm_snapshot_merge_mem);
}

/* ctx:merge(other) → true: cxm_merge(ctx, other); other is not changed. */
static int l_merge(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	lctx *src = check_lctx(L, 2);
	return push_done(L, c->ctx, cxm_merge(c->ctx, src->ctx));
}

/* Bytes that libcxm hands to a callback (a snapshot, an exposition),
 * collected with the Lua state's allocator, which never raises: a Lua
 * error must not unwind through libcxm. The buffer is a userdata whose
 * __gc frees the bytes, so they are not lost if pushing the string raises. */
typedef struct membuf {
	lua_Alloc alloc;
	void *ud;
	char *p;
	size_t len, cap;
	int no_memory;
} membuf;

static int membuf_put(membuf *b, const void *data, size_t len)
{
	if (len > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap - b->len < len) {
			if (cap > SIZE_MAX / 2) {
				b->no_memory = 1;
				return 1;
			}
			cap *= 2;
		}
		char *p = b->alloc(b->ud, b->p, b->cap, cap);
		if (!p) {
			b->no_memory = 1;
			return 1;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static int snapshot_put(const void *data, size_t len, void *payload)
{
	return membuf_put(payload, data, len);
}

static int export_put(const char *data, size_t len, void *payload)
{
	return membuf_put(payload, data, len);
}

/* Room for bytes in b, its old contents dropped; NULL when there is none. */
static void *membuf_reserve(membuf *b, size_t bytes)
{
	membuf_free(b);
	b->p = b->alloc(b->ud, NULL, 0, bytes);
	if (!b->p)
		return NULL;
	b->cap = bytes;
	return b->p;
}

static void membuf_free(membuf *b)
{
	if (b && b->p) {
		b->alloc(b->ud, b->p, b->cap, 0);
		b->p = NULL;
		b->cap = b->len = 0;
	}
}

static int l_membuf_gc(lua_State *L)
{
	membuf_free(lua_touserdata(L, 1));
	return 0;
}

/* The key, in the contexts' metatable, of the metatable of membufs. */
#define MEMBUF_MT "cxm.membuf"

/* A new, empty membuf on top of the stack. */
static membuf *push_membuf(lua_State *L)
{
	membuf *b = lua_newuserdata(L, sizeof *b);
	memset(b, 0, sizeof *b);
	b->alloc = lua_getallocf(L, &b->ud);
	lua_getfield(L, CTX_MT, MEMBUF_MT);
	lua_setmetatable(L, -2);
	return b;
}

/* After the libcxm call that filled b returned st: its bytes as a string,
 * or nil, message, code. Frees the bytes either way. */
static int push_membuf_result(lua_State *L, const lctx *c, membuf *b, cxm_status st,
			      const char *what)
{
	int n;
	if (st == CXM_ERR_IO && b->no_memory) {
		berr e;
		bfail(&e, CXM_ERR_NO_MEMORY, "%s: out of memory after %zu bytes", what, b->len);
		n = push_berr(L, &e);
	} else if (st) {
		n = push_fail(L, c->ctx, st);
	} else {
		lua_pushlstring(L, b->p ? b->p : "", b->len);
		n = 1;
	}
	membuf_free(b); /* now, rather than at the next collection */
	return n;
}

/* ctx:snapshot() → string: cxm_snapshot_write to memory. */
static int l_snapshot(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	membuf *b = push_membuf(L);
	return push_membuf_result(L, c, b, cxm_snapshot_write(c->ctx, snapshot_put, b), "snapshot");
}

static const char *const format_names[] = {"openmetrics", "prometheus", NULL};
static const char *const export_keys[] = {
	"format", "buckets", "labels", "segments", "points", NULL,
};

/* A label name or value: a string without NUL bytes. */
static cxm_status get_label_part(lua_State *L, int idx, const char *what, const char **out,
				 berr *e)
{
	size_t len;
	if (lua_type(L, idx) != LUA_TSTRING)
		return bfail(e, CXM_ERR_INVALID, "labels: %s must be a string, got %s", what,
			     type_of(L, idx));
	*out = lua_tolstring(L, idx, &len);
	if (strlen(*out) != len)
		return bfail(e, CXM_ERR_ENCODING, "labels: a %s contains a NUL byte", what);
	return CXM_OK;
}

/* Sort the labels by name (insertion sort: at most CXM_EXPORT_MAX_LABELS),
 * so that a table, whose order Lua does not keep, gives one text. */
static void sort_labels(const char **names, const char **values, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		const char *kn = names[i], *kv = values[i];
		uint32_t j = i;
		for (; j > 0 && strcmp(names[j - 1], kn) > 0; j--) {
			names[j] = names[j - 1];
			values[j] = values[j - 1];
		}
		names[j] = kn;
		values[j] = kv;
	}
}

/* The export options table at t into *o; buckets and labels into the
 * caller's arrays. The label strings are put in a new table in stack slot
 * anchor, which the caller keeps until libcxm has read them: the labels
 * table may be gone by then (an __index function's result, a finalizer
 * that changes it). */
static cxm_status read_export(lua_State *L, int t, int anchor, cxm_export_options *o,
			      double *buckets, const char **names, const char **values, berr *e)
{
	cxm_status st = check_keys(L, t, "export options", export_keys, e);
	if (st)
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, t, "format");
	if (!lua_isnil(L, -1)) {
		int f;
		if (!(st = get_enum(L, -1, "format", format_names, 2, &f, e)))
			o->format = (cxm_export_format)f;
	}
	lua_settop(L, top);
	if (st)
		return st;
	/* families on by default, off with false */
	static const struct {
		const char *k;
		uint32_t flag;
	} off[] = {{"segments", CXM_EXPORT_NO_SEGMENTS}, {"points", CXM_EXPORT_NO_POINTS}};
	for (size_t i = 0; i < sizeof off / sizeof off[0] && !st; i++) {
		lua_getfield(L, t, off[i].k);
		if (lua_type(L, -1) == LUA_TBOOLEAN) {
			if (!lua_toboolean(L, -1))
				o->flags |= off[i].flag;
		} else if (!lua_isnil(L, -1)) {
			st = bfail(e, CXM_ERR_INVALID, "%s: boolean expected, got %s", off[i].k,
				   type_of(L, -1));
		}
		lua_settop(L, top);
	}
	if (st)
		return st;
	lua_getfield(L, t, "buckets");
	if (lua_type(L, -1) == LUA_TTABLE) {
		size_t n = 0;
		st = get_list_len(L, top + 1, "buckets", &n, e);
		if (!st && n > CXM_EXPORT_MAX_BUCKETS)
			st = bfail(e, CXM_ERR_OUT_OF_RANGE, "buckets: at most %d bounds, got %zu",
				   CXM_EXPORT_MAX_BUCKETS, n);
		for (size_t i = 0; i < n && !st; i++) {
			lua_rawgeti(L, top + 1, (int)i + 1);
			if ((st = get_double(L, -1, "", &buckets[i], e)))
				bprefix(e, "buckets[%d]", (int)i + 1);
			lua_pop(L, 1);
		}
		o->buckets = buckets;
		o->n_buckets = (uint32_t)n;
		/* libcxm would take no bounds for its default ones: refuse them */
		if (!st && n == 0)
			st = bfail(e, CXM_ERR_INVALID,
				   "buckets: an empty list (leave it out for the defaults)");
	} else if (!lua_isnil(L, -1)) {
		st = bad_value(L, -1, e, CXM_ERR_INVALID, "buckets", "a list");
	}
	lua_settop(L, top);
	if (st)
		return st;
	lua_getfield(L, t, "labels"); /* top + 1 */
	if (lua_type(L, -1) == LUA_TTABLE) {
		uint32_t n = 0;
		lua_createtable(L, 2 * CXM_EXPORT_MAX_LABELS, 0);
		lua_replace(L, anchor);
		lua_pushnil(L);
		while (!st && lua_next(L, top + 1)) {
			if (n == CXM_EXPORT_MAX_LABELS) {
				st = bfail(e, CXM_ERR_OUT_OF_RANGE, "labels: at most %d",
					   CXM_EXPORT_MAX_LABELS);
			} else if (!(st = get_label_part(L, -2, "name", &names[n], e)) &&
				   !(st = get_label_part(L, -1, "value", &values[n], e))) {
				lua_pushvalue(L, -2);
				lua_rawseti(L, anchor, (int)(2 * n + 1));
				lua_pushvalue(L, -1);
				lua_rawseti(L, anchor, (int)(2 * n + 2));
				n++;
			}
			lua_pop(L, 1);
		}
		sort_labels(names, values, n);
		o->n_labels = n;
		o->label_names = names;
		o->label_values = values;
	} else if (!lua_isnil(L, -1)) {
		st = bad_value(L, -1, e, CXM_ERR_INVALID, "labels", "a table");
	}
	lua_settop(L, top);
	return st;
}

/* ctx:export([options]) → text, content type: cxm_export_write to memory. */
static int l_export(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TTABLE);
	lua_settop(L, 3); /* 3: read_export's anchor of the label strings */
	cxm_export_options o;
	cxm_status st = cxm_export_options_init(&o, sizeof o);
	if (st)
		return push_fail(L, NULL, st);
	double buckets[CXM_EXPORT_MAX_BUCKETS];
	const char *names[CXM_EXPORT_MAX_LABELS], *values[CXM_EXPORT_MAX_LABELS];
	if (lua_istable(L, 2)) {
		berr e;
		if (read_export(L, 2, 3, &o, buckets, names, values, &e))
			return push_berr(L, &e);
	}
	membuf *b = push_membuf(L);
	int n = push_membuf_result(L, c, b, cxm_export_write(c->ctx, &o, export_put, b), "export");
	if (n > 1)
		return n;
	lua_pushstring(L, o.format == CXM_FORMAT_PROMETHEUS ? CXM_PROMETHEUS_CONTENT_TYPE
							   : CXM_OPENMETRICS_CONTENT_TYPE);
	return 2;
}

/* ---- journeys, funnels and churn ---------------------------------------- */

/* The CXM_JOURNEY_* flags by name: a boolean field each in an options
 * table, and the names in its list "flags". */
static const struct {
	const char *name;
	uint32_t bit;
} journey_flags[] = {
	{"strict", CXM_JOURNEY_STRICT},
	{"count_repeats", CXM_JOURNEY_COUNT_REPEATS},
	{"equal_times_hold", CXM_JOURNEY_EQUAL_TIMES_HOLD},
	{"restart", CXM_JOURNEY_RESTART},
	{"window_exclusive", CXM_JOURNEY_WINDOW_EXCLUSIVE},
	{"strict_order", CXM_JOURNEY_STRICT_ORDER},
	{"allow_reentry", CXM_JOURNEY_ALLOW_REENTRY},
	{"strict_dedup", CXM_JOURNEY_STRICT_DEDUP},
};
#define N_JOURNEY_FLAGS (sizeof journey_flags / sizeof journey_flags[0])

static const char *const journey_option_keys[] = {
	"flags", "strict", "count_repeats", "equal_times_hold", "restart", "window_exclusive",
	"strict_order", "allow_reentry", "strict_dedup", "conversion_ms", "abandon_ms", "lateness_ms", "repeat_ms", NULL,
};

/* One name of the list "flags" (the string at idx) into *bits. */
static cxm_status get_flag_name(lua_State *L, int idx, uint32_t *bits, berr *e)
{
	if (lua_type(L, idx) != LUA_TSTRING)
		return bfail(e, CXM_ERR_INVALID, "flags: names expected, got %s", type_of(L, idx));
	const char *s = lua_tostring(L, idx);
	for (size_t i = 0; i < N_JOURNEY_FLAGS; i++)
		if (strcmp(journey_flags[i].name, s) == 0) {
			*bits |= journey_flags[i].bit;
			return CXM_OK;
		}
	return bfail(e, CXM_ERR_INVALID, "unknown journey flag '%s'", s);
}

/* The options table at t into *o (which holds the defaults): flags as
 * booleans (strict = true) and/or as names (flags = {"strict"} or
 * flags = "strict"); durations in ms, 0 or nil for the default. */
static cxm_status read_journey_options(lua_State *L, int t, cxm_journey_options *o, berr *e)
{
	cxm_status st = check_keys(L, t, "journey options", journey_option_keys, e);
	if (st)
		return st;
	int top = lua_gettop(L);
	uint32_t on = 0, off = 0, named = 0;
	for (size_t i = 0; i < N_JOURNEY_FLAGS && !st; i++) {
		lua_getfield(L, t, journey_flags[i].name);
		if (lua_type(L, -1) == LUA_TBOOLEAN)
			*(lua_toboolean(L, -1) ? &on : &off) |= journey_flags[i].bit;
		else if (!lua_isnil(L, -1))
			st = bfail(e, CXM_ERR_INVALID, "%s: boolean expected, got %s",
				   journey_flags[i].name, type_of(L, -1));
		lua_settop(L, top);
	}
	if (st)
		return st;
	lua_getfield(L, t, "flags"); /* top + 1 */
	if (lua_type(L, -1) == LUA_TTABLE) {
		size_t n = 0;
		st = get_list_len(L, top + 1, "flags", &n, e);
		for (size_t i = 0; i < n && !st; i++) {
			lua_rawgeti(L, top + 1, (int)i + 1);
			st = get_flag_name(L, -1, &named, e);
			lua_pop(L, 1);
		}
	} else if (lua_type(L, -1) == LUA_TSTRING) {
		st = get_flag_name(L, -1, &named, e);
	} else if (!lua_isnil(L, -1)) {
		st = bfail(e, CXM_ERR_INVALID, "flags: a list of names expected, got %s",
			   type_of(L, -1));
	}
	lua_settop(L, top);
	if (st)
		return st;
	for (size_t i = 0; i < N_JOURNEY_FLAGS; i++)
		if (named & off & journey_flags[i].bit)
			return bfail(e, CXM_ERR_INVALID, "%s is false but named in flags",
				     journey_flags[i].name);
	o->flags = on | named;
	struct {
		const char *k;
		int64_t *p;
	} ms[] = {
		{"conversion_ms", &o->conversion_ms},
		{"abandon_ms", &o->abandon_ms},
		{"lateness_ms", &o->lateness_ms},
		{"repeat_ms", &o->repeat_ms},
	};
	for (size_t i = 0; i < sizeof ms / sizeof ms[0] && !st; i++) {
		lua_getfield(L, t, ms[i].k);
		if (!lua_isnil(L, -1))
			st = get_i64(L, -1, ms[i].k, ms[i].p, e);
		lua_settop(L, top);
	}
	return st;
}

static void push_journey_options(lua_State *L, const cxm_journey_options *o)
{
	lua_createtable(L, 0, 10);
	lua_createtable(L, (int)N_JOURNEY_FLAGS, 0);
	int n = 0;
	for (size_t i = 0; i < N_JOURNEY_FLAGS; i++)
		if (o->flags & journey_flags[i].bit) {
			lua_pushstring(L, journey_flags[i].name);
			lua_rawseti(L, -2, ++n);
		}
	lua_setfield(L, -2, "flags");
	for (size_t i = 0; i < N_JOURNEY_FLAGS; i++)
		set_bool(L, journey_flags[i].name, (o->flags & journey_flags[i].bit) != 0);
	set_i64(L, "conversion_ms", o->conversion_ms);
	set_i64(L, "abandon_ms", o->abandon_ms);
	set_i64(L, "lateness_ms", o->lateness_ms);
	set_i64(L, "repeat_ms", o->repeat_ms);
}

/* cxm.journey_options() → cxm_journey_options_init's options: every flag
 * off, every duration 0 ("the default"). */
static int l_journey_options(lua_State *L)
{
	cxm_journey_options o;
	cxm_status st = cxm_journey_options_init(&o, sizeof o);
	if (st)
		return push_fail(L, NULL, st);
	push_journey_options(L, &o);
	return 1;
}

/* ctx:journey_set_options(journey, options) → true. */
static int l_journey_set_options(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TNUMBER);
	luaL_checktype(L, 3, LUA_TTABLE);
	berr e;
	cxm_id j;
	cxm_journey_options o;
	cxm_status st = cxm_journey_options_init(&o, sizeof o);
	if (st)
		return push_fail(L, NULL, st);
	if (get_id(L, 2, "journey", &j, &e) || read_journey_options(L, 3, &o, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx, cxm_journey_set_options(c->ctx, j, &o));
}

/* ctx:journey_get_options(journey) → options, defaults filled in. */
static int l_journey_get_options(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id j;
	if (arg_id(L, 2, "journey", &j, &e))
		return push_berr(L, &e);
	cxm_journey_options o;
	memset(&o, 0, sizeof o);
	o.size = sizeof o;
	cxm_status st = cxm_journey_get_options(&o, c->ctx, j);
	if (st)
		return push_fail(L, c->ctx, st);
	push_journey_options(L, &o);
	return 1;
}

static const char *const funnel_keys[] = {
	"journey", "segment", "segment_value", "channel", "end_ms", "span_ms", "cohort", NULL,
};

/* The funnel query table at t into *q, from cxm_funnel_query_init's, and
 * its boolean "cohort" (default false: event time) into *cohort. */
static cxm_status read_funnel_query(lua_State *L, int t, cxm_funnel_query *q, int *cohort,
				    berr *e, int *from_lib)
{
	*from_lib = 0;
	*cohort = 0;
	cxm_status st = cxm_funnel_query_init(q, sizeof *q);
	if (st) {
		*from_lib = 1;
		return st;
	}
	if ((st = check_keys(L, t, "funnel query", funnel_keys, e)))
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, t, "journey");       /* top + 1 */
	lua_getfield(L, t, "segment");       /* top + 2 */
	lua_getfield(L, t, "segment_value"); /* top + 3 */
	lua_getfield(L, t, "channel");       /* top + 4 */
	lua_getfield(L, t, "end_ms");        /* top + 5 */
	lua_getfield(L, t, "span_ms");       /* top + 6 */
	lua_getfield(L, t, "cohort");        /* top + 7 */
	if (lua_isnil(L, top + 1))
		st = bfail(e, CXM_ERR_INVALID, "funnel query has no journey");
	else if (lua_isnil(L, top + 6))
		st = bfail(e, CXM_ERR_INVALID, "funnel query has no span_ms");
	else if (lua_isnil(L, top + 2) != lua_isnil(L, top + 3))
		st = bfail(e, CXM_ERR_INVALID,
			   "funnel query: segment and segment_value go together");
	if (!st)
		st = get_id(L, top + 1, "journey", &q->journey, e);
	if (!st && !lua_isnil(L, top + 2)) {
		st = get_id(L, top + 2, "segment", &q->segment, e);
		if (!st)
			st = get_u32(L, top + 3, "segment_value", &q->segment_value, e);
	}
	if (!st && !lua_isnil(L, top + 4)) {
		int ch;
		if (!(st = get_enum(L, top + 4, "channel", channel_names, N_CHANNELS, &ch, e)))
			q->channel = (uint32_t)ch; /* libcxm judges a number */
	}
	if (!st && !lua_isnil(L, top + 5))
		st = get_end(L, top + 5, &q->end_ms, e);
	if (!st)
		st = get_i64(L, top + 6, "span_ms", &q->span_ms, e);
	if (!st) {
		if (lua_type(L, top + 7) == LUA_TBOOLEAN)
			*cohort = lua_toboolean(L, top + 7);
		else if (!lua_isnil(L, top + 7))
			st = bfail(e, CXM_ERR_INVALID, "cohort: boolean expected, got %s",
				   type_of(L, top + 7));
	}
	lua_settop(L, top);
	return st;
}

/* Argument idx (a table, checked) as a funnel query, cohort = true or not
 * into *cohort; returns 0 or the count of values pushed for a failure. */
static int arg_funnel_query(lua_State *L, int idx, lctx *c, cxm_funnel_query *q, int *cohort)
{
	berr e;
	int lib;
	cxm_status st = read_funnel_query(L, idx, q, cohort, &e, &lib);
	if (!st)
		return 0;
	return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
}

/* Field k of the table on top: a table, made when it is not one. Left on top. */
static void push_sub_table(lua_State *L, const char *k, int narr, int nrec)
{
	lua_getfield(L, -1, k);
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_pop(L, 1);
		lua_createtable(L, narr, nrec);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, k);
	}
}

static void push_funnel(lua_State *L, const cxm_funnel *f, const cxm_funnel_step *steps,
			int into)
{
	push_out_table(L, into, 32);
	set_flags(L, f->flags);
	lua_pushinteger(L, (lua_Integer)f->n_steps);
	lua_setfield(L, -2, "n_steps");
	set_i64(L, "start_ms", f->start_ms);
	set_i64(L, "end_ms", f->end_ms);
	set_i64(L, "quantile_start_ms", f->quantile_start_ms);
	set_i64(L, "quantile_end_ms", f->quantile_end_ms);
	set_u64(L, "entered", f->entered);
	set_u64(L, "completed", f->completed);
	set_u64(L, "abandoned", f->abandoned);
	set_u64(L, "expired", f->expired);
	set_u64(L, "broken", f->broken);
	set_u64(L, "displaced", f->displaced);
	set_u64(L, "repeats", f->repeats);
	set_num(L, "conversion", f->conversion);
	set_num(L, "repeat_rate", f->repeat_rate);
	set_u64(L, "goal_n", f->goal_n);
	set_num(L, "goal_p50", f->goal_p50);
	set_num(L, "goal_p90", f->goal_p90);
	set_num(L, "goal_mean", f->goal_mean);
	/* steps[k], 1-based; an out table's lists are reused */
	push_sub_table(L, "steps", (int)f->n_steps, 0);
	for (uint32_t k = 0; k < f->n_steps; k++) {
		const cxm_funnel_step *s = &steps[k];
		lua_rawgeti(L, -1, (int)k + 1);
		if (lua_type(L, -1) != LUA_TTABLE) {
			lua_pop(L, 1);
			lua_createtable(L, 0, 9);
		}
		lua_pushinteger(L, (lua_Integer)k);
		lua_setfield(L, -2, "step");
		set_u64(L, "reached", s->reached);
		set_num(L, "conversion", s->conversion);
		set_num(L, "step_conversion", s->step_conversion);
		set_num(L, "drop_off", s->drop_off);
		set_u64(L, "next_n", s->next_n);
		set_num(L, "next_p50", s->next_p50);
		set_num(L, "next_p90", s->next_p90);
		set_num(L, "next_mean", s->next_mean);
		lua_rawseti(L, -2, (int)k + 1);
	}
	for (size_t k = lua_rawlen(L, -1); k > f->n_steps; k--) { /* a longer journey before */
		lua_pushnil(L);
		lua_rawseti(L, -2, (int)k);
	}
	lua_pop(L, 1);
}

#define FUNNEL_LOCAL_STEPS 32

/* The funnel of q: by event time (cxm_funnel_run) or, cohort, of the
 * instances begun in the window (cxm_funnel_cohort_run). */
static cxm_status run_funnel(int cohort, cxm_funnel *f, cxm_funnel_step *steps, size_t cap,
			     cxm_context *ctx, const cxm_funnel_query *q)
{
	return cohort ? cxm_funnel_cohort_run(f, steps, cap, ctx, q)
		      : cxm_funnel_run(f, steps, cap, ctx, q);
}

/* ctx:funnel(query[, out]) → funnel, in out if given; query.cohort = true:
 * the entry-cohort funnel. */
static int l_funnel(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	lua_settop(L, 3);
	cxm_funnel_query q;
	int cohort;
	int r = arg_funnel_query(L, 2, c, &q, &cohort);
	if (r)
		return r;
	cxm_funnel f;
	memset(&f, 0, sizeof f);
	f.size = sizeof f;
	cxm_funnel_step local[FUNNEL_LOCAL_STEPS];
	cxm_funnel_step *steps = local;
	/* Every element zeroed, not only the first: libcxm 0.1 keeps each
	 * element's size field as it finds it, and clears from there to the
	 * stride (the header promises only the first one's is read). */
	memset(local, 0, sizeof local);
	local[0].size = sizeof local[0];
	cxm_status st = run_funnel(cohort, &f, steps, FUNNEL_LOCAL_STEPS, c->ctx, &q);
	uint32_t ns;
	if (st == CXM_ERR_LIMIT && cxm_journey_steps(&ns, c->ctx, q.journey) == CXM_OK &&
	    ns > FUNNEL_LOCAL_STEPS) {
		/* a long journey (at most 255 steps are tracked) */
		steps = lua_newuserdata(L, ns * sizeof *steps);
		memset(steps, 0, ns * sizeof *steps);
		steps[0].size = sizeof *steps;
		st = run_funnel(cohort, &f, steps, ns, c->ctx, &q);
	}
	if (st)
		return push_fail(L, c->ctx, st);
	push_funnel(L, &f, steps, 3);
	return 1;
}

/* ctx:funnel_quantiles(query, {q, …}[, step]) → {seconds, …}: the time from
 * step (an id or a name) to the next, or, without step, to the goal. */
static int l_funnel_quantiles(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_checktype(L, 3, LUA_TTABLE);
	int sty = lua_type(L, 4);
	if (sty != LUA_TNONE && sty != LUA_TNIL && sty != LUA_TNUMBER && sty != LUA_TSTRING)
		luaL_argerror(L, 4, "step id or name expected");
	cxm_funnel_query q;
	int cohort;
	int r = arg_funnel_query(L, 2, c, &q, &cohort);
	if (r)
		return r;
	berr e;
	if (cohort) { /* libcxm keeps no quantiles per cohort */
		bfail(&e, CXM_ERR_INVALID,
		      "funnel_quantiles: cohorts have no quantiles (cohort = true)");
		return push_berr(L, &e);
	}
	cxm_id step = CXM_NONE;
	if (sty == LUA_TNUMBER || sty == LUA_TSTRING) {
		int lib;
		cxm_status st = get_step(L, 4, c->ctx, q.journey, &step, &e, &lib);
		if (st)
			return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	}
	size_t n;
	double qs[64], out[64];
	if (read_quantiles(L, 3, qs, &n, &e))
		return push_berr(L, &e);
	cxm_status st = cxm_funnel_quantiles(out, c->ctx, &q, step, qs, n);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, (int)n, 0);
	for (size_t i = 0; i < n; i++) {
		lua_pushnumber(L, out[i]);
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

/* ctx:journey_sweep([now_ms]) → instances ended (now_ms left out: now). */
static int l_journey_sweep(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	int64_t now = CXM_NOW;
	if (!lua_isnoneornil(L, 2)) {
		berr e;
		luaL_checktype(L, 2, LUA_TNUMBER);
		if (get_i64(L, 2, "now_ms", &now, &e))
			return push_berr(L, &e);
	}
	uint64_t closed = 0;
	cxm_status st = cxm_journey_sweep(&closed, c->ctx, now);
	if (st)
		return push_fail(L, c->ctx, st);
	cxm_pushuint64(L, closed);
	return 1;
}

/* ctx:customer_churn(id, time_ms) → true. */
static int l_customer_churn(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	size_t len;
	const char *id = luaL_checklstring(L, 2, &len);
	luaL_checktype(L, 3, LUA_TNUMBER);
	berr e;
	int64_t t;
	if (get_i64(L, 3, "time_ms", &t, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx, cxm_customer_churn(c->ctx, id, len, t));
}

static const char *const churn_keys[] = {"metric", "end_ms", "span_ms", "active_ms", NULL};

/* ctx:churn_rate{metric = distinct, span_ms = …, active_ms = …[, end_ms = …]} → churn. */
static int l_churn_rate(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	berr e;
	cxm_status st = check_keys(L, 2, "churn query", churn_keys, &e);
	if (st)
		return push_berr(L, &e);
	lua_settop(L, 2);
	lua_getfield(L, 2, "metric");    /* 3 */
	lua_getfield(L, 2, "end_ms");    /* 4 */
	lua_getfield(L, 2, "span_ms");   /* 5 */
	lua_getfield(L, 2, "active_ms"); /* 6 */
	cxm_id m = CXM_NONE;
	int64_t end = CXM_NOW, span = 0, active = 0;
	if (lua_isnil(L, 3))
		st = bfail(&e, CXM_ERR_INVALID, "churn query has no metric");
	else if (lua_isnil(L, 5))
		st = bfail(&e, CXM_ERR_INVALID, "churn query has no span_ms");
	else if (lua_isnil(L, 6))
		st = bfail(&e, CXM_ERR_INVALID, "churn query has no active_ms");
	if (!st)
		st = get_id(L, 3, "metric", &m, &e);
	if (!st && !lua_isnil(L, 4))
		st = get_end(L, 4, &end, &e);
	if (!st)
		st = get_i64(L, 5, "span_ms", &span, &e);
	if (!st)
		st = get_i64(L, 6, "active_ms", &active, &e);
	if (st)
		return push_berr(L, &e);
	cxm_churn r;
	memset(&r, 0, sizeof r);
	r.size = sizeof r;
	st = cxm_churn_rate(&r, c->ctx, m, end, span, active);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 14);
	set_flags(L, r.flags);
	set_i64(L, "start_ms", r.start_ms);
	set_i64(L, "end_ms", r.end_ms);
	set_i64(L, "active_start_ms", r.active_start_ms);
	set_i64(L, "active_end_ms", r.active_end_ms);
	set_u64(L, "churned", r.churned);
	set_num(L, "active", r.active);
	set_num(L, "rate", r.rate);
	return 1;
}

/* ---- triggers and events ------------------------------------------------ */

/* Indexed by cxm_cmp. "!=" is taken for "~=" too (get_op). */
static const char *const cmp_names[] = {"<", "<=", ">", ">=", "==", "~=", NULL};
#define N_CMPS 6

static const char *const trigger_keys[] = {
	"metric", "item", "op", "threshold", "touchpoint", "journey", "step", "channel",
	"segment", "segment_value", "enabled", NULL,
};

static void set_id(lua_State *L, const char *k, cxm_id v)
{
	lua_pushinteger(L, (lua_Integer)v);
	lua_setfield(L, -2, k);
}

/* The comparison at idx: "<", "<=", ">", ">=", "==", "~=" or "!=", or a
 * cxm_cmp's number (which libcxm judges). */
static cxm_status get_op(lua_State *L, int idx, cxm_cmp *out, berr *e)
{
	int v;
	if (lua_type(L, idx) == LUA_TSTRING && strcmp(lua_tostring(L, idx), "!=") == 0)
		v = CXM_CMP_NE;
	else if (get_enum(L, idx, "op", cmp_names, N_CMPS, &v, e))
		return e->st;
	*out = (cxm_cmp)v;
	return CXM_OK;
}

/* The trigger table at t into *d, from cxm_trigger_def_init's, and its
 * field enabled (true when left out) into *on. */
static cxm_status read_trigger(lua_State *L, int t, cxm_context *ctx, cxm_trigger_def *d, int *on,
			       berr *e, int *from_lib)
{
	*from_lib = 0;
	cxm_status st = cxm_trigger_def_init(d, sizeof *d);
	if (st) {
		*from_lib = 1;
		return st;
	}
	if ((st = check_keys(L, t, "trigger", trigger_keys, e)))
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, t, "metric");        /* top + 1 */
	lua_getfield(L, t, "item");          /* top + 2 */
	lua_getfield(L, t, "op");            /* top + 3 */
	lua_getfield(L, t, "threshold");     /* top + 4 */
	lua_getfield(L, t, "touchpoint");    /* top + 5 */
	lua_getfield(L, t, "journey");       /* top + 6 */
	lua_getfield(L, t, "step");          /* top + 7 */
	lua_getfield(L, t, "channel");       /* top + 8 */
	lua_getfield(L, t, "segment");       /* top + 9 */
	lua_getfield(L, t, "segment_value"); /* top + 10 */
	lua_getfield(L, t, "enabled");       /* top + 11 */
	if (lua_isnil(L, top + 1))
		st = bfail(e, CXM_ERR_INVALID, "trigger has no metric");
	else if (lua_isnil(L, top + 3))
		st = bfail(e, CXM_ERR_INVALID, "trigger has no op");
	else if (lua_isnil(L, top + 4))
		st = bfail(e, CXM_ERR_INVALID, "trigger has no threshold");
	else if ((st = check_scope(L, top + 5, "trigger", e)))
		;
	else if (lua_isnil(L, top + 9) != lua_isnil(L, top + 10))
		st = bfail(e, CXM_ERR_INVALID, "trigger: segment and segment_value go together");
	if (!st)
		st = get_id(L, top + 1, "metric", &d->metric, e);
	if (!st && !lua_isnil(L, top + 2))
		st = get_u32(L, top + 2, "item", &d->item, e);
	if (!st)
		st = get_op(L, top + 3, &d->op, e);
	if (!st) {
		/* a boolean as a measure's value is: a RATE's success or failure */
		if (lua_type(L, top + 4) == LUA_TBOOLEAN)
			d->threshold = lua_toboolean(L, top + 4) ? 1.0 : 0.0;
		else
			st = get_double(L, top + 4, "threshold", &d->threshold, e);
	}
	if (!st)
		st = read_scope(L, top + 5, ctx, &d->scope, &d->id, &d->step, e, from_lib);
	if (!st && !lua_isnil(L, top + 9)) {
		st = get_id(L, top + 9, "segment", &d->segment, e);
		if (!st)
			st = get_id(L, top + 10, "segment_value", &d->segment_value, e);
	}
	*on = 1;
	if (!st && lua_type(L, top + 11) == LUA_TBOOLEAN)
		*on = lua_toboolean(L, top + 11);
	else if (!st && !lua_isnil(L, top + 11))
		st = bad_value(L, top + 11, e, CXM_ERR_INVALID, "enabled", "a boolean");
	lua_settop(L, top);
	return st;
}

/* ctx:trigger_define{metric =, op =, threshold =, …} → id. enabled =
 * false defines it switched off, so that trigger_get's table defines the
 * same rule again (in this context or another). */
static int l_trigger_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	berr e;
	int lib, on;
	cxm_trigger_def d;
	cxm_status st = read_trigger(L, 2, c->ctx, &d, &on, &e, &lib);
	if (st)
		return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	cxm_id id;
	if ((st = cxm_trigger_define(&id, c->ctx, &d)))
		return push_fail(L, c->ctx, st);
	/* cannot fail: the id was just defined */
	if (!on && (st = cxm_trigger_enable(c->ctx, id, 0)))
		return push_fail(L, c->ctx, st);
	return push_id(L, id);
}

/* ctx:trigger_enable(trigger, on) → true. */
static int l_trigger_enable(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 3, LUA_TBOOLEAN);
	berr e;
	cxm_id r;
	if (arg_id(L, 2, "trigger", &r, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx, cxm_trigger_enable(c->ctx, r, lua_toboolean(L, 3)));
}

/* ctx:trigger_get(trigger) → the table trigger_define takes, with every
 * field that has a meaning and enabled. */
static int l_trigger_get(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id r;
	if (arg_id(L, 2, "trigger", &r, &e))
		return push_berr(L, &e);
	cxm_trigger_def d;
	int on = 0;
	cxm_status st = cxm_trigger_def_init(&d, sizeof d);
	if (!st)
		st = cxm_trigger_get(&d, &on, c->ctx, r);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 9);
	set_id(L, "metric", d.metric);
	set_id(L, "item", d.item);
	set_str(L, "op", enum_name(cmp_names, N_CMPS, (int)d.op));
	set_num(L, "threshold", d.threshold);
	switch (d.scope) {
	case CXM_SCOPE_TOUCHPOINT: set_id(L, "touchpoint", d.id); break;
	case CXM_SCOPE_STEP: set_id(L, "step", d.step); /* fall through */
	case CXM_SCOPE_JOURNEY: set_id(L, "journey", d.id); break;
	case CXM_SCOPE_CHANNEL:
		set_str(L, "channel", enum_name(channel_names, N_CHANNELS, (int)d.id));
		break;
	default: break; /* every touchpoint */
	}
	if (d.segment != CXM_NONE) {
		set_id(L, "segment", d.segment);
		set_id(L, "segment_value", d.segment_value);
	}
	set_bool(L, "enabled", on);
	return 1;
}

/* A customer's keyed hash as 16 bytes: word 0, then word 1, each least
 * significant byte first, whatever the machine's byte order. */
static void push_hash(lua_State *L, const uint64_t h[2])
{
	char b[16];
	for (int i = 0; i < 16; i++)
		b[i] = (char)(unsigned char)(h[i / 8] >> (8 * (i % 8)));
	lua_pushlstring(L, b, sizeof b);
}

/* Indexed by cxm_event_kind. */
static const char *const event_kind_names[] = {
	NULL, "trigger", "alert firing", "alert resolved", "signal", NULL,
};
#define N_EVENT_KINDS 5

static void push_event(lua_State *L, const cxm_event *ev)
{
	lua_createtable(L, 0, 9);
	set_str(L, "kind", enum_name(event_kind_names, N_EVENT_KINDS, (int)ev->kind));
	set_id(L, "rule", ev->rule);
	set_u64(L, "seq", ev->seq);
	if (ev->customer[0] || ev->customer[1]) { /* {0, 0}: no customer id */
		push_hash(L, ev->customer);
		lua_setfield(L, -2, "customer");
	}
	set_i64(L, "time_ms", ev->time_ms);
	/* an alert's event has no touchpoint, a STUCK signal's neither, and
	 * a signal's other than FAILURE no metric */
	if (ev->touchpoint != CXM_NONE)
		set_id(L, "touchpoint", ev->touchpoint);
	if (ev->metric != CXM_NONE)
		set_id(L, "metric", ev->metric);
	set_id(L, "item", ev->item);
	set_num(L, "value", ev->value);
}

#define EVENTS_CHUNK 64

/* ctx:events_poll([max]) → {event, …}, oldest first: at most max (left
 * out: all that are queued), {} when none is. Events are taken from the
 * queue EVENTS_CHUNK at a time into a C array, then made tables; a Lua
 * memory error while making them loses those the call had taken. */
static int l_events_poll(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	int64_t max = INT32_MAX; /* lua_rawseti takes an int */
	if (!lua_isnoneornil(L, 2)) {
		berr e;
		luaL_checktype(L, 2, LUA_TNUMBER);
		if (get_range(L, 2, "max", 0, INT32_MAX, &max, &e))
			return push_berr(L, &e);
	}
	lua_createtable(L, max < EVENTS_CHUNK ? (int)max : 0, 0);
	cxm_event ev[EVENTS_CHUNK];
	int64_t got = 0;
	while (got < max) {
		size_t want = max - got < EVENTS_CHUNK ? (size_t)(max - got) : EVENTS_CHUNK, n = 0;
		memset(ev, 0, sizeof ev[0]);
		ev[0].size = sizeof ev[0];
		cxm_status st = cxm_events_poll(ev, want, &n, c->ctx);
		if (st)
			return push_fail(L, c->ctx, st);
		for (size_t i = 0; i < n; i++) {
			push_event(L, &ev[i]);
			lua_rawseti(L, -2, (int)++got);
		}
		if (n < want)
			break;
	}
	return 1;
}

/* ctx:customer_hash(id) → the 16 bytes an event's customer has for id. */
static int l_customer_hash(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	size_t len;
	const char *id = luaL_checklstring(L, 2, &len);
	uint64_t h[2];
	cxm_status st = cxm_customer_hash(h, c->ctx, id, len);
	if (st)
		return push_fail(L, c->ctx, st);
	push_hash(L, h);
	return 1;
}

/* ---- the survey governor ------------------------------------------------ */

/* Indexed by cxm_ask. */
static const char *const ask_names[] = {
	"ask", "not eligible", "sampled out", "survey responded", "survey invited",
	"survey cap", "responded", "invited", "cap", NULL,
};
#define N_ASKS 9

/* Indexed by cxm_survey_event. */
static const char *const survey_event_names[] = {NULL, "invited", "responded", NULL};
#define N_SURVEY_EVENTS 3

static const char *const survey_keys[] = {
	"min_since_invite_ms", "min_since_response_ms", "max_invites", "invites_window_ms",
	"sample_rate", "touchpoint", "journey", "step", "channel", NULL,
};
static const char *const governor_keys[] = {
	"min_since_invite_ms", "min_since_response_ms", "max_invites", "invites_window_ms", NULL,
};

/* The fields a survey and the rules across surveys share, from the table
 * at t: each left out keeps what *inv, *resp, *max and *win hold (0, "no
 * such rule"); libcxm judges the values. */
static cxm_status read_cool_downs(lua_State *L, int t, int64_t *inv, int64_t *resp, uint32_t *max,
				  int64_t *win, berr *e)
{
	int top = lua_gettop(L);
	cxm_status st = CXM_OK;
	lua_getfield(L, t, "min_since_invite_ms");   /* top + 1 */
	lua_getfield(L, t, "min_since_response_ms"); /* top + 2 */
	lua_getfield(L, t, "max_invites");           /* top + 3 */
	lua_getfield(L, t, "invites_window_ms");     /* top + 4 */
	if (!lua_isnil(L, top + 1))
		st = get_i64(L, top + 1, "min_since_invite_ms", inv, e);
	if (!st && !lua_isnil(L, top + 2))
		st = get_i64(L, top + 2, "min_since_response_ms", resp, e);
	if (!st && !lua_isnil(L, top + 3))
		st = get_u32(L, top + 3, "max_invites", max, e);
	if (!st && !lua_isnil(L, top + 4))
		st = get_i64(L, top + 4, "invites_window_ms", win, e);
	lua_settop(L, top);
	return st;
}

/* The survey table at t into *d, from cxm_survey_def_init's; its scope as
 * read_scope reads it. */
static cxm_status read_survey(lua_State *L, int t, cxm_context *ctx, cxm_survey_def *d, berr *e,
			      int *from_lib)
{
	*from_lib = 0;
	cxm_status st = cxm_survey_def_init(d, sizeof *d);
	if (st) {
		*from_lib = 1;
		return st;
	}
	if ((st = check_keys(L, t, "survey", survey_keys, e)))
		return st;
	if ((st = read_cool_downs(L, t, &d->min_since_invite_ms, &d->min_since_response_ms,
				  &d->max_invites, &d->invites_window_ms, e)))
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, t, "sample_rate"); /* top + 1 */
	lua_getfield(L, t, "touchpoint");  /* top + 2 */
	lua_getfield(L, t, "journey");     /* top + 3 */
	lua_getfield(L, t, "step");        /* top + 4 */
	lua_getfield(L, t, "channel");     /* top + 5 */
	if (!lua_isnil(L, top + 1))
		st = get_double(L, top + 1, "sample_rate", &d->sample_rate, e);
	if (!st)
		st = check_scope(L, top + 2, "survey", e);
	if (!st)
		st = read_scope(L, top + 2, ctx, &d->scope, &d->id, &d->step, e, from_lib);
	lua_settop(L, top);
	return st;
}

/* ctx:survey_define(name[, survey]) → id; survey left out: every moment,
 * everyone, no cool-down, no cap. */
static int l_survey_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	if (!name)
		return push_berr(L, &e);
	cxm_survey_def d;
	int lib = 0;
	cxm_status st;
	if (lua_isnoneornil(L, 3)) {
		lib = 1;
		st = cxm_survey_def_init(&d, sizeof d);
	} else {
		st = read_survey(L, 3, c->ctx, &d, &e, &lib);
	}
	if (st)
		return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	cxm_id id;
	if ((st = cxm_survey_define(&id, c->ctx, name, &d)))
		return push_fail(L, c->ctx, st);
	return push_id(L, id);
}

/* ctx:governor_set{min_since_invite_ms =, …} → true; {} is no rule. */
static int l_governor_set(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	berr e;
	cxm_governor_rules g;
	cxm_status st = cxm_governor_rules_init(&g, sizeof g);
	if (st)
		return push_fail(L, c->ctx, st);
	if (check_keys(L, 2, "governor rules", governor_keys, &e) ||
	    read_cool_downs(L, 2, &g.min_since_invite_ms, &g.min_since_response_ms, &g.max_invites,
			    &g.invites_window_ms, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx, cxm_governor_set(c->ctx, &g));
}

/* ctx:survey_should_ask(survey, customer, touchpoint, time_ms) → ask (a
 * boolean), reason (ask_names), until_ms (nil when the skip does not end,
 * and for an ask). */
static int l_survey_should_ask(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TNUMBER);
	size_t len;
	const char *id = luaL_checklstring(L, 3, &len);
	luaL_checktype(L, 4, LUA_TNUMBER);
	luaL_checktype(L, 5, LUA_TNUMBER);
	berr e;
	cxm_id s, tp;
	int64_t t;
	if (get_id(L, 2, "survey", &s, &e) || get_id(L, 4, "touchpoint", &tp, &e) ||
	    get_i64(L, 5, "time_ms", &t, &e))
		return push_berr(L, &e);
	cxm_ask a;
	int64_t until = -1;
	cxm_status st = cxm_survey_should_ask(&a, &until, c->ctx, s, id, len, tp, t);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_pushboolean(L, a == CXM_ASK);
	lua_pushstring(L, enum_name(ask_names, N_ASKS, (int)a));
	if (until < 0)
		lua_pushnil(L);
	else
		cxm_pushint64(L, until);
	return 3;
}

/* ctx:survey_record(survey, customer, "invited" or "responded", time_ms) → true. */
static int l_survey_record(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TNUMBER);
	size_t len;
	const char *id = luaL_checklstring(L, 3, &len);
	if (lua_type(L, 4) != LUA_TSTRING && lua_type(L, 4) != LUA_TNUMBER)
		luaL_argerror(L, 4, "\"invited\" or \"responded\" expected");
	luaL_checktype(L, 5, LUA_TNUMBER);
	berr e;
	cxm_id s;
	int what;
	int64_t t;
	if (get_id(L, 2, "survey", &s, &e) ||
	    get_enum(L, 4, "survey event", survey_event_names, N_SURVEY_EVENTS, &what, &e) ||
	    get_i64(L, 5, "time_ms", &t, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx,
			 cxm_survey_record(c->ctx, s, id, len, (cxm_survey_event)what, t));
}

/* ---- metric alerts ------------------------------------------------------- */

/* Indexed by cxm_alert_kind and cxm_alert_state. */
static const char *const alert_kind_names[] = {"level", "change", "forecast", NULL};
#define N_ALERT_KINDS 3
static const char *const alert_state_names[] = {"ok", "pending", "firing", NULL};
#define N_ALERT_STATES 3

static const char *const alert_keys[] = {
	"metric", "touchpoint", "journey", "step", "channel", "segment", "segment_value",
	"span_ms", "kind", "op", "fire", "clear", "baseline_offset_ms", "max_p_value",
	"min_samples", "for_ms", "cooldown_ms", NULL,
};

/* The alert table at t into *d, from cxm_alert_def_init's: its query as
 * queries take it (without end_ms: each evaluation's instant is the end),
 * then the alert's own fields; libcxm judges the values. */
static cxm_status read_alert(lua_State *L, int t, cxm_context *ctx, cxm_alert_def *d, berr *e,
			     int *from_lib)
{
	*from_lib = 0;
	cxm_status st = cxm_alert_def_init(d, sizeof *d);
	if (st) {
		*from_lib = 1;
		return st;
	}
	if ((st = check_keys(L, t, "alert", alert_keys, e)))
		return st;
	if ((st = read_query_fields(L, t, ctx, &d->query, "alert", e, from_lib)))
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, t, "kind");               /* top + 1 */
	lua_getfield(L, t, "op");                 /* top + 2 */
	lua_getfield(L, t, "fire");               /* top + 3 */
	lua_getfield(L, t, "clear");              /* top + 4 */
	lua_getfield(L, t, "baseline_offset_ms"); /* top + 5 */
	lua_getfield(L, t, "max_p_value");        /* top + 6 */
	lua_getfield(L, t, "min_samples");        /* top + 7 */
	lua_getfield(L, t, "for_ms");             /* top + 8 */
	lua_getfield(L, t, "cooldown_ms");        /* top + 9 */
	if (lua_isnil(L, top + 2))
		st = bfail(e, CXM_ERR_INVALID, "alert has no op");
	else if (lua_isnil(L, top + 3))
		st = bfail(e, CXM_ERR_INVALID, "alert has no fire");
	else if (lua_isnil(L, top + 4))
		st = bfail(e, CXM_ERR_INVALID, "alert has no clear");
	if (!st && !lua_isnil(L, top + 1)) {
		int k;
		if (!(st = get_enum(L, top + 1, "alert kind", alert_kind_names, N_ALERT_KINDS, &k,
				    e)))
			d->kind = (cxm_alert_kind)k;
	}
	if (!st)
		st = get_op(L, top + 2, &d->op, e);
	if (!st)
		st = get_double(L, top + 3, "fire", &d->fire, e);
	if (!st)
		st = get_double(L, top + 4, "clear", &d->clear, e);
	if (!st && !lua_isnil(L, top + 5))
		st = get_i64(L, top + 5, "baseline_offset_ms", &d->baseline_offset_ms, e);
	if (!st && !lua_isnil(L, top + 6))
		st = get_double(L, top + 6, "max_p_value", &d->max_p_value, e);
	if (!st && !lua_isnil(L, top + 7)) {
		int64_t v;
		if (!(st = get_range(L, top + 7, "min_samples", 0, INT64_MAX, &v, e)))
			d->min_samples = (uint64_t)v;
	}
	if (!st && !lua_isnil(L, top + 8))
		st = get_i64(L, top + 8, "for_ms", &d->for_ms, e);
	if (!st && !lua_isnil(L, top + 9))
		st = get_i64(L, top + 9, "cooldown_ms", &d->cooldown_ms, e);
	lua_settop(L, top);
	return st;
}

/* ctx:alert_define(name, {metric =, span_ms =, op =, fire =, clear =, …}) → id. */
static int l_alert_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	const char *name = check_name(L, 2, &e);
	luaL_checktype(L, 3, LUA_TTABLE);
	if (!name)
		return push_berr(L, &e);
	cxm_alert_def d;
	int lib;
	cxm_status st = read_alert(L, 3, c->ctx, &d, &e, &lib);
	if (st)
		return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	cxm_id id;
	if ((st = cxm_alert_define(&id, c->ctx, name, &d)))
		return push_fail(L, c->ctx, st);
	return push_id(L, id);
}

/* ctx:alerts_evaluate([now_ms]) → how many alerts changed state (now_ms
 * left out: now). */
static int l_alerts_evaluate(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	int64_t now = CXM_NOW;
	if (!lua_isnoneornil(L, 2)) {
		berr e;
		luaL_checktype(L, 2, LUA_TNUMBER);
		if (get_i64(L, 2, "now_ms", &now, &e))
			return push_berr(L, &e);
	}
	size_t changed = 0;
	cxm_status st = cxm_alerts_evaluate(&changed, c->ctx, now);
	if (st)
		return push_fail(L, c->ctx, st);
	cxm_pushuint64(L, (uint64_t)changed);
	return 1;
}

/* A time that is −1 for "none" as nil. */
static void set_time(lua_State *L, const char *k, int64_t v)
{
	if (v >= 0)
		set_i64(L, k, v);
}

/* ctx:alert_status(alert) → {state =, since_ms =, evaluated_ms =, …}. */
static int l_alert_status(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id a;
	if (arg_id(L, 2, "alert", &a, &e))
		return push_berr(L, &e);
	cxm_alert_status s;
	memset(&s, 0, sizeof s);
	s.size = sizeof s;
	cxm_status st = cxm_alert_status_get(&s, c->ctx, a);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 12);
	set_str(L, "state", enum_name(alert_state_names, N_ALERT_STATES, (int)s.state));
	set_time(L, "since_ms", s.since_ms);
	set_time(L, "evaluated_ms", s.evaluated_ms);
	set_time(L, "resolved_ms", s.resolved_ms);
	set_num(L, "value", s.value);
	set_num(L, "baseline", s.baseline);
	set_num(L, "p_value", s.p_value);
	set_u64(L, "n", s.n);
	set_u64(L, "fired", s.fired);
	lua_pushinteger(L, (lua_Integer)s.flags);
	lua_setfield(L, -2, "flags");
	set_bool(L, "insufficient", (s.flags & CXM_ALERT_INSUFFICIENT) != 0);
	return 1;
}

/* ---- in-journey signals ------------------------------------------------ */

/* Indexed by cxm_signal_kind. */
static const char *const signal_kind_names[] = {
	NULL, "stuck", "repeat", "backwards", "failure", NULL,
};
#define N_SIGNAL_KINDS 5

static const char *const signal_keys[] = {
	"kind", "journey", "step", "count", "window_ms", "metric", "item", "op", "threshold",
	"enabled", NULL,
};

/* The signal table at t into *d, from cxm_signal_def_init's (any step, no
 * metric), and its field enabled (true when left out) into *on. kind and
 * journey are required, and for a FAILURE metric, op and threshold; the
 * rest is left to libcxm, which judges what each kind takes (a count or a
 * window left out is 0). */
static cxm_status read_signal(lua_State *L, int t, cxm_context *ctx, cxm_signal_def *d, int *on,
			      berr *e, int *from_lib)
{
	*from_lib = 0;
	cxm_status st = cxm_signal_def_init(d, sizeof *d);
	if (st) {
		*from_lib = 1;
		return st;
	}
	if ((st = check_keys(L, t, "signal", signal_keys, e)))
		return st;
	int top = lua_gettop(L);
	lua_getfield(L, t, "kind");      /* top + 1 */
	lua_getfield(L, t, "journey");   /* top + 2 */
	lua_getfield(L, t, "step");      /* top + 3 */
	lua_getfield(L, t, "count");     /* top + 4 */
	lua_getfield(L, t, "window_ms"); /* top + 5 */
	lua_getfield(L, t, "metric");    /* top + 6 */
	lua_getfield(L, t, "item");      /* top + 7 */
	lua_getfield(L, t, "op");        /* top + 8 */
	lua_getfield(L, t, "threshold"); /* top + 9 */
	lua_getfield(L, t, "enabled");   /* top + 10 */
	if (lua_isnil(L, top + 1))
		st = bfail(e, CXM_ERR_INVALID, "signal has no kind");
	else if (lua_isnil(L, top + 2))
		st = bfail(e, CXM_ERR_INVALID, "signal has no journey");
	if (!st) {
		int k;
		if (!(st = get_enum(L, top + 1, "signal kind", signal_kind_names, N_SIGNAL_KINDS, &k,
				    e)))
			d->kind = (cxm_signal_kind)k;
	}
	if (!st && d->kind == CXM_SIGNAL_FAILURE) {
		if (lua_isnil(L, top + 6))
			st = bfail(e, CXM_ERR_INVALID, "failure signal has no metric");
		else if (lua_isnil(L, top + 8))
			st = bfail(e, CXM_ERR_INVALID, "failure signal has no op");
		else if (lua_isnil(L, top + 9))
			st = bfail(e, CXM_ERR_INVALID, "failure signal has no threshold");
	}
	if (!st)
		st = get_id(L, top + 2, "journey", &d->journey, e);
	if (!st && !lua_isnil(L, top + 3))
		st = get_step(L, top + 3, ctx, d->journey, &d->step, e, from_lib);
	if (!st && !lua_isnil(L, top + 4))
		st = get_u32(L, top + 4, "count", &d->count, e);
	if (!st && !lua_isnil(L, top + 5))
		st = get_i64(L, top + 5, "window_ms", &d->window_ms, e);
	if (!st && !lua_isnil(L, top + 6))
		st = get_id(L, top + 6, "metric", &d->metric, e);
	if (!st && !lua_isnil(L, top + 7))
		st = get_u32(L, top + 7, "item", &d->item, e);
	if (!st && !lua_isnil(L, top + 8))
		st = get_op(L, top + 8, &d->op, e);
	if (!st && !lua_isnil(L, top + 9)) {
		/* as in triggers: a RATE's success or failure */
		if (lua_type(L, top + 9) == LUA_TBOOLEAN)
			d->threshold = lua_toboolean(L, top + 9) ? 1.0 : 0.0;
		else
			st = get_double(L, top + 9, "threshold", &d->threshold, e);
	}
	*on = 1;
	if (!st && lua_type(L, top + 10) == LUA_TBOOLEAN)
		*on = lua_toboolean(L, top + 10);
	else if (!st && !lua_isnil(L, top + 10))
		st = bad_value(L, top + 10, e, CXM_ERR_INVALID, "enabled", "a boolean");
	lua_settop(L, top);
	return st;
}

/* ctx:signal_define{kind =, journey =, …} → id. enabled = false defines
 * it switched off, so that signal_get's table defines the same signal
 * again, as for triggers. */
static int l_signal_define(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	berr e;
	int lib, on;
	cxm_signal_def d;
	cxm_status st = read_signal(L, 2, c->ctx, &d, &on, &e, &lib);
	if (st)
		return lib ? push_fail(L, c->ctx, st) : push_berr(L, &e);
	cxm_id id;
	if ((st = cxm_signal_define(&id, c->ctx, &d)))
		return push_fail(L, c->ctx, st);
	/* cannot fail: the id was just defined */
	if (!on && (st = cxm_signal_enable(c->ctx, id, 0)))
		return push_fail(L, c->ctx, st);
	return push_id(L, id);
}

/* ctx:signal_enable(signal, on) → true. */
static int l_signal_enable(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 3, LUA_TBOOLEAN);
	berr e;
	cxm_id s;
	if (arg_id(L, 2, "signal", &s, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx, cxm_signal_enable(c->ctx, s, lua_toboolean(L, 3)));
}

/* ctx:signal_get(signal) → the table signal_define takes, with every
 * field that has a meaning for the kind, and enabled. */
static int l_signal_get(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	berr e;
	cxm_id s;
	if (arg_id(L, 2, "signal", &s, &e))
		return push_berr(L, &e);
	cxm_signal_def d;
	int on = 0;
	cxm_status st = cxm_signal_def_init(&d, sizeof d);
	if (!st)
		st = cxm_signal_get(&d, &on, c->ctx, s);
	if (st)
		return push_fail(L, c->ctx, st);
	lua_createtable(L, 0, 10);
	set_str(L, "kind", enum_name(signal_kind_names, N_SIGNAL_KINDS, (int)d.kind));
	set_id(L, "journey", d.journey);
	if (d.step != CXM_NONE) /* nil: any step */
		set_id(L, "step", d.step);
	if (d.kind == CXM_SIGNAL_REPEAT || d.kind == CXM_SIGNAL_FAILURE)
		set_id(L, "count", d.count);
	if (d.kind != CXM_SIGNAL_BACKWARDS)
		set_i64(L, "window_ms", d.window_ms);
	if (d.kind == CXM_SIGNAL_FAILURE) {
		set_id(L, "metric", d.metric);
		set_id(L, "item", d.item);
		set_str(L, "op", enum_name(cmp_names, N_CMPS, (int)d.op));
		set_num(L, "threshold", d.threshold);
	}
	set_bool(L, "enabled", on);
	return 1;
}

/* ctx:signal_rearm(signal, customer) → true: the signal may fire again
 * for the customer's current instance. */
static int l_signal_rearm(lua_State *L)
{
	lctx *c = check_lctx(L, 1);
	luaL_checktype(L, 2, LUA_TNUMBER);
	size_t len;
	const char *id = luaL_checklstring(L, 3, &len);
	berr e;
	cxm_id s;
	if (get_id(L, 2, "signal", &s, &e))
		return push_berr(L, &e);
	return push_done(L, c->ctx, cxm_signal_rearm(c->ctx, s, id, len));
}

/* ---- module functions -------------------------------------------------- */

/* cxm.strerror(code): code a number or a name ("OUT_OF_RANGE"). */
static int l_strerror(lua_State *L)
{
	int code;
	if (lua_type(L, 1) == LUA_TSTRING) {
		code = enum_value(status_names, CXM_STATUS_COUNT, lua_tostring(L, 1));
	} else {
		/* a fraction is no code (not the one below it) */
		lua_Number v = luaL_checknumber(L, 1);
		code = v >= 0 && v < CXM_STATUS_COUNT && v == floor(v) ? (int)v : -1;
	}
	lua_pushstring(L, cxm_strerror(code));
	return 1;
}

static int l_libversion(lua_State *L)
{
	lua_pushstring(L, cxm_libversion());
	return 1;
}

static int l_libversion_number(lua_State *L)
{
	lua_pushinteger(L, cxm_libversion_number());
	return 1;
}

/* cxm.time_ms(): the system clock in ms since the epoch, which Lua itself
 * only gives to the second; for hosts that have no better clock. */
static int l_time_ms(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cxm_pushint64(L, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	return 1;
}

static const luaL_Reg ctx_methods[] = {
	{"journey_define", l_journey_define},
	{"touchpoint_define", l_touchpoint_define},
	{"metric_define", l_metric_define},
	{"metric_get", l_metric_get},
	{"segment_define", l_segment_define},
	{"segment_value", l_segment_value},
	{"segment_value_find", l_segment_value_find},
	{"segment_value_name", l_segment_value_name},
	{"segment_values", l_segment_values},
	{"count", l_count},
	{"find", l_find},
	{"name", l_name},
	{"journey_steps", l_journey_steps},
	{"step_name", l_step_name},
	{"step_find", l_step_find},
	{"touchpoint_get", l_touchpoint_get},
	{"feed", l_feed},
	{"feed_batch", l_feed_batch},
	{"prepare", l_prepare},
	{"query", l_query},
	{"quantiles", l_quantiles},
	{"distribution", l_distribution},
	{"compare", l_compare},
	{"query_by", l_query_by},
	{"query_series", l_query_series},
	{"query_calendar", l_query_calendar},
	{"baseline_define", l_baseline_define},
	{"baseline_get", l_baseline_get},
	{"query_baseline", l_query_baseline},
	{"drivers_define", l_drivers_define},
	{"drivers_find", l_drivers_find},
	{"drivers_get", l_drivers_get},
	{"key_drivers", l_key_drivers},
	{"query_calendar_series", l_query_calendar_series},
	{"calendar_bucket", l_calendar_bucket},
	{"query_trend", l_query_trend},
	{"stats", l_stats},
	{"series_bytes", l_series_bytes},
	{"customer_last_seen", l_customer_last_seen},
	{"customer_forget", l_customer_forget},
	{"customer_churn", l_customer_churn},
	{"journey_set_options", l_journey_set_options},
	{"journey_get_options", l_journey_get_options},
	{"funnel", l_funnel},
	{"funnel_quantiles", l_funnel_quantiles},
	{"journey_sweep", l_journey_sweep},
	{"churn_rate", l_churn_rate},
	{"trigger_define", l_trigger_define},
	{"trigger_enable", l_trigger_enable},
	{"trigger_get", l_trigger_get},
	{"events_poll", l_events_poll},
	{"customer_hash", l_customer_hash},
	{"survey_define", l_survey_define},
	{"governor_set", l_governor_set},
	{"survey_should_ask", l_survey_should_ask},
	{"survey_record", l_survey_record},
	{"alert_define", l_alert_define},
	{"alerts_evaluate", l_alerts_evaluate},
	{"alert_status", l_alert_status},
	{"signal_define", l_signal_define},
	{"signal_enable", l_signal_enable},
	{"signal_get", l_signal_get},
	{"signal_rearm", l_signal_rearm},
	{"save", l_save},
	{"save_for_exporter", l_save_for_exporter},
	{"load", l_load},
	{"merge", l_merge},
	{"merge_file", l_merge_file},
	{"snapshot", l_snapshot},
	{"load_string", l_load_string},
	{"merge_string", l_merge_string},
	{"export", l_export},
	{"set_now", l_set_now},
	{"close", l_close},
	{NULL, NULL},
};

static const luaL_Reg ctx_meta[] = {
	{"__gc", l_close},
	{"__tostring", l_tostring},
#if CXM_HAS_CLOSE
	{"__close", l_close},
#endif
	{NULL, NULL},
};

/* cxm.snapshot_tiers(bytes): the tiers a snapshot's first bytes name, as
 * {{bucket_ms = , buckets = }, ...}, or nil, message, code. */
static int l_snapshot_tiers(lua_State *L)
{
	size_t len;
	const char *data = luaL_checklstring(L, 1, &len);
	cxm_tier t[CXM_MAX_TIERS];
	uint32_t n = 0;
	cxm_status st = cxm_snapshot_tiers(t, &n, data, len);
	if (st)
		return push_fail(L, NULL, st);
	lua_createtable(L, (int)n, 0);
	for (uint32_t i = 0; i < n; i++) {
		lua_createtable(L, 0, 2);
		lua_pushnumber(L, (lua_Number)t[i].bucket_ms);
		lua_setfield(L, -2, "bucket_ms");
		lua_pushnumber(L, (lua_Number)t[i].buckets);
		lua_setfield(L, -2, "buckets");
		lua_rawseti(L, -2, (int)i + 1);
	}
	return 1;
}

static const luaL_Reg module_fns[] = {
	{"new", l_new},
	{"preset", l_preset},
	{"journey_options", l_journey_options},
	{"strerror", l_strerror},
	{"snapshot_tiers", l_snapshot_tiers},
	{"libversion", l_libversion},
	{"libversion_number", l_libversion_number},
	{"time_ms", l_time_ms},
	{NULL, NULL},
};

#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
int luaopen_cxm(lua_State *L);

int luaopen_cxm(lua_State *L)
{
	/* The metatable of contexts: a private table, not in the registry by
	 * name, reached by the module's functions as their upvalue. */
	lua_settop(L, 0); /* drop require's arguments */
	lua_newtable(L);  /* 1: the metatable */
	lua_pushvalue(L, 1);
	lua_pushvalue(L, 1);
	luaL_setfuncs(L, ctx_meta, 1);
	lua_pop(L, 1);
	lua_createtable(L, 0, sizeof ctx_methods / sizeof ctx_methods[0]);
	lua_pushvalue(L, 1);
	luaL_setfuncs(L, ctx_methods, 1);
	lua_setfield(L, 1, "__index");
	lua_pushliteral(L, "cxm.context");
	lua_setfield(L, 1, "__name");
	lua_pushboolean(L, 0);
	lua_setfield(L, 1, "__metatable"); /* getmetatable(ctx) gives false */
	lua_createtable(L, 0, 1); /* the metatable of membufs */
	lua_pushcfunction(L, l_membuf_gc);
	lua_setfield(L, -2, "__gc");
	lua_setfield(L, 1, MEMBUF_MT);

	lua_createtable(L, 0, 12); /* 2: the module */
	lua_pushvalue(L, 1);
	luaL_setfuncs(L, module_fns, 1);

	lua_createtable(L, CXM_STATUS_COUNT, CXM_STATUS_COUNT);
	for (int i = 0; i < CXM_STATUS_COUNT; i++) {
		lua_pushinteger(L, i);
		lua_setfield(L, -2, status_names[i]);
		lua_pushstring(L, status_names[i]);
		lua_rawseti(L, -2, i);
	}
	lua_setfield(L, -2, "errors");

	cxm_pushint64(L, CXM_TIME_MAX);
	lua_setfield(L, -2, "TIME_MAX");
	lua_pushliteral(L, CXM_VERSION_STRING);
	lua_setfield(L, -2, "VERSION");
	lua_pushliteral(L, "cxm " CXM_LUA_VERSION " for " CXM_LUA_HOST);
	lua_setfield(L, -2, "_VERSION");
	return 1;
}
