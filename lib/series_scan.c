/* Reading a series: the buckets whose start lies in a window, merged
 * into an accumulator (queries, exports, alerts through them), and the
 * walk over a tier's buckets that snapshots write them with. Nothing
 * here changes a series. */
#include "cell.h"
#include "series.h"

/* ---- reading a window ---------------------------------------------------------- */

static inline int64_t ceildiv64(int64_t a, int64_t b)
{
	return -floordiv64(-a, b);
}

static inline void merge_part(const metric *m, void *acc, const void *cell, enum read_part part)
{
	if (part == READ_ALL)
		cell_merge(m, acc, cell);
	else if (m->def.kind == CXM_KIND_DISTINCT && part == READ_MOMENTS)
		((hll_cell *)acc)->n += ((const hll_cell *)cell)->n;
	else if (m->def.kind == CXM_KIND_DISTINCT)
		cxm__hll_merge_regs(m, acc, cell);
	else if (part == READ_MOMENTS)
		cxm__sketch_merge_moments(acc, cell);
	else
		cxm__sketch_merge_dist(acc, cell);
}

void cxm__series_read(const cxm_context *ctx, const series *s, int64_t a, int64_t b, void *acc,
		      enum read_part part)
{
	uint32_t k0 = part == READ_DIST ? s->m->bins_tier : 0;
	if (k0 == 0 && s->hot_epoch != TAG_EMPTY) {
		int64_t start = s->hot_epoch * ctx->tiers[0].bucket_ms;
		if (start >= a && start < b)
			merge_part(s->m, acc, s->hot, part);
	}
	for (uint32_t k = k0; k < ctx->n_tiers; k++) {
		if (s->top[k] == TAG_EMPTY || !s->pages[k])
			continue;
		const int64_t w = ctx->tiers[k].bucket_ms, n = ctx->tiers[k].buckets;
		int64_t lo = ceildiv64(a, w), hi = ceildiv64(b, w) - 1; /* starts in [a, b) */
		if (lo < s->top[k] - n + 1)
			lo = s->top[k] - n + 1;
		if (hi > s->top[k])
			hi = s->top[k];
		if (lo > hi)
			continue;
		/* a page at a time: its slots in [idx, the page's or the ring's
		 * end), those of a missing page skipped together */
		const uint32_t mask = page_mask(s->m, k), shift = s->m->page_shift[k];
		uint32_t idx = slot_of(s, k, n, lo);
		for (int64_t x = lo; x <= hi;) {
			uint32_t run = mask - (idx & mask) + 1;
			if (run > (uint32_t)n - idx)
				run = (uint32_t)n - idx;
			if ((int64_t)run > hi - x + 1)
				run = (uint32_t)(hi - x + 1);
			page *p = s->dir[k][idx >> shift];
			if (p)
				for (uint32_t j = 0, at = idx & mask; j < run; j++)
					if (p->tag[at + j] == x + j)
						merge_part(s->m, acc, page_cell(s->m, p, k, idx + j), part);
			x += run;
			idx += run;
			if (idx == n)
				idx = 0;
		}
	}
}

/* ---- walking a tier's buckets (snapshots, merges) --------------------------------- */

uint32_t cxm__series_buckets(const cxm_context *ctx, const series *s, uint32_t k)
{
	uint32_t used = 0;
	if (s->dir[k])
		for (uint32_t i = 0; i < n_pages(ctx, k); i++)
			used += s->dir[k][i] ? s->dir[k][i]->used : 0;
	return used;
}

void cxm__series_each(const cxm_context *ctx, const series *s, uint32_t k, series_visit_fn fn,
		      void *arg)
{
	if (!s->pages[k])
		return;
	for (uint32_t i = 0; i < ctx->tiers[k].buckets; i++) {
		page *p = s->dir[k][(i >> s->m->page_shift[k])];
		if (!p) {
			i += page_mask(s->m, k) - (i & page_mask(s->m, k));
			continue;
		}
		if (p->tag[(i & page_mask(s->m, k))] != TAG_EMPTY)
			fn(arg, p->tag[(i & page_mask(s->m, k))], page_cell(s->m, p, k, i));
	}
}
