/* Every hostile value to every public function: the exact status code, a
 * message for the failing thread, outputs left unwritten, and state exactly
 * as it was (a rejected interaction counts once, under its code). */
#include "testutil.h"

#include <float.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixture ---------------------------------------------------------------- */

#define MAX_PROBES 8
#define OUT_BYTES 2048

typedef struct fixture {
	test_clock clk;
	cxm_context *ctx;
	cxm_id nps, csat, ces, cxi, aht, fcr, rev, vol, dist;
	cxm_id j, ivr, web, tier;
	uint32_t gold;
	cxm_query probe[MAX_PROBES];
	int n_probe;
	/* where outputs of refused calls point: must stay as it was */
	alignas(max_align_t) unsigned char out[OUT_BYTES];
} fixture;

/* A context none of the tests refuse calls on: failing a call on it moves
 * the calling thread's message away from the context under test, so that
 * "a message is recorded" can fail. */
static cxm_context *g_other;
static test_clock g_other_clk = {T0};

static void msg_elsewhere(void)
{
	assert_int_equal(cxm_count(NULL, g_other, CXM_OBJECT_METRIC), CXM_ERR_INVALID);
	assert_string_not_equal(cxm_errmsg(g_other), "");
}

static cxm_query mkq(cxm_id metric, cxm_scope scope, cxm_id id)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = metric;
	q.scope = scope;
	q.id = id;
	q.span_ms = DAY;
	return q;
}

static void add_probe(fixture *f, cxm_query q)
{
	assert_true(f->n_probe < MAX_PROBES);
	f->probe[f->n_probe++] = q;
}

static cxm_id define_preset(cxm_context *ctx, const char *name, cxm_preset p)
{
	cxm_metric_def d;
	assert_int_equal(cxm_metric_def_init(&d, sizeof d), CXM_OK);
	assert_int_equal(cxm_metric_preset(&d, p), CXM_OK);
	cxm_id id;
	assert_int_equal(cxm_metric_define(&id, ctx, name, &d), CXM_OK);
	return id;
}

static cxm_interaction mkix(int64_t t, cxm_id tp, const cxm_measure *m, size_t n)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.measures = m;
	ix.n_measures = n;
	return ix;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->clk.now = T0;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_touchpoints = 8;
	cfg.max_name_len = 16;
	cfg.max_measures = 4;
	cfg.shards = 2;
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	f->nps = define_preset(f->ctx, "nps", CXM_PRESET_NPS);
	f->csat = define_preset(f->ctx, "csat", CXM_PRESET_CSAT5);
	f->ces = define_preset(f->ctx, "ces", CXM_PRESET_CES7);
	f->cxi = define_preset(f->ctx, "cxi", CXM_PRESET_CXI);
	f->aht = define_preset(f->ctx, "aht", CXM_PRESET_DURATION);
	f->fcr = define_preset(f->ctx, "fcr", CXM_PRESET_RATE);
	f->rev = define_preset(f->ctx, "revenue", CXM_PRESET_AMOUNT);
	f->vol = define_preset(f->ctx, "volume", CXM_PRESET_VOLUME);
	f->dist = define_preset(f->ctx, "customers", CXM_PRESET_DISTINCT);
	const char *steps[] = {"a", "b"};
	assert_int_equal(cxm_journey_define(&f->j, f->ctx, "support", steps, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->ivr, f->ctx, "ivr", CXM_CHANNEL_PHONE, f->j, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&f->web, f->ctx, "web", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(f->ivr % 2 != f->web % 2, 1); /* two shards */
	assert_int_equal(cxm_segment_define(&f->tier, f->ctx, "tier", 2), CXM_OK);
	assert_int_equal(cxm_segment_value(&f->gold, f->ctx, f->tier, "gold"), CXM_OK);
	/* some state to be kept */
	cxm_measure m[4] = {{f->nps, 0, 9}, {f->aht, 0, 30}, {f->fcr, 0, 1}, {f->cxi, 1, 9}};
	cxm_interaction ix = mkix(T0 - 1000, f->ivr, m, 4);
	ix.customer = "c1";
	ix.customer_len = 2;
	ix.segments = &f->gold;
	ix.n_segments = 1;
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);
	cxm_measure m2[2] = {{f->nps, 0, 3}, {f->rev, 0, 12.5}};
	ix = mkix(T0 - 2000, f->web, m2, 2);
	ix.customer = "c2";
	ix.customer_len = 2;
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);

	add_probe(f, mkq(f->nps, CXM_SCOPE_TOUCHPOINT, f->ivr));
	add_probe(f, mkq(f->vol, CXM_SCOPE_ALL, 0));
	add_probe(f, mkq(f->aht, CXM_SCOPE_JOURNEY, f->j));
	add_probe(f, mkq(f->dist, CXM_SCOPE_ALL, 0));
	add_probe(f, mkq(f->fcr, CXM_SCOPE_CHANNEL, CXM_CHANNEL_PHONE));
	add_probe(f, mkq(f->rev, CXM_SCOPE_TOUCHPOINT, f->web));
	cxm_query q = mkq(f->nps, CXM_SCOPE_ALL, 0);
	q.segment = f->tier;
	q.segment_value = f->gold;
	add_probe(f, q);
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

/* A bare fixture around another context, for limits and configs. */
static fixture *bare(cxm_config *cfg)
{
	fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->clk.now = T0;
	f->ctx = test_ctx_cfg(&f->clk, cfg);
	return f;
}

static void bare_free(fixture *f)
{
	cxm_context_free(f->ctx);
	free(f);
}

/* ---- what "unchanged" is checked against -------------------------------------- */

typedef struct snap {
	cxm_stats st;
	cxm_result r[MAX_PROBES];
	uint32_t counts[4];
	uint32_t values[4];
	cxm_status seen_status[3];
	int64_t seen[3];
} snap;

static const char *const g_customers[3] = {"c1", "c2", "newcomer"};

static snap take(fixture *f)
{
	snap s;
	memset(&s, 0, sizeof s);
	for (int i = 0; i < f->n_probe; i++) {
		s.r[i].size = sizeof s.r[i];
		cxm_status st = cxm_query_run(&s.r[i], f->ctx, &f->probe[i]);
		if (st)
			fail_msg("probe %d: %s: %s", i, cxm_strerror(st), cxm_errmsg(f->ctx));
	}
	/* after the probes: a probe may make the query cache of an hour it
	 * reads (cxm_stats::query_cache_bytes), which memory_bytes counts */
	s.st.size = sizeof s.st;
	assert_int_equal(cxm_stats_get(&s.st, f->ctx), CXM_OK);
	for (int k = 0; k < 4; k++)
		assert_int_equal(cxm_count(&s.counts[k], f->ctx, (cxm_object)(k + 1)), CXM_OK);
	for (uint32_t g = 0; g < s.counts[3] && g < 4; g++)
		assert_int_equal(cxm_segment_values(&s.values[g], f->ctx, g), CXM_OK);
	for (int c = 0; c < 3; c++) {
		s.seen[c] = -7;
		s.seen_status[c] = cxm_customer_last_seen(&s.seen[c], f->ctx, g_customers[c],
							  strlen(g_customers[c]));
	}
	return s;
}

#define SAME_U(what, a, b)                                                                     \
	do {                                                                                   \
		if ((uint64_t)(a) != (uint64_t)(b))                                            \
			fail_msg("line %d: %s: %s changed from %llu to %llu", line, text, what,  \
				 (unsigned long long)(a), (unsigned long long)(b));            \
	} while (0)

/* Unchanged, except that a refused interaction counts once under its code
 * (rej) and, under policy REFUSE, once as refused (refused). */
static void same(const snap *a, const snap *b, cxm_status rej, int refused, int line, const char *text)
{
	const cxm_stats *x = &a->st, *y = &b->st;
	SAME_U("memory_bytes", x->memory_bytes, y->memory_bytes);
	SAME_U("series", x->series, y->series);
	SAME_U("series_bytes", x->series_bytes, y->series_bytes);
	SAME_U("accepted", x->accepted, y->accepted);
	SAME_U("saturated", x->saturated, y->saturated);
	SAME_U("watermark_ms", x->watermark_ms, y->watermark_ms);
	SAME_U("shards_used", x->shards_used, y->shards_used);
	SAME_U("customers", x->customers, y->customers);
	SAME_U("customers_evicted", x->customers_evicted, y->customers_evicted);
	SAME_U("customers_refused", x->customers_refused + (refused ? 1 : 0), y->customers_refused);
	SAME_U("customers_forgotten", x->customers_forgotten, y->customers_forgotten);
	SAME_U("customer_bytes", x->customer_bytes, y->customer_bytes);
	for (int c = 0; c < CXM_STATUS_COUNT; c++)
		if (y->rejected[c] != x->rejected[c] + (rej != CXM_OK && c == (int)rej))
			fail_msg("line %d: %s: rejected[%s] went from %llu to %llu (expected +%d)", line,
				 text, cxm_strerror(c), (unsigned long long)x->rejected[c],
				 (unsigned long long)y->rejected[c], rej != CXM_OK && c == (int)rej);
	SAME_U("rejected_total", x->rejected_total + (rej != CXM_OK), y->rejected_total);
	for (int i = 0; i < MAX_PROBES; i++)
		if (memcmp(&a->r[i], &b->r[i], sizeof a->r[i]) != 0)
			fail_msg("line %d: %s: probe query %d changed (n %llu -> %llu)", line, text, i,
				 (unsigned long long)a->r[i].n, (unsigned long long)b->r[i].n);
	for (int k = 0; k < 4; k++) {
		SAME_U("a definition count", a->counts[k], b->counts[k]);
		SAME_U("a segment's value count", a->values[k], b->values[k]);
	}
	for (int c = 0; c < 3; c++) {
		SAME_U("a customer's last_seen status", a->seen_status[c], b->seen_status[c]);
		SAME_U("a customer's last_seen", a->seen[c], b->seen[c]);
	}
}

static void check_refused(fixture *f, const snap *before, const unsigned char *keep, cxm_status got,
			  cxm_status want, cxm_status rej, int refused, int line, const char *text)
{
	if (got != want)
		fail_msg("line %d: %s: got %s, want %s (%s)", line, text, cxm_strerror(got),
			 cxm_strerror(want), cxm_errmsg(f->ctx));
	if (cxm_errmsg(f->ctx)[0] == '\0')
		fail_msg("line %d: %s: no message recorded", line, text);
	if (memcmp(keep, f->out, OUT_BYTES) != 0)
		fail_msg("line %d: %s: an output was written on failure", line, text);
	snap after = take(f);
	same(before, &after, rej, refused, line, text);
}

/* The call, refused with want; outputs (at f->out, whose first size_t is
 * outsize when non-zero) untouched; state unchanged but for a feed's own
 * rejection count. */
#define EXPECT(f, want, rej, refused, set_size, outsize, call)                                 \
	do {                                                                                   \
		snap b_ = take(f);                                                             \
		memset((f)->out, 0xa5, OUT_BYTES);                                             \
		if (set_size) {                                                                \
			size_t s_ = (outsize);                                                 \
			memcpy((f)->out, &s_, sizeof s_);                                      \
		}                                                                              \
		unsigned char k_[OUT_BYTES];                                                   \
		memcpy(k_, (f)->out, OUT_BYTES);                                               \
		msg_elsewhere();                                                               \
		cxm_status g_ = (call);                                                        \
		check_refused(f, &b_, k_, g_, want, rej, refused, __LINE__, #call);            \
	} while (0)

#define REFUSED(f, want, call) EXPECT(f, want, CXM_OK, 0, 0, 0, call)
#define REFUSED_OUT(f, want, size, call) EXPECT(f, want, CXM_OK, 0, 1, size, call)
#define FEED_REFUSED(f, want, ixp) EXPECT(f, want, want, 0, 0, 0, cxm_feed((f)->ctx, ixp))

/* Typed views of f->out. */
#define O_ID(f) ((cxm_id *)(void *)(f)->out)
#define O_U32(f) ((uint32_t *)(void *)(f)->out)
#define O_STR(f) ((const char **)(void *)(f)->out)
#define O_SZ(f) ((size_t *)(void *)(f)->out)
#define O_I64(f) ((int64_t *)(void *)(f)->out)
#define O_DBL(f) ((double *)(void *)(f)->out)
#define O_U64(f) ((uint64_t *)(void *)(f)->out)
#define O_CH(f) ((cxm_channel *)(void *)(f)->out)
#define O_RES(f) ((cxm_result *)(void *)(f)->out)
#define O_CMP(f) ((cxm_comparison *)(void *)(f)->out)
#define O_STATS(f) ((cxm_stats *)(void *)(f)->out)
#define O_DEF(f) ((cxm_metric_def *)(void *)(f)->out)
#define O_CTX(f) ((cxm_context **)(void *)(f)->out)

/* Calls with no context to record against: the message is kept under NULL,
 * and the caller's struct is left as it was. */
#define REFUSED_NOCTX(want, call)                                                              \
	do {                                                                                   \
		msg_elsewhere();                                                               \
		cxm_status g_ = (call);                                                        \
		if (g_ != (want))                                                              \
			fail_msg("line %d: %s: got %s, want %s (%s)", __LINE__, #call,            \
				 cxm_strerror(g_), cxm_strerror(want), cxm_errmsg(NULL));        \
		if (cxm_errmsg(NULL)[0] == '\0')                                               \
			fail_msg("line %d: %s: no message recorded", __LINE__, #call);          \
	} while (0)

/* ---- status names --------------------------------------------------------------- */

static void strerror_names_every_code(void **state)
{
	(void)state;
	for (int i = 0; i < CXM_STATUS_COUNT; i++) {
		assert_non_null(cxm_strerror(i));
		assert_true(cxm_strerror(i)[0] != '\0');
		assert_string_not_equal(cxm_strerror(i), "unknown status");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(cxm_strerror(i), cxm_strerror(j));
	}
	int others[] = {CXM_STATUS_COUNT, CXM_STATUS_COUNT + 1, -1, 1000, INT32_MIN, INT32_MAX};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		assert_string_equal(cxm_strerror(others[i]), "unknown status");
	assert_int_equal(cxm_libversion_number(), CXM_VERSION_NUMBER);
	assert_string_equal(cxm_libversion(), CXM_VERSION_STRING);
}

/* ---- NULL pointers, to every function ------------------------------------------- */

static void null_pointers(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	const char *steps[] = {"x"}, *null_step[] = {"x", NULL};
	cxm_query q = mkq(f->nps, CXM_SCOPE_TOUCHPOINT, f->ivr);
	cxm_query qd = mkq(f->aht, CXM_SCOPE_TOUCHPOINT, f->ivr);
	cxm_measure m = {f->nps, 0, 9};
	cxm_interaction ix = mkix(T0, f->ivr, &m, 1);
	double qs[1] = {0.5};
	uint64_t dist[11];
	size_t nd;
	cxm_result r = {.size = sizeof r};
	cxm_stats st = {.size = sizeof st};
	cxm_comparison cmp = {.size = sizeof cmp};
	cxm_id id;
	uint32_t v;
	const char *s;
	size_t z;
	int64_t t;

	/* a NULL context: INVALID, the message kept under NULL */
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_journey_define(&id, NULL, "j2", steps, 1));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_touchpoint_define(&id, NULL, "t2", CXM_CHANNEL_WEB, CXM_NONE, 0));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_define(&id, NULL, "m2", &d));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_get(&d, NULL, f->nps));
	{
		cxm_tier tiers[CXM_MAX_TIERS];
		uint32_t n_tiers = 7;
		const unsigned char junk[100] = {0x89, 'C', 'X', 'M'};
		REFUSED_NOCTX(CXM_ERR_INVALID, cxm_snapshot_tiers(NULL, &n_tiers, junk, sizeof junk));
		REFUSED_NOCTX(CXM_ERR_INVALID, cxm_snapshot_tiers(tiers, NULL, junk, sizeof junk));
		REFUSED_NOCTX(CXM_ERR_INVALID, cxm_snapshot_tiers(tiers, &n_tiers, NULL, 0));
		REFUSED_NOCTX(CXM_ERR_CORRUPT, cxm_snapshot_tiers(tiers, &n_tiers, junk, sizeof junk));
		REFUSED_NOCTX(CXM_ERR_CORRUPT, cxm_snapshot_tiers(tiers, &n_tiers, junk, 0));
		assert_int_equal(n_tiers, 7);
	}
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_series_bytes(&z, NULL, f->nps));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_segment_define(&id, NULL, "s2", 2));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_segment_value(&v, NULL, f->tier, "x"));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_segment_value_find(&v, NULL, f->tier, "gold"));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_segment_value_name(&s, NULL, f->tier, 0));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_segment_values(&v, NULL, f->tier));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_count(&v, NULL, CXM_OBJECT_METRIC));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_find(&id, NULL, CXM_OBJECT_METRIC, "nps"));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_name(&s, NULL, CXM_OBJECT_METRIC, 0));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_journey_steps(&v, NULL, f->j));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_step_name(&s, NULL, f->j, 0));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_step_find(&id, NULL, f->j, "a"));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_touchpoint_get(NULL, NULL, NULL, NULL, f->ivr));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_feed(NULL, &ix));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_feed_batch(&z, NULL, &ix, 1, NULL, 0, NULL));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_query_run(&r, NULL, &q));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_query_quantiles(qs, NULL, &qd, qs, 1));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_query_distribution(dist, 11, &nd, NULL, &q, 0));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_query_compare(&cmp, NULL, &q, &q));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_stats_get(&st, NULL));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_customer_last_seen(&t, NULL, "c1", 2));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_customer_forget(NULL, "c1", 2));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_context_new(NULL, NULL));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_config_init(NULL, sizeof(cxm_config)));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_def_init(NULL, sizeof(cxm_metric_def)));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_preset(NULL, CXM_PRESET_NPS));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_interaction_init(NULL, sizeof(cxm_interaction)));
	REFUSED_NOCTX(CXM_ERR_INVALID, cxm_query_init(NULL, sizeof(cxm_query)));
	cxm_context_free(NULL); /* a no-op */

	/* every other pointer */
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(NULL, ctx, "j2", steps, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(O_ID(f), ctx, NULL, steps, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(O_ID(f), ctx, "j2", NULL, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(O_ID(f), ctx, "j2", null_step, 2));
	REFUSED(f, CXM_ERR_INVALID, cxm_touchpoint_define(NULL, ctx, "t2", CXM_CHANNEL_WEB, CXM_NONE, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_touchpoint_define(O_ID(f), ctx, NULL, CXM_CHANNEL_WEB, CXM_NONE, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(NULL, ctx, "m2", &d));
	REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(O_ID(f), ctx, NULL, &d));
	REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(O_ID(f), ctx, "m2", NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_metric_get(NULL, ctx, f->nps));
	REFUSED(f, CXM_ERR_INVALID, cxm_series_bytes(NULL, ctx, f->nps));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_define(NULL, ctx, "s2", 2));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_define(O_ID(f), ctx, NULL, 2));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_value(NULL, ctx, f->tier, "silver"));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_value(O_U32(f), ctx, f->tier, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_value_find(NULL, ctx, f->tier, "gold"));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_value_find(O_U32(f), ctx, f->tier, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_value_name(NULL, ctx, f->tier, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_segment_values(NULL, ctx, f->tier));
	REFUSED(f, CXM_ERR_INVALID, cxm_count(NULL, ctx, CXM_OBJECT_METRIC));
	REFUSED(f, CXM_ERR_INVALID, cxm_find(NULL, ctx, CXM_OBJECT_METRIC, "nps"));
	REFUSED(f, CXM_ERR_INVALID, cxm_find(O_ID(f), ctx, CXM_OBJECT_METRIC, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_name(NULL, ctx, CXM_OBJECT_METRIC, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_steps(NULL, ctx, f->j));
	REFUSED(f, CXM_ERR_INVALID, cxm_step_name(NULL, ctx, f->j, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_step_find(NULL, ctx, f->j, "a"));
	REFUSED(f, CXM_ERR_INVALID, cxm_step_find(O_ID(f), ctx, f->j, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_feed(ctx, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(O_SZ(f), ctx, NULL, 2, NULL, 0, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(O_SZ(f), ctx, &ix, 1, NULL, 1, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_run(NULL, ctx, &q));
	REFUSED_OUT(f, CXM_ERR_INVALID, sizeof(cxm_result), cxm_query_run(O_RES(f), ctx, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(NULL, ctx, &qd, qs, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(O_DBL(f), ctx, NULL, qs, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(O_DBL(f), ctx, &qd, NULL, 1));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_distribution(NULL, 11, &nd, ctx, &q, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_distribution(O_U64(f), 11, NULL, ctx, &q, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_distribution(O_U64(f), 11, &nd, ctx, NULL, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_compare(NULL, ctx, &q, &q));
	REFUSED_OUT(f, CXM_ERR_INVALID, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, NULL, &q));
	REFUSED_OUT(f, CXM_ERR_INVALID, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &q, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_stats_get(NULL, ctx));
	REFUSED(f, CXM_ERR_INVALID, cxm_customer_last_seen(NULL, ctx, "c1", 2));
	REFUSED(f, CXM_ERR_INVALID, cxm_customer_last_seen(O_I64(f), ctx, NULL, 2));
	REFUSED(f, CXM_ERR_INVALID, cxm_customer_forget(ctx, NULL, 2));
	/* NULL outputs are allowed where the header says so */
	assert_int_equal(cxm_touchpoint_get(NULL, NULL, NULL, ctx, f->ivr), CXM_OK);
	assert_int_equal(cxm_feed_batch(NULL, ctx, NULL, 0, NULL, 0, NULL), CXM_OK);
}

/* ---- struct sizes ------------------------------------------------------------------ */

/* A struct followed by a tail this library does not know. */
#define NEWER(T)                                                                               \
	struct {                                                                               \
		T s;                                                                           \
		unsigned char tail[24];                                                        \
	}

static bool all_bytes(const void *p, size_t n, unsigned char b)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != b)
			return false;
	return true;
}

static cxm_status init_config(void *p, size_t n)
{
	return cxm_config_init(p, n);
}
static cxm_status init_def(void *p, size_t n)
{
	return cxm_metric_def_init(p, n);
}
static cxm_status init_ix(void *p, size_t n)
{
	return cxm_interaction_init(p, n);
}
static cxm_status init_query(void *p, size_t n)
{
	return cxm_query_init(p, n);
}

/* The _init functions: NULL, too small (left untouched), larger (zeroed). */
static void init_functions(void **state)
{
	(void)state;
	NEWER(cxm_config) c;
	NEWER(cxm_metric_def) d;
	NEWER(cxm_interaction) ix;
	NEWER(cxm_query) q;
	size_t sizes[] = {0, 1, sizeof(size_t), 0 /* our size - 1, set below */};
	struct {
		void *p;
		size_t size, ours;
		cxm_status (*fn)(void *, size_t);
	} t[] = {
		{&c, sizeof c, sizeof c.s, init_config},
		{&d, sizeof d, sizeof d.s, init_def},
		{&ix, sizeof ix, sizeof ix.s, init_ix},
		{&q, sizeof q, sizeof q.s, init_query},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		sizes[3] = t[i].ours - 1;
		for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			memset(t[i].p, 0x5a, t[i].size);
			REFUSED_NOCTX(CXM_ERR_VERSION, t[i].fn(t[i].p, sizes[k]));
			assert_true(all_bytes(t[i].p, t[i].size, 0x5a)); /* written only on success */
		}
		memset(t[i].p, 0x5a, t[i].size);
		assert_int_equal(t[i].fn(t[i].p, t[i].size), CXM_OK);
		size_t got;
		memcpy(&got, t[i].p, sizeof got);
		assert_int_equal(got, t[i].size);
		assert_true(all_bytes((unsigned char *)t[i].p + t[i].ours, t[i].size - t[i].ours, 0));
	}
	/* what they fill in is the documented initializer */
	cxm_query qi = CXM_QUERY_INIT, qf;
	assert_int_equal(cxm_query_init(&qf, sizeof qf), CXM_OK);
	assert_int_equal(qf.segment, CXM_NONE);
	assert_true(qf.end_ms == CXM_NOW);
	assert_int_equal(qf.size, qi.size);
}

static void input_struct_sizes(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	const size_t bad_small[] = {0, 1, sizeof(size_t), 16};

	/* cxm_metric_def into cxm_metric_define */
	NEWER(cxm_metric_def) d;
	for (size_t k = 0; k < 5; k++) {
		memset(&d, 0, sizeof d);
		d.s.size = sizeof d.s;
		assert_int_equal(cxm_metric_preset(&d.s, CXM_PRESET_NPS), CXM_OK);
		d.s.size = k < 4 ? bad_small[k] : sizeof d.s - 1;
		REFUSED(f, CXM_ERR_VERSION, cxm_metric_define(O_ID(f), ctx, "m2", &d.s));
	}
	memset(&d, 0, sizeof d);
	d.s.size = sizeof d.s;
	assert_int_equal(cxm_metric_preset(&d.s, CXM_PRESET_NPS), CXM_OK);
	d.s.size = sizeof d;
	for (size_t b = 0; b < sizeof d.tail; b += 7) {
		d.tail[b] = 1;
		REFUSED(f, CXM_ERR_UNSUPPORTED, cxm_metric_define(O_ID(f), ctx, "m2", &d.s));
		d.tail[b] = 0;
	}
	cxm_id id;
	assert_int_equal(cxm_metric_define(&id, ctx, "m2", &d.s), CXM_OK); /* zero tail: fine */

	/* cxm_interaction into cxm_feed: counted as rejected */
	cxm_measure m = {f->nps, 0, 9};
	NEWER(cxm_interaction) ix;
	for (size_t k = 0; k < 5; k++) {
		memset(&ix, 0, sizeof ix);
		ix.s = mkix(T0, f->ivr, &m, 1);
		ix.s.size = k < 4 ? bad_small[k] : sizeof ix.s - 1;
		FEED_REFUSED(f, CXM_ERR_VERSION, &ix.s);
	}
	memset(&ix, 0, sizeof ix);
	ix.s = mkix(T0, f->ivr, &m, 1);
	ix.s.size = sizeof ix;
	for (size_t b = 0; b < sizeof ix.tail; b += 5) {
		ix.tail[b] = 0x80;
		FEED_REFUSED(f, CXM_ERR_UNSUPPORTED, &ix.s);
		ix.tail[b] = 0;
	}
	assert_int_equal(cxm_feed(ctx, &ix.s), CXM_OK);

	/* cxm_query into every query function */
	typedef NEWER(cxm_query) newer_query;
	newer_query q, q2;
	for (size_t k = 0; k < 6; k++) {
		memset(&q, 0, sizeof q);
		q.s = mkq(f->aht, CXM_SCOPE_TOUCHPOINT, f->ivr);
		cxm_status want = CXM_ERR_VERSION;
		if (k < 4)
			q.s.size = bad_small[k];
		else if (k == 4)
			q.s.size = sizeof q.s - 1;
		else {
			q.s.size = sizeof q;
			q.tail[sizeof q.tail - 1] = 1;
			want = CXM_ERR_UNSUPPORTED;
		}
		double qs[1] = {0.5};
		size_t nd = 77;
		cxm_query good = mkq(f->aht, CXM_SCOPE_TOUCHPOINT, f->ivr);
		REFUSED_OUT(f, want, sizeof(cxm_result), cxm_query_run(O_RES(f), ctx, &q.s));
		REFUSED(f, want, cxm_query_quantiles(O_DBL(f), ctx, &q.s, qs, 1));
		REFUSED_OUT(f, want, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &q.s, &good));
		REFUSED_OUT(f, want, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &good, &q.s));
		q.s.metric = f->nps;
		REFUSED(f, want, cxm_query_distribution(O_U64(f), 11, &nd, ctx, &q.s, 0));
		assert_int_equal(nd, 77);
	}
	memset(&q, 0, sizeof q);
	memset(&q2, 0, sizeof q2);
	q.s = mkq(f->aht, CXM_SCOPE_TOUCHPOINT, f->ivr);
	q.s.size = sizeof q;
	q2 = q;
	cxm_result r = {.size = sizeof r};
	cxm_comparison c = {.size = sizeof c};
	double qv;
	assert_int_equal(cxm_query_run(&r, ctx, &q.s), CXM_OK);
	assert_int_equal(cxm_query_quantiles(&qv, ctx, &q.s, (double[]){0.5}, 1), CXM_OK);
	assert_int_equal(cxm_query_compare(&c, ctx, &q.s, &q2.s), CXM_OK);
	q.s.metric = f->nps;
	uint64_t dist[11];
	size_t nd;
	assert_int_equal(cxm_query_distribution(dist, 11, &nd, ctx, &q.s, 0), CXM_OK);
}

/* Output structs: too small is VERSION; a newer caller's larger struct is
 * filled and its tail zeroed, whatever it held. */
static void output_struct_sizes(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	cxm_query q = mkq(f->nps, CXM_SCOPE_TOUCHPOINT, f->ivr);
	const size_t small[] = {0, 1, sizeof(size_t)};
	for (size_t k = 0; k < 4; k++) {
		size_t s;
		s = k < 3 ? small[k] : sizeof(cxm_result) - 1;
		REFUSED_OUT(f, CXM_ERR_VERSION, s, cxm_query_run(O_RES(f), ctx, &q));
		s = k < 3 ? small[k] : sizeof(cxm_stats) - 1;
		REFUSED_OUT(f, CXM_ERR_VERSION, s, cxm_stats_get(O_STATS(f), ctx));
		s = k < 3 ? small[k] : sizeof(cxm_comparison) - 1;
		REFUSED_OUT(f, CXM_ERR_VERSION, s, cxm_query_compare(O_CMP(f), ctx, &q, &q));
		s = k < 3 ? small[k] : sizeof(cxm_metric_def) - 1;
		REFUSED_OUT(f, CXM_ERR_VERSION, s, cxm_metric_get(O_DEF(f), ctx, f->nps));
		/* cxm_metric_preset fills a caller's struct: nothing written */
		memset(f->out, 0x5a, OUT_BYTES);
		memcpy(f->out, &s, sizeof s);
		unsigned char keep[OUT_BYTES];
		memcpy(keep, f->out, OUT_BYTES);
		REFUSED_NOCTX(CXM_ERR_VERSION, cxm_metric_preset(O_DEF(f), CXM_PRESET_NPS));
		assert_memory_equal(keep, f->out, OUT_BYTES);
	}
	NEWER(cxm_result) r;
	memset(&r, 0xee, sizeof r);
	r.s.size = sizeof r;
	assert_int_equal(cxm_query_run(&r.s, ctx, &q), CXM_OK);
	assert_int_equal(r.s.size, sizeof r);
	assert_int_equal(r.s.n, 1);
	assert_true(all_bytes(r.tail, sizeof r.tail, 0));
	NEWER(cxm_stats) st;
	memset(&st, 0xee, sizeof st);
	st.s.size = sizeof st;
	assert_int_equal(cxm_stats_get(&st.s, ctx), CXM_OK);
	assert_int_equal(st.s.accepted, 2);
	assert_true(all_bytes(st.tail, sizeof st.tail, 0));
	NEWER(cxm_comparison) c;
	memset(&c, 0xee, sizeof c);
	c.s.size = sizeof c;
	assert_int_equal(cxm_query_compare(&c.s, ctx, &q, &q), CXM_OK);
	assert_true(all_bytes(c.tail, sizeof c.tail, 0));
	NEWER(cxm_metric_def) d;
	memset(&d, 0xee, sizeof d);
	d.s.size = sizeof d;
	assert_int_equal(cxm_metric_get(&d.s, ctx, f->nps), CXM_OK);
	assert_int_equal(d.s.scale_max, 10);
	assert_true(all_bytes(d.tail, sizeof d.tail, 0));
	memset(&d, 0xee, sizeof d);
	d.s.size = sizeof d;
	assert_int_equal(cxm_metric_preset(&d.s, CXM_PRESET_CSAT5), CXM_OK);
	assert_int_equal(d.s.size, sizeof d);
	assert_int_equal(d.s.scale_max, 5);
	assert_true(all_bytes(d.tail, sizeof d.tail, 0));
}

/* ---- reserved fields -------------------------------------------------------------- */

static void reserved_fields(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	cxm_measure m = {f->nps, 0, 9};
	cxm_interaction ix = mkix(T0, f->ivr, &m, 1);
	ix.reserved0 = 1;
	FEED_REFUSED(f, CXM_ERR_UNSUPPORTED, &ix);
	ix.reserved0 = 0;
	for (int i = 0; i < 4; i++) {
		ix.reserved[i] = UINT64_C(1) << (i * 16);
		FEED_REFUSED(f, CXM_ERR_UNSUPPORTED, &ix);
		ix.reserved[i] = 0;
	}
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	d.reserved0 = 1;
	REFUSED(f, CXM_ERR_UNSUPPORTED, cxm_metric_define(O_ID(f), ctx, "m2", &d));
	d.reserved0 = 0;
	for (int i = 0; i < 4; i++) {
		d.reserved[i] = 1;
		REFUSED(f, CXM_ERR_UNSUPPORTED, cxm_metric_define(O_ID(f), ctx, "m2", &d));
		d.reserved[i] = 0;
	}
	cxm_query q = mkq(f->nps, CXM_SCOPE_TOUCHPOINT, f->ivr);
	for (int i = 0; i < 4; i++) {
		q.reserved[i] = UINT64_MAX;
		REFUSED_OUT(f, CXM_ERR_UNSUPPORTED, sizeof(cxm_result), cxm_query_run(O_RES(f), ctx, &q));
		q.reserved[i] = 0;
	}
	/* (config and tier reserved fields: see configs) */
}

/* ---- unknown enum values ---------------------------------------------------------- */

static void enums(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	int bad_channel[] = {0, 9, -1, 1000};
	for (size_t i = 0; i < 4; i++)
		REFUSED(f, CXM_ERR_INVALID,
			cxm_touchpoint_define(O_ID(f), ctx, "t2", (cxm_channel)bad_channel[i], CXM_NONE, 0));
	int bad_object[] = {0, 5, -1};
	for (size_t i = 0; i < 3; i++) {
		REFUSED(f, CXM_ERR_INVALID, cxm_count(O_U32(f), ctx, (cxm_object)bad_object[i]));
		REFUSED(f, CXM_ERR_INVALID, cxm_find(O_ID(f), ctx, (cxm_object)bad_object[i], "nps"));
		REFUSED(f, CXM_ERR_INVALID, cxm_name(O_STR(f), ctx, (cxm_object)bad_object[i], 0));
	}
	int bad_preset[] = {0, 14, -1};
	cxm_metric_def d;
	for (size_t i = 0; i < 3; i++) {
		cxm_metric_def_init(&d, sizeof d);
		cxm_metric_def keep = d;
		REFUSED_NOCTX(CXM_ERR_INVALID, cxm_metric_preset(&d, (cxm_preset)bad_preset[i]));
		assert_memory_equal(&keep, &d, sizeof d);
	}
	int bad_kind[] = {0, 9, -1};
	for (size_t i = 0; i < 3; i++) {
		cxm_metric_preset(&d, CXM_PRESET_NPS);
		d.kind = (cxm_metric_kind)bad_kind[i];
		REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(O_ID(f), ctx, "m2", &d));
	}
	int bad_headline[] = {8, -1, 99};
	for (size_t i = 0; i < 3; i++) {
		cxm_metric_preset(&d, CXM_PRESET_NPS);
		d.headline = (cxm_headline)bad_headline[i];
		REFUSED(f, CXM_ERR_INVALID, cxm_metric_define(O_ID(f), ctx, "m2", &d));
	}
	int bad_scope[] = {5, -1, 99};
	for (size_t i = 0; i < 3; i++) {
		cxm_query q = mkq(f->nps, (cxm_scope)bad_scope[i], 0);
		REFUSED_OUT(f, CXM_ERR_INVALID, sizeof(cxm_result), cxm_query_run(O_RES(f), ctx, &q));
	}
}

/* ---- feeding ------------------------------------------------------------------------ */

/* Each hostile measure, after a good one: its exact code, counted once,
 * nothing folded (not even the good measure), the customer not recorded. */
static void feed_values(void **state)
{
	fixture *f = *state;
	struct {
		const char *what;
		cxm_status want;
		cxm_id metric;
		uint32_t item;
		double v;
	} c[] = {
		{"NPS 11", CXM_ERR_OUT_OF_RANGE, f->nps, 0, 11},
		{"NPS -1", CXM_ERR_OUT_OF_RANGE, f->nps, 0, -1},
		{"NPS 7.5", CXM_ERR_OUT_OF_RANGE, f->nps, 0, 7.5},
		{"NPS 1e300", CXM_ERR_OUT_OF_RANGE, f->nps, 0, 1e300},
		{"NPS -0.0001", CXM_ERR_OUT_OF_RANGE, f->nps, 0, -0.0001},
		{"NPS NaN", CXM_ERR_NOT_FINITE, f->nps, 0, NAN},
		{"NPS +Inf", CXM_ERR_NOT_FINITE, f->nps, 0, INFINITY},
		{"NPS -Inf", CXM_ERR_NOT_FINITE, f->nps, 0, -INFINITY},
		{"NPS item 1", CXM_ERR_OUT_OF_RANGE, f->nps, 1, 9},
		{"NPS item max", CXM_ERR_OUT_OF_RANGE, f->nps, UINT32_MAX, 9},
		{"CSAT 0", CXM_ERR_OUT_OF_RANGE, f->csat, 0, 0},
		{"CSAT 6", CXM_ERR_OUT_OF_RANGE, f->csat, 0, 6},
		{"CSAT 4.5", CXM_ERR_OUT_OF_RANGE, f->csat, 0, 4.5},
		{"CSAT NaN", CXM_ERR_NOT_FINITE, f->csat, 0, NAN},
		{"CES 8", CXM_ERR_OUT_OF_RANGE, f->ces, 0, 8},
		{"CES 0", CXM_ERR_OUT_OF_RANGE, f->ces, 0, 0},
		{"CES -Inf", CXM_ERR_NOT_FINITE, f->ces, 0, -INFINITY},
		{"CXI item 3", CXM_ERR_OUT_OF_RANGE, f->cxi, 3, 9},
		{"CXI item 8", CXM_ERR_OUT_OF_RANGE, f->cxi, 8, 9},
		{"CXI 0", CXM_ERR_OUT_OF_RANGE, f->cxi, 0, 0},
		{"CXI 11", CXM_ERR_OUT_OF_RANGE, f->cxi, 2, 11},
		{"CXI NaN", CXM_ERR_NOT_FINITE, f->cxi, 1, NAN},
		{"duration -1", CXM_ERR_OUT_OF_RANGE, f->aht, 0, -1},
		{"duration -DBL_MIN", CXM_ERR_OUT_OF_RANGE, f->aht, 0, -DBL_MIN},
		{"duration -DBL_MAX", CXM_ERR_OUT_OF_RANGE, f->aht, 0, -DBL_MAX},
		{"duration NaN", CXM_ERR_NOT_FINITE, f->aht, 0, NAN},
		{"duration +Inf", CXM_ERR_NOT_FINITE, f->aht, 0, INFINITY},
		{"duration -Inf", CXM_ERR_NOT_FINITE, f->aht, 0, -INFINITY},
		{"duration item 1", CXM_ERR_OUT_OF_RANGE, f->aht, 1, 5},
		{"rate 2", CXM_ERR_OUT_OF_RANGE, f->fcr, 0, 2},
		{"rate -1", CXM_ERR_OUT_OF_RANGE, f->fcr, 0, -1},
		{"rate 0.5", CXM_ERR_OUT_OF_RANGE, f->fcr, 0, 0.5},
		{"rate NaN", CXM_ERR_NOT_FINITE, f->fcr, 0, NAN},
		{"rate item 1", CXM_ERR_OUT_OF_RANGE, f->fcr, 1, 1},
		{"duration DBL_MAX", CXM_ERR_OUT_OF_RANGE, f->aht, 0, DBL_MAX},
		{"duration above CXM_VALUE_MAX", CXM_ERR_OUT_OF_RANGE, f->aht, 0, 1.0000001e15},
		{"amount DBL_MAX", CXM_ERR_OUT_OF_RANGE, f->rev, 0, DBL_MAX},
		{"amount -DBL_MAX", CXM_ERR_OUT_OF_RANGE, f->rev, 0, -DBL_MAX},
		{"amount below -CXM_VALUE_MAX", CXM_ERR_OUT_OF_RANGE, f->rev, 0, -1.0000001e15},
		{"amount +Inf", CXM_ERR_NOT_FINITE, f->rev, 0, INFINITY},
		{"amount -Inf", CXM_ERR_NOT_FINITE, f->rev, 0, -INFINITY},
		{"amount NaN", CXM_ERR_NOT_FINITE, f->rev, 0, NAN},
		{"amount item 1", CXM_ERR_OUT_OF_RANGE, f->rev, 1, 1},
		{"volume measure", CXM_ERR_KIND, f->vol, 0, 1},
		{"distinct measure", CXM_ERR_KIND, f->dist, 0, 1},
		{"unknown metric", CXM_ERR_UNKNOWN_ID, 99, 0, 1},
		{"metric CXM_NONE", CXM_ERR_UNKNOWN_ID, CXM_NONE, 0, 1},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		cxm_measure m[2] = {{f->nps, 0, 10}, {c[i].metric, c[i].item, c[i].v}};
		for (int order = 0; order < 2; order++) {
			if (order)
				m[0] = m[1], m[1] = (cxm_measure){f->nps, 0, 10};
			cxm_interaction ix = mkix(T0, order ? f->web : f->ivr, m, 2);
			ix.customer = "newcomer";
			ix.customer_len = 8;
			ix.segments = &f->gold;
			ix.n_segments = 1;
			snap before = take(f);
			memset(f->out, 0xa5, OUT_BYTES);
			unsigned char keep[OUT_BYTES];
			memcpy(keep, f->out, OUT_BYTES);
			msg_elsewhere();
			cxm_status got = cxm_feed(f->ctx, &ix);
			check_refused(f, &before, keep, got, c[i].want, c[i].want, 0, __LINE__, c[i].what);
		}
	}
	/* the edges of each scale are fine */
	cxm_measure ok[] = {{f->nps, 0, 0},  {f->nps, 0, 10}, {f->csat, 0, 1}, {f->csat, 0, 5},
			    {f->ces, 0, 1},  {f->ces, 0, 7},  {f->cxi, 2, 1},  {f->cxi, 0, 10},
			    {f->aht, 0, 0},  {f->aht, 0, CXM_VALUE_MAX}, {f->fcr, 0, 0}, {f->fcr, 0, 1},
			    {f->rev, 0, -CXM_VALUE_MAX}, {f->rev, 0, -0.0}, {f->aht, 0, DBL_MIN},
			    {f->rev, 0, CXM_VALUE_MAX}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		cxm_interaction ix = mkix(T0, f->ivr, &ok[i], 1);
		if (cxm_feed(f->ctx, &ix) != CXM_OK)
			fail_msg("edge value %zu (%g): %s", i, ok[i].value, cxm_errmsg(f->ctx));
	}
}

static void feed_interactions(void **state)
{
	fixture *f = *state;
	static char big[1 << 20];
	uint32_t seg_bad = 2, seg_none = CXM_NONE, seg_two[2] = {0, 0};
	cxm_measure m[5];
	for (int k = 0; k < 5; k++)
		m[k] = (cxm_measure){f->nps, 0, 9};
	struct {
		const char *what;
		cxm_status want;
		int tweak;
	} c[] = {
		{"time INT64_MIN", CXM_ERR_OUT_OF_RANGE, 1},
		{"time -1", CXM_ERR_OUT_OF_RANGE, 2},
		{"time MAX+1", CXM_ERR_OUT_OF_RANGE, 3},
		{"time INT64_MAX", CXM_ERR_OUT_OF_RANGE, 4},
		{"5 min + 1 ms ahead", CXM_ERR_TOO_EARLY, 5},
		{"a day ahead", CXM_ERR_TOO_EARLY, 6},
		{"CXM_TIME_MAX (far ahead)", CXM_ERR_TOO_EARLY, 7},
		{"3 h behind", CXM_ERR_TOO_LATE, 8},
		{"time 0 (long behind)", CXM_ERR_TOO_LATE, 9},
		{"unknown touchpoint", CXM_ERR_UNKNOWN_ID, 10},
		{"touchpoint CXM_NONE", CXM_ERR_UNKNOWN_ID, 11},
		{"1 MB customer id", CXM_ERR_TOO_LONG, 12},
		{"257-byte customer id", CXM_ERR_TOO_LONG, 13},
		{"SIZE_MAX customer id", CXM_ERR_TOO_LONG, 14},
		{"NULL customer, len 5", CXM_ERR_INVALID, 15},
		{"NULL measures, n 1", CXM_ERR_INVALID, 16},
		{"5 measures, max 4", CXM_ERR_LIMIT, 17},
		{"SIZE_MAX measures", CXM_ERR_LIMIT, 18},
		{"unknown segment value", CXM_ERR_UNKNOWN_ID, 19},
		{"two dimensions, one defined", CXM_ERR_UNKNOWN_ID, 20},
		{"NULL segments, n 1", CXM_ERR_INVALID, 21},
		{"segment value CXM_NONE - 1", CXM_ERR_UNKNOWN_ID, 22},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		cxm_interaction ix = mkix(T0, f->ivr, m, 1);
		uint32_t seg_big = CXM_NONE - 1;
		switch (c[i].tweak) {
		case 1: ix.time_ms = INT64_MIN; break;
		case 2: ix.time_ms = -1; break;
		case 3: ix.time_ms = CXM_TIME_MAX + 1; break;
		case 4: ix.time_ms = INT64_MAX; break;
		case 5: ix.time_ms = T0 + 5 * MIN + 1; break;
		case 6: ix.time_ms = T0 + DAY; break;
		case 7: ix.time_ms = CXM_TIME_MAX; break;
		case 8: ix.time_ms = T0 - 3 * HOUR; break;
		case 9: ix.time_ms = 0; break;
		case 10: ix.touchpoint = 8; break;
		case 11: ix.touchpoint = CXM_NONE; break;
		case 12: ix.customer = big; ix.customer_len = sizeof big; break;
		case 13: ix.customer = big; ix.customer_len = 257; break;
		case 14: ix.customer = big; ix.customer_len = SIZE_MAX; break;
		case 15: ix.customer = NULL; ix.customer_len = 5; break;
		case 16: ix.measures = NULL; break;
		case 17: ix.n_measures = 5; break;
		case 18: ix.n_measures = SIZE_MAX; break;
		case 19: ix.segments = &seg_bad; ix.n_segments = 1; break;
		case 20: ix.segments = seg_two; ix.n_segments = 2; break;
		case 21: ix.segments = NULL; ix.n_segments = 1; break;
		case 22: ix.segments = &seg_big; ix.n_segments = 1; break;
		}
		snap before = take(f);
		memset(f->out, 0xa5, OUT_BYTES);
		unsigned char keep[OUT_BYTES];
		memcpy(keep, f->out, OUT_BYTES);
		msg_elsewhere();
		cxm_status got = cxm_feed(f->ctx, &ix);
		check_refused(f, &before, keep, got, c[i].want, c[i].want, 0, __LINE__, c[i].what);
	}
	/* edges that are fine */
	cxm_interaction ix = mkix(T0 + 5 * MIN, f->ivr, m, 4);
	ix.customer = big;
	ix.customer_len = 256;
	ix.segments = &seg_none;
	ix.n_segments = 1;
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);
	ix = mkix(T0, f->web, NULL, 0); /* no measures at all: VOLUME only */
	ix.customer = NULL;
	ix.customer_len = 0;
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);
}

/* An interaction whose finest bucket is n or more buckets behind the
 * watermark's is TOO_LATE; n - 1 buckets behind is accepted. */
static void lateness_edge(void **state)
{
	fixture *f = *state;
	cxm_measure m = {f->nps, 0, 9};
	cxm_interaction ix = mkix(T0 + 37 * 1000, f->ivr, &m, 1); /* W inside a bucket */
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, f->ctx), CXM_OK);
	const int64_t W = st.watermark_ms;
	assert_int_equal(W, T0 + 37000);
	const int64_t w = MIN, n = 120; /* the default finest tier */
	const int64_t edge = (W / w - (n - 1)) * w; /* start of the oldest accepted bucket */
	/* through either shard: the watermark is the context's */
	cxm_id tps[2] = {f->web, f->ivr};
	for (int k = 0; k < 2; k++) {
		ix = mkix(edge - 1, tps[k], &m, 1);
		FEED_REFUSED(f, CXM_ERR_TOO_LATE, &ix);
		ix.time_ms = edge - w;
		FEED_REFUSED(f, CXM_ERR_TOO_LATE, &ix);
	}
	ix = mkix(edge, f->web, &m, 1);
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);
	ix.time_ms = edge + w - 1;
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_OK);

	/* a one-tier context of 2 buckets of 1 s: one bucket back is the edge */
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 1;
	cfg.tiers[0] = (cxm_tier){1000, 2, 0};
	cfg.max_future_ms = 1000;
	fixture *g = bare(&cfg);
	cxm_id nps = define_preset(g->ctx, "nps", CXM_PRESET_NPS), tp;
	assert_int_equal(cxm_touchpoint_define(&tp, g->ctx, "tp", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	add_probe(g, mkq(nps, CXM_SCOPE_TOUCHPOINT, tp));
	m.metric = nps;
	ix = mkix(T0 + 500, tp, &m, 1);
	assert_int_equal(cxm_feed(g->ctx, &ix), CXM_OK);
	ix.time_ms = T0 - 1001;
	FEED_REFUSED(g, CXM_ERR_TOO_LATE, &ix);
	ix.time_ms = T0 - 2000;
	FEED_REFUSED(g, CXM_ERR_TOO_LATE, &ix);
	ix.time_ms = T0 + 1001; /* and the future edge under max_future_ms 1000 */
	FEED_REFUSED(g, CXM_ERR_TOO_EARLY, &ix);
	ix.time_ms = T0 - 1000;
	assert_int_equal(cxm_feed(g->ctx, &ix), CXM_OK);
	ix.time_ms = T0 - 1;
	assert_int_equal(cxm_feed(g->ctx, &ix), CXM_OK);
	ix.time_ms = T0 + 1000;
	assert_int_equal(cxm_feed(g->ctx, &ix), CXM_OK);
	bare_free(g);
}

/* ---- batches ---------------------------------------------------------------------- */

static void batch_reports_each_rejection(void **state)
{
	fixture *f = *state;
	enum { N = 300 };
	static cxm_interaction ix[N];
	cxm_measure good = {f->nps, 0, 9}, bad = {f->nps, 0, 11}, nan_m = {f->aht, 0, NAN},
		    kind = {f->vol, 0, 1};
	/* rejections on both shards, in three chunks of the batch */
	struct {
		size_t index;
		cxm_status status;
	} want[] = {{1, CXM_ERR_OUT_OF_RANGE}, {2, CXM_ERR_NOT_FINITE}, {127, CXM_ERR_UNKNOWN_ID},
		    {128, CXM_ERR_TOO_LATE},     {200, CXM_ERR_KIND},       {299, CXM_ERR_TOO_EARLY}};
	const size_t nw = sizeof want / sizeof want[0];
	for (size_t i = 0; i < N; i++)
		ix[i] = mkix(T0 - (int64_t)i, i % 3 ? f->ivr : f->web, &good, 1);
	ix[1].measures = &bad;
	ix[2].measures = &nan_m;
	ix[127].touchpoint = 77;
	ix[128].time_ms = T0 - 3 * HOUR;
	ix[200].measures = &kind;
	ix[299].time_ms = T0 + HOUR;
	snap before = take(f);
	size_t acc = 99, nrej = 99;
	cxm_rejection rej[3];
	memset(rej, 0xa5, sizeof rej);
	rej[2] = (cxm_rejection){12345, CXM_ERR_IO};
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, N, rej, 2, &nrej), CXM_ERR_REJECTED);
	assert_true(cxm_errmsg(f->ctx)[0] != '\0');
	assert_int_equal(acc, N - nw);
	assert_int_equal(nrej, nw); /* all counted */
	for (size_t k = 0; k < 2; k++) { /* the first rej_cap detailed */
		assert_int_equal(rej[k].index, want[k].index);
		assert_int_equal(rej[k].status, want[k].status);
	}
	assert_int_equal(rej[2].index, 12345); /* and nothing beyond rej_cap */
	assert_int_equal(rej[2].status, CXM_ERR_IO);
	snap after = take(f);
	assert_int_equal(after.st.accepted, before.st.accepted + N - nw);
	assert_int_equal(after.st.rejected_total, before.st.rejected_total + nw);
	for (size_t k = 0; k < nw; k++)
		assert_int_equal(after.st.rejected[want[k].status], before.st.rejected[want[k].status] + 1);
	uint64_t on_ivr = 0; /* nps on ivr: i % 3 != 0, less the rejected */
	for (size_t i = 0; i < N; i++) {
		bool rejected = false;
		for (size_t k = 0; k < nw; k++)
			rejected = rejected || want[k].index == i;
		on_ivr += i % 3 && !rejected;
	}
	assert_int_equal(on_ivr, 194);
	assert_int_equal(after.r[0].n, before.r[0].n + on_ivr);

	cxm_rejection all[N];
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, N, all, N, &nrej), CXM_ERR_REJECTED);
	assert_int_equal(acc, N - nw);
	assert_int_equal(nrej, nw);
	for (size_t k = 0; k < nw; k++) {
		assert_int_equal(all[k].index, want[k].index);
		assert_int_equal(all[k].status, want[k].status);
	}
	/* outputs may be NULL */
	assert_int_equal(cxm_feed_batch(NULL, f->ctx, ix, 3, NULL, 0, NULL), CXM_ERR_REJECTED);
	/* all good, and the empty batch */
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, ix, 1, NULL, 0, &nrej), CXM_OK);
	assert_int_equal(acc, 1);
	assert_int_equal(nrej, 0);
	acc = nrej = 99;
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, NULL, 0, NULL, 0, &nrej), CXM_OK);
	assert_int_equal(acc, 0);
	assert_int_equal(nrej, 0);

	/* refused as a whole, nothing fed */
	cxm_rejection r1;
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(O_SZ(f), f->ctx, NULL, 2, &r1, 1, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(O_SZ(f), f->ctx, ix, 2, NULL, 3, NULL));
	REFUSED(f, CXM_ERR_INVALID, cxm_feed_batch(O_SZ(f), f->ctx, ix, 0, NULL, 1, NULL));
	size_t sizes[] = {0, 8, sizeof ix[0] - 1};
	for (size_t k = 0; k < 3; k++) {
		ix[0].size = sizes[k];
		REFUSED(f, CXM_ERR_VERSION, cxm_feed_batch(O_SZ(f), f->ctx, ix, 2, NULL, 0, NULL));
	}
	ix[0].size = sizeof ix[0];
}

/* Elements of a newer layout: the stride is ixs[0].size; each element is
 * accepted or rejected exactly as cxm_feed() would. */
static void batch_newer_layout(void **state)
{
	fixture *f = *state;
	NEWER(cxm_interaction) b[4];
	memset(b, 0, sizeof b);
	cxm_measure good = {f->nps, 0, 9};
	for (int i = 0; i < 4; i++) {
		b[i].s = mkix(T0, f->ivr, &good, 1);
		b[i].s.size = sizeof b[i];
	}
	size_t acc, nrej;
	cxm_rejection rej[4];
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, &b[0].s, 4, rej, 4, &nrej), CXM_OK);
	assert_int_equal(acc, 4);
	/* element 0 with a tail: the batch is refused */
	b[0].tail[3] = 1;
	REFUSED(f, CXM_ERR_UNSUPPORTED, cxm_feed_batch(O_SZ(f), f->ctx, &b[0].s, 4, NULL, 0, NULL));
	b[0].tail[3] = 0;
	/* element 2 with a tail: that one is UNSUPPORTED, as by cxm_feed() */
	b[2].tail[0] = 1;
	assert_int_equal(cxm_feed(f->ctx, &b[2].s), CXM_ERR_UNSUPPORTED);
	snap before = take(f);
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, &b[0].s, 4, rej, 4, &nrej), CXM_ERR_REJECTED);
	assert_int_equal(acc, 3);
	assert_int_equal(nrej, 1);
	assert_int_equal(rej[0].index, 2);
	assert_int_equal(rej[0].status, CXM_ERR_UNSUPPORTED);
	snap after = take(f);
	assert_int_equal(after.st.accepted, before.st.accepted + 3);
	assert_int_equal(after.st.rejected[CXM_ERR_UNSUPPORTED], before.st.rejected[CXM_ERR_UNSUPPORTED] + 1);
	b[2].tail[0] = 0;
	/* an element of another size is refused alone */
	b[1].s.size = sizeof b[1].s;
	assert_int_equal(cxm_feed_batch(&acc, f->ctx, &b[0].s, 4, rej, 4, &nrej), CXM_ERR_REJECTED);
	assert_int_equal(acc, 3);
	assert_int_equal(rej[0].index, 1);
	assert_int_equal(rej[0].status, CXM_ERR_INVALID);
}

/* ---- names ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	cxm_status want;
} bad_names[] = {
	{"", CXM_ERR_ENCODING},
	{"\x01", CXM_ERR_ENCODING},
	{"a\x1f", CXM_ERR_ENCODING},
	{"a\nb", CXM_ERR_ENCODING},
	{"tab\t", CXM_ERR_ENCODING},
	{"a\x7f", CXM_ERR_ENCODING},
	{"\xff", CXM_ERR_ENCODING},
	{"ok\xfe", CXM_ERR_ENCODING},
	{"\x80", CXM_ERR_ENCODING},              /* a lone continuation byte */
	{"\xc0\xaf", CXM_ERR_ENCODING},          /* overlong '/' */
	{"\xc1\xbf", CXM_ERR_ENCODING},          /* overlong */
	{"\xe0\x80\xaf", CXM_ERR_ENCODING},      /* overlong, 3 bytes */
	{"\xf0\x80\x80\xaf", CXM_ERR_ENCODING},  /* overlong, 4 bytes */
	{"\xed\xa0\x80", CXM_ERR_ENCODING},      /* a high surrogate */
	{"\xed\xbf\xbf", CXM_ERR_ENCODING},      /* a low surrogate */
	{"ab\xe2\x82", CXM_ERR_ENCODING},        /* truncated */
	{"\xc3", CXM_ERR_ENCODING},              /* truncated */
	{"\xf0\x9f\x93", CXM_ERR_ENCODING},      /* truncated */
	{"\xe2\x82x", CXM_ERR_ENCODING},         /* bad continuation */
	{"\xf4\x90\x80\x80", CXM_ERR_ENCODING},  /* above U+10FFFF */
	{"\xf5\x80\x80\x80", CXM_ERR_ENCODING},
	{"\xc2\x85", CXM_ERR_ENCODING},          /* a C1 control */
	{"seventeen-bytes!!", CXM_ERR_TOO_LONG}, /* max_name_len is 16 */
	{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x", CXM_ERR_TOO_LONG},
	{"a very long name, much longer than sixteen bytes", CXM_ERR_TOO_LONG},
};

static void names(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
		const char *n = bad_names[i].name;
		cxm_status want = bad_names[i].want;
		const char *as_step[] = {n}, *second_step[] = {"ok", n};
		REFUSED(f, want, cxm_journey_define(O_ID(f), ctx, n, (const char *[]){"x"}, 1));
		REFUSED(f, want, cxm_journey_define(O_ID(f), ctx, "j2", as_step, 1));
		REFUSED(f, want, cxm_journey_define(O_ID(f), ctx, "j2", second_step, 2));
		REFUSED(f, want, cxm_touchpoint_define(O_ID(f), ctx, n, CXM_CHANNEL_WEB, CXM_NONE, 0));
		REFUSED(f, want, cxm_metric_define(O_ID(f), ctx, n, &d));
		REFUSED(f, want, cxm_segment_define(O_ID(f), ctx, n, 1));
		REFUSED(f, want, cxm_segment_value(O_U32(f), ctx, f->tier, n));
		/* look-ups do not validate: such a name is simply not there */
		REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_find(O_ID(f), ctx, CXM_OBJECT_TOUCHPOINT, n));
		REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_find(O_ID(f), ctx, f->j, n));
		REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_find(O_U32(f), ctx, f->tier, n));
	}
	/* exactly max_name_len bytes, and real UTF-8, are fine */
	const char *ok16 = "sixteen-bytes!!!", *utf16 = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
	const char *emoji = "caf\xc3\xa9\xf0\x9f\x93\x9e\xe2\x82\xac\xf4\x8f\xbf\xbf";
	assert_int_equal(strlen(ok16), 16);
	assert_int_equal(strlen(utf16), 16);
	assert_int_equal(strlen(emoji), 16);
	const char *good[] = {ok16, utf16, emoji};
	for (int i = 0; i < 3; i++) {
		cxm_id id;
		uint32_t v;
		const char *st[] = {good[i]};
		assert_int_equal(cxm_journey_define(&id, ctx, good[i], st, 1), CXM_OK);
		assert_int_equal(cxm_touchpoint_define(&id, ctx, good[i], CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
		assert_int_equal(cxm_metric_define(&id, ctx, good[i], &d), CXM_OK);
		assert_int_equal(cxm_segment_define(&id, ctx, good[i], 1), CXM_OK);
		assert_int_equal(cxm_segment_value(&v, ctx, id, good[i]), CXM_OK);
		assert_int_equal(cxm_find(&id, ctx, CXM_OBJECT_METRIC, good[i]), CXM_OK);
	}
}

/* ---- definitions ---------------------------------------------------------------------- */

static void definitions(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	const char *dup[] = {"a", "b", "a"}, *one[] = {"a"};
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_CSAT5);
	/* duplicates */
	REFUSED(f, CXM_ERR_EXISTS, cxm_journey_define(O_ID(f), ctx, "dup steps", dup, 3));
	REFUSED(f, CXM_ERR_EXISTS, cxm_journey_define(O_ID(f), ctx, "support", one, 1));
	REFUSED(f, CXM_ERR_EXISTS, cxm_touchpoint_define(O_ID(f), ctx, "ivr", CXM_CHANNEL_WEB, CXM_NONE, 0));
	REFUSED(f, CXM_ERR_EXISTS, cxm_metric_define(O_ID(f), ctx, "nps", &d));
	REFUSED(f, CXM_ERR_EXISTS, cxm_segment_define(O_ID(f), ctx, "tier", 1));
	/* names are per kind: a touchpoint may share a metric's name */
	cxm_id id;
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "nps", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	/* arguments */
	REFUSED(f, CXM_ERR_INVALID, cxm_journey_define(O_ID(f), ctx, "none", one, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_define(O_ID(f), ctx, "t", CXM_CHANNEL_WEB, 7, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_define(O_ID(f), ctx, "t", CXM_CHANNEL_WEB, CXM_NONE - 1, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_define(O_ID(f), ctx, "t", CXM_CHANNEL_WEB, f->j, 2));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_define(O_ID(f), ctx, "t", CXM_CHANNEL_WEB, f->j, CXM_NONE));
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_segment_define(O_ID(f), ctx, "s", 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value(O_U32(f), ctx, 5, "x"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value(O_U32(f), ctx, CXM_NONE, "x"));
	/* a standalone touchpoint ignores step */
	assert_int_equal(cxm_touchpoint_define(&id, ctx, "alone", CXM_CHANNEL_SMS, CXM_NONE, 999), CXM_OK);
	cxm_id jj = 1, ss = 1;
	assert_int_equal(cxm_touchpoint_get(NULL, &jj, &ss, ctx, id), CXM_OK);
	assert_int_equal(jj, CXM_NONE);
	assert_int_equal(ss, CXM_NONE);
	/* an existing value is found, not added, and a new one past max is LIMIT */
	uint32_t v = 9;
	assert_int_equal(cxm_segment_value(&v, ctx, f->tier, "gold"), CXM_OK);
	assert_int_equal(v, f->gold);
	assert_int_equal(cxm_segment_value(&v, ctx, f->tier, "silver"), CXM_OK);
	assert_int_equal(v, 1);
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_value(O_U32(f), ctx, f->tier, "bronze")); /* max 2 */
	/* touchpoints up to the limit (8), then LIMIT */
	char name[16];
	uint32_t n;
	assert_int_equal(cxm_count(&n, ctx, CXM_OBJECT_TOUCHPOINT), CXM_OK);
	for (uint32_t i = n; i < 8; i++) {
		snprintf(name, sizeof name, "tp%u", i);
		assert_int_equal(cxm_touchpoint_define(&id, ctx, name, CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
		assert_int_equal(id, i);
	}
	REFUSED(f, CXM_ERR_LIMIT, cxm_touchpoint_define(O_ID(f), ctx, "one more", CXM_CHANNEL_WEB, CXM_NONE, 0));
	REFUSED(f, CXM_ERR_EXISTS, cxm_touchpoint_define(O_ID(f), ctx, "tp7", CXM_CHANNEL_WEB, CXM_NONE, 0));
}

static void lookups(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	for (int k = 1; k <= 4; k++) {
		uint32_t n;
		assert_int_equal(cxm_count(&n, ctx, (cxm_object)k), CXM_OK);
		REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_name(O_STR(f), ctx, (cxm_object)k, n));
		REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_name(O_STR(f), ctx, (cxm_object)k, CXM_NONE));
		REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_find(O_ID(f), ctx, (cxm_object)k, "no such thing"));
	}
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_find(O_ID(f), ctx, CXM_OBJECT_METRIC, "ivr")); /* a touchpoint */
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_journey_steps(O_U32(f), ctx, 1));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_journey_steps(O_U32(f), ctx, CXM_NONE));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_name(O_STR(f), ctx, f->j, 2));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_name(O_STR(f), ctx, 1, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_find(O_ID(f), ctx, f->j, "zz"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_step_find(O_ID(f), ctx, 1, "a"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_get(O_CH(f), NULL, NULL, ctx, 2));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_touchpoint_get(O_CH(f), NULL, NULL, ctx, CXM_NONE));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_series_bytes(O_SZ(f), ctx, 99));
	REFUSED_OUT(f, CXM_ERR_UNKNOWN_ID, sizeof(cxm_metric_def), cxm_metric_get(O_DEF(f), ctx, 99));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_find(O_U32(f), ctx, f->tier, "bronze"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_find(O_U32(f), ctx, 1, "gold"));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_name(O_STR(f), ctx, f->tier, 1));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_name(O_STR(f), ctx, f->tier, CXM_NONE));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_value_name(O_STR(f), ctx, 1, 0));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_segment_values(O_U32(f), ctx, 1));
}

/* ---- metric definitions --------------------------------------------------------------- */

static void metric_definitions(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	struct {
		const char *what;
		cxm_status want;
		cxm_preset base;
		int tweak;
	} c[] = {
		{"headline SUM on a score", CXM_ERR_INVALID, CXM_PRESET_NPS, 1},
		{"headline SHARE on a duration", CXM_ERR_INVALID, CXM_PRESET_DURATION, 2},
		{"headline NET on a rate", CXM_ERR_INVALID, CXM_PRESET_RATE, 3},
		{"headline MEAN on a volume", CXM_ERR_INVALID, CXM_PRESET_VOLUME, 4},
		{"one point", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 5},
		{"102 points", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 6},
		{"reversed scale", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 7},
		{"INT32 scale", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 8},
		{"top at bottom", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 9},
		{"top above scale", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 10},
		{"bottom below scale", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 11},
		{"score with 2 questions", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 12},
		{"score with 0 questions", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 13},
		{"NA on the scale", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_NPS, 14},
		{"index with 9 questions", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_CXI, 15},
		{"index with 0 questions", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_CXI, 16},
		{"index question 3 boxes", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_CXI, 17},
		{"duration_lo NaN", CXM_ERR_NOT_FINITE, CXM_PRESET_DURATION, 18},
		{"duration_hi +Inf", CXM_ERR_NOT_FINITE, CXM_PRESET_DURATION, 19},
		{"duration_lo -Inf", CXM_ERR_NOT_FINITE, CXM_PRESET_DURATION, 20},
		{"relative_error NaN", CXM_ERR_NOT_FINITE, CXM_PRESET_DURATION, 21},
		{"relative_error Inf", CXM_ERR_NOT_FINITE, CXM_PRESET_DURATION, 22},
		{"duration_lo 0", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 23},
		{"duration_lo -1", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 24},
		{"duration_lo below 1 ns", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 25},
		{"duration_hi = lo", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 26},
		{"duration_hi < lo", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 27},
		{"relative_error 0.0009", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 28},
		{"relative_error 0.11", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 29},
		{"relative_error 0", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 30},
		{"too many bins", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DURATION, 31},
		{"precision 3", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DISTINCT, 32},
		{"precision 17", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DISTINCT, 33},
		{"precision 0", CXM_ERR_OUT_OF_RANGE, CXM_PRESET_DISTINCT, 34},
	};
	cxm_metric_def d;
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		cxm_metric_def_init(&d, sizeof d);
		assert_int_equal(cxm_metric_preset(&d, c[i].base), CXM_OK);
		switch (c[i].tweak) {
		case 1: d.headline = CXM_HEADLINE_SUM; break;
		case 2: d.headline = CXM_HEADLINE_SHARE; break;
		case 3: d.headline = CXM_HEADLINE_NET; break;
		case 4: d.headline = CXM_HEADLINE_MEAN; break;
		case 5: d.scale_max = d.scale_min; break;
		case 6: d.scale_max = d.scale_min + 101; break;
		case 7: d.scale_min = 10; d.scale_max = 0; break;
		case 8: d.scale_min = INT32_MIN; d.scale_max = INT32_MAX; break;
		case 9: d.top_min[0] = 6; d.bottom_max[0] = 6; break;
		case 10: d.top_min[0] = 11; break;
		case 11: d.bottom_max[0] = -1; break;
		case 12: d.questions = 2; break;
		case 13: d.questions = 0; break;
		case 14: d.has_na = 1; d.na_value = 5; break;
		case 15: d.questions = 9; break;
		case 16: d.questions = 0; break;
		case 17: d.questions = 4; break; /* question 3's boxes are zero: not on 1..10 */
		case 18: d.duration_lo = NAN; break;
		case 19: d.duration_hi = INFINITY; break;
		case 20: d.duration_lo = -INFINITY; break;
		case 21: d.relative_error = NAN; break;
		case 22: d.relative_error = INFINITY; break;
		case 23: d.duration_lo = 0; break;
		case 24: d.duration_lo = -1; break;
		case 25: d.duration_lo = 1e-10; break;
		case 26: d.duration_hi = d.duration_lo; break;
		case 27: d.duration_hi = d.duration_lo / 2; break;
		case 28: d.relative_error = 0.0009; break;
		case 29: d.relative_error = 0.11; break;
		case 30: d.relative_error = 0; break;
		case 31: d.duration_lo = 1e-9; d.duration_hi = 1e12; d.relative_error = 0.001; break;
		case 32: d.precision = 3; break;
		case 33: d.precision = 17; break;
		case 34: d.precision = 0; break;
		}
		snap before = take(f);
		memset(f->out, 0xa5, OUT_BYTES);
		unsigned char keep[OUT_BYTES];
		memcpy(keep, f->out, OUT_BYTES);
		msg_elsewhere();
		cxm_status got = cxm_metric_define(O_ID(f), ctx, "m2", &d);
		check_refused(f, &before, keep, got, c[i].want, CXM_OK, 0, __LINE__, c[i].what);
	}
	/* every preset is itself valid, and so are the documented edges */
	for (int p = CXM_PRESET_NPS; p <= CXM_PRESET_DISTINCT; p++) {
		char name[16];
		snprintf(name, sizeof name, "preset%d", p);
		cxm_metric_preset(&d, (cxm_preset)p);
		cxm_id id;
		if (cxm_metric_define(&id, ctx, name, &d) != CXM_OK)
			fail_msg("preset %d: %s", p, cxm_errmsg(ctx));
	}
	cxm_id id;
	cxm_metric_preset(&d, CXM_PRESET_DURATION);
	d.duration_lo = 1e-9;
	d.duration_hi = 1e-8;
	d.relative_error = 0.1;
	assert_int_equal(cxm_metric_define(&id, ctx, "edge duration", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	d.scale_min = -50;
	d.scale_max = 50; /* 101 points */
	d.top_min[0] = 50;
	d.bottom_max[0] = -50;
	d.has_na = 1;
	d.na_value = 51;
	assert_int_equal(cxm_metric_define(&id, ctx, "edge scale", &d), CXM_OK);
	cxm_metric_preset(&d, CXM_PRESET_DISTINCT);
	d.precision = 4;
	assert_int_equal(cxm_metric_define(&id, ctx, "edge p4", &d), CXM_OK);
	d.precision = 16;
	assert_int_equal(cxm_metric_define(&id, ctx, "edge p16", &d), CXM_OK);
}

/* ---- queries -------------------------------------------------------------------- */

static void queries(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	cxm_query q = mkq(f->nps, CXM_SCOPE_TOUCHPOINT, f->ivr);
	struct {
		const char *what;
		cxm_status want;
		int tweak;
	} c[] = {
		{"unknown metric", CXM_ERR_UNKNOWN_ID, 1},
		{"metric CXM_NONE", CXM_ERR_UNKNOWN_ID, 2},
		{"unknown touchpoint", CXM_ERR_UNKNOWN_ID, 3},
		{"unknown journey", CXM_ERR_UNKNOWN_ID, 4},
		{"unknown journey of a step", CXM_ERR_UNKNOWN_ID, 5},
		{"unknown step", CXM_ERR_UNKNOWN_ID, 6},
		{"channel 0", CXM_ERR_UNKNOWN_ID, 7},
		{"channel 9", CXM_ERR_UNKNOWN_ID, 8},
		{"unknown segment", CXM_ERR_UNKNOWN_ID, 9},
		{"unknown segment value", CXM_ERR_UNKNOWN_ID, 10},
		{"segment value CXM_NONE", CXM_ERR_UNKNOWN_ID, 11},
		{"span 0", CXM_ERR_OUT_OF_RANGE, 12},
		{"span -1", CXM_ERR_OUT_OF_RANGE, 13},
		{"span INT64_MIN", CXM_ERR_OUT_OF_RANGE, 14},
		{"end -1", CXM_ERR_OUT_OF_RANGE, 15},
		{"end MAX+1", CXM_ERR_OUT_OF_RANGE, 16},
		{"end INT64_MAX", CXM_ERR_OUT_OF_RANGE, 17},
		{"end INT64_MIN + 2", CXM_ERR_OUT_OF_RANGE, 18},
	};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		cxm_query b = q;
		switch (c[i].tweak) {
		case 1: b.metric = 77; break;
		case 2: b.metric = CXM_NONE; break;
		case 3: b.id = 77; break;
		case 4: b.scope = CXM_SCOPE_JOURNEY; b.id = 9; break;
		case 5: b.scope = CXM_SCOPE_STEP; b.id = 9; b.step = 0; break;
		case 6: b.scope = CXM_SCOPE_STEP; b.id = f->j; b.step = 2; break;
		case 7: b.scope = CXM_SCOPE_CHANNEL; b.id = 0; break;
		case 8: b.scope = CXM_SCOPE_CHANNEL; b.id = 9; break;
		case 9: b.segment = 3; break;
		case 10: b.segment = f->tier; b.segment_value = 1; break;
		case 11: b.segment = f->tier; b.segment_value = CXM_NONE; break;
		case 12: b.span_ms = 0; break;
		case 13: b.span_ms = -1; break;
		case 14: b.span_ms = INT64_MIN; break;
		case 15: b.end_ms = -1; break;
		case 16: b.end_ms = CXM_TIME_MAX + 1; break;
		case 17: b.end_ms = INT64_MAX; break;
		case 18: b.end_ms = INT64_MIN + 2; break; /* INT64_MIN + 1 is CXM_WATERMARK */
		}
		snap before = take(f);
		memset(f->out, 0xa5, OUT_BYTES);
		size_t rs = sizeof(cxm_result);
		memcpy(f->out, &rs, sizeof rs);
		unsigned char keep[OUT_BYTES];
		memcpy(keep, f->out, OUT_BYTES);
		msg_elsewhere();
		cxm_status got = cxm_query_run(O_RES(f), ctx, &b);
		check_refused(f, &before, keep, got, c[i].want, CXM_OK, 0, __LINE__, c[i].what);
		/* the same through every other query function */
		cxm_query bd = b;
		if (bd.metric == f->nps)
			bd.metric = f->aht;
		REFUSED(f, c[i].want, cxm_query_quantiles(O_DBL(f), ctx, &bd, (double[]){0.5}, 1));
		size_t nd = 77;
		REFUSED(f, c[i].want, cxm_query_distribution(O_U64(f), 11, &nd, ctx, &b, 0));
		assert_int_equal(nd, 77);
		REFUSED_OUT(f, c[i].want, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &b, &q));
		REFUSED_OUT(f, c[i].want, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &q, &b));
	}
	/* the edges that are fine */
	cxm_result r = {.size = sizeof r};
	cxm_query e = q;
	e.end_ms = 0;
	assert_int_equal(cxm_query_run(&r, ctx, &e), CXM_OK);
	e.end_ms = CXM_TIME_MAX;
	e.span_ms = INT64_MAX;
	assert_int_equal(cxm_query_run(&r, ctx, &e), CXM_OK);
	e = mkq(f->nps, CXM_SCOPE_STEP, f->j);
	e.step = 1;
	assert_int_equal(cxm_query_run(&r, ctx, &e), CXM_OK);
	e = mkq(f->nps, CXM_SCOPE_CHANNEL, CXM_CHANNEL_OTHER);
	assert_int_equal(cxm_query_run(&r, ctx, &e), CXM_OK);
	assert_true(r.flags & CXM_RESULT_EMPTY);

	/* quantiles */
	cxm_query qd = mkq(f->aht, CXM_SCOPE_TOUCHPOINT, f->ivr);
	double qs[3] = {0.5, 0.9, 0.99};
	REFUSED(f, CXM_ERR_KIND, cxm_query_quantiles(O_DBL(f), ctx, &q, qs, 3));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(O_DBL(f), ctx, &qd, qs, 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(O_DBL(f), ctx, &qd, qs, 65));
	REFUSED(f, CXM_ERR_INVALID, cxm_query_quantiles(O_DBL(f), ctx, &qd, qs, SIZE_MAX));
	const double badq[] = {1.5, -0.1, 1 + DBL_EPSILON, -DBL_MIN, INFINITY, -INFINITY};
	for (size_t i = 0; i < sizeof badq / sizeof badq[0]; i++) {
		qs[1] = badq[i];
		REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_query_quantiles(O_DBL(f), ctx, &qd, qs, 3));
	}
	qs[1] = NAN;
	REFUSED(f, CXM_ERR_NOT_FINITE, cxm_query_quantiles(O_DBL(f), ctx, &qd, qs, 3));
	qs[1] = 0;
	qs[2] = 1;
	double out3[3];
	assert_int_equal(cxm_query_quantiles(out3, ctx, &qd, qs, 3), CXM_OK);

	/* distribution */
	size_t nd = 77;
	REFUSED(f, CXM_ERR_KIND, cxm_query_distribution(O_U64(f), 11, &nd, ctx, &qd, 0));
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_query_distribution(O_U64(f), 11, &nd, ctx, &q, 1));
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_query_distribution(O_U64(f), 11, &nd, ctx, &q, CXM_NONE));
	cxm_query qx = mkq(f->cxi, CXM_SCOPE_ALL, 0);
	REFUSED(f, CXM_ERR_OUT_OF_RANGE, cxm_query_distribution(O_U64(f), 10, &nd, ctx, &qx, 3));
	assert_int_equal(nd, 77);
	REFUSED(f, CXM_ERR_LIMIT, cxm_query_distribution(O_U64(f), 10, &nd, ctx, &q, 0));
	assert_int_equal(nd, 11); /* says how many */
	REFUSED(f, CXM_ERR_LIMIT, cxm_query_distribution(O_U64(f), 0, &nd, ctx, &q, 0));
	uint64_t dist[11];
	assert_int_equal(cxm_query_distribution(dist, 11, &nd, ctx, &qx, 2), CXM_OK);
	assert_int_equal(nd, 10);

	/* compare */
	cxm_query other = mkq(f->csat, CXM_SCOPE_TOUCHPOINT, f->ivr);
	REFUSED_OUT(f, CXM_ERR_INVALID, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &q, &other));
	cxm_query vol = mkq(f->vol, CXM_SCOPE_ALL, 0), rev = mkq(f->rev, CXM_SCOPE_ALL, 0);
	REFUSED_OUT(f, CXM_ERR_KIND, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &vol, &vol));
	REFUSED_OUT(f, CXM_ERR_KIND, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &rev, &rev));
	REFUSED_OUT(f, CXM_ERR_KIND, sizeof(cxm_comparison), cxm_query_compare(O_CMP(f), ctx, &qx, &qx));
	cxm_comparison cmp = {.size = sizeof cmp};
	assert_int_equal(cxm_query_compare(&cmp, ctx, &q, &q), CXM_OK);
}

/* ---- customers -------------------------------------------------------------------- */

static void customers(void **state)
{
	fixture *f = *state;
	cxm_context *ctx = f->ctx;
	static char big[1 << 20];
	REFUSED(f, CXM_ERR_INVALID, cxm_customer_last_seen(O_I64(f), ctx, "c1", 0));
	REFUSED(f, CXM_ERR_INVALID, cxm_customer_forget(ctx, "c1", 0));
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_last_seen(O_I64(f), ctx, big, sizeof big));
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_forget(ctx, big, sizeof big));
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_last_seen(O_I64(f), ctx, big, 257));
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_forget(ctx, big, 257));
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_forget(ctx, big, SIZE_MAX));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_customer_last_seen(O_I64(f), ctx, "newcomer", 8));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_customer_forget(ctx, "newcomer", 8));
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_customer_last_seen(O_I64(f), ctx, "c1", 1)); /* a prefix */
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_customer_last_seen(O_I64(f), ctx, big, 256));
	int64_t t;
	assert_int_equal(cxm_customer_last_seen(&t, ctx, "c1", 2), CXM_OK);
	assert_int_equal(cxm_customer_forget(ctx, "c1", 2), CXM_OK);
	/* forgotten: now unknown, and forgetting twice is UNKNOWN_ID */
	assert_int_equal(cxm_customer_last_seen(&t, ctx, "c1", 2), CXM_ERR_UNKNOWN_ID);
	REFUSED(f, CXM_ERR_UNKNOWN_ID, cxm_customer_forget(ctx, "c1", 2));
	/* a context that never saw a customer */
	cxm_config cfg = CXM_CONFIG_INIT;
	fixture *g = bare(&cfg);
	REFUSED(g, CXM_ERR_UNKNOWN_ID, cxm_customer_last_seen(O_I64(g), g->ctx, "c1", 2));
	REFUSED(g, CXM_ERR_UNKNOWN_ID, cxm_customer_forget(g->ctx, "c1", 2));
	bare_free(g);
}

/* ---- limits -------------------------------------------------------------------------- */

static void limits(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_journeys = 1;
	cfg.max_steps = 2;
	cfg.max_touchpoints = 2;
	cfg.max_metrics = 2;
	cfg.max_segments = 2;
	cfg.max_segment_values = 3;
	cfg.max_customer_id_len = 8;
	cfg.max_measures = 1;
	cfg.shards = 1;
	fixture *f = bare(&cfg);
	cxm_context *ctx = f->ctx;
	cxm_id j, tp, nps, seg;
	const char *two[] = {"a", "b"}, *three[] = {"a", "b", "c"};
	REFUSED(f, CXM_ERR_LIMIT, cxm_journey_define(O_ID(f), ctx, "j", three, 3));
	assert_int_equal(cxm_journey_define(&j, ctx, "j", two, 2), CXM_OK);
	REFUSED(f, CXM_ERR_LIMIT, cxm_journey_define(O_ID(f), ctx, "k", two, 2));
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "t0", CXM_CHANNEL_WEB, j, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "t1", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	REFUSED(f, CXM_ERR_LIMIT, cxm_touchpoint_define(O_ID(f), ctx, "t2", CXM_CHANNEL_WEB, CXM_NONE, 0));
	nps = define_preset(ctx, "nps", CXM_PRESET_NPS);
	(void)define_preset(ctx, "fcr", CXM_PRESET_RATE);
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_CSAT5);
	REFUSED(f, CXM_ERR_LIMIT, cxm_metric_define(O_ID(f), ctx, "csat", &d));
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_define(O_ID(f), ctx, "s", 4));
	assert_int_equal(cxm_segment_define(&seg, ctx, "s", 2), CXM_OK);
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_define(O_ID(f), ctx, "r", 2)); /* 1 value left */
	assert_int_equal(cxm_segment_define(&seg, ctx, "r", 1), CXM_OK);
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_define(O_ID(f), ctx, "q", 1)); /* max_segments */
	uint32_t v;
	assert_int_equal(cxm_segment_value(&v, ctx, seg, "x"), CXM_OK);
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_value(O_U32(f), ctx, seg, "y"));
	/* measures and customer ids */
	add_probe(f, mkq(nps, CXM_SCOPE_ALL, 0));
	cxm_measure m[2] = {{nps, 0, 9}, {nps, 0, 9}};
	cxm_interaction ix = mkix(T0, 0, m, 2);
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	ix.n_measures = 1;
	ix.customer = "123456789";
	ix.customer_len = 9;
	FEED_REFUSED(f, CXM_ERR_TOO_LONG, &ix);
	ix.customer_len = 8;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_last_seen(O_I64(f), ctx, "123456789", 9));
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_customer_forget(ctx, "123456789", 9));
	bare_free(f);
}

/* max_series: a feed that would pass it is refused, and the series it made
 * on its way are undone. */
static void series_limit(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_series = 4;
	cfg.shards = 1;
	fixture *f = bare(&cfg);
	cxm_context *ctx = f->ctx;
	cxm_id nps = define_preset(ctx, "nps", CXM_PRESET_NPS), t0, t1, tier, region;
	assert_int_equal(cxm_touchpoint_define(&t0, ctx, "t0", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&t1, ctx, "t1", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_segment_define(&tier, ctx, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_define(&region, ctx, "region", 1), CXM_OK);
	uint32_t val[4], north;
	const char *names4[] = {"gold", "silver", "bronze", "iron"};
	for (int i = 0; i < 4; i++)
		assert_int_equal(cxm_segment_value(&val[i], ctx, tier, names4[i]), CXM_OK);
	assert_int_equal(cxm_segment_value(&north, ctx, region, "north"), CXM_OK);
	add_probe(f, mkq(nps, CXM_SCOPE_ALL, 0));
	cxm_query qs = mkq(nps, CXM_SCOPE_ALL, 0);
	qs.segment = tier;
	qs.segment_value = val[0];
	add_probe(f, qs);
	cxm_measure m = {nps, 0, 9};
	uint32_t segs[2] = {val[0], CXM_NONE};
	cxm_interaction ix = mkix(T0, t0, &m, 1);
	ix.n_segments = 2;
	ix.segments = segs;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK); /* 2 series: t0 overall, t0 gold */
	segs[0] = val[1];
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK); /* 3 */
	/* wanting 2 with 1 left: the first is made, the second refused */
	segs[0] = val[2];
	segs[1] = north;
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	segs[1] = CXM_NONE;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK); /* 4 */
	/* full */
	segs[0] = val[3];
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	segs[0] = val[0];
	segs[1] = north;
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	/* the existing series still take data */
	segs[1] = CXM_NONE;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	/* a touchpoint with no series yet: refused, and nothing of it kept */
	ix.touchpoint = t1;
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	ix.n_segments = 0;
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	bare_free(f);
}

/* Under policy REFUSE a new customer past max_customers is LIMIT, counted
 * as refused, and not recorded. */
static void customer_limit(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_customers = 1;
	cfg.customer_policy = CXM_CUSTOMERS_REFUSE;
	fixture *f = bare(&cfg);
	cxm_context *ctx = f->ctx;
	cxm_id nps = define_preset(ctx, "nps", CXM_PRESET_NPS), t0, t1;
	(void)define_preset(ctx, "visitors", CXM_PRESET_DISTINCT);
	assert_int_equal(cxm_touchpoint_define(&t0, ctx, "t0", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&t1, ctx, "t1", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	add_probe(f, mkq(nps, CXM_SCOPE_ALL, 0));
	add_probe(f, mkq(1, CXM_SCOPE_ALL, 0));
	cxm_measure m = {nps, 0, 9};
	cxm_interaction ix = mkix(T0, t0, &m, 1);
	ix.customer = "c1";
	ix.customer_len = 2;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	ix.customer = "newcomer";
	ix.customer_len = 8;
	EXPECT(f, CXM_ERR_LIMIT, CXM_ERR_LIMIT, 1, 0, 0, cxm_feed(ctx, &ix));
	ix.customer = "c1";
	ix.customer_len = 2;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	ix.customer = "newcomer";
	ix.customer_len = 8;
	EXPECT(f, CXM_ERR_LIMIT, CXM_ERR_LIMIT, 1, 0, 0, cxm_feed(ctx, &ix));
	ix.touchpoint = t1; /* where no series exist yet */
	EXPECT(f, CXM_ERR_LIMIT, CXM_ERR_LIMIT, 1, 0, 0, cxm_feed(ctx, &ix));
	bare_free(f);
}

/* The documented defaults are the limits a zero config gives. */

/* A refused number is shown as it was given: 1.0000001 is not "1" next
 * to a bound of 1, nor 9.000000000000002 "9" next to a scale of 0 .. 10. */
static void exact_numbers_in_messages(void **state)
{
	fixture *f = *state;
	cxm_query q = mkq(f->aht, CXM_SCOPE_ALL, 0);
	double qs[1] = {1.0000001}, out[1];
	assert_int_equal(cxm_query_quantiles(out, f->ctx, &q, qs, 1), CXM_ERR_OUT_OF_RANGE);
	assert_non_null(strstr(cxm_errmsg(f->ctx), "1.0000001 is outside"));
	cxm_measure m = {f->nps, 0, 9.0000000000000018};
	cxm_interaction ix = mkix(T0, f->ivr, &m, 1);
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_ERR_OUT_OF_RANGE);
	assert_non_null(strstr(cxm_errmsg(f->ctx), "score 9.000000000000002 is not"));
	m = (cxm_measure){f->fcr, 0, 0.5};
	assert_int_equal(cxm_feed(f->ctx, &ix), CXM_ERR_OUT_OF_RANGE);
	assert_non_null(strstr(cxm_errmsg(f->ctx), "rate value 0.5 for"));
}

static void documented_defaults(void **state)
{
	(void)state;
	cxm_config cfg = CXM_CONFIG_INIT;
	fixture *f = bare(&cfg);
	cxm_context *ctx = f->ctx;
	char name[130];
	memset(name, 'n', sizeof name);
	name[128] = '\0';
	cxm_id id;
	assert_int_equal(cxm_touchpoint_define(&id, ctx, name, CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	name[128] = 'n';
	name[129] = '\0';
	REFUSED(f, CXM_ERR_TOO_LONG, cxm_touchpoint_define(O_ID(f), ctx, name, CXM_CHANNEL_WEB, CXM_NONE, 0));
	const char *steps[65];
	char sn[65][4];
	for (int i = 0; i < 65; i++) {
		snprintf(sn[i], sizeof sn[i], "%d", i);
		steps[i] = sn[i];
	}
	REFUSED(f, CXM_ERR_LIMIT, cxm_journey_define(O_ID(f), ctx, "j", steps, 65));
	assert_int_equal(cxm_journey_define(&id, ctx, "j", steps, 64), CXM_OK);
	cxm_id nps = define_preset(ctx, "nps", CXM_PRESET_NPS);
	cxm_measure m[65];
	for (int i = 0; i < 65; i++)
		m[i] = (cxm_measure){nps, 0, 9};
	cxm_interaction ix = mkix(T0, 0, m, 65);
	FEED_REFUSED(f, CXM_ERR_LIMIT, &ix);
	ix.n_measures = 64;
	static char big[257];
	ix.customer = big;
	ix.customer_len = 257;
	FEED_REFUSED(f, CXM_ERR_TOO_LONG, &ix);
	ix.customer_len = 256;
	assert_int_equal(cxm_feed(ctx, &ix), CXM_OK);
	ix = mkix(T0 + 5 * MIN + 1, 0, m, 1);
	f->clk.now = T0;
	FEED_REFUSED(f, CXM_ERR_TOO_EARLY, &ix);
	/* max_segment_values: 0 means 1024 */
	if (cxm_segment_define(&id, ctx, "agent", 1000) != CXM_OK)
		fail_msg("1024 segment values by default: %s", cxm_errmsg(ctx));
	if (cxm_segment_define(&id, ctx, "queue", 24) != CXM_OK)
		fail_msg("1024 segment values by default: %s", cxm_errmsg(ctx));
	REFUSED(f, CXM_ERR_LIMIT, cxm_segment_define(O_ID(f), ctx, "region", 1));
	bare_free(f);
}

/* ---- configurations ------------------------------------------------------------------ */

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
	struct {
		const char *what;
		cxm_status want;
		int tweak;
	} c[] = {
		{"size 0", CXM_ERR_VERSION, 1},
		{"size 8", CXM_ERR_VERSION, 2},
		{"size - 1", CXM_ERR_VERSION, 3},
		{"unknown tail", CXM_ERR_UNSUPPORTED, 4},
		{"unknown tail, last byte", CXM_ERR_UNSUPPORTED, 5},
		{"alloc without free", CXM_ERR_INVALID, 6},
		{"free without alloc", CXM_ERR_INVALID, 7},
		{"5 tiers", CXM_ERR_OUT_OF_RANGE, 8},
		{"UINT32_MAX tiers", CXM_ERR_OUT_OF_RANGE, 9},
		{"bucket 999 ms", CXM_ERR_OUT_OF_RANGE, 10},
		{"bucket 0 ms", CXM_ERR_OUT_OF_RANGE, 11},
		{"bucket -60000 ms", CXM_ERR_OUT_OF_RANGE, 12},
		{"bucket INT64_MAX ms", CXM_ERR_OUT_OF_RANGE, 13},
		{"1 bucket", CXM_ERR_OUT_OF_RANGE, 14},
		{"0 buckets", CXM_ERR_OUT_OF_RANGE, 15},
		{"100001 buckets", CXM_ERR_OUT_OF_RANGE, 16},
		{"tier reserved", CXM_ERR_UNSUPPORTED, 17},
		{"second tier reserved", CXM_ERR_UNSUPPORTED, 18},
		{"tier not a multiple", CXM_ERR_OUT_OF_RANGE, 19},
		{"tier as fine as the last", CXM_ERR_OUT_OF_RANGE, 20},
		{"tier finer than the last", CXM_ERR_OUT_OF_RANGE, 21},
		{"tier not reaching further", CXM_ERR_OUT_OF_RANGE, 22},
		{"negative skew", CXM_ERR_OUT_OF_RANGE, 23},
		{"INT64_MIN skew", CXM_ERR_OUT_OF_RANGE, 24},
		{"confidence NaN", CXM_ERR_NOT_FINITE, 26},
		{"confidence +Inf", CXM_ERR_NOT_FINITE, 27},
		{"confidence -Inf", CXM_ERR_NOT_FINITE, 28},
		{"confidence 1", CXM_ERR_OUT_OF_RANGE, 29},
		{"confidence 1.5", CXM_ERR_OUT_OF_RANGE, 30},
		{"confidence -0.5", CXM_ERR_OUT_OF_RANGE, 31},
		{"65 shards", CXM_ERR_OUT_OF_RANGE, 32},
		{"max_journeys", CXM_ERR_OUT_OF_RANGE, 33},
		{"max_steps", CXM_ERR_OUT_OF_RANGE, 34},
		{"max_touchpoints", CXM_ERR_OUT_OF_RANGE, 35},
		{"max_metrics", CXM_ERR_OUT_OF_RANGE, 36},
		{"max_segments", CXM_ERR_OUT_OF_RANGE, 37},
		{"max_segment_values", CXM_ERR_OUT_OF_RANGE, 38},
		{"max_name_len", CXM_ERR_OUT_OF_RANGE, 39},
		{"max_customer_id_len", CXM_ERR_OUT_OF_RANGE, 40},
		{"max_measures", CXM_ERR_OUT_OF_RANGE, 41},
		{"customer_policy 2", CXM_ERR_INVALID, 42},
		{"customer_policy max", CXM_ERR_INVALID, 43},
		{"allocator fails", CXM_ERR_NO_MEMORY, 44},
		{"max_triggers", CXM_ERR_OUT_OF_RANGE, 45},
		{"event_queue", CXM_ERR_OUT_OF_RANGE, 46},
		{"reserved[0]", CXM_ERR_UNSUPPORTED, 50},
		{"reserved[5]", CXM_ERR_UNSUPPORTED, 55},
	};
	NEWER(cxm_config) big;
	for (size_t i = 0; i < sizeof c / sizeof c[0] + 4; i++) {
		/* reserved[1..4] too */
		const char *what = i < sizeof c / sizeof c[0] ? c[i].what : "reserved[1..4]";
		cxm_status want = i < sizeof c / sizeof c[0] ? c[i].want : CXM_ERR_UNSUPPORTED;
		int tweak = i < sizeof c / sizeof c[0] ? c[i].tweak : 51 + (int)(i - sizeof c / sizeof c[0]);
		memset(&big, 0, sizeof big);
		cxm_config *k = &big.s;
		assert_int_equal(cxm_config_init(k, sizeof *k), CXM_OK);
		switch (tweak) {
		case 1: k->size = 0; break;
		case 2: k->size = 8; break;
		case 3: k->size = sizeof *k - 1; break;
		case 4: k->size = sizeof big; big.tail[0] = 1; break;
		case 5: k->size = sizeof big; big.tail[sizeof big.tail - 1] = 0x80; break;
		case 6: k->allocator.alloc = fail_alloc; break;
		case 7: k->allocator.free = noop_free; break;
		case 8: k->n_tiers = 5; break;
		case 9: k->n_tiers = UINT32_MAX; break;
		case 10: k->n_tiers = 1; k->tiers[0] = (cxm_tier){999, 10, 0}; break;
		case 11: k->n_tiers = 1; k->tiers[0] = (cxm_tier){0, 10, 0}; break;
		case 12: k->n_tiers = 1; k->tiers[0] = (cxm_tier){-60000, 10, 0}; break;
		case 13: k->n_tiers = 1; k->tiers[0] = (cxm_tier){INT64_MAX, 10, 0}; break;
		case 14: k->n_tiers = 1; k->tiers[0] = (cxm_tier){1000, 1, 0}; break;
		case 15: k->n_tiers = 1; k->tiers[0] = (cxm_tier){1000, 0, 0}; break;
		case 16: k->n_tiers = 1; k->tiers[0] = (cxm_tier){1000, 100001, 0}; break;
		case 17: k->n_tiers = 1; k->tiers[0] = (cxm_tier){1000, 10, 1}; break;
		case 18:
			k->n_tiers = 2;
			k->tiers[0] = (cxm_tier){60000, 120, 0};
			k->tiers[1] = (cxm_tier){3600000, 192, 1};
			break;
		case 19:
			k->n_tiers = 2;
			k->tiers[0] = (cxm_tier){60000, 120, 0};
			k->tiers[1] = (cxm_tier){90000, 1000, 0};
			break;
		case 20:
			k->n_tiers = 2;
			k->tiers[0] = (cxm_tier){60000, 120, 0};
			k->tiers[1] = (cxm_tier){60000, 1000, 0};
			break;
		case 21:
			k->n_tiers = 2;
			k->tiers[0] = (cxm_tier){60000, 120, 0};
			k->tiers[1] = (cxm_tier){30000, 1000, 0};
			break;
		case 22:
			k->n_tiers = 2;
			k->tiers[0] = (cxm_tier){60000, 120, 0};
			k->tiers[1] = (cxm_tier){3600000, 2, 0}; /* 2 h: no further than tier 0 */
			break;
		case 23: k->max_future_ms = -1; break;
		case 24: k->max_future_ms = INT64_MIN; break;
		case 25: k->max_future_ms = INT64_MAX; break;
		case 26: k->confidence = NAN; break;
		case 27: k->confidence = INFINITY; break;
		case 28: k->confidence = -INFINITY; break;
		case 29: k->confidence = 1; break;
		case 30: k->confidence = 1.5; break;
		case 31: k->confidence = -0.5; break;
		case 32: k->shards = 65; break;
		case 33: k->max_journeys = UINT32_MAX; break;
		case 34: k->max_steps = UINT32_MAX; break;
		case 35: k->max_touchpoints = UINT32_MAX; break;
		case 36: k->max_metrics = UINT32_MAX; break;
		case 37: k->max_segments = UINT32_MAX; break;
		case 38: k->max_segment_values = UINT32_MAX; break;
		case 39: k->max_name_len = UINT32_MAX; break;
		case 40: k->max_customer_id_len = UINT32_MAX; break;
		case 41: k->max_measures = UINT32_MAX; break;
		case 42: k->customer_policy = 2; break;
		case 43: k->customer_policy = UINT32_MAX; break;
		case 44: k->allocator = (cxm_allocator){fail_alloc, noop_free, NULL}; break;
		case 45: k->max_triggers = 65537; break;
		case 46: k->event_queue = UINT32_MAX; break;
		default: k->reserved[tweak - 50] = 1; break;
		}
		cxm_context *ctx = (cxm_context *)&big; /* any non-NULL value: must stay */
		msg_elsewhere();
		cxm_status got = cxm_context_new(&ctx, k);
		if (got != want)
			fail_msg("%s: got %s, want %s (%s)", what, cxm_strerror(got), cxm_strerror(want),
				 cxm_errmsg(NULL));
		assert_ptr_equal(ctx, (cxm_context *)&big); /* out untouched */
		if (cxm_errmsg(NULL)[0] == '\0')
			fail_msg("%s: no message", what);
	}
	/* fine: a zero-tailed newer config, NULL for all defaults, edges */
	cxm_context *ctx = NULL;
	memset(&big, 0, sizeof big);
	big.s.size = sizeof big;
	assert_int_equal(cxm_context_new(&ctx, &big.s), CXM_OK);
	cxm_context_free(ctx);
	assert_int_equal(cxm_context_new(&ctx, NULL), CXM_OK);
	cxm_context_free(ctx);
	cxm_config k;
	cxm_config_init(&k, sizeof k);
	k.confidence = 0.999999;
	k.shards = 64;
	k.n_tiers = 4;
	k.tiers[0] = (cxm_tier){1000, 2, 0};
	k.tiers[1] = (cxm_tier){2000, 3, 0};
	k.tiers[2] = (cxm_tier){4000, 100000, 0};
	k.tiers[3] = (cxm_tier){8000, 50002, 0};
	k.customer_policy = CXM_CUSTOMERS_REFUSE;
	assert_int_equal(cxm_context_new(&ctx, &k), CXM_OK);
	cxm_context_free(ctx);
	cxm_context_free(NULL);
}

int main(void)
{
	g_other = NULL;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = test_clock_fn;
	cfg.clock_opaque = &g_other_clk;
	if (cxm_context_new(&g_other, &cfg) != CXM_OK)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strerror_names_every_code),
		cmocka_unit_test_setup_teardown(null_pointers, setup, teardown),
		cmocka_unit_test(init_functions),
		cmocka_unit_test_setup_teardown(input_struct_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(output_struct_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(reserved_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(enums, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_values, setup, teardown),
		cmocka_unit_test_setup_teardown(feed_interactions, setup, teardown),
		cmocka_unit_test_setup_teardown(lateness_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_reports_each_rejection, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_newer_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(names, setup, teardown),
		cmocka_unit_test_setup_teardown(definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(lookups, setup, teardown),
		cmocka_unit_test_setup_teardown(metric_definitions, setup, teardown),
		cmocka_unit_test_setup_teardown(queries, setup, teardown),
		cmocka_unit_test_setup_teardown(customers, setup, teardown),
		cmocka_unit_test(limits),
		cmocka_unit_test(series_limit),
		cmocka_unit_test(customer_limit),
		cmocka_unit_test(documented_defaults),
		cmocka_unit_test_setup_teardown(exact_numbers_in_messages, setup, teardown),
		cmocka_unit_test(configs),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	cxm_context_free(g_other);
	return rc;
}
