/* cxm_bench's sections on the cost of one duration record against a floor,
 * on memory (a counting allocator) and on scaling with touchpoints and
 * customers. Public API only; budget lines through benchutil.h. */
#ifndef CXM_BENCH_FOOTPRINT_H
#define CXM_BENCH_FOOTPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct footprint_opts {
	bool quick;        /* smaller runs */
	bool scaling;      /* run the scaling table (section 8) */
	size_t cell_n;     /* reference interactions per scaling cell */
	uint64_t cap;      /* cxm_config::max_memory of the large contexts, bytes */
	int first_section; /* number of the first section printed */
} footprint_opts;

/* The duration record against a minimal log-bucket histogram, same values,
 * same run (one section). */
void footprint_duration_floor(const footprint_opts *o);
/* Memory of the small embed, bytes per tracked customer, the 1 000
 * touchpoints model under max_memory, then (o->scaling) the scaling table. */
void footprint_memory_and_scaling(const footprint_opts *o);

#endif
