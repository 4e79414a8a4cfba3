/* The survey governor in snapshots (the GOVERNOR section,
 * docs/snapshot.md) and merges: each survey and each customer's records,
 * as governor.c keeps them. */
#include "governor.h"

#include <math.h>
#include <string.h>

/* ---- the GOVERNOR section of a snapshot (docs/snapshot.md) ---------------------------- */

/* Records in a customer's entry (locked), as an array. */
static uint16_t recs_copy(const gov_entry *e, gov_rec *out)
{
	uint16_t n;
	const gov_rec *r = recs_of(e, &n);
	memcpy(out, r, sizeof(gov_rec) * n);
	return n;
}

/* Whether survey k of g can be written under the MODEL section's counts. */
static bool survey_fits(const survey *s, const snap_limits *lim)
{
	return cxm__snap_fits(lim, CXM_NONE, s->def.scope, s->def.id, CXM_NONE, 0);
}

void cxm__governor_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim)
{
	gov_mod *g = atomic_load_explicit(&ctx->governor, memory_order_acquire);
	uint32_t n = atomic_load_explicit(&g->n_surveys, memory_order_acquire), k = 0;
	/* surveys stop at the first defined after the MODEL section was
	 * written (a scope it does not hold), so ids stay what they are */
	while (k < n && survey_fits(&g->surveys[k], lim))
		k++;
	cxm__snap_put32(b, k);
	for (uint32_t i = 0; i < k; i++) {
		const cxm_survey_def *d = &g->surveys[i].def;
		uint64_t rate;
		memcpy(&rate, &d->sample_rate, sizeof rate);
		cxm__snap_putstr(b, g->surveys[i].name);
		cxm__snap_put64(b, (uint64_t)d->min_since_invite_ms);
		cxm__snap_put64(b, (uint64_t)d->min_since_response_ms);
		cxm__snap_put32(b, d->max_invites);
		cxm__snap_put32(b, 0);
		cxm__snap_put64(b, (uint64_t)d->invites_window_ms);
		cxm__snap_put64(b, rate);
		cxm__snap_put32(b, (uint32_t)d->scope);
		cxm__snap_put32(b, d->id);
		cxm__snap_put32(b, d->step);
	}
	const cxm_governor_rules r = cxm__gov_rules_of(g);
	cxm__snap_put64(b, (uint64_t)r.min_since_invite_ms);
	cxm__snap_put64(b, (uint64_t)r.min_since_response_ms);
	cxm__snap_put32(b, r.max_invites);
	cxm__snap_put32(b, 0);
	cxm__snap_put64(b, (uint64_t)r.invites_window_ms);
	/* the customers, a stripe at a time under its lock: each group is its
	 * count, then the customers with a record of a survey written */
	cxm__snap_put32(b, GOV_STRIPES);
	gov_rec recs[GOV_MAX_RECS];
	for (int i = 0; i < GOV_STRIPES; i++) {
		gov_stripe *s = &g->stripes[i];
		pthread_mutex_lock(&s->lock);
		uint32_t count = 0;
		for (uint32_t j = 0; j < s->cap; j++) {
			uint16_t m = recs_copy(&s->slots[j], recs), w = 0;
			for (uint16_t q = 0; q < m; q++)
				w += recs[q].survey < k;
			count += w > 0;
		}
		cxm__snap_put32(b, count);
		for (uint32_t j = 0; j < s->cap && count; j++) {
			const gov_entry *e = &s->slots[j];
			uint16_t m = recs_copy(e, recs), w = 0;
			for (uint16_t q = 0; q < m; q++)
				w += recs[q].survey < k;
			if (!w)
				continue;
			cxm__snap_put64(b, e->h[0]);
			cxm__snap_put64(b, e->h[1]);
			cxm__snap_put32(b, w);
			for (uint16_t q = 0; q < m; q++)
				if (recs[q].survey < k) {
					cxm__snap_put32(b, recs[q].t);
					cxm__snap_put32(b, recs[q].survey | (uint32_t)recs[q].kind << 16);
				}
		}
		pthread_mutex_unlock(&s->lock);
	}
}

/* Put entry (h, recs) into locked stripe s of g: a new customer. */
static cxm_status put_entry(cxm_context *ctx, gov_mod *g, gov_stripe *s, const uint64_t h[2],
			    const gov_rec *recs, uint16_t n)
{
	if (atomic_load_explicit(&g->count, memory_order_relaxed) >= ctx->max_customers)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "the governor keeps max_customers (%u) customers",
				 ctx->max_customers);
	gov_rec *arr = NULL;
	if (n > 2 && !(arr = cxm__alloc(ctx, sizeof(gov_rec) * n)))
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a customer's survey records");
	if (!cxm__gov_grow(ctx, s)) {
		if (arr)
			cxm__free(ctx, arr, sizeof(gov_rec) * n);
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a customer's survey records");
	}
	gov_entry e;
	memset(&e, 0, sizeof e);
	e.h[0] = h[0];
	e.h[1] = h[1];
	if (arr) {
		memcpy(arr, recs, sizeof(gov_rec) * n);
		e.u.x = (gov_ext){arr, n, n, {0, 0, 0}, EXT};
	} else {
		memcpy(e.u.inl, recs, sizeof(gov_rec) * n);
	}
	cxm__gov_place(s->slots, s->cap, &e);
	s->count++;
	atomic_fetch_add_explicit(&g->count, 1, memory_order_relaxed);
	return CXM_OK;
}

cxm_status cxm__governor_read(cxm_context *into, struct snap_in *in)
{
	cxm_context *ctx = cxm__snap_ctx(in);
	uint32_t ns;
	uint64_t f64[5];
	cxm_status st = cxm__snap_get32(in, &ns);
	if (st)
		return st;
	if (ns > CXM_MAX_SURVEYS)
		return CORRUPT(ctx, "the governor section claims %u surveys", ns);
	char name[4097];
	for (uint32_t i = 0; i < ns; i++) {
		cxm_survey_def d = CXM_SURVEY_DEF_INIT;
		uint32_t u[5];
		if ((st = cxm__snap_getstr(in, name, sizeof name)) || (st = cxm__snap_get64(in, &f64[0])) ||
		    (st = cxm__snap_get64(in, &f64[1])) || (st = cxm__snap_get32(in, &u[0])) ||
		    (st = cxm__snap_get32(in, &u[1])) || (st = cxm__snap_get64(in, &f64[2])) ||
		    (st = cxm__snap_get64(in, &f64[3])) || (st = cxm__snap_get32(in, &u[2])) ||
		    (st = cxm__snap_get32(in, &u[3])) || (st = cxm__snap_get32(in, &u[4])))
			return st;
		d.min_since_invite_ms = (int64_t)f64[0];
		d.min_since_response_ms = (int64_t)f64[1];
		d.max_invites = u[0];
		d.reserved0 = u[1];
		d.invites_window_ms = (int64_t)f64[2];
		memcpy(&d.sample_rate, &f64[3], sizeof d.sample_rate);
		if (u[2] > CXM_SCOPE_CHANNEL)
			return CORRUPT(ctx, "survey %u: scope %u", i, u[2]);
		d.scope = (cxm_scope)u[2];
		d.id = u[3];
		d.step = u[4];
		cxm_id id;
		if ((st = cxm_survey_define(&id, into, name, &d))) {
			cxm_status code = st == CXM_ERR_NO_MEMORY ? st : CXM_ERR_CORRUPT;
			return cxm__relay(ctx, code, into, "snapshot: survey %u", i);
		}
	}
	cxm_governor_rules r = CXM_GOVERNOR_RULES_INIT;
	if ((st = cxm__snap_get64(in, &f64[0])) || (st = cxm__snap_get64(in, &f64[1])) ||
	    (st = cxm__snap_get32(in, &r.max_invites)) || (st = cxm__snap_get32(in, &r.reserved0)) ||
	    (st = cxm__snap_get64(in, &f64[2])))
		return st;
	r.min_since_invite_ms = (int64_t)f64[0];
	r.min_since_response_ms = (int64_t)f64[1];
	r.invites_window_ms = (int64_t)f64[2];
	if ((st = cxm_governor_set(into, &r))) {
		cxm_status code = st == CXM_ERR_NO_MEMORY ? st : CXM_ERR_CORRUPT;
		return cxm__relay(ctx, code, into, "snapshot: the rules across surveys");
	}
	gov_mod *g = atomic_load_explicit(&into->governor, memory_order_acquire);
	uint32_t groups;
	if ((st = cxm__snap_get32(in, &groups)))
		return st;
	if (groups > cxm__snap_left(in) / 4)
		return CORRUPT(ctx, "the governor section claims %u groups", groups);
	gov_rec recs[GOV_MAX_RECS];
	for (uint32_t i = 0; i < groups; i++) {
		uint32_t count;
		if ((st = cxm__snap_get32(in, &count)))
			return st;
		if (count > cxm__snap_left(in) / 28)
			return CORRUPT(ctx, "a governor group claims %u customers", count);
		for (uint32_t j = 0; j < count; j++) {
			uint64_t h[2];
			uint32_t n;
			if ((st = cxm__snap_get64(in, &h[0])) || (st = cxm__snap_get64(in, &h[1])) ||
			    (st = cxm__snap_get32(in, &n)))
				return st;
			if (!h[0] && !h[1])
				return CORRUPT(ctx, "a governed customer's hash is zero");
			if (n == 0 || n > GOV_MAX_RECS)
				return CORRUPT(ctx, "a governed customer has %u records", n);
			for (uint32_t q = 0; q < n; q++) {
				uint32_t t, w;
				if ((st = cxm__snap_get32(in, &t)) || (st = cxm__snap_get32(in, &w)))
					return st;
				uint32_t sv = w & 0xffff, kind = w >> 16;
				if (sv >= ns || (kind != CXM_SURVEY_INVITED && kind != CXM_SURVEY_RESPONDED))
					return CORRUPT(ctx, "a survey record names survey %u, kind %u", sv, kind);
				recs[q] = (gov_rec){t, (uint16_t)sv, (uint8_t)kind, 0};
			}
			gov_stripe *s = stripe_of(g, h);
			if (cxm__gov_find(s, h) >= 0)
				return CORRUPT(ctx, "a governed customer appears twice");
			if ((st = put_entry(into, g, s, h, recs, (uint16_t)n)))
				return cxm__relay(ctx, st, into, "snapshot");
		}
	}
	return CXM_OK;
}

/* ---- merging another context's survey history ------------------------------------------ */

/* A merge holds every stripe of the target from prepare to commit or
 * abort, so that what prepare allocated is exactly what commit needs:
 * nothing else changes the target's history meanwhile (answers and
 * records wait; no other path takes another lock while holding one of
 * these, so holding them across the merge's other locks cannot deadlock). */

/* One customer of the source with history of the target's surveys: its
 * hash, whether the target has it, and the array its union needs. */
typedef struct gm_item {
	uint64_t h[2];
	bool exists;
	gov_rec *arr;
	uint16_t cap;
} gm_item;

struct gov_merge {
	gm_item *items;
	size_t n, cap;
	gov_entry *table[GOV_STRIPES]; /* a stripe's larger table, or NULL */
	uint32_t table_cap[GOV_STRIPES];
	uint16_t map[CXM_MAX_SURVEYS]; /* source survey -> target survey, UINT16_MAX: none */
	gov_rec a[GOV_MAX_RECS], d[GOV_MAX_RECS], u[2 * GOV_MAX_RECS]; /* scratch */
};

/* The union of a (n) and b (m), without repeats, into out; its size. */
static uint32_t rec_union(const gov_rec *a, uint16_t n, const gov_rec *b, uint16_t m, gov_rec *out)
{
	uint32_t k = 0;
	for (uint16_t i = 0; i < n; i++)
		out[k++] = a[i];
	for (uint16_t j = 0; j < m; j++) {
		bool dup = false;
		for (uint16_t i = 0; i < n && !dup; i++)
			dup = a[i].t == b[j].t && a[i].survey == b[j].survey && a[i].kind == b[j].kind;
		if (!dup)
			out[k++] = b[j];
	}
	return k;
}

/* The source's records of surveys the target has, with the target's ids. */
static uint16_t mapped(const struct gov_merge *m, const gov_entry *e, gov_rec *out)
{
	uint16_t n, k = 0;
	const gov_rec *r = recs_of(e, &n);
	for (uint16_t i = 0; i < n; i++)
		if (m->map[r[i].survey] != UINT16_MAX) {
			out[k] = r[i];
			out[k++].survey = m->map[r[i].survey];
		}
	return k;
}

static void unlock_all(gov_mod *g)
{
	for (int i = GOV_STRIPES - 1; i >= 0; i--)
		pthread_mutex_unlock(&g->stripes[i].lock);
}

void cxm__governor_merge_abort(cxm_context *dst, struct gov_merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].arr)
			cxm__free(dst, m->items[i].arr, sizeof(gov_rec) * m->items[i].cap);
	for (int i = 0; i < GOV_STRIPES; i++)
		if (m->table[i])
			cxm__free(dst, m->table[i], sizeof(gov_entry) * m->table_cap[i]);
	unlock_all(atomic_load_explicit(&dst->governor, memory_order_acquire));
	cxm__free(dst, m->items, sizeof(gm_item) * m->cap);
	cxm__free(dst, m, sizeof *m);
}

cxm_status cxm__governor_merge_prepare(cxm_context *dst, cxm_context *src, struct gov_merge **out)
{
	*out = NULL;
	gov_mod *gs = atomic_load_explicit(&src->governor, memory_order_acquire);
	gov_mod *gd = atomic_load_explicit(&dst->governor, memory_order_acquire);
	/* surveys are the program's: the target keeps its own, and takes the
	 * history of the surveys it has (by name); without any, nothing */
	if (!gs || !gd || !atomic_load(&gs->count))
		return CXM_OK;
	struct gov_merge *m = cxm__calloc(dst, 1, sizeof *m);
	if (!m)
		return cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for the survey history");
	uint32_t nsrc = atomic_load(&gs->n_surveys), ndst = atomic_load(&gd->n_surveys);
	for (uint32_t i = 0; i < CXM_MAX_SURVEYS; i++)
		m->map[i] = UINT16_MAX;
	for (uint32_t i = 0; i < nsrc; i++)
		for (uint32_t j = 0; j < ndst; j++)
			if (!strcmp(gs->surveys[i].name, gd->surveys[j].name))
				m->map[i] = (uint16_t)j;
	m->cap = atomic_load(&gs->count);
	if (!(m->items = cxm__calloc(dst, m->cap, sizeof(gm_item)))) {
		cxm__free(dst, m, sizeof *m);
		return cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for the survey history");
	}
	for (int i = 0; i < GOV_STRIPES; i++)
		pthread_mutex_lock(&gd->stripes[i].lock);
	uint32_t added[GOV_STRIPES] = {0};
	uint64_t fresh = 0;
	cxm_status st = CXM_OK;
	for (int i = 0; i < GOV_STRIPES && !st; i++) {
		const gov_stripe *ss = &gs->stripes[i]; /* the source is private */
		for (uint32_t j = 0; j < ss->cap && !st; j++) {
			const gov_entry *e = &ss->slots[j];
			uint16_t na = (e->h[0] || e->h[1]) ? mapped(m, e, m->a) : 0;
			if (!na)
				continue;
			gm_item *it = &m->items[m->n++];
			it->h[0] = e->h[0];
			it->h[1] = e->h[1];
			gov_stripe *s = stripe_of(gd, e->h);
			int64_t at = cxm__gov_find(s, e->h);
			uint16_t nd = 0;
			const gov_entry *d = at >= 0 ? &s->slots[at] : NULL;
			if (d) {
				it->exists = true;
				recs_copy(d, m->d);
				recs_of(d, &nd);
			} else {
				added[s - gd->stripes]++;
				fresh++;
			}
			uint32_t k = rec_union(m->d, nd, m->a, na, m->u);
			if (k > GOV_MAX_RECS)
				k = GOV_MAX_RECS;
			if (k > 2 && !(d && is_ext(d) && d->u.x.cap >= k)) {
				if ((it->arr = cxm__alloc(dst, sizeof(gov_rec) * k)))
					it->cap = (uint16_t)k;
				else
					st = cxm__fail(dst, CXM_ERR_NO_MEMORY,
						       "merge: no memory for the survey history");
			}
		}
	}
	if (!st && atomic_load_explicit(&gd->count, memory_order_relaxed) + fresh > dst->max_customers)
		st = cxm__fail(dst, CXM_ERR_LIMIT,
			       "merge: the survey history would keep more than max_customers (%u) customers",
			       dst->max_customers);
	/* the larger tables the new customers need */
	for (int i = 0; i < GOV_STRIPES && !st; i++) {
		const gov_stripe *s = &gd->stripes[i];
		uint64_t want = (uint64_t)s->count + added[i];
		if (!added[i] || want * 8 <= (uint64_t)s->cap * 7)
			continue;
		uint64_t cap = s->cap ? s->cap : 16;
		while (want * 8 > cap * 7)
			cap += cap / 2;
		if (cap > UINT32_MAX / 2 ||
		    !(m->table[i] = cxm__calloc(dst, (size_t)cap, sizeof(gov_entry))))
			st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for the survey history");
		else
			m->table_cap[i] = (uint32_t)cap;
	}
	if (st) {
		cxm__governor_merge_abort(dst, m);
		return st;
	}
	*out = m;
	return CXM_OK;
}

void cxm__governor_merge_commit(cxm_context *dst, cxm_context *src, struct gov_merge *m)
{
	if (!m)
		return;
	gov_mod *gs = atomic_load_explicit(&src->governor, memory_order_acquire);
	gov_mod *gd = atomic_load_explicit(&dst->governor, memory_order_acquire);
	for (int i = 0; i < GOV_STRIPES; i++) {
		gov_stripe *s = &gd->stripes[i];
		if (!m->table[i])
			continue;
		for (uint32_t j = 0; j < s->cap; j++)
			if (s->slots[j].h[0] || s->slots[j].h[1])
				cxm__gov_place(m->table[i], m->table_cap[i], &s->slots[j]);
		if (s->slots) {
			cxm__wipe(s->slots, sizeof(gov_entry) * s->cap);
			cxm__free(dst, s->slots, sizeof(gov_entry) * s->cap);
		}
		s->slots = m->table[i];
		s->cap = m->table_cap[i];
	}
	for (size_t i = 0; i < m->n; i++) {
		gm_item *it = &m->items[i];
		const gov_stripe *ss = stripe_of(gs, it->h);
		uint16_t na = mapped(m, &ss->slots[cxm__gov_find(ss, it->h)], m->a);
		gov_stripe *s = stripe_of(gd, it->h);
		if (!it->exists) {
			gov_entry e;
			memset(&e, 0, sizeof e);
			e.h[0] = it->h[0];
			e.h[1] = it->h[1];
			cxm__gov_place(s->slots, s->cap, &e);
			s->count++;
			atomic_fetch_add_explicit(&gd->count, 1, memory_order_relaxed);
		}
		gov_entry *e = &s->slots[cxm__gov_find(s, it->h)];
		uint16_t nd = recs_copy(e, m->d);
		uint32_t k = rec_union(m->d, nd, m->a, na, m->u);
		if (k > GOV_MAX_RECS) { /* the newest stay */
			for (uint32_t x = 0; x < GOV_MAX_RECS; x++) {
				uint32_t best = x;
				for (uint32_t y = x + 1; y < k; y++)
					if (m->u[y].t > m->u[best].t)
						best = y;
				gov_rec t = m->u[x];
				m->u[x] = m->u[best];
				m->u[best] = t;
			}
			k = GOV_MAX_RECS;
		}
		if (k <= 2) {
			entry_release(dst, e);
			memset(&e->u, 0, sizeof e->u);
			memcpy(e->u.inl, m->u, sizeof(gov_rec) * k);
		} else if (it->arr) {
			entry_release(dst, e);
			memcpy(it->arr, m->u, sizeof(gov_rec) * k);
			e->u.x = (gov_ext){it->arr, (uint16_t)k, it->cap, {0, 0, 0}, EXT};
			it->arr = NULL;
		} else { /* the entry's own array has room */
			memcpy(e->u.x.recs, m->u, sizeof(gov_rec) * k);
			e->u.x.n = (uint16_t)k;
		}
	}
	for (size_t i = 0; i < m->n; i++)
		if (m->items[i].arr) /* prepared for a union that fit inline */
			cxm__free(dst, m->items[i].arr, sizeof(gov_rec) * m->items[i].cap);
	unlock_all(gd);
	cxm__free(dst, m->items, sizeof(gm_item) * m->cap);
	cxm__free(dst, m, sizeof *m);
}
