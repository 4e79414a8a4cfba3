/* What key-driver sets add to an interaction, measured against the same
 * feed without them in the same run, and what an analysis costs.
 *
 *   drivers_bench [--interactions N] [--customers C] [--rounds R] [--only MODE]
 *
 * Interactions of one customer each (C distinct ids, 100 000 by default,
 * in turn), a CSAT answer, a handle time and a resolution, on one of 8
 * touchpoints, fed N times in batches of 1000 into the current minute, so
 * that what the sets add is not lost in the noise of rolling buckets.
 * Four contexts, fed in turn, R rounds, best round each:
 *   none     no driver set
 *   idle     a set whose metrics these interactions do not carry (NPS
 *            driving revenue)
 *   driver   a set whose driver is the CSAT at the 8 touchpoints: every
 *            interaction sets its customer's value
 *   nps      no set; every interaction also carries an NPS answer
 *   outcome  the driver set, and every interaction also carries the
 *            outcome (the NPS answer), pairing it with the customer's values
 * Budget: driver tracking adds <= 30 ns an interaction ("driver" -
 * "none"; "outcome" - "nps", a value set and an outcome paired, is
 * reported too).
 *
 * Then a set of 100 touchpoints and the overall driver (101 drivers) over
 * 200 000 customers with values and outcomes: cxm_drivers_run(), best of
 * R rounds of 20. Budget: <= 10 ms. And the bytes a set holds per
 * remembered customer.
 *
 * --only MODE feeds that context alone, once, and stops: for callgrind
 * (bench/callgrind.sh counts instructions; wall-clock figures on a shared
 * machine move by tens of ns between runs). */
#include "benchutil.h"

#include <cxm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 1000
#define N_TP 8

enum { NONE, IDLE, DRIVER, NPS, OUTCOME, MODES };
static const char *const mode_name[MODES] = {"none", "idle", "driver", "nps", "outcome"};

static int64_t fixed_clock(void *opaque)
{
	return *(const int64_t *)opaque;
}

static const int64_t T = INT64_C(1795392000000) + 30 * 60000;

typedef struct setup {
	cxm_context *ctx;
	cxm_id tp[100], csat, nps, aht, fcr, revenue;
	counter cnt;
} setup;

static void make(setup *s, int mode, int n_tp)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	cfg.clock = fixed_clock;
	cfg.clock_opaque = (void *)&T;
	cfg.allocator = counting_allocator(&s->cnt);
	CHECK(NULL, cxm_context_new(&s->ctx, &cfg));
	cxm_metric_def d = {.size = sizeof d};
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_CSAT5));
	CHECK(s->ctx, cxm_metric_define(&s->csat, s->ctx, "csat", &d));
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_NPS));
	CHECK(s->ctx, cxm_metric_define(&s->nps, s->ctx, "nps", &d));
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_DURATION));
	CHECK(s->ctx, cxm_metric_define(&s->aht, s->ctx, "aht", &d));
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_RATE));
	CHECK(s->ctx, cxm_metric_define(&s->fcr, s->ctx, "fcr", &d));
	CHECK(s->ctx, cxm_metric_preset(&d, CXM_PRESET_AMOUNT));
	CHECK(s->ctx, cxm_metric_define(&s->revenue, s->ctx, "revenue", &d));
	char name[16];
	for (int i = 0; i < n_tp; i++) {
		snprintf(name, sizeof name, "tp%d", i);
		CHECK(s->ctx, cxm_touchpoint_define(&s->tp[i], s->ctx, name, CXM_CHANNEL_PHONE, CXM_NONE, 0));
	}
	if (mode == NONE || mode == NPS)
		return;
	cxm_drivers_def dd;
	CHECK(s->ctx, cxm_drivers_def_init(&dd, sizeof dd));
	dd.outcome = mode == IDLE ? s->revenue : s->nps;
	dd.driver = mode == IDLE ? s->nps : s->csat;
	dd.touchpoints = s->tp;
	dd.n_touchpoints = (uint32_t)n_tp;
	dd.flags = n_tp > N_TP ? CXM_DRIVERS_OVERALL : 0;
	cxm_id id;
	CHECK(s->ctx, cxm_drivers_define(&id, s->ctx, "bench", &dd));
}

typedef struct batch {
	cxm_interaction ix[BATCH];
	cxm_measure m[BATCH][4];
} batch;

/* Interactions i0 … i0 + BATCH - 1: customer i % customers, on another
 * touchpoint each time it comes back, a CSAT of 1 + i % 5, with the NPS
 * when `outcome`. */
static void fill(batch *b, size_t i0, size_t customers, int n_tp, const setup *s, bool outcome,
		 char (*ids)[24])
{
	for (size_t k = 0; k < BATCH; k++) {
		size_t i = i0 + k;
		cxm_interaction *ix = &b->ix[k];
		*ix = (cxm_interaction)CXM_INTERACTION_INIT;
		ix->time_ms = T - 1000;
		ix->touchpoint = s->tp[(i + i / customers * 7) % (size_t)n_tp];
		b->m[k][0] = (cxm_measure){s->csat, 0, (double)(1 + i % 5)};
		b->m[k][1] = (cxm_measure){s->aht, 0, 120 + (double)(i % 600)};
		b->m[k][2] = (cxm_measure){s->fcr, 0, (double)(i % 3 != 0)};
		b->m[k][3] = (cxm_measure){s->nps, 0, (double)((i * 7) % 11)};
		ix->measures = b->m[k];
		ix->n_measures = outcome ? 4 : 3;
		ix->customer = ids[i % customers];
		ix->customer_len = strlen(ids[i % customers]);
	}
}

static double feed(setup *s, size_t n, size_t customers, int n_tp, bool outcome, char (*ids)[24],
		   batch *b)
{
	double dt = 0;
	for (size_t done = 0; done < n; done += BATCH) {
		fill(b, done, customers, n_tp, s, outcome, ids);
		size_t acc = 0;
		double t0 = now_s();
		CHECK(s->ctx, cxm_feed_batch(&acc, s->ctx, b->ix, BATCH, NULL, 0, NULL));
		dt += now_s() - t0;
		if (acc != BATCH)
			bench_die("accepted", s->ctx, CXM_ERR_INVALID);
	}
	return dt;
}

int main(int argc, char **argv)
{
	size_t n = 1000000, customers = 100000;
	int rounds = 5, only = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interactions") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--customers") && i + 1 < argc)
			customers = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			const char *m = argv[++i];
			for (int k = 0; k < MODES; k++)
				if (!strcmp(m, mode_name[k]))
					only = k;
			if (only < 0) {
				fprintf(stderr, "%s: --only none|idle|driver|nps|outcome\n", argv[0]);
				return 2;
			}
		}
		else {
			fprintf(stderr, "usage: %s [--interactions N] [--customers C] [--rounds R]\n", argv[0]);
			return 2;
		}
	}
	n = (n + BATCH - 1) / BATCH * BATCH;
	if (!customers || rounds < 1)
		return 2;
	char(*ids)[24] = malloc((customers > 200000 ? customers : 200000) * sizeof *ids);
	batch *b = malloc(sizeof *b);
	if (!ids || !b)
		bench_die("malloc", NULL, CXM_ERR_NO_MEMORY);
	for (size_t i = 0; i < (customers > 200000 ? customers : 200000); i++)
		snprintf(ids[i], sizeof ids[i], "c%09zu", i);

	if (only >= 0) {
		setup o;
		memset(&o, 0, sizeof o);
		make(&o, only, N_TP);
		feed(&o, n, customers, N_TP, only == OUTCOME || only == NPS, ids, b);
		printf("%s: %zu interactions fed\n", mode_name[only], n);
		cxm_context_free(o.ctx);
		free(b);
		free(ids);
		return 0;
	}
	printf("1. driver tracking: %zu interactions of %zu customers on %d touchpoints, batches of %d,\n"
	       "   best of %d rounds per context (fed in turn)\n",
	       n, customers, N_TP, BATCH, rounds);
	double best[MODES];
	setup s[MODES];
	for (int m = 0; m < MODES; m++) {
		memset(&s[m], 0, sizeof s[m]);
		make(&s[m], m, N_TP);
		best[m] = 1e30;
	}
	for (int r = 0; r < rounds; r++)
		for (int m = 0; m < MODES; m++) {
			double dt = feed(&s[m], n, customers, N_TP, m == OUTCOME || m == NPS, ids, b);
			best[m] = dt < best[m] ? dt : best[m];
		}
	for (int m = 0; m < MODES; m++)
		printf("  %-8s %8.1f ns an interaction\n", mode_name[m], best[m] / (double)n * 1e9);
	cxm_drivers_result res = {.size = sizeof res};
	cxm_status st = cxm_drivers_run(&res, NULL, 0, s[OUTCOME].ctx, 0);
	if (st != CXM_ERR_LIMIT)
		bench_die("cxm_drivers_run", s[OUTCOME].ctx, st);
	printf("  outcome set: %llu outcomes, %llu paired, %llu customers remembered, %llu unremembered\n",
	       (unsigned long long)res.outcomes, (unsigned long long)res.paired,
	       (unsigned long long)res.customers, (unsigned long long)res.unremembered);
	double idle = (best[IDLE] - best[NONE]) / (double)n * 1e9;
	double drv = (best[DRIVER] - best[NONE]) / (double)n * 1e9;
	double out = (best[OUTCOME] - best[NPS]) / (double)n * 1e9;
	info("a set whose metrics the interaction does not carry", idle, "ns", "(idle - none)");
	line("driver tracking: a value set, added per interaction", drv, "ns", 30, true, "(driver - none)");
	info("a value set and an outcome paired with up to 6 values", out, "ns", "(outcome - nps)");
	printf("  per remembered customer: %.1f bytes (the set's records and tables, %llu customers)\n",
	       (double)(res.memory_bytes) / (double)(res.customers ? res.customers : 1),
	       (unsigned long long)res.customers);
	for (int m = 0; m < MODES; m++)
		cxm_context_free(s[m].ctx);

	printf("\n2. analysis: 100 touchpoints and the overall driver, 200000 customers, every one with\n"
	       "   values at 5 touchpoints and an outcome\n");
	setup a;
	memset(&a, 0, sizeof a);
	make(&a, DRIVER, 100);
	feed(&a, 1000000, 200000, 100, false, ids, b);
	feed(&a, 200000, 200000, 100, true, ids, b);
	cxm_driver *o = malloc(sizeof *o * 101);
	if (!o)
		bench_die("malloc", NULL, CXM_ERR_NO_MEMORY);
	o[0].size = sizeof *o;
	double fastest = 1e30;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_s();
		for (int k = 0; k < 20; k++)
			CHECK(a.ctx, cxm_drivers_run(&res, o, 101, a.ctx, 0));
		double dt = (now_s() - t0) / 20;
		fastest = dt < fastest ? dt : fastest;
	}
	printf("  %u drivers, %llu pairs on the first, %llu customers remembered\n", res.n_drivers,
	       (unsigned long long)o[0].n, (unsigned long long)res.customers);
	line("driver analysis over 101 drivers", fastest * 1e3, "ms", 10, true, "(cxm_drivers_run)");
	printf("  per remembered customer: %.1f bytes\n",
	       (double)res.memory_bytes / (double)(res.customers ? res.customers : 1));
	cxm_context_free(a.ctx);
	free(o);
	free(b);
	free(ids);
	return bench_summary() ? 1 : 0;
}
