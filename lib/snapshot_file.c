/* Snapshot files: save (to a temporary file beside the target, synced,
 * then renamed over it and the directory synced, so that a crash leaves
 * the old file or the new one, whole), load and merge by path. The file
 * system is reached through the context's cxm_io (fileio.h); the bytes
 * are written, loaded and merged by snapshot.c and snapshot_merge.c. */
#include "fileio.h"
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const cxm_io *io_of(const cxm_context *ctx)
{
	return ctx->io ? ctx->io : &cxm__io_posix;
}

static cxm_status io_fail(cxm_context *ctx, const char *op, const char *path, int err)
{
	char buf[128];
	const char *text = strerror_r(err, buf, sizeof buf);
	return cxm__fail(ctx, CXM_ERR_IO, "%s '%s': %s (errno %d)", op, path, text, err);
}

typedef struct fsink {
	const cxm_io *io;
	int fd;
	int err;
} fsink;

static int to_file(const void *data, size_t len, void *payload)
{
	fsink *f = payload;
	if (cxm__io_write_all(f->io, f->fd, data, len) == 0)
		return 0;
	f->err = errno;
	return -1;
}

/* Remove the temporary files an earlier save of the same target left when
 * its process died mid-save (named <target>.tmp-<pid>-<hex>): those whose
 * process no longer exists. A live process's are left alone, whether it
 * is saving now or not. Best effort: a failure here never fails a save. */
static void remove_stale_temps(cxm_context *ctx, const char *dir, const char *base)
{
	const cxm_io *io = io_of(ctx);
	DIR *d = opendir(dir);
	if (!d)
		return;
	size_t blen = strlen(base), dlen = strlen(dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp-", 5) != 0)
			continue;
		char *end;
		errno = 0;
		long pid = strtol(n + blen + 5, &end, 10);
		if (errno || pid <= 0 || *end != '-' || !end[1] || strspn(end + 1, "0123456789abcdef") !=
								    strlen(end + 1))
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive, or not ours to tell */
		size_t cap = dlen + 1 + strlen(n) + 1;
		char *full = cxm__alloc(ctx, cap);
		if (!full)
			break;
		snprintf(full, cap, "%s/%s", dir, n);
		io->unlink(full);
		cxm__free(ctx, full, cap);
	}
	closedir(d);
}

cxm_status cxm_snapshot_save(cxm_context *ctx, const char *path)
{
	if (!ctx || !path || !*path)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s", !ctx ? "ctx is NULL" : !path ? "path is NULL" : "path is empty");
	const cxm_io *io = io_of(ctx);
	size_t plen = strlen(path);
	size_t tcap = plen + 64;
	char *tmp = cxm__alloc(ctx, tcap);
	char *dir = cxm__alloc(ctx, plen + 2);
	if (!tmp || !dir) {
		cxm__free(ctx, tmp, tcap);
		cxm__free(ctx, dir, plen + 2);
		return cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory for a file name");
	}
	/* the directory, for its fsync after the rename */
	const char *slash = strrchr(path, '/');
	if (!slash)
		memcpy(dir, ".", 2);
	else if (slash == path)
		memcpy(dir, "/", 2);
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = 0;
	}
	cxm_status st = CXM_OK;
	int fd = -1;
	remove_stale_temps(ctx, dir, slash ? slash + 1 : path);
	/* a snapshot that replaces another keeps its mode (and, where this
	 * process may set it, its owner); a new one is 0644 less the umask */
	struct stat old;
	bool keep = stat(path, &old) == 0 && S_ISREG(old.st_mode);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	for (int attempt = 0; attempt < 16 && fd < 0; attempt++) {
		snprintf(tmp, tcap, "%s.tmp-%ld-%lx", path, (long)getpid(),
			 (unsigned long)(ts.tv_nsec + attempt * 7919 + (long)(uintptr_t)ctx));
		fd = io->open(tmp, O_WRONLY | O_CREAT | O_EXCL, keep ? old.st_mode & 07777 : 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		st = io_fail(ctx, "create", tmp, errno);
		goto done;
	}
	if (keep) {
		/* best effort: the umask narrowed the mode at open, and only a
		 * privileged process may give the file away */
		(void)!fchmod(fd, old.st_mode & 07777);
		if (old.st_uid != geteuid() || old.st_gid != getegid())
			(void)!fchown(fd, old.st_uid, old.st_gid);
	}
	fsink f = {io, fd, 0};
	st = cxm__snapshot_write(ctx, to_file, &f);
	if (st == CXM_ERR_IO)
		st = io_fail(ctx, "write", tmp, f.err);
	if (!st && io->fsync(fd) != 0)
		st = io_fail(ctx, "fsync", tmp, errno);
	int rc = io->close(fd);
	if (!st && rc != 0)
		st = io_fail(ctx, "close", tmp, errno);
	if (!st && io->rename(tmp, path) != 0)
		st = io_fail(ctx, "rename to", path, errno);
	if (st) {
		io->unlink(tmp); /* best effort: the failure is already reported */
		goto done;
	}
	int dfd = io->open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0) {
		st = io_fail(ctx, "open directory", dir, errno);
		goto done;
	}
	if (io->fsync(dfd) != 0)
		st = io_fail(ctx, "fsync directory", dir, errno);
	if (io->close(dfd) != 0 && !st)
		st = io_fail(ctx, "close directory", dir, errno);
done:
	cxm__free(ctx, tmp, tcap);
	cxm__free(ctx, dir, plen + 2);
	return st;
}

/* Read a whole snapshot file into the context's memory. Only a regular
 * file is read (a FIFO, a device such as /dev/zero or a directory is
 * refused before any byte is read: O_NONBLOCK keeps the open of a FIFO
 * from waiting for a writer), and never more than the size it had when
 * opened, so a file that grows meanwhile cannot make the read unbounded. */
static cxm_status read_file(cxm_context *ctx, const char *path, wbuf *b)
{
	const cxm_io *io = io_of(ctx);
	int fd = io->open(path, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return io_fail(ctx, "open", path, errno);
	cxm_status st = CXM_OK;
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		st = io_fail(ctx, "stat", path, errno);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = cxm__fail(ctx, CXM_ERR_IO, "snapshot: '%s' is not a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > SIZE_MAX / 2) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: '%s' is too large to read", path);
		goto out;
	}
	size_t want = (size_t)sb.st_size;
	unsigned char *p = cxm__wb_take(b, want ? want : 1);
	if (!p) {
		st = cxm__fail(ctx, CXM_ERR_NO_MEMORY, "snapshot: no memory to read '%s' (%zu bytes)",
			       path, want);
		goto out;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t n = io->read(fd, p + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = io_fail(ctx, "read", path, errno);
			goto out;
		}
		if (n == 0)
			break; /* shrank meanwhile: what was read is checked as any input */
		got += (size_t)n;
	}
	b->len = got;
out:
	io->close(fd); /* read-only: nothing of ours depends on it */
	return st;
}

static cxm_status file_op(cxm_context *ctx, const char *path, bool merge)
{
	if (!ctx || !path || !*path)
		return cxm__fail(ctx, CXM_ERR_INVALID, "%s", !ctx ? "ctx is NULL" : !path ? "path is NULL" : "path is empty");
	cxm_status st;
	if (!merge && (st = cxm__snapshot_load_ready(ctx)))
		return st;
	wbuf b = {ctx, NULL, 0, 0, false};
	st = read_file(ctx, path, &b);
	if (!st)
		st = merge ? cxm__snapshot_merge(ctx, b.p, b.len) : cxm__snapshot_load(ctx, b.p, b.len);
	cxm__wb_free(&b);
	return st;
}

cxm_status cxm_snapshot_load(cxm_context *ctx, const char *path)
{
	return file_op(ctx, path, false);
}

cxm_status cxm_snapshot_merge(cxm_context *dst, const char *path)
{
	return file_op(dst, path, true);
}
