/* The series index of each shard: finding, making, dropping and walking
 * series (layout and rules in series_index.h). */
#include "series_index.h"

static size_t grp_len(const cxm_context *ctx)
{
	return 1 + (size_t)ctx->max_segment_values;
}

static bool all_null(void *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i])
			return false;
	return true;
}

bool cxm__index_init(cxm_context *ctx, shard *sh)
{
	sh->index_rows = cxm__calloc(ctx, ctx->max_metrics, sizeof(series ***));
	return sh->index_rows != NULL;
}

void cxm__index_free(cxm_context *ctx, shard *sh)
{
	if (!sh->index_rows)
		return;
	for (uint32_t m = 0; m < ctx->max_metrics; m++) {
		series ***row = sh->index_rows[m];
		if (!row)
			continue;
		for (uint32_t t = 0; t < row_len(ctx); t++) {
			series **grp = row[t];
			if (!grp)
				continue;
			for (size_t s = 0; s < grp_len(ctx); s++)
				cxm__series_free(ctx, grp[s]);
			cxm__free(ctx, grp, sizeof(series *) * grp_len(ctx));
		}
		cxm__free(ctx, row, sizeof(series **) * row_len(ctx));
	}
	cxm__free(ctx, sh->index_rows, sizeof(series ***) * ctx->max_metrics);
	sh->index_rows = NULL;
}

series **cxm__index_make_group(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp, bool *made_row,
				bool *made_grp)
{
	series ***row = sh->index_rows[mid];
	if (!row) {
		if (!(row = cxm__calloc(ctx, row_len(ctx), sizeof(series **))))
			return NULL;
		sh->index_rows[mid] = row;
		*made_row = true;
	}
	series **grp = row[tp / ctx->n_shards];
	if (!grp) {
		if (!(grp = cxm__calloc(ctx, grp_len(ctx), sizeof(series *))))
			return NULL;
		row[tp / ctx->n_shards] = grp;
		*made_grp = true;
	}
	return grp;
}

series **cxm__index_ref(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp, uint32_t slot,
			bool create, bool *made_row, bool *made_grp)
{
	series **grp = cxm__index_group(ctx, sh, mid, tp);
	if (!grp && create)
		grp = cxm__index_make_group(ctx, sh, mid, tp, made_row, made_grp);
	return grp ? &grp[slot] : NULL;
}

cxm_status cxm__index_add(cxm_context *ctx, shard *sh, cxm_id mid, series **ref, uint64_t max)
{
	if (atomic_fetch_add_explicit(&ctx->n_series, 1, memory_order_relaxed) >= max) {
		atomic_fetch_sub_explicit(&ctx->n_series, 1, memory_order_relaxed);
		return CXM_ERR_LIMIT;
	}
	series *s = cxm__series_new(ctx, &ctx->model.metrics[mid], &sh->series_bytes);
	if (!s) {
		atomic_fetch_sub_explicit(&ctx->n_series, 1, memory_order_relaxed);
		return CXM_ERR_NO_MEMORY;
	}
	*ref = s;
	sh->n_series++;
	return CXM_OK;
}

void cxm__index_drop(cxm_context *ctx, shard *sh, series **ref)
{
	sh->n_series--;
	atomic_fetch_sub_explicit(&ctx->n_series, 1, memory_order_relaxed);
	cxm__series_free(ctx, *ref);
	*ref = NULL;
}

void cxm__index_prune(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp)
{
	series ***row = sh->index_rows[mid];
	if (!row)
		return;
	series ***at = &row[tp / ctx->n_shards];
	if (*at && all_null((void *const *)*at, grp_len(ctx))) {
		cxm__free(ctx, *at, sizeof(series *) * grp_len(ctx));
		*at = NULL;
	}
	if (all_null((void *const *)row, row_len(ctx))) {
		cxm__free(ctx, row, sizeof(series **) * row_len(ctx));
		sh->index_rows[mid] = NULL;
	}
}

void cxm__index_each(cxm_context *ctx, shard *sh, index_visit_fn fn, void *arg)
{
	for (uint32_t m = 0; sh->index_rows && m < ctx->max_metrics; m++) {
		series ***row = sh->index_rows[m];
		for (uint32_t t = 0; row && t < row_len(ctx); t++) {
			series **grp = row[t];
			for (size_t k = 0; grp && k < grp_len(ctx); k++)
				if (grp[k])
					fn(ctx, grp[k], arg);
		}
	}
}
