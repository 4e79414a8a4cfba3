/* Window edges, roll-up across tiers, lateness and retention. */
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cxm_id def_volume(cxm_context *ctx)
{
	cxm_metric_def d = {.size = sizeof d};
	cxm_id id;
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&id, ctx, "volume", &d), CXM_OK);
	return id;
}

static cxm_status feed_at(cxm_context *ctx, cxm_id tp, int64_t t)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	return cxm_feed(ctx, &ix);
}

/* An interaction at exactly a bucket's start belongs to that bucket; the
 * window ends at the end of the bucket holding end_ms. */
static void bucket_boundary(void **state)
{
	(void)state;
	test_clock clk = {T0 + HOUR};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id vol = def_volume(ctx), tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	int64_t b = T0 + 10 * MIN; /* a minute boundary */
	assert_int_equal(feed_at(ctx, tp, b), CXM_OK);
	assert_int_equal(feed_at(ctx, tp, b - 1), CXM_OK);

	cxm_result r = query_tp(ctx, vol, tp, b - 1, MIN);
	assert_int_equal(r.n, 1); /* only b - 1 */
	assert_int_equal(r.start_ms, b - MIN);
	assert_int_equal(r.end_ms, b);
	r = query_tp(ctx, vol, tp, b, MIN);
	assert_int_equal(r.n, 1); /* only b */
	assert_int_equal(r.start_ms, b);
	assert_int_equal(r.end_ms, b + MIN);
	r = query_tp(ctx, vol, tp, b, 2 * MIN);
	assert_int_equal(r.n, 2);
	/* a span that is not a whole number of buckets is rounded up */
	r = query_tp(ctx, vol, tp, b, 90 * 1000);
	assert_int_equal(r.start_ms, b + MIN - 2 * MIN);
	assert_int_equal(r.n, 2);
	cxm_context_free(ctx);
}

/* Data older than the finest tier's reach rolls into hours, and a window
 * starting there starts on an hour. */
static void rollup_and_rounding(void **state)
{
	(void)state;
	test_clock clk = {T0 + DAY};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id vol = def_volume(ctx), tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	int64_t old = T0 + 2 * HOUR + 30 * MIN; /* 02:30 */
	assert_int_equal(feed_at(ctx, tp, old), CXM_OK);
	assert_int_equal(feed_at(ctx, tp, T0 + 2 * HOUR + 50 * MIN), CXM_OK); /* 02:50 */
	/* move the watermark to 08:00: 02:xx is now 5 hours behind */
	assert_int_equal(feed_at(ctx, tp, T0 + 8 * HOUR), CXM_OK);
	int64_t end = T0 + 8 * HOUR;
	cxm_result r = query_tp(ctx, vol, tp, end, DAY);
	assert_int_equal(r.n, 3);
	/* a window starting at 02:41 lies in hour-held data: it starts at 03:00 */
	r = query_tp(ctx, vol, tp, end, end + MIN - (T0 + 2 * HOUR + 41 * MIN));
	assert_int_equal(r.start_ms, T0 + 3 * HOUR);
	assert_int_equal(r.n, 1);
	/* starting at 02:00 takes the whole hour */
	r = query_tp(ctx, vol, tp, end, end + MIN - (T0 + 2 * HOUR));
	assert_int_equal(r.start_ms, T0 + 2 * HOUR);
	assert_int_equal(r.n, 3);
	/* a window ending in hour-held data ends on an hour: as of 02:35 */
	r = query_tp(ctx, vol, tp, T0 + 2 * HOUR + 35 * MIN, HOUR);
	assert_int_equal(r.end_ms, T0 + 3 * HOUR);
	assert_int_equal(r.n, 2);
	cxm_context_free(ctx);
}

/* Lateness is measured in finest buckets behind the watermark. */
static void too_late_edge(void **state)
{
	(void)state;
	test_clock clk = {T0 + DAY};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id vol = def_volume(ctx), tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	int64_t w = T0 + 5 * HOUR;
	assert_int_equal(feed_at(ctx, tp, w), CXM_OK);
	/* the finest tier holds 120 one-minute buckets ending with w's */
	int64_t oldest = w - 119 * MIN;
	assert_int_equal(feed_at(ctx, tp, oldest), CXM_OK);
	assert_int_equal(feed_at(ctx, tp, oldest - 1), CXM_ERR_TOO_LATE);
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, ctx), CXM_OK);
	assert_int_equal(s.accepted, 2);
	assert_int_equal(s.rejected[CXM_ERR_TOO_LATE], 1);
	assert_int_equal(s.rejected_total, 1);
	assert_int_equal(s.watermark_ms, w);
	cxm_result r = query_tp(ctx, vol, tp, w, DAY);
	assert_int_equal(r.n, 2);
	/* too early: beyond the clock plus max_future_ms (5 min) */
	assert_int_equal(feed_at(ctx, tp, clk.now + 5 * MIN), CXM_OK);
	assert_int_equal(feed_at(ctx, tp, clk.now + 5 * MIN + 1), CXM_ERR_TOO_EARLY);
	cxm_context_free(ctx);
}

/* Beyond the coarsest tier, data expires and the window is truncated. */
static void retention(void **state)
{
	(void)state;
	test_clock clk = {T0 + 30 * DAY};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 2;
	cfg.tiers[0] = (cxm_tier){MIN, 60, 0};
	cfg.tiers[1] = (cxm_tier){HOUR, 24, 0};
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id vol = def_volume(ctx), tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	assert_int_equal(feed_at(ctx, tp, T0), CXM_OK);
	assert_int_equal(feed_at(ctx, tp, T0 + 10 * HOUR), CXM_OK);
	cxm_result r = query_tp(ctx, vol, tp, T0 + 10 * HOUR, DAY);
	assert_int_equal(r.n, 2);
	assert_false(r.flags & CXM_RESULT_TRUNCATED);
	assert_int_equal(feed_at(ctx, tp, T0 + 30 * HOUR), CXM_OK);
	/* the hour tier reaches 24 h behind 30:00, so 00:00 has expired */
	r = query_tp(ctx, vol, tp, T0 + 30 * HOUR, 2 * DAY);
	assert_true(r.flags & CXM_RESULT_TRUNCATED);
	assert_int_equal(r.start_ms, T0 + 7 * HOUR);
	assert_int_equal(r.n, 2);
	cxm_context_free(ctx);
}

/* The distribution of a duration is kept in every tier: quantiles
 * describe the same finest buckets as the moments (a 30-minute window's
 * p50 is of those 30 minutes, not of the hour around them). */
static void quantile_window(void **state)
{
	(void)state;
	test_clock clk = {T0 + DAY};
	cxm_context *ctx = test_ctx(&clk);
	cxm_metric_def d = {.size = sizeof d};
	cxm_id aht, tp;
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(&aht, ctx, "aht", &d), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	assert_int_equal(feed1(ctx, T0 + 10 * HOUR + 5 * MIN, tp, aht, 100), CXM_OK);
	assert_int_equal(feed1(ctx, T0 + 10 * HOUR + 50 * MIN, tp, aht, 300), CXM_OK);
	cxm_result r = query_tp(ctx, aht, tp, T0 + 10 * HOUR + 59 * MIN, 30 * MIN);
	assert_int_equal(r.n, 1);
	assert_double_equal(r.mean, 300, 0);
	assert_int_equal(r.quantile_start_ms, r.start_ms);
	assert_int_equal(r.quantile_end_ms, r.end_ms);
	assert_int_equal(r.quantile_n, 1);
	assert_double_equal(r.p50, 300, 0); /* the only value in the window */
	assert_double_equal(r.p99, 300, 0);
	/* a whole-hour window agrees */
	r = query_tp(ctx, aht, tp, T0 + 10 * HOUR + 59 * MIN, HOUR);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.quantile_n, 2);
	cxm_context_free(ctx);
}

/* Tiers must nest: each a larger multiple of the last, reaching at least
 * two of its buckets further back. */
static void tier_rules(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cxm_context *ctx = NULL;
	cfg.n_tiers = 2;
	cfg.tiers[0] = (cxm_tier){MIN, 60, 0};
	cfg.tiers[1] = (cxm_tier){HOUR, 2, 0}; /* reaches 2 h: not 1 h + 2 h */
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_ERR_OUT_OF_RANGE);
	cfg.tiers[1] = (cxm_tier){HOUR, 3, 0};
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_OK);
	cxm_context_free(ctx);
	cfg.tiers[1] = (cxm_tier){90 * 1000, 100, 0}; /* not a multiple */
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_ERR_OUT_OF_RANGE);
	cfg.tiers[1] = (cxm_tier){MIN, 100, 0}; /* not larger */
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_ERR_OUT_OF_RANGE);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Property: whatever the roll-up state, a query counts exactly the
 * interactions whose time lies in the interval it says it covers. Small
 * tiers make data cross all three of them; two touchpoints, one of which
 * goes idle, leave series in different roll-up states. */
static void covered_interval_is_exact(void **state)
{
	(void)state;
	test_clock clk = {0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){1000, 10, 0};
	cfg.tiers[1] = (cxm_tier){5000, 8, 0};
	cfg.tiers[2] = (cxm_tier){20000, 10, 0};
	cfg.shards = 3;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id vol = def_volume(ctx), tp[2];
	assert_int_equal(cxm_touchpoint_define(&tp[0], ctx, "a", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp[1], ctx, "b", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	enum { N = 3000 };
	int64_t *times = calloc(N, sizeof *times);
	int *which = calloc(N, sizeof *which);
	size_t n = 0;
	int64_t t = 1000000;
	for (int i = 0; i < N; i++) {
		t += (int64_t)(rnd() % 700);
		if (rnd() % 150 == 0)
			t += (int64_t)(rnd() % 300000); /* a quiet spell: rings jump */
		int64_t jitter = (int64_t)(rnd() % 4000); /* up to 4 buckets late */
		int k = (i > N / 2) ? 0 : (int)(rnd() % 2);
		clk.now = t;
		cxm_status st = feed_at(ctx, tp[k], t - jitter);
		if (st == CXM_OK) {
			times[n] = t - jitter;
			which[n++] = k;
		} else {
			assert_int_equal(st, CXM_ERR_TOO_LATE);
		}
		/* query every so often, as of random instants */
		if (i % 37 == 0) {
			int64_t end = t - (int64_t)(rnd() % 150000);
			int64_t span = 1 + (int64_t)(rnd() % 250000);
			for (int kk = 0; kk < 2; kk++) {
				cxm_result r = query_tp(ctx, vol, tp[kk], end, span);
				uint64_t want = 0;
				for (size_t j = 0; j < n; j++)
					want += which[j] == kk && times[j] >= r.start_ms && times[j] < r.end_ms;
				if (r.n != want)
					fail_msg("end %lld span %lld: [%lld, %lld) has %llu, query says %llu",
						 (long long)end, (long long)span, (long long)r.start_ms,
						 (long long)r.end_ms, (unsigned long long)want,
						 (unsigned long long)r.n);
				assert_true(r.start_ms <= r.end_ms);
			}
		}
	}
	assert_true(n > N / 2);
	free(times);
	free(which);
	cxm_context_free(ctx);
}

/* A batch judges lateness as feeding its interactions one by one in batch
 * order would: a time-sorted replay with hours between interactions on
 * touchpoints of different shards loses nothing, and a mix of late and
 * on-time interactions is accepted and rejected exactly as sequentially. */
static void batch_lateness_is_sequential(void **state)
{
	(void)state;
	enum { N = 1000, TPS = 16 };
	test_clock clk = {T0 + 2000 * HOUR};
	cxm_context *seq = test_ctx(&clk), *bat = test_ctx(&clk);
	cxm_id vs = def_volume(seq), vb = def_volume(bat), tp;
	for (int i = 0; i < TPS; i++) {
		char name[16];
		snprintf(name, sizeof name, "tp%d", i);
		assert_int_equal(cxm_touchpoint_define(&tp, seq, name, CXM_CHANNEL_WEB, CXM_NONE, 0),
				 CXM_OK);
		assert_int_equal(cxm_touchpoint_define(&tp, bat, name, CXM_CHANNEL_WEB, CXM_NONE, 0),
				 CXM_OK);
	}
	static cxm_interaction ix[2 * N];
	unsigned rng = 12345;
	for (int i = 0; i < N; i++) { /* sorted, an hour apart */
		ix[i] = (cxm_interaction)CXM_INTERACTION_INIT;
		ix[i].time_ms = T0 + (int64_t)i * HOUR;
		ix[i].touchpoint = (cxm_id)(i % TPS);
	}
	for (int i = N; i < 2 * N; i++) { /* within the minute tier, or hours late */
		rng = rng * 1103515245u + 12345u;
		ix[i] = (cxm_interaction)CXM_INTERACTION_INIT;
		ix[i].time_ms = T0 + 1000 * HOUR + (int64_t)(i - N) * MIN - (int64_t)((rng >> 12) % 240) * MIN;
		ix[i].touchpoint = (cxm_id)((rng >> 8) % TPS);
	}
	size_t seq_ok = 0;
	static bool late[2 * N];
	for (int i = 0; i < 2 * N; i++) {
		cxm_status s1 = cxm_feed(seq, &ix[i]);
		seq_ok += s1 == CXM_OK;
		late[i] = s1 == CXM_ERR_TOO_LATE;
	}
	size_t acc = 0, nrej = 0;
	static cxm_rejection rej[2 * N];
	cxm_status st = cxm_feed_batch(&acc, bat, ix, 2 * N, rej, 2 * N, &nrej);
	for (size_t k = 0, i = 0; i < 2 * N; i++) { /* the same ones, for the same reason */
		bool r = k < nrej && rej[k].index == i;
		if (r != late[i])
			fail_msg("interaction %zu: %s sequentially, %s in a batch", i,
				 late[i] ? "late" : "accepted", r ? "rejected" : "accepted");
		if (r)
			assert_int_equal(rej[k++].status, CXM_ERR_TOO_LATE);
	}
	assert_true(st == CXM_OK || st == CXM_ERR_REJECTED);
	assert_int_equal(acc, seq_ok);
	assert_int_equal(acc + nrej, 2 * N);
	assert_true(seq_ok > N); /* all sorted ones, and some of the rest */
	assert_true(seq_ok < 2 * N);
	cxm_stats a = {.size = sizeof a}, b = {.size = sizeof b};
	assert_int_equal(cxm_stats_get(&a, seq), CXM_OK);
	assert_int_equal(cxm_stats_get(&b, bat), CXM_OK);
	assert_int_equal(a.rejected[CXM_ERR_TOO_LATE], b.rejected[CXM_ERR_TOO_LATE]);
	int64_t end = T0 + 2000 * HOUR;
	assert_int_equal(query_tp(seq, vs, 3, end, 400 * DAY).n, query_tp(bat, vb, 3, end, 400 * DAY).n);
	cxm_context_free(seq);
	cxm_context_free(bat);
}


/* The query cache: a context whose queries over whole hours of the
 * finest ring read each hour's merge from its cache, against a twin whose
 * tiers leave it no cache (a second tier of 2 min), fed the same
 * interactions, late ones and rewinds among them: every answer over
 * windows within the finest ring must agree, whatever the feeding did
 * to the hours cached in between. */
static cxm_status feed2(cxm_context *ctx, int64_t t, cxm_id tp, cxm_id nps, double sv, cxm_id aht,
			double dv)
{
	cxm_measure ms[2] = {{.metric = nps, .value = sv}, {.metric = aht, .value = dv}};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.measures = ms;
	ix.n_measures = 2;
	return cxm_feed(ctx, &ix);
}

/* The model of the query-cache tests: nps, aht and one touchpoint. */
static void nps_aht_ivr(cxm_context *ctx, cxm_id *nps, cxm_id *aht, cxm_id *tp)
{
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(nps, ctx, "nps", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(aht, ctx, "aht", &d), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
}

/* Equal within rel (relative), NaN equal to NaN (no data). */
static bool near(double a, double b, double rel)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	return fabs(a - b) <= rel * fmax(1, fabs(b));
}

static void query_cache_follows_changes(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){MIN, 120, 0};
	cfg.tiers[1] = (cxm_tier){HOUR, 192, 0};
	cfg.tiers[2] = (cxm_tier){DAY, 400, 0};
	cxm_context *c[2];
	c[0] = test_ctx_cfg(&clk, &cfg);
	cfg.tiers[1] = (cxm_tier){2 * MIN, 200, 0};
	c[1] = test_ctx_cfg(&clk, &cfg);
	cxm_id nps = 0, aht = 0, tp = 0;
	for (int i = 0; i < 2; i++)
		nps_aht_ivr(c[i], &nps, &aht, &tp);
	srand(7);
	int64_t now = T0, queried = 0, late = 0, rewinds = 0, past_ring = 0;
	/* every NPS answer fed, for the windows reaching past the ring, whose
	 * older part the twin holds at another width */
	enum { STEPS = 6000 };
	static int64_t fed_t[STEPS];
	static int fed_v[STEPS];
	int n_fed = 0;
	for (int step = 0; step < STEPS; step++) {
		int r = rand() % 100;
		int64_t t = now;
		if (r < 15) { /* late, within the finest ring */
			t = now - (int64_t)(rand() % 100) * MIN - rand() % MIN;
			late++;
		} else {
			now += rand() % 40000;
			t = now;
		}
		if (r == 99 && step > 100) { /* back a few minutes; both the same */
			int64_t back = now - (int64_t)(1 + rand() % 20) * MIN;
			for (int i = 0; i < 2; i++)
				assert_int_equal(cxm_rewind(NULL, c[i], back), CXM_OK);
			/* gone: what the finest buckets after back's held */
			for (int k = 0; k < n_fed; k++)
				if (fed_t[k] / MIN > back / MIN)
					fed_t[k] = -1;
			now = back;
			rewinds++;
			continue;
		}
		clk.now = now + MIN;
		double sv = rand() % 11, dv = 1 + rand() % 600000;
		for (int i = 0; i < 2; i++)
			assert_int_equal(feed2(c[i], t, tp, nps, sv, aht, dv), CXM_OK);
		fed_t[n_fed] = t;
		fed_v[n_fed++] = (int)sv;
		if (step % 7)
			continue;
		/* three hours up to now: the ring's oldest, partly rolled-up
		 * hour comes from its cache too; against the answers fed */
		cxm_result x = query_tp(c[0], nps, tp, now, 3 * HOUR);
		uint64_t n = 0, pro = 0, det = 0;
		for (int k = 0; k < n_fed; k++)
			if (fed_t[k] >= x.start_ms && fed_t[k] < x.end_ms) {
				n++;
				pro += fed_v[k] >= 9;
				det += fed_v[k] <= 6;
			}
		assert_int_equal(x.n, n);
		if (n)
			assert_true(near(x.value, 100.0 * ((double)pro - (double)det) / (double)n, 1e-9));
		past_ring += x.start_ms < now - 119 * MIN;
		/* the last whole hour, and from it up to now */
		int64_t h = now - now % HOUR;
		const int64_t ends[2] = {h - 1, now}, spans[2] = {HOUR, now - (h - HOUR) + 1};
		for (int w = 0; w < 2; w++) {
			cxm_id ms[2] = {nps, aht};
			for (int m = 0; m < 2; m++) {
				cxm_result a = query_tp(c[0], ms[m], tp, ends[w], spans[w]);
				cxm_result b = query_tp(c[1], ms[m], tp, ends[w], spans[w]);
				assert_int_equal(a.start_ms, b.start_ms);
				assert_int_equal(a.n, b.n);
				assert_true(near(a.value, b.value, 1e-9));
				assert_true(near(a.mean, b.mean, 1e-9));
				assert_true(near(a.p50, b.p50, 0));
				assert_true(near(a.p90, b.p90, 0));
				assert_true(near(a.p99, b.p99, 0));
				queried++;
			}
		}
	}
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, c[0]), CXM_OK);
	assert_true(st.query_cache_bytes > 0); /* the cache was used */
	assert_true(st.query_cache_bytes < st.memory_bytes);
	assert_int_equal(cxm_stats_get(&st, c[1]), CXM_OK);
	assert_int_equal(st.query_cache_bytes, 0); /* a 2-minute second tier: no cache */
	assert_true(queried > 1000 && late > 500 && rewinds > 10 && past_ring > 500);
	for (int i = 0; i < 2; i++)
		cxm_context_free(c[i]);
}


/* A merge writes into hours a query has cached (the source's minutes go
 * into the destination's ring): the next query reads them, as a context
 * fed both sides does. */
static void query_cache_after_merge(void **state)
{
	(void)state;
	test_clock clk = {T0 + 3 * HOUR};
	cxm_context *c[3];
	cxm_id nps = 0, aht = 0, tp = 0;
	for (int i = 0; i < 3; i++) {
		cxm_config cfg = CXM_CONFIG_INIT;
		memset(cfg.customer_key, 0x5a, sizeof cfg.customer_key); /* merges need one key */
		c[i] = test_ctx_cfg(&clk, &cfg);
		nps_aht_ivr(c[i], &nps, &aht, &tp);
	}
	/* c[0] and c[1] split the interactions; c[2] gets them all */
	srand(11);
	for (int64_t t = T0 + HOUR; t < T0 + 2 * HOUR + 30 * MIN; t += 7000) {
		double sv = rand() % 11, dv = 1 + rand() % 900000;
		int side = rand() % 2;
		assert_int_equal(feed2(c[side], t, tp, nps, sv, aht, dv), CXM_OK);
		assert_int_equal(feed2(c[2], t, tp, nps, sv, aht, dv), CXM_OK);
	}
	/* the whole hour from T0 + 1 h is cached in c[0] by these */
	cxm_id ms[2] = {nps, aht};
	for (int m = 0; m < 2; m++)
		(void)query_tp(c[0], ms[m], tp, T0 + 2 * HOUR - 1, HOUR);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, c[0]), CXM_OK);
	assert_true(st.query_cache_bytes > 0);
	assert_int_equal(cxm_merge(c[0], c[1]), CXM_OK);
	const int64_t ends[2] = {T0 + 2 * HOUR - 1, T0 + 2 * HOUR + 29 * MIN};
	const int64_t spans[2] = {HOUR, 90 * MIN};
	for (int w = 0; w < 2; w++)
		for (int m = 0; m < 2; m++) {
			cxm_result a = query_tp(c[0], ms[m], tp, ends[w], spans[w]);
			cxm_result b = query_tp(c[2], ms[m], tp, ends[w], spans[w]);
			assert_int_equal(a.n, b.n);
			assert_true(a.n > 0);
			assert_true(near(a.value, b.value, 1e-9));
			assert_true(near(a.mean, b.mean, 1e-9));
			assert_true(near(a.p50, b.p50, 0));
			assert_true(near(a.p99, b.p99, 0));
		}
	for (int i = 0; i < 3; i++)
		cxm_context_free(c[i]);
}

/* A late value lands in the header's warm bucket (the newest minute
 * older than the hot one) or in its ring slot, whichever order minutes
 * come in: gaps, values between the warm and the hot minute, older ones,
 * a jump past the whole ring, rewinds that leave the hot, the warm or
 * only ring minutes. After each step every minute the ring reaches, and
 * everything since the start, answer as the values fed; a snapshot of
 * each state loads into a context that weighs the same and answers the
 * same, quantiles included. */
typedef struct warm_model {
	int64_t base;
	uint64_t n[400];
	double sum[400]; /* aht */
} warm_model;

static void warm_feed(cxm_context *ctx, warm_model *w, cxm_id tp, cxm_id nps, cxm_id aht, int m)
{
	for (int j = 0; j < 3; j++) {
		double dv = 1000 + 37 * m + 11 * j;
		assert_int_equal(feed2(ctx, w->base + m * MIN + j * 7000, tp, nps, (m + j) % 11, aht, dv),
				 CXM_OK);
		w->n[m]++;
		w->sum[m] += dv;
	}
}

static void warm_check(cxm_context *ctx, const warm_model *w, cxm_id tp, cxm_id nps, cxm_id aht,
		       int newest)
{
	uint64_t total = 0;
	for (int m = 0; m < 400; m++)
		total += w->n[m];
	for (int m = newest - 119 < 0 ? 0 : newest - 119; m <= newest; m++) {
		cxm_result r = query_tp(ctx, aht, tp, w->base + m * MIN + 1, MIN);
		assert_int_equal(r.n, w->n[m]);
		if (w->n[m])
			assert_true(near(r.mean, w->sum[m] / (double)w->n[m], 1e-12));
		assert_int_equal(query_tp(ctx, nps, tp, w->base + m * MIN + 1, MIN).n, w->n[m]);
	}
	cxm_result r = query_tp(ctx, aht, tp, w->base + 400 * MIN, 8 * HOUR);
	assert_int_equal(r.n, total);
	assert_int_equal(query_tp(ctx, nps, tp, w->base + 400 * MIN, 8 * HOUR).n, total);
}

/* ctx's snapshot loads into a fresh context that weighs and answers the same. */
static void warm_reload(cxm_context *ctx, test_clock *clk, cxm_id tp, cxm_id nps, cxm_id aht,
			int64_t base, int newest)
{
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(ctx, membuf_write, &mb), CXM_OK);
	cxm_config cfg = CXM_CONFIG_INIT;
	memset(cfg.customer_key, 0x5a, sizeof cfg.customer_key); /* the saver's */
	cxm_context *b = test_ctx_cfg(clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(b, mb.p, mb.len), CXM_OK);
	free(mb.p);
	cxm_stats sa = {.size = sizeof sa}, sb = {.size = sizeof sb};
	assert_int_equal(cxm_stats_get(&sa, ctx), CXM_OK);
	assert_int_equal(cxm_stats_get(&sb, b), CXM_OK);
	assert_int_equal(sa.series_bytes, sb.series_bytes);
	for (int m = newest - 125; m <= newest; m++)
		for (int k = 0; k < 2; k++) {
			cxm_id metric = k ? aht : nps;
			int64_t end = base + m * MIN + 1, span = m == newest - 125 ? 8 * HOUR : MIN;
			cxm_result x = query_tp(ctx, metric, tp, end, span), y = query_tp(b, metric, tp, end, span);
			assert_int_equal(x.n, y.n);
			assert_true(near(x.value, y.value, 0));
			assert_true(near(x.p50, y.p50, 0));
			assert_true(near(x.p90, y.p90, 0));
		}
	cxm_context_free(b);
}

static void warm_bucket_any_order(void **state)
{
	(void)state;
	test_clock clk = {T0 + 12 * HOUR};
	cxm_config cfg = CXM_CONFIG_INIT;
	memset(cfg.customer_key, 0x5a, sizeof cfg.customer_key); /* loads need one key */
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id nps, aht, tp;
	nps_aht_ivr(ctx, &nps, &aht, &tp);
	static warm_model w;
	memset(&w, 0, sizeof w);
	w.base = T0 + HOUR;
	/* minutes in the order fed, and the newest so far after each */
	static const int order[] = {10, 11, 14, 12, 13, 12, 11, 14, 13, 15, 14, 9,
				    200, 199, 150, 198, 201, 202};
	int newest = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		warm_feed(ctx, &w, tp, nps, aht, order[i]);
		newest = order[i] > newest ? order[i] : newest;
		warm_check(ctx, &w, tp, nps, aht, newest);
		warm_reload(ctx, &clk, tp, nps, aht, w.base, newest);
	}
	/* back to minute 199: the hot and the warm minute go, the ring's
	 * newest two take their places */
	uint64_t gone = 0;
	assert_int_equal(cxm_rewind(&gone, ctx, w.base + 199 * MIN + 30000), CXM_OK);
	for (int m = 200; m < 400; m++)
		w.n[m] = 0, w.sum[m] = 0;
	newest = 199;
	warm_check(ctx, &w, tp, nps, aht, newest);
	warm_reload(ctx, &clk, tp, nps, aht, w.base, newest);
	static const int after[] = {198, 199, 197, 203};
	for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
		warm_feed(ctx, &w, tp, nps, aht, after[i]);
		newest = after[i] > newest ? after[i] : newest;
		warm_check(ctx, &w, tp, nps, aht, newest);
	}
	/* back to 199 again: the warm minute (199) becomes the hot one */
	assert_int_equal(cxm_rewind(&gone, ctx, w.base + 199 * MIN + 59000), CXM_OK);
	w.n[203] = 0, w.sum[203] = 0;
	newest = 199;
	warm_check(ctx, &w, tp, nps, aht, newest);
	warm_reload(ctx, &clk, tp, nps, aht, w.base, newest);
	warm_feed(ctx, &w, tp, nps, aht, 198);
	warm_feed(ctx, &w, tp, nps, aht, 199);
	warm_check(ctx, &w, tp, nps, aht, newest);
	cxm_context_free(ctx);
}

/* Under max_memory the query cache takes at most a sixteenth of it; the
 * queries still answer (from the minutes). */
/* A rewind empties series without freeing them; a feed refused after it
 * (here for max_series, by the segment slot it needs) takes back only
 * what it made: the emptied series it also touched stays, and the
 * series count and memory_bytes are as before the refusal. */
static void refused_feed_keeps_rewound_series(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg;
	assert_int_equal(cxm_config_init(&cfg, sizeof cfg), CXM_OK);
	cfg.max_series = 1;
	cfg.shards = 1;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id tp, m, sg;
	uint32_t gold;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "web", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_AMOUNT), CXM_OK);
	assert_int_equal(cxm_metric_define(&m, ctx, "spend", &d), CXM_OK);
	assert_int_equal(cxm_segment_define(&sg, ctx, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_value(&gold, ctx, sg, "gold"), CXM_OK);
	assert_int_equal(feed1(ctx, T0, tp, m, 5), CXM_OK);
	uint64_t gone = 0;
	assert_int_equal(cxm_rewind(&gone, ctx, T0 - 3600000), CXM_OK);
	assert_true(gone >= 1);
	cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
	assert_int_equal(cxm_stats_get(&s0, ctx), CXM_OK);
	assert_int_equal(s0.series, 1);
	cxm_measure ms = {m, 0, 6};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.touchpoint = tp;
	ix.measures = &ms;
	ix.n_measures = 1;
	ix.segments = &gold;
	ix.n_segments = 1;
	ix.time_ms = T0 - 3599000;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_ERR_LIMIT);
	assert_int_equal(cxm_stats_get(&s1, ctx), CXM_OK);
	assert_int_equal(s1.series, s0.series);
	assert_int_equal(s1.memory_bytes, s0.memory_bytes);
	assert_int_equal(s1.series_bytes, s0.series_bytes);
	/* the series is still the overall one's place: fed again, answered */
	assert_int_equal(feed1(ctx, T0 - 3599000, tp, m, 7), CXM_OK);
	cxm_result r = query_tp(ctx, m, tp, T0 - 3599000, 60000);
	assert_int_equal(r.n, 1);
	assert_double_equal(r.sum, 7, 0);
	cxm_context_free(ctx);
}

static void query_cache_bounded(void **state)
{
	(void)state;
	test_clock clk = {T0 + 3 * HOUR};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_memory = 4u << 20;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_metric_def d = {.size = sizeof d};
	cxm_id aht, tp[40];
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(&aht, ctx, "aht", &d), CXM_OK);
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof name, "tp%d", i);
		assert_int_equal(cxm_touchpoint_define(&tp[i], ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0),
				 CXM_OK);
	}
	for (int64_t t = T0 + HOUR; t < T0 + 3 * HOUR; t += 20000)
		for (int i = 0; i < 40; i++)
			assert_int_equal(feed1(ctx, t, tp[i], aht, 1000 + (double)(t % 7919)), CXM_OK);
	for (int i = 0; i < 40; i++) {
		cxm_result r = query_tp(ctx, aht, tp[i], T0 + 2 * HOUR - 1, HOUR);
		assert_int_equal(r.n, 180);
	}
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, ctx), CXM_OK);
	assert_true(st.query_cache_bytes > 0);
	assert_true(st.query_cache_bytes <= cfg.max_memory / 16);
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bucket_boundary),
		cmocka_unit_test(rollup_and_rounding),
		cmocka_unit_test(too_late_edge),
		cmocka_unit_test(retention),
		cmocka_unit_test(covered_interval_is_exact),
		cmocka_unit_test(quantile_window),
		cmocka_unit_test(tier_rules),
		cmocka_unit_test(batch_lateness_is_sequential),
		cmocka_unit_test(query_cache_follows_changes),
		cmocka_unit_test(query_cache_after_merge),
		cmocka_unit_test(query_cache_bounded),
		cmocka_unit_test(warm_bucket_any_order),
		cmocka_unit_test(refused_feed_keeps_rewound_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
