/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thread.c — the pthread surface: creation, joining, identity, attributes,
 * names, keys, cancellation.  Thin: every decision is runtime/core/sched.c's.
 *
 * A green pthread_t is the address of its gr_thread (it starts with
 * GR_MAGIC); an OS thread's own context answers with its real pthread_t,
 * so ids taken before the first green thread stay valid.  Any function
 * given a real id goes to libc.
 */
#include <string.h>
#include "green.h"

static inline bool green_mode(void)
{
	return gr_conf()->threads == GR_MODE_GREEN;
}

/* The running green thread if it is a green thread proper (not an OS
 * thread's own context, not the hub). */
static inline struct gr_thread *green_self(void)
{
	struct gr_hub *h = gr_tls_hub;

	if (h == NULL || h->cur == h->hub || h->cur->os)
		return NULL;
	return h->cur;
}

GR_EXPORT int pthread_create(pthread_t *id, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg)
{
	struct gr_thread *t;
	int r;

	if (!green_mode() || gr_tls_passthrough)
		return REAL(pthread_create)(id, attr, fn, arg);
	r = gr_thread_create(&t, attr, fn, arg);
	if (r == 0)
		*id = (pthread_t)t;
	return gr_pret(r);
}

GR_EXPORT int pthread_join(pthread_t id, void **ret)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL)
		return REAL(pthread_join)(id, ret);
	GR_CALL("pthread_join");
	gr_testcancel();
	return gr_pret(gr_thread_join(t, ret, 0, false));
}

GR_EXPORT int pthread_tryjoin_np(pthread_t id, void **ret)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL)
		return REAL(pthread_tryjoin_np)(id, ret);
	return gr_pret(gr_thread_join(t, ret, 0, true));
}

GR_EXPORT int pthread_clockjoin_np(pthread_t id, void **ret, clockid_t clk,
				   const struct timespec *abs)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL)
		return REAL(pthread_clockjoin_np)(id, ret, clk, abs);
	GR_CALL("pthread_clockjoin_np");
	if (abs == NULL)
		return gr_pret(gr_thread_join(t, ret, 0, false));
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000)
		return EINVAL;
	if (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC)
		return EINVAL;
	gr_testcancel();
	for (;;) {
		int r = gr_thread_join(t, ret, gr_deadline_from_abs(clk, abs),
				       false);
		/* never early: check the caller's clock itself */
		if (r != -ETIMEDOUT || gr_clock_ns(clk) >= gr_ts_ns(abs))
			return gr_pret(r);
	}
}

GR_EXPORT int pthread_timedjoin_np(pthread_t id, void **ret,
				   const struct timespec *abs)
{
	if (gr_thread_from(id) == NULL)
		return REAL(pthread_timedjoin_np)(id, ret, abs);
	return pthread_clockjoin_np(id, ret, CLOCK_REALTIME, abs);
}

GR_EXPORT int pthread_detach(pthread_t id)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL)
		return REAL(pthread_detach)(id);
	return gr_pret(gr_thread_detach(t));
}

GR_EXPORT void pthread_exit(void *ret)
{
	struct gr_hub *h = gr_tls_hub;

	/* Green threads, and the OS thread's own context while green threads
	 * live on its hub: pthread_exit of main must not take them along. */
	if (h != NULL && h->cur != h->hub && (!h->cur->os || h->nlive > 1))
		gr_thread_exit(ret);
	REAL(pthread_exit)(ret);
	__builtin_unreachable();
}

GR_EXPORT pthread_t pthread_self(void)
{
	struct gr_thread *t = green_self();

	return t ? (pthread_t)t : REAL(pthread_self)();
}

GR_EXPORT int pthread_equal(pthread_t a, pthread_t b)
{
	return a == b;
}

GR_EXPORT int pthread_getattr_np(pthread_t id, pthread_attr_t *attr)
{
	struct gr_thread *t = gr_thread_from(id);
	int r;

	if (t == NULL || t->os)
		return REAL(pthread_getattr_np)(t ? t->real_id : id, attr);
	r = pthread_attr_init(attr);
	if (r != 0)
		return r;
	pthread_attr_setstack(attr, t->stack_lo, t->stack_size);
	pthread_attr_setguardsize(attr, t->guard_size);
	pthread_attr_setdetachstate(attr, t->detached
					      ? PTHREAD_CREATE_DETACHED
					      : PTHREAD_CREATE_JOINABLE);
	return 0;
}

GR_EXPORT int pthread_setname_np(pthread_t id, const char *name)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL)
		return REAL(pthread_setname_np)(id, name);
	if (strlen(name) >= sizeof(t->name))
		return ERANGE;
	strcpy(t->name, name);
	return 0;
}

GR_EXPORT int pthread_getname_np(pthread_t id, char *buf, size_t len)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL)
		return REAL(pthread_getname_np)(id, buf, len);
	if (strlen(t->name) >= len)
		return ERANGE;
	strcpy(buf, t->name);
	return 0;
}

/* Keys are ours from the first call: a green thread's values must follow
 * it, and an OS thread's own values live in its context. */
GR_EXPORT int pthread_key_create(pthread_key_t *k, void (*dtor)(void *))
{
	return gr_pret(gr_key_create(k, dtor));
}

GR_EXPORT int pthread_key_delete(pthread_key_t k)
{
	return gr_pret(gr_key_delete(k));
}

GR_EXPORT void *pthread_getspecific(pthread_key_t k)
{
	return gr_getspecific(k);
}

GR_EXPORT int pthread_setspecific(pthread_key_t k, const void *v)
{
	/* glibc marks v access(none): pass it on as a number */
	uintptr_t n = (uintptr_t)v;

	__asm__("" : "+r"(n));
	return gr_pret(gr_setspecific(k, (const void *)n));
}

/* ---- cancellation: deferred, at the shim's cancellation points -------- */

GR_EXPORT int pthread_cancel(pthread_t id)
{
	struct gr_thread *t = gr_thread_from(id);

	if (t == NULL || t->os)
		return REAL(pthread_cancel)(t ? t->real_id : id);
	return gr_pret(gr_cancel(t));
}

GR_EXPORT int pthread_setcancelstate(int state, int *old)
{
	struct gr_thread *t = green_self();

	if (t == NULL)
		return REAL(pthread_setcancelstate)(state, old);
	if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
		return EINVAL;
	if (old)
		*old = t->cancel_disabled ? PTHREAD_CANCEL_DISABLE
					  : PTHREAD_CANCEL_ENABLE;
	t->cancel_disabled = state == PTHREAD_CANCEL_DISABLE;
	return 0;
}

GR_EXPORT int pthread_setcanceltype(int type, int *old)
{
	struct gr_thread *t = green_self();

	if (t == NULL)
		return REAL(pthread_setcanceltype)(type, old);
	if (type != PTHREAD_CANCEL_DEFERRED &&
	    type != PTHREAD_CANCEL_ASYNCHRONOUS)
		return EINVAL;
	if (old)
		*old = t->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS
				       : PTHREAD_CANCEL_DEFERRED;
	/* Asynchronous cancellation acts at the next cancellation point. */
	t->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
	return 0;
}

GR_EXPORT void pthread_testcancel(void)
{
	if (green_self() == NULL) {
		REAL(pthread_testcancel)();
		return;
	}
	gr_testcancel();
}

/* pthread_cleanup_push/pop in C code register a jmp_buf chain per thread;
 * for green threads the chain is theirs, not the OS thread's. */
struct unwind_buf_head {
	char jmp[72];
	void *prev;
};

GR_EXPORT void __pthread_register_cancel(__pthread_unwind_buf_t *buf)
{
	struct gr_thread *t = green_self();
	struct unwind_buf_head *b = (void *)buf;

	if (t == NULL) {
		REAL(__pthread_register_cancel)(buf);
		return;
	}
	b->prev = t->cleanup;
	t->cleanup = b;
}

GR_EXPORT void __pthread_unregister_cancel(__pthread_unwind_buf_t *buf)
{
	struct gr_thread *t = green_self();
	struct unwind_buf_head *b = (void *)buf;

	if (t == NULL) {
		REAL(__pthread_unregister_cancel)(buf);
		return;
	}
	t->cleanup = b->prev;
}

void gr_unwind_continue(struct gr_thread *t) GR_HIDDEN
    __attribute__((noreturn));

GR_EXPORT void __pthread_unwind_next(__pthread_unwind_buf_t *buf)
{
	struct gr_thread *t = green_self();

	if (t == NULL || !t->exiting)
		REAL(__pthread_unwind_next)(buf);
	else
		gr_unwind_continue(t);
	__builtin_unreachable();
}

/* ---- yield and once --------------------------------------------------- */

GR_EXPORT int sched_yield(void)
{
	if (!gr_may_park())
		return REAL(sched_yield)();
	gr_yield();
	return 0;
}

/* <pthread.h> redirects pthread_yield to sched_yield: name it by hand. */
GR_EXPORT int gr_pthread_yield(void) __asm__("pthread_yield");
GR_EXPORT int gr_pthread_yield(void)
{
	return sched_yield();
}

GR_EXPORT int pthread_once(pthread_once_t *o, void (*init)(void))
{
	if (!green_mode())
		return REAL(pthread_once)(o, init);
	return gr_pret(gr_once(o, init));
}

/* ---- scheduling and CPU of a green thread: those of its OS thread ----- */

static pthread_t os_id(pthread_t id)
{
	struct gr_thread *t = gr_thread_from(id);

	return t ? t->hub->os->real_id : id;
}

GR_EXPORT int pthread_getschedparam(pthread_t id, int *pol,
				    struct sched_param *p)
{
	return REAL(pthread_getschedparam)(os_id(id), pol, p);
}

GR_EXPORT int pthread_setschedparam(pthread_t id, int pol,
				    const struct sched_param *p)
{
	/* Scheduling attributes of green threads are accepted and ignored. */
	if (gr_thread_from(id))
		return 0;
	return REAL(pthread_setschedparam)(id, pol, p);
}

GR_EXPORT int pthread_setschedprio(pthread_t id, int prio)
{
	if (gr_thread_from(id))
		return 0;
	return REAL(pthread_setschedprio)(id, prio);
}

GR_EXPORT int pthread_getcpuclockid(pthread_t id, clockid_t *c)
{
	return REAL(pthread_getcpuclockid)(os_id(id), c);
}

GR_EXPORT int pthread_setaffinity_np(pthread_t id, size_t n, const cpu_set_t *s)
{
	return REAL(pthread_setaffinity_np)(os_id(id), n, s);
}

GR_EXPORT int pthread_getaffinity_np(pthread_t id, size_t n, cpu_set_t *s)
{
	return REAL(pthread_getaffinity_np)(os_id(id), n, s);
}

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__pthread_key_create, pthread_key_create);
GR_ALIAS(__sched_yield, sched_yield);
