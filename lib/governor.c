/* The survey governor: surveys, the rules across them, and each invited
 * customer's recent invitations and responses.
 *
 * Customers are kept by keyed hash in 64 stripes, each an open-addressing
 * table (linear probing, at most 80 % full, doubled when fuller) under its
 * own lock; an entry points to its records, 8 bytes each (the second, the
 * survey, invited or answered). An answer reads one entry under its
 * stripe's lock; recording prunes what no rule reaches any more. Surveys
 * are appended under the definition lock and published with a release
 * store; the rules across surveys are replaced under a sequence lock. */
#include "cxm_internal.h"

#include <math.h>
#include <string.h>

#define GOV_STRIPES 64
#define GOV_MAX_RECS 1024 /* records one customer keeps, at most */
#define CORRUPT(ctx, ...) cxm__fail((ctx), CXM_ERR_CORRUPT, "snapshot: " __VA_ARGS__)

typedef struct gov_rec {
	uint32_t t;      /* seconds since CUST_BASE_S */
	uint16_t survey;
	uint8_t kind;    /* cxm_survey_event */
	uint8_t zero;
} gov_rec;

/* More than two records: in an array of their own. */
typedef struct gov_ext {
	gov_rec *recs;
	uint16_t n, cap;
	uint8_t pad[3];
	uint8_t ext; /* EXT; the byte of inl[1].zero, 0 inline */
} gov_ext;

/* Up to two records inline (kind 0: unused; inl[0] fills first), so that
 * an answer for most customers reads one cache line. */
typedef struct gov_entry {
	uint64_t h[2]; /* 0, 0: empty */
	union {
		gov_rec inl[2];
		gov_ext x;
	} u;
} gov_entry;

#define EXT 0xFF

static inline bool is_ext(const gov_entry *e)
{
	return e->u.x.ext == EXT;
}

static inline const gov_rec *recs_of(const gov_entry *e, uint16_t *n)
{
	if (is_ext(e)) {
		*n = e->u.x.n;
		return e->u.x.recs;
	}
	*n = (uint16_t)((e->u.inl[0].kind != 0) + (e->u.inl[1].kind != 0));
	return e->u.inl;
}

static void entry_release(cxm_context *ctx, gov_entry *e)
{
	if (is_ext(e)) {
		cxm__wipe(e->u.x.recs, sizeof(gov_rec) * e->u.x.cap);
		cxm__free(ctx, e->u.x.recs, sizeof(gov_rec) * e->u.x.cap);
	}
}

typedef struct gov_stripe {
	pthread_mutex_t lock;
	gov_entry *slots;
	uint32_t cap, count;
} gov_stripe;

typedef struct survey {
	char *name;
	cxm_survey_def def;
	uint64_t salt; /* from the name: the sampling's draw */
} survey;

struct gov_mod {
	survey surveys[CXM_MAX_SURVEYS];
	_Atomic uint32_t n_surveys;
	/* the rules across surveys, under a sequence lock: a writer (under
	 * def_lock) makes seq odd, writes, makes it even; a reader retries
	 * while it changed or was odd, so it never sees half a replacement */
	_Atomic uint32_t seq;
	_Atomic int64_t r_inv, r_resp, r_win;
	_Atomic uint32_t r_max;
	_Atomic uint64_t count; /* customers kept */
	gov_stripe stripes[GOV_STRIPES];
};

static int64_t to_ms(int64_t s)
{
	return (s + CUST_BASE_S) * 1000;
}

/* An interval in whole seconds, rounded up. */
static int64_t iv_s(int64_t ms)
{
	return (ms + 999) / 1000;
}

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
static cxm_governor_rules rules_of(gov_mod *g)
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

static inline gov_stripe *stripe_of(gov_mod *g, const uint64_t h[2])
{
	return &g->stripes[h[1] >> 58];
}

/* A hash's home slot in a table of cap slots (any cap: multiply and
 * shift, so that a table grows by half rather than doubling). */
static inline uint32_t home_of(uint64_t h0, uint32_t cap)
{
	return (uint32_t)(((h0 >> 32) * (uint64_t)cap) >> 32);
}

static inline uint32_t next(uint32_t i, uint32_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

/* The slot of h in locked stripe s, or -1. */
static int64_t find(const gov_stripe *s, const uint64_t h[2])
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

static void place(gov_entry *slots, uint32_t cap, const gov_entry *e)
{
	for (uint32_t i = home_of(e->h[0], cap);; i = next(i, cap))
		if (!slots[i].h[0] && !slots[i].h[1]) {
			slots[i] = *e;
			return;
		}
}

/* Room for one more entry in locked stripe s: at most 7/8 full, grown by
 * half (a full table averages about 70 %: 46 bytes a customer). */
static bool grow(cxm_context *ctx, gov_stripe *s)
{
	if ((uint64_t)(s->count + 1) * 8 <= (uint64_t)s->cap * 7)
		return true;
	uint32_t cap = s->cap ? s->cap + s->cap / 2 : 16;
	gov_entry *n = cxm__calloc(ctx, cap, sizeof *n);
	if (!n)
		return false;
	for (uint32_t i = 0; i < s->cap; i++)
		if (s->slots[i].h[0] || s->slots[i].h[1])
			place(n, cap, &s->slots[i]);
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
	int64_t at = find(s, h);
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
			const cxm_governor_rules all = rules_of(g);
			const int64_t now = cxm__cust_s(time_ms);
			gov_stripe *s = stripe_of(g, h);
			pthread_mutex_lock(&s->lock);
			int64_t at = find(s, h);
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
	const cxm_governor_rules all = rules_of(g);
	const int64_t now = cxm__cust_s(time_ms), reach = horizon(g, &all);
	uint64_t h[2];
	cxm__customer_hash(ctx, id, len, h);
	gov_stripe *s = stripe_of(g, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = find(s, h);
	gov_entry *e = at >= 0 ? &s->slots[at] : NULL;
	if (!e) {
		if (atomic_fetch_add_explicit(&g->count, 1, memory_order_relaxed) >= ctx->max_customers) {
			atomic_fetch_sub_explicit(&g->count, 1, memory_order_relaxed);
			st = cxm__fail(ctx, CXM_ERR_LIMIT, "the governor keeps max_customers (%u) customers",
				       ctx->max_customers);
			goto out;
		}
		if (!grow(ctx, s)) {
			atomic_fetch_sub_explicit(&g->count, 1, memory_order_relaxed);
			st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory for a customer's survey record");
			goto out;
		}
		gov_entry fresh;
		memset(&fresh, 0, sizeof fresh);
		fresh.h[0] = h[0];
		fresh.h[1] = h[1];
		place(s->slots, s->cap, &fresh);
		s->count++;
		e = &s->slots[find(s, h)];
	}
	const gov_rec add = {(uint32_t)now, (uint16_t)survey_id, (uint8_t)what, 0};
	st = append(ctx, e, now, reach, add);
out:
	pthread_mutex_unlock(&s->lock);
	cxm__wipe(h, sizeof h);
	return st;
}

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
	const cxm_governor_rules r = rules_of(g);
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
	if (!grow(ctx, s)) {
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
	place(s->slots, s->cap, &e);
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
			if (find(s, h) >= 0)
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
			int64_t at = find(s, e->h);
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
				place(m->table[i], m->table_cap[i], &s->slots[j]);
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
		uint16_t na = mapped(m, &ss->slots[find(ss, it->h)], m->a);
		gov_stripe *s = stripe_of(gd, it->h);
		if (!it->exists) {
			gov_entry e;
			memset(&e, 0, sizeof e);
			e.h[0] = it->h[0];
			e.h[1] = it->h[1];
			place(s->slots, s->cap, &e);
			s->count++;
			atomic_fetch_add_explicit(&gd->count, 1, memory_order_relaxed);
		}
		gov_entry *e = &s->slots[find(s, it->h)];
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
