/* Out of memory is an error, not a crash: fail the 1st, 2nd, ... Nth
 * allocation of each operation until it completes. Every failure returns
 * CXM_ERR_NO_MEMORY, changes nothing a caller can see, and leaks nothing. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

typedef struct hook {
	long fail_at; /* the allocation that fails, counting from 1; 0: none */
	long count;
	long live;
	size_t live_bytes;
} hook;

typedef struct header {
	size_t size;
	size_t pad;
} header;

static void *h_alloc(void *opaque, size_t n)
{
	hook *h = opaque;
	if (h->fail_at && ++h->count == h->fail_at)
		return NULL;
	header *p = malloc(sizeof(header) + n);
	if (!p)
		return NULL;
	p->size = n;
	h->live++;
	h->live_bytes += n;
	return p + 1;
}

static void h_free(void *opaque, void *ptr)
{
	hook *h = opaque;
	header *p = (header *)ptr - 1;
	h->live--;
	h->live_bytes -= p->size;
	free(p);
}

static cxm_config hooked(hook *h, test_clock *clk)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.allocator = (cxm_allocator){h_alloc, h_free, h};
	cfg.clock = test_clock_fn;
	cfg.clock_opaque = clk;
	cfg.max_touchpoints = 16;
	cfg.shards = 2;
	return cfg;
}

static void context_new(void **state)
{
	(void)state;
	hook h = {0};
	test_clock clk = {T0};
	cxm_config cfg = hooked(&h, &clk);
	for (long n = 1;; n++) {
		h.fail_at = n;
		h.count = 0;
		cxm_context *ctx = NULL;
		cxm_status st = cxm_context_new(&ctx, &cfg);
		if (st == CXM_OK) {
			assert_true(n > 3);
			cxm_context_free(ctx);
			break;
		}
		assert_int_equal(st, CXM_ERR_NO_MEMORY);
		assert_null(ctx);
		assert_int_equal(h.live, 0);
		assert_int_equal(h.live_bytes, 0);
	}
	assert_int_equal(h.live, 0);
}

/* Run op with the Nth allocation failing, for N = 1, 2, ... until it
 * succeeds; check that failures leave what stats and counts show. */
typedef cxm_status (*op_fn)(cxm_context *ctx, void *arg);

static long fail_until_done(cxm_context *ctx, hook *h, op_fn op, void *arg)
{
	for (long n = 1;; n++) {
		cxm_stats a = {.size = sizeof a}, b = {.size = sizeof b};
		uint32_t ca[4], cb[4];
		h->fail_at = 0;
		assert_int_equal(cxm_stats_get(&a, ctx), CXM_OK);
		for (int k = 0; k < 4; k++)
			assert_int_equal(cxm_count(&ca[k], ctx, (cxm_object)(k + 1)), CXM_OK);
		long live = h->live;
		h->count = 0;
		h->fail_at = n;
		cxm_status st = op(ctx, arg);
		h->fail_at = 0;
		if (st == CXM_OK)
			return n;
		if (st != CXM_ERR_NO_MEMORY)
			fail_msg("allocation %ld failed: got %s (%s)", n, cxm_strerror(st), cxm_errmsg(ctx));
		assert_int_equal(cxm_stats_get(&b, ctx), CXM_OK);
		for (int k = 0; k < 4; k++)
			assert_int_equal(cxm_count(&cb[k], ctx, (cxm_object)(k + 1)), CXM_OK);
		assert_memory_equal(ca, cb, sizeof ca);
		assert_int_equal(a.accepted, b.accepted);
		assert_int_equal(a.series, b.series);
		/* index rows may stay allocated for the next try; series never */
		assert_int_equal(a.series_bytes, b.series_bytes);
		assert_true(h->live >= live);
	}
}

static cxm_status op_journey(cxm_context *ctx, void *arg)
{
	const char *steps[] = {"browse", "cart", "checkout"};
	return cxm_journey_define((cxm_id *)arg, ctx, "buy", steps, 3);
}
static cxm_status op_touchpoint(cxm_context *ctx, void *arg)
{
	return cxm_touchpoint_define((cxm_id *)arg, ctx, "checkout page", CXM_CHANNEL_WEB, 0, 2);
}
static cxm_status op_duration(cxm_context *ctx, void *arg)
{
	cxm_metric_def d = {.size = sizeof d};
	cxm_metric_preset(&d, CXM_PRESET_DURATION);
	d.relative_error = 0.001; /* a cell bigger than the query's stack buffer */
	return cxm_metric_define((cxm_id *)arg, ctx, "time on page", &d);
}
static cxm_status op_nps(cxm_context *ctx, void *arg)
{
	cxm_metric_def d = {.size = sizeof d};
	cxm_metric_preset(&d, CXM_PRESET_NPS);
	return cxm_metric_define((cxm_id *)arg, ctx, "nps", &d);
}
static cxm_status op_segment(cxm_context *ctx, void *arg)
{
	return cxm_segment_define((cxm_id *)arg, ctx, "tier", 4);
}
typedef struct seg_arg {
	cxm_id seg;
	uint32_t out;
} seg_arg;
static cxm_status op_value(cxm_context *ctx, void *arg)
{
	seg_arg *a = arg;
	return cxm_segment_value(&a->out, ctx, a->seg, "gold");
}
typedef struct feed_arg {
	cxm_id tp, dur, nps;
	uint32_t seg;
	int64_t t;
} feed_arg;
static cxm_status op_feed(cxm_context *ctx, void *arg)
{
	feed_arg *a = arg;
	cxm_measure m[2] = {{a->dur, 0, 12.5}, {a->nps, 0, 9}};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = a->t;
	ix.touchpoint = a->tp;
	ix.segments = &a->seg;
	ix.n_segments = 1;
	ix.measures = m;
	ix.n_measures = 2;
	ix.customer = "customer-1";
	ix.customer_len = 10;
	return cxm_feed(ctx, &ix);
}
static cxm_status op_query(cxm_context *ctx, void *arg)
{
	feed_arg *a = arg;
	cxm_query q = CXM_QUERY_INIT;
	q.metric = a->dur;
	q.scope = CXM_SCOPE_JOURNEY;
	q.id = 0;
	q.span_ms = DAY;
	cxm_result r = {.size = sizeof r};
	cxm_status st = cxm_query_run(&r, ctx, &q);
	if (st == CXM_OK && r.n != 1)
		fail_msg("query saw %llu", (unsigned long long)r.n);
	return st;
}

static void every_operation(void **state)
{
	(void)state;
	hook h = {0};
	test_clock clk = {T0};
	cxm_config cfg = hooked(&h, &clk);
	cxm_context *ctx;
	assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_OK);
	cxm_id j, tp, dur, nps, seg;
	assert_true(fail_until_done(ctx, &h, op_journey, &j) > 1);
	assert_true(fail_until_done(ctx, &h, op_touchpoint, &tp) > 1);
	assert_true(fail_until_done(ctx, &h, op_duration, &dur) > 1);
	assert_true(fail_until_done(ctx, &h, op_nps, &nps) > 1);
	assert_true(fail_until_done(ctx, &h, op_segment, &seg) > 1);
	seg_arg sa = {seg, 0};
	assert_true(fail_until_done(ctx, &h, op_value, &sa) > 1);
	feed_arg fa = {tp, dur, nps, sa.out, T0 - 1000};
	/* the first feed creates rows, groups and four series */
	assert_true(fail_until_done(ctx, &h, op_feed, &fa) > 4);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, ctx), CXM_OK);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.series, 4);
	/* a query with a large accumulator allocates it */
	assert_int_equal(fail_until_done(ctx, &h, op_query, &fa), 2);
	/* once the series exist, feeding allocates nothing */
	h.fail_at = 1;
	h.count = 0;
	fa.t = T0;
	assert_int_equal(op_feed(ctx, &fa), CXM_OK);
	assert_int_equal(h.count, 0);
	h.fail_at = 0;
	cxm_context_free(ctx);
	assert_int_equal(h.live, 0);
	assert_int_equal(h.live_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(context_new),
		cmocka_unit_test(every_operation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
