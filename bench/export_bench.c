/* OpenMetrics exposition cost (budget, docs/performance.md: <= 100 ns per series).
 *
 *   export_bench [--touchpoints N] [--rounds R] [--format om|prom] [--no-points]
 *
 * Builds a context shaped like the reference workload's: N touchpoints
 * (default 100), six metrics (NPS, CSAT, CES, a handle-time DURATION, a
 * RATE, an AMOUNT) plus a VOLUME, two segment dimensions (tier: 4 values,
 * region: 8), and feeds it until every (metric, touchpoint, segment value)
 * series exists. Then times R expositions (default 50) into a buffer that
 * is large enough, and R through a callback that discards the text, and
 * prints the cost per libcxm series (what the budget counts) and per
 * exposed sample line (what Prometheus calls a series: a histogram of
 * 15 bounds is 18 of them). One thread, nothing else running. */
#include <cxm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static int discard(const char *data, size_t len, void *payload)
{
	(void)data;
	*(size_t *)payload += len;
	return 0;
}

static void die(cxm_status st, const cxm_context *ctx, const char *what)
{
	if (st) {
		fprintf(stderr, "export_bench: %s: %s (%s)\n", what, cxm_strerror(st), cxm_errmsg(ctx));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	int n_tp = 100, rounds = 50;
	cxm_export_format fmt = CXM_FORMAT_OPENMETRICS;
	uint32_t flags = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--touchpoints") && i + 1 < argc)
			n_tp = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-points"))
			flags |= CXM_EXPORT_NO_POINTS;
		else if (!strcmp(argv[i], "--format") && i + 1 < argc)
			fmt = !strcmp(argv[++i], "prom") ? CXM_FORMAT_PROMETHEUS : CXM_FORMAT_OPENMETRICS;
		else {
			fprintf(stderr,
				"usage: %s [--touchpoints N] [--rounds R] [--format om|prom] [--no-points]\n",
				argv[0]);
			return 2;
		}
	}
	if (n_tp < 1 || rounds < 1)
		return 2;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_touchpoints = (uint32_t)n_tp;
	cxm_context *ctx;
	die(cxm_context_new(&ctx, &cfg), NULL, "context");
	const cxm_preset presets[] = {CXM_PRESET_NPS,      CXM_PRESET_CSAT5, CXM_PRESET_CES7,
				      CXM_PRESET_DURATION, CXM_PRESET_RATE,  CXM_PRESET_AMOUNT};
	const char *names[] = {"nps", "csat", "ces", "handle time", "resolved", "revenue"};
	cxm_id m[6];
	for (int i = 0; i < 6; i++) {
		cxm_metric_def d;
		cxm_metric_def_init(&d, sizeof d);
		cxm_metric_preset(&d, presets[i]);
		die(cxm_metric_define(&m[i], ctx, names[i], &d), ctx, names[i]);
	}
	cxm_metric_def vd;
	cxm_metric_def_init(&vd, sizeof vd);
	cxm_metric_preset(&vd, CXM_PRESET_VOLUME);
	cxm_id vol;
	die(cxm_metric_define(&vol, ctx, "interactions", &vd), ctx, "volume");
	const char *steps[] = {"discover", "buy", "use", "support", "renew"};
	cxm_id j;
	die(cxm_journey_define(&j, ctx, "lifecycle", steps, 5), ctx, "journey");
	cxm_id *tp = calloc((size_t)n_tp, sizeof *tp);
	for (int i = 0; i < n_tp; i++) {
		char name[32];
		snprintf(name, sizeof name, "touchpoint %d", i);
		die(cxm_touchpoint_define(&tp[i], ctx, name, (cxm_channel)(1 + i % 8),
					  i % 2 ? j : CXM_NONE, (cxm_id)(i % 5)),
		    ctx, "touchpoint");
	}
	cxm_id tier, region;
	die(cxm_segment_define(&tier, ctx, "tier", 4), ctx, "tier");
	die(cxm_segment_define(&region, ctx, "region", 8), ctx, "region");
	uint32_t tv[4], rv[8];
	const char *tiers[] = {"gold", "silver", "bronze", "free"};
	for (int i = 0; i < 4; i++)
		die(cxm_segment_value(&tv[i], ctx, tier, tiers[i]), ctx, "value");
	for (int i = 0; i < 8; i++) {
		char name[16];
		snprintf(name, sizeof name, "region-%d", i);
		die(cxm_segment_value(&rv[i], ctx, region, name), ctx, "value");
	}
	/* every touchpoint meets every tier and every region with every metric */
	int64_t t0 = (int64_t)time(NULL) * 1000 - 600000;
	uint64_t x = 1;
	for (int i = 0; i < n_tp; i++) {
		for (int k = 0; k < 8; k++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			uint32_t r = (uint32_t)(x >> 33);
			uint32_t segs[2] = {tv[k % 4], rv[k]};
			cxm_measure ms[6] = {{m[0], 0, r % 11},          {m[1], 0, 1 + r % 5},
					     {m[2], 0, 1 + r % 7},       {m[3], 0, 30 + r % 900},
					     {m[4], 0, r & 1},           {m[5], 0, (r % 10000) / 100.0}};
			cxm_interaction ix = CXM_INTERACTION_INIT;
			ix.time_ms = t0 + k;
			ix.touchpoint = tp[i];
			ix.segments = segs;
			ix.n_segments = 2;
			ix.measures = ms;
			ix.n_measures = 6;
			die(cxm_feed(ctx, &ix), ctx, "feed");
		}
	}
	cxm_stats st = {.size = sizeof st};
	die(cxm_stats_get(&st, ctx), ctx, "stats");
	cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;
	o.format = fmt;
	o.flags = flags;
	size_t len = 0;
	if (cxm_export_text(&len, ctx, &o, NULL, 0) != CXM_ERR_LIMIT)
		return 1;
	size_t cap = len + 1;
	char *buf = malloc(cap);
	die(cxm_export_text(&len, ctx, &o, buf, cap), ctx, "export");
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	size_t samples = 0;
	for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		samples += *p != '#';
	/* the series exposed: every series but those of DISTINCT metrics (none here) */
	uint64_t series = st.series;
	double best[2] = {1e9, 1e9}, sum[2] = {0, 0};
	for (int mode = 0; mode < 2; mode++) {
		for (int r = 0; r < rounds; r++) {
			size_t got = 0;
			double a = now_s();
			if (mode == 0)
				die(cxm_export_text(&got, ctx, &o, buf, cap), ctx, "export");
			else
				die(cxm_export_write(ctx, &o, discard, &got), ctx, "export");
			double dt = now_s() - a;
			sum[mode] += dt;
			if (dt < best[mode])
				best[mode] = dt;
			if (got != len) {
				fprintf(stderr, "export_bench: length changed\n");
				return 1;
			}
		}
	}
	printf("exposition (%s%s) of %llu series (%d touchpoints x 7 metrics x 13 slots): "
	       "%zu bytes, %zu sample lines, %zu lines\n",
	       fmt == CXM_FORMAT_OPENMETRICS ? "OpenMetrics" : "Prometheus 0.0.4",
	       flags & CXM_EXPORT_NO_POINTS ? ", no points" : "",
	       (unsigned long long)series, n_tp, len, samples, lines);
	const char *mode_names[] = {"cxm_export_text (buffer)", "cxm_export_write (callback)"};
	for (int mode = 0; mode < 2; mode++) {
		double mean = sum[mode] / rounds;
		printf("  %-28s best %8.3f ms  mean %8.3f ms  %7.1f ns per series (budget <= 100: %s)"
		       "  %6.1f ns per sample line  %5.2f GB/s\n",
		       mode_names[mode], best[mode] * 1e3, mean * 1e3, best[mode] * 1e9 / (double)series,
		       best[mode] * 1e9 / (double)series <= 100 ? "PASS" : "MISS",
		       best[mode] * 1e9 / (double)samples, (double)len / best[mode] / 1e9);
	}
	free(buf);
	free(tp);
	cxm_context_free(ctx);
	return 0;
}
