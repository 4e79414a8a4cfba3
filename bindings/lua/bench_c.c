/* What one interaction costs fed from C, the baseline that bench.lua's
 * Lua figure is compared with: the same interaction as bench.lua feeds
 * (one touchpoint, a customer id, one segment, a duration and a rate).
 * Usage: bench_c [iterations]. Prints "c_feed_ns <ns per call>".
 * SPDX-License-Identifier: MIT */
#include <cxm.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000000;
	cxm_context *ctx;
	cxm_config cfg = CXM_CONFIG_INIT;
	if (cxm_context_new(&ctx, &cfg))
		return 1;
	cxm_id tp, aht, resolved, tier;
	uint32_t gold;
	cxm_metric_def d = {.size = sizeof d};
	if (cxm_touchpoint_define(&tp, ctx, "agent call", CXM_CHANNEL_PHONE, CXM_NONE, 0) ||
	    cxm_metric_preset(&d, CXM_PRESET_DURATION) || cxm_metric_define(&aht, ctx, "aht", &d) ||
	    cxm_metric_preset(&d, CXM_PRESET_RATE) ||
	    cxm_metric_define(&resolved, ctx, "resolved", &d) ||
	    cxm_segment_define(&tier, ctx, "tier", 4) || cxm_segment_value(&gold, ctx, tier, "gold")) {
		fprintf(stderr, "bench_c: %s\n", cxm_errmsg(ctx));
		return 1;
	}
	int64_t t0 = (int64_t)time(NULL) * 1000;
	double best = 1e9;
	for (int round = 0; round < 5; round++) {
		double start = now_s();
		for (long i = 0; i < iters; i++) {
			cxm_measure m[2] = {{aht, 0, 180.5}, {resolved, 0, 1}};
			cxm_interaction ix = CXM_INTERACTION_INIT;
			ix.time_ms = t0;
			ix.touchpoint = tp;
			ix.customer = "customer-42";
			ix.customer_len = 11;
			ix.segments = &gold;
			ix.n_segments = 1;
			ix.measures = m;
			ix.n_measures = 2;
			if (cxm_feed(ctx, &ix)) {
				fprintf(stderr, "bench_c: %s\n", cxm_errmsg(ctx));
				return 1;
			}
		}
		double ns = (now_s() - start) * 1e9 / (double)iters;
		if (ns < best)
			best = ns;
	}
	printf("c_feed_ns %.1f\n", best);
	cxm_context_free(ctx);
	return 0;
}
