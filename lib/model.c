/* Journeys, steps, touchpoints, metrics, segments: names -> dense ids.
 *
 * Every array is allocated at its limit when the context is created (or the
 * segment defined), so a definition never moves what readers may be using:
 * a reader checks an id against the published count (acquire) and then
 * reads an entry that no longer changes.
 *
 * This file owns the model: its arrays and name indexes, made and freed,
 * and the definitions that fill them (under def_lock), with the checks of
 * what a caller defines (names, cxm_metric_def). Look-ups by name or id,
 * and the checks of ids, scopes and measure tests other calls give, are
 * model_lookup.c's; the index's lock-free search is model.h's. */
#include "model.h"

#include <math.h>

/* ---- names ---------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t c = 8;
	while (c < n)
		c <<= 1;
	return c;
}

static cxm_status table_init(cxm_context *ctx, name_table *t, uint32_t max)
{
	t->cap = pow2_at_least(max * 2);
	t->slots = cxm__calloc(ctx, t->cap, sizeof(*t->slots));
	return t->slots ? CXM_OK : CXM_ERR_NO_MEMORY;
}

static void table_free(cxm_context *ctx, name_table *t)
{
	cxm__free(ctx, (void *)t->slots, sizeof(*t->slots) * t->cap);
	t->slots = NULL;
}

/* Under def_lock; the entry for id must be complete. */
static void table_insert(name_table *t, const char *name, uint32_t id)
{
	uint32_t mask = t->cap - 1;
	uint32_t i = cxm__name_hash(name) & mask;
	while (atomic_load_explicit(&t->slots[i], memory_order_relaxed))
		i = (i + 1) & mask;
	atomic_store_explicit(&t->slots[i], id + 1, memory_order_release);
}

/* A name is non-empty UTF-8 (shortest form, no surrogates) without control
 * characters, and not longer than max_name_len. */
cxm_status cxm__check_name(const cxm_context *ctx, const char *name, const char *what)
{
	if (!name)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s name is NULL", what);
	const unsigned char *s = (const unsigned char *)name;
	size_t len = 0;
	while (s[len]) {
		if (len >= ctx->max_name_len)
			return cxm__fail(ctx, CXM_ERR_TOO_LONG, "%s name is longer than %u bytes", what,
					 ctx->max_name_len);
		len++;
	}
	if (len == 0)
		return cxm__fail(ctx, CXM_ERR_ENCODING, "%s name is empty", what);
	for (size_t i = 0; i < len;) {
		unsigned c = s[i];
		uint32_t cp;
		size_t n;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return cxm__fail(ctx, CXM_ERR_ENCODING,
						 "%s name has a control character at byte %zu", what, i);
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + n >= len)
			goto bad;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		if (cp >= 0x80 && cp < 0xa0)
			return cxm__fail(ctx, CXM_ERR_ENCODING,
					 "%s name has a control character at byte %zu", what, i);
		i += n + 1;
		continue;
	bad:
		return cxm__fail(ctx, CXM_ERR_ENCODING, "%s name is not valid UTF-8 at byte %zu", what,
				 i);
	}
	return CXM_OK;
}

/* Under def_lock: refuse a duplicate name or a full table; else *id is the
 * next id of the table. */
static cxm_status next_id(cxm_context *ctx, const name_table *t, const void *base, name_of_fn name_of,
			  const char *name, _Atomic uint32_t *count, uint32_t max, const char *what,
			  const char *limit, uint32_t *id)
{
	uint32_t dup;
	if (cxm__name_find(t, base, name_of, name, &dup))
		return cxm__fail(ctx, CXM_ERR_EXISTS, "%s '%s' is already defined", what, name);
	*id = atomic_load_explicit(count, memory_order_relaxed);
	if (*id >= max)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "%s (%u) reached", limit, max);
	return CXM_OK;
}

/* ---- model lifetime --------------------------------------------------------- */

cxm_status cxm__model_init(cxm_context *ctx)
{
	model *md = &ctx->model;
	memset(md, 0, sizeof *md);
	md->journeys = cxm__calloc(ctx, ctx->max_journeys, sizeof(journey));
	md->touchpoints = cxm__calloc(ctx, ctx->max_touchpoints, sizeof(touchpoint));
	md->metrics = cxm__calloc(ctx, ctx->max_metrics, sizeof(metric));
	md->segments = cxm__calloc(ctx, ctx->max_segments, sizeof(segment));
	md->volume_metrics = cxm__calloc(ctx, ctx->max_metrics, sizeof(cxm_id));
	md->distinct_metrics = cxm__calloc(ctx, ctx->max_metrics, sizeof(cxm_id));
	if (!md->journeys || !md->touchpoints || !md->metrics || !md->segments ||
	    !md->volume_metrics || !md->distinct_metrics || table_init(ctx, &md->idx_journeys, ctx->max_journeys) ||
	    table_init(ctx, &md->idx_touchpoints, ctx->max_touchpoints) ||
	    table_init(ctx, &md->idx_metrics, ctx->max_metrics) ||
	    table_init(ctx, &md->idx_segments, ctx->max_segments)) {
		cxm__model_free(ctx);
		return CXM_ERR_NO_MEMORY;
	}
	return CXM_OK;
}

static void journey_free(cxm_context *ctx, journey *j)
{
	if (j->steps) {
		for (uint32_t k = 0; k < j->n_steps; k++)
			cxm__strfree(ctx, j->steps[k]);
		cxm__free(ctx, j->steps, sizeof(char *) * j->n_steps);
	}
	cxm__strfree(ctx, j->name);
}

static void segment_free(cxm_context *ctx, segment *g)
{
	if (g->values) {
		uint32_t n = atomic_load(&g->n_values);
		for (uint32_t k = 0; k < n; k++)
			cxm__strfree(ctx, g->values[k]);
		cxm__free(ctx, g->values, sizeof(char *) * g->max_values);
	}
	if (g->index.slots)
		table_free(ctx, &g->index);
	cxm__strfree(ctx, g->name);
}

static void metric_free(cxm_context *ctx, metric *m)
{
	if (m->sk.bounds)
		cxm__free(ctx, m->sk.bounds, cxm__sketch_params_bytes(&m->sk));
	cxm__strfree(ctx, m->name);
}

void cxm__model_free(cxm_context *ctx)
{
	model *md = &ctx->model;
	if (md->journeys) {
		for (uint32_t i = 0; i < atomic_load(&md->n_journeys); i++)
			journey_free(ctx, &md->journeys[i]);
		cxm__free(ctx, md->journeys, sizeof(journey) * ctx->max_journeys);
	}
	if (md->touchpoints) {
		for (uint32_t i = 0; i < atomic_load(&md->n_touchpoints); i++)
			cxm__strfree(ctx, md->touchpoints[i].name);
		cxm__free(ctx, md->touchpoints, sizeof(touchpoint) * ctx->max_touchpoints);
	}
	if (md->metrics) {
		for (uint32_t i = 0; i < atomic_load(&md->n_metrics); i++)
			metric_free(ctx, &md->metrics[i]);
		cxm__free(ctx, md->metrics, sizeof(metric) * ctx->max_metrics);
	}
	if (md->segments) {
		for (uint32_t i = 0; i < atomic_load(&md->n_segments); i++)
			segment_free(ctx, &md->segments[i]);
		cxm__free(ctx, md->segments, sizeof(segment) * ctx->max_segments);
	}
	cxm__free(ctx, md->volume_metrics, sizeof(cxm_id) * ctx->max_metrics);
	cxm__free(ctx, md->distinct_metrics, sizeof(cxm_id) * ctx->max_metrics);
	if (md->idx_journeys.slots)
		table_free(ctx, &md->idx_journeys);
	if (md->idx_touchpoints.slots)
		table_free(ctx, &md->idx_touchpoints);
	if (md->idx_metrics.slots)
		table_free(ctx, &md->idx_metrics);
	if (md->idx_segments.slots)
		table_free(ctx, &md->idx_segments);
	memset(md, 0, sizeof *md);
}

/* ---- journeys and touchpoints ------------------------------------------------ */

cxm_status cxm_journey_define(cxm_id *out, cxm_context *ctx, const char *name,
			      const char *const *steps, size_t n_steps)
{
	if (!ctx || !out || !steps)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL",
				 !ctx ? "ctx" : !out ? "out" : "steps");
	if (n_steps == 0)
		return cxm__fail(ctx, CXM_ERR_INVALID, "a journey needs at least one step");
	cxm_status st = cxm__check_name(ctx, name, "journey");
	if (st)
		return st;
	if (n_steps > ctx->max_steps)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "journey '%s' has %zu steps; max_steps is %u", name,
				 n_steps, ctx->max_steps);
	for (size_t k = 0; k < n_steps; k++) {
		if ((st = cxm__check_name(ctx, steps[k], "step")))
			return st;
		for (size_t j = 0; j < k; j++)
			if (strcmp(steps[j], steps[k]) == 0)
				return cxm__fail(ctx, CXM_ERR_EXISTS,
						 "journey '%s' names step '%s' twice", name, steps[k]);
	}
	model *md = &ctx->model;
	pthread_mutex_lock(&ctx->def_lock);
	uint32_t id = 0;
	if ((st = next_id(ctx, &md->idx_journeys, md->journeys, cxm__name_of_journey, name,
			  &md->n_journeys, ctx->max_journeys, "journey", "max_journeys", &id)))
		goto out;
	journey *j = &md->journeys[id];
	j->name = cxm__strdup(ctx, name);
	j->steps = cxm__calloc(ctx, n_steps, sizeof(char *));
	j->n_steps = (uint32_t)n_steps;
	bool ok = j->name && j->steps;
	for (size_t k = 0; ok && k < n_steps; k++)
		ok = (j->steps[k] = cxm__strdup(ctx, steps[k])) != NULL;
	if (!ok) {
		if (!j->steps)
			j->n_steps = 0;
		journey_free(ctx, j);
		memset(j, 0, sizeof *j);
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating journey '%s' failed", name);
		goto out;
	}
	atomic_store_explicit(&md->n_journeys, id + 1, memory_order_release);
	table_insert(&md->idx_journeys, j->name, id);
	*out = id;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

cxm_status cxm_touchpoint_define(cxm_id *out, cxm_context *ctx, const char *name,
				 cxm_channel channel, cxm_id journey_id, cxm_id step)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	cxm_status st = cxm__check_name(ctx, name, "touchpoint");
	if (st)
		return st;
	if (channel < CXM_CHANNEL_PHONE || channel > CXM_CHANNEL_OTHER)
		return cxm__fail(ctx, CXM_ERR_INVALID, "channel %d is not a cxm_channel", (int)channel);
	model *md = &ctx->model;
	if (journey_id != CXM_NONE) {
		if (journey_id >= atomic_load_explicit(&md->n_journeys, memory_order_acquire))
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey %u is not defined", journey_id);
		if (step >= md->journeys[journey_id].n_steps)
			return cxm__fail(ctx, CXM_ERR_UNKNOWN_ID, "journey '%s' has no step %u",
					 md->journeys[journey_id].name, step);
	}
	pthread_mutex_lock(&ctx->def_lock);
	uint32_t id = 0;
	if ((st = next_id(ctx, &md->idx_touchpoints, md->touchpoints, cxm__name_of_touchpoint, name,
			  &md->n_touchpoints, ctx->max_touchpoints, "touchpoint", "max_touchpoints", &id)))
		goto out;
	touchpoint *t = &md->touchpoints[id];
	if (!(t->name = cxm__strdup(ctx, name))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating touchpoint '%s' failed", name);
		goto out;
	}
	t->channel = channel;
	t->journey = journey_id;
	t->step = journey_id == CXM_NONE ? CXM_NONE : step;
	atomic_store_explicit(&md->n_touchpoints, id + 1, memory_order_release);
	table_insert(&md->idx_touchpoints, t->name, id);
	*out = id;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

/* ---- metrics -------------------------------------------------------------- */

cxm_status cxm_metric_def_init(cxm_metric_def *def, size_t size)
{
	if (!def)
		return cxm__fail(NULL, CXM_ERR_INVALID, "def is NULL");
	if (size < CXM_MIN_METRIC_DEF_SIZE)
		return cxm__fail(NULL, CXM_ERR_VERSION, "cxm_metric_def size %zu is smaller than %zu",
				 size, CXM_MIN_METRIC_DEF_SIZE);
	memset(def, 0, size);
	def->size = size;
	return CXM_OK;
}

static void set_score(cxm_metric_def *d, int32_t lo, int32_t hi, int32_t top, int32_t bottom,
		      cxm_headline h)
{
	d->kind = CXM_KIND_SCORE;
	d->headline = h;
	d->scale_min = lo;
	d->scale_max = hi;
	d->questions = 1;
	d->top_min[0] = top;
	d->bottom_max[0] = bottom;
}

cxm_status cxm_metric_preset(cxm_metric_def *def, cxm_preset preset)
{
	if (!def)
		return cxm__fail(NULL, CXM_ERR_INVALID, "def is NULL");
	cxm_status st = cxm__check_out(NULL, def, CXM_MIN_METRIC_DEF_SIZE, "cxm_metric_def");
	if (st)
		return st;
	cxm_metric_def d;
	memset(&d, 0, sizeof d);
	d.size = sizeof d;
	switch (preset) {
	case CXM_PRESET_NPS: set_score(&d, 0, 10, 9, 6, CXM_HEADLINE_NET); break;
	case CXM_PRESET_CSAT5: set_score(&d, 1, 5, 4, 2, CXM_HEADLINE_TOP_BOX); break;
	case CXM_PRESET_CSAT7: set_score(&d, 1, 7, 6, 2, CXM_HEADLINE_TOP_BOX); break;
	case CXM_PRESET_CSAT10: set_score(&d, 1, 10, 9, 2, CXM_HEADLINE_TOP_BOX); break;
	case CXM_PRESET_CES7: set_score(&d, 1, 7, 5, 3, CXM_HEADLINE_MEAN); break;
	case CXM_PRESET_CES5: set_score(&d, 1, 5, 4, 2, CXM_HEADLINE_MEAN); break;
	case CXM_PRESET_CXI:
		set_score(&d, 1, 10, 9, 6, CXM_HEADLINE_NET);
		d.kind = CXM_KIND_INDEX;
		d.questions = 3;
		for (int q = 1; q < 3; q++) {
			d.top_min[q] = 9;
			d.bottom_max[q] = 6;
		}
		break;
	case CXM_PRESET_DURATION:
		d.kind = CXM_KIND_DURATION;
		d.headline = CXM_HEADLINE_MEAN;
		d.duration_lo = 0.001;
		d.duration_hi = 604800;
		d.relative_error = 0.01;
		break;
	case CXM_PRESET_RATE:
		d.kind = CXM_KIND_RATE;
		d.headline = CXM_HEADLINE_SHARE;
		break;
	case CXM_PRESET_AMOUNT:
		d.kind = CXM_KIND_AMOUNT;
		d.headline = CXM_HEADLINE_SUM;
		break;
	case CXM_PRESET_VOLUME:
		d.kind = CXM_KIND_VOLUME;
		d.headline = CXM_HEADLINE_COUNT;
		break;
	case CXM_PRESET_DISTINCT:
		d.kind = CXM_KIND_DISTINCT;
		d.headline = CXM_HEADLINE_COUNT;
		d.precision = 12;
		break;
	case CXM_PRESET_SENTIMENT:
		d.kind = CXM_KIND_SENTIMENT;
		d.headline = CXM_HEADLINE_MEAN;
		d.questions = 1; /* the thresholds are question 0's boxes */
		d.top_min[0] = 5; /* VADER's thresholds: positive from 0.05 … */
		d.bottom_max[0] = -5; /* … negative to -0.05 */
		break;
	default:
		return cxm__fail(NULL, CXM_ERR_INVALID, "preset %d is not a cxm_preset", (int)preset);
	}
	cxm__put_out(def, &d, sizeof d);
	return CXM_OK;
}

static bool headline_fits(cxm_metric_kind k, cxm_headline h)
{
	switch (k) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX:
		return h == CXM_HEADLINE_NET || h == CXM_HEADLINE_TOP_BOX ||
		       h == CXM_HEADLINE_BOTTOM_BOX || h == CXM_HEADLINE_MEAN || h == CXM_HEADLINE_COUNT;
	case CXM_KIND_DURATION:
		return h == CXM_HEADLINE_MEAN || h == CXM_HEADLINE_SUM || h == CXM_HEADLINE_COUNT;
	case CXM_KIND_RATE:
		return h == CXM_HEADLINE_SHARE || h == CXM_HEADLINE_COUNT;
	case CXM_KIND_AMOUNT:
		return h == CXM_HEADLINE_SUM || h == CXM_HEADLINE_MEAN || h == CXM_HEADLINE_COUNT;
	case CXM_KIND_VOLUME:
	case CXM_KIND_DISTINCT:
		return h == CXM_HEADLINE_COUNT;
	case CXM_KIND_SENTIMENT:
		return h == CXM_HEADLINE_MEAN || h == CXM_HEADLINE_NET || h == CXM_HEADLINE_TOP_BOX ||
		       h == CXM_HEADLINE_BOTTOM_BOX || h == CXM_HEADLINE_COUNT;
	}
	return false;
}

static cxm_headline default_headline(cxm_metric_kind k)
{
	switch (k) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX: return CXM_HEADLINE_NET;
	case CXM_KIND_DURATION:
	case CXM_KIND_SENTIMENT: return CXM_HEADLINE_MEAN;
	case CXM_KIND_RATE: return CXM_HEADLINE_SHARE;
	case CXM_KIND_AMOUNT: return CXM_HEADLINE_SUM;
	case CXM_KIND_VOLUME:
	case CXM_KIND_DISTINCT: break;
	}
	return CXM_HEADLINE_COUNT;
}

/* Validate a definition and derive the metric's layout into *m. */
static cxm_status metric_prepare(cxm_context *ctx, const cxm_metric_def *d, metric *m)
{
	if (d->kind < CXM_KIND_SCORE || d->kind > CXM_KIND_SENTIMENT)
		return cxm__fail(ctx, CXM_ERR_INVALID, "kind %d is not a cxm_metric_kind", (int)d->kind);
	cxm_headline h = d->headline == CXM_HEADLINE_DEFAULT ? default_headline(d->kind) : d->headline;
	if (!headline_fits(d->kind, h))
		return cxm__fail(ctx, CXM_ERR_INVALID, "headline %d does not fit kind %d",
				 (int)d->headline, (int)d->kind);
	memset(m, 0, sizeof *m);
	m->def = *d;
	m->def.size = sizeof m->def;
	m->headline = h;
	if (d->has_na && (d->kind == CXM_KIND_VOLUME || d->kind == CXM_KIND_DISTINCT))
		return cxm__fail(ctx, CXM_ERR_INVALID, "a %s metric takes no \"no answer\" code (has_na)",
				 d->kind == CXM_KIND_VOLUME ? "VOLUME" : "DISTINCT");
	switch (d->kind) {
	case CXM_KIND_SCORE:
	case CXM_KIND_INDEX: {
		uint32_t q = d->questions;
		if (d->kind == CXM_KIND_SCORE && q != 1)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "a SCORE metric has 1 question, not %u", q);
		if (q < 1 || q > CXM_MAX_QUESTIONS)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "questions %u outside 1 .. %d", q,
					 CXM_MAX_QUESTIONS);
		int64_t points = (int64_t)d->scale_max - d->scale_min + 1;
		if (points < 2 || points > CXM_MAX_POINTS)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "scale %d .. %d must have 2 .. %d points",
					 d->scale_min, d->scale_max, CXM_MAX_POINTS);
		for (uint32_t i = 0; i < q; i++)
			if (!(d->scale_min <= d->bottom_max[i] && d->bottom_max[i] < d->top_min[i] &&
			      d->top_min[i] <= d->scale_max))
				return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
						 "question %u: need scale_min <= bottom_max < top_min <= scale_max (%d <= %d < %d <= %d)",
						 i, d->scale_min, d->bottom_max[i], d->top_min[i], d->scale_max);
		if (d->has_na && d->na_value >= d->scale_min && d->na_value <= d->scale_max)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "na_value %d lies on the scale %d .. %d",
					 d->na_value, d->scale_min, d->scale_max);
		m->points = (uint32_t)points;
		m->cells = q * m->points;
		m->cell_size = sizeof(uint64_t) * (1 + m->cells); /* no-answer count, then counts */
		break;
	}
	case CXM_KIND_DURATION: {
		double lo = d->duration_lo, hi = d->duration_hi, a = d->relative_error;
		if (!isfinite(lo) || !isfinite(hi) || !isfinite(a))
			return cxm__fail(ctx, CXM_ERR_NOT_FINITE, "duration range or error is not finite");
		if (!(lo >= 1e-9 && hi > lo))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "need 1e-9 <= duration_lo < duration_hi");
		if (!(a >= 0.001 && a <= 0.1))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "relative_error %s outside 0.001 .. 0.1", cxm__num(a).s);
		uint32_t nb = cxm__sketch_bins_for(lo, hi, a);
		if (nb > SKETCH_MAX_BINS)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "duration range %g .. %g at %g needs %u bins; at most %u", lo, hi,
					 a, nb, SKETCH_MAX_BINS);
		break;
	}
	case CXM_KIND_RATE:
		if (d->has_na && (d->na_value == 0 || d->na_value == 1))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "na_value %d is a rate's value (0 or 1)", d->na_value);
		/* count, yes count, then with has_na the no-answer count */
		m->cell_size = (d->has_na ? 3 : 2) * sizeof(uint64_t);
		break;
	case CXM_KIND_AMOUNT:
		m->cell_size = sizeof(uint64_t) + 4 * sizeof(double) + (d->has_na ? sizeof(uint64_t) : 0);
		break;
	case CXM_KIND_SENTIMENT:
		if (!(-100 <= d->bottom_max[0] && d->bottom_max[0] < d->top_min[0] && d->top_min[0] <= 100))
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "a SENTIMENT metric's thresholds, in hundredths: need -100 <= bottom_max[0] "
					 "< top_min[0] <= 100, not %d and %d",
					 d->bottom_max[0], d->top_min[0]);
		if (d->has_na && d->na_value >= -1 && d->na_value <= 1)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE,
					 "na_value %d lies on the sentiment scale -1 .. 1", d->na_value);
		/* n, four moments, positive and negative counts, then with has_na
		 * the no-answer count */
		m->cell_size = sizeof(uint64_t) + 4 * sizeof(double) + (d->has_na ? 3 : 2) * sizeof(uint64_t);
		break;
	case CXM_KIND_VOLUME: m->cell_size = sizeof(uint64_t); break;
	case CXM_KIND_DISTINCT:
		if (d->precision < 4 || d->precision > 16)
			return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "precision %u outside 4 .. 16",
					 d->precision);
		m->cell_size = sizeof(hll_cell) + ((size_t)1 << d->precision);
		break;
	}
	return CXM_OK;
}

static void *ctx_alloc_hook(void *opaque, size_t n)
{
	return cxm__alloc(opaque, n);
}

cxm_status cxm_metric_define(cxm_id *out, cxm_context *ctx, const char *name,
			     const cxm_metric_def *def)
{
	if (!ctx || !out || !def)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : !out ? "out" : "def");
	cxm_status st = cxm__check_struct(ctx, def, CXM_MIN_METRIC_DEF_SIZE, sizeof(cxm_metric_def),
					  "cxm_metric_def");
	if (st)
		return st;
	if (def->reserved0 || def->reserved[0] || def->reserved[1] || def->reserved[2] ||
	    def->reserved[3])
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "cxm_metric_def.reserved must be zero");
	if ((st = cxm__check_name(ctx, name, "metric")))
		return st;
	metric m;
	if ((st = metric_prepare(ctx, def, &m)))
		return st;
	model *md = &ctx->model;
	pthread_mutex_lock(&ctx->def_lock);
	uint32_t id = 0;
	if ((st = next_id(ctx, &md->idx_metrics, md->metrics, cxm__name_of_metric, name,
			  &md->n_metrics, ctx->max_metrics, "metric", "max_metrics", &id)))
		goto out;
	if (def->kind == CXM_KIND_DURATION) {
		st = cxm__sketch_params_init(&m.sk, def->duration_lo, def->duration_hi,
					     def->relative_error, ctx_alloc_hook, ctx);
		if (st) {
			st = cxm__fail(ctx, st, "allocating metric '%s' failed", name);
			goto out;
		}
		m.cell_size = cxm__sketch_cell_size(&m.sk);
	}
	cxm__metric_layout(ctx, &m);
	if (!(m.name = cxm__strdup(ctx, name))) {
		metric_free(ctx, &m);
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating metric '%s' failed", name);
		goto out;
	}
	md->metrics[id] = m;
	if (def->kind == CXM_KIND_VOLUME || def->kind == CXM_KIND_DISTINCT) {
		/* fed by every interaction: published in its list after the metric */
		bool vol = def->kind == CXM_KIND_VOLUME;
		_Atomic uint32_t *count = vol ? &md->n_volume : &md->n_distinct;
		uint32_t nv = atomic_load_explicit(count, memory_order_relaxed);
		(vol ? md->volume_metrics : md->distinct_metrics)[nv] = id;
		atomic_store_explicit(&md->n_metrics, id + 1, memory_order_release);
		atomic_store_explicit(count, nv + 1, memory_order_release);
	} else {
		atomic_store_explicit(&md->n_metrics, id + 1, memory_order_release);
	}
	table_insert(&md->idx_metrics, md->metrics[id].name, id);
	*out = id;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

/* ---- segments -------------------------------------------------------------- */

cxm_status cxm_segment_define(cxm_id *out, cxm_context *ctx, const char *name, uint32_t max_values)
{
	if (!ctx || !out)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "out");
	cxm_status st = cxm__check_name(ctx, name, "segment");
	if (st)
		return st;
	if (max_values == 0)
		return cxm__fail(ctx, CXM_ERR_OUT_OF_RANGE, "segment '%s': max_values is 0", name);
	model *md = &ctx->model;
	pthread_mutex_lock(&ctx->def_lock);
	uint32_t id = 0;
	if ((st = next_id(ctx, &md->idx_segments, md->segments, cxm__name_of_segment, name,
			  &md->n_segments, ctx->max_segments, "segment", "max_segments", &id)))
		goto out;
	if (max_values > ctx->max_segment_values - md->slots_used) {
		st = cxm__fail(ctx, CXM_ERR_LIMIT,
			       "segment '%s' wants %u values; %u of max_segment_values are left", name,
			       max_values, ctx->max_segment_values - md->slots_used);
		goto out;
	}
	segment *g = &md->segments[id];
	g->max_values = max_values;
	g->slot_base = md->slots_used;
	g->name = cxm__strdup(ctx, name);
	g->values = cxm__calloc(ctx, max_values, sizeof(char *));
	if (!g->name || !g->values || table_init(ctx, &g->index, max_values)) {
		segment_free(ctx, g);
		memset(g, 0, sizeof *g);
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating segment '%s' failed", name);
		goto out;
	}
	md->slots_used += max_values;
	atomic_store_explicit(&md->n_segments, id + 1, memory_order_release);
	table_insert(&md->idx_segments, g->name, id);
	*out = id;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}

cxm_status cxm_segment_value(uint32_t *out, cxm_context *ctx, cxm_id id, const char *value)
{
	segment *g = NULL;
	cxm_status st = cxm__segment_arg(ctx, out, id, &g);
	if (st)
		return st;
	if ((st = cxm__check_name(ctx, value, "segment value")))
		return st;
	uint32_t v;
	if (cxm__name_find(&g->index, g->values, cxm__name_of_value, value, &v)) {
		*out = v;
		return CXM_OK;
	}
	pthread_mutex_lock(&ctx->def_lock);
	if (cxm__name_find(&g->index, g->values, cxm__name_of_value, value, &v)) {
		*out = v;
		goto out;
	}
	v = atomic_load_explicit(&g->n_values, memory_order_relaxed);
	if (v >= g->max_values) {
		st = cxm__fail(ctx, CXM_ERR_LIMIT, "segment '%s' already has its %u values", g->name,
			       g->max_values);
		goto out;
	}
	if (!(g->values[v] = cxm__strdup(ctx, value))) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "allocating a value of segment '%s' failed",
			       g->name);
		goto out;
	}
	atomic_store_explicit(&g->n_values, v + 1, memory_order_release);
	table_insert(&g->index, g->values[v], v);
	*out = v;
out:
	pthread_mutex_unlock(&ctx->def_lock);
	return st;
}
