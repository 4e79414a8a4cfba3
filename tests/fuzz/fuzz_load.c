/* libFuzzer target: a snapshot from the fuzzer is loaded into an empty
 * context, and merged into one that defines the corpus's model. Whatever
 * is accepted is then used as a host would use it (fuzz_exercise): fed
 * with the corpus's customers and new ones on touchpoints of every
 * channel, journey steps in order, out of order and backwards; swept;
 * queried every way; saved, and the save loaded again; merged into itself
 * and into another context, and those saved and loaded again. A save of
 * an accepted state that does not load is a fault: the target aborts. A
 * fuzzing build of the library skips the checksums (CXM_FUZZING), so the
 * inputs reach the parser's checks of lengths, counts and ids. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define MAXM 64 /* metrics, touchpoints, journeys considered */
#define MAXD 8  /* segment dimensions */

const char *fuzz_stage_name(int stage)
{
	static const char *names[FUZZ_ST_COUNT] = {
		"none", "load", "merge", "query", "feed-known", "feed-new", "sweep", "customers",
		"save", "reload", "self-merge", "merge-other", "save-merged", "done"};
	return stage >= 0 && stage < FUZZ_ST_COUNT ? names[stage] : "?";
}

static int text_sink(const char *data, size_t len, void *payload)
{
	(void)data;
	*(size_t *)payload += len;
	return 0;
}

/* What the loaded model holds, read through the public API. */
typedef struct minfo {
	uint32_t nj, nt, nm, ns;
	cxm_metric_def def[MAXM];
	uint32_t steps[MAXM];
	cxm_channel chan[MAXM];
	cxm_id tj[MAXM], ts[MAXM];
	uint32_t nvals[MAXD];
	cxm_id jtp[MAXM]; /* journey touchpoints by (journey, step) */
	uint32_t n_jtp;
	cxm_id solo; /* a touchpoint on no journey, or CXM_NONE */
	int64_t now, wm;
} minfo;

static uint32_t cap32(uint32_t v, uint32_t c)
{
	return v < c ? v : c;
}

static void model_read(cxm_context *ctx, const cxm_config *cfg, minfo *mi)
{
	memset(mi, 0, sizeof *mi);
	cxm_count(&mi->nj, ctx, CXM_OBJECT_JOURNEY);
	cxm_count(&mi->nt, ctx, CXM_OBJECT_TOUCHPOINT);
	cxm_count(&mi->nm, ctx, CXM_OBJECT_METRIC);
	cxm_count(&mi->ns, ctx, CXM_OBJECT_SEGMENT);
	mi->nj = cap32(mi->nj, MAXM);
	mi->nt = cap32(mi->nt, MAXM);
	mi->nm = cap32(mi->nm, MAXM);
	mi->ns = cap32(mi->ns, MAXD);
	for (cxm_id m = 0; m < mi->nm; m++) {
		cxm_metric_def_init(&mi->def[m], sizeof mi->def[m]);
		if (cxm_metric_get(&mi->def[m], ctx, m))
			mi->def[m].kind = CXM_KIND_VOLUME; /* fed no measure */
	}
	for (cxm_id j = 0; j < mi->nj; j++)
		cxm_journey_steps(&mi->steps[j], ctx, j);
	mi->solo = CXM_NONE;
	for (cxm_id t = 0; t < mi->nt; t++) {
		cxm_touchpoint_get(&mi->chan[t], &mi->tj[t], &mi->ts[t], ctx, t);
		if (mi->tj[t] == CXM_NONE && mi->solo == CXM_NONE)
			mi->solo = t;
	}
	/* journey touchpoints in (journey, step) order */
	for (cxm_id j = 0; j < mi->nj; j++)
		for (uint32_t s = 0; s < mi->steps[j] && s < 256; s++)
			for (cxm_id t = 0; t < mi->nt; t++)
				if (mi->tj[t] == j && mi->ts[t] == s && mi->n_jtp < MAXM)
					mi->jtp[mi->n_jtp++] = t;
	for (cxm_id d = 0; d < mi->ns; d++)
		cxm_segment_values(&mi->nvals[d], ctx, d);
	mi->now = cfg->clock ? cfg->clock(cfg->clock_opaque) : FUZZ_NOW;
	cxm_stats st = {.size = sizeof st};
	mi->wm = -1;
	if (cxm_stats_get(&st, ctx) == CXM_OK)
		mi->wm = st.watermark_ms;
}

/* ---- queries --------------------------------------------------------------------------- */

static void query_one(cxm_context *ctx, const minfo *mi, cxm_query *q)
{
	cxm_result r = {.size = sizeof r};
	cxm_query_run(&r, ctx, q);
	cxm_metric_kind kind = q->metric < mi->nm ? mi->def[q->metric].kind : CXM_KIND_VOLUME;
	if (kind == CXM_KIND_DURATION) {
		double qs[4] = {0, 0.1, 0.5, 1}, out[4];
		cxm_query_quantiles(out, ctx, q, qs, 4);
	} else if (kind == CXM_KIND_SCORE || kind == CXM_KIND_INDEX) {
		uint64_t d[CXM_MAX_POINTS];
		size_t n = 0;
		cxm_query_distribution(d, CXM_MAX_POINTS, &n, ctx, q, 0);
		if (mi->def[q->metric].questions > 1)
			cxm_query_distribution(d, CXM_MAX_POINTS, &n, ctx, q,
					       mi->def[q->metric].questions - 1);
	}
}

/* Every metric over every scope (full), or only over all touchpoints, and
 * every funnel; the exposition; the statistics. */
static void query_all(cxm_context *ctx, const minfo *mi, int full)
{
	const int64_t ends[3] = {CXM_NOW, mi->wm >= 0 ? mi->wm : mi->now, CXM_TIME_MAX};
	const int64_t spans[3] = {3 * DAY_MS, 2 * HOUR_MS, CXM_TIME_MAX};
	for (cxm_id m = 0; m < mi->nm; m++) {
		for (int w = 0; w < 3; w++) {
			cxm_query q = CXM_QUERY_INIT;
			q.metric = m;
			q.end_ms = ends[w];
			q.span_ms = spans[w];
			query_one(ctx, mi, &q);
			if (w == 2 || !full)
				continue;
			q.scope = CXM_SCOPE_TOUCHPOINT;
			for (cxm_id t = 0; t < mi->nt; t++) {
				q.id = t;
				query_one(ctx, mi, &q);
			}
			q.scope = CXM_SCOPE_JOURNEY;
			for (cxm_id j = 0; j < mi->nj; j++) {
				q.id = j;
				query_one(ctx, mi, &q);
				q.scope = CXM_SCOPE_STEP;
				q.step = mi->steps[j] ? mi->steps[j] - 1 : 0;
				query_one(ctx, mi, &q);
				q.scope = CXM_SCOPE_JOURNEY;
			}
			q.scope = CXM_SCOPE_CHANNEL;
			for (cxm_id c = 1; c <= 8; c++) {
				q.id = c;
				query_one(ctx, mi, &q);
			}
			q.scope = CXM_SCOPE_ALL;
			for (cxm_id d = 0; d < mi->ns; d++)
				for (uint32_t v = 0; v < mi->nvals[d]; v++) {
					q.segment = d;
					q.segment_value = v;
					query_one(ctx, mi, &q);
				}
		}
	}
	/* the journey state (JOURNEYS section): funnels, their times, churn */
	for (cxm_id j = 0; j < mi->nj; j++) {
		for (int w = 0; w < 1 + full; w++) {
			cxm_funnel_query fq = CXM_FUNNEL_QUERY_INIT;
			fq.journey = j;
			fq.end_ms = ends[w];
			fq.span_ms = spans[w];
			cxm_funnel f = {.size = sizeof f};
			cxm_funnel_step steps[256] = {{.size = sizeof steps[0]}};
			cxm_funnel_run(&f, steps, 256, ctx, &fq);
			double qs[3] = {0, 0.5, 1}, out[3];
			cxm_funnel_quantiles(out, ctx, &fq, CXM_NONE, qs, 3);
			cxm_funnel_quantiles(out, ctx, &fq, 0, qs, 3);
			for (uint32_t c = 1; c <= 8; c++) {
				fq.channel = c;
				if (!full && c > 1)
					break;
				cxm_funnel_run(&f, steps, 256, ctx, &fq);
				cxm_funnel_quantiles(out, ctx, &fq, CXM_NONE, qs, 3);
			}
			fq.channel = 0;
			for (cxm_id d = 0; d < mi->ns && full; d++)
				for (uint32_t v = 0; v < mi->nvals[d]; v++) {
					fq.segment = d;
					fq.segment_value = v;
					cxm_funnel_run(&f, steps, 256, ctx, &fq);
					cxm_funnel_quantiles(out, ctx, &fq, CXM_NONE, qs, 3);
				}
		}
		cxm_journey_options o;
		cxm_journey_options_init(&o, sizeof o);
		cxm_journey_get_options(&o, ctx, j);
	}
	for (cxm_id m = 0; m < mi->nm; m++) {
		if (mi->def[m].kind != CXM_KIND_DISTINCT)
			continue;
		cxm_churn c = {.size = sizeof c};
		cxm_churn_rate(&c, ctx, m, CXM_NOW, DAY_MS, DAY_MS);
		cxm_churn_rate(&c, ctx, m, mi->wm >= 0 ? mi->wm : mi->now, HOUR_MS, 7 * DAY_MS);
	}
	cxm_stats st = {.size = sizeof st};
	cxm_stats_get(&st, ctx);
	size_t n = 0;
	cxm_export_write(ctx, NULL, text_sink, &n);
	if (!full)
		return;
	cxm_export_options eo;
	cxm_export_options_init(&eo, sizeof eo);
	eo.format = CXM_FORMAT_PROMETHEUS;
	cxm_export_write(ctx, &eo, text_sink, &n);
}

/* ---- feeding --------------------------------------------------------------------------- */

/* One interaction of `who` (NULL: anonymous) on tp at t; with k % 3 == 0
 * a valid measure of every metric, else none (so that a measure the model
 * refuses cannot keep the journey step from being fed); segment values on
 * one in four. */
static void feed_one(cxm_context *ctx, const minfo *mi, const char *who, cxm_id tp, int64_t t,
		     int k)
{
	cxm_measure ms[64];
	size_t n = 0;
	for (cxm_id m = 0; m < mi->nm && k % 3 == 0; m++) {
		const cxm_metric_def *d = &mi->def[m];
		/* any scale (the kind may not use it): no overflow */
		int64_t span = (int64_t)d->scale_max - d->scale_min + 1;
		int points = span < 1 || span > CXM_MAX_POINTS ? 1 : (int)span;
		switch (d->kind) {
		case CXM_KIND_SCORE:
		case CXM_KIND_INDEX:
			for (uint32_t q = 0; q < d->questions && q < 8 && n < 64; q++)
				ms[n++] = (cxm_measure){m, q, (double)d->scale_min + (k + (int)q) % points};
			break;
		case CXM_KIND_DURATION:
			if (n < 64)
				ms[n++] = (cxm_measure){m, 0, k % 4 == 0 ? 0.0 : (double)(k * 37 % 5000) / 10};
			break;
		case CXM_KIND_RATE:
			if (n < 64)
				ms[n++] = (cxm_measure){m, 0, (double)(k & 1)};
			break;
		case CXM_KIND_AMOUNT:
			if (n < 64)
				ms[n++] = (cxm_measure){m, 0, k % 5 == 0 ? 1e15 : k * 1.25 - 10};
			break;
		default: break;
		}
	}
	uint32_t segs[MAXD];
	for (cxm_id d = 0; d < mi->ns && k % 4 == 0; d++) {
		uint32_t v = (uint32_t)(k + (int)d) % (mi->nvals[d] + 1);
		segs[d] = v == mi->nvals[d] ? CXM_NONE : v;
	}
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.customer = who;
	ix.customer_len = who ? strlen(who) : 0;
	ix.segments = segs;
	ix.n_segments = k % 4 == 0 ? mi->ns : 0;
	ix.measures = ms;
	ix.n_measures = n;
	cxm_feed(ctx, &ix);
}

/* The journey touchpoints in one of three orders: 0 forward, 1 backward,
 * 2 out of order (odd places first); a standalone touchpoint between. */
static void feed_walk(cxm_context *ctx, const minfo *mi, const char *who, int order, int64_t *t,
		      int64_t dt, int *k)
{
	uint32_t n = mi->n_jtp;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t at = order == 0 ? i : order == 1 ? n - 1 - i : i < n / 2 ? 2 * i + 1 : 2 * (i - n / 2);
		if (at >= n)
			at = n - 1;
		feed_one(ctx, mi, who, mi->jtp[at], *t, (*k)++);
		*t += dt;
		if (i == n / 2 && mi->solo != CXM_NONE)
			feed_one(ctx, mi, who, mi->solo, *t, (*k)++);
	}
	int kk = (*k)++;
	if (!n && mi->nt)
		feed_one(ctx, mi, who, (cxm_id)(kk % (int)mi->nt), *t, kk);
	/* a step behind the latest (within the usual lateness), then step 0 */
	if (n) {
		feed_one(ctx, mi, who, mi->jtp[(uint32_t)kk % n], *t - 20 * 60000, kk);
		feed_one(ctx, mi, who, mi->jtp[0], *t, (*k)++);
	}
}

static void known(int i, char id[16])
{
	fuzz_known_id(i, id);
}

static void feed_all(cxm_context *ctx, const minfo *mi, fuzz_probe *pr, int64_t *t, int round)
{
	int k = round * 1000;
	char id[16];
	const int64_t dt = 2000;
	pr->stage = FUZZ_ST_FEED_KNOWN;
	for (int i = 0; i < FUZZ_KNOWN_CUSTOMERS; i++) {
		known(i, id);
		feed_walk(ctx, mi, id, (i + round) % 3, t, dt, &k);
	}
	pr->stage = FUZZ_ST_FEED_NEW;
	for (int i = 0; i < 6; i++) {
		snprintf(id, sizeof id, "new%d", i + 10 * round);
		feed_walk(ctx, mi, id, i % 3, t, dt, &k);
	}
	for (cxm_id tp = 0; tp < mi->nt; tp++)
		feed_one(ctx, mi, NULL, tp, *t, k++);
}

/* ---- the whole exercise ---------------------------------------------------------------- */

static int verdict(fuzz_probe *pr, int v, cxm_context *ctx, cxm_status st)
{
	pr->status = (int)st;
	snprintf(pr->msg, sizeof pr->msg, "%s: %s", cxm_strerror((int)st), cxm_errmsg(ctx));
	return v;
}

/* Save ctx and load the bytes into a new context of cfg; *out keeps it
 * (or NULL). */
static int save_reload(cxm_context *ctx, const cxm_config *cfg, fuzz_probe *pr,
		       cxm_context **out)
{
	unsigned char *p = NULL;
	size_t len = 0;
	if (out)
		*out = NULL;
	int rc = fuzz_save(ctx, &p, &len);
	if (rc == CXM_ERR_NO_MEMORY)
		return FUZZ_NO_MEMORY;
	if (rc)
		return verdict(pr, FUZZ_SAVE_FAILED, ctx, (cxm_status)rc);
	int stage = pr->stage;
	pr->stage = stage == FUZZ_ST_SAVE ? FUZZ_ST_RELOAD : stage;
	cxm_context *r = NULL;
	cxm_status st = cxm_context_new(&r, cfg);
	if (st == CXM_OK)
		st = cxm_snapshot_load_mem(r, p, len);
	free(p);
	if (st == CXM_ERR_NO_MEMORY) {
		cxm_context_free(r);
		return FUZZ_NO_MEMORY;
	}
	if (st) {
		int v = verdict(pr, FUZZ_RELOAD_FAILED, r, st);
		cxm_context_free(r);
		return v;
	}
	if (out)
		*out = r;
	else
		cxm_context_free(r);
	return FUZZ_OK;
}

int fuzz_exercise(cxm_context *ctx, const cxm_config *cfg, fuzz_probe *probe, int merges)
{
	fuzz_probe local;
	fuzz_probe *pr = probe ? probe : &local;
	minfo *mi = malloc(sizeof *mi);
	if (!mi)
		abort();
	pr->stage = FUZZ_ST_QUERY;
	model_read(ctx, cfg, mi);
	query_all(ctx, mi, 0);
	/* feeding starts a little behind the watermark, and stays within the
	 * accepted skew ahead of the clock */
	int64_t t = mi->wm >= 0 ? mi->wm - 120000 : mi->now - HOUR_MS;
	if (t < 0)
		t = 0;
	feed_all(ctx, mi, pr, &t, 0);
	pr->stage = FUZZ_ST_SWEEP;
	uint64_t closed = 0;
	cxm_journey_sweep(&closed, ctx, CXM_NOW);
	cxm_journey_sweep(&closed, ctx, t);
	feed_all(ctx, mi, pr, &t, 1);
	pr->stage = FUZZ_ST_SWEEP;
	const int64_t later[4] = {t + DAY_MS, t + 60 * DAY_MS, 0, CXM_TIME_MAX};
	for (int i = 0; i < 4; i++)
		cxm_journey_sweep(&closed, ctx, later[i] > CXM_TIME_MAX ? CXM_TIME_MAX : later[i]);
	feed_all(ctx, mi, pr, &t, 2);
	pr->stage = FUZZ_ST_CUSTOMERS;
	char id[16];
	for (int i = 0; i < FUZZ_KNOWN_CUSTOMERS; i++) {
		known(i, id);
		int64_t seen;
		cxm_customer_last_seen(&seen, ctx, id, strlen(id));
		if (i % 4 == 1)
			cxm_customer_churn(ctx, id, strlen(id), t);
		if (i % 7 == 2)
			cxm_customer_forget(ctx, id, strlen(id));
	}
	pr->stage = FUZZ_ST_QUERY;
	model_read(ctx, cfg, mi);
	query_all(ctx, mi, 1);

	pr->stage = FUZZ_ST_SAVE;
	cxm_context *other = NULL;
	int v = save_reload(ctx, cfg, pr, merges ? &other : NULL);
	if (v || !merges)
		goto out;
	/* the context's own snapshot merged into it: everything doubles */
	pr->stage = FUZZ_ST_SELF_MERGE;
	{
		unsigned char *p = NULL;
		size_t len = 0;
		if (fuzz_save(ctx, &p, &len) == 0)
			cxm_snapshot_merge_mem(ctx, p, len);
		free(p);
	}
	query_all(ctx, mi, 0);
	/* and into another context (a copy of it): doubled again */
	pr->stage = FUZZ_ST_MERGE_OTHER;
	cxm_merge(other, ctx);
	{
		minfo *mo = malloc(sizeof *mo);
		if (!mo)
			abort();
		model_read(other, cfg, mo);
		int64_t t2 = mo->wm >= 0 ? mo->wm : t;
		feed_all(other, mo, pr, &t2, 3);
		pr->stage = FUZZ_ST_MERGE_OTHER;
		cxm_journey_sweep(&closed, other, t2 + DAY_MS);
		query_all(other, mo, 0);
		free(mo);
	}
	pr->stage = FUZZ_ST_SAVE_MERGED;
	if ((v = save_reload(ctx, cfg, pr, NULL)) || (v = save_reload(other, cfg, pr, NULL)))
		goto out;
	pr->stage = FUZZ_ST_DONE;
out:
	cxm_context_free(other);
	free(mi);
	return v;
}

static void check(int v, const fuzz_probe *pr, const char *what)
{
	if (v == FUZZ_SAVE_FAILED || v == FUZZ_RELOAD_FAILED) {
		fprintf(stderr, "fuzz_load: after an accepted %s, at %s: %s %s\n", what,
			fuzz_stage_name(pr->stage),
			v == FUZZ_SAVE_FAILED ? "saving failed:" : "the save does not load:", pr->msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cxm_config cfg = fuzz_config();
	cxm_context *a = NULL, *b = NULL;
	fuzz_probe pr;
	memset(&pr, 0, sizeof pr);
	if (cxm_context_new(&a, &cfg) || cxm_context_new(&b, &cfg))
		abort();
	if (cxm_snapshot_load_mem(a, data, size) == CXM_OK) {
		check(fuzz_exercise(a, &cfg, &pr, 1), &pr, "load");
		cxm_context_free(a);
		if (cxm_context_new(&a, &cfg) || cxm_snapshot_load_mem(a, data, size))
			abort(); /* it loaded once */
		cxm_snapshot_merge_mem(a, data, size);
	}
	fuzz_define(b);
	if (cxm_snapshot_merge_mem(b, data, size) == CXM_OK)
		check(fuzz_exercise(b, &cfg, &pr, 1), &pr, "merge");
	if (cxm_merge(b, a) == CXM_OK) {
		minfo *mi = malloc(sizeof *mi);
		if (!mi)
			abort();
		model_read(b, &cfg, mi);
		query_all(b, mi, 0);
		free(mi);
	}
	cxm_context_free(a);
	cxm_context_free(b);
	return 0;
}
