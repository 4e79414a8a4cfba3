/* Reading a series: the buckets whose start lies in a window, merged
 * into an accumulator (queries, exports, alerts through them), and the
 * walk over a tier's buckets that snapshots write them with, and adding
 * one series' buckets into another's. Nothing else here changes what a
 * series holds; a query (cxm__series_read_cached)
 * keeps the merge of an hour's minutes in the series' query cache, so
 * that a window over whole hours of the finest ring merges one cell per
 * hour instead of sixty. */
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

/* Buckets lo .. hi of tier k (within its ring) into acc: a page at a
 * time, its slots in [idx, the page's or the ring's end), those of a
 * missing page skipped together. */
static void read_tier(const cxm_context *ctx, const series *s, uint32_t k, int64_t lo, int64_t hi,
		      void *acc, enum read_part part)
{
	const int64_t n = ctx->tiers[k].buckets;
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

/* The query cache's merge of second-tier bucket h (finest buckets h * r
 * .. h * r + r - 1, all within the finest ring), made now unless it holds;
 * NULL when no memory can be had for it. */
static void *qc_get(const cxm_context *ctx, series *s, int64_t h, int64_t r)
{
	const int i = qc_slot(h);
	if (s->qc && s->qc_h[i] == h)
		return qc_cell(s, i);
	const metric *m = s->m;
	if (!s->qc) {
		cxm_context *c = (cxm_context *)ctx;
		const size_t size = QC_SLOTS * m->cell_size;
		/* under max_memory, the cache takes at most a sixteenth of it:
		 * the rest stays for what feeding needs */
		uint64_t was = atomic_fetch_add_explicit(&c->qcache, size, memory_order_relaxed);
		void *cells = c->max_memory && was + size > c->max_memory / 16 ? NULL : cxm__alloc(c, size);
		if (!cells) {
			atomic_fetch_sub_explicit(&c->qcache, size, memory_order_relaxed);
			return NULL;
		}
		s->qc = cells;
		for (int k = 0; k < QC_SLOTS; k++)
			cxm__cell_init_full(m, qc_cell(s, k));
	}
	void *cell = qc_cell(s, i);
	cell_clear(m, cell);
	read_tier(ctx, s, 0, h * r, h * r + r - 1, cell, READ_ALL);
	s->qc_h[i] = h;
	return cell;
}

/* The finest tier's buckets lo .. hi: whole second-tier buckets from the
 * query cache (cache: the caller holds the shard's lock), the rest one
 * by one. A second-tier bucket counts as whole when the range reaches
 * its start or the ring's oldest bucket, and its end or the ring's
 * newest (no ring bucket lies outside those): a window ending now reads
 * the current hour from its cache too, which the feed keeps up to date
 * as each minute closes, and a window reaching past the ring its oldest,
 * partly rolled up, hour. */
static void read_finest(const cxm_context *ctx, series *s, int64_t lo, int64_t hi, void *acc,
			enum read_part part, bool cache)
{
	const int64_t r = cache ? qc_group(ctx, s) : 0;
	if (!r || hi - lo + 1 < r) {
		read_tier(ctx, s, 0, lo, hi, acc, part);
		return;
	}
	int64_t x = ceildiv64(lo, r) * r;
	/* the ring's oldest bucket starts the range: no ring bucket lies
	 * before it, so its second-tier bucket is whole from there on (its
	 * cache goes as each of its buckets leaves the ring) */
	if (x > lo && lo == s->top[0] - (int64_t)ctx->tiers[0].buckets + 1 && x - 1 <= hi)
		x -= r;
	else if (x > lo)
		read_tier(ctx, s, 0, lo, x - 1 < hi ? x - 1 : hi, acc, part);
	for (; x <= hi && (x + r - 1 <= hi || hi == s->top[0]); x += r) {
		const void *c = qc_get(ctx, s, x / r, r);
		if (c)
			merge_part(s->m, acc, c, part);
		else
			read_tier(ctx, s, 0, x < lo ? lo : x, x + r - 1 < hi ? x + r - 1 : hi, acc, part);
	}
	if (x <= hi)
		read_tier(ctx, s, 0, x, hi, acc, part);
}

static void series_read(const cxm_context *ctx, series *s, int64_t a, int64_t b, void *acc,
			enum read_part part, bool cache)
{
	uint32_t k0 = part == READ_DIST ? s->m->bins_tier : 0;
	if (k0 == 0) { /* the header's buckets: the hot and the warm one */
		const int64_t w0 = ctx->tiers[0].bucket_ms;
		if (s->hot_epoch != TAG_EMPTY && s->hot_epoch * w0 >= a && s->hot_epoch * w0 < b)
			merge_part(s->m, acc, s->hot, part);
		if (s->warm_epoch != TAG_EMPTY && s->warm_epoch * w0 >= a && s->warm_epoch * w0 < b)
			merge_part(s->m, acc, s->warm, part);
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
		if (k == 0)
			read_finest(ctx, s, lo, hi, acc, part, cache);
		else
			read_tier(ctx, s, k, lo, hi, acc, part);
	}
}

void cxm__series_read(const cxm_context *ctx, const series *s, int64_t a, int64_t b, void *acc,
		      enum read_part part)
{
	/* without the cache nothing is written: the cast is for the signature */
	series_read(ctx, (series *)s, a, b, acc, part, false);
}

void cxm__series_read_cached(const cxm_context *ctx, series *s, int64_t a, int64_t b, void *acc,
			     enum read_part part)
{
	series_read(ctx, s, a, b, acc, part, true);
}

/* ---- walking a tier's buckets (snapshots, merges) --------------------------------- */

uint32_t cxm__series_buckets(const cxm_context *ctx, const series *s, uint32_t k)
{
	uint32_t used = k == 0 && s->warm_epoch != TAG_EMPTY;
	if (s->dir[k])
		for (uint32_t i = 0; i < n_pages(ctx, k); i++)
			used += s->dir[k][i] ? s->dir[k][i]->used : 0;
	return used;
}

void cxm__series_each(const cxm_context *ctx, const series *s, uint32_t k, series_visit_fn fn,
		      void *arg)
{
	/* the warm bucket is one of the finest tier's, whose slot holds none */
	if (k == 0 && s->warm_epoch != TAG_EMPTY)
		fn(arg, s->warm_epoch, s->warm);
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

/* ---- adding a series into another ---------------------------------------------------- */

typedef struct add_arg {
	cxm_context *dst;
	series *d;
	uint32_t k;
} add_arg;

static void add_bucket(void *arg, int64_t e, const void *cell)
{
	add_arg *a = arg;
	if (!cxm__series_merge_bucket(a->dst, a->d, a->k, e, cell))
		cxm__series_lost(a->dst);
}

void cxm__series_add(cxm_context *dst, series *d, const cxm_context *src, const series *s)
{
	if (s->hot_epoch != TAG_EMPTY && !cxm__series_merge_bucket(dst, d, 0, s->hot_epoch, s->hot))
		cxm__series_lost(dst);
	for (uint32_t k = 0; k < src->n_tiers; k++) {
		add_arg a = {dst, d, k};
		cxm__series_each(src, s, k, add_bucket, &a);
	}
	if (s->life && d->life)
		cxm__cell_merge(d->m, d->life, s->life);
}
