/* One interaction in, its query out: linked through CMake's cxm::cxm
 * (tests/consumers/cmake) and, copied by tools/test-consumers.sh, as the
 * program of the meson parent project (tests/consumers/meson-parent). */
#include <cxm.h>

#include <stdio.h>
#include <time.h>

#define CHECK(call)                                                                            \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_ != CXM_OK) {                                                           \
			fprintf(stderr, "consumer: %s: %s\n", #call, cxm_strerror(st_));        \
			return 1;                                                              \
		}                                                                              \
	} while (0)

int main(void)
{
	if (cxm_libversion_number() != CXM_VERSION_NUMBER) {
		fprintf(stderr, "consumer: header %s, library %s\n", CXM_VERSION_STRING,
			cxm_libversion());
		return 1;
	}
	cxm_context *ctx = NULL;
	CHECK(cxm_context_new(&ctx, NULL));
	const char *steps[] = {"contact"};
	cxm_id journey, chat, nps;
	CHECK(cxm_journey_define(&journey, ctx, "support", steps, 1));
	CHECK(cxm_touchpoint_define(&chat, ctx, "chat", CXM_CHANNEL_CHAT, journey, 0));
	cxm_metric_def def = {.size = sizeof def};
	CHECK(cxm_metric_preset(&def, CXM_PRESET_NPS));
	CHECK(cxm_metric_define(&nps, ctx, "nps", &def));

	cxm_measure answer = {nps, 0, 10};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = (int64_t)time(NULL) * 1000;
	ix.touchpoint = chat;
	ix.measures = &answer;
	ix.n_measures = 1;
	CHECK(cxm_feed(ctx, &ix));

	cxm_query q = CXM_QUERY_INIT;
	q.metric = nps;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = chat;
	q.span_ms = 3600 * 1000;
	cxm_result r = {.size = sizeof r};
	CHECK(cxm_query_run(&r, ctx, &q));
	cxm_context_free(ctx);
	/* one promoter: n = 1, NPS 100 */
	if (r.n != 1 || r.top != 1 || r.value != 100.0) {
		fprintf(stderr, "consumer: n=%llu top=%llu NPS %.1f, expected 1, 1, 100\n",
			(unsigned long long)r.n, (unsigned long long)r.top, r.value);
		return 1;
	}
	printf("consumer: libcxm %s, NPS %.0f over n=%llu\n", cxm_libversion(), r.value,
	       (unsigned long long)r.n);
	return 0;
}
