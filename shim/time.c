/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * time.c — sleeps: nanosleep, clock_nanosleep, usleep, sleep.  The
 * arguments are checked as glibc checks them and the sleep is
 * runtime/core/sleep.c's (the hub's timer heap, never early).  With no
 * other green thread to run, the real call is made: blocking in the kernel
 * is then exactly right.
 */
#include <unistd.h>
#include "green.h"

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

GR_EXPORT int clock_nanosleep(clockid_t clk, int flags,
			      const struct timespec *req, struct timespec *rem)
{
	int64_t left;
	long r;

	/* A process CPU clock advances only while threads run: re-check it
	 * on short parks so the other green threads can make it advance. */
	if (gr_park_useful() && (clk == CLOCK_PROCESS_CPUTIME_ID ||
				 (clk < 0 && (clk & 7) == 2 && (clk & 4) == 0)))
		return (int)-gr_sleep_cpu(clk, flags, req, rem);
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
	return (int)-gr_sleep_abs(clk, req);
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
