/* The survey governor: surveys, the rules across them, and each invited
 * customer's recent invitations and responses.
 *
 * Customers are kept by keyed hash in 64 stripes, each an open-addressing
 * table (linear probing, at most 80 % full, doubled when fuller) under its
 * own lock; an entry points to its records, 8 bytes each (the second, the
 * survey, invited or answered). An answer reads one entry under its
 * stripe's lock; recording prunes what no rule reaches any more. Surveys
 * are appended under the definition lock and published with a release
 * store; the rules across surveys are replaced under a sequence lock.
 * Snapshots and merges of this state are governor_io.c's. */
#include "governor.h"

#include <math.h>
#include <string.h>

void cxm__governor_free(cxm_context *ctx)
{
	gov_mod *g = atomic_load_explicit(&ctx->governor, memory_order_acquire);
	if (!g)
		return;
	for (uint32_t i = 0; i < atomic_load(&g->n_surveys); i++)
		cxm__strfree(ctx, g->surveys[i].name);
	for (int i = 0; i < GOV_STRIPES; i++) {
		gov_stripe *s = &g->stripes[i];
		for (uint32_t j = 0; j < s->cap; j++)
			entry_release(ctx, &s->slots[j]);
		if (s->slots) {
			cxm__wipe(s->slots, sizeof(gov_entry) * s->cap);
			cxm__free(ctx, s->slots, sizeof(gov_entry) * s->cap);
		}
		pthread_mutex_destroy(&s->lock);
	}
	cxm__free(ctx, g, sizeof *g);
	atomic_store_explicit(&ctx->governor, NULL, memory_order_release);
}

/* The module, made on first use (under def_lock). */
static gov_mod *mod_make(cxm_context *ctx)
{
	gov_mod *g = atomic_load_explicit(&ctx->governor, memory_order_acquire);
	if (g)
		return g;
	g = cxm__calloc(ctx, 1, sizeof *g);
	if (!g)
		return NULL;
	for (int i = 0; i < GOV_STRIPES; i++)
		cxm__mutex_init(&g->stripes[i].lock);
	atomic_store_explicit(&ctx->governor, g, memory_order_release);
	return g;
}

/* ---- definitions -------------------------------------------------------------- */

cxm_status cxm_survey_def_init(cxm_survey_def *def, size_t size)
{
	return cxm__init_struct(def, size, sizeof(cxm_survey_def), "cxm_survey_def", "def");
}

cxm_status cxm_governor_rules_init(cxm_governor_rules *rules, size_t size)
{
	return cxm__init_struct(rules, size, sizeof(cxm_governor_rules), "cxm_governor_rules", "rules");
}

/* The cool-downs and the cap shared by both structs. */
static cxm_status check_common(cxm_context *ctx, const char *what, int64_t inv, int64_t resp,
			       uint32_t max, int64_t window)
{
	if (inv < 0 || inv > CXM_TIME_MAX || resp < 0 || resp > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "%s: an interval is outside 0 .. CXM_TIME_MAX",
				 what);
	if (max > CXM_SURVEY_MAX_CAP)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "%s: max_invites %u is above %u", what, max,
				 CXM_SURVEY_MAX_CAP);
	if (window < 0 || window > CXM_TIME_MAX || (max && !window) || (!max && window))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
				 "%s: max_invites %u with invites_window_ms %lld: a cap needs both, "
				 "the window in 1 .. CXM_TIME_MAX",
				 what, max, (long long)window);
	return CXM_OK;
}

static cxm_status check_survey(cxm_context *ctx, const cxm_survey_def *d)
{
	cxm_status st = cxm__check_struct(ctx, d, sizeof(cxm_survey_def), sizeof(cxm_survey_def),
					  "cxm_survey_def");
	if (st)
		return st;
	if (d->reserved0 || d->reserved[0] || d->reserved[1] || d->reserved[2] || d->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_survey_def.reserved must be zero");
	if ((st = check_common(ctx, "cxm_survey_def", d->min_since_invite_ms, d->min_since_response_ms,
			       d->max_invites, d->invites_window_ms)))
		return st;
	if (isnan(d->sample_rate))
		return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "sample_rate is NaN");
	if (!(d->sample_rate >= 0 && d->sample_rate <= 1))
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "sample_rate %s is outside [0, 1]",
				 cxm__num(d->sample_rate).s);
	return cxm__check_scope(ctx, d->scope, d->id, d->step);
}

/* FNV-1a of the name, then mixed: a survey's salt is the same in every
 * context, so that sampling decides alike wherever the key is the same. */
static uint64_t salt_of(const char *name)
{
	uint64_t x = UINT64_C(0xcbf29ce484222325);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		x = (x ^ *p) * UINT64_C(0x100000001b3);
	return x;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

cxm_status cxm_survey_define(cxm_id *out, cxm_context *ctx, const char *name, const cxm_survey_def *def)
{
	if (!out || !ctx || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	cxm_status st = cxm__check_name(ctx, name, "survey");
	if (st || (st = check_survey(ctx, def)))
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	const bool fresh = !atomic_load_explicit(&ctx->governor, memory_order_acquire);
	gov_mod *g = mod_make(ctx);
	uint32_t n = g ? atomic_load_explicit(&g->n_surveys, memory_order_relaxed) : 0;
	if (!g) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the survey governor failed");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(g->surveys[i].name, name)) {
			st = cxm__fail(ctx, CXM_ERR_EXISTS, "survey '%s' is defined already", name);
			goto out;
		}
	if (n >= CXM_MAX_SURVEYS) {
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "%u surveys are defined", CXM_MAX_SURVEYS);
		goto out;
	}
	survey *s = &g->surveys[n];
	if (!(s->name = cxm__strdup(ctx, name))) {
		if (fresh) /* made for this survey: nothing is left of the call */
			cxm__governor_free(ctx);
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating survey '%s' failed", name);
		goto out;
	}
	s->def = *def;
	s->def.size = sizeof(cxm_survey_def);
	s->salt = salt_of(name);
	atomic_store_explicit(&g->n_surveys, n + 1, memory_order_release);
	*out = n;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

cxm_status cxm_survey_find(cxm_id *out, const cxm_context *ctx, const char *name)
{
	if (!out || !ctx || !name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "name");
	gov_mod *g = atomic_load_explicit(&((cxm_context *)ctx)->governor, memory_order_acquire);
	uint32_t n = g ? atomic_load_explicit(&g->n_surveys, memory_order_acquire) : 0;
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(g->surveys[i].name, name)) {
			*out = i;
			return CXM_OK;
		}
	return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "no survey is named '%s'", name);
}

cxm_status cxm_survey_name(const char **out, const cxm_context *ctx, cxm_id survey_id)
{
	if (!out || !ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	gov_mod *g = atomic_load_explicit(&((cxm_context *)ctx)->governor, memory_order_acquire);
	if (!g || survey_id >= atomic_load_explicit(&g->n_surveys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "survey %u is not defined", survey_id);
	*out = g->surveys[survey_id].name;
	return CXM_OK;
}

cxm_status cxm_governor_set(cxm_context *ctx, const cxm_governor_rules *rules)
{
	if (!ctx || !rules)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "rules");
	cxm_status st = cxm__check_struct(ctx, rules, sizeof(cxm_governor_rules),
					  sizeof(cxm_governor_rules), "cxm_governor_rules");
	if (st)
		return st;
	if (rules->reserved0 || rules->reserved[0] || rules->reserved[1] || rules->reserved[2] ||
	    rules->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_governor_rules.reserved must be zero");
	if ((st = check_common(ctx, "cxm_governor_rules", rules->min_since_invite_ms,
			       rules->min_since_response_ms, rules->max_invites, rules->invites_window_ms)))
		return st;
	pthread_mutex_lock(&ctx->def_lock);
	gov_mod *g = mod_make(ctx);
	if (g) {
		uint32_t q = atomic_load_explicit(&g->seq, memory_order_relaxed);
		atomic_store_explicit(&g->seq, q + 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_release);
		atomic_store_explicit(&g->r_inv, rules->min_since_invite_ms, memory_order_relaxed);
		atomic_store_explicit(&g->r_resp, rules->min_since_response_ms, memory_order_relaxed);
		atomic_store_explicit(&g->r_win, rules->invites_window_ms, memory_order_relaxed);
		atomic_store_explicit(&g->r_max, rules->max_invites, memory_order_relaxed);
		atomic_store_explicit(&g->seq, q + 2, memory_order_release);
	}
	pthread_mutex_unlock(&ctx->def_lock);
	if (!g)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating the survey governor failed");
	return CXM_OK;
}

/* The rules across surveys, whole. */
cxm_governor_rules cxm__gov_rules_of(gov_mod *g)
{
	cxm_governor_rules r;
	memset(&r, 0, sizeof r);
	for (;;) {
		uint32_t a = atomic_load_explicit(&g->seq, memory_order_acquire);
		r.min_since_invite_ms = atomic_load_explicit(&g->r_inv, memory_order_relaxed);
		r.min_since_response_ms = atomic_load_explicit(&g->r_resp, memory_order_relaxed);
		r.invites_window_ms = atomic_load_explicit(&g->r_win, memory_order_relaxed);
		r.max_invites = atomic_load_explicit(&g->r_max, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (!(a & 1) && atomic_load_explicit(&g->seq, memory_order_relaxed) == a)
			return r;
	}
}

/* ---- the table of customers ---------------------------------------------------- */


/* A hash's home slot in a table of cap slots (any cap: multiply and
 * shift, so that a table grows by half rather than doubling). */


/* The slot of h in locked stripe s, or -1. */
int64_t cxm__gov_find(const gov_stripe *s, const uint64_t h[2])
{
	if (!s->cap)
		return -1;
	for (uint32_t i = home_of(h[0], s->cap), k = 0; k < s->cap; i = next(i, s->cap), k++) {
		const gov_entry *e = &s->slots[i];
		if (e->h[0] == h[0] && e->h[1] == h[1])
			return i;
		if (!e->h[0] && !e->h[1])
			return -1;
	}
	return -1;
}

void cxm__gov_place(gov_entry *slots, uint32_t cap, const gov_entry *e)
{
	for (uint32_t i = home_of(e->h[0], cap);; i = next(i, cap))
		if (!slots[i].h[0] && !slots[i].h[1]) {
			slots[i] = *e;
			return;
		}
}

/* Room for one more entry in locked stripe s: at most 7/8 full, grown by
 * half (a full table averages about 70 %: 46 bytes a customer). */
bool cxm__gov_grow(cxm_context *ctx, gov_stripe *s)
{
	if ((uint64_t)(s->count + 1) * 8 <= (uint64_t)s->cap * 7)
		return true;
	uint32_t cap = s->cap ? s->cap + s->cap / 2 : 16;
	gov_entry *n = cxm__calloc(ctx, cap, sizeof *n);
	if (!n)
		return false;
	for (uint32_t i = 0; i < s->cap; i++)
		if (s->slots[i].h[0] || s->slots[i].h[1])
			cxm__gov_place(n, cap, &s->slots[i]);
	if (s->slots) {
		cxm__wipe(s->slots, sizeof(gov_entry) * s->cap);
		cxm__free(ctx, s->slots, sizeof(gov_entry) * s->cap);
	}
	s->slots = n;
	s->cap = cap;
	return true;
}

/* Take slot i of locked stripe s out, moving later entries of its run
 * back so that every entry stays reachable from its home. */
static void remove_at(cxm_context *ctx, gov_stripe *s, uint32_t i)
{
	const uint32_t cap = s->cap;
	gov_entry *e = &s->slots[i];
	entry_release(ctx, e);
	memset(e, 0, sizeof *e);
	for (uint32_t j = next(i, cap);; j = next(j, cap)) {
		gov_entry *f = &s->slots[j];
		if (!f->h[0] && !f->h[1])
			break;
		uint32_t home = home_of(f->h[0], cap);
		/* f may move to i if i lies on its way from home to j */
		uint32_t from_home = j >= home ? j - home : j + cap - home;
		uint32_t from_i = j >= i ? j - i : j + cap - i;
		if (from_home >= from_i) {
			s->slots[i] = *f;
			memset(f, 0, sizeof *f);
			i = j;
		}
	}
	s->count--;
}

bool cxm__governor_forget(cxm_context *ctx, const uint64_t h[2])
{
	gov_mod *g = atomic_load_explicit(&ctx->governor, memory_order_acquire);
	if (!g)
		return false;
	gov_stripe *s = stripe_of(g, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = cxm__gov_find(s, h);
	if (at >= 0) {
		remove_at(ctx, s, (uint32_t)at);
		atomic_fetch_sub_explicit(&g->count, 1, memory_order_relaxed);
	}
	pthread_mutex_unlock(&s->lock);
	return at >= 0;
}

/* ---- answers ------------------------------------------------------------------- */

static bool tp_in(const cxm_context *ctx, const cxm_survey_def *d, cxm_id tp)
{
	return cxm__tp_in_scope(ctx, tp, d->scope, d->id, d->step);
}

/* Whether the customer of hash h is in survey s's sample. */
static bool sampled(const survey *s, const uint64_t h[2])
{
	double rate = s->def.sample_rate;
	if (rate == 0 || rate >= 1)
		return true;
	double u = (double)(mix64(h[0] ^ mix64(h[1] ^ s->salt)) >> 11) * 0x1.0p-53;
	return u < rate;
}

/* One set of rules (a survey's, or those across surveys) against the
 * records of one survey (sv), or of all (sv < 0), at second now. Returns
 * 0 (no objection), 1 (responded), 2 (invited) or 3 (cap), with *until_s
 * when that ends. */
static int judge(const gov_entry *e, int sv, int64_t now, int64_t inv_ms, int64_t resp_ms,
		 uint32_t max, int64_t win_ms, int64_t *until_s)
{
	if (!e)
		return 0;
	int64_t last_inv = -1, last_resp = -1;
	uint16_t n;
	const gov_rec *recs = recs_of(e, &n);
	for (uint16_t i = 0; i < n; i++) {
		const gov_rec *r = &recs[i];
		if (sv >= 0 && r->survey != sv)
			continue;
		if (r->kind == CXM_SURVEY_RESPONDED && (int64_t)r->t > last_resp)
			last_resp = r->t;
		if (r->kind == CXM_SURVEY_INVITED && (int64_t)r->t > last_inv)
			last_inv = r->t;
	}
	if (resp_ms && last_resp >= 0 && now - last_resp < iv_s(resp_ms)) {
		*until_s = last_resp + iv_s(resp_ms);
		return 1;
	}
	if (inv_ms && last_inv >= 0 && now - last_inv < iv_s(inv_ms)) {
		*until_s = last_inv + iv_s(inv_ms);
		return 2;
	}
	if (max) {
		/* invitations in (now - w, now]: at max of them, the present one
		 * is one too many until the max-th newest leaves the window */
		const int64_t w = iv_s(win_ms);
		int64_t newest[CXM_SURVEY_MAX_CAP]; /* the newest max, newest first */
		uint32_t in = 0;
		for (uint16_t i = 0; i < n; i++) {
			const gov_rec *r = &recs[i];
			const int64_t t = r->t;
			if ((sv >= 0 && r->survey != sv) || r->kind != CXM_SURVEY_INVITED || t <= now - w ||
			    t > now)
				continue;
			uint32_t k = in < max ? in++ : max;
			for (; k > 0 && newest[k - 1] < t; k--)
				if (k < max)
					newest[k] = newest[k - 1];
			if (k < max)
				newest[k] = t;
		}
		if (in >= max) {
			*until_s = newest[max - 1] + w;
			return 3;
		}
	}
	return 0;
}

static cxm_status gov_args(cxm_context *ctx, gov_mod **g_out, cxm_id survey_id, int64_t time_ms)
{
	gov_mod *g = atomic_load_explicit(&ctx->governor, memory_order_acquire);
	if (!g || survey_id >= atomic_load_explicit(&g->n_surveys, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "survey %u is not defined", survey_id);
	if (time_ms < 0 || time_ms > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "time %lld ms is outside 0 .. CXM_TIME_MAX",
				 (long long)time_ms);
	*g_out = g;
	return CXM_OK;
}

cxm_status cxm_survey_should_ask(cxm_ask *out, int64_t *until_ms, cxm_context *ctx, cxm_id survey_id,
				 const void *id, size_t len, cxm_id tp, int64_t time_ms)
{
	if (!out || !ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	gov_mod *g = NULL;
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st || (st = gov_args(ctx, &g, survey_id, time_ms)))
		return st;
	if (tp >= atomic_load_explicit(&ctx->model.n_touchpoints, memory_order_acquire))
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "touchpoint %u is not defined", tp);
	const survey *sv = &g->surveys[survey_id];
	cxm_ask a = CXM_ASK;
	int64_t until = -1;
	if (!tp_in(ctx, &sv->def, tp)) {
		a = CXM_SKIP_NOT_ELIGIBLE;
	} else {
		uint64_t h[2];
		cxm__customer_hash(ctx, id, len, h);
		if (!sampled(sv, h)) {
			a = CXM_SKIP_SAMPLED_OUT;
		} else {
			const cxm_governor_rules all = cxm__gov_rules_of(g);
			const int64_t now = cxm__cust_s(time_ms);
			gov_stripe *s = stripe_of(g, h);
			pthread_mutex_lock(&s->lock);
			int64_t at = cxm__gov_find(s, h);
			const gov_entry *e = at >= 0 ? &s->slots[at] : NULL;
			int64_t u = 0;
			const cxm_survey_def *d = &sv->def;
			int why = judge(e, (int)survey_id, now, d->min_since_invite_ms,
					d->min_since_response_ms, d->max_invites, d->invites_window_ms, &u);
			if (why) {
				a = why == 1 ? CXM_SKIP_SURVEY_RESPONDED
					     : why == 2 ? CXM_SKIP_SURVEY_INVITED : CXM_SKIP_SURVEY_CAP;
			} else if ((why = judge(e, -1, now, all.min_since_invite_ms, all.min_since_response_ms,
						all.max_invites, all.invites_window_ms, &u))) {
				a = why == 1 ? CXM_SKIP_RESPONDED : why == 2 ? CXM_SKIP_INVITED : CXM_SKIP_CAP;
			}
			pthread_mutex_unlock(&s->lock);
			if (why)
				until = to_ms(u);
		}
		cxm__wipe(h, sizeof h);
	}
	*out = a;
	if (until_ms)
		*until_ms = until;
	return CXM_OK;
}

/* The oldest second any rule still reaches back to from now. */
static int64_t horizon(gov_mod *g, const cxm_governor_rules *all)
{
	int64_t h = 0;
	const int64_t a[3] = {all->min_since_invite_ms, all->min_since_response_ms, all->invites_window_ms};
	for (int i = 0; i < 3; i++)
		if (iv_s(a[i]) > h)
			h = iv_s(a[i]);
	uint32_t n = atomic_load_explicit(&g->n_surveys, memory_order_acquire);
	for (uint32_t k = 0; k < n; k++) {
		const cxm_survey_def *d = &g->surveys[k].def;
		const int64_t b[3] = {d->min_since_invite_ms, d->min_since_response_ms, d->invites_window_ms};
		for (int i = 0; i < 3; i++)
			if (iv_s(b[i]) > h)
				h = iv_s(b[i]);
	}
	return h;
}

/* Whether record r is still reached by some rule at second now. */
static inline bool kept(const gov_rec *r, int64_t now, int64_t reach)
{
	return (int64_t)r->t > now - reach || (int64_t)r->t > now;
}

/* Add record a to entry e (locked), dropping first what no rule reaches
 * (and past GOV_MAX_RECS the oldest). Two records stay inline; a third
 * moves them to an array, which goes back inline when pruning leaves two
 * or fewer. NO_MEMORY leaves e holding what it held, pruned. */
static cxm_status append(cxm_context *ctx, gov_entry *e, int64_t now, int64_t reach, gov_rec a)
{
	gov_rec keep[2];
	uint16_t n = 0;
	if (!is_ext(e)) {
		for (int i = 0; i < 2; i++)
			if (e->u.inl[i].kind && kept(&e->u.inl[i], now, reach))
				keep[n++] = e->u.inl[i];
		if (n < 2) {
			memset(&e->u, 0, sizeof e->u);
			for (uint16_t i = 0; i < n; i++)
				e->u.inl[i] = keep[i];
			e->u.inl[n] = a;
			return CXM_OK;
		}
		gov_rec *arr = cxm__alloc(ctx, sizeof(gov_rec) * 4);
		if (!arr) {
			memset(&e->u, 0, sizeof e->u);
			e->u.inl[0] = keep[0];
			e->u.inl[1] = keep[1];
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a customer's survey record");
		}
		arr[0] = keep[0];
		arr[1] = keep[1];
		arr[2] = a;
		memset(&e->u, 0, sizeof e->u);
		e->u.x = (gov_ext){arr, 3, 4, {0, 0, 0}, EXT};
		return CXM_OK;
	}
	gov_ext *x = &e->u.x;
	uint16_t k = 0;
	for (uint16_t i = 0; i < x->n; i++)
		if (kept(&x->recs[i], now, reach))
			x->recs[k++] = x->recs[i];
	x->n = k;
	if (x->n <= 1) { /* back inline */
		gov_rec first = x->recs[0];
		uint16_t m = x->n;
		entry_release(ctx, e);
		memset(&e->u, 0, sizeof e->u);
		if (m)
			e->u.inl[0] = first;
		e->u.inl[m] = a;
		return CXM_OK;
	}
	if (x->n == GOV_MAX_RECS) {
		uint16_t old = 0;
		for (uint16_t i = 1; i < x->n; i++)
			if (x->recs[i].t < x->recs[old].t)
				old = i;
		x->recs[old] = x->recs[--x->n];
	}
	if (x->n == x->cap) {
		uint16_t cap = (uint16_t)(x->cap * 2 > GOV_MAX_RECS ? GOV_MAX_RECS : x->cap * 2);
		gov_rec *arr = cxm__alloc(ctx, sizeof(gov_rec) * cap);
		if (!arr)
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a customer's survey record");
		memcpy(arr, x->recs, sizeof(gov_rec) * x->n);
		cxm__free(ctx, x->recs, sizeof(gov_rec) * x->cap);
		x->recs = arr;
		x->cap = cap;
	}
	x->recs[x->n++] = a;
	return CXM_OK;
}

cxm_status cxm_survey_record(cxm_context *ctx, cxm_id survey_id, const void *id, size_t len,
			     cxm_survey_event what, int64_t time_ms)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	gov_mod *g = NULL;
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st || (st = gov_args(ctx, &g, survey_id, time_ms)))
		return st;
	if (what != CXM_SURVEY_INVITED && what != CXM_SURVEY_RESPONDED)
		return cxm__fail(ctx, CXM_ERR_INVALID, "what %d is not a cxm_survey_event", (int)what);
	const cxm_governor_rules all = cxm__gov_rules_of(g);
	const int64_t now = cxm__cust_s(time_ms), reach = horizon(g, &all);
	uint64_t h[2];
	cxm__customer_hash(ctx, id, len, h);
	gov_stripe *s = stripe_of(g, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = cxm__gov_find(s, h);
	gov_entry *e = at >= 0 ? &s->slots[at] : NULL;
	if (!e) {
		if (atomic_fetch_add_explicit(&g->count, 1, memory_order_relaxed) >= ctx->max_customers) {
			atomic_fetch_sub_explicit(&g->count, 1, memory_order_relaxed);
			st = cxm__fail(ctx, CXM_ERR_LIMIT, "the governor keeps max_customers (%u) customers",
				       ctx->max_customers);
			goto out;
		}
		if (!cxm__gov_grow(ctx, s)) {
			atomic_fetch_sub_explicit(&g->count, 1, memory_order_relaxed);
			st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a customer's survey record");
			goto out;
		}
		gov_entry fresh;
		memset(&fresh, 0, sizeof fresh);
		fresh.h[0] = h[0];
		fresh.h[1] = h[1];
		cxm__gov_place(s->slots, s->cap, &fresh);
		s->count++;
		e = &s->slots[cxm__gov_find(s, h)];
	}
	const gov_rec add = {(uint32_t)now, (uint16_t)survey_id, (uint8_t)what, 0};
	st = append(ctx, e, now, reach, add);
out:
	pthread_mutex_unlock(&s->lock);
	cxm__wipe(h, sizeof h);
	return st;
}

