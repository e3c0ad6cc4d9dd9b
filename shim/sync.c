/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync.c — pthread mutex, cond, rwlock, barrier, spin and POSIX semaphore
 * wrappers.  In GREEN_THREADS=native every call is libc's: real threads
 * need nothing from us.  Otherwise runtime/core/sync.c does the work; robust,
 * priority-inheritance and priority-protect mutexes stay glibc's (they need
 * the kernel's help; a wait on one blocks the OS thread).
 */
#include <semaphore.h>
#include "green.h"

#define NATIVE() (gr_conf()->threads == GR_MODE_NATIVE)

static inline bool bad_ts(const struct timespec *ts)
{
	return ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000;
}

/* ---- mutex ---- */

GR_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (NATIVE() || !gr_mutex_green(m))
		return REAL(pthread_mutex_lock)(m);
	GR_CALL("pthread_mutex_lock");
	return gr_pret(gr_mutex_lock(m, 0, false));
}

GR_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	if (NATIVE() || !gr_mutex_green(m))
		return REAL(pthread_mutex_trylock)(m);
	return gr_pret(gr_mutex_lock(m, 0, true));
}

GR_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
				      const struct timespec *abs)
{
	int r;

	if (NATIVE() || !gr_mutex_green(m))
		return REAL(pthread_mutex_clocklock)(m, clk, abs);
	GR_CALL("pthread_mutex_clocklock");
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	r = gr_mutex_lock(m, 0, true);
	if (r != -EBUSY)
		return gr_pret(r);
	if (bad_ts(abs))
		return EINVAL;
	for (;;) {
		r = gr_mutex_lock(m, gr_deadline_from_abs(clk, abs), false);
		if (r != -ETIMEDOUT || gr_clock_ns(clk) >= gr_ts_ns(abs))
			return gr_pret(r);
	}
}

GR_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m,
				      const struct timespec *abs)
{
	if (NATIVE() || !gr_mutex_green(m))
		return REAL(pthread_mutex_timedlock)(m, abs);
	return pthread_mutex_clocklock(m, CLOCK_REALTIME, abs);
}

GR_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (NATIVE() || !gr_mutex_green(m))
		return REAL(pthread_mutex_unlock)(m);
	return gr_pret(gr_mutex_unlock(m));
}

/* ---- condition variables ---- */

GR_EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	if (NATIVE())
		return REAL(pthread_cond_init)(c, a);
	return gr_pret(gr_cond_init(c, a));
}

GR_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	if (NATIVE())
		return REAL(pthread_cond_destroy)(c);
	return gr_pret(gr_cond_destroy(c));
}

GR_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (NATIVE())
		return REAL(pthread_cond_wait)(c, m);
	GR_CALL("pthread_cond_wait");
	return gr_pret(gr_cond_wait(c, m, 0, NULL, false));
}

GR_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				     const struct timespec *abs)
{
	if (NATIVE())
		return REAL(pthread_cond_timedwait)(c, m, abs);
	GR_CALL("pthread_cond_timedwait");
	return gr_pret(gr_cond_wait(c, m, 0, abs, false));
}

GR_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
				     clockid_t clk, const struct timespec *abs)
{
	if (NATIVE())
		return REAL(pthread_cond_clockwait)(c, m, clk, abs);
	GR_CALL("pthread_cond_clockwait");
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	return gr_pret(gr_cond_wait(c, m, clk, abs, true));
}

GR_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	if (NATIVE())
		return REAL(pthread_cond_signal)(c);
	return gr_pret(gr_cond_wake(c, false));
}

GR_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	if (NATIVE())
		return REAL(pthread_cond_broadcast)(c);
	return gr_pret(gr_cond_wake(c, true));
}

/* ---- rwlocks ---- */

GR_EXPORT int pthread_rwlock_init(pthread_rwlock_t *l,
				  const pthread_rwlockattr_t *a)
{
	if (NATIVE())
		return REAL(pthread_rwlock_init)(l, a);
	return gr_pret(gr_rwlock_init(l, a));
}

GR_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	if (NATIVE())
		return REAL(pthread_rwlock_destroy)(l);
	return gr_pret(gr_rwlock_destroy(l));
}

GR_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	if (NATIVE())
		return REAL(pthread_rwlock_rdlock)(l);
	GR_CALL("pthread_rwlock_rdlock");
	return gr_pret(gr_rwlock_lock(l, false, 0, false));
}

GR_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	if (NATIVE())
		return REAL(pthread_rwlock_wrlock)(l);
	GR_CALL("pthread_rwlock_wrlock");
	return gr_pret(gr_rwlock_lock(l, true, 0, false));
}

GR_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	if (NATIVE())
		return REAL(pthread_rwlock_tryrdlock)(l);
	return gr_pret(gr_rwlock_lock(l, false, 0, true));
}

GR_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	if (NATIVE())
		return REAL(pthread_rwlock_trywrlock)(l);
	return gr_pret(gr_rwlock_lock(l, true, 0, true));
}

static int rw_clock(pthread_rwlock_t *l, bool w, clockid_t clk,
		    const struct timespec *abs)
{
	int r;

	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	r = gr_rwlock_lock(l, w, 0, true);
	if (r != -EBUSY)
		return gr_pret(r);
	if (bad_ts(abs))
		return EINVAL;
	for (;;) {
		r = gr_rwlock_lock(l, w, gr_deadline_from_abs(clk, abs), false);
		if (r != -ETIMEDOUT || gr_clock_ns(clk) >= gr_ts_ns(abs))
			return gr_pret(r);
	}
}

GR_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t c,
					 const struct timespec *abs)
{
	if (NATIVE())
		return REAL(pthread_rwlock_clockrdlock)(l, c, abs);
	GR_CALL("pthread_rwlock_clockrdlock");
	return rw_clock(l, false, c, abs);
}

GR_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t c,
					 const struct timespec *abs)
{
	if (NATIVE())
		return REAL(pthread_rwlock_clockwrlock)(l, c, abs);
	GR_CALL("pthread_rwlock_clockwrlock");
	return rw_clock(l, true, c, abs);
}

GR_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l,
					 const struct timespec *abs)
{
	if (NATIVE())
		return REAL(pthread_rwlock_timedrdlock)(l, abs);
	GR_CALL("pthread_rwlock_timedrdlock");
	return rw_clock(l, false, CLOCK_REALTIME, abs);
}

GR_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l,
					 const struct timespec *abs)
{
	if (NATIVE())
		return REAL(pthread_rwlock_timedwrlock)(l, abs);
	GR_CALL("pthread_rwlock_timedwrlock");
	return rw_clock(l, true, CLOCK_REALTIME, abs);
}

GR_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	if (NATIVE())
		return REAL(pthread_rwlock_unlock)(l);
	return gr_pret(gr_rwlock_unlock(l));
}

/* ---- barriers and spin locks ---- */

GR_EXPORT int pthread_barrier_init(pthread_barrier_t *b,
				   const pthread_barrierattr_t *a, unsigned n)
{
	if (NATIVE())
		return REAL(pthread_barrier_init)(b, a, n);
	return gr_pret(gr_barrier_init(b, a, n));
}

GR_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
	if (NATIVE())
		return REAL(pthread_barrier_wait)(b);
	GR_CALL("pthread_barrier_wait");
	return gr_barrier_wait(b) == 1 ? PTHREAD_BARRIER_SERIAL_THREAD : 0;
}

GR_EXPORT int pthread_barrier_destroy(pthread_barrier_t *b)
{
	if (NATIVE())
		return REAL(pthread_barrier_destroy)(b);
	return gr_pret(gr_barrier_destroy(b));
}

/* Spin locks are ours in both modes: glibc's x86-64 ones count down from
 * 1, ours are 0 free / 1 held, so every call on them must be ours. */
GR_EXPORT int pthread_spin_init(pthread_spinlock_t *s, int pshared)
{
	__atomic_store_n(s, 0, __ATOMIC_RELEASE);
	return 0;
}

GR_EXPORT int pthread_spin_destroy(pthread_spinlock_t *s)
{
	return 0;
}

GR_EXPORT int pthread_spin_lock(pthread_spinlock_t *s)
{
	GR_CALL("pthread_spin_lock");
	return gr_pret(gr_spin_lock(s));
}

GR_EXPORT int pthread_spin_trylock(pthread_spinlock_t *s)
{
	int z = 0;

	return __atomic_compare_exchange_n(s, &z, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED)
		   ? 0
		   : EBUSY;
}

GR_EXPORT int pthread_spin_unlock(pthread_spinlock_t *s)
{
	__atomic_store_n(s, 0, __ATOMIC_RELEASE);
	return 0;
}

/* ---- semaphores: -1 and errno, and cancellation points ---- */

GR_EXPORT int sem_wait(sem_t *s)
{
	if (NATIVE())
		return REAL(sem_wait)(s);
	GR_CALL("sem_wait");
	return (int)gr_ret(gr_sem_wait(s, 0, false));
}

GR_EXPORT int sem_trywait(sem_t *s)
{
	if (NATIVE())
		return REAL(sem_trywait)(s);
	return (int)gr_ret(gr_sem_wait(s, 0, true));
}

GR_EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *abs)
{
	int r;

	if (NATIVE())
		return REAL(sem_clockwait)(s, clk, abs);
	GR_CALL("sem_clockwait");
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return (int)gr_ret(-EINVAL);
	r = gr_sem_wait(s, 0, true);
	if (r != -EAGAIN)
		return (int)gr_ret(r);
	if (bad_ts(abs))
		return (int)gr_ret(-EINVAL);
	for (;;) {
		r = gr_sem_wait(s, gr_deadline_from_abs(clk, abs), false);
		if (r != -ETIMEDOUT || gr_clock_ns(clk) >= gr_ts_ns(abs))
			return (int)gr_ret(r);
	}
}

GR_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs)
{
	if (NATIVE())
		return REAL(sem_timedwait)(s, abs);
	GR_CALL("sem_timedwait");
	return sem_clockwait(s, CLOCK_REALTIME, abs);
}

GR_EXPORT int sem_post(sem_t *s)
{
	if (NATIVE())
		return REAL(sem_post)(s);
	return (int)gr_ret(gr_sem_post(s));
}
