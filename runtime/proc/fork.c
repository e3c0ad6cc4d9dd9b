/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fork.c — the child of a fork, in one place.
 *
 * Only the calling thread survives a fork: every other green thread, the
 * other hubs, the worker pool and the watchdog are gone, and every
 * descriptor the runtime made (epoll, eventfd, timerfd, the resolver's
 * sockets) is shared with the parent.  One atfork child handler, ours,
 * puts the runtime back in order, area by area, in the order below: each
 * step may rely on the ones before it (the hub is fresh before the fd
 * table re-homes its watchers onto the hub's new loop, and so on).  As
 * libuv's uv_loop_fork, it is one ordered list, not a handler per module.
 *
 * The handler is registered before any other (first hub, first pool job,
 * first lookup, or the program's first pthread_atfork, whichever comes
 * first), so it runs first in every child, forks made inside libc
 * (daemon()) included, before the program's own child handlers.  _Fork()
 * runs no handlers: its wrapper calls gr_fork_child() itself.  vfork() is
 * fork() under the shim (a vfork child would share, and could wreck, the
 * parent's hub).
 */
#include "green.h"
#include "dns.h"

void gr_fork_child(void)
{
	gr_hub_after_fork(); /* sched.c: wait queues, this hub, its loop */
	gr_fd_after_fork();  /* fd.c: watchers onto the new loop */
	gr_sig_after_fork(gr_tls_hub); /* signal.c: the hub's signal state */
	gr_preempt_after_fork(
	    gr_tls_hub);	/* preempt.c: no timer until needed */
	gr_proc_after_fork();	/* proc.c: child waits of the parent's */
	gr_pool_after_fork();	/* pool.c: no workers, no jobs */
	gr_res_after_fork();	/* resolver.c: the parent's channels */
	gr_diag_after_fork();	/* stats.c: watchdog, hub list */
	gr_vclock_after_fork(); /* vclock.c: no thread parked */
}

extern void *__dso_handle __attribute__((weak));
static _Atomic int registered; /* 0 no, 1 registering, 2 done */

GR_NO_TSAN void gr_fork_register(void)
{
	int exp = 0;

	if (atomic_load_explicit(&registered, memory_order_acquire) == 2)
		return;
	if (!atomic_compare_exchange_strong(&registered, &exp, 1)) {
		while (atomic_load(&registered) != 2)
			gr_cpu_relax();
		return;
	}
	REAL(__register_atfork)
	(NULL, NULL, gr_fork_child, &__dso_handle ? __dso_handle : NULL);
	atomic_store_explicit(&registered, 2, memory_order_release);
}
