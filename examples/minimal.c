/* The README's minimal program, with its checks: NPS of one touchpoint
 * for tier = gold over the last 24 h. */
#include <cxm.h>

#include <stdio.h>
#include <time.h>

#define CHECK(call)                                                                            \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_ != CXM_OK) {                                                           \
			fprintf(stderr, "%s: %s (%s)\n", #call, cxm_strerror(st_),              \
				cxm_errmsg(ctx));                                              \
			return 1;                                                              \
		}                                                                              \
	} while (0)

int main(void)
{
	cxm_context *ctx = NULL;
	CHECK(cxm_context_new(&ctx, NULL));

	const char *steps[] = {"contact", "resolution"};
	cxm_id support, ivr, agent, nps, tier;
	CHECK(cxm_journey_define(&support, ctx, "support case", steps, 2));
	CHECK(cxm_touchpoint_define(&ivr, ctx, "ivr", CXM_CHANNEL_PHONE, support, 0));
	CHECK(cxm_touchpoint_define(&agent, ctx, "agent call", CXM_CHANNEL_PHONE, support, 1));

	cxm_metric_def def = {.size = sizeof def};
	CHECK(cxm_metric_preset(&def, CXM_PRESET_NPS));
	CHECK(cxm_metric_define(&nps, ctx, "nps", &def));

	uint32_t gold, silver;
	CHECK(cxm_segment_define(&tier, ctx, "tier", 4));
	CHECK(cxm_segment_value(&gold, ctx, tier, "gold"));
	CHECK(cxm_segment_value(&silver, ctx, tier, "silver"));

	const int64_t now = (int64_t)time(NULL) * 1000;
	const double answers[] = {10, 9, 9, 7, 3, 10, 8, 6};
	for (int i = 0; i < 8; i++) {
		uint32_t seg = i % 4 == 3 ? silver : gold;
		cxm_measure answer = {nps, 0, answers[i]};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = now - i * 60000;
		ix.touchpoint = agent;
		ix.customer = "customer-42";
		ix.customer_len = 11;
		ix.segments = &seg;
		ix.n_segments = 1;
		ix.measures = &answer;
		ix.n_measures = 1;
		CHECK(cxm_feed(ctx, &ix));
	}

	cxm_query q = CXM_QUERY_INIT;
	q.metric = nps;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = agent;
	q.segment = tier;
	q.segment_value = gold;
	q.span_ms = 24 * 3600 * 1000;
	cxm_result r = {.size = sizeof r};
	CHECK(cxm_query_run(&r, ctx, &q));
	printf("NPS of 'agent call' for tier=gold, last 24 h: %.1f, 95%% CI [%.1f, %.1f], n=%llu%s\n",
	       r.value, r.ci_low, r.ci_high, (unsigned long long)r.n,
	       (r.flags & CXM_RESULT_LOW_SAMPLE) ? " (too few responses to trust)" : "");
	cxm_context_free(ctx);
	/* 6 gold answers: 10 9 9 3 10 8 -> 4 promoters, 1 detractor */
	return r.n == 6 && r.top == 4 && r.bottom == 1 ? 0 : 1;
}
