/* The file I/O layer of snapshots, and CRC32C.
 *
 * Snapshots reach the file system only through a cxm_io table, so that the
 * fault tests can make any call fail, write short, or stop at a byte, and
 * check that the previous snapshot survives all of them. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static int posix_open(const char *path, int flags, mode_t mode)
{
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static int posix_fsync(int fd)
{
	int rc;
	do
		rc = fsync(fd);
	while (rc < 0 && errno == EINTR);
	return rc;
}

const cxm_io cxm__io_posix = {
	.open = posix_open,
	.read = read,
	.write = write,
	.fsync = posix_fsync,
	.close = close,
	.rename = rename,
	.unlink = unlink,
};

int cxm__io_write_all(const cxm_io *io, int fd, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	while (n) {
		ssize_t w = io->write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			/* a write that makes no progress would loop forever */
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- CRC32C ------------------------------------------------------------------
 *
 * Software: slicing by 8 (eight 256-entry tables, built once; they are
 * constants, not state). On x86-64 with SSE 4.2, the crc32 instruction,
 * 8 bytes at a time, which is several times faster. */

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_build(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc_soft(uint32_t crc, const unsigned char *p, size_t n)
{
	pthread_once(&table_once, table_build);
	while (n && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
		n--;
	}
	while (n >= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
		      table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <string.h>
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const unsigned char *p,
							  size_t n)
{
	uint64_t c = crc;
	while (n && ((uintptr_t)p & 7)) {
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
		n--;
	}
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		n -= 8;
	}
	while (n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
	return (uint32_t)c;
}

static bool have_hw(void)
{
	static _Atomic int state; /* 0 unknown, 1 no, 2 yes: a cache of a CPU fact */
	int s = state;
	if (!s) {
		__builtin_cpu_init();
		s = __builtin_cpu_supports("sse4.2") ? 2 : 1;
		state = s;
	}
	return s == 2;
}
#endif

uint32_t cxm__crc32c(uint32_t crc, const void *data, size_t n)
{
	crc = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (have_hw())
		return ~crc_hw(crc, data, n);
#endif
	return ~crc_soft(crc, data, n);
}
