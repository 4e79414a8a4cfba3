/* The ground every other file of lib/ stands on: version and error
 * strings, the per-thread error message, checks of the caller's structs,
 * allocation through the context's allocator (with its max_memory), the
 * clock and mutex helpers, and SipHash-2-4. It calls nothing else of lib/. */
#include "cxm_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int cxm_libversion_number(void)
{
	return CXM_VERSION_NUMBER;
}

const char *cxm_libversion(void)
{
	return CXM_VERSION_STRING;
}

const char *cxm_strerror(int status)
{
	switch (status) {
	case CXM_OK: return "ok";
	case CXM_ERR_INVALID: return "invalid argument";
	case CXM_ERR_UNKNOWN_ID: return "unknown id";
	case CXM_ERR_OUT_OF_RANGE: return "out of range";
	case CXM_ERR_TOO_LATE: return "too late";
	case CXM_ERR_TOO_EARLY: return "too early";
	case CXM_ERR_NOT_FINITE: return "not finite";
	case CXM_ERR_TOO_LONG: return "too long";
	case CXM_ERR_NO_MEMORY: return "out of memory";
	case CXM_ERR_LIMIT: return "limit reached";
	case CXM_ERR_CORRUPT: return "corrupt data";
	case CXM_ERR_IO: return "i/o error";
	case CXM_ERR_VERSION: return "struct version too old";
	case CXM_ERR_UNSUPPORTED: return "struct version too new";
	case CXM_ERR_EXISTS: return "already defined";
	case CXM_ERR_ENCODING: return "bad name encoding";
	case CXM_ERR_KIND: return "wrong metric kind";
	case CXM_ERR_REJECTED: return "some interactions rejected";
	}
	return "unknown status";
}

/* Error messages are per thread: a context is shared by threads that must
 * each see their own failure, and a lock on the error path would be the
 * only lock some callers take. */
static _Thread_local struct {
	const cxm_context *ctx;
	char msg[256];
} tl_err;

cxm_status cxm__fail(const cxm_context *ctx, cxm_status st, const char *fmt, ...)
{
	va_list ap;
	tl_err.ctx = ctx;
	va_start(ap, fmt);
	vsnprintf(tl_err.msg, sizeof tl_err.msg, fmt, ap);
	va_end(ap);
	return st;
}

cxm_numtxt cxm__num(double v)
{
	cxm_numtxt t;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(t.s, sizeof t.s, "%.*g", prec, v);
		if (prec == 17 || strtod(t.s, NULL) == v || v != v)
			break;
	}
	return t;
}

void cxm__wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

const char *cxm_errmsg(const cxm_context *ctx)
{
	if (tl_err.ctx != ctx)
		return "";
	return tl_err.msg;
}

cxm_status cxm__check_out(const cxm_context *ctx, const void *p, size_t min_size, const char *what)
{
	size_t size;
	memcpy(&size, p, sizeof size);
	if (size < min_size)
		return cxm__fail(ctx, CXM_ERR_VERSION,
				 "%s size %zu is smaller than %zu: caller built for an older libcxm",
				 what, size, min_size);
	return CXM_OK;
}

cxm_status cxm__check_struct(const cxm_context *ctx, const void *p, size_t min_size, size_t our_size,
			     const char *what)
{
	cxm_status st = cxm__check_out(ctx, p, min_size, what);
	if (st)
		return st;
	size_t size;
	memcpy(&size, p, sizeof size);
	return cxm__check_tail(ctx, p, size, our_size, what);
}

cxm_status cxm__check_tail(const cxm_context *ctx, const void *p, size_t size, size_t our_size,
			   const char *what)
{
	if (size > our_size) {
		const unsigned char *tail = (const unsigned char *)p + our_size;
		for (size_t i = 0; i < size - our_size; i++)
			if (tail[i] != 0)
				return cxm__fail(ctx, CXM_ERR_UNSUPPORTED,
						 "%s byte %zu is set but this libcxm %s knows only %zu bytes",
						 what, our_size + i, CXM_VERSION_STRING, our_size);
	}
	return CXM_OK;
}

void cxm__put_out(void *out, const void *src, size_t our_size)
{
	size_t size;
	memcpy(&size, out, sizeof size);
	memcpy(out, src, our_size);
	memcpy(out, &size, sizeof size);
	if (size > our_size)
		memset((unsigned char *)out + our_size, 0, size - our_size);
}

/* ---- allocation --------------------------------------------------------- */

void *cxm__alloc(cxm_context *ctx, size_t size)
{
	if (ctx->max_memory &&
	    (size > ctx->max_memory ||
	     atomic_load_explicit(&ctx->memory, memory_order_relaxed) > ctx->max_memory - size))
		return NULL;
	void *p = ctx->alloc.alloc(ctx->alloc.opaque, size ? size : 1);
	if (p)
		atomic_fetch_add_explicit(&ctx->memory, size, memory_order_relaxed);
	return p;
}

void *cxm__calloc(cxm_context *ctx, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = cxm__alloc(ctx, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void cxm__free(cxm_context *ctx, void *p, size_t size)
{
	if (!p)
		return;
	atomic_fetch_sub_explicit(&ctx->memory, size, memory_order_relaxed);
	ctx->alloc.free(ctx->alloc.opaque, p);
}

char *cxm__strdup(cxm_context *ctx, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = cxm__alloc(ctx, n);
	if (d)
		memcpy(d, s, n);
	return d;
}

void cxm__strfree(cxm_context *ctx, char *s)
{
	if (s)
		cxm__free(ctx, s, strlen(s) + 1);
}

int cxm__mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	if (pthread_mutexattr_init(&a))
		return -1;
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
	int rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

int64_t cxm__now(const cxm_context *ctx)
{
	return ctx->clock(ctx->clock_opaque);
}

void cxm__reject(cxm_context *ctx, cxm_status st)
{
	if ((unsigned)st < CXM_STATUS_COUNT)
		atomic_fetch_add_explicit(&ctx->rejected[st], 1, memory_order_relaxed);
}

/* ---- config --------------------------------------------------------------- */

cxm_status cxm__init_struct(void *p, size_t size, size_t min_size, const char *what,
			   const char *param)
{
	if (!p)
		return cxm__fail(NULL, CXM_ERR_INVALID, "%s is NULL", param);
	if (size < min_size)
		return cxm__fail(NULL, CXM_ERR_VERSION, "%s size %zu is smaller than %zu", what, size,
				 min_size);
	memset(p, 0, size);
	memcpy(p, &size, sizeof size);
	return CXM_OK;
}

/* ---- SipHash-2-4 ---------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                               \
	do {                                                                                   \
		v0 += v1;                                                                      \
		v1 = rotl(v1, 13);                                                             \
		v1 ^= v0;                                                                      \
		v0 = rotl(v0, 32);                                                             \
		v2 += v3;                                                                      \
		v3 = rotl(v3, 16);                                                             \
		v3 ^= v2;                                                                      \
		v0 += v3;                                                                      \
		v3 = rotl(v3, 21);                                                             \
		v3 ^= v0;                                                                      \
		v2 += v1;                                                                      \
		v1 = rotl(v1, 17);                                                             \
		v1 ^= v2;                                                                      \
		v2 = rotl(v2, 32);                                                             \
	} while (0)

void cxm__siphash(const uint64_t key[2], const void *data, size_t len, int outlen, uint64_t out[2])
{
	const unsigned char *in = data;
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
	if (outlen == 16)
		v1 ^= 0xee;
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = cxm__le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= outlen == 16 ? 0xee : 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	if (outlen != 16)
		return;
	v1 ^= 0xdd;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	out[1] = v0 ^ v1 ^ v2 ^ v3;
}

cxm_status cxm__check_customer_id(const cxm_context *ctx, const void *id, size_t len)
{
	if (!ctx || !id || !len)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s", !ctx ? "ctx is NULL" : !id ? "id is NULL" : "len is 0");
	if (len > ctx->max_customer_id_len)
		return cxm__fail(ctx, CXM_ERR_TOO_LONG, "customer id of %zu bytes is longer than %u", len,
				 ctx->max_customer_id_len);
	return CXM_OK;
}

void cxm__customer_hash(const cxm_context *ctx, const void *id, size_t len, uint64_t h[2])
{
	cxm__siphash(ctx->key, id, len, 16, h);
	if (h[0] == 0 && h[1] == 0)
		h[0] = 1;
}

cxm_status cxm__relay(const cxm_context *ctx, cxm_status st, const cxm_context *from, const char *fmt, ...)
{
	/* from's message is where cxm__fail writes (per thread): copy it first */
	char msg[256], what[256];
	snprintf(msg, sizeof msg, "%s", cxm_errmsg(from));
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return cxm__fail(ctx, st, "%s: %s", what, msg);
}
