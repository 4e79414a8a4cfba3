/* Journey state: the module with its churn series, each journey's state
 * (its options) and its funnel groups: made, published and freed; what
 * cxm_rewind() discards of them; the options' public calls; the counting
 * of churn.
 *
 * Per journey, "groups" of series (window.c) for the whole journey, each
 * first-touch channel and each segment value, each group a counter series
 * (entered, reached step k, closed by cause, repeats) and one duration
 * series per step (time to the next step, and for the last, time from
 * entry to the goal), plus the group's entry cohorts (cohorts.c). Each
 * customer's journey instance, the counts it folds into the groups and the
 * sweep are instances.c's; the queries funnel_query.c's; snapshots and
 * merges journeys_io.c's.
 *
 * What is missing is made with no lock held and published with
 * compare-and-swap (PUBLISH, journeys.h), so a failed allocation changes
 * nothing. A journey's lock is held while its groups are folded, read or
 * rewound and while its options are set; the module's while the churn
 * series is. */
#include "journeys.h"
#include "series_hot.h"

#include <math.h>

/* ---- module, journey and group lifetime ----------------------------------------- */

static void *ctx_alloc_hook(void *opaque, size_t n)
{
	return cxm__alloc(opaque, n);
}

static size_t mod_size(uint32_t n)
{
	return sizeof(jmod) + sizeof(_Atomic(jstate *)) * n;
}

static size_t js_size(const cxm_context *ctx)
{
	return sizeof(jstate) + sizeof(_Atomic(jgroup *)) * (1 + (size_t)ctx->max_segment_values);
}


static void counter_metric(const cxm_context *ctx, metric *m, uint32_t counters)
{
	memset(m, 0, sizeof *m);
	m->def.kind = CXM_KIND_SCORE;
	m->def.questions = 1;
	m->def.scale_min = 0;
	m->def.scale_max = (int32_t)counters - 1;
	m->points = m->cells = counters;
	m->cell_size = sizeof(uint64_t) * (1 + (size_t)counters);
	m->full_cells = true; /* full cells from the bins tier up */
	cxm__metric_layout(ctx, m);
}

void cxm__jmod_free(cxm_context *ctx, jmod *mod)
{
	if (!mod)
		return;
	cxm__series_free(ctx, mod->churn);
	if (mod->time_m.sk.bounds)
		cxm__free(ctx, mod->time_m.sk.bounds, cxm__sketch_params_bytes(&mod->time_m.sk));
	pthread_mutex_destroy(&mod->lock);
	cxm__free(ctx, mod, mod_size(mod->n_js));
}

jmod *cxm__jmod_new(cxm_context *ctx)
{
	uint32_t n = ctx->max_journeys < MAX_TRACKED_JOURNEYS ? ctx->max_journeys : MAX_TRACKED_JOURNEYS;
	jmod *mod = cxm__calloc(ctx, 1, mod_size(n));
	if (!mod)
		return NULL;
	mod->n_js = n;
	for (uint32_t i = 0; i < n; i++)
		atomic_init(&mod->js[i], NULL);
	if (cxm__mutex_init(&mod->lock)) {
		cxm__free(ctx, mod, mod_size(n));
		return NULL;
	}
	metric *m = &mod->time_m;
	m->def.kind = CXM_KIND_DURATION;
	m->def.duration_lo = TIME_LO;
	m->def.duration_hi = TIME_HI;
	m->def.relative_error = TIME_ALPHA;
	if (cxm__sketch_params_init(&m->sk, TIME_LO, TIME_HI, TIME_ALPHA, ctx_alloc_hook, ctx)) {
		m->sk.bounds = NULL;
		cxm__jmod_free(ctx, mod);
		return NULL;
	}
	m->cell_size = cxm__sketch_cell_size(&m->sk);
	m->full_cells = true;
	cxm__metric_layout(ctx, m);
	counter_metric(ctx, &mod->churn_m, 1);
	if (!(mod->churn = cxm__series_new(ctx, &mod->churn_m, NULL))) {
		cxm__jmod_free(ctx, mod);
		return NULL;
	}
	return mod;
}

void cxm__jgroup_free(cxm_context *ctx, const jstate *js, jgroup *g)
{
	if (!g)
		return;
	cxm__series_free(ctx, g->counts);
	for (uint32_t k = 0; k < js->n_steps; k++)
		cxm__series_free(ctx, g->times[k]);
	cxm__cohorts_free(ctx, &g->coh);
	cxm__free(ctx, g, group_size(js->n_steps));
	atomic_fetch_sub_explicit(&ctx->n_series, 1 + (uint64_t)js->n_steps, memory_order_relaxed);
}

/* A funnel group is 1 + n_steps series: they count against max_series
 * like the metrics' series, reserved before anything is allocated. */
jgroup *cxm__jgroup_new(cxm_context *ctx, const jmod *mod, const jstate *js)
{
	const uint64_t need = 1 + (uint64_t)js->n_steps;
	if (atomic_fetch_add_explicit(&ctx->n_series, need, memory_order_relaxed) + need >
	    ctx->max_series) {
		atomic_fetch_sub_explicit(&ctx->n_series, need, memory_order_relaxed);
		return NULL;
	}
	jgroup *g = cxm__calloc(ctx, 1, group_size(js->n_steps));
	if (!g) {
		atomic_fetch_sub_explicit(&ctx->n_series, need, memory_order_relaxed);
		return NULL;
	}
	cxm__cohorts_init(&g->coh, 1 + js->n_steps + CNT_EXTRA, js->n_steps);
	if (!(g->counts = cxm__series_new(ctx, &js->counts_m, NULL)))
		goto fail;
	for (uint32_t k = 0; k < js->n_steps; k++)
		if (!(g->times[k] = cxm__series_new(ctx, &mod->time_m, NULL)))
			goto fail;
	return g;
fail:
	cxm__jgroup_free(ctx, js, g);
	return NULL;
}

/* Why cxm__jgroup_new() failed: max_series, or the allocator. */
cxm_status cxm__jgroup_fail(const cxm_context *ctx, const jstate *js, const char *what,
			     const char *jname)
{
	if (atomic_load_explicit(&((cxm_context *)ctx)->n_series, memory_order_relaxed) + 1 +
		    js->n_steps > ctx->max_series)
		return cxm__fail(ctx, CXM_ERR_LIMIT,
				 "%smax_series (%llu) reached: the funnel of journey '%s' needs %u "
				 "more series",
				 what, (unsigned long long)ctx->max_series, jname, 1 + js->n_steps);
	return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "%sno memory for the funnel of journey '%s'", what,
			 jname);
}

void cxm__jstate_free(cxm_context *ctx, jstate *js)
{
	if (!js)
		return;
	for (uint32_t c = 0; c < N_CHANNELS; c++)
		cxm__jgroup_free(ctx, js, atomic_load_explicit(&js->by_chan[c], memory_order_relaxed));
	for (uint32_t i = 0; i <= ctx->max_segment_values; i++)
		cxm__jgroup_free(ctx, js, atomic_load_explicit(&js->by_slot[i], memory_order_relaxed));
	pthread_mutex_destroy(&js->lock);
	cxm__free(ctx, js, js_size(ctx));
}

jstate *cxm__jstate_new(cxm_context *ctx, uint32_t n_steps)
{
	jstate *js = cxm__calloc(ctx, 1, js_size(ctx));
	if (!js)
		return NULL;
	if (cxm__mutex_init(&js->lock)) {
		cxm__free(ctx, js, js_size(ctx));
		return NULL;
	}
	cxm_journey_options o;
	cxm__journey_default_options(ctx, &o);
	atomic_init(&js->o_flags, o.flags);
	atomic_init(&js->o_conversion, o.conversion_ms);
	atomic_init(&js->o_abandon, o.abandon_ms);
	atomic_init(&js->o_lateness, o.lateness_ms);
	atomic_init(&js->o_repeat, o.repeat_ms);
	js->n_steps = n_steps;
	counter_metric(ctx, &js->counts_m, 1 + n_steps + CNT_EXTRA);
	for (uint32_t c = 0; c < N_CHANNELS; c++)
		atomic_init(&js->by_chan[c], NULL);
	for (uint32_t i = 0; i <= ctx->max_segment_values; i++)
		atomic_init(&js->by_slot[i], NULL);
	return js;
}

void cxm__journeys_free(cxm_context *ctx)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (!mod)
		return;
	for (uint32_t j = 0; j < mod->n_js; j++)
		cxm__jstate_free(ctx, atomic_load_explicit(&mod->js[j], memory_order_relaxed));
	cxm__jmod_free(ctx, mod);
}



/* The module and, with j != CXM_NONE, journey j's state: made if missing,
 * and published only when everything was made, so that a failure leaves
 * nothing behind. */
cxm_status cxm__journeys_ensure(cxm_context *ctx, cxm_id j, jmod **mod_out, jstate **js_out)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire), *mine_mod = NULL;
	jstate *js = NULL, *mine_js = NULL;
	if (!mod && !(mine_mod = cxm__jmod_new(ctx)))
		goto nomem;
	if (j != CXM_NONE) {
		if (mod)
			js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
		if (!js && !(mine_js = cxm__jstate_new(ctx, ctx->model.journeys[j].n_steps)))
			goto nomem;
	}
	PUBLISH(&ctx->journeys, mine_mod);
	cxm__jmod_free(ctx, mine_mod);
	mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (j != CXM_NONE) {
		PUBLISH(&mod->js[j], mine_js);
		cxm__jstate_free(ctx, mine_js);
		js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
	}
	*mod_out = mod;
	if (js_out)
		*js_out = js;
	return CXM_OK;
nomem:
	cxm__jstate_free(ctx, mine_js);
	cxm__jmod_free(ctx, mine_mod);
	return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the state of journeys failed");
}

cxm_status cxm__journey_ensure_open(cxm_context *ctx, cxm_id j, uint32_t chan)
{
	jmod *mod = NULL;
	jstate *js = NULL;
	cxm_status st = cxm__journeys_ensure(ctx, j, &mod, &js);
	if (st)
		return st;
	_Atomic(jgroup *) *need[2] = {&js->by_slot[0], chan ? &js->by_chan[chan] : NULL};
	for (int i = 0; i < 2; i++) {
		if (!need[i] || atomic_load_explicit(need[i], memory_order_acquire))
			continue;
		jgroup *g = cxm__jgroup_new(ctx, mod, js);
		if (!g)
			return cxm__jgroup_fail(ctx, js, "snapshot: ", ctx->model.journeys[j].name);
		PUBLISH(need[i], g);
		cxm__jgroup_free(ctx, js, g); /* NULL when published */
	}
	return CXM_OK;
}

/* ---- rewind (cxm_rewind): the funnel and churn series --------------------------- */

static uint64_t group_rewind(cxm_context *ctx, const jstate *js, jgroup *g, int64_t time_ms)
{
	if (!g)
		return 0;
	uint64_t gone = cxm__series_rewind(ctx, g->counts, time_ms);
	for (uint32_t k = 0; k < js->n_steps; k++)
		gone += cxm__series_rewind(ctx, g->times[k], time_ms);
	return gone + cxm__cohorts_rewind(ctx, &g->coh, time_ms);
}

uint64_t cxm__journeys_rewind(cxm_context *ctx, int64_t time_ms)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (!mod)
		return 0;
	uint64_t gone = 0;
	pthread_mutex_lock(&mod->lock);
	gone += cxm__series_rewind(ctx, mod->churn, time_ms);
	pthread_mutex_unlock(&mod->lock);
	for (uint32_t j = 0; j < mod->n_js; j++) {
		jstate *js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
		if (!js)
			continue;
		pthread_mutex_lock(&js->lock);
		for (uint32_t c = 0; c < N_CHANNELS; c++)
			gone += group_rewind(ctx, js, atomic_load_explicit(&js->by_chan[c], memory_order_acquire),
					     time_ms);
		for (uint32_t i = 0; i <= ctx->max_segment_values; i++)
			gone += group_rewind(ctx, js, atomic_load_explicit(&js->by_slot[i], memory_order_acquire),
					     time_ms);
		pthread_mutex_unlock(&js->lock);
	}
	return gone;
}

/* ---- churn ---------------------------------------------------------------------- */

cxm_status cxm__churn_reserve(cxm_context *ctx, struct jmod **mine, int64_t t_ms)
{
	*mine = NULL;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (mod) { /* the pages of the churn's bucket (a fresh series needs none) */
		pthread_mutex_lock(&mod->lock);
		int64_t e = cxm__writable_epoch(ctx, mod->churn, floordiv64(t_ms, ctx->tiers[0].bucket_ms));
		bool ok = cxm__series_reserve(ctx, mod->churn, e, NAN, NULL);
		if (!ok)
			cxm__series_unreserve(ctx, mod->churn);
		pthread_mutex_unlock(&mod->lock);
		return ok ? CXM_OK
			  : cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a time bucket of the churn series");
	}
	if (!(*mine = cxm__jmod_new(ctx)))
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the churn series failed");
	return CXM_OK;
}

void cxm__churn_release(cxm_context *ctx, struct jmod **mine)
{
	cxm__jmod_free(ctx, *mine);
	*mine = NULL;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (mod) { /* the reserved pages back */
		pthread_mutex_lock(&mod->lock);
		cxm__series_unreserve(ctx, mod->churn);
		pthread_mutex_unlock(&mod->lock);
	}
}

void cxm__churn_count(cxm_context *ctx, struct jmod **mine, int64_t t_ms)
{
	PUBLISH(&ctx->journeys, *mine);
	cxm__jmod_free(ctx, *mine); /* lost the race to be published, if still here */
	*mine = NULL;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	pthread_mutex_lock(&mod->lock);
	int64_t e = cxm__writable_epoch(ctx, mod->churn, floordiv64(t_ms, ctx->tiers[0].bucket_ms));
	uint64_t *c = cxm__series_cell(ctx, mod->churn, e);
	if (c)
		c[1]++;
	else
		cxm__series_lost(ctx);
	if (mod->churn->reserved)
		cxm__series_unreserve(ctx, mod->churn);
	pthread_mutex_unlock(&mod->lock);
}

/* ---- public: options ------------------------------------------------------------ */

cxm_status cxm_journey_options_init(cxm_journey_options *opts, size_t size)
{
	return cxm__init_struct(opts, size, sizeof(cxm_journey_options), "cxm_journey_options",
				"opts");
}

cxm_status cxm__journey_check_id(const cxm_context *ctx, cxm_id jid)
{
	if (jid >= atomic_load_explicit(&ctx->model.n_journeys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", jid);
	if (!trackable(ctx, jid))
		return cxm__fail(ctx, CXM_ERR_LIMIT,
				 "journey '%s' is not tracked (more than %u steps, or id %u or above)",
				 ctx->model.journeys[jid].name, MAX_TRACKED_STEPS, MAX_TRACKED_JOURNEYS);
	return CXM_OK;
}


/* Why flags cannot go together, or NULL. */
const char *cxm__journey_flags_conflict(uint32_t f)
{
	if ((f & CXM_JOURNEY_ALLOW_REENTRY) && !(f & CXM_JOURNEY_STRICT_ORDER))
		return "CXM_JOURNEY_ALLOW_REENTRY needs CXM_JOURNEY_STRICT_ORDER";
	if ((f & CXM_JOURNEY_STRICT_DEDUP) && (f & CXM_JOURNEY_COUNT_REPEATS))
		return "CXM_JOURNEY_STRICT_DEDUP ends an instance on the repeats "
		       "CXM_JOURNEY_COUNT_REPEATS would count";
	return NULL;
}

/* Store o as js's options (its lock held, or js not yet shared). */
void cxm__journey_store_options(jmod *mod, jstate *js, const cxm_journey_options *o)
{
	const uint32_t was = atomic_load_explicit(&js->o_flags, memory_order_relaxed);
	if ((o->flags ^ was) & CXM_JOURNEY_STRICT_ORDER) {
		if (o->flags & CXM_JOURNEY_STRICT_ORDER)
			atomic_fetch_add_explicit(&mod->n_strict_order, 1, memory_order_relaxed);
		else
			atomic_fetch_sub_explicit(&mod->n_strict_order, 1, memory_order_relaxed);
	}
	atomic_store_explicit(&js->o_flags, o->flags, memory_order_relaxed);
	atomic_store_explicit(&js->o_conversion, o->conversion_ms, memory_order_relaxed);
	atomic_store_explicit(&js->o_abandon, o->abandon_ms, memory_order_relaxed);
	atomic_store_explicit(&js->o_lateness, o->lateness_ms, memory_order_relaxed);
	atomic_store_explicit(&js->o_repeat, o->repeat_ms, memory_order_relaxed);
}

cxm_status cxm_journey_set_options(cxm_context *ctx, cxm_id jid, const cxm_journey_options *opts)
{
	if (!ctx || !opts)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "opts" : "ctx");
	cxm_status st = cxm__check_struct(ctx, opts, sizeof *opts, sizeof *opts, "cxm_journey_options");
	if (st)
		return st;
	if (opts->reserved0 || opts->reserved[0] || opts->reserved[1] || opts->reserved[2] ||
	    opts->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_journey_options reserved fields must be zero");
	if (opts->flags & ~ALL_FLAGS)
		return cxm__fail(ctx, CXM_ERR_INVALID, "unknown journey flags 0x%x", opts->flags & ~ALL_FLAGS);
	const char *conflict = cxm__journey_flags_conflict(opts->flags);
	if (conflict)
		return cxm__fail(ctx, CXM_ERR_INVALID, "journey flags 0x%x: %s", opts->flags, conflict);
	if ((st = cxm__journey_check_id(ctx, jid)))
		return st;
	cxm_journey_options o;
	cxm__journey_default_options(ctx, &o);
	o.flags = opts->flags;
	const struct {
		int64_t v, lo, hi;
		int64_t *dst;
		const char *name;
	} d[] = {
		{opts->conversion_ms, 1000, MAX_WINDOW_MS, &o.conversion_ms, "conversion_ms"},
		{opts->abandon_ms, 1000, MAX_WINDOW_MS, &o.abandon_ms, "abandon_ms"},
		{opts->lateness_ms, 1, MAX_WINDOW_MS, &o.lateness_ms, "lateness_ms"},
		{opts->repeat_ms, 1000, MAX_REPEAT_MS, &o.repeat_ms, "repeat_ms"},
	};
	for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
		if (d[i].v == 0)
			continue;
		if (d[i].v < d[i].lo || d[i].v > d[i].hi)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "%s %lld is outside %lld .. %lld",
					 d[i].name, (long long)d[i].v, (long long)d[i].lo,
					 (long long)d[i].hi);
		*d[i].dst = d[i].v;
	}
	if (!opts->abandon_ms) /* a window of weeks is not cut by a day's silence */
		o.abandon_ms = o.conversion_ms;
	jmod *mod;
	jstate *js = NULL;
	if ((st = cxm__journeys_ensure(ctx, jid, &mod, &js)))
		return st;
	pthread_mutex_lock(&js->lock); /* one writer at a time */
	cxm__journey_store_options(mod, js, &o);
	pthread_mutex_unlock(&js->lock);
	return CXM_OK;
}

cxm_status cxm_journey_get_options(cxm_journey_options *out, const cxm_context *ctx, cxm_id jid)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "out" : "ctx");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_journey_options");
	if (st)
		return st;
	if ((st = cxm__journey_check_id(ctx, jid)))
		return st;
	cxm_journey_options o;
	cxm__journey_options_of(ctx, jid, &o);
	cxm__put_out(out, &o, sizeof o);
	return CXM_OK;
}
