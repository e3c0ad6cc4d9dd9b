/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * poll.c — poll, ppoll, select, pselect and the epoll waits, parked.
 *
 * Each first asks the kernel with a zero timeout; if nothing is ready it
 * parks on all the fds (or, for epoll, on the epoll fd itself, which is
 * pollable) until one is ready or the timeout passes, and then asks the
 * kernel with a zero timeout again: what it returns is exactly what such a
 * call reports.  With no fds, poll and select are the sleep idiom and park
 * on the timer (sleep.c).  The signal mask argument of ppoll/pselect/
 * epoll_pwait is applied to the zero-timeout calls only (see
 * docs/signals.md).  Where this OS thread cannot park on the fds
 * (gr_fdop_wait), the call is made as it was, blocking in the kernel.
 *
 * Called by shim/poll.c with the timeout in ns (-1: none; never 0, which
 * the shim hands to libc).  Returns what the call returns, or -errno:
 * -EINTR after a handled signal (these calls never restart).
 */
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include "green.h"

/* Park until the fds say something or the deadline; then the op's try (a
 * zero-timeout call) answers. */
static long wait_then(struct gr_fdop *op, int64_t deadline)
{
	for (;;) {
		long w = gr_fdop_wait(op, deadline);
		long r;

		if (op->blocked)
			return w;
		if (w == -ECANCELED)
			gr_testcancel();
		w = gr_intr(w, false); /* poll and select never restart */
		if (w == -EINTR || w == -ENOMEM)
			return w;
		r = op->try(op, true);
		if (r != 0)
			return r;
		if (w == -ETIMEDOUT || (deadline && gr_now() >= deadline))
			return 0;
	}
}

static inline long neg_errno(long r)
{
	return r < 0 ? -errno : r;
}

/* ---- poll ----------------------------------------------------------- */

struct poll_op {
	struct gr_fdop op;
	struct pollfd *p;
	nfds_t n;
	int64_t ns;
	const sigset_t *mask;
};

static long poll_try(struct gr_fdop *op, bool waited)
{
	struct poll_op *a = (struct poll_op *)op;
	struct timespec zero = {0, 0};

	return neg_errno(REAL(ppoll)(a->p, a->n, &zero, a->mask));
}

static long poll_block(struct gr_fdop *op)
{
	struct poll_op *a = (struct poll_op *)op;
	struct timespec ts = gr_ns_ts(a->ns);

	return neg_errno(
	    REAL(ppoll)(a->p, a->n, a->ns >= 0 ? &ts : NULL, a->mask));
}

long gr_fd_poll(struct pollfd *p, nfds_t n, int64_t ns, const sigset_t *mask)
{
	struct poll_op a = {
	    .op = {.p = p, .n = n, .try = poll_try, .block = poll_block},
	    .p = p,
	    .n = n,
	    .ns = ns,
	    .mask = mask};
	long r;

	if (n == 0)
		return gr_sleep_idle(ns);
	r = poll_try(&a.op, false);
	if (r != 0 || ns == 0)
		return r;
	gr_testcancel();
	return wait_then(&a.op, ns > 0 ? gr_now() + ns : 0);
}

/* ---- select --------------------------------------------------------- */

struct sel_op {
	struct gr_fdop op;
	int n;
	fd_set *r, *w, *e;
	fd_set r0, w0, e0;
	int64_t ns;
	const sigset_t *mask;
};

/* The caller's sets as it passed them. */
static void sel_restore(struct sel_op *a)
{
	if (a->r)
		*a->r = a->r0;
	if (a->w)
		*a->w = a->w0;
	if (a->e)
		*a->e = a->e0;
}

static long sel_try(struct gr_fdop *op, bool waited)
{
	struct sel_op *a = (struct sel_op *)op;
	struct timespec zero = {0, 0};

	sel_restore(a);
	return neg_errno(REAL(pselect)(a->n, a->r, a->w, a->e, &zero, a->mask));
}

static long sel_block(struct gr_fdop *op)
{
	struct sel_op *a = (struct sel_op *)op;
	struct timespec ts = gr_ns_ts(a->ns);

	sel_restore(a);
	return neg_errno(REAL(pselect)(a->n, a->r, a->w, a->e,
				       a->ns >= 0 ? &ts : NULL, a->mask));
}

long gr_fd_select(int n, fd_set *r, fd_set *w, fd_set *e, int64_t ns,
		  const sigset_t *mask, int64_t *left)
{
	struct sel_op a = {.op = {.try = sel_try, .block = sel_block},
			   .n = n,
			   .r = r,
			   .w = w,
			   .e = e,
			   .ns = ns,
			   .mask = mask};
	struct pollfd stackp[64], *p = stackp;
	int64_t deadline;
	nfds_t np = 0;
	long rc;

	*left = 0;
	if (n == 0 || (!r && !w && !e)) /* the sleep idiom */
		return ns >= 0 ? gr_sleep_ns(ns, left) : gr_sleep_idle(ns);
	if (r)
		a.r0 = *r;
	if (w)
		a.w0 = *w;
	if (e)
		a.e0 = *e;
	rc = sel_try(&a.op, false);
	if (rc > 0 && ns > 0)
		*left = ns; /* ready at once: nearly all of it was not slept */
	if (rc != 0 || ns == 0)
		return rc;
	for (int fd = 0; fd < n; fd++) {
		short ev = 0;

		if (r && FD_ISSET(fd, &a.r0))
			ev |= POLLIN;
		if (w && FD_ISSET(fd, &a.w0))
			ev |= POLLOUT;
		if (e && FD_ISSET(fd, &a.e0))
			ev |= POLLPRI;
		if (!ev)
			continue;
		if (np == 64 && p == stackp) {
			p = gr_malloc(n * sizeof(*p));
			if (p == NULL)
				return -ENOMEM;
			memcpy(p, stackp, sizeof(stackp));
		}
		p[np].fd = fd;
		p[np].events = ev;
		p[np].revents = 0;
		np++;
	}
	gr_testcancel();
	deadline = ns > 0 ? gr_now() + ns : 0;
	a.op.p = p;
	a.op.n = np;
	rc = wait_then(&a.op, deadline);
	if (p != stackp)
		gr_free(p);
	if (rc < 0) {
		/* as the kernel: on an error (EINTR) the sets are unmodified;
		 * sel_try cleared them when nothing was ready yet, and a
		 * caller that retries with the same sets (CPython does, after
		 * a signal) would otherwise wait on nothing */
		sel_restore(&a);
	}
	if (deadline && rc != 0 && !a.op.blocked) {
		*left = deadline - gr_now();
		if (*left < 0)
			*left = 0;
	}
	return rc;
}

/* ---- epoll: park on the epoll fd itself ------------------------------ */

struct ep_op {
	struct gr_fdop op;
	int epfd;
	struct epoll_event *ev;
	int max;
	int64_t ns;
	const sigset_t *mask;
};

static long ep_try(struct gr_fdop *op, bool waited)
{
	struct ep_op *a = (struct ep_op *)op;

	return neg_errno(REAL(epoll_pwait)(a->epfd, a->ev, a->max, 0, a->mask));
}

static long ep_block(struct gr_fdop *op)
{
	struct ep_op *a = (struct ep_op *)op;
	struct timespec ts = gr_ns_ts(a->ns);

	return neg_errno(REAL(epoll_pwait2)(a->epfd, a->ev, a->max,
					    a->ns >= 0 ? &ts : NULL, a->mask));
}

long gr_fd_epoll(int epfd, struct epoll_event *ev, int max, int64_t ns,
		 const sigset_t *mask)
{
	struct pollfd p = {epfd, POLLIN, 0};
	struct ep_op a = {
	    .op = {.p = &p, .n = 1, .try = ep_try, .block = ep_block},
	    .epfd = epfd,
	    .ev = ev,
	    .max = max,
	    .ns = ns,
	    .mask = mask};
	long r;

	r = ep_try(&a.op, false);
	if (r != 0 || ns == 0)
		return r;
	gr_testcancel();
	return wait_then(&a.op, ns > 0 ? gr_now() + ns : 0);
}
