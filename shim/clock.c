/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * clock.c — the clocks a program reads and the kernel timers it arms,
 * for GREEN_CLOCK=virtual (runtime/core/vclock.c).
 *
 * Every program pays for these wrappers, so with the real clock each one
 * is a load, one predictable branch and a tail call into libc's own
 * function (the vDSO behind it): gr_clock_fast holds libc's functions then,
 * and NULL under the virtual clock or before the shim has read GREEN_CLOCK.
 */
#include <sys/time.h>
#include <signal.h>
#include <sys/timerfd.h>
#include <time.h>
#include "green.h"

GR_EXPORT int clock_gettime(clockid_t c, struct timespec *ts)
{
	int (*f)(clockid_t, struct timespec *) = gr_clock_fast.gettime;

	if (likely(f != NULL))
		return f(c, ts);
	return (int)gr_ret(gr_vclock_gettime(c, ts));
}

/* glibc declares tv non-null; a program may still pass NULL (tz only). */
#pragma GCC diagnostic ignored "-Wnonnull-compare"
GR_EXPORT int gettimeofday(struct timeval *tv, void *tz)
{
	int (*f)(struct timeval *, void *) = gr_clock_fast.gettimeofday;
	struct timespec ts;

	if (likely(f != NULL))
		return f(tv, tz);
	if (!gr_vclock_on)
		return REAL(gettimeofday)(tv, tz);
	if (tz != NULL)
		REAL(gettimeofday)(NULL, tz);
	if (tv != NULL) {
		gr_vclock_gettime(CLOCK_REALTIME, &ts);
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000;
	}
	return 0;
}
GR_ALIAS(__gettimeofday, gettimeofday);

/* libc's time() reads the coarse clock; so does this one. */
GR_EXPORT time_t time(time_t *tp)
{
	time_t (*f)(time_t *) = gr_clock_fast.time;
	struct timespec ts;

	if (likely(f != NULL))
		return f(tp);
	if (!gr_vclock_on)
		return REAL(time)(tp);
	gr_vclock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (tp)
		*tp = ts.tv_sec;
	return ts.tv_sec;
}

GR_EXPORT int timespec_get(struct timespec *ts, int base)
{
	if (likely(!gr_vclock_on) || base != TIME_UTC)
		return REAL(timespec_get)(ts, base);
	gr_vclock_gettime(CLOCK_REALTIME, ts);
	return base;
}

/* ---- kernel timers, on the hub's timer heap under the virtual clock ---- */

GR_EXPORT unsigned alarm(unsigned secs)
{
	if (likely(!gr_vclock_on))
		return REAL(alarm)(secs);
	return (unsigned)gr_vtimer_alarm(secs);
}

GR_EXPORT int setitimer(__itimer_which_t which, const struct itimerval *nv,
			struct itimerval *ov)
{
	if (likely(!gr_vclock_on))
		return REAL(setitimer)(which, nv, ov);
	return (int)gr_ret(gr_vtimer_setitimer(which, nv, ov));
}

GR_EXPORT int getitimer(__itimer_which_t which, struct itimerval *ov)
{
	if (likely(!gr_vclock_on))
		return REAL(getitimer)(which, ov);
	return (int)gr_ret(gr_vtimer_getitimer(which, ov));
}

GR_EXPORT int timerfd_create(int clock, int flags)
{
	if (likely(!gr_vclock_on))
		return REAL(timerfd_create)(clock, flags);
	return (int)gr_ret(gr_vtimerfd_create(clock, flags));
}

GR_EXPORT int timerfd_settime(int fd, int flags, const struct itimerspec *nv,
			      struct itimerspec *ov)
{
	if (likely(!gr_vclock_on) || !gr_vtimerfd_is(fd))
		return REAL(timerfd_settime)(fd, flags, nv, ov);
	return (int)gr_ret(gr_vtimerfd_settime(fd, flags, nv, ov));
}

GR_EXPORT int timerfd_gettime(int fd, struct itimerspec *ov)
{
	if (likely(!gr_vclock_on) || !gr_vtimerfd_is(fd))
		return REAL(timerfd_gettime)(fd, ov);
	return (int)gr_ret(gr_vtimerfd_gettime(fd, ov));
}

/* POSIX timers with SIGEV_SIGNAL or SIGEV_NONE on the virtualised clocks;
 * SIGEV_THREAD ones (and any under the real clock) stay libc's. */
GR_EXPORT int timer_create(clockid_t clock, struct sigevent *sev, timer_t *id)
{
	long r;

	if (likely(!gr_vclock_on))
		return REAL(timer_create)(clock, sev, id);
	r = gr_vtimer_create(clock, sev, id);
	if (r == 1)
		return REAL(timer_create)(clock, sev, id);
	return (int)gr_ret(r);
}

GR_EXPORT int timer_settime(timer_t id, int flags, const struct itimerspec *nv,
			    struct itimerspec *ov)
{
	struct vtimer *v;

	if (likely(!gr_vclock_on) || (v = gr_vtimer_posix(id)) == NULL)
		return REAL(timer_settime)(id, flags, nv, ov);
	return (int)gr_ret(gr_vtimer_settime(v, flags, nv, ov));
}

GR_EXPORT int timer_gettime(timer_t id, struct itimerspec *ov)
{
	struct vtimer *v;

	if (likely(!gr_vclock_on) || (v = gr_vtimer_posix(id)) == NULL)
		return REAL(timer_gettime)(id, ov);
	return (int)gr_ret(gr_vtimer_gettime(v, ov));
}

GR_EXPORT int timer_getoverrun(timer_t id)
{
	if (likely(!gr_vclock_on) || gr_vtimer_posix(id) == NULL)
		return REAL(timer_getoverrun)(id);
	return 0; /* expirations are not coalesced here */
}

GR_EXPORT int timer_delete(timer_t id)
{
	struct vtimer *v;

	if (likely(!gr_vclock_on) || (v = gr_vtimer_posix(id)) == NULL)
		return REAL(timer_delete)(id);
	return (int)gr_ret(gr_vtimer_delete(v));
}
