/* Calendar queries: months, weeks and days in a time zone against hand-
 * placed answers near the edges (times from Python's zoneinfo), the
 * INEXACT flag where the tiers cannot hold the edges, series against
 * cxm_query_calendar() bucket by bucket, and every bad argument. */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NY "America/New_York"
/* local midnights in New York, UTC ms */
#define NY_DEC1 INT64_C(1764565200000)
#define NY_JAN1 INT64_C(1767243600000)
#define NY_FEB1 INT64_C(1769922000000)
#define NY_MAR1 INT64_C(1772341200000)
#define NY_MAR8 INT64_C(1772946000000) /* daylight saving begins that night: 23 h */
#define NY_MAR9 INT64_C(1773028800000)
#define NY_NOV1 INT64_C(1793505600000) /* and ends: 25 h */
#define NY_NOV2 INT64_C(1793595600000)

typedef struct fx {
	test_clock clk;
	cxm_context *ctx;
	cxm_id tp, nps;
} fx;

/* Four NPS answers around the turns of the year and of January, New York
 * time: 5 on 31 Dec 23:50, 9 on 1 Jan 00:10, 10 on 31 Jan 23:30, 0 on
 * 1 Feb 00:30. hours: an hour tier long enough for all of them (exact
 * edges), or the default tiers (edges at UTC days). */
static void fx_make(fx *f, bool hours)
{
	memset(f, 0, sizeof *f);
	f->clk.now = INT64_C(1770699600000); /* 10 Feb 00:00 New York */
	cxm_config cfg = CXM_CONFIG_INIT;
	if (hours) {
		cfg.n_tiers = 2;
		cfg.tiers[0] = (cxm_tier){MIN, 120, 0};
		cfg.tiers[1] = (cxm_tier){HOUR, 24 * 100, 0};
	}
	f->ctx = test_ctx_cfg(&f->clk, &cfg);
	assert_int_equal(cxm_touchpoint_define(&f->tp, f->ctx, "survey", CXM_CHANNEL_EMAIL, CXM_NONE, 0),
			 CXM_OK);
	cxm_metric_def d = {.size = sizeof d};
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_NPS), CXM_OK);
	assert_int_equal(cxm_metric_define(&f->nps, f->ctx, "nps", &d), CXM_OK);
	const int64_t at[] = {NY_JAN1 - 10 * MIN, NY_JAN1 + 10 * MIN, NY_FEB1 - 30 * MIN,
			      NY_FEB1 + 30 * MIN};
	const double score[] = {5, 9, 10, 0};
	for (int i = 0; i < 4; i++)
		assert_int_equal(feed1(f->ctx, at[i], f->tp, f->nps, score[i]), CXM_OK);
}

static cxm_query nps_at(const fx *f, int64_t end)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = f->nps;
	q.end_ms = end;
	return q;
}

static void buckets(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, true);
	int64_t s, e;
	/* a month, from anywhere in it */
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_MONTH, NY_JAN1 + 14 * DAY),
			 CXM_OK);
	assert_true(s == NY_JAN1 && e == NY_FEB1);
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_MONTH, NY_FEB1 - 1), CXM_OK);
	assert_true(s == NY_JAN1 && e == NY_FEB1);
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_MONTH, NY_FEB1), CXM_OK);
	assert_true(s == NY_FEB1 && e == NY_MAR1);
	/* days of 23 and 25 hours */
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_DAY, NY_MAR8 + 12 * HOUR),
			 CXM_OK);
	assert_true(s == NY_MAR8 && e == NY_MAR9 && e - s == 23 * HOUR);
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_DAY, NY_NOV1 + 12 * HOUR),
			 CXM_OK);
	assert_true(s == NY_NOV1 && e == NY_NOV2 && e - s == 25 * HOUR);
	/* the ISO week of 1 January 2026 (a Thursday) begins on Monday 29
	 * December 2025; the quarter and the year in UTC */
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, "UTC", CXM_CALENDAR_WEEK,
					     INT64_C(1767225600000)), CXM_OK);
	assert_true(s == INT64_C(1766966400000) && e == INT64_C(1767571200000));
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, "UTC", CXM_CALENDAR_QUARTER,
					     INT64_C(1767225600000) + 40 * DAY), CXM_OK);
	assert_true(s == INT64_C(1767225600000) && e == s + (31 + 28 + 31) * DAY);
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, "UTC", CXM_CALENDAR_YEAR,
					     INT64_C(1767225600000) + 200 * DAY), CXM_OK);
	assert_true(s == INT64_C(1767225600000) && e == s + 365 * DAY);
	/* now and the watermark (31 Jan... 1 Feb 00:30 is the newest) */
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_MONTH, CXM_WATERMARK), CXM_OK);
	assert_true(s == NY_FEB1 && e == NY_MAR1);
	assert_int_equal(cxm_calendar_bucket(&s, &e, f.ctx, NY, CXM_CALENDAR_DAY, CXM_NOW), CXM_OK);
	assert_true(s == f.clk.now && e == f.clk.now + DAY);
	cxm_context_free(f.ctx);
}

/* January in New York holds the 9 and the 10 only, with an hour tier. */
static void month_exact(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, true);
	cxm_query q = nps_at(&f, NY_JAN1 + 14 * DAY);
	cxm_result r = {.size = sizeof r};
	assert_int_equal(cxm_query_calendar(&r, f.ctx, &q, NY, CXM_CALENDAR_MONTH), CXM_OK);
	assert_int_equal(r.n, 2);
	assert_double_equal(r.value, 100, 1e-9);
	assert_true(r.start_ms == NY_JAN1 && r.end_ms == NY_FEB1);
	assert_false(r.flags & (CXM_RESULT_INEXACT | CXM_RESULT_TRUNCATED));
	/* the same window as a plain query answers alike */
	cxm_query p = nps_at(&f, NY_FEB1 - 1);
	p.span_ms = NY_FEB1 - NY_JAN1;
	cxm_result r2 = {.size = sizeof r2};
	assert_int_equal(cxm_query_run(&r2, f.ctx, &p), CXM_OK);
	assert_int_equal(r2.n, r.n);
	assert_double_equal(r2.value, r.value, 0);
	/* the span is not used: any value, even none */
	q.span_ms = -5;
	assert_int_equal(cxm_query_calendar(&r, f.ctx, &q, NY, CXM_CALENDAR_MONTH), CXM_OK);
	assert_int_equal(r.n, 2);
	/* in UTC, January holds the 5 (04:50 UTC on 1 Jan) and the 9, and not
	 * the 10 (04:30 UTC on 1 Feb) */
	assert_int_equal(cxm_query_calendar(&r, f.ctx, &q, "UTC", CXM_CALENDAR_MONTH), CXM_OK);
	assert_int_equal(r.n, 2);
	assert_double_equal(r.value, 0, 1e-9); /* a passive and a promoter... of 5 and 9: 50 - 50 */
	cxm_context_free(f.ctx);
}

/* With the default tiers January's edges lie in UTC days: the result
 * says so, and what it covered. */
static void month_inexact(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, false);
	cxm_query q = nps_at(&f, NY_JAN1 + 14 * DAY);
	cxm_result r = {.size = sizeof r};
	assert_int_equal(cxm_query_calendar(&r, f.ctx, &q, NY, CXM_CALENDAR_MONTH), CXM_OK);
	assert_true(r.flags & CXM_RESULT_INEXACT);
	assert_true(r.start_ms != NY_JAN1 || r.end_ms != NY_FEB1);
	assert_int_equal(r.start_ms % DAY, 0);
	/* a day of the finest tier's reach is exact */
	cxm_query d = nps_at(&f, CXM_NOW);
	assert_int_equal(cxm_query_calendar(&r, f.ctx, &d, NY, CXM_CALENDAR_DAY), CXM_OK);
	assert_false(r.flags & CXM_RESULT_INEXACT);
	assert_true(r.flags & CXM_RESULT_EMPTY);
	cxm_context_free(f.ctx);
}

static void series(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, true);
	/* December to February: the 5; the 9 and 10; the 0 */
	cxm_query q = nps_at(&f, NY_FEB1 + 3 * DAY);
	q.span_ms = NY_FEB1 + 3 * DAY - (NY_DEC1 + 20 * DAY) + 1;
	size_t n = 99;
	assert_int_equal(cxm_query_calendar_series(NULL, 0, &n, f.ctx, &q, NY, CXM_CALENDAR_MONTH),
			 CXM_ERR_LIMIT);
	assert_int_equal(n, 3);
	cxm_result out[3];
	out[0].size = sizeof out[0];
	assert_int_equal(cxm_query_calendar_series(out, 3, &n, f.ctx, &q, NY, CXM_CALENDAR_MONTH), CXM_OK);
	assert_int_equal(n, 3);
	const int64_t edge[] = {NY_DEC1, NY_JAN1, NY_FEB1, NY_MAR1};
	const uint64_t count[] = {1, 2, 1};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i].size, sizeof out[0]);
		assert_true(out[i].start_ms == edge[i] && out[i].end_ms == edge[i + 1]);
		assert_int_equal(out[i].n, count[i]);
		cxm_query one = nps_at(&f, edge[i] + DAY);
		cxm_result r = {.size = sizeof r};
		assert_int_equal(cxm_query_calendar(&r, f.ctx, &one, NY, CXM_CALENDAR_MONTH), CXM_OK);
		assert_true(r.n == out[i].n && r.flags == out[i].flags);
		assert_double_equal(r.value, out[i].value, 0);
	}
	/* one day's span ending in a month: that month alone */
	q.span_ms = 1;
	assert_int_equal(cxm_query_calendar_series(out, 3, &n, f.ctx, &q, NY, CXM_CALENDAR_MONTH), CXM_OK);
	assert_int_equal(n, 1);
	assert_true(out[0].start_ms == NY_FEB1);
	/* days of the week of 1 Feb: Monday 26 Jan ... */
	q.span_ms = 7 * DAY;
	assert_int_equal(cxm_query_calendar_series(NULL, 0, &n, f.ctx, &q, NY, CXM_CALENDAR_DAY),
			 CXM_ERR_LIMIT);
	assert_int_equal(n, 8); /* 27 Jan 00:00 + 1 ms ... 4 Feb: eight days touched */
	cxm_context_free(f.ctx);
}

static void bad_args(void **state)
{
	(void)state;
	fx f;
	fx_make(&f, true);
	cxm_context *c = f.ctx;
	int64_t s = 7, e = 7;
	assert_int_equal(cxm_calendar_bucket(NULL, &e, c, NY, CXM_CALENDAR_DAY, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_calendar_bucket(&s, NULL, c, NY, CXM_CALENDAR_DAY, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_calendar_bucket(&s, &e, NULL, NY, CXM_CALENDAR_DAY, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, NULL, CXM_CALENDAR_DAY, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, NY, (cxm_calendar_unit)0, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, NY, (cxm_calendar_unit)6, 0), CXM_ERR_INVALID);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, NY, CXM_CALENDAR_DAY, -1), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, NY, CXM_CALENDAR_DAY, CXM_TIME_MAX + 1),
			 CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, "", CXM_CALENDAR_DAY, 0), CXM_ERR_ENCODING);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, "../etc/passwd", CXM_CALENDAR_DAY, 0),
			 CXM_ERR_ENCODING);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, "/usr/share/zoneinfo/UTC", CXM_CALENDAR_DAY, 0),
			 CXM_ERR_ENCODING);
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, "Mars/Olympus_Mons", CXM_CALENDAR_DAY, 0),
			 CXM_ERR_UNKNOWN_ID);
	assert_non_null(strstr(cxm_errmsg(c), "Mars/Olympus_Mons"));
	char longname[CXM_TZ_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(cxm_calendar_bucket(&s, &e, c, longname, CXM_CALENDAR_DAY, 0), CXM_ERR_TOO_LONG);
	assert_true(s == 7 && e == 7); /* nothing written */
	/* the queries */
	cxm_query q = nps_at(&f, CXM_NOW);
	cxm_result r = {.size = sizeof r}, before;
	memcpy(&before, &r, sizeof r);
	size_t n = 0;
	assert_int_equal(cxm_query_calendar(NULL, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar(&r, NULL, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar(&r, c, NULL, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar(&r, c, &q, NULL, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar(&r, c, &q, NY, (cxm_calendar_unit)9), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar(&r, c, &q, "Nowhere/City", CXM_CALENDAR_DAY), CXM_ERR_UNKNOWN_ID);
	q.metric = 77;
	assert_int_equal(cxm_query_calendar(&r, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_UNKNOWN_ID);
	q.metric = f.nps;
	q.end_ms = -3;
	assert_int_equal(cxm_query_calendar(&r, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_OUT_OF_RANGE);
	q.end_ms = CXM_NOW;
	q.reserved[1] = 1;
	assert_int_equal(cxm_query_calendar(&r, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_UNSUPPORTED);
	q.reserved[1] = 0;
	q.size = 8;
	assert_int_equal(cxm_query_calendar(&r, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_VERSION);
	q.size = sizeof q;
	r.size = 8;
	assert_int_equal(cxm_query_calendar(&r, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_VERSION);
	r.size = sizeof r;
	assert_int_equal(memcmp(&r, &before, sizeof r), 0);
	assert_int_equal(cxm_query_calendar_series(&r, 1, NULL, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar_series(NULL, 1, &n, c, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar_series(&r, 1, &n, NULL, &q, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar_series(&r, 1, &n, c, NULL, NY, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar_series(&r, 1, &n, c, &q, NULL, CXM_CALENDAR_DAY), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_calendar_series(&r, 1, &n, c, &q, NY, (cxm_calendar_unit)0), CXM_ERR_INVALID);
	q.span_ms = 0; /* a series needs a span */
	assert_int_equal(cxm_query_calendar_series(&r, 1, &n, c, &q, NY, CXM_CALENDAR_DAY),
			 CXM_ERR_OUT_OF_RANGE);
	q.span_ms = 1;
	assert_int_equal(cxm_query_calendar_series(&r, 1, &n, c, &q, NY, CXM_CALENDAR_DAY), CXM_OK);
	assert_int_equal(n, 1);
	cxm_context_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets),
		cmocka_unit_test(month_exact),
		cmocka_unit_test(month_inexact),
		cmocka_unit_test(series),
		cmocka_unit_test(bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
