/* The snapshot fuzz target and its seed corpus (tests/fuzz). */
#ifndef CXM_FUZZ_H
#define CXM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "cxm.h"

/* The configuration every context of the target and the corpus uses: small
 * limits, so that hostile counts meet them quickly, and a fixed key. */
cxm_config fuzz_config(void);

/* Define the corpus's model in ctx (what the target merges into). */
void fuzz_define(cxm_context *ctx);

/* Seed snapshot number i (0 <= i < FUZZ_SEEDS), malloc'ed into *out. */
#define FUZZ_SEEDS 6
int fuzz_seed(int i, unsigned char **out, size_t *len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
