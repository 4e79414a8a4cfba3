/* Validating an interaction against the model (the feed's first step,
 * feed.c): every field and measure checked before anything is folded, a
 * specific error and message for the first fault. */
#include "cxm_internal.h"

#include <math.h>

static cxm_status check_measure(const cxm_context *ctx, const cxm_measure *ms, size_t j,
				uint32_t n_metrics)
{
	if (ms->metric >= n_metrics)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "measure %zu: metric %u is not defined", j,
				 ms->metric);
	const metric *m = &ctx->model.metrics[ms->metric];
	double v = ms->value;
	if (m->def.kind == CXM_KIND_VOLUME || m->def.kind == CXM_KIND_DISTINCT)
		return cxm__fail(ctx, CXM_ERR_KIND,
				 "measure %zu: metric '%s' is a %s, fed by the interaction itself", j,
				 m->name, m->def.kind == CXM_KIND_VOLUME ? "VOLUME" : "DISTINCT");
	if (!isfinite(v))
		return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "measure %zu: value for metric '%s' is not finite",
				 j, m->name);
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		if (ms->item >= m->def.questions)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "measure %zu: metric '%s' has no question %u", j, m->name, ms->item);
		if (cxm__is_na(m, v))
			break;
		if (v != floor(v) || v < m->def.scale_min || v > m->def.scale_max)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "measure %zu: score %s is not a point of %d .. %d for metric '%s'",
					 j, cxm__num(v).s, m->def.scale_min, m->def.scale_max, m->name);
		break;
	case CXM_KIND_DURATION:
		if (ms->item)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "measure %zu: item must be 0", j);
		if (cxm__is_na(m, v))
			break;
		if (v < 0 || v > CXM_VALUE_MAX)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "measure %zu: duration %s s for metric '%s' is outside 0 .. %g", j,
					 cxm__num(v).s, m->name, CXM_VALUE_MAX);
		break;
	case CXM_KIND_RATE:
		if (ms->item)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "measure %zu: item must be 0", j);
		if (v != 0 && v != 1 && !cxm__is_na(m, v))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "measure %zu: rate value %s for metric '%s' is not 0 or 1", j, cxm__num(v).s,
					 m->name);
		break;
	case CXM_KIND_AMOUNT:
		if (ms->item)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "measure %zu: item must be 0", j);
		if (fabs(v) > CXM_VALUE_MAX)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "measure %zu: amount %s for metric '%s' is outside -%g .. %g", j, cxm__num(v).s,
					 m->name, CXM_VALUE_MAX, CXM_VALUE_MAX);
		break;
	case CXM_KIND_SENTIMENT:
		if (ms->item)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "measure %zu: item must be 0", j);
		if (!(v >= -1 && v <= 1) && !cxm__is_na(m, v))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "measure %zu: sentiment %s for metric '%s' is outside -1 .. 1", j,
					 cxm__num(v).s, m->name);
		break;
	case CXM_KIND_VOLUME:
	case CXM_KIND_DISTINCT: break;
	}
	return CXM_OK;
}

/* Whether check_measure() would accept ms, without a message: the
 * common case inline. False may be wrong (check_measure decides then);
 * true never is. */
static inline bool measure_ok(const cxm_context *ctx, const cxm_measure *ms, uint32_t n_metrics)
{
	if (ms->metric >= n_metrics)
		return false;
	const metric *m = &ctx->model.metrics[ms->metric];
	const double v = ms->value;
	if (!isfinite(v))
		return false;
	const bool na = cxm__is_na(m, v);
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		/* a point of the scale: within it (a 32-bit range), then whole */
		return ms->item < m->def.questions &&
		       (na || (v >= m->def.scale_min && v <= m->def.scale_max && v == (double)(int32_t)v));
	case CXM_KIND_DURATION: return !ms->item && (na || (v >= 0 && v <= CXM_VALUE_MAX));
	case CXM_KIND_RATE: return !ms->item && (v == 0 || v == 1 || na);
	case CXM_KIND_AMOUNT: return !ms->item && fabs(v) <= CXM_VALUE_MAX;
	case CXM_KIND_SENTIMENT: return !ms->item && ((v >= -1 && v <= 1) || na);
	default: return false; /* VOLUME, DISTINCT: refused */
	}
}

cxm_status cxm__validate(const cxm_context *ctx, const cxm_interaction *ix)
{
	/* a newer caller's fields must be unset: checked here so that every
	 * element of a batch is held to it, not only the first */
	cxm_status st = cxm__check_tail(ctx, ix, ix->size, sizeof *ix, "cxm_interaction");
	if (st)
		return st;
	if (ix->reserved0 || ix->reserved[0] || ix->reserved[1] || ix->reserved[2] || ix->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_interaction reserved fields must be zero");
	if (ix->time_ms < 0 || ix->time_ms > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "time %lld ms is outside 0 .. CXM_TIME_MAX",
				 (long long)ix->time_ms);
	if (ix->customer_len > ctx->max_customer_id_len)
		return cxm__fail(ctx, CXM_ERR_TOO_LONG, "customer id of %zu bytes is longer than %u",
				 ix->customer_len, ctx->max_customer_id_len);
	if (ix->customer_len && !ix->customer)
		return cxm__fail(ctx, CXM_ERR_INVALID, "customer is NULL with customer_len %zu",
				 ix->customer_len);
	const model *md = &ctx->model;
	if (ix->touchpoint >= atomic_load_explicit(&md->n_touchpoints, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "touchpoint %u is not defined", ix->touchpoint);
	if (ix->n_segments) {
		if (!ix->segments)
			return cxm__fail(ctx, CXM_ERR_INVALID, "segments is NULL with n_segments %zu",
					 ix->n_segments);
		uint32_t nd = atomic_load_explicit(&md->n_segments, memory_order_acquire);
		if (ix->n_segments > nd)
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID,
					 "n_segments %zu is more than the %u dimensions defined",
					 ix->n_segments, nd);
		for (size_t d = 0; d < ix->n_segments; d++) {
			uint32_t v = ix->segments[d];
			if (v != CXM_NONE &&
			    v >= atomic_load_explicit(&md->segments[d].n_values, memory_order_acquire))
				return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value %u",
						 md->segments[d].name, v);
		}
	}
	if (ix->n_measures) {
		if (!ix->measures)
			return cxm__fail(ctx, CXM_ERR_INVALID, "measures is NULL with n_measures %zu",
					 ix->n_measures);
		if (ix->n_measures > ctx->max_measures)
			return cxm__fail(ctx, CXM_ERR_LIMIT, "%zu measures; max_measures is %u",
					 ix->n_measures, ctx->max_measures);
		uint32_t nm = atomic_load_explicit(&md->n_metrics, memory_order_acquire);
		for (size_t j = 0; j < ix->n_measures; j++) {
			if (!measure_ok(ctx, &ix->measures[j], nm) &&
			    (st = check_measure(ctx, &ix->measures[j], j, nm)))
				return st;
		}
	}
	return CXM_OK;
}
