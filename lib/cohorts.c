/* Entry cohorts (cohorts.h): per funnel group, one row per hour in which
 * instances began, holding everything those instances did later. A count
 * lands in the row of its instance's start, which may be up to the
 * conversion window (400 days) old: rows are a sorted array, not time
 * buckets of the tiers, and only hours that had entries have one.
 *
 * Rows are appended in time order nearly always (entries come in time
 * order, within the lateness); a fold first tries the row it used last,
 * then the newest, then a binary search. Rows wholly behind the horizon
 * (cxm__window_horizon: what the coarsest tier keeps) are dropped from
 * the front when a row is added, so a group keeps what the tiers keep.
 *
 * The array always holds the smallest power of two of rows (at least 4)
 * that fits them, whatever added and removed them, so that a loaded
 * context weighs what the saved one did (cxm_stats::memory_bytes). */
#include "cohorts.h"
#include "codec.h"

#include <math.h>

static inline uint32_t stride(const cohorts *c)
{
	return 2 + c->nc + 2 * c->nt;
}

static inline uint64_t *row(const cohorts *c, uint32_t i)
{
	return c->rows + (size_t)(c->off + i) * stride(c);
}

void cxm__cohorts_init(cohorts *c, uint32_t counters, uint32_t times)
{
	memset(c, 0, sizeof *c);
	c->nc = counters;
	c->nt = times;
}

void cxm__cohorts_free(cxm_context *ctx, cohorts *c)
{
	if (c->rows)
		cxm__free(ctx, c->rows, (size_t)c->cap * stride(c) * sizeof(uint64_t));
	c->rows = NULL;
	c->off = c->n = c->cap = c->hint = 0;
}

/* Index of the first row whose hour is >= h (n: none). */
static uint32_t lower_bound(const cohorts *c, int64_t h)
{
	uint32_t lo = 0, hi = c->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if ((int64_t)row(c, mid)[0] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The row of hour h: its index, and whether it is there. */
static uint32_t find(const cohorts *c, int64_t h, bool *found)
{
	uint32_t i;
	if (c->hint < c->n && (int64_t)row(c, c->hint)[0] == h)
		i = c->hint;
	else if (c->n && (int64_t)row(c, c->n - 1)[0] == h)
		i = c->n - 1;
	else
		i = lower_bound(c, h);
	*found = i < c->n && (int64_t)row(c, i)[0] == h;
	return i;
}

static uint32_t fit(uint32_t n)
{
	uint32_t cap = 4;
	while (cap < n)
		cap *= 2;
	return cap;
}

/* Move the rows into an array of cap rows (at its front). */
static bool move_to(cxm_context *ctx, cohorts *c, uint32_t cap)
{
	const size_t w = stride(c) * sizeof(uint64_t);
	uint64_t *p = cxm__alloc(ctx, (size_t)cap * w);
	if (!p)
		return false;
	if (c->n)
		memcpy(p, c->rows + (size_t)c->off * stride(c), (size_t)c->n * w);
	if (c->rows)
		cxm__free(ctx, c->rows, (size_t)c->cap * w);
	c->rows = p;
	c->cap = cap;
	c->off = 0;
	return true;
}

/* After rows went: back to the size that fits them (kept as is if that
 * finds no memory), or none. */
static void shrink(cxm_context *ctx, cohorts *c)
{
	c->hint = 0;
	if (!c->n)
		cxm__cohorts_free(ctx, c);
	else if (c->cap > fit(c->n))
		(void)move_to(ctx, c, fit(c->n));
}

/* Room for one more row: compacts to the front or grows (doubling). */
static bool room(cxm_context *ctx, cohorts *c)
{
	if (c->off + c->n < c->cap)
		return true;
	const size_t w = stride(c) * sizeof(uint64_t);
	if (c->off) {
		memmove(c->rows, c->rows + (size_t)c->off * stride(c), (size_t)c->n * w);
		c->off = 0;
		return true;
	}
	if (c->cap > UINT32_MAX / 4)
		return false;
	return move_to(ctx, c, c->cap ? c->cap * 2 : 4);
}

/* Drop the rows wholly behind the horizon. */
static void prune(cxm_context *ctx, cohorts *c)
{
	int64_t hz = cxm__window_horizon(ctx);
	if (hz == INT64_MIN)
		return;
	uint32_t k = 0;
	while (k < c->n && ((int64_t)row(c, k)[0] + 1) * COHORT_MS <= hz)
		k++;
	if (!k)
		return;
	c->off += k;
	c->n -= k;
	shrink(ctx, c);
}

/* Insert an empty row of hour h at index i (room() was true). */
static uint64_t *insert(cohorts *c, uint32_t i, int64_t h)
{
	const size_t w = stride(c) * sizeof(uint64_t);
	uint64_t *at = row(c, i);
	if (i < c->n)
		memmove((unsigned char *)at + w, at, (size_t)(c->n - i) * w);
	memset(at, 0, w);
	at[0] = (uint64_t)h;
	at[1] = (uint64_t)INT64_MIN;
	c->n++;
	return at;
}

void cxm__cohorts_unreserve(cxm_context *ctx, cohorts *c)
{
	shrink(ctx, c);
}

bool cxm__cohorts_reserve(cxm_context *ctx, cohorts *c, const jop *op)
{
	/* room for a row, whichever row op needs: no search on the feed path
	 * (the fold finds the row) */
	if (c->off + c->n < c->cap)
		return true;
	bool found;
	(void)find(c, floordiv64(op->t0_ms, COHORT_MS), &found);
	return found || room(ctx, c);
}

static void fold_row(const cohorts *c, uint64_t *r, const jop *op)
{
	if ((int64_t)r[1] < op->t_ms)
		r[1] = (uint64_t)op->t_ms;
	uint64_t *cnt = r + 2;
	if (op->kind == JOP_COUNT) {
		for (uint32_t k = op->a; k <= op->b && k < c->nc; k++)
			cnt[k]++;
		return;
	}
	if (op->a >= c->nt)
		return;
	uint64_t *tn = cnt + c->nc, *ts = tn + c->nt;
	double sum;
	memcpy(&sum, &ts[op->a], sizeof sum);
	sum += op->v;
	memcpy(&ts[op->a], &sum, sizeof sum);
	tn[op->a]++;
}

void cxm__cohorts_fold(cxm_context *ctx, cohorts *c, const jop *op)
{
	const int64_t h = floordiv64(op->t0_ms, COHORT_MS);
	bool found;
	uint32_t i = find(c, h, &found);
	if (!found) {
		int64_t hz = cxm__window_horizon(ctx);
		if (hz != INT64_MIN && (h + 1) * COHORT_MS <= hz)
			return; /* behind what the tiers keep: as a series' lost bucket */
		if (c->off + c->n == c->cap)
			prune(ctx, c);
		if (!room(ctx, c)) {
			cxm__series_lost(ctx);
			return;
		}
		i = lower_bound(c, h); /* pruning and compacting moved the rows */
		insert(c, i, h);
	}
	c->hint = i;
	fold_row(c, row(c, i), op);
}

void cxm__cohorts_sum(const cohorts *c, int64_t a_ms, int64_t b_ms, cohort_sum *s)
{
	const int64_t ha = floordiv64(a_ms, COHORT_MS), hb = floordiv64(b_ms, COHORT_MS);
	for (uint32_t i = lower_bound(c, ha); i < c->n; i++) {
		const uint64_t *r = row(c, i);
		if ((int64_t)r[0] >= hb)
			break;
		const uint64_t *cnt = r + 2, *tn = cnt + c->nc, *ts = tn + c->nt;
		for (uint32_t k = 0; k < c->nc; k++)
			s->cnt[k] += cnt[k];
		for (uint32_t k = 0; k < c->nt; k++) {
			double v;
			memcpy(&v, &ts[k], sizeof v);
			s->tn[k] += tn[k];
			s->tsum[k] += v;
		}
	}
}

/* Add row src into row dst (same layout). */
static void add_row(const cohorts *c, uint64_t *dst, const uint64_t *src)
{
	if ((int64_t)dst[1] < (int64_t)src[1])
		dst[1] = src[1];
	/* saturating, as a cell's merge (see CELL_COUNT_MAX) */
	for (uint32_t k = 0; k < c->nc + c->nt; k++)
		dst[2 + k] = cell_add(dst[2 + k], src[2 + k]);
	const uint64_t *ss = src + 2 + c->nc + c->nt;
	uint64_t *ds = dst + 2 + c->nc + c->nt;
	for (uint32_t k = 0; k < c->nt; k++) {
		double a, b;
		memcpy(&a, &ds[k], sizeof a);
		memcpy(&b, &ss[k], sizeof b);
		a = sum_add(a, b, CELL_SUM_MAX);
		memcpy(&ds[k], &a, sizeof a);
	}
}

bool cxm__cohorts_add(cxm_context *ctx, cohorts *dst, const cohorts *src)
{
	bool ok = true;
	for (uint32_t j = 0; j < src->n; j++) {
		const uint64_t *r = row(src, j);
		bool found;
		uint32_t i = find(dst, (int64_t)r[0], &found);
		if (!found) {
			if (!room(ctx, dst)) {
				cxm__series_lost(ctx);
				ok = false;
				continue;
			}
			i = lower_bound(dst, (int64_t)r[0]);
			insert(dst, i, (int64_t)r[0]);
		}
		add_row(dst, row(dst, i), r);
	}
	return ok;
}

uint64_t cxm__cohorts_rewind(cxm_context *ctx, cohorts *c, int64_t time_ms)
{
	const size_t w = stride(c) * sizeof(uint64_t);
	uint32_t kept = 0;
	for (uint32_t i = 0; i < c->n; i++) {
		const uint64_t *r = row(c, i);
		if ((int64_t)r[0] * COHORT_MS > time_ms || (int64_t)r[1] > time_ms)
			continue;
		if (kept != i)
			memcpy(row(c, kept), r, w);
		kept++;
	}
	uint64_t gone = c->n - kept;
	c->n = kept;
	shrink(ctx, c);
	return gone;
}

void cxm__cohorts_write(struct wbuf *b, const cohorts *c)
{
	cxm__snap_put32(b, c->n);
	const uint32_t sw = stride(c);
	for (uint32_t i = 0; i < c->n; i++) {
		const uint64_t *r = row(c, i);
		for (uint32_t k = 0; k < sw; k++)
			cxm__snap_put64(b, r[k]);
	}
}

cxm_status cxm__cohorts_read(struct snap_in *in, cxm_context *into, cohorts *c, const char *jname)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	const uint32_t sw = stride(c);
	if (n > cxm__snap_left(in) / (sw * sizeof(uint64_t)))
		return CORRUPT(ctx, "journey '%s': %u entry cohorts claim more bytes than are left", jname, n);
	if (!n)
		return CXM_OK;
	c->rows = cxm__alloc(into, (size_t)fit(n) * sw * sizeof(uint64_t));
	if (!c->rows)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for the entry cohorts of journey '%s'",
				 jname);
	c->cap = fit(n);
	int64_t prev = INT64_MIN;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t *r = c->rows + (size_t)i * sw;
		for (uint32_t k = 0; k < sw; k++)
			if ((st = cxm__snap_get64(in, &r[k])))
				return st;
		c->n = i + 1; /* freed with c on failure */
		int64_t h = (int64_t)r[0], last = (int64_t)r[1];
		if (h <= prev || h < 0 || h > CXM_TIME_MAX / COHORT_MS)
			return CORRUPT(ctx, "journey '%s': entry cohort hours out of order or range", jname);
		/* every row counted something (a step may be timed before the
		 * instance's start, within the lateness) */
		if (last < 0 || last > CXM_TIME_MAX)
			return CORRUPT(ctx, "journey '%s': an entry cohort's latest event is out of range", jname);
		prev = h;
		/* within what a loader takes of any cell (CELL_LOAD_*), so that
		 * merges and feeds after the load cannot wrap or overflow */
		for (uint32_t k = 0; k < c->nc + c->nt; k++) {
			if (r[2 + k] > CELL_LOAD_COUNT_MAX)
				return CORRUPT(ctx, "journey '%s': an entry cohort's count is out of range", jname);
			if (r[2 + k] > CELL_COUNT_MAX) /* as a cell's count on loading */
				r[2 + k] = CELL_COUNT_MAX;
		}
		const uint64_t *tn = r + 2 + c->nc, *ts = tn + c->nt;
		for (uint32_t k = 0; k < c->nt; k++) {
			double v;
			memcpy(&v, &ts[k], sizeof v);
			if (!(v >= 0 && v <= CELL_LOAD_SUM_MAX) || (tn[k] == 0 && v != 0))
				return CORRUPT(ctx, "journey '%s': an entry cohort's times are not valid", jname);
			if (v > CELL_SUM_MAX) {
				v = CELL_SUM_MAX;
				memcpy(&r[2 + c->nc + c->nt + k], &v, sizeof v);
			}
		}
	}
	return CXM_OK;
}
