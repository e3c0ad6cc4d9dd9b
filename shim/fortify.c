/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fortify.c — the _FORTIFY_SOURCE forms of the calls the shim wraps.
 *
 * A program built with -D_FORTIFY_SOURCE (Debian builds its daemons so)
 * calls __poll_chk, __read_chk, __recv_chk... wherever the compiler knows
 * the size of the buffer; those are separate libc symbols, and a call to
 * one the shim did not define went straight to the kernel and blocked the
 * whole hub.  Each one here makes glibc's check (glibc 2.36's
 * debug/poll_chk.c, read_chk.c...: the length against the object size,
 * __chk_fail() when it does not fit) and then the wrapped call.
 * tests/scripts/exports.sh fails when libc has a _chk form of a wrapped call
 * that is missing here.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "green.h"
#include "libc_abi.h"

extern void __chk_fail(void) __attribute__((noreturn));

GR_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int ms, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return poll(fds, n, ms);
}

GR_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
			  const struct timespec *ts, const sigset_t *ss,
			  size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		__chk_fail();
	return ppoll(fds, n, ts, ss);
}

GR_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

GR_EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			      size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

GR_EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off,
				size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return pread64(fd, buf, n, off);
}

GR_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			     int flags)
{
	if (n > buflen)
		__chk_fail();
	return recv(fd, buf, n, flags);
}

GR_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *from,
				 socklen_t *fromlen)
{
	if (n > buflen)
		__chk_fail();
	return recvfrom(fd, buf, n, flags, from, fromlen);
}

/* glibc reads at most min(n - 1, size) bytes and fails once it has read
 * `size` of them (the terminating NUL would not fit).  The same without
 * writing past the object: read size - 1, and if the line goes on, the
 * next byte is the one glibc would have failed on. */
GR_EXPORT char *__fgets_chk(char *s, size_t size, int n, FILE *fp)
{
	size_t len;

	if (n <= 0)
		return NULL;
	if ((size_t)n <= size)
		return fgets(s, n, fp);
	if (size == 0)
		return NULL;
	if (size == 1)
		s[0] = '\0';
	else if (fgets(s, (int)size, fp) == NULL)
		return NULL;
	len = strlen(s);
	if (len < size - 1 || (len > 0 && s[len - 1] == '\n'))
		return s;
	if (fgetc(fp) != EOF)
		__chk_fail();
	return len > 0 ? s : NULL;
}

GR_EXPORT size_t __fread_chk(void *buf, size_t buflen, size_t size, size_t n,
			     FILE *fp)
{
	size_t want = size * n;

	if ((n | size) >= ((size_t)1 << (8 * sizeof(size_t) / 2)) &&
	    size != 0 && want / size != n)
		__chk_fail();
	if (want > buflen)
		__chk_fail();
	if (want == 0)
		return 0;
	return fread(buf, size, n, fp);
}
