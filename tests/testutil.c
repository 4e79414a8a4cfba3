#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int64_t test_clock_fn(void *opaque)
{
	return ((test_clock *)opaque)->now;
}

cxm_context *test_ctx_cfg(test_clock *clk, cxm_config *cfg)
{
	cfg->clock = test_clock_fn;
	cfg->clock_opaque = clk;
	cxm_context *ctx = NULL;
	assert_int_equal(cxm_context_new(&ctx, cfg), CXM_OK);
	assert_non_null(ctx);
	return ctx;
}

cxm_context *test_ctx(test_clock *clk)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	return test_ctx_cfg(clk, &cfg);
}

cxm_status feed1(cxm_context *ctx, int64_t t, cxm_id tp, cxm_id metric, double v)
{
	cxm_measure m = {metric, 0, v};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.measures = &m;
	ix.n_measures = 1;
	return cxm_feed(ctx, &ix);
}

cxm_result query_tp(cxm_context *ctx, cxm_id metric, cxm_id tp, int64_t end, int64_t span)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = metric;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = tp;
	q.end_ms = end;
	q.span_ms = span;
	cxm_result r;
	memset(&r, 0, sizeof r);
	r.size = sizeof r;
	cxm_status st = cxm_query_run(&r, ctx, &q);
	if (st)
		fail_msg("query: %s: %s", cxm_strerror(st), cxm_errmsg(ctx));
	return r;
}

int membuf_write(const void *data, size_t len, void *payload)
{
	membuf *m = payload;
	if (m->len + len > m->cap) {
		size_t cap = (m->len + len) * 2;
		unsigned char *q = realloc(m->p, cap);
		if (!q)
			return -1;
		m->p = q;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
	return 0;
}
