/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * poll.c — poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * epoll_pwait2.  Each first asks the kernel with a zero timeout; if nothing
 * is ready it parks on all the fds (or, for epoll, on the epoll fd itself)
 * until one is ready or the timeout passes, and then asks the kernel with a
 * zero timeout again: what it returns is exactly what such a call reports.
 * With no fds, poll and select are the sleep idiom and park on the timer.
 * The signal mask argument of ppoll/pselect/epoll_pwait is applied to the
 * zero-timeout calls only (see docs/signals.md).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include "green.h"

/* Park until fds say something or the deadline; then `check` answers. */
static int wait_then(struct pollfd *p, nfds_t n, int64_t deadline,
		     int (*check)(void *), void *arg)
{
	for (;;) {
		long w = gr_fd_wait_many(p, n, deadline);
		int r;

		if (w == -ECANCELED)
			gr_testcancel();
		if (w == -EXDEV)
			return -2;     /* caller blocks in the kernel instead */
		w = gr_intr(w, false); /* poll and select never restart */
		if (w == -EINTR || w == -ENOMEM)
			return (int)gr_ret(w);
		r = check(arg);
		if (r != 0)
			return r;
		if (w == -ETIMEDOUT || (deadline && gr_now() >= deadline))
			return 0;
	}
}

struct poll_arg {
	struct pollfd *p;
	nfds_t n;
	const sigset_t *mask;
};

static int poll_check(void *arg)
{
	struct poll_arg *a = arg;
	struct timespec zero = {0, 0};

	return REAL(ppoll)(a->p, a->n, &zero, a->mask);
}

static int do_poll(struct pollfd *p, nfds_t n, int64_t ns, const sigset_t *mask)
{
	struct poll_arg a = {p, n, mask};
	int r;

	if (n == 0)
		return (int)gr_ret(gr_sleep_idle(ns));
	r = poll_check(&a);
	if (r != 0 || ns == 0)
		return r;
	gr_testcancel();
	r = wait_then(p, n, ns > 0 ? gr_now() + ns : 0, poll_check, &a);
	if (r == -2) {
		struct timespec ts = gr_ns_ts(ns);
		return REAL(ppoll)(p, n, ns >= 0 ? &ts : NULL, mask);
	}
	return r;
}

GR_EXPORT int poll(struct pollfd *p, nfds_t n, int ms)
{
	if (ms == 0 || !gr_park_useful())
		return REAL(poll)(p, n, ms);
	GR_CALL("poll");
	return do_poll(p, n, ms < 0 ? -1 : (int64_t)ms * 1000000, NULL);
}

GR_EXPORT int ppoll(struct pollfd *p, nfds_t n, const struct timespec *ts,
		    const sigset_t *mask)
{
	if ((ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || !gr_park_useful())
		return REAL(ppoll)(p, n, ts, mask);
	if (ts &&
	    (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000))
		return (int)gr_ret(-EINVAL);
	return do_poll(p, n, ts ? gr_ts_ns(ts) : -1, mask);
}

/* ---- select --------------------------------------------------------- */

struct sel_arg {
	int n;
	fd_set *r, *w, *e;
	fd_set r0, w0, e0;
	const sigset_t *mask;
};

/* The caller's sets as it passed them. */
static void sel_restore(struct sel_arg *a)
{
	if (a->r)
		*a->r = a->r0;
	if (a->w)
		*a->w = a->w0;
	if (a->e)
		*a->e = a->e0;
}

static int sel_check(void *arg)
{
	struct sel_arg *a = arg;
	struct timespec zero = {0, 0};

	sel_restore(a);
	return REAL(pselect)(a->n, a->r, a->w, a->e, &zero, a->mask);
}

static int do_select(int n, fd_set *r, fd_set *w, fd_set *e, int64_t ns,
		     const sigset_t *mask, int64_t *left)
{
	struct sel_arg a = {.n = n, .r = r, .w = w, .e = e};
	struct pollfd stackp[64], *p = stackp;
	int64_t deadline;
	nfds_t np = 0;
	int rc;

	*left = 0;
	if (n == 0 || (!r && !w && !e)) {
		long s = gr_sleep_idle(ns);
		if (s == -EINTR && ns > 0)
			*left = ns; /* approximate: only the sleep idiom */
		return (int)gr_ret(s);
	}
	a.mask = mask;
	if (r)
		a.r0 = *r;
	if (w)
		a.w0 = *w;
	if (e)
		a.e0 = *e;
	rc = sel_check(&a);
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
				return (int)gr_ret(-ENOMEM);
			memcpy(p, stackp, sizeof(stackp));
		}
		p[np].fd = fd;
		p[np].events = ev;
		p[np].revents = 0;
		np++;
	}
	gr_testcancel();
	deadline = ns > 0 ? gr_now() + ns : 0;
	rc = wait_then(p, np, deadline, sel_check, &a);
	if (p != stackp)
		gr_free(p);
	if (rc == -2) {
		struct timespec ts = gr_ns_ts(ns);
		sel_restore(&a);
		return REAL(pselect)(n, r, w, e, ns >= 0 ? &ts : NULL, mask);
	}
	if (rc < 0) {
		/* as the kernel: on an error (EINTR) the sets are unmodified;
		 * sel_check cleared them when nothing was ready yet, and a
		 * caller that retries with the same sets (CPython does, after
		 * a signal) would otherwise wait on nothing */
		int err = errno;

		sel_restore(&a);
		errno = err;
	}
	if (deadline && rc != 0) {
		*left = deadline - gr_now();
		if (*left < 0)
			*left = 0;
	}
	return rc;
}

GR_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	int64_t ns, left;
	int rc;

	/* fds past FD_SETSIZE are the program's problem, and libc's. */
	if ((tv && tv->tv_sec == 0 && tv->tv_usec == 0) || n > FD_SETSIZE ||
	    n < 0 || !gr_park_useful())
		return REAL(select)(n, r, w, e, tv);
	if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))
		return (int)gr_ret(-EINVAL);
	ns = tv ? (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000 : -1;
	GR_CALL("select");
	rc = do_select(n, r, w, e, ns, NULL, &left);
	if (tv) { /* Linux reports the time not slept */
		tv->tv_sec = left / 1000000000;
		tv->tv_usec = (left % 1000000000) / 1000;
	}
	return rc;
}

GR_EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e,
		      const struct timespec *ts, const sigset_t *mask)
{
	int64_t left;

	if ((ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || n > FD_SETSIZE ||
	    n < 0 || !gr_park_useful())
		return REAL(pselect)(n, r, w, e, ts, mask);
	if (ts &&
	    (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000))
		return (int)gr_ret(-EINVAL);
	return do_select(n, r, w, e, ts ? gr_ts_ns(ts) : -1, mask, &left);
}

/* ---- epoll: park on the epoll fd itself (it is pollable) ------------- */

struct ep_arg {
	int epfd;
	struct epoll_event *ev;
	int max;
	const sigset_t *mask;
};

static int ep_check(void *arg)
{
	struct ep_arg *a = arg;

	return REAL(epoll_pwait)(a->epfd, a->ev, a->max, 0, a->mask);
}

static int do_epoll(int epfd, struct epoll_event *ev, int max, int64_t ns,
		    const sigset_t *mask)
{
	struct ep_arg a = {epfd, ev, max, mask};
	struct pollfd p = {epfd, POLLIN, 0};
	int r;

	r = ep_check(&a);
	if (r != 0 || ns == 0)
		return r;
	gr_testcancel();
	r = wait_then(&p, 1, ns > 0 ? gr_now() + ns : 0, ep_check, &a);
	if (r == -2) {
		struct timespec ts = gr_ns_ts(ns);
		return REAL(epoll_pwait2)(epfd, ev, max, ns >= 0 ? &ts : NULL,
					  mask);
	}
	return r;
}

GR_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	if (ms == 0 || !gr_park_useful() || max <= 0)
		return REAL(epoll_wait)(epfd, ev, max, ms);
	GR_CALL("epoll_wait");
	return do_epoll(epfd, ev, max, ms < 0 ? -1 : (int64_t)ms * 1000000,
			NULL);
}

GR_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
			  const sigset_t *mask)
{
	if (ms == 0 || !gr_park_useful() || max <= 0)
		return REAL(epoll_pwait)(epfd, ev, max, ms, mask);
	return do_epoll(epfd, ev, max, ms < 0 ? -1 : (int64_t)ms * 1000000,
			mask);
}

GR_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			   const struct timespec *ts, const sigset_t *mask)
{
	if ((ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || !gr_park_useful() ||
	    max <= 0)
		return REAL(epoll_pwait2)(epfd, ev, max, ts, mask);
	return do_epoll(epfd, ev, max, ts ? gr_ts_ns(ts) : -1, mask);
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__poll, poll);
GR_ALIAS(__select, select);
