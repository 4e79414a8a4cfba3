/* Key drivers in snapshots and merges: a driver set's definition,
 * statistics and customer records in the DRIVERS section, and the
 * merge of a source's sets into the target's of the same name. */
#include "drivers.h"

#include <math.h>
#include <string.h>

/* What a loaded set's statistics may hold (stat_unflat checks it): at
 * most 2^53 pairs, means within the values' range, squared deviations and
 * co-moments at most n (2 CXM_VALUE_MAX)^2. Feeding keeps these; a merge
 * clamps to them, which only a hostile file's statistics can reach (real
 * values deviate by at most CXM_VALUE_MAX), so that what a merge leaves
 * is saved and loaded again. */
#define SPAN2 (4 * CXM_VALUE_MAX * CXM_VALUE_MAX)
#define MAX_PAIRS 0x1p53

static void mom_merge(mom *a, const mom *b)
{
	if (b->n == 0)
		return;
	double n = a->n + b->n, d = b->mean - a->mean;
	a->m2 += b->m2 + d * d * a->n * b->n / n;
	a->m2 = a->m2 > n * SPAN2 ? n * SPAN2 : a->m2;
	a->mean += d * b->n / n;
	a->n = n;
}

static void stat_merge(drv_stat *a, const drv_stat *b)
{
	if (b->x.n == 0 || a->x.n + b->x.n > MAX_PAIRS)
		return;
	double n = a->x.n + b->x.n;
	double dx = b->x.mean - a->x.mean, dy = b->y.mean - a->y.mean;
	a->cxy += b->cxy + dx * dy * a->x.n * b->x.n / n;
	a->cxy = a->cxy > n * SPAN2 ? n * SPAN2 : a->cxy < -n * SPAN2 ? -n * SPAN2 : a->cxy;
	mom_merge(&a->x, &b->x);
	mom_merge(&a->y, &b->y);
	for (int i = 0; i < 3; i++)
		mom_merge(&a->band[i], &b->band[i]);
}

/* ---- the DRIVERS section of a snapshot (docs/snapshot.md) ------------------------ */

static bool fits(const drv_set *s, const snap_limits *lim)
{
	if (s->def.outcome >= lim->metrics || s->def.driver >= lim->metrics ||
	    (s->def.journey != CXM_NONE && s->def.journey >= lim->journeys))
		return false;
	for (uint32_t d = 0; d < s->n; d++)
		if (s->tp[d] != CXM_NONE && s->tp[d] >= lim->touchpoints)
			return false;
	return true;
}

#define STAT_F64 16 /* doubles a driver's statistics take in a snapshot */

static void stat_flat(const drv_stat *t, double *f)
{
	const mom *ms[5] = {&t->x, &t->y, &t->band[0], &t->band[1], &t->band[2]};
	for (int i = 0; i < 5; i++) {
		f[3 * i] = ms[i]->n;
		f[3 * i + 1] = ms[i]->mean;
		f[3 * i + 2] = ms[i]->m2;
	}
	f[15] = t->cxy;
}

/* Statistics from their snapshot form; false when they cannot be a
 * set's: negative or fractional counts, bands that do not add up, means
 * outside what values can be (|v| <= CXM_VALUE_MAX), squared deviations
 * beyond n (2 CXM_VALUE_MAX)^2 — so that merging what was loaded stays
 * finite, and its snapshot loads again. */
static bool stat_unflat(const double *f, drv_stat *t)
{
	mom *ms[5] = {&t->x, &t->y, &t->band[0], &t->band[1], &t->band[2]};
	for (int i = 0; i < 16; i++)
		if (!isfinite(f[i]))
			return false;
	for (int i = 0; i < 5; i++) {
		const double n = f[3 * i], mean = f[3 * i + 1], m2 = f[3 * i + 2];
		if (n < 0 || n != floor(n) || n > MAX_PAIRS || fabs(mean) > CXM_VALUE_MAX || m2 < 0 ||
		    m2 > n * SPAN2)
			return false;
		*ms[i] = (mom){n, mean, m2};
	}
	if (fabs(f[15]) > t->x.n * SPAN2)
		return false;
	t->cxy = f[15];
	return t->x.n == t->y.n && t->band[0].n + t->band[1].n + t->band[2].n == t->x.n;
}

void cxm__drivers_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim)
{
	const struct drv_mod *m = mod_of(ctx);
	const uint32_t n = count_of(m);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += fits(m->s[i], lim);
	cxm__snap_put32(b, k);
	for (uint32_t i = 0; i < n; i++) {
		drv_set *s = m->s[i];
		if (!fits(s, lim))
			continue;
		cxm__snap_putstr(b, s->name);
		cxm__snap_put32(b, s->def.outcome);
		cxm__snap_put32(b, s->def.driver);
		cxm__snap_put32(b, s->def.journey);
		cxm__snap_put32(b, s->def.flags);
		cxm__snap_put64(b, (uint64_t)s->def.window_ms);
		cxm__snap_put32(b, s->n);
		for (uint32_t d = 0; d < s->n; d++)
			cxm__snap_put32(b, s->tp[d]);
		/* records first, then statistics: a value written is never paired
		 * after its statistics were copied */
		for (int j = 0; j < DRV_STRIPES; j++)
			pthread_mutex_lock(&s->stripes[j].lock);
		uint64_t recs = 0;
		for (int j = 0; j < DRV_STRIPES; j++)
			recs += s->stripes[j].count;
		cxm__snap_put64(b, recs);
		for (int j = 0; j < DRV_STRIPES; j++) {
			const drv_stripe *st = &s->stripes[j];
			for (uint32_t x = 0; x < st->cap; x++) {
				const drv_rec *r = &st->slots[x];
				if (!r->k0 && !r->k1)
					continue;
				cxm__snap_put64(b, r->k0);
				cxm__snap_put64(b, r->k1);
				for (int v = 0; v < CXM_DRIVER_KEEP; v++) {
					cxm__snap_put32(b, r->val[v].t_s);
					cxm__snap_put32(b, (uint32_t)r->val[v].driver << 16 | (uint16_t)r->val[v].v);
				}
			}
		}
		pthread_mutex_lock(&s->stat_lock);
		for (int j = DRV_STRIPES; j--;)
			pthread_mutex_unlock(&s->stripes[j].lock);
		cxm__snap_put64(b, s->outcomes);
		cxm__snap_put64(b, s->paired);
		cxm__snap_put64(b, s->unremembered);
		for (uint32_t d = 0; d < s->n; d++) {
			double f[STAT_F64];
			stat_flat(&s->stat[d], f);
			for (int j = 0; j < STAT_F64; j++)
				cxm__snap_put_f64(b, f[j]);
		}
		pthread_mutex_unlock(&s->stat_lock);
	}
}

/* Whether stored value v can be one of set s's driver metric. */
static bool value_ok(const cxm_context *ctx, const drv_set *s, int16_t v)
{
	const metric *mx = &ctx->model.metrics[s->def.driver];
	switch (mx->def.kind) {
	case CXM_KIND_SENTIMENT: return v >= -10000 && v <= 10000;
	case CXM_KIND_RATE: return v == 0 || v == 1;
	default: return v >= mx->def.scale_min && v <= mx->def.scale_max;
	}
}

/* Put record r (checked) into set s of a context being loaded: no
 * concurrency, records within the limit. */
static cxm_status put_rec(cxm_context *ctx, cxm_context *msg, drv_set *s, const drv_rec *r)
{
	const uint64_t h[2] = {r->k0, r->k1};
	drv_stripe *st = stripe_of(s, h);
	if (drv_find(st, h))
		return cxm__fail(msg, CXM_ERR_CORRUPT, "snapshot: a driver record is there twice");
	if ((st->count + 1) * 4 > st->cap * 3 &&
	    !cxm__drv_rehash(ctx, s, st, drv_grown(st->cap), 0, UINT32_MAX))
		return cxm__fail(msg, CXM_ERR_NO_MEMORY, "snapshot: no memory for driver records");
	drv_place(st->slots, st->cap, r);
	st->count++;
	atomic_fetch_add_explicit(&s->records, 1, memory_order_relaxed);
	return CXM_OK;
}

static cxm_status read_set(cxm_context *into, struct snap_in *in, uint32_t i)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	char name[4097];
	cxm_drivers_def d;
	cxm_drivers_def_init(&d, sizeof d);
	uint32_t n;
	cxm_id tp[CXM_DRIVERS_MAX];
	cxm_status st;
	if ((st = cxm__snap_getstr(in, name, sizeof name)) || (st = cxm__snap_get32(in, &d.outcome)) ||
	    (st = cxm__snap_get32(in, &d.driver)) || (st = cxm__snap_get32(in, &d.journey)) ||
	    (st = cxm__snap_get32(in, &d.flags)) || (st = cxm__snap_get_i64(in, &d.window_ms)) ||
	    (st = cxm__snap_get32(in, &n)))
		return st;
	if (n == 0 || n > CXM_DRIVERS_MAX)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u claims %u drivers", i, n);
	for (uint32_t j = 0; j < n; j++)
		if ((st = cxm__snap_get32(in, &tp[j])))
			return st;
	/* the overall driver is the last; the others are listed */
	const bool overall = tp[n - 1] == CXM_NONE;
	if (overall != !!(d.flags & CXM_DRIVERS_OVERALL))
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u: the overall driver", i);
	d.n_touchpoints = n - overall;
	d.touchpoints = tp;
	cxm_id id;
	if ((st = cxm_drivers_define(&id, into, name, &d))) {
		cxm_status code = st == CXM_ERR_NO_MEMORY ? st : CXM_ERR_CORRUPT;
		return cxm__relay(ctx, code, into, "snapshot: driver set %u", i);
	}
	drv_set *s = mod_of(into)->s[id];
	uint64_t recs;
	if ((st = cxm__snap_get64(in, &recs)))
		return st;
	if (recs > cxm__snap_left(in) / 64 || recs > into->max_customers)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u claims %llu records", i,
				 (unsigned long long)recs);
	for (uint64_t j = 0; j < recs; j++) {
		drv_rec r;
		if ((st = cxm__snap_get64(in, &r.k0)) || (st = cxm__snap_get64(in, &r.k1)))
			return st;
		bool any = false;
		for (int v = 0; v < CXM_DRIVER_KEEP; v++) {
			uint32_t w;
			if ((st = cxm__snap_get32(in, &r.val[v].t_s)) || (st = cxm__snap_get32(in, &w)))
				return st;
			r.val[v].driver = (uint16_t)(w >> 16);
			r.val[v].v = (int16_t)(uint16_t)w;
			if (r.val[v].driver > n || (r.val[v].driver && !value_ok(into, s, r.val[v].v)) ||
			    (!r.val[v].driver && (r.val[v].t_s || r.val[v].v)))
				return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u: a value", i);
			for (int u = 0; u < v; u++)
				if (r.val[v].driver && r.val[u].driver == r.val[v].driver)
					return cxm__fail(ctx, CXM_ERR_CORRUPT,
							 "snapshot: driver set %u: a driver twice", i);
			any = any || r.val[v].driver;
		}
		if ((!r.k0 && !r.k1) || !any)
			return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u: an empty record", i);
		if ((st = put_rec(into, ctx, s, &r)))
			return st;
	}
	if ((st = cxm__snap_get64(in, &s->outcomes)) || (st = cxm__snap_get64(in, &s->paired)) ||
	    (st = cxm__snap_get64(in, &s->unremembered)))
		return st;
	if (s->paired > s->outcomes)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u: more paired than outcomes", i);
	for (uint32_t j = 0; j < n; j++) {
		double f[STAT_F64];
		for (int x = 0; x < STAT_F64; x++)
			if ((st = cxm__snap_get_f64(in, &f[x])))
				return st;
		if (!stat_unflat(f, &s->stat[j]))
			return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: driver set %u: statistics", i);
	}
	return CXM_OK;
}

cxm_status cxm__drivers_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n > CXM_DRIVER_SETS_MAX)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: the drivers section claims %u sets", n);
	for (uint32_t i = 0; i < n && !st; i++)
		st = read_set(into, in, i);
	return st;
}

/* ---- merge ------------------------------------------------------------------------- */

/* Per set of the source that the target has too: the target's set and,
 * per stripe, an array for the union made ahead. */
typedef struct drv_pair {
	drv_set *dst;
	const drv_set *src;
	drv_rec *slots[DRV_STRIPES];
	uint32_t cap[DRV_STRIPES];
} drv_pair;

struct drv_merge {
	uint32_t n;
	drv_pair p[CXM_DRIVER_SETS_MAX];
};

/* Whether src's set s is dst's set d once its ids are mapped. */
static bool same_set(const drv_set *d, const drv_set *s, const cxm_id *metric_map, const cxm_id *tp_map)
{
	if (d->n != s->n || d->def.outcome != metric_map[s->def.outcome] ||
	    d->def.driver != metric_map[s->def.driver] || d->def.window_ms != s->def.window_ms ||
	    d->def.flags != s->def.flags)
		return false;
	for (uint32_t i = 0; i < d->n; i++)
		if (d->tp[i] != (s->tp[i] == CXM_NONE ? CXM_NONE : tp_map[s->tp[i]]))
			return false;
	return true;
}

void cxm__drivers_merge_abort(cxm_context *dst, struct drv_merge *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->n; i++)
		for (int j = 0; j < DRV_STRIPES; j++)
			cxm__free(dst, m->p[i].slots[j], (size_t)m->p[i].cap[j] * sizeof(drv_rec));
	cxm__free(dst, m, sizeof *m);
}

cxm_status cxm__drivers_merge_prepare(cxm_context *dst, cxm_context *src, const cxm_id *metric_map,
				      const cxm_id *tp_map, struct drv_merge **out)
{
	*out = NULL;
	const struct drv_mod *ms = mod_of(src), *md = mod_of(dst);
	if (!count_of(ms))
		return CXM_OK;
	struct drv_merge *m = cxm__calloc(dst, 1, sizeof *m);
	if (!m)
		return cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory");
	for (uint32_t i = 0; i < count_of(ms); i++) {
		const drv_set *s = ms->s[i];
		drv_set *d = NULL;
		for (uint32_t j = 0; j < count_of(md) && !d; j++)
			if (!strcmp(md->s[j]->name, s->name))
				d = md->s[j];
		if (!d)
			continue; /* the target's definitions are kept: see cxm_merge() */
		if (!same_set(d, s, metric_map, tp_map)) {
			cxm__drivers_merge_abort(dst, m);
			return cxm__fail(dst, CXM_ERR_INVALID,
					 "merge: driver set '%s' is defined otherwise in the two contexts",
					 s->name);
		}
		drv_pair *p = &m->p[m->n++];
		p->dst = d;
		p->src = s;
		for (int j = 0; j < DRV_STRIPES; j++) {
			pthread_mutex_lock(&d->stripes[j].lock);
			uint64_t want = (uint64_t)d->stripes[j].count + s->stripes[j].count;
			pthread_mutex_unlock(&d->stripes[j].lock);
			if (!s->stripes[j].count)
				continue;
			/* room for the union and a quarter more, which feeding may
			 * add before the commit */
			want += want / 4 + 1;
			uint64_t cap = DRV_MIN_CAP;
			while (cap * 3 < want * 4)
				cap += cap / 2;
			if (cap > UINT32_MAX || !(p->slots[j] = cxm__calloc(dst, cap, sizeof(drv_rec)))) {
				cxm__drivers_merge_abort(dst, m);
				return cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for driver records");
			}
			p->cap[j] = (uint32_t)cap;
		}
	}
	*out = m;
	return CXM_OK;
}

/* Source record r into the target's stripe st of set d: values merged
 * into the customer's record (the latest per driver), or a new record
 * when there is room; else its values count as unremembered. */
static uint64_t merge_rec(cxm_context *ctx, drv_set *d, drv_stripe *st, const drv_rec *r)
{
	const uint64_t h[2] = {r->k0, r->k1};
	drv_rec *x = drv_find(st, h);
	if (!x) {
		if ((st->count + 1) * 4 > st->cap * 3 ||
		    atomic_load_explicit(&d->records, memory_order_relaxed) >= ctx->max_customers)
			return 1;
		drv_rec fresh = {.k0 = h[0], .k1 = h[1]};
		x = drv_place(st->slots, st->cap, &fresh);
		st->count++;
		atomic_fetch_add_explicit(&d->records, 1, memory_order_relaxed);
	}
	for (int i = 0; i < CXM_DRIVER_KEEP; i++)
		if (r->val[i].driver)
			cxm__drv_rec_set(x, r->val[i].driver - 1u, r->val[i].t_s, r->val[i].v);
	return 0;
}

void cxm__drivers_merge_commit(cxm_context *dst, cxm_context *src, struct drv_merge *m)
{
	(void)src;
	if (!m)
		return;
	for (uint32_t i = 0; i < m->n; i++) {
		drv_pair *p = &m->p[i];
		drv_set *d = p->dst;
		uint64_t lost = 0;
		for (int j = 0; j < DRV_STRIPES; j++) {
			drv_stripe *st = &d->stripes[j];
			const drv_stripe *ss = &p->src->stripes[j];
			pthread_mutex_lock(&st->lock);
			if (p->slots[j] && (uint64_t)(st->count + ss->count) * 4 <= (uint64_t)p->cap[j] * 3) {
				/* the target's records into the array made ahead */
				for (uint32_t x = 0; x < st->cap; x++)
					if (st->slots[x].k0 || st->slots[x].k1)
						drv_place(p->slots[j], p->cap[j], &st->slots[x]);
				if (st->slots) {
					cxm__wipe(st->slots, (size_t)st->cap * sizeof(drv_rec));
					cxm__free(dst, st->slots, (size_t)st->cap * sizeof(drv_rec));
				}
				atomic_fetch_add_explicit(&d->rec_bytes,
							  ((uint64_t)p->cap[j] - st->cap) * sizeof(drv_rec),
							  memory_order_relaxed);
				st->slots = p->slots[j];
				st->cap = p->cap[j];
				drv_publish(st);
				p->slots[j] = NULL;
			}
			for (uint32_t x = 0; x < ss->cap; x++)
				if (ss->slots[x].k0 || ss->slots[x].k1)
					lost += merge_rec(dst, d, st, &ss->slots[x]);
			pthread_mutex_unlock(&st->lock);
		}
		pthread_mutex_lock(&d->stat_lock);
		for (uint32_t k = 0; k < d->n; k++)
			stat_merge(&d->stat[k], &p->src->stat[k]);
		d->outcomes += p->src->outcomes;
		d->paired += p->src->paired;
		d->unremembered += p->src->unremembered + lost;
		pthread_mutex_unlock(&d->stat_lock);
	}
	cxm__drivers_merge_abort(dst, m); /* the arrays not taken, and m */
}
