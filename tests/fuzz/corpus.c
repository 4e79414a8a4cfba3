/* Seed snapshots for the loader fuzzer and the hostile-snapshot test:
 * contexts of the fuzz configuration fed with small seeded workloads of
 * every metric kind, journeys whose steps lie on several channels with
 * instances left open, two segment dimensions, and variants without the
 * (optional) JOURNEYS section. Also the format helpers both need: CRC32C,
 * the list of a snapshot's sections, and rebuilding a snapshot from
 * sections with its checksums and END section recomputed. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1795392000000)
#define MIN_MS INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)

static int64_t fixed_clock(void *opaque)
{
	(void)opaque;
	return FUZZ_NOW;
}

cxm_config fuzz_config(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fixed_clock;
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 30, 0};
	cfg.tiers[1] = (cxm_tier){600000, 30, 0};
	cfg.tiers[2] = (cxm_tier){3600000, 48, 0};
	cfg.shards = 2;
	cfg.max_journeys = 4;
	cfg.max_steps = 8;
	cfg.max_touchpoints = 8;
	cfg.max_metrics = 10;
	cfg.max_segments = 2;
	cfg.max_segment_values = 8;
	cfg.max_name_len = 32;
	cfg.max_series = 4096;
	cfg.max_customers = 64;
	for (int i = 0; i < 16; i++)
		cfg.customer_key[i] = (uint8_t)(0x5a ^ i);
	return cfg;
}

/* The model: journey "shop" (web, then the till in person), journey
 * "care" whose four steps are on four channels (its first by phone or by
 * SMS), a standalone phone touchpoint, a metric of every kind, and two segment dimensions. Ids in
 * the order of the first corpus (seeds 1 to 5 use ids 0 .. 6 and the
 * first dimension), so older corpus files still merge into it. */
void fuzz_define(cxm_context *ctx)
{
	const char *shop[] = {"look", "buy"};
	const char *care[] = {"contact", "diagnose", "fix", "confirm"};
	cxm_id id;
	cxm_journey_define(&id, ctx, "shop", shop, 2);
	cxm_touchpoint_define(&id, ctx, "web", CXM_CHANNEL_WEB, 0, 0);
	cxm_touchpoint_define(&id, ctx, "till", CXM_CHANNEL_IN_PERSON, 0, 1);
	cxm_touchpoint_define(&id, ctx, "call", CXM_CHANNEL_PHONE, CXM_NONE, 0);
	static const cxm_preset presets[] = {CXM_PRESET_NPS,    CXM_PRESET_CXI,    CXM_PRESET_DURATION,
					     CXM_PRESET_RATE,   CXM_PRESET_AMOUNT, CXM_PRESET_VOLUME,
					     CXM_PRESET_DISTINCT, CXM_PRESET_CSAT5};
	static const char *names[] = {"nps",    "cxi",      "aht", "fcr",
				      "revenue", "volume", "distinct", "csat"};
	for (size_t m = 0; m < sizeof presets / sizeof presets[0]; m++) {
		cxm_metric_def d;
		cxm_metric_def_init(&d, sizeof d);
		cxm_metric_preset(&d, presets[m]);
		if (presets[m] == CXM_PRESET_DISTINCT)
			d.precision = 4;
		if (presets[m] == CXM_PRESET_DURATION) {
			d.duration_lo = 0.1;
			d.duration_hi = 1000;
			d.relative_error = 0.05;
		}
		if (presets[m] == CXM_PRESET_CSAT5) {
			d.has_na = 1;
			d.na_value = 99;
		}
		cxm_metric_define(&id, ctx, names[m], &d);
	}
	cxm_segment_define(&id, ctx, "tier", 3);
	cxm_journey_define(&id, ctx, "care", care, 4);
	cxm_touchpoint_define(&id, ctx, "care-phone", CXM_CHANNEL_PHONE, 1, 0);
	cxm_touchpoint_define(&id, ctx, "care-chat", CXM_CHANNEL_CHAT, 1, 1);
	cxm_touchpoint_define(&id, ctx, "care-mail", CXM_CHANNEL_EMAIL, 1, 2);
	cxm_touchpoint_define(&id, ctx, "care-shop", CXM_CHANNEL_IN_PERSON, 1, 3);
	cxm_segment_define(&id, ctx, "region", 4);
	cxm_touchpoint_define(&id, ctx, "care-sms", CXM_CHANNEL_SMS, 1, 0);
	/* two triggers, so that seeds carry a TRIGGERS section: a detractor
	 * on the care journey, and a long call, switched off */
	cxm_trigger_def t = CXM_TRIGGER_DEF_INIT;
	t.metric = 0;
	t.op = CXM_CMP_LE;
	t.threshold = 6;
	t.scope = CXM_SCOPE_JOURNEY;
	t.id = 1;
	cxm_trigger_define(&id, ctx, &t);
	t.metric = 2;
	t.op = CXM_CMP_GE;
	t.threshold = 100;
	t.scope = CXM_SCOPE_TOUCHPOINT;
	t.id = 2;
	if (cxm_trigger_define(&id, ctx, &t) == CXM_OK)
		cxm_trigger_enable(ctx, id, 0);
	/* two surveys and rules across them, so that seeds with survey
	 * history (governor_history) carry a GOVERNOR section */
	cxm_survey_def s = CXM_SURVEY_DEF_INIT;
	s.min_since_invite_ms = 7 * 86400000LL;
	s.max_invites = 2;
	s.invites_window_ms = 30 * 86400000LL;
	s.sample_rate = 0.5;
	s.scope = CXM_SCOPE_JOURNEY;
	s.id = 1;
	cxm_survey_define(&id, ctx, "post-call", &s);
	cxm_survey_def none = CXM_SURVEY_DEF_INIT;
	cxm_survey_define(&id, ctx, "e-mail", &none);
	cxm_governor_rules g = CXM_GOVERNOR_RULES_INIT;
	g.min_since_response_ms = 86400000;
	cxm_governor_set(ctx, &g);
	/* and an alert, so that seeds carry an ALERTS section */
	cxm_alert_def a = CXM_ALERT_DEF_INIT;
	a.query.metric = 0;
	a.query.scope = CXM_SCOPE_JOURNEY;
	a.query.id = 1;
	a.query.span_ms = 3600000;
	a.op = CXM_CMP_LT;
	a.fire = 0;
	a.clear = 10;
	a.for_ms = 600000;
	cxm_alert_define(&id, ctx, "care nps low", &a);
	/* and in-journey signals on care, so that seeds carry a SIGNALS
	 * section with customers' signal state (journey_workload) */
	cxm_signal_def sg = CXM_SIGNAL_DEF_INIT;
	sg.journey = 1;
	sg.kind = CXM_SIGNAL_BACKWARDS;
	cxm_signal_define(&id, ctx, &sg);
	sg.kind = CXM_SIGNAL_REPEAT;
	sg.count = 2;
	sg.window_ms = 3600000;
	cxm_signal_define(&id, ctx, &sg);
	sg.kind = CXM_SIGNAL_STUCK;
	sg.count = 0;
	sg.step = 1;
	sg.window_ms = 1800000;
	if (cxm_signal_define(&id, ctx, &sg) == CXM_OK)
		cxm_signal_enable(ctx, id, 0);
	sg.kind = CXM_SIGNAL_FAILURE;
	sg.step = CXM_NONE;
	sg.count = 3;
	sg.metric = 3;
	sg.op = CXM_CMP_EQ;
	cxm_signal_define(&id, ctx, &sg);
	/* and a driver set, so that seeds carry a DRIVERS section: the CSAT
	 * at the care journey's steps and anywhere, against the NPS answer,
	 * with customers' records (journey_workload) */
	cxm_drivers_def dd;
	cxm_drivers_def_init(&dd, sizeof dd);
	dd.outcome = 0;
	dd.driver = 7;
	dd.journey = 1;
	dd.flags = CXM_DRIVERS_OVERALL;
	cxm_drivers_define(&id, ctx, "csat drives nps", &dd);
}

/* Invitations and responses of a few known customers, one with more
 * than two records (an array of its own). */
static void governor_history(cxm_context *ctx, int64_t t)
{
	char id[16];
	for (int c = 0; c < 6; c++) {
		fuzz_known_id(c, id);
		for (int r = 0; r <= c % 4; r++)
			cxm_survey_record(ctx, (cxm_id)(r % 2), id, strlen(id),
					  r == 3 ? CXM_SURVEY_RESPONDED : CXM_SURVEY_INVITED,
					  t - (int64_t)r * 3600000);
	}
}

void fuzz_known_id(int i, char out[16])
{
	snprintf(out, 16, "c%d", i);
}

/* ---- CRC32C and sections ------------------------------------------------------------ */

uint32_t fuzz_crc32c(uint32_t crc, const void *data, size_t n)
{
	static uint32_t table[256];
	static int ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			table[i] = c;
		}
		ready = 1;
	}
	const unsigned char *p = data;
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

size_t fuzz_sections(const unsigned char *p, size_t len, fuzz_section *out, size_t cap)
{
	if (len < FUZZ_HEADER_LEN)
		return 0;
	size_t off = FUZZ_HEADER_LEN, n = 0;
	while (len - off >= 20) {
		uint64_t sl = get64(p + off + 8);
		if (sl > len - off - 20)
			return 0;
		if (n == cap)
			return 0;
		out[n].type = get32(p + off);
		out[n].off = off;
		out[n].len = (size_t)sl;
		n++;
		off += 20 + (size_t)sl;
		if (out[n - 1].type == FUZZ_SEC_END)
			return off == len ? n : 0;
	}
	return 0;
}

void fuzz_fix_section_crc(unsigned char *p, size_t off, size_t payload_len)
{
	put32(p + off + 16 + payload_len, fuzz_crc32c(0, p + off, 16 + payload_len));
}

void fuzz_fix_header_crc(unsigned char *p)
{
	put32(p + 60, fuzz_crc32c(0, p, 60));
}

size_t fuzz_rebuild(const unsigned char *header, const fuzz_piece *pieces, size_t n,
		    unsigned char **out)
{
	size_t total = FUZZ_HEADER_LEN + 20 + 16;
	for (size_t i = 0; i < n; i++)
		total += 20 + pieces[i].len;
	unsigned char *b = malloc(total);
	if (!b)
		abort();
	memcpy(b, header, FUZZ_HEADER_LEN);
	size_t off = FUZZ_HEADER_LEN;
	for (size_t i = 0; i < n; i++) {
		put32(b + off, pieces[i].type);
		put32(b + off + 4, pieces[i].version);
		put64(b + off + 8, pieces[i].len);
		if (pieces[i].len)
			memcpy(b + off + 16, pieces[i].p, pieces[i].len);
		fuzz_fix_section_crc(b, off, pieces[i].len);
		off += 20 + pieces[i].len;
	}
	put32(b + off, FUZZ_SEC_END);
	put32(b + off + 4, 1);
	put64(b + off + 8, 16);
	put64(b + off + 16, n);
	put64(b + off + 24, off);
	fuzz_fix_section_crc(b, off, 16);
	*out = b;
	return total;
}

size_t fuzz_pieces(const unsigned char *p, size_t len, fuzz_piece *out, size_t cap)
{
	fuzz_section sec[FUZZ_MAX_SECTIONS];
	size_t n = fuzz_sections(p, len, sec, FUZZ_MAX_SECTIONS), k = 0;
	for (size_t i = 0; i < n && k < cap; i++) {
		if (sec[i].type == FUZZ_SEC_END)
			break;
		out[k].type = sec[i].type;
		out[k].version = get32(p + sec[i].off + 4);
		out[k].p = p + sec[i].off + 16;
		out[k].len = sec[i].len;
		k++;
	}
	return k;
}

/* The snapshot without its sections of one type, checksums and END redone. */
static int drop_type(unsigned char **p, size_t *len, uint32_t type)
{
	fuzz_piece pc[FUZZ_MAX_SECTIONS];
	size_t n = fuzz_pieces(*p, *len, pc, FUZZ_MAX_SECTIONS), k = 0;
	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (pc[i].type != type)
			pc[k++] = pc[i];
	unsigned char *q;
	size_t ql = fuzz_rebuild(*p, pc, k, &q);
	free(*p);
	*p = q;
	*len = ql;
	return 0;
}

/* ---- workloads ------------------------------------------------------------------------ */

typedef struct buf {
	unsigned char *p;
	size_t len, cap;
} buf;

static int to_buf(const void *data, size_t len, void *payload)
{
	buf *b = payload;
	if (b->cap - b->len < len) {
		size_t nc = b->cap ? b->cap * 2 : 4096;
		while (nc - b->len < len)
			nc *= 2;
		unsigned char *np = realloc(b->p, nc);
		if (!np)
			return -1;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

int fuzz_save(cxm_context *ctx, unsigned char **out, size_t *len)
{
	buf b = {0};
	cxm_status st = cxm_snapshot_write(ctx, to_buf, &b);
	if (st) {
		free(b.p);
		return (int)st;
	}
	*out = b.p ? b.p : malloc(1);
	*len = b.len;
	return 0;
}

/* The first corpus: random interactions on the shop journey and the
 * standalone touchpoint, i * i * 4 of them; sweeps and churn from seed 2. */
static void random_workload(cxm_context *ctx, int i)
{
	uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ull + 1;
	int n = i == 0 ? 0 : i * i * 4;
	static const char *tiers[] = {"gold", "silver", "bronze"};
	for (int k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t seg;
		cxm_segment_value(&seg, ctx, 0, tiers[x % 3]);
		uint32_t segs[1] = {x % 4 ? seg : CXM_NONE};
		cxm_measure ms[6] = {
			{0, 0, (double)(x % 11)},      {1, 0, 1.0 + (double)(x % 10)},
			{1, 1, 1.0 + (double)((x >> 8) % 10)}, {2, 0, (double)((x >> 16) % 2000) / 2},
			{3, 0, (double)((x >> 4) & 1)}, {4, 0, (double)((x >> 20) % 100)}};
		char cust[16];
		snprintf(cust, sizeof cust, "c%u", (unsigned)((x >> 24) % 20));
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = T0 + INT64_C(29) * 86400000 + (int64_t)k * 97000 * (i + 1);
		ix.touchpoint = (cxm_id)(x % 3);
		ix.customer = cust;
		ix.customer_len = x % 5 ? strlen(cust) : 0;
		ix.segments = segs;
		ix.n_segments = 1;
		ix.measures = ms;
		ix.n_measures = 1 + (size_t)(x >> 40) % 6;
		cxm_feed(ctx, &ix);
	}
	if (i >= 2) {
		/* journey state beyond the funnels of feeding: ends by a
		 * sweep, churn, and (in odd seeds) options of its own */
		if (i % 2) {
			cxm_journey_options o;
			cxm_journey_options_init(&o, sizeof o);
			o.flags = CXM_JOURNEY_STRICT | CXM_JOURNEY_COUNT_REPEATS;
			o.abandon_ms = 600000;
			cxm_journey_set_options(ctx, 0, &o);
		}
		int64_t t = T0 + INT64_C(29) * 86400000 + (int64_t)n * 97000 * (i + 1);
		cxm_journey_sweep(NULL, ctx, t);
		cxm_customer_churn(ctx, "c3", 2, t);
	}
}

/* One interaction of customer `who` (NULL: anonymous) on touchpoint tp at
 * t: segment values on every third, and one measure of a metric (k picks
 * which, or none), so that each kind has some series without making many. */
static void touch(cxm_context *ctx, const char *who, cxm_id tp, int64_t t, int k)
{
	static const char *tiers[] = {"gold", "silver", "bronze"};
	static const char *regions[] = {"north", "south", "east", "west"};
	uint32_t segs[2];
	cxm_segment_value(&segs[0], ctx, 0, tiers[k % 3]);
	cxm_segment_value(&segs[1], ctx, 1, regions[(k / 3) % 4]);
	if (k % 2)
		segs[0] = CXM_NONE;
	const cxm_measure all[8] = {{0, 0, (double)(k % 11)},
				    {2, 0, k % 6 == 0 ? 0.0 : 0.05 + (double)((k * 37) % 1500)},
				    {1, 2, 1.0 + (double)((k * 7) % 10)},
				    {3, 0, (double)(k & 1)},
				    {4, 0, (double)(k * 13 % 200) - 50.5},
				    {7, 0, k % 7 == 6 ? 99.0 : 1.0 + (double)(k % 5)},
				    {2, 0, 2000.0},
				    {1, 0, 1.0 + (double)((k * 3) % 10)}};
	cxm_measure ms[2] = {all[k % 8], all[(k / 8) % 8]};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = t;
	ix.touchpoint = tp;
	ix.customer = who;
	ix.customer_len = who ? strlen(who) : 0;
	ix.segments = segs;
	ix.n_segments = k % 3 == 0 ? 2 : 0;
	ix.measures = ms;
	ix.n_measures = k % 5 == 4 ? 0 : ms[0].metric == ms[1].metric ? 1 : 2;
	cxm_feed(ctx, &ix);
}

/* Journeys over several channels with instances left open, done, broken,
 * swept and churned; known customers c0 .. c19 (fuzz_known_id). */
static void journey_workload(cxm_context *ctx)
{
	cxm_journey_options o;
	cxm_journey_options_init(&o, sizeof o);
	o.flags = CXM_JOURNEY_COUNT_REPEATS | CXM_JOURNEY_RESTART;
	o.abandon_ms = 2 * HOUR_MS;
	o.conversion_ms = DAY_MS;
	cxm_journey_set_options(ctx, 1, &o);
	const int64_t t0 = FUZZ_NOW - 6 * HOUR_MS;
	char id[16];
	int k = 0;
	/* c0 .. c2: care begun by phone, on by chat, then left: swept as abandoned */
	for (int c = 0; c < 3; c++) {
		fuzz_known_id(c, id);
		touch(ctx, id, c == 1 ? 7 : 3, t0 + c * MIN_MS, k++);
		touch(ctx, id, 4, t0 + c * MIN_MS + 7 * MIN_MS, k++);
	}
	/* c17: a step out of order first (no instance), then the first step */
	fuzz_known_id(17, id);
	touch(ctx, id, 5, t0 + 30 * MIN_MS, k++);
	touch(ctx, id, 3, t0 + 33 * MIN_MS, k++);
	/* c6 .. c9: care through all four channels, to the goal */
	for (cxm_id tp = 3; tp < 7; tp++)
		for (int c = 6; c < 10; c++) {
			fuzz_known_id(c, id);
			touch(ctx, id, tp, t0 + HOUR_MS + c * MIN_MS + (int64_t)(tp - 3) * 11 * MIN_MS, k++);
		}
	/* ends counted by a sweep: c0 .. c2 are past abandonment */
	cxm_journey_sweep(NULL, ctx, t0 + 3 * HOUR_MS);
	const int64_t t1 = t0 + 4 * HOUR_MS;
	/* c3 .. c5: care open, at step 1 (chat) or 2 (mail): next steps on other channels */
	for (int c = 3; c < 6; c++) {
		fuzz_known_id(c, id);
		touch(ctx, id, c == 4 ? 7 : 3, t1 + c * MIN_MS, k++);
		touch(ctx, id, 4, t1 + c * MIN_MS + 5 * MIN_MS, k++);
		if (c == 5)
			touch(ctx, id, 5, t1 + c * MIN_MS + 9 * MIN_MS, k++);
	}
	/* c4 contacts chat again, c5 goes back to chat: signal state kept */
	fuzz_known_id(4, id);
	touch(ctx, id, 4, t1 + 15 * MIN_MS, k++);
	fuzz_known_id(5, id);
	touch(ctx, id, 4, t1 + 16 * MIN_MS, k++);
	/* c10 .. c12: shop looked at on the web, open; c13 bought in person */
	for (int c = 10; c < 14; c++) {
		fuzz_known_id(c, id);
		touch(ctx, id, 0, t1 + 20 * MIN_MS + c * MIN_MS, k++);
		if (c == 13)
			touch(ctx, id, 1, t1 + 40 * MIN_MS, k++);
	}
	/* c14, c15: only the standalone touchpoint (no journey instance) */
	for (int c = 14; c < 16; c++) {
		fuzz_known_id(c, id);
		touch(ctx, id, 2, t1 + 30 * MIN_MS + c * MIN_MS, k++);
	}
	/* c16: a journey, then churn; c18: churn without any interaction */
	fuzz_known_id(16, id);
	touch(ctx, id, 3, t1 + 50 * MIN_MS, k++);
	cxm_customer_churn(ctx, id, strlen(id), t1 + 55 * MIN_MS);
	fuzz_known_id(18, id);
	cxm_customer_churn(ctx, id, strlen(id), t1 + 56 * MIN_MS);
	/* c19: a restart of care (step 0 during the instance), then a repeat */
	fuzz_known_id(19, id);
	touch(ctx, id, 3, t1 + 60 * MIN_MS, k++);
	touch(ctx, id, 4, t1 + 62 * MIN_MS, k++);
	touch(ctx, id, 3, t1 + 64 * MIN_MS, k++);
	touch(ctx, id, 4, t1 + 64 * MIN_MS, k++);
	/* anonymous traffic on every touchpoint */
	for (cxm_id tp = 0; tp < 8; tp++)
		touch(ctx, NULL, tp, t1 + 70 * MIN_MS + tp * MIN_MS, k++);
}

/* Every touchpoint with every segment value, in one minute, with a
 * customer and no measure: VOLUME and DISTINCT series holding only their
 * newest bucket (DISTINCT head cells carry no registers). */
static void wide_workload(cxm_context *ctx)
{
	static const char *tiers[] = {"gold", "silver", "bronze"};
	static const char *regions[] = {"north", "south", "east", "west"};
	const int64_t t = FUZZ_NOW - 10 * MIN_MS;
	char id[16];
	for (cxm_id tp = 0; tp < 8; tp++)
		for (int v = 0; v < 4; v++) {
			uint32_t segs[2];
			cxm_segment_value(&segs[0], ctx, 0, tiers[v % 3]);
			cxm_segment_value(&segs[1], ctx, 1, regions[v]);
			fuzz_known_id((int)(tp * 3 + (cxm_id)v) % 20, id);
			cxm_interaction ix = CXM_INTERACTION_INIT;
			ix.time_ms = t + v * 1000;
			ix.touchpoint = tp;
			ix.customer = id;
			ix.customer_len = strlen(id);
			ix.segments = segs;
			ix.n_segments = 2;
			cxm_feed(ctx, &ix);
		}
}

const char *fuzz_seed_name(int i)
{
	static const char *names[FUZZ_SEEDS] = {
		"empty", "random-1", "random-2", "random-3", "random-4", "random-5",
		"journeys", "journeys-nojourneys", "wide", "random-5-nojourneys"};
	return i >= 0 && i < FUZZ_SEEDS ? names[i] : "?";
}

int fuzz_seed(int i, unsigned char **out, size_t *len)
{
	if (i < 0 || i >= FUZZ_SEEDS)
		return -1;
	cxm_config cfg = fuzz_config();
	cxm_context *ctx = NULL;
	if (cxm_context_new(&ctx, &cfg))
		return -1;
	if (i > 0)
		fuzz_define(ctx);
	if (i <= 5)
		random_workload(ctx, i);
	else if (i == 6 || i == 7)
		journey_workload(ctx);
	else if (i == 8)
		wide_workload(ctx);
	else
		random_workload(ctx, 5);
	if (i > 0)
		governor_history(ctx, FUZZ_NOW);
	int rc = fuzz_save(ctx, out, len);
	cxm_context_free(ctx);
	if (rc)
		return -1;
	/* without JOURNEYS, and so without COHORTS, which names its groups */
	if ((i == 7 || i == 9) &&
	    (drop_type(out, len, FUZZ_SEC_COHORTS) || drop_type(out, len, FUZZ_SEC_JOURNEYS))) {
		free(*out);
		return -1;
	}
	return 0;
}
