/* What model.c, which defines, and model_lookup.c, which looks names and
 * ids up, both read of the model (model.c owns it): the lock-free search
 * of a name index, the names of the indexed arrays, a segment by id. Not
 * API. */
#ifndef CXM_MODEL_H
#define CXM_MODEL_H

#include "cxm_internal.h"

/* FNV-1a: where a name's search in an index starts. */
static inline uint32_t cxm__name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The name of entry id of an indexed array: the journeys, touchpoints,
 * metrics, segments, or a segment's values. */
typedef const char *(*name_of_fn)(const void *base, uint32_t id);

static inline const char *cxm__name_of_journey(const void *b, uint32_t id)
{
	return ((const journey *)b)[id].name;
}
static inline const char *cxm__name_of_touchpoint(const void *b, uint32_t id)
{
	return ((const touchpoint *)b)[id].name;
}
static inline const char *cxm__name_of_metric(const void *b, uint32_t id)
{
	return ((const metric *)b)[id].name;
}
static inline const char *cxm__name_of_segment(const void *b, uint32_t id)
{
	return ((const segment *)b)[id].name;
}
static inline const char *cxm__name_of_value(const void *b, uint32_t id)
{
	return ((char *const *)b)[id];
}

/* Search an index (without def_lock: a slot is published only after its
 * entry is complete); base and name_of give the names of its ids. */
static inline bool cxm__name_find(const name_table *t, const void *base, name_of_fn name_of,
				  const char *name, uint32_t *id)
{
	uint32_t mask = t->cap - 1;
	for (uint32_t i = cxm__name_hash(name) & mask;; i = (i + 1) & mask) {
		uint32_t v = atomic_load_explicit(&t->slots[i], memory_order_acquire);
		if (!v)
			return false;
		if (strcmp(name_of(base, v - 1), name) == 0) {
			*id = v - 1;
			return true;
		}
	}
}

/* The defined segment id, or UNKNOWN_ID with a message. */
static inline cxm_status cxm__segment_get(const cxm_context *ctx, cxm_id id, segment **out)
{
	if (id >= atomic_load_explicit(&ctx->model.n_segments, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment %u is not defined", id);
	*out = &ctx->model.segments[id];
	return CXM_OK;
}

/* A getter's prologue: ctx and out given (CXM_ERR_INVALID), then id's
 * segment (CXM_ERR_UNKNOWN_ID). */
static inline cxm_status cxm__segment_arg(const cxm_context *ctx, const void *out, cxm_id id, segment **g)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	return cxm__segment_get(ctx, id, g);
}

#endif
