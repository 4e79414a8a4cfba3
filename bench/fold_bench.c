/* The innermost cost: folding one measure into one series whose cell is
 * already resolved (the "fold one measure into one series, ids
 * resolved" budget, <= 5 ns). Links the internal archive to reach the fold.
 *
 *   fold_bench [--folds N] [--raw]
 *
 * --raw prints "name<TAB>ns<TAB>ns" lines (pure fold, fold through the
 * series' hot-cell check) for cxm_bench to quote. */
#include "cxm_internal.h"
#include "series_hot.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

enum { NV = 4096 };

int main(int argc, char **argv)
{
	long N = 50000000;
	int raw = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--folds") && i + 1 < argc)
			N = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--raw"))
			raw = 1;
		else {
			fprintf(stderr, "usage: %s [--folds N] [--raw]\n", argv[0]);
			return 2;
		}
	}
	if (N < NV)
		N = NV;
	cxm_context *ctx;
	if (cxm_context_new(&ctx, NULL))
		return 1;
	const cxm_preset presets[] = {CXM_PRESET_NPS, CXM_PRESET_RATE, CXM_PRESET_AMOUNT,
				      CXM_PRESET_DURATION};
	const char *names[] = {"score (nps)", "rate", "amount", "duration"};
	if (!raw)
		printf("fold one measure into one series, ids resolved, %ld folds each\n"
		       "  %-14s %14s %22s\n",
		       N, "kind", "cell resolved", "through hot-cell check");
	for (int p = 0; p < 4; p++) {
		cxm_metric_def d = {.size = sizeof d};
		cxm_id id;
		cxm_metric_preset(&d, presets[p]);
		if (cxm_metric_define(&id, ctx, names[p], &d))
			return 1;
		const metric *m = &ctx->model.metrics[id];
		series *s = cxm__series_new(ctx, m, NULL);
		if (!s)
			return 1;
		static double v[NV];
		uint64_t x = 1;
		for (int i = 0; i < NV; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			v[i] = p == 0 ? (double)((x >> 40) % 11) : p == 1 ? (double)((x >> 40) & 1)
								   : 30 + (double)((x >> 40) % 3000);
		}
		double ns[2];
		for (int variant = 0; variant < 2; variant++) {
			void *cell = cxm__series_cell(ctx, s, 1000);
			void *bins = p == 3 ? cxm__series_bins_cell(ctx, s, 1000) : NULL;
			double t0 = now_s();
			for (long i = 0; i < N; i++) {
				double val = v[i & (NV - 1)];
				if (variant == 1) {
					cell = cxm__series_cell(ctx, s, 1000);
					if (p == 3)
						bins = cxm__series_bins_cell(ctx, s, 1000);
				}
				if (p == 3) {
					cxm__sketch_add_moments(cell, val);
					cxm__sketch_add_dist(&m->sk, bins, val);
				} else {
					cxm__cell_fold(m, cell, 0, val);
				}
			}
			ns[variant] = (now_s() - t0) / N * 1e9;
		}
		if (raw)
			printf("%s\t%.3f\t%.3f\n", names[p], ns[0], ns[1]);
		else
			printf("  %-14s %11.2f ns %19.2f ns   budget <= 5 ns  %s\n", names[p], ns[0],
			       ns[1], ns[0] <= 5 ? "PASS" : "MISS");
		cxm__series_free(ctx, s);
	}
	cxm_context_free(ctx);
	return 0;
}
