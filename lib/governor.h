/* The survey governor's state (governor.c owns it), shared with the file
 * that writes and reads it in snapshots and merges (governor_io.c). Not
 * API. */
#ifndef CXM_GOVERNOR_H
#define CXM_GOVERNOR_H

#include "cxm_internal.h"

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

static inline void entry_release(cxm_context *ctx, gov_entry *e)
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

static inline int64_t to_ms(int64_t s)
{
	return (s + CUST_BASE_S) * 1000;
}

/* An interval in whole seconds, rounded up. */
static inline int64_t iv_s(int64_t ms)
{
	return (ms + 999) / 1000;
}

static inline gov_stripe *stripe_of(gov_mod *g, const uint64_t h[2])
{
	return &g->stripes[h[1] >> 58];
}

static inline uint32_t home_of(uint64_t h0, uint32_t cap)
{
	return (uint32_t)(((h0 >> 32) * (uint64_t)cap) >> 32);
}

static inline uint32_t next(uint32_t i, uint32_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

/* Where customer h's entry is in s (-1: none); put e into slots (a free
 * one, e's key not there); double s's table (false: no memory). */
CXM_INTERNAL int64_t cxm__gov_find(const gov_stripe *s, const uint64_t h[2]);
CXM_INTERNAL void cxm__gov_place(gov_entry *slots, uint32_t cap, const gov_entry *e);
CXM_INTERNAL bool cxm__gov_grow(cxm_context *ctx, gov_stripe *s);
/* The rules across surveys, read under their sequence lock. */
CXM_INTERNAL cxm_governor_rules cxm__gov_rules_of(gov_mod *g);

#endif
