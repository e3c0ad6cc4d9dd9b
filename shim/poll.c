/*
 * poll.c — poll, ppoll, select, pselect, epoll_wait.  For now: the sleep
 * idioms (no fds) park; calls with fds are libc's.
 */
#include <sys/select.h>
#include <poll.h>
#include "green.h"

long gr_sleep_ns(int64_t ns, int64_t *left) GR_HIDDEN;

GR_EXPORT int poll(struct pollfd *fds, nfds_t n, int ms)
{
	if (n == 0 && ms > 0 && gr_park_useful())
		return (int)gr_ret(gr_sleep_ns((int64_t)ms * 1000000, NULL));
	return REAL(poll)(fds, n, ms);
}

GR_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	if (n == 0 && tv != NULL && gr_park_useful()) {
		int64_t ns = (int64_t)tv->tv_sec * 1000000000 + tv->tv_usec * 1000, left;
		long rc;

		if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)
			return (int)gr_ret(-EINVAL);
		rc = gr_sleep_ns(ns, &left);
		/* Linux select reports the time left */
		tv->tv_sec = rc < 0 ? left / 1000000000 : 0;
		tv->tv_usec = rc < 0 ? (left % 1000000000) / 1000 : 0;
		return (int)gr_ret(rc);
	}
	return REAL(select)(n, r, w, e, tv);
}
