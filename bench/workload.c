/* The reference workload: see workload.h. */
#include "workload.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const wl_metric_name[WL_METRICS] = {"nps", "csat", "ces", "aht", "resolved", "volume"};
static const cxm_preset wl_preset[WL_METRICS] = {CXM_PRESET_NPS,      CXM_PRESET_CSAT5,
						 CXM_PRESET_CES7,     CXM_PRESET_DURATION,
						 CXM_PRESET_RATE,     CXM_PRESET_VOLUME};
cxm_id wl_metric[WL_METRICS], wl_tp[WL_TOUCHPOINTS];

static void fail(cxm_context *ctx, const char *what, cxm_status st)
{
	fprintf(stderr, "workload: %s: %s (%s)\n", what, cxm_strerror(st), cxm_errmsg(ctx));
	exit(1);
}
#define TRY(ctx, call)                                                                         \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_)                                                                       \
			fail(ctx, #call, st_);                                                 \
	} while (0)

/* ---- the model ------------------------------------------------------------------ */

static const char *const journey_name[WL_JOURNEYS] = {"buy", "support case", "onboarding",
						      "billing", "cancel"};
static const char *const journey_steps[WL_JOURNEYS][5] = {
	{"browse", "cart", "checkout", "delivery", NULL},
	{"contact", "diagnose", "resolve", "follow-up", NULL},
	{"sign-up", "verify", "set up", "first use", NULL},
	{"invoice", "question", "payment", NULL, NULL},
	{"request", "retention offer", "confirm", NULL, NULL},
};
static const char *const channel_name[9] = {"",    "phone", "chat",   "email",    "web",
					    "sms", "social", "in person", "other"};

cxm_context *wl_context(cxm_clock_fn clock, void *clock_opaque, uint32_t max_customers)
{
	wl_model m = {.clock = clock, .clock_opaque = clock_opaque, .max_customers = max_customers};
	return wl_context_ex(&m);
}

cxm_context *wl_context_ex(const wl_model *model)
{
	uint32_t n_tp = model->touchpoints ? model->touchpoints : WL_TOUCHPOINTS;
	cxm_clock_fn clock = model->clock;
	void *clock_opaque = model->clock_opaque;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_customers = model->max_customers;
	cfg.max_memory = model->max_memory;
	if (model->allocator)
		cfg.allocator = *model->allocator;
	if (n_tp > 4096)
		cfg.max_touchpoints = n_tp;
	/* a fixed hash key, so that runs (and callgrind counts) repeat exactly */
	for (int i = 0; i < 16; i++)
		cfg.customer_key[i] = (uint8_t)(0x5a ^ (i * 37));
	cfg.clock = clock;
	cfg.clock_opaque = clock_opaque;
	cxm_context *ctx;
	TRY(NULL, cxm_context_new(&ctx, &cfg));
	for (int m = 0; m < WL_METRICS; m++) {
		cxm_metric_def d = {.size = sizeof d};
		cxm_id id;
		TRY(ctx, cxm_metric_preset(&d, wl_preset[m]));
		TRY(ctx, cxm_metric_define(&id, ctx, wl_metric_name[m], &d));
		wl_metric[m] = id;
	}
	/* the steps of all journeys, in order: touchpoints go round them */
	cxm_id step_j[32], step_s[32];
	uint32_t n_steps = 0;
	for (int j = 0; j < WL_JOURNEYS; j++) {
		size_t k = 0;
		while (k < 5 && journey_steps[j][k])
			k++;
		cxm_id id;
		TRY(ctx, cxm_journey_define(&id, ctx, journey_name[j], journey_steps[j], k));
		for (size_t s = 0; s < k; s++) {
			step_j[n_steps] = id;
			step_s[n_steps++] = (cxm_id)s;
		}
	}
	char name[64];
	uint32_t n_alone = n_tp == WL_TOUCHPOINTS ? WL_STANDALONE : (n_tp + 9) / 10;
	for (uint32_t i = 0; i < n_tp; i++) {
		cxm_channel ch = (cxm_channel)(1 + i % 8);
		bool alone = i >= n_tp - n_alone;
		cxm_id id;
		snprintf(name, sizeof name, "tp%03u %s", i, channel_name[ch]);
		TRY(ctx, cxm_touchpoint_define(&id, ctx, name, ch,
					       alone ? CXM_NONE : step_j[i % n_steps],
					       alone ? 0 : step_s[i % n_steps]));
		if (id != i) {
			fprintf(stderr, "workload: touchpoint %u got id %u\n", i, id);
			exit(1);
		}
		if (i < WL_TOUCHPOINTS)
			wl_tp[i] = id;
	}
	cxm_id tier, region;
	uint32_t v;
	static const char *const tiers[WL_TIERS] = {"bronze", "silver", "gold", "platinum"};
	TRY(ctx, cxm_segment_define(&tier, ctx, "tier", WL_TIERS));
	TRY(ctx, cxm_segment_define(&region, ctx, "region", WL_REGIONS));
	if (tier != 0 || region != 1) {
		fprintf(stderr, "workload: segment ids %u, %u are not 0, 1\n", tier, region);
		exit(1);
	}
	for (int i = 0; i < WL_TIERS; i++)
		TRY(ctx, cxm_segment_value(&v, ctx, tier, tiers[i]));
	for (int i = 0; i < WL_REGIONS; i++) {
		snprintf(name, sizeof name, "region %d", i + 1);
		TRY(ctx, cxm_segment_value(&v, ctx, region, name));
	}
	return ctx;
}

/* ---- random numbers: xoshiro256** seeded by splitmix64 ----------------------------- */

typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* uniform in [0, n) (Lemire, without the rejection step: bias < n / 2^64) */
static inline uint32_t below(rng *r, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)next(r) * n) >> 64);
}

static inline double unif(rng *r) /* (0, 1) */
{
	return ((next(r) >> 11) + 0.5) * 0x1p-53;
}

/* an index drawn with the given integer weights (summing to 100) */
static inline int pick(rng *r, const uint8_t *w, int n)
{
	uint32_t x = below(r, 100);
	for (int i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* answer distributions, in percent, lowest point first */
static const uint8_t nps_w[11] = {2, 1, 1, 2, 2, 4, 6, 10, 17, 25, 30};
static const uint8_t csat_w[5] = {5, 7, 13, 35, 40};
static const uint8_t ces_w[7] = {3, 4, 6, 10, 17, 30, 30};
static const uint8_t tier_w[WL_TIERS] = {50, 30, 15, 5};

/* a customer's segments, fixed per customer */
static void customer_segments(uint32_t c, uint32_t seg[2])
{
	uint64_t x = c;
	uint64_t h = splitmix64(&x);
	uint32_t t = (uint32_t)(h % 100), k = 0;
	while (k + 1 < WL_TIERS && t >= tier_w[k])
		t -= tier_w[k++];
	seg[0] = k;
	seg[1] = (uint32_t)((h >> 32) % WL_REGIONS);
}

size_t wl_customer_id(char out[16], uint32_t c)
{
	memcpy(out, "cust-", 5);
	int digits = 7;
	for (uint32_t x = c / 10000000; x; x /= 10)
		digits++;
	uint32_t x = c;
	for (int d = digits - 1; d >= 0; d--, x /= 10)
		out[5 + d] = (char)('0' + x % 10);
	out[5 + digits] = 0;
	return 5 + (size_t)digits;
}

void wl_generate(workload *w, size_t n, uint32_t customers, uint64_t seed)
{
	wl_generate_ex(w, n, customers, seed, WL_TOUCHPOINTS, WL_DAY);
}

void wl_generate_ex(workload *w, size_t n, uint32_t customers, uint64_t seed,
		    uint32_t touchpoints, int64_t span_ms)
{
	memset(w, 0, sizeof *w);
	w->n = n;
	w->customers = customers;
	w->seed = seed;
	w->ix = calloc(n, sizeof *w->ix);
	w->ms = calloc(n, sizeof *w->ms);
	w->segs = calloc(n, sizeof *w->segs);
	w->cust = calloc(n, sizeof *w->cust);
	uint64_t *seen = calloc((customers + 63) / 64, sizeof *seen);
	if (!w->ix || !w->ms || !w->segs || !w->cust || !seen) {
		fprintf(stderr, "workload: out of memory for %zu interactions\n", n);
		exit(1);
	}
	rng r;
	rng_seed(&r, seed);
	for (size_t i = 0; i < n; i++) {
		/* when: evenly over the span, jittered by up to 30 s either way */
		int64_t t = WL_DAY0 + (int64_t)((double)i / (double)n * (double)span_ms) +
			    (int64_t)below(&r, 60001) - 30000;
		if (t < WL_DAY0)
			t = WL_DAY0;
		if (t > WL_DAY0 + span_ms - 1)
			t = WL_DAY0 + span_ms - 1;
		/* who: uniform over the population ("cust-0001234") */
		uint32_t c = below(&r, customers);
		seen[c / 64] |= UINT64_C(1) << (c % 64);
		char *id = w->cust[i];
		size_t id_len = wl_customer_id(id, c);
		customer_segments(c, w->segs[i]);
		/* what: a handle time (lognormal, median 300 s, 30 .. 3600 s), a
		 * resolved flag (72 % yes), and one time in four a survey answer */
		uint32_t k = 0;
		double z = sqrt(-2 * log(unif(&r))) * cos(6.283185307179586 * unif(&r));
		double aht = round(exp(log(300.0) + 0.7 * z) * 1000) / 1000;
		aht = aht < 30 ? 30 : aht > 3600 ? 3600 : aht;
		w->ms[i][k++] = (cxm_measure){wl_metric[WL_AHT], 0, aht};
		w->ms[i][k++] = (cxm_measure){wl_metric[WL_RESOLVED], 0, below(&r, 100) < 72};
		if (below(&r, 4) == 0) {
			int which = (int)below(&r, 3);
			double v = which == WL_NPS    ? pick(&r, nps_w, 11)
				   : which == WL_CSAT ? 1 + pick(&r, csat_w, 5)
						      : 1 + pick(&r, ces_w, 7);
			w->ms[i][k++] = (cxm_measure){wl_metric[which], 0, v};
			w->surveys[which]++;
		}
		w->measures += k;
		cxm_interaction *ix = &w->ix[i];
		ix->size = sizeof *ix;
		ix->time_ms = t;
		ix->touchpoint = (cxm_id)below(&r, touchpoints);
		ix->customer = id;
		ix->customer_len = id_len;
		ix->segments = w->segs[i];
		ix->n_segments = 2;
		ix->measures = w->ms[i];
		ix->n_measures = k;
	}
	for (size_t i = 0; i < (customers + 63) / 64; i++)
		w->distinct += (uint32_t)__builtin_popcountll(seen[i]);
	free(seen);
}

void wl_free(workload *w)
{
	free(w->ix);
	free(w->ms);
	free(w->segs);
	free(w->cust);
	memset(w, 0, sizeof *w);
}

size_t wl_bytes(const workload *w)
{
	return w->n * (sizeof *w->ix + sizeof *w->ms + sizeof *w->segs + sizeof *w->cust);
}
