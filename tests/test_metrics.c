/* Metric formulas against hand-computed values, scopes and segment filters. */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-9

static cxm_id def_preset(cxm_context *ctx, const char *name, cxm_preset p)
{
	cxm_metric_def d;
	cxm_id id;
	assert_int_equal(cxm_metric_def_init(&d, sizeof d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, p), CXM_OK);
	assert_int_equal(cxm_metric_define(&id, ctx, name, &d), CXM_OK);
	return id;
}

static cxm_id def_tp(cxm_context *ctx, const char *name)
{
	cxm_id id;
	assert_int_equal(cxm_touchpoint_define(&id, ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	return id;
}

static void feed_all(cxm_context *ctx, cxm_id tp, cxm_id m, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cxm_status st = feed1(ctx, T0 - 1000 * (int64_t)i, tp, m, v[i]);
		if (st)
			fail_msg("feed %g: %s: %s", v[i], cxm_strerror(st), cxm_errmsg(ctx));
	}
}

/* 6 is a detractor, 7 and 8 passives, 9 a promoter. */
static void nps_boundaries(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id nps = def_preset(ctx, "nps", CXM_PRESET_NPS), tp = def_tp(ctx, "ivr");
	const double v[] = {6, 7, 8, 9};
	feed_all(ctx, tp, nps, v, 4);
	cxm_result r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_int_equal(r.kind, CXM_KIND_SCORE);
	assert_int_equal(r.headline, CXM_HEADLINE_NET);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.top, 1);
	assert_int_equal(r.bottom, 1);
	assert_double_equal(r.value, 0, EPS);
	assert_double_equal(r.mean, 7.5, EPS);
	assert_double_equal(r.min, 6, EPS);
	assert_double_equal(r.max, 9, EPS);
	assert_true(r.flags & CXM_RESULT_LOW_SAMPLE);
	assert_false(r.flags & CXM_RESULT_EMPTY);
	cxm_context_free(ctx);
}

/* NPS 50 from 3 promoters and 1 detractor; CI from
 * var = (p+d) - (p-d)^2 = 1 - 0.25 = 0.75, se = sqrt(0.75/4). */
static void nps_value_and_ci(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id nps = def_preset(ctx, "nps", CXM_PRESET_NPS), tp = def_tp(ctx, "ivr");
	const double v[] = {9, 10, 9, 0};
	feed_all(ctx, tp, nps, v, 4);
	cxm_result r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_double_equal(r.value, 50, EPS);
	assert_double_equal(r.top_share, 0.75, EPS);
	assert_double_equal(r.bottom_share, 0.25, EPS);
	double half = 100 * 1.959963984540054 * sqrt(0.75 / 4);
	assert_double_equal(r.ci_low, 50 - half, 1e-6);
	assert_double_equal(r.ci_high, 100, EPS); /* clamped */

	/* many responses: the interval narrows around the value */
	for (int i = 0; i < 400; i++)
		assert_int_equal(feed1(ctx, T0 - 5000, tp, nps, i % 4 == 0 ? 3 : 9), CXM_OK);
	r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 404);
	double p = (300.0 + 3) / 404, d = (100.0 + 1) / 404;
	assert_double_equal(r.value, 100 * (p - d), 1e-9);
	double se = sqrt(((p + d) - (p - d) * (p - d)) / 404);
	assert_double_equal(r.ci_low, 100 * (p - d - 1.959963984540054 * se), 1e-6);
	assert_double_equal(r.ci_high, 100 * (p - d + 1.959963984540054 * se), 1e-6);
	assert_false(r.flags & CXM_RESULT_LOW_SAMPLE);
	cxm_context_free(ctx);
}

static void csat_top2(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id c5 = def_preset(ctx, "csat5", CXM_PRESET_CSAT5);
	cxm_id c7 = def_preset(ctx, "csat7", CXM_PRESET_CSAT7);
	cxm_id tp = def_tp(ctx, "chat");
	const double v5[] = {5, 4, 3, 2, 1};
	feed_all(ctx, tp, c5, v5, 5);
	cxm_result r = query_tp(ctx, c5, tp, CXM_NOW, DAY);
	assert_int_equal(r.headline, CXM_HEADLINE_TOP_BOX);
	assert_double_equal(r.value, 40, EPS);
	assert_double_equal(r.mean, 3, EPS);
	assert_int_equal(r.bottom, 2);
	/* Wilson interval for 2 of 5 */
	double z = 1.959963984540054, n = 5, ph = 0.4;
	double den = 1 + z * z / n, c = (ph + z * z / (2 * n)) / den;
	double h = z * sqrt(ph * (1 - ph) / n + z * z / (4 * n * n)) / den;
	assert_double_equal(r.ci_low, 100 * (c - h), 1e-9);
	assert_double_equal(r.ci_high, 100 * (c + h), 1e-9);

	/* 7-point: top two are 6 and 7; 5 is not positive */
	const double v7[] = {7, 6, 5, 1};
	feed_all(ctx, tp, c7, v7, 4);
	r = query_tp(ctx, c7, tp, CXM_NOW, DAY);
	assert_double_equal(r.value, 50, EPS);
	assert_int_equal(r.top, 2);
	cxm_context_free(ctx);
}

/* CES 7: easy 5-7, difficult 1-3; headline is the mean. */
static void ces7(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id ces = def_preset(ctx, "ces", CXM_PRESET_CES7), tp = def_tp(ctx, "web");
	const double v[] = {7, 5, 4, 3, 1};
	feed_all(ctx, tp, ces, v, 5);
	cxm_result r = query_tp(ctx, ces, tp, CXM_NOW, DAY);
	assert_int_equal(r.headline, CXM_HEADLINE_MEAN);
	assert_double_equal(r.value, 4, EPS);
	assert_int_equal(r.top, 2);
	assert_int_equal(r.bottom, 2);
	assert_double_equal(r.top_share - r.bottom_share, 0, EPS);
	double sd = sqrt((9 + 1 + 0 + 1 + 9) / 4.0);
	assert_double_equal(r.stddev, sd, 1e-12);
	assert_double_equal(r.ci_low, 4 - 1.959963984540054 * sd / sqrt(5), 1e-9);
	cxm_context_free(ctx);
}

/* CX index: mean over questions of (top box - bottom box). */
static void cx_index(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id cxi = def_preset(ctx, "cxi", CXM_PRESET_CXI), tp = def_tp(ctx, "agent");
	struct {
		uint32_t item;
		double v;
	} a[] = {{0, 10}, {0, 9}, {0, 5}, {1, 6}, {1, 6}, {2, 10}};
	for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
		cxm_measure m = {cxi, a[i].item, a[i].v};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0;
		ix.touchpoint = tp;
		ix.measures = &m;
		ix.n_measures = 1;
		assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	}
	cxm_result r = query_tp(ctx, cxi, tp, CXM_NOW, DAY);
	assert_int_equal(r.kind, CXM_KIND_INDEX);
	assert_int_equal(r.questions, 3);
	assert_double_equal(r.item_net[0], 100.0 / 3, 1e-9);
	assert_double_equal(r.item_net[1], -100, EPS);
	assert_double_equal(r.item_net[2], 100, EPS);
	assert_int_equal(r.item_n[0], 3);
	assert_int_equal(r.item_n[1], 2);
	assert_int_equal(r.item_n[2], 1);
	assert_double_equal(r.value, (100.0 / 3 - 100 + 100) / 3, 1e-9);
	assert_int_equal(r.n, 1); /* the least-answered question */
	assert_double_equal(r.mean, (10 + 9 + 5 + 6 + 6 + 10) / 6.0, 1e-12);
	assert_true(r.ci_low <= r.value && r.value <= r.ci_high);
	assert_false(r.flags & CXM_RESULT_EMPTY);

	/* on another touchpoint question 2 has no answer: the index is not
	 * defined yet (EMPTY, NaN), the answered questions still show */
	cxm_id tp2 = def_tp(ctx, "chat");
	for (uint32_t item = 0; item < 2; item++) {
		cxm_measure m = {cxi, item, 10};
		cxm_interaction ix2 = CXM_INTERACTION_INIT;
		ix2.time_ms = T0;
		ix2.touchpoint = tp2;
		ix2.measures = &m;
		ix2.n_measures = 1;
		assert_int_equal(cxm_feed(ctx, &ix2), CXM_OK);
	}
	r = query_tp(ctx, cxi, tp2, CXM_NOW, DAY);
	assert_int_equal(r.n, 0);
	assert_true(r.flags & CXM_RESULT_EMPTY);
	assert_true(isnan(r.value) && isnan(r.ci_low) && isnan(r.ci_high));
	assert_double_equal(r.item_net[0], 100, EPS);
	assert_double_equal(r.item_net[1], 100, EPS);
	assert_true(isnan(r.item_net[2]));
	assert_int_equal(r.item_n[0], 1);
	assert_int_equal(r.item_n[2], 0);

	/* question 3 does not exist */
	cxm_measure bad = {cxi, 3, 5};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0;
	ix.touchpoint = tp;
	ix.measures = &bad;
	ix.n_measures = 1;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_ERR_OUT_OF_RANGE);
	uint64_t dist[10];
	size_t nd = 0;
	cxm_query q = CXM_QUERY_INIT;
	q.metric = cxi;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = tp;
	q.span_ms = DAY;
	assert_int_equal(cxm_query_distribution(dist, 10, &nd, ctx, &q, 0), CXM_OK);
	assert_int_equal(nd, 10);
	assert_int_equal(dist[9], 1);
	assert_int_equal(dist[8], 1);
	assert_int_equal(dist[4], 1);
	assert_int_equal(dist[0], 0);
	assert_int_equal(cxm_query_distribution(dist, 9, &nd, ctx, &q, 0), CXM_ERR_LIMIT);
	assert_int_equal(nd, 10);
	assert_int_equal(cxm_query_distribution(dist, 10, &nd, ctx, &q, 3), CXM_ERR_OUT_OF_RANGE);
	cxm_context_free(ctx);
}

static void rate_amount_volume(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id rate = def_preset(ctx, "fcr", CXM_PRESET_RATE);
	cxm_id amt = def_preset(ctx, "revenue", CXM_PRESET_AMOUNT);
	cxm_id vol = def_preset(ctx, "volume", CXM_PRESET_VOLUME);
	cxm_id tp = def_tp(ctx, "checkout");
	const double r01[] = {1, 1, 0, 1};
	feed_all(ctx, tp, rate, r01, 4);
	const double a[] = {10, -2.5, 4};
	feed_all(ctx, tp, amt, a, 3);
	cxm_result r = query_tp(ctx, rate, tp, CXM_NOW, DAY);
	assert_double_equal(r.value, 75, EPS);
	assert_int_equal(r.top, 3);
	assert_int_equal(r.bottom, 1);
	assert_true(r.ci_low < 75 && r.ci_high > 75 && r.ci_high <= 100);
	r = query_tp(ctx, amt, tp, CXM_NOW, DAY);
	assert_double_equal(r.value, 11.5, EPS);
	assert_double_equal(r.mean, 11.5 / 3, EPS);
	assert_double_equal(r.min, -2.5, EPS);
	assert_double_equal(r.max, 10, EPS);
	assert_true(isnan(r.ci_low)); /* SUM has no interval */
	/* amounts are bounded so that sums of squares stay finite: the edge
	 * is accepted, beyond it refused, and the moments stay finite */
	assert_int_equal(feed1(ctx, T0, tp, amt, CXM_VALUE_MAX), CXM_OK);
	assert_int_equal(feed1(ctx, T0, tp, amt, -CXM_VALUE_MAX), CXM_OK);
	assert_int_equal(feed1(ctx, T0, tp, amt, 1.000001 * CXM_VALUE_MAX), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(feed1(ctx, T0, tp, amt, -1e300), CXM_ERR_OUT_OF_RANGE);
	r = query_tp(ctx, amt, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 5);
	assert_true(isfinite(r.mean) && isfinite(r.stddev) && isfinite(r.sum));
	cxm_id aht = def_preset(ctx, "aht", CXM_PRESET_DURATION);
	assert_int_equal(feed1(ctx, T0, tp, aht, CXM_VALUE_MAX), CXM_OK);
	assert_int_equal(feed1(ctx, T0, tp, aht, 2 * CXM_VALUE_MAX), CXM_ERR_OUT_OF_RANGE);
	r = query_tp(ctx, aht, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 1);
	assert_true(r.flags & CXM_RESULT_CLAMPED); /* beyond the preset's week */
	/* every interaction counts once in the volume, whatever it carries */
	r = query_tp(ctx, vol, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 10);
	assert_double_equal(r.value, 10, EPS);
	cxm_context_free(ctx);
}

static void duration_quantiles(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id aht = def_preset(ctx, "aht", CXM_PRESET_DURATION), tp = def_tp(ctx, "agent");
	double v[100];
	for (int i = 0; i < 100; i++)
		v[i] = (i + 1) * 1.5; /* 1.5 .. 150 s */
	feed_all(ctx, tp, aht, v, 100);
	cxm_result r = query_tp(ctx, aht, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 100);
	assert_double_equal(r.mean, 75.75, 1e-9);
	assert_double_equal(r.min, 1.5, EPS);
	assert_double_equal(r.max, 150, EPS);
	/* nearest rank: p50 = 50th value = 75, p90 = 135, p99 = 148.5 */
	assert_true(fabs(r.p50 - 75) <= 0.01 * 75);
	assert_true(fabs(r.p90 - 135) <= 0.01 * 135);
	assert_true(fabs(r.p99 - 148.5) <= 0.01 * 148.5);
	assert_false(r.flags & CXM_RESULT_CLAMPED);
	cxm_query q = CXM_QUERY_INIT;
	q.metric = aht;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = tp;
	q.span_ms = DAY;
	double qs[] = {0, 0.25, 1}, out[3];
	assert_int_equal(cxm_query_quantiles(out, ctx, &q, qs, 3), CXM_OK);
	assert_double_equal(out[0], 1.5, EPS);
	assert_true(fabs(out[1] - 37.5) <= 0.01 * 37.5);
	assert_double_equal(out[2], 150, EPS);
	/* zero is kept exactly; beyond the range flags the result */
	assert_int_equal(feed1(ctx, T0, tp, aht, 0), CXM_OK);
	assert_int_equal(feed1(ctx, T0, tp, aht, 1e7), CXM_OK);
	r = query_tp(ctx, aht, tp, CXM_NOW, DAY);
	assert_double_equal(r.min, 0, EPS);
	assert_double_equal(r.max, 1e7, EPS);
	assert_true(r.flags & CXM_RESULT_CLAMPED);
	cxm_context_free(ctx);
}

/* A "no answer" code is received and counted, but is not a response. */
static void na_answers(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_CSAT5);
	d.has_na = 1;
	d.na_value = 99;
	cxm_id m, tp = def_tp(ctx, "email");
	assert_int_equal(cxm_metric_define(&m, ctx, "csat-na", &d), CXM_OK);
	const double v[] = {5, 99, 99, 1};
	feed_all(ctx, tp, m, v, 4);
	cxm_result r = query_tp(ctx, m, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.skipped, 2);
	assert_double_equal(r.value, 50, EPS);
	/* a NA code on the scale is refused */
	d.na_value = 3;
	assert_int_equal(cxm_metric_define(&m, ctx, "csat-bad", &d), CXM_ERR_OUT_OF_RANGE);
	cxm_context_free(ctx);
}

/* DURATION, RATE and AMOUNT take a "no answer" code too: an export that
 * writes 0 s of speed of answer for unanswered calls. Answered 30, 90, 60
 * and two unanswered: mean 60 s over 3 (with the zeros as values it
 * would be 36 s over 5). The counts survive the roll-up into hours, a
 * snapshot, and the exposition; a trigger never compares a code. */
static cxm_metric_def na_def(cxm_preset p, int32_t na)
{
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, p);
	d.has_na = 1;
	d.na_value = na;
	return d;
}

static void check_na(cxm_context *ctx, cxm_id asa, cxm_id ok, cxm_id rev, cxm_id tp, int64_t end)
{
	cxm_result r = query_tp(ctx, asa, tp, end, DAY);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.skipped, 2);
	assert_double_equal(r.mean, 60, EPS);
	assert_true(fabs(r.p50 - 60) <= 0.01 * 60);
	assert_double_equal(r.min, 30, EPS);
	r = query_tp(ctx, ok, tp, end, DAY);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.skipped, 1);
	assert_double_equal(r.value, 200.0 / 3, 1e-9);
	r = query_tp(ctx, rev, tp, end, DAY);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.skipped, 1);
	assert_double_equal(r.sum, 30, EPS);
}

static void na_observations(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	memset(cfg.customer_key, 7, sizeof cfg.customer_key); /* one key: the load below */
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id asa, ok, rev, tp = def_tp(ctx, "queue");
	cxm_metric_def d = na_def(CXM_PRESET_DURATION, 0);
	assert_int_equal(cxm_metric_define(&asa, ctx, "asa", &d), CXM_OK);
	d = na_def(CXM_PRESET_RATE, -1);
	assert_int_equal(cxm_metric_define(&ok, ctx, "resolved", &d), CXM_OK);
	d = na_def(CXM_PRESET_AMOUNT, -1);
	assert_int_equal(cxm_metric_define(&rev, ctx, "revenue", &d), CXM_OK);
	cxm_trigger_def t;
	cxm_trigger_def_init(&t, sizeof t);
	t.metric = asa;
	t.op = CXM_CMP_LT;
	t.threshold = 5; /* a fast answer: never an unanswered call's 0 */
	cxm_id trig;
	assert_int_equal(cxm_trigger_define(&trig, ctx, &t), CXM_OK);
	const double a[] = {30, 0, 90, 0, 60}, o[] = {1, -1, 0, 1}, v[] = {10, -1, 20};
	feed_all(ctx, tp, asa, a, 5);
	feed_all(ctx, tp, ok, o, 4);
	feed_all(ctx, tp, rev, v, 3);
	cxm_event ev[4];
	ev[0].size = sizeof(cxm_event);
	size_t n_ev = 9;
	assert_int_equal(cxm_events_poll(ev, 4, &n_ev, ctx), CXM_OK);
	assert_int_equal(n_ev, 0);
	check_na(ctx, asa, ok, rev, tp, T0 + 1);
	/* three hours on: the minutes are in the hour tier */
	clk.now = T0 + 3 * 3600000;
	assert_int_equal(feed1(ctx, clk.now, tp, asa, 45), CXM_OK);
	check_na(ctx, asa, ok, rev, tp, T0 + 1);
	/* a snapshot keeps them */
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(ctx, membuf_write, &mb), CXM_OK);
	cxm_config cfg2 = CXM_CONFIG_INIT;
	memset(cfg2.customer_key, 7, sizeof cfg2.customer_key);
	cxm_context *b = test_ctx_cfg(&clk, &cfg2);
	cxm_status lst = cxm_snapshot_load_mem(b, mb.p, mb.len);
	if (lst)
		fail_msg("load: %s", cxm_errmsg(b));
	check_na(b, asa, ok, rev, tp, T0 + 1);
	/* the exposition counts them */
	size_t len = 0;
	assert_int_equal(cxm_export_text(&len, b, NULL, NULL, 0), CXM_ERR_LIMIT); /* the size */
	char *text = malloc(len + 1);
	assert_int_equal(cxm_export_text(&len, b, NULL, text, len + 1), CXM_OK);
	assert_non_null(strstr(text, "# TYPE cxm_observation_no_answer counter"));
	assert_non_null(strstr(text, "cxm_observation_no_answer_total{metric=\"asa\",touchpoint=\"queue\",channel=\"phone\"} 2"));
	assert_non_null(strstr(text, "cxm_observation_no_answer_total{metric=\"resolved\",touchpoint=\"queue\",channel=\"phone\"} 1"));
	free(text);
	free(mb.p);
	cxm_context_free(b);
	/* the codes a kind cannot take */
	cxm_id x;
	d = na_def(CXM_PRESET_RATE, 1);
	assert_int_equal(cxm_metric_define(&x, ctx, "rate-1", &d), CXM_ERR_OUT_OF_RANGE);
	d.na_value = 0;
	assert_int_equal(cxm_metric_define(&x, ctx, "rate-0", &d), CXM_ERR_OUT_OF_RANGE);
	d = na_def(CXM_PRESET_VOLUME, -1);
	assert_int_equal(cxm_metric_define(&x, ctx, "volume-na", &d), CXM_ERR_INVALID);
	d = na_def(CXM_PRESET_DISTINCT, -1);
	assert_int_equal(cxm_metric_define(&x, ctx, "distinct-na", &d), CXM_ERR_INVALID);
	cxm_context_free(ctx);
}

static void empty_and_low_sample(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id nps = def_preset(ctx, "nps", CXM_PRESET_NPS), tp = def_tp(ctx, "ivr");
	cxm_result r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_int_equal(r.n, 0);
	assert_true(r.flags & CXM_RESULT_EMPTY);
	assert_true(r.flags & CXM_RESULT_LOW_SAMPLE);
	assert_true(isnan(r.value));
	for (int i = 0; i < 29; i++)
		assert_int_equal(feed1(ctx, T0, tp, nps, 10), CXM_OK);
	r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_true(r.flags & CXM_RESULT_LOW_SAMPLE);
	assert_int_equal(feed1(ctx, T0, tp, nps, 10), CXM_OK);
	r = query_tp(ctx, nps, tp, CXM_NOW, DAY);
	assert_false(r.flags & (CXM_RESULT_LOW_SAMPLE | CXM_RESULT_EMPTY));
	assert_double_equal(r.value, 100, EPS);
	cxm_context_free(ctx);
}

/* Touchpoints A, B on step 0 and C on step 1 of journey J; D stands alone
 * and is a chat. Step, journey, channel and overall scopes merge them. */
static void scopes_and_segments(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id nps = def_preset(ctx, "nps", CXM_PRESET_NPS);
	const char *steps[] = {"contact", "resolve"};
	cxm_id j, a, b, c, dd, tier;
	assert_int_equal(cxm_journey_define(&j, ctx, "support", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&a, ctx, "phone", CXM_CHANNEL_PHONE, j, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&b, ctx, "email", CXM_CHANNEL_EMAIL, j, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&c, ctx, "agent", CXM_CHANNEL_PHONE, j, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&dd, ctx, "chat", CXM_CHANNEL_CHAT, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_segment_define(&tier, ctx, "tier", 4), CXM_OK);
	uint32_t gold, silver;
	assert_int_equal(cxm_segment_value(&gold, ctx, tier, "gold"), CXM_OK);
	assert_int_equal(cxm_segment_value(&silver, ctx, tier, "silver"), CXM_OK);
	uint32_t again;
	assert_int_equal(cxm_segment_value(&again, ctx, tier, "gold"), CXM_OK);
	assert_int_equal(again, gold);

	struct {
		cxm_id tp;
		uint32_t seg;
		double v;
	} in[] = {{a, 0, 10}, {a, 1, 0}, {b, 0, 9}, {c, 0, 5}, {c, 1, 10}, {dd, 1, 8}};
	for (size_t i = 0; i < 6; i++) {
		uint32_t seg = in[i].seg ? silver : gold;
		cxm_measure m = {nps, 0, in[i].v};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0 - 1000;
		ix.touchpoint = in[i].tp;
		ix.segments = &seg;
		ix.n_segments = 1;
		ix.measures = &m;
		ix.n_measures = 1;
		assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	}
	cxm_query q = CXM_QUERY_INIT;
	q.metric = nps;
	q.span_ms = DAY;
	cxm_result r = {.size = sizeof r};
	struct {
		cxm_scope scope;
		cxm_id id, step;
		uint64_t n, top, bottom;
	} want[] = {
		{CXM_SCOPE_STEP, j, 0, 3, 2, 1},
		{CXM_SCOPE_STEP, j, 1, 2, 1, 1},
		{CXM_SCOPE_JOURNEY, j, 0, 5, 3, 2},
		{CXM_SCOPE_ALL, 0, 0, 6, 3, 2},
		{CXM_SCOPE_CHANNEL, CXM_CHANNEL_PHONE, 0, 4, 2, 2},
		{CXM_SCOPE_CHANNEL, CXM_CHANNEL_CHAT, 0, 1, 0, 0},
		{CXM_SCOPE_TOUCHPOINT, a, 0, 2, 1, 1},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		q.scope = want[i].scope;
		q.id = want[i].id;
		q.step = want[i].step;
		assert_int_equal(cxm_query_run(&r, ctx, &q), CXM_OK);
		assert_int_equal(r.n, want[i].n);
		assert_int_equal(r.top, want[i].top);
		assert_int_equal(r.bottom, want[i].bottom);
	}
	/* tier = gold over everything: 10, 9, 5 */
	q.scope = CXM_SCOPE_ALL;
	q.segment = tier;
	q.segment_value = gold;
	assert_int_equal(cxm_query_run(&r, ctx, &q), CXM_OK);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.top, 2);
	assert_int_equal(r.bottom, 1);
	assert_double_equal(r.value, 100.0 / 3, 1e-9);
	q.segment_value = silver;
	assert_int_equal(cxm_query_run(&r, ctx, &q), CXM_OK);
	assert_int_equal(r.n, 3);
	q.segment_value = 3; /* not yet defined */
	assert_int_equal(cxm_query_run(&r, ctx, &q), CXM_ERR_UNKNOWN_ID);
	/* look-ups */
	cxm_id id;
	const char *name;
	assert_int_equal(cxm_find(&id, ctx, CXM_OBJECT_TOUCHPOINT, "agent"), CXM_OK);
	assert_int_equal(id, c);
	assert_int_equal(cxm_name(&name, ctx, CXM_OBJECT_JOURNEY, j), CXM_OK);
	assert_string_equal(name, "support");
	assert_int_equal(cxm_step_find(&id, ctx, j, "resolve"), CXM_OK);
	assert_int_equal(id, 1);
	assert_int_equal(cxm_step_name(&name, ctx, j, 0), CXM_OK);
	assert_string_equal(name, "contact");
	uint32_t n;
	assert_int_equal(cxm_count(&n, ctx, CXM_OBJECT_TOUCHPOINT), CXM_OK);
	assert_int_equal(n, 4);
	assert_int_equal(cxm_journey_steps(&n, ctx, j), CXM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cxm_segment_values(&n, ctx, tier), CXM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cxm_segment_value_name(&name, ctx, tier, silver), CXM_OK);
	assert_string_equal(name, "silver");
	cxm_channel ch;
	cxm_id jj, ss;
	assert_int_equal(cxm_touchpoint_get(&ch, &jj, &ss, ctx, c), CXM_OK);
	assert_int_equal(ch, CXM_CHANNEL_PHONE);
	assert_int_equal(jj, j);
	assert_int_equal(ss, 1);
	assert_int_equal(cxm_touchpoint_get(&ch, &jj, &ss, ctx, dd), CXM_OK);
	assert_int_equal(jj, CXM_NONE);
	assert_int_equal(ss, CXM_NONE);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_get(&d, ctx, nps), CXM_OK);
	assert_int_equal(d.scale_max, 10);
	assert_int_equal(d.top_min[0], 9);
	cxm_context_free(ctx);
}

/* A confidence level from the config changes the interval width. */
static void confidence_level(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.confidence = 0.99;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id rate = def_preset(ctx, "fcr", CXM_PRESET_RATE), tp = def_tp(ctx, "x");
	for (int i = 0; i < 100; i++)
		assert_int_equal(feed1(ctx, T0, tp, rate, i < 50), CXM_OK);
	cxm_result r = query_tp(ctx, rate, tp, CXM_NOW, DAY);
	double z = 2.5758293035489004, n = 100, p = 0.5;
	double den = 1 + z * z / n, c = (p + z * z / (2 * n)) / den;
	double h = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
	assert_double_equal(r.ci_low, 100 * (c - h), 1e-6);
	assert_double_equal(r.ci_high, 100 * (c + h), 1e-6);
	cxm_context_free(ctx);
}

/* This 24 h against the 24 h before, and one segment against another. */
static void compare(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id nps = def_preset(ctx, "nps", CXM_PRESET_NPS), tp = def_tp(ctx, "agent");
	cxm_id rate = def_preset(ctx, "fcr", CXM_PRESET_RATE);
	cxm_id amt = def_preset(ctx, "revenue", CXM_PRESET_AMOUNT);
	cxm_id ces = def_preset(ctx, "ces", CXM_PRESET_CES7);
	/* yesterday: 50 promoters, 30 passives, 20 detractors (NPS 30) */
	for (int i = 0; i < 100; i++)
		assert_int_equal(feed1(ctx, T0 - DAY - HOUR, tp, nps, i < 50 ? 10 : i < 80 ? 7 : 2), CXM_OK);
	/* yesterday: FCR 20 of 40, CES 3 and 5 alternately (mean 4) */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(feed1(ctx, T0 - DAY - HOUR + MIN, tp, rate, i < 20), CXM_OK);
		assert_int_equal(feed1(ctx, T0 - DAY - HOUR + MIN, tp, ces, i % 2 ? 3 : 5), CXM_OK);
	}
	/* today: 70, 20, 10 (NPS 60); FCR 30 of 40; CES 5 and 7 (mean 6) */
	for (int i = 0; i < 100; i++)
		assert_int_equal(feed1(ctx, T0 - HOUR, tp, nps, i < 70 ? 9 : i < 90 ? 8 : 0), CXM_OK);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(feed1(ctx, T0 - HOUR, tp, rate, i < 30), CXM_OK);
		assert_int_equal(feed1(ctx, T0 - HOUR, tp, ces, i % 2 ? 5 : 7), CXM_OK);
	}
	cxm_query a = CXM_QUERY_INIT, b = CXM_QUERY_INIT;
	a.metric = b.metric = nps;
	a.scope = b.scope = CXM_SCOPE_TOUCHPOINT;
	a.id = b.id = tp;
	a.span_ms = b.span_ms = DAY;
	a.end_ms = T0 - DAY - 1;
	b.end_ms = T0 - 1;
	cxm_comparison c = {.size = sizeof c};
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_OK);
	assert_int_equal(c.n_a, 100);
	assert_int_equal(c.n_b, 100);
	assert_double_equal(c.a, 30, 1e-9);
	assert_double_equal(c.b, 60, 1e-9);
	assert_double_equal(c.difference, 30, 1e-9);
	double se = 100 * sqrt((0.7 - 0.09) / 100 + (0.8 - 0.36) / 100);
	assert_double_equal(c.z, 30 / se, 1e-9);
	assert_double_equal(c.p_value, erfc(30 / se / sqrt(2.0)), 1e-12);
	assert_true(c.p_value < 0.01);
	assert_double_equal(c.ci_low, 30 - 1.959963984540054 * se, 1e-6);
	/* the same window twice: no difference, p = 1 */
	assert_int_equal(cxm_query_compare(&c, ctx, &b, &b), CXM_OK);
	assert_double_equal(c.difference, 0, 0);
	assert_double_equal(c.p_value, 1, 1e-12);
	/* proportions (unpooled) and means (Welch) */
	a.metric = b.metric = rate;
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_OK);
	se = 100 * sqrt(0.5 * 0.5 / 40 + 0.75 * 0.25 / 40);
	assert_double_equal(c.difference, 25, 1e-9);
	assert_double_equal(c.z, 25 / se, 1e-9);
	a.metric = b.metric = ces;
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_OK);
	double sd = sqrt(40.0 / 39); /* values +-1 around the mean */
	assert_double_equal(c.difference, 2, 1e-9);
	assert_double_equal(c.z, 2 / sqrt(2 * sd * sd / 40), 1e-9);
	/* an empty side: NaN, flagged */
	a.end_ms = T0 - 3 * DAY;
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_OK);
	assert_true(c.flags & CXM_RESULT_EMPTY);
	assert_true(isnan(c.p_value));
	/* refused */
	a.end_ms = T0 - DAY - 1;
	a.metric = nps;
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_ERR_INVALID);
	a.metric = b.metric = amt;
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_ERR_KIND);
	assert_int_equal(cxm_query_compare(NULL, ctx, &a, &b), CXM_ERR_INVALID);
	c.size = 4;
	a.metric = b.metric = nps;
	assert_int_equal(cxm_query_compare(&c, ctx, &a, &b), CXM_ERR_VERSION);
	cxm_context_free(ctx);
}

/* SENTIMENT: six scores a model gave (VADER's compound score, say) and
 * a no-answer code; mean, shares, NET and their intervals by hand; the
 * exposition; every refusal. */
static void sentiment(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id tp = def_tp(ctx, "chat");
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_SENTIMENT), CXM_OK);
	assert_int_equal(d.kind, CXM_KIND_SENTIMENT);
	d.has_na = 1;
	d.na_value = 9;
	cxm_id s, net;
	assert_int_equal(cxm_metric_define(&s, ctx, "sentiment", &d), CXM_OK);
	d.headline = CXM_HEADLINE_NET;
	assert_int_equal(cxm_metric_define(&net, ctx, "sentiment net", &d), CXM_OK);
	/* positive from 0.05, negative to -0.05: 0.8, 0.05 and 0.5 positive,
	 * -0.6 and -0.05 negative, 0 neither; 9 is no answer */
	const double v[] = {0.8, -0.6, 0.05, 0, -0.05, 0.5, 9};
	feed_all(ctx, tp, s, v, 7);
	feed_all(ctx, tp, net, v, 7);
	cxm_result r = query_tp(ctx, s, tp, T0, HOUR);
	assert_int_equal(r.kind, CXM_KIND_SENTIMENT);
	assert_int_equal(r.headline, CXM_HEADLINE_MEAN);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.top, 3);
	assert_int_equal(r.bottom, 2);
	assert_double_equal(r.mean, 0.7 / 6, 1e-12);
	assert_double_equal(r.value, r.mean, 0);
	assert_double_equal(r.top_share, 0.5, 1e-12);
	assert_double_equal(r.bottom_share, 2.0 / 6, 1e-12);
	assert_double_equal(r.min, -0.6, 0);
	assert_double_equal(r.max, 0.8, 0);
	/* sample sd of the six: sum 0.7, sum of squares 1.255 */
	double sd = sqrt((1.255 - 0.7 * 0.7 / 6) / 5);
	assert_double_equal(r.stddev, sd, 1e-12);
	assert_double_equal(r.ci_low, 0.7 / 6 - 1.959963984540054 * sd / sqrt(6), 1e-9);
	assert_double_equal(r.ci_high, 0.7 / 6 + 1.959963984540054 * sd / sqrt(6), 1e-9);
	r = query_tp(ctx, net, tp, T0, HOUR);
	assert_double_equal(r.value, 100 * (0.5 - 2.0 / 6), 1e-9);
	double p = 0.5, q = 2.0 / 6, se = 100 * sqrt(((p + q) - (p - q) * (p - q)) / 6);
	assert_double_equal(r.ci_low, r.value - 1.959963984540054 * se, 1e-9);
	/* one score of 1: its interval is cut at 1 */
	cxm_id one = 0;
	d.headline = CXM_HEADLINE_MEAN;
	assert_int_equal(cxm_metric_define(&one, ctx, "one", &d), CXM_OK);
	const double v1[] = {1, 0.98};
	feed_all(ctx, tp, one, v1, 2);
	r = query_tp(ctx, one, tp, T0, HOUR);
	assert_true(r.ci_high == 1 && r.ci_low < 0.99);
	/* one score: no interval (NaN, not -1 .. 1) */
	cxm_id single;
	assert_int_equal(cxm_metric_define(&single, ctx, "single", &d), CXM_OK);
	assert_int_equal(feed1(ctx, T0, tp, single, 0.3), CXM_OK);
	r = query_tp(ctx, single, tp, T0, HOUR);
	assert_int_equal(r.n, 1);
	assert_true(isnan(r.ci_low) && isnan(r.ci_high));
	/* a merge needs the same thresholds and no-answer code: counts
	 * judged against others would not add */
	for (int k = 0; k < 2; k++) {
		cxm_context *o = test_ctx(&clk);
		cxm_id otp = def_tp(o, "chat");
		(void)otp;
		cxm_metric_def od = {.size = sizeof od};
		assert_int_equal(cxm_metric_preset(&od, CXM_PRESET_SENTIMENT), CXM_OK);
		if (k == 0) {
			od.top_min[0] = 90; /* positive from 0.9 */
			od.has_na = 1;
			od.na_value = 9;
		} /* k == 1: no code */
		cxm_id os;
		assert_int_equal(cxm_metric_define(&os, o, "sentiment", &od), CXM_OK);
		assert_int_equal(cxm_merge(ctx, o), CXM_ERR_EXISTS);
		cxm_context_free(o);
	}
	/* the exposition */
	size_t len = 0;
	assert_int_equal(cxm_export_text(&len, ctx, NULL, NULL, 0), CXM_ERR_LIMIT);
	char *text = malloc(len + 1);
	assert_int_equal(cxm_export_text(&len, ctx, NULL, text, len + 1), CXM_OK);
	assert_non_null(strstr(text, "# TYPE cxm_sentiment summary"));
	assert_non_null(strstr(text, "cxm_sentiment_count{metric=\"sentiment\",touchpoint=\"chat\""));
	assert_non_null(strstr(text, "cxm_sentiment_polarity_total{metric=\"sentiment\",touchpoint=\"chat\",channel=\"phone\",polarity=\"positive\"} 3"));
	assert_non_null(strstr(text, "cxm_sentiment_polarity_total{metric=\"sentiment\",touchpoint=\"chat\",channel=\"phone\",polarity=\"negative\"} 2"));
	assert_non_null(strstr(text, "cxm_observation_no_answer_total{metric=\"sentiment\",touchpoint=\"chat\",channel=\"phone\"} 1"));
	free(text);
	/* refusals: a score off the scale, an item, a code on the scale,
	 * thresholds out of order, a headline that does not fit */
	cxm_interaction ix = CXM_INTERACTION_INIT;
	cxm_measure me = {.metric = s, .value = 1.5};
	ix.time_ms = T0;
	ix.touchpoint = tp;
	ix.measures = &me;
	ix.n_measures = 1;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_ERR_OUT_OF_RANGE);
	me.value = -1.0001;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_ERR_OUT_OF_RANGE);
	me.value = 0.5;
	me.item = 1;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(query_tp(ctx, s, tp, T0, HOUR).n, 6); /* nothing of them counted */
	cxm_id x;
	d.na_value = 1;
	assert_int_equal(cxm_metric_define(&x, ctx, "bad na", &d), CXM_ERR_OUT_OF_RANGE);
	d.na_value = 9;
	d.top_min[0] = -10;
	assert_int_equal(cxm_metric_define(&x, ctx, "bad thresholds", &d), CXM_ERR_OUT_OF_RANGE);
	d.top_min[0] = 101;
	d.bottom_max[0] = -5;
	assert_int_equal(cxm_metric_define(&x, ctx, "bad top", &d), CXM_ERR_OUT_OF_RANGE);
	d.top_min[0] = 5;
	d.headline = CXM_HEADLINE_SUM;
	assert_int_equal(cxm_metric_define(&x, ctx, "bad headline", &d), CXM_ERR_INVALID);
	d.headline = CXM_HEADLINE_MEAN;
	d.kind = (cxm_metric_kind)9;
	assert_int_equal(cxm_metric_define(&x, ctx, "bad kind", &d), CXM_ERR_INVALID);
	cxm_context_free(ctx);
}

/* History in any order: an export shuffled over two days, refused as too
 * late by cxm_feed_batch, is accepted by cxm_feed_history as if fed
 * oldest first; its bad rows are reported at their own positions. */
static void history_any_order(void **state)
{
	(void)state;
	enum { N = 3000 };
	cxm_interaction *ix = calloc(N, sizeof *ix);
	cxm_measure *me = calloc(N, sizeof *me);
	assert_non_null(ix);
	assert_non_null(me);
	uint64_t seed = 12345;
	for (int pass = 0; pass < 2; pass++) {
		test_clock clk = {T0};
		cxm_context *ctx = test_ctx(&clk);
		cxm_id tp = def_tp(ctx, "survey");
		cxm_metric_def d = {.size = sizeof d};
		assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
		cxm_id nps;
		assert_int_equal(cxm_metric_define(&nps, ctx, "nps", &d), CXM_OK);
		seed = 12345;
		for (int i = 0; i < N; i++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			cxm_interaction_init(&ix[i], sizeof ix[i]);
			ix[i].time_ms = T0 - (int64_t)(seed >> 33) % (2 * DAY);
			ix[i].touchpoint = tp;
			me[i] = (cxm_measure){nps, 0, (double)(i % 11)};
			ix[i].measures = &me[i];
			ix[i].n_measures = 1;
		}
		me[17].value = 11; /* two bad rows */
		me[2500].value = -1;
		size_t acc = 0, nr = 0;
		cxm_rejection rej[8];
		if (pass == 0) {
			/* as they come: most are more than 2 h behind a row before them */
			assert_int_equal(cxm_feed_batch(&acc, ctx, ix, N, rej, 8, &nr), CXM_ERR_REJECTED);
			assert_true(nr > N / 2);
		} else {
			assert_int_equal(cxm_feed_history(&acc, ctx, ix, N, rej, 8, &nr), CXM_ERR_REJECTED);
			assert_int_equal(acc, N - 2);
			assert_int_equal(nr, 2);
			assert_true((rej[0].index == 17 && rej[1].index == 2500) ||
				    (rej[0].index == 2500 && rej[1].index == 17));
			assert_int_equal(rej[0].status, CXM_ERR_OUT_OF_RANGE);
			cxm_result r = query_tp(ctx, nps, tp, T0, 2 * DAY + HOUR);
			assert_int_equal(r.n, N - 2);
			/* bad arguments */
			assert_int_equal(cxm_feed_history(&acc, NULL, ix, N, rej, 8, &nr), CXM_ERR_INVALID);
			assert_int_equal(cxm_feed_history(&acc, ctx, NULL, N, rej, 8, &nr), CXM_ERR_INVALID);
			assert_int_equal(cxm_feed_history(&acc, ctx, ix, N, NULL, 8, &nr), CXM_ERR_INVALID);
			assert_int_equal(cxm_feed_history(NULL, ctx, ix, 0, NULL, 0, NULL), CXM_OK);
			ix[0].size = 8;
			assert_int_equal(cxm_feed_history(&acc, ctx, ix, N, rej, 8, &nr), CXM_ERR_VERSION);
			ix[0].size = sizeof ix[0];
			assert_int_equal(query_tp(ctx, nps, tp, T0, 2 * DAY + HOUR).n, N - 2); /* nothing more */
		}
		cxm_context_free(ctx);
	}
	free(ix);
	free(me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nps_boundaries),   cmocka_unit_test(nps_value_and_ci),
		cmocka_unit_test(csat_top2),        cmocka_unit_test(ces7),
		cmocka_unit_test(cx_index),         cmocka_unit_test(rate_amount_volume),
		cmocka_unit_test(duration_quantiles), cmocka_unit_test(na_answers),
		cmocka_unit_test(na_observations),
		cmocka_unit_test(sentiment),
		cmocka_unit_test(history_any_order),
		cmocka_unit_test(empty_and_low_sample), cmocka_unit_test(scopes_and_segments),
		cmocka_unit_test(confidence_level),   cmocka_unit_test(compare),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
