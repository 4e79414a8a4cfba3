/* What the benchmark programs share: a monotonic clock, the budget lines
 * (PASS / MISS) and their summary, and a counting allocator that measures
 * what a context allocates through cxm_config::allocator (now and at its
 * peak). Public API only. */
#ifndef CXM_BENCH_UTIL_H
#define CXM_BENCH_UTIL_H

#include <cxm.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define MIB 1048576.0

/* Print "cxm_bench: what: status (message)" and exit(1). */
void bench_die(const char *what, const cxm_context *ctx, cxm_status st) __attribute__((noreturn));
/* Run a libcxm call; any status but CXM_OK ends the program (bench_die). */
#define CHECK(ctx, call)                                                                       \
	do {                                                                                   \
		cxm_status st_ = (call);                                                       \
		if (st_)                                                                       \
			bench_die(#call, ctx, st_);                                            \
	} while (0)

/* Seconds on CLOCK_MONOTONIC. */
double now_s(void);

/* A budget line: "what  got unit  budget <= b  PASS|MISS  note"; le: the
 * budget is an upper bound. Recorded for bench_summary(). */
void line(const char *what, double got, const char *unit, double budget, bool le,
	  const char *note);
/* The same, where the comparison alone does not decide: the line passes
 * only if the figure is within the budget and ok holds (a figure measured
 * on a run that was refused part of its work is not met, whatever it is). */
void line_ok(const char *what, double got, const char *unit, double budget, bool le, bool ok,
	     const char *note);
/* A figure without a budget. */
void info(const char *what, double got, const char *unit, const char *note);
/* "summary: N of M budgets met; missed:" and the missed lines. Returns the
 * number missed. */
int bench_summary(void);

/* The counting allocator: each block carries its size in a 16-byte header
 * (so blocks stay aligned for any type); what is counted is the sizes the
 * library asked for. Safe from any number of threads. */
typedef struct counter {
	atomic_uint_least64_t now;    /* bytes allocated now */
	atomic_uint_least64_t peak;   /* the most at any time */
	atomic_uint_least64_t blocks; /* blocks allocated now */
	atomic_uint_least64_t calls;  /* alloc calls that succeeded */
} counter;

/* An allocator that counts into c (which must outlive the context). */
cxm_allocator counting_allocator(counter *c);
/* Forget the peak: it becomes what is allocated now. */
void counter_reset_peak(counter *c);

#endif
