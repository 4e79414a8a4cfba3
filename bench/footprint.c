/* cxm_bench's sections on a duration record against a floor, on memory and
 * on scaling: see footprint.h. Public API only. */
#include "footprint.h"

#include "benchutil.h"
#include "workload.h"

#include <cxm.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "cxm_bench: out of memory\n");
		exit(1);
	}
	return p;
}

/* The clock of the contexts made here: set before each run. */
static int64_t fp_now;
static int64_t fp_clock(void *opaque)
{
	(void)opaque;
	return fp_now;
}

/* splitmix64, for the values and choices of this file */
static uint64_t mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}
static double unif(uint64_t *x) /* (0, 1) */
{
	return ((double)(mix(x) >> 11) + 0.5) * 0x1p-53;
}
static uint32_t below(uint64_t *x, uint32_t n)
{
	return (uint32_t)(((unsigned __int128)mix(x) * n) >> 64);
}

/* ---- the duration record against a floor ------------------------------------------ */

/* The floor: 2048 uint32 bins indexed by a double's exponent and its 6 top
 * mantissa bits, 64 linear bins per octave over 2^-10 s (~1 ms) … 2^22 s
 * (~48 days): a bin is at most 1/64 of its lower bound wide, so its middle
 * is within 0.78 % of any value in it (DDSketch at 1 % keeps ~35 bins per
 * octave). Values outside are clamped to the end bins. The sum rides along
 * so that the mean is exact, as libcxm's is. */
enum { FLOOR_BINS = 2048, FLOOR_SUB = 6, FLOOR_LO_EXP = 10 };
typedef struct floor_hist {
	uint32_t bin[FLOOR_BINS];
	double sum;
	uint64_t n;
} floor_hist;

static inline uint32_t floor_index(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	int64_t e = (int64_t)(b >> 52) - (1023 - FLOOR_LO_EXP);
	int64_t k = (e << FLOOR_SUB) + (int64_t)((b >> (52 - FLOOR_SUB)) & ((1 << FLOOR_SUB) - 1));
	k = k < 0 ? 0 : k > FLOOR_BINS - 1 ? FLOOR_BINS - 1 : k;
	return (uint32_t)k;
}

static double floor_quantile(const floor_hist *h, double q)
{
	if (!h->n)
		return NAN;
	uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0;
	if (rank < 1)
		rank = 1;
	for (uint32_t k = 0; k < FLOOR_BINS; k++) {
		seen += h->bin[k];
		if (seen >= rank)
			return ldexp(1 + ((k & ((1 << FLOOR_SUB) - 1)) + 0.5) / (1 << FLOOR_SUB),
				     (int)(k >> FLOOR_SUB) - FLOOR_LO_EXP);
	}
	return NAN;
}

/* A DURATION-only context with one stand-alone touchpoint, no segments. */
static cxm_context *duration_context(cxm_id *metric, cxm_id *tp)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fp_clock;
	cxm_context *c;
	CHECK(NULL, cxm_context_new(&c, &cfg));
	cxm_metric_def d = {.size = sizeof d};
	CHECK(c, cxm_metric_preset(&d, CXM_PRESET_DURATION));
	CHECK(c, cxm_metric_define(metric, c, "handle time", &d));
	CHECK(c, cxm_touchpoint_define(tp, c, "desk", CXM_CHANNEL_PHONE, CXM_NONE, 0));
	return c;
}

void footprint_duration_floor(const footprint_opts *o)
{
	enum { NV = 1 << 20, BATCH = 1024 };
	size_t n = o->quick ? 2000000 : 10000000;
	printf("\n%d. record one duration: libcxm against a floor, the same %zu values, same run\n",
	       o->first_section, n);
	printf("   floor: a fixed array of %d uint32 log bins (64 per octave, <= 0.78 %% relative "
	       "error) plus the sum;\n   libcxm: cxm_feed of one DURATION measure (preset: 1 ms .. "
	       "7 days at 1 %%) on one touchpoint,\n   no customer id, no segment, event time 1 ms "
	       "apart (rolls up minutes and hours as it goes)\n",
	       FLOOR_BINS);
	/* handle times: lognormal, median 300 s, sigma 1 (1 s .. a few hours) */
	double *v = xcalloc(NV, sizeof *v);
	uint64_t x = 12345;
	for (size_t i = 0; i < NV; i++) {
		double z = sqrt(-2 * log(unif(&x))) * cos(6.283185307179586 * unif(&x));
		double d = exp(log(300.0) + z);
		v[i] = d < 0.001 ? 0.001 : d > 604800 ? 604800 : d;
	}

	/* one untimed pass, so that both timed loops start with the values warm
	 * (in small runs the first, cold pass otherwise doubled the floor) */
	double warm = 0;
	for (size_t i = 0; i < NV; i++)
		warm += v[i];
	volatile double sink = warm;
	(void)sink;

	/* the floor */
	floor_hist *h = xcalloc(1, sizeof *h);
	double t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		double d = v[i & (NV - 1)];
		h->bin[floor_index(d)]++;
		h->sum += d;
	}
	h->n += n;
	__asm__ volatile("" : : "r"(h) : "memory"); /* the histogram is in memory now */
	double ns_floor = (now_s() - t0) / (double)n * 1e9;

	/* libcxm, single calls */
	const int64_t T0 = WL_DAY0;
	fp_now = T0 + (int64_t)n + 3600000;
	cxm_id m, tp;
	cxm_context *c = duration_context(&m, &tp);
	cxm_measure ms = {m, 0, 0};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.touchpoint = tp;
	ix.measures = &ms;
	ix.n_measures = 1;
	size_t ok = 0;
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		ms.value = v[i & (NV - 1)];
		ix.time_ms = T0 + (int64_t)i;
		ok += cxm_feed(c, &ix) == CXM_OK;
	}
	double ns_cxm = (now_s() - t0) / (double)n * 1e9;

	/* libcxm, batches (for comparison, no budget) */
	cxm_id m2, tp2;
	cxm_context *c2 = duration_context(&m2, &tp2);
	cxm_interaction *bx = xcalloc(BATCH, sizeof *bx);
	cxm_measure *bm = xcalloc(BATCH, sizeof *bm);
	for (int k = 0; k < BATCH; k++) {
		bx[k].size = sizeof bx[k];
		bx[k].touchpoint = tp2;
		bx[k].measures = &bm[k];
		bx[k].n_measures = 1;
		bm[k].metric = m2;
	}
	size_t ok2 = 0;
	t0 = now_s();
	for (size_t i = 0; i < n; i += BATCH) {
		size_t k = n - i < BATCH ? n - i : BATCH;
		for (size_t j = 0; j < k; j++) {
			bm[j].value = v[(i + j) & (NV - 1)];
			bx[j].time_ms = T0 + (int64_t)(i + j);
		}
		size_t acc = 0;
		cxm_feed_batch(&acc, c2, bx, k, NULL, 0, NULL);
		ok2 += acc;
	}
	double ns_batch = (now_s() - t0) / (double)n * 1e9;

	/* both answer the same question */
	cxm_query q = CXM_QUERY_INIT;
	q.metric = m;
	q.scope = CXM_SCOPE_TOUCHPOINT;
	q.id = tp;
	q.end_ms = T0 + (int64_t)n - 1;
	q.span_ms = (int64_t)n + 3600000;
	static const double qs[3] = {0.5, 0.9, 0.99};
	double qc[3], qf[3], worst = 0;
	cxm_result r = {.size = sizeof r};
	CHECK(c, cxm_query_run(&r, c, &q));
	CHECK(c, cxm_query_quantiles(qc, c, &q, qs, 3));
	for (int i = 0; i < 3; i++) {
		qf[i] = floor_quantile(h, qs[i]);
		double e = fabs(qc[i] - qf[i]) / qf[i];
		worst = e > worst ? e : worst;
	}
	printf("  accepted %zu + %zu of %zu each; libcxm n %llu, mean %.2f s (floor %.2f s), "
	       "p50/p90/p99 %.1f/%.1f/%.1f s (floor %.1f/%.1f/%.1f s, worst apart %.2f %%)\n",
	       ok, ok2, n, (unsigned long long)r.n, r.mean, h->sum / (double)h->n, qc[0], qc[1],
	       qc[2], qf[0], qf[1], qf[2], 100 * worst);
	info("floor: log-bucket histogram record", ns_floor, "ns", "(bins + sum, in L1/L2)");
	info("libcxm: cxm_feed, one DURATION measure", ns_cxm, "ns", NULL);
	info("libcxm: cxm_feed_batch of 1024, same", ns_batch, "ns", "(no budget)");
	char note[160];
	snprintf(note, sizeof note, "(libcxm %.1f ns, floor %.2f ns)", ns_cxm, ns_floor);
	line_ok("duration record: cxm_feed ns / floor ns", ns_cxm / ns_floor, "x", 5, true,
		ok == n && r.n == n, ok == n ? note : "(not every value was accepted)");
	cxm_context_free(c);
	cxm_context_free(c2);
	free(bx);
	free(bm);
	free(h);
	free(v);
}

/* ---- memory: the small embed ----------------------------------------------------- */

static void small_embed(void)
{
	enum { TPS = 20, CUSTOMERS = 10000, RATE = 50, BATCH = 1000 };
	const int64_t HOUR = 3600000, T0 = WL_DAY0;
	const size_t n = (size_t)RATE * 3600;
	counter cnt;
	cxm_allocator a = counting_allocator(&cnt);
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.allocator = a;
	cfg.clock = fp_clock;
	fp_now = T0 + HOUR;
	cxm_context *c;
	CHECK(NULL, cxm_context_new(&c, &cfg));
	static const cxm_preset presets[4] = {CXM_PRESET_NPS, CXM_PRESET_CSAT5, CXM_PRESET_DURATION,
					      CXM_PRESET_RATE};
	static const char *const names[4] = {"nps", "csat", "handle time", "resolved"};
	cxm_id met[4], tp[TPS], tier;
	for (int i = 0; i < 4; i++) {
		cxm_metric_def d = {.size = sizeof d};
		CHECK(c, cxm_metric_preset(&d, presets[i]));
		CHECK(c, cxm_metric_define(&met[i], c, names[i], &d));
	}
	char name[32];
	for (int i = 0; i < TPS; i++) {
		snprintf(name, sizeof name, "tp%02d", i);
		CHECK(c, cxm_touchpoint_define(&tp[i], c, name, (cxm_channel)(1 + i % 8), CXM_NONE, 0));
	}
	CHECK(c, cxm_segment_define(&tier, c, "tier", 4));
	static const char *const tiers[4] = {"bronze", "silver", "gold", "platinum"};
	uint32_t tv[4];
	for (int i = 0; i < 4; i++)
		CHECK(c, cxm_segment_value(&tv[i], c, tier, tiers[i]));
	uint64_t defined = atomic_load(&cnt.now);

	cxm_interaction *ix = xcalloc(BATCH, sizeof *ix);
	cxm_measure (*ms)[3] = xcalloc(BATCH, sizeof *ms);
	uint32_t *seg = xcalloc(BATCH, sizeof *seg);
	char (*id)[16] = xcalloc(BATCH, sizeof *id);
	uint64_t x = 777;
	size_t accepted = 0;
	double t0 = now_s();
	for (size_t i = 0; i < n; i += BATCH) {
		size_t k = n - i < BATCH ? n - i : BATCH;
		for (size_t j = 0; j < k; j++) {
			uint32_t cust = below(&x, CUSTOMERS);
			uint64_t hx = cust;
			uint32_t t = (uint32_t)(mix(&hx) % 100);
			seg[j] = tv[t < 50 ? 0 : t < 80 ? 1 : t < 95 ? 2 : 3];
			size_t len = wl_customer_id(id[j], cust);
			double z = sqrt(-2 * log(unif(&x))) * cos(6.283185307179586 * unif(&x));
			double aht = exp(log(300.0) + 0.7 * z);
			size_t nm = 0;
			ms[j][nm++] = (cxm_measure){met[2], 0, aht};
			ms[j][nm++] = (cxm_measure){met[3], 0, below(&x, 100) < 72};
			if (below(&x, 4) == 0)
				ms[j][nm++] = below(&x, 2) ? (cxm_measure){met[0], 0, below(&x, 11)}
							   : (cxm_measure){met[1], 0, 1 + below(&x, 5)};
			ix[j] = (cxm_interaction){.size = sizeof ix[j],
						  .time_ms = T0 + (int64_t)((i + j) * 1000 / RATE),
						  .touchpoint = tp[below(&x, TPS)],
						  .customer = id[j],
						  .customer_len = len,
						  .segments = &seg[j],
						  .n_segments = 1,
						  .measures = ms[j],
						  .n_measures = nm};
		}
		size_t acc = 0;
		cxm_feed_batch(&acc, c, ix, k, NULL, 0, NULL);
		accepted += acc;
	}
	double dt = now_s() - t0;
	cxm_stats st = {.size = sizeof st};
	CHECK(c, cxm_stats_get(&st, c));
	size_t dur_b = 0;
	CHECK(c, cxm_series_bytes(&dur_b, c, met[2]));
	printf("  small embed: %d touchpoints, nps / csat / a duration / a rate, a segment of 4 "
	       "values,\n  %d customers with ids, one hour at %d interactions/s (%zu; %zu accepted, "
	       "fed in %.2f s); default config\n",
	       TPS, CUSTOMERS, RATE, n, accepted, dt);
	printf("  after the hour: %.2f MiB allocated (peak %.2f; %.2f before the first interaction),"
	       " cxm_stats %.2f MiB;\n  %llu series, %.2f MiB (a duration series %.1f KiB); "
	       "customer table %.2f MiB for %llu customers\n",
	       atomic_load(&cnt.now) / MIB, atomic_load(&cnt.peak) / MIB, defined / MIB,
	       (double)st.memory_bytes / MIB, (unsigned long long)st.series,
	       (double)st.series_bytes / MIB, dur_b / 1024.0, (double)st.customer_bytes / MIB,
	       (unsigned long long)st.customers);
	char note[96];
	snprintf(note, sizeof note, "(peak %.1f MiB)", atomic_load(&cnt.peak) / MIB);
	line_ok("small embed: allocated after one hour", atomic_load(&cnt.now) / MIB, "MiB", 8, true,
		accepted == n, accepted == n ? note : "(some interactions were rejected)");
	cxm_context_free(c);
	free(ix);
	free(ms);
	free(seg);
	free(id);
}

/* ---- memory: bytes per tracked customer ------------------------------------------ */

static void bytes_per_customer(void)
{
	enum { BATCH = 1024 };
	const size_t n = 1000000;
	counter cnt;
	cxm_allocator a = counting_allocator(&cnt);
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.allocator = a;
	cfg.clock = fp_clock;
	cfg.max_customers = (uint32_t)n;
	fp_now = WL_DAY0 + 3600000;
	cxm_context *c;
	CHECK(NULL, cxm_context_new(&c, &cfg));
	cxm_metric_def d = {.size = sizeof d};
	cxm_id vol, tp;
	CHECK(c, cxm_metric_preset(&d, CXM_PRESET_VOLUME));
	CHECK(c, cxm_metric_define(&vol, c, "volume", &d));
	CHECK(c, cxm_touchpoint_define(&tp, c, "web", CXM_CHANNEL_WEB, CXM_NONE, 0));
	/* one interaction without an id: the volume series exists before */
	cxm_interaction *ix = xcalloc(BATCH, sizeof *ix);
	char (*id)[16] = xcalloc(BATCH, sizeof *id);
	ix[0] = (cxm_interaction){.size = sizeof ix[0], .time_ms = WL_DAY0, .touchpoint = tp};
	CHECK(c, cxm_feed(c, &ix[0]));
	uint64_t base = atomic_load(&cnt.now);
	counter_reset_peak(&cnt);
	size_t accepted = 0;
	double t0 = now_s();
	for (size_t i = 0; i < n; i += BATCH) {
		size_t k = n - i < BATCH ? n - i : BATCH;
		for (size_t j = 0; j < k; j++) {
			size_t len = wl_customer_id(id[j], (uint32_t)(i + j));
			ix[j] = (cxm_interaction){.size = sizeof ix[j],
						  .time_ms = WL_DAY0 + (int64_t)((i + j) / 64),
						  .touchpoint = tp,
						  .customer = id[j],
						  .customer_len = len};
		}
		size_t acc = 0;
		cxm_feed_batch(&acc, c, ix, k, NULL, 0, NULL);
		accepted += acc;
	}
	double dt = now_s() - t0;
	cxm_stats st = {.size = sizeof st};
	CHECK(c, cxm_stats_get(&st, c));
	uint64_t delta = atomic_load(&cnt.now) - base, peak = atomic_load(&cnt.peak) - base;
	double per = st.customers ? (double)delta / (double)st.customers : NAN;
	printf("  %zu distinct customers, VOLUME only, max_customers %zu: %zu accepted in %.2f s, "
	       "%llu tracked, %llu evicted;\n  allocated +%.1f MiB (peak +%.1f MiB), cxm_stats "
	       "customer table %.1f MiB (%.1f B per tracked customer)\n",
	       n, n, accepted, dt, (unsigned long long)st.customers,
	       (unsigned long long)st.customers_evicted, delta / MIB, peak / MIB,
	       (double)st.customer_bytes / MIB,
	       st.customers ? (double)st.customer_bytes / (double)st.customers : NAN);
	char note[96];
	snprintf(note, sizeof note, "(allocator delta; peak %.1f B)",
		 st.customers ? (double)peak / (double)st.customers : NAN);
	line_ok("bytes per tracked customer (1 M distinct)", per, "B", 48, true, st.customers > 0,
		note);
	cxm_context_free(c);
	free(ix);
	free(id);
}

/* ---- scaling cells --------------------------------------------------------------- */

typedef struct cell {
	uint32_t tps, customers;
	bool run, skipped;
	size_t n, accepted, refused, other;
	double feed_s, prepop_s, gen_s;
	uint64_t now, peak, refused_at, series;
	uint64_t tracked;
} cell;

/* The reference model on cl->tps touchpoints, tracking up to cl->customers
 * customers, all of them seen first (one interaction each without a
 * measure, on a stand-alone touchpoint, not timed); then cl->n reference
 * interactions drawn from them at the reference day's rate (10 M a day)
 * fed in batches of 1024 on one thread, timed. Under max_memory = cap: a
 * refused allocation rejects interactions (counted, and where the
 * allocated bytes stood at the first one). */
static void run_cell(cell *cl, size_t n, uint64_t cap)
{
	enum { BATCH = 1024 };
	int64_t span = (int64_t)((double)n / 10e6 * (double)WL_DAY);
	if (span < 3600000)
		span = 3600000;
	fp_now = WL_DAY0 + span + 60000;
	counter cnt;
	cxm_allocator a = counting_allocator(&cnt);
	wl_model md = {.clock = fp_clock,
		       .max_customers = cl->customers,
		       .touchpoints = cl->tps,
		       .allocator = &a,
		       .max_memory = cap};
	cxm_context *c = wl_context_ex(&md);
	cl->n = n;
	cl->run = true;
	cxm_rejection *rej = xcalloc(BATCH, sizeof *rej);
	/* everyone once */
	cxm_interaction *ix = xcalloc(BATCH, sizeof *ix);
	char (*id)[16] = xcalloc(BATCH, sizeof *id);
	double t0 = now_s();
	for (uint32_t i = 0; i < cl->customers; i += BATCH) {
		uint32_t k = cl->customers - i < BATCH ? cl->customers - i : BATCH;
		for (uint32_t j = 0; j < k; j++) {
			size_t len = wl_customer_id(id[j], i + j);
			ix[j] = (cxm_interaction){.size = sizeof ix[j],
						  .time_ms = WL_DAY0,
						  .touchpoint = cl->tps - 1,
						  .customer = id[j],
						  .customer_len = len};
		}
		size_t nrej = 0;
		cxm_feed_batch(NULL, c, ix, k, rej, BATCH, &nrej);
		for (size_t r = 0; r < nrej && r < BATCH; r++) {
			if (rej[r].status == CXM_ERR_NO_MEMORY && !cl->refused++)
				cl->refused_at = atomic_load(&cnt.now);
			else if (rej[r].status != CXM_ERR_NO_MEMORY)
				cl->other++;
		}
	}
	cl->prepop_s = now_s() - t0;
	free(ix);
	free(id);
	/* the timed interactions */
	workload w;
	t0 = now_s();
	wl_generate_ex(&w, n, cl->customers, 1, cl->tps, span);
	cl->gen_s = now_s() - t0;
	size_t accepted = 0;
	t0 = now_s();
	for (size_t i = 0; i < n; i += BATCH) {
		size_t k = n - i < BATCH ? n - i : BATCH, acc = 0, nrej = 0;
		cxm_feed_batch(&acc, c, &w.ix[i], k, rej, BATCH, &nrej);
		accepted += acc;
		for (size_t r = 0; r < nrej && r < BATCH; r++) {
			if (rej[r].status == CXM_ERR_NO_MEMORY && !cl->refused++)
				cl->refused_at = atomic_load(&cnt.now);
			else if (rej[r].status != CXM_ERR_NO_MEMORY)
				cl->other++;
		}
	}
	cl->feed_s = now_s() - t0;
	cl->accepted = accepted;
	cxm_stats st = {.size = sizeof st};
	CHECK(c, cxm_stats_get(&st, c));
	cl->series = st.series;
	cl->tracked = st.customers;
	cl->now = atomic_load(&cnt.now);
	cl->peak = atomic_load(&cnt.peak);
	cxm_context_free(c);
	wl_free(&w);
	free(rej);
}

static double machine_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	return pages > 0 && page > 0 ? (double)pages * (double)page / MIB : NAN;
}

static void print_cell(const cell *cl)
{
	char tp[16], cu[16];
	snprintf(tp, sizeof tp, "%u", cl->tps);
	if (cl->customers >= 1000000)
		snprintf(cu, sizeof cu, "%u M", cl->customers / 1000000);
	else
		snprintf(cu, sizeof cu, "%u k", cl->customers / 1000);
	if (cl->skipped || !cl->run) {
		printf("  %11s %9s   %s\n", tp, cu, cl->skipped ? "skipped (--quick)" : "not run");
		return;
	}
	char ns[48];
	if (cl->refused)
		snprintf(ns, sizeof ns, "refused at %.0f MiB", cl->refused_at / MIB);
	else
		snprintf(ns, sizeof ns, "%.0f ns", cl->feed_s / (double)cl->n * 1e9);
	printf("  %11s %9s %13zu %20s %12.1f %10.1f %9llu %10llu %8.1f s %s\n", tp, cu, cl->n, ns,
	       cl->now / MIB, cl->peak / MIB, (unsigned long long)cl->series,
	       (unsigned long long)cl->tracked, cl->prepop_s + cl->feed_s,
	       cl->refused ? "" : cl->other ? "(other rejections!)" : "");
	if (cl->refused)
		printf("  %11s %9s   %zu of %zu interactions accepted; %zu refused for memory, at the "
		       "first %.0f MiB allocated; %.0f ns per interaction offered\n",
		       "", "", cl->accepted, cl->n, cl->refused, cl->refused_at / MIB,
		       cl->feed_s / (double)cl->n * 1e9);
}

void footprint_memory_and_scaling(const footprint_opts *o)
{
	int sec = o->first_section;
	printf("\n%d. memory, counted by a cxm_allocator that records every block's size\n", sec);
	small_embed();
	bytes_per_customer();

	/* the 1 000 touchpoints: the scaling table's cell, run here */
	enum { C_TP10, C_TP100, C_TP1000, C_C100K, C_C10M, N_CELLS };
	cell cells[N_CELLS] = {
		[C_TP10] = {.tps = 10, .customers = 1000000},
		[C_TP100] = {.tps = 100, .customers = 1000000},
		[C_TP1000] = {.tps = 1000, .customers = 1000000},
		[C_C100K] = {.tps = 100, .customers = 100000},
		[C_C10M] = {.tps = 100, .customers = 10000000},
	};
	cell *big = &cells[C_TP1000];
	printf("  1 000 touchpoints: the reference model (6 metrics, tier x4, region x8, journeys) on "
	       "1 000 touchpoints,\n  1 M customers, %zu reference interactions (~%zu on each "
	       "touchpoint), max_memory %.0f MiB; machine %.0f MiB\n",
	       o->cell_n, o->cell_n / 1000, o->cap / MIB, machine_mib());
	run_cell(big, o->cell_n, o->cap);
	char note[160];
	if (big->refused)
		snprintf(note, sizeof note,
			 "not met (refused at %.0f MiB: %zu of %zu interactions rejected for memory)",
			 big->refused_at / MIB, big->refused, big->n);
	else
		snprintf(note, sizeof note, "(%.0f ns per interaction, %zu accepted of %zu)",
			 big->feed_s / (double)big->n * 1e9, big->accepted, big->n);
	line_ok("1 000 touchpoints: peak allocated, within max_memory", big->peak / MIB, "MiB",
		o->cap / MIB, true, !big->refused && !big->other && big->accepted == big->n, note);

	if (!o->scaling)
		return;
	printf("\n%d. scaling (no budget): the reference model and interactions, batches of 1024, "
	       "1 thread,\n   %zu interactions a cell at the reference day's rate, every customer "
	       "seen once first;\n   max_memory %.0f MiB; allocated MiB from the counting allocator\n",
	       sec + 1, o->cell_n, o->cap / MIB);
	for (int i = 0; i < N_CELLS; i++) {
		if (i == C_TP1000)
			continue;
		if (i == C_C10M && o->quick) {
			cells[i].skipped = true;
			continue;
		}
		run_cell(&cells[i], o->cell_n, o->cap);
	}
	printf("  %11s %9s %13s %20s %12s %10s %9s %10s %10s\n", "touchpoints", "customers",
	       "interactions", "ns/interaction", "alloc MiB", "peak MiB", "series", "tracked",
	       "took");
	static const int order[] = {C_TP10, C_TP100, C_TP1000, C_C100K, C_TP100, C_C10M};
	for (int i = 0; i < (int)(sizeof order / sizeof order[0]); i++) {
		if (i == 0)
			printf("  by touchpoints (1 M customers):\n");
		if (i == 3)
			printf("  by customers (100 touchpoints):\n");
		print_cell(&cells[order[i]]);
	}
}
