/* A host for test_exporter.py, never installed: feeds a seeded sequence of
 * interactions into a context and saves it, as a real host would.
 *
 *   cxm-exporter-test-host OUT KEYHEX SEED COUNT [--extra] [--default-tiers]
 *
 * The context has the tiers 1 min x 120 and 1 h x 48 (not the defaults, so
 * the exporter must take them from the file), or the defaults with
 * --default-tiers; --extra defines one touchpoint more, "callback", fed
 * like the others. Prints what the saved context counts, one "name value"
 * line each: accepted, nps_responses, nps_top, nps_bottom, callback. */
#include <cxm.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check(cxm_status st, const cxm_context *ctx, const char *what)
{
	if (st) {
		fprintf(stderr, "test-host: %s: %s (%s)\n", what, cxm_strerror(st),
			ctx ? cxm_errmsg(ctx) : "");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s OUT KEYHEX SEED COUNT [--extra] [--default-tiers]\n",
			argv[0]);
		return 2;
	}
	int extra = 0, default_tiers = 0;
	for (int i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "--extra"))
			extra = 1;
		else if (!strcmp(argv[i], "--default-tiers"))
			default_tiers = 1;
		else
			return 2;
	}
	cxm_config cfg = CXM_CONFIG_INIT;
	const char *hex = argv[2];
	if (strlen(hex) != 32)
		return 2;
	for (int i = 0; i < 16; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return 2;
		cfg.customer_key[i] = (uint8_t)v;
	}
	if (!default_tiers) {
		cfg.n_tiers = 2;
		cfg.tiers[0] = (cxm_tier){60000, 120, 0};
		cfg.tiers[1] = (cxm_tier){3600000, 48, 0};
	}
	uint64_t x = strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15u + 1;
	long count = strtol(argv[4], NULL, 10);

	cxm_context *ctx;
	check(cxm_context_new(&ctx, &cfg), NULL, "context");
	const char *steps[] = {"contact", "resolve"};
	cxm_id j, tp[4], nps, aht, tier;
	check(cxm_journey_define(&j, ctx, "support", steps, 2), ctx, "journey");
	check(cxm_touchpoint_define(&tp[0], ctx, "ivr", CXM_CHANNEL_PHONE, j, 0), ctx, "ivr");
	check(cxm_touchpoint_define(&tp[1], ctx, "chat", CXM_CHANNEL_CHAT, j, 0), ctx, "chat");
	check(cxm_touchpoint_define(&tp[2], ctx, "agent call", CXM_CHANNEL_PHONE, j, 1), ctx,
	      "agent");
	if (extra)
		check(cxm_touchpoint_define(&tp[3], ctx, "callback", CXM_CHANNEL_PHONE, CXM_NONE, 0),
		      ctx, "callback");
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	check(cxm_metric_define(&nps, ctx, "nps", &d), ctx, "nps");
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_DURATION);
	check(cxm_metric_define(&aht, ctx, "handle time", &d), ctx, "aht");
	check(cxm_segment_define(&tier, ctx, "tier", 4), ctx, "tier");
	uint32_t tiers[2];
	check(cxm_segment_value(&tiers[0], ctx, tier, "gold"), ctx, "gold");
	check(cxm_segment_value(&tiers[1], ctx, tier, "silver"), ctx, "silver");

	uint64_t accepted = 0, responses = 0, top = 0, bottom = 0, callback = 0;
	int64_t t0 = (int64_t)time(NULL) * 1000 - count * 100;
	for (long i = 0; i < count; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		uint32_t r = (uint32_t)(x >> 33);
		int n_tp = extra ? 4 : 3;
		char id[32];
		snprintf(id, sizeof id, "c%u", r % 40);
		cxm_measure m[2];
		size_t k = 0;
		m[k++] = (cxm_measure){aht, 0, 30 + r % 600};
		int point = -1;
		if (r >> 10 & 1) {
			point = (int)(r >> 12) % 11;
			m[k++] = (cxm_measure){nps, 0, point};
		}
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = t0 + i * 100;
		ix.touchpoint = tp[(r >> 4) % (uint32_t)n_tp];
		ix.customer = id;
		ix.customer_len = strlen(id);
		ix.segments = &tiers[r >> 20 & 1];
		ix.n_segments = 1;
		ix.measures = m;
		ix.n_measures = k;
		check(cxm_feed(ctx, &ix), ctx, "feed");
		accepted++;
		callback += extra && ix.touchpoint == tp[3];
		if (point >= 0) {
			responses++;
			top += point >= 9;
			bottom += point <= 6;
		}
	}
	check(cxm_snapshot_save(ctx, argv[1]), ctx, "save");
	printf("accepted %" PRIu64 "\nnps_responses %" PRIu64 "\nnps_top %" PRIu64
	       "\nnps_bottom %" PRIu64 "\ncallback %" PRIu64 "\n",
	       accepted, responses, top, bottom, callback);
	cxm_context_free(ctx);
	return 0;
}
