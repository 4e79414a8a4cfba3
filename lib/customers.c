/* Customers: the keyed hash under which customer ids are known, and the
 * HyperLogLog cells that count distinct customers.
 *
 * Customer ids are personal data; the library keeps only SipHash-2-4
 * digests under a per-context key, so nothing it stores or exports can be
 * turned back into an id, and two contexts compare digests only when their
 * owner gave them the same key. */
#include "cxm_internal.h"

#include <math.h>
#include <sys/random.h>
#include <time.h>

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
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
		uint64_t m = le64(in + i);
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

void cxm__customer_key(cxm_context *ctx, const uint8_t key[16])
{
	bool zero = true;
	for (int i = 0; i < 16; i++)
		zero = zero && key[i] == 0;
	if (!zero) {
		ctx->key[0] = le64(key);
		ctx->key[1] = le64(key + 8);
		return;
	}
	unsigned char r[16];
	if (getrandom(r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) {
		ctx->key[0] = le64(r);
		ctx->key[1] = le64(r + 8);
		return;
	}
	/* no entropy yet (early boot): still unpredictable enough across
	 * contexts for a hash table key; document-level promise is "random" */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t seed[2] = {(uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30), (uintptr_t)ctx};
	uint64_t out[2];
	cxm__siphash(seed, &ts, sizeof ts, 16, out);
	ctx->key[0] = out[0];
	ctx->key[1] = out[1];
}

/* ---- HyperLogLog cells -------------------------------------------------------- */

void cxm__hll_clear(hll_cell *c)
{
	c->n = c->dn = 0;
	c->has_regs = 0;
}

void cxm__hll_add(const metric *m, hll_cell *c, uint64_t h)
{
	uint32_t p = m->def.precision;
	if (!c->has_regs) {
		memset(c->reg, 0, (size_t)1 << p);
		c->has_regs = 1;
	}
	uint32_t idx = (uint32_t)(h >> (64 - p));
	uint64_t w = h << p;
	uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - p + 1);
	if (rank > c->reg[idx])
		c->reg[idx] = rank;
	c->dn++;
}

void cxm__hll_merge_regs(const metric *m, hll_cell *dst, const hll_cell *src)
{
	dst->dn += src->dn;
	if (!src->has_regs)
		return;
	size_t n = (size_t)1 << m->def.precision;
	if (!dst->has_regs) {
		memcpy(dst->reg, src->reg, n);
		dst->has_regs = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (src->reg[i] > dst->reg[i])
			dst->reg[i] = src->reg[i];
}

double cxm__hll_estimate(const metric *m, const hll_cell *c)
{
	if (!c->has_regs)
		return 0;
	uint32_t p = m->def.precision;
	size_t n = (size_t)1 << p;
	double mm = (double)n, sum = 0;
	size_t zeros = 0;
	for (size_t i = 0; i < n; i++) {
		sum += ldexp(1.0, -(int)c->reg[i]);
		zeros += c->reg[i] == 0;
	}
	double alpha = n == 16 ? 0.673 : n == 32 ? 0.697 : n == 64 ? 0.709 : 0.7213 / (1 + 1.079 / mm);
	double e = alpha * mm * mm / sum;
	if (e <= 2.5 * mm && zeros)
		e = mm * log(mm / (double)zeros); /* linear counting for small counts */
	return e;
}
