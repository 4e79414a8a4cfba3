/* libcxm benchmark: the reference workload, "a contact-center day",
 * measured against the performance budgets, with SQLite doing the same
 * work in the same run as the peer.
 *
 *   cxm_bench [--interactions N] [--customers N] [--seed S] [--threads T]
 *             [--sqlite-interactions N] [--no-sqlite] [--reps R] [--quick]
 *             [--regress] [--ingest-only] [--journeys]
 *             [--footprint-only] [--no-scaling] [--scale-interactions N]
 *             [--memory-cap MIB]
 *
 * Sections 1-5 are the reference day (folds, ingest, queries, its memory,
 * SQLite); 6-8 (footprint.c) a duration record against a floor histogram,
 * memory budgets through a counting allocator, and a scaling table.
 *
 * A program a person runs, not a test: wall-clock figures drift on shared
 * machines, so ratios against the peer are what to compare across runs and
 * bench/callgrind.sh gives repeatable instruction counts (--regress is its
 * fixed run: one batch ingest and one dashboard, nothing timed). */
#include "benchutil.h"
#include "footprint.h"
#include "workload.h"

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
#include <unistd.h>

#define DAY WL_DAY
#define DAY0 WL_DAY0
enum { N_TP = WL_TOUCHPOINTS, N_M = WL_METRICS, N_W = 3, BATCH = 1024 };
enum { M_NPS = WL_NPS, M_CSAT = WL_CSAT, M_CES = WL_CES, M_AHT = WL_AHT, M_RES = WL_RESOLVED,
       M_VOL = WL_VOLUME };
static const int64_t WINDOWS[N_W] = {DAY, 7 * DAY, 30 * DAY};
static const char *const WNAME[N_W] = {"24h", "7d", "30d"};
/* Queries end at the last millisecond of the day, so their 24 h window is
 * exactly the day of data; the clock says the day is over. */
#define Q_END (DAY0 + DAY - 1)

static int64_t clock_now = DAY0 + DAY;
static int64_t bench_clock(void *o)
{
	(void)o;
	return clock_now;
}

/* ---- feeding ------------------------------------------------------------------- */

/* Interactions per chunk a thread takes: BATCH, or fewer in small runs, so
 * that a chunk spans at most 10 minutes of the day and threads working on
 * neighbouring chunks stay well within the finest tier's 2 h reach. */
static size_t chunk = BATCH;

typedef struct feedjob {
	cxm_context *ctx;
	const cxm_interaction *ix;
	size_t n;
	bool batch;
	atomic_size_t next;
	atomic_size_t accepted;
} feedjob;

/* Threads take chunks of interactions in time order, as live call threads
 * would, and feed each chunk with one batch call or call by call. */
static void *feed_thread(void *p)
{
	feedjob *j = p;
	size_t ok = 0;
	for (;;) {
		size_t from = atomic_fetch_add_explicit(&j->next, chunk, memory_order_relaxed);
		if (from >= j->n)
			break;
		size_t n = j->n - from < chunk ? j->n - from : chunk;
		if (j->batch) {
			size_t acc = 0;
			cxm_status st = cxm_feed_batch(&acc, j->ctx, &j->ix[from], n, NULL, 0, NULL);
			if (st != CXM_OK && st != CXM_ERR_REJECTED)
				bench_die("cxm_feed_batch", j->ctx, st);
			ok += acc;
		} else {
			for (size_t i = from; i < from + n; i++)
				ok += cxm_feed(j->ctx, &j->ix[i]) == CXM_OK;
		}
	}
	atomic_fetch_add(&j->accepted, ok);
	return NULL;
}

/* Seconds to feed ix[0..n) into ctx from `threads` threads. */
static double feed(cxm_context *ctx, const cxm_interaction *ix, size_t n, int threads, bool batch,
		   size_t *accepted)
{
	feedjob j = {.ctx = ctx, .ix = ix, .n = n, .batch = batch};
	pthread_t th[8];
	double t0 = now_s();
	if (threads == 1) {
		feed_thread(&j);
	} else {
		for (int i = 0; i < threads; i++)
			if (pthread_create(&th[i], NULL, feed_thread, &j)) {
				fprintf(stderr, "cxm_bench: pthread_create failed\n");
				exit(1);
			}
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
	}
	double dt = now_s() - t0;
	*accepted = atomic_load(&j.accepted);
	return dt;
}

/* ---- querying ------------------------------------------------------------------- */

static cxm_result query(cxm_context *ctx, int m, cxm_scope scope, cxm_id id, int64_t span)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = wl_metric[m];
	q.scope = scope;
	q.id = id;
	q.end_ms = Q_END;
	q.span_ms = span;
	cxm_result r = {.size = sizeof r};
	CHECK(ctx, cxm_query_run(&r, ctx, &q));
	return r;
}

/* One dashboard cell's answer, from either side, for the cross-check. */
typedef struct cell {
	uint64_t n;
	double value, p50, p90, p99;
} cell;
static cell dash_cxm[N_TP][N_M][N_W], dash_sql[N_TP][N_M][N_W];

/* The dashboard: every touchpoint x every metric x 24 h / 7 d / 30 d. */
static double dashboard(cxm_context *ctx, int reps, double *best)
{
	double total = 0;
	*best = INFINITY;
	for (int r = 0; r < reps; r++) {
		double t0 = now_s();
		for (int t = 0; t < N_TP; t++)
			for (int m = 0; m < N_M; m++)
				for (int w = 0; w < N_W; w++) {
					cxm_result res = query(ctx, m, CXM_SCOPE_TOUCHPOINT, wl_tp[t],
							       WINDOWS[w]);
					dash_cxm[t][m][w] = (cell){res.n, res.value, res.p50, res.p90,
								   res.p99};
				}
		double dt = now_s() - t0;
		total += dt;
		if (dt < *best)
			*best = dt;
	}
	return total / reps;
}

/* Checks that the context holds exactly what was fed: the volume over
 * everything for the day equals the interactions accepted, nothing was
 * rejected. Returns true when it does. */
static bool check_context(cxm_context *ctx, size_t fed, size_t accepted, bool verbose)
{
	cxm_stats st = {.size = sizeof st};
	CHECK(ctx, cxm_stats_get(&st, ctx));
	cxm_result all = query(ctx, M_VOL, CXM_SCOPE_ALL, 0, DAY);
	bool ok = all.n == accepted && st.accepted == accepted && accepted == fed &&
		  st.rejected_total == 0;
	if (verbose || !ok) {
		printf("  check: volume over every touchpoint, 24 h = %llu; fed %zu, accepted %zu "
		       "(stats %llu), rejected %llu: %s\n",
		       (unsigned long long)all.n, fed, accepted, (unsigned long long)st.accepted,
		       (unsigned long long)st.rejected_total, ok ? "OK" : "MISMATCH");
		printf("  rejected by reason:");
		bool any = false;
		for (int s = 0; s < CXM_STATUS_COUNT; s++)
			if (st.rejected[s]) {
				printf(" %s %llu;", cxm_strerror(s), (unsigned long long)st.rejected[s]);
				any = true;
			}
		printf("%s\n", any ? "" : " none");
		if (st.rejected[CXM_ERR_TOO_LATE])
			printf("  (too late: feeding threads drifted over 2 h of event time apart; "
			       "expected only in small runs or with more threads than cores)\n");
	}
	return ok;
}

/* ---- the isolated fold through the public API ------------------------------------- */

static double isolated_fold(size_t folds, bool batch)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = bench_clock;
	cxm_context *c;
	CHECK(NULL, cxm_context_new(&c, &cfg));
	cxm_metric_def d = {.size = sizeof d};
	cxm_id m, tp;
	CHECK(c, cxm_metric_preset(&d, CXM_PRESET_NPS));
	CHECK(c, cxm_metric_define(&m, c, "nps", &d));
	CHECK(c, cxm_touchpoint_define(&tp, c, "ivr", CXM_CHANNEL_PHONE, CXM_NONE, 0));
	cxm_measure ms[11];
	for (int i = 0; i < 11; i++)
		ms[i] = (cxm_measure){m, 0, (double)i};
	cxm_interaction *ix = calloc(BATCH, sizeof *ix);
	for (int i = 0; i < BATCH; i++) {
		ix[i].size = sizeof *ix;
		ix[i].touchpoint = tp;
		ix[i].measures = &ms[i % 11];
		ix[i].n_measures = 1;
	}
	/* time moves 1 ms every 16 folds: a new minute (roll-up) every 960 000 */
	size_t ok = 0;
	double t0 = now_s();
	if (batch) {
		for (size_t done = 0; done < folds; done += BATCH) {
			for (int i = 0; i < BATCH; i++)
				ix[i].time_ms = DAY0 + (int64_t)((done + (size_t)i) >> 4);
			size_t acc = 0;
			cxm_feed_batch(&acc, c, ix, BATCH, NULL, 0, NULL);
			ok += acc;
		}
	} else {
		for (size_t i = 0; i < folds; i++) {
			cxm_interaction *x = &ix[i & (BATCH - 1)];
			x->time_ms = DAY0 + (int64_t)(i >> 4);
			ok += cxm_feed(c, x) == CXM_OK;
		}
	}
	double dt = now_s() - t0;
	size_t want = batch ? (folds + BATCH - 1) / BATCH * BATCH : folds;
	if (ok != want) {
		fprintf(stderr, "cxm_bench: isolated fold accepted %zu of %zu\n", ok, want);
		exit(1);
	}
	free(ix);
	cxm_context_free(c);
	return dt / (double)want * 1e9;
}

/* The internal fold, measured by fold_bench (it links the internal
 * archive; this program links the shared library, as users do). */
static void internal_fold(const char *argv0, long folds)
{
	char self[4096], cmd[4300];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		snprintf(self, sizeof self, "%s", argv0);
	else
		self[k] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		slash[1] = 0;
	else
		self[0] = 0;
	snprintf(cmd, sizeof cmd, "'%sfold_bench' --raw --folds %ld 2>/dev/null", self, folds);
	FILE *f = popen(cmd, "r");
	char buf[256];
	int got = 0;
	while (f && fgets(buf, sizeof buf, f)) {
		char name[64];
		double ns, ns_hot;
		if (sscanf(buf, "%63[^\t]\t%lf\t%lf", name, &ns, &ns_hot) != 3)
			continue;
		char what[96], note[64];
		snprintf(what, sizeof what, "internal fold, resolved cell: %s", name);
		snprintf(note, sizeof note, "(%.2f ns through the hot-cell check)", ns_hot);
		line(what, ns, "ns", 5, true, note);
		got++;
	}
	if (f)
		pclose(f);
	if (!got)
		printf("  (internal fold: fold_bench not found beside this program)\n");
}

/* ---- SQLite, the way a user would do it without us --------------------------------- */

static void sq(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "cxm_bench: sqlite: %s: %s\n", sql, err);
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "cxm_bench: sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
		exit(1);
	}
	return s;
}

static int metric_index(cxm_id id)
{
	for (int m = 0; m < N_M; m++)
		if (wl_metric[m] == id)
			return m;
	return -1;
}

/* One row per measure and one for the interaction itself (the volume),
 * with a prepared INSERT inside one transaction. */
static double sqlite_ingest(sqlite3 *db, const cxm_interaction *ixs, size_t n, size_t *rows)
{
	sq(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	       "CREATE TABLE interactions(t INTEGER, tp INTEGER, tier INTEGER, region INTEGER,"
	       " customer TEXT, metric INTEGER, value REAL);"
	       "CREATE INDEX interactions_mtt ON interactions(metric, tp, t);");
	sqlite3_stmt *ins = prep(db, "INSERT INTO interactions VALUES(?1,?2,?3,?4,?5,?6,?7)");
	*rows = 0;
	double t0 = now_s();
	sq(db, "BEGIN");
	for (size_t i = 0; i < n; i++) {
		const cxm_interaction *ix = &ixs[i];
		for (size_t k = 0; k <= ix->n_measures; k++) {
			bool vol = k == ix->n_measures;
			sqlite3_bind_int64(ins, 1, ix->time_ms);
			sqlite3_bind_int(ins, 2, (int)ix->touchpoint);
			sqlite3_bind_int(ins, 3, (int)ix->segments[0]);
			sqlite3_bind_int(ins, 4, (int)ix->segments[1]);
			sqlite3_bind_text(ins, 5, ix->customer, (int)ix->customer_len, SQLITE_STATIC);
			sqlite3_bind_int(ins, 6, vol ? M_VOL : metric_index(ix->measures[k].metric));
			sqlite3_bind_double(ins, 7, vol ? 1 : ix->measures[k].value);
			if (sqlite3_step(ins) != SQLITE_DONE) {
				fprintf(stderr, "cxm_bench: sqlite insert: %s\n", sqlite3_errmsg(db));
				exit(1);
			}
			sqlite3_reset(ins);
			(*rows)++;
		}
	}
	sq(db, "COMMIT");
	double dt = now_s() - t0;
	sqlite3_finalize(ins);
	return dt;
}

static void bind_window(sqlite3_stmt *s, int m, cxm_id tp, int w)
{
	int64_t end = Q_END + 1;
	sqlite3_bind_int(s, 1, m);
	sqlite3_bind_int(s, 2, (int)tp);
	sqlite3_bind_int64(s, 3, end - WINDOWS[w]);
	sqlite3_bind_int64(s, 4, end);
}

/* The same dashboard in SQL: NPS, CSAT and CES by conditional sums and
 * AVG, the rate by AVG, the volume by COUNT, and the duration's count,
 * mean and p50/p90/p99 (rank ceil(q n), as libcxm defines them) with
 * ROW_NUMBER() over the window's rows. */
static double sqlite_dashboard(sqlite3 *db)
{
	const char *where = " FROM interactions WHERE metric = ?1 AND tp = ?2 AND t >= ?3 AND t < ?4";
	char sql[1024];
	snprintf(sql, sizeof sql,
		 "SELECT COUNT(*), SUM(CASE WHEN value >= ?5 THEN 1 ELSE 0 END),"
		 " SUM(CASE WHEN value <= ?6 THEN 1 ELSE 0 END), AVG(value)%s",
		 where);
	sqlite3_stmt *score = prep(db, sql);
	snprintf(sql, sizeof sql, "SELECT COUNT(*), AVG(value)%s", where);
	sqlite3_stmt *avg = prep(db, sql);
	snprintf(sql, sizeof sql, "SELECT COUNT(*)%s", where);
	sqlite3_stmt *count = prep(db, sql);
	snprintf(sql, sizeof sql,
		 "SELECT rn, cnt, value FROM (SELECT value, ROW_NUMBER() OVER (ORDER BY value) AS rn,"
		 " COUNT(*) OVER () AS cnt%s) WHERE rn IN ((cnt * 50 + 99) / 100,"
		 " (cnt * 90 + 99) / 100, (cnt * 99 + 99) / 100) ORDER BY rn",
		 where);
	sqlite3_stmt *pct = prep(db, sql);
	double t0 = now_s();
	for (int t = 0; t < N_TP; t++)
		for (int m = 0; m < N_M; m++)
			for (int w = 0; w < N_W; w++) {
				cell *c = &dash_sql[t][m][w];
				memset(c, 0, sizeof *c);
				c->p50 = c->p90 = c->p99 = NAN;
				sqlite3_stmt *s = m <= M_CES ? score : m == M_VOL ? count : avg;
				bind_window(s, m, wl_tp[t], w);
				if (m <= M_CES) {
					sqlite3_bind_int(s, 5, m == M_NPS ? 9 : m == M_CSAT ? 4 : 5);
					sqlite3_bind_int(s, 6, m == M_NPS ? 6 : m == M_CSAT ? 2 : 3);
				}
				if (sqlite3_step(s) == SQLITE_ROW) {
					c->n = (uint64_t)sqlite3_column_int64(s, 0);
					double top = m <= M_CES ? sqlite3_column_double(s, 1) : 0;
					double bot = m <= M_CES ? sqlite3_column_double(s, 2) : 0;
					double mean = m == M_VOL ? 0 : sqlite3_column_double(s, m <= M_CES ? 3 : 1);
					c->value = m == M_NPS    ? 100 * (top - bot) / (double)c->n
						   : m == M_CSAT ? 100 * top / (double)c->n
						   : m == M_RES  ? 100 * mean
						   : m == M_VOL  ? (double)c->n
								 : mean;
				}
				sqlite3_reset(s);
				if (m != M_AHT)
					continue;
				bind_window(pct, m, wl_tp[t], w);
				while (sqlite3_step(pct) == SQLITE_ROW) {
					int64_t rn = sqlite3_column_int64(pct, 0), cnt = sqlite3_column_int64(pct, 1);
					double v = sqlite3_column_double(pct, 2);
					if (rn == (cnt * 50 + 99) / 100)
						c->p50 = v;
					if (rn == (cnt * 90 + 99) / 100)
						c->p90 = v;
					if (rn == (cnt * 99 + 99) / 100)
						c->p99 = v;
				}
				sqlite3_reset(pct);
			}
	double dt = now_s() - t0;
	sqlite3_finalize(score);
	sqlite3_finalize(avg);
	sqlite3_finalize(count);
	sqlite3_finalize(pct);
	return dt;
}

/* libcxm's and SQLite's dashboards over the same rows must agree: sample
 * sizes exactly, headline values to rounding, quantiles within 1 %. */
static void cross_check(void)
{
	size_t cells = 0, n_ok = 0, v_ok = 0;
	double worst_q = 0;
	for (int t = 0; t < N_TP; t++)
		for (int m = 0; m < N_M; m++)
			for (int w = 0; w < N_W; w++) {
				const cell *a = &dash_cxm[t][m][w], *b = &dash_sql[t][m][w];
				cells++;
				n_ok += a->n == b->n;
				v_ok += a->n == 0 || fabs(a->value - b->value) <= 1e-9 * fmax(1, fabs(b->value));
				if (m == M_AHT && a->n) {
					const double qa[3] = {a->p50, a->p90, a->p99}, qb[3] = {b->p50, b->p90, b->p99};
					for (int i = 0; i < 3; i++) {
						double e = fabs(qa[i] - qb[i]) / qb[i];
						if (!(e <= worst_q))
							worst_q = e;
					}
				}
			}
	printf("  cross-check, same rows: sample sizes agree in %zu/%zu cells, headline values in "
	       "%zu/%zu; worst p50/p90/p99 relative error %.3f %% (bound 1 %%) %s\n",
	       n_ok, cells, v_ok, cells, 100 * worst_q,
	       n_ok == cells && v_ok == cells && worst_q <= 0.01 ? "OK" : "MISMATCH");
}

/* ---- memory ------------------------------------------------------------------------- */

static double proc_status_mib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char buf[256];
	double kib = NAN;
	size_t kl = strlen(key);
	while (f && fgets(buf, sizeof buf, f))
		if (!strncmp(buf, key, kl) && buf[kl] == ':')
			kib = strtod(buf + kl + 1, NULL);
	if (f)
		fclose(f);
	return kib / 1024;
}

/* ---- journeys: tracking, funnels, and the SQLite peer's funnel -------------------- */

/* A funnel in SQL: per journey and customer, the first step-0 interaction
 * of the day begins one instance (a window function), and the highest step
 * reached within 7 days of it counts. libcxm's default mode also counts
 * re-entries and ends an instance when another journey begins, so the two
 * agree in shape, not to the unit. */
static double sqlite_funnel(const cxm_interaction *ixs, size_t n, size_t every, const cxm_id *tp_j,
			    const cxm_id *tp_s, uint64_t entered[WL_JOURNEYS], double *t_ingest)
{
	sqlite3 *db;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
		fprintf(stderr, "cxm_bench: sqlite3_open failed\n");
		exit(1);
	}
	sq(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
	       "CREATE TABLE ev(journey INTEGER, customer TEXT, step INTEGER, t INTEGER);"
	       "CREATE INDEX ev_jct ON ev(journey, customer, t);");
	sqlite3_stmt *ins = prep(db, "INSERT INTO ev VALUES(?1,?2,?3,?4)");
	double t0 = now_s();
	sq(db, "BEGIN");
	for (size_t i = 0; i < n; i += every) {
		const cxm_interaction *ix = &ixs[i];
		if (tp_j[ix->touchpoint] == CXM_NONE || !ix->customer_len)
			continue;
		sqlite3_bind_int(ins, 1, (int)tp_j[ix->touchpoint]);
		sqlite3_bind_text(ins, 2, ix->customer, (int)ix->customer_len, SQLITE_STATIC);
		sqlite3_bind_int(ins, 3, (int)tp_s[ix->touchpoint]);
		sqlite3_bind_int64(ins, 4, ix->time_ms);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "cxm_bench: sqlite insert: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
		sqlite3_reset(ins);
	}
	sq(db, "COMMIT");
	*t_ingest = now_s() - t0;
	sqlite3_finalize(ins);
	sqlite3_stmt *q = prep(db,
		"SELECT journey, top, COUNT(*) FROM ("
		" SELECT journey, customer, MAX(step) AS top FROM ("
		"  SELECT journey, customer, step, t, MIN(CASE WHEN step = 0 THEN t END) OVER ("
		"   PARTITION BY journey, customer ORDER BY t"
		"   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS entry FROM ev)"
		" WHERE entry IS NOT NULL AND t - entry <= 604800000 GROUP BY journey, customer)"
		" GROUP BY journey, top");
	memset(entered, 0, sizeof(uint64_t) * WL_JOURNEYS);
	t0 = now_s();
	while (sqlite3_step(q) == SQLITE_ROW) {
		int j = sqlite3_column_int(q, 0);
		if (j >= 0 && j < WL_JOURNEYS)
			entered[j] += (uint64_t)sqlite3_column_int64(q, 2);
	}
	double dt = now_s() - t0;
	sqlite3_finalize(q);
	sqlite3_close(db);
	return dt;
}

/* Ingest with journey tracking, memory per customer, funnels, sweep; the
 * same ingest without customer ids; SQLite's funnel over every n/n_sql-th. */
static int journeys_bench(workload *w, size_t n, uint64_t customers, bool use_sqlite, size_t n_sql)
{
	printf("libcxm %s journeys benchmark: %zu interactions over 24 h, %u distinct customers "
	       "(of %llu), %u journeys\n",
	       cxm_libversion(), n, w->distinct, (unsigned long long)customers, WL_JOURNEYS);
	/* each way twice, alternating, the faster counts: the first context
	 * pays for paging in memory the later ones get back from malloc */
	size_t acc = 0;
	double dt = INFINITY, dt0 = INFINITY;
	cxm_context *ctx = NULL;
	for (int rep = 0; rep < 2; rep++) {
		for (size_t i = 0; i < n; i++)
			w->ix[i].customer_len = 0;
		cxm_context *c0 = wl_context(bench_clock, NULL, (uint32_t)customers);
		double d = feed(c0, w->ix, n, 1, true, &acc);
		dt0 = d < dt0 ? d : dt0;
		cxm_context_free(c0);
		for (size_t i = 0; i < n; i++)
			w->ix[i].customer_len = strlen(w->ix[i].customer);
		if (ctx)
			cxm_context_free(ctx);
		ctx = wl_context(bench_clock, NULL, (uint32_t)customers);
		d = feed(ctx, w->ix, n, 1, true, &acc);
		dt = d < dt ? d : dt;
	}
	cxm_stats st = {.size = sizeof st};
	CHECK(ctx, cxm_stats_get(&st, ctx));
	info("ingest with customers and journeys, batch, 1 thread", dt * 1e9 / (double)n,
	     "ns/interaction", "");
	printf("  accepted %zu of %zu; customers tracked %llu, evicted %llu\n", acc, n,
	       (unsigned long long)st.customers, (unsigned long long)st.customers_evicted);
	info("customer table per tracked customer", (double)st.customer_bytes / (double)st.customers,
	     "bytes", "(journey state included, table overhead and free slots included)");
	info("customer table per customer at max_customers",
	     (double)st.customer_bytes / (double)customers, "bytes", "");
	printf("  context memory %.1f MiB (series %.1f MiB, customer table %.1f MiB, funnels and "
	       "the rest %.1f MiB)\n",
	       (double)st.memory_bytes / 1048576.0, (double)st.series_bytes / 1048576.0,
	       (double)st.customer_bytes / 1048576.0,
	       (double)(st.memory_bytes - st.series_bytes - st.customer_bytes) / 1048576.0);
	uint32_t nj = 0;
	CHECK(ctx, cxm_count(&nj, ctx, CXM_OBJECT_JOURNEY));
	double t0 = now_s();
	uint64_t entered[WL_JOURNEYS] = {0};
	int reps = 100;
	for (int r = 0; r < reps; r++)
		for (uint32_t j = 0; j < nj && j < WL_JOURNEYS; j++) {
			cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
			q.journey = j;
			q.end_ms = Q_END;
			q.span_ms = DAY;
			cxm_funnel f = {.size = sizeof f};
			cxm_funnel_step steps[64] = {{.size = sizeof steps[0]}};
			CHECK(ctx, cxm_funnel_run(&f, steps, 64, ctx, &q));
			entered[j] = f.entered;
			if (r == 0) {
				const char *name;
				CHECK(ctx, cxm_name(&name, ctx, CXM_OBJECT_JOURNEY, j));
				printf("  funnel '%s': entered %llu, reached", name,
				       (unsigned long long)f.entered);
				for (uint32_t k = 0; k < f.n_steps; k++)
					printf(" %llu", (unsigned long long)steps[k].reached);
				printf("; completed %.1f %%, displaced %llu, repeats %llu, time to goal p50 "
				       "%.0f s\n",
				       100 * f.conversion, (unsigned long long)f.displaced,
				       (unsigned long long)f.repeats, f.goal_p50);
			}
		}
	double t_funnel = (now_s() - t0) / (reps * (double)nj);
	info("funnel query, 24 h, whole journey", t_funnel * 1e6, "us", "");
	/* the same day's entry cohorts (24 hour rows per group) */
	t0 = now_s();
	for (int r = 0; r < reps; r++)
		for (uint32_t j = 0; j < nj && j < WL_JOURNEYS; j++) {
			cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
			q.journey = j;
			q.end_ms = Q_END;
			q.span_ms = DAY;
			cxm_funnel f = {.size = sizeof f};
			cxm_funnel_step steps[64] = {{.size = sizeof steps[0]}};
			CHECK(ctx, cxm_funnel_cohort_run(&f, steps, 64, ctx, &q));
		}
	info("entry-cohort funnel, 24 h of cohorts, whole journey",
	     (now_s() - t0) / (reps * (double)nj) * 1e6, "us", "");
	t0 = now_s();
	uint64_t closed = 0;
	CHECK(ctx, cxm_journey_sweep(&closed, ctx, DAY0 + DAY));
	info("sweep of the whole customer table", (now_s() - t0) * 1e3, "ms", "");
	printf("  (it ended %llu instances)\n", (unsigned long long)closed);
	cxm_context_free(ctx);
	info("the same ingest without customer ids", dt0 * 1e9 / (double)n, "ns/interaction",
	     "(the difference is the customer table, DISTINCT and journeys)");

	if (use_sqlite) {
		/* touchpoint -> journey, step */
		cxm_context *c = wl_context(bench_clock, NULL, 1000);
		cxm_id tp_j[WL_TOUCHPOINTS], tp_s[WL_TOUCHPOINTS];
		for (int t = 0; t < WL_TOUCHPOINTS; t++)
			CHECK(c, cxm_touchpoint_get(NULL, &tp_j[wl_tp[t]], &tp_s[wl_tp[t]], c, wl_tp[t]));
		cxm_context_free(c);
		size_t every = n_sql && n_sql < n ? n / n_sql : 1;
		uint64_t sq_entered[WL_JOURNEYS];
		double t_ing = 0;
		double t_q = sqlite_funnel(w->ix, n, every, tp_j, tp_s, sq_entered, &t_ing);
		size_t m = (n + every - 1) / every;
		printf("  SQLite (every %zu-th interaction, %zu): ingest %.0f ns/interaction, funnel "
		       "query (window function, all journeys) %.3f s\n",
		       every, m, t_ing * 1e9 / (double)m, t_q);
		printf("  SQLite entered per journey:");
		for (int j = 0; j < WL_JOURNEYS; j++)
			printf(" %llu", (unsigned long long)sq_entered[j]);
		printf("  (libcxm, all interactions:");
		for (int j = 0; j < WL_JOURNEYS; j++)
			printf(" %llu", (unsigned long long)entered[j]);
		printf(")\n");
		info("ratio SQLite / libcxm, ingest per interaction",
		     (t_ing / (double)m) / (dt / (double)n), "x", "");
		info("ratio SQLite / libcxm, one funnel (SQLite: all 5 at once / 5)",
		     (t_q / WL_JOURNEYS) * (double)n / (double)m / t_funnel, "x",
		     "(SQLite scaled to the whole day linearly)");
	}
	return 0;
}

/* ---- main ------------------------------------------------------------------------- */

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--interactions N] [--customers N] [--seed S] [--threads T]\n"
		"          [--sqlite-interactions N] [--no-sqlite] [--reps R] [--quick]\n"
		"          [--regress] [--ingest-only] [--journeys]\n"
		"  --interactions N         interactions over the day (default 10000000)\n"
		"  --customers N            distinct customers drawn from (default 1000000)\n"
		"  --seed S                 workload seed (default 1)\n"
		"  --threads T              feeding threads compared with one (default 2)\n"
		"  --sqlite-interactions N  interactions the SQLite peer gets (default 1000000),\n"
		"                           every (N/n)-th of the day\n"
		"  --no-sqlite              skip the peer\n"
		"  --reps R                 ingest each way R times, keep the fastest (default 1)\n"
		"  --quick                  100 000 interactions, a smoke run\n"
		"  --regress                fixed work for callgrind: one batch ingest, one dashboard\n"
		"  --ingest-only            one batch ingest, nothing else\n"
		"  --journeys               journey tracking: ingest, bytes per customer, funnels,\n"
		"                           sweep, and SQLite's funnel with window functions\n"
		"  --footprint-only         only sections 6-8: duration record against a floor,\n"
		"                           memory budgets, scaling table (no reference day)\n"
		"  --no-scaling             skip the scaling table (section 8)\n"
		"  --scale-interactions N   reference interactions per scaling cell and for the\n"
		"                           1 000-touchpoint model (default 1000000; --quick 200000)\n"
		"  --memory-cap MIB         cxm_config::max_memory of those contexts (default 8192)\n",
		argv0);
}

static uint64_t arg_u64(const char *s, const char *argv0)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end) {
		usage(argv0);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	size_t n = 10000000, n_sql = 1000000;
	uint64_t customers = 1000000, seed = 1, threads = 2, reps = 1;
	bool use_sqlite = true, regress = false, ingest_only = false, quick = false, journeys = false;
	bool n_set = false, sql_set = false, footprint_only = false, scaling = true;
	uint64_t cell_n = 0, cap_mib = 8192;
	double t_start = now_s();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (!strcmp(a, "--interactions") && has)
			n = arg_u64(argv[++i], argv[0]), n_set = true;
		else if (!strcmp(a, "--customers") && has)
			customers = arg_u64(argv[++i], argv[0]);
		else if (!strcmp(a, "--seed") && has)
			seed = arg_u64(argv[++i], argv[0]);
		else if (!strcmp(a, "--threads") && has)
			threads = arg_u64(argv[++i], argv[0]);
		else if (!strcmp(a, "--sqlite-interactions") && has)
			n_sql = arg_u64(argv[++i], argv[0]), sql_set = true;
		else if (!strcmp(a, "--reps") && has)
			reps = arg_u64(argv[++i], argv[0]);
		else if (!strcmp(a, "--no-sqlite"))
			use_sqlite = false;
		else if (!strcmp(a, "--quick"))
			quick = true;
		else if (!strcmp(a, "--regress"))
			regress = true;
		else if (!strcmp(a, "--ingest-only"))
			ingest_only = true;
		else if (!strcmp(a, "--journeys"))
			journeys = true;
		else if (!strcmp(a, "--footprint-only"))
			footprint_only = true;
		else if (!strcmp(a, "--no-scaling"))
			scaling = false;
		else if (!strcmp(a, "--scale-interactions") && has)
			cell_n = arg_u64(argv[++i], argv[0]);
		else if (!strcmp(a, "--memory-cap") && has)
			cap_mib = arg_u64(argv[++i], argv[0]);
		else {
			usage(argv[0]);
			return 2;
		}
	}
	if (quick) {
		if (!n_set)
			n = 100000;
		if (!sql_set)
			n_sql = n;
	}
	if (n < 1000 || customers < 1 || customers > UINT32_MAX || threads < 2 || threads > 8 ||
	    reps < 1) {
		fprintf(stderr, "cxm_bench: need --interactions >= 1000, 1 <= --customers < 2^32, "
				"2 <= --threads <= 8, --reps >= 1\n");
		return 2;
	}
	if (n_sql > n)
		n_sql = n;
	if (!cell_n)
		cell_n = quick ? 200000 : 1000000;
	if (cell_n < 10000 || cap_mib < 64) {
		fprintf(stderr, "cxm_bench: need --scale-interactions >= 10000, --memory-cap >= 64\n");
		return 2;
	}
	footprint_opts fo = {.quick = quick,
			     .scaling = scaling,
			     .cell_n = (size_t)cell_n,
			     .cap = cap_mib * UINT64_C(1048576)};
	if (footprint_only) {
		printf("libcxm %s benchmark, sections 6-8 only\n", cxm_libversion());
		fo.first_section = 6;
		footprint_duration_floor(&fo);
		fo.first_section = 7;
		footprint_memory_and_scaling(&fo);
		bench_summary();
		printf("(whole run %.0f s)\n", now_s() - t_start);
		return 0;
	}
	if ((double)BATCH * (double)DAY / (double)n > 600000)
		chunk = (size_t)((double)n * 600000 / (double)DAY) + 1;
	if (n_sql == 0)
		use_sqlite = false;

	/* the model's ids, then the workload */
	cxm_context *ctx = wl_context(bench_clock, NULL, (uint32_t)customers);
	workload w;
	double t0 = now_s();
	wl_generate(&w, n, (uint32_t)customers, seed);
	double t_gen = now_s() - t0;

	if (journeys) {
		cxm_context_free(ctx);
		int rc = journeys_bench(&w, n, customers, use_sqlite, n_sql);
		wl_free(&w);
		return rc;
	}
	if (regress || ingest_only) { /* for bench/callgrind.sh: nothing timed, nothing else */
		size_t acc = 0;
		feed(ctx, w.ix, n, 1, true, &acc);
		double best;
		if (regress)
			dashboard(ctx, 1, &best);
		printf("regress: %zu interactions, %zu accepted%s\n", n, acc,
		       regress ? ", one dashboard (1800 queries)" : "");
		bool ok = check_context(ctx, n, acc, false);
		cxm_context_free(ctx);
		wl_free(&w);
		return ok ? 0 : 1;
	}
	cxm_context_free(ctx);

	printf("libcxm %s benchmark, the reference contact-center day (docs/performance.md)\n",
	       cxm_libversion());
	printf("workload: seed %llu, %zu interactions over 24 h, %u journeys, %u touchpoints "
	       "(%u stand alone), tier x%u, region x%u\n",
	       (unsigned long long)seed, n, WL_JOURNEYS, WL_TOUCHPOINTS, WL_STANDALONE, WL_TIERS,
	       WL_REGIONS);
	printf("          %u distinct customers (of %llu), %.3f measures per interaction (+ volume), "
	       "survey answers nps %zu / csat %zu / ces %zu\n",
	       w.distinct, (unsigned long long)customers, (double)w.measures / (double)n, w.surveys[0],
	       w.surveys[1], w.surveys[2]);
	printf("          generated in %.1f s, %.0f MiB; %ld CPUs online; each figure below is %s\n",
	       t_gen, (double)wl_bytes(&w) / 1048576.0, sysconf(_SC_NPROCESSORS_ONLN),
	       reps > 1 ? "the fastest of the repetitions" : "one run");

	/* ---- 1. folds ---- */
	printf("\n1. fold one measure into one series\n");
	size_t folds = quick ? 2000000 : 20000000;
	line("cxm_feed, 1 measure, 1 series, no segments/customer", isolated_fold(folds, false), "ns",
	     5, true, "(public call: validation, lock, look-up)");
	line("cxm_feed_batch, same", isolated_fold(folds, true), "ns", 5, true,
	     "(public call: validation, lock, look-up)");
	internal_fold(argv[0], quick ? 5000000L : 50000000L);

	/* ---- 2. interactions ---- */
	printf("\n2. feed the reference interactions (string customer ids, 2 segments, ~%.2f measures"
	       " + volume)\n",
	       (double)w.measures / (double)n);
	enum { SINGLE_1, BATCH_1, SINGLE_T, BATCH_T, N_WAYS };
	double best[N_WAYS];
	cxm_context *main_ctx = NULL;
	bool all_ok = true;
	/* the batch, one-thread contexts allocate through a counting allocator
	 * (section 4 reports the last one's bytes; an atomic add per block) */
	static counter ref_count;
	cxm_allocator ref_alloc;
	for (int way = 0; way < N_WAYS; way++) {
		int th = way == SINGLE_1 || way == BATCH_1 ? 1 : (int)threads;
		bool batch = way == BATCH_1 || way == BATCH_T;
		best[way] = INFINITY;
		for (uint64_t r = 0; r < reps; r++) {
			wl_model md = {.clock = bench_clock, .max_customers = (uint32_t)customers};
			if (way == BATCH_1) {
				ref_alloc = counting_allocator(&ref_count);
				md.allocator = &ref_alloc;
			}
			cxm_context *c = wl_context_ex(&md);
			size_t acc = 0;
			double dt = feed(c, w.ix, n, th, batch, &acc);
			if (dt < best[way])
				best[way] = dt;
			all_ok &= check_context(c, n, acc, false);
			if (way == BATCH_1 && r + 1 == reps)
				main_ctx = c;
			else
				cxm_context_free(c);
		}
	}
	double ns_1 = best[BATCH_1] / (double)n * 1e9;
	char what[96];
	/* every interaction carries a customer id and 90 of the 100 touchpoints
	 * are journey steps: journey tracking is in these figures */
	line("reference interaction, single calls, 1 thread", best[SINGLE_1] / (double)n * 1e9, "ns",
	     150, true, "(journeys included)");
	snprintf(what, sizeof what, "reference interaction, batches of %zu, 1 thread", chunk);
	line(what, ns_1, "ns", 100, true, "(journeys included)");
	snprintf(what, sizeof what, "single calls, %d threads (wall time / interactions)", (int)threads);
	info(what, best[SINGLE_T] / (double)n * 1e9, "ns", NULL);
	snprintf(what, sizeof what, "batch calls, %d threads (wall time / interactions)", (int)threads);
	info(what, best[BATCH_T] / (double)n * 1e9, "ns", NULL);
	snprintf(what, sizeof what, "%d threads over 1, single calls", (int)threads);
	line(what, best[SINGLE_1] / best[SINGLE_T], "x", 1.8, false, NULL);
	snprintf(what, sizeof what, "%d threads over 1, batch calls", (int)threads);
	line(what, best[BATCH_1] / best[BATCH_T], "x", 1.8, false, NULL);
	printf("  all %d ingests: volume = accepted = fed, none rejected: %s\n", N_WAYS * (int)reps,
	       all_ok ? "OK" : "MISMATCH (see above)");
	ctx = main_ctx;
	check_context(ctx, n, n, true);

	/* ---- 3. queries ---- */
	cxm_id tp0 = wl_tp[0];
	printf("\n3. rolling queries on one touchpoint series ('tp000', all segments), mean of many\n");
	int q_reps_cheap = quick ? 20000 : 100000, q_reps_dur = quick ? 5000 : 20000;
	for (int m = 0; m < N_M; m++)
		for (int wi = 0; wi < N_W; wi++) {
			int reps_q = m == M_AHT ? q_reps_dur : q_reps_cheap;
			cxm_query q = CXM_QUERY_INIT;
			q.metric = wl_metric[m];
			q.scope = CXM_SCOPE_TOUCHPOINT;
			q.id = tp0;
			q.end_ms = Q_END;
			q.span_ms = WINDOWS[wi];
			cxm_result r = {.size = sizeof r};
			double q0 = now_s();
			for (int k = 0; k < reps_q; k++)
				CHECK(ctx, cxm_query_run(&r, ctx, &q));
			double us = (now_s() - q0) / reps_q * 1e6;
			char note[128];
			static const char *const label[N_M] = {"NPS", "CSAT top-2", "CES mean", "AHT mean",
							       "resolved %", "count"};
			if (m == M_AHT)
				snprintf(note, sizeof note, "(n %llu, mean %.0f s, p50/p90/p99 %.0f/%.0f/%.0f s)",
					 (unsigned long long)r.n, r.value, r.p50, r.p90, r.p99);
			else
				snprintf(note, sizeof note, "(n %llu, %s %.1f)", (unsigned long long)r.n,
					 label[m], r.value);
			snprintf(what, sizeof what, "%s %s%s", wl_metric_name[m], WNAME[wi],
				 m == M_AHT ? ": count, mean, p50/p90/p99" : "");
			line(what, us, "us", m == M_AHT ? 10 : 1, true, note);
		}
	{
		int reps_all = quick ? 100 : 300;
		double q0 = now_s();
		cxm_result r = {0};
		for (int k = 0; k < reps_all; k++)
			r = query(ctx, M_NPS, CXM_SCOPE_ALL, 0, DAY);
		char note[96];
		snprintf(note, sizeof note, "(no budget; merges %d series; NPS %.1f, n %llu)", N_TP, r.value,
			 (unsigned long long)r.n);
		info("nps 24h over every touchpoint", (now_s() - q0) / reps_all * 1e6, "us", note);
	}
	{
		/* a trend: NPS of one touchpoint per hour over the day, 6 hours
		 * forecast (24 window queries and the fits) */
		int reps_t = quick ? 100 : 1000;
		cxm_query q = CXM_QUERY_INIT;
		q.metric = wl_metric[M_NPS];
		q.scope = CXM_SCOPE_TOUCHPOINT;
		q.id = tp0;
		q.end_ms = Q_END;
		q.span_ms = DAY;
		cxm_trend t = {.size = sizeof t};
		cxm_forecast f[6];
		double q0 = now_s();
		for (int k = 0; k < reps_t; k++)
			CHECK(ctx, cxm_query_trend(&t, f, 6, ctx, &q, 3600000));
		char note[128];
		snprintf(note, sizeof note, "(%u of %u hours, slope %.2f per hour [%.2f, %.2f], next %.1f)",
			 t.points, t.windows, t.slope, t.slope_ci_low, t.slope_ci_high, f[0].value);
		line("trend: nps 24h per hour, 6 h forecast", (now_s() - q0) / reps_t * 1e6, "us", 50, true,
		     note);
	}
	double dash_best, t_dash = dashboard(ctx, quick ? 5 : 20, &dash_best);
	char note[96];
	snprintf(note, sizeof note, "(mean of %d; fastest %.2f ms)", quick ? 5 : 20, dash_best * 1e3);
	line("dashboard: 100 touchpoints x 6 metrics x 3 windows", t_dash * 1e3, "ms", 5, true, note);

	/* ---- 4. memory ---- */
	printf("\n4. memory after ingest\n");
	for (int m = 0; m < N_M; m++) {
		size_t b = 0;
		CHECK(ctx, cxm_series_bytes(&b, ctx, wl_metric[m]));
		printf("  bytes per %-8s series %10zu (%.1f KiB)\n", wl_metric_name[m], b, b / 1024.0);
	}
	cxm_stats st = {.size = sizeof st};
	CHECK(ctx, cxm_stats_get(&st, ctx));
	printf("  cxm_stats: memory %.1f MiB allocated; %llu series, %.1f MiB; %u of %u shards used\n",
	       (double)st.memory_bytes / 1048576.0, (unsigned long long)st.series,
	       (double)st.series_bytes / 1048576.0, st.shards_used, st.shards);
	printf("  customers tracked %llu (evicted %llu), table %.1f MiB, max_customers %llu\n",
	       (unsigned long long)st.customers, (unsigned long long)st.customers_evicted,
	       (double)st.customer_bytes / 1048576.0, (unsigned long long)customers);
	if (st.customers_evicted && w.distinct <= customers)
		printf("  note: %llu evictions although the %u distinct customers fit max_customers\n",
		       (unsigned long long)st.customers_evicted, w.distinct);
	/* the customer budget is measured on 1 M distinct customers in section 7;
	 * here the reference day's table, for comparison */
	info("customer table per tracked customer",
	     st.customers ? (double)st.customer_bytes / (double)st.customers : NAN, "B",
	     "(the <= 48 B budget: section 7, 1 M distinct customers)");
	info("customer table per max_customers", (double)st.customer_bytes / (double)customers, "B",
	     NULL);
	uint64_t ref_now = atomic_load(&ref_count.now), ref_peak = atomic_load(&ref_count.peak);
	printf("  counting allocator: %.1f MiB allocated now, peak %.1f MiB, in %llu blocks "
	       "(cxm_stats says %.1f MiB)\n",
	       ref_now / MIB, ref_peak / MIB, (unsigned long long)atomic_load(&ref_count.blocks),
	       (double)st.memory_bytes / MIB);
	snprintf(note, sizeof note, "(%.1f MiB allocated after the day)", ref_now / MIB);
	line("reference day: peak allocated", ref_peak / MIB, "MiB", 200, true, note);
	printf("  process: resident %.0f MiB now, peak %.0f MiB (the workload arrays are %.0f MiB; "
	       "allocated ring pages never written are not resident)\n",
	       proc_status_mib("VmRSS"), proc_status_mib("VmHWM"), (double)wl_bytes(&w) / 1048576.0);

	/* ---- 5. SQLite ---- */
	if (use_sqlite) {
		/* every (n / n_sql)-th interaction: the same day, thinner */
		cxm_interaction *sub = malloc(n_sql * sizeof *sub);
		if (!sub) {
			fprintf(stderr, "cxm_bench: out of memory\n");
			return 1;
		}
		for (size_t j = 0; j < n_sql; j++)
			sub[j] = w.ix[(size_t)((unsigned __int128)j * n / n_sql)];
		bool same = n_sql == n;
		printf("\n5. SQLite %s peer: %zu interactions (%s), in memory, journal and sync off,\n"
		       "   index (metric, tp, t), prepared INSERT in one transaction\n",
		       sqlite3_libversion(), n_sql,
		       same ? "all of them" : "every k-th of the day: fewer rows favour SQLite");
		sqlite3 *db;
		if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
			fprintf(stderr, "cxm_bench: sqlite3_open failed\n");
			return 1;
		}
		size_t rows = 0;
		double t_sql = sqlite_ingest(db, sub, n_sql, &rows);
		double ns_sql = t_sql / (double)n_sql * 1e9;
		info("SQLite ingest per interaction", ns_sql, "ns", NULL);
		printf("  %-50s %9zu     (%.2f per interaction)\n", "SQLite rows", rows,
		       (double)rows / (double)n_sql);
		/* libcxm over the very same rows, for the dashboard and the cross-check */
		cxm_context *c_sub = same ? ctx : wl_context(bench_clock, NULL, (uint32_t)customers);
		double ns_sub = ns_1;
		if (!same) {
			size_t acc = 0;
			ns_sub = feed(c_sub, sub, n_sql, 1, true, &acc) / (double)n_sql * 1e9;
			check_context(c_sub, n_sql, acc, false);
			info("libcxm ingest per interaction, same rows (batch)", ns_sub, "ns",
			     "(sparser series: more roll-up per interaction)");
		}
		double sub_best, t_dash_sub = same ? t_dash : dashboard(c_sub, quick ? 5 : 20, &sub_best);
		if (!same)
			info("libcxm dashboard, same rows", t_dash_sub * 1e3, "ms", NULL);
		double d_sql = sqlite_dashboard(db);
		info("SQLite dashboard (1800 queries, 300 with percentiles)", d_sql * 1e3, "ms", NULL);
		if (same)
			dashboard(ctx, 1, &sub_best); /* refill dash_cxm for the cross-check */
		cross_check();
		/* the budget compares the same rows: libcxm over the whole day
		 * has denser series and a cheaper roll-up per interaction, which
		 * flattered the ratio when it was set against SQLite's sample */
		char nt[160];
		snprintf(nt, sizeof nt, "(both over the same %zu interactions: libcxm %.0f ns, SQLite %.0f ns)",
			 n_sql, ns_sub, ns_sql);
		printf("  ingest libcxm is %.1fx SQLite over the same rows (bar >= 20x); dashboard %.0fx "
		       "(bar >= 100x)\n",
		       ns_sql / ns_sub, d_sql / t_dash_sub);
		line("ingest: SQLite ns / libcxm ns per interaction", ns_sql / ns_sub, "x", 20, false, nt);
		if (!same)
			printf("  (libcxm over all %zu interactions: %.0f ns each, %.1fx SQLite's per-row "
			       "time over its %zu; not the budget's ratio)\n",
			       n, ns_1, ns_sql / ns_1, n_sql);
		snprintf(nt, sizeof nt, "(both over the same %zu interactions)", n_sql);
		line("dashboard: SQLite time / libcxm time", d_sql / t_dash_sub, "x", 100, false, nt);
		if (!same)
			printf("  dashboard libcxm over all %zu interactions (%.2f ms) is %.0fx SQLite over "
			       "%zu: SQLite had %.0fx fewer rows\n",
			       n, t_dash * 1e3, d_sql / t_dash, n_sql, (double)n / (double)n_sql);
		if (!same)
			cxm_context_free(c_sub);
		sqlite3_close(db);
		free(sub);
	}

	cxm_context_free(ctx);
	wl_free(&w);

	/* ---- 6-8. a duration record against a floor, memory, scaling ---- */
	fo.first_section = 6;
	footprint_duration_floor(&fo);
	fo.first_section = 7;
	footprint_memory_and_scaling(&fo);

	bench_summary();
	printf("(snapshot save / load budgets: snapshot_bench; whole run %.0f s)\n", now_s() - t_start);
	return 0;
}
