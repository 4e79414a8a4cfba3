/* A seeded day in a contact center, fed to libcxm from several threads,
 * ending with the dashboard a supervisor would look at.
 *
 *   contact_center [--seed N] [--customers N] [--threads N] [--quiet]
 *
 * Calls go IVR (or the chat bot) -> queue (some abandon; half of those get
 * a callback) -> agent -> post-call survey by email or SMS (NPS, CSAT, CES,
 * sometimes the 3-question CX index). Web shoppers browse, fill carts and
 * check out, a few by phone with a sales agent; new customers get a welcome
 * email and log in. Scores depend on waiting and resolution, so touchpoints
 * differ the way they do in life.
 *
 * Every customer's day is drawn from its own generator (seed, customer
 * number), and each thread simulates and feeds its share of the customers:
 * the numbers do not depend on --threads or on scheduling. Each thread
 * feeds half of its interactions one call at a time and half in batches.
 *
 * Two in-journey signals watch support cases (an agent or callback that
 * did not resolve; a customer left in a queue for 30 minutes), and their
 * events, polled at the day's end, must be exactly the cases the
 * simulation made so.
 *
 * Before the day, the same day a week earlier is fed from the main thread
 * (other customers, moods a little worse, no customer ids) so that the
 * dashboard can show "vs last week" through a named baseline. A driver set
 * pairs each customer's resolution at the IVR, chat bot, agents and
 * callback with the NPS answer the customer gives after: the key-drivers
 * table says which touchpoint's resolution goes with the answer, and
 * what an unresolved case costs.
 *
 * The program checks what it prints (intervals bracket their values,
 * volumes add up, nothing is lost) and exits non-zero if anything is off;
 * --quiet runs the same checks and prints only the summary. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* gmtime_r */
#endif
#include <cxm.h>

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define DAY0 INT64_C(1795478400000) /* 2026-11-24T00:00:00Z */

static cxm_context *ctx;
static bool quiet;
static atomic_int problems; /* failed self-checks and unexpected errors */

#define CHECK(call)                                                                            \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_ != CXM_OK) {                                                           \
			fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,      \
				cxm_strerror(st_), cxm_errmsg(ctx));                           \
			exit(1);                                                               \
		}                                                                              \
	} while (0)

static void problem(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("contact_center: CHECK FAILED: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	atomic_fetch_add(&problems, 1);
}

static void say(const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/* Print s padded to |width| characters (not bytes: "–", "±" and "−" are
 * UTF-8); right-aligned when width < 0. */
static void put(const char *s, int width)
{
	int chars = 0;
	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	int pad = abs(width) - chars;
	if (width < 0)
		say("%*s", pad > 0 ? pad : 0, "");
	say("%s", s);
	if (width > 0)
		say("%*s", pad > 0 ? pad : 0, "");
}

/* ---- model ----------------------------------------------------------------- */

enum { J_SUPPORT, J_BUY, J_ONBOARD, N_JOURNEYS };
enum {
	TP_IVR, TP_CHATBOT, TP_Q_BILLING, TP_Q_TECH, TP_A_BILLING, TP_A_TECH, TP_CALLBACK,
	TP_SURVEY_EMAIL, TP_SURVEY_SMS, TP_PRODUCT, TP_CART, TP_CHECKOUT, TP_A_SALES,
	TP_WELCOME, TP_FIRST_LOGIN, TP_INVOICE, N_TP
};
enum { M_VOLUME, M_NPS, M_CSAT, M_CES, M_CXI, M_AHT, M_ASA, M_RESOLVED, M_ABANDONED,
       M_CONVERTED, M_ANSWERED, M_REVENUE, M_CUSTOMERS, N_METRICS };

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
	[TP_SURVEY_EMAIL] = {"survey: email", CXM_CHANNEL_EMAIL, J_SUPPORT, 3},
	[TP_SURVEY_SMS] = {"survey: sms", CXM_CHANNEL_SMS, J_SUPPORT, 3},
	[TP_PRODUCT] = {"product page", CXM_CHANNEL_WEB, J_BUY, 0},
	[TP_CART] = {"cart", CXM_CHANNEL_WEB, J_BUY, 1},
	[TP_CHECKOUT] = {"checkout page", CXM_CHANNEL_WEB, J_BUY, 2},
	[TP_A_SALES] = {"agent: sales", CXM_CHANNEL_PHONE, J_BUY, 2},
	[TP_WELCOME] = {"welcome email", CXM_CHANNEL_EMAIL, J_ONBOARD, 0},
	[TP_FIRST_LOGIN] = {"first login", CXM_CHANNEL_WEB, J_ONBOARD, 1},
	[TP_INVOICE] = {"invoice email", CXM_CHANNEL_EMAIL, -1, 0},
};
static const char *JOURNEYS[N_JOURNEYS] = {"support case", "buy", "onboarding"};

static cxm_id journey_id[N_JOURNEYS], tp_id[N_TP], metric_id[N_METRICS], seg_tier, seg_region;
/* In-journey signals, and what the simulation says they must report. */
static cxm_id sig_unresolved, sig_stuck;
/* Key drivers: which touchpoint's resolution goes with the NPS answer. */
static cxm_id drivers_set;
static atomic_long want_unresolved, want_stuck;
#define STUCK_MS (30 * 60000)
static const char *TIERS[] = {"bronze", "silver", "gold", "platinum"};
static const char *REGIONS[] = {"north", "south", "east", "west"};

static void define_model(void)
{
	const char *support[] = {"contact", "triage", "resolution", "follow-up"};
	const char *buy[] = {"browse", "cart", "checkout"};
	const char *onboard[] = {"signup", "first use"};
	CHECK(cxm_journey_define(&journey_id[J_SUPPORT], ctx, JOURNEYS[J_SUPPORT], support, 4));
	CHECK(cxm_journey_define(&journey_id[J_BUY], ctx, JOURNEYS[J_BUY], buy, 3));
	CHECK(cxm_journey_define(&journey_id[J_ONBOARD], ctx, JOURNEYS[J_ONBOARD], onboard, 2));
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
		[M_CONVERTED] = {"converted", CXM_PRESET_RATE},
		[M_ANSWERED] = {"survey answered", CXM_PRESET_RATE},
		[M_REVENUE] = {"revenue", CXM_PRESET_AMOUNT},
		[M_CUSTOMERS] = {"customers", CXM_PRESET_DISTINCT},
	};
	for (int i = 0; i < N_METRICS; i++) {
		cxm_metric_def d = {.size = sizeof d};
		CHECK(cxm_metric_preset(&d, M[i].preset));
		CHECK(cxm_metric_define(&metric_id[i], ctx, M[i].name, &d));
	}
	/* signals on support cases: an agent or callback that did not
	 * resolve (an answer for the follow-up team), and a customer left in
	 * a queue for 30 minutes with nothing since */
	cxm_signal_def sd = CXM_SIGNAL_DEF_INIT;
	sd.kind = CXM_SIGNAL_FAILURE;
	sd.journey = journey_id[J_SUPPORT];
	sd.step = 2; /* resolution */
	sd.count = 1;
	sd.window_ms = DAY_MS;
	sd.metric = metric_id[M_RESOLVED];
	sd.op = CXM_CMP_EQ;
	sd.threshold = 0;
	CHECK(cxm_signal_define(&sig_unresolved, ctx, &sd));
	sd = (cxm_signal_def)CXM_SIGNAL_DEF_INIT;
	sd.kind = CXM_SIGNAL_STUCK;
	sd.journey = journey_id[J_SUPPORT];
	sd.step = 1; /* triage: the queue */
	sd.window_ms = STUCK_MS;
	CHECK(cxm_signal_define(&sig_stuck, ctx, &sd));
	/* key drivers: resolution at each touchpoint that can resolve a case,
	 * and wherever it was last (the overall driver), against the NPS
	 * answer the same customer gives after */
	cxm_drivers_def dd;
	CHECK(cxm_drivers_def_init(&dd, sizeof dd));
	dd.outcome = metric_id[M_NPS];
	dd.driver = metric_id[M_RESOLVED];
	const cxm_id resolvers[] = {tp_id[TP_IVR], tp_id[TP_CHATBOT], tp_id[TP_A_BILLING],
				    tp_id[TP_A_TECH], tp_id[TP_CALLBACK]};
	dd.touchpoints = resolvers;
	dd.n_touchpoints = sizeof resolvers / sizeof resolvers[0];
	dd.flags = CXM_DRIVERS_OVERALL;
	dd.window_ms = DAY_MS;
	CHECK(cxm_drivers_define(&drivers_set, ctx, "resolution drives nps", &dd));
	uint32_t v;
	CHECK(cxm_segment_define(&seg_tier, ctx, "tier", 4));
	CHECK(cxm_segment_define(&seg_region, ctx, "region", 4));
	for (uint32_t i = 0; i < 4; i++) {
		CHECK(cxm_segment_value(&v, ctx, seg_tier, TIERS[i]));
		if (v != i)
			problem("tier value %s got id %u", TIERS[i], v);
		CHECK(cxm_segment_value(&v, ctx, seg_region, REGIONS[i]));
		if (v != i)
			problem("region value %s got id %u", REGIONS[i], v);
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

/* How much lower every survey's mood is: 0 today, more on the day a week
 * earlier that the "vs last week" columns compare with (set before the
 * feeding threads start, read by them after). */
static double mood_drop;

/* One interaction waiting to be fed. */
typedef struct event {
	int64_t t;
	uint32_t tp, n;
	uint32_t segs[2];
	char customer[24];
	cxm_measure m[8];
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
		size_t cap = b->cap ? 2 * b->cap : 4096;
		event *e = realloc(b->e, cap * sizeof *e);
		if (!e) {
			perror("realloc");
			exit(1);
		}
		b->e = e;
		b->cap = cap;
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
static double load_at_hour(double h)
{
	return 0.15 + exp(-pow((h - 10.5) / 2.0, 2)) + 0.8 * exp(-pow((h - 15) / 2.5, 2));
}
static int64_t day_time(rng *r)
{
	for (;;) {
		double h = 24 * unif(r);
		if (unif(r) * 1.2 < load_at_hour(h))
			return DAY0 + (int64_t)(h * 3600000);
	}
}
static double load_at(int64_t t) { return load_at_hour((double)(t - DAY0) / 3600000.0); }

/* The survey goes out by email or SMS a few minutes after the contact; the
 * answers are about the touchpoint that served the customer, so they are
 * fed on it. The survey touchpoint records the sending and whether it was
 * answered. */
static void survey(evbuf *b, rng *r, int64_t t, int served_by, const uint32_t segs[2],
		   const char *cust, bool resolved, double wait_s)
{
	bool sms = unif(r) < 0.4;
	int64_t sent = t + 5 * 60000;
	int64_t ts = sent + (int64_t)expo(r, sms ? 600000 : 2400000);
	bool answered = unif(r) < (sms ? 0.35 : 0.25) && ts < DAY0 + DAY_MS;
	event *e = push(b, sent, sms ? TP_SURVEY_SMS : TP_SURVEY_EMAIL, segs, cust);
	add(e, M_ANSWERED, 0, answered);
	if (!answered)
		return;
	double mood = (resolved ? 8.6 : 4.8) - wait_s / 150 + (segs[0] >= 2 ? 0.3 : 0) - mood_drop +
		      1.6 * (unif(r) - 0.5);
	e = push(b, ts, served_by, segs, cust);
	add(e, M_NPS, 0, clampi(mood + 0.8 * (unif(r) - 0.5), 0, 10));
	add(e, M_CSAT, 0, clampi(1 + (mood - 1) * 4 / 9 + 1.5 * (unif(r) - 0.6), 1, 5));
	add(e, M_CES, 0, clampi(1 + (mood - 2) * 6 / 8 - wait_s / 400 + 2 * (unif(r) - 0.6), 1, 7));
	if (unif(r) < 0.15) /* the longer questionnaire: effective, easy, enjoyable */
		for (uint32_t q = 0; q < 3; q++)
			add(e, M_CXI, q, clampi(mood + (q == 1 ? -wait_s / 200 : 0) + (unif(r) - 0.5) * 2, 1, 10));
}

/* What the signals must see of a support call queued at `queued` and
 * served at `served` (INT64_MAX: never), resolved or not: an interaction
 * after the day is not fed, so the customer is then still in the queue. */
static void expect(int64_t queued, int64_t served, bool ok)
{
	if (served < DAY0 + DAY_MS) {
		if (!ok)
			atomic_fetch_add(&want_unresolved, 1);
	} else if (queued + STUCK_MS <= DAY0 + DAY_MS - 1) {
		atomic_fetch_add(&want_stuck, 1);
	}
}

static void support_call(evbuf *b, rng *r, int64_t t, const uint32_t segs[2], const char *cust)
{
	bool chat = unif(r) < 0.25;
	int front = chat ? TP_CHATBOT : TP_IVR;
	event *e = push(b, t, front, segs, cust);
	bool self = unif(r) < (chat ? 0.35 : 0.2);
	add(e, M_AHT, 0, lognorm(r, chat ? 150 : 70, 0.5));
	add(e, M_RESOLVED, 0, self);
	if (self) {
		survey(b, r, t, front, segs, cust, true, 0);
		return;
	}
	bool tech = unif(r) < 0.45;
	double wait = expo(r, 20 + 240 * load_at(t) * (tech ? 1.4 : 1.0) / (segs[0] >= 2 ? 2 : 1));
	bool abandon = unif(r) < wait / (wait + 300);
	t += 90000; /* the IVR menu */
	e = push(b, t, tech ? TP_Q_TECH : TP_Q_BILLING, segs, cust);
	add(e, M_ABANDONED, 0, abandon);
	t += (int64_t)(wait * 1000);
	if (abandon) {
		if (unif(r) < 0.5) {
			int64_t tc = t + 1800000 + (int64_t)expo(r, 3600000);
			bool ok = unif(r) < 0.7;
			expect(t - (int64_t)(wait * 1000), tc, ok);
			e = push(b, tc, TP_CALLBACK, segs, cust);
			add(e, M_AHT, 0, lognorm(r, 360, 0.5));
			add(e, M_RESOLVED, 0, ok);
			if (tc < DAY0 + DAY_MS)
				survey(b, r, tc, TP_CALLBACK, segs, cust, ok, wait);
		} else {
			expect(t - (int64_t)(wait * 1000), INT64_MAX, false);
		}
		return;
	}
	bool ok = unif(r) < (tech ? 0.62 : 0.8) - wait / 3000;
	expect(t - (int64_t)(wait * 1000), t, ok);
	e = push(b, t, tech ? TP_A_TECH : TP_A_BILLING, segs, cust);
	add(e, M_AHT, 0, lognorm(r, tech ? 520 : 300, 0.55));
	add(e, M_ASA, 0, wait);
	add(e, M_RESOLVED, 0, ok);
	survey(b, r, t, tech ? TP_A_TECH : TP_A_BILLING, segs, cust, ok, wait);
}

static void simulate_customer(evbuf *b, uint64_t seed, int i)
{
	rng r = {seed * 0xd1b54a32d192ed03u ^ (uint64_t)i * 0x9e3779b97f4a7c15u};
	next(&r);
	char cust[24];
	snprintf(cust, sizeof cust, "cust-%07d", i);
	double u = unif(&r);
	uint32_t segs[2] = {u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.95 ? 2 : 3, (uint32_t)(next(&r) % 4)};
	int64_t t = day_time(&r);
	double kind = unif(&r);
	if (kind < 0.55) {
		support_call(b, &r, t, segs, cust);
	} else if (kind < 0.85) { /* a shopper */
		event *e = push(b, t, TP_PRODUCT, segs, cust);
		add(e, M_CONVERTED, 0, 0);
		if (unif(&r) < 0.35) {
			t += (int64_t)expo(&r, 300000);
			e = push(b, t, TP_CART, segs, cust);
			bool buy = unif(&r) < 0.55;
			add(e, M_CONVERTED, 0, buy);
			if (buy) {
				t += (int64_t)expo(&r, 120000);
				bool phone = unif(&r) < 0.1;
				e = push(b, t, phone ? TP_A_SALES : TP_CHECKOUT, segs, cust);
				add(e, M_REVENUE, 0, round(lognorm(&r, 60 + 40 * segs[0], 0.7) * 100) / 100);
				add(e, M_CONVERTED, 0, 1);
				if (phone) { /* a short queue, and a survey now and then */
					double wait = expo(&r, 25);
					add(e, M_AHT, 0, lognorm(&r, 240, 0.4));
					add(e, M_ASA, 0, wait);
					add(e, M_RESOLVED, 0, unif(&r) < 0.97);
					if (unif(&r) < 0.08)
						survey(b, &r, t, TP_A_SALES, segs, cust, true, wait);
				} else {
					add(e, M_CES, 0, clampi(lognorm(&r, 5.8, 0.2), 1, 7));
				}
			}
		}
	} else if (kind < 0.93) { /* a new customer */
		push(b, t, TP_WELCOME, segs, cust);
		if (unif(&r) < 0.7) {
			event *e = push(b, t + (int64_t)expo(&r, 3600000), TP_FIRST_LOGIN, segs, cust);
			add(e, M_CES, 0, clampi(lognorm(&r, 5, 0.25), 1, 7));
		}
	} else { /* an invoice, sometimes questioned */
		event *e = push(b, t, TP_INVOICE, segs, cust);
		add(e, M_RESOLVED, 0, unif(&r) < 0.9);
	}
}

static int cmp_event(const void *a, const void *b)
{
	int64_t x = ((const event *)a)->t, y = ((const event *)b)->t;
	return (x > y) - (x < y);
}

/* ---- feeding from threads ------------------------------------------------------ */

enum { CHUNK = 512 };

typedef struct worker {
	pthread_t thread;
	int index, threads, customers;
	uint64_t seed;
	size_t fed, accepted, by_batch, one_by_one;
} worker;

static void to_interaction(const event *e, cxm_interaction *ix)
{
	CHECK(cxm_interaction_init(ix, sizeof *ix));
	ix->time_ms = e->t;
	ix->touchpoint = e->tp;
	ix->customer = e->customer;
	ix->customer_len = strlen(e->customer);
	ix->segments = e->segs;
	ix->n_segments = 2;
	ix->measures = e->m;
	ix->n_measures = e->n;
}

/* A thread simulates every threads-th customer, then feeds its interactions
 * in time order, as a live call thread would: even chunks with one batch
 * call, odd chunks one call per interaction. The threads run at their own
 * pace, so the watermark is set by the one furthest into the day; the
 * finest tier reaches back two days so no event of the day is too late. */
static void *feeder(void *arg)
{
	worker *w = arg;
	evbuf b = {0};
	for (int i = w->index; i < w->customers; i += w->threads)
		simulate_customer(&b, w->seed, i);
	qsort(b.e, b.n, sizeof *b.e, cmp_event);

	cxm_interaction *ixs = malloc(CHUNK * sizeof *ixs);
	cxm_rejection rej[8];
	if (!ixs) {
		perror("malloc");
		exit(1);
	}
	for (size_t from = 0, c = 0; from < b.n; from += CHUNK, c++) {
		size_t n = b.n - from < CHUNK ? b.n - from : CHUNK;
		for (size_t i = 0; i < n; i++)
			to_interaction(&b.e[from + i], &ixs[i]);
		if (c % 2 == 0) {
			size_t acc = 0, nrej = 0;
			cxm_status st = cxm_feed_batch(&acc, ctx, ixs, n, rej, 8, &nrej);
			if (st != CXM_OK) {
				problem("thread %d: batch: %s, %zu of %zu rejected (first #%zu: %s; %s)",
					w->index, cxm_strerror(st), nrej, n, nrej ? rej[0].index : 0,
					nrej ? cxm_strerror(rej[0].status) : "-", cxm_errmsg(ctx));
			}
			w->accepted += acc;
			w->by_batch += n;
		} else {
			for (size_t i = 0; i < n; i++) {
				cxm_status st = cxm_feed(ctx, &ixs[i]);
				if (st == CXM_OK)
					w->accepted++;
				else
					problem("thread %d: feed: %s (%s)", w->index, cxm_strerror(st),
						cxm_errmsg(ctx));
			}
			w->one_by_one += n;
		}
	}
	w->fed = b.n;
	free(ixs);
	free(b.e);
	return NULL;
}

/* The same day a week earlier, for the "vs last week" columns: customers
 * drawn with another seed and a worse mood (the callback team was short
 * that week), fed without customer ids (aggregates only: no journeys,
 * signals or drivers) in time order from this thread before today's. The
 * signals' expectations are today's alone. Returns the interactions
 * accepted. */
static size_t last_week(uint64_t seed, int customers)
{
	long unresolved = atomic_load(&want_unresolved), stuck = atomic_load(&want_stuck);
	mood_drop = 0.25;
	evbuf b = {0};
	for (int i = 0; i < customers; i++)
		simulate_customer(&b, seed ^ 0x5eed1a57, i);
	mood_drop = 0;
	atomic_store(&want_unresolved, unresolved);
	atomic_store(&want_stuck, stuck);
	qsort(b.e, b.n, sizeof *b.e, cmp_event);
	cxm_interaction *ixs = malloc(CHUNK * sizeof *ixs);
	if (!ixs) {
		perror("malloc");
		exit(1);
	}
	size_t accepted = 0;
	for (size_t from = 0; from < b.n; from += CHUNK) {
		size_t n = b.n - from < CHUNK ? b.n - from : CHUNK;
		for (size_t i = 0; i < n; i++) {
			b.e[from + i].t -= 7 * DAY_MS;
			b.e[from + i].customer[0] = '\0';
			to_interaction(&b.e[from + i], &ixs[i]);
		}
		size_t acc = 0;
		cxm_status st = cxm_feed_batch(&acc, ctx, ixs, n, NULL, 0, NULL);
		if (st != CXM_OK)
			problem("last week: batch: %s (%s)", cxm_strerror(st), cxm_errmsg(ctx));
		accepted += acc;
	}
	if (accepted != b.n)
		problem("last week: %zu of %zu accepted", accepted, b.n);
	free(ixs);
	free(b.e);
	return accepted;
}

/* ---- dashboard ------------------------------------------------------------------ */

static cxm_query query(cxm_scope scope, cxm_id id, cxm_id step, int metric, cxm_id seg,
		       uint32_t val)
{
	cxm_query q;
	CHECK(cxm_query_init(&q, sizeof q));
	q.metric = metric_id[metric];
	q.scope = scope;
	q.id = id;
	q.step = step;
	q.segment = seg;
	q.segment_value = val;
	q.end_ms = CXM_NOW; /* the injected clock: the last instant of the day */
	q.span_ms = DAY_MS;
	return q;
}

/* A result is checked before it is shown: its interval brackets it, the
 * value lies in its scale, the flags agree with n. */
static void verify(const char *where, int metric, const cxm_result *r)
{
	const double eps = 1e-9;
	bool empty = r->flags & CXM_RESULT_EMPTY;
	if (metric == M_VOLUME || metric == M_CUSTOMERS || metric == M_REVENUE)
		return;
	if (empty != (r->n == 0))
		problem("%s: EMPTY flag %d with n = %llu", where, empty, (unsigned long long)r->n);
	if (((r->flags & CXM_RESULT_LOW_SAMPLE) != 0) != (r->n < 30))
		problem("%s: LOW_SAMPLE flag 0x%x with n = %llu", where, r->flags,
			(unsigned long long)r->n);
	if (empty)
		return;
	/* a mean of one value has no sample standard deviation, so no interval */
	if (isnan(r->ci_low) && r->headline == CXM_HEADLINE_MEAN && r->n < 2)
		;
	else if (!(r->ci_low <= r->value + eps && r->value <= r->ci_high + eps))
		problem("%s: value %g outside its interval [%g, %g]", where, r->value, r->ci_low,
			r->ci_high);
	double lo = 0, hi = 100;
	switch (metric) {
	case M_NPS: case M_CXI: lo = -100; break;
	case M_CES: lo = 1; hi = 7; break;
	case M_AHT: case M_ASA:
		hi = INFINITY;
		if (!(r->min <= r->p50 * 1.01 && r->p50 <= r->p90 && r->p90 <= r->p99 &&
		      r->p99 <= r->max * 1.01))
			problem("%s: quantiles out of order: min %g p50 %g p90 %g p99 %g max %g", where,
				r->min, r->p50, r->p90, r->p99, r->max);
		break;
	default: break;
	}
	if (!(r->value >= lo && r->value <= hi))
		problem("%s: value %g outside %g .. %g", where, r->value, lo, hi);
}

static cxm_result run(const cxm_query *q, const char *where, int metric)
{
	cxm_result r = {.size = sizeof r};
	CHECK(cxm_query_run(&r, ctx, q));
	verify(where, metric, &r);
	return r;
}

static cxm_result ask(cxm_scope scope, cxm_id id, int metric, const char *where)
{
	cxm_query q = query(scope, id, 0, metric, CXM_NONE, 0);
	return run(&q, where, metric);
}

/* "59.9 [58.1, 61.7]"; "~" marks a sample too small to trust; "–" no data. */
static const char *fmt_ci(char *buf, size_t n, const cxm_result *r, int digits)
{
	if (r->flags & CXM_RESULT_EMPTY)
		snprintf(buf, n, "–");
	else if (isnan(r->ci_low))
		snprintf(buf, n, "%s%.*f", r->flags & CXM_RESULT_LOW_SAMPLE ? "~" : "", digits, r->value);
	else
		snprintf(buf, n, "%s%.*f [%.*f, %.*f]", r->flags & CXM_RESULT_LOW_SAMPLE ? "~" : "",
			 digits, r->value, digits, r->ci_low, digits, r->ci_high);
	return buf;
}
static const char *fmt_n(char *buf, size_t n, const cxm_result *r)
{
	if (r->flags & CXM_RESULT_EMPTY)
		snprintf(buf, n, "%s", "");
	else
		snprintf(buf, n, "%llu", (unsigned long long)r->n);
	return buf;
}
static const char *fmt_q(char *buf, size_t n, const cxm_result *r)
{
	if (r->flags & CXM_RESULT_EMPTY)
		snprintf(buf, n, "–");
	else
		snprintf(buf, n, "%s%.0f / %.0f", r->flags & CXM_RESULT_LOW_SAMPLE ? "~" : "", r->p50,
			 r->p90);
	return buf;
}

/* value+interval and n of one metric, as two columns */
static void put_ci(const cxm_result *r, int digits, int width)
{
	char a[64], b[32];
	put(fmt_ci(a, sizeof a, r, digits), width);
	put(fmt_n(b, sizeof b, r), -6);
	say("   ");
}
static void put_q(const cxm_result *r)
{
	char a[64], b[32];
	put(fmt_q(a, sizeof a, r), -11);
	put(fmt_n(b, sizeof b, r), -7);
	say("  ");
}

/* One row of each table; returns the volume. */
static uint64_t score_row(const char *name, cxm_scope scope, cxm_id id)
{
	cxm_result vol = ask(scope, id, M_VOLUME, name);
	cxm_result nps = ask(scope, id, M_NPS, name);
	cxm_result csat = ask(scope, id, M_CSAT, name);
	cxm_result ces = ask(scope, id, M_CES, name);
	char v[32];
	snprintf(v, sizeof v, "%llu", (unsigned long long)vol.n);
	say("  ");
	put(name, 16);
	put(v, -7);
	say("   ");
	put_ci(&nps, 1, 20);
	put_ci(&csat, 1, 18);
	put_ci(&ces, 2, 18);
	say("\n");
	return vol.n;
}
static void ops_row(const char *name, cxm_scope scope, cxm_id id)
{
	cxm_result aht = ask(scope, id, M_AHT, name);
	cxm_result asa = ask(scope, id, M_ASA, name);
	cxm_result res = ask(scope, id, M_RESOLVED, name);
	cxm_result ab = ask(scope, id, M_ABANDONED, name);
	say("  ");
	put(name, 16);
	say(" ");
	put_q(&aht);
	put_q(&asa);
	put_ci(&res, 1, 20);
	put_ci(&ab, 1, 20);
	say("\n");
}

static int64_t fixed_now(void *opaque)
{
	return atomic_load((const _Atomic int64_t *)opaque);
}

static const char *utc(char *buf, size_t n, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* Each journey's funnel over the day: drop-off, time to the next step and
 * to the goal, abandonment (after a sweep at the day's end) and repeats. */
static void funnels(void)
{
	uint64_t closed = 0;
	CHECK(cxm_journey_sweep(&closed, ctx, DAY0 + DAY_MS - 1));
	say("\nFUNNELS (instances begun on the first step; abandoned: no progress for 24 h, %llu "
	    "ended by the sweep at the day's end)\n",
	    (unsigned long long)closed);
	for (int j = 0; j < N_JOURNEYS; j++) {
		cxm_funnel_query q = CXM_FUNNEL_QUERY_INIT;
		q.journey = journey_id[j];
		q.end_ms = DAY0 + DAY_MS - 1;
		q.span_ms = DAY_MS;
		cxm_funnel f = {.size = sizeof f};
		cxm_funnel_step st[8] = {{.size = sizeof st[0]}};
		CHECK(cxm_funnel_run(&f, st, 8, ctx, &q));
		say("  %s: %llu entered, %.1f %% reached the goal, time to goal p50 %.0f s / p90 %.0f s; "
		    "abandoned %llu, ended by another journey %llu, repeat contacts %.1f %%\n",
		    JOURNEYS[j], (unsigned long long)f.entered, 100 * f.conversion, f.goal_p50,
		    f.goal_p90, (unsigned long long)f.abandoned, (unsigned long long)f.displaced,
		    100 * f.repeat_rate);
		for (uint32_t k = 0; k < f.n_steps; k++) {
			const char *name;
			CHECK(cxm_step_name(&name, ctx, journey_id[j], k));
			say("    %-14s %8llu reached  %5.1f %%  drop-off %5.1f %%", name,
			    (unsigned long long)st[k].reached, 100 * st[k].conversion,
			    100 * st[k].drop_off);
			if (st[k].next_n)
				say("  to next p50 %.0f s / p90 %.0f s", st[k].next_p50, st[k].next_p90);
			say("\n");
			/* one day of data, instances begun in it: the funnel narrows */
			if (k && st[k].reached > st[k - 1].reached)
				problem("funnel '%s': step %u reached by more than step %u", JOURNEYS[j], k,
					k - 1);
		}
	}
}

static void dashboard(int customers)
{
	char t0[40], t1[40], t2[40];
	cxm_result span = ask(CXM_SCOPE_ALL, 0, M_VOLUME, "volume");
	say("Last 24 h as of %s: the window [%s, %s).\n"
	    "[a, b] is the 95%% confidence interval, n the responses or observations behind the value;\n"
	    "~ marks n < 30 (too few to trust), – no data.\n\n",
	    utc(t0, sizeof t0, DAY0 + DAY_MS - 1), utc(t1, sizeof t1, span.start_ms),
	    utc(t2, sizeof t2, span.end_ms));
	if (span.start_ms != DAY0 || span.end_ms != DAY0 + DAY_MS)
		problem("the window is not the day");

	put("SURVEY SCORES", 28);
	put("NPS −100..100", 29);
	put("CSAT % top-2 of 5", 27);
	say("CES mean 1..7\n  ");
	put("touchpoint", 16);
	put("volume", -7);
	say("   ");
	for (int i = 0; i < 3; i++) {
		put("value [95% CI]", i ? 18 : 20);
		put("n", -6);
		say("   ");
	}
	say("\n");
	uint64_t tp_sum = 0, j_sum = 0, standalone = 0;
	for (int i = 0; i < N_TP; i++) {
		uint64_t v = score_row(TPS[i].name, CXM_SCOPE_TOUCHPOINT, tp_id[i]);
		tp_sum += v;
		if (TPS[i].journey < 0)
			standalone += v;
	}
	say("  %-16s\n", "journey");
	for (int j = 0; j < N_JOURNEYS; j++)
		j_sum += score_row(JOURNEYS[j], CXM_SCOPE_JOURNEY, journey_id[j]);
	uint64_t all = score_row("overall", CXM_SCOPE_ALL, 0);
	if (tp_sum != all || j_sum + standalone != all)
		problem("volumes do not add up: touchpoints %llu, journeys %llu + standalone %llu, overall %llu",
			(unsigned long long)tp_sum, (unsigned long long)j_sum,
			(unsigned long long)standalone, (unsigned long long)all);

	say("\n");
	put("OPERATIONS", 19);
	put("AHT s p50 / p90", 20);
	put("ASA s p50 / p90", 20);
	put("resolved %", 29);
	say("abandoned %%\n");
	for (int i = 0; i < N_TP; i++)
		ops_row(TPS[i].name, CXM_SCOPE_TOUCHPOINT, tp_id[i]);
	say("  %-16s\n", "journey");
	for (int j = 0; j < N_JOURNEYS; j++)
		ops_row(JOURNEYS[j], CXM_SCOPE_JOURNEY, journey_id[j]);
	ops_row("overall", CXM_SCOPE_ALL, 0);

	/* one segment breakdown, with a significance test */
	say("\n");
	put("BY TIER (all touchpoints)", 28);
	put("NPS", 33);
	say("CX index (3 questions) −100..100\n");
	cxm_result nps_all = ask(CXM_SCOPE_ALL, 0, M_NPS, "overall NPS");
	uint64_t tier_n = 0;
	for (uint32_t t = 0; t < 4; t++) {
		cxm_query qn = query(CXM_SCOPE_ALL, 0, 0, M_NPS, seg_tier, t);
		cxm_query qx = query(CXM_SCOPE_ALL, 0, 0, M_CXI, seg_tier, t);
		cxm_result n = run(&qn, TIERS[t], M_NPS), x = run(&qx, TIERS[t], M_CXI);
		tier_n += n.n;
		say("  %-24s  ", TIERS[t]);
		put_ci(&n, 1, 20);
		say("    ");
		put_ci(&x, 1, 20);
		say("\n");
	}
	if (tier_n != nps_all.n)
		problem("NPS responses by tier add up to %llu, overall has %llu",
			(unsigned long long)tier_n, (unsigned long long)nps_all.n);
	cxm_query a = query(CXM_SCOPE_ALL, 0, 0, M_NPS, seg_tier, 0);
	cxm_query b = query(CXM_SCOPE_ALL, 0, 0, M_NPS, seg_tier, 3);
	cxm_comparison cmp = {.size = sizeof cmp};
	CHECK(cxm_query_compare(&cmp, ctx, &a, &b));
	if (!isnan(cmp.difference) && !(cmp.ci_low <= cmp.difference && cmp.difference <= cmp.ci_high))
		problem("comparison: difference %g outside [%g, %g]", cmp.difference, cmp.ci_low,
			cmp.ci_high);
	if (isnan(cmp.difference))
		say("  platinum − bronze: not comparable (a side has no responses)\n");
	else
		say("  platinum − bronze: %+.1f points [%.1f, %.1f], p = %.2g\n", cmp.difference,
		    cmp.ci_low, cmp.ci_high, cmp.p_value);

	/* against the benchmarks the contract states: named baselines */
	say("\n");
	put("VS THE BENCHMARK", 28);
	say("benchmark   today   difference [95%% CI]   p\n");
	const struct {
		const char *name;
		int metric;
		double target;
	} bench[] = {{"NPS benchmark", M_NPS, 30}, {"AHT target (s)", M_AHT, 120}};
	for (size_t i = 0; i < sizeof bench / sizeof bench[0]; i++) {
		cxm_baseline_def bd = {.size = sizeof bd, .kind = CXM_BASELINE_TARGET,
				       .metric = metric_id[bench[i].metric], .target = bench[i].target};
		cxm_id bid;
		CHECK(cxm_baseline_define(&bid, ctx, bench[i].name, &bd));
		cxm_query qb = query(CXM_SCOPE_ALL, 0, 0, bench[i].metric, CXM_NONE, 0);
		cxm_comparison vs = {.size = sizeof vs};
		CHECK(cxm_query_baseline(&vs, ctx, &qb, bid));
		if (vs.a != bench[i].target || !(vs.ci_low <= vs.difference && vs.difference <= vs.ci_high))
			problem("%s: baseline %g, difference %g outside [%g, %g]", bench[i].name, vs.a,
				vs.difference, vs.ci_low, vs.ci_high);
		say("  %-24s  %9.1f %7.1f   %+7.1f [%.1f, %.1f]   %.2g\n", bench[i].name, vs.a, vs.b,
		    vs.difference, vs.ci_low, vs.ci_high, vs.p_value);
	}

	/* against the same day a week earlier: an OFFSET baseline */
	say("\n");
	put("VS LAST WEEK (all touchpoints)", 32);
	say("last week    today   difference [95%% CI]      p\n");
	cxm_baseline_def wk = {.size = sizeof wk, .kind = CXM_BASELINE_OFFSET, .offset_ms = 7 * DAY_MS};
	cxm_id wk_id;
	CHECK(cxm_baseline_define(&wk_id, ctx, "last week", &wk));
	const struct {
		const char *label;
		int metric;
	} weekly[] = {{"NPS", M_NPS},           {"CSAT % top-2", M_CSAT}, {"CES mean", M_CES},
		      {"AHT mean s", M_AHT},    {"resolved %", M_RESOLVED},
		      {"abandoned %", M_ABANDONED}};
	for (size_t i = 0; i < sizeof weekly / sizeof weekly[0]; i++) {
		cxm_query qw = query(CXM_SCOPE_ALL, 0, 0, weekly[i].metric, CXM_NONE, 0);
		cxm_comparison vs = {.size = sizeof vs};
		CHECK(cxm_query_baseline(&vs, ctx, &qw, wk_id));
		if (!vs.n_a || !vs.n_b)
			problem("vs last week, %s: n %llu last week, %llu today", weekly[i].label,
				(unsigned long long)vs.n_a, (unsigned long long)vs.n_b);
		say("  %-28s %9.1f %8.1f   %+7.1f [%+.1f, %+.1f]   %.2g\n", weekly[i].label, vs.a, vs.b,
		    vs.difference, vs.ci_low, vs.ci_high, vs.p_value);
		/* last week's surveys were given a worse mood: NPS must not be
		 * significantly down, and with the default day's answers
		 * (about 17 000) must be significantly up */
		if (weekly[i].metric == M_NPS &&
		    ((vs.difference <= 0 && vs.p_value < 0.05) ||
		     (customers >= 50000 && !(vs.difference > 0 && vs.p_value < 0.05))))
			problem("vs last week: NPS %+.1f, p %g; the simulation made it better", vs.difference,
				vs.p_value);
	}

	/* key drivers of the NPS answer */
	say("\n");
	put("KEY DRIVERS OF THE NPS ANSWER", 36);
	say("   n   r [95%% CI]          p      resolved  NPS if not / if so   quadrant\n");
	static const char *const quad[] = {"-", "strength", "priority", "maintain", "low"};
	cxm_drivers_result dr = {.size = sizeof dr};
	cxm_driver drv[6] = {{.size = sizeof drv[0]}};
	CHECK(cxm_drivers_run(&dr, drv, 6, ctx, drivers_set));
	for (uint32_t i = 0; i < dr.n_drivers; i++) {
		const cxm_driver *o = &drv[i];
		char name[48] = "resolved, wherever last";
		for (int t = 0; t < N_TP; t++)
			if (o->touchpoint == tp_id[t])
				snprintf(name, sizeof name, "resolved at %s", TPS[t].name);
		say("  %-36s", name);
		if (o->n < 3 || isnan(o->importance)) {
			say("%6llu   (too few pairs, or no variance)\n", (unsigned long long)o->n);
			continue;
		}
		say("%6llu %+.2f [%+.2f, %+.2f] %8.2g %6.0f %%   %5.1f / %4.1f   %s%s\n",
		    (unsigned long long)o->n, o->importance, o->ci_low, o->ci_high, o->p_value,
		    100 * o->performance, o->bands[0].mean, o->bands[2].mean, quad[o->quadrant],
		    o->significant ? "" : " (not significant)");
	}
	/* resolved cases are happier by construction: the overall driver must
	 * say so, and its bands must be the pairs */
	const cxm_driver *ov = &drv[dr.n_drivers - 1];
	if (dr.paired == 0 || !(ov->importance > 0) || !ov->significant ||
	    !(ov->band_difference > 0) || ov->bands[0].n + ov->bands[2].n != ov->n)
		problem("key drivers: overall r %g (p %g), band difference %g, %llu pairs", ov->importance,
			ov->p_value, ov->band_difference, (unsigned long long)ov->n);
	else
		say("  an unresolved case costs %.1f points of the 0-10 answer [%.1f, %.1f]; "
		    "%llu of %llu answers paired\n",
		    ov->band_difference, ov->band_ci_low, ov->band_ci_high,
		    (unsigned long long)dr.paired, (unsigned long long)dr.outcomes);

	/* a few more lines a supervisor asks for */
	char x1[64], x2[64];
	cxm_result rev = ask(CXM_SCOPE_JOURNEY, journey_id[J_BUY], M_REVENUE, "revenue");
	cxm_result conv = ask(CXM_SCOPE_TOUCHPOINT, tp_id[TP_CART], M_CONVERTED, "cart conversion");
	say("\nbuy journey: revenue %.2f from %llu orders (mean %.2f); cart conversion %% %s n=%llu\n",
	    rev.sum, (unsigned long long)rev.n, rev.mean, fmt_ci(x1, sizeof x1, &conv, 1),
	    (unsigned long long)conv.n);
	cxm_query qe = query(CXM_SCOPE_CHANNEL, CXM_CHANNEL_EMAIL, 0, M_ANSWERED, CXM_NONE, 0);
	cxm_query qs = query(CXM_SCOPE_CHANNEL, CXM_CHANNEL_SMS, 0, M_ANSWERED, CXM_NONE, 0);
	cxm_result re = run(&qe, "email answered", M_ANSWERED), rs = run(&qs, "sms answered", M_ANSWERED);
	say("survey response rate %%: email %s n=%llu, sms %s n=%llu\n", fmt_ci(x1, sizeof x1, &re, 1),
	    (unsigned long long)re.n, fmt_ci(x2, sizeof x2, &rs, 1), (unsigned long long)rs.n);
	cxm_query qa = query(CXM_SCOPE_STEP, journey_id[J_SUPPORT], 2, M_ASA, CXM_NONE, 0);
	cxm_result asa = run(&qa, "resolution step ASA", M_ASA);
	say("support 'resolution' step: speed of answer mean %.0f s [%.0f, %.0f], p99 %.0f s, n=%llu\n",
	    asa.mean, asa.ci_low, asa.ci_high, asa.p99, (unsigned long long)asa.n);
	say("distinct customers:");
	for (int j = 0; j < N_JOURNEYS; j++) {
		cxm_result u = ask(CXM_SCOPE_JOURNEY, journey_id[j], M_CUSTOMERS, JOURNEYS[j]);
		say(" %s %.0f,", JOURNEYS[j], u.value);
	}
	cxm_result u = ask(CXM_SCOPE_ALL, 0, M_CUSTOMERS, "customers");
	say(" overall %.0f [%.0f, %.0f] (of %d simulated; HyperLogLog)\n", u.value, u.ci_low,
	    u.ci_high, customers);
	funnels();
}

/* Bad input is refused with a reason and counted, never dropped silently,
 * and leaves the aggregates as they were. Returns how many were accepted. */
/* The signals' events, after the day's sweep: each must be what the
 * simulation says. */
static void signals(void)
{
	cxm_event ev[1024];
	size_t n, got[2] = {0, 0};
	ev[0].size = sizeof ev[0];
	do {
		CHECK(cxm_events_poll(ev, 1024, &n, ctx));
		for (size_t i = 0; i < n; i++) {
			if (ev[i].kind != CXM_EVENT_SIGNAL ||
			    (ev[i].rule != sig_unresolved && ev[i].rule != sig_stuck))
				problem("an event of kind %d, rule %u", ev[i].kind, ev[i].rule);
			else
				got[ev[i].rule == sig_stuck]++;
		}
	} while (n);
	say("\nSIGNALS (one event per customer and case, for the follow-up team)\n"
	    "  not resolved by the agent or the callback %8zu\n"
	    "  left in a queue 30 min+, nothing since    %8zu\n",
	    got[0], got[1]);
	cxm_stats s = {.size = sizeof s};
	CHECK(cxm_stats_get(&s, ctx));
	if (got[0] != (size_t)atomic_load(&want_unresolved) || got[1] != (size_t)atomic_load(&want_stuck) ||
	    s.events_dropped || s.signals_unjudged)
		problem("signals: %zu unresolved and %zu stuck, expected %ld and %ld (%llu dropped, %llu "
			"unjudged)",
			got[0], got[1], atomic_load(&want_unresolved), atomic_load(&want_stuck),
			(unsigned long long)s.events_dropped, (unsigned long long)s.signals_unjudged);
}

static size_t bad_input(void)
{
	struct {
		const char *what;
		int tp, metric;
		double v;
		int64_t t;
		cxm_status expect;
	} bads[] = {
		{"NPS answer 11", TP_A_BILLING, M_NPS, 11, DAY0 + DAY_MS - 1000, CXM_ERR_OUT_OF_RANGE},
		{"NaN handle time", TP_A_TECH, M_AHT, NAN, DAY0 + DAY_MS - 1000, CXM_ERR_NOT_FINITE},
		{"unknown touchpoint", -1, M_NPS, 9, DAY0 + DAY_MS - 1000, CXM_ERR_UNKNOWN_ID},
		{"a call 3 days ago", TP_IVR, M_AHT, 60, DAY0 - 2 * DAY_MS, CXM_ERR_TOO_LATE},
		{"a call 1 h ahead", TP_IVR, M_AHT, 60, DAY0 + DAY_MS + HOUR_MS, CXM_ERR_TOO_EARLY},
		{"a good NPS 9", TP_A_BILLING, M_NPS, 9, DAY0 + DAY_MS - 1000, CXM_OK},
	};
	enum { NB = sizeof bads / sizeof bads[0] };
	cxm_measure m[NB];
	cxm_interaction ix[NB];
	uint32_t segs[2] = {2, 1};
	for (size_t i = 0; i < NB; i++) {
		m[i] = (cxm_measure){metric_id[bads[i].metric], 0, bads[i].v};
		CHECK(cxm_interaction_init(&ix[i], sizeof ix[i]));
		ix[i].time_ms = bads[i].t;
		ix[i].touchpoint = bads[i].tp < 0 ? 9999 : tp_id[bads[i].tp];
		ix[i].segments = segs;
		ix[i].n_segments = 2;
		ix[i].measures = &m[i];
		ix[i].n_measures = 1;
	}
	cxm_result before = ask(CXM_SCOPE_ALL, 0, M_VOLUME, "volume");
	cxm_result nps_before = ask(CXM_SCOPE_TOUCHPOINT, tp_id[TP_A_BILLING], M_NPS, "nps");

	say("\nBAD INPUT, one call each: refused with its own code, counted, nothing changed\n");
	for (size_t i = 0; i < NB - 1; i++) {
		cxm_status st = cxm_feed(ctx, &ix[i]);
		if (st != bads[i].expect)
			problem("%s: got %s, expected %s", bads[i].what, cxm_strerror(st),
				cxm_strerror(bads[i].expect));
		say("  %-20s -> %-13s %s\n", bads[i].what, cxm_strerror(st), cxm_errmsg(ctx));
	}
	cxm_result after = ask(CXM_SCOPE_ALL, 0, M_VOLUME, "volume");
	cxm_result nps_after = ask(CXM_SCOPE_TOUCHPOINT, tp_id[TP_A_BILLING], M_NPS, "nps");
	if (after.n != before.n || nps_after.n != nps_before.n || nps_after.top != nps_before.top)
		problem("rejected interactions changed the aggregates");

	/* the same, with one good interaction, as one batch */
	size_t acc = 0, nrej = 0;
	cxm_rejection rej[NB];
	cxm_status st = cxm_feed_batch(&acc, ctx, ix, NB, rej, NB, &nrej);
	say("  the same five and a good one in one batch -> %s: %zu accepted, %zu rejected:",
	    cxm_strerror(st), acc, nrej);
	if (st != CXM_ERR_REJECTED || acc != 1 || nrej != NB - 1)
		problem("batch of bad input: %s, %zu accepted, %zu rejected", cxm_strerror(st), acc, nrej);
	for (size_t i = 0; i < nrej && i < NB; i++) {
		say(" #%zu %s%s", rej[i].index, cxm_strerror(rej[i].status), i + 1 < nrej ? "," : "\n");
		if (rej[i].index >= NB || rej[i].status != bads[rej[i].index].expect)
			problem("batch rejection #%zu: %s", rej[i].index, cxm_strerror(rej[i].status));
	}
	after = ask(CXM_SCOPE_ALL, 0, M_VOLUME, "volume");
	nps_after = ask(CXM_SCOPE_TOUCHPOINT, tp_id[TP_A_BILLING], M_NPS, "nps");
	if (after.n != before.n + 1 || nps_after.n != nps_before.n + 1 ||
	    nps_after.top != nps_before.top + 1)
		problem("the good interaction of the batch was not counted exactly once");
	return acc;
}

int main(int argc, char **argv)
{
	uint64_t seed = 20261124;
	int customers = 120000, threads = 4;
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
			fprintf(stderr, "usage: %s [--seed N] [--customers N] [--threads N] [--quiet]\n",
				argv[0]);
			return 2;
		}
	}
	if (customers < 1 || customers > 10000000 || threads < 1 || threads > 64) {
		fprintf(stderr, "contact_center: --customers 1..10000000, --threads 1..64\n");
		return 2;
	}

	/* The supervisor looks at the last instant of the day (the window of
	 * 24 h that contains it is the day); the clock is injected so the run
	 * does not depend on today's date. */
	static _Atomic int64_t now = DAY0 + DAY_MS - 1;
	cxm_config cfg;
	CHECK(cxm_config_init(&cfg, sizeof cfg));
	/* Minute buckets for two days, so a thread that is preempted while the
	 * others run ahead through the day never falls behind the finest tier's
	 * reach; then hours for 8 days and days for 400. */
	cfg.n_tiers = 3;
	cfg.tiers[0] = (cxm_tier){60000, 2880, 0};
	cfg.tiers[1] = (cxm_tier){3600000, 192, 0};
	cfg.tiers[2] = (cxm_tier){86400000, 400, 0};
	cfg.clock = fixed_now;
	cfg.clock_opaque = (void *)&now;
	/* A fixed key for the customer-id hash, so the distinct-customer
	 * estimates are the same on every run (the default is a random key). */
	memcpy(cfg.customer_key, "cx demo key 2026", 16);
	cfg.event_queue = 1 << 17; /* the day's signals, polled at its end */
	CHECK(cxm_context_new(&ctx, &cfg));
	define_model();
	size_t lw = last_week(seed, customers);

	worker w[64];
	for (int i = 0; i < threads; i++) {
		w[i] = (worker){.index = i, .threads = threads, .customers = customers, .seed = seed};
		if (pthread_create(&w[i].thread, NULL, feeder, &w[i])) {
			perror("pthread_create");
			return 1;
		}
	}
	size_t fed = 0, accepted = 0, by_batch = 0, one_by_one = 0;
	for (int i = 0; i < threads; i++) {
		if (pthread_join(w[i].thread, NULL)) {
			perror("pthread_join");
			return 1;
		}
		fed += w[i].fed;
		accepted += w[i].accepted;
		by_batch += w[i].by_batch;
		one_by_one += w[i].one_by_one;
	}
	cxm_result all = ask(CXM_SCOPE_ALL, 0, M_VOLUME, "volume");
	if (accepted != fed || all.n != fed)
		problem("fed %zu, accepted %zu, overall volume %llu", fed, accepted,
			(unsigned long long)all.n);

	printf("libcxm %s — a simulated contact-center day\n"
	       "seed %llu, %d customers, %zu interactions fed by %d threads (%zu in batches, %zu one by one);\n"
	       "before them the same day a week earlier, %zu interactions without customer ids\n\n",
	       cxm_libversion(), (unsigned long long)seed, customers, fed, threads, by_batch, one_by_one,
	       lw);
	accepted += lw;
	dashboard(customers);
	signals();
	accepted += bad_input();

	cxm_stats s = {.size = sizeof s};
	CHECK(cxm_stats_get(&s, ctx));
	printf("\nstats: %llu accepted, %llu rejected (", (unsigned long long)s.accepted,
	       (unsigned long long)s.rejected_total);
	const char *sep = "";
	for (int c = 0; c < CXM_STATUS_COUNT; c++)
		if (s.rejected[c]) {
			printf("%s%s %llu", sep, cxm_strerror(c), (unsigned long long)s.rejected[c]);
			sep = ", ";
		}
	char wm[40];
	printf(")\n       %llu series (%.1f MiB), %llu customers tracked (%.1f MiB), %.1f MiB allocated, "
	       "watermark %s\n",
	       (unsigned long long)s.series, s.series_bytes / 1048576.0,
	       (unsigned long long)s.customers, s.customer_bytes / 1048576.0,
	       s.memory_bytes / 1048576.0, utc(wm, sizeof wm, s.watermark_ms));
	if (s.accepted != accepted || s.rejected_total != 10)
		problem("stats say %llu accepted and %llu rejected; expected %zu and 10",
			(unsigned long long)s.accepted, (unsigned long long)s.rejected_total, accepted);
	cxm_context_free(ctx);

	int p = atomic_load(&problems);
	if (p)
		fprintf(stderr, "contact_center: %d check(s) failed\n", p);
	else
		printf("all checks passed\n");
	return p ? 1 : 0;
}
