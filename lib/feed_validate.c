/* Validating an interaction against the model (the feed's first step,
 * feed.c): every field and measure checked before anything is folded, a
 * specific error and message for the first fault. */
#include "cxm_internal.h"

#include <math.h>

/* What is wrong with a measure, if anything: one set of rules, which the
 * feed runs inline (measure_fault) and which names the error only when a
 * rule fails (measure_error). */
typedef enum fault {
	F_NONE,
	F_METRIC,   /* not defined */
	F_KIND,     /* a VOLUME or DISTINCT: fed by the interaction itself */
	F_FINITE,   /* NaN or infinite */
	F_QUESTION, /* a SCORE or INDEX item past its questions */
	F_ITEM,     /* another kind's item not 0 */
	F_POINT,    /* a score not a point of the scale */
	F_DURATION, /* outside 0 .. CXM_VALUE_MAX */
	F_RATE,     /* not 0 or 1 */
	F_AMOUNT,   /* outside -CXM_VALUE_MAX .. CXM_VALUE_MAX */
	F_SENTIMENT /* outside -1 .. 1 */
} fault;

/* The first rule ms breaks, in the order the errors are documented; a
 * value that is the metric's no-answer code is in range. */
static inline fault measure_fault(const cxm_context *ctx, const cxm_measure *ms, uint32_t n_metrics)
{
	if (ms->metric >= n_metrics)
		return F_METRIC;
	const metric *m = &ctx->model.metrics[ms->metric];
	const double v = ms->value;
	if (m->def.kind == CXM_KIND_VOLUME || m->def.kind == CXM_KIND_DISTINCT)
		return F_KIND;
	if (!isfinite(v))
		return F_FINITE;
	const bool na = cxm__is_na(m, v);
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		if (ms->item >= m->def.questions)
			return F_QUESTION;
		/* a point of the scale: within it (a 32-bit range), then whole */
		return na || (v >= m->def.scale_min && v <= m->def.scale_max && v == (double)(int32_t)v)
			       ? F_NONE
			       : F_POINT;
	case CXM_KIND_DURATION: return ms->item ? F_ITEM : na || (v >= 0 && v <= CXM_VALUE_MAX) ? F_NONE : F_DURATION;
	case CXM_KIND_RATE: return ms->item ? F_ITEM : v == 0 || v == 1 || na ? F_NONE : F_RATE;
	case CXM_KIND_AMOUNT: return ms->item ? F_ITEM : fabs(v) <= CXM_VALUE_MAX ? F_NONE : F_AMOUNT;
	case CXM_KIND_SENTIMENT: return ms->item ? F_ITEM : (v >= -1 && v <= 1) || na ? F_NONE : F_SENTIMENT;
	default: return F_KIND;
	}
}

/* The error and message for measure j's fault f (not F_NONE). */
static cxm_status measure_error(const cxm_context *ctx, const cxm_measure *ms, size_t j, fault f)
{
	if (f == F_METRIC)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "measure %zu: metric %u is not defined", j,
				 ms->metric);
	const metric *m = &ctx->model.metrics[ms->metric];
	const double v = ms->value;
	switch (f) {
	case F_KIND:
		return cxm__fail(ctx, CXM_ERR_KIND,
				 "measure %zu: metric '%s' is a %s, fed by the interaction itself", j,
				 m->name, m->def.kind == CXM_KIND_VOLUME ? "VOLUME" : "DISTINCT");
	case F_FINITE:
		return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "measure %zu: value for metric '%s' is not finite",
				 j, m->name);
	case F_QUESTION:
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "measure %zu: metric '%s' has no question %u", j,
				 m->name, ms->item);
	case F_ITEM: return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "measure %zu: item must be 0", j);
	case F_POINT:
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "measure %zu: score %s is not a point of %d .. %d for metric '%s'", j,
				 cxm__num(v).s, m->def.scale_min, m->def.scale_max, m->name);
	case F_DURATION:
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "measure %zu: duration %s s for metric '%s' is outside 0 .. %g", j,
				 cxm__num(v).s, m->name, CXM_VALUE_MAX);
	case F_RATE:
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "measure %zu: rate value %s for metric '%s' is not 0 or 1", j, cxm__num(v).s,
				 m->name);
	case F_AMOUNT:
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "measure %zu: amount %s for metric '%s' is outside -%g .. %g", j, cxm__num(v).s,
				 m->name, CXM_VALUE_MAX, CXM_VALUE_MAX);
	case F_SENTIMENT:
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "measure %zu: sentiment %s for metric '%s' is outside -1 .. 1", j,
				 cxm__num(v).s, m->name);
	case F_NONE:
	case F_METRIC: break;
	}
	return CXM_OK;
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
			const fault f = measure_fault(ctx, &ix->measures[j], nm);
			if (f != F_NONE)
				return measure_error(ctx, &ix->measures[j], j, f);
		}
	}
	return CXM_OK;
}
