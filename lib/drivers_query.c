/* Key drivers: the analysis of a driver set's statistics (importance,
 * its interval and test, quadrants, outcome by experience band). */
#include "drivers.h"

#include <math.h>
#include <string.h>

/* ---- the analysis ----------------------------------------------------------------------- */

static void band_answer(const cxm_context *ctx, const mom *a, cxm_driver_band *b)
{
	b->n = (uint64_t)a->n;
	b->mean = a->n > 0 ? a->mean : NAN;
	b->ci_low = b->ci_high = NAN;
	if (a->n >= 2) {
		double half = cxm__t_quantile(1 - ctx->confidence, a->n - 1) * sqrt(a->m2 / (a->n - 1) / a->n);
		b->ci_low = a->mean - half;
		b->ci_high = a->mean + half;
	}
}

static void driver_answer(const cxm_context *ctx, const drv_set *s, uint32_t d, const drv_stat *t,
			  cxm_driver *o)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->touchpoint = s->tp[d];
	o->n = (uint64_t)t->x.n;
	const double n = t->x.n;
	o->importance = o->ci_low = o->ci_high = o->p_value = NAN;
	o->performance = n > 0 ? t->x.mean : NAN;
	o->outcome_mean = n > 0 ? t->y.mean : NAN;
	if (n >= 3 && t->x.m2 > 0 && t->y.m2 > 0) {
		double r = t->cxy / sqrt(t->x.m2 * t->y.m2);
		r = r > 1 ? 1 : r < -1 ? -1 : r;
		o->importance = r;
		o->p_value = fabs(r) >= 1 ? 0 : cxm__t_two_sided(fabs(r) * sqrt((n - 2) / (1 - r * r)), n - 2);
		if (n >= 4) {
			double z = atanh(r > 0.999999999999 ? 0.999999999999 : r < -0.999999999999 ? -0.999999999999 : r);
			double half = ctx->z / sqrt(n - 3);
			o->ci_low = tanh(z - half);
			o->ci_high = tanh(z + half);
		}
		o->significant = o->p_value < 1 - ctx->confidence;
	}
	for (int i = 0; i < 3; i++)
		band_answer(ctx, &t->band[i], &o->bands[i]);
	const mom *lo = &t->band[0], *hi = &t->band[2];
	o->band_difference = o->band_ci_low = o->band_ci_high = o->band_p_value = NAN;
	if (lo->n > 0 && hi->n > 0)
		o->band_difference = hi->mean - lo->mean;
	if (lo->n >= 2 && hi->n >= 2) {
		double va = lo->m2 / (lo->n - 1) / lo->n, vb = hi->m2 / (hi->n - 1) / hi->n;
		double se = sqrt(va + vb);
		if (se > 0) {
			double df = (va + vb) * (va + vb) / (va * va / (lo->n - 1) + vb * vb / (hi->n - 1));
			double half = cxm__t_quantile(1 - ctx->confidence, df) * se;
			o->band_ci_low = o->band_difference - half;
			o->band_ci_high = o->band_difference + half;
			o->band_p_value = cxm__t_two_sided(fabs(o->band_difference) / se, df);
		}
	}
}

cxm_status cxm_drivers_run(cxm_drivers_result *res, cxm_driver *out, size_t cap, cxm_context *ctx,
			   cxm_id set)
{
	if (!res || !ctx || (!out && cap))
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !res ? "res" : "out");
	cxm_status st = cxm__check_out(ctx, res, sizeof *res, "cxm_drivers_result");
	if (!st && cap)
		st = cxm__check_out(ctx, out, sizeof *out, "cxm_driver");
	if (st)
		return st;
	const struct drv_mod *m = mod_of(ctx);
	if (set >= count_of(m))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "driver set %u is not defined", set);
	drv_set *s = m->s[set];
	drv_stat *copy = cxm__alloc(ctx, sizeof(drv_stat) * s->n);
	cxm_driver *ans = cxm__alloc(ctx, sizeof(cxm_driver) * s->n);
	if (!copy || !ans) {
		cxm__free(ctx, copy, copy ? sizeof(drv_stat) * s->n : 0);
		cxm__free(ctx, ans, ans ? sizeof(cxm_driver) * s->n : 0);
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the drivers' answer failed");
	}
	cxm_drivers_result r = {.size = sizeof r, .n_drivers = s->n};
	pthread_mutex_lock(&s->stat_lock);
	memcpy(copy, s->stat, sizeof(drv_stat) * s->n);
	r.outcomes = s->outcomes;
	r.paired = s->paired;
	r.unremembered = s->unremembered;
	pthread_mutex_unlock(&s->stat_lock);
	r.customers = atomic_load_explicit(&s->records, memory_order_relaxed);
	r.memory_bytes = sizeof *s + s->n_of_tp + atomic_load_explicit(&s->rec_bytes, memory_order_relaxed);
	/* quadrants: importance (0 when not significant) and performance
	 * against the means of the placed drivers */
	double imp = 0, perf = 0;
	uint32_t placed = 0;
	for (uint32_t d = 0; d < s->n; d++) {
		driver_answer(ctx, s, d, &copy[d], &ans[d]);
		if (isfinite(ans[d].importance)) {
			imp += ans[d].significant ? fabs(ans[d].importance) : 0;
			perf += ans[d].performance;
			placed++;
		}
	}
	for (uint32_t d = 0; d < s->n && placed; d++) {
		cxm_driver *o = &ans[d];
		if (!isfinite(o->importance))
			continue;
		const bool hi_imp = (o->significant ? fabs(o->importance) : 0) > imp / placed;
		const bool hi_perf = o->performance >= perf / placed;
		o->quadrant = hi_imp ? (hi_perf ? CXM_QUADRANT_STRENGTH : CXM_QUADRANT_PRIORITY)
				     : (hi_perf ? CXM_QUADRANT_MAINTAIN : CXM_QUADRANT_LOW);
	}
	const size_t stride = cap ? out[0].size : 0;
	for (size_t d = 0; d < s->n && d < cap; d++) {
		unsigned char *dst = (unsigned char *)out + d * stride;
		memcpy(dst, &stride, sizeof stride); /* put_out keeps an element's size */
		cxm__put_out(dst, &ans[d], sizeof ans[d]);
	}
	cxm__put_out(res, &r, sizeof r);
	cxm__free(ctx, copy, sizeof(drv_stat) * s->n);
	cxm__free(ctx, ans, sizeof(cxm_driver) * s->n);
	if (cap < s->n)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "driver set %u has %u drivers; %zu were asked for",
				 set, s->n, cap);
	return CXM_OK;
}
