/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signal.c — the signal calls: sigaction and the signal() family, masks
 * (pthread_sigmask, sigprocmask), pthread_kill and raise, sigpending, and
 * the waits (sigwait, sigwaitinfo, sigtimedwait, sigsuspend, pause).  Thin:
 * runtime/proc/signal.c decides; docs/signals.md explains.
 */
#include <signal.h>
#include "green.h"
#include "libc_abi.h"

GR_EXPORT int sigaction(int sig, const struct sigaction *act,
			struct sigaction *old)
{
	return (int)gr_ret(gr_sig_action(sig, act, old));
}

GR_EXPORT __sighandler_t signal(int sig, __sighandler_t fn)
{
	return gr_sig_signal(sig, fn, false);
}

GR_EXPORT __sighandler_t bsd_signal(int sig, __sighandler_t fn)
{
	return gr_sig_signal(sig, fn, false);
}

/* What signal() is under strict ISO C (<signal.h> redirects it). */
GR_EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t fn)
{
	return gr_sig_signal(sig, fn, true);
}

GR_EXPORT __sighandler_t __sysv_signal(int sig, __sighandler_t fn)
{
	return gr_sig_signal(sig, fn, true);
}

GR_EXPORT int siginterrupt(int sig, int flag)
{
	return (int)gr_ret(gr_sig_interrupt(sig, flag));
}

GR_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	return gr_pret(gr_sig_mask(how, set, old));
}

GR_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	return (int)gr_ret(gr_sig_mask(how, set, old));
}

GR_EXPORT int sigpending(sigset_t *set)
{
	return (int)gr_ret(gr_sig_pending(set));
}

/* A green thread, or the OS thread's own context of this hub (its id is
 * the real one, taken before any green thread existed). */
static struct gr_thread *target(pthread_t id)
{
	struct gr_thread *t = gr_thread_from(id);
	struct gr_hub *h = gr_tls_hub;

	if (t == NULL && h != NULL && h->os != NULL && h->os->real_id == id &&
	    h->sig_state != NULL && atomic_load(&h->os->state) != GR_DONE)
		t = h->os;
	if (t != NULL && t->hub == NULL)
		return NULL;
	return t;
}

GR_EXPORT int pthread_kill(pthread_t id, int sig)
{
	struct gr_thread *t = target(id);

	if (t == NULL)
		return REAL(pthread_kill)(id, sig);
	return gr_pret(gr_sig_kill(t, sig));
}

GR_EXPORT int raise(int sig)
{
	struct gr_hub *h = gr_tls_hub;
	int r;

	if (h == NULL || h->cur == h->hub || gr_tls_insignal ||
	    h->sig_state == NULL || h->cur->hub == NULL)
		return REAL(raise)(sig);
	r = gr_sig_kill(h->cur, sig);
	return (int)gr_ret(r);
}

GR_EXPORT int sigwait(const sigset_t *set, int *sig)
{
	long r = gr_sig_wait(set, NULL, NULL, true);

	if (r < 0)
		return (int)-r;
	*sig = (int)r;
	return 0;
}

GR_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	GR_CALL("sigwaitinfo");
	return (int)gr_ret(gr_sig_wait(set, info, NULL, false));
}

GR_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
			   const struct timespec *ts)
{
	GR_CALL("sigtimedwait");
	return (int)gr_ret(gr_sig_wait(set, info, ts, false));
}

GR_EXPORT int sigsuspend(const sigset_t *mask)
{
	GR_CALL("sigsuspend");
	return (int)gr_ret(gr_sig_suspend(mask));
}

GR_EXPORT int pause(void)
{
	GR_CALL("pause");
	return (int)gr_ret(gr_sig_suspend(NULL));
}

/* Jumping out of a handler (the alarm() + siglongjmp timeout idiom): the
 * handler never returns to the dispatcher, so leave "in a handler" here,
 * and restore a saved mask through the green mask (glibc would set the OS
 * thread's mask directly, behind the per-thread masks).  Outside handlers
 * these are plain pass-throughs. */
static void leave_handler(struct __jmp_buf_tag *env, struct __jmp_buf_tag *copy)
{
	gr_tls_insignal = 0;
	if (env->__mask_was_saved && gr_tls_hub != NULL &&
	    gr_tls_hub->cur != gr_tls_hub->hub) {
		*copy = *env;
		copy->__mask_was_saved = 0;
		gr_sig_mask(SIG_SETMASK, &env->__saved_mask, NULL);
	}
}

#define LONGJMP_WRAPPER(name)                                                  \
	GR_EXPORT void name(struct __jmp_buf_tag env[1], int val)              \
	{                                                                      \
		struct __jmp_buf_tag copy;                                     \
                                                                               \
		if (unlikely(gr_tls_insignal)) {                               \
			copy.__mask_was_saved = -1;                            \
			leave_handler(env, &copy);                             \
			if (copy.__mask_was_saved == 0)                        \
				REAL(name)(&copy, val);                        \
		}                                                              \
		REAL(name)(env, val);                                          \
		__builtin_unreachable();                                       \
	}
LONGJMP_WRAPPER(longjmp)
LONGJMP_WRAPPER(_longjmp)
LONGJMP_WRAPPER(siglongjmp)
LONGJMP_WRAPPER(__longjmp_chk)

/* glibc's other public names for these calls (docs/fidelity.md). */
GR_ALIAS(__sigaction, sigaction);
GR_ALIAS(__sigsuspend, sigsuspend);
