/* The duration sketch: relative error bound at every quantile, as a
 * property against exact quantiles, and exact merges. */
#include <math.h>
#include "testutil.h"

#include "cxm_internal.h"
#include "sketch.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rs = 42;
static double unif(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void *plain_alloc(void *o, size_t n)
{
	(void)o;
	return malloc(n);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef double (*gen_fn)(void);
static double g_uniform(void) { return 1 + 3599 * unif(); }
static double g_lognormal(void)
{
	double u1 = unif(), u2 = unif();
	double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	return exp(5 + 1.2 * z); /* median ~150 s, long right tail */
}
static double g_pareto(void) { return 2.0 / pow(unif(), 1 / 1.1); } /* heavy tail */
static double g_bimodal(void) { return unif() < 0.7 ? 0.05 + 0.01 * unif() : 3000 + 600 * unif(); }

static sketch_cell *cell_new(const sketch_params *sp)
{
	sketch_cell *c = malloc(cxm__sketch_cell_size(sp));
	cxm__sketch_init(sp, c, true);
	return c;
}

/* For each distribution and error bound: the answer of every quantile on
 * a fine grid is within alpha of the exact nearest-rank value. */
static void relative_error_bound(void **state)
{
	(void)state;
	gen_fn gens[] = {g_uniform, g_lognormal, g_pareto, g_bimodal};
	const char *names[] = {"uniform", "lognormal", "pareto", "bimodal"};
	double alphas[] = {0.01, 0.001, 0.05};
	enum { N = 20000 };
	double *v = malloc(sizeof(double) * N);
	for (size_t a = 0; a < 3; a++) {
		sketch_params sp;
		assert_int_equal(cxm__sketch_params_init(&sp, 0.001, 1e6, alphas[a], plain_alloc, NULL), CXM_OK);
		for (size_t g = 0; g < 4; g++) {
			sketch_cell *c = cell_new(&sp);
			for (int i = 0; i < N; i++) {
				v[i] = gens[g]();
				if (v[i] > 1e6)
					v[i] = 1e6; /* keep inside the exact range */
				cxm__sketch_add(&sp, c, v[i]);
			}
			qsort(v, N, sizeof *v, cmp);
			double worst = 0;
			for (int k = 0; k <= 1000; k++) {
				double q = k / 1000.0;
				bool clamped = false;
				double got = cxm__sketch_quantile(&sp, c, q, &clamped);
				double r = ceil(q * N);
				size_t rank = r < 1 ? 1 : (size_t)r;
				double want = v[rank - 1];
				double err = fabs(got - want) / want;
				if (err > worst)
					worst = err;
				if (err > alphas[a] || clamped)
					fail_msg("%s alpha %g q %g: got %.17g want %.17g (rel %g)", names[g],
						 alphas[a], q, got, want, err);
			}
			assert_true(worst > 0); /* the test looked at real bins */
			free(c);
		}
		free(sp.bounds);
	}
	free(v);
}

/* Every value in a bin is within alpha of the bin's answer: check the bin
 * edges themselves, where the error peaks. */
static void bin_edges(void **state)
{
	(void)state;
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 0.001, 604800, 0.01, plain_alloc, NULL), CXM_OK);
	for (uint32_t i = 0; i < sp.nb; i += 7) {
		double edges[] = {sp.bounds[i], nextafter(sp.bounds[i + 1], 0)};
		for (int e = 0; e < 2; e++) {
			double x = edges[e];
			if (x > sp.hi)
				continue;
			uint32_t b = cxm__sketch_bin(&sp, x);
			assert_int_equal(b, i);
			double b0 = sp.bounds[b], b1 = sp.bounds[b + 1];
			double rep = 2 * b0 * b1 / (b0 + b1);
			assert_true(fabs(rep - x) / x <= 0.01);
		}
	}
	free(sp.bounds);
}

/* The bin the boundaries say: the last i with bounds[i] <= v, within
 * [0, nb - 1]. */
static uint32_t bin_by_search(const sketch_params *sp, double v)
{
	uint32_t lo = 0, hi = sp->nb - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;
		if (sp->bounds[mid] <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* The lookup by the double's top bits answers as a search of the
 * boundaries does, for values anywhere in the range, on and just below
 * boundaries, and outside the range; across errors and ranges, including
 * one so wide that its table gets coarser cells and one with more bins
 * than a table entry can name (65 535 and up). */
static void bin_lookup_matches_bounds(void **state)
{
	(void)state;
	const struct {
		double lo, hi, alpha;
	} cases[] = {
		{0.001, 604800, 0.01}, {0.001, 604800, 0.001}, {1, 34560000, 0.05}, {1e-9, 1e15, 0.1},
		{1e150, 1e300, 0.01},  {1e-9, 1e200, 0.001},   {3, 3.5, 0.001},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		sketch_params sp;
		assert_int_equal(cxm__sketch_params_init(&sp, cases[c].lo, cases[c].hi, cases[c].alpha,
							 plain_alloc, NULL),
				 CXM_OK);
		assert_true(sp.ix_n >= 1 && sp.ix_n <= 65536);
		if (c == 5)
			assert_true(sp.nb > 65536); /* table entries saturate: comparisons go on */
		const double span = log(sp.hi / sp.lo);
		for (int k = 0; k < 20000; k++) {
			double v = sp.lo * exp(span * unif());
			if (v > sp.hi)
				v = sp.hi;
			uint32_t want = bin_by_search(&sp, v);
			if (cxm__sketch_bin(&sp, v) != want)
				fail_msg("case %zu: v %.17g: bin %u, the boundaries say %u", c, v,
					 cxm__sketch_bin(&sp, v), want);
		}
		for (uint32_t i = 0; i < sp.nb; i += 1 + sp.nb / 3000) {
			double on = sp.bounds[i], below = nextafter(sp.bounds[i], 0);
			if (on <= sp.hi)
				assert_int_equal(cxm__sketch_bin(&sp, on), bin_by_search(&sp, on));
			if (below >= sp.lo && below <= sp.hi)
				assert_int_equal(cxm__sketch_bin(&sp, below), bin_by_search(&sp, below));
		}
		assert_int_equal(cxm__sketch_bin(&sp, sp.lo), 0);
		assert_int_equal(cxm__sketch_bin(&sp, sp.hi), bin_by_search(&sp, sp.hi));
		assert_int_equal(cxm__sketch_bin(&sp, nextafter(sp.lo, 0)), 0);
		assert_int_equal(cxm__sketch_bin(&sp, sp.lo / 1e6), 0);
		/* above the range (callers count those as "over"): still the
		 * boundaries' bin, at most the last */
		double above = nextafter(sp.hi, INFINITY);
		assert_int_equal(cxm__sketch_bin(&sp, above), bin_by_search(&sp, above));
		assert_int_equal(cxm__sketch_bin(&sp, sp.hi * 1e6), sp.nb - 1);
		assert_int_equal(cxm__sketch_bin(&sp, INFINITY), sp.nb - 1);
		free(sp.bounds);
	}
}

/* Merging two halves gives the same bins as adding everything to one. */
static void merge_is_exact(void **state)
{
	(void)state;
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 0.001, 1e6, 0.01, plain_alloc, NULL), CXM_OK);
	sketch_cell *all = cell_new(&sp), *h1 = cell_new(&sp), *h2 = cell_new(&sp), *m = cell_new(&sp);
	for (int i = 0; i < 5000; i++) {
		double x = g_lognormal();
		cxm__sketch_add(&sp, all, x);
		cxm__sketch_add(&sp, i % 3 ? h1 : h2, x);
	}
	cxm__sketch_add(&sp, h2, 0);
	cxm__sketch_add(&sp, all, 0);
	cxm__sketch_merge(&sp, m, h1);
	cxm__sketch_merge(&sp, m, h2);
	assert_int_equal(m->n, all->n);
	assert_int_equal(m->zero, 1);
	assert_int_equal(m->lo_bin, all->lo_bin);
	assert_int_equal(m->hi_bin, all->hi_bin);
	assert_memory_equal(&m->bins[m->lo_bin], &all->bins[all->lo_bin],
			    sizeof(uint32_t) * (all->hi_bin - all->lo_bin + 1));
	assert_double_equal(m->min, all->min, 0);
	assert_double_equal(m->max, all->max, 0);
	for (int k = 1; k < 100; k++) {
		bool c1 = false, c2 = false;
		assert_double_equal(cxm__sketch_quantile(&sp, m, k / 100.0, &c1),
				    cxm__sketch_quantile(&sp, all, k / 100.0, &c2), 0);
	}
	free(all);
	free(h1);
	free(h2);
	free(m);
	free(sp.bounds);
}

/* Out of range: zero exact, below lo and above hi reported at the bound
 * and flagged. */
static void out_of_range(void **state)
{
	(void)state;
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 1, 100, 0.01, plain_alloc, NULL), CXM_OK);
	sketch_cell *c = cell_new(&sp);
	double xs[] = {0, 0.5, 0.6, 50, 500, 600};
	for (int i = 0; i < 6; i++)
		cxm__sketch_add(&sp, c, xs[i]);
	bool cl = false;
	assert_double_equal(cxm__sketch_quantile(&sp, c, 0, &cl), 0, 0);
	assert_false(cl);
	assert_double_equal(cxm__sketch_quantile(&sp, c, 0.3, &cl), 1, 0); /* rank 2: under */
	assert_true(cl);
	cl = false;
	assert_true(fabs(cxm__sketch_quantile(&sp, c, 0.6, &cl) - 50) <= 0.5);
	assert_false(cl);
	assert_double_equal(cxm__sketch_quantile(&sp, c, 0.8, &cl), 100, 0); /* rank 5: over */
	assert_true(cl);
	assert_double_equal(cxm__sketch_quantile(&sp, c, 1, &cl), 600, 0); /* max is exact */
	free(c);
	free(sp.bounds);
}

/* Bins near the top of the double range answer within the bound too:
 * the representative of a bin is computed without overflowing. */
static void huge_bounds(void **state)
{
	(void)state;
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 1e150, 1e300, 0.01, plain_alloc, NULL), CXM_OK);
	sketch_cell *c = cell_new(&sp);
	double xs[] = {1e200, 2e200, 4e200, 8e200, 1.6e201};
	for (int i = 0; i < 5; i++)
		cxm__sketch_add(&sp, c, xs[i]);
	for (int i = 1; i < 4; i++) { /* the extremes are exact anyway */
		bool cl = false;
		double got = cxm__sketch_quantile(&sp, c, (i + 1) / 5.0, &cl);
		if (!(fabs(got - xs[i]) <= 0.01 * xs[i]))
			fail_msg("rank %d: got %g, want %g within 1%%", i + 1, got, xs[i]);
		assert_false(cl);
	}
	free(c);
	free(sp.bounds);
}

/* Through the public API, quantiles of a window merged over many buckets
 * and two shards keep the bound. */
static void public_api_heavy_tail(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_metric_def d = {.size = sizeof d};
	cxm_id aht, tp;
	assert_int_equal(cxm_metric_preset(&d, CXM_PRESET_DURATION), CXM_OK);
	assert_int_equal(cxm_metric_define(&aht, ctx, "aht", &d), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "agent", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	enum { N = 30000 };
	double *v = malloc(sizeof(double) * N);
	for (int i = 0; i < N; i++) {
		v[i] = g_pareto();
		if (v[i] > 604800)
			v[i] = 604800;
		/* spread over 20 hours: minute and hour buckets both hold data */
		assert_int_equal(feed1(ctx, T0 - 20 * HOUR + (int64_t)i * (20 * HOUR / N), tp, aht, v[i]), CXM_OK);
	}
	qsort(v, N, sizeof *v, cmp);
	cxm_query q = CXM_QUERY_INIT;
	q.metric = aht;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = tp;
	q.span_ms = DAY;
	double qs[64], out[64];
	for (int k = 0; k < 64; k++)
		qs[k] = k / 63.0;
	assert_int_equal(cxm_query_quantiles(out, ctx, &q, qs, 64), CXM_OK);
	for (int k = 0; k < 64; k++) {
		double r = ceil(qs[k] * N);
		double want = v[(r < 1 ? 1 : (size_t)r) - 1];
		if (fabs(out[k] - want) / want > 0.01)
			fail_msg("q %g: got %g want %g", qs[k], out[k], want);
	}
	free(v);
	cxm_context_free(ctx);
}

/* Bins that would pass 2^32 on a merge stop at it and count the excess as
 * saturated; their neighbours add exactly (the merge adds in one plain
 * pass and redoes it saturating only when a bin wrapped). */
static void merge_saturates(void **state)
{
	(void)state;
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 1, 1000, 0.01, plain_alloc, NULL), CXM_OK);
	sketch_cell *a = cell_new(&sp), *b = cell_new(&sp);
	cxm__sketch_add(&sp, a, 10);
	cxm__sketch_add(&sp, a, 20);
	cxm__sketch_add(&sp, b, 10);
	cxm__sketch_add(&sp, b, 20);
	uint32_t i10 = cxm__sketch_bin(&sp, 10), i20 = cxm__sketch_bin(&sp, 20);
	a->bins[i10] = UINT32_MAX - 5;
	b->bins[i10] = 10;
	b->bins[i20] = 7;
	cxm__sketch_merge(&sp, a, b);
	assert_int_equal(a->bins[i10], UINT32_MAX);
	assert_int_equal(a->saturated, 5);
	assert_int_equal(a->bins[i20], 8);
	cxm__sketch_merge(&sp, a, b); /* no wrap this time for i20 */
	assert_int_equal(a->bins[i20], 15);
	assert_int_equal(a->saturated, 15);
	free(a);
	free(b);
	free(sp.bounds);
}

/* A ring cell whose values use few of the bins in their range keeps them
 * packed: a cover lists the incoming bins, the merge fills them, a late
 * value adds its bin, a cleared cell keeps no count, and merging a packed
 * cell into an accumulator adds (and saturates) exactly as a range does. */
static void packed_stores(void **state)
{
	(void)state;
	test_clock clk = {0};
	cxm_context *ctx = test_ctx(&clk);
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 1, 1000, 0.01, plain_alloc, NULL), CXM_OK);
	sketch_cell *b = cell_new(&sp), *acc = cell_new(&sp), *ref = cell_new(&sp);
	const double v[3] = {10, 20, 500};
	for (int i = 0; i < 3; i++)
		cxm__sketch_add(&sp, b, v[i]);
	sketch_cell r;
	cxm__sketch_init(&sp, &r, false);
	int64_t d;
	assert_true(cxm__sketch_cover_like(ctx, &sp, &r, b, false, NULL, &d));
	assert_int_equal(r.cap, SKETCH_PACKED | 3);
	assert_int_equal(d, (int64_t)cxm__sketch_store_bytes(r.cap));
	cxm__sketch_merge(&sp, &r, b);
	assert_true(cxm__sketch_fit(ctx, &sp, &r, false, &d));
	assert_int_equal(d, 0); /* packed already, nothing to redo */
	bool cl = false;
	for (double q = 0.1; q < 1; q += 0.2)
		assert_true(cxm__sketch_quantile(&sp, &r, q, &cl) == cxm__sketch_quantile(&sp, b, q, &cl));
	/* the same bytes in a snapshot as the range they stand for */
	unsigned char pb[4096], rb[4096];
	uint32_t n = r.hi_bin - r.lo_bin + 1;
	assert_true(4 * n <= sizeof pb);
	cxm__sketch_bins_out(&r, pb);
	cxm__sketch_bins_out(b, rb);
	assert_memory_equal(pb, rb, 4 * n);
	/* a late value in a bin not listed: the cover adds it, with room */
	uint32_t i100 = cxm__sketch_bin(&sp, 100);
	assert_true(cxm__sketch_cover(ctx, &sp, &r, i100, i100, NULL, &d));
	assert_int_equal(r.cap, SKETCH_PACKED | 4);
	cxm__sketch_add(&sp, &r, 100);
	cxm__sketch_add(&sp, b, 100);
	assert_int_equal(r.saturated, 0);
	/* into an accumulator, a bin wrapping: saturated at 2^32 - 1 */
	uint32_t i10 = cxm__sketch_bin(&sp, 10), i20 = cxm__sketch_bin(&sp, 20);
	cxm__sketch_add(&sp, acc, 10);
	acc->bins[i10] = UINT32_MAX;
	cxm__sketch_merge(&sp, acc, &r);
	assert_int_equal(acc->bins[i10], UINT32_MAX);
	assert_int_equal(acc->saturated, 1);
	assert_int_equal(acc->bins[i20], 1);
	assert_int_equal(acc->bins[i100], 1);
	cxm__sketch_merge(&sp, ref, b); /* packed and range merge alike */
	sketch_cell *acc2 = cell_new(&sp);
	cxm__sketch_merge(&sp, acc2, &r);
	for (uint32_t i = 0; i < sp.nb; i++)
		if (ref->lo_bin <= i && i <= ref->hi_bin)
			assert_int_equal(acc2->bins[i], ref->bins[i]);
	assert_int_equal(acc2->n, ref->n);
	/* cleared and filled again: nothing of the old counts is left */
	cxm__sketch_clear(&sp, &r);
	sketch_cell *c = cell_new(&sp);
	cxm__sketch_add(&sp, c, 500);
	assert_true(cxm__sketch_cover_like(ctx, &sp, &r, c, false, NULL, &d));
	cxm__sketch_merge(&sp, &r, c);
	assert_true(cxm__sketch_fit(ctx, &sp, &r, false, &d));
	assert_int_equal(r.cap, SKETCH_PACKED | 1);
	sketch_cell *acc3 = cell_new(&sp);
	cxm__sketch_merge(&sp, acc3, &r);
	assert_int_equal(acc3->bins[cxm__sketch_bin(&sp, 500)], 1);
	assert_int_equal(acc3->lo_bin, acc3->hi_bin);
	/* many bins for their range: a range store */
	for (double x = 10; x < 500; x *= 1.005) /* every bin from 10 to 500 */
		cxm__sketch_add(&sp, c, x);
	assert_true(cxm__sketch_cover_like(ctx, &sp, &r, c, false, NULL, &d));
	assert_false(r.cap & SKETCH_PACKED);
	cxm__sketch_merge(&sp, &r, c);
	assert_true(cxm__sketch_fit(ctx, &sp, &r, false, &d));
	assert_false(r.cap & SKETCH_PACKED);
	assert_true(cxm__sketch_release(ctx, &r) > 0);
	/* an open bucket (still filling) keeps a range however few its bins,
	 * and is packed when it is sealed; the counts stay what they were */
	sketch_cell o, *few = cell_new(&sp), *more = cell_new(&sp), *want = cell_new(&sp);
	cxm__sketch_init(&sp, &o, false);
	cxm__sketch_add(&sp, few, 2);
	cxm__sketch_add(&sp, few, 900);
	assert_true(cxm__sketch_cover_like(ctx, &sp, &o, few, true, NULL, &d));
	assert_false(o.cap & SKETCH_PACKED);
	assert_true(o.base <= cxm__sketch_bin(&sp, 2) && cxm__sketch_bin(&sp, 900) < o.base + o.cap);
	cxm__sketch_merge(&sp, &o, few);
	assert_true(cxm__sketch_fit(ctx, &sp, &o, true, &d));
	assert_false(o.cap & SKETCH_PACKED);
	/* values inside the range: no new store */
	cxm__sketch_add(&sp, more, 30);
	cxm__sketch_add(&sp, more, 30);
	uint32_t *store = o.bins;
	assert_true(cxm__sketch_cover_like(ctx, &sp, &o, more, true, NULL, &d));
	assert_ptr_equal(o.bins, store);
	assert_int_equal(d, 0);
	cxm__sketch_merge(&sp, &o, more);
	assert_true(cxm__sketch_fit(ctx, &sp, &o, false, &d)); /* sealed */
	assert_int_equal(o.cap, SKETCH_PACKED | 3);
	cxm__sketch_merge(&sp, want, few);
	cxm__sketch_merge(&sp, want, more);
	sketch_cell *acc4 = cell_new(&sp);
	cxm__sketch_merge(&sp, acc4, &o);
	for (uint32_t i = want->lo_bin; i <= want->hi_bin; i++)
		assert_int_equal(acc4->bins[i], want->bins[i]);
	assert_int_equal(acc4->n, 4);
	/* open again (a rewind): the exact range back */
	assert_true(cxm__sketch_fit(ctx, &sp, &o, true, &d));
	assert_false(o.cap & SKETCH_PACKED);
	assert_int_equal(o.base, cxm__sketch_bin(&sp, 2) & ~7u);
	/* a packed store of many bins takes a few increasing ones by lookup */
	sketch_cell q, *wide = cell_new(&sp), *two = cell_new(&sp);
	cxm__sketch_init(&sp, &q, false);
	for (double x = 1.5; x < 1000; x *= 1.1)
		cxm__sketch_add(&sp, wide, x);
	assert_true(cxm__sketch_cover_like(ctx, &sp, &q, wide, false, NULL, &d));
	cxm__sketch_merge(&sp, &q, wide);
	assert_true(q.cap & SKETCH_PACKED);
	const uint32_t listed = q.cap & ~SKETCH_PACKED;
	cxm__sketch_add(&sp, two, 1.5 * pow(1.1, 3));
	cxm__sketch_add(&sp, two, 1.5 * pow(1.1, 60));
	assert_true(cxm__sketch_cover_like(ctx, &sp, &q, two, false, NULL, &d));
	assert_int_equal(q.cap & ~SKETCH_PACKED, listed); /* both listed already */
	cxm__sketch_merge(&sp, &q, two);
	assert_int_equal(q.saturated, 0);
	assert_int_equal(q.n, wide->n + 2);
	sketch_cell *acc5 = cell_new(&sp);
	cxm__sketch_merge(&sp, acc5, &q);
	assert_int_equal(acc5->bins[cxm__sketch_bin(&sp, 1.5 * pow(1.1, 60))],
			 wide->bins[cxm__sketch_bin(&sp, 1.5 * pow(1.1, 60))] + 1);
	cxm__sketch_release(ctx, &o);
	cxm__sketch_release(ctx, &q);
	free(few);
	free(more);
	free(want);
	free(acc4);
	free(wide);
	free(two);
	free(acc5);
	free(b);
	free(c);
	free(acc);
	free(acc2);
	free(acc3);
	free(ref);
	free(sp.bounds);
	cxm_context_free(ctx);
}

/* The counts below each cut bin (the exposition's cumulative buckets) are
 * the same from a full cell, a range store and a packed store, and equal
 * a brute-force sum; cuts at 0, inside, repeated and past the last bin,
 * with and without the under-range values. */
static void cumulative_every_store(void **state)
{
	(void)state;
	test_clock clk = {0};
	cxm_context *ctx = test_ctx(&clk);
	sketch_params sp;
	assert_int_equal(cxm__sketch_params_init(&sp, 1, 1000, 0.01, plain_alloc, NULL), CXM_OK);
	sketch_cell *full = cell_new(&sp);
	const double v[] = {0, 0, 0.5, 0.25, 2, 2, 7.5, 40, 41, 600, 999, 5000};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		cxm__sketch_add(&sp, full, v[i]);
	sketch_cell packed, range;
	int64_t d;
	cxm__sketch_init(&sp, &packed, false);
	assert_true(cxm__sketch_cover_like(ctx, &sp, &packed, full, false, NULL, &d));
	cxm__sketch_merge(&sp, &packed, full);
	assert_true(cxm__sketch_fit(ctx, &sp, &packed, false, &d));
	assert_true(packed.cap & SKETCH_PACKED);
	cxm__sketch_init(&sp, &range, false);
	assert_true(cxm__sketch_cover_like(ctx, &sp, &range, full, true, NULL, &d));
	cxm__sketch_merge(&sp, &range, full);
	assert_false(range.cap & SKETCH_PACKED);
	const uint32_t b2 = cxm__sketch_bin(&sp, 2), b41 = cxm__sketch_bin(&sp, 41);
	const uint32_t cut[] = {0, b2, b2 + 1, b2 + 1, b41, b41 + 1, sp.nb - 1, sp.nb};
	const bool under[] = {false, true, true, false, true, false, true, true};
	enum { N = sizeof cut / sizeof cut[0] };
	uint64_t want[N], got[N];
	for (uint32_t k = 0; k < N; k++) {
		want[k] = full->zero + (under[k] ? full->under : 0);
		for (uint32_t i = full->lo_bin; i <= full->hi_bin && i < cut[k]; i++)
			want[k] += full->bins[i - full->base]; /* a full cell's bins outside its range are not kept */
	}
	assert_int_equal(want[0], 2 + 0);     /* the zeros */
	assert_int_equal(want[1], 2 + 2);     /* and the under-range values */
	assert_int_equal(want[2], 2 + 2 + 2); /* and the two 2s */
	assert_int_equal(want[N - 1], 2 + 2 + 7);
	const sketch_cell *cells[] = {full, &range, &packed};
	for (int c = 0; c < 3; c++) {
		cxm__sketch_cumulative(cells[c], cut, under, N, got);
		assert_memory_equal(got, want, sizeof want);
	}
	sketch_cell *none = cell_new(&sp); /* empty: zeros only */
	cxm__sketch_cumulative(none, cut, under, N, got);
	for (uint32_t k = 0; k < N; k++)
		assert_int_equal(got[k], 0);
	cxm__sketch_release(ctx, &packed);
	cxm__sketch_release(ctx, &range);
	free(none);
	free(full);
	free(sp.bounds);
	cxm_context_free(ctx);
}

/* Counter cells (SCORE, INDEX, RATE, VOLUME) merge by adding, each count
 * saturating at CELL_COUNT_MAX (2^62) — including two at the cap, whose
 * sum 2^63 must not be taken for a small number. */
static void counter_merge_saturates(void **state)
{
	(void)state;
	metric m;
	memset(&m, 0, sizeof m);
	m.def.kind = CXM_KIND_RATE;
	m.def.has_na = 1;
	m.cell_size = 3 * sizeof(uint64_t);
	const uint64_t cap = CELL_COUNT_MAX;
	uint64_t d[3] = {cap - 1, 5, cap}, s[3] = {2, cap, cap};
	cxm__cell_merge(&m, d, s);
	assert_true(d[0] == cap && d[1] == cap && d[2] == cap);
	uint64_t e[3] = {cap - 3, 0, 7}, t[3] = {3, 0, 8};
	cxm__cell_merge(&m, e, t);
	assert_true(e[0] == cap && e[1] == 0 && e[2] == 15); /* at the cap, not over: kept */
	uint64_t f[3] = {1, 2, 3}, u[3] = {4, 5, 6};
	cxm__cell_merge(&m, f, u);
	assert_true(f[0] == 5 && f[1] == 7 && f[2] == 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counter_merge_saturates),
		cmocka_unit_test(relative_error_bound), cmocka_unit_test(bin_edges),
		cmocka_unit_test(bin_lookup_matches_bounds),
		cmocka_unit_test(merge_is_exact),       cmocka_unit_test(out_of_range),
		cmocka_unit_test(public_api_heavy_tail), cmocka_unit_test(huge_bounds),
		cmocka_unit_test(merge_saturates),      cmocka_unit_test(packed_stores),
		cmocka_unit_test(cumulative_every_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
