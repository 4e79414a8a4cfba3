/* Taking a series back in time (cxm_rewind) and settling a loaded one:
 * the header cells and rings of window.c, after the fact. */
#include "cell.h"
#include "series.h"

/* Ring bucket idx of the finest tier into header cell dst (a full cell),
 * its slot then emptied. */
static void promote(const cxm_context *ctx, series *s, uint32_t idx, void *dst)
{
	void *cell = page_cell(s->m, page_of(s, 0, idx), 0, idx);
	if (s->m->def.kind == CXM_KIND_DURATION) {
		/* merged, not copied: a ring cell's bins are its page's or
		 * its store's, which go with the slot */
		cell_clear(s->m, dst);
		cell_merge(s->m, dst, cell);
	} else {
		memcpy(dst, cell, s->m->tier_cell[0]);
	}
	if (s->bins_cell == cell)
		s->bins_epoch = TAG_EMPTY;
	cxm__series_slot_clear(ctx, s, 0, idx);
}

void cxm__series_settle(const cxm_context *ctx, series *s)
{
	if (s->hot_epoch == TAG_EMPTY || s->warm_epoch != TAG_EMPTY || !s->pages[0])
		return;
	const int64_t n = ctx->tiers[0].buckets;
	int64_t newest = TAG_EMPTY;
	uint32_t at = 0;
	for (uint32_t i = 0; i < (uint32_t)n; i++) {
		int64_t t = tag_of(s, 0, i);
		if (t != TAG_EMPTY && t < s->hot_epoch && (newest == TAG_EMPTY || t > newest)) {
			newest = t;
			at = i;
		}
	}
	if (newest == TAG_EMPTY)
		return;
	promote(ctx, s, at, s->warm);
	s->warm_epoch = newest;
}

uint64_t cxm__series_rewind(const cxm_context *ctx, series *s, int64_t time_ms)
{
	uint64_t gone = 0;
	for (int i = 0; i < QC_SLOTS; i++)
		s->qc_h[i] = TAG_EMPTY;
	s->bins_epoch = TAG_EMPTY; /* a cache of a slot: looked up again */
	s->bins_cell = NULL;
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		if (s->top[k] == TAG_EMPTY)
			continue;
		const int64_t n = ctx->tiers[k].buckets;
		const int64_t last = floordiv64(time_ms, ctx->tiers[k].bucket_ms);
		if (k == 0 && s->warm_epoch != TAG_EMPTY && s->warm_epoch > last) {
			s->warm_epoch = TAG_EMPTY;
			gone++;
		}
		if (k == 0 && s->hot_epoch != TAG_EMPTY && s->hot_epoch > last) {
			s->hot_epoch = TAG_EMPTY;
			gone++;
		}
		if (s->top[k] <= last)
			continue;
		int64_t newest = TAG_EMPTY;
		uint32_t newest_idx = 0;
		for (uint32_t i = 0; i < (uint32_t)n; i++) {
			int64_t t = tag_of(s, k, i);
			if (t == TAG_EMPTY)
				continue;
			if (t > last) {
				cxm__series_slot_clear(ctx, s, k, i);
				gone++;
			} else if (newest == TAG_EMPTY || t > newest) {
				newest = t;
				newest_idx = i;
			}
		}
		/* the newest bucket left is the ring's top, as if nothing newer
		 * had come; in the finest tier the header's cells take the
		 * newest two again (a warm one left is newer than any in the ring) */
		if (k == 0) {
			if (s->hot_epoch == TAG_EMPTY && s->warm_epoch != TAG_EMPTY) {
				swap_header_cells(s);
				s->hot_epoch = s->warm_epoch;
				s->warm_epoch = TAG_EMPTY;
			} else if (s->hot_epoch == TAG_EMPTY && newest != TAG_EMPTY) {
				promote(ctx, s, newest_idx, s->hot);
				s->hot_epoch = newest;
			}
			newest = s->hot_epoch;
			if (newest != TAG_EMPTY)
				newest_idx = slot_of(s, 0, n, newest);
		}
		s->top[k] = newest;
		s->top_idx[k] = newest_idx;
		if (k == 0)
			cxm__series_settle(ctx, s);
		if (k >= 1 && newest != TAG_EMPTY && sparse(s->m)) /* open again */
			cxm__series_fit((cxm_context *)ctx, s, page_cell(s->m, page_of(s, k, newest_idx), k, newest_idx), true);
	}
	if (s->top[0] == TAG_EMPTY)
		s->hot_epoch = TAG_EMPTY;
	return gone;
}
