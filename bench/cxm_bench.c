/* libcxm benchmark: DESIGN.md's reference workload, "a contact-center day",
 * measured against the budgets, with SQLite doing the same work in the
 * same run as the peer.
 *
 *   cxm_bench [--interactions N] [--customers N] [--seed S]
 *             [--sqlite-interactions N] [--no-sqlite] [--quick] [--ingest-only]
 *
 * A program a person runs, not a test: wall-clock figures drift on shared
 * machines, so ratios against the peer are what to compare across runs
 * (bench/callgrind.sh gives repeatable instruction counts). */
#include <cxm.h>

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY INT64_C(86400000)
#define DAY0 INT64_C(1795392000000)
enum { N_TP = 100, N_JOURNEYS = 5, N_TIER = 4, N_REGION = 8 };
enum { M_NPS, M_CSAT, M_CES, M_AHT, M_RES, M_VOL, N_M };
static const char *MNAME[N_M] = {"nps", "csat", "ces", "aht", "resolved", "volume"};
static const cxm_preset MPRESET[N_M] = {CXM_PRESET_NPS, CXM_PRESET_CSAT5, CXM_PRESET_CES7,
					CXM_PRESET_DURATION, CXM_PRESET_RATE, CXM_PRESET_VOLUME};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what, cxm_context *ctx, cxm_status st)
{
	fprintf(stderr, "%s: %s (%s)\n", what, cxm_strerror(st), cxm_errmsg(ctx));
	exit(1);
}
#define CHECK(ctx, call)                                                                       \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_)                                                                       \
			die(#call, ctx, st_);                                                  \
	} while (0)

/* ---- the workload ------------------------------------------------------------ */

typedef struct workload {
	size_t n;
	cxm_interaction *ix;
	cxm_measure (*ms)[3];
	uint32_t (*segs)[2];
	char (*cust)[16];
} workload;

static uint64_t rs;
static uint64_t rnd(void)
{
	uint64_t z = (rs += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}
static double unif(void) { return ((rnd() >> 11) + 0.5) / 9007199254740992.0; }

static cxm_id metric[N_M], tp[N_TP];

/* N interactions over 24 h in time order: each a handle time and a
 * resolved flag, one in four also an NPS, CSAT or CES answer. */
static void make_workload(workload *w, size_t n, uint32_t customers, uint64_t seed)
{
	rs = seed;
	w->n = n;
	w->ix = calloc(n, sizeof *w->ix);
	w->ms = calloc(n, sizeof *w->ms);
	w->segs = calloc(n, sizeof *w->segs);
	w->cust = calloc(n, sizeof *w->cust);
	if (!w->ix || !w->ms || !w->segs || !w->cust) {
		fprintf(stderr, "out of memory for %zu interactions\n", n);
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rnd();
		uint32_t c = (uint32_t)(r % customers);
		snprintf(w->cust[i], sizeof w->cust[i], "c%09u", c);
		w->segs[i][0] = c % N_TIER;
		w->segs[i][1] = (c / N_TIER) % N_REGION;
		uint32_t k = 0;
		double z = sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
		double aht = exp(log(300) + 0.6 * z);
		w->ms[i][k++] = (cxm_measure){metric[M_AHT], 0, aht < 30 ? 30 : aht > 3600 ? 3600 : aht};
		w->ms[i][k++] = (cxm_measure){metric[M_RES], 0, (double)((r >> 20) % 100 < 72)};
		if ((r >> 30) % 4 == 0) {
			int which = (int)((r >> 34) % 3);
			double v = which == 0 ? (double)((r >> 40) % 11) : which == 1 ? 1 + (double)((r >> 40) % 5) : 1 + (double)((r >> 40) % 7);
			w->ms[i][k++] = (cxm_measure){metric[which], 0, v};
		}
		cxm_interaction *ix = &w->ix[i];
		ix->size = sizeof *ix;
		ix->time_ms = DAY0 + (int64_t)((double)i / n * DAY);
		ix->touchpoint = tp[(r >> 8) % N_TP];
		ix->customer = w->cust[i];
		ix->customer_len = 10;
		ix->segments = w->segs[i];
		ix->n_segments = 2;
		ix->measures = w->ms[i];
		ix->n_measures = k;
	}
}

static int64_t clock_now;
static int64_t bench_clock(void *o)
{
	(void)o;
	return clock_now;
}

static cxm_context *make_context(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = bench_clock;
	cxm_context *ctx;
	CHECK(NULL, cxm_context_new(&ctx, &cfg));
	for (int m = 0; m < N_M; m++) {
		cxm_metric_def d = {.size = sizeof d};
		CHECK(ctx, cxm_metric_preset(&d, MPRESET[m]));
		CHECK(ctx, cxm_metric_define(&metric[m], ctx, MNAME[m], &d));
	}
	cxm_id j[N_JOURNEYS], tier, region;
	char name[64];
	for (int i = 0; i < N_JOURNEYS; i++) {
		const char *steps[] = {"s1", "s2", "s3", "s4"};
		snprintf(name, sizeof name, "journey %d", i);
		CHECK(ctx, cxm_journey_define(&j[i], ctx, name, steps, 4));
	}
	for (int i = 0; i < N_TP; i++) {
		snprintf(name, sizeof name, "touchpoint %d", i);
		bool alone = i % 10 == 9;
		CHECK(ctx, cxm_touchpoint_define(&tp[i], ctx, name, (cxm_channel)(1 + i % 8),
						 alone ? CXM_NONE : j[i % N_JOURNEYS], (cxm_id)(i / 5 % 4)));
	}
	CHECK(ctx, cxm_segment_define(&tier, ctx, "tier", N_TIER));
	CHECK(ctx, cxm_segment_define(&region, ctx, "region", N_REGION));
	uint32_t v;
	for (int i = 0; i < N_TIER; i++) {
		snprintf(name, sizeof name, "tier %d", i);
		CHECK(ctx, cxm_segment_value(&v, ctx, tier, name));
	}
	for (int i = 0; i < N_REGION; i++) {
		snprintf(name, sizeof name, "region %d", i);
		CHECK(ctx, cxm_segment_value(&v, ctx, region, name));
	}
	return ctx;
}

/* ---- feeding ------------------------------------------------------------------- */

enum { BATCH = 1024 };
typedef struct feedjob {
	cxm_context *ctx;
	const workload *w;
	atomic_size_t next;
	atomic_size_t accepted;
} feedjob;

/* Threads take batches in time order, as live threads would. */
static void *feed_thread(void *p)
{
	feedjob *j = p;
	size_t acc_total = 0;
	for (;;) {
		size_t from = atomic_fetch_add(&j->next, BATCH);
		if (from >= j->w->n)
			break;
		size_t n = j->w->n - from < BATCH ? j->w->n - from : BATCH, acc = 0;
		cxm_status st = cxm_feed_batch(&acc, j->ctx, &j->w->ix[from], n, NULL, 0, NULL);
		if (st != CXM_OK && st != CXM_ERR_REJECTED)
			die("cxm_feed_batch", j->ctx, st);
		acc_total += acc;
	}
	atomic_fetch_add(&j->accepted, acc_total);
	return NULL;
}

static double feed_threads(cxm_context *ctx, const workload *w, int threads, size_t *accepted)
{
	feedjob j = {.ctx = ctx, .w = w};
	pthread_t th[8];
	double t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, feed_thread, &j);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	double dt = now_s() - t0;
	*accepted = atomic_load(&j.accepted);
	return dt;
}

static double feed_single(cxm_context *ctx, const workload *w, size_t *accepted)
{
	size_t ok = 0;
	double t0 = now_s();
	for (size_t i = 0; i < w->n; i++)
		ok += cxm_feed(ctx, &w->ix[i]) == CXM_OK;
	*accepted = ok;
	return now_s() - t0;
}

/* ---- reporting ------------------------------------------------------------------ */

static void line(const char *what, double got, const char *unit, double budget, bool le)
{
	bool pass = le ? got <= budget : got >= budget;
	printf("  %-52s %10.1f %-6s budget %s %-8g %s\n", what, got, unit, le ? "<=" : ">=", budget,
	       pass ? "PASS" : "MISS");
}

static cxm_result q1(cxm_context *ctx, int m, cxm_scope scope, cxm_id id, int64_t span)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = metric[m];
	q.scope = scope;
	q.id = id;
	q.end_ms = DAY0 + DAY - 1;
	q.span_ms = span;
	cxm_result r = {.size = sizeof r};
	CHECK(ctx, cxm_query_run(&r, ctx, &q));
	return r;
}

static const int64_t WINDOWS[3] = {DAY, 7 * DAY, 30 * DAY};
static const char *WNAME[3] = {"24h", "7d", "30d"};

static double dashboard(cxm_context *ctx, int reps)
{
	double t0 = now_s();
	volatile double sink = 0;
	for (int r = 0; r < reps; r++)
		for (int t = 0; t < N_TP; t++)
			for (int m = 0; m < N_M; m++)
				for (int w = 0; w < 3; w++)
					sink += q1(ctx, m, CXM_SCOPE_TOUCHPOINT, tp[t], WINDOWS[w]).n;
	(void)sink;
	return (now_s() - t0) / reps;
}

/* ---- SQLite, the way a user would do it without us ----------------------------- */

static void sq(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s: %s\n", sql, err);
		exit(1);
	}
}

static double sqlite_ingest(sqlite3 *db, const workload *w, size_t n)
{
	sq(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	       "CREATE TABLE ix(t INTEGER, tp INTEGER, tier INTEGER, region INTEGER, customer TEXT,"
	       " metric INTEGER, value REAL);"
	       "CREATE INDEX ix_mtt ON ix(metric, tp, t);");
	sqlite3_stmt *ins;
	sqlite3_prepare_v2(db, "INSERT INTO ix VALUES(?,?,?,?,?,?,?)", -1, &ins, NULL);
	double t0 = now_s();
	sq(db, "BEGIN");
	for (size_t i = 0; i < n; i++) {
		const cxm_interaction *ix = &w->ix[i];
		/* one row per measure, and one for the volume */
		for (size_t k = 0; k <= ix->n_measures; k++) {
			int m = k < ix->n_measures ? 0 : M_VOL;
			if (k < ix->n_measures)
				for (int mm = 0; mm < N_M; mm++)
					if (metric[mm] == ix->measures[k].metric)
						m = mm;
			sqlite3_bind_int64(ins, 1, ix->time_ms);
			sqlite3_bind_int(ins, 2, (int)ix->touchpoint);
			sqlite3_bind_int(ins, 3, (int)ix->segments[0]);
			sqlite3_bind_int(ins, 4, (int)ix->segments[1]);
			sqlite3_bind_text(ins, 5, ix->customer, (int)ix->customer_len, SQLITE_STATIC);
			sqlite3_bind_int(ins, 6, m);
			sqlite3_bind_double(ins, 7, k < ix->n_measures ? ix->measures[k].value : 1);
			if (sqlite3_step(ins) != SQLITE_DONE) {
				fprintf(stderr, "sqlite insert: %s\n", sqlite3_errmsg(db));
				exit(1);
			}
			sqlite3_reset(ins);
		}
	}
	sq(db, "COMMIT");
	double dt = now_s() - t0;
	sqlite3_finalize(ins);
	return dt;
}

/* The same 100 x 6 x 3 dashboard in SQL: NPS and CSAT by conditional
 * sums, CES and rates by AVG, the volume by COUNT, and duration p50/p90
 * with a window function over the rows in range. */
static double sqlite_dashboard(sqlite3 *db)
{
	sqlite3_stmt *agg, *pct;
	sqlite3_prepare_v2(db,
			   "SELECT COUNT(*), SUM(value >= ?4), SUM(value <= ?5), AVG(value) FROM ix"
			   " WHERE metric = ?1 AND tp = ?2 AND t >= ?3 AND t < ?6",
			   -1, &agg, NULL);
	sqlite3_prepare_v2(db,
			   "SELECT value FROM (SELECT value, PERCENT_RANK() OVER (ORDER BY value) AS pr"
			   " FROM ix WHERE metric = ?1 AND tp = ?2 AND t >= ?3 AND t < ?4)"
			   " WHERE pr >= 0.5 LIMIT 1",
			   -1, &pct, NULL);
	double t0 = now_s();
	volatile double sink = 0;
	for (int t = 0; t < N_TP; t++)
		for (int m = 0; m < N_M; m++)
			for (int w = 0; w < 3; w++) {
				int64_t end = DAY0 + DAY, start = end - WINDOWS[w];
				sqlite3_bind_int(agg, 1, m);
				sqlite3_bind_int(agg, 2, (int)tp[t]);
				sqlite3_bind_int64(agg, 3, start);
				sqlite3_bind_int(agg, 4, m == M_NPS ? 9 : m == M_CSAT ? 4 : 5);
				sqlite3_bind_int(agg, 5, m == M_NPS ? 6 : m == M_CSAT ? 2 : 3);
				sqlite3_bind_int64(agg, 6, end);
				while (sqlite3_step(agg) == SQLITE_ROW)
					sink += sqlite3_column_double(agg, 3);
				sqlite3_reset(agg);
				if (m == M_AHT) {
					/* p50 and p90: two passes, as PERCENT_RANK needs */
					for (int p = 0; p < 2; p++) {
						sqlite3_bind_int(pct, 1, m);
						sqlite3_bind_int(pct, 2, (int)tp[t]);
						sqlite3_bind_int64(pct, 3, start);
						sqlite3_bind_int64(pct, 4, end);
						while (sqlite3_step(pct) == SQLITE_ROW)
							sink += sqlite3_column_double(pct, 0);
						sqlite3_reset(pct);
					}
				}
			}
	(void)sink;
	double dt = now_s() - t0;
	sqlite3_finalize(agg);
	sqlite3_finalize(pct);
	return dt;
}

int main(int argc, char **argv)
{
	size_t n = 10000000, n_sql = 1000000;
	uint32_t customers = 1000000;
	uint64_t seed = 1;
	bool use_sqlite = true, ingest_only = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interactions") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--customers") && i + 1 < argc)
			customers = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--sqlite-interactions") && i + 1 < argc)
			n_sql = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--no-sqlite"))
			use_sqlite = false;
		else if (!strcmp(argv[i], "--ingest-only"))
			ingest_only = true;
		else if (!strcmp(argv[i], "--quick")) {
			n = 200000;
			n_sql = 100000;
			customers = 50000;
		} else {
			fprintf(stderr, "usage: %s [--interactions N] [--customers N] [--seed S] "
					"[--sqlite-interactions N] [--no-sqlite] [--quick] [--ingest-only]\n", argv[0]);
			return 2;
		}
	}
	if (n < 1000 || customers < 1) {
		fprintf(stderr, "cxm_bench: need --interactions >= 1000 and --customers >= 1\n");
		return 2;
	}
	if (n_sql > n)
		n_sql = n;
	clock_now = DAY0 + DAY;
	printf("libcxm %s benchmark: %zu interactions over 24 h, %u customers, %d touchpoints, "
	       "tier x%d, region x%d, seed %llu\n\n",
	       cxm_libversion(), n, customers, N_TP, N_TIER, N_REGION, (unsigned long long)seed);

	cxm_context *ctx = make_context();
	workload w;
	make_workload(&w, n, customers, seed);
	size_t measures = 0;
	for (size_t i = 0; i < n; i++)
		measures += w.ix[i].n_measures;
	printf("workload: %.2f measures per interaction (+1 volume)\n\n", (double)measures / n);
	if (ingest_only) { /* for bench/callgrind.sh: one batch ingest, nothing else */
		size_t acc = 0;
		double t = feed_threads(ctx, &w, 1, &acc);
		printf("ingest: %zu accepted, %.1f ns per interaction\n", acc, t / n * 1e9);
		cxm_context_free(ctx);
		return acc == n ? 0 : 1;
	}

	/* one fold: a single-measure interaction into one series, no segments */
	{
		cxm_context *c1 = make_context();
		enum { F = 2000000 };
		cxm_interaction *one = calloc(BATCH, sizeof *one);
		cxm_measure m1 = {metric[M_CSAT], 0, 4};
		for (int i = 0; i < BATCH; i++) {
			one[i].size = sizeof one[i];
			one[i].touchpoint = tp[0];
			one[i].measures = &m1;
			one[i].n_measures = 1;
		}
		double t0 = now_s();
		for (int done = 0; done < F; done += BATCH) {
			for (int i = 0; i < BATCH; i++)
				one[i].time_ms = DAY0 + (int64_t)(done + i) * (DAY / F);
			cxm_feed_batch(NULL, c1, one, BATCH, NULL, 0, NULL);
		}
		double dt = now_s() - t0;
		printf("feeding\n");
		line("one measure into one series (batch, all overhead)", dt / F * 1e9, "ns", 5, true);
		free(one);
		cxm_context_free(c1);
	}

	size_t acc1 = 0, acc_b = 0, acc2 = 0;
	cxm_context *cs = make_context();
	double t_single = feed_single(cs, &w, &acc1);
	cxm_context_free(cs);
	cxm_context *c2 = make_context();
	double t_two = feed_threads(c2, &w, 2, &acc2);
	cxm_context_free(c2);
	double t_batch = feed_threads(ctx, &w, 1, &acc_b);
	line("reference interaction, single call, 1 thread", t_single / n * 1e9, "ns", 100, true);
	line("reference interaction, batch call, 1 thread", t_batch / n * 1e9, "ns", 100, true);
	line("reference interaction, batch call, 2 threads (wall)", t_two / n * 1e9, "ns", 50, true);
	line("2 threads speed-up over 1", t_batch / t_two, "x", 1.8, false);
	if (acc1 != n || acc_b != n || acc2 != n)
		printf("  !! accepted %zu / %zu / %zu of %zu\n", acc1, acc_b, acc2, n);

	cxm_stats st = {.size = sizeof st};
	CHECK(ctx, cxm_stats_get(&st, ctx));
	cxm_result all = q1(ctx, M_VOL, CXM_SCOPE_ALL, 0, DAY);
	printf("  check: volume over everything, 24 h = %llu (fed %zu, accepted %llu, rejected %llu) %s\n",
	       (unsigned long long)all.n, n, (unsigned long long)st.accepted,
	       (unsigned long long)st.rejected_total, all.n == n && st.rejected_total == 0 ? "OK" : "MISMATCH");

	printf("\nqueries (one touchpoint series, mean of many)\n");
	for (int m = 0; m < N_M; m++)
		for (int wi = 0; wi < 3; wi++) {
			int reps = 2000;
			double t0 = now_s();
			volatile uint64_t sink = 0;
			for (int r = 0; r < reps; r++)
				sink += q1(ctx, m, CXM_SCOPE_TOUCHPOINT, tp[r % N_TP], WINDOWS[wi]).n;
			(void)sink;
			char what[80];
			snprintf(what, sizeof what, "%s %s%s", MNAME[m], WNAME[wi],
				 m == M_AHT ? " (count, mean, p50/p90/p99)" : "");
			line(what, (now_s() - t0) / reps * 1e6, "us", m == M_AHT ? 10 : 1, true);
		}
	{
		int reps = 50;
		double t0 = now_s();
		for (int r = 0; r < reps; r++)
			q1(ctx, M_NPS, CXM_SCOPE_ALL, 0, DAY);
		printf("  %-52s %10.1f us   (merges all %d touchpoints; no budget)\n", "nps 24h, overall",
		       (now_s() - t0) / reps * 1e6, N_TP);
	}
	double t_dash = dashboard(ctx, 3);
	line("dashboard: 100 touchpoints x 6 metrics x 3 windows", t_dash * 1e3, "ms", 5, true);

	printf("\nmemory\n");
	for (int m = 0; m < N_M; m++) {
		size_t b = 0;
		CHECK(ctx, cxm_series_bytes(&b, ctx, metric[m]));
		printf("  bytes per %-9s series %10zu\n", MNAME[m], b);
	}
	printf("  series %llu, allocated %.1f MiB (untouched ring pages are never resident)\n",
	       (unsigned long long)st.series, st.memory_bytes / 1048576.0);

	if (use_sqlite) {
		printf("\nSQLite %s peer: %zu interactions (%s), in memory, index (metric, tp, t)\n",
		       sqlite3_libversion(), n_sql, n_sql < n ? "a prefix: fewer rows favours SQLite" : "all");
		sqlite3 *db;
		if (sqlite3_open(":memory:", &db) != SQLITE_OK)
			return 1;
		double t_sql = sqlite_ingest(db, &w, n_sql);
		double ns_sql = t_sql / n_sql * 1e9, ns_cxm = t_batch / n * 1e9;
		printf("  ingest: SQLite %.0f ns per interaction, libcxm %.0f ns: libcxm is %.1fx faster (bar 20x) %s\n",
		       ns_sql, ns_cxm, ns_sql / ns_cxm, ns_sql / ns_cxm >= 20 ? "PASS" : "MISS");
		double d_sql = sqlite_dashboard(db);
		printf("  dashboard: SQLite %.1f ms, libcxm %.2f ms: libcxm is %.0fx faster (bar 100x) %s\n",
		       d_sql * 1e3, t_dash * 1e3, d_sql / t_dash, d_sql / t_dash >= 100 ? "PASS" : "MISS");
		sqlite3_close(db);
	}
	cxm_context_free(ctx);
	free(w.ix);
	free(w.ms);
	free(w.segs);
	free(w.cust);
	return 0;
}
