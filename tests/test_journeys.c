/* Journeys: progress per customer in every mode, funnels, abandonment,
 * repeat contacts, churn, erasure, bad input and out of memory. */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S (INT64_C(1000))
#define BASE (T0 - HOUR) /* sequences start an hour before the clock */

typedef struct world {
	test_clock clk;
	cxm_context *ctx;
	cxm_id buy, support;
	cxm_id browse, browse_app, cart, checkout, pay; /* buy: steps 0 0 1 2 3 */
	cxm_id call, fixed;                              /* support: steps 0 1 */
	cxm_id alone, tier, uniq;
	uint32_t gold, silver;
} world;

static void world_new(world *w, cxm_config *cfg_in)
{
	memset(w, 0, sizeof *w);
	w->clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	if (cfg_in)
		cfg = *cfg_in;
	memcpy(cfg.customer_key, "journeys test ke", 16);
	w->ctx = test_ctx_cfg(&w->clk, &cfg);
	cxm_context *ctx = w->ctx;
	const char *buy[] = {"browse", "cart", "checkout", "pay"};
	const char *sup[] = {"contact", "resolved"};
	assert_int_equal(cxm_journey_define(&w->buy, ctx, "buy", buy, 4), CXM_OK);
	assert_int_equal(cxm_journey_define(&w->support, ctx, "support", sup, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->browse, ctx, "web browse", CXM_CHANNEL_WEB, w->buy, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->browse_app, ctx, "chat browse", CXM_CHANNEL_CHAT, w->buy, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->cart, ctx, "cart", CXM_CHANNEL_WEB, w->buy, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->checkout, ctx, "checkout", CXM_CHANNEL_WEB, w->buy, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->pay, ctx, "pay", CXM_CHANNEL_WEB, w->buy, 3), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->call, ctx, "call", CXM_CHANNEL_PHONE, w->support, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->fixed, ctx, "fixed", CXM_CHANNEL_PHONE, w->support, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->alone, ctx, "newsletter", CXM_CHANNEL_EMAIL, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_segment_define(&w->tier, ctx, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_value(&w->gold, ctx, w->tier, "gold"), CXM_OK);
	assert_int_equal(cxm_segment_value(&w->silver, ctx, w->tier, "silver"), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DISTINCT), CXM_OK);
	assert_int_equal(cxm_metric_define(&w->uniq, ctx, "customers", &d), CXM_OK);
}

static cxm_status touch_seg(world *w, cxm_id tp, int64_t t, const char *id, uint32_t seg)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.customer = id;
	ix.customer_len = strlen(id);
	ix.segments = &seg;
	ix.n_segments = seg == CXM_NONE ? 0 : 1;
	return cxm_feed(w->ctx, &ix);
}

static cxm_status touch(world *w, cxm_id tp, int64_t t, const char *id)
{
	return touch_seg(w, tp, t, id, CXM_NONE);
}

#define TOUCH(w, tp, t, id) assert_int_equal(touch((w), (tp), (t), (id)), CXM_OK)

typedef struct funnel {
	cxm_funnel f;
	cxm_funnel_step st[8];
} funnel;

static funnel run_q(world *w, const cxm_funnel_query *q)
{
	funnel r;
	memset(&r, 0, sizeof r);
	r.f.size = sizeof r.f;
	r.st[0].size = sizeof r.st[0];
	cxm_status st = cxm_funnel_run(&r.f, r.st, 8, w->ctx, q);
	if (st)
		fail_msg("funnel: %s: %s", cxm_strerror(st), cxm_errmsg(w->ctx));
	return r;
}

static funnel cohort_q(world *w, const cxm_funnel_query *q)
{
	funnel r;
	memset(&r, 0, sizeof r);
	r.f.size = sizeof r.f;
	r.st[0].size = sizeof r.st[0];
	cxm_status st = cxm_funnel_cohort_run(&r.f, r.st, 8, w->ctx, q);
	if (st)
		fail_msg("cohort funnel: %s: %s", cxm_strerror(st), cxm_errmsg(w->ctx));
	return r;
}

static funnel run(world *w, cxm_id j)
{
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = j;
	q.span_ms = DAY;
	return run_q(w, &q);
}

static void set_opts(world *w, cxm_id j, uint32_t flags, int64_t conv, int64_t abandon, int64_t late)
{
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.flags = flags;
	o.conversion_ms = conv;
	o.abandon_ms = abandon;
	o.lateness_ms = late;
	assert_int_equal(cxm_journey_set_options(w->ctx, j, &o), CXM_OK);
}

/* ---- every mode on one hand-worked sequence (docs/journeys.md) ------------------ */

/* E1 0 s browse, E2 10 s cart, E3 10 s checkout (same time), E4 15 s browse
 * (a repeat of step 0), E5 5 s cart (arrives late, earlier time), E6 30 s pay,
 * E7 40 s browse (after the goal). */
static void sample(world *w)
{
	const char *c = "ann";
	TOUCH(w, w->browse, BASE + 0 * S, c);
	TOUCH(w, w->cart, BASE + 10 * S, c);
	TOUCH(w, w->checkout, BASE + 10 * S, c);
	TOUCH(w, w->browse, BASE + 15 * S, c);
	TOUCH(w, w->cart, BASE + 5 * S, c);
	TOUCH(w, w->pay, BASE + 30 * S, c);
	TOUCH(w, w->browse, BASE + 40 * S, c);
}

typedef struct expect {
	uint64_t entered, reached[4], completed, broken, displaced, expired, repeats;
	double next[3]; /* median time to the next step; -1: no sample */
	double goal;    /* -1: none */
} expect;

static void check(const funnel *r, const expect *e, const char *mode)
{
	const cxm_funnel *f = &r->f;
	if (f->entered != e->entered || f->completed != e->completed || f->broken != e->broken ||
	    f->displaced != e->displaced || f->expired != e->expired || f->repeats != e->repeats)
		fail_msg("%s: entered %llu completed %llu broken %llu displaced %llu expired %llu repeats %llu",
			 mode, (unsigned long long)f->entered, (unsigned long long)f->completed,
			 (unsigned long long)f->broken, (unsigned long long)f->displaced,
			 (unsigned long long)f->expired, (unsigned long long)f->repeats);
	assert_int_equal(f->n_steps, 4);
	for (int k = 0; k < 4; k++)
		if (r->st[k].reached != e->reached[k])
			fail_msg("%s: step %d reached %llu, want %llu", mode, k,
				 (unsigned long long)r->st[k].reached, (unsigned long long)e->reached[k]);
	for (int k = 0; k < 3; k++) {
		if (e->next[k] < 0) {
			if (r->st[k].next_n != 0)
				fail_msg("%s: step %d has %llu next-step times", mode, k,
					 (unsigned long long)r->st[k].next_n);
			continue;
		}
		if (r->st[k].next_n == 0 || fabs(r->st[k].next_p50 - e->next[k]) > 0.05 * e->next[k])
			fail_msg("%s: step %d: next p50 %g (n %llu), want %g", mode, k, r->st[k].next_p50,
				 (unsigned long long)r->st[k].next_n, e->next[k]);
	}
	if (e->goal < 0)
		assert_int_equal(f->goal_n, 0);
	else if (f->goal_n != 1 || fabs(f->goal_p50 - e->goal) > 0.05 * e->goal)
		fail_msg("%s: goal p50 %g (n %llu), want %g", mode, f->goal_p50,
			 (unsigned long long)f->goal_n, e->goal);
}

static void mode_case(uint32_t flags, int64_t conv, const expect *e, const char *name)
{
	world w;
	world_new(&w, NULL);
	set_opts(&w, w.buy, flags, conv, 0, 0);
	sample(&w);
	funnel r = run(&w, w.buy);
	check(&r, e, name);
	/* conversion and drop-off follow from the counts */
	assert_double_equal(r.f.conversion, (double)e->completed / (double)e->entered, 1e-12);
	assert_double_equal(r.st[1].drop_off, 1 - (double)e->reached[1] / (double)e->reached[0], 1e-12);
	cxm_context_free(w.ctx);
}

static void mode_default(void **state)
{
	(void)state;
	expect e = {.entered = 2, .reached = {2, 1, 1, 1}, .completed = 1, .repeats = 1,
		    .next = {10, 0, 20}, .goal = 30};
	mode_case(0, 0, &e, "default");
}

static void mode_strict(void **state)
{
	(void)state;
	/* E4 (back to step 0) breaks and begins anew; E5 advances it (late,
	 * timed 0); E6 skips a step and breaks; E7 begins a third instance */
	expect e = {.entered = 3, .reached = {3, 2, 1, 0}, .broken = 2, .repeats = 2,
		    .next = {0, 0, -1}, .goal = -1}; /* step 0 -> 1: 10 s and 0 s, median 0 */
	mode_case(CXM_JOURNEY_STRICT, 0, &e, "strict");
}

static void mode_count_repeats(void **state)
{
	(void)state;
	expect e = {.entered = 2, .reached = {3, 2, 1, 1}, .completed = 1, .repeats = 1,
		    .next = {10, 0, 20}, .goal = 30};
	mode_case(CXM_JOURNEY_COUNT_REPEATS, 0, &e, "count repeats");
}

static void mode_equal_times_hold(void **state)
{
	(void)state;
	/* E3 at the same time as E2 does not advance; E6 then skips to the goal */
	expect e = {.entered = 2, .reached = {2, 1, 1, 1}, .completed = 1, .repeats = 1,
		    .next = {10, 20, -1}, .goal = 30};
	mode_case(CXM_JOURNEY_EQUAL_TIMES_HOLD, 0, &e, "equal times hold");
}

static void mode_restart(void **state)
{
	(void)state;
	/* E4 ends the first instance (displaced) and begins a second at 15 s;
	 * E5 (late) reaches cart timed 0; E6 skips to the goal 15 s after */
	expect e = {.entered = 3, .reached = {3, 2, 2, 1}, .completed = 1, .displaced = 1,
		    .repeats = 2, .next = {0, 0, -1}, .goal = 15};
	mode_case(CXM_JOURNEY_RESTART, 0, &e, "restart");
}

static void mode_window_bounds(void **state)
{
	(void)state;
	/* a 30 s conversion window: E6 at exactly 30 s is inside (inclusive) */
	expect in = {.entered = 2, .reached = {2, 1, 1, 1}, .completed = 1, .repeats = 1,
		     .next = {10, 0, 20}, .goal = 30};
	mode_case(0, 30 * S, &in, "inclusive window");
	/* exclusive: the instance expired just before E6 */
	expect ex = {.entered = 2, .reached = {2, 1, 1, 0}, .expired = 1, .repeats = 1,
		     .next = {10, 0, -1}, .goal = -1};
	mode_case(CXM_JOURNEY_WINDOW_EXCLUSIVE, 30 * S, &ex, "exclusive window");
}

/* ---- every mode on a second sequence, with ClickHouse windowFunnel's modes ---------- */

/* F1 0 s browse, F2 10 s cart, F3 15 s browse (back to step 0), F4 20 s
 * cart (a repeat), F5 30 s pay (skips checkout), F6 40 s checkout, F7 50 s
 * newsletter (a touchpoint on no journey), F8 60 s pay. */
static void sample2(world *w)
{
	const char *c = "eve";
	TOUCH(w, w->browse, BASE + 0 * S, c);
	TOUCH(w, w->cart, BASE + 10 * S, c);
	TOUCH(w, w->browse, BASE + 15 * S, c);
	TOUCH(w, w->cart, BASE + 20 * S, c);
	TOUCH(w, w->pay, BASE + 30 * S, c);
	TOUCH(w, w->checkout, BASE + 40 * S, c);
	TOUCH(w, w->alone, BASE + 50 * S, c);
	TOUCH(w, w->pay, BASE + 60 * S, c);
}

static void mode_case2(uint32_t flags, int64_t conv, const expect *e, const char *name)
{
	world w;
	world_new(&w, NULL);
	set_opts(&w, w.buy, flags, conv, 0, 0);
	sample2(&w);
	funnel r = run(&w, w.buy);
	check(&r, e, name);
	/* fed as one batch, the sequence counts alike */
	world b;
	world_new(&b, NULL);
	set_opts(&b, b.buy, flags, conv, 0, 0);
	const cxm_id tps[] = {b.browse, b.cart, b.browse, b.cart, b.pay, b.checkout, b.alone, b.pay};
	const int64_t at[] = {0, 10, 15, 20, 30, 40, 50, 60};
	cxm_interaction ix[8];
	for (int i = 0; i < 8; i++) {
		ix[i] = (cxm_interaction)CXM_INTERACTION_INIT;
		ix[i].time_ms = BASE + at[i] * S;
		ix[i].touchpoint = tps[i];
		ix[i].customer = "eve";
		ix[i].customer_len = 3;
	}
	size_t ok = 0, nrej = 0;
	assert_int_equal(cxm_feed_batch(&ok, b.ctx, ix, 8, NULL, 0, &nrej), CXM_OK);
	assert_int_equal(ok, 8);
	r = run(&b, b.buy);
	check(&r, e, name);
	cxm_context_free(w.ctx);
	cxm_context_free(b.ctx);
}

static void modes_second_sequence(void **state)
{
	(void)state;
	/* default: F3 and F4 change nothing, F5 reaches the goal (checkout
	 * counted), F6-F8 come after it */
	expect def = {.entered = 1, .reached = {1, 1, 1, 1}, .completed = 1,
		      .next = {10, 20, -1}, .goal = 30};
	mode_case2(0, 0, &def, "2: default");
	mode_case2(CXM_JOURNEY_EQUAL_TIMES_HOLD, 0, &def, "2: equal times hold (strict_increase)");
	mode_case2(0, 30 * S, &def, "2: 30 s window, F5 at its end");
	/* STRICT: F3 goes back (broken) and begins anew (a repeat); F4 advances
	 * it 5 s later; F5 skips checkout (broken) */
	expect strict = {.entered = 2, .reached = {2, 2, 0, 0}, .broken = 2, .repeats = 1,
			 .next = {5, -1, -1}, .goal = -1}; /* browse -> cart: 10 s and 5 s */
	mode_case2(CXM_JOURNEY_STRICT, 0, &strict, "2: strict");
	expect rep = {.entered = 1, .reached = {2, 2, 1, 1}, .completed = 1,
		      .next = {10, 20, -1}, .goal = 30};
	mode_case2(CXM_JOURNEY_COUNT_REPEATS, 0, &rep, "2: count repeats");
	/* RESTART: F3 displaces the first instance and begins a second */
	expect restart = {.entered = 2, .reached = {2, 2, 1, 1}, .completed = 1, .displaced = 1,
			  .repeats = 1, .next = {5, 10, -1}, .goal = 15};
	mode_case2(CXM_JOURNEY_RESTART, 0, &restart, "2: restart");
	expect excl = {.entered = 1, .reached = {1, 1, 0, 0}, .expired = 1,
		       .next = {10, -1, -1}, .goal = -1};
	mode_case2(CXM_JOURNEY_WINDOW_EXCLUSIVE, 30 * S, &excl, "2: exclusive 30 s window");
	/* strict_order: the step back and the repeat are let be, the skip
	 * (F5) breaks */
	expect order = {.entered = 1, .reached = {1, 1, 0, 0}, .broken = 1,
			.next = {10, -1, -1}, .goal = -1};
	mode_case2(CXM_JOURNEY_STRICT_ORDER, 0, &order, "2: strict order");
	/* allow_reentry: the skip is let be too, F6 advances, the newsletter
	 * (F7) breaks */
	expect reentry = {.entered = 1, .reached = {1, 1, 1, 0}, .broken = 1,
			  .next = {10, 30, -1}, .goal = -1};
	mode_case2(CXM_JOURNEY_STRICT_ORDER | CXM_JOURNEY_ALLOW_REENTRY, 0, &reentry,
		   "2: strict order, allow reentry");
	/* strict_deduplication: F3 (step 0) is let be, F4 repeats cart: broken */
	mode_case2(CXM_JOURNEY_STRICT_DEDUP, 0, &order, "2: strict dedup");
}

/* STRICT_ORDER across journeys: a step of another journey breaks the
 * instance, one older than its latest step does not, and journeys without
 * the flag are not broken by anything off their steps. */
static void strict_order_other_events(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	set_opts(&w, w.buy, CXM_JOURNEY_STRICT_ORDER, 0, 0, 0);
	TOUCH(&w, w.browse, BASE, "ann");
	TOUCH(&w, w.fixed, BASE + 5 * S, "ann"); /* support's step 1: no instance there */
	TOUCH(&w, w.browse, BASE + 10 * S, "bob");
	TOUCH(&w, w.cart, BASE + 20 * S, "bob");
	TOUCH(&w, w.alone, BASE + 15 * S, "bob"); /* before bob's latest step: let be */
	TOUCH(&w, w.checkout, BASE + 30 * S, "bob");
	/* support has no STRICT_ORDER: the newsletter does not break it */
	TOUCH(&w, w.call, BASE, "cy");
	TOUCH(&w, w.alone, BASE + 5 * S, "cy");
	TOUCH(&w, w.fixed, BASE + 10 * S, "cy");
	funnel r = run(&w, w.buy);
	assert_int_equal(r.f.entered, 2);
	assert_int_equal(r.f.broken, 1); /* ann */
	assert_int_equal(r.st[2].reached, 1); /* bob */
	r = run(&w, w.support);
	assert_int_equal(r.f.completed, 1);
	assert_int_equal(r.f.broken, 0);
	/* the flag off again: the newsletter no longer breaks buy */
	set_opts(&w, w.buy, 0, 0, 0, 0);
	TOUCH(&w, w.browse, BASE + 40 * S, "dan");
	TOUCH(&w, w.alone, BASE + 45 * S, "dan");
	TOUCH(&w, w.cart, BASE + 50 * S, "dan");
	r = run(&w, w.buy);
	assert_int_equal(r.f.broken, 1);
	assert_int_equal(r.st[1].reached, 2); /* bob, dan */
	cxm_context_free(w.ctx);
	/* a batch whose journey steps lie in one shard (ids 0 and 2 of 2
	 * shards) and the newsletter (id 7) in the other: applied shard by
	 * shard, cart would come before the newsletter that broke the chain */
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.shards = 2;
	world_new(&w, &cfg);
	set_opts(&w, w.buy, CXM_JOURNEY_STRICT_ORDER, 0, 0, 0);
	assert_true(w.browse % 2 == w.cart % 2 && w.alone % 2 != w.cart % 2);
	const cxm_id tps[] = {w.browse, w.alone, w.cart};
	cxm_interaction ix[3];
	for (int i = 0; i < 3; i++) {
		ix[i] = (cxm_interaction)CXM_INTERACTION_INIT;
		ix[i].time_ms = BASE + i * 10 * S;
		ix[i].touchpoint = tps[i];
		ix[i].customer = "fay";
		ix[i].customer_len = 3;
	}
	size_t ok = 0, nrej = 0;
	assert_int_equal(cxm_feed_batch(&ok, w.ctx, ix, 3, NULL, 0, &nrej), CXM_OK);
	r = run(&w, w.buy);
	assert_int_equal(r.f.broken, 1);
	assert_int_equal(r.st[1].reached, 0);
	/* conflicting flags */
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.flags = CXM_JOURNEY_ALLOW_REENTRY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_INVALID);
	assert_non_null(strstr(cxm_errmsg(w.ctx), "STRICT_ORDER"));
	o.flags = CXM_JOURNEY_STRICT_DEDUP | CXM_JOURNEY_COUNT_REPEATS;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_INVALID);
	cxm_journey_options got = {.size = sizeof got};
	assert_int_equal(cxm_journey_get_options(&got, w.ctx, w.buy), CXM_OK);
	assert_int_equal(got.flags, CXM_JOURNEY_STRICT_ORDER); /* unchanged by the refusals */
	cxm_context_free(w.ctx);
}

/* ---- abandonment, expiry, displacement, breakdowns -------------------------------- */

static void abandonment(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	set_opts(&w, w.buy, 0, 0, 10 * MIN, 0);
	/* bob: stops after cart; only a sweep can tell */
	TOUCH(&w, w.browse, T0 - 60 * MIN, "bob");
	TOUCH(&w, w.cart, T0 - 55 * MIN, "bob");
	/* carl: comes back after 45 min: abandoned, and cart alone is no progress */
	TOUCH(&w, w.browse_app, T0 - 50 * MIN, "carl");
	TOUCH(&w, w.cart, T0 - 5 * MIN, "carl");
	funnel r = run(&w, w.buy);
	assert_int_equal(r.f.entered, 2);
	assert_int_equal(r.f.abandoned, 1); /* carl, noticed on his return */
	assert_int_equal(r.st[1].reached, 1);
	uint64_t closed = 99;
	assert_int_equal(cxm_journey_sweep(&closed, w.ctx, T0 - 46 * MIN), CXM_OK);
	assert_int_equal(closed, 0); /* bob's deadline is T0 - 45 min */
	assert_int_equal(cxm_journey_sweep(&closed, w.ctx, CXM_NOW), CXM_OK);
	assert_int_equal(closed, 1);
	assert_int_equal(cxm_journey_sweep(&closed, w.ctx, CXM_NOW), CXM_OK);
	assert_int_equal(closed, 0); /* once */
	r = run(&w, w.buy);
	assert_int_equal(r.f.abandoned, 2);
	/* by first-touch channel: carl began in chat */
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w.buy;
	q.span_ms = DAY;
	q.channel = CXM_CHANNEL_CHAT;
	r = run_q(&w, &q);
	assert_int_equal(r.f.entered, 1);
	assert_int_equal(r.f.abandoned, 1);
	assert_int_equal(r.st[1].reached, 0);
	q.channel = CXM_CHANNEL_WEB;
	r = run_q(&w, &q);
	assert_int_equal(r.f.entered, 1);
	assert_int_equal(r.st[1].reached, 1);
	/* counted when it happened: 45 min ago, not in the last 30 min */
	q.channel = 0;
	q.span_ms = 30 * MIN;
	r = run_q(&w, &q);
	assert_int_equal(r.f.abandoned, 0);
	assert_int_equal(r.f.entered, 0);
	assert_true(r.f.flags & CXM_RESULT_EMPTY);
	/* expiry: the conversion window ends first */
	set_opts(&w, w.support, 0, 20 * MIN, 30 * MIN, 0);
	TOUCH(&w, w.call, T0 - 40 * MIN, "dora");
	assert_int_equal(cxm_journey_sweep(&closed, w.ctx, CXM_NOW), CXM_OK);
	assert_int_equal(closed, 1);
	r = run(&w, w.support);
	assert_int_equal(r.f.expired, 1);
	assert_int_equal(r.f.abandoned, 0);
	cxm_context_free(w.ctx);
}

static void displaced_and_segments(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	assert_int_equal(touch_seg(&w, w.browse, T0 - 30 * MIN, "dave", w.gold), CXM_OK);
	assert_int_equal(touch_seg(&w, w.cart, T0 - 29 * MIN, "dave", w.gold), CXM_OK);
	assert_int_equal(touch_seg(&w, w.browse, T0 - 28 * MIN, "erin", w.silver), CXM_OK);
	/* dave calls support: his buy instance gives way */
	assert_int_equal(touch_seg(&w, w.call, T0 - 20 * MIN, "dave", w.gold), CXM_OK);
	assert_int_equal(touch_seg(&w, w.fixed, T0 - 10 * MIN, "dave", w.gold), CXM_OK);
	/* back to cart: no buy instance any more */
	assert_int_equal(touch_seg(&w, w.checkout, T0 - 9 * MIN, "dave", w.gold), CXM_OK);
	/* a standalone touchpoint changes nothing */
	TOUCH(&w, w.alone, T0 - 8 * MIN, "erin");
	funnel r = run(&w, w.buy);
	assert_int_equal(r.f.entered, 2);
	assert_int_equal(r.f.displaced, 1);
	assert_int_equal(r.st[1].reached, 1);
	assert_int_equal(r.st[2].reached, 0);
	r = run(&w, w.support);
	assert_int_equal(r.f.entered, 1);
	assert_int_equal(r.f.completed, 1);
	assert_int_equal(r.st[1].reached, 1);
	assert_double_equal(r.f.goal_p50, 600, 30);
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w.buy;
	q.span_ms = DAY;
	q.segment = w.tier;
	q.segment_value = w.gold;
	r = run_q(&w, &q);
	assert_int_equal(r.f.entered, 1);
	assert_int_equal(r.st[1].reached, 1);
	assert_int_equal(r.f.displaced, 0); /* ends are not kept per segment */
	q.segment_value = w.silver;
	r = run_q(&w, &q);
	assert_int_equal(r.f.entered, 1);
	assert_int_equal(r.st[1].reached, 0);
	assert_double_equal(r.st[1].conversion, 0, 0);
	assert_double_equal(r.st[0].step_conversion, 1, 0);
	assert_true(r.f.flags & CXM_RESULT_LOW_SAMPLE);
	/* arbitrary quantiles: browse -> cart took 60 s */
	double qs[2] = {0.5, 1}, out[2];
	q.segment = CXM_NONE;
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, 0, qs, 2), CXM_OK);
	assert_double_equal(out[0], 60, 3);
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, CXM_NONE, qs, 2), CXM_OK);
	assert_true(isnan(out[0])); /* nobody reached the goal */
	cxm_context_free(w.ctx);
}

/* ---- erasure ---------------------------------------------------------------------- */

static void erasure(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	TOUCH(&w, w.browse, T0 - 30 * MIN, "fay");
	TOUCH(&w, w.cart, T0 - 29 * MIN, "fay");
	funnel before = run(&w, w.buy);
	assert_int_equal(cxm_customer_forget(w.ctx, "fay", 3), CXM_OK);
	int64_t seen;
	assert_int_equal(cxm_customer_last_seen(&seen, w.ctx, "fay", 3), CXM_ERR_UNKNOWN_ID);
	/* her progress is gone: checkout is not a step of any instance */
	TOUCH(&w, w.checkout, T0 - 20 * MIN, "fay");
	funnel r = run(&w, w.buy);
	assert_memory_equal(&r, &before, sizeof r);
	/* back on step 0 she is new: an entry, not a repeat contact */
	TOUCH(&w, w.browse, T0 - 10 * MIN, "fay");
	r = run(&w, w.buy);
	assert_int_equal(r.f.entered, 2);
	assert_int_equal(r.f.repeats, 0);
	assert_int_equal(r.st[1].reached, 1);
	/* without erasure the same would have been a repeat */
	TOUCH(&w, w.browse, T0 - 30 * MIN, "gus");
	TOUCH(&w, w.pay, T0 - 29 * MIN, "gus");
	TOUCH(&w, w.browse, T0 - 10 * MIN, "gus");
	r = run(&w, w.buy);
	assert_int_equal(r.f.repeats, 1);
	/* a churn mark goes with the entry too */
	assert_int_equal(cxm_customer_churn(w.ctx, "gus", 3, T0 - MIN), CXM_OK);
	assert_int_equal(cxm_customer_churn(w.ctx, "gus", 3, T0 - MIN), CXM_ERR_EXISTS);
	assert_int_equal(cxm_customer_forget(w.ctx, "gus", 3), CXM_OK);
	assert_int_equal(cxm_customer_churn(w.ctx, "gus", 3, T0 - MIN), CXM_OK);
	cxm_context_free(w.ctx);
}

/* ---- churn and repeat contacts ---------------------------------------------------- */

static void churn_rate(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	char id[32];
	for (int c = 0; c < 200; c++) {
		snprintf(id, sizeof id, "c%d", c);
		TOUCH(&w, w.alone, T0 - 100 * MIN + c * 100, id);
	}
	for (int c = 0; c < 20; c++) {
		snprintf(id, sizeof id, "c%d", c);
		assert_int_equal(cxm_customer_churn(w.ctx, id, strlen(id), T0 - 10 * MIN), CXM_OK);
	}
	/* counted once until seen again */
	assert_int_equal(cxm_customer_churn(w.ctx, "c0", 2, T0 - 9 * MIN), CXM_ERR_EXISTS);
	TOUCH(&w, w.alone, T0 - 8 * MIN, "c0");
	assert_int_equal(cxm_customer_churn(w.ctx, "c0", 2, T0 - 7 * MIN), CXM_OK);
	cxm_churn r = {.size = sizeof r};
	assert_int_equal(cxm_churn_rate(&r, w.ctx, w.uniq, CXM_NOW, 30 * MIN, DAY), CXM_OK);
	assert_int_equal(r.churned, 21);
	assert_true(r.active > 190 && r.active < 210);
	assert_double_equal(r.rate, 21 / r.active, 1e-12);
	assert_true(r.active_end_ms >= r.start_ms - HOUR && r.active_end_ms <= r.start_ms + HOUR);
	/* a window with no churn, and nobody active before it */
	assert_int_equal(cxm_churn_rate(&r, w.ctx, w.uniq, T0 - 3 * HOUR, 30 * MIN, HOUR), CXM_OK);
	assert_int_equal(r.churned, 0);
	assert_true(r.flags & CXM_RESULT_EMPTY);
	assert_true(isnan(r.rate));
	/* bad input */
	assert_int_equal(cxm_churn_rate(&r, w.ctx, 99, CXM_NOW, HOUR, DAY), CXM_ERR_UNKNOWN_ID);
	cxm_metric_def d = {.size = sizeof d};
	cxm_id vol;
	cxm_metric_preset(&d, CXM_PRESET_VOLUME);
	assert_int_equal(cxm_metric_define(&vol, w.ctx, "volume", &d), CXM_OK);
	assert_int_equal(cxm_churn_rate(&r, w.ctx, vol, CXM_NOW, HOUR, DAY), CXM_ERR_KIND);
	assert_int_equal(cxm_churn_rate(&r, w.ctx, w.uniq, CXM_NOW, 0, DAY), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_churn_rate(&r, w.ctx, w.uniq, CXM_NOW, HOUR, 0), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_churn_rate(NULL, w.ctx, w.uniq, CXM_NOW, HOUR, DAY), CXM_ERR_INVALID);
	cxm_churn small = {.size = 8};
	assert_int_equal(cxm_churn_rate(&small, w.ctx, w.uniq, CXM_NOW, HOUR, DAY), CXM_ERR_VERSION);
	static char big[300];
	assert_int_equal(cxm_customer_churn(w.ctx, big, sizeof big, T0), CXM_ERR_TOO_LONG);
	assert_int_equal(cxm_customer_churn(w.ctx, NULL, 3, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_customer_churn(w.ctx, "x", 0, T0), CXM_ERR_INVALID);
	assert_int_equal(cxm_customer_churn(w.ctx, "x", 1, -1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_customer_churn(w.ctx, "x", 1, T0 + DAY), CXM_ERR_TOO_EARLY);
	assert_int_equal(cxm_customer_churn(w.ctx, "x", 1, T0 - DAY), CXM_ERR_TOO_LATE);
	cxm_context_free(w.ctx);
}

static void repeat_contacts(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.tiers[0].bucket_ms = HOUR;
	cfg.tiers[0].buckets = 24 * 20; /* 20 days of hours: late data is fine */
	cfg.n_tiers = 1;
	world w;
	world_new(&w, &cfg);
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.repeat_ms = 3 * DAY;
	o.abandon_ms = DAY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.support, &o), CXM_OK);
	/* hal: back after 2 days (a repeat), then after 4 more (not) */
	TOUCH(&w, w.call, T0 - 10 * DAY, "hal");
	TOUCH(&w, w.fixed, T0 - 10 * DAY + HOUR, "hal");
	TOUCH(&w, w.call, T0 - 8 * DAY, "hal");
	TOUCH(&w, w.call, T0 - 4 * DAY, "hal");
	/* ivy: once */
	TOUCH(&w, w.call, T0 - 9 * DAY, "ivy");
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w.support;
	q.span_ms = 15 * DAY;
	funnel r = run_q(&w, &q);
	/* hal's second contact, 2 days after the first, is a repeat; the
	 * second was abandoned after a day without progress, and his third,
	 * 4 days after it, is not a repeat */
	assert_int_equal(r.f.entered, 4);
	assert_int_equal(r.f.repeats, 1);
	assert_int_equal(r.f.abandoned, 1);
	assert_int_equal(r.f.completed, 1);
	assert_double_equal(r.f.repeat_rate, 1.0 / 4, 1e-12);
	cxm_journey_options got = {.size = sizeof got};
	assert_int_equal(cxm_journey_get_options(&got, w.ctx, w.support), CXM_OK);
	assert_int_equal(got.repeat_ms, 3 * DAY);
	assert_int_equal(got.conversion_ms, 7 * DAY);
	assert_int_equal(got.abandon_ms, DAY);
	/* the default lateness is the finest tier's reach: 20 days of hours */
	assert_int_equal(got.lateness_ms, 20 * DAY);
	cxm_context_free(w.ctx);
}

/* ---- bad input -------------------------------------------------------------------- */

static void bad_input(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	set_opts(&w, w.buy, 0, 0, 0, 2 * S);
	TOUCH(&w, w.browse, T0 - 10 * MIN, "jo");
	TOUCH(&w, w.cart, T0 - 9 * MIN, "jo");
	TOUCH(&w, w.alone, T0 - 9 * MIN, "kai"); /* its series exist from here */
	funnel before = run(&w, w.buy);
	cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
	assert_int_equal(cxm_stats_get(&s0, w.ctx), CXM_OK);
	int64_t seen0, seen1;
	assert_int_equal(cxm_customer_last_seen(&seen0, w.ctx, "jo", 2), CXM_OK);
	/* a journey interaction older than the customer's latest beyond the lateness */
	assert_int_equal(touch(&w, w.checkout, T0 - 9 * MIN - 3 * S, "jo"), CXM_ERR_TOO_LATE);
	assert_int_equal(touch(&w, w.browse, T0 - 9 * MIN - 3 * S, "jo"), CXM_ERR_TOO_LATE);
	/* an id longer than the limit */
	static char big[300];
	memset(big, 'x', sizeof big - 1);
	assert_int_equal(touch(&w, w.browse, T0 - MIN, big), CXM_ERR_TOO_LONG);
	/* rejections leave memory as it was */
	assert_int_equal(cxm_stats_get(&s1, w.ctx), CXM_OK);
	assert_int_equal(s1.memory_bytes, s0.memory_bytes);
	/* within it: fine (and a standalone touchpoint is not judged); its
	 * bucket may take a page of its series' ring */
	assert_int_equal(touch(&w, w.alone, T0 - 9 * MIN - 3 * S, "jo"), CXM_OK);
	funnel r = run(&w, w.buy);
	assert_memory_equal(&r, &before, sizeof r);
	assert_int_equal(cxm_stats_get(&s1, w.ctx), CXM_OK);
	assert_int_equal(s1.accepted, s0.accepted + 1);
	assert_int_equal(s1.rejected[CXM_ERR_TOO_LATE], s0.rejected[CXM_ERR_TOO_LATE] + 2);
	assert_int_equal(s1.rejected[CXM_ERR_TOO_LONG], s0.rejected[CXM_ERR_TOO_LONG] + 1);
	assert_int_equal(cxm_customer_last_seen(&seen1, w.ctx, "jo", 2), CXM_OK);
	assert_int_equal(seen1, seen0);
	/* unknown journey */
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	assert_int_equal(cxm_journey_set_options(w.ctx, 77, &o), CXM_ERR_UNKNOWN_ID);
	cxm_journey_options got = {.size = sizeof got};
	assert_int_equal(cxm_journey_get_options(&got, w.ctx, 77), CXM_ERR_UNKNOWN_ID);
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = 77;
	q.span_ms = DAY;
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[8] = {{.size = sizeof st[0]}};
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_UNKNOWN_ID);
	/* a step that is not on the journey */
	q.journey = w.buy;
	double qs[1] = {0.5}, out[1];
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, 4, qs, 1), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, 3, qs, 1), CXM_ERR_OUT_OF_RANGE);
	cxm_id nowhere;
	assert_int_equal(cxm_touchpoint_define(&nowhere, w.ctx, "nowhere", CXM_CHANNEL_WEB, w.buy, 4),
			 CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, 0, qs, 0), CXM_ERR_INVALID);
	qs[0] = NAN;
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, 0, qs, 1), CXM_ERR_NOT_FINITE);
	qs[0] = 1.5;
	assert_int_equal(cxm_funnel_quantiles(out, w.ctx, &q, 0, qs, 1), CXM_ERR_OUT_OF_RANGE);
	/* options */
	o.flags = 0x100;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_INVALID);
	o.flags = 0;
	o.conversion_ms = 401 * DAY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_OUT_OF_RANGE);
	o.conversion_ms = 0;
	o.abandon_ms = 401 * DAY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_OUT_OF_RANGE);
	o.abandon_ms = 0;
	o.lateness_ms = 401 * DAY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_OUT_OF_RANGE);
	o.lateness_ms = 0;
	o.conversion_ms = -5;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_OUT_OF_RANGE);
	o.conversion_ms = 0;
	o.repeat_ms = 500 * DAY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_OUT_OF_RANGE);
	o.repeat_ms = 0;
	o.reserved[2] = 1;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_UNSUPPORTED);
	o.reserved[2] = 0;
	o.size = 8;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_ERR_VERSION);
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_journey_set_options(NULL, w.buy, &o), CXM_ERR_INVALID);
	assert_int_equal(cxm_journey_options_init(NULL, sizeof o), CXM_ERR_INVALID);
	assert_int_equal(cxm_journey_options_init(&o, 8), CXM_ERR_VERSION);
	assert_int_equal(cxm_journey_get_options(&got, w.ctx, w.buy), CXM_OK);
	assert_int_equal(got.lateness_ms, 2 * S); /* unchanged by the failures */
	/* funnel queries */
	assert_int_equal(cxm_funnel_run(&f, st, 3, w.ctx, &q), CXM_ERR_LIMIT);
	q.channel = 9;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_INVALID);
	q.channel = CXM_CHANNEL_WEB;
	q.segment = w.tier;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_INVALID);
	q.channel = 0;
	q.segment_value = 3;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_UNKNOWN_ID);
	q.segment = 5;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_UNKNOWN_ID);
	q.segment = CXM_NONE;
	q.span_ms = 0;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_OUT_OF_RANGE);
	q.span_ms = DAY;
	q.end_ms = -3;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_OUT_OF_RANGE);
	q.end_ms = CXM_NOW;
	q.reserved[0] = 1;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_UNSUPPORTED);
	q.reserved[0] = 0;
	assert_int_equal(cxm_funnel_run(NULL, st, 8, w.ctx, &q), CXM_ERR_INVALID);
	assert_int_equal(cxm_funnel_run(&f, NULL, 8, w.ctx, &q), CXM_ERR_INVALID);
	st[0].size = 8;
	assert_int_equal(cxm_funnel_run(&f, st, 8, w.ctx, &q), CXM_ERR_VERSION);
	assert_int_equal(cxm_funnel_query_init(NULL, sizeof q), CXM_ERR_INVALID);
	assert_int_equal(cxm_funnel_query_init(&q, 4), CXM_ERR_VERSION);
	assert_int_equal(cxm_journey_sweep(NULL, NULL, CXM_NOW), CXM_ERR_INVALID);
	assert_int_equal(cxm_journey_sweep(NULL, w.ctx, -2), CXM_ERR_OUT_OF_RANGE);
	cxm_context_free(w.ctx);
}

/* A journey of more than 255 steps is not tracked: its interactions feed
 * as usual, its funnel is refused with CXM_ERR_LIMIT. */
/* A customer whose instance of one journey has expired is next seen on a
 * later step of another journey nobody has entered: the expiry is counted
 * in the first, the second has no state to count in (this crashed). */
static void expired_then_unentered_journey(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	const char *steps[] = {"s0", "s1"};
	cxm_id ja, jb, ta, tb;
	assert_int_equal(cxm_journey_define(&ja, ctx, "A", steps, 2), CXM_OK);
	assert_int_equal(cxm_journey_define(&jb, ctx, "B", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&ta, ctx, "a0", CXM_CHANNEL_WEB, ja, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tb, ctx, "b1", CXM_CHANNEL_WEB, jb, 1), CXM_OK);
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.customer = "c1";
	ix.customer_len = 2;
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.abandon_ms = DAY;
	assert_int_equal(cxm_journey_set_options(ctx, ja, &o), CXM_OK);
	ix.time_ms = T0 - 30 * HOUR; /* past a 24 h abandonment by T0 */
	ix.touchpoint = ta;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	ix.time_ms = T0;
	ix.touchpoint = tb;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = ja;
	q.span_ms = 3 * DAY;
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[2] = {{.size = sizeof st[0]}, {.size = sizeof st[1]}};
	assert_int_equal(cxm_funnel_run(&f, st, 2, ctx, &q), CXM_OK);
	assert_int_equal(f.entered, 1);
	assert_int_equal(f.abandoned, 1);
	cxm_context_free(ctx);
}

static void untracked_journey(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_steps = 300;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	static char names[256][8];
	const char *steps[256];
	for (int i = 0; i < 256; i++) {
		snprintf(names[i], sizeof names[i], "s%d", i);
		steps[i] = names[i];
	}
	cxm_id j, tp;
	assert_int_equal(cxm_journey_define(&j, ctx, "long", steps, 256), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "start", CXM_CHANNEL_WEB, j, 0), CXM_OK);
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0 - MIN;
	ix.touchpoint = tp;
	ix.customer = "pat";
	ix.customer_len = 3;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	assert_int_equal(cxm_journey_set_options(ctx, j, &o), CXM_ERR_LIMIT);
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = j;
	q.span_ms = DAY;
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[1] = {{.size = sizeof st[0]}};
	assert_int_equal(cxm_funnel_run(&f, st, 1, ctx, &q), CXM_ERR_LIMIT);
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, ctx), CXM_OK);
	assert_int_equal(s.accepted, 1);
	assert_int_equal(s.customers, 1);
	cxm_context_free(ctx);
}

/* ---- the funnel over halves adds up to the funnel over the whole ------------------ */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void add_funnels(funnel *acc, const funnel *x)
{
	acc->f.entered += x->f.entered;
	acc->f.completed += x->f.completed;
	acc->f.abandoned += x->f.abandoned;
	acc->f.expired += x->f.expired;
	acc->f.broken += x->f.broken;
	acc->f.displaced += x->f.displaced;
	acc->f.repeats += x->f.repeats;
	acc->f.goal_n += x->f.goal_n;
	for (int k = 0; k < 4; k++) {
		acc->st[k].reached += x->st[k].reached;
		acc->st[k].next_n += x->st[k].next_n;
	}
}

static void halves_add_up(void **state)
{
	(void)state;
	const uint32_t modes[] = {0, CXM_JOURNEY_STRICT | CXM_JOURNEY_COUNT_REPEATS,
				  CXM_JOURNEY_RESTART | CXM_JOURNEY_EQUAL_TIMES_HOLD};
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		world all, half[2];
		world_new(&all, NULL);
		world_new(&half[0], NULL);
		world_new(&half[1], NULL);
		world *ws[3] = {&all, &half[0], &half[1]};
		for (int i = 0; i < 3; i++) {
			set_opts(ws[i], ws[i]->buy, modes[m], 40 * MIN, 15 * MIN, MIN);
			set_opts(ws[i], ws[i]->support, modes[m], 40 * MIN, 15 * MIN, MIN);
		}
		uint64_t seed = 42 + m;
		char id[32];
		uint64_t fed[3] = {0};
		for (int c = 0; c < 300; c++) {
			snprintf(id, sizeof id, "cust-%d", c);
			world *h = &half[c % 2];
			int64_t t = T0 - 100 * MIN + (int64_t)(splitmix(&seed) % (30 * MIN));
			int n = 1 + (int)(splitmix(&seed) % 8);
			for (int e = 0; e < n; e++) {
				const cxm_id tps[] = {all.browse, all.browse_app, all.cart, all.checkout,
						      all.pay, all.call, all.fixed, all.alone};
				cxm_id tp = tps[splitmix(&seed) % 8];
				uint32_t seg = splitmix(&seed) % 3 ? all.gold : all.silver;
				/* mostly forward in time, sometimes a little back */
				t += (int64_t)(splitmix(&seed) % (10 * MIN)) - 30 * S;
				cxm_status s1 = touch_seg(&all, tp, t, id, seg);
				cxm_status s2 = touch_seg(h, tp, t, id, seg);
				assert_int_equal(s1, s2);
				fed[0] += s1 == CXM_OK;
			}
		}
		assert_true(fed[0] > 500);
		for (int i = 0; i < 3; i++)
			assert_int_equal(cxm_journey_sweep(NULL, ws[i]->ctx, CXM_NOW), CXM_OK);
		for (int j = 0; j < 2; j++) {
			cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
			q.journey = j ? all.support : all.buy;
			q.span_ms = DAY;
			for (int b = 0; b < 3; b++) {
				/* whole, by channel, by segment */
				q.channel = b == 1 ? CXM_CHANNEL_WEB : 0;
				q.segment = b == 2 ? all.tier : CXM_NONE;
				q.segment_value = all.gold;
				funnel whole = run_q(&all, &q), sum;
				memset(&sum, 0, sizeof sum);
				for (int i = 0; i < 2; i++) {
					funnel x = run_q(&half[i], &q);
					add_funnels(&sum, &x);
				}
				assert_int_equal(whole.f.entered, sum.f.entered);
				assert_int_equal(whole.f.completed, sum.f.completed);
				assert_int_equal(whole.f.abandoned, sum.f.abandoned);
				assert_int_equal(whole.f.expired, sum.f.expired);
				assert_int_equal(whole.f.broken, sum.f.broken);
				assert_int_equal(whole.f.displaced, sum.f.displaced);
				assert_int_equal(whole.f.repeats, sum.f.repeats);
				assert_int_equal(whole.f.goal_n, sum.f.goal_n);
				for (int k = 0; k < 4; k++) {
					assert_int_equal(whole.st[k].reached, sum.st[k].reached);
					assert_int_equal(whole.st[k].next_n, sum.st[k].next_n);
				}
				if (b == 0 && j == 0)
					assert_true(whole.f.entered > 20);
			}
		}
		for (int i = 0; i < 3; i++)
			cxm_context_free(ws[i]->ctx);
	}
}

/* ---- batches keep each customer's order ------------------------------------------- */

/* A batch applies its interactions shard by shard; one customer's journey
 * steps in different shards must still be applied in batch order. Here
 * the first step's touchpoint has a higher id (a later shard) than the
 * second's. */
static void batch_order(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.shards = 16;
	world w;
	world_new(&w, &cfg);
	cxm_id walkin;
	assert_int_equal(cxm_touchpoint_define(&walkin, w.ctx, "walk-in", CXM_CHANNEL_IN_PERSON, w.support, 0),
			 CXM_OK);
	assert_true(walkin % 16 > w.fixed % 16);
	cxm_interaction ix[4];
	const char *ids[2] = {"nia", "oto"};
	for (int i = 0; i < 4; i++) {
		cxm_interaction_init(&ix[i], sizeof ix[i]);
		ix[i].customer = ids[i / 2];
		ix[i].customer_len = 3;
		ix[i].touchpoint = i % 2 ? w.fixed : walkin;
		ix[i].time_ms = T0 - 30 * MIN + (i % 2) * 10 * MIN;
	}
	size_t acc = 0, nrej = 0;
	assert_int_equal(cxm_feed_batch(&acc, w.ctx, ix, 4, NULL, 0, &nrej), CXM_OK);
	assert_int_equal(acc, 4);
	funnel r = run(&w, w.support);
	assert_int_equal(r.f.entered, 2);
	assert_int_equal(r.st[1].reached, 2);
	assert_int_equal(r.f.completed, 2);
	cxm_context_free(w.ctx);
}

/* ---- threads: nothing lost, nothing torn --------------------------------------- */

typedef struct feeder {
	world *w;
	int first, step; /* customers first, first + step, ... */
	uint64_t seed;
} feeder;

/* Feed customers c = first, first + step, ... < 400 their random
 * sequences; the sequence of a customer depends only on c. */
static void feed_customers(world *w, int first, int step)
{
	char id[32];
	for (int c = first; c < 400; c += step) {
		uint64_t seed = 1000 + (uint64_t)c;
		snprintf(id, sizeof id, "t-%d", c);
		int64_t t = T0 - 100 * MIN + (int64_t)(splitmix(&seed) % (20 * MIN));
		int n = 1 + (int)(splitmix(&seed) % 6);
		for (int e = 0; e < n; e++) {
			const cxm_id tps[] = {w->browse, w->browse_app, w->cart, w->checkout, w->pay, w->call};
			cxm_id tp = tps[splitmix(&seed) % 6];
			t += (int64_t)(splitmix(&seed) % (5 * MIN));
			assert_int_equal(touch_seg(w, tp, t, id, splitmix(&seed) % 2 ? w->gold : w->silver),
					 CXM_OK);
		}
	}
}

static void *feeder_main(void *arg)
{
	feeder *f = arg;
	feed_customers(f->w, f->first, f->step);
	return NULL;
}

static atomic_int stop_queries;

static void *query_main(void *arg)
{
	world *w = arg;
	while (!atomic_load(&stop_queries)) {
		funnel r = run(w, w->buy);
		assert_true(r.f.completed <= r.st[0].reached);
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = w->support;
		q.span_ms = DAY;
		q.segment = w->tier;
		q.segment_value = w->gold;
		(void)run_q(w, &q);
		/* entry cohorts, read while feeders fold into them (TSan) */
		q.segment = CXM_NONE;
		q.journey = w->buy;
		funnel c = cohort_q(w, &q);
		assert_true(c.f.completed <= c.f.entered);
	}
	return NULL;
}

/* a and b alike: every count and quantile exactly, the mean times up to
 * the order their sums were added in (threads fold in another order, and
 * a sum of doubles rounds by its order) */
static void assert_same_funnel(const funnel *a, const funnel *b)
{
	funnel c = *b;
	if (a->f.goal_n)
		assert_double_equal(a->f.goal_mean, c.f.goal_mean, 1e-9 * fabs(a->f.goal_mean));
	c.f.goal_mean = a->f.goal_mean;
	for (uint32_t k = 0; k < a->f.n_steps && k < 8; k++) {
		if (a->st[k].next_n)
			assert_double_equal(a->st[k].next_mean, c.st[k].next_mean,
					    1e-9 * fabs(a->st[k].next_mean));
		c.st[k].next_mean = a->st[k].next_mean;
	}
	assert_memory_equal(a, &c, sizeof c);
}

static void threads(void **state)
{
	(void)state;
	world one, many;
	world_new(&one, NULL);
	world_new(&many, NULL);
	feed_customers(&one, 0, 1);
	enum { N = 4 };
	pthread_t th[N + 1];
	feeder f[N];
	atomic_store(&stop_queries, 0);
	assert_int_equal(pthread_create(&th[N], NULL, query_main, &many), 0);
	for (int i = 0; i < N; i++) {
		f[i] = (feeder){&many, i, N, 0};
		assert_int_equal(pthread_create(&th[i], NULL, feeder_main, &f[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop_queries, 1);
	pthread_join(th[N], NULL);
	assert_int_equal(cxm_journey_sweep(NULL, one.ctx, CXM_NOW), CXM_OK);
	assert_int_equal(cxm_journey_sweep(NULL, many.ctx, CXM_NOW), CXM_OK);
	for (int j = 0; j < 2; j++) {
		funnel a = run(&one, j ? one.support : one.buy), b = run(&many, j ? many.support : many.buy);
		assert_true(a.f.entered > 50);
		assert_same_funnel(&a, &b);
		/* the cohorts too: four threads fold what one did */
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = j ? one.support : one.buy;
		q.span_ms = DAY;
		funnel ca = cohort_q(&one, &q), cb = cohort_q(&many, &q);
		assert_true(ca.f.entered > 50);
		/* counts exactly; mean times up to the order of their sums */
		assert_int_equal(ca.f.entered, cb.f.entered);
		assert_int_equal(ca.f.completed, cb.f.completed);
		assert_int_equal(ca.f.goal_n, cb.f.goal_n);
		if (ca.f.goal_n)
			assert_double_equal(ca.f.goal_mean, cb.f.goal_mean, 1e-9 * fabs(ca.f.goal_mean));
		for (uint32_t k = 0; k < ca.f.n_steps; k++) {
			assert_int_equal(ca.st[k].reached, cb.st[k].reached);
			assert_int_equal(ca.st[k].next_n, cb.st[k].next_n);
			if (ca.st[k].next_n)
				assert_double_equal(ca.st[k].next_mean, cb.st[k].next_mean,
						    1e-9 * fabs(ca.st[k].next_mean));
		}
	}
	cxm_context_free(one.ctx);
	cxm_context_free(many.ctx);
}

/* ---- out of memory ---------------------------------------------------------------- */

typedef struct hook {
	long fail_at, count;
	size_t live_bytes;
} hook;

typedef struct header {
	size_t size;
	uint64_t pad;
} header;

static void *h_alloc(void *opaque, size_t n)
{
	hook *h = opaque;
	if (++h->count == h->fail_at)
		return NULL;
	header *p = malloc(sizeof(header) + n);
	if (!p)
		return NULL;
	p->size = n;
	h->live_bytes += n;
	return p + 1;
}

static void h_free(void *opaque, void *ptr)
{
	hook *h = opaque;
	header *p = (header *)ptr - 1;
	h->live_bytes -= p->size;
	free(p);
}

typedef cxm_status (*op_fn)(world *w);

/* Fail the 1st, 2nd, ... allocation of op until it succeeds: each failure
 * is CXM_ERR_NO_MEMORY and leaves memory, counts and funnels as they were. */
static long fail_until_done(world *w, hook *h, op_fn op, const char *name)
{
	for (long n = 1; n < 10000; n++) {
		cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
		assert_int_equal(cxm_stats_get(&s0, w->ctx), CXM_OK);
		funnel f0 = run(w, w->buy);
		h->count = 0;
		h->fail_at = n;
		cxm_status st = op(w);
		h->fail_at = 0;
		if (st == CXM_OK)
			return n;
		if (st != CXM_ERR_NO_MEMORY)
			fail_msg("%s, allocation %ld failing: %s", name, n, cxm_strerror(st));
		assert_int_equal(cxm_stats_get(&s1, w->ctx), CXM_OK);
		if (s1.memory_bytes != s0.memory_bytes || s1.customers != s0.customers)
			fail_msg("%s, allocation %ld failing: memory %llu -> %llu", name, n,
				 (unsigned long long)s0.memory_bytes, (unsigned long long)s1.memory_bytes);
		funnel f1 = run(w, w->buy);
		assert_memory_equal(&f0, &f1, sizeof f0);
		assert_int_equal(h->live_bytes, s1.memory_bytes);
	}
	fail_msg("%s never succeeded", name);
	return 0;
}

static cxm_status op_options(world *w)
{
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.lateness_ms = MIN;
	return cxm_journey_set_options(w->ctx, w->support, &o);
}

static cxm_status op_enter(world *w)
{
	return touch_seg(w, w->browse, T0 - 10 * MIN, "kim", w->gold);
}

static cxm_status op_enter_chat(world *w)
{
	return touch_seg(w, w->browse_app, T0 - 9 * MIN, "lee", w->silver);
}

static cxm_status op_churn(world *w)
{
	return cxm_customer_churn(w->ctx, "mo", 2, T0 - 5 * MIN);
}

static cxm_status op_churn_later(world *w)
{
	return cxm_customer_churn(w->ctx, "kim", 3, T0 + 2 * DAY - MIN);
}

static void out_of_memory(void **state)
{
	(void)state;
	for (int order = 0; order < 2; order++) {
		hook h = {0};
		cxm_config cfg = CXM_CONFIG_INIT;
		cfg.allocator.alloc = h_alloc;
		cfg.allocator.free = h_free;
		cfg.allocator.opaque = &h;
		world w;
		world_new(&w, &cfg);
		if (order == 0) {
			/* the first churn makes the table and the journeys' state */
			assert_true(fail_until_done(&w, &h, op_churn, "churn") > 1);
			assert_true(fail_until_done(&w, &h, op_options, "options") > 1);
		} else {
			assert_true(fail_until_done(&w, &h, op_options, "options") > 1);
			assert_true(fail_until_done(&w, &h, op_churn, "churn") > 1);
		}
		/* the first entry: series for the journey, its channel, gold */
		assert_true(fail_until_done(&w, &h, op_enter, "enter") > 3);
		/* another channel and segment value: their groups */
		assert_true(fail_until_done(&w, &h, op_enter_chat, "enter (chat)") > 2);
		funnel r = run(&w, w.buy);
		assert_int_equal(r.f.entered, 2);
		cxm_churn c = {.size = sizeof c};
		assert_int_equal(cxm_churn_rate(&c, w.ctx, w.uniq, CXM_NOW, HOUR, DAY), CXM_OK);
		assert_int_equal(c.churned, 1);
		cxm_journey_options got = {.size = sizeof got};
		assert_int_equal(cxm_journey_get_options(&got, w.ctx, w.support), CXM_OK);
		assert_int_equal(got.lateness_ms, MIN);
		/* a sweep counts the endings in buckets it may need memory for:
		 * without it, those not counted stay open for the next sweep
		 * (abandoned after a day: the default would wait the window) */
		cxm_journey_options ab = CXM_JOURNEY_OPTIONS_INIT;
		ab.abandon_ms = DAY;
		assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &ab), CXM_OK);
		w.clk.now = T0 + 2 * DAY;
		uint64_t closed_all = 0;
		for (long n = 1;; n++) {
			uint64_t closed = 99;
			h.count = 0;
			h.fail_at = n;
			cxm_status st = cxm_journey_sweep(&closed, w.ctx, CXM_NOW);
			h.fail_at = 0;
			closed_all += closed;
			if (st == CXM_OK)
				break;
			assert_int_equal(st, CXM_ERR_NO_MEMORY);
			assert_true(n < 1000);
		}
		assert_int_equal(closed_all, 2);
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = w.buy;
		q.span_ms = 3 * DAY;
		assert_int_equal(run_q(&w, &q).f.abandoned, 2);
		/* a churn counts in a bucket of its own series: refused
		 * without memory for it, never lost */
		assert_true(fail_until_done(&w, &h, op_churn_later, "churn (two days on)") > 1);
		cxm_churn c2 = {.size = sizeof c2};
		assert_int_equal(cxm_churn_rate(&c2, w.ctx, w.uniq, CXM_NOW, HOUR, 3 * DAY), CXM_OK);
		assert_int_equal(c2.churned, 1);
		cxm_stats s = {.size = sizeof s};
		assert_int_equal(cxm_stats_get(&s, w.ctx), CXM_OK);
		assert_int_equal(s.lost_buckets, 0);
		assert_int_equal(s.memory_bytes, h.live_bytes);
		cxm_context_free(w.ctx);
		assert_int_equal(h.live_bytes, 0);
	}
}

/* ---- memory per customer, with journeys ------------------------------------------- */

static void bytes_per_customer(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_customers = 100000;
	world w;
	world_new(&w, &cfg);
	char id[32];
	for (int c = 0; c < 100000; c++) {
		snprintf(id, sizeof id, "cust-%d", c);
		TOUCH(&w, c % 2 ? w.browse : w.call, T0 - 60 * MIN + c / 100, id);
	}
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, w.ctx), CXM_OK);
	assert_int_equal(st.customers, 100000);
	assert_int_equal(st.customers_evicted, 0);
	double per = (double)st.customer_bytes / (double)st.customers;
	print_message("100000 customers on journeys: %.1f bytes each, table included\n", per);
	assert_true(per <= 48);
	funnel r = run(&w, w.buy);
	assert_int_equal(r.f.entered, 50000);
	cxm_context_free(w.ctx);
}


/* cxm_feed_check: the code cxm_feed() would return, and nothing changes. */
static void feed_check(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_customers = 2;
	cfg.customer_policy = CXM_CUSTOMERS_REFUSE;
	world w;
	world_new(&w, &cfg);
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0;
	ix.touchpoint = w.call;
	ix.customer = "c1";
	ix.customer_len = 2;
	assert_int_equal(cxm_feed_check(NULL, &ix), CXM_ERR_INVALID);
	assert_int_equal(cxm_feed_check(w.ctx, NULL), CXM_ERR_INVALID);
	cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
	assert_int_equal(cxm_stats_get(&s0, w.ctx), CXM_OK);
	assert_int_equal(cxm_feed_check(w.ctx, &ix), CXM_OK);
	cxm_interaction bad = ix;
	bad.size = 8;
	assert_int_equal(cxm_feed_check(w.ctx, &bad), CXM_ERR_VERSION);
	bad = ix;
	bad.touchpoint = 999;
	assert_int_equal(cxm_feed_check(w.ctx, &bad), CXM_ERR_UNKNOWN_ID);
	bad = ix;
	bad.time_ms = -1;
	assert_int_equal(cxm_feed_check(w.ctx, &bad), CXM_ERR_OUT_OF_RANGE);
	bad = ix;
	bad.time_ms = T0 + DAY;
	assert_int_equal(cxm_feed_check(w.ctx, &bad), CXM_ERR_TOO_EARLY);
	uint32_t seg = 77;
	bad = ix;
	bad.segments = &seg;
	bad.n_segments = 1;
	assert_int_equal(cxm_feed_check(w.ctx, &bad), CXM_ERR_UNKNOWN_ID);
	/* nothing was counted, accepted or created by the checks */
	assert_int_equal(cxm_stats_get(&s1, w.ctx), CXM_OK);
	assert_memory_equal(&s0, &s1, sizeof s0);
	/* the customer's journey order: a step far behind its latest */
	TOUCH(&w, w.call, T0, "c1");
	ix.touchpoint = w.fixed;
	ix.time_ms = T0 - 3 * HOUR;
	assert_int_equal(cxm_feed_check(w.ctx, &ix), CXM_ERR_TOO_LATE);
	assert_int_equal(cxm_feed(w.ctx, &ix), CXM_ERR_TOO_LATE);
	ix.time_ms = T0;
	assert_int_equal(cxm_feed_check(w.ctx, &ix), CXM_OK);
	/* the table under REFUSE: a known customer passes, a new one does not */
	TOUCH(&w, w.alone, T0, "c2");
	ix.customer = "c3";
	assert_int_equal(cxm_feed_check(w.ctx, &ix), CXM_ERR_LIMIT);
	assert_int_equal(cxm_feed(w.ctx, &ix), CXM_ERR_LIMIT);
	ix.customer = "c2";
	assert_int_equal(cxm_feed_check(w.ctx, &ix), CXM_OK);
	cxm_context_free(w.ctx);
}

/* A funnel's window is placed as a query's: the same edges over data held
 * at coarser widths, and TRUNCATED when the tiers' retention cuts it. */
static void funnel_window_placed_as_query(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 60, 0};    /* minutes for an hour */
	cfg.tiers[1] = (cxm_tier){3600000, 24, 0};  /* hours for a day */
	cfg.tiers[2] = (cxm_tier){86400000, 10, 0}; /* days for ten */
	world w;
	world_new(&w, &cfg);
	cxm_metric_def d = {.size = sizeof d};
	cxm_id calls;
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&calls, w.ctx, "calls", &d), CXM_OK);
	set_opts(&w, w.support, 0, 7 * DAY, 7 * DAY, 0);
	/* a customer every 6 hours for 5 days, each calling once (entering) */
	char id[16];
	for (int k = 0; k <= 20; k++) {
		w.clk.now = T0 + k * 6 * HOUR;
		snprintf(id, sizeof id, "c%d", k);
		TOUCH(&w, w.call, T0 + k * 6 * HOUR, id);
	}
	const int64_t spans[] = {HOUR, 2 * HOUR, DAY + 7 * HOUR, 3 * DAY, 20 * DAY};
	for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = w.support;
		q.end_ms = w.clk.now;
		q.span_ms = spans[i];
		funnel f = run_q(&w, &q);
		cxm_result r = query_tp(w.ctx, calls, w.call, q.end_ms, q.span_ms);
		assert_int_equal(f.f.start_ms, r.start_ms);
		assert_int_equal(f.f.end_ms, r.end_ms);
		assert_int_equal(f.f.flags & CXM_RESULT_TRUNCATED, r.flags & CXM_RESULT_TRUNCATED);
		assert_int_equal(f.f.entered, r.n);
		uint64_t want = 0;
		for (int k = 0; k <= 20; k++)
			want += T0 + k * 6 * HOUR >= f.f.start_ms && T0 + k * 6 * HOUR < f.f.end_ms;
		assert_int_equal(f.f.entered, want);
		/* only the 20-day window reaches beyond the ten days kept */
		assert_int_equal(!!(f.f.flags & CXM_RESULT_TRUNCATED), spans[i] == 20 * DAY);
	}
	/* the churn rate's window too */
	cxm_churn c = {.size = sizeof c};
	assert_int_equal(cxm_churn_rate(&c, w.ctx, w.uniq, w.clk.now, 20 * DAY, DAY), CXM_OK);
	assert_true(c.flags & CXM_RESULT_TRUNCATED);
	cxm_context_free(w.ctx);
}

/* ---- conversion windows of months (B2B sales cycles) ----------------------------- */

static void long_feed(world *w, int64_t b, int part)
{
	if (part == 0) {
		TOUCH(w, w->browse, b, "ann");
		TOUCH(w, w->browse, b, "bob");
		TOUCH(w, w->browse, b + DAY, "cy");
		TOUCH(w, w->browse, b + DAY + 123, "dee"); /* ms past the second the window counts from */
		TOUCH(w, w->cart, b + 10 * DAY, "ann");
		/* past 2^31 ms into bob's instance: kept to the second */
		TOUCH(w, w->cart, b + 30 * DAY + 123, "bob");
	} else {
		TOUCH(w, w->pay, b + 60 * DAY + 500, "ann"); /* skips checkout */
		TOUCH(w, w->checkout, b + 89 * DAY, "bob");
		TOUCH(w, w->pay, b + 95 * DAY, "bob"); /* the window ended at 90 days */
	}
}

static void long_check(world *w, int64_t b)
{
	w->clk.now = b + 150 * DAY;
	uint64_t closed = 0;
	assert_int_equal(cxm_journey_sweep(&closed, w->ctx, CXM_NOW), CXM_OK);
	assert_int_equal(closed, 2); /* cy, dee; bob's expiry was seen when he paid */
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w->buy;
	q.span_ms = 151 * DAY; /* back past the first entries, an hour before 150 days */
	funnel r = run_q(w, &q);
	assert_int_equal(r.f.entered, 4);
	assert_int_equal(r.st[1].reached, 2);
	assert_int_equal(r.st[2].reached, 2);
	assert_int_equal(r.st[3].reached, 1);
	assert_int_equal(r.f.completed, 1);
	assert_int_equal(r.f.expired, 1);   /* bob, at 90 days */
	assert_int_equal(r.f.abandoned, 2); /* cy, dee never moved: abandoned when the window ended */
	assert_false(r.f.flags & CXM_RESULT_CLAMPED);
	const double qs[] = {0, 1};
	double t[2];
	/* ann: 60 days from entry to the goal, 50 from cart to pay; bob 59
	 * days from cart to checkout (the second's rounding is far below 5 %) */
	assert_int_equal(cxm_funnel_quantiles(t, w->ctx, &q, CXM_NONE, qs, 1), CXM_OK);
	assert_true(fabs(t[0] - 60.0 * 86400) <= 0.05 * 60 * 86400);
	assert_int_equal(cxm_funnel_quantiles(t, w->ctx, &q, 1, qs, 2), CXM_OK);
	assert_true(fabs(t[0] - 50.0 * 86400) <= 0.05 * 50 * 86400);
	assert_true(fabs(t[1] - 59.0 * 86400) <= 0.05 * 59 * 86400);
}

/* EQUAL_TIMES_HOLD holds a step at the latest step's instant however far
 * into the instance it comes (past 24.8 days, steps are kept to the
 * second: the same second is not later). */
static void hold_past_24_days(void **state)
{
	(void)state;
	for (int far = 0; far < 2; far++) {
		cxm_config cfg = CXM_CONFIG_INIT;
		cfg.n_tiers = 1;
		cfg.tiers[0].bucket_ms = HOUR;
		cfg.tiers[0].buckets = 24 * 60;
		world w;
		world_new(&w, &cfg);
		set_opts(&w, w.buy, CXM_JOURNEY_EQUAL_TIMES_HOLD, 60 * DAY, 0, 0);
		const int64_t b = T0 - 40 * DAY, at = b + (far ? 25 : 20) * DAY + 777;
		TOUCH(&w, w.browse, b, "eve");
		TOUCH(&w, w.cart, at, "eve");
		TOUCH(&w, w.checkout, at, "eve"); /* the same instant: held */
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = w.buy;
		q.span_ms = 41 * DAY;
		funnel r = run_q(&w, &q);
		if (r.st[2].reached != 0)
			fail_msg("%d days in: checkout at the cart's instant advanced", far ? 25 : 20);
		cxm_context_free(w.ctx);
	}
}

/* A 90-day conversion window: steps months apart are timed and counted,
 * the instance that outlives the window expires, the default abandonment
 * follows the window (not 24 h), and a snapshot taken 40 days in carries
 * the instances on. */
static void long_conversion(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 1;
	cfg.tiers[0].bucket_ms = HOUR;
	cfg.tiers[0].buckets = 24 * 200;
	const int64_t b = T0 - 200 * DAY;
	world w, v;
	world_new(&w, &cfg);
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.conversion_ms = 90 * DAY;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.buy, &o), CXM_OK);
	cxm_journey_options got = {.size = sizeof got};
	assert_int_equal(cxm_journey_get_options(&got, w.ctx, w.buy), CXM_OK);
	assert_int_equal(got.abandon_ms, 90 * DAY);
	assert_int_equal(cxm_journey_get_options(&got, w.ctx, w.support), CXM_OK);
	assert_int_equal(got.conversion_ms, 7 * DAY);
	assert_int_equal(got.abandon_ms, 7 * DAY); /* the default window's */
	o.conversion_ms = CXM_JOURNEY_MAX_WINDOW_MS;
	o.abandon_ms = CXM_JOURNEY_MAX_WINDOW_MS;
	o.lateness_ms = CXM_JOURNEY_MAX_WINDOW_MS;
	assert_int_equal(cxm_journey_set_options(w.ctx, w.support, &o), CXM_OK);
	long_feed(&w, b, 0);
	/* the snapshot, 40 days in, into a new context v */
	v = w;
	v.clk.now = T0;
	memcpy(cfg.customer_key, "journeys test ke", 16);
	v.ctx = test_ctx_cfg(&v.clk, &cfg);
	membuf m = {0};
	assert_int_equal(cxm_snapshot_write(w.ctx, membuf_write, &m), CXM_OK);
	cxm_status st = cxm_snapshot_load_mem(v.ctx, m.p, m.len);
	if (st)
		fail_msg("load: %s", cxm_errmsg(v.ctx));
	free(m.p);
	assert_int_equal(cxm_journey_get_options(&got, v.ctx, w.buy), CXM_OK);
	assert_int_equal(got.conversion_ms, 90 * DAY);
	long_feed(&w, b, 1);
	long_feed(&v, b, 1);
	long_check(&w, b);
	long_check(&v, b);
	cxm_context_free(w.ctx);
	cxm_context_free(v.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode_default),
		cmocka_unit_test(mode_strict),
		cmocka_unit_test(mode_count_repeats),
		cmocka_unit_test(mode_equal_times_hold),
		cmocka_unit_test(mode_restart),
		cmocka_unit_test(mode_window_bounds),
		cmocka_unit_test(abandonment),
		cmocka_unit_test(displaced_and_segments),
		cmocka_unit_test(erasure),
		cmocka_unit_test(churn_rate),
		cmocka_unit_test(repeat_contacts),
		cmocka_unit_test(bad_input),
		cmocka_unit_test(untracked_journey),
		cmocka_unit_test(halves_add_up),
		cmocka_unit_test(batch_order),
		cmocka_unit_test(threads),
		cmocka_unit_test(out_of_memory),
		cmocka_unit_test(bytes_per_customer),
		cmocka_unit_test(feed_check),
		cmocka_unit_test(expired_then_unentered_journey),
		cmocka_unit_test(funnel_window_placed_as_query),
		cmocka_unit_test(long_conversion),
		cmocka_unit_test(hold_past_24_days),
		cmocka_unit_test(modes_second_sequence),
		cmocka_unit_test(strict_order_other_events),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
