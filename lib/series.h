/* A series' ring pages, shared by the files that keep series (window.c)
 * and read them (series_scan.c): the page layout and the arithmetic of
 * slots, pages and epochs. Not API. */
#ifndef CXM_SERIES_H
#define CXM_SERIES_H

#include "cxm_internal.h"

/* A DURATION whose ring cells hold their bins in stores of their own
 * (every tier keeps the distribution); the journeys' funnel times
 * keep full cells from the hour tier up instead. */
static inline bool sparse(const metric *m)
{
	return m->def.kind == CXM_KIND_DURATION && !m->full_cells;
}

/* A tier's ring of n slots is cut into pages of up to PAGE_SLOTS consecutive
 * slots, each allocated when one of its slots first holds a bucket and
 * given back when its last bucket leaves (rolled up, expired or rewound).
 * A page is its count of used slots, their epoch tags, then their cells. */
#define PAGE_SLOTS 8u
#define RESV_MAX 6u /* reserved pages a series remembers one by one */

typedef struct page {
	uint32_t used;
	uint32_t pad;
	int64_t tag[PAGE_SLOTS];
	uint64_t cells[]; /* PAGE_SLOTS cells of the tier's cell size */
} page;

/* Slots a page of tier k holds: PAGE_SLOTS, fewer for large cells, so
 * that a page stays near PAGE_BYTES (a duration's full cell is 4 KiB: one
 * a page, or a sparse hour tier would carry seven unused ones). */
#define PAGE_BYTES 4096u
static inline uint32_t page_mask(const metric *m, uint32_t k)
{
	return (1u << m->page_shift[k]) - 1;
}

static inline size_t page_bytes(const metric *m, uint32_t k)
{
	return sizeof(page) + ((size_t)1 << m->page_shift[k]) * m->tier_cell[k];
}

static inline uint32_t n_pages_of(const cxm_context *ctx, const metric *m, uint32_t k)
{
	return (ctx->tiers[k].buckets + page_mask(m, k)) >> m->page_shift[k];
}
#define n_pages(ctx, k) n_pages_of(ctx, s->m, k)

static inline void account(series *s, int64_t delta)
{
	s->bytes = (size_t)((int64_t)s->bytes + delta);
	if (s->acct)
		*s->acct = (uint64_t)((int64_t)*s->acct + delta);
}

static inline page *page_of(const series *s, uint32_t k, uint32_t idx)
{
	return s->dir[k] ? s->dir[k][(idx >> s->m->page_shift[k])] : NULL;
}

static inline void *page_cell(const metric *m, page *p, uint32_t k, uint32_t idx)
{
	return (unsigned char *)p->cells + m->tier_cell[k] * (idx & page_mask(m, k));
}

/* The tag of slot idx of tier k (TAG_EMPTY on a page not allocated). */
static inline int64_t tag_of(const series *s, uint32_t k, uint32_t idx)
{
	const page *p = page_of(s, k, idx);
	return p ? p->tag[(idx & page_mask(s->m, k))] : TAG_EMPTY;
}

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

/* ---- the query cache (struct series: qc_h, qc) ---------------------------------- */

/* Finest buckets per second-tier bucket when the query cache serves s
 * (0: it does not): a metric whose finest tier holds whole cells
 * (bins_tier 0), under tiers where a second-tier bucket spans at least
 * QC_MIN_GROUP finest ones. */
#define QC_MIN_GROUP 4
/* Cells per series: the default finest ring (120 minutes) spans at most
 * three hours, its oldest (partly rolled up), one whole, the current. */
#define QC_SLOTS 3
_Static_assert(sizeof(((series *)0)->qc_h) == QC_SLOTS * sizeof(int64_t), "series.qc_h has QC_SLOTS");
static inline int qc_slot(int64_t h)
{
	return (int)(((h % QC_SLOTS) + QC_SLOTS) % QC_SLOTS);
}
static inline int64_t qc_group(const cxm_context *ctx, const series *s)
{
	if (s->m->bins_tier || ctx->n_tiers < 2)
		return 0;
	int64_t r = ctx->tiers[1].bucket_ms / ctx->tiers[0].bucket_ms;
	return r >= QC_MIN_GROUP ? r : 0;
}

/* Cache cell i of s (s->qc not NULL). */
static inline void *qc_cell(const series *s, int i)
{
	return (unsigned char *)s->qc + (size_t)i * s->m->cell_size;
}

/* The cache slot holding the hour of finest bucket x, or -1 (none). */
static inline int qc_held(const cxm_context *ctx, const series *s, int64_t x)
{
	int64_t r = s->qc ? qc_group(ctx, s) : 0;
	if (!r)
		return -1;
	int64_t h = floordiv64(x, r);
	return s->qc_h[qc_slot(h)] == h ? qc_slot(h) : -1;
}

/* The finest bucket x of s's ring changes (written, cleared): the cached
 * merge of its hour, if any, no longer holds. */
static inline void qc_drop(const cxm_context *ctx, series *s, int64_t x)
{
	int i = qc_held(ctx, s, x);
	if (i >= 0)
		s->qc_h[i] = TAG_EMPTY;
}

/* The hot cell becomes the warm one and the warm one the hot one (the
 * caller sets their epochs). */
static inline void swap_header_cells(series *s)
{
	void *t = s->hot;
	s->hot = s->warm;
	s->warm = t;
}

/* Slot idx of tier k no longer holds a bucket: its store goes with it,
 * its page when empty (window.c). */
CXM_INTERNAL void cxm__series_slot_clear(const cxm_context *ctx, series *s, uint32_t k, uint32_t idx);

#endif
