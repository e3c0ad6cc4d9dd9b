/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net.c — sockets: creation, accept, connect, the send/recv family,
 * sendfile, splice, and the options the shim must know (SO_RCVTIMEO,
 * SO_SNDTIMEO).
 *
 * recv/send take MSG_DONTWAIT per call.  accept has no such flag: a
 * zero-timeout poll says whether a connection is queued (no other green
 * thread runs between it and the accept; another process sharing the
 * listener could still take it first — then this accept blocks the OS
 * thread, a documented limit).  connect on a socket this process made and
 * never shared flips O_NONBLOCK for the one call (nobody can observe it);
 * on any other blocking socket it blocks, counted as a fallback.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include "green.h"

static inline long neg_errno(long r)
{
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* ---- creation ------------------------------------------------------- */

GR_EXPORT int socket(int dom, int type, int proto)
{
	int fd = REAL(socket)(dom, type, proto);

	if (fd >= 0)
		gr_fd_created(fd, GR_FD_SOCK, type & SOCK_NONBLOCK);
	return fd;
}

GR_EXPORT int socketpair(int dom, int type, int proto, int sv[2])
{
	int r = REAL(socketpair)(dom, type, proto, sv);

	if (r == 0) {
		gr_fd_created(sv[0], GR_FD_SOCK, type & SOCK_NONBLOCK);
		gr_fd_created(sv[1], GR_FD_SOCK, type & SOCK_NONBLOCK);
	}
	return r;
}

/* ---- accept --------------------------------------------------------- */

struct accept_arg {
	struct sockaddr *addr;
	socklen_t *len;
	int flags;
};

static long try_accept(int fd, void *arg, bool waited)
{
	struct accept_arg *a = arg;
	struct pollfd p = {fd, POLLIN, 0};
	int r;

	if (!waited) {
		r = REAL(poll)(&p, 1, 0);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EAGAIN;
	}
	return neg_errno(REAL(accept4)(fd, a->addr, a->len, a->flags));
}

GR_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct accept_arg a = {addr, len, flags};
	struct gr_fd *f;
	long r;

	if (!gr_green_fd(fd, &f))
		r = neg_errno(REAL(accept4)(fd, addr, len, flags));
	else {
		GR_CALL("accept");
		f->listener = 1;

		r = gr_io(fd, f, GR_EV_READ, try_accept, &a, GR_WAIT_READ);
		/* A listener is not a ping-pong: a backlog of connections
		 * must be taken one accept after another, not a poll each. */
		f->drained = 0;
		if (r == -EXDEV)
			r = neg_errno(REAL(accept4)(fd, addr, len, flags));
	}
	if (r >= 0)
		gr_fd_created((int)r, GR_FD_SOCK, flags & SOCK_NONBLOCK);
	return (int)gr_ret(r);
}

GR_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

/* ---- connect -------------------------------------------------------- */

GR_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct gr_fd *f;
	int fl, r, err = 0;
	socklen_t el = sizeof(err);
	int64_t deadline = 0;
	long w;

	if (!gr_green_fd(fd, &f) || f->kind != GR_FD_SOCK)
		return REAL(connect)(fd, addr, len);
	if (!f->ours) {
		gr_diag_fallback("connect");
		return REAL(connect)(fd, addr, len);
	}
	gr_testcancel();
	GR_CALL("connect");
	fl = REAL(fcntl)(fd, F_GETFL);
	if (fl < 0 || REAL(fcntl)(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return REAL(connect)(fd, addr, len);
	r = REAL(connect)(fd, addr, len);
	err = errno;
	REAL(fcntl)(fd, F_SETFL, fl);
	if (r == 0 || err != EINPROGRESS) {
		errno = err;
		return r;
	}
	if (f->sndtimeo)
		deadline = gr_now() + f->sndtimeo;
	for (;;) {
		w = gr_fd_wait(fd, GR_EV_WRITE, deadline, GR_WAIT_WRITE);
		if (w == -ECANCELED) {
			gr_testcancel();
			continue;
		}
		if (w ==
		    -ETIMEDOUT) /* as a blocking connect with SO_SNDTIMEO */
			return (int)gr_ret(-EINPROGRESS);
		if (w == -EXDEV) {
			struct pollfd p = {fd, POLLOUT, 0};
			REAL(poll)(&p, 1, -1);
			break;
		}
		/* The connection goes on in the kernel after a signal:
		 * Linux reports EINTR then, SA_RESTART or not. */
		w = gr_intr(w, false);
		if (w < 0)
			return (int)gr_ret(w);
		break;
	}
	err = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		return -1;
	return (int)gr_ret(-err);
}

/* ---- receive -------------------------------------------------------- */

struct msg_arg {
	void *buf;
	size_t len;
	int flags;
	struct sockaddr *from;
	socklen_t *fromlen;
	struct msghdr *msg;
	struct mmsghdr *mm;
	unsigned vlen;
};

static long try_recvfrom(int fd, void *arg, bool waited)
{
	struct msg_arg *a = arg;

	return neg_errno(REAL(recvfrom)(
	    fd, a->buf, a->len, a->flags | MSG_DONTWAIT, a->from, a->fromlen));
}

static long try_recvmsg(int fd, void *arg, bool waited)
{
	struct msg_arg *a = arg;

	return neg_errno(REAL(recvmsg)(fd, a->msg, a->flags | MSG_DONTWAIT));
}

static bool green_sock(int fd, int flags, struct gr_fd **f)
{
	return !(flags & MSG_DONTWAIT) && gr_green_fd(fd, f) &&
	       (*f)->kind == GR_FD_SOCK;
}

GR_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *from, socklen_t *fromlen)
{
	struct msg_arg a = {.buf = buf,
			    .len = len,
			    .flags = flags & ~MSG_WAITALL,
			    .from = from,
			    .fromlen = fromlen};
	struct gr_fd *f;
	size_t done = 0;
	long r;

	if (!green_sock(fd, flags, &f))
		return REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
	GR_CALL("recv");
	/* MSG_WAITALL: keep reading until len, EOF, an error or a signal. */
	for (;;) {
		a.buf = (char *)buf + done;
		a.len = len - done;
		r = gr_io(fd, f, GR_EV_READ, try_recvfrom, &a, GR_WAIT_READ);
		if (r == -EXDEV)
			return REAL(recvfrom)(fd, a.buf, a.len, flags, from,
					      fromlen);
		if (r < 0)
			return done ? (ssize_t)done : gr_ret(r);
		done += r;
		if (!(flags & MSG_WAITALL) || r == 0 || done == len ||
		    (flags & MSG_PEEK)) {
			if (done < len)
				f->drained = 1;
			return done;
		}
	}
}

GR_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

GR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct msg_arg a = {.flags = flags, .msg = msg};
	struct gr_fd *f;
	long r;

	if (!green_sock(fd, flags, &f) || (flags & MSG_WAITALL))
		return REAL(recvmsg)(fd, msg, flags);
	GR_CALL("recvmsg");
	r = gr_io(fd, f, GR_EV_READ, try_recvmsg, &a, GR_WAIT_READ);
	if (r == -EXDEV)
		return REAL(recvmsg)(fd, msg, flags);
	return gr_ret(r);
}

static long try_recvmmsg(int fd, void *arg, bool waited)
{
	struct msg_arg *a = arg;

	return neg_errno(
	    REAL(recvmmsg)(fd, a->mm, a->vlen, a->flags | MSG_DONTWAIT, NULL));
}

/* Blocking recvmmsg waits for vlen messages (or the first with
 * MSG_WAITFORONE), bounded by its own timeout argument. */
GR_EXPORT int recvmmsg(int fd, struct mmsghdr *mm, unsigned vlen, int flags,
		       struct timespec *tmo)
{
	struct msg_arg a = {.flags = flags & ~MSG_WAITFORONE};
	struct gr_fd *f;
	unsigned got = 0;
	int64_t end = 0, save = 0;
	long r;

	if (!green_sock(fd, flags, &f))
		return REAL(recvmmsg)(fd, mm, vlen, flags, tmo);
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
		r = gr_io(fd, f, GR_EV_READ, try_recvmmsg, &a, GR_WAIT_READ);
		if (r == -EXDEV)
			r = neg_errno(
			    REAL(recvmmsg)(fd, a.mm, a.vlen, flags, tmo));
		if (r <= 0) {
			if (tmo)
				f->rcvtimeo = save;
			if (got)
				return got;
			return (int)gr_ret(r == 0 ? 0 : r);
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

static long try_sendto(int fd, void *arg, bool waited)
{
	struct msg_arg *a = arg;

	return neg_errno(REAL(sendto)(fd, a->buf, a->len,
				      a->flags | MSG_DONTWAIT, a->from,
				      a->fromlen ? *a->fromlen : 0));
}

GR_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *to, socklen_t tolen)
{
	struct msg_arg a = {
	    .flags = flags, .from = (struct sockaddr *)to, .fromlen = &tolen};
	struct gr_fd *f;
	size_t done = 0;
	long r;

	if (!green_sock(fd, flags, &f))
		return REAL(sendto)(fd, buf, len, flags, to, tolen);
	GR_CALL("send");
	for (;;) {
		a.buf = (char *)buf + done;
		a.len = len - done;
		/* After progress: no SIGPIPE, as Linux (gr_writev). */
		a.flags = done ? flags | MSG_NOSIGNAL : flags;
		r = gr_io(fd, f, GR_EV_WRITE, try_sendto, &a, GR_WAIT_WRITE);
		if (r == -EXDEV)
			return REAL(sendto)(fd, a.buf, a.len, flags, to, tolen);
		if (r < 0 && done)
			gr_send_failed_late(fd, f, r);
		if (r < 0)
			return done ? (ssize_t)done : gr_ret(r);
		done += r;
		/* A stream socket takes everything before a blocking send
		 * returns; a datagram goes whole or not at all. */
		if (done >= len || r == 0)
			return done;
	}
}

GR_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

static long try_sendmsg(int fd, void *arg, bool waited)
{
	struct msg_arg *a = arg;

	return neg_errno(REAL(sendmsg)(fd, a->msg, a->flags | MSG_DONTWAIT));
}

/* Descriptors passed with SCM_RIGHTS are shared from now on. */
static void note_passed_fds(const struct msghdr *msg)
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

GR_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msg_arg a = {.flags = flags, .msg = (struct msghdr *)msg};
	struct gr_fd *f;
	long r;

	note_passed_fds(msg);
	if (!green_sock(fd, flags, &f))
		return REAL(sendmsg)(fd, msg, flags);
	/* A partial stream sendmsg is finished like writev. */
	if (msg->msg_control == NULL && msg->msg_name == NULL) {
		if (flags == 0)
			return gr_ret(gr_writev(fd, f, msg->msg_iov,
						(int)msg->msg_iovlen));
	}
	r = gr_io(fd, f, GR_EV_WRITE, try_sendmsg, &a, GR_WAIT_WRITE);
	if (r == -EXDEV)
		return REAL(sendmsg)(fd, msg, flags);
	return gr_ret(r);
}

static long try_sendmmsg(int fd, void *arg, bool waited)
{
	struct msg_arg *a = arg;

	return neg_errno(
	    REAL(sendmmsg)(fd, a->mm, a->vlen, a->flags | MSG_DONTWAIT));
}

GR_EXPORT int sendmmsg(int fd, struct mmsghdr *mm, unsigned vlen, int flags)
{
	struct msg_arg a = {.flags = flags};
	struct gr_fd *f;
	unsigned done = 0;
	long r;

	for (unsigned i = 0; i < vlen; i++)
		note_passed_fds(&mm[i].msg_hdr);
	if (!green_sock(fd, flags, &f))
		return REAL(sendmmsg)(fd, mm, vlen, flags);
	while (done < vlen) {
		a.mm = mm + done;
		a.vlen = vlen - done;
		r = gr_io(fd, f, GR_EV_WRITE, try_sendmmsg, &a, GR_WAIT_WRITE);
		if (r == -EXDEV)
			r = neg_errno(REAL(sendmmsg)(fd, a.mm, a.vlen, flags));
		if (r <= 0)
			return done ? (int)done : (int)gr_ret(r);
		done += r;
	}
	return done;
}

/* ---- options -------------------------------------------------------- */

GR_EXPORT int setsockopt(int fd, int level, int name, const void *val,
			 socklen_t len)
{
	int r = REAL(setsockopt)(fd, level, name, val, len);

	if (r == 0 && level == SOL_SOCKET &&
	    (name == SO_RCVTIMEO || name == SO_SNDTIMEO) &&
	    len >= sizeof(struct timeval)) {
		const struct timeval *tv = val;
		int64_t ns =
		    (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000;

		gr_fd_set_timeo(fd, name == SO_SNDTIMEO, ns);
	}
	return r;
}

/* ---- sendfile and splice -------------------------------------------- */

/* A socket side of sendfile/splice honours only the description's
 * O_NONBLOCK.  On a socket this process made and never shared, set it for
 * the one call (no other green thread runs meanwhile, no other process can
 * see it); park on `wfd` for `wev` when the call says EAGAIN.  Returns -2
 * if the trick is not allowed here (then the caller blocks, counted). */
struct xfer {
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

static ssize_t xfer(struct xfer *x)
{
	struct gr_fd *fi = NULL, *fo = NULL;
	int flip[2] = {-1, -1}, fl[2] = {0, 0};
	bool gi = gr_green_fd(x->in, &fi), go = gr_green_fd(x->out, &fo);

	if (!gi && !go)
		return -2;
	/* Every socket side must be ours to flip; pipes take the flag. */
	if (gi && fi->kind == GR_FD_SOCK) {
		if (!may_flip(x->in, &fi))
			return -2;
		flip[0] = x->in;
	}
	if (go && fo->kind == GR_FD_SOCK) {
		if (!may_flip(x->out, &fo))
			return -2;
		flip[1] = x->out;
	}
	if (!x->is_splice && flip[1] < 0)
		return -2; /* sendfile to a pipe: leave it to libc */
	for (int i = 0; i < 2; i++)
		if (flip[i] >= 0 && (fl[i] = REAL(fcntl)(flip[i], F_GETFL)) < 0)
			return -2;
	gr_testcancel();
	for (;;) {
		struct pollfd p[2] = {{x->in, POLLIN, 0}, {x->out, POLLOUT, 0}};
		ssize_t r = xfer_once(x, flip, fl);
		long w;

		if (r >= 0 || errno != EAGAIN)
			return r < 0 ? -errno : r;
		/* wait for the side that is not ready */
		if (REAL(poll)(p, 2, 0) < 0)
			return -errno;
		if (x->is_splice && !p[0].revents && gi)
			w = gr_fd_wait(x->in, GR_EV_READ, 0, GR_WAIT_READ);
		else if (!p[1].revents && go)
			w = gr_fd_wait(x->out, GR_EV_WRITE, 0, GR_WAIT_WRITE);
		else
			w = gr_fd_wait(gi ? x->in : x->out,
				       gi ? GR_EV_READ : GR_EV_WRITE,
				       gr_now() + 1000000, GR_WAIT_READ);
		if (w == -ECANCELED)
			gr_testcancel();
		if (w == -EXDEV)
			return -2;
		w = gr_intr(w, true);
		if (w < 0 && w != -ECANCELED && w != -ETIMEDOUT)
			return w;
	}
}

GR_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	struct xfer x = {.in = in, .out = out, .off = off, .len = count};
	ssize_t r;

	if (!gr_park_useful())
		return REAL(sendfile)(out, in, off, count);
	r = xfer(&x);
	if (r == -2) {
		gr_diag_fallback("sendfile");
		return REAL(sendfile)(out, in, off, count);
	}
	return gr_ret(r);
}

GR_EXPORT ssize_t splice(int in, loff_t *offin, int out, loff_t *offout,
			 size_t len, unsigned flags)
{
	struct xfer x = {.in = in,
			 .out = out,
			 .offin = offin,
			 .offout = offout,
			 .len = len,
			 .flags = flags,
			 .is_splice = true};
	ssize_t r;

	if ((flags & SPLICE_F_NONBLOCK) || !gr_park_useful())
		return REAL(splice)(in, offin, out, offout, len, flags);
	r = xfer(&x);
	if (r == -2) {
		gr_diag_fallback("splice");
		return REAL(splice)(in, offin, out, offout, len, flags);
	}
	return gr_ret(r);
}

/* The large-file name of sendfile (off_t is 64 bits here). */
GR_EXPORT ssize_t sendfile64(int, int, off_t *, size_t)
    __attribute__((alias("sendfile")));

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__connect, connect);
GR_ALIAS(__send, send);
