/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.c — read, write, readv, writev and the positional forms.
 *
 * The tries and the retry loop are runtime/fd/fdio.c's (per-call
 * non-blocking forms: the description's flags are never touched; a
 * blocking write is complete when all bytes are written).  Regular files
 * are not "blocking" in the poll sense and go straight to libc
 * (GREEN_FILEIO may offload them).
 */
#include <sys/uio.h>
#include "green.h"

GR_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct gr_fd *f;
	struct iovec v = {buf, n};

	if (!gr_green_fd(fd, &f)) {
		if (gr_file_offload(fd))
			return gr_ret(gr_file_io(GR_FILE_READ, fd, &v, 1, -1));
		return REAL(read)(fd, buf, n);
	}
	GR_CALL("read");
	return gr_ret(gr_fd_readv(fd, f, &v, 1));
}

GR_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct gr_fd *f;

	if (!gr_green_fd(fd, &f)) {
		if (gr_file_offload(fd))
			return gr_ret(
			    gr_file_io(GR_FILE_READ, fd, iov, cnt, -1));
		return REAL(readv)(fd, iov, cnt);
	}
	GR_CALL("readv");
	return gr_ret(gr_fd_readv(fd, f, iov, cnt));
}

GR_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct gr_fd *f;
	struct iovec v = {(void *)buf, n};

	if (!gr_green_fd(fd, &f)) {
		if (gr_file_offload(fd))
			return gr_ret(gr_file_io(GR_FILE_WRITE, fd, &v, 1, -1));
		return REAL(write)(fd, buf, n);
	}
	GR_CALL("write");
	return gr_ret(gr_fd_writev(fd, f, &v, 1));
}

GR_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct gr_fd *f;

	if (!gr_green_fd(fd, &f)) {
		if (gr_file_offload(fd))
			return gr_ret(
			    gr_file_io(GR_FILE_WRITE, fd, iov, cnt, -1));
		return REAL(writev)(fd, iov, cnt);
	}
	GR_CALL("writev");
	return gr_ret(gr_fd_writev(fd, f, iov, cnt));
}

/* Offset -1 means "the file position": readv/writev on a pipe or socket. */
GR_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
			  int flags)
{
	struct gr_fd *f;

	if (off != -1 || flags != 0 || !gr_green_fd(fd, &f))
		return REAL(preadv2)(fd, iov, cnt, off, flags);
	return gr_ret(gr_fd_readv(fd, f, iov, cnt));
}

GR_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			   int flags)
{
	struct gr_fd *f;

	if (off != -1 || flags != 0 || !gr_green_fd(fd, &f))
		return REAL(pwritev2)(fd, iov, cnt, off, flags);
	return gr_ret(gr_fd_writev(fd, f, iov, cnt));
}

/* _FILE_OFFSET_BITS=64 programs (Debian builds CPython, lighttpd... so)
 * call the large-file names; on x86-64 and aarch64 off_t is 64 bits, so
 * they are the same functions. */
GR_EXPORT ssize_t preadv64v2(int, const struct iovec *, int, off_t, int)
    __attribute__((alias("preadv2")));
GR_EXPORT ssize_t pwritev64v2(int, const struct iovec *, int, off_t, int)
    __attribute__((alias("pwritev2")));

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__read, read);
GR_ALIAS(__write, write);
