/* The reference workload, "a contact-center day", generated
 * from a seed: the model (5 journeys, 100 touchpoints, segments tier x4 and
 * region x8, metrics nps / csat / ces / aht / resolved / volume) and N
 * interactions over 24 h of event time. Same seed, same bytes. */
#ifndef CXM_BENCH_WORKLOAD_H
#define CXM_BENCH_WORKLOAD_H

#include <cxm.h>

#include <stdint.h>

#define WL_DAY INT64_C(86400000)
/* 2026-11-22T00:00:00Z: a day boundary, so windows of whole days and
 * hours start exactly where the data does. */
#define WL_DAY0 INT64_C(1795392000000)

enum { WL_JOURNEYS = 5, WL_TOUCHPOINTS = 100, WL_STANDALONE = 10, WL_TIERS = 4, WL_REGIONS = 8 };
enum { WL_NPS, WL_CSAT, WL_CES, WL_AHT, WL_RESOLVED, WL_VOLUME, WL_METRICS };
enum { WL_CUST_LEN_MAX = 15 };

extern const char *const wl_metric_name[WL_METRICS];

typedef struct workload {
	size_t n;                 /* interactions */
	uint32_t customers;       /* the population drawn from */
	uint64_t seed;
	cxm_interaction *ix;      /* n interactions, time order give or take 30 s */
	cxm_measure (*ms)[3];     /* their measures: aht, resolved, maybe one score */
	uint32_t (*segs)[2];      /* tier, region (of the customer) */
	char (*cust)[16];         /* "cust-0001234" */
	/* what was generated */
	size_t measures;          /* over all interactions, volume not counted */
	size_t surveys[3];        /* nps, csat, ces answers */
	uint32_t distinct;        /* distinct customers that occur */
} workload;

/* Ids every context made by wl_context() gets (definitions are dense from
 * 0 in order, so they are the same in every one). */
extern cxm_id wl_metric[WL_METRICS], wl_tp[WL_TOUCHPOINTS];

/* A context with the reference model, tracking up to max_customers
 * customers (0: the library's default). clock may be NULL (the real one).
 * Exits with a message on any failure. */
cxm_context *wl_context(cxm_clock_fn clock, void *clock_opaque, uint32_t max_customers);

/* The reference model with other sizes and limits: touchpoints go round the
 * journeys' steps as in the reference, the last tenth stand alone; the
 * touchpoint ids are 0 .. touchpoints - 1 (wl_tp[] holds the first
 * WL_TOUCHPOINTS of them). Exits with a message on any failure. */
typedef struct wl_model {
	cxm_clock_fn clock;             /* NULL: the real clock */
	void *clock_opaque;
	uint32_t max_customers;         /* 0: the library's default */
	uint32_t touchpoints;           /* 0: WL_TOUCHPOINTS */
	const cxm_allocator *allocator; /* NULL: malloc / free */
	uint64_t max_memory;            /* cxm_config::max_memory; 0: none */
} wl_model;
cxm_context *wl_context_ex(const wl_model *m);

/* Generate n interactions into w (allocates; wl_free releases). Needs the
 * ids, so call wl_context() once before. Exits when out of memory. */
void wl_generate(workload *w, size_t n, uint32_t customers, uint64_t seed);
/* The same over `touchpoints` touchpoints (ids 0 .. touchpoints - 1, as
 * wl_context_ex() defines them) and span_ms of event time from WL_DAY0
 * instead of a day. wl_generate(w, n, c, s) is
 * wl_generate_ex(w, n, c, s, WL_TOUCHPOINTS, WL_DAY), byte for byte. */
void wl_generate_ex(workload *w, size_t n, uint32_t customers, uint64_t seed,
		    uint32_t touchpoints, int64_t span_ms);
/* Customer c's id as the generator writes it ("cust-0001234"), with its
 * NUL; returns its length. */
size_t wl_customer_id(char out[16], uint32_t c);
void wl_free(workload *w);

/* Bytes the generated arrays take. */
size_t wl_bytes(const workload *w);

#endif
