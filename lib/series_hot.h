/* The feed path's calls into a series (window.c), with their common
 * case inline. Included by the files that fold (feed.c, the journeys'),
 * not by window.c, which calls cxm__series_*_at itself. Not API. */
#ifndef CXM_SERIES_HOT_H
#define CXM_SERIES_HOT_H

#include "cxm_internal.h"
#include "cell.h"

/* cxm__series_reserve_at and cxm__series_cell_at, with their common
 * case inline: the fold lands in the hot or the warm bucket, and the metric
 * keeps its distribution there too (bins_tier 0), so nothing is needed
 * and that cell is the cell. */
static inline bool cxm__series_reserve(const cxm_context *ctx, series *s, int64_t e, double v,
				       cover_log *log)
{
	if (!s->m->bins_tier && (e == s->hot_epoch || s->hot_epoch == TAG_EMPTY || e == s->warm_epoch))
		return true;
	return cxm__series_reserve_at(ctx, s, e, v, log);
}

/* cxm__series_cell after cxm__series_reserve(..., log): the covers the
 * reservation made are not made again. */
static inline void *cxm__series_cell_logged(const cxm_context *ctx, series *s, int64_t e,
					    const cover_log *log)
{
	return e == s->hot_epoch ? s->hot : e == s->warm_epoch ? s->warm : cxm__series_cell_at(ctx, s, e, log);
}

static inline void *cxm__series_cell(const cxm_context *ctx, series *s, int64_t e)
{
	return cxm__series_cell_logged(ctx, s, e, NULL);
}

#endif
