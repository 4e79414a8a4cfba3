/* The snapshot fuzz target, its seed corpus, and what the hostile-snapshot
 * test (tests/test_hostile.c) shares with them (tests/fuzz). */
#ifndef CXM_FUZZ_H
#define CXM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "cxm.h"

/* The fixed clock of the fuzz configuration: 2026-12-24T00:00:00Z. */
#define FUZZ_NOW (INT64_C(1795392000000) + INT64_C(30) * 86400000)

/* The configuration every context of the target and the corpus uses: small
 * limits, so that hostile counts meet them quickly, and a fixed key. */
cxm_config fuzz_config(void);

/* Define the corpus's model in ctx (what the target merges into). */
void fuzz_define(cxm_context *ctx);

/* The customer ids the corpus feeds: "c0" .. "c19". */
#define FUZZ_KNOWN_CUSTOMERS 20
void fuzz_known_id(int i, char out[16]);

/* Seed snapshot number i (0 <= i < FUZZ_SEEDS), malloc'ed into *out:
 * 0 empty; 1 .. 5 random workloads of growing size; 6 journeys over
 * several channels with open, done, abandoned and churned instances, two
 * segment dimensions; 7 seed 6 without its JOURNEYS section; 8 every
 * touchpoint and segment value in one minute (many series, newest bucket
 * only); 9 seed 5 without its JOURNEYS section. */
#define FUZZ_SEEDS 10
int fuzz_seed(int i, unsigned char **out, size_t *len);
const char *fuzz_seed_name(int i);

/* cxm_snapshot_write() into a malloc'ed buffer: 0, or the cxm_status. */
int fuzz_save(cxm_context *ctx, unsigned char **out, size_t *len);

/* ---- the format (docs/snapshot.md), for surgery on snapshots ---- */

#define FUZZ_HEADER_LEN 64
#define FUZZ_MAX_SECTIONS 256
enum {
	FUZZ_SEC_CONFIG = 1,
	FUZZ_SEC_MODEL = 2,
	FUZZ_SEC_SERIES = 3,
	FUZZ_SEC_CUSTOMERS = 4,
	FUZZ_SEC_STATS = 5,
	FUZZ_SEC_JOURNEYS = 6,
	FUZZ_SEC_TRIGGERS = 7,
	FUZZ_SEC_GOVERNOR = 8,
	FUZZ_SEC_ALERTS = 9,
	FUZZ_SEC_SIGNALS = 10,
	FUZZ_SEC_DRIVERS = 12,
	FUZZ_SEC_COHORTS = 13,
	FUZZ_SEC_END = 0x7f
};

/* CRC32C (Castagnoli), chained like the library's: crc of a then b is
 * fuzz_crc32c(fuzz_crc32c(0, a, na), b, nb). */
uint32_t fuzz_crc32c(uint32_t crc, const void *p, size_t n);

/* A section as it lies in a snapshot: off is its header's offset, len its
 * payload's length (the payload is at off + 16, its CRC at off + 16 + len). */
typedef struct fuzz_section {
	uint32_t type;
	size_t off, len;
} fuzz_section;

/* The sections of a well-formed snapshot, END included; 0 if it is not one
 * (or has more than cap). */
size_t fuzz_sections(const unsigned char *p, size_t len, fuzz_section *out, size_t cap);

/* Recompute the CRC of the section at off (payload_len bytes of payload),
 * or of the 64-byte header. */
void fuzz_fix_section_crc(unsigned char *p, size_t off, size_t payload_len);
void fuzz_fix_header_crc(unsigned char *p);

/* A section to write: type, version and payload. */
typedef struct fuzz_piece {
	uint32_t type, version;
	const unsigned char *p;
	size_t len;
} fuzz_piece;

/* The sections of a snapshot before END, as pieces; 0 if malformed. */
size_t fuzz_pieces(const unsigned char *p, size_t len, fuzz_piece *out, size_t cap);

/* header (64 bytes, taken as is), the pieces with their CRCs, and an END
 * section that matches them, into a malloc'ed *out; returns its length. */
size_t fuzz_rebuild(const unsigned char *header, const fuzz_piece *pieces, size_t n,
		    unsigned char **out);

/* ---- what is done with an accepted snapshot (fuzz_load.c) ---- */

/* Where fuzz_exercise is, for reports of a crash or a hang. */
enum fuzz_stage {
	FUZZ_ST_NONE,
	FUZZ_ST_LOAD,        /* cxm_snapshot_load_mem */
	FUZZ_ST_MERGE,       /* cxm_snapshot_merge_mem into a context with the model */
	FUZZ_ST_QUERY,       /* queries, funnels, churn, export, stats */
	FUZZ_ST_FEED_KNOWN,  /* the corpus's customers, steps in order, out of order, backwards */
	FUZZ_ST_FEED_NEW,    /* new customers, likewise */
	FUZZ_ST_SWEEP,       /* cxm_journey_sweep */
	FUZZ_ST_CUSTOMERS,   /* churn, last seen, forget */
	FUZZ_ST_SAVE,        /* cxm_snapshot_write of the accepted state */
	FUZZ_ST_RELOAD,      /* loading what was saved */
	FUZZ_ST_SELF_MERGE,  /* the context's own snapshot merged into it */
	FUZZ_ST_MERGE_OTHER, /* cxm_merge of the context into another */
	FUZZ_ST_SAVE_MERGED, /* saving and reloading the merged contexts */
	FUZZ_ST_DONE,
	FUZZ_ST_COUNT
};
const char *fuzz_stage_name(int stage);

/* What fuzz_exercise found wrong: the library's contract broken without
 * a crash. */
enum fuzz_verdict {
	FUZZ_OK = 0,
	FUZZ_NO_MEMORY = 1,   /* an allocation failed on the way (a capped allocator): not a fault */
	FUZZ_SAVE_FAILED = 2, /* saving an accepted state failed (not for memory) */
	FUZZ_RELOAD_FAILED = 3 /* the save of an accepted state does not load */
};

typedef struct fuzz_probe {
	volatile int stage;     /* enum fuzz_stage, updated as it goes */
	volatile int status;    /* with a verdict: the failing call's cxm_status */
	char msg[200];          /* and its message */
} fuzz_probe;

/* After a successful load or merge into ctx (made with *cfg): feed known
 * and new customers on touchpoints of every channel, with journey steps in
 * order, out of order and backwards; sweep; query everything; save and
 * load the save; with `merges`, also merge the context into itself and
 * into another (a copy of it), save those and load them again. Returns an
 * enum fuzz_verdict; probe (may be NULL) says where it is and, on a
 * verdict, what failed. */
int fuzz_exercise(cxm_context *ctx, const cxm_config *cfg, fuzz_probe *probe, int merges);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
