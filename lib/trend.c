/* Trends and forecasts of a query's headline value over consecutive
 * windows: a least-squares line with Student-t inference, and Holt's
 * linear exponential smoothing with prediction intervals.
 *
 * The windows come from cxm_query_series(); nothing here reads series. */
#include "cxm_internal.h"

#include <math.h>
#include <string.h>

#define CXM_MIN_TREND_SIZE sizeof(cxm_trend)

cxm_status cxm_trend_init(cxm_trend *t, size_t size)
{
	return cxm__init_struct(t, size, CXM_MIN_TREND_SIZE, "cxm_trend", "t");
}

/* ---- the line ---------------------------------------------------------------- */

static bool has_value(const cxm_result *r)
{
	return !(r->flags & CXM_RESULT_EMPTY) && isfinite(r->value);
}

static void fit_line(const cxm_context *ctx, const cxm_result *w, uint32_t n, uint32_t points,
		     cxm_trend *t)
{
	double xm = 0, ym = 0;
	for (uint32_t i = 0; i < n; i++)
		if (has_value(&w[i])) {
			xm += i;
			ym += w[i].value;
		}
	xm /= points;
	ym /= points;
	double sxx = 0, sxy = 0, syy = 0;
	for (uint32_t i = 0; i < n; i++)
		if (has_value(&w[i])) {
			const double dx = i - xm, dy = w[i].value - ym;
			sxx += dx * dx;
			sxy += dx * dy;
			syy += dy * dy;
		}
	const double b = sxy / sxx, a = ym - b * xm;
	double sse = 0;
	for (uint32_t i = 0; i < n; i++)
		if (has_value(&w[i])) {
			const double e = w[i].value - (a + b * i);
			sse += e * e;
		}
	const double df = points - 2.0, se = sqrt(sse / df / sxx);
	t->slope = b;
	t->fitted_last = a + b * (n - 1);
	t->r2 = syy > 0 ? fmax(0, 1 - sse / syy) : NAN;
	if (se > 0) {
		const double q = cxm__t_quantile(1 - ctx->confidence, df);
		t->slope_ci_low = b - q * se;
		t->slope_ci_high = b + q * se;
		t->p_value = cxm__t_two_sided(fabs(b) / se, df);
	} else { /* every value on the line */
		t->slope_ci_low = t->slope_ci_high = b;
		t->p_value = b == 0 ? 1 : 0;
	}
}

/* ---- Holt's linear smoothing -------------------------------------------------- */

typedef struct holt {
	double level, trend, sse;
	uint32_t errors;
} holt;

/* Smooth the windows with (alpha, beta) from the first two points: level
 * at the first, trend their slope; a window without a value moves level
 * and trend on unchanged. */
static holt holt_run(const cxm_result *w, uint32_t n, double alpha, double beta)
{
	holt h = {0, 0, 0, 0};
	uint32_t i = 0, first, second;
	while (!has_value(&w[i]))
		i++;
	first = i++;
	while (!has_value(&w[i]))
		i++;
	second = i;
	h.level = w[first].value;
	h.trend = (w[second].value - w[first].value) / (second - first);
	for (i = first + 1; i < n; i++) {
		const double ahead = h.level + h.trend;
		if (!has_value(&w[i])) {
			h.level = ahead;
			continue;
		}
		const double y = w[i].value;
		if (i > second) {
			h.sse += (y - ahead) * (y - ahead);
			h.errors++;
		}
		const double level = alpha * y + (1 - alpha) * ahead;
		h.trend = beta * (level - h.level) + (1 - beta) * h.trend;
		h.level = level;
	}
	return h;
}

static void fit_holt(const cxm_result *w, uint32_t n, cxm_trend *t)
{
	holt best = {0, 0, INFINITY, 0};
	for (int a = 1; a <= 9; a++)
		for (int b = 1; b <= 9; b++) {
			const holt h = holt_run(w, n, a / 10.0, b / 10.0);
			if (h.sse < best.sse) {
				best = h;
				t->alpha = a / 10.0;
				t->beta = b / 10.0;
			}
		}
	t->level = best.level;
	t->trend = best.trend;
	t->sigma = sqrt(best.sse / best.errors);
}

/* ---- the call ---------------------------------------------------------------- */

cxm_status cxm_query_trend(cxm_trend *out, cxm_forecast *forecast, uint32_t horizon, cxm_context *ctx,
			   const cxm_query *q, int64_t step_ms)
{
	if (!out || !ctx || !q || (!forecast && horizon))
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !out ? "out" : !ctx ? "ctx" : !q ? "q" : "forecast");
	cxm_status st = cxm__check_out(ctx, out, CXM_MIN_TREND_SIZE, "cxm_trend");
	if (st)
		return st;
	if (horizon > CXM_TREND_MAX_HORIZON)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "horizon %u is above %d", horizon,
				 CXM_TREND_MAX_HORIZON);
	size_t n = 0;
	st = cxm_query_series(NULL, 0, &n, ctx, q, step_ms);
	if (st && st != CXM_ERR_LIMIT)
		return st;
	if (n > CXM_TREND_MAX_WINDOWS)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "%zu windows of %lld ms; at most %d are fitted",
				 n, (long long)step_ms, CXM_TREND_MAX_WINDOWS);
	cxm_result *w = cxm__alloc(ctx, sizeof(cxm_result) * n);
	if (!w)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for %zu windows' results", n);
	w[0].size = sizeof(cxm_result);
	size_t got = 0;
	st = cxm_query_series(w, n, &got, ctx, q, step_ms);
	if (!st && got != n) /* the clock moved a window on meanwhile */
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "the windows changed while they were read; ask again");
	if (st) {
		cxm__free(ctx, w, sizeof(cxm_result) * n);
		return st;
	}
	cxm_trend t;
	memset(&t, 0, sizeof t);
	t.size = out->size;
	t.windows = (uint32_t)n;
	t.step_ms = step_ms;
	t.start_ms = w[n - 1].end_ms - (int64_t)n * step_ms;
	t.end_ms = w[n - 1].end_ms;
	for (uint32_t i = 0; i < n; i++)
		t.points += has_value(&w[i]);
	t.slope = t.slope_ci_low = t.slope_ci_high = t.p_value = t.r2 = t.fitted_last = NAN;
	t.alpha = t.beta = t.level = t.trend = t.sigma = NAN;
	if (t.points >= 3) {
		fit_line(ctx, w, (uint32_t)n, t.points, &t);
		fit_holt(w, (uint32_t)n, &t);
	}
	cxm__free(ctx, w, sizeof(cxm_result) * n);
	for (uint32_t h = 1; h <= horizon; h++) {
		cxm_forecast *f = &forecast[h - 1];
		f->start_ms = t.end_ms + (int64_t)(h - 1) * step_ms;
		f->end_ms = f->start_ms + step_ms;
		f->value = t.level + h * t.trend;
		const double a = t.alpha, b = t.beta;
		const double spread = t.sigma * sqrt(1 + (h - 1) * (a * a + a * b * h + b * b * h * (2.0 * h - 1) / 6));
		f->pi_low = f->value - ctx->z * spread;
		f->pi_high = f->value + ctx->z * spread;
	}
	*out = t;
	return CXM_OK;
}
