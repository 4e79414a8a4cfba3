/*
 * libcxm — customer-experience metrics along customer journeys.
 * SPDX-License-Identifier: MIT
 */

/**
 * @file cxm.h
 * @brief The whole public contract of libcxm.
 *
 * libcxm keeps rolling aggregates of customer-experience metrics (NPS, CSAT,
 * CES, a CX index, durations, rates, amounts, volumes) for the touchpoints and
 * journeys a host program defines, fed with interactions as they happen and
 * queried over any recent window.
 *
 * @section conventions Conventions
 * - Every function returns a ::cxm_status; ::CXM_OK is 0.
 * - Output parameters come first and are called @c out; they are written
 *   only when the function returns ::CXM_OK.
 * - Structs that cross the boundary begin with a @c size member that the
 *   caller sets to @c sizeof the struct it was compiled with (the @c _INIT
 *   macros and @c _init() functions do it). A size smaller than this
 *   library's first published layout gives ::CXM_ERR_VERSION; a larger size
 *   whose extra bytes are not all zero gives ::CXM_ERR_UNSUPPORTED.
 * - Names (journeys, steps, touchpoints, metrics, segments, segment values)
 *   are non-empty NUL-terminated UTF-8 without control characters, at most
 *   cxm_config::max_name_len bytes.
 * - Time is an @c int64_t count of milliseconds since the Unix epoch, in
 *   [0, ::CXM_TIME_MAX].
 * - The library never prints, logs, exits or aborts because of its caller's
 *   data. It keeps no global state: contexts share nothing.
 *
 * @section threads Threads
 * A ::cxm_context may be used by any number of threads at once: feeding,
 * querying, defining and reading statistics may all run concurrently. The
 * only call that must not overlap any other on the same context is
 * cxm_context_free(). Strings returned by the name functions stay valid and
 * unchanged until the context is freed. cxm_errmsg() is per thread.
 */
#ifndef CXM_H
#define CXM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @cond INTERNAL */
#if defined(CXM_BUILDING_LIBRARY) && defined(__GNUC__)
#define CXM_EXPORT __attribute__((visibility("default")))
#else
#define CXM_EXPORT
#endif
/** @endcond */

/** @defgroup version Version
 * @{ */
/** Major version of the headers. A change of major means an ABI break. */
#define CXM_VERSION_MAJOR 0
/** Minor version of the headers: additions only. */
#define CXM_VERSION_MINOR 1
/** Patch version of the headers: fixes only. */
#define CXM_VERSION_PATCH 0
/** The version as one number: major * 1000000 + minor * 1000 + patch. */
#define CXM_VERSION_NUMBER \
	(CXM_VERSION_MAJOR * 1000000 + CXM_VERSION_MINOR * 1000 + CXM_VERSION_PATCH)
/** The version as a string. */
#define CXM_VERSION_STRING "0.1.0"

/**
 * The version of the library actually loaded, as ::CXM_VERSION_NUMBER.
 *
 * Compare with ::CXM_VERSION_NUMBER to tell the headers a program was built
 * with from the library it runs with. Thread-safe; cannot fail.
 *
 * @return ::CXM_VERSION_NUMBER of the loaded library.
 */
CXM_EXPORT int cxm_libversion_number(void);

/**
 * The version of the library actually loaded, as ::CXM_VERSION_STRING.
 *
 * @return a static string; never NULL. Thread-safe; cannot fail.
 */
CXM_EXPORT const char *cxm_libversion(void);
/** @} */

/** @defgroup errors Status codes and error messages
 * @{ */

/**
 * Status of every call. The values are pinned forever; new codes are only
 * appended.
 */
typedef enum cxm_status {
	CXM_OK = 0,                /**< Success. */
	CXM_ERR_INVALID = 1,       /**< A NULL pointer, an unknown enum value or a malformed argument. */
	CXM_ERR_UNKNOWN_ID = 2,    /**< An id or a name that is not defined. */
	CXM_ERR_OUT_OF_RANGE = 3,  /**< A value outside its scale or domain (NPS 11, a negative duration, a time before 1970). */
	CXM_ERR_TOO_LATE = 4,      /**< An event time older than the finest tier reaches behind the watermark, or (journey steps) than the journey's lateness behind the customer's latest step. */
	CXM_ERR_TOO_EARLY = 5,     /**< An event time further in the future than cxm_config::max_future_ms. */
	CXM_ERR_NOT_FINITE = 6,    /**< A NaN or infinite number. */
	CXM_ERR_TOO_LONG = 7,      /**< A name or customer id longer than its configured limit. */
	CXM_ERR_NO_MEMORY = 8,     /**< An allocation failed; nothing was changed. */
	CXM_ERR_LIMIT = 9,         /**< A configured limit (touchpoints, series, segment values…) is reached. */
	CXM_ERR_CORRUPT = 10,      /**< A snapshot is damaged, truncated or not a snapshot (cxm_snapshot_load() and merge). */
	CXM_ERR_IO = 11,           /**< A file operation or a write callback failed (snapshots, exposition). */
	CXM_ERR_VERSION = 12,      /**< A struct is smaller than any layout this library knows (the caller is too old), or a snapshot has another format version. */
	CXM_ERR_UNSUPPORTED = 13,  /**< A struct carries non-zero fields this library does not know: the caller is too new. */
	CXM_ERR_EXISTS = 14,       /**< A definition with that name already exists; or a load or merge meets a definition, journey options, tiers or key that differ from the context's; or a churned customer churns again. */
	CXM_ERR_ENCODING = 15,     /**< A name is empty, not valid UTF-8, or contains control characters. */
	CXM_ERR_KIND = 16,         /**< A measure does not fit its metric's kind (a duration for a volume metric). */
	CXM_ERR_REJECTED = 17      /**< A batch was applied but some interactions were rejected; see the rejection list. */
} cxm_status;

/** One more than the largest ::cxm_status value; sizes cxm_stats::rejected. */
#define CXM_STATUS_COUNT 18

/**
 * A short English name for a status code, such as "out of range".
 *
 * @param status a ::cxm_status (any other value is accepted).
 * @return a static string; never NULL ("unknown status" for a value that is
 *         not a ::cxm_status). Thread-safe; cannot fail.
 */
CXM_EXPORT const char *cxm_strerror(int status);

/** Opaque context: one tenant's definitions and aggregates. */
typedef struct cxm_context cxm_context;

/**
 * The detail of the most recent failure of a call made on @p ctx by the
 * calling thread, such as "score 11 is outside 0..10 for metric 'nps'".
 *
 * Messages are kept per thread, so two threads sharing a context each read
 * their own. A successful call does not clear the message. The string is
 * valid until the calling thread's next call into libcxm. With @p ctx NULL,
 * returns the message of the calling thread's latest failure on a NULL
 * context (for example a failed cxm_context_new()).
 *
 * @param ctx the context, or NULL.
 * @return a thread-local string; never NULL ("" when this thread has no
 *         failure recorded for @p ctx).
 */
CXM_EXPORT const char *cxm_errmsg(const cxm_context *ctx);
/** @} */

/** @defgroup context Context
 * @{ */

/** The largest accepted time: 9999-12-31T23:59:59.999Z in ms. */
#define CXM_TIME_MAX INT64_C(253402300799999)
/** Passed as cxm_query::end_ms: the window ends at the context clock's now. */
#define CXM_NOW INT64_MIN
/** Passed as cxm_query::end_ms (and a funnel's or churn rate's end): the
 * window ends with the finest bucket of the newest interaction accepted
 * (the context's watermark), for history fed in bulk; the clock's now
 * while nothing has been accepted. */
#define CXM_WATERMARK (INT64_MIN + 1)
/** An id that stands for "none": no journey, no step, no segment value. */
#define CXM_NONE UINT32_MAX
/** The largest number of window tiers. */
#define CXM_MAX_TIERS 4

/** Identifier of a journey, touchpoint, metric or segment: dense, from 0. */
typedef uint32_t cxm_id;

/**
 * Allocator hooks for one context. All members NULL means malloc() and
 * free(). @c alloc must return memory aligned for any type, or NULL; @c free
 * receives only pointers from @c alloc and never NULL. Both may be called
 * from any thread that uses the context.
 */
typedef struct cxm_allocator {
	void *(*alloc)(void *opaque, size_t size); /**< Allocate @p size bytes. */
	void (*free)(void *opaque, void *ptr);     /**< Release what @c alloc gave. */
	void *opaque;                              /**< Passed to both. */
} cxm_allocator;

/**
 * A clock: returns now in ms since the epoch. Called from any thread that
 * feeds or queries; must be thread-safe.
 */
typedef int64_t (*cxm_clock_fn)(void *opaque);

/**
 * One tier of time buckets: @c buckets ring slots of @c bucket_ms each.
 * Tiers go from finest to coarsest; each bucket_ms is a multiple of the
 * previous tier's, and each tier reaches further back than the previous one.
 */
typedef struct cxm_tier {
	int64_t bucket_ms; /**< Width of one bucket in ms (≥ 1000). */
	uint32_t buckets;  /**< Number of buckets in the ring (2 … 100000). */
	uint32_t reserved; /**< Must be 0. */
} cxm_tier;

/**
 * Configuration of a context. Zero in any member means "the default" given
 * in its description, so `cxm_config c = CXM_CONFIG_INIT;` or
 * cxm_config_init() is a complete configuration.
 */
typedef struct cxm_config {
	size_t size;               /**< sizeof(cxm_config) as the caller knows it. */
	cxm_allocator allocator;   /**< Default: malloc/free. */
	cxm_clock_fn clock;        /**< Default: CLOCK_REALTIME. */
	void *clock_opaque;        /**< Passed to @c clock. */
	uint32_t n_tiers;          /**< Tiers used; 0: 1 min × 120, 1 h × 192, 1 d × 400. */
	uint32_t shards;           /**< Shards, each a lock and the series of the touchpoints it owns (id modulo shards); 0: 8 × online CPUs, at most 64. */
	cxm_tier tiers[CXM_MAX_TIERS]; /**< The tiers, finest first. */
	int64_t max_future_ms;     /**< Accepted clock skew into the future; 0: 300000 (5 min). */
	uint32_t max_journeys;     /**< 0: 256. */
	uint32_t max_steps;        /**< Steps per journey; 0: 64. */
	uint32_t max_touchpoints;  /**< 0: 4096. */
	uint32_t max_metrics;      /**< 0: 64. */
	uint32_t max_segments;     /**< Segment dimensions; 0: 8. */
	uint32_t max_segment_values; /**< Values over all dimensions together; 0: 1024. */
	uint32_t max_name_len;     /**< Bytes, without the NUL; 0: 128. */
	uint32_t max_customer_id_len; /**< Bytes; 0: 256. */
	uint32_t max_measures;     /**< Measures in one interaction; 0: 64. */
	uint32_t min_samples;      /**< Below this a result is flagged ::CXM_RESULT_LOW_SAMPLE; 0: 30. */
	uint64_t max_series;       /**< Series over all shards; 0: 1000000. */
	double confidence;         /**< Level of confidence intervals, in (0, 1); 0: 0.95. */
	/** Key of the keyed hash (SipHash-2-4) under which customer ids are
	 * kept; contexts whose state is to be combined need the same key. All
	 * zero: a random key from the system for this context. Keep a key you
	 * set secret, like a password: whoever knows it can make ids whose
	 * digests collide (see @ref customers for what that can and cannot
	 * do) and can test whether a known id is in a snapshot. */
	uint8_t customer_key[16];
	/** Customers tracked at once, at most 1073741824 (2^30); 0: 1000000.
	 * Up to this many distinct customers are all kept: none is evicted or
	 * refused before the table holds max_customers (the table's 64 stripes
	 * have room for their share plus 7 standard deviations, so a stripe
	 * filling up first has a probability below 1e-10; if it does, that
	 * newcomer is handled as at the limit, and counted). At the limit a new
	 * customer meets ::cxm_customer_policy; if the 8 entries nearest its
	 * place are all empty, the table may exceed the limit by one per stripe
	 * (63 at most). */
	uint32_t max_customers;
	uint32_t customer_policy;  /**< At max_customers: a ::cxm_customer_policy; 0: evict. */
	/** Bytes the context may hold through its allocator, at most; 0: no
	 * limit but the others. An allocation that would pass it fails as if
	 * the allocator had refused it (::CXM_ERR_NO_MEMORY, nothing changed),
	 * and a snapshot load or merge counts what it reads into against it
	 * too, so a hostile or oversized file is refused before it can take
	 * the host's memory. Set it when loading files you did not write.
	 * (Added in 0.1 from a reserved field: callers that zeroed
	 * cxm_config::reserved get the old behaviour.) */
	uint64_t max_memory;
	/** Triggers a context may define (see @ref triggers), at most 65536;
	 * 0: 256. (Added in 0.1 from a reserved field, with @c event_queue.) */
	uint32_t max_triggers;
	/** Events the trigger queue holds before the host drains it, rounded
	 * up to a power of two, at most 2^20; 0: 4096. Allocated with the
	 * first trigger: a context without triggers has no queue. */
	uint32_t event_queue;
	uint64_t reserved[6];      /**< Must be 0. */
} cxm_config;

/**
 * What feeding does with a new customer when cxm_config::max_customers are
 * tracked. Either way it is counted in ::cxm_stats.
 */
typedef enum cxm_customer_policy {
	CXM_CUSTOMERS_EVICT = 0,  /**< Forget the least recently seen of the 8 entries nearest the new one's place. */
	CXM_CUSTOMERS_REFUSE = 1  /**< Reject the interaction with ::CXM_ERR_LIMIT. */
} cxm_customer_policy;

/** Initializer for a default ::cxm_config (C, and C++20). */
#define CXM_CONFIG_INIT { .size = sizeof(cxm_config) }

/**
 * Fill @p cfg with the defaults (all zero) and set its size.
 *
 * For callers that cannot use ::CXM_CONFIG_INIT (FFI, C++ before C++20).
 *
 * @param cfg  the struct to fill; the caller's.
 * @param size sizeof(cxm_config) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p cfg is NULL.
 * @retval CXM_ERR_VERSION     @p size is smaller than this library's layout.
 * Thread-safe; touches only @p cfg.
 */
CXM_EXPORT cxm_status cxm_config_init(cxm_config *cfg, size_t size);

/**
 * Create a context.
 *
 * The configuration is copied; @p cfg may be freed after the call. All
 * memory of the context comes from cfg->allocator and is bounded by the
 * limits in @p cfg.
 *
 * @param out  receives the new context; the caller owns it and releases it
 *             with cxm_context_free().
 * @param cfg  the configuration, or NULL for all defaults.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      @p out is NULL, only one of the allocator
 *                              functions is set, or customer_policy is not a
 *                              ::cxm_customer_policy.
 * @retval CXM_ERR_OUT_OF_RANGE a limit, tier, skew or confidence is outside
 *                              its documented range.
 * @retval CXM_ERR_NOT_FINITE   @c confidence is NaN or infinite.
 * @retval CXM_ERR_VERSION      @c cfg->size is too small.
 * @retval CXM_ERR_UNSUPPORTED  @p cfg carries unknown non-zero fields, or a
 *                              reserved field (of the config or a tier) is set.
 * @retval CXM_ERR_NO_MEMORY
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_context_new(cxm_context **out, const cxm_config *cfg);

/**
 * Free a context and everything it owns. NULL is a no-op.
 *
 * No other call on @p ctx may run concurrently or follow.
 *
 * @param ctx the context, or NULL.
 */
CXM_EXPORT void cxm_context_free(cxm_context *ctx);
/** @} */

/** @defgroup model Journeys, touchpoints, metrics and segments
 *
 * Definitions are append-only: ids are dense from 0 in the order of
 * definition and never reused. They may be added while other threads feed
 * and query. A definition is visible to every thread once its call returns.
 * @{ */

/** Where a touchpoint happens. */
typedef enum cxm_channel {
	CXM_CHANNEL_PHONE = 1,
	CXM_CHANNEL_CHAT = 2,
	CXM_CHANNEL_EMAIL = 3,
	CXM_CHANNEL_WEB = 4,
	CXM_CHANNEL_SMS = 5,
	CXM_CHANNEL_SOCIAL = 6,
	CXM_CHANNEL_IN_PERSON = 7,
	CXM_CHANNEL_OTHER = 8
} cxm_channel;

/** What kind of definition a name or id refers to. */
typedef enum cxm_object {
	CXM_OBJECT_JOURNEY = 1,
	CXM_OBJECT_TOUCHPOINT = 2,
	CXM_OBJECT_METRIC = 3,
	CXM_OBJECT_SEGMENT = 4
} cxm_object;

/**
 * Define a journey with its ordered steps.
 *
 * Step @c k of the journey has id @c k (0-based) within it.
 *
 * @param out     receives the journey's id.
 * @param ctx     the context.
 * @param name    the journey's name; copied.
 * @param steps   @p n_steps step names, in order; copied. Distinct.
 * @param n_steps 1 … cxm_config::max_steps.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   a pointer is NULL or @p n_steps is 0.
 * @retval CXM_ERR_ENCODING  a name is empty or not clean UTF-8.
 * @retval CXM_ERR_TOO_LONG  a name is longer than max_name_len.
 * @retval CXM_ERR_EXISTS    a journey of that name exists, or two steps share a name.
 * @retval CXM_ERR_LIMIT     max_journeys or max_steps reached.
 * @retval CXM_ERR_NO_MEMORY
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_journey_define(cxm_id *out, cxm_context *ctx, const char *name,
					 const char *const *steps, size_t n_steps);

/**
 * Define a touchpoint.
 *
 * A touchpoint may be one step of one journey (many touchpoints may share a
 * step: "contact" by phone or by chat), or stand alone with @p journey
 * ::CXM_NONE. Every interaction on it then counts for the touchpoint, its
 * step, its journey, its channel and the context overall.
 *
 * @param out     receives the touchpoint's id.
 * @param ctx     the context.
 * @param name    the name; copied.
 * @param channel a ::cxm_channel.
 * @param journey a journey id, or ::CXM_NONE.
 * @param step    a step of @p journey; ignored when @p journey is ::CXM_NONE.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL or @p channel is not a ::cxm_channel.
 * @retval CXM_ERR_ENCODING
 * @retval CXM_ERR_TOO_LONG
 * @retval CXM_ERR_UNKNOWN_ID  @p journey or @p step is not defined.
 * @retval CXM_ERR_EXISTS      a touchpoint of that name exists.
 * @retval CXM_ERR_LIMIT       max_touchpoints reached.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_touchpoint_define(cxm_id *out, cxm_context *ctx, const char *name,
					    cxm_channel channel, cxm_id journey, cxm_id step);

/** How a metric folds its measures. */
typedef enum cxm_metric_kind {
	CXM_KIND_SCORE = 1,    /**< Integer answers on a scale (NPS, CSAT, CES). */
	CXM_KIND_INDEX = 2,    /**< Several score questions combined (the CX index). */
	CXM_KIND_DURATION = 3, /**< Seconds ≥ 0 (handle time, speed of answer, time to resolution). */
	CXM_KIND_RATE = 4,     /**< Yes (1) or no (0) (resolved, abandoned, converted, churned, SLA met). */
	CXM_KIND_AMOUNT = 5,   /**< Any finite number (revenue, a sentiment score from elsewhere). */
	CXM_KIND_VOLUME = 6,   /**< The interaction itself: every accepted interaction counts once. */
	CXM_KIND_DISTINCT = 7, /**< Distinct customers among accepted interactions with a customer id (HyperLogLog). */
	CXM_KIND_SENTIMENT = 8 /**< A sentiment score in [−1, 1] the host computed (from a model, or a 5-label scale fed as −1, −0.5, 0, 0.5, 1): mean, and the shares positive (at least top_min[0] / 100) and negative (at most bottom_max[0] / 100). */
} cxm_metric_kind;

/** Which number is a metric's headline value (cxm_result::value). */
typedef enum cxm_headline {
	CXM_HEADLINE_DEFAULT = 0, /**< The kind's usual: NET for SCORE and INDEX, SHARE for RATE, MEAN for DURATION and SENTIMENT, SUM for AMOUNT, COUNT for VOLUME. */
	CXM_HEADLINE_NET = 1,     /**< 100 × (top box − bottom box) / responses, −100 … 100 (NPS, CES net, CX index). */
	CXM_HEADLINE_TOP_BOX = 2, /**< 100 × top box / responses (CSAT). */
	CXM_HEADLINE_BOTTOM_BOX = 3, /**< 100 × bottom box / responses. */
	CXM_HEADLINE_MEAN = 4,    /**< Mean of the answers or values (CES mean). */
	CXM_HEADLINE_SHARE = 5,   /**< 100 × yes / observations (RATE). */
	CXM_HEADLINE_SUM = 6,     /**< Sum of the values (AMOUNT). */
	CXM_HEADLINE_COUNT = 7    /**< Number of observations; for DISTINCT, the estimated number of distinct customers. */
} cxm_headline;

/** Standard metrics; cxm_metric_preset() fills a definition with one. */
typedef enum cxm_preset {
	CXM_PRESET_NPS = 1,    /**< 0–10; promoters 9–10 (top), detractors 0–6 (bottom); NET. */
	CXM_PRESET_CSAT5 = 2,  /**< 1–5; positive 4–5 (top), negative 1–2 (bottom); TOP_BOX. */
	CXM_PRESET_CSAT7 = 3,  /**< 1–7; positive 6–7, negative 1–2; TOP_BOX. */
	CXM_PRESET_CSAT10 = 4, /**< 1–10; positive 9–10, negative 1–2; TOP_BOX. */
	CXM_PRESET_CES7 = 5,   /**< 1–7; easy 5–7 (top), difficult 1–3 (bottom); MEAN, with NET. */
	CXM_PRESET_CES5 = 6,   /**< 1–5; easy 4–5, difficult 1–2; MEAN, with NET. */
	CXM_PRESET_CXI = 7,    /**< Three questions (effective, easy, enjoyable) 1–10; top 9–10, bottom 1–6 each; NET averaged over questions. */
	CXM_PRESET_DURATION = 8, /**< Seconds; 1 ms … 7 days at ≤ 1 % relative error; MEAN, with quantiles over the window itself (see cxm_result::quantile_start_ms). */
	CXM_PRESET_RATE = 9,   /**< Yes/no; SHARE of yes among observations. */
	CXM_PRESET_AMOUNT = 10, /**< Any finite number; SUM, with mean. */
	CXM_PRESET_VOLUME = 11, /**< Interactions; COUNT. */
	CXM_PRESET_DISTINCT = 12, /**< Distinct customers, precision 12 (standard error 1.6 %); COUNT. */
	CXM_PRESET_SENTIMENT = 13 /**< A score in [−1, 1]; positive from 0.05, negative to −0.05 (top_min 5, bottom_max −5, in hundredths); MEAN, with the shares and their NET. */
} cxm_preset;

/** The largest number of questions of an INDEX metric. */
#define CXM_MAX_QUESTIONS 8
/** The largest number of points on a score scale (scale_max − scale_min + 1). */
#define CXM_MAX_POINTS 101

/**
 * A metric's rule. Start from cxm_metric_preset() or cxm_metric_def_init()
 * and change what differs.
 *
 * For SCORE and INDEX: an answer is an integer in [scale_min, scale_max];
 * question q counts it as top box when ≥ top_min[q] and as bottom box when
 * ≤ bottom_max[q] (SCORE uses index 0). If @c has_na is non-zero, an answer
 * equal to @c na_value (which must lie outside the scale) is accepted and
 * counted as a non-response (cxm_result::skipped) but is not a response. A
 * missing answer is simply not fed.
 *
 * For DURATION: values in [duration_lo, duration_hi] seconds are kept with a
 * relative error of at most @c relative_error at every quantile; 0 is kept
 * exactly; values in (0, duration_lo) and above duration_hi are counted,
 * reported as the bound, and flag the result ::CXM_RESULT_CLAMPED.
 *
 * DURATION, RATE and AMOUNT take a "no answer" code too (@c has_na,
 * @c na_value): a measure equal to it is accepted and counted in
 * cxm_result::skipped, and is no observation (not in @c n, the mean, the
 * sum or the quantiles; no trigger or signal compares it). Any integer
 * may be the code of a DURATION or an AMOUNT — 0, for an export that
 * writes 0 s for an unanswered call, at the price that a real 0 is then
 * "no answer" too; a RATE's code is neither 0 nor 1. VOLUME and DISTINCT
 * take none.
 */
typedef struct cxm_metric_def {
	size_t size;              /**< sizeof(cxm_metric_def) as the caller knows it. */
	cxm_metric_kind kind;     /**< What the metric folds. */
	cxm_headline headline;    /**< Its headline value. */
	int32_t scale_min;        /**< SCORE/INDEX: lowest point. */
	int32_t scale_max;        /**< SCORE/INDEX: highest point; at most ::CXM_MAX_POINTS points. */
	uint32_t questions;       /**< INDEX: 1 … ::CXM_MAX_QUESTIONS; SCORE: 1. */
	int32_t has_na;           /**< Non-zero: @c na_value is a "no answer" code (not for VOLUME, DISTINCT). */
	int32_t na_value;         /**< The "no answer" code: SCORE/INDEX off the scale, RATE neither 0 nor 1. */
	int32_t top_min[CXM_MAX_QUESTIONS];    /**< Per question: lowest top-box point. */
	int32_t bottom_max[CXM_MAX_QUESTIONS]; /**< Per question: highest bottom-box point (below top_min). */
	double duration_lo;       /**< DURATION: lowest value kept to the bound, ≥ 1e-9 (a nanosecond). */
	double duration_hi;       /**< DURATION: highest, > duration_lo. */
	double relative_error;    /**< DURATION: bound at every quantile, in [0.001, 0.1]. */
	uint32_t precision;       /**< DISTINCT: p in 4 … 16: 2^p registers, standard error 1.04/√2^p. */
	uint32_t reserved0;       /**< Must be 0. */
	uint64_t reserved[4];     /**< Must be 0. */
} cxm_metric_def;

/**
 * Fill @p def with the preset @p preset.
 *
 * @param def    the caller's struct; its @c size must be set (use
 *               cxm_metric_def_init() first, or set it by hand).
 * @param preset a ::cxm_preset.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p def is NULL or @p preset unknown.
 * @retval CXM_ERR_VERSION     def->size too small.
 * Thread-safe; touches only @p def.
 */
CXM_EXPORT cxm_status cxm_metric_preset(cxm_metric_def *def, cxm_preset preset);

/**
 * Zero @p def and set its size, for callers that fill every field.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_metric_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   @p def is NULL.
 * @retval CXM_ERR_VERSION   @p size too small.
 */
CXM_EXPORT cxm_status cxm_metric_def_init(cxm_metric_def *def, size_t size);

/**
 * Define a metric.
 *
 * The definition is copied and validated. A VOLUME metric is fed by every
 * accepted interaction without a measure; a DISTINCT metric by every
 * accepted interaction that carries a customer id.
 *
 * @param out   receives the metric's id.
 * @param ctx   the context.
 * @param name  the metric's name; copied.
 * @param def   the rule.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL, or @c kind / @c headline is
 *                               unknown or does not fit the kind, or a
 *                               VOLUME or DISTINCT has @c has_na set.
 * @retval CXM_ERR_OUT_OF_RANGE  a scale, box, question count or duration
 *                               range is inconsistent or too large, or
 *                               @c na_value lies on the scale (SCORE,
 *                               INDEX) or is 0 or 1 (RATE).
 * @retval CXM_ERR_NOT_FINITE    a duration bound or error is NaN or infinite.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  see @ref conventions.
 * @retval CXM_ERR_ENCODING, CXM_ERR_TOO_LONG, CXM_ERR_EXISTS, CXM_ERR_LIMIT, CXM_ERR_NO_MEMORY
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_metric_define(cxm_id *out, cxm_context *ctx, const char *name,
					const cxm_metric_def *def);

/**
 * Copy a metric's definition into @p out (whose @c size the caller sets).
 *
 * @param out    the caller's struct, with @c size set; written only on success.
 * @param ctx    the context.
 * @param metric the metric's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such metric.
 * @retval CXM_ERR_VERSION     out->size too small.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_metric_get(cxm_metric_def *out, const cxm_context *ctx, cxm_id metric);

/**
 * Define a segment dimension (tier, region, language, agent, queue…).
 *
 * Its values are added with cxm_segment_value(), up to @p max_values; each
 * value gets a series of its own in every metric it is fed with, so the
 * bound also bounds memory.
 *
 * @param out        receives the dimension's id, which is also its index in
 *                   cxm_interaction::segments.
 * @param ctx        the context.
 * @param name       the name; copied.
 * @param max_values 1 … the values still free of cxm_config::max_segment_values.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_OUT_OF_RANGE @p max_values is 0.
 * @retval CXM_ERR_LIMIT       max_segments reached, or not enough values left.
 * @retval CXM_ERR_ENCODING, CXM_ERR_TOO_LONG, CXM_ERR_EXISTS, CXM_ERR_NO_MEMORY
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_segment_define(cxm_id *out, cxm_context *ctx, const char *name,
					 uint32_t max_values);

/**
 * The id of the value @p value of dimension @p segment, adding it if new.
 *
 * Value ids are dense from 0 within the dimension.
 *
 * @param out     receives the value's id.
 * @param ctx     the context.
 * @param segment the dimension.
 * @param value   the value's name; copied when new.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such dimension.
 * @retval CXM_ERR_LIMIT       the dimension has max_values values already.
 * @retval CXM_ERR_ENCODING, CXM_ERR_TOO_LONG, CXM_ERR_NO_MEMORY
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_segment_value(uint32_t *out, cxm_context *ctx, cxm_id segment,
					const char *value);

/**
 * The id of an existing value of a dimension, without adding it.
 *
 * @param out     receives the value's id.
 * @param ctx     the context.
 * @param segment the dimension.
 * @param value   the value's name.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such dimension or value.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_segment_value_find(uint32_t *out, const cxm_context *ctx,
					     cxm_id segment, const char *value);

/**
 * The name of a value of a dimension.
 *
 * @param out      receives a string owned by the context, valid until it is freed.
 * @param ctx      the context.
 * @param segment  the dimension.
 * @param value    the value's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such dimension or value.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_segment_value_name(const char **out, const cxm_context *ctx,
					     cxm_id segment, uint32_t value);

/**
 * How many values a dimension has now.
 *
 * @param out     receives the number of values.
 * @param ctx     the context.
 * @param segment the dimension.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such dimension.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_segment_values(uint32_t *out, const cxm_context *ctx, cxm_id segment);

/**
 * How many definitions of a kind exist; their ids are 0 … *out − 1.
 *
 * @param out  receives the number of definitions.
 * @param ctx  the context.
 * @param kind a ::cxm_object.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  a pointer is NULL or @p kind is not a ::cxm_object.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_count(uint32_t *out, const cxm_context *ctx, cxm_object kind);

/**
 * The id of a definition by name.
 *
 * @param out  receives the id.
 * @param ctx  the context.
 * @param kind a ::cxm_object.
 * @param name the name.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL or @p kind is unknown.
 * @retval CXM_ERR_UNKNOWN_ID  no definition of that kind has that name.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_find(cxm_id *out, const cxm_context *ctx, cxm_object kind,
			       const char *name);

/**
 * The name of a definition.
 *
 * @param out   receives a string owned by the context, valid until it is freed.
 * @param ctx   the context.
 * @param kind  which kind of definition @p id names.
 * @param id    its id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL or @p kind is unknown.
 * @retval CXM_ERR_UNKNOWN_ID  no such id.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_name(const char **out, const cxm_context *ctx, cxm_object kind,
			       cxm_id id);

/**
 * How many steps a journey has; step ids are 0 … *out − 1.
 *
 * @param out     receives the number of steps.
 * @param ctx     the context.
 * @param journey the journey.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such journey.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_journey_steps(uint32_t *out, const cxm_context *ctx, cxm_id journey);

/**
 * The name of a step.
 *
 * @param out      receives a string owned by the context, valid until it is freed.
 * @param ctx      the context.
 * @param journey  the journey.
 * @param step     the step's id within it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such journey or step.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_step_name(const char **out, const cxm_context *ctx, cxm_id journey,
				    cxm_id step);

/**
 * The id of a step of a journey by name.
 *
 * @param out     receives the step's id within @p journey.
 * @param ctx     the context.
 * @param journey the journey.
 * @param name    the step's name.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such journey, or no step of that name.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_step_find(cxm_id *out, const cxm_context *ctx, cxm_id journey,
				    const char *name);

/**
 * A touchpoint's channel, journey and step (::CXM_NONE for both when it
 * stands alone). Any output pointer may be NULL.
 *
 * @param channel    receives the ::cxm_channel, or NULL.
 * @param journey    receives the journey id or ::CXM_NONE, or NULL.
 * @param step       receives the step id or ::CXM_NONE, or NULL.
 * @param ctx        the context.
 * @param touchpoint the touchpoint's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p ctx is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such touchpoint.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_touchpoint_get(cxm_channel *channel, cxm_id *journey, cxm_id *step,
					 const cxm_context *ctx, cxm_id touchpoint);
/** @} */

/** @defgroup feed Feeding interactions
 * @{ */

/**
 * One measure of an interaction: the value fed to one metric.
 *
 * SCORE: an integer point of the scale (or the NA code). INDEX: the answer to
 * question @c item. DURATION: seconds in [0, ::CXM_VALUE_MAX]. RATE: 1 for
 * yes, 0 for no. AMOUNT: a number in [−::CXM_VALUE_MAX, ::CXM_VALUE_MAX].
 * VOLUME metrics take no measures.
 */
typedef struct cxm_measure {
	cxm_id metric;  /**< The metric fed. */
	uint32_t item;  /**< INDEX: the question, 0 … questions − 1; otherwise 0. */
	double value;   /**< The value. */
} cxm_measure;

/** The largest magnitude of a DURATION or AMOUNT value (10^15): sums of
 * squares of 2^64 such values stay finite, so means and standard
 * deviations never become infinite or NaN through overflow. */
#define CXM_VALUE_MAX 1e15

/**
 * One interaction: at @c time_ms, a customer met a touchpoint.
 *
 * Everything it points to is only read during the call.
 */
typedef struct cxm_interaction {
	size_t size;               /**< sizeof(cxm_interaction) as the caller knows it. */
	int64_t time_ms;           /**< Event time, ms since the epoch, in [0, ::CXM_TIME_MAX]. */
	cxm_id touchpoint;         /**< Where it happened. */
	uint32_t reserved0;        /**< Must be 0. */
	const void *customer;      /**< Opaque customer id bytes; may be NULL when @c customer_len is 0. */
	size_t customer_len;       /**< At most cxm_config::max_customer_id_len. */
	const uint32_t *segments;  /**< segments[d] is the value id of dimension d, or ::CXM_NONE. */
	size_t n_segments;         /**< Dimensions given; at most the number defined. */
	const cxm_measure *measures; /**< The measures. */
	size_t n_measures;         /**< At most cxm_config::max_measures. */
	uint64_t reserved[4];      /**< Must be 0. */
} cxm_interaction;

/** Initializer for an empty ::cxm_interaction (C, and C++20). */
#define CXM_INTERACTION_INIT { .size = sizeof(cxm_interaction) }

/**
 * Zero @p ix and set its size.
 *
 * @param ix   the struct to fill; the caller's.
 * @param size sizeof(cxm_interaction) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p ix is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_interaction_init(cxm_interaction *ix, size_t size);

/**
 * Feed one interaction.
 *
 * Every measure is validated before anything is folded: on any error
 * nothing of the interaction is counted and the rejection is counted in
 * cxm_stats::rejected under its code. A customer id is hashed with the
 * context's key, recorded in the customer table (see @ref customers) and
 * counted by DISTINCT metrics; the id's bytes are never kept.
 *
 * Lateness: let W be the latest accepted event time (the watermark) and w,
 * n the bucket width and count of the finest tier. An interaction whose
 * finest bucket is n or more buckets behind W's is ::CXM_ERR_TOO_LATE.
 *
 * @param ctx the context.
 * @param ix  the interaction; only read during the call.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL (with a non-zero count).
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  see @ref conventions.
 * @retval CXM_ERR_OUT_OF_RANGE time outside [0, ::CXM_TIME_MAX], or a value
 *                              outside its metric's domain.
 * @retval CXM_ERR_UNKNOWN_ID   unknown touchpoint, metric, dimension or value.
 * @retval CXM_ERR_NOT_FINITE   a value is NaN or infinite.
 * @retval CXM_ERR_KIND         a measure for a VOLUME or DISTINCT metric.
 * @retval CXM_ERR_TOO_LONG     customer id too long.
 * @retval CXM_ERR_TOO_LATE, CXM_ERR_TOO_EARLY  see above; TOO_LATE also for an
 *                              interaction on a journey step more than the
 *                              journey's cxm_journey_options::lateness_ms
 *                              before the customer's latest journey step.
 * @retval CXM_ERR_LIMIT        too many measures, max_series reached, or the
 *                              customer table is full under policy REFUSE.
 * @retval CXM_ERR_NO_MEMORY    creating a new series, the customer table, or
 *                              a journey's funnel series failed.
 * Thread-safe: any number of threads may feed one context at once.
 */
CXM_EXPORT cxm_status cxm_feed(cxm_context *ctx, const cxm_interaction *ix);

/**
 * Tell whether cxm_feed() would accept @p ix now, without feeding it.
 *
 * Runs every check cxm_feed() runs, in the same order and with the same
 * codes and messages: the struct's size and tail, ids, segment values,
 * measures, the time against the clock (::CXM_ERR_TOO_EARLY) and the
 * watermark (::CXM_ERR_TOO_LATE), the customer's journey order, and
 * whether the customer table under ::CXM_CUSTOMERS_REFUSE has room for a
 * new customer. Nothing changes: no counter (a failed check is not
 * counted in cxm_stats::rejected), no customer, no watermark.
 *
 * Use it to decide something before feeding, e.g. to define a new segment
 * value only for an interaction that will be accepted (the bindings do).
 * Another thread may feed between the check and the feed: an accepted
 * check is a statement about the moment of the call, not a reservation.
 * A check does not allocate, so ::CXM_ERR_NO_MEMORY of cxm_feed() cannot
 * be foreseen, nor max_series being reached by this interaction.
 *
 * @param ctx the context.
 * @param ix  the interaction; only read during the call.
 * @retval CXM_OK               cxm_feed() would accept it now.
 * @retval CXM_ERR_INVALID, CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED,
 *         CXM_ERR_OUT_OF_RANGE, CXM_ERR_UNKNOWN_ID, CXM_ERR_NOT_FINITE,
 *         CXM_ERR_KIND, CXM_ERR_TOO_LONG, CXM_ERR_TOO_LATE,
 *         CXM_ERR_TOO_EARLY    as cxm_feed().
 * @retval CXM_ERR_LIMIT        too many measures, or a new customer and the
 *                              table is full under policy REFUSE.
 * Thread-safe; takes the same short locks as cxm_feed().
 */
CXM_EXPORT cxm_status cxm_feed_check(cxm_context *ctx, const cxm_interaction *ix);

/**
 * Take the context back to @p time_ms, after its clock was ahead.
 *
 * If the host's clock jumps ahead (a wrong NTP step, a VM resumed with a
 * stale offset), an interaction stamped with that clock is accepted and
 * moves the watermark; once the clock is corrected every feed is
 * ::CXM_ERR_TOO_LATE for as long as the jump was (its message then says
 * the watermark is ahead of the clock and names this call), and a
 * snapshot keeps that watermark. This call is the way out:
 *
 * - every time bucket that starts after @p time_ms, in every tier of every
 *   metric series, journey funnel and churn series, is discarded (a bucket
 *   that contains @p time_ms is kept whole);
 * - every shard's watermark, and the context's, become @p time_ms where
 *   they were later;
 * - a customer last seen after @p time_ms is last seen at it, and a journey
 *   instance with a step after it is dropped (the customer starts afresh);
 * - every entry cohort of a funnel (see cxm_funnel_cohort_run()) that
 *   begins after @p time_ms or counted an event after it is discarded
 *   whole (an instance of it still open counts on from its next event,
 *   without its entry);
 * - what is not time-bucketed stays: cxm_stats counters (accepted,
 *   rejected, customers) and the lifetime totals of the exposition,
 *   which are counters that never go down.
 *
 * A @p time_ms at or after the watermark changes nothing. The usual call
 * is cxm_rewind(&n, ctx, now) once the clock is right again.
 *
 * @param discarded receives how many time buckets were discarded (may be
 *                  NULL); 0 when nothing was ahead of @p time_ms.
 * @param ctx       the context.
 * @param time_ms   the new latest instant, in [0, ::CXM_TIME_MAX].
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       @p ctx is NULL.
 * @retval CXM_ERR_OUT_OF_RANGE  @p time_ms is outside [0, ::CXM_TIME_MAX];
 *                               nothing changed.
 * Thread-safe: takes each shard's, journey's and customer stripe's lock in
 * turn, never two at once, so feeding goes on meanwhile; an interaction
 * fed concurrently is judged against whichever watermark it meets (feed
 * nothing stamped with the wrong clock while this runs). Allocates nothing.
 */
CXM_EXPORT cxm_status cxm_rewind(uint64_t *discarded, cxm_context *ctx, int64_t time_ms);

/** Where and why one interaction of a batch was rejected. */
typedef struct cxm_rejection {
	size_t index;       /**< Its index in the batch. */
	cxm_status status;  /**< The code cxm_feed() would have returned. */
} cxm_rejection;

/**
 * Feed @p n interactions. Each is accepted or rejected exactly as by
 * cxm_feed(); a rejection does not stop the batch.
 *
 * The array's stride is @c ixs[0].size: every element must carry the same
 * size. The clock is read once per batch. Lateness is judged as if the
 * interactions were fed one by one in batch order: each meets the
 * watermark as it stood before the batch, raised by the interactions
 * before it in the batch that are accepted, whatever order the library
 * applies them in. (One refused only by the customer table or its
 * journey's order — ::CXM_ERR_LIMIT, ::CXM_ERR_TOO_LATE for its journey,
 * ::CXM_ERR_NO_MEMORY — still raises it for the ones after it.) The interactions of one
 * customer on journey steps are applied in batch order (see @ref journeys).
 *
 * @param accepted   receives how many were accepted (may be NULL).
 * @param ctx        the context.
 * @param ixs        @p n interactions.
 * @param n          how many.
 * @param rejections receives the first @p rej_cap rejections in batch order
 *                   (may be NULL when @p rej_cap is 0).
 * @param rej_cap    capacity of @p rejections.
 * @param n_rejected receives how many were rejected in all (may be NULL).
 * @retval CXM_OK            every interaction was accepted.
 * @retval CXM_ERR_REJECTED  some were rejected; the outputs say which.
 * @retval CXM_ERR_INVALID   @p ctx or @p ixs is NULL (with @p n > 0), or
 *                           @p rejections is NULL with @p rej_cap > 0.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  ixs[0].size is wrong;
 *                           nothing was fed.
 * Thread-safe; the batch is not atomic with respect to queries.
 */
CXM_EXPORT cxm_status cxm_feed_batch(size_t *accepted, cxm_context *ctx,
				     const cxm_interaction *ixs, size_t n,
				     cxm_rejection *rejections, size_t rej_cap,
				     size_t *n_rejected);

/**
 * Feed history in any order: cxm_feed_batch() of the @p n interactions
 * ordered by @c time_ms first (equal times keep their order), so that an
 * export in file order is fed as if oldest first. Interactions older than
 * the finest tier's reach behind the context's watermark as it stands
 * before the call are still too late; within the call nothing is too late
 * for the watermark (a customer's journey steps, too, come in time order).
 *
 * Memory: 16 bytes per interaction for the order and a copy of 256
 * interactions at a time, taken through the context's allocator and given
 * back before the call returns.
 *
 * @param accepted   receives how many were accepted (may be NULL).
 * @param ctx        the context.
 * @param ixs        @p n interactions, stride @c ixs[0].size as for cxm_feed_batch().
 * @param n          how many, at most UINT32_MAX.
 * @param rejections receives the first @p rej_cap rejections in the order
 *                   fed (time order); each @c index is the interaction's
 *                   position in @p ixs (may be NULL when @p rej_cap is 0).
 * @param rej_cap    capacity of @p rejections.
 * @param n_rejected receives how many were rejected in all (may be NULL).
 * @retval CXM_OK            every interaction was accepted.
 * @retval CXM_ERR_REJECTED  some were rejected; the outputs say which.
 * @retval CXM_ERR_INVALID   as cxm_feed_batch().
 * @retval CXM_ERR_LIMIT     @p n above UINT32_MAX; nothing was fed.
 * @retval CXM_ERR_NO_MEMORY the order could not be allocated; nothing was fed.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  ixs[0].size is wrong;
 *                           nothing was fed.
 * Thread-safe; not atomic with respect to queries or other feeds.
 */
CXM_EXPORT cxm_status cxm_feed_history(size_t *accepted, cxm_context *ctx,
				       const cxm_interaction *ixs, size_t n,
				       cxm_rejection *rejections, size_t rej_cap,
				       size_t *n_rejected);
/** @} */

/** @defgroup query Querying
 *
 * @section windows Windows
 * A window is made of whole time buckets. With w the finest bucket width,
 * it ends at the end of the finest bucket that contains @c end_ms (an
 * interaction at exactly a bucket's start belongs to that bucket) and spans
 * ceil(span_ms / w) × w before that. Data older than the finest tier's
 * reach behind the watermark is held only at a coarser tier's width; where
 * the window starts in such data, its start is rounded up to that width.
 * The covered interval is returned in cxm_result::start_ms and end_ms.
 * ::CXM_NOW ends the window at the context clock's now; ::CXM_WATERMARK
 * at the newest interaction accepted, which is what a query of history
 * fed in bulk (last year's export, say) wants: the clock's now is then
 * far after the data and the window empty.
 *
 * @section query_cache The query cache
 * A window that covers every finest bucket of a second-tier bucket the
 * finest tier still holds (with the default tiers: all the minutes of an
 * hour of the last two, or of the current hour up to the newest minute,
 * as a window ending now does, or of the oldest hour from the ring's
 * oldest minute, as a window reaching further back does) reads their
 * merge from the series' query cache: one cell instead of up to sixty. The first such query of a series makes it;
 * feeding keeps it up to date as each minute closes, and anything else
 * that writes one of its minutes (a late interaction, a rewind, a merge)
 * drops it, so an answer is always what the buckets hold (a sum may
 * differ in its last bits, added in another order). It costs three full
 * cells per series a query has read, kept with the series
 * (cxm_stats::query_cache_bytes, in cxm_stats::memory_bytes); under
 * cxm_config::max_memory it takes at most a sixteenth of that, and a query
 * that finds no room for it reads the minutes one by one: never an error.
 * Metrics whose finest tier keeps counts only (a DISTINCT, a journey's
 * step times) and tiers whose second bucket spans fewer than four finest
 * ones have no cache.
 * @{ */

/** What part of the model a query covers. */
typedef enum cxm_scope {
	CXM_SCOPE_ALL = 0,        /**< Every touchpoint. */
	CXM_SCOPE_TOUCHPOINT = 1, /**< One touchpoint (@c id). */
	CXM_SCOPE_STEP = 2,       /**< Every touchpoint on step @c step of journey @c id. */
	CXM_SCOPE_JOURNEY = 3,    /**< Every touchpoint on journey @c id. */
	CXM_SCOPE_CHANNEL = 4     /**< Every touchpoint of channel @c id (a ::cxm_channel). */
} cxm_scope;

/** A query: metric × scope × segment filter × window. */
typedef struct cxm_query {
	size_t size;        /**< sizeof(cxm_query) as the caller knows it. */
	cxm_id metric;      /**< The metric. */
	cxm_scope scope;    /**< What it covers. */
	cxm_id id;          /**< Touchpoint, journey or channel, per @c scope. */
	cxm_id step;        /**< The step, for ::CXM_SCOPE_STEP. */
	cxm_id segment;     /**< A dimension to filter on, or ::CXM_NONE. */
	uint32_t segment_value; /**< The value of @c segment kept. */
	int64_t end_ms;     /**< End instant, or ::CXM_NOW, or ::CXM_WATERMARK. */
	int64_t span_ms;    /**< Window length, > 0. */
	uint64_t reserved[4]; /**< Must be 0. */
} cxm_query;

/** Initializer: no filter, ends now, no span (set one). */
#define CXM_QUERY_INIT { .size = sizeof(cxm_query), .segment = CXM_NONE, .end_ms = CXM_NOW }

/**
 * Set @p q to ::CXM_QUERY_INIT.
 *
 * @param q    the struct to fill; the caller's.
 * @param size sizeof(cxm_query) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p q is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_query_init(cxm_query *q, size_t size);

/** cxm_result::flags: fewer responses than cxm_config::min_samples. */
#define CXM_RESULT_LOW_SAMPLE 0x1u
/** cxm_result::flags: no responses at all (for an INDEX: some question has
 * none, so the index is not defined yet). The headline value and its
 * interval are NaN, except for counts (VOLUME, DISTINCT and the COUNT
 * headline), which are 0. */
#define CXM_RESULT_EMPTY 0x2u
/** cxm_result::flags: some duration lay outside the metric's exact range
 * (or, beyond 2^32 durations in one bin of one window, a bin count
 * saturated): quantiles there are bounds, not estimates within the error. */
#define CXM_RESULT_CLAMPED 0x4u
/** cxm_result::flags: the window reaches before the retention; start_ms was moved up. */
#define CXM_RESULT_TRUNCATED 0x8u
/** cxm_result::flags, of calendar queries: the interval covered is not the
 * calendar bucket asked for, because the tiers hold the data at its edges
 * only in coarser (UTC) buckets, or retention cut it; start_ms and end_ms
 * say what was covered. A bucket that reaches before time 0 or after
 * ::CXM_TIME_MAX is cut to them without this flag. */
#define CXM_RESULT_INEXACT 0x10u

/**
 * The answer to a query. Shares are fractions in [0, 1]; the headline
 * @c value is in the headline's unit (percent for NET, TOP_BOX, BOTTOM_BOX
 * and SHARE). Fields that do not apply to the metric's kind are 0, or NaN
 * for doubles that have no meaning (the mean of an empty window).
 *
 * Confidence intervals at cxm_config::confidence (normal approximation):
 * NET uses variance [(p+d) − (p−d)²]/n on the −1 … 1 scale; TOP_BOX,
 * BOTTOM_BOX and SHARE use the Wilson score interval; MEAN uses the sample
 * standard deviation; INDEX combines its questions' variances as if
 * independent. SUM and COUNT have none (NaN).
 */
typedef struct cxm_result {
	size_t size;        /**< Set by the caller: sizeof(cxm_result) as it knows it. */
	uint32_t flags;     /**< CXM_RESULT_* bits. */
	cxm_metric_kind kind; /**< The metric's kind. */
	cxm_headline headline; /**< What @c value is. */
	uint32_t reserved0; /**< 0. */
	int64_t start_ms;   /**< The covered interval [start_ms, end_ms). */
	int64_t end_ms;     /**< End of the covered interval. */
	uint64_t n;         /**< Sample size: responses, observations or interactions. */
	uint64_t skipped;   /**< Count of the "no answer" codes received (cxm_metric_def::has_na). */
	uint64_t top;       /**< Top box (promoters, easy, positive), or yes for RATE. */
	uint64_t bottom;    /**< Bottom box (detractors, difficult, negative), or no for RATE. */
	double value;       /**< The headline value. */
	double ci_low;      /**< Lower end of its confidence interval. */
	double ci_high;     /**< Upper end. */
	double top_share;   /**< top / n. */
	double bottom_share; /**< bottom / n. */
	double mean;        /**< Mean answer or value. */
	double min;         /**< Smallest answer or value. */
	double max;         /**< Largest. */
	double sum;         /**< Sum of values (DURATION, AMOUNT), or of answers. */
	double stddev;      /**< Sample standard deviation. */
	double p50;         /**< DURATION: median, within the metric's relative error. */
	double p90;         /**< DURATION: 90th percentile. */
	double p99;         /**< DURATION: 99th percentile. */
	int64_t quantile_start_ms; /**< DURATION, DISTINCT: the quantiles, or the distinct count, describe [quantile_start_ms, quantile_end_ms): for a DURATION the window itself (its distribution is kept in every tier), for a DISTINCT the window widened to whole buckets of the second tier (whole hours by default). */
	int64_t quantile_end_ms;   /**< DURATION, DISTINCT: end of that interval. */
	uint64_t quantile_n;       /**< DURATION, DISTINCT: values (interactions with a customer id) in that interval. */
	uint32_t questions; /**< INDEX: questions; else 1. */
	uint32_t reserved1; /**< 0. */
	double item_net[CXM_MAX_QUESTIONS]; /**< INDEX: NET of each question. */
	uint64_t item_n[CXM_MAX_QUESTIONS]; /**< INDEX: responses to each question. */
	uint64_t reserved[8]; /**< 0. */
} cxm_result;

/**
 * Run a query.
 *
 * Reads only: never changes what feeding sees. Cost grows with the buckets
 * in the window and the number of touchpoints in the scope (a journey or
 * overall query merges its touchpoints' series). It may make the query
 * cache of the whole hours it reads (see @ref query_cache); without room
 * for it the query reads the buckets one by one, never failing for it.
 *
 * @param out  the caller's result, with @c size set; written only on success.
 * @param ctx  the context.
 * @param q    the query.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL or @c scope unknown.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  a struct size is wrong.
 * @retval CXM_ERR_UNKNOWN_ID   unknown metric, touchpoint, journey, step,
 *                              channel, dimension or value.
 * @retval CXM_ERR_OUT_OF_RANGE span_ms ≤ 0, or end_ms outside
 *                              [0, ::CXM_TIME_MAX] and not ::CXM_NOW or ::CXM_WATERMARK.
 * @retval CXM_ERR_NO_MEMORY
 * Thread-safe: queries run concurrently with each other and with feeding.
 */
CXM_EXPORT cxm_status cxm_query_run(cxm_result *out, cxm_context *ctx, const cxm_query *q);

/**
 * Arbitrary quantiles of a DURATION metric over a window.
 *
 * The quantile q of n values is the value of rank max(1, ceil(q × n)); the
 * answer is within the metric's relative error of it (for values inside the
 * exact range). An empty window gives NaN.
 *
 * @param out  receives @p n values.
 * @param ctx  the context.
 * @param q    the query (its metric must be a DURATION).
 * @param qs   @p n quantiles in [0, 1].
 * @param n    how many, 1 … 64.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL or @p n is out of 1 … 64.
 * @retval CXM_ERR_KIND          the metric is not a DURATION.
 * @retval CXM_ERR_OUT_OF_RANGE  a quantile is outside [0, 1]; or as cxm_query_run().
 * @retval CXM_ERR_NOT_FINITE    a quantile is NaN.
 * @retval otherwise             as cxm_query_run().
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_query_quantiles(double *out, cxm_context *ctx, const cxm_query *q,
					  const double *qs, size_t n);

/**
 * Counts per answer point of a SCORE or INDEX metric over a window.
 *
 * @param out   receives scale_max − scale_min + 1 counts, lowest point first.
 * @param cap   capacity of @p out.
 * @param n_out receives the number of points.
 * @param ctx   the context.
 * @param q     the query.
 * @param item  the question (0 for SCORE).
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL.
 * @retval CXM_ERR_KIND          the metric is not SCORE or INDEX.
 * @retval CXM_ERR_OUT_OF_RANGE  @p item ≥ questions.
 * @retval CXM_ERR_LIMIT         @p cap is too small (*n_out says how many).
 * @retval otherwise             as cxm_query_run().
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_query_distribution(uint64_t *out, size_t cap, size_t *n_out,
					     cxm_context *ctx, const cxm_query *q, uint32_t item);

/**
 * Two query results compared: b − a with its interval and a two-sided test.
 *
 * All at cxm_config::confidence, by normal approximation, the two samples
 * taken as independent (true for two disjoint windows or two values of one
 * segment dimension). Values are in the headline's unit.
 */
typedef struct cxm_comparison {
	size_t size;        /**< Set by the caller: sizeof(cxm_comparison) as it knows it. */
	uint32_t flags;     /**< CXM_RESULT_* bits that either side carries. */
	cxm_headline headline; /**< What @c a and @c b are. */
	double a;           /**< Headline value of the first query. */
	double b;           /**< Headline value of the second query. */
	double difference;  /**< b − a. */
	double ci_low;      /**< Lower end of the difference's confidence interval. */
	double ci_high;     /**< Upper end. */
	double z;           /**< The test statistic: difference / its standard error. */
	double p_value;     /**< Two-sided p-value of "no difference"; NaN when undefined. */
	uint64_t n_a;       /**< Sample size of the first query. */
	uint64_t n_b;       /**< Sample size of the second. */
	uint64_t reserved[6]; /**< 0. */
} cxm_comparison;

/**
 * Compare two queries of the same metric: this 24 h against the 24 h
 * before, or tier = gold against tier = silver.
 *
 * Standard errors: NET from the NPS variance [(p+d) − (p−d)²]/n of each
 * side; TOP_BOX, BOTTOM_BOX and SHARE from p(1−p)/n of each side
 * (unpooled); MEAN from s²/n of each side (Welch). With an empty side, or
 * no variance on either, the values that cannot be computed are NaN and
 * the call still succeeds; check @c flags.
 *
 * @param out  the caller's struct with @c size set; written only on success.
 * @param ctx  the context.
 * @param a    the first query.
 * @param b    the second query, of the same metric.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   a pointer is NULL, or the queries name different metrics.
 * @retval CXM_ERR_KIND      the metric's headline is SUM or COUNT, or it is an INDEX.
 * @retval otherwise         as cxm_query_run() for either query.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_query_compare(cxm_comparison *out, cxm_context *ctx, const cxm_query *a,
					const cxm_query *b);

/** What cxm_query_group() breaks a window down by. */
typedef enum cxm_group_by {
	CXM_GROUP_TOUCHPOINT = 1, /**< Each touchpoint in the query's scope; the key is its id. */
	CXM_GROUP_SEGMENT = 2,    /**< Each value of the dimension given; the key is the value's id. */
	CXM_GROUP_STEP = 3,       /**< Each step of the journey of a ::CXM_SCOPE_JOURNEY query; the key is the step. */
	CXM_GROUP_CHANNEL = 4     /**< Each channel (::cxm_channel) that has a touchpoint, of a ::CXM_SCOPE_ALL query; the key is the channel. */
} cxm_group_by;

/**
 * One query broken down: a result per touchpoint, segment value, journey
 * step or channel, in one call. Result i is exactly what cxm_query_run()
 * answers for the query narrowed to group i (the touchpoint as scope
 * ::CXM_SCOPE_TOUCHPOINT; the value as @c segment and @c segment_value;
 * the step as ::CXM_SCOPE_STEP; the channel as ::CXM_SCOPE_CHANNEL),
 * over the same window.
 *
 * Every group is written, in ascending key order, data or not (an empty
 * one is flagged ::CXM_RESULT_EMPTY): the touchpoints of the scope in id
 * order, all values of the dimension, all steps of the journey, the
 * channels that have a touchpoint.
 *
 * @param out    the caller's array of @p cap results, @c out[0].size set; written with the stride of @c out[0].size; may be NULL when @p cap is 0.
 * @param keys   the caller's array of @p cap keys (key i is group i's), or NULL.
 * @param cap    how many both hold.
 * @param n_out  receives how many groups there are (also on ::CXM_ERR_LIMIT, so that the caller can size its arrays).
 * @param ctx    the context.
 * @param q      the query; with ::CXM_GROUP_SEGMENT its @c segment must be ::CXM_NONE (values of two dimensions together are not kept); with ::CXM_GROUP_CHANNEL its scope must be ::CXM_SCOPE_ALL.
 * @param by     what to break down by.
 * @param dim    ::CXM_GROUP_SEGMENT: the dimension; otherwise ::CXM_NONE.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL (@p out with @p cap above 0), @p by is not a ::cxm_group_by, @p dim is set for another grouping, the query's scope is not ::CXM_SCOPE_JOURNEY for ::CXM_GROUP_STEP or not ::CXM_SCOPE_ALL for ::CXM_GROUP_CHANNEL.
 * @retval CXM_ERR_UNSUPPORTED  ::CXM_GROUP_SEGMENT of a query that filters on a segment; or as cxm_query_run().
 * @retval CXM_ERR_UNKNOWN_ID   the dimension does not exist; or as cxm_query_run().
 * @retval CXM_ERR_LIMIT        more groups than @p cap (nothing written but @p n_out).
 * @retval CXM_ERR_NO_MEMORY    as cxm_query_run(): the groups before the one that met it may have been written.
 * @retval otherwise            as cxm_query_run(), checked before anything is written.
 * Thread-safe; each group is read as its own query (feeds running
 * meanwhile may land in some groups and not yet in others).
 */
CXM_EXPORT cxm_status cxm_query_group(cxm_result *out, uint32_t *keys, size_t cap, size_t *n_out,
				      cxm_context *ctx, const cxm_query *q, cxm_group_by by, cxm_id dim);

/**
 * One query as a time series: its window cut into consecutive windows of
 * @p step_ms, oldest first, each answered as cxm_query_run() answers it.
 *
 * The query's window is placed first (see @ref windows; [start, end));
 * the series then covers ceil((end − start) / step_ms) windows of
 * @p step_ms that end at end, the first reaching back before start when
 * the span is not a multiple of the step. Window i is cxm_query_run() of
 * the query with @c span_ms @p step_ms and @c end_ms its last
 * millisecond, so its result's @c start_ms and @c end_ms say what it
 * covers (where data is held at coarser widths, as for any window).
 *
 * @param out      the caller's array of @p cap results, @c out[0].size set; may be NULL when @p cap is 0.
 * @param cap      how many it holds.
 * @param n_out    receives how many windows there are (also on ::CXM_ERR_LIMIT).
 * @param ctx      the context.
 * @param q        the query.
 * @param step_ms  the length of each window: a multiple of the finest tier's bucket, at most the query's span.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL (@p out with @p cap above 0).
 * @retval CXM_ERR_OUT_OF_RANGE  @p step_ms is not positive, not a multiple of the finest bucket, or above the span; or as cxm_query_run().
 * @retval CXM_ERR_LIMIT         more windows than @p cap (nothing written but @p n_out).
 * @retval CXM_ERR_NO_MEMORY     as cxm_query_run(): the windows before the one that met it may have been written.
 * @retval otherwise             as cxm_query_run(), checked before anything is written.
 * Thread-safe, as cxm_query_group().
 */
CXM_EXPORT cxm_status cxm_query_series(cxm_result *out, size_t cap, size_t *n_out, cxm_context *ctx,
				       const cxm_query *q, int64_t step_ms);

/** A calendar bucket's unit, in a time zone (see cxm_query_calendar()). */
typedef enum cxm_calendar_unit {
	CXM_CALENDAR_DAY = 1,     /**< A day, from local midnight to the next (23 or 25 hours on a daylight-saving change). */
	CXM_CALENDAR_WEEK = 2,    /**< An ISO 8601 week, from Monday's local midnight. */
	CXM_CALENDAR_MONTH = 3,   /**< A month, from the local midnight that begins its first day. */
	CXM_CALENDAR_QUARTER = 4, /**< A quarter: January, April, July or October to three months later. */
	CXM_CALENDAR_YEAR = 5     /**< A year, from 1 January's local midnight. */
} cxm_calendar_unit;

/** The longest time zone name a calendar call takes, in bytes without the terminating NUL. */
#define CXM_TZ_NAME_MAX 255

/**
 * The calendar bucket of @p unit in time zone @p tz that holds an instant.
 *
 * Zones are IANA names ("America/New_York", "Europe/Berlin", "UTC"), read
 * from the host's tzdata ($TZDIR, else /usr/share/zoneinfo) on their first
 * use in a context and kept until it is freed; "UTC" needs no file. A
 * bucket begins at the local midnight that begins its day (Monday's for a
 * week, the 1st's for a month, of January, April, July or October for a
 * quarter, 1 January's for a year); where a daylight-saving change skips
 * that midnight, at the change; where it repeats it, at its first
 * occurrence. Days are 23 or 25 hours on changes.
 *
 * @param start_ms receives the bucket's first instant (UTC ms; before 0 for the bucket that holds time 0 in a zone west of UTC).
 * @param end_ms   receives the next bucket's first instant.
 * @param ctx      the context (it keeps the zones it loaded).
 * @param tz       the zone's name.
 * @param unit     the bucket's unit.
 * @param at_ms    the instant, or ::CXM_NOW, or ::CXM_WATERMARK (as a query's end).
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL, or @p unit is not a ::cxm_calendar_unit.
 * @retval CXM_ERR_OUT_OF_RANGE  @p at_ms outside [0, ::CXM_TIME_MAX] and not ::CXM_NOW or ::CXM_WATERMARK.
 * @retval CXM_ERR_ENCODING      @p tz is empty, absolute, has an empty, "." or ".." part, or a byte outside A-Z a-z 0-9 / _ + - .
 * @retval CXM_ERR_TOO_LONG      @p tz is longer than ::CXM_TZ_NAME_MAX.
 * @retval CXM_ERR_UNKNOWN_ID    no zone of that name in the host's tzdata.
 * @retval CXM_ERR_CORRUPT       the zone's file is not a valid TZif file.
 * @retval CXM_ERR_IO            reading it failed.
 * @retval CXM_ERR_LIMIT         the context has loaded 64 zones already.
 * @retval CXM_ERR_NO_MEMORY     allocating the zone failed.
 * Thread-safe; nothing is written on an error.
 */
CXM_EXPORT cxm_status cxm_calendar_bucket(int64_t *start_ms, int64_t *end_ms, cxm_context *ctx,
					  const char *tz, cxm_calendar_unit unit, int64_t at_ms);

/**
 * One query over a calendar bucket: the day, ISO week, month, quarter or
 * year in time zone @p tz that holds the query's @c end_ms (an instant,
 * ::CXM_NOW or ::CXM_WATERMARK); the query's @c span_ms is not used.
 *
 * The result is cxm_query_run()'s for the window [bucket start, bucket
 * end), placed as every window is (see @ref windows): where the tiers hold
 * the data at an edge only in coarser buckets (hours, UTC days), the edge
 * moves to theirs. The result's @c start_ms and @c end_ms say what was
 * covered, and ::CXM_RESULT_INEXACT flags a result whose interval is not
 * the bucket's. For exact months of history in a zone whose offset is in
 * whole hours, keep an hour tier as long as the history (see
 * docs/metrics.md); a minute tier for zones such as Asia/Kolkata. A bucket
 * not over yet (this month) ends in the future: what has happened of it.
 *
 * @param out  the caller's result, @c size set; written only on success.
 * @param ctx  the context.
 * @param q    the query.
 * @param tz   the zone's name, as for cxm_calendar_bucket().
 * @param unit the bucket's unit.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  a pointer is NULL, or @p unit is not a ::cxm_calendar_unit; or as cxm_query_run().
 * @retval otherwise        as cxm_calendar_bucket() for the zone, as cxm_query_run() for the query.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_query_calendar(cxm_result *out, cxm_context *ctx, const cxm_query *q,
					 const char *tz, cxm_calendar_unit unit);

/**
 * One query as a calendar time series: a result per bucket of @p unit in
 * time zone @p tz, oldest first, from the bucket that holds
 * @c end_ms − @c span_ms + 1 ms to the one that holds @c end_ms (months of
 * the last year: @c span_ms 365 days; January to June: @c end_ms in June,
 * @c span_ms reaching into January). Result i is cxm_query_calendar() of
 * bucket i, flags included.
 *
 * @param out    the caller's array of @p cap results, @c out[0].size set; may be NULL when @p cap is 0.
 * @param cap    how many it holds.
 * @param n_out  receives how many buckets there are (also on ::CXM_ERR_LIMIT).
 * @param ctx    the context.
 * @param q      the query.
 * @param tz     the zone's name, as for cxm_calendar_bucket().
 * @param unit   the buckets' unit.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID    a pointer is NULL (@p out with @p cap above 0), or @p unit is not a ::cxm_calendar_unit.
 * @retval CXM_ERR_OUT_OF_RANGE  @c span_ms is not positive; or as cxm_query_run().
 * @retval CXM_ERR_LIMIT      more buckets than @p cap (nothing written but @p n_out).
 * @retval CXM_ERR_NO_MEMORY  as cxm_query_run(): the buckets before the one that met it may have been written.
 * @retval otherwise          as cxm_calendar_bucket() for the zone, as cxm_query_run() for the query; checked before anything is written.
 * Thread-safe, as cxm_query_series().
 */
CXM_EXPORT cxm_status cxm_query_calendar_series(cxm_result *out, size_t cap, size_t *n_out,
						cxm_context *ctx, const cxm_query *q, const char *tz,
						cxm_calendar_unit unit);

/** The most windows cxm_query_trend() fits. */
#define CXM_TREND_MAX_WINDOWS 1024
/** The most steps cxm_query_trend() forecasts. */
#define CXM_TREND_MAX_HORIZON 64

/** One step ahead of a trend: cxm_query_trend()'s forecast. */
typedef struct cxm_forecast {
	int64_t start_ms; /**< The step's window [start_ms, end_ms), after the trend's last. */
	int64_t end_ms;   /**< Its end. */
	double value;     /**< Holt's forecast of the headline value; NaN below 3 points. */
	double pi_low;    /**< Prediction interval at the context's confidence (normal errors). */
	double pi_high;   /**< Its upper end. */
} cxm_forecast;

/**
 * The trend of a query's headline value over consecutive windows, and
 * its forecast. Fill with cxm_trend_init() or set @c size.
 *
 * The line is the least-squares fit of the windows' values on their
 * positions (0 for the first window; empty windows are left out, so a
 * gap does not bend it). The forecast is Holt's linear exponential
 * smoothing over every window (an empty one carries level and trend on
 * unchanged), with the smoothing pair of 0.1 … 0.9 (in steps of 0.1)
 * whose one-step-ahead errors have the least sum of squares; its
 * prediction interval for h steps ahead is ±z σ √(1 + (h − 1)(α² + αβh
 * + β²h(2h − 1)/6)), σ the root mean square of those errors.
 */
typedef struct cxm_trend {
	size_t size;          /**< sizeof(cxm_trend) as the caller knows it. */
	uint32_t windows;     /**< Windows in the range. */
	uint32_t points;      /**< Of them, those with a value (not EMPTY, the value finite). */
	int64_t start_ms;     /**< The range: the first window's start … */
	int64_t end_ms;       /**< … and the last window's end. */
	int64_t step_ms;      /**< Each window's width. */
	double slope;         /**< Change of the headline value per step (least squares); NaN below 3 points. */
	double slope_ci_low;  /**< Its confidence interval at the context's confidence (Student t, points − 2 degrees of freedom). */
	double slope_ci_high; /**< Its upper end. */
	double p_value;       /**< Two-sided p-value of a zero slope (Student t); 1 when every value lies on a flat line. */
	double r2;            /**< Share of the values' variance the line explains; NaN when the values are all equal. */
	double fitted_last;   /**< The line's value at the last window. */
	double alpha;         /**< Holt's level smoothing chosen. */
	double beta;          /**< Holt's trend smoothing chosen. */
	double level;         /**< Holt's level after the last window. */
	double trend;         /**< Holt's trend (per step) after the last window. */
	double sigma;         /**< Root mean square of Holt's one-step-ahead errors (points − 2 of them). */
	uint64_t reserved[4]; /**< Set to 0 by the library. */
} cxm_trend;

/**
 * Zero @p t and set its size.
 *
 * @param t     the caller's struct.
 * @param size  sizeof(cxm_trend) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   @p t is NULL.
 * @retval CXM_ERR_VERSION   @p size too small.
 * Thread-safe; touches only @p t.
 */
CXM_EXPORT cxm_status cxm_trend_init(cxm_trend *t, size_t size);

/**
 * The trend of a query over consecutive windows of @p step_ms, and a
 * forecast of the next @p horizon windows.
 *
 * The windows are those of cxm_query_series() for the same query and
 * step, each answered as cxm_query_run() answers it; the trend is fitted
 * to their headline values (see ::cxm_trend). Below 3 points with a value
 * the call succeeds with the statistics and forecasts NaN. Costs the
 * windows' queries plus about 100 operations per window.
 *
 * @param out       the caller's struct, @c size set; written on success.
 * @param forecast  the caller's array of @p horizon steps; may be NULL when @p horizon is 0.
 * @param horizon   steps to forecast, 0 … ::CXM_TREND_MAX_HORIZON.
 * @param ctx       the context.
 * @param q         the query: its metric, scope, segment, span and end.
 * @param step_ms   each window's width, as for cxm_query_series().
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL (@p forecast with @p horizon above 0).
 * @retval CXM_ERR_VERSION       @c out->size too small.
 * @retval CXM_ERR_OUT_OF_RANGE  @p horizon above ::CXM_TREND_MAX_HORIZON; more than ::CXM_TREND_MAX_WINDOWS windows; or as cxm_query_series().
 * @retval CXM_ERR_NO_MEMORY     no memory for the windows' results.
 * @retval CXM_ERR_LIMIT         the number of windows changed between
 *                               counting and reading them (the clock moved
 *                               the window's start across a tier's reach):
 *                               ask again.
 * @retval otherwise             as cxm_query_series().
 * Thread-safe, as cxm_query_series(); nothing is written on an error.
 */
CXM_EXPORT cxm_status cxm_query_trend(cxm_trend *out, cxm_forecast *forecast, uint32_t horizon,
				      cxm_context *ctx, const cxm_query *q, int64_t step_ms);

/** What a named baseline compares a query with (see cxm_baseline_define()). */
typedef enum cxm_baseline_kind {
	CXM_BASELINE_OFFSET = 1, /**< The same window @c offset_ms earlier: last week's (7 days), last year's (364 days keeps the weekdays). */
	CXM_BASELINE_PERIOD = 2, /**< A fixed period [@c start_ms, @c end_ms): the quarter before a launch, say. */
	CXM_BASELINE_TARGET = 3  /**< A target value of one metric's headline (a benchmark: NPS 40, AHT 300 s). */
} cxm_baseline_kind;

/** The most baselines a context holds. */
#define CXM_BASELINES_MAX 256

/** A named baseline. Fields of the other kinds must be 0. */
typedef struct cxm_baseline_def {
	size_t size;             /**< sizeof(cxm_baseline_def) as the caller knows it. */
	cxm_baseline_kind kind;  /**< What it compares with. */
	cxm_id metric;           /**< TARGET: the metric whose headline the target is. */
	int64_t offset_ms;       /**< OFFSET: how much earlier, 1 … ::CXM_TIME_MAX. */
	int64_t start_ms;        /**< PERIOD: the period's start, 0 … ::CXM_TIME_MAX. */
	int64_t end_ms;          /**< PERIOD: its end (excluded), after @c start_ms, at most ::CXM_TIME_MAX + 1. */
	double target;           /**< TARGET: the value, finite, in the headline's unit. */
	uint64_t reserved[4];    /**< Must be 0. */
} cxm_baseline_def;

/**
 * Zero @p def and set its size.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_baseline_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p def is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 * Thread-safe; touches only @p def.
 */
CXM_EXPORT cxm_status cxm_baseline_def_init(cxm_baseline_def *def, size_t size);

/**
 * Define a named baseline: what "vs last week", "vs Q3" or "vs the target"
 * compares a query with (cxm_query_baseline()). Baselines are kept in
 * snapshots; a load brings them back, a merge keeps the target context's.
 *
 * @param out  receives the baseline's id (0, 1, … in order of definition).
 * @param ctx  the context.
 * @param name its name: unique among baselines, UTF-8, as other names.
 * @param def  the definition (copied).
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL, @c kind is not a ::cxm_baseline_kind, or a field of another kind is set.
 * @retval CXM_ERR_OUT_OF_RANGE  @c offset_ms, @c start_ms or @c end_ms outside its range.
 * @retval CXM_ERR_NOT_FINITE    @c target is NaN or infinite.
 * @retval CXM_ERR_UNKNOWN_ID    TARGET: @c metric is not defined.
 * @retval CXM_ERR_EXISTS        a baseline of that name exists.
 * @retval CXM_ERR_LIMIT         ::CXM_BASELINES_MAX baselines exist.
 * @retval CXM_ERR_ENCODING, CXM_ERR_TOO_LONG  the name, as for metrics.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  see @ref conventions.
 * @retval CXM_ERR_NO_MEMORY     nothing was defined.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_baseline_define(cxm_id *out, cxm_context *ctx, const char *name,
					  const cxm_baseline_def *def);

/**
 * A baseline's id by name.
 *
 * @param out  receives the id.
 * @param ctx  the context.
 * @param name the name.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no baseline of that name.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_baseline_find(cxm_id *out, const cxm_context *ctx, const char *name);

/**
 * A baseline's definition and name.
 *
 * @param out   the caller's struct with @c size set; written only on success.
 * @param name  receives the name (owned by the context, valid while it lives), or NULL.
 * @param ctx   the context.
 * @param id    the baseline.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p out or @p ctx is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such baseline.
 * @retval CXM_ERR_VERSION     out->size too small.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_baseline_get(cxm_baseline_def *out, const char **name,
				       const cxm_context *ctx, cxm_id id);

/**
 * A query against a baseline: @c a is the baseline, @c b the query's
 * window, @c difference = b − a with its interval and p-value, as in
 * cxm_query_compare().
 *
 * OFFSET runs the query over the window @c offset_ms earlier (its end
 * resolved first when it is ::CXM_NOW or ::CXM_WATERMARK); PERIOD over
 * [@c start_ms, @c end_ms), placed as any window; both are then
 * cxm_query_compare() of that query and @p q. TARGET compares the query's
 * headline with the target, which has no error of its own: the interval
 * and test use the query's standard error alone, @c n_a is 0.
 *
 * @param out      the caller's comparison, @c size set; written only on success.
 * @param ctx      the context.
 * @param q        the query.
 * @param baseline the baseline's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL; TARGET: @p q is of another metric than the target's.
 * @retval CXM_ERR_UNKNOWN_ID  no such baseline; or as cxm_query_compare().
 * @retval CXM_ERR_KIND        the headline has no test (SUM, COUNT, an INDEX), as cxm_query_compare().
 * @retval otherwise           as cxm_query_compare().
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_query_baseline(cxm_comparison *out, cxm_context *ctx, const cxm_query *q,
					 cxm_id baseline);
/** @} */

/** @defgroup drivers Key drivers and outcome linkage
 *
 * Which touchpoints drive an outcome, and what an experience band is worth.
 * A driver set pairs, per customer, the latest experience at each driver
 * (a SCORE, RATE or SENTIMENT answer at a touchpoint) with the outcomes the
 * same customer has later (an overall NPS answer, a conversion or churn
 * flag, revenue), and keeps per driver the sufficient statistics of those
 * pairs. See docs/outcomes.md.
 * @{ */

/** The most driver sets a context holds. */
#define CXM_DRIVER_SETS_MAX 16
/** The most drivers in one set (the overall driver included). */
#define CXM_DRIVERS_MAX 128
/** Driver values one customer's record keeps per set: the latest ones. */
#define CXM_DRIVER_KEEP 6

/** Flags of ::cxm_drivers_def. */
typedef enum cxm_drivers_flags {
	/** Add the overall driver (::CXM_NONE as its touchpoint): the
	 *  customer's latest answer of the driver metric at any touchpoint —
	 *  "revenue by NPS band" when the outcome is revenue. */
	CXM_DRIVERS_OVERALL = 1
} cxm_drivers_flags;

/** A driver set's definition. */
typedef struct cxm_drivers_def {
	size_t size;                /**< sizeof(cxm_drivers_def) as the caller knows it. */
	cxm_id outcome;             /**< The outcome metric: SCORE (its item 0), RATE, AMOUNT, DURATION or SENTIMENT, fed with a customer id. */
	cxm_id driver;              /**< The experience metric: SCORE (item 0), RATE or SENTIMENT, fed with a customer id at the drivers' touchpoints. */
	cxm_id journey;             /**< ::CXM_NONE, or a journey whose steps' touchpoints are the drivers (in step order) when @c n_touchpoints is 0. */
	uint32_t n_touchpoints;     /**< Drivers listed in @c touchpoints. */
	const cxm_id *touchpoints;  /**< The drivers' touchpoints, distinct (copied); may be NULL when @c n_touchpoints is 0. */
	int64_t window_ms;          /**< How long after an experience an outcome still pairs with it: 1 … ::CXM_JOURNEY_MAX_WINDOW_MS; 0: 30 days. */
	uint32_t flags;             /**< ::cxm_drivers_flags. */
	uint64_t reserved[4];       /**< Must be 0. */
} cxm_drivers_def;

/**
 * Zero @p def, set its size, @c journey to ::CXM_NONE.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_drivers_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p def is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 * Thread-safe; touches only @p def.
 */
CXM_EXPORT cxm_status cxm_drivers_def_init(cxm_drivers_def *def, size_t size);

/**
 * Define a driver set. From then on, every accepted interaction with a
 * customer id that carries the driver metric (not its no-answer code) at
 * a driver's touchpoint sets that customer's value of that driver (the
 * latest by event time; a record keeps ::CXM_DRIVER_KEEP drivers, the
 * oldest giving way), and every one that carries the outcome metric pairs
 * the outcome with each value the customer has at or before its time and
 * at most @c window_ms before it. Values of one interaction are set
 * before its outcome is paired, so a survey that asks both pairs them.
 * A customer's record takes 64 bytes (48 of values), made on its first
 * driver value; records whose values all left the window are removed
 * when their stripe grows, and at most @c max_customers records are kept
 * (values past that are counted in cxm_drivers_result::unremembered).
 * Interactions before the definition are not paired. The statistics
 * count every pair since the definition: cxm_rewind() does not take pairs
 * back; cxm_customer_forget() erases the customer's record (its values),
 * not the sums its pairs added to.
 *
 * @param out  receives the set's id (0, 1, … in order of definition).
 * @param ctx  the context.
 * @param name its name, unique among driver sets, as other names.
 * @param def  the definition (copied, the touchpoint list too).
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL (@c touchpoints with @c n_touchpoints above 0); no driver (no touchpoint, no journey, no OVERALL flag); a touchpoint listed twice; an unknown flag.
 * @retval CXM_ERR_UNKNOWN_ID    @c outcome, @c driver, @c journey or a touchpoint is not defined.
 * @retval CXM_ERR_KIND          @c outcome or @c driver is of a kind that cannot be one.
 * @retval CXM_ERR_OUT_OF_RANGE  @c window_ms outside its range.
 * @retval CXM_ERR_LIMIT         more than ::CXM_DRIVERS_MAX drivers, or ::CXM_DRIVER_SETS_MAX sets exist.
 * @retval CXM_ERR_EXISTS        a set of that name exists.
 * @retval CXM_ERR_ENCODING, CXM_ERR_TOO_LONG  the name, as for metrics.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  see @ref conventions.
 * @retval CXM_ERR_NO_MEMORY     nothing was defined.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_drivers_define(cxm_id *out, cxm_context *ctx, const char *name,
					 const cxm_drivers_def *def);

/**
 * A driver set's id by name.
 *
 * @param out  receives the id.
 * @param ctx  the context.
 * @param name the name.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no set of that name.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_drivers_find(cxm_id *out, const cxm_context *ctx, const char *name);

/**
 * A driver set's definition and name, as the set holds it: @c window_ms
 * with the default resolved (never 0), and @c touchpoints / @c
 * n_touchpoints the drivers' touchpoints in order — those a journey gave
 * too — without the overall driver (@c flags says whether it is there,
 * last).
 *
 * @param out   the caller's struct with @c size set; written only on success. Its @c touchpoints points into the context: valid while the context lives, never changed.
 * @param name  receives the name (owned by the context, valid while it lives), or NULL.
 * @param ctx   the context.
 * @param set   the driver set.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p out or @p ctx is NULL.
 * @retval CXM_ERR_VERSION     out->size too small.
 * @retval CXM_ERR_UNKNOWN_ID  no such set.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_drivers_get(cxm_drivers_def *out, const char **name, const cxm_context *ctx,
				      cxm_id set);

/** Where a driver falls among the set's drivers. */
typedef enum cxm_driver_quadrant {
	CXM_QUADRANT_NONE = 0,     /**< Fewer than 3 pairs, or no variance: not placed. */
	CXM_QUADRANT_STRENGTH = 1, /**< Important and performing well: keep it. */
	CXM_QUADRANT_PRIORITY = 2, /**< Important and performing below the others: improve it first. */
	CXM_QUADRANT_MAINTAIN = 3, /**< Performing well, not important. */
	CXM_QUADRANT_LOW = 4       /**< Neither: attend to it last. */
} cxm_driver_quadrant;

/** An experience band: customers whose driver value is in the driver metric's bottom box, middle, or top box. */
typedef struct cxm_driver_band {
	uint64_t n;        /**< Outcomes paired with a value in the band. */
	double mean;       /**< Their mean outcome; NaN when n is 0. */
	double ci_low;     /**< Its interval at the context's confidence (Student's t); NaN below 2. */
	double ci_high;    /**< Upper end. */
} cxm_driver_band;

/** One driver's answer. An array of these is written with the stride of the first element's @c size. */
typedef struct cxm_driver {
	size_t size;              /**< Set by the caller (first element): sizeof(cxm_driver) as it knows it. */
	cxm_id touchpoint;        /**< The driver's touchpoint; ::CXM_NONE for the overall driver. */
	uint64_t n;               /**< Pairs of (driver value, outcome). */
	double importance;        /**< Pearson's r of the pairs (the standardized slope of the outcome on the driver); NaN below 3 pairs or without variance. */
	double ci_low;            /**< r's interval at the context's confidence (Fisher's z); NaN below 4 pairs. */
	double ci_high;           /**< Upper end. */
	double p_value;           /**< Two-sided p of r = 0 (Student's t, n − 2 degrees of freedom). */
	int significant;          /**< 1 when @c p_value is below 1 − cxm_config::confidence, else 0. */
	cxm_driver_quadrant quadrant; /**< Where the driver falls: its importance (|r|, taken as 0 when not @c significant) against the mean of the placed drivers' (those with an @c importance), and its @c performance against their mean performance. */
	double performance;       /**< The driver's mean value over its pairs (its score, rate or sentiment). */
	double outcome_mean;      /**< The mean outcome over its pairs. */
	cxm_driver_band bands[3]; /**< Bottom box, middle, top box of the driver value (a RATE: 0 and 1 in bottom and top). */
	double band_difference;   /**< Top band's mean outcome − bottom band's ("what a detractor costs"); NaN when either is empty. */
	double band_ci_low;       /**< Its interval (Welch). */
	double band_ci_high;      /**< Upper end. */
	double band_p_value;      /**< Welch's two-sided p; NaN below 2 in either band. */
	uint64_t reserved[4];     /**< Zero. */
} cxm_driver;

/** What cxm_drivers_run() reports about the set as a whole. */
typedef struct cxm_drivers_result {
	size_t size;               /**< Set by the caller: sizeof(cxm_drivers_result) as it knows it. */
	uint32_t n_drivers;        /**< Drivers in the set (the elements the full answer has). */
	uint64_t outcomes;         /**< Outcomes fed with a customer id since the definition. */
	uint64_t paired;           /**< Of those, with at least one driver value in the window. */
	uint64_t customers;        /**< Customer records held now. */
	uint64_t unremembered;     /**< Driver values not kept because no record could be had for the customer: the set held cxm_config::max_customers records, or memory was short. */
	uint64_t memory_bytes;     /**< Bytes the set holds (records and statistics). */
	uint64_t reserved[4];      /**< Zero. */
} cxm_drivers_result;

/**
 * The key-driver analysis of a set: per driver, the importance of its
 * experience for the outcome (Pearson's r over pairs, each driver on the
 * customers it has: a pairwise analysis, since few customers meet every
 * touchpoint), its interval and significance, its performance and
 * quadrant, and the outcome by experience band with the difference of
 * top and bottom band. Statistics are over every pair since the
 * definition (not windowed), and survive snapshots and merges.
 *
 * @param res    the caller's summary, @c size set; written on success.
 * @param out    the caller's array of @p cap drivers, @c out[0].size set; may be NULL when @p cap is 0. Drivers in definition order (the overall one last).
 * @param cap    elements of @p out.
 * @param ctx    the context.
 * @param set    the driver set.
 * @retval CXM_OK        all of them written (res->n_drivers ≤ cap).
 * @retval CXM_ERR_LIMIT @p cap below res->n_drivers: the first @p cap written, @p res too.
 * @retval CXM_ERR_INVALID     @p res or @p ctx is NULL; @p out NULL with @p cap above 0.
 * @retval CXM_ERR_VERSION     @c res->size or @c out[0].size too small.
 * @retval CXM_ERR_UNKNOWN_ID  no such set.
 * Thread-safe; reads a consistent copy of each driver's statistics.
 */
CXM_EXPORT cxm_status cxm_drivers_run(cxm_drivers_result *res, cxm_driver *out, size_t cap,
				      cxm_context *ctx, cxm_id set);
/** @} */

/** @defgroup stats Statistics
 * @{ */

/** What a context holds and has done. */
typedef struct cxm_stats {
	size_t size;               /**< Set by the caller. */
	uint64_t memory_bytes;     /**< Bytes allocated now, through the allocator. */
	uint64_t series;           /**< Series allocated, over all shards. */
	uint64_t series_bytes;     /**< Bytes those series hold now: headers and the pages of their time buckets (they grow and shrink with the buckets holding data). */
	uint64_t accepted;         /**< Interactions accepted. */
	uint64_t rejected_total;   /**< Interactions rejected. */
	uint64_t rejected[CXM_STATUS_COUNT]; /**< Rejected, by ::cxm_status. */
	uint64_t saturated;        /**< Duration bins that reached their 32-bit limit and stopped counting. */
	int64_t watermark_ms;      /**< Latest accepted event time, or −1 before any. */
	uint32_t shards;           /**< Shards configured. */
	uint32_t shards_used;      /**< Shards that hold any series. */
	uint64_t customers;        /**< Customers tracked now. */
	uint64_t customers_evicted; /**< Customers forgotten to make room (policy EVICT). */
	uint64_t customers_refused; /**< Interactions refused for want of room (policy REFUSE). */
	uint64_t customers_forgotten; /**< Customers erased by cxm_customer_forget(). */
	uint64_t customer_bytes;   /**< Bytes of the customer table (allocated on the first customer id). */
	/** Time buckets whose data was lost because no memory could be had
	 * for the coarser bucket it rolls into, for a bucket a merge adds,
	 * or for a journey funnel's bucket that became necessary after the
	 * feed reserved its pages (another thread's fold moved the funnel on
	 * meanwhile). 0 unless the allocator
	 * failed or cxm_config::max_memory was reached; a metric's fold never
	 * loses an accepted interaction (a feed without memory is refused). */
	uint64_t lost_buckets;
	/** Duration time buckets left in their larger, unpacked form because
	 * no memory could be had to pack them (see cxm_series_bytes()): their
	 * data is whole and every answer the same; only memory is larger
	 * until the bucket is next written or expires. */
	uint64_t unpacked_buckets;
	/** Events put on the queue (triggers, alerts, signals; see @ref triggers), since
	 * the context was made: drained or not. */
	uint64_t events_queued;
	/** Events a trigger matched but the full queue could not take: lost,
	 * and counted here (the host drains too slowly, or
	 * cxm_config::event_queue is too small). */
	uint64_t events_dropped;
	/** Journey interactions whose in-journey signals (see @ref signals)
	 * could not be judged because no memory could be had for the
	 * customer's signal state: the interaction was accepted and counted
	 * as usual, only a signal it would have raised may be missing. */
	uint64_t signals_unjudged;
	/** Bytes the query cache holds, included in @c memory_bytes and not
	 * in @c series_bytes: a query over whole hours of the finest tier
	 * keeps the merge of each such hour's minutes, for the series it
	 * reads, so that the next query over that hour merges one cell
	 * instead of sixty (see @ref query_cache). At most three cells per series a
	 * query has read, freed with the series; under
	 * cxm_config::max_memory, at most a sixteenth of it. */
	uint64_t query_cache_bytes;
	uint64_t reserved[2];      /**< 0. */
} cxm_stats;

/**
 * Read the context's statistics.
 *
 * @param out  the caller's struct with @c size set; written only on success.
 * @param ctx  the context.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   a pointer is NULL.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED
 * Thread-safe; counters are read one at a time, not as one snapshot.
 */
CXM_EXPORT cxm_status cxm_stats_get(cxm_stats *out, cxm_context *ctx);

/**
 * Bytes one series of @p metric takes before it holds any time bucket:
 * its header, with the newest finest bucket and the lifetime totals. A
 * series then grows by a page of 8 buckets of a tier when the first of
 * them holds data, and gives the page back when the last one leaves;
 * cxm_stats::series_bytes is what all series hold now.
 *
 * @param out    receives the size in bytes.
 * @param ctx    the context.
 * @param metric the metric's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such metric.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_series_bytes(size_t *out, const cxm_context *ctx, cxm_id metric);
/** @} */

/** @defgroup customers Customers
 *
 * Feeding an interaction that carries a customer id records the customer
 * in a table of cxm_config::max_customers entries, under the 128-bit keyed
 * hash of the id (SipHash-2-4 with cxm_config::customer_key): the id
 * itself is never stored. Each entry is 32 bytes, with the state of the
 * customer's latest journey instance (see @ref journeys); at the default
 * limit of 10^6 a full table costs 42.3 bytes a customer with its free
 * slots and overhead (smaller limits cost more per customer, because each
 * stripe keeps room for an uneven spread of ids). The table grows with its
 * customers: the first customer id allocates 64 stripes of 64 entries
 * (136 KiB), and a stripe doubles when it is 80 % full, up to its size at
 * max_customers; a growth moves the stripe's entries under its lock. An
 * allocation failure then rejects that interaction with
 * ::CXM_ERR_NO_MEMORY.
 *
 * Colliding ids. No entry is kept more than 2048 slots after its place;
 * among random digests a run that long has a probability near 1e-20 per
 * slot. Someone who knows the key can make ids that collide: past 2048
 * such ids a newcomer is handled as at the limit (under EVICT it replaces
 * the least recently seen of the 8 entries at its place, counted in
 * cxm_stats::customers_evicted; under REFUSE it is refused with
 * ::CXM_ERR_LIMIT, counted in cxm_stats::customers_refused), so no look-up
 * ever walks more than 2048 entries and other customers are unaffected.
 * @{ */

/**
 * When a customer was last seen (the latest event time of its interactions).
 *
 * @param out   receives the time in ms since the epoch.
 * @param ctx   the context.
 * @param id    the customer id bytes, as fed.
 * @param len   their length, 1 … cxm_config::max_customer_id_len.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL or @p len is 0.
 * @retval CXM_ERR_TOO_LONG    @p len is above the limit.
 * @retval CXM_ERR_UNKNOWN_ID  the customer is not tracked (never seen, evicted or forgotten).
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_customer_last_seen(int64_t *out, cxm_context *ctx, const void *id,
					     size_t len);

/**
 * Erase a customer: its entry is removed from the table, with its journey
 * instance and churn mark (see @ref journeys), its survey history (see
 * @ref governor) and its latest driver values (see @ref drivers), so
 * nothing of it remains but
 * aggregates that never held it individually (counts, sums, funnel counts,
 * and the HyperLogLog registers of DISTINCT metrics, which hold no ids). If
 * the same id is fed again it is a new customer: no progress, no repeat
 * contact.
 *
 * @param ctx   the context.
 * @param id    the customer id bytes, as fed.
 * @param len   their length, 1 … cxm_config::max_customer_id_len.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL or @p len is 0.
 * @retval CXM_ERR_TOO_LONG    @p len is above the limit.
 * @retval CXM_ERR_UNKNOWN_ID  the customer is neither tracked nor has a survey history nor driver values.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_customer_forget(cxm_context *ctx, const void *id, size_t len);
/** @} */

/** @defgroup export OpenMetrics and Prometheus exposition
 *
 * Every aggregate of a context as text that Prometheus scrapes: cumulative
 * counters per score point, per top and bottom box and per yes/no outcome,
 * classic histograms of durations, count and sum of amounts, and volumes,
 * so that PromQL computes NPS, CSAT top-2-box, rates and quantiles across
 * any number of nodes (docs/prometheus.md gives the recipes).
 *
 * @section export_totals What the numbers are
 * Each exposed number is a lifetime total of one series: everything fed to
 * it since the series was created (the first interaction that reached it),
 * never rolled up and never expired, whatever the window tiers. They only
 * grow, as Prometheus counters must; a new context (a restart) starts them
 * from zero again, which PromQL's rate() and increase() treat as a counter
 * reset. Windows are then PromQL's business (increase(...[24h])).
 *
 * @section export_families Families
 * Samples carry the caller's constant labels first (a node, a tenant, a
 * worker: cxm_export_options::label_names), then @c metric,
 * @c touchpoint, @c channel (phone,
 * chat, email, web, sms, social, in_person, other), and when the
 * touchpoint is a step of a journey @c journey and @c step. A series of one
 * segment value also carries @c segment (the dimension's name) and
 * @c segment_value; the series without them counts every interaction, so
 * a sum over all of a touchpoint's series must select `segment=""`.
 * Customer ids never appear. Label values are escaped as the formats
 * require (backslash, double quote, line feed).
 *
 * | family (OpenMetrics name) | type | kinds | extra labels |
 * |---|---|---|---|
 * | cxm_score_answers | counter | SCORE, INDEX | question (INDEX only), point |
 * | cxm_score_responses | counter | SCORE, INDEX | question (INDEX only) |
 * | cxm_score_top_box | counter | SCORE, INDEX | question (INDEX only) |
 * | cxm_score_bottom_box | counter | SCORE, INDEX | question (INDEX only) |
 * | cxm_score_no_answer | counter | SCORE, INDEX with a "no answer" code | |
 * | cxm_rate_outcomes | counter | RATE | outcome ("yes", "no") |
 * | cxm_duration_seconds | histogram | DURATION | le |
 * | cxm_amount | summary (count and sum) | AMOUNT | |
 * | cxm_volume | counter | VOLUME | |
 * | cxm_interactions_accepted | counter | the context | |
 * | cxm_interactions_rejected | counter | the context | reason (::cxm_strerror()) |
 *
 * Counters are named with @c _total in both formats. DISTINCT metrics are
 * not exposed: distinct counts do not add up across nodes or windows.
 *
 * A histogram bucket counts the values at most its bound @c le, as the
 * metric's sketch knows them: a value within twice the metric's relative
 * error of a bound may be counted on either side of it, values between 0
 * and duration_lo count in the buckets from duration_lo up, and values above
 * duration_hi only in @c +Inf. @c _count and @c _sum are exact.
 *
 * Order: family by family, then by metric id, touchpoint id and segment
 * slot, so the text of a context is the same whatever its shards. Each
 * family's HELP and TYPE (and, in OpenMetrics, UNIT) lines come before its
 * first sample; a family without samples is left out.
 *
 * One call exposes one context. The texts of two contexts must not be
 * concatenated into one response (a family may appear only once): serve
 * them apart, telling them apart with a constant label.
 * @{ */

/** Text formats of the exposition. */
typedef enum cxm_export_format {
	CXM_FORMAT_OPENMETRICS = 0, /**< OpenMetrics 1.0.0 text, with UNIT lines, ending in "# EOF". */
	CXM_FORMAT_PROMETHEUS = 1   /**< Prometheus text format 0.0.4 (what `promtool check metrics` reads). */
} cxm_export_format;

/** HTTP Content-Type of ::CXM_FORMAT_OPENMETRICS text. */
#define CXM_OPENMETRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
/** HTTP Content-Type of ::CXM_FORMAT_PROMETHEUS text. */
#define CXM_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** The largest number of histogram bucket bounds. */
#define CXM_EXPORT_MAX_BUCKETS 64
/** The largest number of constant labels (cxm_export_options::label_names). */
#define CXM_EXPORT_MAX_LABELS 8

/** cxm_export_options::flags: expose only the series that count every
 * interaction of a touchpoint, not those of each segment value. */
#define CXM_EXPORT_NO_SEGMENTS 0x1u
/** cxm_export_options::flags: leave out cxm_score_answers (the counter per
 * point of the scale); responses and the top and bottom boxes remain, which
 * is all NPS, CSAT top-box and CES net need, at a quarter of the lines. */
#define CXM_EXPORT_NO_POINTS 0x2u

/**
 * How to expose a context. Zero in a member means its default, so
 * `cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;` or
 * cxm_export_options_init() gives OpenMetrics with the default buckets.
 *
 * Default histogram bounds, in seconds: 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120,
 * 300, 600, 1800, 3600, 14400, 86400 (and +Inf).
 */
typedef struct cxm_export_options {
	size_t size;              /**< sizeof(cxm_export_options) as the caller knows it. */
	cxm_export_format format; /**< Default: ::CXM_FORMAT_OPENMETRICS. */
	uint32_t flags;           /**< CXM_EXPORT_* bits. */
	const double *buckets;    /**< Histogram upper bounds in seconds: finite, ≥ 0, strictly increasing; +Inf is implied. Only read during the call. */
	uint32_t n_buckets;       /**< 0: the default bounds; at most ::CXM_EXPORT_MAX_BUCKETS. */
	uint32_t n_labels;        /**< Constant labels put first on every sample, 0 … ::CXM_EXPORT_MAX_LABELS. */
	/** Their names: [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__", distinct, and none of
	 * the labels the exposition sets itself (metric, touchpoint, channel, journey, step,
	 * segment, segment_value, question, point, outcome, le, reason, quantile). Use them to
	 * tell apart the contexts of one process (a tenant) or the processes of one host (a
	 * worker) that share an endpoint or a textfile directory. */
	const char *const *label_names;
	/** Their values: names as cxm_journey_define() takes them (non-empty clean UTF-8, at
	 * most cxm_config::max_name_len bytes). Only read during the call. */
	const char *const *label_values;
	uint64_t reserved[6];     /**< Must be 0. */
} cxm_export_options;

/** Initializer for default ::cxm_export_options (C, and C++20). */
#define CXM_EXPORT_OPTIONS_INIT { .size = sizeof(cxm_export_options) }

/**
 * Zero @p opts and set its size.
 *
 * @param opts the struct to fill; the caller's.
 * @param size sizeof(cxm_export_options) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p opts is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 * Thread-safe; touches only @p opts.
 */
CXM_EXPORT cxm_status cxm_export_options_init(cxm_export_options *opts, size_t size);

/**
 * Receives the text of cxm_export_write() piece by piece.
 *
 * @param data    @p len bytes of text (not NUL-terminated), valid only during the call.
 * @param len     their number, > 0.
 * @param payload the caller's pointer, as given.
 * @return 0 to go on; anything else stops the exposition with ::CXM_ERR_IO.
 */
typedef int (*cxm_export_fn)(const char *data, size_t len, void *payload);

/**
 * Write the exposition of a context into a caller's buffer.
 *
 * The text comes with a terminating NUL. Nothing is allocated; the call
 * uses about 6 KiB of stack. Concurrent feeding may add series between two
 * calls, so a caller that retries after ::CXM_ERR_LIMIT should give some
 * room beyond *out_len + 1.
 *
 * @param out_len receives the length of the whole text without its NUL, on
 *                success and with ::CXM_ERR_LIMIT.
 * @param ctx     the context.
 * @param opts    the options, or NULL for the defaults.
 * @param buf     the buffer; may be NULL when @p cap is 0 (to learn the size).
 * @param cap     its size in bytes.
 * @retval CXM_OK               @p buf holds the text and a NUL.
 * @retval CXM_ERR_LIMIT        @p cap is less than *out_len + 1; the contents
 *                              of @p buf are unspecified.
 * @retval CXM_ERR_INVALID      @p out_len or @p ctx is NULL, @p buf is NULL
 *                              with @p cap > 0, the format is unknown, a flag
 *                              is unknown, @c buckets is NULL with
 *                              @c n_buckets > 0, a label array or entry is
 *                              NULL, or a label name is malformed, taken or
 *                              given twice.
 * @retval CXM_ERR_OUT_OF_RANGE more than ::CXM_EXPORT_MAX_BUCKETS bounds or
 *                              ::CXM_EXPORT_MAX_LABELS labels, or a bound is
 *                              negative or not above the previous.
 * @retval CXM_ERR_NOT_FINITE   a bound is NaN or infinite.
 * @retval CXM_ERR_ENCODING     a label value is empty or not clean UTF-8.
 * @retval CXM_ERR_TOO_LONG     a label value is longer than max_name_len.
 * @retval CXM_ERR_VERSION      opts->size is too small.
 * @retval CXM_ERR_UNSUPPORTED  @p opts carries unknown non-zero fields or a
 *                              reserved field is set.
 * Thread-safe: runs while other threads feed, query and define; locks one
 * shard at a time, so each series is read whole but the text is not one
 * instant of the whole context.
 */
CXM_EXPORT cxm_status cxm_export_text(size_t *out_len, cxm_context *ctx,
				      const cxm_export_options *opts, char *buf, size_t cap);

/**
 * Write the exposition of a context through a callback.
 *
 * The text is handed to @p write in order, in pieces of 8 to 16 KiB (the
 * last one shorter; one longer only when a single series' text is). Nothing
 * is allocated; the call uses about 22 KiB of stack. @p write is called
 * with no lock held, except when one series' text exceeds 8 KiB (a long
 * INDEX scale, very long names): then it may run under a shard's lock, so
 * it must not call into libcxm on @p ctx.
 *
 * @param ctx     the context.
 * @param opts    the options, or NULL for the defaults.
 * @param write   the callback; see ::cxm_export_fn.
 * @param payload passed to @p write.
 * @retval CXM_OK
 * @retval CXM_ERR_IO           @p write returned non-zero; it is not called again.
 * @retval CXM_ERR_INVALID      @p ctx or @p write is NULL, or as cxm_export_text().
 * @retval CXM_ERR_OUT_OF_RANGE, CXM_ERR_NOT_FINITE, CXM_ERR_ENCODING, CXM_ERR_TOO_LONG,
 *         CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  as cxm_export_text().
 * Thread-safe, as cxm_export_text().
 */
CXM_EXPORT cxm_status cxm_export_write(cxm_context *ctx, const cxm_export_options *opts,
				       cxm_export_fn write, void *payload);
/** @} */

/** @defgroup snapshot Snapshots and merge
 *
 * A snapshot is the whole state of a context in a portable, versioned,
 * checksummed binary form (docs/snapshot.md gives it byte by byte): the
 * model (journeys, steps, touchpoints, metrics, segments and their
 * values), every series (all tiers' buckets, the newest bucket, sketches,
 * HyperLogLog registers, lifetime totals), the statistics and the
 * customer table (keyed hashes only, never ids). The customer key itself
 * is never written; the file carries a 16-byte fingerprint of it.
 *
 * @section snap_load Loading
 * A load reads and checks everything (every length against the bytes
 * left and the context's limits before allocating, every checksum, id and
 * count) into fresh state and swaps it in only when all is well. The
 * context must be *empty*: fresh from cxm_context_new(), with nothing
 * defined, fed or tracked (rejections counted so far are replaced by the
 * snapshot's). Its tiers and customer key must be those of the context
 * that saved (set cxm_config::customer_key to keep state across restarts:
 * a random key cannot be matched). Its limits must hold the snapshot; its
 * shard count may differ.
 *
 * @section snap_merge Merging
 * Merging adds the state of a source (a context, or a snapshot) into a
 * destination. The two must have the same tiers and customer key. Every
 * journey, touchpoint, metric and segment dimension of the source must be
 * defined in the destination under the same name, with the same
 * definition (ids may differ: they are matched by name); segment values
 * are matched by name and the ones the destination lacks are added.
 * Then:
 * - counts, sums and sketch bins add, HyperLogLog registers take the
 *   maximum, minima and maxima combine; each bucket lands in the bucket of
 *   the same start, or, where the destination has already rolled that
 *   time up to a coarser tier, in the coarser bucket that covers it. So
 *   merging A into B gives, for every query, exactly what feeding A's and
 *   B's interactions into one context gives (sums of non-integer values
 *   up to the rounding of their different order of addition), and merges
 *   commute and associate in that sense;
 * - the watermark becomes the later of the two; the clock is not read
 *   (data newer than the destination's now is kept as the source had it);
 * - statistics add (accepted, rejected, saturated, customers evicted,
 *   refused, forgotten);
 * - journey state: each journey with state in the source must have the
 *   same cxm_journey_options in the destination (::CXM_ERR_EXISTS, naming
 *   the journey, before anything changes); funnel counts add exactly and
 *   step-time sketches add their bins, so with traffic split by customer
 *   every funnel equals that of one context fed everything (see
 *   docs/journeys.md for the sweep this assumes);
 * - customers are combined by keyed hash: one seen on both sides keeps
 *   the later last-seen time (with that side's churn mark), and the
 *   journey instance whose latest step is later (the destination's on a
 *   tie, or when the source has none); a customer new to the
 *   destination is added if there is room under
 *   cxm_config::max_customers, and otherwise dropped and counted in
 *   cxm_stats::customers_refused, whatever the cxm_customer_policy (a
 *   merge never evicts).
 *
 * On failure a merge changes no aggregate, customer or statistic; segment
 * values it added stay defined (definitions are never removed).
 *
 * @section snap_threads Threads
 * Saving and merging may run while other threads feed and query: a save
 * copies each series whole under its shard's lock (and the customers one
 * stripe at a time), so it is consistent per series, not across the
 * context; a merge's buckets become visible one series at a time. A load must not overlap any other
 * call on its context (like cxm_context_free()). File I/O never happens
 * with a lock held.
 * @{ */

/**
 * Where cxm_snapshot_write() sends the bytes of a snapshot, in order.
 *
 * @param data     the next bytes; valid only during the call.
 * @param len      how many (never 0).
 * @param payload  the caller's pointer, as given.
 * @return 0 to go on; any other value stops the snapshot with ::CXM_ERR_IO.
 */
typedef int (*cxm_write_fn)(const void *data, size_t len, void *payload);

/**
 * Save the context to a file, atomically.
 *
 * Writes a temporary file beside @p path, fsyncs it, renames it over
 * @p path and fsyncs the directory. If any step before the rename fails,
 * the temporary file is removed and @p path is untouched (the previous
 * snapshot, if any, stays as it was); if only the directory's fsync
 * fails, @p path already holds the new snapshot but the rename may not
 * survive a power cut, and the call still fails. A file that is replaced
 * keeps its mode (and its owner, where the process may set it); a new one
 * is 0644 less the umask. Temporary files of @p path left by processes
 * that died mid-save are removed.
 *
 * @param ctx   the context.
 * @param path  the snapshot's path; its directory must exist.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID    a pointer is NULL or @p path is empty.
 * @retval CXM_ERR_IO         a file operation failed; cxm_errmsg() names
 *                            the operation, the file and errno's text.
 * @retval CXM_ERR_NO_MEMORY
 * @retval CXM_ERR_UNSUPPORTED this platform is not little-endian.
 * Thread-safe (see @ref snapshot); the caller owns the file.
 */
CXM_EXPORT cxm_status cxm_snapshot_save(cxm_context *ctx, const char *path);

/**
 * Write a snapshot of the context through a callback (to memory, a socket,
 * a compressor…). The bytes are exactly those cxm_snapshot_save() writes.
 *
 * @param ctx      the context.
 * @param fn       called with the bytes in order; see ::cxm_write_fn.
 * @param payload  passed to @p fn.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID    a pointer is NULL.
 * @retval CXM_ERR_IO         @p fn returned non-zero.
 * @retval CXM_ERR_NO_MEMORY
 * @retval CXM_ERR_UNSUPPORTED this platform is not little-endian.
 * Thread-safe (see @ref snapshot).
 */
CXM_EXPORT cxm_status cxm_snapshot_write(cxm_context *ctx, cxm_write_fn fn, void *payload);

/**
 * Load a snapshot file into an empty context.
 *
 * @param ctx   the context: empty, with the saver's tiers and customer key
 *              (see @ref snap_load).
 * @param path  the file.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID    a pointer is NULL, @p path is empty, or the
 *                            context is not empty.
 * @retval CXM_ERR_IO         the file cannot be opened or read, or is not
 *                            a regular file (a FIFO, a device, a
 *                            directory: refused before a byte is read).
 * @retval CXM_ERR_CORRUPT    the file is not a snapshot, or is damaged,
 *                            truncated or inconsistent (including values
 *                            no feeding can make, see docs/snapshot.md).
 * @retval CXM_ERR_VERSION    the file is a snapshot of another format
 *                            version (or has a section this library does
 *                            not know).
 * @retval CXM_ERR_EXISTS     the context's tiers or customer key differ
 *                            from the saver's.
 * @retval CXM_ERR_LIMIT      the snapshot needs more than the context's
 *                            limits allow (max_series, max_customers,
 *                            cxm_config::max_memory, ...).
 * @retval CXM_ERR_NO_MEMORY  the allocator, or cxm_config::max_memory,
 *                            refused an allocation.
 * @retval CXM_ERR_UNSUPPORTED this platform is not little-endian.
 * On any failure the context is unchanged. Not thread-safe: no other call
 * on @p ctx may run at the same time.
 */
CXM_EXPORT cxm_status cxm_snapshot_load(cxm_context *ctx, const char *path);

/**
 * Load a snapshot from memory into an empty context; as cxm_snapshot_load().
 *
 * @param ctx   the context (see @ref snap_load).
 * @param data  the snapshot's bytes; only read during the call.
 * @param len   their number.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID    @p ctx is NULL, @p data is NULL with @p len
 *                            non-zero, or the context is not empty.
 * @retval CXM_ERR_CORRUPT, CXM_ERR_VERSION, CXM_ERR_EXISTS, CXM_ERR_LIMIT,
 *         CXM_ERR_NO_MEMORY, CXM_ERR_UNSUPPORTED  as cxm_snapshot_load().
 * On any failure the context is unchanged. Not thread-safe.
 */
CXM_EXPORT cxm_status cxm_snapshot_load_mem(cxm_context *ctx, const void *data, size_t len);

/**
 * Merge a snapshot file into a context (see @ref snap_merge).
 *
 * @param dst   the destination.
 * @param path  the snapshot.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL or @p path is empty.
 * @retval CXM_ERR_IO          as cxm_snapshot_load().
 * @retval CXM_ERR_CORRUPT, CXM_ERR_VERSION  as cxm_snapshot_load().
 * @retval CXM_ERR_UNKNOWN_ID  the source defines a journey, touchpoint,
 *                             metric or segment that @p dst does not.
 * @retval CXM_ERR_EXISTS      one of them is defined differently, a
 *                             journey has other cxm_journey_options, or the
 *                             tiers or customer key differ; cxm_errmsg()
 *                             says which and how.
 * @retval CXM_ERR_LIMIT       @p dst's limits (series, segment values,
 *                             cxm_config::max_memory) cannot hold the
 *                             result.
 * @retval CXM_ERR_NO_MEMORY
 * @retval CXM_ERR_UNSUPPORTED this platform is not little-endian.
 * Thread-safe: @p dst may be fed and queried meanwhile.
 */
CXM_EXPORT cxm_status cxm_snapshot_merge(cxm_context *dst, const char *path);

/**
 * Merge a snapshot in memory into a context; as cxm_snapshot_merge().
 *
 * @param dst   the destination.
 * @param data  the snapshot's bytes; only read during the call.
 * @param len   their number.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p dst is NULL, or @p data is NULL with
 *                             @p len non-zero.
 * @retval CXM_ERR_CORRUPT, CXM_ERR_VERSION, CXM_ERR_UNKNOWN_ID,
 *         CXM_ERR_EXISTS, CXM_ERR_LIMIT, CXM_ERR_NO_MEMORY,
 *         CXM_ERR_UNSUPPORTED  as cxm_snapshot_merge().
 * Thread-safe, as cxm_snapshot_merge().
 */
CXM_EXPORT cxm_status cxm_snapshot_merge_mem(cxm_context *dst, const void *data, size_t len);

/**
 * The window tiers a snapshot was saved with, from its first bytes.
 *
 * A context loads or merges a snapshot only when its tiers are the
 * saver's (cxm_config::tiers). A host that reads snapshots of others — an
 * exporter, a report — asks here first and creates its context with
 * these. Only the header and the tiers are read and checked (magic,
 * format version, checksums); a load still checks the whole file.
 *
 * @param out    receives the tiers, finest first: room for
 *               ::CXM_MAX_TIERS; written only on success.
 * @param n_out  receives their number (1 … ::CXM_MAX_TIERS).
 * @param data   the snapshot's bytes, or its first ones: the first
 *               64 + 16 + 4 + 12 × ::CXM_MAX_TIERS + 4 bytes are always
 *               enough; only read during the call.
 * @param len    their number.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   @p out, @p n_out or @p data is NULL.
 * @retval CXM_ERR_CORRUPT   not a libcxm snapshot, too few bytes, or a
 *                           damaged header or tiers section.
 * @retval CXM_ERR_VERSION   a format version this library does not read.
 * Thread-safe; touches only @p out and @p n_out. With no context, an
 * error's message is cxm_errmsg(NULL)'s.
 */
CXM_EXPORT cxm_status cxm_snapshot_tiers(cxm_tier *out, uint32_t *n_out, const void *data,
					 size_t len);

/**
 * Merge one context into another (see @ref snap_merge).
 *
 * The source is read as cxm_snapshot_write() reads it, and may be fed
 * meanwhile; it is not changed. Temporary memory (about the size of the
 * source's snapshot) comes from @p dst's allocator.
 *
 * @param dst  the destination.
 * @param src  the source; a different context.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL, or @p src is @p dst.
 * @retval CXM_ERR_UNKNOWN_ID, CXM_ERR_EXISTS, CXM_ERR_LIMIT,
 *         CXM_ERR_NO_MEMORY, CXM_ERR_UNSUPPORTED  as cxm_snapshot_merge().
 * Thread-safe, as cxm_snapshot_merge(); two merges in opposite
 * directions may run at once.
 */
CXM_EXPORT cxm_status cxm_merge(cxm_context *dst, cxm_context *src);
/** @} */

/** @defgroup journeys Journey progress, funnels, repeat contacts and churn
 *
 * Every interaction that carries a customer id and happens on a touchpoint
 * that is a step of a journey moves that customer along the journey. The
 * library keeps, per customer, one **instance**: the journey it is on, the
 * highest step reached, when the instance began (its first step) and when
 * it last moved. From these it counts, per journey, in time buckets that
 * roll like every series: instances **entered**, steps **reached**, the
 * time from each step to the next and from entry to the goal (the last
 * step), and why instances ended without the goal.
 *
 * @section jsem Semantics (default, and the ::cxm_journey_options flags)
 * - An instance begins with an interaction on the journey's first step
 *   (step 0). An interaction on a later step with no instance in progress
 *   is not part of any funnel.
 * - **Default order**: with step h the highest reached, a later step s > h
 *   is reached at once, even if steps in between were skipped (they count
 *   as reached: the funnel is monotone); other events, and earlier steps,
 *   may come in between and change nothing. ::CXM_JOURNEY_STRICT: only
 *   s = h + 1 advances; a skip (s > h + 1) or a step back (s < h) breaks
 *   the chain: the instance ends, counted as broken (a step back to step 0
 *   then begins a new instance).
 * - ::CXM_JOURNEY_STRICT_ORDER (ClickHouse windowFunnel's strict_order):
 *   once an instance began, a later step out of turn (s > h + 1) ends it,
 *   and so does any interaction of the customer on a touchpoint that is
 *   no step of the journey (another journey's step, a touchpoint of no
 *   journey) at or after its latest step; steps already reached change
 *   nothing (another journey's step 0 displaces it, as always). With
 *   ::CXM_JOURNEY_ALLOW_REENTRY a step out of turn changes nothing
 *   instead. Past 24.8 days into an instance steps are kept to the
 *   second: an interaction in the latest step's second counts as at it.
 *   While any journey has the flag, a batch chunk holding a customer's
 *   interactions in several shards is applied in batch order.
 * - ::CXM_JOURNEY_STRICT_DEDUP (strict_deduplication): an interaction on
 *   a step already reached other than step 0 ends the instance. Every end
 *   these flags cause is counted as broken. windowFunnel's strict_increase
 *   is ::CXM_JOURNEY_EQUAL_TIMES_HOLD.
 * - **Repeats**: a step already reached counts once per instance (dedup).
 *   ::CXM_JOURNEY_COUNT_REPEATS: every interaction on an already reached
 *   step counts again in that step's reached count (visits, not
 *   customers); progress is unchanged.
 * - **Equal timestamps**: a step with the same time as the latest step (or
 *   an earlier one, within the lateness) advances in arrival order.
 *   ::CXM_JOURNEY_EQUAL_TIMES_HOLD: a step must be strictly later than the
 *   latest step to advance; otherwise it changes nothing.
 * - **Out-of-order arrival**: interactions are applied in arrival order.
 *   One up to cxm_journey_options::lateness_ms older than the customer's
 *   latest journey step is accepted (a step it reaches is timed as reached
 *   at the latest step's time); an older one is rejected with
 *   ::CXM_ERR_TOO_LATE and changes nothing.
 * - **Conversion window**: an instance may progress until
 *   cxm_journey_options::conversion_ms after it began, inclusive (an
 *   interaction at exactly start + window still counts);
 *   ::CXM_JOURNEY_WINDOW_EXCLUSIVE makes the bound exclusive. Past it the
 *   instance has **expired**. With no progress for
 *   cxm_journey_options::abandon_ms it is **abandoned** (whichever comes
 *   first is the cause). Both are noticed when the customer is next seen on
 *   a journey or by cxm_journey_sweep(), and counted at the time they
 *   happened (or, when that bucket is gone, the oldest bucket still kept).
 * - **Re-entry**: after the goal, after expiry, abandonment or a break, an
 *   interaction on step 0 begins a new instance. During an instance, step
 *   0 is a repeat (see above), unless ::CXM_JOURNEY_RESTART: then it ends
 *   the instance (counted as displaced) and begins a new one.
 * - **One instance per customer**: the table's 32-byte entries hold one
 *   instance. A customer who begins another journey's instance while one
 *   is in progress ends that one (counted as displaced in its journey's
 *   funnel). Counting every journey's state separately would need one entry
 *   per customer and journey and break the 48-byte budget.
 * - **Repeat contacts**: an instance that begins within
 *   cxm_journey_options::repeat_ms of the start of the same customer's
 *   previous instance of the same journey is a repeat: the earlier contact
 *   did not resolve the need. The previous instance is known only while it
 *   is the customer's latest (no other journey in between), and while the
 *   customer is tracked. First-contact resolution ≈ 1 − repeats / entered.
 * - **Erasure**: cxm_customer_forget() removes the instance with the
 *   entry; a forgotten customer who comes back is a new customer.
 * - Journeys with more than 255 steps, or ids from 65535 up, are not
 *   tracked (their interactions are fed as usual).
 *
 * @section jcount Where counts land
 * Every count is folded at the time of its event: entered at the first
 * step's time, reached step k when it was reached, times when the later
 * step was reached, abandonment at the deadline. A funnel over a window
 * therefore counts the events inside it: for a window much longer than the
 * conversion window this is the cohort funnel but for the edges, and counts
 * over two disjoint windows, or two contexts fed disjoint customers, add
 * up. Funnels are kept for the whole journey, per segment value and per
 * channel of the instance's first touchpoint; the causes of ends
 * (abandoned, expired, broken, displaced) are kept for the whole journey
 * and per channel only (the table entry holds no segment values).
 *
 * @section jmem Memory
 * A funnel "group" (the whole journey, one channel or one segment value) is
 * allocated on its first event: one counter series and, per step, one time
 * series (1 s … 400 days at 5 % relative error; the distribution is kept
 * from the second tier up, as for durations). These are not counted in
 * cxm_stats::series but are in cxm_stats::memory_bytes.
 * @{ */

/** cxm_journey_options::flags: an out-of-order step breaks the chain. */
#define CXM_JOURNEY_STRICT 0x1u
/** cxm_journey_options::flags: every interaction on a reached step counts again. */
#define CXM_JOURNEY_COUNT_REPEATS 0x2u
/** cxm_journey_options::flags: a step no later than the latest does not advance. */
#define CXM_JOURNEY_EQUAL_TIMES_HOLD 0x4u
/** cxm_journey_options::flags: step 0 during an instance begins a new one. */
#define CXM_JOURNEY_RESTART 0x8u
/** cxm_journey_options::flags: the conversion window's end is excluded. */
#define CXM_JOURNEY_WINDOW_EXCLUSIVE 0x10u
/** cxm_journey_options::flags: during an instance, an interaction of the
 * customer on a later step out of turn, or at or after its latest step on
 * a later step of another journey or on a touchpoint of no journey, ends
 * it as broken (windowFunnel's strict_order). */
#define CXM_JOURNEY_STRICT_ORDER 0x20u
/** cxm_journey_options::flags, with ::CXM_JOURNEY_STRICT_ORDER only: a later
 * step out of turn changes nothing instead (windowFunnel's allow_reentry). */
#define CXM_JOURNEY_ALLOW_REENTRY 0x40u
/** cxm_journey_options::flags: an interaction on a step already reached,
 * other than the first, ends the instance as broken (windowFunnel's
 * strict_deduplication); not with ::CXM_JOURNEY_COUNT_REPEATS. */
#define CXM_JOURNEY_STRICT_DEDUP 0x80u
/** The largest conversion window, abandonment timeout and lateness: 400 days. */
#define CXM_JOURNEY_MAX_WINDOW_MS INT64_C(34560000000)

/**
 * How one journey's progress is judged. Zero in a member means the default
 * given with it, so ::CXM_JOURNEY_OPTIONS_INIT is the default behaviour.
 */
typedef struct cxm_journey_options {
	size_t size;            /**< sizeof(cxm_journey_options) as the caller knows it. */
	uint32_t flags;         /**< CXM_JOURNEY_* bits; 0: the default semantics. */
	uint32_t reserved0;     /**< Must be 0. */
	int64_t conversion_ms;  /**< Conversion window from the first step; 1000 … ::CXM_JOURNEY_MAX_WINDOW_MS; 0: 7 days. */
	int64_t abandon_ms;     /**< No progress for this long: abandoned; 1000 … ::CXM_JOURNEY_MAX_WINDOW_MS; 0: the conversion window (only an instance that never moved past its first step is then abandoned, when the window ends). */
	int64_t lateness_ms;    /**< Accepted lateness behind the customer's latest journey step; 1 … ::CXM_JOURNEY_MAX_WINDOW_MS; 0: the finest tier's reach (buckets × bucket_ms: 2 h with the default tiers), at most ::CXM_JOURNEY_MAX_WINDOW_MS. */
	int64_t repeat_ms;      /**< N days of the repeat-contact rate; 1000 … 400 days; 0: 7 days. */
	uint64_t reserved[4];   /**< Must be 0. */
} cxm_journey_options;

/** Initializer for the default ::cxm_journey_options (C, and C++20). */
#define CXM_JOURNEY_OPTIONS_INIT { .size = sizeof(cxm_journey_options) }

/**
 * Zero @p opts and set its size (the default options).
 *
 * @param opts the struct to fill; the caller's.
 * @param size sizeof(cxm_journey_options) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p opts is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 * Thread-safe; touches only @p opts.
 */
CXM_EXPORT cxm_status cxm_journey_options_init(cxm_journey_options *opts, size_t size);

/**
 * Set how a journey's progress is judged, from now on: interactions fed
 * after the call use the new options (instances in progress keep their
 * state and are judged by the new rules). The options are copied.
 *
 * @param ctx     the context.
 * @param journey the journey.
 * @param opts    the options.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL, @c flags has unknown bits, or flags that cannot go together (::CXM_JOURNEY_ALLOW_REENTRY without ::CXM_JOURNEY_STRICT_ORDER; ::CXM_JOURNEY_STRICT_DEDUP with ::CXM_JOURNEY_COUNT_REPEATS).
 * @retval CXM_ERR_UNKNOWN_ID    no such journey.
 * @retval CXM_ERR_OUT_OF_RANGE  a duration is outside its range.
 * @retval CXM_ERR_LIMIT         the journey is not tracked (more than 255 steps, or id ≥ 65535).
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  see @ref conventions.
 * @retval CXM_ERR_NO_MEMORY     allocating the journey's state failed; nothing changed.
 * Thread-safe: may run while other threads feed and query.
 */
CXM_EXPORT cxm_status cxm_journey_set_options(cxm_context *ctx, cxm_id journey,
					      const cxm_journey_options *opts);

/**
 * The options a journey is judged by, defaults filled in.
 *
 * @param out     the caller's struct with @c size set; written only on success.
 * @param ctx     the context.
 * @param journey the journey.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such journey.
 * @retval CXM_ERR_VERSION     out->size too small.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_journey_get_options(cxm_journey_options *out, const cxm_context *ctx,
					      cxm_id journey);

/**
 * A funnel query: a journey over a window, whole or broken down by one
 * segment value or by the channel of the instances' first touchpoint (one
 * breakdown at a time).
 */
typedef struct cxm_funnel_query {
	size_t size;            /**< sizeof(cxm_funnel_query) as the caller knows it. */
	cxm_id journey;         /**< The journey. */
	cxm_id segment;         /**< A dimension to break down by, or ::CXM_NONE. */
	uint32_t segment_value; /**< The value of @c segment kept. */
	uint32_t channel;       /**< 0, or a ::cxm_channel: instances that began there. */
	int64_t end_ms;         /**< End instant, or ::CXM_NOW, or ::CXM_WATERMARK; windows as in @ref windows. */
	int64_t span_ms;        /**< Window length, > 0. */
	uint64_t reserved[4];   /**< Must be 0. */
} cxm_funnel_query;

/** Initializer: whole journey, ends now, no span (set one). */
#define CXM_FUNNEL_QUERY_INIT { .size = sizeof(cxm_funnel_query), .segment = CXM_NONE, .end_ms = CXM_NOW }

/**
 * Set @p q to ::CXM_FUNNEL_QUERY_INIT.
 *
 * @param q    the struct to fill; the caller's.
 * @param size sizeof(cxm_funnel_query) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p q is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_funnel_query_init(cxm_funnel_query *q, size_t size);

/**
 * A funnel: the journey's counts over the window. Rates are fractions;
 * times are seconds. Times are NaN when there is no sample. Ends by
 * abandonment, expiry, breaks and displacement are not kept per segment
 * value: with a segment breakdown they are 0.
 */
typedef struct cxm_funnel {
	size_t size;          /**< Set by the caller: sizeof(cxm_funnel) as it knows it. */
	uint32_t flags;       /**< CXM_RESULT_* bits (LOW_SAMPLE: fewer entered than cxm_config::min_samples; EMPTY: none entered; CLAMPED: a time outside 1 s … 400 days; TRUNCATED: the window reaches back beyond what the tiers keep, and starts where they do). */
	uint32_t n_steps;     /**< The journey's steps: the entries written to the step array. */
	int64_t start_ms;     /**< The covered interval [start_ms, end_ms) of the counts. */
	int64_t end_ms;       /**< Its end. */
	int64_t quantile_start_ms; /**< The times describe [quantile_start_ms, quantile_end_ms): the window widened to whole buckets of the second tier. */
	int64_t quantile_end_ms;   /**< Its end. */
	uint64_t entered;     /**< Instances begun. */
	uint64_t completed;   /**< Instances that reached the last step (the goal). */
	uint64_t abandoned;   /**< Instances ended by cxm_journey_options::abandon_ms without progress. */
	uint64_t expired;     /**< Instances ended by the conversion window before the goal. */
	uint64_t broken;      /**< Instances ended by an out-of-order step (::CXM_JOURNEY_STRICT, ::CXM_JOURNEY_STRICT_ORDER), an interaction off the journey (::CXM_JOURNEY_STRICT_ORDER) or a step reached again (::CXM_JOURNEY_STRICT_DEDUP). */
	uint64_t displaced;   /**< Instances ended because the customer began another instance. */
	uint64_t repeats;     /**< Instances begun within cxm_journey_options::repeat_ms of the customer's previous one. */
	double conversion;    /**< completed / entered. */
	double repeat_rate;   /**< repeats / entered: the repeat-contact rate. */
	uint64_t goal_n;      /**< Samples of the time to the goal. */
	double goal_p50;      /**< Median time from entry to the goal. */
	double goal_p90;      /**< 90th percentile of it. */
	double goal_mean;     /**< Mean of it (exact). */
	uint64_t reserved[8]; /**< 0. */
} cxm_funnel;

/**
 * One step of a funnel. An array of these is written with the stride of
 * the first element's @c size, which the caller sets.
 */
typedef struct cxm_funnel_step {
	size_t size;          /**< Set by the caller in the first element: sizeof(cxm_funnel_step). */
	uint64_t reached;     /**< Instances that reached this step (with ::CXM_JOURNEY_COUNT_REPEATS: visits). */
	double conversion;    /**< reached / entered. */
	double step_conversion; /**< reached / reached of the step before (for step 0: / entered). */
	double drop_off;      /**< 1 − step_conversion: share of the step before that did not get here. */
	uint64_t next_n;      /**< Samples of the time from this step to the next one reached. */
	double next_p50;      /**< Its median, seconds (NaN: none, and for the last step). */
	double next_p90;      /**< Its 90th percentile. */
	double next_mean;     /**< Its mean (exact). */
	uint64_t reserved[4]; /**< 0. */
} cxm_funnel_step;

/**
 * Run a funnel query.
 *
 * With event-time counting (see @ref jcount), step conversion over a short
 * window can exceed 1 (steps reached in the window by instances begun
 * before it).
 *
 * @param out    the caller's struct with @c size set; written only on success.
 * @param steps  receives one ::cxm_funnel_step per step; steps[0].size set.
 * @param cap    elements in @p steps.
 * @param ctx    the context.
 * @param q      the query.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL, @c channel is not 0 or a
 *                              ::cxm_channel, or both a segment and a channel are given.
 * @retval CXM_ERR_UNKNOWN_ID   no such journey, dimension or value.
 * @retval CXM_ERR_OUT_OF_RANGE span_ms ≤ 0, or end_ms outside [0, ::CXM_TIME_MAX] and not ::CXM_NOW or ::CXM_WATERMARK.
 * @retval CXM_ERR_LIMIT        @p cap is smaller than the journey's steps, or the journey is not tracked.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  a struct size is wrong.
 * Reads only; allocates nothing. Thread-safe: runs while other threads feed.
 */
CXM_EXPORT cxm_status cxm_funnel_run(cxm_funnel *out, cxm_funnel_step *steps, size_t cap,
				     cxm_context *ctx, const cxm_funnel_query *q);

/**
 * Run an entry-cohort funnel: what the instances that **began** in the
 * window did, whenever they did it ("of the leads that entered in
 * January, how many converted within the conversion window").
 *
 * Where cxm_funnel_run() counts every event at its own time, this counts
 * each event in the cohort of its instance's first step, by the hour the
 * instance began: the window (whose end and span are placed as a query's,
 * see @ref windows) is widened to whole UTC hours, which a day, week or
 * month in any zone with whole-hour offsets is made of (pass the edges
 * from cxm_calendar_bucket()). Counts of a cohort grow until its
 * instances end: conversion can only rise; ends by abandonment and expiry
 * are counted once noticed (the customer seen again, or
 * cxm_journey_sweep()). A cohort is final once its last entry is older
 * than the conversion window and a sweep ran after that; until then
 * entered − completed − abandoned − expired − broken − displaced
 * instances are still open.
 *
 * Rates and counts mean what they mean in ::cxm_funnel, with step
 * conversion never above 1 for the default order; the times are the
 * cohort's exact means (next_mean, goal_mean with their _n); their
 * quantiles are not kept per cohort and are NaN. start_ms and end_ms give
 * the cohorts covered (quantile_start_ms and quantile_end_ms the same).
 * Cohorts are kept as long as the coarsest tier reaches behind the
 * watermark: a window reaching further starts there and is flagged
 * ::CXM_RESULT_TRUNCATED. Cohorts are counted from this version's format
 * on: instances carried in from an older snapshot count from their next
 * event, without their entry. With a segment breakdown, an event counts
 * under the segment values of the interaction that caused it, as in
 * cxm_funnel_run().
 *
 * Memory: one row per group (the whole journey, each channel, each
 * segment value) and hour with entries, of 8 × (8 + 3 × steps) bytes, in
 * an array of a power of two of rows (at most twice that); a year of
 * hourly entries of a 5-step journey is 1.5 MiB of rows per group (a
 * 16 384-row array, 2.9 MiB).
 *
 * @param out    the caller's struct with @c size set; written only on success.
 * @param steps  receives one ::cxm_funnel_step per step; steps[0].size set.
 * @param cap    elements in @p steps.
 * @param ctx    the context.
 * @param q      the query: the journey, breakdown and entry window.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL, @c channel is not 0 or a
 *                              ::cxm_channel, or both a segment and a channel are given.
 * @retval CXM_ERR_UNKNOWN_ID   no such journey, dimension or value.
 * @retval CXM_ERR_OUT_OF_RANGE span_ms ≤ 0, or end_ms outside [0, ::CXM_TIME_MAX] and not ::CXM_NOW or ::CXM_WATERMARK.
 * @retval CXM_ERR_LIMIT        @p cap is smaller than the journey's steps, or the journey is not tracked.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED  a struct size is wrong, or a reserved field is set.
 * Reads only; allocates nothing. Thread-safe: runs while other threads feed.
 */
CXM_EXPORT cxm_status cxm_funnel_cohort_run(cxm_funnel *out, cxm_funnel_step *steps, size_t cap,
					    cxm_context *ctx, const cxm_funnel_query *q);

/**
 * Arbitrary quantiles of the time from a step to the next one reached, or
 * from entry to the goal, over a funnel query's window (widened to whole
 * buckets of the second tier), within 5 % relative error for times in
 * 1 s … 400 days.
 *
 * @param out   receives @p n values in seconds (NaN when there is no sample).
 * @param ctx   the context.
 * @param q     the query.
 * @param step  a step of the journey other than the last, or ::CXM_NONE for
 *              the time to the goal.
 * @param qs    @p n quantiles in [0, 1].
 * @param n     1 … 64.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL or @p n is outside 1 … 64.
 * @retval CXM_ERR_UNKNOWN_ID    @p step is not a step of the journey; or as cxm_funnel_run().
 * @retval CXM_ERR_OUT_OF_RANGE  @p step is the last step (it has no next), or a quantile is outside [0, 1].
 * @retval CXM_ERR_NOT_FINITE    a quantile is NaN.
 * @retval otherwise             as cxm_funnel_run().
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_funnel_quantiles(double *out, cxm_context *ctx, const cxm_funnel_query *q,
					   uint32_t step, const double *qs, size_t n);

/**
 * End every instance whose abandonment timeout or conversion window has
 * passed at @p now_ms, and count it. Feeding notices these only when the
 * customer comes back; call this periodically (every bucket of the finest
 * tier, say) so that abandonment is counted for customers who never do.
 * It visits the whole customer table: O(slots, at most 1.25 ×
 * max_customers), one stripe lock at a time. It also judges the
 * ::CXM_SIGNAL_STUCK signals (see @ref signals): each instance that got
 * stuck since the previous sweep.
 *
 * @param closed receives how many instances it ended (may be NULL).
 * @param ctx    the context.
 * @param now_ms the instant, or ::CXM_NOW for the context clock.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       @p ctx is NULL.
 * @retval CXM_ERR_OUT_OF_RANGE  @p now_ms is outside [0, ::CXM_TIME_MAX] and not ::CXM_NOW.
 * @retval CXM_ERR_NO_MEMORY     no memory for the time bucket an ending
 *                               is counted in: the instances ended so far
 *                               stay ended (@p closed), the others open,
 *                               for the next sweep.
 * Thread-safe. Allocates only the funnels' time buckets that the endings
 * it counts fall in (a funnel's memory follows its data).
 */
CXM_EXPORT cxm_status cxm_journey_sweep(uint64_t *closed, cxm_context *ctx, int64_t now_ms);

/**
 * Record that a customer churned (cancelled, closed the account, did not
 * renew) at @p time_ms. A customer counts once until it is seen again: a
 * second churn event before any new interaction is ::CXM_ERR_EXISTS. An
 * untracked customer is added to the table (as by feeding, under
 * cxm_config::customer_policy), marked churned.
 *
 * @param ctx     the context.
 * @param id      the customer id bytes, as fed.
 * @param len     their length, 1 … cxm_config::max_customer_id_len.
 * @param time_ms when, as an interaction's time (same lateness and skew rules).
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID       a pointer is NULL or @p len is 0.
 * @retval CXM_ERR_TOO_LONG      @p len is above the limit.
 * @retval CXM_ERR_OUT_OF_RANGE  @p time_ms outside [0, ::CXM_TIME_MAX].
 * @retval CXM_ERR_TOO_LATE, CXM_ERR_TOO_EARLY  as cxm_feed().
 * @retval CXM_ERR_EXISTS        the customer churned and was not seen since.
 * @retval CXM_ERR_LIMIT         the table is full under policy REFUSE.
 * @retval CXM_ERR_NO_MEMORY     allocating the churn series, its time bucket or the table failed; nothing changed.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_customer_churn(cxm_context *ctx, const void *id, size_t len,
					 int64_t time_ms);

/**
 * A churn rate over a window.
 *
 * rate = churned / active, where churned is the churn events in the
 * window [start_ms, end_ms) and active the distinct customers with an
 * interaction in the @c active_ms before the window's start,
 * [active_start_ms, start_ms), estimated by a DISTINCT metric over every
 * touchpoint (so its error, and its widening to whole hours, apply).
 * Alternatives a caller can compute from the same parts: the mean of the
 * active customers at the start and at the end (run it again ending later),
 * active at the end, or active at the start plus those new in the window
 * (a DISTINCT query over the window).
 */
typedef struct cxm_churn {
	size_t size;          /**< Set by the caller: sizeof(cxm_churn) as it knows it. */
	uint32_t flags;       /**< CXM_RESULT_EMPTY when no customer was active; CXM_RESULT_TRUNCATED when the window reaches back beyond what the tiers keep. */
	uint32_t reserved0;   /**< 0. */
	int64_t start_ms;     /**< The window [start_ms, end_ms) of the churn events. */
	int64_t end_ms;       /**< Its end. */
	int64_t active_start_ms; /**< The denominator's interval [active_start_ms, active_end_ms). */
	int64_t active_end_ms;   /**< Its end (the window's start, widened to whole hours). */
	uint64_t churned;     /**< Churn events in the window. */
	double active;        /**< Customers active before the window (estimate). */
	double rate;          /**< churned / active; NaN when active is 0. */
	uint64_t reserved[6]; /**< 0. */
} cxm_churn;

/**
 * The churn rate of a window; see ::cxm_churn for the definition.
 *
 * @param out       the caller's struct with @c size set; written only on success.
 * @param ctx       the context.
 * @param distinct  a DISTINCT metric, the denominator's count.
 * @param end_ms    the window's end, or ::CXM_NOW, or ::CXM_WATERMARK.
 * @param span_ms   the window's length, > 0.
 * @param active_ms how far before the window's start a customer counts as active, > 0.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID   no such metric.
 * @retval CXM_ERR_KIND         the metric is not DISTINCT.
 * @retval CXM_ERR_OUT_OF_RANGE a span is ≤ 0, or end_ms is out of range.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED, CXM_ERR_NO_MEMORY  as cxm_query_run().
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_churn_rate(cxm_churn *out, cxm_context *ctx, cxm_id distinct,
				     int64_t end_ms, int64_t span_ms, int64_t active_ms);
/** @} */

/** @defgroup triggers Triggers and events
 *
 * A trigger is a rule the library tests against every interaction it
 * accepts: a measure of one metric compared with a threshold (an NPS
 * answer ≤ 6, a CSAT ≤ 2, a handle time ≥ 600 s), limited to a scope
 * (every touchpoint, one touchpoint, a journey's step, a journey, a
 * channel) and optionally to one value of a segment dimension. When an
 * accepted interaction matches, an event (::cxm_event: which rule, the
 * customer's keyed hash, the touchpoint, the time and the value) goes on
 * the context's event queue, and the host takes it off with
 * cxm_events_poll(), from any thread, whenever it likes.
 *
 * The queue is bounded (cxm_config::event_queue) and lock-free: the
 * feeding thread never waits for the host, and the library calls nothing
 * of the host's. When the queue is full, the event is dropped and counted
 * (cxm_stats::events_dropped), and every event carries a sequence number
 * (::cxm_event::seq, consecutive over the events matched) so that the
 * host sees where one is missing. A refused interaction never triggers; an interaction matches
 * each rule at most once (its first matching measure).
 *
 * Cost: with no trigger defined, none; otherwise a few nanoseconds per
 * measure whose metric has rules (see docs/loop.md).
 *
 * A snapshot carries the rules (and whether each is on): a load brings
 * them back with their ids; a merge keeps the target's own. Queued events
 * are not saved.
 * @{ */

/** A comparison of a measure's value with a trigger's threshold. */
typedef enum cxm_cmp {
	CXM_CMP_LT = 0, /**< value < threshold */
	CXM_CMP_LE = 1, /**< value ≤ threshold */
	CXM_CMP_GT = 2, /**< value > threshold */
	CXM_CMP_GE = 3, /**< value ≥ threshold */
	CXM_CMP_EQ = 4, /**< value = threshold */
	CXM_CMP_NE = 5  /**< value ≠ threshold */
} cxm_cmp;

/** A trigger: which measures match, where. */
typedef struct cxm_trigger_def {
	size_t size;        /**< sizeof(cxm_trigger_def) as the caller knows it. */
	cxm_id metric;      /**< The metric whose measures are tested. Not VOLUME or DISTINCT (they have no measures). */
	uint32_t item;      /**< INDEX: the question tested, 0 … questions − 1; otherwise 0. */
	cxm_cmp op;         /**< How the value compares with @c threshold. */
	double threshold;   /**< Finite. For a RATE, 1 is a success, 0 a failure. */
	cxm_scope scope;    /**< Where: every touchpoint, or the one(s) named by @c id / @c step, as in ::cxm_query. */
	cxm_id id;          /**< Touchpoint, journey or channel, per @c scope. */
	cxm_id step;        /**< The step, for ::CXM_SCOPE_STEP. */
	cxm_id segment;     /**< A dimension the interaction must carry @c segment_value in, or ::CXM_NONE. */
	uint32_t segment_value; /**< The value of @c segment required. */
	uint64_t reserved[4]; /**< Must be 0. */
} cxm_trigger_def;

/** Initializer: every touchpoint, no segment filter, value < 0 (set the
 * metric, op and threshold). */
#define CXM_TRIGGER_DEF_INIT { .size = sizeof(cxm_trigger_def), .segment = CXM_NONE }

/**
 * Set @p def to ::CXM_TRIGGER_DEF_INIT.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_trigger_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p def is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_trigger_def_init(cxm_trigger_def *def, size_t size);

/**
 * Define a trigger. It applies to interactions accepted after it returns
 * (feeds running meanwhile on other threads may or may not see it). The
 * first trigger of a context allocates its event queue.
 *
 * @param out  receives the trigger's id (0, 1, … in definition order); written only on success.
 * @param ctx  the context.
 * @param def  the rule; copied.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL, @c op is not a ::cxm_cmp or @c scope not a ::cxm_scope.
 * @retval CXM_ERR_VERSION      @c def->size too small.
 * @retval CXM_ERR_UNSUPPORTED  a reserved field or an unknown tail byte is set.
 * @retval CXM_ERR_UNKNOWN_ID   the metric, touchpoint, journey, step, channel, segment or segment value does not exist.
 * @retval CXM_ERR_KIND         the metric is VOLUME or DISTINCT.
 * @retval CXM_ERR_OUT_OF_RANGE @c item is not a question of the metric (or not 0 for a metric that is not an INDEX).
 * @retval CXM_ERR_NOT_FINITE   @c threshold is NaN or infinite.
 * @retval CXM_ERR_LIMIT        cxm_config::max_triggers are defined.
 * @retval CXM_ERR_NO_MEMORY    the rule table or the queue could not be allocated (nothing defined).
 * Thread-safe: definitions are serialised with each other and with the
 * model's.
 */
CXM_EXPORT cxm_status cxm_trigger_define(cxm_id *out, cxm_context *ctx, const cxm_trigger_def *def);

/**
 * Switch a trigger off (@p on 0) or on again (@p on not 0). A trigger is on when
 * defined. Feeds running meanwhile on other threads may or may not see
 * the change.
 *
 * @param ctx      the context.
 * @param trigger  the trigger's id.
 * @param on       0: off; otherwise on.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p ctx is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such trigger.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_trigger_enable(cxm_context *ctx, cxm_id trigger, int on);

/**
 * Read a trigger's definition back.
 *
 * @param out      the caller's struct with @c size set; written only on success.
 * @param enabled  receives 1 when it is on, 0 when off; may be NULL.
 * @param ctx      the context.
 * @param trigger  the trigger's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p out or @p ctx is NULL.
 * @retval CXM_ERR_VERSION     @c out->size too small.
 * @retval CXM_ERR_UNKNOWN_ID  no such trigger.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_trigger_get(cxm_trigger_def *out, int *enabled, const cxm_context *ctx,
				      cxm_id trigger);

/** What produced a ::cxm_event. */
typedef enum cxm_event_kind {
	CXM_EVENT_TRIGGER = 1,        /**< A trigger matched an accepted interaction. */
	CXM_EVENT_ALERT_FIRING = 2,   /**< An alert started firing (see @ref alerts): @c rule is the alert, @c time_ms the evaluation's instant, @c value what it saw, @c metric its metric; @c touchpoint ::CXM_NONE, @c customer {0, 0}. */
	CXM_EVENT_ALERT_RESOLVED = 3, /**< A firing alert resolved; fields as for ::CXM_EVENT_ALERT_FIRING. */
	CXM_EVENT_SIGNAL = 4          /**< An in-journey signal (see @ref signals): @c rule is the signal, @c customer the customer, @c item the step it is about, @c value and the other fields as ::cxm_signal_kind says. */
} cxm_event_kind;

/**
 * One event. An array of these is written with the stride of the first
 * element's @c size, which the caller sets.
 */
typedef struct cxm_event {
	size_t size;          /**< Set by the caller in the first element: sizeof(cxm_event). */
	cxm_event_kind kind;  /**< What produced it. */
	cxm_id rule;          /**< The trigger's id (::CXM_EVENT_TRIGGER), the alert's (ALERT_*) or the signal's (::CXM_EVENT_SIGNAL). */
	uint64_t seq;         /**< 0, 1, 2, … over the events the context produced (triggers, alerts, signals), queued or dropped: a number missing is an event dropped (with several feeding threads, numbers may come slightly out of order). */
	uint64_t customer[2]; /**< The customer id's keyed hash (see cxm_customer_hash()); {0, 0} when the interaction had no id. */
	int64_t time_ms;      /**< The interaction's event time. */
	cxm_id touchpoint;    /**< Its touchpoint. */
	cxm_id metric;        /**< The metric of the measure that matched. */
	uint32_t item;        /**< Its question (INDEX), else 0. */
	uint32_t reserved0;   /**< 0. */
	double value;         /**< Its value. */
	uint64_t reserved[4]; /**< 0. */
} cxm_event;

/**
 * Take up to @p cap events off the context's queue, oldest first.
 *
 * Several threads may poll at once: each event goes to exactly one of
 * them. Events are written in @p out with the stride of @c out[0].size;
 * the library's fields beyond the caller's size are not written.
 *
 * @param out    the caller's array of @p cap events, @c out[0].size set; may be NULL when @p cap is 0.
 * @param cap    how many it holds.
 * @param n_out  receives how many were taken (0: the queue is empty, or the context has no trigger).
 * @param ctx    the context.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p n_out or @p ctx is NULL, or @p out is NULL with @p cap above 0.
 * @retval CXM_ERR_VERSION  @c out[0].size too small.
 * Thread-safe and lock-free.
 */
CXM_EXPORT cxm_status cxm_events_poll(cxm_event *out, size_t cap, size_t *n_out, cxm_context *ctx);

/**
 * The keyed hash under which the context keeps a customer id (SipHash-2-4
 * with cxm_config::customer_key, 128 bits): what ::cxm_event::customer
 * carries, so the host can tell which of its customers an event is about
 * without the library storing ids.
 *
 * @param out  receives the two words; written only on success.
 * @param ctx  the context.
 * @param id   the customer id bytes, as fed.
 * @param len  their length, 1 … cxm_config::max_customer_id_len.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID   a pointer is NULL or @p len is 0.
 * @retval CXM_ERR_TOO_LONG  @p len is above the limit.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_customer_hash(uint64_t out[2], const cxm_context *ctx, const void *id,
					size_t len);
/** @} */

/** @defgroup governor Survey governor
 *
 * Whether to invite a customer to a survey now, against survey fatigue:
 * the host asks cxm_survey_should_ask() at a business moment (a call
 * ended, a step reached) and records what it did with
 * cxm_survey_record(). The answer applies, in this order, and the first
 * rule that says no is the reason given (::cxm_ask):
 *
 * 1. eligibility: the moment's touchpoint is in the survey's scope;
 * 2. sampling: a share cxm_survey_def::sample_rate of customers is asked,
 *    decided from the customer's keyed hash and the survey's name, so
 *    every context with the same cxm_config::customer_key and survey name
 *    decides alike for a customer, on every node;
 * 3. the survey's own cool-downs: since the customer last answered it,
 *    since it last invited them;
 * 4. the survey's cap: at most N invitations within a rolling window;
 * 5. the same three across every survey (cxm_governor_set()).
 *
 * Times are kept to the second, as the customer table keeps them: each
 * time is taken down to its second and each interval up to whole seconds,
 * and a customer may be invited again when the seconds between are at
 * least the interval (a cool-down of 1 h allows 11:00:00 after 10:00:00).
 * A cap counts the invitations whose second lies in the window's last
 * `invites_window_ms` (rounded up to seconds), the present one included.
 *
 * Memory: only customers with a recorded invitation or response are kept,
 * each in a 32-byte entry that holds two records (a table at most 7/8
 * full, grown by half: 48 bytes a customer at 10^6 customers), with an
 * array of 8 bytes a record beside it for a customer with more; records
 * older than every rule's reach are dropped whenever the customer is
 * recorded again. Up to cxm_config::max_customers customers
 * are kept; past that a record is refused with ::CXM_ERR_LIMIT.
 * cxm_customer_forget() erases a customer's governor state too.
 *
 * Snapshots carry the surveys, the rules across surveys and the history:
 * a load brings them back. A merge keeps the target's surveys and rules
 * and adds the source's history of the surveys the target has (matched by
 * name), each record once, so that the latest invitation and response
 * win; while it runs, answers and records wait for it.
 * @{ */

/** The most surveys a context may define. */
#define CXM_MAX_SURVEYS 256
/** The most invitations a cap may allow within its window. */
#define CXM_SURVEY_MAX_CAP 32

/** A survey: when it may be asked, and how often. */
typedef struct cxm_survey_def {
	size_t size;                  /**< sizeof(cxm_survey_def) as the caller knows it. */
	int64_t min_since_invite_ms;  /**< Not again sooner than this after this survey last invited the customer; 0: no such rule. */
	int64_t min_since_response_ms; /**< Not again sooner than this after the customer last answered this survey; 0: no such rule. */
	uint32_t max_invites;         /**< At most this many invitations of this survey within @c invites_window_ms, 1 … ::CXM_SURVEY_MAX_CAP; 0: no cap. */
	uint32_t reserved0;           /**< Must be 0. */
	int64_t invites_window_ms;    /**< The cap's rolling window, > 0 when @c max_invites is set, else 0. */
	double sample_rate;           /**< Share of customers asked, in (0, 1]; 0: 1 (everyone). */
	cxm_scope scope;              /**< The moments it may be asked at, by touchpoint, as in ::cxm_query (::CXM_SCOPE_ALL: any). */
	cxm_id id;                    /**< Touchpoint, journey or channel, per @c scope. */
	cxm_id step;                  /**< The step, for ::CXM_SCOPE_STEP. */
	uint64_t reserved[4];         /**< Must be 0. */
} cxm_survey_def;

/** Initializer: every moment, everyone, no cool-down, no cap. */
#define CXM_SURVEY_DEF_INIT { .size = sizeof(cxm_survey_def) }

/**
 * Set @p def to ::CXM_SURVEY_DEF_INIT.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_survey_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p def is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_survey_def_init(cxm_survey_def *def, size_t size);

/**
 * Define a survey.
 *
 * @param out  receives its id (0, 1, … in definition order); written only on success.
 * @param ctx  the context.
 * @param name its name (non-empty clean UTF-8, at most cxm_config::max_name_len bytes); the sampling draws from it.
 * @param def  its rules; copied.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL, or @c scope is not a ::cxm_scope.
 * @retval CXM_ERR_ENCODING     the name is empty, not valid UTF-8, or holds control characters.
 * @retval CXM_ERR_VERSION      @c def->size too small.
 * @retval CXM_ERR_UNSUPPORTED  a reserved field or an unknown tail byte is set.
 * @retval CXM_ERR_TOO_LONG     the name is too long.
 * @retval CXM_ERR_EXISTS       a survey of that name exists.
 * @retval CXM_ERR_UNKNOWN_ID   the scope's touchpoint, journey, step or channel does not exist.
 * @retval CXM_ERR_OUT_OF_RANGE an interval or the window is negative or above ::CXM_TIME_MAX, @c max_invites above ::CXM_SURVEY_MAX_CAP or set without a window (or a window without it), or @c sample_rate outside [0, 1].
 * @retval CXM_ERR_NOT_FINITE   @c sample_rate is NaN.
 * @retval CXM_ERR_LIMIT        ::CXM_MAX_SURVEYS are defined.
 * @retval CXM_ERR_NO_MEMORY    nothing defined.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_survey_define(cxm_id *out, cxm_context *ctx, const char *name,
					const cxm_survey_def *def);

/**
 * A survey's id from its name.
 *
 * @param out  receives the id; written only on success.
 * @param ctx  the context.
 * @param name the name given to cxm_survey_define().
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no survey has that name.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_survey_find(cxm_id *out, const cxm_context *ctx, const char *name);

/**
 * A survey's name.
 *
 * @param out    receives the name, owned by the context and valid as long as it.
 * @param ctx    the context.
 * @param survey the survey's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such survey.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_survey_name(const char **out, const cxm_context *ctx, cxm_id survey);

/** Rules across every survey of a context. */
typedef struct cxm_governor_rules {
	size_t size;                  /**< sizeof(cxm_governor_rules) as the caller knows it. */
	int64_t min_since_invite_ms;  /**< Not sooner than this after any survey invited the customer; 0: no such rule. */
	int64_t min_since_response_ms; /**< Not sooner than this after the customer answered any survey; 0: no such rule. */
	uint32_t max_invites;         /**< At most this many invitations of all surveys within @c invites_window_ms, 1 … ::CXM_SURVEY_MAX_CAP; 0: no cap. */
	uint32_t reserved0;           /**< Must be 0. */
	int64_t invites_window_ms;    /**< The cap's window, > 0 when @c max_invites is set, else 0. */
	uint64_t reserved[4];         /**< Must be 0. */
} cxm_governor_rules;

/** Initializer: no rule across surveys (the default of a context). */
#define CXM_GOVERNOR_RULES_INIT { .size = sizeof(cxm_governor_rules) }

/**
 * Set @p rules to ::CXM_GOVERNOR_RULES_INIT.
 *
 * @param rules the struct to fill; the caller's.
 * @param size  sizeof(cxm_governor_rules) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p rules is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_governor_rules_init(cxm_governor_rules *rules, size_t size);

/**
 * Set the rules across surveys (replacing the previous ones). Answers
 * after it returns apply them, to the history recorded before too (as far
 * as it is kept: history older than the rules then in force reached may
 * have been dropped).
 *
 * @param ctx   the context.
 * @param rules the rules; copied.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL.
 * @retval CXM_ERR_VERSION      @c rules->size too small.
 * @retval CXM_ERR_UNSUPPORTED  a reserved field or an unknown tail byte is set.
 * @retval CXM_ERR_OUT_OF_RANGE as for cxm_survey_define().
 * @retval CXM_ERR_NO_MEMORY    nothing changed.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_governor_set(cxm_context *ctx, const cxm_governor_rules *rules);

/** The governor's answer: ask, or why not. */
typedef enum cxm_ask {
	CXM_ASK = 0,                    /**< Invite now. */
	CXM_SKIP_NOT_ELIGIBLE = 1,      /**< The touchpoint is outside the survey's scope. */
	CXM_SKIP_SAMPLED_OUT = 2,       /**< The customer is not in the survey's sample. */
	CXM_SKIP_SURVEY_RESPONDED = 3,  /**< They answered this survey too recently. */
	CXM_SKIP_SURVEY_INVITED = 4,    /**< This survey invited them too recently. */
	CXM_SKIP_SURVEY_CAP = 5,        /**< This survey's cap is reached. */
	CXM_SKIP_RESPONDED = 6,         /**< They answered some survey too recently. */
	CXM_SKIP_INVITED = 7,           /**< Some survey invited them too recently. */
	CXM_SKIP_CAP = 8                /**< The cap across surveys is reached. */
} cxm_ask;

/**
 * Whether to invite a customer to a survey at a moment. Changes nothing:
 * record the invitation with cxm_survey_record() if the host sends it.
 *
 * @param out      receives the answer; written only on success.
 * @param until_ms receives, for a skip by a cool-down or a cap, the first instant (ms) at which that rule stops saying no (another may then); −1 for an ask, and for a skip that time does not end (not eligible, sampled out). May be NULL.
 * @param ctx      the context.
 * @param survey   the survey's id.
 * @param id       the customer id bytes, as fed.
 * @param len      their length, 1 … cxm_config::max_customer_id_len.
 * @param touchpoint the moment's touchpoint.
 * @param time_ms  the moment, in [0, ::CXM_TIME_MAX].
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL or @p len is 0.
 * @retval CXM_ERR_TOO_LONG     @p len is above the limit.
 * @retval CXM_ERR_UNKNOWN_ID   no such survey or touchpoint.
 * @retval CXM_ERR_OUT_OF_RANGE @p time_ms is outside 0 … ::CXM_TIME_MAX.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_survey_should_ask(cxm_ask *out, int64_t *until_ms, cxm_context *ctx,
					    cxm_id survey, const void *id, size_t len,
					    cxm_id touchpoint, int64_t time_ms);

/** What cxm_survey_record() records. */
typedef enum cxm_survey_event {
	CXM_SURVEY_INVITED = 1,   /**< The customer was invited. */
	CXM_SURVEY_RESPONDED = 2  /**< The customer answered. */
} cxm_survey_event;

/**
 * Record that a survey invited a customer, or that they answered it.
 *
 * @param ctx     the context.
 * @param survey  the survey's id.
 * @param id      the customer id bytes, as fed.
 * @param len     their length, 1 … cxm_config::max_customer_id_len.
 * @param what    a ::cxm_survey_event.
 * @param time_ms when, in [0, ::CXM_TIME_MAX].
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL, @p len is 0, or @p what is not a ::cxm_survey_event.
 * @retval CXM_ERR_TOO_LONG     @p len is above the limit.
 * @retval CXM_ERR_UNKNOWN_ID   no such survey.
 * @retval CXM_ERR_OUT_OF_RANGE @p time_ms is outside 0 … ::CXM_TIME_MAX.
 * @retval CXM_ERR_LIMIT        cxm_config::max_customers customers are kept already (nothing recorded).
 * @retval CXM_ERR_NO_MEMORY    nothing recorded.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_survey_record(cxm_context *ctx, cxm_id survey, const void *id, size_t len,
					cxm_survey_event what, int64_t time_ms);
/** @} */

/** @defgroup alerts Metric alerts
 *
 * An alert watches one query over a rolling window, evaluated when the
 * host calls cxm_alerts_evaluate() (from its own timer: the library starts
 * no thread). A LEVEL alert compares the window's headline value with a
 * threshold (NPS below 0 over the last hour); a CHANGE alert compares the
 * window with a baseline window of the same span an offset earlier (the
 * previous period, the same hour last week) and fires on a difference
 * beyond a threshold that is also significant (cxm_query_compare()'s
 * p-value below a level). Each alert is OK, PENDING (its condition holds,
 * not yet for cxm_alert_def::for_ms) or FIRING; a firing alert resolves
 * only when the value is back past a separate clear level (hysteresis),
 * and does not fire again within a cool-down after resolving. Too few
 * samples (cxm_alert_def::min_samples) leave the state as it was.
 * Starting to fire and resolving put an event on the context's event queue
 * (see @ref triggers; ::CXM_EVENT_ALERT_FIRING, ::CXM_EVENT_ALERT_RESOLVED),
 * and the exposition has `cxm_alert_firing{alert="name"}`.
 *
 * A snapshot carries the alerts and their states: a load brings them back
 * (an alert firing when saved still fires, and resolves by the next
 * evaluations); a merge keeps the target's.
 * @{ */

/** What an alert compares. */
typedef enum cxm_alert_kind {
	CXM_ALERT_LEVEL = 0, /**< The window's headline value. */
	CXM_ALERT_CHANGE = 1, /**< The window's headline value minus the baseline window's. */
	CXM_ALERT_FORECAST = 2 /**< The window's headline value minus its forecast: Holt's, from the windows of the same span before it (cxm_query_trend()); "below forecast". */
} cxm_alert_kind;

/** An alert. */
typedef struct cxm_alert_def {
	size_t size;             /**< sizeof(cxm_alert_def) as the caller knows it. */
	cxm_query query;         /**< Metric, scope, segment filter and @c span_ms; @c end_ms must be ::CXM_NOW (each evaluation's instant is the end). Not a SUM/COUNT headline for CHANGE with a p-value. */
	cxm_alert_kind kind;     /**< LEVEL, CHANGE or FORECAST. */
	cxm_cmp op;              /**< ::CXM_CMP_LT, LE, GT or GE: fires when the value (or change) compares so with @c fire. */
	double fire;             /**< The firing level. */
	double clear;            /**< A firing alert resolves when the value no longer compares with this as with @c fire: at or beyond @c fire on the side away from it (≤ fire for GT/GE, ≥ fire for LT/LE). */
	int64_t baseline_offset_ms; /**< CHANGE: the baseline window ends this much before the window, > 0 (= span_ms: the previous period); FORECAST: the history the forecast is fitted to, ending where the window starts: 3 … ::CXM_TREND_MAX_WINDOWS windows of @c span_ms (a multiple of the finest bucket); LEVEL: 0. */
	double max_p_value;      /**< CHANGE, FORECAST: also requires the change's (or the distance from the forecast's) p-value below this, in (0, 1]; 0: no test. A FORECAST's p-value is two-sided normal, of the distance over Holt's one-step error σ. A p-value that cannot be computed (no variance on either side; σ = 0) is not significant. LEVEL: 0. */
	uint64_t min_samples;    /**< Fewer samples in the window (or the baseline) leave the state as it is; 0: 1. */
	int64_t for_ms;          /**< How long the condition must hold before firing (PENDING meanwhile), ≥ 0. */
	int64_t cooldown_ms;     /**< After resolving, no firing again within this, ≥ 0. */
	uint64_t reserved[4];    /**< Must be 0. */
} cxm_alert_def;

/** Initializer: a LEVEL alert (set the query, op, fire and clear). */
#define CXM_ALERT_DEF_INIT { .size = sizeof(cxm_alert_def), .query = CXM_QUERY_INIT }

/**
 * Set @p def to ::CXM_ALERT_DEF_INIT.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_alert_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p def is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 */
CXM_EXPORT cxm_status cxm_alert_def_init(cxm_alert_def *def, size_t size);

/**
 * Define an alert. It is OK until evaluated.
 *
 * @param out  receives its id (0, 1, …); written only on success.
 * @param ctx  the context.
 * @param name its name (the exposition's `alert` label), unique among alerts.
 * @param def  the alert; copied.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL, or @c kind, @c op or the query's scope is not one of its enum.
 * @retval CXM_ERR_ENCODING     the name is empty or not clean UTF-8.
 * @retval CXM_ERR_TOO_LONG     the name is too long.
 * @retval CXM_ERR_EXISTS       an alert of that name exists.
 * @retval CXM_ERR_VERSION, CXM_ERR_UNSUPPORTED, CXM_ERR_UNKNOWN_ID  as cxm_query_run() for the query, or for @c def itself.
 * @retval CXM_ERR_NOT_FINITE   @c fire or @c clear is not finite.
 * @retval CXM_ERR_OUT_OF_RANGE the query's span or end, @c clear on the firing side of @c fire, a negative duration, an offset or p-value that does not fit the kind.
 * @retval CXM_ERR_KIND         a CHANGE with a p-value on a metric cxm_query_compare() cannot test.
 * @retval CXM_ERR_LIMIT        1024 alerts are defined.
 * @retval CXM_ERR_NO_MEMORY    nothing defined.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_alert_define(cxm_id *out, cxm_context *ctx, const char *name,
				       const cxm_alert_def *def);

/**
 * Evaluate every alert at @p now_ms: run its queries, move its state, and
 * queue an event for each alert that starts firing or resolves.
 *
 * @param changed receives how many alerts changed state; may be NULL.
 * @param ctx     the context.
 * @param now_ms  the instant, or ::CXM_NOW for the context's clock.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      @p ctx is NULL.
 * @retval CXM_ERR_OUT_OF_RANGE @p now_ms is outside 0 … ::CXM_TIME_MAX.
 * @retval CXM_ERR_NO_MEMORY    a query found no memory: the alerts before it were evaluated, the others keep their state.
 * Thread-safe: evaluations are serialised with each other; feeds go on.
 */
CXM_EXPORT cxm_status cxm_alerts_evaluate(size_t *changed, cxm_context *ctx, int64_t now_ms);

/** An alert's state. */
typedef enum cxm_alert_state {
	CXM_ALERT_OK = 0,      /**< Not firing (never evaluated, its condition false, or resolved). */
	CXM_ALERT_PENDING = 1, /**< Its condition holds, not yet for cxm_alert_def::for_ms. */
	CXM_ALERT_FIRING = 2   /**< Firing. */
} cxm_alert_state;

/** cxm_alert_status::flags: the last evaluation had too few samples and left the state as it was. */
#define CXM_ALERT_INSUFFICIENT 0x1u

/** What an alert is doing. */
typedef struct cxm_alert_status {
	size_t size;           /**< Set by the caller: sizeof(cxm_alert_status). */
	cxm_alert_state state; /**< Its state. */
	uint32_t flags;        /**< CXM_ALERT_* bits. */
	int64_t since_ms;      /**< When it entered this state (−1: never evaluated). */
	int64_t evaluated_ms;  /**< The last evaluation's instant (−1: none). */
	int64_t resolved_ms;   /**< When it last resolved (−1: never). */
	double value;          /**< What the last evaluation saw: the value (LEVEL), the change (CHANGE) or the value minus its forecast (FORECAST); NaN when undefined. */
	double baseline;       /**< CHANGE: the baseline's value; FORECAST: the forecast; NaN otherwise. */
	double p_value;        /**< CHANGE, FORECAST: the p-value; NaN otherwise or when undefined. */
	uint64_t n;            /**< The window's sample size at the last evaluation. */
	uint64_t fired;        /**< Times it started firing. */
	uint64_t reserved[4];  /**< 0. */
} cxm_alert_status;

/**
 * Read an alert's state.
 *
 * @param out   the caller's struct with @c size set; written only on success.
 * @param ctx   the context.
 * @param alert the alert's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     a pointer is NULL.
 * @retval CXM_ERR_VERSION     @c out->size too small.
 * @retval CXM_ERR_UNKNOWN_ID  no such alert.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_alert_status_get(cxm_alert_status *out, cxm_context *ctx, cxm_id alert);
/** @} */

/** @defgroup signals In-journey signals
 *
 * A signal is a rule about one customer's progress on a journey (see
 * @ref journeys), judged from the per-customer state the library keeps
 * anyway: a customer stuck at a step, contacting the same step again and
 * again, going back, or failing at a step. When it holds, an event of
 * kind ::CXM_EVENT_SIGNAL goes on the event queue of @ref triggers (same
 * queue, same drop counting, same cxm_events_poll()).
 *
 * Each signal fires at most **once per customer and journey instance**:
 * a customer who keeps struggling is one event, not a stream. The host
 * re-arms it for one customer with cxm_signal_rearm() (after it has
 * acted, say): then it fires again on the next evidence that it holds.
 * A new instance (see @ref journeys) starts every signal afresh.
 *
 * Kinds (::cxm_signal_kind), with their boundaries:
 * - ::CXM_SIGNAL_STUCK: the instance is open at step @c step (::CXM_NONE:
 *   any step but the goal) and has not progressed for cxm_signal_def::window_ms.
 *   Time passing is noticed by cxm_journey_sweep(): a sweep at @c now
 *   signals every instance whose last progress + window_ms is at or
 *   before @c now, after the previous sweep's @c now (the first sweep
 *   after the definition: at any time before), and no later than the
 *   instant the instance is abandoned or expires: each time an instance
 *   gets stuck is seen by exactly one sweep, whatever the interval (and
 *   signalled if the signal has not fired for the instance). A customer
 *   who comes back before a sweep saw the instant pass is not signalled.
 * - ::CXM_SIGNAL_REPEAT: cxm_signal_def::count contacts (2 … 8) on the
 *   step the instance is at, @c step (::CXM_NONE: any), within
 *   cxm_signal_def::window_ms (inclusive: the first and the latest may be
 *   exactly window_ms apart). The contact that reached the step is the
 *   first; contacts on earlier steps are not repeats (see BACKWARDS).
 * - ::CXM_SIGNAL_BACKWARDS: a contact on a step below the highest the open
 *   instance has reached; @c step (::CXM_NONE: any) is the highest step
 *   the customer had reached (where it went back from). With
 *   ::CXM_JOURNEY_STRICT the step back also breaks the instance; the
 *   signal still fires.
 * - ::CXM_SIGNAL_FAILURE: cxm_signal_def::count (1 … 8) interactions of
 *   the instance on step @c step (::CXM_NONE: any step of the journey)
 *   whose measure of @c metric compares with @c threshold by @c op (a
 *   RATE measure 0, a failed payment, with ::CXM_CMP_EQ and 0) within
 *   window_ms (inclusive). The latest eight failures of an instance are
 *   remembered.
 *
 * Contacts are the customer's accepted interactions on the journey's
 * steps, applied in arrival order as the journey's progress is (see
 * @ref journeys; an interaction the journey refuses raises nothing).
 *
 * Memory: the rules, 64 at most per context; per customer, nothing until
 * a repeat contact, a failure or a fired signal needs remembering, then
 * 112 bytes until the instance ends (or the customer is forgotten,
 * evicted or sweeps close the instance). When that memory cannot be had
 * the interaction is accepted all the same and counted in
 * cxm_stats::signals_unjudged.
 *
 * A snapshot carries the signals (definitions, on/off, the last sweep's
 * instant) and each customer's signal state; a merge keeps the target's
 * own signals and, for a customer both know, the state of the instance the
 * merged customer table keeps.
 * @{ */

/** What a ::cxm_signal_def watches for. In the ::CXM_EVENT_SIGNAL event:
 * @c item is the step, @c time_ms the interaction's time (STUCK: the
 * instant the window ran out), @c touchpoint the interaction's (STUCK:
 * ::CXM_NONE), @c metric the FAILURE rule's metric (else ::CXM_NONE), and
 * @c value as each kind says. */
typedef enum cxm_signal_kind {
	CXM_SIGNAL_STUCK = 1,     /**< No progress for window_ms: @c value is the seconds without progress at the sweep. */
	CXM_SIGNAL_REPEAT = 2,    /**< count contacts on the same step within window_ms: @c value is how many. */
	CXM_SIGNAL_BACKWARDS = 3, /**< A contact on an earlier step: @c item the highest step reached, @c value the step gone back to. */
	CXM_SIGNAL_FAILURE = 4    /**< count failures within window_ms: @c value is how many. */
} cxm_signal_kind;

/** The most signals a context holds. */
#define CXM_MAX_SIGNALS 64u
/** The largest cxm_signal_def::count. */
#define CXM_SIGNAL_MAX_COUNT 8u

/** A signal: what to watch for, on which journey and step. */
typedef struct cxm_signal_def {
	size_t size;          /**< sizeof(cxm_signal_def) as the caller knows it. */
	cxm_signal_kind kind; /**< What to watch for. */
	cxm_id journey;       /**< The journey. */
	cxm_id step;          /**< Its step, or ::CXM_NONE: any (see ::cxm_signal_kind for which step). */
	uint32_t count;       /**< REPEAT: 2 … 8; FAILURE: 1 … 8; otherwise 0. */
	int64_t window_ms;    /**< STUCK, REPEAT, FAILURE: 1 … ::CXM_JOURNEY_MAX_WINDOW_MS; BACKWARDS: 0. */
	cxm_id metric;        /**< FAILURE: the metric tested (not VOLUME or DISTINCT); otherwise ::CXM_NONE. */
	uint32_t item;        /**< FAILURE: the question (INDEX), else 0. */
	cxm_cmp op;           /**< FAILURE: how a failing value compares with @c threshold. */
	double threshold;     /**< FAILURE: finite. */
	uint64_t reserved[4]; /**< Must be 0. */
} cxm_signal_def;

/** Initializer: any step, no metric (set kind, journey and what the kind needs). */
#define CXM_SIGNAL_DEF_INIT { .size = sizeof(cxm_signal_def), .step = CXM_NONE, .metric = CXM_NONE }

/**
 * Set @p def to ::CXM_SIGNAL_DEF_INIT.
 *
 * @param def  the struct to fill; the caller's.
 * @param size sizeof(cxm_signal_def) as the caller knows it.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID  @p def is NULL.
 * @retval CXM_ERR_VERSION  @p size too small.
 * Thread-safe; touches only @p def.
 */
CXM_EXPORT cxm_status cxm_signal_def_init(cxm_signal_def *def, size_t size);

/**
 * Define a signal. It applies to interactions accepted, and sweeps made,
 * after it returns (feeds running meanwhile on other threads may or may
 * not see it). The first signal allocates the signals' tables and, if
 * need be, the event queue.
 *
 * @param out  receives the signal's id (0, 1, … in definition order); written only on success.
 * @param ctx  the context.
 * @param def  the signal; copied.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID      a pointer is NULL; @c kind is not a ::cxm_signal_kind or @c op not a ::cxm_cmp; @c metric is set for a kind other than FAILURE.
 * @retval CXM_ERR_VERSION      @c def->size too small.
 * @retval CXM_ERR_UNSUPPORTED  a reserved field or an unknown tail byte is set.
 * @retval CXM_ERR_UNKNOWN_ID   the journey, step or metric does not exist.
 * @retval CXM_ERR_KIND         the metric is VOLUME or DISTINCT.
 * @retval CXM_ERR_OUT_OF_RANGE @c count or @c window_ms is outside its range for the kind; @c item is not a question of the metric; STUCK at the goal step (an instance that reaches it ends).
 * @retval CXM_ERR_NOT_FINITE   @c threshold is NaN or infinite.
 * @retval CXM_ERR_LIMIT        ::CXM_MAX_SIGNALS are defined, or the journey is not tracked (more than 255 steps, or id ≥ 65535).
 * @retval CXM_ERR_NO_MEMORY    the tables or the queue could not be allocated (nothing defined).
 * Thread-safe: definitions are serialised with each other and with the model's.
 */
CXM_EXPORT cxm_status cxm_signal_define(cxm_id *out, cxm_context *ctx, const cxm_signal_def *def);

/**
 * Switch a signal off (@p on 0) or on again. A signal is on when defined.
 * Feeds running meanwhile on other threads may or may not see the change.
 *
 * @param ctx     the context.
 * @param signal  the signal's id.
 * @param on      0: off; otherwise on.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p ctx is NULL.
 * @retval CXM_ERR_UNKNOWN_ID  no such signal.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_signal_enable(cxm_context *ctx, cxm_id signal, int on);

/**
 * Read a signal's definition back.
 *
 * @param out      the caller's struct with @c size set; written only on success.
 * @param enabled  receives 1 when it is on, 0 when off; may be NULL.
 * @param ctx      the context.
 * @param signal   the signal's id.
 * @retval CXM_OK
 * @retval CXM_ERR_INVALID     @p out or @p ctx is NULL.
 * @retval CXM_ERR_VERSION     @c out->size too small.
 * @retval CXM_ERR_UNKNOWN_ID  no such signal.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_signal_get(cxm_signal_def *out, int *enabled, const cxm_context *ctx,
				     cxm_id signal);

/**
 * Re-arm a signal for one customer: if it fired during the customer's
 * current instance, it may fire again, on the next evidence (the next
 * contact that makes a REPEAT, BACKWARDS or FAILURE signal hold; a STUCK
 * signal at the next step the customer gets stuck at).
 *
 * @param ctx     the context.
 * @param signal  the signal's id.
 * @param id      the customer id bytes, as fed.
 * @param len     their length, 1 … cxm_config::max_customer_id_len.
 * @retval CXM_OK             re-armed, or it had not fired for the customer.
 * @retval CXM_ERR_INVALID    @p ctx or @p id is NULL, or @p len is 0.
 * @retval CXM_ERR_TOO_LONG   @p len is above the limit.
 * @retval CXM_ERR_UNKNOWN_ID no such signal.
 * Thread-safe.
 */
CXM_EXPORT cxm_status cxm_signal_rearm(cxm_context *ctx, cxm_id signal, const void *id, size_t len);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* CXM_H */
