/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdops.c — the calls that change what a descriptor number is: pipe,
 * pipe2, dup, dup2, dup3, fcntl, ioctl(FIONBIO), close.  They keep
 * runtime/fd/fd.c's table true: the kind of each fd, the program's own
 * O_NONBLOCK, and no waiter or watcher left on a number that was closed
 * or replaced (those waiters get EBADF).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "green.h"

GR_EXPORT int pipe2(int fds[2], int flags)
{
	int r = REAL(pipe2)(fds, flags);

	if (r == 0) {
		gr_fd_created(fds[0], GR_FD_PIPE, flags & O_NONBLOCK);
		gr_fd_created(fds[1], GR_FD_PIPE, flags & O_NONBLOCK);
	}
	return r;
}

GR_EXPORT int pipe(int fds[2])
{
	return pipe2(fds, 0);
}

GR_EXPORT int close(int fd)
{
	if (unlikely(gr_shimfd_is(fd))) {
		/* The shim's own fd (runtime/core/shimfd.c): not the program's
		 * to close, so EBADF as for an fd it never had. */
		if (gr_tls_shimfd == 0)
			return (int)gr_ret(-EBADF);
		gr_shimfd_forget(fd);
		return REAL(close)(fd);
	}
	gr_fd_close(fd);
	return REAL(close)(fd);
}

GR_EXPORT int dup(int old)
{
	int fd = REAL(dup)(old);

	if (fd >= 0)
		gr_fd_dup(old, fd);
	return fd;
}

GR_EXPORT int dup3(int old, int nfd, int flags)
{
	int r;

	if (gr_shimfd_guarded(nfd)) /* the shim's: as if beyond the limit */
		return (int)gr_ret(-EBADF);
	if (old != nfd)
		gr_fd_close(nfd); /* parked users of nfd get EBADF */
	r = REAL(dup3)(old, nfd, flags);
	if (r >= 0)
		gr_fd_dup(old, r);
	return r;
}

GR_EXPORT int dup2(int old, int nfd)
{
	int r;

	if (gr_shimfd_guarded(nfd))
		return (int)gr_ret(-EBADF);
	if (old != nfd)
		gr_fd_close(nfd);
	r = REAL(dup2)(old, nfd);
	if (r >= 0 && old != nfd)
		gr_fd_dup(old, r);
	return r;
}

static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg)
{
	int r = real(fd, cmd, arg);

	if (r < 0)
		return r;
	switch (cmd) {
	case F_SETFL:
		gr_fd_set_nonblock(fd, ((long)arg & O_NONBLOCK) != 0);
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		gr_fd_dup(fd, r);
		break;
	}
	return r;
}

/* fcntl's third argument is an int or a pointer: pass the register on. */
GR_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(REAL(fcntl), fd, cmd, arg);
}

GR_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(REAL(fcntl64), fd, cmd, arg);
}

GR_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = REAL(ioctl)(fd, req, arg);
	if (r == 0 && req == FIONBIO && arg != NULL)
		gr_fd_set_nonblock(fd, *(int *)arg != 0);
	return r;
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__pipe, pipe);
GR_ALIAS(__close, close);
GR_ALIAS(__dup2, dup2);
GR_ALIAS(__fcntl, fcntl);
