/* Customers: the keyed hash under which customer ids are known, and the
 * table of the customers a context tracks.
 *
 * Customer ids are personal data; the library keeps only SipHash-2-4
 * digests under a per-context key, so nothing it stores or exports can be
 * turned back into an id, and two contexts compare digests only when their
 * owner gave them the same key. */
#include "cxm_internal.h"

#include <math.h>
#include <sys/random.h>
#include <time.h>

void cxm__customer_key(cxm_context *ctx, const uint8_t key[16])
{
	bool zero = true;
	for (int i = 0; i < 16; i++)
		zero = zero && key[i] == 0;
	if (!zero) {
		ctx->key[0] = cxm__le64(key);
		ctx->key[1] = cxm__le64(key + 8);
		return;
	}
	unsigned char r[16];
	if (getrandom(r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r) {
		ctx->key[0] = cxm__le64(r);
		ctx->key[1] = cxm__le64(r + 8);
		return;
	}
	/* no entropy yet (early boot): still unpredictable enough across
	 * contexts for a hash table key; document-level promise is "random" */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t seed[2] = {(uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30), (uintptr_t)ctx};
	uint64_t out[2];
	cxm__siphash(seed, &ts, sizeof ts, 16, out);
	ctx->key[0] = out[0];
	ctx->key[1] = out[1];
}

/* ---- the customer table --------------------------------------------------------
 *
 * 64 independent stripes, each a mutex and an open-addressing array with
 * linear probing (not rounded to a power of two: the position is a
 * multiply-shift of the hash, so the table costs what the limit says and no
 * more). Removal shifts the following run back, so no tombstones
 * accumulate.
 *
 * max_customers is enforced on the whole table (t->count). Keyed hashes
 * spread ids over the stripes binomially, so a stripe is given room for its
 * share plus 7 standard deviations plus 8: the chance that some stripe
 * fills up while the table holds fewer than max_customers is below 1e-10
 * for any limit (and if it ever happens, the newcomer is treated as at the
 * limit within that stripe, and counted). Slots are 1.25 x the stripe's
 * room plus one, so a stripe is never full and every probe ends. */

#define EVICT_WINDOW 8
#define CUST_START_CAP 64u /* slots of a stripe before it grows */

void cxm__customer_geometry(uint32_t max_customers, uint32_t *stripe_max, uint32_t *cap)
{
	uint64_t max = max_customers ? max_customers : 1;
	if (max > CUST_MAX_CUSTOMERS)
		max = CUST_MAX_CUSTOMERS;
	uint64_t per = (max + CUST_STRIPES - 1) / CUST_STRIPES;
	uint64_t room = per + (uint64_t)ceil(7 * sqrt((double)per)) + 8;
	if (room > max)
		room = max;
	*stripe_max = (uint32_t)room;
	*cap = (uint32_t)(room + room / 4 + 1);
}

static inline uint32_t home_in(uint32_t cap, uint64_t k0)
{
	return (uint32_t)(((k0 & 0xffffffffu) * (uint64_t)cap) >> 32);
}

static inline uint32_t home_of(const cust_stripe *st, uint64_t k0)
{
	return home_in(st->cap, k0);
}

static inline bool slot_empty(const cust_entry *e)
{
	return e->k0 == 0 && e->k1 == 0;
}

static cxm_status table_init(cxm_context *ctx)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	if (t)
		return CXM_OK;
	pthread_mutex_lock(&ctx->def_lock);
	t = atomic_load_explicit(&ctx->customers, memory_order_relaxed);
	if (t) {
		pthread_mutex_unlock(&ctx->def_lock);
		return CXM_OK;
	}
	cxm_status st = CXM_ERR_NO_MEMORY;
	t = cxm__calloc(ctx, 1, sizeof *t);
	if (!t)
		goto out;
	atomic_init(&t->count, 0);
	uint32_t stripe_max, full_cap;
	cxm__customer_geometry(ctx->max_customers, &stripe_max, &full_cap);
	/* a stripe starts small and doubles as it fills (see grow()): the
	 * table costs what its customers need, not max_customers' worth */
	const uint32_t cap = full_cap < CUST_START_CAP ? full_cap : CUST_START_CAP;
	uint32_t i;
	for (i = 0; i < CUST_STRIPES; i++) {
		cust_stripe *s = &t->stripes[i];
		s->cap = cap;
		s->full_cap = full_cap;
		s->max = stripe_max;
		s->slots = cxm__calloc(ctx, cap, sizeof(cust_entry));
		atomic_init(&s->pf_slots, s->slots);
		atomic_init(&s->pf_cap, cap);
		if (!s->slots || cxm__mutex_init(&s->lock)) {
			cxm__free(ctx, s->slots, sizeof(cust_entry) * cap);
			break;
		}
	}
	if (i < CUST_STRIPES) {
		while (i--) {
			pthread_mutex_destroy(&t->stripes[i].lock);
			cxm__free(ctx, t->stripes[i].slots, sizeof(cust_entry) * cap);
		}
		cxm__free(ctx, t, sizeof *t);
		goto out;
	}
	atomic_store_explicit(&ctx->customers, t, memory_order_release);
	st = CXM_OK;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	if (st)
		return cxm__fail(ctx, st, "allocating the customer table (%u customers) failed",
				 ctx->max_customers);
	return CXM_OK;
}

void cxm__customers_free(cxm_context *ctx)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	if (!t)
		return;
	for (int i = 0; i < CUST_STRIPES; i++) {
		pthread_mutex_destroy(&t->stripes[i].lock);
		cxm__wipe(t->stripes[i].slots, sizeof(cust_entry) * t->stripes[i].cap);
		cxm__free(ctx, t->stripes[i].slots, sizeof(cust_entry) * t->stripes[i].cap);
	}
	cxm__free(ctx, t, sizeof *t);
}

static inline cust_stripe *stripe_of(cust_table *t, const uint64_t h[2])
{
	return &t->stripes[h[1] >> 58];
}

/* No entry lies more than PROBE_MAX slots after its home. With the table
 * at most 80 % full, a run that long among random digests has a
 * probability of about 1e-20 per slot, so the cap never bites in normal
 * use; when the key is known to an attacker who makes ids collide, it
 * bounds the work of every look-up, and the ids that would go past it are
 * handled as at the customer limit (evicted near their place or refused,
 * and counted). */
#define PROBE_MAX 2048u

static inline uint32_t probe_max(const cust_stripe *s)
{
	return s->cap < PROBE_MAX ? s->cap : PROBE_MAX;
}

/* The slot holding h, or -1. */
static int64_t find(const cust_stripe *s, const uint64_t h[2])
{
	uint32_t i = home_of(s, h[0]);
	for (uint32_t n = 0; n < probe_max(s); n++) {
		const cust_entry *e = &s->slots[i];
		if (slot_empty(e))
			return -1;
		if (e->k0 == h[0] && e->k1 == h[1])
			return i;
		i = i + 1 == s->cap ? 0 : i + 1;
	}
	return -1;
}

/* Remove slot i and shift back the entries of its run that may move. */
static void remove_at(cust_stripe *s, uint32_t i)
{
	uint32_t j = i;
	for (uint32_t n = 1; n < s->cap; n++) {
		j = j + 1 == s->cap ? 0 : j + 1;
		cust_entry *e = &s->slots[j];
		if (slot_empty(e))
			break;
		uint32_t k = home_of(s, e->k0);
		/* e may fill the hole at i unless its home lies cyclically in (i, j] */
		bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
		if (!stays) {
			s->slots[i] = *e;
			i = j;
		}
	}
	memset(&s->slots[i], 0, sizeof s->slots[i]);
	s->count--;
}

static uint32_t to_seconds(int64_t t_ms)
{
	int64_t s = t_ms / 1000 - CUST_BASE_S;
	return s < 0 ? 0u : s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Make room in locked stripe s for one new customer: reserve a place under
 * max_customers, or evict, or refuse (CXM_ERR_LIMIT, nothing changed). */
static cxm_status make_room(cxm_context *ctx, cust_table *t, cust_stripe *s, const uint64_t h[2])
{
	bool reserved = false;
	if (s->count < s->max) {
		if (atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed) < ctx->max_customers)
			reserved = true;
		else
			atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
	}
	if (reserved)
		return CXM_OK;
	if (ctx->customer_policy == CXM_CUSTOMERS_REFUSE) {
		s->refused++;
		return cxm__fail(ctx, CXM_ERR_LIMIT,
				 "the customer table is full (max_customers %u, policy REFUSE)",
				 ctx->max_customers);
	}
	if (s->count > 0) {
		/* evict the least recently seen near the new customer's place
		 * (or, if none is near, the first in the stripe) */
		uint32_t i = home_of(s, h[0]), victim = UINT32_MAX;
		for (uint32_t n = 0; n < EVICT_WINDOW; n++, i = i + 1 == s->cap ? 0 : i + 1)
			if (!slot_empty(&s->slots[i]) &&
			    (victim == UINT32_MAX || s->slots[i].last_s < s->slots[victim].last_s))
				victim = i;
		for (uint32_t k = 0; victim == UINT32_MAX && k < s->cap; k++)
			if (!slot_empty(&s->slots[k]))
				victim = k;
		cxm__signals_forget(ctx, (const uint64_t[2]){s->slots[victim].k0, s->slots[victim].k1});
		remove_at(s, victim);
		s->evicted++;
	} else {
		/* the table is full but this stripe is empty: nothing here to
		 * evict, so this one goes over (by at most one per stripe) */
		atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed);
	}
	return CXM_OK;
}

/* Whether h has an empty slot within PROBE_MAX of its home in locked s. */
static bool reachable(const cust_stripe *s, const uint64_t h[2])
{
	uint32_t i = home_of(s, h[0]);
	for (uint32_t n = 0; n < probe_max(s); n++) {
		if (slot_empty(&s->slots[i]))
			return true;
		i = i + 1 == s->cap ? 0 : i + 1;
	}
	return false;
}

/* A newcomer whose place would lie past PROBE_MAX (ids made to collide):
 * under EVICT it takes the place of the least recently seen of the
 * EVICT_WINDOW entries at its home (no hole is made, so every run stays
 * intact), under REFUSE it is refused; counted either way. Returns the
 * slot, or -1 with CXM_ERR_LIMIT set. */
static int64_t place_crowded(cxm_context *ctx, cust_stripe *s, const uint64_t h[2], cxm_status *st)
{
	if (ctx->customer_policy == CXM_CUSTOMERS_REFUSE) {
		s->refused++;
		*st = cxm__fail(ctx, CXM_ERR_LIMIT,
				"the customer's place in the table is past %u probes (colliding ids: "
				"is the customer key secret?); refused under policy REFUSE",
				PROBE_MAX);
		return -1;
	}
	uint32_t i = home_of(s, h[0]), victim = i;
	for (uint32_t n = 0; n < EVICT_WINDOW; n++, i = i + 1 == s->cap ? 0 : i + 1)
		if (s->slots[i].last_s < s->slots[victim].last_s)
			victim = i;
	cust_entry *e = &s->slots[victim];
	cxm__signals_forget(ctx, (const uint64_t[2]){e->k0, e->k1});
	memset(e, 0, sizeof *e);
	e->k0 = h[0];
	e->k1 = h[1];
	s->evicted++;
	*st = CXM_OK;
	return victim;
}

/* Insert h into locked stripe s, which has room (count < max < cap). */
static uint32_t insert(cust_stripe *s, const uint64_t h[2])
{
	uint32_t i = home_of(s, h[0]);
	for (uint32_t n = 1; n < s->cap && !slot_empty(&s->slots[i]); n++)
		i = i + 1 == s->cap ? 0 : i + 1;
	cust_entry *e = &s->slots[i];
	memset(e, 0, sizeof *e);
	e->k0 = h[0];
	e->k1 = h[1];
	s->count++;
	return i;
}

/* The slots locked stripe s needs to hold `more` entries beyond its count
 * under 80 % (at most full_cap): its cap, or a doubling of it. */
static uint32_t cap_for(const cust_stripe *s, uint64_t more)
{
	uint32_t c = s->cap;
	while (c < s->full_cap && (s->count + more) * 5 > (uint64_t)c * 4)
		c = c > s->full_cap / 2 ? s->full_cap : 2 * c;
	return c;
}

/* Move the entries of locked stripe s into ns (nc zeroed slots). */
static void rehash(cxm_context *ctx, cust_stripe *s, cust_entry *ns, uint32_t nc)
{
	cust_stripe g = *s;
	g.slots = ns;
	g.cap = nc;
	g.count = 0;
	for (uint32_t k = 0; k < s->cap; k++) {
		const cust_entry *e = &s->slots[k];
		if (slot_empty(e))
			continue;
		const uint64_t h[2] = {e->k0, e->k1};
		g.slots[insert(&g, h)] = *e;
	}
	cxm__wipe(s->slots, sizeof(cust_entry) * s->cap);
	cxm__free(ctx, s->slots, sizeof(cust_entry) * s->cap);
	s->slots = ns;
	s->cap = nc;
	atomic_store_explicit(&s->pf_slots, ns, memory_order_relaxed);
	atomic_store_explicit(&s->pf_cap, nc, memory_order_relaxed);
}

/* Room for one more entry in locked stripe s: below 80 % of its slots, or
 * the stripe doubles (up to full_cap, the size at max_customers) and every
 * entry moves to its place in the new array. The old array is wiped: it
 * holds digests. CXM_ERR_NO_MEMORY with nothing changed. */
static cxm_status grow(cxm_context *ctx, cust_stripe *s)
{
	uint32_t nc = cap_for(s, 1);
	if (nc == s->cap)
		return CXM_OK;
	cust_entry *ns = cxm__calloc(ctx, nc, sizeof(cust_entry));
	if (!ns)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "growing the customer table to %u slots failed",
				 nc);
	rehash(ctx, s, ns, nc);
	return CXM_OK;
}

/* A place for newcomer h in locked stripe s: the stripe grows if it must,
 * then h goes in under the limit's rules (make_room), or, when its run is
 * past PROBE_MAX, as place_crowded() says. The slot (a fresh entry), or -1
 * with *st set and nothing changed but what is counted. */
static int64_t place_new(cxm_context *ctx, cust_table *t, cust_stripe *s, const uint64_t h[2],
			 cxm_status *st)
{
	if ((*st = grow(ctx, s)))
		return -1;
	if (!reachable(s, h))
		return place_crowded(ctx, s, h, st);
	if ((*st = make_room(ctx, t, s, h)))
		return -1;
	return insert(s, h);
}

cxm_status cxm__customers_reserve(cxm_context *ctx, const unsigned char *recs, size_t n,
				  size_t stride, size_t k1_at)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	uint64_t more[CUST_STRIPES] = {0};
	for (size_t i = 0; i < n; i++) {
		uint64_t k1;
		memcpy(&k1, recs + i * stride + k1_at, 8);
		const uint64_t h[2] = {0, k1};
		more[stripe_of(t, h) - t->stripes]++;
	}
	cust_entry *ns[CUST_STRIPES] = {NULL};
	uint32_t nc[CUST_STRIPES] = {0};
	for (int i = 0; i < CUST_STRIPES; i++) {
		cust_stripe *s = &t->stripes[i];
		pthread_mutex_lock(&s->lock);
		nc[i] = cap_for(s, more[i]);
		bool need = nc[i] > s->cap;
		pthread_mutex_unlock(&s->lock);
		if (need && !(ns[i] = cxm__calloc(ctx, nc[i], sizeof(cust_entry)))) {
			while (i--)
				cxm__free(ctx, ns[i], sizeof(cust_entry) * nc[i]);
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "growing the customer table failed");
		}
	}
	for (int i = 0; i < CUST_STRIPES; i++) {
		if (!ns[i])
			continue;
		cust_stripe *s = &t->stripes[i];
		pthread_mutex_lock(&s->lock);
		if (nc[i] > s->cap) /* unless a feeder grew it meanwhile */
			rehash(ctx, s, ns[i], nc[i]);
		else
			cxm__free(ctx, ns[i], sizeof(cust_entry) * nc[i]);
		pthread_mutex_unlock(&s->lock);
	}
	return CXM_OK;
}

cxm_status cxm__customer_check(cxm_context *ctx, const uint64_t h[2], int64_t t_ms, cxm_id tp)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	cust_entry e;
	memset(&e, 0, sizeof e);
	if (!t)
		return cxm__journey_check(ctx, tp, t_ms, &e);
	cust_stripe *s = stripe_of(t, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = find(s, h);
	bool full = false;
	if (at >= 0)
		e = s->slots[at];
	else
		full = ctx->customer_policy == CXM_CUSTOMERS_REFUSE &&
		       (s->count >= s->max || !reachable(s, h) ||
			atomic_load_explicit(&t->count, memory_order_relaxed) >= ctx->max_customers);
	pthread_mutex_unlock(&s->lock);
	if (full)
		return cxm__fail(ctx, CXM_ERR_LIMIT,
				 "the customer table is full (max_customers %u, policy REFUSE)",
				 ctx->max_customers);
	cxm_status st = cxm__journey_check(ctx, tp, t_ms, &e);
	cxm__wipe(&e, sizeof e);
	return st;
}

void cxm__customer_prefetch(const cxm_context *ctx, const uint64_t h[2])
{
	cust_table *t = atomic_load_explicit(&((cxm_context *)ctx)->customers, memory_order_acquire);
	if (!t)
		return;
	cust_stripe *s = stripe_of(t, h);
	const cust_entry *slots = atomic_load_explicit(&s->pf_slots, memory_order_relaxed);
	const uint32_t cap = atomic_load_explicit(&s->pf_cap, memory_order_relaxed);
	if (slots && cap)
		__builtin_prefetch(&slots[home_in(cap, h[0])]);
}

cxm_status cxm__customer_seen(cxm_context *ctx, const uint64_t h[2], int64_t t_ms, cxm_id tp,
			      const uint32_t *slots, uint32_t n_slots, uint64_t failed)
{
	cxm_status st = table_init(ctx);
	if (st)
		return st;
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	cust_stripe *s = stripe_of(t, h);
	uint32_t secs = to_seconds(t_ms);
	jwork w;
	bool jt = cxm__journey_touch(ctx, tp, t_ms, slots, n_slots, &w);
	cust_entry e;
	pthread_mutex_lock(&s->lock);
	/* Each round that finds the funnel not ready prepares what the state
	 * it saw needs; groups, once published, stay. Another round is only
	 * needed when another thread moved this customer on meanwhile, so a
	 * handful of rounds always suffices: the bound turns a broken
	 * invariant into an error instead of a spin under the lock. */
	for (int round = 0;; round++) {
		if (round == 16) {
			st = cxm__fail(ctx, CXM_ERR_NO_MEMORY,
				       "journey state: the funnels this customer's step needs could "
				       "not be prepared");
			break;
		}
		int64_t at = find(s, h);
		if (at >= 0)
			e = s->slots[at];
		else
			memset(&e, 0, sizeof e);
		if (jt) {
			if ((st = cxm__journey_apply(ctx, &w, &e)))
				break;
			if (!cxm__journey_ready(ctx, &w)) {
				/* allocate what the funnel needs outside the lock,
				 * then look again: the customer may have moved on */
				pthread_mutex_unlock(&s->lock);
				st = cxm__journey_prepare(ctx, &w);
				if (st) {
					cxm__journey_release(ctx, &w);
					return st;
				}
				pthread_mutex_lock(&s->lock);
				continue;
			}
			/* the funnel's pages, while the feed can still be refused */
			if ((st = cxm__journey_reserve(ctx, &w)))
				break;
		}
		if (at < 0 && (at = place_new(ctx, t, s, h, &st)) < 0)
			break;
		cust_entry *d = &s->slots[at];
		if (jt) {
			d->journey = e.journey;
			d->step = e.step;
			d->flags = e.flags;
			d->inst_start_s = e.inst_start_s;
			d->step_off = e.step_off;
			/* the signals see the contact in the order the journey does
			 * (an interaction on no journey's step is no contact) */
			if (!w.foreign)
				cxm__signals_contact(ctx, h, &w, d, tp, failed);
		}
		d->flags &= (uint8_t)~JF_CHURNED; /* seen again: active */
		if (secs > d->last_s || d->last_s == 0)
			d->last_s = secs;
		break;
	}
	pthread_mutex_unlock(&s->lock);
	if (jt) {
		if (st == CXM_OK)
			cxm__journey_commit(ctx, &w);
		cxm__journey_release(ctx, &w);
	}
	cxm__wipe(&e, sizeof e);
	return st;
}

cxm_status cxm_customer_hash(uint64_t out[2], const cxm_context *ctx, const void *id, size_t len)
{
	if (ctx && !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "out is NULL");
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st)
		return st;
	cxm__customer_hash(ctx, id, len, out);
	return CXM_OK;
}

/* Validate the arguments, hash the id, lock its stripe and find it: on
 * CXM_OK *st_out is locked (the caller unlocks) and *at is its slot or -1. */
static cxm_status locate(cxm_context *ctx, const void *id, size_t len, cust_stripe **st_out,
			 int64_t *at)
{
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st)
		return st;
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	if (!t)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "that customer is not tracked");
	uint64_t h[2];
	cxm__customer_hash(ctx, id, len, h);
	cust_stripe *s = stripe_of(t, h);
	pthread_mutex_lock(&s->lock);
	*at = find(s, h);
	*st_out = s;
	cxm__wipe(h, sizeof h); /* nothing of a forgotten customer lingers */
	return CXM_OK;
}

cxm_status cxm_customer_last_seen(int64_t *out, cxm_context *ctx, const void *id, size_t len)
{
	if (ctx && !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "out is NULL");
	cust_stripe *s = NULL;
	int64_t at = -1;
	cxm_status st = locate(ctx, id, len, &s, &at);
	if (st)
		return st;
	int64_t secs = at >= 0 ? (int64_t)s->slots[at].last_s : -1;
	pthread_mutex_unlock(&s->lock);
	if (secs < 0)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "that customer is not tracked");
	*out = (secs + CUST_BASE_S) * 1000;
	return CXM_OK;
}

cxm_status cxm_customer_forget(cxm_context *ctx, const void *id, size_t len)
{
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st)
		return st;
	/* its survey history and driver values go too */
	uint64_t h[2];
	cxm__customer_hash(ctx, id, len, h);
	bool governed = cxm__governor_forget(ctx, h);
	governed = cxm__drivers_forget(ctx, h) || governed;
	cxm__signals_forget(ctx, h);
	cxm__wipe(h, sizeof h);
	cust_stripe *s = NULL;
	int64_t at = -1;
	st = locate(ctx, id, len, &s, &at);
	if (st == CXM_ERR_UNKNOWN_ID && governed)
		return CXM_OK;
	if (st)
		return st;
	if (at >= 0) {
		remove_at(s, (uint32_t)at);
		cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
		atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
		s->forgotten++;
	}
	pthread_mutex_unlock(&s->lock);
	if (at < 0 && !governed)
		return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "that customer is not tracked");
	return CXM_OK;
}

void cxm__customers_rewind(cxm_context *ctx, int64_t time_ms)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	if (!t)
		return;
	const uint32_t secs = to_seconds(time_ms);
	for (int i = 0; i < CUST_STRIPES; i++) {
		cust_stripe *s = &t->stripes[i];
		pthread_mutex_lock(&s->lock);
		for (uint32_t k = 0; k < s->cap; k++) {
			cust_entry *e = &s->slots[k];
			if (slot_empty(e))
				continue;
			if (e->last_s > secs)
				e->last_s = secs;
			if (cxm__journey_rewind_entry(e, time_ms))
				cxm__signals_forget(ctx, (const uint64_t[2]){e->k0, e->k1});
		}
		pthread_mutex_unlock(&s->lock);
	}
}

void cxm__customers_stats(cxm_context *ctx, cxm_stats *out)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	if (!t)
		return;
	out->customer_bytes = sizeof *t;
	for (int i = 0; i < CUST_STRIPES; i++) {
		cust_stripe *s = &t->stripes[i];
		pthread_mutex_lock(&s->lock);
		out->customer_bytes += (uint64_t)s->cap * sizeof(cust_entry);
		out->customers += s->count;
		out->customers_evicted += s->evicted;
		out->customers_refused += s->refused;
		out->customers_forgotten += s->forgotten;
		pthread_mutex_unlock(&s->lock);
	}
}

cxm_status cxm_customer_churn(cxm_context *ctx, const void *id, size_t len, int64_t time_ms)
{
	cxm_status st = cxm__check_customer_id(ctx, id, len);
	if (st)
		return st;
	if (time_ms < 0 || time_ms > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "time %lld ms is outside 0 .. CXM_TIME_MAX",
				 (long long)time_ms);
	int64_t now = cxm__now(ctx);
	if (time_ms - ctx->max_future_ms > now)
		return cxm__fail(ctx, CXM_ERR_TOO_EARLY, "time %lld ms is more than %lld ms after now",
				 (long long)time_ms, (long long)ctx->max_future_ms);
	const int64_t w0 = ctx->tiers[0].bucket_ms, n0 = ctx->tiers[0].buckets;
	int64_t wm = atomic_load_explicit(&ctx->wm_epoch, memory_order_acquire);
	if (wm != WATERMARK_NONE && time_ms / w0 <= wm - n0)
		return cxm__fail(ctx, CXM_ERR_TOO_LATE,
				 "time %lld ms is %lld or more buckets of %lld ms behind the watermark",
				 (long long)time_ms, (long long)n0, (long long)w0);
	struct jmod *mine;
	if ((st = cxm__churn_reserve(ctx, &mine, time_ms)))
		return st;
	if ((st = table_init(ctx))) {
		cxm__churn_release(ctx, &mine);
		return st;
	}
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	uint64_t h[2];
	cxm__customer_hash(ctx, id, len, h);
	cust_stripe *s = stripe_of(t, h);
	pthread_mutex_lock(&s->lock);
	int64_t at = find(s, h);
	if (at >= 0 && (s->slots[at].flags & JF_CHURNED))
		st = cxm__fail(ctx, CXM_ERR_EXISTS, "that customer churned and was not seen since");
	else if (at < 0 && (at = place_new(ctx, t, s, h, &st)) >= 0)
		s->slots[at].last_s = to_seconds(time_ms);
	if (!st)
		s->slots[at].flags |= JF_CHURNED;
	pthread_mutex_unlock(&s->lock);
	if (st) {
		cxm__churn_release(ctx, &mine);
		return st;
	}
	cxm__churn_count(ctx, &mine, time_ms);
	return CXM_OK;
}

/* ---- snapshots (customers_io.c): the table without its internals -------------------------- */

cxm_status cxm__customers_ensure(cxm_context *ctx)
{
	return table_init(ctx);
}

void cxm__customers_each(cxm_context *ctx, cust_visit_fn fn, void *payload, uint64_t counters[3])
{
	counters[0] = counters[1] = counters[2] = 0;
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	for (int i = 0; t && i < CUST_STRIPES; i++) {
		cust_stripe *s = &t->stripes[i];
		pthread_mutex_lock(&s->lock);
		counters[0] += s->evicted;
		counters[1] += s->refused;
		counters[2] += s->forgotten;
		bool go = fn(NULL, s->count, payload);
		for (uint32_t k = 0, left = s->count; go && left && k < s->cap; k++) {
			if (slot_empty(&s->slots[k]))
				continue;
			left--;
			fn(&s->slots[k], 0, payload);
		}
		pthread_mutex_unlock(&s->lock);
	}
}

static inline int64_t step_time(const cust_entry *e)
{
	return (int64_t)e->inst_start_s * 1000 + cxm__off_ms(e->step_off);
}

int cxm__customer_put(cxm_context *ctx, const cust_entry *x)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	const uint64_t h[2] = {x->k0, x->k1};
	cust_stripe *s = stripe_of(t, h);
	int r = CUST_COMBINED;
	pthread_mutex_lock(&s->lock);
	int64_t at = find(s, h);
	if (at >= 0) {
		/* last seen, and the churn mark that goes with it: the later
		 * side's; the journey instance: the side whose latest step is
		 * later (ours on a tie, and when x has none) */
		cust_entry *e = &s->slots[at], n = *e;
		if (x->last_s > e->last_s) {
			n.last_s = x->last_s;
			n.flags = (uint8_t)((n.flags & ~JF_CHURNED) | (x->flags & JF_CHURNED));
		}
		if (x->journey && (!e->journey || step_time(x) > step_time(e))) {
			n.journey = x->journey;
			n.step = x->step;
			n.flags = (uint8_t)((n.flags & JF_CHURNED) | (x->flags & ~JF_CHURNED));
			n.inst_start_s = x->inst_start_s;
			n.step_off = x->step_off;
		}
		*e = n;
		goto out;
	}
	/* a place under max_customers, never by eviction */
	bool reserved = false;
	if (s->count < s->max) {
		if (atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed) < ctx->max_customers)
			reserved = true;
		else
			atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
	}
	if (!reserved || grow(ctx, s) || !reachable(s, h)) {
		if (reserved)
			atomic_fetch_sub_explicit(&t->count, 1, memory_order_relaxed);
		s->refused++;
		r = CUST_NO_ROOM;
		goto out;
	}
	s->slots[insert(s, h)] = *x;
	r = CUST_ADDED;
out:
	pthread_mutex_unlock(&s->lock);
	return r;
}

void cxm__customers_add_counters(cxm_context *ctx, uint64_t evicted, uint64_t refused,
				 uint64_t forgotten)
{
	cust_table *t = atomic_load_explicit(&ctx->customers, memory_order_acquire);
	cust_stripe *s = &t->stripes[0];
	pthread_mutex_lock(&s->lock);
	s->evicted += evicted;
	s->refused += refused;
	s->forgotten += forgotten;
	pthread_mutex_unlock(&s->lock);
}
