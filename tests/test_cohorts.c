/* Entry-cohort funnels (cxm_funnel_cohort_run): a hand-worked sequence
 * against event-time counting, a brute-force recomputation of five months
 * of long conversions per New York month, totals equal to event-time
 * totals in every mode, snapshots, merges, rewind, retention and bad input. */
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S (INT64_C(1000))

typedef struct world {
	test_clock clk;
	cxm_context *ctx;
	cxm_id lead;                       /* journey: visit, demo, offer, deal */
	cxm_id web, chat, demo, offer, deal; /* web and chat are step 0 */
	cxm_id other;                      /* a touchpoint of no journey */
	cxm_id region;
	uint32_t east, west;
} world;

static void world_new(world *w, const cxm_config *cfg_in)
{
	memset(w, 0, sizeof *w);
	w->clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	if (cfg_in)
		cfg = *cfg_in;
	memcpy(cfg.customer_key, "cohorts test key", 16);
	w->ctx = test_ctx_cfg(&w->clk, &cfg);
	cxm_context *ctx = w->ctx;
	const char *steps[] = {"visit", "demo", "offer", "deal"};
	assert_int_equal(cxm_journey_define(&w->lead, ctx, "lead", steps, 4), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->web, ctx, "web", CXM_CHANNEL_WEB, w->lead, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->chat, ctx, "chat", CXM_CHANNEL_CHAT, w->lead, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->demo, ctx, "demo", CXM_CHANNEL_PHONE, w->lead, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->offer, ctx, "offer", CXM_CHANNEL_EMAIL, w->lead, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->deal, ctx, "deal", CXM_CHANNEL_WEB, w->lead, 3), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&w->other, ctx, "newsletter", CXM_CHANNEL_EMAIL, CXM_NONE, 0),
			 CXM_OK);
	assert_int_equal(cxm_segment_define(&w->region, ctx, "region", 4), CXM_OK);
	assert_int_equal(cxm_segment_value(&w->east, ctx, w->region, "east"), CXM_OK);
	assert_int_equal(cxm_segment_value(&w->west, ctx, w->region, "west"), CXM_OK);
}

static void opts(world *w, uint32_t flags, int64_t conv)
{
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.flags = flags;
	o.conversion_ms = conv;
	o.lateness_ms = 400 * DAY;
	assert_int_equal(cxm_journey_set_options(w->ctx, w->lead, &o), CXM_OK);
}

static cxm_status touch(world *w, cxm_id tp, int64_t t, const char *id, uint32_t seg)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.customer = id;
	ix.customer_len = strlen(id);
	ix.segments = &seg;
	ix.n_segments = seg == CXM_NONE ? 0 : 1;
	if (t > w->clk.now)
		w->clk.now = t;
	return cxm_feed(w->ctx, &ix);
}

#define TOUCH(w, tp, t, id) assert_int_equal(touch((w), (tp), (t), (id), CXM_NONE), CXM_OK)

typedef struct funnel {
	cxm_funnel f;
	cxm_funnel_step st[4];
} funnel;

static funnel run_fn(world *w, const cxm_funnel_query *q, bool cohort)
{
	funnel r;
	memset(&r, 0, sizeof r);
	r.f.size = sizeof r.f;
	r.st[0].size = sizeof r.st[0];
	cxm_status st = cohort ? cxm_funnel_cohort_run(&r.f, r.st, 4, w->ctx, q)
			       : cxm_funnel_run(&r.f, r.st, 4, w->ctx, q);
	if (st)
		fail_msg("funnel: %s: %s", cxm_strerror(st), cxm_errmsg(w->ctx));
	return r;
}

/* The cohorts of [a, b) (whole hours). */
static funnel cohort(world *w, int64_t a, int64_t b)
{
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w->lead;
	q.end_ms = b - 1;
	q.span_ms = b - a;
	return run_fn(w, &q, true);
}

static void assert_same(const funnel *x, const funnel *y)
{
	assert_int_equal(x->f.entered, y->f.entered);
	assert_int_equal(x->f.completed, y->f.completed);
	assert_int_equal(x->f.abandoned, y->f.abandoned);
	assert_int_equal(x->f.expired, y->f.expired);
	assert_int_equal(x->f.broken, y->f.broken);
	assert_int_equal(x->f.displaced, y->f.displaced);
	assert_int_equal(x->f.repeats, y->f.repeats);
	assert_int_equal(x->f.goal_n, y->f.goal_n);
	if (x->f.goal_n)
		assert_double_equal(x->f.goal_mean, y->f.goal_mean, 1e-9 * fabs(y->f.goal_mean) + 1e-9);
	for (int k = 0; k < 4; k++) {
		assert_int_equal(x->st[k].reached, y->st[k].reached);
		assert_int_equal(x->st[k].next_n, y->st[k].next_n);
		if (x->st[k].next_n)
			assert_double_equal(x->st[k].next_mean, y->st[k].next_mean,
					    1e-9 * fabs(y->st[k].next_mean) + 1e-9);
	}
}

/* ---- hand-worked: two cohorts, events long after their entry ---------------------- */

/* Hour A (10:00): ann and bob enter; hour B (11:00): cid enters. Ann
 * reaches the demo 2 days later and the deal 10 days later; bob reaches
 * the demo 3 days later; cid reaches the deal (skipping) 1 day later.
 * Event time counts each step where it happened; the cohort of hour A
 * holds ann's and bob's whole story. */
static void hand_worked(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	opts(&w, 0, 30 * DAY);
	const int64_t A = T0 + 10 * HOUR, B = T0 + 11 * HOUR;
	TOUCH(&w, w.web, A + 5 * MIN, "ann");
	TOUCH(&w, w.chat, A + 50 * MIN, "bob");
	TOUCH(&w, w.web, B + 1 * MIN, "cid");
	TOUCH(&w, w.deal, B + DAY, "cid");
	TOUCH(&w, w.demo, A + 2 * DAY, "ann");
	TOUCH(&w, w.demo, A + 3 * DAY + 7 * S, "bob");
	TOUCH(&w, w.offer, A + 4 * DAY, "ann");
	TOUCH(&w, w.deal, A + 10 * DAY + 5 * MIN, "ann");

	funnel a = cohort(&w, A, A + HOUR);
	assert_int_equal(a.f.start_ms, A);
	assert_int_equal(a.f.end_ms, A + HOUR);
	assert_int_equal(a.f.flags & CXM_RESULT_TRUNCATED, 0);
	assert_int_equal(a.f.entered, 2);
	assert_int_equal(a.st[0].reached, 2);
	assert_int_equal(a.st[1].reached, 2);
	assert_int_equal(a.st[2].reached, 1);
	assert_int_equal(a.st[3].reached, 1);
	assert_int_equal(a.f.completed, 1);
	assert_double_equal(a.f.conversion, 0.5, 0);
	assert_double_equal(a.st[1].step_conversion, 1.0, 0);
	assert_double_equal(a.st[2].step_conversion, 0.5, 0);
	/* ann: entry to deal 10 days; demo after 2 d - 5 min; bob's after 3 d + 7 s - 50 min */
	assert_int_equal(a.f.goal_n, 1);
	assert_double_equal(a.f.goal_mean, (double)(10 * DAY) / 1000, 1e-6);
	assert_int_equal(a.st[0].next_n, 2);
	assert_double_equal(a.st[0].next_mean,
			    ((double)(2 * DAY - 5 * MIN) + (double)(3 * DAY + 7 * S - 50 * MIN)) / 2000, 1e-6);
	assert_true(isnan(a.f.goal_p50) && isnan(a.st[0].next_p90));

	funnel b = cohort(&w, B, B + HOUR);
	assert_int_equal(b.f.entered, 1);
	assert_int_equal(b.st[1].reached, 1); /* skipped steps count as reached */
	assert_int_equal(b.st[3].reached, 1);
	assert_int_equal(b.f.goal_n, 1);
	assert_double_equal(b.f.goal_mean, (double)(DAY - MIN) / 1000, 1e-6);

	/* a window between the edges takes the hours it touches */
	funnel ab = cohort(&w, A + 30 * MIN, B + 30 * MIN);
	assert_int_equal(ab.f.start_ms, A);
	assert_int_equal(ab.f.end_ms, B + HOUR);
	assert_int_equal(ab.f.entered, 3);
	assert_int_equal(ab.f.completed, 2);

	/* event time over the entry day: the entries and only cid's deal */
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w.lead;
	q.end_ms = T0 + DAY - 1;
	q.span_ms = DAY;
	funnel ev = run_fn(&w, &q, false);
	assert_int_equal(ev.f.entered, 3);
	assert_int_equal(ev.f.completed, 0);
	/* cohorts of a day with no entries: empty, and said so */
	funnel none = cohort(&w, T0 + 5 * DAY, T0 + 6 * DAY);
	assert_int_equal(none.f.entered, 0);
	assert_true(none.f.flags & CXM_RESULT_EMPTY);
	assert_true(isnan(none.f.conversion));

	/* by channel of the first touch, and by segment */
	q.end_ms = A + HOUR - 1;
	q.span_ms = HOUR;
	q.channel = CXM_CHANNEL_CHAT;
	funnel chat = run_fn(&w, &q, true);
	assert_int_equal(chat.f.entered, 1);
	assert_int_equal(chat.st[1].reached, 1);
	assert_int_equal(chat.f.completed, 0);
	cxm_journey_sweep(NULL, w.ctx, A + 40 * DAY);
	chat = run_fn(&w, &q, true);
	assert_int_equal(chat.f.expired, 1); /* bob's instance, in its own cohort */
	cxm_context_free(w.ctx);
}

/* ---- brute force: five months of leads with long conversions ------------------------ */

#define N_LEADS 1500

typedef struct lead {
	int64_t t[4]; /* entry, then each step's time; 0: not visited */
	uint32_t seg;
} lead;

typedef struct ev {
	int64_t t;
	int c, step;
} ev;

static int ev_cmp(const void *a, const void *b)
{
	const ev *x = a, *y = b;
	return x->t < y->t ? -1 : x->t > y->t ? 1 : x->c - y->c;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

typedef struct expect {
	uint64_t entered, reached[4], abandoned, expired, next_n[4], goal_n;
	double next_sum[4], goal_sum;
} expect;

/* An offset from an instance's start as the customer table keeps it: to
 * the ms for 24.8 days (2^31 ms), to the second (never later) after. */
static int64_t kept_offset(int64_t x)
{
	const int64_t lim = INT64_C(1) << 31;
	return x < lim ? x : lim + (x - lim) / 1000 * 1000;
}

/* What the default order makes of lead l with a conversion window conv,
 * added into e (a sweep after every deadline has run). */
static void brute(const lead *l, int64_t conv, expect *e)
{
	int64_t t0 = l->t[0] / 1000 * 1000; /* an instance starts on its second */
	e->entered++;
	e->reached[0]++;
	int h = 0;
	int64_t last = l->t[0];
	for (int s = 1; s < 4; s++) {
		if (!l->t[s] || l->t[s] > t0 + conv)
			continue;
		for (int k = h + 1; k <= s; k++)
			e->reached[k]++;
		e->next_n[h]++;
		e->next_sum[h] += (double)(l->t[s] - last) / 1000;
		last = t0 + kept_offset(l->t[s] - t0);
		h = s;
		if (s == 3) {
			e->goal_n++;
			e->goal_sum += (double)(l->t[s] - t0) / 1000;
		}
	}
	if (h == 0)
		e->abandoned++;
	else if (h < 3)
		e->expired++;
}

static void check_expect(const funnel *f, const expect *e)
{
	assert_int_equal(f->f.entered, e->entered);
	assert_int_equal(f->f.completed, e->reached[3]);
	assert_int_equal(f->f.abandoned, e->abandoned);
	assert_int_equal(f->f.expired, e->expired);
	for (int k = 0; k < 4; k++)
		assert_int_equal(f->st[k].reached, e->reached[k]);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(f->st[k].next_n, e->next_n[k]);
		if (e->next_n[k])
			assert_double_equal(f->st[k].next_mean, e->next_sum[k] / (double)e->next_n[k], 1e-6);
	}
	assert_int_equal(f->f.goal_n, e->goal_n);
	if (e->goal_n)
		assert_double_equal(f->f.goal_mean, e->goal_sum / (double)e->goal_n, 1e-6);
}

static void brute_force_months(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	const int64_t conv = 90 * DAY;
	opts(&w, 0, conv);
	static lead L[N_LEADS];
	static ev E[N_LEADS * 4];
	uint64_t seed = 7;
	size_t ne = 0;
	const int64_t start = T0 - 200 * DAY;
	for (int c = 0; c < N_LEADS; c++) {
		lead *l = &L[c];
		memset(l, 0, sizeof *l);
		/* entries over five months, a quarter within 3 h of a UTC month edge */
		l->t[0] = start + (int64_t)(splitmix(&seed) % (uint64_t)(150 * DAY));
		l->seg = splitmix(&seed) % 2 ? w.east : w.west;
		int64_t t = l->t[0];
		for (int s = 1; s < 4; s++) {
			if (splitmix(&seed) % 4 == 0)
				continue; /* skipped, or never reached */
			t += 1 + (int64_t)(splitmix(&seed) % (uint64_t)(50 * DAY));
			l->t[s] = t;
		}
		for (int s = 0; s < 4; s++)
			if (l->t[s])
				E[ne++] = (ev){l->t[s], c, s};
	}
	qsort(E, ne, sizeof E[0], ev_cmp);
	const cxm_id tps[4] = {w.web, w.demo, w.offer, w.deal};
	char id[32];
	for (size_t i = 0; i < ne; i++) {
		snprintf(id, sizeof id, "lead-%d", E[i].c);
		assert_int_equal(touch(&w, tps[E[i].step], E[i].t, id, L[E[i].c].seg), CXM_OK);
	}
	w.clk.now += 200 * DAY;
	assert_int_equal(cxm_journey_sweep(NULL, w.ctx, CXM_NOW), CXM_OK);

	/* every New York month that holds entries */
	int months = 0;
	uint64_t total = 0;
	for (int64_t at = start; at < start + 160 * DAY;) {
		int64_t a, b;
		assert_int_equal(cxm_calendar_bucket(&a, &b, w.ctx, "America/New_York", CXM_CALENDAR_MONTH, at),
				 CXM_OK);
		expect e;
		memset(&e, 0, sizeof e);
		for (int c = 0; c < N_LEADS; c++)
			if (L[c].t[0] >= a && L[c].t[0] < b)
				brute(&L[c], conv, &e);
		funnel f = cohort(&w, a, b);
		assert_int_equal(f.f.start_ms, a);
		assert_int_equal(f.f.end_ms, b);
		check_expect(&f, &e);
		total += e.entered;
		months++;
		at = b;
	}
	assert_true(months >= 6);
	assert_int_equal(total, N_LEADS);

	/* by segment value: the entry's region for entered */
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w.lead;
	q.end_ms = start + 160 * DAY;
	q.span_ms = 161 * DAY;
	q.segment = w.region;
	q.segment_value = w.east;
	funnel east = run_fn(&w, &q, true);
	expect e;
	memset(&e, 0, sizeof e);
	for (int c = 0; c < N_LEADS; c++)
		if (L[c].seg == w.east)
			brute(&L[c], conv, &e);
	assert_int_equal(east.f.entered, e.entered);
	assert_int_equal(east.st[3].reached, e.reached[3]);
	assert_int_equal(east.f.expired, 0); /* ends are not kept per segment value */
	cxm_context_free(w.ctx);
}

/* ---- totals equal event-time totals, in every mode; halves add up; snapshots ------ */

static void feed_random(world *all, world *half[2], uint64_t seed)
{
	char id[32];
	const cxm_id tps[] = {all->web, all->chat, all->demo, all->offer, all->deal, all->other};
	int64_t t = T0 - 20 * DAY;
	for (int i = 0; i < 4000; i++) {
		int c = (int)(splitmix(&seed) % 300);
		snprintf(id, sizeof id, "c-%d", c);
		cxm_id tp = tps[splitmix(&seed) % 6];
		uint32_t seg = splitmix(&seed) % 3 ? all->east : all->west;
		t += (int64_t)(splitmix(&seed) % (8 * MIN));
		cxm_status s1 = touch(all, tp, t, id, seg);
		cxm_status s2 = touch(half[c % 2], tp, t, id, seg);
		assert_int_equal(s1, s2);
		assert_int_equal(s1, CXM_OK);
	}
}

static funnel sum2(const funnel *x, const funnel *y)
{
	funnel s = *x;
	s.f.entered += y->f.entered;
	s.f.completed += y->f.completed;
	s.f.abandoned += y->f.abandoned;
	s.f.expired += y->f.expired;
	s.f.broken += y->f.broken;
	s.f.displaced += y->f.displaced;
	s.f.repeats += y->f.repeats;
	s.f.goal_mean = (x->f.goal_n ? x->f.goal_mean * (double)x->f.goal_n : 0) +
			(y->f.goal_n ? y->f.goal_mean * (double)y->f.goal_n : 0);
	s.f.goal_n += y->f.goal_n;
	s.f.goal_mean = s.f.goal_n ? s.f.goal_mean / (double)s.f.goal_n : NAN;
	for (int k = 0; k < 4; k++) {
		s.st[k].reached += y->st[k].reached;
		double m = (x->st[k].next_n ? x->st[k].next_mean * (double)x->st[k].next_n : 0) +
			   (y->st[k].next_n ? y->st[k].next_mean * (double)y->st[k].next_n : 0);
		s.st[k].next_n += y->st[k].next_n;
		s.st[k].next_mean = s.st[k].next_n ? m / (double)s.st[k].next_n : NAN;
	}
	return s;
}

static void snapshot_copy(world *dst, world *src)
{
	membuf m = {0};
	assert_int_equal(cxm_snapshot_write(src->ctx, membuf_write, &m), CXM_OK);
	world_new(dst, NULL);
	cxm_context_free(dst->ctx);
	cxm_config cfg = CXM_CONFIG_INIT;
	memcpy(cfg.customer_key, "cohorts test key", 16);
	dst->ctx = test_ctx_cfg(&dst->clk, &cfg);
	dst->clk = src->clk;
	assert_int_equal(cxm_snapshot_load_mem(dst->ctx, m.p, m.len), CXM_OK);
	free(m.p);
}

static void every_mode_totals(void **state)
{
	(void)state;
	const uint32_t modes[] = {0, CXM_JOURNEY_STRICT | CXM_JOURNEY_COUNT_REPEATS,
				  CXM_JOURNEY_RESTART | CXM_JOURNEY_EQUAL_TIMES_HOLD,
				  CXM_JOURNEY_STRICT_ORDER, CXM_JOURNEY_STRICT_DEDUP};
	for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		world all, h0, h1;
		world *half[2] = {&h0, &h1};
		world_new(&all, NULL);
		world_new(&h0, NULL);
		world_new(&h1, NULL);
		opts(&all, modes[m], 2 * DAY);
		opts(&h0, modes[m], 2 * DAY);
		opts(&h1, modes[m], 2 * DAY);
		feed_random(&all, half, 100 + m);
		world *ws[3] = {&all, &h0, &h1};
		for (int i = 0; i < 3; i++) {
			ws[i]->clk.now = all.clk.now + 3 * DAY;
			assert_int_equal(cxm_journey_sweep(NULL, ws[i]->ctx, CXM_NOW), CXM_OK);
		}
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = all.lead;
		q.span_ms = 40 * DAY;
		for (int b = 0; b < 3; b++) {
			q.channel = b == 1 ? CXM_CHANNEL_WEB : 0;
			q.segment = b == 2 ? all.region : CXM_NONE;
			q.segment_value = all.east;
			/* every event has a cohort: over everything, the same totals */
			funnel evt = run_fn(&all, &q, false), co = run_fn(&all, &q, true);
			assert_true(co.f.entered > 50);
			assert_same(&co, &evt);
			/* hour by hour adds up to the whole */
			funnel acc;
			memset(&acc, 0, sizeof acc);
			for (int64_t a = T0 - 21 * DAY; a < all.clk.now; a += HOUR) {
				cxm_funnel_query qh = q;
				qh.end_ms = a + HOUR - 1;
				qh.span_ms = HOUR;
				funnel x = run_fn(&all, &qh, true);
				acc = sum2(&acc, &x);
			}
			assert_same(&acc, &co);
			/* two contexts of disjoint customers add up, and merge into one */
			funnel x0 = run_fn(&h0, &q, true), x1 = run_fn(&h1, &q, true), s = sum2(&x0, &x1);
			assert_same(&s, &co);
		}
		/* merge, and a snapshot round trip */
		q.channel = 0;
		q.segment = CXM_NONE;
		funnel co = run_fn(&all, &q, true);
		assert_int_equal(cxm_merge(h0.ctx, h1.ctx), CXM_OK);
		funnel merged = run_fn(&h0, &q, true);
		assert_same(&merged, &co);
		world back;
		snapshot_copy(&back, &all);
		funnel loaded = run_fn(&back, &q, true);
		assert_same(&loaded, &co);
		membuf mb = {0};
		assert_int_equal(cxm_snapshot_write(h1.ctx, membuf_write, &mb), CXM_OK);
		world h2;
		world_new(&h2, NULL);
		opts(&h2, modes[m], 2 * DAY);
		assert_int_equal(cxm_snapshot_merge_mem(h2.ctx, mb.p, mb.len), CXM_OK);
		free(mb.p);
		funnel one = run_fn(&h2, &q, true), x1 = run_fn(&h1, &q, true);
		assert_same(&one, &x1);
		cxm_context_free(h2.ctx);
		cxm_context_free(back.ctx);
		for (int i = 0; i < 3; i++)
			cxm_context_free(ws[i]->ctx);
	}
}

/* ---- retention, rewind -------------------------------------------------------------- */

static void retention_truncates(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 2;
	cfg.tiers[0] = (cxm_tier){MIN, 60, 0};
	cfg.tiers[1] = (cxm_tier){HOUR, 24, 0}; /* keeps a day */
	world w;
	world_new(&w, &cfg);
	opts(&w, 0, 3 * DAY);
	for (int d = 0; d < 5; d++) {
		char id[16];
		snprintf(id, sizeof id, "d%d", d);
		TOUCH(&w, w.web, T0 + d * DAY, id);
		TOUCH(&w, w.deal, T0 + d * DAY + 2 * HOUR, id);
	}
	/* the newest day's cohort is kept; the first days' are behind the horizon */
	funnel all = cohort(&w, T0, T0 + 5 * DAY);
	assert_true(all.f.flags & CXM_RESULT_TRUNCATED);
	assert_true(all.f.start_ms > T0 + 3 * DAY);
	assert_int_equal(all.f.entered, 1);
	assert_int_equal(all.f.completed, 1);
	funnel last = cohort(&w, T0 + 4 * DAY, T0 + 4 * DAY + HOUR);
	assert_int_equal(last.f.flags & CXM_RESULT_TRUNCATED, 0);
	assert_int_equal(last.f.entered, 1);
	/* an old customer's step now counts nowhere, as in an old bucket */
	assert_int_equal(touch(&w, w.demo, T0 + 4 * DAY + 3 * HOUR, "d0", CXM_NONE), CXM_OK);
	cxm_context_free(w.ctx);
}

static void rewind_drops_touched_cohorts(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	opts(&w, 0, 30 * DAY);
	const int64_t A = T0, B = T0 + 2 * HOUR;
	TOUCH(&w, w.web, A + MIN, "a");
	TOUCH(&w, w.demo, A + 30 * MIN, "a");
	TOUCH(&w, w.web, B + MIN, "b");
	TOUCH(&w, w.web, A + 10 * MIN, "late");
	TOUCH(&w, w.demo, B + 90 * MIN, "late"); /* cohort A, counted after the cut */
	uint64_t gone = 0;
	assert_int_equal(cxm_rewind(&gone, w.ctx, B + 30 * MIN), CXM_OK);
	assert_true(gone >= 2);
	funnel a = cohort(&w, A, A + HOUR);
	assert_int_equal(a.f.entered, 0); /* it counted an event after the cut: gone whole */
	funnel b = cohort(&w, B, B + HOUR);
	assert_int_equal(b.f.entered, 1); /* held nothing after the cut */
	cxm_context_free(w.ctx);
}

/* ---- bad input ---------------------------------------------------------------------- */

static void bad_input(void **state)
{
	(void)state;
	world w;
	world_new(&w, NULL);
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[4] = {{.size = sizeof st[0]}};
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = w.lead;
	q.span_ms = DAY;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, NULL, &q), CXM_ERR_INVALID);
	assert_int_equal(cxm_funnel_cohort_run(NULL, st, 4, w.ctx, &q), CXM_ERR_INVALID);
	assert_int_equal(cxm_funnel_cohort_run(&f, NULL, 4, w.ctx, &q), CXM_ERR_INVALID);
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 3, w.ctx, &q), CXM_ERR_LIMIT);
	cxm_funnel_query b = q;
	b.journey = 99;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_UNKNOWN_ID);
	b = q;
	b.span_ms = 0;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_OUT_OF_RANGE);
	b = q;
	b.end_ms = -5;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_OUT_OF_RANGE);
	b = q;
	b.channel = CXM_CHANNEL_WEB;
	b.segment = w.region;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_INVALID);
	b = q;
	b.channel = 77;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_INVALID);
	b = q;
	b.segment = w.region;
	b.segment_value = 3;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_UNKNOWN_ID);
	b = q;
	b.reserved[2] = 1;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_UNSUPPORTED);
	b = q;
	b.size = 8;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &b), CXM_ERR_VERSION);
	cxm_funnel small = {.size = 16};
	assert_int_equal(cxm_funnel_cohort_run(&small, st, 4, w.ctx, &q), CXM_ERR_VERSION);
	/* nothing written on an error */
	assert_int_equal(f.entered, 0);
	assert_int_equal(f.n_steps, 0);
	/* a journey nobody entered: empty, not an error */
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 4, w.ctx, &q), CXM_OK);
	assert_true(f.flags & CXM_RESULT_EMPTY);
	assert_int_equal(f.n_steps, 4);
	cxm_context_free(w.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hand_worked),
		cmocka_unit_test(brute_force_months),
		cmocka_unit_test(every_mode_totals),
		cmocka_unit_test(retention_truncates),
		cmocka_unit_test(rewind_drops_touched_cohorts),
		cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
