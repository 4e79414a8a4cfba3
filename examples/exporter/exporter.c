/* A simulated contact-center node that Prometheus scrapes.
 *
 *   exporter --seed N --port P [--interactions K] [--rate R]
 *       feed K interactions (default 5000) of the traffic of seed N, then
 *       serve GET /metrics on 127.0.0.1:P (OpenMetrics when the scraper
 *       asks for it, as Prometheus does, else the 0.0.4 text format); with
 *       --rate, keep feeding R more of that seed's interactions a second.
 *       Stops on SIGINT or SIGTERM.
 *   exporter --expect N1,N2,... [--interactions K]
 *       feed the traffic of every listed seed into ONE context and print
 *       what it reports, one "name value" line each: what PromQL must find
 *       across the nodes that serve those seeds.
 *
 * The HTTP side is Debian's libmicrohttpd. The exposition is built into a
 * buffer per scrape with cxm_export_text(), sized by the previous scrape. */
#include <cxm.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N_TP 5
static const char *const tp_names[N_TP] = {"ivr", "agent call", "chat", "email", "callback"};
static const cxm_channel tp_channels[N_TP] = {CXM_CHANNEL_PHONE, CXM_CHANNEL_PHONE, CXM_CHANNEL_CHAT,
					      CXM_CHANNEL_EMAIL, CXM_CHANNEL_PHONE};
static const char *const tiers[3] = {"gold", "silver", "bronze"};

typedef struct node {
	cxm_context *ctx;
	cxm_id tp[N_TP], nps, csat, aht, fcr, revenue, calls, tier;
	uint32_t tier_v[3];
} node;

static int check(cxm_status st, const cxm_context *ctx, const char *what)
{
	if (st) {
		fprintf(stderr, "exporter: %s: %s (%s)\n", what, cxm_strerror(st), cxm_errmsg(ctx));
		exit(1);
	}
	return 0;
}

static cxm_id metric(node *n, const char *name, cxm_preset p)
{
	cxm_metric_def d;
	cxm_metric_def_init(&d, sizeof d);
	cxm_metric_preset(&d, p);
	cxm_id id;
	check(cxm_metric_define(&id, n->ctx, name, &d), n->ctx, name);
	return id;
}

static void node_init(node *n)
{
	check(cxm_context_new(&n->ctx, NULL), NULL, "context");
	const char *steps[] = {"contact", "resolve", "follow up"};
	cxm_id j;
	check(cxm_journey_define(&j, n->ctx, "support", steps, 3), n->ctx, "journey");
	for (int i = 0; i < N_TP; i++)
		check(cxm_touchpoint_define(&n->tp[i], n->ctx, tp_names[i], tp_channels[i], j,
					    i < 3 ? 0 : i == 3 ? 1 : 2),
		      n->ctx, tp_names[i]);
	n->nps = metric(n, "nps", CXM_PRESET_NPS);
	n->csat = metric(n, "csat", CXM_PRESET_CSAT5);
	n->aht = metric(n, "handle time", CXM_PRESET_DURATION);
	n->fcr = metric(n, "fcr", CXM_PRESET_RATE);
	n->revenue = metric(n, "revenue", CXM_PRESET_AMOUNT);
	n->calls = metric(n, "calls", CXM_PRESET_VOLUME);
	check(cxm_segment_define(&n->tier, n->ctx, "tier", 3), n->ctx, "segment");
	for (int i = 0; i < 3; i++)
		check(cxm_segment_value(&n->tier_v[i], n->ctx, n->tier, tiers[i]), n->ctx, tiers[i]);
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* The traffic of one seed: a fixed sequence of interactions. */
typedef struct traffic {
	uint64_t x;
} traffic;

static uint32_t next(traffic *t)
{
	t->x = t->x * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(t->x >> 33);
}

static void feed_one(node *n, traffic *t, int64_t when)
{
	uint32_t r = next(t), r2 = next(t);
	uint32_t seg[1] = {n->tier_v[r % 3]};
	cxm_measure ms[5];
	size_t k = 0;
	/* handle times: mostly 1 to 10 minutes, a tail to an hour */
	double aht = r2 % 10 == 0 ? 600 + r2 % 3000 : 60 + (r2 >> 4) % 540;
	ms[k++] = (cxm_measure){n->aht, 0, aht + (r2 >> 20 & 3) * 0.25};
	ms[k++] = (cxm_measure){n->fcr, 0, (r >> 3) % 4 != 0};
	if ((r >> 5) % 3 == 0) {
		/* skewed towards promoters */
		static const int nps_pts[16] = {0, 2, 4, 5, 6, 6, 7, 7, 8, 8, 9, 9, 9, 10, 10, 10};
		ms[k++] = (cxm_measure){n->nps, 0, nps_pts[(r >> 8) % 16]};
	} else if ((r >> 5) % 3 == 1) {
		static const int csat_pts[8] = {1, 2, 3, 4, 4, 5, 5, 5};
		ms[k++] = (cxm_measure){n->csat, 0, csat_pts[(r >> 8) % 8]};
	}
	if ((r >> 16) % 8 == 0) /* an upsell, or a refund */
		ms[k++] = (cxm_measure){n->revenue, 0, (double)(r2 % 20000) / 100 - 40};
	cxm_interaction ix = CXM_INTERACTION_INIT;
	ix.time_ms = when;
	ix.touchpoint = n->tp[(r >> 12) % N_TP];
	ix.segments = seg;
	ix.n_segments = 1;
	ix.measures = ms;
	ix.n_measures = k;
	check(cxm_feed(n->ctx, &ix), n->ctx, "feed");
}

/* K interactions of seed s, spread over the last K * 10 ms. */
static void feed_seed(node *n, uint64_t seed, long count)
{
	traffic t = {seed * 0x9E3779B97F4A7C15u + 1};
	int64_t t0 = now_ms() - count * 10;
	for (long i = 0; i < count; i++)
		feed_one(n, &t, t0 + i * 10);
}

/* ---- --expect ---------------------------------------------------------------------- */

static cxm_result all(node *n, cxm_id m)
{
	cxm_query q = CXM_QUERY_INIT;
	q.metric = m;
	q.scope = CXM_SCOPE_ALL;
	q.span_ms = INT64_C(7) * 86400000;
	cxm_result r;
	memset(&r, 0, sizeof r);
	r.size = sizeof r;
	check(cxm_query_run(&r, n->ctx, &q), n->ctx, "query");
	return r;
}

static int expect(const char *seeds, long count)
{
	node n;
	node_init(&n);
	char *list = strdup(seeds), *save = NULL;
	for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save))
		feed_seed(&n, strtoull(s, NULL, 10), count);
	free(list);
	cxm_result nps = all(&n, n.nps), csat = all(&n, n.csat), aht = all(&n, n.aht),
		   fcr = all(&n, n.fcr), revenue = all(&n, n.revenue), calls = all(&n, n.calls);
	printf("nps %.17g\n", nps.value);
	printf("nps_responses %" PRIu64 "\n", nps.n);
	printf("csat_top2box %.17g\n", csat.value);
	printf("csat_responses %" PRIu64 "\n", csat.n);
	printf("fcr_share %.17g\n", fcr.value);
	printf("calls %" PRIu64 "\n", calls.n);
	printf("revenue_count %" PRIu64 "\n", revenue.n);
	printf("revenue_sum %.17g\n", revenue.sum);
	printf("aht_count %" PRIu64 "\n", aht.n);
	printf("aht_sum %.17g\n", aht.sum);
	printf("aht_p90 %.17g\n", aht.p90);
	cxm_context_free(n.ctx);
	return 0;
}

/* ---- serving ------------------------------------------------------------------------ */

typedef struct server {
	node n;
	size_t hint; /* bytes the last exposition took */
	bool said[2]; /* announced the first scrape in each format */
	pthread_mutex_t lock;
} server;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)upload_size;
	(void)con_cls;
	server *sv = cls;
	if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
		static const char nf[] = "not found: try /metrics\n";
		struct MHD_Response *r = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf,
									 MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
		MHD_destroy_response(r);
		return ret;
	}
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	cxm_export_options o = CXM_EXPORT_OPTIONS_INIT;
	o.format = accept && strstr(accept, "application/openmetrics-text") ? CXM_FORMAT_OPENMETRICS
									   : CXM_FORMAT_PROMETHEUS;
	pthread_mutex_lock(&sv->lock);
	size_t cap = sv->hint + sv->hint / 4 + 4096;
	if (!sv->said[o.format]) {
		sv->said[o.format] = true; /* the test reads which format Prometheus took */
		printf("exporter: first scrape in %s format\n",
		       o.format == CXM_FORMAT_OPENMETRICS ? "OpenMetrics" : "Prometheus 0.0.4");
		fflush(stdout);
	}
	pthread_mutex_unlock(&sv->lock);
	char *buf = NULL;
	size_t len = 0;
	cxm_status st;
	do {
		free(buf);
		buf = malloc(cap);
		if (!buf)
			return MHD_NO;
		st = cxm_export_text(&len, sv->n.ctx, &o, buf, cap);
		cap = len + len / 4 + 4096; /* it grew meanwhile: leave room */
	} while (st == CXM_ERR_LIMIT);
	if (st) {
		free(buf);
		return MHD_NO;
	}
	pthread_mutex_lock(&sv->lock);
	sv->hint = len;
	pthread_mutex_unlock(&sv->lock);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type",
				o.format == CXM_FORMAT_OPENMETRICS ? CXM_OPENMETRICS_CONTENT_TYPE
								   : CXM_PROMETHEUS_CONTENT_TYPE);
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int serve(uint64_t seed, int port, long count, long rate)
{
	static server sv;
	node_init(&sv.n);
	pthread_mutex_init(&sv.lock, NULL);
	traffic t = {seed * 0x9E3779B97F4A7C15u + 1};
	int64_t t0 = now_ms() - count * 10;
	for (long i = 0; i < count; i++)
		feed_one(&sv.n, &t, t0 + i * 10);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
						(uint16_t)port, NULL, NULL, answer, &sv,
						MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
						MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "exporter: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("exporter: seed %" PRIu64 ", %ld interactions, http://127.0.0.1:%d/metrics\n", seed,
	       count, port);
	fflush(stdout);
	while (!stop) {
		if (rate > 0) {
			for (long i = 0; i < rate / 10 + 1 && !stop; i++)
				feed_one(&sv.n, &t, now_ms());
		}
		usleep(100000);
	}
	MHD_stop_daemon(d);
	cxm_context_free(sv.n.ctx);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s --seed N --port P [--interactions K] [--rate R]\n"
		"       %s --expect N1,N2,... [--interactions K]\n",
		argv0, argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0;
	int port = 0, have_seed = 0;
	long count = 5000, rate = 0;
	const char *exp = NULL;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage(argv[0]);
		const char *a = argv[i], *v = argv[++i];
		char *end;
		errno = 0;
		long long n = strtoll(v, &end, 10);
		bool numeric = !errno && *end == '\0' && end != v && n >= 0;
		if (!strcmp(a, "--seed") && numeric)
			seed = (uint64_t)n, have_seed = 1;
		else if (!strcmp(a, "--port") && numeric && n > 0 && n < 65536)
			port = (int)n;
		else if (!strcmp(a, "--interactions") && numeric)
			count = (long)n;
		else if (!strcmp(a, "--rate") && numeric)
			rate = (long)n;
		else if (!strcmp(a, "--expect"))
			exp = v;
		else
			usage(argv[0]);
	}
	if (exp)
		return expect(exp, count);
	if (!have_seed || !port)
		usage(argv[0]);
	return serve(seed, port, count, rate);
}
