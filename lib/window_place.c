/* Where a window lies: its end resolved against the watermark, and the
 * buckets of the tiers (or the whole hours) it covers, cut at the
 * coarsest tier's reach and flagged TRUNCATED there. Used by queries,
 * funnels, cohorts and churn. */
#include "cxm_internal.h"

/* ---- placing a window (queries, funnels, churn) ----------------------------------------- */

static int64_t round_up(int64_t x, int64_t w)
{
	return -floordiv64(-x, w) * w;
}

/* end_ms resolved against the watermark epoch wm (read once by the caller) */
static int64_t end_at(const cxm_context *ctx, int64_t end_ms, int64_t wm)
{
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	int64_t end = end_ms;
	if (end_ms == CXM_NOW || (end_ms == CXM_WATERMARK && wm == WATERMARK_NONE))
		end = cxm__now(ctx);
	else if (end_ms == CXM_WATERMARK)
		end = (wm + 1) * w0 - 1; /* the newest accepted interaction's finest bucket */
	if (end < 0)
		end = 0;
	if (end > CXM_TIME_MAX)
		end = CXM_TIME_MAX;
	return end;
}

int64_t cxm__window_end(const cxm_context *ctx, int64_t end_ms)
{
	return end_at(ctx, end_ms,
		      atomic_load_explicit(&((cxm_context *)ctx)->wm_epoch, memory_order_acquire));
}

/* The start of the oldest bucket tier k reaches behind the watermark wm
 * (an epoch of the finest tier): data older than it is held at a coarser
 * width, or (the last tier) no longer. */
static int64_t tier_reach(const cxm_context *ctx, uint32_t k, int64_t wm)
{
	const int64_t wk = ctx->tiers[k].bucket_ms;
	return (floordiv64(wm * ctx->tiers[0].bucket_ms, wk) - ctx->tiers[k].buckets + 1) * wk;
}

int64_t cxm__window_horizon(const cxm_context *ctx)
{
	int64_t wm = atomic_load_explicit(&((cxm_context *)ctx)->wm_epoch, memory_order_acquire);
	return wm == WATERMARK_NONE ? INT64_MIN : tier_reach(ctx, ctx->n_tiers - 1, wm);
}

void cxm__window_place(const cxm_context *ctx, int64_t end_ms, int64_t span_ms, uint32_t bins_tier,
		       window_span *out)
{
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	int64_t wm = atomic_load_explicit(&((cxm_context *)ctx)->wm_epoch, memory_order_acquire);
	int64_t end = end_at(ctx, end_ms, wm);
	int64_t b = (end / w0 + 1) * w0;
	int64_t span = span_ms > b ? b + w0 : span_ms; /* no earlier than time 0 matters */
	int64_t a = b - round_up(span, w0);
	uint32_t flags = 0;
	if (wm != WATERMARK_NONE) {
		int64_t T[CXM_MAX_TIERS];
		for (uint32_t k = 0; k < ctx->n_tiers; k++)
			T[k] = tier_reach(ctx, k, wm);
		uint32_t last = ctx->n_tiers - 1;
		for (uint32_t k = 1; k < ctx->n_tiers; k++) {
			if (a < T[k - 1])
				a = round_up(a, ctx->tiers[k].bucket_ms);
			if (b - 1 < T[k - 1])
				b = round_up(b, ctx->tiers[k].bucket_ms);
		}
		if (a < T[last]) {
			if (a < 0 ? T[last] > 0 : true)
				flags |= CXM_RESULT_TRUNCATED;
			a = T[last];
		}
		if (b < a)
			b = a;
	}
	if (a < 0)
		a = 0;
	out->a = a;
	out->b = b;
	/* what is kept per bins-tier bucket (a DURATION's distribution, a
	 * funnel's times): widened to whole buckets of it (a and b are
	 * already whole coarser buckets where the data is coarser) */
	const int64_t wb = ctx->tiers[bins_tier].bucket_ms;
	out->qa = floordiv64(a, wb) * wb;
	out->qb = round_up(b, wb);
	out->flags = flags;
}

void cxm__window_place_whole(const cxm_context *ctx, int64_t end_ms, int64_t span_ms, int64_t width,
			     window_span *out)
{
	const int64_t w0 = ctx->tiers[0].bucket_ms;
	int64_t end = cxm__window_end(ctx, end_ms);
	/* the finest buckets a query would cover, widened to whole `width`s */
	int64_t b = (end / w0 + 1) * w0;
	int64_t span = span_ms > b ? b + w0 : span_ms;
	int64_t a = floordiv64(b - round_up(span, w0), width) * width;
	b = round_up(b, width);
	uint32_t flags = 0;
	int64_t hz = cxm__window_horizon(ctx);
	if (hz != INT64_MIN && a < hz) {
		if (a < 0 ? hz > 0 : true)
			flags |= CXM_RESULT_TRUNCATED;
		a = round_up(hz, width);
	}
	if (a < 0)
		a = 0;
	if (b < a)
		b = a;
	out->a = out->qa = a;
	out->b = out->qb = b;
	out->flags = flags;
}
