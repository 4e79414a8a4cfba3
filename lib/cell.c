/* Cells: the bytes of one time bucket of one metric, by kind, and the
 * fold of a value, the merge of two cells and their clearing. Every
 * other file treats a cell as opaque bytes of the metric's cell size,
 * except where docs/architecture.md says so (the readers that
 * accumulate them). A DURATION's and a DISTINCT's cells are the
 * sketch's and HyperLogLog's (sketch.c, hll.c). */
#include "cell.h"

/* ---- cells ------------------------------------------------------------------ */

static void moments_add(moments *a, double v)
{
	a->n++;
	a->sum += v;
	a->sumsq += v * v;
	if (v < a->min)
		a->min = v;
	if (v > a->max)
		a->max = v;
}

void cxm__cell_clear(const metric *m, void *cell)
{
	cell_clear(m, cell);
}

void cxm__cell_init_full(const metric *m, void *cell)
{
	if (m->def.kind == CXM_KIND_DURATION)
		cxm__sketch_init(&m->sk, cell, true);
	else
		cxm__cell_clear(m, cell);
}

void cxm__cell_fold(const metric *m, void *cell, uint32_t item, double v)
{
	uint64_t *c = cell;
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		if (cxm__is_na(m, v))
			c[0]++;
		else
			c[1 + item * m->points + (uint32_t)((int32_t)v - m->def.scale_min)]++;
		break;
	case CXM_KIND_RATE:
		if (cxm__is_na(m, v)) {
			c[2]++; /* after the count and the yes count */
			break;
		}
		c[0]++;
		c[1] += v != 0;
		break;
	case CXM_KIND_VOLUME: c[0]++; break;
	case CXM_KIND_AMOUNT: {
		amount_cell *a = cell;
		if (cxm__is_na(m, v))
			a->na++;
		else
			moments_add(&a->m, v);
		break;
	}
	case CXM_KIND_DURATION:
		if (cxm__is_na(m, v))
			((sketch_cell *)cell)->na++;
		else
			cxm__sketch_add(&m->sk, cell, v);
		break;
	case CXM_KIND_SENTIMENT: {
		sentiment_cell *a = cell;
		if (cxm__is_na(m, v)) {
			a->na++;
			break;
		}
		moments_add(&a->m, v);
		a->pos += v >= (double)m->def.top_min[0] / 100;
		a->neg += v <= (double)m->def.bottom_max[0] / 100;
		break;
	}
	case CXM_KIND_DISTINCT: break; /* fed by cxm__hll_add with the customer's hash */
	}
}

static inline uint64_t cell_na(const metric *m, const void *cell)
{
	const uint64_t *c = cell;
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX: return c[0];
	case CXM_KIND_RATE: return m->def.has_na ? c[2] : 0;
	case CXM_KIND_AMOUNT: return m->def.has_na ? ((const amount_cell *)cell)->na : 0;
	case CXM_KIND_SENTIMENT: return m->def.has_na ? ((const sentiment_cell *)cell)->na : 0;
	case CXM_KIND_DURATION: return ((const sketch_cell *)cell)->na;
	default: return 0;
	}
}

uint64_t cxm__cell_na(const metric *m, const void *cell)
{
	return cell_na(m, cell);
}

void cxm__cell_merge(const metric *m, void *dst, const void *src)
{
	cell_merge(m, dst, src);
}

void cxm__cell_totals(const metric *m, const void *cell, cell_totals *t)
{
	const uint64_t *c = cell;
	*t = (cell_totals){.na = cell_na(m, cell)};
	switch (m->def.kind) {
	case CXM_KIND_RATE:
		t->n = c[0];
		t->yes = c[1];
		break;
	case CXM_KIND_VOLUME: t->n = c[0]; break;
	case CXM_KIND_AMOUNT: {
		const amount_cell *a = cell;
		t->n = a->m.n;
		t->sum = a->m.sum;
		break;
	}
	case CXM_KIND_SENTIMENT: {
		const sentiment_cell *a = cell;
		t->n = a->m.n;
		t->sum = a->m.sum;
		t->positive = a->pos;
		t->negative = a->neg;
		break;
	}
	case CXM_KIND_DURATION: {
		const sketch_cell *a = cell;
		t->n = a->n;
		t->sum = a->sum;
		break;
	}
	case CXM_KIND_DISTINCT: t->n = ((const hll_cell *)cell)->n; break;
	default: break; /* SCORE, INDEX: their points (cxm__cell_points) */
	}
}

const uint64_t *cxm__cell_points(const metric *m, const void *cell, uint32_t q)
{
	return (const uint64_t *)cell + 1 + (size_t)q * m->points;
}
