/* See benchutil.h. */
#include "benchutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void bench_die(const char *what, const cxm_context *ctx, cxm_status st)
{
	fprintf(stderr, "cxm_bench: %s: %s (%s)\n", what, cxm_strerror(st), cxm_errmsg(ctx));
	exit(1);
}

double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- budget lines ------------------------------------------------------------- */

typedef struct verdict {
	char what[96];
	double got, budget;
	const char *unit;
	bool le, pass;
} verdict;
enum { MAX_VERDICTS = 128 };
static verdict verdicts[MAX_VERDICTS];
static int n_verdicts;

void line_ok(const char *what, double got, const char *unit, double budget, bool le, bool ok,
	     const char *note)
{
	bool pass = ok && (le ? got <= budget : got >= budget);
	printf("  %-50s %9.*f %-3s  budget %s %-5g %s%s%s\n", what, got < 10 ? 2 : 1, got, unit,
	       le ? "<=" : ">=", budget, pass ? "PASS" : "MISS", note ? "  " : "", note ? note : "");
	if (n_verdicts < MAX_VERDICTS) {
		verdict *v = &verdicts[n_verdicts++];
		snprintf(v->what, sizeof v->what, "%s", what);
		v->got = got;
		v->budget = budget;
		v->unit = unit;
		v->le = le;
		v->pass = pass;
	}
}

void line(const char *what, double got, const char *unit, double budget, bool le,
	  const char *note)
{
	line_ok(what, got, unit, budget, le, true, note);
}

void info(const char *what, double got, const char *unit, const char *note)
{
	printf("  %-50s %9.*f %-3s  %s\n", what, got < 10 ? 2 : 1, got, unit, note ? note : "");
}

int bench_summary(void)
{
	int pass = 0;
	for (int i = 0; i < n_verdicts; i++)
		pass += verdicts[i].pass;
	printf("\nsummary: %d of %d budgets met%s\n", pass, n_verdicts,
	       pass < n_verdicts ? "; missed:" : "");
	for (int i = 0; i < n_verdicts; i++)
		if (!verdicts[i].pass)
			printf("  %-50s %9.*f %-3s  budget %s %g%s\n", verdicts[i].what,
			       verdicts[i].got < 10 ? 2 : 1, verdicts[i].got, verdicts[i].unit,
			       verdicts[i].le ? "<=" : ">=", verdicts[i].budget,
			       (verdicts[i].le ? verdicts[i].got <= verdicts[i].budget
					       : verdicts[i].got >= verdicts[i].budget)
				       ? "  (the figure is in budget, the run was not: see above)"
				       : "");
	return n_verdicts - pass;
}

/* ---- the counting allocator ------------------------------------------------------ */

enum { HEADER = 16 };

static void *count_alloc(void *opaque, size_t size)
{
	counter *c = opaque;
	if (size > SIZE_MAX - HEADER)
		return NULL;
	unsigned char *p = malloc(size + HEADER);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof size);
	uint64_t now = atomic_fetch_add_explicit(&c->now, size, memory_order_relaxed) + size;
	uint64_t peak = atomic_load_explicit(&c->peak, memory_order_relaxed);
	while (now > peak &&
	       !atomic_compare_exchange_weak_explicit(&c->peak, &peak, now, memory_order_relaxed,
						      memory_order_relaxed))
		;
	atomic_fetch_add_explicit(&c->blocks, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->calls, 1, memory_order_relaxed);
	return p + HEADER;
}

static void count_free(void *opaque, void *ptr)
{
	counter *c = opaque;
	unsigned char *p = (unsigned char *)ptr - HEADER;
	size_t size;
	memcpy(&size, p, sizeof size);
	atomic_fetch_sub_explicit(&c->now, size, memory_order_relaxed);
	atomic_fetch_sub_explicit(&c->blocks, 1, memory_order_relaxed);
	free(p);
}

cxm_allocator counting_allocator(counter *c)
{
	atomic_init(&c->now, 0);
	atomic_init(&c->peak, 0);
	atomic_init(&c->blocks, 0);
	atomic_init(&c->calls, 0);
	return (cxm_allocator){count_alloc, count_free, c};
}

void counter_reset_peak(counter *c)
{
	atomic_store(&c->peak, atomic_load(&c->now));
}
