/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * c11.c — <threads.h>.  glibc implements thrd_*, mtx_*, cnd_*, tss_* and
 * call_once with internal calls that never reach the PLT, so each gets a
 * wrapper here that goes through the shim's pthread functions (which are
 * libc's own in GREEN_THREADS=native).
 */
#include <stdint.h>
#include <threads.h>
#include "green.h"

static int thrd_err(int r)
{
	switch (r) {
	case 0:
		return thrd_success;
	case ENOMEM:
		return thrd_nomem;
	case EBUSY:
		return thrd_busy;
	case ETIMEDOUT:
		return thrd_timedout;
	default:
		return thrd_error;
	}
}

GR_EXPORT int thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
	/* As glibc does: an int-returning start routine called as a void *
	 * one; thrd_join takes the int back out of the pointer. */
	int r = pthread_create((pthread_t *)thr, NULL,
			       (void *(*)(void *))(void (*)(void))fn, arg);

	return r == EAGAIN ? thrd_nomem : thrd_err(r);
}

GR_EXPORT int thrd_join(thrd_t thr, int *res)
{
	void *v;
	int r = pthread_join((pthread_t)thr, &v);

	if (r == 0 && res)
		*res = (int)(intptr_t)v;
	return thrd_err(r);
}

GR_EXPORT int thrd_detach(thrd_t thr)
{
	return thrd_err(pthread_detach((pthread_t)thr));
}

GR_EXPORT thrd_t thrd_current(void)
{
	return (thrd_t)pthread_self();
}

GR_EXPORT int thrd_equal(thrd_t a, thrd_t b)
{
	return a == b;
}

GR_EXPORT void thrd_exit(int res)
{
	pthread_exit((void *)(intptr_t)res);
}

GR_EXPORT int thrd_sleep(const struct timespec *d, struct timespec *rem)
{
	if (nanosleep(d, rem) == 0)
		return 0;
	return errno == EINTR ? -1 : -2;
}

GR_EXPORT void thrd_yield(void)
{
	sched_yield();
}

GR_EXPORT int mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	int r;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, (type & mtx_recursive)
					  ? PTHREAD_MUTEX_RECURSIVE
					  : PTHREAD_MUTEX_NORMAL);
	r = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return thrd_err(r);
}

GR_EXPORT int mtx_lock(mtx_t *m)
{
	return thrd_err(pthread_mutex_lock((pthread_mutex_t *)m));
}

GR_EXPORT int mtx_trylock(mtx_t *m)
{
	return thrd_err(pthread_mutex_trylock((pthread_mutex_t *)m));
}

GR_EXPORT int mtx_timedlock(mtx_t *restrict m,
			    const struct timespec *restrict ts)
{
	return thrd_err(pthread_mutex_timedlock((pthread_mutex_t *)m, ts));
}

GR_EXPORT int mtx_unlock(mtx_t *m)
{
	return thrd_err(pthread_mutex_unlock((pthread_mutex_t *)m));
}

GR_EXPORT void mtx_destroy(mtx_t *m)
{
	pthread_mutex_destroy((pthread_mutex_t *)m);
}

GR_EXPORT int cnd_init(cnd_t *c)
{
	return thrd_err(pthread_cond_init((pthread_cond_t *)c, NULL));
}

GR_EXPORT int cnd_signal(cnd_t *c)
{
	return thrd_err(pthread_cond_signal((pthread_cond_t *)c));
}

GR_EXPORT int cnd_broadcast(cnd_t *c)
{
	return thrd_err(pthread_cond_broadcast((pthread_cond_t *)c));
}

GR_EXPORT int cnd_wait(cnd_t *c, mtx_t *m)
{
	return thrd_err(
	    pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m));
}

GR_EXPORT int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
			    const struct timespec *restrict ts)
{
	return thrd_err(pthread_cond_timedwait((pthread_cond_t *)c,
					       (pthread_mutex_t *)m, ts));
}

GR_EXPORT void cnd_destroy(cnd_t *c)
{
	pthread_cond_destroy((pthread_cond_t *)c);
}

GR_EXPORT int tss_create(tss_t *k, tss_dtor_t dtor)
{
	return thrd_err(pthread_key_create((pthread_key_t *)k, dtor));
}

GR_EXPORT void *tss_get(tss_t k)
{
	return pthread_getspecific((pthread_key_t)k);
}

GR_EXPORT int tss_set(tss_t k, void *v)
{
	return thrd_err(pthread_setspecific((pthread_key_t)k, v));
}

GR_EXPORT void tss_delete(tss_t k)
{
	pthread_key_delete((pthread_key_t)k);
}

GR_EXPORT void call_once(once_flag *o, void (*fn)(void))
{
	pthread_once((pthread_once_t *)o, fn);
}
