/* Metric alerts: hand-worked timelines for a LEVEL alert (too few
 * samples, pending for its for_ms, firing, hysteresis, resolving, the
 * cool-down) and a CHANGE alert (significant and not), their events on
 * the queue, the exposition's cxm_alert_firing, and every bad argument. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id agent, nps;
} fx;

static void fx_make(fx *f)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	memcpy(cfg.customer_key, "alerts-fixture-k", 16); /* one key: snapshots load across */
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	assert_int_equal(cxm_touchpoint_define(&f->agent, f->ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0),
			 CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->nps, f->ctx, "nps", &d), CXM_OK);
}

/* n answers v at time t (the clock follows). */
static void answers(fx *f, int n, double v, int64_t t)
{
	if (t > f->clk.now)
		f->clk.now = t;
	for (int i = 0; i < n; i++)
		assert_int_equal(feed1(f->ctx, t, f->agent, f->nps, v), CXM_OK);
}

static cxm_alert_status status(fx *f, cxm_id a)
{
	cxm_alert_status s;
	memset(&s, 0, sizeof s);
	s.size = sizeof s;
	assert_int_equal(cxm_alert_status_get(&s, f->ctx, a), CXM_OK);
	return s;
}

static size_t eval(fx *f, int64_t t)
{
	if (t > f->clk.now)
		f->clk.now = t;
	size_t changed = 99;
	cxm_status st = cxm_alerts_evaluate(&changed, f->ctx, t);
	if (st)
		fail_msg("evaluate: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return changed;
}

static size_t events(fx *f, cxm_event *ev, size_t cap)
{
	ev[0].size = sizeof ev[0];
	size_t n = 0;
	assert_int_equal(cxm_events_poll(ev, cap, &n, f->ctx), CXM_OK);
	return n;
}

/* NPS of the agent over the last hour below 0, for 10 minutes, resolving
 * only at 10 or more, not firing again within 30 minutes, with 5 answers
 * at least. */
static void test_level(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.query.metric = f.nps;
	d.query.scope = CXM_SCOPE_TOUCHPOINT;
	d.query.id = f.agent;
	d.query.span_ms = HOUR;
	d.op = CXM_CMP_LT;
	d.fire = 0;
	d.clear = 10;
	d.min_samples = 5;
	d.for_ms = 10 * MIN;
	d.cooldown_ms = 30 * MIN;
	cxm_id a = 99;
	assert_int_equal(cxm_alert_define(&a, f.ctx, "nps \"low\"", &d), CXM_OK);
	assert_int_equal(a, 0);
	cxm_alert_status s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_OK);
	assert_int_equal(s.since_ms, -1);
	assert_int_equal(s.evaluated_ms, -1);

	cxm_event ev[8];
	assert_int_equal(eval(&f, T0), 0); /* nothing yet: too few */
	s = status(&f, a);
	assert_true(s.flags & CXM_ALERT_INSUFFICIENT);
	assert_int_equal(s.since_ms, T0);
	answers(&f, 4, 0, T0 + MIN);
	assert_int_equal(eval(&f, T0 + 2 * MIN), 0); /* 4 < 5 */
	assert_true(status(&f, a).flags & CXM_ALERT_INSUFFICIENT);
	answers(&f, 2, 0, T0 + 3 * MIN); /* 6 detractors: NPS -100 */
	assert_int_equal(eval(&f, T0 + 10 * MIN), 1);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_PENDING);
	assert_int_equal(s.since_ms, T0 + 10 * MIN);
	assert_false(s.flags & CXM_ALERT_INSUFFICIENT);
	assert_double_equal(s.value, -100, 1e-9);
	assert_int_equal(s.n, 6);
	assert_int_equal(eval(&f, T0 + 19 * MIN), 0); /* 9 of its 10 minutes */
	assert_int_equal(status(&f, a).state, CXM_ALERT_PENDING);
	assert_int_equal(events(&f, ev, 8), 0);
	assert_int_equal(eval(&f, T0 + 20 * MIN), 1);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	assert_int_equal(s.since_ms, T0 + 20 * MIN);
	assert_int_equal(s.fired, 1);
	assert_int_equal(events(&f, ev, 8), 1);
	assert_int_equal(ev[0].kind, CXM_EVENT_ALERT_FIRING);
	assert_int_equal(ev[0].rule, a);
	assert_int_equal(ev[0].time_ms, T0 + 20 * MIN);
	assert_int_equal(ev[0].metric, f.nps);
	assert_int_equal(ev[0].touchpoint, CXM_NONE);
	assert_double_equal(ev[0].value, -100, 1e-9);

	/* the exposition says so, the name escaped */
	char text[16384];
	size_t len;
	cxm_export_options eo;
	assert_int_equal(cxm_export_options_init(&eo, sizeof eo), CXM_OK);
	assert_int_equal(cxm_export_text(&len, f.ctx, &eo, text, sizeof text), CXM_OK);
	assert_non_null(strstr(text, "\ncxm_alert_firing{alert=\"nps \\\"low\\\"\"} 1\n"));

	/* 7 promoters: NPS +7.7, above 0 but below the clear level 10: firing */
	answers(&f, 7, 10, T0 + 21 * MIN);
	assert_int_equal(eval(&f, T0 + 25 * MIN), 0);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	assert_double_equal(s.value, 100.0 / 13, 1e-9);
	/* 3 more: NPS +25, resolved */
	answers(&f, 3, 9, T0 + 26 * MIN);
	assert_int_equal(eval(&f, T0 + 30 * MIN), 1);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_OK);
	assert_int_equal(s.resolved_ms, T0 + 30 * MIN);
	assert_int_equal(events(&f, ev, 8), 1);
	assert_int_equal(ev[0].kind, CXM_EVENT_ALERT_RESOLVED);
	assert_double_equal(ev[0].value, 25, 1e-9);
	assert_int_equal(cxm_export_text(&len, f.ctx, &eo, text, sizeof text), CXM_OK);
	assert_non_null(strstr(text, "\ncxm_alert_firing{alert=\"nps \\\"low\\\"\"} 0\n"));

	/* 30 detractors: the condition holds again, but within the cool-down */
	answers(&f, 30, 3, T0 + 31 * MIN);
	assert_int_equal(eval(&f, T0 + 40 * MIN), 0);
	assert_int_equal(status(&f, a).state, CXM_ALERT_OK);
	assert_int_equal(eval(&f, T0 + 59 * MIN + 59999), 0); /* 29:59.999 after resolving */
	assert_int_equal(status(&f, a).state, CXM_ALERT_OK);
	assert_int_equal(eval(&f, T0 + 60 * MIN), 1); /* 30 min: pending again */
	assert_int_equal(status(&f, a).state, CXM_ALERT_PENDING);
	assert_int_equal(eval(&f, T0 + 70 * MIN), 1);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	assert_int_equal(s.fired, 2);
	/* the window (T0 + 10 min, T0 + 70 min]: 30 + 0 detractors of 40 */
	assert_double_equal(s.value, (10.0 - 30.0) / 40 * 100, 1e-9);
	cxm_context_free(f.ctx);
}

/* NPS down more than 20 points against the hour before, significant at
 * 5 %; and the same drop on 3 answers a side, not significant. */
static void test_change(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.kind = CXM_ALERT_CHANGE;
	d.query.metric = f.nps;
	d.query.span_ms = HOUR;
	d.baseline_offset_ms = HOUR;
	d.op = CXM_CMP_LT;
	d.fire = -20;
	d.clear = -10;
	d.max_p_value = 0.05;
	d.min_samples = 3;
	cxm_id a;
	assert_int_equal(cxm_alert_define(&a, f.ctx, "nps drop", &d), CXM_OK);
	/* a COUNT headline (VOLUME: every interaction) has no test: its CHANGE
	 * is the difference of two runs; asking for a p-value on it is refused.
	 * It fires at hour 3 (40 against 3), resolves at hour 4 (40 against 40)
	 * and fires again at hour 6 (50 against 40). */
	cxm_metric_def vd = {.size = sizeof vd};
	cxm_id calls, v;
	assert_int_equal(cxm_metric_preset(&vd, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&calls, f.ctx, "calls", &vd), CXM_OK);
	cxm_alert_def cd = d;
	cd.query.metric = calls;
	cd.op = CXM_CMP_GT;
	cd.fire = 5;
	cd.clear = 5;
	cxm_id none = 77;
	assert_int_equal(cxm_alert_define(&none, f.ctx, "calls up (p)", &cd), CXM_ERR_KIND);
	assert_int_equal(none, 77);
	cd.max_p_value = 0;
	assert_int_equal(cxm_alert_define(&v, f.ctx, "calls up", &cd), CXM_OK);
	/* hour 1: 2 promoters, 1 passive (+66.7); hour 2: 1 promoter, 2 detractors (-33.3) */
	answers(&f, 2, 10, T0 + 10 * MIN);
	answers(&f, 1, 8, T0 + 11 * MIN);
	answers(&f, 1, 10, T0 + HOUR + 10 * MIN);
	answers(&f, 2, 1, T0 + HOUR + 11 * MIN);
	eval(&f, T0 + 2 * HOUR - 1);
	cxm_alert_status s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_OK); /* -100 points, but p >= 0.05 */
	assert_double_equal(s.value, -100, 1e-9);
	assert_double_equal(s.baseline, 200.0 / 3, 1e-9);
	assert_true(s.p_value >= 0.05);
	/* hour 3: 40 answers, 10 promoters and 30 detractors against hour 2's
	 * + the same again: baseline (hour 2) -33.3 → a drop of 16.7: no */
	answers(&f, 10, 10, T0 + 2 * HOUR + 5 * MIN);
	answers(&f, 30, 0, T0 + 2 * HOUR + 6 * MIN);
	eval(&f, T0 + 3 * HOUR - 1);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_OK);
	assert_double_equal(s.value, -50 - (-100.0 / 3), 1e-9);
	assert_int_equal(status(&f, v).state, CXM_ALERT_FIRING); /* 40 calls against 3 */
	/* hour 4: 35 promoters, 5 detractors (+75); hour 5 the other way
	 * round (-75): -150, p tiny */
	answers(&f, 35, 10, T0 + 3 * HOUR + 5 * MIN);
	answers(&f, 5, 0, T0 + 3 * HOUR + 6 * MIN);
	assert_int_equal(eval(&f, T0 + 4 * HOUR - 1), 1); /* the calls: 40 against 40 */
	assert_int_equal(status(&f, v).state, CXM_ALERT_OK);
	answers(&f, 5, 10, T0 + 4 * HOUR + 5 * MIN);
	answers(&f, 35, 0, T0 + 4 * HOUR + 6 * MIN);
	assert_int_equal(eval(&f, T0 + 5 * HOUR - 1), 1);
	s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	assert_double_equal(s.value, -150, 1e-9);
	assert_double_equal(s.baseline, 75, 1e-9);
	assert_true(s.p_value < 0.001);
	assert_int_equal(s.n, 40);
	cxm_event ev[4];
	assert_int_equal(events(&f, ev, 4), 3); /* the calls' two, then this one */
	assert_int_equal(ev[0].rule, v);
	assert_int_equal(ev[0].kind, CXM_EVENT_ALERT_FIRING);
	assert_int_equal(ev[1].rule, v);
	assert_int_equal(ev[1].kind, CXM_EVENT_ALERT_RESOLVED);
	assert_int_equal(ev[2].rule, a);
	assert_int_equal(ev[2].kind, CXM_EVENT_ALERT_FIRING);
	/* hour 6 like hour 5: change 0, past the clear level: resolved */
	answers(&f, 5, 10, T0 + 5 * HOUR + 5 * MIN);
	answers(&f, 35, 0, T0 + 5 * HOUR + 6 * MIN);
	answers(&f, 10, 8, T0 + 5 * HOUR + 7 * MIN); /* 10 passives: NPS change +15 */
	assert_int_equal(eval(&f, T0 + 6 * HOUR - 1), 2); /* one resolves, one fires */
	assert_int_equal(status(&f, a).state, CXM_ALERT_OK);
	s = status(&f, v);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	assert_double_equal(s.value, 10, 0);
	assert_double_equal(s.baseline, 40, 0);
	assert_true(isnan(s.p_value));
	cxm_context_free(f.ctx);
}

/* Evaluations from two threads while two others feed and two read
 * statuses and poll (suite stress: ThreadSanitizer finds no race). */
/* Alerts that read the same windows share one reading per evaluation;
 * each still judges it by its own levels and minimum samples, and
 * alerts whose windows differ in any way read their own. */
/* FORECAST: revenue per hour 100, 110 … 150 for six hours, then the hour
 * under watch. On that exact line Holt's forecast of the seventh hour is
 * 160 whatever the smoothing, with σ = 0 (so no p-value). At A the hour
 * brings 150: 10 below, not firing at fire -30; at B 100: 60 below,
 * firing. At C the history is noisy; the p-value is the two-sided normal
 * one of the distance over Holt's σ, as cxm_query_trend() gives them. */
static cxm_id forecast_alert(fx *f, const char *name, cxm_id metric, cxm_id tp, double max_p)
{
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.kind = CXM_ALERT_FORECAST;
	d.query.metric = metric;
	d.query.scope = CXM_SCOPE_TOUCHPOINT;
	d.query.id = tp;
	d.query.span_ms = HOUR;
	d.baseline_offset_ms = 6 * HOUR;
	d.op = CXM_CMP_LT;
	d.fire = -30;
	d.clear = -10;
	d.max_p_value = max_p;
	cxm_id a;
	assert_int_equal(cxm_alert_define(&a, f->ctx, name, &d), CXM_OK);
	return a;
}

static void test_forecast(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_metric_def md = {.size = sizeof md};
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_AMOUNT), CXM_OK);
	cxm_id rev, tp[3];
	assert_int_equal(cxm_metric_define(&rev, f.ctx, "revenue", &md), CXM_OK);
	const char *names[3] = {"A", "B", "C"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(cxm_touchpoint_define(&tp[i], f.ctx, names[i], CXM_CHANNEL_WEB, CXM_NONE, 0),
				 CXM_OK);
	const double noisy[6] = {100, 112, 118, 131, 139, 152}, now_hour[3] = {150, 100, 100};
	for (int h = 0; h < 7; h++)
		for (int i = 0; i < 3; i++) {
			double v = h == 6 ? now_hour[i] : i == 2 ? noisy[h] : 100 + 10 * h;
			f.clk.now = T0 + h * HOUR + 60000;
			assert_int_equal(feed1(f.ctx, f.clk.now, tp[i], rev, v), CXM_OK);
		}
	cxm_id a = forecast_alert(&f, "A below forecast", rev, tp[0], 0);
	cxm_id b = forecast_alert(&f, "B below forecast", rev, tp[1], 0);
	cxm_id c = forecast_alert(&f, "C below forecast", rev, tp[2], 0.01);
	const int64_t now = T0 + 7 * HOUR - 1;
	eval(&f, now);
	cxm_alert_status s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_OK);
	assert_double_equal(s.baseline, 160, 1e-9);
	assert_double_equal(s.value, -10, 1e-9);
	assert_true(isnan(s.p_value));
	s = status(&f, b);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	assert_double_equal(s.value, -60, 1e-9);
	cxm_event ev[4];
	const int c_fires = status(&f, c).state == CXM_ALERT_FIRING;
	assert_int_equal(events(&f, ev, 4), 1 + c_fires);
	assert_int_equal(ev[0].kind, CXM_EVENT_ALERT_FIRING);
	assert_int_equal(ev[0].rule, b);
	/* C: what the trend of its history says, and the normal p-value */
	cxm_query h = CXM_QUERY_INIT;
	h.metric = rev;
	h.scope = CXM_SCOPE_TOUCHPOINT;
	h.id = tp[2];
	h.span_ms = 6 * HOUR;
	h.end_ms = now - HOUR;
	cxm_trend t = {.size = sizeof t};
	cxm_forecast fc;
	assert_int_equal(cxm_query_trend(&t, &fc, 1, f.ctx, &h, HOUR), CXM_OK);
	assert_int_equal(fc.start_ms, T0 + 6 * HOUR);
	s = status(&f, c);
	assert_double_equal(s.baseline, fc.value, 1e-9);
	assert_double_equal(s.value, 100 - fc.value, 1e-9);
	assert_true(t.sigma > 0);
	const double p = erfc(fabs(100 - fc.value) / t.sigma / sqrt(2.0));
	assert_double_equal(s.p_value, p, 1e-12);
	assert_int_equal(s.state, 100 - fc.value < -30 && p < 0.01 ? CXM_ALERT_FIRING : CXM_ALERT_OK);
	assert_true(c_fires); /* about 55 below a forecast whose one-step error is a few units */
	/* a history that is not whole windows, or too short or long */
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.kind = CXM_ALERT_FORECAST;
	d.query.metric = rev;
	d.query.span_ms = HOUR;
	d.op = CXM_CMP_LT;
	d.fire = d.clear = 0;
	cxm_id x;
	const int64_t bad[] = {0, -HOUR, 2 * HOUR, 6 * HOUR + 1, (CXM_TREND_MAX_WINDOWS + 1) * HOUR};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		d.baseline_offset_ms = bad[i];
		assert_int_equal(cxm_alert_define(&x, f.ctx, "bad forecast", &d), CXM_ERR_OUT_OF_RANGE);
	}
	/* a snapshot brings it back, firing */
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(f.ctx, membuf_write, &mb), CXM_OK);
	fx g;
	fx_make(&g);
	cxm_context_free(g.ctx);
	cxm_config cfg = CXM_CONFIG_INIT;
	memcpy(cfg.customer_key, "alerts-fixture-k", 16);
	g.ctx = test_ctx_cfg(&f.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(g.ctx, mb.p, mb.len), CXM_OK);
	cxm_alert_status was = status(&f, b), back = status(&g, b);
	assert_memory_equal(&was, &back, sizeof was);
	free(mb.p);
	cxm_context_free(g.ctx);
	cxm_context_free(f.ctx);
}

static void test_shared_windows(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_id other;
	assert_int_equal(cxm_touchpoint_define(&other, f.ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	cxm_metric_def dd = {.size = sizeof dd};
	cxm_id aht;
	assert_int_equal(cxm_metric_preset(&dd, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(&aht, f.ctx, "aht", &dd), CXM_OK);
	answers(&f, 4, 0, T0 + 10 * MIN);  /* detractors: NPS -100 over the agent … */
	answers(&f, 1, 10, T0 + 70 * MIN); /* … in the first hour; a promoter later */
	f.clk.now = T0 + 80 * MIN;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(feed1(f.ctx, T0 + 80 * MIN, other, f.nps, 10), CXM_OK);
		assert_int_equal(feed1(f.ctx, T0 + 80 * MIN, f.agent, aht, 100 + i), CXM_OK);
	}
	struct {
		const char *name;
		cxm_id tp, metric;
		int64_t span;
		double fire;
		uint64_t min_samples;
	} al[] = {
		{"warn", 0, 0, HOUR, 0, 0},	  /* the agent, last hour: 1 answer, +100 */
		{"crit", 0, 0, HOUR, 200, 0},	  /* same window, another level */
		{"few", 0, 0, HOUR, 200, 2},	  /* same window, too few answers */
		{"2h", 0, 0, 2 * HOUR, 0, 0},	  /* two hours: -60 */
		{"ivr", 1, 0, HOUR, 50, 0},	  /* another touchpoint: +100, 6 answers */
		{"aht", 0, 1, HOUR, 1000, 0},	  /* another metric: mean 102.5 s */
		{"warn-again", 0, 0, HOUR, 0, 0}, /* the first window again, last */
	};
	cxm_id id[7];
	for (int i = 0; i < 7; i++) {
		cxm_alert_def d = CXM_ALERT_DEF_INIT;
		d.query.metric = al[i].metric ? aht : f.nps;
		d.query.scope = CXM_SCOPE_TOUCHPOINT;
		d.query.id = al[i].tp ? other : f.agent;
		d.query.span_ms = al[i].span;
		d.op = CXM_CMP_LT;
		d.fire = d.clear = al[i].fire;
		d.min_samples = al[i].min_samples;
		assert_int_equal(cxm_alert_define(&id[i], f.ctx, al[i].name, &d), CXM_OK);
	}
	eval(&f, T0 + 2 * HOUR - 1);
	const double value[7] = {100, 100, 100, -60, 100, 102.5, 100};
	const uint64_t n[7] = {1, 1, 1, 5, 6, 6, 1};
	const cxm_alert_state want[7] = {CXM_ALERT_OK,	   CXM_ALERT_FIRING, CXM_ALERT_OK, CXM_ALERT_FIRING,
					  CXM_ALERT_OK,	   CXM_ALERT_FIRING, CXM_ALERT_OK};
	for (int i = 0; i < 7; i++) {
		cxm_alert_status s = status(&f, id[i]);
		assert_double_equal(s.value, value[i], 1e-9);
		assert_int_equal(s.n, n[i]);
		if (s.state != want[i])
			fail_msg("alert %s: state %d, expected %d", al[i].name, s.state, want[i]);
		assert_int_equal(!!(s.flags & CXM_ALERT_INSUFFICIENT), i == 2);
	}
	cxm_context_free(f.ctx);
}

typedef struct tshared {
	fx *f;
	_Atomic int feeding;
} tshared;

static void *t_feed(void *p)
{
	tshared *sh = p;
	for (int i = 0; i < 3000; i++) {
		int64_t t = T0 + (int64_t)(i / 50) * MIN;
		if (feed1(sh->f->ctx, t, sh->f->agent, sh->f->nps, (i / 300) % 2 ? 10 : 0))
			fail_msg("feed");
	}
	atomic_fetch_sub(&sh->feeding, 1);
	return NULL;
}

static void *t_eval(void *p)
{
	tshared *sh = p;
	for (int64_t k = 0; atomic_load(&sh->feeding) > 0; k++) {
		size_t c;
		if (cxm_alerts_evaluate(&c, sh->f->ctx, T0 + HOUR + (k % 60) * MIN))
			fail_msg("evaluate");
	}
	return NULL;
}

static void *t_read(void *p)
{
	tshared *sh = p;
	cxm_event ev[16];
	ev[0].size = sizeof ev[0];
	while (atomic_load(&sh->feeding) > 0) {
		cxm_alert_status s = {.size = sizeof s};
		if (cxm_alert_status_get(&s, sh->f->ctx, 0))
			fail_msg("status");
		size_t n;
		if (cxm_events_poll(ev, 16, &n, sh->f->ctx))
			fail_msg("poll");
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	f.clk.now = T0 + 2 * HOUR;
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.query.metric = f.nps;
	d.query.span_ms = HOUR;
	d.op = CXM_CMP_LT;
	d.fire = 0;
	d.clear = 20;
	cxm_id a;
	assert_int_equal(cxm_alert_define(&a, f.ctx, "threads", &d), CXM_OK);
	tshared sh = {&f};
	atomic_init(&sh.feeding, 2);
	pthread_t th[6];
	void *(*fn[6])(void *) = {t_feed, t_feed, t_eval, t_eval, t_read, t_read};
	for (int i = 0; i < 6; i++)
		assert_int_equal(pthread_create(&th[i], NULL, fn[i], &sh), 0);
	for (int i = 0; i < 6; i++)
		pthread_join(th[i], NULL);
	cxm_alert_status s = status(&f, a);
	assert_true(s.state == CXM_ALERT_OK || s.state == CXM_ALERT_PENDING || s.state == CXM_ALERT_FIRING);
	cxm_context_free(f.ctx);
}

/* A load brings back the alerts and their states; a merge keeps the
 * target's. */
static void test_snapshot(void **state)
{
	(void)state;
	static const uint8_t key[16] = "alerts-key-16byt";
	fx f;
	memset(&f, 0, sizeof f);
	f.clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	memcpy(cfg.customer_key, key, 16);
	f.ctx = test_ctx_cfg(&f.clk, &cfg);
	assert_int_equal(cxm_touchpoint_define(&f.agent, f.ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0),
			 CXM_OK);
	cxm_metric_def md = {.size = sizeof md};
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f.nps, f.ctx, "nps", &md), CXM_OK);
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.query.metric = f.nps;
	d.query.span_ms = HOUR;
	d.op = CXM_CMP_LT;
	d.fire = 0;
	d.clear = 10;
	d.cooldown_ms = HOUR;
	cxm_id a, b2;
	assert_int_equal(cxm_alert_define(&a, f.ctx, "low", &d), CXM_OK);
	d.op = CXM_CMP_GT;
	d.fire = 90;
	d.clear = 50;
	assert_int_equal(cxm_alert_define(&b2, f.ctx, "high", &d), CXM_OK);
	answers(&f, 6, 0, T0 + MIN);
	assert_int_equal(eval(&f, T0 + 10 * MIN), 1);
	cxm_alert_status s = status(&f, a);
	assert_int_equal(s.state, CXM_ALERT_FIRING);
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(f.ctx, membuf_write, &mb), CXM_OK);

	test_clock clk = {T0 + 10 * MIN};
	cxm_context *c = test_ctx_cfg(&clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(c, mb.p, mb.len), CXM_OK);
	cxm_alert_status t = {.size = sizeof t};
	assert_int_equal(cxm_alert_status_get(&t, c, a), CXM_OK);
	assert_memory_equal(&s, &t, sizeof s);
	/* it goes on from there: 30 promoters resolve it */
	for (int i = 0; i < 30; i++)
		assert_int_equal(feed1(c, T0 + 11 * MIN, f.agent, f.nps, 10), CXM_OK);
	size_t changed;
	assert_int_equal(cxm_alerts_evaluate(&changed, c, T0 + 12 * MIN), CXM_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(cxm_alert_status_get(&t, c, a), CXM_OK);
	assert_int_equal(t.state, CXM_ALERT_OK);
	assert_int_equal(t.resolved_ms, T0 + 12 * MIN);
	cxm_context_free(c);

	/* a merge keeps the target's alerts: none here */
	c = test_ctx_cfg(&clk, &cfg);
	cxm_id tp, m;
	assert_int_equal(cxm_touchpoint_define(&tp, c, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_metric_define(&m, c, "nps", &md), CXM_OK);
	assert_int_equal(cxm_snapshot_merge_mem(c, mb.p, mb.len), CXM_OK);
	assert_int_equal(cxm_alert_status_get(&t, c, 0), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(c);
	free(mb.p);
	cxm_context_free(f.ctx);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_context *c = f.ctx;
	cxm_alert_def d;
	assert_int_equal(cxm_alert_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_def_init(&d, 8), CXM_ERR_VERSION);
	assert_int_equal(cxm_alert_def_init(&d, sizeof d), CXM_OK);
	assert_int_equal(d.query.end_ms, CXM_NOW);
	assert_int_equal(d.query.segment, CXM_NONE);
	d.query.metric = f.nps;
	d.query.span_ms = HOUR;
	d.op = CXM_CMP_LT;
	cxm_id out = 77;
	assert_int_equal(cxm_alert_define(NULL, c, "a", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_define(&out, NULL, "a", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_define(&out, c, "a", NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_define(&out, c, NULL, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_define(&out, c, "", &d), CXM_ERR_ENCODING);
	size_t nb = 0;
#define BAD(code, stmt)                                                                            \
	do {                                                                                       \
		cxm_alert_def b = d;                                                               \
		stmt;                                                                              \
		cxm_status st_ = cxm_alert_define(&out, c, "bad", &b);                             \
		if (st_ != (code))                                                                 \
			fail_msg("%s: %s, expected %s", #stmt, cxm_strerror(st_), cxm_strerror(code)); \
		assert_int_equal(out, 77);                                                         \
		nb++;                                                                              \
	} while (0)
	BAD(CXM_ERR_VERSION, b.size = 16);
	BAD(CXM_ERR_UNSUPPORTED, b.reserved[3] = 1);
	BAD(CXM_ERR_INVALID, b.kind = (cxm_alert_kind)3);
	BAD(CXM_ERR_INVALID, b.op = CXM_CMP_EQ);
	BAD(CXM_ERR_INVALID, b.op = (cxm_cmp)9);
	BAD(CXM_ERR_NOT_FINITE, b.fire = NAN);
	BAD(CXM_ERR_NOT_FINITE, b.clear = INFINITY);
	BAD(CXM_ERR_OUT_OF_RANGE, b.clear = -1); /* LT: clear must be >= fire */
	BAD(CXM_ERR_OUT_OF_RANGE, (b.op = CXM_CMP_GT, b.clear = 1));
	BAD(CXM_ERR_OUT_OF_RANGE, b.for_ms = -1);
	BAD(CXM_ERR_OUT_OF_RANGE, b.cooldown_ms = -1);
	BAD(CXM_ERR_OUT_OF_RANGE, b.query.end_ms = T0);
	BAD(CXM_ERR_OUT_OF_RANGE, b.baseline_offset_ms = HOUR);
	BAD(CXM_ERR_OUT_OF_RANGE, b.max_p_value = 0.05);
	BAD(CXM_ERR_OUT_OF_RANGE, b.kind = CXM_ALERT_CHANGE);
	BAD(CXM_ERR_OUT_OF_RANGE, (b.kind = CXM_ALERT_CHANGE, b.baseline_offset_ms = HOUR, b.max_p_value = 2));
	BAD(CXM_ERR_UNKNOWN_ID, b.query.metric = 9);
	BAD(CXM_ERR_UNKNOWN_ID, (b.query.scope = CXM_SCOPE_TOUCHPOINT, b.query.id = 9));
	BAD(CXM_ERR_OUT_OF_RANGE, b.query.span_ms = 0);
	BAD(CXM_ERR_UNSUPPORTED, b.query.reserved[0] = 1);
	assert_int_equal(nb, 20);
#undef BAD
	assert_int_equal(cxm_alert_define(&out, c, "ok", &d), CXM_OK);
	assert_int_equal(out, 0);
	out = 77;
	assert_int_equal(cxm_alert_define(&out, c, "ok", &d), CXM_ERR_EXISTS);
	assert_int_equal(out, 77);

	size_t changed = 5;
	assert_int_equal(cxm_alerts_evaluate(&changed, NULL, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_alerts_evaluate(&changed, c, -1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_alerts_evaluate(&changed, c, CXM_TIME_MAX + 1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(changed, 5);
	assert_int_equal(cxm_alerts_evaluate(NULL, c, CXM_NOW), CXM_OK); /* the clock's now */

	cxm_alert_status s = {.size = sizeof s};
	assert_int_equal(cxm_alert_status_get(NULL, c, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_status_get(&s, NULL, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_alert_status_get(&s, c, 1), CXM_ERR_UNKNOWN_ID);
	s.size = 8;
	assert_int_equal(cxm_alert_status_get(&s, c, 0), CXM_ERR_VERSION);

	/* a context without alerts evaluates nothing */
	test_clock clk = {T0};
	cxm_context *e = test_ctx(&clk);
	changed = 5;
	assert_int_equal(cxm_alerts_evaluate(&changed, e, T0), CXM_OK);
	assert_int_equal(changed, 0);
	s.size = sizeof s;
	assert_int_equal(cxm_alert_status_get(&s, e, 0), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(e);
	cxm_context_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_level),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_forecast),
		cmocka_unit_test(test_shared_windows),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
