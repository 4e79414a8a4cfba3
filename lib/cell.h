/* The bytes of a cell, for the cell code (cell.c) and the series code
 * that moves cells between buckets on every roll-up (window.c), which
 * inlines the clear and the merge. Not API. */
#ifndef CXM_CELL_H
#define CXM_CELL_H

#include "cxm_internal.h"
#include "sketch.h"

#include <math.h>
#include <string.h>

/* A value of bin i (cxm__sketch_bin_of) into c's distribution: the common
 * case inline (sketch.h), any other in sketch.c. */
static inline void cxm__sketch_add_dist_bin(const sketch_params *sp, sketch_cell *c, double v,
					    uint32_t i)
{
	if (!cxm__sketch_add_dist_fast(c, v, i))
		cxm__sketch_add_dist_bin_any(sp, c, v, i);
}

/* A value into c's distribution; returns its bin (UINT32_MAX: 0, under,
 * over), for the next cell it goes to. */
static inline uint32_t cxm__sketch_add_dist(const sketch_params *sp, sketch_cell *c, double v)
{
	uint32_t i = cxm__sketch_bin_of(sp, v);
	cxm__sketch_add_dist_bin(sp, c, v, i);
	return i;
}

/* The moments AMOUNT and SENTIMENT cells begin with. */
typedef struct moments {
	uint64_t n;
	double sum, sumsq, min, max;
} moments;

typedef struct amount_cell {
	moments m;
	uint64_t na; /* only with has_na (the cell is 8 bytes longer) */
} amount_cell;

/* A SENTIMENT cell: an AMOUNT cell's moments, the counts of positive and
 * negative scores, then (only with has_na) the no-answer count. */
typedef struct sentiment_cell {
	moments m;
	uint64_t pos, neg;
	uint64_t na;
} sentiment_cell;

static inline void moments_clear(moments *a)
{
	a->n = 0;
	a->sum = a->sumsq = 0;
	a->min = INFINITY;
	a->max = -INFINITY;
}

static inline void moments_merge(moments *d, const moments *s)
{
	d->n = cell_add(d->n, s->n);
	d->sum = sum_add(d->sum, s->sum, CELL_SUM_MAX);
	d->sumsq = sum_add(d->sumsq, s->sumsq, CELL_SUMSQ_MAX);
	if (s->min < d->min)
		d->min = s->min;
	if (s->max > d->max)
		d->max = s->max;
}

/* cxm__cell_clear() */
static inline void cell_clear(const metric *m, void *cell)
{
	switch (m->def.kind) {
	case CXM_KIND_DURATION: cxm__sketch_clear(&m->sk, cell); break;
	case CXM_KIND_DISTINCT: cxm__hll_clear(cell); break;
	case CXM_KIND_AMOUNT:
	case CXM_KIND_SENTIMENT:
		memset(cell, 0, m->cell_size); /* the counts after the moments */
		moments_clear(cell);
		break;
	default: memset(cell, 0, m->cell_size); break;
	}
}

/* cxm__cell_merge() */
static inline void cell_merge(const metric *m, void *dst, const void *src)
{
	switch (m->def.kind) {
	case CXM_KIND_DURATION: cxm__sketch_merge(&m->sk, dst, src); break;
	case CXM_KIND_DISTINCT:
		((hll_cell *)dst)->n = cell_add(((hll_cell *)dst)->n, ((const hll_cell *)src)->n);
		cxm__hll_merge_regs(m, dst, src);
		break;
	case CXM_KIND_AMOUNT: {
		amount_cell *d = dst;
		const amount_cell *s = src;
		moments_merge(&d->m, &s->m);
		if (m->def.has_na)
			d->na = cell_add(d->na, s->na);
		break;
	}
	case CXM_KIND_SENTIMENT: {
		sentiment_cell *d = dst;
		const sentiment_cell *s = src;
		moments_merge(&d->m, &s->m);
		d->pos = cell_add(d->pos, s->pos);
		d->neg = cell_add(d->neg, s->neg);
		if (m->def.has_na)
			d->na = cell_add(d->na, s->na);
		break;
	}
	default: {
		/* counts are at most CELL_COUNT_MAX (2^62), so their sums cannot
		 * wrap: add in one pass the compiler vectorizes, noting whether a
		 * sum went over (bit 63 of sum + 2^62 - 1), then, rarely, clamp */
		uint64_t *d = dst, over = 0;
		const uint64_t *s = src;
		size_t n = m->cell_size / sizeof(uint64_t);
		for (size_t i = 0; i < n; i++) {
			const uint64_t x = d[i] + s[i];
			over |= (x + (CELL_COUNT_MAX - 1)) >> 63;
			d[i] = x;
		}
		for (size_t i = 0; over && i < n; i++)
			d[i] = d[i] > CELL_COUNT_MAX ? CELL_COUNT_MAX : d[i];
		break;
	}
	}
}

#endif
