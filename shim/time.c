/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * time.c — sleeps.  A sleep parks on the hub's timer heap (timerfd, ns
 * precision) and never ends early: the wake-up is checked against the
 * caller's own clock and the thread parks again for any rest.  With no
 * other green thread to run, the real call is made: blocking in the kernel
 * is then exactly right.
 */
#include <unistd.h>
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

GR_HIDDEN long gr_sleep_ns(int64_t ns, int64_t *left)
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

GR_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int64_t left;
	long r;

	if (!gr_park_useful())
		return REAL(nanosleep)(req, rem);
	GR_CALL("nanosleep");
	if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0)
		return (int)gr_ret(-EINVAL);
	r = gr_sleep_ns(gr_ts_ns(req), &left);
	if (r < 0 && rem)
		*rem = gr_ns_ts(left);
	return (int)gr_ret(r);
}

static int cpu_sleep(clockid_t clk, int flags, const struct timespec *req,
		     struct timespec *rem)
{
	int64_t now = gr_clock_ns(clk), end;

	if (now < 0)
		return EINVAL;
	if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000)
		return EINVAL;
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
			return EINTR;
		}
	}
	return 0;
}

GR_EXPORT int clock_nanosleep(clockid_t clk, int flags,
			      const struct timespec *req, struct timespec *rem)
{
	int64_t dl, left;
	long r;

	/* A process CPU clock advances only while threads run: re-check it
	 * on short parks so the other green threads can make it advance. */
	if (gr_park_useful() && (clk == CLOCK_PROCESS_CPUTIME_ID ||
				 (clk < 0 && (clk & 7) == 2 && (clk & 4) == 0)))
		return cpu_sleep(clk, flags, req, rem);
	/* Alarm clocks stay libc's: they cannot be mapped onto the
	 * monotonic clock. */
	if (!gr_park_useful() ||
	    (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC &&
	     clk != CLOCK_BOOTTIME && clk != CLOCK_TAI))
		return REAL(clock_nanosleep)(clk, flags, req, rem);
	GR_CALL("clock_nanosleep");
	if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000)
		return EINVAL;
	if (!(flags & TIMER_ABSTIME)) {
		if (req->tv_sec < 0)
			return EINVAL;
		r = gr_sleep_ns(gr_ts_ns(req), &left);
		if (r < 0 && rem)
			*rem = gr_ns_ts(left);
		return (int)-r;
	}
	gr_testcancel();
	for (;;) {
		/* The clock may be set meanwhile: ask it again each time. */
		dl = gr_deadline_from_abs(clk, req);
		r = sleep_until(dl);
		if (r < 0)
			return (int)-r;
		if (gr_clock_ns(clk) >= gr_ts_ns(req))
			return 0;
	}
}

GR_EXPORT int usleep(useconds_t us)
{
	if (!gr_park_useful())
		return REAL(usleep)(us);
	GR_CALL("usleep");
	return (int)gr_ret(gr_sleep_ns((int64_t)us * 1000, NULL));
}

GR_EXPORT unsigned sleep(unsigned s)
{
	int64_t left;
	int e = errno;

	if (!gr_park_useful())
		return REAL(sleep)(s);
	GR_CALL("sleep");
	if (gr_sleep_ns((int64_t)s * 1000000000, &left) < 0)
		return (unsigned)(left / 1000000000);
	errno = e;
	return 0;
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__nanosleep, nanosleep);
