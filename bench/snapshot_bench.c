/* Snapshot throughput: save and load in GB/s, and merge time, on the
 * reference day (or N interactions of it).
 *   snapshot_bench [N [DIR]]    N: interactions (10000000), DIR: for files (/tmp)
 * Save and load are timed to and from memory (the format's cost) and to and
 * from a file in DIR (with fsync of the file and the directory). A merge
 * adds a second context of the same size, built from another seed. Best of
 * three runs each; wall clock, one thread. The budget (docs/performance.md): save and
 * load at >= 1 GB/s of snapshot file, judged on the file operations (what
 * a host does); the in-memory figures are printed beside them. */
#include "benchutil.h"
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t end_of_day(void *opaque)
{
	(void)opaque;
	return WL_DAY0 + WL_DAY + 60000;
}

typedef struct mem {
	unsigned char *p;
	size_t len, cap;
} mem;

static int to_mem(const void *data, size_t len, void *payload)
{
	mem *m = payload;
	if (m->cap - m->len < len) {
		size_t nc = m->cap ? m->cap : 1 << 20;
		while (nc - m->len < len)
			nc *= 2;
		unsigned char *np = realloc(m->p, nc);
		if (!np)
			return -1;
		m->p = np;
		m->cap = nc;
	}
	memcpy(m->p + m->len, data, len);
	m->len += len;
	return 0;
}

static int to_null(const void *data, size_t len, void *payload)
{
	(void)data;
	*(size_t *)payload += len;
	return 0;
}

static void check(cxm_status st, cxm_context *ctx, const char *what)
{
	if (st) {
		fprintf(stderr, "snapshot_bench: %s: %s: %s\n", what, cxm_strerror(st), cxm_errmsg(ctx));
		exit(1);
	}
}

/* The budget lines, in cxm_bench's PASS / MISS style, and their summary. */
static void budgets(size_t len, double save_null, double save_mem, double save_file,
		    double load_mem, double load_file)
{
	char note[96];
	printf("\nbudgets: GB/s of snapshot file (%.1f MB), fastest of 3\n", len / 1e6);
	snprintf(note, sizeof note, "(to memory %.2f GB/s; format only %.2f GB/s)", save_mem,
		 save_null);
	line("snapshot save to a file (both fsyncs)", save_file, "GB/s", 1, false, note);
	snprintf(note, sizeof note, "(from memory %.2f GB/s)", load_mem);
	line("snapshot load from a file (page cache warm)", load_file, "GB/s", 1, false, note);
	bench_summary();
}

static cxm_context *empty_ctx(void)
{
	cxm_config cfg = CXM_CONFIG_INIT;
	for (int i = 0; i < 16; i++)
		cfg.customer_key[i] = (uint8_t)(0x5a ^ (i * 37));
	cfg.clock = end_of_day;
	cxm_context *ctx;
	check(cxm_context_new(&ctx, &cfg), NULL, "context");
	return ctx;
}

static cxm_context *fed(size_t n, uint64_t seed)
{
	cxm_context *ctx = wl_context(end_of_day, NULL, 0);
	workload w;
	wl_generate(&w, n, 1000000, seed);
	for (size_t i = 0; i < n; i += 4096) {
		size_t k = n - i < 4096 ? n - i : 4096;
		cxm_feed_batch(NULL, ctx, &w.ix[i], k, NULL, 0, NULL);
	}
	wl_free(&w);
	return ctx;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char path[4096];
	snprintf(path, sizeof path, "%s/cxm-bench-%ld.snap", dir, (long)getpid());
	double t = now_s();
	cxm_context *a = fed(n, 1);
	printf("fed %zu interactions in %.1f s\n", n, now_s() - t);
	cxm_stats s = {.size = sizeof s};
	cxm_stats_get(&s, a);
	printf("context: %llu series, %.1f MB in memory, %llu customers\n",
	       (unsigned long long)s.series, s.memory_bytes / 1e6, (unsigned long long)s.customers);

	mem m = {0};
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		m.len = 0;
		t = now_s();
		check(cxm_snapshot_write(a, to_mem, &m), a, "write");
		double d = now_s() - t;
		best = d < best ? d : best;
	}
	printf("snapshot: %.1f MB\n", m.len / 1e6);
	double best_null = 1e9;
	for (int r = 0; r < 3; r++) {
		size_t bytes = 0;
		t = now_s();
		check(cxm_snapshot_write(a, to_null, &bytes), a, "write");
		double d = now_s() - t;
		best_null = d < best_null ? d : best_null;
	}
	printf("save, format only: %6.3f s  %6.2f GB/s  (to a callback that only counts)\n", best_null,
	       m.len / best_null / 1e9);
	printf("save to memory:   %7.3f s  %6.2f GB/s\n", best, m.len / best / 1e9);
	double gb_save_null = m.len / best_null / 1e9, gb_save_mem = m.len / best / 1e9;
	best = 1e9;
	for (int r = 0; r < 3; r++) {
		t = now_s();
		check(cxm_snapshot_save(a, path), a, "save");
		double d = now_s() - t;
		best = d < best ? d : best;
	}
	printf("save to file:     %7.3f s  %6.2f GB/s  (temp file, fsync, rename, fsync dir)\n", best,
	       m.len / best / 1e9);
	double gb_save_file = m.len / best / 1e9;
	best = 1e9;
	for (int r = 0; r < 3; r++) {
		cxm_context *b = empty_ctx();
		t = now_s();
		check(cxm_snapshot_load_mem(b, m.p, m.len), b, "load");
		double d = now_s() - t;
		best = d < best ? d : best;
		cxm_context_free(b);
	}
	printf("load from memory: %7.3f s  %6.2f GB/s\n", best, m.len / best / 1e9);
	double gb_load_mem = m.len / best / 1e9;
	best = 1e9;
	for (int r = 0; r < 3; r++) {
		cxm_context *b = empty_ctx();
		t = now_s();
		check(cxm_snapshot_load(b, path), b, "load");
		double d = now_s() - t;
		best = d < best ? d : best;
		cxm_context_free(b);
	}
	printf("load from file:   %7.3f s  %6.2f GB/s  (page cache warm)\n", best, m.len / best / 1e9);
	double gb_load_file = m.len / best / 1e9;
	if (getenv("SNAPSHOT_BENCH_KEEP")) {
		budgets(m.len, gb_save_null, gb_save_mem, gb_save_file, gb_load_mem, gb_load_file);
		return 0;
	}
	unlink(path);

	cxm_context *b = fed(n, 2);
	mem mb = {0};
	check(cxm_snapshot_write(b, to_mem, &mb), b, "write");
	best = 1e9;
	double best_mem = 1e9;
	for (int r = 0; r < 3; r++) {
		cxm_context *c = empty_ctx();
		check(cxm_snapshot_load_mem(c, m.p, m.len), c, "load");
		t = now_s();
		check(cxm_merge(c, b), c, "merge");
		double d = now_s() - t;
		best = d < best ? d : best;
		cxm_context_free(c);
		c = empty_ctx();
		check(cxm_snapshot_load_mem(c, m.p, m.len), c, "load");
		t = now_s();
		check(cxm_snapshot_merge_mem(c, mb.p, mb.len), c, "merge");
		d = now_s() - t;
		best_mem = d < best_mem ? d : best_mem;
		cxm_context_free(c);
	}
	printf("merge context:    %7.3f s  (cxm_merge: copy the source, then add it)\n", best);
	printf("merge snapshot:   %7.3f s  (%.1f MB; %.2f GB/s)\n", best_mem, mb.len / 1e6,
	       mb.len / best_mem / 1e9);
	budgets(m.len, gb_save_null, gb_save_mem, gb_save_file, gb_load_mem, gb_load_file);
	free(m.p);
	free(mb.p);
	cxm_context_free(a);
	cxm_context_free(b);
	return 0;
}
