/* Seed snapshots for the loader fuzzer: contexts of the fuzz configuration
 * fed with small seeded workloads of every metric kind. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1795392000000)

static int64_t fixed_clock(void *opaque)
{
	(void)opaque;
	return T0 + INT64_C(30) * 86400000;
}

cxm_config fuzz_config(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fixed_clock;
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 30, 0};
	cfg.tiers[1] = (cxm_tier){600000, 30, 0};
	cfg.tiers[2] = (cxm_tier){3600000, 48, 0};
	cfg.shards = 2;
	cfg.max_journeys = 4;
	cfg.max_steps = 8;
	cfg.max_touchpoints = 8;
	cfg.max_metrics = 10;
	cfg.max_segments = 2;
	cfg.max_segment_values = 8;
	cfg.max_name_len = 32;
	cfg.max_series = 4096;
	cfg.max_customers = 64;
	for (int i = 0; i < 16; i++)
		cfg.customer_key[i] = (uint8_t)(0x5a ^ i);
	return cfg;
}

void fuzz_define(cxm_context *ctx)
{
	const char *steps[] = {"look", "buy"};
	cxm_id id;
	cxm_journey_define(&id, ctx, "shop", steps, 2);
	cxm_touchpoint_define(&id, ctx, "web", CXM_CHANNEL_WEB, 0, 0);
	cxm_touchpoint_define(&id, ctx, "till", CXM_CHANNEL_IN_PERSON, 0, 1);
	cxm_touchpoint_define(&id, ctx, "call", CXM_CHANNEL_PHONE, CXM_NONE, 0);
	static const cxm_preset presets[] = {CXM_PRESET_NPS, CXM_PRESET_CXI, CXM_PRESET_DURATION,
					     CXM_PRESET_RATE, CXM_PRESET_AMOUNT, CXM_PRESET_VOLUME,
					     CXM_PRESET_DISTINCT};
	static const char *names[] = {"nps", "cxi", "aht", "fcr", "revenue", "volume", "distinct"};
	for (size_t m = 0; m < sizeof presets / sizeof presets[0]; m++) {
		cxm_metric_def d;
		cxm_metric_def_init(&d, sizeof d);
		cxm_metric_preset(&d, presets[m]);
		if (presets[m] == CXM_PRESET_DISTINCT)
			d.precision = 4;
		if (presets[m] == CXM_PRESET_DURATION) {
			d.duration_lo = 0.1;
			d.duration_hi = 1000;
			d.relative_error = 0.05;
		}
		cxm_metric_define(&id, ctx, names[m], &d);
	}
	cxm_segment_define(&id, ctx, "tier", 3);
}

typedef struct buf {
	unsigned char *p;
	size_t len, cap;
} buf;

static int to_buf(const void *data, size_t len, void *payload)
{
	buf *b = payload;
	if (b->cap - b->len < len) {
		size_t nc = b->cap ? b->cap * 2 : 4096;
		while (nc - b->len < len)
			nc *= 2;
		unsigned char *np = realloc(b->p, nc);
		if (!np)
			return -1;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

int fuzz_seed(int i, unsigned char **out, size_t *len)
{
	cxm_config cfg = fuzz_config();
	cxm_context *ctx = NULL;
	if (cxm_context_new(&ctx, &cfg))
		return -1;
	if (i > 0)
		fuzz_define(ctx);
	uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;
	int n = i == 0 ? 0 : i * i * 4;
	static const char *tiers[] = {"gold", "silver", "bronze"};
	for (int k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t seg;
		cxm_segment_value(&seg, ctx, 0, tiers[x % 3]);
		uint32_t segs[1] = {x % 4 ? seg : CXM_NONE};
		cxm_measure ms[6] = {
			{0, 0, (double)(x % 11)},      {1, 0, 1.0 + (double)(x % 10)},
			{1, 1, 1.0 + (double)((x >> 8) % 10)}, {2, 0, (double)((x >> 16) % 2000) / 2},
			{3, 0, (double)((x >> 4) & 1)}, {4, 0, (double)((x >> 20) % 100)}};
		char cust[16];
		snprintf(cust, sizeof cust, "c%u", (unsigned)((x >> 24) % 20));
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0 + INT64_C(29) * 86400000 + (int64_t)k * 97000 * (i + 1);
		ix.touchpoint = (cxm_id)(x % 3);
		ix.customer = cust;
		ix.customer_len = x % 5 ? strlen(cust) : 0;
		ix.segments = segs;
		ix.n_segments = 1;
		ix.measures = ms;
		ix.n_measures = 1 + (size_t)(x >> 40) % 6;
		cxm_feed(ctx, &ix);
	}
	if (i >= 2) {
		/* journey state beyond the funnels of feeding: ends by a
		 * sweep, churn, and (in odd seeds) options of its own */
		if (i % 2) {
			cxm_journey_options o;
			cxm_journey_options_init(&o, sizeof o);
			o.flags = CXM_JOURNEY_STRICT | CXM_JOURNEY_COUNT_REPEATS;
			o.abandon_ms = 600000;
			cxm_journey_set_options(ctx, 0, &o);
		}
		int64_t t = T0 + INT64_C(29) * 86400000 + (int64_t)n * 97000 * (i + 1);
		cxm_journey_sweep(NULL, ctx, t);
		cxm_customer_churn(ctx, "c3", 2, t);
	}
	buf b = {0};
	cxm_status st = cxm_snapshot_write(ctx, to_buf, &b);
	cxm_context_free(ctx);
	if (st) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
