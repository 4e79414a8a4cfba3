/* Snapshots and merge: round trips, merge equals ingesting the union,
 * journey state (funnels, options, churn) through load and merge,
 * faults of every file operation, damage at every byte, out of memory,
 * and bad arguments. Links the internal archive to replace the file I/O
 * layer (cxm_context::io). */
#include "testutil.h"

#include "cxm_internal.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- a workload ------------------------------------------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
static uint32_t rndn(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static const char *TIERS[] = {"gold", "silver", "bronze", "free"};
static const char *REGIONS[] = {"north", "south", "east", "west"};

enum { M_NPS, M_CSAT, M_CXI, M_DUR, M_RATE, M_AMT, M_VOL, M_DIST, N_METRICS };
#define N_TP 6

typedef struct ev {
	int64_t t;
	uint32_t tp;
	int cust; /* 0: none */
	int tier, region; /* -1: none */
	cxm_measure ms[8];
	uint32_t n_ms;
} ev;

static test_clock clk = {INT64_C(1795392000000) + 40 * DAY};

static cxm_config small_cfg(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = test_clock_fn;
	cfg.clock_opaque = &clk;
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 30, 0};
	cfg.tiers[1] = (cxm_tier){600000, 30, 0};
	cfg.tiers[2] = (cxm_tier){3600000, 48, 0};
	cfg.shards = 4;
	cfg.max_journeys = 4;
	cfg.max_touchpoints = 8;
	cfg.max_metrics = 10;
	cfg.max_segments = 2;
	cfg.max_segment_values = 10;
	cfg.max_customers = 1000;
	cfg.max_future_ms = 300000;
	for (int i = 0; i < 16; i++)
		cfg.customer_key[i] = (uint8_t)(i * 7 + 1);
	return cfg;
}

static void define_model(cxm_context *ctx)
{
	const char *buy[] = {"browse", "cart", "pay"};
	const char *sup[] = {"contact", "resolve"};
	cxm_id j, id;
	assert_int_equal(cxm_journey_define(&j, ctx, "buy", buy, 3), CXM_OK);
	assert_int_equal(cxm_journey_define(&j, ctx, "support", sup, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "web", CXM_CHANNEL_WEB, 0, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "cart", CXM_CHANNEL_WEB, 0, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "pay", CXM_CHANNEL_WEB, 0, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "phone", CXM_CHANNEL_PHONE, 1, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "chat", CXM_CHANNEL_CHAT, 1, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "email", CXM_CHANNEL_EMAIL, CXM_NONE, 0),
			 CXM_OK);
	static const cxm_preset presets[N_METRICS] = {
		CXM_PRESET_NPS, CXM_PRESET_CSAT5, CXM_PRESET_CXI, CXM_PRESET_DURATION,
		CXM_PRESET_RATE, CXM_PRESET_AMOUNT, CXM_PRESET_VOLUME, CXM_PRESET_DISTINCT};
	static const char *names[N_METRICS] = {"nps", "csat", "cxi", "aht", "fcr", "revenue",
					       "volume", "distinct"};
	for (int m = 0; m < N_METRICS; m++) {
		cxm_metric_def d;
		cxm_metric_def_init(&d, sizeof d);
		assert_int_equal(cxm_metric_preset(&d, presets[m]), CXM_OK);
		if (m == M_DIST)
			d.precision = 6;
		assert_int_equal(cxm_metric_define(&id, ctx, names[m], &d), CXM_OK);
		assert_int_equal(id, (cxm_id)m);
	}
	assert_int_equal(cxm_segment_define(&id, ctx, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_define(&id, ctx, "region", 4), CXM_OK);
}

static cxm_context *new_ctx(void)
{
	cxm_config cfg = small_cfg();
	cxm_context *ctx = NULL;
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_OK);
	return ctx;
}

static cxm_context *model_ctx(void)
{
	cxm_context *ctx = new_ctx();
	define_model(ctx);
	return ctx;
}

/* n events from `start` every `step` ms with a jitter of up to 2 minutes. */
static ev *gen(size_t n, int64_t start, int64_t step, uint64_t seed)
{
	rng_state = seed;
	ev *v = calloc(n, sizeof *v);
	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		ev *e = &v[i];
		/* up to 2 min either way: a customer's journey steps may not go
		 * back more than 5 min (instances.c) */
		e->t = start + (int64_t)i * step + (int64_t)rndn(240000) - 120000;
		e->tp = rndn(N_TP);
		e->cust = rndn(4) ? 1 + (int)rndn(150) : 0;
		e->tier = rndn(3) ? (int)rndn(4) : -1;
		e->region = rndn(2) ? (int)rndn(4) : -1;
		if (rndn(3) == 0)
			e->ms[e->n_ms++] = (cxm_measure){M_NPS, 0, (double)rndn(11)};
		if (rndn(4) == 0)
			e->ms[e->n_ms++] = (cxm_measure){M_CSAT, 0, 1.0 + rndn(5)};
		if (rndn(5) == 0)
			for (uint32_t q = 0; q < 3; q++)
				e->ms[e->n_ms++] = (cxm_measure){M_CXI, q, 1.0 + rndn(10)};
		if (rndn(3))
			e->ms[e->n_ms++] = (cxm_measure){M_DUR, 0, rndn(8) ? rndn(40000) / 8.0 : 0.0};
		if (rndn(2))
			e->ms[e->n_ms++] = (cxm_measure){M_RATE, 0, (double)rndn(2)};
		if (rndn(4) == 0)
			e->ms[e->n_ms++] = (cxm_measure){M_AMT, 0, (double)rndn(600) - 100};
	}
	return v;
}

static cxm_status feed_ev_st(cxm_context *ctx, const ev *e)
{
	uint32_t segs[2] = {CXM_NONE, CXM_NONE};
	if (e->tier >= 0 && cxm_segment_value(&segs[0], ctx, 0, TIERS[e->tier]))
		return CXM_ERR_LIMIT;
	if (e->region >= 0 && cxm_segment_value(&segs[1], ctx, 1, REGIONS[e->region]))
		return CXM_ERR_LIMIT;
	char cust[32];
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = e->t;
	ix.touchpoint = e->tp;
	if (e->cust) {
		snprintf(cust, sizeof cust, "customer-%d", e->cust);
		ix.customer = cust;
		ix.customer_len = strlen(cust);
	}
	ix.segments = segs;
	ix.n_segments = 2;
	ix.measures = e->ms;
	ix.n_measures = e->n_ms;
	return cxm_feed(ctx, &ix);
}

static void feed_ev(cxm_context *ctx, const ev *e)
{
	cxm_status st = feed_ev_st(ctx, e);
	if (st)
		fail_msg("feed: %s: %s", cxm_strerror(st), cxm_errmsg(ctx));
}

static void feed_all(cxm_context *ctx, const ev *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		feed_ev(ctx, &v[i]);
}

/* Feed two lists into one context in the order of their (unjittered) index
 * times, as one process would have seen them. */
static void feed_union(cxm_context *ctx, const ev *a, size_t na, int64_t sa, int64_t pa,
		       const ev *b, size_t nb, int64_t sb, int64_t pb)
{
	size_t i = 0, j = 0;
	while (i < na || j < nb) {
		bool take_a = j >= nb || (i < na && sa + (int64_t)i * pa <= sb + (int64_t)j * pb);
		feed_ev(ctx, take_a ? &a[i++] : &b[j++]);
	}
}

/* ---- comparing two contexts by everything a caller can ask ---------------------------------- */

static void cmp_result(cxm_context *a, cxm_context *b, const cxm_query *qa, const cxm_query *qb,
		       const char *what)
{
	cxm_result ra, rb;
	memset(&ra, 0, sizeof ra);
	memset(&rb, 0, sizeof rb);
	ra.size = rb.size = sizeof ra;
	cxm_status sa = cxm_query_run(&ra, a, qa), sb = cxm_query_run(&rb, b, qb);
	assert_int_equal(sa, sb);
	if (sa)
		return;
	if (memcmp(&ra, &rb, sizeof ra) != 0)
		fail_msg("%s: metric %u scope %d id %u step %u seg %u/%u end %lld span %lld: "
			 "n %llu/%llu value %.17g/%.17g sum %.17g/%.17g p90 %.17g/%.17g qn %llu/%llu",
			 what, qa->metric, (int)qa->scope, qa->id, qa->step, qa->segment,
			 qa->segment_value, (long long)qa->end_ms, (long long)qa->span_ms,
			 (unsigned long long)ra.n, (unsigned long long)rb.n, ra.value, rb.value, ra.sum,
			 rb.sum, ra.p90, rb.p90, (unsigned long long)ra.quantile_n,
			 (unsigned long long)rb.quantile_n);
	if (qa->metric == M_DUR) {
		static const double qs[5] = {0, 0.25, 0.5, 0.75, 1};
		double xa[5], xb[5];
		assert_int_equal(cxm_query_quantiles(xa, a, qa, qs, 5), CXM_OK);
		assert_int_equal(cxm_query_quantiles(xb, b, qb, qs, 5), CXM_OK);
		assert_memory_equal(xa, xb, sizeof xa);
	}
	if (qa->metric == M_NPS || qa->metric == M_CXI) {
		uint64_t da[16], db[16];
		size_t na = 0, nb = 0;
		assert_int_equal(cxm_query_distribution(da, 16, &na, a, qa, 0), CXM_OK);
		assert_int_equal(cxm_query_distribution(db, 16, &nb, b, qb, 0), CXM_OK);
		assert_int_equal(na, nb);
		assert_memory_equal(da, db, sizeof(uint64_t) * na);
	}
}

static void cmp_stats(cxm_context *a, cxm_context *b, bool memory)
{
	cxm_stats sa, sb;
	sa.size = sb.size = sizeof sa;
	assert_int_equal(cxm_stats_get(&sa, a), CXM_OK);
	assert_int_equal(cxm_stats_get(&sb, b), CXM_OK);
	if (memory && sa.memory_bytes != sb.memory_bytes)
		print_message("memory %llu/%llu customer_bytes %llu/%llu series_bytes %llu/%llu\n",
			      (unsigned long long)sa.memory_bytes, (unsigned long long)sb.memory_bytes,
			      (unsigned long long)sa.customer_bytes, (unsigned long long)sb.customer_bytes,
			      (unsigned long long)sa.series_bytes, (unsigned long long)sb.series_bytes);
	assert_int_equal(sa.accepted, sb.accepted);
	assert_int_equal(sa.rejected_total, sb.rejected_total);
	assert_int_equal(sa.series, sb.series);
	if (!sa.unpacked_buckets && !sb.unpacked_buckets) /* else larger, by design */
		assert_int_equal(sa.series_bytes, sb.series_bytes);
	assert_int_equal(sa.saturated, sb.saturated);
	assert_int_equal(sa.watermark_ms, sb.watermark_ms);
	assert_int_equal(sa.customers, sb.customers);
	if (memory)
		assert_int_equal(sa.memory_bytes, sb.memory_bytes);
}

typedef struct scope_t {
	cxm_scope scope;
	cxm_id id, step;
} scope_t;

/* Every metric, scope, segment value and window of the workload. `full`:
 * every window; else a few. */
static void cmp_ctx(cxm_context *a, cxm_context *b, int64_t t_end, bool full)
{
	cmp_stats(a, b, false);
	static const int64_t spans[] = {MIN, 10 * MIN, HOUR, 6 * HOUR, 3 * DAY};
	int64_t ends[] = {t_end, t_end - 7 * MIN, t_end - 2 * HOUR, t_end - 20 * HOUR};
	size_t n_ends = full ? 4 : 1, n_spans = full ? 5 : 2;
	scope_t scopes[32];
	size_t ns = 0;
	scopes[ns++] = (scope_t){CXM_SCOPE_ALL, 0, 0};
	for (cxm_id t = 0; t < N_TP; t++)
		scopes[ns++] = (scope_t){CXM_SCOPE_TOUCHPOINT, t, 0};
	for (cxm_id s = 0; s < 3; s++)
		scopes[ns++] = (scope_t){CXM_SCOPE_STEP, 0, s};
	scopes[ns++] = (scope_t){CXM_SCOPE_JOURNEY, 1, 0};
	scopes[ns++] = (scope_t){CXM_SCOPE_CHANNEL, CXM_CHANNEL_WEB, 0};
	scopes[ns++] = (scope_t){CXM_SCOPE_CHANNEL, CXM_CHANNEL_PHONE, 0};
	for (cxm_id m = 0; m < N_METRICS; m++)
		for (size_t s = 0; s < ns; s++)
			for (int g = -1; g < 8; g++) {
				cxm_query qa = CXM_QUERY_INIT, qb;
				qa.metric = m;
				qa.scope = scopes[s].scope;
				qa.id = scopes[s].id;
				qa.step = scopes[s].step;
				qb = qa;
				if (g >= 0) {
					const char *name = g < 4 ? TIERS[g] : REGIONS[g - 4];
					cxm_id seg = g < 4 ? 0 : 1;
					cxm_status fa = cxm_segment_value_find(&qa.segment_value, a, seg, name);
					cxm_status fb = cxm_segment_value_find(&qb.segment_value, b, seg, name);
					assert_int_equal(fa, fb);
					if (fa)
						continue;
					qa.segment = qb.segment = seg;
				}
				if (!full && g > 0 && s > 1)
					continue;
				for (size_t e = 0; e < n_ends; e++)
					for (size_t k = 0; k < n_spans; k++) {
						qa.end_ms = qb.end_ms = ends[e];
						qa.span_ms = qb.span_ms = spans[k];
						cmp_result(a, b, &qa, &qb, "query");
					}
			}
	for (int c = 1; c <= 150; c++) {
		char id[32];
		snprintf(id, sizeof id, "customer-%d", c);
		int64_t la = -1, lb = -1;
		cxm_status sa = cxm_customer_last_seen(&la, a, id, strlen(id));
		cxm_status sb = cxm_customer_last_seen(&lb, b, id, strlen(id));
		assert_int_equal(sa, sb);
		assert_int_equal(la, lb);
	}
}

static void cmp_funnels(cxm_context *a, cxm_context *b, int64_t t_end, bool exact);

/* ---- snapshots in memory ------------------------------------------------------------------ */

typedef struct mem {
	unsigned char *p;
	size_t len, cap;
} mem;

static int to_mem(const void *data, size_t len, void *payload)
{
	mem *m = payload;
	if (m->cap - m->len < len) {
		size_t nc = m->cap ? m->cap : 4096;
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

static mem save_mem(cxm_context *ctx)
{
	mem m = {0};
	cxm_status st = cxm_snapshot_write(ctx, to_mem, &m);
	if (st)
		fail_msg("save: %s: %s", cxm_strerror(st), cxm_errmsg(ctx));
	return m;
}

static cxm_context *load_copy(const mem *m)
{
	cxm_context *c = new_ctx();
	cxm_status st = cxm_snapshot_load_mem(c, m->p, m->len);
	if (st)
		fail_msg("load: %s: %s", cxm_strerror(st), cxm_errmsg(c));
	return c;
}

#define N_EV 1500
#define START (INT64_C(1795392000000) + 30 * DAY)
#define STEP INT64_C(23000) /* 1500 events over ~9.6 h */

static void test_round_trip(void **state)
{
	(void)state;
	ev *v = gen(N_EV, START, STEP, 1);
	cxm_context *a = model_ctx();
	feed_all(a, v, N_EV);
	mem m = save_mem(a);
	cxm_context *b = load_copy(&m);
	cmp_ctx(a, b, START + N_EV * STEP, true);
	/* journey state included: memory_bytes is the same */
	assert_non_null(a->journeys);
	cmp_stats(a, b, true);
	cmp_funnels(a, b, START + N_EV * STEP, true);
	/* and the loaded context saves the same model, series and statistics */
	mem m2 = save_mem(b);
	assert_int_equal(m.len, m2.len);
	/* feeding goes on identically after a load */
	ev *w = gen(300, START + N_EV * STEP, STEP, 2);
	feed_all(a, w, 300);
	feed_all(b, w, 300);
	cmp_ctx(a, b, START + (N_EV + 300) * STEP, false);
	free(m.p);
	free(m2.p);
	free(v);
	free(w);
	cxm_context_free(a);
	cxm_context_free(b);
}

/* merge(A, B) equals feeding A's and B's interactions into one context,
 * over random seeded workloads that overlap in time in different ways. */
static void test_merge_equals_union(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++) {
		rng_state = seed * 1000;
		int64_t sa = START, sb = START + (int64_t)rndn(8) * HOUR - 2 * HOUR;
		int64_t pa = STEP, pb = STEP + (int64_t)rndn(20000);
		size_t na = 400 + rndn(800), nb = 400 + rndn(800);
		ev *a = gen(na, sa, pa, seed * 7);
		ev *b = gen(nb, sb, pb, seed * 7 + 1);
		cxm_context *ca = model_ctx(), *cb = model_ctx(), *cu = model_ctx();
		feed_all(ca, a, na);
		feed_all(cb, b, nb);
		feed_union(cu, a, na, sa, pa, b, nb, sb, pb);
		int64_t end = sa + (int64_t)na * pa > sb + (int64_t)nb * pb ? sa + (int64_t)na * pa
									   : sb + (int64_t)nb * pb;
		cxm_stats su = {.size = sizeof su};
		assert_int_equal(cxm_stats_get(&su, cu), CXM_OK);
		assert_int_equal(su.rejected_total, 0);
		assert_int_equal(su.accepted, na + nb);
		if (seed % 2) {
			assert_int_equal(cxm_merge(ca, cb), CXM_OK);
		} else {
			mem m = save_mem(cb);
			assert_int_equal(cxm_snapshot_merge_mem(ca, m.p, m.len), CXM_OK);
			free(m.p);
		}
		cmp_ctx(ca, cu, end + 5 * MIN, seed <= 2);
		/* and the merged context saves and loads like any other */
		mem mm = save_mem(ca);
		cxm_context *cl = load_copy(&mm);
		cmp_ctx(cl, cu, end + 5 * MIN, false);
		cxm_context_free(cl);
		free(mm.p);
		free(a);
		free(b);
		cxm_context_free(ca);
		cxm_context_free(cb);
		cxm_context_free(cu);
	}
}

/* merge(A, B) and merge(B, A) answer alike; so do (A+B)+C and A+(B+C). */
static void test_merge_commutes_associates(void **state)
{
	(void)state;
	ev *a = gen(500, START, STEP, 11), *b = gen(600, START + HOUR, 30000, 12),
	   *c = gen(400, START - HOUR, 40000, 13);
	cxm_context *ab = model_ctx(), *ba = model_ctx(), *x = model_ctx(), *y = model_ctx();
	cxm_context *b2 = model_ctx(), *c2 = model_ctx();
	feed_all(ab, a, 500);
	feed_all(x, b, 600);
	assert_int_equal(cxm_merge(ab, x), CXM_OK); /* A+B */
	feed_all(ba, b, 600);
	feed_all(y, a, 500);
	assert_int_equal(cxm_merge(ba, y), CXM_OK); /* B+A */
	cmp_ctx(ab, ba, START + 600 * 30000 + HOUR, false);
	/* (A+B)+C against A+(B+C) */
	feed_all(c2, c, 400);
	assert_int_equal(cxm_merge(ab, c2), CXM_OK);
	feed_all(b2, b, 600);
	assert_int_equal(cxm_merge(b2, c2), CXM_OK); /* B+C */
	assert_int_equal(cxm_merge(y, b2), CXM_OK);  /* A+(B+C) */
	cmp_ctx(ab, y, START + 600 * 30000 + HOUR, false);
	free(a);
	free(b);
	free(c);
	cxm_context_free(ab);
	cxm_context_free(ba);
	cxm_context_free(x);
	cxm_context_free(y);
	cxm_context_free(b2);
	cxm_context_free(c2);
}

/* ---- rules and mismatches ----------------------------------------------------------------- */

static void test_load_rules(void **state)
{
	(void)state;
	ev *v = gen(200, START, STEP, 5);
	cxm_context *a = model_ctx();
	feed_all(a, v, 200);
	mem m = save_mem(a);
	/* a context that is not empty */
	cxm_context *b = model_ctx();
	assert_int_equal(cxm_snapshot_load_mem(b, m.p, m.len), CXM_ERR_INVALID);
	cxm_context_free(b);
	/* another customer key */
	cxm_config cfg = small_cfg();
	cfg.customer_key[0] ^= 1;
	assert_int_equal(cxm_context_new(&b, &cfg), CXM_OK);
	assert_int_equal(cxm_snapshot_load_mem(b, m.p, m.len), CXM_ERR_EXISTS);
	cxm_context_free(b);
	/* other tiers */
	cfg = small_cfg();
	cfg.tiers[2].buckets = 49;
	assert_int_equal(cxm_context_new(&b, &cfg), CXM_OK);
	assert_int_equal(cxm_snapshot_load_mem(b, m.p, m.len), CXM_ERR_EXISTS);
	cxm_context_free(b);
	/* ... which the first bytes tell: header, the tiers section's head,
	 * the count, 12 bytes a tier, its checksum */
	cxm_tier tt[CXM_MAX_TIERS];
	uint32_t nt = 0;
	const size_t enough = 64 + 16 + 4 + 12 * 3 + 4;
	assert_true(m.len > enough);
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, m.p, enough), CXM_OK);
	assert_int_equal(nt, 3);
	const cxm_config want = small_cfg();
	for (uint32_t k = 0; k < 3; k++) {
		assert_int_equal(tt[k].bucket_ms, want.tiers[k].bucket_ms);
		assert_int_equal(tt[k].buckets, want.tiers[k].buckets);
		assert_int_equal(tt[k].reserved, 0);
	}
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, m.p, m.len), CXM_OK);
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, m.p, enough - 1), CXM_ERR_CORRUPT);
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, m.p, 63), CXM_ERR_CORRUPT);
	unsigned char *tb = malloc(enough);
	memcpy(tb, m.p, enough);
	tb[64 + 16 + 4 + 12] ^= 1; /* a tier's width, under the section's checksum */
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, tb, enough), CXM_ERR_CORRUPT);
	memcpy(tb, "not a snapshot", 14);
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, tb, enough), CXM_ERR_CORRUPT);
	free(tb);
	assert_int_equal(nt, 3); /* left as it was */
	/* limits too small */
	cfg = small_cfg();
	cfg.max_touchpoints = 3;
	assert_int_equal(cxm_context_new(&b, &cfg), CXM_OK);
	assert_int_equal(cxm_snapshot_load_mem(b, m.p, m.len), CXM_ERR_LIMIT);
	cxm_context_free(b);
	/* another shard count loads, and answers alike */
	cfg = small_cfg();
	cfg.shards = 3;
	assert_int_equal(cxm_context_new(&b, &cfg), CXM_OK);
	assert_int_equal(cxm_snapshot_load_mem(b, m.p, m.len), CXM_OK);
	cmp_ctx(a, b, START + 200 * STEP, false);
	cxm_context_free(b);
	/* another format version (1: before durations kept their finest
	 * buckets' bins), with a good header checksum */
	unsigned char *c = malloc(m.len);
	memcpy(c, m.p, m.len);
	c[8] = 1;
	uint32_t crc = cxm__crc32c(0, c, 60);
	memcpy(c + 60, &crc, 4);
	b = new_ctx();
	assert_int_equal(cxm_snapshot_load_mem(b, c, m.len), CXM_ERR_VERSION);
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, c, m.len), CXM_ERR_VERSION);
	/* version 2 (before observations kept no-answer counts): the same
	 * bytes when no observation has a code, so it loads */
	c[8] = 2;
	crc = cxm__crc32c(0, c, 60);
	memcpy(c + 60, &crc, 4);
	assert_int_equal(cxm_snapshot_tiers(tt, &nt, c, m.len), CXM_OK);
	{
		cxm_context *v2 = new_ctx();
		assert_int_equal(cxm_snapshot_load_mem(v2, c, m.len), CXM_OK);
		cxm_context_free(v2);
	}
	/* an unknown section type, checksummed */
	memcpy(c, m.p, m.len);
	c[64] = 0x40; /* no section has that type */
	crc = cxm__crc32c(0, c + 64, 16 + c[72] + ((size_t)c[73] << 8));
	size_t at = 64 + 16 + c[72] + ((size_t)c[73] << 8);
	memcpy(c + at, &crc, 4);
	assert_int_equal(cxm_snapshot_load_mem(b, c, m.len), CXM_ERR_VERSION);
	uint32_t n = 0;
	assert_int_equal(cxm_count(&n, b, CXM_OBJECT_METRIC), CXM_OK);
	assert_int_equal(n, 0);
	cxm_context_free(b);
	free(c);
	free(m.p);
	free(v);
	cxm_context_free(a);
}

static void test_merge_mismatch(void **state)
{
	(void)state;
	ev *v = gen(200, START, STEP, 6);
	cxm_context *a = model_ctx();
	feed_all(a, v, 200);
	/* a destination that lacks a touchpoint */
	cxm_context *d = new_ctx();
	const char *buy[] = {"browse", "cart", "pay"};
	cxm_id id;
	assert_int_equal(cxm_journey_define(&id, d, "buy", buy, 3), CXM_OK);
	assert_int_equal(cxm_merge(d, a), CXM_ERR_UNKNOWN_ID);
	cxm_context_free(d);
	/* one that defines a touchpoint differently */
	d = new_ctx();
	const char *sup[] = {"contact", "resolve"};
	assert_int_equal(cxm_journey_define(&id, d, "buy", buy, 3), CXM_OK);
	assert_int_equal(cxm_journey_define(&id, d, "support", sup, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, d, "web", CXM_CHANNEL_SMS, 0, 0), CXM_OK);
	assert_int_equal(cxm_merge(d, a), CXM_ERR_EXISTS);
	assert_non_null(strstr(cxm_errmsg(d), "web"));
	cxm_context_free(d);
	/* a metric defined differently */
	d = model_ctx();
	cxm_context *e = NULL;
	cxm_config cfg = small_cfg();
	assert_int_equal(cxm_context_new(&e, &cfg), CXM_OK);
	assert_int_equal(cxm_journey_define(&id, e, "buy", buy, 3), CXM_OK);
	assert_int_equal(cxm_journey_define(&id, e, "support", sup, 2), CXM_OK);
	const char *tps[] = {"web", "cart", "pay", "phone", "chat"};
	const cxm_channel ch[] = {CXM_CHANNEL_WEB, CXM_CHANNEL_WEB, CXM_CHANNEL_WEB, CXM_CHANNEL_PHONE,
				  CXM_CHANNEL_CHAT};
	const cxm_id js[] = {0, 0, 0, 1, 1}, ss[] = {0, 1, 2, 0, 1};
	for (int i = 0; i < 5; i++)
		assert_int_equal(cxm_touchpoint_define(&id, e, tps[i], ch[i], js[i], ss[i]), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, e, "email", CXM_CHANNEL_EMAIL, CXM_NONE, 0), CXM_OK);
	cxm_metric_def def;
	cxm_metric_def_init(&def, sizeof def);
	cxm_metric_preset(&def, CXM_PRESET_CSAT7); /* named "nps" below: not the same */
	assert_int_equal(cxm_metric_define(&id, e, "nps", &def), CXM_OK);
	assert_int_equal(cxm_merge(e, a), CXM_ERR_EXISTS);
	assert_non_null(strstr(cxm_errmsg(e), "nps"));
	/* nothing changed */
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, e), CXM_OK);
	assert_int_equal(st.series, 0);
	assert_int_equal(st.accepted, 0);
	cxm_context_free(e);
	/* into itself */
	assert_int_equal(cxm_merge(a, a), CXM_ERR_INVALID);
	/* into a context with another key */
	cfg = small_cfg();
	cfg.customer_key[3] ^= 0x40;
	assert_int_equal(cxm_context_new(&e, &cfg), CXM_OK);
	define_model(e);
	assert_int_equal(cxm_merge(e, a), CXM_ERR_EXISTS);
	cxm_context_free(e);
	cxm_context_free(d);
	cxm_context_free(a);
	free(v);
}

/* Segment values are matched by name: a destination that met them in
 * another order still adds each to the right series. */
static void test_merge_maps_values(void **state)
{
	(void)state;
	cxm_context *a = model_ctx(), *b = model_ctx(), *u = model_ctx();
	uint32_t v;
	for (int i = 3; i >= 0; i--)
		assert_int_equal(cxm_segment_value(&v, b, 0, TIERS[i]), CXM_OK);
	ev *x = gen(300, START, STEP, 21), *y = gen(300, START, STEP, 22);
	feed_all(a, x, 300);
	feed_all(b, y, 300);
	feed_union(u, x, 300, START, STEP, y, 300, START, STEP);
	assert_int_equal(cxm_merge(a, b), CXM_OK);
	cmp_ctx(a, u, START + 300 * STEP, false);
	free(x);
	free(y);
	cxm_context_free(a);
	cxm_context_free(b);
	cxm_context_free(u);
}

/* Customers new to a full destination are dropped and counted, never
 * evicted; the ones both sides know keep the later last-seen time. */
static void test_merge_customers_full(void **state)
{
	(void)state;
	cxm_config cfg = small_cfg();
	cfg.max_customers = 40;
	cfg.customer_policy = CXM_CUSTOMERS_EVICT;
	cxm_context *a = NULL, *b = model_ctx();
	assert_int_equal(cxm_context_new(&a, &cfg), CXM_OK);
	define_model(a);
	ev e;
	memset(&e, 0, sizeof e);
	e.tier = e.region = -1;
	e.tp = 5; /* email: on no journey */
	for (int c = 1; c <= 30; c++) { /* a: 1 … 30 */
		e.cust = c;
		e.t = START + c * MIN;
		feed_ev(a, &e);
	}
	for (int c = 21; c <= 60; c++) { /* b: 21 … 60, later */
		e.cust = c;
		e.t = START + HOUR + c * MIN;
		feed_ev(b, &e);
	}
	cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
	assert_int_equal(cxm_stats_get(&s0, a), CXM_OK);
	assert_int_equal(cxm_merge(a, b), CXM_OK);
	assert_int_equal(cxm_stats_get(&s1, a), CXM_OK);
	assert_int_equal(s1.customers, 40);
	assert_int_equal(s1.customers_evicted, s0.customers_evicted);
	assert_int_equal(s1.customers_refused - s0.customers_refused, 20);
	for (int c = 1; c <= 30; c++) { /* all of a's stay; 21 … 30 seen later in b */
		char id[32];
		int64_t t = 0;
		snprintf(id, sizeof id, "customer-%d", c);
		assert_int_equal(cxm_customer_last_seen(&t, a, id, strlen(id)), CXM_OK);
		int64_t want = c > 20 ? START + HOUR + c * MIN : START + c * MIN;
		assert_int_equal(t, want / 1000 * 1000);
	}
	cxm_context_free(a);
	cxm_context_free(b);
}

/* ---- files, and faults of the I/O layer ---------------------------------------------------- */

static struct fault {
	enum { F_NONE, F_NTH, F_CRASH, F_SHORT, F_EINTR } mode;
	long calls, nth;
	size_t crash_at, written;
	bool dead;
} F;

static bool f_fail(void)
{
	F.calls++;
	if (F.dead || (F.mode == F_NTH && F.calls == F.nth)) {
		errno = EIO;
		return true;
	}
	return false;
}
static int f_open(const char *path, int flags, mode_t mode)
{
	return f_fail() ? -1 : cxm__io_posix.open(path, flags, mode);
}
static ssize_t f_read(int fd, void *buf, size_t n)
{
	if (F.mode == F_EINTR) {
		/* every other read is interrupted, and the others are short */
		if (++F.calls % 2) {
			errno = EINTR;
			return -1;
		}
		return cxm__io_posix.read(fd, buf, n > 1000 ? 1000 : n);
	}
	return f_fail() ? -1 : cxm__io_posix.read(fd, buf, n);
}
static ssize_t f_write(int fd, const void *buf, size_t n)
{
	if (f_fail())
		return -1;
	if (F.mode == F_SHORT && n > 7)
		n = 7;
	if (F.mode == F_CRASH && F.written + n > F.crash_at) {
		/* the process dies at byte crash_at: that much reaches the
		 * file, then nothing at all happens any more */
		size_t k = F.crash_at - F.written;
		if (k)
			(void)!cxm__io_posix.write(fd, buf, k);
		F.written += k;
		F.dead = true;
		errno = EIO;
		return -1;
	}
	ssize_t w = cxm__io_posix.write(fd, buf, n);
	if (w > 0)
		F.written += (size_t)w;
	return w;
}
static int f_fsync(int fd)
{
	return f_fail() ? -1 : cxm__io_posix.fsync(fd);
}
static int f_close(int fd)
{
	if (F.dead) {
		cxm__io_posix.close(fd); /* the kernel closes a dead process's files */
		errno = EIO;
		return -1;
	}
	if (f_fail()) {
		cxm__io_posix.close(fd);
		return -1;
	}
	return cxm__io_posix.close(fd);
}
static int f_rename(const char *a, const char *b)
{
	return f_fail() ? -1 : cxm__io_posix.rename(a, b);
}
static int f_unlink(const char *p)
{
	return f_fail() ? -1 : cxm__io_posix.unlink(p);
}
static const cxm_io fault_io = {f_open, f_read, f_write, f_fsync, f_close, f_rename, f_unlink};

static void arm_fault(int mode, long nth, size_t crash_at)
{
	memset(&F, 0, sizeof F);
	F.mode = mode;
	F.nth = nth;
	F.crash_at = crash_at;
}

static char dir[64];
static char path[128];

static int mkdir_tmp(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/cxm-snap-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/state.cxm", dir);
	return 0;
}

static void clean_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

static int rmdir_tmp(void **state)
{
	(void)state;
	clean_dir();
	rmdir(dir);
	return 0;
}

static int files_in_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static mem read_whole(const char *p)
{
	mem m = {0};
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	unsigned char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		to_mem(buf, n, &m);
	fclose(f);
	return m;
}

/* A small context: a few series, customers, a duration with bins. */
static cxm_context *small_state(int seed)
{
	cxm_context *c = model_ctx();
	ev *v = gen(12, START, 5 * MIN, (uint64_t)seed);
	feed_all(c, v, 12);
	free(v);
	return c;
}

/* A tiny context, for the tests that go through every byte: two
 * touchpoints, no segments, a duration with bins, two customers. */
static cxm_context *tiny_state(int seed)
{
	cxm_context *c = model_ctx();
	for (int i = 0; i < 4; i++) {
		ev e;
		memset(&e, 0, sizeof e);
		e.t = START + i * 7 * MIN + seed * MIN;
		e.tp = (uint32_t)(i % 2);
		e.cust = 1 + i % 2;
		e.tier = e.region = -1;
		e.ms[e.n_ms++] = (cxm_measure){M_NPS, 0, (double)((i * 3 + seed) % 11)};
		e.ms[e.n_ms++] = (cxm_measure){M_DUR, 0, 30.0 + i * 7 + seed};
		feed_ev(c, &e);
	}
	return c;
}

static void test_file_round_trip(void **state)
{
	(void)state;
	clean_dir();
	cxm_context *a = small_state(1);
	assert_int_equal(cxm_snapshot_save(a, path), CXM_OK);
	assert_int_equal(files_in_dir(), 1);
	cxm_context *b = new_ctx();
	assert_int_equal(cxm_snapshot_load(b, path), CXM_OK);
	cmp_ctx(a, b, START + HOUR, false);
	/* and merging the file into a loaded copy doubles every count */
	assert_int_equal(cxm_snapshot_merge(b, path), CXM_OK);
	cxm_stats sa = {.size = sizeof sa}, sb = {.size = sizeof sb};
	cxm_stats_get(&sa, a);
	cxm_stats_get(&sb, b);
	assert_int_equal(sb.accepted, 2 * sa.accepted);
	/* a file that does not exist */
	cxm_context *c = new_ctx();
	char nope[160];
	snprintf(nope, sizeof nope, "%s/nope", dir);
	assert_int_equal(cxm_snapshot_load(c, nope), CXM_ERR_IO);
	assert_non_null(strstr(cxm_errmsg(c), "No such file"));
	/* a directory that does not exist */
	snprintf(nope, sizeof nope, "%s/no/such/dir", dir);
	assert_int_equal(cxm_snapshot_save(a, nope), CXM_ERR_IO);
	cxm_context_free(a);
	cxm_context_free(b);
	cxm_context_free(c);
}

/* Fail each I/O call of a save in turn, then "crash" at every byte: the
 * previous snapshot always stays, bit for bit, and loads. */
static void test_save_faults(void **state)
{
	(void)state;
	clean_dir();
	cxm_context *old = tiny_state(2), *now = tiny_state(3);
	assert_int_equal(cxm_snapshot_save(old, path), CXM_OK);
	mem good = read_whole(path);
	/* how many calls a save makes, and that short writes are retried */
	now->io = &fault_io;
	arm_fault(F_SHORT, 0, 0);
	assert_int_equal(cxm_snapshot_save(now, path), CXM_OK);
	mem fresh = read_whole(path);
	long calls_short = F.calls;
	arm_fault(F_NONE, 0, 0);
	assert_int_equal(cxm_snapshot_save(old, path), CXM_OK); /* back to the old one */
	old->io = &fault_io;
	arm_fault(F_NONE, 0, 0);
	assert_int_equal(cxm_snapshot_save(old, path), CXM_OK);
	long calls = F.calls;
	assert_true(calls > 6 && calls < calls_short);
	for (long n = 1; n <= calls; n++) {
		arm_fault(F_NTH, n, 0);
		cxm_status st = cxm_snapshot_save(now, path);
		assert_int_equal(st, CXM_ERR_IO);
		assert_non_null(strstr(cxm_errmsg(now), "errno"));
		mem got = read_whole(path);
		/* before the rename: the old file; after it (the directory's
		 * fsync failed): the new one, complete */
		bool is_old = got.len == good.len && !memcmp(got.p, good.p, good.len);
		bool is_new = got.len == fresh.len && !memcmp(got.p, fresh.p, fresh.len);
		assert_true(is_old || is_new);
		assert_int_equal(files_in_dir(), 1); /* no temporary file left */
		cxm_context *c = new_ctx();
		assert_int_equal(cxm_snapshot_load(c, path), CXM_OK);
		cxm_context_free(c);
		free(got.p);
		if (is_new) { /* put the old one back for the next round */
			now->io = NULL;
			assert_int_equal(cxm_snapshot_save(old, path), CXM_OK);
			now->io = &fault_io;
		}
	}
	for (size_t k = 0; k < fresh.len; k++) {
		arm_fault(F_CRASH, 0, k);
		assert_int_equal(cxm_snapshot_save(now, path), CXM_ERR_IO);
		mem got = read_whole(path);
		assert_int_equal(got.len, good.len);
		assert_memory_equal(got.p, good.p, good.len);
		free(got.p);
		clean_dir(); /* the dead process's temporary file */
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, good.p, good.len), (ssize_t)good.len);
		close(fd);
	}
	cxm_context *c = new_ctx();
	assert_int_equal(cxm_snapshot_load(c, path), CXM_OK);
	cmp_ctx(c, old, START + HOUR, false);
	/* a failing read */
	cxm_context *d = new_ctx();
	d->io = &fault_io;
	arm_fault(F_NTH, 2, 0);
	assert_int_equal(cxm_snapshot_load(d, path), CXM_ERR_IO);
	uint32_t n = 1;
	cxm_count(&n, d, CXM_OBJECT_METRIC);
	assert_int_equal(n, 0);
	cxm_context_free(d);
	cxm_context_free(c);
	cxm_context_free(old);
	cxm_context_free(now);
	free(good.p);
	free(fresh.p);
}

/* A feeding process that saves now and then is killed at random moments
 * (SIGKILL, mid-save or not): whatever is at the path always loads. */
static void test_kill9(void **state)
{
	(void)state;
	clean_dir();
	rng_state = 4242;
	int loaded = 0;
	for (int round = 0; round < 8; round++) {
		clean_dir();
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			cxm_context *c = model_ctx();
			ev *v = gen(5000, START, 1000, (uint64_t)round + 1);
			for (size_t i = 0;; i++) {
				(void)feed_ev_st(c, &v[i % 5000]);
				if (i % 100 == 99 && cxm_snapshot_save(c, path) != CXM_OK)
					_exit(3);
			}
		}
		/* once the first snapshot is there, kill at a random moment */
		struct timespec tick = {0, 5000000L};
		for (int w = 0; w < 12000 && access(path, F_OK) != 0; w++)
			nanosleep(&tick, NULL);
		struct timespec ts = {0, (long)rndn(100) * 1000000L};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status = 0;
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		if (access(path, F_OK) == 0) {
			cxm_context *c = new_ctx();
			cxm_status st = cxm_snapshot_load(c, path);
			if (st)
				fail_msg("round %d: %s: %s", round, cxm_strerror(st), cxm_errmsg(c));
			cxm_context_free(c);
			loaded++;
		}
	}
	print_message("kill -9: %d of 8 rounds left a snapshot; each loaded\n", loaded);
	assert_int_equal(loaded, 8);
	clean_dir();
}

/* The state of an empty context, to check that a failed load left it so. */
static void assert_empty(cxm_context *c, uint64_t memory)
{
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, c), CXM_OK);
	assert_int_equal(s.series, 0);
	assert_int_equal(s.accepted, 0);
	assert_int_equal(s.customers, 0);
	assert_int_equal(s.memory_bytes, memory);
	for (int k = CXM_OBJECT_JOURNEY; k <= CXM_OBJECT_SEGMENT; k++) {
		uint32_t n = 1;
		assert_int_equal(cxm_count(&n, c, (cxm_object)k), CXM_OK);
		assert_int_equal(n, 0);
	}
}

/* Flip every byte, and cut at every length: every load is refused with a
 * code, and leaves the context as it was. */
static void test_damage(void **state)
{
	(void)state;
	cxm_context *a = tiny_state(4);
	mem m = save_mem(a);
	cxm_context *c = new_ctx();
	cxm_stats s0 = {.size = sizeof s0};
	cxm_stats_get(&s0, c);
	unsigned char *d = malloc(m.len);
	for (size_t i = 0; i < m.len; i++) {
		memcpy(d, m.p, m.len);
		d[i] ^= (unsigned char)(1u << (i % 8));
		if (i % 3 == 0)
			d[i] = (unsigned char)~m.p[i];
		cxm_status st = cxm_snapshot_load_mem(c, d, m.len);
		if (st != CXM_ERR_CORRUPT && st != CXM_ERR_VERSION)
			fail_msg("flipping byte %zu: %s (%s)", i, cxm_strerror(st), cxm_errmsg(c));
		assert_empty(c, s0.memory_bytes);
		st = cxm_snapshot_merge_mem(c, d, m.len);
		assert_true(st == CXM_ERR_CORRUPT || st == CXM_ERR_VERSION);
	}
	for (size_t n = 0; n < m.len; n++) {
		cxm_status st = cxm_snapshot_load_mem(c, m.p, n);
		if (st != CXM_ERR_CORRUPT)
			fail_msg("cut at %zu: %s (%s)", n, cxm_strerror(st), cxm_errmsg(c));
		assert_empty(c, s0.memory_bytes);
	}
	assert_int_equal(cxm_snapshot_load_mem(c, m.p, m.len), CXM_OK);
	free(d);
	free(m.p);
	cxm_context_free(a);
	cxm_context_free(c);
}

/* Recompute the checksums of a (mutated) snapshot wherever its lengths
 * still lead from one section to the next, so that the damage reaches the
 * checks behind the checksums, as a hostile writer's would. */
static void rechecksum(unsigned char *p, size_t len)
{
	if (len < 64)
		return;
	uint32_t crc = cxm__crc32c(0, p, 60);
	memcpy(p + 60, &crc, 4);
	size_t off = 64;
	while (len - off >= 20) {
		uint64_t sl;
		memcpy(&sl, p + off + 8, 8);
		if (sl > len - off - 20)
			return;
		crc = cxm__crc32c(0, p + off, 16 + (size_t)sl);
		memcpy(p + off + 16 + sl, &crc, 4);
		off += 20 + (size_t)sl;
	}
}

/* Random damage with good checksums: every load is accepted or refused
 * with a code, and a refused one leaves the context as it was. */
static void test_hostile(void **state)
{
	(void)state;
	cxm_context *a = tiny_state(8);
	mem m = save_mem(a);
	cxm_context *c = new_ctx(), *d = model_ctx();
	cxm_stats s0 = {.size = sizeof s0};
	cxm_stats_get(&s0, c);
	unsigned char *x = malloc(m.len);
	rng_state = 99;
	size_t accepted = 0;
	for (int k = 0; k < 3000; k++) {
		memcpy(x, m.p, m.len);
		for (int j = 0; j < 1 + k % 3; j++) {
			size_t at = 64 + rndn((uint32_t)(m.len - 64));
			switch (rndn(3)) {
			case 0: x[at] ^= (unsigned char)(1u << rndn(8)); break;
			case 1: x[at] = (unsigned char)rndn(256); break;
			default: x[at] = rndn(2) ? 0xff : 0; break;
			}
		}
		rechecksum(x, m.len);
		cxm_status st = cxm_snapshot_load_mem(c, x, m.len);
		if (st == CXM_OK) {
			accepted++;
			cxm_context_free(c);
			c = new_ctx();
		} else {
			assert_empty(c, s0.memory_bytes);
		}
		(void)cxm_snapshot_merge_mem(d, x, m.len);
	}
	assert_true(accepted < 3000);
	free(x);
	free(m.p);
	cxm_context_free(a);
	cxm_context_free(c);
	cxm_context_free(d);
}

/* ---- out of memory ---------------------------------------------------------------------------- */

typedef struct hook {
	long fail_at, count, live;
} hook;

static void *h_alloc(void *opaque, size_t n)
{
	hook *h = opaque;
	if (h->fail_at && ++h->count == h->fail_at)
		return NULL;
	void *p = malloc(n);
	if (p)
		h->live++;
	return p;
}
static void h_free(void *opaque, void *p)
{
	hook *h = opaque;
	h->live--;
	free(p);
}

static cxm_context *hooked_ctx(hook *h)
{
	cxm_config cfg = small_cfg();
	cfg.allocator = (cxm_allocator){h_alloc, h_free, h};
	cxm_context *c = NULL;
	h->fail_at = 0;
	assert_int_equal(cxm_context_new(&c, &cfg), CXM_OK);
	return c;
}

static void test_oom(void **state)
{
	(void)state;
	cxm_context *a = small_state(5);
	mem m = save_mem(a);
	hook h = {0};
	/* load */
	cxm_context *c = hooked_ctx(&h);
	cxm_stats s0 = {.size = sizeof s0};
	cxm_stats_get(&s0, c);
	long live = h.live, n;
	for (n = 1;; n++) {
		h.count = 0;
		h.fail_at = n;
		cxm_status st = cxm_snapshot_load_mem(c, m.p, m.len);
		h.fail_at = 0;
		if (st == CXM_OK)
			break;
		assert_int_equal(st, CXM_ERR_NO_MEMORY);
		assert_int_equal(h.live, live);
		assert_empty(c, s0.memory_bytes);
	}
	assert_true(n > 10);
	cmp_ctx(a, c, START + HOUR, false);
	cxm_context_free(c);
	/* merge: the destination's answers and memory stay as they were */
	cxm_context *ref = model_ctx();
	c = hooked_ctx(&h);
	define_model(c);
	uint32_t val;
	for (int i = 0; i < 4; i++) { /* every value the source may bring */
		assert_int_equal(cxm_segment_value(&val, c, 0, TIERS[i]), CXM_OK);
		assert_int_equal(cxm_segment_value(&val, c, 1, REGIONS[i]), CXM_OK);
		assert_int_equal(cxm_segment_value(&val, ref, 0, TIERS[i]), CXM_OK);
		assert_int_equal(cxm_segment_value(&val, ref, 1, REGIONS[i]), CXM_OK);
	}
	ev *v = gen(12, START, 5 * MIN, 6);
	feed_all(c, v, 12);
	feed_all(ref, v, 12);
	free(v);
	cxm_stats_get(&s0, c);
	live = h.live;
	for (n = 1;; n++) {
		h.count = 0;
		h.fail_at = n;
		cxm_status st = n % 2 ? cxm_snapshot_merge_mem(c, m.p, m.len) : cxm_merge(c, a);
		h.fail_at = 0;
		if (st == CXM_OK)
			break;
		assert_int_equal(st, CXM_ERR_NO_MEMORY);
		assert_int_equal(h.live, live);
		cxm_stats s = {.size = sizeof s};
		cxm_stats_get(&s, c);
		assert_int_equal(s.memory_bytes, s0.memory_bytes);
		cmp_ctx(c, ref, START + HOUR, false);
		cmp_funnels(c, ref, START + HOUR, true);
	}
	assert_true(n > 5);
	/* save: a failed write leaves nothing allocated behind */
	cxm_stats_get(&s0, c);
	live = h.live;
	for (n = 1;; n++) {
		mem out = {0};
		h.count = 0;
		h.fail_at = n;
		cxm_status st = cxm_snapshot_write(c, to_mem, &out);
		h.fail_at = 0;
		free(out.p);
		if (st == CXM_OK)
			break;
		assert_int_equal(st, CXM_ERR_NO_MEMORY);
		assert_int_equal(h.live, live);
	}
	cxm_context_free(ref);
	cxm_context_free(c);
	free(m.p);
	cxm_context_free(a);
}

/* ---- journey state: funnels, options and churn ------------------------------------------------ */

static void same_num(double a, double b, bool exact, const char *what)
{
	if (isnan(a) && isnan(b))
		return;
	if (exact ? a == b : fabs(a - b) <= 1e-9 * (fabs(a) > 1 ? fabs(a) : 1))
		return;
	fail_msg("%s: %.17g != %.17g", what, a, b);
}

/* One funnel query on a and on b: counts and quantiles exactly, means
 * within rounding unless `exact` (sums may be added in another order). */
static void cmp_funnel(cxm_context *a, cxm_context *b, const cxm_funnel_query *qa,
		       const cxm_funnel_query *qb, bool exact)
{
	cxm_funnel fa = {.size = sizeof fa}, fb = {.size = sizeof fb};
	cxm_funnel_step sa[4], sb[4];
	sa[0].size = sb[0].size = sizeof sa[0];
	cxm_status ra = cxm_funnel_run(&fa, sa, 4, a, qa), rb = cxm_funnel_run(&fb, sb, 4, b, qb);
	assert_int_equal(ra, rb);
	if (ra)
		return;
	assert_int_equal(fa.flags, fb.flags);
	assert_int_equal(fa.n_steps, fb.n_steps);
	assert_int_equal(fa.entered, fb.entered);
	assert_int_equal(fa.completed, fb.completed);
	assert_int_equal(fa.abandoned, fb.abandoned);
	assert_int_equal(fa.expired, fb.expired);
	assert_int_equal(fa.broken, fb.broken);
	assert_int_equal(fa.displaced, fb.displaced);
	assert_int_equal(fa.repeats, fb.repeats);
	assert_int_equal(fa.goal_n, fb.goal_n);
	same_num(fa.conversion, fb.conversion, true, "conversion");
	same_num(fa.repeat_rate, fb.repeat_rate, true, "repeat rate");
	same_num(fa.goal_p50, fb.goal_p50, true, "goal p50");
	same_num(fa.goal_p90, fb.goal_p90, true, "goal p90");
	same_num(fa.goal_mean, fb.goal_mean, exact, "goal mean");
	for (uint32_t k = 0; k < fa.n_steps; k++) {
		assert_int_equal(sa[k].reached, sb[k].reached);
		assert_int_equal(sa[k].next_n, sb[k].next_n);
		same_num(sa[k].drop_off, sb[k].drop_off, true, "drop-off");
		same_num(sa[k].next_p50, sb[k].next_p50, true, "next p50");
		same_num(sa[k].next_p90, sb[k].next_p90, true, "next p90");
		same_num(sa[k].next_mean, sb[k].next_mean, exact, "next mean");
	}
	static const double qs[] = {0, 0.25, 0.5, 0.75, 0.9, 0.99, 1};
	for (uint32_t k = 0; k < fa.n_steps; k++) {
		uint32_t step = k + 1 == fa.n_steps ? CXM_NONE : k;
		double xa[7], xb[7];
		assert_int_equal(cxm_funnel_quantiles(xa, a, qa, step, qs, 7), CXM_OK);
		assert_int_equal(cxm_funnel_quantiles(xb, b, qb, step, qs, 7), CXM_OK);
		for (int i = 0; i < 7; i++)
			same_num(xa[i], xb[i], true, "funnel quantile");
	}
}

/* Every funnel of both journeys (whole, by each segment value, by each
 * channel) over a few windows; the options of both journeys; churn. */
static void cmp_funnels(cxm_context *a, cxm_context *b, int64_t t_end, bool exact)
{
	static const int64_t spans[] = {10 * MIN, 2 * HOUR, 3 * DAY};
	const int64_t ends[] = {t_end, t_end - 3 * HOUR};
	for (cxm_id j = 0; j < 2; j++) {
		cxm_journey_options oa = {.size = sizeof oa}, ob = {.size = sizeof ob};
		assert_int_equal(cxm_journey_get_options(&oa, a, j), CXM_OK);
		assert_int_equal(cxm_journey_get_options(&ob, b, j), CXM_OK);
		assert_memory_equal(&oa, &ob, sizeof oa);
		for (int g = -1; g < 8 + 4; g++) {
			cxm_funnel_query qa = CXM_FUNNEL_QUERY_INIT, qb;
			qa.journey = j;
			qb = qa;
			if (g >= 0 && g < 8) {
				const char *name = g < 4 ? TIERS[g] : REGIONS[g - 4];
				cxm_id seg = g < 4 ? 0 : 1;
				cxm_status fa = cxm_segment_value_find(&qa.segment_value, a, seg, name);
				cxm_status fb = cxm_segment_value_find(&qb.segment_value, b, seg, name);
				assert_int_equal(fa, fb);
				if (fa)
					continue;
				qa.segment = qb.segment = seg;
			} else if (g >= 8) {
				static const uint32_t ch[] = {CXM_CHANNEL_WEB, CXM_CHANNEL_PHONE,
							      CXM_CHANNEL_CHAT, CXM_CHANNEL_EMAIL};
				qa.channel = qb.channel = ch[g - 8];
			}
			for (size_t e = 0; e < 2; e++)
				for (size_t s = 0; s < 3; s++) {
					qa.end_ms = qb.end_ms = ends[e];
					qa.span_ms = qb.span_ms = spans[s];
					cmp_funnel(a, b, &qa, &qb, exact);
				}
		}
	}
	for (size_t e = 0; e < 2; e++) {
		cxm_churn ca = {.size = sizeof ca}, cb = {.size = sizeof cb};
		assert_int_equal(cxm_churn_rate(&ca, a, M_DIST, ends[e], 6 * HOUR, DAY), CXM_OK);
		assert_int_equal(cxm_churn_rate(&cb, b, M_DIST, ends[e], 6 * HOUR, DAY), CXM_OK);
		assert_int_equal(ca.churned, cb.churned);
		same_num(ca.active, cb.active, true, "active");
		same_num(ca.rate, cb.rate, true, "churn rate");
	}
}

/* Options other than the defaults on the support journey. */
static void set_journey_options(cxm_context *c)
{
	cxm_journey_options o;
	assert_int_equal(cxm_journey_options_init(&o, sizeof o), CXM_OK);
	o.flags = CXM_JOURNEY_COUNT_REPEATS | CXM_JOURNEY_WINDOW_EXCLUSIVE;
	o.abandon_ms = 40 * MIN;
	o.conversion_ms = 3 * HOUR;
	o.repeat_ms = 2 * DAY;
	assert_int_equal(cxm_journey_set_options(c, 1, &o), CXM_OK);
}

/* Churn events for some customers, each after its latest event in v. */
static void churn_some(cxm_context *c, const ev *v, size_t n, int parity)
{
	for (size_t i = n; i-- > n - n / 4;) {
		if (!v[i].cust || v[i].cust % 7 || (parity >= 0 && v[i].cust % 2 != parity))
			continue;
		char id[32];
		snprintf(id, sizeof id, "customer-%d", v[i].cust);
		cxm_status st = cxm_customer_churn(c, id, strlen(id), v[n - 1].t);
		assert_true(st == CXM_OK || st == CXM_ERR_EXISTS);
	}
}

/* A context with every kind of journey state: funnels by segment and
 * channel, options, abandonment by a sweep, churn. */
static cxm_context *journey_state(size_t n, uint64_t seed, ev **out)
{
	cxm_context *c = model_ctx();
	set_journey_options(c);
	ev *v = gen(n, START, STEP, seed);
	feed_all(c, v, n);
	churn_some(c, v, n, -1);
	uint64_t closed = 0;
	assert_int_equal(cxm_journey_sweep(&closed, c, START + (int64_t)n * STEP), CXM_OK);
	if (out)
		*out = v;
	else
		free(v);
	return c;
}

static void test_journey_round_trip(void **state)
{
	(void)state;
	ev *v;
	cxm_context *a = journey_state(900, 21, &v);
	assert_non_null(a->journeys);
	int64_t end = START + 900 * STEP;
	mem m = save_mem(a);
	cxm_context *b = load_copy(&m);
	assert_non_null(b->journeys);
	cmp_funnels(a, b, end, true);
	cmp_funnels(a, b, end + HOUR, true);
	cmp_stats(a, b, true); /* memory_bytes too */
	/* the loaded context saves the same bytes */
	mem m2 = save_mem(b);
	assert_int_equal(m.len, m2.len);
	assert_memory_equal(m.p, m2.p, m.len);
	/* and journeys go on alike: the customers' instances came along */
	ev *w = gen(300, end, STEP, 22);
	feed_all(a, w, 300);
	feed_all(b, w, 300);
	cmp_funnels(a, b, end + 300 * STEP, true);
	cmp_stats(a, b, true);
	free(m.p);
	free(m2.p);
	free(v);
	free(w);
	cxm_context_free(a);
	cxm_context_free(b);
}

/* Feed the events of v at positions idx[0 .. n) (of the whole workload),
 * sweeping every 5 minutes of the workload's schedule, as the header
 * recommends: instances end near their deadlines, so that no count is
 * folded behind its series' finest ring (instances.c folds such a count
 * into the oldest bucket the ring has, which depends on the context's
 * other traffic). */
static void feed_swept(cxm_context *c, const ev *v, const size_t *idx, size_t n)
{
	int64_t next = START + 5 * MIN;
	for (size_t i = 0; i < n; i++) {
		int64_t at = START + (int64_t)idx[i] * STEP;
		while (at >= next) {
			assert_int_equal(cxm_journey_sweep(NULL, c, next), CXM_OK);
			next += 5 * MIN;
		}
		feed_ev(c, &v[idx[i]]);
	}
}

/* The property of issues 3 and 6: seeded traffic split in two halves by
 * customer, fed to A and B and merged, answers every funnel exactly as one
 * context fed everything. */
static void test_journey_merge_halves(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		rng_state = seed * 77;
		size_t n = 500 + rndn(700);
		ev *v = gen(n, START, STEP, seed * 31);
		size_t *h[2], *all = calloc(n, sizeof(size_t));
		size_t nh[2] = {0, 0};
		h[0] = calloc(n, sizeof(size_t));
		h[1] = calloc(n, sizeof(size_t));
		assert_true(h[0] && h[1] && all);
		for (size_t i = 0; i < n; i++) {
			int side = v[i].cust ? v[i].cust % 2 : (int)(i % 2);
			h[side][nh[side]++] = i;
			all[i] = i;
		}
		cxm_context *ca = model_ctx(), *cb = model_ctx(), *cu = model_ctx();
		set_journey_options(ca);
		set_journey_options(cb);
		set_journey_options(cu);
		feed_swept(ca, v, h[0], nh[0]);
		feed_swept(cb, v, h[1], nh[1]);
		feed_swept(cu, v, all, n);
		churn_some(ca, v, n, 0);
		churn_some(cb, v, n, 1);
		churn_some(cu, v, n, -1);
		int64_t end = START + (int64_t)n * STEP;
		int64_t sweep = end + 10 * MIN;
		assert_int_equal(cxm_journey_sweep(NULL, ca, sweep), CXM_OK);
		assert_int_equal(cxm_journey_sweep(NULL, cb, sweep), CXM_OK);
		assert_int_equal(cxm_journey_sweep(NULL, cu, sweep), CXM_OK);
		if (seed % 2) {
			assert_int_equal(cxm_merge(ca, cb), CXM_OK);
		} else {
			mem m = save_mem(cb);
			assert_int_equal(cxm_snapshot_merge_mem(ca, m.p, m.len), CXM_OK);
			free(m.p);
		}
		/* the workload reaches every kind of count */
		cxm_funnel f = {.size = sizeof f};
		cxm_funnel_step fs[4] = {{.size = sizeof fs[0]}};
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = 1;
		q.end_ms = end + HOUR;
		q.span_ms = 3 * DAY;
		assert_int_equal(cxm_funnel_run(&f, fs, 4, cu, &q), CXM_OK);
		assert_true(f.entered > 20 && f.completed > 0 && f.abandoned > 0 && f.repeats > 0);
		assert_true(f.goal_n > 0 && fs[0].next_n > 0);
		cxm_churn ch = {.size = sizeof ch};
		assert_int_equal(cxm_churn_rate(&ch, cu, M_DIST, end + HOUR, 2 * HOUR, DAY), CXM_OK);
		assert_true(ch.churned > 0);
		cmp_funnels(ca, cu, end, false);
		cmp_funnels(ca, cu, end + 2 * HOUR, false);
		cmp_ctx(ca, cu, end, false);
		/* the customers' instances came along: feeding on agrees */
		ev *w = gen(200, end, STEP, seed * 31 + 1);
		feed_all(ca, w, 200);
		feed_all(cu, w, 200);
		cmp_funnels(ca, cu, end + 200 * STEP, false);
		free(w);
		free(v);
		free(all);
		free(h[0]);
		free(h[1]);
		cxm_context_free(ca);
		cxm_context_free(cb);
		cxm_context_free(cu);
	}
}

/* Options differ: the merge is refused, naming the journey, and nothing
 * changed; the customers' later journey step wins. */
static void test_journey_merge_rules(void **state)
{
	(void)state;
	cxm_context *a = journey_state(200, 5, NULL), *b = model_ctx();
	cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
	assert_int_equal(cxm_stats_get(&s0, b), CXM_OK);
	assert_int_equal(cxm_merge(b, a), CXM_ERR_EXISTS);
	assert_non_null(strstr(cxm_errmsg(b), "'support'"));
	assert_int_equal(cxm_stats_get(&s1, b), CXM_OK);
	assert_int_equal(s1.memory_bytes, s0.memory_bytes);
	assert_null(b->journeys);
	set_journey_options(b);
	assert_int_equal(cxm_merge(b, a), CXM_OK);
	cmp_funnels(a, b, START + 200 * STEP, false);
	cxm_context_free(b);

	/* one customer on both sides: the later latest step is kept */
	cxm_context *x = model_ctx(), *y = model_ctx();
	ev e;
	memset(&e, 0, sizeof e);
	e.cust = 1;
	e.tier = e.region = -1;
	e.t = START;
	e.tp = 0; /* buy: browse */
	feed_ev(x, &e);
	e.t = START + MIN;
	e.tp = 3; /* support: contact */
	feed_ev(y, &e);
	e.t = START + 2 * MIN;
	e.tp = 1; /* buy: cart */
	feed_ev(x, &e);
	assert_int_equal(cxm_merge(y, x), CXM_OK); /* x's step at +2 min wins */
	e.t = START + 3 * MIN;
	e.tp = 2; /* buy: pay completes x's instance, now y's */
	feed_ev(y, &e);
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[4];
	st[0].size = sizeof st[0];
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = 0;
	q.span_ms = HOUR;
	q.end_ms = START + 10 * MIN;
	assert_int_equal(cxm_funnel_run(&f, st, 4, y, &q), CXM_OK);
	assert_int_equal(f.entered, 1);
	assert_int_equal(f.completed, 1);
	assert_int_equal(f.goal_n, 1);
	same_num(f.goal_mean, 180.0, true, "time to goal");
	cxm_context_free(x);
	cxm_context_free(y);
	cxm_context_free(a);
}

/* The offset of the JOURNEYS section's payload, and its length. */
static size_t find_journeys(const mem *m, uint64_t *len)
{
	size_t off = 64;
	while (off + 20 <= m->len) {
		uint32_t type;
		uint64_t sl;
		memcpy(&type, m->p + off, 4);
		memcpy(&sl, m->p + off + 8, 8);
		if (type == 6) {
			*len = sl;
			return off + 16;
		}
		off += 20 + (size_t)sl;
	}
	fail_msg("no JOURNEYS section");
	return 0;
}

/* Damage in the JOURNEYS section: a flipped byte fails its checksum; with
 * checksums made good, a flipped byte is read or refused with a code, and
 * the section cut short at every length is refused; the context is left
 * as it was (a load's empty, a merge's answers and memory). */
static void test_journey_damage(void **state)
{
	(void)state;
	cxm_context *a = model_ctx();
	set_journey_options(a);
	ev *v = gen(6, START, 5 * MIN, 3);
	/* the support journey (two steps), one segment value: every kind of
	 * record, in a few hundred bytes */
	for (int i = 0; i < 6; i++) {
		v[i].tp = 3 + (uint32_t)(i / 2 % 2);
		v[i].cust = 1 + i % 2;
		v[i].tier = i % 2 ? 1 : -1;
		v[i].region = -1;
		v[i].n_ms = 0;
	}
	feed_all(a, v, 6);
	mem m = save_mem(a);
	uint64_t jl = 0;
	size_t jo = find_journeys(&m, &jl);
	assert_true(jl > 40);
	cxm_context *c = new_ctx(), *d = model_ctx();
	set_journey_options(d);
	feed_all(d, v, 3);
	cxm_stats s0 = {.size = sizeof s0}, sd = {.size = sizeof sd}, s = {.size = sizeof s};
	cxm_stats_get(&s0, c);
	cxm_stats_get(&sd, d);
	unsigned char *x = malloc(m.len);
	size_t accepted = 0, tries = 0;
	/* every byte of the first 256 (flag, churn series, the first
	 * journey's options and first group), then every 11th: the tests run
	 * under valgrind */
	for (size_t i = jo; i < jo + jl; i += i < jo + 256 ? 1 : 11) {
		for (int fix = 0; fix < 2; fix++) {
			memcpy(x, m.p, m.len);
			x[i] ^= (unsigned char)(fix ? 1u << (i % 8) : 0xff);
			if (fix) {
				rechecksum(x, m.len);
				tries++;
			}
			cxm_status st = cxm_snapshot_load_mem(c, x, m.len);
			if (!fix)
				assert_int_equal(st, CXM_ERR_CORRUPT);
			if (st == CXM_OK) {
				accepted++;
				cxm_context_free(c);
				c = new_ctx();
				continue;
			}
			if (st != CXM_ERR_CORRUPT && st != CXM_ERR_LIMIT)
				fail_msg("byte %zu: %s (%s)", i - jo, cxm_strerror(st), cxm_errmsg(c));
			assert_empty(c, s0.memory_bytes);
			st = cxm_snapshot_merge_mem(d, x, m.len);
			if (st == CXM_OK) {
				cxm_context_free(d);
				d = model_ctx();
				set_journey_options(d);
				feed_all(d, v, 3);
				continue;
			}
			cxm_stats_get(&s, d);
			assert_int_equal(s.memory_bytes, sd.memory_bytes);
		}
	}
	assert_true(accepted < tries); /* some damage is refused */
	assert_true(accepted > 0);     /* and some only changes counts */
	/* cut: the section ends early, its length, checksum and the end
	 * section's byte count made good */
	size_t tail = m.len - (jo + jl); /* the checksum, STATS and END */
	for (uint64_t cut = 0; cut < jl; cut += cut < 256 ? 1 : 11) {
		size_t n = jo + cut;
		memcpy(x, m.p, n);
		memcpy(x + n, m.p + jo + jl, tail);
		memcpy(x + jo - 8, &cut, 8);
		size_t len = n + tail;
		uint64_t end_at = len - 36; /* the END section: 16 + 16 + 4 */
		memcpy(x + len - 4 - 8, &end_at, 8);
		rechecksum(x, len);
		cxm_status st = cxm_snapshot_load_mem(c, x, len);
		if (st != CXM_ERR_CORRUPT)
			fail_msg("cut at %llu: %s (%s)", (unsigned long long)cut, cxm_strerror(st),
				 cxm_errmsg(c));
		assert_empty(c, s0.memory_bytes);
		assert_int_equal(cxm_snapshot_merge_mem(d, x, len), CXM_ERR_CORRUPT);
		cxm_stats_get(&s, d);
		assert_int_equal(s.memory_bytes, sd.memory_bytes);
	}
	/* the same cut-and-mend of nothing loads: the mending is right */
	memcpy(x, m.p, m.len);
	rechecksum(x, m.len);
	assert_int_equal(cxm_snapshot_load_mem(c, x, m.len), CXM_OK);
	free(x);
	free(v);
	free(m.p);
	cxm_context_free(a);
	cxm_context_free(c);
	cxm_context_free(d);
}

/* ---- hostile but well-checksummed customer and journey state ----------------------------- */

/* The payload offset and length of the first section of type `type`. */
static size_t find_section(const unsigned char *p, size_t len, uint32_t type, uint64_t *sl_out)
{
	size_t off = 64;
	while (off + 20 <= len) {
		uint32_t t;
		uint64_t sl;
		memcpy(&t, p + off, 4);
		memcpy(&sl, p + off + 8, 8);
		if (t == type) {
			*sl_out = sl;
			return off + 16;
		}
		off += 20 + (size_t)sl;
	}
	fail_msg("no section of type %u", type);
	return 0;
}

/* A context whose support journey (phone, then chat) has customer-1 at
 * its first step: an open instance on the phone channel. */
static cxm_context *support_state(void)
{
	cxm_context *c = model_ctx();
	ev e;
	memset(&e, 0, sizeof e);
	e.t = START;
	e.tp = 3; /* phone: support step 0 */
	e.cust = 1;
	e.tier = e.region = -1;
	e.ms[e.n_ms++] = (cxm_measure){M_NPS, 0, 9};
	feed_ev(c, &e);
	return c;
}

/* Flags of a CUSTOMERS entry that index past the funnels, or say a journey
 * instance is open on no journey, are refused (they crashed the next feed
 * or sweep), on load and on merge alike, with good checksums. */
static void test_customer_flags(void **state)
{
	(void)state;
	cxm_context *a = support_state();
	mem m = save_mem(a);
	uint64_t sl = 0;
	size_t co = find_section(m.p, m.len, 4, &sl);
	assert_int_equal(sl, 32 + 32); /* one customer */
	unsigned char *rec = m.p + co + 32;
	assert_int_equal(rec[23] & 0x10, 0x10); /* open */
	assert_int_equal(rec[23] & 0x0f, CXM_CHANNEL_PHONE);
	static const struct {
		uint16_t journey;
		uint8_t flags;
	} bad[] = {
		{0, 0x10 | CXM_CHANNEL_PHONE}, /* open, on no journey */
		{0, CXM_CHANNEL_PHONE},        /* a channel, on no journey */
		{2, 0x10 | 9},                 /* channel 9 */
		{2, 0x10 | 15},                /* channel 15 */
		{2, 0x10},                     /* open on no channel */
		{2, 0x30 | CXM_CHANNEL_PHONE}, /* open and done */
		{2, 0x80 | CXM_CHANNEL_PHONE}, /* an unknown bit */
	};
	unsigned char *x = malloc(m.len);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memcpy(x, m.p, m.len);
		memcpy(x + co + 32 + 20, &bad[i].journey, 2);
		x[co + 32 + 23] = bad[i].flags;
		if (!bad[i].journey)
			x[co + 32 + 22] = 0;
		rechecksum(x, m.len);
		cxm_context *c = new_ctx(), *d = model_ctx();
		cxm_status st = cxm_snapshot_load_mem(c, x, m.len);
		if (st != CXM_ERR_CORRUPT)
			fail_msg("case %zu: load gave %s (%s)", i, cxm_strerror(st), cxm_errmsg(c));
		assert_int_equal(cxm_snapshot_merge_mem(d, x, m.len), CXM_ERR_CORRUPT);
		cxm_context_free(c);
		cxm_context_free(d);
	}
	/* the unmodified file, mended the same way, loads, feeds and sweeps */
	memcpy(x, m.p, m.len);
	rechecksum(x, m.len);
	cxm_context *c = new_ctx();
	assert_int_equal(cxm_snapshot_load_mem(c, x, m.len), CXM_OK);
	uint64_t closed = 0;
	assert_int_equal(cxm_journey_sweep(&closed, c, START + 40 * DAY), CXM_OK);
	assert_int_equal(closed, 1);
	cxm_context_free(c);
	free(x);
	free(m.p);
	cxm_context_free(a);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "hung: a feed after loading a snapshot without JOURNEYS\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(3);
	_exit(2);
}

/* The JOURNEYS section is optional. Without it, a customer whose open
 * instance began on another channel than its next step's spun forever
 * under the customer lock; the sweep then dropped its abandonment. Now
 * the next step and the sweep count, after a load and after a merge. */
static void test_no_journeys_section(void **state)
{
	(void)state;
	cxm_context *a = support_state();
	mem m = save_mem(a);
	unsigned char *x = malloc(m.len);
	memcpy(x, m.p, m.len);
	size_t len = m.len;
	/* JOURNEYS, and COHORTS, which holds the cohorts of its groups */
	const uint32_t drop[2] = {13, 6};
	for (int d = 0; d < 2; d++) {
		uint64_t jl = 0;
		size_t jo = find_section(x, len, drop[d], &jl) - 16;
		size_t cut = 20 + (size_t)jl;
		memmove(x + jo, x + jo + cut, len - jo - cut);
		len -= cut;
		/* the END section: one section fewer, its offset earlier */
		uint64_t sections, end_at;
		memcpy(&sections, x + len - 20, 8);
		sections--;
		memcpy(x + len - 20, &sections, 8);
		end_at = len - 36;
		memcpy(x + len - 12, &end_at, 8);
	}
	rechecksum(x, len);
	signal(SIGALRM, on_alarm);
	for (int merge = 0; merge < 2; merge++) {
		cxm_context *c = merge ? model_ctx() : new_ctx();
		cxm_status st = merge ? cxm_snapshot_merge_mem(c, x, len) : cxm_snapshot_load_mem(c, x, len);
		if (st)
			fail_msg("%s: %s (%s)", merge ? "merge" : "load", cxm_strerror(st), cxm_errmsg(c));
		alarm(20);
		ev e;
		memset(&e, 0, sizeof e);
		e.t = START + 5 * MIN;
		e.tp = 4; /* chat: support step 1, the goal */
		e.cust = 1;
		e.tier = e.region = -1;
		assert_int_equal(feed_ev_st(c, &e), CXM_OK);
		/* a second customer left open on the phone is swept: counted */
		e.tp = 3;
		e.cust = 2;
		assert_int_equal(feed_ev_st(c, &e), CXM_OK);
		alarm(0);
		uint64_t closed = 0;
		assert_int_equal(cxm_journey_sweep(&closed, c, START + 40 * DAY), CXM_OK);
		assert_int_equal(closed, 1);
		cxm_funnel_query fq = CXM_FUNNEL_QUERY_INIT;
		fq.journey = 1;
		fq.end_ms = START + DAY;
		fq.span_ms = 2 * DAY;
		cxm_funnel f = {.size = sizeof f};
		cxm_funnel_step steps[2] = {{.size = sizeof steps[0]}};
		assert_int_equal(cxm_funnel_run(&f, steps, 2, c, &fq), CXM_OK);
		/* customer-1 entered before the save (its count went with the
		 * JOURNEYS section), customer-2 after */
		assert_int_equal(f.entered, 1);
		assert_int_equal(f.completed, 1);
		assert_int_equal(steps[1].reached, 1);
		fq.channel = CXM_CHANNEL_PHONE;
		assert_int_equal(cxm_funnel_run(&f, steps, 2, c, &fq), CXM_OK);
		assert_int_equal(f.completed, 1); /* the instance begun on the phone */
		fq.channel = 0;
		fq.end_ms = START + 41 * DAY;
		fq.span_ms = 42 * DAY;
		assert_int_equal(cxm_funnel_run(&f, steps, 2, c, &fq), CXM_OK);
		assert_int_equal(f.abandoned + f.expired, 1);
		cxm_context_free(c);
	}
	free(x);
	free(m.p);
	cxm_context_free(a);
}


/* Sums no feeding can make are refused at load, so that merging loaded
 * files can never overflow to infinity and make a context whose next
 * snapshot its own loader refuses; the largest values feeding allows
 * merge and save again however often they are merged. */
static void test_sums_bounded(void **state)
{
	(void)state;
	const double marker = 123456.789;
	cxm_context *a = model_ctx();
	ev e;
	memset(&e, 0, sizeof e);
	e.t = START;
	e.tp = 5;
	e.tier = e.region = -1;
	e.ms[e.n_ms++] = (cxm_measure){M_AMT, 0, marker};
	feed_ev(a, &e);
	mem m = save_mem(a);
	unsigned char *x = malloc(m.len);
	static const double bad[] = {1e300, -1e300, 1e35, 1.7976931348623157e308};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		memcpy(x, m.p, m.len);
		size_t hits = 0;
		for (size_t i = 64; i + 8 <= m.len; i++) {
			double d;
			memcpy(&d, x + i, 8);
			if (d == marker) {
				memcpy(x + i, &bad[k], 8);
				hits++;
			}
		}
		assert_true(hits >= 2); /* the hot or ring cell and the lifetime cell */
		rechecksum(x, m.len);
		cxm_context *c = new_ctx(), *d = model_ctx();
		assert_int_equal(cxm_snapshot_load_mem(c, x, m.len), CXM_ERR_CORRUPT);
		assert_int_equal(cxm_snapshot_merge_mem(d, x, m.len), CXM_ERR_CORRUPT);
		cxm_context_free(c);
		cxm_context_free(d);
	}
	free(x);
	free(m.p);
	cxm_context_free(a);
	/* the largest amounts feeding takes, merged into one context 40
	 * times over: every snapshot of the result loads */
	a = model_ctx();
	e.ms[0].value = CXM_VALUE_MAX;
	for (int i = 0; i < 50; i++)
		feed_ev(a, &e);
	e.ms[0].value = -CXM_VALUE_MAX;
	feed_ev(a, &e);
	m = save_mem(a);
	cxm_context *d = model_ctx();
	for (int i = 0; i < 40; i++) {
		assert_int_equal(cxm_snapshot_merge_mem(d, m.p, m.len), CXM_OK);
		mem again = save_mem(d);
		cxm_context *c = new_ctx();
		cxm_status st = cxm_snapshot_load_mem(c, again.p, again.len);
		if (st)
			fail_msg("after %d merges: %s (%s)", i + 1, cxm_strerror(st), cxm_errmsg(c));
		cxm_context_free(c);
		free(again.p);
	}
	free(m.p);
	cxm_context_free(a);
	cxm_context_free(d);
}

/* max_memory bounds what a load or a merge may allocate: a snapshot that
 * needs more is refused before it takes the memory, and the context is
 * left as it was; with room, the same file loads. */
static void test_max_memory(void **state)
{
	(void)state;
	cxm_context *a = small_state(3);
	mem m = save_mem(a);
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, a), CXM_OK);
	cxm_config cfg = small_cfg();
	cfg.max_memory = s.memory_bytes / 4;
	cxm_context *c = NULL;
	assert_int_equal(cxm_context_new(&c, &cfg), CXM_OK);
	cxm_stats s0 = {.size = sizeof s0};
	cxm_stats_get(&s0, c);
	cxm_status st = cxm_snapshot_load_mem(c, m.p, m.len);
	if (st != CXM_ERR_LIMIT && st != CXM_ERR_NO_MEMORY)
		fail_msg("load over max_memory: %s (%s)", cxm_strerror(st), cxm_errmsg(c));
	assert_empty(c, s0.memory_bytes);
	cxm_context_free(c);
	/* feeding stops at the limit with NO_MEMORY, and what is held stays under it */
	cfg.max_memory = s0.memory_bytes + 64 * 1024;
	assert_int_equal(cxm_context_new(&c, &cfg), CXM_OK);
	define_model(c);
	ev *v = gen(200, START, MIN, 5);
	bool refused = false;
	for (int i = 0; i < 200; i++) {
		st = feed_ev_st(c, &v[i]);
		if (st == CXM_ERR_NO_MEMORY)
			refused = true;
		else if (st != CXM_OK && st != CXM_ERR_LIMIT)
			fail_msg("feed %d: %s", i, cxm_strerror(st));
	}
	free(v);
	assert_true(refused);
	cxm_stats_get(&s, c);
	assert_true(s.memory_bytes <= cfg.max_memory);
	cxm_context_free(c);
	/* with room it loads */
	cfg.max_memory = 0;
	assert_int_equal(cxm_context_new(&c, &cfg), CXM_OK);
	assert_int_equal(cxm_snapshot_load_mem(c, m.p, m.len), CXM_OK);
	cxm_context_free(c);
	free(m.p);
	cxm_context_free(a);
}


/* What a load reads: only a regular file, never past its size, through
 * interrupted and short reads; what a save leaves: the replaced file's
 * mode, and no temporary file of a process that died mid-save. */
static void test_file_inputs(void **state)
{
	(void)state;
	clean_dir();
	cxm_context *a = small_state(4), *c = new_ctx();
	signal(SIGALRM, on_alarm);
	alarm(20);
	assert_int_equal(cxm_snapshot_load(c, "/dev/zero"), CXM_ERR_IO);
	assert_non_null(strstr(cxm_errmsg(c), "not a regular file"));
	assert_int_equal(cxm_snapshot_load(c, dir), CXM_ERR_IO);
	char fifo[192];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(cxm_snapshot_load(c, fifo), CXM_ERR_IO); /* no writer: must not wait */
	assert_int_equal(cxm_snapshot_merge(c, fifo), CXM_ERR_IO);
	alarm(0);
	unlink(fifo);
	/* EINTR is retried, not taken for the end of the file */
	assert_int_equal(cxm_snapshot_save(a, path), CXM_OK);
	c->io = &fault_io;
	arm_fault(F_EINTR, 0, 0);
	cxm_status st = cxm_snapshot_load(c, path);
	if (st)
		fail_msg("load through EINTR: %s (%s)", cxm_strerror(st), cxm_errmsg(c));
	assert_true(F.calls > 4);
	c->io = NULL;
	cxm_context_free(c);
	/* the mode of the file a save replaces is kept */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(cxm_snapshot_save(a, path), CXM_OK);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	/* stale temporary files: a dead process's go, a live one's stay, and
	 * files that only look alike stay */
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	assert_true(dead > 0);
	assert_int_equal(waitpid(dead, NULL, 0), dead);
	char stale[256], live[256], other[256];
	snprintf(stale, sizeof stale, "%s.tmp-%ld-1f2e", path, (long)dead);
	snprintf(live, sizeof live, "%s.tmp-%ld-abc", path, (long)getppid());
	snprintf(other, sizeof other, "%s.tmp-notapid", path);
	const char *plant[] = {stale, live, other};
	for (int i = 0; i < 3; i++) {
		FILE *f = fopen(plant[i], "w");
		assert_non_null(f);
		fputs("partial", f);
		fclose(f);
	}
	assert_int_equal(cxm_snapshot_save(a, path), CXM_OK);
	assert_int_equal(access(stale, F_OK), -1);
	assert_int_equal(access(live, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
	clean_dir();
	cxm_context_free(a);
}


/* A clock 10 years ahead for one interaction: after the clock is put
 * right, feeds are TOO_LATE with a message naming the way out; cxm_rewind
 * discards what lies ahead, feeds are accepted again, the numbers are
 * those of the interactions at the right times, and snapshots of the
 * result load. */
static void test_clock_jump(void **state)
{
	(void)state;
	const int64_t now0 = clk.now, jump = INT64_C(3653) * DAY;
	cxm_context *c = model_ctx();
	ev e;
	memset(&e, 0, sizeof e);
	e.tier = e.region = -1;
	e.cust = 1;
	e.tp = 0; /* buy, step 0 */
	e.t = now0 - 10 * MIN;
	e.ms[e.n_ms++] = (cxm_measure){M_NPS, 0, 9};
	feed_ev(c, &e);
	clk.now = now0 + jump; /* the clock jumps */
	e.t = clk.now;
	e.tp = 1; /* cart */
	e.ms[0].value = 0;
	feed_ev(c, &e);
	clk.now = now0 + MIN; /* and is put right */
	e.t = clk.now;
	e.tp = 0;
	e.ms[0].value = 10;
	assert_int_equal(feed_ev_st(c, &e), CXM_ERR_TOO_LATE);
	assert_non_null(strstr(cxm_errmsg(c), "cxm_rewind"));
	uint64_t gone = 0;
	assert_int_equal(cxm_rewind(NULL, NULL, clk.now), CXM_ERR_INVALID);
	assert_int_equal(cxm_rewind(&gone, c, -1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_rewind(&gone, c, CXM_TIME_MAX + 1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_rewind(&gone, c, clk.now), CXM_OK);
	assert_true(gone >= 2);
	assert_int_equal(feed_ev_st(c, &e), CXM_OK);
	/* nothing was ahead any more */
	assert_int_equal(cxm_rewind(&gone, c, clk.now + HOUR), CXM_OK);
	assert_int_equal(gone, 0);
	cxm_query q = CXM_QUERY_INIT;
	q.metric = M_NPS;
	q.end_ms = clk.now + MIN;
	q.span_ms = DAY;
	cxm_result r = {.size = sizeof r};
	assert_int_equal(cxm_query_run(&r, c, &q), CXM_OK);
	assert_int_equal(r.n, 2); /* 9 and 10: the answer from the jump is gone */
	assert_true(r.value > 99.9);
	/* the customer's journey instance from the jump is gone: it starts anew */
	cxm_funnel_query fq = CXM_FUNNEL_QUERY_INIT;
	fq.journey = 0;
	fq.end_ms = clk.now + MIN;
	fq.span_ms = DAY;
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step steps[3] = {{.size = sizeof steps[0]}};
	assert_int_equal(cxm_funnel_run(&f, steps, 3, c, &fq), CXM_OK);
	assert_int_equal(steps[1].reached, 0);
	mem m = save_mem(c);
	cxm_context *d = new_ctx();
	cxm_status st = cxm_snapshot_load_mem(d, m.p, m.len);
	if (st)
		fail_msg("load after rewind: %s (%s)", cxm_strerror(st), cxm_errmsg(d));
	cxm_result r2 = {.size = sizeof r2};
	assert_int_equal(cxm_query_run(&r2, d, &q), CXM_OK);
	assert_int_equal(r2.n, 2);
	e.t = clk.now;
	assert_int_equal(feed_ev_st(d, &e), CXM_OK);
	free(m.p);
	cxm_context_free(d);
	cxm_context_free(c);
	clk.now = now0;
}


/* Records that hold nothing make no series: a file of empty distinct-count
 * records (60 bytes each, a 2.45 MB series each at the default tiers)
 * cannot make a load allocate per record. */
static void test_empty_records_allocate_nothing(void **state)
{
	(void)state;
	cxm_context *a = model_ctx();
	for (uint32_t tp = 0; tp < N_TP; tp++) {
		ev e;
		memset(&e, 0, sizeof e);
		e.t = START;
		e.tp = tp;
		e.cust = 1 + (int)tp;
		e.tier = e.region = -1;
		feed_ev(a, &e);
	}
	uint64_t gone = 0;
	assert_int_equal(cxm_rewind(&gone, a, START - DAY), CXM_OK); /* every bucket goes */
	assert_true(gone > 0);
	mem m = save_mem(a);
	cxm_stats sa = {.size = sizeof sa}, sb = {.size = sizeof sb}, s0 = {.size = sizeof s0};
	assert_int_equal(cxm_stats_get(&sa, a), CXM_OK);
	cxm_context *b = new_ctx();
	assert_int_equal(cxm_stats_get(&s0, b), CXM_OK);
	assert_int_equal(cxm_snapshot_load_mem(b, m.p, m.len), CXM_OK);
	assert_int_equal(cxm_stats_get(&sb, b), CXM_OK);
	/* only the volume and distinct series were fed; the volume series
	 * keep their lifetime totals, the distinct ones have none */
	assert_true(sb.series < sa.series);
	assert_true(sb.memory_bytes < sa.memory_bytes);
	free(m.p);
	cxm_context_free(a);
	cxm_context_free(b);
}

/* ---- bad arguments ----------------------------------------------------------------------------- */

static int never(const void *d, size_t n, void *p)
{
	(void)d;
	(void)n;
	(void)p;
	return 1;
}

static void test_bad_args(void **state)
{
	(void)state;
	cxm_context *a = small_state(7);
	mem m = save_mem(a);
	cxm_context *e = new_ctx();
	assert_int_equal(cxm_snapshot_save(NULL, path), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_save(a, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_save(a, ""), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_write(NULL, to_mem, &m), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_write(a, NULL, &m), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_write(a, never, NULL), CXM_ERR_IO);
	assert_int_equal(cxm_snapshot_load(NULL, path), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_load(e, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_load(e, ""), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_load_mem(NULL, m.p, m.len), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_load_mem(e, NULL, 10), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_load_mem(e, NULL, 0), CXM_ERR_CORRUPT);
	assert_int_equal(cxm_snapshot_load_mem(a, m.p, m.len), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_merge(NULL, path), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_merge(e, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_merge(e, ""), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_merge_mem(NULL, m.p, m.len), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_merge_mem(e, NULL, 10), CXM_ERR_INVALID);
	assert_int_equal(cxm_snapshot_merge_mem(e, NULL, 0), CXM_ERR_CORRUPT);
	assert_int_equal(cxm_merge(NULL, a), CXM_ERR_INVALID);
	assert_int_equal(cxm_merge(a, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_merge(a, a), CXM_ERR_INVALID);
	/* a merge into an empty context lacks the model */
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, e), CXM_OK);
	assert_int_equal(cxm_snapshot_merge_mem(e, m.p, m.len), CXM_ERR_UNKNOWN_ID);
	assert_empty(e, s.memory_bytes);
	free(m.p);
	cxm_context_free(a);
	cxm_context_free(e);
}

static void test_crc32c(void **state)
{
	(void)state;
	/* the check value of CRC-32C, and chaining */
	assert_int_equal(cxm__crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(cxm__crc32c(cxm__crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
	unsigned char z[32] = {0};
	assert_int_equal(cxm__crc32c(0, z, 32), 0x8A9136AAu);
}

/* A customer 30 days into a journey instance: format 4 writes the step
 * time in its offset encoding, format 3 wrote plain ms, which a load
 * converts (patched into a saved file here, checksums redone). Read as
 * today's encoding, those ms would put the step 5 000 days ahead and
 * refuse the next one as late. */
static void test_v3_instance_times(void **state)
{
	(void)state;
	const int64_t now0 = clk.now, t0 = now0 - 60 * DAY;
	cxm_context *a = model_ctx();
	cxm_journey_options o = CXM_JOURNEY_OPTIONS_INIT;
	o.conversion_ms = 60 * DAY;
	assert_int_equal(cxm_journey_set_options(a, 0, &o), CXM_OK);
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.customer = "dora";
	ix.customer_len = 4;
	ix.touchpoint = 0; /* web: step 0 */
	ix.time_ms = clk.now = t0;
	assert_int_equal(cxm_feed(a, &ix), CXM_OK);
	const int64_t off = 30 * DAY + 123; /* past 2^31 ms */
	ix.touchpoint = 1; /* cart */
	ix.time_ms = clk.now = t0 + off;
	assert_int_equal(cxm_feed(a, &ix), CXM_OK);
	membuf m = {0};
	assert_int_equal(cxm_snapshot_write(a, membuf_write, &m), CXM_OK);
	/* the customers section, and the step time in it */
	unsigned char *c = m.p;
	size_t at = 64;
	uint64_t len = 0;
	for (;;) {
		uint32_t type;
		memcpy(&type, c + at, 4);
		memcpy(&len, c + at + 8, 8);
		if (type == 4)
			break;
		at += 16 + len + 4;
		assert_true(at < m.len);
	}
	const uint32_t enc = cxm__off_encode(off), raw = (uint32_t)off;
	assert_true(enc & OFF_SECS); /* stored to the second */
	int found = 0;
	for (size_t i = at + 16; i + 4 <= at + 16 + len; i++)
		if (!memcmp(c + i, &enc, 4)) {
			memcpy(c + i, &raw, 4);
			found++;
		}
	assert_int_equal(found, 1);
	uint32_t crc = cxm__crc32c(0, c + at, 16 + len);
	memcpy(c + at + 16 + len, &crc, 4);
	c[8] = 3;
	crc = cxm__crc32c(0, c, 60);
	memcpy(c + 60, &crc, 4);
	cxm_context *b = new_ctx();
	assert_int_equal(cxm_snapshot_load_mem(b, c, m.len), CXM_OK);
	free(m.p);
	/* both go on alike: pay 10 days after the cart */
	ix.touchpoint = 2;
	ix.time_ms = clk.now = t0 + 40 * DAY;
	assert_int_equal(cxm_feed(a, &ix), CXM_OK);
	assert_int_equal(cxm_feed(b, &ix), CXM_OK);
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = 0;
	q.span_ms = HOUR;
	const double qs[] = {0.5};
	double ta, tb;
	assert_int_equal(cxm_funnel_quantiles(&ta, a, &q, 1, qs, 1), CXM_OK);
	assert_int_equal(cxm_funnel_quantiles(&tb, b, &q, 1, qs, 1), CXM_OK);
	assert_true(fabs(ta - 10.0 * 86400) <= 0.05 * 10 * 86400);
	assert_double_equal(ta, tb, 0);
	cxm_context_free(a);
	cxm_context_free(b);
	clk.now = now0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_merge_equals_union),
		cmocka_unit_test(test_merge_commutes_associates),
		cmocka_unit_test(test_merge_maps_values),
		cmocka_unit_test(test_merge_customers_full),
		cmocka_unit_test(test_load_rules),
		cmocka_unit_test(test_merge_mismatch),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_save_faults),
		cmocka_unit_test(test_kill9),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_oom),
		cmocka_unit_test(test_journey_round_trip),
		cmocka_unit_test(test_journey_merge_halves),
		cmocka_unit_test(test_journey_merge_rules),
		cmocka_unit_test(test_journey_damage),
		cmocka_unit_test(test_customer_flags),
		cmocka_unit_test(test_no_journeys_section),
		cmocka_unit_test(test_max_memory),
		cmocka_unit_test(test_sums_bounded),
		cmocka_unit_test(test_file_inputs),
		cmocka_unit_test(test_clock_jump),
		cmocka_unit_test(test_empty_records_allocate_nothing),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_v3_instance_times),
	};
	return cmocka_run_group_tests(tests, mkdir_tmp, rmdir_tmp);
}
