/* In-journey signals: rules about one customer's progress on a journey.
 *
 * The rules (at most CXM_MAX_SIGNALS) are appended under the definition
 * lock into a table allocated with the first of them and published with a
 * release store; feeding threads read them without a lock. A rule is
 * immutable once published, but for its on/off flag.
 *
 * What a customer's progress does not already say (the times of its
 * repeat contacts and failures, and which signals fired during its
 * instance) is kept in a record per customer, made only when there is
 * something to remember and dropped when the instance ends. Records live
 * in 64 stripes of open-addressed tables, each under its own lock; the
 * customer table calls in with its own stripe lock held (customer stripe,
 * then signal stripe: never the other way round), so one customer's
 * contacts are judged in the order its journey applies them. */
#include "cxm_internal.h"

#include <string.h>

#define SIG_STRIPES 64
#define SIG_RING CXM_SIGNAL_MAX_COUNT

/* One customer's signal state for one instance of a journey. Times are
 * offsets after the instance's start (cust_entry::inst_start_s), encoded
 * as a step's (cxm__off_encode). */
typedef struct sig_rec {
	uint64_t k0, k1;         /* the customer's hash; both 0: an empty slot */
	uint64_t fired;          /* signals that fired during the instance */
	uint32_t inst_start_s;   /* the instance: its start … */
	uint16_t journey;        /* … and its journey + 1 */
	uint8_t rep_step, n_rep; /* the step of the contact run, contacts kept */
	uint8_t n_fail, pad[3];
	uint32_t rep[SIG_RING];  /* contacts on rep_step, oldest first */
	uint32_t fail[SIG_RING]; /* failures, oldest first … */
	uint8_t fail_sig[SIG_RING]; /* … and the FAILURE signal each met */
} sig_rec;
_Static_assert(sizeof(sig_rec) == 112, "a signal record is 112 bytes (documented)");

typedef struct sig_stripe {
	pthread_mutex_t lock;
	sig_rec *slots;
	uint32_t cap, count; /* cap: 0 or a power of two */
	uint64_t unjudged;   /* contacts whose record could not be had */
} sig_stripe;

typedef struct sig_rule {
	cxm_signal_def def;
	_Atomic int on;
	int64_t swept; /* the last sweep's instant (STUCK); INT64_MIN: none yet */
} sig_rule;

struct sig_mod {
	sig_rule rules[CXM_MAX_SIGNALS];
	_Atomic uint32_t n;
	_Atomic uint64_t failure_rules; /* the FAILURE signals, a bit each */
	pthread_mutex_t sweep_lock;     /* one sweep at a time judges STUCK */
	int64_t lo[CXM_MAX_SIGNALS];    /* the running sweep's lower bounds */
	uint32_t sweep_n;               /* and how many rules it judges */
	sig_stripe stripes[SIG_STRIPES];
};

static inline sig_mod *mod_of(const cxm_context *ctx)
{
	return atomic_load_explicit(&((cxm_context *)ctx)->signals, memory_order_acquire);
}

void cxm__signals_free(cxm_context *ctx)
{
	sig_mod *m = mod_of(ctx);
	if (!m)
		return;
	for (int i = 0; i < SIG_STRIPES; i++) {
		sig_stripe *s = &m->stripes[i];
		if (s->slots) {
			cxm__wipe(s->slots, (size_t)s->cap * sizeof(sig_rec));
			cxm__free(ctx, s->slots, (size_t)s->cap * sizeof(sig_rec));
		}
		pthread_mutex_destroy(&s->lock);
	}
	pthread_mutex_destroy(&m->sweep_lock);
	cxm__free(ctx, m, sizeof *m);
	atomic_store_explicit(&ctx->signals, NULL, memory_order_release);
}

/* The module, made on the first definition (under def_lock). */
static sig_mod *mod_make(cxm_context *ctx)
{
	sig_mod *m = mod_of(ctx);
	if (m)
		return m;
	if (!(m = cxm__alloc(ctx, sizeof *m)))
		return NULL;
	if (cxm__events_ready(ctx)) { /* last: it made nothing when it fails */
		cxm__free(ctx, m, sizeof *m);
		return NULL;
	}
	memset(m, 0, sizeof *m);
	atomic_init(&m->n, 0);
	atomic_init(&m->failure_rules, 0);
	pthread_mutex_init(&m->sweep_lock, NULL);
	for (int i = 0; i < SIG_STRIPES; i++)
		pthread_mutex_init(&m->stripes[i].lock, NULL);
	atomic_store_explicit(&ctx->signals, m, memory_order_release);
	return m;
}

/* ---- definitions ------------------------------------------------------------------- */

cxm_status cxm_signal_def_init(cxm_signal_def *def, size_t size)
{
	cxm_status st = cxm__init_struct(def, size, sizeof(cxm_signal_def), "cxm_signal_def", "def");
	if (st)
		return st;
	def->step = CXM_NONE;
	def->metric = CXM_NONE;
	return CXM_OK;
}

static cxm_status check_def(cxm_context *ctx, const cxm_signal_def *d)
{
	cxm_status st = cxm__check_struct(ctx, d, sizeof(cxm_signal_def), sizeof(cxm_signal_def),
					  "cxm_signal_def");
	if (st)
		return st;
	if (d->reserved[0] || d->reserved[1] || d->reserved[2] || d->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_signal_def.reserved must be zero");
	if (d->kind < CXM_SIGNAL_STUCK || d->kind > CXM_SIGNAL_FAILURE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_signal_kind", (int)d->kind);
	const model *md = &ctx->model;
	if (d->journey >= atomic_load_explicit(&md->n_journeys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", d->journey);
	const journey *J = &md->journeys[d->journey];
	if (d->step != CXM_NONE && d->step >= J->n_steps)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step %u", J->name, d->step);
	if (!cxm__journey_trackable(ctx, d->journey))
		return cxm__fail(ctx, CXM_ERR_LIMIT,
				 "journey '%s' is not tracked (more than 255 steps, or id 65535 or above)",
				 J->name);
	const bool failure = d->kind == CXM_SIGNAL_FAILURE;
	if (!failure && d->metric != CXM_NONE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "metric is for FAILURE signals only");
	uint32_t lo = 0, hi = 0;
	if (d->kind == CXM_SIGNAL_REPEAT)
		lo = 2, hi = CXM_SIGNAL_MAX_COUNT;
	else if (failure)
		lo = 1, hi = CXM_SIGNAL_MAX_COUNT;
	if (d->count < lo || d->count > hi)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "count %u: this kind takes %u … %u", d->count,
				 lo, hi);
	if (d->kind == CXM_SIGNAL_BACKWARDS ? d->window_ms != 0
					    : (d->window_ms < 1 || d->window_ms > CXM_JOURNEY_MAX_WINDOW_MS))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "window_ms %lld: this kind takes %s",
				 (long long)d->window_ms,
				 d->kind == CXM_SIGNAL_BACKWARDS ? "0" : "1 … CXM_JOURNEY_MAX_WINDOW_MS");
	if (d->kind == CXM_SIGNAL_STUCK && d->step != CXM_NONE && d->step + 1 == J->n_steps)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "step %u is the goal of journey '%s': an instance that reaches it ends",
				 d->step, J->name);
	if (failure)
		return cxm__check_measure_test(ctx, d->metric, d->item, d->op, d->threshold, "a signal");
	if (d->item || d->op || d->threshold != 0)
		return cxm__fail(ctx, CXM_ERR_INVALID, "item, op and threshold are for FAILURE signals only");
	return CXM_OK;
}

cxm_status cxm_signal_define(cxm_id *out, cxm_context *ctx, const cxm_signal_def *def)
{
	if (!out || !ctx || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	cxm_status st = check_def(ctx, def);
	if (st)
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	sig_mod *m = mod_of(ctx);
	uint32_t id = m ? atomic_load_explicit(&m->n, memory_order_relaxed) : 0;
	if (id >= CXM_MAX_SIGNALS) {
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "%u signals are defined (the most a context holds)",
			       CXM_MAX_SIGNALS);
	} else if (!(m = mod_make(ctx))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the signals or the event queue failed");
	} else {
		sig_rule *r = &m->rules[id];
		r->def = *def;
		r->def.size = sizeof(cxm_signal_def);
		r->swept = INT64_MIN;
		atomic_store_explicit(&r->on, 1, memory_order_relaxed);
		if (def->kind == CXM_SIGNAL_FAILURE)
			atomic_fetch_or_explicit(&m->failure_rules, UINT64_C(1) << id, memory_order_relaxed);
		/* the rule is whole before the count makes it reachable */
		atomic_store_explicit(&m->n, id + 1, memory_order_release);
		*out = id;
	}
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

static cxm_status find_rule(const cxm_context *ctx, cxm_id id, sig_rule **out)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	sig_mod *m = mod_of(ctx);
	if (!m || id >= atomic_load_explicit(&m->n, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "signal %u is not defined", id);
	*out = &m->rules[id];
	return CXM_OK;
}

cxm_status cxm_signal_enable(cxm_context *ctx, cxm_id signal, int on)
{
	sig_rule *r = NULL;
	cxm_status st = find_rule(ctx, signal, &r);
	if (st)
		return st;
	atomic_store_explicit(&r->on, on ? 1 : 0, memory_order_relaxed);
	return CXM_OK;
}

cxm_status cxm_signal_get(cxm_signal_def *out, int *enabled, const cxm_context *ctx, cxm_id signal)
{
	if (!out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "out is NULL");
	sig_rule *r = NULL;
	cxm_status st = find_rule(ctx, signal, &r);
	if (st)
		return st;
	if ((st = cxm__check_out(ctx, out, sizeof(cxm_signal_def), "cxm_signal_def")))
		return st;
	cxm__put_out(out, &r->def, sizeof r->def);
	if (enabled)
		*enabled = atomic_load_explicit(&r->on, memory_order_relaxed);
	return CXM_OK;
}

/* ---- the records ------------------------------------------------------------------- */

static inline sig_stripe *stripe_of(sig_mod *m, const uint64_t h[2])
{
	return &m->stripes[h[1] & (SIG_STRIPES - 1)];
}

static inline bool rec_empty(const sig_rec *r)
{
	return !r->k0 && !r->k1;
}

static int64_t rec_find(const sig_stripe *s, const uint64_t h[2])
{
	if (!s->cap)
		return -1;
	const uint32_t mask = s->cap - 1;
	for (uint32_t i = (uint32_t)h[0] & mask;; i = (i + 1) & mask) {
		const sig_rec *r = &s->slots[i];
		if (rec_empty(r))
			return -1;
		if (r->k0 == h[0] && r->k1 == h[1])
			return i;
	}
}

static uint32_t rec_slot(sig_rec *slots, uint32_t cap, uint64_t k0)
{
	uint32_t i = (uint32_t)k0 & (cap - 1);
	while (!rec_empty(&slots[i]))
		i = (i + 1) & (cap - 1);
	return i;
}

/* The customer's record, made (empty, for no instance) if need be; NULL
 * when no memory could be had. Under the stripe's lock. */
static sig_rec *rec_get(cxm_context *ctx, sig_stripe *s, const uint64_t h[2])
{
	int64_t at = rec_find(s, h);
	if (at >= 0)
		return &s->slots[at];
	if ((uint64_t)(s->count + 1) * 4 > (uint64_t)s->cap * 3) {
		uint32_t nc = s->cap ? 2 * s->cap : 16;
		sig_rec *ns = cxm__calloc(ctx, nc, sizeof(sig_rec));
		if (!ns)
			return NULL;
		for (uint32_t i = 0; i < s->cap; i++)
			if (!rec_empty(&s->slots[i]))
				ns[rec_slot(ns, nc, s->slots[i].k0)] = s->slots[i];
		if (s->slots) {
			cxm__wipe(s->slots, (size_t)s->cap * sizeof(sig_rec));
			cxm__free(ctx, s->slots, (size_t)s->cap * sizeof(sig_rec));
		}
		s->slots = ns;
		s->cap = nc;
	}
	sig_rec *r = &s->slots[rec_slot(s->slots, s->cap, h[0])];
	memset(r, 0, sizeof *r);
	r->k0 = h[0];
	r->k1 = h[1];
	s->count++;
	return r;
}

/* Remove slot i, shifting back the entries of its probe run. */
static void rec_remove(sig_stripe *s, uint32_t i)
{
	const uint32_t mask = s->cap - 1;
	for (uint32_t j = (i + 1) & mask;; j = (j + 1) & mask) {
		sig_rec *r = &s->slots[j];
		if (rec_empty(r))
			break;
		uint32_t home = (uint32_t)r->k0 & mask;
		/* r may fill the hole at i unless its home lies in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->slots[i] = *r;
			i = j;
		}
	}
	memset(&s->slots[i], 0, sizeof(sig_rec));
	s->count--;
}

void cxm__signals_forget(cxm_context *ctx, const uint64_t h[2])
{
	sig_mod *m = mod_of(ctx);
	if (!m)
		return;
	sig_stripe *s = stripe_of(m, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = rec_find(s, h);
	if (at >= 0)
		rec_remove(s, (uint32_t)at);
	pthread_mutex_unlock(&s->lock);
}

/* Make r the record of the instance (journey j, started at start_s),
 * starting afresh if it held another's. */
static void rec_instance(sig_rec *r, uint32_t j, uint32_t start_s)
{
	if (r->journey == j + 1 && r->inst_start_s == start_s)
		return;
	uint64_t k0 = r->k0, k1 = r->k1;
	memset(r, 0, sizeof *r);
	r->k0 = k0;
	r->k1 = k1;
	r->journey = (uint16_t)(j + 1);
	r->inst_start_s = start_s;
}

/* A time as an offset after the start of an instance started at start_s. */
static uint32_t offset_of(int64_t t_ms, uint32_t start_s)
{
	return cxm__off_encode(t_ms - ((int64_t)start_s + CUST_BASE_S) * 1000);
}

/* Append x to a ring of SIG_RING times kept oldest first. */
static void ring_push(uint32_t *ring, uint8_t *tag, uint8_t *n, uint32_t x, uint8_t t)
{
	if (*n == SIG_RING) {
		memmove(ring, ring + 1, (SIG_RING - 1) * sizeof *ring);
		if (tag)
			memmove(tag, tag + 1, SIG_RING - 1);
		(*n)--;
	}
	ring[*n] = x;
	if (tag)
		tag[*n] = t;
	(*n)++;
}

/* How many times of the ring (those tagged t, when tag) fall within
 * window_ms before x, inclusive. */
static uint32_t ring_count(const uint32_t *ring, const uint8_t *tag, uint8_t n, uint32_t x,
			   int64_t window_ms, uint8_t t)
{
	uint32_t c = 0;
	const int64_t xm = cxm__off_ms(x);
	for (uint8_t i = 0; i < n; i++)
		c += ring[i] <= x && xm - cxm__off_ms(ring[i]) <= window_ms && (!tag || tag[i] == t);
	return c;
}

static void fire(cxm_context *ctx, sig_rec *r, uint32_t id, const uint64_t h[2], int64_t t_ms,
		 cxm_id tp, const cxm_signal_def *d, uint32_t step, double value)
{
	r->fired |= UINT64_C(1) << id;
	cxm__events_put(ctx, CXM_EVENT_SIGNAL, id, h, t_ms, tp,
			d->kind == CXM_SIGNAL_FAILURE ? d->metric : CXM_NONE, step, value);
}

static inline bool step_matches(const cxm_signal_def *d, uint32_t step)
{
	return d->step == CXM_NONE || d->step == step;
}

uint64_t cxm__signals_failures(const cxm_context *ctx, const cxm_interaction *ix)
{
	sig_mod *m = mod_of(ctx);
	uint64_t rules = m ? atomic_load_explicit(&m->failure_rules, memory_order_acquire) : 0, out = 0;
	if (!rules)
		return 0;
	const touchpoint *T = &ctx->model.touchpoints[ix->touchpoint];
	if (T->journey == CXM_NONE)
		return 0;
	const uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire);
	for (; rules; rules &= rules - 1) {
		uint32_t id = (uint32_t)__builtin_ctzll(rules);
		const cxm_signal_def *d = &m->rules[id].def;
		if (id >= n || d->journey != T->journey || !step_matches(d, T->step))
			continue;
		for (size_t j = 0; j < ix->n_measures; j++) {
			const cxm_measure *ms = &ix->measures[j];
			if (ms->metric == d->metric && ms->item == d->item &&
			    cxm__cmp_holds(d->op, ms->value, d->threshold) &&
			    !cxm__is_na(&ctx->model.metrics[ms->metric], ms->value)) {
				out |= UINT64_C(1) << id;
				break;
			}
		}
	}
	return out;
}

void cxm__signals_contact(cxm_context *ctx, const uint64_t h[2], const jwork *w,
			  const cust_entry *after, cxm_id tp, uint64_t failed)
{
	sig_mod *m = mod_of(ctx);
	if (!m)
		return;
	const uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire);
	const uint32_t j = w->journey, s = w->step;
	/* the instance the contact belongs to (it began with it, or was open) */
	const bool belongs = after->journey == j + 1 && (w->was_open || w->moved);
	const bool open = belongs && (after->flags & JF_OPEN);
	const bool back = w->was_open && s < w->was_step;
	const bool repeat = open && w->was_open && !w->moved && s == after->step;
	uint64_t want = 0; /* the signals this contact may fire */
	for (uint32_t id = 0; id < n; id++) {
		const sig_rule *r = &m->rules[id];
		const cxm_signal_def *d = &r->def;
		if (d->journey != j || !atomic_load_explicit(&r->on, memory_order_relaxed))
			continue;
		if ((d->kind == CXM_SIGNAL_BACKWARDS && back && step_matches(d, w->was_step)) ||
		    (d->kind == CXM_SIGNAL_REPEAT && repeat && step_matches(d, s)) ||
		    (d->kind == CXM_SIGNAL_FAILURE && belongs && (failed >> id & 1)))
			want |= UINT64_C(1) << id;
	}
	sig_stripe *st = stripe_of(m, h);
	pthread_mutex_lock(&st->lock);
	int64_t at = rec_find(st, h);
	if (!want) {
		/* nothing to judge; an instance that ended takes its record along */
		if (at >= 0 && !(after->flags & JF_OPEN))
			rec_remove(st, (uint32_t)at);
		pthread_mutex_unlock(&st->lock);
		return;
	}
	sig_rec *rec = at >= 0 ? &st->slots[at] : rec_get(ctx, st, h);
	if (!rec) {
		st->unjudged++;
		pthread_mutex_unlock(&st->lock);
		return;
	}
	const int64_t t = w->t_ms;
	if (back) {
		/* about the instance the step back left (STRICT may have ended
		 * it, and a step back to 0 begun another) */
		rec_instance(rec, j, w->was_start_s);
		for (uint32_t id = 0; id < n; id++) {
			const cxm_signal_def *d = &m->rules[id].def;
			if ((want >> id & 1) && d->kind == CXM_SIGNAL_BACKWARDS && !(rec->fired >> id & 1))
				fire(ctx, rec, id, h, t, tp, d, w->was_step, (double)s);
		}
	}
	if (belongs) {
		rec_instance(rec, j, after->inst_start_s);
		const uint32_t x = offset_of(t, after->inst_start_s);
		if (repeat) { /* a REPEAT signal watches this step (want) */
			if (!rec->n_rep || rec->rep_step != s) {
				memset(rec->rep, 0, sizeof rec->rep);
				rec->n_rep = 0;
				rec->rep_step = (uint8_t)s;
				ring_push(rec->rep, NULL, &rec->n_rep, after->step_off, 0);
			}
			ring_push(rec->rep, NULL, &rec->n_rep, x, 0);
		}
		for (uint32_t id = 0; id < n; id++) {
			const cxm_signal_def *d = &m->rules[id].def;
			if (!(want >> id & 1) || d->kind == CXM_SIGNAL_BACKWARDS)
				continue;
			uint32_t c;
			if (d->kind == CXM_SIGNAL_REPEAT) {
				c = ring_count(rec->rep, NULL, rec->n_rep, x, d->window_ms, 0);
			} else {
				ring_push(rec->fail, rec->fail_sig, &rec->n_fail, x, (uint8_t)id);
				c = ring_count(rec->fail, rec->fail_sig, rec->n_fail, x, d->window_ms,
					       (uint8_t)id);
			}
			if (c >= d->count && !(rec->fired >> id & 1))
				fire(ctx, rec, id, h, t, tp, d, s, (double)c);
		}
	}
	if (!(after->flags & JF_OPEN)) /* the instance is over */
		rec_remove(st, (uint32_t)(rec - st->slots));
	pthread_mutex_unlock(&st->lock);
}

cxm_status cxm_signal_rearm(cxm_context *ctx, cxm_id signal, const void *id, size_t len)
{
	sig_rule *r = NULL;
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st || (st = find_rule(ctx, signal, &r)))
		return st;
	sig_mod *m = mod_of(ctx);
	uint64_t h[2];
	cxm__customer_hash(ctx, id, len, h);
	sig_stripe *s = stripe_of(m, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = rec_find(s, h);
	if (at >= 0)
		s->slots[at].fired &= ~(UINT64_C(1) << signal);
	pthread_mutex_unlock(&s->lock);
	cxm__wipe(h, sizeof h);
	return CXM_OK;
}

/* ---- STUCK, judged by sweeps --------------------------------------------------------- */

bool cxm__signals_sweep_begin(cxm_context *ctx)
{
	sig_mod *m = mod_of(ctx);
	if (!m)
		return false;
	pthread_mutex_lock(&m->sweep_lock);
	m->sweep_n = atomic_load_explicit(&m->n, memory_order_acquire);
	for (uint32_t i = 0; i < m->sweep_n; i++)
		m->lo[i] = m->rules[i].swept;
	return true;
}

void cxm__signals_sweep_end(cxm_context *ctx, int64_t now_ms, bool done)
{
	sig_mod *m = mod_of(ctx);
	/* a sweep that stopped short leaves the bounds: the next one looks
	 * again (fired signals are remembered, so nothing fires twice) */
	for (uint32_t i = 0; done && i < m->sweep_n; i++)
		if (now_ms > m->rules[i].swept)
			m->rules[i].swept = now_ms;
	pthread_mutex_unlock(&m->sweep_lock);
}

void cxm__signals_stuck(cxm_context *ctx, const cust_entry *e, int64_t last_ms, int64_t end_ms,
			int64_t now_ms)
{
	sig_mod *m = mod_of(ctx);
	const uint32_t j = e->journey - 1u;
	const uint64_t h[2] = {e->k0, e->k1};
	sig_stripe *st = NULL;
	sig_rec *rec = NULL;
	for (uint32_t id = 0; id < m->sweep_n; id++) {
		const sig_rule *r = &m->rules[id];
		const cxm_signal_def *d = &r->def;
		if (d->kind != CXM_SIGNAL_STUCK || d->journey != j || !step_matches(d, e->step) ||
		    !atomic_load_explicit(&r->on, memory_order_relaxed))
			continue;
		const int64_t x = last_ms + d->window_ms;
		if (x > now_ms || x <= m->lo[id] || x > end_ms)
			continue;
		if (!st) {
			st = stripe_of(m, h);
			pthread_mutex_lock(&st->lock);
			if (!(rec = rec_get(ctx, st, h)))
				st->unjudged++;
			else
				rec_instance(rec, j, e->inst_start_s);
		}
		if (rec && (rec->fired >> id & 1))
			continue;
		sig_rec none = {0};
		fire(ctx, rec ? rec : &none, id, h, x, CXM_NONE, d, e->step,
		     (double)(now_ms - last_ms) / 1000);
	}
	if (st)
		pthread_mutex_unlock(&st->lock);
}

void cxm__signals_stats(const cxm_context *ctx, cxm_stats *out)
{
	sig_mod *m = mod_of(ctx);
	if (!m)
		return;
	for (int i = 0; i < SIG_STRIPES; i++) {
		sig_stripe *s = &m->stripes[i];
		pthread_mutex_lock(&s->lock);
		out->signals_unjudged += s->unjudged;
		pthread_mutex_unlock(&s->lock);
	}
}

/* ---- the SIGNALS section of a snapshot (docs/snapshot.md) ---------------------------- */

#define REC_BYTES 108u /* a record as written */

void cxm__signals_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim)
{
	sig_mod *m = mod_of(ctx);
	uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire), k = 0;
	/* signals stop at the first that names a journey or metric defined
	 * after the MODEL section was written, so ids stay what they are */
	for (; k < n; k++) {
		const cxm_signal_def *d = &m->rules[k].def;
		if (d->journey >= lim->journeys || (d->metric != CXM_NONE && d->metric >= lim->metrics))
			break;
	}
	cxm__snap_put32(b, k);
	pthread_mutex_lock(&m->sweep_lock);
	for (uint32_t i = 0; i < k; i++) {
		const sig_rule *r = &m->rules[i];
		const cxm_signal_def *d = &r->def;
		uint64_t x;
		memcpy(&x, &d->threshold, sizeof x);
		cxm__snap_put32(b, (uint32_t)d->kind);
		cxm__snap_put32(b, d->journey);
		cxm__snap_put32(b, d->step);
		cxm__snap_put32(b, d->count);
		cxm__snap_put32(b, d->metric);
		cxm__snap_put32(b, d->item);
		cxm__snap_put32(b, (uint32_t)d->op);
		cxm__snap_put32(b, (uint32_t)atomic_load_explicit(&r->on, memory_order_relaxed));
		cxm__snap_put64(b, (uint64_t)d->window_ms);
		cxm__snap_put64(b, x);
		cxm__snap_put64(b, (uint64_t)r->swept);
	}
	pthread_mutex_unlock(&m->sweep_lock);
	/* the records, a stripe at a time under its lock: each group is its
	 * count, then the records (fired bits of the signals written only) */
	const uint64_t keep = k == 64 ? ~UINT64_C(0) : (UINT64_C(1) << k) - 1;
	cxm__snap_put32(b, SIG_STRIPES);
	for (int i = 0; i < SIG_STRIPES; i++) {
		sig_stripe *s = &m->stripes[i];
		pthread_mutex_lock(&s->lock);
		cxm__snap_put32(b, k ? s->count : 0);
		for (uint32_t q = 0; k && q < s->cap; q++) {
			const sig_rec *r = &s->slots[q];
			if (rec_empty(r))
				continue;
			cxm__snap_put64(b, r->k0);
			cxm__snap_put64(b, r->k1);
			cxm__snap_put64(b, r->fired & keep);
			cxm__snap_put32(b, r->inst_start_s);
			cxm__snap_put32(b, (uint32_t)r->journey | (uint32_t)r->rep_step << 16 |
						   (uint32_t)r->n_rep << 24);
			cxm__snap_put32(b, r->n_fail);
			for (uint32_t e = 0; e < SIG_RING; e++)
				cxm__snap_put32(b, r->rep[e]);
			for (uint32_t e = 0; e < SIG_RING; e++)
				cxm__snap_put32(b, r->fail[e]);
			uint64_t tags = 0;
			for (uint32_t e = 0; e < SIG_RING; e++)
				tags |= (uint64_t)r->fail_sig[e] << (8 * e);
			cxm__snap_put64(b, tags);
		}
		pthread_mutex_unlock(&s->lock);
	}
}

static cxm_status read_rules(cxm_context *into, struct snap_in *in, uint32_t *k_out)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n > CXM_MAX_SIGNALS || n > cxm__snap_left(in) / 56)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: the signals section claims %u signals", n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f[8];
		uint64_t win, x, swept;
		for (int j = 0; j < 8; j++)
			if ((st = cxm__snap_get32(in, &f[j])))
				return st;
		if ((st = cxm__snap_get64(in, &win)) || (st = cxm__snap_get64(in, &x)) ||
		    (st = cxm__snap_get64(in, &swept)))
			return st;
		if (f[7] > 1 || (unsigned)f[0] - 1 > 3 || f[6] > CXM_CMP_NE)
			return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: signal %u: kind %u, op %u, on %u", i,
					 f[0], f[6], f[7]);
		cxm_signal_def d = CXM_SIGNAL_DEF_INIT;
		d.kind = (cxm_signal_kind)f[0];
		d.journey = f[1];
		d.step = f[2];
		d.count = f[3];
		d.metric = f[4];
		d.item = f[5];
		d.op = (cxm_cmp)f[6];
		d.window_ms = (int64_t)win;
		memcpy(&d.threshold, &x, sizeof x);
		cxm_id id;
		if ((st = cxm_signal_define(&id, into, &d))) {
			/* memory is the reader's; the rest is the file's */
			cxm_status code = st == CXM_ERR_NO_MEMORY ? st : CXM_ERR_CORRUPT;
			return cxm__relay(ctx, code, into, "snapshot: signal %u", i);
		}
		sig_mod *m = mod_of(into);
		m->rules[id].swept = (int64_t)swept;
		if (!f[7])
			cxm_signal_enable(into, id, 0);
	}
	*k_out = n;
	return CXM_OK;
}

static cxm_status read_record(cxm_context *into, struct snap_in *in, uint32_t stripe, uint32_t k)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	sig_rec r;
	memset(&r, 0, sizeof r);
	uint32_t w[3];
	uint64_t tags;
	cxm_status st;
	if ((st = cxm__snap_get64(in, &r.k0)) || (st = cxm__snap_get64(in, &r.k1)) ||
	    (st = cxm__snap_get64(in, &r.fired)))
		return st;
	for (int e = 0; e < 3; e++)
		if ((st = cxm__snap_get32(in, &w[e])))
			return st;
	for (uint32_t e = 0; e < SIG_RING; e++)
		if ((st = cxm__snap_get32(in, &r.rep[e])))
			return st;
	for (uint32_t e = 0; e < SIG_RING; e++)
		if ((st = cxm__snap_get32(in, &r.fail[e])))
			return st;
	if ((st = cxm__snap_get64(in, &tags)))
		return st;
	for (uint32_t e = 0; e < SIG_RING; e++) {
		r.rep[e] = cxm__snap_offset(in, r.rep[e]);
		r.fail[e] = cxm__snap_offset(in, r.fail[e]);
	}
	r.inst_start_s = w[0];
	r.journey = (uint16_t)w[1];
	r.rep_step = (uint8_t)(w[1] >> 16);
	r.n_rep = (uint8_t)(w[1] >> 24);
	r.n_fail = (uint8_t)w[2];
	for (uint32_t e = 0; e < SIG_RING; e++)
		r.fail_sig[e] = (uint8_t)(tags >> (8 * e));
	const uint64_t keep = k == 64 ? ~UINT64_C(0) : (UINT64_C(1) << k) - 1;
	bool bad = rec_empty(&r) || (r.k1 & (SIG_STRIPES - 1)) != stripe || (r.fired & ~keep) ||
		   !r.journey || r.journey > atomic_load(&into->model.n_journeys) || r.n_rep > SIG_RING ||
		   w[2] > SIG_RING;
	for (uint32_t e = 0; !bad && e < r.n_fail; e++)
		bad = r.fail_sig[e] >= k;
	sig_mod *m = mod_of(into);
	sig_stripe *s = &m->stripes[stripe];
	if (bad || rec_find(s, (const uint64_t[2]){r.k0, r.k1}) >= 0)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: a customer's signal state is malformed");
	sig_rec *d = rec_get(into, s, (const uint64_t[2]){r.k0, r.k1});
	if (!d)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for the signal state");
	*d = r;
	return CXM_OK;
}

cxm_status cxm__signals_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t k = 0, stripes;
	cxm_status st = read_rules(into, in, &k);
	if (st || (st = cxm__snap_get32(in, &stripes)))
		return st;
	if (stripes != SIG_STRIPES)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: the signals section has %u stripes",
				 stripes);
	for (uint32_t i = 0; i < SIG_STRIPES; i++) {
		uint32_t count;
		if ((st = cxm__snap_get32(in, &count)))
			return st;
		if (count > cxm__snap_left(in) / REC_BYTES || (count && !k))
			return cxm__fail(ctx, CXM_ERR_CORRUPT,
					 "snapshot: a signal stripe claims %u records in %zu bytes", count,
					 cxm__snap_left(in));
		for (uint32_t q = 0; q < count; q++)
			if ((st = read_record(into, in, i, k)))
				return st;
	}
	return CXM_OK;
}
