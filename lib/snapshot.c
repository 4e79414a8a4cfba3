/* Snapshots: save, load and merge the whole state of a context.
 *
 * The format is in docs/snapshot.md. Writing copies one shard (or one
 * customer stripe) at a time into a section buffer under its lock and
 * hands the buffer to the sink with no lock held. Reading is two passes:
 * the first checks the structure and every checksum without allocating
 * anything; the second rebuilds the state into a private context made
 * with the target's configuration, through the same define functions a
 * caller uses (so every name, definition and limit is checked as if it
 * came from a caller), and every length is checked against the bytes
 * left before anything is allocated for it. A load swaps the private
 * context's state in; a merge adds it into the target, series by series.
 *
 * The MODEL section is written and read by model_io.c, the customer table
 * (CUSTOMERS) by customers_io.c through customers.c's accessors, the
 * journey state (JOURNEYS) by journeys_io.c, each through the codec
 * (codec.c). */
#include "codec.h"
#include "cxm_internal.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* ---- cells ---------------------------------------------------------------------------
 *
 * A cell is written field by field (never padding or bins outside the used
 * range, which may be uninitialized). "full" is false for the finest-tier
 * cells of a DURATION or DISTINCT, which hold only the moments or the
 * count (see window.c). */

static void write_config(wbuf *b, cxm_context *ctx)
{
	cxm__wb_put32(b, ctx->n_tiers);
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		cxm__wb_put64(b, (uint64_t)ctx->tiers[k].bucket_ms);
		cxm__wb_put32(b, ctx->tiers[k].buckets);
	}
}

/* What a shard held when its series were copied (write_shard), so that
 * the counters a snapshot carries describe exactly the data it carries,
 * however much is fed while it is written. */
typedef struct shard_cap {
	int64_t watermark;
	uint64_t accepted, saturated;
} shard_cap;

/* Written after the series, from what each shard held when its series
 * were copied: every series' buckets lie behind the watermarks written
 * here, and `accepted` counts what the series hold. */
static void write_stats(wbuf *b, cxm_context *ctx, const shard_cap *cap)
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

/* A SERIES section is closed and handed to the sink when its buffer
 * reaches this size, so that the buffer stays small and warm. */

/* Close the SERIES section in b (if it holds any series) and emit it with
 * the shard unlocked. */
static cxm_status flush_series(sink *k, wbuf *b, cxm_context *ctx, shard *sh, uint32_t *count,
			       bool relock)
{
	cxm_status st = CXM_OK;
	pthread_mutex_unlock(&sh->lock);
	if (b->oom)
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a series section");
	else if (*count) {
		st32(b->p, *count);
		st = emit_section(k, SEC_SERIES, b->p, b->len);
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
static cxm_status write_shard(sink *k, wbuf *b, cxm_context *ctx, uint32_t i,
			      const snap_limits *sn, shard_cap *cap)
{
	const model *md = &ctx->model;
	uint32_t nm = sn->metrics, nt = sn->touchpoints, nseg = sn->segments;
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
				series ***row = sh->rows[mid];
				series **grp = row ? ROW(ctx, row, tp) : NULL;
				if (!grp)
					break;
				if (!grp[slot])
					continue;
				uint32_t d, v;
				slot_dim(md, nseg, slot, &d, &v);
				if (slot && (d == CXM_NONE || v >= sn->values[d]))
					continue; /* a value newer than the model written */
				write_series(b, ctx, grp[slot], mid, tp, d, v);
				count++;
				if ((count == UINT32_MAX || b->oom) &&
				    (st = flush_series(k, b, ctx, sh, &count, true)))
					return st;
			}
			if (!sh->rows[mid])
				break;
		}
	}
	cap->watermark = sh->watermark;
	cap->accepted = sh->accepted;
	cap->saturated = sh->saturated;
	return flush_series(k, b, ctx, sh, &count, false);
}

static cxm_status snapshot_write(cxm_context *ctx, cxm_write_fn fn, void *payload)
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
	snap_limits sn;
	uint32_t values[64];
	memset(values, 0, sizeof values);
	cxm__model_write(ctx, &b, &sn, values);
	if (b.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_MODEL, b.p, b.len)))
		goto out;
	cap = cxm__alloc(ctx, sizeof *cap * ctx->n_shards);
	if (!cap)
		goto oom;
	for (uint32_t i = 0; i < ctx->n_shards; i++)
		if ((st = write_shard(&k, &b, ctx, i, &sn, &cap[i])))
			goto out;
	b.len = 0;
	cxm__customers_write(ctx, &b, sn.journeys);
	if (b.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_CUSTOMERS, b.p, b.len)))
		goto out;
	b.len = 0;
	cxm__journeys_write(ctx, &b, &cb, sn.journeys, sn.segments, sn.values);
	if (b.oom || cb.oom)
		goto oom;
	if ((st = emit_section(&k, SEC_JOURNEYS, b.p, b.len)))
		goto out;
	b.len = 0;
	if (atomic_load_explicit(&ctx->n_triggers, memory_order_acquire)) {
		/* optional: a context without rules writes what it always did */
		cxm__triggers_write(ctx, &b, &sn);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, SEC_TRIGGERS, b.p, b.len)))
			goto out;
		b.len = 0;
	}
	if (atomic_load_explicit(&ctx->governor, memory_order_acquire)) {
		/* optional too: only a context with surveys or rules writes it */
		cxm__governor_write(ctx, &b, &sn);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, SEC_GOVERNOR, b.p, b.len)))
			goto out;
		b.len = 0;
	}
	if (atomic_load_explicit(&ctx->alerts, memory_order_acquire)) {
		/* optional: only a context with alerts writes it */
		cxm__alerts_write(ctx, &b, &sn);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, SEC_ALERTS, b.p, b.len)))
			goto out;
		b.len = 0;
	}
	if (atomic_load_explicit(&ctx->signals, memory_order_acquire)) {
		/* optional: only a context with signals writes it */
		cxm__signals_write(ctx, &b, &sn);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, SEC_SIGNALS, b.p, b.len)))
			goto out;
		b.len = 0;
	}
	if (atomic_load_explicit(&ctx->baselines, memory_order_acquire)) {
		/* optional: only a context with baselines writes it */
		cxm__baselines_write(ctx, &b, &sn);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, SEC_BASELINES, b.p, b.len)))
			goto out;
		b.len = 0;
	}
	if (atomic_load_explicit(&ctx->drivers, memory_order_acquire)) {
		/* optional: only a context with driver sets writes it */
		cxm__drivers_write(ctx, &b, &sn);
		if (b.oom)
			goto oom;
		if ((st = emit_section(&k, SEC_DRIVERS, b.p, b.len)))
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
	write_stats(&b, ctx, cap);
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
	return snapshot_write(ctx, fn, payload);
}

/* ---- reading: pass 1, structure and checksums ------------------------------------------ */

typedef struct slice {
	const unsigned char *p;
	size_t len;
} slice;

typedef struct parsed {
	uint32_t version;
	unsigned char key_id[16];
	slice config, model, customers, journeys, stats, triggers, governor, alerts, signals, baselines,
		drivers, cohorts;
	bool has_journeys; /* the JOURNEYS section is optional */
	bool has_triggers; /* so are TRIGGERS */
	bool has_governor; /* and GOVERNOR */
	bool has_alerts;   /* and ALERTS */
	bool has_signals;  /* and SIGNALS */
	bool has_baselines; /* and BASELINES */
	bool has_drivers;   /* and DRIVERS */
	bool has_cohorts;   /* and COHORTS */
	slice *series; /* n_series sections, in the context's memory */
	size_t n_series, cap_series;
} parsed;


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

/* The state being read, in a private context, and where its messages go. */
typedef struct loader {
	cxm_context *ctx; /* the caller's: messages are recorded for it */
	cxm_context *tmp; /* the fresh state */
	const char *what; /* the section being read, for messages */
	char *name;       /* a NUL-terminated copy of the latest string */
	size_t name_cap;
	uint32_t shard_n;          /* shards in the snapshot */
	int64_t *shard_wm;         /* their watermarks */
	uint64_t *shard_acc, *shard_sat;
	size_t shard_bytes;
	uint64_t rejected[CXM_STATUS_COUNT];
	int64_t wm_epoch;
	uint32_t version; /* the snapshot's format version */
	unsigned char *scratch; /* two cells, for skip_if_empty() */
	size_t scratch_cap;
} loader;

/* The codec's readers, on a loader's section (its messages, its name). */
static cxm_status cell_read(loader *L, rbuf *r, const metric *m, void *cell, bool full,
			    cxm_context *owner, series *owner_s)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__cell_read(&in, m, cell, full, owner, owner_s);
	*r = in.r;
	return st;
}

static cxm_status series_cells_read(loader *L, rbuf *r, cxm_context *into, series *s, int64_t hot,
				    const int64_t *top)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__series_cells_read(&in, into, s, hot, top);
	*r = in.r;
	return st;
}


static cxm_status rd32(loader *L, rbuf *r, uint32_t *v)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__snap_get32(&in, v);
	*r = in.r;
	return st;
}
static cxm_status rd64(loader *L, rbuf *r, uint64_t *v)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__snap_get64(&in, v);
	*r = in.r;
	return st;
}

static cxm_status read_config(loader *L, slice sl)
{
	cxm_context *ctx = L->ctx;
	rbuf r = {sl.p, sl.len};
	cxm_status st;
	uint32_t nt;
	L->what = "config";
	if ((st = rd32(L, &r, &nt)))
		return st;
	if (nt != ctx->n_tiers)
		return cxm__fail(ctx, CXM_ERR_EXISTS, "snapshot: %u tiers; this context has %u", nt,
				 ctx->n_tiers);
	for (uint32_t k = 0; k < nt; k++) {
		uint64_t w;
		uint32_t n;
		if ((st = rd64(L, &r, &w)) || (st = rd32(L, &r, &n)))
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

static cxm_status read_stats(loader *L, slice sl)
{
	cxm_context *ctx = L->ctx;
	rbuf r = {sl.p, sl.len};
	cxm_status st;
	L->what = "statistics";
	if ((st = rd32(L, &r, &L->shard_n)))
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
	if ((st = rd64(L, &r, &wm)))
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
	if ((st = rd32(L, &r, &nst)))
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

/* The place of series (metric, touchpoint, slot) in a shard, creating its
 * row and group when `create`; *made_row / *made_grp say what was made. */
static series **series_ref(cxm_context *ctx, shard *sh, cxm_id mid, cxm_id tp, uint32_t slot,
			   bool create, bool *made_row, bool *made_grp)
{
	series ***row = sh->rows[mid];
	if (!row) {
		if (!create)
			return NULL;
		if (!(row = cxm__calloc(ctx, row_len(ctx), sizeof(series **))))
			return NULL;
		sh->rows[mid] = row;
		*made_row = true;
	}
	series **grp = ROW(ctx, row, tp);
	if (!grp) {
		if (!create)
			return NULL;
		if (!(grp = cxm__calloc(ctx, 1 + (size_t)ctx->max_segment_values, sizeof(series *))))
			return NULL;
		ROW(ctx, row, tp) = grp;
		*made_grp = true;
	}
	return &grp[slot];
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

/* The cells of a record into s, a new series of `into`, whose newest
 * epochs (checked by the caller) are hot and top. */
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
		if ((st = rd32(L, &at, &tagged)))
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
		if ((st = cell_read(L, &at, m, cell, true, NULL, NULL)))
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
	const unsigned char *p = take(r, 16 + 8 + 8 * (size_t)ctx->n_tiers);
	if (!p)
		return TRUNC(L);
	uint32_t mid = ld32(p), tp = ld32(p + 4), d = ld32(p + 8), v = ld32(p + 12), slot = 0;
	cxm_status st = record_ids(L, tmp, mid, tp, d, v, &slot);
	if (st)
		return st;
	const metric *m = &tmp->model.metrics[mid];
	int64_t hot = (int64_t)ld64(p + 16), top[CXM_MAX_TIERS];
	int64_t wm = L->wm_epoch;
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		top[k] = (int64_t)ld64(p + 24 + 8 * k);
		int64_t w = ctx->tiers[k].bucket_ms;
		/* no bucket starts after the finest bucket of the watermark */
		if (top[k] != TAG_EMPTY &&
		    (top[k] < 0 || wm == WATERMARK_NONE || top[k] > floordiv64(wm * ctx->tiers[0].bucket_ms, w)))
			return CORRUPT(ctx, "a series' tier %u reaches bucket %lld, past the watermark", k,
				       (long long)top[k]);
	}
	if (hot != top[0])
		return CORRUPT(ctx, "a series' newest bucket is not its finest tier's newest");
	if ((st = skip_if_empty(L, r, m, top)) != CXM_OK)
		return st == SKIPPED ? CXM_OK : st;
	shard *sh = &tmp->shards[tp % tmp->n_shards];
	bool made = false;
	series **ref = series_ref(tmp, sh, mid, tp, slot, true, &made, &made);
	if (!ref)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a series index");
	if (*ref)
		return CORRUPT(ctx, "series (metric %u, touchpoint %u, segment %u, value %u) appears twice",
			       mid, tp, d, v);
	if (atomic_load(&tmp->n_series) >= ctx->max_series)
		return cxm__fail(ctx, CXM_ERR_LIMIT, "snapshot: more series than max_series (%llu)",
				 (unsigned long long)ctx->max_series);
	series *s = cxm__series_new(tmp, m, &sh->series_bytes);
	if (!s)
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a series");
	/* owned by the private context from here: freed with it on failure */
	*ref = s;
	sh->n_series++;
	atomic_fetch_add(&tmp->n_series, 1);
	if ((st = series_cells_read(L, r, tmp, s, hot, top)))
		return st;
	/* the saver's shard of the touchpoint accepted this series' times */
	int64_t swm = L->shard_wm[tp % L->shard_n];
	if (top[0] != TAG_EMPTY && (swm == WATERMARK_NONE || swm / ctx->tiers[0].bucket_ms < top[0]))
		return CORRUPT(ctx, "a series is newer than its shard's watermark");
	return CXM_OK;
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

/* Parse a whole snapshot into L->tmp (model and series; customers only
 * when `with_customers`: a merge adds them to the target directly). */
static cxm_status parse(cxm_context *ctx, const void *data, size_t len, loader *L, parsed *ps,
			bool with_series)
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
	if ((st = read_config(L, ps->config)) || (st = read_stats(L, ps->stats)))
		return st;
	if ((st = make_tmp(ctx, &L->tmp)))
		return st;
	L->what = "model";
	struct snap_in mdl = {L->ctx, L->what, {ps->model.p, ps->model.len}, L->version};
	if ((st = cxm__model_read(L->tmp, &mdl, L->name)))
		return st;
	L->what = "series";
	for (size_t i = 0; with_series && i < ps->n_series; i++) {
		rbuf r = {ps->series[i].p, ps->series[i].len};
		uint32_t n;
		if ((st = rd32(L, &r, &n)))
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
	if (ps->has_journeys) {
		/* journey state is small: read whole into the private context,
		 * for a load and for a merge alike */
		L->what = "journeys";
		struct snap_in in = {L->ctx, L->what, {ps->journeys.p, ps->journeys.len}, L->version};
		if ((st = cxm__journeys_read(L->tmp, &in)))
			return st;
		if (in.r.left)
			return CORRUPT(ctx, "%zu bytes after the journey state", in.r.left);
	}
	if (ps->has_cohorts) {
		/* into the groups the JOURNEYS section made */
		L->what = "cohorts";
		struct snap_in in = {L->ctx, L->what, {ps->cohorts.p, ps->cohorts.len}, L->version};
		if ((st = cxm__journeys_cohorts_read(L->tmp, &in)))
			return st;
		if (in.r.left)
			return CORRUPT(ctx, "%zu bytes after the entry cohorts", in.r.left);
	}
	if (ps->has_governor) {
		/* the survey history: into the private context, for a load
		 * (swapped in) and a merge (added by survey name) alike */
		L->what = "governor";
		struct snap_in in = {L->ctx, L->what, {ps->governor.p, ps->governor.len}, L->version};
		if ((st = cxm__governor_read(L->tmp, &in)))
			return st;
		if (in.r.left)
			return CORRUPT(ctx, "%zu bytes after the survey history", in.r.left);
	}
	if (ps->has_drivers) {
		/* driver sets, their statistics and records: into the private
		 * context, for a load (swapped in) and a merge (added into the
		 * target's sets of the same name) alike */
		L->what = "drivers";
		struct snap_in in = {L->ctx, L->what, {ps->drivers.p, ps->drivers.len}, L->version};
		if ((st = cxm__drivers_read(L->tmp, &in)))
			return st;
		if (in.r.left)
			return CORRUPT(ctx, "%zu bytes after the driver sets", in.r.left);
	}
	return CXM_OK;
}

/* ---- load ------------------------------------------------------------------------------ */

static bool ctx_empty(cxm_context *ctx)
{
	const model *md = &ctx->model;
	return !atomic_load(&md->n_journeys) && !atomic_load(&md->n_touchpoints) &&
	       !atomic_load(&md->n_metrics) && !atomic_load(&md->n_segments) &&
	       !atomic_load(&ctx->n_series) && !atomic_load(&ctx->customers) &&
	       !atomic_load(&ctx->journeys) && !atomic_load(&ctx->n_triggers) &&
	       !atomic_load(&ctx->governor) && !atomic_load(&ctx->alerts) &&
	       !atomic_load(&ctx->signals) && !atomic_load(&ctx->baselines) &&
	       !atomic_load(&ctx->drivers) &&
	       atomic_load(&ctx->wm_epoch) == WATERMARK_NONE;
}

#define SWAP(T, a, b)                                                                          \
	do {                                                                                   \
		T swap_tmp_;                                                                   \
		memcpy(&swap_tmp_, &(a), sizeof(T));                                           \
		memcpy(&(a), &(b), sizeof(T));                                                 \
		memcpy(&(b), &swap_tmp_, sizeof(T));                                           \
	} while (0)

static cxm_status load_mem(cxm_context *ctx, const void *data, size_t len)
{
	if (!ctx_empty(ctx))
		return cxm__fail(ctx, CXM_ERR_INVALID,
				 "the context is not empty: load into a new context, or merge");
	/* the empty context's bytes: the loader's own allocations (on ctx)
	 * are what it holds above this while it reads */
	const uint64_t before = atomic_load(&ctx->memory);
	loader L;
	parsed ps;
	cxm_status st = parse(ctx, data, len, &L, &ps, true);
	if (!st) {
		L.what = "customers";
		struct snap_in cust = {L.ctx, L.what, {ps.customers.p, ps.customers.len}, L.version};
		if (!(st = cxm__customers_open_funnels(L.tmp, &cust)))
			st = cxm__customers_read(L.tmp, &cust, L.tmp, true, NULL);
	}
	if (!st && ps.has_triggers) {
		/* rules come back with a load; a merge keeps the target's own */
		L.what = "triggers";
		struct snap_in in = {L.ctx, L.what, {ps.triggers.p, ps.triggers.len}, L.version};
		st = cxm__triggers_read(L.tmp, &in);
		if (!st && in.r.left)
			st = CORRUPT(ctx, "%zu bytes after the triggers", in.r.left);
	}
	if (!st && ps.has_alerts) {
		/* alerts and their states come back with a load; a merge keeps
		 * the target's */
		L.what = "alerts";
		struct snap_in in = {L.ctx, L.what, {ps.alerts.p, ps.alerts.len}, L.version};
		st = cxm__alerts_read(L.tmp, &in);
		if (!st && in.r.left)
			st = CORRUPT(ctx, "%zu bytes after the alerts", in.r.left);
	}
	if (!st && ps.has_signals) {
		/* signals and each customer's signal state come back with a
		 * load; a merge keeps the target's (its ids are the target's) */
		L.what = "signals";
		struct snap_in in = {L.ctx, L.what, {ps.signals.p, ps.signals.len}, L.version};
		st = cxm__signals_read(L.tmp, &in);
		if (!st && in.r.left)
			st = CORRUPT(ctx, "%zu bytes after the signals", in.r.left);
	}
	if (!st && ps.has_baselines) {
		/* baselines come back with a load; a merge keeps the target's */
		L.what = "baselines";
		struct snap_in in = {L.ctx, L.what, {ps.baselines.p, ps.baselines.len}, L.version};
		st = cxm__baselines_read(L.tmp, &in);
		if (!st && in.r.left)
			st = CORRUPT(ctx, "%zu bytes after the baselines", in.r.left);
	}
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
		 * loader's buffers stay on ctx until loader_free() below */
		uint64_t loader_bytes = atomic_load(&ctx->memory) - before;
		atomic_store(&ctx->memory, atomic_load(&tmp->memory) + loader_bytes);
		atomic_store(&tmp->memory, before);
		for (int i = 0; i < CXM_STATUS_COUNT; i++)
			SWAP(_Atomic uint64_t, ctx->rejected[i], tmp->rejected[i]);
	}
	loader_free(&L);
	parsed_free(ctx, &ps);
	return st;
}

cxm_status cxm_snapshot_load_mem(cxm_context *ctx, const void *data, size_t len)
{
	if (!ctx || (!data && len))
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s is NULL", !ctx ? "ctx" : "data");
	if (!data)
		return CORRUPT(ctx, "empty input");
	return load_mem(ctx, data, len);
}

/* ---- merge ------------------------------------------------------------------------------ */

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
		series **ref = series_ref(dst, sh, x->mid, x->tp, x->slot, false, NULL, NULL);
		if (x->s && ref && *ref == x->s && cxm__series_empty(x->s)) {
			sh->n_series--;
			atomic_fetch_sub(&dst->n_series, 1);
			cxm__series_free(dst, x->s);
			*ref = NULL;
		}
		series ***row = sh->rows[x->mid];
		if (x->grp && row && ROW(dst, row, x->tp)) {
			bool none = true;
			for (size_t i = 0; none && i <= dst->max_segment_values; i++)
				none = ROW(dst, row, x->tp)[i] == NULL;
			if (none) {
				cxm__free(dst, ROW(dst, row, x->tp), sizeof(series *) * (1 + (size_t)dst->max_segment_values));
				ROW(dst, row, x->tp) = NULL;
			}
		}
		if (x->row && row) {
			bool none = true;
			for (size_t i = 0; none && i < row_len(dst); i++)
				none = row[i] == NULL;
			if (none) {
				cxm__free(dst, row, sizeof(series **) * row_len(dst));
				sh->rows[x->mid] = NULL;
			}
		}
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
	series **ref = series_ref(dst, sh, dm, dt, ds, true, &x.row, &x.grp);
	if (!ref) {
		st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for a series index");
	} else if (!*ref) {
		if (atomic_fetch_add(&dst->n_series, 1) >= dst->max_series) {
			atomic_fetch_sub(&dst->n_series, 1);
			st = cxm__fail(dst, CXM_ERR_LIMIT, "merge: max_series (%llu) reached",
				       (unsigned long long)dst->max_series);
		} else if (!(x.s = cxm__series_new(dst, &dst->model.metrics[dm], &sh->series_bytes))) {
			atomic_fetch_sub(&dst->n_series, 1);
			st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory for a series");
		} else {
			*ref = x.s;
			sh->n_series++;
		}
	}
	if (x.s || x.row || x.grp)
		S->list[S->n_made++] = x;
	pthread_mutex_unlock(&sh->lock);
	return st;
}

#define NO_PAGE(S) cxm__fail((S)->dst, CXM_ERR_NO_MEMORY, "merge: no memory for a time bucket")

/* After a merge, or its failure: the pages reserved and not filled go. */
static void unreserve_all(cxm_context *dst)
{
	for (uint32_t i = 0; i < dst->n_shards; i++) {
		shard *sh = &dst->shards[i];
		pthread_mutex_lock(&sh->lock);
		for (uint32_t m = 0; sh->rows && m < dst->max_metrics; m++)
			for (uint32_t t = 0; sh->rows[m] && t < row_len(dst); t++)
				for (uint32_t v = 0; sh->rows[m][t] && v <= dst->max_segment_values; v++)
					if (sh->rows[m][t][v])
						cxm__series_unreserve(dst, sh->rows[m][t][v]);
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
	series **ref = series_ref(dst, sh, dm, dt, ds, true, &r, &g);
	if (ref && !*ref && (*ref = cxm__series_new(dst, &dst->model.metrics[dm], &sh->series_bytes))) {
		atomic_fetch_add(&dst->n_series, 1);
		sh->n_series++;
	}
	if (!ref || !*ref)
		S->late = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory; the merge is incomplete");
	return ref ? *ref : NULL;
}

static cxm_status stream_record(stream *S, rbuf *r, int pass)
{
	loader *L = S->L;
	cxm_context *ctx = L->ctx, *src = L->tmp;
	const unsigned char *p = take(r, 16 + 8 + 8 * (size_t)ctx->n_tiers);
	if (!p)
		return TRUNC(L);
	uint32_t mid = ld32(p), tp = ld32(p + 4), d = ld32(p + 8), v = ld32(p + 12), slot = 0;
	cxm_status st = record_ids(L, src, mid, tp, d, v, &slot);
	if (st)
		return st;
	const metric *m = &src->model.metrics[mid];
	cxm_id dm = S->im->metric[mid], dt = S->im->touchpoint[tp];
	uint32_t ds = S->im->slot[slot];
	int64_t hot = (int64_t)ld64(p + 16), top[CXM_MAX_TIERS], wm = L->wm_epoch;
	for (uint32_t k = 0; k < ctx->n_tiers; k++) {
		top[k] = (int64_t)ld64(p + 24 + 8 * k);
		if (top[k] != TAG_EMPTY &&
		    (top[k] < 0 || wm == WATERMARK_NONE ||
		     top[k] > floordiv64(wm * ctx->tiers[0].bucket_ms, ctx->tiers[k].bucket_ms)))
			return CORRUPT(ctx, "a series' tier %u reaches bucket %lld, past the watermark", k,
				       (long long)top[k]);
	}
	if (hot != top[0])
		return CORRUPT(ctx, "a series' newest bucket is not its finest tier's newest");
	int64_t swm = L->shard_wm[tp % L->shard_n];
	if (top[0] != TAG_EMPTY && (swm == WATERMARK_NONE || swm / ctx->tiers[0].bucket_ms < top[0]))
		return CORRUPT(ctx, "a series is newer than its shard's watermark");
	series *ds_series = NULL, *rs_series = NULL;
	shard *sh = NULL;
	if (pass == 0) {
		uint64_t slots = 1 + (uint64_t)src->model.slots_used;
		uint64_t key = ((uint64_t)mid * src->max_touchpoints + tp) * slots + slot + 1;
		if (!key_insert(S, key))
			return CORRUPT(ctx, "series (metric %u, touchpoint %u, segment %u, value %u) appears twice",
				       mid, tp, d, v);
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
	    !(st = cell_read(L, r, m, S->cell, m->bins_tier == 0, NULL, NULL)) && ds_series)
		stream_add(S, ds_series, 0, hot);
	for (uint32_t k = 0; k < ctx->n_tiers && !st; k++) {
		uint32_t tagged;
		const int64_t n = ctx->tiers[k].buckets;
		if ((st = rd32(L, r, &tagged)))
			break;
		if (tagged > n || (top[k] == TAG_EMPTY && tagged)) {
			st = CORRUPT(ctx, "a series' tier %u has %u buckets", k, tagged);
			break;
		}
		for (uint32_t i = 0; i < tagged && !st; i++) {
			uint64_t e;
			if ((st = rd64(L, r, &e)))
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
			else if (!(st = cell_read(L, r, m, S->cell, k >= m->bins_tier, NULL, NULL)) &&
				 ds_series)
				stream_add(S, ds_series, k, x);
		}
	}
	if (!st && m->life_size && !(st = cell_read(L, r, m, S->cell, true, NULL, NULL)) && ds_series &&
	    ds_series->life)
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
		cxm_status st = rd32(L, &r, &n);
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
	L->what = "customers";
	struct snap_in cust = {L->ctx, L->what, {ps->customers.p, ps->customers.len}, L->version};
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

static cxm_status merge_mem(cxm_context *dst, const void *data, size_t len)
{
	loader L;
	parsed ps;
	cxm_status st = parse(dst, data, len, &L, &ps, false);
	if (!st)
		st = merge_stream(dst, &L, &ps);
	loader_free(&L);
	parsed_free(dst, &ps);
	return st;
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

cxm_status cxm_snapshot_merge_mem(cxm_context *dst, const void *data, size_t len)
{
	if (!dst || (!data && len))
		return cxm__fail(dst, CXM_ERR_INVALID, "%s is NULL", !dst ? "dst" : "data");
	if (!data)
		return CORRUPT(dst, "empty input");
	return merge_mem(dst, data, len);
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
	cxm_status st = snapshot_write(src, to_wbuf, &b);
	if (st) {
		char msg[256];
		snprintf(msg, sizeof msg, "%s", cxm_errmsg(src));
		if (b.oom)
			st = cxm__fail(dst, CXM_ERR_NO_MEMORY, "merge: no memory to copy the source");
		else
			st = cxm__fail(dst, st, "merge: reading the source: %s", msg);
	} else {
		st = merge_mem(dst, b.p, b.len);
	}
	cxm__wb_free(&b);
	return st;
}

/* ---- files ------------------------------------------------------------------------------- */

static const cxm_io *io_of(const cxm_context *ctx)
{
	return ctx->io ? ctx->io : &cxm__io_posix;
}

static cxm_status io_fail(cxm_context *ctx, const char *op, const char *path, int err)
{
	char buf[128];
	const char *text = strerror_r(err, buf, sizeof buf);
	return cxm__fail(ctx, CXM_ERR_IO, "%s '%s': %s (errno %d)", op, path, text, err);
}

typedef struct fsink {
	const cxm_io *io;
	int fd;
	int err;
} fsink;

static int to_file(const void *data, size_t len, void *payload)
{
	fsink *f = payload;
	if (cxm__io_write_all(f->io, f->fd, data, len) == 0)
		return 0;
	f->err = errno;
	return -1;
}

/* Remove the temporary files an earlier save of the same target left when
 * its process died mid-save (named <target>.tmp-<pid>-<hex>): those whose
 * process no longer exists. A live process's are left alone, whether it
 * is saving now or not. Best effort: a failure here never fails a save. */
static void remove_stale_temps(cxm_context *ctx, const char *dir, const char *base)
{
	const cxm_io *io = io_of(ctx);
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t blen = strlen(base), dlen = strlen(dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp-", 5) != 0)
			continue;
		char *end;
		errno = 0;
		long pid = strtol(n + blen + 5, &end, 10);
		if (errno || pid <= 0 || *end != '-' || !end[1] || strspn(end + 1, "0123456789abcdef") !=
								    strlen(end + 1))
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or not ours to tell */
		size_t cap = dlen + 1 + strlen(n) + 1;
		char *full = cxm__alloc(ctx, cap);
		if (!full)
			break;
		snprintf(full, cap, "%s/%s", dir, n);
		io->unlink(full);
		cxm__free(ctx, full, cap);
	}
	closedir(d);
}

cxm_status cxm_snapshot_save(cxm_context *ctx, const char *path)
{
	if (!ctx || !path || !*path)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s", !ctx ? "ctx is NULL" : !path ? "path is NULL" : "path is empty");
	const cxm_io *io = io_of(ctx);
	size_t plen = strlen(path);
	size_t tcap = plen + 64;
	char *tmp = cxm__alloc(ctx, tcap);
	char *dir = cxm__alloc(ctx, plen + 2);
	if (!tmp || !dir) {
		cxm__free(ctx, tmp, tcap);
		cxm__free(ctx, dir, plen + 2);
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a file name");
	}
	/* the directory, for its fsync after the rename */
	const char *slash = strrchr(path, '/');
	if (!slash)
		memcpy(dir, ".", 2);
	else if (slash == path)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = 0;
	}
	cxm_status st = CXM_OK;
	int fd = -1;
	remove_stale_temps(ctx, dir, slash ? slash + 1 : path);
	/* a snapshot that replaces another keeps its mode (and, where this
	 * process may set it, its owner); a new one is 0644 less the umask */
	struct stat old;
	bool keep = stat(path, &old) == 0 && S_ISREG(old.st_mode);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
		snprintf(tmp, tcap, "%s.tmp-%ld-%lx", path, (long)getpid(),
			 (unsigned long)(ts.tv_nsec + attempt * 7919 + (long)(uintptr_t)ctx));
		fd = io->open(tmp, O_WRONLY | O_CREAT | O_EXCL, keep ? old.st_mode & 07777 : 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		st = io_fail(ctx, "create", tmp, errno);
		goto done;
	}
	if (keep) {
		/* best effort: the umask narrowed the mode at open, and only a
		 * privileged process may give the file away */
		(void)!fchmod(fd, old.st_mode & 07777);
		if (old.st_uid != geteuid() || old.st_gid != getegid())
			(void)!fchown(fd, old.st_uid, old.st_gid);
	}
	fsink f = {io, fd, 0};
	st = snapshot_write(ctx, to_file, &f);
	if (st == CXM_ERR_IO)
		st = io_fail(ctx, "write", tmp, f.err);
	if (!st && io->fsync(fd) != 0)
		st = io_fail(ctx, "fsync", tmp, errno);
	int rc = io->close(fd);
	if (!st && rc != 0)
		st = io_fail(ctx, "close", tmp, errno);
	if (!st && io->rename(tmp, path) != 0)
		st = io_fail(ctx, "rename to", path, errno);
	if (st) {
		io->unlink(tmp); /* best effort: the failure is already reported */
		goto done;
	}
	int dfd = io->open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0) {
		st = io_fail(ctx, "open directory", dir, errno);
		goto done;
	}
	if (io->fsync(dfd) != 0)
		st = io_fail(ctx, "fsync directory", dir, errno);
	if (io->close(dfd) != 0 && !st)
		st = io_fail(ctx, "close directory", dir, errno);
done:
	cxm__free(ctx, tmp, tcap);
	cxm__free(ctx, dir, plen + 2);
	return st;
}

/* Read a whole snapshot file into the context's memory. Only a regular
 * file is read (a FIFO, a device such as /dev/zero or a directory is
 * refused before any byte is read: O_NONBLOCK keeps the open of a FIFO
 * from waiting for a writer), and never more than the size it had when
 * opened, so a file that grows meanwhile cannot make the read unbounded. */
static cxm_status read_file(cxm_context *ctx, const char *path, wbuf *b)
{
	const cxm_io *io = io_of(ctx);
	int fd = io->open(path, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return io_fail(ctx, "open", path, errno);
	cxm_status st = CXM_OK;
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		st = io_fail(ctx, "stat", path, errno);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = cxm__fail(ctx, CXM_ERR_IO, "snapshot: '%s' is not a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > SIZE_MAX / 2) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: '%s' is too large to read", path);
		goto out;
	}
	size_t want = (size_t)sb.st_size;
	unsigned char *p = cxm__wb_take(b, want ? want : 1);
	if (!p) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory to read '%s' (%zu bytes)",
			       path, want);
		goto out;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t n = io->read(fd, p + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = io_fail(ctx, "read", path, errno);
			goto out;
		}
		if (n == 0)
			break; /* shrank meanwhile: what was read is checked as any input */
		got += (size_t)n;
	}
	b->len = got;
out:
	io->close(fd); /* read-only: nothing of ours depends on it */
	return st;
}

static cxm_status file_op(cxm_context *ctx, const char *path, bool merge)
{
	if (!ctx || !path || !*path)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s", !ctx ? "ctx is NULL" : !path ? "path is NULL" : "path is empty");
	if (!merge && !ctx_empty(ctx))
		return cxm__fail(ctx, CXM_ERR_INVALID,
				 "the context is not empty: load into a new context, or merge");
	wbuf b = {ctx, NULL, 0, 0, false};
	cxm_status st = read_file(ctx, path, &b);
	if (!st)
		st = merge ? merge_mem(ctx, b.p, b.len) : load_mem(ctx, b.p, b.len);
	cxm__wb_free(&b);
	return st;
}

cxm_status cxm_snapshot_load(cxm_context *ctx, const char *path)
{
	return file_op(ctx, path, false);
}

cxm_status cxm_snapshot_merge(cxm_context *dst, const char *path)
{
	return file_op(dst, path, true);
}
