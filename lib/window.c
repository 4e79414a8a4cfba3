/* Series: tiered rings of time buckets (the cells they hold are cell.c's;
 * reading them is series_scan.c's, placing a window window_place.c's,
 * taking them back in time window_rewind.c's).
 *
 * Feeding writes only the finest tier. When a tier's ring must reuse a slot
 * for a newer bucket, the buckets falling out of it are added into the next
 * tier (and the coarsest tier's simply expire). So every datum lives in
 * exactly one bucket of one tier, the finest that still covers its time,
 * and a window is the sum of the buckets whose start lies in it. Rolling up
 * costs one merge per bucket per tier, paid by the feeder that moves a
 * series forward, never by a query.
 *
 * A series is a header (the newest finest bucket, "hot", and the lifetime
 * cell, series.life, read by export.c: everything ever folded, never
 * rolled up or expired) and, per tier, a ring whose slots live on pages
 * of up to PAGE_SLOTS slots allocated when a bucket first needs one and freed
 * when their last bucket leaves: a series costs memory for the buckets
 * that hold data, not for the shape of its tiers. Feeding reserves the
 * page its finest bucket needs before it folds (cxm__series_reserve), so
 * a fold never fails; a roll-up or merge that finds no memory for a
 * coarser page loses that bucket and counts it (cxm_stats::lost_buckets). */
#include "cell.h"
#include "series.h"

#include <math.h>

/* ---- pages ------------------------------------------------------------------- */

/* The page of slot idx, allocated if need be; NULL when no memory can be
 * had. */
static page *page_get(const cxm_context *ctx, series *s, uint32_t k, uint32_t idx)
{
	cxm_context *c = (cxm_context *)ctx;
	page **slot = &s->dir[k][(idx >> s->m->page_shift[k])];
	if (*slot)
		return *slot;
	page *p = cxm__alloc(c, page_bytes(s->m, k));
	if (!p)
		return NULL;
	account(s, (int64_t)page_bytes(s->m, k));
	p->used = 0;
	for (uint32_t i = 0; i < PAGE_SLOTS; i++)
		p->tag[i] = TAG_EMPTY;
	if (s->m->def.kind == CXM_KIND_DURATION)
		for (uint32_t i = 0; i <= page_mask(s->m, k); i++)
			cxm__sketch_init(&s->m->sk, page_cell(s->m, p, k, i),
					 s->m->tier_cell[k] == s->m->cell_size);
	*slot = p;
	s->pages[k]++;
	return p;
}

/* Page pi of tier k goes; so does the tier's directory with its last page. */
static void page_drop(const cxm_context *ctx, series *s, uint32_t k, uint32_t pi)
{
	if (sparse(s->m))
		for (uint32_t i = 0; i <= page_mask(s->m, k); i++)
			account(s, -(int64_t)cxm__sketch_release((cxm_context *)ctx,
								  page_cell(s->m, s->dir[k][pi], k, i)));
	cxm__free((cxm_context *)ctx, s->dir[k][pi], page_bytes(s->m, k));
	account(s, -(int64_t)page_bytes(s->m, k));
	s->dir[k][pi] = NULL;
	s->pages[k]--;
}

void cxm__series_slot_clear(const cxm_context *ctx, series *s, uint32_t k, uint32_t idx)
{
	page *p = page_of(s, k, idx);
	if (!p || p->tag[(idx & page_mask(s->m, k))] == TAG_EMPTY)
		return;
	if (k == 0)
		qc_drop(ctx, s, p->tag[(idx & page_mask(s->m, k))]);
	p->tag[(idx & page_mask(s->m, k))] = TAG_EMPTY;
	if (sparse(s->m)) { /* the store goes with the bucket */
		sketch_cell *c = page_cell(s->m, p, k, idx);
		account(s, -(int64_t)cxm__sketch_release((cxm_context *)ctx, c));
		cxm__sketch_clear(&s->m->sk, c);
	}
	if (!--p->used)
		page_drop(ctx, s, k, (idx >> s->m->page_shift[k]));
}

/* ---- series ------------------------------------------------------------------- */

/* A DURATION keeps its distribution in every tier, each ring cell's bins
 * in a store of its own that holds only the range used; the hot cell is
 * full, so feeding it never allocates. The journeys' funnel times (full_cells
 * series) and a DISTINCT keep their distribution from the second tier up:
 * their finest tier holds only moments or counts. */
void cxm__metric_layout(const cxm_context *ctx, metric *m)
{
	m->bins_tier = 0;
	bool two_part = (m->def.kind == CXM_KIND_DURATION && m->full_cells) || m->def.kind == CXM_KIND_DISTINCT;
	if (two_part && ctx->n_tiers > 1)
		m->bins_tier = 1;
	size_t head = m->def.kind == CXM_KIND_DISTINCT ? sizeof(hll_cell) : sizeof(sketch_cell);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		m->tier_cell[k] = k < m->bins_tier || sparse(m) ? head : m->cell_size;
		m->page_shift[k] = 3; /* PAGE_SLOTS */
		while (m->page_shift[k] && (m->tier_cell[k] << m->page_shift[k]) > PAGE_BYTES)
			m->page_shift[k]--;
	}
	/* the header holds the hot and warm cells and the lifetime cell (none
	 * for a DISTINCT); the rings' pages come and go with their buckets */
	m->life_size = m->def.kind == CXM_KIND_DISTINCT ? 0 : m->cell_size;
	/* a sparse DURATION's hot and warm cells are full: feeding them never
	 * allocates */
	m->hot_size = sparse(m) ? m->cell_size : m->tier_cell[0];
	m->head_size = sizeof(series) + 2 * m->hot_size + m->life_size;
	/* then each tier's page directory, which a series keeps all its life */
	for (uint32_t k = 0; k < ctx->n_tiers; k++)
		m->head_size += sizeof(void *) * n_pages_of(ctx, m, k);
}

size_t cxm__series_size(const cxm_context *ctx, const metric *m)
{
	(void)ctx;
	return m->head_size;
}

series *cxm__series_new(cxm_context *ctx, const metric *m, uint64_t *acct)
{
	series *s = cxm__alloc(ctx, m->head_size);
	if (!s)
		return NULL;
	memset(s, 0, sizeof *s);
	s->m = m;
	s->acct = acct;
	s->hot_epoch = s->warm_epoch = s->bins_epoch = TAG_EMPTY;
	for (int i = 0; i < QC_SLOTS; i++)
		s->qc_h[i] = TAG_EMPTY;
	s->life = NULL;
	s->hot = s->cells;
	s->warm = (unsigned char *)s->cells + m->hot_size;
	if (m->def.kind == CXM_KIND_DURATION) {
		cxm__sketch_init(&m->sk, s->hot, m->hot_size == m->cell_size);
		cxm__sketch_init(&m->sk, s->warm, m->hot_size == m->cell_size);
	}
	if (m->life_size) {
		s->life = (unsigned char *)s->cells + 2 * m->hot_size;
		if (m->def.kind == CXM_KIND_DURATION)
			cxm__sketch_init(&m->sk, s->life, true);
		else
			cell_clear(m, s->life);
	}
	for (uint32_t k = 0; k < CXM_MAX_TIERS; k++)
		s->top[k] = TAG_EMPTY;
	page **d = (page **)(void *)((unsigned char *)s->cells + 2 * m->hot_size + m->life_size);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		s->dir[k] = d;
		for (uint32_t i = 0; i < n_pages_of(ctx, m, k); i++)
			d[i] = NULL;
		d += n_pages_of(ctx, m, k);
	}
	account(s, (int64_t)m->head_size);
	return s;
}

void cxm__series_free(cxm_context *ctx, series *s)
{
	if (!s)
		return;
	for (uint32_t k = 0; k < ctx->n_tiers; k++)
		for (uint32_t i = 0; s->pages[k] && i < n_pages(ctx, k); i++)
			if (s->dir[k][i])
				page_drop(ctx, s, k, i);
	if (s->qc) {
		cxm__free(ctx, s->qc, QC_SLOTS * s->m->cell_size);
		atomic_fetch_sub_explicit(&ctx->qcache, QC_SLOTS * s->m->cell_size, memory_order_relaxed);
	}
	account(s, -(int64_t)s->m->head_size);
	cxm__free(ctx, s, s->m->head_size);
}

void cxm__series_set_acct(series *s, uint64_t *acct)
{
	if (s->acct)
		*s->acct -= s->bytes;
	s->acct = acct;
	if (acct)
		*acct += s->bytes;
}

bool cxm__series_empty(const series *s)
{
	return s->hot_epoch == TAG_EMPTY && s->top[0] == TAG_EMPTY;
}

static void *tier_cell_ex(const cxm_context *ctx, series *s, uint32_t k, int64_t e, bool filled);
static inline void *tier_cell(const cxm_context *ctx, series *s, uint32_t k, int64_t e)
{
	return tier_cell_ex(ctx, s, k, e, false);
}

/* Where epoch e of tier k is held now: *k and *e become the tier whose
 * ring still reaches it and its epoch there (rolling up moves a bucket
 * older than a ring to the next tier); false when it is older than the
 * coarsest ring too (expired), *k then the coarsest tier. */
static bool landing(const cxm_context *ctx, const series *s, uint32_t *k, int64_t *e)
{
	for (;; (*k)++) {
		const int64_t n = ctx->tiers[*k].buckets;
		if (s->top[*k] == TAG_EMPTY || *e > s->top[*k] - n)
			return true;
		if (*k + 1 >= ctx->n_tiers)
			return false;
		*e = floordiv64(*e * ctx->tiers[*k].bucket_ms, ctx->tiers[*k + 1].bucket_ms);
	}
}

/* The cell of epoch e of tier k, or, when e is older than tier k's ring,
 * of the coarser tier that covers it now, as rolling up would have put it
 * there. Past the coarsest tier's ring: NULL (expired), or with `clamp`
 * that ring's oldest bucket. So no tier ever tags an epoch outside
 * (top - n, top], whatever its top: a snapshot may hand over tiers whose
 * tops are not those feeding would have made (and merges move them).
 * NULL too when no memory could be had for the bucket's page. *open (unless
 * NULL): whether that bucket is open (cxm__series_open). */
static void *ring_cell(const cxm_context *ctx, series *s, uint32_t k, int64_t e, bool clamp,
		       bool *open)
{
	if (!landing(ctx, s, &k, &e)) {
		if (!clamp)
			return NULL;
		e = s->top[k] - (int64_t)ctx->tiers[k].buckets + 1;
	}
	void *cell = tier_cell(ctx, s, k, e);
	if (open)
		*open = cxm__series_open(s, k, e);
	return cell;
}

void cxm__series_lost(const cxm_context *ctx)
{
	atomic_fetch_add_explicit(&((cxm_context *)ctx)->lost_buckets, 1, memory_order_relaxed);
}

void cxm__series_fit(cxm_context *ctx, series *s, void *cell, bool open)
{
	int64_t d;
	if (cxm__sketch_fit(ctx, &s->m->sk, cell, open, &d))
		account(s, d);
	else
		atomic_fetch_add_explicit(&ctx->unpacked, 1, memory_order_relaxed);
}

/* Merge src into the ring cell dst of s: a sparse DURATION's store
 * grows to take src's bins first (when it cannot, the values are counted
 * as saturated, not binned), and is packed again after if that is
 * smaller and dst is not open (cxm__series_open). */
static void merge_into(const cxm_context *ctx, series *s, void *dst, const void *src, bool open,
		       bool covered)
{
	if (sparse(s->m) && !covered) {
		int64_t d;
		if (cxm__sketch_cover_like((cxm_context *)ctx, &s->m->sk, dst, src, open, NULL, &d))
			account(s, d);
	}
	cell_merge(s->m, dst, src);
	if (sparse(s->m))
		cxm__series_fit((cxm_context *)ctx, s, dst, open);
}

bool cxm__series_cover(cxm_context *ctx, series *s, void *cell, uint32_t lo, uint32_t hi)
{
	int64_t d;
	if (!cxm__sketch_cover(ctx, &s->m->sk, cell, lo, hi, NULL, &d))
		return false;
	account(s, d);
	return true;
}

/* Whether epoch e of tier k is past every ring by now (ring_cell's NULL
 * that is not for want of memory). */
static bool expired(const cxm_context *ctx, const series *s, uint32_t k, int64_t e)
{
	return !landing(ctx, s, &k, &e);
}

/* Whether the hot bucket stays in the header as the warm one when the
 * series moves on to finest epoch e: while the ring still reaches it. */
static inline bool stays_warm(const cxm_context *ctx, const series *s, int64_t e)
{
	return s->hot_epoch != TAG_EMPTY && s->hot_epoch > e - (int64_t)ctx->tiers[0].buckets;
}

/* Bucket x of tier k leaves the ring: add it to the next tier, if any. */
static void roll(const cxm_context *ctx, series *s, uint32_t k, int64_t x, const void *cell)
{
	if (k + 1 >= ctx->n_tiers)
		return;
	int64_t y = floordiv64(x * ctx->tiers[k].bucket_ms, ctx->tiers[k + 1].bucket_ms);
	bool open;
	void *dst = ring_cell(ctx, s, k + 1, y, false, &open);
	if (dst)
		merge_into(ctx, s, dst, cell, open, false);
	else if (!expired(ctx, s, k + 1, y))
		cxm__series_lost(ctx);
}

/* Make e the newest bucket of tier k if it is newer than the newest:
 * valid buckets are (top - n, top], so those <= e - n leave the ring,
 * rolled up into the next tier. */
static void advance(const cxm_context *ctx, series *s, uint32_t k, int64_t e)
{
	const int64_t n = ctx->tiers[k].buckets;
	if (s->top[k] == TAG_EMPTY) {
		s->top[k] = e;
		s->top_idx[k] = (uint32_t)(((e % n) + n) % n);
		return;
	}
	if (e <= s->top[k])
		return;
	/* the open bucket is sealed: the smaller of its two forms from now */
	if (k >= 1 && sparse(s->m)) {
		page *p = page_of(s, k, s->top_idx[k]);
		if (p && p->tag[(s->top_idx[k] & page_mask(s->m, k))] == s->top[k])
			cxm__series_fit((cxm_context *)ctx, s, page_cell(s->m, p, k, s->top_idx[k]), false);
	}
	int64_t lo = s->top[k] - n + 1, hi = e - n;
	if (hi > s->top[k])
		hi = s->top[k];
	uint32_t idx = s->top_idx[k] + 1 == n ? 0 : s->top_idx[k] + 1; /* slot of lo */
	for (int64_t x = lo; x <= hi; x++, idx = idx + 1 == n ? 0 : idx + 1) {
		page *p = page_of(s, k, idx);
		if (!p) { /* no bucket on this page: skip to its end */
			int64_t skip = page_mask(s->m, k) - (idx & page_mask(s->m, k));
			if (skip > hi - x)
				skip = hi - x;
			if (skip > n - 1 - idx)
				skip = n - 1 - idx; /* the ring wraps before the page ends */
			x += skip;
			idx += (uint32_t)skip;
			continue;
		}
		if (p->tag[(idx & page_mask(s->m, k))] == x) {
			void *cell = page_cell(s->m, p, k, idx);
			roll(ctx, s, k, x, cell);
			if (s->bins_cell == cell)
				s->bins_epoch = TAG_EMPTY;
			cxm__series_slot_clear(ctx, s, k, idx);
		}
	}
	s->top_idx[k] = slot_of(s, k, n, e);
	s->top[k] = e;
}

/* The cell of epoch e in tier k (NULL: no memory for its page). Buckets
 * leave a ring in increasing epoch order, so the next tier only ever
 * receives epochs at or after its top: the precondition e > top - n holds
 * there by construction, and for tier 0 the lateness check of the feed
 * path guarantees it. `filled`: the empty slot's store was filled for the
 * bucket coming (cxm__sketch_fill_like), so a new bucket clears only its
 * statistics. */
static void *tier_cell_ex(const cxm_context *ctx, series *s, uint32_t k, int64_t e, bool filled)
{
	const int64_t n = ctx->tiers[k].buckets;
	uint32_t idx = (uint32_t)(((e % n) + n) % n);
	/* the page e goes to stays while advancing empties it */
	page *p = page_of(s, k, idx);
	if (p)
		p->used++;
	advance(ctx, s, k, e);
	if (p)
		p->used--;
	else if (!(p = page_get(ctx, s, k, idx)))
		return NULL;
	void *cell = page_cell(s->m, p, k, idx);
	if (p->tag[(idx & page_mask(s->m, k))] != e) {
		if (p->tag[(idx & page_mask(s->m, k))] == TAG_EMPTY)
			p->used++;
		p->tag[(idx & page_mask(s->m, k))] = e;
		if (filled)
			cxm__sketch_clear_stats(cell);
		else
			cell_clear(s->m, cell);
	}
	return cell;
}

/* Give the slot of epoch x of tier k its page now (a page with no bucket
 * yet stays until the series goes or a bucket on it comes and goes). */
static bool reserve_slot(const cxm_context *ctx, series *s, uint32_t k, int64_t x)
{
	const int64_t n = ctx->tiers[k].buckets;
	uint32_t idx = (uint32_t)(((x % n) + n) % n);
	if (page_of(s, k, idx))
		return true;
	if (!page_get(ctx, s, k, idx))
		return false;
	/* remembered, so that unreserving looks at these pages only */
	if (s->reserved < RESV_MAX)
		s->resv[s->reserved] = k << 24 | (idx >> s->m->page_shift[k]);
	if (s->reserved <= RESV_MAX)
		s->reserved++;
	return true;
}

static bool reserve_tops(const cxm_context *ctx, series *s, const int64_t *top, bool one_move,
			 cover_log *log);

/* Grow the store of the ring cell of bucket x of tier k (on a page
 * reserve_slot gave it) to take the bins of `like` (NULL: bin `bin`, a
 * late value) now, in the shape the merge will leave, logged so that the
 * change can be undone or its old store freed; the page is pinned (one
 * more use) until then, so that no eviction takes it away meanwhile. */
static bool cover_logged(const cxm_context *ctx, series *s, uint32_t k, int64_t x,
			 const sketch_cell *like, uint32_t bin, bool fill, cover_log *log)
{
	if (!log || log->n == COVER_LOG_MAX)
		return true; /* not reserved: a failure later counts as saturated */
	const int64_t n = ctx->tiers[k].buckets;
	uint32_t idx = (uint32_t)(((x % n) + n) % n);
	page *p = page_of(s, k, idx);
	if (!p)
		return true;
	sketch_cell *cell = page_cell(s->m, p, k, idx);
	cover_rec *r = &log->r[log->n];
	int64_t d;
	/* a roll-up lands in the newest bucket of tier k, open until a newer
	 * one starts */
	const bool open = k >= 1 && (s->top[k] == TAG_EMPTY || x >= s->top[k]);
	/* a slot with no bucket and no store takes like's counts now, so that
	 * sealing like into it is no second walk of its bins */
	r->filled = fill && like && p->tag[(idx & page_mask(s->m, k))] == TAG_EMPTY && !cell->bins &&
		    cell->lo_bin > cell->hi_bin;
	if (r->filled) {
		r->old = (sketch_store){NULL, 0, 0};
		if (!cxm__sketch_fill_like((cxm_context *)ctx, &s->m->sk, cell, like, &d))
			return false;
	} else if (like ? !cxm__sketch_cover_like((cxm_context *)ctx, &s->m->sk, cell, like, open,
						  &r->old, &d)
			: !cxm__sketch_cover((cxm_context *)ctx, &s->m->sk, cell, bin, bin, &r->old, &d)) {
		return false;
	}
	if (d == 0)
		return true; /* it held them already */
	account(s, d);
	p->used++;
	r->s = s;
	r->cell = cell;
	r->like = like;
	r->x = x;
	r->k = k;
	r->pi = idx >> s->m->page_shift[k];
	log->n++;
	return true;
}

/* What sealing header bucket x (full cell c) into its ring slot needs:
 * the slot's page, and a sparse DURATION's store grown to take c's bins. */
static bool reserve_seal(const cxm_context *ctx, series *s, int64_t x, const sketch_cell *c,
			 cover_log *log)
{
	return reserve_slot(ctx, s, 0, x) &&
	       (!log || !sparse(s->m) || c->lo_bin > c->hi_bin || cover_logged(ctx, s, 0, x, c, 0, true, log));
}

bool cxm__series_reserve_at(const cxm_context *ctx, series *s, int64_t e, double v, cover_log *log)
{
	/* the bins-tier bucket of e (a DURATION's or DISTINCT's distribution) */
	uint32_t b = s->m->bins_tier;
	if (b) {
		int64_t y = floordiv64(e * ctx->tiers[0].bucket_ms, ctx->tiers[b].bucket_ms);
		if (y != s->bins_epoch && (s->top[b] == TAG_EMPTY || y > s->top[b] - (int64_t)ctx->tiers[b].buckets) &&
		    !reserve_slot(ctx, s, b, y))
			return false;
	}
	if (e == s->hot_epoch || s->hot_epoch == TAG_EMPTY || e == s->warm_epoch)
		return true;
	if (e < s->hot_epoch && (s->warm_epoch == TAG_EMPTY || e > s->warm_epoch)) /* the new warm one */
		return s->warm_epoch == TAG_EMPTY || reserve_seal(ctx, s, s->warm_epoch, s->warm, log);
	if (e < s->hot_epoch) { /* late: into its own slot */
		if (!reserve_slot(ctx, s, 0, e))
			return false;
		const sketch_params *sp = &s->m->sk;
		if (!sparse(s->m) || v == 0 || !(v >= sp->lo && v <= sp->hi))
			return true;
		return cover_logged(ctx, s, 0, e, NULL, cxm__sketch_bin(sp, v), false, log);
	}
	/* the hot bucket moves into its ring slot; what moving the ring on
	 * evicts rolls up into coarser tiers */
	int64_t top[CXM_MAX_TIERS];
	top[0] = e;
	for (uint32_t k = 1; k < CXM_MAX_TIERS; k++)
		top[k] = TAG_EMPTY;
	return reserve_tops(ctx, s, top, true, log);
}

void cxm__covers_done(const cxm_context *ctx, cover_log *log, bool undo)
{
	cxm_context *c = (cxm_context *)ctx;
	while (log->n) {
		cover_rec *r = &log->r[--log->n];
		if (undo) {
			account(r->s, -(int64_t)cxm__sketch_release(c, r->cell));
			r->cell->bins = r->old.bins;
			r->cell->base = r->old.base;
			r->cell->cap = r->old.cap;
		} else {
			if (r->old.bins) {
				cxm__free(c, r->old.bins, cxm__sketch_store_bytes(r->old.cap));
				account(r->s, -(int64_t)cxm__sketch_store_bytes(r->old.cap));
			}
			/* grown for a bucket that went elsewhere (a coarser tier),
			 * or for a late value: back to what its bins need, as a
			 * loaded cell has */
			cxm__series_fit(c, r->s, r->cell, cxm__series_open(r->s, r->k, r->x));
		}
		page *p = r->s->dir[r->k][r->pi];
		if (!--p->used)
			page_drop(ctx, r->s, r->k, r->pi);
	}
}

bool cxm__series_reserve_bucket(const cxm_context *ctx, series *s, uint32_t k, int64_t x)
{
	for (uint32_t c = k; c < ctx->n_tiers; c++) {
		if (!reserve_slot(ctx, s, c, x))
			return false;
		if (c + 1 < ctx->n_tiers)
			x = floordiv64(x * ctx->tiers[c].bucket_ms, ctx->tiers[c + 1].bucket_ms);
	}
	return true;
}

/* Give its page to the slot that bucket x of tier k lands in when it is
 * rolled up (ring_cell): tier k's, or, when x is older than tier k's
 * ring, a coarser tier's; none when it has expired. Pages of coarser
 * tiers that a roll-up cascading from this one needs are reserved as
 * reserve_tops reaches those tiers. */
static bool reserve_landing(const cxm_context *ctx, series *s, uint32_t k, int64_t x)
{
	return !landing(ctx, s, &k, &x) || reserve_slot(ctx, s, k, x);
}

/* Reserve what moving s's tiers on to top needs: one_move for a fold
 * (tier 0 moves straight to top[0]), else a merge's, whose buckets may
 * move it in steps. */
static bool reserve_tops(const cxm_context *ctx, series *s, const int64_t *top, bool one_move,
			 cover_log *log)
{
	/* the header's buckets that moving tier 0 to top[0] puts into their
	 * ring slots (cxm__series_cell_at): the warm one, and the hot one
	 * unless it stays as the warm one (a merge: both, as its buckets
	 * may seal either); a sparse DURATION's take their bins into those
	 * slots' stores */
	const int64_t w = s->warm_epoch;
	const int64_t h = one_move && top[0] > s->hot_epoch && stays_warm(ctx, s, top[0]) ? TAG_EMPTY
											    : s->hot_epoch;
	const sketch_cell *warm = s->warm, *hot = s->hot;
	if ((w != TAG_EMPTY && !reserve_seal(ctx, s, w, warm, log)) ||
	    (h != TAG_EMPTY && !reserve_seal(ctx, s, h, hot, log)))
		return false;
	int64_t rolled = TAG_EMPTY; /* the newest bucket rolled into tier k */
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		const int64_t n = ctx->tiers[k].buckets;
		int64_t t = top[k];
		if (rolled != TAG_EMPTY && (t == TAG_EMPTY || rolled > t))
			t = rolled;
		rolled = TAG_EMPTY;
		if (s->top[k] == TAG_EMPTY || t == TAG_EMPTY || t <= s->top[k] || k + 1 >= ctx->n_tiers ||
		    !s->pages[k])
			continue;
		/* buckets that moving tier k's top to t evicts roll into k + 1 */
		int64_t lo = s->top[k] - n + 1, hi = t - n;
		if (hi > s->top[k])
			hi = s->top[k];
		const int64_t wk = ctx->tiers[k].bucket_ms, wn = ctx->tiers[k + 1].bucket_ms;
		for (int64_t x = lo; x <= hi; x++) {
			uint32_t idx = (uint32_t)(((x % n) + n) % n);
			if (!page_of(s, k, idx)) { /* no bucket on this page: skip to its end */
				int64_t skip = page_mask(s->m, k) - (idx & page_mask(s->m, k));
				if (skip > n - 1 - idx)
					skip = n - 1 - idx;
				x += skip;
				continue;
			}
			/* the header's buckets too, which moving on a whole ring
			 * or more puts in their slots only to roll them up at once */
			const sketch_cell *c = k ? NULL : x == w ? warm : x == h ? hot : NULL;
			if (!c && tag_of(s, k, idx) != x)
				continue;
			rolled = floordiv64(x * wk, wn);
			if (!reserve_landing(ctx, s, k + 1, rolled))
				return false;
			if (!c)
				c = page_cell(s->m, page_of(s, k, idx), k, idx);
			if (log && sparse(s->m) && c->lo_bin <= c->hi_bin &&
			    !cover_logged(ctx, s, k + 1, rolled, c, 0, false, log))
				return false;
		}
	}
	return true;
}

bool cxm__series_reserve_tops(const cxm_context *ctx, series *s, const int64_t *top)
{
	return reserve_tops(ctx, s, top, false, NULL);
}

void cxm__series_unreserve(const cxm_context *ctx, series *s)
{
	if (!s->reserved)
		return;
	if (s->reserved <= RESV_MAX) {
		for (uint32_t i = 0; i < s->reserved; i++) {
			uint32_t k = s->resv[i] >> 24, pi = s->resv[i] & 0xffffff;
			if (s->dir[k][pi] && !s->dir[k][pi]->used)
				page_drop(ctx, s, k, pi);
		}
	} else {
		for (uint32_t k = 0; k < ctx->n_tiers; k++)
			for (uint32_t i = 0; i < n_pages(ctx, k); i++)
				if (s->dir[k][i] && !s->dir[k][i]->used)
					page_drop(ctx, s, k, i);
	}
	s->reserved = 0;
}

/* The record of this fold's reservation (log) that made the store of
 * finest bucket x's slot hold the bins of like, in the shape a merge of
 * like leaves (or NULL): nothing has written that cell since, so the merge
 * need not cover it again; when the record says `filled`, its counts are
 * in already. */
static const cover_rec *cover_for(const cover_log *log, const series *s, int64_t x, const void *like)
{
	for (uint32_t i = 0; log && i < log->n; i++) {
		const cover_rec *r = &log->r[i];
		if (r->s == s && r->k == 0 && r->x == x && r->like == like)
			return r;
	}
	return NULL;
}

/* Finest bucket x, held in full cell src (the warm or the hot one), goes
 * into its ring slot old, which holds no bucket of x yet; the cached
 * merge of its hour, if any, takes it too, unless the slot could not
 * take it as a full cell does (a DURATION store that could not grow, a
 * count that saturated: more saturated than the two held), when it is
 * dropped. */
static void seal(const cxm_context *ctx, series *s, int64_t x, const void *src, const cover_log *log)
{
	const cover_rec *r = cover_for(log, s, x, src);
	const bool filled = r && r->filled;
	void *old = tier_cell_ex(ctx, s, 0, x, filled);
	if (!old) {
		cxm__series_lost(ctx);
		return;
	}
	const bool covered = r && r->cell == old;
	/* with a cache of x's hour: whether the slot took src whole */
	const bool dur = s->m->def.kind == CXM_KIND_DURATION;
	const uint64_t sat = s->qc && dur ? ((sketch_cell *)old)->saturated + ((const sketch_cell *)src)->saturated
				      : 0;
	if (filled) /* the slot was empty: its store is exactly src's bins */
		cxm__sketch_merge_filled(old, src);
	else
		merge_into(ctx, s, old, src, false, covered);
	if (!s->qc)
		return;
	const bool exact = !dur || ((sketch_cell *)old)->saturated == sat;
	int i = qc_held(ctx, s, x);
	if (i >= 0 && exact)
		cell_merge(s->m, qc_cell(s, i), src);
	else if (i >= 0)
		s->qc_h[i] = TAG_EMPTY;
}

void *cxm__series_cell_at(const cxm_context *ctx, series *s, int64_t e, const cover_log *log)
{
	if (e == s->hot_epoch)
		return s->hot;
	if (e == s->warm_epoch)
		return s->warm;
	if (s->hot_epoch != TAG_EMPTY && e < s->hot_epoch) {
		if (s->warm_epoch == TAG_EMPTY || e > s->warm_epoch) {
			/* the newest bucket below the hot one: the warm one */
			if (s->warm_epoch != TAG_EMPTY)
				seal(ctx, s, s->warm_epoch, s->warm, log);
			s->warm_epoch = e;
			cell_clear(s->m, s->warm);
			return s->warm;
		}
		qc_drop(ctx, s, e); /* the caller writes the cell */
		return tier_cell(ctx, s, 0, e); /* late: straight into its ring slot */
	}
	/* the warm bucket goes into its ring slot; the hot one becomes the
	 * warm one, or goes into its slot too when the ring leaves it behind */
	if (s->warm_epoch != TAG_EMPTY)
		seal(ctx, s, s->warm_epoch, s->warm, log);
	s->warm_epoch = TAG_EMPTY;
	const bool warm = stays_warm(ctx, s, e);
	if (s->hot_epoch != TAG_EMPTY && !warm)
		seal(ctx, s, s->hot_epoch, s->hot, log);
	/* move the ring on (evict, roll up); e's data goes to the hot cell,
	 * so its slot takes no page until a newer bucket comes */
	advance(ctx, s, 0, e);
	if (warm) {
		swap_header_cells(s);
		s->warm_epoch = s->hot_epoch;
	}
	s->hot_epoch = e;
	cell_clear(s->m, s->hot);
	return s->hot;
}

void *cxm__series_bins_cell(const cxm_context *ctx, series *s, int64_t e)
{
	uint32_t b = s->m->bins_tier;
	if (b == 0)
		return cxm__series_cell_at(ctx, s, e, NULL);
	int64_t y = floordiv64(e * ctx->tiers[0].bucket_ms, ctx->tiers[b].bucket_ms);
	if (y == s->bins_epoch)
		return s->bins_cell;
	const int64_t n = ctx->tiers[b].buckets;
	if (s->top[b] != TAG_EMPTY && y <= s->top[b] - n) {
		/* older than the ring (only after a load or merge handed over
		 * tiers ahead of the finest): not cached */
		return ring_cell(ctx, s, b, y, true, NULL);
	}
	void *cell = tier_cell(ctx, s, b, y);
	if (!cell)
		return NULL;
	s->bins_epoch = y;
	s->bins_cell = cell;
	return cell;
}

/* ---- snapshots and merges ------------------------------------------------------ */

cxm_status cxm__series_put(const cxm_context *ctx, series *s, uint32_t k, int64_t e, void **cell)
{
	const int64_t n = ctx->tiers[k].buckets;
	uint32_t idx = (uint32_t)(((e % n) + n) % n);
	page *p = page_get(ctx, s, k, idx);
	if (!p)
		return CXM_ERR_NO_MEMORY;
	if (p->tag[(idx & page_mask(s->m, k))] != TAG_EMPTY || (k == 0 && e == s->warm_epoch))
		return CXM_ERR_EXISTS;
	if (k == 0)
		qc_drop(ctx, s, e);
	p->tag[(idx & page_mask(s->m, k))] = e;
	p->used++;
	*cell = page_cell(s->m, p, k, idx);
	return CXM_OK;
}

bool cxm__series_merge_bucket(const cxm_context *ctx, series *s, uint32_t k, int64_t e,
			      const void *cell)
{
	/* a bucket older than tier k's ring holds data that this series keeps
	 * at a coarser width by now: add it there, as rolling up would have */
	void *dst;
	bool open = false;
	if (k == 0 && (s->top[0] == TAG_EMPTY || e > s->top[0] - (int64_t)ctx->tiers[0].buckets)) {
		dst = cxm__series_cell_at(ctx, s, e, NULL);
	} else {
		if (expired(ctx, s, k, e))
			return true;
		dst = ring_cell(ctx, s, k, e, false, &open);
	}
	if (!dst)
		return false;
	if (dst == s->hot || dst == s->warm)
		cell_merge(s->m, dst, cell); /* full: nothing to grow */
	else
		merge_into(ctx, s, dst, cell, open, false);
	return true;
}
