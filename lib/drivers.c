/* Key drivers: which touchpoints' experience goes with an outcome, and
 * what an experience band is worth.
 *
 * A driver set remembers, per customer, the latest value of its driver
 * metric at each driver (a touchpoint, or any touchpoint for the overall
 * driver), and when the customer's outcome arrives pairs it with each
 * value still in the window. Per driver it keeps the sufficient statistics
 * of those pairs: counts, means and co-moments (updated as Welford does,
 * merged as Chan et al. do), and the outcome's moments per experience
 * band. Nothing per pair is kept.
 *
 * Sets are appended under the definition lock and published with a
 * release store; an entry never changes after. A set's customer records
 * live in stripes of open-addressed tables (linear probing, a
 * multiply-shift home, at most 3/4 full, growing by half), each under its own lock; statistics under
 * the set's lock, taken after a stripe's. Feeding calls in with its
 * shard's lock held: shard, stripe, statistics, never the other way. */
#include "drivers.h"

#include <math.h>
#include <string.h>

static void set_free(cxm_context *ctx, drv_set *s)
{
	for (int i = 0; i < DRV_STRIPES; i++) {
		drv_stripe *st = &s->stripes[i];
		if (st->slots) {
			cxm__wipe(st->slots, (size_t)st->cap * sizeof(drv_rec));
			cxm__free(ctx, st->slots, (size_t)st->cap * sizeof(drv_rec));
		}
		pthread_mutex_destroy(&st->lock);
	}
	pthread_mutex_destroy(&s->stat_lock);
	cxm__strfree(ctx, s->name);
	cxm__free(ctx, s->of_tp, s->n_of_tp);
	cxm__free(ctx, s, sizeof *s);
}

void cxm__drivers_free(cxm_context *ctx)
{
	struct drv_mod *m = mod_of(ctx);
	if (!m)
		return;
	for (uint32_t i = 0; i < count_of(m); i++)
		set_free(ctx, m->s[i]);
	cxm__free(ctx, m, sizeof *m);
	atomic_store_explicit(&ctx->drivers, NULL, memory_order_release);
}

cxm_status cxm_drivers_def_init(cxm_drivers_def *def, size_t size)
{
	cxm_status st = cxm__init_struct(def, size, sizeof(cxm_drivers_def), "cxm_drivers_def", "def");
	if (!st)
		def->journey = CXM_NONE;
	return st;
}

/* ---- values ------------------------------------------------------------------- */

static bool driver_kind(cxm_metric_kind k)
{
	return k == CXM_KIND_SCORE || k == CXM_KIND_RATE || k == CXM_KIND_SENTIMENT;
}

static bool outcome_kind(cxm_metric_kind k)
{
	return k == CXM_KIND_SCORE || k == CXM_KIND_RATE || k == CXM_KIND_AMOUNT ||
	       k == CXM_KIND_DURATION || k == CXM_KIND_SENTIMENT;
}

/* Band of value x: 0 bottom box, 1 middle, 2 top box. */
static int band_of(const drv_set *s, double x)
{
	return x >= s->top_min ? 2 : x <= s->bottom_max ? 0 : 1;
}

static void mom_add(mom *a, double v)
{
	a->n += 1;
	double d = v - a->mean;
	a->mean += d / a->n;
	a->m2 += d * (v - a->mean);
}


static void stat_add(drv_set *s, uint32_t d, double x, double y)
{
	drv_stat *t = &s->stat[d];
	/* the co-moment with the x deviation before and the y after its update */
	double dx = x - t->x.mean;
	mom_add(&t->x, x);
	mom_add(&t->y, y);
	t->cxy += dx * (y - t->y.mean);
	mom_add(&t->band[band_of(s, x)], y);
}


/* ---- definition --------------------------------------------------------------- */

static cxm_status check_def(cxm_context *ctx, const cxm_drivers_def *d)
{
	cxm_status st = cxm__check_struct(ctx, d, sizeof *d, sizeof *d, "cxm_drivers_def");
	if (st)
		return st;
	if (d->reserved[0] || d->reserved[1] || d->reserved[2] || d->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_drivers_def.reserved must be zero");
	if (d->flags & ~(uint32_t)CXM_DRIVERS_OVERALL)
		return cxm__fail(ctx, CXM_ERR_INVALID, "flags 0x%x: unknown bits", d->flags);
	const model *md = &ctx->model;
	uint32_t nm = atomic_load_explicit(&md->n_metrics, memory_order_acquire);
	if (d->outcome >= nm || d->driver >= nm)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined",
				 d->outcome >= nm ? d->outcome : d->driver);
	const metric *mo = &md->metrics[d->outcome], *mx = &md->metrics[d->driver];
	if (!outcome_kind(mo->def.kind))
		return cxm__fail(ctx, CXM_ERR_KIND,
				 "metric '%s' cannot be an outcome: a SCORE, RATE, AMOUNT, DURATION or "
				 "SENTIMENT can", mo->name);
	if (!driver_kind(mx->def.kind))
		return cxm__fail(ctx, CXM_ERR_KIND,
				 "metric '%s' cannot be a driver: a SCORE, RATE or SENTIMENT can", mx->name);
	if (mx->def.kind == CXM_KIND_SCORE && (mx->def.scale_min < INT16_MIN || mx->def.scale_max > INT16_MAX))
		return cxm__fail(ctx, CXM_ERR_KIND, "metric '%s': a driver's scale must lie in -32768 .. 32767",
				 mx->name);
	if (d->window_ms < 0 || d->window_ms > CXM_JOURNEY_MAX_WINDOW_MS)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "window_ms %lld is outside 1 .. CXM_JOURNEY_MAX_WINDOW_MS (0: 30 days)",
				 (long long)d->window_ms);
	if (d->n_touchpoints && !d->touchpoints)
		return cxm__fail(ctx, CXM_ERR_INVALID, "touchpoints is NULL with n_touchpoints %u",
				 d->n_touchpoints);
	if (d->journey != CXM_NONE &&
	    d->journey >= atomic_load_explicit(&md->n_journeys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", d->journey);
	return CXM_OK;
}

/* The set's drivers from the definition, into s->tp and s->n. */
static cxm_status resolve_drivers(cxm_context *ctx, const cxm_drivers_def *d, drv_set *s)
{
	const model *md = &ctx->model;
	uint32_t nt = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
	uint32_t n = 0;
	if (d->n_touchpoints) {
		if (d->n_touchpoints > CXM_DRIVERS_MAX)
			return cxm__fail(ctx, CXM_ERR_LIMIT, "%u drivers; at most %d", d->n_touchpoints,
					 CXM_DRIVERS_MAX);
		for (uint32_t i = 0; i < d->n_touchpoints; i++) {
			cxm_id tp = d->touchpoints[i];
			if (tp >= nt)
				return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "touchpoint %u is not defined", tp);
			for (uint32_t j = 0; j < i; j++)
				if (d->touchpoints[j] == tp)
					return cxm__fail(ctx, CXM_ERR_INVALID, "touchpoint %u is listed twice", tp);
			s->tp[n++] = tp;
		}
	} else if (d->journey != CXM_NONE) {
		/* the journey's steps in order, each step's touchpoints by id */
		const journey *j = &md->journeys[d->journey];
		for (uint32_t step = 0; step < j->n_steps; step++)
			for (uint32_t tp = 0; tp < nt; tp++) {
				if (md->touchpoints[tp].journey != d->journey || md->touchpoints[tp].step != step)
					continue;
				if (n == CXM_DRIVERS_MAX)
					return cxm__fail(ctx, CXM_ERR_LIMIT,
							 "journey %u has more than %d touchpoints", d->journey,
							 CXM_DRIVERS_MAX);
				s->tp[n++] = tp;
			}
	}
	if (d->flags & CXM_DRIVERS_OVERALL) {
		if (n == CXM_DRIVERS_MAX)
			return cxm__fail(ctx, CXM_ERR_LIMIT, "%d drivers and the overall one; at most %d",
					 CXM_DRIVERS_MAX, CXM_DRIVERS_MAX);
		s->tp[n++] = CXM_NONE;
	}
	if (!n)
		return cxm__fail(ctx, CXM_ERR_INVALID,
				 "no driver: list touchpoints, name a journey with touchpoints, or set "
				 "CXM_DRIVERS_OVERALL");
	s->n = n;
	/* the driver of each touchpoint, looked up by id when feeding */
	s->overall = -1;
	for (uint32_t k = 0; k < n; k++)
		if (s->tp[k] == CXM_NONE)
			s->overall = (int)k;
		else if (s->tp[k] + 1 > s->n_of_tp)
			s->n_of_tp = s->tp[k] + 1;
	if (s->n_of_tp && !(s->of_tp = cxm__calloc(ctx, s->n_of_tp, 1))) {
		s->n_of_tp = 0;
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating a driver set's touchpoint map failed");
	}
	for (uint32_t k = 0; k < n; k++)
		if (s->tp[k] != CXM_NONE)
			s->of_tp[s->tp[k]] = (uint8_t)(k + 1);
	return CXM_OK;
}

/* Make a set (not published) from a checked definition. */
static cxm_status set_make(cxm_context *ctx, const char *name, const cxm_drivers_def *d, drv_set **out)
{
	drv_set *s = cxm__calloc(ctx, 1, sizeof *s);
	if (!s)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating driver set '%s' failed", name);
	cxm_status st = resolve_drivers(ctx, d, s);
	int i = 0;
	if (!st && cxm__mutex_init(&s->stat_lock))
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "a mutex for driver set '%s' failed", name);
	for (; !st && i < DRV_STRIPES; i++)
		if (cxm__mutex_init(&s->stripes[i].lock))
			st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "a mutex for driver set '%s' failed", name);
	if (!st && !(s->name = cxm__strdup(ctx, name)))
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating driver set '%s' failed", name);
	if (st) {
		if (i) { /* every mutex made so far, the statistics' first */
			while (i--)
				pthread_mutex_destroy(&s->stripes[i].lock);
			pthread_mutex_destroy(&s->stat_lock);
		}
		cxm__free(ctx, s->of_tp, s->n_of_tp);
		cxm__free(ctx, s, sizeof *s);
		return st;
	}
	s->def = *d;
	s->def.size = sizeof s->def;
	s->def.touchpoints = NULL;
	s->def.n_touchpoints = 0;
	if (!s->def.window_ms)
		s->def.window_ms = WINDOW_30D_MS;
	const metric *mx = &ctx->model.metrics[d->driver];
	switch (mx->def.kind) {
	case CXM_KIND_SENTIMENT:
		s->scale = 10000;
		s->top_min = mx->def.top_min[0] / 100.0;
		s->bottom_max = mx->def.bottom_max[0] / 100.0;
		break;
	case CXM_KIND_RATE:
		s->scale = 1;
		s->top_min = 1;
		s->bottom_max = 0;
		break;
	default:
		s->scale = 1;
		s->top_min = mx->def.top_min[0];
		s->bottom_max = mx->def.bottom_max[0];
		break;
	}
	*out = s;
	return CXM_OK;
}

cxm_status cxm_drivers_define(cxm_id *out, cxm_context *ctx, const char *name,
			      const cxm_drivers_def *def)
{
	if (!out || !ctx || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	cxm_status st = cxm__check_name(ctx, name, "driver set");
	if (st || (st = check_def(ctx, def)))
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	struct drv_mod *m = mod_of(ctx);
	const bool fresh = !m;
	drv_set *s = NULL;
	if (fresh && !(m = cxm__calloc(ctx, 1, sizeof *m))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the driver sets failed");
		goto out;
	}
	const uint32_t n = count_of(m);
	for (uint32_t i = 0; i < n && !st; i++)
		if (!strcmp(m->s[i]->name, name))
			st = cxm__fail(ctx, CXM_ERR_EXISTS, "driver set '%s' is defined already", name);
	if (!st && n >= CXM_DRIVER_SETS_MAX)
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "%d driver sets are defined", CXM_DRIVER_SETS_MAX);
	if (!st)
		st = set_make(ctx, name, def, &s);
	if (st) {
		if (fresh)
			cxm__free(ctx, m, sizeof *m);
		goto out;
	}
	m->s[n] = s;
	if (fresh)
		atomic_store_explicit(&ctx->drivers, m, memory_order_release);
	atomic_store_explicit(&m->n, n + 1, memory_order_release);
	*out = n;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

cxm_status cxm_drivers_find(cxm_id *out, const cxm_context *ctx, const char *name)
{
	if (!out || !ctx || !name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "name");
	const struct drv_mod *m = mod_of(ctx);
	for (uint32_t i = 0; i < count_of(m); i++)
		if (!strcmp(m->s[i]->name, name)) {
			*out = i;
			return CXM_OK;
		}
	return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "no driver set is named '%s'", name);
}

cxm_status cxm_drivers_get(cxm_drivers_def *out, const char **name, const cxm_context *ctx, cxm_id set)
{
	if (!out || !ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_drivers_def");
	if (st)
		return st;
	const struct drv_mod *m = mod_of(ctx);
	if (set >= count_of(m))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "driver set %u is not defined", set);
	const drv_set *s = m->s[set];
	cxm_drivers_def d = s->def;
	d.touchpoints = s->tp;
	d.n_touchpoints = s->n - (s->overall >= 0);
	cxm__put_out(out, &d, sizeof d);
	if (name)
		*name = s->name;
	return CXM_OK;
}

/* ---- customer records ------------------------------------------------------------ */

/* Whether any of r's values may still pair with an outcome at now_s. */
static bool live(const drv_rec *r, uint32_t now_s, uint32_t win_s)
{
	for (int i = 0; i < CXM_DRIVER_KEEP; i++)
		if (r->val[i].driver && (int64_t)r->val[i].t_s + win_s >= now_s)
			return true;
	return false;
}

/* Rehash stripe st into a new array of cap slots, leaving out records
 * with no live value at now_s (pass win_s UINT32_MAX to keep all). */
bool cxm__drv_rehash(cxm_context *ctx, drv_set *s, drv_stripe *st, uint32_t cap, uint32_t now_s,
		   uint32_t win_s)
{
	drv_rec *slots = cxm__calloc(ctx, cap, sizeof(drv_rec));
	if (!slots)
		return false;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < st->cap; i++) {
		const drv_rec *r = &st->slots[i];
		if ((r->k0 || r->k1) && live(r, now_s, win_s)) {
			drv_place(slots, cap, r);
			kept++;
		}
	}
	if (st->slots) {
		cxm__wipe(st->slots, (size_t)st->cap * sizeof(drv_rec));
		cxm__free(ctx, st->slots, (size_t)st->cap * sizeof(drv_rec));
	}
	atomic_fetch_sub_explicit(&s->records, st->count - kept, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->rec_bytes, ((uint64_t)cap - st->cap) * sizeof(drv_rec),
				  memory_order_relaxed);
	st->slots = slots;
	st->cap = cap;
	st->count = kept;
	drv_publish(st);
	return true;
}

/* The record of h in stripe st, made if need be; NULL when it cannot be
 * had (the set holds max_customers records, or no memory). */
static drv_rec *find_or_make(cxm_context *ctx, drv_set *s, drv_stripe *st, const uint64_t h[2],
			     uint32_t now_s)
{
	drv_rec *r = drv_find(st, h);
	if (r)
		return r;
	if ((st->count + 1) * 4 > st->cap * 3) {
		/* one rehash that drops the records whose values all left the
		 * window, into the same size if that makes room, else a larger */
		const uint32_t win_s = (uint32_t)(s->def.window_ms / 1000 + 1);
		uint32_t live_n = 0;
		for (uint32_t i = 0; i < st->cap; i++)
			live_n += (st->slots[i].k0 || st->slots[i].k1) && live(&st->slots[i], now_s, win_s);
		uint32_t cap = st->cap ? st->cap : DRV_MIN_CAP;
		if ((live_n + 1) * 4 > cap * 3)
			cap = drv_grown(cap);
		if (!cxm__drv_rehash(ctx, s, st, cap, now_s, win_s))
			return NULL;
	}
	if (atomic_load_explicit(&s->records, memory_order_relaxed) >= ctx->max_customers)
		return NULL;
	drv_rec fresh = {.k0 = h[0], .k1 = h[1]};
	st->count++;
	atomic_fetch_add_explicit(&s->records, 1, memory_order_relaxed);
	return drv_place(st->slots, st->cap, &fresh);
}

/* Remove the record at slot i of st, shifting back the records after it
 * that probed past it, so that no tombstone is left. */
static void remove_at(drv_stripe *st, uint32_t i)
{
	memset(&st->slots[i], 0, sizeof st->slots[i]);
	for (uint32_t j = i + 1 == st->cap ? 0 : i + 1; st->slots[j].k0 || st->slots[j].k1;
	     j = j + 1 == st->cap ? 0 : j + 1) {
		const uint32_t home = home_of(st->slots[j].k0, st->cap);
		/* j's record may move to i when its home is not in (i, j] */
		const bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		st->slots[i] = st->slots[j];
		memset(&st->slots[j], 0, sizeof st->slots[j]);
		i = j;
	}
	st->count--;
}

bool cxm__drivers_forget(cxm_context *ctx, const uint64_t h[2])
{
	const struct drv_mod *m = mod_of(ctx);
	bool any = false;
	for (uint32_t k = 0; k < count_of(m); k++) {
		drv_set *s = m->s[k];
		drv_stripe *st = stripe_of(s, h);
		pthread_mutex_lock(&st->lock);
		drv_rec *r = drv_find(st, h);
		if (r) {
			remove_at(st, (uint32_t)(r - st->slots));
			atomic_fetch_sub_explicit(&s->records, 1, memory_order_relaxed);
			any = true;
		}
		pthread_mutex_unlock(&st->lock);
	}
	return any;
}

/* Set driver d's value in r: the latest by time; a new driver takes the
 * slot of the oldest value when all are used. */
void cxm__drv_rec_set(drv_rec *r, uint32_t d, uint32_t t_s, int16_t v)
{
	int free_at = -1, oldest = 0;
	for (int i = 0; i < CXM_DRIVER_KEEP; i++) {
		drv_val *x = &r->val[i];
		if (x->driver == d + 1) {
			if (t_s >= x->t_s) {
				x->t_s = t_s;
				x->v = v;
			}
			return;
		}
		if (!x->driver && free_at < 0)
			free_at = i;
		if (x->driver && r->val[oldest].driver && x->t_s < r->val[oldest].t_s)
			oldest = i;
	}
	int i = free_at >= 0 ? free_at : oldest;
	if (free_at < 0 && r->val[i].t_s > t_s)
		return; /* older than every value kept */
	r->val[i] = (drv_val){t_s, (uint16_t)(d + 1), v};
}

/* ---- feeding ------------------------------------------------------------------------- */

static void set_feed(cxm_context *ctx, drv_set *s, const cxm_interaction *ix, const uint64_t *h)
{
	const metric *mets = ctx->model.metrics;
	const cxm_measure *dm = NULL, *om = NULL;
	for (size_t j = 0; j < ix->n_measures; j++) {
		const cxm_measure *ms = &ix->measures[j];
		if (ms->item || (ms->metric != s->def.driver && ms->metric != s->def.outcome) ||
		    cxm__is_na(&mets[ms->metric], ms->value))
			continue;
		if (ms->metric == s->def.driver && !dm)
			dm = ms;
		if (ms->metric == s->def.outcome && !om)
			om = ms;
	}
	if (!dm && !om)
		return;
	const uint32_t t_s = cxm__cust_s(ix->time_ms);
	drv_stripe *st = stripe_of(s, h);
	pthread_mutex_lock(&st->lock);
	drv_rec *r = NULL;
	bool lost = false;
	if (dm) {
		const int16_t v = (int16_t)lrint(dm->value * s->scale);
		/* the touchpoint's driver, then the overall one */
		int ds[2], nd = 0;
		if (ix->touchpoint < s->n_of_tp && s->of_tp[ix->touchpoint])
			ds[nd++] = s->of_tp[ix->touchpoint] - 1;
		if (s->overall >= 0)
			ds[nd++] = s->overall;
		if (nd && !(r = find_or_make(ctx, s, st, h, t_s)))
			lost = true;
		for (int i = 0; r && i < nd; i++)
			cxm__drv_rec_set(r, (uint32_t)ds[i], t_s, v);
	}
	uint32_t np = 0;
	uint32_t pd[CXM_DRIVER_KEEP];
	double px[CXM_DRIVER_KEEP];
	if (om && (r || (r = drv_find(st, h)))) {
		const int64_t win_s = s->def.window_ms / 1000;
		for (int i = 0; i < CXM_DRIVER_KEEP; i++) {
			const drv_val *x = &r->val[i];
			if (x->driver && x->t_s <= t_s && (int64_t)t_s - x->t_s <= win_s) {
				pd[np] = x->driver - 1u;
				px[np++] = x->v / s->scale;
			}
		}
	}
	if (!om && !lost) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	pthread_mutex_lock(&s->stat_lock);
	pthread_mutex_unlock(&st->lock);
	s->unremembered += lost;
	if (om) {
		s->outcomes++;
		s->paired += np != 0;
		for (uint32_t i = 0; i < np; i++)
			stat_add(s, pd[i], px[i], om->value);
	}
	pthread_mutex_unlock(&s->stat_lock);
}

/* Whether ix carries set s's driver or outcome metric (any item, any
 * value: a cheap over-approximation of set_feed's test). */
static bool carries(const drv_set *s, const cxm_interaction *ix)
{
	for (size_t j = 0; j < ix->n_measures; j++)
		if (ix->measures[j].metric == s->def.driver || ix->measures[j].metric == s->def.outcome)
			return true;
	return false;
}

bool cxm__drivers_touch(const cxm_context *ctx, const cxm_interaction *ix)
{
	const struct drv_mod *m = mod_of(ctx);
	if (!ix->measures || ix->n_measures > ctx->max_measures)
		return false; /* refused later */
	for (uint32_t i = 0; i < count_of(m); i++)
		if (carries(m->s[i], ix))
			return true;
	return false;
}

bool cxm__drivers_prefetch(const cxm_context *ctx, const cxm_interaction *ix, const uint64_t *hash)
{
	const struct drv_mod *m = mod_of(ctx);
	const uint32_t n = count_of(m);
	bool any = false;
	for (uint32_t i = 0; i < n; i++) {
		const drv_set *s = m->s[i];
		if (!carries(s, ix))
			continue;
		any = true;
		drv_stripe *st = stripe_of((drv_set *)s, hash);
		const drv_rec *slots = atomic_load_explicit(&st->pf_slots, memory_order_relaxed);
		const uint32_t cap = atomic_load_explicit(&st->pf_cap, memory_order_relaxed);
		if (slots && cap)
			__builtin_prefetch(&slots[home_of(hash[0], cap)]);
	}
	return any;
}

void cxm__drivers_feed(cxm_context *ctx, const cxm_interaction *ix, const uint64_t *hash)
{
	const struct drv_mod *m = mod_of(ctx);
	const uint32_t n = count_of(m);
	for (uint32_t i = 0; i < n; i++)
		set_feed(ctx, m->s[i], ix, hash);
}
