/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fdio.c — the retry loop behind every blocking call on a descriptor, and
 * the read/write family on it.
 *
 * "Do the speculative call first, wait only after it fails" (libdill), with
 * one refinement for the hot path: after a read came up short the socket or
 * pipe is known to be drained, so the next read parks first instead of
 * paying for a call that would say EAGAIN.  A read that finds data ready
 * costs one syscall; a round trip of an echo server costs the read, the
 * write and its share of the hub's epoll_wait.  `drained` is written here
 * only, at the end of each read (fd.c clears it with the rest of an entry).
 *
 * A call is a struct gr_fdop: one attempt that never blocks (try: per-call
 * non-blocking forms, MSG_DONTWAIT, RWF_NOWAIT, or a readiness check
 * first), and the same call made the plain, blocking way (block).  The
 * tries never touch a description's O_NONBLOCK.
 *
 * One fd, one hub: an fd whose watcher lives in another OS thread's loop
 * cannot be waited on from this one (fd.c answers -EXDEV: only the owner
 * may touch its loop).  gr_fdop_wait is the one place that answers it:
 * this OS thread makes the op's blocking call instead, in the kernel, as
 * libc would.  (Several hubs sharing fds will remove this.)
 *
 * Called by shim/io.c (gr_fd_readv, gr_fd_writev), runtime/fd/sock.c,
 * poll.c and stdio.c.  Returns what the try returned, or -EAGAIN when
 * SO_RCVTIMEO/SO_SNDTIMEO ran out (libc's errno for it), -EINTR/-ECANCELED
 * as the signal and cancel rules say.
 */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "green.h"

/* Should this call on fd go through the shim?  Not without another green
 * thread to run, not on the program's own non-blocking fds, not on files. */
bool gr_green_fd(int fd, struct gr_fd **out)
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

long gr_fdop_wait(struct gr_fdop *op, int64_t deadline)
{
	long r;

	if (op->p != NULL)
		r = gr_fd_wait_many(op->p, op->n, deadline);
	else
		r = gr_fd_wait(op->fd, op->ev, deadline,
			       op->ev == GR_EV_READ ? GR_WAIT_READ
						    : GR_WAIT_WRITE);
	if (r != -EXDEV)
		return r;
	/* Another OS thread's hub watches it: block in the kernel. */
	op->blocked = true;
	return op->block(op);
}

long gr_io(struct gr_fdop *op)
{
	struct gr_fd *f = op->f;
	bool read = op->ev == GR_EV_READ;
	int64_t timeo = read ? f->rcvtimeo : f->sndtimeo;
	int64_t deadline = 0;
	bool waited = false;
	int saved = errno; /* the tries' EAGAIN is ours, not the caller's */
	long r;

	op->blocked = false;
	for (;;) {
		if (!(read && f->drained && !waited)) {
			r = op->try(op, waited);
			if (r != -EAGAIN)
				break;
		}
		if (timeo && !deadline)
			deadline = gr_now() + timeo;
		r = gr_fdop_wait(op, deadline);
		if (op->blocked)
			break;
		if (r == -ETIMEDOUT) {
			r = -EAGAIN;
			break;
		}
		if (r == -ECANCELED) {
			gr_testcancel();
			continue;
		}
		/* Linux restarts a socket call after an SA_RESTART handler
		 * unless the socket has a timeout set. */
		r = gr_intr(r, timeo == 0);
		if (r < 0)
			break;
		waited = true;
	}
	/* A read that had to wait marks a ping-pong, and one that came up
	 * short an empty fd: the next one parks first (see the file
	 * comment).  A listener is not a ping-pong: a backlog of
	 * connections must be taken one accept after another, not a poll
	 * each. */
	if (read && (r >= 0 || waited))
		f->drained =
		    !f->listener && r >= 0 && (waited || (size_t)r < op->want);
	if (r >= 0)
		errno = saved;
	return r;
}

/* ---- read and write ---------------------------------------------------- */

/* Sockets are read with MSG_DONTWAIT, pipes with RWF_NOWAIT, other
 * pollable fds (ttys, FIFOs, eventfd...) after a readiness check: the
 * description's flags are never touched.  A blocking write is complete
 * when all bytes are written, as the kernel's is: partial progress
 * continues after a wait. */
struct iov_op {
	struct gr_fdop op;
	const struct iovec *iov;
	int cnt;
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

static long neg_errno(long r)
{
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* One non-blocking attempt at readv. */
static long try_readv(struct gr_fdop *op, bool waited)
{
	struct iov_op *a = (struct iov_op *)op;
	struct gr_fd *f = op->f;
	int fd = op->fd;
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
			op->want = 0;		/* see gr_fd_readv */
			return try_readv(op, waited);
		}
		break;
	default:
		if (!waited && (r = poll_ready(fd, POLLIN)) <= 0)
			return r < 0 ? r : -EAGAIN;
		r = REAL(readv)(fd, a->iov, a->cnt);
		break;
	}
	return neg_errno(r);
}

static long block_readv(struct gr_fdop *op)
{
	struct iov_op *a = (struct iov_op *)op;

	return neg_errno(REAL(readv)(op->fd, a->iov, a->cnt));
}

static long try_writev(struct gr_fdop *op, bool waited)
{
	struct iov_op *a = (struct iov_op *)op;
	struct gr_fd *f = op->f;
	int fd = op->fd;
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
			return try_writev(op, waited);
		}
		break;
	default:
		if (!waited && (r = poll_ready(fd, POLLOUT)) <= 0)
			return r < 0 ? r : -EAGAIN;
		r = REAL(writev)(fd, a->iov, a->cnt);
		break;
	}
	return neg_errno(r);
}

static long block_writev(struct gr_fdop *op)
{
	struct iov_op *a = (struct iov_op *)op;

	return neg_errno(REAL(writev)(op->fd, a->iov, a->cnt));
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

long gr_fd_readv(int fd, struct gr_fd *f, const struct iovec *iov, int cnt)
{
	/* A short read leaves a socket or pipe drained; a tty or FIFO read
	 * returns a line or what is there, so it tells nothing. */
	struct iov_op a = {
	    .op = {.fd = fd,
		   .f = f,
		   .ev = GR_EV_READ,
		   .want = f->kind == GR_FD_POLLED ? 0 : iov_len(iov, cnt),
		   .try = try_readv,
		   .block = block_readv},
	    .iov = iov,
	    .cnt = cnt};

	return gr_io(&a.op);
}

/* A blocking send to an AF_UNIX stream socket whose peer went away with
 * unread data, after some progress, takes the pending error (ECONNRESET)
 * while it waits (sock_alloc_send_pskb) and returns the count: a later
 * poll sees no POLLERR.  Our non-blocking continuation failed with EPIPE
 * without consuming it, so take it here.  (TCP keeps sk_err: not done.) */
void gr_fd_send_failed_late(int fd, struct gr_fd *f, long err)
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
long gr_fd_writev(int fd, struct gr_fd *f, const struct iovec *iov, int cnt)
{
	struct iovec local[64], *v = (struct iovec *)iov;
	size_t total = iov_len(iov, cnt), done = 0;
	int vc = cnt;

	for (;;) {
		struct iov_op a = {.op = {.fd = fd,
					  .f = f,
					  .ev = GR_EV_WRITE,
					  .try = try_writev,
					  .block = block_writev},
				   .iov = v,
				   .cnt = vc,
				   .sflags = done ? MSG_NOSIGNAL : 0};
		long r = gr_io(&a.op);

		if (r < 0 && done)
			gr_fd_send_failed_late(fd, f, r);
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
