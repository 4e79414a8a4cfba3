/* Context lifecycle, configuration, allocator hooks, error state, stats. */
#include "cxm_internal.h"
#include "series_index.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void *default_alloc(void *opaque, size_t size)
{
	(void)opaque;
	return malloc(size);
}

static void default_free(void *opaque, void *p)
{
	(void)opaque;
	free(p);
}

/* ---- clock ---------------------------------------------------------------- */

static int64_t realtime_ms(void *opaque)
{
	struct timespec ts;
	(void)opaque;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

cxm_status cxm_config_init(cxm_config *cfg, size_t size)
{
	return cxm__init_struct(cfg, size, CXM_MIN_CONFIG_SIZE, "cxm_config", "cfg");
}

/* Two-sided normal quantile: z with P(|Z| <= z) = conf, by bisection on
 * erfc, which libm gives to full precision. Run once per context. */
static double normal_z(double conf)
{
	double lo = 0, hi = 40, tail = 1 - conf;
	for (int i = 0; i < 200; i++) {
		double mid = (lo + hi) / 2;
		if (erfc(mid / sqrt(2.0)) > tail)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

#define DEFAULT(field, value) ((field) ? (field) : (value))

static cxm_status apply_config(cxm_context *ctx, const cxm_config *c)
{
	if ((c->allocator.alloc == NULL) != (c->allocator.free == NULL))
		return cxm__fail(NULL, CXM_ERR_INVALID, "allocator: set both alloc and free, or neither");
	if (!all_zero(c->reserved, sizeof c->reserved))
		return cxm__fail(NULL, CXM_ERR_UNSUPPORTED, "cxm_config.reserved must be zero");
	ctx->alloc = c->allocator.alloc ? c->allocator
					: (cxm_allocator){default_alloc, default_free, NULL};
	ctx->clock = c->clock ? c->clock : realtime_ms;
	ctx->clock_opaque = c->clock_opaque;

	if (c->n_tiers > CXM_MAX_TIERS)
		return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE, "n_tiers %u is above %d", c->n_tiers,
				 CXM_MAX_TIERS);
	if (c->n_tiers == 0) {
		static const cxm_tier def[3] = {
			{60000, 120, 0}, {3600000, 192, 0}, {86400000, 400, 0}};
		ctx->n_tiers = 3;
		memcpy(ctx->tiers, def, sizeof def);
	} else {
		ctx->n_tiers = c->n_tiers;
		memcpy(ctx->tiers, c->tiers, sizeof(cxm_tier) * c->n_tiers);
	}
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		const cxm_tier *t = &ctx->tiers[k];
		if (t->reserved)
			return cxm__fail(NULL, CXM_ERR_UNSUPPORTED, "tier %u: reserved must be 0", k);
		if (t->bucket_ms < 1000 || t->bucket_ms > INT64_C(31622400000))
			return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE,
					 "tier %u: bucket_ms %lld outside 1000 .. 31622400000", k,
					 (long long)t->bucket_ms);
		if (t->buckets < 2 || t->buckets > 100000)
			return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE,
					 "tier %u: buckets %u outside 2 .. 100000", k, t->buckets);
		if (k > 0) {
			const cxm_tier *p = &ctx->tiers[k - 1];
			if (t->bucket_ms % p->bucket_ms != 0 || t->bucket_ms == p->bucket_ms)
				return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE,
						 "tier %u: bucket_ms must be a larger multiple of tier %u's",
						 k, k - 1);
			/* buckets leaving tier k-1 must still fall inside tier k
			 * however far ahead tier k's newest bucket is */
			if (t->bucket_ms * (int64_t)t->buckets <
			    p->bucket_ms * (int64_t)p->buckets + 2 * t->bucket_ms)
				return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE,
						 "tier %u must reach at least two of its buckets further back than tier %u",
						 k, k - 1);
		}
	}
	for (uint32_t k = 0; k < ctx->n_tiers; k++)
		ctx->tier_base[k + 1] = ctx->tier_base[k] + ctx->tiers[k].buckets;
	if (c->max_future_ms < 0 || c->max_future_ms > INT64_C(31622400000))
		return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE, "max_future_ms outside 0 .. 1 year");
	ctx->max_future_ms = DEFAULT(c->max_future_ms, 300000);

	struct {
		uint32_t *dst;
		uint32_t val, def, max;
		const char *name;
	} lim[] = {
		{&ctx->max_journeys, c->max_journeys, 256, 1u << 20, "max_journeys"},
		{&ctx->max_steps, c->max_steps, 64, 4096, "max_steps"},
		{&ctx->max_touchpoints, c->max_touchpoints, 4096, 1u << 20, "max_touchpoints"},
		{&ctx->max_metrics, c->max_metrics, 64, 4096, "max_metrics"},
		{&ctx->max_segments, c->max_segments, 8, 64, "max_segments"},
		{&ctx->max_segment_values, c->max_segment_values, 1024, 1u << 16, "max_segment_values"},
		{&ctx->max_name_len, c->max_name_len, 128, 4096, "max_name_len"},
		{&ctx->max_customer_id_len, c->max_customer_id_len, 256, 65536, "max_customer_id_len"},
		{&ctx->max_measures, c->max_measures, 64, 1024, "max_measures"},
		{&ctx->min_samples, c->min_samples, 30, UINT32_MAX, "min_samples"},
		{&ctx->max_triggers, c->max_triggers, 256, 65536, "max_triggers"},
		{&ctx->event_queue, c->event_queue, 4096, 1u << 20, "event_queue"},
	};
	for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
		if (lim[i].val > lim[i].max)
			return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE, "%s %u is above %u", lim[i].name,
					 lim[i].val, lim[i].max);
		*lim[i].dst = DEFAULT(lim[i].val, lim[i].def);
	}
	ctx->max_series = DEFAULT(c->max_series, 1000000);
	ctx->max_memory = c->max_memory;

	if (isnan(c->confidence) || isinf(c->confidence))
		return cxm__fail(NULL, CXM_ERR_NOT_FINITE, "confidence is not finite");
	if (c->confidence < 0 || c->confidence >= 1)
		return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE, "confidence %s outside (0, 1)",
				 cxm__num(c->confidence).s);
	ctx->confidence = c->confidence > 0 ? c->confidence : 0.95;
	cxm__customer_key(ctx, c->customer_key);
	if (c->customer_policy > CXM_CUSTOMERS_REFUSE)
		return cxm__fail(NULL, CXM_ERR_INVALID, "customer_policy %u is not a cxm_customer_policy",
				 c->customer_policy);
	ctx->customer_policy = c->customer_policy;
	if (c->max_customers > CUST_MAX_CUSTOMERS)
		return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE, "max_customers %u is above %u",
				 c->max_customers, CUST_MAX_CUSTOMERS);
	ctx->max_customers = DEFAULT(c->max_customers, 1000000);
	ctx->z = normal_z(ctx->confidence);

	uint32_t shards = c->shards;
	if (shards > 64)
		return cxm__fail(NULL, CXM_ERR_OUT_OF_RANGE, "shards %u is above 64", shards);
	if (shards == 0) {
		/* series live in one shard each, so shards cost little: enough
		 * that feeding threads seldom want the same one */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		shards = cpus > 0 ? (uint32_t)(cpus >= 8 ? 64 : 8 * cpus) : 16;
	}
	ctx->n_shards = shards;
	return CXM_OK;
}

static void free_shards(cxm_context *ctx)
{
	for (uint32_t i = 0; i < ctx->n_shards; i++) {
		shard *sh = &ctx->shards[i];
		cxm__index_free(ctx, sh);
		pthread_mutex_destroy(&sh->lock);
	}
	cxm__free(ctx, ctx->shards, sizeof(shard) * ctx->n_shards);
}

cxm_status cxm_context_new(cxm_context **out, const cxm_config *cfg)
{
	cxm_config defaults;
	cxm_status st;
	if (!out)
		return cxm__fail(NULL, CXM_ERR_INVALID, "out is NULL");
	if (cfg) {
		st = cxm__check_struct(NULL, cfg, CXM_MIN_CONFIG_SIZE, sizeof(cxm_config), "cxm_config");
		if (st)
			return st;
	} else {
		cxm_config_init(&defaults, sizeof defaults);
		cfg = &defaults;
	}
	cxm_context tmp;
	memset(&tmp, 0, sizeof tmp);
	st = apply_config(&tmp, cfg);
	if (st)
		return st;
	cxm_context *ctx = tmp.alloc.alloc(tmp.alloc.opaque, sizeof *ctx);
	if (!ctx)
		return cxm__fail(NULL, CXM_ERR_NO_MEMORY, "allocating the context failed");
	memcpy(ctx, &tmp, sizeof *ctx);
	atomic_init(&ctx->memory, sizeof *ctx);
	atomic_init(&ctx->wm_epoch, WATERMARK_NONE);
	atomic_init(&ctx->n_series, 0);
	atomic_init(&ctx->lost_buckets, 0);
	atomic_init(&ctx->unpacked, 0);
	atomic_init(&ctx->customers, NULL);
	for (int i = 0; i < CXM_STATUS_COUNT; i++)
		atomic_init(&ctx->rejected[i], 0);
	if (pthread_mutex_init(&ctx->def_lock, NULL) != 0) {
		ctx->alloc.free(ctx->alloc.opaque, ctx);
		return cxm__fail(NULL, CXM_ERR_NO_MEMORY, "pthread_mutex_init failed");
	}
	ctx->shards = cxm__calloc(ctx, ctx->n_shards, sizeof(shard));
	if (!ctx->shards)
		goto nomem_lock;
	uint32_t inited = 0;
	for (; inited < ctx->n_shards; inited++) {
		shard *sh = &ctx->shards[inited];
		sh->watermark = WATERMARK_NONE;
		if (cxm__mutex_init(&sh->lock) != 0)
			break;
		if (!cxm__index_init(ctx, sh)) {
			pthread_mutex_destroy(&sh->lock);
			break;
		}
	}
	if (inited < ctx->n_shards) {
		uint32_t n = ctx->n_shards;
		ctx->n_shards = inited;
		free_shards(ctx);
		ctx->n_shards = n;
		goto nomem_shards_freed;
	}
	st = cxm__model_init(ctx);
	if (st) {
		free_shards(ctx);
		pthread_mutex_destroy(&ctx->def_lock);
		ctx->alloc.free(ctx->alloc.opaque, ctx);
		return cxm__fail(NULL, st, "allocating the model failed");
	}
	*out = ctx;
	return CXM_OK;

nomem_lock:
nomem_shards_freed:
	pthread_mutex_destroy(&ctx->def_lock);
	ctx->alloc.free(ctx->alloc.opaque, ctx);
	return cxm__fail(NULL, CXM_ERR_NO_MEMORY, "allocating the shards failed");
}

void cxm_context_free(cxm_context *ctx)
{
	if (!ctx)
		return;
	free_shards(ctx);
	cxm__customers_free(ctx);
	cxm__journeys_free(ctx);
	cxm__triggers_free(ctx);
	cxm__governor_free(ctx);
	cxm__alerts_free(ctx);
	cxm__signals_free(ctx);
	cxm__zones_free(ctx);
	cxm__baselines_free(ctx);
	cxm__drivers_free(ctx);
	cxm__model_free(ctx);
	pthread_mutex_destroy(&ctx->def_lock);
	ctx->alloc.free(ctx->alloc.opaque, ctx);
}

/* ---- stats ---------------------------------------------------------------- */

cxm_status cxm_stats_get(cxm_stats *out, cxm_context *ctx)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "out" : "ctx");
	cxm_status st = cxm__check_out(ctx, out, CXM_MIN_STATS_SIZE, "cxm_stats");
	if (st)
		return st;
	cxm_stats s;
	memset(&s, 0, sizeof s);
	s.size = out->size;
	s.shards = ctx->n_shards;
	s.watermark_ms = -1;
	for (uint32_t i = 0; i < ctx->n_shards; i++) {
		shard *sh = &ctx->shards[i];
		pthread_mutex_lock(&sh->lock);
		s.accepted += sh->accepted;
		s.series += sh->n_series;
		s.series_bytes += sh->series_bytes;
		s.saturated += sh->saturated;
		if (sh->n_series)
			s.shards_used++;
		if (sh->watermark != WATERMARK_NONE && sh->watermark > s.watermark_ms)
			s.watermark_ms = sh->watermark;
		pthread_mutex_unlock(&sh->lock);
	}
	for (int i = 0; i < CXM_STATUS_COUNT; i++) {
		s.rejected[i] = atomic_load_explicit(&ctx->rejected[i], memory_order_relaxed);
		s.rejected_total += s.rejected[i];
	}
	cxm__customers_stats(ctx, &s);
	cxm__triggers_stats(ctx, &s);
	cxm__signals_stats(ctx, &s);
	s.memory_bytes = atomic_load_explicit(&ctx->memory, memory_order_relaxed);
	s.lost_buckets = atomic_load_explicit(&ctx->lost_buckets, memory_order_relaxed);
	s.unpacked_buckets = atomic_load_explicit(&ctx->unpacked, memory_order_relaxed);
	s.query_cache_bytes = atomic_load_explicit(&ctx->qcache, memory_order_relaxed);
	cxm__put_out(out, &s, sizeof s);
	return CXM_OK;
}
