/* Out of memory is an error, not a crash: fail the 1st, 2nd, ... Nth
 * allocation of each operation until it completes. Every failure returns
 * CXM_ERR_NO_MEMORY, changes nothing a caller can see ("nothing was
 * changed", says the header), and leaks nothing. */
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---- the allocator hook ---------------------------------------------------------- */

typedef struct hook {
	long fail_at; /* the allocation that fails, counting from 1; 0: none */
	long count;   /* allocations asked for since the last arm() */
	long live;    /* blocks handed out and not yet freed */
	size_t live_bytes;
	long bad_frees;
} hook;

#define MAGIC_LIVE UINT64_C(0x6c696263786d4c56)
#define MAGIC_DEAD UINT64_C(0x6465616462656566)

/* A header before each block: its size, and a mark that catches frees of
 * pointers alloc never gave (or gave and took back). 16 bytes keep the
 * block aligned as malloc's. */
typedef struct header {
	size_t size;
	uint64_t magic;
} header;

static void *h_alloc(void *opaque, size_t n)
{
	hook *h = opaque;
	h->count++;
	if (h->fail_at && h->count == h->fail_at)
		return NULL;
	header *p = malloc(sizeof(header) + n);
	if (!p)
		return NULL;
	p->size = n;
	p->magic = MAGIC_LIVE;
	h->live++;
	h->live_bytes += n;
	return p + 1;
}

static void h_free(void *opaque, void *ptr)
{
	hook *h = opaque;
	if (!ptr) {
		h->bad_frees++; /* the header promises free never receives NULL */
		return;
	}
	header *p = (header *)ptr - 1;
	if (p->magic != MAGIC_LIVE) {
		h->bad_frees++;
		return;
	}
	p->magic = MAGIC_DEAD;
	h->live--;
	h->live_bytes -= p->size;
	free(p);
}

static void arm(hook *h, long n)
{
	h->count = 0;
	h->fail_at = n;
}

static cxm_config hooked(hook *h, test_clock *clk)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.allocator = (cxm_allocator){h_alloc, h_free, h};
	cfg.clock = test_clock_fn;
	cfg.clock_opaque = clk;
	cfg.max_touchpoints = 16;
	cfg.max_segment_values = 6; /* exactly what the segments below take */
	cfg.shards = 2;
	/* short rings: every iteration allocates whole series, and the suite
	 * also runs under valgrind */
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 120, 0};
	cfg.tiers[1] = (cxm_tier){3600000, 48, 0};
	cfg.tiers[2] = (cxm_tier){86400000, 10, 0};
	return cfg;
}

/* ---- context creation -------------------------------------------------------------- */

static void context_new(void **state)
{
	(void)state;
	hook h = {0};
	test_clock clk = {T0};
	cxm_config cfg = hooked(&h, &clk);
	long n;
	for (n = 1;; n++) {
		arm(&h, n);
		cxm_context *ctx = (cxm_context *)&h; /* must stay as it was */
		cxm_status st = cxm_context_new(&ctx, &cfg);
		h.fail_at = 0;
		if (st == CXM_OK) {
			assert_true(ctx != (cxm_context *)&h);
			cxm_stats s = {.size = sizeof s};
			assert_int_equal(cxm_stats_get(&s, ctx), CXM_OK);
			assert_int_equal(s.memory_bytes, h.live_bytes);
			cxm_context_free(ctx);
			break;
		}
		if (st != CXM_ERR_NO_MEMORY)
			fail_msg("allocation %ld failed: got %s (%s)", n, cxm_strerror(st), cxm_errmsg(NULL));
		assert_true(cxm_errmsg(NULL)[0] != '\0');
		assert_ptr_equal(ctx, (cxm_context *)&h);
		if (h.live || h.live_bytes)
			fail_msg("allocation %ld failed: %ld blocks (%zu bytes) leaked", n, h.live, h.live_bytes);
	}
	assert_true(n > 3); /* the context, its shards, their rows, the model... */
	assert_int_equal(h.live, 0);
	assert_int_equal(h.live_bytes, 0);
	assert_int_equal(h.bad_frees, 0);
}

/* ---- running an operation to completion -------------------------------------------- */

typedef cxm_status (*op_fn)(cxm_context *ctx, void *arg);

/* What a caller can see of a context. */
typedef struct view {
	cxm_stats st;
	uint32_t counts[4], values[2];
	cxm_status found[4];
	cxm_result r[3];
	cxm_status seen;
	int64_t seen_ms;
} view;

typedef struct world {
	hook h;
	test_clock clk;
	cxm_context *ctx;
	const char *names[4]; /* per cxm_object: a name that must appear only on success */
	cxm_query probe[3];
	int n_probe;
	const char *customer;
} world;

static view look(world *w)
{
	view v;
	memset(&v, 0, sizeof v);
	long saved = w->h.fail_at;
	w->h.fail_at = 0;
	for (int k = 0; k < 4; k++) {
		assert_int_equal(cxm_count(&v.counts[k], w->ctx, (cxm_object)(k + 1)), CXM_OK);
		cxm_id id;
		v.found[k] = w->names[k] ? cxm_find(&id, w->ctx, (cxm_object)(k + 1), w->names[k])
					 : CXM_ERR_UNKNOWN_ID;
	}
	for (uint32_t g = 0; g < v.counts[3] && g < 2; g++)
		assert_int_equal(cxm_segment_values(&v.values[g], w->ctx, g), CXM_OK);
	for (int i = 0; i < w->n_probe; i++) {
		v.r[i].size = sizeof v.r[i];
		cxm_status st = cxm_query_run(&v.r[i], w->ctx, &w->probe[i]);
		if (st)
			fail_msg("probe %d: %s (%s)", i, cxm_strerror(st), cxm_errmsg(w->ctx));
	}
	/* after the probes: a probe may make the query cache of an hour it
	 * reads (cxm_stats::query_cache_bytes), which memory_bytes counts */
	v.st.size = sizeof v.st;
	assert_int_equal(cxm_stats_get(&v.st, w->ctx), CXM_OK);
	v.seen_ms = -7;
	v.seen = w->customer ? cxm_customer_last_seen(&v.seen_ms, w->ctx, w->customer, strlen(w->customer))
			     : CXM_ERR_UNKNOWN_ID;
	w->h.fail_at = saved;
	return v;
}

#define SAME(what, a, b)                                                                       \
	do {                                                                                   \
		if ((uint64_t)(a) != (uint64_t)(b))                                            \
			fail_msg("%s, allocation %ld failed: %s went from %llu to %llu", name, n,  \
				 what, (unsigned long long)(a), (unsigned long long)(b));      \
	} while (0)

/* Unchanged by a failure, except the count of feeds rejected for want of
 * memory (rej: 1 for a feed). With strict_memory, memory_bytes too. */
static void unchanged(const char *name, long n, const view *a, const view *b, int rej, bool strict_memory)
{
	SAME("accepted", a->st.accepted, b->st.accepted);
	SAME("series", a->st.series, b->st.series);
	SAME("series_bytes", a->st.series_bytes, b->st.series_bytes);
	SAME("watermark_ms", a->st.watermark_ms, b->st.watermark_ms);
	SAME("customers", a->st.customers, b->st.customers);
	SAME("customer_bytes", a->st.customer_bytes, b->st.customer_bytes);
	SAME("rejected[NO_MEMORY]", a->st.rejected[CXM_ERR_NO_MEMORY] + rej, b->st.rejected[CXM_ERR_NO_MEMORY]);
	SAME("rejected_total", a->st.rejected_total + rej, b->st.rejected_total);
	for (int k = 0; k < 4; k++) {
		SAME("a definition count", a->counts[k], b->counts[k]);
		SAME("a name look-up", a->found[k], b->found[k]);
	}
	for (int g = 0; g < 2; g++)
		SAME("a segment's values", a->values[g], b->values[g]);
	for (int i = 0; i < 3; i++)
		if (memcmp(&a->r[i], &b->r[i], sizeof a->r[i]) != 0)
			fail_msg("%s, allocation %ld failed: probe query %d changed (n %llu -> %llu)", name,
				 n, i, (unsigned long long)a->r[i].n, (unsigned long long)b->r[i].n);
	SAME("the customer's last_seen status", a->seen, b->seen);
	SAME("the customer's last_seen", a->seen_ms, b->seen_ms);
	if (strict_memory)
		SAME("memory_bytes", a->st.memory_bytes, b->st.memory_bytes);
}

/* Run op with the Nth allocation failing, for N = 1, 2, ... until it
 * succeeds; returns that N. rej: a failure counts as a rejected feed. */
static long fail_until_done(world *w, const char *name, op_fn op, void *arg, int rej, bool strict_memory)
{
	for (long n = 1;; n++) {
		view before = look(w);
		SAME("the allocator's live bytes vs memory_bytes", w->h.live_bytes, before.st.memory_bytes);
		arm(&w->h, n);
		cxm_status st = op(w->ctx, arg);
		long asked = w->h.count;
		w->h.fail_at = 0;
		view after = look(w);
		SAME("the allocator's live bytes vs memory_bytes", w->h.live_bytes, after.st.memory_bytes);
		SAME("frees of foreign pointers", 0, w->h.bad_frees);
		if (st == CXM_OK) {
			/* only packing a bucket, or a customer's signal
			 * state, may fail without failing the call, and
			 * each says so */
			if (asked >= n && after.st.unpacked_buckets == before.st.unpacked_buckets &&
			    after.st.signals_unjudged == before.st.signals_unjudged)
				fail_msg("%s: allocation %ld failed, yet the call succeeded", name, n);
			return n;
		}
		if (st != CXM_ERR_NO_MEMORY)
			fail_msg("%s, allocation %ld failed: got %s (%s)", name, n, cxm_strerror(st),
				 cxm_errmsg(w->ctx));
		if (asked < n)
			fail_msg("%s: NO_MEMORY with only %ld allocations asked for", name, asked);
		if (cxm_errmsg(w->ctx)[0] == '\0')
			fail_msg("%s, allocation %ld failed: no message", name, n);
		unchanged(name, n, &before, &after, rej, strict_memory);
		if (n > 10000)
			fail_msg("%s never completes", name);
	}
}

static void world_new(world *w)
{
	memset(w, 0, sizeof *w);
	w->clk.now = T0;
	cxm_config cfg = hooked(&w->h, &w->clk);
	assert_int_equal(cxm_context_new(&w->ctx, &cfg), CXM_OK);
}

static void world_free(world *w)
{
	cxm_context_free(w->ctx);
	w->ctx = NULL;
	if (w->h.live || w->h.live_bytes)
		fail_msg("%ld blocks (%zu bytes) leaked", w->h.live, w->h.live_bytes);
	assert_int_equal(w->h.bad_frees, 0);
}

/* ---- definitions ------------------------------------------------------------------- */

typedef struct ids {
	cxm_id j, tp, call, dur, nps, vol, dist, tier, region;
	uint32_t gold, north;
} ids;

static cxm_status op_journey(cxm_context *ctx, void *arg)
{
	const char *steps[] = {"browse", "cart", "checkout"};
	return cxm_journey_define(&((ids *)arg)->j, ctx, "buy", steps, 3);
}
static cxm_status op_touchpoint(cxm_context *ctx, void *arg)
{
	return cxm_touchpoint_define(&((ids *)arg)->tp, ctx, "checkout page", CXM_CHANNEL_WEB, 0, 2);
}
static cxm_status op_touchpoint2(cxm_context *ctx, void *arg)
{
	return cxm_touchpoint_define(&((ids *)arg)->call, ctx, "call", CXM_CHANNEL_PHONE, 0, 1);
}
static cxm_status define(cxm_context *ctx, cxm_id *out, const char *name, cxm_preset p, double rel)
{
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, p);
	if (rel > 0)
		d.relative_error = rel;
	return cxm_metric_define(out, ctx, name, &d);
}
static cxm_status op_duration(cxm_context *ctx, void *arg)
{
	/* 0.001: a cell far bigger than a query's stack accumulator */
	return define(ctx, &((ids *)arg)->dur, "time on page", CXM_PRESET_DURATION, 0.001);
}
static cxm_status op_nps(cxm_context *ctx, void *arg)
{
	return define(ctx, &((ids *)arg)->nps, "nps", CXM_PRESET_NPS, 0);
}
static cxm_status op_volume(cxm_context *ctx, void *arg)
{
	return define(ctx, &((ids *)arg)->vol, "visits", CXM_PRESET_VOLUME, 0);
}
static cxm_status op_distinct(cxm_context *ctx, void *arg)
{
	return define(ctx, &((ids *)arg)->dist, "visitors", CXM_PRESET_DISTINCT, 0);
}
static cxm_status op_tier(cxm_context *ctx, void *arg)
{
	return cxm_segment_define(&((ids *)arg)->tier, ctx, "tier", 4);
}
static cxm_status op_region(cxm_context *ctx, void *arg)
{
	return cxm_segment_define(&((ids *)arg)->region, ctx, "region", 2);
}
static cxm_status op_gold(cxm_context *ctx, void *arg)
{
	return cxm_segment_value(&((ids *)arg)->gold, ctx, ((ids *)arg)->tier, "gold");
}
static cxm_status op_north(cxm_context *ctx, void *arg)
{
	return cxm_segment_value(&((ids *)arg)->north, ctx, ((ids *)arg)->region, "north");
}

/* Each definition, failed at every allocation in turn: ids stay dense (a
 * failure takes no id, no name, no segment value slot). */
static void define_all(world *w, ids *x)
{
	struct {
		const char *name;
		op_fn op;
		cxm_object kind;
		const char *defines;
		cxm_id *id;
		cxm_id want;
	} o[] = {
		{"cxm_journey_define", op_journey, CXM_OBJECT_JOURNEY, "buy", &x->j, 0},
		{"cxm_touchpoint_define", op_touchpoint, CXM_OBJECT_TOUCHPOINT, "checkout page", &x->tp, 0},
		{"cxm_touchpoint_define (2)", op_touchpoint2, CXM_OBJECT_TOUCHPOINT, "call", &x->call, 1},
		{"cxm_metric_define DURATION", op_duration, CXM_OBJECT_METRIC, "time on page", &x->dur, 0},
		{"cxm_metric_define NPS", op_nps, CXM_OBJECT_METRIC, "nps", &x->nps, 1},
		{"cxm_metric_define VOLUME", op_volume, CXM_OBJECT_METRIC, "visits", &x->vol, 2},
		{"cxm_metric_define DISTINCT", op_distinct, CXM_OBJECT_METRIC, "visitors", &x->dist, 3},
		{"cxm_segment_define", op_tier, CXM_OBJECT_SEGMENT, "tier", &x->tier, 0},
		{"cxm_segment_define (2)", op_region, CXM_OBJECT_SEGMENT, "region", &x->region, 1},
	};
	for (size_t i = 0; i < sizeof o / sizeof o[0]; i++) {
		w->names[o[i].kind - 1] = o[i].defines;
		*o[i].id = 999;
		long n = fail_until_done(w, o[i].name, o[i].op, x, 0, true);
		if (n < 2)
			fail_msg("%s allocated nothing", o[i].name);
		assert_int_equal(*o[i].id, o[i].want);
	}
	/* the DURATION's sketch is far bigger than 5 KiB */
	size_t sb;
	assert_int_equal(cxm_series_bytes(&sb, w->ctx, x->dur), CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_get(&d, w->ctx, x->dur), CXM_OK);
	assert_true(d.relative_error == 0.001);
	x->gold = x->north = 999;
	assert_true(fail_until_done(w, "cxm_segment_value", op_gold, x, 0, true) > 1);
	assert_int_equal(x->gold, 0);
	assert_true(fail_until_done(w, "cxm_segment_value (2)", op_north, x, 0, true) > 1);
	assert_int_equal(x->north, 0);
	uint32_t v;
	assert_int_equal(cxm_segment_value(&v, w->ctx, x->tier, "gold"), CXM_OK); /* found, not added */
	assert_int_equal(v, 0);
	assert_int_equal(cxm_segment_values(&v, w->ctx, x->tier), CXM_OK);
	assert_int_equal(v, 1);
}

static void definitions(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	world_free(&w);
}

/* ---- feeding ------------------------------------------------------------------------- */

typedef struct feed_arg {
	ids *x;
	cxm_id tp;
	int64_t t;
	const char *customer;
} feed_arg;

static cxm_status op_feed(cxm_context *ctx, void *arg)
{
	feed_arg *a = arg;
	cxm_measure m[2] = {{a->x->dur, 0, 12.5}, {a->x->nps, 0, 9}};
	uint32_t segs[2] = {a->x->gold, a->x->north};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = a->t;
	ix.touchpoint = a->tp;
	ix.segments = segs;
	ix.n_segments = 2;
	ix.measures = m;
	ix.n_measures = 2;
	ix.customer = a->customer;
	ix.customer_len = strlen(a->customer);
	return cxm_feed(ctx, &ix);
}

static void probes(world *w, const ids *x)
{
	cxm_query q = CXM_QUERY_INIT;
	q.span_ms = DAY;
	q.metric = x->nps;
	q.scope = CXM_SCOPE_ALL;
	w->probe[0] = q;
	q.metric = x->vol;
	q.segment = x->tier;
	q.segment_value = x->gold;
	w->probe[1] = q;
	q.metric = x->dist;
	q.segment = CXM_NONE;
	w->probe[2] = q;
	w->n_probe = 3;
}

/* The first interaction: row, group and series of each of four metrics in
 * three slots (overall, tier, region), then the customer table. */
static void first_feed(bool strict_memory)
{
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	probes(&w, &x);
	w.customer = "customer-1";
	feed_arg fa = {&x, x.tp, T0 - 1000, "customer-1"};
	long n = fail_until_done(&w, "cxm_feed", op_feed, &fa, 1, strict_memory);
	assert_true(n > 12 + 1); /* 12 series, the customer table, and their index */
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, w.ctx), CXM_OK);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.series, 12);
	assert_int_equal(st.customers, 1);
	cxm_result r = {.size = sizeof r};
	assert_int_equal(cxm_query_run(&r, w.ctx, &w.probe[1]), CXM_OK);
	assert_int_equal(r.n, 1);
	/* the other shard: its own rows, groups and series */
	fa.tp = x.call;
	fa.customer = "customer-2";
	assert_true(fail_until_done(&w, "cxm_feed (2)", op_feed, &fa, 1, strict_memory) > 12);
	assert_int_equal(cxm_stats_get(&st, w.ctx), CXM_OK);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.series, 24);
	assert_int_equal(st.customers, 2);
	world_free(&w);
}

/* A trigger's first definition allocates its rules and queue; a feed
 * that matches it and fails for want of memory queues nothing. */
typedef struct trig_arg {
	ids *x;
	cxm_id id;
} trig_arg;

static cxm_status op_trigger(cxm_context *ctx, void *arg)
{
	trig_arg *a = arg;
	cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
	d.metric = a->x->nps;
	d.op = CXM_CMP_GE;
	d.threshold = 9;
	d.scope = CXM_SCOPE_TOUCHPOINT;
	d.id = a->x->tp;
	return cxm_trigger_define(&a->id, ctx, &d);
}

static void triggers(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	trig_arg ta = {&x, 999};
	assert_true(fail_until_done(&w, "cxm_trigger_define", op_trigger, &ta, 0, true) > 1);
	assert_int_equal(ta.id, 0);
	assert_true(fail_until_done(&w, "cxm_trigger_define (2)", op_trigger, &ta, 0, true) == 1);
	assert_int_equal(ta.id, 1);
	w.customer = "customer-1";
	feed_arg fa = {&x, x.tp, T0 - 1000, "customer-1"};
	assert_true(fail_until_done(&w, "cxm_feed (triggers)", op_feed, &fa, 1, true) > 12);
	cxm_event ev[4];
	ev[0].size = sizeof ev[0];
	size_t n = 0;
	assert_int_equal(cxm_events_poll(ev, 4, &n, w.ctx), CXM_OK);
	assert_int_equal(n, 2); /* one feed, each rule once */
	assert_int_equal(ev[0].seq, 0);
	assert_int_equal(ev[1].seq, 1);
	assert_double_equal(ev[0].value, 9, 0);
	world_free(&w);
}

/* The governor: its module and a survey's name on the first definition,
 * a customer's entry, records and stripe table on the first record. */
typedef struct gov_arg {
	cxm_id survey;
	const char *who;
	int64_t t;
} gov_arg;

static cxm_status op_survey(cxm_context *ctx, void *arg)
{
	cxm_survey_def d = CXM_SURVEY_DEF_INIT;
	d.min_since_invite_ms = 86400000;
	return cxm_survey_define(&((gov_arg *)arg)->survey, ctx, "post-call", &d);
}

static cxm_status op_record(cxm_context *ctx, void *arg)
{
	gov_arg *a = arg;
	return cxm_survey_record(ctx, a->survey, a->who, strlen(a->who), CXM_SURVEY_INVITED, a->t);
}

static void governor(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	gov_arg ga = {999, "customer-9", T0};
	assert_true(fail_until_done(&w, "cxm_survey_define", op_survey, &ga, 0, true) > 1);
	assert_int_equal(ga.survey, 0);
	assert_true(fail_until_done(&w, "cxm_survey_record", op_record, &ga, 0, true) > 1);
	/* two more records of the same customer: its store doubles */
	ga.t += 1000;
	fail_until_done(&w, "cxm_survey_record (2)", op_record, &ga, 0, true);
	ga.t += 1000;
	assert_true(fail_until_done(&w, "cxm_survey_record (3)", op_record, &ga, 0, true) > 1);
	cxm_ask a;
	assert_int_equal(cxm_survey_should_ask(&a, NULL, w.ctx, 0, "customer-9", 10, x.tp, T0 + 5000),
			 CXM_OK);
	assert_int_equal(a, CXM_SKIP_SURVEY_INVITED);
	world_free(&w);
}

/* An alert: its module, the event queue its transitions go on, its name;
 * nothing is left of a definition that failed. */
static cxm_status op_alert(cxm_context *ctx, void *arg)
{
	ids *x = arg;
	cxm_alert_def d = CXM_ALERT_DEF_INIT;
	d.query.metric = x->nps;
	d.query.span_ms = 3600000;
	d.op = CXM_CMP_LT;
	cxm_id id;
	return cxm_alert_define(&id, ctx, "nps below 0", &d);
}

static void alerts(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	assert_true(fail_until_done(&w, "cxm_alert_define", op_alert, &x, 0, true) > 3);
	size_t changed;
	assert_int_equal(cxm_alerts_evaluate(&changed, w.ctx, T0), CXM_OK);
	world_free(&w);
}

/* A baseline: its table and its name; nothing is left of a definition
 * that failed, and the comparisons it answers allocate nothing lasting. */
static cxm_status op_baseline(cxm_context *ctx, void *arg)
{
	(void)arg;
	cxm_baseline_def d = {.size = sizeof d, .kind = CXM_BASELINE_OFFSET, .offset_ms = 604800000};
	cxm_id id;
	return cxm_baseline_define(&id, ctx, "last week", &d);
}

static void baselines(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	assert_true(fail_until_done(&w, "cxm_baseline_define", op_baseline, &x, 0, true) > 2);
	cxm_id id;
	assert_int_equal(cxm_baseline_find(&id, w.ctx, "last week"), CXM_OK);
	world_free(&w);
}

/* A driver set (its table, its name, its mutexes); a customer's record on
 * its first driver value, which, failing, leaves the feed accepted and
 * counted as unremembered; the analysis's buffers. */
static cxm_status op_drivers(cxm_context *ctx, void *arg)
{
	ids *x = arg;
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	d.outcome = x->dur;
	d.driver = x->nps;
	d.touchpoints = &x->tp;
	d.n_touchpoints = 1;
	d.flags = CXM_DRIVERS_OVERALL;
	cxm_id id;
	return cxm_drivers_define(&id, ctx, "nps drives handle time", &d);
}

static cxm_status op_drivers_run(cxm_context *ctx, void *arg)
{
	(void)arg;
	cxm_drivers_result res = {.size = sizeof res};
	cxm_driver o[2] = {{.size = sizeof o[0]}};
	return cxm_drivers_run(&res, o, 2, ctx, 0);
}

static cxm_drivers_result drivers_now(world *w)
{
	long saved = w->h.fail_at;
	w->h.fail_at = 0;
	cxm_drivers_result res = {.size = sizeof res};
	assert_int_equal(cxm_drivers_run(&res, NULL, 0, w->ctx, 0), CXM_ERR_LIMIT);
	w->h.fail_at = saved;
	return res;
}

static void drivers(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	assert_true(fail_until_done(&w, "cxm_drivers_define", op_drivers, &x, 0, true) > 2);
	/* the first feed: refused whole (NO_MEMORY), or accepted with the
	 * customer's driver record made or counted unremembered */
	feed_arg fa = {&x, x.tp, T0 - 3000, "customer-1"};
	bool lost = false;
	for (long n = 1;; n++) {
		cxm_drivers_result a = drivers_now(&w);
		arm(&w.h, n);
		cxm_status st = op_feed(w.ctx, &fa);
		long asked = w.h.count;
		w.h.fail_at = 0;
		cxm_drivers_result b = drivers_now(&w);
		if (st == CXM_ERR_NO_MEMORY) {
			assert_true(a.outcomes == b.outcomes && a.customers == b.customers &&
				    a.unremembered == b.unremembered);
			continue;
		}
		assert_int_equal(st, CXM_OK);
		assert_int_equal(b.outcomes, a.outcomes + 1);
		if (asked < n) { /* no allocation failed: the record is made */
			assert_int_equal(b.customers, 1);
			break;
		}
		/* the allocation that failed was the record's */
		assert_int_equal(b.customers, a.customers);
		assert_int_equal(b.unremembered, a.unremembered + 1);
		lost = true;
		fa.t += 1000;
	}
	assert_true(lost);
	assert_true(fail_until_done(&w, "cxm_drivers_run", op_drivers_run, &x, 0, true) > 1);
	world_free(&w);
}

/* A signal: its module and the event queue on the first definition; a
 * customer's signal state on its first repeat contact, which, failing,
 * leaves the feed accepted and counted in signals_unjudged. */
static cxm_status op_signal(cxm_context *ctx, void *arg)
{
	ids *x = arg;
	cxm_signal_def d = CXM_SIGNAL_DEF_INIT;
	d.kind = CXM_SIGNAL_REPEAT;
	d.journey = x->j;
	d.count = 2;
	d.window_ms = 3600000;
	cxm_id id;
	return cxm_signal_define(&id, ctx, &d);
}

static void signals(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	assert_true(fail_until_done(&w, "cxm_signal_define", op_signal, &x, 0, true) > 1);
	cxm_id home;
	assert_int_equal(cxm_touchpoint_define(&home, w.ctx, "home", CXM_CHANNEL_WEB, x.j, 0), CXM_OK);
	feed_arg fa = {&x, home, T0 - 3000, "customer-1"};
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK); /* enters: the journey's OOM is its own test */
	fa.t += 1000;
	assert_int_equal(fail_until_done(&w, "cxm_feed (repeats)", op_feed, &fa, 1, true), 1);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, w.ctx), CXM_OK);
	assert_int_equal(st.signals_unjudged, 1);
	cxm_event ev[2];
	ev[0].size = sizeof ev[0];
	size_t n = 9;
	assert_int_equal(cxm_events_poll(ev, 2, &n, w.ctx), CXM_OK);
	assert_int_equal(n, 0);
	/* with memory, the next contact is judged: two within the hour */
	fa.t += 1000;
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	assert_int_equal(cxm_events_poll(ev, 2, &n, w.ctx), CXM_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].kind, CXM_EVENT_SIGNAL);
	world_free(&w);
}

/* Counts, series, customers, results and the allocator's books. */
static void feed_new_series(void **state)
{
	(void)state;
	first_feed(false);
}

/* And memory_bytes: "nothing was changed". */
static void feed_new_series_nothing_changed(void **state)
{
	(void)state;
	first_feed(true);
}

/* Once its series exist, a feed in the bucket the series is in allocates
 * nothing; one that starts a newer bucket may take a page of its ring,
 * and failing that is NO_MEMORY with nothing changed. No bucket is lost
 * on the way, rolled up into coarser tiers included. */
static void feed_pages(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	probes(&w, &x);
	feed_arg fa = {&x, x.tp, T0 - 1000, "customer-1"};
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	arm(&w.h, 1);
	fa.t = T0 - 500; /* the same finest bucket */
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	assert_int_equal(w.h.count, 0);
	w.h.fail_at = 0;
	w.customer = "customer-1";
	fa.t = T0;
	assert_true(fail_until_done(&w, "cxm_feed (next bucket)", op_feed, &fa, 1, true) > 1);
	fa.customer = "customer-2"; /* a new customer: the table exists */
	w.customer = "customer-2";
	fa.t = T0 + MIN;
	fail_until_done(&w, "cxm_feed (a minute on)", op_feed, &fa, 1, true);
	fa.t = T0 + 3 * HOUR; /* buckets roll up into coarser tiers */
	w.clk.now = fa.t;
	fail_until_done(&w, "cxm_feed (three hours on)", op_feed, &fa, 1, true);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, w.ctx), CXM_OK);
	assert_int_equal(st.lost_buckets, 0);
	assert_int_equal(st.accepted, 5);
	world_free(&w);
}

/* In a batch, an interaction that cannot get its series is rejected with
 * NO_MEMORY and the others still go through. */
typedef struct batch_arg {
	ids *x;
	size_t accepted, n_rejected;
	cxm_rejection rej[3];
} batch_arg;

static cxm_status op_batch(cxm_context *ctx, void *arg)
{
	batch_arg *b = arg;
	cxm_measure m = {b->x->nps, 0, 9};
	cxm_interaction ix[3];
	for (int i = 0; i < 3; i++) {
		cxm_interaction_init(&ix[i], sizeof ix[i]);
		ix[i].time_ms = T0;
		ix[i].touchpoint = i == 1 ? b->x->call : b->x->tp;
		ix[i].measures = &m;
		ix[i].n_measures = 1;
	}
	memset(b->rej, 0, sizeof b->rej);
	return cxm_feed_batch(&b->accepted, ctx, ix, 3, b->rej, 3, &b->n_rejected);
}

/* History in any order: the order and the chunk copy are the call's own
 * allocations; without them nothing is fed, and nothing is left. */
static void history(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	cxm_measure m = {x.nps, 0, 9};
	cxm_interaction ix[3];
	for (int i = 0; i < 3; i++) {
		cxm_interaction_init(&ix[i], sizeof ix[i]);
		ix[i].time_ms = T0 - 1000 * (3 - i) * (i == 1 ? -1 : 1); /* out of order */
		ix[i].touchpoint = x.tp;
		ix[i].measures = &m;
		ix[i].n_measures = 1;
	}
	for (long n = 1;; n++) {
		cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
		assert_int_equal(cxm_stats_get(&s0, w.ctx), CXM_OK);
		arm(&w.h, n);
		size_t acc = 0, nr = 0;
		cxm_rejection rej[3];
		cxm_status st = cxm_feed_history(&acc, w.ctx, ix, 3, rej, 3, &nr);
		w.h.fail_at = 0;
		assert_int_equal(cxm_stats_get(&s1, w.ctx), CXM_OK);
		assert_int_equal(s1.memory_bytes, w.h.live_bytes);
		if (st == CXM_OK) {
			assert_int_equal(acc, 3);
			assert_true(n > 2); /* the order and the chunk came first */
			break;
		}
		if (st == CXM_ERR_NO_MEMORY) {
			assert_int_equal(s1.accepted, s0.accepted); /* nothing fed */
		} else {
			assert_int_equal(st, CXM_ERR_REJECTED);
			for (size_t r = 0; r < nr && r < 3; r++)
				assert_int_equal(rej[r].status, CXM_ERR_NO_MEMORY);
		}
		assert_true(n < 1000);
	}
	world_free(&w);
}

static void batch(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	/* tp's series exist, with a hot and a warm bucket (the minutes before
	 * T0's), so that T0's puts the warm one in a page of its ring; call's
	 * series do not exist */
	feed_arg fa = {&x, x.tp, T0 - 61000, "customer-1"};
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	fa.t = T0 - 1000;
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	batch_arg b = {&x, 0, 0, {{0, 0}}};
	int rejected_tp = 0;
	cxm_stats start = {.size = sizeof start};
	assert_int_equal(cxm_stats_get(&start, w.ctx), CXM_OK);
	for (long n = 1;; n++) {
		cxm_stats s0 = {.size = sizeof s0}, s1 = {.size = sizeof s1};
		assert_int_equal(cxm_stats_get(&s0, w.ctx), CXM_OK);
		arm(&w.h, n);
		cxm_status st = op_batch(w.ctx, &b);
		w.h.fail_at = 0;
		assert_int_equal(cxm_stats_get(&s1, w.ctx), CXM_OK);
		assert_int_equal(s1.memory_bytes, w.h.live_bytes);
		if (st == CXM_OK) {
			assert_int_equal(b.accepted, 3);
			assert_int_equal(s1.accepted, s0.accepted + 3);
			assert_int_equal(s1.series, start.series + 2); /* nps and visits on call */
			break;
		}
		/* interaction 1 (new series) or the first on tp's series to
		 * start a newer bucket (a page of its ring) */
		assert_int_equal(st, CXM_ERR_REJECTED);
		assert_int_equal(b.accepted, 2);
		assert_int_equal(b.n_rejected, 1);
		assert_true(b.rej[0].index == 0 || b.rej[0].index == 1);
		assert_int_equal(b.rej[0].status, CXM_ERR_NO_MEMORY);
		assert_int_equal(s1.accepted, s0.accepted + 2);
		if (b.rej[0].index == 1) {
			assert_int_equal(s1.series, s0.series);
		} else {
			assert_int_equal(s1.series, s0.series + 2);
			rejected_tp++;
		}
		assert_int_equal(s1.rejected[CXM_ERR_NO_MEMORY], s0.rejected[CXM_ERR_NO_MEMORY] + 1);
		assert_true(n < 100);
	}
	assert_true(rejected_tp > 0);
	world_free(&w);
}

/* ---- queries ------------------------------------------------------------------------- */

typedef struct query_arg {
	ids *x;
	cxm_result r;
	double qv[3];
	cxm_comparison c;
} query_arg;

static cxm_query dur_query(const ids *x)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = x->dur;
	q.scope = CXM_SCOPE_JOURNEY;
	q.id = x->j;
	q.span_ms = DAY;
	return q;
}

static cxm_status op_query(cxm_context *ctx, void *arg)
{
	query_arg *a = arg;
	cxm_query q = dur_query(a->x);
	memset(&a->r, 0x5a, sizeof a->r);
	a->r.size = sizeof a->r;
	cxm_result keep = a->r;
	cxm_status st = cxm_query_run(&a->r, ctx, &q);
	if (st == CXM_OK && (a->r.n != 2 || a->r.quantile_n != 2))
		fail_msg("the query saw %llu", (unsigned long long)a->r.n);
	if (st != CXM_OK && memcmp(&keep, &a->r, sizeof keep) != 0)
		fail_msg("the result was written on failure");
	return st;
}

static cxm_status op_quantiles(cxm_context *ctx, void *arg)
{
	query_arg *a = arg;
	cxm_query q = dur_query(a->x);
	const double qs[3] = {0, 0.5, 1};
	a->qv[0] = a->qv[1] = a->qv[2] = -1;
	cxm_status st = cxm_query_quantiles(a->qv, ctx, &q, qs, 3);
	if (st == CXM_OK && !(a->qv[1] > 12 && a->qv[1] < 13))
		fail_msg("median %g", a->qv[1]);
	if (st != CXM_OK && (a->qv[0] != -1 || a->qv[1] != -1 || a->qv[2] != -1))
		fail_msg("quantiles written on failure");
	return st;
}

static cxm_status op_compare(cxm_context *ctx, void *arg)
{
	query_arg *a = arg;
	cxm_query q = dur_query(a->x), p = q;
	p.end_ms = T0 - DAY;
	memset(&a->c, 0x5a, sizeof a->c);
	a->c.size = sizeof a->c;
	cxm_comparison keep = a->c;
	cxm_status st = cxm_query_compare(&a->c, ctx, &p, &q);
	if (st == CXM_OK && a->c.n_b != 2)
		fail_msg("compare saw %llu", (unsigned long long)a->c.n_b);
	if (st != CXM_OK && memcmp(&keep, &a->c, sizeof keep) != 0)
		fail_msg("the comparison was written on failure");
	return st;
}

static cxm_status op_distribution(cxm_context *ctx, void *arg)
{
	query_arg *a = arg;
	cxm_query q = dur_query(a->x);
	q.metric = a->x->nps;
	uint64_t d[11];
	size_t n;
	return cxm_query_distribution(d, 11, &n, ctx, &q, 0);
}

/* A DURATION's accumulator is too big for the stack: the query allocates it,
 * and failing that is NO_MEMORY with nothing written. */
static cxm_status op_trend(cxm_context *ctx, void *arg)
{
	query_arg *a = arg;
	cxm_query q = dur_query(a->x);
	cxm_trend t, keep;
	memset(&t, 0x5a, sizeof t);
	t.size = sizeof t;
	keep = t;
	cxm_forecast f[2];
	cxm_status st = cxm_query_trend(&t, f, 2, ctx, &q, 3600000);
	if (st == CXM_OK && t.windows == 0)
		fail_msg("the trend saw no window");
	if (st != CXM_OK && memcmp(&keep, &t, sizeof keep) != 0)
		fail_msg("the trend was written on failure");
	return st;
}

static void queries(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	probes(&w, &x);
	feed_arg fa = {&x, x.tp, T0 - 1000, "customer-1"};
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	fa.tp = x.call;
	assert_int_equal(op_feed(w.ctx, &fa), CXM_OK);
	query_arg qa = {.x = &x};
	assert_int_equal(fail_until_done(&w, "cxm_query_run", op_query, &qa, 0, true), 2);
	assert_int_equal(fail_until_done(&w, "cxm_query_quantiles", op_quantiles, &qa, 0, true), 2);
	assert_int_equal(fail_until_done(&w, "cxm_query_compare", op_compare, &qa, 0, true), 3);
	/* a SCORE's accumulator fits on the stack: nothing to fail */
	assert_int_equal(fail_until_done(&w, "cxm_query_distribution", op_distribution, &qa, 0, true), 1);
	/* the windows' results, then each window's duration accumulator */
	assert_true(fail_until_done(&w, "cxm_query_trend", op_trend, &qa, 0, true) >= 2);
	world_free(&w);
}

/* A journey's entries: each new cohort hour may grow a group's cohort
 * rows; a feed refused for want of memory leaves them as they were. */
static cxm_status op_entry(cxm_context *ctx, void *arg)
{
	feed_arg *a = arg;
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = a->t;
	ix.touchpoint = a->tp;
	ix.customer = a->customer;
	ix.customer_len = strlen(a->customer);
	return cxm_feed(ctx, &ix);
}

static void cohorts(void **state)
{
	(void)state;
	world w;
	world_new(&w);
	ids x;
	define_all(&w, &x);
	probes(&w, &x);
	cxm_id browse;
	assert_int_equal(cxm_touchpoint_define(&browse, w.ctx, "browse page", CXM_CHANNEL_WEB, x.j, 0), CXM_OK);
	/* the customer table first: a journey entry refused for want of
	 * memory as the table's first customer leaves the table made */
	feed_arg warm = {&x, x.call, T0 - 7 * HOUR, "warm-up"};
	assert_int_equal(op_entry(w.ctx, &warm), CXM_OK);
	char id[32];
	for (int c = 0; c < 6; c++) {
		snprintf(id, sizeof id, "entrant-%d", c);
		w.customer = id;
		feed_arg fa = {&x, browse, T0 - 6 * HOUR + c * HOUR, id};
		w.clk.now = fa.t;
		assert_true(fail_until_done(&w, "cxm_feed (a journey entry)", op_entry, &fa, 1, true) >= 1);
		fa.tp = x.tp; /* the goal, in the entry's cohort */
		fa.t += 30 * MIN;
		w.clk.now = fa.t;
		fail_until_done(&w, "cxm_feed (the goal)", op_entry, &fa, 1, true);
	}
	cxm_funnel f = {.size = sizeof f};
	cxm_funnel_step st[3] = {{.size = sizeof st[0]}};
	cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
	q.journey = x.j;
	q.end_ms = T0;
	q.span_ms = 8 * HOUR;
	assert_int_equal(cxm_funnel_cohort_run(&f, st, 3, w.ctx, &q), CXM_OK);
	assert_int_equal(f.entered, 6);
	assert_int_equal(f.completed, 6);
	cxm_stats s = {.size = sizeof s};
	assert_int_equal(cxm_stats_get(&s, w.ctx), CXM_OK);
	assert_int_equal(s.lost_buckets, 0);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(context_new),
		cmocka_unit_test(definitions),
		cmocka_unit_test(feed_new_series),
		cmocka_unit_test(feed_new_series_nothing_changed),
		cmocka_unit_test(feed_pages),
		cmocka_unit_test(batch),
		cmocka_unit_test(queries),
		cmocka_unit_test(triggers),
		cmocka_unit_test(governor),
		cmocka_unit_test(alerts),
		cmocka_unit_test(baselines),
		cmocka_unit_test(drivers),
		cmocka_unit_test(history),
		cmocka_unit_test(signals),
		cmocka_unit_test(cohorts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
