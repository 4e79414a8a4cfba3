/* In-journey signals: hand-worked timelines for each kind (boundaries,
 * once per instance, re-arming, new instances), their state through a
 * snapshot, forgetting, memory that cannot be had, several feeding
 * threads (suite stress, under ThreadSanitizer), and every bad argument. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id shop, browse, cart, address, pay, done, web;
	cxm_id paid, nps, calls, aht;
} fx;

static const uint8_t KEY[16] = "signals-test-key";

/* A shop journey of five steps: browse, cart, address, pay, done. */
static void fx_define(fx *f)
{
	cxm_context *c = f->ctx;
	const char *steps[] = {"browse", "cart", "address", "pay", "done"};
	assert_int_equal(cxm_journey_define(&f->shop, c, "shop", steps, 5), CXM_OK);
	cxm_id *tps[] = {&f->browse, &f->cart, &f->address, &f->pay, &f->done};
	const char *names[] = {"browse", "cart", "address", "pay", "done"};
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(cxm_touchpoint_define(tps[i], c, names[i], CXM_CHANNEL_WEB, f->shop, i),
				 CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->web, c, "faq", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_RATE), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->paid, c, "paid", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->nps, c, "nps", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->calls, c, "calls", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->aht, c, "aht", &d), CXM_OK);
}

static void fx_make_cfg(fx *f, cxm_config *cfg)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0 + DAY;
	memcpy(cfg->customer_key, KEY, sizeof cfg->customer_key);
	f->ctx = test_ctx_cfg(&f->clk, cfg);
	fx_define(f);
}

static void fx_make(fx *f)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	fx_make_cfg(f, &cfg);
}

static cxm_id sig(fx *f, cxm_signal_kind kind, cxm_id step, uint32_t count, int64_t window_ms)
{
	cxm_signal_def d = CXM_SIGNAL_DEF_INIT;
	d.kind = kind;
	d.journey = f->shop;
	d.step = step;
	d.count = count;
	d.window_ms = window_ms;
	cxm_id out = 12345;
	cxm_status st = cxm_signal_define(&out, f->ctx, &d);
	if (st)
		fail_msg("define: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return out;
}

/* A FAILURE signal: a payment that did not go through (paid = 0). */
static cxm_id failure(fx *f, cxm_id step, uint32_t count, int64_t window_ms)
{
	cxm_signal_def d = CXM_SIGNAL_DEF_INIT;
	d.kind = CXM_SIGNAL_FAILURE;
	d.journey = f->shop;
	d.step = step;
	d.count = count;
	d.window_ms = window_ms;
	d.metric = f->paid;
	d.op = CXM_CMP_EQ;
	d.threshold = 0;
	cxm_id out = 12345;
	cxm_status st = cxm_signal_define(&out, f->ctx, &d);
	if (st)
		fail_msg("define: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return out;
}

static cxm_status feed(fx *f, int64_t t, cxm_id tp, const char *who, const cxm_measure *ms, size_t n)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.customer = who;
	ix.customer_len = who ? strlen(who) : 0;
	ix.measures = ms;
	ix.n_measures = n;
	return cxm_feed(f->ctx, &ix);
}

static void visit(fx *f, int64_t t, cxm_id tp, const char *who)
{
	cxm_status st = feed(f, t, tp, who, NULL, 0);
	if (st)
		fail_msg("feed: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
}

/* A payment attempt: ok 1 or 0. */
static void attempt(fx *f, int64_t t, cxm_id tp, const char *who, int ok)
{
	cxm_measure m = {f->paid, 0, ok};
	cxm_status st = feed(f, t, tp, who, &m, 1);
	if (st)
		fail_msg("feed: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
}

static size_t poll_all(fx *f, cxm_event *ev, size_t cap)
{
	ev[0].size = sizeof(cxm_event);
	size_t n = 99;
	assert_int_equal(cxm_events_poll(ev, cap, &n, f->ctx), CXM_OK);
	return n;
}

static void sweep(fx *f, int64_t now)
{
	assert_int_equal(cxm_journey_sweep(NULL, f->ctx, now), CXM_OK);
}

static bool is_customer(fx *f, const cxm_event *e, const char *who)
{
	uint64_t h[2];
	assert_int_equal(cxm_customer_hash(h, f->ctx, who, strlen(who)), CXM_OK);
	return e->customer[0] == h[0] && e->customer[1] == h[1];
}

/* ---- STUCK ----------------------------------------------------------------------------- */

static void test_stuck(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	const int64_t W = 30 * MIN, t = T0;
	cxm_id at_cart = sig(&f, CXM_SIGNAL_STUCK, 1, 0, W);
	assert_int_equal(at_cart, 0);
	visit(&f, t, f.browse, "alice");
	visit(&f, t + MIN, f.cart, "alice"); /* at the cart from t + 1 min */
	visit(&f, t, f.browse, "bob");
	visit(&f, t + MIN, f.cart, "bob");
	visit(&f, t + 20 * MIN, f.address, "bob"); /* moves on in time */
	visit(&f, t, f.browse, "carol");	    /* stuck, but at browse */
	cxm_event ev[8];
	sweep(&f, t + MIN + W - 1); /* one ms short */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	sweep(&f, t + MIN + W); /* exactly window_ms: inclusive */
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].kind, CXM_EVENT_SIGNAL);
	assert_int_equal(ev[0].rule, at_cart);
	assert_true(is_customer(&f, &ev[0], "alice"));
	assert_int_equal(ev[0].time_ms, t + MIN + W); /* when the window ran out */
	assert_int_equal(ev[0].item, 1);
	assert_int_equal(ev[0].touchpoint, CXM_NONE);
	assert_int_equal(ev[0].metric, CXM_NONE);
	assert_double_equal(ev[0].value, 1800, 0);
	/* later sweeps see nothing new */
	sweep(&f, t + 2 * HOUR);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	/* a sweep far behind sees nothing either (the instant was seen) */
	sweep(&f, t + MIN + W);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.signals_unjudged, 0);
	cxm_context_free(f.ctx);
}

/* A sweep sees every instant that passed since the last one, whatever
 * the interval; the first sweep after the definition sees those before. */
static void test_stuck_intervals(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	const int64_t W = 10 * MIN, t = T0;
	visit(&f, t, f.browse, "dan"); /* stuck at browse from t + W */
	visit(&f, t + 5 * MIN, f.browse, "erin");
	visit(&f, t + 5 * MIN + 1, f.cart, "erin"); /* stuck at cart from t + 15 min + 1 */
	cxm_id any = sig(&f, CXM_SIGNAL_STUCK, CXM_NONE, 0, W);
	cxm_event ev[8];
	sweep(&f, t + HOUR); /* the first sweep: both */
	assert_int_equal(poll_all(&f, ev, 8), 2);
	assert_int_equal(ev[0].rule, any);
	assert_int_equal(ev[1].rule, any);
	int di = is_customer(&f, &ev[0], "dan") ? 0 : 1;
	assert_true(is_customer(&f, &ev[di], "dan"));
	assert_int_equal(ev[di].time_ms, t + W);
	assert_int_equal(ev[di].item, 0);
	assert_int_equal(ev[1 - di].time_ms, t + 15 * MIN + 1);
	assert_int_equal(ev[1 - di].item, 1);
	assert_double_equal(ev[1 - di].value, (double)(55 * MIN - 1) / 1000, 1e-9);
	/* erin moves on and gets stuck again: once per instance */
	visit(&f, t + 2 * HOUR, f.address, "erin");
	sweep(&f, t + 3 * HOUR);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	/* re-armed, she is signalled at the next step she gets stuck at */
	assert_int_equal(cxm_signal_rearm(f.ctx, any, "erin", 4), CXM_OK);
	sweep(&f, t + 4 * HOUR); /* the address instant has passed already */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	visit(&f, t + 5 * HOUR, f.pay, "erin");
	sweep(&f, t + 5 * HOUR + W);
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].item, 3);
	assert_int_equal(ev[0].time_ms, t + 5 * HOUR + W);
	/* switched off: nothing */
	assert_int_equal(cxm_signal_enable(f.ctx, any, 0), CXM_OK);
	visit(&f, t + 6 * HOUR, f.browse, "fay");
	sweep(&f, t + 7 * HOUR);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	cxm_context_free(f.ctx);
}

/* An instance abandoned before the window runs out is not stuck: it is
 * over (counted as abandoned by the funnel). */
static void test_stuck_after_abandon(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.abandon_ms = 20 * MIN;
	assert_int_equal(cxm_journey_set_options(f.ctx, f.shop, &o), CXM_OK);
	sig(&f, CXM_SIGNAL_STUCK, CXM_NONE, 0, 20 * MIN); /* at the abandonment: still open */
	sig(&f, CXM_SIGNAL_STUCK, CXM_NONE, 0, 20 * MIN + 1); /* after it: never */
	visit(&f, T0, f.browse, "gus");
	sweep(&f, T0 + HOUR);
	cxm_event ev[8];
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, 0);
	assert_int_equal(ev[0].time_ms, T0 + 20 * MIN);
	cxm_context_free(f.ctx);
}

/* ---- REPEAT ---------------------------------------------------------------------------- */

static void test_repeat(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	const int64_t W = HOUR, t = T0;
	cxm_id three = sig(&f, CXM_SIGNAL_REPEAT, CXM_NONE, 3, W);
	cxm_event ev[8];
	/* alice: reaches the cart at t, back at +20 min and at +60 min:
	 * three contacts exactly W apart (inclusive) */
	visit(&f, t - MIN, f.browse, "alice");
	visit(&f, t, f.cart, "alice");
	visit(&f, t + 20 * MIN, f.cart, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 0);
	visit(&f, t + 60 * MIN, f.cart, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, three);
	assert_true(is_customer(&f, &ev[0], "alice"));
	assert_int_equal(ev[0].time_ms, t + 60 * MIN);
	assert_int_equal(ev[0].touchpoint, f.cart);
	assert_int_equal(ev[0].item, 1);
	assert_double_equal(ev[0].value, 3, 0);
	visit(&f, t + 61 * MIN, f.cart, "alice"); /* once per instance */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	/* re-armed: the next contact with three in the window fires */
	assert_int_equal(cxm_signal_rearm(f.ctx, three, "alice", 5), CXM_OK);
	visit(&f, t + 62 * MIN, f.cart, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_double_equal(ev[0].value, 4, 0); /* +20, +60, +61, +62 */

	/* bob: one ms too late for the first, then a fourth makes three */
	visit(&f, t - MIN, f.browse, "bob");
	visit(&f, t, f.cart, "bob");
	visit(&f, t + 20 * MIN, f.cart, "bob");
	visit(&f, t + 60 * MIN + 1, f.cart, "bob");
	assert_int_equal(poll_all(&f, ev, 8), 0);
	visit(&f, t + 70 * MIN, f.cart, "bob");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_true(is_customer(&f, &ev[0], "bob"));
	assert_double_equal(ev[0].value, 3, 0);

	/* carol: contacts on a step below the one she is at are not repeats,
	 * and moving on starts the count afresh */
	visit(&f, t - MIN, f.browse, "carol");
	visit(&f, t, f.cart, "carol");
	visit(&f, t + MIN, f.browse, "carol");
	visit(&f, t + 2 * MIN, f.browse, "carol");
	visit(&f, t + 3 * MIN, f.cart, "carol"); /* 2 on the cart */
	visit(&f, t + 4 * MIN, f.address, "carol");
	visit(&f, t + 5 * MIN, f.address, "carol"); /* 2 on the address */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	visit(&f, t + 6 * MIN, f.address, "carol");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].item, 2);
	cxm_context_free(f.ctx);
}

/* A repeat signal of one step, and the ring's memory of eight contacts. */
static void test_repeat_step(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_id pay8 = sig(&f, CXM_SIGNAL_REPEAT, 3, 8, 10 * MIN);
	cxm_id cart2 = sig(&f, CXM_SIGNAL_REPEAT, 1, 2, 10 * MIN);
	cxm_event ev[8];
	visit(&f, T0, f.browse, "dan");
	visit(&f, T0 + 1000, f.pay, "dan"); /* skips to pay: reached at T0 + 1 s */
	for (int i = 1; i < 7; i++)
		visit(&f, T0 + 1000 + i * MIN, f.pay, "dan");
	assert_int_equal(poll_all(&f, ev, 8), 0); /* 7 contacts */
	visit(&f, T0 + 1000 + 7 * MIN, f.pay, "dan");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, pay8);
	assert_double_equal(ev[0].value, 8, 0);
	(void)cart2;
	cxm_context_free(f.ctx);
}

/* ---- BACKWARDS --------------------------------------------------------------------------- */

static void test_backwards(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_id back = sig(&f, CXM_SIGNAL_BACKWARDS, CXM_NONE, 0, 0);
	cxm_id from_cart = sig(&f, CXM_SIGNAL_BACKWARDS, 1, 0, 0);
	cxm_event ev[8];
	visit(&f, T0, f.browse, "alice");
	visit(&f, T0 + MIN, f.address, "alice");
	visit(&f, T0 + 2 * MIN, f.address, "alice"); /* the same step: not back */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	visit(&f, T0 + 3 * MIN, f.cart, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, back);
	assert_int_equal(ev[0].item, 2); /* from the address … */
	assert_double_equal(ev[0].value, 1, 0); /* … back to the cart */
	assert_int_equal(ev[0].touchpoint, f.cart);
	assert_int_equal(ev[0].time_ms, T0 + 3 * MIN);
	visit(&f, T0 + 4 * MIN, f.browse, "alice"); /* once per instance */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	/* from_cart: bob was at the cart */
	visit(&f, T0, f.browse, "bob");
	visit(&f, T0 + MIN, f.cart, "bob");
	visit(&f, T0 + 2 * MIN, f.browse, "bob");
	assert_int_equal(poll_all(&f, ev, 8), 2);
	assert_int_equal(ev[0].rule + ev[1].rule, back + from_cart);
	/* a new instance starts afresh: alice reaches the goal, comes back */
	visit(&f, T0 + 5 * MIN, f.done, "alice");
	visit(&f, T0 + 6 * MIN, f.browse, "alice");
	visit(&f, T0 + 7 * MIN, f.cart, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 0);
	visit(&f, T0 + 8 * MIN, f.browse, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 2);
	/* an interaction off the journey, or with no instance, is nothing */
	visit(&f, T0 + 9 * MIN, f.web, "alice");
	visit(&f, T0 + 9 * MIN, f.cart, "nobody");
	assert_int_equal(poll_all(&f, ev, 8), 0);
	cxm_context_free(f.ctx);
}

/* STRICT: the step back breaks the instance, and the signal fires. */
static void test_backwards_strict(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.flags = CXM_JOURNEY_STRICT;
	assert_int_equal(cxm_journey_set_options(f.ctx, f.shop, &o), CXM_OK);
	cxm_id back = sig(&f, CXM_SIGNAL_BACKWARDS, CXM_NONE, 0, 0);
	cxm_event ev[8];
	visit(&f, T0, f.browse, "alice");
	visit(&f, T0 + MIN, f.cart, "alice");
	visit(&f, T0 + 2 * MIN, f.browse, "alice"); /* breaks, and begins anew */
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, back);
	assert_int_equal(ev[0].item, 1);
	visit(&f, T0 + 3 * MIN, f.cart, "alice");
	visit(&f, T0 + 4 * MIN, f.browse, "alice"); /* the new instance's own */
	assert_int_equal(poll_all(&f, ev, 8), 1);
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = f.shop;
	q.end_ms = T0 + HOUR;
	q.span_ms = HOUR;
	cxm_funnel fu = {.size = sizeof fu};
	cxm_funnel_step steps[5];
	steps[0].size = sizeof steps[0];
	assert_int_equal(cxm_funnel_run(&fu, steps, 5, f.ctx, &q), CXM_OK);
	assert_int_equal(fu.broken, 2);
	cxm_context_free(f.ctx);
}

/* ---- FAILURE ----------------------------------------------------------------------------- */

static void test_failure(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	const int64_t W = 10 * MIN, t = T0;
	cxm_id twice = failure(&f, 3, 2, W);
	cxm_event ev[8];
	/* alice fails at pay twice, exactly W apart */
	visit(&f, t - MIN, f.browse, "alice");
	attempt(&f, t, f.pay, "alice", 0);
	attempt(&f, t + MIN, f.pay, "alice", 1); /* a success is no failure */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	attempt(&f, t + W, f.pay, "alice", 0);
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, twice);
	assert_int_equal(ev[0].kind, CXM_EVENT_SIGNAL);
	assert_int_equal(ev[0].metric, f.paid);
	assert_int_equal(ev[0].touchpoint, f.pay);
	assert_int_equal(ev[0].item, 3);
	assert_double_equal(ev[0].value, 2, 0);
	attempt(&f, t + W + 1, f.pay, "alice", 0); /* once per instance */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	/* bob: one ms apart too many; a failure on another step is not this one's */
	visit(&f, t - MIN, f.browse, "bob");
	attempt(&f, t, f.pay, "bob", 0);
	attempt(&f, t + MIN, f.address, "bob", 0);
	attempt(&f, t + W + 1, f.pay, "bob", 0);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	attempt(&f, t + W + 2, f.pay, "bob", 0);
	assert_int_equal(poll_all(&f, ev, 8), 1);
	/* with no instance, a failure belongs to none */
	attempt(&f, t, f.pay, "carol", 0);
	attempt(&f, t + 1, f.pay, "carol", 0);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	cxm_context_free(f.ctx);
}

/* Two FAILURE signals keep their own counts; the goal's failure counts
 * though the instance ends with it. */
static void test_failure_two(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_id once = failure(&f, CXM_NONE, 1, HOUR);
	cxm_id three = failure(&f, 3, 3, HOUR);
	cxm_event ev[8];
	visit(&f, T0, f.browse, "dan");
	attempt(&f, T0 + 1, f.pay, "dan", 0);
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, once);
	attempt(&f, T0 + 2, f.pay, "dan", 0);
	assert_int_equal(poll_all(&f, ev, 8), 0);
	attempt(&f, T0 + 3, f.pay, "dan", 0);
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, three);
	visit(&f, T0, f.browse, "erin");
	attempt(&f, T0 + 5, f.done, "erin", 0); /* reaches the goal, failing */
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(ev[0].rule, once);
	assert_int_equal(ev[0].item, 4);
	cxm_context_free(f.ctx);
}

/* ---- state: snapshots, forgetting, memory -------------------------------------------------- */

static void test_snapshot(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_id back = sig(&f, CXM_SIGNAL_BACKWARDS, CXM_NONE, 0, 0);
	cxm_id rep = sig(&f, CXM_SIGNAL_REPEAT, CXM_NONE, 3, HOUR);
	cxm_id stuck = sig(&f, CXM_SIGNAL_STUCK, CXM_NONE, 0, HOUR);
	cxm_id fail = failure(&f, 3, 2, HOUR);
	assert_int_equal(cxm_signal_enable(f.ctx, fail, 0), CXM_OK);
	cxm_event ev[8];
	visit(&f, T0, f.browse, "alice");
	visit(&f, T0 + MIN, f.cart, "alice");
	visit(&f, T0 + 2 * MIN, f.browse, "alice"); /* back: fired */
	visit(&f, T0, f.browse, "bob");
	visit(&f, T0 + MIN, f.cart, "bob");
	visit(&f, T0 + 2 * MIN, f.cart, "bob"); /* two of three */
	sweep(&f, T0 + 2 * HOUR); /* both stuck */
	assert_int_equal(poll_all(&f, ev, 8), 3);
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(f.ctx, membuf_write, &mb), CXM_OK);

	fx g;
	memset(&g, 0, sizeof g);
	g.clk.now = f.clk.now;
	cxm_config cfg = CXM_CONFIG_INIT;
	memcpy(cfg.customer_key, KEY, sizeof cfg.customer_key);
	g.ctx = test_ctx_cfg(&g.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(g.ctx, mb.p, mb.len), CXM_OK);
	g.shop = f.shop, g.browse = f.browse, g.cart = f.cart, g.pay = f.pay, g.calls = f.calls;
	g.paid = f.paid;
	for (cxm_id i = 0; i < 4; i++) {
		cxm_signal_def a = {.size = sizeof a}, b = {.size = sizeof b};
		int on_a, on_b;
		assert_int_equal(cxm_signal_get(&a, &on_a, f.ctx, i), CXM_OK);
		assert_int_equal(cxm_signal_get(&b, &on_b, g.ctx, i), CXM_OK);
		assert_memory_equal(&a, &b, sizeof a);
		assert_int_equal(on_a, on_b);
		assert_int_equal(on_a, i != fail);
	}
	cxm_signal_def x = {.size = sizeof x};
	assert_int_equal(cxm_signal_get(&x, NULL, g.ctx, 4), CXM_ERR_UNKNOWN_ID);
	/* alice's fired signal is remembered; bob's two contacts too */
	visit(&g, T0 + 3 * MIN, g.browse, "alice");
	assert_int_equal(poll_all(&g, ev, 8), 0);
	visit(&g, T0 + 3 * MIN, g.cart, "bob");
	assert_int_equal(poll_all(&g, ev, 8), 1);
	assert_int_equal(ev[0].rule, rep);
	assert_double_equal(ev[0].value, 3, 0);
	/* the last sweep's instant came along: the same sweep sees nothing */
	sweep(&g, T0 + 2 * HOUR);
	assert_int_equal(poll_all(&g, ev, 8), 0);
	(void)back, (void)stuck;
	/* a merge keeps the target's signals */
	assert_int_equal(cxm_snapshot_merge_mem(g.ctx, mb.p, mb.len), CXM_OK);
	assert_int_equal(cxm_signal_get(&x, NULL, g.ctx, 4), CXM_ERR_UNKNOWN_ID);
	/* and a snapshot of what was loaded loads again, byte for byte */
	membuf mb2 = {0};
	assert_int_equal(cxm_snapshot_write(g.ctx, membuf_write, &mb2), CXM_OK);
	cxm_context *h = test_ctx_cfg(&g.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(h, mb2.p, mb2.len), CXM_OK);
	membuf mb3 = {0};
	assert_int_equal(cxm_snapshot_write(h, membuf_write, &mb3), CXM_OK);
	assert_int_equal(mb2.len, mb3.len);
	cxm_context_free(h);
	free(mb.p);
	free(mb2.p);
	free(mb3.p);
	cxm_context_free(g.ctx);
	cxm_context_free(f.ctx);
}

/* Forgetting a customer forgets its signal state: back as a new customer. */
static void test_forget(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	sig(&f, CXM_SIGNAL_BACKWARDS, CXM_NONE, 0, 0);
	cxm_event ev[8];
	visit(&f, T0, f.browse, "alice");
	visit(&f, T0 + MIN, f.cart, "alice");
	visit(&f, T0 + 2 * MIN, f.browse, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	assert_int_equal(cxm_customer_forget(f.ctx, "alice", 5), CXM_OK);
	visit(&f, T0 + 3 * MIN, f.browse, "alice");
	visit(&f, T0 + 4 * MIN, f.cart, "alice");
	visit(&f, T0 + 5 * MIN, f.browse, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	cxm_context_free(f.ctx);
}

/* Memory for a customer's signal state that cannot be had: the feed is
 * accepted, and counted in signals_unjudged. */
static int fail_records;
static void *picky_alloc(void *opaque, size_t n)
{
	(void)opaque;
	if (fail_records && n == 16 * 112) /* a first table of records */
		return NULL;
	return malloc(n);
}
static void picky_free(void *opaque, void *p)
{
	(void)opaque;
	free(p);
}

static void test_no_memory(void **state)
{
	(void)state;
	fx f;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.allocator.alloc = picky_alloc;
	cfg.allocator.free = picky_free;
	fx_make_cfg(&f, &cfg);
	sig(&f, CXM_SIGNAL_REPEAT, CXM_NONE, 2, HOUR);
	cxm_event ev[8];
	fail_records = 1;
	visit(&f, T0, f.browse, "alice");
	visit(&f, T0 + MIN, f.browse, "alice"); /* needs a record: none */
	assert_int_equal(poll_all(&f, ev, 8), 0);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.signals_unjudged, 1);
	assert_int_equal(st.accepted, 2);
	fail_records = 0;
	visit(&f, T0 + 2 * MIN, f.browse, "alice");
	assert_int_equal(poll_all(&f, ev, 8), 1);
	cxm_context_free(f.ctx);
}

/* ---- several threads ---------------------------------------------------------------------- */

typedef struct worker {
	fx *f;
	int id;
} worker;

enum { THREADS = 4, PER_THREAD = 500 };

static void *feeder(void *arg)
{
	worker *w = arg;
	char who[32];
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(who, sizeof who, "t%d-c%d", w->id, i);
		int64_t t = T0 + i;
		visit(w->f, t, w->f->browse, who);
		visit(w->f, t + 1, w->f->cart, who);
		visit(w->f, t + 2, w->f->cart, who); /* REPEAT 2 */
		visit(w->f, t + 3, w->f->browse, who); /* BACKWARDS */
		visit(w->f, t + 4, w->f->browse, who);
	}
	return NULL;
}

static void *poller(void *arg)
{
	fx *f = arg;
	size_t *got = calloc(1, sizeof *got);
	cxm_event ev[64];
	while (*got < 2 * THREADS * PER_THREAD) {
		ev[0].size = sizeof ev[0];
		size_t n = 0;
		assert_int_equal(cxm_events_poll(ev, 64, &n, f->ctx), CXM_OK);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ev[i].kind, CXM_EVENT_SIGNAL);
		*got += n;
	}
	return got;
}

/* Sweeps (judging a STUCK signal that never fires), re-arming it and
 * snapshots, while the feeders run. */
static _Atomic int feeding;
static void *sweeper(void *arg)
{
	fx *f = arg;
	char who[32];
	for (int i = 0; atomic_load(&feeding); i++) {
		assert_int_equal(cxm_journey_sweep(NULL, f->ctx, T0 + i), CXM_OK);
		snprintf(who, sizeof who, "t%d-c%d", i % THREADS, i % PER_THREAD);
		assert_int_equal(cxm_signal_rearm(f->ctx, 2, who, strlen(who)), CXM_OK);
		if (i % 16 == 0) {
			membuf mb = {0};
			assert_int_equal(cxm_snapshot_write(f->ctx, membuf_write, &mb), CXM_OK);
			free(mb.p);
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	fx f;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.event_queue = 1 << 14;
	fx_make_cfg(&f, &cfg);
	sig(&f, CXM_SIGNAL_REPEAT, 1, 2, HOUR);
	sig(&f, CXM_SIGNAL_BACKWARDS, CXM_NONE, 0, 0);
	sig(&f, CXM_SIGNAL_STUCK, CXM_NONE, 0, DAY);
	pthread_t th[THREADS], pt, sw;
	worker w[THREADS];
	atomic_store(&feeding, 1);
	assert_int_equal(pthread_create(&sw, NULL, sweeper, &f), 0);
	assert_int_equal(pthread_create(&pt, NULL, poller, &f), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){&f, i};
		assert_int_equal(pthread_create(&th[i], NULL, feeder, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&feeding, 0);
	pthread_join(sw, NULL);
	void *got;
	pthread_join(pt, &got);
	assert_int_equal(*(size_t *)got, 2 * THREADS * PER_THREAD);
	free(got);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.events_dropped, 0);
	assert_int_equal(st.signals_unjudged, 0);
	cxm_context_free(f.ctx);
}

/* ---- bad arguments -------------------------------------------------------------------------- */

static cxm_status define_with(fx *f, void (*edit)(cxm_signal_def *, fx *))
{
	cxm_signal_def d = CXM_SIGNAL_DEF_INIT;
	d.kind = CXM_SIGNAL_REPEAT;
	d.journey = f->shop;
	d.count = 2;
	d.window_ms = HOUR;
	edit(&d, f);
	cxm_id id = 777;
	cxm_status st = cxm_signal_define(&id, f->ctx, &d);
	if (st)
		assert_int_equal(id, 777);
	return st;
}

#define EDIT(name, body)                                                                       \
	static void name(cxm_signal_def *d, fx *f)                                             \
	{                                                                                      \
		(void)f;                                                                       \
		body;                                                                          \
	}
EDIT(e_ok, (void)d)
EDIT(e_kind0, d->kind = 0)
EDIT(e_kind5, d->kind = 5)
EDIT(e_journey, d->journey = 9)
EDIT(e_step, d->step = 5)
EDIT(e_count1, d->count = 1)
EDIT(e_count9, d->count = 9)
EDIT(e_win0, d->window_ms = 0)
EDIT(e_winbig, d->window_ms = CXM_JOURNEY_MAX_WINDOW_MS + 1)
EDIT(e_metric, d->metric = f->paid)
EDIT(e_op, d->op = CXM_CMP_LE)
EDIT(e_reserved, d->reserved[2] = 1)
EDIT(e_size, d->size = 8)
EDIT(e_back_win, (d->kind = CXM_SIGNAL_BACKWARDS, d->count = 0))
EDIT(e_back_count, (d->kind = CXM_SIGNAL_BACKWARDS, d->window_ms = 0))
EDIT(e_stuck_goal, (d->kind = CXM_SIGNAL_STUCK, d->count = 0, d->step = 4))
EDIT(e_stuck_count, (d->kind = CXM_SIGNAL_STUCK))
EDIT(e_fail_none, (d->kind = CXM_SIGNAL_FAILURE, d->count = 1))
EDIT(e_fail_volume, (d->kind = CXM_SIGNAL_FAILURE, d->count = 1, d->metric = f->calls))
EDIT(e_fail_item, (d->kind = CXM_SIGNAL_FAILURE, d->count = 1, d->metric = f->paid, d->item = 1))
EDIT(e_fail_op, (d->kind = CXM_SIGNAL_FAILURE, d->count = 1, d->metric = f->paid, d->op = 6))
EDIT(e_fail_nan, (d->kind = CXM_SIGNAL_FAILURE, d->count = 1, d->metric = f->paid,
		  d->threshold = NAN))
EDIT(e_fail_count0, (d->kind = CXM_SIGNAL_FAILURE, d->count = 0, d->metric = f->paid))
EDIT(e_fail_ok, (d->kind = CXM_SIGNAL_FAILURE, d->count = 8, d->metric = f->aht, d->op = CXM_CMP_GT,
		 d->threshold = 600))

static void test_bad_arguments(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_signal_def d;
	assert_int_equal(cxm_signal_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_def_init(&d, 4), CXM_ERR_VERSION);
	assert_int_equal(cxm_signal_def_init(&d, sizeof d), CXM_OK);
	assert_int_equal(d.step, CXM_NONE);
	assert_int_equal(d.metric, CXM_NONE);
	assert_int_equal(d.size, sizeof d);
	cxm_id id;
	d.kind = CXM_SIGNAL_BACKWARDS;
	assert_int_equal(cxm_signal_define(NULL, f.ctx, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_define(&id, NULL, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_define(&id, f.ctx, NULL), CXM_ERR_INVALID);
	struct {
		void (*edit)(cxm_signal_def *, fx *);
		cxm_status want;
	} cases[] = {
		{e_kind0, CXM_ERR_INVALID},	   {e_kind5, CXM_ERR_INVALID},
		{e_journey, CXM_ERR_UNKNOWN_ID},   {e_step, CXM_ERR_UNKNOWN_ID},
		{e_count1, CXM_ERR_OUT_OF_RANGE},  {e_count9, CXM_ERR_OUT_OF_RANGE},
		{e_win0, CXM_ERR_OUT_OF_RANGE},	   {e_winbig, CXM_ERR_OUT_OF_RANGE},
		{e_metric, CXM_ERR_INVALID},	   {e_op, CXM_ERR_INVALID},
		{e_reserved, CXM_ERR_UNSUPPORTED}, {e_size, CXM_ERR_VERSION},
		{e_back_win, CXM_ERR_OUT_OF_RANGE}, {e_back_count, CXM_ERR_OUT_OF_RANGE},
		{e_stuck_goal, CXM_ERR_OUT_OF_RANGE}, {e_stuck_count, CXM_ERR_OUT_OF_RANGE},
		{e_fail_none, CXM_ERR_UNKNOWN_ID}, {e_fail_volume, CXM_ERR_KIND},
		{e_fail_item, CXM_ERR_OUT_OF_RANGE}, {e_fail_op, CXM_ERR_INVALID},
		{e_fail_nan, CXM_ERR_NOT_FINITE},  {e_fail_count0, CXM_ERR_OUT_OF_RANGE},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cxm_status st = define_with(&f, cases[i].edit);
		if (st != cases[i].want)
			fail_msg("case %zu: %s, expected %s", i, cxm_strerror(st), cxm_strerror(cases[i].want));
		assert_true(cxm_errmsg(f.ctx)[0] != '\0');
	}
	/* nothing was defined */
	assert_int_equal(cxm_signal_enable(f.ctx, 0, 1), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(define_with(&f, e_ok), CXM_OK);
	assert_int_equal(define_with(&f, e_fail_ok), CXM_OK);
	/* enable, get, rearm */
	assert_int_equal(cxm_signal_enable(NULL, 0, 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_enable(f.ctx, 2, 1), CXM_ERR_UNKNOWN_ID);
	cxm_signal_def g = {.size = sizeof g};
	int on = 9;
	assert_int_equal(cxm_signal_get(NULL, &on, f.ctx, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_get(&g, &on, NULL, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_get(&g, &on, f.ctx, 2), CXM_ERR_UNKNOWN_ID);
	g.size = 8;
	assert_int_equal(cxm_signal_get(&g, &on, f.ctx, 0), CXM_ERR_VERSION);
	assert_int_equal(on, 9);
	g.size = sizeof g;
	assert_int_equal(cxm_signal_get(&g, &on, f.ctx, 1), CXM_OK);
	assert_int_equal(on, 1);
	assert_int_equal(g.kind, CXM_SIGNAL_FAILURE);
	assert_double_equal(g.threshold, 600, 0);
	assert_int_equal(cxm_signal_rearm(NULL, 0, "a", 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_rearm(f.ctx, 0, NULL, 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_signal_rearm(f.ctx, 0, "a", 0), CXM_ERR_INVALID);
	char longid[300];
	memset(longid, 'x', sizeof longid);
	assert_int_equal(cxm_signal_rearm(f.ctx, 0, longid, sizeof longid), CXM_ERR_TOO_LONG);
	assert_int_equal(cxm_signal_rearm(f.ctx, 2, "a", 1), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_signal_rearm(f.ctx, 0, "never-seen", 10), CXM_OK);
	/* the limit */
	for (uint32_t i = 2; i < CXM_MAX_SIGNALS; i++)
		assert_int_equal(define_with(&f, e_ok), CXM_OK);
	assert_int_equal(define_with(&f, e_ok), CXM_ERR_LIMIT);
	cxm_context_free(f.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stuck),	       cmocka_unit_test(test_stuck_intervals),
		cmocka_unit_test(test_stuck_after_abandon), cmocka_unit_test(test_repeat),
		cmocka_unit_test(test_repeat_step),    cmocka_unit_test(test_backwards),
		cmocka_unit_test(test_backwards_strict), cmocka_unit_test(test_failure),
		cmocka_unit_test(test_failure_two),    cmocka_unit_test(test_snapshot),
		cmocka_unit_test(test_forget),	       cmocka_unit_test(test_no_memory),
		cmocka_unit_test(test_threads),	       cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
