/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net.c — sockets: creation, accept, connect, the send/recv family,
 * sendfile, splice, and the options the shim must know (SO_RCVTIMEO,
 * SO_SNDTIMEO).
 *
 * A call the program wants to block (no MSG_DONTWAIT, a socket without
 * its own O_NONBLOCK, another green thread to run) goes to
 * runtime/fd/sock.c, which makes it with per-call non-blocking forms and
 * parks between tries; any other goes to libc as it is.
 */
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include "green.h"

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

GR_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct gr_fd *f;

	if (!gr_green_fd(fd, &f)) /* the plain call; the new fd noted */
		return (int)gr_ret(gr_fd_accept(fd, NULL, addr, len, flags));
	GR_CALL("accept");
	return (int)gr_ret(gr_fd_accept(fd, f, addr, len, flags));
}

GR_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return accept4(fd, addr, len, 0);
}

/* ---- connect -------------------------------------------------------- */

GR_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct gr_fd *f;

	if (!gr_green_fd(fd, &f) || f->kind != GR_FD_SOCK)
		return REAL(connect)(fd, addr, len);
	GR_CALL("connect");
	return (int)gr_ret(gr_fd_connect(fd, f, addr, len));
}

/* ---- receive -------------------------------------------------------- */

/* A call to park on: a socket of ours, without the per-call no-wait. */
static bool green_sock(int fd, int flags, struct gr_fd **f)
{
	return !(flags & MSG_DONTWAIT) && gr_green_fd(fd, f) &&
	       (*f)->kind == GR_FD_SOCK;
}

GR_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			   struct sockaddr *from, socklen_t *fromlen)
{
	struct gr_fd *f;

	if (!green_sock(fd, flags, &f))
		return REAL(recvfrom)(fd, buf, len, flags, from, fromlen);
	GR_CALL("recv");
	return gr_ret(gr_fd_recvfrom(fd, f, buf, len, flags, from, fromlen));
}

GR_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return recvfrom(fd, buf, len, flags, NULL, NULL);
}

GR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct gr_fd *f;

	if (!green_sock(fd, flags, &f) || (flags & MSG_WAITALL))
		return REAL(recvmsg)(fd, msg, flags);
	GR_CALL("recvmsg");
	return gr_ret(gr_fd_recvmsg(fd, f, msg, flags));
}

GR_EXPORT int recvmmsg(int fd, struct mmsghdr *mm, unsigned vlen, int flags,
		       struct timespec *tmo)
{
	struct gr_fd *f;

	if (!green_sock(fd, flags, &f))
		return REAL(recvmmsg)(fd, mm, vlen, flags, tmo);
	return (int)gr_ret(gr_fd_recvmmsg(fd, f, mm, vlen, flags, tmo));
}

/* ---- send ----------------------------------------------------------- */

GR_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			 const struct sockaddr *to, socklen_t tolen)
{
	struct gr_fd *f;

	if (!green_sock(fd, flags, &f))
		return REAL(sendto)(fd, buf, len, flags, to, tolen);
	GR_CALL("send");
	return gr_ret(gr_fd_sendto(fd, f, buf, len, flags, to, tolen));
}

GR_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return sendto(fd, buf, len, flags, NULL, 0);
}

GR_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct gr_fd *f;

	gr_fd_passed(msg);
	if (!green_sock(fd, flags, &f))
		return REAL(sendmsg)(fd, msg, flags);
	return gr_ret(gr_fd_sendmsg(fd, f, msg, flags));
}

GR_EXPORT int sendmmsg(int fd, struct mmsghdr *mm, unsigned vlen, int flags)
{
	struct gr_fd *f;

	for (unsigned i = 0; i < vlen; i++)
		gr_fd_passed(&mm[i].msg_hdr);
	if (!green_sock(fd, flags, &f))
		return REAL(sendmmsg)(fd, mm, vlen, flags);
	return (int)gr_ret(gr_fd_sendmmsg(fd, f, mm, vlen, flags));
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

GR_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (!gr_park_useful())
		return REAL(sendfile)(out, in, off, count);
	return gr_ret(gr_fd_sendfile(out, in, off, count));
}

GR_EXPORT ssize_t splice(int in, loff_t *offin, int out, loff_t *offout,
			 size_t len, unsigned flags)
{
	if ((flags & SPLICE_F_NONBLOCK) || !gr_park_useful())
		return REAL(splice)(in, offin, out, offout, len, flags);
	return gr_ret(gr_fd_splice(in, offin, out, offout, len, flags));
}

/* The large-file name of sendfile (off_t is 64 bits here). */
GR_EXPORT ssize_t sendfile64(int, int, off_t *, size_t)
    __attribute__((alias("sendfile")));

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__connect, connect);
GR_ALIAS(__send, send);
