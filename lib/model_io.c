/* The model in snapshots (the MODEL section, docs/snapshot.md): the
 * definitions model.c holds, written in id order up to the counts
 * published when the section is written, and read back into a private
 * context through the define functions a caller uses, so that every
 * name, definition and limit is checked as if it came from a caller.
 * Written and read through the codec (codec.c). */
#include "codec.h"

#include <stdio.h>

/* ---- writing ---------------------------------------------------------------------------- */

void cxm__model_write(cxm_context *ctx, wbuf *b, snap_limits *lim, uint32_t *values)
{
	const model *md = &ctx->model;
	lim->values = values;
	/* definitions are append-only: entries below a published count never change */
	uint32_t nj = atomic_load_explicit(&md->n_journeys, memory_order_acquire);
	lim->journeys = nj;
	cxm__wb_put32(b, nj);
	for (uint32_t i = 0; i < nj; i++) {
		const journey *j = &md->journeys[i];
		cxm__wb_putstr(b, j->name);
		cxm__wb_put32(b, j->n_steps);
		for (uint32_t k = 0; k < j->n_steps; k++)
			cxm__wb_putstr(b, j->steps[k]);
	}
	uint32_t nt = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
	lim->touchpoints = nt;
	cxm__wb_put32(b, nt);
	for (uint32_t i = 0; i < nt; i++) {
		const touchpoint *t = &md->touchpoints[i];
		cxm__wb_putstr(b, t->name);
		cxm__wb_put32(b, (uint32_t)t->channel);
		cxm__wb_put32(b, t->journey);
		cxm__wb_put32(b, t->step);
	}
	uint32_t nm = atomic_load_explicit(&md->n_metrics, memory_order_acquire);
	lim->metrics = nm;
	cxm__wb_put32(b, nm);
	for (uint32_t i = 0; i < nm; i++) {
		const metric *m = &md->metrics[i];
		const cxm_metric_def *d = &m->def;
		cxm__wb_putstr(b, m->name);
		cxm__wb_put32(b, (uint32_t)d->kind);
		cxm__wb_put32(b, (uint32_t)d->headline);
		cxm__wb_put32(b, (uint32_t)d->scale_min);
		cxm__wb_put32(b, (uint32_t)d->scale_max);
		cxm__wb_put32(b, d->questions);
		cxm__wb_put32(b, (uint32_t)d->has_na);
		cxm__wb_put32(b, (uint32_t)d->na_value);
		for (int q = 0; q < CXM_MAX_QUESTIONS; q++)
			cxm__wb_put32(b, (uint32_t)d->top_min[q]);
		for (int q = 0; q < CXM_MAX_QUESTIONS; q++)
			cxm__wb_put32(b, (uint32_t)d->bottom_max[q]);
		unsigned char *p = cxm__wb_take(b, 24);
		if (p) {
			stf64(p, d->duration_lo);
			stf64(p + 8, d->duration_hi);
			stf64(p + 16, d->relative_error);
		}
		cxm__wb_put32(b, d->precision);
	}
	uint32_t ns = atomic_load_explicit(&md->n_segments, memory_order_acquire);
	lim->segments = ns;
	cxm__wb_put32(b, ns);
	for (uint32_t i = 0; i < ns; i++) {
		const segment *g = &md->segments[i];
		uint32_t nv = atomic_load_explicit(&g->n_values, memory_order_acquire);
		values[i] = nv;
		cxm__wb_putstr(b, g->name);
		cxm__wb_put32(b, g->max_values);
		cxm__wb_put32(b, nv);
		for (uint32_t v = 0; v < nv; v++)
			cxm__wb_putstr(b, g->values[v]);
	}
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A length-prefixed name into name (max_name_len + 1 bytes). */
static cxm_status rdstr(struct snap_in *in, char *name)
{
	uint32_t n;
	cxm_status st = cxm__snap_get32(in, &n);
	if (st)
		return st;
	if (n > in->ctx->max_name_len)
		return cxm__fail(in->ctx, CXM_ERR_LIMIT,
				 "snapshot: a name of %u bytes is longer than max_name_len %u", n,
				 in->ctx->max_name_len);
	const unsigned char *p = take(&in->r, n);
	if (!p)
		return TRUNC(in);
	if (memchr(p, 0, n))
		return CORRUPT(in->ctx, "a name in the %s section has a NUL byte", in->what);
	memcpy(name, p, n);
	name[n] = 0;
	return CXM_OK;
}

/* A definition call on the private context failed: say so on the caller's. */
static cxm_status relay(const struct snap_in *in, cxm_context *into, cxm_status st)
{
	char msg[256];
	snprintf(msg, sizeof msg, "%s", cxm_errmsg(into));
	if (st != CXM_ERR_NO_MEMORY && st != CXM_ERR_LIMIT)
		st = CXM_ERR_CORRUPT;
	return cxm__fail(in->ctx, st, "snapshot %s section: %s", in->what, msg);
}

cxm_status cxm__model_read(cxm_context *into, struct snap_in *in, char *name)
{
	cxm_context *ctx = in->ctx;
	cxm_status st;
	uint32_t n;

	/* journeys: name, then the steps, copied into one block */
	if ((st = cxm__snap_get32(in, &n)))
		return st;
	if (n > ctx->max_journeys)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "snapshot: %u journeys; max_journeys is %u", n,
				 ctx->max_journeys);
	for (uint32_t i = 0; i < n; i++) {
		if ((st = rdstr(in, name)))
			return st;
		char jname[4097];
		memcpy(jname, name, strlen(name) + 1);
		uint32_t ns;
		if ((st = cxm__snap_get32(in, &ns)))
			return st;
		if (ns == 0 || ns > ctx->max_steps)
			return cxm__fail(ctx, ns ? CXM_ERR_LIMIT : CXM_ERR_CORRUPT,
					 "snapshot: journey '%s' has %u steps; max_steps is %u", jname, ns,
					 ctx->max_steps);
		/* size the block from the bytes present before allocating it */
		struct snap_in scan = *in;
		size_t total = 0;
		for (uint32_t k = 0; k < ns; k++) {
			uint32_t len;
			if ((st = cxm__snap_get32(&scan, &len)))
				return st;
			if (!take(&scan.r, len))
				return TRUNC(in);
			total += (size_t)len + 1;
		}
		size_t bytes = sizeof(char *) * ns + total;
		char **steps = cxm__alloc(ctx, bytes);
		if (!steps)
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory");
		char *at = (char *)(steps + ns);
		for (uint32_t k = 0; k < ns && !st; k++) {
			if ((st = rdstr(in, name)))
				break;
			size_t len = strlen(name) + 1;
			memcpy(at, name, len);
			steps[k] = at;
			at += len;
		}
		cxm_id id = 0;
		if (!st && (st = cxm_journey_define(&id, into, jname, (const char *const *)steps, ns)))
			st = relay(in, into, st);
		cxm__free(ctx, steps, bytes);
		if (st)
			return st;
	}

	if ((st = cxm__snap_get32(in, &n)))
		return st;
	if (n > ctx->max_touchpoints)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "snapshot: %u touchpoints; max_touchpoints is %u",
				 n, ctx->max_touchpoints);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t ch, j, step;
		cxm_id id;
		if ((st = rdstr(in, name)) || (st = cxm__snap_get32(in, &ch)) ||
		    (st = cxm__snap_get32(in, &j)) || (st = cxm__snap_get32(in, &step)))
			return st;
		if (j == CXM_NONE && step != CXM_NONE)
			return CORRUPT(ctx, "touchpoint '%s' has a step but no journey", name);
		if ((st = cxm_touchpoint_define(&id, into, name, (cxm_channel)ch, j, step)))
			return relay(in, into, st);
	}

	if ((st = cxm__snap_get32(in, &n)))
		return st;
	if (n > ctx->max_metrics)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "snapshot: %u metrics; max_metrics is %u", n,
				 ctx->max_metrics);
	for (uint32_t i = 0; i < n; i++) {
		if ((st = rdstr(in, name)))
			return st;
		const unsigned char *p = take(&in->r, 4 * 7 + 4 * 2 * CXM_MAX_QUESTIONS + 24 + 4);
		if (!p)
			return TRUNC(in);
		cxm_metric_def d;
		memset(&d, 0, sizeof d);
		d.size = sizeof d;
		d.kind = (cxm_metric_kind)ld32(p);
		d.headline = (cxm_headline)ld32(p + 4);
		d.scale_min = (int32_t)ld32(p + 8);
		d.scale_max = (int32_t)ld32(p + 12);
		d.questions = ld32(p + 16);
		d.has_na = (int32_t)ld32(p + 20);
		d.na_value = (int32_t)ld32(p + 24);
		p += 28;
		for (int q = 0; q < CXM_MAX_QUESTIONS; q++, p += 4)
			d.top_min[q] = (int32_t)ld32(p);
		for (int q = 0; q < CXM_MAX_QUESTIONS; q++, p += 4)
			d.bottom_max[q] = (int32_t)ld32(p);
		d.duration_lo = ldf64(p);
		d.duration_hi = ldf64(p + 8);
		d.relative_error = ldf64(p + 16);
		d.precision = ld32(p + 24);
		if (in->version < 3 && d.kind != CXM_KIND_SCORE && d.kind != CXM_KIND_INDEX)
			d.has_na = d.na_value = 0; /* ignored before version 3; its cells have no count */
		if (in->version < 4 && d.kind == CXM_KIND_SENTIMENT)
			return CORRUPT(ctx, "metric '%s' is a SENTIMENT in a format %u file (before "
					       "that kind existed)", name, in->version);
		cxm_id id;
		if ((st = cxm_metric_define(&id, into, name, &d)))
			return relay(in, into, st);
	}

	if ((st = cxm__snap_get32(in, &n)))
		return st;
	if (n > ctx->max_segments)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "snapshot: %u segments; max_segments is %u", n,
				 ctx->max_segments);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t maxv, nv;
		cxm_id id;
		if ((st = rdstr(in, name)) || (st = cxm__snap_get32(in, &maxv)) ||
		    (st = cxm__snap_get32(in, &nv)))
			return st;
		if (nv > maxv)
			return CORRUPT(ctx, "segment '%s' has %u values of at most %u", name, nv, maxv);
		if ((st = cxm_segment_define(&id, into, name, maxv)))
			return relay(in, into, st);
		for (uint32_t v = 0; v < nv; v++) {
			uint32_t got;
			if ((st = rdstr(in, name)))
				return st;
			if ((st = cxm_segment_value(&got, into, id, name)))
				return relay(in, into, st);
			if (got != v)
				return CORRUPT(ctx, "segment %u names value '%s' twice", id, name);
		}
	}
	if (in->r.left)
		return CORRUPT(ctx, "%zu bytes after the model", in->r.left);
	return CXM_OK;
}
