/* The innermost cost: folding one measure into one series whose cell is
 * already resolved (DESIGN.md's "fold one measure into one series, ids
 * resolved" budget). Links the internal archive to reach the fold. */
#include "cxm_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void)
{
	cxm_context *ctx;
	if (cxm_context_new(&ctx, NULL))
		return 1;
	const cxm_preset presets[] = {CXM_PRESET_NPS, CXM_PRESET_RATE, CXM_PRESET_AMOUNT,
				      CXM_PRESET_DURATION};
	const char *names[] = {"nps (score)", "rate", "amount", "duration (moments + bins)"};
	enum { N = 50000000 };
	printf("fold one measure into one resolved series cell, %d folds each\n", N);
	for (int p = 0; p < 4; p++) {
		cxm_metric_def d = {.size = sizeof d};
		cxm_id id;
		cxm_metric_preset(&d, presets[p]);
		if (cxm_metric_define(&id, ctx, names[p], &d))
			return 1;
		const metric *m = &ctx->model.metrics[id];
		series *s = cxm__series_new(ctx, m);
		if (!s)
			return 1;
		uint64_t x = 1;
		double t0 = now_s();
		for (long i = 0; i < N; i++) {
			x = x * 6364136223846793005u + 1442695040888963407u;
			double v = p == 0 ? (double)((x >> 40) % 11) : p == 1 ? (double)((x >> 40) & 1)
								     : 30 + (double)((x >> 40) % 3000);
			void *cell = cxm__series_cell(ctx, s, 1000);
			if (p == 3) {
				cxm__sketch_add_moments(cell, v);
				cxm__sketch_add_dist(&m->sk, cxm__series_bins_cell(ctx, s, 1000), v);
			} else {
				cxm__cell_fold(m, cell, 0, v);
			}
		}
		double ns = (now_s() - t0) / N * 1e9;
		printf("  %-28s %6.2f ns  budget <= 5  %s\n", names[p], ns, ns <= 5 ? "PASS" : "MISS");
		cxm__series_free(ctx, s);
	}
	cxm_context_free(ctx);
	return 0;
}
