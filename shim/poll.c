/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * poll.c — poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * epoll_pwait2.  A zero timeout, or nothing else to run, goes to libc as
 * it is; otherwise the timeout is checked and converted to ns and
 * runtime/fd/poll.c parks until an fd is ready or the time is up, then
 * answers what a zero-timeout call answers.
 */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include "green.h"

GR_EXPORT int poll(struct pollfd *p, nfds_t n, int ms)
{
	if (ms == 0 || !gr_park_useful())
		return REAL(poll)(p, n, ms);
	GR_CALL("poll");
	return (int)gr_ret(
	    gr_fd_poll(p, n, ms < 0 ? -1 : (int64_t)ms * 1000000, NULL));
}

GR_EXPORT int ppoll(struct pollfd *p, nfds_t n, const struct timespec *ts,
		    const sigset_t *mask)
{
	if ((ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || !gr_park_useful())
		return REAL(ppoll)(p, n, ts, mask);
	if (ts &&
	    (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000))
		return (int)gr_ret(-EINVAL);
	return (int)gr_ret(gr_fd_poll(p, n, ts ? gr_ts_ns(ts) : -1, mask));
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
	rc = (int)gr_ret(gr_fd_select(n, r, w, e, ns, NULL, &left));
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
	return (int)gr_ret(
	    gr_fd_select(n, r, w, e, ts ? gr_ts_ns(ts) : -1, mask, &left));
}

GR_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
	if (ms == 0 || !gr_park_useful() || max <= 0)
		return REAL(epoll_wait)(epfd, ev, max, ms);
	GR_CALL("epoll_wait");
	return (int)gr_ret(gr_fd_epoll(
	    epfd, ev, max, ms < 0 ? -1 : (int64_t)ms * 1000000, NULL));
}

GR_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int ms,
			  const sigset_t *mask)
{
	if (ms == 0 || !gr_park_useful() || max <= 0)
		return REAL(epoll_pwait)(epfd, ev, max, ms, mask);
	return (int)gr_ret(gr_fd_epoll(
	    epfd, ev, max, ms < 0 ? -1 : (int64_t)ms * 1000000, mask));
}

GR_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
			   const struct timespec *ts, const sigset_t *mask)
{
	if ((ts && ts->tv_sec == 0 && ts->tv_nsec == 0) || !gr_park_useful() ||
	    max <= 0)
		return REAL(epoll_pwait2)(epfd, ev, max, ts, mask);
	return (int)gr_ret(
	    gr_fd_epoll(epfd, ev, max, ts ? gr_ts_ns(ts) : -1, mask));
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__poll, poll);
GR_ALIAS(__select, select);
