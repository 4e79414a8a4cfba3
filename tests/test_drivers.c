/* Key drivers: planted effects ranked, a null driver's interval covering
 * 0 as often as its confidence says, the statistics against a plain
 * recomputation, bands against hand-worked numbers, the window rules,
 * snapshots and merges, every bad argument. */
#include "testutil.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_TP 5

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id tp[N_TP], survey, shop, csat, nps, revenue, set;
} fx;

static cxm_config fx_cfg(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	memset(cfg.customer_key, 7, sizeof cfg.customer_key);
	return cfg;
}

static void fx_model(fx *f)
{
	char name[16];
	for (int i = 0; i < N_TP; i++) {
		snprintf(name, sizeof name, "tp%d", i);
		assert_int_equal(cxm_touchpoint_define(&f->tp[i], f->ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0),
				 CXM_OK);
	}
	assert_int_equal(cxm_touchpoint_define(&f->survey, f->ctx, "survey", CXM_CHANNEL_EMAIL, CXM_NONE, 0),
			 CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->shop, f->ctx, "shop", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_CSAT5), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->csat, f->ctx, "csat", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->nps, f->ctx, "nps", &d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_AMOUNT), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->revenue, f->ctx, "revenue", &d), CXM_OK);
}

static void fx_make(fx *f)
{
	memset(f, 0, sizeof *f);
	f->clk.now = T0 + 30 * DAY;
	cxm_config cfg = fx_cfg();
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	fx_model(f);
}

/* The set "csat drivers of nps" over the five touchpoints. */
static void fx_set(fx *f)
{
	cxm_drivers_def d;
	assert_int_equal(cxm_drivers_def_init(&d, sizeof d), CXM_OK);
	assert_int_equal(d.journey, CXM_NONE);
	d.outcome = f->nps;
	d.driver = f->csat;
	d.touchpoints = f->tp;
	d.n_touchpoints = N_TP;
	d.window_ms = 7 * DAY;
	assert_int_equal(cxm_drivers_define(&f->set, f->ctx, "csat drivers of nps", &d), CXM_OK);
}

static cxm_status feed_c(cxm_context *ctx, int64_t t, cxm_id tp, int cust, cxm_id metric, double v)
{
	char id[24];
	snprintf(id, sizeof id, "customer-%d", cust);
	cxm_measure m = {metric, 0, v};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.measures = &m;
	ix.n_measures = 1;
	ix.customer = id;
	ix.customer_len = strlen(id);
	return cxm_feed(ctx, &ix);
}

/* ---- seeded data -------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static double rng_normal(uint64_t *s)
{
	double u = rng_unit(s), v = rng_unit(s);
	return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
}

/* Planted effects: NPS answer = 6 + 1.0 (csat0 - 3) + 0.5 (csat1 - 3) +
 * noise, clamped to 0..10; csat2..4 have no effect. Customer c visits
 * every touchpoint a minute apart, 10 minutes after customer c - 1,
 * then answers. */
typedef struct pairs {
	int x[N_TP];
	int y;
} pairs;

static void feed_planted(fx *f, uint64_t seed, int first, int n, pairs *out)
{
	uint64_t s = seed;
	for (int c = first; c < first + n; c++) {
		pairs p;
		int64_t t = T0 + (int64_t)c * 10 * MIN;
		for (int i = 0; i < N_TP; i++) {
			p.x[i] = 1 + (int)(rng_next(&s) % 5);
			assert_int_equal(feed_c(f->ctx, t + i * MIN, f->tp[i], c, f->csat, p.x[i]), CXM_OK);
		}
		double y = 6 + 1.0 * (p.x[0] - 3) + 0.5 * (p.x[1] - 3) + 1.2 * rng_normal(&s);
		p.y = (int)lrint(y < 0 ? 0 : y > 10 ? 10 : y);
		assert_int_equal(feed_c(f->ctx, t + 6 * MIN, f->survey, c, f->nps, p.y), CXM_OK);
		if (out)
			out[c - first] = p;
	}
}

static void run_set(cxm_context *ctx, cxm_id set, cxm_drivers_result *res, cxm_driver *d, size_t cap)
{
	res->size = sizeof *res;
	d[0].size = sizeof d[0];
	assert_int_equal(cxm_drivers_run(res, d, cap, ctx, set), CXM_OK);
}

static double pearson(const pairs *p, int n, int i)
{
	double mx = 0, my = 0;
	for (int k = 0; k < n; k++) {
		mx += p[k].x[i];
		my += p[k].y;
	}
	mx /= n;
	my /= n;
	double sxx = 0, syy = 0, sxy = 0;
	for (int k = 0; k < n; k++) {
		sxx += (p[k].x[i] - mx) * (p[k].x[i] - mx);
		syy += (p[k].y - my) * (p[k].y - my);
		sxy += (p[k].x[i] - mx) * (p[k].y - my);
	}
	return sxy / sqrt(sxx * syy);
}

/* ---- tests ------------------------------------------------------------------------ */

static void planted_ranked(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	fx_set(&f);
	enum { N = 600 };
	pairs *p = malloc(sizeof(pairs) * N);
	feed_planted(&f, 42, 0, N, p);
	cxm_drivers_result res;
	cxm_driver d[N_TP];
	run_set(f.ctx, f.set, &res, d, N_TP);
	assert_int_equal(res.n_drivers, N_TP);
	assert_int_equal(res.outcomes, N);
	assert_int_equal(res.paired, N);
	assert_int_equal(res.customers, N);
	assert_int_equal(res.unremembered, 0);
	for (int i = 0; i < N_TP; i++) {
		assert_int_equal(d[i].touchpoint, f.tp[i]);
		assert_int_equal(d[i].n, N);
		/* against the plain recomputation */
		assert_double_equal(d[i].importance, pearson(p, N, i), 1e-9);
		assert_true(d[i].ci_low < d[i].importance && d[i].importance < d[i].ci_high);
		double mx = 0;
		for (int k = 0; k < N; k++)
			mx += p[k].x[i];
		assert_double_equal(d[i].performance, mx / N, 1e-9);
	}
	/* the strongest planted driver first, the second next, both
	 * significant; the null ones small */
	assert_true(d[0].importance > d[1].importance);
	for (int i = 2; i < N_TP; i++) {
		assert_true(d[1].importance > fabs(d[i].importance));
		assert_true(fabs(d[i].importance) < 0.1);
	}
	assert_true(d[0].significant && d[1].significant);
	assert_true(d[0].p_value < 1e-20);
	assert_true(d[0].quadrant == CXM_QUADRANT_STRENGTH || d[0].quadrant == CXM_QUADRANT_PRIORITY);
	/* bands of csat: 1-2 bottom, 3 middle, 4-5 top (CSAT5's boxes) */
	double sum[3] = {0}, cnt[3] = {0};
	for (int k = 0; k < N; k++) {
		int b = p[k].x[0] >= 4 ? 2 : p[k].x[0] <= 2 ? 0 : 1;
		sum[b] += p[k].y;
		cnt[b]++;
	}
	for (int b = 0; b < 3; b++) {
		assert_int_equal(d[0].bands[b].n, (uint64_t)cnt[b]);
		assert_double_equal(d[0].bands[b].mean, sum[b] / cnt[b], 1e-9);
	}
	assert_double_equal(d[0].band_difference, sum[2] / cnt[2] - sum[0] / cnt[0], 1e-9);
	assert_true(d[0].band_p_value < 1e-10);
	free(p);
	cxm_context_free(f.ctx);
}

/* 200 seeded runs of 120 customers: a null driver's 95 % interval covers
 * 0 in at least 93 % of them, and the planted one is first in all. */
static void null_driver_coverage(void **state)
{
	(void)state;
	int covered = 0, first = 0;
	for (int run = 0; run < 200; run++) {
		fx f;
		fx_make(&f);
		fx_set(&f);
		feed_planted(&f, 1000 + (uint64_t)run, 0, 120, NULL);
		cxm_drivers_result res;
		cxm_driver d[N_TP];
		run_set(f.ctx, f.set, &res, d, N_TP);
		covered += d[4].ci_low <= 0 && 0 <= d[4].ci_high;
		bool top = true;
		for (int i = 1; i < N_TP; i++)
			top = top && fabs(d[0].importance) > fabs(d[i].importance);
		first += top;
		cxm_context_free(f.ctx);
	}
	printf("null driver's interval covers 0 in %d of 200 runs; planted first in %d\n", covered, first);
	assert_true(covered >= 186);
	assert_int_equal(first, 200);
}

/* Revenue by NPS band, through the overall driver: detractors 50 and 70,
 * passives 80, promoters 90, 110, 100. */
static void bands_hand_worked(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	d.outcome = f.revenue;
	d.driver = f.nps;
	d.flags = CXM_DRIVERS_OVERALL;
	cxm_id set;
	assert_int_equal(cxm_drivers_define(&set, f.ctx, "revenue by nps", &d), CXM_OK);
	const int nps[6] = {3, 6, 8, 9, 10, 9};
	const double rev[6] = {50, 70, 80, 90, 110, 100};
	/* the answers on any touchpoint; revenue a day later */
	for (int c = 0; c < 6; c++)
		assert_int_equal(feed_c(f.ctx, T0 + c * MIN, f.tp[c % N_TP], c, f.nps, nps[c]), CXM_OK);
	for (int c = 0; c < 6; c++)
		assert_int_equal(feed_c(f.ctx, T0 + DAY + c * MIN, f.shop, c, f.revenue, rev[c]), CXM_OK);
	cxm_drivers_result res;
	cxm_driver o[1];
	run_set(f.ctx, set, &res, o, 1);
	assert_int_equal(o[0].touchpoint, CXM_NONE);
	assert_int_equal(o[0].n, 6);
	assert_int_equal(o[0].bands[0].n, 2);
	assert_int_equal(o[0].bands[1].n, 1);
	assert_int_equal(o[0].bands[2].n, 3);
	assert_double_equal(o[0].bands[0].mean, 60, 1e-12);
	assert_double_equal(o[0].bands[1].mean, 80, 1e-12);
	assert_double_equal(o[0].bands[2].mean, 100, 1e-12);
	assert_true(isnan(o[0].bands[1].ci_low));
	/* detractors: sd 14.142, t(0.975, 1) = 12.706: 60 -+ 12.706 * 10 */
	assert_double_equal(o[0].bands[0].ci_low, 60 - 12.706204736174698 * 10, 1e-6);
	/* promoters: sd 10, t(0.975, 2) = 4.303: 100 -+ 4.303 * 10 / sqrt(3) */
	assert_double_equal(o[0].bands[2].ci_high, 100 + 4.302652729749464 * 10 / sqrt(3), 1e-6);
	/* Welch: se^2 = 200 / 2 + 100 / 3, df = se^4 / (100^2 / 1 + (100 / 3)^2 / 2) */
	assert_double_equal(o[0].band_difference, 40, 1e-12);
	double se = sqrt(100 + 100.0 / 3);
	assert_double_equal((o[0].band_ci_high - o[0].band_ci_low) / 2 / se > 4.3 ? 1 : 0, 1, 0);
	/* t = 3.4641 on 1.6842 degrees of freedom: p = 0.094148 (the tail
	 * integrated numerically, outside the library) */
	assert_double_equal(o[0].band_p_value, 0.0941481776, 1e-6);
	/* the outcome correlates with the answer */
	assert_true(o[0].importance > 0.8);
	cxm_context_free(f.ctx);
}

/* What pairs and what does not: the window, the order of time, the latest
 * value winning, a late value not replacing a newer one. */
static void window_rules(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	d.outcome = f.nps;
	d.driver = f.csat;
	d.touchpoints = f.tp;
	d.n_touchpoints = 2;
	d.window_ms = DAY;
	cxm_id set;
	assert_int_equal(cxm_drivers_define(&set, f.ctx, "one day", &d), CXM_OK);
	cxm_drivers_result res;
	cxm_driver o[2];
	/* customer 1: its csat two days before its answer: outside */
	assert_int_equal(feed_c(f.ctx, T0, f.tp[0], 1, f.csat, 5), CXM_OK);
	assert_int_equal(feed_c(f.ctx, T0 + 2 * DAY, f.survey, 1, f.nps, 9), CXM_OK);
	run_set(f.ctx, set, &res, o, 2);
	assert_int_equal(res.outcomes, 1);
	assert_int_equal(res.paired, 0);
	assert_int_equal(o[0].n, 0);
	assert_true(isnan(o[0].importance) && isnan(o[0].performance));
	assert_int_equal(o[0].quadrant, CXM_QUADRANT_NONE);
	/* customer 2: a csat after the answer's time does not pair with it */
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY + HOUR, f.tp[0], 2, f.csat, 4), CXM_OK);
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY, f.survey, 2, f.nps, 9), CXM_OK);
	run_set(f.ctx, set, &res, o, 2);
	assert_int_equal(res.paired, 0);
	/* customer 3: 5 at +2h, then a late 1 at +1h: the 5 stays */
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY + 2 * HOUR, f.tp[1], 3, f.csat, 5), CXM_OK);
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY + HOUR, f.tp[1], 3, f.csat, 1), CXM_OK);
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY + 3 * HOUR, f.survey, 3, f.nps, 10), CXM_OK);
	/* then a newer 2 replaces it, paired with the next answer */
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY + 4 * HOUR, f.tp[1], 3, f.csat, 2), CXM_OK);
	assert_int_equal(feed_c(f.ctx, T0 + 3 * DAY + 5 * HOUR, f.survey, 3, f.nps, 4), CXM_OK);
	run_set(f.ctx, set, &res, o, 2);
	assert_int_equal(res.outcomes, 4);
	assert_int_equal(res.paired, 2);
	assert_int_equal(o[1].n, 2);
	assert_double_equal(o[1].performance, 3.5, 1e-12);
	assert_double_equal(o[1].outcome_mean, 7, 1e-12);
	/* a no-answer NPS is no outcome; an interaction with both pairs them */
	cxm_measure m[2] = {{f.csat, 0, 4}, {f.nps, 0, 8}};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0 + 4 * DAY;
	ix.touchpoint = f.tp[0];
	ix.measures = m;
	ix.n_measures = 2;
	ix.customer = "both";
	ix.customer_len = 4;
	assert_int_equal(cxm_feed(f.ctx, &ix), CXM_OK);
	run_set(f.ctx, set, &res, o, 2);
	assert_int_equal(res.paired, 3);
	assert_int_equal(o[0].n, 1);
	cxm_context_free(f.ctx);
}

/* cxm_customer_forget() erases a customer's values: 3 000 customers, every
 * third forgotten (so that probe runs shift back), then an answer from
 * each: only the others pair. */
static void forget(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	fx_set(&f);
	enum { N = 3000 };
	char id[24];
	for (int c = 0; c < N; c++)
		assert_int_equal(feed_c(f.ctx, T0 + c * 100, f.tp[c % N_TP], c, f.csat, 1 + c % 5), CXM_OK);
	cxm_drivers_result res;
	cxm_driver o[N_TP];
	run_set(f.ctx, f.set, &res, o, N_TP);
	assert_int_equal(res.customers, N);
	for (int c = 0; c < N; c += 3) {
		snprintf(id, sizeof id, "customer-%d", c);
		assert_int_equal(cxm_customer_forget(f.ctx, id, strlen(id)), CXM_OK);
	}
	run_set(f.ctx, f.set, &res, o, N_TP);
	assert_int_equal(res.customers, N - N / 3);
	for (int c = 0; c < N; c++)
		assert_int_equal(feed_c(f.ctx, T0 + N * 100 + c, f.survey, c, f.nps, 9), CXM_OK);
	run_set(f.ctx, f.set, &res, o, N_TP);
	assert_int_equal(res.outcomes, N);
	assert_int_equal(res.paired, N - N / 3);
	/* forgotten once: then unknown */
	fx g;
	fx_make(&g);
	fx_set(&g);
	assert_int_equal(feed_c(g.ctx, T0, g.tp[0], 1, g.csat, 4), CXM_OK);
	assert_int_equal(cxm_customer_forget(g.ctx, "customer-1", 10), CXM_OK);
	assert_int_equal(cxm_customer_forget(g.ctx, "customer-1", 10), CXM_ERR_UNKNOWN_ID);
	run_set(g.ctx, g.set, &res, o, N_TP);
	assert_int_equal(res.customers, 0);
	cxm_context_free(g.ctx);
	cxm_context_free(f.ctx);
}

/* A batch applies a chunk shard by shard unless a customer's ordered
 * interactions span shards: a value and the outcome after it, on
 * touchpoints of two shards, pair as two single feeds would pair them. */
static void batch_order(void **state)
{
	(void)state;
	test_clock clk = {T0 + DAY};
	cxm_config cfg = fx_cfg();
	cfg.shards = 4;
	fx f;
	memset(&f, 0, sizeof f);
	f.clk = clk;
	f.ctx = test_ctx_cfg(&f.clk, &cfg);
	fx_model(&f); /* tp0 … tp4, then survey: different shards */
	fx_set(&f);
	enum { N = 200 };
	cxm_interaction ix[2 * N];
	cxm_measure m[2 * N];
	char id[N][16];
	for (int c = 0; c < N; c++) {
		snprintf(id[c], sizeof id[c], "b%d", c);
		/* the answer's touchpoint first in shard order, the value's after */
		for (int k = 0; k < 2; k++) {
			cxm_interaction *x = &ix[2 * c + k];
			*x = (cxm_interaction)CXM_INTERACTION_INIT;
			x->time_ms = T0 + c * 1000 + k * 500;
			x->touchpoint = k ? f.survey : f.tp[3];
			m[2 * c + k] = k ? (cxm_measure){f.nps, 0, 9} : (cxm_measure){f.csat, 0, 5};
			x->measures = &m[2 * c + k];
			x->n_measures = 1;
			x->customer = id[c];
			x->customer_len = strlen(id[c]);
		}
	}
	assert_true(f.survey % 4 < f.tp[3] % 4);
	size_t acc = 0;
	assert_int_equal(cxm_feed_batch(&acc, f.ctx, ix, 2 * N, NULL, 0, NULL), CXM_OK);
	assert_int_equal(acc, 2 * N);
	cxm_drivers_result res;
	cxm_driver o[N_TP];
	run_set(f.ctx, f.set, &res, o, N_TP);
	assert_int_equal(res.outcomes, N);
	assert_int_equal(res.paired, N);
	assert_int_equal(o[3].n, N);
	cxm_context_free(f.ctx);
}

static void same_driver(const cxm_driver *a, const cxm_driver *b, double eps)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->touchpoint, b->touchpoint);
	assert_double_equal(a->importance, b->importance, eps);
	assert_double_equal(a->performance, b->performance, eps);
	assert_double_equal(a->outcome_mean, b->outcome_mean, eps);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a->bands[i].n, b->bands[i].n);
		assert_double_equal(a->bands[i].mean, b->bands[i].mean, eps);
	}
	assert_double_equal(a->band_difference, b->band_difference, eps);
	assert_int_equal(a->significant, b->significant);
	assert_int_equal(a->quadrant, b->quadrant);
}

static void snapshot_and_merge(void **state)
{
	(void)state;
	fx a, b, u;
	fx_make(&a);
	fx_make(&b);
	fx_make(&u);
	fx_set(&a);
	fx_set(&b);
	fx_set(&u);
	feed_planted(&a, 7, 0, 150, NULL);
	feed_planted(&b, 8, 150, 150, NULL);
	feed_planted(&u, 7, 0, 150, NULL);
	feed_planted(&u, 8, 150, 150, NULL);
	/* a snapshot of a: the same answer, the records kept */
	membuf mb = {0};
	assert_int_equal(cxm_snapshot_write(a.ctx, membuf_write, &mb), CXM_OK);
	cxm_config cfg = fx_cfg();
	cxm_context *l = test_ctx_cfg(&a.clk, &cfg);
	assert_int_equal(cxm_snapshot_load_mem(l, mb.p, mb.len), CXM_OK);
	free(mb.p);
	cxm_drivers_result ra, rl, ru;
	cxm_driver da[N_TP], dl[N_TP], du[N_TP];
	run_set(a.ctx, a.set, &ra, da, N_TP);
	cxm_id set;
	assert_int_equal(cxm_drivers_find(&set, l, "csat drivers of nps"), CXM_OK);
	run_set(l, set, &rl, dl, N_TP);
	assert_true(ra.outcomes == rl.outcomes && ra.paired == rl.paired && ra.customers == rl.customers);
	assert_true(rl.memory_bytes > 0);
	for (int i = 0; i < N_TP; i++)
		same_driver(&da[i], &dl[i], 0);
	/* a customer remembered across the load pairs with a new answer */
	assert_int_equal(feed_c(l, T0 + 150 * 10 * MIN, a.survey, 0, a.nps, 10), CXM_OK);
	run_set(l, set, &rl, dl, N_TP);
	assert_int_equal(rl.paired, ra.paired + 1);
	assert_int_equal(dl[0].n, da[0].n + 1);
	cxm_context_free(l);
	/* merge(a, b) = feed(a and b) when each customer is in one of them */
	assert_int_equal(cxm_merge(a.ctx, b.ctx), CXM_OK);
	run_set(a.ctx, a.set, &ra, da, N_TP);
	run_set(u.ctx, u.set, &ru, du, N_TP);
	assert_true(ra.outcomes == ru.outcomes && ra.paired == ru.paired && ra.customers == ru.customers);
	for (int i = 0; i < N_TP; i++)
		same_driver(&da[i], &du[i], 1e-9);
	/* a set defined otherwise of the same name refuses the merge */
	fx c;
	fx_make(&c);
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	d.outcome = c.revenue;
	d.driver = c.csat;
	d.flags = CXM_DRIVERS_OVERALL;
	assert_int_equal(cxm_drivers_define(&set, c.ctx, "csat drivers of nps", &d), CXM_OK);
	assert_int_equal(cxm_merge(c.ctx, b.ctx), CXM_ERR_INVALID);
	assert_non_null(strstr(cxm_errmsg(c.ctx), "defined otherwise"));
	cxm_context_free(c.ctx);
	cxm_context_free(a.ctx);
	cxm_context_free(b.ctx);
	cxm_context_free(u.ctx);
}

/* Drivers from a journey's steps, and the overall driver last. */
static void journey_drivers(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = fx_cfg();
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	const char *steps[] = {"call", "visit", "order"};
	cxm_id j, t0, t1, t2, t3, csat, nps;
	assert_int_equal(cxm_journey_define(&j, ctx, "buy", steps, 3), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&t2, ctx, "order page", CXM_CHANNEL_WEB, j, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&t0, ctx, "sales call", CXM_CHANNEL_PHONE, j, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&t3, ctx, "other", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&t1, ctx, "store", CXM_CHANNEL_OTHER, j, 1), CXM_OK);
	cxm_metric_def md = {.size = sizeof md};
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_CSAT5), CXM_OK);
	assert_int_equal(cxm_metric_define(&csat, ctx, "csat", &md), CXM_OK);
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&nps, ctx, "nps", &md), CXM_OK);
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	d.outcome = nps;
	d.driver = csat;
	d.journey = j;
	d.flags = CXM_DRIVERS_OVERALL;
	cxm_id set;
	assert_int_equal(cxm_drivers_define(&set, ctx, "buy", &d), CXM_OK);
	cxm_drivers_result res = {.size = sizeof res};
	cxm_driver o[4];
	o[0].size = sizeof o[0];
	assert_int_equal(cxm_drivers_run(&res, o, 4, ctx, set), CXM_OK);
	assert_int_equal(res.n_drivers, 4);
	assert_int_equal(o[0].touchpoint, t0);
	assert_int_equal(o[1].touchpoint, t1);
	assert_int_equal(o[2].touchpoint, t2);
	assert_int_equal(o[3].touchpoint, CXM_NONE);
	(void)t3;
	/* the definition as the set holds it: the journey's touchpoints */
	cxm_drivers_def got = {.size = sizeof got};
	const char *name = NULL;
	assert_int_equal(cxm_drivers_get(&got, &name, ctx, set), CXM_OK);
	assert_string_equal(name, "buy");
	assert_true(got.outcome == nps && got.driver == csat && got.journey == j);
	assert_int_equal(got.window_ms, 30 * DAY);
	assert_int_equal(got.flags, CXM_DRIVERS_OVERALL);
	assert_int_equal(got.n_touchpoints, 3);
	assert_true(got.touchpoints[0] == t0 && got.touchpoints[1] == t1 && got.touchpoints[2] == t2);
	assert_int_equal(cxm_drivers_get(&got, NULL, ctx, set), CXM_OK);
	assert_int_equal(cxm_drivers_get(NULL, &name, ctx, set), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_get(&got, &name, NULL, set), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_get(&got, &name, ctx, set + 1), CXM_ERR_UNKNOWN_ID);
	got.size = 4;
	assert_int_equal(cxm_drivers_get(&got, &name, ctx, set), CXM_ERR_VERSION);
	/* a short array: the first, and LIMIT */
	memset(o, 0xff, sizeof o);
	o[0].size = sizeof o[0];
	assert_int_equal(cxm_drivers_run(&res, o, 2, ctx, set), CXM_ERR_LIMIT);
	assert_int_equal(res.n_drivers, 4);
	assert_int_equal(o[1].touchpoint, t1);
	assert_int_equal(o[2].size, (size_t)-1); /* untouched */
	assert_int_equal(cxm_drivers_run(&res, NULL, 0, ctx, set), CXM_ERR_LIMIT);
	cxm_context_free(ctx);
}

static void bad_args(void **state)
{
	(void)state;
	fx f;
	fx_make(&f);
	cxm_context *ctx = f.ctx;
	cxm_drivers_def d;
	cxm_id id = 99;
	assert_int_equal(cxm_drivers_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_def_init(&d, 4), CXM_ERR_VERSION);
	cxm_drivers_def_init(&d, sizeof d);
	d.outcome = f.nps;
	d.driver = f.csat;
	d.touchpoints = f.tp;
	d.n_touchpoints = 2;
	cxm_drivers_def g = d;
	assert_int_equal(cxm_drivers_define(NULL, ctx, "x", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_define(&id, NULL, "x", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_define(&id, ctx, NULL, &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_define(&id, ctx, "", &d), CXM_ERR_ENCODING);
	d.size = 8;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_VERSION);
	d = g;
	d.reserved[2] = 1;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_UNSUPPORTED);
	d = g;
	d.flags = 2;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_INVALID);
	d = g;
	d.outcome = 77;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_UNKNOWN_ID);
	d = g;
	d.driver = f.revenue; /* an AMOUNT is no experience */
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_KIND);
	cxm_metric_def md = {.size = sizeof md};
	cxm_id vol;
	assert_int_equal(cxm_metric_preset(&md, CXM_PRESET_VOLUME), CXM_OK);
	assert_int_equal(cxm_metric_define(&vol, ctx, "calls", &md), CXM_OK);
	d = g;
	d.outcome = vol;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_KIND);
	d = g;
	d.window_ms = -1;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_OUT_OF_RANGE);
	d.window_ms = CXM_JOURNEY_MAX_WINDOW_MS + 1;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_OUT_OF_RANGE);
	d = g;
	d.touchpoints = NULL;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_INVALID);
	d = g;
	cxm_id twice[2] = {f.tp[1], f.tp[1]};
	d.touchpoints = twice;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_INVALID);
	cxm_id unknown[1] = {500};
	d.touchpoints = unknown;
	d.n_touchpoints = 1;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_UNKNOWN_ID);
	d = g;
	d.n_touchpoints = CXM_DRIVERS_MAX + 1;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_LIMIT);
	d = g;
	d.n_touchpoints = 0;
	d.touchpoints = NULL;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_INVALID); /* no driver */
	d.journey = 3;
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &d), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(id, 99);
	/* nothing defined by any of those */
	assert_int_equal(cxm_drivers_find(&id, ctx, "x"), CXM_ERR_UNKNOWN_ID);
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &g), CXM_OK);
	assert_int_equal(id, 0);
	assert_int_equal(cxm_drivers_define(&id, ctx, "x", &g), CXM_ERR_EXISTS);
	char name[16];
	for (int i = 1; i < CXM_DRIVER_SETS_MAX; i++) {
		snprintf(name, sizeof name, "set %d", i);
		assert_int_equal(cxm_drivers_define(&id, ctx, name, &g), CXM_OK);
	}
	assert_int_equal(cxm_drivers_define(&id, ctx, "one more", &g), CXM_ERR_LIMIT);
	assert_int_equal(cxm_drivers_find(NULL, ctx, "x"), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_find(&id, NULL, "x"), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_find(&id, ctx, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_find(&id, ctx, "set 3"), CXM_OK);
	assert_int_equal(id, 3);
	cxm_drivers_result res = {.size = sizeof res};
	cxm_driver o[2] = {{.size = sizeof o[0]}};
	assert_int_equal(cxm_drivers_run(NULL, o, 2, ctx, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_run(&res, o, 2, NULL, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_run(&res, NULL, 2, ctx, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_drivers_run(&res, o, 2, ctx, CXM_DRIVER_SETS_MAX), CXM_ERR_UNKNOWN_ID);
	res.size = 4;
	assert_int_equal(cxm_drivers_run(&res, o, 2, ctx, 0), CXM_ERR_VERSION);
	res.size = sizeof res;
	o[0].size = 4;
	assert_int_equal(cxm_drivers_run(&res, o, 2, ctx, 0), CXM_ERR_VERSION);
	o[0].size = sizeof o[0];
	assert_int_equal(cxm_drivers_run(&res, o, 2, ctx, 0), CXM_OK);
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(planted_ranked),
		cmocka_unit_test(null_driver_coverage),
		cmocka_unit_test(bands_hand_worked),
		cmocka_unit_test(window_rules),
		cmocka_unit_test(forget),
		cmocka_unit_test(batch_order),
		cmocka_unit_test(snapshot_and_merge),
		cmocka_unit_test(journey_drivers),
		cmocka_unit_test(bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
