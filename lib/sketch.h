/* The quantile sketch's per-value steps (sketch.c owns the sketch),
 * inline: they run for every DURATION value, twice (its minute's cell,
 * the lifetime one). Nothing here calls into sketch.c. Not API. */
#ifndef CXM_SKETCH_H
#define CXM_SKETCH_H

#include "cxm_internal.h"

static inline void cxm__sketch_add_moments(sketch_cell *c, double v)
{
	c->n++;
	c->sum += v;
	c->sumsq += v * v;
	/* selects, not branches: measured faster (fold_bench, 8.3 against
	 * 11.3 ns a duration) */
	c->min = v < c->min ? v : c->min;
	c->max = v > c->max ? v : c->max;
}

/* The bin of v in [lo, hi] by the boundaries; below lo 0, above hi the
 * boundaries' bin up to nb - 1 (NaN: nb - 1). */
static inline uint32_t cxm__sketch_bin(const sketch_params *sp, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	uint64_t j = (bits >> sp->ix_shift) - sp->ix_lo;
	if (j >= sp->ix_n) /* outside [lo, hi]'s cells (below: wrapped) */
		return v < sp->lo ? 0 : sp->nb - 1;
	uint32_t i = sp->index[j];
	const double *b = sp->bounds;
	while (i + 1 < sp->nb && v >= b[i + 1])
		i++;
	return i;
}

/* The common case of adding value v of bin i (UINT32_MAX: 0, under or
 * over) to c's distribution: a bin inside the used range of a range or
 * full store (which always holds that range) whose count is below its
 * maximum. False: nothing done, cxm__sketch_add_dist_bin_any's turn
 * (cell.h puts the two together). */
static inline bool cxm__sketch_add_dist_fast(sketch_cell *c, double v, uint32_t i)
{
	if (i < c->lo_bin || i > c->hi_bin || (c->cap & SKETCH_PACKED) || c->bins[i - c->base] == UINT32_MAX)
		return false;
	c->bins[i - c->base]++;
	c->dmin = v < c->dmin ? v : c->dmin;
	c->dmax = v > c->dmax ? v : c->dmax;
	return true;
}

/* The bin v goes to in a sketch of sp: UINT32_MAX for 0, under and over
 * (lo > 0: NaN too). */
static inline uint32_t cxm__sketch_bin_of(const sketch_params *sp, double v)
{
	return v >= sp->lo && v <= sp->hi ? cxm__sketch_bin(sp, v) : UINT32_MAX;
}

#endif
