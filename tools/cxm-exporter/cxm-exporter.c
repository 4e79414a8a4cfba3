/* cxm-exporter: serve the snapshots of a directory, merged, to Prometheus.
 *
 *   cxm-exporter --dir DIR --port P (--key HEX | --key-file FILE) [--bind ADDR]
 *                [--label NAME=VALUE]... [--max-memory BYTES]
 *                [--no-segments] [--no-points]
 *
 * Hosts save their contexts into DIR as NAME.cxms with cxm_snapshot_save(),
 * which renames a complete file into place, so a reader never sees half of
 * one. Each GET /metrics lists DIR, loads the first *.cxms (in name order)
 * into a fresh context, merges every other one into it and answers with the
 * exposition of the result. Nothing is kept between scrapes but a table of
 * the files that failed, so what is served is always what DIR holds now,
 * and a host that stopped writing still counts with its last snapshot.
 *
 * A file that fails to load or merge is left out of that scrape, counted in
 * cxm_exporter_snapshot_errors_total{file,reason} and logged to stderr when
 * its status changes (not on every scrape). docs/man/cxm-exporter.1.in is
 * the manual; docs/prometheus.md, "An installed exporter", the guide.
 *
 * libmicrohttpd runs one internal thread that answers every connection, so
 * scrapes run one at a time: at most one scrape's context, bounded by
 * --max-memory, exists at any moment. */
#include <cxm.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CXM_EXPORTER_VERSION
#define CXM_EXPORTER_VERSION "unknown"
#endif

#define SUFFIX ".cxms"
#define DEFAULT_MAX_MEMORY (UINT64_C(256) << 20)
/* Scrape attempts with another base file, after a merge found a definition
 * the base lacks (see build_context()). */
#define MAX_ATTEMPTS 4

/* Short, label-friendly names of the cxm_status codes; the last is for any
 * code a newer libcxm may add. */
static const char *const reasons[CXM_STATUS_COUNT + 1] = {
	"ok", "invalid", "unknown_id", "out_of_range", "too_late", "too_early",
	"not_finite", "too_long", "no_memory", "limit", "corrupt", "io",
	"version", "unsupported", "exists", "encoding", "kind", "rejected", "other",
};

static int reason_index(int st)
{
	return st >= 0 && st < CXM_STATUS_COUNT ? st : CXM_STATUS_COUNT;
}

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fputs("cxm-exporter: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

/* ---- growing text buffer --------------------------------------------------------- */

typedef struct text {
	char *p;
	size_t len, cap;
	bool failed; /* an allocation failed: the text is incomplete */
} text;

static void put(text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (n > t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 16384;
		while (n > cap - t->len) {
			if (cap > SIZE_MAX / 2) {
				t->failed = true;
				return;
			}
			cap *= 2;
		}
		char *p = realloc(t->p, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void put_str(text *t, const char *s)
{
	put(t, s, strlen(s));
}

static void putf(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(text *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		t->failed = true; /* only short lines of the program's own are written this way */
	else
		put(t, buf, (size_t)n);
}

static int put_export(const char *data, size_t len, void *payload)
{
	text *t = payload;
	put(t, data, len);
	return t->failed;
}

static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2
			: (*s & 0xF8) == 0xF0 ? 3 : -1;
		if (n < 0 || (n == 1 && *s < 0xC2) || (n == 3 && *s > 0xF4))
			return false;
		unsigned cp = n == 0 ? *s : *s & (0x3F >> n);
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		s += n + 1;
	}
	return true;
}

/* A label value in both text formats: backslash, quote and newline escaped.
 * File names are bytes; a name that is not UTF-8, or a control character,
 * shows as '?' (the file is still read, only its label is approximate). */
static void put_label_value(text *t, const char *v)
{
	bool utf8 = utf8_valid((const unsigned char *)v);
	put(t, "\"", 1);
	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		if (*s == '\\')
			put(t, "\\\\", 2);
		else if (*s == '"')
			put(t, "\\\"", 2);
		else if (*s == '\n')
			put(t, "\\n", 2);
		else if (*s < 0x20 || *s == 0x7F || (*s >= 0x80 && !utf8))
			put(t, "?", 1);
		else
			put(t, (const char *)s, 1);
	}
	put(t, "\"", 1);
}

/* ---- configuration ---------------------------------------------------------------- */

typedef struct options {
	const char *dir;
	const char *bind;
	long port;
	uint8_t key[16];
	bool have_key;
	uint64_t max_memory;
	uint32_t flags;
	uint32_t n_labels;
	const char *label_names[CXM_EXPORT_MAX_LABELS];
	const char *label_values[CXM_EXPORT_MAX_LABELS];
} options;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cxm-exporter --dir DIR --port PORT (--key HEX | --key-file FILE)\n"
		"                    [--bind ADDR] [--label NAME=VALUE]... [--max-memory BYTES]\n"
		"                    [--no-segments] [--no-points]\n"
		"       cxm-exporter --help | --version\n"
		"Serves GET /metrics, the snapshots DIR/*" SUFFIX " merged, and GET /healthz.\n"
		"  --dir DIR           the directory the hosts save their snapshots in\n"
		"  --port PORT         TCP port (0: any free port, printed at start)\n"
		"  --bind ADDR         IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
		"  --key HEX           the hosts' customer key, 32 hex digits\n"
		"  --key-file FILE     a file holding that key (better: not in the process list)\n"
		"  --label NAME=VALUE  a constant label on every sample (at most %d)\n"
		"  --max-memory BYTES  memory of one scrape's context, suffix K, M or G;\n"
		"                      0: no limit (default 256M)\n"
		"  --no-segments       leave out the per-segment series\n"
		"  --no-points         leave out the per-point counters cxm_score_answers\n",
		CXM_EXPORT_MAX_LABELS);
}

static void bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void bad_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cxm-exporter: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see cxm-exporter --help)\n", stderr);
	va_end(ap);
	exit(2);
}

/* 32 hex digits, surrounding white space allowed (a key file's newline). */
static bool parse_key(uint8_t out[16], const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	uint8_t k[16];
	for (int i = 0; i < 32; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return false;
		k[i / 2] = (uint8_t)(i % 2 ? k[i / 2] | v : v << 4);
	}
	for (s += 32; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return false;
	memcpy(out, k, 16);
	return true;
}

static void read_key_file(uint8_t out[16], const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cxm-exporter: cannot read the key file %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	char buf[128];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	bool err = ferror(f);
	fclose(f);
	buf[n] = '\0';
	if (err || n == sizeof buf - 1 || !parse_key(out, buf)) {
		fprintf(stderr, "cxm-exporter: %s: the key file must hold the 16-byte key as "
				"32 hex digits\n", path);
		exit(1);
	}
	memset(buf, 0, sizeof buf);
}

static bool parse_size(uint64_t *out, const char *s)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return false;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno)
		return false;
	unsigned shift = 0;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'm' || *end == 'M')
		shift = 20, end++;
	else if (*end == 'g' || *end == 'G')
		shift = 30, end++;
	if (*end || (shift && n > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)n << shift;
	return true;
}

static void parse_args(options *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	o->port = -1;
	o->bind = "127.0.0.1";
	o->max_memory = DEFAULT_MAX_MEMORY;
	const char *key_file = NULL, *key_hex = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "--version")) {
			printf("cxm-exporter %s (libcxm %s)\n", CXM_EXPORTER_VERSION, cxm_libversion());
			exit(0);
		}
		if (!strcmp(a, "--no-segments")) {
			o->flags |= CXM_EXPORT_NO_SEGMENTS;
			continue;
		}
		if (!strcmp(a, "--no-points")) {
			o->flags |= CXM_EXPORT_NO_POINTS;
			continue;
		}
		static const char *const with_value[] = {"--dir", "--port", "--bind", "--key",
							 "--key-file", "--label", "--max-memory"};
		bool known = false;
		for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++)
			known |= !strcmp(a, with_value[k]);
		if (!known)
			bad_usage("unknown option '%s'", a);
		if (i + 1 >= argc)
			bad_usage("%s needs a value", a);
		const char *v = argv[++i];
		if (!strcmp(a, "--dir")) {
			o->dir = v;
		} else if (!strcmp(a, "--port")) {
			char *end;
			errno = 0;
			long p = strtol(v, &end, 10);
			if (errno || end == v || *end || p < 0 || p > 65535)
				bad_usage("--port %s: not a port number (0 to 65535)", v);
			o->port = p;
		} else if (!strcmp(a, "--bind")) {
			o->bind = v;
		} else if (!strcmp(a, "--key")) {
			key_hex = v;
		} else if (!strcmp(a, "--key-file")) {
			key_file = v;
		} else if (!strcmp(a, "--max-memory")) {
			if (!parse_size(&o->max_memory, v))
				bad_usage("--max-memory %s: not a size in bytes (such as 268435456, "
					  "512M or 2G)", v);
		} else { /* --label */
			const char *eq = strchr(v, '=');
			if (!eq || eq == v)
				bad_usage("--label %s: NAME=VALUE expected", v);
			if (o->n_labels == CXM_EXPORT_MAX_LABELS)
				bad_usage("more than %d --label options", CXM_EXPORT_MAX_LABELS);
			char *name = strndup(v, (size_t)(eq - v));
			if (!name) {
				perror("cxm-exporter");
				exit(1);
			}
			/* The exporter's own families use these three. */
			if (!strcmp(name, "file") || !strcmp(name, "reason") || !strcmp(name, "state"))
				bad_usage("--label %s: the label '%s' is the exporter's own", v, name);
			o->label_names[o->n_labels] = name;
			o->label_values[o->n_labels++] = eq + 1;
		}
	}
	if (!o->dir)
		bad_usage("--dir is required");
	if (o->port < 0)
		bad_usage("--port is required");
	if (key_hex && key_file)
		bad_usage("--key and --key-file are exclusive");
	if (key_hex) {
		if (!parse_key(o->key, key_hex))
			bad_usage("--key: the key is 32 hex digits (16 bytes)");
	} else if (key_file) {
		read_key_file(o->key, key_file);
	} else {
		bad_usage("--key or --key-file is required: snapshots load only into a context "
			  "with the customer key of the hosts that saved them");
	}
	bool zero = true;
	for (int i = 0; i < 16; i++)
		zero &= !o->key[i];
	if (zero)
		bad_usage("the key is all zero, which libcxm takes as 'a random key': the "
			  "hosts must set a customer key of their own");
	o->have_key = true;
}

static cxm_export_options export_options(const options *o, cxm_export_format format)
{
	cxm_export_options e = CXM_EXPORT_OPTIONS_INIT;
	e.format = format;
	e.flags = o->flags;
	e.n_labels = o->n_labels;
	e.label_names = o->label_names;
	e.label_values = o->label_values;
	return e;
}

/* The labels are checked by the library, on an empty context, so that a bad
 * one stops the exporter at start and not at every scrape. */
static void check_labels(const options *o)
{
	cxm_context *ctx;
	cxm_status st = cxm_context_new(&ctx, NULL);
	if (st) {
		fprintf(stderr, "cxm-exporter: cannot make a context: %s\n", cxm_strerror(st));
		exit(1);
	}
	cxm_export_options e = export_options(o, CXM_FORMAT_PROMETHEUS);
	size_t len;
	st = cxm_export_text(&len, ctx, &e, NULL, 0);
	if (st != CXM_OK && st != CXM_ERR_LIMIT) {
		fprintf(stderr, "cxm-exporter: --label: %s (%s)\n", cxm_errmsg(ctx),
			cxm_strerror(st));
		cxm_context_free(ctx);
		exit(2);
	}
	cxm_context_free(ctx);
}

/* ---- the snapshots of the directory ----------------------------------------------- */

/* The tiers a snapshot was saved with (cxm_snapshot_tiers() on its first
 * bytes): a context loads a snapshot only with the saver's tiers, and hosts
 * may configure theirs. Read only to configure the context; the load then
 * checks the whole file, so a file that lies here fails to load like any
 * damaged file. Returns the number of tiers, 0 when the file does not say
 * (then the defaults, and the load reports what is wrong). */
static uint32_t snapshot_tiers(cxm_tier *out, const char *path)
{
	enum { SIZE = 64 + 16 + 4 + 12 * CXM_MAX_TIERS + 4 };
	unsigned char b[SIZE];
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct stat st;
	size_t n = 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		while (n < SIZE) {
			ssize_t r = read(fd, b + n, SIZE - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			n += (size_t)r;
		}
	}
	close(fd);
	uint32_t k = 0;
	return cxm_snapshot_tiers(out, &k, b, n) == CXM_OK ? k : 0;
}

typedef struct file_rec {
	char *name;
	int status;   /* of the latest scrape; -1 before the first */
	uint64_t errors[CXM_STATUS_COUNT + 1]; /* scrapes that left it out, by reason */
	bool moved;   /* update_files(): taken into the new table */
} file_rec;

typedef struct server {
	options opt;
	pthread_mutex_t lock; /* scrapes run one at a time (one MHD thread); kept simple */
	file_rec *files;      /* sorted by name: those found by the latest scrape */
	size_t n_files;
	int dir_errno;        /* of the latest listing; 0: it was read */
} server;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.cxms names of the directory, sorted; NULL with errno on failure. */
static char **list_dir(const char *dir, size_t *n_out)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int err = 0;
	errno = 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		/* Hidden files, and cxm_snapshot_save()'s NAME.cxms.tmp-PID-N files,
		 * never end in .cxms without a leading dot. */
		if (e->d_name[0] == '.' || len <= strlen(SUFFIX) ||
		    strcmp(e->d_name + len - strlen(SUFFIX), SUFFIX) != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **p = realloc(names, cap * sizeof *names);
			if (!p) {
				err = ENOMEM;
				break;
			}
			names = p;
		}
		if (!(names[n] = strdup(e->d_name))) {
			err = ENOMEM;
			break;
		}
		n++;
		errno = 0;
	}
	if (!err && errno)
		err = errno;
	closedir(d);
	if (err) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		errno = err;
		return NULL;
	}
	if (!names) /* an empty directory: a list of none */
		names = malloc(1);
	if (!names) {
		errno = ENOMEM;
		return NULL;
	}
	qsort(names, n, sizeof *names, cmp_str);
	*n_out = n;
	return names;
}

/* What one scrape did with one file. */
typedef struct outcome {
	char *path;
	int status;
	char msg[512]; /* cxm_errmsg() of the failure */
} outcome;

static void record(outcome *oc, cxm_status st, const cxm_context *ctx)
{
	oc->status = st;
	if (st)
		snprintf(oc->msg, sizeof oc->msg, "%s", ctx ? cxm_errmsg(ctx) : "");
}

/* Load the first of the files that loads, merge the others into it; NULL
 * when none loads. oc[i] receives what became of file i.
 *
 * A merge needs every journey, touchpoint, metric and segment of the file
 * defined in the context already (docs/snapshot.md, "Merging"). Hosts that
 * run one program define the same model, but one that has defined more (a
 * touchpoint created on its first call) refuses to merge into a base that
 * lacks it, while the base would merge into it. So when a merge fails with
 * CXM_ERR_UNKNOWN_ID the scrape starts again with that file as the base, a
 * few times at most: the result no longer depends on which file sorts first
 * whenever one model holds all the others. */
static cxm_context *build_context(const options *o, outcome *oc, size_t n)
{
	size_t *order = malloc((n ? n : 1) * sizeof *order);
	bool *tried = calloc(n ? n : 1, 1);
	if (!order || !tried) {
		free(order);
		free(tried);
		for (size_t i = 0; i < n; i++)
			oc[i].status = CXM_ERR_NO_MEMORY, snprintf(oc[i].msg, sizeof oc[i].msg,
								   "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	cxm_context *ctx = NULL;
	for (int attempt = 0;; attempt++) {
		for (size_t k = 0; k < n; k++) {
			outcome *f = &oc[order[k]];
			if (ctx) {
				record(f, cxm_snapshot_merge(ctx, f->path), ctx);
				continue;
			}
			tried[order[k]] = true;
			cxm_config cfg = CXM_CONFIG_INIT;
			memcpy(cfg.customer_key, o->key, sizeof cfg.customer_key);
			cfg.max_memory = o->max_memory;
			cfg.shards = 1; /* nothing feeds it: one lock is enough */
			/* Hosts may allow more series and customers than the defaults;
			 * here memory is what bounds them (neither limit allocates). The
			 * other limits size arrays, and keep libcxm's defaults. */
			cfg.max_series = UINT64_MAX;
			cfg.max_customers = UINT32_C(1) << 30;
			cfg.n_tiers = snapshot_tiers(cfg.tiers, f->path);
			cxm_status st = cxm_context_new(&ctx, &cfg);
			if (st) {
				ctx = NULL;
				f->status = st;
				snprintf(f->msg, sizeof f->msg, "making a context with its tiers%s: %s",
					 st == CXM_ERR_NO_MEMORY ? " within --max-memory" : "",
					 cxm_errmsg(NULL));
				continue;
			}
			st = cxm_snapshot_load(ctx, f->path);
			record(f, st, ctx);
			if (st) {
				cxm_context_free(ctx);
				ctx = NULL;
			}
		}
		size_t again = n;
		for (size_t i = 0; i < n && again == n; i++)
			if (oc[i].status == CXM_ERR_UNKNOWN_ID && !tried[i])
				again = i;
		if (again == n || attempt + 1 == MAX_ATTEMPTS)
			break;
		cxm_context_free(ctx);
		ctx = NULL;
		size_t k = 0;
		while (order[k] != again)
			k++;
		memmove(order + 1, order, k * sizeof *order);
		order[0] = again;
	}
	free(order);
	free(tried);
	return ctx;
}

static file_rec *find_rec(file_rec *recs, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(recs[mid].name, name);
		if (!c)
			return &recs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Fold one scrape's outcomes into the table of files: count the failures,
 * log each change of a file's status once. Files gone from the directory
 * leave the table (and their counters the exposition). */
static void update_files(server *sv, char **names, const outcome *oc, size_t n)
{
	file_rec *recs = calloc(n ? n : 1, sizeof *recs);
	if (!recs)
		return; /* this scrape is not counted */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		file_rec *old = find_rec(sv->files, sv->n_files, names[i]);
		file_rec r = {.status = -1};
		if (old) {
			r = *old;
			old->moved = true;
		} else if (!(r.name = strdup(names[i]))) {
			continue; /* not tracked this time */
		}
		int st = oc[i].status;
		if (st != r.status) {
			if (st)
				log_line("%s: left out: %s: %s", oc[i].path, cxm_strerror(st), oc[i].msg);
			else if (r.status > 0)
				log_line("%s: merged again", oc[i].path);
		}
		if (st)
			r.errors[reason_index(st)]++;
		r.status = st;
		recs[k++] = r;
	}
	for (size_t i = 0; i < sv->n_files; i++)
		if (!sv->files[i].moved)
			free(sv->files[i].name);
	free(sv->files);
	sv->files = recs;
	sv->n_files = k;
}

static void put_const_labels(text *t, const options *o)
{
	for (uint32_t i = 0; i < o->n_labels; i++) {
		if (i)
			put_str(t, ",");
		put_str(t, o->label_names[i]);
		put_str(t, "=");
		put_label_value(t, o->label_values[i]);
	}
}

/* The exporter's own families, after the library's. */
static void put_own(text *t, const server *sv, cxm_export_format fmt, size_t merged,
		    size_t skipped, uint64_t bytes)
{
	const options *o = &sv->opt;
	bool om = fmt == CXM_FORMAT_OPENMETRICS;
	/* HELP before TYPE, as the library writes its families. */
	putf(t, "# HELP cxm_exporter_snapshots Snapshot files of the directory at this scrape, "
		"merged or left out.\n");
	put_str(t, "# TYPE cxm_exporter_snapshots gauge\n");
	for (int s = 0; s < 2; s++) {
		put_str(t, "cxm_exporter_snapshots{");
		put_const_labels(t, o);
		putf(t, "%sstate=\"%s\"} %zu\n", o->n_labels ? "," : "", s ? "skipped" : "merged",
		     s ? skipped : merged);
	}
	putf(t, "# HELP cxm_exporter_context_bytes Memory of this scrape's merged context "
		"(what --max-memory bounds).\n");
	put_str(t, "# TYPE cxm_exporter_context_bytes gauge\n");
	if (om)
		put_str(t, "# UNIT cxm_exporter_context_bytes bytes\n");
	put_str(t, "cxm_exporter_context_bytes");
	if (o->n_labels) {
		put_str(t, "{");
		put_const_labels(t, o);
		put_str(t, "}");
	}
	putf(t, " %" PRIu64 "\n", bytes);
	bool any = false;
	for (size_t i = 0; i < sv->n_files && !any; i++)
		for (int r = 0; r <= CXM_STATUS_COUNT; r++)
			any |= sv->files[i].errors[r] != 0;
	if (!any)
		return;
	/* An OpenMetrics counter family drops the _total of its samples. */
	const char *fam = om ? "cxm_exporter_snapshot_errors" : "cxm_exporter_snapshot_errors_total";
	putf(t, "# HELP %s Scrapes that left a snapshot file out, by file and reason.\n", fam);
	putf(t, "# TYPE %s counter\n", fam);
	for (size_t i = 0; i < sv->n_files; i++) {
		for (int r = 0; r <= CXM_STATUS_COUNT; r++) {
			if (!sv->files[i].errors[r])
				continue;
			put_str(t, "cxm_exporter_snapshot_errors_total{");
			put_const_labels(t, o);
			put_str(t, o->n_labels ? ",file=" : "file=");
			put_label_value(t, sv->files[i].name);
			putf(t, ",reason=\"%s\"} %" PRIu64 "\n", reasons[r], sv->files[i].errors[r]);
		}
	}
}

/* One scrape: the exposition, or NULL with an HTTP status and a message. */
static char *scrape(server *sv, cxm_export_format fmt, size_t *len, unsigned *http, char *why,
		    size_t why_cap)
{
	const options *o = &sv->opt;
	size_t n = 0;
	char **names = list_dir(o->dir, &n);
	if (!names) {
		int err = errno;
		if (err != sv->dir_errno)
			log_line("cannot read %s: %s", o->dir, strerror(err));
		sv->dir_errno = err;
		snprintf(why, why_cap, "cxm-exporter: cannot read %s: %s\n", o->dir, strerror(err));
		*http = MHD_HTTP_SERVICE_UNAVAILABLE;
		return NULL;
	}
	if (sv->dir_errno)
		log_line("%s can be read again", o->dir);
	sv->dir_errno = 0;

	outcome *oc = calloc(n ? n : 1, sizeof *oc);
	bool ok = oc != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		size_t plen = strlen(o->dir) + 1 + strlen(names[i]) + 1;
		ok = (oc[i].path = malloc(plen)) != NULL;
		if (ok)
			snprintf(oc[i].path, plen, "%s/%s", o->dir, names[i]);
	}
	char *out = NULL;
	if (ok) {
		cxm_context *ctx = build_context(o, oc, n);
		update_files(sv, names, oc, n);
		size_t merged = 0;
		for (size_t i = 0; i < n; i++)
			merged += oc[i].status == CXM_OK;
		text t = {0};
		cxm_status st = CXM_OK;
		cxm_stats stats = {.size = sizeof stats};
		uint64_t bytes = ctx && cxm_stats_get(&stats, ctx) == CXM_OK ? stats.memory_bytes : 0;
		if (ctx) {
			cxm_export_options e = export_options(o, fmt);
			st = cxm_export_write(ctx, &e, put_export, &t);
			if (st == CXM_ERR_IO)
				t.failed = true;
			else if (st)
				snprintf(why, why_cap, "cxm-exporter: exposition failed: %s (%s)\n",
					 cxm_errmsg(ctx), cxm_strerror(st));
			cxm_context_free(ctx);
		}
		/* OpenMetrics ends with one "# EOF": the exporter's families go before it. */
		static const char eof[] = "# EOF\n";
		if (t.len >= sizeof eof - 1 && !memcmp(t.p + t.len - (sizeof eof - 1), eof, sizeof eof - 1))
			t.len -= sizeof eof - 1;
		put_own(&t, sv, fmt, merged, n - merged, bytes);
		if (fmt == CXM_FORMAT_OPENMETRICS)
			put_str(&t, eof);
		if (st && st != CXM_ERR_IO) {
			free(t.p);
			*http = MHD_HTTP_INTERNAL_SERVER_ERROR;
		} else if (t.failed) {
			free(t.p);
			snprintf(why, why_cap, "cxm-exporter: out of memory for the exposition\n");
			*http = MHD_HTTP_INTERNAL_SERVER_ERROR;
		} else {
			out = t.p; /* never NULL: put_own() wrote */
			*len = t.len;
			*http = MHD_HTTP_OK;
		}
	} else {
		snprintf(why, why_cap, "cxm-exporter: out of memory\n");
		*http = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	for (size_t i = 0; oc && i < n; i++)
		free(oc[i].path);
	free(oc);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!out && *http == MHD_HTTP_INTERNAL_SERVER_ERROR)
		log_line("scrape failed: %.*s", (int)strcspn(why, "\n"), why);
	return out;
}

/* ---- HTTP --------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
			     char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *copy = strdup(msg);
	if (!copy)
		return MHD_NO;
	return reply(conn, status, "text/plain; charset=utf-8", copy, strlen(copy),
		     MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_size, void **con_cls)
{
	(void)version;
	(void)upload_data;
	(void)con_cls;
	server *sv = cls;
	bool metrics = !strcmp(url, "/metrics"), health = !strcmp(url, "/healthz");
	if (!metrics && !health)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
				  "cxm-exporter: not found; GET /metrics or /healthz\n");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		*upload_size = 0; /* ignore a body */
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "cxm-exporter: only GET and HEAD\n");
	}
	if (health) {
		/* Alive, and the directory is there to be read. */
		DIR *d = opendir(sv->opt.dir);
		if (!d) {
			char msg[PATH_MAX + 128];
			snprintf(msg, sizeof msg, "cxm-exporter: cannot read %s: %s\n", sv->opt.dir,
				 strerror(errno));
			return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
		}
		closedir(d);
		return reply_text(conn, MHD_HTTP_OK, "ok\n");
	}
	/* What Prometheus asks for by default; anything else gets 0.0.4. */
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_ACCEPT);
	cxm_export_format fmt = accept && strstr(accept, "application/openmetrics-text")
		? CXM_FORMAT_OPENMETRICS : CXM_FORMAT_PROMETHEUS;
	size_t len = 0;
	unsigned http = 0;
	char why[PATH_MAX + 256] = "";
	pthread_mutex_lock(&sv->lock);
	char *body = scrape(sv, fmt, &len, &http, why, sizeof why);
	pthread_mutex_unlock(&sv->lock);
	if (!body)
		return reply_text(conn, http, why);
	return reply(conn, MHD_HTTP_OK,
		     fmt == CXM_FORMAT_OPENMETRICS ? CXM_OPENMETRICS_CONTENT_TYPE
						   : CXM_PROMETHEUS_CONTENT_TYPE,
		     body, len, MHD_RESPMEM_MUST_FREE);
}

static struct MHD_Daemon *listen_on(server *sv, char *shown, size_t shown_cap)
{
	const options *o = &sv->opt;
	struct sockaddr_in sa4;
	struct sockaddr_in6 sa6;
	struct sockaddr *sa;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	bool v6 = false;
	memset(&sa4, 0, sizeof sa4);
	memset(&sa6, 0, sizeof sa6);
	if (inet_pton(AF_INET, o->bind, &sa4.sin_addr) == 1) {
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons((uint16_t)o->port);
		sa = (struct sockaddr *)&sa4;
	} else if (inet_pton(AF_INET6, o->bind, &sa6.sin6_addr) == 1) {
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)o->port);
		sa = (struct sockaddr *)&sa6;
		/* "::" takes IPv4 too, as it does for most servers. */
		flags |= IN6_IS_ADDR_UNSPECIFIED(&sa6.sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
		v6 = true;
	} else {
		bad_usage("--bind %s: not an IPv4 or IPv6 address", o->bind);
	}
	struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, answer, sv,
						MHD_OPTION_SOCK_ADDR, sa,
						MHD_OPTION_CONNECTION_TIMEOUT, 30u,
						MHD_OPTION_CONNECTION_LIMIT, 64u,
						MHD_OPTION_END);
	if (!d)
		return NULL;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : (unsigned)o->port;
	snprintf(shown, shown_cap, v6 ? "[%s]:%u" : "%s:%u", o->bind, port);
	return d;
}

int main(int argc, char **argv)
{
	static server sv;
	parse_args(&sv.opt, argc, argv);
	check_labels(&sv.opt);
	struct stat st;
	if (stat(sv.opt.dir, &st) != 0) {
		fprintf(stderr, "cxm-exporter: --dir %s: %s\n", sv.opt.dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "cxm-exporter: --dir %s: not a directory\n", sv.opt.dir);
		return 1;
	}
	pthread_mutex_init(&sv.lock, NULL);

	/* The signals are taken by sigwait() below; blocked before the daemon
	 * starts, so its thread inherits the mask and never runs a handler. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	char shown[INET6_ADDRSTRLEN + 16];
	struct MHD_Daemon *d = listen_on(&sv, shown, sizeof shown);
	if (!d) {
		fprintf(stderr, "cxm-exporter: cannot listen on %s port %ld\n", sv.opt.bind,
			sv.opt.port);
		return 1;
	}
	/* The first line on stdout says where: with --port 0, the port taken. */
	printf("cxm-exporter: serving %s/*" SUFFIX " on http://%s/metrics\n", sv.opt.dir, shown);
	fflush(stdout);

	int sig = 0;
	while (sigwait(&stop, &sig) != 0)
		;
	log_line("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	MHD_stop_daemon(d);
	for (size_t i = 0; i < sv.n_files; i++)
		free(sv.files[i].name);
	free(sv.files);
	for (uint32_t i = 0; i < sv.opt.n_labels; i++)
		free((char *)sv.opt.label_names[i]);
	pthread_mutex_destroy(&sv.lock);
	return 0;
}
