/* Breakdowns and time series: cxm_query_group() against one
 * cxm_query_run() per group, cxm_query_series() against hand-counted
 * hours, their edges, limits and every bad argument. */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id care, ivr, agent, chat, web, idle;
	cxm_id nps, calls, aht;
	cxm_id tier, region;
} fx;

/* care: ivr (step 0, phone), agent (step 1, phone), chat (step 1, chat);
 * web (no journey, web); idle (no journey, email, never fed). Six hours
 * of interactions: hour h has h + 1 calls on each fed touchpoint, an NPS
 * answer h (a detractor, or a promoter 9 from hour 3 on) on ivr and agent. */
static void fx_make(fx *f)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0 + 6 * HOUR;
	f->ctx = test_ctx(&f->clk);
	cxm_context *c = f->ctx;
	const char *steps[] = {"contact", "answer"};
	assert_int_equal(cxm_journey_define(&f->care, c, "care", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->ivr, c, "ivr", CXM_CHANNEL_PHONE, f->care, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->agent, c, "agent", CXM_CHANNEL_PHONE, f->care, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->chat, c, "chat", CXM_CHANNEL_CHAT, f->care, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->web, c, "web", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->idle, c, "newsletter", CXM_CHANNEL_EMAIL, CXM_NONE, 0),
			 CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->nps, c, "nps", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->calls, c, "calls", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->aht, c, "aht", &d), CXM_OK);
	assert_int_equal(cxm_segment_define(&f->tier, c, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_define(&f->region, c, "region", 4), CXM_OK);
	uint32_t v;
	const char *tiers[] = {"gold", "silver", "bronze"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(cxm_segment_value(&v, c, f->tier, tiers[i]), CXM_OK);
	assert_int_equal(cxm_segment_value(&v, c, f->region, "north"), CXM_OK);
	const cxm_id fed[] = {f->ivr, f->agent, f->chat, f->web};
	for (int h = 0; h < 6; h++)
		for (int k = 0; k <= h; k++)
			for (int t = 0; t < 4; t++) {
				cxm_interaction ix = CXM_INTERACTION_INIT;
				ix.time_ms = T0 + h * HOUR + k * MIN;
				ix.touchpoint = fed[t];
				uint32_t segs[1] = {(uint32_t)((h + k + t) % 3)}; /* tier */
				ix.segments = segs;
				ix.n_segments = 1;
				cxm_measure m[2] = {{f->nps, 0, h >= 3 ? 9 : h}, {f->aht, 0, 60.0 * (t + 1)}};
				ix.measures = m;
				ix.n_measures = fed[t] == f->ivr || fed[t] == f->agent ? 2 : 1;
				if (fed[t] != f->ivr && fed[t] != f->agent)
					m[0] = m[1];
				assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);
			}
}

static cxm_query q_of(cxm_id metric, int64_t span)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = metric;
	q.end_ms = T0 + 6 * HOUR - 1;
	q.span_ms = span;
	return q;
}

static cxm_result one(fx *f, const cxm_query *q)
{
	cxm_result r = {.size = sizeof r};
	cxm_status st = cxm_query_run(&r, f->ctx, q);
	if (st)
		fail_msg("query: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return r;
}

/* Results compare equal, NaN to NaN. */
static void same(const cxm_result *a, const cxm_result *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->start_ms, b->start_ms);
	assert_int_equal(a->end_ms, b->end_ms);
	assert_true(a->value == b->value || (isnan(a->value) && isnan(b->value)));
	assert_true(a->ci_low == b->ci_low || (isnan(a->ci_low) && isnan(b->ci_low)));
	assert_true(a->p90 == b->p90 || (isnan(a->p90) && isnan(b->p90)));
}

static size_t group(fx *f, cxm_result *out, uint32_t *keys, size_t cap, const cxm_query *q,
		    cxm_group_by by, cxm_id dim)
{
	out[0].size = sizeof out[0];
	size_t n = 999;
	cxm_status st = cxm_query_group(out, keys, cap, &n, f->ctx, q, by, dim);
	if (st)
		fail_msg("group: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return n;
}

static void test_by_touchpoint(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_result out[8];
	uint32_t keys[8];
	const cxm_id metrics[] = {f.nps, f.calls, f.aht};
	for (int m = 0; m < 3; m++) {
		cxm_query q = q_of(metrics[m], 6 * HOUR);
		size_t n = group(&f, out, keys, 8, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE);
		assert_int_equal(n, 5); /* every touchpoint, the idle one too */
		uint64_t total = 0;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(keys[i], i);
			cxm_query qi = q;
			qi.scope = CXM_SCOPE_TOUCHPOINT;
			qi.id = (cxm_id)i;
			cxm_result r = one(&f, &qi);
			same(&out[i], &r);
			total += out[i].n;
		}
		assert_true(out[f.idle].flags & CXM_RESULT_EMPTY);
		assert_int_equal(total, one(&f, &q).n);
	}
	/* the 21 calls an hour-count gives each fed touchpoint */
	cxm_query q = q_of(f.calls, 6 * HOUR);
	group(&f, out, keys, 8, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE);
	assert_int_equal(out[f.ivr].n, 21);
	assert_double_equal(out[f.web].value, 21, 0);
	/* within a journey: its touchpoints only */
	q.scope = CXM_SCOPE_JOURNEY;
	q.id = f.care;
	assert_int_equal(group(&f, out, keys, 8, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE), 3);
	assert_int_equal(keys[0], f.ivr);
	assert_int_equal(keys[2], f.chat);
	/* and one step's */
	q.scope = CXM_SCOPE_STEP;
	q.step = 1;
	assert_int_equal(group(&f, out, keys, 8, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE), 2);
	assert_int_equal(keys[0], f.agent);
	assert_int_equal(keys[1], f.chat);
	/* keys may be left out */
	out[0].size = sizeof out[0];
	size_t n = 0;
	assert_int_equal(cxm_query_group(out, NULL, 8, &n, f.ctx, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE), CXM_OK);
	assert_int_equal(n, 2);
	cxm_context_free(f.ctx);
}

static void test_by_segment_step_channel(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_result out[8];
	uint32_t keys[8];
	const cxm_id metrics[] = {f.nps, f.calls, f.aht};
	for (int m = 0; m < 3; m++) {
		cxm_query q = q_of(metrics[m], 6 * HOUR);
		/* tier: its three values, in value order, summing to the whole */
		size_t n = group(&f, out, keys, 8, &q, CXM_GROUP_SEGMENT, f.tier);
		assert_int_equal(n, 3);
		uint64_t total = 0;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(keys[i], i);
			cxm_query qi = q;
			qi.segment = f.tier;
			qi.segment_value = (uint32_t)i;
			cxm_result r = one(&f, &qi);
			same(&out[i], &r);
			total += out[i].n;
		}
		assert_int_equal(total, one(&f, &q).n);
		/* region: one value, fed never */
		assert_int_equal(group(&f, out, keys, 8, &q, CXM_GROUP_SEGMENT, f.region), 1);
		assert_true(out[0].flags & CXM_RESULT_EMPTY);
		/* the journey's steps */
		cxm_query qj = q;
		qj.scope = CXM_SCOPE_JOURNEY;
		qj.id = f.care;
		assert_int_equal(group(&f, out, keys, 8, &qj, CXM_GROUP_STEP, CXM_NONE), 2);
		for (uint32_t k = 0; k < 2; k++) {
			assert_int_equal(keys[k], k);
			cxm_query qs = q;
			qs.scope = CXM_SCOPE_STEP;
			qs.id = f.care;
			qs.step = k;
			cxm_result r = one(&f, &qs);
			same(&out[k], &r);
		}
		/* the channels that have a touchpoint: phone, chat, e-mail, web */
		n = group(&f, out, keys, 8, &q, CXM_GROUP_CHANNEL, CXM_NONE);
		assert_int_equal(n, 4);
		const uint32_t want[4] = {CXM_CHANNEL_PHONE, CXM_CHANNEL_CHAT, CXM_CHANNEL_EMAIL, CXM_CHANNEL_WEB};
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(keys[i], want[i]);
			cxm_query qc = q;
			qc.scope = CXM_SCOPE_CHANNEL;
			qc.id = want[i];
			cxm_result r = one(&f, &qc);
			same(&out[i], &r);
		}
		assert_true(out[2].flags & CXM_RESULT_EMPTY); /* e-mail: the idle newsletter */
	}
	/* hand counts: 21 calls on each of ivr, agent and chat; the phone 42 */
	cxm_query q = q_of(f.calls, 6 * HOUR);
	group(&f, out, keys, 8, &q, CXM_GROUP_CHANNEL, CXM_NONE);
	assert_int_equal(out[0].n, 42);
	assert_int_equal(out[1].n, 21);
	cxm_context_free(f.ctx);
}

/* NPS per hour: hours 0, 1, 2 answered 0, 1, 2 (detractors: -100), hours
 * 3, 4, 5 answered 9 (promoters: +100); h + 1 answers on each of two
 * touchpoints in hour h. */
static void test_series(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_result out[8];
	size_t n = 99;
	cxm_query q = q_of(f.nps, 6 * HOUR);
	out[0].size = sizeof out[0];
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, HOUR), CXM_OK);
	assert_int_equal(n, 6);
	for (int h = 0; h < 6; h++) {
		assert_int_equal(out[h].start_ms, T0 + h * HOUR);
		assert_int_equal(out[h].end_ms, T0 + (h + 1) * HOUR);
		assert_int_equal(out[h].n, 2 * (h + 1));
		assert_double_equal(out[h].value, h < 3 ? -100 : 100, 1e-9);
		cxm_query qh = q;
		qh.end_ms = T0 + (h + 1) * HOUR - 1;
		qh.span_ms = HOUR;
		cxm_result r = one(&f, &qh);
		same(&out[h], &r);
	}
	/* a span that is not a multiple of the step: the first window reaches back */
	q.span_ms = 5 * HOUR;
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, 2 * HOUR), CXM_OK);
	assert_int_equal(n, 3);
	assert_int_equal(out[0].start_ms, T0);
	assert_int_equal(out[0].end_ms, T0 + 2 * HOUR);
	assert_int_equal(out[2].end_ms, T0 + 6 * HOUR);
	assert_int_equal(out[0].n + out[1].n + out[2].n, 42);
	/* one window: the query itself */
	q.span_ms = HOUR;
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, HOUR), CXM_OK);
	assert_int_equal(n, 1);
	cxm_result r = one(&f, &q);
	same(&out[0], &r);
	/* too many windows: LIMIT, the count, nothing written */
	q.span_ms = 6 * HOUR;
	memset(out, 0x5a, sizeof out);
	out[0].size = sizeof out[0];
	assert_int_equal(cxm_query_series(out, 5, &n, f.ctx, &q, HOUR), CXM_ERR_LIMIT);
	assert_int_equal(n, 6);
	assert_int_equal(out[0].n, 0x5a5a5a5a5a5a5a5aull);
	assert_int_equal(cxm_query_series(NULL, 0, &n, f.ctx, &q, MIN), CXM_ERR_LIMIT);
	assert_int_equal(n, 360);
	cxm_context_free(f.ctx);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_result out[8];
	uint32_t keys[8];
	size_t n = 77;
	cxm_query q = q_of(f.calls, HOUR);
	out[0].size = sizeof out[0];
	/* group */
	assert_int_equal(cxm_query_group(out, keys, 8, &n, NULL, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(out, keys, 8, NULL, f.ctx, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, NULL, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(NULL, keys, 8, &n, f.ctx, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, 0, CXM_NONE), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, 5, CXM_NONE), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, CXM_GROUP_TOUCHPOINT, f.tier),
			 CXM_ERR_INVALID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, CXM_GROUP_SEGMENT, 9),
			 CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, CXM_GROUP_SEGMENT, CXM_NONE),
			 CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, CXM_GROUP_STEP, CXM_NONE),
			 CXM_ERR_INVALID);
	cxm_query qf = q;
	qf.segment = f.tier;
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &qf, CXM_GROUP_SEGMENT, f.region),
			 CXM_ERR_UNSUPPORTED);
	cxm_query qt = q;
	qt.scope = CXM_SCOPE_TOUCHPOINT;
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &qt, CXM_GROUP_CHANNEL, CXM_NONE),
			 CXM_ERR_INVALID);
	cxm_query qb = q;
	qb.span_ms = 0;
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &qb, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_OUT_OF_RANGE);
	qb = q;
	qb.metric = 99;
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &qb, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_UNKNOWN_ID);
	out[0].size = 8;
	assert_int_equal(cxm_query_group(out, keys, 8, &n, f.ctx, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_VERSION);
	out[0].size = sizeof out[0];
	assert_int_equal(n, 77); /* untouched by every refusal */
	memset(keys, 0xee, sizeof keys);
	assert_int_equal(cxm_query_group(out, keys, 4, &n, f.ctx, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE),
			 CXM_ERR_LIMIT);
	assert_int_equal(n, 5);
	assert_int_equal(keys[0], 0xeeeeeeeeu);
	assert_int_equal(cxm_query_group(NULL, NULL, 0, &n, f.ctx, &q, CXM_GROUP_SEGMENT, f.tier),
			 CXM_ERR_LIMIT);
	assert_int_equal(n, 3);
	/* series */
	n = 77;
	assert_int_equal(cxm_query_series(out, 8, &n, NULL, &q, MIN), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_series(out, 8, NULL, f.ctx, &q, MIN), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, NULL, MIN), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_series(NULL, 8, &n, f.ctx, &q, MIN), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, 0), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, -MIN), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, MIN + 1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, 2 * HOUR), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &qb, MIN), CXM_ERR_UNKNOWN_ID);
	out[0].size = 8;
	assert_int_equal(cxm_query_series(out, 8, &n, f.ctx, &q, MIN), CXM_ERR_VERSION);
	assert_int_equal(n, 77);
	assert_true(cxm_errmsg(f.ctx)[0] != '\0');
	cxm_context_free(f.ctx);
}

/* History fed in bulk, a year before the clock: CXM_NOW's window is
 * empty, CXM_WATERMARK's ends with the newest interaction. */
static void test_end_at_watermark(void **state)
{
	(void)state;
	test_clock clk = {T0 + 365 * DAY};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id tp, calls;
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&calls, ctx, "calls", &d), CXM_OK);
	cxm_query q = CXM_QUERY_INIT;
	q.metric = calls;
	q.span_ms = HOUR;
	/* nothing accepted yet: the clock's now, as CXM_NOW */
	q.end_ms = CXM_WATERMARK;
	cxm_result w = {.size = sizeof w}, r = {.size = sizeof r};
	assert_int_equal(cxm_query_run(&w, ctx, &q), CXM_OK);
	q.end_ms = CXM_NOW;
	assert_int_equal(cxm_query_run(&r, ctx, &q), CXM_OK);
	assert_int_equal(w.end_ms, r.end_ms);
	for (int i = 0; i < 90; i++) { /* one a minute from T0 + 1 h: the last at T0 + 2 h 29 min */
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0 + HOUR + i * MIN;
		ix.touchpoint = tp;
		assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	}
	assert_int_equal(cxm_query_run(&r, ctx, &q), CXM_OK);
	assert_int_equal(r.n, 0);
	q.end_ms = CXM_WATERMARK;
	assert_int_equal(cxm_query_run(&w, ctx, &q), CXM_OK);
	assert_int_equal(w.end_ms, T0 + 2 * HOUR + 30 * MIN);
	assert_int_equal(w.start_ms, T0 + HOUR + 30 * MIN);
	assert_int_equal(w.n, 60);
	/* a series, a breakdown, a funnel's and a churn rate's window alike */
	cxm_result out[4];
	size_t n;
	out[0].size = sizeof out[0];
	q.span_ms = 2 * HOUR;
	assert_int_equal(cxm_query_series(out, 4, &n, ctx, &q, HOUR), CXM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].n + out[1].n, 90);
	assert_int_equal(out[1].end_ms, T0 + 2 * HOUR + 30 * MIN);
	assert_int_equal(cxm_query_group(out, NULL, 4, &n, ctx, &q, CXM_GROUP_TOUCHPOINT, CXM_NONE), CXM_OK);
	assert_int_equal(out[0].n, 90);
	const char *steps[] = {"a", "b"};
	cxm_id j;
	assert_int_equal(cxm_journey_define(&j, ctx, "j", steps, 2), CXM_OK);
	cxm_funnel_query fq = CXM_FUNNEL_QUERY_INIT;
	fq.journey = j;
	fq.end_ms = CXM_WATERMARK;
	fq.span_ms = HOUR;
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[2] = {{.size = sizeof st[0]}};
	assert_int_equal(cxm_funnel_run(&f, st, 2, ctx, &fq), CXM_OK);
	assert_int_equal(f.end_ms, T0 + 2 * HOUR + 30 * MIN);
	/* and it is no time: as a time it is refused where times are asked */
	assert_int_equal(cxm_journey_sweep(NULL, ctx, CXM_WATERMARK), CXM_ERR_OUT_OF_RANGE);
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_touchpoint),
		cmocka_unit_test(test_by_segment_step_channel),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_end_at_watermark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
