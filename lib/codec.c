/* The byte codec of snapshots: see codec.h. Every read checks the bytes
 * left before it looks at them and every value against what feeding can
 * make, so that a file with valid checksums but hostile contents is
 * refused with CXM_ERR_CORRUPT, never trusted. */
#include "codec.h"

#include <math.h>

/* ---- a growing buffer ------------------------------------------------------------------ */



unsigned char *cxm__wb_take(wbuf *b, size_t n)
{
	if (b->oom)
		return NULL;
	if (b->cap - b->len < n) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc - b->len < n) {
			if (nc > SIZE_MAX / 2) {
				b->oom = true;
				return NULL;
			}
			nc *= 2;
		}
		unsigned char *np = cxm__alloc(b->ctx, nc);
		if (!np) {
			b->oom = true;
			return NULL;
		}
		if (b->len)
			memcpy(np, b->p, b->len);
		/* buffers hold customer digests: none is left in freed memory */
		cxm__wipe(b->p, b->len);
		cxm__free(b->ctx, b->p, b->cap);
		b->p = np;
		b->cap = nc;
	}
	unsigned char *q = b->p + b->len;
	b->len += n;
	return q;
}

void cxm__wb_free(wbuf *b)
{
	cxm__wipe(b->p, b->len);
	cxm__free(b->ctx, b->p, b->cap);
	b->p = NULL;
	b->len = b->cap = 0;
}

void cxm__wb_put32(wbuf *b, uint32_t v)
{
	unsigned char *p = cxm__wb_take(b, 4);
	if (p)
		st32(p, v);
}
void cxm__wb_put64(wbuf *b, uint64_t v)
{
	unsigned char *p = cxm__wb_take(b, 8);
	if (p)
		st64(p, v);
}
void cxm__wb_putstr(wbuf *b, const char *s)
{
	size_t n = strlen(s);
	cxm__wb_put32(b, (uint32_t)n);
	unsigned char *p = cxm__wb_take(b, n);
	if (p)
		memcpy(p, s, n);
}

/* ---- cells ---------------------------------------------------------------------------- */


void cxm__cell_write(wbuf *b, const metric *m, const void *cell, bool full)
{
	switch (m->def.kind) {
	case CXM_KIND_DURATION: {
		const sketch_cell *c = cell;
		bool bins = full && c->lo_bin <= c->hi_bin;
		size_t nbins = bins ? (size_t)(c->hi_bin - c->lo_bin + 1) : 0;
		const size_t na = m->def.has_na ? 8 : 0; /* the no-answer count, after the head */
		unsigned char *p = cxm__wb_take(b, SKETCH_HEAD + na + 4 * nbins);
		if (!p)
			return;
		st64(p, c->n);
		stf64(p + 8, c->sum);
		stf64(p + 16, c->sumsq);
		stf64(p + 24, c->min);
		stf64(p + 32, c->max);
		st64(p + 40, c->zero);
		st64(p + 48, c->under);
		st64(p + 56, c->over);
		st64(p + 64, c->saturated);
		stf64(p + 72, c->dmin);
		stf64(p + 80, c->dmax);
		st32(p + 88, bins ? c->lo_bin : UINT32_MAX);
		st32(p + 92, bins ? c->hi_bin : 0);
		if (na)
			st64(p + SKETCH_HEAD, c->na);
		if (nbins)
			cxm__sketch_bins_out(c, p + SKETCH_HEAD + na);
		break;
	}
	case CXM_KIND_DISTINCT: {
		const hll_cell *c = cell;
		bool regs = full && c->has_regs;
		size_t nr = regs ? (size_t)1 << m->def.precision : 0;
		unsigned char *p = cxm__wb_take(b, HLL_HEAD + nr);
		if (!p)
			return;
		st64(p, c->n);
		st64(p + 8, c->dn);
		st32(p + 16, regs ? 1 : 0);
		st32(p + 20, 0);
		if (nr)
			memcpy(p + HLL_HEAD, c->reg, nr);
		break;
	}
	case CXM_KIND_AMOUNT:
	case CXM_KIND_SENTIMENT: { /* n, 4 moments, (SENTIMENT) 2 counts, (has_na) 1 */
		const uint64_t *w = cell;
		const double *d = (const double *)cell + 1;
		const size_t words = (m->def.kind == CXM_KIND_SENTIMENT ? 7 : 5);
		unsigned char *p = cxm__wb_take(b, 8 * (words + (m->def.has_na ? 1 : 0)));
		if (!p)
			return;
		st64(p, w[0]);
		for (int i = 0; i < 4; i++)
			stf64(p + 8 + 8 * i, d[i]);
		for (size_t i = 5; i < words + (m->def.has_na ? 1 : 0); i++)
			st64(p + 8 * i, w[i]);
		break;
	}
	default: { /* SCORE, INDEX, RATE, VOLUME: counters */
		size_t n = m->cell_size / 8;
		unsigned char *p = cxm__wb_take(b, 8 * n);
		if (!p)
			return;
#if SNAP_LE
		memcpy(p, cell, 8 * n);
#else
		for (size_t i = 0; i < n; i++)
			st64(p + 8 * i, ((const uint64_t *)cell)[i]);
#endif
		break;
	}
	}
}

/* ---- writing ------------------------------------------------------------------------ */

/* A series' epochs and cells: everything of a record after its ids. */
typedef struct body_arg {
	wbuf *b;
	const metric *m;
	bool full;
} body_arg;

static void bucket_write(void *arg, int64_t e, const void *cell)
{
	body_arg *a = arg;
	cxm__wb_put64(a->b, (uint64_t)e);
	cxm__cell_write(a->b, a->m, cell, a->full);
}

void cxm__series_body_write(wbuf *b, cxm_context *ctx, const series *s)
{
	const metric *m = s->m;
	cxm__wb_put64(b, (uint64_t)s->hot_epoch);
	for (uint32_t k = 0; k < ctx->n_tiers; k++)
		cxm__wb_put64(b, (uint64_t)s->top[k]);
	if (s->hot_epoch != TAG_EMPTY)
		cxm__cell_write(b, m, s->hot, m->bins_tier == 0);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		cxm__wb_put32(b, cxm__series_buckets(ctx, s, k));
		body_arg a = {b, m, k >= m->bins_tier};
		cxm__series_each(ctx, s, k, bucket_write, &a);
	}
	if (m->life_size)
		cxm__cell_write(b, m, s->life, true);
}

/* The codec other modules write their state with (cxm_internal.h). */
void cxm__snap_put32(struct wbuf *b, uint32_t v)
{
	cxm__wb_put32(b, v);
}

void cxm__snap_put64(struct wbuf *b, uint64_t v)
{
	cxm__wb_put64(b, v);
}

void cxm__snap_putstr(struct wbuf *b, const char *s)
{
	cxm__wb_putstr(b, s);
}

void cxm__snap_put_series(struct wbuf *b, const series *s)
{
	cxm__series_body_write(b, b->ctx, s);
}

static inline bool no_nan(double d)
{
	return d == d;
}

/* What a cell can hold (cxm_internal.h: merges saturate at the same
 * bounds, so a context made by merging loaded files saves a file its own
 * loader takes). */
static bool sums_possible(uint64_t n, double sum, double sumsq)
{
	return n <= CELL_LOAD_COUNT_MAX && fabs(sum) <= CELL_LOAD_SUM_MAX && sumsq >= 0 &&
	       sumsq <= CELL_LOAD_SUMSQ_MAX;
}

/* What is accepted beyond the merge bounds is read saturated at them, as
 * a merge would have left it, so that feeding on top stays loadable. */
static inline uint64_t sat_count(uint64_t n)
{
	return n > CELL_COUNT_MAX ? CELL_COUNT_MAX : n;
}

static inline double sat_sum(double d, double max)
{
	return d > max ? max : d < -max ? -max : d;
}

/* Read one encoded cell into `cell` (a cell of tier form `full`). */
cxm_status cxm__cell_read(struct snap_in *in, const metric *m, void *cell, bool full,
			  cxm_context *owner, series *owner_s)
{
	const unsigned char *p;
	switch (m->def.kind) {
	case CXM_KIND_DURATION: {
		if (!(p = take(&in->r, SKETCH_HEAD)))
			return TRUNC(in);
		sketch_cell *c = cell;
		c->n = ld64(p);
		c->sum = ldf64(p + 8);
		c->sumsq = ldf64(p + 16);
		c->min = ldf64(p + 24);
		c->max = ldf64(p + 32);
		c->zero = ld64(p + 40);
		c->under = ld64(p + 48);
		c->over = ld64(p + 56);
		c->saturated = ld64(p + 64);
		c->dmin = ldf64(p + 72);
		c->dmax = ldf64(p + 80);
		const uint32_t lo = ld32(p + 88), hi = ld32(p + 92);
		c->na = 0;
		if (m->def.has_na) {
			const unsigned char *q = take(&in->r, 8);
			if (!q)
				return TRUNC(in);
			if ((c->na = ld64(q)) > CELL_LOAD_COUNT_MAX)
				return CORRUPT(in->ctx, "a duration cell counts more no-answers than feeding "
						       "can make");
			c->na = sat_count(c->na);
		}
		c->lo_bin = UINT32_MAX; /* empty until the bins are in */
		c->hi_bin = 0;
		if (!isfinite(c->sum) || !isfinite(c->sumsq) || !no_nan(c->min) || !no_nan(c->max) ||
		    !no_nan(c->dmin) || !no_nan(c->dmax))
			return CORRUPT(in->ctx, "a duration cell holds a NaN or infinite sum");
		if (!sums_possible(c->n, c->sum, c->sumsq) || c->zero > CELL_LOAD_COUNT_MAX ||
		    c->under > CELL_LOAD_COUNT_MAX || c->over > CELL_LOAD_COUNT_MAX ||
		    c->saturated > CELL_LOAD_COUNT_MAX)
			return CORRUPT(in->ctx, "a duration cell's count or sums are larger than feeding "
					       "can make them");
		c->n = sat_count(c->n);
		c->zero = sat_count(c->zero);
		c->under = sat_count(c->under);
		c->over = sat_count(c->over);
		c->saturated = sat_count(c->saturated);
		c->sum = sat_sum(c->sum, CELL_SUM_MAX);
		c->sumsq = sat_sum(c->sumsq, CELL_SUMSQ_MAX);
		if (lo <= hi) {
			if (!full || hi >= m->sk.nb)
				return CORRUPT(in->ctx, "a duration cell's bins %u .. %u are out of range", lo,
					       hi);
			size_t nb = (size_t)(hi - lo + 1);
			if (!(p = take(&in->r, 4 * nb)))
				return TRUNC(in);
			/* a ring cell's store is made to fit; full cells hold every bin */
			if (!(c->bins && lo >= c->base && hi < c->base + c->cap) &&
			    (!owner_s || !cxm__series_cover(owner, owner_s, c, lo, hi)))
				return cxm__fail(in->ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a duration's bins");
			c->lo_bin = lo;
			c->hi_bin = hi;
			uint32_t *b = c->bins + (lo - c->base);
#if SNAP_LE
			memcpy(b, p, 4 * nb);
#else
			for (size_t i = 0; i < nb; i++)
				b[i] = ld32(p + 4 * i);
#endif
		}
		return CXM_OK;
	}
	case CXM_KIND_DISTINCT: {
		if (!(p = take(&in->r, HLL_HEAD)))
			return TRUNC(in);
		hll_cell *c = cell;
		c->n = ld64(p);
		c->dn = ld64(p + 8);
		c->has_regs = ld32(p + 16);
		c->pad = 0;
		if (c->has_regs > 1 || (!full && c->has_regs) || ld32(p + 20))
			return CORRUPT(in->ctx, "a distinct-count cell's flags are wrong");
		if (c->n > CELL_LOAD_COUNT_MAX || c->dn > CELL_LOAD_COUNT_MAX)
			return CORRUPT(in->ctx, "a cell counts more than feeding can make it");
		c->n = sat_count(c->n);
		c->dn = sat_count(c->dn);
		if (c->has_regs) {
			size_t nr = (size_t)1 << m->def.precision;
			if (!(p = take(&in->r, nr)))
				return TRUNC(in);
			uint8_t top = (uint8_t)(64 - m->def.precision + 1);
			for (size_t i = 0; i < nr; i++)
				if (p[i] > top)
					return CORRUPT(in->ctx, "a HyperLogLog register holds %u", p[i]);
			memcpy(c->reg, p, nr);
		}
		return CXM_OK;
	}
	case CXM_KIND_SENTIMENT:
	case CXM_KIND_AMOUNT: {
		if (!(p = take(&in->r, 40)))
			return TRUNC(in);
		uint64_t *w = cell;
		double *d = (double *)cell + 1;
		w[0] = ld64(p);
		for (int i = 0; i < 4; i++)
			d[i] = ldf64(p + 8 + 8 * i);
		if (!isfinite(d[0]) || !isfinite(d[1]) || !no_nan(d[2]) || !no_nan(d[3]))
			return CORRUPT(in->ctx, "an amount cell holds a NaN or infinite sum");
		if (!sums_possible(w[0], d[0], d[1]))
			return CORRUPT(in->ctx, "an amount cell's count or sums are larger than feeding "
					       "can make them");
		w[0] = sat_count(w[0]);
		d[0] = sat_sum(d[0], CELL_SUM_MAX);
		d[1] = sat_sum(d[1], CELL_SUMSQ_MAX);
		size_t na_at = 5;
		if (m->def.kind == CXM_KIND_SENTIMENT) { /* positive and negative counts */
			if (!(p = take(&in->r, 16)))
				return TRUNC(in);
			w[5] = ld64(p);
			w[6] = ld64(p + 8);
			/* scores lie in -1 .. 1, and a positive one is not negative */
			if (w[5] > w[0] || w[6] > w[0] || w[5] + w[6] > w[0] ||
			    fabs(d[0]) > (double)w[0] || d[1] > (double)w[0] ||
			    (w[0] && (d[2] < -1 || d[3] > 1 || d[2] > d[3])))
				return CORRUPT(in->ctx, "a sentiment cell's counts or moments are not "
						       "those of scores in -1 .. 1");
			na_at = 7;
		}
		if (m->def.has_na) { /* the no-answer count */
			if (!(p = take(&in->r, 8)))
				return TRUNC(in);
			if ((w[na_at] = ld64(p)) > CELL_LOAD_COUNT_MAX)
				return CORRUPT(in->ctx, "an amount cell counts more no-answers than feeding "
						       "can make");
			w[na_at] = sat_count(w[na_at]);
		}
		return CXM_OK;
	}
	default: {
		size_t n = m->cell_size / 8;
		if (!(p = take(&in->r, 8 * n)))
			return TRUNC(in);
#if SNAP_LE
		memcpy(cell, p, 8 * n);
#else
		for (size_t i = 0; i < n; i++)
			((uint64_t *)cell)[i] = ld64(p + 8 * i);
#endif
		for (size_t i = 0; i < n; i++) {
			uint64_t *x = (uint64_t *)cell + i;
			if (*x > CELL_LOAD_COUNT_MAX)
				return CORRUPT(in->ctx, "a cell counts more than feeding can make it");
			*x = sat_count(*x);
		}
		return CXM_OK;
	}
	}
}

cxm_status cxm__series_cells_read(struct snap_in *in, cxm_context *into, series *s, int64_t hot,
				  const int64_t *top)
{
	cxm_context *ctx = in->ctx, *tmp = into;
	const metric *m = s->m;
	cxm_status st;
	s->hot_epoch = hot;
	if (hot != TAG_EMPTY && (st = cxm__cell_read(in, m, s->hot, m->bins_tier == 0, NULL, NULL)))
		return st;
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		uint32_t tagged;
		const int64_t n = ctx->tiers[k].buckets;
		if ((st = cxm__snap_get32(in, &tagged)))
			return st;
		if (tagged > n || (top[k] == TAG_EMPTY && tagged))
			return CORRUPT(ctx, "a series' tier %u has %u buckets", k, tagged);
		if (top[k] != TAG_EMPTY) {
			s->top[k] = top[k];
			s->top_idx[k] = (uint32_t)(top[k] % n);
		}
		for (uint32_t i = 0; i < tagged; i++) {
			uint64_t e;
			if ((st = cxm__snap_get64(in, &e)))
				return st;
			int64_t x = (int64_t)e;
			if (x < 0 || x > top[k] || x <= top[k] - n)
				return CORRUPT(ctx, "bucket %lld lies outside tier %u's ring", (long long)x, k);
			if (k == 0 && x == hot)
				return CORRUPT(ctx, "bucket %lld of tier 0 appears twice", (long long)x);
			void *cell;
			st = cxm__series_put(tmp, s, k, x, &cell);
			if (st == CXM_ERR_EXISTS)
				return CORRUPT(ctx, "bucket %lld of tier %u appears twice", (long long)x, k);
			if (st)
				return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a time bucket");
			/* cell_read writes every field a reader looks at */
			if ((st = cxm__cell_read(in, m, cell, k >= m->bins_tier, tmp, s)))
				return st;
			/* a duration's store in the form feeding left it */
			if (m->def.kind == CXM_KIND_DURATION)
				cxm__series_fit(tmp, s, cell, cxm__series_open(s, k, x));
		}
	}
	cxm__series_settle(tmp, s);
	if (m->life_size && (st = cxm__cell_read(in, m, s->life, true, NULL, NULL)))
		return st;
	return CXM_OK;
}

/* The codec other modules read their state with (cxm_internal.h). */
cxm_context *cxm__snap_ctx(const struct snap_in *in)
{
	return in->ctx;
}

void cxm__snap_put_f64(struct wbuf *b, double v)
{
	uint64_t x;
	memcpy(&x, &v, sizeof x);
	cxm__snap_put64(b, x);
}

cxm_status cxm__snap_get_f64(struct snap_in *in, double *v)
{
	uint64_t x;
	cxm_status st = cxm__snap_get64(in, &x);
	memcpy(v, &x, sizeof *v);
	return st;
}

cxm_status cxm__snap_get_i64(struct snap_in *in, int64_t *v)
{
	uint64_t x;
	cxm_status st = cxm__snap_get64(in, &x);
	*v = (int64_t)x;
	return st;
}

uint32_t cxm__snap_offset(const struct snap_in *in, uint32_t x)
{
	return in->version < 4 ? cxm__off_encode((int64_t)x) : x;
}

size_t cxm__snap_left(const struct snap_in *in)
{
	return in->r.left;
}

cxm_status cxm__snap_get32(struct snap_in *in, uint32_t *v)
{
	const unsigned char *p = take(&in->r, 4);
	*v = p ? ld32(p) : 0;
	return p ? CXM_OK : TRUNC(in);
}

cxm_status cxm__snap_get64(struct snap_in *in, uint64_t *v)
{
	const unsigned char *p = take(&in->r, 8);
	*v = p ? ld64(p) : 0;
	return p ? CXM_OK : TRUNC(in);
}

cxm_status cxm__snap_getstr(struct snap_in *in, char *out, size_t cap)
{
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n >= cap)
		return CORRUPT(in->ctx, "a name of %u bytes in the %s section; the limit is %zu", n,
			       in->what, cap - 1);
	const unsigned char *p = take(&in->r, n);
	if (!p)
		return TRUNC(in);
	memcpy(out, p, n);
	out[n] = 0;
	if (memchr(out, 0, n))
		return CORRUPT(in->ctx, "a name in the %s section has a NUL byte", in->what);
	return CXM_OK;
}

cxm_status cxm__snap_get_series(struct snap_in *in, cxm_context *into, series *s)
{
	cxm_context *ctx = in->ctx;
	const unsigned char *p = take(&in->r, 8 + 8 * (size_t)ctx->n_tiers);
	if (!p)
		return TRUNC(in);
	int64_t hot = (int64_t)ld64(p), top[CXM_MAX_TIERS];
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		top[k] = (int64_t)ld64(p + 8 + 8 * k);
		/* these series take times a sweep supplies, ahead of the
		 * watermark: only the range of an epoch is checked */
		if (top[k] != TAG_EMPTY && (top[k] < 0 || top[k] > CXM_TIME_MAX / ctx->tiers[k].bucket_ms))
			return CORRUPT(ctx, "a %s series' tier %u reaches bucket %lld", in->what, k,
				       (long long)top[k]);
	}
	if (hot != top[0])
		return CORRUPT(ctx, "a %s series' newest bucket is not its finest tier's newest", in->what);
	return cxm__series_cells_read(in, into, s, hot, top);
}
