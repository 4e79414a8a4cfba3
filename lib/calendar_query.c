/* Queries over calendar buckets in a time zone: the bucket's window is
 * placed and answered as any query's (query.c); the zone and the bucket's
 * edges come from calendar.c. */
#include "cxm_internal.h"

#include <string.h>

static bool unit_ok(cxm_calendar_unit u)
{
	return u >= CXM_CALENDAR_DAY && u <= CXM_CALENDAR_YEAR;
}

static cxm_status zone_of(cxm_context *ctx, const char *tz, cxm_calendar_unit unit,
			  const cxm__zone **z)
{
	if (!tz)
		return cxm__fail(ctx, CXM_ERR_INVALID, "tz is NULL");
	if (!unit_ok(unit))
		return cxm__fail(ctx, CXM_ERR_INVALID, "unit %d is not a cxm_calendar_unit", (int)unit);
	return cxm__zone_get(ctx, tz, z);
}

cxm_status cxm_calendar_bucket(int64_t *start_ms, int64_t *end_ms, cxm_context *ctx, const char *tz,
			       cxm_calendar_unit unit, int64_t at_ms)
{
	if (!ctx || !start_ms || !end_ms)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !start_ms ? "start_ms" : "end_ms");
	if (at_ms != CXM_NOW && at_ms != CXM_WATERMARK && (at_ms < 0 || at_ms > CXM_TIME_MAX))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "at_ms %lld is outside 0 .. CXM_TIME_MAX",
				 (long long)at_ms);
	const cxm__zone *z;
	cxm_status st = zone_of(ctx, tz, unit, &z);
	if (st)
		return st;
	cxm__calendar_bucket(z, unit, cxm__window_end(ctx, at_ms), start_ms, end_ms);
	return CXM_OK;
}

/* q over the bucket [s, e), within the times that exist. */
static void bucket_query(const cxm_query *q, int64_t s, int64_t e, cxm_query *q2)
{
	*q2 = *q;
	q2->size = sizeof *q2;
	if (s < 0)
		s = 0; /* nothing happened before time 0 */
	if (e > CXM_TIME_MAX + 1)
		e = CXM_TIME_MAX + 1;
	q2->end_ms = e - 1;
	q2->span_ms = e - s;
}

/* The query q as given, with a span that passes the checks (calendar
 * queries do not use it), checked before anything is written. */
static cxm_status check_q(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx,
			  const cxm_query *q, cxm_query *q2)
{
	if (!ctx || !q)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "q");
	cxm_status st = cxm__check_struct(ctx, q, sizeof *q, sizeof *q, "cxm_query");
	if (st)
		return st;
	*q2 = *q;
	q2->size = sizeof *q2;
	if (q2->span_ms <= 0)
		q2->span_ms = 1;
	return cxm__query_multi_args(out, cap, n_out, ctx, q2);
}

cxm_status cxm_query_calendar(cxm_result *out, cxm_context *ctx, const cxm_query *q, const char *tz,
			      cxm_calendar_unit unit)
{
	cxm_query q2;
	const cxm__zone *z;
	size_t one;
	cxm_status st = check_q(out, out ? 1 : 0, &one, ctx, q, &q2);
	if (st || (st = zone_of(ctx, tz, unit, &z)))
		return st;
	if (!out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "out is NULL");
	int64_t s, e;
	cxm__calendar_bucket(z, unit, cxm__window_end(ctx, q->end_ms), &s, &e);
	bucket_query(q, s, e, &q2);
	return cxm__query_into(out, 0, ctx, &q2, true);
}

cxm_status cxm_query_calendar_series(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx,
				     const cxm_query *q, const char *tz, cxm_calendar_unit unit)
{
	cxm_query q2;
	const cxm__zone *z;
	cxm_status st = check_q(out, cap, n_out, ctx, q, &q2);
	if (st || (st = zone_of(ctx, tz, unit, &z)))
		return st;
	if (q->span_ms <= 0)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "span_ms %lld is not positive",
				 (long long)q->span_ms);
	const int64_t t1 = cxm__window_end(ctx, q->end_ms);
	int64_t t0 = t1 - q2.span_ms + 1;
	if (t0 < 0)
		t0 = 0;
	/* count the buckets from the one holding t0 to the one holding t1 */
	int64_t s, e, first;
	cxm__calendar_bucket(z, unit, t0, &first, &e);
	size_t n = 1;
	while (e <= t1) {
		cxm__calendar_bucket(z, unit, e, &s, &e);
		n++;
	}
	*n_out = n;
	if (n > cap)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "%zu calendar buckets; out holds %zu", n, cap);
	e = first;
	for (size_t i = 0; i < n; i++) {
		cxm__calendar_bucket(z, unit, e < 0 ? 0 : e, &s, &e);
		bucket_query(q, s, e, &q2);
		if ((st = cxm__query_into(out, i, ctx, &q2, true)))
			return st;
	}
	return CXM_OK;
}
