/* Journey state (journeys.c owns it) shared with the files that read and
 * write it: instances.c (each customer's instance and the counts it folds
 * into the groups), funnel_query.c (funnel and churn queries) and
 * journeys_io.c (the JOURNEYS and COHORTS snapshot sections, merge). Not
 * API. */
#ifndef CXM_JOURNEYS_H
#define CXM_JOURNEYS_H

#include "cohorts.h"

#define N_CHANNELS 9 /* index by cxm_channel, 1 .. 8; 0 unused */
#define DAY_MS INT64_C(86400000)
#define MAX_WINDOW_MS CXM_JOURNEY_MAX_WINDOW_MS
#define MAX_REPEAT_MS (400 * DAY_MS)

/* time sketch: 1 s .. the longest conversion window, at 5 % */
#define TIME_LO 1.0
#define TIME_HI ((double)CXM_JOURNEY_MAX_WINDOW_MS / 1000)
#define TIME_ALPHA 0.05

/* counters of a group, after entered (0) and reached step k (1 + k) */
enum { CNT_ABANDONED = 1, CNT_EXPIRED, CNT_BROKEN, CNT_DISPLACED, CNT_REPEAT, CNT_EXTRA = 5 };

typedef struct jgroup {
	series *counts;
	cohorts coh;     /* the same counts and times, by entry hour */
	series *times[]; /* n_steps */
} jgroup;

typedef struct jstate {
	pthread_mutex_t lock;
	/* the options, read without a lock on the feed path: a feeder racing
	 * cxm_journey_set_options may see some fields old and some new */
	_Atomic uint32_t o_flags;
	_Atomic int64_t o_conversion, o_abandon, o_lateness, o_repeat;
	uint32_t n_steps;
	metric counts_m;         /* a SCORE layout of 1 + n_steps + 5 counters */
	_Atomic(jgroup *) by_chan[N_CHANNELS];
	_Atomic(jgroup *) by_slot[]; /* 1 + max_segment_values; 0: the whole journey */
} jstate;

typedef struct jmod {
	pthread_mutex_t lock; /* churn series */
	metric time_m;        /* DURATION layout of the time series */
	metric churn_m;       /* one counter */
	series *churn;
	/* journeys with CXM_JOURNEY_STRICT_ORDER: while any, interactions on
	 * no tracked journey's step are looked at too (they may break) */
	_Atomic uint32_t n_strict_order;
	uint32_t n_js;
	_Atomic(jstate *) js[];
} jmod;

/* Index among a group's counters of CNT_* which for journey j. */
static inline uint32_t cidx(const cxm_context *ctx, uint32_t j, uint32_t which)
{
	return 1 + ctx->model.journeys[j].n_steps + which - 1;
}

#define trackable cxm__journey_trackable

/* Publish *mine at *slot unless something is there already; *mine is
 * cleared when it was taken. */
#define PUBLISH(slot, mine)                                                                    \
	do {                                                                                   \
		__typeof__(mine) cur_ = NULL;                                                  \
		if ((mine) && atomic_compare_exchange_strong_explicit(                         \
				      (slot), &cur_, (mine), memory_order_acq_rel,              \
				      memory_order_acquire))                                    \
			(mine) = NULL;                                                         \
	} while (0)

#define ALL_FLAGS                                                                              \
	(CXM_JOURNEY_STRICT | CXM_JOURNEY_COUNT_REPEATS | CXM_JOURNEY_EQUAL_TIMES_HOLD |        \
	 CXM_JOURNEY_RESTART | CXM_JOURNEY_WINDOW_EXCLUSIVE | CXM_JOURNEY_STRICT_ORDER |        \
	 CXM_JOURNEY_ALLOW_REENTRY | CXM_JOURNEY_STRICT_DEDUP)

static inline size_t group_size(uint32_t n_steps)
{
	return sizeof(jgroup) + sizeof(series *) * n_steps;
}

static inline jstate *peek_js(const cxm_context *ctx, uint32_t j)
{
	jmod *mod = atomic_load_explicit(&((cxm_context *)ctx)->journeys, memory_order_acquire);
	if (!mod || j >= mod->n_js)
		return NULL;
	return atomic_load_explicit(&mod->js[j], memory_order_acquire);
}

/* The default lateness is the finest tier's reach (what the watermark
 * accepts), so that by default the journey check is no stricter than the
 * windows: a replay or a feeder a little behind is not refused. */
static inline void cxm__journey_default_options(const cxm_context *ctx, cxm_journey_options *o)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->conversion_ms = 7 * DAY_MS;
	o->abandon_ms = o->conversion_ms; /* no shorter than the window: see cxm.h */
	int64_t reach = ctx->tiers[0].bucket_ms * (int64_t)ctx->tiers[0].buckets;
	o->lateness_ms = reach < MAX_WINDOW_MS ? reach : MAX_WINDOW_MS;
	o->repeat_ms = 7 * DAY_MS;
}

/* Journey j's options (the defaults where it has no state), read without
 * a lock: on the feed path (instances.c), hence inline. */
static inline void cxm__journey_options_of(const cxm_context *ctx, uint32_t j, cxm_journey_options *o)
{
	jstate *js = peek_js(ctx, j);
	if (!js) {
		cxm__journey_default_options(ctx, o);
		return;
	}
	cxm__journey_default_options(ctx, o);
	o->flags = atomic_load_explicit(&js->o_flags, memory_order_relaxed);
	o->conversion_ms = atomic_load_explicit(&js->o_conversion, memory_order_relaxed);
	o->abandon_ms = atomic_load_explicit(&js->o_abandon, memory_order_relaxed);
	o->lateness_ms = atomic_load_explicit(&js->o_lateness, memory_order_relaxed);
	o->repeat_ms = atomic_load_explicit(&js->o_repeat, memory_order_relaxed);
}

/* The finest-tier epoch a funnel or churn series folds an event of finest
 * epoch e into (instances.c, and the churn in journeys.c). */
static inline int64_t cxm__writable_epoch(const cxm_context *ctx, const series *s, int64_t e)
{
	/* a series takes a bucket only within its finest ring's reach behind
	 * its newest: older events go to the oldest bucket it still has */
	const int64_t n0 = ctx->tiers[0].buckets;
	if (s->top[0] != TAG_EMPTY && e <= s->top[0] - n0)
		e = s->top[0] - n0 + 1;
	return e;
}

CXM_INTERNAL jmod *cxm__jmod_new(cxm_context *ctx);
CXM_INTERNAL void cxm__jmod_free(cxm_context *ctx, jmod *mod);
CXM_INTERNAL jstate *cxm__jstate_new(cxm_context *ctx, uint32_t n_steps);
CXM_INTERNAL void cxm__jstate_free(cxm_context *ctx, jstate *js);
/* A funnel group: 1 + n_steps series counted against max_series, and its
 * entry cohorts; NULL for want of memory or of max_series (then
 * cxm__jgroup_fail says which, through cxm__fail). */
CXM_INTERNAL jgroup *cxm__jgroup_new(cxm_context *ctx, const jmod *mod, const jstate *js);
CXM_INTERNAL void cxm__jgroup_free(cxm_context *ctx, const jstate *js, jgroup *g);
CXM_INTERNAL cxm_status cxm__jgroup_fail(const cxm_context *ctx, const jstate *js, const char *what,
					 const char *jname);
/* The module and, with j != CXM_NONE, journey j's state: made and
 * published if missing (a failure leaves nothing behind). */
CXM_INTERNAL cxm_status cxm__journeys_ensure(cxm_context *ctx, cxm_id j, jmod **mod_out,
					     jstate **js_out);
/* Options: store o as js's; why flags cannot go together (NULL: they can).
 * The defaults and journey j's are the inline functions above. */
CXM_INTERNAL void cxm__journey_store_options(jmod *mod, jstate *js, const cxm_journey_options *o);
CXM_INTERNAL const char *cxm__journey_flags_conflict(uint32_t f);
/* CXM_OK, or UNKNOWN_ID / LIMIT through cxm__fail for a journey id. */
CXM_INTERNAL cxm_status cxm__journey_check_id(const cxm_context *ctx, cxm_id jid);

#endif
