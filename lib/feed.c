/* Feeding interactions, the hot path: validated (feed_validate.c), planned,
 * prefetched, reserved, folded.
 *
 * Concurrency: a context has several shards, each a mutex and the series
 * of the touchpoints it owns (touchpoint id modulo the shard count), so a
 * series lives in exactly one shard and is rolled up once. A single call
 * locks its touchpoint's shard. A batch takes 128 interactions at a time,
 * groups them by shard, and works through the groups in whichever order it
 * can lock their shards without waiting, so two feeding threads pass each
 * other instead of queueing; no lock is held across the whole batch.
 *
 * An interaction is validated completely, and every series it needs exists,
 * before anything is folded: a rejection leaves no trace but its count. */
#include "cxm_internal.h"
#include "series_hot.h"
#include "series_index.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_CHUNK 128
#define PLAN_BINS 16
#define PLAN_MADE 64

static inline shard *shard_of(const cxm_context *ctx, cxm_id tp)
{
	return &ctx->shards[tp % ctx->n_shards];
}

typedef struct plan {
	const cxm_interaction *ix;
	uint32_t slots[1 + 64];
	uint32_t n_slots;
	uint32_t place;                /* the touchpoint's place in its shard's rows */
	uint32_t n_volume, n_distinct; /* metrics fed without a measure */
	size_t n_all;                  /* measures + volume + distinct */
	uint64_t hash[2];              /* the customer id's keyed hash, if any */
	/* a DURATION measure's bin (cxm__sketch_bin_of; the no-answer
	 * code's too, never used), found once for its series by plan_make,
	 * for the first PLAN_BINS measures */
	uint32_t bin[PLAN_BINS];
	cover_log covers;              /* duration stores plan_prepare grew */
	/* the series plan_prepare made, the first PLAN_MADE of them (more:
	 * made_many, and an undo takes back every empty series it touches) */
	const series *made[PLAN_MADE];
	uint32_t n_made;
	bool made_many;
} plan;

/* hash: the id's keyed hash when the caller has it already (a batch
 * computes it once for its order check), else NULL. */
static void plan_make(const cxm_context *ctx, const cxm_interaction *ix, const uint64_t *hash,
		      plan *p)
{
	const model *md = &ctx->model;
	p->ix = ix;
	p->place = cxm__index_place(ctx, ix->touchpoint);
	p->n_slots = 0;
	p->slots[p->n_slots++] = 0;
	for (size_t d = 0; d < ix->n_segments; d++)
		if (ix->segments[d] != CXM_NONE)
			p->slots[p->n_slots++] = 1 + md->segments[d].slot_base + ix->segments[d];
	p->n_volume = atomic_load_explicit(&md->n_volume, memory_order_acquire);
	p->n_distinct = 0;
	if (ix->customer_len) {
		p->n_distinct = atomic_load_explicit(&md->n_distinct, memory_order_acquire);
		if (hash) {
			p->hash[0] = hash[0];
			p->hash[1] = hash[1];
		} else {
			cxm__customer_hash(ctx, ix->customer, ix->customer_len, p->hash);
		}
	}
	p->n_all = ix->n_measures + p->n_volume + p->n_distinct;
	for (size_t j = 0; j < ix->n_measures && j < PLAN_BINS; j++) {
		const metric *m = &md->metrics[ix->measures[j].metric];
		p->bin[j] = m->def.kind == CXM_KIND_DURATION ? cxm__sketch_bin_of(&m->sk, ix->measures[j].value)
							     : UINT32_MAX;
	}
}

static inline cxm_id plan_metric(const cxm_context *ctx, const plan *p, size_t j)
{
	size_t nm = p->ix->n_measures;
	if (j < nm)
		return p->ix->measures[j].metric;
	if (j < nm + p->n_volume)
		return ctx->model.volume_metrics[j - nm];
	return ctx->model.distinct_metrics[j - nm - p->n_volume];
}

static bool plan_made(const plan *p, const series *s)
{
	if (p->made_many)
		return true;
	for (uint32_t i = 0; i < p->n_made; i++)
		if (p->made[i] == s)
			return true;
	return false;
}

/* Free the series this interaction created, the pages reserved for its
 * buckets, and the index arrays that hold nothing once they are gone, so
 * that a rejection leaves memory_bytes and the series count where they
 * were; an empty series that was there before (a rewind empties series
 * without freeing them) stays. Runs only on rejection. */
static void plan_undo(cxm_context *ctx, shard *sh, plan *p)
{
	cxm__covers_done(ctx, &p->covers, true);
	const cxm_id tp = p->ix->touchpoint;
	for (size_t j = 0; j < p->n_all; j++) {
		cxm_id mid = plan_metric(ctx, p, j);
		for (uint32_t k = 0; k < p->n_slots; k++) {
			series **ref = cxm__index_ref(ctx, sh, mid, tp, p->slots[k], false, NULL, NULL);
			if (ref && *ref)
				cxm__series_unreserve(ctx, *ref);
			if (ref && *ref && cxm__series_empty(*ref) && plan_made(p, *ref))
				cxm__index_drop(ctx, sh, ref);
		}
		cxm__index_prune(ctx, sh, mid, tp); /* frees only a group or row left empty */
	}
}

/* A new series of metric mid at *ref, counted against max_series. */
static cxm_status series_make(cxm_context *ctx, shard *sh, cxm_id mid, series **ref)
{
	cxm_status st = cxm__index_add(ctx, sh, mid, ref, ctx->max_series);
	if (st == CXM_ERR_LIMIT)
		return cxm__fail(ctx, st, "max_series (%llu) reached", (unsigned long long)ctx->max_series);
	if (st)
		return cxm__fail(ctx, st, "allocating a series of metric '%s' failed",
				 ctx->model.metrics[mid].name);
	return CXM_OK;
}

/* Start loading what the fold of the series the plan touches that exist
 * will read (see the loop), so that their misses overlap with each other
 * and with plan_prepare and the customer's look-up instead of coming one
 * after another. Reads the shard's index and the series pointers only
 * (its lock is held); the rest is address arithmetic. */
static void plan_prefetch(const cxm_context *ctx, const shard *sh, const plan *p)
{
	for (size_t j = 0; j < p->n_all; j++) {
		const cxm_id mid = plan_metric(ctx, p, j);
		series **grp = cxm__index_group_at(sh, mid, p->place);
		const metric *m = &ctx->model.metrics[mid];
		const size_t hot_size = m->hot_size;
		for (uint32_t k = 0; grp && k < p->n_slots; k++) {
			const series *s = grp[p->slots[k]];
			if (s) {
				/* the header's lines a fold reads (the epochs, the
				 * reserved pages, the lifetime cell's and the query
				 * cache's pointers), its two finest cells (which
				 * of them is hot is on the first line) and the
				 * lifetime cell after them: each cell's first line,
				 * and a DURATION's second, where it keeps its
				 * bins' place */
				const unsigned char *c = (const unsigned char *)s->cells;
				__builtin_prefetch(s);
				__builtin_prefetch((const unsigned char *)s + 64);
				__builtin_prefetch(&s->life);
				__builtin_prefetch(c);
				__builtin_prefetch(c + hot_size);
				if (m->life_size)
					__builtin_prefetch(c + 2 * hot_size);
				if (m->def.kind == CXM_KIND_DURATION) {
					__builtin_prefetch(c + 64);
					__builtin_prefetch(c + hot_size + 64);
					if (m->life_size)
						__builtin_prefetch(c + 2 * hot_size + 64);
					if (j < PLAN_BINS && p->bin[j] != UINT32_MAX && hot_size == m->cell_size) {
						/* the value's count in the two finest cells
						 * and the lifetime cell, all full cells
						 * (their bins follow them from bin 0): the
						 * fold's most frequent misses */
						const size_t at = sizeof(sketch_cell) + sizeof(uint32_t) * p->bin[j];
						__builtin_prefetch(c + at);
						__builtin_prefetch(c + hot_size + at);
						if (m->life_size)
							__builtin_prefetch(c + 2 * hot_size + at);
					}
				}
			}
		}
	}
}

static cxm_status plan_prepare(cxm_context *ctx, shard *sh, plan *p, int64_t e)
{
	p->covers.n = 0;
	p->n_made = 0;
	p->made_many = false;
	for (size_t j = 0; j < p->n_all; j++) {
		cxm_id mid = plan_metric(ctx, p, j);
		series **grp = cxm__index_group_at(sh, mid, p->place);
		bool made = false; /* an undo prunes what holds nothing, made or not */
		if (!grp && !(grp = cxm__index_make_group(ctx, sh, mid, p->ix->touchpoint, &made, &made))) {
			plan_undo(ctx, sh, p);
			return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating a series index failed");
		}
		for (uint32_t k = 0; k < p->n_slots; k++) {
			series **ref = &grp[p->slots[k]];
			if (!*ref) {
				cxm_status st = series_make(ctx, sh, mid, ref);
				if (st) {
					plan_undo(ctx, sh, p);
					return st;
				}
				if (p->n_made < PLAN_MADE)
					p->made[p->n_made++] = *ref;
				else
					p->made_many = true;
			}
			double v = j < p->ix->n_measures ? p->ix->measures[j].value : NAN;
			if (cxm__is_na((*ref)->m, v))
				v = NAN; /* counted, never binned */
			if (!cxm__series_reserve(ctx, *ref, e, v, &p->covers)) {
				const char *name = (*ref)->m->name; /* the model's: outlives the series */
				plan_undo(ctx, sh, p);
				return cxm__fail(ctx, CXM_ERR_NO_MEMORY,
						 "allocating a time bucket of metric '%s' failed", name);
			}
		}
	}
	return CXM_OK;
}

static void plan_fold(cxm_context *ctx, shard *sh, const plan *p, int64_t e)
{
	const cxm_interaction *ix = p->ix;
	for (size_t j = 0; j < p->n_all; j++) {
		cxm_id mid = plan_metric(ctx, p, j);
		uint32_t item = 0;
		double v = 1;
		if (j < ix->n_measures) {
			item = ix->measures[j].item;
			v = ix->measures[j].value;
		}
		series **grp = cxm__index_group_at(sh, mid, p->place);
		for (uint32_t k = 0; k < p->n_slots; k++) {
			series *s = grp[p->slots[k]];
			void *cell = cxm__series_cell_logged(ctx, s, e, &p->covers);
			/* s->life: the lifetime totals that export.c exposes as
			 * Prometheus counters (never rolled up, never expired) */
			switch (s->m->def.kind) {
			case CXM_KIND_DURATION: {
				if (cxm__is_na(s->m, v)) { /* no answer: counted, not a value */
					((sketch_cell *)cell)->na++;
					((sketch_cell *)s->life)->na++;
					break;
				}
				cxm__sketch_add_moments(cell, v);
				/* a sparse DURATION keeps its bins in the hot cell itself */
				sketch_cell *bc = s->m->bins_tier ? cxm__series_bins_cell(ctx, s, e) : cell;
				uint64_t before = bc->saturated;
				const uint32_t bin = j < PLAN_BINS ? p->bin[j] : cxm__sketch_bin_of(&s->m->sk, v);
				cxm__sketch_add_dist_bin(&s->m->sk, bc, v, bin);
				sh->saturated += bc->saturated - before;
				cxm__sketch_add_moments(s->life, v);
				cxm__sketch_add_dist_bin(&s->m->sk, s->life, v, bin);
				break;
			}
			case CXM_KIND_DISTINCT:
				((hll_cell *)cell)->n++;
				cxm__hll_add(s->m, cxm__series_bins_cell(ctx, s, e), p->hash[0]);
				break;
			default:
				cxm__cell_fold(s->m, cell, item, v);
				cxm__cell_fold(s->m, s->life, item, v);
				break;
			}
			/* a page reserved for a roll-up that landed elsewhere */
			if (s->reserved)
				cxm__series_unreserve(ctx, s);
		}
	}
}

#define SEQ_WM_SHARED INT64_MAX

/* Apply one interaction through a locked shard. seq_wm is the watermark
 * epoch to judge it against: SEQ_WM_SHARED for the context's, or, from a
 * batch, the one feeding the batch one by one would have reached (what
 * stood before the chunk, raised by the interactions before this one), so
 * that whether an interaction is late does not depend on the order the
 * shards' groups happen to be applied in. The shard's own watermark always
 * counts: the rings of its series have moved with it. */
/* Everything but the customer's journey order: whether ix may be applied
 * to locked shard sh now; *wm_out gets the watermark (in finest buckets)
 * it was judged against. Changes nothing. */
static cxm_status admit(cxm_context *ctx, const shard *sh, const cxm_interaction *ix, int64_t now,
			int64_t seq_wm, int64_t *wm_out)
{
	cxm_status st = cxm__validate(ctx, ix);
	if (st)
		return st;
	const int64_t t = ix->time_ms;
	if (t - ctx->max_future_ms > now)
		return cxm__fail(ctx, CXM_ERR_TOO_EARLY,
				 "time %lld ms is more than %lld ms after now (%lld)", (long long)t,
				 (long long)ctx->max_future_ms, (long long)now);
	const int64_t w0 = ctx->tiers[0].bucket_ms, n0 = ctx->tiers[0].buckets;
	int64_t wm = seq_wm == SEQ_WM_SHARED
			     ? atomic_load_explicit(&ctx->wm_epoch, memory_order_acquire)
			     : seq_wm;
	if (sh->watermark != WATERMARK_NONE && sh->watermark / w0 > wm)
		wm = sh->watermark / w0;
	if (wm != WATERMARK_NONE && t / w0 <= wm - n0) {
		if (wm * w0 > now + ctx->max_future_ms)
			/* the watermark can only be this far ahead of the clock if
			 * the clock was ahead when it moved: say how to get out */
			return cxm__fail(ctx, CXM_ERR_TOO_LATE,
					 "time %lld ms is %lld or more buckets of %lld ms behind the "
					 "watermark (%lld ms), which is ahead of the clock (%lld ms): an "
					 "interaction was accepted while the clock was ahead? "
					 "cxm_rewind() takes the context back",
					 (long long)t, (long long)n0, (long long)w0, (long long)(wm * w0),
					 (long long)now);
		return cxm__fail(ctx, CXM_ERR_TOO_LATE,
				 "time %lld ms is %lld or more buckets of %lld ms behind the watermark",
				 (long long)t, (long long)n0, (long long)w0);
	}
	*wm_out = wm;
	return CXM_OK;
}

static cxm_status apply(cxm_context *ctx, shard *sh, const cxm_interaction *ix, int64_t now,
			int64_t seq_wm, const uint64_t *hash)
{
	int64_t wm = WATERMARK_NONE;
	cxm_status st = admit(ctx, sh, ix, now, seq_wm, &wm);
	if (st)
		return st;
	const int64_t t = ix->time_ms;
	const int64_t e = t / ctx->tiers[0].bucket_ms;
	plan p;
	plan_make(ctx, ix, hash, &p);
	if (ix->customer_len) /* its line arrives while the series are prepared */
		cxm__customer_prefetch(ctx, p.hash);
	plan_prefetch(ctx, sh, &p);
	const bool drivers = ix->customer_len && ix->n_measures &&
			     atomic_load_explicit(&ctx->drivers, memory_order_relaxed) &&
			     cxm__drivers_prefetch(ctx, ix, p.hash);
	if ((st = plan_prepare(ctx, sh, &p, e)))
		return st;
	if (ix->customer_len &&
	    (st = cxm__customer_seen(ctx, p.hash, t, ix->touchpoint, p.slots, p.n_slots,
				     cxm__signals_failures(ctx, ix)))) {
		plan_undo(ctx, sh, &p);
		return st;
	}
	plan_fold(ctx, sh, &p, e);
	if (p.covers.n) /* most folds grew no store */
		cxm__covers_done(ctx, &p.covers, false);
	sh->accepted++;
	if (atomic_load_explicit(&ctx->n_triggers, memory_order_relaxed))
		cxm__triggers_match(ctx, ix, ix->customer_len ? p.hash : NULL);
	if (drivers)
		cxm__drivers_feed(ctx, ix, p.hash);
	if (sh->watermark == WATERMARK_NONE || t > sh->watermark)
		sh->watermark = t;
	/* raise the shared watermark (written once per finest bucket; judged
	 * against its own value, not the batch's running one, which an
	 * interaction rejected later in its path may have raised) */
	int64_t cur = atomic_load_explicit(&ctx->wm_epoch, memory_order_relaxed);
	if (cur == WATERMARK_NONE || e > cur) {
		while ((cur == WATERMARK_NONE || e > cur) &&
		       !atomic_compare_exchange_weak_explicit(&ctx->wm_epoch, &cur, e,
							      memory_order_release, memory_order_relaxed))
			;
	}
	return CXM_OK;
}

cxm_status cxm_interaction_init(cxm_interaction *ix, size_t size)
{
	return cxm__init_struct(ix, size, CXM_MIN_INTERACTION_SIZE, "cxm_interaction", "ix");
}

cxm_status cxm_feed(cxm_context *ctx, const cxm_interaction *ix)
{
	if (!ctx || !ix)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "ix" : "ctx");
	/* the tail beyond what this library knows is checked by cxm__validate() */
	cxm_status st = cxm__check_out(ctx, ix, CXM_MIN_INTERACTION_SIZE, "cxm_interaction");
	if (st) {
		cxm__reject(ctx, st);
		return st;
	}
	int64_t now = cxm__now(ctx);
	shard *sh = shard_of(ctx, ix->touchpoint);
	pthread_mutex_lock(&sh->lock);
	st = apply(ctx, sh, ix, now, SEQ_WM_SHARED, NULL);
	pthread_mutex_unlock(&sh->lock);
	if (st)
		cxm__reject(ctx, st);
	return st;
}

typedef struct rewind_to {
	int64_t time_ms;
	uint64_t gone;
} rewind_to;

static void rewind_one(cxm_context *ctx, series *s, void *arg)
{
	rewind_to *rw = arg;
	rw->gone += cxm__series_rewind(ctx, s, rw->time_ms);
}

cxm_status cxm_rewind(uint64_t *discarded, cxm_context *ctx, int64_t time_ms)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	if (time_ms < 0 || time_ms > CXM_TIME_MAX)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "time %lld ms is outside 0 .. CXM_TIME_MAX",
				 (long long)time_ms);
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	uint64_t gone = 0;
	for (uint32_t i = 0; i < ctx->n_shards; i++) {
		shard *sh = &ctx->shards[i];
		pthread_mutex_lock(&sh->lock);
		if (sh->watermark != WATERMARK_NONE && sh->watermark > time_ms) {
			rewind_to rw = {time_ms, 0};
			cxm__index_each(ctx, sh, rewind_one, &rw);
			gone += rw.gone;
			sh->watermark = time_ms;
		}
		pthread_mutex_unlock(&sh->lock);
	}
	int64_t e = floordiv64(time_ms, w0), cur = atomic_load(&ctx->wm_epoch);
	while (cur != WATERMARK_NONE && cur > e && !atomic_compare_exchange_weak(&ctx->wm_epoch, &cur, e))
		;
	gone += cxm__journeys_rewind(ctx, time_ms);
	cxm__customers_rewind(ctx, time_ms);
	if (discarded)
		*discarded = gone;
	return CXM_OK;
}

cxm_status cxm_feed_check(cxm_context *ctx, const cxm_interaction *ix)
{
	if (!ctx || !ix)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", ctx ? "ix" : "ctx");
	cxm_status st = cxm__check_out(ctx, ix, CXM_MIN_INTERACTION_SIZE, "cxm_interaction");
	if (st)
		return st;
	int64_t now = cxm__now(ctx), wm = WATERMARK_NONE;
	shard *sh = shard_of(ctx, ix->touchpoint);
	pthread_mutex_lock(&sh->lock);
	st = admit(ctx, sh, ix, now, SEQ_WM_SHARED, &wm);
	pthread_mutex_unlock(&sh->lock);
	if (st || !ix->customer_len)
		return st;
	uint64_t h[2];
	cxm__customer_hash(ctx, ix->customer, ix->customer_len, h);
	return cxm__customer_check(ctx, h, ix->time_ms, ix->touchpoint);
}

/* Start loading the caller's arrays of the interaction applied next (its
 * measures and segments): validation reads them first, and a batch built
 * ahead of time holds them out of cache. */
static inline void prefetch_arrays(const cxm_interaction *ix)
{
	if (ix->n_measures)
		__builtin_prefetch(ix->measures);
	if (ix->n_segments)
		__builtin_prefetch(ix->segments);
}

/* Apply the chunk's interactions of shard s (listed in order[from, to)). */
static void apply_group(cxm_context *ctx, uint32_t s, const unsigned char *base, size_t stride,
			size_t first, const uint8_t *order, size_t from, size_t to, int64_t now,
			const int64_t *cap, const uint64_t (*hash)[2], cxm_status *status)
{
	shard *sh = &ctx->shards[s];
	for (size_t k = from; k < to; k++) {
		size_t i = first + order[k];
		const cxm_interaction *ix = (const cxm_interaction *)(const void *)(base + i * stride);
		if (k + 1 < to)
			prefetch_arrays((const cxm_interaction *)(const void *)(base + (first + order[k + 1]) * stride));
		status[order[k]] = apply(ctx, sh, ix, now, cap[order[k]],
					 ix->customer_len ? hash[order[k]] : NULL);
	}
}

/* A customer's journey progress, and its key-driver values and pairs,
 * follow the order its interactions are applied in, so when one customer
 * has journey interactions, or interactions carrying a driver set's
 * metrics, in two shards of a chunk, the chunk goes in batch order rather
 * than shard by shard.
 * Also computes each id's keyed hash once for plan_make (hash[k] is set
 * where the id is well formed; apply() rejects the others before use). */
static bool chunk_needs_order(const cxm_context *ctx, const unsigned char *base, size_t stride,
			      size_t first, size_t m, const uint32_t *of, uint64_t (*hash)[2])
{
	struct {
		uint64_t key;
		uint32_t shard;
	} tab[2 * BATCH_CHUNK];
	memset(tab, 0, sizeof tab);
	bool needs = false;
	const model *md = &ctx->model;
	/* with a STRICT_ORDER journey, any interaction may end an instance;
	 * with a driver set, one carrying its metrics sets a value or pairs
	 * an outcome with the values before it */
	const bool strict_order = cxm__journeys_strict_order(ctx);
	const bool drivers = atomic_load_explicit(&ctx->drivers, memory_order_relaxed) != NULL;
	uint32_t ntp = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
	for (size_t k = 0; k < m; k++) {
		const cxm_interaction *ix =
			(const cxm_interaction *)(const void *)(base + (first + k) * stride);
		if (of[k] == UINT32_MAX || !ix->customer_len || !ix->customer ||
		    ix->customer_len > ctx->max_customer_id_len)
			continue;
		cxm__customer_hash(ctx, ix->customer, ix->customer_len, hash[k]);
		if (needs || ix->touchpoint >= ntp ||
		    (md->touchpoints[ix->touchpoint].journey == CXM_NONE && !strict_order &&
		     !(drivers && cxm__drivers_touch(ctx, ix))))
			continue;
		uint64_t h = hash[k][0] | 1;
		size_t i = (size_t)(h >> 32) & (2 * BATCH_CHUNK - 1);
		while (tab[i].key && tab[i].key != h)
			i = (i + 1) & (2 * BATCH_CHUNK - 1);
		if (!tab[i].key) {
			tab[i].key = h;
			tab[i].shard = of[k];
		} else if (tab[i].shard != of[k]) {
			needs = true;
		}
	}
	return needs;
}

/* The arguments of a batch call, checked before anything is fed. */
static cxm_status batch_args(cxm_context *ctx, const cxm_interaction *ixs, size_t n,
			     const cxm_rejection *rejections, size_t rej_cap)
{
	if (!ctx)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ctx is NULL");
	if (!ixs && n)
		return cxm__fail(ctx, CXM_ERR_INVALID, "ixs is NULL");
	if (!rejections && rej_cap)
		return cxm__fail(ctx, CXM_ERR_INVALID, "rejections is NULL with rej_cap %zu", rej_cap);
	return n ? cxm__check_struct(ctx, ixs, CXM_MIN_INTERACTION_SIZE, sizeof(cxm_interaction),
				     "cxm_interaction")
		 : CXM_OK;
}

cxm_status cxm_feed_batch(size_t *accepted, cxm_context *ctx, const cxm_interaction *ixs, size_t n,
			  cxm_rejection *rejections, size_t rej_cap, size_t *n_rejected)
{
	cxm_status arg = batch_args(ctx, ixs, n, rejections, rej_cap);
	if (arg)
		return arg;
	size_t ok = 0, bad = 0;
	const size_t stride = n ? ixs[0].size : 0;
	const unsigned char *base = (const unsigned char *)ixs;
	const uint32_t S = ctx->n_shards;
	int64_t now = cxm__now(ctx);
	cxm_status status[BATCH_CHUNK];
	uint8_t order[BATCH_CHUNK];
	uint32_t of[BATCH_CHUNK];
	int64_t cap[BATCH_CHUNK];
	uint64_t hash[BATCH_CHUNK][2];
	size_t start[64 + 1];
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	for (size_t first = 0; first < n; first += BATCH_CHUNK) {
		size_t m = n - first > BATCH_CHUNK ? BATCH_CHUNK : n - first;
		/* the watermark each would meet if the batch were fed in order */
		int64_t run = atomic_load_explicit(&ctx->wm_epoch, memory_order_acquire);
		/* group the chunk by shard (counting sort, stable) */
		size_t count[64] = {0};
		for (size_t k = 0; k < m; k++) {
			const cxm_interaction *ix =
				(const cxm_interaction *)(const void *)(base + (first + k) * stride);
			if (ix->size != stride) {
				status[k] = cxm__fail(ctx, CXM_ERR_INVALID,
						      "interaction %zu has size %zu; the batch's is %zu",
						      first + k, ix->size, stride);
				of[k] = UINT32_MAX;
				continue;
			}
			of[k] = ix->touchpoint % S;
			count[of[k]]++;
			cap[k] = run;
			/* fed one by one, only an accepted interaction raises the
			 * watermark: one whose time is in range, not too early, not
			 * too late for the running watermark, and valid (what a
			 * customer or journey check refuses later is not known here) */
			int64_t t = ix->time_ms;
			if (t >= 0 && t <= CXM_TIME_MAX && t - ctx->max_future_ms <= now && t / w0 > run &&
			    cxm__validate(ctx, ix) == CXM_OK)
				run = t / w0;
		}
		start[0] = 0;
		for (uint32_t s = 0; s < S; s++)
			start[s + 1] = start[s] + count[s];
		size_t fill[64];
		memcpy(fill, start, sizeof(size_t) * S);
		for (size_t k = 0; k < m; k++)
			if (of[k] != UINT32_MAX)
				order[fill[of[k]]++] = (uint8_t)k;
		/* work through the groups, taking whichever shard is free (or, for
		 * one customer's journey in several shards, in batch order) */
		uint64_t pending = 0;
		if (chunk_needs_order(ctx, base, stride, first, m, of, hash)) {
			for (size_t k = 0; k < m; k++) {
				if (of[k] == UINT32_MAX)
					continue;
				shard *sh = &ctx->shards[of[k]];
				if (k + 1 < m)
					prefetch_arrays((const cxm_interaction *)(const void *)(base + (first + k + 1) * stride));
				pthread_mutex_lock(&sh->lock);
				const cxm_interaction *ix =
					(const cxm_interaction *)(const void *)(base + (first + k) * stride);
				status[k] = apply(ctx, sh, ix, now, cap[k],
						  ix->customer_len ? hash[k] : NULL);
				pthread_mutex_unlock(&sh->lock);
			}
		} else {
			for (uint32_t s = 0; s < S; s++)
				if (count[s])
					pending |= UINT64_C(1) << s;
		}
		while (pending) {
			bool progressed = false;
			for (uint32_t s = 0; s < S; s++) {
				if (!(pending >> s & 1) || pthread_mutex_trylock(&ctx->shards[s].lock))
					continue;
				apply_group(ctx, s, base, stride, first, order, start[s], start[s + 1], now,
					    cap, (const uint64_t(*)[2])hash, status);
				pthread_mutex_unlock(&ctx->shards[s].lock);
				pending &= ~(UINT64_C(1) << s);
				progressed = true;
			}
			if (!progressed) {
				uint32_t s = (uint32_t)__builtin_ctzll(pending);
				pthread_mutex_lock(&ctx->shards[s].lock);
				apply_group(ctx, s, base, stride, first, order, start[s], start[s + 1], now,
					    cap, (const uint64_t(*)[2])hash, status);
				pthread_mutex_unlock(&ctx->shards[s].lock);
				pending &= ~(UINT64_C(1) << s);
			}
		}
		/* report in batch order */
		for (size_t k = 0; k < m; k++) {
			if (status[k] == CXM_OK) {
				ok++;
				continue;
			}
			cxm__reject(ctx, status[k]);
			if (bad < rej_cap) {
				rejections[bad].index = first + k;
				rejections[bad].status = status[k];
			}
			bad++;
		}
	}
	if (accepted)
		*accepted = ok;
	if (n_rejected)
		*n_rejected = bad;
	if (bad)
		return cxm__fail(ctx, CXM_ERR_REJECTED, "%zu of %zu interactions rejected", bad, n);
	return CXM_OK;
}

/* ---- history in any order ----------------------------------------------------------- */

typedef struct timed {
	int64_t t;
	uint32_t i; /* position in the caller's array: ties keep their order */
} timed;

static int timed_cmp(const void *a, const void *b)
{
	const timed *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

#define HISTORY_CHUNK 256

cxm_status cxm_feed_history(size_t *accepted, cxm_context *ctx, const cxm_interaction *ixs, size_t n,
			    cxm_rejection *rejections, size_t rej_cap, size_t *n_rejected)
{
	cxm_status st = batch_args(ctx, ixs, n, rejections, rej_cap);
	if (st)
		return st;
	if (!n)
		return cxm_feed_batch(accepted, ctx, ixs, 0, rejections, rej_cap, n_rejected);
	if (n > UINT32_MAX)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "%zu interactions: at most %u in one call", n,
				 UINT32_MAX);
	const size_t stride = ixs[0].size;
	const unsigned char *base = (const unsigned char *)ixs;
	timed *order = n <= SIZE_MAX / sizeof *order ? cxm__alloc(ctx, n * sizeof *order) : NULL;
	unsigned char *chunk = cxm__alloc(ctx, HISTORY_CHUNK * stride);
	if (!order || !chunk) {
		if (order)
			cxm__free(ctx, order, n * sizeof *order);
		if (chunk)
			cxm__free(ctx, chunk, HISTORY_CHUNK * stride);
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "no memory to order %zu interactions", n);
	}
	for (size_t k = 0; k < n; k++) {
		const cxm_interaction *ix = (const cxm_interaction *)(const void *)(base + k * stride);
		order[k].t = ix->time_ms;
		order[k].i = (uint32_t)k;
	}
	qsort(order, n, sizeof *order, timed_cmp);
	size_t ok = 0, bad = 0;
	cxm_rejection rej[HISTORY_CHUNK];
	for (size_t first = 0; first < n; first += HISTORY_CHUNK) {
		size_t m = n - first < HISTORY_CHUNK ? n - first : HISTORY_CHUNK;
		for (size_t k = 0; k < m; k++)
			memcpy(chunk + k * stride, base + (size_t)order[first + k].i * stride, stride);
		size_t acc = 0, nr = 0;
		st = cxm_feed_batch(&acc, ctx, (const cxm_interaction *)(const void *)chunk, m, rej,
				    HISTORY_CHUNK, &nr);
		if (st && st != CXM_ERR_REJECTED)
			break; /* not from the chunk's interactions: none of it was fed */
		ok += acc;
		for (size_t r = 0; r < nr; r++, bad++)
			if (bad < rej_cap) {
				rejections[bad].index = order[first + rej[r].index].i;
				rejections[bad].status = rej[r].status;
			}
	}
	cxm__free(ctx, order, n * sizeof *order);
	cxm__free(ctx, chunk, HISTORY_CHUNK * stride);
	if (st && st != CXM_ERR_REJECTED)
		return st;
	if (accepted)
		*accepted = ok;
	if (n_rejected)
		*n_rejected = bad;
	return bad ? CXM_ERR_REJECTED : CXM_OK;
}

