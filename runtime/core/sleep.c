/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sleep.c — sleeps: park on the hub's timer heap (timerfd, ns precision)
 * until a deadline, and never end early: the wake-up is checked against the
 * caller's own clock and the thread parks again for any rest.
 *
 * Who calls it: shim/time.c (nanosleep, clock_nanosleep, usleep, sleep)
 * and runtime/fd/poll.c (poll and select with no fds, the sleep idiom).
 * The caller has checked that parking is useful (gr_park_useful) and the
 * arguments.
 *
 * Returns 0, or -EINTR (a handled signal: sleeps never restart, SA_RESTART
 * or not, as Linux's); a pending cancel acts at the start and at every
 * wake-up.
 */
#include <time.h>
#include "green.h"

/* Park until CLOCK_MONOTONIC `dl`.  0, or -EINTR / cancel. */
static long sleep_until(int64_t dl)
{
	for (;;) {
		long r = gr_park(GR_WAIT_SLEEP, dl);

		if (r == -ECANCELED)
			gr_testcancel();
		r = gr_intr(r, false); /* sleeps never restart */
		if (r == -EINTR)
			return r;
		if (gr_now() >= dl)
			return 0;
	}
}

long gr_sleep_ns(int64_t ns, int64_t *left)
{
	int64_t dl = gr_now() + ns;
	long r;

	gr_testcancel();
	r = sleep_until(dl);
	if (r < 0 && left) {
		int64_t l = dl - gr_now();
		*left = l > 0 ? l : 0;
	}
	return r;
}

long gr_sleep_abs(clockid_t clk, const struct timespec *req)
{
	long r;

	gr_testcancel();
	for (;;) {
		/* The clock may be set meanwhile: ask it again each time. */
		r = sleep_until(gr_deadline_from_abs(clk, req));
		if (r < 0)
			return r;
		if (gr_clock_ns(clk) >= gr_ts_ns(req))
			return 0;
	}
}

/* A CPU-time clock advances only while threads run: park in short steps
 * (half the rest, at least 100 us) so the other green threads can make it
 * advance, and re-check it after each. */
long gr_sleep_cpu(clockid_t clk, int flags, const struct timespec *req,
		  struct timespec *rem)
{
	int64_t now = gr_clock_ns(clk), end;

	if (now < 0)
		return -EINVAL;
	if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000)
		return -EINVAL;
	end = (flags & TIMER_ABSTIME) ? gr_ts_ns(req) : now + gr_ts_ns(req);
	while ((now = gr_clock_ns(clk)) < end) {
		int64_t step = (end - now) / 2;
		long r;

		if (step < 100000)
			step = 100000;
		r = gr_park(GR_WAIT_SLEEP, gr_now() + step);
		if (r == -ECANCELED)
			gr_testcancel();
		if (gr_intr(r, false) == -EINTR) {
			if (rem && !(flags & TIMER_ABSTIME))
				*rem = gr_ns_ts(end - gr_clock_ns(clk));
			return -EINTR;
		}
	}
	return 0;
}

long gr_sleep_idle(int64_t ns)
{
	if (ns >= 0)
		return gr_sleep_ns(ns, NULL);
	for (;;) { /* poll(NULL, 0, -1): until a signal */
		long r = gr_park(GR_WAIT_POLL, 0);
		if (r == -ECANCELED)
			gr_testcancel();
		r = gr_intr(r, false);
		if (r == -EINTR)
			return r;
	}
}
