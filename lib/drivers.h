/* Key drivers' state (drivers.c owns it): driver sets, their statistics
 * and their customers' records, shared with the files that read and
 * write them (drivers_query.c, drivers_io.c). Not API. */
#ifndef CXM_DRIVERS_H
#define CXM_DRIVERS_H

#include "cxm_internal.h"

#define DRV_STRIPES 16
#define DRV_MIN_CAP 16u
#define WINDOW_30D_MS INT64_C(2592000000)

/* A driver's latest value: its time (cxm__cust_s), driver index + 1
 * (0: unused), the value (a score's point, a rate's 0/1, a sentiment in
 * ten-thousandths). */
typedef struct drv_val {
	uint32_t t_s;
	uint16_t driver;
	int16_t v;
} drv_val;

typedef struct drv_rec {
	uint64_t k0, k1; /* the customer's hash; both 0: an empty slot */
	drv_val val[CXM_DRIVER_KEEP];
} drv_rec;
_Static_assert(sizeof(drv_rec) == 64, "a driver record is one cache line (documented)");

typedef struct drv_stripe {
	pthread_mutex_t lock;
	drv_rec *slots;
	uint32_t cap, count; /* cap: 0, or DRV_MIN_CAP or more */
	/* slots and cap again, stored under the lock and read without it
	 * only to prefetch (cxm__drivers_prefetch): a stale pair at worst
	 * prefetches the wrong line */
	_Atomic(drv_rec *) pf_slots;
	_Atomic uint32_t pf_cap;
} drv_stripe;

/* Publish st's array for prefetching (under st's lock). */
static inline void drv_publish(drv_stripe *st)
{
	atomic_store_explicit(&st->pf_slots, st->slots, memory_order_relaxed);
	atomic_store_explicit(&st->pf_cap, st->cap, memory_order_relaxed);
}

/* Moments of one variable (n, mean, sum of squared deviations). */
typedef struct mom {
	double n, mean, m2;
} mom;

typedef struct drv_stat {
	mom x, y;      /* the driver values and outcomes paired */
	double cxy;    /* their co-moment */
	mom band[3];   /* the outcomes by the value's band */
} drv_stat;

typedef struct drv_set {
	char *name;
	cxm_drivers_def def; /* touchpoints: NULL; see tp */
	uint32_t n;          /* drivers */
	cxm_id tp[CXM_DRIVERS_MAX]; /* CXM_NONE: the overall driver */
	uint8_t *of_tp;      /* touchpoint -> driver index + 1 (0: none), n_of_tp entries */
	uint32_t n_of_tp;
	int overall;         /* index of the overall driver, or -1 */
	double scale;        /* value = stored / scale */
	double bottom_max, top_min; /* the driver metric's boxes, in value units */
	pthread_mutex_t stat_lock;
	drv_stat stat[CXM_DRIVERS_MAX];
	uint64_t outcomes, paired, unremembered; /* under stat_lock */
	_Atomic uint64_t records;
	_Atomic uint64_t rec_bytes;
	drv_stripe stripes[DRV_STRIPES];
} drv_set;

struct drv_mod {
	_Atomic uint32_t n;
	drv_set *s[CXM_DRIVER_SETS_MAX];
};

static inline struct drv_mod *mod_of(const cxm_context *ctx)
{
	return atomic_load_explicit(&((cxm_context *)ctx)->drivers, memory_order_acquire);
}

static inline uint32_t count_of(const struct drv_mod *m)
{
	return m ? atomic_load_explicit(&m->n, memory_order_acquire) : 0;
}

static inline drv_stripe *stripe_of(drv_set *s, const uint64_t h[2])
{
	return &s->stripes[(h[1] >> 58) % DRV_STRIPES];
}

static inline uint32_t home_of(uint64_t k0, uint32_t cap)
{
	return (uint32_t)(((k0 & 0xffffffffu) * (uint64_t)cap) >> 32);
}

static inline drv_rec *drv_find(const drv_stripe *st, const uint64_t h[2])
{
	if (!st->cap)
		return NULL;
	for (uint32_t i = home_of(h[0], st->cap);; i = i + 1 == st->cap ? 0 : i + 1) {
		drv_rec *r = &st->slots[i];
		if (r->k0 == h[0] && r->k1 == h[1])
			return r;
		if (!r->k0 && !r->k1)
			return NULL;
	}
}

static inline drv_rec *drv_place(drv_rec *slots, uint32_t cap, const drv_rec *r)
{
	uint32_t i = home_of(r->k0, cap);
	while (slots[i].k0 || slots[i].k1)
		i = i + 1 == cap ? 0 : i + 1;
	slots[i] = *r;
	return &slots[i];
}

/* The capacity a stripe of cap slots grows to: half as much again. */
static inline uint32_t drv_grown(uint32_t cap)
{
	return cap ? cap + cap / 2 : DRV_MIN_CAP;
}

/* Rehash stripe st of set s into a new array of cap slots, leaving out
 * records with no value an outcome at now_s could still pair with (pass
 * win_s UINT32_MAX to keep all); false: no memory, nothing changed. */
CXM_INTERNAL bool cxm__drv_rehash(cxm_context *ctx, drv_set *s, drv_stripe *st, uint32_t cap,
				  uint32_t now_s, uint32_t win_s);
/* Set driver d's value in record r: the latest by time wins; a new
 * driver takes the oldest value's place when every place is used. */
CXM_INTERNAL void cxm__drv_rec_set(drv_rec *r, uint32_t d, uint32_t t_s, int16_t v);

#endif
