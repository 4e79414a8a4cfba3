/* Trends and forecasts against hand-worked lines: an exact one, a noisy
 * one whose least-squares statistics are worked below, a gap, too few
 * points, and every bad argument. */
#include "testutil.h"

#include <math.h>
#include <string.h>

/* One amount per hour (SUM headline: the window's value is it), hour i
 * starting at T0 + i hours; NAN: nothing that hour. */
static cxm_context *hours(test_clock *clk, const double *y, int n, cxm_query *q)
{
	cxm_context *ctx = test_ctx(clk);
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_AMOUNT);
	cxm_id m, tp;
	assert_int_equal(cxm_metric_define(&m, ctx, "revenue", &d), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "shop", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	clk->now = T0 + n * HOUR;
	for (int i = 0; i < n; i++)
		if (!isnan(y[i]))
			assert_int_equal(feed1(ctx, T0 + i * HOUR + 60000, tp, m, y[i]), CXM_OK);
	cxm_query_init(q, sizeof *q);
	q->metric = m;
	q->span_ms = n * HOUR;
	q->end_ms = T0 + n * HOUR - 1;
	return ctx;
}

static void exact_line(void **state)
{
	(void)state;
	test_clock clk = {T0};
	double y[10];
	for (int i = 0; i < 10; i++)
		y[i] = 2 + 3 * i;
	cxm_query q;
	cxm_context *ctx = hours(&clk, y, 10, &q);
	cxm_trend t;
	cxm_trend_init(&t, sizeof t);
	cxm_forecast f[3];
	assert_int_equal(cxm_query_trend(&t, f, 3, ctx, &q, HOUR), CXM_OK);
	assert_int_equal(t.windows, 10);
	assert_int_equal(t.points, 10);
	assert_int_equal(t.start_ms, T0);
	assert_int_equal(t.end_ms, T0 + 10 * HOUR);
	assert_int_equal(t.step_ms, HOUR);
	assert_double_equal(t.slope, 3, 1e-12);
	assert_double_equal(t.slope_ci_low, 3, 1e-12);
	assert_double_equal(t.slope_ci_high, 3, 1e-12);
	assert_double_equal(t.p_value, 0, 0);
	assert_double_equal(t.r2, 1, 1e-12);
	assert_double_equal(t.fitted_last, 29, 1e-12);
	/* a straight line is followed exactly whatever the smoothing (the
	 * pair kept is one whose rounding errors are least) */
	assert_true(t.alpha >= 0.1 && t.alpha <= 0.9 && t.beta >= 0.1 && t.beta <= 0.9);
	assert_double_equal(t.level, 29, 1e-12);
	assert_double_equal(t.trend, 3, 1e-12);
	assert_double_equal(t.sigma, 0, 1e-12);
	for (int h = 0; h < 3; h++) {
		assert_int_equal(f[h].start_ms, T0 + (10 + h) * HOUR);
		assert_int_equal(f[h].end_ms, T0 + (11 + h) * HOUR);
		assert_double_equal(f[h].value, 32 + 3 * h, 1e-9);
		assert_double_equal(f[h].pi_low, f[h].value, 1e-9);
		assert_double_equal(f[h].pi_high, f[h].value, 1e-9);
	}
	cxm_context_free(ctx);
}

/* y = 1 3 2 5 4 6 8 7 at x = 0 … 7: mean x 3.5, mean y 4.5, Sxx 42,
 * Sxy 39, Syy 42; slope 39/42 = 0.928571…, SSE 42 − (39/42)·39 =
 * 5.785714…, se √(SSE / 6 / 42) = 0.151523, t = 6.128259; Student t with
 * 6 degrees of freedom: two-sided 95 % quantile 2.446912, p = 0.000863
 * (numerical integration of the density). */
static void noisy_line(void **state)
{
	(void)state;
	test_clock clk = {T0};
	const double y[8] = {1, 3, 2, 5, 4, 6, 8, 7};
	cxm_query q;
	cxm_context *ctx = hours(&clk, y, 8, &q);
	cxm_trend t;
	cxm_trend_init(&t, sizeof t);
	cxm_forecast f[4];
	assert_int_equal(cxm_query_trend(&t, f, 4, ctx, &q, HOUR), CXM_OK);
	const double b = 39.0 / 42, sse = 42 - b * 39, se = sqrt(sse / 6 / 42);
	assert_int_equal(t.points, 8);
	assert_double_equal(t.slope, b, 1e-12);
	assert_double_equal(t.slope_ci_low, b - 2.446911851 * se, 1e-8);
	assert_double_equal(t.slope_ci_high, b + 2.446911851 * se, 1e-8);
	assert_double_equal(t.p_value, 0.00086296818, 1e-9);
	assert_double_equal(t.r2, 1 - sse / 42, 1e-12);
	assert_double_equal(t.fitted_last, 4.5 + b * 3.5, 1e-12);
	/* Holt's, recomputed here for the pair chosen; no other pair of the
	 * grid has smaller one-step errors */
	double best = INFINITY;
	for (int ai = 1; ai <= 9; ai++)
		for (int bi = 1; bi <= 9; bi++) {
			const double al = ai / 10.0, be = bi / 10.0;
			double l = y[0], tr = y[1] - y[0], s2 = 0;
			for (int i = 1; i < 8; i++) {
				const double ahead = l + tr, nl = al * y[i] + (1 - al) * ahead;
				if (i > 1)
					s2 += (y[i] - ahead) * (y[i] - ahead);
				tr = be * (nl - l) + (1 - be) * tr;
				l = nl;
			}
			if (al == t.alpha && be == t.beta) {
				assert_double_equal(t.level, l, 1e-12);
				assert_double_equal(t.trend, tr, 1e-12);
				assert_double_equal(t.sigma, sqrt(s2 / 6), 1e-12);
			}
			if (s2 < best)
				best = s2;
		}
	assert_double_equal(t.sigma, sqrt(best / 6), 1e-12);
	for (uint32_t h = 1; h <= 4; h++) {
		const double al = t.alpha, be = t.beta;
		const double sd = t.sigma * sqrt(1 + (h - 1) * (al * al + al * be * h + be * be * h * (2.0 * h - 1) / 6));
		assert_double_equal(f[h - 1].value, t.level + h * t.trend, 1e-12);
		assert_double_equal(f[h - 1].pi_high - f[h - 1].value, 1.959963985 * sd, 1e-8);
		assert_double_equal(f[h - 1].value - f[h - 1].pi_low, 1.959963985 * sd, 1e-8);
		if (h > 1) /* further ahead, wider */
			assert_true(f[h - 1].pi_high - f[h - 1].pi_low > f[h - 2].pi_high - f[h - 2].pi_low);
	}
	cxm_context_free(ctx);
}

/* An empty hour is no point of the line (the line through the others is
 * the same as without it) and carries Holt's state on. */
static void gaps_and_too_few(void **state)
{
	(void)state;
	test_clock clk = {T0};
	const double y[6] = {10, 12, NAN, 16, 18, 20};
	cxm_query q;
	cxm_context *ctx = hours(&clk, y, 6, &q);
	cxm_trend t;
	cxm_trend_init(&t, sizeof t);
	assert_int_equal(cxm_query_trend(&t, NULL, 0, ctx, &q, HOUR), CXM_OK);
	assert_int_equal(t.windows, 6);
	assert_int_equal(t.points, 5);
	assert_double_equal(t.slope, 2, 1e-12);
	assert_double_equal(t.fitted_last, 20, 1e-12);
	assert_double_equal(t.level, 20, 1e-12);
	assert_double_equal(t.trend, 2, 1e-12);
	cxm_context_free(ctx);
	/* two points: no line, no forecast, still an answer */
	const double two[3] = {5, NAN, 7};
	ctx = hours(&clk, two, 3, &q);
	cxm_forecast f[2];
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &q, HOUR), CXM_OK);
	assert_int_equal(t.points, 2);
	assert_true(isnan(t.slope) && isnan(t.p_value) && isnan(t.sigma));
	assert_true(isnan(f[0].value) && isnan(f[1].pi_low));
	assert_int_equal(f[1].start_ms, T0 + 4 * HOUR);
	cxm_context_free(ctx);
}

static void bad_arguments(void **state)
{
	(void)state;
	test_clock clk = {T0};
	const double y[3] = {1, 2, 3};
	cxm_query q;
	cxm_context *ctx = hours(&clk, y, 3, &q);
	cxm_trend t, keep;
	cxm_trend_init(&t, sizeof t);
	t.points = 77;
	keep = t;
	cxm_forecast f[2];
	assert_int_equal(cxm_query_trend(NULL, f, 2, ctx, &q, HOUR), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_trend(&t, NULL, 2, ctx, &q, HOUR), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_trend(&t, f, 2, NULL, &q, HOUR), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, NULL, HOUR), CXM_ERR_INVALID);
	assert_int_equal(cxm_query_trend(&t, f, CXM_TREND_MAX_HORIZON + 1, ctx, &q, HOUR), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &q, 0), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &q, 4 * HOUR), CXM_ERR_OUT_OF_RANGE);
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &q, 1234), CXM_ERR_OUT_OF_RANGE);
	cxm_query big = q;
	big.span_ms = 2 * CXM_TREND_MAX_WINDOWS * 60000LL; /* placed on hours: still above */
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &big, 60000), CXM_ERR_OUT_OF_RANGE);
	cxm_query bad = q;
	bad.metric = 99;
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &bad, HOUR), CXM_ERR_UNKNOWN_ID);
	t.size = sizeof t - 8;
	assert_int_equal(cxm_query_trend(&t, f, 2, ctx, &q, HOUR), CXM_ERR_VERSION);
	t.size = sizeof t;
	assert_memory_equal(&t, &keep, sizeof t);
	assert_int_equal(cxm_trend_init(NULL, sizeof t), CXM_ERR_INVALID);
	assert_int_equal(cxm_trend_init(&t, 8), CXM_ERR_VERSION);
	/* horizon 0 with no array is fine */
	assert_int_equal(cxm_query_trend(&t, NULL, 0, ctx, &q, HOUR), CXM_OK);
	assert_int_equal(t.points, 3);
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_line),
		cmocka_unit_test(noisy_line),
		cmocka_unit_test(gaps_and_too_few),
		cmocka_unit_test(bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
