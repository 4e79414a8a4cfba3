/* Series: tiered rings of time buckets, and the cells they hold.
 *
 * Feeding writes only the finest tier. When a tier's ring must reuse a slot
 * for a newer bucket, the buckets falling out of it are added into the next
 * tier (and the coarsest tier's simply expire). So every datum lives in
 * exactly one bucket of one tier, the finest that still covers its time,
 * and a window is the sum of the buckets whose start lies in it. Rolling up
 * costs one merge per bucket per tier, paid by the feeder that moves a
 * series forward, never by a query.
 *
 * Layout of a series: the header, then the int64 epoch tag of every slot of
 * every tier, then the cells of every slot. Tags and cells are apart so
 * that untouched cells of a large series are never written (and, for big
 * allocations, never even paged in). One more cell, the lifetime cell
 * (series.life, read by export.c), holds everything ever folded and is
 * never rolled up or expired: after the hot cell in the header, or after
 * the rings for a DURATION, whose full cell is large. */
#include "cxm_internal.h"

#include <math.h>

/* ---- cells ------------------------------------------------------------------ */

typedef struct amount_cell {
	uint64_t n;
	double sum, sumsq, min, max;
} amount_cell;

void cxm__cell_clear(const metric *m, void *cell)
{
	switch (m->def.kind) {
	case CXM_KIND_DURATION: cxm__sketch_clear(&m->sk, cell); break;
	case CXM_KIND_DISTINCT: cxm__hll_clear(cell); break;
	case CXM_KIND_AMOUNT: {
		amount_cell *a = cell;
		a->n = 0;
		a->sum = a->sumsq = 0;
		a->min = INFINITY;
		a->max = -INFINITY;
		break;
	}
	default: memset(cell, 0, m->cell_size); break;
	}
}

void cxm__cell_fold(const metric *m, void *cell, uint32_t item, double v)
{
	uint64_t *c = cell;
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		if (m->def.has_na && v == (double)m->def.na_value)
			c[0]++;
		else
			c[1 + item * m->points + (uint32_t)((int32_t)v - m->def.scale_min)]++;
		break;
	case CXM_KIND_RATE:
		c[0]++;
		c[1] += v != 0;
		break;
	case CXM_KIND_VOLUME: c[0]++; break;
	case CXM_KIND_AMOUNT: {
		amount_cell *a = cell;
		a->n++;
		a->sum += v;
		a->sumsq += v * v;
		if (v < a->min)
			a->min = v;
		if (v > a->max)
			a->max = v;
		break;
	}
	case CXM_KIND_DURATION: cxm__sketch_add(&m->sk, cell, v); break;
	case CXM_KIND_DISTINCT: break; /* fed by cxm__hll_add with the customer's hash */
	}
}

void cxm__cell_merge(const metric *m, void *dst, const void *src)
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
		d->n = cell_add(d->n, s->n);
		d->sum = sum_add(d->sum, s->sum, CELL_SUM_MAX);
		d->sumsq = sum_add(d->sumsq, s->sumsq, CELL_SUMSQ_MAX);
		if (s->min < d->min)
			d->min = s->min;
		if (s->max > d->max)
			d->max = s->max;
		break;
	}
	default: {
		uint64_t *d = dst;
		const uint64_t *s = src;
		size_t n = m->cell_size / sizeof(uint64_t);
		for (size_t i = 0; i < n; i++)
			d[i] = cell_add(d[i], s[i]);
		break;
	}
	}
}

/* ---- series ------------------------------------------------------------------- */

static inline int64_t *tags(const cxm_context *ctx, const series *s, uint32_t k)
{
	return (int64_t *)(void *)s->data + ctx->tier_base[k];
}

static inline void *cell_at(const cxm_context *ctx, const series *s, uint32_t k, uint32_t idx)
{
	size_t off = sizeof(int64_t) * ctx->tier_base[ctx->n_tiers] + s->m->tier_off[k] +
		     s->m->tier_cell[k] * idx;
	return (void *)(s->data + off);
}

/* A DURATION keeps its distribution from the second tier up, so the finest
 * tier (many small buckets, rolled up every minute) holds only moments. */
void cxm__metric_layout(const cxm_context *ctx, metric *m)
{
	size_t off = 0;
	m->bins_tier = 0;
	bool two_part = m->def.kind == CXM_KIND_DURATION || m->def.kind == CXM_KIND_DISTINCT;
	if (two_part && ctx->n_tiers > 1)
		m->bins_tier = 1;
	size_t head = m->def.kind == CXM_KIND_DISTINCT ? sizeof(hll_cell) : sizeof(sketch_cell);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		m->tier_cell[k] = k < m->bins_tier ? head : m->cell_size;
		m->tier_off[k] = off;
		off += m->tier_cell[k] * ctx->tiers[k].buckets;
	}
	m->ring_size = sizeof(int64_t) * ctx->tier_base[ctx->n_tiers] + off;
	/* the lifetime cell: small ones share the header's cache lines with the
	 * hot cell; a DURATION's (with its bins) goes after the rings */
	m->life_size = m->def.kind == CXM_KIND_DISTINCT ? 0 : m->cell_size;
	bool life_in_head = m->def.kind != CXM_KIND_DURATION;
	m->head_size = sizeof(series) + m->tier_cell[0] + (life_in_head ? m->life_size : 0);
	m->data_size = m->ring_size + (life_in_head ? 0 : m->life_size);
	m->series_size = m->head_size + m->data_size;
}

size_t cxm__series_size(const cxm_context *ctx, const metric *m)
{
	(void)ctx;
	return m->series_size;
}

series *cxm__series_new(cxm_context *ctx, const metric *m)
{
	series *s = cxm__alloc(ctx, m->head_size);
	if (!s)
		return NULL;
	s->data = cxm__alloc(ctx, m->data_size);
	if (!s->data) {
		cxm__free(ctx, s, m->head_size);
		return NULL;
	}
	s->m = m;
	s->hot_epoch = s->bins_epoch = TAG_EMPTY;
	s->bins_cell = NULL;
	s->life = NULL;
	if (m->life_size) {
		s->life = m->def.kind == CXM_KIND_DURATION
				  ? (void *)(s->data + m->ring_size)
				  : (void *)((unsigned char *)s->hot + m->tier_cell[0]);
		cxm__cell_clear(m, s->life);
	}
	for (uint32_t k = 0; k < CXM_MAX_TIERS; k++)
		s->top[k] = TAG_EMPTY;
	int64_t *t = tags(ctx, s, 0);
	for (uint32_t i = 0; i < ctx->tier_base[ctx->n_tiers]; i++)
		t[i] = TAG_EMPTY;
	return s;
}

void cxm__series_free(cxm_context *ctx, series *s)
{
	if (!s)
		return;
	cxm__free(ctx, s->data, s->m->data_size);
	cxm__free(ctx, s, s->m->head_size);
}

bool cxm__series_empty(const series *s)
{
	return s->hot_epoch == TAG_EMPTY && s->top[0] == TAG_EMPTY;
}

static void *tier_cell(const cxm_context *ctx, series *s, uint32_t k, int64_t e);

/* The cell of epoch e of tier k, or, when e is older than tier k's ring,
 * of the coarser tier that covers it now, as rolling up would have put it
 * there. Past the coarsest tier's ring: NULL (expired), or with `clamp`
 * that ring's oldest bucket. So no tier ever tags an epoch outside
 * (top - n, top], whatever its top: a snapshot may hand over tiers whose
 * tops are not those feeding would have made (and merges move them). */
static void *ring_cell(const cxm_context *ctx, series *s, uint32_t k, int64_t e, bool clamp)
{
	for (;;) {
		const int64_t n = ctx->tiers[k].buckets;
		if (s->top[k] == TAG_EMPTY || e > s->top[k] - n)
			return tier_cell(ctx, s, k, e);
		if (k + 1 >= ctx->n_tiers)
			return clamp ? tier_cell(ctx, s, k, s->top[k] - n + 1) : NULL;
		e = floordiv64(e * ctx->tiers[k].bucket_ms, ctx->tiers[k + 1].bucket_ms);
		k++;
	}
}

/* Bucket x of tier k leaves the ring: add it to the next tier, if any. */
static void roll(const cxm_context *ctx, series *s, uint32_t k, int64_t x, const void *cell)
{
	if (k + 1 >= ctx->n_tiers)
		return;
	int64_t y = floordiv64(x * ctx->tiers[k].bucket_ms, ctx->tiers[k + 1].bucket_ms);
	void *dst = ring_cell(ctx, s, k + 1, y, false);
	if (dst)
		cxm__cell_merge(s->m, dst, cell);
}

/* The cell of epoch e in tier k. Buckets leave a ring in increasing epoch
 * order, so the next tier only ever receives epochs at or after its top:
 * the precondition e > top - n holds there by construction, and for tier 0
 * the lateness check of the feed path guarantees it. */
/* The ring slot of epoch e in tier k, from the slot of the newest epoch:
 * e is within n of it except after a jump, so no division is needed on
 * the common path. */
static inline uint32_t slot_of(const series *s, uint32_t k, int64_t n, int64_t e)
{
	int64_t d = e - s->top[k];
	if (d <= -n || d >= n)
		return (uint32_t)(((e % n) + n) % n);
	int64_t i = (int64_t)s->top_idx[k] + d;
	return (uint32_t)(i < 0 ? i + n : i >= n ? i - n : i);
}

static void *tier_cell(const cxm_context *ctx, series *s, uint32_t k, int64_t e)
{
	const int64_t n = ctx->tiers[k].buckets;
	int64_t *tg = tags(ctx, s, k);
	if (s->top[k] == TAG_EMPTY) {
		s->top[k] = e;
		s->top_idx[k] = (uint32_t)(((e % n) + n) % n);
	} else if (e > s->top[k]) {
		/* valid buckets are (top - n, top]; evict those <= e - n */
		int64_t lo = s->top[k] - n + 1, hi = e - n;
		if (hi > s->top[k])
			hi = s->top[k];
		uint32_t idx = s->top_idx[k] + 1 == n ? 0 : s->top_idx[k] + 1; /* slot of lo */
		for (int64_t x = lo; x <= hi; x++, idx = idx + 1 == n ? 0 : idx + 1) {
			if (tg[idx] == x) {
				void *cell = cell_at(ctx, s, k, idx);
				roll(ctx, s, k, x, cell);
				tg[idx] = TAG_EMPTY;
				if (s->bins_cell == cell)
					s->bins_epoch = TAG_EMPTY;
			}
		}
		s->top_idx[k] = slot_of(s, k, n, e);
		s->top[k] = e;
	}
	uint32_t idx = slot_of(s, k, n, e);
	void *cell = cell_at(ctx, s, k, idx);
	if (tg[idx] != e) {
		tg[idx] = e;
		cxm__cell_clear(s->m, cell);
	}
	return cell;
}

void *cxm__series_cell(const cxm_context *ctx, series *s, int64_t e)
{
	if (e == s->hot_epoch)
		return s->hot;
	if (s->hot_epoch != TAG_EMPTY && e < s->hot_epoch)
		return tier_cell(ctx, s, 0, e); /* late: straight into its ring slot */
	if (s->hot_epoch != TAG_EMPTY)
		cxm__cell_merge(s->m, tier_cell(ctx, s, 0, s->hot_epoch), s->hot);
	tier_cell(ctx, s, 0, e); /* move the ring on: evict, roll up, tag e */
	s->hot_epoch = e;
	cxm__cell_clear(s->m, s->hot);
	return s->hot;
}

void *cxm__series_bins_cell(const cxm_context *ctx, series *s, int64_t e)
{
	uint32_t b = s->m->bins_tier;
	if (b == 0)
		return cxm__series_cell(ctx, s, e);
	int64_t y = floordiv64(e * ctx->tiers[0].bucket_ms, ctx->tiers[b].bucket_ms);
	if (y == s->bins_epoch)
		return s->bins_cell;
	const int64_t n = ctx->tiers[b].buckets;
	if (s->top[b] != TAG_EMPTY && y <= s->top[b] - n) {
		/* older than the ring (only after a load or merge handed over
		 * tiers ahead of the finest): not cached */
		return ring_cell(ctx, s, b, y, true);
	}
	void *cell = tier_cell(ctx, s, b, y);
	s->bins_epoch = y;
	s->bins_cell = cell;
	return cell;
}

static inline int64_t ceildiv64(int64_t a, int64_t b)
{
	return -floordiv64(-a, b);
}

static inline void merge_part(const metric *m, void *acc, const void *cell, enum read_part part)
{
	if (part == READ_ALL)
		cxm__cell_merge(m, acc, cell);
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
		if (s->top[k] == TAG_EMPTY)
			continue;
		const int64_t w = ctx->tiers[k].bucket_ms, n = ctx->tiers[k].buckets;
		int64_t lo = ceildiv64(a, w), hi = ceildiv64(b, w) - 1; /* starts in [a, b) */
		if (lo < s->top[k] - n + 1)
			lo = s->top[k] - n + 1;
		if (hi > s->top[k])
			hi = s->top[k];
		if (lo > hi)
			continue;
		const int64_t *tg = tags(ctx, s, k);
		uint32_t idx = slot_of(s, k, n, lo);
		for (int64_t x = lo; x <= hi; x++, idx = idx + 1 == n ? 0 : idx + 1) {
			if (tg[idx] != x)
				continue;
			merge_part(s->m, acc, cell_at(ctx, s, k, idx), part);
		}
	}
}

/* ---- taking a series back in time (cxm_rewind) --------------------------------------- */

uint64_t cxm__series_rewind(const cxm_context *ctx, series *s, int64_t time_ms)
{
	uint64_t gone = 0;
	s->bins_epoch = TAG_EMPTY; /* a cache of a slot: looked up again */
	s->bins_cell = NULL;
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		if (s->top[k] == TAG_EMPTY)
			continue;
		const int64_t n = ctx->tiers[k].buckets;
		const int64_t last = floordiv64(time_ms, ctx->tiers[k].bucket_ms);
		if (k == 0 && s->hot_epoch != TAG_EMPTY && s->hot_epoch > last) {
			s->hot_epoch = TAG_EMPTY;
			gone++;
		}
		if (s->top[k] <= last)
			continue;
		int64_t *tg = tags(ctx, s, k), newest = TAG_EMPTY;
		uint32_t newest_idx = 0;
		for (uint32_t i = 0; i < (uint32_t)n; i++) {
			if (tg[i] == TAG_EMPTY)
				continue;
			if (tg[i] > last) {
				tg[i] = TAG_EMPTY;
				gone++;
			} else if (newest == TAG_EMPTY || tg[i] > newest) {
				newest = tg[i];
				newest_idx = i;
			}
		}
		/* the newest bucket left is the ring's top, as if nothing newer
		 * had come; in the finest tier it becomes the hot cell again */
		s->top[k] = newest;
		s->top_idx[k] = newest_idx;
		if (k == 0 && newest != TAG_EMPTY && s->hot_epoch == TAG_EMPTY) {
			void *cell = cell_at(ctx, s, 0, newest_idx);
			memcpy(s->hot, cell, s->m->tier_cell[0]);
			cxm__cell_clear(s->m, cell);
			s->hot_epoch = newest;
		}
	}
	if (s->top[0] == TAG_EMPTY)
		s->hot_epoch = TAG_EMPTY;
	return gone;
}

/* ---- snapshots (snapshot.c) ------------------------------------------------------ */

int64_t *cxm__series_tag(const cxm_context *ctx, const series *s, uint32_t k, uint32_t idx)
{
	return tags(ctx, s, k) + idx;
}

void *cxm__series_slot_cell(const cxm_context *ctx, const series *s, uint32_t k, uint32_t idx)
{
	return cell_at(ctx, s, k, idx);
}

void cxm__series_merge_bucket(const cxm_context *ctx, series *s, uint32_t k, int64_t e,
			      const void *cell)
{
	/* a bucket older than tier k's ring holds data that this series keeps
	 * at a coarser width by now: add it there, as rolling up would have */
	void *dst;
	if (k == 0 && (s->top[0] == TAG_EMPTY || e > s->top[0] - (int64_t)ctx->tiers[0].buckets))
		dst = cxm__series_cell(ctx, s, e);
	else if (!(dst = ring_cell(ctx, s, k, e, false)))
		return; /* expired */
	cxm__cell_merge(s->m, dst, cell);
}
