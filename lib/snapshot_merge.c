/* Merges: a snapshot's bytes (or a context, through its snapshot) added
 * into a target context. The source's model is matched to the target's by
 * name; its series are streamed from the SERIES sections in two passes
 * (the first checks every record and makes, and reserves, everything the
 * second needs, so that only the first can fail and all it made can be
 * given back); the journey, governor and driver state and the customers
 * are added through their owners' merge functions. The rules are in cxm.h,
 * the bytes in docs/snapshot.md. */
#include "series_index.h"
#include "snapshot.h"

#include <stdio.h>

/* ---- the source's model in the target's ids ----------------------------------------------- */

static bool def_same(const metric *a, const metric *b)
{
	const cxm_metric_def *x = &a->def, *y = &b->def;
	if (x->kind != y->kind || a->headline != b->headline)
		return false;
	switch (x->kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		if (x->scale_min != y->scale_min || x->scale_max != y->scale_max ||
		    x->questions != y->questions || (x->has_na != 0) != (y->has_na != 0) ||
		    (x->has_na && x->na_value != y->na_value))
			return false;
		for (uint32_t q = 0; q < x->questions; q++)
			if (x->top_min[q] != y->top_min[q] || x->bottom_max[q] != y->bottom_max[q])
				return false;
		return true;
	case CXM_KIND_DISTINCT: return x->precision == y->precision;
	case CXM_KIND_VOLUME: return true;
	default:
		break;
	}
	/* DURATION, RATE, AMOUNT, SENTIMENT: a no-answer code changes a
	 * cell's size and what it counts */
	if ((x->has_na != 0) != (y->has_na != 0) || (x->has_na && x->na_value != y->na_value))
		return false;
	switch (x->kind) {
	case CXM_KIND_DURATION:
		return x->duration_lo == y->duration_lo && x->duration_hi == y->duration_hi &&
		       x->relative_error == y->relative_error;
	case CXM_KIND_SENTIMENT: /* counts judged against the same thresholds */
		return x->top_min[0] == y->top_min[0] && x->bottom_max[0] == y->bottom_max[0];
	default: return true;
	}
}

typedef struct idmap {
	cxm_id *journey, *touchpoint, *metric;
	uint32_t *slot; /* source slot -> destination slot */
	size_t bytes[4];
} idmap;

static void idmap_free(cxm_context *ctx, idmap *im)
{
	cxm__free(ctx, im->journey, im->bytes[0]);
	cxm__free(ctx, im->touchpoint, im->bytes[1]);
	cxm__free(ctx, im->metric, im->bytes[2]);
	cxm__free(ctx, im->slot, im->bytes[3]);
}

/* Match src's model to dst's by name; add the segment values dst lacks. */
static cxm_status map_model(cxm_context *dst, cxm_context *src, idmap *im)
{
	const model *sm = &src->model, *dm = &dst->model;
	uint32_t nj = atomic_load(&sm->n_journeys), nt = atomic_load(&sm->n_touchpoints);
	uint32_t nm = atomic_load(&sm->n_metrics), ns = atomic_load(&sm->n_segments);
	uint32_t slots = 1 + sm->slots_used;
	im->bytes[0] = sizeof(cxm_id) * (nj + 1);
	im->bytes[1] = sizeof(cxm_id) * (nt + 1);
	im->bytes[2] = sizeof(cxm_id) * (nm + 1);
	im->bytes[3] = sizeof(uint32_t) * slots;
	im->journey = cxm__alloc(dst, im->bytes[0]);
	im->touchpoint = cxm__alloc(dst, im->bytes[1]);
	im->metric = cxm__alloc(dst, im->bytes[2]);
	im->slot = cxm__alloc(dst, im->bytes[3]);
	if (!im->journey || !im->touchpoint || !im->metric || !im->slot)
		return cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory");
	for (uint32_t i = 0; i < nj; i++) {
		const journey *a = &sm->journeys[i];
		cxm_id id;
		if (cxm_find(&id, dst, CXM_OBJECT_JOURNEY, a->name))
			return cxm__fail(dst, CXM_ERR_UNKNOWN_ID,
					 "merge: the source's journey '%s' is not defined here", a->name);
		const journey *b = &dm->journeys[id];
		bool same = a->n_steps == b->n_steps;
		for (uint32_t k = 0; same && k < a->n_steps; k++)
			same = strcmp(a->steps[k], b->steps[k]) == 0;
		if (!same)
			return cxm__fail(dst, CXM_ERR_EXISTS,
					 "merge: journey '%s' has other steps in the source", a->name);
		im->journey[i] = id;
	}
	for (uint32_t i = 0; i < nt; i++) {
		const touchpoint *a = &sm->touchpoints[i];
		cxm_id id;
		if (cxm_find(&id, dst, CXM_OBJECT_TOUCHPOINT, a->name))
			return cxm__fail(dst, CXM_ERR_UNKNOWN_ID,
					 "merge: the source's touchpoint '%s' is not defined here", a->name);
		const touchpoint *b = &dm->touchpoints[id];
		cxm_id j = a->journey == CXM_NONE ? CXM_NONE : im->journey[a->journey];
		if (a->channel != b->channel || j != b->journey || a->step != b->step)
			return cxm__fail(dst, CXM_ERR_EXISTS,
					 "merge: touchpoint '%s' is defined differently in the source "
					 "(channel %d, journey %u, step %u here: %d, %u, %u)",
					 a->name, (int)a->channel, j, a->step, (int)b->channel, b->journey,
					 b->step);
		im->touchpoint[i] = id;
	}
	/* before anything is added to dst (segment values, below) */
	cxm_status jst = cxm__journeys_merge_check(dst, src, im->journey);
	if (jst)
		return jst;
	for (uint32_t i = 0; i < nm; i++) {
		const metric *a = &sm->metrics[i];
		cxm_id id;
		if (cxm_find(&id, dst, CXM_OBJECT_METRIC, a->name))
			return cxm__fail(dst, CXM_ERR_UNKNOWN_ID,
					 "merge: the source's metric '%s' is not defined here", a->name);
		if (!def_same(a, &dm->metrics[id]))
			return cxm__fail(dst, CXM_ERR_EXISTS,
					 "merge: metric '%s' is defined differently in the source", a->name);
		im->metric[i] = id;
	}
	im->slot[0] = 0;
	for (uint32_t i = 0; i < ns; i++) {
		const segment *a = &sm->segments[i];
		cxm_id id;
		if (cxm_find(&id, dst, CXM_OBJECT_SEGMENT, a->name))
			return cxm__fail(dst, CXM_ERR_UNKNOWN_ID,
					 "merge: the source's segment '%s' is not defined here", a->name);
		const segment *b = &dm->segments[id];
		uint32_t nv = atomic_load(&a->n_values), missing = 0, v;
		for (uint32_t k = 0; k < nv; k++)
			missing += cxm_segment_value_find(&v, dst, id, a->values[k]) != CXM_OK;
		if (missing > b->max_values - atomic_load(&b->n_values))
			return cxm__fail(dst, CXM_ERR_LIMIT,
					 "merge: segment '%s' would need %u more values than its %u",
					 a->name, missing, b->max_values);
		for (uint32_t k = 0; k < nv; k++) {
			cxm_status st = cxm_segment_value(&v, dst, id, a->values[k]);
			if (st)
				return st;
			im->slot[1 + a->slot_base + k] = 1 + b->slot_base + v;
		}
	}
	return CXM_OK;
}

/* ---- the series, streamed from the bytes ---------------------------------------------------- */

typedef struct made {
	uint32_t shard, mid, tp, slot;
	series *s;
	bool row, grp;
} made;

/* Give back what phase 1 created, newest first, unless fed meanwhile. */
static void undo_made(cxm_context *dst, made *list, size_t n)
{
	while (n--) {
		made *x = &list[n];
		shard *sh = &dst->shards[x->shard];
		pthread_mutex_lock(&sh->lock);
		series **ref = cxm__index_ref(dst, sh, x->mid, x->tp, x->slot, false, NULL, NULL);
		if (x->s && ref && *ref == x->s && cxm__series_empty(x->s))
			cxm__index_drop(dst, sh, ref);
		if (x->grp || x->row)
			cxm__index_prune(dst, sh, x->mid, x->tp);
		pthread_mutex_unlock(&sh->lock);
	}
}

/* Merging reads the SERIES sections straight from the bytes, without
 * building the source's series: pass 0 checks every record and makes the
 * destination series the result needs (given back on any failure); pass 1
 * decodes each bucket into a scratch cell and adds it. */
typedef struct stream {
	loader *L;
	cxm_context *dst;
	const idmap *im;
	uint32_t *mark; /* per tier slot: the record that last used it */
	uint32_t gen;
	size_t mark_bytes;
	void *cell; /* scratch: the largest full cell of the source's metrics */
	size_t cell_bytes;
	uint64_t *keys; /* series met so far, (metric, touchpoint, slot) + 1 */
	size_t keys_cap;
	made *list;
	size_t n_made, cap_made;
	cxm_status late;
} stream;

static bool key_insert(stream *S, uint64_t key)
{
	size_t mask = S->keys_cap - 1, i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & mask;
	while (S->keys[i]) {
		if (S->keys[i] == key)
			return false;
		i = (i + 1) & mask;
	}
	S->keys[i] = key;
	return true;
}

/* Pass 0: make (or find) the destination series; on failure *made lists
 * what to give back. */
static cxm_status stream_make(stream *S, cxm_id dm, cxm_id dt, uint32_t ds)
{
	cxm_context *dst = S->dst;
	uint32_t dsh = dt % dst->n_shards;
	shard *sh = &dst->shards[dsh];
	cxm_status st = CXM_OK;
	made x = {dsh, dm, dt, ds, NULL, false, false};
	pthread_mutex_lock(&sh->lock);
	series **ref = cxm__index_ref(dst, sh, dm, dt, ds, true, &x.row, &x.grp);
	if (!ref) {
		st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for a series index");
	} else if (!*ref) {
		st = cxm__index_add(dst, sh, dm, ref, dst->max_series);
		if (st == CXM_ERR_LIMIT)
			st = cxm__fail(dst, st, "merge: max_series (%llu) reached",
				       (unsigned long long)dst->max_series);
		else if (st)
			st = cxm__fail(dst, st, "merge: no memory for a series");
		else
			x.s = *ref;
	}
	if (x.s || x.row || x.grp)
		S->list[S->n_made++] = x;
	pthread_mutex_unlock(&sh->lock);
	return st;
}

#define NO_PAGE(S) cxm__fail((S)->dst, CXM_ERR_NO_MEMORY, "merge: no memory for a time bucket")

static void unreserve_one(cxm_context *ctx, series *s, void *arg)
{
	(void)arg;
	cxm__series_unreserve(ctx, s);
}

/* After a merge, or its failure: the pages reserved and not filled go. */
static void unreserve_all(cxm_context *dst)
{
	for (uint32_t i = 0; i < dst->n_shards; i++) {
		shard *sh = &dst->shards[i];
		pthread_mutex_lock(&sh->lock);
		cxm__index_each(dst, sh, unreserve_one, NULL);
		pthread_mutex_unlock(&sh->lock);
	}
}

/* Pass 1: add the cell just read as bucket e of tier k of d; a bucket
 * no memory could be found for is lost, counted, and the merge reports
 * itself incomplete. */
static void stream_add(stream *S, series *d, uint32_t k, int64_t e)
{
	if (cxm__series_merge_bucket(S->dst, d, k, e, S->cell))
		return;
	cxm__series_lost(S->dst);
	if (!S->late)
		S->late = cxm__fail(S->dst, CXM_ERR_NO_MEMORY,
				    "merge: no memory for a time bucket; the merge is incomplete");
}

/* Pass 1: the destination series, locked; made again if a rejected feed
 * took back the empty series pass 0 made (feed.c's plan_undo). */
static series *stream_lock(stream *S, cxm_id dm, cxm_id dt, uint32_t ds, shard **out)
{
	cxm_context *dst = S->dst;
	shard *sh = &dst->shards[dt % dst->n_shards];
	bool r = false, g = false;
	pthread_mutex_lock(&sh->lock);
	*out = sh;
	series **ref = cxm__index_ref(dst, sh, dm, dt, ds, true, &r, &g);
	if (ref && !*ref)
		(void)cxm__index_add(dst, sh, dm, ref, UINT64_MAX); /* *ref stays NULL on failure */
	if (!ref || !*ref) {
		if (r || g) /* what was made for it holds nothing */
			cxm__index_prune(dst, sh, dm, dt);
		S->late = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory; the merge is incomplete");
		return NULL;
	}
	return *ref;
}

static cxm_status stream_record(stream *S, rbuf *r, int pass)
{
	loader *L = S->L;
	cxm_context *ctx = L->ctx, *src = L->tmp;
	series_head h;
	cxm_status st = cxm__series_head_read(L, r, &h);
	if (!st)
		st = cxm__series_head_shard_check(L, &h);
	if (st)
		return st;
	const uint32_t mid = h.mid, tp = h.tp, slot = h.slot;
	const int64_t hot = h.hot, *top = h.top;
	const metric *m = &src->model.metrics[mid];
	cxm_id dm = S->im->metric[mid], dt = S->im->touchpoint[tp];
	uint32_t ds = S->im->slot[slot];
	series *ds_series = NULL, *rs_series = NULL;
	shard *sh = NULL;
	if (pass == 0) {
		uint64_t slots = 1 + (uint64_t)src->model.slots_used;
		uint64_t key = ((uint64_t)mid * src->max_touchpoints + tp) * slots + slot + 1;
		if (!key_insert(S, key))
			return CORRUPT(ctx, "series (metric %u, touchpoint %u, segment %u, value %u) appears twice",
				       mid, tp, h.d, h.v);
		if ((st = stream_make(S, dm, dt, ds)))
			return st;
		/* the pages pass 1 will fill, so that it cannot fail */
		rs_series = stream_lock(S, dm, dt, ds, &sh);
		if (!rs_series || !cxm__series_reserve_tops(S->dst, rs_series, top) ||
		    (hot != TAG_EMPTY && !cxm__series_reserve_bucket(S->dst, rs_series, 0, hot)))
			st = NO_PAGE(S);
	} else {
		ds_series = stream_lock(S, dm, dt, ds, &sh);
	}
	S->gen++;
	cxm__cell_init_full(m, S->cell);
	if (!st && hot != TAG_EMPTY &&
	    !(st = cxm__loader_cell(L, r, m, S->cell, m->bins_tier == 0, NULL, NULL)) && ds_series)
		stream_add(S, ds_series, 0, hot);
	for (uint32_t k = 0; k < ctx->n_tiers && !st; k++) {
		uint32_t tagged;
		const int64_t n = ctx->tiers[k].buckets;
		if ((st = cxm__loader_get32(L, r, &tagged)))
			break;
		if (tagged > n || (top[k] == TAG_EMPTY && tagged)) {
			st = CORRUPT(ctx, "a series' tier %u has %u buckets", k, tagged);
			break;
		}
		for (uint32_t i = 0; i < tagged && !st; i++) {
			uint64_t e;
			if ((st = cxm__loader_get64(L, r, &e)))
				break;
			int64_t x = (int64_t)e;
			if (x < 0 || x > top[k] || x <= top[k] - n) {
				st = CORRUPT(ctx, "bucket %lld lies outside tier %u's ring", (long long)x, k);
				break;
			}
			uint32_t *mk = &S->mark[ctx->tier_base[k] + (uint32_t)(x % n)];
			if (*mk == S->gen) {
				st = CORRUPT(ctx, "bucket %lld of tier %u appears twice", (long long)x, k);
				break;
			}
			*mk = S->gen;
			if (rs_series && !cxm__series_reserve_bucket(S->dst, rs_series, k, x))
				st = NO_PAGE(S);
			else if (!(st = cxm__loader_cell(L, r, m, S->cell, k >= m->bins_tier, NULL, NULL)) &&
				 ds_series)
				stream_add(S, ds_series, k, x);
		}
	}
	if (!st && m->life_size && !(st = cxm__loader_cell(L, r, m, S->cell, true, NULL, NULL)) &&
	    ds_series && ds_series->life)
		cxm__cell_merge(ds_series->m, ds_series->life, S->cell);
	if (sh)
		pthread_mutex_unlock(&sh->lock);
	return st;
}

static cxm_status stream_pass(stream *S, const parsed *ps, int pass)
{
	loader *L = S->L;
	L->what = "series";
	for (size_t i = 0; i < ps->n_series; i++) {
		rbuf r = {ps->series[i].p, ps->series[i].len};
		uint32_t n;
		cxm_status st = cxm__loader_get32(L, &r, &n);
		if (st)
			return st;
		for (uint32_t j = 0; j < n; j++)
			if ((st = stream_record(S, &r, pass)))
				return st;
		if (r.left)
			return CORRUPT(L->ctx, "%zu bytes after the last series of a section", r.left);
	}
	return CXM_OK;
}

/* ---- the whole snapshot ---------------------------------------------------------------------- */

/* Merge a parsed snapshot (model in L->tmp, series still in bytes) into dst. */
static cxm_status merge_stream(cxm_context *dst, loader *L, const parsed *ps)
{
	cxm_context *src = L->tmp;
	idmap im;
	memset(&im, 0, sizeof im);
	stream S;
	memset(&S, 0, sizeof S);
	S.L = L;
	S.dst = dst;
	S.im = &im;
	struct snap_in cust = cxm__loader_section(L, "customers", ps->customers);
	cxm_status st = map_model(dst, src, &im);
	if (!st)
		st = cxm__customers_open_funnels(src, &cust);
	if (st)
		goto out;
	/* how many records, each bounded by the bytes it needs */
	size_t records = 0, least = 16 + 8 + 12 * (size_t)dst->n_tiers;
	for (size_t i = 0; i < ps->n_series; i++) {
		uint32_t n = ps->series[i].len >= 4 ? ld32(ps->series[i].p) : 0;
		if (n == 0 || n > (ps->series[i].len - 4) / least) {
			st = CORRUPT(dst, "a series section claims %u series in %zu bytes", n,
				     ps->series[i].len);
			goto out;
		}
		records += n;
	}
	if (records > dst->max_series) {
		st = cxm__fail(dst, CXM_ERR_LIMIT, "merge: %zu series; max_series is %llu", records,
			       (unsigned long long)dst->max_series);
		goto out;
	}
	S.keys_cap = 16;
	while (S.keys_cap < 2 * records + 1)
		S.keys_cap *= 2;
	S.cap_made = records ? records : 1;
	S.mark_bytes = sizeof(uint32_t) * dst->tier_base[dst->n_tiers];
	uint32_t nm = atomic_load(&src->model.n_metrics);
	for (uint32_t i = 0; i < nm; i++)
		if (src->model.metrics[i].cell_size > S.cell_bytes)
			S.cell_bytes = src->model.metrics[i].cell_size;
	S.keys = cxm__calloc(dst, S.keys_cap, sizeof(uint64_t));
	S.list = cxm__alloc(dst, sizeof(made) * S.cap_made);
	S.mark = cxm__calloc(dst, 1, S.mark_bytes);
	S.cell = cxm__alloc(dst, S.cell_bytes ? S.cell_bytes : 8);
	if (!S.keys || !S.list || !S.mark || !S.cell) {
		st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory");
		goto out;
	}
	/* pass 0, the journey state's allocations, then the customers: the
	 * only failure left after those is none, so until then everything can
	 * be given back */
	struct jmerge *jm = NULL;
	struct gov_merge *gm = NULL;
	struct drv_merge *dm = NULL;
	if ((st = stream_pass(&S, ps, 0)) ||
	    (st = cxm__journeys_merge_prepare(dst, src, im.journey, im.slot, &jm)) ||
	    (st = cxm__governor_merge_prepare(dst, src, &gm)) ||
	    (st = cxm__drivers_merge_prepare(dst, src, im.metric, im.touchpoint, &dm)) ||
	    (st = cxm__customers_read(dst, &cust, src, false, im.journey))) {
		cxm__drivers_merge_abort(dst, dm);
		cxm__governor_merge_abort(dst, gm);
		cxm__journeys_merge_abort(dst, jm);
		unreserve_all(dst);
		undo_made(dst, S.list, S.n_made);
		goto out;
	}
	S.gen = 0;
	memset(S.mark, 0, S.mark_bytes);
	(void)stream_pass(&S, ps, 1); /* checked by pass 0: cannot fail */
	cxm__journeys_merge_commit(dst, src, jm); /* cannot fail either */
	cxm__governor_merge_commit(dst, src, gm);  /* nor this */
	cxm__drivers_merge_commit(dst, src, dm);   /* nor this */
	unreserve_all(dst);
	uint32_t nt = atomic_load(&src->model.n_touchpoints);
	for (uint32_t i = 0; i < L->shard_n; i++) {
		shard *sh = &dst->shards[i % dst->n_shards];
		pthread_mutex_lock(&sh->lock);
		sh->accepted += L->shard_acc[i];
		sh->saturated += L->shard_sat[i];
		pthread_mutex_unlock(&sh->lock);
	}
	/* a shard that received a touchpoint's series moves to the watermark of
	 * the shard that held it */
	for (uint32_t tp = 0; tp < nt; tp++) {
		int64_t w = L->shard_wm[tp % L->shard_n];
		if (w == WATERMARK_NONE)
			continue;
		shard *sh = &dst->shards[im.touchpoint[tp] % dst->n_shards];
		pthread_mutex_lock(&sh->lock);
		if (sh->watermark == WATERMARK_NONE || w > sh->watermark)
			sh->watermark = w;
		pthread_mutex_unlock(&sh->lock);
	}
	if (L->wm_epoch != WATERMARK_NONE) {
		int64_t cur = atomic_load(&dst->wm_epoch);
		while ((cur == WATERMARK_NONE || L->wm_epoch > cur) &&
		       !atomic_compare_exchange_weak(&dst->wm_epoch, &cur, L->wm_epoch))
			;
	}
	for (int i = 0; i < CXM_STATUS_COUNT; i++)
		atomic_fetch_add(&dst->rejected[i], L->rejected[i]);
	st = S.late;
out:
	cxm__free(dst, S.keys, sizeof(uint64_t) * S.keys_cap);
	cxm__free(dst, S.list, sizeof(made) * S.cap_made);
	cxm__free(dst, S.mark, S.mark_bytes);
	cxm__free(dst, S.cell, S.cell_bytes ? S.cell_bytes : 8);
	idmap_free(dst, &im);
	return st;
}

cxm_status cxm__snapshot_merge(cxm_context *dst, const void *data, size_t len)
{
	loader L;
	parsed ps;
	cxm_status st = cxm__snapshot_parse(dst, data, len, &L, &ps, false);
	if (!st)
		st = merge_stream(dst, &L, &ps);
	cxm__snapshot_unparse(dst, &L, &ps);
	return st;
}

cxm_status cxm_snapshot_merge_mem(cxm_context *dst, const void *data, size_t len)
{
	if (!dst || (!data && len))
		return cxm__fail(dst, CXM_ERR_INVALID, "%s is NULL", !dst ? "dst" : "data");
	if (!data)
		return CORRUPT(dst, "empty input");
	return cxm__snapshot_merge(dst, data, len);
}

/* cxm_merge: the source's snapshot into a buffer of dst's memory. */
static int to_wbuf(const void *data, size_t len, void *payload)
{
	wbuf *b = payload;
	unsigned char *p = cxm__wb_take(b, len);
	if (!p)
		return -1;
	memcpy(p, data, len);
	return 0;
}

cxm_status cxm_merge(cxm_context *dst, cxm_context *src)
{
	if (!dst || !src)
		return cxm__fail(dst, CXM_ERR_INVALID, "%s is NULL", !dst ? "dst" : "src");
	if (dst == src)
		return cxm__fail(dst, CXM_ERR_INVALID, "merge: src and dst are the same context");
	if (dst->key[0] != src->key[0] || dst->key[1] != src->key[1])
		return cxm__fail(dst, CXM_ERR_EXISTS, "merge: the contexts have different customer keys");
	wbuf b = {dst, NULL, 0, 0, false};
	cxm_status st = cxm__snapshot_write(src, to_wbuf, &b);
	if (st) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", cxm_errmsg(src));
		if (b.oom)
			st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory to copy the source");
		else
			st = cxm__fail(dst, st, "merge: reading the source: %s", msg);
	} else {
		st = cxm__snapshot_merge(dst, b.p, b.len);
	}
	cxm__wb_free(&b);
	return st;
}
