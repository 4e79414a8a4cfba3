/* Snapshots: the container, and the whole state of a context written and
 * loaded.
 *
 * The format is in docs/snapshot.md: a header, then sections (type,
 * version, length, payload, CRC32C) in a fixed order, then an end
 * section. Writing copies one shard (or one customer stripe, or one
 * journey) at a time into a section buffer under its lock and hands the
 * buffer to the sink with no lock held. Reading is two passes: the first
 * checks the structure and every checksum without allocating anything;
 * the second rebuilds the state into a private context made with the
 * target's configuration, through the same define functions a caller uses
 * (so every name, definition and limit is checked as if it came from a
 * caller), and every length is checked against the bytes left before
 * anything is allocated for it. A load swaps the private context's state
 * in; a merge (snapshot_merge.c) adds it into the target, series by
 * series.
 *
 * This file holds the container (header, sections, checksums, the sink),
 * the CONFIG section, the loader, and the order in which the sections are
 * written and read. Each owner writes and reads its own section's payload
 * through the codec (codec.c): MODEL model_io.c, SERIES and STATS
 * series_io.c, CUSTOMERS customers_io.c, JOURNEYS and COHORTS
 * journeys_io.c, TRIGGERS triggers.c, GOVERNOR governor_io.c, ALERTS
 * alerts.c, SIGNALS signals.c, BASELINES baselines.c, DRIVERS
 * drivers_io.c. Saving, loading and merging files: snapshot_file.c. */
#include "fileio.h"
#include "snapshot.h"

#include <stdio.h>

#define SNAP_VERSION 4u /* 2: a DURATION's finest buckets keep their bins; 3: DURATION,
			  * RATE and AMOUNT cells count "no answer" codes (has_na); 4:
			  * instance offsets as cxm__off_encode, funnel times to 400 days */
#define SNAP_VERSION_OLDEST 2u /* read too: has_na off but for scores, offsets in ms */
#define HEADER_LEN 64u
#define SEC_HEAD 16u /* type, version, length */
#define SEC_CRC 4u

enum {
	SEC_CONFIG = 1,
	SEC_MODEL = 2,
	SEC_SERIES = 3,
	SEC_CUSTOMERS = 4,
	SEC_STATS = 5,
	SEC_JOURNEYS = 6,
	SEC_TRIGGERS = 7,
	SEC_GOVERNOR = 8,
	SEC_ALERTS = 9,
	SEC_SIGNALS = 10,
	SEC_BASELINES = 11,
	SEC_DRIVERS = 12,
	SEC_COHORTS = 13,
	SEC_END = 0x7f
};

static const unsigned char MAGIC[8] = {0x89, 'C', 'X', 'M', 0x0d, 0x0a, 0x1a, 0x0a};

/* ---- the sink: header, sections, end ------------------------------------------------ */

typedef struct sink {
	cxm_context *ctx;
	cxm_write_fn fn;
	void *payload;
	uint64_t bytes, sections;
	bool failed;
} sink;

static cxm_status sink_out(sink *k, const void *p, size_t n)
{
	if (!n)
		return CXM_OK;
	if (k->fn(p, n, k->payload) != 0) {
		k->failed = true;
		return CXM_ERR_IO;
	}
	k->bytes += n;
	return CXM_OK;
}

static cxm_status emit_section(sink *k, uint32_t type, const unsigned char *payload, size_t len)
{
	unsigned char head[SEC_HEAD], tail[SEC_CRC];
	st32(head, type);
	st32(head + 4, 1); /* every section is at version 1 in formats 1 and 2 */
	st64(head + 8, len);
	uint32_t crc = cxm__crc32c(cxm__crc32c(0, head, sizeof head), payload, len);
	st32(tail, crc);
	cxm_status st;
	if ((st = sink_out(k, head, sizeof head)) || (st = sink_out(k, payload, len)) ||
	    (st = sink_out(k, tail, sizeof tail)))
		return st;
	k->sections++;
	return CXM_OK;
}

/* 16 bytes that tell customer keys apart without revealing them. */
static void key_id(const cxm_context *ctx, unsigned char out[16])
{
	static const char label[] = "libcxm snapshot customer key id";
	uint64_t h[2];
	cxm__siphash(ctx->key, label, sizeof label - 1, 16, h);
	st64(out, h[0]);
	st64(out + 8, h[1]);
}

/* ---- writing ------------------------------------------------------------------------- */

static void write_config(wbuf *b, cxm_context *ctx)
{
	cxm__wb_put32(b, ctx->n_tiers);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		cxm__wb_put64(b, (uint64_t)ctx->tiers[k].bucket_ms);
		cxm__wb_put32(b, ctx->tiers[k].buckets);
	}
}

/* A SERIES section that series_io.c closed, to the sink. */
static cxm_status emit_series(void *k, const unsigned char *payload, size_t len)
{
	return emit_section(k, SEC_SERIES, payload, len);
}

/* The optional sections after JOURNEYS, in their order, each written only
 * by a context that has their state (so that a context without them
 * writes what it always did), under the counts of the MODEL section. */
static const struct {
	uint32_t type;
	void (*write)(cxm_context *ctx, struct wbuf *b, const snap_limits *lim);
} OPTIONAL[] = {
	{SEC_TRIGGERS, cxm__triggers_write},   /* a context with rules */
	{SEC_GOVERNOR, cxm__governor_write},   /* with surveys or rules across them */
	{SEC_ALERTS, cxm__alerts_write},       /* with alerts */
	{SEC_SIGNALS, cxm__signals_write},     /* with signals */
	{SEC_BASELINES, cxm__baselines_write}, /* with baselines */
	{SEC_DRIVERS, cxm__drivers_write},     /* with driver sets */
};

static bool has_state(cxm_context *ctx, uint32_t type)
{
	switch (type) {
	case SEC_TRIGGERS: return atomic_load_explicit(&ctx->n_triggers, memory_order_acquire) != 0;
	case SEC_GOVERNOR: return atomic_load_explicit(&ctx->governor, memory_order_acquire) != NULL;
	case SEC_ALERTS: return atomic_load_explicit(&ctx->alerts, memory_order_acquire) != NULL;
	case SEC_SIGNALS: return atomic_load_explicit(&ctx->signals, memory_order_acquire) != NULL;
	case SEC_BASELINES: return atomic_load_explicit(&ctx->baselines, memory_order_acquire) != NULL;
	default: return atomic_load_explicit(&ctx->drivers, memory_order_acquire) != NULL;
	}
}

cxm_status cxm__snapshot_write(cxm_context *ctx, cxm_write_fn fn, void *payload)
{
	if (!SNAP_LE)
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "snapshots need a little-endian platform");
	sink k = {ctx, fn, payload, 0, 0, false};
	wbuf b = {ctx, NULL, 0, 0, false};
	wbuf cb = {ctx, NULL, 0, 0, false}; /* COHORTS, written with JOURNEYS */
	shard_cap *cap = NULL;
	unsigned char head[HEADER_LEN];
	memset(head, 0, sizeof head);
	memcpy(head, MAGIC, 8);
	st32(head + 8, SNAP_VERSION);
	st32(head + 12, HEADER_LEN);
	key_id(ctx, head + 24);
	st32(head + 60, cxm__crc32c(0, head, 60));
	cxm_status st = sink_out(&k, head, sizeof head);
	if (st)
		goto out;
	write_config(&b, ctx);
	if (b.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_CONFIG, b.p, b.len)))
		goto out;
	b.len = 0;
	/* what the MODEL section holds: everything after names only that */
	snap_limits lim;
	uint32_t values[64];
	memset(values, 0, sizeof values);
	cxm__model_write(ctx, &b, &lim, values);
	if (b.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_MODEL, b.p, b.len)))
		goto out;
	cap = cxm__alloc(ctx, sizeof *cap * ctx->n_shards);
	if (!cap)
		goto oom;
	if ((st = cxm__series_sections_write(ctx, &b, &lim, cap, emit_series, &k)))
		goto out;
	b.len = 0;
	cxm__customers_write(ctx, &b, lim.journeys);
	if (b.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_CUSTOMERS, b.p, b.len)))
		goto out;
	b.len = 0;
	cxm__journeys_write(ctx, &b, &cb, lim.journeys, lim.segments, lim.values);
	if (b.oom || cb.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_JOURNEYS, b.p, b.len)))
		goto out;
	b.len = 0;
	for (size_t i = 0; i < sizeof OPTIONAL / sizeof OPTIONAL[0]; i++) {
		if (!has_state(ctx, OPTIONAL[i].type))
			continue;
		OPTIONAL[i].write(ctx, &b, &lim);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, OPTIONAL[i].type, b.p, b.len)))
			goto out;
		b.len = 0;
	}
	if (cb.len) {
		/* optional: the funnels' entry cohorts, where there is journey
		 * state; written with JOURNEYS, each journey under its lock, so
		 * that they name exactly the groups it holds */
		if ((st = emit_section(&k, SEC_COHORTS, cb.p, cb.len)))
			goto out;
	}
	cxm__stats_write(&b, ctx, cap);
	if (b.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_STATS, b.p, b.len)))
		goto out;
	unsigned char end[16];
	st64(end, k.sections);
	st64(end + 8, k.bytes);
	st = emit_section(&k, SEC_END, end, sizeof end);
	goto out;
oom:
	st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a section buffer");
out:
	cxm__wb_free(&b);
	cxm__wb_free(&cb);
	cxm__free(ctx, cap, sizeof *cap * ctx->n_shards);
	if (st == CXM_ERR_IO && k.failed)
		st = cxm__fail(ctx, CXM_ERR_IO, "snapshot: the write callback failed after %llu bytes",
			       (unsigned long long)k.bytes);
	return st;
}

cxm_status cxm_snapshot_write(cxm_context *ctx, cxm_write_fn fn, void *payload)
{
	if (!ctx || !fn)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "fn");
	return cxm__snapshot_write(ctx, fn, payload);
}

/* ---- reading: pass 1, structure and checksums ------------------------------------------ */

static bool crc_ok(const unsigned char *p, size_t n, uint32_t want)
{
#ifdef CXM_FUZZING
	(void)p;
	(void)n;
	(void)want;
	return true; /* fuzzing builds reach past the checksums */
#else
	return cxm__crc32c(0, p, n) == want;
#endif
}

static void parsed_free(cxm_context *ctx, parsed *ps)
{
	cxm__free(ctx, ps->series, sizeof(slice) * ps->cap_series);
	ps->series = NULL;
}

/* Magic, format version and header: every reader of a snapshot's bytes
 * starts here (parse_structure, cxm_snapshot_tiers). */
static cxm_status check_header(cxm_context *ctx, const unsigned char *data, size_t len,
			       uint32_t *version_out)
{
	if (len < 16 || memcmp(data, MAGIC, 8) != 0)
		return CORRUPT(ctx, "not a libcxm snapshot (no magic number)");
	uint32_t version = ld32(data + 8), hlen = ld32(data + 12);
	*version_out = version;
	if (version < SNAP_VERSION_OLDEST || version > SNAP_VERSION) {
		/* every format version keeps magic, version, header length and
		 * a CRC32C at the header's end: a good header of another
		 * version is VERSION, anything else is damage */
		if (hlen >= 20 && hlen <= len && crc_ok(data, hlen - 4, ld32(data + hlen - 4)))
			return cxm__fail(ctx, CXM_ERR_VERSION,
					 "snapshot: format version %u; this libcxm %s reads versions %u .. %u",
					 version, CXM_VERSION_STRING, SNAP_VERSION_OLDEST, SNAP_VERSION);
		return CORRUPT(ctx, "damaged header");
	}
	if (len < HEADER_LEN)
		return CORRUPT(ctx, "truncated header (%zu bytes)", len);
	if (hlen != HEADER_LEN || !crc_ok(data, 60, ld32(data + 60)))
		return CORRUPT(ctx, "damaged header");
	if (ld64(data + 16) != 0)
		return CORRUPT(ctx, "header flags 0x%llx unknown", (unsigned long long)ld64(data + 16));
	for (int i = 40; i < 60; i++)
		if (data[i])
			return CORRUPT(ctx, "header reserved byte %d is set", i);
	return CXM_OK;
}

static cxm_status parse_structure(cxm_context *ctx, const unsigned char *data, size_t len,
				  parsed *ps)
{
	memset(ps, 0, sizeof *ps);
	cxm_status hst = check_header(ctx, data, len, &ps->version);
	if (hst)
		return hst;
	memcpy(ps->key_id, data + 24, 16);
	size_t off = HEADER_LEN;
	uint64_t sections = 0;
	/* 0: want CONFIG, 1: MODEL, 2: SERIES or CUSTOMERS, 3: JOURNEYS (at most
	 * once) or STATS, 4: END, 5: done */
	int stage = 0;
	while (stage < 5) {
		if (len - off < SEC_HEAD + SEC_CRC)
			return CORRUPT(ctx, "truncated at byte %zu: a section was expected", off);
		const unsigned char *h = data + off;
		uint32_t type = ld32(h), sver = ld32(h + 4);
		uint64_t slen = ld64(h + 8);
		if (slen > len - off - SEC_HEAD - SEC_CRC)
			return CORRUPT(ctx, "section at byte %zu claims %llu bytes; %zu are left", off,
				       (unsigned long long)slen, len - off - SEC_HEAD - SEC_CRC);
		if (!crc_ok(h, SEC_HEAD + (size_t)slen, ld32(h + SEC_HEAD + slen)))
			return CORRUPT(ctx, "checksum of the section at byte %zu does not match", off);
		if (type != SEC_CONFIG && type != SEC_MODEL && type != SEC_SERIES &&
		    type != SEC_CUSTOMERS && type != SEC_JOURNEYS && type != SEC_STATS &&
		    type != SEC_TRIGGERS && type != SEC_GOVERNOR && type != SEC_ALERTS &&
		    type != SEC_SIGNALS && type != SEC_BASELINES && type != SEC_DRIVERS &&
		    type != SEC_COHORTS && type != SEC_END)
			return cxm__fail(ctx, CXM_ERR_VERSION,
					 "snapshot: section type %u is unknown to libcxm %s", type,
					 CXM_VERSION_STRING);
		if (sver != 1)
			return cxm__fail(ctx, CXM_ERR_VERSION,
					 "snapshot: section type %u has version %u; libcxm %s reads 1",
					 type, sver, CXM_VERSION_STRING);
		slice sl = {h + SEC_HEAD, (size_t)slen};
		/* the optional sections of stage 3 come in this order, each once */
		const bool later_s = ps->has_baselines || ps->has_drivers || ps->has_cohorts;
		const bool later_j = ps->has_triggers || ps->has_governor || ps->has_alerts ||
				     ps->has_signals || later_s;
		bool order_ok = (type == SEC_CONFIG && stage == 0) || (type == SEC_MODEL && stage == 1) ||
				((type == SEC_SERIES || type == SEC_CUSTOMERS) && stage == 2) ||
				(type == SEC_JOURNEYS && stage == 3 && !ps->has_journeys && !later_j) ||
				(type == SEC_TRIGGERS && stage == 3 && !ps->has_triggers &&
				 !ps->has_governor && !ps->has_alerts && !ps->has_signals && !later_s) ||
				(type == SEC_GOVERNOR && stage == 3 && !ps->has_governor &&
				 !ps->has_alerts && !ps->has_signals && !later_s) ||
				(type == SEC_ALERTS && stage == 3 && !ps->has_alerts && !ps->has_signals &&
				 !later_s) ||
				(type == SEC_SIGNALS && stage == 3 && !ps->has_signals && !later_s) ||
				(type == SEC_BASELINES && stage == 3 && !ps->has_baselines &&
				 !ps->has_drivers && !ps->has_cohorts) ||
				(type == SEC_DRIVERS && stage == 3 && !ps->has_drivers && !ps->has_cohorts) ||
				(type == SEC_COHORTS && stage == 3 && !ps->has_cohorts) ||
				(type == SEC_STATS && stage == 3) || (type == SEC_END && stage == 4);
		if (!order_ok)
			return CORRUPT(ctx, "section type %u out of order at byte %zu", type, off);
		switch (type) {
		case SEC_CONFIG: ps->config = sl; stage = 1; break;
		case SEC_MODEL: ps->model = sl; stage = 2; break;
		case SEC_SERIES:
			if (ps->n_series == ps->cap_series) {
				size_t nc = ps->cap_series ? 2 * ps->cap_series : 16;
				slice *ns = cxm__alloc(ctx, sizeof(slice) * nc);
				if (!ns)
					return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory");
				if (ps->n_series)
					memcpy(ns, ps->series, sizeof(slice) * ps->n_series);
				cxm__free(ctx, ps->series, sizeof(slice) * ps->cap_series);
				ps->series = ns;
				ps->cap_series = nc;
			}
			ps->series[ps->n_series++] = sl;
			break;
		case SEC_CUSTOMERS: ps->customers = sl; stage = 3; break;
		case SEC_JOURNEYS: ps->journeys = sl; ps->has_journeys = true; break;
		case SEC_TRIGGERS: ps->triggers = sl; ps->has_triggers = true; break;
		case SEC_GOVERNOR: ps->governor = sl; ps->has_governor = true; break;
		case SEC_ALERTS: ps->alerts = sl; ps->has_alerts = true; break;
		case SEC_SIGNALS: ps->signals = sl; ps->has_signals = true; break;
		case SEC_BASELINES: ps->baselines = sl; ps->has_baselines = true; break;
		case SEC_DRIVERS: ps->drivers = sl; ps->has_drivers = true; break;
		case SEC_COHORTS: ps->cohorts = sl; ps->has_cohorts = true; break;
		case SEC_STATS: ps->stats = sl; stage = 4; break;
		case SEC_END:
			if (slen != 16 || ld64(sl.p) != sections || ld64(sl.p + 8) != off)
				return CORRUPT(ctx, "the end section does not match what precedes it");
			stage = 5;
			break;
		}
		sections++;
		off += SEC_HEAD + (size_t)slen + SEC_CRC;
	}
	if (off != len)
		return CORRUPT(ctx, "%zu bytes after the end section", len - off);
	return CXM_OK;
}

/* ---- reading: pass 2, rebuilding ------------------------------------------------------- */

static cxm_status read_config(loader *L, slice sl)
{
	cxm_context *ctx = L->ctx;
	rbuf r = {sl.p, sl.len};
	cxm_status st;
	uint32_t nt;
	L->what = "config";
	if ((st = cxm__loader_get32(L, &r, &nt)))
		return st;
	if (nt != ctx->n_tiers)
		return cxm__fail(ctx, CXM_ERR_EXISTS, "snapshot: %u tiers; this context has %u", nt,
				 ctx->n_tiers);
	for (uint32_t k = 0; k < nt; k++) {
		uint64_t w;
		uint32_t n;
		if ((st = cxm__loader_get64(L, &r, &w)) || (st = cxm__loader_get32(L, &r, &n)))
			return st;
		if ((int64_t)w != ctx->tiers[k].bucket_ms || n != ctx->tiers[k].buckets)
			return cxm__fail(ctx, CXM_ERR_EXISTS,
					 "snapshot: tier %u is %u x %lld ms; this context's is %u x %lld ms",
					 k, n, (long long)w, ctx->tiers[k].buckets,
					 (long long)ctx->tiers[k].bucket_ms);
	}
	if (r.left)
		return CORRUPT(ctx, "%zu bytes after the tiers", r.left);
	return CXM_OK;
}

/* An owner's section sl, named `what` in messages, read by `read` into
 * L->tmp, whose bytes it must take to the last (`rest`: what they hold). */
static cxm_status read_owned(loader *L, const char *what, slice sl,
			     cxm_status (*read)(cxm_context *into, struct snap_in *in), const char *rest)
{
	struct snap_in in = cxm__loader_section(L, what, sl);
	cxm_status st = read(L->tmp, &in);
	if (!st && in.r.left)
		st = CORRUPT(L->ctx, "%zu bytes after the %s", in.r.left, rest);
	return st;
}

/* A private context with ctx's configuration. */
static cxm_status make_tmp(cxm_context *ctx, cxm_context **out)
{
	cxm_config c;
	memset(&c, 0, sizeof c);
	c.size = sizeof c;
	c.allocator = ctx->alloc;
	c.clock = ctx->clock;
	c.clock_opaque = ctx->clock_opaque;
	c.n_tiers = ctx->n_tiers;
	c.shards = ctx->n_shards;
	memcpy(c.tiers, ctx->tiers, sizeof c.tiers);
	c.max_future_ms = ctx->max_future_ms;
	c.max_journeys = ctx->max_journeys;
	c.max_steps = ctx->max_steps;
	c.max_touchpoints = ctx->max_touchpoints;
	c.max_metrics = ctx->max_metrics;
	c.max_segments = ctx->max_segments;
	c.max_segment_values = ctx->max_segment_values;
	c.max_name_len = ctx->max_name_len;
	c.max_customer_id_len = ctx->max_customer_id_len;
	c.max_measures = ctx->max_measures;
	c.min_samples = ctx->min_samples;
	c.max_series = ctx->max_series;
	if (ctx->max_memory) {
		/* what is read counts against the caller's limit, with what the
		 * caller already holds (the loader's buffers among it) */
		uint64_t held = atomic_load(&ctx->memory);
		c.max_memory = held < ctx->max_memory ? ctx->max_memory - held : 1;
	}
	c.confidence = ctx->confidence;
	st64(c.customer_key, ctx->key[0]);
	st64(c.customer_key + 8, ctx->key[1]);
	c.max_customers = ctx->max_customers;
	c.customer_policy = ctx->customer_policy;
	c.max_triggers = ctx->max_triggers;
	c.event_queue = ctx->event_queue;
	cxm_context *tmp = NULL;
	cxm_status st = cxm_context_new(&tmp, &c);
	if (st) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", cxm_errmsg(NULL));
		return cxm__fail(ctx, st, "snapshot: making a context to read into: %s", msg);
	}
	tmp->key[0] = ctx->key[0];
	tmp->key[1] = ctx->key[1];
	tmp->io = ctx->io;
	*out = tmp;
	return CXM_OK;
}

static void loader_free(loader *L)
{
	cxm__free(L->ctx, L->scratch, L->scratch_cap);
	cxm__free(L->ctx, L->name, L->name_cap);
	cxm__free(L->ctx, L->shard_wm, L->shard_bytes);
	cxm__free(L->ctx, L->shard_acc, L->shard_bytes);
	cxm__free(L->ctx, L->shard_sat, L->shard_bytes);
	cxm_context_free(L->tmp);
}

cxm_status cxm__snapshot_parse(cxm_context *ctx, const void *data, size_t len, loader *L,
			       parsed *ps, bool with_series)
{
	memset(L, 0, sizeof *L);
	L->ctx = ctx;
	if (!SNAP_LE)
		return cxm__fail(ctx, CXM_ERR_UNSUPPORTED, "snapshots need a little-endian platform");
	cxm_status st = parse_structure(ctx, data, len, ps);
	if (st)
		return st;
	L->version = ps->version;
	unsigned char kid[16];
	key_id(ctx, kid);
	if (memcmp(kid, ps->key_id, 16) != 0)
		return cxm__fail(ctx, CXM_ERR_EXISTS,
				 "snapshot: it was saved under another customer key (set "
				 "cxm_config::customer_key to the saver's)");
	L->name_cap = (size_t)ctx->max_name_len + 1;
	if (!(L->name = cxm__alloc(ctx, L->name_cap)))
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory");
	if ((st = read_config(L, ps->config)) || (st = cxm__stats_read(L, ps->stats)))
		return st;
	if ((st = make_tmp(ctx, &L->tmp)))
		return st;
	struct snap_in mdl = cxm__loader_section(L, "model", ps->model);
	if ((st = cxm__model_read(L->tmp, &mdl, L->name)))
		return st;
	if (with_series && (st = cxm__series_sections_read(L, ps)))
		return st;
	/* journey state is small: read whole into the private context, for
	 * a load and for a merge alike; so are the entry cohorts (into the
	 * groups the JOURNEYS section made), the survey history (swapped in
	 * by a load, added by survey name by a merge) and the driver sets,
	 * their statistics and records (added into the target's sets of the
	 * same name by a merge) */
	if (ps->has_journeys)
		st = read_owned(L, "journeys", ps->journeys, cxm__journeys_read, "journey state");
	if (!st && ps->has_cohorts)
		st = read_owned(L, "cohorts", ps->cohorts, cxm__journeys_cohorts_read, "entry cohorts");
	if (!st && ps->has_governor)
		st = read_owned(L, "governor", ps->governor, cxm__governor_read, "survey history");
	if (!st && ps->has_drivers)
		st = read_owned(L, "drivers", ps->drivers, cxm__drivers_read, "driver sets");
	return st;
}

void cxm__snapshot_unparse(cxm_context *ctx, loader *L, parsed *ps)
{
	loader_free(L);
	parsed_free(ctx, ps);
}

/* ---- load ------------------------------------------------------------------------------ */

cxm_status cxm__snapshot_load_ready(cxm_context *ctx)
{
	const model *md = &ctx->model;
	bool empty = !atomic_load(&md->n_journeys) && !atomic_load(&md->n_touchpoints) &&
	       !atomic_load(&md->n_metrics) && !atomic_load(&md->n_segments) &&
	       !atomic_load(&ctx->n_series) && !atomic_load(&ctx->customers) &&
	       !atomic_load(&ctx->journeys) && !atomic_load(&ctx->n_triggers) &&
	       !atomic_load(&ctx->governor) && !atomic_load(&ctx->alerts) &&
	       !atomic_load(&ctx->signals) && !atomic_load(&ctx->baselines) &&
	       !atomic_load(&ctx->drivers) &&
	       atomic_load(&ctx->wm_epoch) == WATERMARK_NONE;
	if (!empty)
		return cxm__fail(ctx, CXM_ERR_INVALID,
				 "the context is not empty: load into a new context, or merge");
	return CXM_OK;
}

#define SWAP(T, a, b)                                                                          \
	do {                                                                                   \
		T swap_tmp_;                                                                   \
		memcpy(&swap_tmp_, &(a), sizeof(T));                                           \
		memcpy(&(a), &(b), sizeof(T));                                                 \
		memcpy(&(b), &swap_tmp_, sizeof(T));                                           \
	} while (0)

cxm_status cxm__snapshot_load(cxm_context *ctx, const void *data, size_t len)
{
	cxm_status st = cxm__snapshot_load_ready(ctx);
	if (st)
		return st;
	/* the empty context's bytes: the loader's own allocations (on ctx)
	 * are what it holds above this while it reads */
	const uint64_t before = atomic_load(&ctx->memory);
	loader L;
	parsed ps;
	st = cxm__snapshot_parse(ctx, data, len, &L, &ps, true);
	if (!st) {
		struct snap_in cust = cxm__loader_section(&L, "customers", ps.customers);
		if (!(st = cxm__customers_open_funnels(L.tmp, &cust)))
			st = cxm__customers_read(L.tmp, &cust, L.tmp, true, NULL);
	}
	/* rules, alerts and their states, signals and each customer's signal
	 * state, and baselines come back with a load; a merge keeps the
	 * target's own (the signals' ids are the target's) */
	if (!st && ps.has_triggers)
		st = read_owned(&L, "triggers", ps.triggers, cxm__triggers_read, "triggers");
	if (!st && ps.has_alerts)
		st = read_owned(&L, "alerts", ps.alerts, cxm__alerts_read, "alerts");
	if (!st && ps.has_signals)
		st = read_owned(&L, "signals", ps.signals, cxm__signals_read, "signals");
	if (!st && ps.has_baselines)
		st = read_owned(&L, "baselines", ps.baselines, cxm__baselines_read, "baselines");
	if (!st) {
		cxm_context *tmp = L.tmp;
		/* statistics: per shard when the shards match, else on shard 0
		 * with every shard at the context's watermark */
		for (uint32_t i = 0; i < tmp->n_shards; i++) {
			shard *sh = &tmp->shards[i];
			if (tmp->n_shards == L.shard_n) {
				sh->watermark = L.shard_wm[i];
				sh->accepted = L.shard_acc[i];
				sh->saturated = L.shard_sat[i];
				continue;
			}
			for (uint32_t j = 0; j < L.shard_n; j++) {
				if (L.shard_wm[j] != WATERMARK_NONE &&
				    (sh->watermark == WATERMARK_NONE || L.shard_wm[j] > sh->watermark))
					sh->watermark = L.shard_wm[j];
				if (i == 0) {
					sh->accepted += L.shard_acc[j];
					sh->saturated += L.shard_sat[j];
				}
			}
		}
		atomic_store(&tmp->wm_epoch, L.wm_epoch);
		for (int i = 0; i < CXM_STATUS_COUNT; i++)
			atomic_store(&tmp->rejected[i], L.rejected[i]);
		/* swap the state; the private context leaves with the old one */
		SWAP(model, ctx->model, tmp->model);
		SWAP(shard *, ctx->shards, tmp->shards);
		SWAP(_Atomic(cust_table *), ctx->customers, tmp->customers);
		SWAP(_Atomic(struct jmod *), ctx->journeys, tmp->journeys);
		SWAP(_Atomic(struct trig_mod *), ctx->triggers, tmp->triggers);
		SWAP(_Atomic uint32_t, ctx->n_triggers, tmp->n_triggers);
		SWAP(_Atomic(struct gov_mod *), ctx->governor, tmp->governor);
		SWAP(_Atomic(struct alert_mod *), ctx->alerts, tmp->alerts);
		SWAP(_Atomic(struct sig_mod *), ctx->signals, tmp->signals);
		SWAP(_Atomic(struct baseline_mod *), ctx->baselines, tmp->baselines);
		SWAP(_Atomic(struct drv_mod *), ctx->drivers, tmp->drivers);
		SWAP(_Atomic int64_t, ctx->wm_epoch, tmp->wm_epoch);
		SWAP(_Atomic uint64_t, ctx->n_series, tmp->n_series);
		atomic_fetch_add(&ctx->unpacked, atomic_load(&tmp->unpacked));
		/* the state changes hands with its bytes; the two contexts'
		 * empty states (same configuration) weigh the same, and the
		 * loader's buffers stay on ctx until they are given back below */
		uint64_t loader_bytes = atomic_load(&ctx->memory) - before;
		atomic_store(&ctx->memory, atomic_load(&tmp->memory) + loader_bytes);
		atomic_store(&tmp->memory, before);
		for (int i = 0; i < CXM_STATUS_COUNT; i++)
			SWAP(_Atomic uint64_t, ctx->rejected[i], tmp->rejected[i]);
	}
	cxm__snapshot_unparse(ctx, &L, &ps);
	return st;
}

cxm_status cxm_snapshot_load_mem(cxm_context *ctx, const void *data, size_t len)
{
	if (!ctx || (!data && len))
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "data");
	if (!data)
		return CORRUPT(ctx, "empty input");
	return cxm__snapshot_load(ctx, data, len);
}

cxm_status cxm_snapshot_tiers(cxm_tier *out, uint32_t *n_out, const void *data, size_t len)
{
	if (!out || !n_out || !data)
		return cxm__fail(NULL, CXM_ERR_INVALID, "%s is NULL", !out ? "out" : !n_out ? "n_out" : "data");
	const unsigned char *d = data;
	uint32_t version;
	cxm_status st = check_header(NULL, d, len, &version);
	if (st)
		return st;
	if (len - HEADER_LEN < SEC_HEAD + 4 + SEC_CRC)
		return CORRUPT(NULL, "truncated before the tiers");
	const unsigned char *h = d + HEADER_LEN;
	const uint64_t slen = ld64(h + 8);
	if (ld32(h) != SEC_CONFIG || ld32(h + 4) != 1)
		return CORRUPT(NULL, "the first section is not the tiers");
	if (slen < 4 + 12 || slen > 4 + 12 * CXM_MAX_TIERS || slen > len - HEADER_LEN - SEC_HEAD - SEC_CRC)
		return CORRUPT(NULL, "the tiers section's length %llu is wrong or truncated",
			       (unsigned long long)slen);
	if (!crc_ok(h, SEC_HEAD + (size_t)slen, ld32(h + SEC_HEAD + slen)))
		return CORRUPT(NULL, "checksum of the tiers section does not match");
	const uint32_t k = ld32(h + SEC_HEAD);
	if (k < 1 || k > CXM_MAX_TIERS || slen != 4 + 12 * (uint64_t)k)
		return CORRUPT(NULL, "the tiers section holds %u tiers in %llu bytes", k,
			       (unsigned long long)slen);
	for (uint32_t i = 0; i < k; i++) {
		const unsigned char *t = h + SEC_HEAD + 4 + 12 * i;
		out[i].bucket_ms = (int64_t)ld64(t);
		out[i].buckets = ld32(t + 8);
		out[i].reserved = 0;
	}
	*n_out = k;
	return CXM_OK;
}

