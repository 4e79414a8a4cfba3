/* Triggers and their event queue.
 *
 * Rules are appended under the definition lock into a table allocated
 * with the first of them, and published with a release store: a feeding
 * thread reads them without a lock. Each metric has a chain of its rules
 * (newest first), so a measure of a metric without rules costs one load.
 * A rule is immutable once published, but for its on/off flag.
 *
 * The queue is a bounded multi-producer, multi-consumer ring of cells,
 * each with a sequence number that says whose turn the cell is (the
 * producer of position p finds seq == p, the consumer of position p finds
 * seq == p + 1): a producer or consumer claims a position by a
 * compare-and-swap on its cursor, then writes or reads the cell and hands
 * it on by storing the next sequence number with release order. No thread
 * ever waits for another: a full queue drops the event and counts it. */
#include "cxm_internal.h"

#include <string.h>

#define TRIG_MAX 65536u
#define QUEUE_MAX (UINT32_C(1) << 20)

typedef struct rule {
	cxm_trigger_def def;
	int32_t next; /* next rule of the same metric, -1: none */
	_Atomic int on;
} rule;

/* An event as queued: the public struct without its size and reserved. */
typedef struct ev_cell {
	_Atomic uint64_t seq;
	uint64_t number; /* cxm_event.seq */
	uint64_t customer[2];
	int64_t time_ms;
	double value;
	cxm_id rule, touchpoint, metric;
	uint32_t item_kind; /* item | kind << 16 */
} ev_cell;

struct trig_mod {
	rule *rules;              /* max_triggers of them */
	_Atomic int32_t *head;    /* per metric: its newest rule, -1: none */
	uint32_t cap;             /* queue cells, a power of two */
	ev_cell *cells;
	/* producers and consumers on separate cache lines (padding, not
	 * _Alignas: the context's allocator promises malloc's alignment only) */
	char pad0[64];
	_Atomic uint64_t put;
	char pad1[56];
	_Atomic uint64_t take;
	char pad2[56];
	_Atomic uint64_t matched; /* events numbered, queued or dropped */
	_Atomic uint64_t dropped;
};

void cxm__triggers_free(cxm_context *ctx)
{
	trig_mod *t = atomic_load_explicit(&ctx->triggers, memory_order_acquire);
	if (!t)
		return;
	uint32_t cap = t->cap;
	cxm__free(ctx, t->cells, (size_t)cap * sizeof(ev_cell));
	cxm__free(ctx, (void *)t->head, (size_t)ctx->max_metrics * sizeof(_Atomic int32_t));
	cxm__free(ctx, t->rules, (size_t)ctx->max_triggers * sizeof(rule));
	cxm__free(ctx, t, sizeof *t);
	atomic_store_explicit(&ctx->triggers, NULL, memory_order_release);
}

/* The module, made on the first definition (under def_lock). */
static trig_mod *mod_make(cxm_context *ctx)
{
	trig_mod *t = atomic_load_explicit(&ctx->triggers, memory_order_acquire);
	if (t)
		return t;
	uint32_t cap = 1;
	while (cap < ctx->event_queue)
		cap <<= 1;
	t = cxm__alloc(ctx, sizeof *t);
	if (!t)
		return NULL;
	memset(t, 0, sizeof *t);
	t->cap = cap;
	t->rules = cxm__calloc(ctx, ctx->max_triggers, sizeof(rule));
	t->head = cxm__alloc(ctx, (size_t)ctx->max_metrics * sizeof(_Atomic int32_t));
	t->cells = cxm__alloc(ctx, (size_t)cap * sizeof(ev_cell));
	if (!t->rules || !t->head || !t->cells) {
		if (t->rules)
			cxm__free(ctx, t->rules, (size_t)ctx->max_triggers * sizeof(rule));
		if (t->head)
			cxm__free(ctx, (void *)t->head, (size_t)ctx->max_metrics * sizeof(_Atomic int32_t));
		if (t->cells)
			cxm__free(ctx, t->cells, (size_t)cap * sizeof(ev_cell));
		cxm__free(ctx, t, sizeof *t);
		return NULL;
	}
	for (uint32_t m = 0; m < ctx->max_metrics; m++)
		atomic_init(&t->head[m], -1);
	for (uint32_t i = 0; i < cap; i++)
		atomic_init(&t->cells[i].seq, i);
	atomic_init(&t->put, 0);
	atomic_init(&t->take, 0);
	atomic_init(&t->matched, 0);
	atomic_init(&t->dropped, 0);
	atomic_store_explicit(&ctx->triggers, t, memory_order_release);
	return t;
}

cxm_status cxm_trigger_def_init(cxm_trigger_def *def, size_t size)
{
	cxm_status st = cxm__init_struct(def, size, sizeof(cxm_trigger_def), "cxm_trigger_def", "def");
	if (st)
		return st;
	def->segment = CXM_NONE;
	return CXM_OK;
}

static cxm_status check_def(cxm_context *ctx, const cxm_trigger_def *d)
{
	cxm_status st = cxm__check_struct(ctx, d, sizeof(cxm_trigger_def), sizeof(cxm_trigger_def),
					  "cxm_trigger_def");
	if (st)
		return st;
	if (d->reserved[0] || d->reserved[1] || d->reserved[2] || d->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_trigger_def.reserved must be zero");
	const model *md = &ctx->model;
	if ((st = cxm__check_measure_test(ctx, d->metric, d->item, d->op, d->threshold, "a trigger")) ||
	    (st = cxm__check_scope(ctx, d->scope, d->id, d->step)))
		return st;
	if (d->segment != CXM_NONE) {
		if (d->segment >= atomic_load_explicit(&md->n_segments, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment %u is not defined", d->segment);
		const segment *g = &md->segments[d->segment];
		if (d->segment_value >= atomic_load_explicit(&g->n_values, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "segment '%s' has no value %u", g->name,
					 d->segment_value);
	}
	return CXM_OK;
}

cxm_status cxm_trigger_define(cxm_id *out, cxm_context *ctx, const cxm_trigger_def *def)
{
	if (!out || !ctx || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	cxm_status st = check_def(ctx, def);
	if (st)
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	uint32_t id = atomic_load_explicit(&ctx->n_triggers, memory_order_relaxed);
	trig_mod *t;
	if (id >= ctx->max_triggers) {
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "max_triggers (%u) are defined", ctx->max_triggers);
	} else if (!(t = mod_make(ctx))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the triggers and their queue failed");
	} else {
		rule *r = &t->rules[id];
		r->def = *def;
		r->def.size = sizeof(cxm_trigger_def);
		r->next = atomic_load_explicit(&t->head[def->metric], memory_order_relaxed);
		atomic_store_explicit(&r->on, 1, memory_order_relaxed);
		/* the rule is whole before either store makes it reachable */
		atomic_store_explicit(&t->head[def->metric], (int32_t)id, memory_order_release);
		atomic_store_explicit(&ctx->n_triggers, id + 1, memory_order_release);
		*out = id;
	}
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

static cxm_status find_rule(const cxm_context *ctx, cxm_id id, rule **out)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	trig_mod *t = atomic_load_explicit(&((cxm_context *)ctx)->triggers, memory_order_acquire);
	if (!t || id >= atomic_load_explicit(&ctx->n_triggers, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "trigger %u is not defined", id);
	*out = &t->rules[id];
	return CXM_OK;
}

cxm_status cxm_trigger_enable(cxm_context *ctx, cxm_id trigger, int on)
{
	rule *r = NULL;
	cxm_status st = find_rule(ctx, trigger, &r);
	if (st)
		return st;
	atomic_store_explicit(&r->on, on ? 1 : 0, memory_order_relaxed);
	return CXM_OK;
}

cxm_status cxm_trigger_get(cxm_trigger_def *out, int *enabled, const cxm_context *ctx, cxm_id trigger)
{
	if (!out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "out is NULL");
	rule *r = NULL;
	cxm_status st = find_rule(ctx, trigger, &r);
	if (st)
		return st;
	if ((st = cxm__check_out(ctx, out, sizeof(cxm_trigger_def), "cxm_trigger_def")))
		return st;
	cxm__put_out(out, &r->def, sizeof r->def);
	if (enabled)
		*enabled = atomic_load_explicit(&r->on, memory_order_relaxed);
	return CXM_OK;
}

static bool in_scope(const cxm_context *ctx, const cxm_trigger_def *d, const cxm_interaction *ix)
{
	if (!cxm__tp_in_scope(ctx, ix->touchpoint, d->scope, d->id, d->step))
		return false;
	return d->segment == CXM_NONE ||
	       (d->segment < ix->n_segments && ix->segments[d->segment] == d->segment_value);
}

/* Queue one event, or count it dropped when the queue is full. */
static void put_event(trig_mod *t, cxm_event_kind kind, cxm_id rule_id, const uint64_t *hash,
		      int64_t time_ms, cxm_id tp, cxm_id metric_id, uint32_t item, double value)
{
	const uint64_t mask = t->cap - 1;
	const uint64_t number = atomic_fetch_add_explicit(&t->matched, 1, memory_order_relaxed);
	uint64_t pos = atomic_load_explicit(&t->put, memory_order_relaxed);
	ev_cell *c;
	for (;;) {
		c = &t->cells[pos & mask];
		uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		int64_t dif = (int64_t)(seq - pos);
		if (dif == 0) {
			if (atomic_compare_exchange_weak_explicit(&t->put, &pos, pos + 1,
								  memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (dif < 0) { /* a lap behind: full */
			atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
			return;
		} else {
			pos = atomic_load_explicit(&t->put, memory_order_relaxed);
		}
	}
	c->number = number;
	c->customer[0] = hash ? hash[0] : 0;
	c->customer[1] = hash ? hash[1] : 0;
	c->time_ms = time_ms;
	c->value = value;
	c->rule = rule_id;
	c->touchpoint = tp;
	c->metric = metric_id;
	c->item_kind = item | (uint32_t)kind << 16;
	atomic_store_explicit(&c->seq, pos + 1, memory_order_release);
}


cxm_status cxm__events_ready(cxm_context *ctx)
{
	if (!mod_make(ctx))
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the event queue failed");
	return CXM_OK;
}

void cxm__events_put(cxm_context *ctx, cxm_event_kind kind, cxm_id source, const uint64_t *hash,
		     int64_t time_ms, cxm_id tp, cxm_id metric_id, uint32_t item, double value)
{
	trig_mod *t = atomic_load_explicit(&ctx->triggers, memory_order_acquire);
	if (t)
		put_event(t, kind, source, hash, time_ms, tp, metric_id, item, value);
}

/* Whether rule d matched a measure of ix before its j-th: a rule matches
 * an interaction once, at its first matching measure. */
static bool matched_before(const cxm_context *ctx, const cxm_trigger_def *d,
			   const cxm_interaction *ix, size_t j)
{
	for (size_t i = 0; i < j; i++) {
		const cxm_measure *ms = &ix->measures[i];
		if (ms->metric == d->metric && ms->item == d->item &&
		    cxm__cmp_holds(d->op, ms->value, d->threshold) &&
		    !cxm__is_na(&ctx->model.metrics[ms->metric], ms->value))
			return true;
	}
	return false;
}

void cxm__triggers_match(cxm_context *ctx, const cxm_interaction *ix, const uint64_t *hash)
{
	trig_mod *t = atomic_load_explicit(&ctx->triggers, memory_order_acquire);
	if (!t)
		return;
	for (size_t j = 0; j < ix->n_measures; j++) {
		const cxm_measure *ms = &ix->measures[j];
		int32_t r = atomic_load_explicit(&t->head[ms->metric], memory_order_acquire);
		if (r >= 0 && cxm__is_na(&ctx->model.metrics[ms->metric], ms->value))
			continue; /* "no answer" is no value: nothing to compare */
		for (; r >= 0; r = t->rules[r].next) {
			const rule *ru = &t->rules[r];
			if (!atomic_load_explicit(&ru->on, memory_order_relaxed) || ru->def.item != ms->item ||
			    !cxm__cmp_holds(ru->def.op, ms->value, ru->def.threshold) || !in_scope(ctx, &ru->def, ix) ||
			    (j && matched_before(ctx, &ru->def, ix, j)))
				continue;
			put_event(t, CXM_EVENT_TRIGGER, (cxm_id)r, hash, ix->time_ms, ix->touchpoint,
				  ms->metric, ms->item, ms->value);
		}
	}
}

cxm_status cxm_events_poll(cxm_event *out, size_t cap, size_t *n_out, cxm_context *ctx)
{
	if (!n_out || !ctx || (!out && cap))
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !n_out ? "n_out" : "out");
	size_t stride = 0;
	if (cap) {
		cxm_status st = cxm__check_out(ctx, out, sizeof(cxm_event), "cxm_event");
		if (st)
			return st;
		stride = out[0].size;
	}
	*n_out = 0;
	trig_mod *t = atomic_load_explicit(&ctx->triggers, memory_order_acquire);
	if (!t)
		return CXM_OK;
	const uint64_t mask = t->cap - 1;
	size_t got = 0;
	while (got < cap) {
		uint64_t pos = atomic_load_explicit(&t->take, memory_order_relaxed);
		ev_cell *c;
		for (;;) {
			c = &t->cells[pos & mask];
			uint64_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
			int64_t dif = (int64_t)(seq - (pos + 1));
			if (dif == 0) {
				if (atomic_compare_exchange_weak_explicit(&t->take, &pos, pos + 1,
									  memory_order_relaxed,
									  memory_order_relaxed))
					break;
			} else if (dif < 0) { /* empty */
				*n_out = got;
				return CXM_OK;
			} else {
				pos = atomic_load_explicit(&t->take, memory_order_relaxed);
			}
		}
		cxm_event e;
		memset(&e, 0, sizeof e);
		e.size = stride;
		e.kind = (cxm_event_kind)(c->item_kind >> 16);
		e.rule = c->rule;
		e.seq = c->number;
		e.customer[0] = c->customer[0];
		e.customer[1] = c->customer[1];
		e.time_ms = c->time_ms;
		e.touchpoint = c->touchpoint;
		e.metric = c->metric;
		e.item = c->item_kind & 0xffff;
		e.value = c->value;
		/* the cell is the producers' again, one lap on */
		atomic_store_explicit(&c->seq, pos + mask + 1, memory_order_release);
		unsigned char *dst = (unsigned char *)out + got * stride;
		memcpy(dst, &stride, sizeof stride); /* put_out keeps an element's size */
		cxm__put_out(dst, &e, sizeof e);
		got++;
	}
	*n_out = got;
	return CXM_OK;
}

void cxm__triggers_stats(const cxm_context *ctx, cxm_stats *s)
{
	trig_mod *t = atomic_load_explicit(&((cxm_context *)ctx)->triggers, memory_order_acquire);
	if (!t)
		return;
	s->events_queued = atomic_load_explicit(&t->put, memory_order_relaxed);
	s->events_dropped = atomic_load_explicit(&t->dropped, memory_order_relaxed);
}

/* ---- the TRIGGERS section of a snapshot (docs/snapshot.md) ---------------------------- */

/* Rules are written in id order and stop at the first one that names a
 * definition the MODEL section does not hold: rules and definitions are
 * both appended under the definition lock, so that rule and every later
 * one were defined after the MODEL section was written, and the ids of
 * the rules written stay what they are. */
void cxm__triggers_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim)
{
	trig_mod *t = atomic_load_explicit(&ctx->triggers, memory_order_acquire);
	uint32_t n = t ? atomic_load_explicit(&ctx->n_triggers, memory_order_acquire) : 0, k = 0;
	for (; k < n; k++) {
		const cxm_trigger_def *d = &t->rules[k].def;
		if (!cxm__snap_fits(lim, d->metric, d->scope, d->id, d->segment, d->segment_value))
			break;
	}
	cxm__snap_put32(b, k);
	for (uint32_t i = 0; i < k; i++) {
		const rule *r = &t->rules[i];
		const cxm_trigger_def *d = &r->def;
		uint64_t x;
		memcpy(&x, &d->threshold, sizeof x);
		cxm__snap_put32(b, d->metric);
		cxm__snap_put32(b, d->item);
		cxm__snap_put32(b, (uint32_t)d->op);
		cxm__snap_put32(b, (uint32_t)d->scope);
		cxm__snap_put32(b, d->id);
		cxm__snap_put32(b, d->step);
		cxm__snap_put32(b, d->segment);
		cxm__snap_put32(b, d->segment_value);
		cxm__snap_put32(b, (uint32_t)atomic_load_explicit(&r->on, memory_order_relaxed));
		cxm__snap_put32(b, 0);
		cxm__snap_put64(b, x);
	}
}

cxm_status cxm__triggers_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n > cxm__snap_left(in) / 48)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: the triggers section claims %u rules in %zu bytes",
				 n, cxm__snap_left(in));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t f[10];
		uint64_t x;
		for (int j = 0; j < 10; j++)
			if ((st = cxm__snap_get32(in, &f[j])))
				return st;
		if ((st = cxm__snap_get64(in, &x)))
			return st;
		if (f[8] > 1 || f[9])
			return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: trigger %u has flags %u, %u", i,
					 f[8], f[9]);
		cxm_trigger_def d = CXM_TRIGGER_DEF_INIT;
		d.metric = f[0];
		d.item = f[1];
		d.op = (cxm_cmp)f[2];
		d.scope = (cxm_scope)f[3];
		d.id = f[4];
		d.step = f[5];
		d.segment = f[6];
		d.segment_value = f[7];
		memcpy(&d.threshold, &x, sizeof x);
		cxm_id id;
		if ((unsigned)f[2] > CXM_CMP_NE || (unsigned)f[3] > CXM_SCOPE_CHANNEL)
			return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: trigger %u: op %u, scope %u", i, f[2],
					 f[3]);
		if ((st = cxm_trigger_define(&id, into, &d))) {
			/* the limit and memory are the reader's; the rest is the file's */
			cxm_status code = st == CXM_ERR_NO_MEMORY || st == CXM_ERR_LIMIT ? st : CXM_ERR_CORRUPT;
			return cxm__relay(ctx, code, into, "snapshot: trigger %u", i);
		}
		if (!f[8])
			cxm_trigger_enable(into, id, 0);
	}
	return CXM_OK;
}
