/* The series index of a shard (series_index.c owns it): where the series of
 * (metric, touchpoint, segment slot) lives. Only series_index.c and the
 * inline look-ups below read or write shard::index_rows; every other file
 * finds, makes, drops and walks series through these functions
 * (tools/check-layers.py fails the build otherwise). Not API.
 *
 * Layout: index_rows[metric] is NULL or a row of row_len(ctx) groups, the
 * touchpoints that map to the shard (tp % n_shards) at tp / n_shards; a
 * group is NULL or 1 + max_segment_values series pointers (slot 0: the
 * overall series, then one slot per segment value). A row or group exists
 * only while it holds a series (one a rewind emptied counts), except for
 * the moments between making one and filling it, under the shard's lock:
 * a refused feed or merge prunes what it made and left empty. */
#ifndef CXM_SERIES_INDEX_H
#define CXM_SERIES_INDEX_H

#include "cxm_internal.h"

static inline uint32_t row_len(const cxm_context *ctx)
{
	return (ctx->max_touchpoints + ctx->n_shards - 1) / ctx->n_shards;
}

/* Where touchpoint tp's groups sit in the rows of its shard: a division,
 * which the feed makes once per interaction rather than per metric. */
static inline uint32_t cxm__index_place(const cxm_context *ctx, cxm_id tp)
{
	return tp / ctx->n_shards;
}

/* The group of series (metric mid, the touchpoint at place) in shard sh,
 * or NULL: index [slot] of it is the series of that slot, or NULL. Under
 * sh's lock; valid until the lock is let go. */
static inline series **cxm__index_group_at(const shard *sh, cxm_id mid, uint32_t place)
{
	series ***row = sh->index_rows[mid];
	return row ? row[place] : NULL;
}

/* The same for touchpoint tp. */
static inline series **cxm__index_group(const cxm_context *ctx, const shard *sh, cxm_id mid,
					cxm_id tp)
{
	return cxm__index_group_at(sh, mid, cxm__index_place(ctx, tp));
}

/* Whether shard sh holds any series of metric mid (under its lock). */
static inline bool cxm__index_has_metric(const shard *sh, cxm_id mid)
{
	return sh->index_rows[mid] != NULL;
}

/* Make shard sh's empty index (at context creation); false: no memory. */
CXM_INTERNAL bool cxm__index_init(cxm_context *ctx, shard *sh);
/* Free every series of shard sh and its index (at context free). */
CXM_INTERNAL void cxm__index_free(cxm_context *ctx, shard *sh);

/* The group (mid, tp) of shard sh, made (with its row) if there is none:
 * *made_row / *made_grp say what was made (both may be the same flag);
 * NULL when that allocation fails. Under sh's lock. */
CXM_INTERNAL series **cxm__index_make_group(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp,
					    bool *made_row, bool *made_grp);

/* The place of series (mid, tp, slot) in shard sh, creating its row and
 * group when `create` (see cxm__index_make_group; the flags are ignored
 * when !create); NULL when that allocation fails, or when !create and
 * there is none. Under sh's lock. */
CXM_INTERNAL series **cxm__index_ref(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp,
				     uint32_t slot, bool create, bool *made_row, bool *made_grp);

/* A new, empty series of metric mid put at *ref (which is NULL), counted
 * in the shard and the context. CXM_ERR_LIMIT when the context already
 * counts `max` series, CXM_ERR_NO_MEMORY: nothing changed either way. No
 * message is set: the caller says what it was doing. Under sh's lock. */
CXM_INTERNAL cxm_status cxm__index_add(cxm_context *ctx, shard *sh, cxm_id mid, series **ref,
				       uint64_t max);
/* Free the series at *ref (not NULL), uncount it, and set *ref NULL. */
CXM_INTERNAL void cxm__index_drop(cxm_context *ctx, shard *sh, series **ref);
/* Free the group (mid, tp) of shard sh if it holds no series, then the
 * row of mid if it holds no group: what an undo leaves after dropping the
 * series it made. Under sh's lock. */
CXM_INTERNAL void cxm__index_prune(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp);

/* Call fn(ctx, s, arg) for every series of shard sh, by metric, then
 * touchpoint, then slot; fn must not add or drop series. Under sh's lock. */
typedef void (*index_visit_fn)(cxm_context *ctx, series *s, void *arg);
CXM_INTERNAL void cxm__index_each(cxm_context *ctx, shard *sh, index_visit_fn fn, void *arg);

#endif
