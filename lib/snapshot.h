/* What the files of whole-context persistence share (not API): the parsed
 * container and the loader of a snapshot being read (snapshot.c), the
 * SERIES and STATS sections (series_io.c), the merge (snapshot_merge.c)
 * and the file operations (snapshot_file.c). docs/snapshot.md describes
 * the bytes. */
#ifndef CXM_SNAPSHOT_H
#define CXM_SNAPSHOT_H

#include "codec.h"

/* ---- reading: pass 1, structure and checksums (snapshot.c) ------------------------------ */

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

/* ---- reading: pass 2, rebuilding (snapshot.c) ------------------------------------------- */

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
	unsigned char *scratch; /* two cells, for series_io.c's skip_if_empty() */
	size_t scratch_cap;
} loader;

/* The codec's readers, on a loader's section (its messages, its name). */
static inline cxm_status cxm__loader_get32(loader *L, rbuf *r, uint32_t *v)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__snap_get32(&in, v);
	*r = in.r;
	return st;
}
static inline cxm_status cxm__loader_get64(loader *L, rbuf *r, uint64_t *v)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__snap_get64(&in, v);
	*r = in.r;
	return st;
}
static inline cxm_status cxm__loader_cell(loader *L, rbuf *r, const metric *m, void *cell,
					  bool full, cxm_context *owner, series *owner_s)
{
	struct snap_in in = {L->ctx, L->what, *r, L->version};
	cxm_status st = cxm__cell_read(&in, m, cell, full, owner, owner_s);
	*r = in.r;
	return st;
}
/* Section sl, named `what` in messages from here on, for an owner's reader. */
static inline struct snap_in cxm__loader_section(loader *L, const char *what, slice sl)
{
	L->what = what;
	struct snap_in in = {L->ctx, L->what, {sl.p, sl.len}, L->version};
	return in;
}

/* Parse a whole snapshot into L->tmp: structure and checksums, the
 * configuration, statistics and model, the series when `with_series` (a
 * merge streams them from the bytes instead), and the journey, cohort,
 * governor and driver state; the customers are left to the caller. unparse
 * gives back what parse held, whether it succeeded or not. */
CXM_INTERNAL cxm_status cxm__snapshot_parse(cxm_context *ctx, const void *data, size_t len,
					    loader *L, parsed *ps, bool with_series);
CXM_INTERNAL void cxm__snapshot_unparse(cxm_context *ctx, loader *L, parsed *ps);

/* ---- whole snapshots (snapshot.c, snapshot_merge.c) ------------------------------------- */

/* A snapshot of ctx to fn (cxm_snapshot_write without its argument checks). */
CXM_INTERNAL cxm_status cxm__snapshot_write(cxm_context *ctx, cxm_write_fn fn, void *payload);
/* CXM_ERR_INVALID, said on ctx, unless ctx is empty (a load's condition). */
CXM_INTERNAL cxm_status cxm__snapshot_load_ready(cxm_context *ctx);
/* A snapshot's bytes loaded into the empty ctx, or merged into dst. */
CXM_INTERNAL cxm_status cxm__snapshot_load(cxm_context *ctx, const void *data, size_t len);
CXM_INTERNAL cxm_status cxm__snapshot_merge(cxm_context *dst, const void *data, size_t len);

/* ---- the SERIES and STATS sections (series_io.c) ---------------------------------------- */

/* What a shard held when its series were copied, so that the counters a
 * snapshot carries describe exactly the data it carries, however much is
 * fed while it is written. */
typedef struct shard_cap {
	int64_t watermark;
	uint64_t accepted, saturated;
} shard_cap;

/* Hands the payload of a SERIES section to the snapshot's sink. */
typedef cxm_status (*snap_emit_fn)(void *sink, const unsigned char *payload, size_t len);

/* Every shard's series, below the counts of the MODEL section written
 * (lim), as SERIES sections through emit; what each shard held into cap
 * (one per shard). b is the section buffer, left empty. */
CXM_INTERNAL cxm_status cxm__series_sections_write(cxm_context *ctx, wbuf *b,
						   const snap_limits *lim, shard_cap *cap,
						   snap_emit_fn emit, void *sink);
/* The STATS section, from cap: written after the series. */
CXM_INTERNAL void cxm__stats_write(wbuf *b, cxm_context *ctx, const shard_cap *cap);
/* Read it into L (shard_*, wm_epoch, rejected). */
CXM_INTERNAL cxm_status cxm__stats_read(loader *L, slice sl);
/* The series of every SERIES section of ps into L->tmp. */
CXM_INTERNAL cxm_status cxm__series_sections_read(loader *L, const parsed *ps);

/* The head of a SERIES record: its ids, checked against L->tmp's model
 * (slot: the series slot of segment d's value v), and its newest epochs,
 * checked against the snapshot's watermark. */
typedef struct series_head {
	uint32_t mid, tp, d, v, slot;
	int64_t hot, top[CXM_MAX_TIERS];
} series_head;
CXM_INTERNAL cxm_status cxm__series_head_read(loader *L, rbuf *r, series_head *h);
/* CXM_ERR_CORRUPT when the record is newer than the watermark of the
 * saver's shard of its touchpoint. */
CXM_INTERNAL cxm_status cxm__series_head_shard_check(const loader *L, const series_head *h);

#endif
