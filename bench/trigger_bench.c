/* What triggers add to an interaction, measured against the same feed
 * without them in the same run.
 *
 *   trigger_bench [--interactions N] [--rounds R]
 *
 * One interaction of three measures (an NPS of 9, a handle time, a
 * resolution) fed N times in batches of 1000 into the current minute, so
 * that the feed itself is as cheap as it gets and what the rules add is
 * not lost in the noise of rolling buckets. Four contexts, fed in turn,
 * R rounds, best round each:
 *   none   no trigger
 *   one    one rule that does not match (NPS <= 6)
 *   ten    ten rules on the interaction's three metrics, none matching
 *   match  one rule that matches every interaction (NPS >= 9), the queue
 *          drained after every batch
 * Budget: a registered trigger adds <= 20 ns to an interaction that does
 * not match ("one" - "none").
 *
 * Then the survey governor: G customers (--customers, 1 000 000) each
 * invited once by a survey with a 7-day cool-down and a cap, and one
 * answer (cxm_survey_should_ask) per customer in a shuffled order, best
 * of R rounds. Budget: <= 200 ns an answer at 1 M customers; and the
 * bytes the governor holds per customer.
 *
 * Then 1000 metric alerts evaluated at once. Budget: <= 1 ms.
 *
 * Then in-journey signals: 10 000 customers contacting a journey's first
 * step over and over (every contact after the first a repeat contact, so
 * that every interaction reads and writes the customer's signal record),
 * fed with and without four signals (one of each kind, none firing but
 * the REPEAT once per customer), and a journey sweep of the 10 000 open
 * instances with and without a STUCK signal. No budget: reported. */
#include "benchutil.h"

#include <cxm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000

enum { NONE, ONE, TEN, MATCH, MODES };
static const char *const mode_name[MODES] = {"none", "one", "ten", "match"};

typedef struct setup {
	cxm_context *ctx;
	cxm_id tp, nps, aht, fcr;
} setup;

static int64_t fixed_clock(void *opaque)
{
	return *(const int64_t *)opaque;
}

static const int64_t T = INT64_C(1795392000000) + 30 * 60000;

static void rule(setup *s, cxm_id metric, cxm_cmp op, double x)
{
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = metric;
	d.op = op;
	d.threshold = x;
	cxm_id id;
	CHECK(s->ctx, cxm_trigger_define(&id, s->ctx, &d));
}

static void make(setup *s, int mode)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fixed_clock;
	cfg.clock_opaque = (void *)&T;
	cfg.event_queue = 4 * BATCH;
	CHECK(NULL, cxm_context_new(&s->ctx, &cfg));
	cxm_metric_def d = {.size = sizeof d};
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_NPS));
	CHECK(s->ctx, cxm_metric_define(&s->nps, s->ctx, "nps", &d));
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_DURATION));
	CHECK(s->ctx, cxm_metric_define(&s->aht, s->ctx, "aht", &d));
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_RATE));
	CHECK(s->ctx, cxm_metric_define(&s->fcr, s->ctx, "fcr", &d));
	CHECK(s->ctx, cxm_touchpoint_define(&s->tp, s->ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0));
	switch (mode) {
	case ONE: rule(s, s->nps, CXM_CMP_LE, 6); break;
	case TEN:
		for (int i = 0; i < 4; i++)
			rule(s, s->nps, CXM_CMP_LE, 3 + i);
		for (int i = 0; i < 3; i++)
			rule(s, s->aht, CXM_CMP_GE, 3600 * (i + 1));
		rule(s, s->fcr, CXM_CMP_EQ, 0);
		rule(s, s->nps, CXM_CMP_EQ, 0);
		rule(s, s->aht, CXM_CMP_LT, 1);
		break;
	case MATCH: rule(s, s->nps, CXM_CMP_GE, 9); break;
	}
}

/* Seconds to feed n interactions. */
static double run(setup *s, size_t n, cxm_interaction *ixs, cxm_event *ev)
{
	double t0 = now_s();
	for (size_t done = 0; done < n; done += BATCH) {
		size_t accepted = 0;
		CHECK(s->ctx, cxm_feed_batch(&accepted, s->ctx, ixs, BATCH, NULL, 0, NULL));
		if (accepted != BATCH)
			bench_die("accepted", s->ctx, CXM_ERR_INVALID);
		size_t got;
		do
			CHECK(s->ctx, cxm_events_poll(ev, BATCH, &got, s->ctx));
		while (got);
	}
	return now_s() - t0;
}

/* The governor at g customers: ns per answer (best round) and bytes per
 * customer. */
static void governor(size_t g, int rounds)
{
	counter cnt = {0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fixed_clock;
	cfg.clock_opaque = (void *)&T;
	cfg.allocator = counting_allocator(&cnt);
	cfg.max_customers = g > 1000000 ? (uint32_t)g : 0;
	cxm_context *ctx;
	CHECK(NULL, cxm_context_new(&ctx, &cfg));
	cxm_id tp, sv;
	CHECK(ctx, cxm_touchpoint_define(&tp, ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0));
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.min_since_invite_ms = 7 * 86400000LL;
	d.max_invites = 3;
	d.invites_window_ms = 90 * 86400000LL;
	CHECK(ctx, cxm_survey_define(&sv, ctx, "post-call", &d));
	char (*ids)[24] = malloc(g * sizeof *ids), (*asked)[24] = malloc(g * sizeof *asked);
	size_t *order = malloc(g * sizeof *order);
	if (!ids || !asked || !order)
		bench_die("malloc", NULL, CXM_ERR_NO_MEMORY);
	for (size_t i = 0; i < g; i++) {
		snprintf(ids[i], sizeof ids[i], "cust-%09u", (unsigned)i);
		order[i] = i;
	}
	uint64_t x = 88172645463325252u;
	for (size_t i = g - 1; i > 0; i--) { /* xorshift Fisher-Yates */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t j = (size_t)(x % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	/* the answers' ids in shuffled order, laid out as read: a host has
	 * the id at hand, so reading it is not the governor's cost */
	for (size_t i = 0; i < g; i++)
		memcpy(asked[i], ids[order[i]], sizeof asked[i]);
	const uint64_t before = atomic_load(&cnt.now);
	for (size_t i = 0; i < g; i++)
		CHECK(ctx, cxm_survey_record(ctx, sv, ids[i], 14, CXM_SURVEY_INVITED, T - 86400000LL));
	const uint64_t held = atomic_load(&cnt.now) - before;
	double best = 1e30;
	size_t skipped = 0;
	for (int r = 0; r < rounds; r++) {
		skipped = 0;
		double t0 = now_s();
		for (size_t i = 0; i < g; i++) {
			cxm_ask a;
			CHECK(ctx, cxm_survey_should_ask(&a, NULL, ctx, sv, asked[i], 14, tp, T));
			skipped += a != CXM_ASK;
		}
		double dt = now_s() - t0;
		if (dt < best)
			best = dt;
	}
	printf("governor: %zu customers each invited a day ago, one answer each (shuffled), best of %d\n",
	       g, rounds);
	if (skipped != g)
		bench_die("governor: a customer invited a day ago was asked again", ctx, CXM_ERR_INVALID);
	char note[96];
	snprintf(note, sizeof note, "%zu customers", g);
	line("governor: cxm_survey_should_ask", best * 1e9 / (double)g, "ns", 200, true, note);
	info("governor: bytes held per customer invited once", (double)held / (double)g, "B",
	     "a 32-byte entry holding its record, table 7/8 full at most");
	free(ids);
	free(asked);
	free(order);
	cxm_context_free(ctx);
}

/* 1000 alerts (LEVEL, 1 h windows over 100 touchpoints x NPS and AHT, half
 * of them CHANGE against the hour before with a p-value) over an hour of
 * 100 000 interactions: one cxm_alerts_evaluate, best of rounds. Each
 * window is watched by 5 alerts (levels of warning and critical, say),
 * which share its reading; with `distinct`, 500 touchpoints and every
 * alert a window of its own (reported, no budget). */
static void alerts(int rounds, bool distinct)
{
	const int n_tp = distinct ? 500 : 100;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fixed_clock;
	cfg.clock_opaque = (void *)&T;
	cxm_context *ctx;
	CHECK(NULL, cxm_context_new(&ctx, &cfg));
	cxm_id tp[500], nps, aht;
	char name[32];
	for (int i = 0; i < n_tp; i++) {
		snprintf(name, sizeof name, "tp-%d", i);
		CHECK(ctx, cxm_touchpoint_define(&tp[i], ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0));
	}
	cxm_metric_def d = {.size = sizeof d};
	CHECK(ctx, cxm_metric_preset(&d, CXM_PRESET_NPS));
	CHECK(ctx, cxm_metric_define(&nps, ctx, "nps", &d));
	CHECK(ctx, cxm_metric_preset(&d, CXM_PRESET_DURATION));
	CHECK(ctx, cxm_metric_define(&aht, ctx, "aht", &d));
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		cxm_measure m[2] = {{nps, 0, (double)(x % 11)}, {aht, 0, 30.0 + (double)(x >> 40 & 1023)}};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T - 2 * 3600000LL + (int64_t)(x >> 20 & 0xffffff) % (2 * 3600000LL);
		ix.touchpoint = tp[(x >> 8) % (uint64_t)n_tp];
		ix.measures = m;
		ix.n_measures = 2;
		CHECK(ctx, cxm_feed(ctx, &ix));
	}
	for (int i = 0; i < 1000; i++) {
		cxm_alert_def a = CXM_ALERT_DEF_INIT;
		a.query.metric = i % 2 ? nps : aht;
		a.query.scope = CXM_SCOPE_TOUCHPOINT;
		a.query.id = tp[(i / 2) % n_tp];
		a.query.span_ms = 3600000;
		a.op = i % 2 ? CXM_CMP_LT : CXM_CMP_GT;
		a.fire = a.clear = i % 2 ? -50 : 900;
		if (i % 4 >= 2) {
			a.kind = CXM_ALERT_CHANGE;
			a.baseline_offset_ms = 3600000;
			a.max_p_value = 0.05;
			a.fire = a.clear = i % 2 ? -30 : 300;
		}
		snprintf(name, sizeof name, "alert-%d", i);
		cxm_id id;
		CHECK(ctx, cxm_alert_define(&id, ctx, name, &a));
	}
	double best = 1e30;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_s();
		CHECK(ctx, cxm_alerts_evaluate(NULL, ctx, T));
		double dt = now_s() - t0;
		if (dt < best)
			best = dt;
	}
	printf("alerts: 1000 (500 LEVEL, 500 CHANGE with a p-value) over %d touchpoints x NPS, AHT "
	       "(%s); 100 000 interactions in 2 h; best of %d\n",
	       n_tp, distinct ? "every alert its own window" : "5 alerts per window", rounds);
	if (distinct)
		info("alerts: evaluating 1000 alerts of 1000 windows", best * 1e3, "ms", "no budget");
	else
		line("alerts: evaluating 1000 alerts", best * 1e3, "ms", 1, true, "cxm_alerts_evaluate");
	cxm_context_free(ctx);
}

/* Signals: ns added per journey interaction, and per instance swept. */
static void signals_cost(int rounds)
{
	enum { CUSTOMERS = 10000, CONTACTS = 20 };
	cxm_context *c[2];
	cxm_id tp[2], fcr[2], j[2];
	static char ids[CUSTOMERS][16];
	for (int i = 0; i < CUSTOMERS; i++)
		snprintf(ids[i], sizeof ids[i], "cust-%06d", i);
	for (int k = 0; k < 2; k++) {
		cxm_config cfg = CXM_CONFIG_INIT;
		cfg.clock = fixed_clock;
		cfg.clock_opaque = (void *)&T;
		cfg.event_queue = 4 * CUSTOMERS;
		CHECK(NULL, cxm_context_new(&c[k], &cfg));
		const char *steps[] = {"contact", "callback", "resolved"};
		CHECK(c[k], cxm_journey_define(&j[k], c[k], "care", steps, 3));
		CHECK(c[k], cxm_touchpoint_define(&tp[k], c[k], "ivr", CXM_CHANNEL_PHONE, j[k], 0));
		cxm_metric_def d = {.size = sizeof d};
		CHECK(c[k], cxm_metric_preset(&d, CXM_PRESET_RATE));
		CHECK(c[k], cxm_metric_define(&fcr[k], c[k], "fcr", &d));
		if (!k)
			continue;
		cxm_id id;
		cxm_signal_def sd = CXM_SIGNAL_DEF_INIT;
		sd.journey = j[k];
		sd.kind = CXM_SIGNAL_REPEAT;
		sd.count = 8;
		sd.window_ms = 3600000;
		CHECK(c[k], cxm_signal_define(&id, c[k], &sd));
		sd.kind = CXM_SIGNAL_FAILURE;
		sd.metric = fcr[k];
		sd.op = CXM_CMP_EQ;
		CHECK(c[k], cxm_signal_define(&id, c[k], &sd));
		sd = (cxm_signal_def)CXM_SIGNAL_DEF_INIT;
		sd.journey = j[k];
		sd.kind = CXM_SIGNAL_BACKWARDS;
		CHECK(c[k], cxm_signal_define(&id, c[k], &sd));
		sd.kind = CXM_SIGNAL_STUCK;
		sd.window_ms = 86400000;
		CHECK(c[k], cxm_signal_define(&id, c[k], &sd));
	}
	static cxm_interaction ixs[BATCH];
	static cxm_event ev[BATCH];
	ev[0].size = sizeof ev[0];
	double best[2] = {1e30, 1e30}, sweep[2] = {1e30, 1e30};
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < 2; k++) {
			cxm_measure m = {fcr[k], 0, 1};
			double t0 = now_s();
			for (int n = 0; n < CONTACTS * CUSTOMERS; n += BATCH) {
				for (int i = 0; i < BATCH; i++) {
					int who = (n + i) % CUSTOMERS;
					ixs[i] = (cxm_interaction)CXM_INTERACTION_INIT;
					ixs[i].time_ms = T - 1000;
					ixs[i].touchpoint = tp[k];
					ixs[i].customer = ids[who];
					ixs[i].customer_len = 11;
					ixs[i].measures = &m;
					ixs[i].n_measures = 1;
				}
				size_t accepted = 0, got;
				CHECK(c[k], cxm_feed_batch(&accepted, c[k], ixs, BATCH, NULL, 0, NULL));
				if (accepted != BATCH)
					bench_die("accepted", c[k], CXM_ERR_INVALID);
				do
					CHECK(c[k], cxm_events_poll(ev, BATCH, &got, c[k]));
				while (got);
			}
			double t = now_s() - t0;
			if (t < best[k])
				best[k] = t;
			t0 = now_s();
			CHECK(c[k], cxm_journey_sweep(NULL, c[k], T - 1000 + 60000 * (r + 1)));
			t = now_s() - t0;
			if (t < sweep[k])
				sweep[k] = t;
		}
	const double per = (double)CONTACTS * CUSTOMERS;
	printf("signals: %d customers x %d contacts on a journey's first step, best of %d rounds\n",
	       CUSTOMERS, CONTACTS, rounds);
	printf("  without signals %8.1f ns per interaction, sweep %8.1f ns per instance\n",
	       best[0] * 1e9 / per, sweep[0] * 1e9 / CUSTOMERS);
	printf("  four signals    %8.1f ns per interaction, sweep %8.1f ns per instance\n",
	       best[1] * 1e9 / per, sweep[1] * 1e9 / CUSTOMERS);
	cxm_stats st = {.size = sizeof st};
	CHECK(c[1], cxm_stats_get(&st, c[1]));
	printf("  events queued %llu (one REPEAT per customer), unjudged %llu\n",
	       (unsigned long long)st.events_queued, (unsigned long long)st.signals_unjudged);
	info("four signals, added per journey interaction (each a repeat contact)",
	     (best[1] - best[0]) * 1e9 / per, "ns", "signals - none");
	info("a STUCK signal, added per open instance swept", (sweep[1] - sweep[0]) * 1e9 / CUSTOMERS, "ns",
	     "signals - none");
	for (int k = 0; k < 2; k++)
		cxm_context_free(c[k]);
}

int main(int argc, char **argv)
{
	size_t n = 2000000, g = 1000000;
	int rounds = 7;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interactions") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--customers") && i + 1 < argc)
			g = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: trigger_bench [--interactions N] [--customers G] [--rounds R]\n");
			return 2;
		}
	}
	n = (n + BATCH - 1) / BATCH * BATCH;
	setup s[MODES];
	for (int m = 0; m < MODES; m++)
		make(&s[m], m);
	static cxm_measure ms[3];
	static cxm_interaction ixs[BATCH];
	static cxm_event ev[BATCH];
	ev[0].size = sizeof ev[0];
	ms[0] = (cxm_measure){s[0].nps, 0, 9};
	ms[1] = (cxm_measure){s[0].aht, 0, 240};
	ms[2] = (cxm_measure){s[0].fcr, 0, 1};
	for (int i = 0; i < BATCH; i++) {
		ixs[i] = (cxm_interaction)CXM_INTERACTION_INIT;
		ixs[i].time_ms = T - 1000;
		ixs[i].touchpoint = s[0].tp;
		ixs[i].measures = ms;
		ixs[i].n_measures = 3;
	}
	double best[MODES];
	for (int m = 0; m < MODES; m++)
		best[m] = 1e30;
	for (int r = 0; r < rounds; r++)
		for (int m = 0; m < MODES; m++) { /* in turn, so drift hits all alike */
			double t = run(&s[m], n, ixs, ev);
			if (t < best[m])
				best[m] = t;
		}
	printf("trigger_bench: %zu interactions of 3 measures, batches of %d, best of %d rounds\n", n,
	       BATCH, rounds);
	double ns[MODES];
	for (int m = 0; m < MODES; m++) {
		ns[m] = best[m] * 1e9 / (double)n;
		printf("  %-6s %8.1f ns per interaction\n", mode_name[m], ns[m]);
	}
	cxm_stats st = {.size = sizeof st};
	CHECK(s[MATCH].ctx, cxm_stats_get(&st, s[MATCH].ctx));
	printf("  match: %llu events queued, %llu dropped\n", (unsigned long long)st.events_queued,
	       (unsigned long long)st.events_dropped);
	line("a trigger that does not match, added per interaction", ns[ONE] - ns[NONE], "ns", 20, true,
	     "one - none");
	info("ten triggers that do not match, added", ns[TEN] - ns[NONE], "ns", "ten - none");
	info("a matching trigger, queued and polled, added", ns[MATCH] - ns[NONE], "ns", "match - none");
	for (int m = 0; m < MODES; m++)
		cxm_context_free(s[m].ctx);
	if (g)
		governor(g, rounds < 3 ? rounds : 3);
	alerts(rounds, false);
	alerts(rounds, true);
	signals_cost(rounds);
	return bench_summary() ? 1 : 0;
}
