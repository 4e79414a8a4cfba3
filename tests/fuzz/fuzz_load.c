/* libFuzzer target: a snapshot from the fuzzer is loaded into an empty
 * context, and merged into one that defines the corpus's model; whatever
 * is accepted is then queried, saved again and merged into itself. A
 * fuzzing build of the library skips the checksums (CXM_FUZZING), so the
 * inputs reach the parser's checks of lengths, counts and ids. */
#include "fuzz.h"

#include <stdlib.h>

static int sink(const void *data, size_t len, void *payload)
{
	(void)data;
	*(size_t *)payload += len;
	return 0;
}

static void exercise(cxm_context *ctx)
{
	uint32_t nm = 0, nt = 0;
	cxm_count(&nm, ctx, CXM_OBJECT_METRIC);
	cxm_count(&nt, ctx, CXM_OBJECT_TOUCHPOINT);
	for (cxm_id m = 0; m < nm; m++) {
		cxm_query q = CXM_QUERY_INIT;
		q.metric = m;
		q.end_ms = INT64_C(1795392000000) + INT64_C(30) * 86400000;
		q.span_ms = INT64_C(86400000) * 3;
		cxm_result r = {.size = sizeof r};
		cxm_query_run(&r, ctx, &q);
		double qs[3] = {0.1, 0.5, 0.99}, out[3];
		cxm_query_quantiles(out, ctx, &q, qs, 3);
		if (nt) {
			q.scope = CXM_SCOPE_TOUCHPOINT;
			q.id = nt - 1;
			cxm_query_run(&r, ctx, &q);
		}
	}
	/* the journey state (JOURNEYS section): funnels, their times, churn */
	uint32_t nj = 0;
	cxm_count(&nj, ctx, CXM_OBJECT_JOURNEY);
	for (cxm_id j = 0; j < nj; j++) {
		cxm_funnel_query fq = CXM_FUNNEL_QUERY_INIT;
		fq.journey = j;
		fq.end_ms = INT64_C(1795392000000) + INT64_C(30) * 86400000;
		fq.span_ms = INT64_C(86400000) * 3;
		cxm_funnel f = {.size = sizeof f};
		cxm_funnel_step steps[8] = {{.size = sizeof steps[0]}};
		cxm_funnel_run(&f, steps, 8, ctx, &fq);
		double qs[2] = {0.5, 0.9}, out[2];
		cxm_funnel_quantiles(out, ctx, &fq, CXM_NONE, qs, 2);
		fq.channel = CXM_CHANNEL_WEB;
		cxm_funnel_run(&f, steps, 8, ctx, &fq);
		fq.channel = 0;
		fq.segment = 0;
		cxm_funnel_run(&f, steps, 8, ctx, &fq);
	}
	for (cxm_id m = 0; m < nm; m++) {
		cxm_churn c = {.size = sizeof c};
		cxm_churn_rate(&c, ctx, m, INT64_C(1795392000000) + INT64_C(30) * 86400000,
			       INT64_C(86400000), INT64_C(86400000));
	}
	cxm_stats st = {.size = sizeof st};
	cxm_stats_get(&st, ctx);
	size_t n = 0;
	cxm_snapshot_write(ctx, sink, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cxm_config cfg = fuzz_config();
	cxm_context *a = NULL, *b = NULL;
	if (cxm_context_new(&a, &cfg) || cxm_context_new(&b, &cfg))
		abort();
	if (cxm_snapshot_load_mem(a, data, size) == CXM_OK) {
		exercise(a);
		cxm_snapshot_merge_mem(a, data, size);
		exercise(a);
	}
	fuzz_define(b);
	if (cxm_snapshot_merge_mem(b, data, size) == CXM_OK)
		exercise(b);
	if (cxm_merge(b, a) == CXM_OK)
		exercise(b);
	cxm_context_free(a);
	cxm_context_free(b);
	return 0;
}
