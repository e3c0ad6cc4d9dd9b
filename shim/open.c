/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * open.c — open(2) and friends, for the one case that blocks: a FIFO
 * opened without O_NONBLOCK waits in the kernel for the other end.  With
 * another green thread to run, a path that is a FIFO is opened by a worker
 * thread while the caller parks (the other end may well be opened by a
 * green thread of this hub).  Everything else is libc's, with one extra
 * fstatat only when the open could be a blocking FIFO open.  (ttys do not
 * block in open here: no modem lines.)
 *
 * Under GREEN_FILEIO=pool every open and stat of a path goes to the
 * worker pool instead (runtime/fd/fileio.c): the walk of a path may wait on
 * the disk or a network filesystem.  That covers the FIFO case as well.
 * The fortified names (__open_2...) and the pre-2.33 stat names
 * (__xstat...) that Debian's binaries call are here too: glibc's own
 * versions reach the kernel without passing through open or stat.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include "green.h"
#include "libc_abi.h"

struct open_job {
	int dirfd;
	const char *path;
	int flags;
	mode_t mode;
};

static long open_job_run(void *arg)
{
	struct open_job *j = arg;
	int fd = REAL(openat)(j->dirfd, j->path, j->flags, j->mode);

	return fd < 0 ? -errno : fd;
}

/* -1: not a blocking FIFO open, the caller opens as usual. */
static int fifo_open(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_job j = {dirfd, path, flags, mode};
	struct stat st;
	long fd;

	if ((flags & (O_NONBLOCK | O_PATH | O_CREAT)) ||
	    (flags & O_ACCMODE) == O_RDWR || !gr_park_useful())
		return -1;
	if (fstatat(dirfd, path, &st, 0) != 0 || !S_ISFIFO(st.st_mode))
		return -1;
	GR_CALL("open");
	fd = gr_pool_run(open_job_run, &j);
	if (fd >= 0)
		gr_fd_created((int)fd, GR_FD_PIPE, false);
	return (int)gr_ret(fd);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	if (gr_path_offload()) {
		GR_CALL("open");
		gr_testcancel();
		return (int)gr_ret(gr_path_open(dirfd, path, flags, mode));
	}
	if ((fd = fifo_open(dirfd, path, flags, mode)) != -1)
		return fd;
	return REAL(openat)(dirfd, path, flags, mode);
}

GR_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open(AT_FDCWD, path, flags, mode);
}

GR_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	return do_open(dirfd, path, flags, mode);
}

GR_EXPORT int creat(const char *path, mode_t mode)
{
	return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* _FORTIFY_SOURCE's open without a mode: glibc's check, then ours.  A
 * flag that needs a mode is glibc's to report (it aborts). */
GR_EXPORT int __open_2(const char *path, int flags)
{
	if (flags & (O_CREAT | O_TMPFILE))
		return REAL(__open_2)(path, flags);
	return do_open(AT_FDCWD, path, flags, 0);
}

GR_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	if (flags & (O_CREAT | O_TMPFILE))
		return REAL(__openat_2)(dirfd, path, flags);
	return do_open(dirfd, path, flags, 0);
}

/* O_LARGEFILE is implied on 64-bit: the same functions. */
GR_EXPORT int open64(const char *, int, ...) __attribute__((alias("open")));
GR_EXPORT int openat64(int, const char *, int, ...)
    __attribute__((alias("openat")));
GR_EXPORT int creat64(const char *, mode_t) __attribute__((alias("creat")));
GR_EXPORT int __open64_2(const char *, int) __attribute__((alias("__open_2")));
GR_EXPORT int __openat64_2(int, const char *, int)
    __attribute__((alias("__openat_2")));

/* ---- stat ------------------------------------------------------------ */

static int path_stat(int dirfd, const char *path, struct stat *st, int flags)
{
	GR_CALL("stat");
	return (int)gr_ret(gr_path_stat(dirfd, path, st, flags));
}

GR_EXPORT int stat(const char *path, struct stat *st)
{
	if (gr_path_offload())
		return path_stat(AT_FDCWD, path, st, 0);
	return REAL(stat)(path, st);
}

GR_EXPORT int lstat(const char *path, struct stat *st)
{
	if (gr_path_offload())
		return path_stat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
	return REAL(lstat)(path, st);
}

GR_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (gr_path_offload())
		return path_stat(dirfd, path, st, flags);
	return REAL(fstatat)(dirfd, path, st, flags);
}

GR_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask,
		    struct statx *stx)
{
	if (gr_path_offload()) {
		GR_CALL("statx");
		return (int)gr_ret(
		    gr_path_statx(dirfd, path, flags, mask, stx));
	}
	return REAL(statx)(dirfd, path, flags, mask, stx);
}

/* Binaries built against glibc before 2.33 call these, with a version
 * that on x86-64 is 0 or 1 for the one struct stat there is; any other
 * version is glibc's to refuse. */
#define STAT_VER_OK(v) ((v) == 0 || (v) == 1)

GR_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	if (STAT_VER_OK(ver) && gr_path_offload())
		return path_stat(AT_FDCWD, path, st, 0);
	return REAL(__xstat)(ver, path, st);
}

GR_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	if (STAT_VER_OK(ver) && gr_path_offload())
		return path_stat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
	return REAL(__lxstat)(ver, path, st);
}

GR_EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
			 int flags)
{
	if (STAT_VER_OK(ver) && gr_path_offload())
		return path_stat(dirfd, path, st, flags);
	return REAL(__fxstatat)(ver, dirfd, path, st, flags);
}

/* struct stat64 is struct stat on 64-bit. */
GR_EXPORT int stat64(const char *, struct stat64 *)
    __attribute__((alias("stat")));
GR_EXPORT int lstat64(const char *, struct stat64 *)
    __attribute__((alias("lstat")));
GR_EXPORT int fstatat64(int, const char *, struct stat64 *, int)
    __attribute__((alias("fstatat")));
GR_EXPORT int __xstat64(int, const char *, struct stat *)
    __attribute__((alias("__xstat")));
GR_EXPORT int __lxstat64(int, const char *, struct stat *)
    __attribute__((alias("__lxstat")));
GR_EXPORT int __fxstatat64(int, int, const char *, struct stat *, int)
    __attribute__((alias("__fxstatat")));

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__open, open);
GR_ALIAS(__open64, open);
