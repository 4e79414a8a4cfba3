/* OpenMetrics / Prometheus exposition: the exact text of a small context,
 * escaping, the buffer and callback contracts, bad arguments, lifetime
 * totals that outlive the rings, no allocation, concurrent feeding, and
 * `promtool check metrics` on a realistic context. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------- */

typedef struct growbuf {
	char *p;
	size_t len, cap;
	int calls;
	int fail_after; /* refuse the call after this many; 0: never */
} growbuf;

static int collect(const char *data, size_t len, void *payload)
{
	growbuf *g = payload;
	assert_true(len > 0);
	g->calls++;
	if (g->fail_after && g->calls > g->fail_after)
		return -1;
	if (g->len + len + 1 > g->cap) {
		g->cap = (g->len + len + 1) * 2;
		g->p = realloc(g->p, g->cap);
		assert_non_null(g->p);
	}
	memcpy(g->p + g->len, data, len);
	g->len += len;
	g->p[g->len] = '\0';
	return 0;
}

/* The whole text through cxm_export_text, sized by a first call. */
static char *export_all(cxm_context *ctx, const cxm_export_options *o, size_t *len)
{
	size_t need = 0;
	assert_int_equal(cxm_export_text(&need, ctx, o, NULL, 0), CXM_ERR_LIMIT);
	char *buf = malloc(need + 1);
	assert_non_null(buf);
	size_t got = 0;
	assert_int_equal(cxm_export_text(&got, ctx, o, buf, need + 1), CXM_OK);
	assert_int_equal(got, need);
	assert_int_equal(strlen(buf), got);
	if (len)
		*len = got;
	return buf;
}

static void feed_ix(cxm_context *ctx, int64_t t, cxm_id tp, const uint32_t *segs, size_t n_segs,
		    const cxm_measure *ms, size_t n)
{
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.segments = segs;
	ix.n_segments = n_segs;
	ix.measures = ms;
	ix.n_measures = n;
	cxm_status st = cxm_feed(ctx, &ix);
	if (st)
		fail_msg("feed: %s: %s", cxm_strerror(st), cxm_errmsg(ctx));
}

static cxm_id def_metric(cxm_context *ctx, const char *name, cxm_preset p)
{
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	assert_int_equal(cxm_metric_preset(&d, p), CXM_OK);
	cxm_id id;
	assert_int_equal(cxm_metric_define(&id, ctx, name, &d), CXM_OK);
	return id;
}

/* ---- the small context ------------------------------------------------------- */

typedef struct small {
	test_clock clk;
	cxm_context *ctx;
	cxm_id csat, resolved, aht, revenue, calls, tp, tier;
	uint32_t gold;
} small;

static void small_make(small *s, int shards)
{
	s->clk.now = T0 + HOUR;
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.shards = (uint32_t)shards;
	s->ctx = test_ctx_cfg(&s->clk, &cfg);
	const char *steps[] = {"contact", "resolve"};
	cxm_id j;
	assert_int_equal(cxm_journey_define(&j, s->ctx, "support", steps, 2), CXM_OK);
	cxm_id web;
	assert_int_equal(cxm_touchpoint_define(&web, s->ctx, "web form", CXM_CHANNEL_WEB, CXM_NONE, 0),
			 CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&s->tp, s->ctx, "ivr", CXM_CHANNEL_PHONE, j, 0), CXM_OK);
	s->csat = def_metric(s->ctx, "csat", CXM_PRESET_CSAT5);
	s->resolved = def_metric(s->ctx, "resolved", CXM_PRESET_RATE);
	s->aht = def_metric(s->ctx, "aht", CXM_PRESET_DURATION);
	s->revenue = def_metric(s->ctx, "revenue", CXM_PRESET_AMOUNT);
	s->calls = def_metric(s->ctx, "calls", CXM_PRESET_VOLUME);
	assert_int_equal(cxm_segment_define(&s->tier, s->ctx, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_value(&s->gold, s->ctx, s->tier, "gold"), CXM_OK);
	uint32_t gold[1] = {s->gold};
	cxm_measure a[] = {{s->csat, 0, 5}, {s->resolved, 0, 1}, {s->aht, 0, 42}, {s->revenue, 0, 10.25}};
	feed_ix(s->ctx, T0, s->tp, gold, 1, a, 4);
	cxm_measure b[] = {{s->csat, 0, 2}, {s->resolved, 0, 0}, {s->aht, 0, 400}, {s->revenue, 0, -3}};
	feed_ix(s->ctx, T0 + 1000, s->tp, NULL, 0, b, 4);
}

static const char small_om[] =
	"# HELP cxm_score_answers Answers of SCORE and INDEX metrics per point of the scale since the series began.\n"
	"# TYPE cxm_score_answers counter\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",point=\"1\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",point=\"2\"} 1\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",point=\"3\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",point=\"4\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",point=\"5\"} 1\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",point=\"1\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",point=\"2\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",point=\"3\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",point=\"4\"} 0\n"
	"cxm_score_answers_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",point=\"5\"} 1\n"
	"# HELP cxm_score_responses Answers of SCORE and INDEX metrics, all points, since the series began.\n"
	"# TYPE cxm_score_responses counter\n"
	"cxm_score_responses_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 2\n"
	"cxm_score_responses_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 1\n"
	"# HELP cxm_score_top_box Answers in the metric's top box (promoters, satisfied, easy) since the series began.\n"
	"# TYPE cxm_score_top_box counter\n"
	"cxm_score_top_box_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 1\n"
	"cxm_score_top_box_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 1\n"
	"# HELP cxm_score_bottom_box Answers in the metric's bottom box (detractors, dissatisfied, difficult) since the series began.\n"
	"# TYPE cxm_score_bottom_box counter\n"
	"cxm_score_bottom_box_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 1\n"
	"cxm_score_bottom_box_total{metric=\"csat\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 0\n"
	"# HELP cxm_rate_outcomes Yes and no observations of RATE metrics since the series began.\n"
	"# TYPE cxm_rate_outcomes counter\n"
	"cxm_rate_outcomes_total{metric=\"resolved\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",outcome=\"yes\"} 1\n"
	"cxm_rate_outcomes_total{metric=\"resolved\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",outcome=\"no\"} 1\n"
	"cxm_rate_outcomes_total{metric=\"resolved\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",outcome=\"yes\"} 1\n"
	"cxm_rate_outcomes_total{metric=\"resolved\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",outcome=\"no\"} 0\n"
	"# HELP cxm_duration_seconds Durations of DURATION metrics since the series began.\n"
	"# TYPE cxm_duration_seconds histogram\n"
	"# UNIT cxm_duration_seconds seconds\n"
	"cxm_duration_seconds_bucket{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",le=\"30\"} 0\n"
	"cxm_duration_seconds_bucket{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",le=\"60.5\"} 1\n"
	"cxm_duration_seconds_bucket{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",le=\"+Inf\"} 2\n"
	"cxm_duration_seconds_count{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 2\n"
	"cxm_duration_seconds_sum{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 442\n"
	"cxm_duration_seconds_bucket{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",le=\"30\"} 0\n"
	"cxm_duration_seconds_bucket{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",le=\"60.5\"} 1\n"
	"cxm_duration_seconds_bucket{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\",le=\"+Inf\"} 1\n"
	"cxm_duration_seconds_count{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 1\n"
	"cxm_duration_seconds_sum{metric=\"aht\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 42\n"
	"# HELP cxm_amount Count and sum of the values of AMOUNT metrics since the series began.\n"
	"# TYPE cxm_amount summary\n"
	"cxm_amount_count{metric=\"revenue\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 2\n"
	"cxm_amount_sum{metric=\"revenue\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 7.25\n"
	"cxm_amount_count{metric=\"revenue\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 1\n"
	"cxm_amount_sum{metric=\"revenue\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 10.25\n"
	"# HELP cxm_volume Interactions counted by VOLUME metrics since the series began.\n"
	"# TYPE cxm_volume counter\n"
	"cxm_volume_total{metric=\"calls\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\"} 2\n"
	"cxm_volume_total{metric=\"calls\",touchpoint=\"ivr\",channel=\"phone\",journey=\"support\",step=\"contact\",segment=\"tier\",segment_value=\"gold\"} 1\n"
	"# HELP cxm_interactions_accepted Interactions accepted by the context since it was created.\n"
	"# TYPE cxm_interactions_accepted counter\n"
	"cxm_interactions_accepted_total 2\n"
	"# HELP cxm_interactions_rejected Interactions rejected by the context since it was created, by reason.\n"
	"# TYPE cxm_interactions_rejected counter\n";

static const double small_bounds[] = {30, 60.5};

/* The rejection lines depend on cxm_strerror's words: built here. */
static char *small_expected(int om, uint64_t too_late)
{
	size_t cap = sizeof small_om + 4096;
	char *e = malloc(cap);
	assert_non_null(e);
	strcpy(e, small_om);
	if (!om) {
		/* Prometheus 0.0.4: a counter's HELP and TYPE name the sample */
		const char *fam[] = {"cxm_score_answers", "cxm_score_responses", "cxm_score_top_box",
				     "cxm_score_bottom_box", "cxm_rate_outcomes", "cxm_volume",
				     "cxm_interactions_accepted", "cxm_interactions_rejected"};
		char *out = malloc(cap);
		assert_non_null(out);
		out[0] = '\0';
		char *line = strtok(e, "\n");
		for (; line; line = strtok(NULL, "\n")) {
			if (!strncmp(line, "# UNIT", 6))
				continue;
			int done = 0;
			for (size_t i = 0; i < sizeof fam / sizeof fam[0] && !done; i++) {
				for (int kind = 0; kind < 2 && !done; kind++) {
					char head[128];
					snprintf(head, sizeof head, "# %s %s ", kind ? "TYPE" : "HELP", fam[i]);
					if (!strncmp(line, head, strlen(head))) {
						sprintf(out + strlen(out), "# %s %s_total %s\n",
							kind ? "TYPE" : "HELP", fam[i], line + strlen(head));
						done = 1;
					}
				}
			}
			if (!done)
				sprintf(out + strlen(out), "%s\n", line);
		}
		free(e);
		e = out;
	}
	for (int st = 1; st < CXM_STATUS_COUNT; st++) {
		if (st == CXM_ERR_REJECTED)
			continue;
		sprintf(e + strlen(e), "cxm_interactions_rejected_total{reason=\"%s\"} %llu\n",
			cxm_strerror(st), st == CXM_ERR_TOO_LATE ? (unsigned long long)too_late : 0ull);
	}
	if (om)
		strcat(e, "# EOF\n");
	return e;
}

static void assert_text_equal(const char *got, const char *want)
{
	if (strcmp(got, want)) {
		size_t i = 0;
		while (got[i] && got[i] == want[i])
			i++;
		size_t from = i > 120 ? i - 120 : 0;
		fail_msg("text differs at byte %zu:\n--- got ---\n%.300s\n--- want ---\n%.300s", i,
			 got + from, want + from);
	}
}

static void exact_text(void **state)
{
	(void)state;
	for (int shards = 1; shards <= 3; shards += 2) {
		small s;
		small_make(&s, shards);
		cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;
		o.buckets = small_bounds;
		o.n_buckets = 2;
		for (int om = 1; om >= 0; om--) {
			o.format = om ? CXM_FORMAT_OPENMETRICS : CXM_FORMAT_PROMETHEUS;
			char *want = small_expected(om, 0);
			char *got = export_all(s.ctx, &o, NULL);
			assert_text_equal(got, want);
			/* the callback gives the same bytes */
			growbuf g = {0};
			assert_int_equal(cxm_export_write(s.ctx, &o, collect, &g), CXM_OK);
			assert_text_equal(g.p, want);
			free(g.p);
			free(got);
			free(want);
		}
		cxm_context_free(s.ctx);
	}
}

/* Only the series of every interaction with NO_SEGMENTS; default buckets. */
static void options_and_defaults(void **state)
{
	(void)state;
	small s;
	small_make(&s, 2);
	cxm_export_options o;
	assert_int_equal(cxm_export_options_init(&o, sizeof o), CXM_OK);
	assert_int_equal(o.size, sizeof o);
	char *def = export_all(s.ctx, NULL, NULL);
	char *same = export_all(s.ctx, &o, NULL);
	assert_string_equal(def, same);
	const char *les[] = {"0.1", "0.5", "1", "2", "5", "10", "30", "60", "120", "300", "600",
			     "1800", "3600", "14400", "86400", "+Inf"};
	for (size_t i = 0; i < sizeof les / sizeof les[0]; i++) {
		char want[64];
		snprintf(want, sizeof want, "step=\"contact\",le=\"%s\"} ", les[i]);
		assert_non_null(strstr(def, want));
	}
	/* 42 s and 400 s: le=60 holds one, le=300 one, le=600 both */
	assert_non_null(strstr(def, "step=\"contact\",le=\"300\"} 1\n"));
	assert_non_null(strstr(def, "step=\"contact\",le=\"600\"} 2\n"));
	assert_non_null(strstr(def, "segment_value=\"gold\""));
	o.flags = CXM_EXPORT_NO_SEGMENTS;
	char *noseg = export_all(s.ctx, &o, NULL);
	assert_null(strstr(noseg, "segment"));
	assert_non_null(strstr(noseg, "cxm_score_answers_total{"));
	/* NO_POINTS: the same text without the per-point family */
	o.flags = CXM_EXPORT_NO_SEGMENTS | CXM_EXPORT_NO_POINTS;
	char *nopts = export_all(s.ctx, &o, NULL);
	assert_null(strstr(nopts, "cxm_score_answers"));
	const char *resp = strstr(noseg, "# HELP cxm_score_responses ");
	assert_non_null(resp);
	assert_string_equal(nopts, resp);
	free(nopts);
	assert_non_null(strstr(noseg, "cxm_volume_total{metric=\"calls\",touchpoint=\"ivr\","
				      "channel=\"phone\",journey=\"support\",step=\"contact\"} 2\n"));
	free(def);
	free(same);
	free(noseg);
	cxm_context_free(s.ctx);
}

static void escaping(void **state)
{
	(void)state;
	test_clock clk = {T0 + HOUR};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id tp, d;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "say \"hi\" \\ bye", CXM_CHANNEL_OTHER,
					       CXM_NONE, 0),
			 CXM_OK);
	cxm_id vol = def_metric(ctx, "a\"b\\c", CXM_PRESET_VOLUME);
	assert_int_equal(cxm_segment_define(&d, ctx, "q\\", 2), CXM_OK);
	uint32_t v;
	assert_int_equal(cxm_segment_value(&v, ctx, d, "\"x\""), CXM_OK);
	feed_ix(ctx, T0, tp, &v, 1, NULL, 0);
	(void)vol;
	char *t = export_all(ctx, NULL, NULL);
	assert_non_null(strstr(t, "cxm_volume_total{metric=\"a\\\"b\\\\c\",touchpoint=\"say \\\"hi\\\" "
				  "\\\\ bye\",channel=\"other\"} 1\n"));
	assert_non_null(strstr(t, ",channel=\"other\",segment=\"q\\\\\",segment_value=\"\\\"x\\\"\"} 1\n"));
	free(t);
	cxm_context_free(ctx);
}

/* Constant labels come first on every sample, escaped like the others. */
static void constant_labels(void **state)
{
	(void)state;
	small s;
	small_make(&s, 2);
	const char *names[] = {"node", "Tenant_2"}, *values[] = {"eu-1", "acme \"west\""};
	cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;
	o.n_labels = 2;
	o.label_names = names;
	o.label_values = values;
	o.flags = CXM_EXPORT_NO_SEGMENTS;
	char *t = export_all(s.ctx, &o, NULL);
	const char *pre = "{node=\"eu-1\",Tenant_2=\"acme \\\"west\\\"\",metric=";
	size_t n_samples = 0, n_pre = 0;
	for (const char *p = t; *p; p = strchr(p, '\n') + 1) {
		if (*p == '#')
			continue;
		n_samples++;
		const char *brace = strchr(p, '{');
		if (brace && brace < strchr(p, '\n') && !strncmp(brace, pre, strlen(pre)))
			n_pre++;
	}
	/* all but the context's own families carry the prefix with metric= */
	assert_int_equal(n_samples - n_pre, 1 + (CXM_STATUS_COUNT - 2));
	assert_non_null(strstr(t, "\ncxm_interactions_accepted_total{node=\"eu-1\",Tenant_2=\"acme "
				  "\\\"west\\\"\"} 2\n"));
	assert_non_null(strstr(t, "Tenant_2=\"acme \\\"west\\\"\",reason=\""));
	free(t);
	cxm_context_free(s.ctx);
}

/* Labels too long for the exposition's cache take the piecewise path: the
 * same text, in the buffer and through the callback. */
static void long_names(void **state)
{
	(void)state;
	test_clock clk = {T0 + HOUR};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.max_name_len = 4096;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	static char tpn[1601], mn[1201], segv[901];
	memset(tpn, 't', sizeof tpn - 1);
	tpn[700] = '"';
	memset(mn, 'm', sizeof mn - 1);
	mn[3] = '\\';
	memset(segv, 'v', sizeof segv - 1);
	cxm_id tp, d;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, tpn, CXM_CHANNEL_SMS, CXM_NONE, 0), CXM_OK);
	cxm_id vol = def_metric(ctx, mn, CXM_PRESET_VOLUME);
	cxm_id rate = def_metric(ctx, "r", CXM_PRESET_RATE);
	assert_int_equal(cxm_segment_define(&d, ctx, "seg", 2), CXM_OK);
	uint32_t v;
	assert_int_equal(cxm_segment_value(&v, ctx, d, segv), CXM_OK);
	cxm_measure ms[] = {{rate, 0, 1}};
	feed_ix(ctx, T0, tp, &v, 1, ms, 1);
	(void)vol;
	size_t len;
	char *t = export_all(ctx, NULL, &len);
	growbuf g = {0};
	assert_int_equal(cxm_export_write(ctx, NULL, collect, &g), CXM_OK);
	assert_string_equal(g.p, t);
	/* the whole line of the per-segment volume series, escaped */
	size_t cap = 8192;
	char *want = malloc(cap);
	assert_non_null(want);
	char mesc[1300], tesc[1700];
	snprintf(mesc, sizeof mesc, "mmm\\\\%s", mn + 4);
	snprintf(tesc, sizeof tesc, "%.700s\\\"%s", tpn, tpn + 701);
	snprintf(want, cap,
		 "\ncxm_volume_total{metric=\"%s\",touchpoint=\"%s\",channel=\"sms\",segment=\"seg\","
		 "segment_value=\"%s\"} 1\n",
		 mesc, tesc, segv);
	assert_non_null(strstr(t, want));
	snprintf(want, cap,
		 "\ncxm_rate_outcomes_total{metric=\"r\",touchpoint=\"%s\",channel=\"sms\","
		 "segment=\"seg\",segment_value=\"%s\",outcome=\"no\"} 0\n",
		 tesc, segv);
	assert_non_null(strstr(t, want));
	/* too small a buffer still learns the exact size */
	size_t got = 0;
	char small_buf[100];
	assert_int_equal(cxm_export_text(&got, ctx, NULL, small_buf, sizeof small_buf), CXM_ERR_LIMIT);
	assert_int_equal(got, len);
	free(want);
	free(g.p);
	free(t);
	cxm_context_free(ctx);
}

static void buffer_too_small(void **state)
{
	(void)state;
	small s;
	small_make(&s, 2);
	size_t len;
	char *full = export_all(s.ctx, NULL, &len);
	char *buf = malloc(len + 16);
	assert_non_null(buf);
	size_t caps[] = {1, 2, 100, len - 1, len};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		size_t got = 0;
		assert_int_equal(cxm_export_text(&got, s.ctx, NULL, buf, caps[i]), CXM_ERR_LIMIT);
		assert_int_equal(got, len);
		/* nothing is written past cap */
		memset(buf, 'Z', len + 16);
		assert_int_equal(cxm_export_text(&got, s.ctx, NULL, buf, caps[i]), CXM_ERR_LIMIT);
		for (size_t j = caps[i]; j < len + 16; j++)
			assert_int_equal(buf[j], 'Z');
	}
	size_t got = 0;
	assert_int_equal(cxm_export_text(&got, s.ctx, NULL, buf, len + 1), CXM_OK);
	assert_int_equal(got, len);
	assert_string_equal(buf, full);
	assert_int_equal(cxm_export_text(&got, s.ctx, NULL, buf, len + 16), CXM_OK);
	assert_string_equal(buf, full);
	free(buf);
	free(full);
	cxm_context_free(s.ctx);
}

static void callback_refuses(void **state)
{
	(void)state;
	small s;
	small_make(&s, 2);
	growbuf all = {0};
	assert_int_equal(cxm_export_write(s.ctx, NULL, collect, &all), CXM_OK);
	assert_true(all.calls >= 1);
	for (int after = 1; after < all.calls; after++) {
		growbuf r = {.fail_after = after};
		assert_int_equal(cxm_export_write(s.ctx, NULL, collect, &r), CXM_ERR_IO);
		assert_int_equal(r.calls, after + 1); /* not called again after refusing */
		free(r.p);
	}
	free(all.p);
	cxm_context_free(s.ctx);
}

static int refuse(const char *data, size_t len, void *payload)
{
	(void)data;
	(void)len;
	(*(int *)payload)++;
	return 1;
}

static void callback_refuses_first(void **state)
{
	(void)state;
	small s;
	small_make(&s, 1);
	int calls = 0;
	assert_int_equal(cxm_export_write(s.ctx, NULL, refuse, &calls), CXM_ERR_IO);
	assert_int_equal(calls, 1);
	assert_true(strlen(cxm_errmsg(s.ctx)) > 0);
	cxm_context_free(s.ctx);
}

static void bad_arguments(void **state)
{
	(void)state;
	small s;
	small_make(&s, 2);
	cxm_context *ctx = s.ctx;
	char buf[64];
	size_t len = 12345;
	/* cxm_export_options_init */
	cxm_export_options o;
	assert_int_equal(cxm_export_options_init(NULL, sizeof o), CXM_ERR_INVALID);
	assert_int_equal(cxm_export_options_init(&o, sizeof o - 1), CXM_ERR_VERSION);
	assert_int_equal(cxm_export_options_init(&o, 0), CXM_ERR_VERSION);
	/* cxm_export_text */
	assert_int_equal(cxm_export_text(NULL, ctx, NULL, buf, sizeof buf), CXM_ERR_INVALID);
	assert_int_equal(cxm_export_text(&len, NULL, NULL, buf, sizeof buf), CXM_ERR_INVALID);
	assert_int_equal(cxm_export_text(&len, ctx, NULL, NULL, 10), CXM_ERR_INVALID);
	assert_int_equal(len, 12345);
	/* cxm_export_write */
	growbuf g = {0};
	assert_int_equal(cxm_export_write(NULL, NULL, collect, &g), CXM_ERR_INVALID);
	assert_int_equal(cxm_export_write(ctx, NULL, NULL, &g), CXM_ERR_INVALID);
	assert_int_equal(g.calls, 0);
	/* options, through both functions */
	struct {
		cxm_export_options o;
		unsigned char tail[8];
	} big;
	const double nan_b[] = {1, NAN}, inf_b[] = {1, INFINITY}, dec[] = {2, 1}, eq[] = {1, 1},
		     neg[] = {-1, 1};
	double many[CXM_EXPORT_MAX_BUCKETS + 1];
	for (int i = 0; i <= CXM_EXPORT_MAX_BUCKETS; i++)
		many[i] = i + 1;
	const char *ln[CXM_EXPORT_MAX_LABELS + 1], *lv[CXM_EXPORT_MAX_LABELS + 1];
	char lnames[CXM_EXPORT_MAX_LABELS + 1][8];
	for (int i = 0; i <= CXM_EXPORT_MAX_LABELS; i++) {
		snprintf(lnames[i], sizeof lnames[i], "l%d", i);
		ln[i] = lnames[i];
		lv[i] = "v";
	}
	char long_value[200];
	memset(long_value, 'x', sizeof long_value - 1);
	long_value[sizeof long_value - 1] = '\0';
	const char *one_null[] = {NULL}, *bad_start[] = {"1a"}, *dunder[] = {"__x"}, *taken[] = {"le"},
		   *ours[] = {"touchpoint"}, *dash[] = {"a-b"}, *twice[] = {"node", "node"},
		   *empty_v[] = {""}, *bad_utf8[] = {"\xff"}, *long_v[] = {long_value},
		   *vv[] = {"a", "b"};
	for (int c = 0; c < 27; c++) {
		memset(&big, 0, sizeof big);
		cxm_export_options_init(&big.o, sizeof big.o);
		cxm_status want = CXM_ERR_INVALID;
		switch (c) {
		case 0: big.o.size = sizeof big.o - 1; want = CXM_ERR_VERSION; break;
		case 1: big.o.size = sizeof big; big.tail[3] = 1; want = CXM_ERR_UNSUPPORTED; break;
		case 2: big.o.reserved[0] = 1; want = CXM_ERR_UNSUPPORTED; break;
		case 3: big.o.reserved[5] = 1; want = CXM_ERR_UNSUPPORTED; break;
		case 4: big.o.format = (cxm_export_format)2; break;
		case 5: big.o.flags = 0x4; break;
		case 6: big.o.n_buckets = 1; break; /* buckets NULL */
		case 7: big.o.buckets = many; big.o.n_buckets = CXM_EXPORT_MAX_BUCKETS + 1;
			want = CXM_ERR_OUT_OF_RANGE; break;
		case 8: big.o.buckets = nan_b; big.o.n_buckets = 2; want = CXM_ERR_NOT_FINITE; break;
		case 9: big.o.buckets = inf_b; big.o.n_buckets = 2; want = CXM_ERR_NOT_FINITE; break;
		case 10: big.o.buckets = dec; big.o.n_buckets = 2; want = CXM_ERR_OUT_OF_RANGE; break;
		case 11: big.o.buckets = eq; big.o.n_buckets = 2; want = CXM_ERR_OUT_OF_RANGE; break;
		case 12: big.o.buckets = neg; big.o.n_buckets = 2; want = CXM_ERR_OUT_OF_RANGE; break;
		/* constant labels */
		case 13: big.o.n_labels = CXM_EXPORT_MAX_LABELS + 1; big.o.label_names = ln;
			big.o.label_values = lv; want = CXM_ERR_OUT_OF_RANGE; break;
		case 14: big.o.n_labels = 1; big.o.label_values = lv; break; /* names NULL */
		case 15: big.o.n_labels = 1; big.o.label_names = ln; break;  /* values NULL */
		case 16: big.o.n_labels = 1; big.o.label_names = one_null; big.o.label_values = lv; break;
		case 17: big.o.n_labels = 1; big.o.label_names = ln; big.o.label_values = one_null; break;
		case 18: big.o.n_labels = 1; big.o.label_names = bad_start; big.o.label_values = lv; break;
		case 19: big.o.n_labels = 1; big.o.label_names = dunder; big.o.label_values = lv; break;
		case 20: big.o.n_labels = 1; big.o.label_names = taken; big.o.label_values = lv; break;
		case 21: big.o.n_labels = 1; big.o.label_names = ours; big.o.label_values = lv; break;
		case 22: big.o.n_labels = 1; big.o.label_names = dash; big.o.label_values = lv; break;
		case 23: big.o.n_labels = 2; big.o.label_names = twice; big.o.label_values = vv; break;
		case 24: big.o.n_labels = 1; big.o.label_names = ln; big.o.label_values = empty_v;
			want = CXM_ERR_ENCODING; break;
		case 25: big.o.n_labels = 1; big.o.label_names = ln; big.o.label_values = bad_utf8;
			want = CXM_ERR_ENCODING; break;
		case 26: big.o.n_labels = 1; big.o.label_names = ln; big.o.label_values = long_v;
			want = CXM_ERR_TOO_LONG; break;
		}
		len = 777;
		assert_int_equal(cxm_export_text(&len, ctx, &big.o, buf, sizeof buf), want);
		assert_int_equal(len, 777);
		g.calls = 0;
		assert_int_equal(cxm_export_write(ctx, &big.o, collect, &g), want);
		assert_int_equal(g.calls, 0);
	}
	/* a larger caller struct with a zero tail is fine; so are 64 bounds
	 * and 8 labels */
	memset(&big, 0, sizeof big);
	big.o.size = sizeof big;
	big.o.buckets = many;
	big.o.n_buckets = CXM_EXPORT_MAX_BUCKETS;
	big.o.n_labels = CXM_EXPORT_MAX_LABELS;
	big.o.label_names = ln;
	big.o.label_values = lv;
	char *t = export_all(ctx, &big.o, NULL);
	assert_non_null(strstr(t, "le=\"64\"}"));
	assert_non_null(strstr(t, "\ncxm_interactions_accepted_total{l0=\"v\",l1=\"v\",l2=\"v\","
				  "l3=\"v\",l4=\"v\",l5=\"v\",l6=\"v\",l7=\"v\"} 2\n"));
	free(t);
	free(g.p);
	cxm_context_free(ctx);
}

/* ---- lifetime totals ------------------------------------------------------------ */

/* Rings forget; the exposed counters do not. */
static void totals_outlive_the_rings(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.n_tiers = 1;
	cfg.tiers[0] = (cxm_tier){.bucket_ms = 60000, .buckets = 2};
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	cxm_id nps = def_metric(ctx, "nps", CXM_PRESET_NPS);
	cxm_id aht = def_metric(ctx, "aht", CXM_PRESET_DURATION);
	for (int i = 0; i < 30; i++) {
		clk.now = T0 + i * HOUR;
		cxm_measure ms[] = {{nps, 0, i % 11}, {aht, 0, 100}};
		feed_ix(ctx, clk.now, tp, NULL, 0, ms, 2);
	}
	/* the rings hold the last two minutes only */
	assert_int_equal(query_tp(ctx, nps, tp, clk.now, DAY).n, 1);
	char *t = export_all(ctx, NULL, NULL);
	assert_non_null(strstr(t, "cxm_score_responses_total{metric=\"nps\",touchpoint=\"ivr\","
				  "channel=\"phone\"} 30\n"));
	/* points 0..10 twice, then 0..7: promoters (9, 10) 4, detractors (0..6) 21 */
	assert_non_null(strstr(t, "cxm_score_top_box_total{metric=\"nps\",touchpoint=\"ivr\","
				  "channel=\"phone\"} 4\n"));
	assert_non_null(strstr(t, "cxm_score_bottom_box_total{metric=\"nps\",touchpoint=\"ivr\","
				  "channel=\"phone\"} 21\n"));
	assert_non_null(strstr(t, ",point=\"7\"} 3\n"));
	assert_non_null(strstr(t, ",point=\"8\"} 2\n"));
	assert_non_null(strstr(t, "cxm_duration_seconds_count{metric=\"aht\",touchpoint=\"ivr\","
				  "channel=\"phone\"} 30\n"));
	assert_non_null(strstr(t, "cxm_duration_seconds_sum{metric=\"aht\",touchpoint=\"ivr\","
				  "channel=\"phone\"} 3000\n"));
	assert_non_null(strstr(t, "cxm_interactions_accepted_total 30\n"));
	/* a late interaction is rejected and counted by reason */
	assert_int_equal(feed1(ctx, T0, tp, nps, 5), CXM_ERR_TOO_LATE);
	free(t);
	t = export_all(ctx, NULL, NULL);
	char want[128];
	snprintf(want, sizeof want, "cxm_interactions_rejected_total{reason=\"%s\"} 1\n",
		 cxm_strerror(CXM_ERR_TOO_LATE));
	assert_non_null(strstr(t, want));
	free(t);
	cxm_context_free(ctx);
}

/* Buckets from the sketch: 0, below duration_lo, inside, above duration_hi. */
static void histogram_edges(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	cxm_id aht = def_metric(ctx, "aht", CXM_PRESET_DURATION); /* 1 ms .. 7 days, 1 % */
	const double vals[] = {0, 0.0001, 0.5, 0.9, 1.5, 100, 1e7};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		assert_int_equal(feed1(ctx, T0, tp, aht, vals[i]), CXM_OK);
	const double b[] = {0, 0.0005, 0.001, 1, 1000, 1e6, 1e8};
	cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;
	o.buckets = b;
	o.n_buckets = 7;
	char *t = export_all(ctx, &o, NULL);
	/* 0 counts from le=0; 0.0001 (under 1 ms) from le=duration_lo; 1e7 s
	 * (above 7 days) only in +Inf */
	const char *want[] = {"le=\"0\"} 1\n", "le=\"0.0005\"} 1\n", "le=\"0.001\"} 2\n",
			      "le=\"1\"} 4\n", "le=\"1000\"} 6\n", "le=\"1000000\"} 6\n",
			      "le=\"100000000\"} 6\n", "le=\"+Inf\"} 7\n"};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(t, want[i]))
			fail_msg("no %s in:\n%s", want[i], t);
	free(t);
	cxm_context_free(ctx);
}

/* An INDEX metric with a no-answer code: question labels and no_answer. */
static void index_metric(void **state)
{
	(void)state;
	test_clock clk = {T0};
	cxm_context *ctx = test_ctx(&clk);
	cxm_id tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "shop", CXM_CHANNEL_WEB, CXM_NONE, 0), CXM_OK);
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, CXM_PRESET_CXI);
	d.has_na = 1;
	d.na_value = 99;
	cxm_id cxi;
	assert_int_equal(cxm_metric_define(&cxi, ctx, "cxi", &d), CXM_OK);
	cxm_measure ms[] = {{cxi, 0, 10}, {cxi, 1, 3}, {cxi, 2, 99}};
	feed_ix(ctx, T0, tp, NULL, 0, ms, 3);
	char *t = export_all(ctx, NULL, NULL);
	assert_non_null(strstr(t, "cxm_score_answers_total{metric=\"cxi\",touchpoint=\"shop\","
				  "channel=\"web\",question=\"0\",point=\"10\"} 1\n"));
	assert_non_null(strstr(t, "cxm_score_answers_total{metric=\"cxi\",touchpoint=\"shop\","
				  "channel=\"web\",question=\"1\",point=\"3\"} 1\n"));
	assert_non_null(strstr(t, "cxm_score_top_box_total{metric=\"cxi\",touchpoint=\"shop\","
				  "channel=\"web\",question=\"0\"} 1\n"));
	assert_non_null(strstr(t, "cxm_score_bottom_box_total{metric=\"cxi\",touchpoint=\"shop\","
				  "channel=\"web\",question=\"1\"} 1\n"));
	assert_non_null(strstr(t, "cxm_score_responses_total{metric=\"cxi\",touchpoint=\"shop\","
				  "channel=\"web\",question=\"2\"} 0\n"));
	assert_non_null(strstr(t, "cxm_score_no_answer_total{metric=\"cxi\",touchpoint=\"shop\","
				  "channel=\"web\"} 1\n"));
	free(t);
	cxm_context_free(ctx);
}

/* ---- allocation ------------------------------------------------------------------- */

typedef struct counting {
	long allocs;
	int fail;
} counting;

static void *c_alloc(void *opaque, size_t n)
{
	counting *c = opaque;
	c->allocs++;
	return c->fail ? NULL : malloc(n);
}

static void c_free(void *opaque, void *p)
{
	(void)opaque;
	free(p);
}

/* The exposition allocates nothing: with every allocation failing it
 * still succeeds, and memory_bytes does not move. */
static void no_allocation(void **state)
{
	(void)state;
	counting c = {0};
	test_clock clk = {T0 + HOUR};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.allocator = (cxm_allocator){c_alloc, c_free, &c};
	cfg.shards = 2;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id tp;
	assert_int_equal(cxm_touchpoint_define(&tp, ctx, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0), CXM_OK);
	cxm_id nps = def_metric(ctx, "nps", CXM_PRESET_NPS);
	cxm_id aht = def_metric(ctx, "aht", CXM_PRESET_DURATION);
	cxm_measure ms[] = {{nps, 0, 9}, {aht, 0, 30}};
	feed_ix(ctx, T0, tp, NULL, 0, ms, 2);
	cxm_stats st = {.size = sizeof st};
	assert_int_equal(cxm_stats_get(&st, ctx), CXM_OK);
	uint64_t mem = st.memory_bytes;
	c.fail = 1;
	c.allocs = 0;
	size_t len;
	char *t = export_all(ctx, NULL, &len);
	growbuf g = {0};
	assert_int_equal(cxm_export_write(ctx, NULL, collect, &g), CXM_OK);
	assert_string_equal(g.p, t);
	assert_int_equal(c.allocs, 0);
	assert_int_equal(cxm_stats_get(&st, ctx), CXM_OK);
	assert_int_equal(st.memory_bytes, mem);
	c.fail = 0;
	free(t);
	free(g.p);
	cxm_context_free(ctx);
}

/* ---- concurrency ------------------------------------------------------------------ */

typedef struct feeder {
	cxm_context *ctx;
	cxm_id tp0, nps, aht;
	int n;
	int seed;
} feeder;

static void *feed_thread(void *arg)
{
	feeder *f = arg;
	for (int i = 0; i < f->n; i++) {
		cxm_measure ms[] = {{f->nps, 0, (i + f->seed) % 11}, {f->aht, 0, 1 + i % 500}};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0 + i;
		ix.touchpoint = f->tp0 + (cxm_id)(i % 4);
		ix.measures = ms;
		ix.n_measures = 2;
		if (cxm_feed(f->ctx, &ix))
			return (void *)1;
	}
	return NULL;
}

static uint64_t sum_samples(const char *t, const char *prefix)
{
	uint64_t total = 0;
	size_t pl = strlen(prefix);
	for (const char *p = t; (p = strstr(p, prefix)); p += pl) {
		if (p != t && p[-1] != '\n')
			continue;
		const char *sp = strchr(p, ' ');
		total += strtoull(sp + 1, NULL, 10);
	}
	return total;
}

static void concurrent_feeding(void **state)
{
	(void)state;
	test_clock clk = {T0 + HOUR};
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.shards = 3;
	cxm_context *ctx = test_ctx_cfg(&clk, &cfg);
	cxm_id tp0 = 0;
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof name, "tp%d", i);
		cxm_id id;
		assert_int_equal(cxm_touchpoint_define(&id, ctx, name, CXM_CHANNEL_CHAT, CXM_NONE, 0), CXM_OK);
		if (i == 0)
			tp0 = id;
	}
	feeder f[2];
	pthread_t th[2];
	for (int k = 0; k < 2; k++) {
		f[k] = (feeder){ctx, tp0, 0, 0, 3000, k};
	}
	cxm_id nps = def_metric(ctx, "nps", CXM_PRESET_NPS);
	cxm_id aht = def_metric(ctx, "aht", CXM_PRESET_DURATION);
	for (int k = 0; k < 2; k++) {
		f[k].nps = nps;
		f[k].aht = aht;
		assert_int_equal(pthread_create(&th[k], NULL, feed_thread, &f[k]), 0);
	}
	uint64_t last = 0;
	for (int r = 0; r < 20; r++) {
		growbuf g = {0};
		assert_int_equal(cxm_export_write(ctx, NULL, collect, &g), CXM_OK);
		uint64_t n = sum_samples(g.p, "cxm_score_responses_total{");
		assert_true(n >= last); /* counters never go back */
		last = n;
		free(g.p);
	}
	for (int k = 0; k < 2; k++) {
		void *rv;
		pthread_join(th[k], &rv);
		assert_null(rv);
	}
	char *t = export_all(ctx, NULL, NULL);
	assert_int_equal(sum_samples(t, "cxm_score_responses_total{"), 6000);
	assert_int_equal(sum_samples(t, "cxm_duration_seconds_count{"), 6000);
	free(t);
	cxm_context_free(ctx);
}

/* ---- promtool ------------------------------------------------------------------- */

static const char *find_promtool(void)
{
	static const char *paths[] = {"/usr/bin/promtool", "/usr/local/bin/promtool"};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* A realistic context: journeys with steps, standalone touchpoints, every
 * kind of metric, two segment dimensions. */
static cxm_context *realistic(test_clock *clk)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.shards = 4;
	cxm_context *ctx = test_ctx_cfg(clk, &cfg);
	const char *s1[] = {"browse", "cart", "pay"}, *s2[] = {"contact", "diagnose", "resolve"};
	cxm_id j1, j2;
	assert_int_equal(cxm_journey_define(&j1, ctx, "buy", s1, 3), CXM_OK);
	assert_int_equal(cxm_journey_define(&j2, ctx, "support case", s2, 3), CXM_OK);
	cxm_id tps[6];
	assert_int_equal(cxm_touchpoint_define(&tps[0], ctx, "product page", CXM_CHANNEL_WEB, j1, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tps[1], ctx, "checkout", CXM_CHANNEL_WEB, j1, 2), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tps[2], ctx, "ivr", CXM_CHANNEL_PHONE, j2, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tps[3], ctx, "agent call", CXM_CHANNEL_PHONE, j2, 1), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tps[4], ctx, "chat bot", CXM_CHANNEL_CHAT, j2, 0), CXM_OK);
	assert_int_equal(cxm_touchpoint_define(&tps[5], ctx, "invoice \"email\"", CXM_CHANNEL_EMAIL,
					       CXM_NONE, 0),
			 CXM_OK);
	cxm_id nps = def_metric(ctx, "nps", CXM_PRESET_NPS);
	cxm_id csat = def_metric(ctx, "csat", CXM_PRESET_CSAT5);
	cxm_id ces = def_metric(ctx, "ces", CXM_PRESET_CES7);
	cxm_id cxi = def_metric(ctx, "cx index", CXM_PRESET_CXI);
	cxm_id aht = def_metric(ctx, "handle time", CXM_PRESET_DURATION);
	cxm_id fcr = def_metric(ctx, "fcr", CXM_PRESET_RATE);
	cxm_id rev = def_metric(ctx, "revenue", CXM_PRESET_AMOUNT);
	def_metric(ctx, "interactions", CXM_PRESET_VOLUME);
	def_metric(ctx, "customers", CXM_PRESET_DISTINCT);
	cxm_id tier, region;
	assert_int_equal(cxm_segment_define(&tier, ctx, "tier", 4), CXM_OK);
	assert_int_equal(cxm_segment_define(&region, ctx, "region", 8), CXM_OK);
	const char *tiers[] = {"gold", "silver", "bronze", "free"};
	const char *regions[] = {"north", "south", "east", "west", "eu\\1", "us", "apac", "latam"};
	uint32_t tv[4], rv[8];
	for (int i = 0; i < 4; i++)
		assert_int_equal(cxm_segment_value(&tv[i], ctx, tier, tiers[i]), CXM_OK);
	for (int i = 0; i < 8; i++)
		assert_int_equal(cxm_segment_value(&rv[i], ctx, region, regions[i]), CXM_OK);
	uint64_t x = 7;
	for (int i = 0; i < 3000; i++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		uint32_t r = (uint32_t)(x >> 33);
		uint32_t segs[2] = {tv[r % 4], (r >> 3) % 5 ? rv[(r >> 5) % 8] : CXM_NONE};
		cxm_measure ms[8];
		size_t n = 0;
		ms[n++] = (cxm_measure){aht, 0, 5 + (r >> 7) % 1200 + 0.25};
		ms[n++] = (cxm_measure){fcr, 0, (r >> 2) & 1};
		if (r % 4 == 0)
			ms[n++] = (cxm_measure){nps, 0, (r >> 11) % 11};
		if (r % 4 == 1)
			ms[n++] = (cxm_measure){csat, 0, 1 + (r >> 11) % 5};
		if (r % 4 == 2)
			ms[n++] = (cxm_measure){ces, 0, 1 + (r >> 11) % 7};
		if (r % 8 == 3) {
			ms[n++] = (cxm_measure){cxi, 0, 1 + (r >> 11) % 10};
			ms[n++] = (cxm_measure){cxi, 1, 1 + (r >> 15) % 10};
			ms[n++] = (cxm_measure){cxi, 2, 1 + (r >> 19) % 10};
		}
		if (r % 16 == 5)
			ms[n++] = (cxm_measure){rev, 0, (double)((r >> 9) % 20000) / 100 - 20};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0 + i * 1000;
		ix.touchpoint = tps[r % 6];
		ix.segments = segs;
		ix.n_segments = 2;
		ix.measures = ms;
		ix.n_measures = n;
		char cust[16];
		snprintf(cust, sizeof cust, "c%u", r % 500);
		ix.customer = cust;
		ix.customer_len = strlen(cust);
		if (cxm_feed(ctx, &ix))
			fail_msg("feed: %s", cxm_errmsg(ctx));
	}
	return ctx;
}

static void promtool_accepts(void **state)
{
	(void)state;
	const char *promtool = find_promtool();
	if (!promtool)
		skip(); /* tools/deps.sh installs Debian's prometheus, so CI never skips */
	test_clock clk = {T0 + DAY};
	cxm_context *ctx = realistic(&clk);
	for (int noseg = 0; noseg < 2; noseg++) {
		cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;
		o.format = CXM_FORMAT_PROMETHEUS;
		o.flags = noseg ? CXM_EXPORT_NO_SEGMENTS : 0;
		size_t len;
		char *t = export_all(ctx, &o, &len);
		assert_true(len > 10000);
		assert_null(strstr(t, "c1")); /* never a customer id */
		char in[] = "/tmp/cxm_export_XXXXXX";
		int fd = mkstemp(in);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, t, len), (ssize_t)len);
		close(fd);
		char cmd[256];
		snprintf(cmd, sizeof cmd, "%s check metrics < %s > %s.out 2>&1", promtool, in, in);
		int rc = system(cmd);
		char outp[64];
		snprintf(outp, sizeof outp, "%s.out", in);
		FILE *f = fopen(outp, "r");
		assert_non_null(f);
		char msg[4096];
		size_t got = fread(msg, 1, sizeof msg - 1, f);
		msg[got] = '\0';
		fclose(f);
		unlink(in);
		unlink(outp);
		if (rc != 0 || got)
			fail_msg("promtool check metrics: exit %d:\n%s", rc, msg);
		free(t);
	}
	cxm_context_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_text),
		cmocka_unit_test(options_and_defaults),
		cmocka_unit_test(escaping),
		cmocka_unit_test(constant_labels),
		cmocka_unit_test(long_names),
		cmocka_unit_test(buffer_too_small),
		cmocka_unit_test(callback_refuses),
		cmocka_unit_test(callback_refuses_first),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(totals_outlive_the_rings),
		cmocka_unit_test(histogram_edges),
		cmocka_unit_test(index_metric),
		cmocka_unit_test(no_allocation),
		cmocka_unit_test(concurrent_feeding),
		cmocka_unit_test(promtool_accepts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
