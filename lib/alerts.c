/* Metric alerts: queries over rolling windows, evaluated on demand.
 *
 * Alerts are appended under the definition lock into a table made with
 * the first of them; their state is read and written under the module's
 * own lock, which an evaluation holds throughout (evaluations are
 * serialised, and a status read never sees half a transition). The
 * queries run through the public query functions, which lock one shard at
 * a time: feeds go on while alerts are evaluated. */
#include "cxm_internal.h"

#include <math.h>
#include <string.h>

#define ALERTS_MAX 1024u

/* What an evaluation read of an alert's window(s). */
typedef struct reading {
	double x, base, p; /* the value (LEVEL), change (CHANGE) or distance from the forecast
			    * (FORECAST); baseline or forecast; p-value */
	uint64_t n, n_a, n_b; /* the window's samples; CHANGE: the baseline's, the window's;
			       * FORECAST: the history's points, the window's */
	bool read;            /* false: the baseline window starts before time 0 */
} reading;

typedef struct alert {
	char *name;
	cxm_alert_def def;
	cxm_alert_status st;
	bool by_runs; /* CHANGE of a SUM or COUNT headline: two runs, no test */
	reading last; /* the latest evaluation's, shared with alerts of the same windows */
} alert;

struct alert_mod {
	pthread_mutex_t lock;
	_Atomic uint32_t n;
	alert a[ALERTS_MAX];
};

void cxm__alerts_free(cxm_context *ctx)
{
	alert_mod *m = atomic_load_explicit(&ctx->alerts, memory_order_acquire);
	if (!m)
		return;
	for (uint32_t i = 0; i < atomic_load(&m->n); i++)
		cxm__strfree(ctx, m->a[i].name);
	pthread_mutex_destroy(&m->lock);
	cxm__free(ctx, m, sizeof *m);
	atomic_store_explicit(&ctx->alerts, NULL, memory_order_release);
}

cxm_status cxm_alert_def_init(cxm_alert_def *def, size_t size)
{
	cxm_status st = cxm__init_struct(def, size, sizeof(cxm_alert_def), "cxm_alert_def", "def");
	if (st)
		return st;
	def->query.size = sizeof def->query;
	def->query.segment = CXM_NONE;
	def->query.end_ms = CXM_NOW;
	return CXM_OK;
}

/* Whether x compares with level as op says (LT, LE, GT, GE). */
static bool holds(cxm_cmp op, double x, double level)
{
	switch (op) {
	case CXM_CMP_LT: return x < level;
	case CXM_CMP_LE: return x <= level;
	case CXM_CMP_GT: return x > level;
	case CXM_CMP_GE: return x >= level;
	default: return false;
	}
}

/* *by_runs: a CHANGE that cxm_query_compare() cannot compare (a SUM or
 * COUNT headline, no p-value asked), found once here rather than at every
 * evaluation. */
static cxm_status check_def(cxm_context *ctx, const cxm_alert_def *d, bool *by_runs)
{
	*by_runs = false;
	cxm_status st = cxm__check_struct(ctx, d, sizeof(cxm_alert_def), sizeof(cxm_alert_def),
					  "cxm_alert_def");
	if (st)
		return st;
	if (d->reserved[0] || d->reserved[1] || d->reserved[2] || d->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_alert_def.reserved must be zero");
	if (d->kind != CXM_ALERT_LEVEL && d->kind != CXM_ALERT_CHANGE && d->kind != CXM_ALERT_FORECAST)
		return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_alert_kind", (int)d->kind);
	if (d->op != CXM_CMP_LT && d->op != CXM_CMP_LE && d->op != CXM_CMP_GT && d->op != CXM_CMP_GE)
		return cxm__fail(ctx, CXM_ERR_INVALID, "op %d: an alert compares with <, <=, > or >=",
				 (int)d->op);
	if (!isfinite(d->fire) || !isfinite(d->clear))
		return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "fire and clear must be finite");
	const bool up = d->op == CXM_CMP_GT || d->op == CXM_CMP_GE;
	if (up ? d->clear > d->fire : d->clear < d->fire)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "clear %s is on the firing side of fire %s: it must be %s it",
				 cxm__num(d->clear).s, cxm__num(d->fire).s, up ? "at or below" : "at or above");
	if (d->for_ms < 0 || d->for_ms > CXM_TIME_MAX || d->cooldown_ms < 0 || d->cooldown_ms > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "for_ms and cooldown_ms must be in 0 .. CXM_TIME_MAX");
	if (d->query.end_ms != CXM_NOW)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "the query's end_ms must be CXM_NOW: each evaluation's instant ends it");
	if (d->kind == CXM_ALERT_LEVEL && (d->baseline_offset_ms || d->max_p_value))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "a LEVEL alert has no baseline_offset_ms or max_p_value");
	if (d->kind == CXM_ALERT_CHANGE &&
	    (d->baseline_offset_ms <= 0 || d->baseline_offset_ms > CXM_TIME_MAX))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "a CHANGE alert needs baseline_offset_ms in 1 .. CXM_TIME_MAX");
	if (d->kind == CXM_ALERT_FORECAST &&
	    (d->query.span_ms <= 0 || d->baseline_offset_ms <= 0 ||
	     d->baseline_offset_ms % d->query.span_ms || d->baseline_offset_ms / d->query.span_ms < 3 ||
	     d->baseline_offset_ms / d->query.span_ms > CXM_TREND_MAX_WINDOWS))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "a FORECAST alert needs baseline_offset_ms (its history) a multiple of "
				 "span_ms, 3 .. %d windows of it", CXM_TREND_MAX_WINDOWS);
	if (isnan(d->max_p_value) || d->max_p_value < 0 || d->max_p_value > 1)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "max_p_value must be in [0, 1]");
	/* the query as it will run: every check of cxm_query_run, at once */
	cxm_result r;
	memset(&r, 0, sizeof r);
	r.size = sizeof r;
	if ((st = cxm_query_run(&r, ctx, &d->query)))
		return st;
	if (d->kind == CXM_ALERT_FORECAST) { /* the history as it will be fitted */
		cxm_query h = d->query;
		h.span_ms = d->baseline_offset_ms;
		cxm_trend t;
		memset(&t, 0, sizeof t);
		t.size = sizeof t;
		if ((st = cxm_query_trend(&t, NULL, 0, ctx, &h, d->query.span_ms)))
			return st;
	}
	if (d->kind == CXM_ALERT_CHANGE) {
		cxm_comparison c;
		memset(&c, 0, sizeof c);
		c.size = sizeof c;
		st = cxm_query_compare(&c, ctx, &d->query, &d->query);
		if (st == CXM_ERR_KIND && d->max_p_value == 0) {
			*by_runs = true;
			st = CXM_OK;
		}
		if (st)
			return st;
	}
	return CXM_OK;
}

cxm_status cxm_alert_define(cxm_id *out, cxm_context *ctx, const char *name, const cxm_alert_def *def)
{
	if (!out || !ctx || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	bool by_runs;
	cxm_status st = cxm__check_name(ctx, name, "alert");
	if (st || (st = check_def(ctx, def, &by_runs)))
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	alert_mod *m = atomic_load_explicit(&ctx->alerts, memory_order_acquire);
	const bool fresh = !m;
	if (fresh && (m = cxm__calloc(ctx, 1, sizeof *m)))
		cxm__mutex_init(&m->lock);
	if (!m) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the alerts failed");
		goto out;
	}
	uint32_t n = atomic_load_explicit(&m->n, memory_order_relaxed);
	for (uint32_t i = 0; i < n && !st; i++)
		if (!strcmp(m->a[i].name, name))
			st = cxm__fail(ctx, CXM_ERR_EXISTS, "alert '%s' is defined already", name);
	if (!st && n >= ALERTS_MAX)
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "%u alerts are defined", ALERTS_MAX);
	/* transitions go on the event queue: made last, where a failure can
	 * still refuse the definition and nothing else can fail after it */
	alert *a = &m->a[n];
	if (!st && !(a->name = cxm__strdup(ctx, name)))
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating alert '%s' failed", name);
	else if (!st && (st = cxm__events_ready(ctx))) {
		cxm__strfree(ctx, a->name);
		a->name = NULL;
	}
	if (st) {
		if (fresh) {
			pthread_mutex_destroy(&m->lock);
			cxm__free(ctx, m, sizeof *m);
		}
		goto out;
	}
	a->def = *def;
	a->def.size = sizeof a->def;
	a->by_runs = by_runs;
	memset(&a->st, 0, sizeof a->st);
	a->st.size = sizeof a->st;
	a->st.since_ms = a->st.evaluated_ms = a->st.resolved_ms = -1;
	a->st.value = a->st.baseline = a->st.p_value = NAN;
	if (fresh)
		atomic_store_explicit(&ctx->alerts, m, memory_order_release);
	atomic_store_explicit(&m->n, n + 1, memory_order_release);
	*out = n;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

/* Read alert a's window(s) at now. */
static cxm_status read_windows(cxm_context *ctx, const alert *a, int64_t now, reading *out)
{
	const cxm_alert_def *d = &a->def;
	cxm_query q = d->query;
	q.end_ms = now;
	reading r = {NAN, NAN, NAN, 0, 0, 0, true};
	cxm_status st;
	if (d->kind == CXM_ALERT_LEVEL) {
		cxm_result v;
		memset(&v, 0, sizeof v);
		v.size = sizeof v;
		if ((st = cxm__query_headline(&v, ctx, &q)))
			return st;
		r.x = v.value;
		r.n = r.n_b = v.n;
	} else if (d->kind == CXM_ALERT_FORECAST) {
		/* the window, and Holt's forecast of it from the history before */
		cxm_query h = q;
		h.span_ms = d->baseline_offset_ms;
		h.end_ms = now - q.span_ms;
		cxm_result v;
		memset(&v, 0, sizeof v);
		v.size = sizeof v;
		cxm_trend t;
		memset(&t, 0, sizeof t);
		t.size = sizeof t;
		cxm_forecast f;
		if (h.end_ms < 0) {
			r.read = false;
		} else if ((st = cxm__query_headline(&v, ctx, &q)) ||
			   (st = cxm_query_trend(&t, &f, 1, ctx, &h, q.span_ms))) {
			return st;
		} else {
			r.x = v.value - f.value;
			r.base = f.value;
			r.p = t.sigma > 0 ? erfc(fabs(r.x) / t.sigma / sqrt(2.0)) : NAN;
			r.n = r.n_b = v.n;
			r.n_a = t.points;
		}
	} else {
		cxm_query b = q;
		b.end_ms = now - d->baseline_offset_ms;
		cxm_comparison c;
		memset(&c, 0, sizeof c);
		c.size = sizeof c;
		if (b.end_ms < 0) {
			r.read = false;
		} else if (a->by_runs) { /* no test: the difference of two runs */
			cxm_result ra, rb;
			memset(&ra, 0, sizeof ra);
			memset(&rb, 0, sizeof rb);
			ra.size = rb.size = sizeof ra;
			if ((st = cxm__query_headline(&rb, ctx, &b)) ||
			    (st = cxm__query_headline(&ra, ctx, &q)))
				return st;
			r.x = ra.value - rb.value;
			r.base = rb.value;
			r.n = r.n_b = ra.n;
			r.n_a = rb.n;
		} else if ((st = cxm__query_compare_headline(&c, ctx, &b, &q))) {
			return st;
		} else {
			r.x = c.difference;
			r.base = c.a;
			r.p = c.p_value;
			r.n = r.n_b = c.n_b;
			r.n_a = c.n_a;
		}
	}
	*out = r;
	return CXM_OK;
}

/* Whether alerts a and b read the same windows (so one reading serves both). */
static bool same_windows(const alert *a, const alert *b)
{
	const cxm_alert_def *x = &a->def, *y = &b->def;
	const cxm_query *p = &x->query, *q = &y->query;
	return p->metric == q->metric && p->scope == q->scope && p->id == q->id && p->step == q->step &&
	       p->segment == q->segment && p->segment_value == q->segment_value &&
	       p->span_ms == q->span_ms && x->kind == y->kind && a->by_runs == b->by_runs &&
	       (x->kind == CXM_ALERT_LEVEL || x->baseline_offset_ms == y->baseline_offset_ms);
}

static uint32_t windows_hash(const alert *a)
{
	const cxm_alert_def *d = &a->def;
	const cxm_query *q = &d->query;
	uint64_t h = 0x9e3779b97f4a7c15u;
	const uint64_t parts[] = {q->metric, q->scope, q->id, q->step, q->segment, q->segment_value,
				  (uint64_t)q->span_ms, (uint64_t)d->kind,
				  d->kind == CXM_ALERT_LEVEL ? 0 : (uint64_t)d->baseline_offset_ms};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		h ^= parts[i];
		h *= 0xff51afd7ed558ccdu;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

/* One alert at now (module locked), from its reading: its new state;
 * true if it changed. */
static void judge(cxm_context *ctx, cxm_id id, alert *a, int64_t now, bool *changed)
{
	const cxm_alert_def *d = &a->def;
	cxm_alert_status *s = &a->st;
	const reading *r = &a->last;
	const uint64_t least = d->min_samples ? d->min_samples : 1;
	const double x = r->x, base = r->base, p = r->p;
	const uint64_t n = r->read ? r->n : 0;
	bool enough = r->read && r->n_b >= least && !isnan(x);
	if (d->kind == CXM_ALERT_CHANGE)
		enough = enough && r->n_a >= least;
	s->evaluated_ms = now;
	s->value = x;
	s->baseline = base;
	s->p_value = p;
	s->n = n;
	if (!enough) {
		s->flags |= CXM_ALERT_INSUFFICIENT;
		if (s->since_ms < 0) /* evaluated: OK since now */
			s->since_ms = now;
		return;
	}
	s->flags &= ~CXM_ALERT_INSUFFICIENT;
	const bool active = holds(d->op, x, d->fire) &&
			    (d->kind == CXM_ALERT_LEVEL || d->max_p_value == 0 || p < d->max_p_value);
	const cxm_alert_state was = s->state;
	switch (s->state) {
	case CXM_ALERT_OK:
		if (!active || (s->resolved_ms >= 0 && now - s->resolved_ms < d->cooldown_ms))
			break;
		s->state = d->for_ms ? CXM_ALERT_PENDING : CXM_ALERT_FIRING;
		break;
	case CXM_ALERT_PENDING:
		if (!active)
			s->state = CXM_ALERT_OK;
		else if (now - s->since_ms >= d->for_ms)
			s->state = CXM_ALERT_FIRING;
		break;
	case CXM_ALERT_FIRING:
		if (!holds(d->op, x, d->clear)) {
			s->state = CXM_ALERT_OK;
			s->resolved_ms = now;
			cxm__events_put(ctx, CXM_EVENT_ALERT_RESOLVED, id, NULL, now, CXM_NONE, d->query.metric, 0, x);
		}
		break;
	}
	if (s->state == was) {
		if (s->since_ms < 0) /* first evaluation: OK since now */
			s->since_ms = now;
		return;
	}
	s->since_ms = now;
	*changed = true;
	if (s->state == CXM_ALERT_FIRING) {
		s->fired++;
		cxm__events_put(ctx, CXM_EVENT_ALERT_FIRING, id, NULL, now, CXM_NONE, d->query.metric, 0, x);
	}
	return;
}

cxm_status cxm_alerts_evaluate(size_t *changed, cxm_context *ctx, int64_t now_ms)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	if (now_ms == CXM_NOW)
		now_ms = cxm__now(ctx);
	if (now_ms < 0 || now_ms > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "now %lld ms is outside 0 .. CXM_TIME_MAX",
				 (long long)now_ms);
	size_t moved = 0;
	alert_mod *m = atomic_load_explicit(&ctx->alerts, memory_order_acquire);
	cxm_status st = CXM_OK;
	if (m) {
		pthread_mutex_lock(&m->lock);
		uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire);
		/* alerts that read the same windows (a warning and a critical
		 * level, say) share one reading per evaluation */
		enum { SLOTS = 2 * ALERTS_MAX };
		uint16_t seen[SLOTS]; /* alert index + 1; 0: empty */
		memset(seen, 0, sizeof seen);
		for (uint32_t i = 0; i < n && !st; i++) {
			alert *a = &m->a[i];
			uint32_t k = windows_hash(a) & (SLOTS - 1);
			while (seen[k] && !same_windows(&m->a[seen[k] - 1], a))
				k = (k + 1) & (SLOTS - 1);
			if (seen[k]) {
				a->last = m->a[seen[k] - 1].last;
			} else if (!(st = read_windows(ctx, a, now_ms, &a->last))) {
				seen[k] = (uint16_t)(i + 1);
			} else {
				break;
			}
			bool c = false;
			judge(ctx, i, a, now_ms, &c);
			moved += c;
		}
		pthread_mutex_unlock(&m->lock);
	}
	if (changed)
		*changed = moved;
	return st;
}

cxm_status cxm_alert_status_get(cxm_alert_status *out, cxm_context *ctx, cxm_id id)
{
	if (!out || !ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	cxm_status st = cxm__check_out(ctx, out, sizeof(cxm_alert_status), "cxm_alert_status");
	if (st)
		return st;
	alert_mod *m = atomic_load_explicit(&ctx->alerts, memory_order_acquire);
	if (!m || id >= atomic_load_explicit(&m->n, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "alert %u is not defined", id);
	pthread_mutex_lock(&m->lock);
	cxm_alert_status s = m->a[id].st;
	pthread_mutex_unlock(&m->lock);
	cxm__put_out(out, &s, sizeof s);
	return CXM_OK;
}

void cxm__alerts_each(cxm_context *ctx, alert_visit_fn fn, void *arg)
{
	alert_mod *m = atomic_load_explicit(&ctx->alerts, memory_order_acquire);
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		fn(arg, m->a[i].name, m->a[i].st.state == CXM_ALERT_FIRING);
	pthread_mutex_unlock(&m->lock);
}

/* ---- the ALERTS section of a snapshot (docs/snapshot.md) ---------------------------- */

#define put_f64 cxm__snap_put_f64

/* Whether alert a's query names only what the MODEL section holds. */
static bool alert_fits(const alert *a, const snap_limits *lim)
{
	const cxm_query *q = &a->def.query;
	return cxm__snap_fits(lim, q->metric, q->scope, q->id, q->segment, q->segment_value);
}

void cxm__alerts_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim)
{
	alert_mod *m = atomic_load_explicit(&ctx->alerts, memory_order_acquire);
	pthread_mutex_lock(&m->lock);
	uint32_t n = atomic_load_explicit(&m->n, memory_order_acquire), k = 0;
	/* up to the first defined after the MODEL section was written */
	while (k < n && alert_fits(&m->a[k], lim))
		k++;
	cxm__snap_put32(b, k);
	for (uint32_t i = 0; i < k; i++) {
		const alert *a = &m->a[i];
		const cxm_alert_def *d = &a->def;
		const cxm_alert_status *s = &a->st;
		cxm__snap_putstr(b, a->name);
		cxm__snap_put32(b, d->query.metric);
		cxm__snap_put32(b, (uint32_t)d->query.scope);
		cxm__snap_put32(b, d->query.id);
		cxm__snap_put32(b, d->query.step);
		cxm__snap_put32(b, d->query.segment);
		cxm__snap_put32(b, d->query.segment_value);
		cxm__snap_put64(b, (uint64_t)d->query.span_ms);
		cxm__snap_put32(b, (uint32_t)d->kind);
		cxm__snap_put32(b, (uint32_t)d->op);
		put_f64(b, d->fire);
		put_f64(b, d->clear);
		cxm__snap_put64(b, (uint64_t)d->baseline_offset_ms);
		put_f64(b, d->max_p_value);
		cxm__snap_put64(b, d->min_samples);
		cxm__snap_put64(b, (uint64_t)d->for_ms);
		cxm__snap_put64(b, (uint64_t)d->cooldown_ms);
		cxm__snap_put32(b, (uint32_t)s->state);
		cxm__snap_put32(b, s->flags);
		cxm__snap_put64(b, (uint64_t)s->since_ms);
		cxm__snap_put64(b, (uint64_t)s->evaluated_ms);
		cxm__snap_put64(b, (uint64_t)s->resolved_ms);
		put_f64(b, s->value);
		put_f64(b, s->baseline);
		put_f64(b, s->p_value);
		cxm__snap_put64(b, s->n);
		cxm__snap_put64(b, s->fired);
	}
	pthread_mutex_unlock(&m->lock);
}

#define get_f64 cxm__snap_get_f64
#define get_i64 cxm__snap_get_i64

cxm_status cxm__alerts_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n > ALERTS_MAX)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: the alerts section claims %u alerts", n);
	char name[4097];
	for (uint32_t i = 0; i < n; i++) {
		cxm_alert_def d = CXM_ALERT_DEF_INIT;
		cxm_alert_status s;
		memset(&s, 0, sizeof s);
		s.size = sizeof s;
		uint32_t u[5];
		if ((st = cxm__snap_getstr(in, name, sizeof name)) ||
		    (st = cxm__snap_get32(in, &d.query.metric)) || (st = cxm__snap_get32(in, &u[0])) ||
		    (st = cxm__snap_get32(in, &d.query.id)) || (st = cxm__snap_get32(in, &d.query.step)) ||
		    (st = cxm__snap_get32(in, &d.query.segment)) ||
		    (st = cxm__snap_get32(in, &d.query.segment_value)) ||
		    (st = get_i64(in, &d.query.span_ms)) || (st = cxm__snap_get32(in, &u[1])) ||
		    (st = cxm__snap_get32(in, &u[2])) || (st = get_f64(in, &d.fire)) ||
		    (st = get_f64(in, &d.clear)) || (st = get_i64(in, &d.baseline_offset_ms)) ||
		    (st = get_f64(in, &d.max_p_value)) || (st = cxm__snap_get64(in, &d.min_samples)) ||
		    (st = get_i64(in, &d.for_ms)) || (st = get_i64(in, &d.cooldown_ms)) ||
		    (st = cxm__snap_get32(in, &u[3])) || (st = cxm__snap_get32(in, &u[4])) ||
		    (st = get_i64(in, &s.since_ms)) || (st = get_i64(in, &s.evaluated_ms)) ||
		    (st = get_i64(in, &s.resolved_ms)) || (st = get_f64(in, &s.value)) ||
		    (st = get_f64(in, &s.baseline)) || (st = get_f64(in, &s.p_value)) ||
		    (st = cxm__snap_get64(in, &s.n)) || (st = cxm__snap_get64(in, &s.fired)))
			return st;
		if (u[0] > CXM_SCOPE_CHANNEL || u[1] > CXM_ALERT_FORECAST || u[2] > CXM_CMP_NE ||
		    u[3] > CXM_ALERT_FIRING || (u[4] & ~CXM_ALERT_INSUFFICIENT) || s.since_ms < -1 ||
		    s.since_ms > CXM_TIME_MAX || s.evaluated_ms < -1 || s.evaluated_ms > CXM_TIME_MAX ||
		    s.resolved_ms < -1 || s.resolved_ms > CXM_TIME_MAX)
			return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: alert %u has a field out of range", i);
		d.query.scope = (cxm_scope)u[0];
		d.kind = (cxm_alert_kind)u[1];
		d.op = (cxm_cmp)u[2];
		s.state = (cxm_alert_state)u[3];
		s.flags = u[4];
		cxm_id id;
		if ((st = cxm_alert_define(&id, into, name, &d))) {
			cxm_status code = st == CXM_ERR_NO_MEMORY ? st : CXM_ERR_CORRUPT;
			return cxm__relay(ctx, code, into, "snapshot: alert %u", i);
		}
		alert_mod *m = atomic_load_explicit(&into->alerts, memory_order_acquire);
		m->a[id].st = s; /* the private context: no one else reads it */
	}
	return CXM_OK;
}
