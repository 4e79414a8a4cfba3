/* HyperLogLog cells: the registers of a DISTINCT metric's buckets, and
 * the estimate of how many distinct customers they saw. */
#include "cxm_internal.h"

#include <math.h>

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
	dst->dn = cell_add(dst->dn, src->dn);
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

/* Ertl's improved estimator ("New cardinality estimation algorithms for
 * HyperLogLog sketches", 2017): the registers' histogram C[0 .. q+1], with
 * the contributions of empty (sigma) and saturated (tau) registers in
 * closed form, so that no switch to linear counting, and no bias table, is
 * needed: the classic estimator's switch near 2.5 m left a bias of about
 * 3 % there (n ~ 10 000 at p = 12). */
static double hll_sigma(double x)
{
	if (x == 1)
		return INFINITY;
	double y = 1, z = x, prev;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

static double hll_tau(double x)
{
	if (x == 0 || x == 1)
		return 0;
	double y = 1, z = 1 - x, prev;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != prev);
	return z / 3;
}

double cxm__hll_estimate(const metric *m, const hll_cell *c)
{
	if (!c->has_regs)
		return 0;
	const uint32_t p = m->def.precision, q = 64 - p;
	const size_t n = (size_t)1 << p;
	uint32_t hist[64 + 2] = {0};
	for (size_t i = 0; i < n; i++)
		hist[c->reg[i] <= q + 1 ? c->reg[i] : q + 1]++;
	const double mm = (double)n;
	double z = mm * hll_tau(1 - hist[q + 1] / mm);
	for (uint32_t k = q; k >= 1; k--)
		z = 0.5 * (z + hist[k]);
	z += mm * hll_sigma(hist[0] / mm);
	if (isinf(z))
		return 0;
	return mm * mm / (2 * log(2) * z);
}
