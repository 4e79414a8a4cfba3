/* The series in snapshots: the SERIES sections (each series' ids, then
 * its epochs and cells in the codec's encoding, a shard at a time under
 * its lock) and the STATS section (what each shard held when its series
 * were copied, and the context's rejection counters), docs/snapshot.md.
 * The series live in the context's shards, whose index no state owner
 * owns: this is whole-context persistence. It writes through the sink
 * snapshot.c hands it (a SERIES section is closed and emitted while a
 * shard is walked), and reads into snapshot.c's loader. */
#include "series_index.h"
#include "snapshot.h"

/* ---- writing ---------------------------------------------------------------------------- */

/* The (dimension, value) of series slot `slot` (1 + slot_base + value). */
static void slot_dim(const model *md, uint32_t nseg, uint32_t slot, uint32_t *d, uint32_t *v)
{
	*d = *v = CXM_NONE;
	if (slot == 0)
		return;
	for (uint32_t i = 0; i < nseg; i++) {
		const segment *g = &md->segments[i];
		if (slot > g->slot_base && slot <= g->slot_base + g->max_values) {
			*d = i;
			*v = slot - 1 - g->slot_base;
			return;
		}
	}
}

static void write_series(wbuf *b, cxm_context *ctx, const series *s, cxm_id mid, cxm_id tp,
			 uint32_t d, uint32_t v)
{
	cxm__wb_put32(b, mid);
	cxm__wb_put32(b, tp);
	cxm__wb_put32(b, d);
	cxm__wb_put32(b, v);
	cxm__series_body_write(b, ctx, s);
}

/* Where a shard's SERIES sections go: the snapshot's sink. */
typedef struct series_out {
	snap_emit_fn emit;
	void *sink;
} series_out;

/* Close the SERIES section in b (if it holds any series) and emit it with
 * the shard unlocked. */
static cxm_status flush_series(const series_out *k, wbuf *b, cxm_context *ctx, shard *sh,
			       uint32_t *count, bool relock)
{
	cxm_status st = CXM_OK;
	pthread_mutex_unlock(&sh->lock);
	if (b->oom)
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a series section");
	else if (*count) {
		st32(b->p, *count);
		st = k->emit(k->sink, b->p, b->len);
	}
	b->len = 0;
	cxm__wb_put32(b, 0); /* the next section's count, filled in when it closes */
	*count = 0;
	if (relock && !st)
		pthread_mutex_lock(&sh->lock);
	return st;
}

/* The series of shard i. They are all copied under one hold of the
 * shard's lock, with the shard's counters (into *cap), so that the counts
 * match the data; the sink writes after the lock is let go. Only a shard
 * of more than 2^32 - 1 series is copied in parts. */
static cxm_status write_shard(const series_out *k, wbuf *b, cxm_context *ctx, uint32_t i,
			      const snap_limits *lim, shard_cap *cap)
{
	const model *md = &ctx->model;
	uint32_t nm = lim->metrics, nt = lim->touchpoints, nseg = lim->segments;
	uint32_t slots = 1;
	for (uint32_t g = 0; g < nseg; g++)
		slots = md->segments[g].slot_base + md->segments[g].max_values + 1;
	shard *sh = &ctx->shards[i];
	b->len = 0;
	cxm__wb_put32(b, 0);
	uint32_t count = 0;
	cxm_status st;
	pthread_mutex_lock(&sh->lock);
	for (uint32_t mid = 0; mid < nm; mid++) {
		for (uint32_t tp = i; tp < nt; tp += ctx->n_shards) {
			for (uint32_t slot = 0; slot < slots; slot++) {
				/* looked up again each time: the lock may have been let go */
				series **grp = cxm__index_group(ctx, sh, mid, tp);
				if (!grp)
					break;
				if (!grp[slot])
					continue;
				uint32_t d, v;
				slot_dim(md, nseg, slot, &d, &v);
				if (slot && (d == CXM_NONE || v >= lim->values[d]))
					continue; /* a value newer than the model written */
				write_series(b, ctx, grp[slot], mid, tp, d, v);
				count++;
				if ((count == UINT32_MAX || b->oom) &&
				    (st = flush_series(k, b, ctx, sh, &count, true)))
					return st;
			}
			if (!cxm__index_has_metric(sh, mid))
				break;
		}
	}
	cap->watermark = sh->watermark;
	cap->accepted = sh->accepted;
	cap->saturated = sh->saturated;
	return flush_series(k, b, ctx, sh, &count, false);
}

cxm_status cxm__series_sections_write(cxm_context *ctx, wbuf *b, const snap_limits *lim,
				      shard_cap *cap, snap_emit_fn emit, void *sink)
{
	const series_out k = {emit, sink};
	cxm_status st = CXM_OK;
	for (uint32_t i = 0; i < ctx->n_shards && !st; i++)
		st = write_shard(&k, b, ctx, i, lim, &cap[i]);
	return st;
}

/* Written after the series, from what each shard held when its series
 * were copied: every series' buckets lie behind the watermarks written
 * here, and `accepted` counts what the series hold. */
void cxm__stats_write(wbuf *b, cxm_context *ctx, const shard_cap *cap)
{
	int64_t wm = atomic_load_explicit(&ctx->wm_epoch, memory_order_acquire);
	cxm__wb_put32(b, ctx->n_shards);
	for (uint32_t i = 0; i < ctx->n_shards; i++) {
		cxm__wb_put64(b, (uint64_t)cap[i].watermark);
		cxm__wb_put64(b, cap[i].accepted);
		cxm__wb_put64(b, cap[i].saturated);
		/* a feeder raises its shard's watermark before the context's */
		if (cap[i].watermark != WATERMARK_NONE &&
		    (wm == WATERMARK_NONE || cap[i].watermark / ctx->tiers[0].bucket_ms > wm))
			wm = cap[i].watermark / ctx->tiers[0].bucket_ms;
	}
	cxm__wb_put64(b, (uint64_t)wm);
	cxm__wb_put32(b, CXM_STATUS_COUNT);
	for (int i = 0; i < CXM_STATUS_COUNT; i++)
		cxm__wb_put64(b, atomic_load_explicit(&ctx->rejected[i], memory_order_relaxed));
}

/* ---- reading ---------------------------------------------------------------------------- */

cxm_status cxm__stats_read(loader *L, slice sl)
{
	cxm_context *ctx = L->ctx;
	rbuf r = {sl.p, sl.len};
	cxm_status st;
	L->what = "statistics";
	if ((st = cxm__loader_get32(L, &r, &L->shard_n)))
		return st;
	if (L->shard_n < 1 || L->shard_n > 64)
		return CORRUPT(ctx, "%u shards", L->shard_n);
	if (r.left < (size_t)L->shard_n * 24)
		return TRUNC(L);
	L->shard_bytes = (size_t)L->shard_n * 8;
	L->shard_wm = cxm__alloc(ctx, L->shard_bytes);
	L->shard_acc = cxm__alloc(ctx, L->shard_bytes);
	L->shard_sat = cxm__alloc(ctx, L->shard_bytes);
	if (!L->shard_wm || !L->shard_acc || !L->shard_sat)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory");
	int64_t top = WATERMARK_NONE;
	for (uint32_t i = 0; i < L->shard_n; i++) {
		const unsigned char *p = take(&r, 24);
		L->shard_wm[i] = (int64_t)ld64(p);
		L->shard_acc[i] = ld64(p + 8);
		L->shard_sat[i] = ld64(p + 16);
		int64_t w = L->shard_wm[i];
		if (w != WATERMARK_NONE && (w < 0 || w > CXM_TIME_MAX))
			return CORRUPT(ctx, "shard %u's watermark %lld is out of range", i, (long long)w);
		if (w == WATERMARK_NONE && L->shard_acc[i])
			return CORRUPT(ctx, "shard %u accepted interactions but has no watermark", i);
		if (w != WATERMARK_NONE && (top == WATERMARK_NONE || w > top))
			top = w;
	}
	uint64_t wm;
	if ((st = cxm__loader_get64(L, &r, &wm)))
		return st;
	L->wm_epoch = (int64_t)wm;
	/* the context's watermark epoch is at least every shard's; merges may
	 * raise it past them (a merged source's shards map elsewhere) */
	int64_t want = top == WATERMARK_NONE ? WATERMARK_NONE : top / ctx->tiers[0].bucket_ms;
	if (L->wm_epoch != WATERMARK_NONE &&
	    (L->wm_epoch < 0 || L->wm_epoch > CXM_TIME_MAX / ctx->tiers[0].bucket_ms))
		return CORRUPT(ctx, "watermark epoch %lld is out of range", (long long)L->wm_epoch);
	if (want != WATERMARK_NONE && (L->wm_epoch == WATERMARK_NONE || L->wm_epoch < want))
		return CORRUPT(ctx, "the watermark is behind a shard's");
	uint32_t nst;
	if ((st = cxm__loader_get32(L, &r, &nst)))
		return st;
	if (nst > 1024 || r.left != (size_t)nst * 8)
		return CORRUPT(ctx, "%u status counters in %zu bytes", nst, r.left);
	for (uint32_t i = 0; i < nst; i++) {
		uint64_t v = ld64(take(&r, 8));
		if (i < CXM_STATUS_COUNT)
			L->rejected[i] = v;
		else if (v)
			return cxm__fail(ctx, CXM_ERR_VERSION,
					 "snapshot: rejections under status %u, unknown to libcxm %s", i,
					 CXM_VERSION_STRING);
	}
	return CXM_OK;
}

/* Resolve the ids of a series record against a model; *slot on success. */
static cxm_status record_ids(loader *L, const cxm_context *c, uint32_t mid, uint32_t tp, uint32_t d,
			     uint32_t v, uint32_t *slot)
{
	const model *md = &c->model;
	if (mid >= atomic_load(&md->n_metrics) || tp >= atomic_load(&md->n_touchpoints))
		return CORRUPT(L->ctx, "a series names metric %u, touchpoint %u: not defined", mid, tp);
	if (d == CXM_NONE) {
		if (v != CXM_NONE)
			return CORRUPT(L->ctx, "a series has a segment value but no segment");
		*slot = 0;
		return CXM_OK;
	}
	if (d >= atomic_load(&md->n_segments) || v >= atomic_load(&md->segments[d].n_values))
		return CORRUPT(L->ctx, "a series names segment %u value %u: not defined", d, v);
	*slot = 1 + md->segments[d].slot_base + v;
	return CXM_OK;
}

cxm_status cxm__series_head_read(loader *L, rbuf *r, series_head *h)
{
	cxm_context *ctx = L->ctx;
	const unsigned char *p = take(r, 16 + 8 + 8 * (size_t)ctx->n_tiers);
	if (!p)
		return TRUNC(L);
	h->mid = ld32(p), h->tp = ld32(p + 4), h->d = ld32(p + 8), h->v = ld32(p + 12), h->slot = 0;
	cxm_status st = record_ids(L, L->tmp, h->mid, h->tp, h->d, h->v, &h->slot);
	if (st)
		return st;
	int64_t wm = L->wm_epoch;
	h->hot = (int64_t)ld64(p + 16);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		int64_t top = h->top[k] = (int64_t)ld64(p + 24 + 8 * k), w = ctx->tiers[k].bucket_ms;
		/* no bucket starts after the finest bucket of the watermark */
		if (top != TAG_EMPTY &&
		    (top < 0 || wm == WATERMARK_NONE || top > floordiv64(wm * ctx->tiers[0].bucket_ms, w)))
			return CORRUPT(ctx, "a series' tier %u reaches bucket %lld, past the watermark", k,
				       (long long)top);
	}
	if (h->hot != h->top[0])
		return CORRUPT(ctx, "a series' newest bucket is not its finest tier's newest");
	return CXM_OK;
}

cxm_status cxm__series_head_shard_check(const loader *L, const series_head *h)
{
	/* the saver's shard of the touchpoint accepted this series' times */
	int64_t swm = L->shard_wm[h->tp % L->shard_n];
	if (h->top[0] != TAG_EMPTY &&
	    (swm == WATERMARK_NONE || swm / L->ctx->tiers[0].bucket_ms < h->top[0]))
		return CORRUPT(L->ctx, "a series is newer than its shard's watermark");
	return CXM_OK;
}

/* The cells of a record into s, a new series of `into`, whose newest
 * epochs (checked by the caller) are hot and top. */
static cxm_status series_cells_read(loader *L, rbuf *r, cxm_context *into, series *s, int64_t hot,
				    const int64_t *top)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__series_cells_read(&in, into, s, hot, top);
	*r = in.r;
	return st;
}

/* A record that holds nothing (no bucket in any tier, and a lifetime cell,
 * if the kind has one, that is as cleared) is read past without making its
 * series: an empty series answers like an absent one, and this way a file
 * of empty records cannot make the loader allocate a whole series (up to
 * megabytes) for each 60 bytes. SKIPPED (consumed), CXM_OK (read it), or
 * an error. */
#define SKIPPED ((cxm_status)-1)
static cxm_status skip_if_empty(loader *L, rbuf *r, const metric *m, const int64_t *top)
{
	for (uint32_t k = 0; k < L->ctx->n_tiers; k++)
		if (top[k] != TAG_EMPTY)
			return CXM_OK;
	rbuf at = *r;
	cxm_status st;
	for (uint32_t k = 0; k < L->ctx->n_tiers; k++) {
		uint32_t tagged;
		if ((st = cxm__loader_get32(L, &at, &tagged)))
			return st;
		if (tagged)
			return CORRUPT(L->ctx, "a series' tier %u has %u buckets", k, tagged);
	}
	if (m->life_size) {
		size_t need = 2 * (size_t)m->cell_size;
		if (L->scratch_cap < need) {
			cxm__free(L->ctx, L->scratch, L->scratch_cap);
			L->scratch_cap = 0;
			if (!(L->scratch = cxm__alloc(L->ctx, need)))
				return cxm__fail(L->ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory");
			L->scratch_cap = need;
		}
		unsigned char *cell = L->scratch, *clear = L->scratch + m->cell_size;
		memset(L->scratch, 0, need);
		cxm__cell_init_full(m, (void *)cell);
		cxm__cell_init_full(m, (void *)clear);
		if ((st = cxm__loader_cell(L, &at, m, cell, true, NULL, NULL)))
			return st;
		if (m->def.kind == CXM_KIND_DURATION) /* compare the contents only */
			((sketch_cell *)(void *)clear)->bins = ((sketch_cell *)(void *)cell)->bins;
		if (memcmp(cell, clear, m->cell_size) != 0)
			return CXM_OK; /* lifetime totals to keep */
	}
	*r = at;
	return SKIPPED;
}

static cxm_status read_series(loader *L, rbuf *r)
{
	cxm_context *ctx = L->ctx, *tmp = L->tmp;
	series_head h;
	cxm_status st = cxm__series_head_read(L, r, &h);
	if (st)
		return st;
	const metric *m = &tmp->model.metrics[h.mid];
	if ((st = skip_if_empty(L, r, m, h.top)) != CXM_OK)
		return st == SKIPPED ? CXM_OK : st;
	shard *sh = &tmp->shards[h.tp % tmp->n_shards];
	bool made = false;
	series **ref = cxm__index_ref(tmp, sh, h.mid, h.tp, h.slot, true, &made, &made);
	if (!ref)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a series index");
	if (*ref)
		return CORRUPT(ctx, "series (metric %u, touchpoint %u, segment %u, value %u) appears twice",
			       h.mid, h.tp, h.d, h.v);
	/* owned by the private context from here: freed with it on failure */
	st = cxm__index_add(tmp, sh, h.mid, ref, ctx->max_series);
	if (st == CXM_ERR_LIMIT)
		return cxm__fail(ctx, st, "snapshot: more series than max_series (%llu)",
				 (unsigned long long)ctx->max_series);
	if (st)
		return cxm__fail(ctx, st, "snapshot: no memory for a series");
	series *s = *ref;
	if ((st = series_cells_read(L, r, tmp, s, h.hot, h.top)))
		return st;
	return cxm__series_head_shard_check(L, &h);
}

cxm_status cxm__series_sections_read(loader *L, const parsed *ps)
{
	cxm_context *ctx = L->ctx;
	cxm_status st;
	L->what = "series";
	for (size_t i = 0; i < ps->n_series; i++) {
		rbuf r = {ps->series[i].p, ps->series[i].len};
		uint32_t n;
		if ((st = cxm__loader_get32(L, &r, &n)))
			return st;
		/* a record is at least its ids, epochs and bucket counts */
		size_t least = 16 + 8 + 12 * (size_t)ctx->n_tiers;
		if (n == 0 || n > r.left / least)
			return CORRUPT(ctx, "a series section claims %u series in %zu bytes", n, r.left);
		for (uint32_t j = 0; j < n; j++)
			if ((st = read_series(L, &r)))
				return st;
		if (r.left)
			return CORRUPT(ctx, "%zu bytes after the last series of a section", r.left);
	}
	return CXM_OK;
}
