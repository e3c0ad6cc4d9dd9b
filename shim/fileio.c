/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileio.c — the calls that exist for regular files only: the positional
 * reads and writes (pread, pwrite, preadv, pwritev and their 64 names)
 * and the syncs (fsync, fdatasync).  With GREEN_FILEIO=pool or nowait, on
 * a regular file and with another green thread to run, they go through
 * runtime/fd/fileio.c (worker pool, RWF_NOWAIT first for nowait); everything
 * else is libc's: the default (inline), sockets and pipes (ESPIPE from the
 * kernel as before), devices.  The syncs and pread/pwrite are
 * cancellation points in glibc; they are here too, before the call.
 */
#include <unistd.h>
#include <sys/uio.h>
#include "green.h"

/* Should this call on fd go to runtime/fd/fileio.c? */
static inline bool offload(int fd)
{
	return gr_file_offload(fd);
}

static ssize_t rw(enum gr_file_op op, int fd, const struct iovec *iov, int cnt,
		  off_t off)
{
	gr_testcancel();
	return gr_ret(gr_file_io(op, fd, iov, cnt, off));
}

/* An offset below zero is EINVAL for the positional calls (gr_file_io
 * takes it for "at the file position"). */
#define POS_CHECK(off)                                                         \
	do {                                                                   \
		if ((off) < 0)                                                 \
			return gr_ret(-EINVAL);                                \
	} while (0)

GR_EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct iovec v = {buf, n};

	if (!offload(fd))
		return REAL(pread)(fd, buf, n, off);
	POS_CHECK(off);
	return rw(GR_FILE_READ, fd, &v, 1, off);
}

GR_EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
{
	struct iovec v = {buf, n};

	if (!offload(fd))
		return REAL(pread64)(fd, buf, n, off);
	POS_CHECK(off);
	return rw(GR_FILE_READ, fd, &v, 1, off);
}

GR_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct iovec v = {(void *)buf, n};

	if (!offload(fd))
		return REAL(pwrite)(fd, buf, n, off);
	POS_CHECK(off);
	return rw(GR_FILE_WRITE, fd, &v, 1, off);
}

GR_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	struct iovec v = {(void *)buf, n};

	if (!offload(fd))
		return REAL(pwrite64)(fd, buf, n, off);
	POS_CHECK(off);
	return rw(GR_FILE_WRITE, fd, &v, 1, off);
}

GR_EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!offload(fd))
		return REAL(preadv)(fd, iov, cnt, off);
	POS_CHECK(off);
	return rw(GR_FILE_READ, fd, iov, cnt, off);
}

GR_EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!offload(fd))
		return REAL(preadv64)(fd, iov, cnt, off);
	POS_CHECK(off);
	return rw(GR_FILE_READ, fd, iov, cnt, off);
}

GR_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!offload(fd))
		return REAL(pwritev)(fd, iov, cnt, off);
	POS_CHECK(off);
	return rw(GR_FILE_WRITE, fd, iov, cnt, off);
}

GR_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
	if (!offload(fd))
		return REAL(pwritev64)(fd, iov, cnt, off);
	POS_CHECK(off);
	return rw(GR_FILE_WRITE, fd, iov, cnt, off);
}

GR_EXPORT int fsync(int fd)
{
	if (!offload(fd))
		return REAL(fsync)(fd);
	gr_testcancel();
	return (int)gr_ret(gr_file_io(GR_FILE_FSYNC, fd, NULL, 0, -1));
}

GR_EXPORT int fdatasync(int fd)
{
	if (!offload(fd))
		return REAL(fdatasync)(fd);
	gr_testcancel();
	return (int)gr_ret(gr_file_io(GR_FILE_FDATASYNC, fd, NULL, 0, -1));
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__pread64, pread64);
GR_ALIAS(__pwrite64, pwrite64);
