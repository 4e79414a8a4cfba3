/* Journey instances: each customer's progress along a journey, the funnel
 * counts it feeds, abandonment, repeat contacts, and the sweep that closes
 * overdue instances.
 *
 * State per customer is the one journey instance kept in its cust_entry
 * (customers.c): journey, highest step, flags, start and latest step time.
 * Its counts are folded into the funnel groups of its journey (journeys.c
 * keeps them, and the journey's options) at the event's time, so they
 * roll, and add up across contexts, like every other series.
 *
 * Locks: a customer's stripe (customers.c) is held while its entry changes;
 * a journey's lock while its groups are folded or read. A feeder releases
 * the stripe before it takes the journey's lock; only the sweep holds a
 * stripe while it takes a journey's lock, and nothing takes them the other
 * way round. What a feed needs and lacks is allocated with no lock held
 * (cxm__journey_prepare) and published with compare-and-swap, so a failed
 * allocation changes nothing. */
#include "journeys.h"
#include "series_hot.h"

#include <math.h>

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
	cxm__journey_options_of(ctx, p->journey, &o);
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
	cxm__journey_options_of(ctx, j, &o);
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
	cxm__journey_options_of(ctx, w->journey, &o);
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
			cxm__journey_options_of(ctx, n.journey - 1u, &oo);
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
	if (!mod && !w->mod && !(w->mod = cxm__jmod_new(ctx)))
		goto nomem;
	if (!mod)
		mod = w->mod;
	jstate *js = atomic_load_explicit(&mod->js[w->journey], memory_order_acquire);
	if (!js && !w->js && !(w->js = cxm__jstate_new(ctx, ctx->model.journeys[w->journey].n_steps)))
		goto nomem;
	if (!js)
		js = w->js;
	for (uint32_t i = 0; i < w->n_ops; i++) {
		const jop *op = &w->ops[i];
		if (op->journey != w->journey)
			continue;
		for (uint32_t k = 0; k < (op->by_segment ? w->n_slots : 1); k++)
			if (!have_slot(js, w, k) && !(w->slot_g[k] = cxm__jgroup_new(ctx, mod, js)))
				goto nogroup;
		if (have_chan(js, w, op->chan))
			continue;
		/* the interaction's channel, or that of the instance it
		 * continues (which has no group when a snapshot without
		 * journey state was loaded) */
		if (op->chan == w->chan) {
			if (!(w->chan_g = cxm__jgroup_new(ctx, mod, js)))
				goto nogroup;
		} else if (!w->chan2_g) {
			w->chan2 = op->chan;
			if (!(w->chan2_g = cxm__jgroup_new(ctx, mod, js)))
				goto nogroup;
		}
	}
	return CXM_OK;
nogroup:
	return cxm__jgroup_fail(ctx, js, "", ctx->model.journeys[w->journey].name);
nomem:
	return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the funnel of journey '%s' failed",
			 ctx->model.journeys[w->journey].name);
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
		int64_t e = cxm__writable_epoch(ctx, g->counts, floordiv64(op->t_ms, w0));
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
	int64_t e = cxm__writable_epoch(ctx, s, floordiv64(op->t_ms, w0));
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
	int64_t e = cxm__writable_epoch(ctx, s, floordiv64(op->t_ms, ctx->tiers[0].bucket_ms));
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
			cxm__jgroup_free(ctx, js, w->slot_g[i]);
		cxm__jgroup_free(ctx, js, w->chan_g);
		cxm__jgroup_free(ctx, js, w->chan2_g);
	}
	cxm__jstate_free(ctx, w->js);
	cxm__jmod_free(ctx, w->mod);
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
	cxm__journey_options_of(ctx, e->journey - 1u, &o);
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

/* ---- rewind (cxm_rewind): a customer's instance --------------------------------- */

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

/* ---- the sweep (cxm_journey_sweep) ---------------------------------------------- */

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
				cxm__journey_options_of(ctx, e.journey - 1u, &o);
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
