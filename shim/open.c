/*
 * open.c — open(2) and friends, for the one case that blocks: a FIFO
 * opened without O_NONBLOCK waits in the kernel for the other end.  With
 * another green thread to run, a path that is a FIFO is opened by a worker
 * thread while the caller parks (the other end may well be opened by a
 * green thread of this hub).  Everything else is libc's, with one extra
 * fstatat only when the open could be a blocking FIFO open.  (ttys do not
 * block in open here: no modem lines.)
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include "green.h"

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
	struct open_job j = { dirfd, path, flags, mode };
	struct stat st;
	long fd;

	if ((flags & (O_NONBLOCK | O_PATH | O_CREAT)) || (flags & O_ACCMODE) == O_RDWR ||
	    !gr_park_useful())
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

GR_EXPORT int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if ((fd = fifo_open(AT_FDCWD, path, flags, mode)) != -1)
		return fd;
	return REAL(open)(path, flags, mode);
}

GR_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	if ((fd = fifo_open(dirfd, path, flags, mode)) != -1)
		return fd;
	return REAL(openat)(dirfd, path, flags, mode);
}

/* O_LARGEFILE is implied on 64-bit: the same functions. */
GR_EXPORT int open64(const char *, int, ...) __attribute__((alias("open")));
GR_EXPORT int openat64(int, const char *, int, ...) __attribute__((alias("openat")));
