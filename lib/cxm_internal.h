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

/* ---- errors (ground.c) ------------------------------------------------ */

/* Record a failure for the calling thread and return it. */
CXM_INTERNAL cxm_status cxm__fail(const cxm_context *ctx, cxm_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Fail on ctx with st, saying what (a format) and then the message a call
 * on `from` left (a private context's, as a load defines into one). */
CXM_INTERNAL cxm_status cxm__relay(const cxm_context *ctx, cxm_status st, const cxm_context *from,
				   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Validate the size field and unknown tail of a caller's struct. */
/* The body of every *_init(p, size): NULL is CXM_ERR_INVALID ("<param> is
 * NULL"), a size below min_size CXM_ERR_VERSION; else zero size bytes and
 * store the size in the leading size_t. */
CXM_INTERNAL cxm_status cxm__init_struct(void *p, size_t size, size_t min_size, const char *what,
					 const char *param);
/* The bytes of p beyond our_size, up to size, must be zero (a newer
 * caller's fields): CXM_ERR_UNSUPPORTED naming the first one set. */
CXM_INTERNAL cxm_status cxm__check_tail(const cxm_context *ctx, const void *p, size_t size,
					size_t our_size, const char *what);
CXM_INTERNAL cxm_status cxm__check_struct(const cxm_context *ctx, const void *p, size_t min_size,
					  size_t our_size, const char *what);

/* Output structs: the caller's size must be at least min_size; put_out
 * writes our layout and zeroes any tail the caller's newer layout has. */
CXM_INTERNAL cxm_status cxm__check_out(const cxm_context *ctx, const void *p, size_t min_size,
				       const char *what);
CXM_INTERNAL void cxm__put_out(void *out, const void *src, size_t our_size);

/* ---- allocation (ground.c) -------------------------------------------- */

CXM_INTERNAL void *cxm__alloc(cxm_context *ctx, size_t size);
CXM_INTERNAL void *cxm__calloc(cxm_context *ctx, size_t n, size_t size);
CXM_INTERNAL void cxm__free(cxm_context *ctx, void *p, size_t size);
CXM_INTERNAL char *cxm__strdup(cxm_context *ctx, const char *s);
CXM_INTERNAL void cxm__strfree(cxm_context *ctx, char *s);
/* A caller's number for a message: the shortest of %.15g, %.16g, %.17g
 * that reads back as the same double, so that 1.0000001 is never shown as
 * 1 next to a bound of 1. Use as cxm__num(v).s within one call. */
typedef struct cxm_numtxt {
	char s[40];
} cxm_numtxt;
CXM_INTERNAL cxm_numtxt cxm__num(double v);
/* Overwrite n bytes at p with zeros in a way the compiler keeps (customer
 * digests, keys: nothing of a forgotten customer may linger in memory). */
CXM_INTERNAL void cxm__wipe(void *p, size_t n);

/* ---- what a cell may hold ------------------------------------------------ */

/* Merges saturate a cell's counts at CELL_COUNT_MAX (2^62), its sums at
 * CELL_SUM_MAX (what values within +-CXM_VALUE_MAX make in that many,
 * twice over) and its sums of squares at CELL_SUMSQ_MAX. Feeding then adds
 * one interaction at a time: another 2^62 of them (no host lives that
 * long) stays within twice these, which is what a snapshot loader accepts
 * (CELL_LOAD_*). So no count wraps, every sum stays finite, and whatever a
 * context made by loading, merging and feeding saves, its loader takes. */
#define CELL_COUNT_MAX (UINT64_C(1) << 62)
#define CELL_SUM_MAX (2.0 * 4611686018427387904.0 * 1e15)
#define CELL_SUMSQ_MAX (CELL_SUM_MAX * 1e15)
#define CELL_LOAD_COUNT_MAX (UINT64_C(1) << 63)
#define CELL_LOAD_SUM_MAX (2.0 * CELL_SUM_MAX)
#define CELL_LOAD_SUMSQ_MAX (2.0 * CELL_SUMSQ_MAX)

/* Both below 2^63 (what a loader accepts; merges keep to 2^62, feeding
 * adds one at a time): the sum cannot wrap, one compare saturates it. */
static inline uint64_t cell_add(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;
	return s > CELL_COUNT_MAX ? CELL_COUNT_MAX : s;
}

static inline double sum_add(double a, double b, double max)
{
	double s = a + b;
	return s > max ? max : s < -max ? -max : s;
}

/* ---- duration sketch (sketch.c) ---------------------------------------- */

/* Log-bucketed sketch parameters. Bin i holds values in [b[i], b[i+1]),
 * b[0] = lo, b[i] = lo * gamma^i, for i in 0 .. nb-1; b[nb] >= hi. */
typedef struct sketch_params {
	double lo, hi, alpha, gamma;
	uint32_t nb;
	double *bounds; /* nb + 1 values, then the index: one allocation */
	/* The bin of a value v in [lo, hi] starts from index[(bits(v) >>
	 * ix_shift) - ix_lo]: the bin of the lowest double whose top bits
	 * (sign, exponent, the mantissa's first 52 - ix_shift) are those,
	 * never above v's own; a cell of those bits is narrower than a bin,
	 * so one comparison with the next boundary finishes it. */
	const uint16_t *index;
	uint64_t ix_lo;
	uint32_t ix_n, ix_shift;
} sketch_params;

#define SKETCH_MAX_BINS 16384u

/* A sketch cell has two parts. The moments (n, sum, sumsq, min, max) are
 * exact. The distribution (zero, under, over, the bins and their own
 * extremes) is kept from the "bins tier" up (every tier for a metric's
 * series; from the hour tier for the journeys' funnel times, see
 * window.c). Bins [lo_bin, hi_bin] are used; the cell's store holds bins
 * [base, base + cap) at `bins`: either right after the cell ("full", cap
 * = every bin: accumulators, hot and lifetime cells) or allocated to fit
 * (ring cells: only the range used, and some room). */
typedef struct sketch_cell {
	uint64_t n;
	double sum, sumsq, min, max;
	uint64_t zero, under, over, saturated;
	uint64_t na;             /* "no answer" codes received (has_na) */
	double dmin, dmax;
	uint32_t lo_bin, hi_bin; /* used bins are [lo_bin, hi_bin]; lo_bin > hi_bin when none */
	uint32_t base, cap;      /* the store holds bins [base, base + cap), or is packed */
	uint32_t *bins;          /* bin i at bins[i - base]; NULL: no store */
} sketch_cell;

/* A ring cell whose used bins are few for their range keeps them packed
 * instead: cap is SKETCH_PACKED | m, and the store is m bin numbers in
 * increasing order, then their m counts. Only sketch.c reads or writes a
 * store's layout. A merge or a value goes into a packed store only after
 * a cover listed its bins (with count 0 until then); a store left with a
 * 0 is packed again by cxm__sketch_fit. */
#define SKETCH_PACKED 0x80000000u
static inline size_t cxm__sketch_store_bytes(uint32_t cap)
{
	return cap & SKETCH_PACKED ? 2 * sizeof(uint32_t) * (cap & ~SKETCH_PACKED)
				   : sizeof(uint32_t) * cap;
}

/* A store a cover replaced, kept until the change is committed. */
typedef struct sketch_store {
	uint32_t *bins;
	uint32_t base, cap;
} sketch_store;

/* Boundaries and lookup table for [lo, hi] at relative error alpha, in one
 * allocation (free sp->bounds, cxm__sketch_params_bytes long). CXM_ERR_NO_MEMORY,
 * or CXM_ERR_OUT_OF_RANGE for a range whose bins cannot be counted (callers
 * check SKETCH_MAX_BINS first); on error sp->bounds is NULL. */
CXM_INTERNAL cxm_status cxm__sketch_params_init(sketch_params *sp, double lo, double hi,
						double alpha, void *(*alloc)(void *, size_t),
						void *opaque);
/* The bytes of sp's one allocation (bounds, then index), to free it. */
CXM_INTERNAL size_t cxm__sketch_params_bytes(const sketch_params *sp);
CXM_INTERNAL uint32_t cxm__sketch_bins_for(double lo, double hi, double alpha);
CXM_INTERNAL size_t cxm__sketch_cell_size(const sketch_params *sp);
/* A cell's first state: empty, full (its store after it) or without a store. */
CXM_INTERNAL void cxm__sketch_init(const sketch_params *sp, sketch_cell *c, bool full);
/* Empty the cell, keeping its store. */
CXM_INTERNAL void cxm__sketch_clear(const sketch_params *sp, sketch_cell *c);
/* As cxm__sketch_clear, the store (and its counts) left as it is. */
CXM_INTERNAL void cxm__sketch_clear_stats(sketch_cell *c);
/* Give back an allocated store; returns its bytes. */
CXM_INTERNAL size_t cxm__sketch_release(cxm_context *ctx, sketch_cell *c);
/* Make the store hold exactly the used bins and [lo, hi], on 8-bin
 * boundaries; *delta gets the bytes it grew (or shrank) by; false: no
 * memory, nothing changed. With old, the replaced store is handed back
 * there instead of freed (old->bins NULL: none) and *delta is the new
 * store's size. A cell whose store cannot hold a bin counts the value as
 * saturated. */
CXM_INTERNAL bool cxm__sketch_cover(cxm_context *ctx, const sketch_params *sp, sketch_cell *c,
				    uint32_t lo, uint32_t hi, sketch_store *old, int64_t *delta);
/* As cxm__sketch_cover for the bins `like` uses, in the shape the merge of
 * like into c will leave (packed when that is smaller and c is not
 * `open`, see cxm__sketch_fit): the merge then neither allocates nor
 * needs packing after. */
CXM_INTERNAL bool cxm__sketch_cover_like(cxm_context *ctx, const sketch_params *sp, sketch_cell *c,
					 const sketch_cell *like, bool open, sketch_store *old,
					 int64_t *delta);
/* For c with no store and no bins used (an empty ring slot): a store
 * holding like's bins with like's counts already, in the shape
 * cxm__sketch_cover_like then a merge of like would leave; c's statistics
 * stay as they are, so that cxm__sketch_merge_filled finishes the merge
 * (or the store is released unused). *delta: the bytes allocated; false:
 * no memory, c unchanged. */
CXM_INTERNAL bool cxm__sketch_fill_like(cxm_context *ctx, const sketch_params *sp, sketch_cell *c,
					const sketch_cell *like, int64_t *delta);
/* The rest of merging src into dst after cxm__sketch_fill_like(dst, src):
 * the moments and the distribution's counts and extremes. */
CXM_INTERNAL void cxm__sketch_merge_filled(sketch_cell *dst, const sketch_cell *src);
/* Give a ring cell the store its bins need: a bucket still filling
 * (`open`: the newest of a coarser tier, which every roll-up lands in)
 * exactly the range it uses, so that adding to it costs the incoming
 * bins and not a rebuilt list; any other the smaller of packed and
 * range. The form is a function of the bins and of `open` alone, so that
 * a loaded cell weighs what the saved one did; none when no bin is used.
 * *delta gets the bytes it grew or shrank by; false: no memory for the
 * new store, the old one stays (the cell is unchanged and correct). */
CXM_INTERNAL bool cxm__sketch_fit(cxm_context *ctx, const sketch_params *sp, sketch_cell *c, bool open,
				  int64_t *delta);
/* The counts of bins [lo_bin, hi_bin] as little-endian 32-bit numbers at
 * out (4 * (hi_bin - lo_bin + 1) bytes; the cell has used bins). */
CXM_INTERNAL void cxm__sketch_bins_out(const sketch_cell *c, unsigned char *out);
CXM_INTERNAL void cxm__sketch_add(const sketch_params *sp, sketch_cell *c, double v);
/* Add value v of bin i (cxm__sketch_bin_of) to c's distribution, in every
 * case (cell.h's cxm__sketch_add_dist_bin tries the common one inline
 * first). */
CXM_INTERNAL void cxm__sketch_add_dist_bin_any(const sketch_params *sp, sketch_cell *c, double v,
					       uint32_t i);
CXM_INTERNAL void cxm__sketch_merge(const sketch_params *sp, sketch_cell *dst, const sketch_cell *src);
CXM_INTERNAL void cxm__sketch_merge_moments(sketch_cell *dst, const sketch_cell *src);
CXM_INTERNAL void cxm__sketch_merge_dist(sketch_cell *dst, const sketch_cell *src);
/* Quantile of rank max(1, ceil(q*n)); NaN when empty. *clamped set when
 * the answer fell in the under or over range. */
CXM_INTERNAL double cxm__sketch_quantile(const sketch_params *sp, const sketch_cell *c, double q,
					 bool *clamped);
/* For each of n cut bins (non-decreasing), the values of c below it:
 * its zeros, the counts of the bins before cut[k], and its under-range
 * values where under_in[k]; into out[k]. */
CXM_INTERNAL void cxm__sketch_cumulative(const sketch_cell *c, const uint32_t *cut, const bool *under_in,
					 uint32_t n, uint64_t *out);

/* A little-endian 64-bit number at p. */
static inline uint64_t cxm__le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- the exposition's options (export_options.c) ------------------------- */

/* cxm_export_options, checked, with their defaults: the format, the flags,
 * the bucket bounds (the caller's, which outlive the call, or the default
 * ones) and the caller's constant labels (its arrays). */
typedef struct export_opts {
	bool om, no_segs, no_points;
	const double *bounds;
	uint32_t nb;
	uint32_t n_labels;
	const char *const *label_names, *const *label_values;
} export_opts;
/* o (NULL: the defaults) checked into *x: CXM_ERR_INVALID (a bad format,
 * flag, label name or NULL array), CXM_ERR_OUT_OF_RANGE (too many labels
 * or buckets, bounds not increasing or negative), CXM_ERR_NOT_FINITE,
 * CXM_ERR_UNSUPPORTED (reserved fields), or what cxm__check_struct and
 * cxm__check_name return. */
CXM_INTERNAL cxm_status cxm__export_options_check(cxm_context *ctx, const cxm_export_options *o,
						  export_opts *x);

/* ---- customers (customers.c) --------------------------------------------- */

/* SipHash-2-4 of data under key, outlen 8 (out[0]) or 16 (out[0], out[1])
 * (ground.c). */
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

/* One tracked customer: 32 bytes, with the state of one journey instance
 * (instances.c). Empty slots are all zero (a hash of zero is stored as 1). */
typedef struct cust_entry {
	uint64_t k0, k1;   /* 128-bit keyed hash of the id */
	uint32_t last_s;   /* last seen, seconds since 2000-01-01 */
	uint16_t journey;  /* journey id + 1 of the latest instance; 0: none */
	uint8_t step, flags; /* highest step reached; JF_* bits (instances.c) */
	uint32_t inst_start_s; /* the instance's start, seconds since 2000-01-01 */
	uint32_t step_off; /* its latest step after inst_start_s (cxm__off_encode) */
} cust_entry;

/* An offset from an instance's start (cust_entry::step_off, the times of
 * a signal record) in 32 bits: ms below 2^31 ms (24.8 days), whole
 * seconds after that (bit 31 set), up to 68 years. The encoding keeps
 * order, and decoding gives back the offset to the ms below 24.8 days
 * and to the second (never later) above. */
#define OFF_SECS UINT32_C(0x80000000)
static inline uint32_t cxm__off_encode(int64_t ms)
{
	if (ms < (int64_t)OFF_SECS)
		return ms < 0 ? 0 : (uint32_t)ms;
	int64_t s = (ms - (int64_t)OFF_SECS) / 1000;
	return OFF_SECS | (uint32_t)(s > (int64_t)~OFF_SECS ? (int64_t)~OFF_SECS : s);
}
static inline int64_t cxm__off_ms(uint32_t x)
{
	return (x & OFF_SECS) ? (int64_t)OFF_SECS + (int64_t)(x & ~OFF_SECS) * 1000 : (int64_t)x;
}

/* The largest cxm_config::max_customers (2^30). */
#define CUST_MAX_CUSTOMERS (UINT32_C(1) << 30)
/* Entries a stripe may hold and the slots it has, for max_customers. */
CXM_INTERNAL void cxm__customer_geometry(uint32_t max_customers, uint32_t *stripe_max,
					 uint32_t *cap);

#define CUST_STRIPES 64
/* Padded to two cache lines so that neighbouring stripes' locks and
 * counters are not shared between cores (the allocator only promises
 * max_align_t, so _Alignas could not be relied on). */
typedef struct cust_stripe {
	pthread_mutex_t lock;
	cust_entry *slots;
	uint64_t evicted, refused, forgotten;
	uint32_t cap, max, count;
	uint32_t full_cap; /* cap grows on demand (doubling) up to this */
	/* slots and cap again, stored under the lock and read without it
	 * only to prefetch (cxm__customer_prefetch): a stale pair at worst
	 * prefetches a line that is no longer the customer's */
	_Atomic(cust_entry *) pf_slots;
	_Atomic uint32_t pf_cap;
	char pad[128 - sizeof(pthread_mutex_t) - 2 * sizeof(cust_entry *) - 3 * sizeof(uint64_t) -
		 6 * sizeof(uint32_t)];
} cust_stripe;
_Static_assert(sizeof(cust_stripe) == 128, "cust_stripe spans two cache lines");

typedef struct cust_table {
	cust_stripe stripes[CUST_STRIPES];
	_Atomic uint64_t count; /* over all stripes: max_customers applies to it */
} cust_table;

/* Start loading the customer table's line where customer h's probe
 * begins (no lock; nothing is read or written), so that the probe of
 * cxm__customer_seen, a few hundred instructions later, finds it cached. */
CXM_INTERNAL void cxm__customer_prefetch(const cxm_context *ctx, const uint64_t h[2]);
/* A customer id's keyed hash (SipHash-2-4 under the context's key, 128
 * bits), never all zero (that marks an empty slot): the key of the
 * customer table and of the survey governor (ground.c). */
CXM_INTERNAL void cxm__customer_hash(const cxm_context *ctx, const void *id, size_t len, uint64_t h[2]);
/* A caller's customer id: INVALID (ctx, id NULL or len 0) or TOO_LONG. */
CXM_INTERNAL cxm_status cxm__check_customer_id(const cxm_context *ctx, const void *id, size_t len);
/* Record that customer h was seen at t on touchpoint tp, with the segment
 * slots of the interaction (slots[0] = 0, the overall slot), and advance its
 * journey (instances.c) and judge its signals (signals.c; failed: the
 * FAILURE signals the interaction's measures meet); may evict, or refuse (CXM_ERR_LIMIT), or reject a
 * journey interaction too far behind the customer's latest (CXM_ERR_TOO_LATE).
 * On failure nothing of the customer or its journeys changed. */
CXM_INTERNAL cxm_status cxm__customer_seen(cxm_context *ctx, const uint64_t h[2], int64_t t_ms,
					   cxm_id tp, const uint32_t *slots, uint32_t n_slots,
					   uint64_t failed);
/* What cxm__customer_seen() would return for the customer's journey
 * order and the table's REFUSE limit, without changing anything. */
CXM_INTERNAL cxm_status cxm__customer_check(cxm_context *ctx, const uint64_t h[2], int64_t t_ms,
					    cxm_id tp);
CXM_INTERNAL void cxm__customers_free(cxm_context *ctx);
CXM_INTERNAL void cxm__customers_stats(cxm_context *ctx, cxm_stats *out);
/* For snapshots (customers_io.c), without the table's internals. ensure: the
 * table, allocated on first use (CXM_ERR_NO_MEMORY). each: per stripe,
 * under its lock, fn(NULL, entries, payload), then (unless that returned
 * false) fn(entry, 0, payload) for each entry; counters gets evicted,
 * refused, forgotten. put (the table exists): combine x with the entry of
 * its hash (the later last-seen with its churn mark; the instance whose
 * latest step is later, the table's on a tie), or add it under
 * max_customers, or count it refused; no journey side effects, no
 * eviction. add_counters: to the table's evicted, refused, forgotten. */
enum { CUST_ADDED, CUST_COMBINED, CUST_NO_ROOM };
typedef bool (*cust_visit_fn)(const cust_entry *e, uint32_t entries, void *payload);
CXM_INTERNAL cxm_status cxm__customers_ensure(cxm_context *ctx);
CXM_INTERNAL void cxm__customers_each(cxm_context *ctx, cust_visit_fn fn, void *payload,
				      uint64_t counters[3]);
CXM_INTERNAL int cxm__customer_put(cxm_context *ctx, const cust_entry *x);
/* Before a run of puts: grow every stripe so that it can take the entries
 * whose digest's k1 values are given, all or nothing (CXM_ERR_NO_MEMORY
 * with the table unchanged), so that the puts do not allocate. */
CXM_INTERNAL cxm_status cxm__customers_reserve(cxm_context *ctx, const unsigned char *recs, size_t n,
					       size_t stride, size_t k1_at);
CXM_INTERNAL void cxm__customers_add_counters(cxm_context *ctx, uint64_t evicted, uint64_t refused,
					      uint64_t forgotten);
/* The CUSTOMERS section (customers_io.c, docs/snapshot.md): the table's
 * counters and entries into b, an entry's journey state only on journeys
 * below n_journeys (the MODEL section's count). read: into `into`, checked
 * against snap (the private context with the snapshot's model); `fresh`:
 * `into` is a load's private context, where every entry must be new and
 * fit; jmap: the snapshot's journey ids to into's (NULL: the same).
 * open_funnels: make in snap the funnels the section's open journey
 * instances fold into (the section is not consumed). */
struct wbuf;
struct snap_in;
CXM_INTERNAL void cxm__customers_write(cxm_context *ctx, struct wbuf *b, uint32_t n_journeys);
CXM_INTERNAL cxm_status cxm__customers_read(cxm_context *into, struct snap_in *in,
					    const cxm_context *snap, bool fresh, const cxm_id *jmap);
CXM_INTERNAL cxm_status cxm__customers_open_funnels(cxm_context *snap, const struct snap_in *in);

/* HyperLogLog registers (hll.c). */
struct metric;
CXM_INTERNAL void cxm__hll_clear(hll_cell *c);
CXM_INTERNAL void cxm__hll_add(const struct metric *m, hll_cell *c, uint64_t h);
CXM_INTERNAL void cxm__hll_merge_regs(const struct metric *m, hll_cell *dst, const hll_cell *src);
CXM_INTERNAL double cxm__hll_estimate(const struct metric *m, const hll_cell *c);

/* ---- journeys (journeys.c; each customer's instance: instances.c) -------- */

#define CUST_BASE_S INT64_C(946684800) /* 2000-01-01T00:00:00Z: origin of cust_entry times */

/* cust_entry::flags */
#define JF_CHAN 0x0fu    /* the first touchpoint's channel of the latest instance */
#define JF_OPEN 0x10u    /* that instance is in progress */
#define JF_DONE 0x20u    /* it reached the goal */
#define JF_CHURNED 0x40u /* a churn event, and no interaction since */

/* One change a journey interaction makes to the funnel counts. */
typedef struct jop {
	uint32_t journey;
	uint8_t kind;    /* JOP_* */
	uint8_t chan;    /* the instance's first-touch channel */
	uint8_t by_segment; /* also into the segment slots of the interaction */
	uint8_t pad;
	uint32_t a, b;   /* counter range [a, b], or the time series a */
	int64_t t_ms;    /* when */
	int64_t t0_ms;   /* when the instance began (its entry cohort) */
	double v;        /* seconds, for a time */
} jop;
enum { JOP_COUNT = 1, JOP_TIME = 2 };
#define JOPS_MAX 8

struct jmod;
struct jstate;
struct jgroup;
/* The touch of one interaction and what it does: the ops, and what the
 * ops need that does not exist yet, allocated before any lock is taken
 * and published (or freed) afterwards. */
typedef struct jwork {
	uint32_t journey, step, chan;
	int64_t t_ms;
	const uint32_t *slots;
	uint32_t n_slots;
	jop ops[JOPS_MAX];
	uint32_t n_ops;
	/* for the in-journey signals (signals.c), set by cxm__journey_apply:
	 * whether an instance of this journey was open when the touch came
	 * (and its highest step and start), and whether the touch began an
	 * instance or reached a new step */
	bool was_open, moved;
	/* the touchpoint is a step of no tracked journey (looked at only while
	 * a journey has CXM_JOURNEY_STRICT_ORDER, which it may break) */
	bool foreign;
	uint8_t was_step;
	uint32_t was_start_s;
	bool prepared;        /* cxm__journey_prepare ran: there may be something to free */
	struct jmod *mod;     /* private until published */
	struct jstate *js;
	struct jgroup *chan_g;  /* prepared group of channel chan */
	uint32_t chan2;         /* the open instance's channel, when it differs */
	struct jgroup *chan2_g; /* prepared group of channel chan2 */
	struct jgroup *slot_g[1 + 64];
} jwork;

/* Whether some journey has CXM_JOURNEY_STRICT_ORDER. */
CXM_INTERNAL bool cxm__journeys_strict_order(const cxm_context *ctx);
/* Fill w for an interaction on tp; false if tp advances no tracked journey
 * (and no journey has CXM_JOURNEY_STRICT_ORDER). */
CXM_INTERNAL bool cxm__journey_touch(cxm_context *ctx, cxm_id tp, int64_t t_ms,
				     const uint32_t *slots, uint32_t n_slots, jwork *w);
/* Apply w's touch to entry e (a zeroed entry for a new customer): e becomes
 * the new state and w->ops what to count. CXM_ERR_TOO_LATE (e unchanged)
 * when the touch is beyond the journey's lateness behind e's latest step. */
CXM_INTERNAL cxm_status cxm__journey_apply(cxm_context *ctx, jwork *w, cust_entry *e);
/* Make sure journey j's overall funnel and that of channel chan (0: none)
 * exist, so that the open instance of a loaded or merged customer counts
 * wherever it goes next (a snapshot's JOURNEYS section is optional). */
CXM_INTERNAL cxm_status cxm__journey_ensure_open(cxm_context *ctx, cxm_id j, uint32_t chan);
/* Whether an interaction on tp at t would be CXM_ERR_TOO_LATE for a
 * customer in state e (cxm_feed_check()); changes nothing. */
CXM_INTERNAL cxm_status cxm__journey_check(const cxm_context *ctx, cxm_id tp, int64_t t_ms,
					   const cust_entry *e);
/* Allocate (privately) what w->ops need and does not exist yet. */
CXM_INTERNAL cxm_status cxm__journey_prepare(cxm_context *ctx, jwork *w);
/* Take the pages w's folds will need (under the journeys' locks), so that
 * cxm__journey_commit does not meet a missing one; CXM_ERR_NO_MEMORY. */
CXM_INTERNAL cxm_status cxm__journey_reserve(cxm_context *ctx, jwork *w);
/* Whether everything w->ops need exists or is prepared. */
CXM_INTERNAL bool cxm__journey_ready(cxm_context *ctx, const jwork *w);
/* Publish what was prepared and count w->ops. Cannot fail. */
CXM_INTERNAL void cxm__journey_commit(cxm_context *ctx, jwork *w);
/* Free what was prepared and not published. */
CXM_INTERNAL void cxm__journey_release(cxm_context *ctx, jwork *w);
/* Close the instance of e if its deadline is before now_ms: returns the op. */
CXM_INTERNAL bool cxm__journey_expire(cxm_context *ctx, cust_entry *e, int64_t now_ms, jop *op);
CXM_INTERNAL void cxm__journey_count(cxm_context *ctx, const jop *op);
CXM_INTERNAL void cxm__journeys_free(cxm_context *ctx);
/* cxm_rewind(): the funnel and churn series (buckets discarded), and one
 * customer entry (its journey instance dropped if it has a step after
 * time_ms; true if so). */
CXM_INTERNAL uint64_t cxm__journeys_rewind(cxm_context *ctx, int64_t time_ms);
CXM_INTERNAL bool cxm__journey_rewind_entry(cust_entry *e, int64_t time_ms);
/* cxm_rewind(): every customer's last-seen and journey instance. */
CXM_INTERNAL void cxm__customers_rewind(cxm_context *ctx, int64_t time_ms);
/* Churn at t_ms: a private module if none is published yet, else the
 * pages of the churn series' bucket (CXM_ERR_NO_MEMORY: nothing changed),
 * then count (publishing it) or release (both give back what was not used). */
CXM_INTERNAL cxm_status cxm__churn_reserve(cxm_context *ctx, struct jmod **mine, int64_t t_ms);
CXM_INTERNAL void cxm__churn_count(cxm_context *ctx, struct jmod **mine, int64_t t_ms);
CXM_INTERNAL void cxm__churn_release(cxm_context *ctx, struct jmod **mine);

/* ---- journey state in snapshots (journeys_io.c, with codec.c's codec) ---- */

/* The snapshot codec (codec.c): a section buffer to write into, and a
 * section being read (its messages go to the caller's context,
 * cxm__snap_ctx). Every get checks the bytes left; a series record is a
 * series' epochs and cells, read into a new series of `into` (every epoch
 * and cell checked). */
struct wbuf;
struct snap_in;
struct series;
CXM_INTERNAL void cxm__snap_put32(struct wbuf *b, uint32_t v);
CXM_INTERNAL void cxm__snap_put64(struct wbuf *b, uint64_t v);
CXM_INTERNAL void cxm__snap_put_f64(struct wbuf *b, double v);
CXM_INTERNAL void cxm__snap_put_series(struct wbuf *b, const struct series *s);
/* A string: u32 length and its bytes; read into out (cap bytes with the
 * NUL; longer, or holding a NUL, is CORRUPT). */
CXM_INTERNAL void cxm__snap_putstr(struct wbuf *b, const char *s);
CXM_INTERNAL cxm_status cxm__snap_getstr(struct snap_in *in, char *out, size_t cap);
CXM_INTERNAL cxm_context *cxm__snap_ctx(const struct snap_in *in);
/* An instance offset (cust_entry::step_off, a signal record's times) as
 * the snapshot being read wrote it, in today's encoding: formats before 4
 * wrote plain ms. */
CXM_INTERNAL uint32_t cxm__snap_offset(const struct snap_in *in, uint32_t x);
CXM_INTERNAL size_t cxm__snap_left(const struct snap_in *in);
CXM_INTERNAL cxm_status cxm__snap_get32(struct snap_in *in, uint32_t *v);
CXM_INTERNAL cxm_status cxm__snap_get64(struct snap_in *in, uint64_t *v);
/* A u64 read as the bits of a double, or as an int64_t. */
CXM_INTERNAL cxm_status cxm__snap_get_f64(struct snap_in *in, double *v);
CXM_INTERNAL cxm_status cxm__snap_get_i64(struct snap_in *in, int64_t *v);
CXM_INTERNAL cxm_status cxm__snap_get_series(struct snap_in *in, cxm_context *into,
					     struct series *s);
/* The JOURNEYS section (docs/snapshot.md) into b, and the COHORTS section
 * into cb: the journeys, segments and segment values below the counts the
 * MODEL section holds. */
CXM_INTERNAL void cxm__journeys_write(cxm_context *ctx, struct wbuf *b, struct wbuf *cb,
				      uint32_t n_journeys, uint32_t n_segments, const uint32_t *n_values);
/* Read it into `into` (a private context with the snapshot's model). */
CXM_INTERNAL cxm_status cxm__journeys_read(cxm_context *into, struct snap_in *in);
/* The COHORTS section: each funnel group's entry cohorts (cohorts.c), its
 * bytes written into the second buffer of cxm__journeys_write (with the
 * groups of JOURNEYS) and read into the groups JOURNEYS made. */
CXM_INTERNAL cxm_status cxm__journeys_cohorts_read(cxm_context *into, struct snap_in *in);
/* Merging src's journey state into dst: prepare checks the options and
 * allocates what dst lacks (nothing changes in dst; on failure nothing is
 * left and *plan is NULL); commit publishes and adds (cannot fail); abort
 * gives the allocations back. jmap and slotmap map src's journey ids and
 * segment slots to dst's. */
struct jmerge;
/* CXM_ERR_EXISTS (or LIMIT) unless every journey with state in src has
 * the same options in dst; allocates nothing. */
CXM_INTERNAL cxm_status cxm__journeys_merge_check(cxm_context *dst, cxm_context *src,
						  const cxm_id *jmap);
CXM_INTERNAL cxm_status cxm__journeys_merge_prepare(cxm_context *dst, cxm_context *src,
						    const cxm_id *jmap, const uint32_t *slotmap,
						    struct jmerge **plan);
CXM_INTERNAL void cxm__journeys_merge_commit(cxm_context *dst, cxm_context *src,
					     struct jmerge *plan);
CXM_INTERNAL void cxm__journeys_merge_abort(cxm_context *dst, struct jmerge *plan);

/* ---- model (model.c; look-ups and checks: model_lookup.c) -------------- */

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
	uint8_t page_shift[CXM_MAX_TIERS]; /* a page of tier k holds 1 << page_shift[k] slots */
	/* the lifetime cell (export.c): everything ever folded, never rolled or
	 * expired, after the hot cell in the header; none for a DISTINCT */
	size_t life_size;      /* bytes of the lifetime cell, 0 for none */
	size_t hot_size;       /* bytes of the hot cell (full for a sparse DURATION) */
	size_t head_size;      /* bytes of the header: hot and lifetime cells */
	/* the journeys' funnel and churn series: full cells from the bins
	 * tier up (no bin stores to grow); their pages are reserved before
	 * the customer moves on (instances.c) */
	bool full_cells;
} metric;

typedef struct segment {
	char *name;
	uint32_t max_values;
	uint32_t slot_base; /* series slot of value 0 is 1 + slot_base */
	_Atomic uint32_t n_values;
	char **values;
	name_table index;
} segment;

/* ---- triggers and their event queue (triggers.c) ---------------------- */

typedef struct trig_mod trig_mod;
/* Test the accepted interaction ix against the rules; queue what matches.
 * hash: its customer's keyed hash, or NULL when it has none. */
CXM_INTERNAL void cxm__triggers_match(cxm_context *ctx, const cxm_interaction *ix,
				      const uint64_t *hash);
CXM_INTERNAL void cxm__triggers_stats(const cxm_context *ctx, cxm_stats *s);
CXM_INTERNAL void cxm__triggers_free(cxm_context *ctx);
/* The event queue for other producers (alerts): made if need be (under
 * def_lock; NO_MEMORY with the message), and an event put on it (dropped
 * and counted when full; nothing without a queue). */
CXM_INTERNAL cxm_status cxm__events_ready(cxm_context *ctx);
CXM_INTERNAL void cxm__events_put(cxm_context *ctx, cxm_event_kind kind, cxm_id rule,
				  const uint64_t *hash, int64_t time_ms, cxm_id touchpoint, cxm_id metric,
				  uint32_t item, double value);
/* Whether v compares with x as op says (a trigger's or a signal's test). */
/* Whether v is m's "no answer" code: received and counted, never a value. */
static inline bool cxm__is_na(const metric *m, double v)
{
	return m->def.has_na && v == (double)m->def.na_value;
}

static inline bool cxm__cmp_holds(cxm_cmp op, double v, double x)
{
	switch (op) {
	case CXM_CMP_LT: return v < x;
	case CXM_CMP_LE: return v <= x;
	case CXM_CMP_GT: return v > x;
	case CXM_CMP_GE: return v >= x;
	case CXM_CMP_EQ: return v == x;
	case CXM_CMP_NE: return v != x;
	}
	return false;
}
/* What a snapshot's MODEL section holds (its counts): triggers, surveys
 * and alerts write themselves up to the first that names more. */
typedef struct snap_limits {
	uint32_t metrics, touchpoints, journeys, segments;
	const uint32_t *values; /* per segment */
} snap_limits;

/* Whether a metric (CXM_NONE: none), a scope and a segment filter (dim
 * CXM_NONE: none) name only what lim holds. */
static inline bool cxm__snap_fits(const snap_limits *lim, cxm_id mid, cxm_scope scope, cxm_id id,
				  cxm_id dim, uint32_t value)
{
	if (mid != CXM_NONE && mid >= lim->metrics)
		return false;
	if (scope == CXM_SCOPE_TOUCHPOINT && id >= lim->touchpoints)
		return false;
	if ((scope == CXM_SCOPE_STEP || scope == CXM_SCOPE_JOURNEY) && id >= lim->journeys)
		return false;
	return dim == CXM_NONE || (dim < lim->segments && value < lim->values[dim]);
}

/* The MODEL section (model_io.c, docs/snapshot.md): the definitions
 * published when it is written, in id order, into b; what it holds into
 * *lim, whose values point at `values` (64: one a segment, the most
 * max_segments allows): series, customers and sections that refer to
 * later definitions (defined while the snapshot is written) are left out
 * of it. read: each definition defined into `into` (a private context
 * with the caller's configuration) as a caller would; name: a buffer of
 * max_name_len + 1 bytes. */
struct wbuf;
struct snap_in;
CXM_INTERNAL void cxm__model_write(cxm_context *ctx, struct wbuf *b, snap_limits *lim,
				   uint32_t *values);
CXM_INTERNAL cxm_status cxm__model_read(cxm_context *into, struct snap_in *in, char *name);

/* The TRIGGERS section (docs/snapshot.md): the rules, in id order, up to
 * the first that names a definition beyond the counts the MODEL section
 * holds. Read: defined into `into` (a private context with the
 * snapshot's model), each checked as cxm_trigger_define() checks it. */
struct wbuf;
struct snap_in;
CXM_INTERNAL void cxm__triggers_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim);
CXM_INTERNAL cxm_status cxm__triggers_read(cxm_context *into, struct snap_in *in);

/* ---- in-journey signals (signals.c) ------------------------------------- */

typedef struct sig_mod sig_mod;
/* The FAILURE signals whose test a measure of ix meets on its touchpoint
 * (a bit per signal id): judged by cxm__signals_contact(). */
CXM_INTERNAL uint64_t cxm__signals_failures(const cxm_context *ctx, const cxm_interaction *ix);
/* Judge the signals of customer h's journey touch w, which left the
 * customer in state after (tp: the interaction's touchpoint; failed: from
 * cxm__signals_failures). Called with the customer's stripe lock held. */
CXM_INTERNAL void cxm__signals_contact(cxm_context *ctx, const uint64_t h[2], const jwork *w,
				       const cust_entry *after, cxm_id tp, uint64_t failed);
/* Drop customer h's signal state (forgotten, evicted, instance closed). */
CXM_INTERNAL void cxm__signals_forget(cxm_context *ctx, const uint64_t h[2]);
/* STUCK, by cxm_journey_sweep(): begin (false: no signals; otherwise the
 * sweep lock is held until end), then, under the customer's stripe lock,
 * each open instance e whose latest step was at last_ms and that stays
 * open until end_ms; end (done: the whole table was visited). */
CXM_INTERNAL bool cxm__signals_sweep_begin(cxm_context *ctx);
CXM_INTERNAL void cxm__signals_stuck(cxm_context *ctx, const cust_entry *e, int64_t last_ms,
				     int64_t end_ms, int64_t now_ms);
CXM_INTERNAL void cxm__signals_sweep_end(cxm_context *ctx, int64_t now_ms, bool done);
CXM_INTERNAL void cxm__signals_stats(const cxm_context *ctx, cxm_stats *out);
CXM_INTERNAL void cxm__signals_free(cxm_context *ctx);
struct wbuf;
struct snap_in;
CXM_INTERNAL void cxm__signals_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim);
CXM_INTERNAL cxm_status cxm__signals_read(cxm_context *into, struct snap_in *in);

/* ---- the survey governor (governor.c) ----------------------------------- */

typedef struct gov_mod gov_mod;
CXM_INTERNAL void cxm__governor_free(cxm_context *ctx);
/* Erase the customer of hash h; whether it was kept. */
CXM_INTERNAL bool cxm__governor_forget(cxm_context *ctx, const uint64_t h[2]);
/* The GOVERNOR section (docs/snapshot.md): the surveys (up to the first
 * whose scope the MODEL section does not hold), the rules across surveys
 * and every kept customer's records of those surveys. Read: defined and
 * put into `into` (a private context with the snapshot's model). */
CXM_INTERNAL void cxm__governor_write(cxm_context *ctx, struct wbuf *b,
				      const snap_limits *lim);
CXM_INTERNAL cxm_status cxm__governor_read(cxm_context *into, struct snap_in *in);
/* Merging src's history into dst (surveys matched by name; a record kept
 * once): prepare makes the entries and arrays the union needs (nothing
 * visible changes; on failure nothing is left and *plan is NULL), commit
 * writes the unions (cannot fail), abort gives everything back. */
struct gov_merge;
CXM_INTERNAL cxm_status cxm__governor_merge_prepare(cxm_context *dst, cxm_context *src,
						    struct gov_merge **plan);
CXM_INTERNAL void cxm__governor_merge_commit(cxm_context *dst, cxm_context *src,
					     struct gov_merge *plan);
CXM_INTERNAL void cxm__governor_merge_abort(cxm_context *dst, struct gov_merge *plan);

/* ---- queries (query.c) --------------------------------------------------- */

/* cxm_query_run() and cxm_query_compare() for callers that read only the
 * headline, n, mean, stddev, sum, min and max (alerts): a DURATION's
 * distribution is not read, its quantiles are NaN, its quantile_* fields
 * and CLAMPED flag are not set. Everything else is as the public calls. */
CXM_INTERNAL cxm_status cxm__query_headline(cxm_result *out, cxm_context *ctx, const cxm_query *q);
/* cxm_query_run() of q2 into element i of out (stride out[0].size); with
 * exact, flagged CXM_RESULT_INEXACT when the window placed is not exactly
 * [end_ms + 1 - span_ms, end_ms + 1). */
CXM_INTERNAL cxm_status cxm__query_into(cxm_result *out, size_t i, cxm_context *ctx,
					const cxm_query *q2, bool exact);
/* The checks every multi-result query makes before writing anything: the
 * pointers, the caller's array (cap elements), and the query q. */
CXM_INTERNAL cxm_status cxm__query_multi_args(cxm_result *out, size_t cap, size_t *n_out,
					      cxm_context *ctx, const cxm_query *q);
CXM_INTERNAL cxm_status cxm__query_compare_headline(cxm_comparison *out, cxm_context *ctx,
						    const cxm_query *a, const cxm_query *b);

/* ---- time zones and calendar buckets (calendar.c) ----------------------- */

/* A time zone: its UTC offsets and changes from a TZif file (and its POSIX
 * rule for instants after the last change). Immutable once loaded. */
typedef struct cxm__zone cxm__zone;
typedef struct zone_mod zone_mod;
/* The most zones one context loads (CXM_ERR_LIMIT past it). */
#define CXM__ZONES_MAX 64
/* The zone named name ("America/New_York"; "UTC" needs no file), loaded
 * from $TZDIR or /usr/share/zoneinfo on its first use in ctx and kept
 * until the context is destroyed. Fails through cxm__fail with: INVALID
 * (name NULL); ENCODING (empty, absolute, an empty, "." or ".." part, or a
 * byte outside A-Z a-z 0-9 / _ + - .); TOO_LONG (over CXM_TZ_NAME_MAX bytes);
 * UNKNOWN_ID (no such zone file); CORRUPT (not a valid TZif file);
 * LIMIT (CXM__ZONES_MAX zones loaded); NO_MEMORY; IO (a read failed).
 * Thread-safe; *out stays valid until the context is destroyed. */
CXM_INTERNAL cxm_status cxm__zone_get(cxm_context *ctx, const char *name, const cxm__zone **out);
CXM_INTERNAL void cxm__zones_free(cxm_context *ctx);
/* Local time minus UTC, in ms, at instant t_ms. */
CXM_INTERNAL int64_t cxm__zone_offset_ms(const cxm__zone *z, int64_t t_ms);
/* The calendar bucket [*start, *end) (UTC ms) of unit u in zone z that
 * holds instant t_ms (0 <= t_ms <= CXM_TIME_MAX). A bucket begins at the
 * earliest instant whose local time is at or after the local midnight
 * that begins it: where a change skips midnight, at the change; where a
 * change repeats it, at its first occurrence. The results may lie outside
 * [0, CXM_TIME_MAX] (December 1969 in a zone west of UTC). */
CXM_INTERNAL void cxm__calendar_bucket(const cxm__zone *z, cxm_calendar_unit u, int64_t t_ms,
				       int64_t *start, int64_t *end);

/* ---- Student's t (stats.c) ------------------------------------------------ */

/* P(|T| >= t) for Student's t with df degrees of freedom. */
CXM_INTERNAL double cxm__t_two_sided(double t, double df);
/* The t with P(|T| >= t) = tail. */
CXM_INTERNAL double cxm__t_quantile(double tail, double df);

/* ---- key drivers (drivers.c) ---------------------------------------------- */

struct drv_mod;
struct drv_merge;
CXM_INTERNAL void cxm__drivers_free(cxm_context *ctx);
/* Whether ix (not yet validated) carries a metric of some driver set: a
 * batch then applies that customer's interactions in their order, or an
 * outcome could be paired before the value fed just before it. */
CXM_INTERNAL bool cxm__drivers_touch(const cxm_context *ctx, const cxm_interaction *ix);
/* Erase customer h's records in every driver set; whether there was one. */
CXM_INTERNAL bool cxm__drivers_forget(cxm_context *ctx, const uint64_t h[2]);
/* Whether ix (with a customer id: hash) carries a metric of a driver set;
 * if so, start loading the customer's record in each such set, long
 * before cxm__drivers_feed() reads it (a hint: never faults, changes
 * nothing). */
CXM_INTERNAL bool cxm__drivers_prefetch(const cxm_context *ctx, const cxm_interaction *ix,
					const uint64_t *hash);
/* An accepted interaction with a customer id (hash): set its driver
 * values and pair its outcome, in every driver set. */
CXM_INTERNAL void cxm__drivers_feed(cxm_context *ctx, const cxm_interaction *ix, const uint64_t *hash);
/* The DRIVERS section (docs/snapshot.md): sets whose ids the MODEL
 * section written (lim) holds, their statistics and customer records. */
CXM_INTERNAL void cxm__drivers_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim);
CXM_INTERNAL cxm_status cxm__drivers_read(cxm_context *into, struct snap_in *in);
/* Merging src's driver statistics and records into dst's sets of the same
 * name and drivers (metric and touchpoint ids mapped): prepare allocates
 * (CXM_ERR_NO_MEMORY: nothing changed), commit cannot fail, abort gives
 * back what prepare took. */
CXM_INTERNAL cxm_status cxm__drivers_merge_prepare(cxm_context *dst, cxm_context *src,
						   const cxm_id *metric_map, const cxm_id *tp_map,
						   struct drv_merge **out);
CXM_INTERNAL void cxm__drivers_merge_commit(cxm_context *dst, cxm_context *src, struct drv_merge *m);
CXM_INTERNAL void cxm__drivers_merge_abort(cxm_context *dst, struct drv_merge *m);

/* ---- named baselines (baselines.c) --------------------------------------- */

CXM_INTERNAL void cxm__baselines_free(cxm_context *ctx);
/* The BASELINES section (docs/snapshot.md): the definitions, by name,
 * but a TARGET of a metric the MODEL section written (lim) does not hold
 * (defined by another thread meanwhile). */
CXM_INTERNAL void cxm__baselines_write(cxm_context *ctx, struct wbuf *b, const snap_limits *lim);
CXM_INTERNAL cxm_status cxm__baselines_read(cxm_context *into, struct snap_in *in);
/* q's headline against the value a (a comparison whose a is a, with no
 * error of its own); as cxm_query_compare() otherwise. */
CXM_INTERNAL cxm_status cxm__query_vs_value(cxm_comparison *out, cxm_context *ctx, const cxm_query *q,
					    double a);

/* ---- metric alerts (alerts.c) ------------------------------------------ */

typedef struct alert_mod alert_mod;
CXM_INTERNAL void cxm__alerts_free(cxm_context *ctx);
/* The alerts' states into the exposition: for each alert, its name and
 * whether it fires, through fn. */
typedef void (*alert_visit_fn)(void *arg, const char *name, bool firing);
CXM_INTERNAL void cxm__alerts_each(cxm_context *ctx, alert_visit_fn fn, void *arg);
/* The ALERTS section (docs/snapshot.md): definitions and states, up to the
 * first alert whose query names what the MODEL section does not hold.
 * Read: defined into `into` as cxm_alert_define() checks them, with
 * their states. */
CXM_INTERNAL void cxm__alerts_write(cxm_context *ctx, struct wbuf *b,
				    const snap_limits *lim);
CXM_INTERNAL cxm_status cxm__alerts_read(cxm_context *into, struct snap_in *in);

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
/* A scope as queries, triggers and surveys give it: CXM_OK when the model
 * holds what it names, else UNKNOWN_ID (or INVALID for no cxm_scope), with
 * the message. */
CXM_INTERNAL cxm_status cxm__check_scope(const cxm_context *ctx, cxm_scope scope, cxm_id id,
					 cxm_id step);
/* A test of one measure, as triggers and FAILURE signals give it: the
 * metric exists and has measures (not VOLUME or DISTINCT: KIND), item is
 * one of its questions (OUT_OF_RANGE), op a cxm_cmp (INVALID), threshold
 * finite (NOT_FINITE); who ("a trigger", "a signal") names the caller in
 * the message. */
CXM_INTERNAL cxm_status cxm__check_measure_test(const cxm_context *ctx, cxm_id metric, uint32_t item,
						cxm_cmp op, double threshold, const char *who);
/* Whether touchpoint tp (defined) is in a checked scope. */
CXM_INTERNAL bool cxm__tp_in_scope(const cxm_context *ctx, cxm_id tp, cxm_scope scope, cxm_id id,
				   cxm_id step);

/* ---- series and windows (window.c) ------------------------------------- */

/* A series is a header, holding the newest finest bucket ("hot": nearly
 * every fold lands there and touches nothing else), the finest bucket
 * that was hot before it ("warm": values that come in late by less than
 * a bucket land there, and it goes into its ring slot when the hot one
 * moves on again) and the lifetime cell,
 * and per tier a ring whose slots live on pages allocated with their
 * first bucket (window.c). bytes is what it holds now, also added to
 * *acct (its shard's series_bytes, under the shard's lock) when not NULL. */
struct page;
typedef struct series {
	const metric *m;
	/* what a fold reads first, on the header's first line */
	int64_t hot_epoch;          /* finest epoch held in *hot, or TAG_EMPTY */
	/* finest epoch held in *warm: the newest finest bucket older than
	 * the hot one within the finest ring's reach (every ring bucket of
	 * the finest tier is older; its own slot holds none), TAG_EMPTY when
	 * there is none; the same whatever order the data came in, so that
	 * a loaded series weighs what the saved one did */
	int64_t warm_epoch;
	void *hot, *warm;           /* two finest-tier cells of cells[], swapped as the hot one moves on */
	uint64_t *acct;
	size_t bytes;
	struct page **dir[CXM_MAX_TIERS];  /* per tier: its pages (NULL: none), after the header */
	uint32_t pages[CXM_MAX_TIERS];      /* pages tier k holds */
	uint32_t reserved;          /* pages reserved since the last fold: some may hold no bucket */
	uint32_t resv[6];           /* the first of them: tier << 24 | page */
	int64_t top[CXM_MAX_TIERS]; /* newest epoch per tier, TAG_EMPTY if none */
	uint32_t top_idx[CXM_MAX_TIERS]; /* ring slot of top[k] */
	int64_t bins_epoch;         /* bins-tier epoch of bins_cell, or TAG_EMPTY */
	void *bins_cell;
	void *life;                 /* the lifetime cell (a full cell), or NULL */
	/* The query cache (series_scan.c): NULL, or QC_SLOTS full cells
	 * allocated together on first use and kept; cell i holds, when
	 * qc_h[i] is not TAG_EMPTY, the merge of the finest tier's ring
	 * buckets of second-tier bucket qc_h[i] (an hour's minutes), and
	 * serves the hours h with h % QC_SLOTS == i. window.c drops a cell
	 * when one of its hour's ring buckets changes, and adds the warm or
	 * hot bucket into it when that moves into its ring slot. */
	void *qc;
	int64_t qc_h[3];
	uint64_t cells[];           /* those two, the lifetime cell, the tiers' page directories */
} series;

CXM_INTERNAL void cxm__metric_layout(const cxm_context *ctx, metric *m);
/* Bytes of an idle series of m (its header). */
CXM_INTERNAL size_t cxm__series_size(const cxm_context *ctx, const metric *m);
CXM_INTERNAL series *cxm__series_new(cxm_context *ctx, const metric *m, uint64_t *acct);
CXM_INTERNAL void cxm__series_free(cxm_context *ctx, series *s);
/* Move s's bytes from its account to acct. */
CXM_INTERNAL void cxm__series_set_acct(series *s, uint64_t *acct);
/* True for a series nothing was ever folded into. */
CXM_INTERNAL bool cxm__series_empty(const series *s);
/* Allocate what folding into finest epoch e will need, so that
 * cxm__series_cell(e) cannot fail; false: no memory (nothing changed but
 * what it reserved: cxm__series_unreserve gives that back). */
/* Ring cells of sparse DURATIONs whose stores a reservation grew: undone
 * (the old stores back) when the feed is refused, else the old freed. */
#define COVER_LOG_MAX 64
typedef struct cover_rec {
	series *s;
	sketch_cell *cell;
	sketch_store old;
	const void *like; /* the cell whose bins it was grown for (NULL: one value's) */
	int64_t x;      /* its bucket */
	uint32_t k, pi; /* its tier and page, pinned until done */
	bool filled;    /* the store holds like's counts too (cxm__sketch_fill_like) */
} cover_rec;
typedef struct cover_log {
	uint32_t n;
	cover_rec r[COVER_LOG_MAX];
} cover_log;
/* v: the value to fold (a DURATION's bin may need room; NAN: none). */
/* (series.h inlines the common case, e the hot bucket, as
 * cxm__series_reserve; this is the rest) */
CXM_INTERNAL bool cxm__series_reserve_at(const cxm_context *ctx, series *s, int64_t e, double v,
					 cover_log *log);
CXM_INTERNAL void cxm__covers_done(const cxm_context *ctx, cover_log *log, bool undo);
/* A loaded ring cell of s: its store made to hold bins [lo, hi]. */
CXM_INTERNAL bool cxm__series_cover(cxm_context *ctx, series *s, void *cell, uint32_t lo, uint32_t hi);
/* A ring cell of s whose bins were written: its store packed or not,
 * whichever is smaller, or a range while the bucket is `open`
 * (cxm__sketch_fit); left as it is without memory. */
CXM_INTERNAL void cxm__series_fit(cxm_context *ctx, series *s, void *cell, bool open);
/* Whether bucket e of tier k is open: the newest of a tier coarser than
 * the finest, which roll-ups are still adding to. */
static inline bool cxm__series_open(const series *s, uint32_t k, int64_t e)
{
	return k >= 1 && e == s->top[k];
}
/* Before a merge adds buckets: pages for bucket x of tier k wherever it
 * may land (tier k or a coarser one), and for the buckets of s that tops
 * of the source (top[k] per tier, TAG_EMPTY for none) make roll up;
 * false: no memory. */
CXM_INTERNAL bool cxm__series_reserve_bucket(const cxm_context *ctx, series *s, uint32_t k,
					     int64_t x);
CXM_INTERNAL bool cxm__series_reserve_tops(const cxm_context *ctx, series *s, const int64_t *top);
/* Give back reserved pages no bucket took (after a fold or merge, or
 * when it did not happen). */
CXM_INTERNAL void cxm__series_unreserve(const cxm_context *ctx, series *s);
/* The tier-0 cell for epoch e, rolling older buckets up as needed. The
 * caller guarantees e > top[0] - n_0. NULL only when e's slot needed a
 * page and no memory was left (never after cxm__series_reserve(e)).
 * (series.h inlines the common case, e the hot bucket, as
 * cxm__series_cell; this is the rest.) */
/* log: the reservation's (NULL: none), whose covers the move of the hot
 * cell into its ring slot need not repeat. */
CXM_INTERNAL void *cxm__series_cell_at(const cxm_context *ctx, series *s, int64_t e,
				       const cover_log *log);
/* The bins-tier cell holding the distribution of finest epoch e (NULL: no
 * memory for its page). */
CXM_INTERNAL void *cxm__series_bins_cell(const cxm_context *ctx, series *s, int64_t e);
/* A window as read: [a, b) on bucket boundaries of whichever tier holds
 * the data there, [qa, qb) widened to whole buckets of tier bins_tier (a
 * DURATION's distribution, a funnel's times), and CXM_RESULT_TRUNCATED in
 * flags when the tiers' retention cut the window's start. The one
 * placement of cxm_query_run, cxm_funnel_run and cxm_churn_rate (see
 * "Windows" in cxm.h). */
typedef struct window_span {
	int64_t a, b, qa, qb;
	uint32_t flags;
} window_span;
CXM_INTERNAL void cxm__window_place(const cxm_context *ctx, int64_t end_ms, int64_t span_ms,
				   uint32_t bins_tier, window_span *out);
/* The same window in whole buckets of `width` ms (entry cohorts: hours)
 * that do not depend on the tiers, cut (TRUNCATED) at the horizon. */
CXM_INTERNAL void cxm__window_place_whole(const cxm_context *ctx, int64_t end_ms, int64_t span_ms,
					  int64_t width, window_span *out);
/* The start of the oldest finest-tier-aligned instant the coarsest tier
 * keeps behind the watermark (what a window reaching further is cut to);
 * INT64_MIN before the first interaction. */
CXM_INTERNAL int64_t cxm__window_horizon(const cxm_context *ctx);
/* A query's end_ms as an instant: CXM_NOW and CXM_WATERMARK resolved (the
 * watermark as the last ms of its finest bucket), within 0 .. CXM_TIME_MAX. */
CXM_INTERNAL int64_t cxm__window_end(const cxm_context *ctx, int64_t end_ms);
enum read_part { READ_ALL, READ_MOMENTS, READ_DIST };
/* Merge into acc (a full cell) every bucket whose start lies in [a, b):
 * whole cells, or for a DURATION only the moments or only the distribution. */
CXM_INTERNAL void cxm__series_read(const cxm_context *ctx, const series *s, int64_t a, int64_t b,
				   void *acc, enum read_part part);
/* The same, for a query holding the series' shard lock: where [a, b)
 * covers all the finest buckets of a second-tier bucket that the finest
 * ring holds, their merge is read from the query cache (made on first
 * use; without memory for it, the buckets one by one). Sums can differ
 * from cxm__series_read's in their last bits (another order of adding). */
CXM_INTERNAL void cxm__series_read_cached(const cxm_context *ctx, series *s, int64_t a, int64_t b,
					  void *acc, enum read_part part);
CXM_INTERNAL void cxm__cell_clear(const metric *m, void *cell);
/* An empty full cell (m->cell_size bytes: an accumulator, a scratch). */
CXM_INTERNAL void cxm__cell_init_full(const metric *m, void *cell);
CXM_INTERNAL void cxm__cell_merge(const metric *m, void *dst, const void *src);
/* The "no answer" codes a cell counted (0 for kinds that take none). */
CXM_INTERNAL uint64_t cxm__cell_na(const metric *m, const void *cell);
CXM_INTERNAL void cxm__cell_fold(const metric *m, void *cell, uint32_t item, double v);
/* The figures of full cell `cell` of metric m into res (cell_result.c):
 * n, the boxes and shares, the moments, for a DURATION with `quantiles`
 * its quantiles and quantile_n (and the CLAMPED flag), for a DISTINCT
 * its estimate, the headline and its interval at normal quantile z, the
 * "no answer" count (skipped). The caller has set every other field
 * (kind, window, flags, NaN defaults) and sets the quantiles' window. */
CXM_INTERNAL void cxm__cell_result(const metric *m, const void *cell, double z, bool quantiles,
				   cxm_result *res);
/* A cell's counters as totals (what the exposition shows of a lifetime
 * cell): n (values, outcomes, counts, ids), yes (RATE: outcomes of 1),
 * positive and negative (SENTIMENT), the "no answer" codes, and sum
 * (AMOUNT, SENTIMENT, DURATION); 0 where a kind has none. */
typedef struct cell_totals {
	uint64_t n, yes, positive, negative, na;
	double sum;
} cell_totals;
CXM_INTERNAL void cxm__cell_totals(const metric *m, const void *cell, cell_totals *t);
/* A SCORE or INDEX cell's answers of question q per point of the scale
 * (m->points counts, from scale_min up); valid while the cell is. */
CXM_INTERNAL const uint64_t *cxm__cell_points(const metric *m, const void *cell, uint32_t q);
/* Snapshots and merges: the buckets tier k holds (the hot one apart; the
 * warm one, which snapshots write as a ring bucket, counted), and each of
 * them visited; put a loaded bucket e in tier k (whose top the
 * loader set): CXM_ERR_EXISTS when its slot is taken, CXM_ERR_NO_MEMORY;
 * *cell is then the slot's cell to fill. merge_bucket adds a tier-k cell
 * as bucket e of tier k, or of the coarser tier that holds that time by
 * now (dropped when none does); false: no memory for it. */
typedef void (*series_visit_fn)(void *arg, int64_t e, const void *cell);
CXM_INTERNAL uint32_t cxm__series_buckets(const cxm_context *ctx, const series *s, uint32_t k);
CXM_INTERNAL void cxm__series_each(const cxm_context *ctx, const series *s, uint32_t k,
				   series_visit_fn fn, void *arg);
/* Add every bucket of src's series s, and its lifetime cell, into dst's
 * series d (same metric layout), as cxm_merge adds a SERIES record; a
 * bucket no memory is found for is lost and counted (series_scan.c). */
CXM_INTERNAL void cxm__series_add(cxm_context *dst, series *d, const cxm_context *src, const series *s);
CXM_INTERNAL cxm_status cxm__series_put(const cxm_context *ctx, series *s, uint32_t k, int64_t e,
					void **cell);
/* Discard every bucket of s, in every tier, that starts after time_ms
 * (the lifetime cell keeps all: exposed counters never go down); returns
 * how many buckets went. */
CXM_INTERNAL uint64_t cxm__series_rewind(const cxm_context *ctx, series *s, int64_t time_ms);
/* After a load put s's buckets in their ring slots: the newest finest one
 * older than the hot one goes into the warm cell (series.warm_epoch). */
CXM_INTERNAL void cxm__series_settle(const cxm_context *ctx, series *s);
CXM_INTERNAL bool cxm__series_merge_bucket(const cxm_context *ctx, series *s, uint32_t k, int64_t e,
					   const void *cell);
/* Count a bucket whose data no memory could be found for
 * (cxm_stats::lost_buckets). */
CXM_INTERNAL void cxm__series_lost(const cxm_context *ctx);

/* ---- context ------------------------------------------------------------ */

typedef struct shard {
	pthread_mutex_t lock;
	series ****index_rows; /* the series index: series_index.h alone reads it */
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
	uint64_t max_memory; /* 0: none */
	double confidence, z; /* z: two-sided normal quantile of confidence */
	uint64_t key[2];      /* customer id hash key */
	uint32_t max_customers, customer_policy;
	_Atomic(cust_table *) customers; /* allocated on the first customer id */
	_Atomic(struct jmod *) journeys; /* funnels and churn, on first use (journeys.c) */
	_Atomic(struct trig_mod *) triggers; /* rules and event queue, on the first rule (triggers.c) */
	_Atomic uint32_t n_triggers;
	_Atomic(struct gov_mod *) governor; /* surveys and their history, on first use (governor.c) */
	_Atomic(struct alert_mod *) alerts; /* metric alerts, on the first (alerts.c) */
	_Atomic(struct sig_mod *) signals;  /* in-journey signals, on the first (signals.c) */
	_Atomic(struct zone_mod *) zones;   /* time zones calendar calls loaded, on the first (calendar.c) */
	_Atomic(struct baseline_mod *) baselines; /* named baselines, on the first (baselines.c) */
	_Atomic(struct drv_mod *) drivers; /* key-driver sets, on the first (drivers.c) */
	uint32_t max_triggers, event_queue;

	pthread_mutex_t def_lock; /* serialises definitions */
	model model;

	uint32_t n_shards;
	shard *shards;

	/* Tier-0 epoch of the watermark: raised (rarely) by feeders, read by
	 * the lateness check and by queries to place window edges. */
	_Atomic int64_t wm_epoch;
	_Atomic uint64_t n_series;
	_Atomic uint64_t memory;
	_Atomic uint64_t qcache; /* bytes of the series' query caches (series_scan.c) */
	_Atomic uint64_t lost_buckets; /* buckets no memory was found for (window.c) */
	_Atomic uint64_t unpacked; /* duration stores no memory was found to pack (window.c) */
	_Atomic uint64_t rejected[CXM_STATUS_COUNT];
	const struct cxm_io *io; /* snapshot file I/O (fileio.h); NULL: POSIX. Tests replace it. */
};

/* Whether ix may be fed as the model stands (feed_validate.c): its
 * fields, ids, segment values and measures; the first fault's error, with
 * its message. Its time against the watermark and the customer's journey
 * are judged later (feed.c). */
CXM_INTERNAL cxm_status cxm__validate(const cxm_context *ctx, const cxm_interaction *ix);

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

/* An event time in whole seconds since CUST_BASE_S, clamped to 32 bits
 * (the customers' times: the survey governor's records, key drivers). */
static inline uint32_t cxm__cust_s(int64_t t_ms)
{
	int64_t s = floordiv64(t_ms, 1000) - CUST_BASE_S;
	return s < 0 ? 0u : s > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Whether journey j's instances are tracked: the customer table's entry
 * holds a journey id below 65535 and a step below 256. */
#define MAX_TRACKED_JOURNEYS 65535u
#define MAX_TRACKED_STEPS 255u
static inline bool cxm__journey_trackable(const cxm_context *ctx, cxm_id j)
{
	return j < MAX_TRACKED_JOURNEYS && j < ctx->max_journeys &&
	       ctx->model.journeys[j].n_steps <= MAX_TRACKED_STEPS;
}

#endif
