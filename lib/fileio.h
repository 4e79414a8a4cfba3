/* libcxm internals: the file I/O layer of snapshots, and CRC32C.
 * Not installed, not ABI. */
#ifndef CXM_FILEIO_H
#define CXM_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Every file operation of a snapshot goes through one of these tables, so
 * that tests can fail the Nth call, write short, or stop at byte K. The
 * functions follow POSIX: -1 and errno on failure. A context's table is
 * cxm_context::io, NULL meaning cxm__io_posix; only tests change it. */
typedef struct cxm_io {
	int (*open)(const char *path, int flags, mode_t mode);
	ssize_t (*read)(int fd, void *buf, size_t n);
	ssize_t (*write)(int fd, const void *buf, size_t n);
	int (*fsync)(int fd);
	int (*close)(int fd);
	int (*rename)(const char *from, const char *to);
	int (*unlink)(const char *path);
} cxm_io;

extern const cxm_io cxm__io_posix __attribute__((visibility("hidden")));

/* CRC32C (Castagnoli, reflected polynomial 0x82F63B78), as in iSCSI and
 * ext4: crc = cxm__crc32c(0, data, n) for a whole buffer, or chained:
 * cxm__crc32c(cxm__crc32c(0, a, na), b, nb) == crc of a then b. */
__attribute__((visibility("hidden"))) uint32_t cxm__crc32c(uint32_t crc, const void *data, size_t n);

/* Write all n bytes (retrying short writes and EINTR); 0, or -1 and errno. */
__attribute__((visibility("hidden"))) int cxm__io_write_all(const cxm_io *io, int fd, const void *buf,
							   size_t n);

#endif
