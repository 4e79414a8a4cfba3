/* Named baselines: what "vs last week", "vs Q3" or "vs the target"
 * compares a query with. Definitions are appended under the definition
 * lock into a table made with the first; once published an entry never
 * changes, so readers take the count with acquire and read without a
 * lock. Queries run through query.c. */
#include "cxm_internal.h"

#include <math.h>
#include <string.h>

typedef struct baseline {
	char *name;
	cxm_baseline_def def;
} baseline;

struct baseline_mod {
	_Atomic uint32_t n;
	baseline b[CXM_BASELINES_MAX];
};

static struct baseline_mod *mod_of(const cxm_context *ctx)
{
	return atomic_load_explicit(&((cxm_context *)ctx)->baselines, memory_order_acquire);
}

static uint32_t count_of(const struct baseline_mod *m)
{
	return m ? atomic_load_explicit(&m->n, memory_order_acquire) : 0;
}

void cxm__baselines_free(cxm_context *ctx)
{
	struct baseline_mod *m = mod_of(ctx);
	if (!m)
		return;
	for (uint32_t i = 0; i < count_of(m); i++)
		cxm__strfree(ctx, m->b[i].name);
	cxm__free(ctx, m, sizeof *m);
	atomic_store_explicit(&ctx->baselines, NULL, memory_order_release);
}

cxm_status cxm_baseline_def_init(cxm_baseline_def *def, size_t size)
{
	return cxm__init_struct(def, size, sizeof(cxm_baseline_def), "cxm_baseline_def", "def");
}

static cxm_status check_def(cxm_context *ctx, const cxm_baseline_def *d)
{
	cxm_status st = cxm__check_struct(ctx, d, sizeof *d, sizeof *d, "cxm_baseline_def");
	if (st)
		return st;
	if (d->reserved[0] || d->reserved[1] || d->reserved[2] || d->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_baseline_def.reserved must be zero");
	const bool offset = d->offset_ms != 0, period = d->start_ms || d->end_ms,
		   target = d->metric != 0 || d->target != 0;
	switch (d->kind) {
	case CXM_BASELINE_OFFSET:
		if (period || target)
			return cxm__fail(ctx, CXM_ERR_INVALID, "an OFFSET baseline sets offset_ms only");
		if (d->offset_ms < 1 || d->offset_ms > CXM_TIME_MAX)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "offset_ms %lld is outside 1 .. CXM_TIME_MAX",
					 (long long)d->offset_ms);
		return CXM_OK;
	case CXM_BASELINE_PERIOD:
		if (offset || target)
			return cxm__fail(ctx, CXM_ERR_INVALID, "a PERIOD baseline sets start_ms and end_ms only");
		if (d->start_ms < 0 || d->start_ms >= d->end_ms || d->end_ms > CXM_TIME_MAX + 1)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "period [%lld, %lld): need 0 <= start_ms < end_ms <= CXM_TIME_MAX + 1",
					 (long long)d->start_ms, (long long)d->end_ms);
		return CXM_OK;
	case CXM_BASELINE_TARGET:
		if (offset || period)
			return cxm__fail(ctx, CXM_ERR_INVALID, "a TARGET baseline sets metric and target only");
		if (!isfinite(d->target))
			return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "the target is not finite");
		if (d->metric >= atomic_load_explicit(&ctx->model.n_metrics, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "metric %u is not defined", d->metric);
		return CXM_OK;
	}
	return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_baseline_kind", (int)d->kind);
}

cxm_status cxm_baseline_define(cxm_id *out, cxm_context *ctx, const char *name,
			       const cxm_baseline_def *def)
{
	if (!out || !ctx || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	cxm_status st = cxm__check_name(ctx, name, "baseline");
	if (st || (st = check_def(ctx, def)))
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	struct baseline_mod *m = mod_of(ctx);
	const bool fresh = !m;
	if (fresh && !(m = cxm__calloc(ctx, 1, sizeof *m))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the baselines failed");
		goto out;
	}
	const uint32_t n = count_of(m);
	for (uint32_t i = 0; i < n && !st; i++)
		if (!strcmp(m->b[i].name, name))
			st = cxm__fail(ctx, CXM_ERR_EXISTS, "baseline '%s' is defined already", name);
	if (!st && n >= CXM_BASELINES_MAX)
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "%u baselines are defined", CXM_BASELINES_MAX);
	if (!st && !(m->b[n].name = cxm__strdup(ctx, name)))
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating baseline '%s' failed", name);
	if (st) {
		if (fresh)
			cxm__free(ctx, m, sizeof *m);
		goto out;
	}
	m->b[n].def = *def;
	m->b[n].def.size = sizeof(cxm_baseline_def);
	if (fresh)
		atomic_store_explicit(&ctx->baselines, m, memory_order_release);
	atomic_store_explicit(&m->n, n + 1, memory_order_release);
	*out = n;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

cxm_status cxm_baseline_find(cxm_id *out, const cxm_context *ctx, const char *name)
{
	if (!out || !ctx || !name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "name");
	const struct baseline_mod *m = mod_of(ctx);
	for (uint32_t i = 0; i < count_of(m); i++)
		if (!strcmp(m->b[i].name, name)) {
			*out = i;
			return CXM_OK;
		}
	return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "no baseline is named '%s'", name);
}

static const baseline *find(const cxm_context *ctx, cxm_id id)
{
	const struct baseline_mod *m = mod_of(ctx);
	return id < count_of(m) ? &m->b[id] : NULL;
}

cxm_status cxm_baseline_get(cxm_baseline_def *out, const char **name, const cxm_context *ctx,
			    cxm_id id)
{
	if (!out || !ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	cxm_status st = cxm__check_out(ctx, out, sizeof *out, "cxm_baseline_def");
	if (st)
		return st;
	const baseline *b = find(ctx, id);
	if (!b)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "baseline %u is not defined", id);
	cxm__put_out(out, &b->def, sizeof b->def);
	if (name)
		*name = b->name;
	return CXM_OK;
}

cxm_status cxm_query_baseline(cxm_comparison *out, cxm_context *ctx, const cxm_query *q,
			      cxm_id id)
{
	if (!out || !ctx || !q)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "q");
	const baseline *b = find(ctx, id);
	if (!b)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "baseline %u is not defined", id);
	cxm_status st = cxm__check_struct(ctx, q, sizeof *q, sizeof *q, "cxm_query");
	if (st)
		return st;
	const cxm_baseline_def *d = &b->def;
	if (d->kind == CXM_BASELINE_TARGET) {
		if (q->metric != d->metric)
			return cxm__fail(ctx, CXM_ERR_INVALID,
					 "baseline '%s' is a target of metric %u; the query is of metric %u",
					 b->name, d->metric, q->metric);
		return cxm__query_vs_value(out, ctx, q, d->target);
	}
	cxm_query then = *q;
	then.size = sizeof then;
	if (d->kind == CXM_BASELINE_OFFSET) {
		/* the window's end as the query would place it, moved back
		 * (an invalid end is the query's to refuse, below) */
		const bool instant = q->end_ms >= 0 && q->end_ms <= CXM_TIME_MAX;
		if (instant || q->end_ms == CXM_NOW || q->end_ms == CXM_WATERMARK) {
			int64_t e = cxm__window_end(ctx, q->end_ms) - d->offset_ms;
			then.end_ms = e < 0 ? 0 : e;
		}
	} else {
		then.end_ms = d->end_ms - 1;
		then.span_ms = d->end_ms - d->start_ms;
	}
	return cxm_query_compare(out, ctx, &then, q);
}

/* ---- the BASELINES section of a snapshot (docs/snapshot.md) ------------------------ */

static bool fits(const cxm_baseline_def *d, const snap_limits *lim)
{
	return d->kind != CXM_BASELINE_TARGET || d->metric < lim->metrics;
}

void cxm__baselines_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim)
{
	const struct baseline_mod *m = mod_of(ctx);
	const uint32_t n = count_of(m);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		k += fits(&m->b[i].def, lim);
	cxm__snap_put32(b, k);
	for (uint32_t i = 0; i < n; i++) {
		const cxm_baseline_def *d = &m->b[i].def;
		if (!fits(d, lim))
			continue;
		cxm__snap_putstr(b, m->b[i].name);
		cxm__snap_put32(b, (uint32_t)d->kind);
		cxm__snap_put32(b, d->metric);
		cxm__snap_put64(b, (uint64_t)d->offset_ms);
		cxm__snap_put64(b, (uint64_t)d->start_ms);
		cxm__snap_put64(b, (uint64_t)d->end_ms);
		cxm__snap_put_f64(b, d->target);
	}
}

cxm_status cxm__baselines_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n > CXM_BASELINES_MAX)
		return cxm__fail(ctx, CXM_ERR_CORRUPT, "snapshot: the baselines section claims %u baselines", n);
	char name[4097];
	for (uint32_t i = 0; i < n; i++) {
		cxm_baseline_def d = {.size = sizeof d};
		uint32_t kind;
		if ((st = cxm__snap_getstr(in, name, sizeof name)) || (st = cxm__snap_get32(in, &kind)) ||
		    (st = cxm__snap_get32(in, &d.metric)) || (st = cxm__snap_get_i64(in, &d.offset_ms)) ||
		    (st = cxm__snap_get_i64(in, &d.start_ms)) || (st = cxm__snap_get_i64(in, &d.end_ms)) ||
		    (st = cxm__snap_get_f64(in, &d.target)))
			return st;
		d.kind = (cxm_baseline_kind)kind;
		cxm_id id;
		if ((st = cxm_baseline_define(&id, into, name, &d))) {
			cxm_status code = st == CXM_ERR_NO_MEMORY ? st : CXM_ERR_CORRUPT;
			return cxm__relay(ctx, code, into, "snapshot: baseline %u", i);
		}
	}
	return CXM_OK;
}
