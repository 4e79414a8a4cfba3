/* OpenMetrics / Prometheus text exposition of a context.
 *
 * What is exposed is each series' lifetime cell (series.life, folded by
 * feed.c next to the hot cell): counters must only grow, and the rings
 * forget. Both formats require a family's samples to be contiguous, so the
 * text is made in one pass per family; within it, metric by metric and
 * touchpoint by touchpoint, holding only that touchpoint's shard lock while
 * its series are formatted. Nothing is allocated: the text goes straight
 * into the caller's buffer, or through a stack buffer that is handed to the
 * caller's callback between series, with no lock held. */
#include "cxm_internal.h"
#include "series_index.h"
#include "sketch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* the callback's buffer: handed over once half full, between series */
#define EXPORT_CHUNK 16384
/* label text of one series cached when it fits; else written piecewise */
#define LABELS_CAP 2048

/* ---- output ----------------------------------------------------------------- */

typedef struct sink {
	char *buf;
	size_t cap, len; /* bytes held in buf */
	size_t total;    /* bytes of text produced */
	bool over;       /* buffer mode: the text no longer fits */
	bool failed;     /* callback mode: the callback refused */
	cxm_export_fn write;
	void *payload;
} sink;

static void flush(sink *k)
{
	if (k->write && k->len) {
		if (!k->failed && k->write(k->buf, k->len, k->payload))
			k->failed = true;
		k->len = 0;
	}
}

static void put(sink *k, const char *p, size_t n)
{
	k->total += n;
	if (k->write) {
		if (k->len + n > k->cap) {
			flush(k);
			if (n > k->cap) {
				if (!k->failed && k->write(p, n, k->payload))
					k->failed = true;
				return;
			}
		}
	} else if (k->over || k->len + n > k->cap) {
		k->over = true;
		return;
	}
	memcpy(k->buf + k->len, p, n);
	k->len += n;
}

/* Room for n bytes at the end of the text, or NULL (then use put). */
static inline char *reserve(sink *k, size_t n)
{
	if (!k->over && k->len + n <= k->cap)
		return k->buf + k->len;
	if (k->write) {
		flush(k);
		if (n <= k->cap)
			return k->buf;
	}
	return NULL;
}

static inline void commit(sink *k, size_t n)
{
	k->len += n;
	k->total += n;
}

static inline void puts_(sink *k, const char *s)
{
	put(k, s, strlen(s));
}

/* Label values: backslash, double quote and line feed escaped. */
static void put_escaped(sink *k, const char *s)
{
	size_t clean = strcspn(s, "\\\"\n");
	if (!s[clean]) {
		put(k, s, clean);
		return;
	}
	const char *run = s;
	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
		if (!esc)
			continue;
		put(k, run, (size_t)(s - run));
		put(k, esc, 2);
		run = s + 1;
	}
	put(k, run, (size_t)(s - run));
}

static size_t fmt_u64(char *out, uint64_t v)
{
	char t[20];
	size_t n = 0;
	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = t[n - 1 - i];
	return n;
}

/* The shortest of %.15g .. %.17g that reads back as v; integers as such. */
static size_t fmt_double(char *out, double v)
{
	if (isnan(v))
		return (size_t)sprintf(out, "NaN");
	if (isinf(v))
		return (size_t)sprintf(out, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) < 1e15) {
		if (v < 0) {
			out[0] = '-';
			return 1 + fmt_u64(out + 1, (uint64_t)-v);
		}
		return fmt_u64(out, (uint64_t)v);
	}
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	return (size_t)n;
}

/* ---- one exposition ---------------------------------------------------------- */

/* The caller's constant labels, then ours: metric, touchpoint, channel,
 * journey, step, segment, segment_value (a NULL value is left out). */
#define STD_LABELS 7
#define ALL_LABELS (CXM_EXPORT_MAX_LABELS + STD_LABELS)

typedef struct labels {
	char text[LABELS_CAP];
	size_t len;
	bool cached; /* text holds them all */
	size_t prefix_len; /* the group's part of text */
	bool prefix_cached;
	uint32_t n_const;
	const char *name[ALL_LABELS];
	const char *val[ALL_LABELS];
} labels;

static const char *const label_names[STD_LABELS] = {"metric", "touchpoint", "channel", "journey",
						    "step", "segment", "segment_value"};
static const char *const channel_names[] = {"", "phone", "chat", "email", "web",
					    "sms", "social", "in_person", "other"};

typedef struct expo {
	cxm_context *ctx;
	sink *k;
	bool om;      /* OpenMetrics */
	bool no_segs; /* CXM_EXPORT_NO_SEGMENTS */
	bool no_points; /* CXM_EXPORT_NO_POINTS */
	const double *bounds;
	uint32_t nb;
	char le[CXM_EXPORT_MAX_BUCKETS][32]; /* the bounds as label values */
	size_t le_len[CXM_EXPORT_MAX_BUCKETS];
	uint32_t cut[CXM_EXPORT_MAX_BUCKETS]; /* DURATION: bins below cut[j] count under bound j */
	bool under_in[CXM_EXPORT_MAX_BUCKETS];
	uint32_t n_tp, n_metrics, n_segs, n_slots;
	/* the family being written */
	const char *family; /* name without _total */
	size_t family_len;
	const char *help, *type, *unit;
	bool counter;
	bool begun;
	labels lab;
} expo;

static void family(expo *x, const char *name, const char *type, const char *unit, const char *help)
{
	x->family = name;
	x->family_len = strlen(name);
	x->type = type;
	x->unit = unit;
	x->help = help;
	x->counter = !strcmp(type, "counter");
	x->begun = false;
}

/* HELP and TYPE (and UNIT) lines, before the family's first sample. In the
 * Prometheus format a counter's metadata names the sample, _total and all. */
static void begin(expo *x)
{
	if (x->begun)
		return;
	x->begun = true;
	sink *k = x->k;
	const char *suffix = x->counter && !x->om ? "_total" : "";
	puts_(k, "# HELP ");
	puts_(k, x->family);
	puts_(k, suffix);
	put(k, " ", 1);
	puts_(k, x->help);
	puts_(k, "\n# TYPE ");
	puts_(k, x->family);
	puts_(k, suffix);
	put(k, " ", 1);
	puts_(k, x->type);
	put(k, "\n", 1);
	if (x->om && x->unit) {
		puts_(k, "# UNIT ");
		puts_(k, x->family);
		put(k, " ", 1);
		puts_(k, x->unit);
		put(k, "\n", 1);
	}
}

static void put_label_values(sink *k, const labels *l)
{
	bool first = true;
	for (uint32_t i = 0; i < l->n_const + STD_LABELS; i++) {
		if (!l->val[i])
			continue;
		if (!first)
			put(k, ",", 1);
		first = false;
		puts_(k, l->name[i]);
		put(k, "=\"", 2);
		put_escaped(k, l->val[i]);
		put(k, "\"", 1);
	}
}

/* Only the caller's constant labels (the context's own families). */
static void const_labels(expo *x)
{
	labels *l = &x->lab;
	memset(l->val + l->n_const, 0, sizeof(char *) * STD_LABELS);
	sink c = {.buf = l->text, .cap = sizeof l->text};
	put_label_values(&c, l);
	l->len = c.len;
	l->cached = !c.over;
}

/* The labels of a (metric, touchpoint) group; each series of the group then
 * adds its segment's with slot_labels. */
static void group_labels(expo *x, const metric *m, const touchpoint *t)
{
	const model *md = &x->ctx->model;
	labels *l = &x->lab;
	const char **v = l->val + l->n_const;
	memset(v, 0, sizeof(char *) * STD_LABELS);
	v[0] = m->name;
	v[1] = t->name;
	v[2] = channel_names[t->channel];
	if (t->journey != CXM_NONE) {
		v[3] = md->journeys[t->journey].name;
		v[4] = md->journeys[t->journey].steps[t->step];
	}
	sink c = {.buf = l->text, .cap = sizeof l->text};
	put_label_values(&c, l);
	l->prefix_len = c.len;
	l->prefix_cached = !c.over;
}

static void slot_labels(expo *x, uint32_t slot)
{
	const model *md = &x->ctx->model;
	labels *l = &x->lab;
	const char **v = l->val + l->n_const;
	v[5] = v[6] = NULL;
	l->len = l->prefix_len;
	l->cached = l->prefix_cached;
	if (!slot)
		return;
	for (uint32_t d = 0; d < x->n_segs; d++) {
		const segment *g = &md->segments[d];
		if (slot - 1 >= g->slot_base && slot - 1 < g->slot_base + g->max_values) {
			v[5] = g->name;
			v[6] = g->values[slot - 1 - g->slot_base];
			break;
		}
	}
	if (!l->cached)
		return;
	sink c = {.buf = l->text, .cap = sizeof l->text, .len = l->len};
	for (uint32_t i = 5; i < 7; i++) {
		put(&c, ",", 1);
		puts_(&c, label_names[i]);
		put(&c, "=\"", 2);
		put_escaped(&c, v[i]);
		put(&c, "\"", 1);
	}
	l->len = c.len;
	l->cached = !c.over;
}

/* One sample line: name[suffix]{labels[,extra="value"]} number. Built in
 * place when the labels are cached and the sink has room; else piece by
 * piece. Inlined, so that the lengths of the constant parts are known at
 * compile time. */
static inline __attribute__((always_inline)) void
sample(expo *x, const char *suffix, const char *extra, const char *extra_val, size_t extra_len,
       const char *num, size_t num_len)
{
	sink *k = x->k;
	begin(x);
	size_t sl = strlen(suffix), el = extra ? strlen(extra) : 0;
	const bool braces = x->lab.len || extra;
	size_t need = x->family_len + sl + (braces ? 2 : 0) + x->lab.len +
		      (extra ? (x->lab.len ? 1 : 0) + el + 3 + extra_len : 0) + 1 + num_len + 1;
	char *p = x->lab.cached ? reserve(k, need) : NULL;
	if (x->lab.cached && !p && !k->write) {
		put(k, NULL, need); /* out of room in the caller's buffer: only count */
		return;
	}
	if (p) {
		char *o = p;
		memcpy(o, x->family, x->family_len);
		o += x->family_len;
		memcpy(o, suffix, sl);
		o += sl;
		if (braces)
			*o++ = '{';
		memcpy(o, x->lab.text, x->lab.len);
		o += x->lab.len;
		if (extra) {
			if (x->lab.len)
				*o++ = ',';
			memcpy(o, extra, el);
			o += el;
			*o++ = '=';
			*o++ = '"';
			memcpy(o, extra_val, extra_len);
			o += extra_len;
			*o++ = '"';
		}
		if (braces)
			*o++ = '}';
		*o++ = ' ';
		memcpy(o, num, num_len);
		o += num_len;
		*o++ = '\n';
		commit(k, (size_t)(o - p));
		return;
	}
	/* the labels did not fit the cache: there are some */
	put(k, x->family, x->family_len);
	puts_(k, suffix);
	put(k, "{", 1);
	put_label_values(k, &x->lab);
	if (extra) {
		put(k, ",", 1);
		puts_(k, extra);
		put(k, "=\"", 2);
		put(k, extra_val, extra_len);
		put(k, "\"", 1);
	}
	put(k, "} ", 2);
	put(k, num, num_len);
	put(k, "\n", 1);
}

static inline __attribute__((always_inline)) void
sample_u64(expo *x, const char *suffix, const char *extra, const char *extra_val, size_t extra_len,
	   uint64_t v)
{
	char num[24];
	sample(x, suffix, extra, extra_val, extra_len, num, fmt_u64(num, v));
}

static void sample_double(expo *x, const char *suffix, double v)
{
	char num[40];
	sample(x, suffix, NULL, NULL, 0, num, fmt_double(num, v));
}

/* ---- families ------------------------------------------------------------------ */

enum fam { F_ANSWERS, F_RESPONSES, F_TOP, F_BOTTOM, F_NO_ANSWER, F_RATE, F_DURATION, F_AMOUNT,
	   F_VOLUME, F_SENTIMENT, F_SENTIMENT_POLARITY, F_OBS_NO_ANSWER };

static bool fam_takes(enum fam f, const metric *m)
{
	switch (m->def.kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX: return f <= F_BOTTOM || (f == F_NO_ANSWER && m->def.has_na);
	case CXM_KIND_RATE: return f == F_RATE || (f == F_OBS_NO_ANSWER && m->def.has_na);
	case CXM_KIND_DURATION: return f == F_DURATION || (f == F_OBS_NO_ANSWER && m->def.has_na);
	case CXM_KIND_AMOUNT: return f == F_AMOUNT || (f == F_OBS_NO_ANSWER && m->def.has_na);
	case CXM_KIND_VOLUME: return f == F_VOLUME;
	case CXM_KIND_SENTIMENT:
		return f == F_SENTIMENT || f == F_SENTIMENT_POLARITY ||
		       (f == F_OBS_NO_ANSWER && m->def.has_na);
	case CXM_KIND_DISTINCT: return false;
	}
	return false;
}

/* Score families: per question q, and per point for F_ANSWERS. */
static void emit_score(expo *x, enum fam f, const metric *m, const void *cell)
{
	const cxm_metric_def *d = &m->def;
	const bool index = d->kind == CXM_KIND_INDEX;
	if (f == F_NO_ANSWER) {
		sample_u64(x, "_total", NULL, NULL, 0, cxm__cell_na(m, cell));
		return;
	}
	for (uint32_t q = 0; q < d->questions; q++) {
		const uint64_t *pts = cxm__cell_points(m, cell, q);
		char qs[12];
		size_t ql = fmt_u64(qs, q);
		if (f == F_ANSWERS) {
			for (uint32_t i = 0; i < m->points; i++) {
				char ps[16];
				int32_t point = d->scale_min + (int32_t)i;
				size_t pl = point < 0 ? (ps[0] = '-', 1 + fmt_u64(ps + 1, (uint64_t)-(int64_t)point))
						      : fmt_u64(ps, (uint64_t)point);
				if (index) {
					/* two extra labels: question, then point */
					char ex[40];
					memcpy(ex, qs, ql);
					memcpy(ex + ql, "\",point=\"", 9);
					memcpy(ex + ql + 9, ps, pl);
					sample_u64(x, "_total", "question", ex, ql + 9 + pl, pts[i]);
				} else {
					sample_u64(x, "_total", "point", ps, pl, pts[i]);
				}
			}
			continue;
		}
		uint64_t n = 0, top = 0, bottom = 0;
		for (uint32_t i = 0; i < m->points; i++) {
			int32_t point = d->scale_min + (int32_t)i;
			n += pts[i];
			if (point >= d->top_min[q])
				top += pts[i];
			if (point <= d->bottom_max[q])
				bottom += pts[i];
		}
		uint64_t v = f == F_RESPONSES ? n : f == F_TOP ? top : bottom;
		if (index)
			sample_u64(x, "_total", "question", qs, ql, v);
		else
			sample_u64(x, "_total", NULL, NULL, 0, v);
	}
}

/* Where each bound falls among the metric's sketch bins. */
static void duration_cuts(expo *x, const metric *m)
{
	const sketch_params *sp = &m->sk;
	for (uint32_t j = 0; j < x->nb; j++) {
		double b = x->bounds[j];
		x->under_in[j] = b >= sp->lo;
		if (b < sp->lo) {
			x->cut[j] = 0;
		} else if (b >= sp->hi) {
			x->cut[j] = sp->nb;
		} else {
			uint32_t i = cxm__sketch_bin(sp, b);
			double b0 = sp->bounds[i], b1 = sp->bounds[i + 1];
			x->cut[j] = b >= 2 / (1 / b0 + 1 / b1) ? i + 1 : i; /* the bin's value */
		}
	}
}

static void emit_duration(expo *x, const void *cell, const cell_totals *t)
{
	uint64_t cum[CXM_EXPORT_MAX_BUCKETS];
	cxm__sketch_cumulative(cell, x->cut, x->under_in, x->nb, cum);
	for (uint32_t j = 0; j < x->nb; j++)
		sample_u64(x, "_bucket", "le", x->le[j], x->le_len[j], cum[j]);
	sample_u64(x, "_bucket", "le", "+Inf", 4, t->n);
	sample_u64(x, "_count", NULL, NULL, 0, t->n);
	sample_double(x, "_sum", t->sum);
}

static void emit_series(expo *x, enum fam f, const metric *m, const series *s)
{
	const void *c = s->life;
	cell_totals t;
	switch (f) {
	case F_ANSWERS:
	case F_RESPONSES:
	case F_TOP:
	case F_BOTTOM:
	case F_NO_ANSWER: emit_score(x, f, m, c); return;
	default: break;
	}
	cxm__cell_totals(m, c, &t);
	switch (f) {
	case F_RATE:
		sample_u64(x, "_total", "outcome", "yes", 3, t.yes);
		sample_u64(x, "_total", "outcome", "no", 2, t.n - t.yes);
		break;
	case F_DURATION: emit_duration(x, c, &t); break;
	case F_AMOUNT:
	case F_SENTIMENT:
		sample_u64(x, "_count", NULL, NULL, 0, t.n);
		sample_double(x, "_sum", t.sum);
		break;
	case F_VOLUME: sample_u64(x, "_total", NULL, NULL, 0, t.n); break;
	case F_SENTIMENT_POLARITY:
		sample_u64(x, "_total", "polarity", "positive", 8, t.positive);
		sample_u64(x, "_total", "polarity", "negative", 8, t.negative);
		break;
	case F_OBS_NO_ANSWER: sample_u64(x, "_total", NULL, NULL, 0, t.na); break;
	default: break;
	}
}

static const struct {
	const char *name, *type, *unit, *help;
} fams[] = {
	[F_ANSWERS] = {"cxm_score_answers", "counter", NULL,
		       "Answers of SCORE and INDEX metrics per point of the scale since the series began."},
	[F_RESPONSES] = {"cxm_score_responses", "counter", NULL,
			 "Answers of SCORE and INDEX metrics, all points, since the series began."},
	[F_TOP] = {"cxm_score_top_box", "counter", NULL,
		   "Answers in the metric's top box (promoters, satisfied, easy) since the series began."},
	[F_BOTTOM] = {"cxm_score_bottom_box", "counter", NULL,
		      "Answers in the metric's bottom box (detractors, dissatisfied, difficult) since the series began."},
	[F_NO_ANSWER] = {"cxm_score_no_answer", "counter", NULL,
			 "No-answer codes received by SCORE and INDEX metrics since the series began."},
	[F_RATE] = {"cxm_rate_outcomes", "counter", NULL,
		    "Yes and no observations of RATE metrics since the series began."},
	[F_DURATION] = {"cxm_duration_seconds", "histogram", "seconds",
			"Durations of DURATION metrics since the series began."},
	[F_AMOUNT] = {"cxm_amount", "summary", NULL,
		      "Count and sum of the values of AMOUNT metrics since the series began."},
	[F_OBS_NO_ANSWER] = {"cxm_observation_no_answer", "counter", NULL,
			     "No-answer codes received by DURATION, RATE, AMOUNT and SENTIMENT metrics since the series began."},
	[F_VOLUME] = {"cxm_volume", "counter", NULL,
		      "Interactions counted by VOLUME metrics since the series began."},
	[F_SENTIMENT] = {"cxm_sentiment", "summary", NULL,
			 "Count and sum of the scores (-1 .. 1) of SENTIMENT metrics since the series began."},
	[F_SENTIMENT_POLARITY] = {"cxm_sentiment_polarity", "counter", NULL,
				  "Positive and negative scores of SENTIMENT metrics since the series began."},
};

static void pass(expo *x, enum fam f)
{
	cxm_context *ctx = x->ctx;
	const model *md = &ctx->model;
	const uint32_t n_slots = x->no_segs ? 1 : x->n_slots;
	family(x, fams[f].name, fams[f].type, fams[f].unit, fams[f].help);
	for (uint32_t mid = 0; mid < x->n_metrics; mid++) {
		const metric *m = &md->metrics[mid];
		if (!fam_takes(f, m))
			continue;
		if (f == F_DURATION)
			duration_cuts(x, m);
		for (uint32_t t = 0; t < x->n_tp; t++) {
			shard *sh = &ctx->shards[t % ctx->n_shards];
			bool labelled = false;
			pthread_mutex_lock(&sh->lock);
			for (uint32_t slot = 0; slot < n_slots; slot++) {
				/* re-read after every unlock: feeders add rows and series
				 * (a series, once there, stays until the context is freed) */
				series **grp = cxm__index_group(ctx, sh, mid, t);
				if (!grp)
					break;
				const series *s = grp[slot];
				if (!s)
					continue;
				if (!labelled) {
					/* series live apart: ask for the group's headers at once */
					for (uint32_t j = slot + 1; j < n_slots; j++)
						if (grp[j])
							__builtin_prefetch(grp[j]);
					group_labels(x, m, &md->touchpoints[t]);
					labelled = true;
				}
				for (uint32_t j = slot + 1; j < n_slots; j++) {
					if (grp[j]) {
						__builtin_prefetch(grp[j]->life);
						break;
					}
				}
				slot_labels(x, slot);
				emit_series(x, f, m, s);
				if (x->k->write && x->k->len >= EXPORT_CHUNK / 2) {
					/* hand the text over with no lock held */
					pthread_mutex_unlock(&sh->lock);
					flush(x->k);
					pthread_mutex_lock(&sh->lock);
				}
				if (x->k->failed)
					break;
			}
			pthread_mutex_unlock(&sh->lock);
			if (x->k->failed)
				return;
		}
	}
}

/* An alert's sample: its name, escaped as a label value. */
static void alert_sample(void *arg, const char *name, bool firing)
{
	expo *x = arg;
	char esc[2 * 4096 + 1];
	size_t k = 0;
	for (const char *p = name; *p && k + 2 < sizeof esc; p++) {
		if (*p == '\\' || *p == '"')
			esc[k++] = '\\';
		esc[k++] = *p;
	}
	esc[k] = 0;
	sample_u64(x, "", "alert", esc, k, firing ? 1 : 0);
}

static void context_families(expo *x)
{
	cxm_context *ctx = x->ctx;
	uint64_t accepted = 0;
	for (uint32_t i = 0; i < ctx->n_shards; i++) {
		pthread_mutex_lock(&ctx->shards[i].lock);
		accepted += ctx->shards[i].accepted;
		pthread_mutex_unlock(&ctx->shards[i].lock);
	}
	const_labels(x);
	family(x, "cxm_interactions_accepted", "counter", NULL,
	       "Interactions accepted by the context since it was created.");
	sample_u64(x, "_total", NULL, NULL, 0, accepted);
	family(x, "cxm_interactions_rejected", "counter", NULL,
	       "Interactions rejected by the context since it was created, by reason.");
	for (int st = 1; st < CXM_STATUS_COUNT; st++) {
		if (st == CXM_ERR_REJECTED)
			continue; /* a batch's summary, not a reason */
		uint64_t n = atomic_load_explicit(&ctx->rejected[st], memory_order_relaxed);
		const char *r = cxm_strerror(st); /* plain words: nothing to escape */
		sample_u64(x, "_total", "reason", r, strlen(r), n);
	}
	if (atomic_load_explicit(&ctx->alerts, memory_order_acquire)) {
		family(x, "cxm_alert_firing", "gauge", NULL,
		       "Whether each of the context's alerts fires (1) or not (0), as of its last evaluation.");
		cxm__alerts_each(ctx, alert_sample, x);
	}
	if (atomic_load_explicit(&ctx->n_triggers, memory_order_acquire)) {
		cxm_stats s;
		memset(&s, 0, sizeof s);
		cxm__triggers_stats(ctx, &s);
		family(x, "cxm_trigger_events", "counter", NULL,
		       "Events the context's triggers matched since it was created: queued for the "
		       "host, or dropped because the queue was full.");
		sample_u64(x, "_total", "outcome", "queued", 6, s.events_queued);
		sample_u64(x, "_total", "outcome", "dropped", 7, s.events_dropped);
	}
}

/* The caller's options, checked (export_options.c), into x. */
static cxm_status check_options(cxm_context *ctx, const cxm_export_options *o, expo *x)
{
	export_opts eo;
	cxm_status st = cxm__export_options_check(ctx, o, &eo);
	if (st)
		return st;
	x->om = eo.om;
	x->no_segs = eo.no_segs;
	x->no_points = eo.no_points;
	x->bounds = eo.bounds;
	x->nb = eo.nb;
	x->lab.n_const = eo.n_labels;
	for (uint32_t i = 0; i < eo.n_labels; i++) {
		x->lab.name[i] = eo.label_names[i];
		x->lab.val[i] = eo.label_values[i];
	}
	for (uint32_t i = 0; i < STD_LABELS; i++)
		x->lab.name[eo.n_labels + i] = label_names[i];
	return CXM_OK;
}

static cxm_status run(cxm_context *ctx, const cxm_export_options *opts, sink *k)
{
	expo x;
	x.ctx = ctx;
	x.k = k;
	cxm_status st = check_options(ctx, opts, &x);
	if (st)
		return st;
	for (uint32_t j = 0; j < x.nb; j++)
		x.le_len[j] = fmt_double(x.le[j], x.bounds[j]);
	const model *md = &ctx->model;
	x.n_metrics = atomic_load_explicit(&md->n_metrics, memory_order_acquire);
	x.n_tp = atomic_load_explicit(&md->n_touchpoints, memory_order_acquire);
	x.n_segs = atomic_load_explicit(&md->n_segments, memory_order_acquire);
	/* slots beyond the values defined now hold no series yet */
	x.n_slots = 1;
	for (uint32_t d = 0; d < x.n_segs; d++) {
		const segment *g = &md->segments[d];
		uint32_t end = 1 + g->slot_base + atomic_load_explicit(&g->n_values, memory_order_acquire);
		if (end > x.n_slots)
			x.n_slots = end;
	}
	for (int f = x.no_points ? F_RESPONSES : F_ANSWERS; f <= F_OBS_NO_ANSWER && !k->failed; f++)
		pass(&x, (enum fam)f);
	if (!k->failed)
		context_families(&x);
	if (x.om)
		puts_(k, "# EOF\n");
	flush(k);
	if (k->failed)
		return cxm__fail(ctx, CXM_ERR_IO, "the write callback refused the text");
	return CXM_OK;
}

cxm_status cxm_export_text(size_t *out_len, cxm_context *ctx, const cxm_export_options *opts,
			   char *buf, size_t cap)
{
	if (!ctx || !out_len)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out_len");
	if (!buf && cap)
		return cxm__fail(ctx, CXM_ERR_INVALID, "buf is NULL with cap %zu", cap);
	sink k = {.buf = buf, .cap = cap ? cap - 1 : 0}; /* room for the NUL */
	cxm_status st = run(ctx, opts, &k);
	if (st)
		return st;
	*out_len = k.total;
	if (k.over || !cap)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "the text needs %zu bytes with its NUL; cap is %zu",
				 k.total + 1, cap);
	buf[k.len] = '\0';
	return CXM_OK;
}

cxm_status cxm_export_write(cxm_context *ctx, const cxm_export_options *opts, cxm_export_fn write,
			    void *payload)
{
	if (!ctx || !write)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "write");
	char chunk[EXPORT_CHUNK];
	sink k = {.buf = chunk, .cap = sizeof chunk, .write = write, .payload = payload};
	return run(ctx, opts, &k);
}
