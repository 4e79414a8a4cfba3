/* Hostile snapshots with valid checksums.
 *
 * Seed snapshots made through the public API (tests/fuzz/corpus.c: random
 * workloads, journeys over several channels with open instances, two
 * segment dimensions, DISTINCT and DURATION metrics, variants without the
 * JOURNEYS section, many series of one minute) are parsed field by field
 * as docs/snapshot.md defines them: the header, every section's header,
 * and every u8/u16/u32/u64/i32/i64/f64, length and count of every payload.
 * Each field is given a set of hostile values (0, 1, the maximum and one
 * below, the sign bit, the value plus and minus one, channel and flag bit
 * patterns, huge counts, NaN, infinities, -0 and DBL_MAX for doubles, and
 * values of the field's meaning: epochs at the time limit, journeys and
 * steps one past the model's...). Sections are also dropped, duplicated,
 * swapped, cut and lengthened, files truncated; one scenario adds an empty
 * series record for every DISTINCT series the model allows, another
 * replaces every DISTINCT series by a record of one head cell (allowed,
 * 84 bytes), each with the seed's precision and with 16. The section's
 * CRC32C and the header's are recomputed (and the END section when the
 * sections change), so every file reaches the parser. A class of field is
 * its path without indices (SERIES.DURATION.cell.sum, CUSTOMERS.entry[open]
 * .flags...): each is mutated in its first ROUNDS instances over the seeds
 * (arrays also in their last), so a run covers every class of every
 * section while staying within a few minutes.
 *
 * Each file is loaded into a fresh context and merged into a context that
 * holds the unmodified seed, each in a forked child under alarm(): a child
 * killed by a signal is a crash, one that outlives the alarm a hang. After
 * an accepted load or merge the child feeds known and new customers,
 * sweeps, queries, saves and loads the save, merges (fuzz_exercise in
 * tests/fuzz/fuzz_load.c); a save that does not load is a failure. The
 * contexts allocate through a counting allocator that fails beyond a hard
 * cap (so a hostile count cannot exhaust the machine) and records the peak
 * of live bytes: a load or merge must stay under K x file size + C.
 *
 * Bound: K = 64 (BOUND_K), C = 64 MiB (BOUND_C); cap 512 MiB.
 *
 * Environment (all optional):
 *   CXM_HOSTILE_ROUNDS=n   n instances of each class of field (default 1),
 *                          and 3(n-1) random values more per field
 *   CXM_HOSTILE_STRIDE=n   run every n-th file (default 1; 8 in an ASan
 *                          build, 100 under valgrind)
 *   CXM_HOSTILE_SAMPLE=n   with a stride: a pseudo-random 1 in n, chosen by n
 *   CXM_HOSTILE_SECONDS=n  stop running files after n seconds (a soak)
 *   CXM_HOSTILE_TIMEOUT=s  a child's time limit (default 5; 60 under valgrind)
 *   CXM_HOSTILE_CAP_MB=n   the allocation cap (default 512)
 *   CXM_HOSTILE_MAX_MEMORY_MB=n  cxm_config::max_memory of the contexts
 *                          (default 64, as docs/snapshot.md advises for files
 *                          one did not write; 0: none, so the bound is the
 *                          engine's own: up to ~10 500 bytes per file byte
 *                          when series rings were allocated whole; see the soak)
 *   CXM_HOSTILE_REPORT=f   write the distinct failures to f
 *   CXM_HOSTILE_DUMP=dir   write each failing file there (valid checksums:
 *                          reproduce with tests/fuzz_replay FILE)
 *   CXM_HOSTILE_ONLY=n     run file n alone, in the foreground (a debugger)
 *   CXM_HOSTILE_SEEDS="journeys wide"  only the seeds named
 *   CXM_HOSTILE_VERBOSE=1  every file's outcome; CXM_HOSTILE_LIST=1 the
 *                          classes of fields; CXM_HOSTILE_WHERE=off,off the
 *                          fields at these offsets of each seed */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "fuzz/fuzz.h"

#if defined(__SANITIZE_ADDRESS__)
#define HOSTILE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOSTILE_ASAN 1
#endif
#endif
#ifdef HOSTILE_ASAN
void __sanitizer_print_stack_trace(void);
int __lsan_do_recoverable_leak_check(void);
#endif
#define EXIT_LEAK 5 /* a child whose leak check failed */

/* The allocation bound a load or a merge must meet: peak live bytes at
 * most K x the file's size + C. */
#define BOUND_K 64
#define BOUND_C ((size_t)64 << 20)

/* ---- little-endian access --------------------------------------------------------------- */

static uint64_t ld(const unsigned char *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void st(unsigned char *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t dbits(double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	return v;
}

static double bitsd(uint64_t v)
{
	double d;
	memcpy(&d, &v, 8);
	return d;
}

/* ---- fields --------------------------------------------------------------------------- */

enum tag {
	T_PLAIN,    /* a number of no special meaning */
	T_COUNT,    /* a count of what follows or of things */
	T_LEN,      /* a string's length */
	T_BYTE,     /* a byte of a name */
	T_ID,       /* an id of the model (journey, touchpoint, step, segment, value) */
	T_CHANNEL,  /* a cxm_channel */
	T_KIND,     /* a metric kind, headline or group kind */
	T_EPOCH,    /* a bucket number (aux: the tier's bucket_ms) */
	T_TIME,     /* milliseconds since the epoch */
	T_BIN,      /* a sketch bin index */
	T_REG,      /* a HyperLogLog register */
	T_CFLAGS,   /* a customer's journey flags */
	T_CJOURNEY, /* a customer's journey id + 1 */
	T_CSTEP,    /* a customer's step */
	T_SECONDS,  /* seconds since 2000 */
	T_STEPMS,   /* a step's ms after the instance's start */
	T_JFLAGS,   /* CXM_JOURNEY_* bits */
	T_OPTMS,    /* a journey option in ms */
	T_PREC,     /* a DISTINCT precision */
	T_FLAG,     /* 0 or 1 */
	T_SECTYPE,  /* a section header's type */
	T_SECVER,   /* a section header's version */
	T_SECLEN,   /* a section header's payload length */
	T_HASH,     /* half of a customer's keyed hash */
	T_SCALE     /* a scale point (i32) */
};

typedef struct field {
	uint32_t off;   /* in the file */
	uint8_t size;   /* 1, 2, 4, 8 */
	uint8_t f64;    /* a double */
	uint8_t tag;    /* enum tag */
	int16_t sec;    /* section index, -1: the header */
	uint32_t cls;   /* class: the field's path without indices */
	uint64_t aux;
} field;

#define MAX_CLASSES 4096
typedef struct classes {
	char *name[MAX_CLASSES];
	uint32_t n;
} classes;

static uint32_t class_of(classes *c, const char *name)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (strcmp(c->name[i], name) == 0)
			return i;
	assert_true(c->n < MAX_CLASSES);
	c->name[c->n] = strdup(name);
	return c->n++;
}

static void classes_free(classes *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		free(c->name[i]);
	c->n = 0;
}

typedef struct metric_info {
	uint32_t kind, questions, points, precision;
} metric_info;

typedef struct record_id {
	uint32_t mid, tp, d, v;
	uint32_t start, end; /* its bytes in the file */
	int64_t hot;
} record_id;

/* What a seed holds, found while walking it (for the checks that the
 * mutations are not vacuous). */
typedef struct seed_facts {
	uint32_t sections[0x80];
	uint32_t open_instances, done_instances, no_journey, churned;
	uint32_t multi_channel_journeys; /* journeys whose steps lie on 2+ channels */
	uint32_t segments, segment_values;
	uint32_t duration_bins, distinct_regs, series;
	uint32_t journey_groups, channel_groups;
	uint32_t signal_records;
	uint32_t driver_records;
	uint32_t cohort_rows;
} seed_facts;

typedef struct walker {
	const unsigned char *p;
	size_t len, pos, end;
	int sec;
	bool bad;
	field *f;
	size_t n, cap;
	classes *cls;
	char prefix[160];
	/* the model */
	uint32_t n_tiers;
	int64_t bucket_ms[4];
	uint32_t nj, steps[256];
	uint32_t nt, tp_j[256], tp_s[256], tp_ch[256];
	uint32_t nm;
	metric_info met[256];
	uint32_t ns, nvals[64];
	record_id *recs;
	size_t n_recs, cap_recs;
	size_t distinct_prec_off[8];
	uint32_t n_distinct;
	bool has_journeys;
	seed_facts facts;
} walker;

static const char *kind_name(uint32_t k)
{
	static const char *n[] = {"?",       "SCORE",  "INDEX",  "DURATION",
				  "RATE",    "AMOUNT", "VOLUME", "DISTINCT"};
	return k < 8 ? n[k] : "?";
}

/* Emit the field at the walker's position; returns its value. */
static uint64_t emit(walker *w, const char *name, unsigned size, int tag, bool f64, uint64_t aux)
{
	if (w->bad || w->end - w->pos < size) {
		if (!w->bad)
			print_error("seed walk: %s%s needs %u bytes at %zu, section ends at %zu\n",
				    w->prefix, name, size, w->pos, w->end);
		w->bad = true;
		return 0;
	}
	uint64_t v = ld(w->p + w->pos, size);
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 4096;
		w->f = realloc(w->f, w->cap * sizeof *w->f);
		assert_non_null(w->f);
	}
	char full[256];
	snprintf(full, sizeof full, "%s%s", w->prefix, name);
	w->f[w->n++] = (field){(uint32_t)w->pos, (uint8_t)size, f64, (uint8_t)tag, (int16_t)w->sec,
			       class_of(w->cls, full), aux};
	w->pos += size;
	return v;
}

#define U8(n, t) emit(w, n, 1, t, false, 0)
#define U16(n, t) emit(w, n, 2, t, false, 0)
#define U32(n, t) emit(w, n, 4, t, false, 0)
#define U64(n, t) emit(w, n, 8, t, false, 0)
#define F64(n) emit(w, n, 8, T_PLAIN, true, 0)

/* A str: its length, its first and last bytes. */
static void str(walker *w, const char *name)
{
	char n[64];
	snprintf(n, sizeof n, "%s.len", name);
	uint32_t len = (uint32_t)U32(n, T_LEN);
	if (w->bad)
		return;
	if (len > w->end - w->pos) {
		w->bad = true;
		return;
	}
	snprintf(n, sizeof n, "%s.byte", name);
	size_t at = w->pos;
	if (len >= 1)
		U8(n, T_BYTE);
	if (len >= 2) {
		w->pos = at + len - 1;
		U8(n, T_BYTE);
	}
	w->pos = at + len;
}

typedef struct prefix_save {
	size_t len;
} prefix_save;

static size_t push(walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(walker *w, const char *fmt, ...)
{
	size_t at = strlen(w->prefix);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->prefix + at, sizeof w->prefix - at, fmt, ap);
	va_end(ap);
	return at;
}

static void pop(walker *w, size_t at)
{
	w->prefix[at] = 0;
}

/* A cell of a metric of kind `kind` (counter layouts: `words` u64s). */
static void cell(walker *w, uint32_t kind, uint32_t words, uint32_t precision, bool full)
{
	switch (kind) {
	case CXM_KIND_DURATION: {
		U64("n", T_COUNT);
		F64("sum");
		F64("sumsq");
		F64("min");
		F64("max");
		U64("zero", T_COUNT);
		U64("under", T_COUNT);
		U64("over", T_COUNT);
		U64("saturated", T_COUNT);
		F64("dmin");
		F64("dmax");
		uint32_t lo = (uint32_t)U32("lo_bin", T_BIN), hi = (uint32_t)U32("hi_bin", T_BIN);
		if (lo <= hi && !w->bad) {
			for (uint32_t i = lo; i <= hi && !w->bad; i++)
				U32("bin", T_COUNT);
			w->facts.duration_bins += hi - lo + 1;
		}
		(void)full;
		break;
	}
	case CXM_KIND_DISTINCT: {
		U64("n", T_COUNT);
		U64("dn", T_COUNT);
		uint32_t regs = (uint32_t)U32("has_regs", T_FLAG);
		U32("zero", T_PLAIN);
		if (regs == 1 && !w->bad) {
			size_t nr = (size_t)1 << precision;
			for (size_t i = 0; i < nr && !w->bad; i++)
				U8("reg", T_REG);
			w->facts.distinct_regs += (uint32_t)nr;
		}
		break;
	}
	case CXM_KIND_AMOUNT:
		U64("n", T_COUNT);
		F64("sum");
		F64("sumsq");
		F64("min");
		F64("max");
		break;
	default:
		for (uint32_t i = 0; i < words && !w->bad; i++)
			U64(i == 0 ? "c0" : "count", T_COUNT);
		break;
	}
}

/* A series record from hot_epoch on. */
static void series_body(walker *w, uint32_t kind, uint32_t words, uint32_t precision)
{
	uint32_t bins_tier = (kind == CXM_KIND_DURATION || kind == CXM_KIND_DISTINCT) && w->n_tiers >= 2;
	int64_t hot = (int64_t)emit(w, "hot_epoch", 8, T_EPOCH, false, (uint64_t)w->bucket_ms[0]);
	for (uint32_t k = 0; k < w->n_tiers; k++) {
		char n[32];
		snprintf(n, sizeof n, "top%u", k);
		emit(w, n, 8, T_EPOCH, false, (uint64_t)w->bucket_ms[k]);
	}
	/* cells are classed by form (the head cells of the finest tier of a
	 * DURATION or DISTINCT, other cells, the lifetime cell), not by tier */
	if (hot != INT64_MIN) {
		size_t at = push(w, bins_tier ? "head." : "cell.");
		cell(w, kind, words, precision, bins_tier == 0);
		pop(w, at);
	}
	for (uint32_t k = 0; k < w->n_tiers && !w->bad; k++) {
		char n[32];
		snprintf(n, sizeof n, "tier%u.n", k);
		uint32_t tagged = (uint32_t)U32(n, T_COUNT);
		for (uint32_t i = 0; i < tagged && !w->bad; i++) {
			snprintf(n, sizeof n, "tier%u.bucket", k);
			emit(w, n, 8, T_EPOCH, false, (uint64_t)w->bucket_ms[k]);
			size_t at = push(w, k < bins_tier ? "head." : "cell.");
			cell(w, kind, words, precision, k >= bins_tier);
			pop(w, at);
		}
	}
	if (kind != CXM_KIND_DISTINCT) {
		size_t at = push(w, "life.");
		cell(w, kind, words, precision, true);
		pop(w, at);
	}
	w->facts.series++;
}

static void walk_config(walker *w)
{
	w->n_tiers = (uint32_t)U32("n_tiers", T_COUNT);
	for (uint32_t k = 0; k < w->n_tiers && k < 4 && !w->bad; k++) {
		w->bucket_ms[k] = (int64_t)emit(w, "bucket_ms", 8, T_TIME, false, 0);
		U32("buckets", T_COUNT);
	}
}

static void walk_model(walker *w)
{
	w->nj = (uint32_t)U32("n_journeys", T_COUNT);
	for (uint32_t i = 0; i < w->nj && i < 256 && !w->bad; i++) {
		str(w, "journey.name");
		w->steps[i] = (uint32_t)U32("journey.n_steps", T_COUNT);
		for (uint32_t k = 0; k < w->steps[i] && !w->bad; k++)
			str(w, "journey.step");
	}
	w->nt = (uint32_t)U32("n_touchpoints", T_COUNT);
	for (uint32_t i = 0; i < w->nt && i < 256 && !w->bad; i++) {
		str(w, "touchpoint.name");
		w->tp_ch[i] = (uint32_t)U32("touchpoint.channel", T_CHANNEL);
		w->tp_j[i] = (uint32_t)U32("touchpoint.journey", T_ID);
		w->tp_s[i] = (uint32_t)U32("touchpoint.step", T_ID);
	}
	w->nm = (uint32_t)U32("n_metrics", T_COUNT);
	for (uint32_t i = 0; i < w->nm && i < 256 && !w->bad; i++) {
		uint32_t len = (uint32_t)ld(w->p + w->pos, 4);
		uint32_t kind = w->end - w->pos >= 8 + (size_t)len ? (uint32_t)ld(w->p + w->pos + 4 + len, 4) : 0;
		size_t at = push(w, "metric[%s].", kind_name(kind));
		str(w, "name");
		U32("kind", T_KIND);
		U32("headline", T_KIND);
		int32_t lo = (int32_t)emit(w, "scale_min", 4, T_SCALE, false, 0);
		int32_t hi = (int32_t)emit(w, "scale_max", 4, T_SCALE, false, 0);
		uint32_t q = (uint32_t)U32("questions", T_COUNT);
		U32("has_na", T_FLAG);
		emit(w, "na_value", 4, T_SCALE, false, 0);
		for (int k = 0; k < 8; k++)
			emit(w, "top_min", 4, T_SCALE, false, 0);
		for (int k = 0; k < 8; k++)
			emit(w, "bottom_max", 4, T_SCALE, false, 0);
		F64("duration_lo");
		F64("duration_hi");
		F64("relative_error");
		size_t poff = w->pos;
		uint32_t prec = (uint32_t)U32("precision", T_PREC);
		pop(w, at);
		w->met[i] = (metric_info){kind, q, (uint32_t)((int64_t)hi - lo + 1), prec};
		if (kind == CXM_KIND_DISTINCT && w->n_distinct < 8)
			w->distinct_prec_off[w->n_distinct++] = poff;
	}
	w->ns = (uint32_t)U32("n_segments", T_COUNT);
	w->facts.segments = w->ns;
	for (uint32_t i = 0; i < w->ns && i < 64 && !w->bad; i++) {
		str(w, "segment.name");
		U32("segment.max_values", T_COUNT);
		w->nvals[i] = (uint32_t)U32("segment.n_values", T_COUNT);
		w->facts.segment_values += w->nvals[i];
		for (uint32_t v = 0; v < w->nvals[i] && !w->bad; v++)
			str(w, "segment.value");
	}
	/* journeys whose steps lie on more than one channel */
	for (uint32_t j = 0; j < w->nj && j < 256; j++) {
		uint32_t first = 0;
		bool multi = false;
		for (uint32_t t = 0; t < w->nt && t < 256; t++)
			if (w->tp_j[t] == j) {
				if (!first)
					first = w->tp_ch[t];
				else if (w->tp_ch[t] != first)
					multi = true;
			}
		w->facts.multi_channel_journeys += multi;
	}
}

static void walk_series(walker *w)
{
	uint32_t n = (uint32_t)U32("count", T_COUNT);
	for (uint32_t i = 0; i < n && !w->bad; i++) {
		uint32_t mid = (uint32_t)ld(w->p + w->pos, 4);
		uint32_t start = (uint32_t)w->pos;
		metric_info mi = mid < w->nm && mid < 256 ? w->met[mid] : (metric_info){0, 0, 0, 0};
		size_t at = push(w, "%s.", kind_name(mi.kind));
		U32("metric", T_ID);
		uint32_t tp = (uint32_t)U32("touchpoint", T_ID);
		uint32_t d = (uint32_t)U32("segment", T_ID);
		uint32_t v = (uint32_t)U32("value", T_ID);
		if (w->n_recs == w->cap_recs) {
			w->cap_recs = w->cap_recs ? 2 * w->cap_recs : 256;
			w->recs = realloc(w->recs, w->cap_recs * sizeof *w->recs);
			assert_non_null(w->recs);
		}
		record_id *rec = &w->recs[w->n_recs++];
		*rec = (record_id){mid, tp, d, v, start, 0, (int64_t)ld(w->p + w->pos, 8)};
		uint32_t words = mi.kind == CXM_KIND_RATE ? 2 : mi.kind == CXM_KIND_VOLUME ? 1
								: 1 + mi.questions * mi.points;
		series_body(w, mi.kind, words, mi.precision);
		w->recs[w->n_recs - 1].end = (uint32_t)w->pos;
		pop(w, at);
	}
}

static void walk_customers(walker *w)
{
	U64("evicted", T_COUNT);
	U64("refused", T_COUNT);
	U64("forgotten", T_COUNT);
	uint64_t n = U64("n", T_COUNT);
	for (uint64_t i = 0; i < n && !w->bad; i++) {
		if (w->end - w->pos < 32) {
			w->bad = true;
			break;
		}
		const unsigned char *e = w->p + w->pos;
		uint32_t j = (uint32_t)ld(e + 20, 2), fl = e[23];
		const char *state = !j ? "none" : fl & 0x10 ? "open" : fl & 0x20 ? "done" : "closed";
		w->facts.open_instances += j && (fl & 0x10);
		w->facts.done_instances += j && (fl & 0x20);
		w->facts.no_journey += !j;
		w->facts.churned += (fl & 0x40) != 0;
		size_t at = push(w, "entry[%s%s].", state, fl & 0x40 ? ",churned" : "");
		U64("k0", T_HASH);
		U64("k1", T_HASH);
		U32("last_seen", T_SECONDS);
		U16("journey", T_CJOURNEY);
		U8("step", T_CSTEP);
		U8("flags", T_CFLAGS);
		U32("instance_start", T_SECONDS);
		U32("step_ms", T_STEPMS);
		pop(w, at);
	}
}

static void walk_journeys(walker *w)
{
	uint32_t present = (uint32_t)U32("present", T_FLAG);
	if (present != 1)
		return;
	{
		size_t at = push(w, "churn.");
		series_body(w, CXM_KIND_SCORE, 2, 0);
		pop(w, at);
	}
	for (;;) {
		if (w->bad)
			return;
		uint32_t j = (uint32_t)U32("journey", T_ID);
		if (j == UINT32_MAX)
			break;
		uint32_t ns = (uint32_t)U32("n_steps", T_COUNT);
		U32("flags", T_JFLAGS);
		emit(w, "conversion_ms", 8, T_OPTMS, false, 0);
		emit(w, "abandon_ms", 8, T_OPTMS, false, 0);
		emit(w, "lateness_ms", 8, T_OPTMS, false, 0);
		emit(w, "repeat_ms", 8, T_OPTMS, false, 0);
		for (;;) {
			if (w->bad)
				return;
			uint32_t kind = (uint32_t)U32("group.kind", T_KIND);
			if (kind == 0)
				break;
			uint32_t a = (uint32_t)ld(w->p + w->pos, 4);
			if (kind == 2) {
				U32("group.channel", T_CHANNEL);
				U32("group.zero", T_ID);
				w->facts.channel_groups++;
			} else {
				U32("group.segment", T_ID);
				U32("group.value", T_ID);
				w->facts.journey_groups++;
			}
			(void)a;
			size_t at = push(w, "counts.");
			series_body(w, CXM_KIND_SCORE, 1 + 1 + ns + 5, 0);
			pop(w, at);
			for (uint32_t k = 0; k < ns && !w->bad; k++) {
				at = push(w, "time.");
				series_body(w, CXM_KIND_DURATION, 0, 0);
				pop(w, at);
			}
		}
	}
}

static void walk_triggers(walker *w)
{
	uint32_t n = (uint32_t)U32("n_rules", T_COUNT);
	for (uint32_t i = 0; i < n && i < 65536 && !w->bad; i++) {
		U32("metric", T_ID);
		U32("item", T_ID);
		U32("op", T_KIND);
		U32("scope", T_KIND);
		U32("id", T_ID);
		U32("step", T_ID);
		U32("segment", T_ID);
		U32("segment_value", T_ID);
		U32("on", T_FLAG);
		U32("zero", T_PLAIN);
		U64("threshold", T_PLAIN);
	}
}

static void walk_governor(walker *w)
{
	uint32_t n = (uint32_t)U32("n_surveys", T_COUNT);
	for (uint32_t i = 0; i < n && i < 256 && !w->bad; i++) {
		str(w, "survey.name");
		emit(w, "survey.min_since_invite_ms", 8, T_OPTMS, false, 0);
		emit(w, "survey.min_since_response_ms", 8, T_OPTMS, false, 0);
		U32("survey.max_invites", T_COUNT);
		U32("survey.zero", T_PLAIN);
		emit(w, "survey.invites_window_ms", 8, T_OPTMS, false, 0);
		F64("survey.sample_rate");
		U32("survey.scope", T_KIND);
		U32("survey.id", T_ID);
		U32("survey.step", T_ID);
	}
	emit(w, "rules.min_since_invite_ms", 8, T_OPTMS, false, 0);
	emit(w, "rules.min_since_response_ms", 8, T_OPTMS, false, 0);
	U32("rules.max_invites", T_COUNT);
	U32("rules.zero", T_PLAIN);
	emit(w, "rules.invites_window_ms", 8, T_OPTMS, false, 0);
	uint32_t groups = (uint32_t)U32("groups", T_COUNT);
	for (uint32_t g = 0; g < groups && g < 4096 && !w->bad; g++) {
		uint32_t count = (uint32_t)U32("group.count", T_COUNT);
		for (uint32_t c = 0; c < count && c < 65536 && !w->bad; c++) {
			U64("customer.h0", T_HASH);
			U64("customer.h1", T_HASH);
			uint32_t r = (uint32_t)U32("customer.records", T_COUNT);
			for (uint32_t q = 0; q < r && q < 1024 && !w->bad; q++) {
				U32("record.second", T_SECONDS);
				U32("record.survey_kind", T_PLAIN);
			}
		}
	}
}

static void walk_alerts(walker *w)
{
	uint32_t n = (uint32_t)U32("n_alerts", T_COUNT);
	for (uint32_t i = 0; i < n && i < 1024 && !w->bad; i++) {
		str(w, "alert.name");
		U32("alert.metric", T_ID);
		U32("alert.scope", T_KIND);
		U32("alert.id", T_ID);
		U32("alert.step", T_ID);
		U32("alert.segment", T_ID);
		U32("alert.segment_value", T_ID);
		emit(w, "alert.span_ms", 8, T_OPTMS, false, 0);
		U32("alert.kind", T_KIND);
		U32("alert.op", T_KIND);
		F64("alert.fire");
		F64("alert.clear");
		emit(w, "alert.baseline_offset_ms", 8, T_OPTMS, false, 0);
		F64("alert.max_p_value");
		U64("alert.min_samples", T_COUNT);
		emit(w, "alert.for_ms", 8, T_OPTMS, false, 0);
		emit(w, "alert.cooldown_ms", 8, T_OPTMS, false, 0);
		U32("alert.state", T_KIND);
		U32("alert.flags", T_FLAG);
		U64("alert.since_ms", T_TIME);
		U64("alert.evaluated_ms", T_TIME);
		U64("alert.resolved_ms", T_TIME);
		F64("alert.value");
		F64("alert.baseline");
		F64("alert.p_value");
		U64("alert.n", T_COUNT);
		U64("alert.fired", T_COUNT);
	}
}

static void walk_signals(walker *w)
{
	uint32_t n = (uint32_t)U32("n_signals", T_COUNT);
	for (uint32_t i = 0; i < n && i < 64 && !w->bad; i++) {
		U32("signal.kind", T_KIND);
		U32("signal.journey", T_ID);
		U32("signal.step", T_ID);
		U32("signal.count", T_COUNT);
		U32("signal.metric", T_ID);
		U32("signal.item", T_ID);
		U32("signal.op", T_KIND);
		U32("signal.on", T_FLAG);
		emit(w, "signal.window_ms", 8, T_OPTMS, false, 0);
		F64("signal.threshold");
		U64("signal.swept_ms", T_TIME);
	}
	uint32_t groups = (uint32_t)U32("stripes", T_COUNT);
	for (uint32_t g = 0; g < groups && g < 4096 && !w->bad; g++) {
		uint32_t count = (uint32_t)U32("stripe.count", T_COUNT);
		for (uint32_t c = 0; c < count && c < 65536 && !w->bad; c++) {
			w->facts.signal_records++;
			U64("record.h0", T_HASH);
			U64("record.h1", T_HASH);
			U64("record.fired", T_PLAIN);
			U32("record.start_s", T_SECONDS);
			U32("record.journey_step_n", T_PLAIN);
			U32("record.n_fail", T_COUNT);
			for (int e = 0; e < 8; e++)
				U32("record.contact", T_PLAIN);
			for (int e = 0; e < 8; e++)
				U32("record.failure", T_PLAIN);
			U64("record.failure_signals", T_PLAIN);
		}
	}
}

static void walk_drivers(walker *w)
{
	uint32_t n = (uint32_t)U32("n_sets", T_COUNT);
	for (uint32_t i = 0; i < n && i < 64 && !w->bad; i++) {
		str(w, "set.name");
		U32("set.outcome", T_ID);
		U32("set.driver", T_ID);
		U32("set.journey", T_ID);
		U32("set.flags", T_FLAG);
		emit(w, "set.window_ms", 8, T_OPTMS, false, 0);
		uint32_t d = (uint32_t)U32("set.n_drivers", T_COUNT);
		for (uint32_t k = 0; k < d && k < 256 && !w->bad; k++)
			U32("set.touchpoint", T_ID);
		uint64_t r = U64("set.records", T_COUNT);
		for (uint64_t k = 0; k < r && k < 65536 && !w->bad; k++) {
			w->facts.driver_records++;
			U64("record.h0", T_HASH);
			U64("record.h1", T_HASH);
			for (int v = 0; v < 6; v++) {
				U32("record.time_s", T_SECONDS);
				U32("record.driver_value", T_PLAIN);
			}
		}
		U64("set.outcomes", T_COUNT);
		U64("set.paired", T_COUNT);
		U64("set.unremembered", T_COUNT);
		for (uint32_t k = 0; k < d && k < 256 && !w->bad; k++)
			for (int f = 0; f < 16; f++)
				F64("driver.statistic");
	}
}

static void walk_cohorts(walker *w)
{
	for (;;) {
		if (w->bad)
			return;
		uint32_t j = (uint32_t)U32("cohorts.journey", T_ID);
		if (j == UINT32_MAX)
			break;
		if (j >= w->nj || j >= 256) {
			w->bad = true;
			return;
		}
		const uint32_t ns = w->steps[j];
		for (;;) {
			if (w->bad)
				return;
			uint32_t kind = (uint32_t)U32("cohorts.group.kind", T_KIND);
			if (kind == 0)
				break;
			if (kind == 2) {
				U32("cohorts.group.channel", T_CHANNEL);
				U32("cohorts.group.zero", T_ID);
			} else {
				U32("cohorts.group.segment", T_ID);
				U32("cohorts.group.value", T_ID);
			}
			uint32_t rows = (uint32_t)U32("cohorts.rows", T_COUNT);
			for (uint32_t r = 0; r < rows && r < 65536 && !w->bad; r++) {
				w->facts.cohort_rows++;
				emit(w, "cohort.hour", 8, T_EPOCH, false, 3600000);
				U64("cohort.latest_ms", T_TIME);
				for (uint32_t k = 0; k < 1 + ns + 5; k++)
					U64("cohort.count", T_COUNT);
				for (uint32_t k = 0; k < ns; k++)
					U64("cohort.time_n", T_COUNT);
				for (uint32_t k = 0; k < ns; k++)
					F64("cohort.time_sum");
			}
		}
	}
}

static void walk_stats(walker *w)
{
	uint32_t n = (uint32_t)U32("n_shards", T_COUNT);
	for (uint32_t i = 0; i < n && i < 1024 && !w->bad; i++) {
		U64("watermark_ms", T_TIME);
		U64("accepted", T_COUNT);
		U64("saturated", T_COUNT);
	}
	emit(w, "watermark_epoch", 8, T_EPOCH, false, (uint64_t)w->bucket_ms[0]);
	uint32_t ns = (uint32_t)U32("n_status", T_COUNT);
	for (uint32_t i = 0; i < ns && !w->bad; i++)
		U64("rejected", T_COUNT);
}

static const char *sec_name(uint32_t type)
{
	switch (type) {
	case FUZZ_SEC_CONFIG: return "CONFIG";
	case FUZZ_SEC_MODEL: return "MODEL";
	case FUZZ_SEC_SERIES: return "SERIES";
	case FUZZ_SEC_CUSTOMERS: return "CUSTOMERS";
	case FUZZ_SEC_STATS: return "STATS";
	case FUZZ_SEC_JOURNEYS: return "JOURNEYS";
	case FUZZ_SEC_TRIGGERS: return "TRIGGERS";
	case FUZZ_SEC_GOVERNOR: return "GOVERNOR";
	case FUZZ_SEC_ALERTS: return "ALERTS";
	case FUZZ_SEC_SIGNALS: return "SIGNALS";
	case FUZZ_SEC_DRIVERS: return "DRIVERS";
	case FUZZ_SEC_COHORTS: return "COHORTS";
	case FUZZ_SEC_END: return "END";
	default: return "?";
	}
}

/* Walk a whole seed: every field into w->f. False if it does not parse
 * exactly as docs/snapshot.md says. */
static bool walk(walker *w, const unsigned char *p, size_t len, fuzz_section *sec, size_t ns)
{
	w->p = p;
	w->len = len;
	/* the header */
	w->sec = -1;
	w->pos = 0;
	w->end = FUZZ_HEADER_LEN;
	snprintf(w->prefix, sizeof w->prefix, "HEADER.");
	U64("magic", T_PLAIN);
	U32("version", T_SECVER);
	U32("header_len", T_COUNT);
	U64("flags", T_PLAIN);
	U64("key_id0", T_HASH);
	U64("key_id1", T_HASH);
	for (int i = 0; i < 5; i++)
		U32("reserved", T_PLAIN);
	for (size_t i = 0; i < ns; i++)
		w->has_journeys |= sec[i].type == FUZZ_SEC_JOURNEYS;
	for (size_t i = 0; i < ns && !w->bad; i++) {
		w->sec = (int)i;
		w->facts.sections[sec[i].type & 0x7f]++;
		/* the section's header */
		w->pos = sec[i].off;
		w->end = sec[i].off + 16;
		snprintf(w->prefix, sizeof w->prefix, "%s.head.", sec_name(sec[i].type));
		U32("type", T_SECTYPE);
		U32("version", T_SECVER);
		U64("length", T_SECLEN);
		w->end = sec[i].off + 16 + sec[i].len;
		snprintf(w->prefix, sizeof w->prefix, "%s.", sec_name(sec[i].type));
		switch (sec[i].type) {
		case FUZZ_SEC_CONFIG: walk_config(w); break;
		case FUZZ_SEC_MODEL: walk_model(w); break;
		case FUZZ_SEC_SERIES: walk_series(w); break;
		case FUZZ_SEC_CUSTOMERS:
			if (!w->has_journeys)
				snprintf(w->prefix, sizeof w->prefix, "CUSTOMERS(without JOURNEYS).");
			walk_customers(w);
			break;
		case FUZZ_SEC_JOURNEYS: walk_journeys(w); break;
		case FUZZ_SEC_TRIGGERS: walk_triggers(w); break;
		case FUZZ_SEC_GOVERNOR: walk_governor(w); break;
		case FUZZ_SEC_ALERTS: walk_alerts(w); break;
		case FUZZ_SEC_SIGNALS: walk_signals(w); break;
		case FUZZ_SEC_DRIVERS: walk_drivers(w); break;
		case FUZZ_SEC_COHORTS: walk_cohorts(w); break;
		case FUZZ_SEC_STATS: walk_stats(w); break;
		case FUZZ_SEC_END:
			U64("sections", T_COUNT);
			U64("bytes", T_COUNT);
			break;
		default: w->bad = true;
		}
		if (!w->bad && w->pos != w->end) {
			print_error("seed walk: %s section: %zu bytes left over at %zu\n",
				    sec_name(sec[i].type), w->end - w->pos, w->pos);
			w->bad = true;
		}
	}
	return !w->bad;
}

/* ---- hostile values ------------------------------------------------------------------- */

#define MAXV 48

static void addv(uint64_t *v, size_t *n, uint64_t x, unsigned size, uint64_t orig)
{
	uint64_t mask = size == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * size)) - 1;
	x &= mask;
	if (x == orig || *n >= MAXV)
		return;
	for (size_t i = 0; i < *n; i++)
		if (v[i] == x)
			return;
	v[(*n)++] = x;
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The values written into f (whose current value is orig). */
static size_t values_for(const field *f, uint64_t orig, uint64_t *v, int rounds, uint64_t *rng)
{
	size_t n = 0;
	const unsigned s = f->size;
	const uint64_t max = s == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * s)) - 1;
	const uint64_t sign = (uint64_t)1 << (8 * s - 1);
#define A(x) addv(v, &n, (uint64_t)(x), s, orig)
	if (f->f64) {
		double d = bitsd(orig);
		A(0x7ff8000000000000ull);  /* NaN */
		A(0xfff8000000000000ull);  /* -NaN */
		A(0x7ff0000000000001ull);  /* signalling NaN */
		A(dbits(INFINITY));
		A(dbits(-INFINITY));
		A(dbits(-0.0));
		A(dbits(0.0));
		A(dbits(DBL_MAX));
		A(dbits(-DBL_MAX));
		A(dbits(DBL_MIN));
		A(1);                      /* the smallest subnormal */
		A(dbits(1e300));
		A(dbits(-d));
		A(dbits(d * 2));
		A(dbits(CXM_VALUE_MAX * 4));
		A(dbits(1e30));
		A(dbits(-1e30));
		A(dbits(1e45));
		A(dbits(nextafter(d, INFINITY)));
	} else {
		A(0);
		A(1);
		A(max);
		A(max - 1);
		A(sign);
		A(sign - 1);
		A(orig + 1);
		A(orig - 1);
		switch (f->tag) {
		case T_COUNT:
		case T_SECLEN:
			if (s == 8) { /* about the largest count a loader believes (2^56) */
				A((uint64_t)1 << 56);
				A(((uint64_t)1 << 56) - 1);
				A(((uint64_t)1 << 56) + 1);
				A((uint64_t)1 << 55);
				A((uint64_t)1 << 32);
			}
			A(orig * 2);
			A(orig + 2);
			A(0xffff);
			A(0x10000);
			A(1u << 20);
			A(1u << 30);
			A(orig + 4);
			A(orig + 16);
			break;
		case T_LEN:
			A(32);
			A(33);
			A(orig + 2);
			A(4096);
			break;
		case T_ID:
			for (uint64_t x = 2; x <= 9; x++)
				A(x);
			A(63);
			A(64);
			A(65534);
			A(65535);
			break;
		case T_CHANNEL:
			for (uint64_t x = 2; x <= 10; x++)
				A(x);
			A(15);
			A(16);
			A(255);
			break;
		case T_KIND:
			for (uint64_t x = 2; x <= 9; x++)
				A(x);
			break;
		case T_EPOCH: {
			int64_t bms = f->aux ? (int64_t)f->aux : 60000;
			int64_t lim = CXM_TIME_MAX / bms;
			A(INT64_MIN + 1);
			A(-1);
			A(lim);
			A(lim + 1);
			A(orig + 30);
			A(orig - 30);
			A(orig + 48);
			A(orig + 100000);
			A(orig - 100000);
			break;
		}
		case T_TIME:
			A(-1);
			A(CXM_TIME_MAX);
			A(CXM_TIME_MAX + 1);
			A(orig + 86400000);
			A(orig - 86400000);
			A(orig + 3600000);
			A(orig * 2);
			A(1000);
			break;
		case T_BIN:
			A(orig + 2);
			A(1000);
			A(100000);
			A(1u << 20);
			A(2);
			break;
		case T_REG:
			for (uint64_t x = 59; x <= 66; x++)
				A(x);
			A(2);
			break;
		case T_CFLAGS: {
			static const uint8_t pats[] = {0x00, 0x01, 0x08, 0x09, 0x0f, 0x10, 0x11, 0x14, 0x18,
						       0x19, 0x1f, 0x20, 0x21, 0x29, 0x2f, 0x30, 0x31, 0x3f,
						       0x40, 0x50, 0x51, 0x5f, 0x60, 0x7f, 0x80, 0x90, 0xff};
			for (size_t i = 0; i < sizeof pats; i++)
				A(pats[i]);
			A(orig ^ 0x10);
			A(orig | 0x10);
			A((orig & 0xf0) | 0x09);
			A((orig & 0xf0) | 0x0f);
			A(orig & 0xf0);
			A(orig ^ 0x20);
			A(orig ^ 0x40);
			break;
		}
		case T_CJOURNEY:
			for (uint64_t x = 2; x <= 6; x++)
				A(x);
			A(0x7fff);
			A(0x8000);
			break;
		case T_CSTEP:
			for (uint64_t x = 2; x <= 9; x++)
				A(x);
			A(254);
			break;
		case T_SECONDS:
			A(orig + 86400 * 60);
			A(orig - 3600);
			A(orig + 3600);
			A(orig - 86400 * 60);
			A(0xfffffff0);
			break;
		case T_STEPMS:
			A(4233600000u);
			A(0x7fffffffu);
			A(0x80000000u);
			A(0xffffffffu);
			A(orig + 86400000);
			A(orig - 3600000);
			A(3600000);
			break;
		case T_JFLAGS:
			for (uint64_t x = 2; x <= 0x20; x <<= 1)
				A(x);
			A(0x1f);
			A(0x3f);
			A(orig ^ 1);
			break;
		case T_OPTMS:
			A(999);
			A(1000);
			A(4233600000);
			A(4233600001);
			A(INT64_C(400) * 86400000);
			A(INT64_C(400) * 86400000 + 1);
			A(INT64_MAX);
			A(CXM_TIME_MAX);
			break;
		case T_PREC:
			for (uint64_t x = 2; x <= 18; x++)
				A(x);
			A(32);
			A(64);
			break;
		case T_FLAG:
			A(2);
			A(3);
			break;
		case T_SECTYPE:
			for (uint64_t x = 2; x <= 8; x++)
				A(x);
			A(0x7e);
			A(0x7f);
			A(0x80);
			break;
		case T_SECVER:
			A(2);
			break;
		case T_BYTE:
			A(0x80);
			A(0xc0);
			A(0x1f);
			A(0x7f);
			A('/');
			A(orig ^ 0x20);
			break;
		case T_HASH:
			A(orig ^ 1);
			A(orig ^ sign);
			break;
		case T_SCALE:
			A(-1);
			A(-101);
			A(100);
			A(101);
			A(INT32_MIN);
			A(INT32_MAX);
			A(orig + 2);
			break;
		default:
			A(orig * 2);
			A(orig ^ 0x100);
			break;
		}
	}
	/* more rounds: random values and bit flips */
	for (int r = 1; r < rounds; r++) {
		A(rng_next(rng));
		A(orig ^ ((uint64_t)1 << (rng_next(rng) % (8 * s))));
		A(orig ^ ((uint64_t)1 << (rng_next(rng) % (8 * s))));
	}
#undef A
	return n;
}

/* ---- the counting allocator -------------------------------------------------------- */

typedef struct counter {
	size_t live, peak, cap;
	int hit;
} counter;

static counter g_count;

static void *count_alloc(void *opaque, size_t n)
{
	counter *c = opaque;
	if (n > c->cap - c->live || n > SIZE_MAX - 16) {
		c->hit = 1;
		return NULL;
	}
	unsigned char *p = malloc(n + 16);
	if (!p) {
		c->hit = 1;
		return NULL;
	}
	memcpy(p, &n, sizeof n);
	c->live += n;
	if (c->live > c->peak)
		c->peak = c->live;
	return p + 16;
}

static void count_free(void *opaque, void *ptr)
{
	counter *c = opaque;
	unsigned char *p = (unsigned char *)ptr - 16;
	size_t n;
	memcpy(&n, p, sizeof n);
	c->live -= n;
	free(p);
}

/* ---- running one file ------------------------------------------------------------------ */

enum outcome {
	O_ACCEPTED,  /* loaded (merged), and everything after it worked */
	O_REFUSED,   /* refused with a status, cleanly */
	O_CRASH,     /* killed by a signal */
	O_HANG,      /* outlived the alarm */
	O_ALLOC,     /* hit the allocation cap (refused or not) */
	O_BOUND,     /* peak live bytes above K x size + C */
	O_SAVE,      /* the save of the accepted state failed */
	O_RELOAD,    /* the save of the accepted state does not load */
	O_SETUP,     /* the child could not set up (the seed did not load) */
	O_LEAK,      /* LeakSanitizer found memory the library did not give back */
	O_COUNT
};
static const char *outcome_name[O_COUNT] = {"accepted", "refused", "crash", "hang", "alloc-cap",
					    "alloc-bound", "save-failed", "reload-failed", "setup", "leak"};

/* What a child reports through shared memory, per phase (0 load, 1 merge). */
typedef struct phase_report {
	int ran, status, verdict, cap_hit, done, setup_failed;
	size_t peak;
	char msg[200]; /* the refusal's message */
	fuzz_probe probe;
} phase_report;

typedef struct shared {
	int phase; /* where the child is */
	phase_report ph[2];
} shared;

static shared *g_sh;
static unsigned g_timeout = 5;
static uint64_t g_max_memory; /* cxm_config::max_memory of the children's contexts */

/* The handlers of fatal signals before cmocka replaced them (the default,
 * or a sanitizer's): a child restores them, so that it dies of the signal
 * (reported by the sanitizer) instead of running cmocka's handler. */
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction g_fatal_sa[N_FATAL];

static void save_fatal_handlers(void)
{
	for (size_t i = 0; i < N_FATAL; i++)
		sigaction(fatal_signals[i], NULL, &g_fatal_sa[i]);
}

static void restore_fatal_handlers(void)
{
	for (size_t i = 0; i < N_FATAL; i++)
		sigaction(fatal_signals[i], &g_fatal_sa[i], NULL);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "hostile: timeout, stack:\n";
	if (write(2, msg, sizeof msg - 1) < 0) {
		/* nothing to do */
	}
#ifdef HOSTILE_ASAN
	__sanitizer_print_stack_trace();
#else
	/* addresses only (the library's functions are hidden): resolve with
	 * addr2line -f -e build/.../lib/libcxm.so.0 OFFSET */
	void *frames[32];
	backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
#endif
	signal(SIGALRM, SIG_DFL);
	raise(SIGALRM);
}

#ifndef HOSTILE_ASAN
/* A release build's child: the stack of a fatal signal, then the signal. */
static void on_fatal(int sig)
{
	static const char msg[] = "hostile: fatal signal, stack:\n";
	if (write(2, msg, sizeof msg - 1) < 0) {
		/* nothing to do */
	}
	void *frames[32];
	backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
	signal(sig, SIG_DFL);
	raise(sig);
}
#endif

/* Run phases (bit 0: load, bit 1: merge) of one file; in a child. */
static void run_phases(const unsigned char *file, size_t len, const unsigned char *seed,
		       size_t seed_len, int phases)
{
	cxm_config cfg = fuzz_config();
	cfg.allocator.alloc = count_alloc;
	cfg.allocator.free = count_free;
	cfg.allocator.opaque = &g_count;
	cfg.max_memory = g_max_memory;
	for (int ph = 0; ph < 2; ph++) {
		if (!(phases & (1 << ph)))
			continue;
		phase_report *r = &g_sh->ph[ph];
		g_sh->phase = ph;
		r->ran = 1;
		cxm_context *ctx = NULL;
		if (cxm_context_new(&ctx, &cfg) ||
		    (ph == 1 && cxm_snapshot_load_mem(ctx, seed, seed_len) != CXM_OK)) {
			r->setup_failed = 1;
			cxm_context_free(ctx);
			continue;
		}
		r->probe.stage = ph ? FUZZ_ST_MERGE : FUZZ_ST_LOAD;
		g_count.hit = 0;
		size_t base = g_count.live;
		g_count.peak = base;
		cxm_status s = ph ? cxm_snapshot_merge_mem(ctx, file, len)
				  : cxm_snapshot_load_mem(ctx, file, len);
		r->peak = g_count.peak - base;
		r->status = (int)s;
		if (s != CXM_OK)
			snprintf(r->msg, sizeof r->msg, "%s", cxm_errmsg(ctx));
		r->cap_hit = g_count.hit;
		if (s == CXM_OK)
			r->verdict = fuzz_exercise(ctx, &cfg, &r->probe, ph == 0);
		r->cap_hit |= g_count.hit;
		cxm_context_free(ctx);
		r->done = 1;
	}
}

#define EXAMPLES 4
typedef struct finding {
	char key[600];
	char example[EXAMPLES][400];
	char origin[EXAMPLES][128];
	char detail[600];
	unsigned count, n_examples;
} finding;

/* Where a file's mutation is, from its description: the class of the
 * field ("CUSTOMERS.entry[open].flags"), or the structural change
 * ("JOURNEYS dropped"); *sec gets the section part alone. */
static void origin_of(const char *what, char *out, size_t cap, char *sec, size_t seccap)
{
	const char *p = strstr(what, ", ");
	p = p ? p + 2 : what;
	const char *at = strstr(p, " at offset ");
	const char *lp = strchr(p, '(');
	if (at) {
		snprintf(out, cap, "%.*s", (int)(at - p), p);
		const char *dot = strchr(out, '.');
		snprintf(sec, seccap, "%.*s", dot ? (int)(dot - out) : (int)strlen(out), out);
		return;
	}
	if (strncmp(p, "section ", 8) == 0 && lp) {
		const char *rp = strchr(lp, ')');
		const char *verb = rp ? rp + 2 : "";
		const char *sp = strchr(verb, ' ');
		snprintf(out, cap, "%.*s %.*s", rp ? (int)(rp - lp - 1) : 0, lp + 1,
			 sp ? (int)(sp - verb) : (int)strlen(verb), verb);
	} else if (strncmp(p, "sections ", 9) == 0) {
		snprintf(out, cap, "sections swapped");
	} else if (strncmp(p, "file cut", 8) == 0) {
		snprintf(out, cap, "file cut");
	} else if (strstr(p, "after END")) {
		snprintf(out, cap, "bytes after END");
	} else if (strstr(p, "head cell each") || strstr(p, "the others dropped")) {
		snprintf(out, cap, "DISTINCT series %s%s",
			 strstr(p, "head cell") ? "of head cells" : "all empty",
			 strstr(p, "to 16") ? ", precision 16" : "");
	} else if (strstr(p, "empty DISTINCT")) {
		snprintf(out, cap, "series added%s", strstr(p, "precision") ? ", DISTINCT precision 16" : "");
	} else {
		snprintf(out, cap, "%s", p);
	}
	snprintf(sec, seccap, "%s", out);
}

typedef struct run_state {
	/* configuration */
	int rounds, stride, only;
	size_t cap;
	const char *dump, *report;
	int errfd;
	/* counts */
	size_t files, ran, accepted[2], refused[2], by_code[2][CXM_STATUS_COUNT + 1];
	size_t outcomes[O_COUNT];
	size_t field_files, field_accepted;
	double max_ratio, max_ratio_accepted;
	char max_ratio_what[300];
	finding *fd;
	size_t n_fd, cap_fd;
	double t_start, deadline;
	size_t skipped;
	int verbose;
	uint64_t sample;
} run_state;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The interesting lines of a child's stderr: a sanitizer's summary, the
 * first frames in lib/, the fuzz target's message. */
static void child_detail(int fd, char *out, size_t cap)
{
	out[0] = 0;
	static char buf[1 << 18];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return;
	buf[n] = 0;
	size_t at = 0;
	int frames = 0;
	for (char *line = strtok(buf, "\n"); line && at + 2 < cap; line = strtok(NULL, "\n")) {
		bool frame = (strstr(line, " in ") && strstr(line, "lib/") && strstr(line, ".c:")) ||
			     strstr(line, "libcxm.so");
		bool keep = strstr(line, "SUMMARY:") || strstr(line, "runtime error") ||
			    (frame && frames < 3) || strstr(line, "hostile:");
		if (!keep)
			continue;
		frames += frame;
		/* a release build's frame: keep the library's offset only */
		char *so = strstr(line, "libcxm.so");
		if (so && !strstr(line, " in "))
			line = so;
		while (*line == ' ')
			line++;
		/* drop "#n 0xaddr" */
		if (line[0] == '#') {
			char *in = strstr(line, " in ");
			if (in)
				line = in + 4;
		}
		at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? " | " : "", line);
	}
}

static void record(run_state *rs, const char *key0, const char *example, const char *detail,
		   const char *what)
{
	char origin[128], sec[128], key[600];
	origin_of(what, origin, sizeof origin, sec, sizeof sec);
	snprintf(key, sizeof key, "%s  [mutation: %s]", key0, sec);
	for (size_t i = 0; i < rs->n_fd; i++) {
		finding *f = &rs->fd[i];
		if (strcmp(f->key, key) != 0)
			continue;
		f->count++;
		bool seen = false;
		for (unsigned k = 0; k < f->n_examples && !seen; k++)
			seen = strcmp(f->origin[k], origin) == 0;
		if (!seen && f->n_examples < EXAMPLES) {
			snprintf(f->example[f->n_examples], sizeof f->example[0], "%s", example);
			snprintf(f->origin[f->n_examples++], sizeof f->origin[0], "%s", origin);
		}
		return;
	}
	if (rs->n_fd == rs->cap_fd) {
		rs->cap_fd = rs->cap_fd ? 2 * rs->cap_fd : 64;
		rs->fd = realloc(rs->fd, rs->cap_fd * sizeof *rs->fd);
		assert_non_null(rs->fd);
	}
	finding *f = &rs->fd[rs->n_fd++];
	memset(f, 0, sizeof *f);
	snprintf(f->key, sizeof f->key, "%s", key);
	snprintf(f->example[0], sizeof f->example[0], "%s", example);
	snprintf(f->origin[0], sizeof f->origin[0], "%s", origin);
	f->n_examples = 1;
	snprintf(f->detail, sizeof f->detail, "%s", detail);
	f->count = 1;
	printf("hostile: NEW %s\n    e.g. %s\n    %s\n", key, example, detail);
	fflush(stdout);
}

static void dump_file(run_state *rs, size_t index, const unsigned char *p, size_t len)
{
	if (!rs->dump)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/hostile-%06zu.cxm", rs->dump, index);
	FILE *f = fopen(path, "wb");
	if (f) {
		if (fwrite(p, 1, len, f) != len)
			print_error("hostile: could not write %s\n", path);
		fclose(f);
	}
}

/* Fork a child for `phases`; returns the wait status (or -1). */
static int spawn(run_state *rs, const unsigned char *p, size_t len, const unsigned char *seed,
		 size_t seed_len, int phases)
{
	/* the child's stderr: this file, empty, written from its start */
	if (ftruncate(rs->errfd, 0) != 0 || lseek(rs->errfd, 0, SEEK_SET) != 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		restore_fatal_handlers();
		dup2(rs->errfd, 2);
#ifndef HOSTILE_ASAN
		void *warm[2]; /* backtrace() loads libgcc on its first call: not in a signal handler */
		backtrace(warm, 2);
		for (size_t i = 0; i < N_FATAL; i++)
			if (fatal_signals[i] != SIGABRT && g_fatal_sa[i].sa_handler == SIG_DFL)
				signal(fatal_signals[i], on_fatal);
#endif
		signal(SIGALRM, on_alarm);
		alarm(g_timeout);
		g_count.live = g_count.peak = 0;
		g_count.cap = rs->cap;
		run_phases(p, len, seed, seed_len, phases);
#ifdef HOSTILE_ASAN
		if (__lsan_do_recoverable_leak_check())
			_exit(EXIT_LEAK);
#endif
		_exit(0);
	}
	int ws = 0;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return -1;
	return ws;
}

/* Judge one phase of a finished (or dead) child. */
static void judge(run_state *rs, int ph, int ws, bool died_here, size_t index, const char *what,
		  size_t len, bool is_field, const unsigned char *p)
{
	const phase_report *r = &g_sh->ph[ph];
	const char *phn = ph ? "merge" : "load";
	enum outcome o;
	char key[320], detail[600] = "", example[400];
	snprintf(example, sizeof example, "file %zu: %s (%zu bytes)", index, what, len);
	if (died_here && WIFEXITED(ws) && WEXITSTATUS(ws) == EXIT_LEAK && r->done) {
		o = O_LEAK;
		child_detail(rs->errfd, detail, sizeof detail);
		snprintf(key, sizeof key, "leak (after the load, the merge and their exercise)");
	} else if (died_here) {
		bool hang = WIFSIGNALED(ws) && WTERMSIG(ws) == SIGALRM;
		o = hang ? O_HANG : O_CRASH;
		child_detail(rs->errfd, detail, sizeof detail);
		/* the location: a sanitizer's summary, else the first frame in lib/ */
		char loc[200] = "";
		for (const char *seg = detail; seg && *seg;) {
			const char *end = strstr(seg, " | ");
			size_t n = end ? (size_t)(end - seg) : strlen(seg);
			bool summary = strncmp(seg, "SUMMARY: ", 9) == 0;
			bool frame = (memmem(seg, n, "lib/", 4) && memmem(seg, n, ".c:", 3)) ||
				     memmem(seg, n, "libcxm.so", 9);
			if (summary || (frame && !loc[0])) {
				if (summary) {
					seg += 9;
					n -= 9;
				}
				if (n > sizeof loc - 1)
					n = sizeof loc - 1;
				memcpy(loc, seg, n);
				loc[n] = 0;
				if (summary)
					break;
			}
			seg = end ? end + 3 : NULL;
		}
		if (hang) /* where a hang was stopped varies: in the detail only */
			snprintf(key, sizeof key, "hang during %s/%s (over %u s)", phn,
				 fuzz_stage_name(r->probe.stage), g_timeout);
		else if (WIFSIGNALED(ws))
			snprintf(key, sizeof key, "%s during %s/%s: signal %d %s", outcome_name[o], phn,
				 fuzz_stage_name(r->probe.stage), WTERMSIG(ws), loc);
		else
			snprintf(key, sizeof key, "%s during %s/%s: exit %d %s", outcome_name[o], phn,
				 fuzz_stage_name(r->probe.stage), WEXITSTATUS(ws), loc);
	} else if (!r->done) {
		o = O_SETUP;
		snprintf(key, sizeof key, "setup of %s failed (%s)", phn,
			 r->setup_failed ? "the seed does not load" : "no report");
	} else if (r->cap_hit && r->status != CXM_OK && r->status != CXM_ERR_NO_MEMORY &&
		   r->status != CXM_ERR_LIMIT) {
		o = O_CRASH; /* an allocation failure reported as something else */
		snprintf(key, sizeof key, "%s: allocation cap hit but returned %s", phn,
			 cxm_strerror(r->status));
	} else if (r->peak > (size_t)BOUND_K * len + BOUND_C) {
		o = O_BOUND;
		snprintf(key, sizeof key, "alloc-bound during %s (%s)", phn, cxm_strerror(r->status));
		snprintf(detail, sizeof detail,
			 "%s peak %zu bytes for a file of %zu (%.0f per byte)%s", phn, r->peak, len,
			 (double)r->peak / (double)len, r->cap_hit ? "; then the cap was hit" : "");
	} else if (r->cap_hit || (r->verdict == FUZZ_NO_MEMORY && !g_max_memory)) {
		/* (with a max_memory, the library refusing to pass it is right) */
		o = O_ALLOC;
		snprintf(key, sizeof key, "alloc-cap during %s/%s: %s", phn,
			 fuzz_stage_name(r->probe.stage), cxm_strerror(r->status));
		snprintf(detail, sizeof detail, "peak %zu bytes for a file of %zu", r->peak, len);
	} else if (r->status != CXM_OK) {
		o = O_REFUSED;
	} else if (r->verdict == FUZZ_SAVE_FAILED || r->verdict == FUZZ_RELOAD_FAILED) {
		o = r->verdict == FUZZ_SAVE_FAILED ? O_SAVE : O_RELOAD;
		snprintf(key, sizeof key, "%s after %s, at %s: %s", outcome_name[o], phn,
			 fuzz_stage_name(r->probe.stage), cxm_strerror(r->probe.status));
		snprintf(detail, sizeof detail, "%s", r->probe.msg);
	} else {
		o = O_ACCEPTED;
	}
	rs->outcomes[o]++;
	if (rs->verbose)
		printf("hostile: file %zu %s: %s, %s, %s at %s, peak %zu %s\n", index, phn, what,
		       outcome_name[o], r->done ? cxm_strerror(r->status) : "-",
		       fuzz_stage_name(r->probe.stage), r->peak, r->msg);
	if (r->done && r->status == CXM_OK)
		rs->accepted[ph]++;
	else if (r->done) {
		rs->refused[ph]++;
		rs->by_code[ph][r->status >= 0 && r->status < CXM_STATUS_COUNT ? r->status
									: CXM_STATUS_COUNT]++;
	}
	if (is_field && ph == 0) {
		rs->field_files++;
		rs->field_accepted += r->done && r->status == CXM_OK;
	}
	if (r->done && len) {
		double ratio = (double)r->peak / (double)len;
		if (ratio > rs->max_ratio) {
			rs->max_ratio = ratio;
			snprintf(rs->max_ratio_what, sizeof rs->max_ratio_what, "%s of file %zu: %s",
				 phn, index, what);
		}
		if (r->status == CXM_OK && ratio > rs->max_ratio_accepted)
			rs->max_ratio_accepted = ratio;
	}
	if (o != O_ACCEPTED && o != O_REFUSED) {
		record(rs, key, example, detail, what);
		dump_file(rs, index, p, len);
	}
}

/* Run one file: load and merge, each judged. */
static void run_file(run_state *rs, const unsigned char *p, size_t len, const unsigned char *seed,
		     size_t seed_len, const char *what, bool is_field)
{
	size_t index = rs->files++;
	if (rs->only >= 0 && (size_t)rs->only != index)
		return;
	if (rs->only < 0 && rs->sample) {
		/* a pseudo-random 1 in stride, different for each CXM_HOSTILE_SAMPLE */
		uint64_t h = ((uint64_t)index + 1) * 0x9e3779b97f4a7c15ull ^ rs->sample;
		h ^= h >> 31;
		h *= 0xbf58476d1ce4e5b9ull;
		h ^= h >> 29;
		if (h % (uint64_t)rs->stride)
			return;
	} else if (rs->only < 0 && index % (size_t)rs->stride) {
		return;
	}
	if (rs->deadline > 0 && now_s() > rs->deadline) {
		rs->skipped++;
		return;
	}
	rs->ran++;
	if (rs->only >= 0) {
		/* in the foreground, for a debugger */
		printf("hostile: file %zu: %s\n", index, what);
		memset(g_sh, 0, sizeof *g_sh);
		g_count.live = g_count.peak = 0;
		g_count.cap = rs->cap;
		restore_fatal_handlers();
		run_phases(p, len, seed, seed_len, 3);
		for (int ph = 0; ph < 2; ph++)
			printf("hostile: %s: %s (%s), verdict %d at %s (%s), peak %zu\n",
			       ph ? "merge" : "load", cxm_strerror(g_sh->ph[ph].status), g_sh->ph[ph].msg,
			       g_sh->ph[ph].verdict, fuzz_stage_name(g_sh->ph[ph].probe.stage),
			       g_sh->ph[ph].probe.msg, g_sh->ph[ph].peak);
		return;
	}
	int todo = 3;
	while (todo) {
		memset(g_sh, 0, sizeof *g_sh);
		g_sh->phase = -1;
		int ws = spawn(rs, p, len, seed, seed_len, todo);
		assert_true(ws != -1);
		bool clean = WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
		int died = clean ? -1 : g_sh->phase;
		for (int ph = 0; ph < 2; ph++) {
			if (!(todo & (1 << ph)) || !g_sh->ph[ph].ran)
				continue;
			judge(rs, ph, ws, ph == died, index, what, len, is_field, p);
			todo &= ~(1 << ph);
		}
		if (!clean && died < 0) {
			/* died before any phase began */
			judge(rs, 0, ws, true, index, what, len, is_field, p);
			todo = 0;
		}
		/* a child that died in the load phase never merged: run that alone */
	}
}

/* ---- mutations of one seed ------------------------------------------------------------- */

/* A copy of seed with the field written to v, its CRCs redone. */
static void field_file(const unsigned char *seed, size_t len, const fuzz_section *sec,
		       const field *f, uint64_t v, unsigned char *out)
{
	memcpy(out, seed, len);
	st(out + f->off, f->size, v);
	if (f->sec < 0) {
		fuzz_fix_header_crc(out);
		return;
	}
	const fuzz_section *s = &sec[f->sec];
	size_t plen = s->len;
	if (f->off >= s->off + 8 && f->off < s->off + 16) {
		/* the section's length itself: the CRC follows the new length if it fits */
		uint64_t nl = ld(out + s->off + 8, 8);
		if (nl > len - s->off - 20)
			return;
		plen = (size_t)nl;
	}
	fuzz_fix_section_crc(out, s->off, plen);
}

static void describe_field(char *out, size_t cap, const char *seedname, const classes *cl,
			   const field *f, uint64_t orig, uint64_t v)
{
	if (f->f64)
		snprintf(out, cap, "seed %s, %s at offset %u: %.17g -> %.17g (0x%016" PRIx64 ")", seedname,
			 cl->name[f->cls], f->off, bitsd(orig), bitsd(v), v);
	else
		snprintf(out, cap, "seed %s, %s at offset %u (%u bytes): %" PRIu64 " -> %" PRIu64
			 " (0x%" PRIx64 ")", seedname, cl->name[f->cls], f->off, f->size, orig, v, v);
}

/* Snapshot from pieces (END redone); run it. */
static void run_pieces(run_state *rs, const unsigned char *seed, size_t len, const fuzz_piece *pc,
		       size_t n, const char *what)
{
	unsigned char *q;
	size_t ql = fuzz_rebuild(seed, pc, n, &q);
	run_file(rs, q, ql, seed, len, what, false);
	free(q);
}

/* Empty series records for every (metric, touchpoint, segment value) the
 * model allows and the seed lacks, of DISTINCT metrics (which have no
 * lifetime cell), in one more SERIES section; with `prec`, the DISTINCT
 * precision set to it. */
static void inflate(run_state *rs, const walker *w, const unsigned char *seed, size_t len,
		    uint32_t prec, const char *seedname)
{
	if (!w->n_distinct)
		return;
	size_t rec = 16 + 8 + 8 * w->n_tiers + 4 * w->n_tiers;
	size_t cap = 4 + rec * 256 * 65;
	unsigned char *body = malloc(cap);
	assert_non_null(body);
	size_t at = 4;
	uint32_t count = 0;
	/* the series of all interactions, then one per segment value */
	uint32_t sd[1 + 64 * 8], sv[1 + 64 * 8], nslots = 0;
	sd[nslots] = sv[nslots] = UINT32_MAX;
	nslots++;
	for (uint32_t d = 0; d < w->ns && d < 64; d++)
		for (uint32_t v = 0; v < w->nvals[d] && v < 8; v++) {
			sd[nslots] = d;
			sv[nslots++] = v;
		}
	for (uint32_t m = 0; m < w->nm && m < 256; m++) {
		if (w->met[m].kind != CXM_KIND_DISTINCT)
			continue;
		for (uint32_t tp = 0; tp < w->nt && tp < 256; tp++)
			for (uint32_t sl = 0; sl < nslots; sl++) {
				bool have = false;
				for (size_t i = 0; i < w->n_recs && !have; i++)
					have = w->recs[i].mid == m && w->recs[i].tp == tp &&
					       w->recs[i].d == sd[sl] && w->recs[i].v == sv[sl];
				if (have || at + rec > cap)
					continue;
				st(body + at, 4, m);
				st(body + at + 4, 4, tp);
				st(body + at + 8, 4, sd[sl]);
				st(body + at + 12, 4, sv[sl]);
				for (uint32_t k = 0; k <= w->n_tiers; k++)
					st(body + at + 16 + 8 * k, 8, (uint64_t)INT64_MIN);
				memset(body + at + 24 + 8 * w->n_tiers, 0, 4 * w->n_tiers);
				at += rec;
				count++;
			}
	}
	st(body, 4, count);
	if (!count && !prec) {
		free(body);
		return;
	}
	unsigned char *copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, seed, len);
	fuzz_section sec[FUZZ_MAX_SECTIONS];
	size_t ns = fuzz_sections(copy, len, sec, FUZZ_MAX_SECTIONS);
	if (prec) {
		for (uint32_t i = 0; i < w->n_distinct; i++)
			st(copy + w->distinct_prec_off[i], 4, prec);
		for (size_t i = 0; i < ns; i++)
			if (sec[i].type == FUZZ_SEC_MODEL)
				fuzz_fix_section_crc(copy, sec[i].off, sec[i].len);
	}
	fuzz_piece pc[FUZZ_MAX_SECTIONS + 1];
	size_t n = fuzz_pieces(copy, len, pc, FUZZ_MAX_SECTIONS), k = 0;
	fuzz_piece out[FUZZ_MAX_SECTIONS + 1];
	bool put = false;
	for (size_t i = 0; i < n; i++) {
		if (!put && count && pc[i].type == FUZZ_SEC_CUSTOMERS) {
			out[k++] = (fuzz_piece){FUZZ_SEC_SERIES, 1, body, at};
			put = true;
		}
		out[k++] = pc[i];
	}
	char what[200];
	if (prec)
		snprintf(what, sizeof what,
			 "seed %s, %u empty DISTINCT series records added, DISTINCT precision set to %u",
			 seedname, count, prec);
	else
		snprintf(what, sizeof what, "seed %s, %u empty DISTINCT series records added", seedname,
			 count);
	run_pieces(rs, seed, len, out, k, what);
	free(copy);
	free(body);
}

/* Every DISTINCT series of the model (each touchpoint, each segment
 * value) as a record holding only its newest finest bucket (with `head`: a
 * head cell, counts and no registers, which the format allows) or nothing
 * at all, the other series kept, and the DISTINCT precision set to prec
 * (0: unchanged): small records, each of which could make a whole series
 * of 2^prec-register cells. */
static void distinct_heads(run_state *rs, const walker *w, const unsigned char *seed, size_t len,
			   uint32_t prec, bool head, const char *seedname)
{
	if (!w->n_distinct || !w->n_recs)
		return;
	size_t rec = 16 + 8 + 8 * w->n_tiers + 4 * w->n_tiers + 24;
	size_t cap = 4 + len + rec * 256 * 65;
	unsigned char *body = malloc(cap);
	assert_non_null(body);
	size_t at = 4;
	uint32_t count = 0, made = 0;
	for (size_t i = 0; i < w->n_recs; i++) {
		const record_id *r = &w->recs[i];
		if (r->mid < w->nm && w->met[r->mid].kind == CXM_KIND_DISTINCT)
			continue;
		memcpy(body + at, seed + r->start, r->end - r->start);
		at += r->end - r->start;
		count++;
	}
	uint32_t sd[1 + 64 * 8], sv[1 + 64 * 8], nslots = 0;
	sd[nslots] = sv[nslots] = UINT32_MAX;
	nslots++;
	for (uint32_t d = 0; d < w->ns && d < 64; d++)
		for (uint32_t v = 0; v < w->nvals[d] && v < 8; v++) {
			sd[nslots] = d;
			sv[nslots++] = v;
		}
	for (uint32_t m = 0; m < w->nm && m < 256; m++) {
		if (w->met[m].kind != CXM_KIND_DISTINCT)
			continue;
		for (uint32_t tp = 0; tp < w->nt && tp < 256; tp++) {
			/* the newest bucket of a series the seed has on this
			 * touchpoint: within its shard's watermark */
			int64_t hot = INT64_MIN;
			for (size_t i = 0; i < w->n_recs; i++)
				if (w->recs[i].tp == tp && w->recs[i].hot != INT64_MIN)
					hot = w->recs[i].hot;
			if (hot == INT64_MIN)
				continue;
			for (uint32_t sl = 0; sl < nslots && at + rec <= cap; sl++) {
				unsigned char *q = body + at;
				st(q, 4, m);
				st(q + 4, 4, tp);
				st(q + 8, 4, sd[sl]);
				st(q + 12, 4, sv[sl]);
				st(q + 16, 8, (uint64_t)(head ? hot : INT64_MIN));
				st(q + 24, 8, (uint64_t)(head ? hot : INT64_MIN));
				for (uint32_t k = 1; k < w->n_tiers; k++)
					st(q + 24 + 8 * k, 8, (uint64_t)INT64_MIN);
				q += 24 + 8 * w->n_tiers;
				if (head) {
					st(q, 8, 1);      /* n */
					st(q + 8, 8, 1);  /* dn */
					st(q + 16, 8, 0); /* has_regs 0, 0 */
					q += 24;
				}
				memset(q, 0, 4 * w->n_tiers);
				at += rec - (head ? 0 : 24);
				count++;
				made++;
			}
		}
	}
	st(body, 4, count);
	unsigned char *copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, seed, len);
	fuzz_section sec[FUZZ_MAX_SECTIONS];
	size_t ns = fuzz_sections(copy, len, sec, FUZZ_MAX_SECTIONS);
	for (uint32_t i = 0; i < w->n_distinct && prec; i++)
		st(copy + w->distinct_prec_off[i], 4, prec);
	for (size_t i = 0; i < ns; i++)
		if (sec[i].type == FUZZ_SEC_MODEL)
			fuzz_fix_section_crc(copy, sec[i].off, sec[i].len);
	fuzz_piece pc[FUZZ_MAX_SECTIONS], out[FUZZ_MAX_SECTIONS + 1];
	size_t n = fuzz_pieces(copy, len, pc, FUZZ_MAX_SECTIONS), k = 0;
	bool put = false;
	for (size_t i = 0; i < n; i++) {
		if (pc[i].type == FUZZ_SEC_SERIES)
			continue;
		if (!put && pc[i].type == FUZZ_SEC_CUSTOMERS) {
			out[k++] = (fuzz_piece){FUZZ_SEC_SERIES, 1, body, at};
			put = true;
		}
		out[k++] = pc[i];
	}
	char what[200];
	snprintf(what, sizeof what, "seed %s, %u DISTINCT series records %s%s%.0u", seedname, made,
		 head ? "of one head cell each" : "empty, the others dropped",
		 prec ? ", DISTINCT precision set to " : "", prec);
	run_pieces(rs, seed, len, out, k, what);
	free(copy);
	free(body);
}

static void structural(run_state *rs, const walker *w, const unsigned char *seed, size_t len,
		       const char *seedname)
{
	fuzz_piece pc[FUZZ_MAX_SECTIONS], m[FUZZ_MAX_SECTIONS + 2];
	size_t n = fuzz_pieces(seed, len, pc, FUZZ_MAX_SECTIONS);
	char what[200];
	for (size_t i = 0; i < n; i++) {
		const char *sn = sec_name(pc[i].type);
		/* drop it */
		size_t k = 0;
		for (size_t j = 0; j < n; j++)
			if (j != i)
				m[k++] = pc[j];
		snprintf(what, sizeof what, "seed %s, section %zu (%s) dropped", seedname, i, sn);
		run_pieces(rs, seed, len, m, k, what);
		/* twice */
		k = 0;
		for (size_t j = 0; j < n; j++) {
			m[k++] = pc[j];
			if (j == i)
				m[k++] = pc[j];
		}
		snprintf(what, sizeof what, "seed %s, section %zu (%s) twice", seedname, i, sn);
		run_pieces(rs, seed, len, m, k, what);
		/* swapped with the next */
		if (i + 1 < n) {
			memcpy(m, pc, n * sizeof *pc);
			m[i] = pc[i + 1];
			m[i + 1] = pc[i];
			snprintf(what, sizeof what, "seed %s, sections %zu and %zu swapped", seedname, i, i + 1);
			run_pieces(rs, seed, len, m, n, what);
		}
		/* cut or lengthened, its length and CRC redone */
		const size_t cuts[4] = {pc[i].len ? pc[i].len - 1 : 0, pc[i].len / 2,
					pc[i].len >= 4 ? pc[i].len - 4 : 0, 0};
		for (int c = 0; c < 4; c++) {
			if (cuts[c] == pc[i].len || (c > 0 && cuts[c] == cuts[c - 1]))
				continue;
			memcpy(m, pc, n * sizeof *pc);
			m[i].len = cuts[c];
			snprintf(what, sizeof what, "seed %s, section %zu (%s) cut to %zu of %zu bytes",
				 seedname, i, sn, cuts[c], pc[i].len);
			run_pieces(rs, seed, len, m, n, what);
		}
		for (int e = 0; e < 2; e++) {
			unsigned char *ext = malloc(pc[i].len + 16);
			assert_non_null(ext);
			memcpy(ext, pc[i].p, pc[i].len);
			memset(ext + pc[i].len, e ? 0xff : 0, 16);
			memcpy(m, pc, n * sizeof *pc);
			m[i].p = ext;
			m[i].len = pc[i].len + (e ? 16 : 4);
			snprintf(what, sizeof what, "seed %s, section %zu (%s) lengthened by %d %s bytes",
				 seedname, i, sn, e ? 16 : 4, e ? "0xff" : "zero");
			run_pieces(rs, seed, len, m, n, what);
			free(ext);
		}
	}
	/* the file cut short */
	fuzz_section sec[FUZZ_MAX_SECTIONS];
	size_t ns = fuzz_sections(seed, len, sec, FUZZ_MAX_SECTIONS);
	size_t cuts[3 * FUZZ_MAX_SECTIONS + 8], nc = 0;
	const size_t fixed[] = {0, 1, 8, 16, 60, 63, 64, 65, len - 1, len - 20, len - 21};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (fixed[i] < len)
			cuts[nc++] = fixed[i];
	for (size_t i = 0; i < ns; i++) {
		cuts[nc++] = sec[i].off + 1;
		cuts[nc++] = sec[i].off + 20 + sec[i].len / 2;
	}
	for (size_t i = 0; i < nc; i++) {
		if (cuts[i] >= len)
			continue;
		snprintf(what, sizeof what, "seed %s, file cut to %zu of %zu bytes", seedname, cuts[i], len);
		run_file(rs, seed, cuts[i], seed, len, what, false);
	}
	/* bytes after END */
	unsigned char *more = malloc(len + 40);
	assert_non_null(more);
	memcpy(more, seed, len);
	memset(more + len, 0, 40);
	snprintf(what, sizeof what, "seed %s, a zero byte after END", seedname);
	run_file(rs, more, len + 1, seed, len, what, false);
	memcpy(more + len, seed + sec[0].off, 20);
	snprintf(what, sizeof what, "seed %s, 20 bytes after END", seedname);
	run_file(rs, more, len + 20, seed, len, what, false);
	free(more);
	/* the inflation of series (see inflate) */
	inflate(rs, w, seed, len, 0, seedname);
	inflate(rs, w, seed, len, 16, seedname);
	for (int head = 0; head < 2; head++) {
		distinct_heads(rs, w, seed, len, 0, head, seedname);
		distinct_heads(rs, w, seed, len, 16, head, seedname);
	}
}

/* Seeds of one family share their classes of fields: a class is covered by
 * its first `keep` instances over the family's seeds, and by its last
 * instance in the first seed that has it. */
enum { FAM_EMPTY, FAM_MODEL, FAM_COUNT };

typedef struct family {
	classes cl;
	uint32_t seen[MAX_CLASSES];
} family;

/* Every seed but the empty one defines the corpus's model: one family (the
 * CUSTOMERS fields of a seed without JOURNEYS are classes of their own). */
static int family_of(int seed)
{
	return strcmp(fuzz_seed_name(seed), "empty") == 0 ? FAM_EMPTY : FAM_MODEL;
}

/* Array elements (bins, registers, counters, name bytes): their last
 * instance in a seed is covered too. */
static bool array_class(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (!strcmp(dot, ".bin") || !strcmp(dot, ".reg") || !strcmp(dot, ".count") ||
		       !strcmp(dot, ".byte"));
}

typedef struct seed_plan {
	unsigned char *p;
	size_t len;
	walker w;
	classes own;
	fuzz_section sec[FUZZ_MAX_SECTIONS];
	size_t ns;
} seed_plan;

static void seed_load(seed_plan *sp, int i, classes *cl)
{
	memset(sp, 0, sizeof *sp);
	assert_int_equal(fuzz_seed(i, &sp->p, &sp->len), 0);
	sp->ns = fuzz_sections(sp->p, sp->len, sp->sec, FUZZ_MAX_SECTIONS);
	assert_true(sp->ns >= 5);
	sp->w.cls = cl ? cl : &sp->own;
	if (!walk(&sp->w, sp->p, sp->len, sp->sec, sp->ns))
		fail_msg("seed %s does not parse as docs/snapshot.md says", fuzz_seed_name(i));
}

static void seed_free(seed_plan *sp)
{
	free(sp->p);
	free(sp->w.f);
	free(sp->w.recs);
	classes_free(&sp->own);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(fuzz_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(fuzz_crc32c(fuzz_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

/* The seeds hold what the mutations are meant to reach. */
static void test_seeds(void **state)
{
	(void)state;
	for (int i = 0; i < FUZZ_SEEDS; i++) {
		seed_plan sp;
		seed_load(&sp, i, NULL);
		const seed_facts *f = &sp.w.facts;
		assert_int_equal(f->sections[FUZZ_SEC_CONFIG], 1);
		assert_int_equal(f->sections[FUZZ_SEC_MODEL], 1);
		assert_int_equal(f->sections[FUZZ_SEC_CUSTOMERS], 1);
		assert_int_equal(f->sections[FUZZ_SEC_STATS], 1);
		assert_int_equal(f->sections[FUZZ_SEC_END], 1);
		bool noj = strstr(fuzz_seed_name(i), "nojourneys") != NULL;
		assert_int_equal(f->sections[FUZZ_SEC_JOURNEYS], noj ? 0 : 1);
		/* COHORTS only beside JOURNEYS, and only with journey state */
		assert_true(f->sections[FUZZ_SEC_COHORTS] <= f->sections[FUZZ_SEC_JOURNEYS]);
		/* every seed loads, and its save loads again after the workout */
		cxm_config cfg = fuzz_config();
		cxm_context *ctx = NULL;
		assert_int_equal(cxm_context_new(&ctx, &cfg), CXM_OK);
		assert_int_equal(cxm_snapshot_load_mem(ctx, sp.p, sp.len), CXM_OK);
		cxm_context_free(ctx);
		if (i == 0) {
			seed_free(&sp);
			continue;
		}
		assert_true(f->sections[FUZZ_SEC_SERIES] >= 1);
		assert_int_equal(f->sections[FUZZ_SEC_SIGNALS], 1);
		assert_int_equal(f->sections[FUZZ_SEC_DRIVERS], 1);
		assert_true(f->series >= 10);
		assert_int_equal(sp.w.nj, 2);
		assert_int_equal(f->multi_channel_journeys, 2);
		if (strncmp(fuzz_seed_name(i), "journeys", 8) == 0) {
			assert_int_equal(f->segments, 2);
			assert_int_equal(f->sections[FUZZ_SEC_COHORTS], noj ? 0 : 1);
			assert_true(noj || f->cohort_rows >= 4);
			assert_true(f->open_instances >= 5);
			assert_true(f->done_instances >= 4);
			assert_true(f->no_journey >= 2);
			assert_true(f->churned >= 1);
			assert_true(f->duration_bins >= 20);
			assert_true(f->distinct_regs >= 16);
			assert_true(f->signal_records >= 2);
			assert_true(f->driver_records >= 2);
			if (!noj) {
				assert_true(f->journey_groups >= 4);
				assert_true(f->channel_groups >= 3);
			}
		}
		seed_free(&sp);
	}
}

/* Whether `name` is a word of the list (separated by spaces or commas). */
static bool name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
		bool start = p == list || p[-1] == ' ' || p[-1] == ',';
		bool end = p[n] == 0 || p[n] == ' ' || p[n] == ',';
		if (start && end)
			return true;
	}
	return false;
}

static int env_int(const char *name, int dflt)
{
	const char *s = getenv(name);
	return s && *s ? atoi(s) : dflt;
}

static void test_hostile(void **state)
{
	(void)state;
	run_state rs;
	memset(&rs, 0, sizeof rs);
	rs.rounds = env_int("CXM_HOSTILE_ROUNDS", 1);
	if (rs.rounds < 1)
		rs.rounds = 1;
	const char *pre = getenv("LD_PRELOAD");
	bool valgrind = pre && strstr(pre, "vgpreload");
#ifdef HOSTILE_ASAN
	const int dflt_stride = 8; /* 5 (-O2) to 15 (-O0) times slower than a release build */
#else
	const int dflt_stride = 1;
#endif
	rs.stride = env_int("CXM_HOSTILE_STRIDE", valgrind ? 100 : dflt_stride);
	if (rs.stride < 1)
		rs.stride = 1;
	rs.only = env_int("CXM_HOSTILE_ONLY", -1);
	rs.verbose = env_int("CXM_HOSTILE_VERBOSE", 0);
	rs.sample = (uint64_t)env_int("CXM_HOSTILE_SAMPLE", 0);
	rs.cap = (size_t)env_int("CXM_HOSTILE_CAP_MB", 512) << 20;
	g_max_memory = (uint64_t)env_int("CXM_HOSTILE_MAX_MEMORY_MB", 64) << 20;
	g_timeout = (unsigned)env_int("CXM_HOSTILE_TIMEOUT", valgrind ? 60 : 5);
	rs.dump = getenv("CXM_HOSTILE_DUMP");
	rs.report = getenv("CXM_HOSTILE_REPORT");
	if (rs.dump)
		mkdir(rs.dump, 0755);
	char errpath[] = "/tmp/cxm-hostile-XXXXXX";
	rs.errfd = mkstemp(errpath);
	assert_true(rs.errfd >= 0);
	unlink(errpath);
	g_sh = mmap(NULL, sizeof *g_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(g_sh != MAP_FAILED);
	rs.t_start = now_s();
	/* CXM_HOSTILE_SECONDS: stop running files after that long (a soak) */
	if (env_int("CXM_HOSTILE_SECONDS", 0) > 0)
		rs.deadline = rs.t_start + env_int("CXM_HOSTILE_SECONDS", 0);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	size_t planned = 0, classes_total = 0, fields_total = 0, fields_covered = 0;
	const uint32_t keep = (uint32_t)rs.rounds;
	/* CXM_HOSTILE_SEEDS: only the seeds named in it (for a person) */
	const char *only_seeds = getenv("CXM_HOSTILE_SEEDS");
	family *fam = calloc(FAM_COUNT, sizeof *fam);
	assert_non_null(fam);
	/* the richest seeds first: their instances of a class come first */
	static const int order[FUZZ_SEEDS] = {6, 7, 8, 5, 9, 1, 2, 3, 4, 0};
	for (int oi = 0; oi < FUZZ_SEEDS; oi++) {
		const int s = order[oi];
		if (only_seeds && !name_listed(only_seeds, fuzz_seed_name(s)))
			continue;
		family *fm = &fam[family_of(s)];
		seed_plan sp;
		seed_load(&sp, s, &fm->cl);
		const char *sn = fuzz_seed_name(s);
		size_t before = rs.files;
		/* the seed itself: accepted, by load and by merge */
		size_t acc0 = rs.accepted[0] + rs.accepted[1];
		char what[600];
		snprintf(what, sizeof what, "seed %s unchanged", sn);
		size_t ran0 = rs.ran;
		run_file(&rs, sp.p, sp.len, sp.p, sp.len, what, false);
		if (rs.only < 0 && rs.ran == ran0 + 1 && rs.accepted[0] + rs.accepted[1] != acc0 + 2)
			fail_msg("seed %s is not accepted by load and merge", sn);
		/* every field: the instances selected of every class */
		uint32_t *total = calloc(MAX_CLASSES, sizeof *total), *here = calloc(MAX_CLASSES, sizeof *here);
		uint8_t *first = calloc(MAX_CLASSES, 1);
		assert_non_null(total);
		assert_non_null(here);
		assert_non_null(first);
		for (size_t i = 0; i < sp.w.n; i++)
			total[sp.w.f[i].cls]++;
		for (uint32_t c = 0; c < fm->cl.n; c++)
			first[c] = fm->seen[c] == 0;
		unsigned char *buf = malloc(sp.len);
		assert_non_null(buf);
		size_t seed_planned = 1, selected_here = 0;
		for (size_t i = 0; i < sp.w.n; i++) {
			const field *f = &sp.w.f[i];
			bool sel = fm->seen[f->cls] < keep ||
				   (first[f->cls] && here[f->cls] + 1 == total[f->cls] &&
				    array_class(fm->cl.name[f->cls]));
			here[f->cls]++;
			if (!sel)
				continue;
			fm->seen[f->cls]++;
			selected_here++;
			uint64_t orig = ld(sp.p + f->off, f->size), v[MAXV];
			size_t nv = values_for(f, orig, v, rs.rounds, &rng);
			assert_true(nv >= 3); /* every field gets hostile values */
			seed_planned += nv;
			for (size_t k = 0; k < nv; k++) {
				field_file(sp.p, sp.len, sp.sec, f, v[k], buf);
				describe_field(what, sizeof what, sn, &fm->cl, f, orig, v[k]);
				run_file(&rs, buf, sp.len, sp.p, sp.len, what, true);
			}
		}
		fields_covered += selected_here;
		/* CXM_HOSTILE_WHERE="off,off,...": the fields at these offsets of each seed */
		for (const char *wh = getenv("CXM_HOSTILE_WHERE"); wh && *wh;) {
			unsigned long off = strtoul(wh, NULL, 10);
			for (size_t i = 0; i < sp.w.n; i++)
				if (off >= sp.w.f[i].off && off < sp.w.f[i].off + sp.w.f[i].size)
					printf("hostile: seed %s offset %lu: %s (field at %u, %u bytes)\n", sn,
					       off, fm->cl.name[sp.w.f[i].cls], sp.w.f[i].off, sp.w.f[i].size);
			wh = strchr(wh, ',');
			wh = wh ? wh + 1 : NULL;
		}
		if (getenv("CXM_HOSTILE_LIST"))
			for (uint32_t c = 0; c < fm->cl.n; c++)
				if (total[c])
					printf("hostile: class %-60s %5u in seed %s, %u mutated so far\n",
					       fm->cl.name[c], total[c], sn, fm->seen[c]);
		fields_total += sp.w.n;
		/* every class of field met in this seed is covered in its family */
		for (uint32_t c = 0; c < fm->cl.n; c++)
			assert_true(!total[c] || fm->seen[c] > 0);
		free(buf);
		free(total);
		free(here);
		free(first);
		size_t field_files = rs.files - before;
		assert_int_equal(field_files, seed_planned);
		structural(&rs, &sp.w, sp.p, sp.len, sn);
		planned += rs.files - before;
		printf("hostile: seed %-20s %6zu bytes, %5zu fields, %4zu mutated: %6zu files, %.0f s so far\n",
		       sn, sp.len, sp.w.n, selected_here, rs.files - before, now_s() - rs.t_start);
		fflush(stdout);
		seed_free(&sp);
	}
	for (int f = 0; f < FAM_COUNT; f++) {
		classes_total += fam[f].cl.n;
		classes_free(&fam[f].cl);
	}
	free(fam);
	double secs = now_s() - rs.t_start;
	size_t crashes = rs.outcomes[O_CRASH], hangs = rs.outcomes[O_HANG];
	size_t alloc = rs.outcomes[O_ALLOC] + rs.outcomes[O_BOUND];
	size_t broken = rs.outcomes[O_SAVE] + rs.outcomes[O_RELOAD] + rs.outcomes[O_SETUP] +
			rs.outcomes[O_LEAK];
	char codes[2][512];
	for (int ph = 0; ph < 2; ph++) {
		size_t at = 0;
		codes[ph][0] = 0;
		for (int c = 0; c <= CXM_STATUS_COUNT; c++)
			if (rs.by_code[ph][c])
				at += (size_t)snprintf(codes[ph] + at, sizeof codes[ph] - at, "%s%s %zu",
						       at ? ", " : "",
						       c < CXM_STATUS_COUNT ? cxm_strerror(c) : "other",
						       rs.by_code[ph][c]);
	}
	printf("hostile: %zu files generated (%zu run, stride %d, sample %llu, rounds %d, %zu skipped "
	       "at the time limit), %zu fields of %zu mutated, %zu classes of field\n",
	       rs.files, rs.ran, rs.stride, (unsigned long long)rs.sample, rs.rounds, rs.skipped,
	       fields_covered, fields_total, classes_total);
	printf("hostile: load: %zu accepted, %zu refused (%s)\n", rs.accepted[0], rs.refused[0], codes[0]);
	printf("hostile: merge: %zu accepted, %zu refused (%s)\n", rs.accepted[1], rs.refused[1],
	       codes[1]);
	printf("hostile: peak bytes per file byte: max %.1f (%s), max of accepted %.1f; bound %d x size + %zu MiB\n",
	       rs.max_ratio, rs.max_ratio_what, rs.max_ratio_accepted, BOUND_K, BOUND_C >> 20);
	printf("hostile: SUMMARY files %zu, accepted %zu, refused %zu, crashes %zu, hangs %zu, "
	       "allocation %zu (cap %zu, bound %zu), save/reload %zu, leaks %zu, peak/byte %.1f, %.1f s\n",
	       rs.ran, rs.accepted[0] + rs.accepted[1], rs.refused[0] + rs.refused[1], crashes, hangs,
	       alloc, rs.outcomes[O_ALLOC], rs.outcomes[O_BOUND],
	       rs.outcomes[O_SAVE] + rs.outcomes[O_RELOAD] + rs.outcomes[O_SETUP], rs.outcomes[O_LEAK],
	       rs.max_ratio, secs);
	FILE *rep = rs.report ? fopen(rs.report, "w") : NULL;
	if (rep)
		fprintf(rep, "# hostile snapshots: %zu files, %zu distinct failures, %.0f s\n", rs.ran,
			rs.n_fd, secs);
	for (size_t i = 0; i < rs.n_fd; i++) {
		const finding *f = &rs.fd[i];
		printf("hostile: FAIL x%u %s\n    %s\n", f->count, f->key, f->detail);
		if (rep)
			fprintf(rep, "x%u\t%s\n\t%s\n", f->count, f->key, f->detail);
		for (unsigned k = 0; k < f->n_examples; k++) {
			printf("    e.g. %s\n", f->example[k]);
			if (rep)
				fprintf(rep, "\te.g. %s\n", f->example[k]);
		}
	}
	if (rep)
		fclose(rep);
	free(rs.fd);
	close(rs.errfd);
	munmap(g_sh, sizeof *g_sh);
	if (rs.only >= 0)
		return;
	/* not vacuous: the files were made and run, and many were accepted */
	assert_int_equal(rs.files, planned);
	if (!only_seeds)
		assert_true(rs.files >= 8000);
	if (!rs.sample)
		assert_true((rs.ran + rs.skipped) * (size_t)rs.stride >= rs.files - (size_t)rs.stride);
	assert_true(rs.ran + rs.skipped > 0);
	if (rs.stride == 1 && !rs.skipped) {
		printf("hostile: field mutations accepted by load: %zu of %zu (%.0f %%)\n",
		       rs.field_accepted, rs.field_files, 100.0 * rs.field_accepted / rs.field_files);
		assert_true(rs.field_accepted * 4 >= rs.field_files); /* at least a quarter */
	}
	assert_int_equal(crashes, 0);
	assert_int_equal(hangs, 0);
	assert_int_equal(alloc, 0);
	assert_int_equal(broken, 0);
}

int main(void)
{
	save_fatal_handlers();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
