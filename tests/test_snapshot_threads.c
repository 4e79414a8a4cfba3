/* Snapshots of contexts that other threads feed and define in meanwhile:
 * every snapshot loads, merges stay exact for what was written, and
 * ThreadSanitizer (the stress suite) sees no race. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static test_clock clk = {INT64_C(1795392000000) + 40 * DAY};
#define START (INT64_C(1795392000000) + 30 * DAY)

static cxm_config cfg_of(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = test_clock_fn;
	cfg.clock_opaque = &clk;
	cfg.shards = 4;
	cfg.n_tiers = 2;
	cfg.tiers[0] = (cxm_tier){60000, 60, 0};
	cfg.tiers[1] = (cxm_tier){3600000, 48, 0};
	cfg.max_touchpoints = 128;
	cfg.max_segment_values = 64;
	cfg.max_customers = 5000;
	for (int i = 0; i < 16; i++)
		cfg.customer_key[i] = (uint8_t)(3 * i + 1);
	return cfg;
}

static cxm_context *ctx_new(void)
{
	cxm_config cfg = cfg_of();
	cxm_context *c = NULL;
	assert_int_equal(cxm_context_new(&c, &cfg), CXM_OK);
	return c;
}

static void define(cxm_context *c)
{
	cxm_metric_def d;
	cxm_id id;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	assert_int_equal(cxm_metric_define(&id, c, "nps", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_DURATION);
	assert_int_equal(cxm_metric_define(&id, c, "aht", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_VOLUME);
	assert_int_equal(cxm_metric_define(&id, c, "volume", &d), CXM_OK);
	assert_int_equal(cxm_segment_define(&id, c, "agent", 60), CXM_OK);
	/* tp0 .. tp3 are the steps of a journey: funnels are saved and
	 * merged while they are fed */
	const char *steps[] = {"call", "triage", "fix", "close"};
	cxm_id j;
	assert_int_equal(cxm_journey_define(&j, c, "case", steps, 4), CXM_OK);
	for (int t = 0; t < 8; t++) {
		char name[16];
		snprintf(name, sizeof name, "tp%d", t);
		assert_int_equal(cxm_touchpoint_define(&id, c, name, CXM_CHANNEL_PHONE,
						       t < 4 ? j : CXM_NONE, t < 4 ? (cxm_id)t : CXM_NONE),
				 CXM_OK);
	}
}

typedef struct feeder {
	cxm_context *c;
	int id;
	atomic_int *stop;
} feeder;

static void *feed_loop(void *arg)
{
	feeder *f = arg;
	uint64_t x = 12345 + (uint64_t)f->id;
	for (int i = 0; !atomic_load(f->stop); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		char name[16], cust[16];
		uint32_t seg = CXM_NONE;
		snprintf(name, sizeof name, "agent%u", (unsigned)(x % 50));
		cxm_segment_value(&seg, f->c, 0, name); /* new values while saving */
		cxm_id tp = (cxm_id)(x >> 8) % 8;
		if (i % 500 == 499 && i < 500 * 100 && f->id == 0) { /* and new touchpoints */
			char tpn[16];
			cxm_id id;
			snprintf(tpn, sizeof tpn, "late%d", i / 500);
			cxm_touchpoint_define(&id, f->c, tpn, CXM_CHANNEL_CHAT, CXM_NONE, 0);
		}
		cxm_measure ms[2] = {{0, 0, (double)(x % 11)}, {1, 0, (double)((x >> 20) % 600)}};
		snprintf(cust, sizeof cust, "c%u", (unsigned)((x >> 30) % 3000));
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = START + i * 50;
		ix.touchpoint = tp;
		ix.customer = cust;
		ix.customer_len = strlen(cust);
		ix.segments = &seg;
		ix.n_segments = 1;
		ix.measures = ms;
		ix.n_measures = 2;
		cxm_feed(f->c, &ix);
	}
	return NULL;
}

typedef struct mem {
	unsigned char *p;
	size_t len, cap;
} mem;

static int to_mem(const void *data, size_t len, void *payload)
{
	mem *m = payload;
	if (m->cap - m->len < len) {
		size_t nc = m->cap ? m->cap * 2 : 65536;
		while (nc - m->len < len)
			nc *= 2;
		unsigned char *np = realloc(m->p, nc);
		if (!np)
			return -1;
		m->p = np;
		m->cap = nc;
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
	return 0;
}

static void test_save_while_feeding(void **state)
{
	(void)state;
	cxm_context *c = ctx_new();
	define(c);
	atomic_int stop = 0;
	feeder f[2] = {{c, 0, &stop}, {c, 1, &stop}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, feed_loop, &f[i]), 0);
	cxm_context *sum = ctx_new();
	define(sum);
	for (int round = 0; round < 8; round++) {
		mem m = {0};
		assert_int_equal(cxm_snapshot_write(c, to_mem, &m), CXM_OK);
		cxm_context *d = ctx_new();
		cxm_status st = cxm_snapshot_load_mem(d, m.p, m.len);
		if (st)
			fail_msg("round %d: %s: %s", round, cxm_strerror(st), cxm_errmsg(d));
		/* the counters describe the data the snapshot holds: every
		 * accepted interaction is in the volume series, no more, no less */
		cxm_stats ds = {.size = sizeof ds};
		assert_int_equal(cxm_stats_get(&ds, d), CXM_OK);
		cxm_query q = CXM_QUERY_INIT;
		q.metric = 2; /* volume */
		q.end_ms = START + 3 * DAY;
		q.span_ms = 4 * DAY;
		cxm_result r = {.size = sizeof r};
		assert_int_equal(cxm_query_run(&r, d, &q), CXM_OK);
		if (r.n != ds.accepted)
			fail_msg("round %d: the snapshot holds %llu interactions, its stats say %llu "
				 "(flags %x, [%lld, %lld))",
				 round, (unsigned long long)r.n, (unsigned long long)ds.accepted,
				 r.flags, (long long)r.start_ms, (long long)r.end_ms);
		cxm_context_free(d);
		/* instances end meanwhile */
		assert_int_equal(cxm_journey_sweep(NULL, c, START + (round + 1) * 60000), CXM_OK);
		/* a merge of the live context into another, touchpoints aside */
		if (round % 4 == 3) {
			cxm_context *e = ctx_new();
			define(e);
			for (int t = 0; t < 100; t++) {
				char tpn[16];
				cxm_id id;
				snprintf(tpn, sizeof tpn, "late%d", t);
				cxm_touchpoint_define(&id, e, tpn, CXM_CHANNEL_CHAT, CXM_NONE, 0);
			}
			st = cxm_merge(e, c);
			if (st)
				fail_msg("merge: %s: %s", cxm_strerror(st), cxm_errmsg(e));
			cxm_context_free(e);
		}
		free(m.p);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cxm_context_free(sum);
	cxm_context_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_save_while_feeding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
