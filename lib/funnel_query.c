/* Funnel and churn queries (readers): a journey's funnel by event time
 * and by entry cohort, step-time quantiles, the churn rate. They read the
 * groups journeys.c keeps, under each journey's lock. */
#include "journeys.h"

#include <math.h>
#include <stdio.h>

/* ---- windows -------------------------------------------------------------------- */

static inline int64_t ceildiv(int64_t a, int64_t b)
{
	return -floordiv64(-a, b);
}

static cxm_status check_window(const cxm_context *ctx, int64_t end_ms, int64_t span_ms)
{
	if (span_ms <= 0)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "span_ms %lld is not positive",
				 (long long)span_ms);
	if (end_ms != CXM_NOW && end_ms != CXM_WATERMARK && (end_ms < 0 || end_ms > CXM_TIME_MAX))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "end_ms %lld is outside 0 .. CXM_TIME_MAX",
				 (long long)end_ms);
	return CXM_OK;
}

/* [a, b): whole finest buckets, the one holding end last; [qa, qb): that
 * widened to whole buckets of tier bt. */
/* A funnel's, a funnel quantile's or a churn rate's window, placed as a
 * query's is (see cxm__window_place); returns its CXM_RESULT_TRUNCATED. */
static uint32_t place(const cxm_context *ctx, int64_t end_ms, int64_t span_ms, uint32_t bt, int64_t *a,
		      int64_t *b, int64_t *qa, int64_t *qb)
{
	window_span w;
	cxm__window_place(ctx, end_ms, span_ms, bt, &w);
	*a = w.a;
	*b = w.b;
	*qa = w.qa;
	*qb = w.qb;
	return w.flags;
}

/* ---- public: funnels ------------------------------------------------------------ */

cxm_status cxm_funnel_query_init(cxm_funnel_query *q, size_t size)
{
	cxm_status st = cxm__init_struct(q, size, sizeof(cxm_funnel_query), "cxm_funnel_query", "q");
	if (st)
		return st;
	q->segment = CXM_NONE;
	q->end_ms = CXM_NOW;
	return CXM_OK;
}

/* Validate q; on CXM_OK *slot is the group's index: by_slot[*slot], or
 * by_chan[*chan] when *chan is non-zero. */
static cxm_status check_funnel_query(const cxm_context *ctx, const cxm_funnel_query *q,
				     uint32_t *slot, uint32_t *chan)
{
	cxm_status st = cxm__check_struct(ctx, q, sizeof *q, sizeof *q, "cxm_funnel_query");
	if (st)
		return st;
	if (q->reserved[0] || q->reserved[1] || q->reserved[2] || q->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_funnel_query reserved fields must be zero");
	if ((st = cxm__journey_check_id(ctx, q->journey)))
		return st;
	if (q->channel > CXM_CHANNEL_OTHER)
		return cxm__fail(ctx, CXM_ERR_INVALID, "channel %u is not a cxm_channel", q->channel);
	if (q->channel && q->segment != CXM_NONE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "a funnel is broken down by one segment or one channel, not both");
	*slot = 0;
	*chan = q->channel;
	if (q->segment != CXM_NONE) {
		const model *md = &ctx->model;
		if (q->segment >= atomic_load_explicit(&md->n_segments, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment %u is not defined", q->segment);
		const segment *sg = &md->segments[q->segment];
		if (q->segment_value >= atomic_load_explicit(&sg->n_values, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value %u", sg->name,
					 q->segment_value);
		*slot = 1 + sg->slot_base + q->segment_value;
	}
	return check_window(ctx, q->end_ms, q->span_ms);
}

static jgroup *group_of(const jstate *js, uint32_t slot, uint32_t chan)
{
	return chan ? atomic_load_explicit(&((jstate *)js)->by_chan[chan], memory_order_acquire)
		    : atomic_load_explicit(&((jstate *)js)->by_slot[slot], memory_order_acquire);
}

#define TIME_BUF_WORDS 2048

/* Read time series k of g into acc: moments over [a, b), distribution over [qa, qb). */
static void read_times(const cxm_context *ctx, const jmod *mod, const jgroup *g, uint32_t k,
		       int64_t a, int64_t b, int64_t qa, int64_t qb, sketch_cell *acc)
{
	cxm__cell_init_full(&mod->time_m, acc);
	if (!g)
		return;
	cxm__series_read(ctx, g->times[k], a, b, acc, READ_MOMENTS);
	cxm__series_read(ctx, g->times[k], qa, qb, acc, READ_DIST);
}

static inline double ratio(uint64_t x, uint64_t y)
{
	return y ? (double)x / (double)y : NAN;
}

/* A step's (or, for the last step, the goal's) time samples. */
typedef struct ftimes {
	uint64_t n;
	double mean, p50, p90;
} ftimes;

/* Check the output structs, the query and the step array's room; on
 * CXM_OK, *f is an empty funnel to fill. */
static cxm_status funnel_args(cxm_context *ctx, cxm_funnel *out, cxm_funnel_step *steps, size_t cap,
			      const cxm_funnel_query *q, uint32_t *slot, uint32_t *chan, cxm_funnel *f)
{
	if (!ctx || !out || !steps || !q)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !steps ? "steps" : "q");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_funnel");
	if (st || (st = cxm__check_out(ctx, steps, sizeof *steps, "cxm_funnel_step")))
		return st;
	if ((st = check_funnel_query(ctx, q, slot, chan)))
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	if (cap < ns)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "journey '%s' has %u steps; steps holds %zu",
				 ctx->model.journeys[q->journey].name, ns, cap);
	memset(f, 0, sizeof *f);
	f->size = sizeof *f;
	return CXM_OK;
}

/* Write f (window and flags set) and the steps from a group's counters c
 * (after the SCORE layout's no-answer count) and times t. */
static void put_funnel(const cxm_context *ctx, cxm_funnel *out, cxm_funnel_step *steps,
		       const cxm_funnel_query *q, cxm_funnel *f, const uint64_t *c, const ftimes *t)
{
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	f->n_steps = ns;
	f->entered = c[0];
	f->completed = c[1 + ns - 1];
	if (q->segment == CXM_NONE) {
		f->abandoned = c[1 + ns + CNT_ABANDONED - 1];
		f->expired = c[1 + ns + CNT_EXPIRED - 1];
		f->broken = c[1 + ns + CNT_BROKEN - 1];
		f->displaced = c[1 + ns + CNT_DISPLACED - 1];
	}
	f->repeats = c[1 + ns + CNT_REPEAT - 1];
	f->conversion = ratio(f->completed, f->entered);
	f->repeat_rate = ratio(f->repeats, f->entered);
	const size_t stride = steps[0].size;
	unsigned char *base = (unsigned char *)steps;
	cxm_funnel_step fs[1];
	for (uint32_t k = 0; k < ns; k++) {
		memset(fs, 0, sizeof fs);
		fs->size = stride;
		fs->reached = c[1 + k];
		fs->conversion = ratio(fs->reached, f->entered);
		fs->step_conversion = ratio(fs->reached, k ? c[k] : f->entered);
		fs->drop_off = 1 - fs->step_conversion;
		fs->next_p50 = fs->next_p90 = fs->next_mean = NAN;
		if (k + 1 < ns) {
			fs->next_n = t[k].n;
			fs->next_mean = t[k].mean;
			fs->next_p50 = t[k].p50;
			fs->next_p90 = t[k].p90;
		}
		/* only steps[0].size is the caller's: every element gets it */
		memcpy(base + (size_t)k * stride, &stride, sizeof stride);
		cxm__put_out(base + (size_t)k * stride, fs, sizeof *fs);
	}
	f->goal_n = t[ns - 1].n;
	f->goal_mean = t[ns - 1].mean;
	f->goal_p50 = t[ns - 1].p50;
	f->goal_p90 = t[ns - 1].p90;
	if (!f->entered)
		f->flags |= CXM_RESULT_EMPTY;
	if (f->entered < ctx->min_samples)
		f->flags |= CXM_RESULT_LOW_SAMPLE;
	cxm__put_out(out, f, sizeof *f);
}

cxm_status cxm_funnel_run(cxm_funnel *out, cxm_funnel_step *steps, size_t cap, cxm_context *ctx,
			  const cxm_funnel_query *q)
{
	uint32_t slot, chan;
	cxm_funnel f;
	cxm_status st = funnel_args(ctx, out, steps, cap, q, &slot, &chan, &f);
	if (st)
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	uint32_t bt = ctx->n_tiers > 1 ? 1 : 0;
	f.flags = place(ctx, q->end_ms, q->span_ms, bt, &f.start_ms, &f.end_ms, &f.quantile_start_ms,
			&f.quantile_end_ms);
	uint64_t cnt[2 + MAX_TRACKED_STEPS + CNT_EXTRA];
	memset(cnt, 0, sizeof cnt);
	uint64_t tbuf[TIME_BUF_WORDS];
	sketch_cell *acc = (sketch_cell *)(void *)tbuf;
	ftimes t[MAX_TRACKED_STEPS];
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = peek_js(ctx, q->journey);
	jgroup *g = js ? group_of(js, slot, chan) : NULL;
	bool clamped = false;
	if (g)
		pthread_mutex_lock(&js->lock);
	if (g)
		cxm__series_read(ctx, g->counts, f.start_ms, f.end_ms, cnt, READ_ALL);
	for (uint32_t k = 0; k < ns; k++) {
		t[k] = (ftimes){0, NAN, NAN, NAN};
		if (!mod)
			continue;
		read_times(ctx, mod, g, k, f.start_ms, f.end_ms, f.quantile_start_ms, f.quantile_end_ms, acc);
		cell_totals tot;
		cxm__cell_totals(&mod->time_m, acc, &tot);
		t[k].n = tot.n;
		if (tot.n) {
			t[k].mean = tot.sum / (double)tot.n;
			t[k].p50 = cxm__sketch_quantile(&mod->time_m.sk, acc, 0.5, &clamped);
			t[k].p90 = cxm__sketch_quantile(&mod->time_m.sk, acc, 0.9, &clamped);
		}
	}
	if (g)
		pthread_mutex_unlock(&js->lock);
	if (clamped)
		f.flags |= CXM_RESULT_CLAMPED;
	put_funnel(ctx, out, steps, q, &f, cnt + 1, t);
	return CXM_OK;
}

cxm_status cxm_funnel_cohort_run(cxm_funnel *out, cxm_funnel_step *steps, size_t cap, cxm_context *ctx,
				 const cxm_funnel_query *q)
{
	uint32_t slot, chan;
	cxm_funnel f;
	cxm_status st = funnel_args(ctx, out, steps, cap, q, &slot, &chan, &f);
	if (st)
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	window_span w;
	cxm__window_place_whole(ctx, q->end_ms, q->span_ms, COHORT_MS, &w);
	f.start_ms = f.quantile_start_ms = w.a;
	f.end_ms = f.quantile_end_ms = w.b;
	f.flags = w.flags;
	cohort_sum sum;
	memset(&sum, 0, sizeof sum);
	jstate *js = peek_js(ctx, q->journey);
	jgroup *g = js ? group_of(js, slot, chan) : NULL;
	if (g) {
		pthread_mutex_lock(&js->lock);
		cxm__cohorts_sum(&g->coh, w.a, w.b, &sum);
		pthread_mutex_unlock(&js->lock);
	}
	ftimes t[MAX_TRACKED_STEPS];
	for (uint32_t k = 0; k < ns; k++)
		t[k] = (ftimes){sum.tn[k], sum.tn[k] ? sum.tsum[k] / (double)sum.tn[k] : NAN, NAN, NAN};
	put_funnel(ctx, out, steps, q, &f, sum.cnt, t);
	return CXM_OK;
}

cxm_status cxm_funnel_quantiles(double *out, cxm_context *ctx, const cxm_funnel_query *q,
				uint32_t step, const double *qs, size_t n)
{
	if (!ctx || !out || !q || !qs)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !q ? "q" : "qs");
	if (n < 1 || n > 64)
		return cxm__fail(ctx, CXM_ERR_INVALID, "n %zu is outside 1 .. 64", n);
	uint32_t slot, chan;
	cxm_status st = check_funnel_query(ctx, q, &slot, &chan);
	if (st)
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	if (step != CXM_NONE && step >= ns)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step %u",
				 ctx->model.journeys[q->journey].name, step);
	if (step != CXM_NONE && step + 1 == ns)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "step %u is the last of journey '%s': it has no next step", step,
				 ctx->model.journeys[q->journey].name);
	for (size_t i = 0; i < n; i++) {
		if (isnan(qs[i]))
			return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "quantile %zu is NaN", i);
		if (qs[i] < 0 || qs[i] > 1)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "quantile %s is outside 0 .. 1", cxm__num(qs[i]).s);
	}
	const uint32_t k = step == CXM_NONE ? ns - 1 : step;
	int64_t a, b, qa, qb;
	place(ctx, q->end_ms, q->span_ms, ctx->n_tiers > 1 ? 1 : 0, &a, &b, &qa, &qb);
	uint64_t tbuf[TIME_BUF_WORDS];
	sketch_cell *acc = (sketch_cell *)(void *)tbuf;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = peek_js(ctx, q->journey);
	jgroup *g = js ? group_of(js, slot, chan) : NULL;
	double res[64];
	for (size_t i = 0; i < n; i++)
		res[i] = NAN;
	if (g) {
		pthread_mutex_lock(&js->lock);
		read_times(ctx, mod, g, k, a, b, qa, qb, acc);
		bool clamped = false;
		for (size_t i = 0; i < n; i++)
			res[i] = cxm__sketch_quantile(&mod->time_m.sk, acc, qs[i], &clamped);
		pthread_mutex_unlock(&js->lock);
	}
	memcpy(out, res, sizeof(double) * n);
	return CXM_OK;
}

cxm_status cxm_churn_rate(cxm_churn *out, cxm_context *ctx, cxm_id distinct, int64_t end_ms,
			  int64_t span_ms, int64_t active_ms)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "out" : "ctx");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_churn");
	if (st || (st = check_window(ctx, end_ms, span_ms)) || (st = check_window(ctx, 0, active_ms)))
		return st;
	if (distinct >= atomic_load_explicit(&ctx->model.n_metrics, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined", distinct);
	if (ctx->model.metrics[distinct].def.kind != CXM_KIND_DISTINCT)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric '%s' is not DISTINCT",
				 ctx->model.metrics[distinct].name);
	cxm_churn r;
	memset(&r, 0, sizeof r);
	r.size = sizeof r;
	int64_t qa, qb;
	r.flags = place(ctx, end_ms, span_ms, 0, &r.start_ms, &r.end_ms, &qa, &qb);
	cxm_query dq = CXM_QUERY_INIT;
	dq.metric = distinct;
	dq.scope = CXM_SCOPE_ALL;
	dq.end_ms = r.start_ms - 1; /* the bucket before the window is the last */
	dq.span_ms = active_ms;
	cxm_result dr;
	memset(&dr, 0, sizeof dr);
	dr.size = sizeof dr;
	if (r.start_ms > 0 && (st = cxm_query_run(&dr, ctx, &dq)))
		return st;
	r.active_start_ms = dr.quantile_start_ms;
	r.active_end_ms = dr.quantile_end_ms;
	r.active = r.start_ms > 0 ? dr.value : 0;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (mod) {
		uint64_t c[2] = {0, 0};
		pthread_mutex_lock(&mod->lock);
		cxm__series_read(ctx, mod->churn, r.start_ms, r.end_ms, c, READ_ALL);
		pthread_mutex_unlock(&mod->lock);
		r.churned = c[1];
	}
	r.rate = r.active > 0 ? (double)r.churned / r.active : NAN;
	if (!(r.active > 0))
		r.flags |= CXM_RESULT_EMPTY;
	cxm__put_out(out, &r, sizeof r);
	return CXM_OK;
}

