/* libcxm internals shared by the files of lib/. Not installed, not ABI. */
#ifndef CXM_INTERNAL_H
#define CXM_INTERNAL_H

#include "cxm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#define CXM_INTERNAL __attribute__((visibility("hidden")))

/* Layout sizes of the first published version of each public struct: a
 * caller's size below these is CXM_ERR_VERSION. */
#define CXM_MIN_CONFIG_SIZE sizeof(cxm_config)
#define CXM_MIN_METRIC_DEF_SIZE sizeof(cxm_metric_def)
#define CXM_MIN_INTERACTION_SIZE sizeof(cxm_interaction)
#define CXM_MIN_QUERY_SIZE sizeof(cxm_query)
#define CXM_MIN_RESULT_SIZE sizeof(cxm_result)
#define CXM_MIN_STATS_SIZE sizeof(cxm_stats)
#define CXM_MIN_COMPARISON_SIZE sizeof(cxm_comparison)

#define TAG_EMPTY INT64_MIN
#define WATERMARK_NONE INT64_MIN

/* ---- errors (context.c) ------------------------------------------------ */

/* Record a failure for the calling thread and return it. */
CXM_INTERNAL cxm_status cxm__fail(const cxm_context *ctx, cxm_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Validate the size field and unknown tail of a caller's struct. */
CXM_INTERNAL cxm_status cxm__check_struct(const cxm_context *ctx, const void *p, size_t min_size,
					  size_t our_size, const char *what);

/* Output structs: the caller's size must be at least min_size; put_out
 * writes our layout and zeroes any tail the caller's newer layout has. */
CXM_INTERNAL cxm_status cxm__check_out(const cxm_context *ctx, const void *p, size_t min_size,
				       const char *what);
CXM_INTERNAL void cxm__put_out(void *out, const void *src, size_t our_size);

/* ---- allocation (context.c) -------------------------------------------- */

CXM_INTERNAL void *cxm__alloc(cxm_context *ctx, size_t size);
CXM_INTERNAL void *cxm__calloc(cxm_context *ctx, size_t n, size_t size);
CXM_INTERNAL void cxm__free(cxm_context *ctx, void *p, size_t size);
CXM_INTERNAL char *cxm__strdup(cxm_context *ctx, const char *s);
CXM_INTERNAL void cxm__strfree(cxm_context *ctx, char *s);

/* ---- duration sketch (sketch.c) ---------------------------------------- */

/* Log-bucketed sketch parameters. Bin i holds values in [b[i], b[i+1]),
 * b[0] = lo, b[i] = lo * gamma^i, for i in 0 .. nb-1; b[nb] >= hi. */
typedef struct sketch_params {
	double lo, hi, alpha, gamma;
	double log2_lo, inv_log2_gamma;
	uint32_t nb;
	double *bounds; /* nb + 1 values */
} sketch_params;

#define SKETCH_MAX_BINS 16384u

/* A sketch cell has two parts. The moments (n, sum, sumsq, min, max) are
 * exact and kept at every tier. The distribution (zero, under, over, the
 * bins and their own extremes) is kept from the "bins tier" up (the hour
 * tier by default): a finest-tier cell is only the header, lo_bin > hi_bin. */
typedef struct sketch_cell {
	uint64_t n;
	double sum, sumsq, min, max;
	uint64_t zero, under, over, saturated;
	double dmin, dmax;
	uint32_t lo_bin, hi_bin; /* used bins are [lo_bin, hi_bin]; lo_bin > hi_bin when none */
	uint32_t bins[];
} sketch_cell;

CXM_INTERNAL cxm_status cxm__sketch_params_init(sketch_params *sp, double lo, double hi,
						double alpha, void *(*alloc)(void *, size_t),
						void *opaque);
CXM_INTERNAL uint32_t cxm__sketch_bins_for(double lo, double hi, double alpha);
CXM_INTERNAL size_t cxm__sketch_cell_size(const sketch_params *sp);
CXM_INTERNAL void cxm__sketch_clear(const sketch_params *sp, sketch_cell *c);
CXM_INTERNAL void cxm__sketch_add(const sketch_params *sp, sketch_cell *c, double v);
CXM_INTERNAL void cxm__sketch_add_moments(sketch_cell *c, double v);
CXM_INTERNAL void cxm__sketch_add_dist(const sketch_params *sp, sketch_cell *c, double v);
CXM_INTERNAL void cxm__sketch_merge(const sketch_params *sp, sketch_cell *dst, const sketch_cell *src);
CXM_INTERNAL void cxm__sketch_merge_moments(sketch_cell *dst, const sketch_cell *src);
CXM_INTERNAL void cxm__sketch_merge_dist(sketch_cell *dst, const sketch_cell *src);
CXM_INTERNAL uint32_t cxm__sketch_bin(const sketch_params *sp, double v);
/* Quantile of rank max(1, ceil(q*n)); NaN when empty. *clamped set when
 * the answer fell in the under or over range. */
CXM_INTERNAL double cxm__sketch_quantile(const sketch_params *sp, const sketch_cell *c, double q,
					 bool *clamped);

/* ---- customers (customers.c) --------------------------------------------- */

/* SipHash-2-4 of data under key, outlen 8 (out[0]) or 16 (out[0], out[1]). */
CXM_INTERNAL void cxm__siphash(const uint64_t key[2], const void *data, size_t len, int outlen,
			       uint64_t out[2]);
/* The context's customer key from the config's bytes, or random if zero. */
CXM_INTERNAL void cxm__customer_key(cxm_context *ctx, const uint8_t key[16]);

/* A DISTINCT cell: the count of ids seen (n, kept at every tier) and, from
 * the bins tier up, 2^p HyperLogLog registers with their own count (dn). */
typedef struct hll_cell {
	uint64_t n, dn;
	uint32_t has_regs; /* registers are zeroed on first use */
	uint32_t pad;
	uint8_t reg[];
} hll_cell;

/* One tracked customer: 32 bytes. The journey fields are reserved for
 * journey progress. Empty slots are all zero (a hash of zero is stored as 1). */
typedef struct cust_entry {
	uint64_t k0, k1;   /* 128-bit keyed hash of the id */
	uint32_t last_s;   /* last seen, seconds since 2000-01-01 */
	uint16_t journey;
	uint8_t step, flags;
	uint32_t inst_start_s, step_s;
} cust_entry;

#define CUST_STRIPES 64
/* Padded to two cache lines so that neighbouring stripes' locks and
 * counters are not shared between cores (the allocator only promises
 * max_align_t, so _Alignas could not be relied on). */
typedef struct cust_stripe {
	pthread_mutex_t lock;
	cust_entry *slots;
	uint64_t evicted, refused, forgotten;
	uint32_t cap, max, count;
	char pad[128 - sizeof(pthread_mutex_t) - sizeof(cust_entry *) - 3 * sizeof(uint64_t) -
		 3 * sizeof(uint32_t)];
} cust_stripe;
_Static_assert(sizeof(cust_stripe) == 128, "cust_stripe spans two cache lines");

typedef struct cust_table {
	cust_stripe stripes[CUST_STRIPES];
	_Atomic uint64_t count; /* over all stripes: max_customers applies to it */
	size_t bytes;
} cust_table;

CXM_INTERNAL void cxm__customer_hash(const cxm_context *ctx, const void *id, size_t len, uint64_t h[2]);
/* Record that customer h was seen at t; may evict, or refuse (CXM_ERR_LIMIT). */
CXM_INTERNAL cxm_status cxm__customer_seen(cxm_context *ctx, const uint64_t h[2], int64_t t_ms);
CXM_INTERNAL void cxm__customers_free(cxm_context *ctx);
CXM_INTERNAL void cxm__customers_stats(cxm_context *ctx, cxm_stats *out);

struct metric;
CXM_INTERNAL void cxm__hll_clear(hll_cell *c);
CXM_INTERNAL void cxm__hll_add(const struct metric *m, hll_cell *c, uint64_t h);
CXM_INTERNAL void cxm__hll_merge_regs(const struct metric *m, hll_cell *dst, const hll_cell *src);
CXM_INTERNAL double cxm__hll_estimate(const struct metric *m, const hll_cell *c);

/* ---- model (model.c) --------------------------------------------------- */

/* Open-addressing index name -> id. Written under def_lock; read without
 * it: a slot is stored (release) only after its entry is complete. */
typedef struct name_table {
	uint32_t cap;            /* power of two */
	_Atomic uint32_t *slots; /* id + 1; 0 = empty */
} name_table;

typedef struct journey {
	char *name;
	uint32_t n_steps;
	char **steps;
} journey;

typedef struct touchpoint {
	char *name;
	cxm_channel channel;
	cxm_id journey, step;
} touchpoint;

typedef struct metric {
	char *name;
	cxm_metric_def def;
	cxm_headline headline; /* resolved default */
	uint32_t points;       /* SCORE/INDEX: scale points */
	uint32_t cells;        /* SCORE/INDEX: questions * points counters */
	size_t cell_size;      /* bytes of a full cell, multiple of 8 */
	sketch_params sk;      /* DURATION */
	/* layout of a series of this metric with the context's tiers */
	uint32_t bins_tier;    /* DURATION: lowest tier whose cells keep the distribution */
	size_t tier_cell[CXM_MAX_TIERS]; /* cell bytes in tier k */
	size_t tier_off[CXM_MAX_TIERS];  /* offset of tier k's cells after all tags */
	size_t ring_size;      /* bytes of the rings of one series */
	size_t series_size;    /* header, hot cell and rings */
} metric;

typedef struct segment {
	char *name;
	uint32_t max_values;
	uint32_t slot_base; /* series slot of value 0 is 1 + slot_base */
	_Atomic uint32_t n_values;
	char **values;
	name_table index;
} segment;

typedef struct model {
	journey *journeys;
	touchpoint *touchpoints;
	metric *metrics;
	segment *segments;
	_Atomic uint32_t n_journeys, n_touchpoints, n_metrics, n_segments;
	_Atomic uint32_t n_volume, n_distinct;
	cxm_id *volume_metrics;   /* ids of VOLUME metrics, n_volume of them */
	cxm_id *distinct_metrics; /* ids of DISTINCT metrics, n_distinct of them */
	uint32_t slots_used;    /* segment value slots handed out */
	name_table idx_journeys, idx_touchpoints, idx_metrics, idx_segments;
} model;

CXM_INTERNAL cxm_status cxm__model_init(cxm_context *ctx);
CXM_INTERNAL void cxm__model_free(cxm_context *ctx);
CXM_INTERNAL cxm_status cxm__check_name(const cxm_context *ctx, const char *name, const char *what);

/* ---- series and windows (window.c) ------------------------------------- */

/* A series is a small header, allocated apart from its rings so that the
 * headers of many series share pages and cache lines. The header holds the
 * newest finest bucket ("hot"): nearly every fold lands there and touches
 * nothing else; it is merged into the ring when a newer bucket starts. */
typedef struct series {
	const metric *m;
	unsigned char *data;        /* every tier's int64 tags, then every tier's cells */
	int64_t top[CXM_MAX_TIERS]; /* newest epoch per tier, TAG_EMPTY if none */
	uint32_t top_idx[CXM_MAX_TIERS]; /* ring slot of top[k] */
	int64_t hot_epoch;          /* finest epoch held in hot[], or TAG_EMPTY */
	int64_t bins_epoch;         /* bins-tier epoch of bins_cell, or TAG_EMPTY */
	void *bins_cell;
	uint64_t hot[];             /* a finest-tier cell */
} series;

CXM_INTERNAL void cxm__metric_layout(const cxm_context *ctx, metric *m);
CXM_INTERNAL size_t cxm__series_size(const cxm_context *ctx, const metric *m);
CXM_INTERNAL series *cxm__series_new(cxm_context *ctx, const metric *m);
CXM_INTERNAL void cxm__series_free(cxm_context *ctx, series *s);
/* True for a series nothing was ever folded into. */
CXM_INTERNAL bool cxm__series_empty(const series *s);
/* The tier-0 cell for epoch e, rolling older buckets up as needed. The
 * caller guarantees e > top[0] - n_0. */
CXM_INTERNAL void *cxm__series_cell(const cxm_context *ctx, series *s, int64_t e);
/* The bins-tier cell holding the distribution of finest epoch e. */
CXM_INTERNAL void *cxm__series_bins_cell(const cxm_context *ctx, series *s, int64_t e);
enum read_part { READ_ALL, READ_MOMENTS, READ_DIST };
/* Merge into acc (a full cell) every bucket whose start lies in [a, b):
 * whole cells, or for a DURATION only the moments or only the distribution. */
CXM_INTERNAL void cxm__series_read(const cxm_context *ctx, const series *s, int64_t a, int64_t b,
				   void *acc, enum read_part part);
CXM_INTERNAL void cxm__cell_clear(const metric *m, void *cell);
CXM_INTERNAL void cxm__cell_merge(const metric *m, void *dst, const void *src);
CXM_INTERNAL void cxm__cell_fold(const metric *m, void *cell, uint32_t item, double v);

/* ---- context ------------------------------------------------------------ */

typedef struct shard {
	pthread_mutex_t lock;
	series ****rows; /* [max_metrics][max_touchpoints] -> series *[1 + max_segment_values] */
	int64_t watermark;  /* latest event time accepted through this shard */
	uint64_t accepted;
	uint64_t n_series;
	uint64_t series_bytes;
	uint64_t saturated;
	char pad[64];
} shard;

struct cxm_context {
	cxm_allocator alloc;
	cxm_clock_fn clock;
	void *clock_opaque;
	uint32_t n_tiers;
	cxm_tier tiers[CXM_MAX_TIERS];
	uint32_t tier_base[CXM_MAX_TIERS + 1]; /* buckets in the tiers before k */
	int64_t max_future_ms;
	uint32_t max_journeys, max_steps, max_touchpoints, max_metrics, max_segments;
	uint32_t max_segment_values, max_name_len, max_customer_id_len, max_measures;
	uint32_t min_samples;
	uint64_t max_series;
	double confidence, z; /* z: two-sided normal quantile of confidence */
	uint64_t key[2];      /* customer id hash key */
	uint32_t max_customers, customer_policy;
	_Atomic(cust_table *) customers; /* allocated on the first customer id */

	pthread_mutex_t def_lock; /* serialises definitions */
	model model;

	uint32_t n_shards;
	shard *shards;

	/* Tier-0 epoch of the watermark: raised (rarely) by feeders, read by
	 * the lateness check and by queries to place window edges. */
	_Atomic int64_t wm_epoch;
	_Atomic uint64_t n_series;
	_Atomic uint64_t memory;
	_Atomic uint64_t rejected[CXM_STATUS_COUNT];
};

CXM_INTERNAL int64_t cxm__now(const cxm_context *ctx);
/* A mutex for short critical sections: spins briefly before sleeping. */
CXM_INTERNAL int cxm__mutex_init(pthread_mutex_t *m);
CXM_INTERNAL void cxm__reject(cxm_context *ctx, cxm_status st);

static inline int64_t floordiv64(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

#endif
