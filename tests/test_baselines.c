/* Named baselines: last week's window, a fixed period and a target,
 * against cxm_query_compare() of the windows spelled out and a hand
 * computation for the target; snapshots; every bad argument. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK (7 * DAY)

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id tp, nps, aht;
} fx;

static cxm_config fx_cfg(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 2;
	cfg.tiers[0] = (cxm_tier){MIN, 120, 0};
	cfg.tiers[1] = (cxm_tier){HOUR, 24 * 30, 0};
	memset(cfg.customer_key, 3, sizeof cfg.customer_key);
	return cfg;
}

/* The week before last: 20 promoters, 20 detractors (NPS 0); the last
 * week: 30 promoters, 10 detractors (NPS 50). */
static void fx_make(fx *f)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0;
	cxm_config cfg = fx_cfg();
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	assert_int_equal(cxm_touchpoint_define(&f->tp, f->ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->nps, f->ctx, "nps", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_AMOUNT), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->aht, f->ctx, "revenue", &d), CXM_OK);
	for (int i = 0; i < 40; i++)
		assert_int_equal(feed1(f->ctx, T0 - 2 * WEEK + HOUR + i * HOUR, f->tp, f->nps, i < 20 ? 9 : 0), CXM_OK);
	for (int i = 0; i < 40; i++)
		assert_int_equal(feed1(f->ctx, T0 - WEEK + HOUR + i * HOUR, f->tp, f->nps, i < 30 ? 9 : 0), CXM_OK);
}

static cxm_query last_week(const fx *f)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = f->nps;
	q.end_ms = T0 - 1;
	q.span_ms = WEEK;
	return q;
}

static void same(const cxm_comparison *x, const cxm_comparison *y)
{
	assert_true(x->a == y->a && x->b == y->b && x->n_a == y->n_a && x->n_b == y->n_b &&
		    x->flags == y->flags);
	assert_double_equal(x->difference, y->difference, 0);
	assert_double_equal(x->p_value, y->p_value, 0);
}

static void offset_period_target(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_baseline_def d;
	assert_int_equal(cxm_baseline_def_init(&d, sizeof d), CXM_OK);
	d.kind = CXM_BASELINE_OFFSET;
	d.offset_ms = WEEK;
	cxm_id wk, per, tgt;
	assert_int_equal(cxm_baseline_define(&wk, f.ctx, "last week", &d), CXM_OK);
	assert_int_equal(wk, 0);
	cxm_baseline_def p = {.size = sizeof p, .kind = CXM_BASELINE_PERIOD};
	p.start_ms = T0 - 2 * WEEK;
	p.end_ms = T0 - WEEK;
	assert_int_equal(cxm_baseline_define(&per, f.ctx, "week 47", &p), CXM_OK);
	cxm_baseline_def t = {.size = sizeof t, .kind = CXM_BASELINE_TARGET, .metric = f.nps, .target = 40};
	assert_int_equal(cxm_baseline_define(&tgt, f.ctx, "nps target", &t), CXM_OK);
	/* OFFSET and PERIOD: cxm_query_compare() of the two windows */
	cxm_query q = last_week(&f), then = q;
	then.end_ms -= WEEK;
	cxm_comparison c = {.size = sizeof c}, want = {.size = sizeof want};
	assert_int_equal(cxm_query_compare(&want, f.ctx, &then, &q), CXM_OK);
	assert_double_equal(want.a, 0, 1e-12);
	assert_double_equal(want.b, 50, 1e-12);
	assert_int_equal(cxm_query_baseline(&c, f.ctx, &q, wk), CXM_OK);
	same(&c, &want);
	assert_double_equal(c.difference, 50, 1e-12);
	assert_true(c.p_value < 0.05);
	assert_int_equal(cxm_query_baseline(&c, f.ctx, &q, per), CXM_OK);
	same(&c, &want);
	/* an end of CXM_NOW is resolved, then moved back a week */
	q.end_ms = CXM_NOW;
	then = q;
	then.end_ms = T0 - WEEK;
	assert_int_equal(cxm_query_compare(&want, f.ctx, &then, &q), CXM_OK);
	assert_int_equal(cxm_query_baseline(&c, f.ctx, &q, wk), CXM_OK);
	same(&c, &want);
	/* TARGET: NPS 50 against 40 with the query's standard error alone:
	 * p = 0.75, d = 0.25, n = 40 */
	q = last_week(&f);
	assert_int_equal(cxm_query_baseline(&c, f.ctx, &q, tgt), CXM_OK);
	double se = 100 * sqrt((1.0 - 0.25) / 40);
	assert_double_equal(c.a, 40, 0);
	assert_double_equal(c.b, 50, 1e-12);
	assert_int_equal(c.n_a, 0);
	assert_int_equal(c.n_b, 40);
	assert_double_equal(c.difference, 10, 1e-12);
	assert_double_equal(c.ci_low, 10 - 1.959963984540054 * se, 1e-9);
	assert_double_equal(c.z, 10 / se, 1e-9);
	assert_double_equal(c.p_value, erfc(10 / se / sqrt(2.0)), 1e-12);
	/* by name, and back */
	cxm_id id;
	assert_int_equal(cxm_baseline_find(&id, f.ctx, "week 47"), CXM_OK);
	assert_int_equal(id, per);
	cxm_baseline_def got = {.size = sizeof got};
	const char *name = NULL;
	assert_int_equal(cxm_baseline_get(&got, &name, f.ctx, tgt), CXM_OK);
	assert_string_equal(name, "nps target");
	assert_true(got.kind == CXM_BASELINE_TARGET && got.metric == f.nps && got.target == 40);
	/* a snapshot brings them back */
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(f.ctx, membuf_write, &mb), CXM_OK);
	cxm_config cfg = fx_cfg();
	cxm_context *b = test_ctx_cfg(&f.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(b, mb.p, mb.len), CXM_OK);
	free(mb.p);
	assert_int_equal(cxm_baseline_find(&id, b, "nps target"), CXM_OK);
	assert_int_equal(cxm_baseline_get(&got, NULL, b, id), CXM_OK);
	assert_true(got.target == 40 && got.metric == f.nps);
	cxm_comparison cb = {.size = sizeof cb};
	assert_int_equal(cxm_query_baseline(&cb, b, &q, id), CXM_OK);
	same(&cb, &c);
	assert_int_equal(cxm_query_baseline(&cb, b, &q, wk), CXM_OK);
	assert_double_equal(cb.difference, 50, 1e-12);
	cxm_context_free(b);
	cxm_context_free(f.ctx);
}

/* A metric and a TARGET baseline on it defined while a snapshot is being
 * written (after its MODEL section): the file leaves the baseline out and
 * loads. The write callback stands for the other thread. */
typedef struct racing {
	membuf mb;
	cxm_context *ctx;
	int calls;
} racing;

static int racing_write(const void *data, size_t len, void *payload)
{
	racing *r = payload;
	uint32_t type = 0;
	if (len == 16) /* a section's head: the CUSTOMERS section comes after MODEL */
		memcpy(&type, data, 4);
	if (type == 4 && r->calls++ == 0) {
		cxm_metric_def d = {.size = sizeof d};
		cxm_id m, id;
		assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_CSAT5), CXM_OK);
		assert_int_equal(cxm_metric_define(&m, r->ctx, "csat", &d), CXM_OK);
		cxm_baseline_def t = {.size = sizeof t, .kind = CXM_BASELINE_TARGET, .metric = m, .target = 80};
		assert_int_equal(cxm_baseline_define(&id, r->ctx, "csat target", &t), CXM_OK);
	}
	return membuf_write(data, len, &r->mb);
}

static void defined_while_saving(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_baseline_def d = {.size = sizeof d, .kind = CXM_BASELINE_OFFSET, .offset_ms = WEEK};
	cxm_id id;
	assert_int_equal(cxm_baseline_define(&id, f.ctx, "last week", &d), CXM_OK);
	racing r = {{0}, f.ctx, 0};
	assert_int_equal(cxm_snapshot_write(f.ctx, racing_write, &r), CXM_OK);
	cxm_config cfg = fx_cfg();
	cxm_context *b = test_ctx_cfg(&f.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(b, r.mb.p, r.mb.len), CXM_OK);
	assert_int_equal(cxm_baseline_find(&id, b, "last week"), CXM_OK);
	assert_int_equal(cxm_baseline_find(&id, b, "csat target"), CXM_ERR_UNKNOWN_ID);
	free(r.mb.p);
	cxm_context_free(b);
	cxm_context_free(f.ctx);
}

static void bad_args(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_context *ctx = f.ctx;
	cxm_id id = 99;
	cxm_baseline_def d = {.size = sizeof d, .kind = CXM_BASELINE_OFFSET, .offset_ms = WEEK};
	assert_int_equal(cxm_baseline_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_def_init(&d, 4), CXM_ERR_VERSION);
	d = (cxm_baseline_def){.size = sizeof d, .kind = CXM_BASELINE_OFFSET, .offset_ms = WEEK};
	assert_int_equal(cxm_baseline_define(NULL, ctx, "x", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_define(&id, NULL, "x", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_define(&id, ctx, NULL, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_define(&id, ctx, "", &d), CXM_ERR_ENCODING);
	d.kind = (cxm_baseline_kind)0;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &d), CXM_ERR_INVALID);
	d.kind = CXM_BASELINE_OFFSET;
	d.offset_ms = 0;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &d), CXM_ERR_OUT_OF_RANGE);
	d.offset_ms = -5;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &d), CXM_ERR_OUT_OF_RANGE);
	d.offset_ms = WEEK;
	d.start_ms = 5; /* another kind's field */
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &d), CXM_ERR_INVALID);
	d.start_ms = 0;
	d.reserved[2] = 1;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &d), CXM_ERR_UNSUPPORTED);
	d.reserved[2] = 0;
	cxm_baseline_def p = {.size = sizeof p, .kind = CXM_BASELINE_PERIOD, .start_ms = 10, .end_ms = 10};
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &p), CXM_ERR_OUT_OF_RANGE);
	p.start_ms = -1;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &p), CXM_ERR_OUT_OF_RANGE);
	p.start_ms = 0;
	p.end_ms = CXM_TIME_MAX + 2;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &p), CXM_ERR_OUT_OF_RANGE);
	cxm_baseline_def t = {.size = sizeof t, .kind = CXM_BASELINE_TARGET, .metric = 77, .target = 1};
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &t), CXM_ERR_UNKNOWN_ID);
	t.metric = f.nps;
	t.target = NAN;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &t), CXM_ERR_NOT_FINITE);
	t.target = 1;
	t.offset_ms = 1;
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &t), CXM_ERR_INVALID);
	t.offset_ms = 0;
	assert_int_equal(id, 99); /* nothing defined */
	assert_int_equal(cxm_baseline_find(&id, ctx, "x"), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &d), CXM_OK);
	assert_int_equal(cxm_baseline_define(&id, ctx, "x", &t), CXM_ERR_EXISTS);
	cxm_id tg;
	assert_int_equal(cxm_baseline_define(&tg, ctx, "target", &t), CXM_OK);
	/* the queries */
	cxm_query q = last_week(&f);
	cxm_comparison c = {.size = sizeof c};
	assert_int_equal(cxm_query_baseline(NULL, ctx, &q, id), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_baseline(&c, NULL, &q, id), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_baseline(&c, ctx, NULL, id), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_baseline(&c, ctx, &q, 7), CXM_ERR_UNKNOWN_ID);
	q.metric = f.aht;
	assert_int_equal(cxm_query_baseline(&c, ctx, &q, tg), CXM_ERR_INVALID); /* another metric's target */
	assert_int_equal(cxm_query_baseline(&c, ctx, &q, id), CXM_ERR_KIND);   /* a SUM has no test */
	q.metric = f.nps;
	q.span_ms = 0;
	assert_int_equal(cxm_query_baseline(&c, ctx, &q, id), CXM_ERR_OUT_OF_RANGE);
	q.span_ms = WEEK;
	c.size = 4;
	assert_int_equal(cxm_query_baseline(&c, ctx, &q, tg), CXM_ERR_VERSION);
	cxm_baseline_def got = {.size = 4};
	assert_int_equal(cxm_baseline_get(&got, NULL, ctx, 0), CXM_ERR_VERSION);
	got.size = sizeof got;
	assert_int_equal(cxm_baseline_get(&got, NULL, ctx, 5), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_baseline_get(NULL, NULL, ctx, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_find(NULL, ctx, "x"), CXM_ERR_INVALID);
	assert_int_equal(cxm_baseline_find(&id, ctx, NULL), CXM_ERR_INVALID);
	/* the limit */
	char name[32];
	for (int i = 2; i < CXM_BASELINES_MAX; i++) {
		snprintf(name, sizeof name, "b%d", i);
		assert_int_equal(cxm_baseline_define(&id, ctx, name, &d), CXM_OK);
	}
	assert_int_equal(cxm_baseline_define(&id, ctx, "one too many", &d), CXM_ERR_LIMIT);
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offset_period_target),
		cmocka_unit_test(bad_args),
		cmocka_unit_test(defined_while_saving),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
