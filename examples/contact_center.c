/* A seeded day in a contact center, fed to libcxm from several threads,
 * ending with the dashboard a supervisor would look at.
 *
 *   contact_center [--seed N] [--customers N] [--threads N] [--quiet]
 *
 * Calls go IVR -> queue (some abandon, some of those get a callback) ->
 * agent -> post-call survey (NPS, CSAT, CES, sometimes the CX index).
 * Web shoppers browse, fill carts and check out; new customers get a
 * welcome email and log in. Scores depend on waiting and resolution, so
 * touchpoints differ the way they do in life. */
#include <cxm.h>

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)
#define DAY0 INT64_C(1795392000000) /* 2026-11-24T00:00:00Z */

static cxm_context *ctx;

#define CHECK(call)                                                                            \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_ != CXM_OK) {                                                           \
			fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,      \
				cxm_strerror(st_), cxm_errmsg(ctx));                           \
			exit(1);                                                               \
		}                                                                              \
	} while (0)

/* ---- model ----------------------------------------------------------------- */

enum { J_SUPPORT, J_BUY, J_ONBOARD, N_JOURNEYS };
enum {
	TP_IVR, TP_CHATBOT, TP_Q_BILLING, TP_Q_TECH, TP_A_BILLING, TP_A_TECH, TP_CALLBACK,
	TP_SURVEY, TP_PRODUCT, TP_CART, TP_CHECKOUT, TP_SALES, TP_WELCOME, TP_FIRST_LOGIN,
	TP_INVOICE, N_TP
};
enum { M_VOLUME, M_NPS, M_CSAT, M_CES, M_CXI, M_AHT, M_ASA, M_RESOLVED, M_ABANDONED,
       M_CONVERTED, M_REVENUE, M_CUSTOMERS, N_METRICS };

static const struct {
	const char *name;
	cxm_channel channel;
	int journey, step;
} TPS[N_TP] = {
	[TP_IVR] = {"ivr", CXM_CHANNEL_PHONE, J_SUPPORT, 0},
	[TP_CHATBOT] = {"chat bot", CXM_CHANNEL_CHAT, J_SUPPORT, 0},
	[TP_Q_BILLING] = {"queue: billing", CXM_CHANNEL_PHONE, J_SUPPORT, 1},
	[TP_Q_TECH] = {"queue: tech", CXM_CHANNEL_PHONE, J_SUPPORT, 1},
	[TP_A_BILLING] = {"agent: billing", CXM_CHANNEL_PHONE, J_SUPPORT, 2},
	[TP_A_TECH] = {"agent: tech", CXM_CHANNEL_PHONE, J_SUPPORT, 2},
	[TP_CALLBACK] = {"callback", CXM_CHANNEL_PHONE, J_SUPPORT, 2},
	[TP_SURVEY] = {"post-call survey", CXM_CHANNEL_EMAIL, J_SUPPORT, 3},
	[TP_PRODUCT] = {"product page", CXM_CHANNEL_WEB, J_BUY, 0},
	[TP_CART] = {"cart", CXM_CHANNEL_WEB, J_BUY, 1},
	[TP_CHECKOUT] = {"checkout page", CXM_CHANNEL_WEB, J_BUY, 2},
	[TP_SALES] = {"sales agent", CXM_CHANNEL_PHONE, J_BUY, 2},
	[TP_WELCOME] = {"welcome email", CXM_CHANNEL_EMAIL, J_ONBOARD, 0},
	[TP_FIRST_LOGIN] = {"first login", CXM_CHANNEL_WEB, J_ONBOARD, 1},
	[TP_INVOICE] = {"invoice email", CXM_CHANNEL_EMAIL, -1, 0},
};

static cxm_id journey_id[N_JOURNEYS], tp_id[N_TP], metric_id[N_METRICS], seg_tier, seg_region;
static const char *TIERS[] = {"bronze", "silver", "gold", "platinum"};
static const char *REGIONS[] = {"north", "south", "east", "west"};

static void define_model(void)
{
	const char *support[] = {"contact", "triage", "resolution", "follow-up"};
	const char *buy[] = {"browse", "cart", "checkout"};
	const char *onboard[] = {"signup", "first use"};
	CHECK(cxm_journey_define(&journey_id[J_SUPPORT], ctx, "support case", support, 4));
	CHECK(cxm_journey_define(&journey_id[J_BUY], ctx, "buy", buy, 3));
	CHECK(cxm_journey_define(&journey_id[J_ONBOARD], ctx, "onboarding", onboard, 2));
	for (int i = 0; i < N_TP; i++)
		CHECK(cxm_touchpoint_define(&tp_id[i], ctx, TPS[i].name, TPS[i].channel,
					    TPS[i].journey < 0 ? CXM_NONE : journey_id[TPS[i].journey],
					    (cxm_id)TPS[i].step));
	static const struct {
		const char *name;
		cxm_preset preset;
	} M[N_METRICS] = {
		[M_VOLUME] = {"volume", CXM_PRESET_VOLUME},   [M_NPS] = {"nps", CXM_PRESET_NPS},
		[M_CSAT] = {"csat", CXM_PRESET_CSAT5},        [M_CES] = {"ces", CXM_PRESET_CES7},
		[M_CXI] = {"cx index", CXM_PRESET_CXI},       [M_AHT] = {"handle time", CXM_PRESET_DURATION},
		[M_ASA] = {"speed of answer", CXM_PRESET_DURATION},
		[M_RESOLVED] = {"resolved", CXM_PRESET_RATE}, [M_ABANDONED] = {"abandoned", CXM_PRESET_RATE},
		[M_CONVERTED] = {"converted", CXM_PRESET_RATE}, [M_REVENUE] = {"revenue", CXM_PRESET_AMOUNT},
		[M_CUSTOMERS] = {"customers", CXM_PRESET_DISTINCT},
	};
	for (int i = 0; i < N_METRICS; i++) {
		cxm_metric_def d = {.size = sizeof d};
		CHECK(cxm_metric_preset(&d, M[i].preset));
		CHECK(cxm_metric_define(&metric_id[i], ctx, M[i].name, &d));
	}
	uint32_t v;
	CHECK(cxm_segment_define(&seg_tier, ctx, "tier", 4));
	CHECK(cxm_segment_define(&seg_region, ctx, "region", 4));
	for (int i = 0; i < 4; i++) {
		CHECK(cxm_segment_value(&v, ctx, seg_tier, TIERS[i]));
		CHECK(cxm_segment_value(&v, ctx, seg_region, REGIONS[i]));
	}
}

/* ---- simulation -------------------------------------------------------------- */

typedef struct rng {
	uint64_t s;
} rng;
static uint64_t next(rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}
static double unif(rng *r) { return ((next(r) >> 11) + 0.5) / 9007199254740992.0; }
static double expo(rng *r, double mean) { return -mean * log(unif(r)); }
static double lognorm(rng *r, double median, double sigma)
{
	double z = sqrt(-2 * log(unif(r))) * cos(6.283185307179586 * unif(r));
	return median * exp(sigma * z);
}
static int clampi(double x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : (int)lround(x); }

/* One interaction waiting to be fed. */
typedef struct event {
	int64_t t;
	uint32_t tp, n;
	uint32_t segs[2];
	char customer[16];
	cxm_measure m[6];
} event;

typedef struct evbuf {
	event *e;
	size_t n, cap;
} evbuf;

/* Events past midnight belong to tomorrow: they land in a scratch slot. */
static event *push(evbuf *b, int64_t t, int tp, const uint32_t segs[2], const char *cust)
{
	static _Thread_local event tomorrow;
	if (t >= DAY0 + DAY_MS) {
		memset(&tomorrow, 0, sizeof tomorrow);
		return &tomorrow;
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 4096;
		b->e = realloc(b->e, b->cap * sizeof *b->e);
		if (!b->e) {
			perror("realloc");
			exit(1);
		}
	}
	event *e = &b->e[b->n++];
	memset(e, 0, sizeof *e);
	e->t = t;
	e->tp = tp_id[tp];
	e->segs[0] = segs[0];
	e->segs[1] = segs[1];
	snprintf(e->customer, sizeof e->customer, "%s", cust);
	return e;
}
static void add(event *e, int metric, uint32_t item, double v)
{
	e->m[e->n++] = (cxm_measure){metric_id[metric], item, v};
}

/* Calls peak mid-morning and mid-afternoon; queues are slower then. */
static int64_t day_time(rng *r)
{
	for (;;) {
		double h = 24 * unif(r);
		double load = 0.15 + exp(-pow((h - 10.5) / 2.0, 2)) + 0.8 * exp(-pow((h - 15) / 2.5, 2));
		if (unif(r) * 1.2 < load)
			return DAY0 + (int64_t)(h * 3600000);
	}
}
static double load_at(int64_t t)
{
	double h = (double)(t - DAY0) / 3600000.0;
	return 0.15 + exp(-pow((h - 10.5) / 2.0, 2)) + 0.8 * exp(-pow((h - 15) / 2.5, 2));
}

/* The survey goes out by email after the call; the answers are about the
 * touchpoint that served the customer, so they are fed on it. */
static void survey(evbuf *b, rng *r, int64_t t, int served_by, const uint32_t segs[2],
		   const char *cust, bool resolved, double wait_s)
{
	int64_t ts = t + 10 * 60000 + (int64_t)expo(r, 1800000);
	if (ts >= DAY0 + DAY_MS)
		return;
	push(b, t + 5 * 60000, TP_SURVEY, segs, cust); /* sent */
	if (unif(r) > 0.3)
		return; /* most customers do not answer */
	double mood = (resolved ? 8.6 : 4.8) - wait_s / 150 + (segs[0] >= 2 ? 0.3 : 0) + 1.6 * (unif(r) - 0.5);
	event *e = push(b, ts, served_by, segs, cust);
	add(e, M_NPS, 0, clampi(mood + 0.8 * (unif(r) - 0.5), 0, 10));
	add(e, M_CSAT, 0, clampi(1 + (mood - 1) * 4 / 9 + 1.5 * (unif(r) - 0.6), 1, 5));
	add(e, M_CES, 0, clampi(1 + (mood - 2) * 6 / 8 - wait_s / 400 + 2 * (unif(r) - 0.6), 1, 7));
	if (unif(r) < 0.15)
		for (uint32_t q = 0; q < 3; q++)
			add(e, M_CXI, q, clampi(mood + (unif(r) - 0.5) * 2, 1, 10));
}

static void simulate_customer(evbuf *b, rng *r, int i)
{
	char cust[16];
	snprintf(cust, sizeof cust, "cust-%07d", i);
	double u = unif(r);
	uint32_t segs[2] = {u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3, (uint32_t)(next(r) % 4)};
	int64_t t = day_time(r);
	double kind = unif(r);
	if (kind < 0.55) { /* a support call */
		bool chat = unif(r) < 0.25;
		event *e = push(b, t, chat ? TP_CHATBOT : TP_IVR, segs, cust);
		bool self = unif(r) < (chat ? 0.35 : 0.2);
		add(e, M_AHT, 0, lognorm(r, chat ? 150 : 70, 0.5));
		add(e, M_RESOLVED, 0, self);
		if (self) {
			survey(b, r, t, chat ? TP_CHATBOT : TP_IVR, segs, cust, true, 0);
			return;
		}
		bool tech = unif(r) < 0.45;
		double wait = expo(r, 20 + 240 * load_at(t) * (tech ? 1.4 : 1.0) / (segs[0] >= 2 ? 2 : 1));
		bool abandon = unif(r) < wait / (wait + 300);
		t += 90000;
		e = push(b, t, tech ? TP_Q_TECH : TP_Q_BILLING, segs, cust);
		add(e, M_ASA, 0, wait);
		add(e, M_ABANDONED, 0, abandon);
		t += (int64_t)(wait * 1000);
		if (abandon) {
			if (unif(r) < 0.5) {
				int64_t tc = t + 1800000 + (int64_t)expo(r, 3600000);
				if (tc < DAY0 + DAY_MS) {
					bool ok = unif(r) < 0.7;
					e = push(b, tc, TP_CALLBACK, segs, cust);
					add(e, M_AHT, 0, lognorm(r, 360, 0.5));
					add(e, M_RESOLVED, 0, ok);
					survey(b, r, tc, TP_CALLBACK, segs, cust, ok, wait);
				}
			}
			return;
		}
		bool ok = unif(r) < (tech ? 0.62 : 0.8) - wait / 3000;
		e = push(b, t, tech ? TP_A_TECH : TP_A_BILLING, segs, cust);
		add(e, M_AHT, 0, lognorm(r, tech ? 520 : 300, 0.55));
		add(e, M_RESOLVED, 0, ok);
		survey(b, r, t, tech ? TP_A_TECH : TP_A_BILLING, segs, cust, ok, wait);
	} else if (kind < 0.85) { /* a shopper */
		event *e = push(b, t, TP_PRODUCT, segs, cust);
		add(e, M_CONVERTED, 0, 0);
		if (unif(r) < 0.35) {
			t += (int64_t)expo(r, 300000);
			e = push(b, t, TP_CART, segs, cust);
			bool buy = unif(r) < 0.55;
			add(e, M_CONVERTED, 0, buy);
			if (buy) {
				t += (int64_t)expo(r, 120000);
				bool phone = unif(r) < 0.1;
				e = push(b, t, phone ? TP_SALES : TP_CHECKOUT, segs, cust);
				add(e, M_REVENUE, 0, round(lognorm(r, 60 + 40 * segs[0], 0.7) * 100) / 100);
				add(e, M_CONVERTED, 0, 1);
				add(e, M_CES, 0, clampi(lognorm(r, phone ? 4.5 : 5.8, 0.2), 1, 7));
			}
		}
	} else if (kind < 0.93) { /* a new customer */
		event *e = push(b, t, TP_WELCOME, segs, cust);
		(void)e;
		if (unif(r) < 0.7) {
			e = push(b, t + (int64_t)expo(r, 3600000), TP_FIRST_LOGIN, segs, cust);
			add(e, M_CES, 0, clampi(lognorm(r, 5, 0.25), 1, 7));
		}
	} else { /* an invoice, sometimes questioned */
		event *e = push(b, t, TP_INVOICE, segs, cust);
		add(e, M_RESOLVED, 0, unif(r) < 0.9);
	}
}

static int cmp_event(const void *a, const void *b)
{
	int64_t x = ((const event *)a)->t, y = ((const event *)b)->t;
	return (x > y) - (x < y);
}

/* ---- feeding from threads ------------------------------------------------------ */

typedef struct feedjob {
	const evbuf *b;
	atomic_size_t next_chunk;
	atomic_ullong accepted, rejected;
} feedjob;

enum { CHUNK = 512 };

static void to_interaction(const event *e, cxm_interaction *ix)
{
	cxm_interaction_init(ix, sizeof *ix);
	ix->time_ms = e->t;
	ix->touchpoint = e->tp;
	ix->customer = e->customer;
	ix->customer_len = strlen(e->customer);
	ix->segments = e->segs;
	ix->n_segments = 2;
	ix->measures = e->m;
	ix->n_measures = e->n;
}

/* Threads take the time-ordered events chunk by chunk, so they feed in
 * nearly the order of time, as live call threads would. Even threads use
 * the batch call, odd ones one call per interaction. */
static void *feeder(void *arg)
{
	feedjob *job = arg;
	static _Thread_local cxm_interaction ixs[CHUNK];
	size_t nchunks = (job->b->n + CHUNK - 1) / CHUNK;
	unsigned long long me = (unsigned long long)(uintptr_t)&ixs;
	bool batch = (me >> 12) & 1;
	for (;;) {
		size_t c = atomic_fetch_add(&job->next_chunk, 1);
		if (c >= nchunks)
			break;
		size_t from = c * CHUNK, to = from + CHUNK < job->b->n ? from + CHUNK : job->b->n;
		for (size_t i = from; i < to; i++)
			to_interaction(&job->b->e[i], &ixs[i - from]);
		if (batch) {
			size_t acc = 0, rej = 0;
			cxm_status st = cxm_feed_batch(&acc, ctx, ixs, to - from, NULL, 0, &rej);
			if (st != CXM_OK && st != CXM_ERR_REJECTED) {
				fprintf(stderr, "feed_batch: %s\n", cxm_strerror(st));
				exit(1);
			}
			atomic_fetch_add(&job->accepted, acc);
			atomic_fetch_add(&job->rejected, rej);
		} else {
			for (size_t i = 0; i < to - from; i++) {
				if (cxm_feed(ctx, &ixs[i]) == CXM_OK)
					atomic_fetch_add(&job->accepted, 1);
				else
					atomic_fetch_add(&job->rejected, 1);
			}
		}
	}
	return NULL;
}

/* ---- dashboard ------------------------------------------------------------------ */

static cxm_result ask_q(cxm_query *q)
{
	cxm_result r = {.size = sizeof r};
	q->end_ms = DAY0 + DAY_MS - 1;
	q->span_ms = DAY_MS;
	CHECK(cxm_query_run(&r, ctx, q));
	return r;
}

static cxm_result ask(cxm_scope scope, cxm_id id, int metric, cxm_id seg, uint32_t val);

/* A journey step: every touchpoint on it. */
static cxm_result ask_step(int journey, cxm_id step, int metric)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = metric_id[metric];
	q.scope = CXM_SCOPE_STEP;
	q.id = journey_id[journey];
	q.step = step;
	return ask_q(&q);
}

static cxm_result ask(cxm_scope scope, cxm_id id, int metric, cxm_id seg, uint32_t val)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = metric_id[metric];
	q.scope = scope;
	q.id = id;
	q.segment = seg;
	q.segment_value = val;
	q.end_ms = DAY0 + DAY_MS - 1; /* the window is the day: [00:00, 24:00) */
	q.span_ms = DAY_MS;
	cxm_result r = {.size = sizeof r};
	CHECK(cxm_query_run(&r, ctx, &q));
	return r;
}

/* "  42.1 ±3.2" for a value with its interval; "~" marks a small sample;
 * "–" an empty one. */
static const char *fmt(char *buf, size_t n, const cxm_result *r, int digits)
{
	const char *small = r->flags & CXM_RESULT_LOW_SAMPLE ? "~" : "";
	if (r->flags & CXM_RESULT_EMPTY)
		snprintf(buf, n, "%s", "–");
	else if (!isnan(r->ci_low))
		snprintf(buf, n, "%s%.*f ±%.*f", small, digits, r->value, digits,
			 (r->ci_high - r->ci_low) / 2);
	else
		snprintf(buf, n, "%s%.*f", small, digits, r->value);
	return buf;
}

static void row(const char *name, cxm_scope scope, cxm_id id)
{
	char a[32], b[32], c[32], e[32], f[32], g[32];
	cxm_result vol = ask(scope, id, M_VOLUME, CXM_NONE, 0);
	cxm_result nps = ask(scope, id, M_NPS, CXM_NONE, 0);
	cxm_result csat = ask(scope, id, M_CSAT, CXM_NONE, 0);
	cxm_result ces = ask(scope, id, M_CES, CXM_NONE, 0);
	cxm_result aht = ask(scope, id, M_AHT, CXM_NONE, 0);
	cxm_result res = ask(scope, id, M_RESOLVED, CXM_NONE, 0);
	cxm_result ab = ask(scope, id, M_ABANDONED, CXM_NONE, 0);
	if (aht.flags & CXM_RESULT_EMPTY)
		snprintf(e, sizeof e, "–");
	else
		snprintf(e, sizeof e, "%.0f / %.0f", aht.p50, aht.p90);
	printf("%-18s %8llu  %-13s %5llu  %-12s %-11s %-13s %-12s %-12s\n", name,
	       (unsigned long long)vol.n, fmt(a, sizeof a, &nps, 1), (unsigned long long)nps.n,
	       fmt(b, sizeof b, &csat, 1), fmt(c, sizeof c, &ces, 2), e,
	       fmt(f, sizeof f, &res, 1), fmt(g, sizeof g, &ab, 1));
}

static int64_t fixed_now(void *opaque)
{
	return *(const int64_t *)opaque;
}

int main(int argc, char **argv)
{
	uint64_t seed = 20261124;
	int customers = 120000, threads = 4;
	bool quiet = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--customers") && i + 1 < argc)
			customers = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else {
			fprintf(stderr, "usage: %s [--seed N] [--customers N] [--threads N] [--quiet]\n", argv[0]);
			return 2;
		}
	}
	if (customers < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "contact_center: --customers >= 1, --threads 1..64\n");
		return 2;
	}
	static int64_t now = DAY0 + DAY_MS; /* the supervisor looks at midnight */
	cxm_config cfg = CXM_CONFIG_INIT;
	/* Minute buckets for two days: a supervisor's view of the whole day,
	 * and a replay that feeds a day in a fraction of a second stays exact
	 * however long a busy machine preempts one of its threads (no event of
	 * the day can fall behind the finest tier's reach). */
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 2880, 0};
	cfg.tiers[1] = (cxm_tier){3600000, 192, 0};
	cfg.tiers[2] = (cxm_tier){86400000, 400, 0};
	cfg.clock = fixed_now;
	cfg.clock_opaque = &now;
	CHECK(cxm_context_new(&ctx, &cfg));
	define_model();

	evbuf b = {0};
	rng r = {seed};
	for (int i = 0; i < customers; i++)
		simulate_customer(&b, &r, i);
	qsort(b.e, b.n, sizeof *b.e, cmp_event);

	feedjob job = {.b = &b};
	pthread_t th[64];
	for (int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, feeder, &job)) {
			perror("pthread_create");
			return 1;
		}
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);

	unsigned long long accepted = atomic_load(&job.accepted), rejected = atomic_load(&job.rejected);
	cxm_result all = ask(CXM_SCOPE_ALL, 0, M_VOLUME, CXM_NONE, 0);
	int bad = 0;
	if (accepted != b.n || rejected != 0 || all.n != accepted) {
		fprintf(stderr, "fed %zu, accepted %llu, rejected %llu, volume says %llu\n", b.n, accepted,
			rejected, (unsigned long long)all.n);
		bad = 1;
	}

	printf("libcxm %s — a simulated contact-center day (seed %llu, %d customers, %zu interactions, %d threads)\n\n",
	       cxm_libversion(), (unsigned long long)seed, customers, b.n, threads);
	if (!quiet) {
		printf("Last 24 h as of 2026-11-25 00:00 UTC. NPS −100..100, CSAT %% top-2-box, CES mean 1..7,\n"
		       "AHT p50/p90 in seconds, rates in %%; ± is the 95%% interval, ~ marks n < 30, – no data.\n\n");
		printf("%-18s %8s  %-13s %5s  %-12s %-11s %-13s %-12s %-12s\n", "touchpoint", "volume",
		       "NPS", "n", "CSAT", "CES", "AHT p50/p90", "resolved", "abandoned");
		for (int i = 0; i < N_TP; i++)
			row(TPS[i].name, CXM_SCOPE_TOUCHPOINT, tp_id[i]);
		printf("\n%-18s\n", "journey");
		const char *jn[] = {"support case", "buy", "onboarding"};
		for (int j = 0; j < N_JOURNEYS; j++)
			row(jn[j], CXM_SCOPE_JOURNEY, journey_id[j]);
		row("overall", CXM_SCOPE_ALL, 0);

		printf("\nNPS by tier (all touchpoints)        CX index (3 questions, −100..100)\n");
		for (uint32_t t = 0; t < 4; t++) {
			char a[32], c[32];
			cxm_result n = ask(CXM_SCOPE_ALL, 0, M_NPS, seg_tier, t);
			cxm_result x = ask(CXM_SCOPE_ALL, 0, M_CXI, seg_tier, t);
			printf("  %-9s %-14s n=%-6llu          %-9s %-14s n=%llu\n", TIERS[t],
			       fmt(a, sizeof a, &n, 1), (unsigned long long)n.n, TIERS[t],
			       fmt(c, sizeof c, &x, 1), (unsigned long long)x.n);
		}
		cxm_result rev = ask(CXM_SCOPE_JOURNEY, journey_id[J_BUY], M_REVENUE, CXM_NONE, 0);
		cxm_result conv = ask(CXM_SCOPE_TOUCHPOINT, tp_id[TP_CART], M_CONVERTED, CXM_NONE, 0);
		printf("\nbuy journey: revenue %.2f from %llu orders (mean %.2f); cart conversion %.1f%% [%.1f, %.1f]\n",
		       rev.sum, (unsigned long long)rev.n, rev.mean, conv.value, conv.ci_low, conv.ci_high);
		printf("distinct customers:");
		const char *jn2[] = {"support case", "buy", "onboarding"};
		for (int j = 0; j < N_JOURNEYS; j++) {
			cxm_result u = ask(CXM_SCOPE_JOURNEY, journey_id[j], M_CUSTOMERS, CXM_NONE, 0);
			printf(" %s %.0f,", jn2[j], u.value);
		}
		cxm_result u = ask(CXM_SCOPE_ALL, 0, M_CUSTOMERS, CXM_NONE, 0);
		printf(" overall %.0f ±%.0f (of %d simulated; HyperLogLog)\n", u.value,
		       (u.ci_high - u.ci_low) / 2, customers);
		cxm_result asa = ask_step(J_SUPPORT, 1, M_ASA);
		printf("support queues: speed of answer p50 %.0f s, p90 %.0f s, mean %.0f s ±%.0f (n=%llu)\n",
		       asa.p50, asa.p90, asa.mean, (asa.ci_high - asa.ci_low) / 2, (unsigned long long)asa.n);
	}

	/* Bad input is refused with a reason and counted, never dropped silently. */
	struct {
		const char *what;
		int tp, metric;
		double v;
		int64_t t;
	} bads[] = {
		{"NPS answer 11", TP_SURVEY, M_NPS, 11, DAY0 + DAY_MS - 1000},
		{"NaN handle time", TP_A_TECH, M_AHT, NAN, DAY0 + DAY_MS - 1000},
		{"unknown touchpoint", -1, M_NPS, 9, DAY0 + DAY_MS - 1000},
		{"a call from 3 days ago", TP_IVR, M_AHT, 60, DAY0 - 2 * DAY_MS},
	};
	if (!quiet)
		printf("\nbad input:\n");
	for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
		cxm_measure m = {metric_id[bads[i].metric], 0, bads[i].v};
		cxm_interaction ix = CXM_INTERACTION_INIT;
		ix.time_ms = bads[i].t;
		ix.touchpoint = bads[i].tp < 0 ? 9999 : tp_id[bads[i].tp];
		ix.measures = &m;
		ix.n_measures = 1;
		cxm_status st = cxm_feed(ctx, &ix);
		if (st == CXM_OK)
			bad = 1;
		if (!quiet)
			printf("  %-22s -> %-13s %s\n", bads[i].what, cxm_strerror(st), cxm_errmsg(ctx));
	}
	cxm_stats s = {.size = sizeof s};
	CHECK(cxm_stats_get(&s, ctx));
	printf("\nstats: %llu accepted, %llu rejected (out of range %llu, not finite %llu, unknown id %llu, too late %llu), "
	       "%llu series, %.1f MiB\n",
	       (unsigned long long)s.accepted, (unsigned long long)s.rejected_total,
	       (unsigned long long)s.rejected[CXM_ERR_OUT_OF_RANGE],
	       (unsigned long long)s.rejected[CXM_ERR_NOT_FINITE],
	       (unsigned long long)s.rejected[CXM_ERR_UNKNOWN_ID],
	       (unsigned long long)s.rejected[CXM_ERR_TOO_LATE], (unsigned long long)s.series,
	       s.memory_bytes / 1048576.0);
	if (s.accepted != accepted || s.rejected_total != 4 + rejected)
		bad = 1;
	cxm_context_free(ctx);
	free(b.e);
	return bad;
}
