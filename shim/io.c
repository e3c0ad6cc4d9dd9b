/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.c — read, write, readv, writev and the positional forms.
 *
 * Sockets are read with MSG_DONTWAIT, pipes with RWF_NOWAIT, other
 * pollable fds (ttys, FIFOs, eventfd...) after a readiness check: the
 * description's flags are never touched.  A blocking write is complete
 * when all bytes are written, as the kernel's is: partial progress
 * continues after a wait.  Regular files are not "blocking" in the poll
 * sense and go straight to libc (GREEN_FILEIO may offload them).
 */
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include "green.h"

/* Should this call on fd go through the shim?  Not without another green
 * thread to run, not on the program's own non-blocking fds, not on files. */
GR_HIDDEN bool gr_green_fd(int fd, struct gr_fd **out)
{
	struct gr_fd *f;

	if (!gr_park_useful())
		return false;
	f = gr_fd_get(fd);
	if (f == NULL || f->nonblock || f->kind == GR_FD_FILE ||
	    f->kind == GR_FD_UNKNOWN)
		return false;
	*out = f;
	return true;
}

struct iov_arg {
	const struct iovec *iov;
	int cnt;
	struct gr_fd *f;
	int sflags; /* extra send flags (MSG_NOSIGNAL after progress) */
};

static long poll_ready(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	int r = REAL(poll)(&p, 1, 0);

	if (r < 0)
		return -errno;
	return r;
}

/* One non-blocking attempt at readv. */
static long try_readv(int fd, void *arg, bool waited)
{
	struct iov_arg *a = arg;
	struct gr_fd *f = a->f;
	long r;

	switch (f->kind) {
	case GR_FD_SOCK: {
		struct msghdr m = {.msg_iov = (struct iovec *)a->iov,
				   .msg_iovlen = a->cnt};
		/* One buffer (read(), the common case): recvfrom spares the
		 * kernel copying in a msghdr and importing an iovec. */
		if (a->cnt == 1)
			r = REAL(recvfrom)(fd, a->iov[0].iov_base,
					   a->iov[0].iov_len, MSG_DONTWAIT,
					   NULL, NULL);
		else
			r = REAL(recvmsg)(fd, &m, MSG_DONTWAIT);
		break;
	}
	case GR_FD_PIPE:
		r = REAL(preadv2)(fd, a->iov, a->cnt, -1, RWF_NOWAIT);
		if (r < 0 && errno == EOPNOTSUPP) {
			f->kind = GR_FD_POLLED; /* a named FIFO */
			return try_readv(fd, arg, waited);
		}
		break;
	default:
		if (!waited && (r = poll_ready(fd, POLLIN)) <= 0)
			return r < 0 ? r : -EAGAIN;
		r = REAL(readv)(fd, a->iov, a->cnt);
		break;
	}
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

static long try_writev(int fd, void *arg, bool waited)
{
	struct iov_arg *a = arg;
	struct gr_fd *f = a->f;
	long r;

	switch (f->kind) {
	case GR_FD_SOCK: {
		struct msghdr m = {.msg_iov = (struct iovec *)a->iov,
				   .msg_iovlen = a->cnt};
		if (a->cnt == 1)
			r = REAL(sendto)(fd, a->iov[0].iov_base,
					 a->iov[0].iov_len,
					 MSG_DONTWAIT | a->sflags, NULL, 0);
		else
			r = REAL(sendmsg)(fd, &m, MSG_DONTWAIT | a->sflags);
		break;
	}
	case GR_FD_PIPE:
		r = REAL(pwritev2)(fd, a->iov, a->cnt, -1, RWF_NOWAIT);
		if (r < 0 && errno == EOPNOTSUPP) {
			f->kind = GR_FD_POLLED;
			return try_writev(fd, arg, waited);
		}
		break;
	default:
		if (!waited && (r = poll_ready(fd, POLLOUT)) <= 0)
			return r < 0 ? r : -EAGAIN;
		r = REAL(writev)(fd, a->iov, a->cnt);
		break;
	}
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

GR_HIDDEN long gr_readv(int fd, struct gr_fd *f, const struct iovec *iov,
			int cnt)
{
	struct iov_arg a = {iov, cnt, f, 0};
	long r = gr_io(fd, f, GR_EV_READ, try_readv, &a, GR_WAIT_READ);

	if (r == -EXDEV) { /* another OS thread's hub watches it: block */
		r = REAL(readv)(fd, iov, cnt);
		return r < 0 ? -errno : r;
	}
	if (r >= 0 && (size_t)r < iov_len(iov, cnt) && f->kind != GR_FD_POLLED)
		f->drained = 1; /* came up short: nothing left to read */
	return r;
}

/* A blocking send to an AF_UNIX stream socket whose peer went away with
 * unread data, after some progress, takes the pending error (ECONNRESET)
 * while it waits (sock_alloc_send_pskb) and returns the count: a later
 * poll sees no POLLERR.  Our non-blocking continuation failed with EPIPE
 * without consuming it, so take it here.  (TCP keeps sk_err: not done.) */
GR_HIDDEN void gr_send_failed_late(int fd, struct gr_fd *f, long err)
{
	int dom = 0, e;
	socklen_t l = sizeof(dom);

	if (f->kind != GR_FD_SOCK || (err != -EPIPE && err != -ECONNRESET))
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) == 0 &&
	    dom == AF_UNIX) {
		l = sizeof(e);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
	}
}

/* Write everything, as a blocking fd does; stop early only on an error or
 * a timeout after some progress (then the count so far is the answer).
 * A blocking stream-socket write that fails after some progress returns
 * the count without SIGPIPE (Linux's tcp_sendmsg and unix_stream_sendmsg
 * raise it only when nothing went out): so the rest of a socket write goes
 * with MSG_NOSIGNAL, and the next write gets EPIPE and the signal, as
 * natively.  A pipe raises it either way (pipe_write), so pipes do not. */
GR_HIDDEN long gr_writev(int fd, struct gr_fd *f, const struct iovec *iov,
			 int cnt)
{
	struct iovec local[64], *v = (struct iovec *)iov;
	size_t total = iov_len(iov, cnt), done = 0;
	int vc = cnt;

	for (;;) {
		struct iov_arg a = {v, vc, f, done ? MSG_NOSIGNAL : 0};
		long r =
		    gr_io(fd, f, GR_EV_WRITE, try_writev, &a, GR_WAIT_WRITE);

		if (r == -EXDEV) {
			r = REAL(writev)(fd, v, vc);
			r = r < 0 ? -errno : r;
		}
		if (r < 0 && done)
			gr_send_failed_late(fd, f, r);
		if (r < 0)
			return done ? (long)done : r;
		done += r;
		if (done >= total || r == 0)
			return done;
		/* Skip what went out; copy the vector the first time. */
		if (v != local) {
			if (cnt > 64)
				return done; /* a huge vector: report progress
					      */
			memcpy(local, iov, cnt * sizeof(*iov));
			v = local;
		}
		while (r > 0 && vc > 0) {
			if ((size_t)r >= v->iov_len) {
				r -= v->iov_len;
				v++;
				vc--;
			} else {
				v->iov_base = (char *)v->iov_base + r;
				v->iov_len -= r;
				r = 0;
			}
		}
	}
}

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
	return gr_ret(gr_readv(fd, f, &v, 1));
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
	return gr_ret(gr_readv(fd, f, iov, cnt));
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
	return gr_ret(gr_writev(fd, f, &v, 1));
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
	return gr_ret(gr_writev(fd, f, iov, cnt));
}

/* Offset -1 means "the file position": readv/writev on a pipe or socket. */
GR_EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off,
			  int flags)
{
	struct gr_fd *f;

	if (off != -1 || flags != 0 || !gr_green_fd(fd, &f))
		return REAL(preadv2)(fd, iov, cnt, off, flags);
	return gr_ret(gr_readv(fd, f, iov, cnt));
}

GR_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
			   int flags)
{
	struct gr_fd *f;

	if (off != -1 || flags != 0 || !gr_green_fd(fd, &f))
		return REAL(pwritev2)(fd, iov, cnt, off, flags);
	return gr_ret(gr_writev(fd, f, iov, cnt));
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
