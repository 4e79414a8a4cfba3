/* Journeys: each customer's progress along a journey, the funnel counts it
 * feeds, abandonment, repeat contacts and churn.
 *
 * State per customer is the one journey instance kept in its cust_entry
 * (customers.c): journey, highest step, flags, start and latest step time.
 * Everything else is aggregate: per journey, "groups" of series (window.c)
 * for the whole journey, each first-touch channel and each segment value,
 * each group a counter series (entered, reached step k, closed by cause,
 * repeats) and one duration series per step (time to the next step, and
 * for the last, time from entry to the goal). Counts are folded at the
 * event's time, so they roll, and add up across contexts, like every
 * other series.
 *
 * Locks: a customer's stripe (customers.c) is held while its entry changes;
 * a journey's lock while its groups are folded or read. A feeder releases
 * the stripe before it takes the journey's lock; only the sweep holds a
 * stripe while it takes a journey's lock, and nothing takes them the other
 * way round. What a feed needs and lacks is allocated with no lock held
 * (cxm__journey_prepare) and published with compare-and-swap, so a failed
 * allocation changes nothing. */
#include "cohorts.h"

#include <math.h>
#include <stdio.h>

#define N_CHANNELS 9 /* index by cxm_channel, 1 .. 8; 0 unused */
#define DAY_MS INT64_C(86400000)
#define MAX_WINDOW_MS CXM_JOURNEY_MAX_WINDOW_MS
#define MAX_REPEAT_MS (400 * DAY_MS)

/* time sketch: 1 s .. the longest conversion window, at 5 % */
#define TIME_LO 1.0
#define TIME_HI ((double)CXM_JOURNEY_MAX_WINDOW_MS / 1000)
#define TIME_ALPHA 0.05

/* counters of a group, after entered (0) and reached step k (1 + k) */
enum { CNT_ABANDONED = 1, CNT_EXPIRED, CNT_BROKEN, CNT_DISPLACED, CNT_REPEAT, CNT_EXTRA = 5 };

typedef struct jgroup {
	series *counts;
	cohorts coh;     /* the same counts and times, by entry hour */
	series *times[]; /* n_steps */
} jgroup;

typedef struct jstate {
	pthread_mutex_t lock;
	/* the options, read without a lock on the feed path: a feeder racing
	 * cxm_journey_set_options may see some fields old and some new */
	_Atomic uint32_t o_flags;
	_Atomic int64_t o_conversion, o_abandon, o_lateness, o_repeat;
	uint32_t n_steps;
	metric counts_m;         /* a SCORE layout of 1 + n_steps + 5 counters */
	_Atomic(jgroup *) by_chan[N_CHANNELS];
	_Atomic(jgroup *) by_slot[]; /* 1 + max_segment_values; 0: the whole journey */
} jstate;

typedef struct jmod {
	pthread_mutex_t lock; /* churn series */
	metric time_m;        /* DURATION layout of the time series */
	metric churn_m;       /* one counter */
	series *churn;
	/* journeys with CXM_JOURNEY_STRICT_ORDER: while any, interactions on
	 * no tracked journey's step are looked at too (they may break) */
	_Atomic uint32_t n_strict_order;
	uint32_t n_js;
	_Atomic(jstate *) js[];
} jmod;

/* Index among a group's counters of CNT_* which for journey j. */
static inline uint32_t cidx(const cxm_context *ctx, uint32_t j, uint32_t which)
{
	return 1 + ctx->model.journeys[j].n_steps + which - 1;
}

/* ---- options -------------------------------------------------------------------- */

/* The default lateness is the finest tier's reach (what the watermark
 * accepts), so that by default the journey check is no stricter than the
 * windows: a replay or a feeder a little behind is not refused. */
static void default_options(const cxm_context *ctx, cxm_journey_options *o)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->conversion_ms = 7 * DAY_MS;
	o->abandon_ms = o->conversion_ms; /* no shorter than the window: see cxm.h */
	int64_t reach = ctx->tiers[0].bucket_ms * (int64_t)ctx->tiers[0].buckets;
	o->lateness_ms = reach < MAX_WINDOW_MS ? reach : MAX_WINDOW_MS;
	o->repeat_ms = 7 * DAY_MS;
}

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

static size_t group_size(uint32_t n_steps)
{
	return sizeof(jgroup) + sizeof(series *) * n_steps;
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

static void mod_free(cxm_context *ctx, jmod *mod)
{
	if (!mod)
		return;
	cxm__series_free(ctx, mod->churn);
	if (mod->time_m.sk.bounds)
		cxm__free(ctx, mod->time_m.sk.bounds, sizeof(double) * (mod->time_m.sk.nb + 1));
	pthread_mutex_destroy(&mod->lock);
	cxm__free(ctx, mod, mod_size(mod->n_js));
}

static jmod *mod_new(cxm_context *ctx)
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
		mod_free(ctx, mod);
		return NULL;
	}
	m->cell_size = cxm__sketch_cell_size(&m->sk);
	m->full_cells = true;
	cxm__metric_layout(ctx, m);
	counter_metric(ctx, &mod->churn_m, 1);
	if (!(mod->churn = cxm__series_new(ctx, &mod->churn_m, NULL))) {
		mod_free(ctx, mod);
		return NULL;
	}
	return mod;
}

static void group_free(cxm_context *ctx, const jstate *js, jgroup *g)
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
static jgroup *group_new(cxm_context *ctx, const jmod *mod, const jstate *js)
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
	group_free(ctx, js, g);
	return NULL;
}

/* Why group_new() failed: max_series, or the allocator. */
static cxm_status group_fail(const cxm_context *ctx, const jstate *js, const char *what,
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

static void js_free(cxm_context *ctx, jstate *js)
{
	if (!js)
		return;
	for (uint32_t c = 0; c < N_CHANNELS; c++)
		group_free(ctx, js, atomic_load_explicit(&js->by_chan[c], memory_order_relaxed));
	for (uint32_t i = 0; i <= ctx->max_segment_values; i++)
		group_free(ctx, js, atomic_load_explicit(&js->by_slot[i], memory_order_relaxed));
	pthread_mutex_destroy(&js->lock);
	cxm__free(ctx, js, js_size(ctx));
}

static jstate *js_new(cxm_context *ctx, uint32_t n_steps)
{
	jstate *js = cxm__calloc(ctx, 1, js_size(ctx));
	if (!js)
		return NULL;
	if (cxm__mutex_init(&js->lock)) {
		cxm__free(ctx, js, js_size(ctx));
		return NULL;
	}
	cxm_journey_options o;
	default_options(ctx, &o);
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
		js_free(ctx, atomic_load_explicit(&mod->js[j], memory_order_relaxed));
	mod_free(ctx, mod);
}

#define trackable cxm__journey_trackable

/* Publish *mine at *slot unless something is there already; *mine is
 * cleared when it was taken. */
#define PUBLISH(slot, mine)                                                                    \
	do {                                                                                   \
		__typeof__(mine) cur_ = NULL;                                                  \
		if ((mine) && atomic_compare_exchange_strong_explicit(                         \
				      (slot), &cur_, (mine), memory_order_acq_rel,              \
				      memory_order_acquire))                                    \
			(mine) = NULL;                                                         \
	} while (0)

/* The module and, with j != CXM_NONE, journey j's state: made if missing,
 * and published only when everything was made, so that a failure leaves
 * nothing behind. */
static cxm_status ensure(cxm_context *ctx, cxm_id j, jmod **mod_out, jstate **js_out)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire), *mine_mod = NULL;
	jstate *js = NULL, *mine_js = NULL;
	if (!mod && !(mine_mod = mod_new(ctx)))
		goto nomem;
	if (j != CXM_NONE) {
		if (mod)
			js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
		if (!js && !(mine_js = js_new(ctx, ctx->model.journeys[j].n_steps)))
			goto nomem;
	}
	PUBLISH(&ctx->journeys, mine_mod);
	mod_free(ctx, mine_mod);
	mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (j != CXM_NONE) {
		PUBLISH(&mod->js[j], mine_js);
		js_free(ctx, mine_js);
		js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
	}
	*mod_out = mod;
	if (js_out)
		*js_out = js;
	return CXM_OK;
nomem:
	js_free(ctx, mine_js);
	mod_free(ctx, mine_mod);
	return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the state of journeys failed");
}

cxm_status cxm__journey_ensure_open(cxm_context *ctx, cxm_id j, uint32_t chan)
{
	jmod *mod = NULL;
	jstate *js = NULL;
	cxm_status st = ensure(ctx, j, &mod, &js);
	if (st)
		return st;
	_Atomic(jgroup *) *need[2] = {&js->by_slot[0], chan ? &js->by_chan[chan] : NULL};
	for (int i = 0; i < 2; i++) {
		if (!need[i] || atomic_load_explicit(need[i], memory_order_acquire))
			continue;
		jgroup *g = group_new(ctx, mod, js);
		if (!g)
			return group_fail(ctx, js, "snapshot: ", ctx->model.journeys[j].name);
		PUBLISH(need[i], g);
		group_free(ctx, js, g); /* NULL when published */
	}
	return CXM_OK;
}

static inline jstate *peek_js(const cxm_context *ctx, uint32_t j)
{
	jmod *mod = atomic_load_explicit(&((cxm_context *)ctx)->journeys, memory_order_acquire);
	if (!mod || j >= mod->n_js)
		return NULL;
	return atomic_load_explicit(&mod->js[j], memory_order_acquire);
}

/* ---- the per-customer transition -------------------------------------------------- */

static inline int64_t start_ms(const cust_entry *e)
{
	return ((int64_t)e->inst_start_s + CUST_BASE_S) * 1000;
}

static inline int64_t last_ms(const cust_entry *e)
{
	return start_ms(e) + cxm__off_ms(e->step_off);
}

/* Whether t comes after e's latest step, at the precision the step is
 * kept with (whole seconds past 24.8 days into the instance: a step in
 * the same second is not later). */
static inline bool after_last(const cust_entry *e, int64_t t)
{
	return cxm__off_encode(t - start_ms(e)) > e->step_off;
}

static inline bool before_last(const cust_entry *e, int64_t t)
{
	return cxm__off_encode(t - start_ms(e)) < e->step_off;
}

bool cxm__journeys_strict_order(const cxm_context *ctx)
{
	jmod *mod = atomic_load_explicit(&((cxm_context *)ctx)->journeys, memory_order_acquire);
	return mod && atomic_load_explicit(&mod->n_strict_order, memory_order_relaxed);
}

bool cxm__journey_touch(cxm_context *ctx, cxm_id tp, int64_t t_ms, const uint32_t *slots,
			uint32_t n_slots, jwork *w)
{
	const touchpoint *T = &ctx->model.touchpoints[tp];
	w->foreign = T->journey == CXM_NONE || !trackable(ctx, T->journey);
	if (w->foreign && !cxm__journeys_strict_order(ctx))
		return false;
	w->journey = w->foreign ? 0 : T->journey; /* foreign: set by cxm__journey_apply */
	w->step = w->foreign ? 0 : T->step;
	w->chan = (uint32_t)T->channel;
	w->t_ms = t_ms;
	w->slots = slots;
	w->n_slots = n_slots;
	w->n_ops = 0;
	w->mod = NULL;
	w->js = NULL;
	w->chan_g = NULL;
	w->chan2 = 0;
	w->chan2_g = NULL;
	w->prepared = false;
	for (uint32_t i = 0; i < n_slots; i++)
		w->slot_g[i] = NULL;
	return true;
}

static void add_op(jwork *w, uint32_t j, uint8_t kind, uint32_t chan, bool by_segment, uint32_t a,
		   uint32_t b, int64_t t, int64_t t0, double v)
{
	jop *op = &w->ops[w->n_ops++];
	op->journey = j;
	op->kind = kind;
	op->chan = (uint8_t)chan;
	op->by_segment = by_segment;
	op->pad = 0;
	op->a = a;
	op->b = b;
	op->t_ms = t;
	op->t0_ms = t0;
	op->v = v;
}

static void options_of(const cxm_context *ctx, uint32_t j, cxm_journey_options *o)
{
	jstate *js = peek_js(ctx, j);
	if (!js) {
		default_options(ctx, o);
		return;
	}
	default_options(ctx, o);
	o->flags = atomic_load_explicit(&js->o_flags, memory_order_relaxed);
	o->conversion_ms = atomic_load_explicit(&js->o_conversion, memory_order_relaxed);
	o->abandon_ms = atomic_load_explicit(&js->o_abandon, memory_order_relaxed);
	o->lateness_ms = atomic_load_explicit(&js->o_lateness, memory_order_relaxed);
	o->repeat_ms = atomic_load_explicit(&js->o_repeat, memory_order_relaxed);
}

/* When the open instance of e closes for want of progress, and why. */
static int64_t deadline(const cust_entry *e, const cxm_journey_options *o, uint32_t *why)
{
	int64_t quiet = last_ms(e) + o->abandon_ms;
	/* the last instant inside the conversion window */
	int64_t conv = start_ms(e) + o->conversion_ms -
		       ((o->flags & CXM_JOURNEY_WINDOW_EXCLUSIVE) ? 1 : 0);
	if (quiet <= conv) {
		*why = CNT_ABANDONED;
		return quiet;
	}
	/* abandonment as long as the window (the default): an instance that
	 * never moved past its first step was abandoned, whatever the ms
	 * its entry had past the second its window counts from */
	*why = e->step == 0 && o->abandon_ms == o->conversion_ms ? CNT_ABANDONED : CNT_EXPIRED;
	return conv;
}

static void close_op(const cxm_context *ctx, jwork *w, cust_entry *e, uint32_t why, int64_t t)
{
	uint32_t k = cidx(ctx, e->journey - 1u, why);
	add_op(w, e->journey - 1u, JOP_COUNT, e->flags & JF_CHAN, false, k, k, t, start_ms(e), 0);
	e->flags &= (uint8_t)~JF_OPEN;
}

/* Reach step s of the open instance of e at t (s above the highest). */
static void advance(jwork *w, uint32_t n_steps, cust_entry *e, uint32_t s, int64_t t)
{
	const uint32_t j = w->journey, ch = e->flags & JF_CHAN;
	int64_t last = last_ms(e);
	int64_t at = t > last ? t : last;
	w->moved = true;
	const int64_t t0 = start_ms(e);
	add_op(w, j, JOP_COUNT, ch, true, 1 + e->step + 1u, 1 + s, t, t0, 0);
	add_op(w, j, JOP_TIME, ch, true, e->step, 0, t, t0, (double)(at - last) / 1000);
	e->step = (uint8_t)s;
	e->step_off = cxm__off_encode(at - start_ms(e));
	if (s + 1 == n_steps) {
		add_op(w, j, JOP_TIME, ch, true, n_steps - 1, 0, t, t0, (double)(at - t0) / 1000);
		e->flags = (uint8_t)((e->flags & ~JF_OPEN) | JF_DONE);
	}
}

static void enter(const cxm_context *ctx, jwork *w, const cxm_journey_options *o, uint32_t n_steps,
		  cust_entry *e, int64_t t)
{
	const uint32_t j = w->journey;
	const bool repeat = e->journey == j + 1 && t - start_ms(e) <= o->repeat_ms && t >= start_ms(e);
	w->moved = true;
	int64_t secs = t / 1000 - CUST_BASE_S;
	if (secs < 0)
		secs = 0;
	e->journey = (uint16_t)(j + 1);
	e->step = 0;
	e->flags = (uint8_t)((e->flags & JF_CHURNED) | JF_OPEN | (w->chan & JF_CHAN));
	e->inst_start_s = (uint32_t)secs;
	int64_t off = t - start_ms(e);
	e->step_off = cxm__off_encode(off);
	/* counted in the new instance's cohort: its start as the entry keeps it */
	const int64_t t0 = start_ms(e);
	if (repeat) {
		uint32_t k = cidx(ctx, j, CNT_REPEAT);
		add_op(w, j, JOP_COUNT, w->chan, true, k, k, t, t0, 0);
	}
	add_op(w, j, JOP_COUNT, w->chan, true, 0, 1, t, t0, 0); /* entered and reached step 0 */
	if (n_steps == 1) {
		add_op(w, j, JOP_TIME, w->chan, true, 0, 0, t, t0, 0);
		e->flags = (uint8_t)((e->flags & ~JF_OPEN) | JF_DONE);
	}
}

static cxm_status too_late(const cxm_context *ctx, uint32_t j, const cxm_journey_options *o,
			   int64_t t, const cust_entry *e)
{
	if (e->journey && t < last_ms(e) - o->lateness_ms)
		return cxm__fail(ctx, CXM_ERR_TOO_LATE,
				 "journey '%s': time %lld ms is more than %lld ms before the customer's "
				 "latest journey step (%lld)",
				 ctx->model.journeys[j].name, (long long)t, (long long)o->lateness_ms,
				 (long long)last_ms(e));
	return CXM_OK;
}

cxm_status cxm__journey_check(const cxm_context *ctx, cxm_id tp, int64_t t_ms, const cust_entry *e)
{
	const touchpoint *p = &ctx->model.touchpoints[tp];
	if (p->journey == CXM_NONE || !trackable(ctx, p->journey))
		return CXM_OK;
	cxm_journey_options o;
	options_of(ctx, p->journey, &o);
	return too_late(ctx, p->journey, &o, t_ms, e);
}

static uint32_t options_flags(const cxm_context *ctx, uint32_t j)
{
	jstate *js = peek_js(ctx, j);
	return js ? atomic_load_explicit(&js->o_flags, memory_order_relaxed) : 0;
}

/* An interaction on no tracked journey's step (w->foreign): it ends a
 * STRICT_ORDER instance it comes after (one older than the instance's
 * latest step changes nothing), and, like any, an instance whose deadline
 * it is past. Its ops count in the instance's journey. */
static void apply_foreign(cxm_context *ctx, jwork *w, cust_entry *e)
{
	if (!(e->flags & JF_OPEN) || !e->journey)
		return;
	const uint32_t j = e->journey - 1u;
	cxm_journey_options o;
	options_of(ctx, j, &o);
	uint32_t why;
	int64_t dl = deadline(e, &o, &why);
	/* another round may find the customer on another journey: what an
	 * earlier round prepared was for the journey it saw */
	if (w->prepared && w->journey != j)
		cxm__journey_release(ctx, w);
	w->journey = j;
	if (w->t_ms > dl)
		close_op(ctx, w, e, why, dl);
	else if ((o.flags & CXM_JOURNEY_STRICT_ORDER) && !before_last(e, w->t_ms))
		close_op(ctx, w, e, CNT_BROKEN, w->t_ms);
}

cxm_status cxm__journey_apply(cxm_context *ctx, jwork *w, cust_entry *e)
{
	if (w->foreign) {
		w->n_ops = 0;
		apply_foreign(ctx, w, e);
		return CXM_OK;
	}
	cxm_journey_options o;
	options_of(ctx, w->journey, &o);
	const uint32_t j = w->journey, s = w->step, n_steps = ctx->model.journeys[j].n_steps;
	const int64_t t = w->t_ms;
	w->n_ops = 0;
	cxm_status st = too_late(ctx, j, &o, t, e);
	if (st)
		return st;
	cust_entry n = *e;
	bool open = (n.flags & JF_OPEN) != 0;
	if (open) {
		/* the instance of whichever journey: closed if t is past its deadline */
		cxm_journey_options oo;
		if (n.journey == j + 1)
			oo = o;
		else
			options_of(ctx, n.journey - 1u, &oo);
		uint32_t why;
		int64_t dl = deadline(&n, &oo, &why);
		if (t > dl) {
			close_op(ctx, w, &n, why, dl);
			open = false;
		}
	}
	const bool strict = o.flags & CXM_JOURNEY_STRICT, repeats = o.flags & CXM_JOURNEY_COUNT_REPEATS;
	const bool order = o.flags & CXM_JOURNEY_STRICT_ORDER, dedup = o.flags & CXM_JOURNEY_STRICT_DEDUP;
	w->was_open = open && n.journey == j + 1;
	w->was_step = n.step;
	w->was_start_s = n.inst_start_s;
	w->moved = false;
	if (open && n.journey == j + 1) {
		const uint32_t h = n.step;
		if (s == 0 && (o.flags & CXM_JOURNEY_RESTART)) {
			close_op(ctx, w, &n, CNT_DISPLACED, t);
			enter(ctx, w, &o, n_steps, &n, t);
		} else if (s > h) {
			bool hold = (o.flags & CXM_JOURNEY_EQUAL_TIMES_HOLD) && !after_last(&n, t);
			bool skip = s != h + 1;
			if (skip && (strict || (order && !(o.flags & CXM_JOURNEY_ALLOW_REENTRY))))
				close_op(ctx, w, &n, CNT_BROKEN, t);
			else if (!hold && !(skip && order))
				advance(w, n_steps, &n, s, t);
		} else if (dedup && s > 0) {
			close_op(ctx, w, &n, CNT_BROKEN, t);
		} else if (s == h) {
			if (repeats)
				add_op(w, j, JOP_COUNT, n.flags & JF_CHAN, true, 1 + s, 1 + s, t, start_ms(&n), 0);
		} else if (strict) {
			close_op(ctx, w, &n, CNT_BROKEN, t);
			if (s == 0)
				enter(ctx, w, &o, n_steps, &n, t);
		} else if (repeats) {
			add_op(w, j, JOP_COUNT, n.flags & JF_CHAN, true, 1 + s, 1 + s, t, start_ms(&n), 0);
		}
	} else if (s == 0) {
		if (open) /* an instance of another journey gives way */
			close_op(ctx, w, &n, CNT_DISPLACED, t);
		enter(ctx, w, &o, n_steps, &n, t);
	} else if (open && n.journey != j + 1 &&
		   (options_flags(ctx, n.journey - 1u) & CXM_JOURNEY_STRICT_ORDER) && !before_last(&n, t)) {
		/* a step of another journey, in a STRICT_ORDER instance */
		close_op(ctx, w, &n, CNT_BROKEN, t);
	}
	*e = n;
	return CXM_OK;
}

/* ---- preparing, publishing and counting ------------------------------------------- */

/* An op of the touched journey folds into the group of the whole journey,
 * of its channel and, when by_segment, of the interaction's segment slots:
 * each must be published or prepared. Closes of another journey's
 * instance need nothing: its groups were made when it began. */
static jstate *touched_js(const cxm_context *ctx, const jwork *w)
{
	jstate *js = peek_js(ctx, w->journey);
	return js ? js : w->js;
}

static bool have_slot(const jstate *js, const jwork *w, uint32_t i)
{
	return w->slot_g[i] || atomic_load_explicit(&js->by_slot[w->slots[i]], memory_order_acquire);
}

static bool have_chan(const jstate *js, const jwork *w, uint32_t c)
{
	return !c || (c == w->chan && w->chan_g) || (c == w->chan2 && w->chan2_g) ||
	       atomic_load_explicit(&js->by_chan[c], memory_order_acquire);
}

bool cxm__journey_ready(cxm_context *ctx, const jwork *w)
{
	const jstate *js = touched_js(ctx, w);
	for (uint32_t i = 0; i < w->n_ops; i++) {
		const jop *op = &w->ops[i];
		if (op->journey != w->journey)
			continue;
		if (!js || !have_slot(js, w, 0) || !have_chan(js, w, op->chan))
			return false;
		for (uint32_t k = 1; op->by_segment && k < w->n_slots; k++)
			if (!have_slot(js, w, k))
				return false;
	}
	return true;
}

cxm_status cxm__journey_prepare(cxm_context *ctx, jwork *w)
{
	w->prepared = true;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (!mod && !w->mod && !(w->mod = mod_new(ctx)))
		goto nomem;
	if (!mod)
		mod = w->mod;
	jstate *js = atomic_load_explicit(&mod->js[w->journey], memory_order_acquire);
	if (!js && !w->js && !(w->js = js_new(ctx, ctx->model.journeys[w->journey].n_steps)))
		goto nomem;
	if (!js)
		js = w->js;
	for (uint32_t i = 0; i < w->n_ops; i++) {
		const jop *op = &w->ops[i];
		if (op->journey != w->journey)
			continue;
		for (uint32_t k = 0; k < (op->by_segment ? w->n_slots : 1); k++)
			if (!have_slot(js, w, k) && !(w->slot_g[k] = group_new(ctx, mod, js)))
				goto nogroup;
		if (have_chan(js, w, op->chan))
			continue;
		/* the interaction's channel, or that of the instance it
		 * continues (which has no group when a snapshot without
		 * journey state was loaded) */
		if (op->chan == w->chan) {
			if (!(w->chan_g = group_new(ctx, mod, js)))
				goto nogroup;
		} else if (!w->chan2_g) {
			w->chan2 = op->chan;
			if (!(w->chan2_g = group_new(ctx, mod, js)))
				goto nogroup;
		}
	}
	return CXM_OK;
nogroup:
	return group_fail(ctx, js, "", ctx->model.journeys[w->journey].name);
nomem:
	return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the funnel of journey '%s' failed",
			 ctx->model.journeys[w->journey].name);
}

static inline int64_t writable_epoch(const cxm_context *ctx, const series *s, int64_t e)
{
	/* a series takes a bucket only within its finest ring's reach behind
	 * its newest: older events go to the oldest bucket it still has */
	const int64_t n0 = ctx->tiers[0].buckets;
	if (s->top[0] != TAG_EMPTY && e <= s->top[0] - n0)
		e = s->top[0] - n0 + 1;
	return e;
}

/* Funnel and churn series take the pages of their buckets as they come
 * and give them back with their last bucket, like a metric's series.
 * cxm__journey_reserve takes them before the customer moves on, while the
 * feed can still be refused (a sweep, before it ends an instance; a churn,
 * in cxm__churn_reserve); a page that another thread's fold made
 * necessary in between, or a merge's, may still find no memory here: that
 * bucket is counted in cxm_stats::lost_buckets, like a roll-up's. */
static void fold_group(cxm_context *ctx, const jmod *mod, jgroup *g, const jop *op)
{
	if (!g)
		return;
	cxm__cohorts_fold(ctx, &g->coh, op);
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	if (op->kind == JOP_COUNT) {
		int64_t e = writable_epoch(ctx, g->counts, floordiv64(op->t_ms, w0));
		uint64_t *c = cxm__series_cell(ctx, g->counts, e);
		if (!c)
			cxm__series_lost(ctx);
		for (uint32_t k = op->a; c && k <= op->b; k++)
			c[1 + k]++;
		if (g->counts->reserved) /* pages for roll-ups that landed elsewhere */
			cxm__series_unreserve(ctx, g->counts);
		return;
	}
	series *s = g->times[op->a];
	int64_t e = writable_epoch(ctx, s, floordiv64(op->t_ms, w0));
	sketch_cell *c = cxm__series_cell(ctx, s, e);
	sketch_cell *b = c ? cxm__series_bins_cell(ctx, s, e) : NULL;
	if (b) { /* both parts or neither, so that n and the bins agree */
		cxm__sketch_add_moments(c, op->v);
		cxm__sketch_add_dist(&mod->time_m.sk, b, op->v);
	} else {
		cxm__series_lost(ctx);
	}
	if (s->reserved)
		cxm__series_unreserve(ctx, s);
}

/* Pages for what fold_group(g, op) will write, taken now, where the
 * feed can still be refused (fold_group gives back those it did not use);
 * with `undo`, given back. False: no memory. */
static bool reserve_group(cxm_context *ctx, jgroup *g, const jop *op, bool undo)
{
	if (!g)
		return true;
	series *s = op->kind == JOP_COUNT ? g->counts : g->times[op->a];
	if (undo) {
		cxm__series_unreserve(ctx, s);
		cxm__cohorts_unreserve(ctx, &g->coh);
		return true;
	}
	int64_t e = writable_epoch(ctx, s, floordiv64(op->t_ms, ctx->tiers[0].bucket_ms));
	return cxm__cohorts_reserve(ctx, &g->coh, op) && cxm__series_reserve(ctx, s, e, NAN, NULL);
}

static jgroup *slot_group(const jstate *js, const jwork *w, uint32_t i)
{
	if (w->slot_g[i])
		return w->slot_g[i];
	return js ? atomic_load_explicit(&js->by_slot[w->slots[i]], memory_order_acquire) : NULL;
}

static jgroup *chan_group(const jstate *js, const jwork *w, uint32_t c)
{
	if (c && c == w->chan && w->chan_g)
		return w->chan_g;
	if (c && c == w->chan2 && w->chan2_g)
		return w->chan2_g;
	return c && js ? atomic_load_explicit(&js->by_chan[c], memory_order_acquire) : NULL;
}

/* Reserve (undo: give back) the pages cxm__journey_count(op) folds into. */
static bool reserve_count(cxm_context *ctx, const jop *op, bool undo)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = mod ? atomic_load_explicit(&mod->js[op->journey], memory_order_acquire) : NULL;
	if (!js)
		return true;
	pthread_mutex_lock(&js->lock);
	bool ok = reserve_group(ctx, atomic_load_explicit(&js->by_slot[0], memory_order_acquire), op, undo) &&
		  (!op->chan ||
		   reserve_group(ctx, atomic_load_explicit(&js->by_chan[op->chan], memory_order_acquire), op, undo));
	pthread_mutex_unlock(&js->lock);
	return ok;
}

/* Reserve (undo: give back) the pages of w's folds. */
static bool reserve_ops(cxm_context *ctx, jwork *w, bool undo)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	bool ok = true;
	for (uint32_t i = 0; ok && i < w->n_ops; i++) {
		const jop *op = &w->ops[i];
		jstate *pub = mod ? atomic_load_explicit(&mod->js[op->journey], memory_order_acquire) : NULL;
		if (op->journey != w->journey) { /* another journey's instance that gave way */
			ok = reserve_count(ctx, op, undo);
			continue;
		}
		const jstate *js = pub ? pub : w->js;
		if (pub)
			pthread_mutex_lock(&pub->lock);
		for (uint32_t k = 0; ok && k < (op->by_segment ? w->n_slots : 1); k++)
			ok = reserve_group(ctx, slot_group(js, w, k), op, undo);
		if (ok && op->chan)
			ok = reserve_group(ctx, chan_group(js, w, op->chan), op, undo);
		if (pub)
			pthread_mutex_unlock(&pub->lock);
	}
	return ok;
}

cxm_status cxm__journey_reserve(cxm_context *ctx, jwork *w)
{
	if (!reserve_ops(ctx, w, false)) {
		(void)reserve_ops(ctx, w, true); /* a refusal leaves memory as it was */
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a time bucket of the funnel of journey '%s'",
				 ctx->model.journeys[w->journey].name);
	}
	return CXM_OK;
}

void cxm__journey_count(cxm_context *ctx, const jop *op)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = mod ? atomic_load_explicit(&mod->js[op->journey], memory_order_acquire) : NULL;
	if (!js)
		return;
	pthread_mutex_lock(&js->lock);
	fold_group(ctx, mod, atomic_load_explicit(&js->by_slot[0], memory_order_acquire), op);
	if (op->chan)
		fold_group(ctx, mod, atomic_load_explicit(&js->by_chan[op->chan], memory_order_acquire), op);
	pthread_mutex_unlock(&js->lock);
}

void cxm__journey_commit(cxm_context *ctx, jwork *w)
{
	if (!w->n_ops)
		return;
	PUBLISH(&ctx->journeys, w->mod);
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	PUBLISH(&mod->js[w->journey], w->js);
	jstate *js = atomic_load_explicit(&mod->js[w->journey], memory_order_acquire);
	if (!js) {
		/* nothing to count in this journey (a step past its entry on a
		 * journey nobody entered): only another journey's instance that
		 * gave way, e.g. one that expired */
		for (uint32_t i = 0; i < w->n_ops; i++)
			cxm__journey_count(ctx, &w->ops[i]);
		return;
	}
	/* groups made against a module or journey state that lost the race
	 * to be published read the winner's (identical) layouts */
	for (uint32_t i = 0; i <= w->n_slots + 1; i++) {
		jgroup *g = i < w->n_slots ? w->slot_g[i] : i == w->n_slots ? w->chan_g : w->chan2_g;
		if (!g)
			continue;
		g->counts->m = &js->counts_m;
		for (uint32_t k = 0; k < js->n_steps; k++)
			g->times[k]->m = &mod->time_m;
	}
	for (uint32_t i = 0; i < w->n_slots; i++)
		PUBLISH(&js->by_slot[w->slots[i]], w->slot_g[i]);
	if (w->chan)
		PUBLISH(&js->by_chan[w->chan], w->chan_g);
	if (w->chan2)
		PUBLISH(&js->by_chan[w->chan2], w->chan2_g);
	/* another journey's instance that gave way: its own lock */
	for (uint32_t i = 0; i < w->n_ops; i++)
		if (w->ops[i].journey != w->journey)
			cxm__journey_count(ctx, &w->ops[i]);
	pthread_mutex_lock(&js->lock);
	for (uint32_t i = 0; i < w->n_ops; i++) {
		const jop *op = &w->ops[i];
		if (op->journey != w->journey)
			continue;
		uint32_t slots = op->by_segment ? w->n_slots : 1;
		for (uint32_t k = 0; k < slots; k++)
			fold_group(ctx, mod, atomic_load_explicit(&js->by_slot[w->slots[k]], memory_order_acquire),
				   op);
		if (op->chan)
			fold_group(ctx, mod, atomic_load_explicit(&js->by_chan[op->chan], memory_order_acquire),
				   op);
	}
	pthread_mutex_unlock(&js->lock);
}

void cxm__journey_release(cxm_context *ctx, jwork *w)
{
	if (!w->prepared)
		return;
	w->prepared = false;
	jmod *mod = w->mod ? w->mod : atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = w->js;
	if (!js && mod)
		js = atomic_load_explicit(&mod->js[w->journey], memory_order_acquire);
	if (js) {
		for (uint32_t i = 0; i < w->n_slots; i++)
			group_free(ctx, js, w->slot_g[i]);
		group_free(ctx, js, w->chan_g);
		group_free(ctx, js, w->chan2_g);
	}
	js_free(ctx, w->js);
	mod_free(ctx, w->mod);
	w->js = NULL;
	w->mod = NULL;
	w->chan_g = NULL;
	w->chan2 = 0;
	w->chan2_g = NULL;
	for (uint32_t i = 0; i < w->n_slots; i++)
		w->slot_g[i] = NULL;
}

bool cxm__journey_expire(cxm_context *ctx, cust_entry *e, int64_t now_ms, jop *op)
{
	if (!(e->flags & JF_OPEN) || !e->journey)
		return false;
	cxm_journey_options o;
	options_of(ctx, e->journey - 1u, &o);
	uint32_t why;
	int64_t dl = deadline(e, &o, &why);
	if (now_ms <= dl)
		return false;
	const uint32_t j = e->journey - 1u, ns = ctx->model.journeys[j].n_steps;
	op->journey = j;
	op->kind = JOP_COUNT;
	op->chan = e->flags & JF_CHAN;
	op->by_segment = 0;
	op->pad = 0;
	op->a = op->b = (uint32_t)(1 + ns + why - 1);
	op->t_ms = dl;
	op->t0_ms = start_ms(e);
	op->v = 0;
	e->flags &= (uint8_t)~JF_OPEN;
	return true;
}

/* ---- rewind (cxm_rewind) -------------------------------------------------------- */

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

bool cxm__journey_rewind_entry(cust_entry *e, int64_t time_ms)
{
	if (!e->journey || last_ms(e) <= time_ms)
		return false;
	/* an instance that moved after time_ms is dropped whole: what it
	 * counted then is in buckets cxm_rewind() discards */
	e->journey = 0;
	e->step = 0;
	e->flags &= JF_CHURNED;
	e->inst_start_s = 0;
	e->step_off = 0;
	return true;
}

/* ---- churn ---------------------------------------------------------------------- */

cxm_status cxm__churn_reserve(cxm_context *ctx, struct jmod **mine, int64_t t_ms)
{
	*mine = NULL;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (mod) { /* the pages of the churn's bucket (a fresh series needs none) */
		pthread_mutex_lock(&mod->lock);
		int64_t e = writable_epoch(ctx, mod->churn, floordiv64(t_ms, ctx->tiers[0].bucket_ms));
		bool ok = cxm__series_reserve(ctx, mod->churn, e, NAN, NULL);
		if (!ok)
			cxm__series_unreserve(ctx, mod->churn);
		pthread_mutex_unlock(&mod->lock);
		return ok ? CXM_OK
			  : cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a time bucket of the churn series");
	}
	if (!(*mine = mod_new(ctx)))
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the churn series failed");
	return CXM_OK;
}

void cxm__churn_release(cxm_context *ctx, struct jmod **mine)
{
	mod_free(ctx, *mine);
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
	mod_free(ctx, *mine); /* lost the race to be published, if still here */
	*mine = NULL;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	pthread_mutex_lock(&mod->lock);
	int64_t e = writable_epoch(ctx, mod->churn, floordiv64(t_ms, ctx->tiers[0].bucket_ms));
	uint64_t *c = cxm__series_cell(ctx, mod->churn, e);
	if (c)
		c[1]++;
	else
		cxm__series_lost(ctx);
	if (mod->churn->reserved)
		cxm__series_unreserve(ctx, mod->churn);
	pthread_mutex_unlock(&mod->lock);
}

/* ---- windows -------------------------------------------------------------------- */

static inline int64_t ceildiv(int64_t a, int64_t b)
{
	return -floordiv64(-a, b);
}

static cxm_status check_window(const cxm_context *ctx, int64_t end_ms, int64_t span_ms)
{
	if (span_ms <= 0)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "span_ms %lld is not positive",
				 (long long)span_ms);
	if (end_ms != CXM_NOW && end_ms != CXM_WATERMARK && (end_ms < 0 || end_ms > CXM_TIME_MAX))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "end_ms %lld is outside 0 .. CXM_TIME_MAX",
				 (long long)end_ms);
	return CXM_OK;
}

/* [a, b): whole finest buckets, the one holding end last; [qa, qb): that
 * widened to whole buckets of tier bt. */
/* A funnel's, a funnel quantile's or a churn rate's window, placed as a
 * query's is (see cxm__window_place); returns its CXM_RESULT_TRUNCATED. */
static uint32_t place(const cxm_context *ctx, int64_t end_ms, int64_t span_ms, uint32_t bt, int64_t *a,
		      int64_t *b, int64_t *qa, int64_t *qb)
{
	window_span w;
	cxm__window_place(ctx, end_ms, span_ms, bt, &w);
	*a = w.a;
	*b = w.b;
	*qa = w.qa;
	*qb = w.qb;
	return w.flags;
}

/* ---- public: options ------------------------------------------------------------ */

cxm_status cxm_journey_options_init(cxm_journey_options *opts, size_t size)
{
	return cxm__init_struct(opts, size, sizeof(cxm_journey_options), "cxm_journey_options",
				"opts");
}

static cxm_status check_journey(const cxm_context *ctx, cxm_id jid)
{
	if (jid >= atomic_load_explicit(&ctx->model.n_journeys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", jid);
	if (!trackable(ctx, jid))
		return cxm__fail(ctx, CXM_ERR_LIMIT,
				 "journey '%s' is not tracked (more than %u steps, or id %u or above)",
				 ctx->model.journeys[jid].name, MAX_TRACKED_STEPS, MAX_TRACKED_JOURNEYS);
	return CXM_OK;
}

#define ALL_FLAGS                                                                              \
	(CXM_JOURNEY_STRICT | CXM_JOURNEY_COUNT_REPEATS | CXM_JOURNEY_EQUAL_TIMES_HOLD |        \
	 CXM_JOURNEY_RESTART | CXM_JOURNEY_WINDOW_EXCLUSIVE | CXM_JOURNEY_STRICT_ORDER |        \
	 CXM_JOURNEY_ALLOW_REENTRY | CXM_JOURNEY_STRICT_DEDUP)

/* Why flags cannot go together, or NULL. */
static const char *flags_conflict(uint32_t f)
{
	if ((f & CXM_JOURNEY_ALLOW_REENTRY) && !(f & CXM_JOURNEY_STRICT_ORDER))
		return "CXM_JOURNEY_ALLOW_REENTRY needs CXM_JOURNEY_STRICT_ORDER";
	if ((f & CXM_JOURNEY_STRICT_DEDUP) && (f & CXM_JOURNEY_COUNT_REPEATS))
		return "CXM_JOURNEY_STRICT_DEDUP ends an instance on the repeats "
		       "CXM_JOURNEY_COUNT_REPEATS would count";
	return NULL;
}

/* Store o as js's options (its lock held, or js not yet shared). */
static void set_options(jmod *mod, jstate *js, const cxm_journey_options *o)
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
	const char *conflict = flags_conflict(opts->flags);
	if (conflict)
		return cxm__fail(ctx, CXM_ERR_INVALID, "journey flags 0x%x: %s", opts->flags, conflict);
	if ((st = check_journey(ctx, jid)))
		return st;
	cxm_journey_options o;
	default_options(ctx, &o);
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
	if ((st = ensure(ctx, jid, &mod, &js)))
		return st;
	pthread_mutex_lock(&js->lock); /* one writer at a time */
	set_options(mod, js, &o);
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
	if ((st = check_journey(ctx, jid)))
		return st;
	cxm_journey_options o;
	options_of(ctx, jid, &o);
	cxm__put_out(out, &o, sizeof o);
	return CXM_OK;
}

/* ---- public: funnels ------------------------------------------------------------ */

cxm_status cxm_funnel_query_init(cxm_funnel_query *q, size_t size)
{
	cxm_status st = cxm__init_struct(q, size, sizeof(cxm_funnel_query), "cxm_funnel_query", "q");
	if (st)
		return st;
	q->segment = CXM_NONE;
	q->end_ms = CXM_NOW;
	return CXM_OK;
}

/* Validate q; on CXM_OK *slot is the group's index: by_slot[*slot], or
 * by_chan[*chan] when *chan is non-zero. */
static cxm_status check_funnel_query(const cxm_context *ctx, const cxm_funnel_query *q,
				     uint32_t *slot, uint32_t *chan)
{
	cxm_status st = cxm__check_struct(ctx, q, sizeof *q, sizeof *q, "cxm_funnel_query");
	if (st)
		return st;
	if (q->reserved[0] || q->reserved[1] || q->reserved[2] || q->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_funnel_query reserved fields must be zero");
	if ((st = check_journey(ctx, q->journey)))
		return st;
	if (q->channel > CXM_CHANNEL_OTHER)
		return cxm__fail(ctx, CXM_ERR_INVALID, "channel %u is not a cxm_channel", q->channel);
	if (q->channel && q->segment != CXM_NONE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "a funnel is broken down by one segment or one channel, not both");
	*slot = 0;
	*chan = q->channel;
	if (q->segment != CXM_NONE) {
		const model *md = &ctx->model;
		if (q->segment >= atomic_load_explicit(&md->n_segments, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment %u is not defined", q->segment);
		const segment *sg = &md->segments[q->segment];
		if (q->segment_value >= atomic_load_explicit(&sg->n_values, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value %u", sg->name,
					 q->segment_value);
		*slot = 1 + sg->slot_base + q->segment_value;
	}
	return check_window(ctx, q->end_ms, q->span_ms);
}

static jgroup *group_of(const jstate *js, uint32_t slot, uint32_t chan)
{
	return chan ? atomic_load_explicit(&((jstate *)js)->by_chan[chan], memory_order_acquire)
		    : atomic_load_explicit(&((jstate *)js)->by_slot[slot], memory_order_acquire);
}

#define TIME_BUF_WORDS 2048

/* Read time series k of g into acc: moments over [a, b), distribution over [qa, qb). */
static void read_times(const cxm_context *ctx, const jmod *mod, const jgroup *g, uint32_t k,
		       int64_t a, int64_t b, int64_t qa, int64_t qb, sketch_cell *acc)
{
	cxm__cell_init_full(&mod->time_m, acc);
	if (!g)
		return;
	cxm__series_read(ctx, g->times[k], a, b, acc, READ_MOMENTS);
	cxm__series_read(ctx, g->times[k], qa, qb, acc, READ_DIST);
}

static inline double ratio(uint64_t x, uint64_t y)
{
	return y ? (double)x / (double)y : NAN;
}

/* A step's (or, for the last step, the goal's) time samples. */
typedef struct ftimes {
	uint64_t n;
	double mean, p50, p90;
} ftimes;

/* Check the output structs, the query and the step array's room. */
static cxm_status funnel_args(cxm_context *ctx, cxm_funnel *out, cxm_funnel_step *steps, size_t cap,
			      const cxm_funnel_query *q, uint32_t *slot, uint32_t *chan)
{
	if (!ctx || !out || !steps || !q)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !steps ? "steps" : "q");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_funnel");
	if (st || (st = cxm__check_out(ctx, steps, sizeof *steps, "cxm_funnel_step")))
		return st;
	if ((st = check_funnel_query(ctx, q, slot, chan)))
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	if (cap < ns)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "journey '%s' has %u steps; steps holds %zu",
				 ctx->model.journeys[q->journey].name, ns, cap);
	return CXM_OK;
}

/* Write f (window and flags set) and the steps from a group's counters c
 * (after the SCORE layout's no-answer count) and times t. */
static void put_funnel(const cxm_context *ctx, cxm_funnel *out, cxm_funnel_step *steps,
		       const cxm_funnel_query *q, cxm_funnel *f, const uint64_t *c, const ftimes *t)
{
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	f->n_steps = ns;
	f->entered = c[0];
	f->completed = c[1 + ns - 1];
	if (q->segment == CXM_NONE) {
		f->abandoned = c[1 + ns + CNT_ABANDONED - 1];
		f->expired = c[1 + ns + CNT_EXPIRED - 1];
		f->broken = c[1 + ns + CNT_BROKEN - 1];
		f->displaced = c[1 + ns + CNT_DISPLACED - 1];
	}
	f->repeats = c[1 + ns + CNT_REPEAT - 1];
	f->conversion = ratio(f->completed, f->entered);
	f->repeat_rate = ratio(f->repeats, f->entered);
	const size_t stride = steps[0].size;
	unsigned char *base = (unsigned char *)steps;
	cxm_funnel_step fs[1];
	for (uint32_t k = 0; k < ns; k++) {
		memset(fs, 0, sizeof fs);
		fs->size = stride;
		fs->reached = c[1 + k];
		fs->conversion = ratio(fs->reached, f->entered);
		fs->step_conversion = ratio(fs->reached, k ? c[k] : f->entered);
		fs->drop_off = 1 - fs->step_conversion;
		fs->next_p50 = fs->next_p90 = fs->next_mean = NAN;
		if (k + 1 < ns) {
			fs->next_n = t[k].n;
			fs->next_mean = t[k].mean;
			fs->next_p50 = t[k].p50;
			fs->next_p90 = t[k].p90;
		}
		/* only steps[0].size is the caller's: every element gets it */
		memcpy(base + (size_t)k * stride, &stride, sizeof stride);
		cxm__put_out(base + (size_t)k * stride, fs, sizeof *fs);
	}
	f->goal_n = t[ns - 1].n;
	f->goal_mean = t[ns - 1].mean;
	f->goal_p50 = t[ns - 1].p50;
	f->goal_p90 = t[ns - 1].p90;
	if (!f->entered)
		f->flags |= CXM_RESULT_EMPTY;
	if (f->entered < ctx->min_samples)
		f->flags |= CXM_RESULT_LOW_SAMPLE;
	cxm__put_out(out, f, sizeof *f);
}

cxm_status cxm_funnel_run(cxm_funnel *out, cxm_funnel_step *steps, size_t cap, cxm_context *ctx,
			  const cxm_funnel_query *q)
{
	uint32_t slot, chan;
	cxm_status st = funnel_args(ctx, out, steps, cap, q, &slot, &chan);
	if (st)
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	cxm_funnel f;
	memset(&f, 0, sizeof f);
	f.size = sizeof f;
	uint32_t bt = ctx->n_tiers > 1 ? 1 : 0;
	f.flags = place(ctx, q->end_ms, q->span_ms, bt, &f.start_ms, &f.end_ms, &f.quantile_start_ms,
			&f.quantile_end_ms);
	uint64_t cnt[2 + MAX_TRACKED_STEPS + CNT_EXTRA];
	memset(cnt, 0, sizeof cnt);
	uint64_t tbuf[TIME_BUF_WORDS];
	sketch_cell *acc = (sketch_cell *)(void *)tbuf;
	ftimes t[MAX_TRACKED_STEPS];
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = peek_js(ctx, q->journey);
	jgroup *g = js ? group_of(js, slot, chan) : NULL;
	bool clamped = false;
	if (g)
		pthread_mutex_lock(&js->lock);
	if (g)
		cxm__series_read(ctx, g->counts, f.start_ms, f.end_ms, cnt, READ_ALL);
	for (uint32_t k = 0; k < ns; k++) {
		t[k] = (ftimes){0, NAN, NAN, NAN};
		if (!mod)
			continue;
		read_times(ctx, mod, g, k, f.start_ms, f.end_ms, f.quantile_start_ms, f.quantile_end_ms, acc);
		t[k].n = acc->n;
		if (acc->n) {
			t[k].mean = acc->sum / (double)acc->n;
			t[k].p50 = cxm__sketch_quantile(&mod->time_m.sk, acc, 0.5, &clamped);
			t[k].p90 = cxm__sketch_quantile(&mod->time_m.sk, acc, 0.9, &clamped);
		}
	}
	if (g)
		pthread_mutex_unlock(&js->lock);
	if (clamped)
		f.flags |= CXM_RESULT_CLAMPED;
	put_funnel(ctx, out, steps, q, &f, cnt + 1, t);
	return CXM_OK;
}

cxm_status cxm_funnel_cohort_run(cxm_funnel *out, cxm_funnel_step *steps, size_t cap, cxm_context *ctx,
				 const cxm_funnel_query *q)
{
	uint32_t slot, chan;
	cxm_status st = funnel_args(ctx, out, steps, cap, q, &slot, &chan);
	if (st)
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	cxm_funnel f;
	memset(&f, 0, sizeof f);
	f.size = sizeof f;
	window_span w;
	cxm__window_place_whole(ctx, q->end_ms, q->span_ms, COHORT_MS, &w);
	f.start_ms = f.quantile_start_ms = w.a;
	f.end_ms = f.quantile_end_ms = w.b;
	f.flags = w.flags;
	cohort_sum sum;
	memset(&sum, 0, sizeof sum);
	jstate *js = peek_js(ctx, q->journey);
	jgroup *g = js ? group_of(js, slot, chan) : NULL;
	if (g) {
		pthread_mutex_lock(&js->lock);
		cxm__cohorts_sum(&g->coh, w.a, w.b, &sum);
		pthread_mutex_unlock(&js->lock);
	}
	ftimes t[MAX_TRACKED_STEPS];
	for (uint32_t k = 0; k < ns; k++)
		t[k] = (ftimes){sum.tn[k], sum.tn[k] ? sum.tsum[k] / (double)sum.tn[k] : NAN, NAN, NAN};
	put_funnel(ctx, out, steps, q, &f, sum.cnt, t);
	return CXM_OK;
}

cxm_status cxm_funnel_quantiles(double *out, cxm_context *ctx, const cxm_funnel_query *q,
				uint32_t step, const double *qs, size_t n)
{
	if (!ctx || !out || !q || !qs)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : !q ? "q" : "qs");
	if (n < 1 || n > 64)
		return cxm__fail(ctx, CXM_ERR_INVALID, "n %zu is outside 1 .. 64", n);
	uint32_t slot, chan;
	cxm_status st = check_funnel_query(ctx, q, &slot, &chan);
	if (st)
		return st;
	const uint32_t ns = ctx->model.journeys[q->journey].n_steps;
	if (step != CXM_NONE && step >= ns)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step %u",
				 ctx->model.journeys[q->journey].name, step);
	if (step != CXM_NONE && step + 1 == ns)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "step %u is the last of journey '%s': it has no next step", step,
				 ctx->model.journeys[q->journey].name);
	for (size_t i = 0; i < n; i++) {
		if (isnan(qs[i]))
			return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "quantile %zu is NaN", i);
		if (qs[i] < 0 || qs[i] > 1)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "quantile %s is outside 0 .. 1", cxm__num(qs[i]).s);
	}
	const uint32_t k = step == CXM_NONE ? ns - 1 : step;
	int64_t a, b, qa, qb;
	place(ctx, q->end_ms, q->span_ms, ctx->n_tiers > 1 ? 1 : 0, &a, &b, &qa, &qb);
	uint64_t tbuf[TIME_BUF_WORDS];
	sketch_cell *acc = (sketch_cell *)(void *)tbuf;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	jstate *js = peek_js(ctx, q->journey);
	jgroup *g = js ? group_of(js, slot, chan) : NULL;
	double res[64];
	for (size_t i = 0; i < n; i++)
		res[i] = NAN;
	if (g) {
		pthread_mutex_lock(&js->lock);
		read_times(ctx, mod, g, k, a, b, qa, qb, acc);
		bool clamped = false;
		for (size_t i = 0; i < n; i++)
			res[i] = cxm__sketch_quantile(&mod->time_m.sk, acc, qs[i], &clamped);
		pthread_mutex_unlock(&js->lock);
	}
	memcpy(out, res, sizeof(double) * n);
	return CXM_OK;
}

cxm_status cxm_journey_sweep(uint64_t *closed, cxm_context *ctx, int64_t now_ms)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	if (now_ms != CXM_NOW && (now_ms < 0 || now_ms > CXM_TIME_MAX))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "now_ms %lld is outside 0 .. CXM_TIME_MAX",
				 (long long)now_ms);
	int64_t now = now_ms == CXM_NOW ? cxm__now(ctx) : now_ms;
	uint64_t n = 0;
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	const bool signals = cxm__signals_sweep_begin(ctx);
	for (int i = 0; t && i < CUST_STRIPES; i++) {
		cust_stripe *s = &t->stripes[i];
		pthread_mutex_lock(&s->lock);
		for (uint32_t k = 0; k < s->cap; k++) {
			jop op;
			cust_entry e = s->slots[k];
			if (signals && (e.flags & JF_OPEN) && e.journey) {
				/* stuck before it closes, if it got stuck in time */
				cxm_journey_options o;
				uint32_t why;
				options_of(ctx, e.journey - 1u, &o);
				cxm__signals_stuck(ctx, &e, last_ms(&e), deadline(&e, &o, &why), now);
			}
			if (!cxm__journey_expire(ctx, &e, now, &op))
				continue;
			if (!reserve_count(ctx, &op, false)) {
				/* this one and the rest stay open, for the next sweep */
				(void)reserve_count(ctx, &op, true);
				pthread_mutex_unlock(&s->lock);
				if (signals)
					cxm__signals_sweep_end(ctx, now, false);
				if (closed)
					*closed = n;
				cxm__wipe(&e, sizeof e);
				return cxm__fail(ctx, CXM_ERR_NO_MEMORY,
						 "sweep: no memory for a time bucket of a funnel; %llu "
						 "instances closed, the rest stay open",
						 (unsigned long long)n);
			}
			if (signals) /* the instance is over: so is its signal state */
				cxm__signals_forget(ctx, (const uint64_t[2]){e.k0, e.k1});
			s->slots[k] = e;
			cxm__wipe(&e, sizeof e);
			cxm__journey_count(ctx, &op);
			n++;
		}
		pthread_mutex_unlock(&s->lock);
	}
	if (signals)
		cxm__signals_sweep_end(ctx, now, true);
	if (closed)
		*closed = n;
	return CXM_OK;
}

cxm_status cxm_churn_rate(cxm_churn *out, cxm_context *ctx, cxm_id distinct, int64_t end_ms,
			  int64_t span_ms, int64_t active_ms)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "out" : "ctx");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_churn");
	if (st || (st = check_window(ctx, end_ms, span_ms)) || (st = check_window(ctx, 0, active_ms)))
		return st;
	if (distinct >= atomic_load_explicit(&ctx->model.n_metrics, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined", distinct);
	if (ctx->model.metrics[distinct].def.kind != CXM_KIND_DISTINCT)
		return cxm__fail(ctx, CXM_ERR_KIND, "metric '%s' is not DISTINCT",
				 ctx->model.metrics[distinct].name);
	cxm_churn r;
	memset(&r, 0, sizeof r);
	r.size = sizeof r;
	int64_t qa, qb;
	r.flags = place(ctx, end_ms, span_ms, 0, &r.start_ms, &r.end_ms, &qa, &qb);
	cxm_query dq = CXM_QUERY_INIT;
	dq.metric = distinct;
	dq.scope = CXM_SCOPE_ALL;
	dq.end_ms = r.start_ms - 1; /* the bucket before the window is the last */
	dq.span_ms = active_ms;
	cxm_result dr;
	memset(&dr, 0, sizeof dr);
	dr.size = sizeof dr;
	if (r.start_ms > 0 && (st = cxm_query_run(&dr, ctx, &dq)))
		return st;
	r.active_start_ms = dr.quantile_start_ms;
	r.active_end_ms = dr.quantile_end_ms;
	r.active = r.start_ms > 0 ? dr.value : 0;
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	if (mod) {
		uint64_t c[2] = {0, 0};
		pthread_mutex_lock(&mod->lock);
		cxm__series_read(ctx, mod->churn, r.start_ms, r.end_ms, c, READ_ALL);
		pthread_mutex_unlock(&mod->lock);
		r.churned = c[1];
	}
	r.rate = r.active > 0 ? (double)r.churned / r.active : NAN;
	if (!(r.active > 0))
		r.flags |= CXM_RESULT_EMPTY;
	cxm__put_out(out, &r, sizeof r);
	return CXM_OK;
}

/* ---- snapshots: the JOURNEYS section and merge ------------------------------------ *
 *
 * The section (docs/snapshot.md) holds the module's churn series, then per
 * journey with state its options and groups, each group its counter series
 * and its step-time series; journey and group lists end with a marker, so
 * that a journey or group published while the section is written is simply
 * in it or not. */

#define SNAP_END UINT32_MAX
enum { SNAP_GROUP_END = 0, SNAP_GROUP_SEGMENT = 1, SNAP_GROUP_CHANNEL = 2 };

static void snap_group_write(struct wbuf *b, const jstate *js, const jgroup *g, uint32_t kind,
			     uint32_t a, uint32_t v)
{
	cxm__snap_put32(b, kind);
	cxm__snap_put32(b, a);
	cxm__snap_put32(b, v);
	cxm__snap_put_series(b, g->counts);
	for (uint32_t k = 0; k < js->n_steps; k++)
		cxm__snap_put_series(b, g->times[k]);
}

/* Call fn for every group of js in the snapshot's order: the whole
 * journey, segment values in the model written, channels. */
typedef void group_fn(struct wbuf *b, const jstate *js, const jgroup *g, uint32_t kind, uint32_t a,
		      uint32_t v);
static void each_group(const cxm_context *ctx, struct wbuf *b, const jstate *js, uint32_t n_segments,
		       const uint32_t *n_values, group_fn *fn)
{
	jstate *m = (jstate *)js;
	jgroup *g = atomic_load_explicit(&m->by_slot[0], memory_order_acquire);
	if (g)
		fn(b, js, g, SNAP_GROUP_SEGMENT, CXM_NONE, CXM_NONE);
	/* segment values in the model written only (see snapshot.c's write_model) */
	for (uint32_t d = 0; d < n_segments; d++) {
		const segment *sg = &ctx->model.segments[d];
		for (uint32_t v = 0; v < n_values[d]; v++) {
			g = atomic_load_explicit(&m->by_slot[1 + sg->slot_base + v], memory_order_acquire);
			if (g)
				fn(b, js, g, SNAP_GROUP_SEGMENT, d, v);
		}
	}
	for (uint32_t c = 1; c < N_CHANNELS; c++) {
		g = atomic_load_explicit(&m->by_chan[c], memory_order_acquire);
		if (g)
			fn(b, js, g, SNAP_GROUP_CHANNEL, c, 0);
	}
}

static void cohorts_group_write(struct wbuf *b, const jstate *js, const jgroup *g, uint32_t kind,
				uint32_t a, uint32_t v)
{
	(void)js;
	if (!g->coh.n)
		return;
	cxm__snap_put32(b, kind);
	cxm__snap_put32(b, a);
	cxm__snap_put32(b, v);
	cxm__cohorts_write(b, &g->coh);
}

void cxm__journeys_cohorts_write(cxm_context *ctx, struct wbuf *b, uint32_t n_journeys,
				 uint32_t n_segments, const uint32_t *n_values)
{
	jmod *mod = atomic_load_explicit(&ctx->journeys, memory_order_acquire);
	for (uint32_t j = 0; mod && j < n_journeys && j < mod->n_js; j++) {
		jstate *js = atomic_load_explicit(&mod->js[j], memory_order_acquire);
		if (!js)
			continue;
		pthread_mutex_lock(&js->lock);
		cxm__snap_put32(b, j);
		each_group(ctx, b, js, n_segments, n_values, cohorts_group_write);
		cxm__snap_put32(b, SNAP_GROUP_END);
		pthread_mutex_unlock(&js->lock);
	}
	cxm__snap_put32(b, SNAP_END);
}

void cxm__journeys_write(cxm_context *ctx, struct wbuf *b, uint32_t n_journeys, uint32_t n_segments,
			 const uint32_t *n_values)
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
		each_group(ctx, b, js, n_segments, n_values, snap_group_write);
		cxm__snap_put32(b, SNAP_GROUP_END);
		pthread_mutex_unlock(&js->lock);
	}
	cxm__snap_put32(b, SNAP_END);
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
	default_options(into, o);
	o->flags = flags;
	o->conversion_ms = (int64_t)v[0];
	o->abandon_ms = (int64_t)v[1];
	o->lateness_ms = (int64_t)v[2];
	o->repeat_ms = (int64_t)v[3];
	if ((flags & ~(uint32_t)ALL_FLAGS) || flags_conflict(flags) || o->conversion_ms < 1000 ||
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
	jmod *mod = NULL; /* set by ensure() on success; gcc -O3 cannot tell */
	/* the private context is freed whole on failure: what is made here
	 * is published into it at once */
	if ((st = ensure(into, CXM_NONE, &mod, NULL)))
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
		if ((st = ensure(into, j, &mod, &js)))
			return cxm__fail(ctx, st, "snapshot: no memory for the journey state");
		set_options(mod, js, &o);
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
			jgroup *g = group_new(into, mod, js);
			if (!g) {
				/* judged on the private context, said on the caller's */
				st = group_fail(into, js, "snapshot: ", md->journeys[j].name);
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

/* Add every bucket of src's series s into dst's series d (same metric
 * layout), as cxm_merge adds a SERIES record. */
typedef struct add_arg {
	cxm_context *dst;
	series *d;
	uint32_t k;
} add_arg;

static void add_bucket(void *arg, int64_t e, const void *cell)
{
	add_arg *a = arg;
	if (!cxm__series_merge_bucket(a->dst, a->d, a->k, e, cell))
		cxm__series_lost(a->dst);
}

static void series_add(cxm_context *dst, series *d, const cxm_context *src, const series *s)
{
	if (s->hot_epoch != TAG_EMPTY && !cxm__series_merge_bucket(dst, d, 0, s->hot_epoch, s->hot))
		cxm__series_lost(dst);
	for (uint32_t k = 0; k < src->n_tiers; k++) {
		add_arg a = {dst, d, k};
		cxm__series_each(src, s, k, add_bucket, &a);
	}
	if (s->life && d->life)
		cxm__cell_merge(d->m, d->life, s->life);
}

static void group_add(cxm_context *dst, jgroup *d, const cxm_context *src, const jgroup *g,
		      uint32_t n_steps)
{
	series_add(dst, d->counts, src, g->counts);
	for (uint32_t k = 0; k < n_steps; k++)
		series_add(dst, d->times[k], src, g->times[k]);
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
		js_free(dst, x->js);
	}
	mod_free(dst, p->mod);
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
		options_of(src, j, &a);
		options_of(dst, jmap[j], &b);
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
	if (!dmod && !(p->mod = mod_new(dst)))
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
		if (!djs && !(djs = x->js = js_new(dst, dst->model.journeys[x->dj].n_steps)))
			goto nomem;
		for (uint32_t i = 0; i <= src_slots && i <= src->max_segment_values; i++) {
			if (!atomic_load_explicit(&sjs->by_slot[i], memory_order_acquire))
				continue;
			uint32_t ds = i ? slotmap[i] : 0;
			if (!atomic_load_explicit(&djs->by_slot[ds], memory_order_acquire) &&
			    !(x->made[ds] = group_new(dst, mod, djs))) {
				st = group_fail(dst, djs, "merge: ", dst->model.journeys[x->dj].name);
				plan_free(dst, p);
				return st;
			}
		}
		for (uint32_t c = 1; c < N_CHANNELS; c++) {
			size_t at = 1 + (size_t)dst->max_segment_values + c;
			if (atomic_load_explicit(&sjs->by_chan[c], memory_order_acquire) &&
			    !atomic_load_explicit(&djs->by_chan[c], memory_order_acquire) &&
			    !(x->made[at] = group_new(dst, mod, djs))) {
				st = group_fail(dst, djs, "merge: ", dst->model.journeys[x->dj].name);
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
	group_free(dst, js, *mine);
	*mine = NULL;
}

void cxm__journeys_merge_commit(cxm_context *dst, cxm_context *src, struct jmerge *p)
{
	if (!p)
		return;
	jmod *smod = atomic_load_explicit(&src->journeys, memory_order_acquire);
	PUBLISH(&dst->journeys, p->mod);
	mod_free(dst, p->mod);
	p->mod = NULL;
	jmod *mod = atomic_load_explicit(&dst->journeys, memory_order_acquire);
	pthread_mutex_lock(&mod->lock);
	pthread_mutex_lock(&smod->lock);
	series_add(dst, mod->churn, src, smod->churn);
	pthread_mutex_unlock(&smod->lock);
	pthread_mutex_unlock(&mod->lock);
	for (uint32_t j = 0; j < p->nj; j++) {
		jplan *x = &p->j[j];
		if (x->dj == CXM_NONE)
			continue;
		jstate *sjs = atomic_load_explicit(&smod->js[j], memory_order_acquire);
		if (x->js) {
			cxm_journey_options o;
			options_of(src, j, &o);
			set_options(mod, x->js, &o);
			PUBLISH(&mod->js[x->dj], x->js);
		}
		jstate *js = atomic_load_explicit(&mod->js[x->dj], memory_order_acquire);
		const size_t cbase = 1 + (size_t)dst->max_segment_values;
		for (size_t i = 0; i < cbase; i++)
			publish_group(dst, mod, js, &js->by_slot[i], &x->made[i]);
		for (uint32_t c = 1; c < N_CHANNELS; c++)
			publish_group(dst, mod, js, &js->by_chan[c], &x->made[cbase + c]);
		js_free(dst, x->js); /* lost the race to be published, if still here */
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
