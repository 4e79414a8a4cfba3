/* Without libFuzzer: run the fuzz target over files or directories given
 * as arguments (a corpus, crashes to reproduce, files of the hostile
 * test), or, with none, over the seed corpus and deterministic mutations
 * of it (checksums recomputed). The unit suite runs the latter;
 * tools/fuzz.sh does the fuzzing. With "--write DIR", write the seed
 * corpus into DIR instead; with "--fix-crc FILE...", write FILE.fixed with
 * the checksums recomputed (a libFuzzer crash, found by a build that skips
 * them, then reproduces in any build). */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	unsigned char *p = NULL;
	size_t len = 0, cap = 0, n;
	unsigned char chunk[65536];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n > cap) {
			cap = (len + n) * 2;
			p = realloc(p, cap);
			if (!p)
				abort();
		}
		memcpy(p + len, chunk, n);
		len += n;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(p ? p : (const uint8_t *)"", len);
	free(p);
	return 0;
}

/* FUZZ_REPLAY_LAST=FILE: each input is written there before it runs, so
 * that after a crash FILE holds the input that caused it. */
static void keep_last(const unsigned char *p, size_t len)
{
	const char *path = getenv("FUZZ_REPLAY_LAST");
	if (!path || !*path)
		return;
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len)
		perror(path);
	if (f)
		fclose(f);
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return NULL;
	}
	unsigned char *p = NULL;
	size_t cap = 0, n;
	*len = 0;
	unsigned char chunk[65536];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (*len + n > cap) {
			cap = (*len + n) * 2;
			p = realloc(p, cap);
			if (!p)
				abort();
		}
		memcpy(p + *len, chunk, n);
		*len += n;
	}
	fclose(f);
	return p ? p : malloc(1);
}

static int fix_crc(const char *path)
{
	size_t len;
	unsigned char *p = read_all(path, &len);
	if (!p)
		return 1;
	if (len >= FUZZ_HEADER_LEN)
		fuzz_fix_header_crc(p);
	size_t off = FUZZ_HEADER_LEN, n = 0;
	while (len >= off && len - off >= 20) {
		uint64_t sl = 0;
		for (int i = 0; i < 8; i++)
			sl |= (uint64_t)p[off + 8 + i] << (8 * i);
		if (sl > len - off - 20)
			break;
		fuzz_fix_section_crc(p, off, (size_t)sl);
		off += 20 + (size_t)sl;
		n++;
	}
	char out[4096];
	snprintf(out, sizeof out, "%s.fixed", path);
	FILE *f = fopen(out, "wb");
	if (!f || fwrite(p, 1, len, f) != len) {
		perror(out);
		free(p);
		return 1;
	}
	fclose(f);
	printf("%s: header and %zu section checksums recomputed\n", out, n);
	free(p);
	return 0;
}

static int run_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	DIR *d = opendir(path);
	struct dirent *e;
	int rc = 0;
	char full[4096];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof full, "%s/%s", path, e->d_name);
		rc |= run_file(full);
	}
	if (d)
		closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write") == 0) {
		for (int i = 0; i < FUZZ_SEEDS; i++) {
			unsigned char *p;
			size_t len;
			char path[4096];
			if (fuzz_seed(i, &p, &len))
				return 1;
			snprintf(path, sizeof path, "%s/seed-%d.cxm", argv[2], i);
			FILE *f = fopen(path, "wb");
			if (!f || fwrite(p, 1, len, f) != len) {
				perror(path);
				return 1;
			}
			fclose(f);
			free(p);
		}
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "--fix-crc") == 0) {
		/* a libFuzzer input (its checksums unchecked by the fuzzing
		 * build) with its header and section checksums recomputed, so
		 * that any build reproduces it: FILE.fixed */
		int rc = 0;
		for (int i = 2; i < argc; i++)
			rc |= fix_crc(argv[i]);
		return rc;
	}
	if (argc > 1) {
		int rc = 0;
		for (int i = 1; i < argc; i++)
			rc |= run_path(argv[i]);
		return rc;
	}
	/* the seeds, then each with bytes of one section changed (its
	 * checksum recomputed, so that a build that checks checksums reaches
	 * the parser too) or cut, deterministically */
	uint64_t x = 88172645463325252ull;
	size_t runs = 0;
	/* under valgrind (the unit suite's valgrind setup), fewer mutations */
	const char *pre = getenv("LD_PRELOAD");
	const int per_seed = pre && strstr(pre, "vgpreload") ? 10 : 100;
	for (int i = 0; i < FUZZ_SEEDS; i++) {
		unsigned char *p;
		size_t len;
		if (fuzz_seed(i, &p, &len))
			return 1;
		LLVMFuzzerTestOneInput(p, len);
		fuzz_section sec[FUZZ_MAX_SECTIONS];
		size_t ns = fuzz_sections(p, len, sec, FUZZ_MAX_SECTIONS);
		if (!ns) {
			fprintf(stderr, "fuzz replay: seed %d is not a well-formed snapshot\n", i);
			return 1;
		}
		unsigned char *m = malloc(len);
		if (!m)
			abort();
		for (int k = 0; k < per_seed; k++) {
			memcpy(m, p, len);
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			const fuzz_section *s = &sec[x % ns];
			for (int j = 0; j < 1 + k % 4 && s->len; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				m[s->off + 16 + (x >> 8) % s->len] = (unsigned char)(x >> 32);
			}
			fuzz_fix_section_crc(m, s->off, s->len);
			size_t ml = k % 5 == 0 ? (size_t)(x >> 20) % len : len;
			keep_last(m, ml);
			LLVMFuzzerTestOneInput(m, ml);
			runs++;
		}
		free(m);
		free(p);
	}
	printf("fuzz replay: %zu inputs\n", runs + FUZZ_SEEDS);
	return 0;
}
