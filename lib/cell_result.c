/* A cell's figures as a query result: counts, shares, moments, quantiles,
 * the headline and its interval, per kind (cell.h has the cells' bytes).
 * The query (query.c) accumulates the cells of a window into one and
 * hands it here; nothing above this layer reads a cell's fields. */
#include "cxm_internal.h"
#include "cell.h"

#include <math.h>

static void wilson(double z, uint64_t k, uint64_t n, double *lo, double *hi)
{
	double p = (double)k / n, z2 = z * z, nn = (double)n;
	double den = 1 + z2 / nn;
	double c = (p + z2 / (2 * nn)) / den;
	double h = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
	*lo = 100 * fmax(0, c - h);
	*hi = 100 * fmin(1, c + h);
}

static double sample_sd(uint64_t n, double sum, double sumsq)
{
	if (n < 2)
		return NAN;
	double v = (sumsq - sum * sum / n) / (double)(n - 1);
	if (!isfinite(v))
		return NAN;
	return v > 0 ? sqrt(v) : 0;
}

static void mean_ci(cxm_result *res, double z)
{
	double se = res->stddev / sqrt((double)res->n);
	res->ci_low = res->mean - z * se;
	res->ci_high = res->mean + z * se;
}

/* The headline of res (top_share, bottom_share, mean and stddev set) from
 * n answers, top of them in the top box and bot in the bottom one: NET of
 * one question, TOP_BOX, BOTTOM_BOX, MEAN, or the count. */
static void box_headline(cxm_headline h, double z, uint64_t n, uint64_t top, uint64_t bot,
			 cxm_result *res)
{
	switch (h) {
	case CXM_HEADLINE_NET: {
		double p = res->top_share, d = res->bottom_share;
		res->value = 100 * (p - d);
		double se = 100 * sqrt(((p + d) - (p - d) * (p - d)) / n);
		res->ci_low = fmax(-100, res->value - z * se);
		res->ci_high = fmin(100, res->value + z * se);
		break;
	}
	case CXM_HEADLINE_TOP_BOX:
		res->value = 100 * res->top_share;
		wilson(z, top, n, &res->ci_low, &res->ci_high);
		break;
	case CXM_HEADLINE_BOTTOM_BOX:
		res->value = 100 * res->bottom_share;
		wilson(z, bot, n, &res->ci_low, &res->ci_high);
		break;
	case CXM_HEADLINE_MEAN:
		res->value = res->mean;
		mean_ci(res, z);
		break;
	default: res->value = (double)n; break;
	}
}

static void finish_score(const metric *m, const uint64_t *c, double z, cxm_result *res)
{
	const cxm_metric_def *d = &m->def;
	uint32_t Q = d->questions;
	uint64_t n_all = 0, top_all = 0, bot_all = 0;
	double sum = 0, sumsq = 0, net_sum = 0, var_sum = 0;
	uint32_t answered = 0;
	double lo = INFINITY, hi = -INFINITY;
	uint64_t n_min = UINT64_MAX;
	for (uint32_t q = 0; q < Q; q++) {
		const uint64_t *cnt = c + 1 + q * m->points;
		uint64_t n = 0, top = 0, bot = 0;
		for (uint32_t p = 0; p < m->points; p++) {
			int32_t point = d->scale_min + (int32_t)p;
			uint64_t k = cnt[p];
			if (!k)
				continue;
			n += k;
			sum += (double)point * k;
			sumsq += (double)point * point * k;
			if (point >= d->top_min[q])
				top += k;
			if (point <= d->bottom_max[q])
				bot += k;
			if (point < lo)
				lo = point;
			if (point > hi)
				hi = point;
		}
		if (Q > 1 && q < CXM_MAX_QUESTIONS)
			res->item_n[q] = n;
		if (n < n_min)
			n_min = n;
		n_all += n;
		top_all += top;
		bot_all += bot;
		if (n) {
			double pp = (double)top / n, dd = (double)bot / n;
			double net = 100 * (pp - dd);
			if (Q > 1)
				res->item_net[q] = net;
			net_sum += net;
			var_sum += ((pp + dd) - (pp - dd) * (pp - dd)) / n;
			answered++;
		} else if (Q > 1) {
			res->item_net[q] = NAN;
		}
	}
	res->questions = Q;
	res->n = Q == 1 ? n_all : n_min;
	res->top = top_all;
	res->bottom = bot_all;
	if (n_all == 0)
		return;
	res->top_share = (double)top_all / n_all;
	res->bottom_share = (double)bot_all / n_all;
	res->mean = sum / n_all;
	res->sum = sum;
	res->min = lo;
	res->max = hi;
	uint64_t n_save = res->n;
	res->n = n_all;
	res->stddev = sample_sd(n_all, sum, sumsq);
	switch (m->headline) {
	case CXM_HEADLINE_NET:
		if (Q == 1) {
			res->value = 100 * (res->top_share - res->bottom_share);
		} else {
			res->value = net_sum / answered;
		}
		{
			double se = 100 * sqrt(var_sum) / (Q == 1 ? 1 : answered);
			res->ci_low = fmax(-100, res->value - z * se);
			res->ci_high = fmin(100, res->value + z * se);
		}
		break;
	default: box_headline(m->headline, z, n_all, top_all, bot_all, res); break;
	}
	res->n = n_save;
	if (Q > 1 && n_save == 0 && m->headline != CXM_HEADLINE_COUNT) {
		/* an index is defined once each of its questions has an answer;
		 * item_net[] and item_n[] still tell what has been answered */
		res->value = res->ci_low = res->ci_high = NAN;
	}
}

/* A SENTIMENT cell (cell.h): the mean with its interval, the shares positive (top) and
 * negative (bottom), and the headline among them. */
static void finish_sentiment(const metric *m, const void *cell, double z, cxm_result *res)
{
	const sentiment_cell *c = cell;
	const uint64_t n = c->m.n, pos = c->pos, neg = c->neg;
	res->n = n;
	res->top = pos;
	res->bottom = neg;
	if (!n)
		return;
	res->sum = c->m.sum;
	res->mean = c->m.sum / n;
	res->min = c->m.min;
	res->max = c->m.max;
	res->stddev = sample_sd(n, c->m.sum, c->m.sumsq);
	res->top_share = (double)pos / n;
	res->bottom_share = (double)neg / n;
	box_headline(m->headline, z, n, pos, neg, res);
	if (m->headline == CXM_HEADLINE_MEAN && !isnan(res->ci_low)) {
		/* scores lie in -1 .. 1, and so does their mean (one score has
		 * no interval: NaN stays) */
		res->ci_low = fmax(-1, res->ci_low);
		res->ci_high = fmin(1, res->ci_high);
	}
}

void cxm__cell_result(const metric *m, const void *cell, double z, bool quantiles,
		      cxm_result *res)
{
	res->skipped = cxm__cell_na(m, cell);
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX: finish_score(m, cell, z, res); break;
	case CXM_KIND_RATE: {
		const uint64_t *c = cell;
		res->n = c[0];
		res->top = c[1];
		res->bottom = c[0] - c[1];
		if (res->n) {
			res->top_share = res->mean = (double)c[1] / c[0];
			res->bottom_share = 1 - res->top_share;
			res->sum = (double)c[1];
			res->min = res->bottom ? 0 : 1;
			res->max = res->top ? 1 : 0;
			if (m->headline == CXM_HEADLINE_SHARE) {
				res->value = 100 * res->top_share;
				wilson(z, c[1], c[0], &res->ci_low, &res->ci_high);
			} else {
				res->value = (double)res->n;
			}
		}
		break;
	}
	case CXM_KIND_VOLUME: res->n = ((const uint64_t *)cell)[0]; break;
	case CXM_KIND_SENTIMENT: finish_sentiment(m, cell, z, res); break;
	case CXM_KIND_DISTINCT: {
		const hll_cell *h = cell;
		res->n = h->n;
		res->quantile_n = h->dn;
		/* no id in the window: none is distinct in it, whatever the
		 * registers of the hours around it hold */
		res->value = h->n ? cxm__hll_estimate(m, h) : 0;
		double rel = 1.04 / sqrt((double)((size_t)1 << m->def.precision));
		res->ci_low = fmax(0, res->value * (1 - z * rel));
		res->ci_high = res->value * (1 + z * rel);
		break;
	}
	case CXM_KIND_AMOUNT:
	case CXM_KIND_DURATION: {
		uint64_t n;
		double sum, sumsq, mn, mx;
		if (m->def.kind == CXM_KIND_AMOUNT) {
			const amount_cell *a = cell;
			n = a->m.n;
			sum = a->m.sum;
			sumsq = a->m.sumsq;
			mn = a->m.min;
			mx = a->m.max;
		} else {
			const sketch_cell *sc = cell;
			n = sc->n;
			sum = sc->sum;
			sumsq = sc->sumsq;
			mn = sc->min;
			mx = sc->max;
		}
		res->n = n;
		if (m->def.kind == CXM_KIND_DURATION && quantiles) {
			const sketch_cell *sc = cell;
			res->quantile_n = sc->zero + sc->under + sc->over;
			if (sc->lo_bin <= sc->hi_bin)
				for (uint32_t i = sc->lo_bin; i <= sc->hi_bin; i++)
					res->quantile_n += sc->bins[i - sc->base];
		}
		if (!n)
			break;
		res->sum = sum;
		res->mean = sum / n;
		res->min = mn;
		res->max = mx;
		res->stddev = sample_sd(n, sum, sumsq);
		if (m->def.kind == CXM_KIND_DURATION && quantiles) {
			bool clamped = false;
			res->p50 = cxm__sketch_quantile(&m->sk, cell, 0.5, &clamped);
			res->p90 = cxm__sketch_quantile(&m->sk, cell, 0.9, &clamped);
			res->p99 = cxm__sketch_quantile(&m->sk, cell, 0.99, &clamped);
			const sketch_cell *sc = cell;
			if (clamped || sc->under || sc->over || sc->saturated)
				res->flags |= CXM_RESULT_CLAMPED;
		}
		if (m->headline == CXM_HEADLINE_MEAN) {
			res->value = res->mean;
			mean_ci(res, z);
		} else if (m->headline == CXM_HEADLINE_SUM) {
			res->value = sum;
		} else {
			res->value = (double)n;
		}
		break;
	}
	}
}
