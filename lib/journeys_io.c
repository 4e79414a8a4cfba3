/* The journey state in snapshots (the JOURNEYS and COHORTS sections,
 * docs/snapshot.md) and in merges: what journeys.c keeps, written and
 * read through the codec functions cxm__snap_*. */
#include "journeys.h"

#include <stdio.h>

/* ---- snapshots: the JOURNEYS section and merge ------------------------------------ *
 *
 * The section (docs/snapshot.md) holds the module's churn series, then per
 * journey with state its options and groups, each group its counter series
 * and its step-time series; journey and group lists end with a marker, so
 * that a journey or group published while the section is written is simply
 * in it or not. */

#define SNAP_END UINT32_MAX
enum { SNAP_GROUP_END = 0, SNAP_GROUP_SEGMENT = 1, SNAP_GROUP_CHANNEL = 2 };

/* Group g of js: its series into b and, if it has any, its entry cohorts
 * into cb (the COHORTS section), in one pass under the journey's lock, so
 * that COHORTS names exactly the groups JOURNEYS holds even while feeds
 * publish new ones. */
static void group_write(struct wbuf *b, struct wbuf *cb, const jstate *js, const jgroup *g,
			uint32_t kind, uint32_t a, uint32_t v)
{
	cxm__snap_put32(b, kind);
	cxm__snap_put32(b, a);
	cxm__snap_put32(b, v);
	cxm__snap_put_series(b, g->counts);
	for (uint32_t k = 0; k < js->n_steps; k++)
		cxm__snap_put_series(b, g->times[k]);
	if (!g->coh.n)
		return;
	cxm__snap_put32(cb, kind);
	cxm__snap_put32(cb, a);
	cxm__snap_put32(cb, v);
	cxm__cohorts_write(cb, &g->coh);
}

void cxm__journeys_write(cxm_context *ctx, struct wbuf *b, struct wbuf *cb, uint32_t n_journeys,
			 uint32_t n_segments, const uint32_t *n_values)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	cxm__snap_put32(b, mod ? 1 : 0);
	if (!mod)
		return;
	pthread_mutex_lock(&mod->lock);
	cxm__snap_put_series(b, mod->churn);
	pthread_mutex_unlock(&mod->lock);
	for (uint32_t j = 0; j < n_journeys && j < mod->n_js; j++) {
		jstate *js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
		if (!js)
			continue;
		pthread_mutex_lock(&js->lock);
		cxm__snap_put32(b, j);
		cxm__snap_put32(b, js->n_steps);
		cxm__snap_put32(b, atomic_load_explicit(&js->o_flags, memory_order_relaxed));
		cxm__snap_put64(b, (uint64_t)atomic_load_explicit(&js->o_conversion, memory_order_relaxed));
		cxm__snap_put64(b, (uint64_t)atomic_load_explicit(&js->o_abandon, memory_order_relaxed));
		cxm__snap_put64(b, (uint64_t)atomic_load_explicit(&js->o_lateness, memory_order_relaxed));
		cxm__snap_put64(b, (uint64_t)atomic_load_explicit(&js->o_repeat, memory_order_relaxed));
		cxm__snap_put32(cb, j);
		/* the whole journey, segment values in the model written only
		 * (see model_io.c's cxm__model_write), channels; each group read once */
		jgroup *g = atomic_load_explicit(&js->by_slot[0], memory_order_acquire);
		if (g)
			group_write(b, cb, js, g, SNAP_GROUP_SEGMENT, CXM_NONE, CXM_NONE);
		for (uint32_t d = 0; d < n_segments; d++) {
			const segment *sg = &ctx->model.segments[d];
			for (uint32_t v = 0; v < n_values[d]; v++) {
				g = atomic_load_explicit(&js->by_slot[1 + sg->slot_base + v], memory_order_acquire);
				if (g)
					group_write(b, cb, js, g, SNAP_GROUP_SEGMENT, d, v);
			}
		}
		for (uint32_t c = 1; c < N_CHANNELS; c++) {
			g = atomic_load_explicit(&js->by_chan[c], memory_order_acquire);
			if (g)
				group_write(b, cb, js, g, SNAP_GROUP_CHANNEL, c, 0);
		}
		cxm__snap_put32(b, SNAP_GROUP_END);
		cxm__snap_put32(cb, SNAP_GROUP_END);
		pthread_mutex_unlock(&js->lock);
	}
	cxm__snap_put32(b, SNAP_END);
	cxm__snap_put32(cb, SNAP_END);
}

static cxm_status snap_corrupt_journey(struct snap_in *in, const cxm_context *into, uint32_t j,
				       const char *what)
{
	return cxm__fail(cxm__snap_ctx(in), CXM_ERR_CORRUPT, "snapshot: journey '%s': %s",
			 into->model.journeys[j].name, what);
}

/* The options of a record, checked as cxm_journey_set_options checks them. */
static cxm_status snap_options_read(struct snap_in *in, const cxm_context *into, uint32_t j,
				    cxm_journey_options *o)
{
	uint32_t flags;
	uint64_t v[4];
	cxm_status st = cxm__snap_get32(in, &flags);
	for (int i = 0; i < 4 && !st; i++)
		st = cxm__snap_get64(in, &v[i]);
	if (st)
		return st;
	cxm__journey_default_options(into, o);
	o->flags = flags;
	o->conversion_ms = (int64_t)v[0];
	o->abandon_ms = (int64_t)v[1];
	o->lateness_ms = (int64_t)v[2];
	o->repeat_ms = (int64_t)v[3];
	if ((flags & ~(uint32_t)ALL_FLAGS) || cxm__journey_flags_conflict(flags) || o->conversion_ms < 1000 ||
	    o->conversion_ms > MAX_WINDOW_MS || o->abandon_ms < 1000 || o->abandon_ms > MAX_WINDOW_MS ||
	    o->lateness_ms < 1 || o->lateness_ms > MAX_WINDOW_MS || o->repeat_ms < 1000 ||
	    o->repeat_ms > MAX_REPEAT_MS)
		return snap_corrupt_journey(in, into, j, "its options are out of range");
	return CXM_OK;
}


/* Where a snapshot's group (kind, a, v) goes in js; NULL: it names none. */
static _Atomic(jgroup *) *group_at(const cxm_context *into, jstate *js, uint32_t kind, uint32_t a,
				   uint32_t v)
{
	const model *md = &into->model;
	uint32_t nseg = atomic_load_explicit(&md->n_segments, memory_order_acquire);
	if (kind == SNAP_GROUP_SEGMENT && a == CXM_NONE && v == CXM_NONE)
		return &js->by_slot[0];
	if (kind == SNAP_GROUP_SEGMENT && a < nseg &&
	    v < atomic_load_explicit(&md->segments[a].n_values, memory_order_acquire))
		return &js->by_slot[1 + md->segments[a].slot_base + v];
	if (kind == SNAP_GROUP_CHANNEL && a >= 1 && a < N_CHANNELS && v == 0)
		return &js->by_chan[a];
	return NULL;
}

/* The head of journey j's next group record: *at its place in js, or
 * NULL after the last group. */
static cxm_status group_head(struct snap_in *in, const cxm_context *into, jstate *js, uint32_t j,
			     _Atomic(jgroup *) **at)
{
	uint32_t kind, a, v;
	cxm_status st;
	*at = NULL;
	if ((st = cxm__snap_get32(in, &kind)) || kind == SNAP_GROUP_END)
		return st;
	if ((st = cxm__snap_get32(in, &a)) || (st = cxm__snap_get32(in, &v)))
		return st;
	if (!(*at = group_at(into, js, kind, a, v)))
		return snap_corrupt_journey(in, into, j, "a group names no segment value or channel");
	return CXM_OK;
}

cxm_status cxm__journeys_cohorts_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	jmod *mod = atomic_load_explicit(&into->journeys, memory_order_acquire);
	const uint32_t nj = atomic_load_explicit(&into->model.n_journeys, memory_order_acquire);
	cxm_status st;
	int64_t prev = -1;
	for (;;) {
		uint32_t j;
		if ((st = cxm__snap_get32(in, &j)))
			return st;
		if (j == SNAP_END)
			return CXM_OK;
		jstate *js = mod && j < nj && j < mod->n_js && (int64_t)j > prev
				     ? atomic_load_explicit(&mod->js[j], memory_order_acquire)
				     : NULL;
		if (!js)
			return cxm__fail(ctx, CXM_ERR_CORRUPT,
					 "snapshot: entry cohorts of journey %u (out of order, or no state in JOURNEYS)", j);
		prev = j;
		const char *name = into->model.journeys[j].name;
		for (;;) {
			_Atomic(jgroup *) *at;
			if ((st = group_head(in, into, js, j, &at)))
				return st;
			if (!at)
				break;
			jgroup *g = atomic_load_explicit(at, memory_order_relaxed);
			if (!g)
				return snap_corrupt_journey(in, into, j, "entry cohorts of a group JOURNEYS does not have");
			if (g->coh.n)
				return snap_corrupt_journey(in, into, j, "a group's entry cohorts appear twice");
			if ((st = cxm__cohorts_read(in, into, &g->coh, name)))
				return st;
			if (!g->coh.n)
				return snap_corrupt_journey(in, into, j, "a group with no entry cohorts is written");
		}
	}
}

cxm_status cxm__journeys_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t present;
	cxm_status st = cxm__snap_get32(in, &present);
	if (st)
		return st;
	if (present > 1)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: journey state flag %u", present);
	if (!present)
		return CXM_OK;
	jmod *mod = NULL; /* set by cxm__journeys_ensure() on success; gcc -O3 cannot tell */
	/* the private context is freed whole on failure: what is made here
	 * is published into it at once */
	if ((st = cxm__journeys_ensure(into, CXM_NONE, &mod, NULL)))
		return cxm__fail(ctx, st, "snapshot: no memory for the journey state");
	if ((st = cxm__snap_get_series(in, into, mod->churn)))
		return st;
	const model *md = &into->model;
	uint32_t nj = atomic_load_explicit(&md->n_journeys, memory_order_acquire);
	int64_t prev = -1;
	for (;;) {
		uint32_t j, ns;
		if ((st = cxm__snap_get32(in, &j)))
			return st;
		if (j == SNAP_END)
			break;
		if (j >= nj || (int64_t)j <= prev || !trackable(into, j))
			return cxm__fail(ctx, CXM_ERR_CORRUPT,
					 "snapshot: journey state of journey %u (out of order or not defined)", j);
		prev = j;
		if ((st = cxm__snap_get32(in, &ns)))
			return st;
		if (ns != md->journeys[j].n_steps)
			return snap_corrupt_journey(in, into, j, "its state has another number of steps");
		cxm_journey_options o;
		if ((st = snap_options_read(in, into, j, &o)))
			return st;
		jstate *js;
		if ((st = cxm__journeys_ensure(into, j, &mod, &js)))
			return cxm__fail(ctx, st, "snapshot: no memory for the journey state");
		cxm__journey_store_options(mod, js, &o);
		for (;;) {
			_Atomic(jgroup *) *at;
			if ((st = group_head(in, into, js, j, &at)))
				return st;
			if (!at)
				break;
			if (atomic_load_explicit(at, memory_order_relaxed))
				return snap_corrupt_journey(in, into, j, "a group appears twice");
			/* a group is at least its series' epochs: no allocation for
			 * bytes that are not there */
			size_t least = (1 + (size_t)ns) * 8 * (1 + (size_t)into->n_tiers);
			if (cxm__snap_left(in) < least)
				return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: journeys section is truncated");
			jgroup *g = cxm__jgroup_new(into, mod, js);
			if (!g) {
				/* judged on the private context, said on the caller's */
				st = cxm__jgroup_fail(into, js, "snapshot: ", md->journeys[j].name);
				char msg[256];
				snprintf(msg, sizeof msg, "%s", cxm_errmsg(into));
				return cxm__fail(ctx, st, "%s", msg);
			}
			atomic_store_explicit(at, g, memory_order_release);
			if ((st = cxm__snap_get_series(in, into, g->counts)))
				return st;
			for (uint32_t k = 0; k < ns; k++)
				if ((st = cxm__snap_get_series(in, into, g->times[k])))
					return st;
		}
	}
	return CXM_OK;
}

/* ---- merge ---------------------------------------------------------------------------- */

static void group_add(cxm_context *dst, jgroup *d, const cxm_context *src, const jgroup *g,
		      uint32_t n_steps)
{
	cxm__series_add(dst, d->counts, src, g->counts);
	for (uint32_t k = 0; k < n_steps; k++)
		cxm__series_add(dst, d->times[k], src, g->times[k]);
	(void)cxm__cohorts_add(dst, &d->coh, &g->coh); /* what finds no memory: lost_buckets */
}

typedef struct jplan {
	uint32_t dj;   /* dst's journey; CXM_NONE: the source has no state for it */
	jstate *js;    /* made for dst, or NULL: dst has it */
	jgroup **made; /* groups made for dst, by dst slot, then by channel */
} jplan;

typedef struct jmerge {
	jmod *mod; /* made for dst, or NULL */
	uint32_t nj;
	size_t per; /* 1 + max_segment_values + N_CHANNELS */
	const uint32_t *slotmap;
	jplan *j;
	jgroup **groups;
} jmerge;

static void plan_free(cxm_context *dst, jmerge *p)
{
	if (!p)
		return;
	/* the journeys were filled in only once both arrays were there */
	for (uint32_t j = 0; p->j && p->groups && j < p->nj; j++) {
		jplan *x = &p->j[j];
		if (x->dj == CXM_NONE)
			continue;
		uint32_t ns = dst->model.journeys[x->dj].n_steps;
		for (size_t i = 0; i < p->per; i++) {
			jgroup *g = x->made[i];
			if (!g)
				continue;
			cxm__series_free(dst, g->counts);
			for (uint32_t k = 0; k < ns; k++)
				cxm__series_free(dst, g->times[k]);
			cxm__cohorts_free(dst, &g->coh);
			cxm__free(dst, g, group_size(ns));
		}
		cxm__jstate_free(dst, x->js);
	}
	cxm__jmod_free(dst, p->mod);
	cxm__free(dst, p->groups, sizeof(jgroup *) * p->per * p->nj);
	cxm__free(dst, p->j, sizeof(jplan) * p->nj);
	cxm__free(dst, p, sizeof *p);
}

void cxm__journeys_merge_abort(cxm_context *dst, struct jmerge *p)
{
	plan_free(dst, p);
}

static bool options_equal(const cxm_journey_options *a, const cxm_journey_options *b)
{
	return a->flags == b->flags && a->conversion_ms == b->conversion_ms &&
	       a->abandon_ms == b->abandon_ms && a->lateness_ms == b->lateness_ms &&
	       a->repeat_ms == b->repeat_ms;
}

cxm_status cxm__journeys_merge_check(cxm_context *dst, cxm_context *src, const cxm_id *jmap)
{
	jmod *smod = atomic_load_explicit(&src->journeys, memory_order_acquire);
	if (!smod)
		return CXM_OK;
	uint32_t nj = atomic_load_explicit(&src->model.n_journeys, memory_order_acquire);
	if (nj > smod->n_js)
		nj = smod->n_js;
	for (uint32_t j = 0; j < nj; j++) {
		if (!atomic_load_explicit(&smod->js[j], memory_order_acquire))
			continue;
		const char *name = src->model.journeys[j].name;
		if (!trackable(dst, jmap[j]))
			return cxm__fail(dst, CXM_ERR_LIMIT, "merge: journey '%s' is not tracked here", name);
		cxm_journey_options a, b;
		cxm__journey_options_of(src, j, &a);
		cxm__journey_options_of(dst, jmap[j], &b);
		if (!options_equal(&a, &b))
			return cxm__fail(dst, CXM_ERR_EXISTS,
					 "merge: journey '%s' has other options in the source (flags 0x%x, "
					 "conversion %lld, abandon %lld, lateness %lld, repeat %lld ms; here "
					 "0x%x, %lld, %lld, %lld, %lld)",
					 name, a.flags, (long long)a.conversion_ms, (long long)a.abandon_ms,
					 (long long)a.lateness_ms, (long long)a.repeat_ms, b.flags,
					 (long long)b.conversion_ms, (long long)b.abandon_ms,
					 (long long)b.lateness_ms, (long long)b.repeat_ms);
	}
	return CXM_OK;
}

cxm_status cxm__journeys_merge_prepare(cxm_context *dst, cxm_context *src, const cxm_id *jmap,
				       const uint32_t *slotmap, struct jmerge **plan)
{
	*plan = NULL;
	jmod *smod = atomic_load_explicit(&src->journeys, memory_order_acquire);
	if (!smod)
		return CXM_OK;
	uint32_t nj = atomic_load_explicit(&src->model.n_journeys, memory_order_acquire);
	if (nj > smod->n_js)
		nj = smod->n_js;
	/* the options first (again: set_options may have run since): a
	 * mismatch allocates nothing */
	cxm_status st = cxm__journeys_merge_check(dst, src, jmap);
	if (st)
		return st;
	jmerge *p = cxm__calloc(dst, 1, sizeof *p);
	if (!p)
		goto nomem;
	p->nj = nj;
	p->slotmap = slotmap;
	p->per = 1 + (size_t)dst->max_segment_values + N_CHANNELS;
	if (nj && (!(p->j = cxm__calloc(dst, nj, sizeof(jplan))) ||
		   !(p->groups = cxm__calloc(dst, (size_t)nj * p->per, sizeof(jgroup *))))) {
		/* p->j and p->groups are freed by the sizes recorded in p */
		goto nomem;
	}
	for (uint32_t j = 0; j < nj; j++) {
		p->j[j].dj = CXM_NONE;
		p->j[j].made = p->groups + (size_t)j * p->per;
	}
	jmod *dmod = atomic_load_explicit(&dst->journeys, memory_order_acquire);
	if (!dmod && !(p->mod = cxm__jmod_new(dst)))
		goto nomem;
	jmod *mod = dmod ? dmod : p->mod;
	uint32_t src_slots = src->model.slots_used;
	for (uint32_t j = 0; j < nj; j++) {
		jstate *sjs = atomic_load_explicit(&smod->js[j], memory_order_acquire);
		if (!sjs)
			continue;
		jplan *x = &p->j[j];
		x->dj = jmap[j];
		jstate *djs = atomic_load_explicit(&mod->js[x->dj], memory_order_acquire);
		if (!djs && !(djs = x->js = cxm__jstate_new(dst, dst->model.journeys[x->dj].n_steps)))
			goto nomem;
		for (uint32_t i = 0; i <= src_slots && i <= src->max_segment_values; i++) {
			if (!atomic_load_explicit(&sjs->by_slot[i], memory_order_acquire))
				continue;
			uint32_t ds = i ? slotmap[i] : 0;
			if (!atomic_load_explicit(&djs->by_slot[ds], memory_order_acquire) &&
			    !(x->made[ds] = cxm__jgroup_new(dst, mod, djs))) {
				st = cxm__jgroup_fail(dst, djs, "merge: ", dst->model.journeys[x->dj].name);
				plan_free(dst, p);
				return st;
			}
		}
		for (uint32_t c = 1; c < N_CHANNELS; c++) {
			size_t at = 1 + (size_t)dst->max_segment_values + c;
			if (atomic_load_explicit(&sjs->by_chan[c], memory_order_acquire) &&
			    !atomic_load_explicit(&djs->by_chan[c], memory_order_acquire) &&
			    !(x->made[at] = cxm__jgroup_new(dst, mod, djs))) {
				st = cxm__jgroup_fail(dst, djs, "merge: ", dst->model.journeys[x->dj].name);
				plan_free(dst, p);
				return st;
			}
		}
	}
	*plan = p;
	return CXM_OK;
nomem:
	plan_free(dst, p);
	return cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for the journey state");
}

/* Publish group *mine at *slot (laid out as js and mod), or free it if
 * another was published first. */
static void publish_group(cxm_context *dst, const jmod *mod, const jstate *js, _Atomic(jgroup *) *slot,
			  jgroup **mine)
{
	if (!*mine)
		return;
	(*mine)->counts->m = &js->counts_m;
	for (uint32_t k = 0; k < js->n_steps; k++)
		(*mine)->times[k]->m = &mod->time_m;
	PUBLISH(slot, *mine);
	cxm__jgroup_free(dst, js, *mine);
	*mine = NULL;
}

void cxm__journeys_merge_commit(cxm_context *dst, cxm_context *src, struct jmerge *p)
{
	if (!p)
		return;
	jmod *smod = atomic_load_explicit(&src->journeys, memory_order_acquire);
	PUBLISH(&dst->journeys, p->mod);
	cxm__jmod_free(dst, p->mod);
	p->mod = NULL;
	jmod *mod = atomic_load_explicit(&dst->journeys, memory_order_acquire);
	pthread_mutex_lock(&mod->lock);
	pthread_mutex_lock(&smod->lock);
	cxm__series_add(dst, mod->churn, src, smod->churn);
	pthread_mutex_unlock(&smod->lock);
	pthread_mutex_unlock(&mod->lock);
	for (uint32_t j = 0; j < p->nj; j++) {
		jplan *x = &p->j[j];
		if (x->dj == CXM_NONE)
			continue;
		jstate *sjs = atomic_load_explicit(&smod->js[j], memory_order_acquire);
		if (x->js) {
			cxm_journey_options o;
			cxm__journey_options_of(src, j, &o);
			cxm__journey_store_options(mod, x->js, &o);
			PUBLISH(&mod->js[x->dj], x->js);
		}
		jstate *js = atomic_load_explicit(&mod->js[x->dj], memory_order_acquire);
		const size_t cbase = 1 + (size_t)dst->max_segment_values;
		for (size_t i = 0; i < cbase; i++)
			publish_group(dst, mod, js, &js->by_slot[i], &x->made[i]);
		for (uint32_t c = 1; c < N_CHANNELS; c++)
			publish_group(dst, mod, js, &js->by_chan[c], &x->made[cbase + c]);
		cxm__jstate_free(dst, x->js); /* lost the race to be published, if still here */
		x->js = NULL;
		pthread_mutex_lock(&js->lock);
		pthread_mutex_lock(&sjs->lock);
		for (uint32_t i = 0; i <= src->model.slots_used && i <= src->max_segment_values; i++) {
			const jgroup *g = atomic_load_explicit(&sjs->by_slot[i], memory_order_acquire);
			uint32_t ds = i ? p->slotmap[i] : 0;
			if (g)
				group_add(dst, atomic_load_explicit(&js->by_slot[ds], memory_order_acquire),
					  src, g, js->n_steps);
		}
		for (uint32_t c = 1; c < N_CHANNELS; c++) {
			const jgroup *g = atomic_load_explicit(&sjs->by_chan[c], memory_order_acquire);
			if (g)
				group_add(dst, atomic_load_explicit(&js->by_chan[c], memory_order_acquire),
					  src, g, js->n_steps);
		}
		pthread_mutex_unlock(&sjs->lock);
		pthread_mutex_unlock(&js->lock);
	}
	plan_free(dst, p);
}
