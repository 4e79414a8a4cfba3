/* A sketch's parameters: its bins' boundaries for a range and an error
 * bound (see sketch.c for why they are logarithmic), and the index that
 * finds a value's bin. The bin of a value is looked up by the top bits of
 * the double (its exponent and first mantissa bits) and then corrected
 * against the stored boundaries, so the lookup's coarseness never reaches
 * the answer. */
#include "cxm_internal.h"
#include "sketch.h"

#include <math.h>

/* a little inside the bound so that rounding of the boundaries cannot push
 * the worst case past the promised a */
#define ALPHA_MARGIN 0.9995

uint32_t cxm__sketch_bins_for(double lo, double hi, double alpha)
{
	double a = alpha * ALPHA_MARGIN;
	double gamma = (1 + a) / (1 - a);
	double nb = ceil(log(hi / lo) / log(gamma)) + 1;
	return nb > (double)UINT32_MAX ? UINT32_MAX : (uint32_t)nb;
}

static inline uint64_t bits_of(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return b;
}

/* The index's cells: a positive double's bits in order are its value in
 * order, so the top bits (exponent, first mantissa bits) name a range of
 * values of relative width at most 2^-(52 - shift). With that below
 * gamma - 1, a cell holds at most one bin boundary. The index stays under
 * IX_MAX cells (a very wide range gets wider cells: more comparisons,
 * the same answers). */
#define IX_MAX 65536u

static void index_shape(const sketch_params *sp, uint32_t *shift, uint64_t *lo, uint32_t *n)
{
	int k = 0;
	while (k < 20 && ldexp(1, -k) > sp->gamma - 1)
		k++;
	for (;; k--) {
		*shift = (uint32_t)(52 - k);
		*lo = bits_of(sp->lo) >> *shift;
		uint64_t m = (bits_of(sp->hi) >> *shift) - *lo + 1;
		if (m <= IX_MAX || k == 0) { /* k 0: one cell per exponent, 2 048 at most */
			*n = (uint32_t)m;
			return;
		}
	}
}

size_t cxm__sketch_params_bytes(const sketch_params *sp)
{
	return sizeof(double) * (sp->nb + 1) + sizeof(uint16_t) * sp->ix_n;
}

cxm_status cxm__sketch_params_init(sketch_params *sp, double lo, double hi, double alpha,
				   void *(*alloc)(void *, size_t), void *opaque)
{
	double a = alpha * ALPHA_MARGIN;
	sp->lo = lo;
	sp->hi = hi;
	sp->alpha = alpha;
	sp->gamma = (1 + a) / (1 - a);
	sp->nb = cxm__sketch_bins_for(lo, hi, alpha);
	if (sp->nb >= UINT32_MAX / sizeof(double)) { /* hi / lo beyond a double, or bins beyond memory */
		sp->bounds = NULL;
		return CXM_ERR_OUT_OF_RANGE;
	}
	index_shape(sp, &sp->ix_shift, &sp->ix_lo, &sp->ix_n);
	sp->bounds = alloc(opaque, cxm__sketch_params_bytes(sp));
	if (!sp->bounds)
		return CXM_ERR_NO_MEMORY;
	double lg = log(sp->gamma);
	sp->bounds[0] = lo;
	for (uint32_t i = 1; i <= sp->nb; i++) {
		double b = lo * exp(lg * i);
		/* keep the boundaries strictly increasing whatever exp rounds to */
		sp->bounds[i] = b > sp->bounds[i - 1] ? b : nextafter(sp->bounds[i - 1], INFINITY);
	}
	if (sp->bounds[sp->nb] < hi)
		sp->bounds[sp->nb] = nextafter(hi, INFINITY);
	/* each cell's bin: that of its lowest value (lo for the first), in
	 * one walk up the boundaries; above 65535 (a range wider than any
	 * metric may define) the lookup's comparisons go the rest */
	uint16_t *ix = (uint16_t *)(void *)(sp->bounds + sp->nb + 1);
	uint32_t i = 0;
	for (uint32_t j = 0; j < sp->ix_n; j++) {
		uint64_t b = (sp->ix_lo + j) << sp->ix_shift;
		double x;
		memcpy(&x, &b, sizeof x);
		while (i + 1 < sp->nb && x >= sp->bounds[i + 1])
			i++;
		ix[j] = (uint16_t)(i < UINT16_MAX ? i : UINT16_MAX);
	}
	sp->index = ix;
	return CXM_OK;
}
