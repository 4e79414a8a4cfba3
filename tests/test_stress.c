/* Many threads feed one context while others query and define: nothing is
 * lost. Run under ThreadSanitizer by tools/test.sh (suite "stress"). */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { FEEDERS = 4, PER_FEEDER = 20000, TOUCHPOINTS = 16, BATCH = 64 };

typedef struct shared {
	cxm_context *ctx;
	cxm_id nps, aht, vol, rate, tier, drivers;
	cxm_id tp[TOUCHPOINTS];
	atomic_int feeders_left;
	atomic_ullong promoters_fed;
	atomic_ullong queries;
	atomic_int failures;
} shared;

typedef struct feeder_arg {
	shared *sh;
	int id;
} feeder_arg;

static void *feeder(void *p)
{
	feeder_arg *fa = p;
	shared *sh = fa->sh;
	uint64_t seed = 0x1234567u + (uint64_t)fa->id * 7919u, promoters = 0;
	cxm_interaction ixs[BATCH];
	cxm_measure ms[BATCH][3];
	uint32_t segs[BATCH];
	char cust[BATCH][16];
	for (int done = 0; done < PER_FEEDER;) {
		int n = 0;
		for (; n < BATCH && done + n < PER_FEEDER; n++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			uint32_t r = (uint32_t)(seed >> 33);
			double score = r % 11;
			promoters += score >= 9;
			ms[n][0] = (cxm_measure){sh->nps, 0, score};
			ms[n][1] = (cxm_measure){sh->aht, 0, 1 + r % 600};
			ms[n][2] = (cxm_measure){sh->rate, 0, (double)(r & 1)};
			segs[n] = r % 3;
			memset(&ixs[n], 0, sizeof ixs[n]);
			ixs[n].size = sizeof ixs[n];
			ixs[n].time_ms = T0 - (int64_t)(r % 3600) * 1000;
			ixs[n].touchpoint = sh->tp[r % TOUCHPOINTS];
			snprintf(cust[n], sizeof cust[n], "c%u", r % 5000);
			ixs[n].customer = cust[n];
			ixs[n].customer_len = strlen(cust[n]);
			ixs[n].segments = &segs[n];
			ixs[n].n_segments = 1;
			ixs[n].measures = ms[n];
			ixs[n].n_measures = 3;
		}
		cxm_status st;
		if (fa->id % 2) {
			size_t acc = 0, rej = 0;
			st = cxm_feed_batch(&acc, sh->ctx, ixs, (size_t)n, NULL, 0, &rej);
			if (acc != (size_t)n || rej)
				atomic_fetch_add(&sh->failures, 1);
		} else {
			st = CXM_OK;
			for (int i = 0; i < n && !st; i++)
				st = cxm_feed(sh->ctx, &ixs[i]);
		}
		if (st)
			atomic_fetch_add(&sh->failures, 1);
		done += n;
	}
	atomic_fetch_add(&sh->promoters_fed, promoters);
	atomic_fetch_sub(&sh->feeders_left, 1);
	return NULL;
}

static void *querier(void *p)
{
	shared *sh = p;
	cxm_query q = CXM_QUERY_INIT;
	q.span_ms = DAY;
	q.end_ms = T0;
	uint64_t last = 0;
	while (atomic_load(&sh->feeders_left) > 0) {
		cxm_result r = {.size = sizeof r};
		q.metric = sh->vol;
		q.scope = CXM_SCOPE_ALL;
		if (cxm_query_run(&r, sh->ctx, &q) != CXM_OK || r.n < last)
			atomic_fetch_add(&sh->failures, 1); /* counts never go back */
		last = r.n;
		q.metric = sh->aht;
		q.scope = CXM_SCOPE_TOUCHPOINT;
		q.id = sh->tp[last % TOUCHPOINTS];
		if (cxm_query_run(&r, sh->ctx, &q) != CXM_OK)
			atomic_fetch_add(&sh->failures, 1);
		cxm_stats s = {.size = sizeof s};
		if (cxm_stats_get(&s, sh->ctx) != CXM_OK)
			atomic_fetch_add(&sh->failures, 1);
		/* the key drivers while customers' records are written */
		cxm_drivers_result dr = {.size = sizeof dr};
		cxm_driver o[TOUCHPOINTS + 1] = {{.size = sizeof o[0]}};
		if (cxm_drivers_run(&dr, o, TOUCHPOINTS + 1, sh->ctx, sh->drivers) != CXM_OK ||
		    dr.paired > dr.outcomes)
			atomic_fetch_add(&sh->failures, 1);
		atomic_fetch_add(&sh->queries, 1);
	}
	return NULL;
}

/* Definitions while feeding: new touchpoints, metrics and segment values. */
static void *definer(void *p)
{
	shared *sh = p;
	char name[32];
	for (int i = 0; atomic_load(&sh->feeders_left) > 0 && i < 200; i++) {
		cxm_id id;
		uint32_t v;
		snprintf(name, sizeof name, "late-%d", i);
		if (cxm_touchpoint_define(&id, sh->ctx, name, CXM_CHANNEL_WEB, CXM_NONE, 0) != CXM_OK)
			atomic_fetch_add(&sh->failures, 1);
		if (i < 20 && cxm_segment_value(&v, sh->ctx, sh->tier, name) != CXM_OK)
			atomic_fetch_add(&sh->failures, 1);
		cxm_id f;
		if (cxm_find(&f, sh->ctx, CXM_OBJECT_TOUCHPOINT, name) != CXM_OK || f != id)
			atomic_fetch_add(&sh->failures, 1);
	}
	return NULL;
}

static void nothing_lost(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.shards = 3; /* fewer shards than feeders: contention is exercised */
	shared sh;
	memset(&sh, 0, sizeof sh);
	sh.ctx = test_ctx_cfg(&clk, &cfg);
	cxm_metric_def d = {.size = sizeof d};
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	assert_int_equal(cxm_metric_define(&sh.nps, sh.ctx, "nps", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_DURATION);
	assert_int_equal(cxm_metric_define(&sh.aht, sh.ctx, "aht", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_RATE);
	assert_int_equal(cxm_metric_define(&sh.rate, sh.ctx, "fcr", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_VOLUME);
	assert_int_equal(cxm_metric_define(&sh.vol, sh.ctx, "volume", &d), CXM_OK);
	assert_int_equal(cxm_segment_define(&sh.tier, sh.ctx, "tier", 32), CXM_OK);
	const char *tiers[] = {"bronze", "silver", "gold"};
	for (int i = 0; i < 3; i++) {
		uint32_t v;
		assert_int_equal(cxm_segment_value(&v, sh.ctx, sh.tier, tiers[i]), CXM_OK);
	}
	for (int i = 0; i < TOUCHPOINTS; i++) {
		char name[16];
		snprintf(name, sizeof name, "tp-%d", i);
		assert_int_equal(cxm_touchpoint_define(&sh.tp[i], sh.ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	}
	/* resolution at every touchpoint and anywhere drives the NPS answer:
	 * every interaction sets its customer's values, then pairs its answer */
	cxm_drivers_def dd;
	cxm_drivers_def_init(&dd, sizeof dd);
	dd.outcome = sh.nps;
	dd.driver = sh.rate;
	dd.touchpoints = sh.tp;
	dd.n_touchpoints = TOUCHPOINTS;
	dd.flags = CXM_DRIVERS_OVERALL;
	assert_int_equal(cxm_drivers_define(&sh.drivers, sh.ctx, "fcr drives nps", &dd), CXM_OK);
	atomic_store(&sh.feeders_left, FEEDERS);
	pthread_t f[FEEDERS], q[2], dth;
	feeder_arg fa[FEEDERS];
	for (int i = 0; i < FEEDERS; i++) {
		fa[i] = (feeder_arg){&sh, i};
		assert_int_equal(pthread_create(&f[i], NULL, feeder, &fa[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&q[i], NULL, querier, &sh), 0);
	assert_int_equal(pthread_create(&dth, NULL, definer, &sh), 0);
	for (int i = 0; i < FEEDERS; i++)
		pthread_join(f[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(q[i], NULL);
	pthread_join(dth, NULL);
	assert_int_equal(atomic_load(&sh.failures), 0);
	assert_true(atomic_load(&sh.queries) > 0);

	const uint64_t total = (uint64_t)FEEDERS * PER_FEEDER;
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, sh.ctx), CXM_OK);
	assert_int_equal(s.accepted, total);
	assert_int_equal(s.rejected_total, 0);
	cxm_query qq = CXM_QUERY_INIT;
	qq.span_ms = DAY;
	qq.end_ms = T0;
	qq.scope = CXM_SCOPE_ALL;
	cxm_result r = {.size = sizeof r};
	qq.metric = sh.vol;
	assert_int_equal(cxm_query_run(&r, sh.ctx, &qq), CXM_OK);
	assert_int_equal(r.n, total);
	qq.metric = sh.nps;
	assert_int_equal(cxm_query_run(&r, sh.ctx, &qq), CXM_OK);
	assert_int_equal(r.n, total);
	assert_int_equal(r.top, atomic_load(&sh.promoters_fed));
	qq.metric = sh.aht;
	assert_int_equal(cxm_query_run(&r, sh.ctx, &qq), CXM_OK);
	assert_int_equal(r.n, total);
	/* the segment series add up to the whole */
	uint64_t by_tier = 0;
	for (uint32_t v = 0; v < 3; v++) {
		qq.metric = sh.vol;
		qq.segment = sh.tier;
		qq.segment_value = v;
		assert_int_equal(cxm_query_run(&r, sh.ctx, &qq), CXM_OK);
		by_tier += r.n;
	}
	assert_int_equal(by_tier, total);
	/* every answer counted as an outcome; one pairs only with values at
	 * or before its time, and a record keeps each driver's latest (times
	 * within the hour, fed out of order: most answers find later ones) */
	cxm_drivers_result dr = {.size = sizeof dr};
	cxm_driver o[TOUCHPOINTS + 1] = {{.size = sizeof o[0]}};
	assert_int_equal(cxm_drivers_run(&dr, o, TOUCHPOINTS + 1, sh.ctx, sh.drivers), CXM_OK);
	assert_int_equal(dr.outcomes, total);
	assert_true(dr.paired > 0 && dr.paired <= total);
	assert_int_equal(dr.customers, 5000);
	assert_int_equal(dr.unremembered, 0);
	uint64_t pairs = 0;
	for (int i = 0; i < TOUCHPOINTS; i++)
		pairs += o[i].n;
	assert_true(o[TOUCHPOINTS].n <= total && pairs >= o[TOUCHPOINTS].n);
	cxm_context_free(sh.ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nothing_lost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
