/* Every hostile value to every public function: the exact status code, a
 * message, and state exactly as it was. */
#include "testutil.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fixture {
	test_clock clk;
	cxm_context *ctx;
	cxm_id nps, cxi, aht, rate, amt, vol, tp, j, tier;
	uint32_t gold;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	f->clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_touchpoints = 8;
	cfg.max_name_len = 16;
	cfg.max_measures = 4;
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	cxm_metric_def d = {.size = sizeof d};
	struct {
		cxm_id *id;
		const char *name;
		cxm_preset p;
	} m[] = {{&f->nps, "nps", CXM_PRESET_NPS},      {&f->cxi, "cxi", CXM_PRESET_CXI},
		 {&f->aht, "aht", CXM_PRESET_DURATION}, {&f->rate, "fcr", CXM_PRESET_RATE},
		 {&f->amt, "revenue", CXM_PRESET_AMOUNT}, {&f->vol, "volume", CXM_PRESET_VOLUME}};
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		assert_int_equal(cxm_metric_preset(&d, m[i].p), CXM_OK);
		assert_int_equal(cxm_metric_define(m[i].id, f->ctx, m[i].name, &d), CXM_OK);
	}
	const char *steps[] = {"a", "b"};
	assert_int_equal(cxm_journey_define(&f->j, f->ctx, "support", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->tp, f->ctx, "ivr", CXM_CHANNEL_PHONE, f->j, 0), CXM_OK);
	assert_int_equal(cxm_segment_define(&f->tier, f->ctx, "tier", 2), CXM_OK);
	assert_int_equal(cxm_segment_value(&f->gold, f->ctx, f->tier, "gold"), CXM_OK);
	/* some state to be kept */
	assert_int_equal(feed1(f->ctx, T0 - 1000, f->tp, f->nps, 9), CXM_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	cxm_context_free(f->ctx);
	free(f);
	return 0;
}

/* What "state unchanged" is checked against. */
typedef struct snap {
	cxm_stats st;
	cxm_result nps, vol;
	uint32_t counts[4];
} snap;

static snap take(fixture *f)
{
	snap s;
	memset(&s, 0, sizeof s);
	s.st.size = sizeof s.st;
	assert_int_equal(cxm_stats_get(&s.st, f->ctx), CXM_OK);
	s.nps = query_tp(f->ctx, f->nps, f->tp, CXM_NOW, DAY);
	s.vol = query_tp(f->ctx, f->vol, f->tp, CXM_NOW, DAY);
	for (int k = 0; k < 4; k++)
		assert_int_equal(cxm_count(&s.counts[k], f->ctx, (cxm_object)(k + 1)), CXM_OK);
	return s;
}

/* Unchanged, except that a rejected feed counts once under its code. */
static void same(const snap *a, const snap *b, cxm_status fed_rejection)
{
	assert_int_equal(a->st.accepted, b->st.accepted);
	assert_int_equal(a->st.series, b->st.series);
	assert_int_equal(a->st.memory_bytes, b->st.memory_bytes);
	assert_int_equal(a->nps.n, b->nps.n);
	assert_int_equal(a->nps.top, b->nps.top);
	assert_int_equal(a->vol.n, b->vol.n);
	assert_memory_equal(a->counts, b->counts, sizeof a->counts);
	for (int c = 0; c < CXM_STATUS_COUNT; c++)
		assert_int_equal(b->st.rejected[c], a->st.rejected[c] + (fed_rejection && c == (int)fed_rejection));
}

/* For calls with no context: the message is kept under NULL. */
#define REFUSED_NOCTX(want, call)                                                               \
	do {                                                                                   \
		assert_int_equal((call), (want));                                              \
		assert_true(cxm_errmsg(NULL)[0] != '\0');                                      \
	} while (0)

#define REFUSED(f, want, call)                                                                  \
	do {                                                                                   \
		snap before_ = take(f);                                                        \
		cxm_status got_ = (call);                                                      \
		if (got_ != (want))                                                            \
			fail_msg("%s: got %s, want %s (%s)", #call, cxm_strerror(got_),         \
				 cxm_strerror(want), cxm_errmsg((f)->ctx));                    \
		assert_true(cxm_errmsg((f)->ctx)[0] != '\0');                                  \
		snap after_ = take(f);                                                         \
		same(&before_, &after_, 0);                                                    \
	} while (0)

static void strerror_names_every_code(void **state)
{
	(void)state;
	for (int i = 0; i < CXM_STATUS_COUNT; i++) {
		assert_string_not_equal(cxm_strerror(i), "unknown status");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(cxm_strerror(i), cxm_strerror(j));
	}
	assert_string_equal(cxm_strerror(CXM_STATUS_COUNT), "unknown status");
	assert_string_equal(cxm_strerror(-1), "unknown status");
	assert_int_equal(cxm_libversion_number(), CXM_VERSION_NUMBER);
	assert_string_equal(cxm_libversion(), CXM_VERSION_STRING);
}

static cxm_interaction good_ix(fixture *f, cxm_measure *m)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = T0;
	ix.touchpoint = f->tp;
	ix.measures = m;
	ix.n_measures = 1;
	return ix;
}

/* Each hostile interaction: its exact code, counted once, nothing folded. */
static void feed_rejections(void **state)
{
	fixture *f = *state;
	static char big[1 << 20];
	uint32_t seg_bad = 7, seg_two[2] = {0, 0}, seg_ok = 0;
	struct {
		const char *what;
		cxm_status want;
		cxm_id metric;
		uint32_t item;
		double v;
		int64_t t;
		int tweak;
	} cases[] = {
		{"NPS 11", CXM_ERR_OUT_OF_RANGE, 0, 0, 11, T0, 0},
		{"NPS -1", CXM_ERR_OUT_OF_RANGE, 0, 0, -1, T0, 0},
		{"NPS 7.5", CXM_ERR_OUT_OF_RANGE, 0, 0, 7.5, T0, 0},
		{"NPS NaN", CXM_ERR_NOT_FINITE, 0, 0, NAN, T0, 0},
		{"NPS +Inf", CXM_ERR_NOT_FINITE, 0, 0, INFINITY, T0, 0},
		{"NPS -Inf", CXM_ERR_NOT_FINITE, 0, 0, -INFINITY, T0, 0},
		{"NPS item 1", CXM_ERR_OUT_OF_RANGE, 0, 1, 9, T0, 0},
		{"CXI item 3", CXM_ERR_OUT_OF_RANGE, 1, 3, 9, T0, 0},
		{"CXI 0", CXM_ERR_OUT_OF_RANGE, 1, 0, 0, T0, 0},
		{"duration -1", CXM_ERR_OUT_OF_RANGE, 2, 0, -1, T0, 0},
		{"duration -DBL_MIN", CXM_ERR_OUT_OF_RANGE, 2, 0, -DBL_MIN, T0, 0},
		{"duration NaN", CXM_ERR_NOT_FINITE, 2, 0, NAN, T0, 0},
		{"rate 2", CXM_ERR_OUT_OF_RANGE, 3, 0, 2, T0, 0},
		{"rate 0.5", CXM_ERR_OUT_OF_RANGE, 3, 0, 0.5, T0, 0},
		{"amount Inf", CXM_ERR_NOT_FINITE, 4, 0, INFINITY, T0, 0},
		{"volume measure", CXM_ERR_KIND, 5, 0, 1, T0, 0},
		{"unknown metric", CXM_ERR_UNKNOWN_ID, 99, 0, 1, T0, 0},
		{"time INT64_MIN", CXM_ERR_OUT_OF_RANGE, 0, 0, 9, INT64_MIN, 0},
		{"time -1", CXM_ERR_OUT_OF_RANGE, 0, 0, 9, -1, 0},
		{"time MAX+1", CXM_ERR_OUT_OF_RANGE, 0, 0, 9, CXM_TIME_MAX + 1, 0},
		{"time INT64_MAX", CXM_ERR_OUT_OF_RANGE, 0, 0, 9, INT64_MAX, 0},
		{"5 min + 1 ms ahead", CXM_ERR_TOO_EARLY, 0, 0, 9, T0 + 5 * MIN + 1, 0},
		{"3 h behind", CXM_ERR_TOO_LATE, 0, 0, 9, T0 - 3 * HOUR, 0},
		{"unknown touchpoint", CXM_ERR_UNKNOWN_ID, 0, 0, 9, T0, 1},
		{"1 MB customer id", CXM_ERR_TOO_LONG, 0, 0, 9, T0, 2},
		{"257-byte customer id", CXM_ERR_TOO_LONG, 0, 0, 9, T0, 3},
		{"NULL customer, len 5", CXM_ERR_INVALID, 0, 0, 9, T0, 4},
		{"NULL measures, n 1", CXM_ERR_INVALID, 0, 0, 9, T0, 5},
		{"5 measures, max 4", CXM_ERR_LIMIT, 0, 0, 9, T0, 6},
		{"unknown segment value", CXM_ERR_UNKNOWN_ID, 0, 0, 9, T0, 7},
		{"two dimensions, one defined", CXM_ERR_UNKNOWN_ID, 0, 0, 9, T0, 8},
		{"NULL segments, n 1", CXM_ERR_INVALID, 0, 0, 9, T0, 9},
		{"size 0", CXM_ERR_VERSION, 0, 0, 9, T0, 10},
		{"size - 1", CXM_ERR_VERSION, 0, 0, 9, T0, 11},
		{"reserved set", CXM_ERR_UNSUPPORTED, 0, 0, 9, T0, 12},
		{"reserved0 set", CXM_ERR_UNSUPPORTED, 0, 0, 9, T0, 13},
	};
	cxm_id ids[] = {f->nps, f->cxi, f->aht, f->rate, f->amt, f->vol};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cxm_measure m[5];
		for (int k = 0; k < 5; k++)
			m[k] = (cxm_measure){cases[i].metric < 6 ? ids[cases[i].metric] : cases[i].metric,
					     cases[i].item, cases[i].v};
		cxm_interaction ix = good_ix(f, m);
		ix.time_ms = cases[i].t;
		switch (cases[i].tweak) {
		case 1: ix.touchpoint = 8; break;
		case 2: ix.customer = big; ix.customer_len = sizeof big; break;
		case 3: ix.customer = big; ix.customer_len = 257; break;
		case 4: ix.customer = NULL; ix.customer_len = 5; break;
		case 5: ix.measures = NULL; break;
		case 6: ix.n_measures = 5; break;
		case 7: ix.segments = &seg_bad; ix.n_segments = 1; break;
		case 8: ix.segments = seg_two; ix.n_segments = 2; break;
		case 9: ix.segments = NULL; ix.n_segments = 1; break;
		case 10: ix.size = 0; break;
		case 11: ix.size = sizeof ix - 1; break;
		case 12: ix.reserved[3] = 1; break;
		case 13: ix.reserved0 = 1; break;
		}
		snap before = take(f);
		cxm_status got = cxm_feed(f->ctx, &ix);
		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s (%s)", cases[i].what, cxm_strerror(got),
				 cxm_strerror(cases[i].want), cxm_errmsg(f->ctx));
		assert_true(cxm_errmsg(f->ctx)[0] != '\0');
		snap after = take(f);
		same(&before, &after, cases[i].want);
	}
	/* a larger struct with a zero tail is a newer caller using nothing new */
	struct {
		cxm_interaction ix;
		uint64_t tail[2];
	} newer;
	memset(&newer, 0, sizeof newer);
	cxm_measure m = {f->nps, 0, 10};
	newer.ix = good_ix(f, &m);
	newer.ix.size = sizeof newer;
	assert_int_equal(cxm_feed(f->ctx, &newer.ix), CXM_OK);
	newer.tail[1] = 1;
	assert_int_equal(cxm_feed(f->ctx, &newer.ix), CXM_ERR_UNSUPPORTED);
	/* edges that are fine */
	newer.ix.size = sizeof newer.ix;
	newer.ix.customer = big;
	newer.ix.customer_len = 256;
	newer.ix.segments = &seg_ok;
	newer.ix.n_segments = 1;
	newer.ix.time_ms = T0 + 5 * MIN;
	assert_int_equal(cxm_feed(f->ctx, &newer.ix), CXM_OK);
	assert_int_equal(cxm_feed(NULL, &newer.ix), CXM_ERR_INVALID);
	REFUSED(f, CXM_ERR_INVALID, cxm_feed(f->ctx, NULL));
}

static void batch_reports_each_rejection(void **state)
{
	fixture *f = *state;
	cxm_measure good = {f->nps, 0, 9}, bad = {f->nps, 0, 11}, nan_m = {f->aht, 0, NAN};
	cxm_interaction ix[5];
	cxm_measure *ms[5] = {&good, &bad, &good, &nan_m, &good};
	for (int i = 0; i < 5; i++)
		ix[i] = good_ix(f, ms[i]);
	snap before = take(f);
	size_t acc = 99, nrej = 99;
	cxm_rejection rej[1];
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, 5, rej, 1, &nrej), CXM_ERR_REJECTED);
	assert_int_equal(acc, 3);
	assert_int_equal(nrej, 2);                      /* all counted */
	assert_int_equal(rej[0].index, 1);              /* the first one detailed */
	assert_int_equal(rej[0].status, CXM_ERR_OUT_OF_RANGE);
	cxm_rejection all[5];
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, 5, all, 5, &nrej), CXM_ERR_REJECTED);
	assert_int_equal(nrej, 2);
	assert_int_equal(all[1].index, 3);
	assert_int_equal(all[1].status, CXM_ERR_NOT_FINITE);
	snap after = take(f);
	assert_int_equal(after.st.accepted, before.st.accepted + 6);
	assert_int_equal(after.st.rejected[CXM_ERR_OUT_OF_RANGE], before.st.rejected[CXM_ERR_OUT_OF_RANGE] + 2);
	assert_int_equal(after.st.rejected[CXM_ERR_NOT_FINITE], before.st.rejected[CXM_ERR_NOT_FINITE] + 2);
	/* all good, and the empty batch */
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, 1, NULL, 0, NULL), CXM_OK);
	assert_int_equal(acc, 1);
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, NULL, 0, NULL, 0, &nrej), CXM_OK);
	assert_int_equal(acc, 0);
	assert_int_equal(nrej, 0);
	/* a mixed-size batch: the odd one out is refused, the rest fed */
	ix[2].size = sizeof ix[2] + 8;
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, 3, all, 5, &nrej), CXM_ERR_REJECTED);
	assert_int_equal(all[1].index, 2);
	assert_int_equal(all[1].status, CXM_ERR_INVALID);
	ix[2].size = sizeof ix[2];
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(&acc, f->ctx, NULL, 2, NULL, 0, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(&acc, f->ctx, ix, 2, NULL, 3, NULL));
	ix[0].size = 8;
	REFUSED(f, CXM_ERR_VERSION, cxm_feed_batch(&acc, f->ctx, ix, 2, NULL, 0, NULL));
	assert_int_equal(cxm_feed_batch(&acc, NULL, ix, 2, NULL, 0, NULL), CXM_ERR_INVALID);
}

static void names(void **state)
{
	fixture *f = *state;
	cxm_id id;
	const char *s1[] = {"x"};
	struct {
		const char *name;
		cxm_status want;
	} bad[] = {
		{"", CXM_ERR_ENCODING},
		{"a\x01b", CXM_ERR_ENCODING},
		{"a\x7f", CXM_ERR_ENCODING},
		{"\xff", CXM_ERR_ENCODING},
		{"\xc0\xaf", CXM_ERR_ENCODING},         /* overlong '/' */
		{"\xed\xa0\x80", CXM_ERR_ENCODING},     /* a surrogate */
		{"ab\xe2\x82", CXM_ERR_ENCODING},       /* truncated */
		{"\xf4\x90\x80\x80", CXM_ERR_ENCODING}, /* above U+10FFFF */
		{"\xc2\x85", CXM_ERR_ENCODING},         /* C1 control */
		{"seventeen-bytes!!", CXM_ERR_TOO_LONG},
		{"ivr", CXM_ERR_EXISTS},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		REFUSED(f, bad[i].want, cxm_touchpoint_define(&id, f->ctx, bad[i].name, CXM_CHANNEL_WEB, CXM_NONE, 0));
		if (bad[i].want != CXM_ERR_EXISTS) {
			REFUSED(f, bad[i].want, cxm_journey_define(&id, f->ctx, bad[i].name, s1, 1));
			REFUSED(f, bad[i].want, cxm_segment_define(&id, f->ctx, bad[i].name, 2));
			uint32_t v;
			REFUSED(f, bad[i].want, cxm_segment_value(&v, f->ctx, f->tier, bad[i].name));
		}
	}
	/* exactly max_name_len, and real UTF-8, are fine */
	assert_int_equal(cxm_touchpoint_define(&id, f->ctx, "sixteen-bytes!!!", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&id, f->ctx, "caf\xc3\xa9 \xf0\x9f\x93\x9e", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	REFUSED(f, CXM_ERR_INVALID, cxm_touchpoint_define(&id, f->ctx, NULL, CXM_CHANNEL_WEB, CXM_NONE, 0));
}

static void definitions(void **state)
{
	fixture *f = *state;
	cxm_id id;
	uint32_t v;
	const char *steps[] = {"a", "a"};
	const char *one[] = {"a"};
	REFUSED(f, CXM_ERR_EXISTS, cxm_journey_define(&id, f->ctx, "dup steps", steps, 2));
	REFUSED(f, CXM_ERR_EXISTS, cxm_journey_define(&id, f->ctx, "support", one, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(&id, f->ctx, "none", one, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(&id, f->ctx, "none", NULL, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(NULL, f->ctx, "none", one, 1));
	REFUSED(f, CXM_ERR_LIMIT, cxm_journey_define(&id, f->ctx, "long", one, 65));
	REFUSED(f, CXM_ERR_INVALID, cxm_touchpoint_define(&id, f->ctx, "t", (cxm_channel)0, CXM_NONE, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_touchpoint_define(&id, f->ctx, "t", (cxm_channel)9, CXM_NONE, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_define(&id, f->ctx, "t", CXM_CHANNEL_WEB, 7, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_define(&id, f->ctx, "t", CXM_CHANNEL_WEB, f->j, 2));
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_segment_define(&id, f->ctx, "s", 0));
	REFUSED(f, CXM_ERR_EXISTS, cxm_segment_define(&id, f->ctx, "tier", 2));
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_define(&id, f->ctx, "huge", 1000));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value(&v, f->ctx, 5, "x"));
	assert_int_equal(cxm_segment_value(&v, f->ctx, f->tier, "silver"), CXM_OK);
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_value(&v, f->ctx, f->tier, "bronze")); /* max 2 */
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_find(&v, f->ctx, f->tier, "bronze"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_name(&(const char *){NULL}, f->ctx, f->tier, 2));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_values(NULL, f->ctx, f->tier));
	/* touchpoints up to the limit (8), then LIMIT */
	char name[16];
	uint32_t n;
	assert_int_equal(cxm_count(&n, f->ctx, CXM_OBJECT_TOUCHPOINT), CXM_OK);
	for (uint32_t i = n; i < 8; i++) {
		snprintf(name, sizeof name, "tp%u", i);
		assert_int_equal(cxm_touchpoint_define(&id, f->ctx, name, CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	}
	REFUSED(f, CXM_ERR_LIMIT, cxm_touchpoint_define(&id, f->ctx, "one more", CXM_CHANNEL_WEB, CXM_NONE, 0));
	/* look-ups */
	REFUSED(f, CXM_ERR_INVALID, cxm_count(&n, f->ctx, (cxm_object)0));
	REFUSED(f, CXM_ERR_INVALID, cxm_count(NULL, f->ctx, CXM_OBJECT_METRIC));
	REFUSED(f, CXM_ERR_INVALID, cxm_find(&id, f->ctx, (cxm_object)5, "ivr"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_find(&id, f->ctx, CXM_OBJECT_METRIC, "ivr"));
	REFUSED(f, CXM_ERR_INVALID, cxm_find(&id, f->ctx, CXM_OBJECT_METRIC, NULL));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_name(&(const char *){NULL}, f->ctx, CXM_OBJECT_JOURNEY, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_name(NULL, f->ctx, CXM_OBJECT_JOURNEY, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_journey_steps(&n, f->ctx, 3));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_name(&(const char *){NULL}, f->ctx, f->j, 2));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_find(&id, f->ctx, f->j, "zz"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_get(NULL, NULL, NULL, f->ctx, 99));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_touchpoint_get(NULL, NULL, NULL, NULL, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_series_bytes(&(size_t){0}, f->ctx, 99));
	cxm_metric_def d = {.size = sizeof d};
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_metric_get(&d, f->ctx, 99));
	d.size = 4;
	REFUSED(f, CXM_ERR_VERSION, cxm_metric_get(&d, f->ctx, f->nps));
}

static void metric_definitions(void **state)
{
	fixture *f = *state;
	cxm_id id;
	cxm_metric_def d = {.size = sizeof d};
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_preset(&d, (cxm_preset)0));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_preset(&d, (cxm_preset)13));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_preset(NULL, CXM_PRESET_NPS));
	struct {
		const char *what;
		cxm_status want;
		int tweak;
	} cases[] = {
		{"kind 0", CXM_ERR_INVALID, 1},
		{"kind 8", CXM_ERR_INVALID, 2},
		{"headline SUM on a score", CXM_ERR_INVALID, 3},
		{"headline 99", CXM_ERR_INVALID, 4},
		{"one point", CXM_ERR_OUT_OF_RANGE, 5},
		{"102 points", CXM_ERR_OUT_OF_RANGE, 6},
		{"top below bottom", CXM_ERR_OUT_OF_RANGE, 7},
		{"top above scale", CXM_ERR_OUT_OF_RANGE, 8},
		{"bottom below scale", CXM_ERR_OUT_OF_RANGE, 9},
		{"score with 2 questions", CXM_ERR_OUT_OF_RANGE, 10},
		{"NA on the scale", CXM_ERR_OUT_OF_RANGE, 11},
		{"reserved", CXM_ERR_UNSUPPORTED, 12},
		{"size 0", CXM_ERR_VERSION, 13},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
		switch (cases[i].tweak) {
		case 1: d.kind = (cxm_metric_kind)0; break;
		case 2: d.kind = (cxm_metric_kind)8; break;
		case 3: d.headline = CXM_HEADLINE_SUM; break;
		case 4: d.headline = (cxm_headline)99; break;
		case 5: d.scale_max = d.scale_min; break;
		case 6: d.scale_max = d.scale_min + 101; break;
		case 7: d.top_min[0] = 5; d.bottom_max[0] = 6; break;
		case 8: d.top_min[0] = 11; break;
		case 9: d.bottom_max[0] = -1; break;
		case 10: d.questions = 2; break;
		case 11: d.has_na = 1; d.na_value = 5; break;
		case 12: d.reserved[2] = 1; break;
		case 13: d.size = 0; break;
		}
		snap before = take(f);
		cxm_status got = cxm_metric_define(&id, f->ctx, "m", &d);
		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what, cxm_strerror(got), cxm_strerror(cases[i].want));
		snap after = take(f);
		same(&before, &after, 0);
		d.size = sizeof d;
	}
	cxm_metric_preset(&d, CXM_PRESET_CXI);
	d.questions = 9;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d));
	d.questions = 0;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d));
	cxm_metric_preset(&d, CXM_PRESET_DURATION);
	d.duration_lo = NAN;
	REFUSED(f, CXM_ERR_NOT_FINITE, cxm_metric_define(&id, f->ctx, "m", &d));
	d.duration_lo = 0;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d));
	d.duration_lo = 10;
	d.duration_hi = 5;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d));
	d.duration_lo = 1e-9;
	d.duration_hi = 1e12;
	d.relative_error = 0.001;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d)); /* too many bins */
	d.duration_lo = 1e-10; /* below a nanosecond */
	d.relative_error = 0.01;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d));
	d.duration_lo = 1;
	d.duration_hi = 10;
	d.relative_error = 0.5;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_metric_define(&id, f->ctx, "m", &d));
	d.relative_error = INFINITY;
	REFUSED(f, CXM_ERR_NOT_FINITE, cxm_metric_define(&id, f->ctx, "m", &d));
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	REFUSED(f, CXM_ERR_EXISTS, cxm_metric_define(&id, f->ctx, "nps", &d));
	REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(&id, f->ctx, "m", NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(NULL, f->ctx, "m", &d));
	assert_int_equal(cxm_metric_define(&id, NULL, "m", &d), CXM_ERR_INVALID);
	assert_int_equal(cxm_metric_def_init(NULL, sizeof d), CXM_ERR_INVALID);
	assert_int_equal(cxm_metric_def_init(&d, 3), CXM_ERR_VERSION);
}

static void queries(void **state)
{
	fixture *f = *state;
	cxm_result r = {.size = sizeof r};
	cxm_query q = CXM_QUERY_INIT;
	q.metric = f->nps;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = f->tp;
	q.span_ms = DAY;
	assert_int_equal(cxm_query_run(&r, f->ctx, &q), CXM_OK);
	struct {
		const char *what;
		cxm_status want;
		int tweak;
	} cases[] = {
		{"unknown metric", CXM_ERR_UNKNOWN_ID, 1},   {"unknown touchpoint", CXM_ERR_UNKNOWN_ID, 2},
		{"unknown journey", CXM_ERR_UNKNOWN_ID, 3},  {"unknown step", CXM_ERR_UNKNOWN_ID, 4},
		{"unknown channel", CXM_ERR_UNKNOWN_ID, 5},  {"unknown scope", CXM_ERR_INVALID, 6},
		{"unknown segment", CXM_ERR_UNKNOWN_ID, 7},  {"unknown value", CXM_ERR_UNKNOWN_ID, 8},
		{"span 0", CXM_ERR_OUT_OF_RANGE, 9},         {"span -1", CXM_ERR_OUT_OF_RANGE, 10},
		{"end -5", CXM_ERR_OUT_OF_RANGE, 11},        {"end MAX+1", CXM_ERR_OUT_OF_RANGE, 12},
		{"size 0", CXM_ERR_VERSION, 13},             {"reserved", CXM_ERR_UNSUPPORTED, 14},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cxm_query b = q;
		switch (cases[i].tweak) {
		case 1: b.metric = 77; break;
		case 2: b.id = 77; break;
		case 3: b.scope = CXM_SCOPE_JOURNEY; b.id = 9; break;
		case 4: b.scope = CXM_SCOPE_STEP; b.id = f->j; b.step = 2; break;
		case 5: b.scope = CXM_SCOPE_CHANNEL; b.id = 0; break;
		case 6: b.scope = (cxm_scope)9; break;
		case 7: b.segment = 3; break;
		case 8: b.segment = f->tier; b.segment_value = 1; break;
		case 9: b.span_ms = 0; break;
		case 10: b.span_ms = -1; break;
		case 11: b.end_ms = -5; break;
		case 12: b.end_ms = CXM_TIME_MAX + 1; break;
		case 13: b.size = 0; break;
		case 14: b.reserved[0] = 1; break;
		}
		cxm_result keep;
		memset(&keep, 0x5a, sizeof keep);
		keep.size = sizeof keep;
		cxm_result out = keep;
		cxm_status got = cxm_query_run(&out, f->ctx, &b);
		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s", cases[i].what, cxm_strerror(got), cxm_strerror(cases[i].want));
		assert_memory_equal(&out, &keep, sizeof out); /* not written on failure */
	}
	REFUSED(f, CXM_ERR_INVALID, cxm_query_run(NULL, f->ctx, &q));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_run(&r, f->ctx, NULL));
	r.size = 8;
	REFUSED(f, CXM_ERR_VERSION, cxm_query_run(&r, f->ctx, &q));
	double qs[2] = {0.5, 0.9}, out[2];
	REFUSED(f, CXM_ERR_KIND, cxm_query_quantiles(out, f->ctx, &q, qs, 2));
	q.metric = f->aht;
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(out, f->ctx, &q, qs, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(out, f->ctx, &q, qs, 65));
	qs[1] = 1.5;
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_query_quantiles(out, f->ctx, &q, qs, 2));
	qs[1] = NAN;
	REFUSED(f, CXM_ERR_NOT_FINITE, cxm_query_quantiles(out, f->ctx, &q, qs, 2));
	uint64_t dist[11];
	size_t nd;
	REFUSED(f, CXM_ERR_KIND, cxm_query_distribution(dist, 11, &nd, f->ctx, &q, 0));
	q.metric = f->nps;
	REFUSED(f, CXM_ERR_INVALID, cxm_query_distribution(NULL, 11, &nd, f->ctx, &q, 0));
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_query_distribution(dist, 11, &nd, f->ctx, &q, 1));
	assert_int_equal(cxm_query_init(NULL, sizeof q), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_init(&q, 2), CXM_ERR_VERSION);
	cxm_stats st = {.size = 3};
	REFUSED(f, CXM_ERR_VERSION, cxm_stats_get(&st, f->ctx));
	REFUSED(f, CXM_ERR_INVALID, cxm_stats_get(NULL, f->ctx));
}

static void *fail_alloc(void *o, size_t n)
{
	(void)o;
	(void)n;
	return NULL;
}
static void noop_free(void *o, void *p)
{
	(void)o;
	(void)p;
}

static void configs(void **state)
{
	(void)state;
	cxm_context *ctx = (cxm_context *)0x1;
	struct {
		const char *what;
		cxm_status want;
		int tweak;
	} cases[] = {
		{"size 0", CXM_ERR_VERSION, 1},
		{"unknown tail", CXM_ERR_UNSUPPORTED, 2},
		{"reserved", CXM_ERR_UNSUPPORTED, 3},
		{"alloc without free", CXM_ERR_INVALID, 4},
		{"5 tiers", CXM_ERR_OUT_OF_RANGE, 5},
		{"bucket 999 ms", CXM_ERR_OUT_OF_RANGE, 6},
		{"1 bucket", CXM_ERR_OUT_OF_RANGE, 7},
		{"tier reserved", CXM_ERR_UNSUPPORTED, 8},
		{"negative skew", CXM_ERR_OUT_OF_RANGE, 9},
		{"confidence NaN", CXM_ERR_NOT_FINITE, 10},
		{"confidence 1", CXM_ERR_OUT_OF_RANGE, 11},
		{"confidence -0.5", CXM_ERR_OUT_OF_RANGE, 12},
		{"65 shards", CXM_ERR_OUT_OF_RANGE, 13},
		{"max_steps 5000", CXM_ERR_OUT_OF_RANGE, 14},
		{"allocator fails", CXM_ERR_NO_MEMORY, 15},
	};
	struct {
		cxm_config c;
		uint64_t tail;
	} big;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&big, 0, sizeof big);
		cxm_config *c = &big.c;
		assert_int_equal(cxm_config_init(c, sizeof *c), CXM_OK);
		switch (cases[i].tweak) {
		case 1: c->size = 0; break;
		case 2: c->size = sizeof big; big.tail = 1; break;
		case 3: c->reserved[7] = 1; break;
		case 4: c->allocator.alloc = fail_alloc; break;
		case 5: c->n_tiers = 5; break;
		case 6: c->n_tiers = 1; c->tiers[0] = (cxm_tier){999, 10, 0}; break;
		case 7: c->n_tiers = 1; c->tiers[0] = (cxm_tier){1000, 1, 0}; break;
		case 8: c->n_tiers = 1; c->tiers[0] = (cxm_tier){1000, 10, 1}; break;
		case 9: c->max_future_ms = -1; break;
		case 10: c->confidence = NAN; break;
		case 11: c->confidence = 1; break;
		case 12: c->confidence = -0.5; break;
		case 13: c->shards = 65; break;
		case 14: c->max_steps = 5000; break;
		case 15: c->allocator = (cxm_allocator){fail_alloc, noop_free, NULL}; break;
		}
		cxm_status got = cxm_context_new(&ctx, c);
		if (got != cases[i].want)
			fail_msg("%s: got %s, want %s (%s)", cases[i].what, cxm_strerror(got),
				 cxm_strerror(cases[i].want), cxm_errmsg(NULL));
		assert_ptr_equal(ctx, (cxm_context *)0x1); /* out untouched */
		assert_true(cxm_errmsg(NULL)[0] != '\0');
	}
	assert_int_equal(cxm_context_new(NULL, NULL), CXM_ERR_INVALID);
	assert_int_equal(cxm_config_init(NULL, sizeof(cxm_config)), CXM_ERR_INVALID);
	cxm_config c;
	assert_int_equal(cxm_config_init(&c, 8), CXM_ERR_VERSION);
	/* a zero-tailed newer config is fine, as is NULL for all defaults */
	memset(&big, 0, sizeof big);
	big.c.size = sizeof big;
	assert_int_equal(cxm_context_new(&ctx, &big.c), CXM_OK);
	cxm_context_free(ctx);
	assert_int_equal(cxm_context_new(&ctx, NULL), CXM_OK);
	cxm_context_free(ctx);
	cxm_context_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strerror_names_every_code),
		cmocka_unit_test_setup_teardown(feed_rejections, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_reports_each_rejection, setup, teardown),
		cmocka_unit_test_setup_teardown(names, setup, teardown),
		cmocka_unit_test_setup_teardown(definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(metric_definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(queries, setup, teardown),
		cmocka_unit_test(configs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
