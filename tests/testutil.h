/* Shared helpers for the cmocka suites. */
#ifndef CXM_TESTUTIL_H
#define CXM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxm.h"

/* A clock the test moves by hand. */
typedef struct test_clock {
	int64_t now;
} test_clock;

int64_t test_clock_fn(void *opaque);

/* A context with the default tiers and a test clock at *clk. */
cxm_context *test_ctx(test_clock *clk);
cxm_context *test_ctx_cfg(test_clock *clk, cxm_config *cfg);

/* Feed one interaction with one measure; returns the status. */
cxm_status feed1(cxm_context *ctx, int64_t t, cxm_id tp, cxm_id metric, double v);

/* Run a touchpoint query over span ending at end; asserts CXM_OK. */
cxm_result query_tp(cxm_context *ctx, cxm_id metric, cxm_id tp, int64_t end, int64_t span);

/* A snapshot's bytes gathered in memory: membuf_write is a cxm_write_fn
 * with a membuf as payload (start it zeroed; free p after). */
typedef struct membuf {
	unsigned char *p;
	size_t len, cap;
} membuf;
int membuf_write(const void *data, size_t len, void *payload);

/* cmocka 1.1's float assertions work in single precision. */
#include <math.h>
#define assert_double_equal(a, b, eps)                                                         \
	do {                                                                                   \
		double a_ = (a), b_ = (b);                                                     \
		if (!(fabs(a_ - b_) <= (eps)))                                                 \
			fail_msg("%s = %.17g, expected %.17g (within %g)", #a, a_, b_,          \
				 (double)(eps));                                               \
	} while (0)

/* 2026-11-24T00:00:00Z */
#define T0 INT64_C(1795392000000)
#define MIN INT64_C(60000)
#define HOUR INT64_C(3600000)
#define DAY INT64_C(86400000)

#endif
