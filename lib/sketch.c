/* Mergeable quantile sketch with a guaranteed relative error.
 *
 * Values in [lo, hi] go to logarithmic bins [b_i, b_{i+1}) with
 * b_{i+1} = gamma * b_i and gamma = (1 + a) / (1 - a). A bin answers with
 * r = 2 b_i b_{i+1} / (b_i + b_{i+1}), which is within a of every value in
 * the bin: (r - b_i) / b_i = (b_{i+1} - r) / b_{i+1} = (gamma - 1)/(gamma + 1)
 * = a. A quantile is the bin of its rank, so it is within a of the exact
 * value of that rank. Bins merge by addition, so merged sketches keep the
 * bound (unlike t-digest or KLL, whose error depends on the data).
 *
 * The bins' boundaries and the index that finds a value's bin are
 * sketch_params.c's; this file keeps cells: their moments and their
 * stores of bins (full, range or packed), merges and quantiles. */
#include "cxm_internal.h"
#include "sketch.h"

#include <math.h>

size_t cxm__sketch_cell_size(const sketch_params *sp)
{
	size_t n = sizeof(sketch_cell) + sizeof(uint32_t) * sp->nb;
	return (n + 7) & ~(size_t)7;
}

static void stats_clear(sketch_cell *c)
{
	c->n = c->zero = c->under = c->over = c->saturated = c->na = 0;
	c->sum = c->sumsq = 0;
	c->min = c->dmin = INFINITY;
	c->max = c->dmax = -INFINITY;
	c->lo_bin = UINT32_MAX;
	c->hi_bin = 0;
	/* bins are zeroed lazily: only [lo_bin, hi_bin] is ever read */
}

static inline bool is_inline(const sketch_cell *c)
{
	return c->bins == (const uint32_t *)(const void *)(c + 1);
}

static inline bool packed(const sketch_cell *c)
{
	return c->cap & SKETCH_PACKED;
}

/* Entries of a packed store: bin numbers at bins[0, m), counts at
 * bins[m, 2m). */
static inline uint32_t n_packed(const sketch_cell *c)
{
	return c->cap & ~SKETCH_PACKED;
}

void cxm__sketch_init(const sketch_params *sp, sketch_cell *c, bool full)
{
	stats_clear(c);
	if (full) {
		c->bins = (uint32_t *)(void *)(c + 1);
		c->base = 0;
		c->cap = sp->nb;
	} else {
		c->bins = NULL;
		c->base = c->cap = 0;
	}
}

void cxm__sketch_clear_stats(sketch_cell *c)
{
	stats_clear(c);
}

void cxm__sketch_clear(const sketch_params *sp, sketch_cell *c)
{
	(void)sp;
	stats_clear(c);
	if (c->bins && packed(c)) /* a range store's bins are zeroed as they come into use */
		memset(c->bins + n_packed(c), 0, sizeof(uint32_t) * n_packed(c));
}

/* Bins of c with a count. */
static uint32_t count_used(const sketch_cell *c)
{
	if (c->lo_bin > c->hi_bin)
		return 0;
	uint32_t m = 0;
	if (packed(c)) {
		for (uint32_t j = 0; j < n_packed(c); j++)
			m += c->bins[n_packed(c) + j] != 0;
		return m;
	}
	const uint32_t *b = c->bins + (c->lo_bin - c->base), n = c->hi_bin - c->lo_bin + 1;
	for (uint32_t i = 0; i < n; i++) /* vectorized */
		m += b[i] != 0;
	return m;
}

static int64_t packed_find(const sketch_cell *c, uint32_t i);

/* The count of bin i in c (0: none, or not in the store). */
static uint32_t count_of(const sketch_cell *c, uint32_t i)
{
	if (c->lo_bin > c->hi_bin || i < c->lo_bin || i > c->hi_bin)
		return 0;
	if (packed(c)) {
		int64_t j = packed_find(c, i);
		return j < 0 ? 0 : c->bins[n_packed(c) + (uint32_t)j];
	}
	return c->bins[i - c->base];
}

/* The first entry at or after `from` of packed c whose bin is >= i
 * (n_packed(c): none): galloping, so that looking up increasing bins
 * one after another costs their logarithms, not c's length. */
static uint32_t packed_lower(const sketch_cell *c, uint32_t i, uint32_t from)
{
	const uint32_t m = n_packed(c), *at = c->bins;
	uint32_t lo = from, step = 1, hi;
	while (lo < m && at[lo] < i) { /* at[lo] < i: the answer is past lo */
		hi = lo + step;
		if (hi >= m || at[hi] >= i) {
			hi = hi < m ? hi : m;
			lo++;
			while (lo < hi) { /* in (lo - 1, hi]: at[hi] >= i or hi = m */
				uint32_t mid = lo + (hi - lo) / 2;
				if (at[mid] < i)
					lo = mid + 1;
				else
					hi = mid;
			}
			return lo;
		}
		lo = hi;
		step *= 2;
	}
	return lo;
}

/* Entry of bin i in packed c, or -1. */
static int64_t packed_find(const sketch_cell *c, uint32_t i)
{
	uint32_t j = packed_lower(c, i, 0);
	return j < n_packed(c) && c->bins[j] == i ? (int64_t)j : -1;
}

size_t cxm__sketch_release(cxm_context *ctx, sketch_cell *c)
{
	if (!c->bins || is_inline(c))
		return 0;
	size_t bytes = cxm__sketch_store_bytes(c->cap);
	cxm__free(ctx, c->bins, bytes);
	c->bins = NULL;
	c->base = c->cap = 0;
	return bytes;
}

/* The range store for bins [lo, hi]: [*a, *a + cap) on 8-bin boundaries
 * (a function of the bins used, so that a cell's bytes do not depend on
 * the order its data came in: a loaded context weighs what the saved one
 * did); returns cap. */
static inline uint32_t range_of(const sketch_params *sp, uint32_t lo, uint32_t hi, uint32_t *a)
{
	*a = lo & ~7u;
	return ((hi | 7u) < sp->nb ? (hi | 7u) : sp->nb - 1) - *a + 1;
}

/* Whether m used bins take less room packed than as a range of cap. */
static inline bool packs(uint32_t m, uint32_t cap)
{
	return m && 2 * (size_t)m < (size_t)cap;
}

/* Put store bins (base, cap) in c in place of its own, which goes to old
 * (the caller frees it, or puts it back) or is freed; returns the bytes
 * the cell grew by. */
static int64_t replace_store(cxm_context *ctx, sketch_cell *c, uint32_t *bins, uint32_t base,
			     uint32_t cap, sketch_store *old)
{
	int64_t d = (int64_t)cxm__sketch_store_bytes(cap);
	if (old) {
		old->bins = c->bins;
		old->base = c->base;
		old->cap = c->cap;
	} else if (c->bins) {
		cxm__free(ctx, c->bins, cxm__sketch_store_bytes(c->cap));
		d -= (int64_t)cxm__sketch_store_bytes(c->cap);
	}
	c->bins = bins;
	c->base = base;
	c->cap = cap;
	return d;
}

/* The used bins of c (packed or not; c has some) into range store p of
 * bins from a: only [lo_bin, hi_bin] is written, as a range store's
 * bins outside it are never read. */
static void copy_range(uint32_t *p, uint32_t a, const sketch_cell *c)
{
	if (packed(c)) {
		const uint32_t m = n_packed(c);
		memset(p + (c->lo_bin - a), 0, sizeof(uint32_t) * (c->hi_bin - c->lo_bin + 1));
		for (uint32_t j = 0; j < m; j++)
			if (c->bins[m + j]) /* a listed 0 may lie outside the range */
				p[c->bins[j] - a] = c->bins[m + j];
	} else {
		memcpy(p + (c->lo_bin - a), c->bins + (c->lo_bin - c->base),
		       sizeof(uint32_t) * (c->hi_bin - c->lo_bin + 1));
	}
}

/* cxm__sketch_cover as a range store, whatever the bins. */
static bool cover_range(cxm_context *ctx, const sketch_params *sp, sketch_cell *c, uint32_t lo,
			uint32_t hi, sketch_store *old, int64_t *delta)
{
	*delta = 0;
	if (old)
		old->bins = NULL;
	if (is_inline(c))
		return true; /* covers every bin */
	/* the used range with [lo, hi] */
	const bool used = c->bins && c->lo_bin <= c->hi_bin; /* no store: nothing kept */
	if (used) {
		lo = c->lo_bin < lo ? c->lo_bin : lo;
		hi = c->hi_bin > hi ? c->hi_bin : hi;
	}
	uint32_t a;
	const uint32_t cap = range_of(sp, lo, hi, &a);
	if (c->bins && c->base == a && c->cap == cap)
		return true; /* exactly that already (never packed: the flag) */
	uint32_t *bins = cxm__alloc(ctx, sizeof(uint32_t) * cap);
	if (!bins)
		return false;
	if (used)
		copy_range(bins, a, c);
	*delta = replace_store(ctx, c, bins, a, cap, old);
	return true;
}

bool cxm__sketch_cover(cxm_context *ctx, const sketch_params *sp, sketch_cell *c, uint32_t lo,
		       uint32_t hi, sketch_store *old, int64_t *delta)
{
	if (packed(c) && lo == hi) { /* a late value: its bin added to the list */
		*delta = 0;
		if (old)
			old->bins = NULL;
		if (packed_find(c, lo) >= 0)
			return true;
		uint32_t one[2] = {lo, 1};
		sketch_cell v = {.lo_bin = lo, .hi_bin = lo, .cap = SKETCH_PACKED | 1, .bins = one};
		return cxm__sketch_cover_like(ctx, sp, c, &v, false, old, delta);
	}
	return cover_range(ctx, sp, c, lo, hi, old, delta);
}

/* The bins of a cell with a count, in increasing order, packed or not. */
typedef struct cursor {
	const sketch_cell *c;
	uint32_t at, end; /* packed: entry index; else bin number */
} cursor;

static inline void cursor_init(cursor *k, const sketch_cell *c)
{
	k->c = c;
	if (c && c->bins && packed(c)) { /* every entry listed, 0s too */
		k->at = 0;
		k->end = n_packed(c);
	} else if (!c || !c->bins || c->lo_bin > c->hi_bin) {
		k->at = k->end = 0;
	} else {
		k->at = c->lo_bin;
		k->end = c->hi_bin + 1;
	}
}

/* The next bin with a count (the packed store's 0s, made by a cover
 * before its merge, too); UINT32_MAX at the end. */
static inline uint32_t cursor_peek(cursor *k, uint32_t *count)
{
	const sketch_cell *c = k->c;
	if (k->at < k->end && packed(c)) {
		*count = c->bins[n_packed(c) + k->at];
		return c->bins[k->at];
	}
	if (k->at >= k->end)
		return UINT32_MAX;
	const uint32_t *b = c->bins;
	const uint32_t base = c->base;
	/* runs of empty bins are common (a minute's few values spread over
	 * a wide range): skipped eight at a time */
	while (k->at + 8 <= k->end) {
		uint64_t w[4];
		memcpy(w, b + (k->at - base), sizeof w);
		if (w[0] | w[1] | w[2] | w[3])
			break;
		k->at += 8;
	}
	for (; k->at < k->end; k->at++)
		if ((*count = b[k->at - base]) != 0)
			return k->at;
	return UINT32_MAX;
}

static inline void cursor_next(cursor *k)
{
	k->at++;
}

/* The m bins of c with a count, as a packed store at p (bin numbers, then
 * their counts). */
static void copy_packed(uint32_t *p, uint32_t m, const sketch_cell *c)
{
	cursor x;
	cursor_init(&x, c);
	uint32_t cnt;
	for (uint32_t j = 0, i; (i = cursor_peek(&x, &cnt)) != UINT32_MAX; cursor_next(&x))
		if (cnt) {
			p[j] = i;
			p[m + j++] = cnt;
		}
}

bool cxm__sketch_cover_like(cxm_context *ctx, const sketch_params *sp, sketch_cell *c,
			    const sketch_cell *like, bool open, sketch_store *old, int64_t *delta)
{
	*delta = 0;
	if (old)
		old->bins = NULL;
	if (is_inline(c) || like->lo_bin > like->hi_bin)
		return true;
	if (c->bins && !packed(c) && like->lo_bin >= c->base && like->hi_bin < c->base + c->cap)
		return true; /* a range store that holds them (fit shrinks it after) */
	const bool used = c->bins && c->lo_bin <= c->hi_bin;
	uint32_t lo = like->lo_bin, hi = like->hi_bin;
	if (used) {
		lo = c->lo_bin < lo ? c->lo_bin : lo;
		hi = c->hi_bin > hi ? c->hi_bin : hi;
	}
	if (open) /* a bucket still filling: a range, whatever its bins */
		return cover_range(ctx, sp, c, lo, hi, old, delta);
	uint32_t a;
	const uint32_t cap = range_of(sp, lo, hi, &a);
	/* the bins the two hold between them: like's, and c's that like
	 * lacks (c listed, or a range store's bins with a count) */
	const uint32_t nl = count_used(like);
	uint32_t m = nl, cx = 0, cy = 0;
	cursor x, y;
	if (packed(c)) {
		/* like's bins are few (a minute's) and c's list long (an hour's):
		 * look each of like's up in c, from where the last was found */
		uint32_t hits = 0, from = 0, cl;
		cursor_init(&y, like);
		for (uint32_t i; (i = cursor_peek(&y, &cl)) != UINT32_MAX; cursor_next(&y)) {
			if (!cl)
				continue; /* a listed 0: not one of like's bins */
			from = packed_lower(c, i, from);
			hits += from < n_packed(c) && c->bins[from] == i;
		}
		if (hits == nl)
			return true; /* holds every one of them already */
		m += n_packed(c) - hits;
	} else if (used) {
		cursor_init(&x, c);
		for (uint32_t i; (i = cursor_peek(&x, &cx)) != UINT32_MAX; cursor_next(&x))
			m += count_of(like, i) == 0;
	}
	if (!packs(m, cap))
		return cover_range(ctx, sp, c, lo, hi, old, delta);
	/* packed: those bins, with c's counts (0 for the new ones, until
	 * the merge this cover is for) */
	uint32_t *p = cxm__alloc(ctx, 2 * sizeof(uint32_t) * m);
	if (!p)
		return false;
	cursor_init(&x, c->bins ? c : NULL);
	cursor_init(&y, like);
	for (uint32_t j = 0; j < m;) {
		uint32_t bx = cursor_peek(&x, &cx), by = cursor_peek(&y, &cy);
		if (by < bx && !cy) { /* a 0 like lists: not one of its bins */
			cursor_next(&y);
			continue;
		}
		p[j] = bx < by ? bx : by;
		p[m + j++] = bx <= by ? cx : 0;
		if (bx <= by)
			cursor_next(&x);
		if (by <= bx)
			cursor_next(&y);
	}
	*delta = replace_store(ctx, c, p, 0, SKETCH_PACKED | m, old);
	return true;
}

bool cxm__sketch_fill_like(cxm_context *ctx, const sketch_params *sp, sketch_cell *c,
			   const sketch_cell *like, int64_t *delta)
{
	*delta = 0;
	const uint32_t m = count_used(like);
	if (!m)
		return true;
	uint32_t a;
	const uint32_t cap = range_of(sp, like->lo_bin, like->hi_bin, &a);
	const bool pack = packs(m, cap);
	uint32_t *p = cxm__alloc(ctx, pack ? 2 * sizeof(uint32_t) * m : sizeof(uint32_t) * cap);
	if (!p)
		return false;
	if (pack)
		copy_packed(p, m, like);
	else
		copy_range(p, a, like);
	*delta = replace_store(ctx, c, p, pack ? 0 : a, pack ? SKETCH_PACKED | m : cap, NULL);
	return true;
}

/* The distribution's counts outside the bins, and its extremes. */
static void merge_dist_scalars(sketch_cell *dst, const sketch_cell *src)
{
	dst->zero = cell_add(dst->zero, src->zero);
	dst->under = cell_add(dst->under, src->under);
	dst->over = cell_add(dst->over, src->over);
	dst->saturated = cell_add(dst->saturated, src->saturated);
	if (src->dmin < dst->dmin)
		dst->dmin = src->dmin;
	if (src->dmax > dst->dmax)
		dst->dmax = src->dmax;
}

void cxm__sketch_merge_filled(sketch_cell *dst, const sketch_cell *src)
{
	cxm__sketch_merge_moments(dst, src);
	merge_dist_scalars(dst, src);
	if (src->lo_bin <= src->hi_bin && dst->bins) {
		dst->lo_bin = src->lo_bin;
		dst->hi_bin = src->hi_bin;
	}
}

bool cxm__sketch_fit(cxm_context *ctx, const sketch_params *sp, sketch_cell *c, bool open,
		     int64_t *delta)
{
	*delta = 0;
	if (!c->bins || is_inline(c))
		return true;
	if (c->lo_bin > c->hi_bin) {
		*delta = -(int64_t)cxm__sketch_release(ctx, c);
		return true;
	}
	const uint32_t lo = c->lo_bin, hi = c->hi_bin;
	uint32_t a;
	const uint32_t cap = range_of(sp, lo, hi, &a);
	if (open) { /* exactly the range used */
		if (!packed(c) && c->base == a && c->cap == cap)
			return true;
		return cover_range(ctx, sp, c, lo, hi, NULL, delta);
	}
	const uint32_t m = count_used(c);
	if (packed(c) && m == n_packed(c))
		return true; /* no 0 listed (a cover's, whose merge went elsewhere) */
	if (!packs(m, cap)) {
		if (!packed(c) && c->base == a && c->cap == cap)
			return true;
		return cover_range(ctx, sp, c, lo, hi, NULL, delta);
	}
	uint32_t *p = cxm__alloc(ctx, 2 * sizeof(uint32_t) * m);
	if (!p)
		return false;
	copy_packed(p, m, c);
	*delta = replace_store(ctx, c, p, 0, SKETCH_PACKED | m, NULL);
	return true;
}

static inline void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

void cxm__sketch_bins_out(const sketch_cell *c, unsigned char *out)
{
	const uint32_t lo = c->lo_bin, n = c->hi_bin - c->lo_bin + 1;
	if (packed(c)) {
		const uint32_t m = n_packed(c);
		memset(out, 0, 4 * (size_t)n);
		for (uint32_t j = 0; j < m; j++)
			if (c->bins[m + j]) /* a listed 0 may lie outside the range */
				put_le32(out + 4 * (size_t)(c->bins[j] - lo), c->bins[m + j]);
		return;
	}
	const uint32_t *b = c->bins + (lo - c->base);
	for (uint32_t i = 0; i < n; i++)
		put_le32(out + 4 * (size_t)i, b[i]);
}

static inline void bins_zero(sketch_cell *c, uint32_t from, uint32_t to)
{
	if (from <= to)
		memset(&c->bins[from - c->base], 0, sizeof(uint32_t) * (to - from + 1));
}

/* Whether bins [lo, hi] can be written in place (never in a packed
 * store: its flag makes cap too large to pass). */
static inline bool covers(const sketch_cell *c, uint32_t lo, uint32_t hi)
{
	return c->bins && !packed(c) && lo >= c->base && hi < c->base + c->cap;
}

/* Make [lo, hi] part of the used range, zeroing bins newly covered. */
static inline void widen(sketch_cell *c, uint32_t lo, uint32_t hi)
{
	if (c->lo_bin > c->hi_bin) {
		bins_zero(c, lo, hi);
		c->lo_bin = lo;
		c->hi_bin = hi;
		return;
	}
	if (lo < c->lo_bin) {
		bins_zero(c, lo, c->lo_bin - 1);
		c->lo_bin = lo;
	}
	if (hi > c->hi_bin) {
		bins_zero(c, c->hi_bin + 1, hi);
		c->hi_bin = hi;
	}
}

void cxm__sketch_add_dist_bin_any(const sketch_params *sp, sketch_cell *c, double v, uint32_t i)
{
	if (v < c->dmin)
		c->dmin = v;
	if (v > c->dmax)
		c->dmax = v;
	if (v == 0) {
		c->zero++;
	} else if (v < sp->lo) {
		c->under++;
	} else if (v > sp->hi) {
		c->over++;
	} else if (packed(c)) { /* a late value whose bin a cover listed */
		int64_t j = packed_find(c, i);
		uint32_t *n = j < 0 ? NULL : &c->bins[n_packed(c) + (uint32_t)j];
		if (!n || *n == UINT32_MAX) {
			c->saturated++;
		} else {
			(*n)++;
			if (c->lo_bin > c->hi_bin)
				c->lo_bin = c->hi_bin = i;
			c->lo_bin = i < c->lo_bin ? i : c->lo_bin;
			c->hi_bin = i > c->hi_bin ? i : c->hi_bin;
		}
	} else if (!covers(c, i, i)) {
		c->saturated++; /* no room (no memory for it): counted, not binned */
	} else {
		widen(c, i, i);
		if (c->bins[i - c->base] == UINT32_MAX)
			c->saturated++;
		else
			c->bins[i - c->base]++;
	}
}

void cxm__sketch_add(const sketch_params *sp, sketch_cell *c, double v)
{
	cxm__sketch_add_moments(c, v);
	cxm__sketch_add_dist_bin_any(sp, c, v, cxm__sketch_bin_of(sp, v));
}

void cxm__sketch_merge_moments(sketch_cell *dst, const sketch_cell *src)
{
	dst->n = cell_add(dst->n, src->n);
	dst->na = cell_add(dst->na, src->na);
	dst->sum = sum_add(dst->sum, src->sum, CELL_SUM_MAX);
	dst->sumsq = sum_add(dst->sumsq, src->sumsq, CELL_SUMSQ_MAX);
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

void cxm__sketch_merge_dist(sketch_cell *dst, const sketch_cell *src)
{
	merge_dist_scalars(dst, src);
	if (src->lo_bin > src->hi_bin)
		return;
	if (packed(dst)) { /* a cover listed every bin of src */
		const uint32_t m = n_packed(dst);
		uint32_t *at = dst->bins, *cnt = dst->bins + m, j = 0, c;
		cursor k;
		cursor_init(&k, src);
		for (uint32_t i; (i = cursor_peek(&k, &c)) != UINT32_MAX; cursor_next(&k)) {
			if (!c)
				continue; /* a listed 0 adds nothing */
			j = packed_lower(dst, i, j);
			uint64_t s = j < m && at[j] == i ? (uint64_t)cnt[j] + c : UINT64_MAX;
			if (s == UINT64_MAX) {
				dst->saturated = cell_add(dst->saturated, c); /* not listed */
				continue;
			}
			if (s > UINT32_MAX) {
				dst->saturated = cell_add(dst->saturated, s - UINT32_MAX);
				s = UINT32_MAX;
			}
			cnt[j] = (uint32_t)s;
		}
		if (dst->lo_bin > dst->hi_bin) {
			dst->lo_bin = src->lo_bin;
			dst->hi_bin = src->hi_bin;
		}
		dst->lo_bin = src->lo_bin < dst->lo_bin ? src->lo_bin : dst->lo_bin;
		dst->hi_bin = src->hi_bin > dst->hi_bin ? src->hi_bin : dst->hi_bin;
		return;
	}
	if (packed(src) && is_inline(dst)) {
		/* into an accumulator (every bin): one pass without branches,
		 * noting whether any count wrapped, then, rarely, the saturating
		 * pass (a listed 0 outside [lo_bin, hi_bin] adds nothing) */
		const uint32_t m = n_packed(src);
		const uint32_t *at = src->bins, *cnt = src->bins + m;
		uint32_t *d = dst->bins, wrapped = 0;
		widen(dst, src->lo_bin, src->hi_bin);
		for (uint32_t j = 0; j < m; j++) {
			uint32_t x = d[at[j]] + cnt[j];
			wrapped |= x < cnt[j];
			d[at[j]] = x;
		}
		for (uint32_t j = 0; wrapped && j < m; j++) {
			uint32_t x = d[at[j]] - cnt[j]; /* undo, then add saturating */
			uint64_t t = (uint64_t)x + cnt[j];
			if (t > UINT32_MAX) {
				dst->saturated = cell_add(dst->saturated, t - UINT32_MAX);
				t = UINT32_MAX;
			}
			d[at[j]] = (uint32_t)t;
		}
		return;
	}
	if (packed(src)) {
		const uint32_t m = n_packed(src);
		const uint32_t *at = src->bins, *cnt = src->bins + m;
		const bool room = covers(dst, src->lo_bin, src->hi_bin);
		if (room)
			widen(dst, src->lo_bin, src->hi_bin);
		for (uint32_t j = 0; j < m; j++) {
			if (!cnt[j])
				continue; /* listed by a cover, maybe outside the range */
			/* no room (no memory for it): counted, not binned */
			uint64_t s = room ? (uint64_t)dst->bins[at[j] - dst->base] + cnt[j] : cnt[j];
			uint64_t over = room ? (s > UINT32_MAX ? s - UINT32_MAX : 0) : s;
			if (over)
				dst->saturated = cell_add(dst->saturated, over);
			if (room)
				dst->bins[at[j] - dst->base] = (uint32_t)(s - over);
		}
		return;
	}
	if (!covers(dst, src->lo_bin, src->hi_bin)) {
		/* no room (no memory for it): counted, not binned */
		for (uint32_t i = src->lo_bin; i <= src->hi_bin; i++)
			dst->saturated = cell_add(dst->saturated, src->bins[i - src->base]);
		return;
	}
	widen(dst, src->lo_bin, src->hi_bin);
	uint32_t *d = dst->bins + (src->lo_bin - dst->base);
	const uint32_t *a = src->bins + (src->lo_bin - src->base);
	const uint32_t n = src->hi_bin - src->lo_bin + 1;
	/* the common case in one pass the compiler vectorizes: plain adds,
	 * noting whether any wrapped; then, rarely, the saturating pass */
	uint32_t wrapped = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t x = d[i] + a[i];
		wrapped |= x < a[i];
		d[i] = x;
	}
	if (!wrapped)
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t x = d[i] - a[i]; /* undo, then add saturating */
		uint64_t s = (uint64_t)x + a[i];
		if (s > UINT32_MAX) {
			dst->saturated = cell_add(dst->saturated, s - UINT32_MAX);
			s = UINT32_MAX;
		}
		d[i] = (uint32_t)s;
	}
}

void cxm__sketch_merge(const sketch_params *sp, sketch_cell *dst, const sketch_cell *src)
{
	(void)sp;
	cxm__sketch_merge_moments(dst, src);
	cxm__sketch_merge_dist(dst, src);
}

/* The used bins one by one, packed or not: entry j of n_entries(c) is
 * bin *bin with count *count (a range store's may be 0). */
static inline uint32_t n_entries(const sketch_cell *c)
{
	if (c->lo_bin > c->hi_bin)
		return 0;
	return packed(c) ? n_packed(c) : c->hi_bin - c->lo_bin + 1;
}

static inline uint32_t entry(const sketch_cell *c, uint32_t j, uint32_t *count)
{
	if (packed(c)) {
		*count = c->bins[n_packed(c) + j];
		return c->bins[j];
	}
	*count = c->bins[c->lo_bin - c->base + j];
	return c->lo_bin + j;
}

void cxm__sketch_cumulative(const sketch_cell *c, const uint32_t *cut, const bool *under_in, uint32_t n,
			    uint64_t *out)
{
	uint64_t cum = c->zero;
	if (!(c->cap & SKETCH_PACKED)) {
		/* a full or range store: the bins in a row (the common case:
		 * the exposition reads lifetime cells, which are full) */
		uint32_t i = c->lo_bin;
		const uint32_t end = c->lo_bin <= c->hi_bin ? c->hi_bin + 1 : c->lo_bin;
		for (uint32_t k = 0; k < n; k++) {
			for (const uint32_t to = cut[k] < end ? cut[k] : end; i < to; i++)
				cum += c->bins[i - c->base];
			out[k] = cum + (under_in[k] ? c->under : 0);
		}
		return;
	}
	const uint32_t ne = n_entries(c);
	uint32_t j = 0, cnt = 0, i = ne ? entry(c, 0, &cnt) : UINT32_MAX;
	for (uint32_t k = 0; k < n; k++) {
		for (; j < ne && i < cut[k]; i = ++j < ne ? entry(c, j, &cnt) : UINT32_MAX)
			cum += cnt;
		out[k] = cum + (under_in[k] ? c->under : 0);
	}
}

double cxm__sketch_quantile(const sketch_params *sp, const sketch_cell *c, double q, bool *clamped)
{
	uint64_t total = c->zero + c->under + c->over;
	const uint32_t ne = n_entries(c);
	uint32_t cnt;
	for (uint32_t j = 0; j < ne; j++) {
		(void)entry(c, j, &cnt);
		total += cnt;
	}
	if (total == 0)
		return NAN;
	double r = ceil(q * (double)total);
	uint64_t rank = r < 1 ? 1 : r > (double)total ? total : (uint64_t)r;
	/* the extremes are known exactly */
	if (rank == 1)
		return c->dmin;
	if (rank == total)
		return c->dmax;
	uint64_t cum = c->zero;
	if (rank <= cum)
		return 0;
	cum += c->under;
	if (rank <= cum) {
		*clamped = true;
		return sp->lo;
	}
	for (uint32_t j = 0; j < ne; j++) {
		uint32_t i = entry(c, j, &cnt);
		cum += cnt;
		if (rank <= cum) {
			/* 2 b0 b1 / (b0 + b1), written so that it cannot overflow */
			double b0 = sp->bounds[i], b1 = sp->bounds[i + 1];
			double v = 2 / (1 / b0 + 1 / b1);
			return v < c->dmin ? c->dmin : v > c->dmax ? c->dmax : v;
		}
	}
	*clamped = true;
	return sp->hi;
}
