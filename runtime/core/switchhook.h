/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * switchhook.h — what AddressSanitizer and valgrind must be told about green
 * stacks, and nothing in a normal build.
 *
 * Both tools assume one stack per OS thread, and a green thread switch
 * moves the stack pointer to another mapping.
 *
 * ASan (GR_ASAN).  Under the shim, ASan's own per-thread state follows the
 * green thread, not the OS thread: ASan finds it with pthread_getspecific(),
 * which the shim answers per green thread, and learns its stack from
 * pthread_getattr_np(), which the shim answers with the green stack.  What
 * stays per OS thread is ASan's cache of the current fake stack (a TLS
 * variable) and the OS context's stack.  So, as State Threads and
 * Boost.Context do, __sanitizer_start_switch_fiber() goes just before each
 * switch and __sanitizer_finish_switch_fiber() first thing after it, on the
 * new stack; since the hub's current thread is already the one we switch
 * to when they run (switch_to sets h->cur first), both act on the incoming
 * thread's ASan state: they give it its stack bounds and its own fake stack
 * (saved in and restored from to->san_fake), and the OS-thread cache is
 * reset.  A thread ASan does not know (the hub, a thrd_create()d thread)
 * makes both calls no-ops.  A stack taken again from the cache is
 * unpoisoned: frames of the thread that last used it may never have
 * returned.
 *
 * valgrind (GR_VALGRIND): VALGRIND_STACK_REGISTER for every green stack
 * while it belongs to a thread, VALGRIND_STACK_DEREGISTER when it is given
 * back, so that a switch is not taken for a huge stack frame.
 *
 * ThreadSanitizer (GR_TSAN).  libtsan finds the running thread's state
 * through a word of its static TLS (the "current" pointer its fiber API
 * rewrites), so under the shim each green thread's TLS block has that word
 * too, and it always points at the thread's own TSan fiber: made with
 * __tsan_create_fiber() by the creator (which orders the creation before
 * the thread's start, as pthread_create would), the word set in the new
 * block (tls.c finds where it lies), destroyed with the stack.  An OS
 * thread's own context and its hub share the OS thread's block, so they
 * share the OS thread's own state (hub threads are made through libtsan's
 * pthread_create, so it has one).  At each switch between two states,
 * __tsan_switch_to_fiber() hands the OS thread's TSan processor over and
 * synchronises the two threads (a release by the one leaving, an acquire
 * by the one coming): the green threads of a hub do run one after the
 * other, and the hub's own data (run queue, current thread) relies on
 * it.  That call also rewrites the word in the block being left, which
 * is then put back, so that the block is right when its thread returns.
 * Cross-hub hand-offs need nothing: they go through the shim's own
 * atomics, which TSan sees.  The same holds around the other places that
 * install a thread pointer (tls.c's gr_tls_on_os(), a last thread ending
 * on its OS thread's block).
 *
 * `make asan` / `make tsan` / `make valgrind` define the macros; otherwise
 * every function here is empty and compiled out.
 *
 * Call sites, one line each: gr_switch_prepare()/gr_switch_done() around
 * gr_switch() in sched.c's switch_to(), gr_switch_done() first in
 * gr_coro_start() (a new thread's first switch-in); gr_stack_registered()
 * in coro.c's thread_init(), gr_stack_gone() in gr_thread_free();
 * gr_san_thread_new() once a new green thread's TLS block is made,
 * gr_san_os_thread() for an OS thread's context and its hub, and
 * gr_san_tls_switch() before each gr_tls_set_tp() outside switch_to().
 */
#ifndef GR_SWITCHHOOK_H
#define GR_SWITCHHOOK_H

#include "green.h"

#ifdef GR_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>

/* This OS thread's own stack, for a switch back to its OS context. */
static __thread void *gr_san_os_lo __attribute__((unused));
static __thread size_t gr_san_os_size __attribute__((unused));

static inline void gr_san_os_stack(const void **lo, size_t *size)
{
	if (gr_san_os_lo == NULL) {
		pthread_attr_t a;

		if (REAL(pthread_getattr_np)(REAL(pthread_self)(), &a) == 0) {
			pthread_attr_getstack(&a, &gr_san_os_lo,
					      &gr_san_os_size);
			pthread_attr_destroy(&a);
		}
	}
	*lo = gr_san_os_lo;
	*size = gr_san_os_size;
}
#endif

#ifdef GR_VALGRIND
#include <valgrind/valgrind.h>
#endif

#ifdef GR_TSAN
#include <sanitizer/tsan_interface.h>

/* tls.c: point the TSan "current" word of the block at tp to state. */
void gr_tsan_set_current(void *tp, void *state) GR_HIDDEN;
#endif

/* Thread `to`'s TLS block is about to replace `from`'s on this OS thread
 * (with a stack switch or without): the last thing `from` does. */
static inline void gr_san_tls_switch(struct gr_thread *from,
				     struct gr_thread *to)
{
#ifdef GR_TSAN
	if (to->san_tsan != from->san_tsan)
		__tsan_switch_to_fiber(to->san_tsan, 0);
#endif
	(void)from;
	(void)to;
}

/* ...and has replaced it (gr_tls_set_tp() done): `from`'s block gets its
 * own state back for when it runs again.  Only now: what the switch still
 * reads belongs to `to`, not to a thread that has let go (a thread that
 * ended may be reused as soon as it has). */
static inline void gr_san_tls_switched(struct gr_thread *from,
				       struct gr_thread *to)
{
#ifdef GR_TSAN
	if (to->san_tsan != from->san_tsan && to->tp != from->tp)
		gr_tsan_set_current(from->tp, from->san_tsan);
#endif
	(void)from;
	(void)to;
}

/* A new green thread t, its TLS block made (or shared: !t->tls_own). */
static inline void gr_san_thread_new(struct gr_thread *t)
{
#ifdef GR_TSAN
	t->san_tsan = __tsan_create_fiber(0);
	t->san_own = 1;
	if (t->tls_own)
		gr_tsan_set_current(t->tp, t->san_tsan);
#endif
	(void)t;
}

/* t is the running OS thread's own context, or its hub. */
static inline void gr_san_os_thread(struct gr_thread *t)
{
#ifdef GR_TSAN
	t->san_tsan = __tsan_get_current_fiber();
#endif
	(void)t;
}

/* Just before gr_switch(from -> to), with h->cur already `to`. */
static inline void gr_switch_prepare(struct gr_thread *from,
				     struct gr_thread *to)
{
#ifdef GR_ASAN
	const void *lo = to->stack_lo;
	size_t size = to->stack_size;

	if (to->os)
		gr_san_os_stack(&lo, &size);
	__sanitizer_start_switch_fiber(&to->san_fake, lo, size);
#endif
	gr_san_tls_switch(from, to);
}

/* First thing on `self`'s stack after a switch into it. */
static inline void gr_switch_done(struct gr_thread *self)
{
#ifdef GR_ASAN
	__sanitizer_finish_switch_fiber(self->san_fake, NULL, NULL);
#else
	(void)self;
#endif
}

/* A stack [t->stack_lo, +t->stack_size) now belongs to thread t. */
static inline void gr_stack_registered(struct gr_thread *t)
{
#ifdef GR_ASAN
	__asan_unpoison_memory_region(t->stack_lo, t->stack_size);
	t->san_fake = NULL;
#endif
#ifdef GR_VALGRIND
	t->san_vg_id =
	    VALGRIND_STACK_REGISTER(t->stack_lo, t->stack_lo + t->stack_size);
#endif
	(void)t;
}

/* Thread t's stack is given back (cache, munmap, or the program's own).
 * Never on t itself. */
static inline void gr_stack_gone(struct gr_thread *t)
{
#ifdef GR_TSAN
	if (t->san_own)
		__tsan_destroy_fiber(t->san_tsan);
	t->san_own = 0;
#endif
#ifdef GR_VALGRIND
	if (t->stack_lo != NULL)
		VALGRIND_STACK_DEREGISTER(t->san_vg_id);
#endif
	(void)t;
}

#endif
