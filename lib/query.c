/* Combining the buckets of a window and a scope into results.
 *
 * A query never writes what feeders read: it locks one shard at a time,
 * merges the matching buckets of the scope's series into an accumulator
 * cell of its own, and finishes the metric from that cell. */
#include "cxm_internal.h"
#include "series_index.h"

#include <math.h>
#include <stdlib.h>

cxm_status cxm_query_init(cxm_query *q, size_t size)
{
	cxm_status st = cxm__init_struct(q, size, CXM_MIN_QUERY_SIZE, "cxm_query", "q");
	if (st)
		return st;
	q->segment = CXM_NONE;
	q->end_ms = CXM_NOW;
	return CXM_OK;
}

typedef struct run {
	const metric *m;
	uint32_t slot;
	int64_t a, b;   /* covered interval */
	int64_t qa, qb; /* DURATION: interval of the distribution (whole bins-tier buckets) */
	uint32_t flags;
	bool moments_only; /* DURATION: no distribution, no quantiles (alerts) */
	uint64_t stack[640]; /* accumulator for cells up to 5 KiB; aligned for any cell */
	void *acc;
} run;

static bool tp_in_scope(const touchpoint *t, const cxm_query *q)
{
	switch (q->scope) {
	case CXM_SCOPE_ALL: return true;
	case CXM_SCOPE_TOUCHPOINT: return false; /* handled directly */
	case CXM_SCOPE_STEP: return t->journey == q->id && t->step == q->step;
	case CXM_SCOPE_JOURNEY: return t->journey == q->id;
	case CXM_SCOPE_CHANNEL: return (cxm_id)t->channel == q->id;
	}
	return false;
}

static cxm_status check_query(cxm_context *ctx, const cxm_query *q, run *r)
{
	cxm_status st = cxm__check_struct(ctx, q, CXM_MIN_QUERY_SIZE, sizeof(cxm_query), "cxm_query");
	if (st)
		return st;
	if (q->reserved[0] || q->reserved[1] || q->reserved[2] || q->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_query.reserved must be zero");
	const model *md = &ctx->model;
	if (q->metric >= atomic_load_explicit(&md->n_metrics, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined", q->metric);
	r->m = &md->metrics[q->metric];
	if ((st = cxm__check_scope(ctx, q->scope, q->id, q->step)))
		return st;
	r->slot = 0;
	if (q->segment != CXM_NONE) {
		if (q->segment >= atomic_load_explicit(&md->n_segments, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment %u is not defined", q->segment);
		const segment *g = &md->segments[q->segment];
		if (q->segment_value >= atomic_load_explicit(&g->n_values, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value %u", g->name,
					 q->segment_value);
		r->slot = 1 + g->slot_base + q->segment_value;
	}
	if (q->span_ms <= 0)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "span_ms %lld is not positive",
				 (long long)q->span_ms);
	if (q->end_ms != CXM_NOW && q->end_ms != CXM_WATERMARK && (q->end_ms < 0 || q->end_ms > CXM_TIME_MAX))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "end_ms %lld is outside 0 .. CXM_TIME_MAX",
				 (long long)q->end_ms);
	return CXM_OK;
}

/* Place the window on bucket boundaries. See "Windows" in cxm.h. */
static void place_window(cxm_context *ctx, const cxm_query *q, run *r)
{
	window_span w;
	cxm__window_place(ctx, q->end_ms, q->span_ms, r->m->bins_tier, &w);
	r->a = w.a;
	r->b = w.b;
	r->qa = w.qa;
	r->qb = w.qb;
	r->flags = w.flags;
}

/* Under the series' shard lock: the query cache may be written. */
static void read_series(const cxm_context *ctx, const run *r, series *s)
{
	if (r->m->def.kind != CXM_KIND_DURATION && r->m->def.kind != CXM_KIND_DISTINCT) {
		cxm__series_read_cached(ctx, s, r->a, r->b, r->acc, READ_ALL);
		return;
	}
	const bool dist = !r->moments_only || r->m->def.kind == CXM_KIND_DISTINCT;
	/* a distribution kept in every tier, over the same interval as the
	 * moments: one walk for both parts */
	if (dist && r->m->bins_tier == 0 && r->qa == r->a && r->qb == r->b) {
		cxm__series_read_cached(ctx, s, r->a, r->b, r->acc, READ_ALL);
		return;
	}
	cxm__series_read_cached(ctx, s, r->a, r->b, r->acc, READ_MOMENTS);
	if (dist)
		cxm__series_read_cached(ctx, s, r->qa, r->qb, r->acc, READ_DIST);
}

static cxm_status accumulate(cxm_context *ctx, const cxm_query *q, run *r)
{
	const metric *m = r->m;
	r->acc = m->cell_size <= sizeof r->stack ? (void *)r->stack : cxm__alloc(ctx, m->cell_size);
	if (!r->acc)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating a query accumulator failed");
	cxm__cell_init_full(m, r->acc);
	place_window(ctx, q, r);
	if (r->a >= r->b && r->qa >= r->qb)
		return CXM_OK;
	const model *md = &ctx->model;
	uint32_t n_tp = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
	/* a touchpoint's series all live in one shard */
	uint32_t i = q->scope == CXM_SCOPE_TOUCHPOINT ? q->id % ctx->n_shards : 0;
	uint32_t last = q->scope == CXM_SCOPE_TOUCHPOINT ? i + 1 : ctx->n_shards;
	for (; i < last; i++) {
		shard *sh = &ctx->shards[i];
		pthread_mutex_lock(&sh->lock);
		if (q->scope == CXM_SCOPE_TOUCHPOINT) {
			series **grp = cxm__index_group(ctx, sh, q->metric, q->id);
			if (grp && grp[r->slot])
				read_series(ctx, r, grp[r->slot]);
		} else if (cxm__index_has_metric(sh, q->metric)) {
			for (uint32_t t = i; t < n_tp; t += ctx->n_shards) {
				series **grp = cxm__index_group(ctx, sh, q->metric, t);
				if (grp && grp[r->slot] && tp_in_scope(&md->touchpoints[t], q))
					read_series(ctx, r, grp[r->slot]);
			}
		}
		pthread_mutex_unlock(&sh->lock);
	}
	return CXM_OK;
}

static void run_done(cxm_context *ctx, run *r)
{
	if (r->acc && r->acc != (void *)r->stack)
		cxm__free(ctx, r->acc, r->m->cell_size);
	r->acc = NULL;
}

/* ---- finishing ---------------------------------------------------------------- */

static void finish(const cxm_context *ctx, const run *r, cxm_result *res)
{
	const metric *m = r->m;
	res->kind = m->def.kind;
	res->headline = m->headline;
	res->start_ms = r->a;
	res->end_ms = r->b;
	res->flags = r->flags;
	res->questions = 1;
	res->value = res->ci_low = res->ci_high = NAN;
	res->top_share = res->bottom_share = res->mean = res->min = res->max = NAN;
	res->stddev = res->p50 = res->p90 = res->p99 = NAN;
	for (int q = 0; q < CXM_MAX_QUESTIONS; q++)
		res->item_net[q] = m->def.kind == CXM_KIND_INDEX && (uint32_t)q < m->def.questions ? NAN : 0;
	cxm__cell_result(m, r->acc, ctx->z, !r->moments_only, res);
	if (m->def.kind == CXM_KIND_DISTINCT ||
	    (m->def.kind == CXM_KIND_DURATION && !r->moments_only)) {
		res->quantile_start_ms = r->qa;
		res->quantile_end_ms = r->qb;
	}
	if (m->def.kind != CXM_KIND_DISTINCT &&
	    (m->def.kind == CXM_KIND_VOLUME || m->headline == CXM_HEADLINE_COUNT))
		res->value = (double)res->n;
	if (res->n == 0)
		res->flags |= CXM_RESULT_EMPTY;
	if (res->n < ctx->min_samples)
		res->flags |= CXM_RESULT_LOW_SAMPLE;
}

static cxm_status query_run(cxm_result *out, cxm_context *ctx, const cxm_query *q, bool moments_only)
{
	if (!ctx || !out || !q)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "q");
	cxm_status st = cxm__check_out(ctx, out, CXM_MIN_RESULT_SIZE, "cxm_result");
	if (st)
		return st;
	run r;
	r.acc = NULL;
	r.moments_only = moments_only;
	if ((st = check_query(ctx, q, &r)) || (st = accumulate(ctx, q, &r))) {
		return st;
	}
	cxm_result res;
	memset(&res, 0, sizeof res);
	res.size = sizeof res;
	finish(ctx, &r, &res);
	run_done(ctx, &r);
	cxm__put_out(out, &res, sizeof res);
	return CXM_OK;
}

cxm_status cxm_query_run(cxm_result *out, cxm_context *ctx, const cxm_query *q)
{
	return query_run(out, ctx, q, false);
}

cxm_status cxm__query_headline(cxm_result *out, cxm_context *ctx, const cxm_query *q)
{
	return query_run(out, ctx, q, true);
}

cxm_status cxm_query_quantiles(double *out, cxm_context *ctx, const cxm_query *q, const double *qs,
			       size_t n)
{
	if (!ctx || !out || !q || !qs)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !q ? "q" : "qs");
	if (n < 1 || n > 64)
		return cxm__fail(ctx, CXM_ERR_INVALID, "n %zu is outside 1 .. 64", n);
	for (size_t i = 0; i < n; i++) {
		if (isnan(qs[i]))
			return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "quantile %zu is NaN", i);
		if (!(qs[i] >= 0 && qs[i] <= 1))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "quantile %s is outside 0 .. 1", cxm__num(qs[i]).s);
	}
	run r;
	r.acc = NULL;
	r.moments_only = false;
	cxm_status st = check_query(ctx, q, &r);
	if (st)
		return st;
	if (r.m->def.kind != CXM_KIND_DURATION)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric '%s' is not a DURATION", r.m->name);
	if ((st = accumulate(ctx, q, &r)))
		return st;
	for (size_t i = 0; i < n; i++) {
		bool clamped = false;
		out[i] = cxm__sketch_quantile(&r.m->sk, r.acc, qs[i], &clamped);
	}
	run_done(ctx, &r);
	return CXM_OK;
}

cxm_status cxm_query_distribution(uint64_t *out, size_t cap, size_t *n_out, cxm_context *ctx,
				  const cxm_query *q, uint32_t item)
{
	if (!ctx || !out || !n_out || !q)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !n_out ? "n_out" : "q");
	run r;
	r.acc = NULL;
	r.moments_only = false;
	cxm_status st = check_query(ctx, q, &r);
	if (st)
		return st;
	const metric *m = r.m;
	if (m->def.kind != CXM_KIND_SCORE && m->def.kind != CXM_KIND_INDEX)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric '%s' is not a SCORE or INDEX", m->name);
	if (item >= m->def.questions)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "metric '%s' has no question %u", m->name, item);
	if (cap < m->points) {
		*n_out = m->points;
		return cxm__fail(ctx, CXM_ERR_LIMIT, "cap %zu is below the %u points of metric '%s'", cap,
				 m->points, m->name);
	}
	if ((st = accumulate(ctx, q, &r)))
		return st;
	memcpy(out, cxm__cell_points(m, r.acc, item), sizeof(uint64_t) * m->points);
	*n_out = m->points;
	run_done(ctx, &r);
	return CXM_OK;
}

/* ---- comparing two windows or segments ------------------------------------------ */

/* The headline's standard error on its own scale, from a finished result. */
static double headline_se(const cxm_result *r)
{
	double n = (double)r->n, p, d;
	switch (r->headline) {
	case CXM_HEADLINE_NET:
		p = r->top_share;
		d = r->bottom_share;
		return 100 * sqrt(((p + d) - (p - d) * (p - d)) / n);
	case CXM_HEADLINE_TOP_BOX:
	case CXM_HEADLINE_SHARE:
		p = r->top_share;
		return 100 * sqrt(p * (1 - p) / n);
	case CXM_HEADLINE_BOTTOM_BOX:
		p = r->bottom_share;
		return 100 * sqrt(p * (1 - p) / n);
	case CXM_HEADLINE_MEAN: return r->stddev / sqrt(n);
	default: return NAN;
	}
}

/* c's interval, z and p-value for its difference with standard error se
 * (normal); NaN without samples on both sides (have) or without an error,
 * but a zero-width interval for samples without variance. */
static void diff_test(cxm_comparison *c, double se, bool have, double z)
{
	if (!have || !(se > 0)) {
		c->ci_low = c->ci_high = c->z = c->p_value = NAN;
		if (have && se == 0) /* identical, variance-free samples */
			c->ci_low = c->ci_high = c->difference;
		return;
	}
	c->ci_low = c->difference - z * se;
	c->ci_high = c->difference + z * se;
	c->z = c->difference / se;
	c->p_value = erfc(fabs(c->z) / sqrt(2.0));
}

static cxm_status compare(cxm_comparison *out, cxm_context *ctx, const cxm_query *a,
			  const cxm_query *b, bool moments_only)
{
	if (!ctx || !out || !a || !b)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !a ? "a" : "b");
	cxm_status st = cxm__check_out(ctx, out, CXM_MIN_COMPARISON_SIZE, "cxm_comparison");
	if (st)
		return st;
	cxm_result ra = {.size = sizeof ra}, rb = {.size = sizeof rb};
	if ((st = query_run(&ra, ctx, a, moments_only)) || (st = query_run(&rb, ctx, b, moments_only)))
		return st;
	if (a->metric != b->metric)
		return cxm__fail(ctx, CXM_ERR_INVALID, "the queries name metrics %u and %u; compare one metric",
				 a->metric, b->metric);
	if (ra.kind == CXM_KIND_INDEX || ra.headline == CXM_HEADLINE_SUM ||
	    ra.headline == CXM_HEADLINE_COUNT)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric %u's headline has no test (SUM, COUNT or an INDEX)",
				 a->metric);
	cxm_comparison c;
	memset(&c, 0, sizeof c);
	c.size = sizeof c;
	c.flags = ra.flags | rb.flags;
	c.headline = ra.headline;
	c.a = ra.value;
	c.b = rb.value;
	c.n_a = ra.n;
	c.n_b = rb.n;
	c.difference = rb.value - ra.value;
	diff_test(&c, sqrt(pow(headline_se(&ra), 2) + pow(headline_se(&rb), 2)), ra.n && rb.n, ctx->z);
	cxm__put_out(out, &c, sizeof c);
	return CXM_OK;
}

cxm_status cxm__query_vs_value(cxm_comparison *out, cxm_context *ctx, const cxm_query *q, double a)
{
	cxm_status st = cxm__check_out(ctx, out, CXM_MIN_COMPARISON_SIZE, "cxm_comparison");
	if (st)
		return st;
	cxm_result r = {.size = sizeof r};
	if ((st = query_run(&r, ctx, q, false)))
		return st;
	if (r.kind == CXM_KIND_INDEX || r.headline == CXM_HEADLINE_SUM || r.headline == CXM_HEADLINE_COUNT)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric %u's headline has no test (SUM, COUNT or an INDEX)",
				 q->metric);
	cxm_comparison c;
	memset(&c, 0, sizeof c);
	c.size = sizeof c;
	c.flags = r.flags;
	c.headline = r.headline;
	c.a = a;
	c.b = r.value;
	c.n_b = r.n;
	c.difference = r.value - a;
	diff_test(&c, headline_se(&r), r.n != 0, ctx->z);
	cxm__put_out(out, &c, sizeof c);
	return CXM_OK;
}

cxm_status cxm_query_compare(cxm_comparison *out, cxm_context *ctx, const cxm_query *a,
			     const cxm_query *b)
{
	return compare(out, ctx, a, b, false);
}

cxm_status cxm__query_compare_headline(cxm_comparison *out, cxm_context *ctx, const cxm_query *a,
				       const cxm_query *b)
{
	return compare(out, ctx, a, b, true);
}

/* ---- group-by and time series ------------------------------------------------------ */

/* Run q2 into element i of out (stride: out[0].size). */
static cxm_status run_into(cxm_result *out, size_t i, cxm_context *ctx, const cxm_query *q2)
{
	return cxm__query_into(out, i, ctx, q2, false);
}

cxm_status cxm__query_into(cxm_result *out, size_t i, cxm_context *ctx, const cxm_query *q2,
			   bool exact)
{
	cxm_result res;
	memset(&res, 0, sizeof res);
	res.size = sizeof res;
	cxm_status st = query_run(&res, ctx, q2, false);
	if (st)
		return st;
	if (exact && (res.start_ms != q2->end_ms + 1 - q2->span_ms || res.end_ms != q2->end_ms + 1))
		res.flags |= CXM_RESULT_INEXACT;
	const size_t stride = out[0].size;
	unsigned char *dst = (unsigned char *)out + i * stride;
	memcpy(dst, &stride, sizeof stride); /* put_out keeps an element's size */
	cxm__put_out(dst, &res, sizeof res);
	return CXM_OK;
}

/* The arguments every multi-result query checks: the pointers, the
 * caller's array, and the query itself (so that nothing is written when it
 * is refused). */
static cxm_status multi_args(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx,
			     const cxm_query *q, run *r);

cxm_status cxm__query_multi_args(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx,
				 const cxm_query *q)
{
	run r;
	return multi_args(out, cap, n_out, ctx, q, &r);
}

static cxm_status multi_args(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx,
			     const cxm_query *q, run *r)
{
	if (!ctx || !n_out || !q || (!out && cap))
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !n_out ? "n_out" : !q ? "q" : "out");
	cxm_status st = cap ? cxm__check_out(ctx, out, CXM_MIN_RESULT_SIZE, "cxm_result") : CXM_OK;
	if (st)
		return st;
	r->acc = NULL;
	r->moments_only = false;
	return check_query(ctx, q, r);
}

cxm_status cxm_query_group(cxm_result *out, uint32_t *keys, size_t cap, size_t *n_out, cxm_context *ctx,
			   const cxm_query *q, cxm_group_by by, cxm_id dim)
{
	run r;
	cxm_status st = multi_args(out, cap, n_out, ctx, q, &r);
	if (st)
		return st;
	if (by < CXM_GROUP_TOUCHPOINT || by > CXM_GROUP_CHANNEL)
		return cxm__fail(ctx, CXM_ERR_INVALID, "by %d is not a cxm_group_by", (int)by);
	if (by != CXM_GROUP_SEGMENT && dim != CXM_NONE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "dim is for CXM_GROUP_SEGMENT only");
	const model *md = &ctx->model;
	const uint32_t n_tp = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
	uint32_t n = 0, has_channel = 0;
	switch (by) {
	case CXM_GROUP_TOUCHPOINT:
		for (uint32_t t = 0; t < n_tp; t++)
			n += cxm__tp_in_scope(ctx, t, q->scope, q->id, q->step);
		break;
	case CXM_GROUP_SEGMENT:
		if (dim >= atomic_load_explicit(&md->n_segments, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment %u is not defined", dim);
		if (q->segment != CXM_NONE)
			return cxm__fail(ctx, CXM_ERR_UNSUPPORTED,
					 "a query filtered on a segment cannot be broken down by another: "
					 "values of two dimensions together are not kept");
		n = atomic_load_explicit(&md->segments[dim].n_values, memory_order_acquire);
		break;
	case CXM_GROUP_STEP:
		if (q->scope != CXM_SCOPE_JOURNEY)
			return cxm__fail(ctx, CXM_ERR_INVALID, "a breakdown by step needs a query of a journey");
		n = md->journeys[q->id].n_steps;
		break;
	case CXM_GROUP_CHANNEL:
		if (q->scope != CXM_SCOPE_ALL)
			return cxm__fail(ctx, CXM_ERR_INVALID,
					 "a breakdown by channel needs a query of every touchpoint");
		for (uint32_t t = 0; t < n_tp; t++)
			has_channel |= 1u << md->touchpoints[t].channel;
		n = (uint32_t)__builtin_popcount(has_channel);
		break;
	}
	*n_out = n;
	if (n > cap)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "%u groups; the arrays hold %zu", n, cap);
	cxm_query q2 = *q;
	q2.size = sizeof q2;
	uint32_t i = 0;
	for (uint32_t k = 0; i < n; k++) {
		switch (by) {
		case CXM_GROUP_TOUCHPOINT:
			if (k >= n_tp) /* defined meanwhile: not counted above */
				goto done;
			if (!cxm__tp_in_scope(ctx, k, q->scope, q->id, q->step))
				continue;
			q2.scope = CXM_SCOPE_TOUCHPOINT;
			q2.id = k;
			break;
		case CXM_GROUP_SEGMENT:
			q2.segment = dim;
			q2.segment_value = k;
			break;
		case CXM_GROUP_STEP:
			q2.scope = CXM_SCOPE_STEP;
			q2.step = k;
			break;
		case CXM_GROUP_CHANNEL:
			if (!(has_channel >> k & 1))
				continue;
			q2.scope = CXM_SCOPE_CHANNEL;
			q2.id = k;
			break;
		}
		if ((st = run_into(out, i, ctx, &q2)))
			return st;
		if (keys)
			keys[i] = k;
		i++;
	}
done:
	*n_out = i;
	return CXM_OK;
}

cxm_status cxm_query_series(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx, const cxm_query *q,
			    int64_t step_ms)
{
	run r;
	cxm_status st = multi_args(out, cap, n_out, ctx, q, &r);
	if (st)
		return st;
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	if (step_ms <= 0 || step_ms % w0 || step_ms > q->span_ms)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "step_ms %lld: a positive multiple of the finest bucket (%lld ms), at most "
				 "the span (%lld ms)",
				 (long long)step_ms, (long long)w0, (long long)q->span_ms);
	window_span w;
	cxm__window_place(ctx, q->end_ms, q->span_ms, r.m->bins_tier, &w);
	const int64_t n = w.b > w.a ? (w.b - w.a + step_ms - 1) / step_ms : 1;
	*n_out = (size_t)n;
	if ((uint64_t)n > cap)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "%lld windows; out holds %zu", (long long)n, cap);
	cxm_query q2 = *q;
	q2.size = sizeof q2;
	q2.span_ms = step_ms;
	for (int64_t i = 0; i < n; i++) {
		q2.end_ms = w.b - (n - 1 - i) * step_ms - 1;
		if (q2.end_ms < 0) { /* before time 0: an empty window at 0 */
			q2.end_ms = 0;
		}
		if ((st = run_into(out, (size_t)i, ctx, &q2)))
			return st;
	}
	return CXM_OK;
}
