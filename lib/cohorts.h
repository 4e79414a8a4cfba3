/* Entry cohorts of a journey funnel group (cohorts.c): what the instances
 * that began in each hour did, whenever they did it. Owned by the funnel
 * group that holds it (journeys.c), read and written under that journey's
 * lock. Not API. */
#ifndef CXM_COHORTS_H
#define CXM_COHORTS_H

#include "cxm_internal.h"

/* The width of a cohort: an hour, so that a day, week or month in any
 * zone whose offset is whole hours is a whole number of cohorts. */
#define COHORT_MS INT64_C(3600000)

/* Rows of 2 + nc + 2 * nt words, by hour ascending, at rows[off .. off + n):
 * the hour (start / COHORT_MS), the latest event time folded into it,
 * nc counters (a funnel group's: entered, reached step k, the ends,
 * repeats), nt time sample counts, nt time sums (the bits of doubles, in
 * seconds). */
typedef struct cohorts {
	uint64_t *rows;
	uint32_t off, n, cap; /* rows: cap rows allocated */
	uint32_t nc, nt;
	uint32_t hint; /* the row last folded into, relative to off */
} cohorts;

/* What a window of cohorts adds up to: nc counters, nt counts and sums. */
typedef struct cohort_sum {
	uint64_t cnt[1 + MAX_TRACKED_STEPS + 5];
	uint64_t tn[MAX_TRACKED_STEPS];
	double tsum[MAX_TRACKED_STEPS];
} cohort_sum;

CXM_INTERNAL void cxm__cohorts_init(cohorts *c, uint32_t counters, uint32_t times);
CXM_INTERNAL void cxm__cohorts_free(cxm_context *ctx, cohorts *c);
/* Room for the row of op's instance (op->t0_ms) if it has none yet, taken
 * where a feed can still be refused. False: no memory (nothing changed). */
CXM_INTERNAL bool cxm__cohorts_reserve(cxm_context *ctx, cohorts *c, const jop *op);
/* Count op into the row of its instance's start. Rows wholly behind the
 * retention horizon are dropped; an op for one of them counts nowhere, as
 * a series' bucket gone from the tiers. No memory for a new row: counted
 * in cxm_stats::lost_buckets. */
/* Give back what reserving took and folding did not use: the array goes
 * back to the size that fits its rows (a refused feed leaves memory as it
 * was). */
CXM_INTERNAL void cxm__cohorts_unreserve(cxm_context *ctx, cohorts *c);
CXM_INTERNAL void cxm__cohorts_fold(cxm_context *ctx, cohorts *c, const jop *op);
/* Add the rows of hours [a_ms, b_ms) (whole hours) into *s. */
CXM_INTERNAL void cxm__cohorts_sum(const cohorts *c, int64_t a_ms, int64_t b_ms, cohort_sum *s);
/* Add every row of src into dst (same layout); false: no memory for some
 * (counted in lost_buckets). */
CXM_INTERNAL bool cxm__cohorts_add(cxm_context *ctx, cohorts *dst, const cohorts *src);
/* Drop every row of an hour that starts after time_ms or that counted an
 * event after it; returns how many. */
CXM_INTERNAL uint64_t cxm__cohorts_rewind(cxm_context *ctx, cohorts *c, int64_t time_ms);
/* The rows in a snapshot (docs/snapshot.md, JOURNEYS, format 5): u32 count,
 * then each row's words. Read into an empty c, every row checked. */
CXM_INTERNAL void cxm__cohorts_write(struct wbuf *b, const cohorts *c);
CXM_INTERNAL cxm_status cxm__cohorts_read(struct snap_in *in, cxm_context *into, cohorts *c,
					  const char *jname);

#endif
