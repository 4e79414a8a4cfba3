/* Triggers and the event queue: rules, scopes, boundaries, the queue's
 * overflow accounting and ordering, several feeding and polling threads
 * (suite stress, under ThreadSanitizer), and every bad argument. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id journey, ivr, agent, chat, other;
	cxm_id nps, csat, aht, resolved, volume, cxi;
	cxm_id tier;
	uint32_t gold, silver;
} fx;

static const uint8_t KEY[16] = "0123456789abcdef";

static void fx_make(fx *f, uint32_t queue, uint32_t max_triggers)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0 + HOUR;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.event_queue = queue;
	cfg.max_triggers = max_triggers;
	memcpy(cfg.customer_key, KEY, sizeof cfg.customer_key);
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	cxm_context *c = f->ctx;
	const char *steps[] = {"contact", "resolution"};
	assert_int_equal(cxm_journey_define(&f->journey, c, "support", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->ivr, c, "ivr", CXM_CHANNEL_PHONE, f->journey, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->agent, c, "agent", CXM_CHANNEL_PHONE, f->journey, 1),
			 CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->chat, c, "chat", CXM_CHANNEL_CHAT, f->journey, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->other, c, "web", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	struct {
		cxm_id *id;
		const char *name;
		cxm_preset p;
	} ms[] = {{&f->nps, "nps", CXM_PRESET_NPS},	   {&f->csat, "csat", CXM_PRESET_CSAT5},
		  {&f->aht, "aht", CXM_PRESET_DURATION},   {&f->resolved, "fcr", CXM_PRESET_RATE},
		  {&f->volume, "calls", CXM_PRESET_VOLUME}, {&f->cxi, "cxi", CXM_PRESET_CXI}};
	for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		assert_int_equal(cxm_metric_preset(&d, ms[i].p), CXM_OK);
		assert_int_equal(cxm_metric_define(ms[i].id, c, ms[i].name, &d), CXM_OK);
	}
	assert_int_equal(cxm_segment_define(&f->tier, c, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_value(&f->gold, c, f->tier, "gold"), CXM_OK);
	assert_int_equal(cxm_segment_value(&f->silver, c, f->tier, "silver"), CXM_OK);
}

static cxm_id rule(fx *f, cxm_id metric, cxm_cmp op, double x, cxm_scope scope, cxm_id id, cxm_id step)
{
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = metric;
	d.op = op;
	d.threshold = x;
	d.scope = scope;
	d.id = id;
	d.step = step;
	cxm_id out = 12345;
	cxm_status st = cxm_trigger_define(&out, f->ctx, &d);
	if (st)
		fail_msg("define: %s: %s", cxm_strerror(st), cxm_errmsg(f->ctx));
	return out;
}

/* One interaction of customer `who` (NULL: none) with measures ms. */
static cxm_status feed(fx *f, int64_t t, cxm_id tp, const char *who, const uint32_t *segs, size_t n_segs,
		       const cxm_measure *ms, size_t n)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.customer = who;
	ix.customer_len = who ? strlen(who) : 0;
	ix.segments = segs;
	ix.n_segments = n_segs;
	ix.measures = ms;
	ix.n_measures = n;
	return cxm_feed(f->ctx, &ix);
}

static size_t poll_all(fx *f, cxm_event *ev, size_t cap)
{
	ev[0].size = sizeof(cxm_event);
	size_t n = 99;
	assert_int_equal(cxm_events_poll(ev, cap, &n, f->ctx), CXM_OK);
	return n;
}

static void test_detractor_event(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, 0);
	cxm_id r = rule(&f, f.nps, CXM_CMP_LE, 6, CXM_SCOPE_TOUCHPOINT, f.agent, 0);
	assert_int_equal(r, 0);
	cxm_event ev[8];
	assert_int_equal(poll_all(&f, ev, 8), 0); /* nothing yet */

	const int64_t t = T0 + 30 * MIN;
	cxm_measure promoter = {f.nps, 0, 9}, detractor = {f.nps, 0, 6}, low = {f.nps, 0, 3};
	assert_int_equal(feed(&f, t, f.agent, "alice", NULL, 0, &promoter, 1), CXM_OK);
	assert_int_equal(feed(&f, t + 1, f.agent, "bob", NULL, 0, &detractor, 1), CXM_OK);
	assert_int_equal(feed(&f, t + 2, f.ivr, "carol", NULL, 0, &low, 1), CXM_OK); /* other touchpoint */
	assert_int_equal(feed(&f, t + 3, f.agent, NULL, NULL, 0, &low, 1), CXM_OK);  /* anonymous */

	memset(ev, 0xab, sizeof ev);
	assert_int_equal(poll_all(&f, ev, 8), 2);
	uint64_t bob[2];
	assert_int_equal(cxm_customer_hash(bob, f.ctx, "bob", 3), CXM_OK);
	assert_int_equal(ev[0].kind, CXM_EVENT_TRIGGER);
	assert_int_equal(ev[0].rule, r);
	assert_int_equal(ev[0].seq, 0);
	assert_true(ev[0].customer[0] == bob[0] && ev[0].customer[1] == bob[1]);
	assert_int_equal(ev[0].time_ms, t + 1);
	assert_int_equal(ev[0].touchpoint, f.agent);
	assert_int_equal(ev[0].metric, f.nps);
	assert_int_equal(ev[0].item, 0);
	assert_double_equal(ev[0].value, 6, 0);
	assert_int_equal(ev[0].reserved0, 0);
	assert_int_equal(ev[0].reserved[3], 0);
	assert_int_equal(ev[0].size, sizeof(cxm_event));
	assert_int_equal(ev[1].seq, 1);
	assert_true(ev[1].customer[0] == 0 && ev[1].customer[1] == 0);
	assert_double_equal(ev[1].value, 3, 0);
	assert_int_equal(poll_all(&f, ev, 8), 0); /* taken once */

	/* the same customer hashes alike in another context with the same key
	 * only: here, a random key per context */
	uint64_t again[2];
	assert_int_equal(cxm_customer_hash(again, f.ctx, "bob", 3), CXM_OK);
	assert_true(again[0] == bob[0] && again[1] == bob[1]);

	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.events_queued, 2);
	assert_int_equal(st.events_dropped, 0);
	cxm_context_free(f.ctx);
}

/* Each comparison at, just below and just above its threshold. */
static void test_boundaries(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, 0);
	const cxm_cmp ops[] = {CXM_CMP_LT, CXM_CMP_LE, CXM_CMP_GT, CXM_CMP_GE, CXM_CMP_EQ, CXM_CMP_NE};
	/* value 4 vs threshold 5, 5 vs 5, 6 vs 5: which of them match */
	const int want[6][3] = {{1, 0, 0}, {1, 1, 0}, {0, 0, 1}, {0, 1, 1}, {0, 1, 0}, {1, 0, 1}};
	for (int o = 0; o < 6; o++)
		assert_int_equal(rule(&f, f.csat, ops[o], 4, CXM_SCOPE_ALL, 0, 0), (cxm_id)o);
	/* CSAT is 1-5: values 3, 4, 5 against threshold 4 */
	for (int v = 3; v <= 5; v++) {
		cxm_measure m = {f.csat, 0, v};
		assert_int_equal(feed(&f, T0 + v * MIN, f.ivr, NULL, NULL, 0, &m, 1), CXM_OK);
	}
	cxm_event ev[32];
	size_t n = poll_all(&f, ev, 32);
	int got[6][3] = {{0}};
	for (size_t i = 0; i < n; i++)
		got[ev[i].rule][(int)ev[i].value - 3]++;
	for (int o = 0; o < 6; o++)
		for (int v = 0; v < 3; v++)
			if (got[o][v] != want[o][v])
				fail_msg("op %d value %d: %d events, expected %d", o, v + 3, got[o][v], want[o][v]);
	cxm_context_free(f.ctx);
}

static void test_scopes(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, 0);
	cxm_id all = rule(&f, f.aht, CXM_CMP_GE, 600, CXM_SCOPE_ALL, 0, 0);
	cxm_id step1 = rule(&f, f.aht, CXM_CMP_GE, 600, CXM_SCOPE_STEP, f.journey, 1);
	cxm_id jour = rule(&f, f.aht, CXM_CMP_GE, 600, CXM_SCOPE_JOURNEY, f.journey, 0);
	cxm_id phone = rule(&f, f.aht, CXM_CMP_GE, 600, CXM_SCOPE_CHANNEL, CXM_CHANNEL_PHONE, 0);
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = f.aht;
	d.op = CXM_CMP_GE;
	d.threshold = 600;
	d.segment = f.tier;
	d.segment_value = f.gold;
	cxm_id gold;
	assert_int_equal(cxm_trigger_define(&gold, f.ctx, &d), CXM_OK);

	cxm_measure m = {f.aht, 0, 700};
	uint32_t g = f.gold, s = f.silver;
	const struct {
		cxm_id tp;
		const uint32_t *seg;
		uint32_t want; /* bit per rule id */
	} cases[] = {
		{f.ivr, NULL, 1u << all | 1u << jour | 1u << phone},
		{f.agent, &s, 1u << all | 1u << step1 | 1u << jour | 1u << phone},
		{f.chat, &g, 1u << all | 1u << step1 | 1u << jour | 1u << gold},
		{f.other, &g, 1u << all | 1u << gold},
		{f.other, NULL, 1u << all},
	};
	cxm_event ev[16];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(feed(&f, T0 + (int64_t)i * MIN, cases[i].tp, NULL, cases[i].seg,
				      cases[i].seg ? 1 : 0, &m, 1),
				 CXM_OK);
		size_t n = poll_all(&f, ev, 16);
		uint32_t bits = 0;
		for (size_t j = 0; j < n; j++) {
			assert_int_equal(ev[j].touchpoint, cases[i].tp);
			bits |= 1u << ev[j].rule;
		}
		if (bits != cases[i].want)
			fail_msg("case %zu: rules 0x%x matched, expected 0x%x", i, bits, cases[i].want);
	}
	/* a value below the threshold matches nothing, anywhere */
	cxm_measure quick = {f.aht, 0, 599.5};
	assert_int_equal(feed(&f, T0 + 9 * MIN, f.agent, NULL, &g, 1, &quick, 1), CXM_OK);
	assert_int_equal(poll_all(&f, ev, 16), 0);
	cxm_context_free(f.ctx);
}

/* A rate's failure, an INDEX question, two measures of one metric in one
 * interaction (one event), a refused interaction (none), off and on. */
static void test_rules_and_refusals(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, 0);
	cxm_id fail = rule(&f, f.resolved, CXM_CMP_EQ, 0, CXM_SCOPE_STEP, f.journey, 1);
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = f.cxi;
	d.item = 2;
	d.op = CXM_CMP_LE;
	d.threshold = 4;
	cxm_id q2;
	assert_int_equal(cxm_trigger_define(&q2, f.ctx, &d), CXM_OK);
	cxm_id low = rule(&f, f.nps, CXM_CMP_LE, 6, CXM_SCOPE_ALL, 0, 0);

	cxm_event ev[16];
	cxm_measure unresolved[] = {{f.resolved, 0, 0}, {f.nps, 0, 2}, {f.nps, 0, 5}};
	assert_int_equal(feed(&f, T0, f.agent, "dan", NULL, 0, unresolved, 3), CXM_OK);
	size_t n = poll_all(&f, ev, 16);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].rule, fail);
	assert_int_equal(ev[1].rule, low);
	assert_double_equal(ev[1].value, 2, 0); /* the first matching measure */

	/* question 2 of the index, not questions 0 or 1 */
	cxm_measure cx[] = {{f.cxi, 0, 1}, {f.cxi, 1, 2}, {f.cxi, 2, 9}};
	assert_int_equal(feed(&f, T0 + MIN, f.ivr, NULL, NULL, 0, cx, 3), CXM_OK);
	assert_int_equal(poll_all(&f, ev, 16), 0);
	cx[2].value = 4;
	assert_int_equal(feed(&f, T0 + MIN, f.ivr, NULL, NULL, 0, cx, 3), CXM_OK);
	assert_int_equal(poll_all(&f, ev, 16), 1);
	assert_int_equal(ev[0].rule, q2);
	assert_int_equal(ev[0].item, 2);

	/* refused: an NPS of 11 in the same interaction as a detractor's 3, and
	 * an interaction too late: no event, nothing counted */
	cxm_measure bad[] = {{f.nps, 0, 3}, {f.nps, 0, 11}};
	assert_int_not_equal(feed(&f, T0 + 2 * MIN, f.ivr, NULL, NULL, 0, bad, 2), CXM_OK);
	cxm_measure late = {f.nps, 0, 0};
	assert_int_equal(feed(&f, T0 - DAY, f.ivr, NULL, NULL, 0, &late, 1), CXM_ERR_TOO_LATE);
	assert_int_equal(poll_all(&f, ev, 16), 0);

	/* off, then on again */
	assert_int_equal(cxm_trigger_enable(f.ctx, low, 0), CXM_OK);
	int on = -1;
	cxm_trigger_def back = {.size = sizeof back};
	assert_int_equal(cxm_trigger_get(&back, &on, f.ctx, low), CXM_OK);
	assert_int_equal(on, 0);
	assert_int_equal(back.metric, f.nps);
	assert_int_equal(back.op, CXM_CMP_LE);
	assert_double_equal(back.threshold, 6, 0);
	assert_int_equal(back.segment, CXM_NONE);
	assert_int_equal(feed(&f, T0 + 3 * MIN, f.ivr, NULL, NULL, 0, &late, 1), CXM_OK);
	assert_int_equal(poll_all(&f, ev, 16), 0);
	assert_int_equal(cxm_trigger_enable(f.ctx, low, 7), CXM_OK);
	assert_int_equal(cxm_trigger_get(&back, &on, f.ctx, low), CXM_OK);
	assert_int_equal(on, 1);
	assert_int_equal(feed(&f, T0 + 3 * MIN, f.ivr, NULL, NULL, 0, &late, 1), CXM_OK);
	assert_int_equal(poll_all(&f, ev, 16), 1);

	/* batches trigger as single feeds do */
	cxm_interaction ixs[3];
	cxm_measure one[3] = {{f.nps, 0, 1}, {f.nps, 0, 10}, {f.nps, 0, 4}};
	for (int i = 0; i < 3; i++) {
		ixs[i] = (cxm_interaction)CXM_INTERACTION_INIT;
		ixs[i].time_ms = T0 + 4 * MIN;
		ixs[i].touchpoint = f.chat;
		ixs[i].measures = &one[i];
		ixs[i].n_measures = 1;
	}
	size_t accepted = 0;
	assert_int_equal(cxm_feed_batch(&accepted, f.ctx, ixs, 3, NULL, 0, NULL), CXM_OK);
	assert_int_equal(accepted, 3);
	assert_int_equal(poll_all(&f, ev, 16), 2);
	cxm_context_free(f.ctx);
}

/* A queue of 4: the fifth and later events are dropped and counted, their
 * numbers missing; draining makes room again; a caller's larger struct
 * gets its tail zeroed, a smaller one is refused. */
static void test_overflow(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 3, 0); /* rounded up to 4 */
	rule(&f, f.nps, CXM_CMP_LE, 6, CXM_SCOPE_ALL, 0, 0);
	cxm_measure m = {f.nps, 0, 0};
	for (int i = 0; i < 10; i++)
		assert_int_equal(feed(&f, T0 + i, f.ivr, NULL, NULL, 0, &m, 1), CXM_OK);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.events_queued, 4);
	assert_int_equal(st.events_dropped, 6);

	struct big {
		cxm_event e;
		uint64_t newer[2];
	} big[8];
	memset(big, 0x5a, sizeof big);
	big[0].e.size = sizeof(struct big);
	size_t n = 0;
	assert_int_equal(cxm_events_poll(&big[0].e, 3, &n, f.ctx), CXM_OK);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(big[i].e.seq, i);
		assert_int_equal(big[i].e.time_ms, T0 + i);
		assert_int_equal(big[i].e.size, sizeof(struct big));
		assert_true(big[i].newer[0] == 0 && big[i].newer[1] == 0);
	}
	assert_true(big[3].e.size != sizeof(struct big)); /* not written past n */

	for (int i = 10; i < 13; i++)
		assert_int_equal(feed(&f, T0 + i, f.ivr, NULL, NULL, 0, &m, 1), CXM_OK);
	cxm_event ev[8];
	assert_int_equal(poll_all(&f, ev, 8), 4);
	assert_int_equal(ev[0].seq, 3);
	assert_int_equal(ev[1].seq, 10); /* 4 … 9 were dropped */
	assert_int_equal(ev[3].seq, 12);
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.events_queued, 7);
	assert_int_equal(st.events_dropped, 6);

	/* the exposition carries both counters */
	char text[16384];
	size_t len = 0;
	cxm_export_options eo;
	assert_int_equal(cxm_export_options_init(&eo, sizeof eo), CXM_OK);
	assert_int_equal(cxm_export_text(&len, f.ctx, &eo, text, sizeof text), CXM_OK);
	assert_non_null(strstr(text, "# TYPE cxm_trigger_events counter\n"));
	assert_non_null(strstr(text, "\ncxm_trigger_events_total{outcome=\"queued\"} 7\n"));
	assert_non_null(strstr(text, "\ncxm_trigger_events_total{outcome=\"dropped\"} 6\n"));

	/* a poll of 0 events, and an older caller's smaller struct */
	assert_int_equal(cxm_events_poll(NULL, 0, &n, f.ctx), CXM_OK);
	assert_int_equal(n, 0);
	ev[0].size = sizeof(cxm_event) - 8;
	n = 77;
	assert_int_equal(cxm_events_poll(ev, 8, &n, f.ctx), CXM_ERR_VERSION);
	assert_int_equal(n, 77);
	cxm_context_free(f.ctx);
}

/* ---- several threads: every match is either queued (and polled exactly
 * once) or dropped, and counted as such ---------------------------------- */

#define FEEDERS 4
#define PER_FEEDER 20000

typedef struct shared {
	fx *f;
	_Atomic int feeding;
	_Atomic uint64_t polled;
	unsigned char *seen; /* per seq */
	pthread_mutex_t seen_lock;
	int id;
} shared;

typedef struct feeder_arg {
	shared *sh;
	int id;
} feeder_arg;

static void *feeder(void *p)
{
	feeder_arg *a = p;
	fx *f = a->sh->f;
	char who[16];
	for (int i = 0; i < PER_FEEDER; i++) {
		cxm_measure m = {f->nps, 0, (double)(i % 11)}; /* 0..6 match: 7 of 11 */
		snprintf(who, sizeof who, "c%d-%d", a->id, i % 50);
		cxm_status st = feed(f, T0 + (i % 60) * 1000, a->id % 2 ? f->agent : f->ivr, who, NULL, 0, &m, 1);
		if (st)
			fail_msg("feed: %s", cxm_strerror(st));
	}
	atomic_fetch_sub(&a->sh->feeding, 1);
	return NULL;
}

static void drain(shared *sh)
{
	cxm_event ev[64];
	ev[0].size = sizeof(cxm_event);
	size_t n;
	do {
		assert_int_equal(cxm_events_poll(ev, 64, &n, sh->f->ctx), CXM_OK);
		pthread_mutex_lock(&sh->seen_lock);
		for (size_t i = 0; i < n; i++) {
			uint64_t s = ev[i].seq;
			if (s >= (uint64_t)FEEDERS * PER_FEEDER || sh->seen[s])
				fail_msg("event %llu polled twice or out of range", (unsigned long long)s);
			sh->seen[s] = 1;
			if (ev[i].value > 6)
				fail_msg("an NPS of %g matched a rule <= 6", ev[i].value);
		}
		pthread_mutex_unlock(&sh->seen_lock);
		atomic_fetch_add(&sh->polled, n);
	} while (n);
}

static void *poller(void *p)
{
	shared *sh = p;
	while (atomic_load(&sh->feeding) > 0)
		drain(sh);
	drain(sh);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 1024, 0);
	rule(&f, f.nps, CXM_CMP_LE, 6, CXM_SCOPE_ALL, 0, 0);
	shared sh = {.f = &f};
	atomic_init(&sh.feeding, FEEDERS);
	atomic_init(&sh.polled, 0);
	sh.seen = calloc((size_t)FEEDERS * PER_FEEDER, 1);
	assert_non_null(sh.seen);
	pthread_mutex_init(&sh.seen_lock, NULL);
	pthread_t fe[FEEDERS], po[2];
	feeder_arg args[FEEDERS];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&po[i], NULL, poller, &sh), 0);
	for (int i = 0; i < FEEDERS; i++) {
		args[i] = (feeder_arg){&sh, i};
		assert_int_equal(pthread_create(&fe[i], NULL, feeder, &args[i]), 0);
	}
	for (int i = 0; i < FEEDERS; i++)
		pthread_join(fe[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(po[i], NULL);
	drain(&sh);

	/* the matches: i % 11 <= 6 */
	uint64_t matches = 0;
	for (int i = 0; i < PER_FEEDER; i++)
		matches += i % 11 <= 6;
	matches *= FEEDERS;
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f.ctx), CXM_OK);
	assert_int_equal(st.events_queued + st.events_dropped, matches);
	assert_int_equal(atomic_load(&sh.polled), st.events_queued);
	uint64_t seen = 0;
	for (uint64_t s = 0; s < matches; s++)
		seen += sh.seen[s];
	assert_int_equal(seen, st.events_queued);
	for (uint64_t s = matches; s < (uint64_t)FEEDERS * PER_FEEDER; s++)
		assert_int_equal(sh.seen[s], 0);
	print_message("threads: %llu matches, %llu queued and polled, %llu dropped\n",
		      (unsigned long long)matches, (unsigned long long)st.events_queued,
		      (unsigned long long)st.events_dropped);
	free(sh.seen);
	pthread_mutex_destroy(&sh.seen_lock);
	cxm_context_free(f.ctx);
}

/* ---- snapshots: rules come back with a load, a merge keeps the target's - */

static void test_snapshot(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 16, 8);
	cxm_id low = rule(&f, f.nps, CXM_CMP_LE, 6, CXM_SCOPE_STEP, f.journey, 1);
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = f.cxi;
	d.item = 1;
	d.op = CXM_CMP_LT;
	d.threshold = 5.5;
	d.segment = f.tier;
	d.segment_value = f.silver;
	cxm_id cx, off;
	assert_int_equal(cxm_trigger_define(&cx, f.ctx, &d), CXM_OK);
	off = rule(&f, f.aht, CXM_CMP_GT, 60, CXM_SCOPE_CHANNEL, CXM_CHANNEL_CHAT, 0);
	assert_int_equal(cxm_trigger_enable(f.ctx, off, 0), CXM_OK);
	cxm_measure m = {f.nps, 0, 3};
	assert_int_equal(feed(&f, T0, f.agent, "eve", NULL, 0, &m, 1), CXM_OK);

	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(f.ctx, membuf_write, &mb), CXM_OK);
	test_clock clk = {T0 + HOUR};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.event_queue = 16;
	cfg.max_triggers = 8;
	memcpy(cfg.customer_key, KEY, sizeof cfg.customer_key);
	cxm_context *b = test_ctx_cfg(&clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(b, mb.p, mb.len), CXM_OK);
	for (cxm_id i = 0; i < 3; i++) {
		cxm_trigger_def x = {.size = sizeof x}, y = {.size = sizeof y};
		int on_a = -1, on_b = -2;
		assert_int_equal(cxm_trigger_get(&x, &on_a, f.ctx, i), CXM_OK);
		assert_int_equal(cxm_trigger_get(&y, &on_b, b, i), CXM_OK);
		assert_memory_equal(&x, &y, sizeof x);
		assert_int_equal(on_a, on_b);
	}
	cxm_trigger_def none = {.size = sizeof none};
	assert_int_equal(cxm_trigger_get(&none, NULL, b, 3), CXM_ERR_UNKNOWN_ID);
	/* the loaded rules work; events queued before the save are not in it */
	cxm_event ev[8];
	ev[0].size = sizeof ev[0];
	size_t n;
	assert_int_equal(cxm_events_poll(ev, 8, &n, b), CXM_OK);
	assert_int_equal(n, 0);
	cxm_measure q1[] = {{f.cxi, 0, 9}, {f.cxi, 1, 5}, {f.cxi, 2, 9}};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0 + MIN;
	ix.touchpoint = f.chat;
	ix.segments = &f.silver;
	ix.n_segments = 1;
	ix.measures = q1;
	ix.n_measures = 3;
	assert_int_equal(cxm_feed(b, &ix), CXM_OK);
	assert_int_equal(cxm_events_poll(ev, 8, &n, b), CXM_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].rule, cx);
	assert_int_equal(ev[0].seq, 0);
	(void)low;

	/* a reader that allows fewer rules refuses the file, and says why */
	test_clock clk2 = {T0 + HOUR};
	cxm_config small = CXM_CONFIG_INIT;
	small.max_triggers = 2;
	memcpy(small.customer_key, KEY, sizeof small.customer_key);
	cxm_context *c = test_ctx_cfg(&clk2, &small);
	assert_int_equal(cxm_snapshot_load_mem(c, mb.p, mb.len), CXM_ERR_LIMIT);
	assert_non_null(strstr(cxm_errmsg(c), "trigger 2"));
	cxm_context_free(c);

	/* a merge keeps the target's rules: the twin's one, not the file's three
	 * (which its limit of 2 could not even hold) */
	fx twin;
	fx_make(&twin, 0, 2);
	cxm_id own = rule(&twin, twin.csat, CXM_CMP_EQ, 1, CXM_SCOPE_ALL, 0, 0);
	if (cxm_snapshot_merge_mem(twin.ctx, mb.p, mb.len))
		fail_msg("merge: %s", cxm_errmsg(twin.ctx));
	cxm_trigger_def mine = {.size = sizeof mine};
	assert_int_equal(cxm_trigger_get(&mine, NULL, twin.ctx, own), CXM_OK);
	assert_int_equal(mine.metric, twin.csat);
	assert_int_equal(cxm_trigger_get(&mine, NULL, twin.ctx, 1), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(twin.ctx);

	/* a context without rules writes no TRIGGERS section: its file is
	 * what it was before triggers existed (same length as a twin's) */
	free(mb.p);
	cxm_context_free(b);
	cxm_context_free(f.ctx);
}

/* ---- bad arguments: each its own code, nothing defined ------------------ */

static void test_bad_arguments(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, 0, 2);
	cxm_context *c = f.ctx;
	cxm_id out = 77;
	cxm_trigger_def d;
	assert_int_equal(cxm_trigger_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_trigger_def_init(&d, sizeof d - 1), CXM_ERR_VERSION);
	assert_int_equal(cxm_trigger_def_init(&d, sizeof d), CXM_OK);
	assert_int_equal(d.segment, CXM_NONE);
	assert_int_equal(d.scope, CXM_SCOPE_ALL);
	d.metric = f.nps;
	d.op = CXM_CMP_LE;
	d.threshold = 6;

	assert_int_equal(cxm_trigger_define(NULL, c, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_trigger_define(&out, NULL, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_trigger_define(&out, c, NULL), CXM_ERR_INVALID);
	size_t nb = 0;
#define BAD(code, stmt)                                                                            \
	do {                                                                                       \
		cxm_trigger_def b = d;                                                             \
		fx *F = &f;                                                                        \
		(void)F;                                                                           \
		stmt;                                                                              \
		cxm_status st_ = cxm_trigger_define(&out, c, &b);                                  \
		if (st_ != (code))                                                                 \
			fail_msg("%s: %s, expected %s", #stmt, cxm_strerror(st_), cxm_strerror(code)); \
		assert_int_equal(out, 77);                                                         \
		nb++;                                                                              \
	} while (0)
	BAD(CXM_ERR_VERSION, b.size = sizeof b - 8);
	BAD(CXM_ERR_UNSUPPORTED, b.reserved[2] = 1);
	BAD(CXM_ERR_UNKNOWN_ID, b.metric = 99);
	BAD(CXM_ERR_KIND, b.metric = F->volume);
	BAD(CXM_ERR_OUT_OF_RANGE, b.item = 1);
	BAD(CXM_ERR_OUT_OF_RANGE, (b.metric = F->cxi, b.item = 3));
	BAD(CXM_ERR_INVALID, b.op = (cxm_cmp)6);
	BAD(CXM_ERR_NOT_FINITE, b.threshold = NAN);
	BAD(CXM_ERR_NOT_FINITE, b.threshold = -INFINITY);
	BAD(CXM_ERR_INVALID, b.scope = (cxm_scope)9);
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_TOUCHPOINT, b.id = 40));
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_JOURNEY, b.id = 3));
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_STEP, b.id = F->journey, b.step = 2));
	BAD(CXM_ERR_UNKNOWN_ID, (b.scope = CXM_SCOPE_CHANNEL, b.id = 99));
	BAD(CXM_ERR_UNKNOWN_ID, b.segment = 5);
	BAD(CXM_ERR_UNKNOWN_ID, (b.segment = F->tier, b.segment_value = 2));
	assert_int_equal(nb, 16);
#undef BAD
	/* a caller's newer struct with its tail zero is fine */
	struct {
		cxm_trigger_def d;
		uint64_t tail;
	} newer = {d, 0};
	newer.d.size = sizeof newer;
	assert_int_equal(cxm_trigger_define(&out, c, &newer.d), CXM_OK);
	assert_int_equal(out, 0);
	newer.tail = 1;
	assert_int_equal(cxm_trigger_define(&out, c, &newer.d), CXM_ERR_UNSUPPORTED);
	assert_int_equal(cxm_trigger_define(&out, c, &d), CXM_OK);
	assert_int_equal(out, 1);
	out = 77;
	assert_int_equal(cxm_trigger_define(&out, c, &d), CXM_ERR_LIMIT); /* max_triggers 2 */
	assert_int_equal(out, 77);

	assert_int_equal(cxm_trigger_enable(NULL, 0, 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_trigger_enable(c, 2, 1), CXM_ERR_UNKNOWN_ID);
	cxm_trigger_def back = {.size = sizeof back};
	int on = 5;
	assert_int_equal(cxm_trigger_get(NULL, &on, c, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_trigger_get(&back, &on, NULL, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_trigger_get(&back, &on, c, 2), CXM_ERR_UNKNOWN_ID);
	back.size = 8;
	assert_int_equal(cxm_trigger_get(&back, &on, c, 0), CXM_ERR_VERSION);
	assert_int_equal(on, 5);
	back.size = sizeof back;
	assert_int_equal(cxm_trigger_get(&back, NULL, c, 0), CXM_OK);

	cxm_event ev[2];
	ev[0].size = sizeof ev[0];
	size_t n = 9;
	assert_int_equal(cxm_events_poll(ev, 2, NULL, c), CXM_ERR_INVALID);
	assert_int_equal(cxm_events_poll(ev, 2, &n, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_events_poll(NULL, 2, &n, c), CXM_ERR_INVALID);
	assert_int_equal(n, 9);

	uint64_t h[2] = {1, 2};
	char longid[300];
	memset(longid, 'x', sizeof longid);
	assert_int_equal(cxm_customer_hash(NULL, c, "a", 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_customer_hash(h, NULL, "a", 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_customer_hash(h, c, NULL, 1), CXM_ERR_INVALID);
	assert_int_equal(cxm_customer_hash(h, c, "a", 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_customer_hash(h, c, longid, sizeof longid), CXM_ERR_TOO_LONG);
	assert_true(h[0] == 1 && h[1] == 2);

	/* a context without triggers polls nothing */
	test_clock clk = {T0};
	cxm_context *none = test_ctx(&clk);
	n = 9;
	assert_int_equal(cxm_events_poll(ev, 2, &n, none), CXM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cxm_trigger_enable(none, 0, 1), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(none);

	/* limits of the configuration */
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_triggers = 65537;
	cxm_context *x = NULL;
	assert_int_equal(cxm_context_new(&x, &cfg), CXM_ERR_OUT_OF_RANGE);
	cfg.max_triggers = 0;
	cfg.event_queue = (1u << 20) + 1;
	assert_int_equal(cxm_context_new(&x, &cfg), CXM_ERR_OUT_OF_RANGE);
	assert_null(x);
	cxm_context_free(f.ctx);
}

/* Without memory for the queue, nothing is defined and the next rule,
 * with memory, is rule 0. */
static void test_no_memory(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.event_queue = 1u << 20; /* 64 MiB of cells */
	cfg.max_memory = 32u << 20;
	cxm_context *c = test_ctx_cfg(&clk, &cfg);
	cxm_metric_def md = {.size = sizeof md};
	cxm_id nps, tp;
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&nps, c, "nps", &md), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, c, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	cxm_stats before = {.size = sizeof before}, after = {.size = sizeof after};
	assert_int_equal(cxm_stats_get(&before, c), CXM_OK);
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = nps;
	d.op = CXM_CMP_LE;
	d.threshold = 6;
	cxm_id out = 77;
	assert_int_equal(cxm_trigger_define(&out, c, &d), CXM_ERR_NO_MEMORY);
	assert_int_equal(out, 77);
	assert_int_equal(cxm_stats_get(&after, c), CXM_OK);
	assert_int_equal(after.memory_bytes, before.memory_bytes);
	cxm_trigger_def back = {.size = sizeof back};
	assert_int_equal(cxm_trigger_get(&back, NULL, c, 0), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(feed1(c, T0, tp, nps, 0), CXM_OK);
	cxm_context_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detractor_event), cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_scopes),		cmocka_unit_test(test_rules_and_refusals),
		cmocka_unit_test(test_overflow),	cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_arguments),	cmocka_unit_test(test_no_memory),
		cmocka_unit_test(test_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
