/* Look-ups in the model (model.c owns it): names to ids and ids to names
 * and entries, a segment's values, and the checks of the ids, scopes and
 * measure tests that queries, triggers, signals and surveys give. All read
 * without def_lock: an id is checked against the published count (acquire)
 * before its entry is read. */
#include "model.h"

#include <math.h>

/* ---- scopes and measure tests ------------------------------------------------ */

cxm_status cxm__check_measure_test(const cxm_context *ctx, cxm_id metric_id, uint32_t item, cxm_cmp op,
				   double threshold, const char *who)
{
	const model *md = &ctx->model;
	if (metric_id >= atomic_load_explicit(&md->n_metrics, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined", metric_id);
	const metric *m = &md->metrics[metric_id];
	if (m->def.kind == CXM_KIND_VOLUME || m->def.kind == CXM_KIND_DISTINCT)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric '%s' is %s: it has no measures for %s to test",
				 m->name, m->def.kind == CXM_KIND_VOLUME ? "VOLUME" : "DISTINCT", who);
	uint32_t items = m->def.kind == CXM_KIND_INDEX ? m->def.questions : 1;
	if (item >= items)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "item %u: metric '%s' has %s", item, m->name,
				 items == 1 ? "only item 0" : "fewer questions");
	if ((unsigned)op > CXM_CMP_NE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "op %d is not a cxm_cmp", (int)op);
	if (!isfinite(threshold))
		return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "threshold is not finite");
	return CXM_OK;
}

cxm_status cxm__check_scope(const cxm_context *ctx, cxm_scope scope, cxm_id id, cxm_id step)
{
	const model *md = &ctx->model;
	switch (scope) {
	case CXM_SCOPE_ALL: return CXM_OK;
	case CXM_SCOPE_TOUCHPOINT:
		if (id >= atomic_load_explicit(&md->n_touchpoints, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "touchpoint %u is not defined", id);
		return CXM_OK;
	case CXM_SCOPE_STEP:
	case CXM_SCOPE_JOURNEY:
		if (id >= atomic_load_explicit(&md->n_journeys, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", id);
		if (scope == CXM_SCOPE_STEP && step >= md->journeys[id].n_steps)
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step %u",
					 md->journeys[id].name, step);
		return CXM_OK;
	case CXM_SCOPE_CHANNEL:
		if (id < CXM_CHANNEL_PHONE || id > CXM_CHANNEL_OTHER)
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "channel %u is not a cxm_channel", id);
		return CXM_OK;
	}
	return cxm__fail(ctx, CXM_ERR_INVALID, "scope %d is not a cxm_scope", (int)scope);
}

bool cxm__tp_in_scope(const cxm_context *ctx, cxm_id tp, cxm_scope scope, cxm_id id, cxm_id step)
{
	const touchpoint *t = &ctx->model.touchpoints[tp];
	switch (scope) {
	case CXM_SCOPE_ALL: return true;
	case CXM_SCOPE_TOUCHPOINT: return tp == id;
	case CXM_SCOPE_STEP: return t->journey == id && t->step == step;
	case CXM_SCOPE_JOURNEY: return t->journey == id;
	case CXM_SCOPE_CHANNEL: return (cxm_id)t->channel == id;
	}
	return false;
}

/* ---- metrics and journeys by id -------------------------------------------- */

/* The defined metric or journey id, or UNKNOWN_ID with a message. */
static cxm_status get_metric(const cxm_context *ctx, cxm_id id, const metric **out)
{
	if (id >= atomic_load_explicit(&ctx->model.n_metrics, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined", id);
	*out = &ctx->model.metrics[id];
	return CXM_OK;
}

static cxm_status get_journey(const cxm_context *ctx, cxm_id id, const journey **out)
{
	if (id >= atomic_load_explicit(&ctx->model.n_journeys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", id);
	*out = &ctx->model.journeys[id];
	return CXM_OK;
}

/* A getter's prologue: ctx and out given (CXM_ERR_INVALID), then id's
 * metric or journey (CXM_ERR_UNKNOWN_ID). */
static cxm_status metric_arg(const cxm_context *ctx, const void *out, cxm_id id, const metric **m)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	return get_metric(ctx, id, m);
}

static cxm_status journey_arg(const cxm_context *ctx, const void *out, cxm_id id, const journey **j)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	return get_journey(ctx, id, j);
}

cxm_status cxm_metric_get(cxm_metric_def *out, const cxm_context *ctx, cxm_id id)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	cxm_status st = cxm__check_out(ctx, out, CXM_MIN_METRIC_DEF_SIZE, "cxm_metric_def");
	if (st)
		return st;
	const metric *m = NULL;
	if ((st = get_metric(ctx, id, &m)))
		return st;
	cxm__put_out(out, &m->def, sizeof(cxm_metric_def));
	return CXM_OK;
}

cxm_status cxm_series_bytes(size_t *out, const cxm_context *ctx, cxm_id id)
{
	const metric *m = NULL;
	cxm_status st = metric_arg(ctx, out, id, &m);
	if (st)
		return st;
	*out = cxm__series_size(ctx, m);
	return CXM_OK;
}

/* ---- segment values -------------------------------------------------------- */

cxm_status cxm_segment_value_find(uint32_t *out, const cxm_context *ctx, cxm_id id, const char *value)
{
	if (!ctx || !out || !value)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : "value");
	segment *g = NULL;
	cxm_status st = cxm__segment_get(ctx, id, &g);
	if (st)
		return st;
	if (!cxm__name_find(&g->index, g->values, cxm__name_of_value, value, out))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value '%s'", g->name, value);
	return CXM_OK;
}

cxm_status cxm_segment_value_name(const char **out, const cxm_context *ctx, cxm_id id, uint32_t value)
{
	segment *g = NULL;
	cxm_status st = cxm__segment_arg(ctx, out, id, &g);
	if (st)
		return st;
	if (value >= atomic_load_explicit(&g->n_values, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value %u", g->name, value);
	*out = g->values[value];
	return CXM_OK;
}

cxm_status cxm_segment_values(uint32_t *out, const cxm_context *ctx, cxm_id id)
{
	segment *g = NULL;
	cxm_status st = cxm__segment_arg(ctx, out, id, &g);
	if (st)
		return st;
	*out = atomic_load_explicit(&g->n_values, memory_order_acquire);
	return CXM_OK;
}

/* ---- generic look-ups -------------------------------------------------------- */

cxm_status cxm_count(uint32_t *out, const cxm_context *ctx, cxm_object kind)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	const model *md = &ctx->model;
	switch (kind) {
	case CXM_OBJECT_JOURNEY: *out = atomic_load(&md->n_journeys); return CXM_OK;
	case CXM_OBJECT_TOUCHPOINT: *out = atomic_load(&md->n_touchpoints); return CXM_OK;
	case CXM_OBJECT_METRIC: *out = atomic_load(&md->n_metrics); return CXM_OK;
	case CXM_OBJECT_SEGMENT: *out = atomic_load(&md->n_segments); return CXM_OK;
	}
	return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_object", (int)kind);
}

cxm_status cxm_find(cxm_id *out, const cxm_context *ctx, cxm_object kind, const char *name)
{
	if (!ctx || !out || !name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "name");
	const model *md = &ctx->model;
	bool found;
	const char *what;
	switch (kind) {
	case CXM_OBJECT_JOURNEY:
		found = cxm__name_find(&md->idx_journeys, md->journeys,
				       cxm__name_of_journey, name, out);
		what = "journey";
		break;
	case CXM_OBJECT_TOUCHPOINT:
		found = cxm__name_find(&md->idx_touchpoints, md->touchpoints,
				       cxm__name_of_touchpoint, name, out);
		what = "touchpoint";
		break;
	case CXM_OBJECT_METRIC:
		found = cxm__name_find(&md->idx_metrics, md->metrics,
				       cxm__name_of_metric, name, out);
		what = "metric";
		break;
	case CXM_OBJECT_SEGMENT:
		found = cxm__name_find(&md->idx_segments, md->segments,
				       cxm__name_of_segment, name, out);
		what = "segment";
		break;
	default:
		return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_object", (int)kind);
	}
	if (!found)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "no %s is named '%s'", what, name);
	return CXM_OK;
}

cxm_status cxm_name(const char **out, const cxm_context *ctx, cxm_object kind, cxm_id id)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	const model *md = &ctx->model;
	uint32_t n;
	const char *name;
	switch (kind) {
	case CXM_OBJECT_JOURNEY:
		n = atomic_load_explicit(&md->n_journeys, memory_order_acquire);
		name = id < n ? md->journeys[id].name : NULL;
		break;
	case CXM_OBJECT_TOUCHPOINT:
		n = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
		name = id < n ? md->touchpoints[id].name : NULL;
		break;
	case CXM_OBJECT_METRIC:
		n = atomic_load_explicit(&md->n_metrics, memory_order_acquire);
		name = id < n ? md->metrics[id].name : NULL;
		break;
	case CXM_OBJECT_SEGMENT:
		n = atomic_load_explicit(&md->n_segments, memory_order_acquire);
		name = id < n ? md->segments[id].name : NULL;
		break;
	default:
		return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_object", (int)kind);
	}
	if (!name)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "id %u is not defined", id);
	*out = name;
	return CXM_OK;
}

cxm_status cxm_journey_steps(uint32_t *out, const cxm_context *ctx, cxm_id id)
{
	const journey *j = NULL;
	cxm_status st = journey_arg(ctx, out, id, &j);
	if (st)
		return st;
	*out = j->n_steps;
	return CXM_OK;
}

cxm_status cxm_step_name(const char **out, const cxm_context *ctx, cxm_id id, cxm_id step)
{
	const journey *j = NULL;
	cxm_status st = journey_arg(ctx, out, id, &j);
	if (st)
		return st;
	if (step >= j->n_steps)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step %u", j->name, step);
	*out = j->steps[step];
	return CXM_OK;
}

cxm_status cxm_step_find(cxm_id *out, const cxm_context *ctx, cxm_id id, const char *name)
{
	if (!ctx || !out || !name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "name");
	const journey *j = NULL;
	cxm_status st = get_journey(ctx, id, &j);
	if (st)
		return st;
	for (uint32_t k = 0; k < j->n_steps; k++)
		if (strcmp(j->steps[k], name) == 0) {
			*out = k;
			return CXM_OK;
		}
	return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step '%s'", j->name, name);
}

cxm_status cxm_touchpoint_get(cxm_channel *channel, cxm_id *journey_id, cxm_id *step,
			      const cxm_context *ctx, cxm_id id)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	if (id >= atomic_load_explicit(&ctx->model.n_touchpoints, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "touchpoint %u is not defined", id);
	const touchpoint *t = &ctx->model.touchpoints[id];
	if (channel)
		*channel = t->channel;
	if (journey_id)
		*journey_id = t->journey;
	if (step)
		*step = t->step;
	return CXM_OK;
}
