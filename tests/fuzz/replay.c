/* Without libFuzzer: run the fuzz target over files or directories given
 * as arguments (a corpus, crashes to reproduce), or, with none, over the
 * seed corpus and deterministic mutations of it. The unit suite runs the
 * latter; tools/fuzz.sh does the fuzzing. With "--write DIR", write the
 * seed corpus into DIR instead. */
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
	if (argc > 1) {
		int rc = 0;
		for (int i = 1; i < argc; i++)
			rc |= run_path(argv[i]);
		return rc;
	}
	/* the seeds, then each with bytes changed and cut, deterministically */
	uint64_t x = 88172645463325252ull;
	size_t runs = 0;
	for (int i = 0; i < FUZZ_SEEDS; i++) {
		unsigned char *p;
		size_t len;
		if (fuzz_seed(i, &p, &len))
			return 1;
		LLVMFuzzerTestOneInput(p, len);
		unsigned char *m = malloc(len);
		for (int k = 0; k < 200; k++) {
			memcpy(m, p, len);
			for (int j = 0; j < 1 + k % 4; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				m[x % len] = (unsigned char)(x >> 32);
			}
			LLVMFuzzerTestOneInput(m, k % 5 == 0 ? (size_t)(x >> 20) % len : len);
			runs++;
		}
		free(m);
		free(p);
	}
	printf("fuzz replay: %zu inputs\n", runs + FUZZ_SEEDS);
	return 0;
}
