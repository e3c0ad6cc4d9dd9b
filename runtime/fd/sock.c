/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sock.c — the blocking socket calls over fdio.c's retry loop: accept,
 * connect, the recv and send families, sendfile and splice.
 *
 * recv/send take MSG_DONTWAIT per call.  accept has no such flag: a
 * zero-timeout poll says whether a connection is queued (no other green
 * thread runs between it and the accept; another process sharing the
 * listener could still take it first — then this accept blocks the OS
 * thread, a documented limit).  connect on a socket this process made and
 * never shared flips O_NONBLOCK for the one call (nobody can observe it);
 * on any other blocking socket it blocks, counted as a fallback.  So do
 * sendfile and splice, whose socket side honours only O_NONBLOCK.
 *
 * Called by shim/net.c, once it has checked that the call is one to park
 * on (gr_green_fd, a socket, no MSG_DONTWAIT).  Each returns what the
 * call returns, or -errno.
 */
#include <fcntl.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include "green.h"

static inline long neg_errno(long r)
{
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* ---- accept --------------------------------------------------------- */

struct accept_op {
	struct gr_fdop op;
	struct sockaddr *addr;
	socklen_t *len;
	int flags;
};

static long try_accept(struct gr_fdop *op, bool waited)
{
	struct accept_op *a = (struct accept_op *)op;
	struct pollfd p = {op->fd, POLLIN, 0};
	int r;

	if (!waited) {
		r = REAL(poll)(&p, 1, 0);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EAGAIN;
	}
	return neg_errno(REAL(accept4)(op->fd, a->addr, a->len, a->flags));
}

static long block_accept(struct gr_fdop *op)
{
	struct accept_op *a = (struct accept_op *)op;

	return neg_errno(REAL(accept4)(op->fd, a->addr, a->len, a->flags));
}

long gr_fd_accept(int fd, struct gr_fd *f, struct sockaddr *addr,
		  socklen_t *len, int flags)
{
	struct accept_op a = {.op = {.fd = fd,
				     .f = f,
				     .ev = GR_EV_READ,
				     .try = try_accept,
				     .block = block_accept},
			      .addr = addr,
			      .len = len,
			      .flags = flags};
	long r;

	if (f == NULL) {
		r = block_accept(&a.op);
	} else {
		f->listener = 1; /* fd.c readies its waiter first */
		r = gr_io(&a.op);
	}
	if (r >= 0)
		gr_fd_created((int)r, GR_FD_SOCK, flags & SOCK_NONBLOCK);
	return r;
}

/* ---- connect -------------------------------------------------------- */

/* This OS thread cannot park on the fd: wait for the connection in the
 * kernel, then read its outcome as after a park. */
static long block_connect(struct gr_fdop *op)
{
	struct pollfd p = {op->fd, POLLOUT, 0};

	REAL(poll)(&p, 1, -1);
	return 0;
}

long gr_fd_connect(int fd, struct gr_fd *f, const struct sockaddr *addr,
		   socklen_t len)
{
	struct gr_fdop op = {
	    .fd = fd, .f = f, .ev = GR_EV_WRITE, .block = block_connect};
	int fl, r, err = 0;
	socklen_t el = sizeof(err);
	int64_t deadline = 0;
	long w;

	if (!f->ours) {
		gr_diag_fallback("connect");
		return neg_errno(REAL(connect)(fd, addr, len));
	}
	gr_testcancel();
	fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0 || REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return neg_errno(REAL(connect)(fd, addr, len));
	r = REAL(connect)(fd, addr, len);
	err = errno;
	REAL(fcntl)(fd, F_SETFL, fl);
	if (r == 0)
		return 0;
	if (err != EINPROGRESS)
		return -err;
	if (f->sndtimeo)
		deadline = gr_now() + f->sndtimeo;
	for (;;) {
		w = gr_fdop_wait(&op, deadline);
		if (op.blocked)
			break;
		if (w == -ECANCELED) {
			gr_testcancel();
			continue;
		}
		/* as a blocking connect with SO_SNDTIMEO */
		if (w == -ETIMEDOUT)
			return -EINPROGRESS;
		/* The connection goes on in the kernel after a signal:
		 * Linux reports EINTR then, SA_RESTART or not. */
		w = gr_intr(w, false);
		if (w < 0)
			return w;
		break;
	}
	err = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return -errno;
	return -err;
}

/* ---- receive -------------------------------------------------------- */

struct msg_op {
	struct gr_fdop op;
	void *buf;
	size_t len;
	int flags;  /* for the tries (MSG_DONTWAIT is added) */
	int oflags; /* as the program passed them: for block() */
	struct sockaddr *from;
	socklen_t *fromlen;
	struct msghdr *msg;
	struct mmsghdr *mm;
	unsigned vlen;
	struct timespec *tmo;
};

#define MSG_OP(fd_, f_, ev_, try_, block_)                                     \
	.op = {.fd = (fd_),                                                    \
	       .f = (f_),                                                      \
	       .ev = (ev_),                                                    \
	       .try = (try_),                                                  \
	       .block = (block_)}

static long try_recvfrom(struct gr_fdop *op, bool waited)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(recvfrom)(op->fd, a->buf, a->len,
					a->flags | MSG_DONTWAIT, a->from,
					a->fromlen));
}

static long block_recvfrom(struct gr_fdop *op)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(recvfrom)(op->fd, a->buf, a->len, a->oflags,
					a->from, a->fromlen));
}

long gr_fd_recvfrom(int fd, struct gr_fd *f, void *buf, size_t len, int flags,
		    struct sockaddr *from, socklen_t *fromlen)
{
	struct msg_op a = {
	    MSG_OP(fd, f, GR_EV_READ, try_recvfrom, block_recvfrom),
	    .flags = flags & ~MSG_WAITALL, .oflags = flags, .from = from,
	    .fromlen = fromlen};
	size_t done = 0;
	long r;

	/* MSG_WAITALL: keep reading until len, EOF, an error or a signal. */
	for (;;) {
		a.buf = (char *)buf + done;
		a.len = len - done;
		a.op.want = a.len; /* less: the socket is drained */
		r = gr_io(&a.op);
		if (r < 0)
			return done ? (long)done : r;
		done += r;
		if (!(flags & MSG_WAITALL) || r == 0 || done == len ||
		    (flags & MSG_PEEK) || a.op.blocked)
			return done;
	}
}

static long try_recvmsg(struct gr_fdop *op, bool waited)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(
	    REAL(recvmsg)(op->fd, a->msg, a->flags | MSG_DONTWAIT));
}

static long block_recvmsg(struct gr_fdop *op)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(recvmsg)(op->fd, a->msg, a->oflags));
}

long gr_fd_recvmsg(int fd, struct gr_fd *f, struct msghdr *msg, int flags)
{
	struct msg_op a = {
	    MSG_OP(fd, f, GR_EV_READ, try_recvmsg, block_recvmsg),
	    .flags = flags, .oflags = flags, .msg = msg};

	return gr_io(&a.op);
}

static long try_recvmmsg(struct gr_fdop *op, bool waited)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(recvmmsg)(op->fd, a->mm, a->vlen,
					a->flags | MSG_DONTWAIT, NULL));
}

static long block_recvmmsg(struct gr_fdop *op)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(
	    REAL(recvmmsg)(op->fd, a->mm, a->vlen, a->oflags, a->tmo));
}

/* Blocking recvmmsg waits for vlen messages (or the first with
 * MSG_WAITFORONE), bounded by its own timeout argument. */
long gr_fd_recvmmsg(int fd, struct gr_fd *f, struct mmsghdr *mm, unsigned vlen,
		    int flags, struct timespec *tmo)
{
	struct msg_op a = {
	    MSG_OP(fd, f, GR_EV_READ, try_recvmmsg, block_recvmmsg),
	    .flags = flags & ~MSG_WAITFORONE, .oflags = flags, .tmo = tmo};
	unsigned got = 0;
	int64_t end = 0, save = 0;
	long r;

	if (tmo) {
		end = gr_now() + gr_ts_ns(tmo);
		save = f->rcvtimeo;
	}
	while (got < vlen) {
		a.mm = mm + got;
		a.vlen = vlen - got;
		if (tmo) {
			int64_t left = end - gr_now();
			if (left <= 0)
				break;
			f->rcvtimeo = save && save < left ? save : left;
		}
		r = gr_io(&a.op);
		if (r <= 0) {
			if (tmo)
				f->rcvtimeo = save;
			if (got)
				return got;
			return r;
		}
		got += r;
		if (flags & MSG_WAITFORONE)
			a.flags |= MSG_DONTWAIT; /* the rest only if queued */
		if ((flags & MSG_WAITFORONE) && got)
			break;
	}
	if (tmo)
		f->rcvtimeo = save;
	return got;
}

/* ---- send ----------------------------------------------------------- */

static long try_sendto(struct gr_fdop *op, bool waited)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(sendto)(op->fd, a->buf, a->len,
				      a->flags | MSG_DONTWAIT, a->from,
				      a->fromlen ? *a->fromlen : 0));
}

static long block_sendto(struct gr_fdop *op)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(sendto)(op->fd, a->buf, a->len, a->oflags,
				      a->from, a->fromlen ? *a->fromlen : 0));
}

long gr_fd_sendto(int fd, struct gr_fd *f, const void *buf, size_t len,
		  int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct msg_op a = {MSG_OP(fd, f, GR_EV_WRITE, try_sendto, block_sendto),
			   .oflags = flags, .from = (struct sockaddr *)to,
			   .fromlen = &tolen};
	size_t done = 0;
	long r;

	for (;;) {
		a.buf = (char *)buf + done;
		a.len = len - done;
		/* After progress: no SIGPIPE, as Linux (gr_fd_writev). */
		a.flags = done ? flags | MSG_NOSIGNAL : flags;
		r = gr_io(&a.op);
		if (r < 0 && done)
			gr_fd_send_failed_late(fd, f, r);
		if (r < 0)
			return done ? (long)done : r;
		done += r;
		/* A stream socket takes everything before a blocking send
		 * returns; a datagram goes whole or not at all. */
		if (done >= len || r == 0 || a.op.blocked)
			return done;
	}
}

static long try_sendmsg(struct gr_fdop *op, bool waited)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(
	    REAL(sendmsg)(op->fd, a->msg, a->flags | MSG_DONTWAIT));
}

static long block_sendmsg(struct gr_fdop *op)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(sendmsg)(op->fd, a->msg, a->oflags));
}

/* Descriptors passed with SCM_RIGHTS are shared from now on. */
void gr_fd_passed(const struct msghdr *msg)
{
	struct cmsghdr *c;

	if (msg->msg_control == NULL)
		return;
	for (c = CMSG_FIRSTHDR((struct msghdr *)msg); c;
	     c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int *fds = (int *)CMSG_DATA(c);
			size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < n; i++)
				gr_fd_shared(fds[i]);
		}
	}
}

long gr_fd_sendmsg(int fd, struct gr_fd *f, const struct msghdr *msg, int flags)
{
	struct msg_op a = {
	    MSG_OP(fd, f, GR_EV_WRITE, try_sendmsg, block_sendmsg),
	    .flags = flags, .oflags = flags, .msg = (struct msghdr *)msg};

	/* A partial stream sendmsg is finished like writev. */
	if (msg->msg_control == NULL && msg->msg_name == NULL && flags == 0)
		return gr_fd_writev(fd, f, msg->msg_iov, (int)msg->msg_iovlen);
	return gr_io(&a.op);
}

static long try_sendmmsg(struct gr_fdop *op, bool waited)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(
	    REAL(sendmmsg)(op->fd, a->mm, a->vlen, a->flags | MSG_DONTWAIT));
}

static long block_sendmmsg(struct gr_fdop *op)
{
	struct msg_op *a = (struct msg_op *)op;

	return neg_errno(REAL(sendmmsg)(op->fd, a->mm, a->vlen, a->oflags));
}

long gr_fd_sendmmsg(int fd, struct gr_fd *f, struct mmsghdr *mm, unsigned vlen,
		    int flags)
{
	struct msg_op a = {
	    MSG_OP(fd, f, GR_EV_WRITE, try_sendmmsg, block_sendmmsg),
	    .flags = flags, .oflags = flags};
	unsigned done = 0;
	long r;

	while (done < vlen) {
		a.mm = mm + done;
		a.vlen = vlen - done;
		r = gr_io(&a.op);
		if (r <= 0)
			return done ? (long)done : r;
		done += r;
	}
	return done;
}

/* ---- sendfile and splice -------------------------------------------- */

/* A socket side of sendfile/splice honours only the description's
 * O_NONBLOCK.  On a socket this process made and never shared, set it for
 * the one call (no other green thread runs meanwhile, no other process can
 * see it); park on the side that is not ready when the call says EAGAIN.
 * Where that is not allowed, the call blocks the hub, counted. */
struct xfer {
	struct gr_fdop op; /* the side waited on */
	const char *name;
	int in, out;
	loff_t *offin, *offout;
	off_t *off;
	size_t len;
	unsigned flags;
	bool is_splice;
};

static bool may_flip(int fd, struct gr_fd **f)
{
	return gr_green_fd(fd, f) && (*f)->kind == GR_FD_SOCK && (*f)->ours;
}

/* The plain call, blocking the hub: counted. */
static long xfer_block(struct gr_fdop *op)
{
	struct xfer *x = (struct xfer *)op;
	ssize_t r;

	gr_diag_fallback(x->name);
	if (x->is_splice)
		r = REAL(splice)(x->in, x->offin, x->out, x->offout, x->len,
				 x->flags);
	else
		r = REAL(sendfile)(x->out, x->in, x->off, x->len);
	return r < 0 ? -errno : r;
}

static ssize_t xfer_once(struct xfer *x, int flip[2], int fl[2])
{
	ssize_t r;
	int err;

	for (int i = 0; i < 2; i++)
		if (flip[i] >= 0)
			REAL(fcntl)(flip[i], F_SETFL, fl[i] | O_NONBLOCK);
	if (x->is_splice)
		r = REAL(splice)(x->in, x->offin, x->out, x->offout, x->len,
				 x->flags | SPLICE_F_NONBLOCK);
	else
		r = REAL(sendfile)(x->out, x->in, x->off, x->len);
	err = errno;
	for (int i = 0; i < 2; i++)
		if (flip[i] >= 0)
			REAL(fcntl)(flip[i], F_SETFL, fl[i]);
	errno = err;
	return r;
}

static long xfer(struct xfer *x)
{
	struct gr_fd *fi = NULL, *fo = NULL;
	int flip[2] = {-1, -1}, fl[2] = {0, 0};
	bool gi = gr_green_fd(x->in, &fi), go = gr_green_fd(x->out, &fo);

	x->op.block = xfer_block;
	if (!gi && !go)
		return xfer_block(&x->op);
	/* Every socket side must be ours to flip; pipes take the flag. */
	if (gi && fi->kind == GR_FD_SOCK) {
		if (!may_flip(x->in, &fi))
			return xfer_block(&x->op);
		flip[0] = x->in;
	}
	if (go && fo->kind == GR_FD_SOCK) {
		if (!may_flip(x->out, &fo))
			return xfer_block(&x->op);
		flip[1] = x->out;
	}
	if (!x->is_splice && flip[1] < 0)
		return xfer_block(&x->op); /* sendfile to a pipe: libc's */
	for (int i = 0; i < 2; i++)
		if (flip[i] >= 0 && (fl[i] = REAL(fcntl)(flip[i], F_GETFL)) < 0)
			return xfer_block(&x->op);
	gr_testcancel();
	for (;;) {
		struct pollfd p[2] = {{x->in, POLLIN, 0}, {x->out, POLLOUT, 0}};
		ssize_t r = xfer_once(x, flip, fl);
		int64_t deadline = 0;
		long w;

		if (r >= 0 || errno != EAGAIN)
			return r < 0 ? -errno : r;
		/* wait for the side that is not ready */
		if (REAL(poll)(p, 2, 0) < 0)
			return -errno;
		if (x->is_splice && !p[0].revents && gi) {
			x->op.fd = x->in;
			x->op.ev = GR_EV_READ;
		} else if (!p[1].revents && go) {
			x->op.fd = x->out;
			x->op.ev = GR_EV_WRITE;
		} else {
			x->op.fd = gi ? x->in : x->out;
			x->op.ev = gi ? GR_EV_READ : GR_EV_WRITE;
			deadline = gr_now() + 1000000;
		}
		w = gr_fdop_wait(&x->op, deadline);
		if (x->op.blocked)
			return w;
		if (w == -ECANCELED)
			gr_testcancel();
		w = gr_intr(w, true);
		if (w < 0 && w != -ECANCELED && w != -ETIMEDOUT)
			return w;
	}
}

long gr_fd_sendfile(int out, int in, off_t *off, size_t count)
{
	struct xfer x = {
	    .name = "sendfile", .in = in, .out = out, .off = off, .len = count};

	return xfer(&x);
}

long gr_fd_splice(int in, loff_t *offin, int out, loff_t *offout, size_t len,
		  unsigned flags)
{
	struct xfer x = {.name = "splice",
			 .in = in,
			 .out = out,
			 .offin = offin,
			 .offout = offout,
			 .len = len,
			 .flags = flags,
			 .is_splice = true};

	return xfer(&x);
}
